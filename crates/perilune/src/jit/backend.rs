//! The machine-code backend: one trace's IR to x86-64 code through Cranelift
//! (`cranelift-codegen` + `cranelift-frontend`, no `cranelift-jit`/`-module`).
//!
//! Owns: [`Backend`] (the ISA, created lazily on the first compile, and Cranelift's
//! reusable contexts), the calling convention of compiled traces ([`TraceFn`]) and
//! their exit codes ([`EXIT_ENTRY`], [`EXIT_BUDGET`], else a snapshot number).
//!
//! The shape of the code (docs/jit.md, "Machine code"):
//! - A trace is `fn(base, hot, state, func) -> exit`: `base` is the frame's first
//!   register, `hot` the state's hot block, `state` the `State` (only passed on to
//!   the write-barrier helper), `func` the frame's function (unboxed; a vararg
//!   frame's function is not at `base[-1]`).
//! - Pre-header: the slots the trace reads before writing (the loop variables, the
//!   tables, ...) are loaded and type-checked once; a failed check returns
//!   [`EXIT_ENTRY`], with nothing written.
//! - Loop: slots read and written with the same number type stay in registers from
//!   one iteration to the next (Cranelift variables); read-only slots are the
//!   pre-header's values; slots only written are stored at each back-edge. At the
//!   back-edge the trace subtracts the iteration's budget units from the hot block's
//!   countdown and returns [`EXIT_BUDGET`] when it goes negative.
//! - Every guard branches to its snapshot's exit block, which stores the snapshot's
//!   registers and every register the loop keeps in a machine register, then
//!   returns the snapshot number. Exits never call anything (JIT.md J1, J4).
//!
//! Invariants:
//! - The code has no relocations and no trapping instructions (every helper address
//!   is an `iconst`, every memory access is flagged non-trapping); code that has
//!   either is refused, and the trace aborts.
//! - Helpers called from traces (the write barrier, `pow`) are inert: no allocation, no
//!   Lua, no error, no panic (J1).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self as cl, types, AbiParam, InstBuilder, MemFlagsData, Signature, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};

use crate::hot::HotBlock;
use crate::jit::ir::{Field, Ins, Ir, Konst, Op, Ref, Ty, FIELD_UPVAL};
use crate::value::{Tag, Value, NEG_NAN_BITS};
use crate::vm::layout;
use crate::vm::state::State;

/// A compiled trace: registers from `base`, the hot block, the state, the frame's
/// function (an unboxed `GcFunc` pointer: it is not always at `base[-1]`, a vararg
/// frame has its arguments in between).
pub type TraceFn = unsafe extern "C" fn(*mut Value, *const HotBlock, *mut State, u64) -> u32;

/// A pre-header check failed: nothing was written, resume at the loop's body.
pub const EXIT_ENTRY: u32 = u32::MAX;
/// The countdown ran out at the back-edge: the registers are stored, the
/// iteration is charged; resume at the loop's body after the budget check.
pub const EXIT_BUDGET: u32 = u32::MAX - 1;

