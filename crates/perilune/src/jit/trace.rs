//! Compiled traces: the trace table, installing a trace (compile, then commit),
//! entering one from the interpreter and acting on its exit.
//!
//! Owns: [`TraceRec`] (one installed trace: where it starts, its code, its
//! snapshots' resume points and pending budget units, its exit statistics), the
//! table of them in [`Traces`], [`enter`] (the one entry point the interpreter calls
//! at `JFORL`/`JLOOP`) and [`Resume`].
//!
//! Invariants:
//! - Installing has two phases (JIT.md J2): everything is allocated first (IR text,
//!   machine code in the code arena, the table entry, the snapshot table), and any
//!   refusal aborts the trace; then the loop instruction is patched to its `J` form,
//!   which cannot fail.
//! - A `J` instruction's trace is found by the instruction's address; when there is
//!   none (the JIT was flushed) [`enter`] puts the original instruction back.
//! - Entering checks the stack room for the trace's registers (J3: the trace writes
//!   only registers of its frame, which exist); the trace runs in
//!   `VmMode::Trace(n)`, the exit is handled in `VmMode::Exit(n, e)` (J7), and every
//!   action after it (the budget check) happens in the interpreter (J4).
//! - A trace charges one iteration's units at its back-edge; an exit charges the
//!   units its snapshot says the interpreter had charged before that point (J6).

use crate::alloc::{HVec, HeapRef, OutOfMemory};
use crate::func::GcProto;
use crate::hot::VmMode;
use crate::object::GcRef;
use crate::vm::state::State;

/// One snapshot as the exit needs it: the pc to resume at and the units to charge.
#[derive(Clone, Copy, Debug)]
pub struct SnapExit {
    pub pc: u32,
    pub units: u32,
}

/// One installed trace.
#[derive(Clone, Copy)]
pub struct TraceRec {
    /// The address of the patched loop instruction (0 once the trace is dropped).
    pub key: usize,
    /// The prototype (its address, only compared).
    pub proto: usize,
    /// The loop instruction's pc and the pc of the loop's body.
    pub loop_pc: u32,
    pub body_pc: u32,
    /// Registers the trace may write (the room checked at entry).
    pub maxslot: u32,
    /// Its snapshots: `snaps[from..to]`.
    pub snaps: (u32, u32),
    /// Units of one iteration.
    pub units: u32,
    #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
    pub code: super::code::CodeBlock,
    /// Exits taken and budget units charged by the trace (its iterations times
    /// `units`), to drop traces that exit at once.
    pub exits: u32,
    pub units_run: u64,
}

/// The trace table of a state.
pub struct Traces {
    pub recs: HVec<TraceRec>,
    pub snaps: HVec<SnapExit>,
    /// The last lookup (index into `recs`), which a loop entered again and again
    /// finds first.
    last: usize,
}

