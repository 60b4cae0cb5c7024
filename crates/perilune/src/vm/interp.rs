//! The interpreter: the dispatch loop over one thread's Lua frames.
//!
//! `execute` runs the frame on top of the current thread (the *entry* frame) and every
//! Lua frame it calls, without recursing on the Rust stack for Lua-to-Lua calls,
//! until the entry frame returns. Natives run inside `precall`; metamethods written in
//! Lua run as ordinary frames with a continuation (see `call::poscall`).
//!
//! Invariants relied on here:
//! - Bytecode comes from our compiler, which keeps registers below `framesize`,
//!   constant indices in range and jump targets inside the code (bytecode.rs), and
//!   `precall` made room for `framesize + EXTRA_STACK` slots. Register and constant
//!   accesses are therefore unchecked.
//! - `base` is a raw pointer into the stack. Anything that may reallocate the stack
//!   (calls, metamethods, VARG) is followed by a reload.
//! - Before any operation that can raise, `savepc!` stores the pc so the error carries
//!   the right line and the unwinder sees a consistent frame.
//! - GC steps and finalizers run only at the safe points marked `safepoint!` (and after
//!   a native metamethod stored its result, in `meta::call_meta`), with the thread's
//!   `top` covering every live register.

use crate::compiler::bytecode::{arg_a, arg_b, arg_c, arg_d, jump_offset, op_byte, Op};
use crate::func::{GcFunc, GcUpval};
use crate::hot::{HotBlock, VmMode};
use crate::object::GcRef;
use crate::value::Value;
use crate::vm::budget::Poll;
use crate::vm::call::{self, close_upvals, ensure_stack, find_upval, poscall, precall, Entered};
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::{flags, Cont, FrameKind};
use crate::vm::hook::mask::{CALL as HOOK_CALL, COUNT as HOOK_COUNT, LINE as HOOK_LINE, RET as HOOK_RET};
use crate::vm::meta::{self, Arith, Lookup};
use crate::vm::state::{State, Tm};
use crate::vm::thread::EXTRA_STACK;

/// Run the current thread from its top frame until the frame that is on top now
/// returns. Errors not caught by a `pcall` frame above the entry come back as `Err`
/// with the frames still in place (so a traceback can be taken); `Err(Throw::Yield)`
/// means the coroutine yielded.
pub fn execute(st: &mut State) -> LResult<()> {
    let entry = st.cur.frames.len().saturating_sub(1);
    execute_from(st, entry)
}

/// Run the current thread until the frame at index `entry` returns (a coroutine body
/// runs with entry 0, so errors find `pcall` frames anywhere in it).
pub fn execute_from(st: &mut State, entry: usize) -> LResult<()> {
    // Three copies of the loop: the hooked one fires debug hooks and feeds the JIT's
    // recorder; the counting one counts loop back-edges for the JIT; the plain one
    // (the JIT off) pays for neither. Each returns `false` when the state that chose
    // it changed under it.
    st.with_mode(VmMode::Interp, |st| loop {
        let r = match st.dispatch {
            LoopCopy::Hooked => run::<true, true>(st, entry),
            LoopCopy::Counting => run::<false, true>(st, entry),
            LoopCopy::Plain => run::<false, false>(st, entry),
        };
        match r {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => {
                // The trace's frame is being unwound.
                if st.jit.recording() {
                    crate::jit::abort_recording(st);
                }
                return Err(e);
            }
        }
    })
}

/// Which copy of the dispatch loop the state asks for. Cached in `State::dispatch`
/// (one byte load per check, as the hook test was before the JIT) and recomputed by
/// [`State::refresh_dispatch`] wherever an input changes: the debug hook, the JIT
/// switch, the start and end of a recording.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum LoopCopy {
    /// The JIT off, no hook: nothing but the instructions.
    Plain,
    /// The JIT on: loop back-edges count towards a trace.
    Counting,
    /// A debug hook is set or a trace is being recorded: every instruction is looked at.
    Hooked,
}

impl LoopCopy {
    /// The copy `run::<HOOKS, COUNT>` is.
    const fn of(hooks: bool, count: bool) -> LoopCopy {
        match (hooks, count) {
            (true, _) => LoopCopy::Hooked,
            (false, true) => LoopCopy::Counting,
            (false, false) => LoopCopy::Plain,
        }
    }
}

impl State {
    /// Recompute [`LoopCopy`] after one of its inputs changed.
    pub fn refresh_dispatch(&mut self) {
        self.dispatch = self.wanted_copy();
    }

    fn wanted_copy(&self) -> LoopCopy {
        if self.debug_hook_active() || self.jit.recording() {
            LoopCopy::Hooked
        } else if self.jit.is_on() {
            LoopCopy::Counting
        } else {
            LoopCopy::Plain
        }
    }

    /// Is the running copy `run::<HOOKS, COUNT>` still the one the state asks for?
    #[inline(always)]
    fn copy_is(&self, hooks: bool, count: bool) -> bool {
        self.dispatch == LoopCopy::of(hooks, count)
    }
}

