//! Sweeping and freeing: the incremental sweep of the string table and of the object
//! lists, freeing one object with its buffers, and freeing everything at state close.
//!
//! Invariants:
//! - The sweep only follows `next` links of the list it is sweeping, and reads a
//!   dead object only while unlinking and freeing that same object. The one
//!   exception, a dead thread closing the live upvalues on its open list, is made
//!   safe by *deferring* the free of dead open upvalues (`Gc::dead_upvals`) until the
//!   whole sweep is over: every upvalue a dead thread's list can name is still
//!   allocated when the thread is swept, whatever the list order.
//! - A live thread never has a dead open upvalue: traversing a thread marks its
//!   open upvalues.
//! - Objects kept by the sweep get the current white; the `tobefnz` list is not
//!   swept (its objects are whitened when the next cycle marks its roots).
//! - Freeing never allocates. Tables, prototypes and threads are dropped in place,
//!   which frees their `HVec` buffers through their `HeapRef`.

use super::{mark, SweepList, SWEEP_COST};
use crate::alloc::Heap;
use crate::func::{GcFunc, GcProto, GcUpval};
use crate::object::{GcHeader, GcRef, GcTable, GcThread, GcUdata, ObjKind};
use crate::vm::state::State;
use std::alloc::Layout;
use std::ptr::NonNull;

/// Sweep one string-table bucket; returns the work done.
pub(crate) fn sweep_strings_step(state: &mut State) -> usize {
    let other = state.gc.other_white();
    let white = state.gc.current_white;
    let bucket = state.gc.sweep_bucket;
    let mut n = 0usize;
    state.strings.sweep_bucket(
        &state.heap,
        bucket,
        |s| {
            n += 1;
            let m = s.hdr.marked;
            m & other != 0 && m & mark::FIXED == 0
        },
        |s| {
            let h = &mut s.get_mut().hdr;
            h.marked = (h.marked & !(mark::WHITES | mark::BLACK)) | white;
        },
    );
    state.gc.sweep_bucket = bucket + 1;
    (n + 1) * SWEEP_COST
}

/// Examine up to `max` objects of `allgc` then `udata`, freeing the dead ones and
/// whitening the others. Returns the work done and whether both lists are done.
pub(crate) fn sweep_step(state: &mut State, max: usize) -> (usize, bool) {
    let mut n = 0usize;
    while n < max {
        let gc = &mut state.gc;
        let next = match (gc.sweep_prev, gc.sweep_list) {
            (Some(p), _) => p.next,
            (None, SweepList::AllGc) => gc.allgc,
            (None, SweepList::Udata) => gc.udata,
        };
        let Some(o) = next else {
            match gc.sweep_list {
                SweepList::AllGc => {
                    gc.sweep_list = SweepList::Udata;
                    gc.sweep_prev = None;
                    continue;
                }
                SweepList::Udata => return (n * SWEEP_COST, true),
            }
        };
        n += 1;
        if gc.is_dead(o) {
            let after = o.next;
            match (gc.sweep_prev, gc.sweep_list) {
                (Some(p), _) => p.get_mut().next = after,
                (None, SweepList::AllGc) => gc.allgc = after,
                (None, SweepList::Udata) => gc.udata = after,
            }
            free_dead(state, o);
        } else {
            gc.make_white(o);
            gc.sweep_prev = Some(o);
        }
    }
    (n * SWEEP_COST, false)
}

/// Free an object the sweep found dead and has unlinked.
fn free_dead(state: &mut State, o: GcRef<GcHeader>) {
    match o.kind() {
        ObjKind::Upval if o.cast::<GcUpval>().is_open => {
            // Its (dead) thread may be swept later and walk its open list: free it
            // at the end of the sweep.
            let gc = &mut state.gc;
            o.get_mut().next = gc.dead_upvals;
            gc.dead_upvals = Some(o);
        }
        ObjKind::Thread => {
            close_live_upvals(state, o.cast());
            // SAFETY: `o` is dead (unreachable) and was just unlinked from its list.
            unsafe { free_object(&state.heap, o) };
        }
        _ => {
            // SAFETY: as above.
            unsafe { free_object(&state.heap, o) };
        }
    }
}

