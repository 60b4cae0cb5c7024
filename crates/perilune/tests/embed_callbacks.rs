//! Embedding API: Rust functions called from Lua, errors and panics across the boundary.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use perilune::{Error, Function, Lua, Table, Value, Variadic};

#[test]
fn rust_function_round_trip() {
    let lua = Lua::new();
    let add = lua.create_function(|_, (a, b): (i64, i64)| Ok(a + b)).unwrap();
    lua.globals().set("add", add.clone()).unwrap();
    assert_eq!(lua.load("add(2, 3)").eval::<i64>().unwrap(), 5);
    assert_eq!(add.call::<i64>((4, 5)).unwrap(), 9);
    // Multiple results and variadics.
    let split =
        lua.create_function(|_, s: String| Ok(Variadic::from(s.split(',').map(str::to_string).collect::<Vec<_>>())));
    lua.globals().set("split", split.unwrap()).unwrap();
    assert_eq!(lua.load("select('#', split('a,b,c'))").eval::<i32>().unwrap(), 3);
}

#[test]
fn callback_calls_back_into_lua() {
    let lua = Lua::new();
    let apply = lua
        .create_function(|_, (f, x): (Function, i32)| f.call::<i32>(x * 10))
        .unwrap();
    lua.globals().set("apply", apply).unwrap();
    assert_eq!(
        lua.load("apply(function(v) return v + 1 end, 4)")
            .eval::<i32>()
            .unwrap(),
        41
    );
    // A table built in Rust inside a callback.
    let mk = lua
        .create_function(|lua, n: usize| lua.create_sequence_from(0..n))
        .unwrap();
    lua.globals().set("mk", mk).unwrap();
    assert_eq!(lua.load("#mk(5)").eval::<i32>().unwrap(), 5);
}

