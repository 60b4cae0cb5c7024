//! The `string` library, as LuaJIT 2.1 ships it: `byte char dump find format gmatch
//! gsub len lower match rep reverse sub upper`, and the string metatable whose
//! `__index` is the library table (so `("x"):rep(3)` works).
//!
//! This module owns argument handling and the search functions around the matcher;
//! the matcher itself is in [`super::pattern`], `string.format` in [`super::format`].
//!
//! Behaviour follows LuaJIT 2.1 as observed, including the 5.1 details that later
//! Lua versions changed:
//! - Integer arguments are converted the way LuaJIT does (truncation to 32 bits,
//!   NaN and out-of-range values becoming `-2^31`), see [`num_to_i32`]; `gsub`'s
//!   count goes through 64 bits first, see [`num_to_i64`].
//! - `find`/`match` clamp an `init` past the end to the end; `gsub`/`gmatch` step one
//!   byte after an empty match (so `("abc"):gsub("b*", "-")` is `-a--c-`).
//! - In a `gsub` replacement string `%` followed by a non-digit is that character
//!   (LuaJIT 2.1 has no "invalid use of '%'" error) and a final `%` adds a NUL byte.
//! - `string.dump(f)` writes Perilune's own binary format (`docs/bytecode-dump.md`,
//!   `compiler/dump.rs`), not LuaJIT's; native functions raise "unable to dump given
//!   function". `strip` leaves the debug information out (docs/bytecode-dump.md).
//!
//! Every buffer whose size a script controls is an accounted [`Buf`] (the core's,
//! `buf.rs`), capped at LuaJIT's largest string ([`MAX_STR`]), so the memory limit applies and a huge
//! request is the ordinary "not enough memory" error.

use super::pattern::{self, Capture, Matcher, PatternError, Pay};
use crate::buf::{Buf, MAX_STR};
use crate::object::{GcRef, GcStr};
use crate::value::{LuaType, Value};
use crate::vm::budget::CHUNK_BYTES;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

/// Most values `string.byte` returns at once (LuaJIT: "string slice too long").
const MAX_BYTE_RESULTS: i64 = 8000;

/// Register `string` in the globals and set the string metatable.
pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 16)?;
    let g = st.globals;
    let k = st.str_value(b"string")?;
    st.table_set(g, k, Value::table(t))?;
    super::open_funcs(st, super::Lib::String, t)?;
    let mt = st.new_table(0, 1)?;
    let k = st.str_value(b"__index")?;
    st.table_set(mt, k, Value::table(t))?;
    st.type_mts[crate::vm::state::type_index(LuaType::String)] = Some(mt);
    Ok(())
}

// --- Argument helpers ---------------------------------------------------------------

/// LuaJIT's number-to-int32 conversion for library arguments: truncation toward zero;
/// NaN and values outside the `i32` range give `i32::MIN` (what x86-64's conversion
/// instruction yields, and so what LuaJIT shows: `("abc"):sub(2^32)` is `"abc"`).
pub fn num_to_i32(n: f64) -> i32 {
    let t = n.trunc();
    if (-2147483648.0..=2147483647.0).contains(&t) {
        t as i32
    } else {
        i32::MIN
    }
}

