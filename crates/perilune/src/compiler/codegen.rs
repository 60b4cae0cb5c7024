//! Code generation state for one function being compiled, and the expression
//! machinery the parser drives.
//!
//! This module owns:
//! - [`FuncState`]: the growing bytecode, line info, constants (with an accounted
//!   hash for deduplication), upvalue descriptors, local variable debug info, the
//!   register allocator (`freereg`, `nactvar`, `framesize`) and block scopes.
//! - [`Exp`]: an expression descriptor. An expression is kept in a lazy form
//!   (constant, local, upvalue, global, indexed, call, "instruction whose destination
//!   is still open", comparison jump) until the parser knows where its value must go,
//!   so `local x = a + b` becomes one `ADDVV` straight into `x`.
//! - Jump lists: unpatched jumps are chained through their own `D` fields; an
//!   expression carries a list of jumps taken when it is true (`t`) and when it is
//!   false (`f`). `ISTC`/`ISFC` before a jump mean "copy the tested value when
//!   jumping"; their destination register is filled in (or they are downgraded to
//!   `IST`/`ISF`) when the list is patched.
//!
//! All storage whose size depends on the input is in [`HVec`]s, so the memory limit
//! applies to compilation too.

use super::bytecode::*;
use crate::alloc::HVec;
use crate::func::UpvalDesc;
use crate::object::{GcProto, GcRef, GcStr};
use crate::value::Value;

/// End of a jump list.
pub const NO_JMP: u32 = u32::MAX;
/// Placeholder destination register of an `ISTC`/`ISFC` not yet patched.
pub const NO_REG: u32 = 255;
/// The `D` field marking the last jump of a list (an offset of -1, a jump to itself,
/// which never occurs in a pending list).
const LIST_END_D: u32 = JUMP_BIAS - 1;

pub const MAX_LOCALS: u32 = 200;
pub const MAX_UPVALS: usize = 60;
pub const MAX_CONSTS: usize = 65536;

/// Where an indexed expression's key is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Key {
    Reg(u32),
    /// A string constant index (<= 255).
    Str(u32),
    /// An integer literal 0..=255.
    Byte(u32),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EKind {
    Void,
    Nil,
    True,
    False,
    Num(f64),
    Str(GcRef<GcStr>),
    /// A local variable in this register.
    Local(u32),
    Upval(u32),
    Global(GcRef<GcStr>),
    Indexed {
        obj: u32,
        key: Key,
    },
    /// A `CALL`/`VARG` at `pc` whose results start at `base` (which is reserved).
    Call {
        pc: u32,
        base: u32,
    },
    /// The value is in this register.
    NonReloc(u32),
    /// The instruction at this pc computes the value; its `A` is still to be set.
    Reloc(u32),
    /// A comparison whose `JMP` at this pc is taken when the expression is true.
    Jmp(u32),
}

/// An expression descriptor with its true/false jump lists.
#[derive(Clone, Copy, Debug)]
pub struct Exp {
    pub k: EKind,
    pub t: u32,
    pub f: u32,
}

impl Exp {
    pub fn new(k: EKind) -> Exp {
        Exp {
            k,
            t: NO_JMP,
            f: NO_JMP,
        }
    }
    pub fn has_jumps(&self) -> bool {
        self.t != self.f
    }
    /// A number constant without pending jumps.
    pub fn num_const(&self) -> Option<f64> {
        match self.k {
            EKind::Num(n) if !self.has_jumps() => Some(n),
            _ => None,
        }
    }
    pub fn is_const_nojump(&self) -> bool {
        !self.has_jumps()
            && matches!(
                self.k,
                EKind::Nil | EKind::True | EKind::False | EKind::Num(_) | EKind::Str(_)
            )
    }
}

/// Debug and scoping information about one local variable of a function.
#[derive(Clone, Copy)]
pub struct VarInfo {
    pub name: GcRef<GcStr>,
    pub start_pc: u32,
    pub end_pc: u32,
    pub reg: u32,
    /// Captured as an upvalue by an inner function.
    pub captured: bool,
}

