//! The base library: `print`, `type`, `pcall`, `setmetatable`, `collectgarbage`, ...
//!
//! `pcall` and `xpcall` are registered as builtins: the interpreter runs them as VM
//! frames (see `vm/call.rs`), so their native bodies here only guard against being
//! reached some other way.

use crate::buf::Buf;
use crate::compiler::lexer::read_piece;
use crate::object::{GcFunc, GcRef, GcStr};
use crate::stdlib::io::{os_error_text, path_of};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::FrameKind;
use crate::vm::state::{State, Tm};
use std::io::Read;

pub fn open(st: &mut State) -> LResult<()> {
    let g = st.globals;
    super::open_funcs(st, super::Lib::Base, g)?;
    let k = st.str_value(b"_G")?;
    st.table_set(g, k, Value::table(g))?;
    let k = st.str_value(b"_VERSION")?;
    let v = st.str_value(b"Lua 5.1")?;
    st.table_set(g, k, v)?;
    // `next` and ipairs' iterator are shared, as in LuaJIT: `pairs(t)` returns the
    // original `next` even if the global is replaced. Keep both in the registry.
    let k = st.intern(b"next")?;
    let next_fn = g.get_str(k);
    let aux = Value::function(super::new_func(st, super::FF_IPAIRS_AUX, 0)?);
    let reg = st.registry;
    for (name, f) in [(&b"next"[..], next_fn), (&b"ipairs_aux"[..], aux)] {
        let k = st.str_value(name)?;
        st.table_set(reg, k, f)?;
    }
    // `print` writes into the process's standard output buffer: closing the state
    // writes it out (a host that prints after `drop(lua)` sees Lua's output first).
    let u = st.new_userdata(0)?;
    u.get_mut().host = Some(&FLUSH_ON_CLOSE);
    st.table_set(
        reg,
        Value::light_userdata(&FLUSH_ON_CLOSE as *const _ as usize),
        Value::userdata(u),
    )
}

/// The type of the empty payload of the registry object whose drop flushes
/// standard output.
struct FlushOnClose;

/// Dropped when the state closes (the registry keeps the object alive until then;
/// a script that removes it through `debug.getregistry` only makes the flush come at
/// a collection). Flushing touches no state, so it may run inside the collector.
unsafe fn flush_on_close(_payload: *mut u8) {
    let _ = super::iofile::flush_stdout();
}

static FLUSH_ON_CLOSE: crate::udata::HostPayload = crate::udata::HostPayload {
    drop: flush_on_close,
    type_id: std::any::TypeId::of::<FlushOnClose>,
    heap_bytes: None,
};

pub(crate) fn not_direct(st: &mut State) -> LResult<usize> {
    Err(st.rt_error(crate::errmsg::INTERNAL_PCALL_BODY))
}

/// `print(...)`: like LuaJIT, it looks up the global `tostring` (in the thread's
/// globals, not the caller's environment) on every call and calls it for each
/// argument, unless it is the builtin `tostring`, whose work is done right here.
/// Each argument is written as soon as it is converted, as LuaJIT does. A number
/// converted by the builtin `tostring` (no `__tostring` for numbers) is formatted
/// straight into the output, without making a string of it first.
pub(crate) fn print(st: &mut State) -> LResult<usize> {
    let n = st.arg_count();
    let key = st.intern(b"tostring")?;
    let tostr = st.cur.env.get_str(key);
    let builtin = super::ffid_of(tostr) == crate::func::FF_TOSTRING;
    if n == 0 {
        let _ = super::iofile::stdout().write(b"\n");
    }
    for i in 1..=n {
        let v = st.arg(i);
        let mut buf = [0u8; 64];
        let sref;
        let bytes: &[u8] = match v.as_number() {
            Some(x) if builtin && st.tm_of(v, Tm::Tostring).is_nil() => {
                let len = crate::number::fmt_number(x, &mut buf);
                buf.get(..len).unwrap_or(&[])
            }
            _ => {
                let s = if builtin {
                    st.tostring_value(v)?
                } else {
                    st.push(tostr)?;
                    st.push(v)?;
                    st.call(1, 1)?;
                    let r = st.peek(0);
                    st.pop(1);
                    r
                };
                // A number is converted, as `lua_tolstring` does.
                let s = if s.is_number() {
                    Value::string(st.tostring_raw(s)?)
                } else {
                    s
                };
                let Some(s) = s.as_string() else {
                    return Err(st.rt_error(crate::errmsg::PRINT_TOSTRING));
                };
                sref = s;
                sref.as_bytes()
            }
        };
        st.charge_bytes(bytes.len())?;
        // Write errors (a closed stdout) are ignored, as Lua's print does. The
        // process's standard output buffer is locked only while bytes are copied
        // (never while `tostring` runs), once per argument.
        let mut out = super::iofile::stdout();
        if i > 1 {
            let _ = out.write(b"\t");
        }
        let _ = out.write(bytes);
        if i == n {
            let _ = out.write(b"\n");
        }
    }
    Ok(0)
}

