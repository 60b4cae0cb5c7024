//! [`Thread`]: coroutines driven from Rust.

use crate::vm::call::close_upvals;
use crate::vm::coroutine::ResumeError;
use crate::vm::frame::CoStatus;

use super::error::{Error, Result};
use super::function::Function;
use super::state::{error_from_value, mem_error, protect, Lua, LuaRef};
use super::value::{FromLuaMulti, IntoLuaMulti, MultiValue, Value};

/// Where a coroutine is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Not started, or suspended in `coroutine.yield`: can be resumed.
    Resumable,
    /// Running, or waiting for a coroutine it resumed.
    Running,
    /// Returned from its body.
    Finished,
    /// Died with an error (or was stopped by the host).
    Error,
}

/// A Lua coroutine.
///
/// ```
/// use perilune::{Lua, Thread, ThreadStatus};
/// let lua = Lua::new();
/// let co: Thread = lua.load("return coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)").eval()?;
/// assert_eq!(co.resume::<i32>(1)?, 2);
/// assert_eq!(co.status(), ThreadStatus::Resumable);
/// assert_eq!(co.resume::<i32>(10)?, 20);
/// assert_eq!(co.status(), ThreadStatus::Finished);
/// assert!(co.resume::<()>(()).is_err());
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Thread(pub(crate) LuaRef);

impl Lua {
    /// A new coroutine that will run `func`.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let f = lua.create_function(|_, x: i32| Ok(x * 3))?;
    /// let co = lua.create_thread(f)?;
    /// assert_eq!(co.resume::<i32>(5)?, 15);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_thread(&self, func: Function) -> Result<Thread> {
        self.with_state(|st, raw| {
            let env = st.globals;
            let co = st.new_thread(env).map_err(|_| mem_error())?;
            let f = func.0.raw_in(raw)?;
            let t = co.get_mut();
            t.stack[0] = f;
            t.top = 1;
            Ok(Thread(LuaRef::new(self, st, raw, crate::value::Value::thread(co))?))
        })
    }
}

impl Lua {
    /// The coroutine running now: inside a coroutine (a callback it called), that
    /// coroutine; elsewhere the main thread. mlua's returns `Thread`; making a handle
    /// may fail under the memory limit, hence the `Result`.
    ///
    /// ```
    /// use perilune::{Lua, Thread, ThreadStatus};
    /// let lua = Lua::new();
    /// let me = lua.create_function(|lua, ()| lua.current_thread())?;
    /// lua.globals().set("me", me)?;
    /// let (co, inside): (Thread, Thread) =
    ///     lua.load("local co = coroutine.create(function() return me() end) return co, select(2, coroutine.resume(co))").eval()?;
    /// assert_eq!(co, inside);
    /// assert_eq!(lua.current_thread()?.status(), ThreadStatus::Running);
    /// assert_ne!(lua.current_thread()?, co);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn current_thread(&self) -> Result<Thread> {
        self.with_state(|st, raw| {
            let cur = crate::value::Value::thread(st.cur);
            Ok(Thread(LuaRef::new(self, st, raw, cur)?))
        })
    }
}

impl Thread {
    /// Resume the coroutine with `args`; returns what it yields or returns.
    /// Resuming a dead or running coroutine fails with
    /// [`Error::CoroutineUnresumable`]; an error inside it is returned as `Err` and
    /// leaves it dead.
    pub fn resume<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> Result<R> {
        let lua = &self.0.lua()?;
        let args = args.into_lua_multi(lua)?;
        let Some(co) = self.0.val.as_thread() else {
            return Err(Error::CoroutineUnresumable);
        };
        let results = lua.with_state(|st, raw| {
            if co.co_status() != CoStatus::Suspended {
                return Err(Error::CoroutineUnresumable);
            }
            let base = st.cur.top;
            let nargs = args.len();
            protect(st, raw, |st| {
                for a in args.iter() {
                    let v = a.to_raw(st, raw).map_err(|_| crate::vm::error::Throw::Oom)?;
                    st.push(v)?;
                }
                Ok(())
            })?;
            let r = st.resume(co, nargs);
            let th = st.cur;
            let out = match r {
                Ok(n) => {
                    let first = th.top - n;
                    let mut out = Vec::with_capacity(n);
                    let mut res = Ok(());
                    for i in 0..n {
                        match Value::from_raw(lua, st, raw, th.stack[first + i]) {
                            Ok(v) => out.push(v),
                            Err(e) => {
                                res = Err(e);
                                break;
                            }
                        }
                    }
                    res.map(|()| MultiValue::from_vec(out))
                }
                Err(ResumeError::Failed(v)) => Err(error_from_value(st, raw, v, false)),
                Err(ResumeError::Refused(_)) => Err(Error::CoroutineUnresumable),
                Err(ResumeError::Aborted) => {
                    Err(super::state::error_from_throw(st, raw, crate::vm::error::Throw::Abort))
                }
            };
            th.get_mut().top = base;
            // A refused allocation inside the coroutine: collect before the host goes on.
            st.pay_owed_collection();
            out
        })?;
        R::from_lua_multi(results, lua)
    }

