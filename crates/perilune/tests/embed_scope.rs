//! `Lua::scope`: non-`'static` callbacks and lent userdata, and what happens to
//! them when the scope ends (normally, with an error, with a panic).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use perilune::{AnyUserData, Error, Function, Lua, UserData, UserDataFields, UserDataMethods};

fn is_destructed_callback(e: &Error) -> bool {
    matches!(e, Error::CallbackDestructed)
        || matches!(e, Error::CallbackError { cause, .. } if is_destructed_callback(cause))
}

fn is_destructed_userdata(e: &Error) -> bool {
    matches!(e, Error::UserDataDestructed)
        || matches!(e, Error::CallbackError { cause, .. } if is_destructed_userdata(cause))
}

struct Counter {
    n: i64,
}

impl UserData for Counter {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("n", |_, c| Ok(c.n));
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("get", |_, c, ()| Ok(c.n));
        methods.add_method_mut("inc", |_, c, by: Option<i64>| {
            c.n += by.unwrap_or(1);
            Ok(c.n)
        });
    }
}

#[test]
fn scoped_callbacks_borrow_locals() {
    let lua = Lua::new();
    let total = Cell::new(0);
    let mut calls = Vec::new();
    lua.scope(|scope| {
        let add = scope.create_function(|_, n: i64| {
            total.set(total.get() + n);
            Ok(total.get())
        })?;
        let record = scope.create_function_mut(|_, s: String| {
            calls.push(s);
            Ok(())
        })?;
        lua.globals().set("add", add)?;
        lua.globals().set("record", record)?;
        lua.load("add(2) add(3) record('x') record('y')").exec()
    })
    .unwrap();
    assert_eq!(total.get(), 5);
    assert_eq!(calls, ["x", "y"]);
}

#[test]
fn a_scoped_callback_called_after_the_scope_is_an_error() {
    let lua = Lua::new();
    let hits = Cell::new(0);
    let f: Function = lua
        .scope(|scope| {
            let f = scope.create_function(|_, ()| {
                hits.set(hits.get() + 1);
                Ok(())
            })?;
            lua.globals().set("f", &f)?;
            f.call::<()>(())?;
            Ok(f)
        })
        .unwrap();
    assert_eq!(hits.get(), 1);
    // From Rust.
    let e = f.call::<()>(()).unwrap_err();
    assert!(is_destructed_callback(&e), "{e:?}");
    // From Lua: a catchable error with mlua's words.
    let (ok, msg): (bool, String) = lua
        .load("local ok, e = pcall(f) return ok, tostring(e)")
        .eval()
        .unwrap();
    assert!(!ok);
    assert_eq!(msg, "a destructed callback or destructed userdata method was called");
    // Uncaught, through a chunk.
    let e = lua.load("f()").exec().unwrap_err();
    assert!(is_destructed_callback(&e), "{e:?}");
    assert_eq!(hits.get(), 1);
    // The state goes on.
    assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
}

#[test]
fn the_scope_ends_when_its_body_fails() {
    let lua = Lua::new();
    let stash: RefCell<Option<Function>> = RefCell::new(None);
    let r: perilune::Result<()> = lua.scope(|scope| {
        let f = scope.create_function(|_, ()| Ok(1))?;
        *stash.borrow_mut() = Some(f);
        Err(Error::runtime("body failed"))
    });
    assert!(matches!(r, Err(Error::RuntimeError(ref m)) if m == "body failed"));
    let f = stash.borrow_mut().take().unwrap();
    let e = f.call::<i32>(()).unwrap_err();
    assert!(is_destructed_callback(&e), "{e:?}");
}

