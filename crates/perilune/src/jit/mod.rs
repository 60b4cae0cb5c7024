//! The tracing JIT (docs/jit.md, docs/design/JIT.md): its switch, its parameters, the
//! life of a trace (start, record, stop or abort, penalties and blacklisting) and
//! the trace events `jit.attach` handlers see.
//!
//! Owns: whether the JIT is on, the optimisation flags and numeric parameters
//! ([`param`], LuaJIT's `-O` list), the hot counters' start value (the counters
//! themselves sit in the hot block, `crate::hot`, where the interpreter counts them
//! down), the recording in progress ([`record`]), the finished traces' dumps and the
//! penalty cache. The interpreter reaches the JIT only through [`hot`] (a loop is
//! hot), [`record`] (before each instruction while recording, in the dispatch loop's
//! hooked copy), [`deliver_events`] and [`abort_recording`].
//!
//! There is no backend yet: a finished trace is kept as its dump (`-jdump`) and its
//! loop instruction is patched to the non-counting form, so the loop goes on in the
//! interpreter and is not recorded again.
//!
//! Invariants:
//! - [`hot`] and [`record`] only read interpreter state, set counters and patch loop
//!   instructions (JIT.md J2): they never raise an error, run Lua or a collector
//!   step, and never fail; a refused allocation aborts the trace.
//! - With the JIT off the interpreter's whole cost is one counter decrement per loop
//!   back-edge; [`hot`] then only sets the counter back.
//! - Patched loop instructions (`IFORL`, ...) never leave the VM
//!   (`compiler::bytecode::unpatch`).

#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
pub mod backend;
#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
pub mod code;
pub mod ir;
pub mod param;
pub mod record;
pub mod trace;

use crate::alloc::HVec;
use crate::compiler::bytecode::{jump_offset, op_byte, unpatch, Op as Bop};
use crate::func::{GcFunc, GcProto};
use crate::hot::{hot_slot, VmMode};
use crate::object::GcRef;
use crate::value::Value;
use crate::vm::state::State;
use record::{Abort, Limits, Recorder, Step};

/// Is there a machine-code backend (the `jit` feature on x86-64 Unix)? The JIT is on
/// by default where there is one; without one it is off by default, and switched on it
/// records traces that are never compiled.
pub const HAS_BACKEND: bool = cfg!(all(feature = "jit", target_arch = "x86_64", unix));

/// Entries of the penalty cache (LuaJIT's `PENALTY_SLOTS`).
const PENALTY_SLOTS: usize = 64;
/// The first penalty: the loop waits 36 more passes (LuaJIT's `PENALTY_MIN`).
const PENALTY_MIN: u32 = 36 * 2;
/// Past this the loop is blacklisted (LuaJIT's `PENALTY_MAX`).
const PENALTY_MAX: u32 = 60000;

/// What happened to a trace, for `jit.attach` handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Start,
    Stop,
    Abort(Abort),
}

/// One trace event waiting to be delivered.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub kind: EventKind,
    pub trace: u32,
    /// The prototype (its address, only compared) and 0-based pc where it happened.
    pub proto: usize,
    pub pc: u32,
}

/// The JIT's state, one per Lua state.
pub struct Jit {
    /// `jit.on()`/`jit.off()`.
    on: bool,
    /// Optimisation flags, bit `i` is [`param::FLAGS`]`[i]`.
    flags: u32,
    /// Numeric parameters, indexed like [`param::PARAMS`].
    params: [i32; param::PARAMS.len()],
    /// The recording in progress.
    rec: Option<Recorder>,
    /// Start points that aborted: code address of the loop instruction and penalty.
    penalty: [(usize, u32); PENALTY_SLOTS],
    penalty_next: usize,
    prng: u64,
    /// Traces finished since the last flush; trace `n`'s dump is
    /// `dumps[ranges[n - 1]]`.
    ntraces: u32,
    dumps: Option<HVec<u8>>,
    ranges: Option<HVec<(u32, u32)>>,
    /// Events not delivered yet.
    events: Option<HVec<Event>>,
    /// The installed traces (machine code).
    pub traces: Option<trace::Traces>,
    /// The backend, with the charge for the process memory it keeps (J5).
    #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
    backend: Option<(Box<backend::Backend>, ExternalCharge)>,
    /// The most the compiler was charged at once (the backend kept plus one compile),
    /// for the test that checks the charge against the process heap.
    pub compile_charged_peak: usize,
    /// The exit-stress mode's xorshift state (`PERILUNE_JIT_STRESS`), when on.
    stress: Option<HVec<u64>>,
    stress_wanted: bool,
    /// Budget units charged for recording so far (tests compare what traces
    /// charge with what the interpreter charges, recording aside).
    pub record_units: u64,
}

