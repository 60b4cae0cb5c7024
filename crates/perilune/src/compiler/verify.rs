//! The bytecode verifier: checks the invariants the interpreter relies on.
//!
//! The interpreter indexes registers and constants without bounds checks because the
//! compiler promises (bytecode.rs) that every operand is in range. This module checks
//! that promise for one prototype and its children. Debug builds run it on every
//! compiled chunk, so a code generator bug is a test failure instead of memory
//! corruption; tests and fuzzers call it directly. Binary chunks (`load` of a
//! `string.dump` output in a trusted state) always go through it: it is what stands
//! between a hostile chunk and the interpreter's unchecked accesses, so it checks
//! every operand the interpreter uses without a bounds check, the pairing of
//! multiple-results instructions, and that every loop pays into the instruction
//! budget (docs/bytecode-dump.md, "What the verifier checks").

use crate::alloc::HVec;
use crate::compiler::bytecode::{arg_a, arg_b, arg_c, arg_d, jump_offset, op_byte, Format, Ins, Op};
use crate::func::GcProto;
use crate::object::GcRef;
use crate::value::Value;

/// Verify `p` and all prototypes nested in it.
pub fn verify(p: GcRef<GcProto>) -> Result<(), String> {
    verify_depth(p, 0)
}

fn verify_depth(p: GcRef<GcProto>, depth: usize) -> Result<(), String> {
    if depth > 1000 {
        return Err("prototypes nested too deeply".into());
    }
    verify_one(&p).map_err(|e| format!("function at line {}: {e}", p.line_defined))?;
    for &child in p.protos.iter() {
        verify_depth(child, depth + 1)?;
    }
    Ok(())
}

struct Checker<'a> {
    p: &'a GcProto,
    pc: usize,
}

impl Checker<'_> {
    fn fail<T>(&self, what: String) -> Result<T, String> {
        let ins = self.p.code.get(self.pc).copied().unwrap_or(0);
        let name = Op::from_u8(op_byte(ins)).map_or("?", |o| o.name());
        Err(format!("pc {} ({name}): {what}", self.pc))
    }
    fn reg(&self, r: u32) -> Result<(), String> {
        if r < self.p.framesize as u32 {
            Ok(())
        } else {
            self.fail(format!("register {r} outside frame of {}", self.p.framesize))
        }
    }
    /// Registers `from..from+n` (n may be 0).
    fn regs(&self, from: u32, n: u32) -> Result<(), String> {
        if n == 0 {
            return Ok(());
        }
        self.reg(from + n - 1)
    }
    fn kstr(&self, k: u32) -> Result<(), String> {
        match self.p.consts.get(k as usize) {
            Some(v) if v.is_string() => Ok(()),
            _ => self.fail(format!("constant {k} is not a string")),
        }
    }
    fn knum(&self, k: u32) -> Result<(), String> {
        match self.p.consts.get(k as usize) {
            Some(v) if v.is_number() => Ok(()),
            _ => self.fail(format!("constant {k} is not a number")),
        }
    }
    fn upval(&self, u: u32) -> Result<(), String> {
        if (u as usize) < self.p.upvals.len() {
            Ok(())
        } else {
            self.fail(format!("upvalue {u} out of range"))
        }
    }
    fn target(&self, ins: Ins) -> Result<(), String> {
        let t = self.pc as i64 + 1 + jump_offset(ins) as i64;
        if t >= 0 && (t as usize) < self.p.code.len() {
            Ok(())
        } else {
            self.fail(format!("jump target {t} outside the code"))
        }
    }
    /// A jump that must go backwards (a loop back-edge, which pays its distance into
    /// the budget: a forward one would pay a negative amount).
    fn back_edge(&self, ins: Ins) -> Result<(), String> {
        self.target(ins)?;
        if jump_offset(ins) < 0 {
            Ok(())
        } else {
            self.fail("loop back-edge jumps forwards".into())
        }
    }
    /// A `*M` instruction consumes the values of the instruction just before it,
    /// which must leave them (a call or VARG with B = 0) where this one expects them
    /// (`start`). (Reached by a jump, it counts up to the thread's `top` as the last
    /// instruction that set it left it: inside the stack, and every value below it
    /// is live, so that is nonsense but memory safe.)
    fn multres_from(&self, start: u32) -> Result<(), String> {
        let prev = match self.pc.checked_sub(1).and_then(|i| self.p.code.get(i)) {
            Some(&i) => i,
            None => return self.fail("multiple results without a producer".into()),
        };
        let produces = matches!(Op::from_u8(op_byte(prev)), Some(Op::CALL | Op::CALLM | Op::VARG)) && arg_b(prev) == 0;
        if !produces {
            return self.fail("multiple results without a producer".into());
        }
        if arg_a(prev) != start {
            return self.fail(format!("multiple results expected at {start}, made at {}", arg_a(prev)));
        }
        Ok(())
    }
    fn followed_by_jmp(&self) -> Result<(), String> {
        match self.p.code.get(self.pc + 1) {
            Some(&j) if op_byte(j) == Op::JMP as u8 => Ok(()),
            _ => self.fail("comparison not followed by JMP".into()),
        }
    }
}

