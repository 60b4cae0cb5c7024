//! Embedding API: what a host like the `perilune` command needs — trusted libraries,
//! a limit from creation on, exact chunk names, errors reported as the `luajit`
//! command reports them, plain Lua errors from callbacks, bytecode listings.

use std::sync::atomic::Ordering;

use perilune::{Error, Function, Lua, LuaOptions, ReportStyle, StdLib, Value};

fn trusted() -> Lua {
    Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new()).unwrap()
}

fn report(f: &Function, style: ReportStyle) -> Option<String> {
    match f.call_reported::<()>((), style) {
        Err(Error::Reported { report, .. }) => report.map(|r| String::from_utf8_lossy(&r).into_owned()),
        other => panic!("expected a reported error, got {other:?}"),
    }
}

/// Replace `0x...` addresses by `0x?`.
fn normalize(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i + 2]);
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        out.push('?');
    }
    out.push_str(rest);
    out
}

#[test]
fn trusted_state_has_every_library() {
    let lua = trusted();
    for name in ["dofile", "loadfile", "coroutine", "string", "table", "math", "bit"] {
        let v: Value = lua.globals().get(name).unwrap();
        assert!(!v.is_nil(), "{name} missing");
    }
    // LuaJIT's `ffi` lets scripts write anywhere: the safe constructors never open
    // it, not even the trusted one with every library; the unsafe one does, for
    // `require` (not as a global).
    assert!(lua.globals().get::<Value>("ffi").unwrap().is_nil());
    let e = lua.load("require 'ffi'").exec().unwrap_err();
    assert!(
        e.to_string().contains("the 'ffi' module is not open in this state"),
        "{e}"
    );
    assert!(Lua::new_with(StdLib::FFI, LuaOptions::new()).is_err());
    // SAFETY: the script only asks for the module's type.
    let with_ffi = unsafe { Lua::unsafe_new_trusted(StdLib::ALL, LuaOptions::new()) }.unwrap();
    assert!(with_ffi.globals().get::<Value>("ffi").unwrap().is_nil());
    let t: String = with_ffi.load("return type(require 'ffi')").eval().unwrap();
    assert_eq!(t, "table");
    assert!(Lua::new_trusted(StdLib::ALL, LuaOptions::new()).is_ok());
    assert!(Lua::new_trusted(StdLib::IO | StdLib::OS | StdLib::BASE_FILES, LuaOptions::new()).is_ok());
    // The safe constructors refuse only `debug` (mlua's rule); `dofile` is safe there.
    assert!(Lua::new_with(StdLib::BASE_FILES, LuaOptions::new()).is_ok());
    assert!(Lua::new_with(StdLib::BASE_FILES | StdLib::DEBUG, LuaOptions::new()).is_err());
}

#[test]
fn handles_are_out_of_scripts_reach() {
    let lua = trusted();
    let t = lua.create_table().unwrap();
    t.set("k", "v").unwrap();
    // Nothing in the registry that a script could clear (only reachable through
    // `debug.getregistry` when the debug library is there).
    let has_debug = !lua.globals().get::<Value>("debug").unwrap().is_nil();
    if has_debug {
        let n: i64 = lua
            .load("local n = 0 for k, v in pairs(debug.getregistry()) do if type(k) == 'string' and k:find('perilune') then n = n + 1 end end return n")
            .eval()
            .unwrap();
        assert_eq!(n, 0);
        // A callback whose upvalue is replaced while it runs keeps its data.
        let name = String::from("kept");
        let f = lua
            .create_function(move |lua, ()| {
                lua.load("debug.setupvalue(cb, 1, nil) collectgarbage() collectgarbage()")
                    .exec()?;
                Ok(name.clone())
            })
            .unwrap();
        lua.globals().set("cb", f).unwrap();
        assert_eq!(lua.load("return cb()").eval::<String>().unwrap(), "kept");
    }
    lua.gc_collect().unwrap();
    assert_eq!(t.get::<String>("k").unwrap(), "v");
}