/// LuaJIT's number-to-int64 conversion: truncation; NaN and values outside the
/// `i64` range give `i64::MIN`.
pub fn num_to_i64(n: f64) -> i64 {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// An integer argument, converted as LuaJIT's library functions do.
pub fn check_int(st: &mut State, i: usize) -> LResult<i32> {
    let n = st.check_number(i)?;
    Ok(num_to_i32(n))
}

/// An optional integer argument (absent or nil gives `def`).
pub fn opt_int(st: &mut State, i: usize, def: i32) -> LResult<i32> {
    if st.arg(i).is_nil() {
        Ok(def)
    } else {
        check_int(st, i)
    }
}

/// String argument `i`. It stays rooted in its argument slot (`check_string` stores
/// a converted number there), so its bytes stay valid across calls back into Lua.
fn str_arg(st: &mut State, i: usize) -> LResult<GcRef<GcStr>> {
    st.check_string(i)
}

/// A pattern error as a Lua error at the caller's position.
fn pat_err(st: &mut State, e: PatternError) -> Throw {
    st.rt_error(e.message())
}

/// Push a new string made of `bytes`, paying for the work first: interning hashes
/// and copies every byte, and building `bytes` touched each of them once more
/// (`built`: false when they were not built, e.g. a slice of an argument). Paying
/// before the string exists means a budget that cannot cover it stops the script
/// before the work, and a deadline is looked at before it.
pub fn push_charged(st: &mut State, bytes: &[u8], built: bool) -> LResult<()> {
    st.charge_bytes(if built {
        bytes.len().saturating_mul(2)
    } else {
        bytes.len()
    })?;
    st.push_str(bytes)
}

/// Matcher steps between payments into the instruction countdown: as many as the
/// interpreter runs between two checks (`vm::budget`), well under a millisecond of
/// matching.
const FUEL_CHUNK: u64 = 10_000;

/// Run one matcher call (`search` or `match_at`) and pay its steps into the VM's
/// instruction countdown as it goes, so that the instruction budget, the interrupt
/// flag and the host's callback stop a pathological pattern mid-match (found by the
/// `run` fuzz target, docs/fuzzing.md; the interpreter charges the whole
/// `string.find` as one call). A refused payment keeps its error and ends the match.
/// The payment never runs Lua code (`State::budget_check`), so the subject and pattern
/// the matcher borrows stay where they are.
fn metered<T>(
    st: &mut State,
    mt: &mut Matcher<'_>,
    f: impl FnOnce(&mut Matcher<'_>, Pay<'_>) -> Result<T, PatternError>,
) -> LResult<T> {
    mt.set_fuel(FUEL_CHUNK);
    let mut refused = None;
    let r = f(mt, &mut |steps| match st.pay_native(steps) {
        Ok(()) => true,
        Err(e) => {
            refused = Some(e);
            false
        }
    });
    if let Some(e) = refused {
        return Err(e);
    }
    st.pay_native(mt.spent())?;
    r.map_err(|e| pat_err(st, e))
}

// --- Simple functions -----------------------------------------------------------------

pub(crate) fn len(st: &mut State) -> LResult<usize> {
    if st.arg_count() == 0 {
        // LuaJIT's `string.len` is a fast function whose fallback sees a nil
        // argument, so it reports "got nil" rather than "got no value".
        let msg = crate::errmsg::Parts::new(crate::errmsg::TYPE_EXPECTED, &[b"string", b"nil"]);
        return Err(st.arg_error_parts(1, &msg));
    }
    let s = str_arg(st, 1)?;
    st.push(Value::number(s.len() as f64))?;
    Ok(1)
}

/// A relative string position (negative counts from the end) as LuaJIT resolves
/// `sub`/`byte` bounds; the result may still be out of range.
fn rel_pos(pos: i32, len: usize) -> i64 {
    let p = i64::from(pos);
    if p < 0 {
        p + len as i64 + 1
    } else {
        p
    }
}

pub(crate) fn sub(st: &mut State) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let start = check_int(st, 2)?;
    let end = opt_int(st, 3, -1)?;
    let len = s.len();
    let start = rel_pos(start, len).max(1);
    let end = rel_pos(end, len).min(len as i64);
    let piece = if start <= end {
        s.as_bytes().get(start as usize - 1..end as usize).unwrap_or(&[])
    } else {
        &[]
    };
    push_charged(st, piece, false)?;
    Ok(1)
}

pub(crate) fn byte(st: &mut State) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let start = opt_int(st, 2, 1)?;
    let end = opt_int(st, 3, start)?;
    let len = s.len();
    let start = rel_pos(start, len).max(1);
    let end = rel_pos(end, len).min(len as i64);
    if start > end {
        return Ok(0);
    }
    let n = end - start + 1;
    if n > MAX_BYTE_RESULTS {
        return Err(st.rt_error(crate::errmsg::STRING_SLICE_TOO_LONG));
    }
    let bytes = s.as_bytes().get(start as usize - 1..end as usize).unwrap_or(&[]);
    st.charge(bytes.len() as u64)?;
    for &b in bytes {
        st.push(Value::number(f64::from(b)))?;
    }
    Ok(bytes.len())
}

