//! The `math` library, as LuaJIT 2.1 ships it (Lua 5.1's functions plus `log` with
//! an optional base; no `math.mod`).
//!
//! Results follow LuaJIT bit for bit where it matters to scripts: `min`/`max` treat
//! NaN and signed zeros the way the x86 `minsd`/`maxsd` instructions that LuaJIT
//! uses do, `modf` keeps the sign on the fraction, `log(x, b)` is computed through
//! `log2`, and `random` uses a combined Tausworthe generator seeded the way LuaJIT
//! seeds its own, so the sequence for a given seed is the same.

use crate::object::{GcRef, GcUdata};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 32)?;
    super::open_funcs(st, super::Lib::Math, t)?;
    for (name, v) in [("pi", std::f64::consts::PI), ("huge", f64::INFINITY)] {
        let k = st.str_value(name.as_bytes())?;
        st.table_set(t, k, Value::number(v))?;
    }
    // The generator state lives in a userdata shared as an upvalue by `random` and
    // `randomseed`: it is per Lua state, needs no field in `State`, and is
    // collected with the functions.
    let ud = st.new_userdata(RNG_BYTES)?;
    for (name, fv) in generator_functions(st, ud)? {
        let k = st.str_value(name.as_bytes())?;
        st.table_set(t, k, Value::function(fv))?;
    }
    st.set_global("math", Value::table(t))
}

/// `random` and `randomseed` over the generator state in userdata `ud`.
fn generator_functions(st: &mut State, ud: GcRef<GcUdata>) -> LResult<[(&'static str, GcRef<crate::func::GcFunc>); 2]> {
    let udv = Value::userdata(ud);
    let mut make = |name: &'static str, ffid: u16| -> LResult<_> {
        let fv = super::new_func(st, ffid, 1)?;
        if let Some(slot) = fv.native_upvals().first_mut() {
            *slot = udv;
        }
        crate::gc::barrier_forward(st, fv.header(), udv);
        Ok((name, fv))
    };
    // A sandbox's copies have the library's ids, so they print as the real ones do.
    Ok([
        make("random", super::FF_MATH_RANDOM)?,
        make("randomseed", super::FF_MATH_RANDOMSEED)?,
    ])
}

/// `new_generator([seed])` (for sandboxes, not a library function): a new, private
/// generator, returned as its `random` and `randomseed` functions. With a number
/// `seed` it starts as `math.randomseed(seed)` would leave it (reproducible, the same
/// sequence as LuaJIT's for that seed); without one it starts from the system's
/// randomness (std's `RandomState`: keys from the OS, `getrandom` on Linux, through
/// SipHash), so no script can predict it.
pub fn new_generator(st: &mut State) -> LResult<usize> {
    let seed = st.arg(1);
    let seed = if seed.is_nil() { None } else { Some(st.check_number(1)?) };
    let ud = st.new_userdata(RNG_BYTES)?;
    let mut rng = Rng {
        z: [0; 4],
        seeded: false,
    };
    match seed {
        Some(d) => rng.seed(d),
        None => rng.seed_words(entropy_words()),
    }
    rng.store(ud);
    for (_, fv) in generator_functions(st, ud)? {
        st.push(Value::function(fv))?;
    }
    Ok(2)
}

/// Four words from the system's randomness.
fn entropy_words() -> [u64; 4] {
    use std::hash::BuildHasher;
    let rs = std::collections::hash_map::RandomState::new();
    [0u64, 1, 2, 3].map(|i| rs.hash_one(i ^ 0x6d61_7468_7261_6e64))
}

/// Push one number result.
fn ret(st: &mut State, n: f64) -> LResult<usize> {
    st.push(Value::number(n))?;
    Ok(1)
}

macro_rules! unary {
    ($($name:ident => $f:expr;)*) => {
        $(
            pub(crate) fn $name(st: &mut State) -> LResult<usize> {
                let x = st.check_number(1)?;
                let f: fn(f64) -> f64 = $f;
                ret(st, f(x))
            }
        )*
    };
}

unary! {
    abs => f64::abs;
    floor => f64::floor;
    ceil => luajit_ceil;
    sqrt => f64::sqrt;
    log10 => f64::log10;
    exp => f64::exp;
    sin => f64::sin;
    cos => f64::cos;
    tan => f64::tan;
    asin => f64::asin;
    acos => f64::acos;
    // LuaJIT's `atan` takes one argument; a second one is ignored (no `atan(y, x)`).
    atan => f64::atan;
    sinh => f64::sinh;
    cosh => f64::cosh;
    tanh => f64::tanh;
}

