//! serde conversion between Rust values and Lua values ([`LuaSerdeExt`]), behind the
//! `serde` feature; mlua's conventions (docs/embedding.md, "serde").
//!
//! Rust → Lua ([`LuaSerdeExt::to_value`]): sequences and tuples become tables with
//! the array metatable, maps and structs tables, `None` and `()` the `null` light
//! userdata (or `nil`), unit variants their name, other variants `{Variant = ...}`,
//! integers numbers (an integer a double cannot hold exactly is an error, never a
//! rounded number).
//!
//! Lua → Rust ([`LuaSerdeExt::from_value`]): a table is a sequence when it has the
//! array metatable or its keys are exactly `1..n`, else a map; strings that are not
//! UTF-8 are bytes; `nil` and `null` are none/unit. The same walk makes [`Value`],
//! [`Table`] and [`LuaString`] `Serialize` (straight to JSON, say).
//!
//! Invariants: both directions only use the safe API's handles, so every table made
//! or read stays rooted while it is converted and every allocation is counted (a
//! refused one is [`Error::MemoryError`], as anywhere); nesting deeper than the
//! options' `max_depth` is an error, not a stack overflow, and so is a table that
//! contains itself; nothing here panics. The array metatable is made at the first
//! use and kept in the state's host root (out of every script's reach) under a
//! light-userdata key.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use serde::de::{self, DeserializeOwned, IntoDeserializer};
use serde::ser::{self, Serialize};

use crate::errmsg;
use crate::object::{GcRef, GcTable};
use crate::value::Value as Raw;
use crate::vm::state::State;

use super::error::{Error, Result};
use super::state::{protect, Lua, LuaRaw, LuaRef};
use super::string::LuaString;
use super::table::Table;
use super::value::{IntoLua, LightUserData, Value};

/// How deep [`SerializeOptions`] and [`DeserializeOptions`] let values nest by
/// default: LuaJIT's limit for `string.buffer`'s serializer (`LJ_SERIALIZE_DEPTH`).
const DEFAULT_MAX_DEPTH: usize = 100;

/// The most table slots a length hint of a `Serialize` impl reserves up front; the
/// table grows past it as elements come. A hint is not checked against the value,
/// and must not make a table of gigabytes for a few elements.
const MAX_SIZE_HINT: usize = 1 << 16;

mod private {
    pub trait Sealed {}
    impl Sealed for super::Lua {}
}

/// serde conversion, implemented for [`Lua`] (mlua's `LuaSerdeExt`; feature `serde`).
///
/// ```
/// use perilune::{Lua, LuaSerdeExt};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct Config {
///     name: String,
///     ports: Vec<u16>,
///     debug: Option<bool>,
/// }
///
/// let lua = Lua::new();
/// let c = Config { name: "moon".into(), ports: vec![80, 443], debug: None };
/// lua.globals().set("config", lua.to_value(&c)?)?;
/// lua.load("config.ports[3] = 8080; config.debug = true").exec()?;
/// let back: Config = lua.from_value(lua.globals().get("config")?)?;
/// assert_eq!(back, Config { name: "moon".into(), ports: vec![80, 443, 8080], debug: Some(true) });
/// # Ok::<(), perilune::Error>(())
/// ```
pub trait LuaSerdeExt: private::Sealed {
    /// The value that stands for a JSON-style `null`: a light userdata holding the
    /// null pointer. `None` and `()` become it (by default), and it converts back to
    /// `None`/`()`. Unlike `nil`, it can be stored in a table.
    ///
    /// ```
    /// use perilune::{Lua, LuaSerdeExt};
    /// use std::collections::HashMap;
    ///
    /// let lua = Lua::new();
    /// lua.globals().set("null", lua.null())?;
    /// let v = lua.load("return {a = null, b = 'x'}").eval()?;
    /// let m: HashMap<String, Option<String>> = lua.from_value(v)?;
    /// assert_eq!(m["a"], None);
    /// assert_eq!(m["b"].as_deref(), Some("x"));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    fn null(&self) -> Value;

    /// The metatable that marks a table as an array: [`from_value`](Self::from_value)
    /// turns such a table into a sequence (its elements `1..#t`) even when it is
    /// empty or has other keys. Sequences made by [`to_value`](Self::to_value) carry
    /// it. It hides itself (`__metatable = false`). One per state, made at the first
    /// call; unlike mlua's this returns a `Result`, since making the handle (and the
    /// first time the table) allocates under the memory limit.
    ///
    /// ```
    /// use perilune::{Lua, LuaSerdeExt};
    ///
    /// let lua = Lua::new();
    /// lua.globals().set("array_mt", lua.array_metatable()?)?;
    /// let v = lua.load("return setmetatable({}, array_mt)").eval()?;
    /// let j: serde_json::Value = lua.from_value(v)?;
    /// assert_eq!(j.to_string(), "[]");
    /// let v = lua.load("return {}").eval()?;
    /// let j: serde_json::Value = lua.from_value(v)?;
    /// assert_eq!(j.to_string(), "{}");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    fn array_metatable(&self) -> Result<Table>;

