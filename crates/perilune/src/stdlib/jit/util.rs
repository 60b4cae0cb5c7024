//! `jit.util`: LuaJIT's reflection API, the bytecode-level part.
//!
//! `require("jit.util")` returns the table (it is in `package.preload`, as in LuaJIT).
//! What the functions return (docs/stdlib-debug-package-jit.md, "jit.util"):
//!
//! - Program counters are numbered as in LuaJIT and in `perilune -bl` listings: pc 1
//!   is the first instruction. LuaJIT has a function header instruction at pc 0;
//!   Perilune has none, so `funcbc(f, 0)` returns nothing, and `bytecodes` counts
//!   that pc as LuaJIT does (the instructions are `1 .. bytecodes - 1`).
//! - `funcbc` returns Perilune's own instruction word (same field layout as
//!   LuaJIT's: `OP:8 A:8 C:8 B:8`, `D = C | B << 8`, jumps biased by `0x8000`) and a
//!   mode word in LuaJIT's encoding (`ma | mb << 3 | mc << 7 | mm << 11`), so that
//!   disassemblers written for LuaJIT decode the operands; the opcode numbers and
//!   names are Perilune's (`jit.vmdef.bcnames`).
//! - Constants: Perilune's bytecode indexes numbers, strings and template tables in
//!   one array, and child functions in another. `funck(f, i)` (i >= 0) is constant
//!   `i` if it is a number, `funck(f, -i - 1)` constant `i` if it is a string or a
//!   table (a copy of the template), so the operand of an instruction names its
//!   constant as in LuaJIT; child `d` (the D operand of `FNEW`) is
//!   `funck(f, -(nconsts + d) - 1)`. `nconsts` is the size of the constant array,
//!   `gcconsts` that plus the number of children.
//! - Trace-level functions exist and return nothing: there are no traces yet.

use crate::compiler::bytecode::{op_byte, Op};
use crate::func::GcFunc;
use crate::object::{GcProto, GcRef, GcTable};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// The `jit.util` table.
pub fn open(st: &mut State) -> LResult<GcRef<GcTable>> {
    let t = st.new_table(0, 16)?;
    super::super::open_funcs(st, super::super::Lib::JitUtil, t)?;
    Ok(t)
}

/// Argument 1: any function.
fn check_func(st: &mut State) -> LResult<GcRef<GcFunc>> {
    match st.arg(1).as_function() {
        Some(f) => Ok(f),
        None => Err(st.type_error(1, "function")),
    }
}

/// Argument 1: a Lua function's prototype (a native gets LuaJIT's message,
/// "function expected, got function").
fn check_proto(st: &mut State) -> LResult<GcRef<GcProto>> {
    match st.arg(1).as_function().and_then(|f| f.proto()) {
        Some(p) => Ok(p),
        None => Err(st.type_error(1, "function")),
    }
}

fn set(st: &mut State, t: GcRef<GcTable>, name: &[u8], v: Value) -> LResult<()> {
    let k = st.str_value(name)?;
    st.table_set(t, k, v)
}

/// The number of pcs LuaJIT counts: the instructions plus the header at pc 0.
fn size_bc(p: &GcProto) -> i64 {
    p.code.len() as i64 + 1
}

/// The source line of pc `pc` (LuaJIT's `lj_debug_line`): pc 0 is the function's
/// first line, one past the last instruction its last line, beyond that 0.
fn line_at(p: &GcProto, pc: i64) -> i64 {
    let n = size_bc(p);
    if pc < 0 || pc > n {
        0
    } else if pc == 0 {
        p.line_defined as i64
    } else if pc == n {
        p.last_line_defined as i64
    } else {
        p.lineinfo.get(pc as usize - 1).map_or(0, |&l| l as i64)
    }
}

