//! Embedding API: sandboxes.

use perilune::{Error, Lua, Table};

#[test]
fn scripts_do_not_see_each_other() {
    let lua = Lua::new();
    let a = lua.create_sandbox().unwrap();
    let b = lua.create_sandbox().unwrap();
    lua.load("x = 'a'; function f() return x end")
        .set_environment(a.clone())
        .exec()
        .unwrap();
    assert_eq!(
        lua.load("return x")
            .set_environment(b.clone())
            .eval::<Option<String>>()
            .unwrap(),
        None
    );
    assert_eq!(
        lua.load("return f()")
            .set_environment(a.clone())
            .eval::<String>()
            .unwrap(),
        "a"
    );
    assert_eq!(lua.globals().get::<Option<String>>("x").unwrap(), None);
    // Overwriting a base function only affects the script's own environment.
    lua.load("print = nil; tostring = function() return 'evil' end")
        .set_environment(a.clone())
        .exec()
        .unwrap();
    assert_eq!(
        lua.load("return tostring(1)")
            .set_environment(b.clone())
            .eval::<String>()
            .unwrap(),
        "1"
    );
    assert_eq!(lua.load("return tostring(1)").eval::<String>().unwrap(), "1");
}

#[test]
fn libraries_are_read_only() {
    let lua = Lua::new();
    let a = lua.create_sandbox().unwrap();
    let b = lua.create_sandbox().unwrap();
    let e = lua
        .load("coroutine.create = nil")
        .set_environment(a.clone())
        .exec()
        .unwrap_err();
    assert!(
        matches!(e, Error::RuntimeError(ref m) if m.contains("read-only")),
        "{e:?}"
    );
    assert!(lua
        .load("coroutine.evil = 1")
        .set_environment(a.clone())
        .exec()
        .is_err());
    assert!(lua
        .load("setmetatable(coroutine, nil)")
        .set_environment(a.clone())
        .exec()
        .is_err());
    assert!(!lua
        .load("return getmetatable(coroutine)")
        .set_environment(a.clone())
        .eval::<bool>()
        .unwrap());
    // rawset can only shadow inside the script's own proxy.
    lua.load("rawset(coroutine, 'create', 'x')")
        .set_environment(a.clone())
        .exec()
        .unwrap();
    assert_eq!(
        lua.load("return type(coroutine.create)")
            .set_environment(b.clone())
            .eval::<String>()
            .unwrap(),
        "function"
    );
    // The environment's own metatable is protected.
    assert!(lua
        .load("setmetatable(_G, nil)")
        .set_environment(b.clone())
        .exec()
        .is_err());
    assert!(!lua
        .load("return getmetatable(_G)")
        .set_environment(b)
        .eval::<bool>()
        .unwrap());
    // The real globals are untouched.
    let co: Table = lua.globals().get("coroutine").unwrap();
    assert_eq!(co.raw_get::<Option<String>>("evil").unwrap(), None);
}

#[test]
fn escape_hatches_are_closed() {
    let lua = Lua::new();
    let env = lua.create_sandbox().unwrap();
    for name in [
        "getfenv", "setfenv", "dofile", "loadfile", "module", "package", "debug", "io", "os",
    ] {
        let v: bool = lua
            .load(format!("return {name} == nil"))
            .set_environment(env.clone())
            .eval()
            .unwrap();
        assert!(v, "{name} is reachable");
    }
    // `require` only knows the sandbox's own libraries and string.buffer
    // (tests/string_buffer_host.rs).
    for name in ["io", "os", "debug", "package", "ffi", "jit", "table.new"] {
        assert!(
            lua.load(format!("require('{name}')"))
                .set_environment(env.clone())
                .exec()
                .is_err(),
            "require('{name}') works in a sandbox"
        );
    }
    // Chunks loaded inside the sandbox stay inside it.
    lua.load("y = 5; z = loadstring('return y')()")
        .set_environment(env.clone())
        .exec()
        .unwrap();
    assert_eq!(env.get::<i32>("z").unwrap(), 5);
    lua.load("w = load(function() if not done then done = true return 'return y' end end)()")
        .set_environment(env.clone())
        .exec()
        .unwrap();
    assert_eq!(env.get::<i32>("w").unwrap(), 5);
    assert!(lua
        .load("collectgarbage('stop')")
        .set_environment(env.clone())
        .exec()
        .is_err());
    lua.load("collectgarbage(); collectgarbage('count')")
        .set_environment(env.clone())
        .exec()
        .unwrap();
    assert!(lua.gc_is_running().unwrap());
    assert_eq!(
        lua.load("return getmetatable('')")
            .set_environment(env)
            .eval::<Option<Table>>()
            .unwrap(),
        None
    );
}

#[test]
fn host_functions_in_sandbox() {
    let lua = Lua::new();
    let env = lua.create_sandbox().unwrap();
    env.set("double", lua.create_function(|_, x: i32| Ok(x * 2)).unwrap())
        .unwrap();
    assert_eq!(
        lua.load("return double(21)")
            .set_environment(env)
            .eval::<i32>()
            .unwrap(),
        42
    );
}

#[test]
fn string_library_is_frozen() {
    let lua = Lua::new();
    let a = lua.create_sandbox().unwrap();
    let b = lua.create_sandbox().unwrap();
    assert!(lua.load("string.rep = nil").set_environment(a.clone()).exec().is_err());
    assert!(lua.load("math.floor = nil").set_environment(a.clone()).exec().is_err());
    assert!(lua
        .load("table.insert = print")
        .set_environment(a.clone())
        .exec()
        .is_err());
    assert_eq!(
        lua.load("return ('ab'):rep(2)")
            .set_environment(b.clone())
            .eval::<String>()
            .unwrap(),
        "abab"
    );
    assert_eq!(
        lua.load("return string.format('%d', 7)")
            .set_environment(b.clone())
            .eval::<String>()
            .unwrap(),
        "7"
    );
    assert!(lua
        .load("return string.dump == nil and math.randomseed == nil")
        .set_environment(b)
        .eval::<bool>()
        .unwrap());
    // The host's own libraries are untouched.
    assert_eq!(lua.load("return string.rep('x', 3)").eval::<String>().unwrap(), "xxx");
}

#[test]
fn safe_states_refuse_binary_chunks() {
    let lua = perilune::Lua::new();
    let bin: Vec<u8> = lua
        .load("return string.dump(function() return 1 end)")
        .eval::<perilune::LuaString>()
        .unwrap()
        .as_bytes()
        .to_vec();
    let err = lua.load(bin.clone()).exec().unwrap_err().to_string();
    assert!(err.contains("attempt to load a binary chunk"), "{err}");
    let r: (Option<perilune::Function>, String) = lua
        .load("return loadstring(...)")
        .call(lua.create_string(&bin).unwrap())
        .unwrap();
    assert!(r.0.is_none() && r.1.contains("binary chunk"), "{}", r.1);
    let trusted = perilune::Lua::new_trusted(perilune::StdLib::ALL_TRUSTED, perilune::LuaOptions::new()).unwrap();
    assert_eq!(trusted.load(bin.clone()).eval::<i32>().unwrap(), 1);
    // A sandbox in a trusted state still refuses them.
    let env = trusted.create_sandbox().unwrap();
    let r: Option<perilune::Function> = trusted
        .load("return (loadstring(...))")
        .set_environment(env)
        .call(trusted.create_string(&bin).unwrap())
        .unwrap();
    assert!(r.is_none());
}
