//! The `io` library, as LuaJIT 2.1 ships it (Lua 5.1 semantics): `close flush input
//! lines open output popen read tmpfile type write`, the standard files `stdin
//! stdout stderr`, and the file methods `close flush lines read seek setvbuf write`
//! with `__gc`, `__index` (the metatable itself) and `__tostring`.
//!
//! A file object is a userdata holding an [`LFile`] (see [`super::iofile`] for the
//! buffering and the payload). The metatable is kept in the registry under `FILE*`
//! (as LuaJIT does); the default input and output files are registry entries keyed
//! by light userdata, so no script can reach them except through `io.input` and
//! `io.output`.
//!
//! Behaviours worth knowing (all observed on LuaJIT 2.1):
//! - Failures are returned as `nil, "name: message", errno` (or without the name,
//!   for operations on an open file); only misuse raises errors.
//! - `write` returns `true`, not the file (that is 5.2 behaviour).
//! - A read format is a number (a byte count) or a string whose first character,
//!   after an optional `*`, is `n`, `l`, `L` or `a`; anything else is "invalid
//!   format" (a non-string, non-number is "invalid option"). Reading stops at the
//!   first format that fails, which yields nil.
//! - Standard files cannot be closed (`nil, "cannot close standard file"`).
//! - `io.lines(name)` validates its formats only when iterating; at end of file
//!   its iterator closes the file and returns nothing.
//! - `io.open` checks modes as glibc's `fopen` does: the first character must be
//!   `r`, `w` or `a`; `+` adds the other direction, `b` and unknown characters are
//!   ignored; an invalid mode fails with `EINVAL`.
//! - Closing a pipe from `io.popen` waits for the command and returns `true`.

use std::io::{self, SeekFrom};
use std::os::unix::ffi::OsStrExt;

use super::iofile::{file_of, install, payload_len, LFile, RdErr, Stream, Vbuf};
use crate::buf::{Buf, MAX_STR};
use crate::object::{GcRef, GcUdata};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

/// Registry key of the default input file.
static INPUT_KEY: u8 = 0;
/// Registry key of the default output file.
static OUTPUT_KEY: u8 = 0;

fn key(k: &'static u8) -> Value {
    Value::light_userdata(k as *const u8 as usize)
}

/// Register `io` in the globals.
pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let mt = st.new_table(0, 12)?;
    let reg = st.registry;
    let k = st.str_value(b"FILE*")?;
    st.table_set(reg, k, Value::table(mt))?;
    super::open_funcs(st, super::Lib::File, mt)?;
    let k = st.str_value(b"__index")?;
    st.table_set(mt, k, Value::table(mt))?;

    let t = st.new_table(0, 16)?;
    let g = st.globals;
    let k = st.str_value(b"io")?;
    st.table_set(g, k, Value::table(t))?;
    super::open_funcs(st, super::Lib::Io, t)?;
    for (name, stream, r, w) in [
        ("stdin", Stream::Stdin, true, false),
        ("stdout", Stream::Stdout, false, true),
        ("stderr", Stream::Stderr, false, true),
    ] {
        let u = new_file(st)?;
        let v = Value::userdata(u);
        let k = st.str_value(name.as_bytes())?;
        st.table_set(t, k, v)?;
        install_stream(u, stream, r, w);
        if name == "stdin" {
            st.table_set(reg, key(&INPUT_KEY), v)?;
        } else if name == "stdout" {
            st.table_set(reg, key(&OUTPUT_KEY), v)?;
        }
    }
    Ok(())
}

// --- Helpers ------------------------------------------------------------------------

/// A new, closed file object with the file metatable. The caller roots it (pushes
/// it or stores it) before anything else can run the collector, then installs a
/// stream in it; opening the OS handle only after the object exists means an
/// allocation failure can never leak a handle.
fn new_file(st: &mut State) -> LResult<GcRef<GcUdata>> {
    let k = st.intern(b"FILE*")?;
    let mt = st.registry.get_str(k).as_table();
    let u = st.new_userdata(payload_len())?;
    install(u, LFile::new(Stream::Closed, false, false));
    // A fresh object is white: storing the metatable needs no barrier.
    u.get_mut().metatable = mt;
    Ok(u)
}

