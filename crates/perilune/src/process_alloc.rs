//! A process-wide allocator for programs built around perilune (the `perilune`
//! command installs it with `#[global_allocator]`); enabled by the `mimalloc` feature.
//!
//! A default state keeps its Lua objects in its own page arena (`alloc/arena.rs`), not
//! here; this allocator serves the runtime's Rust-side memory, and the Lua objects of
//! states a host puts on [`SystemAllocator`](crate::SystemAllocator), which
//! goes through it. For those, this choice decides how fast objects are made and freed.
//! Lua code makes many small, short-lived objects (tables, closures, strings): mimalloc's
//! per-size free lists serve those about three times faster than glibc's malloc
//! (bintrees: 6.5 s -> 2.2 s, see docs/memory.md). Large blocks are different: glibc
//! grows a big block in place (`mremap`), while mimalloc copies it, so a table's array
//! part doubling from 8 to 16 MB would briefly need both. Blocks of `LARGE` bytes and
//! more therefore stay with the system allocator.
//!
//! Which allocator owns a block follows from its size, which every `GlobalAlloc` call
//! receives; a `realloc` that crosses `LARGE` moves the block from one to the other.
//!
//! **Running out of process memory.** Rust's infallible allocations (a `String` built
//! to report an error, a `format!`) abort the process when the system refuses them.
//! So the global allocator keeps an emergency reserve ([`enable_reserve`]): when the
//! system refuses a request, the reserve is freed and the request retried, so the
//! error that follows can still be reported. The Lua heap does not use that fallback:
//! [`SystemAllocator`](crate::SystemAllocator) calls `Plain`, the same
//! allocator without the reserve,, so a refusal there is an ordinary `not enough memory` while the reserve
//! is still held. The reserve is taken again after the collection that follows such
//! an error (`rearm_reserve`), when there is room for it.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// mimalloc aligns a block of at least this many bytes to this, and a smaller block
/// to its size rounded down to a power of two; other alignments need its `_aligned`
/// calls, which cost about twice as many instructions.
const MI_ALIGN: usize = 16;

/// Whether `mi_malloc` alone returns a block aligned for `layout`.
#[inline(always)]
fn naturally_aligned(layout: Layout) -> bool {
    layout.align() <= MI_ALIGN && layout.align() <= layout.size()
}

/// `mi_realloc` keeps only pointer-size alignment (mimalloc's own aligned realloc
/// takes this shortcut only up to that).
const MI_REALLOC_ALIGN: usize = std::mem::size_of::<usize>();

/// The mimalloc half, calling the C library directly (the `mimalloc` crate always
/// uses the aligned entry points).
struct MiMalloc;

