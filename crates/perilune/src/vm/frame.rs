//! Call frames: what a frame holds, and the small API through which the libraries
//! and the embedding API look at a thread's frames (by level, as `debug.getinfo`,
//! tracebacks and `error`'s level count them) without reading the frame array.
//!
//! # Frame invariants
//!
//! A thread ([`GcThread`]) has one value stack and one array of [`CallInfo`]s, oldest
//! first; level 0 is the last entry (the running function), level `n` the `n`th
//! caller below it. Every slot index below is absolute (into `stack`), 32-bit.
//!
//! - **What a frame holds.** `func` is the slot of the function value being run;
//!   the arguments follow it. `base` is the first register; `top` the end of the
//!   frame's registers (a Lua frame: `base + framesize`) or of what a native may use
//!   without a check; `pc` the index of the next instruction (Lua frames; 0 for
//!   natives); `nresults` what the caller wants (-1: all); `cont` what happens to the
//!   results; `flags` the [`flags`] below.
//! - **Ordering.** For consecutive frames `a` (caller) and `b` (callee),
//!   `a.func < b.func`: the callee's function slot lies in or above the caller's
//!   registers, and its results are written from `b.func` on (or where `cont` says).
//!   Registers of every frame lie below `stack.len()` with
//!   [`EXTRA_STACK`](crate::vm::thread::EXTRA_STACK) slack above: entering a frame
//!   makes that room first.
//! - **Lua frames.** A fixed-argument function has `base = func + 1`. A vararg
//!   function keeps its `nvarargs` extra arguments below its registers, then two
//!   cleared link slots (`call::VARARG_LINK`, where LuaJIT keeps its frame link), then
//!   `base`: `base = func + 1 + nargs + 2`, its fixed parameters copied up. Entering
//!   a Lua frame sets the thread's `top` to the frame's `top`; a saved `pc` is one
//!   past the instruction that made the call (`pc - 1` gives "the current line").
//! - **Native frames.** `base = func + 1`; the arguments run from `base` to the
//!   thread's `top`, results are pushed and are the topmost values when the native
//!   returns. A native that calls back into Lua (`State::call`) is a boundary: it
//!   raises the thread's `nny`, and a yield may not cross it.
//! - **pcall frames.** `pcall`/`xpcall` leave a native marker frame of their own
//!   (the builtin's slot is `func`), and the protected function's frame above it is
//!   entered with [`flags::PROTECTED`] (and [`flags::HANDLER`] for `xpcall`, whose
//!   handler sits at `func - 1` of the protected frame) and [`Cont::Pcall`]. An error
//!   unwinds to the innermost protected frame; its results (`true, ...` or `false,
//!   msg`) are returned through the marker frame. Because pcall, metamethods and
//!   iterators are ordinary frames, a coroutine yields across them.
//! - **Entry frames.** A frame with [`flags::ENTRY`] was entered from Rust
//!   (`State::call`, the first frame of a coroutine): returning from it returns from
//!   the interpreter run to the Rust caller.
//! - **Coroutine boundaries.** Each coroutine has its own stack and frames; nothing
//!   links one coroutine's frames to its resumer's. A suspended coroutine that has
//!   started has a native frame on top (the `yield` call, whose results the next
//!   `resume` supplies). A coroutine with no frames and nothing on its stack has
//!   finished (or never had a function). See `vm/coroutine.rs`.
//! - **What the collector may assume.** Every value below the thread's `top` is live
//!   and is marked; slots at and above `top` are scratch, not marked, and may be
//!   cleared in the atomic phase (`gc/trace.rs`). So whenever a collection can run
//!   (a safe point), every value a frame still needs (the running Lua frame's
//!   registers, a native's arguments and pushed values, results in flight) lies below
//!   `top`. Frames hold no references of their own: each frame's function is kept
//!   alive by its `func` slot, which lies below `top`.

use crate::object::GcThread;
use crate::value::Value;

/// What kind of function a frame runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    Lua,
    Native,
}