fn verify_one(p: &GcProto) -> Result<(), String> {
    if p.code.is_empty() {
        return Err("empty code".into());
    }
    if p.lineinfo.len() != p.code.len() {
        return Err("line info length differs from code length".into());
    }
    if p.framesize as u32 > crate::compiler::bytecode::MAX_SLOTS {
        return Err("frame too large".into());
    }
    if (p.num_params as u32) > p.framesize as u32 {
        return Err("more parameters than registers".into());
    }
    if p.upval_names.len() != p.upvals.len() {
        return Err("upvalue names do not match upvalues".into());
    }
    let last = p.code[p.code.len() - 1];
    if !matches!(
        Op::from_u8(op_byte(last)),
        Some(Op::RET0 | Op::RET1 | Op::RET | Op::RETM | Op::CALLT | Op::CALLMT)
    ) {
        return Err("code does not end in a return".into());
    }
    for pc in 0..p.code.len() {
        let c = Checker { p, pc };
        let ins = p.code[pc];
        // Patched opcodes only ever exist inside a running VM (bytecode::unpatch):
        // in code to verify they are as invalid as an unknown byte.
        let Some(op) = Op::from_u8(op_byte(ins)).filter(|op| !op.is_patched()) else {
            return c.fail(format!("invalid opcode {}", op_byte(ins)));
        };
        let (a, b, cc, d) = (arg_a(ins), arg_b(ins), arg_c(ins), arg_d(ins));
        use Op::*;
        match op {
            ISLT | ISGE | ISLE | ISGT | ISEQV | ISNEV => {
                c.reg(a)?;
                c.reg(d)?;
                c.followed_by_jmp()?;
            }
            ISEQS | ISNES => {
                c.reg(a)?;
                c.kstr(d)?;
                c.followed_by_jmp()?;
            }
            ISEQN | ISNEN => {
                c.reg(a)?;
                c.knum(d)?;
                c.followed_by_jmp()?;
            }
            ISEQP | ISNEP => {
                c.reg(a)?;
                if d > 2 {
                    return c.fail(format!("bad primitive {d}"));
                }
                c.followed_by_jmp()?;
            }
            ISTC | ISFC => {
                c.reg(a)?;
                c.reg(d)?;
                c.followed_by_jmp()?;
            }
            IST | ISF => {
                c.reg(d)?;
                c.followed_by_jmp()?;
            }
            MOV | NOT | UNM | LEN => {
                c.reg(a)?;
                c.reg(d)?;
            }
            ADDVN | SUBVN | MULVN | DIVVN | MODVN | ADDNV | SUBNV | MULNV | DIVNV | MODNV => {
                c.reg(a)?;
                c.reg(b)?;
                c.knum(cc)?;
            }
            ADDVV | SUBVV | MULVV | DIVVV | MODVV | POW | TGETV | TSETV => {
                c.reg(a)?;
                c.reg(b)?;
                c.reg(cc)?;
            }
            CAT => {
                c.reg(a)?;
                if b >= cc {
                    return c.fail("CAT needs B < C".into());
                }
                c.reg(cc)?;
            }
            KSTR | GGET | GSET => {
                c.reg(a)?;
                c.kstr(d)?;
            }
            KNUM => {
                c.reg(a)?;
                c.knum(d)?;
            }
            KCDATA => {
                c.reg(a)?;
                if !self_is_cdata(c.p.consts.get(d as usize)) {
                    return c.fail(format!("constant {d} is not a cdata"));
                }
            }
            KSHORT => c.reg(a)?,
            KPRI => {
                c.reg(a)?;
                if d > 2 {
                    return c.fail(format!("bad primitive {d}"));
                }
            }
            KNIL => {
                if d < a {
                    return c.fail("KNIL range reversed".into());
                }
                c.reg(d)?;
            }
            UGET => {
                c.reg(a)?;
                c.upval(d)?;
            }
            USETV => {
                c.upval(a)?;
                c.reg(d)?;
            }
            USETS => {
                c.upval(a)?;
                c.kstr(d)?;
            }
            USETN => {
                c.upval(a)?;
                c.knum(d)?;
            }
            USETP => {
                c.upval(a)?;
                if d > 2 {
                    return c.fail(format!("bad primitive {d}"));
                }
            }
            UCLO => {
                // Upvalues from A up are closed: A may be the frame's end, no further.
                if a > p.framesize as u32 {
                    return c.fail(format!("register {a} outside frame of {}", p.framesize));
                }
                c.target(ins)?;
            }
            JMP | LOOP => c.target(ins)?,
            FNEW => {
                c.reg(a)?;
                let Some(child) = p.protos.get(d as usize) else {
                    return c.fail(format!("prototype {d} out of range"));
                };
                for u in child.upvals.iter() {
                    if u.in_stack {
                        c.reg(u.index as u32)?;
                    } else {
                        c.upval(u.index as u32)?;
                    }
                }
            }
            TNEW => c.reg(a)?,
            TDUP => {
                c.reg(a)?;
                if !p.consts.get(d as usize).is_some_and(|v| v.is_table()) {
                    return c.fail(format!("constant {d} is not a template table"));
                }
            }
            TGETS | TSETS => {
                c.reg(a)?;
                c.reg(b)?;
                c.kstr(cc)?;
            }
            TGETB | TSETB => {
                c.reg(a)?;
                c.reg(b)?;
            }
            TSETM => {
                if a == 0 {
                    return c.fail("TSETM needs a table below A".into());
                }
                c.reg(a)?;
                c.knum(d)?;
                // The first index: a positive integer the interpreter's index
                // arithmetic (`i64`) cannot overflow with.
                let k = p.consts.get(d as usize).and_then(|v| v.as_number()).unwrap_or(0.0);
                if !((1.0..=MAX_TSETM_START).contains(&k) && k.fract() == 0.0) {
                    return c.fail(format!("TSETM start index {k} is not an integer in 1..2^32"));
                }
                c.multres_from(a)?;
            }
            CALL => {
                if cc == 0 {
                    return c.fail("CALL with C = 0".into());
                }
                c.regs(a, cc)?;
                c.regs(a, b.saturating_sub(1))?;
            }
            CALLM => {
                c.regs(a, cc + 1)?;
                c.regs(a, b.saturating_sub(1))?;
                c.multres_from(a + 1 + cc)?;
            }
            CALLT => {
                if d == 0 {
                    return c.fail("CALLT with D = 0".into());
                }
                c.regs(a, d)?;
            }
            CALLMT => {
                c.regs(a, d + 1)?;
                c.multres_from(a + 1 + d)?;
            }
            ITERC => {
                if a < 3 {
                    return c.fail("ITERC needs three registers below A".into());
                }
                c.regs(a, 3)?;
                c.regs(a, b.saturating_sub(1))?;
            }
            VARG => {
                // Only a vararg frame has varargs below its registers (the interpreter
                // finds them at `base - 2 - nvarargs`).
                if !p.is_vararg {
                    return c.fail("VARG outside a vararg function".into());
                }
                c.regs(a, b.saturating_sub(1).max(1))?
            }
            RETM => {
                // R(A)..R(A+D-1) and then the multiple results, which start at A + D.
                c.regs(a, d)?;
                c.multres_from(a + d)?;
            }
            RET => {
                // D - 1 values: D = 0 would be -1 of them.
                if d == 0 {
                    return c.fail("RET with D = 0".into());
                }
                c.regs(a, d - 1)?;
            }
            RET0 => {}
            RET1 => c.reg(a)?,
            FORI => {
                c.regs(a, 4)?;
                c.target(ins)?;
                // The loop's exit: a backward one would be a loop that pays nothing.
                if jump_offset(ins) < 0 {
                    return c.fail("FORI jumps backwards".into());
                }
            }
            FORL => {
                c.regs(a, 4)?;
                c.back_edge(ins)?;
            }
            IFORL | IITERL | ILOOP | JFORL | JLOOP => return c.fail(format!("invalid opcode {}", op_byte(ins))),
            ITERL => {
                if a == 0 {
                    return c.fail("ITERL needs a register below A".into());
                }
                c.reg(a)?;
                c.back_edge(ins)?;
            }
        }
        // Formats with a jump are checked above; make sure nothing else carries one.
        debug_assert!(op.format() != Format::AJ || matches!(op, UCLO | JMP | LOOP | FORI | FORL | ITERL));
    }
    Ok(())
}

