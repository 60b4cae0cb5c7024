//! The collector: incremental tri-colour mark and sweep.
//!
//! (Stub: API only; the implementation is being written. See docs/gc.md.)
//!
//! Invariants (DESIGN.md 3-6):
//! - No phase allocates or raises.
//! - Steps run only at safe points: the interpreter calls [`check`] between
//!   instructions, and `collectgarbage` calls [`full_collect`] / [`step`].

use crate::alloc::{Heap, OutOfMemory};
use crate::object::{GcHeader, GcRef, ObjKind, Table};
use crate::value::Value;
use crate::vm::state::State;
use std::ptr::NonNull;

/// Mark bits in `GcHeader::marked`.
pub mod mark {
    pub const WHITE0: u8 = 1 << 0;
    pub const WHITE1: u8 = 1 << 1;
    pub const WHITES: u8 = WHITE0 | WHITE1;
    pub const BLACK: u8 = 1 << 2;
    /// Never collected (metamethod names, the out-of-memory message, ...).
    pub const FIXED: u8 = 1 << 3;
    /// Its finalizer has been queued or run; it is not finalized again.
    pub const FINALIZED: u8 = 1 << 4;
}

/// Collector phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Pause,
    Propagate,
    Atomic,
    SweepStrings,
    Sweep,
    Finalize,
}

/// Collector state.
pub struct Gc {
    pub phase: Phase,
    pub current_white: u8,
    /// All objects except strings.
    pub allgc: Option<GcRef<GcHeader>>,
    /// Userdata with a `__gc` metamethod that died and wait for their finalizer, in
    /// order.
    pub tobefnz: Option<GcRef<GcHeader>>,
    pub gray: Option<GcRef<GcHeader>>,
    pub grayagain: Option<GcRef<GcHeader>>,
    pub weak: Option<GcRef<GcHeader>>,
    /// Collection paused by `collectgarbage("stop")`.
    pub stopped: bool,
    /// Percent: wait until memory grows to `pause`% of the live estimate.
    pub pause: u32,
    /// Percent: work done per step relative to allocation.
    pub stepmul: u32,
    pub threshold: usize,
    pub estimate: usize,
}

impl Default for Gc {
    fn default() -> Self {
        Gc::new()
    }
}

impl Gc {
    pub fn new() -> Gc {
        Gc {
            phase: Phase::Pause,
            current_white: mark::WHITE0,
            allgc: None,
            tobefnz: None,
            gray: None,
            grayagain: None,
            weak: None,
            stopped: false,
            pause: 200,
            stepmul: 200,
            threshold: 0,
            estimate: 0,
        }
    }

    /// Allocate an object of type `T` (whose first field is its header) followed by
    /// `extra` zeroed bytes, write `obj` into it, colour it white and link it into
    /// `allgc`. Must not be used for strings (see `string::StringTable::intern`).
    pub fn new_object<T>(&mut self, heap: &Heap, obj: T, extra: usize) -> Result<GcRef<T>, OutOfMemory> {
        let size = std::mem::size_of::<T>().checked_add(extra).ok_or(OutOfMemory)?;
        let layout =
            std::alloc::Layout::from_size_align(size, std::mem::align_of::<T>().max(8)).map_err(|_| OutOfMemory)?;
        let p = heap.alloc(layout)?;
        // SAFETY: `p` is a fresh block of `size` bytes, aligned for T.
        unsafe {
            p.as_ptr().cast::<T>().write(obj);
            std::ptr::write_bytes(p.as_ptr().add(std::mem::size_of::<T>()), 0, extra);
        }
        let r: GcRef<T> = GcRef::from_raw(p.cast());
        let h = r.header().get_mut();
        h.marked = self.current_white;
        h.next = self.allgc;
        self.allgc = Some(r.header());
        Ok(r)
    }
}

/// Run GC work if the allocation debt says it is due. Called at safe points.
pub fn check(state: &mut State) {
    let _ = state;
}

/// One incremental step.
pub fn step(state: &mut State) -> bool {
    let _ = state;
    false
}

/// A full, non-incremental collection.
pub fn full_collect(state: &mut State) {
    let _ = state;
}

/// Backward barrier: a black table `t` is about to hold a white value.
#[inline(always)]
pub fn barrier_back(state: &mut State, t: GcRef<Table>, v: Value) {
    let _ = (state, t, v);
}

/// Forward barrier: black object `o` now references `v` (metatables, upvalues, envs).
#[inline(always)]
pub fn barrier_forward(state: &mut State, o: GcRef<GcHeader>, v: Value) {
    let _ = (state, o, v);
}

/// Free every object (state close). Finalizers have already run.
pub fn free_all(state: &mut State) {
    let _ = state;
}

/// Debug heap verifier: checks the invariants and byte accounting; returns a
/// description of the first violation.
pub fn verify_heap(state: &mut State) -> Result<(), String> {
    let _ = state;
    Ok(())
}

/// Free one object with its owned buffers.
///
/// # Safety
/// `o` is unlinked from every list and unreachable.
pub unsafe fn free_object(heap: &Heap, o: GcRef<GcHeader>) {
    let _ = (heap, o, ObjKind::Str, NonNull::<u8>::dangling());
}

/// Take the next object waiting for its finalizer (relinking it into the list of all
/// objects), or `None`.
pub fn next_finalizer(state: &mut State) -> Option<GcRef<crate::object::Userdata>> {
    let _ = state;
    None
}

/// `collectgarbage("step", kb)`: do work worth `kb` kilobytes of allocation (one
/// step for 0); true if a cycle finished.
pub fn step_kb(state: &mut State, kb: usize) -> bool {
    let _ = kb;
    step(state)
}
