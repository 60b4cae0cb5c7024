//! `string.format`, as LuaJIT 2.1 does it.
//!
//! This module owns the format-string parser, the integer conversions
//! (`%d %i %u %o %x %X %c`), `%s`, `%q` and `%p`; the floating-point conversions
//! (`%e %E %f %F %g %G %a %A`) are [`crate::number::fmt_float`].
//!
//! A spec is `%[flags][width][.precision]conv` where flags are any of `- + space # 0`
//! (repeats allowed, as in LuaJIT), width and precision have at most two digits
//! each. Anything else is "invalid option '%...' to 'format'", quoting the spec up to
//! and including the offending byte (so `%123d` reports `'%123'`).
//!
//! Details that follow LuaJIT rather than C:
//! - Integer conversions truncate non-integral numbers (`%d` of 3.7 is `3`).
//!   `%d`/`%i` go through a signed 64-bit conversion where NaN, infinities and
//!   values outside the range give `-2^63`; `%u %o %x %X` take values from 2^63 on
//!   modulo 2^64 (so `%x` of -1 is `ffffffffffffffff` and of 2^64 is `0`).
//! - `%s` and `%q` accept any value: `__tostring` is used when present (its result
//!   converted without metamethods if it is not a string); `%s` honours width and
//!   precision, `%q` ignores flags, width and precision.
//! - `%q` writes `\n` as backslash-newline, `\r` as `\13`, `\0` as `\0`, other
//!   control bytes as `\ddd` with the fewest digits unless a digit follows, and keeps
//!   bytes from 128 on as they are.
//! - `%c` and `%s` pad with spaces only; `+`, space and `#` do nothing there, nor do
//!   `+` and space for the unsigned conversions.
//! - `%p` prints an object's address (`NULL` for values that are not objects).

use super::buffer;
use super::string::{check_int, num_to_i64};
use crate::buf::Buf;
use crate::number::{fmt_float, FloatConv, FloatSpec, FMT_FLOAT_BUF};
use crate::object::{GcRef, GcStr, GcUdata};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::{State, Tm};

/// One parsed conversion spec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
    conv: u8,
}

/// Parse the spec after a `%` at `fmt[start..]`. Returns the spec and the index
/// after it, or the index just past the offending byte (for the error message).
fn parse_spec(fmt: &[u8], start: usize) -> Result<(Spec, usize), usize> {
    let mut sp = Spec::default();
    let mut i = start;
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    loop {
        match at(i) {
            b'-' => sp.left = true,
            b'+' => sp.plus = true,
            b' ' => sp.space = true,
            b'#' => sp.alt = true,
            b'0' => sp.zero = true,
            _ => break,
        }
        i += 1;
    }
    // Two digits at most for width and precision; a third digit is read as the
    // conversion and rejected.
    let digits = |i: &mut usize| {
        let mut v = 0;
        for _ in 0..2 {
            if at(*i).is_ascii_digit() {
                v = v * 10 + usize::from(at(*i) - b'0');
                *i += 1;
            }
        }
        v
    };
    sp.width = digits(&mut i);
    if at(i) == b'.' {
        i += 1;
        sp.precision = Some(digits(&mut i));
    }
    sp.conv = at(i);
    if b"aAcdeEfFgGiopqsuxX".contains(&sp.conv) && i < fmt.len() {
        Ok((sp, i + 1))
    } else {
        Err((i + 1).min(fmt.len()))
    }
}

pub fn format(st: &mut State) -> LResult<usize> {
    let mut out = Buf::new(st.heap_ref());
    format_into(st, 1, &mut out, None, &mut |_, _| Ok(()))?;
    // Building `out` was paid piece by piece; interning it is paid here.
    super::string::push_charged(st, out.as_slice(), false)?;
    Ok(1)
}

