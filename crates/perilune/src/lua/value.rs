//! [`Value`], the owned Lua value, and the conversion traits.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};

use crate::value::Value as Raw;
use crate::vm::state::State;

use super::error::{Error, Result};
use super::function::Function;
use super::state::{mem_error, protect, Lua, LuaRaw, LuaRef};
use super::string::LuaString;
use super::table::Table;
use super::thread::Thread;
use super::userdata::{new_wrapped_error, AnyUserData, UdCell, WrappedError};

/// A light userdata: a bare address (at most 47 bits, as values are NaN-boxed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LightUserData(pub *mut std::ffi::c_void);

/// A Lua value held by Rust. Reference types are handles that keep the value alive.
///
/// Numbers that are whole and fit in an `i64` come out of Lua as
/// [`Value::Integer`], others as [`Value::Number`] (Lua 5.1 has only doubles, as
/// mlua does for LuaJIT).
///
/// ```
/// use perilune::{Lua, Value};
/// let lua = Lua::new();
/// let v: Value = lua.load("return 3").eval()?;
/// assert_eq!(v, Value::Integer(3));
/// let v: Value = lua.load("return 0.5").eval()?;
/// assert_eq!(v, Value::Number(0.5));
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Nil,
    Boolean(bool),
    LightUserData(LightUserData),
    /// A whole number (stored in Lua as a double; beyond 2^53 it is rounded).
    Integer(i64),
    Number(f64),
    String(LuaString),
    Table(Table),
    Function(Function),
    Thread(Thread),
    UserData(AnyUserData),
    /// A Rust error travelling through Lua as a value.
    Error(Box<Error>),
}

pub use self::Value::Nil;

