//! The sampling profiler's machinery: the timer thread, the samples it counts and
//! where the VM looks at them. The Lua API on top of it (`jit.profile.start`,
//! `stop`, `dumpstack`, and running the callback) is the library's
//! (`stdlib/jit/profile.rs`, which also explains how a sample is taken); it hands
//! the VM the function that delivers samples when it starts a profiler, as LuaJIT's
//! `luaJIT_profile_start` takes a callback.
//!
//! Invariants:
//! - The timer thread touches nothing but its atomic counters: no signal handler
//!   and no other thread ever touches the VM. It holds only an `Arc` of the
//!   counters, so it cannot outlive anything it reads; stopping, a new start and
//!   closing the state stop it and join it.
//! - Samples are delivered only where Lua may run ([`Poll::Edge`] or a call): in a
//!   native, a finalizer, a debug hook or the callback itself they wait.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::hot::VmMode;
use crate::vm::budget::Poll;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// Countdown units after which the VM looks again for samples it could not deliver
/// (in a finalizer, a debug hook or the callback itself): about a microsecond of
/// interpretation.
pub const RETRY_UNITS: i64 = 256;

/// What delivers `samples` samples taken in `vmstate` (`'I'`, `'C'`, `'G'`) when the
/// countdown ran out at `at`: the library's callback runner.
pub type Deliver = fn(&mut State, at: Poll, samples: u32, vmstate: u8) -> LResult<()>;

/// What the timer thread shares with the VM.
struct Shared {
    /// Ticks not yet seen by the VM (low 32 bits) and the VM state at the first of
    /// them (bits 32..40; 0: to be decided where the VM looks).
    due: AtomicU64,
    /// What the VM is doing, when it says so (`'G'` while it collects), else 0.
    vmstate: AtomicU8,
    /// Set to end the timer thread.
    stop: AtomicBool,
}

const COUNT_MASK: u64 = 0xffff_ffff;

/// A running profiler: the timer thread and the samples counted but not delivered.
struct Profiler {
    shared: Arc<Shared>,
    timer: Option<JoinHandle<()>>,
    /// Samples taken but not yet passed to the callback.
    samples: u32,
    /// The VM state of the first of them (`'I'`, `'C'`, ...).
    vmstate: u8,
}

impl Profiler {
    /// Start the timer thread.
    fn start(interval: Duration) -> std::io::Result<Profiler> {
        let shared = Arc::new(Shared {
            due: AtomicU64::new(0),
            vmstate: AtomicU8::new(0),
            stop: AtomicBool::new(false),
        });
        let ticks = shared.clone();
        let timer = std::thread::Builder::new()
            .name("perilune-profiler".into())
            .stack_size(64 * 1024)
            .spawn(move || tick(&ticks, interval))?;
        Ok(Profiler {
            shared,
            timer: Some(timer),
            samples: 0,
            vmstate: b'I',
        })
    }
}

/// The timer thread's loop: one tick per interval until told to stop. When the
/// machine was too busy to wake it in time, it does not catch up with a burst.
fn tick(shared: &Shared, interval: Duration) {
    let mut next = Instant::now() + interval;
    while !shared.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        if now < next {
            std::thread::park_timeout(next - now);
            continue;
        }
        let state = u64::from(shared.vmstate.load(Ordering::Relaxed));
        let _ = shared.due.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
            Some(if w & COUNT_MASK == 0 {
                state << 32 | 1
            } else {
                w + u64::from(w & COUNT_MASK < COUNT_MASK)
            })
        });
        next += interval;
        if next <= now {
            next = now + interval;
        }
    }
}

impl Drop for Profiler {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.timer.take() {
            t.thread().unpark();
            // The thread only sleeps and counts: it cannot panic.
            let _ = t.join();
        }
    }
}

/// The profiler's part of the state's budget.
#[derive(Default)]
pub struct ProfileHook {
    /// The running profiler, if any, and what delivers its samples.
    active: Option<(Profiler, Deliver)>,
    /// Set while the callback runs (samples wait until it returns).
    pub busy: bool,
}

impl ProfileHook {
    /// Is a profiler running? (What the countdown check tests.)
    #[inline]
    pub fn is_running(&self) -> bool {
        self.active.is_some()
    }

    /// Start a profiler that samples every `interval` and hands the samples to
    /// `deliver` (a running one stops first: its pending samples are dropped).
    pub fn start(&mut self, interval: Duration, deliver: Deliver) -> std::io::Result<()> {
        self.active = None;
        self.active = Some((Profiler::start(interval)?, deliver));
        Ok(())
    }

    /// Stop the timer thread (and drop the samples not yet delivered).
    pub fn stop(&mut self) {
        self.active = None;
    }

    /// Tell a running profiler's timer what the VM is doing (`b'G'`: collecting;
    /// 0: whatever the next look at the countdown finds).
    #[inline]
    pub fn set_vmstate(&self, state: u8) {
        if let Some((p, _)) = &self.active {
            p.shared.vmstate.store(state, Ordering::Relaxed);
        }
    }
}

impl State {
    /// The countdown ran out at `at` while a profiler runs: count the ticks the
    /// timer added and deliver the samples if Lua may run here.
    pub(crate) fn profile_poll(&mut self, at: Poll) -> LResult<()> {
        let letter = self.mode().profile_letter();
        let nested = self.within(VmMode::Finalizer) || self.within(VmMode::Hook);
        let hook = &mut self.budget.profile;
        let Some((p, deliver)) = hook.active.as_mut() else {
            return Ok(());
        };
        let due = p.shared.due.swap(0, Ordering::Relaxed);
        let ticks = (due & COUNT_MASK) as u32;
        if ticks > 0 {
            if p.samples == 0 {
                p.vmstate = match ((due >> 32) as u8, at) {
                    (0, _) => letter,
                    (state, _) => state,
                };
            }
            p.samples = p.samples.saturating_add(ticks);
        }
        if p.samples == 0 {
            return Ok(());
        }
        if at == Poll::Inside {
            self.poll_in_interpreter();
            return Ok(());
        }
        if nested {
            self.poll_soon(RETRY_UNITS);
            return Ok(());
        }
        let (samples, vmstate, deliver) = (p.samples, p.vmstate, *deliver);
        p.samples = 0;
        deliver(self, at, samples, vmstate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_ticks_and_stops() {
        let p = Profiler::start(Duration::from_millis(1)).unwrap();
        let t0 = Instant::now();
        while p.shared.due.load(Ordering::Relaxed) & COUNT_MASK < 3 {
            assert!(t0.elapsed() < Duration::from_secs(10), "no ticks");
            std::thread::sleep(Duration::from_millis(1));
        }
        let shared = p.shared.clone();
        let t0 = Instant::now();
        drop(p);
        assert!(t0.elapsed() < Duration::from_secs(1), "stopping took too long");
        // The thread has ended: only this handle is left.
        assert_eq!(Arc::strong_count(&shared), 1);
    }
}
