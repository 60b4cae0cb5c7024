//! The trace IR: SSA instructions in an arena, constants below a bias, guards,
//! snapshots, the text dump and the verifier.
//!
//! Owns: the instruction and constant encodings ([`Ins`], [`Konst`], [`Ref`]), the
//! snapshot encoding ([`Snap`], [`SnapEntry`]), [`Ir::dump`] and [`Ir::verify`].
//!
//! Invariants (checked by [`Ir::verify`], which runs on every finished trace in debug
//! builds and in the tests):
//! - An instruction's reference operands name constants or earlier instructions (SSA:
//!   one definition, before every use).
//! - Arithmetic takes and gives numbers; comparisons take two operands of one type;
//!   the types of loads are the types their guards check.
//! - A snapshot taken at instruction `n` names only refs below `n`, slot by slot in
//!   increasing order; the last instruction of a loop trace is `LOOP`.
//! - Every buffer is a heap-accounted `HVec`: a refused allocation aborts the trace
//!   (JIT.md J5).

use std::fmt::Write;

use crate::alloc::{HVec, HeapRef, OutOfMemory};
use crate::value::Value;

/// A reference to an instruction (at or above [`Ref::BIAS`]) or a constant (below).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ref(pub u16);

impl Ref {
    /// Instructions are numbered from here up, constants from here down.
    pub const BIAS: u16 = 0x8000;
    /// No operand.
    pub const NONE: Ref = Ref(0);

    pub fn is_const(self) -> bool {
        self.0 < Ref::BIAS
    }
    fn ins(i: usize) -> Ref {
        Ref(Ref::BIAS + i as u16)
    }
    fn konst(k: usize) -> Ref {
        Ref(Ref::BIAS - 1 - k as u16)
    }
    /// Index into the instructions (`None` for constants).
    pub fn ins_index(self) -> Option<usize> {
        (!self.is_const()).then(|| (self.0 - Ref::BIAS) as usize)
    }
    fn konst_index(self) -> Option<usize> {
        (self.is_const() && self != Ref::NONE).then(|| (Ref::BIAS - 1 - self.0) as usize)
    }
}

/// The type of a value in the IR (LuaJIT's `IRT_*` names in the dump).
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    Nil,
    False,
    True,
    Str,
    Fun,
    Tab,
    Num,
    /// A 32-bit integer (array indices, sizes).
    Int,
    /// A raw pointer (an upvalue, an array part, a metatable).
    Ptr,
    /// No value (guards, stores, markers).
    Void,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Nil => "nil",
            Ty::False => "fal",
            Ty::True => "tru",
            Ty::Str => "str",
            Ty::Fun => "fun",
            Ty::Tab => "tab",
            Ty::Num => "num",
            Ty::Int => "int",
            Ty::Ptr => "p64",
            Ty::Void => "   ",
        }
    }

    /// The type of a Lua value the recorder can specialise on, or `None`.
    pub fn of(v: Value) -> Option<Ty> {
        if v.is_number() {
            Some(Ty::Num)
        } else if v.is_nil() {
            Some(Ty::Nil)
        } else if let Some(b) = v.as_bool() {
            Some(if b { Ty::True } else { Ty::False })
        } else if v.is_string() {
            Some(Ty::Str)
        } else if v.is_table() {
            Some(Ty::Tab)
        } else if v.is_function() {
            Some(Ty::Fun)
        } else {
            None
        }
    }

    /// Is a value of this type falsy?
    pub fn is_falsy(self) -> bool {
        matches!(self, Ty::Nil | Ty::False)
    }

    /// Is this one of the primitives nil, false, true?
    pub fn is_pri(self) -> bool {
        matches!(self, Ty::Nil | Ty::False | Ty::True)
    }
}

macro_rules! ir_ops {
    ($($name:ident $doc:literal,)*) => {
        /// An IR opcode.
        #[allow(clippy::upper_case_acronyms)]
        #[repr(u8)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Op { $(#[doc = $doc] $name,)* }
        const OP_NAMES: &[&str] = &[$(stringify!($name),)*];
    };
}

