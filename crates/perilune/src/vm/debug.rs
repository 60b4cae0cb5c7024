//! Debug information at run time: current lines, names of the variables and functions
//! involved in an error, positioned error messages and tracebacks.
//!
//! Names come from the bytecode, as LuaJIT derives them: a register is a local if a
//! local variable occupies it at that pc; otherwise the instruction that last wrote
//! it tells (GGET: global, TGETS: field or method, UGET: upvalue, MOV: the source's
//! name).

use crate::alloc::{HVec, OutOfMemory};
use crate::compiler::bytecode::{arg_a, arg_b, arg_c, arg_d, op_byte, Ins, Op};
use crate::func::GcProto;
use crate::object::{GcRef, GcStr, GcThread};
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
        | ADDVV | SUBVV | MULVV | DIVVV | MODVV | POW | CAT | KSTR | KNUM | KCDATA | KSHORT | KPRI | UGET | FNEW
        | TNEW | TDUP | GGET | TGETV | TGETS | TGETB | ISTC | ISFC => a == r,
        KNIL => r >= a && r <= arg_d(i),
        CALL | CALLM | VARG | ITERC => r >= a,
        FORI | FORL => r >= a && r <= a + 3,
        ITERL => r + 1 == a,
        _ => false,
    }
}

/// The name of local variable in register `reg` at `pc`, if any.
pub fn local_name(p: &GcProto, pc: usize, reg: u32) -> Option<GcRef<crate::object::GcStr>> {
    let pc = pc as u32;
    p.locvars
        .iter()
        .rev()
        .find(|lv| lv.reg as u32 == reg && lv.start_pc <= pc && pc < lv.end_pc)
        .map(|lv| lv.name)
}

