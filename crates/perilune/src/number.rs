//! Numbers as text, and the two arithmetic operators whose Lua meaning differs from
//! the machine's.
//!
//! This module owns:
//! - [`fmt_number`]: what `tostring(n)` / `print(n)` print (LuaJIT 2.1's `%.14g`).
//! - [`fmt_float`] with [`FloatSpec`]: the `%f`, `%e`, `%g` and `%a` conversions of
//!   `string.format`, flags, width and precision included.
//! - [`str_to_number`]: the string-to-number conversion shared by `tonumber(s)`,
//!   arithmetic coercion of strings and the lexer.
//! - [`str_to_number_base`]: `tonumber(s, base)`.
//! - [`lua_mod`] and [`lua_pow`]: the `%` and `^` operators on numbers.
//!
//! Nothing here allocates or panics, whatever the input: output goes to fixed buffers
//! whose size bounds every possible result, and parsing works on the input slice plus
//! fixed stack buffers, however long the input is.
//!
//! Behaviour follows LuaJIT 2.1 as observed, not C's `printf`/`strtod`, where the two
//! differ:
//! - Rounding to a given number of digits is done on the exact decimal (or hex) value,
//!   with exact ties rounded away from zero (`%.0f` of 2.5 is `3`, `%.14g` of
//!   123456789012345 is `1.2345678901235e+14`). Rust's formatter rounds ties to even,
//!   so ties are detected exactly and corrected.
//! - NaN prints as `nan` whatever its sign bit; only the space flag adds a prefix.
//! - `%a` normalises subnormals (`0x1p-1074`) and a rounding carry shows in the
//!   leading digit (`0x2.000p+1023`).
//! - Parsing accepts `inf`, `infinity` and `nan` (any case, with a sign) and `0b`
//!   binary integers, and rejects exponents of 2^20 or more in magnitude.

use std::fmt::Write as _;

// ---------------------------------------------------------------------------------
// Small fixed-size output buffer.
// ---------------------------------------------------------------------------------

/// A writer into a borrowed byte slice that reports overflow instead of panicking.
/// Every caller sizes its buffer so overflow cannot happen; if it ever did, the output
/// would be truncated rather than the process aborted.
struct Sink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Sink<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Sink { buf, len: 0 }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_n(&mut self, b: u8, n: usize) {
        for _ in 0..n {
            self.push(b);
        }
    }

    fn extend(&mut self, s: &[u8]) {
        for &b in s {
            self.push(b);
        }
    }

    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl std::fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(std::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// tostring(n)
// ---------------------------------------------------------------------------------

/// Write `n` as LuaJIT's `tostring` does (`%.14g`, with `inf`, `-inf`, `nan`) into
/// `buf`; return the length. 64 bytes always suffice (the longest output is 21 bytes,
/// e.g. `-1.2345678901234e-308`).
pub fn fmt_number(n: f64, buf: &mut [u8; 64]) -> usize {
    // Fast path: integers below 1e14 have at most 14 digits, so `%.14g` prints them
    // exactly, without an exponent; no float formatting is needed. (1e14 itself
    // prints as `1e+14`.)
    if n.trunc() == n && n.abs() < 1e14 {
        let mut sink = Sink::new(buf);
        if n.is_sign_negative() {
            sink.push(b'-');
        }
        write_u64(&mut sink, n.abs() as u64);
        return sink.len;
    }
    // No width or flags here, so skip `write_float`'s padding buffer.
    let mut sink = Sink::new(buf);
    if n.is_nan() {
        sink.extend(b"nan");
        return sink.len;
    }
    if n.is_sign_negative() {
        sink.push(b'-');
    }
    if n.is_infinite() {
        sink.extend(b"inf");
    } else {
        write_general(&mut sink, n.abs(), Some(14), false, false);
    }
    sink.len
}

/// Decimal digits of `v`, without leading zeros.
fn write_u64(sink: &mut Sink<'_>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        if let Some(slot) = tmp.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    sink.extend(tmp.get(i..).unwrap_or(&[]));
}

// ---------------------------------------------------------------------------------
// string.format conversions
// ---------------------------------------------------------------------------------

/// Size of the buffer [`fmt_float`] writes into. The longest possible output is `%f`
/// of the largest double at precision 99 with a sign: 1 + 309 + 1 + 99 = 410 bytes;
/// width is capped at 99, below that.
pub const FMT_FLOAT_BUF: usize = 512;

/// Largest precision and width [`fmt_float`] honours; larger values are clamped.
/// LuaJIT rejects format specs with more than two digits of width or precision
/// ("invalid format (width or precision too long)"), so `string.format` never needs
/// more.
pub const FMT_MAX_PREC: usize = 99;

/// Which floating-point conversion to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatConv {
    /// `%f`: fixed notation, `precision` digits after the point (default 6).
    Fixed,
    /// `%e` / `%E`: one digit, point, `precision` digits, exponent (default 6).
    Exp,
    /// `%g` / `%G`: `precision` significant digits (default 6, 0 means 1), fixed or
    /// exponent notation by C's rule, trailing zeros removed unless `alt`.
    General,
    /// `%a` / `%A`: hexadecimal significand and binary exponent; without a precision,
    /// as many hex digits as needed to be exact.
    Hex,
}

