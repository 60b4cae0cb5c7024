//! `Function::{bind, info, environment, set_environment, dump, wrap, wrap_mut}`,
//! `Thread::reset`, `Lua::current_thread`, and callbacks that need not be `Send`
//! (`set_interrupt`, the finalizer error handler).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use perilune::{Error, Function, Lua, LuaOptions, StdLib, Table, Thread, ThreadStatus, VmState};

#[test]
fn bind_prepends_arguments() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function(...) return select('#', ...), table.concat({...}, ',') end")
        .eval()
        .unwrap();
    let g = f.bind(("a", "b")).unwrap();
    assert_eq!(g.call::<(i32, String)>(("c",)).unwrap(), (3, "a,b,c".into()));
    assert_eq!(g.call::<(i32, String)>(()).unwrap(), (2, "a,b".into()));
    // Binding again appends to the bound values.
    let h = g.bind(1).unwrap();
    assert_eq!(h.call::<(i32, String)>(2).unwrap(), (4, "a,b,1,2".into()));
    // nil holes are kept.
    let n = f.bind((perilune::Nil, 5)).unwrap();
    assert_eq!(n.call::<i32>(perilune::Nil).unwrap(), 3);
    // Nothing to bind: the same function.
    assert_eq!(f.bind(()).unwrap(), f);
    // A Rust function binds too.
    let add = lua.create_function(|_, (a, b): (i64, i64)| Ok(a + b)).unwrap();
    assert_eq!(add.bind(40).unwrap().call::<i64>(2).unwrap(), 42);
}

#[test]
fn a_bound_function_yields() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function(tag, x) local y = coroutine.yield(tag .. x) return y * 2 end")
        .eval()
        .unwrap();
    let co = lua.create_thread(f.bind("got ").unwrap()).unwrap();
    assert_eq!(co.resume::<String>(1).unwrap(), "got 1");
    assert_eq!(co.resume::<i32>(21).unwrap(), 42);
    assert_eq!(co.status(), ThreadStatus::Finished);
}

#[test]
fn bind_pays_into_the_budget() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function(...) return select('#', ...) end")
        .eval()
        .unwrap();
    let g = f
        .bind(vec![0; 10_000].into_iter().collect::<perilune::Variadic<i32>>())
        .unwrap();
    lua.globals().set("g", g).unwrap();
    lua.set_instruction_budget(Some(50_000)).unwrap();
    let r = lua.load("for i = 1, 1000 do g() end").exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    lua.set_instruction_budget(None).unwrap();
    assert_eq!(lua.load("return g(1)").eval::<i32>().unwrap(), 10_001);
}

#[test]
fn info_describes_the_function() {
    let lua = Lua::new();
    let main = lua
        .load("local function f()\n  return 1\nend\nreturn f")
        .set_name("@m.lua");
    let main = main.into_function().unwrap();
    let m = main.info().unwrap();
    assert_eq!(m.what, "main");
    assert_eq!(m.source.as_deref(), Some("@m.lua"));
    assert_eq!(m.short_src.as_deref(), Some("m.lua"));
    assert_eq!(m.line_defined, Some(0));
    let f: Function = main.call(()).unwrap();
    let i = f.info().unwrap();
    assert_eq!(i.what, "Lua");
    assert_eq!((i.line_defined, i.last_line_defined), (Some(1), Some(3)));
    assert_eq!((i.name.as_deref(), i.name_what), (None, None));
    let s: Function = lua.load("return function() end").eval().unwrap();
    assert_eq!(
        s.info().unwrap().short_src.as_deref(),
        Some("[string \"return function() end\"]")
    );
    let r = lua.create_function(|_, ()| Ok(())).unwrap().info().unwrap();
    assert_eq!(r.what, "C");
    assert_eq!(r.short_src.as_deref(), Some("[C]"));
    assert_eq!((r.line_defined, r.last_line_defined), (None, None));
}

#[test]
fn environments_follow_lua_5_1() {
    let lua = Lua::new();
    let f: Function = lua
        .load("return function() x = (x or 0) + 1 return x end")
        .eval()
        .unwrap();
    assert_eq!(f.environment().unwrap(), Some(lua.globals()));
    let env = lua.create_table().unwrap();
    assert!(f.set_environment(env.clone()).unwrap());
    assert_eq!(f.call::<i32>(()).unwrap(), 1);
    assert_eq!(env.get::<i32>("x").unwrap(), 1);
    assert_eq!(lua.globals().get::<Option<i32>>("x").unwrap(), None);
    // Lua sees the same thing.
    lua.globals().set("f", &f).unwrap();
    assert!(lua.load("return getfenv(f)").eval::<Table>().unwrap() == env);
    // Native and Rust functions have none, and keep none.
    let print: Function = lua.globals().get("print").unwrap();
    assert_eq!(print.environment().unwrap(), None);
    assert!(!print.set_environment(env.clone()).unwrap());
    let r = lua.create_function(|_, ()| Ok(())).unwrap();
    assert!(!r.set_environment(env).unwrap());
    // A table of another state is refused.
    let other = Lua::new();
    let foreign = other.create_table().unwrap();
    assert!(matches!(f.set_environment(foreign), Err(Error::MismatchedState)));
}

