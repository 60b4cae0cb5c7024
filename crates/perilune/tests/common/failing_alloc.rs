//! An allocator for the embedding API's allocation-failure sweeps
//! (`embed_serde.rs`, `embed_api_sweep.rs`): it refuses one allocation, or every one
//! from it on, counted from when it is armed; and [`sweep`], which runs a workload
//! once per allocation it makes with that allocation refused.
#![allow(dead_code)]

use std::alloc::Layout;
use std::fmt::Debug;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use perilune::{Error, Lua, StdLib, SystemAllocator};

/// Refuses allocation number `fail_at` (and every later one with `fail_rest`);
/// `fail_at == usize::MAX` is disarmed. Shrinks are never refused. `live` counts
/// the bytes it has handed out and not yet taken back.
pub struct FailingAlloc {
    pub count: Arc<AtomicUsize>,
    pub fail_at: Arc<AtomicUsize>,
    pub fail_rest: bool,
    pub live: Arc<AtomicIsize>,
}

impl FailingAlloc {
    fn refuse(&self) -> bool {
        let n = self.count.fetch_add(1, SeqCst);
        let at = self.fail_at.load(SeqCst);
        n == at || (self.fail_rest && n > at)
    }
}

// SAFETY: forwards to the system allocator; refusing is always allowed.
unsafe impl perilune::Allocator for FailingAlloc {
    fn alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        if self.refuse() {
            return None;
        }
        let p = SystemAllocator.alloc(layout);
        if p.is_some() {
            self.live.fetch_add(layout.size() as isize, SeqCst);
        }
        p
    }
    unsafe fn realloc(&self, ptr: NonNull<u8>, old: Layout, new_size: usize) -> Option<NonNull<u8>> {
        if self.refuse() && new_size > old.size() {
            return None;
        }
        // SAFETY: caller contract.
        let p = unsafe { SystemAllocator.realloc(ptr, old, new_size) };
        if p.is_some() {
            self.live.fetch_add(new_size as isize - old.size() as isize, SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout) {
        self.live.fetch_sub(layout.size() as isize, SeqCst);
        // SAFETY: caller contract.
        unsafe { SystemAllocator.dealloc(ptr, layout) }
    }
}

/// A state on a disarmed [`FailingAlloc`] and the allocator's counters.
pub struct Failing {
    pub lua: Lua,
    pub count: Arc<AtomicUsize>,
    pub fail_at: Arc<AtomicUsize>,
    pub live: Arc<AtomicIsize>,
}

pub fn failing_state(fail_rest: bool) -> Failing {
    let count = Arc::new(AtomicUsize::new(0));
    let fail_at = Arc::new(AtomicUsize::new(usize::MAX));
    let live = Arc::new(AtomicIsize::new(0));
    let alloc = FailingAlloc {
        count: count.clone(),
        fail_at: fail_at.clone(),
        fail_rest,
        live: live.clone(),
    };
    let lua = Lua::new_with_allocator(Box::new(alloc), StdLib::ALL_SAFE).unwrap();
    Failing {
        lua,
        count,
        fail_at,
        live,
    }
}

/// Is `e` an allocation failure (possibly as a callback's cause, or its text)?
pub fn is_memory_error(e: &Error) -> bool {
    matches!(e.root_cause(), Error::MemoryError(_)) || e.to_string().contains("not enough memory")
}

/// Run `workload` once to count its allocations, then, for each of them and in
/// both modes (that one refused; it and all later ones refused), on a fresh state:
/// the run must give the same result or a memory error, never a panic, and the
/// state must run the workload again to the same result once the allocator is
/// disarmed, and give back every byte when it is closed. Returns the number of
/// allocations swept.
pub fn sweep<T: PartialEq + Debug>(workload: impl Fn(&Lua) -> perilune::Result<T>) -> usize {
    let Failing { lua, count, live, .. } = failing_state(false);
    let start = count.load(SeqCst);
    let want = workload(&lua).unwrap();
    let total = count.load(SeqCst) - start;
    drop(lua);
    assert_eq!(live.load(SeqCst), 0, "bytes left after the state closed");
    for fail_rest in [false, true] {
        for k in 0..total {
            let Failing {
                lua,
                count,
                fail_at,
                live,
            } = failing_state(fail_rest);
            fail_at.store(count.load(SeqCst) + k, SeqCst);
            match workload(&lua) {
                Ok(v) => assert_eq!(v, want, "allocation {k} (fail_rest {fail_rest})"),
                Err(e) => assert!(is_memory_error(&e), "allocation {k} (fail_rest {fail_rest}): {e:?}"),
            }
            fail_at.store(usize::MAX, SeqCst);
            assert_eq!(
                workload(&lua).unwrap(),
                want,
                "again after allocation {k} (fail_rest {fail_rest})"
            );
            drop(lua);
            assert_eq!(
                live.load(SeqCst),
                0,
                "bytes left after allocation {k} (fail_rest {fail_rest})"
            );
        }
    }
    total
}