/// `chunk:line` as LuaJIT's `funcinfo` gives `loc`: a file by its base name, `=name`
/// as `name`, a string chunk in double quotes, a long one by its prototype address.
fn location(p: GcRef<GcProto>, line: i64) -> Vec<u8> {
    let src = p.source.as_bytes();
    let mut out = Vec::with_capacity(src.len().min(64) + 12);
    if let Some(path) = src.strip_prefix(b"@") {
        let base = path
            .iter()
            .rposition(|&c| c == b'/' || c == b'\\')
            .map_or(path, |i| &path[i + 1..]);
        out.extend_from_slice(base);
    } else if src.len() > 40 {
        out.extend_from_slice(format!("{:#x}", p.as_ptr() as usize).as_bytes());
    } else if let Some(name) = src.strip_prefix(b"=") {
        out.extend_from_slice(name);
    } else {
        out.push(b'"');
        out.extend_from_slice(src);
        out.push(b'"');
    }
    out.extend_from_slice(format!(":{line}").as_bytes());
    out
}

/// `info = jit.util.funcinfo(f [, pc])`.
pub(crate) fn funcinfo(st: &mut State) -> LResult<usize> {
    let f = check_func(st)?;
    let Some(p) = f.proto() else {
        let t = st.new_table(0, 4)?;
        st.push(Value::table(t))?;
        if let Some(id) = f.luajit_ffid() {
            set(st, t, b"ffid", Value::number(f64::from(id)))?;
        }
        let addr = f.native().map_or(0, |n| n as usize);
        set(st, t, b"addr", Value::number(addr as f64))?;
        set(st, t, b"upvalues", Value::number(f.num_upvals() as f64))?;
        return Ok(1);
    };
    // (A native's second argument is not looked at, as in LuaJIT.)
    let pc = st.opt_integer(2, 0)?;
    let t = st.new_table(0, 16)?;
    st.push(Value::table(t))?;
    let num = |n: usize| Value::number(n as f64);
    let fields = [
        (&b"linedefined"[..], num(p.line_defined as usize)),
        (b"lastlinedefined", num(p.last_line_defined as usize)),
        (b"stackslots", num(p.framesize as usize)),
        (b"params", num(p.num_params as usize)),
        (b"bytecodes", Value::number(size_bc(&p) as f64)),
        (b"gcconsts", num(p.consts.len() + p.protos.len())),
        (b"nconsts", num(p.consts.len())),
        (b"upvalues", num(p.upvals.len())),
        (b"isvararg", Value::boolean(p.is_vararg)),
        (b"children", Value::boolean(!p.protos.is_empty())),
        (b"source", Value::string(p.source)),
    ];
    for (k, v) in fields {
        set(st, t, k, v)?;
    }
    let line = line_at(&p, pc);
    if (0..size_bc(&p)).contains(&pc) {
        set(st, t, b"currentline", Value::number(line as f64))?;
    }
    let loc = location(p, line);
    let loc = st.str_value(&loc)?;
    set(st, t, b"loc", loc)?;
    Ok(1)
}

/// LuaJIT's operand modes (`BCMnone`, `BCMdst`, ...).
mod mode {
    pub const NONE: u32 = 0;
    pub const DST: u32 = 1;
    pub const BASE: u32 = 2;
    pub const VAR: u32 = 3;
    pub const RBASE: u32 = 4;
    pub const UV: u32 = 5;
    pub const LIT: u32 = 6;
    pub const LITS: u32 = 7;
    pub const PRI: u32 = 8;
    pub const NUM: u32 = 9;
    pub const STR: u32 = 10;
    pub const TAB: u32 = 11;
    pub const CDATA: u32 = 12;
    pub const JUMP: u32 = 13;
    /// "No metamethod" (LuaJIT's `MM__MAX` in the 2.1 build the tests compare with).
    pub const MM_NONE: u32 = 22;
}

