//! Embedding API: app data (`set_app_data` and friends) and named registry values.

use std::cell::Cell;
use std::rc::Rc;

use perilune::{Error, Lua, LuaOptions, StdLib, Table, WeakLua};

struct Dropped(Rc<Cell<u32>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn set_get_replace_remove() {
    let lua = Lua::new();
    assert!(lua.app_data_ref::<String>().is_none());
    assert!(lua.set_app_data(String::from("a")).is_none());
    assert_eq!(lua.set_app_data(String::from("b")).as_deref(), Some("a"));
    lua.set_app_data(7_i32);
    assert_eq!(*lua.app_data_ref::<String>().unwrap(), "b");
    assert_eq!(*lua.app_data_ref::<i32>().unwrap(), 7);
    lua.app_data_mut::<String>().unwrap().push('!');
    assert_eq!(lua.remove_app_data::<String>().as_deref(), Some("b!"));
    assert!(lua.remove_app_data::<String>().is_none());
    assert_eq!(*lua.app_data_ref::<i32>().unwrap(), 7);
}

#[test]
fn borrows_are_checked_not_panics() {
    let lua = Lua::new();
    lua.set_app_data(vec![1]);
    let r1 = lua.app_data_ref::<Vec<i32>>().unwrap();
    let r2 = lua.app_data_ref::<Vec<i32>>().unwrap();
    assert!(lua.app_data_mut::<Vec<i32>>().is_none());
    assert!(lua.remove_app_data::<Vec<i32>>().is_none(), "a borrowed value stays");
    assert_eq!(lua.try_set_app_data(vec![2]), Err(vec![2]));
    assert_eq!(r1.len() + r2.len(), 2);
    drop((r1, r2));
    let mut w = lua.app_data_mut::<Vec<i32>>().unwrap();
    assert!(lua.app_data_ref::<Vec<i32>>().is_none());
    assert!(lua.app_data_mut::<Vec<i32>>().is_none());
    w.push(2);
    drop(w);
    assert_eq!(*lua.app_data_ref::<Vec<i32>>().unwrap(), [1, 2]);
}

#[test]
fn replacing_a_borrowed_value_keeps_it_alive_until_the_borrow_ends() {
    let drops = Rc::new(Cell::new(0));
    let lua = Lua::new();
    lua.set_app_data(Dropped(drops.clone()));
    let old = lua.app_data_ref::<Dropped>().unwrap();
    assert!(lua.set_app_data(Dropped(drops.clone())).is_none());
    assert_eq!(drops.get(), 0);
    assert_eq!(old.0.get(), 0, "the old value is still readable");
    drop(old);
    assert_eq!(drops.get(), 1);
    drop(lua);
    assert_eq!(drops.get(), 2, "the state drops its app data when it closes");
}

#[test]
fn callbacks_reach_app_data() {
    let lua = Lua::new();
    lua.set_app_data(0_u64);
    let count = lua
        .create_function(|lua, ()| {
            let mut n = lua
                .app_data_mut::<u64>()
                .ok_or_else(|| Error::runtime("counter busy"))?;
            *n += 1;
            Ok(*n)
        })
        .unwrap();
    lua.globals().set("count", count).unwrap();
    assert_eq!(lua.load("count() count() return count()").eval::<u64>().unwrap(), 3);
    let held = lua.app_data_mut::<u64>().unwrap();
    let e = lua.load("count()").exec().unwrap_err();
    assert!(e.to_string().contains("counter busy"), "{e}");
    drop(held);
    assert_eq!(*lua.app_data_ref::<u64>().unwrap(), 3);
    // Clones share the app data: it is the state's.
    let other = lua.clone();
    assert_eq!(*other.app_data_ref::<u64>().unwrap(), 3);
}

/// A value whose `Drop` reaches for the state while the app data is dropped at
/// close (through a `WeakLua`: a `Lua` inside its own state's app data would be a
/// cycle that keeps the state open).
struct UsesState(WeakLua, Rc<Cell<bool>>);

impl Drop for UsesState {
    fn drop(&mut self) {
        // The state is closed by now: an error, not a panic or a re-borrow.
        assert!(matches!(self.0.upgrade(), Err(Error::StateDestroyed)));
        self.1.set(true);
    }
}

#[test]
fn app_data_dropped_at_close_may_use_the_api() {
    let lua = Lua::new();
    let dropped = Rc::new(Cell::new(false));
    lua.set_app_data(UsesState(lua.weak(), dropped.clone()));
    drop(lua);
    assert!(dropped.get());
}

#[test]
fn named_registry_values() {
    let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new()).unwrap();
    lua.set_named_registry_value("host.config", lua.create_table_from([("depth", 3)]).unwrap())
        .unwrap();
    let t: Table = lua.named_registry_value("host.config").unwrap();
    assert_eq!(t.get::<i32>("depth").unwrap(), 3);
    // It is the Lua registry: a trusted script sees it there.
    let depth: i32 = lua
        .load("return debug.getregistry()['host.config'].depth")
        .eval()
        .unwrap();
    assert_eq!(depth, 3);
    lua.unset_named_registry_value("host.config").unwrap();
    assert!(lua
        .named_registry_value::<Option<Table>>("host.config")
        .unwrap()
        .is_none());
    // A value of another state is refused.
    let other = Lua::new();
    let foreign = other.create_table().unwrap();
    assert!(matches!(
        lua.set_named_registry_value("x", foreign),
        Err(Error::MismatchedState)
    ));
}

#[test]
fn replace_and_expire_registry_values() {
    let lua = Lua::new();
    let mut key = lua.create_registry_value("old").unwrap();
    lua.replace_registry_value(&mut key, 42).unwrap();
    assert_eq!(lua.registry_value::<i32>(&key).unwrap(), 42);
    let other = Lua::new();
    let mut foreign = other.create_registry_value(1).unwrap();
    assert!(matches!(
        lua.replace_registry_value(&mut foreign, 2),
        Err(Error::MismatchedRegistryKey)
    ));
    let before = lua.live_handles().unwrap();
    drop(key);
    lua.expire_registry_values();
    assert_eq!(lua.live_handles().unwrap(), before - 1);
}
