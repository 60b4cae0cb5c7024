//! [`LuaString`]: a handle to a Lua string (any bytes).

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
pub struct LuaString(pub(crate) LuaRef);

/// The text, as mlua shows it: like a `str` (`"abc"`) when the bytes are UTF-8,
/// else as an escaped byte string (`b"a\xffb"`), so no byte is hidden.
///
/// ```
/// let lua = perilune::Lua::new();
/// assert_eq!(format!("{:?}", lua.create_string("hi")?), r#""hi""#);
/// assert_eq!(format!("{:?}", lua.create_string(b"\xff")?), r#"b"\xff""#);
/// # Ok::<(), perilune::Error>(())
/// ```
impl std::fmt::Debug for LuaString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.as_bytes();
        let bytes = &*bytes;
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

impl LuaString {
    /// The bytes of the string, as a guard that keeps the state open while it is
    /// borrowed (mlua's `BorrowedBytes`). Empty once the state is closed: use
    /// [`LuaString::to_str`] or [`LuaString::try_as_bytes`] to get an error then.
    pub fn as_bytes(&self) -> BorrowedBytes<'_> {
        self.try_as_bytes().unwrap_or(BorrowedBytes { bytes: &[], _lua: None })
    }

    /// The bytes of the string, or [`Error::StateDestroyed`] once the state is
    /// closed.
    pub fn try_as_bytes(&self) -> Result<BorrowedBytes<'_>> {
        let lua = self.0.lua()?;
        let bytes = self.bytes_in(&lua)?;
        // SAFETY: `lua` (moved into the guard) keeps the state open, and the handle,
        // borrowed for the guard's lifetime, keeps the string reachable; strings
        // never move or change.
        let bytes: &[u8] = unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) };
        Ok(BorrowedBytes { bytes, _lua: Some(lua) })
    }

    /// The bytes, while `lua` (an open state, which the borrow keeps open) is
    /// borrowed: no `Rc` count is touched. An error if the string is of another
    /// state or of a closed one.
    pub(crate) fn bytes_in<'a>(&'a self, lua: &'a super::state::Lua) -> Result<&'a [u8]> {
        Ok(match self.0.raw_in(lua.raw())?.as_string() {
            Some(s) => {
                let bytes: &[u8] = s.as_bytes();
                // SAFETY: the string belongs to `lua`'s state, which stays open while
                // `lua` is borrowed; the handle keeps it reachable while `self` is
                // borrowed; its bytes never move or change.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) }
            }
            None => &[],
        })
    }

    /// The string as UTF-8, or an error if it is not (or the state is closed).
    pub fn to_str(&self) -> Result<BorrowedStr<'_>> {
        let BorrowedBytes { bytes, _lua } = self.try_as_bytes()?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(BorrowedStr { text, _lua }),
            Err(e) => Err(Error::from_conv("string", "&str", Some(e.to_string()))),
        }
    }

    /// The string as UTF-8, invalid sequences replaced.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.as_bytes()).into_owned()
    }

    /// The bytes, with a trailing NUL (Lua strings always have one).
    pub fn as_bytes_with_nul(&self) -> Vec<u8> {
        let mut v = self.as_bytes().to_vec();
        v.push(0);
        v
    }
}

/// The bytes of a [`LuaString`], borrowed; keeps the state open while it lives.
pub struct BorrowedBytes<'a> {
    bytes: &'a [u8],
    _lua: Option<super::state::Lua>,
}

impl std::ops::Deref for BorrowedBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}
impl AsRef<[u8]> for BorrowedBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self.bytes
    }
}
impl std::borrow::Borrow<[u8]> for BorrowedBytes<'_> {
    fn borrow(&self) -> &[u8] {
        self.bytes
    }
}
impl std::fmt::Debug for BorrowedBytes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.bytes, f)
    }
}
impl<T: AsRef<[u8]> + ?Sized> PartialEq<T> for BorrowedBytes<'_> {
    fn eq(&self, other: &T) -> bool {
        self.bytes == other.as_ref()
    }
}

/// The text of a [`LuaString`], borrowed; keeps the state open while it lives.
pub struct BorrowedStr<'a> {
    text: &'a str,
    _lua: Option<super::state::Lua>,
}

impl std::ops::Deref for BorrowedStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.text
    }
}
impl AsRef<str> for BorrowedStr<'_> {
    fn as_ref(&self) -> &str {
        self.text
    }
}
impl std::borrow::Borrow<str> for BorrowedStr<'_> {
    fn borrow(&self) -> &str {
        self.text
    }
}
impl std::fmt::Debug for BorrowedStr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.text, f)
    }
}
impl std::fmt::Display for BorrowedStr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.text, f)
    }
}
impl<T: AsRef<str> + ?Sized> PartialEq<T> for BorrowedStr<'_> {
    fn eq(&self, other: &T) -> bool {
        self.text == other.as_ref()
    }
}

impl PartialEq<str> for LuaString {
    fn eq(&self, other: &str) -> bool {
        *self.as_bytes() == *other.as_bytes()
    }
}
impl PartialEq<&str> for LuaString {
    fn eq(&self, other: &&str) -> bool {
        *self.as_bytes() == *other.as_bytes()
    }
}