/// A complete float conversion spec: `%[flags][width][.precision]conv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatSpec {
    /// The conversion.
    pub conv: FloatConv,
    /// Digits of precision, `None` for the conversion's default.
    pub precision: Option<usize>,
    /// Minimum field width.
    pub width: usize,
    /// Upper-case variant (`%E`, `%G`, `%A`; also `INF`, `NAN`).
    pub upper: bool,
    /// `-` flag: pad on the right.
    pub left: bool,
    /// `+` flag: always print a sign for non-negative numbers.
    pub plus: bool,
    /// space flag: print a space where a `+` would go.
    pub space: bool,
    /// `#` flag: always print the point; keep trailing zeros for `%g`.
    pub alt: bool,
    /// `0` flag: pad with zeros after the sign (ignored with `-` and for inf/nan).
    pub zero: bool,
}

impl FloatSpec {
    #[cfg(test)]
    /// A spec with no flags, no width and the default precision.
    pub const fn new(conv: FloatConv) -> Self {
        FloatSpec {
            conv,
            precision: None,
            width: 0,
            upper: false,
            left: false,
            plus: false,
            space: false,
            alt: false,
            zero: false,
        }
    }

    #[cfg(test)]
    /// The same spec with an explicit precision.
    pub const fn precision(mut self, p: usize) -> Self {
        self.precision = Some(p);
        self
    }
}

/// Format `n` according to `spec` into `buf`, return the length of the output.
///
/// Precision and width above [`FMT_MAX_PREC`] are clamped to it.
pub fn fmt_float(n: f64, spec: &FloatSpec, buf: &mut [u8; FMT_FLOAT_BUF]) -> usize {
    let mut sink = Sink::new(buf);
    write_float(&mut sink, n, spec);
    sink.len
}

/// The body of a formatted number: everything except the padding.
/// Kept separate so padding can be computed from its length.
fn write_float(out: &mut Sink<'_>, n: f64, spec: &FloatSpec) {
    let width = spec.width.min(FMT_MAX_PREC);
    let mut body_buf = [0u8; FMT_FLOAT_BUF];
    let mut body = Sink::new(&mut body_buf);

    // Sign prefix. LuaJIT prints NaN without a sign and without '+', but honours the
    // space flag for it.
    let sign: Option<u8> = if n.is_nan() {
        spec.space.then_some(b' ')
    } else if n.is_sign_negative() {
        Some(b'-')
    } else if spec.plus {
        Some(b'+')
    } else if spec.space {
        Some(b' ')
    } else {
        None
    };
    // Number of leading bytes (sign, "0x") that zero padding goes after.
    let mut prefix_len = 0;
    if let Some(s) = sign {
        body.push(s);
        prefix_len = 1;
    }

    let finite = n.is_finite();
    if !finite {
        let word: &[u8] = match (n.is_nan(), spec.upper) {
            (true, false) => b"nan",
            (true, true) => b"NAN",
            (false, false) => b"inf",
            (false, true) => b"INF",
        };
        body.extend(word);
    } else {
        let x = n.abs();
        let prec = spec.precision.map(|p| p.min(FMT_MAX_PREC));
        match spec.conv {
            FloatConv::Fixed => write_fixed(&mut body, x, prec.unwrap_or(6), spec.alt),
            FloatConv::Exp => {
                let p = prec.unwrap_or(6);
                let d = sig_digits(x, p + 1);
                write_exp_form(&mut body, &d, d.n, spec.alt, spec.upper);
            }
            FloatConv::General => write_general(&mut body, x, prec, spec.alt, spec.upper),
            FloatConv::Hex => {
                prefix_len += 2;
                write_hex(&mut body, x, prec, spec.alt, spec.upper);
            }
        }
    }

    let len = body.len;
    let pad = width.saturating_sub(len);
    let body = body.as_slice();
    if spec.left {
        out.extend(body);
        out.push_n(b' ', pad);
    } else if spec.zero && finite {
        let (head, tail) = body.split_at(prefix_len.min(body.len()));
        out.extend(head);
        out.push_n(b'0', pad);
        out.extend(tail);
    } else {
        out.push_n(b' ', pad);
        out.extend(body);
    }
}

