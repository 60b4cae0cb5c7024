//! [`Function`]: calling Lua functions, and Rust closures as Lua functions.
//!
//! A Rust closure becomes a native function with one upvalue: a userdata whose
//! payload holds the closure (so it is counted by the allocator and dropped by the
//! collector with the function, exactly once). The native itself is a trampoline
//! monomorphised for the closure type: it checks the upvalue's type, makes the state
//! available to the closure (see `state.rs`), converts the arguments, calls the
//! closure under `catch_unwind`, and pushes the results. An `Err` or a panic becomes
//! a Lua error; no unwinding crosses the VM.

use std::cell::{Cell, UnsafeCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::func::NativeFn;
use crate::value::Value as Raw;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

use super::error::{Error, Result};
use super::state::{
    error_from_throw, mem_error, message_excerpt, protect_with, set_function_env, Lua, LuaRaw, LuaRef, BUDGET_REASON,
};
use super::table::Table;
use super::userdata::{new_host_userdata, new_wrapped_error, UdCell};
use super::value::{FromLuaMulti, IntoLuaMulti, MultiValue, Value};

/// A Lua function (Lua or Rust).
///
/// ```
/// let lua = perilune::Lua::new();
/// let f: perilune::Function = lua.load("return function(a, b) return a + b, a * b end").eval()?;
/// let (s, p): (i32, i32) = f.call((3, 4))?;
/// assert_eq!((s, p), (7, 12));
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Function(pub(crate) LuaRef);

impl Function {
    /// Call the function with `args` and convert its results to `R`.
    /// Errors raised inside come back as `Err` (see [`Error`]).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let f: perilune::Function = lua.load("return function(...) return select('#', ...) end").eval()?;
    /// assert_eq!(f.call::<i32>((1, 2, 3))?, 3);
    /// assert_eq!(f.call::<i32>(())?, 0);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn call<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
        let lua = &self.0.lua()?;
        let args = args.into_lua_multi(lua)?;
        let results = call_values(lua, self.0.val, args)?;
        R::from_lua_multi(results, lua)
    }
}

/// How [`Function::call_reported`] words an error: the way the standalone `lua` and
/// `luajit` commands report errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportStyle {
    /// The message alone, as lua.c's `report` prints it: a string or number error
    /// object as its text, any other object `(error object is not a string)`.
    Message,
    /// The message followed by `stack traceback:` and the frames, taken where the
    /// error was raised and ending in the host's frame (`[C]: at 0x...`), as lua.c's
    /// `docall` with its `traceback` handler makes it: a non-string error object is
    /// converted with its `__tostring` metamethod if it has one, else reported as
    /// `(error object is not a string)` without a traceback.
    Traceback,
}

impl Function {
    /// Call the function like [`Function::call`], with an error reported the way
    /// the standalone `lua`/`luajit` command reports it: the error is
    /// [`Error::Reported`], whose `report` is the text the command prints (exact
    /// bytes; `None` for a `nil` error object, for which it prints nothing) and whose
    /// `cause` is the error `call` would have returned. Memory errors, interrupts and
    /// errors from Rust callbacks are reported too (`not enough memory` with a
    /// traceback, ...). Errors converting the arguments or results are returned
    /// as they are.
    ///
    /// ```
    /// use perilune::{Error, Function, Lua, ReportStyle};
    /// let lua = Lua::new();
    /// let f: Function = lua.load("local t = nil\nreturn t.x").set_name("@main.lua").into_function()?;
    /// match f.call_reported::<()>((), ReportStyle::Traceback) {
    ///     Err(Error::Reported { report: Some(text), .. }) => {
    ///         let text = String::from_utf8(text).unwrap();
    ///         assert!(text.starts_with("main.lua:2: attempt to index local 't' (a nil value)\nstack traceback:\n"));
    ///         assert!(text.contains("\n\tmain.lua:2: in main chunk\n\t[C]: at 0x"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// let f: Function = lua.load("error(setmetatable({}, {__tostring = function() return 'custom' end}))").into_function()?;
    /// let e = f.call_reported::<()>((), ReportStyle::Traceback).unwrap_err();
    /// assert!(e.report().unwrap().starts_with(b"custom\nstack traceback:"));
    /// let e = f.call_reported::<()>((), ReportStyle::Message).unwrap_err();
    /// assert_eq!(e.report().unwrap(), b"(error object is not a string)");
    /// let f: Function = lua.load("error(nil)").into_function()?;
    /// assert!(matches!(f.call_reported::<()>((), ReportStyle::Traceback), Err(Error::Reported { report: None, .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn call_reported<R: FromLuaMulti>(&self, args: impl IntoLuaMulti, style: ReportStyle) -> Result<R> {
        let lua = &self.0.lua()?;
        let args = args.into_lua_multi(lua)?;
        let results = call_values_with(lua, self.0.val, args, |st, raw, e| report_error(st, raw, e, style))?;
        R::from_lua_multi(results, lua)
    }
}

