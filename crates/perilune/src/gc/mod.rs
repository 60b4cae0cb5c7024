//! The collector: incremental tri-colour mark and sweep (see docs/gc.md).
//!
//! This module owns the collector state ([`Gc`]), object creation
//! ([`Gc::new_object`]), the step driver and pacing, the write barriers and the
//! finalizer queue API. Marking and the atomic phase live in [`trace`], sweeping and
//! freeing in [`sweep`], the debug heap verifier in [`verify`].
//!
//! Colours (`GcHeader::marked`): white = one of the two white bits set; gray = neither
//! white nor black (the object is on a gray list, or is a weak table / thread / open
//! upvalue that is kept gray on purpose); black = `BLACK` set. The two whites swap
//! roles at the end of every atomic phase, so objects that survived the cycle keep
//! being "live" and unmarked ones become the *other* white, which sweep frees.
//!
//! Invariants (DESIGN.md 3-6):
//! - No phase allocates or raises: every list is intrusive (`next`, `gclist`), the
//!   weak-table and finalizer bookkeeping included.
//! - Steps run only at safe points: the interpreter calls [`check`] between
//!   instructions, and `collectgarbage` calls [`full_collect`] / [`step`] /
//!   [`step_kb`]. An allocation only adds to the heap's debt.
//! - During `Propagate`, no black object references a white one (the barriers keep
//!   this), except through weak references.
//! - Finalizers are never called here: dead userdata with `__gc` are queued on
//!   `tobefnz` and the VM pulls them with [`next_finalizer`] at a safe point.

use crate::alloc::{Heap, OutOfMemory};
use crate::cdata::{GcCdata, CDATA_ONCHAIN};
use crate::hot::VmMode;
use crate::object::{GcHeader, GcRef, GcTable};
use crate::value::Value;
use crate::vm::state::State;

pub(crate) use trace::finalizer_of;

pub mod sweep;
pub mod trace;
#[cfg(any(test, feature = "internals"))]
pub mod verify;

#[cfg(test)]
mod tests;

pub use sweep::{free_all, free_object};
#[cfg(any(test, feature = "internals"))]
pub use verify::verify_heap;

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
    /// Tables: the last traversal found weak keys (`__mode` contains `k`).
    pub const WEAKKEY: u8 = 1 << 5;
    /// Tables: the last traversal found weak values (`__mode` contains `v`).
    pub const WEAKVALUE: u8 = 1 << 6;
}

/// Collector phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between cycles; the next step marks the roots.
    Pause,
    /// Incremental marking: gray objects are traversed a few at a time.
    Propagate,
    /// The non-incremental end of marking. Only visible while `trace::atomic` runs.
    Atomic,
    /// Incremental sweep of the string table, one bucket at a time.
    SweepStrings,
    /// Incremental sweep of `allgc`, then of `udata`.
    Sweep,
    /// End of the cycle: dead open upvalues are freed, pacing is reset.
    Finalize,
}

/// Which object list the incremental sweep is walking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepList {
    AllGc,
    Udata,
}

/// Bytes of allocation that buy one step's basic amount of work.
pub const STEP_SIZE: usize = 1024;
/// Objects examined per sweep unit.
pub(crate) const SWEEP_MAX: usize = 40;
/// Work units charged per object swept.
pub(crate) const SWEEP_COST: usize = 10;
/// Memory limit fraction (percent) above which a cycle is finished at once.
pub const LIMIT_URGENT_PERCENT: usize = 75;

