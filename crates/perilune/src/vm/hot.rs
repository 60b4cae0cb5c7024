//! What the VM is doing ([`VmMode`]), and the hot block ([`HotBlock`]): the words the
//! interpreter checks on its fast paths, at fixed offsets, as compiled code will.
//!
//! The mode is one typed value (DESIGN.md invariant 8, JIT.md J7). It is written by
//! one helper only, [`State::with_mode`], which sets it for a closure and puts the
//! previous mode back when the closure returns, with a result or an error: errors are
//! values here, so no path leaves a mode behind. Every reader asks the mode (or the
//! set of modes the current one is nested in, [`State::within`]) instead of a flag of
//! its own. At rest, and whenever a caught error has been delivered, it is
//! [`VmMode::Interp`].
//!
//! The hot block lives in the state's boxed [`Heap`](crate::alloc::Heap): the
//! allocator adds every allocation to the GC debt through a pointer that is not
//! derived from the `&mut State` of the running code, so the debt cannot live in the
//! `State` itself; the heap's box is the one place both reach, and its address is
//! fixed for the state's life (compiled code gets it as a constant). Offsets are
//! exported and checked in `crate::vm::layout`.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::vm::state::State;

/// What the VM is doing. The JIT adds `Record` (the recorder runs alongside the
/// interpreter), `Trace(TraceNo)` (machine code of trace N runs) and
/// `Exit(TraceNo, ExitNo)` (restoring the interpreter state at an exit); the enum then
/// becomes `#[repr(C, u8)]` with the numbers as payload, still at
/// [`HotBlock`]'s `mode` offset, so nothing ever decodes a trace number from another
/// field.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmMode {
    /// Running bytecode, or at rest between calls from the host.
    Interp = 0,
    /// Inside a native (Rust) function called from Lua.
    Native = 1,
    /// Running collector work (a step, a full cycle, freeing everything at close).
    Gc = 2,
    /// Running the finalizers queued by the collector (their Lua code runs nested
    /// in `Interp`, `within` still says `Finalizer`).
    Finalizer = 3,
    /// Running the debug hook or the profiler's callback: neither fires again
    /// inside.
    Hook = 4,
}

impl VmMode {
    /// Every mode, in numbering order (for the test helpers).
    #[cfg(any(test, feature = "internals"))]
    pub const ALL: [VmMode; 5] = [
        VmMode::Interp,
        VmMode::Native,
        VmMode::Gc,
        VmMode::Finalizer,
        VmMode::Hook,
    ];

    /// This mode's bit in [`HotBlock`]'s `within` set.
    #[inline(always)]
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The letter `jit.profile` reports for a sample taken in this mode, as
    /// LuaJIT's profiler names its VM states.
    pub fn profile_letter(self) -> u8 {
        match self {
            VmMode::Native => b'C',
            VmMode::Gc => b'G',
            VmMode::Interp | VmMode::Finalizer | VmMode::Hook => b'I',
        }
    }
}

/// The words every fast path checks, in one `#[repr(C)]` block at fixed offsets
/// (`crate::vm::layout::hot`). The interpreter reads them with plain loads through the
/// block, as compiled code will; the fields are `Cell`s because the allocator writes
/// the debt through a shared reference to the heap.
///
/// Machine code reads the interrupt flag through the pointer at `interrupt`: a byte
/// load of 0 or 1. Other threads set it with an atomic store; a relaxed atomic load
/// is an ordinary load on x86-64 and AArch64, so the plain load machine code does is
/// what the interpreter's relaxed load compiles to. Nothing orders it with other
/// memory: the flag only asks the VM to stop at its next check.
#[repr(C)]
pub struct HotBlock {
    /// Budget units left until the next check (`vm/budget.rs`): the interpreter and
    /// natives subtract what they do and run the check when it goes negative.
    pub countdown: Cell<i64>,
    /// Bytes allocated since the collector last caught up: a GC step is due at the
    /// next safe point while positive (`alloc`, `gc`).
    pub gc_debt: Cell<isize>,
    /// The interrupt flag (owned by `interrupt_owner`): set by other threads (Ctrl-C,
    /// a host's watchdog) through [`HotBlock::interrupt_handle`].
    interrupt: NonNull<AtomicBool>,
    /// What the VM is doing now.
    mode: Cell<VmMode>,
    /// The modes entered and not yet left (bits of [`VmMode::bit`]), the current
    /// one included: a finalizer's Lua code runs in `Interp` within `Finalizer`.
    within: Cell<u8>,
    /// Keeps the interrupt flag alive for the handles other threads hold.
    interrupt_owner: Arc<AtomicBool>,
}

