//! Embedding API: coroutines driven from Rust.

use perilune::{Error, Function, Lua, Thread, ThreadStatus};

#[test]
fn resume_yield_status() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function(a) for i = 1, 3 do a = coroutine.yield(a + i) end return 'done', a end")
        .eval()
        .unwrap();
    let co = lua.create_thread(f).unwrap();
    assert_eq!(co.status(), ThreadStatus::Resumable);
    assert_eq!(co.resume::<i32>(10).unwrap(), 11);
    assert_eq!(co.resume::<i32>(20).unwrap(), 22);
    assert_eq!(co.resume::<i32>(30).unwrap(), 33);
    let (s, a): (String, i32) = co.resume(40).unwrap();
    assert_eq!((s.as_str(), a), ("done", 40));
    assert_eq!(co.status(), ThreadStatus::Finished);
    assert!(matches!(co.resume::<()>(()), Err(Error::CoroutineUnresumable)));
}

#[test]
fn errors_inside_coroutines() {
    let lua = Lua::new();
    let co: Thread = lua
        .load("coroutine.create(function() error('inside') end)")
        .eval()
        .unwrap();
    let e = co.resume::<()>(()).unwrap_err();
    assert!(matches!(e, Error::RuntimeError(ref m) if m.contains("inside")), "{e:?}");
    assert_eq!(co.status(), ThreadStatus::Error);
    assert!(matches!(co.resume::<()>(()), Err(Error::CoroutineUnresumable)));
}

#[test]
fn running_coroutine_cannot_be_resumed_from_rust() {
    let lua = Lua::new();
    let f = lua
        .create_function(|lua, ()| {
            let co: Thread = lua.globals().get("co")?;
            assert_eq!(co.status(), ThreadStatus::Running);
            co.resume::<()>(())
        })
        .unwrap();
    lua.globals().set("f", f).unwrap();
    let co: Thread = lua
        .load("co = coroutine.create(function() f() end) return co")
        .eval()
        .unwrap();
    let e = co.resume::<()>(()).unwrap_err();
    assert!(matches!(e.root_cause(), Error::CoroutineUnresumable), "{e:?}");
}

#[test]
fn yield_across_rust_callback_is_an_error() {
    let lua = Lua::new();
    let call = lua.create_function(|_, f: Function| f.call::<()>(())).unwrap();
    lua.globals().set("call", call).unwrap();
    let r: (bool, String) = lua
        .load("local co = coroutine.create(function() call(function() coroutine.yield(1) end) end) local ok, e = coroutine.resume(co) return ok, tostring(e)")
        .eval()
        .unwrap();
    assert!(!r.0);
    // One spelling, LuaJIT's (luajit says the same for a yield out of a C function).
    assert!(r.1.contains("attempt to yield across C-call boundary"), "{}", r.1);
}

#[test]
fn budget_inside_coroutine() {
    let lua = Lua::new();
    let co: Thread = lua
        .load("coroutine.create(function() while true do end end)")
        .eval()
        .unwrap();
    lua.set_instruction_budget(Some(50_000)).unwrap();
    assert!(matches!(co.resume::<()>(()), Err(Error::BudgetExhausted)));
    assert_eq!(co.status(), ThreadStatus::Error);
}
