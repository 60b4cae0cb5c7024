//! Application data: one Rust value per type attached to a state
//! ([`Lua::set_app_data`], mlua's app data).
//!
//! The values live in a map from `TypeId` to an `Rc` of an [`AppCell`] (a borrow
//! counter and the value), kept in the state's block and dropped when the state
//! closes. Borrows are checked at run time like a `RefCell`'s, but a conflict is an
//! answer (`None`, `Err`), never a panic. Invariants:
//! - the map's `RefCell` is borrowed only inside the functions below, which run no
//!   user code while it is borrowed: a value taken out of the map is dropped after
//!   the borrow ends (its `Drop` may use the state again);
//! - a guard holds an `Rc` of its cell, so a value replaced or removed while
//!   borrowed lives until the last guard is dropped; a value is moved out of its
//!   cell only when the `Rc` is unique, i.e. no guard exists.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use super::state::Lua;

/// A value and its borrow count (> 0: shared borrows; -1: borrowed mutably).
struct AppCell<T> {
    borrow: Cell<isize>,
    value: UnsafeCell<T>,
}

/// The app data of one state.
#[derive(Default)]
pub(crate) struct AppData(RefCell<HashMap<TypeId, Rc<dyn Any>>>);

impl AppData {
    /// The cell of `T`, if there is one.
    fn get<T: 'static>(&self) -> Option<Rc<AppCell<T>>> {
        let map = self.0.try_borrow().ok()?;
        let any = map.get(&TypeId::of::<T>())?.clone();
        drop(map);
        any.downcast::<AppCell<T>>().ok()
    }

    /// Take the whole map out (at close), to be dropped by the caller after the
    /// borrow ends.
    pub(crate) fn take_all(&self) -> HashMap<TypeId, Rc<dyn Any>> {
        self.0
            .try_borrow_mut()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

/// The value out of a cell nobody else holds; the cell back if someone does.
fn unwrap_cell<T: 'static>(any: Rc<dyn Any>) -> Option<std::result::Result<T, Rc<dyn Any>>> {
    let cell = any.downcast::<AppCell<T>>().ok()?;
    Some(match Rc::try_unwrap(cell) {
        Ok(cell) => Ok(cell.value.into_inner()),
        Err(cell) => Err(cell),
    })
}