/// Significant decimal digits of a non-negative finite number, rounded to `n` digits
/// with exact ties away from zero. The value is `0.d1d2...dn * 10^(exp+1)`, i.e.
/// `d1.d2...dn * 10^exp`.
struct Digits {
    d: [u8; 104],
    n: usize,
    exp: i32,
}

impl Digits {
    fn get(&self, i: usize) -> u8 {
        self.d.get(i).copied().unwrap_or(b'0')
    }
}

/// Round `x` (finite, >= 0) to `n` significant digits, 1 <= n <= 101 (clamped).
fn sig_digits(x: f64, n: usize) -> Digits {
    let n = n.clamp(1, 101);
    // Subnormals have fewer significant bits, so the argument below fails for them.
    if n <= 15 && (x == 0.0 || x >= f64::MIN_POSITIVE) {
        if let Some(d) = shortest_digits(x, n) {
            return d;
        }
    }
    exact_sig_digits(x, n)
}

/// [`sig_digits`] from the exact decimal expansion, for any `n`.
fn exact_sig_digits(x: f64, n: usize) -> Digits {
    let mut digits = Digits {
        d: [b'0'; 104],
        n,
        exp: 0,
    };
    // Rust's exact formatting is correctly rounded with ties to even. A tie at `n`
    // digits means the exact expansion has exactly n+1 digits ending in 5; then the
    // n+1-digit output is exact and rounding it up by hand gives ties-away.
    let tie = is_tie_sig(x, n);
    let mut scratch = [0u8; 160];
    let mut s = Sink::new(&mut scratch);
    let want = if tie { n + 1 } else { n };
    if write!(s, "{:.*e}", want - 1, x).is_err() {
        return digits;
    }
    read_scientific(s.as_slice(), &mut digits);
    if tie {
        // Drop the final 5 and add one unit in the last kept place.
        if let Some(slot) = digits.d.get_mut(n) {
            *slot = b'0';
        }
        if increment_digits(digits.d.get_mut(..n).unwrap_or(&mut [])) {
            // 99..9 became 00..0: the value is 10^(exp+1).
            if let Some(first) = digits.d.first_mut() {
                *first = b'1';
            }
            digits.exp += 1;
        }
    }
    digits
}

/// The fast path of [`sig_digits`] (`tostring` of most non-integers): if the
/// shortest decimal that reads back as `x` has at most `n` digits (n <= 15), those are
/// the digits of `x` rounded to `n`, and no exact expansion or tie check is needed.
/// Why: that decimal D is within half an ulp of `x`, and below 16 digits an ulp is
/// smaller than one unit in the n-th digit (for normal numbers), so D is the unique
/// nearest n-digit number (no tie is possible). `None` when the shortest form is
/// longer.
fn shortest_digits(x: f64, n: usize) -> Option<Digits> {
    let mut scratch = [0u8; 40];
    let mut s = Sink::new(&mut scratch);
    write!(s, "{x:e}").ok()?;
    let mut d = Digits {
        d: [b'0'; 104],
        n,
        exp: 0,
    };
    (read_scientific(s.as_slice(), &mut d) <= n).then_some(d)
}

/// Read Rust's scientific notation, `D[.DDD]e[-]X`, into `d`'s digits and exponent;
/// return how many digits it had (those beyond `d`'s room are dropped).
fn read_scientific(text: &[u8], d: &mut Digits) -> usize {
    let mut count = 0;
    let mut rest: &[u8] = &[];
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if let Some(slot) = d.d.get_mut(count) {
                    *slot = c;
                }
                count += 1;
            }
            b'.' => {}
            _ => {
                rest = text.get(i + 1..).unwrap_or(&[]);
                break;
            }
        }
    }
    let (neg, exp_digits) = match rest.split_first() {
        Some((b'-', r)) => (true, r),
        _ => (false, rest),
    };
    let mut e: i32 = 0;
    for &c in exp_digits {
        e = e.saturating_mul(10).saturating_add(i32::from(c.wrapping_sub(b'0')));
    }
    d.exp = if neg { -e } else { e };
    count
}

