//! Marking: the roots, the gray lists, per-kind traversal, and the atomic phase
//! (re-traversal of threads and barriered tables, finalizer separation, weak-table
//! clearing).
//!
//! Invariants:
//! - An object is on at most one gray list at a time (`gray`, `grayagain` or
//!   `weak`, all linked through `GcHeader::gclist`): only white objects are pushed by
//!   [`mark_object`], and objects on a list are never white while marking.
//! - Weak tables, threads and open upvalues stay gray after traversal (weak tables
//!   on `weak`, the others on `grayagain`), so stores into them need no barrier; the
//!   atomic phase traverses them again.
//! - Keys of hash nodes whose value is nil are neither marked nor followed: such a
//!   key may point at a freed object, and table code must only compare its bits.
//! - Nothing here allocates: metamethod names are looked up raw with the fixed
//!   strings in `State::tm_names`.

use super::{is_white, mark, Gc, Phase};
use crate::cdata::{GcCdata, CDATA_ONCHAIN};
use crate::func::{GcFunc, GcProto, GcUpval};
use crate::object::{GcHeader, GcRef, GcStr, GcTable, GcThread, GcUdata, ObjKind};
use crate::value::Value;
use crate::vm::state::{State, Tm};

/// Mark `o`: a white object becomes gray and is queued on the gray list; strings,
/// which reference nothing, become black at once.
#[inline]
pub(crate) fn mark_object(gc: &mut Gc, o: GcRef<GcHeader>) {
    let h = o.get_mut();
    if h.marked & mark::WHITES == 0 {
        return;
    }
    h.marked &= !mark::WHITES;
    let leaf = match h.kind {
        ObjKind::Str => true,
        // C data reference nothing but their finalizer.
        ObjKind::Cdata => GcCdata::fin(o.cast()).is_none_or(|f| f.fin.is_nil()),
        _ => false,
    };
    if leaf {
        h.marked |= mark::BLACK;
    } else {
        h.gclist = gc.gray;
        gc.gray = Some(o);
    }
}

#[inline]
pub(crate) fn mark_value(gc: &mut Gc, v: Value) {
    if let Some(o) = v.as_gc() {
        mark_object(gc, o);
    }
}

/// Raw lookup of metamethod `tm` (named by the fixed string `name`) in `mt`,
/// honouring the metatable's absence cache. Never allocates, never calls Lua.
pub(crate) fn raw_tm(mt: GcRef<GcTable>, tm: Tm, name: GcRef<GcStr>) -> Value {
    let idx = tm as u32;
    if idx < 8 && mt.hdr.flags & (1u8 << idx) != 0 {
        return Value::NIL;
    }
    mt.get_str(name)
}

/// The function that finalizes `o` (nil: none), asked of the object's kind: a
/// userdata's is its metatable's `__gc` (`gc_name` is the interned `"__gc"`). Only
/// kinds with [`ObjKind::has_finalizer`] can have one. Never allocates.
pub(crate) fn finalizer_of(o: GcRef<GcHeader>, gc_name: GcRef<GcStr>) -> Value {
    match o.kind() {
        ObjKind::Userdata => o
            .cast::<GcUdata>()
            .metatable
            .map_or(Value::NIL, |mt| raw_tm(mt, Tm::Gc, gc_name)),
        ObjKind::Cdata => GcCdata::fin(o.cast()).map_or(Value::NIL, |f| f.fin),
        ObjKind::Str | ObjKind::Thread | ObjKind::Function | ObjKind::Table | ObjKind::Proto | ObjKind::Upval => {
            Value::NIL
        }
    }
}

/// Bytes a queued finalizer keeps alive beyond the object's own struct (not counted
/// when the next threshold is set, DESIGN.md invariant 5).
fn payload_bytes(o: GcRef<GcHeader>) -> usize {
    match o.kind() {
        ObjKind::Userdata => o.cast::<GcUdata>().len,
        ObjKind::Cdata => o.cast::<GcCdata>().block_size(),
        ObjKind::Str | ObjKind::Thread | ObjKind::Function | ObjKind::Table | ObjKind::Proto | ObjKind::Upval => 0,
    }
}

