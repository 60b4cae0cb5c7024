//! Rust values inside Lua: userdata, the [`UserData`] trait, borrow-checked access.
//!
//! # Layout and drop
//!
//! A Rust value `T` lives *inside* the userdata's payload (so its bytes are counted
//! by the state's allocator and the memory limit), wrapped in a [`UdCell`]: a borrow
//! counter, an "alive" flag and the value. The userdata's `host` field points to a
//! static vtable for `UdCell<T>` (its `TypeId` and a drop function). The collector
//! calls that drop function exactly once when it frees the object (see
//! `udata.rs`/`gc/sweep.rs`); [`AnyUserData::take`] moves the value out earlier
//! and clears the alive flag so the drop does nothing.
//!
//! Access from Rust is checked at run time like a `RefCell`: shared borrows count up,
//! a mutable borrow needs no other borrow. A conflicting borrow is an error
//! ([`Error::UserDataBorrowError`] / [`Error::UserDataBorrowMutError`]), never UB.

use std::any::TypeId;
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::alloc::OutOfMemory;
use crate::object::{GcRef, GcTable, GcUdata};
use crate::udata::HostPayload;
use crate::value::Value as Raw;
use crate::vm::error::LResult;
use crate::vm::state::State;

use super::error::{Error, Result};
use super::function::Function;
use super::state::{Lua, LuaRaw, LuaRef};
use super::value::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti, Value};

/// The payload wrapper of a Rust value stored in a userdata.
#[repr(C)]
pub(crate) struct UdCell<T> {
    /// > 0: that many shared borrows; -1: mutably borrowed; 0: free.
    borrow: Cell<isize>,
    /// False once the value was moved out (`take`) or dropped.
    alive: Cell<bool>,
    value: UnsafeCell<MaybeUninit<T>>,
}

struct VTable<T>(PhantomData<T>);

impl<T: 'static> VTable<T> {
    const VT: HostPayload = HostPayload {
        drop: drop_payload::<T>,
        type_id: TypeId::of::<UdCell<T>>,
        heap_bytes: None,
    };
}

/// Where the `UdCell<T>` of a payload starting at `base` lives.
fn cell_ptr<T>(base: *mut u8) -> *mut UdCell<T> {
    let align = std::mem::align_of::<UdCell<T>>();
    let off = (align - (base as usize) % align) % align;
    base.wrapping_add(off).cast()
}

/// Payload bytes needed for a `UdCell<T>` (the payload is 16-aligned).
fn payload_len<T>() -> usize {
    std::mem::size_of::<UdCell<T>>() + std::mem::align_of::<UdCell<T>>().saturating_sub(16)
}

/// # Safety
/// `payload` is the payload of a userdata whose `host` was the vtable of `UdCell<T>`
/// (so it holds an initialised `UdCell<T>`), and this is the single call for it.
unsafe fn drop_payload<T>(payload: *mut u8) {
    let c = cell_ptr::<T>(payload);
    // SAFETY: caller contract: `c` points to a live `UdCell<T>`.
    let cell = unsafe { &*c };
    if cell.alive.replace(false) {
        // A panicking `Drop` must not unwind into the collector.
        // SAFETY: the value is initialised (alive) and dropped only here.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { (*cell.value.get()).assume_init_drop() }));
    }
}

impl<T: 'static> UdCell<T> {
    /// The cell of `u` if it holds a `T`.
    ///
    /// # Safety
    /// `u` must stay alive for `'a` (rooted: on the stack, held by a handle, ...).
    pub(crate) unsafe fn of<'a>(u: GcRef<GcUdata>) -> Option<&'a UdCell<T>> {
        let host = u.host?;
        if (host.type_id)() != TypeId::of::<UdCell<T>>() || u.len < payload_len::<T>() {
            return None;
        }
        // SAFETY: the vtable says the payload holds a `UdCell<T>` at this address
        // (`udata.rs` invariant); the caller keeps the object alive for 'a.
        Some(unsafe { &*cell_ptr::<T>(GcUdata::payload_ptr(u)) })
    }

    /// The value, if alive and not mutably borrowed (for values that are never
    /// borrowed mutably, like wrapped errors).
    pub(crate) fn peek(&self) -> Option<&T> {
        if !self.alive.get() || self.borrow.get() < 0 {
            return None;
        }
        // SAFETY: alive means initialised, and no mutable borrow exists now. This is
        // only used on crate-private payload types (wrapped errors, callback data)
        // that users cannot name, so they cannot borrow them mutably; the crate
        // itself never does.
        Some(unsafe { (*self.value.get()).assume_init_ref() })
    }

    pub(crate) fn borrow_shared(&self) -> Result<()> {
        if !self.alive.get() {
            return Err(Error::UserDataDestructed);
        }
        let b = self.borrow.get();
        if b < 0 || b == isize::MAX {
            return Err(Error::UserDataBorrowError);
        }
        self.borrow.set(b + 1);
        Ok(())
    }

    pub(crate) fn borrow_exclusive(&self) -> Result<()> {
        if !self.alive.get() {
            return Err(Error::UserDataDestructed);
        }
        if self.borrow.get() != 0 {
            return Err(Error::UserDataBorrowMutError);
        }
        self.borrow.set(-1);
        Ok(())
    }

    /// End one borrow (shared or exclusive).
    pub(crate) fn release_borrow(&self) {
        let b = self.borrow.get();
        self.borrow.set(if b < 0 { 0 } else { b.saturating_sub(1) });
    }
}

/// The payload of a userdata a [`Scope`](crate::Scope) lends (`create_userdata_ref`
/// and friends): a pointer to a `T` that lives outside the heap, borrowed for the
/// scope. It is stored as a `UdCell<Lent<T>>`, whose borrow counter guards the `T`
/// and whose alive flag is the scope's: the scope clears it when it ends, and from
/// then on the pointer is never read (it may dangle). Its `TypeId` differs from
/// `UdCell<T>`'s, so `borrow`, `borrow_mut` and `take`, which hand out guards that
/// could outlive the scope, refuse it (`UserDataTypeMismatch`, as mlua does); method
/// calls and `borrow_scoped`, whose borrows end before the scope can, accept both.
pub(crate) struct Lent<T> {
    ptr: std::ptr::NonNull<T>,
    /// False for `create_userdata_ref`: only shared borrows.
    mutable: bool,
}

