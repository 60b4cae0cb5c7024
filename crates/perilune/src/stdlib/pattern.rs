//! Lua 5.1 patterns, as LuaJIT 2.1 matches them.
//!
//! This module owns the pattern matcher used by `string.find`, `match`, `gmatch`
//! and `gsub`: character classes (`%a %c %d %g %l %p %s %u %w %x %z`, upper case
//! for the complement, `.`), sets (`[...]` with ranges, classes and `^`), the
//! quantifiers `* + - ?`, the end anchor `$`, `%bxy`, the frontier `%f[set]`,
//! captures (position captures `()` included) and back-references `%1`-`%9`.
//! The start anchor `^` is the caller's business: `find`, `match` and `gsub` strip it
//! and stop after the first position; `gmatch` does not, so there it is a literal.
//!
//! It knows nothing about the VM: it works on byte slices and reports problems as a
//! [`PatternError`], whose [`message`](PatternError::message) is LuaJIT's wording.
//!
//! Guarantees, whatever the subject and pattern:
//! - No panic: every byte access is bounds-checked (`at`, `get`).
//! - Bounded recursion: the matcher recurses only where it must try an alternative
//!   and come back (a capture boundary, `?`, `*`, `+`, `-`), and every such level is
//!   counted; more than [`MAX_DEPTH`] nested levels is the error "pattern too
//!   complex", as in LuaJIT (which uses the same limit, so the same patterns fail).
//!   Plain steps (single characters, `%b`, `%f`, back-references) loop instead of
//!   recursing, so long literal patterns cost no depth. Running time can still be
//!   exponential for pathological patterns (as in every backtracking Lua matcher).
//! - Metered work: every level of matching, and every 32 subject bytes a `%b` or a
//!   back-reference scans, is a *step*. Every [`Matcher::set_fuel`] steps the matcher
//!   pays them through the `pay` callback its caller passes in (the string library
//!   pays into the VM's instruction countdown, which charges the budget, looks at the
//!   interrupt flag and asks the host's callback); a refused payment ends the match
//!   with [`PatternError::Stopped`]. So the budget and a deadline stop a pathological
//!   pattern within one payment interval, mid-match (found by fuzzing,
//!   docs/fuzzing.md).
//!
//! LuaJIT compatibility details kept on purpose:
//! - A pattern ends at its first NUL byte (LuaJIT scans patterns as C strings); use
//!   `%z` to match a NUL. [`has_specials`] stops at the NUL as well.
//! - A back-reference to a position capture never matches.
//! - The frontier treats the positions before the subject and after it as `\0`.

/// Most captures one pattern may have ("too many captures" beyond).
pub const MAX_CAPTURES: usize = 32;

/// Most nested matcher levels ("pattern too complex" beyond); LuaJIT's limit.
pub const MAX_DEPTH: u32 = 200;

/// A malformed pattern, a bad capture reference or a pattern too deep to match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternError {
    EndsWithPercent,
    MissingBracket,
    MissingFrontierBracket,
    UnbalancedPattern,
    UnfinishedCapture,
    InvalidPatternCapture,
    InvalidCaptureIndex,
    TooManyCaptures,
    TooComplex,
    /// Paying for the steps was refused (not a Lua error: the payer holds the reason).
    Stopped,
}

impl PatternError {
    /// The error message, worded as LuaJIT words it.
    pub fn message(self) -> &'static str {
        match self {
            PatternError::EndsWithPercent => crate::errmsg::PATTERN_ENDS_WITH_PERCENT,
            PatternError::MissingBracket => crate::errmsg::PATTERN_MISSING_BRACKET,
            PatternError::MissingFrontierBracket => crate::errmsg::PATTERN_MISSING_FRONTIER,
            PatternError::UnbalancedPattern => crate::errmsg::PATTERN_UNBALANCED,
            PatternError::UnfinishedCapture => crate::errmsg::PATTERN_UNFINISHED_CAPTURE,
            PatternError::InvalidPatternCapture => crate::errmsg::PATTERN_INVALID_CAPTURE,
            PatternError::InvalidCaptureIndex => crate::errmsg::PATTERN_CAPTURE_INDEX,
            PatternError::TooManyCaptures => crate::errmsg::PATTERN_TOO_MANY_CAPTURES,
            PatternError::TooComplex => crate::errmsg::PATTERN_TOO_COMPLEX,
            PatternError::Stopped => crate::errmsg::PATTERN_STOPPED,
        }
    }
}

