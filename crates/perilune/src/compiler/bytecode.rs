//! The bytecode: 32-bit register instructions with operand-type specialised opcodes.
//!
//! Encoding (least significant bits first): `OP:8 A:8 C:8 B:8`, and `D:16` is the
//! combined `C|B<<8` field. Registers are slots relative to the frame base. Every
//! instruction uses either `A B C` or `A D`.
//!
//! Conventions used in the table below:
//! - `R(x)` register x; `K(x)` constant x of the prototype (`GcProto::consts`, which
//!   holds numbers, strings, template tables and the FFI's cdata literals); `U(x)` upvalue x; `P(x)` child prototype x;
//!   `pri(x)` the primitive 0 = nil, 1 = false, 2 = true.
//! - Jumps: `D` is biased, the target is `pc + 1 + (D - JUMP_BIAS)` where `pc` is the
//!   index of the jumping instruction.
//! - MULTRES: an instruction that asks for "all results" (a call with `B = 0`, or
//!   `VARG` with `B = 0`) leaves its values in consecutive registers from where it put
//!   them and records their count; the next `*M` instruction consumes them, adding the
//!   count to its fixed operand.
//! - A comparison or test (`IS*`) is always followed by a `JMP`: if the condition
//!   holds, the `JMP` is taken, otherwise execution skips it.
//!
//! Invariants the compiler keeps and the interpreter relies on:
//! - Every register an instruction touches is below the prototype's `framesize`.
//! - Constant operands index existing constants of the right type (string for the `S`
//!   forms, number for the `N` forms).
//! - Jump targets are inside the prototype's code.
//! - The last instruction is a return.

/// Bias of signed jump offsets stored in `D`.
pub const JUMP_BIAS: u32 = 0x8000;
/// Largest number of registers a frame can have.
pub const MAX_SLOTS: u32 = 250;

macro_rules! opcodes {
    ($($name:ident $fmt:ident $doc:literal,)*) => {
        /// An opcode. See the module docs for the encoding and each variant for its
        /// meaning.
        // The names are LuaJIT's (`lj_bc.h`), so that listings and the JIT's
        // recorder read like LuaJIT's.
        #[allow(clippy::upper_case_acronyms)]
        #[repr(u8)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Op {
            $(#[doc = $doc] $name,)*
        }
        /// Opcode names for listings, indexed by opcode.
        pub const OP_NAMES: &[&str] = &[$(stringify!($name),)*];
        /// The operand layout of each opcode, indexed by opcode.
        pub const OP_FORMATS: &[Format] = &[$(Format::$fmt,)*];
        /// Every opcode, indexed by its number.
        pub const ALL_OPS: &[Op] = &[$(Op::$name,)*];
    };
}

/// Operand layout of an opcode, for listings and the verifier.
// Named by operand letters, as in `lj_bc.h`'s `BCM` modes.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// A and D, D a register.
    AD,
    /// A and D, D a string constant.
    AS,
    /// A and D, D a number constant.
    AN,
    /// A and D, D a signed 16-bit literal.
    AI,
    /// A and D, D a primitive (0 nil, 1 false, 2 true).
    AP,
    /// A and D, D a jump.
    AJ,
    /// A and D, D a literal count or index.
    AL,
    /// A, B, C registers.
    ABC,
    /// A, B registers, C a number constant.
    ABN,
    /// A, B registers, C a string constant.
    ABS,
    /// A, B registers, C a literal.
    ABL,
    /// A and D, D a cdata constant.
    AC,
}