/// `ceil` as LuaJIT's SSE rounding computes it: round `|x|` to an integer, put the
/// sign back, and add 1 if that is below `x`. For `x` in (-1, -0.5) the rounded value
/// is -1 and adding 1 gives +0, where C's `ceil` gives -0; `-0.5` and (-0.5, 0) round
/// to -0 and stay -0.
fn luajit_ceil(x: f64) -> f64 {
    let c = x.ceil();
    if c == 0.0 && x < -0.5 {
        0.0
    } else {
        c
    }
}

/// `deg` and `rad` are written in Lua in LuaJIT (`x * factor`), so a bad argument
/// is an arithmetic error raised inside that builtin, not a "bad argument" error.
fn scale(st: &mut State, name: &str, factor: f64) -> LResult<usize> {
    let v = st.arg(1);
    match st.to_number(v) {
        Some(x) => ret(st, x * factor),
        None => {
            let tn = crate::vm::meta::type_name(v);
            let pos = format!("[builtin:{name}]:0:");
            let msg = crate::errmsg::Parts::new(
                crate::errmsg::OP_ON_VALUE,
                &[crate::errmsg::OP_ARITH.as_bytes(), tn.as_bytes()],
            );
            Err(st.error_at(Some(&pos), &msg))
        }
    }
}

// One multiplication by a constant, as LuaJIT does, so the last bit agrees
// (`to_degrees` may round differently).
pub(crate) fn deg(st: &mut State) -> LResult<usize> {
    scale(st, "deg", 180.0 / std::f64::consts::PI)
}

pub(crate) fn rad(st: &mut State) -> LResult<usize> {
    scale(st, "rad", std::f64::consts::PI / 180.0)
}

pub(crate) fn atan2(st: &mut State) -> LResult<usize> {
    let y = st.check_number(1)?;
    let x = st.check_number(2)?;
    ret(st, y.atan2(x))
}

pub(crate) fn pow(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    let y = st.check_number(2)?;
    ret(st, crate::number::lua_pow(x, y))
}

pub(crate) fn fmod(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    let y = st.check_number(2)?;
    // Rust's `%` on floats is C's `fmod` (truncated remainder, sign of `x`).
    ret(st, x % y)
}

/// `log(x)` or, with a base, `log2(x) * (1 / log2(b))`: LuaJIT computes it this
/// way (not `ln x / ln b`), which makes `log(8, 2)` exactly 3 and fixes the results
/// for the special cases (`log(2, 0)` is -0, `log(1, 1)` is nan).
pub(crate) fn log(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    if st.arg_count() >= 2 {
        let b = st.check_number(2)?;
        return ret(st, x.log2() * (1.0 / b.log2()));
    }
    ret(st, x.ln())
}

pub(crate) fn modf(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    let (ip, fp) = split_modf(x);
    st.push(Value::number(ip))?;
    st.push(Value::number(fp))?;
    Ok(2)
}

/// C's `modf`: the integral part rounded toward zero and a fraction with the sign of
/// `x` (`modf(-5)` is `-5, -0`; `modf(inf)` is `inf, 0`).
fn split_modf(x: f64) -> (f64, f64) {
    let ip = x.trunc();
    let fp = if x.is_infinite() { 0.0 } else { x - ip };
    (ip, fp.copysign(x))
}

pub(crate) fn frexp(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    let (m, e) = split_frexp(x);
    st.push(Value::number(m))?;
    st.push(Value::number(e as f64))?;
    Ok(2)
}

/// C's `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1`; zero, infinities and NaN come
/// back unchanged with exponent 0.
fn split_frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let mut bits = x.to_bits();
    let mut bias = 0;
    if (bits >> 52) & 0x7ff == 0 {
        // Subnormal: scale into the normal range first so the exponent field is set.
        bits = (x * f64::from_bits(0x4350_0000_0000_0000)).to_bits(); // 2^54
        bias = 54;
    }
    let exp = ((bits >> 52) & 0x7ff) as i32;
    // Replace the exponent with the one of [0.5, 1) (biased 1022).
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022 - bias)
}

pub(crate) fn ldexp(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    let e = st.check_number(2)?;
    // The exponent is an integer argument: truncated toward zero. Anything beyond
    // +-4000 already saturates to 0 or inf for every finite x.
    let e = if e.is_nan() {
        0
    } else {
        e.trunc().clamp(-4000.0, 4000.0) as i32
    };
    ret(st, scale_by_pow2(x, e))
}