/// Where the `T` of a userdata is, owned (inside the payload) or lent by a scope,
/// with the counter and flag that guard it.
pub(crate) struct Slot<'a, T> {
    borrow: &'a Cell<isize>,
    alive: &'a Cell<bool>,
    ptr: *mut T,
    mutable: bool,
}

impl<'a, T: 'static> Slot<'a, T> {
    /// The slot of `u` if it holds or lends a `T`.
    ///
    /// # Safety
    /// As [`UdCell::of`]: `u` stays alive for `'a`.
    pub(crate) unsafe fn of(u: GcRef<GcUdata>) -> Option<Slot<'a, T>> {
        // SAFETY: caller contract.
        if let Some(c) = unsafe { UdCell::<T>::of(u) } {
            return Some(Slot {
                borrow: &c.borrow,
                alive: &c.alive,
                ptr: c.value.get().cast::<T>(),
                mutable: true,
            });
        }
        // SAFETY: caller contract.
        let c = unsafe { UdCell::<Lent<T>>::of(u) }?;
        // SAFETY: a `Lent` is written at creation and never moved out or dropped
        // before the collector frees the object (it has no `Drop`), so it is
        // initialised whatever the alive flag says.
        let lent = unsafe { (*c.value.get()).assume_init_ref() };
        Some(Slot {
            borrow: &c.borrow,
            alive: &c.alive,
            ptr: lent.ptr.as_ptr(),
            mutable: lent.mutable,
        })
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.alive.get()
    }

    /// Record a borrow: fails if the value is gone (taken, or its scope ended), is
    /// lent read-only and `exclusive` is asked, or conflicts with another borrow.
    fn borrow(self, exclusive: bool) -> Result<SlotBorrow<'a, T>> {
        if !self.alive.get() {
            return Err(Error::UserDataDestructed);
        }
        let b = self.borrow.get();
        if exclusive {
            if b != 0 || !self.mutable {
                return Err(Error::UserDataBorrowMutError);
            }
            self.borrow.set(-1);
        } else {
            if b < 0 || b == isize::MAX {
                return Err(Error::UserDataBorrowError);
            }
            self.borrow.set(b + 1);
        }
        Ok(SlotBorrow(self))
    }
}

/// Mark the `T` a scope lent to `u` as gone (its scope ends): every later borrow or
/// method call fails with [`Error::UserDataDestructed`].
///
/// # Safety
/// `u` is alive (a handle holds it).
pub(crate) unsafe fn end_lent<T: 'static>(u: GcRef<GcUdata>) {
    // SAFETY: caller contract.
    if let Some(c) = unsafe { UdCell::<Lent<T>>::of(u) } {
        c.alive.set(false);
    }
}

/// A new userdata holding `value`. The object is fresh (white) and not yet rooted:
/// the caller roots it before the next safe point.
pub(crate) fn new_host_userdata<T: 'static>(
    st: &mut State,
    value: T,
    mt: Option<GcRef<GcTable>>,
) -> std::result::Result<GcRef<GcUdata>, OutOfMemory> {
    let u = st.new_userdata(payload_len::<T>())?;
    let p = cell_ptr::<T>(GcUdata::payload_ptr(u));
    // SAFETY: the payload is `payload_len::<T>()` zeroed bytes, enough for a
    // `UdCell<T>` at its aligned position; nothing else refers to it yet.
    unsafe {
        p.write(UdCell {
            borrow: Cell::new(0),
            alive: Cell::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
        })
    };
    let m = u.get_mut();
    m.host = Some(&VTable::<T>::VT);
    // A fresh object is white, so storing a reference in it needs no barrier.
    m.metatable = mt;
    Ok(u)
}

// --- Wrapped errors ----------------------------------------------------------------

/// A Rust [`Error`] travelling through Lua as a userdata (raised by a callback, or a
/// `Value::Error`). `tostring` gives its message.
pub(crate) struct WrappedError(pub(crate) Error);

pub(crate) fn new_wrapped_error(
    st: &mut State,
    raw: &LuaRaw,
    e: Error,
) -> std::result::Result<GcRef<GcUdata>, OutOfMemory> {
    new_host_userdata(st, WrappedError(e), Some(raw.error_mt))
}

/// The metatable of wrapped errors: `__tostring`, `__concat`, protected.
pub(crate) fn error_metatable_native(st: &mut State) -> LResult<GcRef<GcTable>> {
    let mt = st.new_table(0, 4)?;
    // Rooted at once: the caller stores it in the host root before any safe point.
    for (name, f) in [
        ("__tostring", error_tostring as crate::func::NativeFn),
        ("__concat", error_concat),
    ] {
        let fv = st.new_native(f, crate::func::FF_C, 0)?;
        let k = st.str_value(name.as_bytes())?;
        st.table_set(mt, k, Raw::function(fv))?;
    }
    let k = st.str_value(b"__metatable")?;
    st.table_set(mt, k, Raw::FALSE)?;
    Ok(mt)
}

/// The text of a wrapped error value, if `v` is one.
fn wrapped_text(v: Raw) -> Option<String> {
    let u = v.as_userdata()?;
    // SAFETY: `v` is an argument of the running native, so it is rooted.
    let cell = unsafe { UdCell::<WrappedError>::of(u) }?;
    cell.peek().map(|e| e.0.to_string())
}

fn error_tostring(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    match wrapped_text(v) {
        Some(t) => st.push_str(t.as_bytes())?,
        None => {
            let s = st.tostring_raw(v)?;
            st.push(Raw::string(s))?;
        }
    }
    Ok(1)
}

fn error_concat(st: &mut State) -> LResult<usize> {
    let mut out = Vec::new();
    for i in 1..=2 {
        let v = st.arg(i);
        if let Some(t) = wrapped_text(v) {
            out.extend_from_slice(t.as_bytes());
        } else if v.is_string() || v.is_number() {
            let s = st.tostring_raw(v)?;
            out.extend_from_slice(s.as_bytes());
        } else {
            let tn = v.type_name().as_bytes();
            return Err(st.rt_error_fmt(crate::errmsg::OP_ON_VALUE, &[crate::errmsg::OP_CONCAT.as_bytes(), tn]));
        }
    }
    st.push_str(&out)?;
    Ok(1)
}