impl Value {
    /// The Lua type name (`"nil"`, `"number"`, `"table"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::LightUserData(_) => "userdata",
            Value::Integer(_) | Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Table(_) => "table",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
            Value::UserData(_) | Value::Error(_) => "userdata",
        }
    }
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
    /// Lua truthiness: everything but `nil` and `false`.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Boolean(false))
    }
    pub fn as_boolean(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
    /// The number, for integers and numbers.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(*i as f64),
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    /// The text of a string that is valid UTF-8 (mlua's `as_str`).
    pub fn as_str(&self) -> Option<super::string::BorrowedStr<'_>> {
        match self {
            Value::String(s) => s.to_str().ok(),
            _ => None,
        }
    }
    /// The text of a string, invalid UTF-8 replaced.
    pub fn as_string_lossy(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.to_string_lossy()),
            _ => None,
        }
    }
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_function(&self) -> Option<&Function> {
        match self {
            Value::Function(f) => Some(f),
            _ => None,
        }
    }

    /// The `null` light userdata (address 0) of serde conversions: unlike `nil` it
    /// can be stored in a table.
    pub const NULL: Value = Value::LightUserData(LightUserData(std::ptr::null_mut()));

    /// Is this [`Value::NULL`]?
    pub fn is_null(&self) -> bool {
        matches!(self, Value::LightUserData(p) if p.0.is_null())
    }
    pub fn is_boolean(&self) -> bool {
        self.as_boolean().is_some()
    }
    pub fn is_light_userdata(&self) -> bool {
        self.as_light_userdata().is_some()
    }
    pub fn as_light_userdata(&self) -> Option<LightUserData> {
        match self {
            Value::LightUserData(p) => Some(*p),
            _ => None,
        }
    }
    pub fn is_integer(&self) -> bool {
        self.as_integer().is_some()
    }
    pub fn as_i32(&self) -> Option<i32> {
        self.as_integer().and_then(|i| i32::try_from(i).ok())
    }
    pub fn as_u32(&self) -> Option<u32> {
        self.as_integer().and_then(|i| u32::try_from(i).ok())
    }
    pub fn as_i64(&self) -> Option<i64> {
        self.as_integer()
    }
    pub fn as_u64(&self) -> Option<u64> {
        self.as_integer().and_then(|i| u64::try_from(i).ok())
    }
    pub fn as_isize(&self) -> Option<isize> {
        self.as_integer().and_then(|i| isize::try_from(i).ok())
    }
    pub fn as_usize(&self) -> Option<usize> {
        self.as_integer().and_then(|i| usize::try_from(i).ok())
    }
    /// Is this a number ([`Value::Integer`] or [`Value::Number`], as
    /// [`Value::as_number`] answers; mlua's answers for `Number` only)?
    pub fn is_number(&self) -> bool {
        self.as_number().is_some()
    }
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()
    }
    pub fn as_f32(&self) -> Option<f32> {
        self.as_number().map(|n| n as f32)
    }
    pub fn is_thread(&self) -> bool {
        matches!(self, Value::Thread(_))
    }
    pub fn is_userdata(&self) -> bool {
        matches!(self, Value::UserData(_))
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }
    pub fn as_error(&self) -> Option<&Error> {
        match self {
            Value::Error(e) => Some(e),
            _ => None,
        }
    }
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }
    pub fn is_table(&self) -> bool {
        matches!(self, Value::Table(_))
    }
    pub fn is_function(&self) -> bool {
        matches!(self, Value::Function(_))
    }
    pub fn as_string(&self) -> Option<&LuaString> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_thread(&self) -> Option<&Thread> {
        match self {
            Value::Thread(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_userdata(&self) -> Option<&AnyUserData> {
        match self {
            Value::UserData(u) => Some(u),
            _ => None,
        }
    }

    /// What Lua's `tostring(v)` gives, as a Rust string: `__tostring` when the
    /// value's metatable has it (it may run Lua code and fail like it), numbers as
    /// Lua writes them (`%.14g`: `1e+15`, `0.1`, `inf`), `table: 0x...` and the like
    /// for objects. A string that is not UTF-8 (or a `__tostring` result that is not)
    /// is [`Error::FromLuaConversionError`]; a `__tostring` that returns no string is
    /// Lua's "'__tostring' must return a string".
    ///
    /// mlua writes numbers with Rust's `Display` instead (`1000000000000000`).
    ///
    /// ```
    /// use perilune::{Lua, Value};
    /// let lua = Lua::new();
    /// assert_eq!(Value::Integer(42).to_string()?, "42");
    /// assert_eq!(Value::Number(1e15).to_string()?, "1e+15");
    /// assert_eq!(Value::Nil.to_string()?, "nil");
    /// let v: Value = lua.load("setmetatable({}, {__tostring = function() return 'point' end})").eval()?;
    /// assert_eq!(v.to_string()?, "point");
    /// let t = Value::Table(lua.create_table()?);
    /// assert!(t.to_string()?.starts_with("table: 0x"));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    #[allow(clippy::inherent_to_string_shadow_display, clippy::inherent_to_string)]
    pub fn to_string(&self) -> Result<String> {
        let text = match self {
            Value::Error(e) => return Ok(e.to_string()),
            Value::Nil => return Ok("nil".into()),
            Value::Boolean(b) => return Ok(b.to_string()),
            Value::String(s) => s.0.lua()?,
            Value::Table(t) => t.0.lua()?,
            Value::Function(f) => f.0.lua()?,
            Value::Thread(t) => t.0.lua()?,
            Value::UserData(u) => u.0.lua()?,
            // Numbers and light userdata need no state; any state formats them.
            Value::Integer(_) | Value::Number(_) | Value::LightUserData(_) => {
                return Ok(fmt_plain(self));
            }
        }
        .with_state(|st, raw| {
            let v = self.to_raw(st, raw)?;
            let s = protect(st, raw, |st| {
                st.push(v)?;
                let s = st.tostring(v);
                st.pop(1);
                s
            })?;
            Ok(s.as_bytes().to_vec())
        })?;
        String::from_utf8(text).map_err(|_| Error::FromLuaConversionError {
            from: "string",
            to: "String",
            message: Some(crate::errmsg::NOT_UTF8.into()),
        })
    }

    /// The object's address (a string's, table's, function's, thread's or
    /// userdata's), or a light userdata's pointer; null for every other value. For
    /// hashing and debug output only: it cannot be turned back into the value.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_table()?;
    /// let (a, b) = (perilune::Value::Table(t.clone()), perilune::Value::Table(t));
    /// assert_eq!(a.to_pointer(), b.to_pointer());
    /// assert!(!a.to_pointer().is_null());
    /// assert!(perilune::Value::Integer(1).to_pointer().is_null());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        match self {
            Value::LightUserData(p) => p.0,
            Value::String(LuaString(r))
            | Value::Table(Table(r))
            | Value::Function(Function(r))
            | Value::Thread(Thread(r))
            | Value::UserData(AnyUserData(r)) => ref_pointer(r),
            _ => std::ptr::null(),
        }
    }

    /// Equality with `__eq` for two tables (see [`Table::equals`]); raw equality
    /// (`rawequal`) for everything else, as mlua's `Value::equals` on LuaJIT.
    pub fn equals(&self, other: &Value) -> Result<bool> {
        match (self, other) {
            (Value::Table(a), Value::Table(b)) => a.equals(b),
            (a, b) => Ok(a == b),
        }
    }

    /// The VM value. Reference types are kept alive by their handle; an error value
    /// becomes a new userdata. A handle of another state, or of a closed one, is an
    /// error.
    pub(crate) fn to_raw(&self, st: &mut State, raw: &LuaRaw) -> Result<Raw> {
        Ok(match self {
            Value::Nil => Raw::NIL,
            Value::Boolean(b) => Raw::boolean(*b),
            Value::LightUserData(p) => Raw::light_userdata(p.0 as usize),
            Value::Integer(i) => Raw::number(*i as f64),
            Value::Number(n) => Raw::number(*n),
            Value::String(s) => s.0.raw_in(raw)?,
            Value::Table(t) => t.0.raw_in(raw)?,
            Value::Function(f) => f.0.raw_in(raw)?,
            Value::Thread(t) => t.0.raw_in(raw)?,
            Value::UserData(u) => u.0.raw_in(raw)?,
            Value::Error(e) => {
                let u = new_wrapped_error(st, raw, (**e).clone()).map_err(|_| mem_error())?;
                Raw::userdata(u)
            }
        })
    }

    /// A handle for a VM value (reachable or fresh: no collection runs here).
    pub(crate) fn from_raw(lua: &Lua, st: &mut State, raw: &LuaRaw, v: Raw) -> Result<Value> {
        if let Some(n) = v.as_number() {
            return Ok(number_value(n));
        }
        if v.is_nil() {
            return Ok(Value::Nil);
        }
        if let Some(b) = v.as_bool() {
            return Ok(Value::Boolean(b));
        }
        if let Some(p) = v.as_light_userdata() {
            return Ok(Value::LightUserData(LightUserData(p as *mut std::ffi::c_void)));
        }
        if let Some(u) = v.as_userdata() {
            // SAFETY: the userdata is reachable (caller contract) while the result
            // of `of` is used.
            if let Some(e) = unsafe { UdCell::<WrappedError>::of(u) }.and_then(|c| c.peek()) {
                return Ok(Value::Error(Box::new(e.0.clone())));
            }
        }
        let r = LuaRef::new(lua, st, raw, v)?;
        Ok(if v.is_string() {
            Value::String(LuaString(r))
        } else if v.is_table() {
            Value::Table(Table(r))
        } else if v.is_function() {
            Value::Function(Function(r))
        } else if v.as_thread().is_some() {
            Value::Thread(Thread(r))
        } else {
            Value::UserData(AnyUserData(r))
        })
    }
}

