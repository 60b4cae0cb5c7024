//! The common object header and typed references to collectable objects.
//!
//! Every collectable object is a `#[repr(C)]` struct whose first field is a
//! [`GcHeader`], allocated through the state's [`Heap`](crate::alloc::Heap) and never
//! moved. A [`GcRef<T>`] is a plain pointer to such an object.
//!
//! Invariants (what makes dereferencing a `GcRef` sound):
//! - An object stays alive while it is reachable from the roots; the collector only
//!   runs at safe points (DESIGN.md invariant 5), so a `GcRef` obtained since the last
//!   safe point is valid, and one held across a call into Lua must be rooted (on the
//!   Lua stack, in the registry, or in another reachable object).
//! - The VM is single-threaded. Code must not keep a `&mut` to an object across a call
//!   that may reach the same object another way.
//!
//! Per-kind structs live with their subsystems: [`LuaStr`](crate::string::LuaStr),
//! [`Table`](crate::table::Table), [`LuaFunction`], [`Proto`], [`Upval`] in
//! [`func`](crate::func), [`Thread`](crate::vm::thread::Thread),
//! [`Userdata`](crate::udata::Userdata).

use std::marker::PhantomData;
use std::ptr::NonNull;

pub use crate::func::{LuaFunction, Proto, Upval};
pub use crate::string::LuaStr;
pub use crate::table::Table;
pub use crate::udata::Userdata;
pub use crate::vm::thread::Thread;

/// What kind of object a header belongs to.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ObjKind {
    Str = 0,
    Table = 1,
    /// A Lua closure or a native function ([`LuaFunction`]).
    Function = 2,
    Proto = 3,
    Upval = 4,
    Thread = 5,
    Userdata = 6,
}

/// The header every collectable object starts with.
#[repr(C)]
pub struct GcHeader {
    /// Link in the list that owns the object: the collector's list of all objects, the
    /// finalizer lists, or (for strings) a string-table hash chain.
    pub next: Option<GcRef<GcHeader>>,
    /// Link in the collector's gray lists (unused by strings and upvalues).
    pub gclist: Option<GcRef<GcHeader>>,
    pub kind: ObjKind,
    /// Colour and state bits, owned by the collector (`gc::mark`).
    pub marked: u8,
    /// Per-kind flags (tables: metamethod absence cache; functions: builtin id; strings:
    /// reserved-word id).
    pub flags: u8,
    /// Functions: the LuaJIT fast-function id that `tostring` shows as `builtin#N`
    /// (0: none, the function prints its address). Unused by other kinds.
    pub ffid: u8,
    /// Per-kind word (strings: hash; functions: upvalue count).
    pub aux: u32,
}

impl GcHeader {
    pub fn new(kind: ObjKind) -> GcHeader {
        GcHeader {
            next: None,
            gclist: None,
            kind,
            marked: 0,
            flags: 0,
            ffid: 0,
            aux: 0,
        }
    }
}

/// A pointer to a live collectable object of type `T`. Copy, compared by address.
#[repr(transparent)]
pub struct GcRef<T>(NonNull<T>, PhantomData<*mut T>);

impl<T> Clone for GcRef<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for GcRef<T> {}
impl<T> PartialEq for GcRef<T> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<T> Eq for GcRef<T> {}
impl<T> std::fmt::Debug for GcRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GcRef({:p})", self.0)
    }
}

impl<T> GcRef<T> {
    /// # Safety-relevant
    /// `p` must point to a live object of type `T` that starts with a [`GcHeader`].
    #[inline(always)]
    pub const fn from_raw(p: NonNull<T>) -> GcRef<T> {
        GcRef(p, PhantomData)
    }
    #[inline(always)]
    pub fn as_ptr(self) -> *mut T {
        self.0.as_ptr()
    }
    /// The object's header.
    #[inline(always)]
    pub fn header(self) -> GcRef<GcHeader> {
        GcRef(self.0.cast(), PhantomData)
    }
    /// Reinterpret as another object type. Only valid when `U` is the type the header's
    /// `kind` names.
    #[inline(always)]
    pub fn cast<U>(self) -> GcRef<U> {
        GcRef(self.0.cast(), PhantomData)
    }
    /// A mutable reference to the object (see the module invariants).
    #[inline(always)]
    pub fn get_mut<'a>(self) -> &'a mut T {
        // SAFETY: the object is live (module invariant) and the VM is single-threaded;
        // callers do not hold two overlapping &mut to the same object.
        unsafe { &mut *self.0.as_ptr() }
    }
}

impl<T> std::ops::Deref for GcRef<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the object is live while reachable (module invariants).
        unsafe { self.0.as_ref() }
    }
}

impl GcRef<GcHeader> {
    #[inline(always)]
    pub fn kind(self) -> ObjKind {
        self.kind
    }
}