impl Default for Jit {
    fn default() -> Self {
        Jit {
            // On by default where there is a backend, as in LuaJIT (docs/jit.md).
            on: HAS_BACKEND,
            flags: param::LEVELS[3],
            params: param::PARAMS.map(|(_, v)| v),
            rec: None,
            penalty: [(0, 0); PENALTY_SLOTS],
            penalty_next: 0,
            prng: 0x9e37_79b9_7f4a_7c15,
            ntraces: 0,
            dumps: None,
            ranges: None,
            events: None,
            traces: None,
            #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
            backend: None,
            compile_charged_peak: 0,
            stress: None,
            stress_wanted: std::env::var_os("PERILUNE_JIT_STRESS").is_some_and(|v| v != "0"),
            record_units: 0,
        }
    }
}

impl Jit {
    /// Is the JIT on?
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Bytes of the state's heap the JIT holds (the heap verifier's accounting).
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub fn heap_bytes(&self) -> usize {
        let ir = self.rec.as_ref().map_or(0, |r| {
            r.ir.ins.byte_size() + r.ir.konst.byte_size() + r.ir.snaps.byte_size() + r.ir.map.byte_size()
        });
        ir + self.dumps.as_ref().map_or(0, HVec::byte_size)
            + self.ranges.as_ref().map_or(0, HVec::byte_size)
            + self.events.as_ref().map_or(0, HVec::byte_size)
            + self.traces.as_ref().map_or(0, trace::Traces::heap_bytes)
            + self.stress.as_ref().map_or(0, HVec::byte_size)
            + self.backend_bytes()
    }

    #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
    fn backend_bytes(&self) -> usize {
        self.backend.as_ref().map_or(0, |(_, c)| c.bytes)
    }

    #[cfg(not(all(feature = "jit", target_arch = "x86_64", unix)))]
    fn backend_bytes(&self) -> usize {
        0
    }

    /// Free every trace's machine code (`jit.flush()`, closing the state).
    pub fn free_traces(&mut self) {
        if let Some(t) = self.traces.as_mut() {
            t.clear();
        }
        self.traces = None;
        #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
        {
            self.backend = None;
        }
    }

    /// Is a trace being recorded (the interpreter runs its hooked copy)?
    #[inline(always)]
    pub fn recording(&self) -> bool {
        self.rec.is_some()
    }

    /// Are trace events waiting for [`deliver_events`]?
    #[inline(always)]
    pub fn has_events(&self) -> bool {
        self.events.as_ref().is_some_and(|e| !e.is_empty())
    }

    /// The dump of finished trace `n` (from 1), if it exists.
    pub fn dump_of(&self, n: u32) -> Option<&[u8]> {
        let (from, to) = *self.ranges.as_ref()?.as_slice().get((n as usize).checked_sub(1)?)?;
        self.dumps.as_ref()?.as_slice().get(from as usize..to as usize)
    }

    fn flag(&self, name: &str) -> bool {
        param::FLAGS
            .iter()
            .position(|f| *f == name)
            .is_some_and(|i| self.flags & (1 << i) != 0)
    }

    fn limits(&self) -> Limits {
        let p = |n| self.param(n).max(0) as usize;
        Limits {
            maxrecord: p("maxrecord"),
            maxsnap: p("maxsnap"),
            maxirconst: p("maxirconst"),
            fold: self.flag("fold"),
            cse: self.flag("cse"),
            dce: self.flag("dce"),
        }
    }

    fn random_bits(&mut self) -> u32 {
        // xorshift64: the penalties' jitter, as LuaJIT adds a few random bits.
        let mut x = self.prng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.prng = x;
        (x & 15) as u32
    }

    /// The optimisation flags that are on, in [`param::FLAGS`] order.
    pub fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        param::FLAGS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.flags & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    /// The value of parameter `name` (one of [`param::PARAMS`]).
    pub fn param(&self, name: &str) -> i32 {
        param::PARAMS
            .iter()
            .position(|(p, _)| *p == name)
            .map_or(0, |i| self.params[i])
    }

    /// What a hot counter starts from: the loop is hot at its `hotloop`-th back-edge
    /// (`2 * hotloop - 1`, counted down by 2, wrapping as LuaJIT's 16-bit counter).
    /// With the JIT off, the most there is: [`hot`] then runs once in 32767 passes.
    pub fn hotcount_start(&self) -> u16 {
        if !self.on {
            return u16::MAX;
        }
        (self.param("hotloop") as u16)
            .wrapping_mul(crate::hot::HOTCOUNT_LOOP)
            .wrapping_sub(1)
    }
}