#[test]
fn the_scope_ends_when_its_body_panics() {
    let lua = Lua::new();
    let captured = Rc::new(());
    let stash: RefCell<Option<(Function, AnyUserData)>> = RefCell::new(None);
    let mut counter = Counter { n: 1 };
    let r = catch_unwind(AssertUnwindSafe(|| {
        lua.scope(|scope| {
            let keep = captured.clone();
            let f = scope.create_function(move |_, ()| Ok(Rc::strong_count(&keep)))?;
            let ud = scope.create_userdata_ref_mut(&mut counter)?;
            *stash.borrow_mut() = Some((f, ud));
            panic!("body panicked");
            #[allow(unreachable_code)]
            Ok(())
        })
    }));
    assert!(r.is_err());
    // The closure (and what it captured) was dropped by the unwinding.
    assert_eq!(Rc::strong_count(&captured), 1);
    let (f, ud) = stash.borrow_mut().take().unwrap();
    assert!(is_destructed_callback(&f.call::<usize>(()).unwrap_err()));
    assert!(matches!(
        ud.borrow_scoped::<Counter, _>(|c| c.n),
        Err(Error::UserDataDestructed)
    ));
    lua.globals().set("ud", ud).unwrap();
    let e = lua.load("return ud:get()").exec().unwrap_err();
    assert!(is_destructed_userdata(&e), "{e:?}");
    assert_eq!(counter.n, 1);
}

#[test]
fn closures_are_dropped_when_the_scope_ends() {
    let lua = Lua::new();
    let token = Rc::new(());
    lua.scope(|scope| {
        let t = token.clone();
        let f = scope.create_function(move |_, ()| Ok(Rc::strong_count(&t)))?;
        assert_eq!(f.call::<usize>(())?, 2);
        lua.globals().set("f", f)?;
        Ok(())
    })
    .unwrap();
    // Still referenced from Lua (the global), but the closure is gone.
    assert_eq!(Rc::strong_count(&token), 1);
}

