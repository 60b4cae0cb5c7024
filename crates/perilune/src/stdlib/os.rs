//! The `os` library, as LuaJIT 2.1 ships it (Lua 5.1 semantics): `clock date
//! difftime execute exit getenv remove rename setlocale time tmpname`.
//!
//! It opens in two parts (rows `Lib::OsTime` and `Lib::Os` of `LIB_FUNCS`): the
//! clock and the calendar (`clock date difftime time`, `StdLib::OS_TIME`, for hosts
//! that want only those) and the rest, which reaches files, processes, the
//! environment and the locale (all of `StdLib::OS`).
//!
//! Time functions use the C library through the `libc` crate, the standard way to
//! reach the platform's time zone database and `strftime`: `clock` is
//! `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` (process CPU time, what glibc's
//! `clock()` reads; std has none), `date` is `gmtime_r`/`localtime_r`
//! plus `strftime`, `time` with a table is `mktime` (which normalises out-of-range
//! fields and honours `isdst`).
//!
//! Decisions and differences (see docs/stdlib-io-os.md):
//! - `os.date` formats each `%` conversion (with glibc's flags, width and `E`/`O`
//!   modifiers) through `strftime`; text between conversions is copied. So unknown
//!   conversions behave as glibc makes them behave, as in LuaJIT.
//! - `os.setlocale` does not change the process locale (Perilune's number
//!   formatting and parsing never depend on it): querying returns `"C"`, setting
//!   `"C"`, `"POSIX"` or `""` returns `"C"`, any other locale fails with nil.
//! - `os.exit` flushes every open file and the standard streams, then ends the
//!   process with `std::process::exit`; the state is not closed (finalizers do not
//!   run), which is what LuaJIT does unless its second argument is true. With a true
//!   second argument the pending finalizers run first, as `lua_close` runs them.
//! - `os.execute` returns the raw wait status (`exit 3` gives 768), as 5.1 does.

use std::ffi::CString;

use super::io::{create_temp, flush_all, push_error};
use crate::buf::Buf;
use crate::object::GcRef;
use crate::table::GcTable;
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// Open all of `os`: its clock and calendar part ([`open_time`]) first, then the rest
/// into the same table.
pub fn open(st: &mut State) -> LResult<()> {
    let t = os_table(st)?;
    super::open_funcs(st, super::Lib::Os, t)
}

/// Open `os.clock`, `date`, `difftime` and `time` (`StdLib::OS_TIME`): the part of
/// `os` that only reads the clock and the calendar.
pub fn open_time(st: &mut State) -> LResult<()> {
    let t = os_table(st)?;
    super::open_funcs(st, super::Lib::OsTime, t)
}

/// The global `os` table, made if there is none yet.
fn os_table(st: &mut State) -> LResult<GcRef<GcTable>> {
    if let Some(t) = st.get_global("os")?.as_table() {
        return Ok(t);
    }
    let t = st.new_table(0, 12)?;
    st.set_global("os", Value::table(t))?;
    Ok(t)
}

fn path_of(name: &[u8]) -> &std::path::Path {
    use std::os::unix::ffi::OsStrExt;
    std::path::Path::new(std::ffi::OsStr::from_bytes(name))
}

pub(crate) fn clock(st: &mut State) -> LResult<usize> {
    // SAFETY: `ts` is plain data that clock_gettime writes.
    let secs = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) == 0 {
            ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
        } else {
            0.0
        }
    };
    st.push(Value::number(secs))?;
    Ok(1)
}

/// The current time as `time_t`.
fn now() -> libc::time_t {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as libc::time_t,
        Err(e) => -(e.duration().as_secs_f64().ceil() as libc::time_t),
    }
}

/// A broken-down time in UTC or local time; `None` if it cannot be represented.
fn broken_down(t: libc::time_t, utc: bool) -> Option<libc::tm> {
    // SAFETY: `tm` is plain data (all-zero is a valid value); the `_r` functions
    // write only into it and are thread-safe.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let r = if utc {
            libc::gmtime_r(&t, &mut tm)
        } else {
            libc::localtime_r(&t, &mut tm)
        };
        if r.is_null() {
            None
        } else {
            Some(tm)
        }
    }
}