/// The [`Error::Reported`] for a raise, made before the failing frames are dropped.
fn report_error(st: &mut State, raw: &LuaRaw, e: Throw, style: ReportStyle) -> Error {
    // The error object first: `error_value` leaves the abort reason in place for
    // `error_from_throw`, which takes it.
    let mut v = st.error_value(e);
    let cause = error_from_throw(st, raw, e);
    // A message longer than the excerpt leaves the heap cut (`MESSAGE_EXCERPT_MAX`):
    // cut it before the traceback is appended, so the traceback survives the cut.
    if let Some(s) = v.as_string() {
        if let (head, true) = message_excerpt(s.as_bytes()) {
            if let Ok(cut) = st.join_bytes(&[head, b"..."]) {
                v = Raw::string(cut);
            }
        }
    }
    let report = if v.is_nil() {
        None
    } else {
        match style {
            ReportStyle::Traceback => {
                // `traceback_message` roots `v` (as an argument) while `__tostring` runs.
                let m = st.traceback_message(v);
                Some(m.as_string().map_or_else(Vec::new, |s| s.as_bytes().to_vec()))
            }
            ReportStyle::Message => Some(if let Some(s) = v.as_string() {
                s.as_bytes().to_vec()
            } else if let Some(n) = v.as_number() {
                let mut buf = [0u8; 64];
                let len = crate::number::fmt_number(n, &mut buf);
                buf[..len].to_vec()
            } else {
                crate::errmsg::ERROR_OBJECT_NOT_STRING.as_bytes().to_vec()
            }),
        }
    };
    Error::Reported {
        report,
        cause: Arc::new(cause),
    }
}

/// Call VM function value `f` with `args`, protected; collect all results.
pub(crate) fn call_values(lua: &Lua, f: Raw, args: MultiValue) -> Result<MultiValue> {
    call_values_with(lua, f, args, error_from_throw)
}

