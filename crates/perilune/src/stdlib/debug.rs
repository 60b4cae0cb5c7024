//! The `debug` library, as LuaJIT 2.1 ships it: `getinfo`, `getlocal`/`setlocal`,
//! `getupvalue`/`setupvalue`, `upvalueid`/`upvaluejoin`, `traceback`,
//! `getmetatable`/`setmetatable` (any type), `getregistry`, `getfenv`/`setfenv`,
//! `sethook`/`gethook` and `debug`.
//!
//! Levels count frames from the top of a thread: on the running thread level 0 is
//! the debug function itself, level 1 its caller. Every function that takes a thread
//! as an optional first argument shifts its other arguments by one, and its argument
//! errors say so (`bad argument #3` for the option string after a thread), as in
//! LuaJIT. Levels and indices come from scripts: each is checked against the frame
//! stack, the frame's registers or the function's upvalue count before it is used.
//!
//! Local variables (`getlocal`): the n-th variable active at the frame's current
//! instruction (from the prototype's `locvars`), `(*temporary)` for the frame's
//! other live slots (up to the next frame), and with negative n the extra arguments
//! of a vararg function, named `(*vararg)` (LuaJIT 2.1).

use crate::object::{GcFunc, GcRef, GcTable, GcThread};
use crate::value::Value;
use crate::vm::debug::{current_line_in, function_name_kind_in, thread_frame_proto};
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::FrameKind;
use crate::vm::hook::mask;
use crate::vm::state::{type_index, State};

pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 20)?;
    super::open_funcs(st, super::Lib::Debug, t)?;
    st.set_global("debug", Value::table(t))
}

// --- Helpers ------------------------------------------------------------------------

/// The thread an optional first argument names, and how many arguments it takes (0
/// or 1): the others follow it.
fn thread_arg(st: &State) -> (GcRef<GcThread>, usize) {
    match st.arg(1).as_thread() {
        Some(t) => (t, 1),
        None => (st.cur, 0),
    }
}

/// Index of the frame at `level` (0 = top) of `th`, if there is one.
fn frame_index(th: GcRef<GcThread>, level: i64) -> Option<usize> {
    th.frame_index(usize::try_from(level).ok()?)
}

/// Set `t[name] = v` (raw).
fn set_field(st: &mut State, t: GcRef<GcTable>, name: &str, v: Value) -> LResult<()> {
    let k = st.str_value(name.as_bytes())?;
    st.table_set(t, k, v)
}

/// Interned string value.
fn sv(st: &mut State, s: &[u8]) -> LResult<Value> {
    Ok(st.str_value(s)?)
}

// --- Metatables, registry, environments -----------------------------------------------

pub(crate) fn getregistry(st: &mut State) -> LResult<usize> {
    st.push(Value::table(st.registry))?;
    Ok(1)
}

pub(crate) fn getmetatable(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    let mt = st.metatable_of(v).map_or(Value::NIL, Value::table);
    st.push(mt)?;
    Ok(1)
}

pub(crate) fn setmetatable(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    let mtv = st.arg(2);
    if st.arg_count() < 2 || (!mtv.is_nil() && !mtv.is_table()) {
        return Err(st.arg_error(2, crate::errmsg::NIL_OR_TABLE));
    }
    let mt = mtv.as_table();
    if let Some(t) = v.as_table() {
        t.get_mut().metatable = mt;
        crate::gc::barrier_forward(st, t.header(), mtv);
    } else if let Some(u) = v.as_userdata() {
        u.get_mut().metatable = mt;
        crate::gc::barrier_forward(st, u.header(), mtv);
    } else {
        // Shared per-type metatables are GC roots, marked again in the atomic phase.
        st.type_mts[type_index(v.lua_type())] = mt;
    }
    st.push(Value::TRUE)?;
    Ok(1)
}

pub(crate) fn getfenv(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    let env = if let Some(f) = v.as_function() {
        Value::table(f.env)
    } else if let Some(t) = v.as_thread() {
        Value::table(t.env)
    } else if let Some(u) = v.as_userdata() {
        Value::table(u.env)
    } else {
        Value::NIL
    };
    st.push(env)?;
    Ok(1)
}