/// Put an open stream into a file object made by [`new_file`].
fn install_stream(u: GcRef<GcUdata>, stream: Stream, readable: bool, writable: bool) {
    if let Some(f) = file_of(u) {
        // Standard error is unbuffered, as in C.
        if matches!(stream, Stream::Stderr) {
            f.vbuf = Vbuf::No;
        }
        f.stream = stream;
        f.readable = readable;
        f.writable = writable;
    }
}

/// Argument `i` as a file object (open or closed).
fn check_file(st: &mut State, i: usize) -> LResult<GcRef<GcUdata>> {
    match st.arg(i).as_userdata() {
        Some(u) if file_of(u).is_some() => Ok(u),
        _ => Err(st.type_error(i, "FILE*")),
    }
}

/// Argument `i` as an open file.
fn check_open(st: &mut State, i: usize) -> LResult<GcRef<GcUdata>> {
    let u = check_file(st, i)?;
    if file_of(u).is_none_or(|f| f.is_closed()) {
        return Err(st.rt_error(crate::errmsg::FILE_CLOSED));
    }
    Ok(u)
}

/// The file at registry key `k`, which must be open.
fn std_file(st: &mut State, k: &'static u8) -> LResult<GcRef<GcUdata>> {
    let v = st.registry.get(key(k));
    match v.as_userdata() {
        Some(u) if file_of(u).is_some_and(|f| !f.is_closed()) => Ok(u),
        _ => Err(st.rt_error(crate::errmsg::STD_FILE_CLOSED)),
    }
}

/// The text of an OS error, without Rust's " (os error N)" suffix, and its errno.
pub fn os_error_text(e: &io::Error) -> (String, i32) {
    match e.raw_os_error() {
        Some(code) => {
            let text = io::Error::from_raw_os_error(code).to_string();
            let text = match text.rfind(" (os error ") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            (text, code)
        }
        None => ("Invalid argument".to_string(), libc::EINVAL),
    }
}

/// Push `nil, "[name: ]message", errno` and return 3.
pub fn push_error(st: &mut State, e: &io::Error, name: Option<&[u8]>) -> LResult<usize> {
    let (text, code) = os_error_text(e);
    // The name is script-sized: build the message in an accounted buffer.
    let mut msg = Buf::new(st.heap_ref());
    if let Some(n) = name {
        msg.extend(n)?;
        msg.extend(b": ")?;
    }
    msg.extend(text.as_bytes())?;
    st.push(Value::NIL)?;
    st.push_str(msg.as_slice())?;
    st.push(Value::number(f64::from(code)))?;
    Ok(3)
}

/// Push `true`, or the error triple.
fn push_result(st: &mut State, r: io::Result<()>) -> LResult<usize> {
    match r {
        Ok(()) => {
            st.push(Value::TRUE)?;
            Ok(1)
        }
        Err(e) => push_error(st, &e, None),
    }
}

pub(crate) fn path_of(name: &[u8]) -> &std::path::Path {
    std::path::Path::new(std::ffi::OsStr::from_bytes(name))
}

/// How glibc's `fopen` reads a mode string: (read, write, append, truncate, create,
/// exclusive), or `None` for an invalid mode.
fn parse_mode(mode: &[u8]) -> Option<std::fs::OpenOptions> {
    let mut o = std::fs::OpenOptions::new();
    let (mut read, mut write) = match mode.first()? {
        b'r' => (true, false),
        b'w' => {
            o.create(true).truncate(true);
            (false, true)
        }
        b'a' => {
            o.create(true).append(true);
            (false, true)
        }
        _ => return None,
    };
    for &c in mode.iter().skip(1).take(6) {
        match c {
            b'+' => {
                read = true;
                write = true;
            }
            // Exclusive creation; without creation (`r`) the flag means nothing.
            b'x' if mode[0] != b'r' => {
                o.create_new(true);
            }
            _ => {}
        }
    }
    o.read(read).write(write);
    Some(o)
}