    /// Convert a Rust value to a Lua value, with the default [`SerializeOptions`].
    ///
    /// ```
    /// use perilune::{Lua, LuaSerdeExt};
    /// use serde::Serialize;
    ///
    /// #[derive(Serialize)]
    /// enum Shape {
    ///     Dot,
    ///     Circle { r: f64 },
    /// }
    ///
    /// let lua = Lua::new();
    /// lua.globals().set("shapes", lua.to_value(&[Shape::Dot, Shape::Circle { r: 2.0 }])?)?;
    /// lua.load("assert(shapes[1] == 'Dot' and shapes[2].Circle.r == 2)").exec()?;
    /// // Integers must fit a double exactly.
    /// assert!(lua.to_value(&(u64::MAX - 1)).is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    fn to_value<T: Serialize + ?Sized>(&self, t: &T) -> Result<Value>;

    /// [`to_value`](Self::to_value) with options.
    ///
    /// ```
    /// use perilune::{Lua, LuaSerdeExt, SerializeOptions};
    ///
    /// let lua = Lua::new();
    /// let options = SerializeOptions::new().set_array_metatable(false).serialize_none_to_null(false);
    /// lua.globals().set("v", lua.to_value_with(&[Some(1), None, Some(3)], options)?)?;
    /// lua.load("assert(getmetatable(v) == nil and v[1] == 1 and v[2] == nil and v[3] == 3)").exec()?;
    /// # Ok::<(), perilune::Error>(())
    /// ```
    fn to_value_with<T: Serialize + ?Sized>(&self, t: &T, options: SerializeOptions) -> Result<Value>;

    /// Convert a Lua value to a Rust value, with the default [`DeserializeOptions`].
    ///
    /// ```
    /// use perilune::{Lua, LuaSerdeExt};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize, Debug, PartialEq)]
    /// struct User {
    ///     name: String,
    ///     age: u8,
    /// }
    ///
    /// let lua = Lua::new();
    /// let v = lua.load("return {name = 'Ada', age = 36}").eval()?;
    /// assert_eq!(lua.from_value::<User>(v)?, User { name: "Ada".into(), age: 36 });
    /// let v = lua.load("return {name = 'Ada', age = 360}").eval()?;
    /// assert!(lua.from_value::<User>(v).is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    #[allow(clippy::wrong_self_convention)]
    fn from_value<T: DeserializeOwned>(&self, value: Value) -> Result<T>;

    /// [`from_value`](Self::from_value) with options.
    ///
    /// ```
    /// use perilune::{DeserializeOptions, Lua, LuaSerdeExt};
    /// use std::collections::BTreeMap;
    ///
    /// let lua = Lua::new();
    /// let v: perilune::Value = lua.load("return {a = 1, f = print}").eval()?;
    /// assert!(lua.from_value::<BTreeMap<String, i32>>(v.clone()).is_err());
    /// let options = DeserializeOptions::new().deny_unsupported_types(false);
    /// let m: BTreeMap<String, i32> = lua.from_value_with(v, options)?;
    /// assert_eq!(m, BTreeMap::from([("a".to_string(), 1)]));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    #[allow(clippy::wrong_self_convention)]
    fn from_value_with<T: DeserializeOwned>(&self, value: Value, options: DeserializeOptions) -> Result<T>;
}

impl LuaSerdeExt for Lua {
    fn null(&self) -> Value {
        Value::LightUserData(LightUserData(std::ptr::null_mut()))
    }

    fn array_metatable(&self) -> Result<Table> {
        self.with_state(|st, raw| {
            let mt = array_metatable_raw(st, raw)?;
            Ok(Table(LuaRef::new(self, st, raw, Raw::table(mt))?))
        })
    }

    fn to_value<T: Serialize + ?Sized>(&self, t: &T) -> Result<Value> {
        self.to_value_with(t, SerializeOptions::new())
    }

    fn to_value_with<T: Serialize + ?Sized>(&self, t: &T, options: SerializeOptions) -> Result<Value> {
        let r = t.serialize(Serializer {
            lua: self,
            options,
            depth: 0,
        });
        collect_after_memory_error(self, r)
    }

    fn from_value<T: DeserializeOwned>(&self, value: Value) -> Result<T> {
        self.from_value_with(value, DeserializeOptions::new())
    }

    fn from_value_with<T: DeserializeOwned>(&self, value: Value, options: DeserializeOptions) -> Result<T> {
        let r = T::deserialize(Deserializer {
            value,
            options,
            depth: 0,
            visited: Rc::default(),
        });
        collect_after_memory_error(self, r)
    }
}

/// A conversion is many API calls: the one refused an allocation paid the owed
/// collection while the conversion's handles still held what it had made. Now that
/// they are dropped, collect that garbage, so that the host can allocate again at
/// once, as after any API call that fails with [`Error::MemoryError`] (docs/gc.md,
/// "Pacing"). A host's stop raised by a finalizer there replaces the error.
fn collect_after_memory_error<T>(lua: &Lua, r: Result<T>) -> Result<T> {
    if matches!(r, Err(Error::MemoryError(_))) {
        lua.gc_collect()?;
    }
    r
}

