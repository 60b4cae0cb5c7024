//! [`Table`]: a handle to a Lua table.

use std::marker::PhantomData;

use crate::value::Value as Raw;

use super::error::{Error, Result};
use super::function::Function;
use super::state::LuaRaw;
use super::state::{protect, LuaRef};
use super::value::{FromLua, IntoLua, Nil, Value};

/// A Lua table.
///
/// `get`/`set` run `__index`/`__newindex` metamethods (and may therefore run Lua
/// code and fail like it); `raw_get`/`raw_set` do not.
///
/// ```
/// let lua = perilune::Lua::new();
/// let t = lua.create_table()?;
/// t.set("name", "moon")?;
/// t.raw_set(1, 10)?;
/// assert_eq!(t.get::<String>("name")?, "moon");
/// assert_eq!(t.raw_get::<i32>(1)?, 10);
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Table(pub(crate) LuaRef);

impl std::fmt::Debug for Table {
    /// `Table(table: 0x...)`; `{:#?}` prints the contents as mlua does:
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t: perilune::Table = lua.load("{1, 2, name = 'x', sub = {true}}").eval()?;
    /// assert_eq!(
    ///     format!("{t:#?}"),
    ///     "{\n  [1] = 1,\n  [2] = 2,\n  name = \"x\",\n  sub = {\n    true,\n  },\n}"
    /// );
    /// # Ok::<(), perilune::Error>(())
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if f.alternate() {
            return std::fmt::Debug::fmt(&Value::Table(self.clone()), f);
        }
        f.debug_tuple("Table").field(&self.0).finish()
    }
}

impl Table {
    /// The VM table. A `Table` handle is only ever made for a table value, so this
    /// is always `Ok`.
    fn raw_table(&self) -> Result<crate::object::GcRef<crate::object::GcTable>> {
        self.0.val.as_table().ok_or(Error::UserDataTypeMismatch)
    }

