//! [`Lua::scope`] and [`Scope`]: Lua functions and userdata made from Rust values
//! that are not `'static` (closures borrowing the host's locals, `&T` and `&mut T`
//! lent to Lua), valid until the scope ends.
//!
//! # What it owns, and the invariants that make it sound
//!
//! - A scoped callback is a boxed closure of lifetime `'scope`, stored with its
//!   lifetime erased in a [`ScopedSlot`] that the scope and the Lua function (a
//!   plain `'static` callback, `Lua::create_function`) share. The function calls
//!   the closure only while the slot holds it; the scope takes every closure out and
//!   drops it when it ends, so no closure is called or dropped after `'scope`. A
//!   closure still in its slot when the slot is freed (which cannot happen: see
//!   below) is leaked, never dropped late.
//! - A lent userdata (`create_userdata_ref` and friends) holds a pointer to the
//!   host's `T` (`userdata::Lent`) behind the userdata's borrow counter and alive
//!   flag. The scope clears the flag when it ends; from then on every borrow and
//!   method call fails with [`Error::UserDataDestructed`] and the pointer is never
//!   read. `AnyUserData::borrow`/`borrow_mut`/`take`, whose results could outlive
//!   the scope, refuse a lent value.
//! - The scope ends in `Drop`, which also runs when the scope's body returns an
//!   error or panics (the `Scope` is a local of [`Lua::scope`]).
//! - Nothing made by the scope can be in use when it ends: a callback or a method
//!   borrow runs inside a call made from the scope's body, which has returned (or
//!   is unwinding past them) when the scope drops; a Rust callback cannot yield, so
//!   no such call is suspended in a coroutine; `Lua` is `!Send`, so no other thread
//!   is inside one.
//! - `'scope` and `'env` are invariant and the body is a higher-ranked closure, so
//!   the body cannot smuggle the `&Scope` (or anything borrowing it) out.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::Rc;

use super::error::{Error, Result};
use super::function::Function;
use super::state::Lua;
use super::userdata::{end_lent, AnyUserData, UserData};
use super::value::{FromLuaMulti, IntoLuaMulti, MultiValue};

/// A scoped callback with its arguments and results already converted.
type ScopedFn<'a> = dyn Fn(&Lua, MultiValue) -> Result<MultiValue> + 'a;

/// Where a scoped callback lives while its scope lasts (`None` afterwards). The box's
/// real lifetime is the scope's; see the module documentation.
struct ScopedSlot(RefCell<Option<Box<ScopedFn<'static>>>>);

impl Drop for ScopedSlot {
    fn drop(&mut self) {
        // The scope took the closure out when it ended; if it could not (it was
        // running, which the module documentation shows impossible), dropping it now
        // could touch what it borrowed after `'scope`: leak it instead.
        if let Some(f) = self.0.get_mut().take() {
            std::mem::forget(f);
        }
    }
}

/// Ends a lent userdata's loan (monomorphised for its `T`).
type EndLent = fn(&AnyUserData);

fn end_lent_of<T: 'static>(ud: &AnyUserData) {
    if let Some(u) = ud.0.val.as_userdata() {
        // SAFETY: `ud`, held by the scope, keeps the userdata alive, and the scope's
        // `Lua` keeps the state open.
        unsafe { end_lent::<T>(u) }
    }
}

/// What [`Lua::scope`] gives its body: makes Lua functions and userdata from Rust
/// values that need not be `'static`, all of which stop working when the scope ends
/// (mlua's `Scope`).
///
/// Functions made here can still be called after the scope (a handle or a Lua
/// variable may keep them): the call fails with [`Error::CallbackDestructed`]. Lent
/// userdata then fail with [`Error::UserDataDestructed`].
pub struct Scope<'scope, 'env: 'scope> {
    lua: Lua,
    made: Made<'env>,
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// What a scope made, invalidated by its `Drop` (a field of `Scope` rather than
/// `Scope` itself, whose `Drop` would need `'scope` to outlive the scope).
struct Made<'env> {
    callbacks: RefCell<Vec<Rc<ScopedSlot>>>,
    lent: RefCell<Vec<(AnyUserData, EndLent)>>,
    destructors: RefCell<Vec<Box<dyn FnOnce() + 'env>>>,
}