pub(crate) fn type_(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    st.push_str(v.type_name().as_bytes())?;
    Ok(1)
}

/// `tostring(v)` without `__tostring` (a value with one never gets here when called
/// from Lua, see [`tostring_meta`](crate::vm::meta::tostring_meta); natives calling it still may).
pub(crate) fn tostring(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    let s = st.tostring_value(v)?;
    st.push(s)?;
    Ok(1)
}

pub(crate) fn tonumber(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    if let Some(s) = v.as_string() {
        // Converting reads every byte.
        st.charge_bytes(s.len())?;
    }
    let base = st.arg(2);
    let r = if let Some(c) = v.as_cdata().filter(|_| base.is_nil()) {
        // A C number's value (docs/ffi.md); nil for pointers and aggregates.
        crate::ffi::cmeta::to_number(st, c)
    } else if base.is_nil() {
        st.to_number(v)
    } else {
        let b = st.check_integer(2)?;
        if !(2..=36).contains(&b) {
            return Err(st.arg_error(2, crate::errmsg::BASE_OUT_OF_RANGE));
        }
        let s = st.check_string(1)?;
        crate::number::str_to_number_base(s.as_bytes(), b as u32)
    };
    st.push(r.map_or(Value::NIL, Value::number))?;
    Ok(1)
}

pub(crate) fn error(st: &mut State) -> LResult<usize> {
    let msg = st.arg(1);
    let level = st.opt_integer(2, 1)?;
    // Strings and numbers get a position, as in Lua 5.1 (numbers are strings there).
    let text = match (msg.as_string(), msg.as_number()) {
        (Some(s), _) => Some(s),
        (None, Some(n)) => Some(st.number_to_str(n)?),
        _ => None,
    };
    if let (Some(s), true) = (text, level > 0) {
        if let Some(ci) = st.cur.frame_at(level as usize) {
            if ci.kind == FrameKind::Lua {
                if let Some(pos) = st.frame_position(&ci) {
                    return Err(st.error_at(Some(&pos), &[s.as_bytes()]));
                }
            }
        }
        // No position (the level is a native, as in `pcall(error, 42)`, or beyond the
        // stack): LuaJIT still prepends the empty position, so a number becomes a
        // string.
        return Err(Throw::Error(Value::string(s)));
    }
    Err(Throw::Error(msg))
}

pub(crate) fn assert(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    if v.is_falsy() {
        // Only a missing message is "assertion failed!": an explicit nil is raised
        // as it is, as in LuaJIT (`assert(false, nil)` raises nil).
        if st.arg_count() < 2 {
            return Err(st.rt_error(crate::errmsg::ASSERTION_FAILED));
        }
        let msg = st.arg(2);
        // Like LuaJIT, a string (or number) message gets the caller's position.
        if msg.is_string() || msg.is_number() {
            let s = st.tostring_raw(msg)?;
            return Err(st.rt_error_bytes(s.as_bytes()));
        }
        return Err(Throw::Error(msg));
    }
    Ok(st.arg_count())
}

pub(crate) fn select(st: &mut State) -> LResult<usize> {
    let n = st.arg_count();
    let sel = st.arg(1);
    if sel.as_string().is_some_and(|s| s.as_bytes().first() == Some(&b'#')) {
        st.push(Value::number((n.saturating_sub(1)) as f64))?;
        return Ok(1);
    }
    let i = st.check_integer(1)?;
    let count = n as i64 - 1;
    let start = if i < 0 { count + i } else { i - 1 };
    if i == 0 || start < 0 {
        return Err(st.arg_error(1, crate::errmsg::INDEX_OUT_OF_RANGE));
    }
    Ok((count - start.min(count)) as usize)
}

