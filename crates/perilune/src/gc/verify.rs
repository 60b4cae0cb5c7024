//! The debug heap verifier: walks every object list and everything reachable from the
//! roots and reports the first broken invariant. Tests and debug builds call it; it
//! uses the Rust heap (HashMap/Vec) for its own bookkeeping, which is not accounted.
//!
//! What it checks:
//! - Each list (`allgc`, `udata`, `tobefnz`, `dead_upvals`, the string chains) holds
//!   objects of valid, expected kinds, with no object on two lists and no cycle.
//! - Byte accounting: the sizes of all objects and their buffers plus the string
//!   table's bucket array equal `heap.used()` exactly. This requires that nothing
//!   else holds heap memory at the time of the call (compiler temporaries are freed
//!   by then); a subsystem that adds a State-owned buffer must be counted here.
//! - Every reference from a reachable object points to an object on a list (checked
//!   before the target is dereferenced), no reachable object is dead, and open
//!   upvalue lists are sorted and point into their thread's stack.
//! - During `Propagate`: no black object references a white one (objects kept gray
//!   on `grayagain` / `weak` are not black, so they are exempt by construction; fixed
//!   strings are never freed and exempt too).

use super::{is_black, is_white, mark, trace, Phase};
use crate::func::{GcFunc, GcUpval};
use crate::object::{GcHeader, GcRef, GcTable, GcThread, GcUdata, ObjKind};
use crate::string::GcStr;
use crate::value::Value;
use crate::vm::state::State;
use std::collections::HashMap;

fn kind_byte(o: GcRef<GcHeader>) -> u8 {
    // SAFETY: `o` points at a header of an allocated object (it came from a list);
    // the kind is read as a raw byte so that a corrupted value is reported instead of
    // being undefined behaviour as an enum.
    unsafe { o.as_ptr().cast::<u8>().add(std::mem::offset_of!(GcHeader, kind)).read() }
}

fn object_bytes(o: GcRef<GcHeader>) -> usize {
    match o.kind() {
        ObjKind::Str => GcStr::layout(o.cast::<GcStr>().len).map(|l| l.size()).unwrap_or(0),
        ObjKind::Table => {
            let t = o.cast::<GcTable>();
            std::mem::size_of::<GcTable>() + t.array.byte_size() + t.node.byte_size()
        }
        ObjKind::Function => GcFunc::alloc_size(o.aux as usize),
        ObjKind::Proto => trace::proto_bytes(&o.cast()),
        ObjKind::Upval => std::mem::size_of::<GcUpval>(),
        ObjKind::Thread => {
            let t = o.cast::<GcThread>();
            std::mem::size_of::<GcThread>() + t.stack.byte_size() + t.frames.byte_size()
        }
        ObjKind::Cdata => o.cast::<crate::cdata::GcCdata>().block_size(),
        ObjKind::Userdata => {
            let u = o.cast::<GcUdata>();
            // Some host values own blocks of their own (a string buffer's bytes).
            let owned = u.host.and_then(|h| h.heap_bytes).map_or(0, |f| f(u));
            GcUdata::alloc_size(u.len) + owned
        }
    }
}

/// Where an object was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Home {
    Strings,
    AllGc,
    Udata,
    ToBeFnz,
    DeadUpvals,
}

