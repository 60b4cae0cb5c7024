//! The stream behind an `io` file object: an OS handle with C-stdio-like buffering.
//!
//! A Lua file is a userdata whose payload holds an [`LFile`] (a Rust value dropped
//! through the `HostPayload` hook of `udata.rs`, so the OS handle is released exactly
//! once, when the collector frees the object or the state closes). Its read-ahead
//! and write buffers are fixed arrays inside the payload, so they are counted by the
//! state's allocator like any other object byte and opening a file allocates nothing
//! else.
//!
//! Buffering rules (what C stdio guarantees to a program that follows its rules,
//! done here automatically so that `r+` files can mix reads and writes freely):
//! - Before reading, pending writes are flushed.
//! - Before writing, read-ahead bytes not yet consumed are given back by seeking the
//!   OS handle back over them (on files; other streams cannot seek).
//! - `seek` flushes writes, accounts for the read-ahead and drops it.
//!
//! Standard output is one buffer for the whole process, like C's `stdout` ([`Stdout`]):
//! `print`, `io.write` and `io.stdout:write` of every state write into it, in order.
//! It is line-buffered when file descriptor 1 is a terminal and fully buffered
//! otherwise (glibc's rule), and it is flushed before standard input is read, before
//! standard error is written, before a child process starts (`io.popen`,
//! `os.execute`), by `os.exit`, when a state with the `io` library closes, and at
//! process exit. Its storage is a fixed 64 KiB array outside the heap (see
//! [`STDOUT_MAX`]). Standard error is unbuffered unless a script asks otherwise
//! with `setvbuf`; standard input is read through `std::io::stdin()`.

use std::any::TypeId;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use crate::buf::Buf;
use crate::object::{GcRef, GcUdata};
use crate::udata::HostPayload;
use crate::vm::error::Throw;

/// Size of each of a file's two buffers.
pub const BUFSZ: usize = 4096;

/// The OS side of a file object.
pub enum Stream {
    Closed,
    Stdin,
    Stdout,
    Stderr,
    File(File),
    /// `io.popen(cmd, "r")`: we read the child's standard output.
    PipeIn(Child, ChildStdout),
    /// `io.popen(cmd, "w")`: we write the child's standard input.
    PipeOut(Child, ChildStdin),
}

/// `setvbuf` modes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Vbuf {
    No,
    Full,
    Line,
}

/// A file object's payload.
pub struct LFile {
    pub stream: Stream,
    pub readable: bool,
    pub writable: bool,
    pub vbuf: Vbuf,
    /// The buffer size `setvbuf` asked for, at most [`BUFSZ`] (the size of `wbuf`).
    pub bufsize: usize,
    /// Read-ahead: `rbuf[rpos..rlen]` are read from the OS but not consumed.
    rbuf: [u8; BUFSZ],
    rpos: usize,
    rlen: usize,
    /// Pending writes: `wbuf[..wlen]`.
    wbuf: [u8; BUFSZ],
    wlen: usize,
}

// The payload of a userdata is 16-aligned.
const _: () = assert!(std::mem::align_of::<LFile>() <= 16);

/// Failure of a read: an I/O error (returned to Lua as `nil, msg, errno`) or a Lua
/// error (allocation failure of the result buffer).
pub enum RdErr {
    Io(io::Error),
    Lua(Throw),
}

impl From<io::Error> for RdErr {
    fn from(e: io::Error) -> Self {
        RdErr::Io(e)
    }
}
impl From<Throw> for RdErr {
    fn from(e: Throw) -> Self {
        RdErr::Lua(e)
    }
}
impl From<crate::alloc::OutOfMemory> for RdErr {
    fn from(_: crate::alloc::OutOfMemory) -> Self {
        RdErr::Lua(Throw::Oom)
    }
}

pub type RdResult<T> = Result<T, RdErr>;

/// `EBADF`: the error of reading a write-only stream or writing a read-only one.
pub fn ebadf() -> io::Error {
    io::Error::from_raw_os_error(libc::EBADF)
}

/// C's `isspace` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

impl LFile {
    pub fn new(stream: Stream, readable: bool, writable: bool) -> LFile {
        LFile {
            stream,
            readable,
            writable,
            vbuf: Vbuf::Full,
            bufsize: BUFSZ,
            rbuf: [0; BUFSZ],
            rpos: 0,
            rlen: 0,
            wbuf: [0; BUFSZ],
            wlen: 0,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.stream, Stream::Closed)
    }

    pub fn is_std(&self) -> bool {
        matches!(self.stream, Stream::Stdin | Stream::Stdout | Stream::Stderr)
    }