/// The mode word of `op` in LuaJIT's encoding: the modes of A, B and C (or D, in
/// C's place) and the metamethod the instruction may call (LuaJIT's `MM_*`
/// numbering, which is Perilune's `Tm` order).
fn op_mode(op: Op) -> u32 {
    use crate::vm::state::Tm;
    use mode::*;
    use Op::*;
    let (a, b, c, mm): (u32, u32, u32, Option<Tm>) = match op {
        ISLT | ISGE => (VAR, NONE, VAR, Some(Tm::Lt)),
        ISLE | ISGT => (VAR, NONE, VAR, Some(Tm::Le)),
        ISEQV | ISNEV => (VAR, NONE, VAR, Some(Tm::Eq)),
        ISEQS | ISNES => (VAR, NONE, STR, Some(Tm::Eq)),
        ISEQN | ISNEN => (VAR, NONE, NUM, Some(Tm::Eq)),
        ISEQP | ISNEP => (VAR, NONE, PRI, Some(Tm::Eq)),
        ISTC | ISFC => (DST, NONE, VAR, None),
        IST | ISF => (NONE, NONE, VAR, None),
        MOV | NOT => (DST, NONE, VAR, None),
        UNM => (DST, NONE, VAR, Some(Tm::Unm)),
        LEN => (DST, NONE, VAR, Some(Tm::Len)),
        ADDVN | ADDNV => (DST, VAR, NUM, Some(Tm::Add)),
        SUBVN | SUBNV => (DST, VAR, NUM, Some(Tm::Sub)),
        MULVN | MULNV => (DST, VAR, NUM, Some(Tm::Mul)),
        DIVVN | DIVNV => (DST, VAR, NUM, Some(Tm::Div)),
        MODVN | MODNV => (DST, VAR, NUM, Some(Tm::Mod)),
        ADDVV => (DST, VAR, VAR, Some(Tm::Add)),
        SUBVV => (DST, VAR, VAR, Some(Tm::Sub)),
        MULVV => (DST, VAR, VAR, Some(Tm::Mul)),
        DIVVV => (DST, VAR, VAR, Some(Tm::Div)),
        MODVV => (DST, VAR, VAR, Some(Tm::Mod)),
        POW => (DST, VAR, VAR, Some(Tm::Pow)),
        CAT => (DST, RBASE, RBASE, Some(Tm::Concat)),
        KSTR => (DST, NONE, STR, None),
        KNUM => (DST, NONE, NUM, None),
        KCDATA => (DST, NONE, CDATA, None),
        KSHORT => (DST, NONE, LITS, None),
        KPRI => (DST, NONE, PRI, None),
        KNIL => (BASE, NONE, BASE, None),
        UGET => (DST, NONE, UV, None),
        USETV => (UV, NONE, VAR, None),
        USETS => (UV, NONE, STR, None),
        USETN => (UV, NONE, NUM, None),
        USETP => (UV, NONE, PRI, None),
        UCLO => (RBASE, NONE, JUMP, None),
        // D is the index of a child function, not of a constant (see the module docs).
        FNEW => (DST, NONE, LIT, None),
        TNEW => (DST, NONE, LIT, None),
        TDUP => (DST, NONE, TAB, None),
        GGET => (DST, NONE, STR, Some(Tm::Index)),
        GSET => (VAR, NONE, STR, Some(Tm::NewIndex)),
        TGETV => (DST, VAR, VAR, Some(Tm::Index)),
        TGETS => (DST, VAR, STR, Some(Tm::Index)),
        TGETB => (DST, VAR, LIT, Some(Tm::Index)),
        TSETV => (VAR, VAR, VAR, Some(Tm::NewIndex)),
        TSETS => (VAR, VAR, STR, Some(Tm::NewIndex)),
        TSETB => (VAR, VAR, LIT, Some(Tm::NewIndex)),
        TSETM => (BASE, NONE, NUM, Some(Tm::NewIndex)),
        CALLM | CALL | ITERC => (BASE, LIT, LIT, Some(Tm::Call)),
        CALLMT | CALLT => (BASE, NONE, LIT, Some(Tm::Call)),
        VARG => (BASE, LIT, LIT, None),
        RETM => (BASE, NONE, LIT, None),
        RET | RET0 | RET1 => (RBASE, NONE, LIT, None),
        FORI | FORL | ITERL | IFORL | IITERL | JFORL => (BASE, NONE, JUMP, None),
        LOOP | JMP | ILOOP | JLOOP => (RBASE, NONE, JUMP, None),
    };
    let mm = mm.map_or(MM_NONE, |m| m as u32);
    a | (b << 3) | (c << 7) | (mm << 11)
}