impl std::fmt::Debug for Value {
    /// mlua's format: `Nil`, `Boolean(true)`, `Integer(3)`, `Number(0.5)`,
    /// `String("abc")` (`String(b"a\xffb")` when not UTF-8), `LightUserData(0x0)`,
    /// `Table(table: 0x...)` and the like for objects, `Error(...)`. The alternate
    /// form (`{:#?}`) prints a table's contents, nested, as mlua's does.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if f.alternate() {
            return fmt_pretty(self, f, 0, &mut Vec::new());
        }
        match self {
            Value::Nil => write!(f, "Nil"),
            Value::Boolean(b) => write!(f, "Boolean({b})"),
            Value::LightUserData(p) => write!(f, "LightUserData({:?})", p.0),
            Value::Integer(i) => write!(f, "Integer({i})"),
            Value::Number(n) => write!(f, "Number({n})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Table(t) => write!(f, "{t:?}"),
            Value::Function(v) => write!(f, "{v:?}"),
            Value::Thread(t) => write!(f, "{t:?}"),
            Value::UserData(u) => write!(f, "{u:?}"),
            Value::Error(e) => write!(f, "Error({e:?})"),
        }
    }
}

/// The order keys are printed in by [`fmt_pretty`]: nil, null, booleans,
/// numbers, strings, then the rest by address.
fn pretty_key_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Nil => 0,
            Value::LightUserData(p) if p.0.is_null() => 1,
            Value::Boolean(_) => 2,
            Value::Integer(_) | Value::Number(_) => 3,
            Value::String(_) => 4,
            _ => 5,
        }
    }
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => (*x.as_bytes()).cmp(&*y.as_bytes()),
        _ => match (a.as_number(), b.as_number()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.to_pointer().cmp(&b.to_pointer()),
        },
    })
}