/// A lexical block being compiled.
#[derive(Clone, Copy)]
pub struct Block {
    /// Active locals when the block started.
    pub nactvar: u32,
    /// First pending goto/break created inside the block.
    pub goto_start: usize,
    /// First label defined inside the block.
    pub label_start: usize,
    /// Breaks inside resolve at the end of this block.
    pub is_loop: bool,
}

/// Why compilation stopped inside the code generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgError {
    Oom,
    /// Registers exhausted ("function or expression too complex").
    Registers,
    /// More than `MAX_CONSTS` constants.
    Constants,
    /// A jump offset does not fit in 16 bits.
    JumpTooLong,
    /// Too many instructions or child functions.
    CodeSize,
}

impl From<crate::alloc::OutOfMemory> for CgError {
    fn from(_: crate::alloc::OutOfMemory) -> Self {
        CgError::Oom
    }
}

pub type CgResult<T> = Result<T, CgError>;

pub struct FuncState {
    pub code: HVec<Ins>,
    pub lines: HVec<u32>,
    pub consts: HVec<Value>,
    /// Open-addressing hash of `consts` keyed by value bits; entries are index + 1.
    khash: HVec<u32>,
    pub protos: HVec<GcRef<GcProto>>,
    pub upvals: HVec<UpvalDesc>,
    pub upval_names: HVec<GcRef<GcStr>>,
    /// Every local ever declared in this function, in declaration order.
    pub vars: HVec<VarInfo>,
    /// Indices into `vars` of the active locals (and, past `nactvar`, of locals
    /// declared but not yet in scope); position = register.
    pub actvars: HVec<u32>,
    pub blocks: HVec<Block>,
    pub nactvar: u32,
    pub freereg: u32,
    pub framesize: u32,
    /// Calls whose arguments are being compiled. LuaJIT 2.1 (64-bit, two-slot frames)
    /// keeps one more slot below each call's arguments than Perilune needs; register
    /// limits count these slots too, so that "function or expression too complex"
    /// comes at the same nesting as in LuaJIT.
    pub open_calls: u32,
    /// Jumps waiting to target the next emitted instruction.
    pub jpc: u32,
    /// Last pc that is a jump target (so a `KNIL` there must not be merged).
    pub lasttarget: u32,
    /// Line used for emitted instructions.
    pub line: u32,
    pub line_defined: u32,
    pub num_params: u32,
    pub is_vararg: bool,
    /// First label (in the parser's label list) belonging to this function.
    pub label_base: usize,
}

impl FuncState {
    pub fn new(h: crate::alloc::HeapRef, line_defined: u32, label_base: usize) -> FuncState {
        FuncState {
            code: HVec::new(h),
            lines: HVec::new(h),
            consts: HVec::new(h),
            khash: HVec::new(h),
            protos: HVec::new(h),
            upvals: HVec::new(h),
            upval_names: HVec::new(h),
            vars: HVec::new(h),
            actvars: HVec::new(h),
            blocks: HVec::new(h),
            nactvar: 0,
            freereg: 0,
            framesize: 0,
            open_calls: 0,
            jpc: NO_JMP,
            lasttarget: 0,
            line: line_defined,
            line_defined,
            num_params: 0,
            is_vararg: false,
            label_base,
        }
    }

    #[inline]
    pub fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    // --- Emitting ---------------------------------------------------------------------

    /// Append an instruction; pending jumps to "here" now target it.
    pub fn emit(&mut self, ins: Ins) -> CgResult<u32> {
        let pc = self.pc();
        if pc >= (1 << 26) {
            return Err(CgError::CodeSize);
        }
        let pending = std::mem::replace(&mut self.jpc, NO_JMP);
        self.patch_val(pending, pc, NO_REG, pc)?;
        self.code.push(ins)?;
        self.lines.push(self.line)?;
        Ok(pc)
    }
    pub fn emit_ad(&mut self, op: Op, a: u32, d: u32) -> CgResult<u32> {
        self.emit(ins_ad(op, a, d))
    }
    pub fn emit_abc(&mut self, op: Op, a: u32, b: u32, c: u32) -> CgResult<u32> {
        self.emit(ins_abc(op, a, b, c))
    }

