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

use crate::object::{GcRef, GcStr, GcTable};
use crate::value::Value;
use crate::vm::call::{close_upvals, ensure_stack, precall, Entered, MAX_RUST_DEPTH};
use crate::vm::debug::DebugName;
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::{flags, Cont};
use crate::vm::state::{State, Tm};
use crate::vm::thread::EXTRA_STACK;

impl State {
    /// Number of arguments of the running native function.
    pub fn arg_count(&self) -> usize {
        let th = self.cur;
        match th.frames.last() {
            Some(ci) => th.top.saturating_sub(ci.base as usize),
            None => 0,
        }
    }
    /// Argument `i` (1-based), or nil if absent.
    pub fn arg(&self, i: usize) -> Value {
        let th = self.cur;
        let Some(ci) = th.frames.last() else { return Value::NIL };
        let slot = ci.base as usize + i.wrapping_sub(1);
        if i >= 1 && slot < th.top {
            th.stack[slot]
        } else {
            Value::NIL
        }
    }
    /// Overwrite argument slot `i` (1-based, must exist).
    pub fn set_arg(&mut self, i: usize, v: Value) {
        let th = self.cur;
        let Some(ci) = th.frames.last() else { return };
        let slot = ci.base as usize + i.wrapping_sub(1);
        if i >= 1 && slot < th.top {
            th.get_mut().stack[slot] = v;
        }
    }
    /// Push a value on the stack (grows it if needed).
    pub fn push(&mut self, v: Value) -> LResult<()> {
        let th = self.cur;
        if th.top + EXTRA_STACK >= th.stack.len() {
            ensure_stack(self, th, th.top + 1 + 2 * EXTRA_STACK)?;
        }
        let t = th.get_mut();
        t.stack[t.top] = v;
        t.top += 1;
        Ok(())
    }
    /// Drop the top `n` values.
    pub fn pop(&mut self, n: usize) {
        let t = self.cur.get_mut();
        t.top = t.top.saturating_sub(n);
    }
    /// The value `i` slots below the top (0 = topmost).
    pub fn peek(&self, i: usize) -> Value {
        let th = self.cur;
        match th.top.checked_sub(i + 1) {
            Some(slot) => th.stack[slot],
            None => Value::NIL,
        }
    }
    /// Push an interned string.
    pub fn push_str(&mut self, s: &[u8]) -> LResult<()> {
        let v = self.str_value(s)?;
        self.push(v)
    }
    /// Upvalue `i` (0-based) of the running native function.
    pub fn native_upval(&self, i: usize) -> Value {
        let th = self.cur;
        let Some(ci) = th.frames.last() else { return Value::NIL };
        let Some(f) = th.stack[ci.func as usize].as_function() else {
            return Value::NIL;
        };
        if f.is_lua() {
            return Value::NIL;
        }
        f.native_upvals().get(i).copied().unwrap_or(Value::NIL)
    }
    /// Set upvalue `i` (0-based) of the running native function (nothing happens
    /// when there is no such upvalue).
    pub fn set_native_upval(&mut self, i: usize, v: Value) {
        let th = self.cur;
        let Some(f) = th.frame_at(0).and_then(|ci| th.frame_function(&ci).as_function()) else {
            return;
        };
        if f.is_lua() {
            return;
        }
        if let Some(slot) = f.native_upvals().get_mut(i) {
            *slot = v;
            crate::gc::barrier_forward(self, f.header(), v);
        }
    }

    // --- Errors -------------------------------------------------------------------

    /// A runtime error with the position of the calling Lua code prepended
    /// (`file.lua:3: msg`), like `luaL_error`.
    pub fn rt_error(&mut self, msg: &str) -> Throw {
        self.rt_error_here(msg)
    }
    /// `bad argument #i to 'name' (msg)`.
    pub fn arg_error(&mut self, i: usize, msg: &str) -> Throw {
        self.arg_error_parts(i, &[msg.as_bytes()])
    }
    /// [`State::arg_error`] with the message in parts of any bytes (a script's
    /// strings quoted in it), joined on the heap.
    pub fn arg_error_parts(&mut self, i: usize, msg: &[&[u8]]) -> Throw {
        let idx = self.cur.frames.len().saturating_sub(1);
        let (kind, name) = self.function_name_kind(idx).unwrap_or(("", DebugName::Builtin("?")));
        let name = name.as_bytes();
        // For `obj:name(...)` the caller counts arguments after the receiver.
        let n = if kind == "method" { i.saturating_sub(1) } else { i }.to_string();
        // The message's parts go where the template's last `%s` is.
        let head = if kind == "method" && i == 1 {
            crate::errmsg::Parts::new(crate::errmsg::BAD_SELF, &[name])
        } else {
            crate::errmsg::Parts::new(crate::errmsg::BAD_ARGUMENT, &[n.as_bytes(), name])
        };
        let (tail, head): (&[u8], &[&[u8]]) = match head.split_last() {
            Some((tail, head)) => (tail, head),
            None => (b"", &[]),
        };
        let mut parts: Vec<&[u8]> = head.to_vec();
        parts.extend_from_slice(msg);
        parts.push(tail);
        self.rt_error_parts(&parts)
    }
    /// `bad argument #i to 'name' (expected expected, got typename)`.
    pub fn type_error(&mut self, i: usize, expected: &str) -> Throw {
        let got = if i > self.arg_count() {
            crate::errmsg::NO_VALUE
        } else {
            crate::vm::meta::type_name(self.arg(i))
        };
        self.arg_error(
            i,
            &crate::errmsg::format(crate::errmsg::TYPE_EXPECTED, &[&expected, &got]),
        )
    }