/// Add one to the decimal digit string `d` (ASCII, '.' skipped). Return true if the
/// carry ran off the front (all nines became zeros).
fn increment_digits(d: &mut [u8]) -> bool {
    for c in d.iter_mut().rev() {
        match *c {
            b'.' => {}
            b'9' => *c = b'0',
            _ => {
                *c += 1;
                return false;
            }
        }
    }
    true
}

/// Split a positive finite double into `m * 2^e` with `m` odd (or `m == 0` for zero).
fn decompose(x: f64) -> (u64, i32) {
    let bits = x.to_bits();
    let frac = bits & ((1u64 << 52) - 1);
    let bexp = ((bits >> 52) & 0x7ff) as i32;
    let (m, e) = if bexp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), bexp - 1075)
    };
    if m == 0 {
        return (0, 0);
    }
    let tz = m.trailing_zeros();
    (m >> tz, e + tz as i32)
}

/// Is rounding `x` to `n` significant digits an exact tie (the dropped part is
/// exactly one half of a unit in the last place)?
fn is_tie_sig(x: f64, n: usize) -> bool {
    let (m, e) = decompose(x);
    if m == 0 {
        return false;
    }
    if e >= 0 {
        // An integer. A tie needs x = (2q+1) * 5^j * 2^(j-1), with j dropped digits;
        // so 5^j divides m < 2^53 (j <= 22) and e = j - 1 <= 21. Then x < 2^74.
        if e > 21 {
            return false;
        }
        let mut v = u128::from(m) << e;
        while v % 10 == 0 {
            v /= 10;
        }
        if v % 10 != 5 {
            return false;
        }
        return decimal_len_u128(v) == n + 1;
    }
    // x = m / 2^k = m * 5^k / 10^k; its decimal expansion is the digits of m * 5^k
    // (odd and a multiple of 5, so ending in 5 with no trailing zeros). A tie means
    // that expansion has exactly n+1 digits. It has at least k*log10(5) digits.
    let k = (-e) as u64;
    if k * 69_897 / 100_000 > n as u64 + 1 {
        return false;
    }
    match Big::from_u64(m).mul_pow5(k) {
        Some(big) => big.decimal_len() == n + 1,
        None => false,
    }
}

fn decimal_len_u128(mut v: u128) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// A fixed-width unsigned big integer, just large enough for tie detection:
/// expansions of up to 102 digits (< 2^340) must be representable.
#[derive(Clone, Copy)]
struct Big {
    limbs: [u64; 6],
}

impl Big {
    fn from_u64(v: u64) -> Self {
        Big {
            limbs: [v, 0, 0, 0, 0, 0],
        }
    }

    /// Multiply by a small factor; `None` on overflow.
    fn mul_small(mut self, f: u64) -> Option<Self> {
        let mut carry: u128 = 0;
        for limb in self.limbs.iter_mut() {
            let t = u128::from(*limb) * u128::from(f) + carry;
            *limb = t as u64;
            carry = t >> 64;
        }
        (carry == 0).then_some(self)
    }

    fn mul_pow5(mut self, mut k: u64) -> Option<Self> {
        // 5^27 is the largest power of five below 2^63.
        const P27: u64 = 7_450_580_596_923_828_125;
        while k >= 27 {
            self = self.mul_small(P27)?;
            k -= 27;
        }
        self.mul_small(5u64.pow(k as u32))
    }

    fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }

    /// Divide in place by `d`, return the remainder.
    fn div_small(&mut self, d: u64) -> u64 {
        let mut rem: u128 = 0;
        for limb in self.limbs.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        rem as u64
    }

    fn decimal_len(mut self) -> usize {
        const E19: u64 = 10_000_000_000_000_000_000;
        let mut n = 0;
        loop {
            let rem = self.div_small(E19);
            if self.is_zero() {
                return n + decimal_len_u128(u128::from(rem));
            }
            n += 19;
        }
    }
}

