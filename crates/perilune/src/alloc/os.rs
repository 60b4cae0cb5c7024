//! Memory straight from the operating system, for the page arena (`arena.rs`).
//!
//! Blocks are whole OS pages: mapped on request, unmapped on release, so what a state
//! gives back leaves the process at once, and a block's resident size is at most its
//! mapped size. On Unix this is `mmap`/`munmap` (and `mremap` on Linux, which grows a
//! big block without copying it); elsewhere the global allocator stands in.
//!
//! Sizes passed here are multiples of [`OS_PAGE`]; alignments are powers of two.

use std::ptr::NonNull;

/// The granule of mapping and of accounting (the usual OS page).
pub const OS_PAGE: usize = 4096;

/// Can a page-aligned part of a block be given back on its own?
pub const PARTIAL_UNMAP: bool = cfg!(all(unix, not(miri)));

/// Round `n` up to a multiple of [`OS_PAGE`] (`None` on overflow).
#[inline]
pub fn round_up(n: usize) -> Option<usize> {
    Some(n.checked_add(OS_PAGE - 1)? & !(OS_PAGE - 1))
}

#[cfg(all(unix, not(miri)))]
mod imp {
    use super::OS_PAGE;
    use std::ptr::NonNull;

    fn mmap(size: usize) -> Option<NonNull<u8>> {
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing
        // touches no existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            None
        } else {
            NonNull::new(p.cast())
        }
    }

    /// # Safety
    /// `[p, p + size)` is a mapping (or part of one) made here and no longer used.
    pub unsafe fn unmap(p: NonNull<u8>, size: usize) {
        // SAFETY: caller contract. munmap of a range we own cannot fail except for
        // bad arguments, which the contract rules out.
        unsafe { libc::munmap(p.as_ptr().cast(), size) };
    }

    pub fn map(size: usize, align: usize) -> Option<NonNull<u8>> {
        if align <= OS_PAGE {
            return mmap(size);
        }
        // Over-map by the alignment, then give back the misaligned head and the tail.
        let span = size.checked_add(align)?;
        let p = mmap(span)?;
        let start = p.as_ptr() as usize;
        let aligned = (start + align - 1) & !(align - 1);
        let head = aligned - start;
        let tail = span - head - size;
        // SAFETY: both trimmed ranges lie inside the mapping just made and are unused.
        unsafe {
            if head > 0 {
                unmap(p, head);
            }
            if tail > 0 {
                unmap(NonNull::new_unchecked((aligned + size) as *mut u8), tail);
            }
            Some(NonNull::new_unchecked(aligned as *mut u8))
        }
    }

    /// # Safety
    /// `p` was returned by [`map`] with `old` bytes and alignment at most [`OS_PAGE`].
    #[cfg(target_os = "linux")]
    pub unsafe fn remap(p: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        // SAFETY: caller contract; on failure the old mapping is untouched.
        let q = unsafe { libc::mremap(p.as_ptr().cast(), old, new, libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            None
        } else {
            NonNull::new(q.cast())
        }
    }

    /// # Safety
    /// `p` was returned by [`map`] with `old` bytes and alignment at most [`OS_PAGE`].
    #[cfg(not(target_os = "linux"))]
    pub unsafe fn remap(p: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        let q = map(new, OS_PAGE)?;
        // SAFETY: both ranges are mapped and distinct; `p` is released after the copy.
        unsafe {
            std::ptr::copy_nonoverlapping(p.as_ptr(), q.as_ptr(), old.min(new));
            unmap(p, old);
        }
        Some(q)
    }
}

#[cfg(not(all(unix, not(miri))))]
mod imp {
    use super::OS_PAGE;
    use std::alloc::Layout;
    use std::ptr::NonNull;

    fn layout(size: usize, align: usize) -> Layout {
        // Sizes and alignments here are page multiples and powers of two.
        Layout::from_size_align(size, align.max(OS_PAGE)).unwrap_or(Layout::new::<u8>())
    }
    pub fn map(size: usize, align: usize) -> Option<NonNull<u8>> {
        // SAFETY: size > 0 (callers map at least one page).
        NonNull::new(unsafe { std::alloc::alloc(layout(size, align)) })
    }
    /// # Safety
    /// `p` was returned by [`map`] with `size` bytes and alignment at most [`OS_PAGE`].
    pub unsafe fn unmap(p: NonNull<u8>, size: usize) {
        // SAFETY: caller contract.
        unsafe { std::alloc::dealloc(p.as_ptr(), layout(size, OS_PAGE)) }
    }
    /// # Safety
    /// As [`unmap`], with `old` bytes.
    pub unsafe fn remap(p: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        // SAFETY: caller contract.
        NonNull::new(unsafe { std::alloc::realloc(p.as_ptr(), layout(old, OS_PAGE), new) })
    }
}

/// Map `size` bytes (a multiple of [`OS_PAGE`]) aligned to `align`.
pub fn map(size: usize, align: usize) -> Option<NonNull<u8>> {
    imp::map(size, align)
}

/// Give a block back.
///
/// # Safety
/// `p` was returned by [`map`] (or [`remap`]) with `size` bytes, and is not used again;
/// or, where [`PARTIAL_UNMAP`] holds, `[p, p + size)` is a page-aligned part of such a
/// block.
pub unsafe fn unmap(p: NonNull<u8>, size: usize) {
    // SAFETY: caller contract.
    unsafe { imp::unmap(p, size) }
}

/// Resize a block mapped with alignment at most [`OS_PAGE`], keeping its contents; on
/// `None` the old block is unchanged.
///
/// # Safety
/// `p` was returned by [`map`] (or [`remap`]) with `old` bytes and alignment at most
/// [`OS_PAGE`]; on success only the returned block is used.
pub unsafe fn remap(p: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
    // SAFETY: caller contract.
    unsafe { imp::remap(p, old, new) }
}