/// [`call_values`] with the error made by `on_error` (before the frames are dropped).
fn call_values_with(
    lua: &Lua,
    f: Raw,
    args: MultiValue,
    on_error: impl FnOnce(&mut State, &LuaRaw, Throw) -> Error,
) -> Result<MultiValue> {
    lua.with_state(|st, raw| {
        let func_slot = st.cur.top;
        let nargs = args.len();
        protect_with(st, raw, on_error, |st| {
            st.push(f)?;
            for a in args.iter() {
                let v = a.to_raw(st, raw).map_err(|_| Throw::Oom)?;
                st.push(v)?;
            }
            st.call(nargs, -1)
        })?;
        let th = st.cur;
        let n = th.top.saturating_sub(func_slot);
        let mut out = Vec::with_capacity(n);
        let mut res = Ok(());
        for i in 0..n {
            match Value::from_raw(lua, st, raw, th.stack[func_slot + i]) {
                Ok(v) => out.push(v),
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
        }
        th.get_mut().top = func_slot;
        res.map(|()| MultiValue::from_vec(out))
    })
}

/// The payload of a Rust callback. The userdata cell holding it is only ever
/// accessed shared (`peek`); calls borrow `f` through `borrow` (like a `RefCell`).
struct Cb<F> {
    raw: NonNull<LuaRaw>,
    /// > 0: running shared calls; -1: running `FnMut` call; 0: idle.
    borrow: Cell<isize>,
    f: UnsafeCell<F>,
}

impl Lua {
    /// A Lua function that calls a Rust closure. Arguments are converted to `A`
    /// (a conversion error is a "bad argument" error naming the position) and the
    /// result `R` back to Lua values. An `Err` returned by the closure is raised as a
    /// Lua error (the host sees it as [`Error::CallbackError`]); a panic is caught
    /// and raised as [`Error::CallbackPanic`].
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let greet = lua.create_function(|_, name: String| Ok(format!("hello, {name}")))?;
    /// lua.globals().set("greet", greet)?;
    /// assert_eq!(lua.load("return greet('moon')").eval::<String>()?, "hello, moon");
    /// assert!(lua.load("return greet({})").eval::<String>().is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_function<F, A, R>(&self, func: F) -> Result<Function>
    where
        F: Fn(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.create_callback(func, fn_trampoline::<F, A, R>)
    }

    /// Like [`Lua::create_function`] for an `FnMut`. Calling it again while it runs
    /// (recursion through Lua) fails with [`Error::RecursiveMutCallback`].
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let mut count = 0;
    /// let tick = lua.create_function_mut(move |_, ()| { count += 1; Ok(count) })?;
    /// tick.call::<()>(())?;
    /// assert_eq!(tick.call::<i32>(())?, 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_function_mut<F, A, R>(&self, func: F) -> Result<Function>
    where
        F: FnMut(&Lua, A) -> Result<R> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.create_callback(func, fn_mut_trampoline::<F, A, R>)
    }

    fn create_callback<F: 'static>(&self, f: F, tramp: NativeFn) -> Result<Function> {
        self.with_state(|st, raw| {
            let data = Cb {
                raw: NonNull::from(raw),
                borrow: Cell::new(0),
                f: UnsafeCell::new(f),
            };
            let u = new_host_userdata(st, data, None).map_err(|_| mem_error())?;
            // `u` is not rooted yet, but nothing below can run the collector
            // (allocation never collects, DESIGN.md invariant 5).
            let func = st.new_native(tramp, crate::func::FF_C, 1).map_err(|_| mem_error())?;
            // A fresh function is white: no barrier needed.
            func.native_upvals()[0] = Raw::userdata(u);
            Ok(Function(LuaRef::new(self, st, raw, Raw::function(func))?))
        })
    }
}

/// The callback data of the running native, checked to be a `Cb<F>`, and the
/// userdata holding it. The caller must keep the userdata alive while it uses the
/// data ([`run_callback`] pins it with a ref): the function's upvalue alone does not,
/// since `debug.setupvalue` can replace it while the callback runs.
fn callback_data<'a, F: 'static>(st: &mut State) -> LResult<(&'a Cb<F>, Raw)> {
    let ud = st.native_upval(0);
    let cb = ud.as_userdata().and_then(|u| {
        // SAFETY: the userdata is an upvalue of the running function, alive until
        // the next safe point; the trampoline pins it before any code runs, and `'a`
        // is only used within the trampoline.
        unsafe { UdCell::<Cb<F>>::of(u) }
    });
    match cb.and_then(|c| c.peek()) {
        Some(c) => Ok((c, ud)),
        None => Err(st.rt_error(crate::errmsg::INTERNAL_CALLBACK_DATA)),
    }
}

fn fn_trampoline<F, A, R>(st: &mut State) -> LResult<usize>
where
    F: Fn(&Lua, A) -> Result<R> + 'static,
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    let (cb, ud) = callback_data::<F>(st)?;
    run_callback(st, cb.raw, ud, |lua: &Lua| {
        let guard = CbBorrow::shared(cb)?;
        let args = take_args(lua)?;
        let a = A::from_lua_args(args, 1, None, lua)?;
        let r = guard.get()(lua, a)?;
        drop(guard);
        let out = r.into_lua_multi(lua)?;
        push_results(lua, out)
    })
}

fn fn_mut_trampoline<F, A, R>(st: &mut State) -> LResult<usize>
where
    F: FnMut(&Lua, A) -> Result<R> + 'static,
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    let (cb, ud) = callback_data::<F>(st)?;
    run_callback(st, cb.raw, ud, |lua: &Lua| {
        let mut guard = CbBorrow::exclusive(cb)?;
        let args = take_args(lua)?;
        let a = A::from_lua_args(args, 1, None, lua)?;
        let r = guard.get_mut()(lua, a)?;
        drop(guard);
        let out = r.into_lua_multi(lua)?;
        push_results(lua, out)
    })
}

