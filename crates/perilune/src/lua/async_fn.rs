//! Async Rust functions callable from Lua, and coroutines driven as futures (the
//! `async` feature): [`Lua::create_async_function`], [`Function::call_async`],
//! [`Thread::into_async`] and [`AsyncThread`], in mlua 0.10's model and without a
//! runtime or a thread.
//!
//! How it fits the coroutine model: an async function is a small Lua function
//! (made once per async function) around two Rust callbacks. `start` calls the host's
//! closure and keeps the future it returns in a userdata (so its bytes are counted by
//! the memory limit); `poll` polls it once and returns `true, results...` when it is
//! ready or `false` when it is pending. On `false` the *Lua* wrapper yields the
//! [`Lua::poll_pending`] sentinel (and the future's userdata), so no Rust frame is on
//! the coroutine's stack when it yields: Rust callbacks still never yield. The
//! coroutine is resumed by [`AsyncThread`]'s `poll`, which sets the task's `Waker`
//! for the duration of the resume (a thread-local: states are `!Send`, and the
//! previous waker is put back, so nested executors see their own); `poll` hands it to
//! the future. Outside an `AsyncThread` (a plain `call`), the future is polled with a
//! no-op waker: a future that is ready at once works anywhere, one that is pending
//! needs a coroutine to yield from (else Lua's "attempt to yield across C-call
//! boundary").
//!
//! Invariants:
//! - a future is only polled by `poll`, inside a callback, with the state available
//!   to it (it may use its `Lua`);
//! - a future lives in a userdata reachable from the suspended coroutine; dropping
//!   the [`AsyncThread`] of an unfinished coroutine drops the future at once (it may
//!   hold a `Lua` clone, which would otherwise keep the state open until the
//!   coroutine is collected), and a later resume of that coroutine is an error;
//! - the budget and the memory limit apply to every resume as to any API call; the
//!   futures' own Rust code is not metered (like any callback).

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::value::Value as Raw;

use super::chunk::Chunk;
use super::error::{Error, Result};
use super::function::Function;
use super::state::{mem_error, Lua, LuaRef};
use super::thread::{Thread, ThreadStatus};
use super::userdata::AnyUserData;
use super::value::{FromLuaMulti, IntoLuaMulti, LightUserData, MultiValue, Value};

/// The boxed future of one call of an async function, converted to Lua values.
type BoxedFuture = Pin<Box<dyn Future<Output = Result<MultiValue>>>>;

/// What the userdata of a call holds: the future until it is ready or cancelled.
struct PendingFuture(Option<BoxedFuture>);

/// The address whose light userdata is the pending sentinel.
static POLL_PENDING: u8 = 0;

thread_local! {
    /// The waker of the task whose [`AsyncThread`] is being polled on this thread.
    static WAKER: RefCell<Option<Waker>> = const { RefCell::new(None) };
}

/// Puts the previous waker back when an [`AsyncThread`] poll ends.
struct WakerGuard(Option<Waker>);

impl WakerGuard {
    fn set(w: &Waker) -> WakerGuard {
        WakerGuard(WAKER.with(|c| c.replace(Some(w.clone()))))
    }
}

impl Drop for WakerGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        WAKER.with(|c| *c.borrow_mut() = prev);
    }
}

/// The Lua side of an async function: start the future, poll it, yield the
/// sentinel while it is pending (a tail call per round, so the stack stays flat).
const WRAPPER: &str = "local start, poll, yield, pending = ...
local function finish(fut, ready, ...)
  if ready then return ... end
  yield(pending, fut)
  return finish(fut, poll(fut))
end
return function(...)
  local fut = start(...)
  return finish(fut, poll(fut))
end";

impl Lua {
    /// The light userdata an async function yields while its future is pending
    /// (mlua's `Lua::poll_pending`). A Lua coroutine that resumes a coroutine
    /// calling async functions sees it; [`AsyncThread`] recognises it.
    pub fn poll_pending() -> LightUserData {
        LightUserData(std::ptr::addr_of!(POLL_PENDING) as *mut std::ffi::c_void)
    }