/// `{:#?}`: a value as Lua source would write it, tables with their contents
/// (sorted keys, a sequence as a list, two spaces a level); a table met again
/// inside itself is printed as `table: 0x...`.
fn fmt_pretty(
    v: &Value,
    f: &mut std::fmt::Formatter<'_>,
    indent: usize,
    visited: &mut Vec<*const std::ffi::c_void>,
) -> std::fmt::Result {
    let t = match v {
        Value::Table(t) if !visited.contains(&v.to_pointer()) => t,
        Value::Nil => return write!(f, "nil"),
        Value::Boolean(b) => return write!(f, "{b}"),
        Value::LightUserData(p) if p.0.is_null() => return write!(f, "null"),
        Value::Integer(i) => return write!(f, "{i}"),
        Value::Number(n) => return write!(f, "{n}"),
        Value::String(s) => return write!(f, "{s:?}"),
        Value::Error(e) => return write!(f, "{e:?}"),
        // Userdata as `tostring` shows it (`__tostring`), the rest by address.
        Value::UserData(_) => {
            let text = v.to_string();
            return write!(
                f,
                "{}",
                text.unwrap_or_else(|_| format!("userdata: {:?}", v.to_pointer()))
            );
        }
        other => return write!(f, "{}: {:?}", other.type_name(), other.to_pointer()),
    };
    let mut pairs: Vec<(Value, Value)> = t.pairs::<Value, Value>().filter_map(|p| p.ok()).collect();
    if pairs.is_empty() {
        return write!(f, "{{}}");
    }
    visited.push(v.to_pointer());
    pairs.sort_by(|(a, _), (b, _)| pretty_key_order(a, b));
    let is_sequence = pairs
        .iter()
        .enumerate()
        .all(|(i, (k, _))| matches!(k, Value::Integer(n) if *n == i as i64 + 1));
    writeln!(f, "{{")?;
    let pad = " ".repeat(indent + 2);
    for (k, val) in &pairs {
        write!(f, "{pad}")?;
        if !is_sequence {
            match k {
                Value::String(s) if is_identifier(&s.as_bytes()) => write!(f, "{} = ", s.to_string_lossy())?,
                _ => {
                    write!(f, "[")?;
                    fmt_pretty(k, f, indent + 2, visited)?;
                    write!(f, "] = ")?;
                }
            }
        }
        fmt_pretty(val, f, indent + 2, visited)?;
        writeln!(f, ",")?;
    }
    visited.pop();
    write!(f, "{}}}", " ".repeat(indent))
}

/// Can `key` be written `key = ` in a table constructor?
fn is_identifier(key: &[u8]) -> bool {
    key.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && key.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// `tostring` of a number or light userdata, which needs no state (the text of
/// `State::tostring_raw`).
fn fmt_plain(v: &Value) -> String {
    match v {
        Value::Integer(_) | Value::Number(_) => {
            let mut buf = [0u8; 64];
            let n = crate::number::fmt_number(v.as_number().unwrap_or(0.0), &mut buf);
            String::from_utf8_lossy(&buf[..n]).into_owned()
        }
        Value::LightUserData(p) => format!("userdata: {:#x}", p.0 as usize),
        _ => String::new(),
    }
}

/// The address of a handle's object; null once its state is closed (the address
/// may then belong to something else).
pub(crate) fn ref_pointer(r: &LuaRef) -> *const std::ffi::c_void {
    match r.lua() {
        Ok(_) => r
            .val
            .as_gc()
            .map_or(std::ptr::null(), |g| g.as_ptr() as *const std::ffi::c_void),
        Err(_) => std::ptr::null(),
    }
}

/// `Integer` for whole numbers that fit in an `i64` (not -0), else `Number`.
pub(crate) fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        if n == 0.0 && n.is_sign_negative() {
            return Value::Number(n);
        }
        return Value::Integer(n as i64);
    }
    Value::Number(n)
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::LightUserData(a), Value::LightUserData(b)) => a == b,
            (Value::Integer(_) | Value::Number(_), Value::Integer(_) | Value::Number(_)) => match (self, other) {
                (Value::Integer(a), Value::Integer(b)) => a == b,
                _ => self.as_number() == other.as_number(),
            },
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Table(a), Value::Table(b)) => a == b,
            (Value::Function(a), Value::Function(b)) => a == b,
            (Value::Thread(a), Value::Thread(b)) => a == b,
            (Value::UserData(a), Value::UserData(b)) => a == b,
            _ => false,
        }
    }
}