    fn op_at(&self, pc: u32) -> Option<Op> {
        self.code.get(pc as usize).and_then(|&i| Op::from_u8(op_byte(i)))
    }
    fn ins_at(&self, pc: u32) -> Ins {
        self.code.get(pc as usize).copied().unwrap_or(0)
    }
    fn set_ins(&mut self, pc: u32, ins: Ins) {
        if let Some(slot) = self.code.get_mut(pc as usize) {
            *slot = ins;
        }
    }
    pub fn set_a(&mut self, pc: u32, a: u32) {
        let i = self.ins_at(pc);
        self.set_ins(pc, with_a(i, a));
    }
    pub fn set_b(&mut self, pc: u32, b: u32) {
        let i = self.ins_at(pc);
        self.set_ins(pc, (i & 0x00ff_ffff) | (b << 24));
    }
    pub fn set_op(&mut self, pc: u32, op: Op) {
        let i = self.ins_at(pc);
        self.set_ins(pc, (i & !0xff) | op as u32);
    }
    pub fn arg_c_at(&self, pc: u32) -> u32 {
        arg_c(self.ins_at(pc))
    }
    pub fn op_is(&self, pc: u32, op: Op) -> bool {
        self.op_at(pc) == Some(op)
    }
    pub fn set_line(&mut self, pc: u32, line: u32) {
        if let Some(l) = self.lines.get_mut(pc as usize) {
            *l = line;
        }
    }

    // --- Registers ----------------------------------------------------------------------

    pub fn bump(&mut self, n: u32) -> CgResult<()> {
        let top = self.freereg + n;
        // LuaJIT's frames hold at most MAX_SLOTS - 1 registers.
        if top + self.open_calls >= MAX_SLOTS {
            return Err(CgError::Registers);
        }
        if top > self.framesize {
            self.framesize = top;
        }
        Ok(())
    }
    pub fn reserve(&mut self, n: u32) -> CgResult<()> {
        self.bump(n)?;
        self.freereg += n;
        Ok(())
    }
    /// Release a temporary register (locals are never released here). Only the top
    /// register can be released; a temporary below others (a table constructor's value
    /// under a computed key) stays reserved until the statement or item resets
    /// `freereg`.
    pub fn free_reg(&mut self, r: u32) {
        if r >= self.nactvar && r + 1 == self.freereg {
            self.freereg -= 1;
        }
    }
    pub fn free_exp(&mut self, e: &Exp) {
        if let EKind::NonReloc(r) = e.k {
            self.free_reg(r);
        }
    }
    /// Free two registers, the higher first.
    pub fn free2(&mut self, a: u32, b: u32) {
        if a > b {
            self.free_reg(a);
            self.free_reg(b);
        } else {
            self.free_reg(b);
            self.free_reg(a);
        }
    }

    // --- Constants --------------------------------------------------------------------

    fn const_index(&mut self, v: Value) -> CgResult<u32> {
        let bits = v.bits();
        let mask = self.khash.len().wrapping_sub(1);
        if !self.khash.is_empty() {
            let mut i = hash_bits(bits) & mask;
            loop {
                let e = self.khash[i];
                if e == 0 {
                    break;
                }
                if self.consts[(e - 1) as usize].bits() == bits {
                    return Ok(e - 1);
                }
                i = (i + 1) & mask;
            }
        }
        let n = self.consts.len();
        if n >= MAX_CONSTS {
            return Err(CgError::Constants);
        }
        if (n + 1) * 2 > self.khash.len() {
            self.grow_khash()?;
        }
        self.consts.push(v)?;
        self.khash_insert(bits, n as u32 + 1);
        Ok(n as u32)
    }
    fn khash_insert(&mut self, bits: u64, entry: u32) {
        let mask = self.khash.len() - 1;
        let mut i = hash_bits(bits) & mask;
        while self.khash[i] != 0 {
            i = (i + 1) & mask;
        }
        self.khash[i] = entry;
    }
    fn grow_khash(&mut self) -> CgResult<()> {
        let size = (self.khash.len() * 2).max(16);
        let fresh = HVec::filled(self.khash.heap(), size, 0u32)?;
        self.khash = fresh;
        for i in 0..self.consts.len() {
            let bits = self.consts[i].bits();
            self.khash_insert(bits, i as u32 + 1);
        }
        Ok(())
    }
    /// A cdata literal of the FFI (`1LL`), loaded by `KCDATA`.
    pub fn const_cdata(&mut self, c: GcRef<crate::cdata::GcCdata>) -> CgResult<u32> {
        self.const_index(Value::cdata(c))
    }
    pub fn const_num(&mut self, n: f64) -> CgResult<u32> {
        self.const_index(Value::number(n))
    }
    pub fn const_str(&mut self, s: GcRef<GcStr>) -> CgResult<u32> {
        self.const_index(Value::string(s))
    }
    /// A template table for `TDUP`.
    pub fn const_table(&mut self, t: GcRef<crate::object::GcTable>) -> CgResult<u32> {
        self.const_index(Value::table(t))
    }

