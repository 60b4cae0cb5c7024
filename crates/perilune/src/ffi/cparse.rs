//! The C declaration parser of the FFI: LuaJIT's C subset (docs/ffi.md, "Declarations")
//! parsed by hand into a [`CTypeTable`], with struct layout as x86-64 SysV C compilers
//! lay it out.
//!
//! Owns: the lexer (tokens borrow the source; `#` lines other than `#pragma pack` are
//! skipped, so `cc -E` output with line markers is accepted), declarations,
//! declarators, constant expressions and the layout of structs and unions.
//!
//! Invariants:
//! - No input panics: every recursion (declarators, parameter lists, struct bodies,
//!   constant expressions) counts its depth against [`MAX_DEPTH`], and arithmetic is
//!   wrapping or checked.
//! - [`cdef`] is transactional: on any error the table is rolled back to where it
//!   was, so no half-declared type stays.
//! - The parser allocates only through the table (the accounted heap); an error
//!   carries the offending token as a range of the source, not a copy.
use super::ctype::{flags, CKind, CType, CTypeId, CTypeTable, Namespace, MAX_SIZE, SIZE_UNKNOWN};
use crate::alloc::OutOfMemory;
use crate::errmsg;

/// Deepest nesting of declarators, parameter lists, struct bodies and expressions
/// ("chunk has too many syntax levels", as LuaJIT's bound of 20 or so).
pub const MAX_DEPTH: u32 = 32;
/// Deepest `#pragma pack(push)` stack.
const PACK_STACK: usize = 8;

/// Why a declaration failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CErrorKind {
    OutOfMemory,
    /// A message of `errmsg` (a template with one `%s` for `Expected`).
    Msg(&'static str),
    /// `'%s' expected`, with what was expected.
    Expected(&'static str),
    /// `attempt to redefine '%s'`: the name is the `near` range, shown in the
    /// message itself.
    Redefine,
}

/// A declaration error: what, the token it was found at (a range of the source, or
/// `<eof>`), and the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CError {
    pub kind: CErrorKind,
    pub near: Option<(usize, usize)>,
    pub at_eof: bool,
    pub line: u32,
}

impl CError {
    /// The message as LuaJIT words it: `msg near 'tok' at line N` (no line on line 1).
    pub fn message(&self, src: &[u8]) -> String {
        let mut m = match self.kind {
            CErrorKind::OutOfMemory => errmsg::NOMEM.to_string(),
            CErrorKind::Msg(s) => s.to_string(),
            CErrorKind::Expected(what) => errmsg::format(errmsg::PARSE_EXPECTED, &[&what]),
            CErrorKind::Redefine => {
                let (s, e) = self.near.unwrap_or((0, 0));
                let name = String::from_utf8_lossy(src.get(s..e).unwrap_or(&[]));
                errmsg::format(errmsg::FFI_REDEFINE, &[&name])
            }
        };
        if self.kind == CErrorKind::Redefine {
        } else if self.at_eof {
            m.push_str(" near '<eof>'");
        } else if let Some((s, e)) = self.near {
            let tok = src.get(s..e).unwrap_or(&[]);
            m.push_str(" near '");
            m.push_str(&String::from_utf8_lossy(tok));
            m.push('\'');
        }
        if self.line > 1 {
            m.push_str(&format!(" at line {}", self.line));
        }
        m
    }
}

impl From<OutOfMemory> for CError {
    fn from(_: OutOfMemory) -> CError {
        CError {
            kind: CErrorKind::OutOfMemory,
            near: None,
            at_eof: false,
            line: 0,
        }
    }
}

type R<T> = Result<T, CError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Eof,
    Ident,
    Int(u64),
    Str,
    /// `#pragma` (the lexer keeps only these `#` lines).
    Pragma,
    /// Punctuation, as one or two bytes (`b'<' as u16 | (b'<' as u16) << 8`).
    P(u16),
    /// A `$` standing for a type (`ffi.typeof("$ *", ct)`).
    Type(CTypeId),
}

/// What a `$` of the source stands for (`ffi.cdef`/`ffi.typeof` parameters; a string
/// parameter is spliced into the source by the caller, as an identifier).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// A type (a ctype or the type of a cdata).
    Type(CTypeId),
    /// A number (an array size, a constant).
    Int(u64),
}

const fn p2(a: u8, b: u8) -> u16 {
    a as u16 | (b as u16) << 8
}
const fn p1(a: u8) -> u16 {
    a as u16
}
const ELLIPSIS: u16 = p2(b'.', b'.');

struct Lexer<'s> {
    src: &'s [u8],
    pos: usize,
    line: u32,
    tok: Tok,
    start: usize,
    end: usize,
    tok_line: u32,
    at_line_start: bool,
    /// The `$` parameters, taken in order.
    params: &'s [Param],
    next_param: usize,
}

impl<'s> Lexer<'s> {
    fn err_here(&self, kind: CErrorKind) -> CError {
        CError {
            kind,
            near: Some((self.start, self.end)),
            at_eof: self.tok == Tok::Eof,
            line: self.tok_line,
        }
    }

    fn text(&self) -> &'s [u8] {
        &self.src[self.start..self.end]
    }

    fn peek(&self, k: usize) -> u8 {
        self.src.get(self.pos + k).copied().unwrap_or(0)
    }

    fn next(&mut self) -> R<()> {
        loop {
            let c = self.peek(0);
            if self.pos >= self.src.len() {
                self.tok = Tok::Eof;
                self.start = self.pos;
                self.end = self.pos;
                self.tok_line = self.line;
                return Ok(());
            }
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                    self.at_line_start = true;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < self.src.len() && self.peek(0) != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => {
                    self.pos += 2;
                    while self.pos < self.src.len() && !(self.peek(0) == b'*' && self.peek(1) == b'/') {
                        if self.peek(0) == b'\n' {
                            self.line += 1;
                        }
                        self.pos += 1;
                    }
                    self.pos = (self.pos + 2).min(self.src.len());
                }
                b'#' if self.at_line_start => {
                    // A preprocessor line: `#pragma` is a token, the rest (line
                    // markers of `cc -E`) is skipped.
                    let s = self.pos;
                    let mut e = s;
                    while e < self.src.len() && self.src[e] != b'\n' {
                        e += 1;
                    }
                    let line = &self.src[s + 1..e];
                    let trimmed = line
                        .iter()
                        .position(|c| !c.is_ascii_whitespace())
                        .map_or(&[][..], |i| &line[i..]);
                    if trimmed.starts_with(b"pragma") {
                        self.tok = Tok::Pragma;
                        self.start = s;
                        self.pos = s + 1;
                        self.end = self.pos;
                        self.tok_line = self.line;
                        self.at_line_start = false;
                        return Ok(());
                    }
                    self.pos = e;
                }
                _ => break,
            }
        }
        self.at_line_start = false;
        self.start = self.pos;
        self.tok_line = self.line;
        let c = self.peek(0);
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'_' {
                self.pos += 1;
            }
            self.tok = Tok::Ident;
        } else if c.is_ascii_digit() {
            while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'.' {
                self.pos += 1;
            }
            self.end = self.pos;
            self.tok =
                Tok::Int(parse_int(self.text()).ok_or_else(|| self.err_here(CErrorKind::Msg(errmsg::LEX_NUMBER)))?);
        } else if c == b'$' {
            self.pos += 1;
            self.end = self.pos;
            let Some(&p) = self.params.get(self.next_param) else {
                return Err(CError {
                    kind: CErrorKind::Msg(errmsg::FFI_BAD_PARAMS),
                    near: None,
                    at_eof: false,
                    line: 0,
                });
            };
            self.next_param += 1;
            self.tok = match p {
                Param::Type(id) => Tok::Type(id),
                Param::Int(n) => Tok::Int(n),
            };
        } else if c == b'"' || c == b'\'' {
            self.pos += 1;
            let mut value = 0u64;
            while self.pos < self.src.len() && self.peek(0) != c {
                if self.peek(0) == b'\n' {
                    break;
                }
                let mut ch = self.peek(0) as u64;
                if ch == b'\\' as u64 {
                    self.pos += 1;
                    ch = match self.peek(0) {
                        b'n' => 10,
                        b't' => 9,
                        b'r' => 13,
                        b'0' => 0,
                        b'a' => 7,
                        b'b' => 8,
                        b'f' => 12,
                        b'v' => 11,
                        o => o as u64,
                    };
                }
                value = value.wrapping_shl(8) | ch;
                self.pos += 1;
            }
            if self.peek(0) != c {
                self.end = self.pos;
                self.tok = Tok::Str;
                return Err(self.err_here(CErrorKind::Msg(errmsg::LEX_UNFINISHED_STRING)));
            }
            self.pos += 1;
            if c == b'\'' {
                // A character constant is an int: one (signed) char, or several
                // packed as the compiler packs them.
                let v = if value <= 0xff {
                    value as u8 as i8 as i32
                } else {
                    value as u32 as i32
                };
                self.tok = Tok::Int(v as i64 as u64);
            } else {
                self.tok = Tok::Str;
            }
        } else {
            let two = [b"<<", b">>", b"<=", b">=", b"==", b"!=", b"&&", b"||"];
            if c == b'.' && self.peek(1) == b'.' && self.peek(2) == b'.' {
                self.pos += 3;
                self.tok = Tok::P(ELLIPSIS);
            } else if two.iter().any(|t| t[0] == c && t[1] == self.peek(1)) {
                self.tok = Tok::P(p2(c, self.peek(1)));
                self.pos += 2;
            } else {
                self.tok = Tok::P(p1(c));
                self.pos += 1;
            }
        }
        self.end = self.pos;
        if self.tok == Tok::Str {
            // Messages show a string's body, as LuaJIT does.
            self.start += 1;
            self.end -= 1;
        }
        Ok(())
    }
}