/// Rust values that can become one Lua value (mlua 0.10's signature).
///
/// ```
/// use perilune::{IntoLua, Lua, Result, Value};
/// struct Celsius(f64);
/// impl IntoLua for Celsius {
///     fn into_lua(self, lua: &Lua) -> Result<Value> {
///         self.0.into_lua(lua)
///     }
/// }
/// let lua = Lua::new();
/// lua.globals().set("t", Celsius(21.5))?;
/// assert_eq!(lua.load("return t").eval::<f64>()?, 21.5);
/// # Ok::<(), perilune::Error>(())
/// ```
pub trait IntoLua: Sized {
    fn into_lua(self, lua: &Lua) -> Result<Value>;
}

/// Rust values that can be made from one Lua value (mlua 0.10's signature).
///
/// ```
/// use perilune::{FromLua, Lua, Result, Value};
/// struct Even(i64);
/// impl FromLua for Even {
///     fn from_lua(value: Value, lua: &Lua) -> Result<Self> {
///         let n = i64::from_lua(value, lua)?;
///         if n % 2 == 0 { Ok(Even(n)) } else { Err(perilune::Error::runtime("odd")) }
///     }
/// }
/// let lua = Lua::new();
/// assert_eq!(lua.load("return 4").eval::<Even>()?.0, 4);
/// assert!(lua.load("return 3").eval::<Even>().is_err());
/// # Ok::<(), perilune::Error>(())
/// ```
pub trait FromLua: Sized {
    fn from_lua(value: Value, lua: &Lua) -> Result<Self>;
}

/// Several Lua values (arguments, results), in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MultiValue(VecDeque<Value>);

impl MultiValue {
    pub fn new() -> Self {
        MultiValue(VecDeque::new())
    }
    pub fn from_vec(v: Vec<Value>) -> Self {
        MultiValue(v.into())
    }
    pub fn into_vec(self) -> Vec<Value> {
        self.0.into()
    }
}

/// A `MultiValue` is a `VecDeque` of values, as in mlua (`len`, `iter`, `pop_front`,
/// `push_back`, ...).
impl Deref for MultiValue {
    type Target = VecDeque<Value>;
    fn deref(&self) -> &VecDeque<Value> {
        &self.0
    }
}
impl DerefMut for MultiValue {
    fn deref_mut(&mut self) -> &mut VecDeque<Value> {
        &mut self.0
    }
}

impl FromIterator<Value> for MultiValue {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        MultiValue(iter.into_iter().collect())
    }
}

impl IntoIterator for MultiValue {
    type Item = Value;
    type IntoIter = std::collections::vec_deque::IntoIter<Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Rust values that become any number of Lua values (arguments, results).
pub trait IntoLuaMulti: Sized {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue>;
}

/// Rust values made from any number of Lua values. Missing values are nil, extra
/// ones are ignored.
pub trait FromLuaMulti: Sized {
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self>;

    /// Like `from_lua_multi` for the arguments of a Rust function, the first at
    /// position `pos`: a conversion error names the argument's position.
    fn from_lua_args(values: MultiValue, pos: usize, to: Option<&str>, lua: &Lua) -> Result<Self> {
        Self::from_lua_multi(values, lua).map_err(|e| bad_argument(pos, to, e))
    }
}

pub(crate) fn bad_argument(pos: usize, to: Option<&str>, e: Error) -> Error {
    match e {
        e @ (Error::BadArgument { .. }
        | Error::MemoryError(_)
        | Error::BudgetExhausted
        | Error::Interrupted(_)
        | Error::StateBusy
        | Error::StateDestroyed) => e,
        e => Error::BadArgument {
            to: to.map(str::to_string),
            pos,
            name: None,
            cause: std::sync::Arc::new(e),
        },
    }
}

impl<T: IntoLua> IntoLuaMulti for T {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        let mut m = MultiValue::new();
        m.push_back(self.into_lua(lua)?);
        Ok(m)
    }
}

impl<T: FromLua> FromLuaMulti for T {
    fn from_lua_multi(mut values: MultiValue, lua: &Lua) -> Result<Self> {
        T::from_lua(values.pop_front().unwrap_or(Value::Nil), lua)
    }
}

impl IntoLuaMulti for MultiValue {
    fn into_lua_multi(self, _: &Lua) -> Result<MultiValue> {
        Ok(self)
    }
}

impl FromLuaMulti for MultiValue {
    fn from_lua_multi(values: MultiValue, _: &Lua) -> Result<Self> {
        Ok(values)
    }
}