/// The dispatch loop; `HOOKS` selects the copy that fires debug hooks and records
/// traces, `COUNT` the copies that count loop back-edges for the JIT.
fn run<const HOOKS: bool, const COUNT: bool>(st: &mut State, entry: usize) -> LResult<bool> {
    let th = st.cur;
    // The hot block, reached through a pointer held here as compiled code will hold
    // it (`hot.rs`): one load per countdown payment instead of two.
    let hot: *const HotBlock = st.hot();
    let counts: *const crate::hot::HotCounts = st.hotcounts();
    macro_rules! hot {
        () => {
            // SAFETY: the hot block lives in the heap's box for the state's whole life
            // and is only ever mutated through its `Cell`s (no `&mut Heap` exists).
            unsafe { &*hot }
        };
    }
    'frame: loop {
        let ci_idx = th.frames.len() - 1;
        debug_assert!(ci_idx >= entry);
        // The frame's fields are read where they are needed (`ci!()`), not copied
        // here: entering a frame is on the path of every call and return.
        macro_rules! ci {
            () => {
                // SAFETY: frame `ci_idx` is on the frame stack while this loop runs it
                // (paths that pop it leave through `continue 'frame` or a return).
                unsafe { &*th.frames.as_ptr().add(ci_idx) }
            };
        }
        debug_assert!(ci!().kind == FrameKind::Lua);
        let base_idx = ci!().base as usize;
        let mut pc = ci!().pc as usize;
        let func_idx = ci!().func as usize;
        // SAFETY: a frame's function slot is below its base, inside the stack.
        let fslot = unsafe { *th.stack.as_ptr().add(func_idx) };
        let Some(cl) = fslot.as_function() else {
            return Err(st.rt_error_here(crate::errmsg::INTERNAL_FRAME_FUNCTION));
        };
        let Some(proto) = cl.proto() else {
            return Err(st.rt_error_here(crate::errmsg::INTERNAL_FRAME_PROTO));
        };
        let code = proto.code.as_ptr();
        let kst = proto.consts.as_ptr();
        // SAFETY: precall ensured the stack holds base + framesize + EXTRA_STACK slots.
        let mut base = unsafe { th.get_mut().stack.as_mut_ptr().add(base_idx) };
        debug_assert_eq!(st.dispatch, st.wanted_copy(), "a writer missed refresh_dispatch");
        if !st.copy_is(HOOKS, COUNT) {
            return Ok(false);
        }
        if HOOKS && pc == 0 && st.dbg_hook.mask & HOOK_CALL != 0 && !st.within(VmMode::Hook) {
            // LuaJIT reports tail calls as plain "call" events (no "tail call").
            if let Err(e) = fire_hook(st, ci_idx, 0, b"call", None) {
                match call::unwind(st, e, entry) {
                    Ok(()) if th.frames.len() <= entry => return Ok(true),
                    Ok(()) => continue 'frame,
                    Err(e) => return Err(e),
                }
            }
            // SAFETY: as above; the hook may have moved the stack.
            base = unsafe { th.get_mut().stack.as_mut_ptr().add(base_idx) };
        }

        macro_rules! reg {
            ($i:expr) => {
                // SAFETY: registers are below framesize (module invariants).
                *unsafe { &mut *base.add($i as usize) }
            };
        }
        macro_rules! kv {
            ($i:expr) => {
                // SAFETY: constant operands index existing constants (module invariants).
                unsafe { *kst.add($i as usize) }
            };
        }
        macro_rules! reload_base {
            () => {
                // SAFETY: the frame's registers are still inside the (possibly moved)
                // stack: stacks only grow while frames are live.
                base = unsafe { th.get_mut().stack.as_mut_ptr().add(base_idx) };
            };
        }
        macro_rules! savepc {
            () => {
                // Checked: after a failed tail call this frame may already be gone.
                if let Some(c) = th.get_mut().frames.as_mut_slice().get_mut(ci_idx) {
                    c.pc = pc as u32;
                }
            };
        }
        macro_rules! unwind_or_return {
            ($e:expr) => {{
                match call::unwind(st, $e, entry) {
                    Ok(()) => {
                        if th.frames.len() <= entry {
                            return Ok(true);
                        }
                        continue 'frame;
                    }
                    Err(e) => return Err(e),
                }
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        savepc!();
                        unwind_or_return!(e)
                    }
                }
            };
        }
        macro_rules! safepoint {
            () => {
                if hot!().gc_debt.get() > 0 || crate::gc::has_pending_finalizers(st) {
                    savepc!();
                    th.get_mut().top = ci!().top as usize;
                    st.safe_point();
                    reload_base!();
                }
            };
        }
        // A safe point after a native returned results that may reach past the frame's
        // top (CALLM's variable results, or a tail-called native's results delivered to
        // the frame below): `top` must survive for the instruction that consumes them.
        macro_rules! safepoint_keep_top {
            () => {
                if hot!().gc_debt.get() > 0 || crate::gc::has_pending_finalizers(st) {
                    st.safe_point_keeping_top();
                    reload_base!();
                }
            };
        }
        // After CALL/CALLM ran a native to completion: go on in this frame (unless the
        // native left it, e.g. a coroutine switch), pay GC debt, and leave for the other
        // copy of the loop if `debug.sethook` switched hooks on or off.
        macro_rules! after_native_call {
            ($nres:expr) => {
                if th.frames.len() != ci_idx + 1 {
                    continue 'frame;
                }
                reload_base!();
                if $nres >= 0 {
                    safepoint!();
                } else {
                    safepoint_keep_top!();
                }
                if !st.copy_is(HOOKS, COUNT) {
                    savepc!();
                    return Ok(false);
                }
            };
        }
        // `R(a) = o[key]` through `__index` (the fast paths have failed).
        macro_rules! index_slow {
            ($a:expr, $o:expr, $key:expr, $b:expr) => {{
                let (o, key) = ($o, $key);
                savepc!();
                match tri!(st.index_chain(o, key, Some($b))) {
                    Lookup::Found(v) => reg!($a) = v,
                    Lookup::Call(h, o2) => {
                        tri!(meta::call_meta(
                            st,
                            h,
                            &[o2, key],
                            Cont::Store((base_idx + $a) as u32)
                        ));
                        continue 'frame;
                    }
                }
            }};
        }
        // `o[key] = v` through `__newindex` or a raw store that may allocate.
        macro_rules! newindex_slow {
            ($o:expr, $key:expr, $v:expr, $b:expr) => {{
                savepc!();
                tri!(set_index(st, $o, $key, $v, Some($b)));
                if th.frames.len() != ci_idx + 1 {
                    continue 'frame;
                }
            }};
        }
        // Store into an existing slot of table `t` unless the slot is empty and the
        // table has a `__newindex`; then go on with the next instruction.
        macro_rules! store_if_plain {
            ($t:expr, $slot:expr, $v:expr) => {{
                let (t, slot, v) = ($t, $slot, $v);
                // SAFETY: `slot` is a live slot of `t`; nothing below can move it.
                if !unsafe { *slot }.is_nil() || no_meta(st, t, Tm::NewIndex) {
                    // SAFETY: as above.
                    unsafe { *slot = v };
                    crate::gc::barrier_back(st, t, v);
                    continue;
                }
            }};
        }
        macro_rules! jump {
            ($ins:expr) => {{
                pc = (pc as isize + jump_offset($ins) as isize) as usize;
            }};
        }
        // A loop back-edge: charge the loop body to the budget's countdown. The check
        // may run the profiler's callback, which leaves this thread's stack where it is.
        macro_rules! back_edge {
            ($units:expr) => {
                back_edge!($units, Poll::Edge)
            };
            ($units:expr, $at:expr) => {{
                if hot!().pay($units as i64) {
                    savepc!();
                    tri!(st.budget_check_at($at));
                }
            }};
        }
        // Values passed on as multiple results (CALLM, CALLMT, RETM, TSETM, after a
        // call or VARG made them) are copied one by one: pay for long runs, or
        // recursion that passes a growing list on does quadratic work on a budget
        // that counts only its calls (a crafted `varret(14082)` ran for seconds
        // under a 200 000 budget: docs/fuzzing.md).
        macro_rules! pay_values {
            ($n:expr) => {{
                let n: usize = $n;
                if n > VALUES_PER_UNIT {
                    back_edge!(n / VALUES_PER_UNIT, Poll::Inside);
                }
            }};
        }
        macro_rules! cond_next {
            ($take:expr) => {
                if $take {
                    // SAFETY: a comparison is always followed by a JMP (bytecode.rs).
                    let j = unsafe { *code.add(pc) };
                    pc = (pc as isize + 1 + jump_offset(j) as isize) as usize;
                } else {
                    pc += 1;
                }
            };
        }
        macro_rules! do_return {
            ($first:expr, $n:expr) => {{
                if HOOKS && st.dbg_hook.mask & HOOK_RET != 0 && !st.within(VmMode::Hook) {
                    // The results sit in registers below the frame's top, so the hook
                    // (called above the top) leaves them alone.
                    tri!(fire_hook(st, ci_idx, pc, b"return", None));
                    reload_base!();
                }
                let first = base_idx + $first;
                if th
                    .open_upvals
                    .is_some_and(|u| u.slot as usize >= ci!().func as usize)
                {
                    close_upvals(st, th, ci!().func as usize);
                }
                // The common case inline: results to the function slot, when the
                // stack already has room for every wanted result (a Rust caller of
                // the entry frame may want more than the frame had; `poscall` grows).
                if ci!().cont == Cont::Normal
                    && (ci!().nresults < 0 || ci!().func as usize + ci!().nresults as usize <= th.stack.len())
                {
                    let n: usize = $n;
                    let dest = ci!().func as usize;
                    let t = th.get_mut();
                    let sp = t.stack.as_mut_ptr();
                    let want = if ci!().nresults < 0 {
                        n
                    } else {
                        ci!().nresults as usize
                    };
                    // SAFETY: results lie below this frame's top and the destination
                    // below them; `want` slots from `dest` fit in the stack (checked
                    // above) or, for all results, end below `first + n`.
                    unsafe {
                        for i in 0..want.min(n) {
                            *sp.add(dest + i) = *sp.add(first + i);
                        }
                        for i in n..want {
                            *sp.add(dest + i) = Value::NIL;
                        }
                    }
                    t.top = dest + want;
                    t.frames.pop();
                } else if let Err(e) = poscall(st, first, $n) {
                    unwind_or_return!(e)
                }
                if th.frames.len() <= entry {
                    return Ok(true);
                }
                continue 'frame;
            }};
        }
        // Pointers to a register and to a constant, for operands read as numbers.
        macro_rules! rp {
            ($i:expr) => {
                // SAFETY: registers are below framesize (module invariants).
                unsafe { base.add($i as usize) as *const Value }
            };
        }
        macro_rules! kp {
            ($i:expr) => {
                // SAFETY: constant operands index existing constants (module invariants).
                unsafe { kst.add($i as usize) }
            };
        }
        // `R(a) = x op y` for operand slots `px`, `py`; metamethods otherwise.
        macro_rules! arith_op {
            ($op:expr, $px:expr, $py:expr, $regs:expr, $a:expr) => {{
                let (px, py): (*const Value, *const Value) = ($px, $py);
                // SAFETY: both point at live registers or constants.
                if let (Some(n), Some(m)) = unsafe { (slot_number(px), slot_number(py)) } {
                    reg!($a) = $op.apply_boxed(n, m);
                } else {
                    savepc!();
                    // SAFETY: as above.
                    let (x, y) = unsafe { (*px, *py) };
                    match tri!(meta::arith(st, $op, x, y, base_idx + $a, $regs)) {
                        Some(v) => reg!($a) = v,
                        None => continue 'frame,
                    }
                }
            }};
        }

        // A back-edge of a loop the JIT counts (FORL, ITERL, LOOP; their I-forms are
        // blacklisted and do not count), once it has jumped: the counter is the one
        // of the instruction it goes on at (`jit::counter_pc`). At its `hotloop`-th
        // pass the loop is hot and `jit::hot` looks at the loop instruction at
        // `$loop_pc`; when it starts recording, the hooked copy takes over here. With
        // the JIT off (`COUNT` false) this is nothing.
        macro_rules! hotloop {
            ($loop_pc:expr) => {
                // SAFETY: the counters live in the heap's box beside the hot block
                // (same lifetime, mutated only through `Cell`s).
                if COUNT && unsafe { &*counts }.count_loop(crate::hot::hot_slot(pc)) {
                    savepc!();
                    if crate::jit::hot(st, proto, $loop_pc) {
                        return Ok(false);
                    }
                }
            };
        }
        // A `J` loop instruction went round: run its trace (not in the hooked copy:
        // traces are not entered under a debug hook or while recording), then go on
        // at the exit's pc; a trace whose countdown ran out asks for the check here.
        macro_rules! enter_trace {
            ($loop_pc:expr) => {
                if !HOOKS {
                    if let crate::jit::trace::Resume::At { pc: to, budget } =
                        crate::jit::trace::enter(st, proto, $loop_pc, base_idx)
                    {
                        pc = to;
                        if budget {
                            savepc!();
                            tri!(st.budget_check_at(Poll::Edge));
                        }
                    }
                }
            };
        }
        macro_rules! forl {
            ($counts:expr, $a:expr, $ins:expr) => {{
                let (a, ins) = ($a, $ins);
                let step = reg!(a + 2).number_unchecked();
                let i = reg!(a).number_unchecked() + step;
                let lim = reg!(a + 1).number_unchecked();
                if if step >= 0.0 { i <= lim } else { i >= lim } {
                    reg!(a) = Value::arith(i);
                    reg!(a + 3) = Value::arith(i);
                    jump!(ins);
                    back_edge!(-jump_offset(ins));
                    if $counts {
                        hotloop!((pc as isize - 1 - jump_offset(ins) as isize) as usize);
                    }
                }
            }};
        }
        macro_rules! iterl {
            ($counts:expr, $a:expr, $ins:expr) => {{
                let (a, ins) = ($a, $ins);
                let v = reg!(a);
                if !v.is_nil() {
                    reg!(a - 1) = v;
                    jump!(ins);
                    back_edge!(-jump_offset(ins));
                    if $counts {
                        hotloop!((pc as isize - 1 - jump_offset(ins) as isize) as usize);
                    }
                }
            }};
        }

        loop {
            // SAFETY: pc stays inside the code: every path ends in a return and jumps
            // target instructions (module invariants).
            let ins = unsafe { *code.add(pc) };
            pc += 1;
            // The JIT's recorder looks at the instruction before it runs; when the
            // recording ends the plain copy takes over at this instruction.
            if HOOKS && st.jit.recording() && !st.within(VmMode::Hook) {
                savepc!();
                let goes_on = crate::jit::record(st, ci_idx, pc - 1);
                // The `jit.attach` handlers run once the recording is over.
                if !goes_on && st.jit.has_events() {
                    let t = th.get_mut();
                    let saved = t.top;
                    t.top = t.top.max(ci!().top as usize);
                    crate::jit::deliver_events(st, cl);
                    th.get_mut().top = saved;
                    reload_base!();
                }
                if !goes_on && !st.copy_is(HOOKS, COUNT) {
                    pc -= 1;
                    savepc!();
                    return Ok(false);
                }
            }
            // Debug hooks run before the fetched instruction, with the pc already past
            // it (so errors and `getinfo` see the instruction's line).
            if HOOKS && !st.within(VmMode::Hook) {
                let m = st.dbg_hook.mask;
                let mut event: Option<(&[u8], Option<u32>)> = None;
                if m & HOOK_COUNT != 0 && st.dbg_hook.count > 0 {
                    st.hook_count_left = st.hook_count_left.saturating_sub(1);
                    if st.hook_count_left == 0 {
                        st.hook_count_left = st.dbg_hook.count;
                        event = Some((b"count", None));
                    }
                }
                if let Some((ev, _)) = event {
                    tri!(fire_hook(st, ci_idx, pc, ev, None));
                    reload_base!();
                }
                if m & HOOK_LINE != 0 {
                    // A line event starts at a new line, at a jump back, and (as in
                    // LuaJIT, which remembers the last instruction across frames) at
                    // the first instruction run after any other function's.
                    let cur = pc - 1;
                    let line = proto.lineinfo.get(cur).copied().unwrap_or(0);
                    let (lp, lpc) = st.hook_last;
                    let same_proto = lp == proto.as_ptr() as usize;
                    let new_line = !same_proto || cur <= lpc || proto.lineinfo.get(lpc).copied().unwrap_or(0) != line;
                    st.hook_last = (proto.as_ptr() as usize, cur);
                    if new_line {
                        tri!(fire_hook(st, ci_idx, pc, b"line", Some(line)));
                        reload_base!();
                    }
                }
            }
            let a = arg_a(ins) as usize;
            // SAFETY: the compiler only emits valid opcodes.
            let op: Op = unsafe { std::mem::transmute::<u8, Op>(op_byte(ins)) };
            match op {
                Op::ISLT | Op::ISGE => {
                    let (px, py) = (rp!(a), rp!(arg_d(ins)));
                    let negate = op == Op::ISGE;
                    // SAFETY: both point at live registers.
                    let r = if let (Some(n), Some(m)) = unsafe { (slot_number(px), slot_number(py)) } {
                        n < m
                    } else {
                        savepc!();
                        // SAFETY: as above.
                        let (x, y) = unsafe { (*px, *py) };
                        match tri!(meta::less_than(st, x, y, negate)) {
                            Some(r) => r,
                            None => continue 'frame,
                        }
                    };
                    cond_next!(r != negate);
                }
                Op::ISLE | Op::ISGT => {
                    let (px, py) = (rp!(a), rp!(arg_d(ins)));
                    let negate = op == Op::ISGT;
                    // SAFETY: both point at live registers.
                    let r = if let (Some(n), Some(m)) = unsafe { (slot_number(px), slot_number(py)) } {
                        n <= m
                    } else {
                        savepc!();
                        // SAFETY: as above.
                        let (x, y) = unsafe { (*px, *py) };
                        match tri!(meta::less_equal(st, x, y, negate)) {
                            Some(r) => r,
                            None => continue 'frame,
                        }
                    };
                    cond_next!(r != negate);
                }
                Op::ISEQV | Op::ISNEV => {
                    let (x, y) = (reg!(a), reg!(arg_d(ins)));
                    let negate = op == Op::ISNEV;
                    let r = if x.is_number() && y.is_number() {
                        x.number_unchecked() == y.number_unchecked()
                    } else if x.bits() == y.bits() {
                        true
                    } else {
                        savepc!();
                        match tri!(meta::equal(st, x, y, negate)) {
                            Some(r) => r,
                            None => continue 'frame,
                        }
                    };
                    cond_next!(r != negate);
                }
                Op::ISEQS | Op::ISNES => {
                    let r = reg!(a).bits() == kv!(arg_d(ins)).bits();
                    cond_next!(r != (op == Op::ISNES));
                }
                Op::ISEQN | Op::ISNEN => {
                    let x = reg!(a);
                    let negate = op == Op::ISNEN;
                    let mut r = x.is_number() && x.number_unchecked() == kv!(arg_d(ins)).number_unchecked();
                    if !r && x.as_cdata().is_some() {
                        // C data compare with numbers through their metatable.
                        savepc!();
                        match tri!(meta::equal(st, x, kv!(arg_d(ins)), negate)) {
                            Some(v) => r = v,
                            None => continue 'frame,
                        }
                    }
                    cond_next!(r != negate);
                }
                Op::ISEQP | Op::ISNEP => {
                    let x = reg!(a);
                    let negate = op == Op::ISNEP;
                    let mut r = x.bits() == pri(arg_d(ins)).bits();
                    if !r && x.as_cdata().is_some() {
                        // `p == nil` is the NULL test of pointer cdata.
                        savepc!();
                        match tri!(meta::equal(st, x, pri(arg_d(ins)), negate)) {
                            Some(v) => r = v,
                            None => continue 'frame,
                        }
                    }
                    cond_next!(r != negate);
                }
                Op::ISTC => {
                    let v = reg!(arg_d(ins));
                    if v.is_truthy() {
                        reg!(a) = v;
                    }
                    cond_next!(v.is_truthy());
                }
                Op::ISFC => {
                    let v = reg!(arg_d(ins));
                    if v.is_falsy() {
                        reg!(a) = v;
                    }
                    cond_next!(v.is_falsy());
                }
                Op::IST => {
                    let v = reg!(arg_d(ins));
                    cond_next!(v.is_truthy());
                }
                Op::ISF => {
                    let v = reg!(arg_d(ins));
                    cond_next!(v.is_falsy());
                }
                Op::MOV => reg!(a) = reg!(arg_d(ins)),
                Op::NOT => reg!(a) = Value::boolean(reg!(arg_d(ins)).is_falsy()),
                Op::UNM => {
                    let d = arg_d(ins);
                    arith_op!(Arith::Unm, rp!(d), rp!(d), (Some(d), Some(d)), a)
                }
                Op::LEN => {
                    let d = arg_d(ins);
                    let x = reg!(d);
                    if let Some(s) = x.as_string() {
                        reg!(a) = Value::arith(s.len() as f64);
                    } else if let Some(t) = x.as_table() {
                        reg!(a) = Value::arith(t.length() as f64);
                    } else {
                        savepc!();
                        match tri!(meta::length(st, x, base_idx + a, Some(d))) {
                            Some(v) => reg!(a) = v,
                            None => continue 'frame,
                        }
                    }
                }
                Op::ADDVN => arith_op!(
                    Arith::Add,
                    rp!(arg_b(ins)),
                    kp!(arg_c(ins)),
                    (Some(arg_b(ins)), None),
                    a
                ),
                Op::SUBVN => arith_op!(
                    Arith::Sub,
                    rp!(arg_b(ins)),
                    kp!(arg_c(ins)),
                    (Some(arg_b(ins)), None),
                    a
                ),
                Op::MULVN => arith_op!(
                    Arith::Mul,
                    rp!(arg_b(ins)),
                    kp!(arg_c(ins)),
                    (Some(arg_b(ins)), None),
                    a
                ),
                Op::DIVVN => arith_op!(
                    Arith::Div,
                    rp!(arg_b(ins)),
                    kp!(arg_c(ins)),
                    (Some(arg_b(ins)), None),
                    a
                ),
                Op::MODVN => arith_op!(
                    Arith::Mod,
                    rp!(arg_b(ins)),
                    kp!(arg_c(ins)),
                    (Some(arg_b(ins)), None),
                    a
                ),
                Op::ADDNV => arith_op!(
                    Arith::Add,
                    kp!(arg_c(ins)),
                    rp!(arg_b(ins)),
                    (None, Some(arg_b(ins))),
                    a
                ),
                Op::SUBNV => arith_op!(
                    Arith::Sub,
                    kp!(arg_c(ins)),
                    rp!(arg_b(ins)),
                    (None, Some(arg_b(ins))),
                    a
                ),
                Op::MULNV => arith_op!(
                    Arith::Mul,
                    kp!(arg_c(ins)),
                    rp!(arg_b(ins)),
                    (None, Some(arg_b(ins))),
                    a
                ),
                Op::DIVNV => arith_op!(
                    Arith::Div,
                    kp!(arg_c(ins)),
                    rp!(arg_b(ins)),
                    (None, Some(arg_b(ins))),
                    a
                ),
                Op::MODNV => arith_op!(
                    Arith::Mod,
                    kp!(arg_c(ins)),
                    rp!(arg_b(ins)),
                    (None, Some(arg_b(ins))),
                    a
                ),
                Op::ADDVV => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    arith_op!(Arith::Add, rp!(b), rp!(c), (Some(b), Some(c)), a)
                }
                Op::SUBVV => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    arith_op!(Arith::Sub, rp!(b), rp!(c), (Some(b), Some(c)), a)
                }
                Op::MULVV => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    arith_op!(Arith::Mul, rp!(b), rp!(c), (Some(b), Some(c)), a)
                }
                Op::DIVVV => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    arith_op!(Arith::Div, rp!(b), rp!(c), (Some(b), Some(c)), a)
                }
                Op::MODVV => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    arith_op!(Arith::Mod, rp!(b), rp!(c), (Some(b), Some(c)), a)
                }
                Op::POW => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    arith_op!(Arith::Pow, rp!(b), rp!(c), (Some(b), Some(c)), a)
                }
                Op::CAT => {
                    savepc!();
                    let depth = th.frames.len();
                    let (b, c) = (arg_b(ins) as usize, arg_c(ins) as usize);
                    th.get_mut().top = ci!().top as usize;
                    tri!(meta::concat(st, base_idx + a, base_idx + b, base_idx + c + 1));
                    if th.frames.len() != depth {
                        continue 'frame;
                    }
                    reload_base!();
                    safepoint!();
                }
                Op::KSTR | Op::KNUM | Op::KCDATA => reg!(a) = kv!(arg_d(ins)),
                Op::KSHORT => reg!(a) = Value::arith(arg_d(ins) as u16 as i16 as f64),
                Op::KPRI => reg!(a) = pri(arg_d(ins)),
                Op::KNIL => {
                    for r in a..=arg_d(ins) as usize {
                        reg!(r) = Value::NIL;
                    }
                }
                Op::UGET => reg!(a) = upval(cl, arg_d(ins)).get(),
                Op::USETV | Op::USETS | Op::USETN | Op::USETP => {
                    let d = arg_d(ins);
                    let v = match op {
                        Op::USETV => reg!(d),
                        Op::USETP => pri(d),
                        _ => kv!(d),
                    };
                    let uv = upval(cl, a as u32);
                    uv.get_mut().set(v);
                    if !uv.is_open {
                        crate::gc::barrier_forward(st, uv.header(), v);
                    }
                }
                Op::UCLO => {
                    close_upvals(st, th, base_idx + a);
                    jump!(ins);
                    if jump_offset(ins) < 0 {
                        back_edge!(-jump_offset(ins));
                    }
                }
                Op::FNEW => {
                    savepc!();
                    let Some(&child) = proto.protos.get(arg_d(ins) as usize) else {
                        tri!(Err(st.rt_error_here(crate::errmsg::INTERNAL_PROTO_INDEX)))
                    };
                    let f = tri!(new_closure(st, cl, child, base_idx));
                    reg!(a) = Value::function(f);
                    safepoint!();
                }
                Op::TNEW => {
                    savepc!();
                    let d = arg_d(ins) as usize;
                    let asize = d & 0x7ff;
                    let hbits = d >> 11;
                    let hsize = if hbits > 0 { 1usize << (hbits - 1).min(24) } else { 0 };
                    // Clearing the slots is work a budget must see: a crafted size hint
                    // made 32 768 hash slots per turn of a loop (docs/fuzzing.md).
                    pay_values!(asize + hsize);
                    let t = tri!(st.new_table(asize, hsize).map_err(Throw::from));
                    reg!(a) = Value::table(t);
                    safepoint!();
                }
                Op::TDUP => {
                    savepc!();
                    if let Some(src) = kv!(arg_d(ins)).as_table() {
                        pay_values!(src.array.len() + src.node.len());
                    }
                    let t = tri!(dup_template(st, kv!(arg_d(ins))));
                    reg!(a) = Value::table(t);
                    safepoint!();
                }
                Op::GGET => {
                    let key = kv!(arg_d(ins));
                    let env = cl.env;
                    let v = match key.as_string() {
                        Some(k) => env.get_str(k),
                        None => env.get(key),
                    };
                    if !v.is_nil() || env.metatable.is_none() {
                        reg!(a) = v;
                    } else {
                        savepc!();
                        match tri!(st.index_chain(Value::table(env), key, None)) {
                            Lookup::Found(v) => reg!(a) = v,
                            Lookup::Call(h, o) => {
                                tri!(meta::call_meta(st, h, &[o, key], Cont::Store((base_idx + a) as u32)));
                                continue 'frame;
                            }
                        }
                    }
                }
                Op::GSET => {
                    savepc!();
                    let key = kv!(arg_d(ins));
                    let v = reg!(a);
                    let env = Value::table(cl.env);
                    tri!(set_index(st, env, key, v, None));
                    if th.frames.len() != ci_idx + 1 {
                        continue 'frame;
                    }
                }
                Op::TGETV => {
                    let (b, key) = (arg_b(ins), reg!(arg_c(ins)));
                    let o = reg!(b);
                    if let Some(t) = o.as_table() {
                        let v = if let Some(slot) = array_slot(t, key) {
                            // SAFETY: array_slot returned a slot of the live array part.
                            unsafe { *slot }
                        } else {
                            t.get(key)
                        };
                        if !v.is_nil() || no_meta(st, t, Tm::Index) {
                            reg!(a) = v;
                            continue;
                        }
                    }
                    index_slow!(a, o, key, b);
                }
                Op::TGETS => {
                    let (b, key) = (arg_b(ins), kv!(arg_c(ins)));
                    let o = reg!(b);
                    if let (Some(t), Some(k)) = (o.as_table(), key.as_string()) {
                        let v = t.get_str(k);
                        if !v.is_nil() || no_meta(st, t, Tm::Index) {
                            reg!(a) = v;
                            continue;
                        }
                        if let Some(v) = get_str_inherited(st, t, k) {
                            reg!(a) = v;
                            continue;
                        }
                    }
                    index_slow!(a, o, key, b);
                }
                Op::TGETB => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    let o = reg!(b);
                    if let Some(t) = o.as_table() {
                        let v = t.get_int(c as i64);
                        if !v.is_nil() || no_meta(st, t, Tm::Index) {
                            reg!(a) = v;
                            continue;
                        }
                    }
                    index_slow!(a, o, Value::arith(c as f64), b);
                }
                Op::TSETV => {
                    let (b, key) = (arg_b(ins), reg!(arg_c(ins)));
                    let (o, v) = (reg!(b), reg!(a));
                    // Fast path: an existing slot of the array part, no __newindex.
                    if let Some(t) = o.as_table() {
                        if let Some(slot) = array_slot(t, key) {
                            store_if_plain!(t, slot, v);
                        }
                    }
                    newindex_slow!(o, key, v, b);
                }
                Op::TSETS => {
                    let (b, key) = (arg_b(ins), kv!(arg_c(ins)));
                    let (o, v) = (reg!(b), reg!(a));
                    // Fast path: a key already in the hash part, no __newindex.
                    if let (Some(t), Some(k)) = (o.as_table(), key.as_string()) {
                        if let Some(slot) = t.get_mut().str_slot(k) {
                            store_if_plain!(t, slot, v);
                        }
                    }
                    newindex_slow!(o, key, v, b);
                }
                Op::TSETB => {
                    let (b, c) = (arg_b(ins), arg_c(ins));
                    let (o, v) = (reg!(b), reg!(a));
                    let key = Value::arith(c as f64);
                    if let Some(t) = o.as_table() {
                        if let Some(slot) = array_slot(t, key) {
                            store_if_plain!(t, slot, v);
                        }
                    }
                    newindex_slow!(o, key, v, b);
                }
                Op::TSETM => {
                    savepc!();
                    let Some(t) = reg!(a - 1).as_table() else {
                        tri!(Err(st.rt_error_here(crate::errmsg::INTERNAL_TSETM)))
                    };
                    let start = kv!(arg_d(ins)).number_unchecked() as i64;
                    let n = th.top.saturating_sub(base_idx + a);
                    pay_values!(n);
                    // Size the array part once, as SETLIST does, instead of growing it
                    // through rehashes one store at a time.
                    // Only when the values continue the array part: a start far past
                    // it (a crafted chunk's, up to 2^32) must not reserve gigabytes.
                    let first = (start - 1).max(0) as usize;
                    let last = first + n;
                    if n > 0 && last > t.array_len() && first <= t.array_len() {
                        tri!(t.get_mut().reserve_array(last).map_err(Throw::from));
                    }
                    for i in 0..n {
                        let v = reg!(a + i);
                        tri!(st.table_set(t, Value::number((start + i as i64) as f64), v));
                    }
                }
                Op::CALL | Op::CALLM => {
                    let func = base_idx + a;
                    let nargs = if op == Op::CALL {
                        arg_c(ins) as usize - 1
                    } else {
                        let n = th.top.saturating_sub(func + 1);
                        pay_values!(n);
                        n
                    };
                    let nres = arg_b(ins) as i32 - 1;
                    savepc!();
                    // Fast path: a Lua function with room on both stacks.
                    if let Some(p) = reg!(a).as_function().and_then(|f| f.proto()) {
                        let (nbase, nvar) = call::lua_frame_base(&p, func, nargs);
                        let left = hot!().countdown.get();
                        if nbase + p.framesize as usize + EXTRA_STACK <= th.stack.len()
                            && call::slots_fit(st, nbase + p.framesize as usize, th.frames.len())
                            && th.frames.len() < th.frames.capacity()
                            && left > 0
                        {
                            hot!().countdown.set(left - 1);
                            // SAFETY: room on both stacks was checked just above.
                            unsafe {
                                call::push_lua_frame(
                                    th.get_mut(),
                                    &p,
                                    func,
                                    nargs,
                                    (nbase, nvar),
                                    nres,
                                    Cont::Normal,
                                    0,
                                )
                            };
                            continue 'frame;
                        }
                    }
                    // Fast path: a plain native (not pcall/xpcall) with room on both
                    // stacks, called without going through `precall`.
                    if let Some(f) = reg!(a).as_function() {
                        if let (Some(native), false) = (f.native(), f.runs_as_frame()) {
                            if func + 1 + nargs + call::NATIVE_MIN_STACK + EXTRA_STACK <= th.stack.len()
                                && call::slots_fit(st, func + 1 + nargs, th.frames.len())
                                && th.frames.len() < th.frames.capacity()
                                && !HOOKS
                            {
                                tri!(call::push_native_frame(
                                    th,
                                    func,
                                    nargs,
                                    call::NATIVE_MIN_STACK,
                                    nres,
                                    Cont::Normal,
                                    0
                                ));
                                let n = tri!(st.with_mode(VmMode::Native, native));
                                let t = th.get_mut();
                                let first = t.top.saturating_sub(n);
                                call::place_results(t, func, first, n, nres);
                                t.frames.pop();
                                after_native_call!(nres);
                                continue;
                            }
                        }
                    }
                    th.get_mut().top = func + 1 + nargs;
                    match tri!(precall(st, func, nargs, nres, Cont::Normal, 0)) {
                        Entered::Lua => continue 'frame,
                        // `pc` was saved before the call.
                        Entered::Native => {
                            after_native_call!(nres);
                        }
                    }
                }
                Op::CALLT | Op::CALLMT => {
                    let func = base_idx + a;
                    let nargs = if op == Op::CALLT {
                        arg_d(ins) as usize - 1
                    } else {
                        let n = th.top.saturating_sub(func + 1);
                        pay_values!(n);
                        n
                    };
                    savepc!();
                    // Fast path: a Lua function takes this frame's place (as `tail_call`
                    // then `precall` would do it), when both stacks have room.
                    if let Some(p) = reg!(a).as_function().and_then(|f| f.proto()) {
                        let ci = *ci!();
                        let dest = ci.func as usize;
                        let (nbase, nvar) = call::lua_frame_base(&p, dest, nargs);
                        let left = hot!().countdown.get();
                        if nbase + p.framesize as usize + EXTRA_STACK <= th.stack.len() && left > 0 {
                            if th.open_upvals.is_some_and(|u| u.slot as usize >= dest) {
                                close_upvals(st, th, dest);
                            }
                            hot!().countdown.set(left - 1);
                            let t = th.get_mut();
                            let sp = t.stack.as_mut_ptr();
                            // SAFETY: the callee and its arguments lie below `top` and
                            // this frame's function slot below them; `ptr::copy` allows
                            // the overlap.
                            unsafe { std::ptr::copy(sp.add(func), sp.add(dest), nargs + 1) };
                            t.frames.pop();
                            let fl = ci.flags | flags::TAIL;
                            // SAFETY: stack room was checked above; the popped frame
                            // left a free frame slot.
                            unsafe {
                                call::push_lua_frame(t, &p, dest, nargs, (nbase, nvar), ci.nresults, ci.cont, fl)
                            };
                            continue 'frame;
                        }
                    }
                    th.get_mut().top = func + 1 + nargs;
                    let entered = tri!(tail_call(st, ci_idx, func, nargs));
                    if th.frames.len() <= entry {
                        return Ok(true);
                    }
                    if let Entered::Native = entered {
                        // This frame is gone; the one below now has the results.
                        safepoint_keep_top!();
                    }
                    continue 'frame;
                }
                Op::ITERC => {
                    let func = base_idx + a;
                    reg!(a) = reg!(a - 3);
                    reg!(a + 1) = reg!(a - 2);
                    reg!(a + 2) = reg!(a - 1);
                    savepc!();
                    th.get_mut().top = func + 3;
                    let nres = arg_b(ins) as i32 - 1;
                    match tri!(precall(st, func, 2, nres, Cont::Normal, 0)) {
                        Entered::Lua => continue 'frame,
                        Entered::Native => {
                            if th.frames.len() != ci_idx + 1 {
                                continue 'frame;
                            }
                            reload_base!();
                            safepoint!();
                        }
                    }
                }
                Op::VARG => {
                    let nvar = ci!().nvarargs as usize;
                    let vbase = call::varargs_start(base_idx, nvar);
                    let b = arg_b(ins) as usize;
                    let dest = base_idx + a;
                    if b == 0 {
                        savepc!();
                        tri!(ensure_stack(st, th, dest + nvar + EXTRA_STACK));
                        let t = th.get_mut();
                        t.stack.as_mut_slice().copy_within(vbase..vbase + nvar, dest);
                        t.top = dest + nvar;
                        reload_base!();
                    } else {
                        for i in 0..b - 1 {
                            reg!(a + i) = if i < nvar { th.stack[vbase + i] } else { Value::NIL };
                        }
                    }
                }
                Op::RETM => {
                    let n = arg_d(ins) as usize + th.top.saturating_sub(base_idx + a + arg_d(ins) as usize);
                    pay_values!(n);
                    do_return!(a, n)
                }
                Op::RET => do_return!(a, arg_d(ins) as usize - 1),
                Op::RET0 => do_return!(a, 0),
                Op::RET1 => do_return!(a, 1),
                Op::FORI => {
                    let (i, lim, step) = (reg!(a), reg!(a + 1), reg!(a + 2));
                    let (i, lim, step) = match (i.as_number(), lim.as_number(), step.as_number()) {
                        (Some(i), Some(l), Some(s)) => (i, l, s),
                        _ => {
                            savepc!();
                            tri!(for_prep_slow(st, base_idx + a))
                        }
                    };
                    if if step >= 0.0 { i <= lim } else { i >= lim } {
                        reg!(a + 3) = Value::arith(i);
                    } else {
                        jump!(ins);
                    }
                }
                Op::FORL => forl!(true, a, ins),
                Op::IFORL => forl!(false, a, ins),
                Op::ITERL => iterl!(true, a, ins),
                Op::IITERL => iterl!(false, a, ins),
                Op::LOOP => {
                    back_edge!(jump_offset(ins).max(1));
                    hotloop!(pc - 1);
                }
                Op::ILOOP => back_edge!(jump_offset(ins).max(1)),
                Op::JFORL => {
                    let at = pc;
                    forl!(false, a, ins);
                    if pc != at {
                        enter_trace!(at - 1);
                    }
                }
                Op::JLOOP => {
                    back_edge!(jump_offset(ins).max(1));
                    enter_trace!(pc - 1);
                }
                Op::JMP => {
                    jump!(ins);
                    // Backward gotos make loops without a LOOP header.
                    if jump_offset(ins) < 0 {
                        back_edge!(-jump_offset(ins));
                    }
                }
            }
        }
    }
}

