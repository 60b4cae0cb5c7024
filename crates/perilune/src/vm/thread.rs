//! Threads (coroutines): a value stack and a stack of call frames.
//!
//! Invariants:
//! - `stack.len()` is the allocated size; every slot is initialised. Slots at and
//!   above `top` are scratch: the collector does not mark them and may clear them.
//! - Every frame's registers lie below `stack.len()`: entering a frame first makes
//!   room for its `framesize` plus `EXTRA_STACK` slack.
//! - After the stack is reallocated, every open upvalue's `v` is rewritten to point
//!   into the new block (`fix_open_upvals`).

use crate::alloc::HVec;
use crate::object::{GcHeader, GcRef, GcTable, GcUpval};
use crate::value::Value;

/// Slack kept above every frame's registers, so natives and metamethod calls can push
/// a few values without a check.
pub const EXTRA_STACK: usize = 8;
/// Largest stack, in slots, before "stack overflow".
pub const MAX_STACK: usize = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Created, not started, or yielded: can be resumed.
    Suspended,
    /// Currently running (it is the current thread).
    Running,
    /// Resumed another coroutine and waits for it.
    Normal,
    /// Finished, or died with an error.
    Dead,
}

#[repr(C)]
pub struct GcThread {
    pub hdr: GcHeader,
    pub stack: HVec<Value>,
    pub top: usize,
    pub frames: HVec<crate::vm::frame::CallInfo>,
    /// Open upvalues, sorted by slot, highest first.
    pub open_upvals: Option<GcRef<GcUpval>>,
    pub status: ThreadStatus,
    /// The thread's global environment (`getfenv(0)`).
    pub env: GcRef<GcTable>,
    /// How many native-to-Lua boundaries are active on this thread: yielding is only
    /// allowed when it is 0.
    pub nny: u32,
}