/// The key of the array metatable in the host root: the address of a static, as a
/// light userdata (no allocation to look it up, and no string a script could name).
static ARRAY_MT_KEY: u8 = 0;

fn array_mt_key() -> Raw {
    Raw::light_userdata(std::ptr::addr_of!(ARRAY_MT_KEY) as usize)
}

/// The state's array metatable, made (and stored in the host root) at the first call.
fn array_metatable_raw(st: &mut State, raw: &LuaRaw) -> Result<GcRef<GcTable>> {
    let root = st
        .host_root
        .ok_or_else(|| Error::RuntimeError(errmsg::INTERNAL_HOST_ROOT.into()))?;
    let key = array_mt_key();
    if let Some(mt) = root.get(key).as_table() {
        return Ok(mt);
    }
    // No collection runs between making the table and storing it in the root: an
    // allocation never starts one.
    protect(st, raw, |st| {
        let mt = st.new_table(0, 1)?;
        let k = st.str_value(b"__metatable")?;
        st.table_set(mt, k, Raw::FALSE)?;
        st.table_set(root, key, Raw::table(mt))?;
        Ok(mt)
    })
}

/// Options of [`LuaSerdeExt::to_value_with`] (mlua's `SerializeOptions`, plus
/// `max_depth`). Build them with [`SerializeOptions::new`] and the setters.
///
/// ```
/// use perilune::{Lua, LuaSerdeExt, SerializeOptions, Value};
///
/// let lua = Lua::new();
/// let o = SerializeOptions::new().serialize_unit_to_null(false).max_depth(2);
/// assert_eq!(lua.to_value_with(&(), o)?, Value::Nil);
/// assert!(lua.to_value_with(&vec![vec![1]], o).is_ok());
/// assert!(lua.to_value_with(&vec![vec![vec![1]]], o).is_err());
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SerializeOptions {
    /// Give tables made from sequences and tuples the [array
    /// metatable](LuaSerdeExt::array_metatable). Default: true.
    pub set_array_metatable: bool,
    /// `None` becomes [`null`](LuaSerdeExt::null), else `nil`. Default: true.
    pub serialize_none_to_null: bool,
    /// `()` and unit structs become [`null`](LuaSerdeExt::null), else `nil`.
    /// Default: true.
    pub serialize_unit_to_null: bool,
    /// How deeply values may nest (each sequence, map, struct, variant, option and
    /// newtype is a level); deeper is an error. Default: 100. Perilune's own.
    pub max_depth: usize,
}

impl Default for SerializeOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SerializeOptions {
    /// The defaults (mlua's, and a depth limit of 100).
    pub const fn new() -> Self {
        SerializeOptions {
            set_array_metatable: true,
            serialize_none_to_null: true,
            serialize_unit_to_null: true,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
    /// Sets [`set_array_metatable`](Self::set_array_metatable).
    #[must_use]
    pub const fn set_array_metatable(mut self, enabled: bool) -> Self {
        self.set_array_metatable = enabled;
        self
    }
    /// Sets [`serialize_none_to_null`](Self::serialize_none_to_null).
    #[must_use]
    pub const fn serialize_none_to_null(mut self, enabled: bool) -> Self {
        self.serialize_none_to_null = enabled;
        self
    }
    /// Sets [`serialize_unit_to_null`](Self::serialize_unit_to_null).
    #[must_use]
    pub const fn serialize_unit_to_null(mut self, enabled: bool) -> Self {
        self.serialize_unit_to_null = enabled;
        self
    }
    /// Sets [`max_depth`](Self::max_depth).
    #[must_use]
    pub const fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
}

/// Options of [`LuaSerdeExt::from_value_with`] (mlua's `DeserializeOptions`, less
/// `detect_mixed_tables`, plus `max_depth`).
///
/// ```
/// use perilune::{DeserializeOptions, Lua, LuaSerdeExt};
///
/// let lua = Lua::new();
/// let v: perilune::Value = lua.load("local t = {x = 1}; t.me = t; return t").eval()?;
/// assert!(lua.from_value::<serde_json::Value>(v.clone()).is_err()); // recursive
/// let o = DeserializeOptions::new().deny_recursive_tables(false).sort_keys(true);
/// let j: serde_json::Value = lua.from_value_with(v, o)?;
/// assert_eq!(j.to_string(), r#"{"x":1}"#);
/// let v = lua.load("return {}").eval()?;
/// let o = DeserializeOptions::new().encode_empty_tables_as_array(true);
/// assert_eq!(lua.from_value_with::<serde_json::Value>(v, o)?.to_string(), "[]");
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeserializeOptions {
    /// Functions, threads, userdata and light userdata other than `null` are an
    /// error; when false they are skipped inside tables and are unit elsewhere.
    /// Default: true.
    pub deny_unsupported_types: bool,
    /// A table met again inside itself is an error; when false it is skipped there.
    /// Default: true.
    pub deny_recursive_tables: bool,
    /// Visit a map's keys in sorted order (numbers, then strings, then booleans)
    /// instead of `next`'s order. Default: false.
    pub sort_keys: bool,
    /// An empty table without the array metatable is an empty sequence, not an
    /// empty map, where the target type does not say. Default: false.
    pub encode_empty_tables_as_array: bool,
    /// How deeply tables may nest; deeper is an error. Default: 100. Perilune's own.
    pub max_depth: usize,
}

impl Default for DeserializeOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl DeserializeOptions {
    /// The defaults (mlua's, and a depth limit of 100).
    pub const fn new() -> Self {
        DeserializeOptions {
            deny_unsupported_types: true,
            deny_recursive_tables: true,
            sort_keys: false,
            encode_empty_tables_as_array: false,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
    /// Sets [`deny_unsupported_types`](Self::deny_unsupported_types).
    #[must_use]
    pub const fn deny_unsupported_types(mut self, enabled: bool) -> Self {
        self.deny_unsupported_types = enabled;
        self
    }
    /// Sets [`deny_recursive_tables`](Self::deny_recursive_tables).
    #[must_use]
    pub const fn deny_recursive_tables(mut self, enabled: bool) -> Self {
        self.deny_recursive_tables = enabled;
        self
    }
    /// Sets [`sort_keys`](Self::sort_keys).
    #[must_use]
    pub const fn sort_keys(mut self, enabled: bool) -> Self {
        self.sort_keys = enabled;
        self
    }
    /// Sets [`encode_empty_tables_as_array`](Self::encode_empty_tables_as_array).
    #[must_use]
    pub const fn encode_empty_tables_as_array(mut self, enabled: bool) -> Self {
        self.encode_empty_tables_as_array = enabled;
        self
    }
    /// Sets [`max_depth`](Self::max_depth).
    #[must_use]
    pub const fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::SerializeError(msg.to_string())
    }
}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::DeserializeError(msg.to_string())
    }
}

fn too_deep(max: usize) -> String {
    errmsg::format(errmsg::SERDE_TOO_DEEP, &[&max])
}

// --- Rust → Lua -------------------------------------------------------------------------

/// Makes one Lua value from a Rust value; `depth` levels above it.
#[derive(Clone, Copy)]
struct Serializer<'a> {
    lua: &'a Lua,
    options: SerializeOptions,
    depth: usize,
}