    // --- Argument checks ----------------------------------------------------------

    /// Any value, but present ("value expected" otherwise).
    pub fn check_any(&mut self, i: usize) -> LResult<Value> {
        if i > self.arg_count() {
            return Err(self.arg_error(i, crate::errmsg::VALUE_EXPECTED));
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
    pub fn check_string(&mut self, i: usize) -> LResult<GcRef<GcStr>> {
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
    pub fn check_table(&mut self, i: usize) -> LResult<GcRef<GcTable>> {
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
    pub fn number_to_str(&mut self, n: f64) -> LResult<GcRef<GcStr>> {
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
        let th = self.cur;
        let Some(func) = th.top.checked_sub(nargs + 1) else {
            return Err(self.rt_error_here(crate::errmsg::INTERNAL_CALL));
        };
        if self.rust_depth >= MAX_RUST_DEPTH {
            return Err(self.rt_error_here(crate::errmsg::C_STACK_OVERFLOW));
        }
        self.rust_depth += 1;
        th.get_mut().nny += 1;
        let r = match precall(self, func, nargs, nresults, Cont::Normal, flags::ENTRY) {
            Ok(Entered::Lua) => crate::vm::interp::execute(self),
            Ok(Entered::Native) => Ok(()),
            Err(e) => Err(e),
        };
        th.get_mut().nny -= 1;
        self.rust_depth -= 1;
        r
    }
    /// `tostring(v)`: uses `__tostring` when present. The result is a string value.
    pub fn tostring(&mut self, v: Value) -> LResult<GcRef<GcStr>> {
        let r = self.tostring_value(v)?;
        match r.as_string() {
            Some(s) => Ok(s),
            None => Err(self.rt_error_here(crate::errmsg::TOSTRING_NOT_STRING)),
        }
    }

    // --- Running chunks (used by the command line and hosts) -----------------------

    /// Compile a chunk (or read a binary one, see [`State::load_mode`]) and push it as
    /// a function whose environment is the running thread's globals.
    /// On a syntax error the message is returned as `Throw::Error`.
    pub fn load(&mut self, source: &[u8], chunkname: &[u8]) -> LResult<()> {
        self.load_mode(source, chunkname, None)
    }
    /// [`State::load`] with LuaJIT's `mode` argument: a string holding `t` (text
    /// allowed) and/or `b` (binary allowed); `None` allows both. A chunk starting with
    /// `\x1b` is binary: it is read by `compiler::dump::undump` (only if
    /// [`State::allow_bytecode`] is set) and always verified; other chunks are
    /// compiled. Errors (syntax, malformed or refused binary chunks) are
    /// `Throw::Error` with the message, as `load` returns it.
    pub fn load_mode(&mut self, source: &[u8], chunkname: &[u8], mode: Option<&[u8]>) -> LResult<()> {
        let binary = crate::compiler::dump::is_binary(source);
        if let Some(m) = mode {
            if !m.contains(if binary { &b'b' } else { &b't' }) {
                return Err(self.error_from_text(crate::errmsg::LOAD_WRONG_MODE));
            }
        }
        let p = if binary {
            if !self.allow_bytecode {
                return Err(self.error_from_text(crate::errmsg::LOAD_BINARY_TEXT_MODE));
            }
            match crate::compiler::dump::undump(self, source, chunkname) {
                Ok(p) => p,
                Err(e) => {
                    use crate::compiler::dump::UndumpError;
                    // LuaJIT names a binary chunk loaded under its own text "(binary)".
                    let name = if crate::compiler::dump::is_binary(chunkname) {
                        "(binary)".to_string()
                    } else {
                        crate::compiler::chunk_id(chunkname)
                    };
                    let what = match e {
                        UndumpError::Oom => return Err(Throw::Oom),
                        UndumpError::Incompatible => "incompatible",
                        UndumpError::Malformed(_) => "malformed",
                    };
                    // Another runtime's bytecode (a header LuaJIT 2.x or PUC Lua would
                    // read) says whose it is: Perilune runs only its own format
                    // (docs/bytecode-dump.md).
                    let whose = match source {
                        [0x1b, b'L', b'J', 1 | 2, flags, ..] if *flags < 0x10 => crate::errmsg::BYTECODE_OF_LUAJIT,
                        [0x1b, b'L', b'u', b'a', 0x50..=0x54, ..] => crate::errmsg::BYTECODE_OF_PUC,
                        _ => "",
                    };
                    let parts = [name.as_bytes(), what.as_bytes(), whose.as_bytes()];
                    return Err(self.error_at(None, &crate::errmsg::Parts::new(crate::errmsg::LOAD_BYTECODE, &parts)));
                }
            }
        } else {
            let p = crate::compiler::compile(self, source, chunkname)?;
            // Debug builds check every chunk the compiler produces before running it.
            #[cfg(debug_assertions)]
            if let Err(e) = crate::compiler::verify::verify(p) {
                let e = e.to_string();
                return Err(self.error_at(
                    None,
                    &crate::errmsg::Parts::new(crate::errmsg::INTERNAL_VERIFY, &[e.as_bytes()]),
                ));
            }
            p
        };
        self.push_chunk(p)
    }

    /// Compile a text chunk read through `reader` (`load` with a function) and push
    /// it; `first` is the reader's first piece, already read (so the caller could
    /// tell a binary chunk, which it reads whole, from text). The collector is locked
    /// meanwhile (see `Gc::locked`).
    pub fn load_reader(&mut self, first: &[u8], reader: Value, chunkname: &[u8]) -> LResult<()> {
        self.gc.locked += 1;
        let r = crate::compiler::compile_reader(self, first, reader, chunkname);
        self.gc.locked -= 1;
        let p = r?;
        #[cfg(debug_assertions)]
        if let Err(e) = crate::compiler::verify::verify(p) {
            let e = e.to_string();
            return Err(self.error_at(
                None,
                &crate::errmsg::Parts::new(crate::errmsg::INTERNAL_VERIFY, &[e.as_bytes()]),
            ));
        }
        self.push_chunk(p)
    }

    /// Push a closure of a loaded chunk's main prototype.
    fn push_chunk(&mut self, p: GcRef<crate::object::GcProto>) -> LResult<()> {
        // A binary chunk's main function may have had upvalues: as in Lua 5.1 it gets
        // fresh ones holding nil. Make them before the closure, so that no closure with
        // unset upvalue slots exists if an allocation fails.
        let nup = p.upvals.len();
        let mut ups = [None; crate::compiler::codegen::MAX_UPVALS];
        for slot in ups.iter_mut().take(nup) {
            *slot = Some(self.new_upval_closed(Value::NIL)?);
        }
        // As in Lua 5.1, a loaded chunk sees the running thread's globals (setfenv(0)).
        let env = self.cur.env;
        let f = self.new_lua_closure(p, env)?;
        for (dst, src) in f.lua_upvals().iter_mut().zip(ups.iter()) {
            if let Some(u) = src {
                *dst = *u;
            }
        }
        self.push(Value::function(f))
    }
    /// Protected call of the function `nargs + 1` slots below the top. On success the
    /// results replace it (as `call`). On error the stack is cut back to below the
    /// function and the error message is pushed: with `traceback`, the message is
    /// `tostring(err)` (or `(error object is a X value)`) followed by "\nstack
    /// traceback:\n..." as the luajit command prints it. Returns false on error.
    pub fn pcall(&mut self, nargs: usize, nresults: i32, traceback: bool) -> bool {
        let th = self.cur;
        let Some(func) = th.top.checked_sub(nargs + 1) else {
            return false;
        };
        let depth = th.frames.len();
        match self.call(nargs, nresults) {
            Ok(()) => {
                // A refusal the callee caught itself (or turned into `nil, msg`) may
                // still owe its collection: pay it before the caller goes on.
                self.pay_owed_collection();
                true
            }
            Err(e) => {
                let mut msg = self.error_value(e);
                if traceback {
                    msg = self.traceback_message(msg);
                }
                self.unwind_failed_call(func, depth);
                // The slot of the called function is free now, so this cannot fail.
                let _ = self.push(msg);
                self.pay_owed_collection();
                false
            }
        }
    }
    /// [`State::call`] for natives that report a callee's error instead of raising it
    /// (`load` with a reader function). A Lua error or a failed allocation in the callee
    /// gives `Ok(Err(error object))` with the stack cut back to below the function;
    /// stopping by the host and yields are not caught.
    pub fn call_catching(&mut self, nargs: usize, nresults: i32) -> LResult<Result<(), Value>> {
        let th = self.cur;
        let Some(func) = th.top.checked_sub(nargs + 1) else {
            return Err(self.rt_error_here(crate::errmsg::INTERNAL_CALL));
        };
        let depth = th.frames.len();
        match self.call(nargs, nresults) {
            Ok(()) => Ok(Ok(())),
            Err(e @ (Throw::Abort | Throw::Yield)) => Err(e),
            Err(e) => {
                let msg = self.error_value(e);
                self.unwind_failed_call(func, depth);
                // Rooted in the slot the function had while the owed collection runs.
                if self.push(msg).is_ok() {
                    self.pay_owed_collection();
                    self.pop(1);
                }
                Ok(Err(msg))
            }
        }
    }
    /// Drop what a failed call left above stack slot `func` and frame `depth`.
    fn unwind_failed_call(&mut self, func: usize, depth: usize) {
        let th = self.cur;
        close_upvals(self, th, func);
        let t = th.get_mut();
        t.frames.truncate(depth);
        t.top = func;
    }
    /// Set a global variable.
    pub fn set_global(&mut self, name: &str, v: Value) -> LResult<()> {
        let k = self.str_value(name.as_bytes())?;
        let g = self.globals;
        self.table_set(g, k, v)
    }
    /// Get a global variable (raw).
    pub fn get_global(&mut self, name: &str) -> LResult<Value> {
        let k = self.intern(name.as_bytes())?;
        Ok(self.globals.get_str(k))
    }

    /// `tostring(v)` as the base library returns it: whatever `__tostring` returns, or
    /// the default text.
    pub fn tostring_value(&mut self, v: Value) -> LResult<Value> {
        let h = self.tm_of(v, Tm::Tostring);
        if !h.is_nil() {
            return self.call_sync(h, &[v]);
        }
        Ok(Value::string(self.tostring_raw(v)?))
    }

    /// `tostring` without metamethods.
    pub fn tostring_raw(&mut self, v: Value) -> LResult<GcRef<GcStr>> {
        if let Some(s) = v.as_string() {
            return Ok(s);
        }
        if let Some(n) = v.as_number() {
            return self.number_to_str(n);
        }
        // A LuaJIT fast function prints its id (docs/fastfunc.md).
        let ffid = v.as_function().and_then(|f| f.luajit_ffid());
        let text = match v.as_bool() {
            Some(b) => b.to_string(),
            None if v.is_nil() => "nil".to_string(),
            None if ffid.is_some() => format!("function: builtin#{}", ffid.unwrap_or(0)),
            None => {
                let addr = v
                    .as_gc()
                    .map_or_else(|| v.as_light_userdata().unwrap_or(0), |g| g.as_ptr() as usize);
                format!("{}: {:#x}", v.type_name(), addr)
            }
        };
        Ok(self.intern(text.as_bytes())?)
    }

    /// The message the luajit command prints for an uncaught error: the error as text
    /// (via `__tostring` if it has one) and a traceback; a non-string error object
    /// without `__tostring` becomes "(error object is not a string)".
    pub fn traceback_message(&mut self, err: Value) -> Value {
        // luajit's handler leaves a nil error alone; the command then prints nothing.
        if err.is_nil() {
            return err;
        }
        let text = if let Some(s) = err.as_string() {
            Some(s)
        } else if err.is_number() {
            self.tostring_raw(err).ok()
        } else if !self.tm_of(err, Tm::Tostring).is_nil() {
            self.tostring(err).ok()
        } else {
            None
        };
        // The message keeps its bytes and is joined on the heap: it can be as large
        // as any string of the script.
        let joined = match text {
            Some(t) => {
                let tail = format!(
                    "\n{}\n\t[C]: at {:#x}",
                    self.traceback_text(),
                    self as *const State as usize
                );
                self.join_bytes(&[t.as_bytes(), tail.as_bytes()])
            }
            None => self.intern(crate::errmsg::ERROR_OBJECT_NOT_STRING.as_bytes()),
        };
        match joined {
            Ok(s) => Value::string(s),
            Err(_) => Value::string(self.oom_msg),
        }
    }
}
