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
        if matches!(name.as_str(), "__gc" | "__metatable" | "__mode") {
            self.error.get_or_insert(Error::MetaMethodRestricted(name));
            return;
        }
        Self::keep(&mut self.meta, &mut self.error, name, f);
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
}

const INDEX_GLUE: &str = "local methods, getters, fallback = ...
return function(self, key)
  local g = getters[key]
  if g ~= nil then return g(self) end
  local m = methods[key]
  if m ~= nil then return m end
  if fallback ~= nil then return fallback(self, key) end
  return nil
end";

const NEWINDEX_GLUE: &str = "local setters, fallback, error, tostring, before, after = ...
return function(self, key, value)
  local s = setters[key]
  if s ~= nil then return s(self, value) end
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
        let f: Function = glue.call((methods, getters, index_fallback))?;
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
        let f: Function = glue.call((setters, newindex_fallback, error, tostring, before, after))?;
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

    /// Does it hold a `T` (still there, not taken)? False once the state is closed.
    pub fn is<T: 'static>(&self) -> bool {
        self.0
            .lua()
            .is_ok_and(|lua| self.cell_in::<T>(&lua).is_ok_and(|c| c.alive.get()))
    }

    /// Borrow the `T` inside. Fails if it is another type, was taken, or is
    /// mutably borrowed. The borrow keeps the state open while it lives.
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

    /// A borrow for the duration of a method call: `lua` (the callback's) keeps the
    /// state open, so no `Lua` is cloned.
    fn borrow_in<'a, T: 'static>(&'a self, lua: &'a Lua, exclusive: bool) -> Result<CellBorrow<'a, T>> {
        Ok(CellBorrow(self.cell_in::<T>(lua)?.borrowed(exclusive)?))
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

/// A borrow recorded in a cell for the duration of a method call; released on drop
/// (also when a panic unwinds).
struct CellBorrow<'a, T: 'static>(&'a UdCell<T>);

impl<T: 'static> CellBorrow<'_, T> {
    fn get(&self) -> &T {
        // SAFETY: a borrow is recorded (so the value is alive and no `&mut` exists
        // unless this is that exclusive borrow).
        unsafe { (*self.0.value.get()).assume_init_ref() }
    }
    /// Only for borrows made exclusive.
    fn get_mut(&mut self) -> &mut T {
        // SAFETY: the cell records this exclusive borrow as the only one.
        unsafe { (*self.0.value.get()).assume_init_mut() }
    }
}

impl<T: 'static> Drop for CellBorrow<'_, T> {
    fn drop(&mut self) {
        self.0.release_borrow();
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