/// A C integer literal with its suffixes; `None`: malformed.
fn parse_int(t: &[u8]) -> Option<u64> {
    let mut end = t.len();
    while end > 0 && matches!(t[end - 1], b'u' | b'U' | b'l' | b'L') {
        end -= 1;
    }
    let (digits, radix) = if t.len() > 2 && (t[..2] == *b"0x" || t[..2] == *b"0X") {
        (&t[2..end], 16)
    } else if end > 1 && t[0] == b'0' {
        (&t[1..end], 8)
    } else {
        (&t[..end], 10)
    };
    if digits.is_empty() && radix != 8 {
        return None;
    }
    let mut v = 0u64;
    for &d in digits {
        let x = (d as char).to_digit(radix)? as u64;
        v = v.wrapping_mul(radix as u64).wrapping_add(x);
    }
    Some(v)
}

/// Storage class and the other things a declaration's specifiers say.
#[derive(Clone, Copy, Default)]
struct Specs {
    typedef: bool,
    extern_: bool,
    static_: bool,
    ty: CTypeId,
    quals: u16,
    /// `__attribute__((aligned(n)))` on the declaration (log2; 0: none).
    align: u8,
    packed: bool,
}

/// One step of a declarator, applied from the base type outwards.
#[derive(Clone, Copy)]
enum Derive {
    /// A pointer (or, with [`REF_STEP`], a reference) with its qualifiers.
    Ptr(u16),
    Array(u64, bool),
    Func(CTypeId, bool),
}

/// Marks a [`Derive::Ptr`] step written `&`: a reference (not a qualifier bit).
const REF_STEP: u16 = 0x8000;

/// Most derivation steps one declarator has.
const MAX_DERIVE: usize = 64;

struct Declarator {
    name: Option<(usize, usize)>,
    steps: [Derive; MAX_DERIVE],
    n: usize,
    sym: Option<(usize, usize)>,
    align: u8,
    packed: bool,
    bits: Option<u64>,
}

impl Declarator {
    fn new() -> Declarator {
        Declarator {
            name: None,
            steps: [Derive::Ptr(0); MAX_DERIVE],
            n: 0,
            sym: None,
            align: 0,
            packed: false,
            bits: None,
        }
    }
}

/// A constant expression's value: 32 bits with a signedness, as LuaJIT computes.
#[derive(Clone, Copy)]
struct CVal {
    v: u32,
    unsigned: bool,
}

struct Parser<'s, 't> {
    lx: Lexer<'s>,
    tab: &'t mut CTypeTable,
    depth: u32,
    /// `#pragma pack(n)` in force: the largest member alignment (0: none).
    pack: u64,
    pack_stack: [u64; PACK_STACK],
    pack_n: usize,
}

/// Parse `src` as C declarations into `tab`; on error the table is as before.
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub fn cdef(tab: &mut CTypeTable, src: &[u8]) -> Result<(), CError> {
    cdef_with(tab, src, &[])
}

/// [`cdef`] with `$` parameters.
pub fn cdef_with(tab: &mut CTypeTable, src: &[u8], params: &[Param]) -> Result<(), CError> {
    let m = tab.mark();
    let r = {
        let mut p = Parser::new(tab, src);
        p.lx.params = params;
        p.decl_multi()
    };
    match r {
        Ok(()) => {
            tab.commit(m);
            Ok(())
        }
        Err(e) => {
            tab.rollback(m);
            Err(e)
        }
    }
}

/// Parse `src` as one abstract type (`ffi.typeof("int[3]")`) and return its id.
pub fn parse_type(tab: &mut CTypeTable, src: &[u8]) -> Result<CTypeId, CError> {
    parse_type_with(tab, src, &[])
}

/// [`parse_type`] with `$` parameters.
pub fn parse_type_with(tab: &mut CTypeTable, src: &[u8], params: &[Param]) -> Result<CTypeId, CError> {
    let m = tab.mark();
    let r = {
        let mut p = Parser::new(tab, src);
        p.lx.params = params;
        p.abstract_type().and_then(|id| {
            // The whole text is one type (LuaJIT: `'<eof>' expected near 'int'`).
            if p.lx.tok != Tok::Eof {
                return Err(p.expected("<eof>"));
            }
            Ok(id)
        })
    };
    match r {
        Ok(id) => {
            tab.commit(m);
            Ok(id)
        }
        Err(e) => {
            tab.rollback(m);
            Err(e)
        }
    }
}

/// A builtin type name, as the specifier keywords spell it.
const fn builtin(kind: CKind, size: u32, align: u8, fl: u16) -> CType {
    let mut t = CType::new(kind);
    t.size = size;
    t.align = align;
    t.flags = fl;
    t
}

/// Typedefs every state knows (LuaJIT's list), with their types.
const PREDEFINED: &[(&str, CKind, u32, u16)] = &[
    ("int8_t", CKind::Int, 1, 0),
    ("uint8_t", CKind::Int, 1, flags::UNSIGNED),
    ("int16_t", CKind::Int, 2, 0),
    ("uint16_t", CKind::Int, 2, flags::UNSIGNED),
    ("int32_t", CKind::Int, 4, 0),
    ("uint32_t", CKind::Int, 4, flags::UNSIGNED),
    ("int64_t", CKind::Int, 8, flags::LONG),
    ("uint64_t", CKind::Int, 8, flags::UNSIGNED | flags::LONG),
    ("intptr_t", CKind::Int, 8, flags::LONG),
    ("uintptr_t", CKind::Int, 8, flags::UNSIGNED | flags::LONG),
    ("ptrdiff_t", CKind::Int, 8, flags::LONG),
    ("size_t", CKind::Int, 8, flags::UNSIGNED | flags::LONG),
    ("ssize_t", CKind::Int, 8, flags::LONG),
    ("wchar_t", CKind::Int, 4, 0),
    ("va_list", CKind::Ptr, 8, 0),
    ("__builtin_va_list", CKind::Ptr, 8, 0),
    ("__gnuc_va_list", CKind::Ptr, 8, 0),
];

