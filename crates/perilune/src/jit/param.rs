//! The one list of JIT optimisation flags and parameters, and the parser of the
//! pieces `jit.opt.start` and the command's `-O` take.
//!
//! Names, order and defaults are LuaJIT 2.1's, so `-O` lines written for luajit work
//! unchanged. The JIT (`crate::jit::Jit`) keeps a [`FLAGS`] bit set and a
//! [`PARAMS`]-indexed array and applies each parsed [`Opt`] to them
//! (`State::jit_apply`, called by `jit.opt.start`). The `perilune` command reaches
//! this list only through `jit.opt.start` (docs/cli.md), so there is no second copy.

/// The optimisation flags, as `-O+name`/`-O-name`/`-Ono-name` spell them. Bit `i` of a
/// flag set is `FLAGS[i]`.
pub const FLAGS: [&str; 10] = [
    "fold", "cse", "dce", "fwd", "dse", "narrow", "loop", "abc", "sink", "fuse",
];

/// The numeric parameters (`-Oname=N`) with their defaults.
pub const PARAMS: [(&str, i32); 15] = [
    ("maxtrace", 1000),
    ("maxrecord", 4000),
    ("maxirconst", 500),
    ("maxside", 100),
    ("maxsnap", 500),
    ("minstitch", 0),
    ("hotloop", 56),
    ("hotexit", 10),
    ("tryside", 4),
    ("instunroll", 4),
    ("loopunroll", 15),
    ("callunroll", 3),
    ("recunroll", 2),
    ("sizemcode", 64),
    ("maxmcode", 2048),
];

/// Flag bits of level `-O0` .. `-O3` (levels above 3 are level 3).
pub const LEVELS: [u32; 4] = [0, LEVEL1, LEVEL1 | LEVEL2, LEVEL1 | LEVEL2 | LEVEL3];
const LEVEL1: u32 = bit("fold") | bit("cse") | bit("dce");
const LEVEL2: u32 = bit("narrow") | bit("loop");
const LEVEL3: u32 = bit("fwd") | bit("dse") | bit("abc") | bit("sink") | bit("fuse");

/// The bit of flag `name` (a compile error if there is no such flag).
const fn bit(name: &str) -> u32 {
    let mut i = 0;
    while i < FLAGS.len() {
        if eq(FLAGS[i].as_bytes(), name.as_bytes()) {
            return 1 << i;
        }
        i += 1;
    }
    panic!("no such flag")
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// One parsed piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    /// `-O0` .. `-O9`: the flag set of that level.
    Level(u32),
    /// `-Oname`, `-O+name` (on) or `-O-name`, `-Ononame`, `-Ono-name` (off): flag
    /// index into [`FLAGS`].
    Flag(usize, bool),
    /// `-Oname=digits`: parameter index into [`PARAMS`] and value (no digits is 0, and
    /// the value wraps like LuaJIT's `int32_t`).
    Param(usize, i32),
}

/// Parse one piece, or `None` when it is unknown or malformed.
pub fn parse(s: &[u8]) -> Option<Opt> {
    if let [d @ b'0'..=b'9'] = s {
        return Some(Opt::Level(LEVELS[usize::from(d - b'0').min(3)]));
    }
    let (name, on) = match s {
        [b'+', rest @ ..] => (rest, true),
        [b'-', rest @ ..] => (rest, false),
        [b'n', b'o', b'-', rest @ ..] | [b'n', b'o', rest @ ..] => (rest, false),
        _ => (s, true),
    };
    if let Some(i) = FLAGS.iter().position(|f| f.as_bytes() == name) {
        return Some(Opt::Flag(i, on));
    }
    let eq = s.iter().position(|&b| b == b'=')?;
    let (name, digits) = (&s[..eq], &s[eq + 1..]);
    let i = PARAMS.iter().position(|(p, _)| p.as_bytes() == name)?;
    let mut n = 0i32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.wrapping_mul(10).wrapping_add(i32::from(d - b'0'));
    }
    Some(Opt::Param(i, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_flags_and_params() {
        assert_eq!(parse(b"0"), Some(Opt::Level(0)));
        assert_eq!(parse(b"9"), Some(Opt::Level(LEVELS[3])));
        assert_eq!(parse(b"1"), Some(Opt::Level(0b111)));
        assert!(parse(b"10").is_none() && parse(b"").is_none());
        for (ok, on) in [
            ("fold", true),
            ("+cse", true),
            ("-dce", false),
            ("nofwd", false),
            ("no-dse", false),
        ] {
            assert!(matches!(parse(ok.as_bytes()), Some(Opt::Flag(_, o)) if o == on), "{ok}");
        }
        assert_eq!(parse(b"fuse"), Some(Opt::Flag(9, true)));
        for bad in ["nofoo", "no", "+", "fold2", "no+fold", "+hotloop=1", "nohotloop=1"] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse(b"hotloop=10"), Some(Opt::Param(6, 10)));
        assert_eq!(parse(b"hotloop="), Some(Opt::Param(6, 0)));
        assert_eq!(parse(b"minstitch=0"), Some(Opt::Param(5, 0)));
        for bad in ["hotloop=-1", "hotloop", "foo=1", "hotloop=1x"] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad}");
        }
    }
}