    /// `t[key] = value`, with `__newindex`.
    pub fn set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let k = key.into_lua(lua)?;
        let v = value.into_lua(lua)?;
        lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            let vr = v.to_raw(st, raw)?;
            let t = self.0.val;
            protect(st, raw, |st| {
                // Keep fresh error userdata rooted while metamethods run.
                st.push(kr)?;
                st.push(vr)?;
                st.newindex_sync(t, kr, vr)
            })?;
            st.pop(2);
            Ok(())
        })
    }

    /// `t[key]`, with `__index`.
    pub fn get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
        let lua = &self.0.lua()?;
        let k = key.into_lua(lua)?;
        let v = lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            let t = self.0.val;
            let v = protect(st, raw, |st| {
                st.push(kr)?;
                let v = st.index_sync(t, kr);
                st.pop(1);
                v
            })?;
            Value::from_raw(lua, st, raw, v)
        })?;
        V::from_lua(v, lua)
    }

    /// Is `t[key]` (with `__index`) not nil?
    pub fn contains_key(&self, key: impl IntoLua) -> Result<bool> {
        Ok(!self.get::<Value>(key)?.is_nil())
    }

    /// `rawset(t, key, value)`. Fails for a nil or NaN key.
    pub fn raw_set(&self, key: impl IntoLua, value: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let k = key.into_lua(lua)?;
        let v = value.into_lua(lua)?;
        lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            if kr.is_nil() {
                return Err(Error::RuntimeError(crate::errmsg::TABLE_INDEX_NIL.into()));
            }
            if kr.as_number().is_some_and(f64::is_nan) {
                return Err(Error::RuntimeError(crate::errmsg::TABLE_INDEX_NAN.into()));
            }
            let vr = v.to_raw(st, raw)?;
            let t = self.raw_table()?;
            protect(st, raw, |st| st.table_set(t, kr, vr))
        })
    }

    /// `rawget(t, key)`.
    pub fn raw_get<V: FromLua>(&self, key: impl IntoLua) -> Result<V> {
        let lua = &self.0.lua()?;
        let k = key.into_lua(lua)?;
        let v = lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            let v = self.raw_table()?.get(kr);
            Value::from_raw(lua, st, raw, v)
        })?;
        V::from_lua(v, lua)
    }

    /// Remove `key`, raw. An integer key is a position in the sequence, as in mlua:
    /// `t[key+1..=#t]` move down one place and `t[#t]` becomes nil (O(n)); a
    /// position outside `1..=#t` is "index out of bounds". Any other key is set to
    /// nil (a nil or NaN key does nothing).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t: perilune::Table = lua.load("{10, 20, 30, k = 1}").eval()?;
    /// t.raw_remove(1)?;
    /// t.raw_remove("k")?;
    /// assert_eq!(t.sequence_values::<i32>().collect::<perilune::Result<Vec<_>>>()?, [20, 30]);
    /// assert!(t.raw_remove(3).is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn raw_remove(&self, key: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let k = key.into_lua(lua)?;
        if let Value::Integer(idx) = k {
            let size = self.raw_len() as i64;
            if idx < 1 || idx > size {
                return Err(out_of_bounds());
            }
            return lua.with_state(|st, raw| {
                let t = self.raw_table()?;
                protect(st, raw, |st| {
                    for i in idx..size {
                        st.table_set(t, Raw::number(i as f64), t.get_int(i + 1))?;
                    }
                    st.table_set(t, Raw::number(size as f64), Raw::NIL)
                })
            });
        }
        lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            let t = self.raw_table()?;
            raw_clear_key(st, raw, t, kr)
        })
    }

    /// `t[#t + 1] = value`, with `__newindex` (Lua 5.1 has no `__len` for tables, so
    /// `#t` is the raw length, as in mlua on LuaJIT).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let log: perilune::Table = lua.load(
    ///     "setmetatable({}, {__newindex = function(t, k, v) rawset(t, k, v .. '!') end})",
    /// ).eval()?;
    /// log.push("a")?;
    /// log.push("b")?;
    /// assert_eq!(log.raw_get::<String>(2)?, "b!");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn push(&self, value: impl IntoLua) -> Result<()> {
        if !self.has_metatable() {
            return self.raw_push(value);
        }
        let n = self.raw_len() as i64;
        self.set(n + 1, value)
    }

    /// Remove and return `t[#t]`, with `__index` and `__newindex` (nil, converted to
    /// `V`, for an empty table).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_sequence_from([1, 2, 3])?;
    /// assert_eq!(t.pop::<i32>()?, 3);
    /// assert_eq!(t.raw_len(), 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn pop<V: FromLua>(&self) -> Result<V> {
        if !self.has_metatable() {
            return self.raw_pop();
        }
        let n = self.raw_len() as i64;
        let v = self.get::<Value>(n)?;
        self.set(n, Nil)?;
        V::from_lua(v, &self.0.lua()?)
    }

    /// `t[#t + 1] = value` without metamethods.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_table()?;
    /// t.raw_push("x")?;
    /// t.raw_push("y")?;
    /// assert_eq!(t.raw_get::<String>(2)?, "y");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn raw_push(&self, value: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let v = value.into_lua(lua)?;
        lua.with_state(|st, raw| {
            let vr = v.to_raw(st, raw)?;
            let t = self.raw_table()?;
            let n = t.length();
            protect(st, raw, |st| st.table_set(t, Raw::number((n + 1) as f64), vr))
        })
    }

    /// Remove and return `t[#t]` without metamethods.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_sequence_from(["a", "b"])?;
    /// assert_eq!(t.raw_pop::<String>()?, "b");
    /// assert_eq!(t.raw_pop::<String>()?, "a");
    /// assert_eq!(t.raw_pop::<Option<String>>()?, None);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn raw_pop<V: FromLua>(&self) -> Result<V> {
        let lua = &self.0.lua()?;
        let v = lua.with_state(|st, raw| {
            let t = self.raw_table()?;
            let n = t.length();
            if n == 0 {
                return Ok(Value::Nil);
            }
            let k = Raw::number(n as f64);
            let v = t.get(k);
            // Make the handle first: the slot still holds the value, and clearing an
            // existing key never allocates.
            let out = Value::from_raw(lua, st, raw, v)?;
            raw_clear_key(st, raw, t, k)?;
            Ok(out)
        })?;
        V::from_lua(v, lua)
    }

    /// Insert `value` at position `idx` of the sequence, moving `t[idx..=#t]` up one
    /// place, without metamethods (O(n)). `idx` must be in `1..=#t + 1`, else the
    /// error is "index out of bounds" (mlua's).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_sequence_from([1, 3])?;
    /// t.raw_insert(2, 2)?;
    /// t.raw_insert(4, 4)?;
    /// assert_eq!(t.sequence_values::<i32>().collect::<perilune::Result<Vec<_>>>()?, [1, 2, 3, 4]);
    /// assert!(t.raw_insert(9, 9).is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn raw_insert(&self, idx: i64, value: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let size = self.raw_len() as i64;
        if idx < 1 || idx > size + 1 {
            return Err(out_of_bounds());
        }
        let v = value.into_lua(lua)?;
        lua.with_state(|st, raw| {
            let vr = v.to_raw(st, raw)?;
            let t = self.raw_table()?;
            protect(st, raw, |st| {
                // Rooted while the table grows (a fresh wrapped error is not yet
                // reachable from anything else).
                st.push(vr)?;
                for i in (idx..=size).rev() {
                    st.table_set(t, Raw::number((i + 1) as f64), t.get_int(i))?;
                }
                st.table_set(t, Raw::number(idx as f64), vr)?;
                st.pop(1);
                Ok(())
            })
        })
    }

    /// Call `f` with every pair, raw, in `next` order; stops at the first error
    /// (a conversion's or `f`'s).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t: perilune::Table = lua.load("{a = 1, b = 2, c = 3}").eval()?;
    /// let mut sum = 0;
    /// t.for_each(|_: String, v: i32| {
    ///     sum += v;
    ///     Ok(())
    /// })?;
    /// assert_eq!(sum, 6);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn for_each<K: FromLua, V: FromLua>(&self, mut f: impl FnMut(K, V) -> Result<()>) -> Result<()> {
        for pair in self.pairs::<K, V>() {
            let (k, v) = pair?;
            f(k, v)?;
        }
        Ok(())
    }

    /// Are the two tables equal? The same table is; otherwise, as mlua does, the
    /// `__eq` metamethod of `self`'s metatable is called, or failing that
    /// `other`'s, and its result's truth is the answer; without one, `false`.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let a = lua.create_table()?;
    /// let b = lua.create_table()?;
    /// assert!(a.equals(&a.clone())?);
    /// assert!(!a.equals(&b)?);
    /// let mt: perilune::Table = lua.load("{__eq = function() return true end}").eval()?;
    /// b.set_metatable(Some(mt))?;
    /// assert!(a.equals(&b)?);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn equals(&self, other: &Table) -> Result<bool> {
        if self == other {
            return Ok(true);
        }
        for t in [self, other] {
            if let Some(mt) = t.metatable()? {
                if let Some(eq) = mt.raw_get::<Option<Function>>("__eq")? {
                    return eq.call::<Value>((self, other)).map(|v| v.is_truthy());
                }
            }
        }
        Ok(false)
    }

    /// Does the table have a metatable? False once the state is closed.
    pub fn has_metatable(&self) -> bool {
        let Ok(_lua) = self.0.lua() else { return false };
        self.raw_table().is_ok_and(|t| t.metatable.is_some())
    }

    /// The table's address, for hashing and debug output (as `tostring` shows it
    /// without `__tostring`); it cannot be turned back into the table.
    pub fn to_pointer(&self) -> *const std::ffi::c_void {
        super::value::ref_pointer(&self.0)
    }

    /// The length `#t` (Lua 5.1: tables have no `__len`, so this is the border of
    /// the sequence part).
    pub fn len(&self) -> Result<i64> {
        Ok(self.raw_len() as i64)
    }

    /// The raw length (a border of the table); 0 once the state is closed.
    pub fn raw_len(&self) -> usize {
        let Ok(_lua) = self.0.lua() else { return 0 };
        // `_lua` keeps the state open while the table is read.
        self.raw_table().map_or(0, |t| t.length())
    }

    /// Is the table empty (no sequence, no other key)? True once the state is
    /// closed.
    pub fn is_empty(&self) -> bool {
        let Ok(_lua) = self.0.lua() else { return true };
        self.raw_table()
            .map_or(true, |t| t.length() == 0 && t.next(Raw::NIL).ok().flatten().is_none())
    }

    /// Set or remove the metatable.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_table()?;
    /// let mt = lua.create_table()?;
    /// mt.set("__index", lua.create_function(|_, (_, k): (perilune::Table, String)| Ok(k.len()))?)?;
    /// t.set_metatable(Some(mt))?;
    /// assert_eq!(t.get::<usize>("four")?, 4);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_metatable(&self, metatable: Option<Table>) -> Result<()> {
        self.0.lua()?.with_state(|st, raw| {
            let t = self.raw_table()?;
            let mt = match &metatable {
                Some(m) => m.0.raw_in(raw)?.as_table(),
                None => None,
            };
            t.get_mut().metatable = mt;
            crate::gc::barrier_forward(st, t.header(), mt.map_or(Raw::NIL, Raw::table));
            Ok(())
        })
    }

    /// The metatable, if any (ignores `__metatable`). mlua 0.10's name; the same as
    /// [`Table::get_metatable`].
    pub fn metatable(&self) -> Result<Option<Table>> {
        self.get_metatable()
    }

    /// The metatable, if any (ignores `__metatable`).
    pub fn get_metatable(&self) -> Result<Option<Table>> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| match self.raw_table()?.metatable {
            Some(mt) => Ok(Some(Table(LuaRef::new(lua, st, raw, Raw::table(mt))?))),
            None => Ok(None),
        })
    }

    /// Iterate over all pairs, raw (no `__pairs` in Lua 5.1), in `next` order.
    /// Each item is converted to `(K, V)`; a conversion error is yielded as `Err`.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t: perilune::Table = lua.load("return {a = 1, b = 2}").eval()?;
    /// let mut sum = 0;
    /// for pair in t.pairs::<String, i32>() {
    ///     let (_, v) = pair?;
    ///     sum += v;
    /// }
    /// assert_eq!(sum, 3);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn pairs<K: FromLua, V: FromLua>(&self) -> TablePairs<K, V> {
        TablePairs {
            table: self.clone(),
            key: Some(Value::Nil),
            _p: PhantomData,
        }
    }

    /// Iterate over `t[1]`, `t[2]`, ... (raw) until the first nil.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t: perilune::Table = lua.load("return {1, 2, 3, nil, 5}").eval()?;
    /// let v: Vec<i32> = t.sequence_values().collect::<Result<_, _>>()?;
    /// assert_eq!(v, [1, 2, 3]);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn sequence_values<V: FromLua>(&self) -> TableSequence<V> {
        TableSequence {
            table: self.clone(),
            index: 1,
            done: false,
            _p: PhantomData,
        }
    }

    /// Remove every entry, raw (the metatable stays).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t: perilune::Table = lua.load("{1, 2, x = 3}").eval()?;
    /// t.clear()?;
    /// assert!(t.is_empty());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn clear(&self) -> Result<()> {
        let keys: Vec<Value> = self
            .pairs::<Value, Value>()
            .map(|p| p.map(|(k, _)| k))
            .collect::<Result<_>>()?;
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| {
            let t = self.raw_table()?;
            for k in &keys {
                let kr = k.to_raw(st, raw)?;
                raw_clear_key(st, raw, t, kr)?;
            }
            Ok(())
        })
    }

    /// The next raw pair after `key` (`Value::Nil` to start), or `None` at the end.
    fn next_pair(&self, key: &Value) -> Result<Option<(Value, Value)>> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| {
            let kr = key.to_raw(st, raw)?;
            match self.raw_table()?.next(kr) {
                Ok(Some((k, v))) => {
                    let k = Value::from_raw(lua, st, raw, k)?;
                    let v = Value::from_raw(lua, st, raw, v)?;
                    Ok(Some((k, v)))
                }
                Ok(None) => Ok(None),
                Err(()) => Err(Error::RuntimeError(crate::errmsg::NEXT_KEY.into())),
            }
        })
    }
}