/// `strftime` of one conversion into `out`.
fn strftime_piece(out: &mut Buf, spec: &[u8], tm: &libc::tm) -> LResult<()> {
    // A conversion is a few bytes; an absurd width is copied as text rather than
    // handed to strftime (and to the Rust heap).
    if spec.len() > 16 {
        return Ok(out.extend(spec)?);
    }
    let Ok(cspec) = CString::new(spec) else {
        return Ok(out.extend(spec)?);
    };
    let mut size = 256;
    while size <= 1 << 16 {
        let mut buf = vec![0u8; size];
        // SAFETY: `buf` has `size` writable bytes, `cspec` is NUL-terminated and `tm`
        // is a valid broken-down time.
        let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), size, cspec.as_ptr(), tm) };
        if n > 0 {
            return Ok(out.extend(&buf[..n])?);
        }
        size *= 16;
    }
    // Nothing fits (or the conversion is empty): it produces nothing.
    Ok(())
}

fn set_field(st: &mut State, t: crate::object::GcRef<crate::object::GcTable>, k: &str, v: Value) -> LResult<()> {
    let k = st.str_value(k.as_bytes())?;
    st.table_set(t, k, v)
}

pub(crate) fn date(st: &mut State) -> LResult<usize> {
    let fmt = if st.arg(1).is_nil() {
        None
    } else {
        Some(st.check_string(1)?)
    };
    let t = if st.arg(2).is_nil() {
        now()
    } else {
        st.check_number(2)? as libc::time_t
    };
    let mut f: &[u8] = fmt.as_ref().map_or(b"%c", |s| s.as_bytes());
    let utc = f.first() == Some(&b'!');
    if utc {
        f = &f[1..];
    }
    let Some(tm) = broken_down(t, utc) else {
        st.push(Value::NIL)?;
        return Ok(1);
    };
    if f.starts_with(b"*t") {
        let tbl = st.new_table(0, 9)?;
        st.push(Value::table(tbl))?;
        for (k, v) in [
            ("sec", tm.tm_sec),
            ("min", tm.tm_min),
            ("hour", tm.tm_hour),
            ("day", tm.tm_mday),
            ("month", tm.tm_mon + 1),
            ("year", tm.tm_year + 1900),
            ("wday", tm.tm_wday + 1),
            ("yday", tm.tm_yday + 1),
        ] {
            set_field(st, tbl, k, Value::number(f64::from(v)))?;
        }
        set_field(st, tbl, "isdst", Value::boolean(tm.tm_isdst > 0))?;
        return Ok(1);
    }
    let mut out = Buf::new(st.heap_ref());
    let mut i = 0;
    while i < f.len() {
        if f[i] != b'%' {
            let end = f[i..].iter().position(|&c| c == b'%').map_or(f.len(), |p| i + p);
            out.extend(&f[i..end])?;
            i = end;
            continue;
        }
        // '%', glibc flags, width, an E/O modifier, the conversion character.
        let mut j = i + 1;
        while j < f.len() && matches!(f[j], b'_' | b'-' | b'0' | b'^' | b'#') {
            j += 1;
        }
        while j < f.len() && f[j].is_ascii_digit() {
            j += 1;
        }
        if j < f.len() && matches!(f[j], b'E' | b'O') {
            j += 1;
        }
        let end = (j + 1).min(f.len());
        strftime_piece(&mut out, &f[i..end], &tm)?;
        i = end;
    }
    st.push_str(out.as_slice())?;
    Ok(1)
}

pub(crate) fn difftime(st: &mut State) -> LResult<usize> {
    let a = st.check_number(1)? as libc::time_t;
    let b = st.opt_number(2, 0.0)? as libc::time_t;
    st.push(Value::number(a as f64 - b as f64))?;
    Ok(1)
}

/// A `time` table field: its integer value, `default` when absent, or the error.
fn get_field(
    st: &mut State,
    t: crate::object::GcRef<crate::object::GcTable>,
    k: &str,
    default: Option<i32>,
) -> LResult<i32> {
    let key = st.intern(k.as_bytes())?;
    let v = t.get_str(key);
    match (st.to_number(v), default) {
        (Some(n), _) => Ok(super::string::num_to_i32(n)),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(st.rt_error_fmt(crate::errmsg::DATE_FIELD_MISSING, &[k.as_bytes()])),
    }
}

pub(crate) fn time(st: &mut State) -> LResult<usize> {
    if st.arg(1).is_nil() {
        st.push(Value::number(now() as f64))?;
        return Ok(1);
    }
    let t = st.check_table(1)?;
    // SAFETY: `tm` is plain data; all-zero is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_sec = get_field(st, t, "sec", Some(0))?;
    tm.tm_min = get_field(st, t, "min", Some(0))?;
    tm.tm_hour = get_field(st, t, "hour", Some(12))?;
    tm.tm_mday = get_field(st, t, "day", None)?;
    tm.tm_mon = get_field(st, t, "month", None)?.wrapping_sub(1);
    tm.tm_year = get_field(st, t, "year", None)?.wrapping_sub(1900);
    let k = st.intern(b"isdst")?;
    let d = t.get_str(k);
    tm.tm_isdst = if d.is_nil() { -1 } else { i32::from(!d.is_falsy()) };
    // SAFETY: mktime reads and normalises the `tm` we own.
    let r = unsafe { libc::mktime(&mut tm) };
    st.push(if r == -1 { Value::NIL } else { Value::number(r as f64) })?;
    Ok(1)
}

