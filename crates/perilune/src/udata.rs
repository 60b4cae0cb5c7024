//! Full userdata: a block of bytes owned by the collector, with a metatable and an
//! environment table (Lua 5.1's `newproxy` and, later, host userdata).
//!
//! Invariants:
//! - The payload (`len` bytes, 16-aligned) follows the struct and is zeroed at
//!   creation.
//! - A userdata whose metatable has `__gc` is finalized at most once: the collector
//!   sets its FINALIZED mark bit before queueing the call.

use crate::object::{GcHeader, GcRef, Table};

#[repr(C, align(16))]
pub struct Userdata {
    pub hdr: GcHeader,
    pub metatable: Option<GcRef<Table>>,
    pub env: GcRef<Table>,
    pub len: usize,
}

impl Userdata {
    /// Bytes of a userdata with a payload of `len`.
    pub fn alloc_size(len: usize) -> usize {
        std::mem::size_of::<Userdata>() + len
    }
    /// The payload.
    pub fn payload(&self) -> *mut u8 {
        // SAFETY: the payload starts right after the struct, inside the allocation.
        unsafe { (self as *const Userdata as *mut u8).add(std::mem::size_of::<Userdata>()) }
    }
}