/// Format with the format string in argument `fmt_arg` and the values after it,
/// onto `out`: `string.format` (argument 1) and a string buffer's `putf` (argument
/// 2, `target` the buffer). `flush` is called with `out` before any `__tostring`
/// runs, so that `putf` can move the text formatted so far into its buffer first
/// (LuaJIT formats straight into it, and a `__tostring` may write to it too).
/// A string buffer argument of `%s`/`%q` is used as its contents; `target` itself
/// is "cannot put buffer into itself".
pub fn format_into(
    st: &mut State,
    fmt_arg: usize,
    out: &mut Buf,
    target: Option<GcRef<GcUdata>>,
    flush: &mut dyn FnMut(&mut State, &mut Buf) -> LResult<()>,
) -> LResult<()> {
    let fs: GcRef<GcStr> = st.check_string(fmt_arg)?;
    // The format string stays rooted in its argument slot while `__tostring` runs.
    let fmt = fs.as_bytes();
    let mut arg = fmt_arg;
    let mut i = 0;
    while i < fmt.len() {
        let rest = fmt.get(i..).unwrap_or(&[]);
        let lit = rest.iter().position(|&b| b == b'%').unwrap_or(rest.len());
        st.charge_bytes(lit)?;
        out.extend(rest.get(..lit).unwrap_or(&[]))?;
        i += lit;
        if i >= fmt.len() {
            break;
        }
        if fmt.get(i + 1) == Some(&b'%') {
            out.push(b'%')?;
            i += 2;
            continue;
        }
        let sp = match parse_spec(fmt, i + 1) {
            Ok((sp, next)) => {
                i = next;
                sp
            }
            Err(end) => {
                // The message quotes the spec as a C string would show it: up to a NUL.
                let text = fmt.get(i..end).unwrap_or(&[]);
                let text = text.split(|&b| b == 0).next().unwrap_or(&[]);
                return Err(st.rt_error_fmt(crate::errmsg::FORMAT_OPTION, &[text]));
            }
        };
        arg += 1;
        if arg > st.arg_count() {
            return Err(st.arg_error(arg, crate::errmsg::VALUE_EXPECTED));
        }
        let v = st.arg(arg);
        if let Some(s) = v.as_string() {
            // `%s` and `%q` copy (or escape) the whole string.
            st.charge_bytes(s.len())?;
        } else if let Some(u) = buffer::as_buffer(v) {
            st.charge_bytes(buffer::contents(u).len())?;
        }
        convert(st, out, &sp, arg, target, flush)?;
    }
    Ok(())
}

/// Format argument `arg` by `sp` onto `out` (see [`format_into`] for the others).
fn convert(
    st: &mut State,
    out: &mut Buf,
    sp: &Spec,
    arg: usize,
    target: Option<GcRef<GcUdata>>,
    flush: &mut dyn FnMut(&mut State, &mut Buf) -> LResult<()>,
) -> LResult<()> {
    match sp.conv {
        b'd' | b'i' => {
            // A 64-bit integer cdata prints its value (LuaJIT with the FFI).
            if let Some((bits, unsigned)) = crate::ffi::cmeta::int64_value(st, st.arg(arg)) {
                let neg = !unsigned && (bits as i64) < 0;
                let mag = if unsigned { bits } else { (bits as i64).unsigned_abs() };
                return put_int(out, sp, neg, mag, 10, false);
            }
            let n = st.check_number(arg)?;
            let v = num_to_i64(n);
            put_int(out, sp, v < 0, v.unsigned_abs(), 10, false)
        }
        b'u' | b'o' | b'x' | b'X' => {
            let v = match crate::ffi::cmeta::int64_value(st, st.arg(arg)) {
                Some((bits, _)) => bits,
                None => num_to_u64(st.check_number(arg)?),
            };
            let base = match sp.conv {
                b'o' => 8,
                b'u' => 10,
                _ => 16,
            };
            put_int(out, sp, false, v, base, sp.conv == b'X')
        }
        b'c' => {
            let c = check_int(st, arg)?;
            // Only the low byte is kept, as C's `(unsigned char)` conversion does.
            put_padded(out, sp, &[c as u8])
        }
        b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => {
            let n = st.check_number(arg)?;
            let conv = match sp.conv.to_ascii_lowercase() {
                b'e' => FloatConv::Exp,
                b'f' => FloatConv::Fixed,
                b'g' => FloatConv::General,
                _ => FloatConv::Hex,
            };
            let spec = FloatSpec {
                conv,
                precision: sp.precision,
                width: sp.width,
                upper: sp.conv.is_ascii_uppercase(),
                left: sp.left,
                plus: sp.plus,
                space: sp.space,
                alt: sp.alt,
                zero: sp.zero,
            };
            let mut buf = [0u8; FMT_FLOAT_BUF];
            let len = fmt_float(n, &spec, &mut buf);
            Ok(out.extend(buf.get(..len).unwrap_or(&[]))?)
        }
        b's' => {
            let b = to_text(st, out, arg, target, flush)?;
            let b = match sp.precision {
                Some(p) => b.get(..p.min(b.len())).unwrap_or(b),
                None => b,
            };
            put_padded(out, sp, b)
        }
        b'q' => {
            let b = to_text(st, out, arg, target, flush)?;
            put_quoted(out, b)
        }
        b'p' => {
            let v = st.arg(arg);
            let addr = match v.as_gc() {
                Some(g) => g.as_ptr() as usize,
                None => v.as_light_userdata().unwrap_or(0),
            };
            put_pointer(out, addr)
        }
        _ => Ok(()),
    }
}