/// Collector state.
pub struct Gc {
    pub phase: Phase,
    pub current_white: u8,
    /// All objects except strings and userdata.
    pub allgc: Option<GcRef<GcHeader>>,
    /// All userdata except those waiting in `tobefnz`. Kept apart from `allgc` so
    /// the atomic phase only walks userdata when it looks for finalizable objects.
    pub udata: Option<GcRef<GcHeader>>,
    /// GcUdata with a `__gc` metamethod that died and wait for their finalizer, in
    /// order.
    pub tobefnz: Option<GcRef<GcHeader>>,
    /// C data that have (or had) a finalizer from `ffi.gc`, chained through their
    /// prefix (`cdata.rs`), not through `next`: they stay on `allgc`. The atomic
    /// phase walks only this chain (FFI.md, "Finalizers").
    pub finobj: Option<GcRef<GcCdata>>,
    /// C data found dead with a finalizer, waiting for it, chained the same way.
    pub cdata_due: Option<GcRef<GcCdata>>,
    pub gray: Option<GcRef<GcHeader>>,
    pub grayagain: Option<GcRef<GcHeader>>,
    pub weak: Option<GcRef<GcHeader>>,
    /// Dead open upvalues unlinked by the sweep, freed at the end of the sweep (a
    /// dead thread swept later may still walk its open-upvalue list through them).
    pub dead_upvals: Option<GcRef<GcHeader>>,
    /// Next string-table bucket to sweep.
    pub sweep_bucket: usize,
    /// The list being swept and the last object kept in it (`None`: at its head).
    pub sweep_list: SweepList,
    pub sweep_prev: Option<GcRef<GcHeader>>,
    /// Collection paused by `collectgarbage("stop")`.
    pub stopped: bool,
    /// Compilations in progress that run Lua code (`load` with a reader function):
    /// while above zero no collection work runs at all, not even a requested one,
    /// because the compiler holds objects that no root reaches. Debt just builds up.
    pub locked: u32,
    /// Percent: wait until memory grows to `pause`% of the live estimate.
    pub pause: u32,
    /// Percent: work done per step relative to allocation.
    pub stepmul: u32,
    pub threshold: usize,
    /// The live estimate that sets the next threshold, as Lua 5.1 keeps it: bytes in
    /// use at the atomic phase, less what that phase kept alive only because it waits
    /// for a finalizer (garbage for the next cycle), less what the sweep has freed
    /// since. Objects allocated during the sweep are not in it: they are new and,
    /// in a stream of short-lived objects, mostly garbage already.
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
            udata: None,
            tobefnz: None,
            finobj: None,
            cdata_due: None,
            gray: None,
            grayagain: None,
            weak: None,
            dead_upvals: None,
            sweep_bucket: 0,
            sweep_list: SweepList::AllGc,
            sweep_prev: None,
            stopped: false,
            locked: 0,
            pause: 200,
            stepmul: 200,
            threshold: 0,
            estimate: 0,
        }
    }

    /// Allocate an object of type `T` (whose first field is its header) followed by
    /// `extra` zeroed bytes, write `obj` into it, colour it white and link it into
    /// `allgc` (userdata: `udata`). Must not be used for strings (see
    /// `string::StringTable::intern`).
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
        self.adopt(r.header());
        Ok(r)
    }

    /// Colour a freshly allocated object white and link it into `allgc` (userdata:
    /// `udata`). For objects not made by [`Gc::new_object`] (C data, whose block
    /// starts before the header).
    pub fn adopt(&mut self, o: GcRef<GcHeader>) {
        let h = o.get_mut();
        h.marked = self.current_white;
        if h.kind.has_finalizer() {
            h.next = self.udata;
            self.udata = Some(o);
        } else {
            h.next = self.allgc;
            self.allgc = Some(o);
        }
    }

    /// The white of the previous cycle: objects still carrying it after the atomic
    /// phase are dead.
    #[inline(always)]
    pub fn other_white(&self) -> u8 {
        self.current_white ^ mark::WHITES
    }

    /// Dead: not reached in the last mark phase, and not fixed. Only meaningful
    /// between the atomic phase and the end of the sweep.
    #[inline(always)]
    pub fn is_dead(&self, o: GcRef<GcHeader>) -> bool {
        o.marked & self.other_white() != 0 && o.marked & mark::FIXED == 0
    }

    /// Give `o` the current white, keeping its non-colour bits.
    #[inline(always)]
    pub(crate) fn make_white(&self, o: GcRef<GcHeader>) {
        let h = o.get_mut();
        h.marked = (h.marked & !(mark::WHITES | mark::BLACK)) | self.current_white;
    }

    /// Is the collector in a marking phase (where the tri-colour invariant holds)?
    #[inline(always)]
    pub fn is_marking(&self) -> bool {
        matches!(self.phase, Phase::Propagate | Phase::Atomic)
    }
}