/// The value of one capture after a successful match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture<'a> {
    /// The captured bytes.
    Str(&'a [u8]),
    /// A position capture `()`: the 1-based position in the subject.
    Pos(usize),
}

/// Where a capture stands while matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CapState {
    /// `(` seen, `)` not yet.
    Open,
    /// `()`: records only where it is.
    Position,
    /// Closed, with this many bytes.
    Closed(usize),
}

/// True if `pat` uses any pattern syntax before its first NUL; without it, `find`
/// does a plain substring search (as LuaJIT decides).
pub fn has_specials(pat: &[u8]) -> bool {
    pat.iter().take_while(|&&b| b != 0).any(|b| b"^$*+?.([%-".contains(b))
}

/// How a bounded plain search ([`find_plain`]) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainSearch {
    /// The first occurrence starts at this index.
    Found(usize),
    NotFound,
    /// The allowance of work was spent; search again from this index.
    Paused(usize),
}

/// Bytes compared at a time when a candidate's first byte matches: the work of a
/// comparison is counted in these blocks, so a mismatch found early costs one block.
const COMPARE_BLOCK: usize = 64;

/// Search `hay` for the first occurrence of `needle` starting at or after `from`,
/// doing about `allowance` bytes of work (bytes scanned for the needle's first byte
/// plus bytes compared, in [`COMPARE_BLOCK`]s); `work` is increased by the work done.
/// A search is naive (as LuaJIT's), so its worst case is `hay.len() * needle.len()`:
/// the caller pays `work` into the instruction countdown and resumes a paused search.
pub fn find_plain(hay: &[u8], needle: &[u8], from: usize, allowance: usize, work: &mut usize) -> PlainSearch {
    if from > hay.len() {
        return PlainSearch::NotFound;
    }
    let Some(&first) = needle.first() else {
        return PlainSearch::Found(from);
    };
    let Some(last_start) = hay.len().checked_sub(needle.len()) else {
        return PlainSearch::NotFound;
    };
    let spent0 = *work;
    let mut i = from;
    while i <= last_start {
        let spent = *work - spent0;
        if spent >= allowance {
            return PlainSearch::Paused(i);
        }
        // Skip quickly to candidates starting with the right byte, within the allowance.
        let window_end = last_start.min(i.saturating_add(allowance - spent));
        match hay.get(i..=window_end).and_then(|w| w.iter().position(|&b| b == first)) {
            Some(off) => {
                *work += off + 1;
                i += off;
            }
            None => {
                *work += window_end + 1 - i;
                i = window_end + 1;
                continue;
            }
        }
        let mut k = 0;
        let mut same = true;
        while k < needle.len() {
            let blk = COMPARE_BLOCK.min(needle.len() - k);
            *work += blk;
            if hay.get(i + k..i + k + blk) != needle.get(k..k + blk) {
                same = false;
                break;
            }
            k += blk;
        }
        if same {
            return PlainSearch::Found(i);
        }
        i += 1;
    }
    PlainSearch::NotFound
}

/// Does byte `c` belong to class letter `cl` (`a`, `d`, `S`, ...)? A letter that
/// names no class matches itself (so `%.` is a literal dot).
fn match_class(c: u8, cl: u8) -> bool {
    let res = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c < 0x20 || c == 0x7f,
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        // C's isspace: space, \t, \n, \v, \f, \r.
        b's' => c == b' ' || (0x09..=0x0d).contains(&c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() {
        !res
    } else {
        res
    }
}

/// How a matcher pays for its steps: called with the steps taken since the last
/// payment; `false` stops the match.
pub type Pay<'p> = &'p mut dyn FnMut(u64) -> bool;

/// A matcher for one subject and one pattern. Reusable across start positions
/// ([`Matcher::match_at`] resets the captures).
pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    caps: [(usize, CapState); MAX_CAPTURES],
    depth: u32,
    /// Step allowance (`u64::MAX`: unlimited) and steps taken since it was set.
    fuel: u64,
    spent: u64,
}