impl State {
    /// `jit.on()` / `jit.off()`: switch the JIT; the hot counters start over.
    pub fn jit_set_on(&mut self, on: bool) {
        self.jit.on = on;
        self.refresh_dispatch();
        self.jit_reset_counters();
    }

    /// `jit.flush()`: drop every trace (and a recording in progress); the counters
    /// start over. Blacklisted loops stay blacklisted, as in LuaJIT.
    pub fn jit_flush(&mut self) {
        self.jit.rec = None;
        self.refresh_dispatch();
        self.jit.free_traces();
        self.jit.ntraces = 0;
        self.jit.dumps = None;
        self.jit.ranges = None;
        self.jit_reset_counters();
    }

    /// Apply one parsed `-O` piece (`jit.opt.start`).
    pub fn jit_apply(&mut self, opt: param::Opt) {
        match opt {
            param::Opt::Level(flags) => self.jit.flags = flags,
            param::Opt::Flag(i, on) => {
                if on {
                    self.jit.flags |= 1 << i;
                } else {
                    self.jit.flags &= !(1 << i);
                }
            }
            param::Opt::Param(i, v) => {
                if let Some(p) = self.jit.params.get_mut(i) {
                    *p = v;
                }
            }
        }
        self.jit_reset_counters();
    }

    /// Switch the exit-stress mode (docs/jit.md) for traces compiled from now on,
    /// as `PERILUNE_JIT_STRESS=1` does for a new state (the differential tests
    /// run states with and without it side by side).
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub fn jit_set_stress(&mut self, on: bool) {
        self.jit.stress_wanted = on;
    }

    /// Budget units charged for recording so far (the differential tests subtract
    /// them: the rest must equal what the interpreter charges).
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub fn jit_record_units(&self) -> u64 {
        self.jit.record_units
    }

    fn jit_reset_counters(&mut self) {
        let start = self.jit.hotcount_start();
        self.hotcounts().reset(start);
    }
}

/// The loop instruction at `pc` of `proto` became hot (its counter would have gone
/// below zero) in the frame on top of the running thread. Starts recording when the
/// JIT is on and nothing stands in the way; true when it did (the interpreter then
/// switches to its hooked copy, which calls [`record`]). Cold, and never fails.
#[cold]
#[inline(never)]
pub fn hot(st: &mut State, proto: GcRef<GcProto>, pc: usize) -> bool {
    let start = st.jit.hotcount_start();
    if let Some(c) = st.hotcounts().hotcount.get(counter_slot(proto, pc)) {
        c.set(start);
    }
    // Not while a debug hook is set or an event handler runs (JIT.md: traces are not
    // recorded under a hook), nor when the trace table is full.
    if !st.jit.on || st.jit.recording() || st.debug_hook_active() || st.within(VmMode::Hook) {
        return false;
    }
    if st.jit.ntraces as i64 >= i64::from(st.jit.param("maxtrace")) {
        st.jit_flush();
    }
    let frame = st.cur.frames.len() - 1;
    let rec = Recorder::new(st, proto, frame, pc, st.jit.limits());
    st.jit.rec = Some(rec);
    st.refresh_dispatch();
    let trace = st.jit.ntraces + 1;
    push_event(st, EventKind::Start, trace, proto.as_ptr() as usize, pc);
    true
}

/// Record the instruction at `pc` of frame `frame` (the running thread's), which is
/// about to run. Returns whether the recording goes on. Never fails: an abort is an
/// event, a penalty, and eventually a blacklisted loop.
#[cold]
#[inline(never)]
pub fn record(st: &mut State, frame: usize, pc: usize) -> bool {
    let Some(mut rec) = st.jit.rec.take() else {
        return false;
    };
    let th = st.cur;
    let found = th.frames.get(frame).and_then(|ci| {
        let f = th.stack.get(ci.func as usize)?.as_function()?;
        Some((ci.base as usize, f, f.proto()?))
    });
    let Some((base, cl, proto)) = found else {
        abort(st, rec, Abort::Left, None, pc);
        return false;
    };
    let end = (base + proto.framesize as usize).min(th.stack.len());
    let regs = th.stack.as_slice().get(base..end).unwrap_or(&[]);
    let step = rec.step(st, frame, pc, regs, cl);
    // Recording is paid for like the interpreter's work (JIT.md, "Limits"): one unit
    // per instruction and one per 64 IR instructions its searches may scan. The
    // countdown may go negative here; the next back-edge or call runs the check.
    let units = 1 + rec.ir.ins.len() as i64 / 64;
    let _ = st.hot().pay(units);
    st.jit.record_units += units as u64;
    match step {
        Ok(Step::More) => {
            st.jit.rec = Some(rec);
            true
        }
        Ok(Step::Done) => {
            finish(st, rec, proto, cl);
            false
        }
        Err(why) => {
            abort(st, rec, why, Some((proto, cl)), pc);
            false
        }
    }
}

