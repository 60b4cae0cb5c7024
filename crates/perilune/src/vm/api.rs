//! The interface native functions use: arguments, results, errors, calls back into Lua.
//!
//! A native function runs in a frame of its own. Its arguments are the values from
//! the frame's base to the top of the stack; it pushes its results and returns how
//! many it pushed (they are the topmost values). Values a native keeps in Rust locals
//! stay valid until it calls back into Lua ([`State::call`]): only then can the
//! collector run, so anything needed afterwards must be on the stack.
//!
//! Errors: [`State::rt_error`] for plain runtime errors (prefixed with the position of
//! the calling Lua code, like `luaL_error`), [`State::arg_error`] and
//! [`State::type_error`] for "bad argument" errors that name the function.

use crate::object::{GcRef, LuaStr, Table};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

impl State {
    /// Number of arguments of the running native function.
    pub fn arg_count(&self) -> usize {
        todo!()
    }
    /// Argument `i` (1-based), or nil if absent.
    pub fn arg(&self, i: usize) -> Value {
        let _ = i;
        todo!()
    }
    /// Overwrite argument slot `i` (1-based, must exist).
    pub fn set_arg(&mut self, i: usize, v: Value) {
        let _ = (i, v);
        todo!()
    }
    /// Push a value on the stack (grows it if needed).
    pub fn push(&mut self, v: Value) -> LResult<()> {
        let _ = v;
        todo!()
    }
    /// Drop the top `n` values.
    pub fn pop(&mut self, n: usize) {
        let _ = n;
        todo!()
    }
    /// The value `i` slots below the top (0 = topmost).
    pub fn peek(&self, i: usize) -> Value {
        let _ = i;
        todo!()
    }
    /// Push an interned string.
    pub fn push_str(&mut self, s: &[u8]) -> LResult<()> {
        let v = self.str_value(s)?;
        self.push(v)
    }
    /// Upvalue `i` (0-based) of the running native function.
    pub fn native_upval(&self, i: usize) -> Value {
        let _ = i;
        todo!()
    }

    // --- Errors -------------------------------------------------------------------

    /// A runtime error with the position of the calling Lua code prepended
    /// (`file.lua:3: msg`), like `luaL_error`.
    pub fn rt_error(&mut self, msg: &str) -> Throw {
        let _ = msg;
        todo!()
    }
    /// `bad argument #i to 'name' (msg)`.
    pub fn arg_error(&mut self, i: usize, msg: &str) -> Throw {
        let _ = (i, msg);
        todo!()
    }
    /// `bad argument #i to 'name' (expected expected, got typename)`.
    pub fn type_error(&mut self, i: usize, expected: &str) -> Throw {
        let _ = (i, expected);
        todo!()
    }

    // --- Argument checks ----------------------------------------------------------

    /// Any value, but present ("value expected" otherwise).
    pub fn check_any(&mut self, i: usize) -> LResult<Value> {
        if i > self.arg_count() {
            return Err(self.arg_error(i, "value expected"));
        }
        Ok(self.arg(i))
    }
    /// A number, or a string convertible to one.
    pub fn check_number(&mut self, i: usize) -> LResult<f64> {
        let v = self.arg(i);
        match self.to_number(v) {
            Some(n) => Ok(n),
            None => Err(self.type_error(i, "number")),
        }
    }
    pub fn opt_number(&mut self, i: usize, default: f64) -> LResult<f64> {
        if self.arg(i).is_nil() {
            Ok(default)
        } else {
            self.check_number(i)
        }
    }
    /// An integer (numbers are truncated toward zero, as `luaL_checkint` does).
    pub fn check_integer(&mut self, i: usize) -> LResult<i64> {
        let n = self.check_number(i)?;
        Ok(if n.is_finite() { n as i64 } else { 0 })
    }
    pub fn opt_integer(&mut self, i: usize, default: i64) -> LResult<i64> {
        if self.arg(i).is_nil() {
            Ok(default)
        } else {
            self.check_integer(i)
        }
    }
    /// A string, or a number converted to one (the argument slot is updated).
    pub fn check_string(&mut self, i: usize) -> LResult<GcRef<LuaStr>> {
        let v = self.arg(i);
        if let Some(s) = v.as_string() {
            return Ok(s);
        }
        if let Some(n) = v.as_number() {
            let s = self.number_to_str(n)?;
            self.set_arg(i, Value::string(s));
            return Ok(s);
        }
        Err(self.type_error(i, "string"))
    }
    pub fn check_table(&mut self, i: usize) -> LResult<GcRef<Table>> {
        match self.arg(i).as_table() {
            Some(t) => Ok(t),
            None => Err(self.type_error(i, "table")),
        }
    }

    // --- Conversions --------------------------------------------------------------

    /// Number coercion (`tonumber` without base): numbers, and strings that parse.
    pub fn to_number(&self, v: Value) -> Option<f64> {
        if let Some(n) = v.as_number() {
            return Some(n);
        }
        v.as_string().and_then(|s| crate::number::str_to_number(s.as_bytes()))
    }
    /// Format a number as Lua does (`%.14g`) and intern it.
    pub fn number_to_str(&mut self, n: f64) -> LResult<GcRef<LuaStr>> {
        let mut buf = [0u8; 64];
        let len = crate::number::fmt_number(n, &mut buf);
        Ok(self.intern(&buf[..len])?)
    }

    // --- Calls --------------------------------------------------------------------

    /// Call the function `nargs + 1` slots below the top with the `nargs` values above
    /// it, like `lua_call`. Afterwards the function and arguments are replaced by
    /// `nresults` results (all of them if `nresults` is -1). Yields cannot cross this
    /// call ("attempt to yield across C-call boundary").
    pub fn call(&mut self, nargs: usize, nresults: i32) -> LResult<()> {
        let _ = (nargs, nresults);
        todo!()
    }
    /// `tostring(v)`: uses `__tostring` when present. The result is a string value.
    pub fn tostring(&mut self, v: Value) -> LResult<GcRef<LuaStr>> {
        let _ = v;
        todo!()
    }
}