/// LuaJIT's number-to-unsigned conversion for `%u %o %x %X`: values from 2^63 on are
/// taken modulo 2^64 (through a signed conversion of `n - 2^64`).
fn num_to_u64(n: f64) -> u64 {
    if n >= 9223372036854775808.0 {
        num_to_i64(n - 18446744073709551616.0) as u64
    } else {
        num_to_i64(n) as u64
    }
}

/// Argument `arg` as `%s` shows it: strings and numbers directly, string buffers
/// as their contents, others through `__tostring` when present (once; its result
/// goes through the same steps without metamethods), else their plain `tostring`
/// form. The bytes stay valid while the argument slot holds the value.
fn to_text<'a>(
    st: &mut State,
    out: &mut Buf,
    arg: usize,
    target: Option<GcRef<GcUdata>>,
    flush: &mut dyn FnMut(&mut State, &mut Buf) -> LResult<()>,
) -> LResult<&'a [u8]> {
    let mut v = st.arg(arg);
    if !v.is_string() && !v.is_number() && buffer::as_buffer(v).is_none() {
        let h = st.tm_of(v, Tm::Tostring);
        if !h.is_nil() {
            flush(st, out)?;
            v = st.call_sync(h, &[v])?;
            // Kept in the argument slot: rooted while its bytes are used.
            st.set_arg(arg, v);
        }
    }
    if let Some(u) = buffer::as_buffer(v) {
        if target == Some(u) {
            // LuaJIT numbers this argument one past its position.
            return Err(st.arg_error(arg + 1, crate::errmsg::BUFFER_INTO_ITSELF));
        }
        return Ok(buffer::contents(u));
    }
    let s = st.tostring_raw(v)?;
    // Rooted in the argument slot (a no-op when it is the argument itself).
    st.set_arg(arg, Value::string(s));
    // SAFETY: strings never move and are immutable, and `s` is rooted in the slot.
    Ok(unsafe { &*(s.as_bytes() as *const [u8]) })
}

/// Pad `body` to the spec's width with spaces (left- or right-aligned).
fn put_padded(out: &mut Buf, sp: &Spec, body: &[u8]) -> LResult<()> {
    let pad = sp.width.saturating_sub(body.len());
    if !sp.left {
        out.fill(b' ', pad)?;
    }
    out.extend(body)?;
    if sp.left {
        out.fill(b' ', pad)?;
    }
    Ok(())
}