pub(crate) fn execute(st: &mut State) -> LResult<usize> {
    if st.arg(1).is_nil() {
        st.push(Value::number(1.0))?;
        return Ok(1);
    }
    let cmd = st.check_string(1)?;
    // The child shares our standard output: what we printed must come first.
    let _ = super::iofile::flush_stdout();
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(cmd.as_bytes()))
        .status();
    let code = match status {
        Ok(s) => s.into_raw(),
        Err(_) => -1,
    };
    st.push(Value::number(f64::from(code)))?;
    Ok(1)
}

pub(crate) fn exit(st: &mut State) -> LResult<usize> {
    let code = match st.arg(1).as_bool() {
        Some(true) => 0,
        Some(false) => 1,
        None => super::string::num_to_i32(st.opt_number(1, 0.0)?),
    };
    if st.arg(2).is_truthy() {
        close_state(st);
    }
    flush_all(st);
    std::process::exit(code)
}

/// `os.exit(code, true)`: what closing the state does before the process ends, as
/// LuaJIT's `lua_close` there: every pending `__gc` finalizer runs, reachable object
/// or not, including those of objects their finalizers create (as `State`'s drop
/// does; the objects are not freed, the process ends right after). Called from a
/// native that holds nothing unrooted, like `collectgarbage`.
fn close_state(st: &mut State) {
    for _ in 0..100 {
        crate::gc::queue_all_finalizers(st);
        if !crate::gc::has_pending_finalizers(st) {
            break;
        }
        st.run_finalizers();
        if st.budget.pending_abort {
            break;
        }
    }
}

pub(crate) fn getenv(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let v = if name.as_bytes().is_empty() || name.as_bytes().contains(&b'=') || name.as_bytes().contains(&0) {
        None
    } else {
        std::env::var_os(std::ffi::OsStr::from_bytes(name.as_bytes()))
    };
    match v {
        Some(v) => st.push_str(&v.into_vec())?,
        None => st.push(Value::NIL)?,
    }
    Ok(1)
}

pub(crate) fn remove(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let p = path_of(name.as_bytes());
    // C's remove: unlink, and rmdir for a directory.
    let r = match std::fs::remove_file(p) {
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => std::fs::remove_dir(p),
        r => r,
    };
    match r {
        Ok(()) => {
            st.push(Value::TRUE)?;
            Ok(1)
        }
        Err(e) => push_error(st, &e, Some(name.as_bytes())),
    }
}

pub(crate) fn rename(st: &mut State) -> LResult<usize> {
    let from = st.check_string(1)?;
    let to = st.check_string(2)?;
    match std::fs::rename(path_of(from.as_bytes()), path_of(to.as_bytes())) {
        Ok(()) => {
            st.push(Value::TRUE)?;
            Ok(1)
        }
        Err(e) => push_error(st, &e, Some(from.as_bytes())),
    }
}

pub(crate) fn setlocale(st: &mut State) -> LResult<usize> {
    let loc = if st.arg(1).is_nil() {
        None
    } else {
        Some(st.check_string(1)?)
    };
    let cats = ["all", "collate", "ctype", "monetary", "numeric", "time"];
    if !st.arg(2).is_nil() {
        let c = st.check_string(2)?;
        if !cats.iter().any(|n| n.as_bytes() == c.as_bytes()) {
            return Err(st.arg_error_parts(
                2,
                &crate::errmsg::Parts::new(crate::errmsg::INVALID_OPTION_NAMED, &[c.as_bytes()]),
            ));
        }
    }
    match loc.as_ref().map(|l| l.as_bytes()) {
        None | Some(b"C" | b"POSIX" | b"") => st.push_str(b"C")?,
        Some(_) => st.push(Value::NIL)?,
    }
    Ok(1)
}

pub(crate) fn tmpname(st: &mut State) -> LResult<usize> {
    match create_temp("lua_") {
        Ok((path, f)) => {
            drop(f);
            use std::os::unix::ffi::OsStrExt;
            if let Err(e) = st.push_str(path.as_os_str().as_bytes()) {
                // Nobody will learn the name: do not leave the file behind.
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            Ok(1)
        }
        Err(_) => Err(st.rt_error(crate::errmsg::TMPNAME_FAILED)),
    }
}
