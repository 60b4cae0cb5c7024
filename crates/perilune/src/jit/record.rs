//! The recorder: turns the bytecode the interpreter runs, one instruction at a time,
//! into trace IR specialised on the types and branch directions it sees.
//!
//! Owns: [`Recorder`] (the slot map from registers to refs, the IR being built, the
//! loop being recorded) and [`Abort`], every reason a recording stops early.
//!
//! Invariants:
//! - It only reads the interpreter's state (JIT.md J2): registers, constants,
//!   upvalues, tables. It is called *before* each instruction runs, so the values it
//!   reads are the instruction's operands.
//! - One frame: the trace's frame, prototype and thread are fixed at the start; any
//!   other frame, a call or a return aborts.
//! - Every guard has a snapshot from which the interpreter can resume: its pc is the
//!   instruction the guard belongs to, which the interpreter then runs again (it has
//!   not changed anything yet), except the loop's own end test, whose snapshot resumes
//!   after the `FORL` (the loop is over).
//! - A refused allocation aborts the recording; the script never sees it (J5).

// `!(x < y)` is the point where it appears: the unordered comparisons are true for
// NaN, as the interpreter's negated branches are.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use crate::alloc::OutOfMemory;
use crate::compiler::bytecode::{arg_a, arg_b, arg_c, arg_d, unpatch, Ins as Bc, Op as Bop};
use crate::func::{GcFunc, GcProto};
use crate::jit::ir::{self, Field, Ins, Ir, Konst, Op, Ref, Snap, SnapEntry, Ty};
use crate::object::GcRef;
use crate::value::Value;
use crate::vm::state::State;

/// Why a recording stopped without a trace. The messages are LuaJIT's
/// (`lj_traceerr.h`) where it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A bytecode the recorder does not handle (yet).
    Nyi(Bop),
    /// An operand of a type the recorder does not handle for this bytecode.
    NyiType(Bop),
    /// A table access the recorder does not handle (a metatable, the hash part).
    NyiTable(Bop),
    Leave,
    Inner,
    TooLong,
    TooManySnaps,
    TooManyConsts,
    /// A frame other than the trace's ran (an error unwound it) or a debug hook was
    /// set.
    Left,
    GuardFails,
    Memory,
    /// The IR verifier found a bug (debug builds).
    Verify,
    /// The backend could not compile the trace.
    Backend,
}

impl Abort {
    /// The reason, as `-jv` shows it.
    pub fn message(self) -> String {
        match self {
            Abort::Nyi(op) => format!("NYI: bytecode {}", op.name()),
            Abort::NyiType(op) => format!("NYI: operand type of bytecode {}", op.name()),
            Abort::NyiTable(op) => format!("NYI: table access of bytecode {}", op.name()),
            Abort::Leave => "leaving loop in root trace".into(),
            Abort::Inner => "inner loop in root trace".into(),
            Abort::TooLong => "trace too long".into(),
            Abort::TooManySnaps => "too many snapshots".into(),
            Abort::TooManyConsts => "too many IR constants".into(),
            Abort::Left => "error thrown or hook called during recording".into(),
            Abort::GuardFails => "guard would always fail".into(),
            Abort::Memory => crate::errmsg::NOMEM.into(),
            Abort::Verify => "IR verification failed".into(),
            Abort::Backend => "NYI: machine code for this trace".into(),
        }
    }
}

impl From<OutOfMemory> for Abort {
    fn from(_: OutOfMemory) -> Abort {
        Abort::Memory
    }
}

/// What one step of the recorder decided.
pub enum Step {
    /// Go on with the next instruction.
    More,
    /// The loop closed: the trace is complete.
    Done,
}

/// Registers a frame can have (`bytecode::MAX_SLOTS`, rounded up).
const SLOTS: usize = 256;

