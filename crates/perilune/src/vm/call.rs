//! Entering and leaving frames: stack growth, argument setup, result placement,
//! continuations and upvalue capture/close.
//!
//! Invariants:
//! - `precall` makes room for the callee's registers plus `EXTRA_STACK` before the
//!   frame is pushed, so the interpreter indexes registers without checks.
//! - `poscall` is the only place results are moved; it applies the returning frame's
//!   [`Cont`], so metamethods and `pcall` complete the same way whether the callee was
//!   Lua or native, and whether or not a coroutine yielded in between.
//! - Growing a stack rewrites every open upvalue pointer into it.

use crate::compiler::bytecode::jump_offset;
use crate::func::{GcProto, GcUpval, FF_PCALL, FF_TOSTRING, FF_XPCALL};
use crate::hot::VmMode;
use crate::object::{GcHeader, GcRef, GcThread, ObjKind};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::{flags, CallInfo, Cont, FrameKind};
use crate::vm::state::{State, Tm};
use crate::vm::thread::{EXTRA_STACK, MAX_STACK};

/// Slots a native function may use without asking (like LUA_MINSTACK).
pub const NATIVE_MIN_STACK: usize = 20;
/// Largest number of frames on one thread.
pub const MAX_FRAMES: usize = 200_000;
/// Deepest nesting of Rust-level re-entries (natives calling Lua, resumes).
pub const MAX_RUST_DEPTH: u32 = 200;

/// What `precall` did.
pub enum Entered {
    /// A Lua frame was pushed; the interpreter must continue in it.
    Lua,
    /// A native function ran to completion and its results are in place.
    Native,
}

/// Frames and stack slots an error handler may use beyond the limits, so that
/// `xpcall(f, debug.traceback)` still works after a stack overflow (LuaJIT keeps
/// such headroom too).
const ERROR_FRAMES: usize = 1_000;
const ERROR_SLOTS: usize = 10_000;

/// LuaJIT's stack limit (`LJ_STACK_MAX`, in slots). LuaJIT limits stack slots, not
/// frames, and each of its frames takes slots of its own (the function and the frame
/// link) that Perilune keeps in the frame stack instead; so a thread overflows when
/// its stack slots in use *plus its number of frames* pass this. That gives the same
/// depths as LuaJIT (about 21,800 for a one-register recursion, 8,000 and fewer for
/// bigger frames; see docs/vm.md).
pub const MAX_SLOTS: usize = 65_500;

/// The slot limit now: raised while an error handler runs.
#[inline(always)]
pub fn slot_limit(st: &State) -> usize {
    if st.error_headroom {
        MAX_SLOTS + ERROR_SLOTS
    } else {
        MAX_SLOTS
    }
}

/// Whether a frame may be pushed whose slots end at stack slot `end` on top of
/// `frames` frames (the interpreter's fast calls ask this; `precall` checks the same).
#[inline(always)]
pub fn slots_fit(st: &State, end: usize, frames: usize) -> bool {
    end + frames <= slot_limit(st)
}

/// The number of frames the running thread may have now, given its stack use (see
/// [`MAX_SLOTS`]); also capped at [`MAX_FRAMES`]. Raised while an error handler runs.
#[inline(always)]
pub fn frame_limit(st: &State) -> usize {
    let frames = if st.error_headroom {
        MAX_FRAMES + ERROR_FRAMES
    } else {
        MAX_FRAMES
    };
    slot_limit(st).saturating_sub(st.cur.top).min(frames)
}

/// The stack size limit now: raised while an error handler runs.
#[inline(always)]
fn stack_limit(st: &State) -> usize {
    let base = MAX_STACK + 2 * EXTRA_STACK + NATIVE_MIN_STACK;
    if st.error_headroom {
        base + ERROR_SLOTS
    } else {
        base
    }
}

/// Make sure `th` has at least `needed` slots in total.
pub fn ensure_stack(st: &mut State, th: GcRef<GcThread>, needed: usize) -> LResult<()> {
    let t = th.get_mut();
    if needed <= t.stack.len() {
        return Ok(());
    }
    if needed > stack_limit(st) {
        return Err(stack_overflow(st));
    }
    let new_len = needed.max(t.stack.len() * 2).min(stack_limit(st)).max(needed);
    let old = t.stack.as_ptr();
    t.stack.resize(new_len, Value::NIL)?;
    if t.stack.as_ptr() != old {
        fix_open_upvals(t);
    }
    Ok(())
}

