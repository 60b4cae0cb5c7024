//! Full userdata: a block of bytes owned by the collector, with a metatable and an
//! environment table (Lua 5.1's `newproxy` and host userdata).
//!
//! Invariants:
//! - The payload (`len` bytes, 16-aligned) follows the struct and is zeroed at
//!   creation.
//! - A userdata whose metatable has `__gc` is finalized at most once: the collector
//!   sets its FINALIZED mark bit before queueing the call.
//! - `host` is `None` for plain byte payloads. When the embedding API (`crate::lua`)
//!   stores a Rust value in the payload it sets `host` to the vtable of that value's
//!   type: the payload then holds an initialised value of the type whose `TypeId`
//!   `HostPayload::type_id` returns, at the first address of the payload aligned for
//!   it. `gc::free_object` takes `host` out and calls its `drop` exactly once, right
//!   before the block is freed (after any `__gc` finalizer, at state close too).
//!   `drop` runs inside the collector: it must not touch the Lua state (the
//!   embedding API guarantees this by making the state unavailable while the VM
//!   runs, see `docs/embedding.md`) and must not unwind (it catches panics).

use std::any::TypeId;

use crate::object::{GcHeader, GcRef, GcTable};

/// How to drop and identify a Rust value stored in a userdata payload.
pub struct HostPayload {
    /// Drop the value in place. Called with the payload's start address.
    ///
    /// # Safety
    /// The payload holds an initialised, not yet dropped value of the type.
    pub drop: unsafe fn(*mut u8),
    /// The `TypeId` of the stored value's type.
    pub type_id: fn() -> TypeId,
    /// Heap bytes the value owns in blocks of its own (a string buffer's data), for
    /// the heap verifier; `None` for values that own none. Read only where the
    /// verifier is compiled (tests, the `internals` feature).
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub heap_bytes: Option<fn(GcRef<GcUdata>) -> usize>,
}

#[repr(C, align(16))]
pub struct GcUdata {
    pub hdr: GcHeader,
    pub metatable: Option<GcRef<GcTable>>,
    pub env: GcRef<GcTable>,
    pub len: usize,
    /// Set when the payload holds a Rust value (see the module invariants).
    pub host: Option<&'static HostPayload>,
}

impl GcUdata {
    /// Bytes of a userdata with a payload of `len`.
    pub fn alloc_size(len: usize) -> usize {
        std::mem::size_of::<GcUdata>() + len
    }
    /// The payload.
    pub fn payload(&self) -> *mut u8 {
        // SAFETY: the payload starts right after the struct, inside the allocation.
        unsafe { (self as *const GcUdata as *mut u8).add(std::mem::size_of::<GcUdata>()) }
    }
    /// The payload, derived from the object pointer itself (so the pointer may be
    /// used for the whole payload, not only for the struct a `&GcUdata` covers).
    pub fn payload_ptr(u: GcRef<GcUdata>) -> *mut u8 {
        // SAFETY: the allocation is `size_of::<GcUdata>() + len` bytes; the payload
        // starts right after the struct.
        unsafe { u.as_ptr().cast::<u8>().add(std::mem::size_of::<GcUdata>()) }
    }
}