/// Multiple results copied per unit of the instruction budget (`pay_values!`).
const VALUES_PER_UNIT: usize = 16;

/// Call the debug hook with `event` (and the line for line events) while frame
/// `ci_idx` is stopped before the instruction at `pc_next - 1`, so `debug.getinfo(2)`
/// in the hook sees that frame at that line. The hook runs with hooks off.
#[cold]
fn fire_hook(st: &mut State, ci_idx: usize, pc_next: usize, event: &[u8], line: Option<u32>) -> LResult<()> {
    let th = st.cur;
    let top = match th.get_mut().frames.as_mut_slice().get_mut(ci_idx) {
        Some(c) => {
            c.pc = pc_next as u32;
            c.top as usize
        }
        None => return Ok(()),
    };
    // Registers up to the frame's top are live: call the hook above them.
    let t = th.get_mut();
    t.top = t.top.max(top);
    st.call_debug_hook(event, line)
}

/// The array-part slot for `key` if it is an integer inside the array part.
#[inline(always)]
fn array_slot(t: GcRef<crate::object::GcTable>, key: Value) -> Option<*mut Value> {
    let n = key.as_number()?;
    let i = n as i64;
    let len = t.array.len();
    if i as f64 == n && (i as u64).wrapping_sub(1) < len as u64 {
        // SAFETY: 1 <= i <= len, so i - 1 indexes the array part.
        Some(unsafe { t.get_mut().array.as_mut_ptr().add(i as usize - 1) })
    } else {
        None
    }
}