/// A borrow of a callback's closure, released on drop (also when a panic unwinds).
struct CbBorrow<'a, F: 'static> {
    cb: &'a Cb<F>,
}

impl<'a, F: 'static> CbBorrow<'a, F> {
    fn shared(cb: &'a Cb<F>) -> Result<Self> {
        let b = cb.borrow.get();
        if b < 0 || b == isize::MAX {
            return Err(Error::RecursiveMutCallback);
        }
        cb.borrow.set(b + 1);
        Ok(CbBorrow { cb })
    }
    fn exclusive(cb: &'a Cb<F>) -> Result<Self> {
        if cb.borrow.get() != 0 {
            return Err(Error::RecursiveMutCallback);
        }
        cb.borrow.set(-1);
        Ok(CbBorrow { cb })
    }
    fn get(&self) -> &F {
        // SAFETY: a shared or exclusive borrow is recorded, so no `&mut F` exists.
        unsafe { &*self.cb.f.get() }
    }
    fn get_mut(&mut self) -> &mut F {
        // SAFETY: only used on exclusive borrows: no other reference to `f` exists.
        unsafe { &mut *self.cb.f.get() }
    }
}

impl<F: 'static> Drop for CbBorrow<'_, F> {
    fn drop(&mut self) {
        let b = self.cb.borrow.get();
        self.cb.borrow.set(if b < 0 { 0 } else { b - 1 });
    }
}

/// The arguments of the running native as values.
fn take_args(lua: &Lua) -> Result<MultiValue> {
    lua.with_state(|st, raw| {
        let n = st.arg_count();
        let mut out = Vec::with_capacity(n);
        for i in 1..=n {
            out.push(Value::from_raw(lua, st, raw, st.arg(i))?);
        }
        Ok(MultiValue::from_vec(out))
    })
}

/// Push results for the running native; returns their count.
fn push_results(lua: &Lua, out: MultiValue) -> Result<usize> {
    lua.with_state(|st, raw| {
        let n = out.len();
        for v in out.iter() {
            let r = v.to_raw(st, raw)?;
            st.push(r).map_err(|e| super::state::error_from_throw(st, raw, e))?;
        }
        Ok(n)
    })
}

/// Run a callback body with the state made available to it through the `Lua`
/// (see `state.rs`), catching panics, and turn its error into a raise.
/// `ud` (the userdata holding the callback) is pinned by a ref for the duration.
fn run_callback(
    st: &mut State,
    rawp: NonNull<LuaRaw>,
    ud: Raw,
    body: impl FnOnce(&Lua) -> Result<usize>,
) -> LResult<usize> {
    // SAFETY: the state running this native is open, so its block is alive and a
    // strong `Lua` outlives the operation that runs the VM (state.rs, module
    // documentation): the view is valid for this call.
    let lua = unsafe { Lua::view(rawp) };
    let raw = lua.raw();
    let Ok(pin) = raw.make_ref(st, ud) else {
        return Err(Throw::Oom);
    };
    let r = run_callback_pinned(st, &lua, body);
    raw.dec_ref(pin);
    r
}

fn run_callback_pinned(st: &mut State, lua: &Lua, body: impl FnOnce(&Lua) -> Result<usize>) -> LResult<usize> {
    let raw = lua.raw();
    let prev = raw.state.replace(st as *mut State);
    let r = catch_unwind(AssertUnwindSafe(|| body(lua)));
    raw.state.set(prev);
    match r {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(throw_from_error(st, raw, e)),
        Err(payload) => {
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "panic".to_string()
            };
            Err(throw_from_error(st, raw, Error::CallbackPanic(msg)))
        }
    }
}