fn tm_name(state: &State, tm: Tm) -> GcRef<GcStr> {
    // `tm_names` has an entry for every `Tm` (it is sized by TM_COUNT).
    state.tm_names[tm as usize]
}

/// Start a cycle: reset the gray lists and mark the roots.
pub(crate) fn start_cycle(state: &mut State) {
    let gc = &mut state.gc;
    gc.gray = None;
    gc.grayagain = None;
    gc.weak = None;
    mark_roots(state, true);
}

/// Mark the roots. `new_cycle`: the objects waiting for finalization are still
/// black from the cycle that queued them (that list is not swept); whiten them first
/// so that they are traversed again.
fn mark_roots(state: &mut State, new_cycle: bool) {
    let gc = &mut state.gc;
    mark_object(gc, state.registry.header());
    if let Some(t) = state.host_root {
        mark_object(gc, t.header());
    }
    mark_object(gc, state.globals.header());
    mark_object(gc, state.main_thread.header());
    mark_object(gc, state.cur.header());
    for mt in state.type_mts.iter().flatten() {
        mark_object(gc, mt.header());
    }
    if let Some(f) = state.ffi {
        mark_object(gc, f.header());
    }
    let mut cur = gc.tobefnz;
    while let Some(o) = cur {
        cur = o.next;
        if new_cycle {
            gc.make_white(o);
        }
        mark_object(gc, o);
    }
    // C data waiting for their finalizer stay on `allgc`: the sweep whitened them.
    let mut cur = gc.cdata_due;
    while let Some(c) = cur {
        cur = GcCdata::fin(c).and_then(|f| f.link);
        mark_object(gc, c.header());
    }
}

/// Traverse one gray object; returns the work done (about the bytes looked at).
pub(crate) fn propagate_one(state: &mut State) -> usize {
    let Some(o) = state.gc.gray else { return 0 };
    state.gc.gray = o.gclist;
    match o.kind() {
        ObjKind::Table => traverse_table(state, o.cast()),
        ObjKind::Function => traverse_function(&mut state.gc, o.cast()),
        ObjKind::Proto => traverse_proto(&mut state.gc, o.cast()),
        ObjKind::Upval => traverse_upval(&mut state.gc, o.cast()),
        ObjKind::Thread => traverse_thread(&mut state.gc, o.cast()),
        ObjKind::Userdata => traverse_udata(&mut state.gc, o.cast()),
        ObjKind::Cdata => {
            let c = o.cast::<GcCdata>();
            if let Some(f) = GcCdata::fin(c) {
                mark_value(&mut state.gc, f.fin);
            }
            o.get_mut().marked |= mark::BLACK;
            std::mem::size_of::<GcCdata>()
        }
        ObjKind::Str => {
            o.get_mut().marked |= mark::BLACK;
            8
        }
    }
}

fn propagate_all(state: &mut State) -> usize {
    let mut work = 0usize;
    while state.gc.gray.is_some() {
        work = work.saturating_add(propagate_one(state));
    }
    work
}