/// `x * 2^e` rounded once, like C's `scalbn`. Large steps are taken with exact
/// power-of-two factors; on the way down the last step is arranged so the only
/// rounding happens when the result becomes subnormal.
fn scale_by_pow2(mut x: f64, mut e: i32) -> f64 {
    let p2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    while e > 1023 {
        x *= p2(1023);
        e -= 1023;
        if x.is_infinite() {
            return x;
        }
    }
    // Step down by 2^-969 (= 2^-1022 * 2^53) so that intermediate results stay
    // normal (exact) until the final multiplication.
    while e < -1022 {
        x *= p2(-969);
        e += 969;
        if x == 0.0 {
            return x;
        }
    }
    x * p2(e)
}

fn minmax(st: &mut State, want_max: bool) -> LResult<usize> {
    let mut r = st.check_number(1)?;
    for i in 2..=st.arg_count() {
        let v = st.check_number(i)?;
        // The x86 `maxsd`/`minsd` rule: keep `r` only if it compares strictly
        // greater (smaller); otherwise take `v`. So a NaN in either place yields the
        // second operand and `max(0, -0)` is -0, as in LuaJIT.
        let keep = if want_max { r > v } else { r < v };
        if !keep {
            r = v;
        }
    }
    ret(st, r)
}

pub(crate) fn min(st: &mut State) -> LResult<usize> {
    minmax(st, false)
}

pub(crate) fn max(st: &mut State) -> LResult<usize> {
    minmax(st, true)
}

// --- random -----------------------------------------------------------------------

/// Generator state: four 64-bit components and a "seeded" flag.
const RNG_BYTES: usize = 40;

/// The four component generators of the combined Tausworthe generator (L'Ecuyer,
/// "Tables of maximally equidistributed combined LFSR generators", 1999; the
/// 64-bit, period ~2^223 combination): `(k, q, s)` per component, where `k` is the
/// number of significant state bits.
const TAUS: [(u32, u32, u32); 4] = [(63, 31, 18), (58, 19, 28), (55, 24, 7), (47, 21, 8)];

#[derive(Clone, Copy)]
struct Rng {
    z: [u64; 4],
    seeded: bool,
}

impl Rng {
    fn load(ud: GcRef<GcUdata>) -> Rng {
        let mut words = [0u64; 5];
        let p = ud.payload() as *const u64;
        for (i, w) in words.iter_mut().enumerate() {
            // SAFETY: the payload holds RNG_BYTES (= 5 words) bytes and is 16-aligned;
            // it is only ever written by `store` below (or zeroed at creation).
            *w = unsafe { p.add(i).read() };
        }
        Rng {
            z: [words[0], words[1], words[2], words[3]],
            seeded: words[4] != 0,
        }
    }

    fn store(&self, ud: GcRef<GcUdata>) {
        let words = [self.z[0], self.z[1], self.z[2], self.z[3], self.seeded as u64];
        let p = ud.payload() as *mut u64;
        for (i, w) in words.iter().enumerate() {
            // SAFETY: as in `load`; nothing else aliases the payload while a native
            // function runs.
            unsafe { p.add(i).write(*w) };
        }
    }

    /// Advance every component one step and combine them by xor.
    fn next_u64(&mut self) -> u64 {
        let mut out = 0;
        for (z, &(k, q, s)) in self.z.iter_mut().zip(TAUS.iter()) {
            let feedback = ((*z << q) ^ *z) >> (k - s);
            *z = ((*z & (u64::MAX << (64 - k))) << s) ^ feedback;
            out ^= *z;
        }
        out
    }