/// `ins, m = jit.util.funcbc(f, pc)`.
pub(crate) fn funcbc(st: &mut State) -> LResult<usize> {
    let p = check_proto(st)?;
    let pc = st.check_integer(2)?;
    let ins = match pc.checked_sub(1).and_then(|i| usize::try_from(i).ok()) {
        Some(i) => p.code.get(i).map(|&i| crate::compiler::bytecode::unpatch(i)),
        None => None,
    };
    let Some(ins) = ins else { return Ok(0) };
    let Some(op) = Op::from_u8(op_byte(ins)) else {
        return Ok(0);
    };
    st.push(Value::number(ins as i32 as f64))?;
    st.push(Value::number(op_mode(op) as f64))?;
    Ok(2)
}

/// `k = jit.util.funck(f, idx)`.
pub(crate) fn funck(st: &mut State) -> LResult<usize> {
    let p = check_proto(st)?;
    let idx = st.check_integer(2)?;
    if idx >= 0 {
        return match usize::try_from(idx).ok().and_then(|i| p.consts.get(i)) {
            Some(&k) if k.is_number() => {
                st.push(k)?;
                Ok(1)
            }
            _ => Ok(0),
        };
    }
    let Ok(i) = usize::try_from(-(idx + 1)) else {
        return Ok(0);
    };
    if let Some(&k) = p.consts.get(i) {
        if k.as_string().is_some() {
            st.push(k)?;
            return Ok(1);
        }
        if let Some(template) = k.as_table() {
            // A copy: the template itself must keep only what TDUP and string.dump
            // expect of it.
            let t = st.dup_table(template)?;
            st.push(Value::table(t))?;
            return Ok(1);
        }
        return Ok(0);
    }
    let Some(&child) = p.protos.get(i - p.consts.len()) else {
        return Ok(0);
    };
    // A closure of the child with fresh upvalues holding nil (as a loaded binary
    // chunk gets them); the upvalues exist before the closure, so no closure with
    // unset slots exists if an allocation fails.
    let nup = child.upvals.len();
    let mut ups = [None; crate::compiler::codegen::MAX_UPVALS];
    for slot in ups.iter_mut().take(nup) {
        *slot = Some(st.new_upval_closed(Value::NIL)?);
    }
    let env = st.cur.env;
    let f = st.new_lua_closure(child, env)?;
    for (dst, src) in f.lua_upvals().iter_mut().zip(ups.iter()) {
        if let Some(u) = src {
            *dst = *u;
        }
    }
    st.push(Value::function(f))?;
    Ok(1)
}

/// `name = jit.util.funcuvname(f, idx)`.
pub(crate) fn funcuvname(st: &mut State) -> LResult<usize> {
    let p = check_proto(st)?;
    let idx = st.check_integer(2)?;
    let Some(i) = usize::try_from(idx).ok().filter(|&i| i < p.upvals.len()) else {
        return Ok(0);
    };
    let name = match p.upval_names.get(i) {
        Some(&n) => Value::string(n),
        None => st.str_value(b"")?,
    };
    st.push(name)?;
    Ok(1)
}

/// The trace functions (`traceinfo(tr)`, `traceir(tr, ref)`, ...): no trace exists,
/// so they return nothing, as LuaJIT does for a trace number it does not have.
pub(crate) fn no_trace(st: &mut State) -> LResult<usize> {
    st.check_integer(1)?;
    Ok(0)
}

/// `addr = jit.util.ircalladdr(idx)`: there are no IR calls without a JIT.
pub(crate) fn ircalladdr(st: &mut State) -> LResult<usize> {
    st.check_integer(1)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::bytecode::ALL_OPS;

    #[test]
    fn every_op_has_a_mode() {
        for &op in ALL_OPS {
            let m = op_mode(op);
            assert!(m & 7 <= mode::UV, "{op:?}");
            assert!((m >> 3) & 15 <= mode::LIT && (m >> 7) & 15 <= mode::JUMP, "{op:?}");
            assert!(m >> 11 <= mode::MM_NONE, "{op:?}");
        }
        // As LuaJIT's ADDVN: dst, var, num, __add.
        assert_eq!(op_mode(Op::ADDVN), 21657);
    }
}