/// Open `name` with `mode` into a new file object pushed on the stack. On failure
/// the object stays closed and the error is returned.
fn open_file(st: &mut State, name: &[u8], mode: &[u8]) -> LResult<Result<GcRef<GcUdata>, io::Error>> {
    let u = new_file(st)?;
    st.push(Value::userdata(u))?;
    let Some(opts) = parse_mode(mode) else {
        return Ok(Err(io::Error::from_raw_os_error(libc::EINVAL)));
    };
    let plus = mode.iter().skip(1).take(6).any(|&c| c == b'+');
    let readable = mode[0] == b'r' || plus;
    let writable = mode[0] != b'r' || plus;
    match opts.open(path_of(name)) {
        Ok(f) => {
            install_stream(u, Stream::File(f), readable, writable);
            Ok(Ok(u))
        }
        Err(e) => Ok(Err(e)),
    }
}

// --- Reading ------------------------------------------------------------------------

enum Fmt {
    Number,
    Line(bool),
    All,
    Count(usize),
}

/// The read format at argument `i`.
fn parse_fmt(st: &mut State, i: usize) -> LResult<Fmt> {
    let v = st.arg(i);
    if let Some(n) = v.as_number() {
        let n = super::string::num_to_i32(n) as u32 as usize;
        if n > MAX_STR {
            return Err(Throw::Oom);
        }
        return Ok(Fmt::Count(n));
    }
    let Some(s) = v.as_string() else {
        return Err(st.arg_error(i, crate::errmsg::INVALID_OPTION));
    };
    let b = s.as_bytes();
    let c = if b.first() == Some(&b'*') { b.get(1) } else { b.first() };
    match c {
        Some(b'n') => Ok(Fmt::Number),
        Some(b'l') => Ok(Fmt::Line(false)),
        Some(b'L') => Ok(Fmt::Line(true)),
        Some(b'a') => Ok(Fmt::All),
        _ => Err(st.arg_error(i, crate::errmsg::INVALID_FORMAT)),
    }
}

/// Read one format; `None` when it fails (end of file, no number).
fn read_one(st: &mut State, u: GcRef<GcUdata>, fmt: Fmt) -> Result<Option<Value>, RdErr> {
    let heap = st.heap_ref();
    let mut buf = Buf::new(heap);
    let Some(f) = file_of(u) else {
        return Err(RdErr::Io(super::iofile::ebadf()));
    };
    match fmt {
        Fmt::Number => {
            return Ok(f.read_number(&mut buf)?.map(Value::number));
        }
        Fmt::Line(keep) => {
            if !f.read_line(&mut buf, keep)? {
                return Ok(None);
            }
        }
        Fmt::All => f.read_all(&mut buf)?,
        Fmt::Count(0) => {
            if !f.test_eof()? {
                return Ok(None);
            }
        }
        Fmt::Count(n) => {
            if !f.read_count(&mut buf, n)? {
                return Ok(None);
            }
        }
    }
    Ok(Some(st.str_value(buf.as_slice()).map_err(Throw::from)?))
}

/// Read the formats in arguments `first..` (a line if there are none) from `u` and
/// push the results. An I/O error gives `nil, msg, errno` when `raise` is false and
/// a raised error otherwise.
fn read_formats(st: &mut State, u: GcRef<GcUdata>, first: usize, raise: bool) -> LResult<usize> {
    let nargs = st.arg_count();
    let last = nargs.max(first);
    let mut pushed = 0;
    for i in first..=last {
        let fmt = if i > nargs { Fmt::Line(false) } else { parse_fmt(st, i)? };
        match read_one(st, u, fmt) {
            Ok(Some(v)) => {
                st.push(v)?;
                pushed += 1;
            }
            Ok(None) => {
                st.push(Value::NIL)?;
                pushed += 1;
                break;
            }
            Err(RdErr::Lua(e)) => return Err(e),
            Err(RdErr::Io(e)) => {
                if raise {
                    let (text, _) = os_error_text(&e);
                    return Err(st.rt_error(&text));
                }
                return push_error(st, &e, None);
            }
        }
    }
    Ok(pushed)
}

pub(crate) fn f_read(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    read_formats(st, u, 2, false)
}

pub(crate) fn io_read(st: &mut State) -> LResult<usize> {
    let u = std_file(st, &INPUT_KEY)?;
    read_formats(st, u, 1, false)
}