#[inline(always)]
pub(crate) fn is_white(o: GcRef<GcHeader>) -> bool {
    o.marked & mark::WHITES != 0
}

#[inline(always)]
pub(crate) fn is_black(o: GcRef<GcHeader>) -> bool {
    o.marked & mark::BLACK != 0
}

/// Is `v` a collectable object that is currently white?
#[inline(always)]
fn is_white_value(v: Value) -> bool {
    match v.as_gc() {
        Some(o) => is_white(o),
        None => false,
    }
}

// --- Pacing and the step driver -------------------------------------------------

/// Run collector work `f` in [`VmMode::Gc`]. A running profiler's timer is told too
/// (it runs on another thread and cannot read the mode): its ticks meanwhile are the
/// collector's samples (`'G'`).
fn collecting<R>(state: &mut State, f: impl FnOnce(&mut State) -> R) -> R {
    state.budget.profile.set_vmstate(VmMode::Gc.profile_letter());
    let r = state.with_mode(VmMode::Gc, f);
    state.budget.profile.set_vmstate(0);
    r
}

/// Run GC work if the allocation debt says it is due. Called at safe points.
///
/// A full collection owed by a refused allocation runs first, even while the collector
/// is stopped. Otherwise does nothing while the collector is stopped. When a memory
/// limit is set and use has passed [`LIMIT_URGENT_PERCENT`] of it, the current cycle is
/// finished at once so that garbage is freed before allocations start to be refused.
pub fn check(state: &mut State) {
    collecting(state, check_now)
}

fn check_now(state: &mut State) {
    if state.gc.locked > 0 {
        return;
    }
    if state.heap.collection_owed() {
        // An allocation was refused: collect everything now, even while the collector
        // is stopped, so the code that handles the error can allocate again.
        full_cycle(state);
        return;
    }
    if state.gc.stopped || state.heap.debt() <= 0 {
        return;
    }
    if near_limit(&state.heap) {
        // Finish the cycle in progress, or run a whole one from `Pause`.
        finish_cycle(state);
        set_threshold(state);
        return;
    }
    let debt = state.heap.debt().max(0) as usize;
    let budget = work_budget(&state.gc, debt);
    run_work(state, budget);
}

#[cfg(test)]
/// One incremental step, as `collectgarbage("step", 0)`: the work normally done for
/// [`STEP_SIZE`] bytes of allocation. Returns `true` if the step finished a cycle.
/// Works even while the collector is stopped.
pub fn step(state: &mut State) -> bool {
    step_kb(state, 0)
}

/// `collectgarbage("step", kb)`: work as if `kb` KiB had been allocated. Returns
/// `true` if a cycle finished.
pub fn step_kb(state: &mut State, kb: usize) -> bool {
    if state.gc.locked > 0 {
        return false;
    }
    let budget = work_budget(&state.gc, kb.saturating_mul(1024));
    collecting(state, |state| run_work(state, budget))
}

/// A full, non-incremental collection (`collectgarbage("collect")`). Marking in
/// progress is abandoned (its sweep only whitens), then a whole cycle runs.
pub fn full_collect(state: &mut State) {
    if state.gc.locked > 0 {
        return;
    }
    collecting(state, full_cycle)
}