/// A recording in progress.
pub struct Recorder {
    pub ir: Ir,
    /// The ref each register holds on the trace (`Ref::NONE`: not loaded yet).
    slots: [Ref; SLOTS],
    /// Registers written on the trace (they go into snapshots).
    written: [bool; SLOTS],
    /// A register was written since the last snapshot.
    dirty: bool,
    /// Budget units the interpreter has charged so far on the recorded iteration
    /// (backward `JMP`s, then the loop instruction's own back-edge).
    pub units: u32,
    /// The loop instruction the trace starts and ends at.
    pub start_pc: usize,
    /// Instructions at or past this pc are outside the loop.
    end_pc: usize,
    /// The trace's thread, frame index and prototype (addresses, never dereferenced
    /// after the frame may be gone).
    thread: usize,
    pub frame: usize,
    pub proto: usize,
    /// Bytecodes recorded, and the limits (`maxrecord`, `maxsnap`, `maxirconst`).
    nbc: usize,
    max_bc: usize,
    max_snap: usize,
    max_k: usize,
    /// Optimisation flags (`fold`, `cse`, `dce`) in force.
    fold: bool,
    cse: bool,
    pub dce: bool,
}

/// The limits and flags a recording runs under (from `jit::param`).
pub struct Limits {
    pub maxrecord: usize,
    pub maxsnap: usize,
    pub maxirconst: usize,
    pub fold: bool,
    pub cse: bool,
    pub dce: bool,
}

impl Recorder {
    /// Start recording the loop whose instruction is `proto.code[start_pc]`, in frame
    /// `frame` of the running thread.
    pub fn new(st: &State, proto: GcRef<GcProto>, frame: usize, start_pc: usize, lim: Limits) -> Recorder {
        let ins = unpatch(proto.code.as_slice().get(start_pc).copied().unwrap_or(0));
        let target = (start_pc as i64 + 1 + crate::compiler::bytecode::jump_offset(ins) as i64) as usize;
        // FORL: the body runs from its target up to the FORL. LOOP: its jump leads
        // out of the loop.
        let end_pc = if crate::compiler::bytecode::op_byte(ins) == Bop::FORL as u8 {
            start_pc + 1
        } else {
            target
        };
        Recorder {
            ir: Ir::new(st.heap_ref()),
            slots: [Ref::NONE; SLOTS],
            written: [false; SLOTS],
            dirty: false,
            units: 0,
            start_pc,
            end_pc,
            thread: st.cur.as_ptr() as usize,
            frame,
            proto: proto.as_ptr() as usize,
            nbc: 0,
            max_bc: lim.maxrecord,
            max_snap: lim.maxsnap,
            max_k: lim.maxirconst,
            fold: lim.fold,
            cse: lim.cse,
            dce: lim.dce,
        }
    }

    fn k(&mut self, k: Konst) -> Result<Ref, Abort> {
        let r = self.ir.k(k).map_err(|_| Abort::TooManyConsts)?;
        if self.ir.konst.len() > self.max_k {
            return Err(Abort::TooManyConsts);
        }
        Ok(r)
    }

    fn knum(&mut self, n: f64) -> Result<Ref, Abort> {
        self.k(Konst::Num(n))
    }

    /// The constant of a value of primitive type `t`.
    fn kpri(&mut self, t: Ty) -> Result<Ref, Abort> {
        self.k(Konst::Pri(t))
    }

    /// Emit `op a b`, folding constants and reusing an equal earlier instruction.
    fn emit(&mut self, op: Op, ty: Ty, a: Ref, b: Ref) -> Result<Ref, Abort> {
        if self.fold {
            let (x, y) = (self.ir.num_const(a), self.ir.num_const(b));
            let v = match (op, x, y) {
                (Op::ADD, Some(x), Some(y)) => Some(x + y),
                (Op::SUB, Some(x), Some(y)) => Some(x - y),
                (Op::MUL, Some(x), Some(y)) => Some(x * y),
                (Op::DIV, Some(x), Some(y)) => Some(x / y),
                (Op::MOD, Some(x), Some(y)) => Some(crate::number::lua_mod(x, y)),
                (Op::POW, Some(x), Some(y)) => Some(crate::number::lua_pow(x, y)),
                (Op::NEG, Some(x), _) => Some(-x),
                _ => None,
            };
            if let Some(v) = v {
                return self.knum(v);
            }
        }
        if self.cse {
            if let Some(r) = self.ir.cse(op, ty, a, b) {
                return Ok(r);
            }
        }
        Ok(self.ir.push(Ins {
            op,
            ty,
            guard: false,
            a,
            b,
            snap: 0,
        })?)
    }

