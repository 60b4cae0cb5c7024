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
/// assert_eq!(t.get::<_, String>("name")?, "moon");
/// assert_eq!(t.raw_get::<_, i32>(1)?, 10);
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table<'lua>(pub(crate) LuaRef<'lua>);

impl<'lua> Table<'lua> {
    /// The VM table. A `Table` handle is only ever made for a table value, so this
    /// is always `Ok`.
    fn raw_table(&self) -> Result<crate::object::GcRef<crate::object::GcTable>> {
        self.0.val.as_table().ok_or(Error::UserDataTypeMismatch)
    }

    /// `t[key] = value`, with `__newindex`.
    pub fn set<K: IntoLua<'lua>, V: IntoLua<'lua>>(&self, key: K, value: V) -> Result<()> {
        let lua = self.0.lua;
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
    pub fn get<K: IntoLua<'lua>, V: FromLua<'lua>>(&self, key: K) -> Result<V> {
        let lua = self.0.lua;
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
    pub fn contains_key<K: IntoLua<'lua>>(&self, key: K) -> Result<bool> {
        Ok(!self.get::<K, Value>(key)?.is_nil())
    }

    /// `rawset(t, key, value)`. Fails for a nil or NaN key.
    pub fn raw_set<K: IntoLua<'lua>, V: IntoLua<'lua>>(&self, key: K, value: V) -> Result<()> {
        let lua = self.0.lua;
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
    pub fn raw_get<K: IntoLua<'lua>, V: FromLua<'lua>>(&self, key: K) -> Result<V> {
        let lua = self.0.lua;
        let k = key.into_lua(lua)?;
        let v = lua.with_state(|st, raw| {
            let kr = k.to_raw(st, raw)?;
            let v = self.raw_table()?.get(kr);
            Value::from_raw(lua, st, raw, v)
        })?;
        V::from_lua(v, lua)
    }

    /// `t[key] = nil`, raw.
    pub fn raw_remove<K: IntoLua<'lua>>(&self, key: K) -> Result<()> {
        let lua = self.0.lua;
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

    /// The raw length (a border of the table).
    pub fn raw_len(&self) -> usize {
        self.raw_table().map_or(0, |t| t.length())
    }

    /// Is `#t == 0`?
    pub fn is_empty(&self) -> bool {
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
    /// assert_eq!(t.get::<_, usize>("four")?, 4);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_metatable(&self, metatable: Option<Table<'lua>>) -> Result<()> {
        self.0.lua.with_state(|st, _| {
            let t = self.raw_table()?;
            let mt = metatable.as_ref().and_then(|m| m.0.val.as_table());
            t.get_mut().metatable = mt;
            crate::gc::barrier_forward(st, t.header(), mt.map_or(Raw::NIL, Raw::table));
            Ok(())
        })
    }

    /// The metatable, if any (ignores `__metatable`).
    pub fn get_metatable(&self) -> Result<Option<Table<'lua>>> {
        let lua = self.0.lua;
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
    pub fn pairs<K: FromLua<'lua>, V: FromLua<'lua>>(&self) -> TablePairs<'lua, K, V> {
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
    pub fn sequence_values<V: FromLua<'lua>>(&self) -> TableSequence<'lua, V> {
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
    fn next_pair(&self, key: &Value<'lua>) -> Result<Option<(Value<'lua>, Value<'lua>)>> {
        let lua = self.0.lua;
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
pub struct TablePairs<'lua, K, V> {
    table: Table<'lua>,
    /// The key to continue from; `None` once finished.
    key: Option<Value<'lua>>,
    _p: PhantomData<fn() -> (K, V)>,
}

impl<'lua, K: FromLua<'lua>, V: FromLua<'lua>> Iterator for TablePairs<'lua, K, V> {
    type Item = Result<(K, V)>;
    fn next(&mut self) -> Option<Self::Item> {
        let key = self.key.take()?;
        match self.table.next_pair(&key) {
            Ok(Some((k, v))) => {
                self.key = Some(k.clone());
                let lua = self.table.0.lua;
                Some(K::from_lua(k, lua).and_then(|k| Ok((k, V::from_lua(v, lua)?))))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Iterator of [`Table::sequence_values`].
pub struct TableSequence<'lua, V> {
    table: Table<'lua>,
    index: i64,
    done: bool,
    _p: PhantomData<fn() -> V>,
}

impl<'lua, V: FromLua<'lua>> Iterator for TableSequence<'lua, V> {
    type Item = Result<V>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let lua = self.table.0.lua;
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
