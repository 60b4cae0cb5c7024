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
use super::state::{error_from_throw, mem_error, message_excerpt, protect_with, Lua, LuaRaw, LuaRef, BUDGET_REASON};
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