ir_ops! {
    NOP "Removed (dead code).",
    LOOP "The loop's back-edge: the trace goes on at its start.",
    LT "Guard a < b.",
    GE "Guard a >= b (ordered: false for NaN).",
    LE "Guard a <= b.",
    GT "Guard a > b.",
    ULT "Guard not (a >= b) (true for NaN).",
    UGE "Guard not (a < b) (true for NaN).",
    ULE "Guard not (a > b) (true for NaN).",
    UGT "Guard not (a <= b) (true for NaN).",
    EQ "Guard a == b (numbers by value, others by identity).",
    NE "Guard a ~= b.",
    ABC "Guard 1 <= b <= a (array bounds: a the size, b the index).",
    ADD "a + b.",
    SUB "a - b.",
    MUL "a * b.",
    DIV "a / b.",
    MOD "a % b, Lua's `a - floor(a/b) * b` (inline).",
    POW "a ^ b (a call of `number::lua_pow`, C's `pow`).",
    NEG "-a.",
    CONV "The integer of number a (guard: integral and in the int range).",
    SLOAD "Load stack slot #a (0 the frame's function), guarding its type.",
    FLOAD "Load field b of object a (see `Field`).",
    ULOAD "Load the value of upvalue a, guarding its type.",
    AREF "The address of array slot b (an int, from 1) of array part a.",
    ALOAD "Load the value at address a, guarding its type.",
    ASTORE "Store b at address a.",
    TBAR "The write barrier of table a.",
}

impl Op {
    pub fn name(self) -> &'static str {
        OP_NAMES[self as usize]
    }
    /// The comparisons, in pairs with their negation: `LT` <-> `UGE`, ...
    pub fn negate(self) -> Op {
        match self {
            Op::LT => Op::UGE,
            Op::UGE => Op::LT,
            Op::LE => Op::UGT,
            Op::UGT => Op::LE,
            Op::GT => Op::ULE,
            Op::ULE => Op::GT,
            Op::GE => Op::ULT,
            Op::ULT => Op::GE,
            Op::EQ => Op::NE,
            Op::NE => Op::EQ,
            op => op,
        }
    }
    /// No side effect and no guard: may be shared (CSE) and removed when unused
    /// (DCE). Loads are pure here because the recorded code never changes what they
    /// read except through `ASTORE`, which [`Ir::cse`] does not look past.
    pub fn is_pure(self) -> bool {
        matches!(
            self,
            Op::ADD
                | Op::SUB
                | Op::MUL
                | Op::DIV
                | Op::MOD
                | Op::POW
                | Op::NEG
                | Op::FLOAD
                | Op::AREF
                | Op::ULOAD
                | Op::ALOAD
        )
    }
}

/// The fields `FLOAD` reads (offsets in `crate::vm::layout` for the backend).
#[repr(u16)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Field {
    /// A table's metatable (a pointer, null for none).
    Metatable,
    /// A table's array part (a pointer).
    Array,
    /// A table's array size (an int).
    ArraySize,
}

impl Field {
    const ALL: [Field; 3] = [Field::Metatable, Field::Array, Field::ArraySize];
    fn name(self) -> &'static str {
        match self {
            Field::Metatable => "tab.meta",
            Field::Array => "tab.array",
            Field::ArraySize => "tab.asize",
        }
    }
}

/// `FLOAD`'s `b` for upvalue `i` of a function: the pointer to the upvalue object.
pub const FIELD_UPVAL: u16 = 0x100;

/// One instruction: 8 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Ins {
    pub op: Op,
    pub ty: Ty,
    /// Set when the instruction checks something (a comparison, a loaded type, a
    /// conversion) and leaves the trace through its snapshot when that fails.
    pub guard: bool,
    pub a: Ref,
    pub b: Ref,
    /// The snapshot this instruction leaves through (guards only).
    pub snap: u16,
}

/// A constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Konst {
    Num(f64),
    Int(i32),
    /// nil, false or true.
    Pri(Ty),
    /// A null pointer (no metatable).
    Null,
    /// A string value; kept only as long as the recording runs (the dump text is
    /// made before the trace ends, so no collector root is needed).
    Str(u64),
}

impl Konst {
    fn ty(self) -> Ty {
        match self {
            Konst::Num(_) => Ty::Num,
            Konst::Int(_) => Ty::Int,
            Konst::Pri(t) => t,
            Konst::Null => Ty::Ptr,
            Konst::Str(_) => Ty::Str,
        }
    }
}