pub(crate) fn char(st: &mut State) -> LResult<usize> {
    let n = st.arg_count();
    st.charge(n as u64)?;
    let mut buf = Buf::with_capacity(st.heap_ref(), n)?;
    for i in 1..=n {
        let c = check_int(st, i)?;
        let Ok(b) = u8::try_from(c) else {
            return Err(st.arg_error(i, crate::errmsg::INVALID_VALUE));
        };
        buf.push(b)?;
    }
    st.push_str(buf.as_slice())?;
    Ok(1)
}

/// `upper`/`lower`: map every byte, chunk by chunk, paying as it goes.
fn map_bytes(st: &mut State, f: fn(&u8) -> u8) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let mut buf = Buf::with_capacity(st.heap_ref(), s.len())?;
    for chunk in s.as_bytes().chunks(CHUNK_BYTES) {
        st.charge_bytes(chunk.len())?;
        let from = buf.len();
        buf.extend(chunk)?;
        for b in buf.as_mut_slice().get_mut(from..).unwrap_or_default() {
            *b = f(b);
        }
    }
    push_charged(st, buf.as_slice(), false)?;
    Ok(1)
}

pub(crate) fn lower(st: &mut State) -> LResult<usize> {
    map_bytes(st, u8::to_ascii_lowercase)
}

pub(crate) fn upper(st: &mut State) -> LResult<usize> {
    map_bytes(st, u8::to_ascii_uppercase)
}

pub(crate) fn reverse(st: &mut State) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let mut buf = Buf::with_capacity(st.heap_ref(), s.len())?;
    for chunk in s.as_bytes().rchunks(CHUNK_BYTES) {
        st.charge_bytes(chunk.len())?;
        let from = buf.len();
        buf.extend(chunk)?;
        buf.as_mut_slice().get_mut(from..).unwrap_or_default().reverse();
    }
    push_charged(st, buf.as_slice(), false)?;
    Ok(1)
}

/// `string.rep(s, n [, sep])`.
pub(crate) fn rep(st: &mut State) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let n = check_int(st, 2)?;
    let sep = if st.arg(3).is_nil() {
        None
    } else {
        Some(str_arg(st, 3)?)
    };
    let s = s.as_bytes();
    let sep = sep.as_ref().map_or(&[][..], |x| x.as_bytes());
    if n <= 0 {
        st.push_str(b"")?;
        return Ok(1);
    }
    let n = n as u64;
    let unit = s.len() as u64 + sep.len() as u64;
    let total = unit * n - sep.len() as u64;
    if total > MAX_STR as u64 {
        return Err(Throw::Oom);
    }
    let total = total as usize;
    if total == 0 {
        st.push_str(b"")?;
        return Ok(1);
    }
    // The result is `s sep` repeated and cut to `total`: write one period, then
    // double the written prefix (few large copies instead of n small ones), paying
    // chunk by chunk. Zeroing the block first is one pass, paid before it.
    st.charge_bytes(total)?;
    let mut buf = Buf::with_capacity(st.heap_ref(), total)?;
    buf.extend(s)?;
    if n > 1 {
        buf.extend(sep)?;
    }
    buf.fill(0, total.saturating_sub(buf.len()))?;
    let out = buf.as_mut_slice();
    let mut filled = (unit as usize).min(total);
    let unit = unit as usize;
    while filled < total {
        // `out` repeats with period `unit`: copy from whole periods back, at least as
        // far back as the copy is long (so the ranges do not overlap).
        let back = filled / unit * unit;
        let chunk = back.min(total - filled).min(CHUNK_BYTES);
        st.charge_bytes(chunk)?;
        out.copy_within(filled - back..filled - back + chunk, filled);
        filled += chunk;
    }
    push_charged(st, buf.as_slice(), false)?;
    Ok(1)
}

