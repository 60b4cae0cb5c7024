//! The host's tests, written as for mlua 0.10+ (`use mlua::prelude::*`). Lines that
//! differ from what mlua accepts are marked `// differs:` and listed in
//! docs/from-mlua.md; Perilune's additions (memory limit, budget, sandbox) are
//! marked `// Perilune:`.

use std::collections::HashMap;
use std::path::Path;

use mlua::prelude::*;
use mlua::{ChunkMode, Function, Lua, Table, Value, Variadic};
use mlua_host::{register, Config, Vec2};

#[test]
fn globals_and_calls_both_ways() -> LuaResult<()> {
    let lua = Lua::new();
    let globals = lua.globals();
    globals.set("answer", 42)?;
    globals.set("name", "moon")?;
    assert_eq!(globals.get::<i64>("answer")?, 42);
    assert_eq!(lua.load("name .. '!'").eval::<String>()?, "moon!");

    // Rust calling Lua.
    lua.load("function add(a, b) return a + b end").exec()?;
    let add: Function = globals.get("add")?;
    assert_eq!(add.call::<i64>((40, 2))?, 42);

    // Lua calling Rust, with variadics and multiple results.
    let sum = lua.create_function(|_, nums: Variadic<f64>| Ok(nums.iter().sum::<f64>()))?;
    globals.set("sum", sum)?;
    let split = lua.create_function(|_, s: String| {
        let (a, b) = s.split_once('=').unwrap_or((&s, ""));
        Ok((a.to_string(), b.to_string()))
    })?;
    globals.set("split", split)?;
    let (total, k, v) = lua
        .load("local k, v = split('key=value') return sum(1, 2, 3.5), k, v")
        .eval::<(f64, String, String)>()?;
    assert_eq!((total, k.as_str(), v.as_str()), (6.5, "key", "value"));

    // A mutable Rust closure counting its calls.
    let mut count = 0;
    let counter = lua.create_function_mut(move |_, ()| {
        count += 1;
        Ok(count)
    })?;
    counter.call::<()>(())?;
    assert_eq!(counter.call::<i32>(())?, 2);

    // Chunks: names, environments, arguments.
    let env = lua.create_table()?;
    env.set("x", 7)?;
    let v: i32 = lua.load("return x * 6").set_name("calc").set_environment(env).eval()?;
    assert_eq!(v, 42);
    let v: i32 = lua.load("local a, b = ... return a - b").call((50, 8))?;
    assert_eq!(v, 42);
    let f = lua.load("return ...").into_function()?;
    assert_eq!(f.call::<String>("echo")?, "echo");
    Ok(())
}

#[test]
fn userdata_with_methods_fields_and_metamethods() -> LuaResult<()> {
    let lua = Lua::new();
    register(&lua)?;
    // differs: mlua's `lua.create_proxy::<Vec2>()` (the type's functions without an
    // instance) does not exist yet; a table with the constructor stands in.
    let class = lua.create_table()?;
    class.set("new", lua.create_function(|_, (x, y): (f64, f64)| Ok(Vec2 { x, y }))?)?;
    lua.globals().set("Vec2", class)?;
    let v: Vec2 = lua
        .load(
            r#"
            local a = host.vec2(3, 4)
            assert(a:length() == 5)
            assert(a.x == 3 and a.y == 4)
            a.x = 6
            a:scale(0.5)
            assert(tostring(a) == "Vec2(3, 2)", tostring(a))
            local b = Vec2.new(1, 1)
            assert(a + b == host.vec2(4, 3))
            return a + b
            "#,
        )
        .eval::<LuaUserDataRef<Vec2>>()
        .map(|v| *v)?;
    assert_eq!(v, Vec2 { x: 4.0, y: 3.0 });

    // Userdata created on the Rust side, borrowed back.
    let ud = lua.create_userdata(Vec2 { x: 1.0, y: 2.0 })?;
    lua.globals().set("p", &ud)?;
    lua.load("p:scale(10)").exec()?;
    assert_eq!(ud.borrow::<Vec2>()?.y, 20.0);
    ud.borrow_mut::<Vec2>()?.x = -1.0;
    assert_eq!(lua.load("p.x").eval::<f64>()?, -1.0);
    assert!(ud.is::<Vec2>());

    // A field without a setter cannot be assigned.
    let err = lua.load("p.y = 1").exec().unwrap_err();
    assert!(err.to_string().contains("y"), "{err}");
    Ok(())
}