opcodes! {
    // Comparisons, each followed by a JMP taken when the condition holds.
    ISLT  AD "if R(A) < R(D): take the following JMP.",
    ISGE  AD "if not (R(A) < R(D)): take the following JMP (true for NaN operands).",
    ISLE  AD "if R(A) <= R(D): take the following JMP.",
    ISGT  AD "if not (R(A) <= R(D)): take the following JMP (true for NaN operands).",
    ISEQV AD "if R(A) == R(D) (with __eq): take the following JMP.",
    ISNEV AD "if R(A) ~= R(D) (with __eq): take the following JMP.",
    ISEQS AS "if R(A) == K(D) (a string): take the following JMP.",
    ISNES AS "if R(A) ~= K(D) (a string): take the following JMP.",
    ISEQN AN "if R(A) == K(D) (a number): take the following JMP.",
    ISNEN AN "if R(A) ~= K(D) (a number): take the following JMP.",
    ISEQP AP "if R(A) is the primitive D: take the following JMP.",
    ISNEP AP "if R(A) is not the primitive D: take the following JMP.",
    // Truth tests, each followed by a JMP.
    ISTC  AD "if R(D) is truthy: R(A) = R(D) and take the following JMP.",
    ISFC  AD "if R(D) is falsy: R(A) = R(D) and take the following JMP.",
    IST   AD "if R(D) is truthy: take the following JMP (A unused).",
    ISF   AD "if R(D) is falsy: take the following JMP (A unused).",
    // Unary operations.
    MOV   AD "R(A) = R(D).",
    NOT   AD "R(A) = not R(D).",
    UNM   AD "R(A) = -R(D) (with __unm).",
    LEN   AD "R(A) = #R(D) (strings, tables; __len for userdata).",
    // Arithmetic. VN: register op constant; NV: constant op register; VV: registers.
    ADDVN ABN "R(A) = R(B) + K(C).",
    SUBVN ABN "R(A) = R(B) - K(C).",
    MULVN ABN "R(A) = R(B) * K(C).",
    DIVVN ABN "R(A) = R(B) / K(C).",
    MODVN ABN "R(A) = R(B) % K(C).",
    ADDNV ABN "R(A) = K(C) + R(B).",
    SUBNV ABN "R(A) = K(C) - R(B).",
    MULNV ABN "R(A) = K(C) * R(B).",
    DIVNV ABN "R(A) = K(C) / R(B).",
    MODNV ABN "R(A) = K(C) % R(B).",
    ADDVV ABC "R(A) = R(B) + R(C).",
    SUBVV ABC "R(A) = R(B) - R(C).",
    MULVV ABC "R(A) = R(B) * R(C).",
    DIVVV ABC "R(A) = R(B) / R(C).",
    MODVV ABC "R(A) = R(B) % R(C).",
    POW   ABC "R(A) = R(B) ^ R(C).",
    CAT   ABC "R(A) = R(B) .. R(B+1) .. ... .. R(C) (B < C; registers B..C may be clobbered).",
    // Constants.
    KSTR  AS "R(A) = K(D), a string.",
    KNUM  AN "R(A) = K(D), a number.",
    KSHORT AI "R(A) = D as a signed 16-bit integer.",
    KPRI  AP "R(A) = pri(D).",
    KNIL  AD "R(A), R(A+1), ..., R(D) = nil.",
    // Upvalues and closures.
    UGET  AL "R(A) = U(D).",
    USETV AD "U(A) = R(D).",
    USETS AS "U(A) = K(D), a string.",
    USETN AN "U(A) = K(D), a number.",
    USETP AP "U(A) = pri(D).",
    UCLO  AJ "Close upvalues for registers >= A, then jump by D.",
    FNEW  AL "R(A) = a new closure of P(D), capturing upvalues per its descriptors.",
    // Tables.
    TNEW  AL "R(A) = a new table; D = array size hint (low 11 bits) | log2 hash size hint << 11.",
    TDUP  AS "R(A) = a copy of the template table K(D).",
    GGET  AS "R(A) = env[K(D)] where env is the running function's environment.",
    GSET  AS "env[K(D)] = R(A).",
    TGETV ABC "R(A) = R(B)[R(C)].",
    TGETS ABS "R(A) = R(B)[K(C)], a string key.",
    TGETB ABL "R(A) = R(B)[C], C a literal 0..255.",
    TSETV ABC "R(B)[R(C)] = R(A).",
    TSETS ABS "R(B)[K(C)] = R(A), a string key.",
    TSETB ABL "R(B)[C] = R(A), C a literal 0..255.",
    TSETM AN "R(A-1)[K(D) + i] = R(A+i) for i in 0..MULTRES (K(D) is an integral number).",
    // Calls and varargs.
    CALLM ABL "Call R(A) with C+MULTRES arguments R(A+1)...; B-1 results to R(A)... (B = 0: all, sets MULTRES).",
    CALL  ABL "Call R(A) with C-1 arguments R(A+1)...; B-1 results to R(A)... (B = 0: all, sets MULTRES).",
    CALLMT AL "Tail call R(A) with D+MULTRES arguments R(A+1)....",
    CALLT AL "Tail call R(A) with D-1 arguments R(A+1)....",
    ITERC ABL "R(A), R(A+1), R(A+2) = R(A-3), R(A-2), R(A-1); call R(A) with 2 arguments; B-1 results to R(A)....",
    VARG  ABL "R(A)... = the varargs, B-1 of them (B = 0: all, sets MULTRES). C unused.",
    // Returns.
    RETM  AL "Return R(A), ..., R(A+D+MULTRES-1).",
    RET   AL "Return R(A), ..., R(A+D-2) (D-1 values).",
    RET0  AL "Return no values.",
    RET1  AL "Return R(A).",
    // Loops and jumps.
    FORI  AJ "Numeric for prepare: check R(A) start, R(A+1) stop, R(A+2) step are numbers, R(A+3) = R(A); if the loop runs zero times jump by D.",
    FORL  AJ "Numeric for loop: R(A) += R(A+2); if still in range R(A+3) = R(A) and jump by D (a loop back-edge).",
    ITERL AJ "Generic for loop: if R(A) ~= nil then R(A-1) = R(A) and jump by D (a loop back-edge).",
    LOOP  AJ "Loop header of while/repeat (a hot-counter point for the JIT); D jumps to the loop exit. No-op.",
    JMP   AJ "Jump by D. A holds the first free register (for the JIT).",
    // Patched loop instructions (the JIT writes them into a prototype's code; never
    // in compiled, dumped or loaded code, see `unpatch`).
    IFORL AJ "FORL whose loop the JIT no longer counts (blacklisted).",
    IITERL AJ "ITERL whose loop the JIT no longer counts (blacklisted).",
    ILOOP AJ "LOOP whose loop the JIT no longer counts (blacklisted).",
    // Appended, so that the numbers above stay as they are.
    KCDATA AC "R(A) = K(D), a cdata constant (a 64-bit integer or complex literal of the FFI).",
    // Patched loop instructions that enter a compiled trace (never dumped either).
    JFORL AJ "FORL whose loop body runs as a compiled trace (the JIT's table maps the instruction to it).",
    JLOOP AJ "LOOP whose loop body runs as a compiled trace (the JIT's table maps the instruction to it).",
}

