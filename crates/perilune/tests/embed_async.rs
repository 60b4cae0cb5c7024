//! Embedding API (issue 20), the `async` feature: async Rust functions called from
//! Lua, coroutines driven as futures, with a hand-written executor (no runtime).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use perilune::unstable_internals::testing::{Fault, FaultyAllocator};
use perilune::{Error, Function, Lua, LuaOptions, MultiValue, StdLib, Table, Thread, ThreadStatus, Value};

/// A waker that records that it was woken.
#[derive(Default)]
struct Flag {
    woken: AtomicBool,
    wakes: AtomicUsize,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Poll `f` to completion; a pending poll must have woken the task (else the
/// future would hang under a real executor). Returns the output and the number of
/// polls.
fn block_on<F: Future>(f: F) -> (F::Output, usize) {
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    for polls in 1..10_000 {
        flag.woken.store(false, Ordering::SeqCst);
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return (v, polls),
            Poll::Pending => assert!(flag.woken.load(Ordering::SeqCst), "pending without a wake-up"),
        }
    }
    panic!("never ready");
}

/// Pending `n` times (waking the task each time), then ready.
struct Countdown(u32);

impl Future for Countdown {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn try_sleepy(lua: &Lua) -> perilune::Result<Function> {
    lua.create_async_function(|_, (n, v): (u32, Value)| async move {
        Countdown(n).await;
        Ok(v)
    })
}

fn sleepy(lua: &Lua) -> Function {
    try_sleepy(lua).unwrap()
}

#[test]
fn an_async_function_yields_to_the_executor_while_pending() {
    let lua = Lua::new();
    lua.globals().set("sleep", sleepy(&lua)).unwrap();
    let f: Function = lua
        .load("function(a) local x = sleep(3, a) local y = sleep(2, x * 2) return y, 'done' end")
        .eval()
        .unwrap();
    let (r, polls) = block_on(f.call_async::<(i64, String)>(21));
    let (y, s) = r.unwrap();
    assert_eq!((y, s.as_str()), (42, "done"));
    assert_eq!(polls, 6, "3 + 2 pending polls, then the last");
    // Chunk::eval_async / exec_async / call_async.
    let (v, _) = block_on(lua.load("sleep(1, 'e')").eval_async::<String>());
    assert_eq!(v.unwrap(), "e");
    let (r, _) = block_on(lua.load("X = sleep(2, 5)").exec_async());
    r.unwrap();
    assert_eq!(lua.globals().get::<i64>("X").unwrap(), 5);
    let (v, _) = block_on(lua.load("return sleep(1, ...) + 1").call_async::<i64>(1));
    assert_eq!(v.unwrap(), 2);
    // Several results, and none.
    let multi = lua
        .create_async_function(|_, n: i64| async move {
            Countdown(1).await;
            Ok((n, n + 1, n + 2, "x"))
        })
        .unwrap();
    let (v, _) = block_on(multi.call_async::<MultiValue>(1));
    assert_eq!(v.unwrap().len(), 4);
    let nothing = lua.create_async_function(|_, ()| async { Ok(()) }).unwrap();
    let (v, _) = block_on(nothing.call_async::<MultiValue>(()));
    assert!(v.unwrap().is_empty());
}

#[test]
fn the_task_waker_reaches_the_future() {
    // A one-shot channel: the future stores the waker it is polled with; the host
    // sends a value and wakes it.
    type Slot = Rc<RefCell<(Option<i64>, Option<Waker>)>>;
    let slot: Slot = Rc::default();
    let lua = Lua::new();
    let rx = slot.clone();
    let recv = lua
        .create_async_function(move |_, ()| {
            let rx = rx.clone();
            std::future::poll_fn(move |cx| {
                let mut s = rx.borrow_mut();
                match s.0.take() {
                    Some(v) => Poll::Ready(Ok(v)),
                    None => {
                        s.1 = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            })
        })
        .unwrap();
    lua.globals().set("recv", recv).unwrap();
    let f: Function = lua.load("function() return recv() + recv() end").eval().unwrap();
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = f.call_async::<i64>(());
    for v in [40, 2] {
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        assert!(!flag.woken.load(Ordering::SeqCst));
        let w = slot.borrow_mut().1.take().expect("the future kept the waker");
        assert!(w.will_wake(&waker), "the executor's waker");
        slot.borrow_mut().0 = Some(v);
        w.wake();
        assert!(flag.woken.swap(false, Ordering::SeqCst));
    }
    assert!(matches!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(42))));
    // Polled again after the end: the coroutine is dead.
    assert!(matches!(
        Pin::new(&mut fut).poll(&mut cx),
        Poll::Ready(Err(Error::CoroutineUnresumable))
    ));
}

#[test]
fn called_without_an_executor() {
    let lua = Lua::new();
    let ready = lua.create_async_function(|_, n: i64| async move { Ok(n + 1) }).unwrap();
    // Ready at once: a plain call works (polled with a no-op waker).
    assert_eq!(ready.call::<i64>(1).unwrap(), 2);
    // Pending in a plain call: there is no coroutine to yield from.
    let e = sleepy(&lua).call::<Value>((1, 1)).unwrap_err();
    assert!(e.to_string().contains("attempt to yield across C-call boundary"), "{e}");
    // In a Lua coroutine resumed by Lua code, the pending sentinel is what it
    // yields, and resuming it again polls the future again.
    lua.globals().set("sleep", sleepy(&lua)).unwrap();
    let (first, second, last): (Value, Value, i64) = lua
        .load(
            "local co = coroutine.wrap(function() return sleep(2, 7) end)
             return co(), co(), co()",
        )
        .eval()
        .unwrap();
    assert_eq!(first, Value::LightUserData(Lua::poll_pending()));
    assert_eq!(second, Value::LightUserData(Lua::poll_pending()));
    assert_eq!(last, 7);
}

#[test]
fn plain_yields_are_skipped_and_errors_come_back() {
    let lua = Lua::new();
    let co: Thread = lua
        .load("coroutine.create(function(a) coroutine.yield('skip') coroutine.yield() return a * 2 end)")
        .eval()
        .unwrap();
    let (v, polls) = block_on(co.clone().into_async::<i64>(21));
    assert_eq!(v.unwrap(), 42);
    assert_eq!(polls, 3);
    assert_eq!(co.status(), ThreadStatus::Finished);
    // An error returned by the async function reaches the host as a callback error.
    let failing = lua
        .create_async_function(|_, ()| async {
            Countdown(1).await;
            Err::<(), _>(Error::runtime("async failure"))
        })
        .unwrap();
    lua.globals().set("failing", failing).unwrap();
    let (r, _) = block_on(lua.load("failing()").exec_async());
    let e = r.unwrap_err();
    assert!(
        matches!(e.root_cause(), Error::RuntimeError(m) if m == "async failure"),
        "{e:?}"
    );
    // Lua code catches it with pcall (pcall can be yielded across).
    let (r, _) = block_on(
        lua.load("local ok, e = pcall(failing) return ok, tostring(e)")
            .eval_async::<(bool, String)>(),
    );
    let (ok, msg) = r.unwrap();
    assert!(!ok);
    assert!(msg.contains("async failure"), "{msg}");
    // A bad argument is reported as for any callback.
    lua.globals().set("sleep", sleepy(&lua)).unwrap();
    let (r, _) = block_on(lua.load("sleep('x', 1)").exec_async());
    assert!(r.unwrap_err().to_string().contains("bad argument #1"));
    // A syntax error and a state mismatch are errors of the future, not panics.
    let (r, _) = block_on(lua.load("return +").exec_async());
    assert!(matches!(r, Err(Error::SyntaxError { .. })));
    let other = Lua::new();
    let f: Function = other.load("function() end").eval().unwrap();
    drop(other);
    let (r, _) = block_on(f.call_async::<()>(()));
    assert!(matches!(r, Err(Error::StateDestroyed)), "{r:?}");
}

/// Counts drops of the value a future holds.
struct DropCount(Rc<Cell<u32>>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn dropping_the_future_drops_the_pending_rust_future_and_closes_the_state() {
    let drops = Rc::new(Cell::new(0));
    let lua = Lua::new();
    let d = drops.clone();
    let hold = lua
        .create_async_function(move |lua, ()| {
            // The future keeps a `Lua` clone, as mlua's closures receive one.
            let guard = DropCount(d.clone());
            async move {
                let _keep = (guard, lua);
                std::future::pending::<()>().await;
                Ok(())
            }
        })
        .unwrap();
    let weak = lua.weak();
    let co = lua.create_thread(hold).unwrap();
    let mut fut = co.clone().into_async::<()>(());
    let waker = Waker::noop();
    assert!(Pin::new(&mut fut).poll(&mut Context::from_waker(waker)).is_pending());
    assert_eq!(drops.get(), 0);
    drop(fut);
    assert_eq!(drops.get(), 1, "dropping the AsyncThread drops the Rust future");
    // Resuming that coroutine again is an error, not a use of a dropped future.
    let e = co.resume::<()>(()).unwrap_err();
    assert!(
        e.to_string()
            .contains("the future of this async call was dropped with its AsyncThread"),
        "{e}"
    );
    drop(co);
    drop(lua);
    assert!(weak.upgrade().is_err(), "no `Lua` clone is left in the state");
}

#[test]
fn budget_and_limits_apply_across_polls() {
    let lua = Lua::new();
    lua.globals().set("sleep", sleepy(&lua)).unwrap();
    lua.set_instruction_budget(Some(100_000)).unwrap();
    let (r, _) = block_on(lua.load("while true do sleep(1, 0) end").exec_async());
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    lua.set_instruction_budget(None).unwrap();
    // A state without the coroutine library still runs async functions.
    let bare = Lua::new_with(StdLib::MATH, LuaOptions::new()).unwrap();
    bare.globals().set("sleep", sleepy(&bare)).unwrap();
    let (v, _) = block_on(bare.load("return sleep(2, math.floor(4.5))").eval_async::<i64>());
    assert_eq!(v.unwrap(), 4);
    // Under a memory limit, a script that allocates while awaiting fails with a
    // memory error, and the state goes on.
    lua.set_memory_limit(lua.used_memory() + 256 * 1024).unwrap();
    let (r, _) = block_on(
        lua.load("local t = {} while true do t[#t + 1] = sleep(0, {}) end")
            .exec_async(),
    );
    assert!(matches!(r, Err(Error::MemoryError(_))), "{r:?}");
    let (v, _) = block_on(lua.load("sleep(1, 3)").eval_async::<i64>());
    assert_eq!(v.unwrap(), 3);
}

#[test]
fn nested_async_calls() {
    let lua = Lua::new();
    lua.globals().set("sleep", sleepy(&lua)).unwrap();
    // An async function that drives another Lua function as a future.
    let inner: Function = lua.load("function(x) return sleep(2, x + 1) end").eval().unwrap();
    let outer = lua
        .create_async_function(move |_, x: i64| {
            let inner = inner.clone();
            async move {
                let a: i64 = inner.call_async(x).await?;
                let b: i64 = inner.call_async(a).await?;
                Ok(b)
            }
        })
        .unwrap();
    lua.globals().set("outer", outer).unwrap();
    let (v, _) = block_on(lua.load("return outer(1) + sleep(1, 10)").eval_async::<i64>());
    assert_eq!(v.unwrap(), 13);
    // Two coroutines of one state driven alternately.
    let a = lua.load("return sleep(3, 'a')").into_function().unwrap();
    let b = lua.load("return sleep(1, 'b')").into_function().unwrap();
    let mut fa = a.call_async::<String>(());
    let mut fb = b.call_async::<String>(());
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = (None, None);
    for _ in 0..10 {
        if done.0.is_none() {
            if let Poll::Ready(v) = Pin::new(&mut fa).poll(&mut cx) {
                done.0 = Some(v.unwrap());
            }
        }
        if done.1.is_none() {
            if let Poll::Ready(v) = Pin::new(&mut fb).poll(&mut cx) {
                done.1 = Some(v.unwrap());
            }
        }
    }
    assert_eq!(done, (Some("a".to_string()), Some("b".to_string())));
}

/// One allocation refused at each point of an async workload: each run ends in
/// its result or a memory error, and the state works afterwards.
#[test]
fn allocation_failures_in_async_entry_points() {
    fn workload(lua: &Lua) -> perilune::Result<i64> {
        let sleep = try_sleepy(lua)?;
        lua.globals().set("sleep", sleep)?;
        let t: Table = lua.load("{}").eval()?;
        let f: Function = lua
            .load("function(t) for i = 1, 5 do t[i] = sleep(1, {i}) end return #t end")
            .eval()?;
        let (r, _) = block_on(f.call_async::<i64>(t));
        let (r2, _) = block_on(lua.load("sleep(1, 2)").eval_async::<i64>());
        Ok(r? + r2?)
    }
    let fa = FaultyAllocator::new();
    let lua = Lua::new_with_allocator(fa.boxed(), StdLib::ALL_SAFE).unwrap();
    fa.set(Fault::None);
    assert_eq!(workload(&lua).unwrap(), 7);
    let total = fa.requests();
    assert!(total > 20, "{total}");
    for n in 1..=total + 5 {
        let fa = FaultyAllocator::new();
        let lua = Lua::new_with_allocator(fa.boxed(), StdLib::ALL_SAFE).unwrap();
        fa.set(Fault::Nth(n));
        if let Err(e) = workload(&lua) {
            assert!(
                matches!(e.root_cause(), Error::MemoryError(_)) || e.to_string().contains("not enough memory"),
                "refusal {n}: {e:?}"
            );
        }
        fa.disarm();
        assert_eq!(workload(&lua).unwrap(), 7, "after refusal {n}");
    }
}