/// `ensure_stack` for entering Lua function `p`: an overflow is reported at the line
/// where `p` is defined, as LuaJIT reports it (its stack check is in the callee).
fn ensure_lua_stack(st: &mut State, th: GcRef<GcThread>, needed: usize, p: GcRef<crate::func::GcProto>) -> LResult<()> {
    if needed > stack_limit(st) || !slots_fit(st, needed.saturating_sub(EXTRA_STACK), th.frames.len()) {
        return Err(overflow_in(st, p));
    }
    ensure_stack(st, th, needed)
}

/// "stack overflow" positioned at the first line of the function being entered.
fn overflow_in(st: &mut State, p: GcRef<crate::func::GcProto>) -> Throw {
    st.overflow_in_handler |= st.error_headroom;
    let chunk = crate::compiler::chunk_id(p.source.as_bytes());
    let pos = format!("{chunk}:{}:", p.line_defined);
    st.error_at(Some(&pos), &[crate::errmsg::STACK_OVERFLOW.as_bytes()])
}

fn stack_overflow(st: &mut State) -> Throw {
    st.overflow_in_handler |= st.error_headroom;
    st.rt_error_innermost_lua(crate::errmsg::STACK_OVERFLOW)
}

/// Point every open upvalue back into the (moved) stack.
fn fix_open_upvals(t: &mut GcThread) {
    let base = t.stack.as_mut_ptr();
    let mut cur = t.open_upvals;
    while let Some(uv) = cur {
        let u = uv.get_mut();
        // SAFETY: an open upvalue's slot is below the stack length (frames only shrink
        // the stack's live part, never its allocation, while upvalues are open).
        u.v = unsafe { base.add(u.slot as usize) };
        cur = u.open_next;
    }
}

/// Find or create the open upvalue for stack slot `slot` of `th`.
pub fn find_upval(st: &mut State, th: GcRef<GcThread>, slot: usize) -> LResult<GcRef<GcUpval>> {
    let mut prev: Option<GcRef<GcUpval>> = None;
    let mut cur = th.open_upvals;
    while let Some(uv) = cur {
        if (uv.slot as usize) < slot {
            break;
        }
        if uv.slot as usize == slot {
            return Ok(uv);
        }
        prev = Some(uv);
        cur = uv.open_next;
    }
    let v = GcUpval {
        hdr: GcHeader::new(ObjKind::Upval),
        // SAFETY: `slot` is a register of a live frame, below the stack length.
        v: unsafe { th.get_mut().stack.as_mut_ptr().add(slot) },
        closed: Value::NIL,
        slot: slot as u32,
        is_open: true,
        open_next: cur,
    };
    let uv = st.gc.new_object(&st.heap, v, 0)?;
    match prev {
        None => th.get_mut().open_upvals = Some(uv),
        Some(p) => p.get_mut().open_next = Some(uv),
    }
    Ok(uv)
}

/// Close every open upvalue of `th` at or above `level`.
pub fn close_upvals(st: &mut State, th: GcRef<GcThread>, level: usize) {
    while let Some(uv) = th.open_upvals {
        if (uv.slot as usize) < level {
            break;
        }
        let u = uv.get_mut();
        th.get_mut().open_upvals = u.open_next;
        u.closed = u.get();
        u.v = &mut u.closed;
        u.is_open = false;
        u.open_next = None;
        // The value now lives in the upvalue, which may already be black.
        crate::gc::barrier_forward(st, uv.header(), u.closed);
    }
}

/// Free slots between a vararg frame's extra arguments and its registers. LuaJIT
/// leaves every argument where the caller put it and starts the frame above them with
/// a second copy of the function and frame link (2 slots in GC64 mode); Perilune
/// leaves these two slots empty (nil), so that a vararg frame takes as many stack
/// slots as LuaJIT's and vararg recursion overflows at LuaJIT's depth (docs/vm.md,
/// "Stack limits").
pub(crate) const VARARG_LINK: usize = 2;