/// Why [`verify_loops`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopError {
    /// A loop that pays nothing into the instruction budget.
    Unpaid(String),
    /// The heap refused the search's memory.
    Oom,
}

/// Check that every loop of `p` and of the prototypes nested in it pays into the
/// instruction budget (see [`every_loop_pays`]). Separate from [`verify`] because
/// it needs memory in proportion to the code, taken from `heap` (a hostile chunk's
/// size must not grow the process outside the state's limit): `undump` runs it on
/// every binary chunk after `verify`; the `compile` fuzz target and the tests run it
/// on the compiler's output.
pub fn verify_loops(p: GcRef<GcProto>, heap: crate::alloc::HeapRef) -> Result<(), LoopError> {
    verify_loops_depth(p, heap, 0)
}

fn verify_loops_depth(p: GcRef<GcProto>, heap: crate::alloc::HeapRef, depth: usize) -> Result<(), LoopError> {
    if depth > 1000 {
        return Err(LoopError::Unpaid("prototypes nested too deeply".into()));
    }
    every_loop_pays(&p, heap).map_err(|e| match e {
        LoopError::Unpaid(m) => LoopError::Unpaid(format!("function at line {}: {m}", p.line_defined)),
        LoopError::Oom => LoopError::Oom,
    })?;
    for &child in p.protos.iter() {
        verify_loops_depth(child, heap, depth + 1)?;
    }
    Ok(())
}