    /// Write bytes straight to the OS handle. Standard output's pending bytes go
    /// out before anything is written to standard error, so that the two streams
    /// interleave in program order when they go to the same place (C++ ties `cerr`
    /// to `cout` the same way).
    fn raw_write(&mut self, b: &[u8]) -> io::Result<()> {
        match &mut self.stream {
            Stream::Stdout => stdout().write(b),
            Stream::Stderr => {
                let _ = flush_stdout();
                std::io::stderr().write_all(b)
            }
            Stream::File(f) => f.write_all(b),
            Stream::PipeOut(_, p) => p.write_all(b),
            _ => Err(ebadf()),
        }
    }

    /// Push the write buffer to the OS handle. The buffer is emptied even on error
    /// (the data is lost, as with a failed `fflush`).
    fn flush_wbuf(&mut self) -> io::Result<()> {
        if self.wlen == 0 {
            return Ok(());
        }
        let n = self.wlen;
        self.wlen = 0;
        let buf = self.wbuf;
        self.raw_write(&buf[..n])
    }

    /// `flush`: pending writes (standard output's are in [`Stdout`]).
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_wbuf()?;
        match &mut self.stream {
            Stream::Stdout => flush_stdout(),
            Stream::Stderr => std::io::stderr().flush(),
            Stream::File(f) => f.flush(),
            Stream::PipeOut(_, p) => p.flush(),
            _ => Ok(()),
        }
    }

    /// Give unread read-ahead back to the OS handle before writing or seeking.
    fn drop_readahead(&mut self) -> io::Result<()> {
        let unread = self.rlen - self.rpos;
        self.rpos = 0;
        self.rlen = 0;
        if unread > 0 {
            if let Stream::File(f) = &mut self.stream {
                f.seek(SeekFrom::Current(-(unread as i64)))?;
            }
        }
        Ok(())
    }

    /// Write `b` with the file's buffering mode.
    pub fn write(&mut self, b: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(ebadf());
        }
        if self.rpos < self.rlen {
            self.drop_readahead()?;
        }
        match self.stream {
            Stream::Stdout => return stdout().write(b),
            Stream::Closed => return Err(ebadf()),
            _ => {}
        }
        let size = self.bufsize.clamp(1, BUFSZ);
        if self.vbuf == Vbuf::No || b.len() >= size {
            self.flush_wbuf()?;
            return self.raw_write(b);
        }
        if self.wlen + b.len() > size {
            self.flush_wbuf()?;
        }
        self.wbuf[self.wlen..self.wlen + b.len()].copy_from_slice(b);
        self.wlen += b.len();
        if self.vbuf == Vbuf::Line && b.contains(&b'\n') {
            self.flush_wbuf()?;
        }
        Ok(())
    }

    /// Make read-ahead available; false at end of file.
    fn fill(&mut self) -> io::Result<bool> {
        if self.rpos < self.rlen {
            return Ok(true);
        }
        if !self.readable {
            return Err(ebadf());
        }
        self.flush_wbuf()?;
        if matches!(self.stream, Stream::Stdin) {
            // A prompt written without a newline must show before the program waits
            // for its answer (glibc does this for a terminal; done here always).
            let _ = flush_stdout();
        }
        self.rpos = 0;
        self.rlen = 0;
        let n = loop {
            let r = match &mut self.stream {
                Stream::Stdin => std::io::stdin().read(&mut self.rbuf),
                Stream::File(f) => f.read(&mut self.rbuf),
                Stream::PipeIn(_, p) => p.read(&mut self.rbuf),
                _ => Err(ebadf()),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        self.rlen = n;
        Ok(n > 0)
    }

    /// The next byte without consuming it.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? { Some(self.rbuf[self.rpos]) } else { None })
    }

    /// `read(0)`: is there anything left?
    pub fn test_eof(&mut self) -> io::Result<bool> {
        self.fill()
    }

    /// A line into `out`, with its newline if `keep_nl`. False if nothing was read
    /// (end of file).
    pub fn read_line(&mut self, out: &mut Buf, keep_nl: bool) -> RdResult<bool> {
        let mut any = false;
        while self.fill()? {
            any = true;
            let avail = &self.rbuf[self.rpos..self.rlen];
            if let Some(i) = avail.iter().position(|&c| c == b'\n') {
                let take = if keep_nl { i + 1 } else { i };
                out.extend(&avail[..take])?;
                self.rpos += i + 1;
                return Ok(true);
            }
            out.extend(avail)?;
            self.rpos = self.rlen;
        }
        Ok(any)
    }

    /// Everything up to the end of the file.
    pub fn read_all(&mut self, out: &mut Buf) -> RdResult<()> {
        while self.fill()? {
            out.extend(&self.rbuf[self.rpos..self.rlen])?;
            self.rpos = self.rlen;
        }
        Ok(())
    }

    /// Up to `n` bytes; false if none could be read.
    pub fn read_count(&mut self, out: &mut Buf, n: usize) -> RdResult<bool> {
        let mut left = n;
        while left > 0 && self.fill()? {
            let take = left.min(self.rlen - self.rpos);
            out.extend(&self.rbuf[self.rpos..self.rpos + take])?;
            self.rpos += take;
            left -= take;
        }
        Ok(left < n)
    }

    /// Consume the next byte if `pred` accepts it; record it in `text`.
    fn accept(&mut self, text: &mut Buf, pred: impl Fn(u8) -> bool) -> RdResult<bool> {
        match self.peek()? {
            Some(c) if pred(c) => {
                self.rpos += 1;
                text.push(c)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Consume the bytes of `word` (case-insensitively) as long as they match;
    /// true if the whole word was read.
    fn accept_word(&mut self, text: &mut Buf, word: &[u8]) -> RdResult<bool> {
        for &w in word {
            if !self.accept(text, |c| c.eq_ignore_ascii_case(&w))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `*n`: a number as C's `scanf("%lf")` reads one: leading white space is
    /// skipped, then the longest prefix that can still start a number is consumed
    /// (with one byte of look-ahead), so a failed read may eat some bytes. Accepts
    /// decimal and hexadecimal floats, `inf`, `infinity` and `nan`. An exponent
    /// marker without digits ends the number before it (`1e+` reads 1).
    /// `text` is scratch space.
    pub fn read_number(&mut self, text: &mut Buf) -> RdResult<Option<f64>> {
        while let Some(c) = self.peek()? {
            if !is_space(c) {
                break;
            }
            self.rpos += 1;
        }
        let mut neg = false;
        if let Some(c @ (b'+' | b'-')) = self.peek()? {
            self.rpos += 1;
            neg = c == b'-';
        }
        let sign = |v: f64| if neg { -v } else { v };
        match self.peek()? {
            Some(b'i' | b'I') => {
                if !self.accept_word(text, b"inf")? {
                    return Ok(None);
                }
                if matches!(self.peek()?, Some(b'i' | b'I')) && !self.accept_word(text, b"inity")? {
                    return Ok(None);
                }
                return Ok(Some(sign(f64::INFINITY)));
            }
            Some(b'n' | b'N') => {
                if !self.accept_word(text, b"nan")? {
                    return Ok(None);
                }
                return Ok(Some(f64::NAN));
            }
            _ => {}
        }
        let mut hex = false;
        if self.accept(text, |c| c == b'0')? && self.accept(text, |c| c == b'x' || c == b'X')? {
            hex = true;
        }
        let digit = move |c: u8| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
        let mut ndigits = usize::from(!hex && !text.is_empty());
        while self.accept(text, digit)? {
            ndigits += 1;
        }
        if self.accept(text, |c| c == b'.')? {
            while self.accept(text, digit)? {
                ndigits += 1;
            }
        }
        if ndigits == 0 {
            return Ok(None);
        }
        let mantissa_len = text.len();
        let mut end = usize::MAX;
        let exp_mark = |c: u8| {
            if hex {
                c == b'p' || c == b'P'
            } else {
                c == b'e' || c == b'E'
            }
        };
        if self.accept(text, exp_mark)? {
            self.accept(text, |c| c == b'+' || c == b'-')?;
            let mut exp_digits = 0;
            while self.accept(text, |c| c.is_ascii_digit())? {
                exp_digits += 1;
            }
            if exp_digits == 0 {
                end = mantissa_len;
            }
        }
        let s = &text.as_slice()[..end.min(text.len())];
        let v = if hex {
            crate::number::str_to_number(s)
        } else {
            std::str::from_utf8(s).ok().and_then(|t| t.parse::<f64>().ok())
        };
        Ok(v.map(sign))
    }

    /// `seek`: the new position from the start of the file.
    pub fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.flush_wbuf()?;
        let unread = (self.rlen - self.rpos) as i64;
        self.rpos = 0;
        self.rlen = 0;
        let pos = match pos {
            SeekFrom::Current(off) => SeekFrom::Current(off - unread),
            p => p,
        };
        match &mut self.stream {
            Stream::File(f) => f.seek(pos),
            Stream::Stdin => seek_fd(0, pos),
            Stream::Stdout => {
                flush_stdout()?;
                seek_fd(1, pos)
            }
            Stream::Stderr => seek_fd(2, pos),
            _ => Err(io::Error::from_raw_os_error(libc::ESPIPE)),
        }
    }

    /// Close the OS handle. Pipes wait for the child process.
    pub fn close(&mut self) -> io::Result<()> {
        let r = self.flush_wbuf();
        self.rpos = 0;
        self.rlen = 0;
        let r2 = match std::mem::replace(&mut self.stream, Stream::Closed) {
            Stream::File(f) => {
                drop(f);
                Ok(())
            }
            Stream::PipeIn(mut c, p) => {
                drop(p);
                c.wait().map(|_| ())
            }
            Stream::PipeOut(mut c, p) => {
                drop(p);
                c.wait().map(|_| ())
            }
            // Only done when the state closes (standard files refuse `close`): the
            // process's standard output is flushed with it.
            Stream::Stdout => flush_stdout(),
            _ => Ok(()),
        };
        r.and(r2)
    }
}

// --- Standard output ------------------------------------------------------------------

/// The most bytes standard output buffers (and the size of its storage): the cap on
/// `io.stdout:setvbuf(mode, size)`.
///
/// The buffer is one static array for the whole process, outside every state's heap:
/// it is a fixed runtime structure like the interpreter's code, whose size no script
/// can change (a script only chooses how much of it is used, up to this cap), so
/// it is not counted against a state's memory limit (DESIGN.md invariant 1 is about
/// script-influenced amounts). 64 KiB: larger buffers gain nothing measurable (a
/// million short lines take 0.1 s either way) and C's default is 4 or 8 KiB.
pub const STDOUT_MAX: usize = 64 * 1024;

/// C's `BUFSIZ` in glibc: the default buffer size unless the file system suggests a
/// smaller block.
const STDOUT_DEFAULT: usize = 8192;

/// Standard output: the buffer shared by every state of the process, as C's
/// `stdout` is (so two states, or `print` and `io.write`, keep their order).
pub struct Stdout {
    buf: [u8; STDOUT_MAX],
    len: usize,
    /// Bytes buffered before a flush; 0 until first use (then chosen by [`Stdout::init`]).
    size: usize,
    mode: Vbuf,
}

static STDOUT: Mutex<Stdout> = Mutex::new(Stdout {
    buf: [0; STDOUT_MAX],
    len: 0,
    size: 0,
    mode: Vbuf::Full,
});

/// The process's standard output, locked. The lock is held only while bytes are
/// copied or written, never while Lua code runs, so it cannot deadlock a state
/// that prints from a `__tostring` metamethod.
pub fn stdout() -> MutexGuard<'static, Stdout> {
    let mut g = STDOUT.lock().unwrap_or_else(PoisonError::into_inner);
    g.init();
    g
}

/// Write the pending bytes of standard output (`fflush(stdout)`). A host that writes
/// to file descriptor 1 itself calls this first to keep the order of the output.
pub fn flush_stdout() -> io::Result<()> {
    stdout().flush()
}

/// `atexit` handler: what is still buffered goes out when the process exits, as C's
/// `exit` does for `stdout` (errors are ignored there too: `luajit -e 'print(1)' >
/// /dev/full` exits with status 0 and prints nothing).
extern "C" fn flush_at_exit() {
    let mut g = match STDOUT.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        // Another thread is writing: leave it alone rather than wait at exit.
        Err(TryLockError::WouldBlock) => return,
    };
    let _ = g.flush();
}

/// `write(2)` to file descriptor 1, all of `b`, retrying interrupted calls.
fn write_fd1(mut b: &[u8]) -> io::Result<()> {
    while !b.is_empty() {
        // SAFETY: `b` is a valid slice for `b.len()` bytes; write(2) only reads it.
        let n = unsafe { libc::write(1, b.as_ptr().cast(), b.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        b = b.get(n as usize..).unwrap_or(&[]);
    }
    Ok(())
}

impl Stdout {
    /// On first use: line-buffered on a terminal, fully buffered otherwise, with
    /// glibc's buffer size (`BUFSIZ`, or the file's block size when smaller), and
    /// the flush at exit registered.
    fn init(&mut self) {
        if self.size != 0 {
            return;
        }
        // SAFETY: isatty and fstat only read the descriptor table and fill `st`.
        let tty = unsafe { libc::isatty(1) } == 1;
        let mut size = STDOUT_DEFAULT;
        // SAFETY: `stat` is plain data, all-zero is valid; fstat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(1, &mut st) } == 0 && st.st_blksize > 0 && (st.st_blksize as usize) < size {
            size = st.st_blksize as usize;
        }
        self.size = size;
        self.mode = if tty { Vbuf::Line } else { Vbuf::Full };
        // SAFETY: registering a plain `extern "C" fn` that never unwinds.
        unsafe { libc::atexit(flush_at_exit) };
    }

    /// Write `b` with the buffering mode in force. An error is that of the
    /// `write(2)` it needed; bytes that could not be written are dropped, as a
    /// failed `fflush` drops them.
    pub fn write(&mut self, b: &[u8]) -> io::Result<()> {
        if self.mode == Vbuf::No || b.len() >= self.size {
            self.flush()?;
            return write_fd1(b);
        }
        if self.len + b.len() > self.size {
            self.flush()?;
        }
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        if self.mode == Vbuf::Line && b.contains(&b'\n') {
            self.flush()?;
        }
        Ok(())
    }

    /// Write out what is buffered. The buffer is empty afterwards, even on error.
    pub fn flush(&mut self) -> io::Result<()> {
        let n = std::mem::take(&mut self.len);
        match self.buf.get(..n) {
            Some(pending) if n > 0 => write_fd1(pending),
            _ => Ok(()),
        }
    }

    /// `setvbuf(mode, size)`: flush, then buffer up to `size` bytes (at most
    /// [`STDOUT_MAX`]; 0 keeps the size in force).
    pub fn set_mode(&mut self, mode: Vbuf, size: usize) -> io::Result<()> {
        let r = self.flush();
        self.mode = mode;
        if size > 0 {
            self.size = size.min(STDOUT_MAX);
        }
        r
    }
}

/// `lseek` on a standard descriptor (standard streams may be redirected files).
fn seek_fd(fd: i32, pos: SeekFrom) -> io::Result<u64> {
    let (off, whence) = match pos {
        SeekFrom::Start(o) => (o as i64, libc::SEEK_SET),
        SeekFrom::Current(o) => (o, libc::SEEK_CUR),
        SeekFrom::End(o) => (o, libc::SEEK_END),
    };
    // SAFETY: lseek has no memory effects; an invalid descriptor is an error return.
    let r = unsafe { libc::lseek(fd, off as libc::off_t, whence) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as u64)
    }
}

// --- The payload in a userdata ------------------------------------------------------

/// # Safety
/// `payload` holds an initialised `LFile` that is dropped only here (the
/// `HostPayload` contract of `udata.rs`).
unsafe fn drop_lfile(payload: *mut u8) {
    let p = payload.cast::<LFile>();
    // The collector must not unwind: a panic while flushing is swallowed.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: caller contract.
        let f = unsafe { &mut *p };
        let _ = f.close();
        // SAFETY: caller contract; the value is not used again.
        unsafe { std::ptr::drop_in_place(p) };
    }));
}