impl Lua {
    /// Run `f` with a [`Scope`] that makes Lua functions and userdata from Rust
    /// values that are not `'static`: closures borrowing the caller's locals, and
    /// references lent to Lua. Everything the scope made stops working when `f`
    /// returns, also when it returns an error or panics: a function made by it
    /// fails with [`Error::CallbackDestructed`] ("a destructed callback or
    /// destructed userdata method was called"), a lent userdata with
    /// [`Error::UserDataDestructed`]. Scopes nest.
    ///
    /// ```
    /// use perilune::{Error, Function, Lua};
    /// let lua = Lua::new();
    /// let mut log = Vec::new();
    /// let kept: Function = lua.scope(|scope| {
    ///     let push = scope.create_function_mut(|_, s: String| {
    ///         log.push(s);
    ///         Ok(())
    ///     })?;
    ///     lua.globals().set("push", &push)?;
    ///     lua.load("push('a') push('b')").exec()?;
    ///     Ok(push)
    /// })?;
    /// assert_eq!(log, ["a", "b"]); // the borrow of `log` ended with the scope
    /// let e = kept.call::<()>("c").unwrap_err();
    /// assert!(matches!(e.root_cause(), Error::CallbackDestructed));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// The scope cannot leave its body, and what it lends must outlive the call:
    ///
    /// ```compile_fail
    /// let lua = perilune::Lua::new();
    /// let mut leaked = None;
    /// lua.scope(|scope| {
    ///     leaked = Some(scope);
    ///     Ok(())
    /// })?;
    /// # Ok::<(), perilune::Error>(())
    /// ```
    /// ```compile_fail
    /// let lua = perilune::Lua::new();
    /// lua.scope(|scope| {
    ///     let local = String::from("dropped at the end of the body");
    ///     scope.create_any_userdata_ref(&local)?;
    ///     Ok(())
    /// })?;
    /// # Ok::<(), perilune::Error>(())
    /// ```
    /// ```compile_fail
    /// let lua = perilune::Lua::new();
    /// lua.scope(|scope| {
    ///     let local = 5;
    ///     scope.create_function(|_, ()| Ok(local * 2))?;
    ///     Ok(())
    /// })?;
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn scope<'env, R>(&self, f: impl for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> Result<R>) -> Result<R> {
        let scope = Scope {
            lua: self.clone(),
            made: Made {
                callbacks: RefCell::new(Vec::new()),
                lent: RefCell::new(Vec::new()),
                destructors: RefCell::new(Vec::new()),
            },
            _scope: PhantomData,
            _env: PhantomData,
        };
        f(&scope)
    }
}