/// The largest first index of a `TSETM`.
const MAX_TSETM_START: f64 = 4_294_967_296.0;

/// Every cycle of the control flow passes through an instruction that pays into the
/// instruction budget, so no bytecode loops forever under a budget (or past the
/// interrupt flag). The interpreter pays at `LOOP`, at a backward `JMP` or `UCLO` and
/// at the back-edge of `FORL` and `ITERL` (checked above to go backwards), but not
/// when a comparison takes its `JMP` backwards or at `FORI` (checked above to go
/// forwards): the compiler's backward conditional jumps go to a `LOOP` or to a
/// `while` condition that leads to one (a jump pending at the end of a loop body is
/// threaded to the loop's start). So the graph of the edges that pay nothing must be
/// acyclic; one depth-first search over it decides that.
fn every_loop_pays(p: &GcProto, heap: crate::alloc::HeapRef) -> Result<(), LoopError> {
    let n = p.code.len();
    // Successors along edges that pay nothing (at most two per instruction).
    let succ = |pc: usize| -> [Option<usize>; 2] {
        let ins = p.code[pc];
        let rel = |ins: Ins, from: usize| {
            let t = from as i64 + 1 + jump_offset(ins) as i64;
            usize::try_from(t).ok().filter(|&t| t < n)
        };
        let next = Some(pc + 1).filter(|&t| t < n);
        use Op::*;
        match Op::from_u8(op_byte(ins)) {
            Some(
                ISLT | ISGE | ISLE | ISGT | ISEQV | ISNEV | ISEQS | ISNES | ISEQN | ISNEN | ISEQP | ISNEP | ISTC | ISFC
                | IST | ISF,
            ) => {
                // Either the following JMP is taken (from here, paying nothing even
                // if it goes backwards) or it is skipped.
                let taken = p.code.get(pc + 1).and_then(|&j| rel(j, pc + 1));
                [taken, Some(pc + 2).filter(|&t| t < n)]
            }
            Some(JMP | UCLO) => [rel(ins, pc).filter(|_| jump_offset(ins) >= 0), None],
            Some(FORI) => [next, rel(ins, pc)],
            Some(LOOP | ILOOP | JLOOP | RET0 | RET1 | RET | RETM | CALLT | CALLMT) | None => [None, None],
            // FORL and ITERL pay on their back-edge; falling through is free.
            Some(_) => [next, None],
        }
    };
    // Iterative depth-first search. `state`: 0 unvisited, 1 + k on the stack with
    // its next edge k (0, 1, or 2 when both are done), 4 finished. Five bytes per
    // instruction, on the heap.
    let oom = |_| LoopError::Oom;
    let mut state: HVec<u8> = HVec::filled(heap, n, 0).map_err(oom)?;
    let mut stack: HVec<u32> = HVec::with_capacity(heap, n).map_err(oom)?;
    let st = state.as_mut_slice();
    for root in 0..n {
        if st[root] != 0 {
            continue;
        }
        st[root] = 1;
        stack.push(root as u32).map_err(oom)?;
        while let Some(&top) = stack.as_slice().last() {
            let pc = top as usize;
            let k = st[pc] - 1;
            if k < 2 {
                st[pc] += 1;
                if let Some(t) = succ(pc)[k as usize] {
                    match st[t] {
                        0 => {
                            st[t] = 1;
                            stack.push(t as u32).map_err(oom)?;
                        }
                        4 => {}
                        _ => {
                            return Err(LoopError::Unpaid(format!(
                                "pc {pc}: a loop through pc {t} pays nothing into the instruction budget"
                            )))
                        }
                    }
                }
            } else {
                st[pc] = 4;
                stack.pop();
            }
        }
    }
    Ok(())
}

fn self_is_cdata(v: Option<&Value>) -> bool {
    v.is_some_and(|v| v.as_cdata().is_some())
}