impl Lua {
    /// Attach `data` to the state, replacing the value of the same type, which is
    /// returned, unless it is borrowed at this moment: it then stays alive until
    /// its last borrow ends and `None` is returned (mlua panics there; see
    /// [`Lua::try_set_app_data`]). Dropped when the state closes.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// assert_eq!(lua.set_app_data("config"), None);
    /// assert_eq!(lua.set_app_data("other"), Some("config"));
    /// assert_eq!(*lua.app_data_ref::<&str>().unwrap(), "other");
    /// ```
    pub fn set_app_data<T: 'static>(&self, data: T) -> Option<T> {
        let old = self.insert_app_data(data)?;
        unwrap_cell::<T>(old)?.ok()
    }

    /// Like [`Lua::set_app_data`], but fails (giving `data` back) if the value of
    /// this type is borrowed.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.set_app_data(1_u32);
    /// let r = lua.app_data_ref::<u32>().unwrap();
    /// assert_eq!(lua.try_set_app_data(2_u32), Err(2));
    /// drop(r);
    /// assert_eq!(lua.try_set_app_data(2_u32), Ok(Some(1)));
    /// ```
    pub fn try_set_app_data<T: 'static>(&self, data: T) -> std::result::Result<Option<T>, T> {
        if self.raw().app_data.get::<T>().is_some_and(|c| c.borrow.get() != 0) {
            return Err(data);
        }
        Ok(self.set_app_data(data))
    }

    fn insert_app_data<T: 'static>(&self, data: T) -> Option<Rc<dyn Any>> {
        let cell: Rc<dyn Any> = Rc::new(AppCell {
            borrow: Cell::new(0),
            value: UnsafeCell::new(data),
        });
        let mut map = self.raw().app_data.0.try_borrow_mut().ok()?;
        // The old value (returned) is dropped by the caller, after the borrow ends.
        map.insert(TypeId::of::<T>(), cell)
    }

    /// A shared borrow of the value of type `T`: `None` if there is none or it is
    /// borrowed mutably (mlua panics there).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.set_app_data(vec![1, 2]);
    /// let f = lua.create_function(|lua, ()| {
    ///     Ok(lua.app_data_ref::<Vec<i32>>().map_or(0, |v| v.len()))
    /// })?;
    /// assert_eq!(f.call::<usize>(())?, 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn app_data_ref<T: 'static>(&self) -> Option<AppDataRef<T>> {
        let cell = self.raw().app_data.get::<T>()?;
        let b = cell.borrow.get();
        if b < 0 || b == isize::MAX {
            return None;
        }
        cell.borrow.set(b + 1);
        Some(AppDataRef { cell })
    }

    /// A mutable borrow of the value of type `T`: `None` if there is none or it is
    /// borrowed.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.set_app_data(0_u64);
    /// let count = lua.create_function(|lua, ()| {
    ///     let mut n = lua.app_data_mut::<u64>().ok_or_else(|| perilune::Error::runtime("no counter"))?;
    ///     *n += 1;
    ///     Ok(*n)
    /// })?;
    /// lua.globals().set("count", count)?;
    /// assert_eq!(lua.load("count() return count()").eval::<u64>()?, 2);
    /// let n = lua.app_data_mut::<u64>().unwrap();
    /// assert!(lua.app_data_ref::<u64>().is_none());
    /// assert!(lua.load("count()").exec().is_err());
    /// drop(n);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn app_data_mut<T: 'static>(&self) -> Option<AppDataRefMut<T>> {
        let cell = self.raw().app_data.get::<T>()?;
        if cell.borrow.get() != 0 {
            return None;
        }
        cell.borrow.set(-1);
        Some(AppDataRefMut { cell })
    }

    /// Remove the value of type `T` and return it; `None` if there is none, or if
    /// it is borrowed (then it stays).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.set_app_data(String::from("x"));
    /// assert_eq!(lua.remove_app_data::<String>().as_deref(), Some("x"));
    /// assert!(lua.app_data_ref::<String>().is_none());
    /// ```
    pub fn remove_app_data<T: 'static>(&self) -> Option<T> {
        let app = &self.raw().app_data;
        if app.get::<T>()?.borrow.get() != 0 {
            return None;
        }
        let old = app.0.try_borrow_mut().ok()?.remove(&TypeId::of::<T>())?;
        // No guard exists (the count is 0 and nothing ran since), so the cell is
        // unique; the value is moved out after the map's borrow ended.
        unwrap_cell::<T>(old)?.ok()
    }
}

/// A shared borrow of app data ([`Lua::app_data_ref`]).
pub struct AppDataRef<T: 'static> {
    cell: Rc<AppCell<T>>,
}

impl<T: 'static> Deref for AppDataRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a shared borrow is counted, so no `&mut T` exists while `self`
        // lives; the `Rc` keeps the cell alive.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T: 'static> Drop for AppDataRef<T> {
    fn drop(&mut self) {
        self.cell.borrow.set(self.cell.borrow.get() - 1);
    }
}

/// A mutable borrow of app data ([`Lua::app_data_mut`]).
pub struct AppDataRefMut<T: 'static> {
    cell: Rc<AppCell<T>>,
}

impl<T: 'static> Deref for AppDataRefMut<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this is the only borrow (the count is -1); the `Rc` keeps the
        // cell alive.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T: 'static> DerefMut for AppDataRefMut<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above: no other reference to the value exists.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T: 'static> Drop for AppDataRefMut<T> {
    fn drop(&mut self) {
        self.cell.borrow.set(0);
    }
}

debug_as_target!(AppDataRef, AppDataRefMut);