impl<'a> Serializer<'a> {
    /// The serializer of a value one level down.
    fn nested(self) -> Result<Serializer<'a>> {
        if self.depth >= self.options.max_depth {
            return Err(Error::SerializeError(too_deep(self.options.max_depth)));
        }
        Ok(Serializer {
            depth: self.depth + 1,
            ..self
        })
    }

    fn value<T: Serialize + ?Sized>(self, v: &T) -> Result<Value> {
        v.serialize(self.nested()?)
    }

    fn null_if(self, to_null: bool) -> Value {
        if to_null {
            self.lua.null()
        } else {
            Value::Nil
        }
    }

    /// A table for a sequence of `len` elements.
    fn sequence(self, len: usize) -> Result<Compound<'a>> {
        let table = self.lua.create_table_with_capacity(len.min(MAX_SIZE_HINT), 0)?;
        if self.options.set_array_metatable {
            table.set_metatable(Some(self.lua.array_metatable()?))?;
        }
        Ok(Compound {
            ser: self,
            table,
            next: 1,
            key: None,
            variant: None,
        })
    }

    /// A table for a map or struct of `len` entries.
    fn record(self, len: usize) -> Result<Compound<'a>> {
        Ok(Compound {
            ser: self,
            table: self.lua.create_table_with_capacity(0, len.min(MAX_SIZE_HINT))?,
            next: 1,
            key: None,
            variant: None,
        })
    }

    /// `{[variant] = inner}`.
    fn variant(self, variant: &'static str, inner: Value) -> Result<Value> {
        let t = self.lua.create_table_with_capacity(0, 1)?;
        t.raw_set(variant, inner)?;
        Ok(Value::Table(t))
    }

    /// An `i128`/`u128` that is not an `i64` or `u64`: a number if a double holds it
    /// exactly.
    fn wide(self, exact: Option<f64>, from: &'static str) -> Result<Value> {
        exact.map(Value::Number).ok_or(Error::ToLuaConversionError {
            from,
            to: "number",
            message: Some(errmsg::INTEGER_NOT_EXACT.into()),
        })
    }
}

