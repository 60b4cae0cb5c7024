//! `IntoLua` / `FromLua` for Rust types.
//!
//! Integers are checked both ways: a Lua number converts to an integer type only if
//! it is whole and in range, and an integer converts to Lua only if a double holds
//! it exactly. Numeric strings convert to numbers and numbers to strings, as Lua
//! coerces them.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use super::error::{Error, Result};
use super::function::Function;
use super::state::Lua;
use super::string::LuaString;
use super::table::Table;
use super::thread::Thread;
use super::userdata::{AnyUserData, UserData};
use super::value::{FromLua, IntoLua, LightUserData, Value};

impl IntoLua for Value {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(self)
    }
}
impl FromLua for Value {
    fn from_lua(v: Value, _: &Lua) -> Result<Self> {
        Ok(v)
    }
}
impl IntoLua for &Value {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(self.clone())
    }
}

impl IntoLua for bool {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::Boolean(self))
    }
}
/// Lua truthiness: `nil` and `false` are false, everything else is true.
impl FromLua for bool {
    fn from_lua(v: Value, _: &Lua) -> Result<Self> {
        Ok(v.is_truthy())
    }
}

impl IntoLua for LightUserData {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        if (self.0 as usize as u64) >> 47 != 0 {
            return Err(Error::ToLuaConversionError {
                from: "LightUserData",
                to: "userdata",
                message: Some("address does not fit in 47 bits".into()),
            });
        }
        Ok(Value::LightUserData(self))
    }
}
impl FromLua for LightUserData {
    fn from_lua(v: Value, _: &Lua) -> Result<Self> {
        match v {
            Value::LightUserData(p) => Ok(p),
            v => Err(Error::from_conv(v.type_name(), "LightUserData", None)),
        }
    }
}

/// The number in `v`, with Lua's string coercion.
fn coerce_number(v: &Value, lua: &Lua) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => crate::number::str_to_number(s.bytes_in(lua).ok()?),
        _ => None,
    }
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                let wide = self as i128;
                let f = self as f64;
                if f as i128 != wide {
                    return Err(Error::ToLuaConversionError {
                        from: stringify!($t),
                        to: "number",
                        message: Some(crate::errmsg::INTEGER_NOT_EXACT.into()),
                    });
                }
                Ok(match i64::try_from(wide) {
                    Ok(i) => Value::Integer(i),
                    Err(_) => Value::Number(f),
                })
            }
        }
        impl FromLua for $t {
            fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
                if let Value::Integer(i) = v {
                    return <$t>::try_from(i).map_err(|_| {
                        Error::from_conv("number", stringify!($t), Some("out of range".into()))
                    });
                }
                let Some(n) = coerce_number(&v, lua) else {
                    return Err(Error::from_conv(v.type_name(), stringify!($t), None));
                };
                if n.fract() != 0.0 || !n.is_finite() {
                    return Err(Error::from_conv("number", stringify!($t), Some("number has no integer representation".into())));
                }
                if !(-1.7014118346046923e38..1.7014118346046923e38).contains(&n) {
                    return Err(Error::from_conv("number", stringify!($t), Some("out of range".into())));
                }
                <$t>::try_from(n as i128)
                    .map_err(|_| Error::from_conv("number", stringify!($t), Some("out of range".into())))
            }
        }
    )*};
}

impl_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! impl_float {
    ($($t:ty),*) => {$(
        impl IntoLua for $t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                Ok(Value::Number(self as f64))
            }
        }
        impl FromLua for $t {
            fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
                match coerce_number(&v, lua) {
                    Some(n) => Ok(n as $t),
                    None => Err(Error::from_conv(v.type_name(), stringify!($t), None)),
                }
            }
        }
    )*};
}

impl_float!(f32, f64);

impl IntoLua for &str {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}
impl IntoLua for String {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}
impl IntoLua for &String {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}
impl IntoLua for Cow<'_, str> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self.as_bytes())?))
    }
}
impl IntoLua for char {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        let mut buf = [0u8; 4];
        Ok(Value::String(lua.create_string(self.encode_utf8(&mut buf))?))
    }
}

/// A string, or a number formatted as Lua formats it.
fn coerce_string(v: Value, lua: &Lua, to: &'static str) -> Result<LuaString> {
    match v {
        Value::String(s) => Ok(s),
        Value::Integer(_) | Value::Number(_) => {
            let n = v.as_number().unwrap_or(0.0);
            let mut buf = [0u8; 64];
            let len = crate::number::fmt_number(n, &mut buf);
            lua.create_string(&buf[..len])
        }
        v => Err(Error::from_conv(v.type_name(), to, None)),
    }
}