/// The iterator of `lines`: upvalues are the file, the close-at-end flag, the
/// number of formats and the formats.
pub(crate) fn lines_iter(st: &mut State) -> LResult<usize> {
    let Some(u) = st.native_upval(0).as_userdata() else {
        return Err(st.rt_error(crate::errmsg::FILE_CLOSED));
    };
    if file_of(u).is_none_or(|f| f.is_closed()) {
        return Err(st.rt_error(crate::errmsg::FILE_CLOSED));
    }
    let close_at_end = st.native_upval(1).as_bool() == Some(true);
    // Replace the arguments by the formats, so they read as arguments 1..n.
    let n = st.arg_count();
    st.pop(n);
    let nfmt = st.native_upval(2).as_number().unwrap_or(0.0) as usize;
    for j in 0..nfmt {
        let v = st.native_upval(3 + j);
        st.push(v)?;
    }
    let base = st.cur.top;
    let count = read_formats(st, u, 1, true)?;
    if close_at_end && st.cur.stack.get(base).is_some_and(|v| v.is_nil()) {
        if let Some(f) = file_of(u) {
            let _ = f.close();
        }
        return Ok(0);
    }
    Ok(count)
}

/// Push a `lines` iterator over `u` with the formats in arguments `first..`.
/// `nfmt` is counted by the caller before it pushes anything.
fn push_lines(st: &mut State, u: GcRef<GcUdata>, first: usize, nfmt: usize, close_at_end: bool) -> LResult<usize> {
    let it = super::new_func(st, super::FF_LINES_ITER, 3 + nfmt)?;
    let ups = it.native_upvals();
    ups[0] = Value::userdata(u);
    ups[1] = Value::boolean(close_at_end);
    ups[2] = Value::number(nfmt as f64);
    for j in 0..nfmt {
        ups[3 + j] = st.arg(first + j);
    }
    st.push(Value::function(it))?;
    Ok(1)
}

pub(crate) fn f_lines(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    let nfmt = st.arg_count().saturating_sub(1);
    push_lines(st, u, 2, nfmt, false)
}

pub(crate) fn io_lines(st: &mut State) -> LResult<usize> {
    let nfmt = st.arg_count().saturating_sub(1);
    if st.arg(1).is_nil() {
        let v = st.registry.get(key(&INPUT_KEY));
        let Some(u) = v.as_userdata() else {
            return Err(st.rt_error(crate::errmsg::STD_FILE_CLOSED));
        };
        return push_lines(st, u, 2, nfmt, false);
    }
    let name = st.check_string(1)?;
    match open_file(st, name.as_bytes(), b"r")? {
        Ok(u) => push_lines(st, u, 2, nfmt, true),
        Err(e) => {
            let (text, _) = os_error_text(&e);
            Err(st.arg_error_parts(1, &[name.as_bytes(), b": ", text.as_bytes()]))
        }
    }
}

// --- Writing ------------------------------------------------------------------------

fn write_args(st: &mut State, u: GcRef<GcUdata>, first: usize) -> LResult<usize> {
    if file_of(u).is_some_and(|f| matches!(f.stream, Stream::Stdout)) {
        return write_stdout_args(st, first);
    }
    let n = st.arg_count();
    let mut result = Ok(());
    for i in first..=n {
        let v = st.arg(i);
        let mut nbuf = [0u8; 64];
        let sref;
        let bytes: &[u8] = if let Some(s) = v.as_string() {
            sref = s;
            sref.as_bytes()
        } else if let Some(x) = v.as_number() {
            let len = crate::number::fmt_number(x, &mut nbuf);
            &nbuf[..len]
        } else {
            return Err(st.type_error(i, "string"));
        };
        if result.is_ok() {
            if let Some(f) = file_of(u) {
                result = f.write(bytes);
            }
        }
    }
    push_result(st, result)
}