fn traverse_table(state: &mut State, t: GcRef<GcTable>) -> usize {
    let mode_name = tm_name(state, Tm::Mode);
    let gc = &mut state.gc;
    let tr = t.get_mut();
    let (mut weak_k, mut weak_v) = (false, false);
    if let Some(mt) = tr.metatable {
        mark_object(gc, mt.header());
        if let Some(s) = raw_tm(mt, Tm::Mode, mode_name).as_string() {
            weak_k = s.as_bytes().contains(&b'k');
            weak_v = s.as_bytes().contains(&b'v');
        }
    }
    tr.hdr.marked &= !(mark::WEAKKEY | mark::WEAKVALUE);
    if weak_k || weak_v {
        if weak_k {
            tr.hdr.marked |= mark::WEAKKEY;
        }
        if weak_v {
            tr.hdr.marked |= mark::WEAKVALUE;
        }
        // Stays gray: cleared (and traversed again) in the atomic phase.
        tr.hdr.gclist = gc.weak;
        gc.weak = Some(t.header());
    } else {
        tr.hdr.marked |= mark::BLACK;
    }
    if !weak_v {
        for v in tr.array.iter() {
            mark_value(gc, *v);
        }
    }
    for n in tr.node.iter() {
        if n.val.is_nil() {
            continue;
        }
        if !weak_k {
            mark_value(gc, n.key);
        }
        if !weak_v {
            mark_value(gc, n.val);
        }
    }
    std::mem::size_of::<GcTable>() + tr.array.byte_size() + tr.node.byte_size()
}

fn traverse_function(gc: &mut Gc, f: GcRef<GcFunc>) -> usize {
    let fr = f.get_mut();
    mark_object(gc, fr.env.header());
    if let Some(p) = fr.proto() {
        mark_object(gc, p.header());
        for uv in fr.lua_upvals().iter() {
            mark_object(gc, uv.header());
        }
    } else {
        for v in fr.native_upvals().iter() {
            mark_value(gc, *v);
        }
    }
    fr.hdr.marked |= mark::BLACK;
    GcFunc::alloc_size(fr.num_upvals())
}

fn traverse_proto(gc: &mut Gc, p: GcRef<GcProto>) -> usize {
    let pr = p.get_mut();
    mark_object(gc, pr.source.header());
    for v in pr.consts.iter() {
        mark_value(gc, *v);
    }
    for c in pr.protos.iter() {
        mark_object(gc, c.header());
    }
    for s in pr.upval_names.iter() {
        mark_object(gc, s.header());
    }
    for l in pr.locvars.iter() {
        mark_object(gc, l.name.header());
    }
    pr.hdr.marked |= mark::BLACK;
    proto_bytes(pr)
}

pub(crate) fn proto_bytes(pr: &GcProto) -> usize {
    std::mem::size_of::<GcProto>()
        + pr.code.byte_size()
        + pr.lineinfo.byte_size()
        + pr.consts.byte_size()
        + pr.protos.byte_size()
        + pr.upvals.byte_size()
        + pr.upval_names.byte_size()
        + pr.locvars.byte_size()
}

fn traverse_upval(gc: &mut Gc, u: GcRef<GcUpval>) -> usize {
    let ur = u.get_mut();
    // Open: the slot lives in a thread's stack, which is not freed before the sweep.
    mark_value(gc, ur.get());
    if ur.is_open && gc.phase != Phase::Atomic {
        // The slot can change without a barrier, and the owning thread may be
        // unreachable (a closure escaped from a suspended coroutine), so look at the
        // value again in the atomic phase.
        ur.hdr.gclist = gc.grayagain;
        gc.grayagain = Some(u.header());
    } else {
        ur.hdr.marked |= mark::BLACK;
    }
    std::mem::size_of::<GcUpval>()
}

fn traverse_thread(gc: &mut Gc, th: GcRef<GcThread>) -> usize {
    let t = th.get_mut();
    mark_object(gc, t.env.header());
    let top = t.top.min(t.stack.len());
    for v in t.stack.iter().take(top) {
        mark_value(gc, *v);
    }
    let mut cur = t.open_upvals;
    while let Some(uv) = cur {
        mark_object(gc, uv.header());
        cur = uv.open_next;
    }
    if gc.phase == Phase::Atomic {
        // Stale values above the top would otherwise be kept alive when the stack
        // grows again without writing them; the slots are scratch (thread.rs).
        for v in t.stack.iter_mut().skip(top) {
            *v = Value::NIL;
        }
        t.hdr.marked |= mark::BLACK;
    } else {
        // Stack writes have no barrier: keep the thread gray and look again in the
        // atomic phase.
        t.hdr.gclist = gc.grayagain;
        gc.grayagain = Some(th.header());
    }
    std::mem::size_of::<GcThread>() + t.stack.byte_size() + t.frames.byte_size()
}