#[test]
fn tables_to_and_from_rust_collections() -> LuaResult<()> {
    let lua = Lua::new();
    let seq = lua.create_sequence_from(vec![1, 2, 3])?;
    let map = lua.create_table_from([("a", 1), ("b", 2)])?;
    lua.globals().set("seq", seq)?;
    lua.globals().set("map", map)?;
    assert_eq!(lua.load("#seq + map.a + map.b").eval::<i64>()?, 6);

    let v: Vec<String> = lua.load("{'x', 'y', 'z'}").eval()?;
    assert_eq!(v, ["x", "y", "z"]);
    let m: HashMap<String, i64> = lua.load("{one = 1, two = 2}").eval()?;
    assert_eq!(m["two"], 2);
    let back: Table = lua.load("return ...").call(m.clone())?;
    assert_eq!(back.get::<i64>("one")?, 1);
    let nested: Vec<Vec<i64>> = lua.load("{{1, 2}, {3}}").eval()?;
    assert_eq!(nested, vec![vec![1, 2], vec![3]]);

    // Iteration.
    let t: Table = lua.load("{10, 20, 30, k = 'v'}").eval()?;
    let mut keys = 0;
    for pair in t.pairs::<Value, Value>() {
        let (_k, _v) = pair?;
        keys += 1;
    }
    assert_eq!(keys, 4);
    let values: Vec<i64> = t.sequence_values::<i64>().collect::<LuaResult<_>>()?;
    assert_eq!(values, [10, 20, 30]);
    let mut total = 0;
    t.for_each(|_: Value, v: Value| {
        total += v.as_integer().unwrap_or(0);
        Ok(())
    })?;
    assert_eq!(total, 60);

    // Table operations (mlua 0.10).
    t.push(40)?;
    assert_eq!(t.pop::<i64>()?, 40);
    t.raw_push(50)?;
    t.raw_insert(1, 5)?;
    assert_eq!(t.raw_pop::<i64>()?, 50);
    t.raw_remove(1)?;
    assert_eq!(t.raw_len(), 3);
    assert!(t.contains_key("k")?);
    let other: Table = lua.load("{}").eval()?;
    assert!(!t.equals(&other)?);
    t.clear()?;
    assert!(t.is_empty());
    assert!(t.metatable()?.is_none()); // differs: mlua's `metatable()` returns `Option<Table>`
    Ok(())
}

#[test]
fn errors_with_tracebacks() -> LuaResult<()> {
    let lua = Lua::new();
    register(&lua)?;
    // A Lua runtime error carries the position and a traceback.
    let err = lua
        .load("local function inner() error('deep') end\ninner()")
        .set_name("script.lua")
        .exec()
        .unwrap_err();
    match &err {
        LuaError::RuntimeError(msg) => {
            assert!(msg.contains("script.lua:1: deep"), "{msg}");
            assert!(msg.contains("stack traceback"), "{msg}");
        }
        other => panic!("unexpected error {other:?}"),
    }

    // An error from a Rust callback comes back as a callback error with its cause.
    let err = lua.load("host.fail('no')").exec().unwrap_err();
    match &err {
        LuaError::CallbackError { traceback, cause } => {
            assert!(traceback.contains("stack traceback"), "{traceback}");
            assert!(cause.to_string().contains("host refused: no"), "{cause}");
        }
        other => panic!("unexpected error {other:?}"),
    }

    // Lua code catches a Rust error with pcall.
    let (ok, msg): (bool, String) = lua
        .load("local ok, e = pcall(host.fail, 'x') return ok, tostring(e)")
        .eval()?;
    assert!(!ok && msg.contains("host refused: x"), "{msg}");

    // Conversion errors, and into_lua_err / context on the Rust side.
    assert!(lua.load("'not a number'").eval::<i64>().is_err());
    let r: LuaResult<i32> = "12x".parse::<i32>().into_lua_err();
    assert!(r.is_err());
    let r: LuaResult<()> = Err(LuaError::runtime("inner")).context("while loading");
    assert!(r.unwrap_err().to_string().contains("while loading"));

    // Syntax errors say whether more input could complete them.
    match lua.load("function f(").exec() {
        Err(LuaError::SyntaxError {
            incomplete_input: true, ..
        }) => {}
        other => panic!("unexpected {other:?}"),
    }
    Ok(())
}