/// The drop hook of file payloads.
pub static FILE_PAYLOAD: HostPayload = HostPayload {
    drop: drop_lfile,
    type_id: TypeId::of::<LFile>,
    heap_bytes: None,
};

/// Payload bytes of a file userdata.
pub fn payload_len() -> usize {
    std::mem::size_of::<LFile>()
}

/// Store `f` in the fresh userdata `u` (created with [`payload_len`] bytes).
pub fn install(u: GcRef<GcUdata>, f: LFile) {
    if u.len < payload_len() || u.host.is_some() {
        return;
    }
    // SAFETY: the payload is at least `size_of::<LFile>()` bytes, 16-aligned (enough
    // for `LFile`, see the assertion above), and holds no value yet.
    unsafe { GcUdata::payload_ptr(u).cast::<LFile>().write(f) };
    u.get_mut().host = Some(&FILE_PAYLOAD);
}

/// The file in `u`, if `u` is a file object.
///
/// The reference must not be held across anything that can free `u` (a call back
/// into Lua, a collection step); natives use it within one operation on a rooted
/// argument or upvalue.
pub fn file_of<'a>(u: GcRef<GcUdata>) -> Option<&'a mut LFile> {
    let host = u.host?;
    if (host.type_id)() != TypeId::of::<LFile>() || u.len < payload_len() {
        return None;
    }
    // SAFETY: `host` says the payload holds an initialised `LFile` (udata.rs
    // invariant); the VM is single-threaded and callers hold no other reference.
    Some(unsafe { &mut *GcUdata::payload_ptr(u).cast::<LFile>() })
}