#[test]
fn lent_userdata_works_inside_and_is_destructed_after() {
    let lua = Lua::new();
    let mut counter = Counter { n: 10 };
    lua.scope(|scope| {
        let ud = scope.create_userdata_ref_mut(&mut counter)?;
        lua.globals().set("c", &ud)?;
        let n: i64 = lua.load("c:inc() c:inc(5) return c.n").eval()?;
        assert_eq!(n, 16);
        assert!(ud.is::<Counter>());
        // A guard that could outlive the scope is refused (as in mlua).
        assert!(matches!(ud.borrow::<Counter>(), Err(Error::UserDataTypeMismatch)));
        assert!(matches!(ud.borrow_mut::<Counter>(), Err(Error::UserDataTypeMismatch)));
        assert!(matches!(ud.take::<Counter>(), Err(Error::UserDataTypeMismatch)));
        assert_eq!(ud.borrow_scoped::<Counter, _>(|c| c.n)?, 16);
        ud.borrow_mut_scoped::<Counter, _>(|c| c.n += 1)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(counter.n, 17);
    // The script kept it in a global: every use is now an error.
    for src in ["return c:get()", "return c.n", "return c:inc()"] {
        let e = lua.load(src).exec().unwrap_err();
        assert!(is_destructed_userdata(&e), "{src}: {e:?}");
    }
    let ud: AnyUserData = lua.globals().get("c").unwrap();
    assert!(!ud.is::<Counter>());
    assert!(matches!(
        ud.borrow_scoped::<Counter, _>(|c| c.n),
        Err(Error::UserDataDestructed)
    ));
    assert!(matches!(ud.borrow::<Counter>(), Err(Error::UserDataTypeMismatch)));
}

#[test]
fn a_read_only_loan_refuses_mutation() {
    let lua = Lua::new();
    let counter = Counter { n: 3 };
    lua.scope(|scope| {
        let ud = scope.create_userdata_ref(&counter)?;
        lua.globals().set("c", &ud)?;
        assert_eq!(lua.load("return c:get()").eval::<i64>()?, 3);
        let e = lua.load("return c:inc()").exec().unwrap_err();
        assert!(matches!(e.root_cause(), Error::UserDataBorrowMutError), "{e:?}");
        assert!(matches!(
            ud.borrow_mut_scoped::<Counter, _>(|c| c.n += 1),
            Err(Error::UserDataBorrowMutError)
        ));
        Ok(())
    })
    .unwrap();
    assert_eq!(counter.n, 3);
}

#[test]
fn any_userdata_refs() {
    let lua = Lua::new();
    let name = String::from("moon");
    let mut hits: Vec<i32> = Vec::new();
    lua.scope(|scope| {
        let n = scope.create_any_userdata_ref(&name)?;
        let h = scope.create_any_userdata_ref_mut(&mut hits)?;
        let f = lua.create_function(|_, (n, h): (AnyUserData, AnyUserData)| {
            let len = n.borrow_scoped::<String, _>(|s| s.len())?;
            h.borrow_mut_scoped::<Vec<i32>, _>(|v| v.push(len as i32))?;
            Ok(len)
        })?;
        assert_eq!(f.call::<usize>((&n, &h))?, 4);
        // The wrong type is a mismatch, not a borrow.
        assert!(matches!(
            n.borrow_scoped::<Vec<i32>, _>(|_| ()),
            Err(Error::UserDataTypeMismatch)
        ));
        assert!(!n.is::<Vec<i32>>());
        assert!(n.is::<String>());
        Ok(())
    })
    .unwrap();
    assert_eq!(hits, [4]);
}

/// A scoped callback that stashes a lent userdata where it outlives the scope (a
/// global, a table, a Rust handle captured by a `'static` closure).
#[test]
fn a_callback_stashing_the_userdata_outside_the_scope() {
    let lua = Lua::new();
    let stashed: Rc<RefCell<Option<AnyUserData>>> = Rc::default();
    let mut counter = Counter { n: 0 };
    let sink = stashed.clone();
    let keep = lua
        .create_function(move |_, ud: AnyUserData| {
            *sink.borrow_mut() = Some(ud);
            Ok(())
        })
        .unwrap();
    lua.globals().set("keep", keep).unwrap();
    lua.scope(|scope| {
        let ud = scope.create_userdata_ref_mut(&mut counter)?;
        let stash = scope.create_function(|lua, ud: AnyUserData| {
            lua.globals().set("g", &ud)?;
            lua.load("saved = {g}; keep(g)").exec()
        })?;
        stash.call::<()>(&ud)?;
        lua.load("g:inc()").exec()
    })
    .unwrap();
    assert_eq!(counter.n, 1);
    for src in ["g:inc()", "saved[1]:get()", "return saved[1].n"] {
        let e = lua.load(src).exec().unwrap_err();
        assert!(is_destructed_userdata(&e), "{src}: {e:?}");
    }
    let ud = stashed.borrow_mut().take().unwrap();
    assert!(matches!(
        ud.borrow_mut_scoped::<Counter, _>(|c| c.n = 99),
        Err(Error::UserDataDestructed)
    ));
    assert_eq!(counter.n, 1);
}

#[test]
fn a_recursive_mut_callback_is_an_error() {
    let lua = Lua::new();
    let mut depth = 0;
    lua.scope(|scope| {
        let f = scope.create_function_mut(|lua, ()| {
            depth += 1;
            lua.load("return f()").exec()
        })?;
        lua.globals().set("f", f)?;
        let e = lua.load("f()").exec().unwrap_err();
        assert!(matches!(e.root_cause(), Error::RecursiveMutCallback), "{e:?}");
        Ok(())
    })
    .unwrap();
    assert_eq!(depth, 1);
}

#[test]
fn scopes_nest_and_end_in_order() {
    let lua = Lua::new();
    let (a, b) = (Cell::new(0), Cell::new(0));
    let (outer_f, inner_f) = lua
        .scope(|outer| {
            let fa = outer.create_function(|_, ()| {
                a.set(a.get() + 1);
                Ok(())
            })?;
            let fb = lua.scope(|inner| {
                let fb = inner.create_function(|_, ()| {
                    b.set(b.get() + 1);
                    Ok(())
                })?;
                fa.call::<()>(())?;
                fb.call::<()>(())?;
                Ok(fb)
            })?;
            // The inner scope is over, the outer one is not.
            assert!(is_destructed_callback(&fb.call::<()>(()).unwrap_err()));
            fa.call::<()>(())?;
            Ok((fa, fb))
        })
        .unwrap();
    assert!(is_destructed_callback(&outer_f.call::<()>(()).unwrap_err()));
    assert!(is_destructed_callback(&inner_f.call::<()>(()).unwrap_err()));
    assert_eq!((a.get(), b.get()), (2, 1));
}

/// A scope opened inside a callback (its `&Lua` is a view of the state).
#[test]
fn a_scope_inside_a_callback() {
    let lua = Lua::new();
    let f = lua
        .create_function(|lua, n: i64| {
            let local = n * 2;
            lua.scope(|scope| {
                let g = scope.create_function(|_, ()| Ok(local))?;
                g.call::<i64>(())
            })
        })
        .unwrap();
    lua.globals().set("f", f).unwrap();
    assert_eq!(lua.load("return f(21)").eval::<i64>().unwrap(), 42);
}

#[test]
fn destructors_run_after_invalidation() {
    let lua = Lua::new();
    let order = RefCell::new(Vec::new());
    let f = lua
        .scope(|scope| {
            let f = scope.create_function(|_, ()| Ok(()))?;
            let g = f.clone();
            let order = &order;
            scope.add_destructor(move || {
                order.borrow_mut().push(g.call::<()>(()).is_err());
            });
            scope.add_destructor(move || order.borrow_mut().push(true));
            Ok(f)
        })
        .unwrap();
    assert_eq!(*order.borrow(), [true, true]);
    assert!(f.call::<()>(()).is_err());
}

/// Scoped callbacks and lent userdata used from a coroutine, and after the scope.
#[test]
fn scoped_values_in_coroutines() {
    let lua = Lua::new();
    let mut counter = Counter { n: 0 };
    lua.scope(|scope| {
        let ud = scope.create_userdata_ref_mut(&mut counter)?;
        let step = scope.create_function(|_, ()| Ok(1))?;
        lua.globals().set("c", ud)?;
        lua.globals().set("step", step)?;
        lua.load(
            "co = coroutine.wrap(function() while true do c:inc(step()) coroutine.yield(c.n) end end)
             co() co()",
        )
        .exec()
    })
    .unwrap();
    assert_eq!(counter.n, 2);
    let e = lua.load("co()").exec().unwrap_err();
    assert!(is_destructed_userdata(&e) || is_destructed_callback(&e), "{e:?}");
}

/// Under a memory limit a scope's entry points fail with a memory error, never
/// panic, and what was made is still invalidated.
#[test]
fn scope_under_a_memory_limit() {
    let lua = Lua::new();
    let mut counter = Counter { n: 0 };
    let base = lua.memory_footprint();
    lua.set_memory_limit(base + 64 * 1024).unwrap();
    let made = RefCell::new(Vec::new());
    let token = Rc::new(());
    let r = lua.scope(|scope| {
        loop {
            let t = token.clone();
            made.borrow_mut()
                .push(scope.create_function(move |_, ()| Ok(Rc::strong_count(&t)))?);
        }
        #[allow(unreachable_code)]
        Ok(())
    });
    assert!(matches!(r, Err(Error::MemoryError(_))), "{r:?}");
    assert!(made.borrow().len() > 10);
    // Every closure was dropped, the one whose function could not be made included.
    assert_eq!(Rc::strong_count(&token), 1);
    lua.set_memory_limit(0).unwrap();
    for f in made.borrow().iter() {
        assert!(is_destructed_callback(&f.call::<()>(()).unwrap_err()));
    }
    made.borrow_mut().clear();
    lua.scope(|scope| {
        let ud = scope.create_userdata_ref_mut(&mut counter)?;
        ud.borrow_mut_scoped::<Counter, _>(|c| c.n = 5)
    })
    .unwrap();
    assert_eq!(counter.n, 5);
}
