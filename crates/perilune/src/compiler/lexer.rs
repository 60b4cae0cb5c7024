//! The lexer: turns Lua source bytes into tokens, the way LuaJIT 2.1 reads them.
//!
//! It owns the token rules (names, keywords, numbers including hex floats and `0x`
//! integers beyond 2^32, short strings with `\x`, `\z`, `\u{...}` and decimal escapes,
//! long brackets, comments), line counting (`\n`, `\r`, `\r\n`, `\n\r` each count as
//! one line) and the text of syntax error messages (`chunk:line: msg near 'tok'`).
//!
//! The source is a byte slice, or a `load` reader function called only when the next
//! byte is needed (see `Input`; the collector is locked meanwhile).
//!
//! Names and strings are interned as soon as they are read, so the parser deals in
//! `GcRef<GcStr>`s. The raw text of the current token (what an error message shows
//! after `near`) and the decoded string body live in accounted [`HVec`] buffers.

use crate::alloc::HVec;
use crate::object::{GcRef, GcStr};
use crate::value::Value;
use crate::vm::error::Throw;
use crate::vm::state::State;

/// A token kind. Single-character tokens are `Char(c)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tok {
    Eof,
    Name,
    Str,
    Num,
    And,
    Break,
    Do,
    Else,
    Elseif,
    End,
    False,
    For,
    Function,
    If,
    In,
    Local,
    Nil,
    Not,
    Or,
    Repeat,
    Return,
    Then,
    True,
    Until,
    While,
    /// `..`
    Concat,
    /// `...`
    Dots,
    /// `==`
    Eq,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `~=`
    Ne,
    /// `::`
    Label,
    Char(u8),
}

const KEYWORDS: &[(&[u8], Tok)] = &[
    (b"and", Tok::And),
    (b"break", Tok::Break),
    (b"do", Tok::Do),
    (b"else", Tok::Else),
    (b"elseif", Tok::Elseif),
    (b"end", Tok::End),
    (b"false", Tok::False),
    (b"for", Tok::For),
    (b"function", Tok::Function),
    (b"if", Tok::If),
    (b"in", Tok::In),
    (b"local", Tok::Local),
    (b"nil", Tok::Nil),
    (b"not", Tok::Not),
    (b"or", Tok::Or),
    (b"repeat", Tok::Repeat),
    (b"return", Tok::Return),
    (b"then", Tok::Then),
    (b"true", Tok::True),
    (b"until", Tok::Until),
    (b"while", Tok::While),
];

impl Tok {
    /// How the token is named in messages (`'end' expected`, `near '=='`).
    pub fn describe(self) -> String {
        match self {
            Tok::Eof => "<eof>".into(),
            Tok::Name => "<name>".into(),
            Tok::Str => "<string>".into(),
            Tok::Num => "<number>".into(),
            Tok::Concat => "..".into(),
            Tok::Dots => "...".into(),
            Tok::Eq => "==".into(),
            Tok::Ge => ">=".into(),
            Tok::Le => "<=".into(),
            Tok::Ne => "~=".into(),
            Tok::Label => "::".into(),
            Tok::Char(c) if c < 32 || c == 127 => format!("char({c})"),
            Tok::Char(c) => (c as char).to_string(),
            kw => KEYWORDS
                .iter()
                .find(|(_, t)| *t == kw)
                .map(|(s, _)| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default(),
        }
    }
}

/// The value carried by a name, string or number token.
#[derive(Clone, Copy, Debug)]
pub enum TokVal {
    None,
    Str(GcRef<GcStr>),
    Num(f64),
    /// A 64-bit integer or imaginary literal (`1LL`, `2ULL`, `3i`) in a state with
    /// the FFI: a new, unreferenced cdata (nothing collects during compilation).
    Cdata(GcRef<crate::cdata::GcCdata>),
}

/// What an error message shows after `near`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Near {
    /// Nothing: the message has no `near` part.
    Nothing,
    /// The current token.
    Token,
    /// The text gathered so far for the token being read (lexer errors).
    Partial,
    /// `<eof>` (a lexer error at the end of the input).
    Eof,
}

