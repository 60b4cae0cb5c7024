//! Unit tests of the collector phases: objects are built directly through the
//! `State::new_*` constructors and rooted (or not) in the registry, the globals or the
//! main thread's stack; the tests drive `full_collect`, `step` and single steps and
//! check what was freed with `heap.used()` and `verify_heap`.

use super::*;
use crate::alloc::{Allocator, HVec, SystemAllocator};
use crate::func::{GcProto, UpvalDesc};
use crate::object::{GcFunc, GcThread, GcUdata, GcUpval, ObjKind};
use crate::vm::error::Throw;
use crate::vm::state::Tm;
use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn dummy(_: &mut State) -> Result<usize, Throw> {
    Ok(0)
}

fn key(st: &mut State, name: &str) -> GcRef<crate::object::GcStr> {
    st.intern(name.as_bytes()).unwrap()
}

fn set_global(st: &mut State, name: &str, v: Value) {
    let k = key(st, name);
    let g = st.globals;
    barrier_back(st, g, v);
    g.get_mut().set_str(k, v).unwrap();
}

fn get_global(st: &mut State, name: &str) -> Value {
    let k = key(st, name);
    st.globals.get_str(k)
}

fn verify(st: &mut State) {
    if let Err(e) = verify_heap(st) {
        panic!("verify_heap: {e}");
    }
}

/// A userdata whose metatable has `__gc` (any non-nil value will do for the
/// collector).
fn finalizable(st: &mut State, mt: GcRef<GcTable>, tag: u8) -> GcRef<GcUdata> {
    let u = st.new_userdata(1).unwrap();
    u.get_mut().metatable = Some(mt);
    // SAFETY: the payload is 1 byte long.
    unsafe { u.payload().write(tag) };
    u
}

fn gc_metatable(st: &mut State) -> GcRef<GcTable> {
    let mt = st.new_table(0, 1).unwrap();
    let f = st.new_native(dummy, crate::func::FF_C, 0).unwrap();
    let name = st.tm_names[Tm::Gc as usize];
    mt.get_mut().set_str(name, Value::function(f)).unwrap();
    mt
}

fn weak_table(st: &mut State, mode: &str) -> GcRef<GcTable> {
    let t = st.new_table(0, 0).unwrap();
    let mt = st.new_table(0, 1).unwrap();
    let m = st.str_value(mode.as_bytes()).unwrap();
    let name = st.tm_names[Tm::Mode as usize];
    mt.get_mut().set_str(name, m).unwrap();
    t.get_mut().metatable = Some(mt);
    t
}

fn run_to(st: &mut State, phase: Phase) {
    for _ in 0..1_000_000 {
        if st.gc.phase == phase {
            return;
        }
        single_step(st);
    }
    panic!("phase {phase:?} not reached");
}

#[test]
fn unreachable_objects_are_freed() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    verify(&mut st);
    let base = st.heap.used();
    for i in 0..100 {
        let t = st.new_table(4, 4).unwrap();
        let s = st.str_value(format!("garbage{i}").as_bytes()).unwrap();
        t.get_mut().set_int(1, s).unwrap();
        let _ = st.new_userdata(32).unwrap();
        let _ = st.new_native(dummy, crate::func::FF_C, 3).unwrap();
        let _ = st.new_upval_closed(Value::table(t)).unwrap();
    }
    let _ = st.new_thread(st.globals).unwrap();
    assert!(st.heap.used() > base);
    verify(&mut st);
    full_collect(&mut st);
    verify(&mut st);
    assert_eq!(st.heap.used(), base);
}