/// Stop a recording whose frame an error is unwinding (the interpreter's loop is
/// returning an error).
#[cold]
pub fn abort_recording(st: &mut State) {
    if let Some(rec) = st.jit.rec.take() {
        abort(st, rec, Abort::Left, None, 0);
    }
}

/// Events waiting at most (older ones are dropped when handlers never get to run).
const MAX_EVENTS: usize = 256;

fn push_event(st: &mut State, kind: EventKind, trace: u32, proto: usize, pc: usize) {
    if !st.registry.get(event_key()).is_table() {
        return;
    }
    let heap = st.heap_ref();
    let events = st.jit.events.get_or_insert_with(|| HVec::new(heap));
    if events.len() >= MAX_EVENTS {
        return;
    }
    // A refused event is dropped: the script never sees a JIT allocation fail.
    let _ = events.push(Event {
        kind,
        trace,
        proto,
        pc: pc as u32,
    });
}

/// A recording closed its loop: compile it, keep its dump, install it (the loop
/// instruction becomes its `J` form), tell the handlers. Without a backend the loop
/// is patched to its non-counting form so it is not recorded again.
fn finish(st: &mut State, rec: Recorder, proto: GcRef<GcProto>, cl: GcRef<GcFunc>) {
    st.refresh_dispatch();
    let trace = st.jit.ntraces + 1;
    let mut text = String::new();
    rec.ir.dump(&mut text);
    // Phase 1 (J2): everything that can fail.
    let compiled = match compile(st, &rec, proto, &mut text) {
        Ok(c) => c,
        Err(why) => {
            let pc = rec.start_pc;
            abort(st, rec, why, Some((proto, cl)), pc);
            return;
        }
    };
    let heap = st.heap_ref();
    let dumps = st.jit.dumps.get_or_insert_with(|| HVec::new(heap));
    let from = dumps.len() as u32;
    let kept = dumps.reserve(text.len()).is_ok() && {
        for &b in text.as_bytes() {
            dumps.push_within_capacity(b);
        }
        let ranges = st.jit.ranges.get_or_insert_with(|| HVec::new(heap));
        ranges.push((from, from + text.len() as u32)).is_ok()
    };
    if !kept {
        if let Some(d) = st.jit.dumps.as_mut() {
            d.truncate(from as usize);
        }
        compiled.discard();
        abort(st, rec, Abort::Memory, None, 0);
        return;
    }
    // Phase 2: commit, which cannot fail.
    st.jit.ntraces = trace;
    compiled.commit(st, proto, rec.start_pc);
    push_event(st, EventKind::Stop, trace, rec.proto, rec.start_pc);
}

/// A trace compiled and its table entry reserved, not yet visible to the interpreter.
struct Compiled {
    #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
    rec: Option<(trace::TraceRec, Vec<trace::SnapExit>)>,
}

impl Compiled {
    /// Patch the loop: to its `J` form with the trace in the table, or (no machine
    /// code) to its non-counting form.
    fn commit(self, st: &mut State, proto: GcRef<GcProto>, pc: usize) {
        #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
        if let Some((rec, snaps)) = self.rec {
            if let Some(t) = st.jit.traces.as_mut() {
                t.commit(rec, &snaps);
                patch_to(proto, pc, true);
                return;
            }
            rec.code.free();
        }
        let _ = st;
        patch(proto, pc);
    }

    /// Give the code back (installing failed).
    fn discard(self) {
        #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
        if let Some((rec, _)) = self.rec {
            rec.code.free();
        }
    }
}