// --- UserData ----------------------------------------------------------------------

/// A Rust type usable from Lua as userdata, with methods, fields and metamethods.
///
/// ```
/// use perilune::{Lua, MetaMethod, UserData, UserDataFields, UserDataMethods};
///
/// struct Counter { n: i64 }
///
/// impl UserData for Counter {
///     fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
///         fields.add_field_method_get("n", |_, this| Ok(this.n));
///         fields.add_field_method_set("n", |_, this, v: i64| { this.n = v; Ok(()) });
///     }
///     fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
///         methods.add_method_mut("inc", |_, this, by: Option<i64>| {
///             this.n += by.unwrap_or(1);
///             Ok(this.n)
///         });
///         methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(format!("Counter({})", this.n)));
///     }
/// }
///
/// let lua = Lua::new();
/// lua.globals().set("c", Counter { n: 1 })?;
/// let r: String = lua.load("c:inc() c:inc(5) c.n = c.n * 2 return tostring(c)").eval()?;
/// assert_eq!(r, "Counter(14)");
/// # Ok::<(), perilune::Error>(())
/// ```
pub trait UserData: Sized {
    /// Register fields (`obj.name`, `obj.name = v`).
    fn add_fields<F: UserDataFields<Self>>(_fields: &mut F) {}
    /// Register methods (`obj:name(...)`) and metamethods.
    fn add_methods<M: UserDataMethods<Self>>(_methods: &mut M) {}
}

/// Registers methods of a [`UserData`] type (mlua 0.10's shape: no lifetime, names
/// are anything `ToString`, such as `&str` or a [`MetaMethod`]).
pub trait UserDataMethods<T> {
    /// A method taking `&T`: called as `obj:name(args)`.
    fn add_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A method taking `&mut T`. Calling it while the value is borrowed (for example
    /// recursively, from inside another of its methods) is an error.
    fn add_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A plain function stored under `name` (called as `obj.name(args)`).
    fn add_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A plain `FnMut` function stored under `name`.
    fn add_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A metamethod whose first argument is the value (`__tostring`, `__len`,
    /// `__call`, `__index` fallback, ...). `__gc`, `__metatable` and `__mode` are
    /// restricted (creating the userdata then fails with
    /// [`Error::MetaMethodRestricted`]).
    fn add_meta_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A metamethod taking `&mut T`.
    fn add_meta_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// A metamethod taking all its arguments as they come (binary operators, where
    /// the value may be either operand).
    fn add_meta_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
    /// [`UserDataMethods::add_meta_function`] for an `FnMut`.
    fn add_meta_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti;
}

/// Registers fields of a [`UserData`] type (mlua 0.10's shape).
pub trait UserDataFields<T> {
    /// `obj.name` calls `getter`.
    fn add_field_method_get<M, R>(&mut self, name: impl ToString, getter: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + 'static,
        R: IntoLua;
    /// `obj.name = v` calls `setter`.
    fn add_field_method_set<M, A>(&mut self, name: impl ToString, setter: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + 'static,
        A: FromLua;
    /// `obj.name` is this constant value.
    fn add_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + 'static;
    /// `obj.name` calls `getter` with the userdata itself (not borrowed).
    fn add_field_function_get<F, R>(&mut self, name: impl ToString, getter: F)
    where
        F: Fn(&Lua, AnyUserData) -> Result<R> + 'static,
        R: IntoLua;
    /// `obj.name = v` calls `setter` with the userdata itself (not borrowed).
    fn add_field_function_set<F, A>(&mut self, name: impl ToString, setter: F)
    where
        F: FnMut(&Lua, AnyUserData, A) -> Result<()> + 'static,
        A: FromLua;
    /// A field of the metatable (`__name`, `__index` as a table, a constant
    /// `__call`...). `__gc`, `__metatable` and `__mode` are restricted, as for
    /// metamethods. An `__index` or `__newindex` table is consulted after the
    /// fields and methods, as an `__index`/`__newindex` metamethod is.
    fn add_meta_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + 'static;
    /// [`UserDataFields::add_meta_field`] with the value computed by `f` when the
    /// metatable is built (at the type's first use in a state).
    fn add_meta_field_with<F, R>(&mut self, name: impl ToString, f: F)
    where
        F: FnOnce(&Lua) -> Result<R> + 'static,
        R: IntoLua;
}

/// Metamethod names, for `add_meta_method` (plain strings such as `"__add"` work
/// too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetaMethod {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
    Concat,
    Len,
    Eq,
    Lt,
    Le,
    Index,
    NewIndex,
    Call,
    ToString,
}

impl MetaMethod {
    pub fn name(self) -> &'static str {
        match self {
            MetaMethod::Add => "__add",
            MetaMethod::Sub => "__sub",
            MetaMethod::Mul => "__mul",
            MetaMethod::Div => "__div",
            MetaMethod::Mod => "__mod",
            MetaMethod::Pow => "__pow",
            MetaMethod::Unm => "__unm",
            MetaMethod::Concat => "__concat",
            MetaMethod::Len => "__len",
            MetaMethod::Eq => "__eq",
            MetaMethod::Lt => "__lt",
            MetaMethod::Le => "__le",
            MetaMethod::Index => "__index",
            MetaMethod::NewIndex => "__newindex",
            MetaMethod::Call => "__call",
            MetaMethod::ToString => "__tostring",
        }
    }
}

impl AsRef<str> for MetaMethod {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

impl std::fmt::Display for MetaMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Metatable keys the API manages itself: `__gc` (a Rust value's drop runs in the
/// collector), `__metatable` (the metatable is protected), `__mode`.
fn is_restricted_meta(name: &str) -> bool {
    matches!(name, "__gc" | "__metatable" | "__mode")
}

/// Collects what a `UserData` impl registers.
struct Registry<'a, T> {
    lua: &'a Lua,
    methods: Vec<(String, Value)>,
    meta: Vec<(String, Value)>,
    getters: Vec<(String, Value)>,
    setters: Vec<(String, Value)>,
    error: Option<Error>,
    _t: PhantomData<fn() -> T>,
}

impl<T: 'static> Registry<'_, T> {
    fn keep(list: &mut Vec<(String, Value)>, error: &mut Option<Error>, name: String, f: Result<Function>) {
        match f {
            Ok(f) => list.push((name, Value::Function(f))),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    fn add_meta(&mut self, name: String, f: Result<Function>) {
        self.add_meta_value(name, f.map(Value::Function));
    }
    fn add_meta_value(&mut self, name: String, v: Result<Value>) {
        if is_restricted_meta(&name) {
            self.error.get_or_insert(Error::MetaMethodRestricted(name));
            return;
        }
        match v {
            Ok(v) => self.meta.push((name, v)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    /// A Lua function calling `method` with the userdata (its first argument)
    /// borrowed shared.
    fn method<M, A, R>(&self, method: M) -> Result<Function>
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.lua.create_function(move |lua, (ud, args): (AnyUserData, A)| {
            let this = ud.borrow_in::<T>(lua, false)?;
            method(lua, this.get(), args)
        })
    }

    /// A Lua function calling `method` with the userdata borrowed mutably.
    fn method_mut<M, A, R>(&self, mut method: M) -> Result<Function>
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.lua.create_function_mut(move |lua, (ud, args): (AnyUserData, A)| {
            let mut this = ud.borrow_in::<T>(lua, true)?;
            method(lua, this.get_mut(), args)
        })
    }
}

impl<T: UserData + 'static> UserDataMethods<T> for Registry<'_, T> {
    fn add_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.method(method);
        Self::keep(&mut self.methods, &mut self.error, name.to_string(), f);
    }
    fn add_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.method_mut(method);
        Self::keep(&mut self.methods, &mut self.error, name.to_string(), f);
    }
    fn add_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.lua.create_function(function);
        Self::keep(&mut self.methods, &mut self.error, name.to_string(), f);
    }
    fn add_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.lua.create_function_mut(function);
        Self::keep(&mut self.methods, &mut self.error, name.to_string(), f);
    }
    fn add_meta_method<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: Fn(&Lua, &T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.method(method);
        self.add_meta(name.to_string(), f);
    }
    fn add_meta_method_mut<M, A, R>(&mut self, name: impl ToString, method: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.method_mut(method);
        self.add_meta(name.to_string(), f);
    }
    fn add_meta_function<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.lua.create_function(function);
        self.add_meta(name.to_string(), f);
    }
    fn add_meta_function_mut<F, A, R>(&mut self, name: impl ToString, function: F)
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let f = self.lua.create_function_mut(function);
        self.add_meta(name.to_string(), f);
    }
}