/// A snapshot: the interpreter state to restore when a guard fails.
#[derive(Clone, Copy, Debug)]
pub struct Snap {
    /// Instructions recorded before it was taken (refs at or above this are not
    /// computed yet when it is used).
    pub nins: u16,
    /// The bytecode pc the interpreter resumes at.
    pub pc: u32,
    /// Its entries: `map[start..start + len]`.
    pub start: u32,
    pub len: u16,
    /// Budget units the interpreter would have charged on this iteration before
    /// reaching the snapshot's pc (backward `JMP`s): an exit through it charges
    /// them (JIT.md J6; the trace itself charges a whole iteration at its back-edge).
    pub units: u32,
}

/// One modified slot in a snapshot.
#[derive(Clone, Copy, Debug)]
pub struct SnapEntry {
    /// Register number (frame slot from 0).
    pub slot: u16,
    pub r: Ref,
}

/// The IR of one trace being recorded.
pub struct Ir {
    pub ins: HVec<Ins>,
    pub konst: HVec<Konst>,
    pub snaps: HVec<Snap>,
    pub map: HVec<SnapEntry>,
}

/// Instructions of a trace at most (refs must stay below [`Ref::BIAS`] apart).
pub const MAX_INS: usize = 0x7000;

impl Ir {
    pub fn new(heap: HeapRef) -> Ir {
        Ir {
            ins: HVec::new(heap),
            konst: HVec::new(heap),
            snaps: HVec::new(heap),
            map: HVec::new(heap),
        }
    }

    pub fn get(&self, r: Ref) -> Option<&Ins> {
        self.ins.as_slice().get(r.ins_index()?)
    }

    fn konst_of(&self, r: Ref) -> Option<Konst> {
        self.konst.as_slice().get(r.konst_index()?).copied()
    }

    /// The number a constant ref holds, if it is a number constant.
    pub fn num_const(&self, r: Ref) -> Option<f64> {
        match self.konst_of(r)? {
            Konst::Num(n) => Some(n),
            _ => None,
        }
    }

    /// The type of a ref.
    pub fn ty(&self, r: Ref) -> Ty {
        match (self.get(r), self.konst_of(r)) {
            (Some(i), _) => i.ty,
            (_, Some(k)) => k.ty(),
            _ => Ty::Void,
        }
    }

