//! What the VM is doing ([`VmMode`]), and the hot block ([`HotBlock`]): the words the
//! interpreter checks on its fast paths, at fixed offsets, as compiled code will.
//!
//! Both live in the core, below the allocator, the collector and the VM, because all
//! three read them (the allocator adds to the GC debt, the collector runs in
//! `VmMode::Gc`, the interpreter and compiled code check the countdown).
//!
//! The mode is one typed value (DESIGN.md invariant 8, JIT.md J7). It is written by
//! one helper only, `State::with_mode` (`vm/mode.rs`, through
//! [`HotBlock::enter_mode`]/[`HotBlock::leave_mode`]), which sets it for a closure and puts the
//! previous mode back when the closure returns, with a result or an error: errors are
//! values here, so no path leaves a mode behind. Every reader asks the mode (or the
//! set of modes the current one is nested in, `State::within`) instead of a flag of
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

/// What the VM is doing. `Trace(n)` and `Exit(n, e)` carry the trace (and exit)
/// number as payload, so nothing ever decodes a trace number from another field
/// (JIT.md J7); the tag byte is at [`HotBlock`]'s `mode` offset.
#[repr(C, u8)]
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
    /// The machine code of trace N runs (`jit::enter`; never without a backend).
    #[cfg_attr(not(all(feature = "jit", target_arch = "x86_64", unix)), allow(dead_code))]
    Trace(u16) = 5,
    /// Trace N left through exit E: the interpreter state is being restored.
    #[cfg_attr(not(all(feature = "jit", target_arch = "x86_64", unix)), allow(dead_code))]
    Exit(u16, u16) = 6,
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

    /// The mode's number (its tag byte, what compiled code would read).
    #[inline(always)]
    pub const fn tag(self) -> u8 {
        match self {
            VmMode::Interp => 0,
            VmMode::Native => 1,
            VmMode::Gc => 2,
            VmMode::Finalizer => 3,
            VmMode::Hook => 4,
            VmMode::Trace(_) => 5,
            VmMode::Exit(..) => 6,
        }
    }

    /// This mode's bit in [`HotBlock`]'s `within` set.
    #[inline(always)]
    pub const fn bit(self) -> u8 {
        1 << self.tag()
    }

    /// The letter `jit.profile` reports for a sample taken in this mode, as
    /// LuaJIT's profiler names its VM states.
    pub fn profile_letter(self) -> u8 {
        match self {
            VmMode::Native => b'C',
            VmMode::Gc => b'G',
            VmMode::Trace(_) => b'N',
            VmMode::Interp | VmMode::Finalizer | VmMode::Hook | VmMode::Exit(..) => b'I',
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

/// The JIT's hot counters (LuaJIT's `hotcount`), beside the hot block in the heap's
/// box (the block stays within one cache line): loop instructions count down the
/// counter their pc picks ([`hot_slot`]) by [`HOTCOUNT_LOOP`] at every back-edge; a
/// counter that would go below zero makes the loop hot (`jit::hot`), which starts
/// recording or, with the JIT off, just sets it back. Collisions share a counter, as
/// in LuaJIT.
pub struct HotCounts {
    pub hotcount: [Cell<u16>; HOTCOUNT_SIZE],
}

impl Default for HotCounts {
    fn default() -> Self {
        HotCounts {
            hotcount: [const { Cell::new(u16::MAX) }; HOTCOUNT_SIZE],
        }
    }
}

impl HotCounts {
    /// Count one back-edge of the loop whose counter is `slot` ([`hot_slot`]); true
    /// when the loop became hot: one subtraction and a branch on its borrow, paid
    /// only while the JIT is on (the plain copy of the dispatch loop has no count).
    #[inline(always)]
    pub fn count_loop(&self, slot: usize) -> bool {
        let c = &self.hotcount[slot & (HOTCOUNT_SIZE - 1)];
        let (left, hot) = c.get().overflowing_sub(HOTCOUNT_LOOP);
        c.set(left);
        hot
    }

    /// Set every hot counter to `start` (the JIT's parameters changed, or it was
    /// switched on, off or flushed).
    pub fn reset(&self, start: u16) {
        for c in &self.hotcount {
            c.set(start);
        }
    }
}

/// Entries of [`HotBlock::hotcount`] (a power of two).
pub const HOTCOUNT_SIZE: usize = 64;
/// What one loop back-edge takes off its hot counter (LuaJIT's `HOTCOUNT_LOOP`; a
/// counter starts at `2 * hotloop - 1`, so the loop is hot at its `hotloop`-th
/// back-edge).
pub const HOTCOUNT_LOOP: u16 = 2;

/// The hot counter of the instruction at `pc` (of any function): the low bits of
/// the pc. LuaJIT hashes the instruction's address instead; the pc alone saves the
/// interpreter an add on every back-edge, and a collision only makes a loop hot a
/// little earlier or penalises it with another's penalty, as collisions in LuaJIT do.
#[inline(always)]
pub fn hot_slot(pc: usize) -> usize {
    pc & (HOTCOUNT_SIZE - 1)
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

    /// Is `mode` the current mode or one the current mode is nested in?
    #[inline(always)]
    pub fn within(&self, mode: VmMode) -> bool {
        self.within.get() & mode.bit() != 0
    }

    /// Switch to `mode`, returning what [`HotBlock::leave_mode`] needs to put the
    /// previous mode back. Called only by `State::with_mode`, which pairs the two on
    /// every path.
    #[inline(always)]
    pub(crate) fn enter_mode(&self, mode: VmMode) -> SavedMode {
        let saved = SavedMode {
            mode: self.mode.get(),
            within: self.within.get(),
        };
        self.mode.set(mode);
        self.within.set(saved.within | mode.bit());
        saved
    }

    /// Put back the mode [`HotBlock::enter_mode`] replaced.
    #[inline(always)]
    pub(crate) fn leave_mode(&self, saved: SavedMode) {
        self.mode.set(saved.mode);
        self.within.set(saved.within);
    }
}

/// The mode (and nesting set) a [`HotBlock::enter_mode`] replaced.
#[derive(Clone, Copy)]
pub(crate) struct SavedMode {
    mode: VmMode,
    within: u8,
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
