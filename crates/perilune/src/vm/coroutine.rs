//! Resuming and yielding coroutines.
//!
//! A coroutine runs on its own [`GcThread`]. `resume` switches the state's current
//! thread and runs the interpreter on it (a Rust-level re-entry, bounded by
//! `MAX_RUST_DEPTH`); a yield is `Throw::Yield` travelling back out of that
//! interpreter run with every frame of the coroutine left in place. Because `pcall`,
//! metamethods and iterators are ordinary frames, a yield can start inside any of
//! them. Only a native function that called back into Lua (`State::call`) blocks it:
//! that is what the thread's `nny` counts.
//!
//! Invariants:
//! - A suspended coroutine that has started has a native frame on top: the `yield`
//!   call, whose results are the values the next `resume` passes in.
//! - The resumer's `status` is `Normal` while the coroutine runs and `Running` again
//!   afterwards, on every path.

use crate::object::{GcRef, GcThread};
use crate::value::Value;
use crate::vm::call::{close_upvals, ensure_stack, poscall, precall, Entered, MAX_RUST_DEPTH};
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::{flags, Cont};
use crate::vm::interp::execute_from;
use crate::vm::state::State;
use crate::vm::thread::{ThreadStatus, EXTRA_STACK};

/// Why a resume did not run the coroutine body to a result.
pub enum ResumeError {
    /// The coroutine raised this error (it is dead now).
    Failed(Value),
    /// It could not be resumed at all (dead, running, too deep); the message.
    Refused(&'static str),
    /// The host aborted the script while the coroutine ran; it goes on outward.
    Aborted,
}

impl State {
    /// Resume `co` with the top `nargs` values of the current stack as arguments. On
    /// success the values it yielded or returned replace the arguments and their
    /// count is returned.
    pub fn resume(&mut self, co: GcRef<GcThread>, nargs: usize) -> Result<usize, ResumeError> {
        let from = self.cur;
        if co.status != ThreadStatus::Suspended {
            return Err(ResumeError::Refused(if co.status == ThreadStatus::Dead {
                crate::errmsg::COROUTINE_DEAD
            } else {
                crate::errmsg::COROUTINE_RUNNING
            }));
        }
        let fresh = co.frames.is_empty();
        if fresh && co.top == 0 {
            return Err(ResumeError::Refused(crate::errmsg::COROUTINE_DEAD));
        }
        if self.rust_depth >= MAX_RUST_DEPTH {
            return Err(ResumeError::Refused(crate::errmsg::C_STACK_OVERFLOW));
        }
        // Move the arguments across.
        let first_arg = co.top;
        if ensure_stack(self, co, co.top + nargs + EXTRA_STACK).is_err() {
            return Err(ResumeError::Failed(Value::string(self.oom_msg)));
        }
        let src = from.top - nargs;
        for i in 0..nargs {
            co.get_mut().stack[first_arg + i] = from.stack[src + i];
        }
        co.get_mut().top = first_arg + nargs;
        from.get_mut().top = src;

        from.get_mut().status = ThreadStatus::Normal;
        co.get_mut().status = ThreadStatus::Running;
        self.cur = co;
        self.rust_depth += 1;
        let r = if fresh {
            self.start(nargs)
        } else {
            self.continue_after_yield(first_arg, nargs)
        };
        self.rust_depth -= 1;
        self.cur = from;
        from.get_mut().status = ThreadStatus::Running;

        match r {
            Ok(()) => {
                co.get_mut().status = ThreadStatus::Dead;
                self.transfer(co, 0)
            }
            Err(Throw::Yield) => {
                co.get_mut().status = ThreadStatus::Suspended;
                let base = co.frames.last().map_or(0, |ci| ci.base as usize);
                let n = self.transfer(co, base)?;
                Ok(n)
            }
            Err(Throw::Abort) => {
                co.get_mut().status = ThreadStatus::Dead;
                close_upvals(self, co, 0);
                Err(ResumeError::Aborted)
            }
            Err(e) => {
                co.get_mut().status = ThreadStatus::Dead;
                let v = self.error_value(e);
                close_upvals(self, co, 0);
                Err(ResumeError::Failed(v))
            }
        }
    }

    /// Run a fresh coroutine: its function is at slot 0, the arguments above it.
    fn start(&mut self, nargs: usize) -> LResult<()> {
        match precall(self, 0, nargs, -1, Cont::Normal, flags::ENTRY)? {
            Entered::Lua => execute_coroutine(self),
            Entered::Native => Ok(()),
        }
    }

    /// Deliver the resume arguments as the results of the pending `yield` call and
    /// carry on.
    fn continue_after_yield(&mut self, first: usize, nargs: usize) -> LResult<()> {
        let co = self.cur;
        poscall(self, first, nargs)?;
        if co.frames.is_empty() {
            return Ok(());
        }
        execute_coroutine(self)
    }

    /// Move the coroutine's values from slot `from_slot` to its top onto the current
    /// stack.
    fn transfer(&mut self, co: GcRef<GcThread>, from_slot: usize) -> Result<usize, ResumeError> {
        let n = co.top.saturating_sub(from_slot);
        let th = self.cur;
        if ensure_stack(self, th, th.top + n + EXTRA_STACK).is_err() {
            co.get_mut().top = from_slot;
            return Err(ResumeError::Failed(Value::string(self.oom_msg)));
        }
        for i in 0..n {
            let v = co.stack[from_slot + i];
            let t = th.get_mut();
            t.stack[t.top] = v;
            t.top += 1;
        }
        co.get_mut().top = from_slot;
        Ok(n)
    }
}

/// Run a coroutine's frames until its body (frame 0) returns.
fn execute_coroutine(st: &mut State) -> LResult<()> {
    execute_from(st, 0)
}
