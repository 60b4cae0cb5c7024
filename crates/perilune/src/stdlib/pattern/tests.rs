//! Unit tests of the matcher; expectations checked against LuaJIT 2.1.

use super::*;

/// `string.match` semantics: leading `^` anchors; returns the captures as text
/// (position captures as their number), or the whole match without captures.
fn m(src: &str, pat: &str) -> Result<Option<Vec<String>>, PatternError> {
    let (src, pat) = (src.as_bytes(), pat.as_bytes());
    let mut mt = Matcher::new(src, pat);
    let anchored = mt.pattern().first() == Some(&b'^');
    let p = usize::from(anchored);
    let Some((s, e)) = mt.search(0, p, anchored, &mut |_| true)? else {
        return Ok(None);
    };
    let n = mt.capture_count().max(1);
    let mut out = Vec::new();
    for i in 0..n {
        out.push(match mt.capture(i, s, e)? {
            Capture::Str(b) => String::from_utf8_lossy(b).into_owned(),
            Capture::Pos(p) => p.to_string(),
        });
    }
    Ok(Some(out))
}

fn one(src: &str, pat: &str) -> Option<String> {
    m(src, pat).unwrap().map(|v| v.join("|"))
}

fn err(src: &str, pat: &str) -> &'static str {
    m(src, pat).unwrap_err().message()
}

#[test]
fn literals_and_any() {
    assert_eq!(one("hello", "ll"), Some("ll".into()));
    assert_eq!(one("hello", "l.o"), Some("llo".into()));
    assert_eq!(one("hello", "x"), None);
    assert_eq!(one("", ""), Some("".into()));
    assert_eq!(one("abc", "^b"), None);
    assert_eq!(one("abc", "^a"), Some("a".into()));
    assert_eq!(one("abc", "c$"), Some("c".into()));
    assert_eq!(one("abc$", "c$"), None);
    assert_eq!(one("a$c", "$c"), Some("$c".into()));
    assert_eq!(one("a^b", "a^b"), Some("a^b".into()));
}

#[test]
fn classes() {
    assert_eq!(one("  x1_", "%a"), Some("x".into()));
    assert_eq!(one("abc123", "%d+"), Some("123".into()));
    assert_eq!(one("abc 123", "%S+$"), Some("123".into()));
    assert_eq!(one("a\tb", "%c"), Some("\t".into()));
    assert_eq!(one("Hello", "%l+"), Some("ello".into()));
    assert_eq!(one("hELLo", "%u+"), Some("ELL".into()));
    assert_eq!(one("a,b", "%p"), Some(",".into()));
    assert_eq!(one("x_y9", "%w+"), Some("x".into()));
    assert_eq!(one("zz0fFg", "%x+"), Some("0fF".into()));
    assert_eq!(one(" \t\n\x0b\x0c\rX", "%s+"), Some(" \t\n\x0b\x0c\r".into()));
    assert_eq!(one("  ab", "%g+"), Some("ab".into()));
    assert_eq!(one("a\0b", "%z"), Some("\0".into()));
    assert_eq!(one("\0\0b", "%Z"), Some("b".into()));
    assert_eq!(one("a.b", "%."), Some(".".into()));
    assert_eq!(one("100%", "%%"), Some("%".into()));
    assert_eq!(one("abc", "%D+"), Some("abc".into()));
    // Non-ASCII bytes belong to no class (C locale).
    assert_eq!(one("\u{e9}", "%a"), None);
}

#[test]
fn sets() {
    assert_eq!(one("hello", "[aeiou]+"), Some("e".into()));
    assert_eq!(one("hello", "[^aeiou]+"), Some("h".into()));
    assert_eq!(one("x-y", "[a-]"), Some("-".into()));
    assert_eq!(one("-", "[a-]"), Some("-".into()));
    assert_eq!(one("abc", "[b-]"), Some("b".into()));
    assert_eq!(one("]", "[]]"), Some("]".into()));
    assert_eq!(one("a]", "[^]]"), Some("a".into()));
    assert_eq!(one("^", "[a^]"), Some("^".into()));
    assert_eq!(one("z", "[z-a]"), None);
    assert_eq!(one("f9", "[%d]"), Some("9".into()));
    assert_eq!(one("a-z", "[%a-z]+"), Some("a-z".into()));
    assert_eq!(one("%]", "[%]]+"), Some("]".into()));
    assert_eq!(one("K", "[A-Z0-9_]"), Some("K".into()));
    assert_eq!(one("x", "[%W]"), None);
}

