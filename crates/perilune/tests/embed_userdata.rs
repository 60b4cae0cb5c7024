//! Embedding API: userdata with methods, fields, metamethods and borrow checks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use perilune::{AnyUserData, Error, Lua, MetaMethod, UserData, UserDataFields, UserDataMethods, UserDataRef};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Vec2(f64, f64);

impl UserData for Vec2 {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("x", |_, v| Ok(v.0));
        fields.add_field_method_set("x", |_, v, x: f64| {
            v.0 = x;
            Ok(())
        });
        fields.add_field("kind", "vec2");
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("len", |_, v, ()| Ok((v.0 * v.0 + v.1 * v.1).sqrt()));
        methods.add_method_mut("scale", |_, v, k: f64| {
            v.0 *= k;
            v.1 *= k;
            Ok(())
        });
        methods.add_function("new", |_, (x, y): (f64, f64)| Ok(Vec2(x, y)));
        methods.add_meta_function(MetaMethod::Add, |_, (a, b): (UserDataRef<Vec2>, UserDataRef<Vec2>)| {
            Ok(Vec2(a.0 + b.0, a.1 + b.1))
        });
        methods.add_meta_method(MetaMethod::ToString, |_, v, ()| Ok(format!("({}, {})", v.0, v.1)));
        methods.add_meta_method("__eq", |_, a, b: UserDataRef<Vec2>| Ok(*a == *b));
        // Calls a Lua callback while holding a mutable borrow of itself.
        methods.add_method_mut("with_callback", |_, _v, f: perilune::Function| f.call::<()>(()));
    }
}

#[test]
fn methods_fields_metamethods() {
    let lua = Lua::new();
    lua.globals().set("a", Vec2(3.0, 4.0)).unwrap();
    assert_eq!(lua.load("a:len()").eval::<f64>().unwrap(), 5.0);
    assert_eq!(lua.load("a.x").eval::<f64>().unwrap(), 3.0);
    assert_eq!(lua.load("a.kind").eval::<String>().unwrap(), "vec2");
    lua.load("a.x = 6 a:scale(0.5)").exec().unwrap();
    let a: AnyUserData = lua.globals().get("a").unwrap();
    assert_eq!(*a.borrow::<Vec2>().unwrap(), Vec2(3.0, 2.0));
    assert_eq!(
        lua.load("tostring(a + a.new(1, 1))").eval::<String>().unwrap(),
        "(4, 3)"
    );
    assert!(lua.load("a == a.new(3, 2)").eval::<bool>().unwrap());
    // Unknown fields: reading gives nil, writing is an error.
    assert!(lua.load("a.nope").eval::<Option<f64>>().unwrap().is_none());
    assert!(lua.load("a.nope = 1").exec().is_err());
    // The metatable is protected.
    assert!(!lua.load("getmetatable(a)").eval::<bool>().unwrap());
}

#[test]
fn wrong_types_are_errors() {
    let lua = Lua::new();
    lua.globals().set("a", Vec2(1.0, 1.0)).unwrap();
    // Method called with `.` instead of `:`.
    let e = lua.load("a.len()").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::FromLuaConversionError { .. }), "{e:?}");
    // Method called on another userdata type.
    let other = lua.create_any_userdata(5u8).unwrap();
    lua.globals().set("o", other.clone()).unwrap();
    let e = lua.load("a.len(o)").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::UserDataTypeMismatch), "{e:?}");
    // newproxy sharing the metatable does not fool the type check.
    let e = lua.load("local p = newproxy(a) return p:len()").exec();
    assert!(e.is_err());
    assert!(matches!(other.borrow::<Vec2>(), Err(Error::UserDataTypeMismatch)));
    assert!(other.is::<u8>());
    assert!(!other.is::<u16>());
}

