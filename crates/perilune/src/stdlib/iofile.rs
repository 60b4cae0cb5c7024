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
//! Standard output is not buffered here: writes go to Rust's `std::io::stdout()`,
//! the handle `print` uses, so `print` and `io.write` keep their order. Standard
//! error is written straight through; standard input is read through
//! `std::io::stdin()`.

use std::any::TypeId;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::process::{Child, ChildStdin, ChildStdout};

use crate::object::{GcRef, Userdata};
use crate::stdlib::string::Buf;
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

    /// Write bytes straight to the OS handle.
    fn raw_write(&mut self, b: &[u8]) -> io::Result<()> {
        match &mut self.stream {
            Stream::Stdout => std::io::stdout().write_all(b),
            Stream::Stderr => std::io::stderr().write_all(b),
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

    /// `flush`: pending writes, and the OS-level buffer of standard output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_wbuf()?;
        match &mut self.stream {
            Stream::Stdout => std::io::stdout().flush(),
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
            Stream::Stdout => {
                std::io::stdout().write_all(b)?;
                if self.vbuf == Vbuf::No {
                    std::io::stdout().flush()?;
                }
                return Ok(());
            }
            Stream::Stderr => return std::io::stderr().write_all(b),
            Stream::Closed => return Err(ebadf()),
            _ => {}
        }
        if self.vbuf == Vbuf::No || b.len() >= BUFSZ {
            self.flush_wbuf()?;
            return self.raw_write(b);
        }
        if self.wlen + b.len() > BUFSZ {
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
                std::io::stdout().flush()?;
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
            _ => Ok(()),
        };
        r.and(r2)
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
};

/// Payload bytes of a file userdata.
pub fn payload_len() -> usize {
    std::mem::size_of::<LFile>()
}

/// Store `f` in the fresh userdata `u` (created with [`payload_len`] bytes).
pub fn install(u: GcRef<Userdata>, f: LFile) {
    if u.len < payload_len() || u.host.is_some() {
        return;
    }
    // SAFETY: the payload is at least `size_of::<LFile>()` bytes, 16-aligned (enough
    // for `LFile`, see the assertion above), and holds no value yet.
    unsafe { Userdata::payload_ptr(u).cast::<LFile>().write(f) };
    u.get_mut().host = Some(&FILE_PAYLOAD);
}

/// The file in `u`, if `u` is a file object.
///
/// The reference must not be held across anything that can free `u` (a call back
/// into Lua, a collection step); natives use it within one operation on a rooted
/// argument or upvalue.
pub fn file_of<'a>(u: GcRef<Userdata>) -> Option<&'a mut LFile> {
    let host = u.host?;
    if (host.type_id)() != TypeId::of::<LFile>() || u.len < payload_len() {
        return None;
    }
    // SAFETY: `host` says the payload holds an initialised `LFile` (udata.rs
    // invariant); the VM is single-threaded and callers hold no other reference.
    Some(unsafe { &mut *Userdata::payload_ptr(u).cast::<LFile>() })
}