    /// Emit a guard leaving through a snapshot that resumes at `pc`. A guard on two
    /// constants is decided now.
    fn guard(&mut self, op: Op, ty: Ty, a: Ref, b: Ref, pc: usize) -> Result<Ref, Abort> {
        if self.fold {
            if let (Some(x), Some(y)) = (self.ir.num_const(a), self.ir.num_const(b)) {
                let holds = match op {
                    Op::LT => x < y,
                    Op::GE => x >= y,
                    Op::LE => x <= y,
                    Op::GT => x > y,
                    Op::ULT => !(x >= y),
                    Op::UGE => !(x < y),
                    Op::ULE => !(x > y),
                    Op::UGT => !(x <= y),
                    Op::EQ => x == y,
                    Op::NE => x != y,
                    _ => false,
                };
                return if holds { Ok(Ref::NONE) } else { Err(Abort::GuardFails) };
            }
        }
        let snap = self.snapshot(pc)?;
        Ok(self.ir.push(Ins {
            op,
            ty,
            guard: true,
            a,
            b,
            snap,
        })?)
    }

    /// A snapshot of the written registers, resuming at `pc`: the last one again
    /// if it resumes there too and no register was written since it was taken (the
    /// guards of one bytecode share one).
    fn snapshot(&mut self, pc: usize) -> Result<u16, Abort> {
        let nins = self.ir.ins.len() as u16;
        if let Some(last) = self.ir.snaps.as_slice().last() {
            if !self.dirty && last.pc as usize == pc && last.units == self.units {
                return Ok(self.ir.snaps.len() as u16 - 1);
            }
        }
        self.dirty = false;
        if self.ir.snaps.len() >= self.max_snap {
            return Err(Abort::TooManySnaps);
        }
        let start = self.ir.map.len() as u32;
        let mut len = 0u16;
        for slot in 0..SLOTS {
            if self.written[slot] {
                self.ir.map.push(SnapEntry {
                    slot: slot as u16,
                    r: self.slots[slot],
                })?;
                len += 1;
            }
        }
        self.ir.snaps.push(Snap {
            nins,
            pc: pc as u32,
            start,
            len,
            units: self.units,
        })?;
        Ok(self.ir.snaps.len() as u16 - 1)
    }

    /// The ref register `r` holds, loading it (with a type guard) the first time.
    fn get(&mut self, v: Value, r: u32, pc: usize, op: Bop) -> Result<Ref, Abort> {
        let r = r as usize;
        if self.slots[r] != Ref::NONE {
            return Ok(self.slots[r]);
        }
        let ty = Ty::of(v).ok_or(Abort::NyiType(op))?;
        // Slot numbers as LuaJIT shows them: #0 is the frame's function.
        let snap = self.snapshot(pc)?;
        let x = self.ir.push(Ins {
            op: Op::SLOAD,
            ty,
            guard: true,
            a: Ref(r as u16 + 1),
            b: Ref::NONE,
            snap,
        })?;
        self.slots[r] = x;
        Ok(x)
    }

    fn set(&mut self, r: u32, x: Ref) {
        self.slots[r as usize] = x;
        self.written[r as usize] = true;
        self.dirty = true;
    }