#[test]
fn reachable_objects_survive() {
    let mut st = State::new().unwrap();
    let t = st.new_table(0, 0).unwrap();
    let s = st.str_value(b"kept string").unwrap();
    t.get_mut().set_int(1, s).unwrap();
    let u = st.new_userdata(8).unwrap();
    t.get_mut().set_int(2, Value::userdata(u)).unwrap();
    set_global(&mut st, "t", Value::table(t));
    // Rooted in the registry and on the stack too.
    let r = st.new_table(0, 0).unwrap();
    st.registry.get_mut().set_int(1, Value::table(r)).unwrap();
    let on_stack = st.new_native(dummy, crate::func::FF_C, 1).unwrap();
    on_stack.native_upvals()[0] = st.str_value(b"upvalue string").unwrap();
    let th = st.main_thread.get_mut();
    th.stack[0] = Value::function(on_stack);
    th.top = 1;
    for _ in 0..3 {
        full_collect(&mut st);
        verify(&mut st);
    }
    let t2 = get_global(&mut st, "t").as_table().unwrap();
    assert_eq!(t2, t);
    assert_eq!(t.get_int(1).as_string().unwrap().as_bytes(), b"kept string");
    assert_eq!(t.get_int(2).as_userdata(), Some(u));
    assert_eq!(st.registry.get_int(1).as_table(), Some(r));
    assert_eq!(
        on_stack.native_upvals()[0].as_string().unwrap().as_bytes(),
        b"upvalue string"
    );
}

#[test]
fn stack_above_top_is_not_marked_and_is_cleared() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    let base = st.heap.used();
    let t = st.new_table(0, 0).unwrap();
    let th = st.main_thread.get_mut();
    th.stack[5] = Value::table(t);
    th.top = 2;
    full_collect(&mut st);
    verify(&mut st);
    assert!(st.main_thread.stack[5].is_nil());
    assert_eq!(st.heap.used(), base);
}

#[test]
fn strings_are_swept_but_fixed_ones_stay() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    let count = st.strings.count();
    for i in 0..1000 {
        st.intern(format!("tmp{i}").as_bytes()).unwrap();
    }
    full_collect(&mut st);
    verify(&mut st);
    assert_eq!(st.strings.count(), count);
    assert_eq!(st.tm_names[Tm::Index as usize].as_bytes(), b"__index");
    assert_eq!(st.oom_msg.as_bytes(), b"not enough memory");
}

#[test]
fn weak_tables_are_cleared() {
    let mut st = State::new().unwrap();
    let wk = weak_table(&mut st, "k");
    let wv = weak_table(&mut st, "v");
    let wkv = weak_table(&mut st, "kv");
    set_global(&mut st, "wk", Value::table(wk));
    set_global(&mut st, "wv", Value::table(wv));
    set_global(&mut st, "wkv", Value::table(wkv));
    let live = st.new_table(0, 0).unwrap();
    set_global(&mut st, "live", Value::table(live));
    let dead_k = st.new_table(0, 0).unwrap();
    let dead_v = st.new_table(0, 0).unwrap();
    let val_of_dead_key = st.new_table(0, 0).unwrap();
    let s = st.str_value(b"a string value").unwrap();
    let sk = st.intern(b"a string key").unwrap();
    // Weak keys: the entry with a dead key goes, a live key stays, and values are
    // strong.
    wk.get_mut()
        .set(Value::table(dead_k), Value::table(val_of_dead_key))
        .unwrap();
    wk.get_mut().set(Value::table(live), Value::table(dead_v)).unwrap();
    wk.get_mut().set_str(sk, Value::TRUE).unwrap();
    // Weak values: array and hash entries with dead values go; strings stay.
    let fresh = st.new_table(0, 0).unwrap();
    wv.get_mut().set_int(1, Value::table(fresh)).unwrap();
    wv.get_mut().set_int(2, s).unwrap();
    wv.get_mut().set_int(3, Value::table(live)).unwrap();
    let fresh2 = st.new_table(0, 0).unwrap();
    wv.get_mut().set_str(sk, Value::table(fresh2)).unwrap();
    // Both.
    let fresh3 = st.new_table(0, 0).unwrap();
    wkv.get_mut().set(Value::table(live), Value::table(fresh3)).unwrap();
    wkv.get_mut().set(Value::table(live), Value::table(live)).unwrap();
    let fresh4 = st.new_table(0, 0).unwrap();
    wkv.get_mut().set(Value::table(fresh4), Value::TRUE).unwrap();
    wkv.get_mut().set_int(7, s).unwrap();

    full_collect(&mut st);
    verify(&mut st);
    assert!(wk.get(Value::table(dead_k)).is_nil());
    assert_eq!(wk.get(Value::table(live)).as_table(), Some(dead_v));
    assert!(wk.get_str(sk).is_truthy());
    assert!(wv.get_int(1).is_nil());
    assert_eq!(wv.get_int(2).as_string().unwrap().as_bytes(), b"a string value");
    assert_eq!(wv.get_int(3).as_table(), Some(live));
    assert!(wv.get_str(sk).is_nil());
    assert_eq!(wkv.get(Value::table(live)).as_table(), Some(live));
    assert!(wkv.get(Value::table(fresh4)).is_nil());
    assert_eq!(wkv.get_int(7).as_string().unwrap().as_bytes(), b"a string value");
    let live_entries = wk.iter().count() + wv.iter().count() + wkv.iter().count();
    assert_eq!(live_entries, 2 + 2 + 2);
    // The dead-key nodes survive another cycle (their keys are never touched).
    full_collect(&mut st);
    verify(&mut st);
}