/// Where the source bytes come from.
enum Input<'a> {
    /// The whole chunk, borrowed (a string, a file read in full).
    Slice(&'a [u8]),
    /// A `load` reader function, called for more only when the lexer needs the next
    /// byte, as LuaJIT's lexer calls it. The bytes read so far stay in `buf`.
    Reader(ReaderInput),
}

struct ReaderInput {
    buf: HVec<u8>,
    reader: Value,
    /// The reader returned nil or "", failed, or gave a bad piece: call it no more.
    done: bool,
    /// Why the reader stopped, if it failed; the compilation ends with this error.
    error: Option<Throw>,
}

pub struct Lexer<'a> {
    pub st: &'a mut State,
    input: Input<'a>,
    pos: usize,
    /// Line the reader is on (used in error messages, as LuaJIT does).
    pub line: u32,
    /// Line of the last token consumed by `next` (used for line info).
    pub lastline: u32,
    pub tok: Tok,
    pub val: TokVal,
    /// Raw text of the current token (names, strings with quotes, numbers).
    text: HVec<u8>,
    ahead: Option<(Tok, TokVal)>,
    ahead_text: HVec<u8>,
    /// Decoded body of the string being read.
    sbuf: HVec<u8>,
    chunkname: &'a [u8],
    /// No token read yet (a first line starting with `#` is still to be skipped).
    first: bool,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl<'a> Lexer<'a> {
    pub fn new(st: &'a mut State, src: &'a [u8], chunkname: &'a [u8]) -> Lexer<'a> {
        Lexer::with_input(st, Input::Slice(src), chunkname)
    }

    /// A lexer that pulls its source from `reader`, a Lua function returning pieces
    /// (`load`), starting with `first`, the piece already read. The collector must be
    /// locked meanwhile: the reader runs Lua code while the compiler holds objects no
    /// root reaches.
    pub fn with_reader(
        st: &'a mut State,
        first: &[u8],
        reader: Value,
        chunkname: &'a [u8],
    ) -> Result<Lexer<'a>, Throw> {
        let mut buf = HVec::new(st.heap_ref());
        buf.extend_from_slice(first)?;
        let input = Input::Reader(ReaderInput {
            buf,
            reader,
            done: false,
            error: None,
        });
        Ok(Lexer::with_input(st, input, chunkname))
    }

    fn with_input(st: &'a mut State, input: Input<'a>, chunkname: &'a [u8]) -> Lexer<'a> {
        let h = st.heap_ref();
        // A UTF-8 byte order mark is skipped, as by luajit (a `#!` line in `scan`).
        let bytes = match &input {
            Input::Slice(s) => *s,
            Input::Reader(r) => r.buf.as_slice(),
        };
        let pos = if bytes.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 };
        Lexer {
            st,
            input,
            pos,
            first: true,
            line: 1,
            lastline: 1,
            tok: Tok::Eof,
            val: TokVal::None,
            text: HVec::new(h),
            ahead: None,
            ahead_text: HVec::new(h),
            sbuf: HVec::new(h),
            chunkname,
        }
    }

    // --- Errors ---------------------------------------------------------------------

    /// Build a syntax error `chunk:line: msg near 'x'` at the current line.
    pub fn error(&mut self, msg: &str, near: Near) -> Throw {
        self.error_at(msg, near, self.line)
    }

    pub fn error_at(&mut self, msg: &str, near: Near, line: u32) -> Throw {
        let head = format!("{}:{}: {}", super::chunk_id(self.chunkname), line, msg);
        // The token's text is the source's bytes (as big as the source, and not
        // necessarily UTF-8): it goes into the message as it is, joined on the heap.
        // As in LuaJIT, whose messages are C strings: the text stops at a NUL byte,
        // and a NUL character token (token number 0, "no token") shows no `near`.
        let described;
        let shown: Option<&[u8]> = match near {
            Near::Nothing => None,
            Near::Eof => Some(b"<eof>"),
            Near::Partial => Some(until_nul(self.text.as_slice())),
            Near::Token => match self.tok {
                Tok::Name | Tok::Str | Tok::Num => Some(until_nul(self.text.as_slice())),
                Tok::Char(0) => None,
                t => {
                    described = t.describe();
                    Some(described.as_bytes())
                }
            },
        };
        let joined = match shown {
            Some(s) => self.st.join_bytes(&[head.as_bytes(), b" near '", s, b"'"]),
            None => self.st.join_bytes(&[head.as_bytes()]),
        };
        match joined {
            Ok(s) => Throw::Error(Value::string(s)),
            Err(_) => Throw::Oom,
        }
    }

    // --- Reading ----------------------------------------------------------------------

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.peek_at(0)
    }
    #[inline]
    fn peek_at(&mut self, off: usize) -> Option<u8> {
        let i = self.pos + off;
        match &self.input {
            Input::Slice(s) => s.get(i).copied(),
            Input::Reader(r) => match r.buf.get(i) {
                Some(&b) => Some(b),
                None => self.read_more(i),
            },
        }
    }

    /// Call the reader until byte `i` exists or it stops. Its failure is kept for
    /// [`Lexer::reader_error`] and reads as the end of the input here.
    #[cold]
    fn read_more(&mut self, i: usize) -> Option<u8> {
        let Input::Reader(r) = &mut self.input else {
            return None;
        };
        while !r.done {
            match read_piece(self.st, r.reader) {
                Ok(Some(piece)) => {
                    if r.buf.extend_from_slice(piece.as_bytes()).is_err() {
                        r.error = Some(Throw::Oom);
                        r.done = true;
                    }
                }
                Ok(None) => r.done = true,
                Err(e) => {
                    r.error = Some(e);
                    r.done = true;
                }
            }
            if let Some(&b) = r.buf.get(i) {
                return Some(b);
            }
        }
        None
    }

    /// Why the reader stopped early, if it did: the compilation's real error.
    pub fn reader_error(&mut self) -> Option<Throw> {
        match &mut self.input {
            Input::Reader(r) => r.error.take(),
            Input::Slice(_) => None,
        }
    }

    /// The source bytes from `start` to `end` (a field borrow, so the state stays
    /// usable meanwhile).
    fn slice_of<'s>(input: &'s Input<'_>, start: usize, end: usize) -> &'s [u8] {
        let bytes = match input {
            Input::Slice(s) => s,
            Input::Reader(r) => r.buf.as_slice(),
        };
        bytes.get(start..end).unwrap_or(&[])
    }
    /// Save a byte of raw token text.
    fn save(&mut self, c: u8) -> Result<(), Throw> {
        self.text.push(c).map_err(Throw::from)
    }
    fn save_next(&mut self) -> Result<(), Throw> {
        if let Some(c) = self.peek() {
            self.save(c)?;
            self.pos += 1;
        }
        Ok(())
    }
    fn is_newline(c: Option<u8>) -> bool {
        matches!(c, Some(b'\n') | Some(b'\r'))
    }
    /// Consume one line break (`\n`, `\r`, `\r\n` or `\n\r`).
    fn newline(&mut self) {
        let first = self.peek();
        self.pos += 1;
        let second = self.peek();
        if Self::is_newline(second) && second != first {
            self.pos += 1;
        }
        self.line = self.line.saturating_add(1);
    }

    /// Advance to the next token.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<(), Throw> {
        self.lastline = self.line;
        if let Some((t, v)) = self.ahead.take() {
            std::mem::swap(&mut self.text, &mut self.ahead_text);
            self.tok = t;
            self.val = v;
            return Ok(());
        }
        let (t, v) = self.scan()?;
        self.tok = t;
        self.val = v;
        // Compiling pays into the instruction countdown: a unit per token and per 16
        // bytes of its text, so a budget or deadline stops a huge `loadstring`. The
        // check runs no collection (the compiler holds unrooted objects); a stop is
        // an ordinary error return.
        self.st
            .charge(1 + (self.text.len() / crate::vm::budget::BYTES_PER_UNIT) as u64)?;
        // Like LuaJIT's lexer, which always holds the character after the token:
        // a reader is called for it now, not when the parser asks for the next token.
        self.peek();
        Ok(())
    }

    /// The current token is the name `goto`. (LuaJIT reads `goto` as a name
    /// everywhere except at the start of a statement followed by another name.)
    pub fn is_goto_name(&self) -> bool {
        self.tok == Tok::Name && self.text.as_slice() == b"goto"
    }

    /// The token after the current one is a name other than `goto`; the lookahead
    /// token is read if it was not already.
    pub fn ahead_is_goto_target(&mut self) -> Result<bool, Throw> {
        Ok(self.lookahead()? == Tok::Name && self.ahead_text.as_slice() != b"goto")
    }

    /// Look at the token after the current one without consuming it.
    pub fn lookahead(&mut self) -> Result<Tok, Throw> {
        if let Some((t, _)) = self.ahead {
            return Ok(t);
        }
        std::mem::swap(&mut self.text, &mut self.ahead_text);
        let r = self.scan();
        std::mem::swap(&mut self.text, &mut self.ahead_text);
        let (t, v) = r?;
        self.ahead = Some((t, v));
        Ok(t)
    }

    fn scan(&mut self) -> Result<(Tok, TokVal), Throw> {
        self.text.clear();
        if self.first {
            self.first = false;
            // A first line starting with `#` (a `#!` line) is skipped, as by luajit.
            if self.peek() == Some(b'#') {
                while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                    self.pos += 1;
                }
            }
        }
        loop {
            let Some(c) = self.peek() else {
                return Ok((Tok::Eof, TokVal::None));
            };
            match c {
                b'\n' | b'\r' => self.newline(),
                b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                b'-' => {
                    if self.peek_at(1) != Some(b'-') {
                        self.pos += 1;
                        return Ok((Tok::Char(b'-'), TokVal::None));
                    }
                    self.pos += 2;
                    if self.peek() == Some(b'[') {
                        if let Some(level) = self.long_bracket_level()? {
                            self.long_string(level, false)?;
                            self.text.clear();
                            continue;
                        }
                        self.text.clear();
                    }
                    while let Some(c) = self.peek() {
                        if c == b'\n' || c == b'\r' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b'[' => {
                    return match self.long_bracket_level()? {
                        Some(level) => {
                            let s = self.long_string(level, true)?;
                            Ok((Tok::Str, TokVal::Str(s)))
                        }
                        None => {
                            self.text.clear();
                            Ok((Tok::Char(b'['), TokVal::None))
                        }
                    };
                }
                b'=' => return Ok(self.two(b'=', Tok::Eq, Tok::Char(b'='))),
                b'<' => return Ok(self.two(b'=', Tok::Le, Tok::Char(b'<'))),
                b'>' => return Ok(self.two(b'=', Tok::Ge, Tok::Char(b'>'))),
                b'~' => return Ok(self.two(b'=', Tok::Ne, Tok::Char(b'~'))),
                b':' => return Ok(self.two(b':', Tok::Label, Tok::Char(b':'))),
                b'"' | b'\'' => {
                    let s = self.short_string(c)?;
                    return Ok((Tok::Str, TokVal::Str(s)));
                }
                b'.' => {
                    if self.peek_at(1) == Some(b'.') {
                        if self.peek_at(2) == Some(b'.') {
                            self.pos += 3;
                            return Ok((Tok::Dots, TokVal::None));
                        }
                        self.pos += 2;
                        return Ok((Tok::Concat, TokVal::None));
                    }
                    if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                        return Ok((Tok::Num, self.number()?));
                    }
                    self.pos += 1;
                    return Ok((Tok::Char(b'.'), TokVal::None));
                }
                b'0'..=b'9' => {
                    return Ok((Tok::Num, self.number()?));
                }
                c if is_ident(c) => {
                    let start = self.pos;
                    while self.peek().is_some_and(is_ident) {
                        self.pos += 1;
                    }
                    let word = Self::slice_of(&self.input, start, self.pos);
                    if let Some((_, t)) = KEYWORDS.iter().find(|(k, _)| *k == word) {
                        return Ok((*t, TokVal::None));
                    }
                    self.text.extend_from_slice(word)?;
                    let s = self.st.intern(word)?;
                    return Ok((Tok::Name, TokVal::Str(s)));
                }
                c => {
                    self.pos += 1;
                    return Ok((Tok::Char(c), TokVal::None));
                }
            }
        }
    }

    fn two(&mut self, second: u8, both: Tok, single: Tok) -> (Tok, TokVal) {
        self.pos += 1;
        if self.peek() == Some(second) {
            self.pos += 1;
            (both, TokVal::None)
        } else {
            (single, TokVal::None)
        }
    }

    /// At a `[`: the level of a long bracket `[==[` (saving its text), or `None` for a
    /// plain `[`. `[=` without the second `[` is an error, as in LuaJIT.
    fn long_bracket_level(&mut self) -> Result<Option<usize>, Throw> {
        let mut n = 1;
        while self.peek_at(n) == Some(b'=') {
            n += 1;
        }
        if self.peek_at(n) == Some(b'[') {
            for _ in 0..=n {
                self.save_next()?;
            }
            return Ok(Some(n - 1));
        }
        if n > 1 {
            for _ in 0..n {
                self.save_next()?;
            }
            return Err(self.error(crate::errmsg::LEX_LONG_DELIMITER, Near::Partial));
        }
        self.pos += 1;
        Ok(None)
    }

    /// Read a long string or comment body after its opening bracket.
    fn long_string(&mut self, level: usize, is_string: bool) -> Result<GcRef<GcStr>, Throw> {
        // The body starts after the opening bracket; a first line break is dropped.
        if Self::is_newline(self.peek()) {
            self.newline();
        }
        let body_start = self.text.len();
        loop {
            match self.peek() {
                None => {
                    let msg = if is_string {
                        crate::errmsg::LEX_UNFINISHED_LONG_STRING
                    } else {
                        crate::errmsg::LEX_UNFINISHED_LONG_COMMENT
                    };
                    return Err(self.error(msg, Near::Eof));
                }
                Some(b']') => {
                    let mut n = 1;
                    while self.peek_at(n) == Some(b'=') {
                        n += 1;
                    }
                    if n - 1 == level && self.peek_at(n) == Some(b']') {
                        let body_end = self.text.len();
                        for _ in 0..=n {
                            self.save_next()?;
                        }
                        if !is_string {
                            return self.st.intern(b"").map_err(Throw::from);
                        }
                        let s = self.st.intern(&self.text[body_start..body_end])?;
                        return Ok(s);
                    }
                    self.save_next()?;
                }
                Some(b'\n') | Some(b'\r') => {
                    self.newline();
                    if is_string {
                        self.save(b'\n')?;
                    }
                }
                Some(c) => {
                    // Comment bodies need not be kept; long strings keep every byte.
                    if is_string {
                        self.save(c)?;
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// Read a quoted string. `text` gets the quote and the decoded bytes (that is what
    /// LuaJIT shows in `near '...'`), `sbuf` the decoded body.
    fn short_string(&mut self, quote: u8) -> Result<GcRef<GcStr>, Throw> {
        self.save_next()?;
        self.sbuf.clear();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(crate::errmsg::LEX_UNFINISHED_STRING, Near::Eof));
            };
            if c == quote {
                self.save_next()?;
                break;
            }
            match c {
                b'\n' | b'\r' => return Err(self.error(crate::errmsg::LEX_UNFINISHED_STRING, Near::Partial)),
                b'\\' => {
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.error(crate::errmsg::LEX_UNFINISHED_STRING, Near::Eof));
                    };
                    match e {
                        b'a' => self.put(7, 1)?,
                        b'b' => self.put(8, 1)?,
                        b'f' => self.put(12, 1)?,
                        b'n' => self.put(b'\n', 1)?,
                        b'r' => self.put(b'\r', 1)?,
                        b't' => self.put(b'\t', 1)?,
                        b'v' => self.put(11, 1)?,
                        b'\\' | b'"' | b'\'' => self.put(e, 1)?,
                        b'\n' | b'\r' => {
                            self.newline();
                            self.put(b'\n', 0)?;
                        }
                        b'x' => {
                            self.pos += 1;
                            let mut v = 0u32;
                            for _ in 0..2 {
                                match self.peek().and_then(|d| (d as char).to_digit(16)) {
                                    Some(d) => {
                                        v = v * 16 + d;
                                        self.pos += 1;
                                    }
                                    None => return Err(self.bad_escape()),
                                }
                            }
                            self.put(v as u8, 0)?;
                        }
                        b'z' => {
                            self.pos += 1;
                            while let Some(w) = self.peek() {
                                if w == b'\n' || w == b'\r' {
                                    self.newline();
                                } else if w.is_ascii_whitespace() || w == 0x0b {
                                    self.pos += 1;
                                } else {
                                    break;
                                }
                            }
                        }
                        b'u' => {
                            self.pos += 1;
                            if self.peek() != Some(b'{') {
                                return Err(self.bad_escape());
                            }
                            self.pos += 1;
                            let mut v: u32 = 0;
                            let mut digits = 0;
                            while let Some(d) = self.peek().and_then(|d| (d as char).to_digit(16)) {
                                v = v.saturating_mul(16).saturating_add(d);
                                digits += 1;
                                self.pos += 1;
                            }
                            if digits == 0 || self.peek() != Some(b'}') || v > 0x10ffff || (0xd800..0xe000).contains(&v)
                            {
                                return Err(self.bad_escape());
                            }
                            self.pos += 1;
                            let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            for &b in ch.encode_utf8(&mut buf).as_bytes() {
                                self.put(b, 0)?;
                            }
                        }
                        b'0'..=b'9' => {
                            let mut v = 0u32;
                            let mut n = 0;
                            while n < 3 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'9') => {
                                        v = v * 10 + (d - b'0') as u32;
                                        self.pos += 1;
                                        n += 1;
                                    }
                                    _ => break,
                                }
                            }
                            if v > 255 {
                                return Err(self.bad_escape());
                            }
                            self.put(v as u8, 0)?;
                        }
                        _ => return Err(self.bad_escape()),
                    }
                }
                _ => self.put(c, 1)?,
            }
        }
        let s = self.st.intern(&self.sbuf)?;
        Ok(s)
    }

    fn bad_escape(&mut self) -> Throw {
        self.error(crate::errmsg::LEX_ESCAPE, Near::Partial)
    }

    /// Append a decoded byte to the string and its shown text, consuming `skip` source
    /// bytes.
    fn put(&mut self, b: u8, skip: usize) -> Result<(), Throw> {
        self.pos += skip;
        self.sbuf.push(b)?;
        self.save(b)
    }

    /// Read a number token. Like LuaJIT, first take the longest run of identifier
    /// characters, dots and exponent signs, then convert it as a whole with the
    /// scanner `tonumber` uses. A sign belongs to the number only right after the
    /// exponent letter: `e`/`E`, or in a hex literal `p`/`P` (`0xe+9` is `0xe + 9`).
    fn number(&mut self) -> Result<TokVal, Throw> {
        let start = self.pos;
        let hex = self.peek() == Some(b'0') && matches!(self.peek_at(1), Some(b'x' | b'X'));
        let (e_lo, e_up) = if hex { (b'p', b'P') } else { (b'e', b'E') };
        let mut prev = 0u8;
        while let Some(c) = self.peek() {
            let exp_sign = (c == b'+' || c == b'-') && (prev == e_lo || prev == e_up);
            if is_ident(c) || c == b'.' || exp_sign {
                prev = c;
                self.pos += 1;
            } else {
                break;
            }
        }
        let raw = Self::slice_of(&self.input, start, self.pos);
        self.text.extend_from_slice(raw)?;
        if let Some(n) = crate::number::parse_numeral(raw) {
            return Ok(TokVal::Num(n));
        }
        // With the FFI, 64-bit integer and imaginary literals (FFI.md): without it
        // they stay malformed numbers.
        if let Some(ids) = self.st.ffi_literals {
            let raw = Self::slice_of(&self.input, start, self.pos);
            if let Some(lit) = cdata_literal(raw) {
                let (id, bytes): (u32, [u8; 16]) = match lit {
                    Literal::Int(v, unsigned) => {
                        let mut b = [0u8; 16];
                        b[..8].copy_from_slice(&v.to_ne_bytes());
                        (if unsigned { ids[1] } else { ids[0] }, b)
                    }
                    Literal::Imag(im) => {
                        let mut b = [0u8; 16];
                        b[8..].copy_from_slice(&im.to_ne_bytes());
                        (ids[2], b)
                    }
                };
                let len = if matches!(lit, Literal::Int(..)) { 8 } else { 16 };
                let c = crate::cdata::GcCdata::alloc(&self.st.heap, id, len, false)?;
                self.st.gc.adopt(c.header());
                crate::cdata::GcCdata::bytes(c).copy_from_slice(&bytes[..len]);
                return Ok(TokVal::Cdata(c));
            }
        }
        Err(self.error(crate::errmsg::LEX_NUMBER, Near::Partial))
    }
}