impl HotBlock {
    /// Offset of the pointer to the interrupt flag (`crate::vm::layout`).
    pub const INTERRUPT_OFFSET: usize = std::mem::offset_of!(HotBlock, interrupt);
    /// Offset of the mode, one byte ([`VmMode`] as `u8`).
    pub const MODE_OFFSET: usize = std::mem::offset_of!(HotBlock, mode);
    /// Offset of the set of modes the current one is nested in, one byte.
    pub const WITHIN_OFFSET: usize = std::mem::offset_of!(HotBlock, within);

    pub fn new() -> HotBlock {
        let owner = Arc::new(AtomicBool::new(false));
        HotBlock {
            countdown: Cell::new(0),
            gc_debt: Cell::new(0),
            interrupt: NonNull::from(&*owner),
            mode: Cell::new(VmMode::Interp),
            within: Cell::new(VmMode::Interp.bit()),
            interrupt_owner: owner,
        }
    }

    /// Subtract `units` from the countdown; true when it ran out (a check is due).
    #[inline(always)]
    pub fn pay(&self, units: i64) -> bool {
        let left = self.countdown.get() - units;
        self.countdown.set(left);
        left < 0
    }

    /// The interrupt flag, as compiled code reaches it.
    #[inline]
    pub fn interrupt(&self) -> &AtomicBool {
        // SAFETY: `interrupt` points into the allocation of `interrupt_owner`, which
        // this block holds for as long as it lives (moving the block moves the `Arc`,
        // not the flag).
        unsafe { self.interrupt.as_ref() }
    }

    /// Take the interrupt request, if one was made since the last look.
    #[inline]
    pub fn take_interrupt(&self) -> bool {
        self.interrupt().swap(false, Ordering::Relaxed)
    }

    /// A handle that other threads set to interrupt the running code.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupt_owner.clone()
    }

    /// What the VM is doing.
    #[inline(always)]
    pub fn mode(&self) -> VmMode {
        self.mode.get()
    }
}

impl Default for HotBlock {
    fn default() -> Self {
        HotBlock::new()
    }
}

impl std::fmt::Debug for HotBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotBlock")
            .field("countdown", &self.countdown.get())
            .field("gc_debt", &self.gc_debt.get())
            .field("mode", &self.mode.get())
            .field("within", &self.within.get())
            .finish()
    }
}

impl State {
    /// Run `f` in `mode`, then put the mode the VM was in back, whatever `f` returns.
    /// The only writer of the mode.
    #[inline(always)]
    pub fn with_mode<R>(&mut self, mode: VmMode, f: impl FnOnce(&mut State) -> R) -> R {
        let hot = &self.heap.hot;
        let (mode0, within0) = (hot.mode.get(), hot.within.get());
        hot.mode.set(mode);
        hot.within.set(within0 | mode.bit());
        let r = f(self);
        let hot = &self.heap.hot;
        hot.mode.set(mode0);
        hot.within.set(within0);
        r
    }

    /// What the VM is doing.
    #[inline(always)]
    pub fn mode(&self) -> VmMode {
        self.heap.hot.mode()
    }

    /// Is `mode` the current mode or one the current mode is nested in?
    #[inline(always)]
    pub fn within(&self, mode: VmMode) -> bool {
        self.heap.hot.within.get() & mode.bit() != 0
    }

