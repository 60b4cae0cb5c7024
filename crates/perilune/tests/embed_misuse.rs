//! Embedding API misuse: each a clear error, never a panic or undefined behaviour.
//!
//! - handles used after the last `Lua` clone is dropped (`Error::StateDestroyed`),
//!   and their drops then (nothing happens);
//! - values and registry keys given to a state they do not belong to;
//! - userdata borrowed twice;
//! - a `Lua` clone that escapes the closing of its state.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use perilune::{
    AnyUserData, Error, Function, Lua, LuaString, Table, Thread, ThreadStatus, UserData, UserDataMethods, Value,
};

/// A value whose drop is observed: the state drops it when it closes.
struct Canary(Rc<Cell<bool>>);

impl Drop for Canary {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

impl UserData for Canary {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("alive", |_, _, ()| Ok(true));
        methods.add_method_mut("poke", |_, _, f: Function| f.call::<()>(()));
        methods.add_method_mut("touch", |_, _, ()| Ok(()));
    }
}

fn is_destroyed<T>(r: perilune::Result<T>) -> bool {
    matches!(r.err(), Some(Error::StateDestroyed))
}

#[test]
fn the_state_lives_while_any_clone_does() {
    let dropped = Rc::new(Cell::new(false));
    let lua = Lua::new();
    lua.globals().set("c", Canary(dropped.clone())).unwrap();
    let other = lua.clone();
    assert_eq!(other, lua);
    drop(lua);
    assert!(!dropped.get(), "a clone is alive: the state must stay open");
    assert!(other.load("return c:alive()").eval::<bool>().unwrap());
    drop(other);
    assert!(dropped.get(), "the last clone closes the state");
}

#[test]
fn handles_after_the_state_is_gone_are_errors() {
    let lua = Lua::new();
    let t: Table = lua.load("return {1, 2, x = 3}").eval().unwrap();
    let f: Function = lua.load("return function(a) return a end").eval().unwrap();
    let s: LuaString = lua.create_string("text").unwrap();
    let co: Thread = lua.load("return coroutine.create(function() end)").eval().unwrap();
    let ud: AnyUserData = lua.create_any_userdata(5_i32).unwrap();
    let v: Value = lua.load("return {}").eval().unwrap();
    let weak = lua.weak();
    let t2 = t.clone();
    drop(lua);

    assert!(is_destroyed(t.get::<i32>("x")));
    assert!(is_destroyed(t.set("y", 1)));
    assert!(is_destroyed(t.raw_get::<i32>(1)));
    assert!(is_destroyed(t.raw_set(1, 1)));
    assert!(is_destroyed(t.get_metatable()));
    assert!(is_destroyed(t.set_metatable(None)));
    assert!(is_destroyed(t.contains_key(1)));
    assert!(matches!(
        t.pairs::<Value, Value>().next(),
        Some(Err(Error::StateDestroyed))
    ));
    assert!(matches!(
        t.sequence_values::<i32>().next(),
        Some(Err(Error::StateDestroyed))
    ));
    assert_eq!(t.raw_len(), 0);
    assert!(t.is_empty());
    assert!(is_destroyed(f.call::<i32>(1)));
    assert!(is_destroyed(s.to_str()));
    assert!(is_destroyed(s.try_as_bytes()));
    assert!(s.as_bytes().is_empty());
    assert_eq!(s.to_string_lossy(), "");
    assert!(is_destroyed(co.resume::<()>(())));
    assert_eq!(co.status(), ThreadStatus::Error);
    assert!(is_destroyed(ud.borrow::<i32>()));
    assert!(is_destroyed(ud.borrow_mut::<i32>()));
    assert!(is_destroyed(ud.take::<i32>()));
    assert!(!ud.is::<i32>());
    assert!(weak.try_upgrade().is_none());
    assert!(is_destroyed(weak.upgrade()));
    // Formatting and comparing never read freed memory.
    let _ = format!("{t:?} {f:?} {s:?} {co:?} {ud:?} {v:?}");
    assert_eq!(t, t2);
    // Clones and drops after the state is gone do nothing.
    let t3 = t2.clone();
    drop((t, t2, t3, f, s, co, ud, v));
}