#[test]
fn memory_limit_from_creation() {
    let r = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new().memory_limit(2048));
    assert!(matches!(r, Err(Error::MemoryError(_))), "{r:?}");
    let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new().memory_limit(4 << 20)).unwrap();
    let f = lua
        .load("local t = {} for i = 1, 1e9 do t[i] = i end")
        .set_name("=(command line)")
        .into_function()
        .unwrap();
    let text = report(&f, ReportStyle::Traceback).unwrap();
    assert_eq!(
        normalize(&text),
        "not enough memory\nstack traceback:\n\t(command line):1: in main chunk\n\t[C]: at 0x?"
    );
    match f.call_reported::<()>((), ReportStyle::Message) {
        Err(Error::Reported { report, cause }) => {
            assert_eq!(report.as_deref(), Some(&b"not enough memory"[..]));
            assert!(matches!(*cause, Error::MemoryError(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
}

#[test]
fn reports_like_the_luajit_command() {
    let lua = trusted();
    let load = |src: &str| lua.load(src).set_name("=(command line)").into_function().unwrap();
    let text = report(&load("error('x')"), ReportStyle::Traceback).unwrap();
    assert_eq!(
        normalize(&text),
        "(command line):1: x\nstack traceback:\n\t[C]: in function 'error'\n\t(command line):1: in main chunk\n\t[C]: at 0x?"
    );
    assert_eq!(report(&load("error(42, 0)"), ReportStyle::Message).unwrap(), "42");
    assert_eq!(report(&load("error(nil)"), ReportStyle::Traceback), None);
    assert_eq!(report(&load("error(nil)"), ReportStyle::Message), None);
    assert_eq!(
        report(&load("error({})"), ReportStyle::Traceback).unwrap(),
        "(error object is not a string)"
    );
    let text = report(
        &load("error(setmetatable({}, {__tostring = function() return 'obj' end}))"),
        ReportStyle::Traceback,
    )
    .unwrap();
    assert!(text.starts_with("obj\nstack traceback:\n"), "{text}");
    // Exact bytes of the message.
    let f = load("error('\\255', 0)");
    match f.call_reported::<()>((), ReportStyle::Message) {
        Err(Error::Reported { report, .. }) => assert_eq!(report.unwrap(), vec![255u8]),
        other => panic!("{other:?}"),
    }
    // The interrupt flag is a catchable error, reported like any other.
    lua.interrupt_handle().store(true, Ordering::SeqCst);
    let text = report(&load("while true do end"), ReportStyle::Traceback).unwrap();
    assert!(
        text.starts_with("(command line):1: interrupted!\nstack traceback:"),
        "{text}"
    );
    // Arguments are the chunk's `...`.
    let f = load("return select('#', ...), ...");
    let (n, a): (i32, String) = f.call_reported(("a", "b"), ReportStyle::Traceback).unwrap();
    assert_eq!((n, a.as_str()), (2, "a"));
}

#[test]
fn plain_errors_from_callbacks() {
    let lua = trusted();
    let exit = lua
        .create_function(|_, v: Value| -> perilune::Result<()> {
            Err(Error::plain_argument(
                1,
                format!("number expected, got {}", v.type_name()),
            ))
        })
        .unwrap();
    let os = lua.create_table().unwrap();
    os.set("exit", exit).unwrap();
    lua.globals().set("myos", os).unwrap();
    let f = lua
        .load("myos.exit('x')")
        .set_name("=(command line)")
        .into_function()
        .unwrap();
    let text = report(&f, ReportStyle::Traceback).unwrap();
    assert_eq!(
        normalize(&text),
        "(command line):1: bad argument #1 to 'exit' (number expected, got string)\nstack traceback:\n\t[C]: in function 'exit'\n\t(command line):1: in main chunk\n\t[C]: at 0x?"
    );
    // Seen from Lua it is a string.
    let ty: String = lua
        .load("local ok, e = pcall(function() myos.exit() end) return type(e)")
        .eval()
        .unwrap();
    assert_eq!(ty, "string");
}

#[test]
fn chunk_names_are_bytes() {
    let lua = trusted();
    let e = lua
        .load("error('x')")
        .set_name(b"@dir/\xffa.lua".as_slice())
        .exec()
        .unwrap_err();
    assert!(e.to_string().contains("dir/\u{fffd}a.lua:1: x"), "{e}");
    assert!(matches!(
        lua.load("x = ").set_name("=stdin").into_function(),
        Err(Error::SyntaxError { incomplete_input: true, ref message }) if message == "stdin:1: unexpected symbol near '<eof>'"
    ));
}

#[test]
fn bytecode_listing() {
    let lua = trusted();
    assert_eq!(
        lua.load("x = 1\n").set_name("@list.lua").bytecode_listing().unwrap(),
        "-- BYTECODE -- list.lua:0-2\n0001    KSHORT   0   1\n0002    GSET     0   0      ; \"x\"\n0003    RET0     0   1\n\n"
    );
    assert!(matches!(
        lua.load("x = = 1").bytecode_listing(),
        Err(Error::SyntaxError { .. })
    ));
}