fn log2(n: u32) -> u8 {
    (31 - n.max(1).leading_zeros()) as u8
}

fn round_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a.max(1)) * a.max(1)
}

impl<'s, 't> Parser<'s, 't> {
    fn new(tab: &'t mut CTypeTable, src: &'s [u8]) -> Parser<'s, 't> {
        Parser {
            lx: Lexer {
                src,
                pos: 0,
                line: 1,
                tok: Tok::Eof,
                start: 0,
                end: 0,
                tok_line: 1,
                at_line_start: true,
                params: &[],
                next_param: 0,
            },
            tab,
            depth: 0,
            pack: 0,
            pack_stack: [0; PACK_STACK],
            pack_n: 0,
        }
    }

    fn err(&self, msg: &'static str) -> CError {
        self.lx.err_here(CErrorKind::Msg(msg))
    }
    /// An error with no token (LuaJIT's type errors): only the line.
    fn err_plain(&self, msg: &'static str) -> CError {
        CError {
            kind: CErrorKind::Msg(msg),
            near: None,
            at_eof: false,
            line: self.lx.tok_line,
        }
    }
    fn expected(&self, what: &'static str) -> CError {
        self.lx.err_here(CErrorKind::Expected(what))
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_plain(errmsg::PARSE_LEVELS));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn is_p(&self, c: u8) -> bool {
        self.lx.tok == Tok::P(p1(c))
    }
    fn opt_p(&mut self, c: u8) -> R<bool> {
        if self.is_p(c) {
            self.lx.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
    fn check_p(&mut self, c: u8, what: &'static str) -> R<()> {
        if !self.opt_p(c)? {
            return Err(self.expected(what));
        }
        Ok(())
    }
    fn is_kw(&self, kw: &str) -> bool {
        self.lx.tok == Tok::Ident && self.lx.text() == kw.as_bytes()
    }

    fn push(&mut self, t: CType) -> R<CTypeId> {
        self.tab.push(t)?.ok_or_else(|| self.err_plain(errmsg::TABLE_OVERFLOW))
    }
    fn intern(&mut self, t: CType) -> R<CTypeId> {
        self.tab
            .intern(t)?
            .ok_or_else(|| self.err_plain(errmsg::TABLE_OVERFLOW))
    }

    /// The table's entry for a builtin scalar.
    fn scalar(&mut self, kind: CKind, size: u32, fl: u16) -> R<CTypeId> {
        let align = if size == SIZE_UNKNOWN { 0 } else { log2(size) };
        self.intern(builtin(kind, size, align, fl))
    }

    /// `t` with qualifiers `q` added.
    fn qualify(&mut self, t: CTypeId, q: u16) -> R<CTypeId> {
        if q == 0 {
            return Ok(t);
        }
        let base = *self.tab.get(t);
        match base.kind {
            CKind::Struct | CKind::Union | CKind::Enum | CKind::Typedef | CKind::Func | CKind::Array => {
                let mut w = CType::new(CKind::Qual);
                w.child = t;
                w.flags = q;
                w.size = base.size;
                w.align = base.align;
                self.intern(w)
            }
            CKind::Qual => {
                let mut w = base;
                w.flags |= q;
                self.intern(w)
            }
            _ => {
                let mut w = base;
                w.flags |= q;
                self.intern(w)
            }
        }
    }

    /// Resolve typedefs and qualifier wrappers.
    fn resolve(&self, mut t: CTypeId) -> CType {
        for _ in 0..MAX_DEPTH * 4 {
            let c = *self.tab.get(t);
            match c.kind {
                CKind::Typedef | CKind::Qual => t = c.child,
                _ => return c,
            }
        }
        *self.tab.get(t)
    }

    // --- Declarations -------------------------------------------------------------

    fn decl_multi(&mut self) -> R<()> {
        self.lx.next()?;
        while self.lx.tok != Tok::Eof {
            if self.skip_empty()? {
                continue;
            }
            let specs = self.decl_spec(true)?;
            if self.opt_p(b';')? {
                continue;
            }
            loop {
                let d = self.declarator(false)?;
                self.declare(&specs, &d)?;
                if !self.opt_p(b',')? {
                    break;
                }
            }
            if self.is_p(b'{') {
                // A function definition (`static inline` in system headers): its
                // body is skipped, as LuaJIT does.
                self.skip_body()?;
                continue;
            }
            // The last declaration may end the text without its ';' (as in LuaJIT).
            if self.lx.tok != Tok::Eof && !self.opt_p(b';')? {
                return Err(self.expected(";"));
            }
        }
        Ok(())
    }

    /// Skip a balanced `{ ... }`.
    fn skip_body(&mut self) -> R<()> {
        let mut level = 0usize;
        loop {
            match self.lx.tok {
                Tok::Eof => return Err(self.expected("}")),
                Tok::P(x) if x == p1(b'{') => level += 1,
                Tok::P(x) if x == p1(b'}') => {
                    level -= 1;
                    if level == 0 {
                        return self.lx.next();
                    }
                }
                _ => {}
            }
            self.lx.next()?;
        }
    }

    /// `#pragma pack(...)`; other pragmas are skipped.
    fn pragma(&mut self) -> R<()> {
        let line = self.lx.line;
        self.lx.next()?;
        if self.is_kw("pragma") {
            self.lx.next()?;
        }
        if self.is_kw("pack") && self.lx.line == line {
            self.lx.next()?;
            self.check_p(b'(', "(")?;
            if self.lx.tok == Tok::Ident {
                let push = self.is_kw("push");
                let pop = self.is_kw("pop");
                self.lx.next()?;
                if push {
                    if self.pack_n >= PACK_STACK {
                        return Err(self.err_plain(errmsg::PARSE_LEVELS));
                    }
                    self.pack_stack[self.pack_n] = self.pack;
                    self.pack_n += 1;
                } else if pop && self.pack_n > 0 {
                    self.pack_n -= 1;
                    self.pack = self.pack_stack[self.pack_n];
                }
                self.opt_p(b',')?;
            }
            if let Tok::Int(n) = self.lx.tok {
                if n & n.wrapping_sub(1) != 0 || n > 16 {
                    return Err(self.err(errmsg::INVALID_VALUE));
                }
                self.pack = n;
                self.lx.next()?;
            } else if self.is_p(b')') && self.lx.src[self.lx.start - 1] == b'(' {
                self.pack = 0;
            }
            self.check_p(b')', ")")?;
        }
        // Skip the rest of the line.
        while self.lx.tok != Tok::Eof && self.lx.tok_line == line {
            self.lx.next()?;
        }
        Ok(())
    }

    /// `__attribute__((...))`, `__declspec(...)`, `__asm__("sym")` and the keywords
    /// that mean nothing for a declaration. Returns `true` if one was consumed.
    fn attributes(&mut self, align: &mut u8, packed: &mut bool, sym: &mut Option<(usize, usize)>) -> R<bool> {
        if self.is_kw("__attribute__") || self.is_kw("__attribute") || self.is_kw("__declspec") {
            self.lx.next()?;
            self.check_p(b'(', "(")?;
            let mut level = 1u32;
            while level > 0 {
                match self.lx.tok {
                    Tok::Eof => return Err(self.expected(")")),
                    Tok::P(x) if x == p1(b'(') => {
                        level += 1;
                        if level > MAX_DEPTH {
                            return Err(self.err_plain(errmsg::PARSE_LEVELS));
                        }
                        self.lx.next()?;
                    }
                    Tok::P(x) if x == p1(b')') => {
                        level -= 1;
                        self.lx.next()?;
                    }
                    Tok::Ident => {
                        let t = self.lx.text();
                        let name = t.strip_prefix(b"__").and_then(|t| t.strip_suffix(b"__")).unwrap_or(t);
                        if name == b"packed" {
                            *packed = true;
                            self.lx.next()?;
                        } else if name == b"aligned" {
                            self.lx.next()?;
                            if self.opt_p(b'(')? {
                                self.enter()?;
                                let v = self.expr()?;
                                self.leave();
                                self.check_p(b')', ")")?;
                                if v.v == 0 || v.v & (v.v - 1) != 0 {
                                    return Err(self.err(errmsg::INVALID_VALUE));
                                }
                                *align = (*align).max(log2(v.v.min(1 << 15)));
                            } else {
                                *align = (*align).max(4);
                            }
                        } else {
                            self.lx.next()?;
                        }
                    }
                    _ => self.lx.next()?,
                }
            }
            return Ok(true);
        }
        if self.is_kw("__asm__") || self.is_kw("__asm") || self.is_kw("asm") {
            self.lx.next()?;
            self.check_p(b'(', "(")?;
            let mut range: Option<(usize, usize)> = None;
            while self.lx.tok == Tok::Str {
                // Adjacent strings concatenate; only a single one is supported.
                range = Some(match range {
                    None => (self.lx.start, self.lx.end),
                    Some((s, _)) => (s, self.lx.end),
                });
                self.lx.next()?;
            }
            if range.is_none() {
                return Err(self.expected("<string>"));
            }
            *sym = range;
            self.check_p(b')', ")")?;
            return Ok(true);
        }
        const SKIP: &[&str] = &[
            "__extension__",
            "inline",
            "__inline",
            "__inline__",
            "__cdecl",
            "__stdcall",
            "__fastcall",
            "__thiscall",
            "__ptr32",
            "__ptr64",
            "auto",
            "register",
            "_Noreturn",
            "__restrict",
            "__restrict__",
            "restrict",
        ];
        if self.lx.tok == Tok::Ident && SKIP.iter().any(|k| self.lx.text() == k.as_bytes()) {
            self.lx.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Qualifier keyword: its flag, or 0.
    fn qual_kw(&self) -> u16 {
        if self.lx.tok != Tok::Ident {
            return 0;
        }
        match self.lx.text() {
            b"const" | b"__const" | b"__const__" => flags::CONST,
            b"volatile" | b"__volatile" | b"__volatile__" => flags::VOLATILE,
            _ => 0,
        }
    }

    /// Declaration specifiers: storage class, qualifiers, the base type.
    fn decl_spec(&mut self, storage: bool) -> R<Specs> {
        let mut s = Specs::default();
        let (mut signed, mut unsigned, mut short, mut longs, mut int, mut chr, mut cplx) =
            (false, false, false, 0u32, false, false, false);
        let mut base: Option<CTypeId> = None;
        let mut sym = None;
        let mut storage_seen = 0;
        loop {
            if self.attributes(&mut s.align, &mut s.packed, &mut sym)? {
                continue;
            }
            let q = self.qual_kw();
            if q != 0 {
                s.quals |= q;
                self.lx.next()?;
                continue;
            }
            if let Tok::Type(id) = self.lx.tok {
                if signed || unsigned || short || longs > 0 || int || chr || cplx || base.is_some() {
                    break;
                }
                base = Some(id);
                self.lx.next()?;
                continue;
            }
            if self.lx.tok != Tok::Ident {
                break;
            }
            let kw = self.lx.text();
            match kw {
                b"typedef" | b"extern" | b"static" if storage => {
                    storage_seen += 1;
                    if storage_seen > 1 {
                        return Err(self.err_plain(errmsg::FFI_INVALID_TYPE));
                    }
                    match kw {
                        b"typedef" => s.typedef = true,
                        b"extern" => s.extern_ = true,
                        _ => s.static_ = true,
                    }
                }
                b"signed" | b"__signed" | b"__signed__" => signed = true,
                b"unsigned" => unsigned = true,
                b"short" => short = true,
                b"long" => longs += 1,
                b"int" => int = true,
                b"char" => chr = true,
                // LuaJIT also knows `complex` alone (`double _Complex`).
                b"_Complex" | b"__complex" | b"__complex__" | b"complex" => cplx = true,
                b"void" if base.is_none() => base = Some(CTypeId::VOID),
                b"_Bool" | b"bool" if base.is_none() => {
                    base = Some(self.scalar(CKind::Int, 1, flags::BOOL | flags::UNSIGNED)?)
                }
                b"float" if base.is_none() => base = Some(self.scalar(CKind::Float, 4, 0)?),
                b"double" if base.is_none() => base = Some(self.scalar(CKind::Float, 8, 0)?),
                b"_Float128" | b"__float128" if base.is_none() => base = Some(self.scalar(CKind::Float, 16, 0)?),
                b"struct" | b"union" if base.is_none() => {
                    let union = kw == b"union";
                    self.lx.next()?;
                    base = Some(self.struct_decl(union)?);
                    continue;
                }
                b"enum" if base.is_none() => {
                    self.lx.next()?;
                    base = Some(self.enum_decl()?);
                    continue;
                }
                _ => {
                    let any = signed || unsigned || short || longs > 0 || int || chr || cplx || base.is_some();
                    if any {
                        break;
                    }
                    // A typedef name.
                    match self.tab.lookup(kw, Namespace::Ordinary) {
                        Some(id) if self.tab.get(id).kind == CKind::Typedef => base = Some(id),
                        _ => break,
                    }
                }
            }
            self.lx.next()?;
        }
        let ty = match base {
            Some(b) => {
                if cplx {
                    let t = self.resolve(b);
                    let size = if t.size == SIZE_UNKNOWN {
                        SIZE_UNKNOWN
                    } else {
                        t.size * 2
                    };
                    self.intern(builtin(CKind::Float, size, t.align, flags::COMPLEX))?
                } else if longs > 0 && self.tab.get(b).kind == CKind::Float && self.tab.get(b).size == 8 {
                    self.scalar(CKind::Float, 16, flags::LONG)?
                } else {
                    b
                }
            }
            None => {
                if !(signed || unsigned || short || longs > 0 || int || chr || cplx) {
                    return Err(self.err(errmsg::FFI_DECL_SPEC));
                }
                let fl = if unsigned { flags::UNSIGNED } else { 0 };
                if chr {
                    // Plain char is signed on x86-64.
                    self.scalar(CKind::Int, 1, fl)?
                } else if short {
                    self.scalar(CKind::Int, 2, fl)?
                } else if longs > 0 {
                    self.scalar(CKind::Int, 8, fl | flags::LONG)?
                } else if cplx {
                    self.intern(builtin(CKind::Float, 16, 3, flags::COMPLEX))?
                } else {
                    self.scalar(CKind::Int, 4, fl)?
                }
            }
        };
        s.ty = ty;
        Ok(s)
    }

    /// After `struct`/`union`: a tag, a body, or both.
    fn struct_decl(&mut self, union: bool) -> R<CTypeId> {
        let mut align = 0u8;
        let mut packed = false;
        let mut sym = None;
        while self.attributes(&mut align, &mut packed, &mut sym)? {}
        let kind = if union { CKind::Union } else { CKind::Struct };
        let mut id = None;
        let mut name_at = None;
        if self.lx.tok == Tok::Ident {
            name_at = Some((self.lx.start, self.lx.end));
            id = Some(self.tag(kind)?);
            self.lx.next()?;
        }
        if !self.is_p(b'{') {
            return match id {
                Some(i) => Ok(i),
                None => Err(self.expected("<identifier>")),
            };
        }
        let id = match id {
            Some(i) => {
                if self.tab.get(i).flags & flags::INCOMPLETE == 0 {
                    return Err(CError {
                        kind: CErrorKind::Redefine,
                        near: name_at,
                        at_eof: false,
                        line: self.lx.tok_line,
                    });
                }
                i
            }
            None => {
                let mut t = CType::new(kind);
                t.flags = flags::INCOMPLETE;
                self.push(t)?
            }
        };
        self.lx.next()?;
        self.enter()?;
        let first = self.struct_body()?;
        self.leave();
        while self.attributes(&mut align, &mut packed, &mut sym)? {}
        self.layout(id, first, union, align, packed)?;
        Ok(id)
    }

    /// The struct, union or enum named by the tag at the current token, declared
    /// (incomplete) if it is new.
    fn tag(&mut self, kind: CKind) -> R<CTypeId> {
        let name = self.lx.text();
        if let Some(found) = self.tab.lookup(name, Namespace::Tag) {
            if self.tab.get(found).kind == kind {
                return Ok(found);
            }
        }
        let mut t = CType::new(kind);
        t.flags = flags::INCOMPLETE;
        t.name = self.tab.intern_name(name)?;
        if kind == CKind::Enum {
            // Enums are ints even before their constants are known.
            t.size = 4;
            t.align = 2;
        }
        let id = self.push(t)?;
        self.tab.index_name(id)?;
        Ok(id)
    }

    /// Skip a `#pragma` line or an empty declaration; `true` if there was one.
    fn skip_empty(&mut self) -> R<bool> {
        if self.lx.tok == Tok::Pragma {
            self.pragma()?;
            return Ok(true);
        }
        self.opt_p(b';')
    }

    /// Members up to the closing brace; returns the first member's id.
    fn struct_body(&mut self) -> R<CTypeId> {
        let (mut first, mut last) = (CTypeId::VOID, CTypeId::VOID);
        while !self.opt_p(b'}')? {
            if self.skip_empty()? {
                continue;
            }
            let specs = self.decl_spec(false)?;
            if self.is_p(b';') {
                // An anonymous struct/union member is transparent.
                let t = *self.tab.get(specs.ty);
                if matches!(t.kind, CKind::Struct | CKind::Union) && t.name.len == 0 {
                    let mut f = CType::new(CKind::Field);
                    f.child = self.qualify(specs.ty, specs.quals)?;
                    let id = self.push(f)?;
                    self.link(&mut first, &mut last, id);
                }
                self.lx.next()?;
                continue;
            }
            loop {
                let d = self.declarator(true)?;
                let ty = self.apply(&specs, &d)?;
                let mut f = CType::new(if d.bits.is_some() {
                    CKind::BitField
                } else {
                    CKind::Field
                });
                f.child = ty;
                if let Some((s, e)) = d.name {
                    f.name = self.tab.intern_name(&self.lx.src[s..e])?;
                }
                f.align = d.align.max(specs.align);
                f.bits = d.bits.unwrap_or(0) as u8;
                f.flags = if d.packed || specs.packed { flags::PACKED } else { 0 };
                let id = self.push(f)?;
                self.link(&mut first, &mut last, id);
                if !self.opt_p(b',')? {
                    break;
                }
            }
            if !self.opt_p(b';')? {
                return Err(self.expected(";"));
            }
        }
        Ok(first)
    }

    fn link(&mut self, first: &mut CTypeId, last: &mut CTypeId, id: CTypeId) {
        if first.is_none() {
            *first = id;
        } else {
            self.tab.set_next(*last, id);
        }
        *last = id;
    }

    /// Lay a struct or union out (x86-64 SysV, as gcc does) and complete it.
    fn layout(&mut self, id: CTypeId, first: CTypeId, union: bool, attr_align: u8, packed: bool) -> R<()> {
        let mut bits: u64 = 0; // next free bit (struct) / largest member (union)
        let mut max_align: u64 = 1;
        let mut vla = false;
        let mut cur = first;
        let pack = self.pack;
        while !cur.is_none() {
            let f = *self.tab.get(cur);
            let t = self.resolve(f.child);
            if vla {
                // Only the last member may have a variable length.
                return Err(self.err_plain(errmsg::FFI_INVALID_SIZE));
            }
            let is_vla = t.kind == CKind::Array && t.flags & flags::VLA != 0;
            if (t.size == SIZE_UNKNOWN && !is_vla) || t.kind == CKind::Func || t.kind == CKind::Void {
                return Err(self.err_plain(errmsg::FFI_INVALID_SIZE));
            }
            let field_packed = packed || f.flags & flags::PACKED != 0;
            let natural = 1u64 << t.align;
            let mut a = if field_packed { 1 } else { natural };
            if f.align > 0 {
                a = a.max(1u64 << f.align);
            }
            if pack > 0 {
                a = a.min(pack);
            }
            let size = if is_vla { 0 } else { t.size as u64 };
            let offset_bits;
            if f.kind == CKind::BitField {
                let w = f.bits as u64;
                if t.kind != CKind::Int || w > size * 8 {
                    return Err(self.err_plain(errmsg::INVALID_VALUE));
                }
                let unit = natural * 8;
                if w == 0 {
                    if !union {
                        bits = round_up(bits, unit);
                    }
                    offset_bits = bits;
                } else {
                    let ab = a * 8;
                    if !union && !field_packed && pack == 0 && (bits % unit) + w > unit {
                        bits = round_up(bits, unit);
                    } else if !union && pack > 0 && !field_packed && (bits % unit) + w > unit {
                        bits = round_up(bits, ab);
                    }
                    offset_bits = if union { 0 } else { bits };
                    if !union {
                        bits += w;
                    } else {
                        bits = bits.max(round_up(w, 8));
                    }
                    max_align = max_align.max(a);
                }
            } else {
                if union {
                    offset_bits = 0;
                    bits = bits.max(size * 8);
                } else {
                    bits = round_up(bits, a * 8);
                    offset_bits = bits;
                    bits += size * 8;
                }
                max_align = max_align.max(a);
            }
            if bits / 8 > MAX_SIZE {
                return Err(self.err_plain(errmsg::FFI_INVALID_SIZE));
            }
            let value = if f.kind == CKind::BitField {
                offset_bits as i64
            } else {
                (offset_bits / 8) as i64
            };
            self.tab.update(cur, |m| m.value = value)?;
            vla = is_vla;
            cur = f.next;
        }
        if attr_align > 0 {
            max_align = max_align.max(1u64 << attr_align);
        }
        let size = round_up(bits.div_ceil(8), max_align);
        if size > MAX_SIZE {
            return Err(self.err_plain(errmsg::FFI_INVALID_SIZE));
        }
        let fl_vla = if vla { flags::VLA } else { 0 };
        self.tab.update(id, |t| {
            t.first = first;
            t.size = size as u32;
            t.align = log2(max_align as u32);
            t.flags = (t.flags & !flags::INCOMPLETE) | fl_vla;
        })?;
        Ok(())
    }

    /// After `enum`: a tag, a body, or both.
    fn enum_decl(&mut self) -> R<CTypeId> {
        let mut align = 0u8;
        let mut packed = false;
        let mut sym = None;
        while self.attributes(&mut align, &mut packed, &mut sym)? {}
        let mut id = None;
        if self.lx.tok == Tok::Ident {
            id = Some(self.tag(CKind::Enum)?);
            self.lx.next()?;
        }
        if !self.is_p(b'{') {
            return id.ok_or_else(|| self.expected("<identifier>"));
        }
        self.lx.next()?;
        let id = match id {
            Some(i) => i,
            None => {
                let mut t = CType::new(CKind::Enum);
                t.size = 4;
                t.align = 2;
                self.push(t)?
            }
        };
        let (mut first, mut last) = (CTypeId::VOID, CTypeId::VOID);
        let mut next = CVal { v: 0, unsigned: false };
        let mut any_negative = false;
        while !self.opt_p(b'}')? {
            if self.lx.tok != Tok::Ident {
                return Err(self.expected("<identifier>"));
            }
            let (s, e) = (self.lx.start, self.lx.end);
            self.lx.next()?;
            while self.attributes(&mut align, &mut packed, &mut sym)? {}
            if self.opt_p(b'=')? {
                next = self.const_expr()?;
            }
            any_negative |= !next.unsigned && (next.v as i32) < 0;
            let mut c = CType::new(CKind::Constant);
            c.name = self.tab.intern_name(&self.lx.src[s..e])?;
            c.child = id;
            c.value = if next.unsigned {
                next.v as i64
            } else {
                next.v as i32 as i64
            };
            let cid = self.push(c)?;
            self.tab.index_name(cid)?;
            self.link(&mut first, &mut last, cid);
            next.v = next.v.wrapping_add(1);
            if !self.opt_p(b',')? {
                self.check_p(b'}', "}")?;
                break;
            }
        }
        let base = self.scalar(CKind::Int, 4, if any_negative { 0 } else { flags::UNSIGNED })?;
        self.tab.update(id, |t| {
            t.first = first;
            t.child = base;
            t.flags &= !flags::INCOMPLETE;
        })?;
        Ok(id)
    }

    /// A declarator (its name may be missing), its trailing attributes, and a
    /// bitfield width when it declares a `member`.
    fn declarator(&mut self, member: bool) -> R<Declarator> {
        let mut d = Declarator::new();
        self.declarator_into(&mut d)?;
        loop {
            let (mut a, mut p, mut s) = (d.align, d.packed, d.sym);
            if !self.attributes(&mut a, &mut p, &mut s)? {
                break;
            }
            d.align = a;
            d.packed = p;
            d.sym = s;
        }
        if member && self.opt_p(b':')? {
            let v = self.const_expr()?;
            if v.v > 64 {
                return Err(self.err(errmsg::INVALID_VALUE));
            }
            d.bits = Some(v.v as u64);
            while self.attributes(&mut d.align, &mut d.packed, &mut d.sym)? {}
        }
        Ok(d)
    }

    fn add_step(&mut self, d: &mut Declarator, s: Derive) -> R<()> {
        if d.n >= MAX_DERIVE {
            return Err(self.err_plain(errmsg::PARSE_LEVELS));
        }
        d.steps[d.n] = s;
        d.n += 1;
        Ok(())
    }

    /// The recursive part: pointers, then a name or a parenthesised declarator,
    /// then array and function suffixes. Steps are recorded from the base type
    /// outwards: pointers first, then the suffixes right to left, then the inner
    /// declarator's.
    fn declarator_into(&mut self, d: &mut Declarator) -> R<()> {
        self.enter()?;
        let mut ptrs = [0u16; MAX_DERIVE];
        let mut np = 0;
        loop {
            let (mut a, mut p, mut s) = (d.align, d.packed, d.sym);
            if self.attributes(&mut a, &mut p, &mut s)? {
                d.align = a;
                d.packed = p;
                continue;
            }
            let is_ref = self.is_p(b'&');
            if self.opt_p(b'*')? || self.opt_p(b'&')? {
                if np >= MAX_DERIVE {
                    return Err(self.err_plain(errmsg::PARSE_LEVELS));
                }
                ptrs[np] = if is_ref { REF_STEP } else { 0 };
                np += 1;
                continue;
            }
            let q = self.qual_kw();
            if q != 0 && np > 0 {
                ptrs[np - 1] |= q;
                self.lx.next()?;
                continue;
            }
            if q != 0 {
                self.lx.next()?;
                continue;
            }
            break;
        }
        for &q in &ptrs[..np] {
            self.add_step(d, Derive::Ptr(q))?;
        }
        // Inner declarator: `(` not followed by a parameter list.
        let mut inner: Option<Declarator> = None;
        if self.is_p(b'(') && self.paren_is_declarator() {
            self.lx.next()?;
            let mut sub = Declarator::new();
            self.declarator_into(&mut sub)?;
            self.check_p(b')', ")")?;
            d.name = sub.name;
            inner = Some(sub);
        } else if self.lx.tok == Tok::Ident
            && !self.is_kw("__attribute__")
            && !self.is_kw("__asm__")
            && !self.is_kw("__asm")
        {
            d.name = Some((self.lx.start, self.lx.end));
            self.lx.next()?;
        }
        // Suffixes, collected then applied right to left.
        let mut suffix = [Derive::Ptr(0); MAX_DERIVE];
        let mut ns = 0;
        loop {
            let s = if self.opt_p(b'[')? {
                let s = if self.opt_p(b'?')? {
                    Derive::Array(0, true)
                } else if self.is_p(b']') {
                    Derive::Array(0, false)
                } else {
                    let v = self.const_expr()?;
                    let n = if v.unsigned {
                        v.v as u64
                    } else {
                        (v.v as i32) as i64 as u64
                    };
                    Derive::Array(n, false)
                };
                self.check_p(b']', "]")?;
                s
            } else if self.opt_p(b'(')? {
                let (params, vararg) = self.params()?;
                Derive::Func(params, vararg)
            } else {
                break;
            };
            if ns >= MAX_DERIVE {
                return Err(self.err_plain(errmsg::PARSE_LEVELS));
            }
            suffix[ns] = s;
            ns += 1;
        }
        for i in (0..ns).rev() {
            self.add_step(d, suffix[i])?;
        }
        if let Some(sub) = inner {
            for i in 0..sub.n {
                self.add_step(d, sub.steps[i])?;
            }
            d.align = d.align.max(sub.align);
            d.packed |= sub.packed;
            if sub.sym.is_some() {
                d.sym = sub.sym;
            }
        }
        self.leave();
        Ok(())
    }

    /// At `(`: does a declarator follow (`(*f)`, `(name)`), not a parameter list?
    fn paren_is_declarator(&self) -> bool {
        let mut i = self.lx.pos;
        let s = self.lx.src;
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        match s.get(i) {
            Some(b'*') | Some(b'&') | Some(b'(') | Some(b'^') => true,
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let st = i;
                while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                    i += 1;
                }
                let w = &s[st..i];
                if w.starts_with(b"__attribute") || w == b"__cdecl" || w == b"__stdcall" {
                    return true;
                }
                // A type word starts a parameter list.
                !(is_type_keyword(w)
                    || self
                        .tab
                        .lookup(w, Namespace::Ordinary)
                        .is_some_and(|id| self.tab.get(id).kind == CKind::Typedef))
            }
            _ => false,
        }
    }

    /// A parameter list after `(`; returns the first `Param` and whether `...` ends it.
    fn params(&mut self) -> R<(CTypeId, bool)> {
        self.enter()?;
        let (mut first, mut last) = (CTypeId::VOID, CTypeId::VOID);
        let mut vararg = false;
        if !self.is_p(b')') {
            loop {
                if self.lx.tok == Tok::P(ELLIPSIS) {
                    self.lx.next()?;
                    vararg = true;
                    break;
                }
                let specs = self.decl_spec(false)?;
                let d = self.declarator(false)?;
                let ty = self.apply(&specs, &d)?;
                let t = self.resolve(ty);
                if t.kind == CKind::Void && d.n == 0 {
                    // `(void)`
                    break;
                }
                // Arrays and functions as parameters are pointers.
                let ty = match t.kind {
                    CKind::Array => {
                        let mut p = builtin(CKind::Ptr, 8, 3, 0);
                        p.child = t.child;
                        self.intern(p)?
                    }
                    CKind::Func => {
                        let mut p = builtin(CKind::Ptr, 8, 3, 0);
                        p.child = ty;
                        self.intern(p)?
                    }
                    _ => ty,
                };
                let mut p = CType::new(CKind::Param);
                p.child = ty;
                if let Some((s, e)) = d.name {
                    p.name = self.tab.intern_name(&self.lx.src[s..e])?;
                }
                let id = self.push(p)?;
                self.link(&mut first, &mut last, id);
                if !self.opt_p(b',')? {
                    break;
                }
            }
        }
        self.check_p(b')', ")")?;
        self.leave();
        Ok((first, vararg))
    }

    /// The type a declarator makes of the specifiers' base type.
    fn apply(&mut self, specs: &Specs, d: &Declarator) -> R<CTypeId> {
        let mut ty = self.qualify(specs.ty, specs.quals)?;
        for i in 0..d.n {
            ty = match d.steps[i] {
                Derive::Ptr(q) => {
                    let kind = if q & REF_STEP != 0 { CKind::Ref } else { CKind::Ptr };
                    let mut p = builtin(kind, 8, 3, q & !REF_STEP);
                    p.child = ty;
                    self.intern(p)?
                }
                Derive::Array(n, vla) => {
                    let e = self.resolve(ty);
                    if e.size == SIZE_UNKNOWN || e.kind == CKind::Func || e.flags & flags::VLA != 0 {
                        return Err(self.err_plain(errmsg::FFI_INVALID_SIZE));
                    }
                    let size = if vla {
                        SIZE_UNKNOWN
                    } else {
                        match (e.size as u64).checked_mul(n) {
                            Some(s) if s <= MAX_SIZE => s as u32,
                            _ => return Err(self.err_plain(errmsg::FFI_INVALID_SIZE)),
                        }
                    };
                    let mut a = builtin(CKind::Array, size, e.align, if vla { flags::VLA } else { 0 });
                    a.child = ty;
                    a.value = n as i64;
                    self.intern(a)?
                }
                Derive::Func(params, vararg) => {
                    let mut f = builtin(CKind::Func, SIZE_UNKNOWN, 0, if vararg { flags::VARARG } else { 0 });
                    f.child = ty;
                    f.first = params;
                    self.push(f)?
                }
            };
        }
        Ok(ty)
    }

    /// Declare one declarator of a top-level declaration.
    fn declare(&mut self, specs: &Specs, d: &Declarator) -> R<()> {
        let ty = self.apply(specs, d)?;
        let Some((s, e)) = d.name else {
            return Err(self.expected("<identifier>"));
        };
        let name = &self.lx.src[s..e];
        if specs.static_ && self.opt_p(b'=')? {
            // `static const int K = 5;`
            let v = self.const_expr()?;
            if self.tab.lookup(name, Namespace::Ordinary).is_some() {
                return Ok(());
            }
            let mut c = CType::new(CKind::Constant);
            c.name = self.tab.intern_name(name)?;
            c.child = ty;
            c.value = if v.unsigned { v.v as i64 } else { v.v as i32 as i64 };
            let id = self.push(c)?;
            return Ok(self.tab.index_name(id)?);
        }
        if self.tab.lookup(name, Namespace::Ordinary).is_some() {
            // Redeclarations are ignored, as in LuaJIT.
            return Ok(());
        }
        let mut rec = CType::new(if specs.typedef { CKind::Typedef } else { CKind::Extern });
        rec.child = ty;
        rec.name = self.tab.intern_name(name)?;
        let t = self.resolve(ty);
        if specs.typedef {
            rec.size = t.size;
            rec.align = t.align;
        }
        if let Some((s, e)) = d.sym {
            rec.sym = self.tab.intern_name(&self.lx.src[s..e])?;
        }
        let id = self.push(rec)?;
        Ok(self.tab.index_name(id)?)
    }

    /// A type name alone (`ffi.typeof`, `sizeof(type)`).
    fn abstract_type(&mut self) -> R<CTypeId> {
        if self.lx.tok == Tok::Eof && self.lx.pos == 0 {
            self.lx.next()?;
        }
        let specs = self.decl_spec(false)?;
        let d = self.declarator(false)?;
        if d.name.is_some() {
            return Err(self.err(errmsg::PARSE_UNEXPECTED));
        }
        self.apply(&specs, &d)
    }

    // --- Constant expressions -----------------------------------------------------

    fn const_expr(&mut self) -> R<CVal> {
        self.enter()?;
        let v = self.expr_cond()?;
        self.leave();
        Ok(v)
    }

    fn expr(&mut self) -> R<CVal> {
        let mut v = self.const_expr()?;
        while self.opt_p(b',')? {
            v = self.const_expr()?;
        }
        Ok(v)
    }

    fn expr_cond(&mut self) -> R<CVal> {
        let c = self.expr_bin(0)?;
        if self.opt_p(b'?')? {
            let a = self.expr()?;
            self.check_p(b':', ":")?;
            let b = self.const_expr()?;
            return Ok(if c.v != 0 { a } else { b });
        }
        Ok(c)
    }

    /// The binary operator at the current token and its precedence (higher binds
    /// tighter).
    fn binop(&self) -> Option<(u16, u8)> {
        let Tok::P(op) = self.lx.tok else { return None };
        let prec = match op {
            x if x == p2(b'|', b'|') => 1,
            x if x == p2(b'&', b'&') => 2,
            x if x == p1(b'|') => 3,
            x if x == p1(b'^') => 4,
            x if x == p1(b'&') => 5,
            x if x == p2(b'=', b'=') || x == p2(b'!', b'=') => 6,
            x if x == p1(b'<') || x == p1(b'>') || x == p2(b'<', b'=') || x == p2(b'>', b'=') => 7,
            x if x == p2(b'<', b'<') || x == p2(b'>', b'>') => 8,
            x if x == p1(b'+') || x == p1(b'-') => 9,
            x if x == p1(b'*') || x == p1(b'/') || x == p1(b'%') => 10,
            _ => return None,
        };
        Some((op, prec))
    }

    fn expr_bin(&mut self, min: u8) -> R<CVal> {
        let mut a = self.expr_unary()?;
        while let Some((op, prec)) = self.binop() {
            if prec <= min {
                break;
            }
            self.lx.next()?;
            self.enter()?;
            let b = self.expr_bin(prec)?;
            self.leave();
            a = self.arith(op, a, b)?;
        }
        Ok(a)
    }

    fn arith(&self, op: u16, a: CVal, b: CVal) -> R<CVal> {
        let u = a.unsigned || b.unsigned;
        let (x, y) = (a.v, b.v);
        let bool_ = |c: bool| CVal {
            v: c as u32,
            unsigned: false,
        };
        let cmp = |lt: bool, eq: bool| -> CVal {
            let o = if u { x.cmp(&y) } else { (x as i32).cmp(&(y as i32)) };
            bool_(o == std::cmp::Ordering::Less && lt || o == std::cmp::Ordering::Equal && eq)
        };
        let v = match op {
            o if o == p2(b'|', b'|') => return Ok(bool_(x != 0 || y != 0)),
            o if o == p2(b'&', b'&') => return Ok(bool_(x != 0 && y != 0)),
            o if o == p1(b'|') => x | y,
            o if o == p1(b'^') => x ^ y,
            o if o == p1(b'&') => x & y,
            o if o == p2(b'=', b'=') => return Ok(bool_(x == y)),
            o if o == p2(b'!', b'=') => return Ok(bool_(x != y)),
            o if o == p1(b'<') => return Ok(cmp(true, false)),
            o if o == p2(b'<', b'=') => return Ok(cmp(true, true)),
            o if o == p1(b'>') => return Ok(bool_(cmp(true, true).v == 0)),
            o if o == p2(b'>', b'=') => return Ok(bool_(cmp(true, false).v == 0)),
            o if o == p2(b'<', b'<') => x.wrapping_shl(y),
            o if o == p2(b'>', b'>') => {
                if a.unsigned {
                    x.wrapping_shr(y)
                } else {
                    (x as i32).wrapping_shr(y) as u32
                }
            }
            o if o == p1(b'+') => x.wrapping_add(y),
            o if o == p1(b'-') => x.wrapping_sub(y),
            o if o == p1(b'*') => x.wrapping_mul(y),
            _ => {
                if y == 0 {
                    return Err(self.err_plain(errmsg::INVALID_VALUE));
                }
                let div = op == p1(b'/');
                match (u, div) {
                    (true, true) => x / y,
                    (true, false) => x % y,
                    (false, true) => (x as i32).wrapping_div(y as i32) as u32,
                    (false, false) => (x as i32).wrapping_rem(y as i32) as u32,
                }
            }
        };
        Ok(CVal { v, unsigned: u })
    }

    fn expr_unary(&mut self) -> R<CVal> {
        self.enter()?;
        let v = self.expr_unary_inner()?;
        self.leave();
        Ok(v)
    }

    fn expr_unary_inner(&mut self) -> R<CVal> {
        if let Tok::P(op) = self.lx.tok {
            let un = [p1(b'-'), p1(b'+'), p1(b'!'), p1(b'~')];
            if un.contains(&op) {
                self.lx.next()?;
                let a = self.expr_unary()?;
                return Ok(match op {
                    o if o == p1(b'-') => CVal {
                        v: a.v.wrapping_neg(),
                        ..a
                    },
                    o if o == p1(b'!') => CVal {
                        v: (a.v == 0) as u32,
                        unsigned: false,
                    },
                    o if o == p1(b'~') => CVal { v: !a.v, ..a },
                    _ => a,
                });
            }
            if op == p1(b'(') {
                self.lx.next()?;
                if self.starts_type() {
                    // A cast.
                    let t = self.abstract_type()?;
                    self.check_p(b')', ")")?;
                    let a = self.expr_unary()?;
                    let r = self.resolve(t);
                    let unsigned = r.flags & flags::UNSIGNED != 0 || r.kind == CKind::Ptr;
                    let v = match r.size {
                        1 if unsigned => a.v as u8 as u32,
                        1 => a.v as i8 as i32 as u32,
                        2 if unsigned => a.v as u16 as u32,
                        2 => a.v as i16 as i32 as u32,
                        _ => a.v,
                    };
                    return Ok(CVal {
                        v,
                        unsigned: unsigned && r.size >= 4,
                    });
                }
                let v = self.expr()?;
                self.check_p(b')', ")")?;
                return Ok(v);
            }
        }
        match self.lx.tok {
            Tok::Int(n) => {
                let text = self.lx.text();
                let unsigned = text.iter().any(|c| *c == b'u' || *c == b'U') || n > i32::MAX as u64;
                self.lx.next()?;
                Ok(CVal { v: n as u32, unsigned })
            }
            Tok::Ident => {
                if self.is_kw("sizeof")
                    || self.is_kw("__alignof__")
                    || self.is_kw("__alignof")
                    || self.is_kw("_Alignof")
                {
                    let size = self.is_kw("sizeof");
                    self.lx.next()?;
                    // `sizeof(type)`, `sizeof(expr)` or `sizeof expr`.
                    let t = if self.is_p(b'(') {
                        self.lx.next()?;
                        let t = if self.starts_type() {
                            self.abstract_type()?
                        } else {
                            self.expr()?;
                            self.scalar(CKind::Int, 4, 0)?
                        };
                        self.check_p(b')', ")")?;
                        t
                    } else {
                        self.expr_unary()?;
                        self.scalar(CKind::Int, 4, 0)?
                    };
                    let r = self.resolve(t);
                    if size && r.size == SIZE_UNKNOWN {
                        return Err(self.err_plain(errmsg::FFI_INVALID_SIZE));
                    }
                    let v = if size { r.size } else { r.alignment() };
                    return Ok(CVal { v, unsigned: true });
                }
                let name = self.lx.text();
                match self.tab.lookup(name, Namespace::Ordinary) {
                    Some(id) if self.tab.get(id).kind == CKind::Constant => {
                        let c = *self.tab.get(id);
                        let r = self.resolve(c.child);
                        let unsigned = r.flags & flags::UNSIGNED != 0 && r.kind == CKind::Int && r.size >= 4;
                        self.lx.next()?;
                        Ok(CVal {
                            v: c.value as u32,
                            unsigned,
                        })
                    }
                    _ => Err(self.err(errmsg::PARSE_UNEXPECTED)),
                }
            }
            _ => Err(self.err(errmsg::PARSE_UNEXPECTED)),
        }
    }

    /// Does a type name start here (for casts and `sizeof`)?
    fn starts_type(&self) -> bool {
        if self.lx.tok != Tok::Ident {
            return false;
        }
        let w = self.lx.text();
        is_type_keyword(w)
            || self
                .tab
                .lookup(w, Namespace::Ordinary)
                .is_some_and(|id| self.tab.get(id).kind == CKind::Typedef)
    }
}

fn is_type_keyword(w: &[u8]) -> bool {
    const KW: &[&str] = &[
        "void",
        "_Bool",
        "bool",
        "char",
        "short",
        "int",
        "long",
        "signed",
        "__signed__",
        "unsigned",
        "float",
        "double",
        "struct",
        "union",
        "enum",
        "const",
        "volatile",
        "__const",
        "_Complex",
        "__complex__",
        "complex",
        "_Float128",
        "__float128",
        "__volatile__",
        "__signed",
    ];
    KW.iter().any(|k| k.as_bytes() == w)
}

/// Fill a fresh table with the predefined typedefs (LuaJIT's `int8_t` ...).
pub fn predefine(tab: &mut CTypeTable) -> Result<(), OutOfMemory> {
    for &(name, kind, size, fl) in PREDEFINED {
        let mut t = builtin(kind, size, log2(size), fl);
        if kind == CKind::Ptr {
            t.child = CTypeId::VOID;
        }
        let Some(base) = tab.intern(t)? else {
            return Err(OutOfMemory);
        };
        let mut d = CType::new(CKind::Typedef);
        d.child = base;
        d.size = size;
        d.align = log2(size);
        d.name = tab.intern_name(name.as_bytes())?;
        let Some(id) = tab.push(d)? else {
            return Err(OutOfMemory);
        };
        tab.index_name(id)?;
    }
    Ok(())
}
