//! Embedding API: loading, globals, conversions, tables, functions, errors.

use std::collections::HashMap;

use perilune::{Error, Function, Lua, LuaString, MultiValue, Nil, Table, Value, Variadic};

#[test]
fn globals_and_eval() {
    let lua = Lua::new();
    let g = lua.globals();
    g.set("x", 21).unwrap();
    assert_eq!(g.get::<i64>("x").unwrap(), 21);
    assert_eq!(lua.load("x * 2").eval::<i64>().unwrap(), 42);
    assert_eq!(
        lua.load("return x, 'a'").eval::<(i32, String)>().unwrap(),
        (21, "a".to_string())
    );
    lua.load("y = x + 1").exec().unwrap();
    assert_eq!(g.get::<u8>("y").unwrap(), 22);
    let n: i32 = lua.load("local a, b = ... return a - b").call((10, 3)).unwrap();
    assert_eq!(n, 7);
}

#[test]
fn safe_libraries_only() {
    // `Lua::new` opens mlua's safe set: everything but `debug` (issue 20).
    let lua = Lua::new();
    let v: Value = lua.globals().get("debug").unwrap();
    assert!(v.is_nil(), "debug should be absent");
    for name in ["io", "os", "package", "dofile", "loadfile", "coroutine"] {
        let v: Value = lua.globals().get(name).unwrap();
        assert!(!v.is_nil(), "{name} should be present");
    }
    // The libraries that stay inside the state, by their own name.
    let isolated = Lua::new_with(perilune::StdLib::ISOLATED, perilune::LuaOptions::new()).unwrap();
    for name in ["io", "os", "debug", "package", "dofile", "loadfile"] {
        let v: Value = isolated.globals().get(name).unwrap();
        assert!(v.is_nil(), "{name} should be absent");
    }
    assert!(isolated.globals().get::<Table>("coroutine").is_ok());
    let full = Lua::new_trusted(perilune::StdLib::ALL, perilune::LuaOptions::new()).unwrap();
    assert!(full.globals().get::<Function>("dofile").is_ok());
    assert!(Lua::new_with(perilune::StdLib::DEBUG, perilune::LuaOptions::new()).is_err());
}