pub(crate) fn setfenv(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    let t = st.check_table(2)?;
    let tv = Value::table(t);
    if let Some(f) = v.as_function() {
        f.get_mut().env = t;
        crate::gc::barrier_forward(st, f.header(), tv);
    } else if let Some(th) = v.as_thread() {
        th.get_mut().env = t;
        crate::gc::barrier_forward(st, th.header(), tv);
    } else if let Some(u) = v.as_userdata() {
        u.get_mut().env = t;
        crate::gc::barrier_forward(st, u.header(), tv);
    } else {
        return Err(st.rt_error(crate::errmsg::SETFENV));
    }
    st.push(v)?;
    Ok(1)
}

// --- getinfo ------------------------------------------------------------------------

/// What `getinfo` describes: a function value, or a frame of a thread.
enum Target {
    Func(Value),
    Frame(GcRef<GcThread>, usize),
}

pub(crate) fn getinfo(st: &mut State) -> LResult<usize> {
    let (th, a) = thread_arg(st);
    let what = st.arg(a + 1);
    let target = if what.is_function() {
        Target::Func(what)
    } else if let Some(level) = st.to_number(what) {
        let level = if level.is_finite() { level as i64 } else { -1 };
        match frame_index(th, level) {
            Some(idx) => Target::Frame(th, idx),
            None => {
                st.push(Value::NIL)?;
                return Ok(1);
            }
        }
    } else {
        return Err(st.arg_error(a + 1, crate::errmsg::FUNCTION_OR_LEVEL));
    };
    let opts: Vec<u8> = if st.arg(a + 2).is_nil() {
        b"flnSu".to_vec()
    } else {
        st.check_string(a + 2)?.as_bytes().to_vec()
    };
    if opts.iter().any(|c| !b"SlunfL".contains(c)) {
        return Err(st.arg_error(a + 2, crate::errmsg::INVALID_OPTION));
    }
    let (fv, ci) = match target {
        Target::Func(f) => (f, None),
        Target::Frame(th, idx) => match th.frame(idx) {
            Some(ci) => (th.frame_function(&ci), Some((th, idx, ci))),
            None => (Value::NIL, None),
        },
    };
    let func = fv.as_function();
    let proto = func.and_then(|f| f.proto());
    let t = st.new_table(0, 16)?;
    st.push(Value::table(t))?;
    for &c in &opts {
        match c {
            b'S' => match proto {
                Some(p) => {
                    let src = Value::string(p.source);
                    set_field(st, t, "source", src)?;
                    let short = crate::compiler::chunk_id(p.source.as_bytes());
                    let short = sv(st, short.as_bytes())?;
                    set_field(st, t, "short_src", short)?;
                    set_field(st, t, "linedefined", Value::number(p.line_defined as f64))?;
                    set_field(st, t, "lastlinedefined", Value::number(p.last_line_defined as f64))?;
                    let what: &[u8] = if p.is_main() { b"main" } else { b"Lua" };
                    let what = sv(st, what)?;
                    set_field(st, t, "what", what)?;
                }
                None => {
                    let src = sv(st, b"=[C]")?;
                    set_field(st, t, "source", src)?;
                    let short = sv(st, b"[C]")?;
                    set_field(st, t, "short_src", short)?;
                    set_field(st, t, "linedefined", Value::number(-1.0))?;
                    set_field(st, t, "lastlinedefined", Value::number(-1.0))?;
                    let what = sv(st, b"C")?;
                    set_field(st, t, "what", what)?;
                }
            },
            b'l' => {
                let line = match &ci {
                    Some((th, _, ci)) => current_line_in(*th, ci),
                    None => -1,
                };
                set_field(st, t, "currentline", Value::number(line as f64))?;
            }
            b'u' => {
                let nups = func.map_or(0, |f| f.num_upvals());
                set_field(st, t, "nups", Value::number(nups as f64))?;
                let (np, va) = proto.map_or((0, true), |p| (p.num_params, p.is_vararg));
                set_field(st, t, "nparams", Value::number(np as f64))?;
                set_field(st, t, "isvararg", Value::boolean(va))?;
            }
            b'n' => {
                let named = ci.as_ref().and_then(|(th, idx, _)| function_name_kind_in(*th, *idx));
                match named {
                    Some((kind, name)) => {
                        let name = sv(st, name.as_bytes())?;
                        set_field(st, t, "name", name)?;
                        let kind = sv(st, kind.as_bytes())?;
                        set_field(st, t, "namewhat", kind)?;
                    }
                    None => {
                        let empty = sv(st, b"")?;
                        set_field(st, t, "namewhat", empty)?;
                    }
                }
            }
            b'f' => set_field(st, t, "func", fv)?,
            b'L' => {
                if let Some(p) = proto {
                    let lines = st.new_table(0, 8)?;
                    // Rooted before the next allocation can matter: allocation never
                    // collects, and the table goes into `t` (on the stack) right away.
                    set_field(st, t, "activelines", Value::table(lines))?;
                    // Line 0: a stripped function, which has no active lines.
                    for &l in p.lineinfo.iter().filter(|&&l| l != 0) {
                        st.table_set(lines, Value::number(l as f64), Value::TRUE)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(1)
}

// --- Locals -------------------------------------------------------------------------

/// Where local `n` of a frame lives and what it is called.
struct Local {
    name: &'static str,
    /// For named locals, the name string (the `name` field is then unused).
    named: Option<GcRef<crate::object::GcStr>>,
    slot: usize,
}

/// Local `n` of frame `idx` of `th`, if it exists.
fn find_local(th: GcRef<GcThread>, idx: usize, n: i64) -> Option<Local> {
    let ci = th.frame(idx)?;
    let base = ci.base as usize;
    if n < 0 {
        // Extra arguments of a vararg Lua function lie below its base (under the
        // two slots LuaJIT's frame link would take: `call::varargs_start`).
        if ci.kind != FrameKind::Lua {
            return None;
        }
        let k = usize::try_from(n.unsigned_abs()).ok()?;
        let nva = ci.nvarargs as usize;
        if k > nva {
            return None;
        }
        let slot = base.checked_sub(nva + crate::vm::call::VARARG_LINK)? + k - 1;
        return (slot < th.stack.len()).then_some(Local {
            name: "(*vararg)",
            named: None,
            slot,
        });
    }
    if n == 0 {
        return None;
    }
    let n = usize::try_from(n).ok()?;
    let limit = th.frame_slots_end(idx);
    if let Some(p) = thread_frame_proto(th, &ci) {
        let pc = (ci.pc as usize).saturating_sub(1) as u32;
        let active = p.locvars.iter().filter(|lv| lv.start_pc <= pc && pc < lv.end_pc);
        if let Some(lv) = active.clone().nth(n - 1) {
            let slot = base + lv.reg as usize;
            return (slot < th.stack.len()).then_some(Local {
                name: "",
                named: Some(lv.name),
                slot,
            });
        }
    }
    let slot = base.checked_add(n - 1)?;
    (slot < limit).then_some(Local {
        name: "(*temporary)",
        named: None,
        slot,
    })
}

fn local_name_value(st: &mut State, l: &Local) -> LResult<Value> {
    Ok(match l.named {
        Some(s) => Value::string(s),
        None => st.str_value(l.name.as_bytes())?,
    })
}

/// Level argument `i` of `getlocal`/`setlocal` as a frame index of `th`.
fn level_arg(st: &mut State, th: GcRef<GcThread>, i: usize) -> LResult<usize> {
    let level = st.check_integer(i)?;
    match frame_index(th, level) {
        Some(idx) => Ok(idx),
        None => Err(st.arg_error(i, crate::errmsg::LEVEL_OUT_OF_RANGE)),
    }
}

pub(crate) fn getlocal(st: &mut State) -> LResult<usize> {
    let (th, a) = thread_arg(st);
    if let Some(f) = st.arg(a + 1).as_function() {
        // A function value: the names of its parameters (no values).
        let n = st.check_integer(a + 2)?;
        let name = match (f.proto(), usize::try_from(n)) {
            (Some(p), Ok(n)) if n >= 1 => p
                .locvars
                .iter()
                .filter(|lv| lv.start_pc == 0)
                .nth(n - 1)
                .map(|lv| lv.name),
            _ => None,
        };
        st.push(name.map_or(Value::NIL, Value::string))?;
        return Ok(1);
    }
    let n = st.check_integer(a + 2)?;
    let idx = level_arg(st, th, a + 1)?;
    match find_local(th, idx, n) {
        Some(l) => {
            let name = local_name_value(st, &l)?;
            let v = th.stack[l.slot];
            st.push(name)?;
            st.push(v)?;
            Ok(2)
        }
        None => {
            st.push(Value::NIL)?;
            Ok(1)
        }
    }
}

pub(crate) fn setlocal(st: &mut State) -> LResult<usize> {
    let (th, a) = thread_arg(st);
    let v = st.check_any(a + 3)?;
    let n = st.check_integer(a + 2)?;
    let idx = level_arg(st, th, a + 1)?;
    match find_local(th, idx, n) {
        Some(l) => {
            let name = local_name_value(st, &l)?;
            // Thread stacks have no write barrier: the collector traverses threads
            // again in the atomic phase (gc/trace.rs).
            th.get_mut().stack[l.slot] = v;
            st.push(name)?;
        }
        None => st.push(Value::NIL)?,
    }
    Ok(1)
}

// --- Upvalues -----------------------------------------------------------------------

/// Argument `i` as a function (`function expected` otherwise).
fn check_function(st: &mut State, i: usize) -> LResult<GcRef<GcFunc>> {
    match st.arg(i).as_function() {
        Some(f) => Ok(f),
        None => Err(st.type_error(i, "function")),
    }
}

/// Upvalue index argument `i` of `f` (0-based), if in range.
fn upval_index(st: &mut State, f: GcRef<GcFunc>, i: usize) -> LResult<Option<usize>> {
    let n = st.check_integer(i)?;
    Ok(usize::try_from(n)
        .ok()
        .filter(|&n| n >= 1 && n <= f.num_upvals())
        .map(|n| n - 1))
}

/// Name of upvalue `i` of `f` (natives: the empty string, as in LuaJIT).
fn upval_name(st: &mut State, f: GcRef<GcFunc>, i: usize) -> LResult<Value> {
    match f.proto().and_then(|p| p.upval_names.get(i).copied()) {
        Some(s) => Ok(Value::string(s)),
        None => Ok(st.str_value(b"")?),
    }
}

pub(crate) fn getupvalue(st: &mut State) -> LResult<usize> {
    let f = check_function(st, 1)?;
    let Some(i) = upval_index(st, f, 2)? else { return Ok(0) };
    let name = upval_name(st, f, i)?;
    let v = if f.is_lua() {
        f.lua_upvals()[i].get()
    } else {
        f.native_upvals()[i]
    };
    st.push(name)?;
    st.push(v)?;
    Ok(2)
}

pub(crate) fn setupvalue(st: &mut State) -> LResult<usize> {
    let v = st.check_any(3)?;
    let f = check_function(st, 1)?;
    let Some(i) = upval_index(st, f, 2)? else { return Ok(0) };
    let name = upval_name(st, f, i)?;
    if f.is_lua() {
        let uv = f.lua_upvals()[i];
        uv.get_mut().set(v);
        if !uv.is_open {
            crate::gc::barrier_forward(st, uv.header(), v);
        }
    } else {
        f.native_upvals()[i] = v;
        crate::gc::barrier_forward(st, f.header(), v);
    }
    st.push(name)?;
    Ok(1)
}

/// Function argument `fi` and upvalue index argument `fi + 1` for `upvalueid` and
/// `upvaluejoin`: errors for a missing function, a native when `lua_only`, and an
/// index out of range.
fn upval_ref(st: &mut State, fi: usize, lua_only: bool) -> LResult<(GcRef<GcFunc>, usize)> {
    let f = check_function(st, fi)?;
    if lua_only && !f.is_lua() {
        return Err(st.arg_error(fi, crate::errmsg::LUA_FUNCTION_EXPECTED));
    }
    match upval_index(st, f, fi + 1)? {
        Some(i) => Ok((f, i)),
        None => Err(st.arg_error(fi + 1, crate::errmsg::INDEX_OUT_OF_RANGE)),
    }
}

pub(crate) fn upvalueid(st: &mut State) -> LResult<usize> {
    let (f, i) = upval_ref(st, 1, false)?;
    let addr = if f.is_lua() {
        f.lua_upvals()[i].as_ptr() as usize
    } else {
        &f.native_upvals()[i] as *const Value as usize
    };
    st.push(Value::light_userdata(addr))?;
    Ok(1)
}

pub(crate) fn upvaluejoin(st: &mut State) -> LResult<usize> {
    let (f1, i1) = upval_ref(st, 1, true)?;
    let (f2, i2) = upval_ref(st, 3, true)?;
    let uv = f2.lua_upvals()[i2];
    f1.lua_upvals()[i1] = uv;
    crate::gc::barrier_forward_obj(st, f1.header(), uv.header());
    Ok(0)
}

// --- Budget --------------------------------------------------------------------------

pub(crate) fn sethook(st: &mut State) -> LResult<usize> {
    let (th, a) = thread_arg(st);
    if st.arg(a + 1).is_nil() {
        st.set_debug_hook(th, Value::NIL, 0, 0)?;
        return Ok(0);
    }
    let smask = st.check_string(a + 2)?;
    let f = st.arg(a + 1);
    if !f.is_function() {
        return Err(st.type_error(a + 1, "function"));
    }
    let count = st.opt_integer(a + 3, 0)?;
    let mut m = 0u8;
    for &c in smask.as_bytes() {
        m |= match c {
            b'c' => mask::CALL,
            b'r' => mask::RET,
            b'l' => mask::LINE,
            _ => 0,
        };
    }
    let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
    if count > 0 {
        m |= mask::COUNT;
    }
    st.set_debug_hook(th, f, m, count)?;
    Ok(0)
}

pub(crate) fn gethook(st: &mut State) -> LResult<usize> {
    let (th, _) = thread_arg(st);
    let (f, m, count) = st.debug_hook(th);
    let mut s = Vec::with_capacity(3);
    for (bit, c) in [(mask::CALL, b'c'), (mask::RET, b'r'), (mask::LINE, b'l')] {
        if m & bit != 0 {
            s.push(c);
        }
    }
    st.push(f)?;
    st.push_str(&s)?;
    st.push(Value::number(count as f64))?;
    Ok(3)
}

// --- debug.debug, traceback ---------------------------------------------------------

/// The most bytes `debug.debug` reads as one command, as LuaJIT's 250-byte `fgets`
/// buffer: a longer line is run in pieces. It also bounds the memory a line can take
/// outside the heap (an endless line used to grow until the process aborted).
const DEBUG_LINE_MAX: u64 = 249;

/// `debug.debug()`: read lines from stdin and run each, until `cont` or end of input.
pub(crate) fn debug(st: &mut State) -> LResult<usize> {
    use std::io::{BufRead, Read, Write};
    loop {
        {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"lua_debug> ");
            let _ = err.flush();
        }
        let mut line = Vec::with_capacity(DEBUG_LINE_MAX as usize);
        match std::io::stdin()
            .lock()
            .take(DEBUG_LINE_MAX)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return Ok(0),
            Ok(_) => {}
        }
        if line == b"cont\n" || line == b"cont" {
            return Ok(0);
        }
        let top = st.cur.top;
        let ok = match st.load(&line, b"=(debug command)") {
            Ok(()) => st.pcall(0, 0, false),
            Err(Throw::Error(msg)) => {
                st.push(msg)?;
                false
            }
            Err(e) => return Err(e),
        };
        if !ok {
            let msg = st.peek(0);
            let text = match msg.as_string() {
                Some(s) => s,
                None => st.tostring_raw(msg)?,
            };
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.write_all(b"\n");
            let _ = err.flush();
        }
        st.cur.get_mut().top = top;
    }
}

pub(crate) fn traceback(st: &mut State) -> LResult<usize> {
    let (th, a) = thread_arg(st);
    let msg = st.arg(a + 1);
    let text = if let Some(s) = msg.as_string() {
        Some(s)
    } else if let Some(n) = msg.as_number() {
        Some(st.number_to_str(n)?)
    } else if a < st.arg_count() {
        // A message that is not a string is returned as it is.
        st.push(msg)?;
        return Ok(1);
    } else {
        None
    };
    let default_level = if th == st.cur { 1 } else { 0 };
    let level = st.opt_integer(a + 2, default_level)?;
    let body = match usize::try_from(level) {
        Ok(level) => st.traceback_of(th, level),
        Err(_) => String::from("stack traceback:"),
    };
    // Joined on the heap: the message can be as large as any string of the script.
    let out = match text {
        Some(s) => st.join_bytes(&[s.as_bytes(), b"\n", body.as_bytes()])?,
        None => st.intern(body.as_bytes())?,
    };
    st.push(Value::string(out))?;
    Ok(1)
}