#[test]
fn finalizers_are_queued_in_order_and_run_once() {
    let mut st = State::new().unwrap();
    let mt = gc_metatable(&mut st);
    set_global(&mut st, "mt", Value::table(mt));
    full_collect(&mut st);
    let base = st.heap.used();
    let mut made = Vec::new();
    for i in 0..3u8 {
        let u = finalizable(&mut st, mt, i);
        // Each references a table that must survive until the finalizer ran.
        let t = st.new_table(0, 0).unwrap();
        u.get_mut().env = t;
        made.push(u);
    }
    let plain = st.new_userdata(4).unwrap();
    let _ = plain;
    full_collect(&mut st);
    verify(&mut st);
    // Newest first, as Lua 5.1 runs them.
    let mut order = Vec::new();
    while let Some(u) = next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()) {
        assert!(u.hdr.marked & mark::FINALIZED != 0);
        // The resurrected environment table is still there.
        assert_eq!(u.env.hdr.kind, ObjKind::Table);
        // SAFETY: 1-byte payload.
        order.push(unsafe { u.payload().read() });
        verify(&mut st);
    }
    assert_eq!(order, vec![2, 1, 0]);
    assert!(!has_pending_finalizers(&st));
    // Unreachable again: freed, not finalized a second time.
    full_collect(&mut st);
    verify(&mut st);
    assert!(next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()).is_none());
    assert_eq!(st.heap.used(), base);
}

#[test]
fn resurrected_object_survives_if_finalizer_stores_it() {
    let mut st = State::new().unwrap();
    let mt = gc_metatable(&mut st);
    set_global(&mut st, "mt", Value::table(mt));
    let u = finalizable(&mut st, mt, 9);
    full_collect(&mut st);
    let got = next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()).unwrap();
    assert_eq!(got, u);
    // "The finalizer" stores it in a global.
    set_global(&mut st, "saved", Value::userdata(got));
    for _ in 0..2 {
        full_collect(&mut st);
        verify(&mut st);
        assert!(next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()).is_none());
    }
    assert_eq!(get_global(&mut st, "saved").as_userdata(), Some(u));
}

#[test]
fn weak_values_drop_finalized_userdata_but_keys_keep_them() {
    let mut st = State::new().unwrap();
    let mt = gc_metatable(&mut st);
    set_global(&mut st, "mt", Value::table(mt));
    let wv = weak_table(&mut st, "v");
    let wk = weak_table(&mut st, "k");
    set_global(&mut st, "wv", Value::table(wv));
    set_global(&mut st, "wk", Value::table(wk));
    let u = finalizable(&mut st, mt, 1);
    wv.get_mut().set_int(1, Value::userdata(u)).unwrap();
    wk.get_mut().set(Value::userdata(u), Value::TRUE).unwrap();
    full_collect(&mut st);
    verify(&mut st);
    assert!(wv.get_int(1).is_nil());
    assert!(wk.get(Value::userdata(u)).is_truthy());
    assert_eq!(next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()), Some(u));
    full_collect(&mut st);
    verify(&mut st);
    assert!(wk.get(Value::userdata(u)).is_nil());
}