macro_rules! serialize_int {
    ($($name:ident: $t:ty),*) => {$(
        fn $name(self, v: $t) -> Result<Value> {
            v.into_lua(self.lua)
        }
    )*};
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Boolean(v))
    }

    serialize_int!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64);
    serialize_int!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_i128(self, v: i128) -> Result<Value> {
        if let Ok(i) = i64::try_from(v) {
            return self.serialize_i64(i);
        }
        if let Ok(u) = u64::try_from(v) {
            return self.serialize_u64(u);
        }
        // A double holds `v` exactly if converting back gives `v` (below 2^127,
        // where `as` would saturate).
        let f = v as f64;
        self.wide(
            ((-TWO_POW_127..TWO_POW_127).contains(&f) && f as i128 == v).then_some(f),
            "i128",
        )
    }

    fn serialize_u128(self, v: u128) -> Result<Value> {
        if let Ok(u) = u64::try_from(v) {
            return self.serialize_u64(u);
        }
        let f = v as f64;
        self.wide((f < TWO_POW_128 && f as u128 == v).then_some(f), "u128")
    }

    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Number(f64::from(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Number(v))
    }

    fn serialize_char(self, v: char) -> Result<Value> {
        v.into_lua(self.lua)
    }

    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::String(self.lua.create_string(v)?))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::String(self.lua.create_string(v)?))
    }

    fn serialize_none(self) -> Result<Value> {
        Ok(self.null_if(self.options.serialize_none_to_null))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value> {
        self.value(v)
    }

    fn serialize_unit(self) -> Result<Value> {
        Ok(self.null_if(self.options.serialize_unit_to_null))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<Value> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, v: &T) -> Result<Value> {
        self.value(v)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value> {
        let inner = self.value(v)?;
        self.variant(variant, inner)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>> {
        self.sequence(len.unwrap_or(0))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.sequence(len)
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.sequence(len)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>> {
        let mut c = self.nested()?.sequence(len)?;
        c.variant = Some((self, variant));
        Ok(c)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>> {
        self.record(len.unwrap_or(0))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.record(len)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>> {
        let mut c = self.nested()?.record(len)?;
        c.variant = Some((self, variant));
        Ok(c)
    }
}

/// A table being filled: a sequence (elements at `next`, `next + 1`, ...) or a
/// record (keys and values); for a variant, the serializer that wraps it in
/// `{[variant] = table}` at the end.
struct Compound<'a> {
    ser: Serializer<'a>,
    table: Table,
    next: i64,
    /// A map's key, between `serialize_key` and `serialize_value`.
    key: Option<Value>,
    variant: Option<(Serializer<'a>, &'static str)>,
}

impl<'a> Compound<'a> {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        let v = self.ser.value(v)?;
        self.table.raw_set(self.next, v)?;
        self.next += 1;
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        let v = self.ser.value(v)?;
        self.table.raw_set(key, v)
    }

    fn finish(self) -> Result<Value> {
        match self.variant {
            Some((outer, name)) => outer.variant(name, Value::Table(self.table)),
            None => Ok(Value::Table(self.table)),
        }
    }
}

/// The four sequence-like serde traits: each element is the next array slot.
macro_rules! sequence_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl<'a> ser::$trait for Compound<'a> {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.push(v)
            }
            fn end(self) -> Result<Value> {
                self.finish()
            }
        }
    )*};
}

