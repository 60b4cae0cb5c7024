//! Library sets: what `Lua::new`, `Lua::new_with`, `Lua::new_trusted`, mlua's
//! `unsafe_new*` names and the finer `StdLib` subsets open, and that a sandbox does
//! not depend on them. The fields of every selection, and everything a sandbox
//! exposes, are pinned by `tests/stdlib_selection.rs`.

use perilune::{Lua, LuaOptions, StdLib, Value};

fn is_nil(lua: &Lua, expr: &str) -> bool {
    let v: Value = lua.load(format!("return {expr}")).eval().expect("eval");
    v.is_nil()
}

/// Every function of `os`, and the part `OS_TIME` opens.
const OS_ALL: [&str; 11] = [
    "clock",
    "date",
    "difftime",
    "execute",
    "exit",
    "getenv",
    "remove",
    "rename",
    "setlocale",
    "time",
    "tmpname",
];
const OS_TIME: [&str; 4] = ["clock", "date", "difftime", "time"];

#[test]
fn lua_new_opens_mlua_s_safe_set() {
    let lua = Lua::new();
    // Scripts written for mlua's `Lua::new` find io, os, package and the base
    // library's file functions.
    for name in [
        "io",
        "os",
        "package",
        "require",
        "module",
        "dofile",
        "loadfile",
        "coroutine",
        "string",
        "table",
        "math",
        "bit",
        "jit",
    ] {
        assert!(!is_nil(&lua, name), "{name} missing from Lua::new");
    }
    for f in OS_ALL {
        assert!(!is_nil(&lua, &format!("os.{f}")), "os.{f} missing");
    }
    let now: f64 = lua.load("return os.time()").eval().unwrap();
    assert!(now > 1.6e9, "{now}");
    let date: String = lua.load("return os.date('!%Y-%m-%d', 0)").eval().unwrap();
    assert_eq!(date, "1970-01-01");
    // Not debug (mlua's rule), and binary chunks stay refused.
    assert!(is_nil(&lua, "debug"));
    let e = lua
        .load("return loadstring(string.dump(function() end))")
        .eval::<(Value, String)>()
        .unwrap();
    assert!(e.1.contains("binary chunk"), "{}", e.1);
    // `StdLib::ALL_SAFE` is what it opens.
    let same = Lua::new_with(StdLib::ALL_SAFE, LuaOptions::new()).unwrap();
    assert!(!is_nil(&same, "os.execute") && is_nil(&same, "debug"));
}

/// The globals each single selection adds to the base library.
#[test]
fn each_bit_opens_its_library() {
    let base = ["_G", "print", "pcall", "load", "loadstring", "require"];
    let cases: [(StdLib, &[&str]); 11] = [
        (StdLib::COROUTINE, &["coroutine"]),
        (StdLib::TABLE, &["table"]),
        (StdLib::STRING, &["string"]),
        (StdLib::MATH, &["math"]),
        (StdLib::BIT, &["bit"]),
        (StdLib::JIT, &["jit"]),
        (StdLib::IO, &["io"]),
        (StdLib::OS, &["os"]),
        (StdLib::OS_TIME, &["os"]),
        (StdLib::PACKAGE, &["package", "require", "module"]),
        (StdLib::BASE_FILES, &["dofile", "loadfile"]),
    ];
    let all = [
        "coroutine",
        "table",
        "string",
        "math",
        "bit",
        "jit",
        "io",
        "os",
        "package",
        "require",
        "module",
        "dofile",
        "loadfile",
        "debug",
    ];
    for (libs, names) in cases {
        let lua = Lua::new_with(libs, LuaOptions::new()).unwrap();
        for name in all {
            assert_eq!(is_nil(&lua, name), !names.contains(&name), "{name} with {libs:?}");
        }
        for name in base.iter().filter(|n| **n != "require") {
            assert!(!is_nil(&lua, name), "{name} with {libs:?}");
        }
    }
    let lua = Lua::new_trusted(StdLib::DEBUG, LuaOptions::new()).unwrap();
    assert!(!is_nil(&lua, "debug") && is_nil(&lua, "os"));
}

