//! Fault injection for tests: an [`Allocator`] that refuses the requests you choose.
//!
//! [`FaultyAllocator`] forwards to a page arena of its own (the allocator a state has by
//! default, so failures are injected over the same code) and can be told to refuse the
//! Nth allocation request, every request from the Nth on, growing reallocations,
//! shrinking reallocations, or every request above a size (see [`Fault`]). It counts
//! every request and the bytes and blocks it has handed out and not got back, so a
//! test can check that closing a state returns every byte.
//!
//! The allocator is a cheap handle around shared atomics: keep one clone in the test,
//! give another to [`State::with_allocator`](crate::vm::state::State::with_allocator)
//! with [`FaultyAllocator::boxed`], and re-arm it between phases of the test.
//!
//! What counts as an *allocation request* (the unit of [`Fault::Nth`] and
//! [`Fault::From`]): a fresh allocation or a growing reallocation, i.e. every request
//! that asks the allocator for more memory. Shrinks and frees are counted separately
//! and only fail under [`Fault::Shrinks`] (frees never fail). The request counter
//! restarts at zero whenever a fault is set with [`FaultyAllocator::set`].
//!
//! Compiled for the crate's unit tests and, with the `internals` feature, for the
//! integration tests and fuzz targets (`unstable_internals::testing`); it is not part
//! of the embedding API (docs/api-surface.md).

use crate::alloc::arena::PageArena;
use crate::alloc::Allocator;
use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// Which requests a [`FaultyAllocator`] refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Refuse nothing.
    None,
    /// Refuse only the Nth allocation request (1-based) counted since the fault was set.
    Nth(u64),
    /// Refuse every allocation request from the Nth (1-based) on.
    From(u64),
    /// Refuse only the Nth growing reallocation (1-based); fresh allocations succeed.
    NthGrow(u64),
    /// Refuse every growing reallocation; fresh allocations succeed.
    Grows,
    /// Refuse every shrinking reallocation (the runtime must keep the old block,
    /// DESIGN.md invariant 3). Everything else succeeds.
    Shrinks,
    /// Refuse every allocation request (fresh or growing) whose new size is above
    /// this many bytes.
    Above(usize),
}

const K_NONE: u8 = 0;
const K_NTH: u8 = 1;
const K_FROM: u8 = 2;
const K_NTH_GROW: u8 = 3;
const K_GROWS: u8 = 4;
const K_SHRINKS: u8 = 5;
const K_ABOVE: u8 = 6;

#[derive(Default)]
struct Inner {
    kind: AtomicU8,
    param: AtomicU64,
    /// Allocation requests (fresh + growing) since the fault was set.
    requests: AtomicU64,
    /// Growing reallocations since the fault was set.
    grow_requests: AtomicU64,
    allocs: AtomicU64,
    grows: AtomicU64,
    shrinks: AtomicU64,
    frees: AtomicU64,
    injected: AtomicU64,
    outstanding: AtomicUsize,
    peak: AtomicUsize,
    blocks: AtomicUsize,
}

/// An allocator that forwards to the system allocator and refuses chosen requests.
/// Clones share the same counters and fault setting.
#[derive(Clone, Default)]
pub struct FaultyAllocator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FaultyAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyAllocator")
            .field("fault", &self.fault())
            .field("requests", &self.requests())
            .field("injected", &self.injected())
            .field("outstanding_bytes", &self.outstanding_bytes())
            .field("live_blocks", &self.live_blocks())
            .finish()
    }
}

impl FaultyAllocator {
    /// A new allocator that refuses nothing.
    pub fn new() -> FaultyAllocator {
        FaultyAllocator::default()
    }

    /// A boxed clone over a page arena of its own, for
    /// [`State::with_allocator`](crate::vm::state::State::with_allocator).
    pub fn boxed(&self) -> Box<dyn Allocator> {
        Box::new(FaultyArena {
            faults: self.clone(),
            arena: PageArena::new(),
        })
    }

    /// Set the fault and restart the request counters used by `Nth`, `From` and
    /// `NthGrow`.
    pub fn set(&self, fault: Fault) {
        let (kind, param) = match fault {
            Fault::None => (K_NONE, 0),
            Fault::Nth(n) => (K_NTH, n),
            Fault::From(n) => (K_FROM, n),
            Fault::NthGrow(n) => (K_NTH_GROW, n),
            Fault::Grows => (K_GROWS, 0),
            Fault::Shrinks => (K_SHRINKS, 0),
            Fault::Above(s) => (K_ABOVE, s as u64),
        };
        let i = &self.inner;
        i.kind.store(K_NONE, Ordering::SeqCst);
        i.requests.store(0, Ordering::SeqCst);
        i.grow_requests.store(0, Ordering::SeqCst);
        i.param.store(param, Ordering::SeqCst);
        i.kind.store(kind, Ordering::SeqCst);
    }