    /// Intern a constant.
    pub fn k(&mut self, k: Konst) -> Result<Ref, OutOfMemory> {
        let same = |x: &Konst| match (x, &k) {
            // By bits: -0 and 0 are different constants, NaN is one.
            (Konst::Num(a), Konst::Num(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        };
        if let Some(i) = self.konst.as_slice().iter().position(same) {
            return Ok(Ref::konst(i));
        }
        if self.konst.len() + 1 >= Ref::BIAS as usize {
            return Err(OutOfMemory);
        }
        self.konst.push(k)?;
        Ok(Ref::konst(self.konst.len() - 1))
    }

    /// Append an instruction (no folding: see `record.rs`).
    pub fn push(&mut self, ins: Ins) -> Result<Ref, OutOfMemory> {
        if self.ins.len() >= MAX_INS {
            return Err(OutOfMemory);
        }
        self.ins.push(ins)?;
        Ok(Ref::ins(self.ins.len() - 1))
    }

    /// An earlier pure instruction equal to `op a b` of type `ty`, not across a store
    /// (common-subexpression elimination).
    pub fn cse(&self, op: Op, ty: Ty, a: Ref, b: Ref) -> Option<Ref> {
        if !op.is_pure() {
            return None;
        }
        for (i, x) in self.ins.as_slice().iter().enumerate().rev() {
            if x.op == Op::ASTORE && matches!(op, Op::ALOAD) {
                return None;
            }
            if x.op == op && x.ty == ty && x.a == a && x.b == b {
                return Some(Ref::ins(i));
            }
        }
        None
    }

    /// Dead-code elimination: pure instructions no guard, store, snapshot or live
    /// instruction uses become `NOP`.
    pub fn dce(&mut self) {
        let n = self.ins.len();
        let mut live = vec![false; n];
        for e in self.map.as_slice() {
            if let Some(i) = e.r.ins_index() {
                live[i] = true;
            }
        }
        for i in (0..n).rev() {
            let x = self.ins.as_slice()[i];
            if !x.op.is_pure() || x.guard {
                live[i] = true;
            }
            if live[i] {
                for r in [x.a, x.b] {
                    if let Some(j) = r.ins_index().filter(|_| !(x.op == Op::SLOAD)) {
                        live[j] = true;
                    }
                }
            }
        }
        for (x, &l) in self.ins.as_mut_slice().iter_mut().zip(&live) {
            if !l {
                x.op = Op::NOP;
            }
        }
    }

    /// A ref as the dump shows it: `0004` or the constant's value.
    fn operand(&self, r: Ref, out: &mut String) {
        match (r.ins_index(), self.konst_of(r)) {
            (Some(i), _) => {
                let _ = write!(out, "{:04}", i + 1);
            }
            (_, Some(Konst::Num(n))) => {
                let mut buf = [0u8; 64];
                let len = crate::number::fmt_number(n, &mut buf);
                let text = String::from_utf8_lossy(&buf[..len]);
                if n >= 0.0 || n.is_nan() {
                    out.push('+');
                }
                out.push_str(&text);
            }
            (_, Some(Konst::Int(i))) => {
                let _ = write!(out, "{i:+}");
            }
            (_, Some(Konst::Pri(t))) => out.push_str(match t {
                Ty::Nil => "nil",
                Ty::False => "false",
                _ => "true",
            }),
            (_, Some(Konst::Null)) => out.push_str("NULL"),
            (_, Some(Konst::Str(bits))) => {
                let v = Value::from_bits(bits);
                let s = v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default();
                let _ = write!(out, "{s:?}");
            }
            _ => out.push_str("----"),
        }
    }

    /// The entries of snapshot `s` as the dump shows them: one column per slot up to
    /// the highest one written, `----` for slots the snapshot leaves alone.
    fn snap_text(&self, s: &Snap, out: &mut String) {
        let entries = &self.map.as_slice()[s.start as usize..s.start as usize + s.len as usize];
        out.push('[');
        let top = entries.iter().map(|e| e.slot + 1).max().unwrap_or(0);
        for slot in 0..top {
            out.push(' ');
            match entries.iter().find(|e| e.slot == slot) {
                Some(e) => self.operand(e.r, out),
                None => out.push_str("----"),
            }
        }
        out.push_str(" ]");
    }

    /// The IR with its snapshots, in the style of LuaJIT's `-jdump=is`: a snapshot
    /// line (`....  SNAP #n [ ... ]`) before the first instruction that uses it, then
    /// `ref guard type OP operands`.
    pub fn dump(&self, out: &mut String) {
        let mut next_snap = 0;
        for (i, x) in self.ins.as_slice().iter().enumerate() {
            while next_snap < self.snaps.len() && self.snaps.as_slice()[next_snap].nins as usize <= i {
                let s = self.snaps.as_slice()[next_snap];
                let _ = write!(out, "....              SNAP   #{next_snap:<3} pc {:<4}", s.pc + 1);
                self.snap_text(&s, out);
                out.push('\n');
                next_snap += 1;
            }
            if x.op == Op::NOP {
                continue;
            }
            if x.op == Op::LOOP {
                // What the backend hoists out of the loop (`Ir::invariant`).
                let pre: Vec<String> = self
                    .invariant()
                    .iter()
                    .enumerate()
                    .filter(|&(j, &h)| h && self.ins.as_slice()[j].op != Op::NOP)
                    .map(|(j, _)| format!("{:04}", j + 1))
                    .collect();
                if !pre.is_empty() {
                    let _ = writeln!(out, "....              PRE-ROLL {}", pre.join(" "));
                }
                let _ = writeln!(out, "{:04} ------ LOOP ------------", i + 1);
                continue;
            }
            let _ = write!(
                out,
                "{:04} {} {} {:<6} ",
                i + 1,
                if x.guard { '>' } else { ' ' },
                x.ty.name(),
                x.op.name()
            );
            match x.op {
                Op::SLOAD => {
                    let _ = write!(out, "#{}", x.a.0);
                }
                Op::FLOAD => {
                    self.operand(x.a, out);
                    out.push_str("  ");
                    match Field::ALL.iter().find(|f| **f as u16 == x.b.0) {
                        Some(f) => out.push_str(f.name()),
                        None => {
                            let _ = write!(out, "func.upval[{}]", x.b.0.wrapping_sub(FIELD_UPVAL));
                        }
                    }
                }
                _ => {
                    self.operand(x.a, out);
                    if x.b != Ref::NONE {
                        out.push_str("  ");
                        self.operand(x.b, out);
                    }
                }
            }
            let line = out.trim_end().len();
            out.truncate(line);
            out.push('\n');
        }
    }

    /// The instructions of a loop trace whose value is the same on every iteration:
    /// the backend computes them once, in the pre-roll before the loop, and checks
    /// their guards there (a failure leaves before anything is written). They are
    /// loads of registers the trace never writes (the last snapshot names every
    /// register written) and of the frame's function; fields of invariant objects
    /// (nothing on a trace changes a metatable, an array part's size or address, or
    /// an upvalue); array loads when the trace stores into no array; and pure
    /// arithmetic, conversions and guards whose operands are invariant.
    pub fn invariant(&self) -> Vec<bool> {
        let ins = self.ins.as_slice();
        let written: Vec<u16> = self.snaps.as_slice().last().map_or(Vec::new(), |s| {
            self.map.as_slice()[s.start as usize..(s.start + u32::from(s.len)) as usize]
                .iter()
                .map(|e| e.slot)
                .collect()
        });
        let stores = ins.iter().any(|x| x.op == Op::ASTORE);
        let mut inv = vec![false; ins.len()];
        for (i, x) in ins.iter().enumerate() {
            let opnd = |r: Ref| r.is_const() || r.ins_index().is_some_and(|j| inv[j]);
            inv[i] = match x.op {
                // `#0` is the frame's function; `#n` register `n - 1`.
                Op::SLOAD => x.a.0 == 0 || !written.contains(&(x.a.0 - 1)),
                Op::ALOAD => !stores && opnd(x.a),
                Op::LOOP | Op::NOP | Op::ASTORE | Op::TBAR => false,
                _ => opnd(x.a) && opnd(x.b),
            };
        }
        inv
    }

    /// Check the invariants in the module docs.
    pub fn verify(&self) -> Result<(), String> {
        let ins = self.ins.as_slice();
        let is_num = |r: Ref| matches!(self.ty(r), Ty::Num);
        for (i, x) in ins.iter().enumerate() {
            let fail = |what: &str| Err(format!("IR {:04} {}: {what}", i + 1, x.op.name()));
            for r in [x.a, x.b] {
                if let Some(j) = r.ins_index() {
                    if j >= i && x.op != Op::SLOAD {
                        return fail("uses a later instruction");
                    }
                } else if r != Ref::NONE && self.konst_of(r).is_none() && x.op != Op::SLOAD && x.op != Op::FLOAD {
                    return fail("names no constant");
                }
            }
            let wrong = match x.op {
                Op::ADD | Op::SUB | Op::MUL | Op::DIV | Op::MOD | Op::POW => {
                    !(is_num(x.a) && is_num(x.b) && x.ty == Ty::Num)
                }
                Op::NEG => !(is_num(x.a) && x.ty == Ty::Num),
                Op::LT | Op::GE | Op::LE | Op::GT | Op::ULT | Op::UGE | Op::ULE | Op::UGT => {
                    !(is_num(x.a) && is_num(x.b) && x.guard)
                }
                Op::EQ | Op::NE => self.ty(x.a) != self.ty(x.b) || !x.guard,
                Op::ABC | Op::CONV => !x.guard,
                _ => false,
            };
            if wrong {
                return fail("operand types, result type or guard bit wrong for the opcode");
            }
            if x.guard && x.snap as usize >= self.snaps.len() {
                return fail("guard without a snapshot");
            }
        }
        for (n, s) in self.snaps.as_slice().iter().enumerate() {
            let entries = self
                .map
                .as_slice()
                .get(s.start as usize..s.start as usize + s.len as usize)
                .ok_or_else(|| format!("SNAP #{n}: entries out of range"))?;
            let mut last = None;
            for e in entries {
                if last.is_some_and(|l| l >= e.slot) {
                    return Err(format!("SNAP #{n}: slots out of order"));
                }
                last = Some(e.slot);
                if e.r.ins_index().is_some_and(|j| j >= s.nins as usize) {
                    return Err(format!("SNAP #{n}: names a later instruction"));
                }
                if e.r.ins_index().is_some_and(|j| ins[j].op == Op::NOP) {
                    return Err(format!("SNAP #{n}: names a removed instruction"));
                }
            }
        }
        Ok(())
    }
}
