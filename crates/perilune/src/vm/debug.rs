//! Debug information at run time: current lines, names of the variables and functions
//! involved in an error, positioned error messages and tracebacks.
//!
//! Names come from the bytecode, as LuaJIT derives them: a register is a local if a
//! local variable occupies it at that pc; otherwise the instruction that last wrote
//! it tells (GGET: global, TGETS: field or method, UGET: upvalue, MOV: the source's
//! name).

use crate::compiler::bytecode::{arg_a, arg_b, arg_c, arg_d, op_byte, Ins, Op};
use crate::func::Proto;
use crate::object::GcRef;
use crate::value::Value;
use crate::vm::error::Throw;
use crate::vm::frame::{flags, CallInfo, Cont, FrameKind};
use crate::vm::state::State;
use std::fmt::Write as _;

/// Does instruction `i` write register `r`?
fn writes_reg(i: Ins, r: u32) -> bool {
    let Some(op) = Op::from_u8(op_byte(i)) else {
        return false;
    };
    let a = arg_a(i);
    use Op::*;
    match op {
        MOV | NOT | UNM | LEN | ADDVN | SUBVN | MULVN | DIVVN | MODVN | ADDNV | SUBNV | MULNV | DIVNV | MODNV
        | ADDVV | SUBVV | MULVV | DIVVV | MODVV | POW | CAT | KSTR | KNUM | KSHORT | KPRI | UGET | FNEW | TNEW
        | TDUP | GGET | TGETV | TGETS | TGETB | ISTC | ISFC => a == r,
        KNIL => r >= a && r <= arg_d(i),
        CALL | CALLM | VARG | ITERC => r >= a,
        FORI | FORL => r >= a && r <= a + 3,
        ITERL => r + 1 == a,
        _ => false,
    }
}

/// The name of local variable in register `reg` at `pc`, if any.
pub fn local_name(p: &Proto, pc: usize, reg: u32) -> Option<GcRef<crate::object::LuaStr>> {
    let pc = pc as u32;
    p.locvars
        .iter()
        .rev()
        .find(|lv| lv.reg as u32 == reg && lv.start_pc <= pc && pc < lv.end_pc)
        .map(|lv| lv.name)
}

fn const_str(p: &Proto, idx: u32) -> Option<String> {
    p.consts
        .get(idx as usize)
        .and_then(|v| v.as_string())
        .map(|s| s.to_str_lossy().into_owned())
}

/// What register `reg` holds at instruction `pc`: ("local", "x"), ("global", "f"), ...
pub fn reg_name(p: &Proto, pc: usize, reg: u32) -> Option<(&'static str, String)> {
    reg_name_depth(p, pc, reg, 0)
}

fn reg_name_depth(p: &Proto, pc: usize, reg: u32, depth: u32) -> Option<(&'static str, String)> {
    if let Some(n) = local_name(p, pc, reg) {
        return Some(("local", n.to_str_lossy().into_owned()));
    }
    if depth > 8 {
        return None;
    }
    let code = p.code.as_slice();
    let mut i = pc.min(code.len());
    while i > 0 {
        i -= 1;
        let ins = code[i];
        if !writes_reg(ins, reg) {
            continue;
        }
        let op = Op::from_u8(op_byte(ins))?;
        return match op {
            Op::GGET => Some(("global", const_str(p, arg_d(ins))?)),
            Op::UGET => {
                let n = p.upval_names.get(arg_d(ins) as usize)?;
                Some(("upvalue", n.to_str_lossy().into_owned()))
            }
            Op::TGETS => {
                let name = const_str(p, arg_c(ins))?;
                let obj = arg_b(ins);
                let is_self = |j: usize| {
                    code.get(j)
                        .is_some_and(|&m| op_byte(m) == Op::MOV as u8 && arg_a(m) == reg + 1 && arg_d(m) == obj)
                };
                // A method call loads the receiver first (MOV, then TGETS); a field
                // call that passes the table explicitly copies it afterwards.
                if i > 0 && is_self(i - 1) {
                    Some(("method", name))
                } else {
                    Some(("field", name))
                }
            }
            Op::MOV => reg_name_depth(p, i, arg_d(ins), depth + 1),
            _ => None,
        };
    }
    None
}

impl State {
    /// The Lua frame an error position refers to: the top frame if it is Lua; for a
    /// native on top, the Lua frame that called it (unless pcall called it directly).
    fn position_frame(&self) -> Option<CallInfo> {
        let th = self.cur;
        let n = th.frames.len();
        let top = *th.frames.last()?;
        match top.kind {
            FrameKind::Lua => Some(top),
            FrameKind::Native => {
                if top.flags & flags::PROTECTED != 0 || n < 2 {
                    return None;
                }
                let below = th.frames[n - 2];
                (below.kind == FrameKind::Lua).then_some(below)
            }
        }
    }