/// Where the extra arguments of a vararg frame with registers at `base` and `nvar`
/// extra arguments start (they end [`VARARG_LINK`] slots below `base`).
#[inline(always)]
pub(crate) fn varargs_start(base: usize, nvar: usize) -> usize {
    base - VARARG_LINK - nvar
}

/// Where the registers of Lua function `p` called at `func` with `nargs` arguments
/// start, and how many extra arguments lie below them: a vararg function's registers
/// start [`VARARG_LINK`] slots above all its arguments, as in LuaJIT (whatever the
/// number of fixed parameters: they are copied up into the registers).
#[inline(always)]
pub(crate) fn lua_frame_base(p: &GcProto, func: usize, nargs: usize) -> (usize, usize) {
    if p.is_vararg {
        let np = p.num_params as usize;
        (func + 1 + nargs + VARARG_LINK, nargs.saturating_sub(np))
    } else {
        (func + 1, 0)
    }
}

/// Push the frame of Lua function `p` called at `func` with `nargs` arguments, its
/// registers at `base` (from [`lua_frame_base`]): a vararg function's fixed parameters
/// move up, their old slots cleared so only the extra arguments remain below, and the
/// [`VARARG_LINK`] slots between those and `base` are cleared; missing parameters
/// become nil; `top` goes to the frame's end. Shared by `precall` and the
/// interpreter's inline call.
///
/// # Safety
/// The stack holds `base + framesize + EXTRA_STACK` slots, the arguments lie below
/// `top`, and the frame stack has a free slot (no allocation happens here).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn push_lua_frame(
    t: &mut GcThread,
    p: &GcProto,
    func: usize,
    nargs: usize,
    (base, nvarargs): (usize, usize),
    nresults: i32,
    cont: Cont,
    fl: u8,
) {
    let np = p.num_params as usize;
    let fs = p.framesize as usize;
    let sp = t.stack.as_mut_ptr();
    // SAFETY: caller contract; `base >= func + 1 + nargs + VARARG_LINK` for a vararg
    // function, so the moved parameters never overlap their sources.
    unsafe {
        if p.is_vararg {
            // Below `top` from now on, so the collector reads them: no stale values.
            *sp.add(base - 1) = Value::NIL;
            *sp.add(base - 2) = Value::NIL;
            for i in 0..np {
                let src = sp.add(func + 1 + i);
                *sp.add(base + i) = if i < nargs { *src } else { Value::NIL };
                if i < nargs {
                    *src = Value::NIL;
                }
            }
        } else {
            for i in nargs..np {
                *sp.add(base + i) = Value::NIL;
            }
        }
    }
    t.top = base + fs;
    let pushed = t.frames.push_within_capacity(CallInfo {
        func: func as u32,
        base: base as u32,
        top: (base + fs) as u32,
        pc: 0,
        nresults,
        nvarargs: nvarargs as u32,
        kind: FrameKind::Lua,
        flags: fl,
        cont,
    });
    debug_assert!(pushed, "push_lua_frame without a free frame slot");
}

/// Set up a call of the value at stack slot `func` with the `nargs` values above it.
/// Lua functions get a frame; natives run to completion here.
pub fn precall(st: &mut State, func: usize, nargs: usize, nresults: i32, cont: Cont, fl: u8) -> LResult<Entered> {
    let th = st.cur;
    let mut nargs = nargs;
    let mut fv = th.stack[func];
    let f = match fv.as_function() {
        Some(f) => f,
        None => {
            let mm = st.tm_of(fv, Tm::Call);
            if !mm.is_function() {
                return Err(st.call_error(func, fv));
            }
            // Insert the metamethod below the arguments: mm(obj, args...).
            ensure_stack(st, th, func + nargs + 2 + EXTRA_STACK)?;
            let s = th.get_mut().stack.as_mut_slice();
            s.copy_within(func..func + nargs + 1, func + 1);
            s[func] = mm;
            nargs += 1;
            fv = mm;
            match fv.as_function() {
                Some(f) => f,
                None => return Err(st.call_error(func, fv)),
            }
        }
    };
    if let Some(p) = f.proto() {
        if th.frames.len() >= frame_limit(st) {
            return Err(overflow_in(st, p));
        }
        // Recursion without loops must meet the interrupt checks too.
        if st.heap.hot.pay(1) {
            st.budget_check()?;
        }
        let (base, nvarargs) = lua_frame_base(&p, func, nargs);
        ensure_lua_stack(st, th, base + p.framesize as usize + EXTRA_STACK, p)?;
        th.get_mut().frames.reserve(1)?;
        // SAFETY: room on both stacks was made just above.
        unsafe { push_lua_frame(th.get_mut(), &p, func, nargs, (base, nvarargs), nresults, cont, fl) };
        return Ok(Entered::Lua);
    }
    // The natives that run as VM frames, recognised by their fast-function id.
    match f.ffid {
        FF_PCALL => return enter_protected(st, func, nargs, nresults, cont, fl, false),
        FF_XPCALL => return enter_protected(st, func, nargs, nresults, cont, fl, true),
        FF_TOSTRING => {
            if let Some(mm) = crate::vm::meta::tostring_meta(st, func, nargs)? {
                return precall(st, mm, 1, nresults, cont, fl);
            }
        }
        _ => {}
    }
    if th.frames.len() >= frame_limit(st) {
        return Err(stack_overflow(st));
    }
    call_native(st, f, func, nargs, nresults, cont, fl)?;
    Ok(Entered::Native)
}