#[test]
fn finalizer_taken_during_propagation_keeps_its_colour() {
    let mut st = State::new().unwrap();
    let mt = gc_metatable(&mut st);
    set_global(&mut st, "mt", Value::table(mt));
    let _ = finalizable(&mut st, mt, 1);
    let _ = finalizable(&mut st, mt, 2);
    full_collect(&mut st);
    // Start the next cycle: the queued objects are roots.
    run_to(&mut st, Phase::Propagate);
    let u = next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()).unwrap();
    let th = st.main_thread.get_mut();
    th.stack[0] = Value::userdata(u);
    th.top = 1;
    verify(&mut st);
    run_to(&mut st, Phase::Pause);
    verify(&mut st);
    let u2 = next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()).unwrap();
    assert_ne!(u, u2);
    st.main_thread.get_mut().top = 0;
    full_collect(&mut st);
    verify(&mut st);
    assert!(st.gc.udata.is_none());
}

#[test]
fn backward_barrier_during_propagation() {
    let mut st = State::new().unwrap();
    let holder = st.new_table(0, 0).unwrap();
    set_global(&mut st, "holder", Value::table(holder));
    full_collect(&mut st);
    run_to(&mut st, Phase::Propagate);
    while !is_black(holder.header()) {
        single_step(&mut st);
        assert_eq!(st.gc.phase, Phase::Propagate);
    }
    let fresh = st.new_table(0, 0).unwrap();
    let k = key(&mut st, "fresh");
    // Without the barrier the verifier sees a black table pointing at a white one.
    holder.get_mut().set_str(k, Value::table(fresh)).unwrap();
    assert!(verify_heap(&mut st).unwrap_err().contains("black"));
    barrier_back(&mut st, holder, Value::table(fresh));
    assert!(!is_black(holder.header()));
    assert_eq!(st.gc.grayagain, Some(holder.header()));
    verify(&mut st);
    run_to(&mut st, Phase::Pause);
    verify(&mut st);
    assert_eq!(holder.get_str(k).as_table(), Some(fresh));
    assert_eq!(fresh.hdr.kind, ObjKind::Table);
}

#[test]
fn forward_barrier_during_propagation_and_sweep() {
    let mut st = State::new().unwrap();
    let u = st.new_userdata(0).unwrap();
    set_global(&mut st, "u", Value::userdata(u));
    full_collect(&mut st);
    run_to(&mut st, Phase::Propagate);
    while !is_black(u.header()) {
        single_step(&mut st);
    }
    let mt = st.new_table(0, 0).unwrap();
    u.get_mut().metatable = Some(mt);
    barrier_forward(&mut st, u.header(), Value::table(mt));
    assert!(!is_white(mt.header()));
    verify(&mut st);
    run_to(&mut st, Phase::Sweep);
    // During the sweep the object is whitened instead.
    let mt2 = st.new_table(0, 0).unwrap();
    if is_black(u.header()) {
        u.get_mut().metatable = Some(mt2);
        barrier_forward(&mut st, u.header(), Value::table(mt2));
        assert!(is_white(u.header()));
    } else {
        u.get_mut().metatable = Some(mt2);
    }
    run_to(&mut st, Phase::Pause);
    full_collect(&mut st);
    verify(&mut st);
    assert_eq!(u.metatable, Some(mt2));
}