/// Why code could not be made (the trace aborts; the script never sees it).
#[derive(Debug)]
pub enum Fail {
    /// The host ISA is not supported, or Cranelift refused the function.
    Codegen(String),
    /// The IR has a shape this backend does not compile.
    Nyi(&'static str),
}

impl Fail {
    /// What went wrong, for `PERILUNE_JIT_DEBUG`.
    pub fn message(&self) -> &str {
        match self {
            Fail::Codegen(s) => s,
            Fail::Nyi(s) => s,
        }
    }
}

/// What compiling a trace gives.
pub struct Output {
    pub code: Vec<u8>,
    /// Cranelift's listing of the machine instructions (only when asked for).
    pub text: Option<String>,
}

/// What the backend needs to know about the trace besides its IR.
pub struct TraceInfo {
    /// Budget units of one iteration (the interpreter's back-edge charges).
    pub units: u32,
    /// Guards whose snapshot resumes at this pc (the `FORL` end test: the loop is
    /// over) never exit at random in the exit-stress mode.
    pub end_pc: Option<u32>,
    /// The exit-stress mode: the address of a xorshift state; every other guard
    /// also exits about one time in 16.
    pub stress: Option<*mut u64>,
    pub want_text: bool,
}

/// Process-heap bytes the backend keeps between compiles (the ISA and the emptied
/// contexts), charged to the state's heap while it exists (J5; `jit::compile`).
/// Measured by `tests/jit_compile_memory.rs`, with a margin.
pub const KEPT_BYTES: usize = 128 << 10;

/// Process-heap bytes one compile of `ir` may take at its peak (Cranelift's function,
/// its VCode, the register allocator's data, the output), charged while it runs.
/// Linear in the trace's size; measured by `tests/jit_compile_memory.rs`, with a margin.
pub fn compile_bytes(ir: &Ir) -> usize {
    (512 << 10) + 4096 * ir.ins.len() + 512 * ir.snaps.len()
}

/// The Cranelift backend (one per state, the ISA made on first use).
pub struct Backend {
    isa: Option<OwnedTargetIsa>,
    ctx: Context,
    fctx: FunctionBuilderContext,
}

impl Default for Backend {
    fn default() -> Self {
        Backend {
            isa: None,
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
        }
    }
}

fn host_isa() -> Result<OwnedTargetIsa, Fail> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| Fail::Codegen(e.to_string()));
    set(&mut flags, "opt_level", "speed")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) { "true" } else { "false" },
    )?;
    let builder = cranelift_native::builder().map_err(|e| Fail::Codegen(e.to_string()))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| Fail::Codegen(e.to_string()))
}

const TRUSTED: MemFlagsData = MemFlagsData::trusted();
const PAYLOAD_MASK: i64 = (1 << 47) - 1;

fn tag_bits(tag: Tag) -> u64 {
    NEG_NAN_BITS | (u64::from(tag as u8) << 47)
}

/// The value tag of a GC type.
fn gc_tag(t: Ty) -> Option<Tag> {
    match t {
        Ty::Str => Some(Tag::Str),
        Ty::Tab => Some(Tag::Table),
        Ty::Fun => Some(Tag::Function),
        _ => None,
    }
}

fn pri_bits(t: Ty) -> Option<u64> {
    match t {
        Ty::Nil => Some(Value::NIL.bits()),
        Ty::False => Some(Value::FALSE.bits()),
        Ty::True => Some(Value::TRUE.bits()),
        _ => None,
    }
}

/// The write barrier for a store of `v` into table `t` (an unboxed pointer), called
/// from traces when the table is black. Inert (JIT.md J1): it only relinks the
/// table into the collector's gray list.
unsafe extern "C" fn tbar_helper(st: *mut State, t: u64, v: u64) {
    let tv = Value::from_bits(tag_bits(Tag::Table) | t);
    if let Some(t) = tv.as_table() {
        // SAFETY: `st` is the state that entered the trace (`jit::enter` passes it and
        // holds no other reference while the trace runs).
        let st = unsafe { &mut *st };
        crate::gc::barrier_back(st, t, Value::from_bits(v));
    }
}

/// `a ^ b` for traces: C's `pow` as the interpreter computes it. Inert (J1).
extern "C" fn pow_helper(a: f64, b: f64) -> f64 {
    crate::number::lua_pow(a, b)
}

/// Where a register's value lives on the trace.
#[derive(Clone, Copy, PartialEq)]
enum Home {
    /// Loaded (and checked) at each use; stored at the back-edge when written.
    Stack,
    /// Read and never written: loaded once in the pre-header.
    Invariant,
    /// Read, and written with the same number type: a variable across iterations.
    Carried(Variable),
}