    /// `chunk:line:` of a Lua frame's current instruction.
    pub fn frame_position(&self, ci: &CallInfo) -> Option<String> {
        let p = frame_proto(self, ci)?;
        let line = p.lineinfo.get((ci.pc as usize).saturating_sub(1)).copied().unwrap_or(0);
        Some(format!("{}:{}:", crate::compiler::chunk_id(p.source.as_bytes()), line))
    }

    /// The current line of the Lua frame at `level` (0 = top), or -1.
    pub fn current_line(&self, ci: &CallInfo) -> i64 {
        match frame_proto(self, ci) {
            Some(p) => p
                .lineinfo
                .get((ci.pc as usize).saturating_sub(1))
                .map_or(-1, |&l| l as i64),
            None => -1,
        }
    }

    /// Make an error value from text, never failing (falls back to the OOM error).
    pub fn error_from_text(&mut self, msg: &str) -> Throw {
        match self.intern(msg.as_bytes()) {
            Ok(s) => Throw::Error(Value::string(s)),
            Err(_) => Throw::Oom,
        }
    }

    /// A runtime error positioned at the current Lua code.
    pub fn rt_error_here(&mut self, msg: &str) -> Throw {
        let text = match self.position_frame().and_then(|ci| self.frame_position(&ci)) {
            Some(pos) => format!("{pos} {msg}"),
            None => msg.to_string(),
        };
        self.error_from_text(&text)
    }

    /// A runtime error positioned at the innermost Lua frame, whatever natives run
    /// above it (stack overflow is reported where the Lua code was).
    pub fn rt_error_innermost_lua(&mut self, msg: &str) -> Throw {
        let th = self.cur;
        let pos = th
            .frames
            .iter()
            .rev()
            .find(|ci| ci.kind == FrameKind::Lua)
            .and_then(|ci| self.frame_position(ci));
        let text = match pos {
            Some(pos) => format!("{pos} {msg}"),
            None => msg.to_string(),
        };
        self.error_from_text(&text)
    }

    /// The register a stack slot is in the top Lua frame, if it is one.
    pub fn slot_to_reg(&self, slot: usize) -> Option<u32> {
        let ci = self.cur.frames.last()?;
        (ci.kind == FrameKind::Lua && slot >= ci.base as usize).then(|| (slot - ci.base as usize) as u32)
    }

    /// Describe register `reg` of the top Lua frame: `local 'x'`, `global 'f'`, ...
    fn describe_reg(&self, reg: Option<u32>) -> Option<String> {
        let reg = reg?;
        let ci = *self.cur.frames.last()?;
        if ci.kind != FrameKind::Lua {
            return None;
        }
        let p = frame_proto(self, &ci)?;
        let (kind, name) = reg_name(&p, (ci.pc as usize).saturating_sub(1), reg)?;
        Some(format!("{kind} '{name}'"))
    }

    /// "attempt to <op> local 'x' (a nil value)" or "attempt to <op> a nil value".
    pub fn op_error(&mut self, op: &str, v: Value, reg: Option<u32>) -> Throw {
        let tn = crate::vm::meta::type_name(v);
        let msg = match self.describe_reg(reg) {
            Some(d) => format!("attempt to {op} {d} (a {tn} value)"),
            None => format!("attempt to {op} a {tn} value"),
        };
        self.rt_error_here(&msg)
    }

    /// "attempt to call ..." for the value at stack slot `func`.
    pub fn call_error(&mut self, func: usize, v: Value) -> Throw {
        let reg = self.slot_to_reg(func);
        self.op_error("call", v, reg)
    }

    /// "bad argument #i to 'name' (msg)" for a builtin that has no frame yet.
    pub fn arg_error_at(&mut self, func: usize, i: usize, msg: &str) -> Throw {
        let name = self
            .cur
            .stack
            .get(func)
            .and_then(|v| v.as_function())
            .map_or("?", |f| f.name);
        self.rt_error_here(&format!("bad argument #{i} to '{name}' ({msg})"))
    }

    /// The error object carried by a throw.
    pub fn error_value(&mut self, e: Throw) -> Value {
        match e {
            Throw::Error(v) => v,
            Throw::Oom | Throw::Yield => Value::string(self.oom_msg),
            Throw::Abort => {
                let reason = std::mem::take(&mut self.hooks.abort_reason);
                let v = self
                    .intern(reason.as_bytes())
                    .map_or(Value::string(self.oom_msg), Value::string);
                self.hooks.abort_reason = reason;
                v
            }
        }
    }