    // --- Jumps --------------------------------------------------------------------------

    /// Next jump in a pending list.
    fn jump_next(&self, pc: u32) -> u32 {
        let d = arg_d(self.ins_at(pc));
        if d == LIST_END_D {
            NO_JMP
        } else {
            (pc as i64 + 1 + d as i64 - JUMP_BIAS as i64) as u32
        }
    }
    /// Point the jump at `pc` to `target`.
    fn jump_set(&mut self, pc: u32, target: u32) -> CgResult<()> {
        let off = target as i64 - (pc as i64 + 1);
        if !(-(JUMP_BIAS as i64)..JUMP_BIAS as i64).contains(&off) {
            return Err(CgError::JumpTooLong);
        }
        let i = self.ins_at(pc);
        self.set_ins(pc, with_d(i, (off + JUMP_BIAS as i64) as u32));
        Ok(())
    }
    /// Emit an unconditional jump (to be patched) and return it as a list. Jumps that
    /// were about to target this instruction join its list instead, so they go
    /// straight to the final destination.
    pub fn jump(&mut self) -> CgResult<u32> {
        let pc = self.pc();
        if pc > 0 && self.lasttarget != pc && self.jpc == NO_JMP {
            // A block-closing `UCLO` that just falls through can do the jump itself.
            let prev = self.ins_at(pc - 1);
            if op_byte(prev) == Op::UCLO as u8 && arg_d(prev) == JUMP_BIAS {
                self.set_ins(pc - 1, with_d(prev, LIST_END_D));
                return Ok(pc - 1);
            }
        }
        let pending = std::mem::replace(&mut self.jpc, NO_JMP);
        let mut j = self.emit_ad(Op::JMP, self.freereg, LIST_END_D)?;
        self.concat(&mut j, pending)?;
        Ok(j)
    }
    /// Append list `l2` to list `l1`.
    pub fn concat(&mut self, l1: &mut u32, l2: u32) -> CgResult<()> {
        if l2 == NO_JMP {
            return Ok(());
        }
        if *l1 == NO_JMP {
            *l1 = l2;
            return Ok(());
        }
        let mut last = *l1;
        loop {
            let n = self.jump_next(last);
            if n == NO_JMP {
                break;
            }
            last = n;
        }
        self.jump_set(last, l2)
    }
    /// Fix the test before the jump at `pc`, if it is a test-and-copy: give it the
    /// destination `reg`, or drop the copy. `false` if the jump has no such test (it
    /// needs the value materialised at the target instead).
    fn patch_test_reg(&mut self, pc: u32, reg: u32) -> bool {
        if pc == 0 {
            return false;
        }
        let t = pc - 1;
        let i = self.ins_at(t);
        match Op::from_u8(op_byte(i)) {
            Some(op @ (Op::ISTC | Op::ISFC)) => {
                if reg != NO_REG && reg != arg_d(i) {
                    self.set_ins(t, with_a(i, reg));
                } else {
                    let plain = if op == Op::ISTC { Op::IST } else { Op::ISF };
                    self.set_ins(t, ins_ad(plain, 0, arg_d(i)));
                }
                true
            }
            // A constant operand of `and`/`or` (`nil and x`, `0 or x`) was loaded into
            // NO_REG just before its jump: give it the target register, or make the
            // load a no-op (a jump to the next instruction) when no value is needed.
            Some(Op::KPRI | Op::KSTR | Op::KNUM | Op::KSHORT) if arg_a(i) == NO_REG => {
                if reg != NO_REG {
                    self.set_ins(t, with_a(i, reg));
                } else {
                    self.set_ins(t, ins_ad(Op::JMP, self.freereg, JUMP_BIAS));
                }
                true
            }
            _ => false,
        }
    }
    /// Turn every test-and-copy of a list into a plain test.
    pub fn drop_values(&mut self, mut list: u32) {
        while list != NO_JMP {
            self.patch_test_reg(list, NO_REG);
            list = self.jump_next(list);
        }
    }
    /// Does some jump of the list need its value produced at the target?
    fn need_value(&self, mut list: u32) -> bool {
        while list != NO_JMP {
            let op = if list > 0 { self.op_at(list - 1) } else { None };
            let carries_value = match op {
                Some(Op::ISTC | Op::ISFC) => true,
                Some(Op::KPRI | Op::KSTR | Op::KNUM | Op::KSHORT) => arg_a(self.ins_at(list - 1)) == NO_REG,
                _ => false,
            };
            if !carries_value {
                return true;
            }
            list = self.jump_next(list);
        }
        false
    }
    /// Patch a list: jumps with a test-and-copy go to `vtarget` copying into `reg`,
    /// the others to `dtarget`.
    pub fn patch_val(&mut self, mut list: u32, vtarget: u32, reg: u32, dtarget: u32) -> CgResult<()> {
        while list != NO_JMP {
            let next = self.jump_next(list);
            if self.patch_test_reg(list, reg) {
                self.jump_set(list, vtarget)?;
            } else {
                self.jump_set(list, dtarget)?;
            }
            list = next;
        }
        Ok(())
    }
    /// Make a list target the next instruction emitted.
    pub fn patch_here(&mut self, list: u32) -> CgResult<()> {
        self.lasttarget = self.pc();
        let mut jpc = self.jpc;
        self.concat(&mut jpc, list)?;
        self.jpc = jpc;
        Ok(())
    }
    /// Make a list target `target`.
    pub fn patch_to(&mut self, list: u32, target: u32) -> CgResult<()> {
        if target == self.pc() {
            self.patch_here(list)
        } else {
            self.patch_val(list, target, NO_REG, target)
        }
    }
    /// Patch a single jump instruction (not a list) to `target`.
    pub fn patch_ins(&mut self, pc: u32, target: u32) -> CgResult<()> {
        self.jump_set(pc, target)
    }