#[test]
fn bad_arguments_are_errors() {
    let lua = Lua::new();
    let f = lua.create_function(|_, (_a, _b): (i32, String)| Ok(())).unwrap();
    lua.globals().set("f", f.clone()).unwrap();
    let e = lua.load("f(1, {})").exec().unwrap_err();
    match e {
        Error::CallbackError { cause, .. } => match cause.as_ref() {
            Error::BadArgument { pos: 2, .. } => {}
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // Called directly from Rust: same error.
    assert!(f.call::<()>(("x", "y")).is_err());
    // Lua can catch it and read the message.
    let msg: String = lua
        .load("local ok, e = pcall(f, 1, {}) return tostring(e)")
        .eval()
        .unwrap();
    assert!(msg.contains("bad argument #2"), "{msg}");
    let msg: String = lua
        .load("local ok, e = pcall(f, 1, {}) return 'err: ' .. e")
        .eval()
        .unwrap();
    assert!(msg.starts_with("err: bad argument"), "{msg}");
}

#[test]
fn callback_errors_keep_their_cause() {
    let lua = Lua::new();
    let f = lua
        .create_function(|_, ()| -> perilune::Result<()> { Err(Error::runtime("custom failure")) })
        .unwrap();
    lua.globals().set("fail", f).unwrap();
    let e = lua.load("local function g() fail() end g()").exec().unwrap_err();
    match &e {
        Error::CallbackError { cause, traceback } => {
            assert!(matches!(cause.as_ref(), Error::RuntimeError(m) if m == "custom failure"));
            assert!(traceback.contains("stack traceback"), "{traceback}");
        }
        other => panic!("{other:?}"),
    }
    assert!(std::error::Error::source(&e).is_some());
    assert!(matches!(e.root_cause(), Error::RuntimeError(_)));
    // An error value rethrown by Lua is still recognised.
    let e = lua.load("local ok, err = pcall(fail) error(err)").exec().unwrap_err();
    assert!(matches!(e, Error::CallbackError { .. }), "{e:?}");
    // External errors.
    let f = lua
        .create_function(|_, ()| -> perilune::Result<()> { Err(Error::external(std::io::Error::other("disk"))) })
        .unwrap();
    let e = f.call::<()>(()).unwrap_err();
    assert!(e.to_string().contains("disk"), "{e}");
}

#[test]
fn panics_do_not_unwind_through_the_vm() {
    let lua = Lua::new();
    let f = lua
        .create_function(|_, ()| -> perilune::Result<()> { panic!("kaboom") })
        .unwrap();
    lua.globals().set("p", f).unwrap();
    let e = lua.load("p()").exec().unwrap_err();
    assert!(
        matches!(e.root_cause(), Error::CallbackPanic(m) if m == "kaboom"),
        "{e:?}"
    );
    // Lua can catch it, and the state keeps working.
    let ok: bool = lua.load("return (pcall(p))").eval().unwrap();
    assert!(!ok);
    assert_eq!(lua.load("1 + 2").eval::<i32>().unwrap(), 3);
}

#[test]
fn recursive_mut_callback_is_an_error() {
    let lua = Lua::new();
    let f = lua
        .create_function_mut(|lua, depth: i32| {
            if depth > 0 {
                let me: Function = lua.globals().get("rec")?;
                me.call::<()>(depth - 1)?;
            }
            Ok(())
        })
        .unwrap();
    lua.globals().set("rec", f.clone()).unwrap();
    f.call::<()>(0).unwrap();
    let e = f.call::<()>(1).unwrap_err();
    assert!(matches!(e.root_cause(), Error::RecursiveMutCallback), "{e:?}");
    // Shared (Fn) callbacks may recurse.
    let g = lua
        .create_function(|lua, n: i32| -> perilune::Result<i32> {
            if n == 0 {
                return Ok(0);
            }
            let me: Function = lua.globals().get("fact")?;
            Ok(n + me.call::<i32>(n - 1)?)
        })
        .unwrap();
    lua.globals().set("fact", g.clone()).unwrap();
    assert_eq!(g.call::<i32>(10).unwrap(), 55);
}

#[test]
fn closures_are_dropped_once() {
    struct Tracker(Arc<AtomicUsize>);
    impl Drop for Tracker {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let lua = Lua::new();
    {
        let t = Tracker(drops.clone());
        let f = lua
            .create_function(move |_, ()| Ok(t.0.load(Ordering::SeqCst)))
            .unwrap();
        f.call::<usize>(()).unwrap();
    }
    lua.gc_collect().unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // A function still alive at close is dropped at close.
    let t = Tracker(drops.clone());
    let f = lua
        .create_function(move |_, ()| Ok(t.0.load(Ordering::SeqCst)))
        .unwrap();
    lua.globals().set("keep", f).unwrap();
    drop(lua);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn values_from_rust_callbacks() {
    let lua = Lua::new();
    let f = lua
        .create_function(|lua, ()| {
            let t = lua.create_table()?;
            t.set("n", 1)?;
            Ok((t, Value::Nil, "s"))
        })
        .unwrap();
    let (t, n, s): (Table, Value, String) = f.call(()).unwrap();
    assert_eq!(t.get::<i32>("n").unwrap(), 1);
    assert!(n.is_nil());
    assert_eq!(s, "s");
    // An error passed as a value to Lua.
    let e = lua
        .create_function(|_, ()| Ok(Value::Error(Box::new(Error::runtime("as value")))))
        .unwrap();
    lua.globals().set("e", e).unwrap();
    let text: String = lua.load("return tostring(e())").eval().unwrap();
    assert!(text.contains("as value"), "{text}");
    let v: Value = lua.load("return e()").eval().unwrap();
    assert!(matches!(v, Value::Error(_)));
}

/// Send policy (docs/embedding.md, "Threads"): a state lives on one thread, each
/// thread makes its own; the interrupt flag and registry keys cross threads.
#[test]
fn one_state_per_thread_and_the_handles_that_cross() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<perilune::RegistryKey>();
    assert_send_sync::<std::sync::Arc<std::sync::atomic::AtomicBool>>();
    let workers: Vec<_> = (0..2)
        .map(|i| {
            std::thread::spawn(move || {
                let lua = Lua::new();
                lua.globals().set("x", i).unwrap();
                lua.load("x * 2").eval::<i32>().unwrap()
            })
        })
        .collect();
    let got: Vec<i32> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(got, [0, 2]);
    // The flag set from another thread stops a script on this one.
    let lua = Lua::new();
    let flag = lua.interrupt_handle();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let e = lua.load("while true do end").exec().unwrap_err();
    setter.join().unwrap();
    assert!(e.to_string().contains("interrupted!"), "{e}");
}

/// Callbacks need not be `Send`: they may capture `Rc`s and `RefCell`s.
#[test]
fn callbacks_need_not_be_send() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let lua = Lua::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    let f = lua
        .create_function(move |_, s: String| {
            sink.borrow_mut().push(s);
            Ok(())
        })
        .unwrap();
    f.call::<()>("a").unwrap();
    f.call::<()>("b").unwrap();
    assert_eq!(*log.borrow(), ["a", "b"]);
}

struct Meter(f64);

impl perilune::UserData for Meter {
    fn add_methods<M: perilune::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method_mut("scale", |_, m, k: f64| {
            m.0 *= k;
            Ok(m.0)
        });
    }
}

/// A Rust function's argument that does not convert is reported as Lua reports a
/// built-in function's: `bad argument #2 to 'add' (number expected, got string)`,
/// the name being what the caller called it (`?` when no Lua code called it).
#[test]
fn bad_argument_errors_read_like_luas() {
    let lua = Lua::new();
    let add = lua.create_function(|_, (a, b): (i64, i64)| Ok(a + b)).unwrap();
    let concat = lua.create_function(|_, (a, b): (String, String)| Ok(a + &b)).unwrap();
    let m = lua.create_table().unwrap();
    m.set("add", add.clone()).unwrap();
    lua.globals().set("add", add.clone()).unwrap();
    lua.globals().set("concat", concat).unwrap();
    lua.globals().set("m", m).unwrap();
    lua.globals().set("meter", Meter(2.0)).unwrap();
    let text = |code: &str| -> String {
        // Not `return {code}`: a tail call leaves no caller to name the function.
        lua.load(format!(
            "local ok, e = pcall(function() local r = {code} end) assert(not ok) return tostring(e)"
        ))
        .eval()
        .unwrap()
    };
    assert_eq!(
        text("add(1, 'x')"),
        "bad argument #2 to 'add' (number expected, got string)"
    );
    assert_eq!(
        text("add('y', 2)"),
        "bad argument #1 to 'add' (number expected, got string)"
    );
    assert_eq!(
        text("add(1)"),
        "bad argument #2 to 'add' (number expected, got no value)"
    );
    assert_eq!(
        text("add(1, nil)"),
        "bad argument #2 to 'add' (number expected, got nil)"
    );
    assert_eq!(
        text("m.add(1, {})"),
        "bad argument #2 to 'add' (number expected, got table)"
    );
    assert_eq!(
        text("add(1, 1.5)"),
        "bad argument #2 to 'add' (number has no integer representation)"
    );
    assert_eq!(
        text("concat('a', {})"),
        "bad argument #2 to 'concat' (string expected, got table)"
    );
    assert_eq!(
        text("concat('a', '\\255')").split(" (").next(),
        Some("bad argument #2 to 'concat'")
    );
    // A method call counts the arguments after the receiver, as Lua does.
    assert_eq!(
        text("meter:scale('x')"),
        "bad argument #1 to 'scale' (number expected, got string)"
    );
    // Called by a native (pcall), the name is unknown.
    let (ok, e): (bool, Value) = lua.load("return pcall(add, 1, 'x')").eval().unwrap();
    assert!(!ok);
    assert_eq!(
        lua.load("return tostring(...)").call::<String>(e).unwrap(),
        "bad argument #2 to '?' (number expected, got string)"
    );
    // The host sees the structured error, with the name filled in.
    let e = lua.load("add(1, 'x')").exec().unwrap_err();
    match &e {
        Error::CallbackError { cause, .. } => match cause.as_ref() {
            Error::BadArgument { to, pos: 2, .. } => assert_eq!(to.as_deref(), Some("add")),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .contains("bad argument #2 to 'add' (number expected, got string)"),
        "{e}"
    );
    // Called from Rust directly.
    let e = add.call::<i64>((1, "x")).unwrap_err();
    assert!(
        e.to_string()
            .contains("bad argument #2 to '?' (number expected, got string)"),
        "{e}"
    );
}

/// The panic policy (docs/embedding.md, "Panics in Rust code called by Lua"): a
/// panic in a Rust callback is caught where the VM called the callback and becomes
/// a Lua error, `Error::CallbackPanic(message)`: Lua code can catch it, it unwinds
/// the Lua frames like any error (borrows and pins are released), and the host gets
/// it back as an `Err`, never as a panic. The state stays usable. Panics in the
/// interrupt callback abort the script; panics in `Drop` of userdata values and in
/// the finalizer error handler are swallowed.
#[test]
fn panics_become_errors_and_the_state_goes_on() {
    // (The panic hook prints each panic as usual: the hook is process-wide, and
    // silencing it would hide the messages of other tests running meanwhile.)
    let lua = Lua::new();
    let boom = lua
        .create_function(|_, what: String| -> perilune::Result<()> {
            match what.as_str() {
                "str" => panic!("kaboom"),
                "fmt" => panic!("kaboom {}", 42),
                _ => std::panic::panic_any(7_u8),
            }
        })
        .unwrap();
    lua.globals().set("boom", boom).unwrap();
    // Through a Rust callback that calls Lua that calls the panicking one.
    let outer = lua.create_function(|lua, ()| lua.load("boom('fmt')").exec()).unwrap();
    lua.globals().set("outer", outer).unwrap();
    lua.globals().set("meter", Meter(2.0)).unwrap();
    let scale_panics = lua
        .create_function(|_, ud: perilune::AnyUserData| -> perilune::Result<()> {
            let _b = ud.borrow_mut::<Meter>()?;
            panic!("while borrowed")
        })
        .unwrap();
    lua.globals().set("scale_panics", scale_panics).unwrap();

    let e = lua.load("boom('str')").exec().unwrap_err();
    assert!(
        matches!(e.root_cause(), Error::CallbackPanic(m) if m == "kaboom"),
        "{e:?}"
    );
    let e = lua.load("outer()").exec().unwrap_err();
    assert!(
        matches!(e.root_cause(), Error::CallbackPanic(m) if m == "kaboom 42"),
        "{e:?}"
    );
    let e = lua.load("boom('other')").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::CallbackPanic(_)), "{e:?}");
    // Lua code catches it, with a readable message, also inside a coroutine.
    let (ok, msg): (bool, String) = lua
        .load("local ok, e = pcall(boom, 'str') return ok, tostring(e)")
        .eval()
        .unwrap();
    assert!(!ok);
    assert!(msg.contains("kaboom"), "{msg}");
    let (ok, msg): (bool, String) = lua
        .load("local ok, e = coroutine.resume(coroutine.create(function() boom('str') end)) return ok, tostring(e)")
        .eval()
        .unwrap();
    assert!(!ok && msg.contains("kaboom"), "{msg}");
    // A borrow held by the panicking callback is released by the unwinding.
    assert!(lua.load("scale_panics(meter)").exec().is_err());
    assert_eq!(lua.load("return meter:scale(3)").eval::<f64>().unwrap(), 6.0);
    // A panicking interrupt callback stops the script; the state goes on.
    lua.set_interrupt(|| panic!("in the interrupt callback")).unwrap();
    let e = lua.load("while true do end").exec().unwrap_err();
    assert!(
        matches!(&e, Error::Interrupted(m) if m == "interrupt callback panicked"),
        "{e:?}"
    );
    lua.remove_interrupt().unwrap();
    // A panicking Drop of a userdata value is swallowed by the collector.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("in drop")
        }
    }
    lua.create_any_userdata(PanicsOnDrop).unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(lua.load("return 1 + 2").eval::<i32>().unwrap(), 3);
}