    /// The hot block (for the layout test and, later, the JIT's entry).
    #[inline(always)]
    pub fn hot(&self) -> &HotBlock {
        &self.heap.hot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::error::LResult;

    /// `mode()`: the mode the code calling it runs in, as the native sees it (its own
    /// `Native`), and the modes that one is nested in: `"Native<Finalizer,Native>"`.
    fn mode(st: &mut State) -> LResult<usize> {
        let nested: Vec<String> = VmMode::ALL
            .into_iter()
            .filter(|&m| m != VmMode::Interp && st.within(m))
            .map(|m| format!("{m:?}"))
            .collect();
        let text = format!("{:?}<{}>", st.mode(), nested.join(","));
        st.push_str(text.as_bytes())?;
        Ok(1)
    }

    fn state() -> Box<State> {
        let mut st = State::new().unwrap();
        crate::stdlib::open_base(&mut st).unwrap();
        let f = st.new_native(mode, crate::func::FF_C, 0).unwrap();
        st.set_global("mode", Value::function(f)).unwrap();
        st
    }

    /// Run `src` and return its result as text; the VM is at rest afterwards.
    fn run(st: &mut State, src: &str) -> String {
        st.load(src.as_bytes(), b"=modes").unwrap();
        st.call(0, 1).unwrap();
        let r = st
            .peek(0)
            .as_string()
            .map(|s| s.to_str_lossy().into_owned())
            .unwrap_or_default();
        st.pop(1);
        crate::testing::mode_at_rest(st).unwrap();
        r
    }

    use crate::value::Value;

    #[test]
    fn at_rest_the_vm_is_interpreting() {
        let st = state();
        assert_eq!(st.mode(), VmMode::Interp);
        crate::testing::mode_at_rest(&st).unwrap();
    }

    #[test]
    fn each_activity_has_its_mode() {
        let mut st = state();
        assert_eq!(run(&mut st, "return mode()"), "Native<Native>");
        // Lua called back from a native runs in Interp, inside the native.
        assert_eq!(
            run(
                &mut st,
                "local r; table.sort({2, 1}, function(a, b) r = mode() return a < b end) return r"
            ),
            "Native<Native>"
        );
        // A debug hook, and Lua code run from it.
        assert_eq!(
            run(
                &mut st,
                "local r; debug.sethook(function() r = r or mode() end, 'l'); local x = 1
                 debug.sethook(); return r"
            ),
            "Native<Native,Hook>"
        );
        // A finalizer, and the code it runs.
        assert_eq!(
            run(
                &mut st,
                "local r; local p = newproxy(true)
                 getmetatable(p).__gc = function() r = mode() end
                 p = nil; collectgarbage(); return r"
            ),
            "Native<Native,Finalizer>"
        );
        // A coroutine's body, resumed from a native.
        assert_eq!(
            run(
                &mut st,
                "return coroutine.wrap(function() coroutine.yield(mode()) end)()"
            ),
            "Native<Native>"
        );
    }

    #[test]
    fn errors_leave_every_mode_they_cross() {
        let mut st = state();
        // An error in a native, in Lua called from a native, in a yield across a
        // native boundary, in a debug hook and in a finalizer: each is caught, and the
        // code after the catch runs in the mode it ran in before.
        let src = "
            local seen = {}
            pcall(error, 'x')
            pcall(table.sort, {1, 2, 3}, function() error('y') end)
            pcall(coroutine.wrap(function() table.sort({1, 2}, coroutine.yield) end))
            seen[#seen + 1] = mode()
            local n = 0
            pcall(function()
                debug.sethook(function() n = n + 1; if n == 1 then error('hook') end end, 'l')
                local a = 1
            end)
            local c = 3
            debug.sethook()
            seen[#seen + 1] = n > 1 and 'hook fired again' or 'hook stuck'
            local p = newproxy(true)
            getmetatable(p).__gc = function() error('fin') end
            p = nil; collectgarbage()
            local q = newproxy(true)
            getmetatable(q).__gc = function() seen[#seen + 1] = mode() end
            q = nil; collectgarbage()
            seen[#seen + 1] = mode()
            return table.concat(seen, ' ')";
        assert_eq!(
            run(&mut st, src),
            "Native<Native> hook fired again Native<Native,Finalizer> Native<Native>"
        );
    }

    #[test]
    fn an_error_from_the_host_call_leaves_no_mode_behind() {
        let mut st = state();
        st.load(
            b"local p = newproxy(true) getmetatable(p).__gc = function() end error('out')",
            b"=e",
        )
        .unwrap();
        assert!(st.call(0, 0).is_err());
        crate::testing::mode_at_rest(&st).unwrap();
    }
}