/// Compile the trace to machine code and reserve its table entry; the machine code
/// listing is appended to `text` (after a NUL) when trace handlers listen.
#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
fn compile(st: &mut State, rec: &Recorder, proto: GcRef<GcProto>, text: &mut String) -> Result<Compiled, Abort> {
    let heap = st.heap_ref();
    if st.jit.stress_wanted && st.jit.stress.is_none() {
        st.jit.stress = Some(HVec::filled(heap, 1, 0x2545_f491_4f6c_dd1d)?);
    }
    let stress = match st.jit.stress.as_mut() {
        Some(s) if st.jit.stress_wanted => Some(s.as_mut_ptr()),
        _ => None,
    };
    let body_pc = counter_pc(proto, rec.start_pc);
    let is_forl = proto
        .code
        .as_slice()
        .get(rec.start_pc)
        .is_some_and(|&i| op_byte(unpatch(i)) == Bop::FORL as u8);
    let info = backend::TraceInfo {
        units: rec.units,
        end_pc: is_forl.then_some(rec.start_pc as u32 + 1),
        stress,
        want_text: st.registry.get(event_key()).is_table(),
    };
    // J5: Cranelift works in the process heap (it takes no allocator). What it keeps
    // between compiles and what one compile takes are charged to the state's heap
    // as external bytes while they are held, so the limit covers them; a refused
    // charge aborts the trace. The compile's charge lasts until its output (the
    // code bytes, the listing) has been copied into the heap or freed.
    let (mut be, kept) = match st.jit.backend.take() {
        Some(b) => b,
        None => (
            Box::new(backend::Backend::default()),
            ExternalCharge::new(heap, backend::KEPT_BYTES)?,
        ),
    };
    let compiling = match ExternalCharge::new(heap, backend::compile_bytes(&rec.ir)) {
        Ok(c) => c,
        Err(e) => {
            st.jit.backend = Some((be, kept));
            return Err(e.into());
        }
    };
    st.jit.compile_charged_peak = st.jit.compile_charged_peak.max(kept.bytes + compiling.bytes);
    let out = be.compile(&rec.ir, &info);
    be.forget_buffers();
    st.jit.backend = Some((be, kept));
    let out = out.map_err(|e| {
        if std::env::var_os("PERILUNE_JIT_DEBUG").is_some() {
            eprintln!("backend: {}", e.message());
        }
        Abort::Backend
    })?;
    let code = code::CodeBlock::new(heap, &out.code)?;
    let reserved = (|| {
        let t = st.jit.traces.get_or_insert_with(|| trace::Traces::new(heap));
        t.reserve(rec.ir.snaps.len())?;
        if let Some(mc) = &out.text {
            text.push('\0');
            text.push_str(&format!("---- TRACE {} mcode {}\n", st.jit.ntraces + 1, out.code.len()));
            text.push_str(mc);
        }
        Ok::<(), crate::alloc::OutOfMemory>(())
    })();
    drop(out);
    drop(compiling);
    if reserved.is_err() {
        code.free();
        return Err(Abort::Memory);
    }
    let maxslot = rec
        .ir
        .map
        .as_slice()
        .iter()
        .map(|e| u32::from(e.slot) + 1)
        .chain(
            rec.ir
                .ins
                .as_slice()
                .iter()
                .filter(|x| x.op == ir::Op::SLOAD)
                .map(|x| u32::from(x.a.0)),
        )
        .max()
        .unwrap_or(0);
    let snaps = rec
        .ir
        .snaps
        .as_slice()
        .iter()
        .map(|s| trace::SnapExit {
            pc: s.pc,
            units: s.units,
        })
        .collect();
    let tr = trace::TraceRec {
        key: proto.code.as_ptr() as usize + rec.start_pc * 4,
        proto: proto.as_ptr() as usize,
        loop_pc: rec.start_pc as u32,
        body_pc: body_pc as u32,
        maxslot,
        snaps: (0, 0),
        units: rec.units,
        code,
        exits: 0,
        units_run: 0,
    };
    Ok(Compiled { rec: Some((tr, snaps)) })
}

#[cfg(not(all(feature = "jit", target_arch = "x86_64", unix)))]
fn compile(_st: &mut State, _rec: &Recorder, _proto: GcRef<GcProto>, _text: &mut String) -> Result<Compiled, Abort> {
    Ok(Compiled {})
}

/// A recording failed: tell the handlers and penalise its start point (an error
/// that unwound the trace's frame penalises nothing: the prototype may be gone).
fn abort(st: &mut State, rec: Recorder, why: Abort, at: Option<(GcRef<GcProto>, GcRef<GcFunc>)>, pc: usize) {
    // The recording is over (`rec` was taken out of the state): back to a plain copy.
    st.refresh_dispatch();
    let trace = st.jit.ntraces + 1;
    let (proto, start) = (rec.proto, rec.start_pc);
    drop(rec);
    push_event(
        st,
        EventKind::Abort(why),
        trace,
        at.map_or(0, |(p, _)| p.as_ptr() as usize),
        pc,
    );
    let Some((p, _)) = at.filter(|(p, _)| p.as_ptr() as usize == proto) else {
        return;
    };
    // SAFETY of the address: it is only hashed and compared, never dereferenced.
    let key = p.code.as_ptr() as usize + start * 4;
    let found = st.jit.penalty.iter().position(|&(k, _)| k == key);
    let (i, val) = match found {
        Some(i) => (i, (st.jit.penalty[i].1 << 1) + st.jit.random_bits()),
        None => {
            let i = st.jit.penalty_next;
            st.jit.penalty_next = (i + 1) % PENALTY_SLOTS;
            (i, PENALTY_MIN)
        }
    };
    if val > PENALTY_MAX {
        st.jit.penalty[i] = (0, 0);
        patch(p, start);
        return;
    }
    st.jit.penalty[i] = (key, val);
    if let Some(c) = st.hotcounts().hotcount.get(counter_slot(p, start)) {
        c.set(val.min(u32::from(u16::MAX)) as u16);
    }
}