pub(crate) fn dump(st: &mut State) -> LResult<usize> {
    let Some(f) = st.arg(1).as_function() else {
        return Err(st.type_error(1, "function"));
    };
    // `strip`: leave out line numbers, local and upvalue names and the chunk name.
    let strip = st.arg(2).is_truthy();
    let Some(p) = f.proto() else {
        return Err(st.rt_error(crate::errmsg::DUMP_FAILED));
    };
    match crate::compiler::dump::dump(st, p, strip) {
        Ok(buf) => {
            push_charged(st, buf.as_slice(), true)?;
            Ok(1)
        }
        Err(crate::compiler::dump::DumpError::Oom) => Err(Throw::Oom),
        Err(crate::compiler::dump::DumpError::Unsupported) => Err(st.rt_error(crate::errmsg::DUMP_FAILED)),
    }
}

// --- find / match -----------------------------------------------------------------

/// Push capture `i` of a match spanning `s..e`.
fn push_capture(st: &mut State, mt: &Matcher<'_>, i: usize, s: usize, e: usize) -> LResult<()> {
    match mt.capture(i, s, e) {
        Ok(Capture::Str(b)) => st.push_str(b),
        Ok(Capture::Pos(p)) => st.push(Value::number(p as f64)),
        Err(err) => Err(pat_err(st, err)),
    }
}

/// Push the captures of a match (the whole match if there are none and `whole`).
fn push_captures(st: &mut State, mt: &Matcher<'_>, s: usize, e: usize, whole: bool) -> LResult<usize> {
    let n = if mt.capture_count() == 0 && whole {
        1
    } else {
        mt.capture_count()
    };
    for i in 0..n {
        push_capture(st, mt, i, s, e)?;
    }
    Ok(n)
}

fn find_aux(st: &mut State, find: bool) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let p = str_arg(st, 2)?;
    let init = opt_int(st, 3, 1)?;
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let init = if init < 0 {
        (i64::from(init) + src.len() as i64).max(0)
    } else {
        i64::from(init) - 1
    };
    // Lua 5.1: a start past the end searches at the end.
    let init = (init.max(0) as usize).min(src.len());
    if find && (st.arg(4).is_truthy() || !pattern::has_specials(pat)) {
        // Searched a chunk of work at a time, each paid before the next.
        let mut from = init;
        let found = loop {
            let mut work = 0;
            let r = pattern::find_plain(src, pat, from, CHUNK_BYTES, &mut work);
            st.charge_bytes(work)?;
            match r {
                pattern::PlainSearch::Found(i) => break Some(i),
                pattern::PlainSearch::NotFound => break None,
                pattern::PlainSearch::Paused(at) => from = at,
            }
        };
        return match found {
            Some(i) => {
                st.push(Value::number((i + 1) as f64))?;
                st.push(Value::number((i + pat.len()) as f64))?;
                Ok(2)
            }
            None => {
                st.push(Value::NIL)?;
                Ok(1)
            }
        };
    }
    let mut mt = Matcher::new(src, pat);
    let anchored = mt.pattern().first() == Some(&b'^');
    let found = metered(st, &mut mt, |mt, pay| {
        mt.search(init, usize::from(anchored), anchored, pay)
    })?;
    match found {
        Some((ms, me)) => {
            if find {
                st.push(Value::number((ms + 1) as f64))?;
                st.push(Value::number(me as f64))?;
                Ok(2 + push_captures(st, &mt, ms, me, false)?)
            } else {
                push_captures(st, &mt, ms, me, true)
            }
        }
        None => {
            st.push(Value::NIL)?;
            Ok(1)
        }
    }
}

pub(crate) fn find(st: &mut State) -> LResult<usize> {
    find_aux(st, true)
}

pub(crate) fn match_(st: &mut State) -> LResult<usize> {
    find_aux(st, false)
}

// --- gmatch -----------------------------------------------------------------------

/// `string.gmatch(s, p)`: an iterator closure holding the subject, the pattern and
/// the next start offset in its upvalues. A `^` in the pattern is a literal here,
/// as in LuaJIT.
pub(crate) fn gmatch(st: &mut State) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let p = str_arg(st, 2)?;
    let f = super::new_func(st, super::FF_GMATCH_AUX, 3)?;
    let ups = f.native_upvals();
    if let [us, up, upos] = ups {
        *us = Value::string(s);
        *up = Value::string(p);
        *upos = Value::number(0.0);
    }
    st.push(Value::function(f))?;
    Ok(1)
}