impl<T: UserData + 'static> UserDataFields<T> for Registry<'_, T> {
    fn add_field_method_get<M, R>(&mut self, name: impl ToString, getter: M)
    where
        M: Fn(&Lua, &T) -> Result<R> + 'static,
        R: IntoLua,
    {
        let f = self.method(move |lua, this, ()| getter(lua, this));
        Self::keep(&mut self.getters, &mut self.error, name.to_string(), f);
    }
    fn add_field_method_set<M, A>(&mut self, name: impl ToString, setter: M)
    where
        M: FnMut(&Lua, &mut T, A) -> Result<()> + 'static,
        A: FromLua,
    {
        let f = self.method_mut(setter);
        Self::keep(&mut self.setters, &mut self.error, name.to_string(), f);
    }
    fn add_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + 'static,
    {
        match value.into_lua(self.lua) {
            Ok(v) => self.methods.push((name.to_string(), v)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }
    fn add_field_function_get<F, R>(&mut self, name: impl ToString, getter: F)
    where
        F: Fn(&Lua, AnyUserData) -> Result<R> + 'static,
        R: IntoLua,
    {
        let f = self.lua.create_function(getter);
        Self::keep(&mut self.getters, &mut self.error, name.to_string(), f);
    }
    fn add_field_function_set<F, A>(&mut self, name: impl ToString, mut setter: F)
    where
        F: FnMut(&Lua, AnyUserData, A) -> Result<()> + 'static,
        A: FromLua,
    {
        let f = self
            .lua
            .create_function_mut(move |lua, (ud, a): (AnyUserData, A)| setter(lua, ud, a));
        Self::keep(&mut self.setters, &mut self.error, name.to_string(), f);
    }
    fn add_meta_field<V>(&mut self, name: impl ToString, value: V)
    where
        V: IntoLua + 'static,
    {
        let v = value.into_lua(self.lua);
        self.add_meta_value(name.to_string(), v);
    }
    fn add_meta_field_with<F, R>(&mut self, name: impl ToString, f: F)
    where
        F: FnOnce(&Lua) -> Result<R> + 'static,
        R: IntoLua,
    {
        let v = f(self.lua).and_then(|r| r.into_lua(self.lua));
        self.add_meta_value(name.to_string(), v);
    }
}

/// `fallback` is the type's own `__index`: a function, or a table when
/// `fallback_is_table` (`add_meta_field("__index", t)`).
const INDEX_GLUE: &str = "local methods, getters, fallback, fallback_is_table = ...
return function(self, key)
  local g = getters[key]
  if g ~= nil then return g(self) end
  local m = methods[key]
  if m ~= nil then return m end
  if fallback_is_table then return fallback[key] end
  if fallback ~= nil then return fallback(self, key) end
  return nil
end";

const NEWINDEX_GLUE: &str = "local setters, fallback, fallback_is_table, error, tostring, before, after = ...
return function(self, key, value)
  local s = setters[key]
  if s ~= nil then return s(self, value) end
  if fallback_is_table then fallback[key] = value return end
  if fallback ~= nil then return fallback(self, key, value) end
  error(before .. tostring(key) .. after, 2)
end";

/// The metatable of userdata of type `T`, built once per state and cached.
fn userdata_metatable<T: UserData + 'static>(lua: &Lua) -> Result<GcRef<GcTable>> {
    let raw = lua.raw();
    // SAFETY: `ud_metatables` is only touched here, with no user code running while
    // the reference is live.
    if let Some(mt) = unsafe { &*raw.ud_metatables.get() }.get(&TypeId::of::<T>()) {
        return Ok(*mt);
    }
    let mut reg: Registry<'_, T> = Registry {
        lua,
        methods: Vec::new(),
        meta: Vec::new(),
        getters: Vec::new(),
        setters: Vec::new(),
        error: None,
        _t: PhantomData,
    };
    T::add_fields(&mut reg);
    T::add_methods(&mut reg);
    if let Some(e) = reg.error {
        return Err(e);
    }
    let mt = lua.create_table()?;
    let methods = lua.create_table()?;
    for (name, v) in reg.methods {
        methods.raw_set(name, v)?;
    }
    let mut index_fallback = Value::Nil;
    let mut newindex_fallback = Value::Nil;
    for (name, v) in reg.meta {
        match name.as_str() {
            "__index" => index_fallback = v,
            "__newindex" => newindex_fallback = v,
            _ => mt.raw_set(name, v)?,
        }
    }
    if reg.getters.is_empty() && index_fallback.is_nil() {
        mt.raw_set("__index", methods)?;
    } else {
        let getters = lua.create_table_from(reg.getters)?;
        let glue = lua.load(INDEX_GLUE).set_name("=userdata __index").into_function()?;
        let is_table = matches!(index_fallback, Value::Table(_));
        let f: Function = glue.call((methods, getters, index_fallback, is_table))?;
        mt.raw_set("__index", f)?;
    }
    if !reg.setters.is_empty() || !newindex_fallback.is_nil() {
        let setters = lua.create_table_from(reg.setters)?;
        let glue = lua
            .load(NEWINDEX_GLUE)
            .set_name("=userdata __newindex")
            .into_function()?;
        let g = lua.globals();
        let (error, tostring): (Value, Value) = (g.raw_get("error")?, g.raw_get("tostring")?);
        // The message's text around the key (errmsg::USERDATA_UNKNOWN_FIELD).
        let (before, after) = crate::errmsg::USERDATA_UNKNOWN_FIELD
            .split_once("%s")
            .unwrap_or((crate::errmsg::USERDATA_UNKNOWN_FIELD, ""));
        let is_table = matches!(newindex_fallback, Value::Table(_));
        let f: Function = glue.call((setters, newindex_fallback, is_table, error, tostring, before, after))?;
        mt.raw_set("__newindex", f)?;
    }
    mt.raw_set("__metatable", false)?;
    let t = mt.0.val.as_table().ok_or(Error::UserDataTypeMismatch)?;
    // Keep the metatable alive for the state's whole life with a ref never released.
    lua.with_state(|st, raw| raw.make_ref(st, Raw::table(t)))?;
    // SAFETY: as above; no user code runs while the reference is live.
    unsafe { &mut *raw.ud_metatables.get() }.insert(TypeId::of::<T>(), t);
    Ok(t)
}