fn full_cycle(state: &mut State) {
    if state.gc.phase == Phase::Propagate {
        // Abandon the marks: sweeping now frees nothing, because no object carries
        // the other white until the next atomic phase, and it whitens everything.
        let gc = &mut state.gc;
        gc.gray = None;
        gc.grayagain = None;
        gc.weak = None;
        start_sweep(gc);
    }
    finish_cycle(state);
    // Now at Pause: run one complete cycle.
    finish_cycle(state);
    // That pays a collection owed by a refused allocation.
    state.heap.clear_collection_owed();
    set_threshold(state);
}

#[cfg(test)]
/// `collectgarbage("count")` in bytes.
pub fn count(state: &State) -> usize {
    state.heap.used()
}

/// `collectgarbage("setpause", p)`: returns the previous value.
pub fn set_pause(state: &mut State, pause: u32) -> u32 {
    std::mem::replace(&mut state.gc.pause, pause)
}

/// `collectgarbage("setstepmul", m)`: returns the previous value.
pub fn set_stepmul(state: &mut State, stepmul: u32) -> u32 {
    std::mem::replace(&mut state.gc.stepmul, stepmul)
}

/// `collectgarbage("stop")` / `("restart")`.
pub fn set_stopped(state: &mut State, stopped: bool) {
    state.gc.stopped = stopped;
    if !stopped {
        // Restarting makes the collector catch up from now.
        state.heap.set_debt(0);
    }
}

fn near_limit(heap: &Heap) -> bool {
    let limit = heap.limit();
    limit != usize::MAX && heap.footprint() >= soft_limit(limit)
}

fn soft_limit(limit: usize) -> usize {
    (limit / 100).saturating_mul(LIMIT_URGENT_PERCENT)
}

/// Work units for a step paying `debt` bytes of allocation.
fn work_budget(gc: &Gc, debt: usize) -> usize {
    if gc.stepmul == 0 {
        // Lua 5.1: a step multiplier of 0 means "no limit": each step is a full cycle.
        return usize::MAX;
    }
    debt.saturating_add(STEP_SIZE).saturating_mul(gc.stepmul as usize) / 100
}

/// Do about `budget` units of work; stop early when a cycle ends. Returns `true` if
/// a cycle ended. Resets the debt: to the next cycle's threshold after a finished
/// cycle, else to one step's worth of allocation.
fn run_work(state: &mut State, budget: usize) -> bool {
    let mut left = budget;
    let finished = loop {
        let done = single_step(state);
        if state.gc.phase == Phase::Pause {
            break true;
        }
        if done >= left {
            break false;
        }
        left -= done;
    };
    if finished {
        set_threshold(state);
    } else {
        state.heap.set_debt(-(STEP_SIZE as isize));
    }
    finished
}

/// Run steps until the collector is back at `Pause`. From `Pause`, runs a whole cycle.
fn finish_cycle(state: &mut State) {
    loop {
        single_step(state);
        if state.gc.phase == Phase::Pause {
            return;
        }
    }
}

/// After a cycle: wait until memory grows to `pause`% of the live estimate, but
/// start earlier when a memory limit would be reached first.
fn set_threshold(state: &mut State) {
    let used = state.heap.used();
    let gc = &mut state.gc;
    let mut th = (gc.estimate / 100).saturating_mul(gc.pause as usize);
    let limit = state.heap.limit();
    if limit != usize::MAX {
        // The limit bounds the footprint, the threshold counts allocated bytes: the
        // footprint's excess over `used` (free space inside pages) is assumed to stay.
        let footprint = state.heap.footprint();
        let soft = soft_limit(limit);
        // Start at the soft limit; if the footprint is already past it, halfway to the
        // hard limit, so that a nearly full heap does not collect at every check.
        let cap = if footprint < soft {
            soft
        } else {
            footprint + limit.saturating_sub(footprint) / 2
        };
        th = th.min(cap.saturating_sub(footprint.saturating_sub(used)));
    }
    gc.threshold = th;
    let debt = if used >= th {
        (used - th).min(isize::MAX as usize) as isize
    } else {
        -((th - used).min(isize::MAX as usize) as isize)
    };
    state.heap.set_debt(debt);
}