/// Debug heap verifier: checks the invariants and byte accounting; returns a
/// description of the first violation.
pub fn verify_heap(state: &mut State) -> Result<(), String> {
    let gc = &state.gc;
    let mut home: HashMap<usize, Home> = HashMap::new();
    // The JIT keeps heap buffers outside any object (IR, dumps, events).
    let mut bytes = state.strings.bucket_bytes() + state.jit.heap_bytes();
    let mut err: Option<String> = None;
    state.strings.for_each(|s| {
        if err.is_some() {
            return;
        }
        let o = s.header();
        if kind_byte(o) != ObjKind::Str as u8 {
            err = Some(format!("non-string {o:?} in the string table"));
        } else if home.insert(o.as_ptr() as usize, Home::Strings).is_some() {
            err = Some(format!("string {o:?} linked twice"));
        } else {
            bytes += object_bytes(o);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let lists = [
        (Home::AllGc, gc.allgc),
        (Home::Udata, gc.udata),
        (Home::ToBeFnz, gc.tobefnz),
        (Home::DeadUpvals, gc.dead_upvals),
    ];
    for (list, head) in lists {
        let mut cur = head;
        while let Some(o) = cur {
            let k = kind_byte(o);
            if ObjKind::from_u8(k).is_none() {
                return Err(format!("{o:?} on {list:?} has invalid kind {k}"));
            }
            let kind = o.kind();
            let ok = match list {
                Home::AllGc => kind != ObjKind::Str && !kind.has_finalizer(),
                Home::Udata => kind.has_finalizer(),
                Home::ToBeFnz => kind.has_finalizer() && o.marked & mark::FINALIZED != 0,
                Home::DeadUpvals => kind == ObjKind::Upval,
                Home::Strings => false,
            };
            if !ok {
                return Err(format!("{kind:?} {o:?} does not belong on {list:?}"));
            }
            if let Some(prev) = home.insert(o.as_ptr() as usize, list) {
                return Err(format!(
                    "{kind:?} {o:?} on {list:?} is also on {prev:?} (or the list has a cycle)"
                ));
            }
            bytes += object_bytes(o);
            cur = o.next;
        }
    }
    if bytes != state.heap.used() {
        return Err(format!(
            "heap accounting: objects and buffers hold {bytes} bytes, heap.used() is {}",
            state.heap.used()
        ));
    }
    check_reachable(state, &home)
}

fn check_reachable(state: &State, home: &HashMap<usize, Home>) -> Result<(), String> {
    let gc = &state.gc;
    let mut seen: HashMap<usize, ()> = HashMap::new();
    let mut todo: Vec<(GcRef<GcHeader>, &'static str)> = vec![
        (state.registry.header(), "registry"),
        (state.globals.header(), "globals"),
        (state.main_thread.header(), "main thread"),
        (state.cur.header(), "current thread"),
    ];
    if let Some(t) = state.host_root {
        todo.push((t.header(), "host root"));
    }
    for mt in state.type_mts.iter().flatten() {
        todo.push((mt.header(), "type metatable"));
    }
    for s in state.tm_names.iter() {
        todo.push((s.header(), "metamethod name"));
    }
    todo.push((state.oom_msg.header(), "oom message"));
    let mut cur = gc.tobefnz;
    while let Some(o) = cur {
        todo.push((o, "finalizer queue"));
        cur = o.next;
    }
    let mut cur = gc.cdata_due;
    while let Some(c) = cur {
        todo.push((c.header(), "cdata finalizer queue"));
        cur = crate::cdata::GcCdata::fin(c).and_then(|f| f.link);
    }
    if let Some(f) = state.ffi {
        todo.push((f.header(), "ffi state"));
    }
    for (o, what) in &todo {
        if !home.contains_key(&(o.as_ptr() as usize)) {
            return Err(format!("root {what} {o:?} is not on any list"));
        }
    }
    let mut children: Vec<GcRef<GcHeader>> = Vec::new();
    while let Some((o, _)) = todo.pop() {
        if seen.insert(o.as_ptr() as usize, ()).is_some() {
            continue;
        }
        if o.marked & mark::FIXED == 0 && gc.is_dead(o) {
            return Err(format!("reachable {:?} {o:?} is dead (would be freed)", o.kind()));
        }
        children.clear();
        collect_children(o, &mut children, home)?;
        let check_colour = gc.phase == Phase::Propagate && is_black(o);
        for &c in &children {
            if !home.contains_key(&(c.as_ptr() as usize)) {
                return Err(format!("{:?} {o:?} references {c:?}, which is on no list", o.kind()));
            }
            if check_colour && is_white(c) && c.marked & mark::FIXED == 0 {
                return Err(format!(
                    "black {:?} {o:?} references white {:?} {c:?} during propagation",
                    o.kind(),
                    c.kind()
                ));
            }
            todo.push((c, "child"));
        }
    }
    Ok(())
}

fn push_value(v: Value, out: &mut Vec<GcRef<GcHeader>>) {
    if let Some(o) = v.as_gc() {
        out.push(o);
    }
}

/// The objects `o` references. Only `o` itself is read, except for a thread's open
/// upvalues, each of which is checked to be on a list before it is read.
fn collect_children(
    o: GcRef<GcHeader>,
    out: &mut Vec<GcRef<GcHeader>>,
    home: &HashMap<usize, Home>,
) -> Result<(), String> {
    match o.kind() {
        ObjKind::Str => {}
        ObjKind::Cdata => {
            if let Some(f) = crate::cdata::GcCdata::fin(o.cast()) {
                push_value(f.fin, out);
            }
        }
        ObjKind::Table => {
            let t = o.cast::<GcTable>();
            if let Some(mt) = t.metatable {
                out.push(mt.header());
            }
            for v in t.array.iter() {
                push_value(*v, out);
            }
            for n in t.node.iter() {
                // A nil-valued node's key may be dead (see trace.rs).
                if !n.val.is_nil() {
                    push_value(n.key, out);
                    push_value(n.val, out);
                }
            }
        }
        ObjKind::Function => {
            let f = o.cast::<GcFunc>();
            out.push(f.env.header());
            if let Some(p) = f.proto() {
                out.push(p.header());
                out.extend(f.lua_upvals().iter().map(|u| u.header()));
            } else {
                for v in f.native_upvals().iter() {
                    push_value(*v, out);
                }
            }
        }
        ObjKind::Proto => {
            let p = o.cast::<crate::func::GcProto>();
            out.push(p.source.header());
            for v in p.consts.iter() {
                push_value(*v, out);
            }
            out.extend(p.protos.iter().map(|c| c.header()));
            out.extend(p.upval_names.iter().map(|s| s.header()));
            out.extend(p.locvars.iter().map(|l| l.name.header()));
        }
        ObjKind::Upval => {
            let u = o.cast::<GcUpval>();
            if !u.is_open {
                if !std::ptr::eq(u.v, &u.closed) {
                    return Err(format!("closed upvalue {o:?} does not point at its own value"));
                }
                push_value(u.closed, out);
            }
            // An open upvalue's value is checked through its thread's stack.
        }
        ObjKind::Thread => {
            let t = o.cast::<GcThread>();
            out.push(t.env.header());
            let top = t.top.min(t.stack.len());
            if t.top > t.stack.len() {
                return Err(format!(
                    "thread {o:?} has top {} beyond its stack of {}",
                    t.top,
                    t.stack.len()
                ));
            }
            for v in t.stack.iter().take(top) {
                push_value(*v, out);
            }
            let mut cur = t.open_upvals;
            let mut last_slot = u32::MAX;
            let mut first = true;
            while let Some(uv) = cur {
                if !home.contains_key(&(uv.as_ptr() as usize)) {
                    return Err(format!("thread {o:?} has open upvalue {uv:?} on no list"));
                }
                if uv.hdr.kind != ObjKind::Upval || !uv.is_open {
                    return Err(format!("thread {o:?} has a non-open upvalue {uv:?} on its open list"));
                }
                if !first && uv.slot >= last_slot {
                    return Err(format!("thread {o:?}: open upvalues not sorted by slot"));
                }
                let expect = t.stack.as_ptr().wrapping_add(uv.slot as usize);
                if uv.slot as usize >= t.stack.len() || !std::ptr::eq(uv.v.cast_const(), expect) {
                    return Err(format!(
                        "thread {o:?}: open upvalue {uv:?} does not point at its stack slot {}",
                        uv.slot
                    ));
                }
                first = false;
                last_slot = uv.slot;
                out.push(uv.header());
                cur = uv.open_next;
            }
        }
        ObjKind::Userdata => {
            let u = o.cast::<GcUdata>();
            if let Some(mt) = u.metatable {
                out.push(mt.header());
            }
            out.push(u.env.header());
        }
    }
    Ok(())
}