/// `%e` layout of `d` with `n` significant digits.
fn write_exp_form(out: &mut Sink<'_>, d: &Digits, n: usize, alt: bool, upper: bool) {
    out.push(d.get(0));
    if n > 1 || alt {
        out.push(b'.');
    }
    for i in 1..n {
        out.push(d.get(i));
    }
    write_exponent(out, d.exp, if upper { b'E' } else { b'e' });
}

/// `e+05`, `e-308`: sign always, at least two digits.
fn write_exponent(out: &mut Sink<'_>, exp: i32, letter: u8) {
    out.push(letter);
    out.push(if exp < 0 { b'-' } else { b'+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push(b'0');
    }
    write_u64(out, u64::from(e));
}

/// `%g`: C's rule on the exponent after rounding to P significant digits.
fn write_general(out: &mut Sink<'_>, x: f64, prec: Option<usize>, alt: bool, upper: bool) {
    let p = match prec {
        None => 6,
        Some(0) => 1,
        Some(p) => p,
    };
    let d = sig_digits(x, p);
    // Without '#', trailing zeros go (and the point with them).
    let mut n = p;
    if !alt {
        while n > 1 && d.get(n - 1) == b'0' {
            n -= 1;
        }
    }
    let x_exp = d.exp;
    if x_exp < -4 || x_exp >= p as i32 {
        write_exp_form(out, &d, n, alt, upper);
        return;
    }
    // Fixed layout of the same P digits, P-1-X of them after the point.
    if x_exp < 0 {
        out.push(b'0');
        out.push(b'.');
        out.push_n(b'0', (-x_exp - 1) as usize);
        for i in 0..n {
            out.push(d.get(i));
        }
        return;
    }
    let int_digits = x_exp as usize + 1;
    for i in 0..int_digits {
        out.push(d.get(i));
    }
    if n > int_digits || alt {
        out.push(b'.');
    }
    for i in int_digits..n {
        out.push(d.get(i));
    }
}

/// `%f` of `x` (finite, >= 0) with `prec` digits after the point.
fn write_fixed(out: &mut Sink<'_>, x: f64, prec: usize, alt: bool) {
    // x = m / 2^k has exactly k fractional digits, the last one a 5; cutting it to
    // k-1 digits is the only way to hit an exact tie.
    let (m, e) = decompose(x);
    let tie = m != 0 && e < 0 && (-e) as usize == prec + 1;
    let want = if tie { prec + 1 } else { prec };
    // One spare byte in front for a carry out of the leading digit.
    let mut scratch = [0u8; FMT_FLOAT_BUF];
    let (lead, rest) = scratch.split_at_mut(1);
    let mut s = Sink::new(rest);
    if write!(s, "{:.*}", want, x).is_err() {
        return;
    }
    let mut len = s.len;
    let mut start = 1;
    if tie {
        // Drop the final 5 (and the point if nothing is left after it), round up.
        len = len.saturating_sub(if prec == 0 { 2 } else { 1 });
        if increment_digits(rest.get_mut(..len).unwrap_or(&mut [])) {
            if let Some(l) = lead.first_mut() {
                *l = b'1';
            }
            start = 0;
        }
    }
    out.extend(scratch.get(start..len + 1).unwrap_or(&[]));
    if prec == 0 && alt {
        out.push(b'.');
    }
}

/// `%a` of `x` (finite, >= 0), LuaJIT style: subnormals are normalised, and without
/// a precision the significand is printed exactly with trailing zeros dropped.
fn write_hex(out: &mut Sink<'_>, x: f64, prec: Option<usize>, alt: bool, upper: bool) {
    out.push(b'0');
    out.push(if upper { b'X' } else { b'x' });
    let hex: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let bits = x.to_bits();
    let mut frac = bits & ((1u64 << 52) - 1);
    let bexp = ((bits >> 52) & 0x7ff) as i32;
    let (mut lead, mut exp) = if bexp == 0 {
        if frac == 0 {
            (0u64, 0)
        } else {
            // Subnormal: shift the leading one up into the implicit position.
            let shift = frac.leading_zeros() - 11;
            frac = (frac << shift) & ((1u64 << 52) - 1);
            (1, -1022 - shift as i32)
        }
    } else {
        (1, bexp - 1023)
    };
    if lead == 0 {
        exp = 0;
    }
    // 13 hex digits of fraction; `nd` is how many to print.
    let nd = match prec {
        None => {
            let mut nd = 13;
            while nd > 0 && (frac >> (4 * (13 - nd))) & 0xf == 0 {
                nd -= 1;
            }
            nd
        }
        Some(p) => {
            if p < 13 {
                // Round half away from zero at nibble p; a carry may reach the
                // leading digit, which then prints as 2.
                let drop = 4 * (13 - p) as u32;
                let half = 1u64 << (drop - 1);
                let rem = frac & ((1u64 << drop) - 1);
                frac >>= drop;
                if rem >= half {
                    frac += 1;
                    if frac >> (4 * p) != 0 {
                        frac &= (1u64 << (4 * p)) - 1;
                        lead += 1;
                    }
                }
                frac <<= drop;
            }
            p
        }
    };
    out.push(hex.get(lead as usize).copied().unwrap_or(b'0'));
    if nd > 0 || alt {
        out.push(b'.');
    }
    for i in 0..nd {
        let nib = if i < 13 {
            ((frac >> (48 - 4 * i)) & 0xf) as usize
        } else {
            0
        };
        out.push(hex.get(nib).copied().unwrap_or(b'0'));
    }
    out.push(if upper { b'P' } else { b'p' });
    out.push(if exp < 0 { b'-' } else { b'+' });
    write_u64(out, u64::from(exp.unsigned_abs()));
}

// ---------------------------------------------------------------------------------
// String to number
// ---------------------------------------------------------------------------------

/// C's `isspace` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let s = s.get(start..).unwrap_or(&[]);
    let end = s.iter().rposition(|&c| !is_space(c)).map_or(0, |i| i + 1);
    s.get(..end).unwrap_or(&[])
}

