//! The budget: instruction budgets, the interrupt flag and the host's interrupt
//! callback, all looked at when one countdown runs out.
//!
//! The interpreter pays into a countdown (the hot block's `countdown`, `hot.rs`) at
//! every point where execution could go on forever: loop back-edges (the length of
//! the loop body, so the count approximates instructions executed) and entry into a
//! Lua function (one unit), and natives and the compiler pay for the work they do in
//! proportion to the bytes or elements they touch ([`State::charge`],
//! [`State::charge_bytes`]; docs/embedding.md, "The budget guarantee"). Finalizers
//! run under a cap of their own and a stop by the host inside one is raised into the
//! code it interrupted ([`State::call_finalizer`]). When the countdown runs out it
//! calls [`State::budget_check`], which:
//! - raises `interrupted!` if the interrupt flag is set (Ctrl-C in the command line;
//!   an ordinary, catchable error, as `lua.c` does);
//! - charges the instruction budget and aborts when it is spent;
//! - runs the host's interrupt callback, which may continue, raise an error or abort;
//! - delivers the samples of a running profiler (`jit.profile`), whose timer thread
//!   counts them in an atomic the check reads: the VM mode ([`VmMode`]) at the check
//!   is the state the samples are reported with, and only the interpreter's checks
//!   at a [`Poll::Edge`] or a [`Poll::Call`] may run the profiler's Lua callback.
//!
//! An abort is `Throw::Abort`: no `pcall` inside the script catches it, so untrusted
//! code cannot swallow it; it ends the call the host made.
//!
//! "Hook" means only the Lua debug hook (`vm/hook.rs`); nothing here is one.
//!
//! Invariants:
//! - The fast path is one subtraction and one compare; the counter is reset to at most
//!   [`CHECK_INTERVAL`] units so flags are noticed promptly.
//! - Checks happen only at safe points of the interpreter (between instructions).
//!
//! [`VmMode`]: crate::hot::VmMode

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

/// Units between two checks when no budget is smaller.
pub const CHECK_INTERVAL: i64 = 10_000;

/// Bytes a native copies, hashes or scans for one unit of the countdown. Measured:
/// an interpreter instruction takes 3-4 ns; copying and interning a string takes
/// about 0.3 ns per byte, so 16 bytes are about one instruction's worth of time.
pub const BYTES_PER_UNIT: usize = 16;

/// How much a native that can stop part-way processes between two payments: 64 KiB
/// of bytes (4096 units), so the flags and the host's callback are looked at every
/// few tens of microseconds however large the operation is.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Where the countdown ran out: whether Lua code (the profiler's callback) may run
/// there. What the VM was doing is its mode, not this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// The interpreter at a loop back-edge: the frame's saved pc is the instruction
    /// about to run.
    Edge,
    /// The interpreter at a call: the frame's saved pc is just past the call.
    Call,
    /// Inside an instruction that copies many values or makes a big table, or inside
    /// a native function or the compiler ([`State::charge`]): no Lua code may run
    /// here.
    Inside,
}

/// What a host interrupt callback asks for.
pub enum InterruptAction {
    Continue,
    /// Raise a catchable Lua error with this message.
    Error(String),
    /// Stop the script: an error no `pcall` in it can catch.
    Abort(String),
}

/// Host callback run at interrupt checks. Not `Send`, as the state it belongs to
/// (what crosses threads is the interrupt flag, an `Arc<AtomicBool>`).
pub type InterruptFn = Box<dyn FnMut() -> InterruptAction>;