impl<'scope, 'env: 'scope> Scope<'scope, 'env> {
    /// [`Lua::create_function`] for a closure that lives only as long as the scope
    /// (it may borrow the caller's locals, and need not be `Send`).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let prefix = String::from("hello, ");
    /// let s: String = lua.scope(|scope| {
    ///     let greet = scope.create_function(|_, name: String| Ok(format!("{prefix}{name}")))?;
    ///     greet.call("moon")
    /// })?;
    /// assert_eq!(s, "hello, moon");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_function<F, A, R>(&'scope self, func: F) -> Result<Function>
    where
        F: Fn(&Lua, A) -> Result<R> + 'scope,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f: Box<ScopedFn<'scope>> = Box::new(move |lua, args| {
            let a = A::from_lua_args(args, 1, None, lua)?;
            func(lua, a)?.into_lua_multi(lua)
        });
        // SAFETY: only the lifetime bound changes (same layout). The scope takes the
        // box out of the slot and drops it when it ends, before `'scope` does, and
        // the function calls it only while the slot holds it; the slot never drops
        // it (module documentation).
        let f: Box<ScopedFn<'static>> =
            unsafe { std::mem::transmute::<Box<ScopedFn<'scope>>, Box<ScopedFn<'static>>>(f) };
        let slot = Rc::new(ScopedSlot(RefCell::new(Some(f))));
        let in_lua = slot.clone();
        let made = self.lua.create_function(move |lua, args: MultiValue| {
            let f = in_lua.0.borrow();
            match &*f {
                Some(f) => f(lua, args),
                None => Err(Error::CallbackDestructed),
            }
        });
        match made {
            Ok(func) => {
                self.made.callbacks.borrow_mut().push(slot);
                Ok(func)
            }
            Err(e) => {
                // Not made (a memory error): drop the closure now, which the slot
                // alone would leak.
                drop(slot.0.borrow_mut().take());
                Err(e)
            }
        }
    }

    /// [`Lua::create_function_mut`] for a closure that lives only as long as the
    /// scope. Calling it again while it runs fails with
    /// [`Error::RecursiveMutCallback`].
    pub fn create_function_mut<F, A, R>(&'scope self, func: F) -> Result<Function>
    where
        F: FnMut(&Lua, A) -> Result<R> + 'scope,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let func = RefCell::new(func);
        self.create_function(move |lua, args: A| {
            let mut f = func.try_borrow_mut().map_err(|_| Error::RecursiveMutCallback)?;
            (*f)(lua, args)
        })
    }

    /// A userdata lending `data` to Lua for the scope, with the methods and fields of
    /// `T` ([`Lua::create_userdata`]'s metatable). Read-only: methods taking
    /// `&mut T` fail with [`Error::UserDataBorrowMutError`].
    ///
    /// ```
    /// use perilune::{Lua, UserData, UserDataMethods};
    /// struct Config { level: u8 }
    /// impl UserData for Config {
    ///     fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
    ///         m.add_method("level", |_, c, ()| Ok(c.level));
    ///     }
    /// }
    /// let lua = Lua::new();
    /// let config = Config { level: 3 };
    /// let n: u8 = lua.scope(|scope| {
    ///     lua.globals().set("config", scope.create_userdata_ref(&config)?)?;
    ///     lua.load("return config:level()").eval()
    /// })?;
    /// assert_eq!(n, 3);
    /// // The script kept it: it is now an error, not a dangling reference.
    /// assert!(lua.load("return config:level()").exec().is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_userdata_ref<T: UserData + 'static>(&'scope self, data: &'env T) -> Result<AnyUserData> {
        let mt = self.lua.userdata_metatable::<T>()?;
        self.lend(NonNull::from(data), false, Some(mt))
    }

    /// A userdata lending `data` to Lua for the scope, mutable from its methods.
    ///
    /// ```
    /// use perilune::{Lua, UserData, UserDataMethods};
    /// struct Counter(i64);
    /// impl UserData for Counter {
    ///     fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
    ///         m.add_method_mut("inc", |_, c, ()| { c.0 += 1; Ok(c.0) });
    ///     }
    /// }
    /// let lua = Lua::new();
    /// let mut counter = Counter(0);
    /// lua.scope(|scope| {
    ///     let c = scope.create_userdata_ref_mut(&mut counter)?;
    ///     lua.load("local c = ... c:inc() c:inc()").call::<()>(c)
    /// })?;
    /// assert_eq!(counter.0, 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_userdata_ref_mut<T: UserData + 'static>(&'scope self, data: &'env mut T) -> Result<AnyUserData> {
        let mt = self.lua.userdata_metatable::<T>()?;
        self.lend(NonNull::from(data), true, Some(mt))
    }

    /// A userdata without methods lending `data` for the scope
    /// ([`Lua::create_any_userdata`]'s kind): Lua code can pass it around, Rust
    /// code reads it with [`AnyUserData::borrow_scoped`].
    pub fn create_any_userdata_ref<T: 'static>(&'scope self, data: &'env T) -> Result<AnyUserData> {
        self.lend(NonNull::from(data), false, None)
    }

    /// A userdata without methods lending `data` mutably for the scope
    /// ([`AnyUserData::borrow_mut_scoped`]).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let mut seen: Vec<i32> = Vec::new();
    /// lua.scope(|scope| {
    ///     let ud = scope.create_any_userdata_ref_mut(&mut seen)?;
    ///     let f = lua.create_function(|_, ud: perilune::AnyUserData| {
    ///         ud.borrow_mut_scoped::<Vec<i32>, _>(|v| v.push(7))
    ///     })?;
    ///     f.call::<()>(ud)
    /// })?;
    /// assert_eq!(seen, [7]);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_any_userdata_ref_mut<T: 'static>(&'scope self, data: &'env mut T) -> Result<AnyUserData> {
        self.lend(NonNull::from(data), true, None)
    }

    /// Run `destructor` when the scope ends, after everything the scope made is
    /// invalidated (mlua's `add_destructor`).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let ud = lua.create_any_userdata(String::from("temp"))?;
    /// lua.scope(|scope| {
    ///     scope.add_destructor(|| drop(ud.take::<String>()));
    ///     Ok(())
    /// })?;
    /// assert!(ud.borrow::<String>().is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn add_destructor(&'scope self, destructor: impl FnOnce() + 'env) {
        self.made.destructors.borrow_mut().push(Box::new(destructor));
    }

    fn lend<T: 'static>(
        &self,
        ptr: NonNull<T>,
        mutable: bool,
        mt: Option<crate::object::GcRef<crate::object::GcTable>>,
    ) -> Result<AnyUserData> {
        let ud = self.lua.create_lent(ptr, mutable, mt)?;
        self.made
            .lent
            .borrow_mut()
            .push((ud.clone(), end_lent_of::<T> as EndLent));
        Ok(ud)
    }
}

impl Drop for Made<'_> {
    fn drop(&mut self) {
        // First invalidate everything, then run the drops: a drop that panics (it is
        // caught and dropped, as a userdata value's is) must not leave anything
        // valid. Nothing here can be in use (module documentation).
        for (ud, end) in self.lent.get_mut().drain(..) {
            end(&ud);
        }
        let taken: Vec<Box<ScopedFn<'static>>> = self
            .callbacks
            .get_mut()
            .drain(..)
            .filter_map(|slot| slot.0.try_borrow_mut().ok().and_then(|mut f| f.take()))
            .collect();
        for f in taken {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(f)));
        }
        for d in self.destructors.get_mut().drain(..) {
            let _ = catch_unwind(AssertUnwindSafe(d));
        }
    }
}