impl Lua {
    /// Wrap a Rust value implementing [`UserData`] in a Lua userdata.
    ///
    /// ```
    /// use perilune::{Lua, UserData, UserDataMethods};
    /// struct Point(f64, f64);
    /// impl UserData for Point {
    ///     fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
    ///         m.add_method("norm", |_, p, ()| Ok((p.0 * p.0 + p.1 * p.1).sqrt()));
    ///     }
    /// }
    /// let lua = Lua::new();
    /// let p = lua.create_userdata(Point(3.0, 4.0))?;
    /// lua.globals().set("p", p)?;
    /// assert_eq!(lua.load("return p:norm()").eval::<f64>()?, 5.0);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_userdata<T: UserData + 'static>(&self, data: T) -> Result<AnyUserData> {
        let mt = userdata_metatable::<T>(self)?;
        self.with_state(|st, raw| {
            let u = new_host_userdata(st, data, Some(mt)).map_err(|_| super::state::mem_error())?;
            Ok(AnyUserData(LuaRef::new(self, st, raw, Raw::userdata(u))?))
        })
    }

    /// A userdata lending the `T` at `ptr` (see [`Lent`]), with `T`'s metatable if
    /// `T: UserData` (`mt`). The caller (a scope) ends the loan with [`end_lent`]
    /// before the `T` goes away.
    pub(crate) fn create_lent<T: 'static>(
        &self,
        ptr: std::ptr::NonNull<T>,
        mutable: bool,
        mt: Option<GcRef<GcTable>>,
    ) -> Result<AnyUserData> {
        self.with_state(|st, raw| {
            let u = new_host_userdata(st, Lent { ptr, mutable }, mt).map_err(|_| super::state::mem_error())?;
            Ok(AnyUserData(LuaRef::new(self, st, raw, Raw::userdata(u))?))
        })
    }

    /// The metatable of userdata of type `T` (built at its first use).
    pub(crate) fn userdata_metatable<T: UserData + 'static>(&self) -> Result<GcRef<GcTable>> {
        userdata_metatable::<T>(self)
    }

    /// Wrap any `'static` Rust value in a userdata without methods (Lua code
    /// can only pass it around; Rust code can borrow it back).
    pub fn create_any_userdata<T: 'static>(&self, data: T) -> Result<AnyUserData> {
        self.with_state(|st, raw| {
            let u = new_host_userdata(st, data, None).map_err(|_| super::state::mem_error())?;
            Ok(AnyUserData(LuaRef::new(self, st, raw, Raw::userdata(u))?))
        })
    }
}

/// A handle to a userdata of any type.
#[derive(Clone, Debug, PartialEq)]
pub struct AnyUserData(pub(crate) LuaRef);