#[test]
fn syntax_errors() {
    let lua = Lua::new();
    match lua.load("x = = 1").exec() {
        Err(Error::SyntaxError {
            incomplete_input: false,
            message,
        }) => assert!(message.contains("near")),
        other => panic!("{other:?}"),
    }
    match lua.load("if x then").exec() {
        Err(Error::SyntaxError {
            incomplete_input: true, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Bytecode is not accepted.
    assert!(matches!(
        lua.load(&b"\x1bLJ\x02"[..]).exec(),
        Err(Error::SyntaxError { .. })
    ));
}

#[test]
fn runtime_errors_carry_traceback() {
    let lua = Lua::new();
    let err = lua
        .load("local function f() error('boom') end f()")
        .set_name("t.lua")
        .exec()
        .unwrap_err();
    match &err {
        Error::RuntimeError(m) => {
            assert!(m.starts_with("t.lua:1: boom"), "{m}");
            assert!(m.contains("stack traceback:"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // The state is usable afterwards, the stack is clean.
    assert_eq!(lua.load("1 + 1").eval::<i32>().unwrap(), 2);
    let e = lua.load("error({})").exec().unwrap_err();
    assert!(e.to_string().contains("error object is a table value"), "{e}");
    let e = lua.load("local t = nil; return t.x").exec().unwrap_err();
    assert!(e.to_string().contains("attempt to index local 't'"), "{e}");
}

#[test]
fn integer_conversions_are_checked() {
    let lua = Lua::new();
    assert_eq!(lua.load("255").eval::<u8>().unwrap(), 255);
    assert!(matches!(
        lua.load("256").eval::<u8>(),
        Err(Error::FromLuaConversionError { .. })
    ));
    assert!(matches!(
        lua.load("-1").eval::<u32>(),
        Err(Error::FromLuaConversionError { .. })
    ));
    assert!(matches!(
        lua.load("1.5").eval::<i32>(),
        Err(Error::FromLuaConversionError { .. })
    ));
    assert!(lua.load("0/0").eval::<i64>().is_err());
    assert!(lua.load("1/0").eval::<i64>().is_err());
    assert!(lua.load("2^63").eval::<i64>().is_err());
    assert_eq!(lua.load("-2^63").eval::<i64>().unwrap(), i64::MIN);
    assert_eq!(lua.load("'12'").eval::<i32>().unwrap(), 12);
    assert!(lua.load("'x'").eval::<i32>().is_err());
    assert!(lua.load("{}").eval::<i32>().is_err());
    assert_eq!(lua.load("1.5").eval::<f64>().unwrap(), 1.5);
    // Rust -> Lua: integers must be exact.
    assert!(lua.globals().set("big", u64::MAX).is_err());
    lua.globals().set("ok", 1u64 << 60).unwrap();
    assert_eq!(lua.globals().get::<u64>("ok").unwrap(), 1 << 60);
    assert_eq!(lua.load("3").eval::<Value>().unwrap(), Value::Integer(3));
    assert_eq!(lua.load("-0.0").eval::<Value>().unwrap().type_name(), "number");
}

#[test]
fn strings_bools_options() {
    let lua = Lua::new();
    assert_eq!(lua.load("12").eval::<String>().unwrap(), "12");
    assert_eq!(lua.load("0.5").eval::<String>().unwrap(), "0.5");
    assert!(lua.load("'\\255'").eval::<String>().is_err());
    let s: LuaString = lua.load("'\\255a'").eval().unwrap();
    assert_eq!(s.as_bytes(), b"\xffa");
    assert!(s.to_str().is_err());
    assert!(lua.load("nil").eval::<bool>().is_ok_and(|b| !b));
    assert!(lua.load("0").eval::<bool>().unwrap());
    assert_eq!(lua.load("nil").eval::<Option<i32>>().unwrap(), None);
    assert_eq!(lua.load("4").eval::<Option<i32>>().unwrap(), Some(4));
    assert!(lua.load("true").eval::<String>().is_err());
}

#[test]
fn collections() {
    let lua = Lua::new();
    lua.globals().set("v", vec![1, 2, 3]).unwrap();
    assert_eq!(lua.load("#v").eval::<i32>().unwrap(), 3);
    let v: Vec<i32> = lua.load("{4, 5, 6}").eval().unwrap();
    assert_eq!(v, [4, 5, 6]);
    assert!(lua.load("{1, 'x'}").eval::<Vec<i32>>().is_err());
    assert!(lua.load("1").eval::<Vec<i32>>().is_err());
    let mut m = HashMap::new();
    m.insert("a".to_string(), 1);
    m.insert("b".to_string(), 2);
    lua.globals().set("m", m.clone()).unwrap();
    assert_eq!(lua.load("m.a + m.b").eval::<i32>().unwrap(), 3);
    let back: HashMap<String, i32> = lua.globals().get("m").unwrap();
    assert_eq!(back, m);
    let mv: MultiValue = lua.load("return 1, nil, 'x'").eval().unwrap();
    assert_eq!(mv.len(), 3);
    let all: Variadic<i32> = lua.load("return 1, 2, 3").eval().unwrap();
    assert_eq!(all.len(), 3);
    let (a, rest): (i32, Variadic<i32>) = lua.load("return 1, 2, 3").eval().unwrap();
    assert_eq!((a, rest.len()), (1, 2));
}

#[test]
fn tables() {
    let lua = Lua::new();
    let t = lua.create_table().unwrap();
    t.raw_set(1, "a").unwrap();
    t.raw_set(2, "b").unwrap();
    t.set("k", true).unwrap();
    assert_eq!(t.raw_len(), 2);
    assert_eq!(t.len().unwrap(), 2);
    assert!(matches!(t.raw_set(Nil, 1), Err(Error::RuntimeError(_))));
    assert!(t.raw_set(f64::NAN, 1).is_err());
    assert!(t.set(Nil, 1).is_err());
    let n = t.pairs::<Value, Value>().count();
    assert_eq!(n, 3);
    let seq: Vec<String> = t.sequence_values().collect::<Result<_, _>>().unwrap();
    assert_eq!(seq, ["a", "b"]);
    // A conversion error is yielded, not a panic.
    assert!(t.pairs::<i32, String>().any(|r| r.is_err()));
    // An integer key is a position: the sequence moves down (mlua's raw_remove).
    t.raw_remove(1).unwrap();
    assert_eq!(t.raw_get::<Option<String>>(1).unwrap().as_deref(), Some("b"));
    assert_eq!(t.raw_get::<Option<String>>(2).unwrap(), None);
    assert!(t.get_metatable().unwrap().is_none());
    let mt: Table = lua
        .load("{__index = function(t, k) return k .. '!' end}")
        .eval()
        .unwrap();
    t.set_metatable(Some(mt)).unwrap();
    assert_eq!(t.get::<String>("zz").unwrap(), "zz!");
    assert_eq!(t.raw_get::<Option<String>>("zz").unwrap(), None);
    assert!(t.get_metatable().unwrap().is_some());
    let failing: Table = lua
        .load("setmetatable({}, {__newindex = function() error('ro') end})")
        .eval()
        .unwrap();
    assert!(matches!(failing.set("a", 1), Err(Error::RuntimeError(ref m)) if m.contains("ro")));
    failing.raw_set("a", 1).unwrap();
    t.clear().unwrap();
    assert!(t.is_empty());
}

#[test]
fn functions_call_and_errors() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function(...) return select('#', ...), ... end")
        .eval()
        .unwrap();
    let (n, a, b): (i32, i32, Option<i32>) = f.call((7, Nil)).unwrap();
    assert_eq!((n, a, b), (2, 7, None));
    let bad: Function = lua.load("return function() local x = {} .. 1 end").eval().unwrap();
    assert!(matches!(bad.call::<()>(()), Err(Error::RuntimeError(_))));
    // Calling a non-function value through a table field is an ordinary error.
    lua.globals().set("notf", 1).unwrap();
    assert!(lua.load("notf()").exec().is_err());
    // Results convert to the asked type, with errors.
    let g: Function = lua.load("return function() return 'x' end").eval().unwrap();
    assert!(g.call::<i32>(()).is_err());
}

#[test]
fn handles_are_released() {
    let lua = Lua::new();
    let base = lua.live_handles().unwrap();
    {
        let t = lua.create_table().unwrap();
        let t2 = t.clone();
        let _s = lua.create_string("x").unwrap();
        drop(t);
        assert!(lua.live_handles().unwrap() >= base + 2);
        drop(t2);
    }
    assert_eq!(lua.live_handles().unwrap(), base);
    for _ in 0..1000 {
        let _t = lua.create_table().unwrap();
    }
    assert_eq!(lua.live_handles().unwrap(), base);
}

#[test]
fn registry_keys() {
    let lua = Lua::new();
    let other = Lua::new();
    let key = lua.create_registry_value(vec![1, 2]).unwrap();
    let v: Vec<i32> = lua.registry_value(&key).unwrap();
    assert_eq!(v, [1, 2]);
    assert!(matches!(
        other.registry_value::<Value>(&key),
        Err(Error::MismatchedRegistryKey)
    ));
    assert!(lua.owns_registry_value(&key));
    let base = lua.live_handles().unwrap();
    lua.remove_registry_value(key).unwrap();
    assert_eq!(lua.live_handles().unwrap(), base - 1);
    // Keys are Send + Sync + 'static.
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<perilune::RegistryKey>();
}

#[test]
fn values_compare() {
    let lua = Lua::new();
    let t: Table = lua.load("t = {} return t").eval().unwrap();
    let t2: Table = lua.globals().get("t").unwrap();
    assert_eq!(t, t2);
    assert_eq!(Value::Integer(1), Value::Number(1.0));
    assert_ne!(Value::Nil, Value::Boolean(false));
}

/// `Debug` of a Lua string shows its text, as mlua's does: quoted like a `str` when
/// it is UTF-8, as an escaped byte string (`b"..."`) when it is not.
#[test]
fn debug_of_a_string_shows_its_text() {
    let lua = perilune::Lua::new();
    let s = lua.create_string("abc \"q\"\n").unwrap();
    assert_eq!(format!("{s:?}"), r#""abc \"q\"\n""#);
    let v = perilune::Value::String(s);
    assert_eq!(format!("{v:?}"), r#"String("abc \"q\"\n")"#);
    let b = lua.create_string(b"a\xffb\x00\t\\").unwrap();
    assert_eq!(format!("{b:?}"), r#"b"a\xffb\x00\t\\""#);
    let t: perilune::Table = lua.load("return {1}").eval().unwrap();
    assert!(format!("{t:?}").starts_with("Table(table: 0x"), "{t:?}");
}