#[test]
fn incremental_cycle_with_mutation_between_steps() {
    let mut st = State::new().unwrap();
    let list = st.new_table(0, 0).unwrap();
    set_global(&mut st, "list", Value::table(list));
    let mut n = 0i64;
    let mut cycles = 0;
    while cycles < 5 {
        // Mutator: append a new table to the list and make some garbage.
        let t = st.new_table(0, 0).unwrap();
        n += 1;
        barrier_back(&mut st, list, Value::table(t));
        list.get_mut().set_int(n, Value::table(t)).unwrap();
        let _ = st.new_table(2, 2).unwrap();
        let _ = st.intern(format!("garbage {n}").as_bytes()).unwrap();
        if step(&mut st) {
            cycles += 1;
        }
        verify(&mut st);
    }
    for i in 1..=n {
        assert_eq!(list.get_int(i).as_table().unwrap().hdr.kind, ObjKind::Table);
    }
}

#[test]
fn full_collect_abandons_marking_in_progress() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    let base = st.heap.used();
    for _ in 0..50 {
        let _ = st.new_table(0, 4).unwrap();
    }
    run_to(&mut st, Phase::Propagate);
    single_step(&mut st);
    full_collect(&mut st);
    verify(&mut st);
    assert_eq!(st.heap.used(), base);
    assert_eq!(st.gc.phase, Phase::Pause);
}

fn make_proto(st: &mut State, nup: usize) -> GcRef<GcProto> {
    let h = st.heap_ref();
    let source = st.intern(b"=test").unwrap();
    let desc = UpvalDesc {
        in_stack: true,
        index: 0,
    };
    let p = GcProto {
        hdr: GcHeader::new(ObjKind::Proto),
        code: HVec::from_slice(h, &[0u32]).unwrap(),
        lineinfo: HVec::from_slice(h, &[1u32]).unwrap(),
        consts: HVec::from_slice(h, &[Value::number(1.0)]).unwrap(),
        protos: HVec::new(h),
        upvals: HVec::filled(h, nup, desc).unwrap(),
        upval_names: HVec::new(h),
        locvars: HVec::new(h),
        source,
        line_defined: 0,
        last_line_defined: 0,
        num_params: 0,
        is_vararg: false,
        framesize: 2,
    };
    st.new_proto(p).unwrap()
}

/// An open upvalue on slot `slot` of thread `th`, linked into its open list (kept
/// sorted, highest slot first; the test adds them in increasing slot order).
fn open_upval(st: &mut State, th: GcRef<GcThread>, slot: u32) -> GcRef<GcUpval> {
    let uv = st.new_upval_closed(Value::NIL).unwrap();
    let u = uv.get_mut();
    u.v = th.get_mut().stack.as_mut_ptr().wrapping_add(slot as usize);
    u.slot = slot;
    u.is_open = true;
    u.open_next = th.open_upvals;
    th.get_mut().open_upvals = Some(uv);
    uv
}

#[test]
fn escaped_upvalue_of_a_dead_coroutine_is_closed() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    let co = st.new_thread(st.globals).unwrap();
    let kept = st.new_table(0, 0).unwrap();
    {
        let c = co.get_mut();
        c.stack[0] = Value::table(kept);
        c.stack[1] = Value::number(42.0);
        c.stack[2] = Value::TRUE;
        c.top = 3;
    }
    let _dead0 = open_upval(&mut st, co, 0);
    let live = open_upval(&mut st, co, 1);
    let _dead2 = open_upval(&mut st, co, 2);
    let live_tab = {
        // A second escaped upvalue holding a table, on its own slot.
        co.get_mut().stack[3] = Value::table(kept);
        co.get_mut().top = 4;
        open_upval(&mut st, co, 3)
    };
    let p = make_proto(&mut st, 2);
    let f = st.new_lua_closure(p, st.globals).unwrap();
    f.lua_upvals()[0] = live;
    f.lua_upvals()[1] = live_tab;
    set_global(&mut st, "f", Value::function(f));
    verify(&mut st);
    // The coroutine itself is garbage.
    full_collect(&mut st);
    verify(&mut st);
    assert!(!live.is_open && !live_tab.is_open);
    assert_eq!(live.get().as_number(), Some(42.0));
    assert_eq!(live_tab.get().as_table(), Some(kept));
    full_collect(&mut st);
    verify(&mut st);
    assert_eq!(kept.hdr.kind, ObjKind::Table);
    assert_eq!(f.proto(), Some(p));
}