/// The number in a value slot, or `None`. The type check reads the slot's upper half
/// and the number is loaded straight into a float register: reading the value once as
/// an integer and moving it across register files would put that move on the critical
/// path of every arithmetic instruction.
///
/// # Safety
/// `p` points at a live, initialised value.
#[inline(always)]
unsafe fn slot_number(p: *const Value) -> Option<f64> {
    let hi_offset = if cfg!(target_endian = "little") { 1 } else { 0 };
    // SAFETY: a value is 8 bytes, aligned: both halves and the whole are readable.
    let hi = unsafe { *(p as *const u32).add(hi_offset) };
    // No number has upper half above NEG_NAN's and no tagged value at or below it:
    // negative NaNs with a payload are never boxed (value.rs).
    if hi <= (crate::value::NEG_NAN_BITS >> 32) as u32 {
        // SAFETY: as above.
        Some(unsafe { *(p as *const f64) })
    } else {
        None
    }
}

/// Whether table `t` lacks metamethod `tm` (no metatable, or the cache says so).
#[inline(always)]
fn no_meta(st: &State, t: GcRef<crate::object::GcTable>, tm: Tm) -> bool {
    t.metatable.is_none() || st.tm_in(t.metatable, tm).is_nil()
}

/// `t[k]` for a string key missing from `t` itself, following `__index` while it is
/// a table (classes and inheritance). `None` when a function handler must be called
/// or the chain is too long: the caller takes the slow path, which also reports loops.
#[inline(never)]
fn get_str_inherited(st: &State, t: GcRef<crate::object::GcTable>, k: GcRef<crate::object::GcStr>) -> Option<Value> {
    let mut t = t;
    for _ in 0..meta::MAX_META_CHAIN {
        let h = st.tm_in(t.metatable, Tm::Index);
        if h.is_nil() {
            return Some(Value::NIL);
        }
        t = h.as_table()?;
        let v = t.get_str(k);
        if !v.is_nil() {
            return Some(v);
        }
    }
    None
}