/// A sweep step freed `before - used` bytes (the collector never allocates, so the
/// difference is exactly what it freed): take them out of the live estimate.
fn sweep_freed(state: &mut State, before: usize) {
    let freed = before.saturating_sub(state.heap.used());
    state.gc.estimate = state.gc.estimate.saturating_sub(freed);
}

fn start_sweep(gc: &mut Gc) {
    gc.phase = Phase::SweepStrings;
    gc.sweep_bucket = 0;
    gc.sweep_list = SweepList::AllGc;
    gc.sweep_prev = None;
}

/// One unit of collector work; returns its cost in work units.
fn single_step(state: &mut State) -> usize {
    match state.gc.phase {
        Phase::Pause => {
            trace::start_cycle(state);
            state.gc.phase = Phase::Propagate;
            64
        }
        Phase::Propagate => {
            if state.gc.gray.is_some() {
                trace::propagate_one(state)
            } else {
                // The gray list is empty: finish marking in one go.
                let work = trace::atomic(state);
                start_sweep(&mut state.gc);
                work
            }
        }
        Phase::Atomic => {
            // Not observable between steps; recover by re-running the atomic phase.
            let work = trace::atomic(state);
            start_sweep(&mut state.gc);
            work
        }
        Phase::SweepStrings => {
            let before = state.heap.used();
            let work = sweep::sweep_strings_step(state);
            sweep_freed(state, before);
            if state.gc.sweep_bucket >= state.strings.bucket_count() {
                state.gc.phase = Phase::Sweep;
                state.gc.sweep_list = SweepList::AllGc;
                state.gc.sweep_prev = None;
            }
            work
        }
        Phase::Sweep => {
            let before = state.heap.used();
            let (work, done) = sweep::sweep_step(state, SWEEP_MAX);
            sweep_freed(state, before);
            if done {
                state.gc.phase = Phase::Finalize;
            }
            work
        }
        Phase::Finalize => {
            let before = state.heap.used();
            sweep::free_dead_upvals(state);
            sweep_freed(state, before);
            state.heap.trim();
            state.gc.phase = Phase::Pause;
            SWEEP_COST
        }
    }
}

// --- Barriers -------------------------------------------------------------------

/// Backward barrier: table `t` is about to hold `v` (any store into a table). Cheap
/// when `t` is not black or `v` is not a white object; call it on every store.
#[inline(always)]
pub fn barrier_back(state: &mut State, t: GcRef<GcTable>, v: Value) {
    if is_black(t.header()) && is_white_value(v) {
        barrier_back_slow(state, t);
    }
}

#[cold]
#[inline(never)]
fn barrier_back_slow(state: &mut State, t: GcRef<GcTable>) {
    let gc = &mut state.gc;
    // While marking, re-traverse the table in the atomic phase instead of marking
    // each stored value: a table that is written once is usually written again.
    // During the sweep the stored object has the current white and is safe; the
    // table is whitened when the sweep reaches it.
    if gc.is_marking() {
        let h = t.header().get_mut();
        h.marked &= !mark::BLACK;
        h.gclist = gc.grayagain;
        gc.grayagain = Some(t.header());
    }
}

/// Forward barrier: object `o` now references `v` (metatables, closed upvalues,
/// environments). Cheap when `o` is not black or `v` is not a white object.
#[inline(always)]
pub fn barrier_forward(state: &mut State, o: GcRef<GcHeader>, v: Value) {
    if is_black(o) {
        if let Some(vo) = v.as_gc() {
            if is_white(vo) {
                barrier_forward_slow(state, o, vo);
            }
        }
    }
}

/// Forward barrier for a reference that is not a value: object `o` now references
/// object `v` (a closure that takes another closure's upvalue, `debug.upvaluejoin`).
#[inline]
pub fn barrier_forward_obj(state: &mut State, o: GcRef<GcHeader>, v: GcRef<GcHeader>) {
    if is_black(o) && is_white(v) {
        barrier_forward_slow(state, o, v);
    }
}