#[test]
fn open_upvalue_of_live_thread_follows_the_stack() {
    let mut st = State::new().unwrap();
    let co = st.new_thread(st.globals).unwrap();
    set_global(&mut st, "co", Value::thread(co));
    co.get_mut().top = 2;
    let uv = open_upval(&mut st, co, 1);
    let p = make_proto(&mut st, 1);
    let f = st.new_lua_closure(p, st.globals).unwrap();
    f.lua_upvals()[0] = uv;
    set_global(&mut st, "f", Value::function(f));
    full_collect(&mut st);
    run_to(&mut st, Phase::Propagate);
    while st.gc.gray.is_some() {
        single_step(&mut st);
    }
    // Everything is traversed; now the coroutine writes a new table into the slot
    // (no barrier for stack writes): the atomic phase must still find it.
    let t = st.new_table(0, 0).unwrap();
    uv.get_mut().set(Value::table(t));
    verify(&mut st);
    run_to(&mut st, Phase::Pause);
    verify(&mut st);
    assert_eq!(uv.get().as_table(), Some(t));
    assert!(uv.is_open);
}

#[test]
fn stopped_collector_only_runs_explicit_steps() {
    let mut st = State::new().unwrap();
    set_stopped(&mut st, true);
    full_collect(&mut st);
    let base = st.heap.used();
    for _ in 0..200 {
        let _ = st.new_table(0, 8).unwrap();
        check(&mut st);
    }
    assert!(st.heap.used() > base);
    assert_eq!(st.gc.phase, Phase::Pause);
    let mut steps = 0;
    while !step(&mut st) {
        steps += 1;
        assert!(steps < 100_000);
    }
    assert!(steps > 0);
    verify(&mut st);
    assert_eq!(st.heap.used(), base);
    set_stopped(&mut st, false);
}

#[test]
fn pause_and_stepmul_return_previous_values() {
    let mut st = State::new().unwrap();
    assert_eq!(set_pause(&mut st, 150), 200);
    assert_eq!(set_pause(&mut st, 200), 150);
    assert_eq!(set_stepmul(&mut st, 400), 200);
    assert_eq!(set_stepmul(&mut st, 0), 400);
    // stepmul 0: every step is a whole cycle.
    assert!(step(&mut st));
    assert_eq!(count(&st), st.heap.used());
}

#[test]
fn pacing_keeps_garbage_bounded() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    let base = st.heap.used();
    let mut max_used = 0;
    let mut cycles_seen = 0;
    let mut last_phase = st.gc.phase;
    for i in 0..20_000 {
        let t = st.new_table(0, 4).unwrap();
        let s = st.str_value(format!("s{i}").as_bytes()).unwrap();
        t.get_mut().set_int(1, s).unwrap();
        check(&mut st);
        max_used = max_used.max(st.heap.used());
        if st.gc.phase == Phase::Pause && last_phase != Phase::Pause {
            cycles_seen += 1;
        }
        last_phase = st.gc.phase;
    }
    verify(&mut st);
    assert!(cycles_seen > 5, "only {cycles_seen} cycles");
    // 20000 tables of ~500 bytes would be ~10 MB without collection.
    assert!(max_used < base + 2_000_000, "max used {max_used}");
}

#[test]
fn memory_limit_triggers_early_collection() {
    let mut st = State::new().unwrap();
    let keep = st.new_table(0, 0).unwrap();
    set_global(&mut st, "keep", Value::table(keep));
    full_collect(&mut st);
    let limit = st.heap.used() + 200_000;
    st.heap.set_limit(limit);
    // Very lazy pacing: without the limit rule nothing would run in time.
    set_pause(&mut st, 1000);
    full_collect(&mut st);
    for i in 0..20_000 {
        // Garbage, checked at every "safe point": never refused.
        let t = st.new_table(0, 4).unwrap();
        if i % 100 == 0 {
            barrier_back(&mut st, keep, Value::table(t));
            keep.get_mut().set_int(i / 100 + 1, Value::table(t)).unwrap();
        }
        check(&mut st);
    }
    verify(&mut st);
    assert!(st.heap.used() <= limit);
}