/// Any number of values of one type: as arguments, "all the rest"; as results, all
/// of them.
///
/// ```
/// use perilune::{Lua, Variadic};
/// let lua = Lua::new();
/// let sum = lua.create_function(|_, xs: Variadic<f64>| Ok(xs.iter().sum::<f64>()))?;
/// lua.globals().set("sum", sum)?;
/// assert_eq!(lua.load("return sum(1, 2, 3.5)").eval::<f64>()?, 6.5);
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variadic<T>(Vec<T>);

impl<T> Variadic<T> {
    pub fn new() -> Self {
        Variadic(Vec::new())
    }
}

impl<T> Deref for Variadic<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}
impl<T> DerefMut for Variadic<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}
impl<T> From<Vec<T>> for Variadic<T> {
    fn from(v: Vec<T>) -> Self {
        Variadic(v)
    }
}
impl<T> From<Variadic<T>> for Vec<T> {
    fn from(v: Variadic<T>) -> Self {
        v.0
    }
}
impl<T> FromIterator<T> for Variadic<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Variadic(iter.into_iter().collect())
    }
}
impl<T> IntoIterator for Variadic<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T: IntoLua> IntoLuaMulti for Variadic<T> {
    fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
        self.0.into_iter().map(|v| v.into_lua(lua)).collect()
    }
}

impl<T: FromLua> FromLuaMulti for Variadic<T> {
    fn from_lua_multi(values: MultiValue, lua: &Lua) -> Result<Self> {
        values.into_iter().map(|v| T::from_lua(v, lua)).collect()
    }
    fn from_lua_args(values: MultiValue, pos: usize, to: Option<&str>, lua: &Lua) -> Result<Self> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| T::from_lua(v, lua).map_err(|e| bad_argument(pos + i, to, e)))
            .collect()
    }
}

impl IntoLuaMulti for () {
    fn into_lua_multi(self, _: &Lua) -> Result<MultiValue> {
        Ok(MultiValue::new())
    }
}

impl FromLuaMulti for () {
    fn from_lua_multi(_: MultiValue, _: &Lua) -> Result<Self> {
        Ok(())
    }
}

macro_rules! impl_tuple {
    ($($name:ident),* ; $last:ident) => {
        impl<$($name: IntoLua,)* $last: IntoLuaMulti> IntoLuaMulti for ($($name,)* $last,) {
            #[allow(non_snake_case)]
            fn into_lua_multi(self, lua: &Lua) -> Result<MultiValue> {
                let ($($name,)* $last,) = self;
                let mut out = MultiValue::new();
                $( out.push_back($name.into_lua(lua)?); )*
                for v in $last.into_lua_multi(lua)? {
                    out.push_back(v);
                }
                Ok(out)
            }
        }

        impl<$($name: FromLua,)* $last: FromLuaMulti> FromLuaMulti for ($($name,)* $last,) {
            #[allow(non_snake_case, unused_mut)]
            fn from_lua_multi(mut values: MultiValue, lua: &Lua) -> Result<Self> {
                $( let $name = $name::from_lua(values.pop_front().unwrap_or(Value::Nil), lua)?; )*
                let $last = $last::from_lua_multi(values, lua)?;
                Ok(($($name,)* $last,))
            }
            #[allow(non_snake_case, unused_mut, unused_assignments)]
            fn from_lua_args(mut values: MultiValue, pos: usize, to: Option<&str>, lua: &Lua) -> Result<Self> {
                let mut i = pos;
                $(
                    let $name = $name::from_lua(values.pop_front().unwrap_or(Value::Nil), lua)
                        .map_err(|e| bad_argument(i, to, e))?;
                    i += 1;
                )*
                let $last = $last::from_lua_args(values, i, to, lua)?;
                Ok(($($name,)* $last,))
            }
        }
    };
}

impl_tuple!(; A);
impl_tuple!(A; B);
impl_tuple!(A, B; C);
impl_tuple!(A, B, C; D);
impl_tuple!(A, B, C, D; E);
impl_tuple!(A, B, C, D, E; F);
impl_tuple!(A, B, C, D, E, F; G);
impl_tuple!(A, B, C, D, E, F, G; H);
impl_tuple!(A, B, C, D, E, F, G, H; I);
impl_tuple!(A, B, C, D, E, F, G, H, I; J);
impl_tuple!(A, B, C, D, E, F, G, H, I, J; K);
impl_tuple!(A, B, C, D, E, F, G, H, I, J, K; L);