/// What happens to a frame's results when it returns (continuations let metamethods
/// and `pcall` run as ordinary VM frames, so coroutines can yield across them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cont {
    /// Move results to the function slot, adjusted to `nresults`.
    Normal,
    /// Store the first result into absolute stack slot `slot` (metamethod results).
    Store(u32),
    /// Discard the results (`__newindex`).
    Discard,
    /// Comparison metamethod: take the caller's following JMP if the result's truth
    /// differs from `negate`.
    Cond { negate: bool },
    /// Concatenation in progress over absolute slots `base..top`: the metamethod
    /// joined slots `top-2` and `top-1`; store its result at `top - 2` and continue
    /// with `base..top-1`; the final result goes to slot `dest`.
    Concat { dest: u32, base: u32, top: u32 },
    /// A `pcall`ed function: prefix results with `true`.
    Pcall,
}

/// Frame flags.
pub mod flags {
    /// Returning from this frame returns from `execute` to the Rust caller.
    pub const ENTRY: u8 = 1 << 0;
    /// Errors are caught here (`pcall`/`xpcall`).
    pub const PROTECTED: u8 = 1 << 1;
    /// Reached through a tail call (tracebacks print "(tail call)").
    pub const TAIL: u8 = 1 << 2;
    /// Errors caught here go through the handler at `func - 1` (xpcall).
    pub const HANDLER: u8 = 1 << 3;
}

/// One call frame.
#[derive(Clone, Copy, Debug)]
pub struct CallInfo {
    /// Stack slot of the function being run.
    pub func: u32,
    /// First register (after the function, and after the varargs if any).
    pub base: u32,
    /// End of this frame's registers (Lua) or of its stack use (native).
    pub top: u32,
    /// Index of the next instruction (Lua frames).
    pub pc: u32,
    /// Results the caller wants; -1 for all.
    pub nresults: i32,
    /// Number of extra arguments stored below `base` (vararg functions).
    pub nvarargs: u32,
    pub kind: FrameKind,
    pub flags: u8,
    pub cont: Cont,
}

/// How a coroutine stands, as `coroutine.status` and the API's `GcThread::status`
/// tell it apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoStatus {
    /// Can be resumed: not started, or yielded.
    Suspended,
    /// The running thread.
    Running,
    /// Resumed another coroutine and waits for it.
    Normal,
    /// Returned (or never had a function).
    Finished,
    /// Died with an error (its frames are kept for a traceback).
    Failed,
}

impl GcThread {
    /// How many frames the thread has: levels `0..depth()`.
    #[inline]
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// Index of the frame at `level` (0: the running function), if there is one.
    /// Indices stay valid while no frame is pushed or popped; the debug helpers of
    /// `vm/debug.rs` take them.
    #[inline]
    pub fn frame_index(&self, level: usize) -> Option<usize> {
        self.frames.len().checked_sub(level.checked_add(1)?)
    }

    /// The frame at `level` (0: the running function).
    pub fn frame_at(&self, level: usize) -> Option<CallInfo> {
        self.frame(self.frame_index(level)?)
    }

    /// The frame with index `idx`.
    pub fn frame(&self, idx: usize) -> Option<CallInfo> {
        self.frames.get(idx).copied()
    }

    /// The frame with index `idx`, to change its saved `pc` (the profiler shows a
    /// sampled frame at the instruction about to run).
    pub fn frame_mut(&mut self, idx: usize) -> Option<&mut CallInfo> {
        self.frames.as_mut_slice().get_mut(idx)
    }

    /// The function value frame `ci` runs (nil if its slot is out of the stack).
    pub fn frame_function(&self, ci: &CallInfo) -> Value {
        self.stack.get(ci.func as usize).copied().unwrap_or(Value::NIL)
    }