#[test]
fn os_time_opens_the_clock_and_the_calendar_only() {
    for libs in [StdLib::OS_TIME, StdLib::ISOLATED | StdLib::OS_TIME] {
        let lua = Lua::new_with(libs, LuaOptions::new()).unwrap();
        for f in OS_ALL {
            assert_eq!(
                is_nil(&lua, &format!("os.{f}")),
                !OS_TIME.contains(&f),
                "os.{f} with {libs:?}"
            );
        }
        let ok: bool = lua
            .load("local t = os.time() return os.difftime(t, t) == 0 and os.clock() >= 0 and os.date('!%H', 0) == '00'")
            .eval()
            .unwrap();
        assert!(ok);
    }
    // All of `os` contains the clock part; the clock part is not all of `os`.
    assert!(StdLib::OS.contains(StdLib::OS_TIME));
    assert!(!StdLib::OS_TIME.contains(StdLib::OS));
    assert!(StdLib::ALL_SAFE.contains(StdLib::OS) && StdLib::ALL_SAFE.contains(StdLib::BASE_FILES));
    // Opening both is opening all of `os`, once.
    let lua = Lua::new_with(StdLib::OS | StdLib::OS_TIME, LuaOptions::new()).unwrap();
    let n: i32 = lua
        .load("local n = 0 for _ in pairs(os) do n = n + 1 end return n")
        .eval()
        .unwrap();
    assert_eq!(n, OS_ALL.len() as i32);
}

#[test]
fn isolated_reaches_nothing_outside_the_state() {
    let lua = Lua::new_with(StdLib::ISOLATED, LuaOptions::new()).unwrap();
    for name in [
        "io", "os", "package", "require", "module", "dofile", "loadfile", "debug",
    ] {
        assert!(is_nil(&lua, name), "{name} in ISOLATED");
    }
    for name in ["coroutine", "table", "string", "math", "bit", "jit"] {
        assert!(!is_nil(&lua, name), "{name} missing from ISOLATED");
    }
    assert!(StdLib::ALL_SAFE.contains(StdLib::ISOLATED));
}

#[test]
fn safe_constructors_refuse_debug_only() {
    for libs in [
        StdLib::DEBUG,
        StdLib::ALL,
        StdLib::ALL_TRUSTED,
        StdLib::ISOLATED | StdLib::DEBUG,
    ] {
        let Err(e) = Lua::new_with(libs, LuaOptions::new()) else {
            panic!("{libs:?} opened by a safe constructor");
        };
        assert!(e.to_string().contains("new_trusted"), "{e}");
        assert!(Lua::new_with_allocator(Box::new(perilune::SystemAllocator), libs).is_err());
    }
    for libs in [
        StdLib::ALL_SAFE,
        StdLib::IO | StdLib::OS | StdLib::PACKAGE | StdLib::BASE_FILES,
    ] {
        assert!(Lua::new_with(libs, LuaOptions::new()).is_ok());
        assert!(Lua::new_with_allocator(Box::new(perilune::SystemAllocator), libs).is_ok());
    }
}

#[test]
fn mlua_s_unsafe_constructors_are_the_trusted_state() {
    // SAFETY: the scripts here are the test's own; none uses `ffi` to touch raw memory.
    let lua = unsafe { Lua::unsafe_new() };
    assert!(!is_nil(&lua, "debug.getinfo") && !is_nil(&lua, "os.execute"));
    // Binary chunks load, as in every trusted state.
    let one: i32 = lua
        .load("return assert(loadstring(string.dump(function() return 1 end)))()")
        .eval()
        .unwrap();
    assert_eq!(one, 1);
    // SAFETY: as above.
    let lua = unsafe { Lua::unsafe_new_with(StdLib::DEBUG | StdLib::STRING, LuaOptions::new()) };
    assert!(!is_nil(&lua, "debug") && is_nil(&lua, "os"));
    // mlua's signature has no `Result`: a limit too small for the libraries is set
    // after they open, and the state refuses to grow until the host raises it.
    // SAFETY: as above.
    let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::new().memory_limit(1024)) };
    let r = lua.load("local t = {} for i = 1, 100 do t[i] = {} end").exec();
    assert!(matches!(r, Err(perilune::Error::MemoryError(_))), "{r:?}");
    lua.set_memory_limit(0).unwrap();
    lua.load("local t = {} for i = 1, 100 do t[i] = {} end").exec().unwrap();
}

#[test]
fn a_sandbox_is_the_same_whatever_the_state_opened() {
    // Lua::new opens io and os; a sandbox made there still has neither.
    let lua = Lua::new();
    let env = lua.create_sandbox().unwrap();
    let absent: bool = lua
        .load("return io == nil and os == nil and package == nil and dofile == nil and debug == nil and getfenv == nil")
        .set_environment(env.clone())
        .eval()
        .unwrap();
    assert!(absent);
    let e = lua.load("require 'os'").set_environment(env).exec().unwrap_err();
    assert!(
        e.to_string()
            .contains("module 'os' not found: a sandbox can only require"),
        "{e}"
    );
}