/// [`write_args`] to standard output: the process's buffer is locked once for all
/// the arguments (no Lua code runs meanwhile). A failed write leaves the remaining
/// arguments unwritten, as `fwrite` failing does.
fn write_stdout_args(st: &mut State, first: usize) -> LResult<usize> {
    let n = st.arg_count();
    let mut result = Ok(());
    let mut out = super::iofile::stdout();
    for i in first..=n {
        let v = st.arg(i);
        let mut nbuf = [0u8; 64];
        let sref;
        let bytes: &[u8] = if let Some(s) = v.as_string() {
            sref = s;
            sref.as_bytes()
        } else if let Some(x) = v.as_number() {
            let len = crate::number::fmt_number(x, &mut nbuf);
            nbuf.get(..len).unwrap_or(&[])
        } else {
            drop(out);
            return Err(st.type_error(i, "string"));
        };
        if result.is_ok() {
            result = out.write(bytes);
        }
    }
    drop(out);
    push_result(st, result)
}

pub(crate) fn f_write(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    write_args(st, u, 2)
}

pub(crate) fn io_write(st: &mut State) -> LResult<usize> {
    let u = std_file(st, &OUTPUT_KEY)?;
    write_args(st, u, 1)
}

// --- Other methods ------------------------------------------------------------------

/// Close `u`: standard files refuse.
fn close_file(st: &mut State, u: GcRef<GcUdata>) -> LResult<usize> {
    let Some(f) = file_of(u) else { return Ok(0) };
    if f.is_std() {
        st.push(Value::NIL)?;
        st.push_str(crate::errmsg::CLOSE_STD_FILE.as_bytes())?;
        return Ok(2);
    }
    let r = f.close();
    push_result(st, r)
}

pub(crate) fn f_close(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    close_file(st, u)
}

pub(crate) fn io_close(st: &mut State) -> LResult<usize> {
    if st.arg(1).is_nil() {
        let u = std_file(st, &OUTPUT_KEY)?;
        return close_file(st, u);
    }
    f_close(st)
}

pub(crate) fn f_flush(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    let r = file_of(u).map_or(Ok(()), |f| f.flush());
    push_result(st, r)
}

pub(crate) fn io_flush(st: &mut State) -> LResult<usize> {
    let u = std_file(st, &OUTPUT_KEY)?;
    let r = file_of(u).map_or(Ok(()), |f| f.flush());
    push_result(st, r)
}

/// An option argument: index into `opts`, `default` if absent.
fn check_option(st: &mut State, i: usize, default: Option<usize>, opts: &[&str]) -> LResult<usize> {
    if let (Some(d), true) = (default, st.arg(i).is_nil()) {
        return Ok(d);
    }
    let s = st.check_string(i)?;
    match opts.iter().position(|o| o.as_bytes() == s.as_bytes()) {
        Some(p) => Ok(p),
        None => Err(st.arg_error_parts(
            i,
            &crate::errmsg::Parts::new(crate::errmsg::INVALID_OPTION_NAMED, &[s.as_bytes()]),
        )),
    }
}

pub(crate) fn f_seek(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    let whence = check_option(st, 2, Some(1), &["set", "cur", "end"])?;
    let off = st.opt_number(3, 0.0)?;
    let off = super::string::num_to_i64(off.trunc());
    let pos = match whence {
        0 => {
            if off < 0 {
                return push_error(st, &io::Error::from_raw_os_error(libc::EINVAL), None);
            }
            SeekFrom::Start(off as u64)
        }
        1 => SeekFrom::Current(off),
        _ => SeekFrom::End(off),
    };
    let r = match file_of(u) {
        Some(f) => f.seek(pos),
        None => Err(super::iofile::ebadf()),
    };
    match r {
        Ok(p) => {
            st.push(Value::number(p as f64))?;
            Ok(1)
        }
        Err(e) => push_error(st, &e, None),
    }
}

/// `setvbuf(mode[, size])`. Standard output's mode and size are the process's
/// ([`super::iofile::Stdout`], at most 64 KiB); another file buffers at most its
/// 4 KiB buffer. A size of 0 or none keeps the size in force.
pub(crate) fn f_setvbuf(st: &mut State) -> LResult<usize> {
    let u = check_open(st, 1)?;
    let mode = check_option(st, 2, None, &["no", "full", "line"])?;
    let size = st.opt_integer(3, 0)?;
    let size = usize::try_from(size).unwrap_or(0);
    let vbuf = [Vbuf::No, Vbuf::Full, Vbuf::Line][mode];
    let r = match file_of(u) {
        Some(f) if matches!(f.stream, Stream::Stdout) => super::iofile::stdout().set_mode(vbuf, size),
        Some(f) => {
            let r = f.flush();
            f.vbuf = vbuf;
            if size > 0 {
                f.bufsize = size.min(super::iofile::BUFSZ);
            }
            r
        }
        None => Ok(()),
    };
    push_result(st, r)
}