#[test]
fn allocation_failure_is_out_of_memory_and_heap_stays_consistent() {
    let mut st = State::new().unwrap();
    let keep = st.new_table(0, 0).unwrap();
    set_global(&mut st, "keep", Value::table(keep));
    full_collect(&mut st);
    st.heap.set_limit(st.heap.used() + 4096);
    let mut got_oom = false;
    for i in 1..10_000 {
        match st.new_table(0, 2) {
            Ok(t) => {
                if let Err(e) = keep.get_mut().set_int(i, Value::table(t)) {
                    assert_eq!(e, crate::alloc::OutOfMemory);
                    got_oom = true;
                    break;
                }
            }
            Err(e) => {
                assert_eq!(e, crate::alloc::OutOfMemory);
                got_oom = true;
                break;
            }
        }
        if st.intern(format!("k{i}").as_bytes()).is_err() {
            got_oom = true;
            break;
        }
    }
    assert!(got_oom);
    verify(&mut st);
    // The collector runs fine at the limit (it never allocates).
    full_collect(&mut st);
    verify(&mut st);
    st.heap.set_limit(usize::MAX);
    keep.get_mut().set_int(1, Value::NIL).unwrap();
    st.new_userdata(10).unwrap();
    full_collect(&mut st);
    verify(&mut st);
}

#[test]
fn every_allocation_failing_in_turn_leaves_a_consistent_heap() {
    // Fail the Nth allocation of a small workload for every N.
    for n in 0..200 {
        let mut st = State::new().unwrap();
        let keep = st.new_table(0, 0).unwrap();
        set_global(&mut st, "keep", Value::table(keep));
        full_collect(&mut st);
        st.heap.set_limit(st.heap.used() + n * 64);
        let mut done = true;
        for i in 1..20 {
            let r = st.new_table(1, 1).and_then(|t| {
                barrier_back(&mut st, keep, Value::table(t));
                keep.get_mut().set_int(i, Value::table(t))?;
                let s = st.intern(format!("v{i}").as_bytes())?;
                t.get_mut().set_int(1, Value::string(s))
            });
            check(&mut st);
            if r.is_err() {
                done = false;
                break;
            }
        }
        verify(&mut st);
        full_collect(&mut st);
        verify(&mut st);
        if done && n > 150 {
            break;
        }
    }
}

/// An allocator that counts outstanding bytes in a shared counter.
struct Counting(Arc<AtomicUsize>);

// SAFETY: forwards to the system allocator and only adds bookkeeping.
unsafe impl Allocator for Counting {
    fn alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        let p = SystemAllocator.alloc(layout)?;
        self.0.fetch_add(layout.size(), Ordering::SeqCst);
        Some(p)
    }
    unsafe fn realloc(&self, ptr: NonNull<u8>, old: Layout, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: forwarded contract.
        let p = unsafe { SystemAllocator.realloc(ptr, old, new_size) }?;
        self.0.fetch_sub(old.size(), Ordering::SeqCst);
        self.0.fetch_add(new_size, Ordering::SeqCst);
        Some(p)
    }
    unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout) {
        self.0.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: forwarded contract.
        unsafe { SystemAllocator.dealloc(ptr, layout) }
    }
}

