//! LuaJIT's `bit` module: 32-bit bitwise operations on Lua numbers.
//!
//! Every argument is converted with LuaJIT's rule: add 2^52 + 2^51 to the number and
//! keep the low 32 bits of the sum's bit pattern as a signed integer. For numbers
//! that are integers in the i32 or u32 range this is the plain conversion (modulo
//! 2^32); fractions round to nearest with ties to even (`tobit(2.5) == 2`), and
//! infinities and NaN give 0. Results are always signed 32-bit values, so
//! `bit.tobit(0xffffffff) == -1`. Strings that look like numbers are accepted, as
//! with all of LuaJIT's number arguments. Shift counts use their low five bits.

use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 16)?;
    super::open_funcs(st, super::Lib::Bit, t)?;
    st.set_global("bit", Value::table(t))
}

/// LuaJIT's number-to-bit-field conversion (see the module docs). The addition
/// moves the binary point so that the integer part of the (rounded) number sits in
/// the low mantissa bits, for all magnitudes below 2^51.
pub fn num_to_bit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

/// Argument `i` as a 32-bit value ("number expected" otherwise).
fn check_bit(st: &mut State, i: usize) -> LResult<i32> {
    Ok(num_to_bit(st.check_number(i)?))
}

fn ret(st: &mut State, v: i32) -> LResult<usize> {
    st.push(Value::number(v as f64))?;
    Ok(1)
}

pub(crate) fn tobit(st: &mut State) -> LResult<usize> {
    let v = check_bit(st, 1)?;
    ret(st, v)
}

pub(crate) fn bnot(st: &mut State) -> LResult<usize> {
    if let Some(u) = wide(st, 1, 1) {
        let v = check_wide(st, 1)?;
        return ret_wide(st, !v, u);
    }
    let v = check_bit(st, 1)?;
    ret(st, !v)
}

pub(crate) fn bswap(st: &mut State) -> LResult<usize> {
    if let Some(u) = wide(st, 1, 1) {
        let v = check_wide(st, 1)?;
        return ret_wide(st, v.swap_bytes(), u);
    }
    let v = check_bit(st, 1)?;
    ret(st, v.swap_bytes())
}

// --- 64-bit operands (LuaJIT with the FFI): an int64_t/uint64_t cdata among the
// arguments makes the operation 64 bits wide; numbers are then converted to
// int64_t, shift counts use their low six bits, and the result is an int64_t
// cdata (uint64_t if a `uint64_t` took part; for shifts, the first argument's type).

/// `Some(unsigned)` if an argument from `from` on is a 64-bit integer cdata.
fn wide(st: &State, from: usize, to: usize) -> Option<bool> {
    let mut any = None;
    for i in from..=to.min(st.arg_count()) {
        if let Some((_, u)) = crate::ffi::cmeta::int64_value(st, st.arg(i)) {
            any = Some(any.unwrap_or(false) || u);
        }
    }
    any
}

/// Argument `i` as 64 bits.
fn check_wide(st: &mut State, i: usize) -> LResult<u64> {
    if let Some((b, _)) = crate::ffi::cmeta::int64_value(st, st.arg(i)) {
        return Ok(b);
    }
    Ok(crate::ffi::conv::num_to_i64(st.check_number(i)?) as u64)
}

fn ret_wide(st: &mut State, v: u64, unsigned: bool) -> LResult<usize> {
    let r = crate::ffi::box_int64(st, v, unsigned)?;
    st.push(r)?;
    Ok(1)
}

fn fold_wide(st: &mut State, unsigned: bool, op: fn(u64, u64) -> u64) -> LResult<usize> {
    let mut acc = check_wide(st, 1)?;
    for i in 2..=st.arg_count() {
        acc = op(acc, check_wide(st, i)?);
    }
    ret_wide(st, acc, unsigned)
}

/// The variadic operations: at least one argument, folded left to right.
fn fold(st: &mut State, op: fn(i32, i32) -> i32, op64: fn(u64, u64) -> u64) -> LResult<usize> {
    if let Some(u) = wide(st, 1, usize::MAX) {
        return fold_wide(st, u, op64);
    }
    let mut acc = check_bit(st, 1)?;
    for i in 2..=st.arg_count() {
        acc = op(acc, check_bit(st, i)?);
    }
    ret(st, acc)
}

pub(crate) fn band(st: &mut State) -> LResult<usize> {
    fold(st, |a, b| a & b, |a, b| a & b)
}

pub(crate) fn bor(st: &mut State) -> LResult<usize> {
    fold(st, |a, b| a | b, |a, b| a | b)
}