/// A name shown in messages and tracebacks: a string of the program (a variable,
/// field or method name, any bytes and any length) or a builtin's own name.
#[derive(Clone, Copy, Debug)]
pub enum DebugName {
    Lua(GcRef<GcStr>),
    Builtin(&'static str),
}

impl DebugName {
    /// The name as messages, tracebacks and `debug.getinfo` show it: up to its first
    /// NUL, as LuaJIT keeps these names as C strings (`t["a\0b"]()` reads
    /// `attempt to call field 'a'`).
    pub fn as_bytes(&self) -> &[u8] {
        let b = match self {
            DebugName::Lua(s) => s.as_bytes(),
            DebugName::Builtin(s) => s.as_bytes(),
        };
        b.split(|&c| c == 0).next().unwrap_or(b)
    }
    /// For tracebacks, which are text on the Rust heap: at most
    /// [`TRACEBACK_NAME_MAX`] bytes of the name, then `...`.
    fn traceback_text(&self) -> String {
        let b = self.as_bytes();
        match b.get(..TRACEBACK_NAME_MAX) {
            Some(head) if b.len() > TRACEBACK_NAME_MAX => format!("{}...", String::from_utf8_lossy(head)),
            _ => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

/// The longest function name a traceback line shows whole. Tracebacks are built as
/// Rust text (the embedding API hands them out as `String`s), and a program can name
/// a function with a string constant of any size: 22 lines of a 10 MB name asked for
/// about 1 GB. LuaJIT shows names whole; names this long do not occur in real code.
pub const TRACEBACK_NAME_MAX: usize = 200;

fn const_str(p: &GcProto, idx: u32) -> Option<GcRef<GcStr>> {
    p.consts.get(idx as usize).and_then(|v| v.as_string())
}

/// What register `reg` holds at instruction `pc`: ("local", "x"), ("global", "f"), ...
pub fn reg_name(p: &GcProto, pc: usize, reg: u32) -> Option<(&'static str, DebugName)> {
    reg_name_depth(p, pc, reg, 0)
}

fn reg_name_depth(p: &GcProto, pc: usize, reg: u32, depth: u32) -> Option<(&'static str, DebugName)> {
    if let Some(n) = local_name(p, pc, reg) {
        return Some(("local", DebugName::Lua(n)));
    }
    if depth > 8 {
        return None;
    }
    let code = p.code.as_slice();
    let mut i = pc.min(code.len());
    while i > 0 {
        i -= 1;
        let ins = crate::compiler::bytecode::unpatch(code[i]);
        if !writes_reg(ins, reg) {
            continue;
        }
        let op = Op::from_u8(op_byte(ins))?;
        return match op {
            Op::GGET => Some(("global", DebugName::Lua(const_str(p, arg_d(ins))?))),
            Op::UGET => {
                let n = p.upval_names.get(arg_d(ins) as usize)?;
                Some(("upvalue", DebugName::Lua(*n)))
            }
            Op::TGETS => {
                let name = DebugName::Lua(const_str(p, arg_c(ins))?);
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
        frame_position_in(self.cur, ci)
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
        self.rt_error_bytes(msg.as_bytes())
    }

    /// [`State::rt_error_here`] for a message of any bytes and size.
    pub fn rt_error_bytes(&mut self, msg: &[u8]) -> Throw {
        self.rt_error_parts(&[msg])
    }

    /// A runtime error positioned at the current Lua code, its message the
    /// concatenation of `parts`. The parts are joined on the heap, so names and
    /// messages of any size (a script's strings) stay under the memory limit, and
    /// their bytes are kept as they are.
    pub fn rt_error_parts(&mut self, parts: &[&[u8]]) -> Throw {
        let pos = self.position_frame().and_then(|ci| self.frame_position(&ci));
        self.error_at(pos.as_deref(), parts)
    }

    /// A runtime error positioned at the current Lua code: the template `msg` of
    /// `crate::errmsg` with its `%s` replaced by `args`, joined on the heap.
    pub fn rt_error_fmt(&mut self, msg: &str, args: &[&[u8]]) -> Throw {
        self.rt_error_parts(&crate::errmsg::Parts::new(msg, args))
    }

    /// An error whose message is `pos` (if any), a space and the concatenation of
    /// `parts`, joined on the heap.
    pub fn error_at(&mut self, pos: Option<&str>, parts: &[&[u8]]) -> Throw {
        let joined = match pos {
            Some(pos) => {
                let all: Vec<&[u8]> = [pos.as_bytes(), b" "]
                    .into_iter()
                    .chain(parts.iter().copied())
                    .collect();
                self.join_bytes(&all)
            }
            None => self.join_bytes(parts),
        };
        match joined {
            Ok(s) => Throw::Error(Value::string(s)),
            Err(_) => Throw::Oom,
        }
    }

    /// The string of `parts` joined, built on the heap (no Rust copy of a part that
    /// may be as large as a script's string).
    pub fn join_bytes(&mut self, parts: &[&[u8]]) -> Result<GcRef<GcStr>, OutOfMemory> {
        let len = parts.iter().map(|p| p.len()).fold(0usize, usize::saturating_add);
        let mut text = HVec::with_capacity(self.heap_ref(), len)?;
        for part in parts {
            text.extend_from_slice(part)?;
        }
        self.intern(text.as_slice())
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

    /// The name of register `reg` of the top Lua frame: ("local", "x"), ...
    fn describe_reg(&self, reg: Option<u32>) -> Option<(&'static str, DebugName)> {
        let reg = reg?;
        let ci = *self.cur.frames.last()?;
        if ci.kind != FrameKind::Lua {
            return None;
        }
        let p = frame_proto(self, &ci)?;
        reg_name(&p, (ci.pc as usize).saturating_sub(1), reg)
    }

    /// "attempt to <op> local 'x' (a nil value)" or "attempt to <op> a nil value".
    pub fn op_error(&mut self, op: &str, v: Value, reg: Option<u32>) -> Throw {
        let tn = crate::vm::meta::type_name(v).as_bytes();
        let op = op.as_bytes();
        match self.describe_reg(reg) {
            Some((kind, name)) => {
                self.rt_error_fmt(crate::errmsg::OP_ON_NAMED, &[op, kind.as_bytes(), name.as_bytes(), tn])
            }
            None => self.rt_error_fmt(crate::errmsg::OP_ON_VALUE, &[op, tn]),
        }
    }

    /// "attempt to call ..." for the value at stack slot `func`.
    pub fn call_error(&mut self, func: usize, v: Value) -> Throw {
        let reg = self.slot_to_reg(func);
        self.op_error(crate::errmsg::OP_CALL, v, reg)
    }

    /// The error object carried by a throw.
    pub fn error_value(&mut self, e: Throw) -> Value {
        match e {
            Throw::Error(v) => v,
            Throw::Oom | Throw::Yield => Value::string(self.oom_msg),
            Throw::Abort => {
                let reason = std::mem::take(&mut self.budget.abort_reason);
                let v = self
                    .intern(reason.as_bytes())
                    .map_or(Value::string(self.oom_msg), Value::string);
                self.budget.abort_reason = reason;
                v
            }
        }
    }

    /// Run the xpcall handler in stack slot `slot` on `msg`; its first result replaces
    /// the message. A failing handler gives "error in error handling".
    ///
    /// As in LuaJIT, while a handler runs on a thread, an error that reaches another
    /// handler on the same thread (a nested `xpcall` inside the handler) does not run
    /// it: its message is "error in error handling". A stack overflow inside the
    /// handler makes the message "stack overflow".
    pub fn call_handler(&mut self, slot: usize, msg: Value) -> Value {
        let th = self.cur.as_ptr() as usize;
        if self.handling_thread == th {
            return self.error_in_error_handling();
        }
        let h = self.cur.stack.get(slot).copied().unwrap_or(Value::NIL);
        // The handler may run right after a stack overflow: give it headroom.
        let saved = std::mem::replace(&mut self.error_headroom, true);
        let saved_thread = std::mem::replace(&mut self.handling_thread, th);
        let saved_overflow = std::mem::replace(&mut self.overflow_in_handler, false);
        let r = self.call_sync(h, &[msg]);
        self.error_headroom = saved;
        self.handling_thread = saved_thread;
        let overflowed = std::mem::replace(&mut self.overflow_in_handler, saved_overflow);
        match r {
            Ok(v) => v,
            Err(Throw::Oom) => Value::string(self.oom_msg),
            Err(Throw::Error(_)) if overflowed => match self.intern(crate::errmsg::STACK_OVERFLOW.as_bytes()) {
                Ok(s) => Value::string(s),
                Err(_) => Value::string(self.oom_msg),
            },
            Err(_) => self.error_in_error_handling(),
        }
    }

    /// The message "error in error handling".
    fn error_in_error_handling(&mut self) -> Value {
        match self.intern(crate::errmsg::ERROR_IN_ERROR.as_bytes()) {
            Ok(s) => Value::string(s),
            Err(_) => Value::string(self.oom_msg),
        }
    }

    /// How the caller named the function in frame `idx`: ("method", "rep"), ...
    pub fn function_name_kind(&self, idx: usize) -> Option<(&'static str, DebugName)> {
        function_name_kind_in(self.cur, idx)
    }

    /// A traceback of the current thread's frames, from the top, in the luajit
    /// command's format (without the leading message and without the final host
    /// line, `[C]: at 0x...`, which the caller appends; it counts as a level for the
    /// cut described in [`State::traceback_of`]). The luajit command takes it from
    /// its error handler at level 1, so the top frame here is LuaJIT's level 1.
    pub fn traceback_text(&self) -> String {
        self.traceback_lines(self.cur, 0, 1, true, false)
    }

    /// `stack traceback:` and the levels of thread `th` from `level` on (0 = its top
    /// frame), as LuaJIT's `debug.traceback` prints them. The main thread ends with
    /// the host's line, `[C]: at 0x...` (luajit's host C frame); a coroutine has none.
    ///
    /// Like LuaJIT's `luaL_traceback`, when the levels run past index
    /// [`TRACEBACK_LEVELS1`] + [`TRACEBACK_LEVELS2`] (counting from level 0 whatever
    /// the first level shown), only levels below [`TRACEBACK_LEVELS1`], `...` and the
    /// last [`TRACEBACK_LEVELS2`] levels are shown. Besides matching luajit's output,
    /// this bounds the text: it is built on the Rust heap, outside the state's
    /// accounting, and a traceback of a stack overflow 20000 frames deep used to take
    /// more than a megabyte there (found by the memory-limit tests,
    /// tests/memory_limit.rs).
    pub fn traceback_of(&self, th: GcRef<GcThread>, level: usize) -> String {
        let host = th == self.main_thread;
        self.traceback_lines(th, level, 0, host, host)
    }

    /// The host line that ends a traceback of the main thread.
    pub fn host_frame_line(&self) -> String {
        format!("[C]: at {:#x}", self as *const State as usize)
    }

    /// Levels `level..` of `th`; `off` is added to a level to get LuaJIT's level
    /// number, which decides the cut.
    fn traceback_lines(
        &self,
        th: GcRef<GcThread>,
        level: usize,
        off: usize,
        count_host: bool,
        print_host: bool,
    ) -> String {
        let mut out = String::from("stack traceback:");
        let n = th.frames.len();
        // Levels are numbered from the top, 0..n for the frames and n for the host.
        let total = n + count_host as usize;
        let count = total + off;
        let cut = count > TRACEBACK_LEVELS1 + TRACEBACK_LEVELS2 + 1;
        let mut dots = false;
        for lv in level..total {
            let abs = lv + off;
            if cut && abs >= TRACEBACK_LEVELS1 && abs < count - TRACEBACK_LEVELS2 {
                if !dots {
                    out.push_str("\n\t...");
                    dots = true;
                }
                continue;
            }
            if lv == n {
                if print_host {
                    out.push_str("\n\t");
                    out.push_str(&self.host_frame_line());
                }
                continue;
            }
            let idx = n - 1 - lv;
            let ci = th.frames[idx];
            out.push_str("\n\t");
            match ci.kind {
                FrameKind::Native => {
                    let f = th.stack.get(ci.func as usize).and_then(|v| v.as_function());
                    let name = function_name_kind_in(th, idx)
                        .map(|(_, n)| n)
                        .or_else(|| f.map(|f| DebugName::Builtin((self.ff_name)(f.ffid))));
                    match name {
                        Some(n) if n.as_bytes() != b"?" => {
                            let _ = write!(out, "[C]: in function '{}'", n.traceback_text());
                        }
                        _ => out.push_str("[C]: ?"),
                    }
                }
                FrameKind::Lua => {
                    let Some(p) = thread_frame_proto(th, &ci) else { continue };
                    let pos = traceback_position_in(th, &ci).unwrap_or_default();
                    if p.is_main() {
                        let _ = write!(out, "{pos} in main chunk");
                    } else if let Some((_, name)) = function_name_kind_in(th, idx) {
                        let _ = write!(out, "{pos} in function '{}'", name.traceback_text());
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

/// `chunk:line:` of a Lua frame's current instruction, in thread `th`.
pub fn frame_position_in(th: GcRef<GcThread>, ci: &CallInfo) -> Option<String> {
    let p = thread_frame_proto(th, ci)?;
    let line = p.lineinfo.get((ci.pc as usize).saturating_sub(1)).copied().unwrap_or(0);
    Some(format!("{}:{}:", crate::compiler::chunk_id(p.source.as_bytes()), line))
}

/// A traceback's `chunk:line:` of a Lua frame: without the line where there is none
/// (a stripped function is on line 0), as `luaL_traceback` writes it.
fn traceback_position_in(th: GcRef<GcThread>, ci: &CallInfo) -> Option<String> {
    let p = thread_frame_proto(th, ci)?;
    let chunk = crate::compiler::chunk_id(p.source.as_bytes());
    match p.lineinfo.get((ci.pc as usize).saturating_sub(1)).copied().unwrap_or(0) {
        0 => Some(format!("{chunk}:")),
        line => Some(format!("{chunk}:{line}:")),
    }
}

/// The current line of a Lua frame of thread `th`, or -1 (natives).
pub fn current_line_in(th: GcRef<GcThread>, ci: &CallInfo) -> i64 {
    match thread_frame_proto(th, ci) {
        Some(p) => p
            .lineinfo
            .get((ci.pc as usize).saturating_sub(1))
            .map_or(-1, |&l| l as i64),
        None => -1,
    }
}

/// The metamethod an instruction invokes when its operands need one.
fn metamethod_of(op: Op) -> Option<&'static str> {
    use Op::*;
    Some(match op {
        GGET | TGETV | TGETS | TGETB => "__index",
        GSET | TSETV | TSETS | TSETB | TSETM => "__newindex",
        ADDVN | ADDNV | ADDVV => "__add",
        SUBVN | SUBNV | SUBVV => "__sub",
        MULVN | MULNV | MULVV => "__mul",
        DIVVN | DIVNV | DIVVV => "__div",
        MODVN | MODNV | MODVV => "__mod",
        POW => "__pow",
        UNM => "__unm",
        LEN => "__len",
        CAT => "__concat",
        ISEQV | ISNEV | ISEQS | ISNES | ISEQN | ISNEN | ISEQP | ISNEP => "__eq",
        ISLT | ISGE => "__lt",
        ISLE | ISGT => "__le",
        _ => return None,
    })
}

/// How the caller named the function in frame `idx` of thread `th`, from the
/// caller's current instruction, as LuaJIT 2.1 reports it: the called register's
/// name for calls (a generic `for` calls its `(for generator)` local), or
/// `("metamethod", "__index")` and the like for a metamethod run by an instruction.
/// `None` when a native called it (pcall, sort comparators, ...).
pub fn function_name_kind_in(th: GcRef<GcThread>, idx: usize) -> Option<(&'static str, DebugName)> {
    let ci = th.frames.get(idx)?;
    let caller = th.frames.get(idx.checked_sub(1)?)?;
    if caller.kind != FrameKind::Lua {
        return None;
    }
    let p = thread_frame_proto(th, caller)?;
    let pc = (caller.pc as usize).checked_sub(1)?;
    let ins = *p.code.get(pc)?;
    let op = Op::from_u8(op_byte(ins))?;
    if ci.cont != Cont::Normal && ci.cont != Cont::Pcall {
        return metamethod_of(op).map(|m| ("metamethod", DebugName::Builtin(m)));
    }
    match op {
        Op::CALL | Op::CALLM | Op::CALLT | Op::CALLMT => reg_name(&p, pc, arg_a(ins)),
        Op::ITERC => reg_name(&p, pc, arg_a(ins).checked_sub(3)?),
        _ => None,
    }
}

/// LuaJIT levels below this are shown before the `...` of a long traceback (LuaJIT's
/// `TRACEBACK_LEVELS1`).
pub const TRACEBACK_LEVELS1: usize = 12;
/// Traceback levels shown after the `...` of a long traceback (LuaJIT's
/// `TRACEBACK_LEVELS2`).
pub const TRACEBACK_LEVELS2: usize = 10;

/// The prototype running in a Lua frame of the running thread.
pub fn frame_proto(st: &State, ci: &CallInfo) -> Option<GcRef<GcProto>> {
    thread_frame_proto(st.cur, ci)
}

/// The prototype running in a Lua frame of thread `th`.
pub fn thread_frame_proto(th: GcRef<GcThread>, ci: &CallInfo) -> Option<GcRef<GcProto>> {
    if ci.kind != FrameKind::Lua {
        return None;
    }
    th.stack.get(ci.func as usize)?.as_function()?.proto()
}
