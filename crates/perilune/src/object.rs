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
//! Per-kind structs live with their subsystems: [`GcStr`](crate::string::GcStr),
//! [`GcTable`](crate::table::GcTable), [`GcFunc`], [`GcProto`], [`GcUpval`] in
//! [`func`](crate::func), [`GcThread`](crate::vm::thread::GcThread),
//! [`GcUdata`](crate::udata::GcUdata).

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::value::Tag;

pub use crate::func::{GcFunc, GcProto, GcUpval};
pub use crate::string::GcStr;
pub use crate::table::GcTable;
pub use crate::udata::GcUdata;
pub use crate::vm::thread::GcThread;

/// What kind of object a header belongs to. The kinds of objects that are values
/// share the value's [`Tag`] number, so one numbering serves values, the collector
/// and (later) machine code. Objects no value refers to get numbers from
/// [`ObjKind::FIRST_INTERNAL`] on. Traces will get the next internal number.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ObjKind {
    Str = Tag::Str as u8,
    Thread = Tag::Thread as u8,
    /// A Lua closure or a native function ([`GcFunc`]).
    Function = Tag::Function as u8,
    Table = Tag::Table as u8,
    Userdata = Tag::Userdata as u8,
    /// C data ([`GcCdata`](crate::cdata::GcCdata)).
    Cdata = Tag::Cdata as u8,
    Proto = ObjKind::FIRST_INTERNAL,
    Upval = ObjKind::FIRST_INTERNAL + 1,
}

impl ObjKind {
    /// The first kind number outside the 4-bit value tag space.
    pub const FIRST_INTERNAL: u8 = 16;

    /// The kind numbered `k`, if there is one (the heap verifier checks headers).
    #[cfg(any(test, feature = "internals"))]
    pub const fn from_u8(k: u8) -> Option<ObjKind> {
        match k {
            5 => Some(ObjKind::Str),
            6 => Some(ObjKind::Thread),
            7 => Some(ObjKind::Function),
            8 => Some(ObjKind::Table),
            9 => Some(ObjKind::Userdata),
            10 => Some(ObjKind::Cdata),
            16 => Some(ObjKind::Proto),
            17 => Some(ObjKind::Upval),
            0..=4 | 11..=15 | 18..=u8::MAX => None,
        }
    }

    /// The kind of the objects values with tag `t` point to (`None`: not an object).
    #[cfg(test)] // checks the numbering; the collector reads kinds directly
    pub const fn of_tag(t: Tag) -> Option<ObjKind> {
        match t {
            Tag::Str => Some(ObjKind::Str),
            Tag::Thread => Some(ObjKind::Thread),
            Tag::Function => Some(ObjKind::Function),
            Tag::Table => Some(ObjKind::Table),
            Tag::Userdata => Some(ObjKind::Userdata),
            Tag::Cdata => Some(ObjKind::Cdata),
            Tag::Nil | Tag::False | Tag::True | Tag::LightUserdata => None,
        }
    }

    /// The tag of a value pointing to such an object (`None`: prototypes and
    /// upvalues are never values).
    #[inline(always)]
    pub const fn tag(self) -> Option<Tag> {
        match self {
            ObjKind::Str => Some(Tag::Str),
            ObjKind::Thread => Some(Tag::Thread),
            ObjKind::Function => Some(Tag::Function),
            ObjKind::Table => Some(Tag::Table),
            ObjKind::Userdata => Some(Tag::Userdata),
            ObjKind::Cdata => Some(Tag::Cdata),
            ObjKind::Proto | ObjKind::Upval => None,
        }
    }

    /// Do objects of this kind live on the collector's finalizable list (`udata`)
    /// rather than the general one, so a dead one with a `__gc` is found and queued
    /// without a side table (DESIGN.md invariant 4)? `gc::finalizer_of` says which
    /// function finalizes one. C data stay on the general list: only those given a
    /// finalizer by `ffi.gc` are chained apart, through their own prefix
    /// (`cdata.rs`), so the atomic phase never walks all cdata.
    #[inline(always)]
    pub const fn has_finalizer(self) -> bool {
        match self {
            ObjKind::Userdata => true,
            ObjKind::Str
            | ObjKind::Thread
            | ObjKind::Function
            | ObjKind::Table
            | ObjKind::Cdata
            | ObjKind::Proto
            | ObjKind::Upval => false,
        }
    }
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
    /// Per-kind flags (tables: metamethod absence cache; strings: reserved-word id).
    pub flags: u8,
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

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [ObjKind; 8] = [
        ObjKind::Str,
        ObjKind::Thread,
        ObjKind::Function,
        ObjKind::Table,
        ObjKind::Userdata,
        ObjKind::Cdata,
        ObjKind::Proto,
        ObjKind::Upval,
    ];

    #[test]
    fn kinds_of_values_are_their_tags() {
        for t in (0..16).filter_map(Tag::from_bits) {
            match ObjKind::of_tag(t) {
                Some(k) => {
                    assert_eq!(k as u8, t as u8, "{k:?}");
                    assert_eq!(k.tag(), Some(t));
                    assert!(t.is_gc());
                }
                None => assert!(!t.is_gc(), "{t:?}"),
            }
        }
        for k in KINDS {
            assert_eq!(ObjKind::from_u8(k as u8), Some(k));
            match k.tag() {
                Some(t) => assert_eq!(ObjKind::of_tag(t), Some(k)),
                None => assert!(k as u8 >= ObjKind::FIRST_INTERNAL, "{k:?}"),
            }
        }
        let mut nums: Vec<u8> = KINDS.iter().map(|&k| k as u8).collect();
        assert_eq!((0..=u8::MAX).filter_map(ObjKind::from_u8).count(), KINDS.len());
        nums.sort_unstable();
        nums.dedup();
        assert_eq!(nums.len(), KINDS.len());
    }

    #[test]
    fn only_userdata_live_on_the_finalizable_list() {
        for k in KINDS {
            assert_eq!(k.has_finalizer(), k == ObjKind::Userdata, "{k:?}");
        }
    }
}