pub(crate) fn bxor(st: &mut State) -> LResult<usize> {
    fold(st, |a, b| a ^ b, |a, b| a ^ b)
}

/// A 64-bit shift or rotate when the value is a 64-bit cdata: `op(value, count & 63)`.
fn shift_wide(st: &mut State, op: fn(u64, u32) -> u64) -> LResult<Option<usize>> {
    let Some(u) = wide(st, 1, 1) else { return Ok(None) };
    let v = check_wide(st, 1)?;
    let n = check_wide(st, 2)? as u32 & 63;
    ret_wide(st, op(v, n), u).map(Some)
}

/// Value and shift count (its low five bits) of the shift and rotate functions.
fn shift_args(st: &mut State) -> LResult<(i32, u32)> {
    let v = check_bit(st, 1)?;
    let n = check_bit(st, 2)? as u32 & 31;
    Ok((v, n))
}

pub(crate) fn lshift(st: &mut State) -> LResult<usize> {
    if let Some(r) = shift_wide(st, |v, n| v << n)? {
        return Ok(r);
    }
    let (v, n) = shift_args(st)?;
    ret(st, ((v as u32) << n) as i32)
}

pub(crate) fn rshift(st: &mut State) -> LResult<usize> {
    if let Some(r) = shift_wide(st, |v, n| v >> n)? {
        return Ok(r);
    }
    let (v, n) = shift_args(st)?;
    ret(st, ((v as u32) >> n) as i32)
}

pub(crate) fn arshift(st: &mut State) -> LResult<usize> {
    if let Some(r) = shift_wide(st, |v, n| ((v as i64) >> n) as u64)? {
        return Ok(r);
    }
    let (v, n) = shift_args(st)?;
    ret(st, v >> n)
}

pub(crate) fn rol(st: &mut State) -> LResult<usize> {
    if let Some(r) = shift_wide(st, |v, n| v.rotate_left(n))? {
        return Ok(r);
    }
    let (v, n) = shift_args(st)?;
    ret(st, v.rotate_left(n))
}

pub(crate) fn ror(st: &mut State) -> LResult<usize> {
    if let Some(r) = shift_wide(st, |v, n| v.rotate_right(n))? {
        return Ok(r);
    }
    let (v, n) = shift_args(st)?;
    ret(st, v.rotate_right(n))
}

/// Most digits `tohex` writes. LuaJIT 2.1 caps the count at 254 (2.1.0-beta3
/// instead wrapped counts above 254 modulo 256; only the capped form is kept).
const MAX_HEX_DIGITS: u32 = 254;

/// `tohex(x [, n])`: the low `|n|` hex digits of `x` (8 by default), zero-padded to
/// `|n|` digits; a negative `n` selects upper case. `n` is itself converted like a
/// bit argument, so `tohex(x, 1.5)` means two digits.
pub(crate) fn tohex(st: &mut State) -> LResult<usize> {
    let is_wide = wide(st, 1, 1).is_some();
    let x = if is_wide {
        check_wide(st, 1)?
    } else {
        check_bit(st, 1)? as u32 as u64
    };
    let n = if st.arg_count() < 2 {
        if is_wide {
            16
        } else {
            8
        }
    } else {
        check_bit(st, 2)?
    };
    let upper = n < 0;
    let digits = n.unsigned_abs().min(MAX_HEX_DIGITS) as usize;
    let value = if digits < 16 {
        x & ((1u64 << (4 * digits)) - 1)
    } else {
        x
    };
    let table: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut buf = [b'0'; MAX_HEX_DIGITS as usize];
    let mut v = value;
    for slot in buf[..digits].iter_mut().rev() {
        *slot = table[(v & 15) as usize];
        v >>= 4;
    }
    st.push_str(&buf[..digits])?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::num_to_bit;

    #[test]
    fn conversion_matches_luajit() {
        // Values checked against `luajit -e 'print(bit.tobit(x))'`.
        let cases: &[(f64, i32)] = &[
            (4294967297.0, 1),
            (-1.0, -1),
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (-0.5, 0),
            (-1.5, -2),
            (2147483648.0, i32::MIN),
            (4503599627370496.0, 0),
            (f64::INFINITY, 0),
            (f64::NEG_INFINITY, 0),
            (f64::NAN, 0),
            (9007199254740995.0, 2),
            (-2147483649.0, i32::MAX),
            (1e300, -2013235812),
            (4294967295.5, 0),
            (3.5, 4),
            (-3.5, -4),
        ];
        for &(x, want) in cases {
            assert_eq!(num_to_bit(x), want, "tobit({x})");
        }
    }
}