struct Gen<'a, 'b> {
    b: FunctionBuilder<'b>,
    ir: &'a Ir,
    base: cl::Value,
    hot: cl::Value,
    state: cl::Value,
    func: cl::Value,
    /// Each instruction's value (unboxed: f64 numbers, i32 ints, i64 pointers).
    vals: Vec<Option<cl::Value>>,
    /// Each register's home, and the pre-header value of invariant ones.
    homes: Vec<Home>,
    invariant: Vec<Option<cl::Value>>,
    exits: Vec<Option<cl::Block>>,
    entry_exit: Option<cl::Block>,
    /// Emitting the pre-roll: guards leave through the entry exit.
    hoisting: bool,
    info: &'a TraceInfo,
}

impl Gen<'_, '_> {
    fn slot_addr(&mut self, slot: i64) -> (cl::Value, i32) {
        (self.base, (slot * 8) as i32)
    }

    /// The unboxed value of a ref.
    fn val(&mut self, r: Ref) -> Result<cl::Value, Fail> {
        if let Some(i) = r.ins_index() {
            return self
                .vals
                .get(i)
                .copied()
                .flatten()
                .ok_or(Fail::Nyi("operand without a value"));
        }
        let k = self.ir.konst.as_slice().get((Ref::BIAS - 1 - r.0) as usize).copied();
        Ok(match k.ok_or(Fail::Nyi("unknown constant"))? {
            Konst::Num(n) => self.b.ins().f64const(n),
            Konst::Int(i) => self.b.ins().iconst(types::I32, i64::from(i)),
            Konst::Null => self.b.ins().iconst(types::I64, 0),
            Konst::Str(bits) => self.b.ins().iconst(types::I64, (bits as i64) & PAYLOAD_MASK),
            Konst::Pri(t) => self.b.ins().iconst(types::I64, pri_bits(t).unwrap_or(0) as i64),
        })
    }

    /// The boxed value (a `Value`'s bits) of a ref, to store into a slot.
    fn boxed(&mut self, r: Ref) -> Result<cl::Value, Fail> {
        let t = self.ir.ty(r);
        if let Some(bits) = pri_bits(t) {
            return Ok(self.b.ins().iconst(types::I64, bits as i64));
        }
        if r.is_const() {
            if let Some(n) = self.ir.num_const(r) {
                return Ok(self.b.ins().iconst(types::I64, Value::number(n).bits() as i64));
            }
        }
        let v = self.val(r)?;
        Ok(match t {
            Ty::Num => self.b.ins().bitcast(types::I64, MemFlagsData::new(), v),
            Ty::Int => {
                let f = self.b.ins().fcvt_from_sint(types::F64, v);
                self.b.ins().bitcast(types::I64, MemFlagsData::new(), f)
            }
            _ => match gc_tag(t) {
                Some(tag) => self.b.ins().bor_imm_u(v, tag_bits(tag) as i64),
                None => return Err(Fail::Nyi("boxing a raw pointer")),
            },
        })
    }