    /// Stop refusing requests (the counters keep running).
    pub fn disarm(&self) {
        self.inner.kind.store(K_NONE, Ordering::SeqCst);
    }

    /// The current fault.
    pub fn fault(&self) -> Fault {
        let p = self.inner.param.load(Ordering::SeqCst);
        match self.inner.kind.load(Ordering::SeqCst) {
            K_NTH => Fault::Nth(p),
            K_FROM => Fault::From(p),
            K_NTH_GROW => Fault::NthGrow(p),
            K_GROWS => Fault::Grows,
            K_SHRINKS => Fault::Shrinks,
            K_ABOVE => Fault::Above(p as usize),
            _ => Fault::None,
        }
    }

    /// Allocation requests (fresh + growing, refused ones included) since the last
    /// [`set`](Self::set).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::SeqCst)
    }
    /// Growing reallocations (refused ones included) since the last [`set`](Self::set).
    pub fn grow_requests(&self) -> u64 {
        self.inner.grow_requests.load(Ordering::SeqCst)
    }
    /// Fresh allocation requests ever made (refused ones included).
    pub fn allocs(&self) -> u64 {
        self.inner.allocs.load(Ordering::SeqCst)
    }
    /// Growing reallocations ever requested.
    pub fn grows(&self) -> u64 {
        self.inner.grows.load(Ordering::SeqCst)
    }
    /// Shrinking (or same-size) reallocations ever requested.
    pub fn shrinks(&self) -> u64 {
        self.inner.shrinks.load(Ordering::SeqCst)
    }
    /// Blocks freed.
    pub fn frees(&self) -> u64 {
        self.inner.frees.load(Ordering::SeqCst)
    }
    /// Requests refused on purpose.
    pub fn injected(&self) -> u64 {
        self.inner.injected.load(Ordering::SeqCst)
    }
    /// Bytes handed out and not freed.
    pub fn outstanding_bytes(&self) -> usize {
        self.inner.outstanding.load(Ordering::SeqCst)
    }
    /// The largest `outstanding_bytes` seen since [`reset_peak`](Self::reset_peak).
    pub fn peak_bytes(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }
    /// Restart peak tracking from the current outstanding bytes.
    pub fn reset_peak(&self) {
        self.inner.peak.store(self.outstanding_bytes(), Ordering::SeqCst);
    }
    /// Blocks handed out and not freed.
    pub fn live_blocks(&self) -> usize {
        self.inner.blocks.load(Ordering::SeqCst)
    }

    /// Decide a fresh allocation or a growing reallocation to `size` bytes.
    fn refuse_request(&self, size: usize, grow: bool) -> bool {
        let i = &self.inner;
        let n = i.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let g = if grow {
            i.grow_requests.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            0
        };
        let p = i.param.load(Ordering::SeqCst);
        let refuse = match i.kind.load(Ordering::SeqCst) {
            K_NTH => n == p,
            K_FROM => n >= p,
            K_NTH_GROW => grow && g == p,
            K_GROWS => grow,
            K_ABOVE => size as u64 > p,
            _ => false,
        };
        if refuse {
            i.injected.fetch_add(1, Ordering::SeqCst);
        }
        refuse
    }

    fn add_bytes(&self, n: usize) {
        let now = self.inner.outstanding.fetch_add(n, Ordering::SeqCst) + n;
        self.inner.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn sub_bytes(&self, n: usize) {
        self.inner.outstanding.fetch_sub(n, Ordering::SeqCst);
    }
}

/// What [`FaultyAllocator::boxed`] gives a state: the fault settings and counters it
/// shares with the test, over a page arena of its own.
struct FaultyArena {
    faults: FaultyAllocator,
    arena: PageArena,
}

impl std::ops::Deref for FaultyArena {
    type Target = FaultyAllocator;
    fn deref(&self) -> &FaultyAllocator {
        &self.faults
    }
}