    // --- Expressions --------------------------------------------------------------------

    /// Bring a variable or call into a value form (constant, register or reloc).
    pub fn discharge(&mut self, e: &mut Exp) -> CgResult<()> {
        e.k = match e.k {
            EKind::Local(r) => EKind::NonReloc(r),
            EKind::Upval(u) => EKind::Reloc(self.emit_ad(Op::UGET, 0, u)?),
            EKind::Global(name) => {
                let k = self.const_str(name)?;
                EKind::Reloc(self.emit_ad(Op::GGET, 0, k)?)
            }
            EKind::Indexed { obj, key } => {
                let pc = match key {
                    Key::Reg(kr) => {
                        self.free2(obj, kr);
                        self.emit_abc(Op::TGETV, 0, obj, kr)?
                    }
                    Key::Str(k) => {
                        self.free_reg(obj);
                        self.emit_abc(Op::TGETS, 0, obj, k)?
                    }
                    Key::Byte(b) => {
                        self.free_reg(obj);
                        self.emit_abc(Op::TGETB, 0, obj, b)?
                    }
                };
                EKind::Reloc(pc)
            }
            EKind::Call { base, .. } => EKind::NonReloc(base),
            k => k,
        };
        Ok(())
    }

    /// Emit `KNIL`/`KPRI nil` for registers `from..from+n`, merging with a directly
    /// preceding nil load when no jump lands in between.
    pub fn emit_nil(&mut self, from: u32, n: u32) -> CgResult<()> {
        let pc = self.pc();
        if pc > self.lasttarget && pc > 0 && self.jpc == NO_JMP {
            let prev = self.ins_at(pc - 1);
            let (pa, pd) = (arg_a(prev), arg_d(prev));
            let range = match Op::from_u8(op_byte(prev)) {
                Some(Op::KPRI) if pd == 0 => Some((pa, pa)),
                Some(Op::KNIL) => Some((pa, pd)),
                _ => None,
            };
            if let Some((lo, hi)) = range {
                if lo <= from && from <= hi + 1 {
                    let top = (from + n - 1).max(hi);
                    self.set_ins(pc - 1, ins_ad(Op::KNIL, lo, top));
                    return Ok(());
                }
            }
        }
        if n == 1 {
            self.emit_ad(Op::KPRI, from, 0)?;
        } else {
            self.emit_ad(Op::KNIL, from, from + n - 1)?;
        }
        Ok(())
    }