/// Exponents (decimal `e` or binary `p`) of 2^20 or more in magnitude make LuaJIT
/// reject the whole string.
const MAX_EXP: u32 = 1 << 20;

/// The NaN LuaJIT produces on x86-64 (sign bit set, quiet).
const LUA_NAN: u64 = 0xfff8_0000_0000_0000;

/// Parse a string the way Lua converts it to a number: surrounding whitespace, an
/// optional sign, then a decimal number (`1`, `1.`, `.5`, `1e5`), a hex number with
/// optional fraction and binary exponent (`0x1F`, `0x1.8p4`), a `0b` binary integer
/// of up to 64 significant bits, or `inf` / `infinity` / `nan` in any case.
/// Anything else (including an empty string or embedded NUL) is `None`.
///
/// Decimal and hex results are correctly rounded, for any input length.
pub fn str_to_number(s: &[u8]) -> Option<f64> {
    let s = trim_space(s);
    let (neg, body) = match s.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, s),
    };
    let mag = match body {
        [b'0'..=b'9' | b'.', ..] => parse_numeral(body)?,
        _ => {
            let v = parse_special(body)?;
            // NaN keeps LuaJIT's bit pattern whatever the sign; infinity takes it.
            return Some(if neg && v.is_infinite() { -v } else { v });
        }
    };
    Some(if neg { -mag } else { mag })
}

/// The numeral forms alone, without whitespace, sign or `inf`/`nan`: a decimal number,
/// a `0x` hex number (optional fraction and `p` exponent) or a `0b` binary integer.
/// The lexer reads numeric literals with this, so that source text and `tonumber`
/// agree (`0b101` is 5 in both, `5e1048576` is malformed in both).
pub fn parse_numeral(s: &[u8]) -> Option<f64> {
    match s {
        [b'0', b'x' | b'X', rest @ ..] => parse_hex(rest),
        [b'0', b'b' | b'B', rest @ ..] => parse_bin(rest),
        [b'0'..=b'9' | b'.', ..] => parse_dec(s),
        _ => None,
    }
}

/// `inf`, `infinity`, `nan`, in any case, after the sign.
fn parse_special(body: &[u8]) -> Option<f64> {
    if body.eq_ignore_ascii_case(b"nan") {
        return Some(f64::from_bits(LUA_NAN));
    }
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(f64::INFINITY);
    }
    None
}

/// Parse an optional-sign decimal exponent (after `e` or `p`). None if malformed or
/// out of range.
fn parse_exp(s: &[u8]) -> Option<i32> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
        if v >= MAX_EXP {
            return None;
        }
    }
    Some(if neg { -(v as i32) } else { v as i32 })
}

/// Significant digits kept for decimal conversion. Deciding the correct rounding of
/// a double needs at most 768 significant digits; beyond that only whether any
/// further digit is non-zero matters, which a final sticky `1` records.
const MAX_SIG: usize = 800;

