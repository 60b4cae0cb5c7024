//! The JIT's compiler works in the process heap (Cranelift takes no allocator), so
//! JIT.md J5 ("every JIT byte is counted by the state's heap") is kept by charging the
//! state's heap for that memory while it is used (`jit::compile`, docs/jit.md
//! "Memory"). This test counts what the process heap really gives out while traces of
//! several sizes compile, with a counting global allocator, and checks that the heap
//! was charged at least that much: the reservation covers Cranelift's peak.
//!
//! One test in its own binary: the global allocator counts every thread.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use perilune::unstable_internals::testing::jit_reserved_peak;
use perilune::unstable_internals::vm::state::State;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(n: isize) {
    let now = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: forwards every call to `System` unchanged; the counters are side effects.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        grew(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grew(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A loop whose trace has about `n` arithmetic instructions.
fn program(n: usize) -> String {
    let mut body = String::new();
    for i in 0..n {
        body.push_str(&format!("x = x * 0.5 + a[{}] - {i}\n", 1 + i % 8));
    }
    format!(
        "jit.opt.start('hotloop=1')\nlocal a = {{1,2,3,4,5,6,7,8}}\nlocal x = 0\n\
         for i = 1, 20 do\n{body}end\nreturn x"
    )
}

#[test]
fn the_heap_is_charged_for_what_the_compiler_takes() {
    for n in [1, 10, 50, 200, 300] {
        let mut st = State::new().expect("state");
        common::setup(&mut st).expect("setup");
        let src = program(n);
        st.load(src.as_bytes(), b"=loops").expect("load");
        let base = LIVE.load(Ordering::SeqCst);
        PEAK.store(base, Ordering::SeqCst);
        assert!(st.pcall(0, 0, true), "the program failed");
        let took = (PEAK.load(Ordering::SeqCst) - base).max(0) as usize;
        let charged = jit_reserved_peak(&st);
        eprintln!(
            "{n:>4} statements: the process heap grew by {took} bytes at most, the state's heap was charged {charged}"
        );
        assert!(charged > 0, "{n}: nothing compiled");
        assert!(
            took <= charged,
            "{n}: the compiler took {took} bytes, the heap was charged {charged}"
        );
        drop(st);
    }
}
