//! The JIT's code arena: executable memory for the machine code of traces.
//!
//! Owns: [`CodeBlock`], one trace's machine code in pages of its own, mapped
//! read-write, filled, then switched to read-execute (W^X: no page is ever writable
//! and executable at once) and unmapped by [`CodeBlock::free`]. It is `Copy` so the
//! trace table can be a heap-accounted `HVec`; the table frees each block once
//! (`jit/trace.rs`).
//!
//! Invariants:
//! - Every mapped byte is charged to the state's heap (`Heap::charge_external`)
//!   before the mapping is made and given back after it is unmapped (JIT.md J5):
//!   the memory limit covers code, and a closed state holds zero bytes.
//! - A refused charge or a failed `mmap`/`mprotect` is an [`OutOfMemory`]: the
//!   caller aborts the trace and the script never sees it.
//! - The code has no relocations (the backend refuses code that has), so copying it
//!   anywhere is all it takes to run it.

use crate::alloc::{HeapRef, OutOfMemory};

/// One trace's machine code in its own read-execute pages.
#[derive(Clone, Copy)]
pub struct CodeBlock {
    ptr: *mut u8,
    /// Bytes mapped (a multiple of the page size) and charged to the heap.
    mapped: usize,
    heap: HeapRef,
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

impl CodeBlock {
    /// Map pages for `code`, copy it in and make them executable.
    pub fn new(heap: HeapRef, code: &[u8]) -> Result<CodeBlock, OutOfMemory> {
        let page = page_size();
        let mapped = code.len().max(1).div_ceil(page) * page;
        heap.get().charge_external(mapped)?;
        // SAFETY: an anonymous private mapping at an address the kernel picks.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            heap.get().release_external(mapped);
            return Err(OutOfMemory);
        }
        let ptr = p.cast::<u8>();
        // SAFETY: the mapping is `mapped >= code.len()` bytes, writable, and new.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), ptr, code.len()) };
        let block = CodeBlock { ptr, mapped, heap };
        // SAFETY: the range is the mapping made above.
        if unsafe { libc::mprotect(p, mapped, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            block.free();
            return Err(OutOfMemory);
        }
        Ok(block)
    }

    /// The first byte of the code.
    pub fn entry(&self) -> *const u8 {
        self.ptr
    }

    /// Bytes mapped and charged to the heap.
    pub fn mapped(&self) -> usize {
        self.mapped
    }
}

impl CodeBlock {
    /// Unmap the pages and give their bytes back to the heap. Called once per block,
    /// never while its code runs (JIT.md J1: no trace is on the native stack while
    /// Rust code of the VM runs).
    pub fn free(self) {
        // SAFETY: the mapping made in `new`, freed once (caller contract above).
        unsafe { libc::munmap(self.ptr.cast(), self.mapped) };
        self.heap.get().release_external(self.mapped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_charged_and_given_back() {
        let st = crate::vm::state::State::new().unwrap();
        let before = st.heap.used();
        // x86-64 `mov eax, 7; ret` (the bytes are only copied and read here).
        let b = CodeBlock::new(st.heap_ref(), &[0xb8, 7, 0, 0, 0, 0xc3]).unwrap();
        // SAFETY: the block's first bytes are the code copied in (readable pages).
        assert_eq!(
            unsafe { std::slice::from_raw_parts(b.entry(), 6) },
            &[0xb8, 7, 0, 0, 0, 0xc3]
        );
        assert_eq!(st.heap.used(), before + b.mapped());
        b.free();
        assert_eq!(st.heap.used(), before);
        st.heap.set_limit(st.heap.footprint() + 100);
        assert!(CodeBlock::new(st.heap_ref(), &[0xc3]).is_err());
        assert_eq!(st.heap.used(), before);
    }
}
