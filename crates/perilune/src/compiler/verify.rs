//! The bytecode verifier: checks the invariants the interpreter relies on.
//!
//! The interpreter indexes registers and constants without bounds checks because the
//! compiler promises (bytecode.rs) that every operand is in range. This module checks
//! that promise for one prototype and its children. Debug builds run it on every
//! compiled chunk, so a code generator bug is a test failure instead of memory
//! corruption; tests and fuzzers call it directly.

use crate::compiler::bytecode::{arg_a, arg_b, arg_c, arg_d, jump_offset, op_byte, Format, Ins, Op};
use crate::func::Proto;
use crate::object::GcRef;

/// Verify `p` and all prototypes nested in it.
pub fn verify(p: GcRef<Proto>) -> Result<(), String> {
    verify_depth(p, 0)
}

fn verify_depth(p: GcRef<Proto>, depth: usize) -> Result<(), String> {
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
    p: &'a Proto,
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
    fn followed_by_jmp(&self) -> Result<(), String> {
        match self.p.code.get(self.pc + 1) {
            Some(&j) if op_byte(j) == Op::JMP as u8 => Ok(()),
            _ => self.fail("comparison not followed by JMP".into()),
        }
    }
}

fn verify_one(p: &Proto) -> Result<(), String> {
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
        let Some(op) = Op::from_u8(op_byte(ins)) else {
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
            UCLO | JMP | LOOP => c.target(ins)?,
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
            }
            CALLT => {
                if d == 0 {
                    return c.fail("CALLT with D = 0".into());
                }
                c.regs(a, d)?;
            }
            CALLMT => c.regs(a, d + 1)?,
            ITERC => {
                if a < 3 {
                    return c.fail("ITERC needs three registers below A".into());
                }
                c.regs(a, 3)?;
                c.regs(a, b.saturating_sub(1))?;
            }
            VARG => c.regs(a, b.saturating_sub(1).max(1))?,
            RETM => c.reg(a).or_else(|e| if d == 0 { Ok(()) } else { Err(e) })?,
            RET => c.regs(a, d.saturating_sub(1))?,
            RET0 => {}
            RET1 => c.reg(a)?,
            FORI | FORL => {
                c.regs(a, 4)?;
                c.target(ins)?;
            }
            ITERL => {
                if a == 0 {
                    return c.fail("ITERL needs a register below A".into());
                }
                c.reg(a)?;
                c.target(ins)?;
            }
        }
        // Formats with a jump are checked above; make sure nothing else carries one.
        debug_assert!(op.format() != Format::AJ || matches!(op, UCLO | JMP | LOOP | FORI | FORL | ITERL));
    }
    Ok(())
}