/// Interrupt and budget settings of a state.
pub struct Budget {
    /// Remaining instruction budget, if one is set.
    pub remaining: Option<u64>,
    /// Units the countdown started from at the last reset (to charge the budget).
    pub charged_from: i64,
    pub callback: Option<InterruptFn>,
    /// Why the last abort happened (the message `Throw::Abort` carries).
    pub abort_reason: String,
    /// The cap every finalizer call runs under, on top of the budget in force
    /// (`None`: no cap of its own). See [`State::call_finalizer`].
    pub finalizer_budget: Option<u64>,
    /// An abort raised inside a finalizer waits to be raised into the code the
    /// finalizer interrupted: at the next check (the countdown is set to run out at
    /// once), at the end of `collectgarbage`, or when the host's call returns.
    pub pending_abort: bool,
    /// While a finalizer runs: the budget in force outside it, and whether the
    /// finalizer's own cap (not that budget) is what bounds it.
    fin: Option<(Option<u64>, bool)>,
    /// Aborts and interrupts raised so far (to tell what stopped a finalizer).
    aborts: u64,
    interrupts: u64,
    /// The sampling profiler (`jit.profile`), when one runs.
    pub profile: crate::vm::profile::ProfileHook,
    /// Natives ([`State::charge`]) run the check when the countdown goes below this
    /// (0, or less while the interpreter is to look at the flags first: see
    /// [`State::poll_in_interpreter`]).
    pub native_floor: i64,
}

/// The cap on one finalizer call unless the host sets another
/// ([`State::set_finalizer_budget`]): about 3 ms of interpretation.
pub const DEFAULT_FINALIZER_BUDGET: u64 = 1_000_000;

/// The abort reason when a finalizer's own cap runs out (reported to the finalizer
/// error handler; the interrupted code goes on).
pub const FINALIZER_BUDGET_REASON: &str = crate::errmsg::FINALIZER_BUDGET_EXHAUSTED;

/// What stopped a finalizer call ([`State::call_finalizer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalizerEnd {
    /// It returned, or raised an error of its own (reported, never rethrown): the
    /// next finalizer may run.
    Done,
    /// The budget in force ran out, the host's callback aborted, or the interrupt
    /// flag was seen: the abort is pending for the interrupted code (or the flag is
    /// set again) and no further finalizer runs now.
    Stop,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            remaining: None,
            charged_from: CHECK_INTERVAL,
            callback: None,
            abort_reason: String::new(),
            finalizer_budget: Some(DEFAULT_FINALIZER_BUDGET),
            pending_abort: false,
            fin: None,
            aborts: 0,
            interrupts: 0,
            profile: Default::default(),
            native_floor: 0,
        }
    }
}