#[test]
fn quantifiers() {
    assert_eq!(one("aaab", "a*"), Some("aaa".into()));
    assert_eq!(one("baaa", "a*"), Some("".into()));
    assert_eq!(one("aaab", "a+b"), Some("aaab".into()));
    assert_eq!(one("b", "a+b"), None);
    assert_eq!(one("aaab", "a-b"), Some("aaab".into()));
    assert_eq!(one("aaab", "^a-$"), None);
    assert_eq!(one("abc", ".-b"), Some("ab".into()));
    assert_eq!(one("color colour", "colou?r"), Some("color".into()));
    assert_eq!(one("<a><b>", "<.->"), Some("<a>".into()));
    assert_eq!(one("<a><b>", "<.*>"), Some("<a><b>".into()));
    assert_eq!(one("  trim  ", "^%s*(.-)%s*$"), Some("trim".into()));
    assert_eq!(one("x", "x*()"), Some("2".into()));
}

#[test]
fn captures() {
    assert_eq!(one("key=val", "(%w+)=(%w+)"), Some("key|val".into()));
    assert_eq!(one("hello", "()ll()"), Some("3|5".into()));
    assert_eq!(one("abc", "((b)c)"), Some("bc|b".into()));
    assert_eq!(one("abcabc", "(abc)%1"), Some("abc".into()));
    assert_eq!(one("abcabd", "(abc)%1"), None);
    assert_eq!(one("xaax", "(a)%1"), Some("a".into()));
    assert_eq!(one("'q' \"r\"", "([\"'])(.-)%1"), Some("'|q".into()));
    // A back-reference to a position capture never matches.
    assert_eq!(one("aa", "()a%1"), None);
    let caps = m("aaa", &"(a?)".repeat(32)).unwrap().unwrap();
    assert_eq!(caps.len(), 32);
}

#[test]
fn balance_and_frontier() {
    assert_eq!(one("f(a(b)c)d", "%b()"), Some("(a(b)c)".into()));
    assert_eq!(one("(((", "%b()"), None);
    assert_eq!(one("'x' y'", "%b''"), Some("'x'".into()));
    assert_eq!(one("THE (quick) fox", "%f[%a]%a+"), Some("THE".into()));
    assert_eq!(one("THE (quick) fox", "%f[%l]%a+"), Some("quick".into()));
    assert_eq!(one("hello", "%f[%l]%l+"), Some("hello".into()));
    assert_eq!(one("ab", "%f[%z]()"), Some("3".into()));
    assert_eq!(one("", "%f[%z]"), None);
    assert_eq!(one("x", "%f[^%z]"), Some("".into()));
    assert_eq!(one("the cat", "%f[%w]%w+%f[%W]"), Some("the".into()));
}

#[test]
fn nul_ends_the_pattern() {
    // LuaJIT reads patterns up to the first NUL.
    assert_eq!(one("a\0b", "\0b"), Some("".into()));
    assert_eq!(err("a", "[\0]"), "malformed pattern (missing ']')");
    assert_eq!(err("a", "%\0"), "malformed pattern (ends with '%')");
    assert!(!has_specials(b"\0("));
    assert!(has_specials(b"a.b"));
    assert!(!has_specials(b"a)b]"));
}

#[test]
fn errors() {
    assert_eq!(err("abc", "%"), "malformed pattern (ends with '%')");
    assert_eq!(err("abc", "a%"), "malformed pattern (ends with '%')");
    assert_eq!(err("abc", "[a"), "malformed pattern (missing ']')");
    assert_eq!(err("abc", "[]"), "malformed pattern (missing ']')");
    assert_eq!(err("abc", "[^]"), "malformed pattern (missing ']')");
    assert_eq!(err("abc", "[a%"), "malformed pattern (missing ']')");
    assert_eq!(err("abc", "[%]"), "malformed pattern (missing ']')");
    assert_eq!(err("abc", "%f"), "missing '[' after '%f' in pattern");
    assert_eq!(err("abc", "%fx"), "missing '[' after '%f' in pattern");
    assert_eq!(err("abc", "(a"), "unfinished capture");
    assert_eq!(err("abc", "(()"), "unfinished capture");
    assert_eq!(err("abc", "a)"), "invalid pattern capture");
    assert_eq!(err("abc", "%1"), "invalid capture index");
    assert_eq!(err("abc", "%0"), "invalid capture index");
    assert_eq!(err("abc", "(a)%2"), "invalid capture index");
    assert_eq!(err("abc", "(a%1)"), "invalid capture index");
    assert_eq!(err("abc", "%b"), "unbalanced pattern");
    assert_eq!(err("abc", "%ba"), "unbalanced pattern");
    assert_eq!(err("aaa", &"(a?)".repeat(33)), "too many captures");
    // Errors are raised only where matching gets to: a failed literal stops first.
    assert_eq!(one("abc", "x("), None);
    assert_eq!(one("abc", &"(a)".repeat(33)), None);
}

