//! Stopping running code: interrupts, instruction budgets and host hooks.
//!
//! The interpreter pays into a countdown (`State::hook_counter`) at every point where
//! execution could go on forever: loop back-edges (the length of the loop body, so
//! the count approximates instructions executed) and entry into a Lua function (one
//! unit). When the countdown runs out it calls [`State::hook_check`], which:
//! - raises `interrupted!` if the interrupt flag is set (Ctrl-C in the command line;
//!   an ordinary, catchable error, as `lua.c` does);
//! - charges the instruction budget and aborts when it is spent;
//! - runs the host's interrupt callback, which may continue, raise an error or abort.
//!
//! An abort is `Throw::Abort`: no `pcall` inside the script catches it, so untrusted
//! code cannot swallow it; it ends the call the host made.
//!
//! Invariants:
//! - The fast path is one subtraction and one compare; the counter is reset to at most
//!   [`HOOK_INTERVAL`] units so flags are noticed promptly.
//! - Checks happen only at safe points of the interpreter (between instructions).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

/// Units between two looks at the flags when no budget is smaller.
pub const HOOK_INTERVAL: i64 = 10_000;

/// What a host interrupt callback asks for.
pub enum HookAction {
    Continue,
    /// Raise a catchable Lua error with this message.
    Error(String),
    /// Stop the script: an error no `pcall` in it can catch.
    Abort(String),
}

/// Host callback run at interrupt checks.
pub type InterruptFn = Box<dyn FnMut() -> HookAction + Send>;

/// Interrupt and budget settings of a state.
pub struct Hooks {
    /// Set from anywhere (another thread, a signal handler) to interrupt the script.
    pub interrupt_flag: Arc<AtomicBool>,
    /// Remaining instruction budget, if one is set.
    pub budget: Option<u64>,
    /// Units the countdown started from at the last reset (to charge the budget).
    pub charged_from: i64,
    pub callback: Option<InterruptFn>,
    /// Why the last abort happened (the message `Throw::Abort` carries).
    pub abort_reason: String,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            interrupt_flag: Arc::new(AtomicBool::new(false)),
            budget: None,
            charged_from: HOOK_INTERVAL,
            callback: None,
            abort_reason: String::new(),
        }
    }
}

impl State {
    /// A handle that interrupts running code when set to true ("interrupted!").
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.hooks.interrupt_flag.clone()
    }

    /// Limit execution to about `units` instructions from now (`None`: no limit).
    pub fn set_budget(&mut self, units: Option<u64>) {
        self.hooks.budget = units;
        self.reset_countdown();
    }

    /// Remaining budget, if one is set.
    pub fn budget_remaining(&self) -> Option<u64> {
        let used = (self.hooks.charged_from - self.hook_counter).max(0) as u64;
        self.hooks.budget.map(|b| b.saturating_sub(used))
    }

    /// Run `f` at interrupt checks.
    pub fn set_interrupt(&mut self, f: Option<InterruptFn>) {
        self.hooks.callback = f;
        self.reset_countdown();
    }

    fn reset_countdown(&mut self) {
        let n = match self.hooks.budget {
            Some(b) => (b.min(HOOK_INTERVAL as u64)) as i64,
            None => HOOK_INTERVAL,
        };
        self.hooks.charged_from = n;
        self.hook_counter = n;
    }

    /// Pay `units` of work done inside a native function into the countdown (the
    /// pattern matcher's steps: its running time can be exponential, and the
    /// interpreter sees the whole match as one call). When the countdown runs out
    /// this is a check like any other: the budget is charged (and may abort), the
    /// interrupt flag and the host's callback are looked at.
    pub fn pay_native(&mut self, units: u64) -> LResult<()> {
        // Capped so that `charged_from - hook_counter` in `hook_check` cannot overflow.
        let units = units.min(1 << 52) as i64;
        self.hook_counter -= units;
        if self.hook_counter < 0 {
            self.hook_check()?;
        }
        Ok(())
    }

    /// The countdown ran out: look at the flags, charge the budget, ask the host.
    #[cold]
    pub fn hook_check(&mut self) -> LResult<()> {
        let used = (self.hooks.charged_from - self.hook_counter).max(0) as u64;
        if let Some(b) = self.hooks.budget {
            let left = b.saturating_sub(used);
            self.hooks.budget = Some(left);
            if left == 0 {
                self.reset_countdown();
                return Err(self.abort("instruction budget exhausted"));
            }
        }
        self.reset_countdown();
        if self.hooks.interrupt_flag.swap(false, Ordering::Relaxed) {
            return Err(self.rt_error_here("interrupted!"));
        }
        if let Some(cb) = self.hooks.callback.as_mut() {
            match cb() {
                HookAction::Continue => {}
                HookAction::Error(msg) => return Err(self.rt_error_here(&msg)),
                HookAction::Abort(msg) => return Err(self.abort(&msg)),
            }
        }
        Ok(())
    }

    /// Make an abort carrying `reason`.
    pub fn abort(&mut self, reason: &str) -> Throw {
        self.hooks.abort_reason = reason.to_string();
        Throw::Abort
    }
}