sequence_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<'a> ser::SerializeMap for Compound<'a> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(self.ser.value(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        // serde calls `serialize_key` first; a missing key is a nil key, which
        // `raw_set` refuses with Lua's "table index is nil".
        let key = self.key.take().unwrap_or(Value::Nil);
        let v = self.ser.value(v)?;
        self.table.raw_set(key, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl<'a> ser::SerializeStruct for Compound<'a> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        self.field(key, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl<'a> ser::SerializeStructVariant for Compound<'a> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        self.field(key, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

// --- Lua → Rust -------------------------------------------------------------------------

/// The tables on the path from the value converted to the one being read, by address.
type Visited = Rc<RefCell<HashSet<u64>>>;

/// Reads one Lua value; `depth` tables above it.
struct Deserializer {
    value: Value,
    options: DeserializeOptions,
    depth: usize,
    visited: Visited,
}

/// What deciding between sequence and map needs to know about a table.
struct Shape {
    /// `#t` (raw).
    len: usize,
    /// Non-nil entries.
    entries: usize,
    /// Non-nil entries at keys `1..=len`.
    in_sequence: usize,
    /// Whether its metatable is the array metatable.
    array_mt: bool,
}

fn shape(t: &Table) -> Result<Shape> {
    t.0.lua()?.with_state(|st, raw| {
        let g = t.0.raw_in(raw)?.as_table().ok_or(Error::UserDataTypeMismatch)?;
        let array_mt = match (g.metatable, st.host_root) {
            (Some(mt), Some(root)) => Raw::raw_equal(Raw::table(mt), root.get(array_mt_key())),
            _ => false,
        };
        let len = g.length();
        let (mut entries, mut in_sequence) = (0, 0);
        for (k, _) in g.iter() {
            entries += 1;
            if k.as_number()
                .is_some_and(|n| n >= 1.0 && n <= len as f64 && n.fract() == 0.0)
            {
                in_sequence += 1;
            }
        }
        Ok(Shape {
            len,
            entries,
            in_sequence,
            array_mt,
        })
    })
}

/// The table's address, its identity for cycle detection.
fn table_id(t: &Table) -> u64 {
    t.0.val.bits()
}

/// Marks a table as being read until dropped.
struct Entered {
    visited: Visited,
    id: u64,
}

impl Entered {
    fn new(t: &Table, visited: &Visited) -> Result<Entered> {
        let id = table_id(t);
        if !visited.borrow_mut().insert(id) {
            return Err(Error::DeserializeError(errmsg::SERDE_RECURSIVE_TABLE.into()));
        }
        Ok(Entered {
            visited: Rc::clone(visited),
            id,
        })
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.visited.borrow_mut().remove(&self.id);
    }
}

/// Whether `v` is the [`null`](LuaSerdeExt::null) value.
fn is_null(v: &Value) -> bool {
    matches!(v, Value::LightUserData(p) if p.0.is_null())
}

/// A value serde has no shape for.
fn is_unsupported(v: &Value) -> bool {
    match v {
        Value::Function(_) | Value::Thread(_) | Value::UserData(_) | Value::Error(_) => true,
        Value::LightUserData(_) => !is_null(v),
        _ => false,
    }
}

impl Deserializer {
    /// The deserializer of `value`, one level below this one.
    fn child(&self, value: Value) -> Result<Deserializer> {
        if self.depth >= self.options.max_depth {
            return Err(Error::DeserializeError(too_deep(self.options.max_depth)));
        }
        Ok(Deserializer {
            value,
            options: self.options,
            depth: self.depth + 1,
            visited: Rc::clone(&self.visited),
        })
    }

    /// Whether an element or entry holding `v` is left out: an unsupported value
    /// or a table being read, when the options allow them (else they are errors).
    fn skip(&self, v: &Value) -> Result<bool> {
        match v {
            Value::Table(t) if self.visited.borrow().contains(&table_id(t)) => {
                if self.options.deny_recursive_tables {
                    return Err(Error::DeserializeError(errmsg::SERDE_RECURSIVE_TABLE.into()));
                }
                Ok(true)
            }
            v => Ok(!self.options.deny_unsupported_types && is_unsupported(v)),
        }
    }

    fn unsupported(&self) -> Error {
        Error::DeserializeError(errmsg::format(
            errmsg::SERDE_UNSUPPORTED_TYPE,
            &[&self.value.type_name()],
        ))
    }

    fn seq<'de, V: de::Visitor<'de>>(&self, t: Table, len: usize, visitor: V) -> Result<V::Value> {
        let _entered = Entered::new(&t, &self.visited)?;
        let mut access = SeqAccess {
            de: self,
            table: t,
            next: 1,
            len,
        };
        let v = visitor.visit_seq(&mut access)?;
        if access.next <= len {
            return Err(de::Error::invalid_length(len, &"fewer elements in the table"));
        }
        Ok(v)
    }

    fn map<'de, V: de::Visitor<'de>>(&self, t: Table, visitor: V) -> Result<V::Value> {
        let _entered = Entered::new(&t, &self.visited)?;
        let mut access = MapAccess {
            de: self,
            pairs: self.pairs(&t)?,
            value: None,
        };
        visitor.visit_map(&mut access)
    }

    /// The table's entries, sorted if the options say so.
    fn pairs(&self, t: &Table) -> Result<Pairs> {
        Ok(if self.options.sort_keys {
            let mut v = t.pairs::<Value, Value>().collect::<Result<Vec<_>>>()?;
            // Reversed: entries are popped from the end.
            v.sort_by(|(a, _), (b, _)| key_order(b, a));
            Pairs::Sorted(v)
        } else {
            Pairs::Next(t.pairs())
        })
    }

    /// The table's length if it reads as a sequence where the target type does not
    /// say (see the module documentation), `None` if it reads as a map.
    fn sequence_len(&self, t: &Table) -> Result<Option<usize>> {
        let s = shape(t)?;
        Ok(
            if s.array_mt || (s.len > 0 && s.in_sequence == s.len && s.entries == s.len) {
                Some(s.len)
            } else if s.entries == 0 && self.options.encode_empty_tables_as_array {
                Some(0)
            } else {
                None
            },
        )
    }

    fn table_or_error<'de, V: de::Visitor<'de>>(&self, visitor: &V) -> Result<Table> {
        match &self.value {
            Value::Table(t) => Ok(t.clone()),
            v if is_unsupported(v) && self.options.deny_unsupported_types => Err(self.unsupported()),
            v => Err(invalid_type(v, visitor)),
        }
    }
}

/// serde's type error for a Lua value where `expected` was wanted.
fn invalid_type(v: &Value, expected: &dyn de::Expected) -> Error {
    let unexpected = match v {
        Value::Nil => de::Unexpected::Unit,
        Value::Boolean(b) => de::Unexpected::Bool(*b),
        Value::Integer(i) => de::Unexpected::Signed(*i),
        Value::Number(n) => de::Unexpected::Float(*n),
        Value::String(s) => {
            let bytes = match s.try_as_bytes() {
                Ok(b) => b,
                Err(e) => return e,
            };
            return match std::str::from_utf8(&bytes) {
                Ok(text) => de::Error::invalid_type(de::Unexpected::Str(text), expected),
                Err(_) => de::Error::invalid_type(de::Unexpected::Bytes(&bytes), expected),
            };
        }
        v => de::Unexpected::Other(v.type_name()),
    };
    de::Error::invalid_type(unexpected, expected)
}

/// The order of `sort_keys`: numbers, strings, booleans, then the rest, each in its
/// natural order (the rest by address).
fn key_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Integer(_) | Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Boolean(_) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => (*x.as_bytes()).cmp(&*y.as_bytes()),
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        _ if rank(a) == 0 && rank(b) == 0 => {
            let (x, y) = (a.as_number().unwrap_or(0.0), b.as_number().unwrap_or(0.0));
            x.total_cmp(&y)
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Whole doubles in `[2^63, 2^64)` are read as `u64`s, not `i64`s; `i128`/`u128`
/// take whole doubles below 2^127 and 2^128.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_POW_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;

/// A whole number in `[2^63, 2^64)` as the `u64` it is.
fn beyond_i64(n: f64) -> Option<u64> {
    (n.fract() == 0.0 && (TWO_POW_63..TWO_POW_64).contains(&n)).then_some(n as u64)
}

impl<'de> de::Deserializer<'de> for Deserializer {
    type Error = Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match &self.value {
            Value::Nil => visitor.visit_unit(),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Number(n) => match beyond_i64(*n) {
                Some(u) => visitor.visit_u64(u),
                None => visitor.visit_f64(*n),
            },
            Value::String(s) => {
                let bytes = s.try_as_bytes()?;
                match std::str::from_utf8(&bytes) {
                    Ok(text) => visitor.visit_str(text),
                    Err(_) => visitor.visit_bytes(&bytes),
                }
            }
            Value::Table(t) => match self.sequence_len(t)? {
                Some(len) => self.seq(t.clone(), len, visitor),
                None => self.map(t.clone(), visitor),
            },
            v if is_null(v) => visitor.visit_none(),
            _ if self.options.deny_unsupported_types => Err(self.unsupported()),
            _ => visitor.visit_unit(),
        }
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.value.is_nil() || is_null(&self.value) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if is_null(&self.value) {
            visitor.visit_unit()
        } else {
            self.deserialize_any(visitor)
        }
    }

    fn deserialize_unit_struct<V: de::Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let t = self.table_or_error(&visitor)?;
        // The sequence part; other keys are left out, as `Vec<T>: FromLua` does.
        let len = t.raw_len();
        self.seq(t, len, visitor)
    }

    fn deserialize_tuple<V: de::Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let t = self.table_or_error(&visitor)?;
        self.map(t, visitor)
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match &self.value {
            Value::String(s) => {
                let variant = String::from(&*s.to_str()?);
                visitor.visit_enum(EnumAccess {
                    de: &self,
                    variant,
                    value: None,
                })
            }
            Value::Table(t) => {
                let _entered = Entered::new(t, &self.visited)?;
                let mut pairs = t.pairs::<Value, Value>();
                let single = &"a table with a single key";
                let (k, v) = match pairs.next() {
                    Some(kv) => kv?,
                    None => return Err(de::Error::invalid_length(0, single)),
                };
                if pairs.next().is_some() {
                    return Err(de::Error::invalid_length(2, single));
                }
                let variant = match &k {
                    Value::String(s) => String::from(&*s.to_str()?),
                    k => return Err(invalid_type(k, &"a variant name")),
                };
                if self.skip(&v)? {
                    return Err(self.child(v)?.unsupported());
                }
                visitor.visit_enum(EnumAccess {
                    de: &self,
                    variant,
                    value: Some(v),
                })
            }
            v => Err(invalid_type(v, &"a variant name or a table")),
        }
    }

    fn deserialize_i128<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Number(n) if n.fract() == 0.0 && (-TWO_POW_127..TWO_POW_127).contains(&n) => {
                visitor.visit_i128(n as i128)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u128<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Number(n) if n.fract() == 0.0 && (0.0..TWO_POW_128).contains(&n) => visitor.visit_u128(n as u128),
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes
        byte_buf identifier ignored_any
    }
}

/// The elements `next..=len` of a table.
struct SeqAccess<'a> {
    de: &'a Deserializer,
    table: Table,
    next: usize,
    len: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        while self.next <= self.len {
            let v: Value = self.table.raw_get(self.next as i64)?;
            self.next += 1;
            if self.de.skip(&v)? {
                continue;
            }
            return seed.deserialize(self.de.child(v)?).map(Some);
        }
        Ok(None)
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.len + 1).saturating_sub(self.next))
    }
}

