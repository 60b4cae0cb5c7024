//! [`Table`]: a handle to a Lua table.

use std::marker::PhantomData;

use crate::value::Value as Raw;

use super::error::{Error, Result};
use super::state::{protect, LuaRef};
use super::value::{FromLua, IntoLua, Value};

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
#[derive(Clone, Debug, PartialEq)]
pub struct Table(pub(crate) LuaRef);

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

    /// `t[key] = nil`, raw.
    pub fn raw_remove(&self, key: impl IntoLua) -> Result<()> {
        let lua = &self.0.lua()?;
        let k = key.into_lua(lua)?;
        lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            if kr.is_nil() || kr.as_number().is_some_and(f64::is_nan) {
                return Ok(());
            }
            let t = self.raw_table()?;
            if t.get(kr).is_nil() {
                return Ok(());
            }
            protect(st, raw, |st| st.table_set(t, kr, Raw::NIL))
        })
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

    /// Remove every entry (raw).
    pub fn clear(&self) -> Result<()> {
        let keys: Vec<Value> = self
            .pairs::<Value, Value>()
            .map(|p| p.map(|(k, _)| k))
            .collect::<Result<_>>()?;
        for k in keys {
            self.raw_remove(k)?;
        }
        Ok(())
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