/// C's integer conversion: sign, `#` prefix, precision (minimum digits, and `.0`
/// of zero prints no digits), then width with spaces or (flag `0`, no precision)
/// zeros after the sign and prefix.
fn put_int(out: &mut Buf, sp: &Spec, neg: bool, mag: u64, base: u64, upper: bool) -> LResult<()> {
    let digits_of: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut tmp = [0u8; 64];
    let mut n = 0;
    let mut v = mag;
    while v != 0 {
        if let (Some(slot), Some(&d)) = (tmp.get_mut(n), digits_of.get((v % base) as usize)) {
            *slot = d;
        }
        n += 1;
        v /= base;
    }
    // Digits are in reverse order in tmp[..n]. Zero has one digit unless precision 0.
    if mag == 0 && sp.precision != Some(0) {
        tmp[0] = b'0';
        n = 1;
    }
    let prec = sp.precision.unwrap_or(0);
    let mut zeros = prec.saturating_sub(n);
    let signed = matches!(sp.conv, b'd' | b'i');
    let sign: &[u8] = if neg {
        b"-"
    } else if signed && sp.plus {
        b"+"
    } else if signed && sp.space {
        b" "
    } else {
        b""
    };
    let prefix: &[u8] = match sp.conv {
        b'x' if sp.alt && mag != 0 => b"0x",
        b'X' if sp.alt && mag != 0 => b"0X",
        // `#o` makes sure the number starts with a 0.
        b'o' if sp.alt && zeros == 0 && (n == 0 || tmp.get(n - 1) != Some(&b'0')) => {
            zeros = 1;
            b""
        }
        _ => b"",
    };
    let body = sign.len() + prefix.len() + zeros + n;
    let pad = sp.width.saturating_sub(body);
    if sp.left {
        out.extend(sign)?;
        out.extend(prefix)?;
    } else if sp.zero && sp.precision.is_none() {
        out.extend(sign)?;
        out.extend(prefix)?;
        zeros += pad;
    } else {
        out.fill(b' ', pad)?;
        out.extend(sign)?;
        out.extend(prefix)?;
    }
    out.fill(b'0', zeros)?;
    for k in (0..n).rev() {
        out.push(tmp.get(k).copied().unwrap_or(b'0'))?;
    }
    if sp.left {
        out.fill(b' ', pad)?;
    }
    Ok(())
}

/// `%q`: a double-quoted string that reads back as the same bytes.
fn put_quoted(out: &mut Buf, s: &[u8]) -> LResult<()> {
    out.push(b'"')?;
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'"' | b'\\' => out.extend(&[b'\\', c])?,
            b'\n' => out.extend(b"\\\n")?,
            c if c < 0x20 || c == 0x7f => {
                // A following digit would be read as part of the escape, so then all
                // three digits are written.
                let next_digit = s.get(i + 1).is_some_and(u8::is_ascii_digit);
                let text = if next_digit {
                    format!("\\{c:03}")
                } else {
                    format!("\\{c}")
                };
                out.extend(text.as_bytes())?;
            }
            _ => out.push(c)?,
        }
    }
    Ok(out.push(b'"')?)
}

/// `%p`: `0x` and the address in hex, at least 8 digits, more in steps of two as the
/// upper half of a 64-bit address needs them (LuaJIT's layout); `NULL` for 0.
fn put_pointer(out: &mut Buf, addr: usize) -> LResult<()> {
    if addr == 0 {
        return Ok(out.extend(b"NULL")?);
    }
    let a = addr as u64;
    let hi = a >> 32;
    let digits = if hi == 0 {
        8
    } else {
        let top_bit = 63 - hi.leading_zeros() as usize;
        10 + 2 * (top_bit / 8)
    };
    let text = format!("0x{a:0digits$x}");
    Ok(out.extend(text.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parsing() {
        let p = |s: &str| parse_spec(s.as_bytes(), 1);
        assert_eq!(p("%5.2f").map(|x| (x.0.width, x.0.precision, x.1)), Ok((5, Some(2), 5)));
        assert_eq!(
            p("%-+ #0d").map(|x| (x.0.left, x.0.plus, x.0.space, x.0.alt, x.0.zero)),
            Ok((true, true, true, true, true))
        );
        assert_eq!(p("%--5d").map(|x| (x.0.left, x.0.width)), Ok((true, 5)));
        assert_eq!(p("%.d").map(|x| x.0.precision), Ok(Some(0)));
        assert_eq!(p("%123d"), Err(4));
        assert_eq!(p("%12.123f"), Err(7));
        assert_eq!(p("%y"), Err(2));
        assert_eq!(p("%"), Err(1));
        assert_eq!(p("%-"), Err(2));
        assert_eq!(p("%5%"), Err(3));
    }

    #[test]
    fn unsigned_conversion() {
        assert_eq!(num_to_u64(-1.0), u64::MAX);
        assert_eq!(num_to_u64(18446744073709551616.0), 0);
        assert_eq!(num_to_u64(18446744073709555712.0), 4096);
        assert_eq!(num_to_u64(9223372036854775808.0), 1 << 63);
        assert_eq!(num_to_u64(f64::NAN), 1 << 63);
        assert_eq!(num_to_u64(f64::INFINITY), 1 << 63);
        assert_eq!(num_to_u64(1e300), 1 << 63);
    }
}