// SAFETY: every successful request is forwarded to the arena, which hands out blocks
// valid for their layout, keeps a resized block's prefix, and frees blocks by the
// layout they were made with; refusing a request (returning `None` without touching
// the block) is always allowed by the contract.
unsafe impl Allocator for FaultyArena {
    fn alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.inner.allocs.fetch_add(1, Ordering::SeqCst);
        if self.refuse_request(layout.size(), false) {
            return None;
        }
        let p = self.arena.alloc(layout.size(), layout.align(), usize::MAX)?;
        self.add_bytes(layout.size());
        self.inner.blocks.fetch_add(1, Ordering::SeqCst);
        Some(p)
    }

    unsafe fn realloc(&self, ptr: NonNull<u8>, old: Layout, new_size: usize) -> Option<NonNull<u8>> {
        if new_size > old.size() {
            self.inner.grows.fetch_add(1, Ordering::SeqCst);
            if self.refuse_request(new_size, true) {
                return None;
            }
        } else {
            self.inner.shrinks.fetch_add(1, Ordering::SeqCst);
            if self.inner.kind.load(Ordering::SeqCst) == K_SHRINKS {
                self.inner.injected.fetch_add(1, Ordering::SeqCst);
                return None;
            }
        }
        // SAFETY: forwarded caller contract (`ptr` came from the arena via
        // `alloc`/`realloc` above with layout `old`).
        let p = unsafe { self.arena.realloc(ptr, old.size(), old.align(), new_size, usize::MAX) }?;
        if new_size >= old.size() {
            self.add_bytes(new_size - old.size());
        } else {
            self.sub_bytes(old.size() - new_size);
        }
        Some(p)
    }

    unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout) {
        self.inner.frees.fetch_add(1, Ordering::SeqCst);
        self.sub_bytes(layout.size());
        self.inner.blocks.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: forwarded caller contract.
        unsafe { self.arena.dealloc(ptr, layout.size(), layout.align()) }
    }
}

/// Whether the VM is at rest: interpreting and nested in no other mode, as it is
/// between calls from the host and after every error the host or a script caught
/// (DESIGN.md invariant 8; the allocation-failure sweep checks it after every run).
pub fn mode_at_rest(st: &crate::vm::state::State) -> Result<(), String> {
    use crate::hot::VmMode;
    let nested: Vec<VmMode> = VmMode::ALL
        .into_iter()
        .filter(|&m| m != VmMode::Interp && st.within(m))
        .collect();
    if st.mode() == VmMode::Interp && st.within(VmMode::Interp) && nested.is_empty() {
        Ok(())
    } else {
        Err(format!("VM mode not at rest: {:?} within {:?}", st.mode(), nested))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::{HVec, Heap, HeapRef, OutOfMemory};

    #[test]
    fn nth_from_and_counting() {
        let fa = FaultyAllocator::new();
        let heap = Box::new(Heap::new(fa.boxed()));
        let h = HeapRef::new(&heap);
        fa.set(Fault::Nth(2));
        let a = HVec::<u64>::with_capacity(h, 4);
        let b = HVec::<u64>::with_capacity(h, 4);
        let c = HVec::<u64>::with_capacity(h, 4);
        assert!(a.is_ok() && b.is_err() && c.is_ok());
        assert_eq!(fa.requests(), 3);
        assert_eq!(fa.injected(), 1);
        assert_eq!(fa.outstanding_bytes(), 64);
        assert_eq!(fa.live_blocks(), 2);
        fa.set(Fault::From(2));
        let mut a = a.unwrap_or_else(|_| unreachable!());
        a.extend_from_slice(&[1, 2, 3, 4]).unwrap_or_else(|_| unreachable!());
        assert_eq!(a.push(5), Ok(())); // request 1: grow succeeds
        a.extend_from_slice(&[0; 3]).unwrap_or_else(|_| unreachable!()); // fits: no request
        assert_eq!(a.extend_from_slice(&[0; 8]), Err(OutOfMemory));
        assert_eq!(a.len(), 8);
        assert_eq!(HVec::<u8>::with_capacity(h, 1).err(), Some(OutOfMemory));
        fa.disarm();
        drop((a, c));
        assert_eq!(fa.outstanding_bytes(), 0);
        assert_eq!(fa.live_blocks(), 0);
        assert_eq!(heap.used(), 0);
    }

    #[test]
    fn grows_shrinks_and_size() {
        let fa = FaultyAllocator::new();
        let heap = Box::new(Heap::new(fa.boxed()));
        let h = HeapRef::new(&heap);
        let mut v = HVec::<u32>::from_slice(h, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap_or_else(|_| unreachable!());
        fa.set(Fault::Shrinks);
        v.truncate(2);
        v.shrink_to_fit();
        assert_eq!(v.capacity(), 8);
        assert_eq!(fa.outstanding_bytes(), 32);
        fa.set(Fault::Grows);
        assert!(v.reserve_exact(100).is_err());
        assert!(HVec::<u32>::with_capacity(h, 100).is_ok());
        fa.set(Fault::NthGrow(2));
        assert!(v.reserve_exact(10).is_ok());
        assert!(v.reserve_exact(20).is_err());
        assert!(v.reserve_exact(30).is_ok());
        fa.set(Fault::Above(1000));
        assert!(HVec::<u8>::with_capacity(h, 1000).is_ok());
        assert!(HVec::<u8>::with_capacity(h, 1001).is_err());
        fa.set(Fault::None);
        v.truncate(1);
        v.shrink_to_fit();
        assert_eq!(v.capacity(), 1);
        assert_eq!(fa.outstanding_bytes(), 4);
        drop(v);
        assert_eq!(fa.outstanding_bytes(), 0);
        assert!(fa.peak_bytes() >= 120);
    }
}