/// `__gc`: close the file unless it is a standard one (the payload's drop hook
/// would close it as well; closing here releases the handle one cycle earlier).
pub(crate) fn f_gc(st: &mut State) -> LResult<usize> {
    let u = check_file(st, 1)?;
    if let Some(f) = file_of(u) {
        if !f.is_std() {
            let _ = f.close();
        }
    }
    Ok(0)
}

pub(crate) fn f_tostring(st: &mut State) -> LResult<usize> {
    let u = check_file(st, 1)?;
    let text = match file_of(u) {
        Some(f) if !f.is_closed() => format!("file ({:p})", GcUdata::payload_ptr(u)),
        _ => "file (closed)".to_string(),
    };
    st.push_str(text.as_bytes())?;
    Ok(1)
}

// --- Library functions --------------------------------------------------------------

pub(crate) fn io_open(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let mode = if st.arg(2).is_nil() {
        None
    } else {
        Some(st.check_string(2)?)
    };
    let mode_bytes = mode.as_ref().map_or(&b"r"[..], |m| m.as_bytes());
    match open_file(st, name.as_bytes(), mode_bytes)? {
        Ok(_) => Ok(1),
        Err(e) => push_error(st, &e, Some(name.as_bytes())),
    }
}

pub(crate) fn io_type(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    let r: Option<&[u8]> = match v.as_userdata().and_then(file_of) {
        Some(f) if f.is_closed() => Some(b"closed file"),
        Some(_) => Some(b"file"),
        None => None,
    };
    match r {
        Some(s) => st.push_str(s)?,
        None => st.push(Value::NIL)?,
    }
    Ok(1)
}

/// `io.input` / `io.output`: set the default file from a name or a file; return it.
fn std_getset(st: &mut State, k: &'static u8, mode: &[u8]) -> LResult<usize> {
    let v = st.arg(1);
    if !v.is_nil() {
        let newf = if v.as_userdata().is_some_and(|u| file_of(u).is_some()) {
            check_open(st, 1)?
        } else {
            let name = st.check_string(1)?;
            match open_file(st, name.as_bytes(), mode)? {
                Ok(u) => u,
                Err(e) => {
                    let (text, _) = os_error_text(&e);
                    return Err(st.arg_error_parts(1, &[name.as_bytes(), b": ", text.as_bytes()]));
                }
            }
        };
        let reg = st.registry;
        st.table_set(reg, key(k), Value::userdata(newf))?;
    }
    let cur = st.registry.get(key(k));
    st.push(cur)?;
    Ok(1)
}

pub(crate) fn io_input(st: &mut State) -> LResult<usize> {
    std_getset(st, &INPUT_KEY, b"r")
}

pub(crate) fn io_output(st: &mut State) -> LResult<usize> {
    std_getset(st, &OUTPUT_KEY, b"w")
}

pub(crate) fn io_popen(st: &mut State) -> LResult<usize> {
    let cmd = st.check_string(1)?;
    let mode = if st.arg(2).is_nil() {
        None
    } else {
        Some(st.check_string(2)?)
    };
    let m = mode.as_ref().map_or(&b"r"[..], |m| m.as_bytes());
    let u = new_file(st)?;
    st.push(Value::userdata(u))?;
    let reading = match m {
        b"r" | b"re" => true,
        b"w" | b"we" => false,
        _ => return push_error(st, &io::Error::from_raw_os_error(libc::EINVAL), Some(cmd.as_bytes())),
    };
    // The child shares our standard output: what we printed must come first.
    let _ = super::iofile::flush_stdout();
    let mut c = std::process::Command::new("/bin/sh");
    c.arg("-c").arg(std::ffi::OsStr::from_bytes(cmd.as_bytes()));
    if reading {
        c.stdout(std::process::Stdio::piped());
    } else {
        c.stdin(std::process::Stdio::piped());
    }
    match c.spawn() {
        Ok(mut child) => {
            let stream = if reading {
                child.stdout.take().map(|p| Stream::PipeIn(child, p))
            } else {
                child.stdin.take().map(|p| Stream::PipeOut(child, p))
            };
            if let Some(s) = stream {
                install_stream(u, s, reading, !reading);
            }
            Ok(1)
        }
        Err(e) => push_error(st, &e, Some(cmd.as_bytes())),
    }
}