    /// Record the instruction at `pc` of the trace's frame, about to run with
    /// registers `regs` and constants `consts`.
    pub fn step(
        &mut self,
        st: &State,
        frame: usize,
        pc: usize,
        regs: &[Value],
        cl: GcRef<GcFunc>,
    ) -> Result<Step, Abort> {
        if st.cur.as_ptr() as usize != self.thread || frame != self.frame || st.debug_hook_active() {
            return Err(Abort::Left);
        }
        let Some(proto) = st
            .cur
            .frames
            .get(frame)
            .and_then(|ci| crate::vm::debug::thread_frame_proto(st.cur, ci))
        else {
            return Err(Abort::Left);
        };
        if proto.as_ptr() as usize != self.proto {
            return Err(Abort::Left);
        }
        self.nbc += 1;
        if self.nbc > self.max_bc {
            return Err(Abort::TooLong);
        }
        let Some(&raw) = proto.code.get(pc) else {
            return Err(Abort::Left);
        };
        let ins: Bc = unpatch(raw);
        let Some(op) = Bop::from_u8(ins as u8) else {
            return Err(Abort::Left);
        };
        if pc == self.start_pc {
            return self.close_loop(op, ins, regs, pc);
        }
        if pc >= self.end_pc {
            return Err(Abort::Leave);
        }
        let (a, b, c, d) = (arg_a(ins), arg_b(ins), arg_c(ins), arg_d(ins));
        let reg = |i: u32| regs.get(i as usize).copied().unwrap_or(Value::NIL);
        let kv = |i: u32| proto.consts.get(i as usize).copied().unwrap_or(Value::NIL);
        match op {
            Bop::MOV => {
                let x = self.get(reg(d), d, pc, op)?;
                self.set(a, x);
            }
            Bop::NOT => {
                let x = self.get(reg(d), d, pc, op)?;
                let t = self.ir.ty(x);
                let r = self.kpri(if t.is_falsy() { Ty::True } else { Ty::False })?;
                self.set(a, r);
            }
            Bop::UNM => {
                let x = self.num(reg(d), d, pc, op)?;
                let r = self.emit(Op::NEG, Ty::Num, x, Ref::NONE)?;
                self.set(a, r);
            }
            Bop::ADDVN
            | Bop::SUBVN
            | Bop::MULVN
            | Bop::DIVVN
            | Bop::MODVN
            | Bop::ADDNV
            | Bop::SUBNV
            | Bop::MULNV
            | Bop::DIVNV
            | Bop::MODNV => {
                let x = self.num(reg(b), b, pc, op)?;
                let k = kv(c).as_number().ok_or(Abort::NyiType(op))?;
                let k = self.knum(k)?;
                let swap = matches!(op, Bop::ADDNV | Bop::SUBNV | Bop::MULNV | Bop::DIVNV | Bop::MODNV);
                let (l, r) = if swap { (k, x) } else { (x, k) };
                let r = self.emit(arith_op(op), Ty::Num, l, r)?;
                self.set(a, r);
            }
            Bop::ADDVV | Bop::SUBVV | Bop::MULVV | Bop::DIVVV | Bop::MODVV | Bop::POW => {
                let x = self.num(reg(b), b, pc, op)?;
                let y = self.num(reg(c), c, pc, op)?;
                let r = self.emit(arith_op(op), Ty::Num, x, y)?;
                self.set(a, r);
            }
            Bop::KSTR => {
                let k = kv(d);
                let r = self.k(Konst::Str(k.bits()))?;
                self.set(a, r);
            }
            Bop::KNUM => {
                let n = kv(d).as_number().ok_or(Abort::NyiType(op))?;
                let r = self.knum(n)?;
                self.set(a, r);
            }
            Bop::KSHORT => {
                let r = self.knum(d as u16 as i16 as f64)?;
                self.set(a, r);
            }
            Bop::KPRI => {
                let r = self.kpri(pri(d))?;
                self.set(a, r);
            }
            Bop::KNIL => {
                let r = self.kpri(Ty::Nil)?;
                for i in a..=d {
                    self.set(i, r);
                }
            }
            Bop::ISLT | Bop::ISGE | Bop::ISLE | Bop::ISGT => {
                let (x, y) = (reg(a), reg(d));
                let (Some(n), Some(m)) = (x.as_number(), y.as_number()) else {
                    return Err(Abort::NyiType(op));
                };
                let rx = self.get(x, a, pc, op)?;
                let ry = self.get(y, d, pc, op)?;
                // The guard checks that the jump goes the way it goes now.
                let (cond, holds) = match op {
                    Bop::ISLT => (Op::LT, n < m),
                    Bop::ISGE => (Op::UGE, !(n < m)),
                    Bop::ISLE => (Op::LE, n <= m),
                    _ => (Op::UGT, !(n <= m)),
                };
                let g = if holds { cond } else { cond.negate() };
                self.guard(g, Ty::Void, rx, ry, pc)?;
            }
            Bop::ISEQV | Bop::ISNEV => {
                let (x, y) = (reg(a), reg(d));
                let rx = self.get(x, a, pc, op)?;
                let ry = self.get(y, d, pc, op)?;
                let (tx, ty) = (self.ir.ty(rx), self.ir.ty(ry));
                if tx == Ty::Num && ty == Ty::Num {
                    let eq = x.number_unchecked() == y.number_unchecked();
                    self.guard(if eq { Op::EQ } else { Op::NE }, Ty::Void, rx, ry, pc)?;
                } else if tx != ty || tx.is_pri() {
                    // Decided by the types, which the loads guard.
                } else if tx == Ty::Str {
                    let eq = x.bits() == y.bits();
                    self.guard(if eq { Op::EQ } else { Op::NE }, Ty::Void, rx, ry, pc)?;
                } else {
                    // Tables and functions may have __eq.
                    return Err(Abort::NyiType(op));
                }
            }
            Bop::ISEQN | Bop::ISNEN => {
                let x = reg(a);
                let rx = self.get(x, a, pc, op)?;
                if self.ir.ty(rx) == Ty::Num {
                    let k = kv(d).as_number().ok_or(Abort::NyiType(op))?;
                    let eq = x.number_unchecked() == k;
                    let rk = self.knum(k)?;
                    self.guard(if eq { Op::EQ } else { Op::NE }, Ty::Void, rx, rk, pc)?;
                }
            }
            Bop::ISEQS | Bop::ISNES => {
                let x = reg(a);
                let rx = self.get(x, a, pc, op)?;
                if self.ir.ty(rx) == Ty::Str {
                    let k = kv(d);
                    let eq = x.bits() == k.bits();
                    let rk = self.k(Konst::Str(k.bits()))?;
                    self.guard(if eq { Op::EQ } else { Op::NE }, Ty::Void, rx, rk, pc)?;
                }
            }
            Bop::ISEQP | Bop::ISNEP | Bop::IST | Bop::ISF => {
                // Decided by the operand's type, which its load guards.
                let r = if matches!(op, Bop::IST | Bop::ISF) { d } else { a };
                self.get(reg(r), r, pc, op)?;
            }
            Bop::ISTC | Bop::ISFC => {
                let x = self.get(reg(d), d, pc, op)?;
                let truthy = !self.ir.ty(x).is_falsy();
                if truthy == (op == Bop::ISTC) {
                    self.set(a, x);
                }
            }
            Bop::UGET => {
                let v = cl.lua_upvals().get(d as usize).map(|u| u.get()).ok_or(Abort::Nyi(op))?;
                let ty = Ty::of(v).ok_or(Abort::NyiType(op))?;
                let f = self.func()?;
                let uv = self.emit(Op::FLOAD, Ty::Ptr, f, Ref(ir::FIELD_UPVAL + d as u16))?;
                let x = match self.ir.cse(Op::ULOAD, ty, uv, Ref::NONE).filter(|_| self.cse) {
                    Some(x) => x,
                    None => {
                        let snap = self.snapshot(pc)?;
                        self.ir.push(Ins {
                            op: Op::ULOAD,
                            ty,
                            guard: true,
                            a: uv,
                            b: Ref::NONE,
                            snap,
                        })?
                    }
                };
                self.set(a, x);
            }
            Bop::TGETV | Bop::TGETB => {
                let key = if op == Bop::TGETV { Some((reg(c), c)) } else { None };
                let (aref, v) = self.array_slot(reg(b), b, key, c, pc, op)?;
                let ty = Ty::of(v).ok_or(Abort::NyiType(op))?;
                let snap = self.snapshot(pc)?;
                let x = match self.ir.cse(Op::ALOAD, ty, aref, Ref::NONE).filter(|_| self.cse) {
                    Some(x) => x,
                    None => self.ir.push(Ins {
                        op: Op::ALOAD,
                        ty,
                        guard: true,
                        a: aref,
                        b: Ref::NONE,
                        snap,
                    })?,
                };
                self.set(a, x);
            }
            Bop::TSETV | Bop::TSETB => {
                let key = if op == Bop::TSETV { Some((reg(c), c)) } else { None };
                let val = self.get(reg(a), a, pc, op)?;
                let (aref, _) = self.array_slot(reg(b), b, key, c, pc, op)?;
                let t = self.slots[b as usize];
                self.emit_effect(Op::TBAR, t, Ref::NONE)?;
                self.emit_effect(Op::ASTORE, aref, val)?;
            }
            // Jumps only move the pc, which the next step sees; a backward one is a
            // back-edge the interpreter charges to the budget.
            Bop::JMP => {
                let off = crate::compiler::bytecode::jump_offset(ins);
                if off < 0 {
                    self.units += (-off) as u32;
                }
            }
            Bop::LOOP | Bop::FORI | Bop::FORL | Bop::ITERL => return Err(Abort::Inner),
            _ => return Err(Abort::Nyi(op)),
        }
        Ok(Step::More)
    }