/// A literal of the FFI.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Literal {
    /// `1LL`, `0x10ULL`, `0b11LL`: the bits and whether it is unsigned.
    Int(u64, bool),
    /// `2i`, `1.5i`: the imaginary part.
    Imag(f64),
}

/// Read `raw` as an FFI literal: an integer (decimal, hex or binary, no fraction or
/// exponent) with an `LL` or `ULL` suffix (any case; `LLU` too), or any number
/// with an `i` suffix, as LuaJIT's scanner does. Decimal and hex integers wrap to 64
/// bits as in LuaJIT only within 64 bits: longer ones are malformed.
fn cdata_literal(raw: &[u8]) -> Option<Literal> {
    if let Some(body) = raw.strip_suffix(b"i").or_else(|| raw.strip_suffix(b"I")) {
        return crate::number::parse_numeral(body).map(Literal::Imag);
    }
    let lower: Vec<u8> = raw.iter().map(|c| c.to_ascii_lowercase()).collect();
    let (body_len, unsigned) = if lower.ends_with(b"ull") || lower.ends_with(b"llu") {
        (raw.len() - 3, true)
    } else if lower.ends_with(b"ll") {
        (raw.len() - 2, false)
    } else {
        return None;
    };
    let body = &raw[..body_len];
    let (digits, radix) = match body {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', b'b' | b'B', rest @ ..] => (rest, 2),
        _ => (body, 10),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix)? as u64;
        v = v.checked_mul(radix as u64)?.checked_add(d)?;
    }
    Some(Literal::Int(v, unsigned))
}