#[test]
fn app_data_and_registry() -> LuaResult<()> {
    let lua = Lua::new();
    register(&lua)?;
    assert_eq!(lua.load("host.greet('Ann')").eval::<String>()?, "Hello, Ann!");
    lua.app_data_mut::<Config>().unwrap().greeting = "Hi".into();
    assert_eq!(lua.load("host.greet('Bob')").eval::<String>()?, "Hi, Bob!");
    assert_eq!(lua.app_data_ref::<Config>().unwrap().calls, 2);
    let config = lua.remove_app_data::<Config>().unwrap();
    assert_eq!(config.calls, 2);
    assert!(lua.load("host.greet('Cy')").exec().is_err());

    // Registry values: keys and names.
    let key = lua.create_registry_value("kept")?;
    assert_eq!(lua.registry_value::<String>(&key)?, "kept");
    lua.remove_registry_value(key)?;
    lua.set_named_registry_value("settings", lua.create_table_from([("debug", true)])?)?;
    let settings: Table = lua.named_registry_value("settings")?;
    assert!(settings.get::<bool>("debug")?);
    lua.unset_named_registry_value("settings")?;
    assert!(lua.named_registry_value::<Value>("settings")?.is_nil());
    lua.expire_registry_values();
    Ok(())
}

#[test]
fn serde_both_ways() -> LuaResult<()> {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Player {
        name: String,
        level: u32,
        tags: Vec<String>,
        home: Option<(f64, f64)>,
    }
    let lua = Lua::new();
    let p = Player {
        name: "Ann".into(),
        level: 3,
        tags: vec!["a".into(), "b".into()],
        home: None,
    };
    lua.globals().set("player", lua.to_value(&p)?)?;
    lua.load("player.level = player.level + 1; table.insert(player.tags, 'c')")
        .exec()?;
    let back: Player = lua.from_value(lua.globals().get("player")?)?;
    assert_eq!(back.level, 4);
    assert_eq!(back.tags, ["a", "b", "c"]);
    assert_eq!(back.home, None);
    // JSON through a Lua value.
    let v: Value = lua.load("{ list = {1, 2}, flag = true }").eval()?;
    let json = serde_json::to_value(&v).map_err(LuaError::external)?;
    assert_eq!(json["list"], serde_json::json!([1, 2]));
    assert!(lua.null().is_null());
    assert_eq!(lua.null(), Value::NULL);
    Ok(())
}