impl AnyUserData {
    /// The cell of the `T` inside, while `lua` (this userdata's state, open) is
    /// borrowed.
    fn cell_in<'a, T: 'static>(&'a self, lua: &'a Lua) -> Result<&'a UdCell<T>> {
        let u = self
            .0
            .raw_in(lua.raw())?
            .as_userdata()
            .ok_or(Error::UserDataTypeMismatch)?;
        // SAFETY: the handle keeps the userdata reachable while `self` is borrowed,
        // and `lua` keeps its state open while it is borrowed.
        unsafe { UdCell::<T>::of(u) }.ok_or(Error::UserDataTypeMismatch)
    }

    /// Does it hold a `T` (still there, not taken; or lent by a scope that has not
    /// ended)? False once the state is closed.
    pub fn is<T: 'static>(&self) -> bool {
        self.0
            .lua()
            .is_ok_and(|lua| self.slot_in::<T>(&lua).is_ok_and(|c| c.is_alive()))
    }

    /// Borrow the `T` inside. Fails if it is another type, was taken, or is
    /// mutably borrowed. The borrow keeps the state open while it lives. A value a
    /// [`Scope`](crate::Scope) lends is refused ([`Error::UserDataTypeMismatch`], as
    /// in mlua): the guard could outlive the scope; use
    /// [`AnyUserData::borrow_scoped`].
    ///
    /// ```
    /// use perilune::{Error, Lua};
    /// let lua = Lua::new();
    /// let ud = lua.create_any_userdata(vec![1, 2, 3])?;
    /// let mut w = ud.borrow_mut::<Vec<i32>>()?;
    /// w.push(4);
    /// assert!(matches!(ud.borrow::<Vec<i32>>(), Err(Error::UserDataBorrowError)));
    /// drop(w);
    /// assert_eq!(ud.borrow::<Vec<i32>>()?.len(), 4);
    /// assert!(matches!(ud.borrow::<String>(), Err(Error::UserDataTypeMismatch)));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn borrow<T: 'static>(&self) -> Result<UserDataRef<T>> {
        let lua = self.0.lua()?;
        let cell: *const UdCell<T> = self.cell_in::<T>(&lua)?.borrowed(false)?;
        Ok(UserDataRef {
            cell,
            _ud: self.clone(),
            _lua: lua,
        })
    }

    /// Borrow the `T` inside mutably. Fails if it is another type, was taken, or is
    /// borrowed.
    pub fn borrow_mut<T: 'static>(&self) -> Result<UserDataRefMut<T>> {
        let lua = self.0.lua()?;
        let cell: *const UdCell<T> = self.cell_in::<T>(&lua)?.borrowed(true)?;
        Ok(UserDataRefMut {
            cell,
            _ud: self.clone(),
            _lua: lua,
        })
    }

    /// The slot of the `T` inside (owned or lent by a scope), while `lua` (this
    /// userdata's state, open) is borrowed.
    fn slot_in<'a, T: 'static>(&'a self, lua: &'a Lua) -> Result<Slot<'a, T>> {
        let u = self
            .0
            .raw_in(lua.raw())?
            .as_userdata()
            .ok_or(Error::UserDataTypeMismatch)?;
        // SAFETY: the handle keeps the userdata reachable while `self` is borrowed,
        // and `lua` keeps its state open while it is borrowed.
        unsafe { Slot::<T>::of(u) }.ok_or(Error::UserDataTypeMismatch)
    }

    /// A borrow for the duration of a method call: `lua` (the callback's) keeps the
    /// state open, so no `Lua` is cloned.
    fn borrow_in<'a, T: 'static>(&'a self, lua: &'a Lua, exclusive: bool) -> Result<SlotBorrow<'a, T>> {
        self.slot_in::<T>(lua)?.borrow(exclusive)
    }

    /// Call `f` with the `T` inside borrowed (mlua's `borrow_scoped`). Unlike
    /// [`AnyUserData::borrow`], this also works on a value a [`Scope`](crate::Scope)
    /// lends, since the borrow ends before `f` returns.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let config = String::from("debug");
    /// lua.scope(|scope| {
    ///     let ud = scope.create_any_userdata_ref(&config)?;
    ///     assert_eq!(ud.borrow_scoped::<String, _>(|s| s.len())?, 5);
    ///     assert!(ud.borrow::<String>().is_err()); // a guard could outlive the scope
    ///     Ok(())
    /// })?;
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn borrow_scoped<T: 'static, R>(&self, f: impl FnOnce(&T) -> R) -> Result<R> {
        let lua = self.0.lua()?;
        let b = self.borrow_in::<T>(&lua, false)?;
        Ok(f(b.get()))
    }

    /// Call `f` with the `T` inside borrowed mutably (mlua's `borrow_mut_scoped`).
    /// Fails with [`Error::UserDataBorrowMutError`] for a value lent read-only
    /// (`create_userdata_ref`).
    pub fn borrow_mut_scoped<T: 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let lua = self.0.lua()?;
        let mut b = self.borrow_in::<T>(&lua, true)?;
        Ok(f(b.get_mut()))
    }

    /// Move the `T` out. Afterwards the userdata is empty: borrowing it or calling
    /// its methods fails with [`Error::UserDataDestructed`].
    pub fn take<T: 'static>(&self) -> Result<T> {
        let lua = self.0.lua()?;
        let cell = self.cell_in::<T>(&lua)?;
        cell.borrow_exclusive()?;
        cell.alive.set(false);
        cell.release_borrow();
        // SAFETY: the value was alive (checked by `borrow_exclusive`) and is marked dead
        // before being read out, so it is neither read nor dropped again.
        Ok(unsafe { (*cell.value.get()).assume_init_read() })
    }
}

/// A user value's key in the userdata's environment table.
enum UserValueKey<'a> {
    Nth(usize),
    Named(&'a str),
}

impl UserValueKey<'_> {
    fn to_raw(&self, st: &mut State) -> LResult<Raw> {
        match *self {
            UserValueKey::Nth(n) => Ok(Raw::number(n as f64)),
            UserValueKey::Named(name) => st.str_value(name.as_bytes()).map_err(|_| crate::vm::error::Throw::Oom),
        }
    }
}

/// The most user values a userdata has by number (mlua's bound).
const MAX_USER_VALUES: usize = u16::MAX as usize;