fn call_native(
    st: &mut State,
    f: GcRef<crate::func::GcFunc>,
    func: usize,
    nargs: usize,
    nresults: i32,
    cont: Cont,
    fl: u8,
) -> LResult<()> {
    let th = st.cur;
    let Some(native) = f.native() else {
        return Err(st.call_error(func, Value::function(f)));
    };
    ensure_stack(st, th, func + 1 + nargs + NATIVE_MIN_STACK + EXTRA_STACK)?;
    push_native_frame(th, func, nargs, NATIVE_MIN_STACK, nresults, cont, fl)?;
    if st.dbg_hook.mask & crate::vm::hook::mask::CALL != 0 {
        st.call_debug_hook(b"call", None)?;
    }
    // No "return" event for natives: LuaJIT fires none for its library functions.
    let n = st.with_mode(VmMode::Native, native)?;
    let first = st.cur.top.saturating_sub(n);
    poscall(st, first, n)
}

/// Push a native frame for the function at `func` with `nargs` arguments above it
/// (and `room` more slots it may use), and set `top` after the arguments.
#[inline]
pub(crate) fn push_native_frame(
    th: GcRef<GcThread>,
    func: usize,
    nargs: usize,
    room: usize,
    nresults: i32,
    cont: Cont,
    fl: u8,
) -> LResult<()> {
    let t = th.get_mut();
    t.top = func + 1 + nargs;
    t.frames.push(CallInfo {
        func: func as u32,
        base: (func + 1) as u32,
        top: (func + 1 + nargs + room) as u32,
        pc: 0,
        nresults,
        nvarargs: 0,
        kind: FrameKind::Native,
        flags: fl,
        cont,
    })?;
    Ok(())
}

/// `pcall(f, ...)` and `xpcall(f, handler, ...)`: a marker frame for pcall itself (it
/// carries the caller's continuation and shows in tracebacks), then `f` in a
/// protected frame whose results get `true` in front. xpcall keeps its handler in the
/// slot below the called function.
fn enter_protected(
    st: &mut State,
    func: usize,
    nargs: usize,
    nresults: i32,
    cont: Cont,
    fl: u8,
    handler: bool,
) -> LResult<Entered> {
    let th = st.cur;
    push_native_frame(th, func, nargs, 0, nresults, cont, fl)?;
    // Argument errors are raised with the marker on top, so they name the builtin.
    if nargs == 0 {
        return Err(st.arg_error(1, crate::errmsg::VALUE_EXPECTED));
    }
    if handler {
        if !st.arg(2).is_function() {
            return Err(st.type_error(2, "function"));
        }
        // [xpcall][f][h][args] -> [xpcall][h][f][args]
        th.get_mut().stack.as_mut_slice().swap(func + 1, func + 2);
    }
    let callee = if handler { func + 2 } else { func + 1 };
    let cargs = if handler { nargs - 2 } else { nargs - 1 };
    let pfl = flags::PROTECTED | if handler { flags::HANDLER } else { 0 };
    let depth = th.frames.len();
    let target = th.stack[callee];
    if !target.is_function() && !st.tm_of(target, Tm::Call).is_function() {
        // LuaJIT reports an uncallable target without a position.
        let tn = crate::vm::meta::type_name(target).as_bytes();
        let e = st.error_at(
            None,
            &crate::errmsg::Parts::new(crate::errmsg::OP_ON_VALUE, &[crate::errmsg::OP_CALL.as_bytes(), tn]),
        );
        deliver_error(st, e, callee, handler, depth)?;
        return Ok(Entered::Native);
    }
    match precall(st, callee, cargs, -1, Cont::Pcall, pfl) {
        Ok(entered) => Ok(entered),
        Err(e @ (Throw::Yield | Throw::Abort)) => Err(e),
        Err(e) => {
            // The call could not start (stack overflow), or a native callee failed.
            deliver_error(st, e, callee, handler, depth)?;
            Ok(Entered::Native)
        }
    }
}