#[test]
fn dump_round_trips_in_a_trusted_state() {
    let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new()).unwrap();
    let f: Function = lua
        .load("return function(a, b) local t = {a, b} return #t, a .. b end")
        .eval()
        .unwrap();
    for strip in [false, true] {
        let bytes = f.dump(strip).unwrap();
        assert!(bytes.starts_with(b"\x1b"), "{:?}", &bytes[..4]);
        let g: Function = lua.load(bytes).into_function().unwrap();
        assert_eq!(g.call::<(i32, String)>(("x", "y")).unwrap(), (2, "xy".into()));
    }
    // What string.dump gives.
    lua.globals().set("f", &f).unwrap();
    let via_lua: perilune::LuaString = lua.load("return string.dump(f)").eval().unwrap();
    assert_eq!(via_lua.as_bytes().to_vec(), f.dump(false).unwrap());
    // A Rust function cannot be dumped.
    let r = lua.create_function(|_, ()| Ok(())).unwrap();
    assert!(matches!(r.dump(false), Err(Error::RuntimeError(ref m)) if m == "unable to dump given function"));
    // A safe state refuses to load it.
    let safe = Lua::new();
    assert!(safe.load(f.dump(false).unwrap()).exec().is_err());
}

#[test]
fn wrap_and_wrap_mut() {
    let lua = Lua::new();
    let t = lua.create_table().unwrap();
    t.set("add", Function::wrap(|a: i64, b: i64| Ok(a + b))).unwrap();
    t.set("none", Function::wrap(|| Ok(()))).unwrap();
    t.set("echo", Function::wrap(|v: perilune::Variadic<String>| Ok(v)))
        .unwrap();
    let mut log = Vec::new();
    let shared = Rc::new(RefCell::new(Vec::new()));
    let sink = shared.clone();
    t.set(
        "push",
        Function::wrap_mut(move |s: String| {
            log.push(s.clone());
            sink.borrow_mut().push(s);
            Ok(log.len())
        }),
    )
    .unwrap();
    lua.globals().set("t", t).unwrap();
    assert_eq!(lua.load("return t.add(40, 2)").eval::<i64>().unwrap(), 42);
    assert_eq!(
        lua.load("return t.echo('a', 'b')").eval::<(String, String)>().unwrap(),
        ("a".into(), "b".into())
    );
    assert_eq!(lua.load("t.push('x') return t.push('y')").eval::<usize>().unwrap(), 2);
    assert_eq!(*shared.borrow(), ["x", "y"]);
    // Argument errors name the position, as for create_function.
    let e = lua.load("local r = t.add(1, {}) return r").exec().unwrap_err();
    assert!(e.to_string().contains("bad argument #2 to 'add'"), "{e}");
}

#[test]
fn reset_reuses_a_coroutine() {
    let lua = Lua::new();
    let co: Thread = lua
        .load("return coroutine.create(function(a) local b = coroutine.yield(a) return a + b end)")
        .eval()
        .unwrap();
    let double: Function = lua.load("return function(x) return x * 2 end").eval().unwrap();
    // Not started.
    co.reset(double.clone()).unwrap();
    assert_eq!(co.resume::<i32>(4).unwrap(), 8);
    assert_eq!(co.status(), ThreadStatus::Finished);
    // Finished.
    let yielder: Function = lua
        .load(
            "return function(a)
               local captured = a
               get = function() return captured end
               coroutine.yield(a)
               error('failed ' .. a, 0)
             end",
        )
        .eval()
        .unwrap();
    co.reset(yielder.clone()).unwrap();
    assert_eq!(co.resume::<i32>(7).unwrap(), 7);
    // Suspended in a yield: the open upvalue is closed and keeps its value.
    co.reset(double.clone()).unwrap();
    assert_eq!(lua.load("return get()").eval::<i32>().unwrap(), 7);
    assert_eq!(co.resume::<i32>(5).unwrap(), 10);
    // Died with an error.
    co.reset(yielder).unwrap();
    co.resume::<i32>(1).unwrap();
    let e = co.resume::<()>(()).unwrap_err();
    assert!(e.to_string().contains("failed 1"), "{e}");
    assert_eq!(co.status(), ThreadStatus::Error);
    co.reset(double).unwrap();
    assert_eq!(co.status(), ThreadStatus::Resumable);
    assert_eq!(co.resume::<i32>(50).unwrap(), 100);
    // A coroutine made with create_thread too.
    let t = lua.create_thread(lua.create_function(|_, ()| Ok(1)).unwrap()).unwrap();
    t.resume::<i32>(()).unwrap();
    t.reset(lua.create_function(|_, ()| Ok(2)).unwrap()).unwrap();
    assert_eq!(t.resume::<i32>(()).unwrap(), 2);
}