pub(crate) fn pairs(st: &mut State) -> LResult<usize> {
    st.check_any(1)?;
    let t = st.check_table(1)?;
    let k = st.intern(b"next")?;
    let nextf = st.registry.get_str(k);
    st.push(nextf)?;
    st.push(Value::table(t))?;
    st.push(Value::NIL)?;
    Ok(3)
}

pub(crate) fn ipairs(st: &mut State) -> LResult<usize> {
    st.check_any(1)?;
    let t = st.check_table(1)?;
    let k = st.intern(b"ipairs_aux")?;
    let aux = st.registry.get_str(k);
    st.push(aux)?;
    st.push(Value::table(t))?;
    st.push(Value::number(0.0))?;
    Ok(3)
}

pub(crate) fn ipairs_aux(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let i = st.check_integer(2)? + 1;
    let v = t.get_int(i);
    if v.is_nil() {
        return Ok(0);
    }
    st.push(Value::number(i as f64))?;
    st.push(v)?;
    Ok(2)
}

pub(crate) fn next(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let k = st.arg(2);
    match next_paid(st, t, k)? {
        Ok(Some((k, v))) => {
            st.push(k)?;
            st.push(v)?;
            Ok(2)
        }
        Ok(None) => {
            st.push(Value::NIL)?;
            Ok(1)
        }
        // LuaJIT's message has no position.
        Err(()) => Err(st.error_from_text(crate::errmsg::NEXT_KEY)),
    }
}

/// Slots `next` looks at between two payments (1024 units: skipping an empty slot
/// or a dead key costs about a quarter of an instruction).
const NEXT_SCAN_CHUNK: usize = 4096;

/// `t:next(key)`, paying for long runs of empty slots and dead keys as it skips them
/// (a table emptied by deletions makes every `next` from its start scan them all).
#[allow(clippy::type_complexity)]
pub(crate) fn next_paid(
    st: &mut State,
    t: GcRef<crate::table::GcTable>,
    key: Value,
) -> LResult<Result<Option<(Value, Value)>, ()>> {
    let Ok(mut pos) = t.next_position(key) else {
        return Ok(Err(()));
    };
    loop {
        match t.scan_live(pos, NEXT_SCAN_CHUNK) {
            Ok(r) => return Ok(Ok(r)),
            Err(p) => {
                st.charge((NEXT_SCAN_CHUNK / 4) as u64)?;
                pos = p;
            }
        }
    }
}

pub(crate) fn setmetatable(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let mt = st.arg(2);
    if st.arg_count() < 2 || (!mt.is_nil() && !mt.is_table()) {
        return Err(st.arg_error(2, crate::errmsg::NIL_OR_TABLE));
    }
    if !st.tm_in(t.metatable, Tm::Metatable).is_nil() {
        return Err(st.rt_error(crate::errmsg::PROTECTED_METATABLE));
    }
    t.get_mut().metatable = mt.as_table();
    crate::gc::barrier_forward(st, t.header(), mt);
    st.push(Value::table(t))?;
    Ok(1)
}

pub(crate) fn getmetatable(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    let Some(mt) = st.metatable_of(v) else {
        st.push(Value::NIL)?;
        return Ok(1);
    };
    let protected = mt.get_str(st.tm_names[Tm::Metatable as usize]);
    st.push(if protected.is_nil() {
        Value::table(mt)
    } else {
        protected
    })?;
    Ok(1)
}

pub(crate) fn rawget(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let k = st.check_any(2)?;
    st.push(t.get(k))?;
    Ok(1)
}

pub(crate) fn rawset(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let k = st.check_any(2)?;
    let v = st.check_any(3)?;
    st.table_set(t, k, v)?;
    st.push(Value::table(t))?;
    Ok(1)
}

pub(crate) fn rawequal(st: &mut State) -> LResult<usize> {
    let a = st.check_any(1)?;
    let b = st.check_any(2)?;
    st.push(Value::boolean(Value::raw_equal(a, b)))?;
    Ok(1)
}