impl Traces {
    pub fn new(heap: HeapRef) -> Traces {
        Traces {
            recs: HVec::new(heap),
            snaps: HVec::new(heap),
            last: 0,
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let code: usize = {
            #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
            {
                self.recs
                    .as_slice()
                    .iter()
                    .filter(|r| r.key != 0)
                    .map(|r| r.code.mapped())
                    .sum()
            }
            #[cfg(not(all(feature = "jit", target_arch = "x86_64", unix)))]
            {
                0
            }
        };
        self.recs.byte_size() + self.snaps.byte_size() + code
    }

    /// Make room for one more trace with `nsnaps` snapshots (phase 1 of installing).
    pub fn reserve(&mut self, nsnaps: usize) -> Result<(), OutOfMemory> {
        self.recs.reserve(1)?;
        self.snaps.reserve(nsnaps)
    }

    /// Add a trace (phase 2: the room was reserved). An older trace at the same
    /// address (of a prototype that died) is dropped. Returns its index.
    pub fn commit(&mut self, rec: TraceRec, snaps: &[SnapExit]) -> usize {
        let from = self.snaps.len() as u32;
        for &s in snaps {
            self.snaps.push_within_capacity(s);
        }
        let key = rec.key;
        for i in 0..self.recs.len() {
            if self.recs.as_slice()[i].key == key {
                self.drop_trace(i);
            }
        }
        let rec = TraceRec {
            snaps: (from, self.snaps.len() as u32),
            ..rec
        };
        self.recs.push_within_capacity(rec);
        self.recs.len() - 1
    }

    fn find(&mut self, key: usize) -> Option<usize> {
        let recs = self.recs.as_slice();
        if recs.get(self.last).is_some_and(|r| r.key == key) {
            return Some(self.last);
        }
        let i = recs.iter().rposition(|r| r.key == key)?;
        self.last = i;
        Some(i)
    }

    /// Free trace `i`'s code; its entry stays (numbers stay stable) with key 0.
    fn drop_trace(&mut self, i: usize) {
        if let Some(r) = self.recs.as_mut_slice().get_mut(i) {
            if r.key != 0 {
                r.key = 0;
                #[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
                r.code.free();
            }
        }
    }

    /// Free every trace's code and forget them all.
    pub fn clear(&mut self) {
        for i in 0..self.recs.len() {
            self.drop_trace(i);
        }
        self.recs.truncate(0);
        self.snaps.truncate(0);
        self.last = 0;
    }
}

/// What the interpreter does after [`enter`].
pub enum Resume {
    /// No trace for this instruction (it was put back): go on as the interpreter.
    NoTrace,
    /// Go on at `pc`; run the budget check first when `budget` (the countdown ran
    /// out at the trace's back-edge).
    At { pc: usize, budget: bool },
}

/// A `JFORL`/`JLOOP` at `loop_pc` of `proto` went round, in the frame whose first
/// register is at stack index `base`: run its trace. Ordinary Rust; the trace
/// itself never fails, so neither does this.
pub fn enter(st: &mut State, proto: GcRef<GcProto>, loop_pc: usize, base: usize) -> Resume {
    let key = proto.code.as_ptr() as usize + loop_pc * 4;
    let found = st.jit.traces.as_mut().and_then(|t| t.find(key));
    let Some(i) = found.filter(|&i| {
        st.jit
            .traces
            .as_ref()
            .is_some_and(|t| t.recs.as_slice()[i].proto == proto.as_ptr() as usize)
    }) else {
        super::unpatch_loop(proto, loop_pc);
        return Resume::NoTrace;
    };
    run(st, i, base)
}

#[cfg(all(feature = "jit", target_arch = "x86_64", unix))]
fn run(st: &mut State, i: usize, base: usize) -> Resume {
    use super::backend::{TraceFn, EXIT_BUDGET, EXIT_ENTRY};
    let Some(rec) = st.jit.traces.as_ref().map(|t| t.recs.as_slice()[i]) else {
        return Resume::NoTrace;
    };
    let th = st.cur;
    // J3: the trace writes registers below `maxslot` of this frame only.
    if base + rec.maxslot as usize > th.stack.len() {
        return Resume::At {
            pc: rec.body_pc as usize,
            budget: false,
        };
    }
    // The frame's function (not always at `base - 1`: varargs sit in between).
    let func = th
        .frames
        .last()
        .and_then(|ci| th.stack.get(ci.func as usize))
        .and_then(|v| v.as_function())
        .map_or(0, |f| f.as_ptr() as usize as u64);
    if func == 0 {
        return Resume::At {
            pc: rec.body_pc as usize,
            budget: false,
        };
    }
    let n = (i + 1).min(usize::from(u16::MAX)) as u16;
    let before = st.countdown();
    let exit = st.with_mode(VmMode::Trace(n), |st| {
        // SAFETY: the code is a finished trace of this prototype (`TraceRec::key`
        // and `proto` matched), compiled for `TraceFn`'s signature; `func` is this
        // frame's function, `base` its first register and the stack holds its `maxslot` registers
        // (checked above); the hot block and the state outlive the call, and
        // nothing else touches the state while the trace runs (J1).
        unsafe {
            let f: TraceFn = std::mem::transmute::<*const u8, TraceFn>(rec.code.entry());
            let basep = th.get_mut().stack.as_mut_ptr().add(base);
            let hot = st.hot() as *const crate::hot::HotBlock;
            f(basep, hot, st as *mut State, func)
        }
    });
    let ran = (before - st.countdown()).max(0) as u64;
    st.with_mode(VmMode::Exit(n, exit.min(u32::from(u16::MAX)) as u16), |st| {
        let stats = st.jit.traces.as_mut().and_then(|t| t.recs.as_mut_slice().get_mut(i));
        let unproductive = match stats {
            Some(r) => {
                r.exits += 1;
                r.units_run += ran;
                // Under half an iteration per exit, without dividing on this path.
                r.exits >= 256 && 2 * r.units_run < u64::from(r.exits) * u64::from(r.units.max(1))
            }
            None => false,
        };
        // A trace that leaves at once most times it is entered costs more than it
        // gains: drop it, and blacklist the loop (LuaJIT would start a side trace).
        if unproductive {
            if let Some(t) = st.jit.traces.as_mut() {
                t.drop_trace(i);
            }
            if let Some(p) = st
                .cur
                .frames
                .last()
                .and_then(|ci| crate::vm::debug::thread_frame_proto(st.cur, ci))
            {
                if p.as_ptr() as usize == rec.proto {
                    super::blacklist(p, rec.loop_pc as usize);
                }
            }
        }
        match exit {
            EXIT_BUDGET => Resume::At {
                pc: rec.body_pc as usize,
                budget: true,
            },
            EXIT_ENTRY => Resume::At {
                pc: rec.body_pc as usize,
                budget: false,
            },
            e => {
                let s = st
                    .jit
                    .traces
                    .as_ref()
                    .and_then(|t| t.snaps.as_slice().get((rec.snaps.0 + e) as usize).copied());
                match s {
                    Some(s) => {
                        let _ = st.hot().pay(i64::from(s.units));
                        Resume::At {
                            pc: s.pc as usize,
                            budget: false,
                        }
                    }
                    // Unreachable: exit numbers are snapshot numbers.
                    None => Resume::At {
                        pc: rec.body_pc as usize,
                        budget: false,
                    },
                }
            }
        }
    })
}

#[cfg(not(all(feature = "jit", target_arch = "x86_64", unix)))]
fn run(_st: &mut State, _i: usize, _base: usize) -> Resume {
    Resume::NoTrace
}