/// The pcall marker frame is on top and its results lie from its `func` slot up to
/// `top`: return them to its caller.
pub fn finish_pcall_frame(st: &mut State) -> LResult<()> {
    let th = st.cur;
    let Some(ci) = th.frames.last().copied() else {
        return Ok(());
    };
    let first = ci.func as usize;
    let n = th.top.saturating_sub(first);
    poscall(st, first, n)
}

/// Complete a pcall whose protected frames are gone: `false, msg` at the pcall slot
/// (below the callee slot, and below the handler for xpcall), then finish the marker.
/// This is where a script catches `not enough memory`, so a collection owed by the
/// refused allocation runs here, before the script goes on.
fn catch(st: &mut State, msg: Value, callee: usize, handler: bool) -> LResult<()> {
    let th = st.cur;
    close_upvals(st, th, callee);
    let dest = if handler { callee - 2 } else { callee - 1 };
    let t = th.get_mut();
    // The pcall slot is followed by at least the callee slot, so dest + 1 exists.
    t.stack[dest] = Value::FALSE;
    t.stack[dest + 1] = msg;
    t.top = dest + 2;
    // Every live value is below the pcall slot or in `false, msg`: pay a collection
    // owed by a refused allocation before the handling code runs.
    st.pay_owed_collection();
    finish_pcall_frame(st)
}

/// Handle error `e` raised while running frames at index `entry` and above: find the
/// innermost protected frame there, run the xpcall handler (on the full stack, so it
/// can take a traceback), drop the frames and deliver `false, msg`. `Err(e)` if no
/// protected frame is in range; the caller passes it outward.
pub fn unwind(st: &mut State, e: Throw, entry: usize) -> LResult<()> {
    if let Throw::Yield | Throw::Abort = e {
        return Err(e);
    }
    let th = st.cur;
    let Some(i) = (entry..th.frames.len())
        .rev()
        .find(|&i| th.frames[i].flags & flags::PROTECTED != 0)
    else {
        return Err(e);
    };
    let ci = th.frames[i];
    deliver_error(st, e, ci.func as usize, ci.flags & flags::HANDLER != 0, i)
}

/// Complete a protected call that failed with `e`: its callee sits at stack slot
/// `callee` and its frames start at index `depth`. The xpcall handler (not for a
/// memory error) runs first, on the full stack (so it can take a traceback) and above
/// every live value; then the frames from `depth` are dropped and `false, msg`
/// delivered. Every failing pcall
/// goes through here, so no path can leave a handler's or callee's frames behind.
fn deliver_error(st: &mut State, e: Throw, callee: usize, handler: bool, depth: usize) -> LResult<()> {
    let th = st.cur;
    let mut msg = st.error_value(e);
    // As in Lua 5.1 and LuaJIT, a memory error skips the handler: `false` and `not
    // enough memory` come back as they are (the handler would only fail again).
    if handler && !matches!(e, Throw::Oom) {
        if let Some(top) = th.frames.last() {
            let t = th.get_mut();
            t.top = t.top.max(top.top as usize);
        }
        msg = st.call_handler(callee - 1, msg);
    }
    th.get_mut().frames.truncate(depth);
    catch(st, msg, callee, handler)
}