/// Subject bytes scanned by `%b` or a back-reference that count as one step.
const BYTES_PER_STEP: usize = 32;

impl<'a> Matcher<'a> {
    /// A matcher of `pat` (cut at its first NUL, see the module docs) against `src`.
    pub fn new(src: &'a [u8], pat: &'a [u8]) -> Matcher<'a> {
        let end = pat.iter().position(|&b| b == 0).unwrap_or(pat.len());
        Matcher {
            src,
            pat: pat.get(..end).unwrap_or(&[]),
            level: 0,
            caps: [(0, CapState::Open); MAX_CAPTURES],
            depth: 0,
            fuel: u64::MAX,
            spent: 0,
        }
    }

    /// Pay every `fuel` steps from now on (see the module docs); resets
    /// [`Matcher::spent`].
    pub fn set_fuel(&mut self, fuel: u64) {
        self.fuel = fuel;
        self.spent = 0;
    }

    /// Steps taken and not yet paid.
    pub fn spent(&self) -> u64 {
        self.spent
    }

    /// Count `steps`; every `fuel` steps, pay them through `pay`, which may refuse
    /// (the budget ran out, the deadline passed: the caller holds the reason).
    #[inline]
    fn spend(&mut self, steps: u64, pay: Pay<'_>) -> Result<(), PatternError> {
        self.spent = self.spent.saturating_add(steps);
        if self.spent >= self.fuel && !pay(std::mem::take(&mut self.spent)) {
            return Err(PatternError::Stopped);
        }
        Ok(())
    }

    /// The pattern as matched (up to its first NUL).
    pub fn pattern(&self) -> &'a [u8] {
        self.pat
    }

    /// Try to match the pattern from byte `p` on, at subject offset `s` only. On
    /// success returns the end offset of the match; the captures are then available
    /// through [`Matcher::capture`].
    pub fn match_at(&mut self, s: usize, p: usize, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        self.level = 0;
        self.depth = 0;
        self.do_match(s, p, pay)
    }

    /// Search for the first match starting at an offset in `init..=src.len()` (only
    /// at `init` when `anchored`), with the pattern from byte `p` on. Returns the
    /// start and end offsets.
    pub fn search(
        &mut self,
        init: usize,
        p: usize,
        anchored: bool,
        pay: Pay<'_>,
    ) -> Result<Option<(usize, usize)>, PatternError> {
        let mut s = init;
        while s <= self.src.len() {
            if let Some(e) = self.match_at(s, p, pay)? {
                return Ok(Some((s, e)));
            }
            if anchored {
                break;
            }
            s += 1;
        }
        Ok(None)
    }

    /// Number of captures of the last successful match.
    pub fn capture_count(&self) -> usize {
        self.level
    }

    /// Capture `i` (0-based) of the last match, which spanned `s..e`. With no
    /// captures in the pattern, capture 0 is the whole match.
    pub fn capture(&self, i: usize, s: usize, e: usize) -> Result<Capture<'a>, PatternError> {
        if i >= self.level {
            if i == 0 {
                return Ok(Capture::Str(self.src.get(s..e).unwrap_or(&[])));
            }
            return Err(PatternError::InvalidCaptureIndex);
        }
        match self.caps.get(i) {
            Some(&(start, CapState::Closed(len))) => Ok(Capture::Str(self.src.get(start..start + len).unwrap_or(&[]))),
            Some(&(start, CapState::Position)) => Ok(Capture::Pos(start + 1)),
            _ => Err(PatternError::UnfinishedCapture),
        }
    }

    /// Pattern byte at `i`, or 0 past the end (the pattern has no NULs, so 0 always
    /// means "end").
    #[inline]
    fn at(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    /// One counted level of matching. Every recursion goes through here.
    fn do_match(&mut self, s: usize, p: usize, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        self.spend(1, pay)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PatternError::TooComplex);
        }
        let r = self.match_here(s, p, pay);
        self.depth -= 1;
        r
    }

    /// Match the pattern from `p` against the subject from `s`. Steps that cannot
    /// fail after succeeding (literal classes, `%b`, `%f`, back-references, a `?`
    /// whose first choice failed) continue in the loop; alternatives recurse.
    fn match_here(&mut self, mut s: usize, mut p: usize, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        loop {
            let Some(&pc) = self.pat.get(p) else {
                return Ok(Some(s));
            };
            match pc {
                b'(' => {
                    return if self.at(p + 1) == b')' {
                        self.open_capture(s, p + 2, CapState::Position, pay)
                    } else {
                        self.open_capture(s, p + 1, CapState::Open, pay)
                    };
                }
                b')' => return self.close_capture(s, p + 1, pay),
                b'$' if p + 1 == self.pat.len() => {
                    return Ok((s == self.src.len()).then_some(s));
                }
                b'%' => match self.at(p + 1) {
                    b'b' => {
                        let (end, scanned) = self.match_balance(s, p + 2)?;
                        self.spend((scanned / BYTES_PER_STEP) as u64, pay)?;
                        match end {
                            Some(next) => s = next,
                            None => return Ok(None),
                        }
                        p += 4;
                        continue;
                    }
                    b'f' => {
                        p += 2;
                        if self.at(p) != b'[' {
                            return Err(PatternError::MissingFrontierBracket);
                        }
                        let ep = self.class_end(p)?;
                        let prev = match s.checked_sub(1) {
                            Some(i) => self.src.get(i).copied().unwrap_or(0),
                            None => 0,
                        };
                        let cur = self.src.get(s).copied().unwrap_or(0);
                        if !self.match_set(prev, p, ep - 1) && self.match_set(cur, p, ep - 1) {
                            p = ep;
                            continue;
                        }
                        return Ok(None);
                    }
                    d @ b'0'..=b'9' => {
                        let l = self.check_backref(d)?;
                        if let Some(&(_, CapState::Closed(len))) = self.caps.get(l) {
                            self.spend((len / BYTES_PER_STEP) as u64, pay)?;
                        }
                        match self.match_backref(s, l) {
                            Some(next) => s = next,
                            None => return Ok(None),
                        }
                        p += 2;
                        continue;
                    }
                    _ => {}
                },
                _ => {}
            }
            // A single-character class, possibly followed by a quantifier.
            let ep = self.class_end(p)?;
            let m = self.single_at(s, p, ep);
            match self.at(ep) {
                b'?' => {
                    if m {
                        if let Some(e) = self.do_match(s + 1, ep + 1, pay)? {
                            return Ok(Some(e));
                        }
                    }
                    p = ep + 1;
                }
                b'*' => return self.max_expand(s, p, ep, pay),
                b'+' => {
                    return if m {
                        self.max_expand(s + 1, p, ep, pay)
                    } else {
                        Ok(None)
                    }
                }
                b'-' => return self.min_expand(s, p, ep, pay),
                _ => {
                    if !m {
                        return Ok(None);
                    }
                    s += 1;
                    p = ep;
                }
            }
        }
    }

    /// Does the subject byte at `s` (if any) match the class at `p..ep`?
    #[inline]
    fn single_at(&self, s: usize, p: usize, ep: usize) -> bool {
        match self.src.get(s) {
            Some(&c) => self.single_match(c, p, ep),
            None => false,
        }
    }

    fn single_match(&self, c: u8, p: usize, ep: usize) -> bool {
        match self.at(p) {
            b'.' => true,
            b'%' => match_class(c, self.at(p + 1)),
            b'[' => self.match_set(c, p, ep - 1),
            lit => lit == c,
        }
    }

    /// Index just past the single-character class starting at `p`.
    fn class_end(&self, p: usize) -> Result<usize, PatternError> {
        let len = self.pat.len();
        match self.at(p) {
            b'%' => {
                if p + 1 >= len {
                    return Err(PatternError::EndsWithPercent);
                }
                Ok(p + 2)
            }
            b'[' => {
                let mut q = p + 1;
                if self.at(q) == b'^' {
                    q += 1;
                }
                // The first member is taken literally even if it is ']' ("[]]").
                loop {
                    if q >= len {
                        return Err(PatternError::MissingBracket);
                    }
                    let c = self.at(q);
                    q += 1;
                    if c == b'%' && q < len {
                        q += 1;
                    }
                    if self.at(q) == b']' {
                        return Ok(q + 1);
                    }
                }
            }
            _ => Ok(p + 1),
        }
    }

    /// Does `c` belong to the set whose `[` is at `p` and whose closing `]` is at `ec`?
    fn match_set(&self, c: u8, p: usize, ec: usize) -> bool {
        let mut i = p + 1;
        let mut found = true;
        if self.at(i) == b'^' {
            found = false;
            i += 1;
        }
        while i < ec {
            let pc = self.at(i);
            if pc == b'%' {
                if match_class(c, self.at(i + 1)) {
                    return found;
                }
                i += 2;
            } else if self.at(i + 1) == b'-' && i + 2 < ec {
                if pc <= c && c <= self.at(i + 2) {
                    return found;
                }
                i += 3;
            } else {
                if pc == c {
                    return found;
                }
                i += 1;
            }
        }
        !found
    }

    /// `%bxy` with `x` at `p`: the end of a balanced `x...y` run at `s`, and how many
    /// subject bytes were scanned to find out.
    fn match_balance(&self, s: usize, p: usize) -> Result<(Option<usize>, usize), PatternError> {
        if p + 1 >= self.pat.len() {
            return Err(PatternError::UnbalancedPattern);
        }
        let (open, close) = (self.at(p), self.at(p + 1));
        if self.src.get(s) != Some(&open) {
            return Ok((None, 0));
        }
        let mut nest = 1usize;
        let mut i = s + 1;
        while let Some(&c) = self.src.get(i) {
            // Close is tested first, so `%b''` pairs quotes.
            if c == close {
                nest -= 1;
                if nest == 0 {
                    return Ok((Some(i + 1), i - s));
                }
            } else if c == open {
                nest += 1;
            }
            i += 1;
        }
        Ok((None, i - s))
    }

    /// The capture a `%d` back-reference names; it must exist and be closed.
    fn check_backref(&self, d: u8) -> Result<usize, PatternError> {
        let l = usize::from(d.wrapping_sub(b'1'));
        match self.caps.get(l) {
            Some(&(_, st)) if l < self.level && st != CapState::Open => Ok(l),
            _ => Err(PatternError::InvalidCaptureIndex),
        }
    }

    /// The end of a repeat of capture `l` at `s`, if the subject repeats it there.
    fn match_backref(&self, s: usize, l: usize) -> Option<usize> {
        let &(start, st) = self.caps.get(l)?;
        let CapState::Closed(len) = st else {
            // A position capture has no text; LuaJIT never matches it.
            return None;
        };
        let cap = self.src.get(start..start + len)?;
        let here = self.src.get(s..s + len)?;
        (cap == here).then_some(s + len)
    }

    fn open_capture(&mut self, s: usize, p: usize, st: CapState, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        let Some(slot) = self.caps.get_mut(self.level) else {
            return Err(PatternError::TooManyCaptures);
        };
        *slot = (s, st);
        self.level += 1;
        let r = self.do_match(s, p, pay)?;
        if r.is_none() {
            self.level -= 1;
        }
        Ok(r)
    }

    fn close_capture(&mut self, s: usize, p: usize, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        // The innermost capture still open is the one this ')' closes.
        let open = self
            .caps
            .get(..self.level)
            .and_then(|c| c.iter().rposition(|&(_, st)| st == CapState::Open));
        let Some(l) = open else {
            return Err(PatternError::InvalidPatternCapture);
        };
        let start = self.caps[l].0;
        self.caps[l].1 = CapState::Closed(s.saturating_sub(start));
        let r = self.do_match(s, p, pay)?;
        if r.is_none() {
            self.caps[l].1 = CapState::Open;
        }
        Ok(r)
    }

    /// Greedy repeat: take as many as possible, then back off one at a time.
    fn max_expand(&mut self, s: usize, p: usize, ep: usize, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        let mut n = 0;
        while self.single_at(s + n, p, ep) {
            n += 1;
        }
        self.spend((n / BYTES_PER_STEP) as u64, pay)?;
        loop {
            if let Some(e) = self.do_match(s + n, ep + 1, pay)? {
                return Ok(Some(e));
            }
            if n == 0 {
                return Ok(None);
            }
            n -= 1;
        }
    }

    /// Lazy repeat: try the rest first, then take one more.
    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize, pay: Pay<'_>) -> Result<Option<usize>, PatternError> {
        loop {
            if let Some(e) = self.do_match(s, ep + 1, pay)? {
                return Ok(Some(e));
            }
            if self.single_at(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests;