/// The pc whose hot counter the loop instruction at `pc` counts down: where the
/// interpreter goes on after the back-edge (the body after a `FORL` or `ITERL`, the
/// instruction after a `LOOP`), which it has at hand there.
pub fn counter_pc(p: GcRef<GcProto>, pc: usize) -> usize {
    let ins = p.code.as_slice().get(pc).map_or(0, |&i| unpatch(i));
    match Bop::from_u8(op_byte(ins)) {
        Some(Bop::FORL | Bop::ITERL) => (pc as isize + 1 + jump_offset(ins) as isize) as usize,
        _ => pc + 1,
    }
}

fn counter_slot(p: GcRef<GcProto>, pc: usize) -> usize {
    hot_slot(counter_pc(p, pc))
}

/// Patch the loop instruction at `pc` to its non-counting form: the interpreter no
/// longer counts it (blacklisted, or its trace is recorded and not compiled).
fn patch(p: GcRef<GcProto>, pc: usize) {
    patch_to(p, pc, false);
}

/// Patch the loop instruction at `pc` (in any form) to its `J` form (`jit`) or its
/// non-counting `I` form.
fn patch_to(p: GcRef<GcProto>, pc: usize, jit: bool) {
    if let Some(ins) = p.get_mut().code.as_mut_slice().get_mut(pc) {
        let to = match (Bop::from_u8(op_byte(unpatch(*ins))), jit) {
            (Some(Bop::FORL), false) => Bop::IFORL,
            (Some(Bop::FORL), true) => Bop::JFORL,
            (Some(Bop::ITERL), false) => Bop::IITERL,
            (Some(Bop::LOOP), false) => Bop::ILOOP,
            (Some(Bop::LOOP), true) => Bop::JLOOP,
            _ => return,
        };
        *ins = (*ins & !0xff) | to as u32;
    }
}

/// Blacklist the loop at `pc` (its trace was dropped).
pub fn blacklist(p: GcRef<GcProto>, pc: usize) {
    patch_to(p, pc, false);
}

/// Put the original loop instruction back at `pc` (its trace is gone): it counts
/// again and may be recorded again.
pub fn unpatch_loop(p: GcRef<GcProto>, pc: usize) {
    if let Some(ins) = p.get_mut().code.as_mut_slice().get_mut(pc) {
        *ins = unpatch(*ins);
    }
}

static EVENT_KEY: u8 = 0;

/// The registry key of the table of `jit.attach` handlers (function -> event name).
pub fn event_key() -> Value {
    Value::light_userdata(&EVENT_KEY as *const u8 as usize)
}

/// Call the `jit.attach(f, "trace")` handlers with the waiting events, as LuaJIT's
/// `(what, trace, func, pc [, extra])`: `"start"`; `"stop"` with the link type
/// (`"loop"`); `"abort"` with the reason. `func` is `cl` when the event happened
/// in its prototype, else nil; `pc` counts from 1. The handlers run in
/// `VmMode::Hook` (no recording, no debug hook inside); their errors are dropped.
/// The caller has made the thread's `top` cover the frame's live registers.
#[cold]
#[inline(never)]
pub fn deliver_events(st: &mut State, cl: GcRef<GcFunc>) {
    let Some(mut events) = st.jit.events.take() else {
        return;
    };
    let list: Vec<Event> = events.as_slice().to_vec();
    events.truncate(0);
    st.jit.events = Some(events);
    let handlers = st.registry.get(event_key()).as_table();
    let Some(handlers) = handlers else {
        return;
    };
    let mut fs = Vec::new();
    let mut k = Value::NIL;
    while let Ok(Some((key, v))) = handlers.next(k) {
        if v.as_string().is_some_and(|s| s.as_bytes() == b"trace") {
            fs.push(key);
        }
        k = key;
    }
    let func = Value::function(cl);
    let mine = cl.proto().map_or(0, |p| p.as_ptr() as usize);
    st.with_mode(VmMode::Hook, |st| {
        for e in &list {
            for &f in &fs {
                let what: &[u8] = match e.kind {
                    EventKind::Start => b"start",
                    EventKind::Stop => b"stop",
                    EventKind::Abort(_) => b"abort",
                };
                let extra = match e.kind {
                    EventKind::Start => None,
                    EventKind::Stop => Some("loop".to_string()),
                    EventKind::Abort(why) => Some(why.message()),
                };
                let pushed = (|| -> crate::vm::error::LResult<usize> {
                    st.push(f)?;
                    st.push_str(what)?;
                    st.push(Value::number(f64::from(e.trace)))?;
                    st.push(if e.proto == mine { func } else { Value::NIL })?;
                    st.push(Value::number(f64::from(e.pc) + 1.0))?;
                    if let Some(x) = &extra {
                        st.push_str(x.as_bytes())?;
                    }
                    Ok(4 + usize::from(extra.is_some()))
                })();
                match pushed {
                    Ok(n) => {
                        if !st.pcall(n, 0, false) {
                            st.pop(1);
                        }
                    }
                    Err(_) => return,
                }
            }
        }
    });
}