fn traverse_udata(gc: &mut Gc, u: GcRef<GcUdata>) -> usize {
    let ur = u.get_mut();
    if let Some(mt) = ur.metatable {
        mark_object(gc, mt.header());
    }
    mark_object(gc, ur.env.header());
    ur.hdr.marked |= mark::BLACK;
    GcUdata::alloc_size(0)
}

/// The atomic phase: finish marking without interruption, queue dead finalizable
/// userdata, clear weak tables and flip the current white. Returns the work done.
pub(crate) fn atomic(state: &mut State) -> usize {
    state.gc.phase = Phase::Atomic;
    // The running thread or the type metatables may have changed since the roots
    // were marked.
    mark_roots(state, false);
    let mut work = propagate_all(state);
    // Weak tables are gray, so stores into them had no barrier: traverse them again
    // (they go back on the weak list).
    state.gc.gray = state.gc.weak.take();
    work = work.saturating_add(propagate_all(state));
    // Threads, open upvalues and tables hit by the backward barrier.
    state.gc.gray = state.gc.grayagain.take();
    work = work.saturating_add(propagate_all(state));
    // Everything reachable is marked. Resurrect the dead userdata with finalizers
    // (and what they reference) for this cycle.
    let (separated, payload) = separate_finalizable(state);
    work = work.saturating_add(separated);
    let (separated, cdata_payload) = separate_cdata(state, false);
    work = work.saturating_add(separated);
    let payload = payload.saturating_add(cdata_payload);
    // What marking from them reaches (about its size in bytes) is alive only until
    // their finalizers have run: the pacing leaves it out of the live estimate, which
    // starts here and loses what the sweep frees (`gc::sweep_freed`).
    let resurrected = propagate_all(state);
    work = work.saturating_add(resurrected);
    let waiting = resurrected.saturating_add(payload);
    state.gc.estimate = state.heap.used().saturating_sub(waiting);
    clear_weak(&mut state.gc);
    state.gc.current_white ^= mark::WHITES;
    work
}

/// Move every white, not yet finalized object that has a finalizer from `udata` to
/// the end of `tobefnz` (keeping list order), set FINALIZED and mark it. Returns the
/// work done and the payload bytes of the separated objects.
fn separate_finalizable(state: &mut State) -> (usize, usize) {
    separate(state, false)
}

/// Move objects with a finalizer ([`finalizer_of`]) to `tobefnz`: the unreached ones
/// (`all == false`, atomic phase, which also marks them), or every one (`all ==
/// true`, state close, called at `Pause` only, where no sweep cursor can point into
/// `udata`). Returns the work done and the payload bytes of the objects moved.
pub(crate) fn separate(state: &mut State, all: bool) -> (usize, usize) {
    let gc_name = tm_name(state, Tm::Gc);
    let gc = &mut state.gc;
    let mut tail = gc.tobefnz;
    while let Some(t) = tail.and_then(|t| t.next) {
        tail = Some(t);
    }
    let mut prev: Option<GcRef<GcHeader>> = None;
    let mut cur = gc.udata;
    let mut work = 0usize;
    let mut payload = 0usize;
    while let Some(o) = cur {
        cur = o.next;
        work += 8;
        let due = (all || is_white(o)) && o.marked & mark::FINALIZED == 0 && !finalizer_of(o, gc_name).is_nil();
        if !due {
            prev = Some(o);
            continue;
        }
        match prev {
            None => gc.udata = cur,
            Some(p) => p.get_mut().next = cur,
        }
        let h = o.get_mut();
        h.next = None;
        h.marked |= mark::FINALIZED;
        match tail {
            None => gc.tobefnz = Some(o),
            Some(t) => t.get_mut().next = Some(o),
        }
        tail = Some(o);
        payload = payload.saturating_add(payload_bytes(o));
        if !all {
            // Marking only queues it (no traversal yet), so the decision for the
            // other userdata of this walk does not depend on the order of the list.
            mark_object(gc, o);
        }
    }
    (work, payload)
}