/// Raise a Rust error inside Lua: memory errors and host stops keep their kind,
/// everything else travels as a wrapped error value.
pub(crate) fn throw_from_error(st: &mut State, raw: &LuaRaw, e: Error) -> Throw {
    match e {
        Error::MemoryError(_) => Throw::Oom,
        Error::BudgetExhausted => st.abort(BUDGET_REASON),
        Error::Interrupted(m) => st.abort(&m),
        Error::PlainError { message, argument } => match argument {
            Some(n) => st.arg_error(n, &message),
            None => st.rt_error(&message),
        },
        e @ Error::BadArgument { .. } => match new_wrapped_error(st, raw, e.complete_bad_argument(st)) {
            Ok(u) => Throw::Error(Raw::userdata(u)),
            Err(_) => Throw::Oom,
        },
        e => match new_wrapped_error(st, raw, e) {
            Ok(u) => Throw::Error(Raw::userdata(u)),
            Err(_) => Throw::Oom,
        },
    }
}

// --- bind, info, environment, dump ----------------------------------------------------

/// What [`Function::info`] tells about a function (mlua's `FunctionInfo`; the fields
/// of `debug.getinfo(f, "S")`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// The function's name. Always `None`: a function value has no name of its
    /// own (Lua finds one only for a function being called, from its caller).
    pub name: Option<String>,
    /// What `name` is (`global`, `local`, `method`, `field`, `upvalue`); `None`
    /// with `name`.
    pub name_what: Option<&'static str>,
    /// `"Lua"` for a Lua function, `"main"` for a chunk's main function, `"C"` for a
    /// native or Rust function.
    pub what: &'static str,
    /// The chunk's source name (`@file.lua`, `=name`, or the source text itself);
    /// `=[C]` for a native function.
    pub source: Option<String>,
    /// The printable form of `source` used in messages (`file.lua`, `[string "..."]`).
    pub short_src: Option<String>,
    /// The line where the function's definition starts (0 for a main chunk); `None`
    /// for a native function.
    pub line_defined: Option<usize>,
    /// The line where it ends; `None` for a native function.
    pub last_line_defined: Option<usize>,
}

/// The glue `Function::bind` makes: calls `f` with the bound values (pushed by the
/// native `bound`) and then its own arguments, as a Lua tail call, so a coroutine
/// can yield through a bound function.
const BIND_GLUE: &str = "local f, bound = ...
return function(...) return f(bound(...)) end";

/// The native of a bound function: its results are its upvalues (the bound values)
/// followed by its arguments.
fn bound_args(st: &mut State) -> LResult<usize> {
    let th = st.cur;
    let nup = th
        .frame_at(0)
        .and_then(|ci| th.frame_function(&ci).as_function())
        .map_or(0, |f| f.num_upvals());
    let nargs = st.arg_count();
    st.charge((nup + nargs) as u64)?;
    for i in 0..nup {
        let v = st.native_upval(i);
        st.push(v)?;
    }
    for i in 1..=nargs {
        let v = st.arg(i);
        st.push(v)?;
    }
    Ok(nup + nargs)
}