/// A primitive operand: 0 nil, 1 false, 2 true.
#[inline(always)]
fn pri(d: u32) -> Value {
    match d {
        0 => Value::NIL,
        1 => Value::FALSE,
        _ => Value::TRUE,
    }
}

#[inline(always)]
fn upval(cl: GcRef<GcFunc>, i: u32) -> GcRef<GcUpval> {
    // SAFETY: upvalue operands are below the prototype's upvalue count, which is the
    // closure's (bytecode.rs invariants).
    unsafe { *cl.lua_upvals().get_unchecked(i as usize) }
}

/// Create a closure of `child` inside frame `base`, capturing its upvalues.
fn new_closure(
    st: &mut State,
    parent: GcRef<GcFunc>,
    child: GcRef<crate::func::GcProto>,
    base: usize,
) -> LResult<GcRef<GcFunc>> {
    const MAX: usize = crate::compiler::codegen::MAX_UPVALS;
    let th = st.cur;
    let n = child.upvals.len().min(MAX);
    // Resolve upvalues first so the closure never holds an unset slot. The buffer is
    // left uninitialised: clearing it for every closure showed up in profiles.
    let mut ups = [const { std::mem::MaybeUninit::<GcRef<GcUpval>>::uninit() }; MAX];
    for (slot, d) in ups.iter_mut().zip(child.upvals.iter()) {
        slot.write(if d.in_stack {
            find_upval(st, th, base + d.index as usize)?
        } else {
            match parent.lua_upvals().get(d.index as usize) {
                Some(&u) => u,
                None => return Err(st.rt_error_here(crate::errmsg::INTERNAL_UPVALUE_INDEX)),
            }
        });
    }
    let f = st.new_lua_closure(child, parent.env)?;
    for (dst, src) in f.lua_upvals().iter_mut().zip(&ups[..n]) {
        // SAFETY: the loop above wrote the first `n` entries (or returned).
        *dst = unsafe { src.assume_init() };
    }
    Ok(f)
}