/// A frame returns `n` results that start at stack slot `first`. Pops the frame and
/// places the results according to its continuation, which may update the caller's
/// pc (comparisons) or start another call (concatenation). A `Pcall` continuation
/// hands the results on to the pcall marker below, iteratively: chains of tail-called
/// pcalls can be as deep as the stack.
pub fn poscall(st: &mut State, mut first: usize, mut n: usize) -> LResult<()> {
    let th = st.cur;
    loop {
        let Some(ci) = th.get_mut().frames.pop() else {
            return Ok(());
        };
        let t = th.get_mut();
        match ci.cont {
            Cont::Normal => {
                // A Rust caller may want more results than the callee's frame had
                // room for (`State::call(0, 100)`): make room before padding with nil.
                let end = ci.func as usize + ci.nresults.max(0) as usize;
                if end > t.stack.len() {
                    ensure_stack(st, th, end + EXTRA_STACK)?;
                }
                place_results(th.get_mut(), ci.func as usize, first, n, ci.nresults);
            }
            Cont::Pcall => {
                let dest = ci.func as usize - if ci.flags & flags::HANDLER != 0 { 2 } else { 1 };
                let s = t.stack.as_mut_slice();
                s.copy_within(first..first + n, dest + 1);
                s[dest] = Value::TRUE;
                t.top = dest + 1 + n;
                // The pcall marker frame is on top now and returns these.
                first = dest;
                n += 1;
                continue;
            }
            Cont::Store(slot) => {
                let v = if n > 0 { t.stack[first] } else { Value::NIL };
                t.stack[slot as usize] = v;
                t.top = meta_above(&ci);
            }
            Cont::Discard => {
                t.top = meta_above(&ci);
            }
            Cont::Cond { negate } => {
                let v = if n > 0 { t.stack[first] } else { Value::NIL };
                t.top = meta_above(&ci);
                cond_jump(th, v.is_truthy() != negate);
            }
            Cont::Concat { dest, base, top } => {
                let v = if n > 0 { t.stack[first] } else { Value::NIL };
                t.stack[top as usize - 2] = v;
                t.top = meta_above(&ci);
                crate::vm::meta::concat(st, dest as usize, base as usize, top as usize - 1)?;
            }
        }
        return Ok(());
    }
}

/// The top a metamethod call (`meta::call_meta`, the only maker of the
/// `Store`/`Discard`/`Cond`/`Concat` continuations) started from: its function slot
/// lies `META_GAP` above it. Restoring it keeps a loop of metamethod calls from
/// creeping up the stack (it did, by the gap per call, until `stack overflow`).
fn meta_above(ci: &CallInfo) -> usize {
    (ci.func as usize).saturating_sub(crate::vm::meta::META_GAP)
}

/// Move `n` results from `first` to `dest`, adjusted to `wanted` (-1: all), and set
/// `top` after them. (`do_return` in interp.rs inlines the same move for Lua returns:
/// through this function fib costs 9% more instructions.)
///
/// Callers guarantee `dest <= first`, `first + n <= stack.len()` (results lie below
/// `top`) and, for `wanted >= 0`, `dest + wanted <= stack.len()` (`poscall` grows the
/// stack first; the interpreter's inline native call stays below its frame's top).
#[inline(never)]
pub(crate) fn place_results(t: &mut GcThread, dest: usize, first: usize, n: usize, wanted: i32) {
    let want = if wanted < 0 { n } else { wanted as usize };
    debug_assert!(dest <= first && first + n <= t.stack.len() && dest + want <= t.stack.len());
    let sp = t.stack.as_mut_ptr();
    // SAFETY: the bounds above (caller contract); `ptr::copy` allows the overlap.
    unsafe {
        std::ptr::copy(sp.add(first), sp.add(dest), want.min(n));
        for i in n..want {
            *sp.add(dest + i) = Value::NIL;
        }
    }
    t.top = dest + want;
}

/// Apply a comparison result to the Lua frame on top of `th`: its pc points at the JMP
/// that follows the comparison.
pub fn cond_jump(th: GcRef<GcThread>, take: bool) {
    let t = th.get_mut();
    let Some(ci) = t.frames.last_mut() else { return };
    let Some(cl) = t.stack.get(ci.func as usize).and_then(|v| v.as_function()) else {
        return;
    };
    let Some(p) = cl.proto() else { return };
    let pc = ci.pc as usize;
    let Some(&jmp) = p.code.get(pc) else { return };
    ci.pc = if take {
        (pc as i64 + 1 + jump_offset(jmp) as i64) as u32
    } else {
        pc as u32 + 1
    };
}