impl AnyUserData {
    /// Keep `v` with the userdata: [`AnyUserData::set_nth_user_value`] with `n = 1`
    /// (mlua's `set_user_value`). How user values map onto Lua 5.1's one
    /// environment table per userdata: docs/embedding.md, "User values".
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let ud = lua.create_any_userdata(())?;
    /// assert_eq!(ud.user_value::<Option<String>>()?, None);
    /// ud.set_user_value("attached")?;
    /// ud.set_named_user_value("owner", "me")?;
    /// assert_eq!(ud.user_value::<String>()?, "attached");
    /// assert_eq!(ud.named_user_value::<String>("owner")?, "me");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_user_value(&self, v: impl IntoLua) -> Result<()> {
        self.set_nth_user_value(1, v)
    }

    /// The value kept by [`AnyUserData::set_user_value`] (nil if none).
    pub fn user_value<V: FromLua>(&self) -> Result<V> {
        self.nth_user_value(1)
    }

    /// Keep `v` with the userdata as its `n`th user value (`1 <= n <= 65535`).
    pub fn set_nth_user_value(&self, n: usize, v: impl IntoLua) -> Result<()> {
        check_user_value_index(n)?;
        self.set_user_value_at(UserValueKey::Nth(n), v)
    }

    /// The `n`th user value (nil if none).
    pub fn nth_user_value<V: FromLua>(&self, n: usize) -> Result<V> {
        check_user_value_index(n)?;
        self.user_value_at(UserValueKey::Nth(n))
    }

    /// Keep `v` with the userdata under `name`.
    pub fn set_named_user_value(&self, name: &str, v: impl IntoLua) -> Result<()> {
        self.set_user_value_at(UserValueKey::Named(name), v)
    }

    /// The user value kept under `name` (nil if none).
    pub fn named_user_value<V: FromLua>(&self, name: &str) -> Result<V> {
        self.user_value_at(UserValueKey::Named(name))
    }

    fn set_user_value_at(&self, key: UserValueKey<'_>, v: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let v = v.into_lua(lua)?;
        lua.with_state(|st, raw| {
            let u = self.0.raw_in(raw)?.as_userdata().ok_or(Error::UserDataTypeMismatch)?;
            let v = v.to_raw(st, raw)?;
            super::state::protect(st, raw, |st| {
                // `v` may be fresh (a wrapped error): rooted on the stack meanwhile.
                st.push(v)?;
                let env = if u.env == st.globals {
                    // Every userdata starts with the globals as environment: it has
                    // no user values yet. Its own table, rooted by the userdata.
                    let t = st.new_table(0, 0)?;
                    u.get_mut().env = t;
                    crate::gc::barrier_forward(st, u.header(), Raw::table(t));
                    t
                } else {
                    u.env
                };
                let k = key.to_raw(st)?;
                st.table_set(env, k, v)?;
                st.pop(1);
                Ok(())
            })
        })
    }

    fn user_value_at<V: FromLua>(&self, key: UserValueKey<'_>) -> Result<V> {
        let lua = &self.0.lua()?;
        let v = lua.with_state(|st, raw| {
            let u = self.0.raw_in(raw)?.as_userdata().ok_or(Error::UserDataTypeMismatch)?;
            if u.env == st.globals {
                return Ok(Value::Nil);
            }
            let v = super::state::protect(st, raw, |st| {
                let k = key.to_raw(st)?;
                Ok(u.env.get(k))
            })?;
            Value::from_raw(lua, st, raw, v)
        })?;
        V::from_lua(v, lua)
    }

    /// The metatable of the userdata's type (mlua's `metatable`): what
    /// [`UserData`] registered, shared by every userdata of the type in this state,
    /// so a change affects them all. Fails with [`Error::UserDataTypeMismatch`] for
    /// a userdata without one ([`Lua::create_any_userdata`]).
    ///
    /// ```
    /// use perilune::{Lua, MetaMethod, UserData, UserDataMethods};
    /// struct Unit;
    /// impl UserData for Unit {
    ///     fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
    ///         m.add_meta_method(MetaMethod::ToString, |_, _, ()| Ok("unit"));
    ///     }
    /// }
    /// let lua = Lua::new();
    /// let ud = lua.create_userdata(Unit)?;
    /// let mt = ud.metatable()?;
    /// assert!(mt.contains(MetaMethod::ToString)?);
    /// mt.set("__name", "Unit")?;
    /// assert_eq!(mt.get::<String>("__name")?, "Unit");
    /// assert!(mt.set("__gc", 1).is_err()); // restricted
    /// let names: Vec<String> = mt.pairs::<perilune::Value>().map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
    /// assert!(names.contains(&"__tostring".to_string()));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn metatable(&self) -> Result<UserDataMetatable> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| {
            let u = self.0.raw_in(raw)?.as_userdata().ok_or(Error::UserDataTypeMismatch)?;
            let mt = u.metatable.ok_or(Error::UserDataTypeMismatch)?;
            Ok(UserDataMetatable(super::table::Table(LuaRef::new(
                lua,
                st,
                raw,
                Raw::table(mt),
            )?)))
        })
    }

    /// The name mlua 0.9 used for [`AnyUserData::metatable`] (still accepted by
    /// mlua 0.10).
    pub fn get_metatable(&self) -> Result<UserDataMetatable> {
        self.metatable()
    }
}

fn check_user_value_index(n: usize) -> Result<()> {
    if n == 0 || n > MAX_USER_VALUES {
        return Err(Error::RuntimeError(crate::errmsg::USER_VALUE_INDEX.into()));
    }
    Ok(())
}

/// The metatable of a userdata type ([`AnyUserData::metatable`]), mlua's
/// `UserDataMetatable`: keys are strings (metamethod names such as `__index`, or
/// [`MetaMethod`]s).
#[derive(Clone, Debug)]
pub struct UserDataMetatable(super::table::Table);

impl UserDataMetatable {
    /// The value under `key` (raw: no metamethod runs).
    pub fn get<V: FromLua>(&self, key: impl AsRef<str>) -> Result<V> {
        self.0.raw_get(key.as_ref())
    }

    /// Store `value` under `key`. `__gc`, `__metatable` and `__mode` are refused
    /// ([`Error::MetaMethodRestricted`]).
    pub fn set(&self, key: impl AsRef<str>, value: impl IntoLua) -> Result<()> {
        let key = key.as_ref();
        if is_restricted_meta(key) {
            return Err(Error::MetaMethodRestricted(key.to_string()));
        }
        self.0.raw_set(key, value)
    }

    /// Is there a value under `key`?
    pub fn contains(&self, key: impl AsRef<str>) -> Result<bool> {
        Ok(!self.0.raw_get::<Value>(key.as_ref())?.is_nil())
    }