/// Bytes held outside the state's allocator and charged to its heap
/// (`Heap::charge_external`) for as long as this lives (J5).
#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
struct ExternalCharge {
    heap: crate::alloc::HeapRef,
    bytes: usize,
}

#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
impl ExternalCharge {
    fn new(heap: crate::alloc::HeapRef, bytes: usize) -> Result<ExternalCharge, crate::alloc::OutOfMemory> {
        heap.get().charge_external(bytes)?;
        Ok(ExternalCharge { heap, bytes })
    }
}

#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
impl Drop for ExternalCharge {
    fn drop(&mut self) {
        self.heap.get().release_external(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_follow_hotloop() {
        let mut st = State::new().unwrap();
        st.jit_set_on(false);
        assert_eq!(st.jit.hotcount_start(), u16::MAX);
        st.jit_set_on(true);
        assert_eq!(st.jit.hotcount_start(), 111);
        st.jit_apply(param::parse(b"hotloop=1").unwrap());
        assert_eq!(st.jit.hotcount_start(), 1);
        // The first back-edge makes a loop hot with hotloop=1.
        assert!(st.hotcounts().count_loop(5));
        st.jit_apply(param::parse(b"hotloop=3").unwrap());
        assert!(!st.hotcounts().count_loop(5) && !st.hotcounts().count_loop(5) && st.hotcounts().count_loop(5));
        st.jit_apply(param::parse(b"-fold").unwrap());
        assert!(!st.jit.flag_names().any(|f| f == "fold"));
        st.jit_apply(param::parse(b"1").unwrap());
        assert_eq!(st.jit.flag_names().collect::<Vec<_>>(), ["fold", "cse", "dce"]);
    }

    /// Run `src` (which defines global `f`) with the JIT on and `hotloop=1`; return
    /// `f`'s code afterwards.
    fn code_after(src: &str) -> Vec<Bop> {
        let mut st = State::new().unwrap();
        crate::stdlib::open_base(&mut st).unwrap();
        st.jit_set_on(true);
        st.jit_apply(param::parse(b"hotloop=1").unwrap());
        st.load(src.as_bytes(), b"=t").unwrap();
        st.call(0, 0).unwrap();
        crate::testing::mode_at_rest(&st).unwrap();
        assert!(!st.jit.recording());
        let f = st.get_global("f").unwrap().as_function().unwrap();
        let p = f.proto().unwrap();
        p.code
            .as_slice()
            .iter()
            .filter_map(|&i| Bop::from_u8(op_byte(i)))
            .collect()
    }

    #[test]
    fn recorded_and_blacklisted_loops_are_patched() {
        // The first loop is recorded, the second aborts until it is blacklisted.
        let ops = code_after(
            "function f(n) local s = 0 for i = 1, n do s = s + i end for i = 1, n do g = i end
             local k = 0 while k < n do k = k + 1 end return s end
             for _ = 1, 300 do f(300) end",
        );
        // Compiled loops become J forms where there is a backend, else I forms.
        let (forl, lp) = if HAS_BACKEND {
            (Bop::JFORL, Bop::JLOOP)
        } else {
            (Bop::IFORL, Bop::ILOOP)
        };
        assert!(ops.contains(&forl) && ops.contains(&Bop::IFORL), "{ops:?}");
        assert!(ops.contains(&lp) && !ops.contains(&Bop::FORL), "{ops:?}");
    }

    #[test]
    fn a_loop_aborting_a_few_times_is_not_blacklisted() {
        let ops = code_after("function f(n) for i = 1, n do g = i end end f(100)");
        assert!(ops.contains(&Bop::FORL), "{ops:?}");
    }

    /// A state with the base library and the JIT on, compiling from the first
    /// back-edge.
    fn eager_state() -> Box<State> {
        let mut st = State::new().unwrap();
        crate::stdlib::open_base(&mut st).unwrap();
        st.jit_set_on(true);
        st.jit_apply(param::parse(b"hotloop=1").unwrap());
        st
    }

    /// The budget units a second call of global `f` costs (the first one records and
    /// compiles its loops).
    fn units_of_second_call(st: &mut State, src: &str) -> u64 {
        st.set_budget(Some(1 << 40));
        st.load(src.as_bytes(), b"=t").unwrap();
        st.call(0, 0).unwrap();
        let f = st.get_global("f").unwrap();
        st.push(f).unwrap();
        st.call(0, 1).unwrap();
        let first = st.peek(0).as_number();
        st.pop(1);
        let before = st.budget_remaining().unwrap();
        let recorded = st.jit.record_units;
        st.push(f).unwrap();
        st.call(0, 1).unwrap();
        assert_eq!(st.peek(0).as_number(), first);
        // Recording (of loops that aborted the first time) is charged on top.
        before - st.budget_remaining().unwrap() - (st.jit.record_units - recorded)
    }

    #[test]
    fn traces_charge_the_interpreters_units() {
        // A for loop with a branch that changes direction (guard exits), a while loop
        // (its backward JMP), a repeat loop, long enough to run out the countdown
        // inside traces (budget exits).
        let src = "function f()
             local s, k = 0, 0
             for i = 1, 30000 do if i > 20000 then s = s + 1 else s = s - 0.5 end end
             while k < 25000 do k = k + 1 end
             repeat k = k - 2 until k <= 0
             local t = {} for i = 1, 100 do t[i] = i end
             for j = 1, 200 do for i = 1, 100 do s = s + t[i] end end
             return s + k
           end";
        let mut on = eager_state();
        let with_jit = units_of_second_call(&mut on, src);
        assert!(
            on.jit.traces.as_ref().is_some_and(|t| !t.recs.is_empty()),
            "nothing compiled"
        );
        let mut off = State::new().unwrap();
        crate::stdlib::open_base(&mut off).unwrap();
        let without = units_of_second_call(&mut off, src);
        assert_eq!(with_jit, without);
    }

    #[test]
    fn a_vararg_function_reads_its_upvalues_on_trace() {
        // A vararg frame keeps its extra arguments between the function and the
        // first register: the trace must not take `base[-1]` for the function (it
        // crashed reading an upvalue through it; found by the differential test).
        let mut st = eager_state();
        st.load(
            b"local k = 3
              local function f(...)
                local s = 0
                for i = 1, 100 do s = s + k end
                return s + select('#', ...)
              end
              return f(1, 2) + f()",
            b"=t",
        )
        .unwrap();
        st.call(0, 1).unwrap();
        assert_eq!(st.peek(0).as_number(), Some(602.0));
        assert!(st.jit.ntraces >= 1, "the loop ran as a trace");
    }

    #[test]
    fn an_interrupt_stops_a_compiled_infinite_loop() {
        let mut st = eager_state();
        let flag = st.interrupt_handle();
        st.load(b"local n = 0 while true do n = n + 1 end", b"=t").unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let at = std::time::Instant::now();
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
            at
        });
        let r = st.call(0, 0);
        let stopped = std::time::Instant::now();
        let set = t.join().unwrap();
        assert!(r.is_err());
        assert!(stopped.duration_since(set) < std::time::Duration::from_millis(100));
        assert_eq!(st.jit.ntraces, 1, "the loop ran as a trace");
        crate::testing::mode_at_rest(&st).unwrap();
    }