    /// Make the coroutine start over with `func`, reusing it (mlua's `reset`): its
    /// frames are dropped, its open upvalues closed (closures keep the values they
    /// captured), and the next `resume` calls `func`. Works on a coroutine that has
    /// not started, finished, died with an error, or is suspended in a yield (as
    /// mlua does on Lua 5.4 and Luau; on LuaJIT mlua resets only new and finished
    /// ones). Resetting a running coroutine, or one waiting for a coroutine it
    /// resumed (the main thread included), is an error: "cannot reset a running
    /// thread". The coroutine keeps its environment.
    ///
    /// ```
    /// use perilune::{Function, Lua, Thread, ThreadStatus};
    /// let lua = Lua::new();
    /// let co: Thread = lua.load("return coroutine.create(function() error('boom') end)").eval()?;
    /// assert!(co.resume::<()>(()).is_err());
    /// assert_eq!(co.status(), ThreadStatus::Error);
    /// let double: Function = lua.load("return function(x) return x * 2 end").eval()?;
    /// co.reset(double)?;
    /// assert_eq!(co.status(), ThreadStatus::Resumable);
    /// assert_eq!(co.resume::<i32>(21)?, 42);
    /// assert!(lua.current_thread()?.reset(lua.create_function(|_, ()| Ok(()))?).is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn reset(&self, func: Function) -> Result<()> {
        let lua = &self.0.lua()?;
        lua.with_state(|st, raw| {
            let co = self.0.raw_in(raw)?.as_thread().ok_or(Error::CoroutineUnresumable)?;
            let f = func.0.raw_in(raw)?;
            if matches!(co.co_status(), CoStatus::Running | CoStatus::Normal) || co == st.cur {
                return Err(Error::RuntimeError(crate::errmsg::THREAD_RESET_RUNNING.into()));
            }
            // Close its upvalues while its frames still describe the stack, then
            // forget the frames: nothing of the old run stays reachable.
            close_upvals(st, co, 0);
            let t = co.get_mut();
            t.truncate_frames(0);
            t.nny = 0;
            t.status = crate::vm::thread::ThreadStatus::Suspended;
            // A thread's stack is never shorter than it was at creation, when it had
            // room for its function.
            let Some(slot0) = t.stack.as_mut_slice().first_mut() else {
                return Err(Error::CoroutineUnresumable);
            };
            *slot0 = f;
            t.top = 1;
            // `f` is rooted by `func`'s handle; the thread may be black already.
            crate::gc::barrier_forward(st, co.header(), f);
            Ok(())
        })
    }

    /// The coroutine's status ([`ThreadStatus::Error`] once the state is closed).
    pub fn status(&self) -> ThreadStatus {
        // Keeps the state open while the thread object is read.
        let Ok(_lua) = self.0.lua() else {
            return ThreadStatus::Error;
        };
        let Some(co) = self.0.val.as_thread() else {
            return ThreadStatus::Error;
        };
        match co.co_status() {
            CoStatus::Suspended => ThreadStatus::Resumable,
            CoStatus::Running | CoStatus::Normal => ThreadStatus::Running,
            CoStatus::Finished => ThreadStatus::Finished,
            CoStatus::Failed => ThreadStatus::Error,
        }
    }
}