// SAFETY: mimalloc's functions meet the GlobalAlloc contract for the alignments used.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain C allocation calls; no preconditions beyond the sizes.
        unsafe {
            if naturally_aligned(layout) {
                mi::mi_malloc(layout.size()) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        unsafe {
            if naturally_aligned(layout) {
                mi::mi_zalloc(layout.size()) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from mimalloc (caller contract).
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from mimalloc with `layout` (caller contract).
        unsafe {
            if layout.align() <= MI_REALLOC_ALIGN {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

/// Blocks at least this big come from the system allocator.
pub(crate) const LARGE: usize = 256 * 1024;

/// The emergency reserve: blocks of mimalloc's (the reporting path allocates small
/// blocks, so freeing mimalloc pages is what makes room for it). 1 MiB in all is far
/// more than an error report with its traceback needs.
const RESERVE_BLOCK: usize = 128 * 1024;
const RESERVE_BLOCKS: usize = 8;
static RESERVE: [AtomicPtr<u8>; RESERVE_BLOCKS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; RESERVE_BLOCKS];
/// Set by [`enable_reserve`]: only a program that installs [`ProcessAllocator`] as its
/// global allocator wants the reserve.
static RESERVE_ENABLED: AtomicBool = AtomicBool::new(false);

fn reserve_layout() -> Layout {
    // 128 KiB with 16-byte alignment is a valid layout.
    Layout::from_size_align(RESERVE_BLOCK, MI_ALIGN).unwrap_or(Layout::new::<u8>())
}

/// Take the emergency reserve (call once at start-up, after installing
/// [`ProcessAllocator`] as the global allocator).
pub fn enable_reserve() {
    RESERVE_ENABLED.store(true, Ordering::Relaxed);
    rearm_reserve();
}

/// Take the reserve again after it was spent, if enabled and the memory is there.
/// Cheap when it is held.
pub(crate) fn rearm_reserve() {
    if !RESERVE_ENABLED.load(Ordering::Relaxed) {
        return;
    }
    for slot in &RESERVE {
        if slot.load(Ordering::Acquire).is_null() {
            // SAFETY: a nonzero, valid layout.
            let p = unsafe { MiMalloc.alloc(reserve_layout()) };
            if p.is_null() {
                return;
            }
            if slot
                .compare_exchange(std::ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // SAFETY: `p` was just allocated with this layout and is not shared.
                unsafe { MiMalloc.dealloc(p, reserve_layout()) };
            }
        }
    }
}

/// Free the reserve; `true` if anything was freed (the caller then retries).
#[cold]
fn release_reserve() -> bool {
    let mut freed = false;
    for slot in &RESERVE {
        let p = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: the slot owned `p`, allocated by `rearm_reserve` with this layout.
            unsafe { MiMalloc.dealloc(p, reserve_layout()) };
            freed = true;
        }
    }
    freed
}

/// Small blocks from mimalloc, large ones from the system allocator; as the global
/// allocator it falls back on the emergency reserve (module docs).
pub struct ProcessAllocator;

/// [`ProcessAllocator`] without the emergency reserve, for the Lua heap
/// (`SystemAllocator`), where a refusal is an ordinary error.
pub(crate) struct Plain;

// SAFETY: every block is allocated, resized and freed by the same underlying
// allocator, chosen by its size; both underlying allocators meet the contract.
unsafe impl GlobalAlloc for ProcessAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { Plain.alloc(layout) };
        if p.is_null() && release_reserve() {
            // SAFETY: as above.
            return unsafe { Plain.alloc(layout) };
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { Plain.alloc_zeroed(layout) };
        if p.is_null() && release_reserve() {
            // SAFETY: as above.
            return unsafe { Plain.alloc_zeroed(layout) };
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { Plain.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees; a failed realloc leaves the
        // old block valid, so it can be retried.
        let p = unsafe { Plain.realloc(ptr, layout, new_size) };
        if p.is_null() && release_reserve() {
            // SAFETY: as above.
            return unsafe { Plain.realloc(ptr, layout, new_size) };
        }
        p
    }
}

// SAFETY: every block is allocated, resized and freed by the same underlying
// allocator, chosen by its size; both underlying allocators meet the contract.
unsafe impl GlobalAlloc for Plain {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if layout.size() >= LARGE {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if layout.size() >= LARGE {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the allocator its size selects (type invariant).
        unsafe {
            if layout.size() >= LARGE {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old_large, new_large) = (layout.size() >= LARGE, new_size >= LARGE);
        // SAFETY: `ptr` came from the allocator its old size selects; the caller
        // guarantees `new_size` is a valid size for `layout.align()`.
        unsafe {
            match (old_large, new_large) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_move_between_allocators_with_their_contents() {
        let a = ProcessAllocator;
        let small = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: sizes are nonzero, every pointer is used with the layout it has.
        unsafe {
            let p = a.alloc(small);
            assert!(!p.is_null());
            for i in 0..64 {
                *p.add(i) = i as u8;
            }
            let big = a.realloc(p, small, LARGE * 2);
            assert!(!big.is_null());
            assert!((0..64).all(|i| *big.add(i) == i as u8));
            let big_layout = Layout::from_size_align(LARGE * 2, 8).unwrap();
            let bigger = a.realloc(big, big_layout, LARGE * 4);
            assert!(!bigger.is_null());
            let back = a.realloc(bigger, Layout::from_size_align(LARGE * 4, 8).unwrap(), 32);
            assert!((0..32).all(|i| *back.add(i) == i as u8));
            a.dealloc(back, Layout::from_size_align(32, 8).unwrap());
        }
    }

    #[test]
    fn every_alignment_is_honoured() {
        let a = ProcessAllocator;
        for (size, align) in [
            (1, 1),
            (8, 8),
            (8, 16),
            (4, 16),
            (24, 16),
            (16, 32),
            (100, 64),
            (48, 4096),
        ] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: nonzero sizes; each block is freed with the layout it has.
            unsafe {
                let p = a.alloc(layout);
                assert!(
                    !p.is_null() && (p as usize).is_multiple_of(align),
                    "alloc {size}/{align}"
                );
                let z = a.alloc_zeroed(layout);
                assert!(
                    !z.is_null() && (z as usize).is_multiple_of(align),
                    "zalloc {size}/{align}"
                );
                assert!((0..size).all(|i| *z.add(i) == 0));
                let grown = a.realloc(p, layout, size * 3);
                assert!(
                    !grown.is_null() && (grown as usize).is_multiple_of(align),
                    "realloc {size}/{align}"
                );
                a.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                a.dealloc(z, layout);
            }
        }
    }
}