impl Function {
    /// A function that calls this one with `args` first, then its own arguments
    /// (mlua's `bind`). The call from the bound function is a Lua call, so
    /// coroutines can yield through it.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let sum: perilune::Function = lua.load("return function(...) local s = 0 for _, v in ipairs({...}) do s = s + v end return s end").eval()?;
    /// let plus_ten = sum.bind((4, 6))?;
    /// assert_eq!(plus_ten.call::<i32>(5)?, 15);
    /// assert_eq!(plus_ten.bind(1)?.call::<i32>(())?, 11);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn bind(&self, args: impl IntoLuaMulti) -> Result<Function> {
        let lua = &self.0.lua()?;
        let args = args.into_lua_multi(lua)?;
        if args.is_empty() {
            return Ok(self.clone());
        }
        let bound = lua.with_state(|st, raw| {
            let f = st
                .new_native(bound_args, crate::func::FF_C, args.len())
                .map_err(|_| mem_error())?;
            // `f` is fresh (white) and nothing here runs the collector before the ref
            // roots it; the values are held by `args`' handles or are immediates.
            for (i, a) in args.iter().enumerate() {
                f.native_upvals()[i] = a.to_raw(st, raw)?;
            }
            Ok(Function(LuaRef::new(lua, st, raw, Raw::function(f))?))
        })?;
        lua.load(BIND_GLUE).set_name("=bind").call((self, bound))
    }

    /// What kind of function this is and where it was defined (mlua's `info`).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let f: perilune::Function = lua.load("\nreturn function()\nend").set_name("@script.lua").eval()?;
    /// let info = f.info()?;
    /// assert_eq!(info.what, "Lua");
    /// assert_eq!(info.short_src.as_deref(), Some("script.lua"));
    /// assert_eq!((info.line_defined, info.last_line_defined), (Some(2), Some(3)));
    /// let print: perilune::Function = lua.globals().get("print")?;
    /// assert_eq!(print.info()?.what, "C");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn info(&self) -> Result<FunctionInfo> {
        let lua = &self.0.lua()?;
        lua.with_state(|_, raw| {
            let f = self.0.raw_in(raw)?.as_function();
            Ok(match f.and_then(|f| f.proto()) {
                Some(p) => FunctionInfo {
                    name: None,
                    name_what: None,
                    what: if p.is_main() { "main" } else { "Lua" },
                    source: Some(p.source.to_str_lossy().into_owned()),
                    short_src: Some(crate::compiler::chunk_id(p.source.as_bytes())),
                    line_defined: Some(p.line_defined as usize),
                    last_line_defined: Some(p.last_line_defined as usize),
                },
                None => FunctionInfo {
                    name: None,
                    name_what: None,
                    what: "C",
                    source: Some("=[C]".into()),
                    short_src: Some("[C]".into()),
                    line_defined: None,
                    last_line_defined: None,
                },
            })
        })
    }

    /// The function's environment (Lua 5.1's `getfenv(f)`: the table its global
    /// names resolve in); `None` for a native or Rust function, as in mlua.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let env = lua.create_table()?;
    /// env.set("x", 7)?;
    /// let f: perilune::Function = lua.load("return x").into_function()?;
    /// assert_eq!(f.environment()?, Some(lua.globals()));
    /// assert!(f.set_environment(env.clone())?);
    /// assert_eq!(f.call::<i32>(())?, 7);
    /// assert_eq!(f.environment()?, Some(env));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn environment(&self) -> Result<Option<Table>> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| match self.0.raw_in(raw)?.as_function() {
            Some(f) if f.is_lua() => Ok(Some(Table(LuaRef::new(lua, st, raw, Raw::table(f.env))?))),
            _ => Ok(None),
        })
    }

    /// Make `env` the function's environment (Lua 5.1's `setfenv(f, env)`). Returns
    /// `false` and changes nothing for a native or Rust function, as mlua does.
    pub fn set_environment(&self, env: Table) -> Result<bool> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| {
            let f = self.0.raw_in(raw)?;
            let Some(t) = env.0.raw_in(raw)?.as_table() else {
                return Ok(false);
            };
            if !f.as_function().is_some_and(|f| f.is_lua()) {
                return Ok(false);
            }
            set_function_env(st, f, t);
            Ok(true)
        })
    }

    /// The function as a binary chunk (`string.dump`); `strip` leaves out line
    /// numbers and names. A state made by [`Lua::new_trusted`] loads it back; a
    /// native or Rust function cannot be dumped ("unable to dump given function").
    ///
    /// ```
    /// use perilune::{Lua, LuaOptions, StdLib};
    /// let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new())?;
    /// let f: perilune::Function = lua.load("return function(a) return a * 2 end").eval()?;
    /// let bytes = f.dump(true)?;
    /// let g: perilune::Function = lua.load(&bytes[..]).into_function()?;
    /// assert_eq!(g.call::<i32>(21)?, 42);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn dump(&self, strip: bool) -> Result<Vec<u8>> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| {
            let p = self.0.raw_in(raw)?.as_function().and_then(|f| f.proto());
            let Some(p) = p else {
                return Err(Error::RuntimeError(crate::errmsg::DUMP_FAILED.into()));
            };
            match crate::compiler::dump::dump(st, p, strip) {
                Ok(buf) => Ok(buf.as_slice().to_vec()),
                Err(crate::compiler::dump::DumpError::Oom) => Err(mem_error()),
                Err(crate::compiler::dump::DumpError::Unsupported) => {
                    Err(Error::RuntimeError(crate::errmsg::DUMP_FAILED.into()))
                }
            }
        })
    }
}

// --- wrap -----------------------------------------------------------------------------