/// mlua's error for a position outside the sequence.
fn out_of_bounds() -> Error {
    Error::runtime(crate::errmsg::INDEX_OUT_OF_BOUNDS)
}

/// `t[k] = nil`, raw, for a key that may be absent, nil or NaN (then nothing
/// happens). Clearing an existing key never allocates.
fn raw_clear_key(
    st: &mut crate::vm::state::State,
    raw: &LuaRaw,
    t: crate::object::GcRef<crate::object::GcTable>,
    k: Raw,
) -> Result<()> {
    if k.is_nil() || k.as_number().is_some_and(f64::is_nan) || t.get(k).is_nil() {
        return Ok(());
    }
    protect(st, raw, |st| st.table_set(t, k, Raw::NIL))
}

/// Iterator of [`Table::pairs`].
pub struct TablePairs<K, V> {
    table: Table,
    /// The key to continue from; `None` once finished.
    key: Option<Value>,
    _p: PhantomData<fn() -> (K, V)>,
}

impl<K: FromLua, V: FromLua> Iterator for TablePairs<K, V> {
    type Item = Result<(K, V)>;
    fn next(&mut self) -> Option<Self::Item> {
        let key = self.key.take()?;
        match self.table.next_pair(&key) {
            Ok(Some((k, v))) => {
                self.key = Some(k.clone());
                let lua = match self.table.0.lua() {
                    Ok(lua) => lua,
                    Err(e) => return Some(Err(e)),
                };
                Some(K::from_lua(k, &lua).and_then(|k| Ok((k, V::from_lua(v, &lua)?))))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Iterator of [`Table::sequence_values`].
pub struct TableSequence<V> {
    table: Table,
    index: i64,
    done: bool,
    _p: PhantomData<fn() -> V>,
}

impl<V: FromLua> Iterator for TableSequence<V> {
    type Item = Result<V>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let lua = match self.table.0.lua() {
            Ok(lua) => lua,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let lua = &lua;
        let v = match self.table.raw_table() {
            Ok(t) => t.get_int(self.index),
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if v.is_nil() {
            self.done = true;
            return None;
        }
        self.index += 1;
        let r = lua
            .with_state(|st, raw| Value::from_raw(lua, st, raw, v))
            .and_then(|v| V::from_lua(v, lua));
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}