    /// Check that loaded bits `x` have type `t`: the condition (true when it holds)
    /// and the unboxed value.
    fn check_type(&mut self, x: cl::Value, t: Ty) -> Result<(cl::Value, cl::Value), Fail> {
        let ins = self.b.ins();
        if t == Ty::Num {
            let ok = ins.icmp_imm_u(IntCC::UnsignedLessThanOrEqual, x, NEG_NAN_BITS as i64);
            let v = self.b.ins().bitcast(types::F64, MemFlagsData::new(), x);
            return Ok((ok, v));
        }
        if let Some(bits) = pri_bits(t) {
            let ok = ins.icmp_imm_u(IntCC::Equal, x, bits as i64);
            return Ok((ok, x));
        }
        let tag = gc_tag(t).ok_or(Fail::Nyi("load of an unsupported type"))?;
        let hi = ins.ushr_imm_u(x, 47);
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, hi, (tag_bits(tag) >> 47) as i64);
        let v = self.b.ins().band_imm_u(x, PAYLOAD_MASK);
        Ok((ok, v))
    }

    /// `number::floor` inline: below 2^52 in magnitude (and not zero, which keeps
    /// its sign) the truncation adjusted down for negative fractions; NaN,
    /// infinities and large values are their own floor. No libcall (Cranelift's
    /// `floor` needs one without SSE4.1, and calls by relocation are refused).
    fn floor(&mut self, q: cl::Value) -> cl::Value {
        let ins = self.b.ins();
        let absq = ins.fabs(q);
        let limit = self.b.ins().f64const(4_503_599_627_370_496.0);
        let small = self.b.ins().fcmp(FloatCC::LessThan, absq, limit);
        let zero = self.b.ins().f64const(0.0);
        let nonzero = self.b.ins().fcmp(FloatCC::NotEqual, q, zero);
        let use_t = self.b.ins().band(small, nonzero);
        let i = self.b.ins().fcvt_to_sint_sat(types::I64, q);
        let t = self.b.ins().fcvt_from_sint(types::F64, i);
        let above = self.b.ins().fcmp(FloatCC::GreaterThan, t, q);
        let one = self.b.ins().f64const(1.0);
        let down = self.b.ins().fsub(t, one);
        let adj = self.b.ins().select(above, down, t);
        self.b.ins().select(use_t, adj, q)
    }

    /// Go on when `ok` holds, else leave through snapshot `snap`.
    fn guard(&mut self, ok: cl::Value, snap: u16) -> Result<(), Fail> {
        if self.hoisting {
            // A loop-invariant guard, checked once before the loop: nothing is
            // written yet, so failing leaves as a pre-header check does.
            self.entry_guard(ok);
            return Ok(());
        }
        let s = *self
            .ir
            .snaps
            .as_slice()
            .get(snap as usize)
            .ok_or(Fail::Nyi("guard without a snapshot"))?;
        let ok = match self.info.stress {
            Some(p) if Some(s.pc) != self.info.end_pc => {
                // xorshift64 in memory; exit when the low 4 bits are zero.
                let addr = self.b.ins().iconst(types::I64, p as i64);
                let mut x = self.b.ins().load(types::I64, TRUSTED, addr, 0);
                for (sh, left) in [(13, true), (7, false), (17, true)] {
                    let y = if left {
                        self.b.ins().ishl_imm_u(x, sh)
                    } else {
                        self.b.ins().ushr_imm_u(x, sh)
                    };
                    x = self.b.ins().bxor(x, y);
                }
                self.b.ins().store(TRUSTED, x, addr, 0);
                let low = self.b.ins().band_imm_u(x, 15);
                let keep = self.b.ins().icmp_imm_u(IntCC::NotEqual, low, 0);
                self.b.ins().band(ok, keep)
            }
            _ => ok,
        };
        let exit = match self.exits[snap as usize] {
            Some(e) => e,
            None => {
                let e = self.b.create_block();
                self.b.set_cold_block(e);
                self.exits[snap as usize] = Some(e);
                e
            }
        };
        let cont = self.b.create_block();
        self.b.ins().brif(ok, cont, &[], exit, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        Ok(())
    }

    /// A pre-header check: leave with nothing written when `ok` fails.
    fn entry_guard(&mut self, ok: cl::Value) {
        let exit = match self.entry_exit {
            Some(e) => e,
            None => {
                let e = self.b.create_block();
                self.b.set_cold_block(e);
                self.entry_exit = Some(e);
                e
            }
        };
        let cont = self.b.create_block();
        self.b.ins().brif(ok, cont, &[], exit, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Store the registers kept in variables that `skip` does not cover.
    fn store_carried(&mut self, skip: &[u16]) {
        for slot in 0..self.homes.len() {
            if let Home::Carried(var) = self.homes[slot] {
                if skip.contains(&(slot as u16)) {
                    continue;
                }
                let v = self.b.use_var(var);
                let bits = self.b.ins().bitcast(types::I64, MemFlagsData::new(), v);
                let (p, off) = self.slot_addr(slot as i64);
                self.b.ins().store(TRUSTED, bits, p, off);
            }
        }
    }

    fn store_slot(&mut self, slot: u16, r: Ref) -> Result<(), Fail> {
        let bits = self.boxed(r)?;
        let (p, off) = self.slot_addr(i64::from(slot));
        self.b.ins().store(TRUSTED, bits, p, off);
        Ok(())
    }

    fn ins(&mut self, i: usize, x: Ins, loop_block: cl::Block) -> Result<(), Fail> {
        let v = match x.op {
            Op::NOP => None,
            Op::SLOAD => {
                let slot = i64::from(x.a.0) - 1;
                match self.homes.get(slot.max(0) as usize).copied().filter(|_| slot >= 0) {
                    // The frame's function, an argument of the trace.
                    _ if slot < 0 => Some(self.func),
                    Some(Home::Carried(var)) => Some(self.b.use_var(var)),
                    Some(Home::Invariant) => self.invariant[slot as usize],
                    _ => {
                        let (p, off) = self.slot_addr(slot);
                        let bits = self.b.ins().load(types::I64, TRUSTED, p, off);
                        if x.guard {
                            let (ok, v) = self.check_type(bits, x.ty)?;
                            self.guard(ok, x.snap)?;
                            Some(v)
                        } else {
                            return Err(Fail::Nyi("unguarded slot load"));
                        }
                    }
                }
            }
            Op::FLOAD => {
                let obj = self.val(x.a)?;
                let v = match x.b.0 {
                    f if f == Field::Metatable as u16 => {
                        self.b
                            .ins()
                            .load(types::I64, TRUSTED, obj, layout::table::METATABLE as i32)
                    }
                    f if f == Field::Array as u16 => {
                        self.b
                            .ins()
                            .load(types::I64, TRUSTED, obj, layout::table::ARRAY_PTR as i32)
                    }
                    f if f == Field::ArraySize as u16 => {
                        self.b
                            .ins()
                            .load(types::I32, TRUSTED, obj, layout::table::ARRAY_LEN as i32)
                    }
                    f if f >= FIELD_UPVAL => {
                        let off = layout::func::UPVALS + 8 * usize::from(f - FIELD_UPVAL);
                        self.b.ins().load(types::I64, TRUSTED, obj, off as i32)
                    }
                    _ => return Err(Fail::Nyi("field")),
                };
                Some(v)
            }
            Op::ULOAD | Op::ALOAD => {
                let p = self.val(x.a)?;
                let addr = if x.op == Op::ULOAD {
                    self.b.ins().load(types::I64, TRUSTED, p, layout::upval::V as i32)
                } else {
                    p
                };
                let bits = self.b.ins().load(types::I64, TRUSTED, addr, 0);
                let (ok, v) = self.check_type(bits, x.ty)?;
                self.guard(ok, x.snap)?;
                Some(v)
            }
            Op::AREF => {
                let arr = self.val(x.a)?;
                let idx = self.val(x.b)?;
                let idx = self.b.ins().sextend(types::I64, idx);
                let off = self.b.ins().ishl_imm_u(idx, 3);
                let p = self.b.ins().iadd(arr, off);
                Some(self.b.ins().iadd_imm_s(p, -8))
            }
            Op::ASTORE => {
                let p = self.val(x.a)?;
                let bits = self.boxed(x.b)?;
                self.b.ins().store(TRUSTED, bits, p, 0);
                None
            }
            Op::TBAR => {
                // The value stored is the next instruction's (the recorder emits
                // `TBAR t` right before `ASTORE aref v`); numbers and primitives need
                // no barrier.
                let next = self.ir.ins.as_slice().get(i + 1).copied();
                let Some(st) = next.filter(|n| n.op == Op::ASTORE) else {
                    return Err(Fail::Nyi("TBAR without its store"));
                };
                if gc_tag(self.ir.ty(st.b)).is_some() {
                    let t = self.val(x.a)?;
                    let v = self.boxed(st.b)?;
                    let marked = self
                        .b
                        .ins()
                        .uload8(types::I32, TRUSTED, t, layout::header::MARKED as i32);
                    let black = self.b.ins().band_imm_u(marked, i64::from(crate::gc::mark::BLACK));
                    let call = self.b.create_block();
                    let cont = self.b.create_block();
                    self.b.set_cold_block(call);
                    self.b.ins().brif(black, call, &[], cont, &[]);
                    self.b.seal_block(call);
                    self.b.switch_to_block(call);
                    let mut sig = Signature::new(self.b.func.signature.call_conv);
                    for _ in 0..3 {
                        sig.params.push(AbiParam::new(types::I64));
                    }
                    let sig = self.b.import_signature(sig);
                    let f = self
                        .b
                        .ins()
                        .iconst(types::I64, tbar_helper as *const () as usize as i64);
                    let state = self.state;
                    self.b.ins().call_indirect(sig, f, &[state, t, v]);
                    self.b.ins().jump(cont, &[]);
                    self.b.seal_block(cont);
                    self.b.switch_to_block(cont);
                }
                None
            }
            Op::ADD | Op::SUB | Op::MUL | Op::DIV => {
                let (a, c) = (self.val(x.a)?, self.val(x.b)?);
                let ins = self.b.ins();
                Some(match x.op {
                    Op::ADD => ins.fadd(a, c),
                    Op::SUB => ins.fsub(a, c),
                    Op::MUL => ins.fmul(a, c),
                    _ => ins.fdiv(a, c),
                })
            }
            Op::MOD => {
                // a - floor(a/b) * b, as `number::lua_mod` computes it (no fused
                // multiply-add), so the results match the interpreter's bit for bit.
                let (a, c) = (self.val(x.a)?, self.val(x.b)?);
                let q = self.b.ins().fdiv(a, c);
                let f = self.floor(q);
                let m = self.b.ins().fmul(f, c);
                Some(self.b.ins().fsub(a, m))
            }
            Op::POW => {
                let (a, c) = (self.val(x.a)?, self.val(x.b)?);
                let mut sig = Signature::new(self.b.func.signature.call_conv);
                sig.params.push(AbiParam::new(types::F64));
                sig.params.push(AbiParam::new(types::F64));
                sig.returns.push(AbiParam::new(types::F64));
                let sig = self.b.import_signature(sig);
                let f = self.b.ins().iconst(types::I64, pow_helper as *const () as usize as i64);
                let call = self.b.ins().call_indirect(sig, f, &[a, c]);
                Some(self.b.inst_results(call)[0])
            }
            Op::NEG => {
                let a = self.val(x.a)?;
                Some(self.b.ins().fneg(a))
            }
            Op::CONV => {
                let a = self.val(x.a)?;
                let n = self.b.ins().fcvt_to_sint_sat(types::I32, a);
                let back = self.b.ins().fcvt_from_sint(types::F64, n);
                let ok = self.b.ins().fcmp(FloatCC::Equal, back, a);
                self.guard(ok, x.snap)?;
                Some(n)
            }
            Op::LT | Op::GE | Op::LE | Op::GT | Op::ULT | Op::UGE | Op::ULE | Op::UGT => {
                let (a, c) = (self.val(x.a)?, self.val(x.b)?);
                let cc = match x.op {
                    Op::LT => FloatCC::LessThan,
                    Op::GE => FloatCC::GreaterThanOrEqual,
                    Op::LE => FloatCC::LessThanOrEqual,
                    Op::GT => FloatCC::GreaterThan,
                    Op::ULT => FloatCC::UnorderedOrLessThan,
                    Op::UGE => FloatCC::UnorderedOrGreaterThanOrEqual,
                    Op::ULE => FloatCC::UnorderedOrLessThanOrEqual,
                    _ => FloatCC::UnorderedOrGreaterThan,
                };
                let ok = self.b.ins().fcmp(cc, a, c);
                self.guard(ok, x.snap)?;
                None
            }
            Op::EQ | Op::NE => {
                let (a, c) = (self.val(x.a)?, self.val(x.b)?);
                let ok = if self.ir.ty(x.a) == Ty::Num {
                    let cc = if x.op == Op::EQ {
                        FloatCC::Equal
                    } else {
                        FloatCC::NotEqual
                    };
                    self.b.ins().fcmp(cc, a, c)
                } else {
                    let cc = if x.op == Op::EQ { IntCC::Equal } else { IntCC::NotEqual };
                    self.b.ins().icmp(cc, a, c)
                };
                self.guard(ok, x.snap)?;
                None
            }
            Op::ABC => {
                // 1 <= idx <= size, as one unsigned compare: idx - 1 < size.
                let (size, idx) = (self.val(x.a)?, self.val(x.b)?);
                let i = self.b.ins().iadd_imm_s(idx, -1);
                let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, i, size);
                self.guard(ok, x.snap)?;
                None
            }
            Op::LOOP => {
                self.back_edge(loop_block)?;
                None
            }
        };
        self.vals[i] = v;
        Ok(())
    }

    /// The back-edge: registers to their homes, the budget charge, the jump back.
    fn back_edge(&mut self, loop_block: cl::Block) -> Result<(), Fail> {
        let last = *self
            .ir
            .snaps
            .as_slice()
            .last()
            .ok_or(Fail::Nyi("loop without a snapshot"))?;
        let entries = &self.ir.map.as_slice()[last.start as usize..last.start as usize + last.len as usize];
        let mut carried = Vec::new();
        for e in entries {
            match self.homes.get(e.slot as usize).copied() {
                Some(Home::Carried(var)) => {
                    let v = self.val(e.r)?;
                    carried.push((var, v));
                }
                _ => self.store_slot(e.slot, e.r)?,
            }
        }
        for (var, v) in carried {
            self.b.def_var(var, v);
        }
        let cd = self
            .b
            .ins()
            .load(types::I64, TRUSTED, self.hot, layout::hot::COUNTDOWN as i32);
        let left = self.b.ins().iadd_imm_s(cd, -i64::from(self.info.units));
        self.b
            .ins()
            .store(TRUSTED, left, self.hot, layout::hot::COUNTDOWN as i32);
        let out = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, left, 0);
        let budget = self.b.create_block();
        self.b.set_cold_block(budget);
        self.b.ins().brif(out, budget, &[], loop_block, &[]);
        self.b.seal_block(budget);
        self.b.switch_to_block(budget);
        self.store_carried(&[]);
        let code = self.b.ins().iconst(types::I32, i64::from(EXIT_BUDGET as i32));
        self.b.ins().return_(&[code]);
        Ok(())
    }
}