/// A Rust function taking its arguments one by one, without `&Lua` (mlua's
/// `LuaNativeFn`): `Fn(A, B) -> R` is `LuaNativeFn<(A, B)>`. For [`Function::wrap`].
pub trait LuaNativeFn<A: FromLuaMulti> {
    type Output;
    fn call(&self, args: A) -> Self::Output;
}

/// The `FnMut` form of [`LuaNativeFn`], for [`Function::wrap_mut`].
pub trait LuaNativeFnMut<A: FromLuaMulti> {
    type Output;
    fn call(&mut self, args: A) -> Self::Output;
}

macro_rules! impl_native_fn {
    ($($a:ident),*) => {
        impl<FN, R, $($a,)*> LuaNativeFn<($($a,)*)> for FN
        where
            FN: Fn($($a,)*) -> R,
            ($($a,)*): FromLuaMulti,
        {
            type Output = R;
            #[allow(non_snake_case)]
            fn call(&self, args: ($($a,)*)) -> R {
                let ($($a,)*) = args;
                self($($a,)*)
            }
        }
        impl<FN, R, $($a,)*> LuaNativeFnMut<($($a,)*)> for FN
        where
            FN: FnMut($($a,)*) -> R,
            ($($a,)*): FromLuaMulti,
        {
            type Output = R;
            #[allow(non_snake_case)]
            fn call(&mut self, args: ($($a,)*)) -> R {
                let ($($a,)*) = args;
                self($($a,)*)
            }
        }
    };
}

impl_native_fn!();
impl_native_fn!(A);
impl_native_fn!(A, B);
impl_native_fn!(A, B, C);
impl_native_fn!(A, B, C, D);
impl_native_fn!(A, B, C, D, E);
impl_native_fn!(A, B, C, D, E, F);
impl_native_fn!(A, B, C, D, E, F, G);
impl_native_fn!(A, B, C, D, E, F, G, H);
impl_native_fn!(A, B, C, D, E, F, G, H, I);
impl_native_fn!(A, B, C, D, E, F, G, H, I, J);
impl_native_fn!(A, B, C, D, E, F, G, H, I, J, K);
impl_native_fn!(A, B, C, D, E, F, G, H, I, J, K, L);

/// A Rust function waiting for a state to become a Lua function
/// ([`Function::wrap`]).
struct Wrapped<M>(M);

impl<M: FnOnce(&Lua) -> Result<Function>> super::value::IntoLua for Wrapped<M> {
    fn into_lua(self, lua: &Lua) -> Result<Value> {
        (self.0)(lua).map(Value::Function)
    }
}

impl Function {
    /// A Rust function as a value that becomes a Lua function when it is given to a
    /// state (mlua's `wrap`): `t.set("add", Function::wrap(|a: i64, b: i64| Ok(a + b)))`.
    /// It takes its arguments one by one and no `&Lua`.
    ///
    /// ```
    /// use perilune::{Function, Lua};
    /// let lua = Lua::new();
    /// lua.globals().set("add", Function::wrap(|a: i64, b: i64| Ok(a + b)))?;
    /// lua.globals().set("hello", Function::wrap(|| Ok("hello")))?;
    /// assert_eq!(lua.load("return hello() .. add(40, 2)").eval::<String>()?, "hello42");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn wrap<F, A, R>(func: F) -> impl super::value::IntoLua
    where
        F: LuaNativeFn<A, Output = Result<R>> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        Wrapped(move |lua: &Lua| lua.create_function(move |_, args: A| func.call(args)))
    }

    /// [`Function::wrap`] for an `FnMut` (a re-entrant call is
    /// [`Error::RecursiveMutCallback`]).
    ///
    /// ```
    /// use perilune::{Function, Lua};
    /// let lua = Lua::new();
    /// let mut n = 0;
    /// lua.globals().set("tick", Function::wrap_mut(move || { n += 1; Ok(n) }))?;
    /// assert_eq!(lua.load("tick() return tick()").eval::<i32>()?, 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn wrap_mut<F, A, R>(mut func: F) -> impl super::value::IntoLua
    where
        F: LuaNativeFnMut<A, Output = Result<R>> + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        Wrapped(move |lua: &Lua| lua.create_function_mut(move |_, args: A| func.call(args)))
    }
}