impl State {
    /// A handle that interrupts running code when set to true ("interrupted!").
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.heap.hot.interrupt_handle()
    }

    /// Limit execution to about `units` instructions from now (`None`: no limit).
    pub fn set_budget(&mut self, units: Option<u64>) {
        self.budget.remaining = units;
        self.reset_countdown();
    }

    /// Remaining budget, if one is set.
    pub fn budget_remaining(&self) -> Option<u64> {
        let used = (self.budget.charged_from - self.countdown()).max(0) as u64;
        self.budget.remaining.map(|b| b.saturating_sub(used))
    }

    /// Run `f` at interrupt checks.
    pub fn set_interrupt(&mut self, f: Option<InterruptFn>) {
        self.budget.callback = f;
        self.reset_countdown();
    }

    /// Units left on the countdown (in the hot block, `hot.rs`).
    #[inline(always)]
    pub fn countdown(&self) -> i64 {
        self.heap.hot.countdown.get()
    }

    #[inline(always)]
    fn set_countdown(&self, n: i64) {
        self.heap.hot.countdown.set(n);
    }

    fn reset_countdown(&mut self) {
        let n = match self.budget.remaining {
            Some(b) => (b.min(CHECK_INTERVAL as u64)) as i64,
            None => CHECK_INTERVAL,
        };
        self.budget.charged_from = n;
        self.set_countdown(n);
        self.budget.native_floor = 0;
    }

    /// Pay `units` of work done inside a native function into the countdown (the
    /// pattern matcher's steps: its running time can be exponential, and the
    /// interpreter sees the whole match as one call). When the countdown runs out
    /// this is a check like any other: the budget is charged (and may abort), the
    /// interrupt flag and the host's callback are looked at.
    pub fn pay_native(&mut self, units: u64) -> LResult<()> {
        self.charge(units)
    }

    /// Pay `units` of work done by a native function (or the compiler) into the
    /// countdown, running the check when it runs out. Every native whose cost depends
    /// on its input pays through this (or [`State::charge_bytes`]) in proportion to
    /// the bytes or elements it touches: before the work when it cannot stop half-way
    /// (a copy into a new string), or chunk by chunk as it goes when it can.
    #[inline]
    pub fn charge(&mut self, units: u64) -> LResult<()> {
        // Capped so that `charged_from - countdown` in `budget_check` cannot overflow.
        let units = units.min(1 << 52) as i64;
        let left = self.countdown() - units;
        self.set_countdown(left);
        if left < self.budget.native_floor {
            self.budget_check_at(Poll::Inside)?;
        }
        Ok(())
    }

    /// [`State::charge`] for `n` bytes copied, hashed or scanned ([`BYTES_PER_UNIT`]).
    #[inline]
    pub fn charge_bytes(&mut self, n: usize) -> LResult<()> {
        self.charge((n / BYTES_PER_UNIT) as u64)
    }

    /// Charge what the countdown used to the budget, and start it over.
    fn settle_countdown(&mut self) {
        let used = (self.budget.charged_from - self.countdown()).max(0) as u64;
        if let Some(b) = self.budget.remaining {
            self.budget.remaining = Some(b.saturating_sub(used));
        }
        self.reset_countdown();
    }

    /// Make the next check come after at most `units` more units (what the countdown
    /// has used so far stays charged).
    pub(crate) fn poll_soon(&mut self, units: i64) {
        let cut = self.countdown() - units;
        if cut > 0 {
            self.set_countdown(units);
            self.budget.charged_from -= cut;
        }
    }

    /// Make the interpreter run the check at its next payment into the countdown,
    /// while natives go on running it after the units they have left (something is
    /// waiting that only the interpreter can do: a native cannot run the profiler's
    /// callback). Called right after the countdown was reset.
    pub(crate) fn poll_in_interpreter(&mut self) {
        let n = self.countdown().max(0);
        self.set_countdown(self.countdown() - n);
        self.budget.charged_from -= n;
        self.budget.native_floor = -n;
    }

    /// The countdown ran out in the interpreter, at a call: look at the flags,
    /// charge the budget, ask the host (see [`State::budget_check_at`]).
    #[cold]
    pub fn budget_check(&mut self) -> LResult<()> {
        self.budget_check_at(Poll::Call)
    }

    /// The countdown ran out at `at`: look at the flags, charge the budget, ask the
    /// host, deliver profiler samples. At [`Poll::Edge`] and [`Poll::Call`] Lua code
    /// may run (the profiler's callback); at [`Poll::Call`] the stack may move.
    #[cold]
    pub fn budget_check_at(&mut self, at: Poll) -> LResult<()> {
        self.settle_countdown();
        if self.budget.remaining == Some(0) {
            let reason = match self.budget.fin {
                Some((_, true)) => FINALIZER_BUDGET_REASON,
                _ => crate::errmsg::BUDGET_EXHAUSTED,
            };
            return Err(self.abort(reason));
        }
        if self.budget.pending_abort {
            self.budget.pending_abort = false;
            self.budget.aborts += 1;
            return Err(Throw::Abort);
        }
        if self.heap.hot.take_interrupt() {
            self.budget.interrupts += 1;
            return Err(self.rt_error_here(crate::errmsg::INTERRUPTED));
        }
        if let Some(cb) = self.budget.callback.as_mut() {
            match cb() {
                InterruptAction::Continue => {}
                InterruptAction::Error(msg) => return Err(self.rt_error_here(&msg)),
                InterruptAction::Abort(msg) => return Err(self.abort(&msg)),
            }
        }
        if self.budget.profile.is_running() {
            return self.profile_poll(at);
        }
        Ok(())
    }

    /// Compare two strings' bytes (the `<` and `<=` of strings, `table.sort`),
    /// paying for every [`CHUNK_BYTES`] of common prefix compared: comparing two long
    /// equal prefixes is work in proportion to their length.
    pub fn compare_bytes(&mut self, a: &[u8], b: &[u8]) -> LResult<std::cmp::Ordering> {
        let common = a.len().min(b.len());
        let mut at = 0;
        while common - at > CHUNK_BYTES {
            let (x, y) = (a.get(at..at + CHUNK_BYTES), b.get(at..at + CHUNK_BYTES));
            if x != y {
                return Ok(x.cmp(&y));
            }
            self.charge_bytes(CHUNK_BYTES)?;
            at += CHUNK_BYTES;
        }
        Ok(a.get(at..).cmp(&b.get(at..)))
    }

    /// Make an abort carrying `reason`.
    pub fn abort(&mut self, reason: &str) -> Throw {
        self.budget.abort_reason = reason.to_string();
        self.budget.pending_abort = false;
        self.budget.aborts += 1;
        Throw::Abort
    }

    /// Set the cap each finalizer call runs under (`None`: none of its own; the
    /// budget in force still applies).
    pub fn set_finalizer_budget(&mut self, units: Option<u64>) {
        self.budget.finalizer_budget = units;
    }

    /// Raise an abort that a finalizer left pending (see [`Budget::pending_abort`]).
    pub fn raise_pending_abort(&mut self) -> LResult<()> {
        if self.budget.pending_abort {
            self.budget.pending_abort = false;
            Err(Throw::Abort)
        } else {
            Ok(())
        }
    }

    /// Call the finalizer set up on the stack (the `__gc` function and its object,
    /// on top) under the finalizer rules (docs/embedding.md, "Finalizers and the
    /// budget"):
    /// - it runs under the budget in force, which pays for it, and under a cap of
    ///   its own ([`Budget::finalizer_budget`]), whichever is smaller; the host's
    ///   callback and the interrupt flag are looked at as anywhere else;
    /// - an error it raises, its own cap running out included, is handed to the
    ///   finalizer error handler and never rethrown ([`FinalizerEnd::Done`]);
    /// - the budget in force running out or the host's callback aborting stops it,
    ///   and the abort is made pending for the code it interrupted; the interrupt
    ///   flag seen inside it is set again for that code ([`FinalizerEnd::Stop`]).
    pub fn call_finalizer(&mut self) -> FinalizerEnd {
        self.settle_countdown();
        let outer = self.budget.remaining;
        let cap = self.budget.finalizer_budget;
        let (own, cap_binds) = match (outer, cap) {
            (Some(o), Some(c)) => (Some(o.min(c)), c < o),
            (None, c) => (c, c.is_some()),
            (o, None) => (o, false),
        };
        let saved_fin = self.budget.fin.replace((outer, cap_binds));
        self.budget.remaining = own;
        self.reset_countdown();
        let (aborts, interrupts) = (self.budget.aborts, self.budget.interrupts);
        let ok = self.pcall(1, 0, false);
        self.settle_countdown();
        let used = own.map_or(0, |o| o.saturating_sub(self.budget.remaining.unwrap_or(0)));
        self.budget.fin = saved_fin;
        self.budget.remaining = outer.map(|o| o.saturating_sub(used));
        self.reset_countdown();
        let aborted = self.budget.aborts != aborts;
        let own_cap = aborted && self.budget.abort_reason == FINALIZER_BUDGET_REASON;
        let interrupted = self.budget.interrupts != interrupts;
        if !ok {
            if (!aborted || own_cap) && !interrupted {
                let msg = self.peek(0);
                self.report_finalizer_error(msg);
            }
            self.pop(1);
        }
        if interrupted {
            self.heap.hot.interrupt().store(true, Ordering::Relaxed);
        }
        if aborted && !own_cap {
            self.budget.pending_abort = true;
        }
        if interrupted || (aborted && !own_cap) {
            // The interrupted code looks at the flags at its next check (what the
            // countdown has used so far stays charged).
            self.budget.charged_from -= self.countdown();
            self.set_countdown(0);
            return FinalizerEnd::Stop;
        }
        FinalizerEnd::Done
    }
}