    /// A Lua function that runs an async Rust function (mlua's
    /// `create_async_function`): called in a coroutine driven by an
    /// [`AsyncThread`] ([`Function::call_async`], [`Thread::into_async`]), it yields
    /// to the executor while the future is pending. `func` receives a `Lua` clone it
    /// may keep in the future.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// use perilune::{Function, Lua};
    /// /// Pending once, then ready: what a timer or a socket does.
    /// struct Later(bool);
    /// impl std::future::Future for Later {
    ///     type Output = ();
    ///     fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
    ///         if self.0 { return std::task::Poll::Ready(()); }
    ///         self.0 = true;
    ///         cx.waker().wake_by_ref();
    ///         std::task::Poll::Pending
    ///     }
    /// }
    /// let lua = Lua::new();
    /// let fetch = lua.create_async_function(|_, n: i64| async move {
    ///     Later(false).await;
    ///     Ok(n * 2)
    /// })?;
    /// lua.globals().set("fetch", fetch)?;
    /// let f: Function = lua.load("function(x) return fetch(x) + fetch(1) end").eval()?;
    /// assert_eq!(block_on(f.call_async::<i64>(20))?, 42);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_async_function<F, A, FR, R>(&self, func: F) -> Result<Function>
    where
        F: Fn(Lua, A) -> FR + 'static,
        A: FromLuaMulti,
        FR: Future<Output = Result<R>> + 'static,
        R: IntoLuaMulti,
    {
        let start = self.create_function(move |lua, args: A| {
            let weak = lua.weak();
            let fut = func(lua.clone(), args);
            let boxed: BoxedFuture = Box::pin(async move {
                let r = fut.await?;
                r.into_lua_multi(&weak.upgrade()?)
            });
            lua.create_any_userdata(PendingFuture(Some(boxed)))
        })?;
        let poll = self.create_function(|_, ud: AnyUserData| {
            let mut cell = ud.borrow_mut::<PendingFuture>()?;
            let Some(fut) = cell.0.as_mut() else {
                return Err(Error::runtime(crate::errmsg::ASYNC_FUTURE_DROPPED));
            };
            let waker = WAKER.with(|c| c.borrow().clone());
            let mut cx = Context::from_waker(waker.as_ref().unwrap_or(Waker::noop()));
            match fut.as_mut().poll(&mut cx) {
                Poll::Pending => Ok(MultiValue::from_vec(vec![Value::Boolean(false)])),
                Poll::Ready(r) => {
                    cell.0 = None;
                    let mut out = r?;
                    out.insert(0, Value::Boolean(true));
                    Ok(out)
                }
            }
        })?;
        let make = self.load(WRAPPER).set_name("=[async function]").into_function()?;
        make.call((
            start,
            poll,
            self.yield_function()?,
            Value::LightUserData(Lua::poll_pending()),
        ))
    }

    /// `coroutine.yield`, whether or not the state opened `coroutine`.
    fn yield_function(&self) -> Result<Function> {
        self.with_state(|st, raw| {
            let f = st
                .new_native(crate::stdlib::coroutine::yield_, crate::func::FF_C, 0)
                .map_err(|_| mem_error())?;
            Ok(Function(LuaRef::new(self, st, raw, Raw::function(f))?))
        })
    }
}

impl Function {
    /// Call the function in a new coroutine driven as a future (mlua's
    /// `call_async`): the future is pending while an async function it calls is
    /// pending, and gives the function's results. See
    /// [`Lua::create_async_function`].
    pub fn call_async<R: FromLuaMulti>(&self, args: impl IntoLuaMulti) -> AsyncThread<R> {
        let thread = self.0.lua().and_then(|lua| lua.create_thread(self.clone()));
        match thread {
            Ok(t) => t.into_async(args),
            Err(e) => AsyncThread::failed(e),
        }
    }
}