impl Op {
    /// Decode an opcode byte, or `None` if out of range.
    #[inline(always)]
    pub fn from_u8(b: u8) -> Option<Op> {
        ALL_OPS.get(b as usize).copied()
    }
    pub fn name(self) -> &'static str {
        OP_NAMES[self as usize]
    }
    pub fn format(self) -> Format {
        OP_FORMATS[self as usize]
    }
    /// Is this one of the opcodes only the JIT writes (`IFORL`, ...)?
    #[inline]
    pub fn is_patched(self) -> bool {
        self.original() != self
    }
    /// The opcode the compiler emitted for a patched one (itself for every other).
    #[inline]
    pub fn original(self) -> Op {
        match self {
            Op::IFORL | Op::JFORL => Op::FORL,
            Op::IITERL => Op::ITERL,
            Op::ILOOP | Op::JLOOP => Op::LOOP,
            op => op,
        }
    }
}

/// The instruction as the compiler emitted it: the JIT patches loop instructions in
/// place (keeping their operands), and everything that shows or saves code
/// (`string.dump`, listings, `jit.util.funcbc`, debug names) reads it through this,
/// so patched opcodes never leave the VM.
#[inline]
pub fn unpatch(i: Ins) -> Ins {
    match Op::from_u8(op_byte(i)) {
        Some(op) if op.is_patched() => (i & !0xff) | op.original() as u32,
        _ => i,
    }
}

/// One instruction.
pub type Ins = u32;

#[inline(always)]
pub const fn ins_ad(op: Op, a: u32, d: u32) -> Ins {
    (op as u32) | (a << 8) | (d << 16)
}
#[inline(always)]
pub const fn ins_abc(op: Op, a: u32, b: u32, c: u32) -> Ins {
    (op as u32) | (a << 8) | (c << 16) | (b << 24)
}
#[inline(always)]
pub const fn op_byte(i: Ins) -> u8 {
    i as u8
}
#[inline(always)]
pub const fn arg_a(i: Ins) -> u32 {
    (i >> 8) & 0xff
}
#[inline(always)]
pub const fn arg_b(i: Ins) -> u32 {
    i >> 24
}
#[inline(always)]
pub const fn arg_c(i: Ins) -> u32 {
    (i >> 16) & 0xff
}
#[inline(always)]
pub const fn arg_d(i: Ins) -> u32 {
    i >> 16
}
/// Set the D field of an instruction (used to patch jumps).
#[inline(always)]
pub const fn with_d(i: Ins, d: u32) -> Ins {
    (i & 0xffff) | (d << 16)
}
/// Set the A field of an instruction.
#[inline(always)]
pub const fn with_a(i: Ins, a: u32) -> Ins {
    (i & !0xff00) | (a << 8)
}
/// The signed offset of a jump's D field.
#[inline(always)]
pub const fn jump_offset(i: Ins) -> i32 {
    arg_d(i) as i32 - JUMP_BIAS as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let i = ins_abc(Op::ADDVV, 1, 2, 3);
        assert_eq!(Op::from_u8(op_byte(i)), Some(Op::ADDVV));
        assert_eq!((arg_a(i), arg_b(i), arg_c(i)), (1, 2, 3));
        assert_eq!(arg_d(i), 3 | (2 << 8));
        let j = ins_ad(Op::JMP, 0, JUMP_BIAS - 5);
        assert_eq!(jump_offset(j), -5);
        assert_eq!(jump_offset(with_d(j, JUMP_BIAS + 7)), 7);
        assert_eq!(Op::from_u8(255), None);
        assert_eq!(OP_NAMES.len(), OP_FORMATS.len());
    }

    #[test]
    fn patched_loops_unpatch_to_the_original() {
        for (p, o) in [
            (Op::IFORL, Op::FORL),
            (Op::IITERL, Op::ITERL),
            (Op::ILOOP, Op::LOOP),
            (Op::JFORL, Op::FORL),
            (Op::JLOOP, Op::LOOP),
        ] {
            let i = ins_ad(p, 3, JUMP_BIAS - 4);
            assert!(p.is_patched() && !o.is_patched());
            assert_eq!(unpatch(i), ins_ad(o, 3, JUMP_BIAS - 4));
        }
        let j = ins_ad(Op::JMP, 1, JUMP_BIAS);
        assert_eq!(unpatch(j), j);
    }
}