pub(crate) fn gmatch_step(st: &mut State) -> LResult<usize> {
    let (Some(s), Some(p)) = (st.native_upval(0).as_string(), st.native_upval(1).as_string()) else {
        return Ok(0);
    };
    let start = st.native_upval(2).as_number().unwrap_or(0.0);
    let src = s.as_bytes();
    let mut mt = Matcher::new(src, p.as_bytes());
    let mut pos = if start >= 0.0 { start as usize } else { 0 };
    while pos <= src.len() {
        match metered(st, &mut mt, |mt, pay| mt.match_at(pos, 0, pay))? {
            Some(e) => {
                // After an empty match, step one byte so the loop makes progress.
                let next = if e == pos { e + 1 } else { e };
                st.set_native_upval(2, Value::number(next as f64));
                return push_captures(st, &mt, pos, e, true);
            }
            None => pos += 1,
        }
    }
    st.set_native_upval(2, Value::number((src.len() + 1) as f64));
    Ok(0)
}

// --- gsub -------------------------------------------------------------------------

pub(crate) fn gsub(st: &mut State) -> LResult<usize> {
    let s = str_arg(st, 1)?;
    let p = str_arg(st, 2)?;
    let src = s.as_bytes();
    let repl = st.arg(3);
    // LuaJIT takes the count through a 64-bit integer and keeps the low 32 bits.
    let max_n: i64 = if st.arg(4).is_nil() {
        src.len() as i64 + 1
    } else {
        i64::from(num_to_i64(st.check_number(4)?) as i32)
    };
    let repl_str = match repl.lua_type() {
        LuaType::String | LuaType::Number => Some(str_arg(st, 3)?),
        LuaType::Table | LuaType::Function => None,
        _ => return Err(st.arg_error(3, crate::errmsg::STRING_FUNCTION_TABLE)),
    };
    let mut mt = Matcher::new(src, p.as_bytes());
    let anchored = mt.pattern().first() == Some(&b'^');
    let p0 = usize::from(anchored);
    let mut out = Buf::new(st.heap_ref());
    let mut pos = 0;
    let mut n: i64 = 0;
    while n < max_n {
        let e = metered(st, &mut mt, |mt, pay| mt.match_at(pos, p0, pay))?;
        if let Some(e) = e {
            n += 1;
            let whole = src.get(pos..e).unwrap_or(&[]);
            match repl_str {
                Some(r) => add_repl_string_full(st, &mut out, &mt, r.as_bytes(), pos, e, whole)?,
                None => add_repl_value(st, &mut out, &mt, repl, pos, e, whole)?,
            }
        }
        match e {
            Some(e) if e > pos => pos = e,
            _ => {
                if let Some(&b) = src.get(pos) {
                    out.push(b)?;
                    pos += 1;
                } else {
                    break;
                }
            }
        }
        if anchored {
            break;
        }
    }
    out.extend(src.get(pos..).unwrap_or(&[]))?;
    push_charged(st, out.as_slice(), true)?;
    st.push(Value::number(n as f64))?;
    Ok(2)
}

/// [`add_repl_string`] with `%0` resolved to the whole match.
fn add_repl_string_full(
    st: &mut State,
    out: &mut Buf,
    mt: &Matcher<'_>,
    repl: &[u8],
    s: usize,
    e: usize,
    whole: &[u8],
) -> LResult<()> {
    let mut i = 0;
    while i < repl.len() {
        let run = repl.get(i..).unwrap_or(&[]);
        let lit = run.iter().position(|&b| b == b'%').unwrap_or(run.len());
        out.extend(run.get(..lit).unwrap_or(&[]))?;
        i += lit;
        if i >= repl.len() {
            break;
        }
        // LuaJIT reads the byte after '%' from a NUL-terminated buffer, so a final
        // '%' yields a NUL byte; any other non-digit stands for itself.
        let c = repl.get(i + 1).copied().unwrap_or(0);
        i += 2;
        match c {
            b'0' => out.extend(whole)?,
            b'1'..=b'9' => match mt.capture(usize::from(c - b'1'), s, e) {
                Ok(Capture::Str(b)) => out.extend(b)?,
                Ok(Capture::Pos(p)) => {
                    let text = st.number_to_str(p as f64)?;
                    out.extend(text.as_bytes())?;
                }
                Err(err) => return Err(pat_err(st, err)),
            },
            _ => out.push(c)?,
        }
    }
    Ok(())
}