/// A table's entries, in `next` order or sorted.
enum Pairs {
    Next(super::table::TablePairs<Value, Value>),
    Sorted(Vec<(Value, Value)>),
}

impl Iterator for Pairs {
    type Item = Result<(Value, Value)>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Pairs::Next(p) => p.next(),
            Pairs::Sorted(v) => v.pop().map(Ok),
        }
    }
}

struct MapAccess<'a> {
    de: &'a Deserializer,
    pairs: Pairs,
    /// The value of the key just read.
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        for kv in self.pairs.by_ref() {
            let (k, v) = kv?;
            if self.de.skip(&k)? || self.de.skip(&v)? {
                continue;
            }
            self.value = Some(v);
            return seed.deserialize(self.de.child(k)?).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        // serde reads a key first; without one the value is nil.
        let v = self.value.take().unwrap_or(Value::Nil);
        seed.deserialize(self.de.child(v)?)
    }
}

/// An enum: its variant's name and, unless it is a unit variant, its content.
struct EnumAccess<'a> {
    de: &'a Deserializer,
    variant: String,
    value: Option<Value>,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = Error;
    type Variant = VariantAccess<'a>;

    fn variant_seed<V: de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantAccess<'a>)> {
        let name: de::value::StringDeserializer<Error> = self.variant.into_deserializer();
        let v = seed.deserialize(name)?;
        Ok((
            v,
            VariantAccess {
                de: self.de,
                value: self.value,
            },
        ))
    }
}