#[test]
fn recursive_borrow_is_an_error() {
    let lua = Lua::new();
    lua.globals().set("a", Vec2(1.0, 2.0)).unwrap();
    let e = lua
        .load("a:with_callback(function() a:scale(2) end)")
        .exec()
        .unwrap_err();
    let root = e.root_cause();
    assert!(
        matches!(root, Error::UserDataBorrowMutError | Error::RecursiveMutCallback),
        "{e:?}"
    );
    let e = lua
        .load("a:with_callback(function() return a:len() end)")
        .exec()
        .unwrap_err();
    assert!(matches!(e.root_cause(), Error::UserDataBorrowError), "{e:?}");
    // Rust-side borrows.
    let a: AnyUserData = lua.globals().get("a").unwrap();
    let r1 = a.borrow::<Vec2>().unwrap();
    let r2 = a.borrow::<Vec2>().unwrap();
    assert!(matches!(a.borrow_mut::<Vec2>(), Err(Error::UserDataBorrowMutError)));
    // Lua calling a mutating method while Rust holds a shared borrow.
    assert!(lua.load("a:scale(2)").exec().is_err());
    assert_eq!(lua.load("a:len()").eval::<f64>().unwrap(), (5.0f64).sqrt());
    drop((r1, r2));
    let mut w = a.borrow_mut::<Vec2>().unwrap();
    w.0 = 10.0;
    assert!(matches!(a.borrow::<Vec2>(), Err(Error::UserDataBorrowError)));
    drop(w);
    assert_eq!(lua.load("a.x").eval::<f64>().unwrap(), 10.0);
}

#[test]
fn take_and_destructed() {
    let lua = Lua::new();
    let ud = lua.create_userdata(Vec2(1.0, 0.0)).unwrap();
    lua.globals().set("a", ud.clone()).unwrap();
    let v = ud.take::<Vec2>().unwrap();
    assert_eq!(v, Vec2(1.0, 0.0));
    assert!(matches!(ud.borrow::<Vec2>(), Err(Error::UserDataDestructed)));
    assert!(matches!(ud.take::<Vec2>(), Err(Error::UserDataDestructed)));
    let e = lua.load("a:len()").exec().unwrap_err();
    assert!(matches!(e.root_cause(), Error::UserDataDestructed), "{e:?}");
}

struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
impl UserData for Counted {}

#[test]
fn userdata_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let lua = Lua::new();
    for _ in 0..10 {
        lua.create_userdata(Counted(drops.clone())).unwrap();
    }
    lua.gc_collect().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 10);
    // Taken values are dropped by Rust, not again by the collector.
    let ud = lua.create_userdata(Counted(drops.clone())).unwrap();
    let c = ud.take::<Counted>().unwrap();
    drop(ud);
    lua.gc_collect().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 10);
    drop(c);
    assert_eq!(drops.load(Ordering::SeqCst), 11);
    // Reachable at close: dropped at close.
    lua.globals().set("keep", Counted(drops.clone())).unwrap();
    drop(lua);
    assert_eq!(drops.load(Ordering::SeqCst), 12);
}

struct PanicsOnDrop;
impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("drop panics");
    }
}

#[test]
fn panicking_drop_does_not_unwind_into_collector() {
    let lua = Lua::new();
    lua.create_any_userdata(PanicsOnDrop).unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(lua.load("1").eval::<i32>().unwrap(), 1);
}

struct Restricted;
impl UserData for Restricted {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method("__gc", |_, _, ()| Ok(()));
    }
}

#[test]
fn restricted_metamethods() {
    let lua = Lua::new();
    assert!(matches!(
        lua.create_userdata(Restricted),
        Err(Error::MetaMethodRestricted(_))
    ));
}

struct Grid {
    cells: Vec<i32>,
}
impl UserData for Grid {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |_, g, i: usize| {
            Ok(g.cells.get(i.wrapping_sub(1)).copied())
        });
        methods.add_meta_method_mut(MetaMethod::NewIndex, |_, g, (i, v): (usize, i32)| {
            if let Some(c) = g.cells.get_mut(i.wrapping_sub(1)) {
                *c = v;
            }
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Len, |_, g, ()| Ok(g.cells.len()));
        methods.add_method("sum", |_, g, ()| Ok(g.cells.iter().sum::<i32>()));
    }
}

#[test]
fn index_and_newindex_fallbacks() {
    let lua = Lua::new();
    lua.globals().set("g", Grid { cells: vec![1, 2, 3] }).unwrap();
    assert_eq!(lua.load("g[2]").eval::<i32>().unwrap(), 2);
    lua.load("g[3] = 30").exec().unwrap();
    assert_eq!(lua.load("g:sum()").eval::<i32>().unwrap(), 33);
    assert_eq!(lua.load("#g").eval::<i32>().unwrap(), 3);
}

#[test]
fn setting_an_unknown_field_names_it() {
    let lua = Lua::new();
    lua.globals().set("v", Vec2(1.0, 2.0)).unwrap();
    let msg: String = lua
        .load("local ok, e = pcall(function() v.y = 3 end) return e")
        .eval()
        .unwrap();
    assert_eq!(
        msg,
        "[string \"local ok, e = pcall(function() v.y = 3 end) r...\"]:1: attempt to set unknown field 'y' of userdata"
    );
}