/// Append the replacement for one match of `gsub` with a table or function
/// replacement: the looked-up or returned value, or the match itself for
/// nil/false.
fn add_repl_value(
    st: &mut State,
    out: &mut Buf,
    mt: &Matcher<'_>,
    repl: Value,
    s: usize,
    e: usize,
    whole: &[u8],
) -> LResult<()> {
    let v = if let Some(t) = repl.as_table() {
        push_capture(st, mt, 0, s, e)?;
        let key = st.peek(0);
        let v = st.index_sync(Value::table(t), key)?;
        st.pop(1);
        v
    } else {
        let base = st.cur.top;
        st.push(repl)?;
        let n = push_captures(st, mt, s, e, true)?;
        st.call(n, 1)?;
        let v = st.peek(0);
        st.cur.get_mut().top = base;
        v
    };
    if v.is_falsy() {
        return Ok(out.extend(whole)?);
    }
    if let Some(x) = v.as_string() {
        return Ok(out.extend(x.as_bytes())?);
    }
    if let Some(n) = v.as_number() {
        let text = st.number_to_str(n)?;
        return Ok(out.extend(text.as_bytes())?);
    }
    Err(st.rt_error_fmt(crate::errmsg::GSUB_REPLACEMENT, &[v.type_name().as_bytes()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run a chunk that returns one value; its `tostring`, or the error message.
    fn run(st: &mut State, src: &str) -> String {
        if let Err(e) = st.load(src.as_bytes(), b"=t") {
            return format!("load error {e:?}");
        }
        let ok = st.pcall(0, 1, false);
        let v = st.peek(0);
        st.pop(1);
        let text = st.tostring_raw(v).map(|s| s.to_str_lossy().into_owned());
        format!("{ok} {}", text.unwrap_or_default())
    }

    #[test]
    fn int_conversions_match_luajit() {
        assert_eq!(num_to_i32(3.9), 3);
        assert_eq!(num_to_i32(-3.9), -3);
        assert_eq!(num_to_i32(2147483647.5), i32::MAX);
        assert_eq!(num_to_i32(2147483648.0), i32::MIN);
        assert_eq!(num_to_i32(f64::NAN), i32::MIN);
        assert_eq!(num_to_i32(f64::NEG_INFINITY), i32::MIN);
        assert_eq!(num_to_i64(9223372036854775808.0), i64::MIN);
        assert_eq!(num_to_i64(-9223372036854775808.0), i64::MIN);
        assert_eq!(num_to_i64(1e18), 1_000_000_000_000_000_000);
        assert_eq!(num_to_i64(f64::NAN) as i32, 0);
    }

    #[test]
    fn big_results_respect_the_memory_limit() {
        let mut st = State::new().unwrap();
        st.open_libs().unwrap();
        assert_eq!(run(&mut st, "return ('ab'):rep(3, ',')"), "true ab,ab,ab");
        st.heap.set_limit(st.heap.used() + (1 << 20));
        for src in [
            "local ok, e = pcall(string.rep, 'x', 1e7) return e",
            "local ok, e = pcall(string.rep, 'x', 1e3, ('y'):rep(1e4)) return e",
            "local ok, e = pcall(string.gsub, ('x'):rep(1000), 'x', ('y'):rep(5000)) return e",
            "local ok, e = pcall(string.gsub, ('x'):rep(1000), 'x', function() return ('z'):rep(5000) end) return e",
            "local s = ('x'):rep(3e5) local ok, e = pcall(string.format, '%s%s%s%s', s, s, s, s) return e",
            "local ok, e = pcall(function() return ('x'):rep(4e5):upper():reverse() end) return e",
        ] {
            assert_eq!(run(&mut st, src), "true not enough memory", "{src}");
        }
        st.heap.set_limit(usize::MAX);
        assert_eq!(run(&mut st, "return (('x'):rep(1e6)):upper():len()"), "true 1000000");
        assert_eq!(run(&mut st, "return ('%d'):format(7)"), "true 7");
    }
}