struct VariantAccess<'a> {
    de: &'a Deserializer,
    value: Option<Value>,
}

impl VariantAccess<'_> {
    /// The content, or an error naming what the variant expected.
    fn content(self, what: &'static str) -> Result<Deserializer> {
        match self.value {
            Some(v) => self.de.child(v),
            None => Err(de::Error::invalid_type(de::Unexpected::UnitVariant, &what)),
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.value {
            None => Ok(()),
            Some(_) => Err(de::Error::invalid_type(de::Unexpected::NewtypeVariant, &"unit variant")),
        }
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.content("newtype variant")?)
    }

    fn tuple_variant<V: de::Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.content("tuple variant")?, visitor)
    }

    fn struct_variant<V: de::Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self.content("struct variant")?, visitor)
    }
}

// --- Lua values as serde data (`Serialize`) ----------------------------------------------

/// A Lua value is serde data, read as [`LuaSerdeExt::from_value`] reads it with the
/// default [`DeserializeOptions`]: `serde_json::to_string(&value)` writes it as JSON
/// directly (mlua's `impl Serialize for Value`).
///
/// ```
/// use perilune::{Lua, Value};
///
/// let lua = Lua::new();
/// let v: Value = lua.load("return {list = {1, 2.5, 'three'}, empty = {}}").eval()?;
/// let json = serde_json::to_string(&v).map_err(perilune::Error::external)?;
/// assert!(json == r#"{"list":[1,2.5,"three"],"empty":{}}"# || json == r#"{"empty":{},"list":[1,2.5,"three"]}"#);
/// let f: Value = lua.load("return print").eval()?;
/// assert!(serde_json::to_string(&f).is_err());
/// # Ok::<(), perilune::Error>(())
/// ```
impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Deserializer {
            value: self.clone(),
            options: DeserializeOptions::new(),
            depth: 0,
            visited: Rc::default(),
        }
        .serialize(s)
    }
}

/// A table is serde data as the [`Value`] holding it is.
///
/// ```
/// let lua = perilune::Lua::new();
/// let t: perilune::Table = lua.load("return {1, 2, 3}").eval()?;
/// assert_eq!(serde_json::to_string(&t).map_err(perilune::Error::external)?, "[1,2,3]");
/// # Ok::<(), perilune::Error>(())
/// ```
impl Serialize for Table {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Value::Table(self.clone()).serialize(s)
    }
}

/// A string is serde data: text if it is UTF-8, else bytes.
///
/// ```
/// let lua = perilune::Lua::new();
/// let s = lua.create_string("moon")?;
/// assert_eq!(serde_json::to_string(&s).map_err(perilune::Error::external)?, r#""moon""#);
/// # Ok::<(), perilune::Error>(())
/// ```
impl Serialize for LuaString {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let bytes = self.try_as_bytes().map_err(foreign)?;
        match std::str::from_utf8(&bytes) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.serialize_bytes(&bytes),
        }
    }
}

/// A Perilune error inside another serializer: its message (without the
/// "deserialize error: " prefix when it is one of this module's).
fn foreign<E: ser::Error>(e: Error) -> E {
    match e {
        Error::DeserializeError(m) => E::custom(m),
        e => E::custom(e),
    }
}

/// The walk of [`Deserializer`] in the other direction: the value it reads, fed to
/// a serde serializer.
impl Serialize for Deserializer {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match &self.value {
            Value::Nil => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Number(n) => match beyond_i64(*n) {
                Some(u) => s.serialize_u64(u),
                None => s.serialize_f64(*n),
            },
            Value::String(text) => text.serialize(s),
            Value::Table(t) => {
                let _entered = Entered::new(t, &self.visited).map_err(foreign)?;
                match self.sequence_len(t).map_err(foreign)? {
                    Some(len) => {
                        let mut seq = s.serialize_seq(Some(len))?;
                        for i in 1..=len {
                            let v: Value = t.raw_get(i as i64).map_err(foreign)?;
                            if !self.skip(&v).map_err(foreign)? {
                                seq.serialize_element(&self.child(v).map_err(foreign)?)?;
                            }
                        }
                        seq.end()
                    }
                    None => {
                        let mut map = s.serialize_map(None)?;
                        for kv in self.pairs(t).map_err(foreign)? {
                            let (k, v) = kv.map_err(foreign)?;
                            if self.skip(&k).map_err(foreign)? || self.skip(&v).map_err(foreign)? {
                                continue;
                            }
                            let k = self.child(k).map_err(foreign)?;
                            map.serialize_entry(&k, &self.child(v).map_err(foreign)?)?;
                        }
                        map.end()
                    }
                }
            }
            v if is_null(v) => s.serialize_none(),
            _ if self.options.deny_unsupported_types => Err(foreign(self.unsupported())),
            _ => s.serialize_unit(),
        }
    }
}