#[test]
fn reset_refuses_a_running_thread() {
    let lua = Lua::new();
    let noop = lua.create_function(|_, ()| Ok(())).unwrap();
    // The main thread, from the host.
    let main = lua.current_thread().unwrap();
    assert!(
        matches!(main.reset(noop.clone()), Err(Error::RuntimeError(ref m)) if m == "cannot reset a running thread")
    );
    // A coroutine resetting itself from a callback, and the thread that resumed it.
    let g = noop.clone();
    let reset_me = lua
        .create_function(move |lua, ()| {
            let me = lua.current_thread()?;
            let own = me.reset(g.clone()).map_err(|e| e.to_string());
            Ok(own.err())
        })
        .unwrap();
    lua.globals().set("reset_me", reset_me).unwrap();
    let g2 = noop.clone();
    let outer = lua.current_thread().unwrap();
    let reset_outer = lua
        .create_function(move |_, ()| Ok(outer.reset(g2.clone()).err().map(|e| e.to_string())))
        .unwrap();
    lua.globals().set("reset_outer", reset_outer).unwrap();
    let (a, b): (String, String) = lua
        .load("local co = coroutine.create(function() return reset_me(), reset_outer() end) return select(2, coroutine.resume(co))")
        .eval()
        .unwrap();
    assert_eq!(a, "runtime error: cannot reset a running thread");
    assert_eq!(b, "runtime error: cannot reset a running thread");
    // A function of another state is refused.
    let other = Lua::new();
    let co = lua.create_thread(noop).unwrap();
    let foreign = other.create_function(|_, ()| Ok(())).unwrap();
    assert!(matches!(co.reset(foreign), Err(Error::MismatchedState)));
}

#[test]
fn current_thread_inside_and_outside() {
    let lua = Lua::new();
    let main = lua.current_thread().unwrap();
    assert_eq!(main.status(), ThreadStatus::Running);
    let me = lua.create_function(|lua, ()| lua.current_thread()).unwrap();
    lua.globals().set("me", me).unwrap();
    assert_eq!(lua.load("return me()").eval::<Thread>().unwrap(), main);
    let (co, inner): (Thread, Thread) = lua
        .load("local co = coroutine.create(function() return me() end) return co, select(2, coroutine.resume(co))")
        .eval()
        .unwrap();
    assert_eq!(co, inner);
    assert_ne!(co, main);
}

/// The interrupt callback and the finalizer error handler may hold values that are
/// not `Send` (`Rc`, `RefCell`); the interrupt flag still works from another thread.
#[test]
fn interrupt_and_finalizer_handler_need_not_be_send() {
    let lua = Lua::new();
    let checks = Rc::new(Cell::new(0u32));
    let c = checks.clone();
    lua.set_interrupt(move || {
        c.set(c.get() + 1);
        if c.get() > 5 {
            VmState::Abort("enough".into())
        } else {
            VmState::Continue
        }
    })
    .unwrap();
    let r = lua.load("while true do end").exec();
    assert!(matches!(r, Err(Error::Interrupted(ref m)) if m == "enough"), "{r:?}");
    assert!(checks.get() > 5);
    lua.remove_interrupt().unwrap();

    let seen: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let sink = seen.clone();
    lua.set_finalizer_error_handler(move |m| sink.borrow_mut().push(m.to_vec()))
        .unwrap();
    lua.load(
        "local p = newproxy(true) getmetatable(p).__gc = function() error('gc boom', 0) end p = nil collectgarbage()",
    )
    .exec()
    .unwrap();
    assert_eq!(*seen.borrow(), vec![b"gc boom".to_vec()]);

    // The cross-thread flag.
    let flag = lua.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let r = lua.load("while true do end").exec();
    t.join().unwrap();
    assert!(r.unwrap_err().to_string().contains("interrupted!"));
}