fn parse_dec(s: &[u8]) -> Option<f64> {
    // Split into mantissa and exponent.
    let (mant, exp) = match s.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (s.get(..i).unwrap_or(&[]), parse_exp(s.get(i + 1..).unwrap_or(&[]))?),
        None => (s, 0),
    };
    let mut sig = [0u8; MAX_SIG + 1];
    let mut nsig = 0usize; // digits stored in `sig`
    let mut sticky = false; // a non-zero digit was dropped
    let mut any_digit = false;
    let mut seen_point = false;
    // Position of the decimal point relative to the first significant digit:
    // value = 0.sig * 10^(point + exp).
    let mut point: i64 = 0;
    let mut started = false; // first non-zero digit seen
    for &c in mant {
        match c {
            b'0'..=b'9' => {
                any_digit = true;
                if c == b'0' && !started {
                    if seen_point {
                        point -= 1;
                    }
                    continue;
                }
                started = true;
                if !seen_point {
                    point += 1;
                }
                if nsig < MAX_SIG {
                    if let Some(slot) = sig.get_mut(nsig) {
                        *slot = c;
                    }
                    nsig += 1;
                } else if c != b'0' {
                    sticky = true;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if !any_digit {
        return None;
    }
    if nsig == 0 {
        return Some(0.0);
    }
    // Trailing zeros only scale the value, which `point` already accounts for.
    // (Not when digits were dropped: the sticky digit must stay in its place.)
    if !sticky {
        while nsig > 1 && sig.get(nsig - 1) == Some(&b'0') {
            nsig -= 1;
        }
    }
    // Fast path: up to 15 digits is an exact integer, and 10^k for k <= 22 is exact,
    // so one multiplication or division gives the correctly rounded result.
    let e10 = point + i64::from(exp) - nsig as i64;
    if nsig <= 15 && !sticky && (-22..=22).contains(&e10) {
        let mut v: u64 = 0;
        for &c in sig.get(..nsig).unwrap_or(&[]) {
            v = v * 10 + u64::from(c - b'0');
        }
        let v = v as f64;
        let p = POW10.get(e10.unsigned_abs() as usize).copied().unwrap_or(1.0);
        return Some(if e10 < 0 { v / p } else { v * p });
    }
    if sticky {
        if let Some(slot) = sig.get_mut(nsig) {
            *slot = b'1';
        }
        nsig += 1;
    }
    // Rebuild as "DIGITSe<exp>" and let Rust's correctly rounded parser finish. With
    // at most 801 digits (value below 10^801, at least 1), an exponent outside
    // +-2000 means zero or infinity, so clamping it changes nothing.
    let e10 = (point + i64::from(exp) - nsig as i64).clamp(-2000, 2000);
    let mut text = [0u8; MAX_SIG + 16];
    let mut out = Sink::new(&mut text);
    out.extend(sig.get(..nsig).unwrap_or(&[]));
    write!(out, "e{e10}").ok()?;
    let text = std::str::from_utf8(out.as_slice()).ok()?;
    text.parse::<f64>().ok()
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

fn hex_val(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Hex digits with optional point and optional `p` exponent (after the `0x`).
fn parse_hex(s: &[u8]) -> Option<f64> {
    let (mant, exp) = match s.iter().position(|&c| c == b'p' || c == b'P') {
        Some(i) => (s.get(..i).unwrap_or(&[]), parse_exp(s.get(i + 1..).unwrap_or(&[]))?),
        None => (s, 0),
    };
    // Up to 60 bits go into `m`; later non-zero bits only set `sticky`. `e2` is the
    // binary exponent of m's last bit.
    let mut m: u64 = 0;
    let mut e2: i64 = 0;
    let mut sticky = false;
    let mut any_digit = false;
    let mut seen_point = false;
    for &c in mant {
        if c == b'.' && !seen_point {
            seen_point = true;
            continue;
        }
        let d = hex_val(c)?;
        any_digit = true;
        if m >> 56 == 0 {
            m = (m << 4) | u64::from(d);
            if seen_point {
                e2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                e2 += 4;
            }
        }
    }
    if !any_digit {
        return None;
    }
    Some(make_f64(m, e2 + i64::from(exp), sticky))
}

/// `0b` binary integers: at most 64 significant bits, no point, no exponent.
fn parse_bin(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    let mut bits = 0;
    for &c in s {
        let d = match c {
            b'0' => 0,
            b'1' => 1,
            _ => return None,
        };
        if v != 0 || d != 0 {
            bits += 1;
            if bits > 64 {
                return None;
            }
        }
        v = (v << 1) | d;
    }
    Some(v as f64)
}

/// Correctly round `m * 2^e2` (plus a tiny non-zero amount if `sticky`) to a double,
/// ties to even, with gradual underflow and overflow to infinity.
fn make_f64(m: u64, e2: i64, sticky: bool) -> f64 {
    if m == 0 {
        return 0.0;
    }
    // Normalise so the top bit is set: value = m * 2^e, m in [2^63, 2^64).
    let lz = m.leading_zeros();
    let m = m << lz;
    let e = e2 - i64::from(lz);
    // The unit of the result is 2^(e + shift): 2^-52 of the leading bit for normal
    // numbers, 2^-1074 for subnormals.
    let shift = (-1074 - e).max(11);
    if shift > 64 {
        // Below half the smallest subnormal.
        return 0.0;
    }
    let m = u128::from(m);
    let shift = shift as u32;
    let mut kept = m >> shift;
    let rem = m & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rem > half || (rem == half && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    let mut exp = e + i64::from(shift); // value = kept * 2^exp
    if kept >> 53 != 0 {
        kept >>= 1;
        exp += 1;
    }
    let kept = kept as u64;
    if kept < (1u64 << 52) {
        // Subnormal (or zero); exp is -1074 here.
        return f64::from_bits(kept);
    }
    let biased = exp + 52 + 1023;
    if biased >= 0x7ff {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (kept & ((1u64 << 52) - 1)))
}

/// `tonumber(s, base)` for `base` in 2..=36 (`None` for any other base; the caller
/// raises "base out of range" before getting here). Base 10 is the ordinary
/// conversion, as in LuaJIT. Other bases take surrounding whitespace, an optional
/// sign, for base 16 an optional `0x`, and at least one digit below the base
/// (letters in either case); the value
/// saturates at 2^64 - 1 and is then rounded to a double. As in LuaJIT, a NUL byte
/// ends the string for these bases (`tonumber("1\0zz", 16)` is 1).
pub fn str_to_number_base(s: &[u8], base: u32) -> Option<f64> {
    if base == 10 {
        return str_to_number(s);
    }
    if !(2..=36).contains(&base) {
        return None;
    }
    // LuaJIT reads the string as a C string here: it ends at the first NUL.
    let s = match s.iter().position(|&c| c == 0) {
        Some(i) => s.get(..i).unwrap_or(&[]),
        None => s,
    };
    let s = trim_space(s);
    let (neg, digits) = match s.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, s),
    };
    // Base 16 also takes a "0x" prefix, which must be followed by digits.
    let digits = match digits {
        [b'0', b'x' | b'X', rest @ ..] if base == 16 => rest,
        _ => digits,
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(base)?;
        v = v
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
            .unwrap_or(u64::MAX);
    }
    let f = v as f64;
    Some(if neg { -f } else { f })
}

// ---------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------

/// Lua 5.1's `a % b`: `a - floor(a/b) * b`, so the result takes the sign of `b`.
/// Written exactly as that expression (no fused multiply-add) so results, including
/// `nan` for `x % 0` and `x % inf`, match LuaJIT bit for bit.
pub fn lua_mod(a: f64, b: f64) -> f64 {
    a - floor(a / b) * b
}

/// `f64::floor` without a libm call on baseline x86-64 (no SSE4.1 `roundsd`): below
/// 2^52 in magnitude the truncating conversion is exact, so adjust it by one for
/// negative fractions. Zero keeps its sign, as `floor` does; NaN, infinities and
/// large values take the library path.
#[inline(always)]
pub fn floor(q: f64) -> f64 {
    if q.abs() < 4_503_599_627_370_496.0 {
        if q == 0.0 {
            return q;
        }
        let t = q as i64 as f64;
        if t > q {
            t - 1.0
        } else {
            t
        }
    } else {
        q.floor()
    }
}

/// Lua's `a ^ b`: C's `pow`, whose special cases (`x^0 == 1` even for NaN,
/// `1^y == 1`, `(-8)^(1/3)` is NaN) Rust's `powf` shares.
pub fn lua_pow(a: f64, b: f64) -> f64 {
    a.powf(b)
}

#[cfg(test)]
mod tests;