/// Walk the `finobj` chain of C data (never all cdata): each unreached one leaves
/// the chain, and if its slot holds a finalizer it goes to `cdata_due` (in chain
/// order) and is marked, which marks the finalizer. `all` (state close): every one
/// with a finalizer goes, reached or not. A dead one without a finalizer only
/// leaves the chain, so the sweep can free it. Returns the work done and the bytes
/// of the objects queued. Never allocates.
pub(crate) fn separate_cdata(state: &mut State, all: bool) -> (usize, usize) {
    let gc = &mut state.gc;
    let mut tail = gc.cdata_due;
    while let Some(t) = tail.and_then(|t| GcCdata::fin(t).and_then(|f| f.link)) {
        tail = Some(t);
    }
    let mut prev: Option<GcRef<GcCdata>> = None;
    let mut cur = gc.finobj;
    let (mut work, mut bytes) = (0usize, 0usize);
    while let Some(c) = cur {
        work += 8;
        let Some(slot) = GcCdata::fin(c) else { break };
        cur = slot.link;
        let unreached = all || is_white(c.header());
        if !unreached {
            prev = Some(c);
            continue;
        }
        match prev {
            None => gc.finobj = cur,
            Some(p) => {
                if let Some(pf) = GcCdata::fin(p) {
                    pf.link = cur;
                }
            }
        }
        slot.link = None;
        if slot.fin.is_nil() {
            c.get_mut().hdr.flags &= !CDATA_ONCHAIN;
            continue;
        }
        match tail.and_then(GcCdata::fin) {
            None => gc.cdata_due = Some(c),
            Some(t) => t.link = Some(c),
        }
        tail = Some(c);
        bytes = bytes.saturating_add(c.block_size());
        if !all {
            mark_object(gc, c.header());
        }
    }
    (work, bytes)
}

/// Would this weak reference be removed? Strings are values and never cleared (they
/// are marked instead); a userdata already finalized is cleared from values (not
/// keys), so a finalizer cannot see it through weak-valued caches.
fn is_cleared(v: Value, is_key: bool) -> bool {
    let Some(o) = v.as_gc() else { return false };
    if o.kind() == ObjKind::Str {
        let h = o.get_mut();
        h.marked = (h.marked & !mark::WHITES) | mark::BLACK;
        return false;
    }
    if is_white(o) {
        return true;
    }
    !is_key && o.kind().has_finalizer() && o.marked & mark::FINALIZED != 0
}

/// Remove the entries of weak tables that refer to unmarked objects. A removed
/// entry keeps its key bits with a nil value (a dead key), like any deleted entry.
fn clear_weak(gc: &mut Gc) {
    let mut cur = gc.weak.take();
    while let Some(o) = cur {
        cur = o.gclist;
        let t = o.cast::<GcTable>().get_mut();
        let weak_k = t.hdr.marked & mark::WEAKKEY != 0;
        let weak_v = t.hdr.marked & mark::WEAKVALUE != 0;
        if weak_v {
            for v in t.array.iter_mut() {
                if is_cleared(*v, false) {
                    *v = Value::NIL;
                }
            }
        }
        for n in t.node.iter_mut() {
            if n.val.is_nil() {
                continue;
            }
            if (weak_k && is_cleared(n.key, true)) || (weak_v && is_cleared(n.val, false)) {
                n.val = Value::NIL;
            }
        }
    }
}
