//! Numbers as text: formatting the way LuaJIT prints them and parsing the way Lua
//! converts strings. (Stub: being written.)

/// Write `n` as `%.14g` would (with `inf`, `-inf`, `nan`, `-nan`) into `buf`; return
/// the length. 64 bytes always suffice.
pub fn fmt_number(n: f64, buf: &mut [u8; 64]) -> usize {
    let s = format!("{n}");
    let b = s.as_bytes();
    let len = b.len().min(64);
    buf[..len].copy_from_slice(&b[..len]);
    len
}

/// Parse a string as Lua converts it to a number (decimal, hex, surrounding spaces).
pub fn str_to_number(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.trim().parse().ok()
}