#[test]
fn a_handle_of_a_closed_state_given_to_another_is_an_error() {
    let a = Lua::new();
    let t = a.create_table().unwrap();
    drop(a);
    let b = Lua::new();
    assert!(is_destroyed(b.globals().set("t", &t)));
    assert!(is_destroyed(b.create_registry_value(t)));
}

#[test]
fn values_of_another_state_are_refused() {
    let a = Lua::new();
    let b = Lua::new();
    let t = a.create_table().unwrap();
    let f = a.create_function(|_, ()| Ok(1)).unwrap();
    let s = a.create_string("x").unwrap();
    assert!(matches!(b.globals().set("t", &t), Err(Error::MismatchedState)));
    assert!(matches!(b.globals().set(&s, 1), Err(Error::MismatchedState)));
    assert!(matches!(b.create_thread(f.clone()), Err(Error::MismatchedState)));
    assert!(matches!(b.create_registry_value(&f), Err(Error::MismatchedState)));
    assert_eq!(f.call::<i32>(&t).unwrap(), 1); // its own state's values are fine
    assert!(matches!(
        b.create_table().unwrap().set_metatable(Some(t.clone())),
        Err(Error::MismatchedState)
    ));
    assert!(matches!(
        b.load("return 1").set_environment(t).exec(),
        Err(Error::MismatchedState)
    ));
    assert!(matches!(
        b.unpack::<String>(Value::String(s)),
        Err(Error::MismatchedState)
    ));
    // Both states are still usable.
    assert_eq!(a.load("return 1 + 1").eval::<i32>().unwrap(), 2);
    assert_eq!(b.load("return 2 + 2").eval::<i32>().unwrap(), 4);
}

#[test]
fn a_registry_key_of_another_state_is_an_error() {
    let a = Lua::new();
    let b = Lua::new();
    let key = a.create_registry_value("of a").unwrap();
    assert!(matches!(
        b.registry_value::<String>(&key),
        Err(Error::MismatchedRegistryKey)
    ));
    assert!(!b.owns_registry_value(&key));
    assert!(a.owns_registry_value(&key));
    assert_eq!(a.registry_value::<String>(&key).unwrap(), "of a");
    assert!(matches!(
        b.remove_registry_value(key),
        Err(Error::MismatchedRegistryKey)
    ));
    // A key outliving its state: dropping it is harmless.
    let key = a.create_registry_value(1).unwrap();
    drop(a);
    drop(key);
}

#[test]
fn userdata_borrowed_twice() {
    let lua = Lua::new();
    let ud = lua.create_any_userdata(vec![1]).unwrap();
    let w = ud.borrow_mut::<Vec<i32>>().unwrap();
    assert!(matches!(
        ud.borrow_mut::<Vec<i32>>(),
        Err(Error::UserDataBorrowMutError)
    ));
    assert!(matches!(ud.borrow::<Vec<i32>>(), Err(Error::UserDataBorrowError)));
    assert!(matches!(ud.take::<Vec<i32>>(), Err(Error::UserDataBorrowMutError)));
    drop(w);
    let r1 = ud.borrow::<Vec<i32>>().unwrap();
    let r2 = ud.borrow::<Vec<i32>>().unwrap();
    assert!(matches!(
        ud.borrow_mut::<Vec<i32>>(),
        Err(Error::UserDataBorrowMutError)
    ));
    assert_eq!(r1.len() + r2.len(), 2);
    drop((r1, r2));
    assert_eq!(ud.take::<Vec<i32>>().unwrap(), [1]);
    assert!(matches!(ud.borrow::<Vec<i32>>(), Err(Error::UserDataDestructed)));
}