#[test]
fn values_print_and_compare_as_in_mlua() -> LuaResult<()> {
    let lua = Lua::new();
    let s: Value = lua.load("'abc'").eval()?;
    assert_eq!(format!("{s:?}"), r#"String("abc")"#);
    assert_eq!(s.to_string()?, "abc");
    let t: Value = lua
        .load("setmetatable({}, {__tostring = function() return 'T' end})")
        .eval()?;
    assert_eq!(t.to_string()?, "T");
    assert!(!t.to_pointer().is_null());
    assert_eq!(Value::Integer(7), Value::Number(7.0));
    assert!(t.equals(&t.clone())?);
    Ok(())
}

#[test]
fn loading_files_and_modes() -> LuaResult<()> {
    let dir = std::env::temp_dir().join(format!("mlua-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(LuaError::external)?;
    let file = dir.join("module.lua");
    std::fs::write(&file, "return { twice = function(x) return x * 2 end }").map_err(LuaError::external)?;
    let lua = Lua::new();
    let module: Table = lua.load(file.as_path()).eval()?;
    let twice: Function = module.get("twice")?;
    assert_eq!(twice.call::<i64>(21)?, 42);
    assert!(lua.load(Path::new("/definitely/missing.lua")).exec().is_err());
    let err = lua.load("return 1").set_mode(ChunkMode::Binary).exec().unwrap_err();
    assert!(err.to_string().contains("wrong mode"), "{err}");
    std::fs::remove_dir_all(&dir).map_err(LuaError::external)?;
    Ok(())
}

#[test]
fn coroutines_and_async() -> LuaResult<()> {
    let lua = Lua::new();
    let thread: LuaThread = lua
        .load("coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)")
        .eval()?;
    assert_eq!(thread.resume::<i64>(1)?, 2);
    assert_eq!(thread.resume::<i64>(10)?, 20);
    assert_eq!(thread.status(), LuaThreadStatus::Finished);

    // An async Rust function awaited from Lua, driven by any executor.
    let double = lua.create_async_function(|_lua, n: i64| async move {
        YieldOnce(false).await;
        Ok(n * 2)
    })?;
    lua.globals().set("double", double)?;
    let f: Function = lua.load("function(x) return double(x) + double(1) end").eval()?;
    assert_eq!(block_on(f.call_async::<i64>(20))?, 42);
    assert_eq!(block_on(lua.load("double(4)").eval_async::<i64>())?, 8);
    Ok(())
}

/// Pending once, then ready.
struct YieldOnce(bool);
impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// The smallest executor: poll until ready (tests only; a host uses its runtime's).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn memory_limit_budget_and_sandbox() -> LuaResult<()> {
    let lua = Lua::new();
    // mlua has this one too.
    lua.set_memory_limit(lua.used_memory() + 1024 * 1024)?;
    let err = lua
        .load("local t = {} while true do t[#t + 1] = {} end")
        .exec()
        .unwrap_err();
    assert!(matches!(err, LuaError::MemoryError(_)), "{err:?}");
    assert_eq!(lua.load("1 + 1").eval::<i32>()?, 2);
    lua.set_memory_limit(0)?;

    // Perilune: an instruction budget no pcall can catch.
    lua.set_instruction_budget(Some(100_000))?;
    let err = lua.load("pcall(function() while true do end end)").exec().unwrap_err();
    assert!(matches!(err, LuaError::BudgetExhausted), "{err:?}");
    lua.set_instruction_budget(None)?;

    // Perilune: a sandbox environment per untrusted script.
    let env = lua.create_sandbox()?;
    let err = lua.load("os.exit(1)").set_environment(env.clone()).exec().unwrap_err();
    assert!(err.to_string().contains("os"), "{err}");
    let v: i64 = lua
        .load("local t = {3, 1, 2} table.sort(t) return t[1] + #string.rep('x', 4)")
        .set_environment(env)
        .eval()?;
    assert_eq!(v, 5);
    Ok(())
}

#[test]
fn weak_handles_and_state_lifetime() -> LuaResult<()> {
    let lua = Lua::new();
    let t = lua.create_table()?;
    let weak = lua.weak();
    drop(lua);
    // mlua panics here; Perilune answers with an error.
    assert!(t.set("k", 1).is_err());
    assert!(weak.try_upgrade().is_none());
    Ok(())
}

#[test]
fn scope_bind_user_values_and_clone_userdata() -> LuaResult<()> {
    let lua = Lua::new();
    register(&lua)?;

    // A scope lends the host's locals to Lua; nothing it made works afterwards.
    let mut log: Vec<String> = Vec::new();
    let mut origin = Vec2 { x: 1.0, y: 1.0 };
    let kept: Function = lua.scope(|scope| {
        let record = scope.create_function_mut(|_, s: String| {
            log.push(s);
            Ok(())
        })?;
        lua.globals().set("record", &record)?;
        lua.globals()
            .set("origin", scope.create_userdata_ref_mut(&mut origin)?)?;
        lua.load("record('a') origin:scale(3) record(tostring(origin))")
            .exec()?;
        Ok(record)
    })?;
    assert_eq!(log, ["a", "Vec2(3, 3)"]);
    assert_eq!(origin, Vec2 { x: 3.0, y: 3.0 });
    assert!(kept.call::<()>("late").is_err());
    assert!(lua.load("return origin:length()").exec().is_err());

    // Function::bind, as mlua has it.
    let add: Function = lua.load("function(a, b, c) return a + b + c end").eval()?;
    let add10 = add.bind(10)?.bind(20)?;
    assert_eq!(add10.call::<i64>(3)?, 33);

    // A user value kept with a userdata.
    let ud = lua.create_userdata(Vec2 { x: 0.0, y: 0.0 })?;
    ud.set_user_value("tag")?;
    assert_eq!(ud.user_value::<String>()?, "tag");

    // `FromLua` by clone: a userdata converts straight into the Rust value.
    let v: Vec2 = lua.load("return host.vec2(5, 6)").eval()?;
    assert_eq!(v, Vec2 { x: 5.0, y: 6.0 });
    Ok(())
}