#[test]
fn depth_is_bounded() {
    let s = "a".repeat(300);
    let pat = format!("{}{}", "a?".repeat(300), "a".repeat(300));
    assert_eq!(err(&s, &pat), "pattern too complex");
    // 199 nested levels are fine (the outermost level counts too).
    let s = "a".repeat(199);
    assert_eq!(one(&s, &"a?".repeat(199)).map(|x| x.len()), Some(199));
    assert_eq!(err(&"a".repeat(200), &"a?".repeat(200)), "pattern too complex");
    // Long literal patterns and long subjects cost no depth.
    let long = "x".repeat(100_000);
    assert_eq!(one(&long, &"x".repeat(5000)).map(|x| x.len()), Some(5000));
    assert_eq!(one(&long, ".*").map(|x| x.len()), Some(100_000));
    assert_eq!(one(&long, ".-$").map(|x| x.len()), Some(100_000));
    assert_eq!(one(&format!("({long})"), "%b()").map(|x| x.len()), Some(100_002));
}

/// [`find_plain`] run to the end with an allowance of `step` bytes of work at a
/// time (resuming where each part stopped).
fn find_plain_in_steps(hay: &[u8], needle: &[u8], from: usize, step: usize) -> Option<usize> {
    let mut from = from;
    let mut work = 0;
    loop {
        match super::find_plain(hay, needle, from, step, &mut work) {
            PlainSearch::Found(i) => return Some(i),
            PlainSearch::NotFound => return None,
            PlainSearch::Paused(at) => from = at,
        }
    }
}

#[test]
fn plain_find() {
    let find_plain = |h: &[u8], n: &[u8], f: usize| find_plain_in_steps(h, n, f, usize::MAX);
    assert_eq!(find_plain(b"hello", b"ll", 0), Some(2));
    assert_eq!(find_plain(b"hello", b"ll", 3), None);
    assert_eq!(find_plain(b"hello", b"", 5), Some(5));
    assert_eq!(find_plain(b"hello", b"", 6), None);
    assert_eq!(find_plain(b"a\0b", b"\0b", 0), Some(1));
    assert_eq!(find_plain(b"aab", b"ab", 0), Some(1));
    assert_eq!(find_plain(b"ab", b"abc", 0), None);
}

/// A paused search resumes where it stopped and finds what one search finds; the
/// work counted covers the bytes scanned and compared.
#[test]
fn plain_find_in_steps() {
    let hay = [b"a".repeat(5000), b"b".to_vec(), b"a".repeat(100)].concat();
    let needle = [b"a".repeat(300), b"b".to_vec()].concat();
    for step in [1, 7, 64, 1000, usize::MAX] {
        assert_eq!(find_plain_in_steps(&hay, &needle, 0, step), Some(4700), "step {step}");
        assert_eq!(find_plain_in_steps(&hay, b"ab", 4800, step), Some(4999), "step {step}");
        assert_eq!(find_plain_in_steps(&hay, b"c", 0, step), None, "step {step}");
    }
    let mut work = 0;
    assert_eq!(
        super::find_plain(&hay, &needle, 0, usize::MAX, &mut work),
        PlainSearch::Found(4700)
    );
    // Each of the 4701 candidates compared at least one block of the needle.
    assert!(work >= 4700 * 64, "{work}");
}

/// Deterministic pseudo-random patterns and subjects: nothing may panic, and every
/// result is a match or one of the errors.
#[test]
fn fuzz_no_panic() {
    let alphabet = b"ab()[]^$%*+-?.bfz1290-]";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..200_000 {
        let plen = (next() % 12) as usize;
        let pat: Vec<u8> = (0..plen)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let slen = (next() % 10) as usize;
        let src: Vec<u8> = (0..slen).map(|_| b"ab()]\0"[(next() % 6) as usize]).collect();
        let mut mt = Matcher::new(&src, &pat);
        if let Ok(Some((s, e))) = mt.search(0, 0, false, &mut |_| true) {
            assert!(s <= e && e <= src.len());
            for i in 0..mt.capture_count() {
                let _ = mt.capture(i, s, e);
            }
        }
    }
}