    /// Put the value (ignoring jump lists) into `reg`.
    fn exp_to_reg_nobranch(&mut self, e: &mut Exp, reg: u32) -> CgResult<()> {
        self.discharge(e)?;
        match e.k {
            EKind::Str(s) => {
                let k = self.const_str(s)?;
                self.emit_ad(Op::KSTR, reg, k)?;
            }
            EKind::Num(n) => self.load_num(reg, n)?,
            EKind::Nil => self.emit_nil(reg, 1)?,
            EKind::False => {
                self.emit_ad(Op::KPRI, reg, 1)?;
            }
            EKind::True => {
                self.emit_ad(Op::KPRI, reg, 2)?;
            }
            EKind::Reloc(pc) => self.set_a(pc, reg),
            EKind::NonReloc(r) => {
                if r != reg {
                    self.emit_ad(Op::MOV, reg, r)?;
                }
            }
            _ => return Ok(()),
        }
        e.k = EKind::NonReloc(reg);
        Ok(())
    }

    pub fn load_num(&mut self, reg: u32, n: f64) -> CgResult<()> {
        if let Some(i) = short_int(n) {
            self.emit_ad(Op::KSHORT, reg, i as u16 as u32)?;
        } else {
            let k = self.const_num(n)?;
            self.emit_ad(Op::KNUM, reg, k)?;
        }
        Ok(())
    }

    /// Put the value, jump lists included, into `reg`.
    pub fn exp_to_reg(&mut self, e: &mut Exp, reg: u32) -> CgResult<()> {
        self.exp_to_reg_nobranch(e, reg)?;
        let was_jmp = if let EKind::Jmp(pc) = e.k {
            let mut t = e.t;
            self.concat(&mut t, pc)?;
            e.t = t;
            true
        } else {
            false
        };
        if e.has_jumps() {
            let mut jfalse = NO_JMP;
            let mut jtrue = NO_JMP;
            if self.need_value(e.t) || self.need_value(e.f) {
                // The fall-through path already has its value in `reg` (unless the
                // expression is a bare comparison): skip the two boolean loads.
                let jval = if was_jmp { NO_JMP } else { self.jump()? };
                jfalse = self.emit_ad(Op::KPRI, reg, 1)?;
                self.emit_ad(Op::JMP, self.freereg, JUMP_BIAS + 1)?;
                jtrue = self.emit_ad(Op::KPRI, reg, 2)?;
                self.patch_here(jval)?;
            }
            // The end is a jump target; the function's final RET0 guarantees an
            // instruction exists there.
            let end = self.pc();
            self.lasttarget = end;
            let (f, t) = (e.f, e.t);
            self.patch_val(f, end, reg, jfalse)?;
            self.patch_val(t, end, reg, jtrue)?;
        }
        e.k = EKind::NonReloc(reg);
        e.t = NO_JMP;
        e.f = NO_JMP;
        Ok(())
    }

    pub fn exp_to_nextreg(&mut self, e: &mut Exp) -> CgResult<u32> {
        self.discharge(e)?;
        self.free_exp(e);
        self.reserve(1)?;
        let r = self.freereg - 1;
        self.exp_to_reg(e, r)?;
        Ok(r)
    }