    /// A register that must hold a number (else the recording aborts: the
    /// interpreter would call a metamethod or raise an error).
    fn num(&mut self, v: Value, r: u32, pc: usize, op: Bop) -> Result<Ref, Abort> {
        if !v.is_number() {
            return Err(Abort::NyiType(op));
        }
        self.get(v, r, pc, op)
    }

    /// The frame's function (`SLOAD #0`, no guard: it is always a Lua function).
    fn func(&mut self) -> Result<Ref, Abort> {
        for (i, x) in self.ir.ins.as_slice().iter().enumerate() {
            if x.op == Op::SLOAD && x.a == Ref(0) {
                return Ok(Ref(Ref::BIAS + i as u16));
            }
        }
        Ok(self.ir.push(Ins {
            op: Op::SLOAD,
            ty: Ty::Fun,
            guard: false,
            a: Ref(0),
            b: Ref::NONE,
            snap: 0,
        })?)
    }

    fn emit_effect(&mut self, op: Op, a: Ref, b: Ref) -> Result<Ref, Abort> {
        Ok(self.ir.push(Ins {
            op,
            ty: Ty::Void,
            guard: false,
            a,
            b,
            snap: 0,
        })?)
    }

    /// The address of `t[key]` in the array part of table register `tr` (`key`: a
    /// register and its value, or `None` for the literal `lit`), with the guards that
    /// make it so: no metatable, an integral key inside the array part. Returns it
    /// with the value there now.
    fn array_slot(
        &mut self,
        tv: Value,
        tr: u32,
        key: Option<(Value, u32)>,
        lit: u32,
        pc: usize,
        op: Bop,
    ) -> Result<(Ref, Value), Abort> {
        let Some(t) = tv.as_table() else {
            return Err(Abort::NyiType(op));
        };
        if t.metatable.is_some() {
            return Err(Abort::NyiTable(op));
        }
        let (n, kref) = match key {
            Some((kv, kr)) => {
                let Some(n) = kv.as_number() else {
                    return Err(Abort::NyiTable(op));
                };
                (n, Some(self.get(kv, kr, pc, op)?))
            }
            None => (lit as f64, None),
        };
        let i = n as i64;
        if i as f64 != n || i < 1 || i as u64 > t.array.len() as u64 {
            return Err(Abort::NyiTable(op));
        }
        let tref = self.get(tv, tr, pc, op)?;
        let meta = self.emit(Op::FLOAD, Ty::Ptr, tref, Ref(Field::Metatable as u16))?;
        let null = self.k(Konst::Null)?;
        if !self.guard_cse(Op::EQ, meta, null) {
            self.guard(Op::EQ, Ty::Void, meta, null, pc)?;
        }
        let idx = match kref {
            Some(k) => match self.ir.num_const(k) {
                Some(_) if self.fold => self.k(Konst::Int(i as i32))?,
                _ => match self.find_guard(Op::CONV, k, Ref::NONE) {
                    Some(x) => x,
                    None => {
                        let snap = self.snapshot(pc)?;
                        self.ir.push(Ins {
                            op: Op::CONV,
                            ty: Ty::Int,
                            guard: true,
                            a: k,
                            b: Ref::NONE,
                            snap,
                        })?
                    }
                },
            },
            None => self.k(Konst::Int(i as i32))?,
        };
        let asize = self.emit(Op::FLOAD, Ty::Int, tref, Ref(Field::ArraySize as u16))?;
        if !self.guard_cse(Op::ABC, asize, idx) {
            self.guard(Op::ABC, Ty::Void, asize, idx, pc)?;
        }
        let arr = self.emit(Op::FLOAD, Ty::Ptr, tref, Ref(Field::Array as u16))?;
        let aref = self.emit(Op::AREF, Ty::Ptr, arr, idx)?;
        Ok((
            aref,
            t.array.as_slice().get(i as usize - 1).copied().unwrap_or(Value::NIL),
        ))
    }