/// A dead thread's stack is about to be freed: the upvalues on its open list that are
/// still reachable (a closure escaped from a coroutine that was dropped) take their
/// value with them.
fn close_live_upvals(state: &mut State, th: GcRef<GcThread>) {
    let mut cur = th.get_mut().open_upvals.take();
    while let Some(uv) = cur {
        // Every upvalue on the list is still allocated: dead open ones wait on
        // `dead_upvals` until the end of the sweep (module invariant).
        cur = uv.open_next;
        if !state.gc.is_dead(uv.header()) {
            let u = uv.get_mut();
            u.closed = u.get();
            u.v = &mut u.closed;
            u.is_open = false;
            u.open_next = None;
        }
    }
}

/// End of the sweep: free the dead open upvalues put aside by [`sweep_step`].
pub(crate) fn free_dead_upvals(state: &mut State) {
    let mut cur = state.gc.dead_upvals.take();
    while let Some(o) = cur {
        cur = o.next;
        // SAFETY: dead, unlinked from `allgc`, and no thread will look at it again
        // (all dead threads have been swept).
        unsafe { free_object(&state.heap, o) };
    }
}

/// Free one object with its owned buffers. Strings are owned by the string table and
/// are ignored here.
///
/// # Safety
/// `o` is unlinked from every list and unreachable.
pub unsafe fn free_object(heap: &Heap, o: GcRef<GcHeader>) {
    // SAFETY (all arms): caller contract; each object was allocated by
    // `Gc::new_object::<T>` with the extra bytes recomputed here from the object.
    unsafe {
        match o.kind() {
            ObjKind::Str => {}
            ObjKind::Table => drop_and_free::<GcTable>(heap, o, 0),
            ObjKind::Function => {
                let extra = o.aux as usize * 8;
                drop_and_free::<GcFunc>(heap, o, extra)
            }
            ObjKind::Proto => drop_and_free::<GcProto>(heap, o, 0),
            ObjKind::Upval => drop_and_free::<GcUpval>(heap, o, 0),
            ObjKind::Thread => drop_and_free::<GcThread>(heap, o, 0),
            ObjKind::Cdata => crate::cdata::GcCdata::free(heap, o),
            ObjKind::Userdata => {
                let u = o.cast::<GcUdata>();
                // A Rust value in the payload is dropped exactly once: `host` is
                // taken out first (see `udata.rs`).
                if let Some(host) = u.get_mut().host.take() {
                    (host.drop)(GcUdata::payload_ptr(u));
                }
                let extra = u.len;
                drop_and_free::<GcUdata>(heap, o, extra)
            }
        }
    }
}

/// The layout `Gc::new_object::<T>` used for an object with `extra` trailing bytes.
pub(crate) fn object_layout<T>(extra: usize) -> Option<Layout> {
    let size = std::mem::size_of::<T>().checked_add(extra)?;
    Layout::from_size_align(size, std::mem::align_of::<T>().max(8)).ok()
}

/// # Safety
/// `o` is a `T` allocated by `Gc::new_object::<T>(.., extra)`, unlinked and
/// unreachable.
unsafe fn drop_and_free<T>(heap: &Heap, o: GcRef<GcHeader>, extra: usize) {
    let Some(layout) = object_layout::<T>(extra) else {
        // Cannot happen: the same computation succeeded at allocation.
        return;
    };
    let p = o.as_ptr().cast::<u8>();
    // SAFETY: `p` points to an initialised T (caller contract); dropping it frees
    // its accounted buffers. It is not used afterwards.
    unsafe { std::ptr::drop_in_place(p.cast::<T>()) };
    if let Some(nn) = NonNull::new(p) {
        // SAFETY: allocated from `heap` with exactly `layout`.
        unsafe { heap.dealloc(nn, layout) };
    }
}

/// Free every object (state close). Finalizers have already run; objects still
/// waiting in `tobefnz` are freed without running theirs. Only `State::drop` calls
/// this, as its last act: afterwards every reference the state holds dangles.
pub fn free_all(state: &mut State) {
    let gc = &mut state.gc;
    let lists = [
        gc.allgc.take(),
        gc.udata.take(),
        gc.tobefnz.take(),
        gc.dead_upvals.take(),
    ];
    gc.gray = None;
    gc.grayagain = None;
    gc.weak = None;
    gc.sweep_prev = None;
    gc.sweep_list = SweepList::AllGc;
    gc.phase = super::Phase::Pause;
    for head in lists {
        let mut cur = head;
        while let Some(o) = cur {
            cur = o.next;
            // SAFETY: every object is being freed; freeing one never reads another
            // (threads do not walk their open upvalues here).
            unsafe { free_object(&state.heap, o) };
        }
    }
    state.strings.free_all(&state.heap);
}