#[cold]
#[inline(never)]
fn barrier_forward_slow(state: &mut State, o: GcRef<GcHeader>, v: GcRef<GcHeader>) {
    let gc = &mut state.gc;
    if gc.is_marking() {
        // Keep the invariant by marking the new target.
        trace::mark_object(gc, v);
    } else {
        // Sweeping: make `o` white so it no longer claims to be fully marked. It is
        // not dead (it has the current white), so the sweep keeps it.
        gc.make_white(o);
    }
}

// --- Finalizers -----------------------------------------------------------------

/// Take the next object whose finalizer is due, in queue order (newest first, as
/// Lua 5.1 does). It goes back to the list of finalizable objects with its FINALIZED
/// bit set, so it is freed by a later cycle once unreachable again. The VM calls this
/// at safe points and runs [`finalizer_of`] the object with the object as argument
/// under a protected call, reporting errors to the warning handler.
pub fn next_finalizer(state: &mut State) -> Option<(GcRef<GcHeader>, Value)> {
    let gc = &mut state.gc;
    let Some(o) = gc.tobefnz else {
        // A C data finalizer: taken out of the object's slot, so it runs once. The
        // object stays on `allgc` and is freed by a later sweep.
        let c = gc.cdata_due?;
        let f = GcCdata::fin(c)?;
        gc.cdata_due = f.link.take();
        c.get_mut().hdr.flags &= !CDATA_ONCHAIN;
        let h = std::mem::replace(&mut f.fin, Value::NIL);
        return Some((c.header(), h));
    };
    let h = o.get_mut();
    gc.tobefnz = h.next;
    h.next = gc.udata;
    gc.udata = Some(o);
    if !gc.is_marking() {
        // It stayed black since its resurrection (tobefnz is not swept): it must
        // look unmarked to the next cycle. While marking it keeps its colour: it
        // was marked this cycle as a root and may still be on the gray list.
        gc.make_white(o);
    }
    Some((o, finalizer_of(o, state.tm_names[crate::vm::state::Tm::Gc as usize])))
}

/// `ffi.gc(cd, f)`: store `f` (nil: none) in `c`'s finalizer slot and put `c` on the
/// `finobj` chain if it is not on a chain yet. O(1); never allocates or fails
/// (FFI.md, "Finalizers"). `c` must have the slot (`GcCdata::has_fin_slot`).
pub fn set_cdata_finalizer(state: &mut State, c: GcRef<GcCdata>, f: Value) {
    let Some(slot) = GcCdata::fin(c) else { return };
    slot.fin = f;
    barrier_forward(state, c.header(), f);
    let h = c.get_mut();
    if !f.is_nil() && h.hdr.flags & CDATA_ONCHAIN == 0 {
        h.hdr.flags |= CDATA_ONCHAIN;
        slot.link = state.gc.finobj;
        state.gc.finobj = Some(c);
    }
}

/// State close (Lua 5.1 `lua_close`): queue the finalizer of *every* userdata whose
/// metatable has `__gc` and that was not finalized yet, reachable or not. Finishes a
/// cycle in progress first. The VM then runs them with [`next_finalizer`] before
/// [`free_all`]; finalizers of userdata created by those finalizers are queued by
/// calling this again (until [`has_pending_finalizers`] stays false).
pub fn queue_all_finalizers(state: &mut State) {
    if state.gc.phase != Phase::Pause {
        finish_cycle(state);
        set_threshold(state);
    }
    trace::separate(state, true);
    trace::separate_cdata(state, true);
}

/// Are finalizers waiting to be run?
#[inline(always)]
pub fn has_pending_finalizers(state: &State) -> bool {
    state.gc.tobefnz.is_some() || state.gc.cdata_due.is_some()
}