#[test]
fn a_mutable_method_reentered_from_lua_is_an_error() {
    let lua = Lua::new();
    lua.globals().set("c", Canary(Rc::new(Cell::new(false)))).unwrap();
    // `poke` holds `&mut` while it calls back into Lua, which calls `touch`, which
    // wants `&mut` too.
    let e = lua.load("c:poke(function() c:touch() end)").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::UserDataBorrowMutError), "{e:?}");
    // The same method again: the `FnMut` itself is running.
    let e = lua
        .load("c:poke(function() c:poke(function() end) end)")
        .exec()
        .unwrap_err();
    assert!(matches!(e.root_cause(), Error::RecursiveMutCallback), "{e:?}");
    // And while Rust holds a borrow, Lua's mutable method is refused.
    let ud: AnyUserData = lua.globals().get("c").unwrap();
    let r = ud.borrow::<Canary>().unwrap();
    let e = lua.load("c:poke(function() end)").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::UserDataBorrowMutError), "{e:?}");
    drop(r);
    lua.load("c:poke(function() end)").exec().unwrap();
}

#[test]
fn a_borrow_keeps_the_state_open() {
    let dropped = Rc::new(Cell::new(false));
    let lua = Lua::new();
    let ud = lua.create_userdata(Canary(dropped.clone())).unwrap();
    let r = ud.borrow::<Canary>().unwrap();
    drop(lua);
    assert!(!dropped.get());
    assert!(!r.0.get());
    drop(r);
    assert!(dropped.get(), "dropping the borrow closed the state");
    assert!(is_destroyed(ud.borrow::<Canary>()));
}

#[test]
fn a_string_guard_keeps_the_state_open() {
    let lua = Lua::new();
    let s = lua.create_string("kept").unwrap();
    let bytes = s.as_bytes();
    let text = s.to_str().unwrap();
    drop(lua);
    assert_eq!(bytes, b"kept");
    assert_eq!(text, "kept");
    drop((bytes, text));
    assert!(s.as_bytes().is_empty());
}

thread_local! {
    static ESCAPED: RefCell<Option<Lua>> = const { RefCell::new(None) };
}

/// A finalizer run while the last `Lua` closes the state calls a Rust callback that
/// keeps a clone of its `&Lua`. The state is closed all the same; the escaped clone
/// reports it, and dropping it does nothing.
#[test]
fn a_clone_escaping_the_close_sees_a_destroyed_state() {
    let lua = Lua::new();
    let keep = lua
        .create_function(|lua, ()| {
            ESCAPED.with(|e| *e.borrow_mut() = Some(lua.clone()));
            Ok(())
        })
        .unwrap();
    lua.globals().set("keep", keep).unwrap();
    lua.load("local p = newproxy(true) getmetatable(p).__gc = function() keep() end _G.p = p")
        .exec()
        .unwrap();
    drop(lua);
    let escaped = ESCAPED
        .with(|e| e.borrow_mut().take())
        .expect("the finalizer ran at close");
    assert!(is_destroyed(escaped.load("return 1").eval::<i32>()));
    assert!(is_destroyed(escaped.create_table()));
    assert!(is_destroyed(escaped.set_memory_limit(1 << 20)));
    assert_eq!(escaped.used_memory(), 0);
    let g = escaped.globals();
    assert!(is_destroyed(g.get::<Value>("keep")));
    drop(g);
    drop(escaped);
}

/// A callback that keeps a `WeakLua` (not a `Lua`, which would keep the state open
/// forever) can use it while the state is open.
#[test]
fn weak_links_in_callbacks() {
    let lua = Lua::new();
    let weak = lua.weak();
    let f = lua
        .create_function(move |_, ()| {
            let lua = weak.upgrade()?;
            lua.load("return 7").eval::<i32>()
        })
        .unwrap();
    assert_eq!(f.call::<i32>(()).unwrap(), 7);
    let dropped = Rc::new(Cell::new(false));
    lua.globals().set("c", Canary(dropped.clone())).unwrap();
    drop(lua);
    assert!(dropped.get(), "a WeakLua in a callback does not keep the state open");
    assert!(is_destroyed(f.call::<i32>(())));
}