/// Copy a template table (TDUP).
fn dup_template(st: &mut State, k: Value) -> LResult<GcRef<crate::object::GcTable>> {
    let Some(src) = k.as_table() else {
        return Err(st.rt_error_here(crate::errmsg::INTERNAL_TDUP));
    };
    Ok(st.dup_table(src)?)
}

/// `obj[key] = v` with the fast path for plain tables and `__newindex` otherwise.
/// A Lua `__newindex` leaves a frame on top.
#[inline]
fn set_index(st: &mut State, obj: Value, key: Value, v: Value, reg: Option<u32>) -> LResult<()> {
    if let Some(t) = obj.as_table() {
        if no_meta(st, t, Tm::NewIndex) {
            return st.table_set(t, key, v);
        }
    }
    if let Some((h, o)) = st.newindex_chain(obj, key, v, reg)? {
        meta::call_meta(st, h, &[o, key, v], Cont::Discard)?;
    }
    Ok(())
}

/// FORI with non-number operands: coerce strings, or raise LuaJIT's errors.
fn for_prep_slow(st: &mut State, slot: usize) -> LResult<(f64, f64, f64)> {
    let th = st.cur;
    let mut out = [0.0; 3];
    for (i, what) in [
        crate::errmsg::FOR_INITIAL,
        crate::errmsg::FOR_LIMIT,
        crate::errmsg::FOR_STEP,
    ]
    .iter()
    .enumerate()
    {
        match meta::coerce_num(th.stack[slot + i]) {
            Some(n) => {
                out[i] = n;
                th.get_mut().stack[slot + i] = Value::number(n);
            }
            None => return Err(st.rt_error_fmt(crate::errmsg::FOR_NOT_NUMBER, &[what.as_bytes()])),
        }
    }
    Ok((out[0], out[1], out[2]))
}