pub(crate) fn collectgarbage(st: &mut State) -> LResult<usize> {
    // The option string is an argument, so it stays alive (and in place) meanwhile.
    let opt_arg = if st.arg(1).is_nil() {
        None
    } else {
        Some(st.check_string(1)?)
    };
    let opt = opt_arg.as_ref().map_or(b"collect".as_slice(), |s| s.as_bytes());
    let arg = st.opt_number(2, 0.0)?;
    let r = match opt {
        b"collect" => {
            collect_paid(st)?;
            st.housekeeping();
            st.run_finalizers();
            st.raise_pending_abort()?;
            Value::number(0.0)
        }
        b"count" => Value::number(st.heap.used() as f64 / 1024.0),
        b"step" => {
            let done = step_paid(st, arg.max(0.0) as usize)?;
            st.run_finalizers();
            st.raise_pending_abort()?;
            Value::boolean(done)
        }
        b"stop" => {
            crate::gc::set_stopped(st, true);
            Value::number(0.0)
        }
        b"restart" => {
            crate::gc::set_stopped(st, false);
            Value::number(0.0)
        }
        b"isrunning" => Value::boolean(!st.gc.stopped),
        b"setpause" => Value::number(crate::gc::set_pause(st, arg.max(0.0) as u32) as f64),
        b"setstepmul" => Value::number(crate::gc::set_stepmul(st, arg.max(0.0) as u32) as f64),
        _ => {
            return Err(st.arg_error_parts(
                1,
                &crate::errmsg::Parts::new(crate::errmsg::INVALID_OPTION_NAMED, &[opt]),
            ))
        }
    };
    st.push(r)?;
    Ok(1)
}

/// The collector's work between two payments into the instruction countdown in
/// `collectgarbage`: what this many KiB of allocation pays for.
const GC_STEP_KB: usize = 64;

/// One step of [`GC_STEP_KB`], paid for: a collection of a large heap runs as many
/// steps, so the budget and a deadline can stop it between two of them (the
/// collector is then simply in the middle of a cycle, as between any two steps).
/// A step is charged as copying the smaller of its allowance and the heap would be
/// (measured: a full collection of the libraries' 100 KB takes about 11 us).
fn paid_step(st: &mut State) -> LResult<bool> {
    let done = crate::gc::step_kb(st, GC_STEP_KB);
    st.charge_bytes(st.heap.used().min(GC_STEP_KB * 1024))?;
    Ok(done)
}

/// `collectgarbage("collect")`: finish the cycle in progress, then run a whole one
/// (what `gc::full_collect` does), step by step.
fn collect_paid(st: &mut State) -> LResult<()> {
    if st.gc.locked > 0 || st.gc.stepmul == 0 {
        // Locked: nothing runs. Step multiplier 0: every step is a whole cycle.
        crate::gc::full_collect(st);
        return Ok(());
    }
    for _ in 0..2 {
        while !paid_step(st)? {}
    }
    st.heap.clear_collection_owed();
    Ok(())
}