    /// An earlier guard `op a b`, when CSE is on: checked once, it cannot fail
    /// again on this iteration.
    fn find_guard(&self, op: Op, a: Ref, b: Ref) -> Option<Ref> {
        let i = self
            .ir
            .ins
            .as_slice()
            .iter()
            .position(|x| x.op == op && x.a == a && x.b == b)?;
        self.cse.then_some(Ref(Ref::BIAS + i as u16))
    }

    fn guard_cse(&self, op: Op, a: Ref, b: Ref) -> bool {
        self.find_guard(op, a, b).is_some()
    }

    /// The trace is back at its loop instruction: record the loop's own step and
    /// close the loop.
    fn close_loop(&mut self, op: Bop, ins: Bc, regs: &[Value], pc: usize) -> Result<Step, Abort> {
        match op {
            Bop::FORL => {
                let a = arg_a(ins);
                let reg = |i: u32| regs.get(i as usize).copied().unwrap_or(Value::NIL);
                let (Some(i), Some(lim), Some(step)) =
                    (reg(a).as_number(), reg(a + 1).as_number(), reg(a + 2).as_number())
                else {
                    return Err(Abort::NyiType(op));
                };
                let next = i + step;
                let goes_on = if step >= 0.0 { next <= lim } else { next >= lim };
                if !goes_on {
                    return Err(Abort::Leave);
                }
                let ri = self.get(reg(a), a, pc, op)?;
                let rl = self.get(reg(a + 1), a + 1, pc, op)?;
                let rs = self.get(reg(a + 2), a + 2, pc, op)?;
                // The step's sign picks the test: if it changed, run the FORL again.
                let zero = self.knum(0.0)?;
                if step >= 0.0 {
                    self.guard(Op::GE, Ty::Void, rs, zero, pc)?;
                } else {
                    self.guard(Op::ULT, Ty::Void, rs, zero, pc)?;
                }
                let rn = self.emit(Op::ADD, Ty::Num, ri, rs)?;
                // The end test: when it fails the loop is over, resume after the FORL.
                if step >= 0.0 {
                    self.guard(Op::LE, Ty::Void, rn, rl, pc + 1)?;
                } else {
                    self.guard(Op::GE, Ty::Void, rn, rl, pc + 1)?;
                }
                self.set(a, rn);
                self.set(a + 3, rn);
                // The interpreter's back-edge charge (`back_edge!` in vm/interp.rs).
                self.units += (-crate::compiler::bytecode::jump_offset(ins)) as u32;
            }
            Bop::LOOP => self.units += crate::compiler::bytecode::jump_offset(ins).max(1) as u32,
            _ => return Err(Abort::Nyi(op)),
        }
        // The state at the back-edge, then the loop marker.
        self.snapshot(pc)?;
        self.emit_effect(Op::LOOP, Ref::NONE, Ref::NONE)?;
        if self.dce {
            self.ir.dce();
        }
        if cfg!(debug_assertions) && self.ir.verify().is_err() {
            return Err(Abort::Verify);
        }
        Ok(Step::Done)
    }
}

/// The IR arithmetic of an arithmetic bytecode (any operand form).
fn arith_op(op: Bop) -> Op {
    match op {
        Bop::ADDVN | Bop::ADDNV | Bop::ADDVV => Op::ADD,
        Bop::SUBVN | Bop::SUBNV | Bop::SUBVV => Op::SUB,
        Bop::MULVN | Bop::MULNV | Bop::MULVV => Op::MUL,
        Bop::DIVVN | Bop::DIVNV | Bop::DIVVV => Op::DIV,
        Bop::MODVN | Bop::MODNV | Bop::MODVV => Op::MOD,
        _ => Op::POW,
    }
}

/// The type of primitive operand `d` (0 nil, 1 false, 2 true).
fn pri(d: u32) -> Ty {
    match d {
        0 => Ty::Nil,
        1 => Ty::False,
        _ => Ty::True,
    }
}