    /// A double in [0, 1): 52 random bits placed in the mantissa of a number in
    /// [1, 2), minus one (what LuaJIT returns, so values are multiples of 2^-52).
    fn next_f64(&mut self) -> f64 {
        let bits = (self.next_u64() & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000;
        f64::from_bits(bits) - 1.0
    }

    /// Derive the four components from one number: a chain `d = d*pi + e` whose bit
    /// patterns become the states. A component whose significant bits would all be
    /// zero is stuck at zero, so such a state gets its lowest significant bit set.
    /// Then a few steps are discarded to mix the seed in. This reproduces LuaJIT's
    /// sequences for the same seed.
    fn seed(&mut self, mut d: f64) {
        let mut words = [0u64; 4];
        for w in words.iter_mut() {
            d = d * std::f64::consts::PI + std::f64::consts::E;
            *w = d.to_bits();
        }
        self.seed_words(words);
    }

    /// Start from four arbitrary words: a component whose significant (top `k`) bits
    /// would all be zero is stuck at zero, so such a state gets its lowest significant
    /// bit set; then a few steps are discarded to mix the words in.
    fn seed_words(&mut self, words: [u64; 4]) {
        for ((z, &(k, _, _)), u) in self.z.iter_mut().zip(TAUS.iter()).zip(words) {
            let low = 1u64 << (64 - k);
            *z = if u < low { u + low } else { u };
        }
        self.seeded = true;
        for _ in 0..10 {
            self.next_u64();
        }
    }
}

fn rng_userdata(st: &mut State) -> LResult<GcRef<GcUdata>> {
    match st.native_upval(0).as_userdata() {
        Some(u) if u.len >= RNG_BYTES => Ok(u),
        _ => Err(st.rt_error(crate::errmsg::INTERNAL_RANDOM_STATE)),
    }
}

/// `random()` in [0, 1); `random(m)` in [1, m]; `random(m, n)` in [m, n]. As in
/// LuaJIT the bounds are not checked (`random(0)` is 1, `random(2, 1)` is 2, extra
/// arguments are ignored) and fractional bounds are used as they are. The generator
/// steps before the arguments are checked, as in LuaJIT.
pub(crate) fn random(st: &mut State) -> LResult<usize> {
    let ud = rng_userdata(st)?;
    let mut rng = Rng::load(ud);
    if !rng.seeded {
        rng.seed(0.0);
    }
    let mut d = rng.next_f64();
    rng.store(ud);
    let n = st.arg_count();
    if n >= 1 {
        let lo = st.check_number(1)?;
        if n == 1 {
            d = (d * lo).floor() + 1.0;
        } else {
            let hi = st.check_number(2)?;
            d = (d * (hi - lo + 1.0)).floor() + lo;
        }
    }
    ret(st, d)
}

pub(crate) fn randomseed(st: &mut State) -> LResult<usize> {
    let x = st.check_number(1)?;
    let ud = rng_userdata(st)?;
    let mut rng = Rng::load(ud);
    rng.seed(x);
    rng.store(ud);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_c() {
        assert_eq!(split_frexp(8.0), (0.5, 4));
        assert_eq!(split_frexp(-0.75), (-0.75, 0));
        assert_eq!(split_frexp(-3.0), (-0.75, 2));
        assert_eq!(split_frexp(5e-324), (0.5, -1073));
        let (m, e) = split_frexp(1e-310);
        assert_eq!(scale_by_pow2(m, e), 1e-310);
        assert_eq!(split_frexp(f64::INFINITY), (f64::INFINITY, 0));
        assert!(split_frexp(f64::NAN).0.is_nan());
        assert!(split_frexp(-0.0).0.is_sign_negative());
    }

    #[test]
    fn ldexp_rounds_once() {
        assert_eq!(scale_by_pow2(1.0, 10), 1024.0);
        assert_eq!(scale_by_pow2(1.0, 1024), f64::INFINITY);
        assert_eq!(scale_by_pow2(1.0, -1075), 0.0);
        assert_eq!(scale_by_pow2(3.0, -1074), 3.0 * 5e-324);
        assert_eq!(scale_by_pow2(5e-324, 2097), 2f64.powi(1023));
        assert_eq!(scale_by_pow2(f64::MAX, -2100), 0.0);
        assert_eq!(scale_by_pow2(f64::MAX, -2098), 5e-324);
        // Ties in the subnormal range round to even, and only once.
        assert_eq!(scale_by_pow2(1.5, -1074), 1e-323);
        assert_eq!(scale_by_pow2(1.0, -1075), 0.0);
        assert_eq!(scale_by_pow2(3.0, -1075), 1e-323);
        assert_eq!(scale_by_pow2(1.0 + f64::EPSILON, -1075), 5e-324);
    }

    #[test]
    fn modf_signs() {
        assert_eq!(split_modf(3.75), (3.0, 0.75));
        let (i, f) = split_modf(-5.0);
        assert_eq!(i, -5.0);
        assert!(f == 0.0 && f.is_sign_negative());
        assert_eq!(split_modf(f64::INFINITY), (f64::INFINITY, 0.0));
        let (_, f) = split_modf(f64::NEG_INFINITY);
        assert!(f == 0.0 && f.is_sign_negative());
    }

    #[test]
    fn random_matches_luajit_default_seed() {
        let mut r = Rng {
            z: [0; 4],
            seeded: false,
        };
        r.seed(0.0);
        // `luajit -e 'print(string.format("%.17g", math.random()))'`
        assert_eq!(r.next_f64(), 0.794_206_292_431_241);
    }

    #[test]
    fn random_in_unit_interval() {
        let mut r = Rng {
            z: [0; 4],
            seeded: false,
        };
        r.seed(123.0);
        for _ in 0..10_000 {
            let d = r.next_f64();
            assert!((0.0..1.0).contains(&d));
        }
    }
}