    /// Run the xpcall handler in stack slot `slot` on `msg`; its first result replaces
    /// the message. A failing handler gives "error in error handling".
    pub fn call_handler(&mut self, slot: usize, msg: Value) -> Value {
        let h = self.cur.stack.get(slot).copied().unwrap_or(Value::NIL);
        match self.call_sync(h, &[msg]) {
            Ok(v) => v,
            Err(Throw::Oom) => Value::string(self.oom_msg),
            Err(_) => match self.intern(b"error in error handling") {
                Ok(s) => Value::string(s),
                Err(_) => Value::string(self.oom_msg),
            },
        }
    }

    /// The name of the function running in frame `idx`, from its caller's call
    /// instruction.
    pub fn function_name(&self, idx: usize) -> Option<String> {
        self.function_name_kind(idx).map(|(_, n)| n)
    }

    /// How the caller named the function in frame `idx`: ("method", "rep"), ...
    pub fn function_name_kind(&self, idx: usize) -> Option<(&'static str, String)> {
        let th = self.cur;
        let ci = th.frames.get(idx)?;
        if ci.cont != Cont::Normal && ci.cont != Cont::Pcall {
            return None;
        }
        let caller = th.frames.get(idx.checked_sub(1)?)?;
        if caller.kind != FrameKind::Lua {
            return None;
        }
        let p = frame_proto(self, caller)?;
        let pc = (caller.pc as usize).checked_sub(1)?;
        let ins = *p.code.get(pc)?;
        let op = Op::from_u8(op_byte(ins))?;
        match op {
            Op::CALL | Op::CALLM | Op::CALLT | Op::CALLMT => reg_name(&p, pc, arg_a(ins)),
            Op::ITERC => Some(("for iterator", "(for generator)".into())),
            _ => None,
        }
    }

    /// A traceback of the current thread's frames, from the top, in the luajit
    /// command's format (without the leading message and without the final host
    /// line, `[C]: at 0x...`, which the caller appends).
    ///
    /// Like LuaJIT's `luaL_traceback`, a traceback of more than
    /// [`TRACEBACK_LEVELS1`] + [`TRACEBACK_LEVELS2`] levels (the host line counts as
    /// one) shows the first [`TRACEBACK_LEVELS1`] - 1 levels, `...`, and the last
    /// [`TRACEBACK_LEVELS2`]. Besides matching luajit's output, this bounds the text:
    /// it is built on the Rust heap, outside the state's accounting, and a traceback
    /// of a stack overflow 20000 frames deep used to take more than a megabyte there
    /// (found by the memory-limit tests, tests/memory_limit.rs).
    pub fn traceback_text(&self) -> String {
        let th = self.cur;
        let mut out = String::from("stack traceback:");
        let n = th.frames.len();
        // Levels are numbered from the top, 0..n for the frames and n for the host.
        let cut = n + 1 > TRACEBACK_LEVELS1 + TRACEBACK_LEVELS2;
        for idx in (0..n).rev() {
            let level = n - 1 - idx;
            if cut && level >= TRACEBACK_LEVELS1 - 1 && level < n + 1 - TRACEBACK_LEVELS2 {
                if level == TRACEBACK_LEVELS1 - 1 {
                    out.push_str("\n\t...");
                }
                continue;
            }
            let ci = th.frames[idx];
            out.push_str("\n\t");
            match ci.kind {
                FrameKind::Native => {
                    let f = th.stack.get(ci.func as usize).and_then(|v| v.as_function());
                    let name = self.function_name(idx).or_else(|| f.map(|f| f.name.to_string()));
                    match name {
                        Some(n) if n != "?" => {
                            let _ = write!(out, "[C]: in function '{n}'");
                        }
                        _ => out.push_str("[C]: ?"),
                    }
                }
                FrameKind::Lua => {
                    let Some(p) = frame_proto(self, &ci) else { continue };
                    let pos = self.frame_position(&ci).unwrap_or_default();
                    if p.line_defined == 0 {
                        let _ = write!(out, "{pos} in main chunk");
                    } else if let Some(name) = self.function_name(idx) {
                        let _ = write!(out, "{pos} in function '{name}'");
                    } else {
                        let _ = write!(
                            out,
                            "{pos} in function <{}:{}>",
                            crate::compiler::chunk_id(p.source.as_bytes()),
                            p.line_defined
                        );
                    }
                }
            }
        }
        out
    }
}

/// Traceback levels shown before the `...` of a long traceback, plus one (LuaJIT's
/// `TRACEBACK_LEVELS1`; it shows 11 levels).
pub const TRACEBACK_LEVELS1: usize = 12;
/// Traceback levels shown after the `...` of a long traceback (LuaJIT's
/// `TRACEBACK_LEVELS2`).
pub const TRACEBACK_LEVELS2: usize = 10;

/// The prototype running in a Lua frame.
pub fn frame_proto(st: &State, ci: &CallInfo) -> Option<GcRef<Proto>> {
    if ci.kind != FrameKind::Lua {
        return None;
    }
    st.cur.stack.get(ci.func as usize)?.as_function()?.proto
}