    pub fn exp_to_anyreg(&mut self, e: &mut Exp) -> CgResult<u32> {
        self.discharge(e)?;
        if let EKind::NonReloc(r) = e.k {
            if !e.has_jumps() {
                return Ok(r);
            }
            if r >= self.nactvar {
                self.exp_to_reg(e, r)?;
                return Ok(r);
            }
        }
        self.exp_to_nextreg(e)
    }

    /// Make the expression a value (constant or register), resolving jump lists.
    pub fn exp_to_val(&mut self, e: &mut Exp) -> CgResult<()> {
        if e.has_jumps() {
            self.exp_to_anyreg(e)?;
        } else {
            self.discharge(e)?;
        }
        Ok(())
    }

    /// Emit a test of `e` whose jump is taken when `e`'s truth equals `when_true`.
    fn branch(&mut self, e: &mut Exp, when_true: bool) -> CgResult<u32> {
        if let EKind::Reloc(pc) = e.k {
            // `not x` as a condition: test x itself with the opposite sense.
            if pc + 1 == self.pc() && self.op_is(pc, Op::NOT) {
                let src = arg_d(self.ins_at(pc));
                self.code.pop();
                self.lines.pop();
                let op = if when_true { Op::ISF } else { Op::IST };
                self.emit_ad(op, 0, src)?;
                return self.jump();
            }
        }
        if !matches!(e.k, EKind::NonReloc(_)) {
            self.reserve(1)?;
            let r = self.freereg - 1;
            self.exp_to_reg_nobranch(e, r)?;
        }
        self.free_exp(e);
        let r = match e.k {
            EKind::NonReloc(r) => r,
            _ => 0,
        };
        let op = if when_true { Op::ISTC } else { Op::ISFC };
        self.emit_ad(op, NO_REG, r)?;
        self.jump()
    }

    /// Invert the comparison before the jump at `pc`.
    pub fn invert_cond(&mut self, pc: u32) {
        if pc == 0 {
            return;
        }
        let i = self.ins_at(pc - 1);
        // Comparison and test opcodes come in pairs differing in the lowest bit.
        self.set_ins(pc - 1, i ^ 1);
    }

    /// A jump that always leaves `and`/`or` with constant `e` as its value: the load
    /// goes to NO_REG now and gets its register (or becomes a no-op) when the jump
    /// list is patched (`patch_test_reg`).
    fn const_then_jump(&mut self, e: &mut Exp) -> CgResult<u32> {
        // Emitted directly: `emit_nil` could merge this load into a KNIL range.
        match e.k {
            EKind::Nil => self.emit_ad(Op::KPRI, NO_REG, 0)?,
            EKind::False => self.emit_ad(Op::KPRI, NO_REG, 1)?,
            EKind::True => self.emit_ad(Op::KPRI, NO_REG, 2)?,
            EKind::Str(s) => {
                let k = self.const_str(s)?;
                self.emit_ad(Op::KSTR, NO_REG, k)?
            }
            EKind::Num(n) => {
                self.load_num(NO_REG, n)?;
                0
            }
            _ => 0,
        };
        self.jump()
    }

    /// Fall through when `e` is true; collect the jumps taken when false in `e.f`.
    pub fn go_if_true(&mut self, e: &mut Exp) -> CgResult<()> {
        self.discharge(e)?;
        let j = match e.k {
            EKind::Str(_) | EKind::Num(_) | EKind::True => NO_JMP,
            EKind::Jmp(pc) => {
                self.invert_cond(pc);
                pc
            }
            EKind::Nil | EKind::False => self.const_then_jump(e)?,
            _ => self.branch(e, false)?,
        };
        let mut f = e.f;
        self.concat(&mut f, j)?;
        e.f = f;
        self.patch_here(e.t)?;
        e.t = NO_JMP;
        Ok(())
    }