/// A tail call from frame `ci_idx` of the function at `func`: the callee replaces the
/// frame. A native callee has finished (and delivered its results) on return.
fn tail_call(st: &mut State, ci_idx: usize, func: usize, nargs: usize) -> LResult<Entered> {
    let th = st.cur;
    let mut nargs = nargs;
    let f = th.stack[func];
    if !f.is_function() {
        let mm = st.tm_of(f, Tm::Call);
        if !mm.is_function() {
            return Err(st.call_error(func, f));
        }
        ensure_stack(st, th, func + nargs + 2 + EXTRA_STACK)?;
        let s = th.get_mut().stack.as_mut_slice();
        s.copy_within(func..func + nargs + 1, func + 1);
        s[func] = mm;
        nargs += 1;
    }
    // The callee takes this frame's place, natives included (as in LuaJIT), so its
    // results go wherever this frame's would have gone.
    let ci = th.frames[ci_idx];
    let dest = ci.func as usize;
    if th.open_upvals.is_some_and(|u| u.slot as usize >= dest) {
        close_upvals(st, th, dest);
    }
    let t = th.get_mut();
    t.stack.as_mut_slice().copy_within(func..func + nargs + 1, dest);
    t.frames.pop();
    precall(st, dest, nargs, ci.nresults, ci.cont, ci.flags | flags::TAIL)
}