    /// The entries with string keys, each a `Result<(String, V)>`. The protection
    /// entry (`__metatable`) is left out.
    pub fn pairs<V: FromLua>(&self) -> UserDataMetatablePairs<V> {
        UserDataMetatablePairs {
            pairs: self.0.pairs::<Value, Value>(),
            table: self.0.clone(),
            _v: PhantomData,
        }
    }
}

/// The iterator of [`UserDataMetatable::pairs`].
pub struct UserDataMetatablePairs<V> {
    pairs: super::table::TablePairs<Value, Value>,
    table: super::table::Table,
    _v: PhantomData<fn() -> V>,
}

impl<V: FromLua> Iterator for UserDataMetatablePairs<V> {
    type Item = Result<(String, V)>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (k, v) = match self.pairs.next()? {
                Ok(kv) => kv,
                Err(e) => return Some(Err(e)),
            };
            let Value::String(k) = k else { continue };
            let Ok(k) = k.to_str().map(|s| s.to_string()) else {
                continue;
            };
            if k == "__metatable" {
                continue;
            }
            return Some(self.table.0.lua().and_then(|lua| V::from_lua(v, &lua)).map(|v| (k, v)));
        }
    }
}

/// `FromLua` for [`UserData`] types that are `Clone`: the value is read out of the
/// userdata by cloning it (mlua's `#[derive(FromLua)]`, without a proc-macro crate).
/// One invocation per type, or several types at once.
///
/// ```
/// use perilune::{Lua, UserData};
/// #[derive(Clone, Debug, PartialEq)]
/// struct Point { x: f64, y: f64 }
/// impl UserData for Point {}
/// perilune::from_lua_via_clone!(Point);
///
/// let lua = Lua::new();
/// lua.globals().set("p", Point { x: 1.0, y: 2.0 })?;
/// let p: Point = lua.globals().get("p")?;
/// assert_eq!(p, Point { x: 1.0, y: 2.0 });
/// let f = lua.create_function(|_, p: Point| Ok(p.x + p.y))?;
/// assert_eq!(f.call::<f64>(p)?, 3.0);
/// assert!(lua.load("return 5").eval::<Point>().is_err());
/// # Ok::<(), perilune::Error>(())
/// ```
#[macro_export]
macro_rules! from_lua_via_clone {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::FromLua for $t {
            fn from_lua(value: $crate::Value, _lua: &$crate::Lua) -> $crate::Result<Self> {
                match value {
                    $crate::Value::UserData(ud) => ud.borrow_scoped::<$t, _>(|v| ::std::clone::Clone::clone(v)),
                    other => ::std::result::Result::Err($crate::Error::FromLuaConversionError {
                        from: other.type_name(),
                        to: ::std::stringify!($t),
                        message: ::std::option::Option::Some("expected userdata".into()),
                    }),
                }
            }
        }
    )+};
}

impl<T: 'static> UdCell<T> {
    /// Record a borrow (exclusive or shared) and return the cell.
    fn borrowed(&self, exclusive: bool) -> Result<&Self> {
        if exclusive {
            self.borrow_exclusive()?;
        } else {
            self.borrow_shared()?;
        }
        Ok(self)
    }
}

/// A borrow recorded in a slot for the duration of a method call (or of
/// `borrow_scoped`); released on drop (also when a panic unwinds).
pub(crate) struct SlotBorrow<'a, T: 'static>(Slot<'a, T>);

impl<T: 'static> SlotBorrow<'_, T> {
    pub(crate) fn get(&self) -> &T {
        // SAFETY: a borrow is recorded, so the value is there (owned and alive, or
        // lent by a scope that has not ended: a scope cannot end while a borrow made
        // inside it runs) and no `&mut` exists unless this is that exclusive borrow.
        unsafe { &*self.0.ptr }
    }
    /// Only for borrows made exclusive.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: the slot records this exclusive borrow as the only one.
        unsafe { &mut *self.0.ptr }
    }
}

impl<T: 'static> Drop for SlotBorrow<'_, T> {
    fn drop(&mut self) {
        let b = self.0.borrow.get();
        self.0.borrow.set(if b < 0 { 0 } else { b.saturating_sub(1) });
    }
}

/// A shared borrow of the value in a userdata (see [`AnyUserData::borrow`]). It
/// keeps the state open while it lives.
pub struct UserDataRef<T: 'static> {
    cell: *const UdCell<T>,
    /// Keeps the userdata reachable while borrowed.
    _ud: AnyUserData,
    /// Keeps the state open (dropped last).
    _lua: Lua,
}

impl<T: 'static> Deref for UserDataRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `_lua` keeps the state open and `_ud` the object reachable; the
        // shared borrow counted in the cell excludes mutable access and `take` while
        // `self` lives; alive was checked.
        unsafe { (*(*self.cell).value.get()).assume_init_ref() }
    }
}

impl<T: 'static> Drop for UserDataRef<T> {
    fn drop(&mut self) {
        // SAFETY: the cell is alive (held by `_ud` and `_lua`, dropped after this).
        unsafe { (*self.cell).release_borrow() }
    }
}

debug_as_target!(UserDataRef, UserDataRefMut);

/// A mutable borrow of the value in a userdata (see [`AnyUserData::borrow_mut`]).
pub struct UserDataRefMut<T: 'static> {
    cell: *const UdCell<T>,
    _ud: AnyUserData,
    _lua: Lua,
}

impl<T: 'static> Deref for UserDataRefMut<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `UserDataRef`; the borrow is exclusive.
        unsafe { (*(*self.cell).value.get()).assume_init_ref() }
    }
}

impl<T: 'static> DerefMut for UserDataRefMut<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the cell records this as the only borrow, so no other reference to
        // the value exists.
        unsafe { (*(*self.cell).value.get()).assume_init_mut() }
    }
}

impl<T: 'static> Drop for UserDataRefMut<T> {
    fn drop(&mut self) {
        // SAFETY: the cell is alive (held by `_ud` and `_lua`, dropped after this).
        unsafe { (*self.cell).release_borrow() }
    }
}

impl<T: 'static> FromLua for UserDataRef<T> {
    fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
        AnyUserData::from_lua(v, lua)?.borrow::<T>()
    }
}

impl<T: 'static> FromLua for UserDataRefMut<T> {
    fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
        AnyUserData::from_lua(v, lua)?.borrow_mut::<T>()
    }
}