    /// Fall through when `e` is false; collect the jumps taken when true in `e.t`.
    pub fn go_if_false(&mut self, e: &mut Exp) -> CgResult<()> {
        self.discharge(e)?;
        let j = match e.k {
            EKind::Nil | EKind::False => NO_JMP,
            EKind::Jmp(pc) => pc,
            EKind::Str(_) | EKind::Num(_) | EKind::True => self.const_then_jump(e)?,
            _ => self.branch(e, true)?,
        };
        let mut t = e.t;
        self.concat(&mut t, j)?;
        e.t = t;
        self.patch_here(e.f)?;
        e.f = NO_JMP;
        Ok(())
    }

    /// Store `e` into the variable `var`.
    pub fn store(&mut self, var: &Exp, e: &mut Exp) -> CgResult<()> {
        match var.k {
            EKind::Local(r) => {
                self.free_exp(e);
                self.exp_to_reg(e, r)?;
                return Ok(());
            }
            EKind::Upval(u) => {
                self.exp_to_val(e)?;
                match e.k {
                    EKind::Nil => self.emit_ad(Op::USETP, u, 0)?,
                    EKind::False => self.emit_ad(Op::USETP, u, 1)?,
                    EKind::True => self.emit_ad(Op::USETP, u, 2)?,
                    EKind::Str(s) => {
                        let k = self.const_str(s)?;
                        self.emit_ad(Op::USETS, u, k)?
                    }
                    EKind::Num(n) => {
                        let k = self.const_num(n)?;
                        self.emit_ad(Op::USETN, u, k)?
                    }
                    _ => {
                        let r = self.exp_to_anyreg(e)?;
                        self.emit_ad(Op::USETV, u, r)?
                    }
                };
            }
            EKind::Global(name) => {
                let r = self.exp_to_anyreg(e)?;
                let k = self.const_str(name)?;
                self.emit_ad(Op::GSET, r, k)?;
            }
            EKind::Indexed { obj, key } => {
                let r = self.exp_to_anyreg(e)?;
                match key {
                    Key::Reg(k) => self.emit_abc(Op::TSETV, r, obj, k)?,
                    Key::Str(k) => self.emit_abc(Op::TSETS, r, obj, k)?,
                    Key::Byte(b) => self.emit_abc(Op::TSETB, r, obj, b)?,
                };
            }
            _ => {}
        }
        self.free_exp(e);
        Ok(())
    }

    /// `e[key]`: `e` must already be in a register.
    pub fn index(&mut self, e: &mut Exp, key: &mut Exp) -> CgResult<()> {
        let obj = match e.k {
            EKind::NonReloc(r) => r,
            _ => self.exp_to_anyreg(e)?,
        };
        self.exp_to_val(key)?;
        let k = match key.k {
            EKind::Str(s) => {
                let idx = self.const_str(s)?;
                if idx <= 255 {
                    Some(Key::Str(idx))
                } else {
                    None
                }
            }
            EKind::Num(n) if (0.0..=255.0).contains(&n) && n == n.trunc() && !(n == 0.0 && n.is_sign_negative()) => {
                Some(Key::Byte(n as u32))
            }
            _ => None,
        };
        let k = match k {
            Some(k) => k,
            None => Key::Reg(self.exp_to_anyreg(key)?),
        };
        e.k = EKind::Indexed { obj, key: k };
        Ok(())
    }

    /// Ask a call or vararg for all its results.
    pub fn set_multret(&mut self, e: &Exp) {
        if let EKind::Call { pc, .. } = e.k {
            self.set_b(pc, 0);
        }
    }
    /// Ask a call or vararg for `n` results.
    pub fn set_nresults(&mut self, e: &Exp, n: u32) {
        if let EKind::Call { pc, .. } = e.k {
            self.set_b(pc, n + 1);
        }
    }
}

/// The value fits `KSHORT` (an integer in the signed 16-bit range, not -0).
pub fn short_int(n: f64) -> Option<i16> {
    if n == n.trunc() && (-32768.0..=32767.0).contains(&n) && !(n == 0.0 && n.is_sign_negative()) {
        Some(n as i16)
    } else {
        None
    }
}

fn hash_bits(bits: u64) -> usize {
    let x = bits.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x ^ (x >> 29)) as usize
}