/// The bytes before the first NUL (all of them if there is none).
pub fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// The next piece from a `load` reader: `None` at the end (nil or an empty string).
/// The reader's own error, or a piece that is not a string, is the error (a
/// `Throw::Error`; a stop by the host passes as it is). The piece is not rooted: use
/// it before anything can collect.
pub fn read_piece(st: &mut State, reader: Value) -> Result<Option<GcRef<GcStr>>, Throw> {
    st.push(reader)?;
    if let Err(msg) = st.call_catching(0, 1)? {
        return Err(Throw::Error(msg));
    }
    let piece = st.peek(0);
    st.pop(1);
    if piece.is_nil() {
        return Ok(None);
    }
    match piece.as_string() {
        // Unrooted once popped, but the collector is locked while compiling.
        Some(s) => Ok((!s.is_empty()).then_some(s)),
        None => Err(st.rt_error(crate::errmsg::READER_NOT_STRING)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_strings() {
        let st = &mut *State::new().unwrap();
        let src = b"local x = \"a\\x41\\u{48}\\z  \n  b\\065\" -- c\n--[==[ long\n]==] [[\nraw]] ... .. :: ~= 0x10";
        let mut lx = Lexer::new(st, src, b"=t");
        let mut toks = Vec::new();
        loop {
            lx.next().unwrap();
            if lx.tok == Tok::Eof {
                break;
            }
            let v = match lx.val {
                TokVal::Str(s) => s.to_str_lossy().into_owned(),
                TokVal::Num(n) => n.to_string(),
                TokVal::Cdata(_) => "cdata".to_string(),
                TokVal::None => String::new(),
            };
            toks.push((lx.tok, v));
        }
        assert_eq!(toks[0].0, Tok::Local);
        assert_eq!(toks[3], (Tok::Str, "aAHbA".to_string()));
        assert_eq!(toks[4], (Tok::Str, "raw".to_string()));
        assert_eq!(toks[5].0, Tok::Dots);
        assert_eq!(toks[8].0, Tok::Ne);
        assert_eq!(toks[9], (Tok::Num, "16".to_string()));
        assert_eq!(lx.line, 5);
    }
}