/// `collectgarbage("step", kb)`: the work of `kb` KiB of allocation, in paid steps
/// of [`GC_STEP_KB`]; true if a cycle finished.
fn step_paid(st: &mut State, kb: usize) -> LResult<bool> {
    if kb <= GC_STEP_KB || st.gc.locked > 0 || st.gc.stepmul == 0 {
        let done = crate::gc::step_kb(st, kb);
        st.charge_bytes(st.heap.used().min(kb.max(1) * 1024))?;
        return Ok(done);
    }
    for _ in 0..kb.div_ceil(GC_STEP_KB) {
        if paid_step(st)? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn gcinfo(st: &mut State) -> LResult<usize> {
    st.push(Value::number((st.heap.used() / 1024) as f64))?;
    Ok(1)
}

/// LuaJIT's limit on the values a library function may push (`LUAI_MAXCSTACK`).
const MAX_NATIVE_RESULTS: u32 = 8000;

/// A number as LuaJIT's library functions read an integer argument: truncated toward
/// zero, and `i32::MIN` when it does not fit (or is NaN), as x86's conversion gives.
fn lj_int(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

/// `unpack(t [, i [, j]])` with LuaJIT's 32-bit bounds: `i` and `j` are converted
/// with [`lj_int`], and more than 8000 values, counting the arguments already on
/// the function's stack, is "too many results to unpack".
pub(crate) fn unpack(st: &mut State) -> LResult<usize> {
    let t = st.check_table(1)?;
    let i = if st.arg(2).is_nil() {
        1
    } else {
        lj_int(st.check_number(2)?)
    };
    let j = if st.arg(3).is_nil() {
        t.length().min(i32::MAX as usize) as i32
    } else {
        lj_int(st.check_number(3)?)
    };
    if i > j {
        return Ok(0);
    }
    let span = (j as u32).wrapping_sub(i as u32);
    let nargs = st.arg_count() as u64;
    if span >= MAX_NATIVE_RESULTS || nargs + span as u64 + 1 > MAX_NATIVE_RESULTS as u64 {
        return Err(st.rt_error(crate::errmsg::UNPACK_TOO_MANY));
    }
    st.charge(u64::from(span) + 1)?;
    for k in i..=j {
        st.push(t.get_int(k as i64))?;
    }
    Ok(span as usize + 1)
}

/// The function at `getfenv`/`setfenv` argument 1: a function, or a level number
/// (1 = the caller). `None` for level 0 (the thread's environment).
fn fenv_target(st: &mut State, name_set: bool) -> LResult<Option<GcRef<GcFunc>>> {
    let v = st.arg(1);
    if let Some(f) = v.as_function() {
        return Ok(Some(f));
    }
    let level = if v.is_nil() && !name_set {
        1
    } else {
        st.check_integer(1)?
    };
    if level < 0 {
        return Err(st.arg_error(1, crate::errmsg::INVALID_LEVEL));
    }
    if level == 0 {
        return Ok(None);
    }
    let Some(ci) = st.cur.frame_at(level as usize) else {
        return Err(st.arg_error(1, crate::errmsg::INVALID_LEVEL));
    };
    Ok(st.cur.frame_function(&ci).as_function())
}

pub(crate) fn getfenv(st: &mut State) -> LResult<usize> {
    let env = match fenv_target(st, false)? {
        Some(f) if f.is_lua() => f.env,
        Some(_) => st.globals,
        None => st.cur.env,
    };
    st.push(Value::table(env))?;
    Ok(1)
}

pub(crate) fn setfenv(st: &mut State) -> LResult<usize> {
    let t = st.check_table(2)?;
    match fenv_target(st, true)? {
        None => {
            st.cur.get_mut().env = t;
            crate::gc::barrier_forward(st, st.cur.header(), Value::table(t));
            Ok(0)
        }
        Some(f) if f.is_lua() => {
            f.get_mut().env = t;
            crate::gc::barrier_forward(st, f.header(), Value::table(t));
            st.push(Value::function(f))?;
            Ok(1)
        }
        Some(_) => Err(st.rt_error(crate::errmsg::SETFENV)),
    }
}

pub(crate) fn newproxy(st: &mut State) -> LResult<usize> {
    let a = st.arg(1);
    let u = st.new_userdata(0)?;
    if a.as_bool() == Some(true) {
        let mt = st.new_table(0, 0)?;
        u.get_mut().metatable = Some(mt);
    } else if let Some(other) = a.as_userdata() {
        u.get_mut().metatable = other.metatable;
    } else if !a.is_falsy() {
        return Err(st.arg_error(1, crate::errmsg::BOOLEAN_OR_PROXY));
    }
    st.push(Value::userdata(u))?;
    Ok(1)
}

/// Push the result of compiling: the function, or nil and the message. `mode` is
/// LuaJIT's load mode (`"t"`, `"b"`, `"bt"`), `None` for both. Running out of memory
/// while compiling is reported the same way, as LuaJIT's `load` family does.
fn load_result(st: &mut State, src: &[u8], name: &[u8], mode: Option<&[u8]>) -> LResult<usize> {
    let r = st.load_mode(src, name, mode);
    loaded_or_fail(st, r)
}

/// The results of a load: the function pushed (1), or `nil, message` for an error or
/// a failed allocation; a stop by the host goes through.
fn loaded_or_fail(st: &mut State, r: LResult<()>) -> LResult<usize> {
    let msg = match r {
        Ok(()) => return Ok(1),
        Err(Throw::Error(msg)) => msg,
        Err(Throw::Oom) => Value::string(st.oom_msg),
        Err(e) => return Err(e),
    };
    push_fail(st, msg)
}

/// Push `nil, msg` and return 2.
fn push_fail(st: &mut State, msg: Value) -> LResult<usize> {
    st.push(Value::NIL)?;
    st.push(msg)?;
    Ok(2)
}

/// Optional mode argument `i`, copied (it is tiny) so the state can be borrowed.
fn mode_arg(st: &mut State, i: usize) -> LResult<Option<Vec<u8>>> {
    if st.arg(i).is_nil() {
        return Ok(None);
    }
    let m = st.check_string(i)?;
    Ok(Some(m.as_bytes().iter().take(8).copied().collect()))
}

/// `loadstring` is LuaJIT's alias of `load` (a string or a reader function).
pub(crate) fn loadstring(st: &mut State) -> LResult<usize> {
    load(st)
}

/// `load(chunk [, chunkname [, mode [, env]]])`: LuaJIT 2.1's extended form. A table
/// `env` becomes the loaded function's environment (anything else is ignored, as in
/// LuaJIT).
pub(crate) fn load(st: &mut State) -> LResult<usize> {
    let n = load_chunk(st)?;
    if n == 1 {
        set_loaded_env(st, 4);
    }
    Ok(n)
}

/// Give the function just loaded (on top) the environment in argument `i`, if that
/// is a table.
fn set_loaded_env(st: &mut State, i: usize) {
    let (Some(t), Some(f)) = (st.arg(i).as_table(), st.peek(0).as_function()) else {
        return;
    };
    f.get_mut().env = t;
    crate::gc::barrier_forward(st, f.header(), Value::table(t));
}

/// A string (or number) chunk: compiled straight from the string objects, no copy: a
/// copy would live on the Rust heap, outside the state's accounting and limit (for a
/// large chunk it was as big as the chunk; found by tests/memory_limit.rs). Both
/// strings are arguments, so they stay rooted on the stack, and the compiler never
/// runs the collector anyway.
fn load_string(st: &mut State) -> LResult<usize> {
    let s = st.check_string(1)?;
    let name = if st.arg(2).is_nil() { s } else { st.check_string(2)? };
    let mode = mode_arg(st, 3)?;
    load_result(st, s.as_bytes(), name.as_bytes(), mode.as_deref())
}

/// `load(reader [, chunkname [, mode]])`. A text chunk is compiled while it is read:
/// the reader is called when the lexer needs more, as in LuaJIT, so it is not called
/// again after a syntax error. A binary chunk (first byte `\x1b`) is read whole into
/// a buffer on the state's heap, then undumped. An error raised by the reader, a
/// piece that is not a string, or running out of memory ends the load with
/// `nil, message`, as in LuaJIT; only a stop by the host goes through.
fn load_chunk(st: &mut State) -> LResult<usize> {
    let chunk = st.arg(1);
    if chunk.is_string() || chunk.is_number() {
        return load_string(st);
    }
    if !chunk.is_function() {
        return Err(st.type_error(1, "function"));
    }
    let name = if st.arg(2).is_nil() {
        b"=(load)".to_vec()
    } else {
        st.check_string(2)?.as_bytes().to_vec()
    };
    let mode = mode_arg(st, 3)?;
    let first = match read_piece(st, chunk) {
        Ok(Some(first)) => first,
        Ok(None) => return load_result(st, b"", &name, mode.as_deref()),
        Err(Throw::Error(msg)) => return push_fail(st, msg),
        Err(e) => return Err(e),
    };
    if crate::compiler::dump::is_binary(first.as_bytes()) {
        return load_binary(st, chunk, first, &name, mode.as_deref());
    }
    if mode.as_ref().is_some_and(|m| !m.contains(&b't')) {
        let e = st.error_from_text(crate::errmsg::LOAD_WRONG_MODE);
        let msg = st.error_value(e);
        return push_fail(st, msg);
    }
    let r = st.load_reader(first.as_bytes(), chunk, &name);
    loaded_or_fail(st, r)
}

/// The rest of a binary chunk from the reader, joined on the state's heap (under the
/// memory limit), then loaded.
fn load_binary(st: &mut State, reader: Value, first: GcRef<GcStr>, name: &[u8], mode: Option<&[u8]>) -> LResult<usize> {
    let mut src = Buf::new(st.heap_ref());
    let mut piece = Some(first);
    while let Some(p) = piece {
        if src.extend(p.as_bytes()).is_err() {
            return push_fail(st, Value::string(st.oom_msg));
        }
        piece = match read_piece(st, reader) {
            Ok(next) => next,
            Err(Throw::Error(msg)) => return push_fail(st, msg),
            Err(e) => return Err(e),
        };
    }
    load_result(st, src.as_slice(), name, mode)
}

/// A source file read whole into a buffer on the state's heap, so the memory limit
/// covers it (a copy on the Rust heap would not be; `loadfile("/dev/zero")` would
/// abort the process), or the message for a file that cannot be opened or read
/// (`cannot open NAME: reason`, as LuaJIT's). `None` reads standard input.
pub(crate) fn read_source(st: &mut State, path: Option<&[u8]>) -> LResult<Result<Buf, Value>> {
    let (what, name, e) = match path {
        None => match read_all(st, &mut std::io::stdin().lock())? {
            Ok(src) => return Ok(Ok(src)),
            Err(e) => (crate::errmsg::READ_FAILED, b"stdin".as_slice(), e),
        },
        Some(p) => match std::fs::File::open(path_of(p)) {
            Ok(mut f) => match read_all(st, &mut f)? {
                Ok(src) => return Ok(Ok(src)),
                Err(e) => (crate::errmsg::READ_FAILED, p, e),
            },
            Err(e) => (crate::errmsg::OPEN_FAILED, p, e),
        },
    };
    let (text, _) = os_error_text(&e);
    let msg = st.join_bytes(&crate::errmsg::Parts::new(what, &[name, text.as_bytes()]))?;
    Ok(Err(Value::string(msg)))
}

fn read_all(st: &State, input: &mut impl Read) -> LResult<std::io::Result<Buf>> {
    let mut src = Buf::new(st.heap_ref());
    let mut block = [0u8; 16 * 1024];
    loop {
        match input.read(&mut block) {
            Ok(0) => return Ok(Ok(src)),
            Ok(n) => src.extend(block.get(..n).unwrap_or(&[]))?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Ok(Err(e)),
        }
    }
}

/// The source without a first line starting with `#` (a shebang); the newline stays,
/// so line numbers stay right.
pub(crate) fn skip_shebang(src: &[u8]) -> &[u8] {
    if src.first() != Some(&b'#') {
        return src;
    }
    let end = src.iter().position(|&b| b == b'\n').unwrap_or(src.len());
    src.get(end..).unwrap_or(&[])
}

/// The chunk name of a file: `@path`, or `=stdin`.
fn file_chunk_name(path: Option<&[u8]>) -> Vec<u8> {
    match path {
        Some(p) => [b"@", p].concat(),
        None => b"=stdin".to_vec(),
    }
}

/// The optional file name argument `i` of `loadfile`/`dofile` (an argument, so it
/// stays alive while it is used).
fn path_arg(st: &mut State, i: usize) -> LResult<Option<GcRef<GcStr>>> {
    if st.arg(i).is_nil() {
        return Ok(None);
    }
    Ok(Some(st.check_string(i)?))
}

pub(crate) fn loadfile(st: &mut State) -> LResult<usize> {
    let path = path_arg(st, 1)?;
    let path = path.as_ref().map(|p| p.as_bytes());
    let mode = mode_arg(st, 2)?;
    let src = match read_source(st, path) {
        Ok(Ok(src)) => src,
        Ok(Err(msg)) => return push_fail(st, msg),
        Err(e) => return loaded_or_fail(st, Err(e)),
    };
    let n = load_result(
        st,
        skip_shebang(src.as_slice()),
        &file_chunk_name(path),
        mode.as_deref(),
    )?;
    if n == 1 {
        set_loaded_env(st, 3);
    }
    Ok(n)
}

pub(crate) fn dofile(st: &mut State) -> LResult<usize> {
    let path = path_arg(st, 1)?;
    let path = path.as_ref().map(|p| p.as_bytes());
    let src = match read_source(st, path)? {
        Ok(src) => src,
        Err(msg) => return Err(Throw::Error(msg)),
    };
    let base = st.cur.top;
    st.load(skip_shebang(src.as_slice()), &file_chunk_name(path))?;
    drop(src); // the source is not needed while the chunk runs
    st.call(0, -1)?;
    Ok(st.cur.top - base)
}