    #[test]
    fn a_refused_code_page_aborts_the_trace_silently() {
        let mut st = eager_state();
        st.load(b"local s = 0 for i = 1, 1000 do s = s + i end return s", b"=t")
            .unwrap();
        // Room for the recording, not for a page of machine code.
        st.heap.set_limit(st.heap.footprint() + 3000);
        st.call(0, 1).unwrap();
        assert_eq!(st.peek(0).as_number(), Some(500500.0));
        assert!(st.jit.traces.as_ref().is_none_or(|t| t.recs.is_empty()));
    }

    #[test]
    fn an_error_while_recording_aborts_it() {
        let mut st = State::new().unwrap();
        crate::stdlib::open_base(&mut st).unwrap();
        st.jit_set_on(true);
        st.jit_apply(param::parse(b"hotloop=1").unwrap());
        st.load(
            b"local t = {} for i = 1, 10 do t[i] = i; if i == 3 then error('x') end end",
            b"=t",
        )
        .unwrap();
        assert!(st.call(0, 0).is_err());
        assert!(!st.jit.recording());
        // The state goes on, and records again.
        // 100 passes: the loop shares its counter (same pc) with the one that aborted,
        // which carries a penalty.
        st.load(b"local s = 0 for i = 1, 100 do s = s + i end return s", b"=t")
            .unwrap();
        st.call(0, 1).unwrap();
        assert_eq!(st.peek(0).as_number(), Some(5050.0));
        assert_eq!(st.jit.ntraces, 1);
    }
}