impl State {
    /// A safe point: pay GC debt and run pending finalizers. The caller has made the
    /// thread's `top` cover every live value.
    pub fn safe_point(&mut self) {
        if self.heap.debt() > 0 {
            crate::gc::check(self);
            self.housekeeping();
        }
        if crate::gc::has_pending_finalizers(self) {
            self.run_finalizers();
        }
    }

    /// Where an error is caught (pcall returning false, a resume that failed, an API
    /// call returning its error): if an allocation was refused, run the owed full
    /// collection now, before any other work (DESIGN.md invariant 5). The caller has
    /// made the thread's `top` cover every live value.
    pub fn pay_owed_collection(&mut self) {
        if self.heap.collection_owed() {
            self.safe_point();
            // The refusal may have come from the process itself: take back the
            // reserve that reporting the next such error needs, if it was spent.
            #[cfg(feature = "mimalloc")]
            crate::process_alloc::rearm_reserve();
        }
    }

    /// A safe point between two instructions of the frame on top, whose live values
    /// end at its top or at the thread's `top`, whichever is higher; `top` itself is
    /// kept for the next instruction (it may count variable results).
    pub fn safe_point_keeping_top(&mut self) {
        let th = self.cur;
        let saved = th.top;
        let frame_top = th.frames.last().map_or(saved, |c| c.top as usize);
        th.get_mut().top = saved.max(frame_top);
        self.safe_point();
        th.get_mut().top = saved;
    }

    /// Housekeeping that needs fresh blocks runs at safe points, never inside a
    /// collector step (DESIGN.md invariant 3); a failure just keeps the old blocks.
    /// Now: give back string-table buckets after mass deaths of strings.
    pub fn housekeeping(&mut self) {
        if self.gc.phase != crate::gc::Phase::SweepStrings {
            self.strings.shrink_if_sparse();
        }
    }

    /// Call `__gc` of every object waiting for finalization, each under protection.
    /// Errors are reported to the warning handler, never rethrown.
    /// Finalizers do not nest: a finalizer's own safe points leave the queue to the
    /// run already going on.
    pub fn run_finalizers(&mut self) {
        if !self.within(VmMode::Finalizer) {
            self.with_mode(VmMode::Finalizer, State::finalize_queued);
        }
    }

    fn finalize_queued(&mut self) {
        while crate::gc::has_pending_finalizers(self) {
            // Room for the call first, so a queued object is never dropped unrun.
            // An optional growth: the finalizers wait for the next safe point if it fails.
            let th = self.cur;
            let heap = crate::alloc::HeapRef::new(&self.heap);
            if heap
                .get()
                .optional(|| ensure_stack(self, th, th.top + 2 + EXTRA_STACK))
                .is_err()
            {
                break;
            }
            let Some((o, h)) = crate::gc::next_finalizer(self) else {
                break;
            };
            let Some(obj) = Value::of_object(o).filter(|_| !h.is_nil()) else {
                continue;
            };
            let t = th.get_mut();
            t.stack[t.top] = h;
            t.stack[t.top + 1] = obj;
            t.top += 2;
            // Under a budget of its own; a stop by the host ends the run (the rest
            // wait for the next safe point) and is raised into the interrupted code.
            if self.call_finalizer() == crate::vm::budget::FinalizerEnd::Stop {
                break;
            }
        }
    }

    /// Hand the error of a finalizer to the host's handler (the command prints
    /// `ERROR in finalizer: msg`, as LuaJIT v2.1 does). The message is read in
    /// place: nothing is copied or formatted, and without a handler nothing happens.
    pub(crate) fn report_finalizer_error(&mut self, msg: Value) {
        let Some(mut handler) = self.finalizer_error_handler.take() else {
            return;
        };
        let mut buf = [0u8; 64];
        let string = msg.as_string();
        let text: &[u8] = if let Some(s) = &string {
            s.as_bytes()
        } else if let Some(n) = msg.as_number() {
            let len = crate::number::fmt_number(n, &mut buf);
            &buf[..len]
        } else {
            b"?"
        };
        handler(text);
        self.finalizer_error_handler = Some(handler);
    }
}
