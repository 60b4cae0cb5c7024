//! [`LuaString`]: a handle to a Lua string (any bytes).

use std::borrow::Cow;

use super::error::{Error, Result};
use super::state::LuaRef;

/// A Lua string. Holds any bytes; [`LuaString::to_str`] checks for UTF-8.
///
/// ```
/// let lua = perilune::Lua::new();
/// let s: perilune::LuaString = lua.load("return 'hi' .. 1").eval()?;
/// assert_eq!(s.as_bytes(), b"hi1");
/// assert_eq!(s.to_str()?, "hi1");
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct LuaString<'lua>(pub(crate) LuaRef<'lua>);

/// The text, as mlua shows it: like a `str` (`"abc"`) when the bytes are UTF-8,
/// else as an escaped byte string (`b"a\xffb"`), so no byte is hidden.
///
/// ```
/// let lua = perilune::Lua::new();
/// assert_eq!(format!("{:?}", lua.create_string("hi")?), r#""hi""#);
/// assert_eq!(format!("{:?}", lua.create_string(b"\xff")?), r#"b"\xff""#);
/// # Ok::<(), perilune::Error>(())
/// ```
impl std::fmt::Debug for LuaString<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.as_bytes();
        if let Ok(text) = std::str::from_utf8(bytes) {
            return std::fmt::Debug::fmt(text, f);
        }
        f.write_str("b\"")?;
        for c in bytes.iter().flat_map(|&b| std::ascii::escape_default(b)) {
            std::fmt::Write::write_char(f, char::from(c))?;
        }
        f.write_str("\"")
    }
}

impl<'lua> LuaString<'lua> {
    /// The bytes of the string.
    pub fn as_bytes(&self) -> &[u8] {
        match self.0.val.as_string() {
            // The handle keeps the string alive and strings are immutable.
            Some(s) => {
                let bytes: &[u8] = s.as_bytes();
                // SAFETY: the string object outlives `self` (the ref keeps it
                // reachable, and it cannot be freed before the `Lua`, which `self`
                // borrows); its bytes never change.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) }
            }
            None => &[],
        }
    }
    /// The string as UTF-8, or an error if it is not.
    pub fn to_str(&self) -> Result<&str> {
        std::str::from_utf8(self.as_bytes()).map_err(|e| Error::from_conv("string", "&str", Some(e.to_string())))
    }
    /// The string as UTF-8, invalid sequences replaced.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
    /// The bytes, with a trailing NUL (Lua strings always have one).
    pub fn as_bytes_with_nul(&self) -> Vec<u8> {
        let mut v = self.as_bytes().to_vec();
        v.push(0);
        v
    }
}

impl PartialEq<str> for LuaString<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for LuaString<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl AsRef<[u8]> for LuaString<'_> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