    /// The end (exclusive) of the slots frame `idx` owns: the next frame's function
    /// slot, or the thread's top for the top frame; a Lua frame stops at its
    /// registers' end.
    pub fn frame_slots_end(&self, idx: usize) -> usize {
        let mut end = match self.frames.get(idx + 1) {
            Some(next) => next.func as usize,
            None => self.top,
        };
        if let Some(ci) = self.frames.get(idx).filter(|ci| ci.kind == FrameKind::Lua) {
            end = end.min(ci.top as usize);
        }
        end.min(self.stack.len())
    }

    /// Pop the frames above the first `depth` (a host call unwinding to where it
    /// started after an error).
    pub fn truncate_frames(&mut self, depth: usize) {
        self.frames.truncate(depth);
    }

    /// No frames and nothing on the stack: a coroutine that finished, or a thread
    /// that never had a function.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.top == 0
    }

    /// How the coroutine stands (as seen from another thread: the caller checks
    /// whether it is the running one).
    pub fn co_status(&self) -> CoStatus {
        use crate::vm::thread::ThreadStatus as S;
        match self.status {
            S::Suspended if self.is_empty() => CoStatus::Finished,
            S::Suspended => CoStatus::Suspended,
            S::Running => CoStatus::Running,
            S::Normal => CoStatus::Normal,
            S::Dead if self.frames.is_empty() => CoStatus::Finished,
            S::Dead => CoStatus::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::error::LResult;
    use crate::vm::state::State;

    /// A native that checks what the frame API shows from inside a call made by Lua,
    /// and returns the depth.
    fn probe(st: &mut State) -> LResult<usize> {
        let th = st.cur;
        let (Some(me), Some(caller)) = (th.frame_at(0), th.frame_at(1)) else {
            return Err(st.rt_error("probe: missing frames"));
        };
        assert_eq!(me.kind, FrameKind::Native);
        assert_eq!(caller.kind, FrameKind::Lua);
        assert_eq!(th.frame_index(0), Some(th.depth() - 1));
        assert_eq!(th.frame_index(th.depth()), None);
        assert!(th.frame_at(usize::MAX).is_none());
        assert!(th.frame_function(&me).is_function());
        assert!(th.frame_function(&caller).is_function());
        // A native owns its slots up to the top; its Lua caller up to the native's
        // function slot.
        assert_eq!(th.frame_slots_end(th.depth() - 1), th.top);
        assert_eq!(th.frame_slots_end(th.depth() - 2), me.func as usize);
        assert_eq!(th.co_status(), CoStatus::Running);
        st.push(Value::number(th.depth() as f64))?;
        Ok(1)
    }

    #[test]
    fn frames_by_level() {
        let mut st = State::new().unwrap();
        let f = st.new_native(probe, crate::func::FF_C, 0).unwrap();
        st.set_global("probe", Value::function(f)).unwrap();
        let src = b"local function g() return (probe()) end return g() + 0, probe()";
        st.load(src, b"=t").unwrap();
        st.call(0, 2).unwrap();
        // `g() + 0` is not a tail call: chunk, g, probe. The second: chunk, probe.
        assert_eq!(st.peek(1).as_number(), Some(3.0));
        assert_eq!(st.peek(0).as_number(), Some(2.0));
    }

    #[test]
    fn coroutine_status_of_a_thread() {
        let mut st = State::new().unwrap();
        let env = st.globals;
        let co = st.new_thread(env).unwrap();
        // No function and nothing on the stack: finished, whatever its status says.
        assert!(co.is_empty());
        assert_eq!(co.depth(), 0);
        assert!(co.frame_at(0).is_none());
        assert_eq!(co.co_status(), CoStatus::Finished);
        let t = co.get_mut();
        t.stack[0] = Value::function(st.new_native(probe, crate::func::FF_C, 0).unwrap());
        t.top = 1;
        assert_eq!(co.co_status(), CoStatus::Suspended);
        co.get_mut().status = crate::vm::thread::ThreadStatus::Dead;
        assert_eq!(co.co_status(), CoStatus::Finished);
        co.get_mut().top = 0;
    }
}