/// Only valid UTF-8 converts; use [`LuaString`] or [`BString`] for other bytes.
impl FromLua for String {
    fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
        let s = coerce_string(v, lua, "String")?;
        match std::str::from_utf8(s.bytes_in(lua)?) {
            Ok(t) => Ok(t.to_owned()),
            Err(e) => Err(Error::from_conv("string", "String", Some(e.to_string()))),
        }
    }
}

impl IntoLua for LuaString {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::String(self))
    }
}
impl IntoLua for &LuaString {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::String(self.clone()))
    }
}
impl FromLua for LuaString {
    fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
        coerce_string(v, lua, "string")
    }
}

/// A byte string: converts to and from a Lua string holding any bytes.
///
/// ```
/// use perilune::{BString, Lua};
/// let lua = Lua::new();
/// let b: BString = lua.load(r#"return "\255\0x""#).eval()?;
/// assert_eq!(b.0, vec![255, 0, b'x']);
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BString(pub Vec<u8>);

impl From<Vec<u8>> for BString {
    fn from(v: Vec<u8>) -> Self {
        BString(v)
    }
}
impl From<&[u8]> for BString {
    fn from(v: &[u8]) -> Self {
        BString(v.to_vec())
    }
}
impl IntoLua for BString {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(&self.0)?))
    }
}
impl IntoLua for &[u8] {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::String(lua.create_string(self)?))
    }
}
impl FromLua for BString {
    fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
        Ok(BString(coerce_string(v, lua, "BString")?.bytes_in(lua)?.to_vec()))
    }
}

macro_rules! impl_handle {
    ($t:ident, $variant:ident, $name:literal) => {
        impl IntoLua for $t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                Ok(Value::$variant(self))
            }
        }
        impl IntoLua for &$t {
            fn into_lua(self, _: &Lua) -> Result<Value> {
                Ok(Value::$variant(self.clone()))
            }
        }
        impl FromLua for $t {
            fn from_lua(v: Value, _: &Lua) -> Result<Self> {
                match v {
                    Value::$variant(x) => Ok(x),
                    v => Err(Error::from_conv(v.type_name(), $name, None)),
                }
            }
        }
    };
}

impl_handle!(Table, Table, "table");
impl_handle!(Function, Function, "function");
impl_handle!(Thread, Thread, "thread");
impl_handle!(AnyUserData, UserData, "userdata");

impl IntoLua for Error {
    fn into_lua(self, _: &Lua) -> Result<Value> {
        Ok(Value::Error(Box::new(self)))
    }
}

impl<T: IntoLua> IntoLua for Option<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        match self {
            Some(v) => v.into_lua(lua),
            None => Ok(Value::Nil),
        }
    }
}
impl<T: FromLua> FromLua for Option<T> {
    fn from_lua(v: Value, lua: &Lua) -> Result<Self> {
        match v {
            Value::Nil => Ok(None),
            v => T::from_lua(v, lua).map(Some),
        }
    }
}

impl<T: IntoLua> IntoLua for Vec<T> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}
impl<T: IntoLua, const N: usize> IntoLua for [T; N] {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_sequence_from(self)?))
    }
}
/// From a table's sequence part (raw `t[1]`, `t[2]`, ... up to the first nil).
impl<T: FromLua> FromLua for Vec<T> {
    fn from_lua(v: Value, _: &Lua) -> Result<Self> {
        match v {
            Value::Table(t) => t.sequence_values::<T>().collect(),
            v => Err(Error::from_conv(v.type_name(), "Vec", Some("expected table".into()))),
        }
    }
}

impl<K, V, S> IntoLua for HashMap<K, V, S>
where
    K: IntoLua,
    V: IntoLua,
{
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self)?))
    }
}
impl<K, V, S> FromLua for HashMap<K, V, S>
where
    K: FromLua + Eq + Hash,
    V: FromLua,
    S: BuildHasher + Default,
{
    fn from_lua(v: Value, _: &Lua) -> Result<Self> {
        match v {
            Value::Table(t) => t.pairs::<K, V>().collect(),
            v => Err(Error::from_conv(
                v.type_name(),
                "HashMap",
                Some("expected table".into()),
            )),
        }
    }
}

impl<K: IntoLua, V: IntoLua> IntoLua for BTreeMap<K, V> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::Table(lua.create_table_from(self)?))
    }
}
impl<K: FromLua + Ord, V: FromLua> FromLua for BTreeMap<K, V> {
    fn from_lua(v: Value, _: &Lua) -> Result<Self> {
        match v {
            Value::Table(t) => t.pairs::<K, V>().collect(),
            v => Err(Error::from_conv(
                v.type_name(),
                "BTreeMap",
                Some("expected table".into()),
            )),
        }
    }
}

/// A Rust value implementing [`UserData`] becomes a new userdata.
impl<T: UserData + 'static> IntoLua for T {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        Ok(Value::UserData(lua.create_userdata(self)?))
    }
}