#[test]
fn dropping_the_state_frees_every_byte() {
    let counter = Arc::new(AtomicUsize::new(0));
    {
        let mut st = State::with_allocator(Box::new(Counting(counter.clone()))).unwrap();
        let mt = gc_metatable(&mut st);
        set_global(&mut st, "mt", Value::table(mt));
        for i in 0..50u8 {
            let _ = finalizable(&mut st, mt, i);
            let t = st.new_table(3, 3).unwrap();
            let s = st.str_value(format!("x{i}").as_bytes()).unwrap();
            t.get_mut().set_int(1, s).unwrap();
            if i % 2 == 0 {
                set_global(&mut st, &format!("g{i}"), Value::table(t));
            }
        }
        let co = st.new_thread(st.globals).unwrap();
        co.get_mut().top = 1;
        let _ = open_upval(&mut st, co, 0);
        let _ = make_proto(&mut st, 0);
        // Leave the collector mid-cycle with finalizers queued.
        full_collect(&mut st);
        run_to(&mut st, Phase::Propagate);
        single_step(&mut st);
        assert!(has_pending_finalizers(&st));
        assert_eq!(counter.load(Ordering::SeqCst), st.heap.used());
        // Closing runs the queued finalizers, then frees everything.
    }
    assert_eq!(counter.load(Ordering::SeqCst), 0);
}

#[test]
fn function_and_proto_are_traced() {
    let mut st = State::new().unwrap();
    full_collect(&mut st);
    let base = st.heap.used();
    let p = make_proto(&mut st, 1);
    let child = make_proto(&mut st, 0);
    let name = st.intern(b"upname").unwrap();
    let c = st.str_value(b"a constant").unwrap();
    {
        let pm = p.get_mut();
        pm.protos.push(child).unwrap();
        pm.upval_names.push(name).unwrap();
        pm.consts.push(c).unwrap();
    }
    let uv = st.new_upval_closed(Value::NIL).unwrap();
    let t = st.new_table(0, 0).unwrap();
    uv.get_mut().set(Value::table(t));
    let f = st.new_lua_closure(p, st.globals).unwrap();
    f.lua_upvals()[0] = uv;
    set_global(&mut st, "f", Value::function(f));
    full_collect(&mut st);
    verify(&mut st);
    assert_eq!(p.consts[1].as_string().unwrap().as_bytes(), b"a constant");
    assert_eq!(p.protos[0], child);
    assert_eq!(uv.get().as_table(), Some(t));
    set_global(&mut st, "f", Value::NIL);
    full_collect(&mut st);
    verify(&mut st);
    // Only the dead "f" key node stays in the globals' hash part.
    assert!(st.heap.used() <= base + std::mem::size_of::<crate::table::Node>() * 64);
    let _ = GcFunc::alloc_size(0);
}

#[test]
fn state_close_queues_every_finalizer() {
    let mut st = State::new().unwrap();
    let mt = gc_metatable(&mut st);
    set_global(&mut st, "mt", Value::table(mt));
    let reachable = finalizable(&mut st, mt, 1);
    set_global(&mut st, "u", Value::userdata(reachable));
    let _garbage = finalizable(&mut st, mt, 2);
    let done = finalizable(&mut st, mt, 3);
    done.get_mut().hdr.marked |= mark::FINALIZED;
    run_to(&mut st, Phase::Sweep);
    queue_all_finalizers(&mut st);
    assert_eq!(st.gc.phase, Phase::Pause);
    verify(&mut st);
    let mut tags = Vec::new();
    while let Some(u) = next_finalizer(&mut st).map(|(o, _)| o.cast::<GcUdata>()) {
        // SAFETY: 1-byte payload.
        tags.push(unsafe { u.payload().read() });
    }
    tags.sort();
    assert_eq!(tags, vec![1, 2]);
    queue_all_finalizers(&mut st);
    assert!(!has_pending_finalizers(&st));
    verify(&mut st);
}

/// Each value points to an object of the kind its tag names (`ObjKind::of_tag`).
#[test]
fn values_point_to_objects_of_their_kind() {
    let mut st = State::new().unwrap();
    let s = crate::value::Value::string(st.intern(b"k").unwrap());
    let t = crate::value::Value::table(st.new_table(0, 0).unwrap());
    let u = crate::value::Value::userdata(st.new_userdata(8).unwrap());
    let th = crate::value::Value::thread(st.new_thread(st.globals).unwrap());
    for v in [s, t, u, th] {
        let h = v.as_gc().unwrap();
        assert_eq!(v.tag().and_then(ObjKind::of_tag), Some(h.kind()));
    }
}