/// A fresh file in the temporary directory, created exclusively.
pub fn create_temp(prefix: &str) -> io::Result<(std::path::PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let mut last = io::Error::from_raw_os_error(libc::EEXIST);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut h = t ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut name = String::from(prefix);
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for _ in 0..6 {
            name.push(CHARS[(h % CHARS.len() as u64) as usize] as char);
            h = h.rotate_right(11).wrapping_mul(0x2545_f491_4f6c_dd1d);
        }
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

pub(crate) fn io_tmpfile(st: &mut State) -> LResult<usize> {
    let u = new_file(st)?;
    st.push(Value::userdata(u))?;
    match create_temp("perilune_") {
        Ok((path, f)) => {
            // Removed at once: the file lives until it is closed.
            let _ = std::fs::remove_file(&path);
            install_stream(u, Stream::File(f), true, true);
            Ok(1)
        }
        Err(e) => push_error(st, &e, None),
    }
}

/// Flush every open file of the state (for `os.exit`). Walks the collector's lists
/// of userdata without allocating.
pub fn flush_all(st: &mut State) {
    for list in [st.gc.udata, st.gc.tobefnz] {
        let mut cur = list;
        while let Some(o) = cur {
            cur = o.next;
            if let Some(f) = file_of(o.cast::<GcUdata>()) {
                let _ = f.flush();
            }
        }
    }
    let _ = super::iofile::flush_stdout();
    let _ = io::Write::flush(&mut io::stderr());
}

#[cfg(test)]
mod tests {
    use crate::vm::state::State;

    fn run(st: &mut State, src: &str) {
        assert!(st.load(src.as_bytes(), b"=test").is_ok(), "compiles");
        assert!(st.pcall(0, 0, false), "script failed");
    }

    fn temp_name(tag: &str) -> String {
        let (path, f) = super::create_temp(&format!("perilune_test_{tag}_")).expect("temp file");
        drop(f);
        path.to_string_lossy().into_owned()
    }

    /// A file that is never closed is flushed when the state closes (payload drop).
    #[test]
    fn unclosed_file_is_flushed_at_state_close() {
        let name = temp_name("close");
        let mut st = State::new().expect("state");
        st.open_libs().expect("libs");
        run(&mut st, &format!("F = io.open({name:?}, 'w') F:write('kept', 1)"));
        assert_eq!(std::fs::read(&name).expect("read"), b"");
        drop(st);
        assert_eq!(std::fs::read(&name).expect("read"), b"kept1");
        let _ = std::fs::remove_file(&name);
    }

    /// An unreachable file is closed (and flushed) by the collector.
    #[test]
    fn collected_file_is_flushed() {
        let name = temp_name("gc");
        let mut st = State::new().expect("state");
        st.open_libs().expect("libs");
        run(
            &mut st,
            &format!("do local f = io.open({name:?}, 'w') f:write('gone') end collectgarbage() collectgarbage()"),
        );
        assert_eq!(std::fs::read(&name).expect("read"), b"gone");
        drop(st);
        let _ = std::fs::remove_file(&name);
    }

    #[test]
    fn modes_follow_glibc() {
        for m in ["r", "w", "a", "r+", "rb", "w+b", "ab+", "rw", "rbb", "wx"] {
            assert!(super::parse_mode(m.as_bytes()).is_some(), "{m}");
        }
        for m in ["", "+", "x", "b", "R"] {
            assert!(super::parse_mode(m.as_bytes()).is_none(), "{m}");
        }
    }
}