impl Chunk<'_> {
    /// [`Chunk::exec`] in a coroutine driven as a future (see
    /// [`Function::call_async`]).
    pub fn exec_async(self) -> AsyncThread<()> {
        self.call_async(())
    }

    /// [`Chunk::eval`] in a coroutine driven as a future.
    pub fn eval_async<R: FromLuaMulti>(self) -> AsyncThread<R> {
        match self.into_eval_function() {
            Ok(f) => f.call_async(()),
            Err(e) => AsyncThread::failed(e),
        }
    }

    /// [`Chunk::call`] in a coroutine driven as a future.
    pub fn call_async<R: FromLuaMulti>(self, args: impl IntoLuaMulti) -> AsyncThread<R> {
        match self.into_function() {
            Ok(f) => f.call_async(args),
            Err(e) => AsyncThread::failed(e),
        }
    }
}

impl Thread {
    /// Drive the coroutine as a future (mlua's `into_async`), resumed with `args`
    /// first. Values it yields with `coroutine.yield` are skipped (the future
    /// wakes itself and resumes it again); its return values are the output.
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let mut f = std::pin::pin!(f);
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// let lua = perilune::Lua::new();
    /// let co: perilune::Thread = lua.load("coroutine.create(function(n) coroutine.yield(1) return n + 1 end)").eval()?;
    /// assert_eq!(block_on(co.into_async::<i32>(41))?, 42);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn into_async<R: FromLuaMulti>(self, args: impl IntoLuaMulti) -> AsyncThread<R> {
        let args = self.0.lua().and_then(|lua| args.into_lua_multi(&lua));
        AsyncThread {
            thread: Some(self),
            args: Some(args),
            pending: None,
            _r: PhantomData,
        }
    }
}

/// A coroutine driven as a [`Future`] ([`Thread::into_async`],
/// [`Function::call_async`]). Each `poll` resumes the coroutine once under the
/// task's waker. Dropping it before the coroutine finishes drops the future the
/// coroutine is waiting on.
#[must_use = "futures do nothing unless polled"]
pub struct AsyncThread<R> {
    /// `None` when the future could not be made (then `args` holds the error).
    thread: Option<Thread>,
    /// The first resume's arguments, until it happens.
    args: Option<Result<MultiValue>>,
    /// The userdata of the future the coroutine waits on, while it is pending.
    pending: Option<AnyUserData>,
    _r: PhantomData<fn() -> R>,
}

impl<R> AsyncThread<R> {
    fn failed(e: Error) -> AsyncThread<R> {
        AsyncThread {
            thread: None,
            args: Some(Err(e)),
            pending: None,
            _r: PhantomData,
        }
    }
}

// Nothing in it is pinned: the coroutine lives in the Lua heap.
impl<R> Unpin for AsyncThread<R> {}

impl<R: FromLuaMulti> Future for AsyncThread<R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        let this = self.get_mut();
        let args = match this.args.take() {
            Some(Ok(a)) => a,
            Some(Err(e)) => return Poll::Ready(Err(e)),
            None => MultiValue::new(),
        };
        let Some(thread) = &this.thread else {
            return Poll::Ready(Err(Error::CoroutineUnresumable));
        };
        this.pending = None;
        let out = {
            let _waker = WakerGuard::set(cx.waker());
            thread.resume::<MultiValue>(args)
        };
        let out = match out {
            Ok(out) => out,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if thread.status() == ThreadStatus::Resumable {
            if let Some(Value::LightUserData(p)) = out.front() {
                if *p == Lua::poll_pending() {
                    // The future woke, or will wake, the task through its waker.
                    if let Some(Value::UserData(u)) = out.get(1) {
                        this.pending = Some(u.clone());
                    }
                    return Poll::Pending;
                }
            }
            // A plain `coroutine.yield`: go on at the executor's next turn.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let lua = match thread.0.lua() {
            Ok(lua) => lua,
            Err(e) => return Poll::Ready(Err(e)),
        };
        Poll::Ready(R::from_lua_multi(out, &lua))
    }
}

impl<R> Drop for AsyncThread<R> {
    fn drop(&mut self) {
        if let Some(u) = self.pending.take() {
            // Fails harmlessly when the state is closed or busy; the userdata's own
            // drop then frees the future with the state.
            let fut = match u.borrow_mut::<PendingFuture>() {
                Ok(mut cell) => cell.0.take(),
                Err(_) => None,
            };
            // Dropped after the borrow ends: its `Drop` may use the state.
            drop(fut);
        }
    }
}