impl Backend {
    /// Give back the contexts' buffers, so what the backend keeps between compiles
    /// stays within [`KEPT_BYTES`] whatever size the last trace had.
    pub fn forget_buffers(&mut self) {
        self.ctx = Context::new();
        self.fctx = FunctionBuilderContext::new();
    }

    /// Compile a finished trace's IR to machine code (position-independent bytes).
    pub fn compile(&mut self, ir: &Ir, info: &TraceInfo) -> Result<Output, Fail> {
        if self.isa.is_none() {
            self.isa = Some(host_isa()?);
        }
        let Some(isa) = self.isa.as_ref() else {
            return Err(Fail::Codegen("no ISA".into()));
        };
        let mut sig = Signature::new(isa.default_call_conv());
        for _ in 0..4 {
            sig.params.push(AbiParam::new(types::I64));
        }
        sig.returns.push(AbiParam::new(types::I32));
        self.ctx.clear();
        self.ctx.func = cl::Function::with_name_signature(UserFuncName::user(0, 0), sig);
        self.ctx.set_disasm(info.want_text);

        // Homes: which registers the trace reads before writing, and which of those
        // it writes back with the same number type at the back-edge.
        let ins = ir.ins.as_slice();
        let last = *ir
            .snaps
            .as_slice()
            .last()
            .ok_or(Fail::Nyi("trace without a snapshot"))?;
        let final_map = &ir.map.as_slice()[last.start as usize..last.start as usize + last.len as usize];
        let nslots = ins
            .iter()
            .filter(|x| x.op == Op::SLOAD)
            .map(|x| x.a.0 as usize)
            .chain(final_map.iter().map(|e| e.slot as usize + 1))
            .max()
            .unwrap_or(0);
        let mut homes = vec![Home::Stack; nslots];
        let mut read: Vec<Option<Ty>> = vec![None; nslots];
        for x in ins.iter().filter(|x| x.op == Op::SLOAD && x.a.0 >= 1 && x.guard) {
            read[x.a.0 as usize - 1] = Some(x.ty);
        }

        let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let mut g = Gen {
            b,
            ir,
            base: params[0],
            hot: params[1],
            state: params[2],
            func: params[3],
            vals: vec![None; ins.len()],
            homes: Vec::new(),
            invariant: vec![None; nslots],
            exits: vec![None; ir.snaps.len()],
            entry_exit: None,
            hoisting: false,
            info,
        };
        // The pre-header: load and check what the loop reads first.
        for (slot, t) in read.iter().enumerate() {
            let Some(t) = *t else { continue };
            let written = final_map.iter().find(|e| e.slot as usize == slot);
            let home = match written {
                None => Home::Invariant,
                Some(e) if t == Ty::Num && ir.ty(e.r) == Ty::Num => Home::Carried(g.b.declare_var(types::F64)),
                Some(_) => continue,
            };
            let (p, off) = g.slot_addr(slot as i64);
            let bits = g.b.ins().load(types::I64, TRUSTED, p, off);
            let (ok, v) = g.check_type(bits, t)?;
            g.entry_guard(ok);
            match home {
                Home::Carried(var) => g.b.def_var(var, v),
                _ => g.invariant[slot] = Some(v),
            }
            homes[slot] = home;
        }
        g.homes = homes;
        let loop_block = g.b.create_block();
        // The pre-roll: invariant loads, arithmetic and guards, once.
        let hoisted = ir.invariant();
        g.hoisting = true;
        for (i, x) in ins.iter().enumerate() {
            if hoisted[i] {
                g.ins(i, *x, loop_block)?;
            }
        }
        g.hoisting = false;
        g.b.ins().jump(loop_block, &[]);
        g.b.switch_to_block(loop_block);
        for (i, x) in ins.iter().enumerate() {
            if hoisted[i] {
                continue;
            }
            g.ins(i, *x, loop_block)?;
            if x.op == Op::LOOP {
                break;
            }
        }
        // The exit blocks.
        for (n, e) in g.exits.clone().into_iter().enumerate() {
            let Some(block) = e else { continue };
            g.b.switch_to_block(block);
            let s = ir.snaps.as_slice()[n];
            let entries = &ir.map.as_slice()[s.start as usize..s.start as usize + s.len as usize];
            let slots: Vec<u16> = entries.iter().map(|e| e.slot).collect();
            for e in entries {
                g.store_slot(e.slot, e.r)?;
            }
            g.store_carried(&slots);
            let code = g.b.ins().iconst(types::I32, n as i64);
            g.b.ins().return_(&[code]);
        }
        if let Some(block) = g.entry_exit {
            g.b.switch_to_block(block);
            let code = g.b.ins().iconst(types::I32, i64::from(EXIT_ENTRY as i32));
            g.b.ins().return_(&[code]);
        }
        g.b.seal_all_blocks();
        g.b.finalize(isa.frontend_config());

        let mut ctrl = cranelift_codegen::control::ControlPlane::default();
        let compiled = self
            .ctx
            .compile(isa.as_ref(), &mut ctrl)
            .map_err(|e| Fail::Codegen(format!("{:?}", e.inner)))?;
        if !compiled.buffer.relocs().is_empty() || !compiled.buffer.traps().is_empty() {
            return Err(Fail::Nyi("code with relocations or traps"));
        }
        Ok(Output {
            code: compiled.code_buffer().to_vec(),
            // Cranelift's listing without its unwind-info pseudo-instructions.
            text: compiled.vcode.as_ref().map(|t| {
                t.lines()
                    .filter(|l| !l.trim_start().starts_with("unwind "))
                    .map(|l| format!("{l}\n"))
                    .collect()
            }),
        })
    }
}
