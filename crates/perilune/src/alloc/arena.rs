//! The page arena: one state's memory, in pages only that state uses.
//!
//! Why it exists: the memory limit must bound what the process holds for a state, not
//! only the bytes of its live objects. A general-purpose allocator shares its pages
//! between sizes (and states) and keeps a page while one block on it lives, so a
//! script that frees all but one string per page holds many times its limit in
//! resident memory (docs/memory.md, "Fragmentation"). Here:
//! - every page belongs to one state and one size class, and the state's *footprint*
//!   counts the memory its pages have touched, in 4 KiB granules ([`OS_PAGE`]), so
//!   fragmentation counts against the limit and makes the collector run or the
//!   allocation fail;
//! - a page whose blocks are all free is cached for reuse and given back to the
//!   system when the collector finishes a cycle ([`PageArena::trim`]) or when the limit
//!   needs the room; unmapping it at once made bintrees spend a third of its time in
//!   `mmap`/`munmap`;
//! - blocks over [`SMALL_MAX`] bytes are mapped on their own and counted at their
//!   mapped size.
//!
//! Layout: a page is [`PAGE_SIZE`] bytes aligned to [`PAGE_SIZE`], so a block's page is
//! its address rounded down; the header sits near the start, at an offset that depends
//! on the page's address ([`COLORS`]), and the blocks follow it. Blocks of one class are cut
//! in address order by a bump pointer, which commits (and charges) granules as it
//! crosses them; freed blocks go on the page's free list, which allocation takes
//! first.
//!
//! Invariants:
//! - `footprint` = Σ over mapped pages of (`committed` − page start) + Σ over large
//!   blocks of their mapped size. It only grows through [`Inner::charge`], which keeps
//!   it within the limit passed in.
//! - Every mapped page is in exactly one list: its class's `avail` list (it has a free
//!   block or bump room), `full`, or `empty` (no block in use, kept for reuse).
//! - `used` of a page is the number of its blocks handed out and not freed.
//! - The arena is used by one thread at a time (it is `Send`, not `Sync`), and no
//!   method calls out while it holds `&mut Inner`.

use super::os::{self, OS_PAGE};
use std::cell::UnsafeCell;
use std::ptr::{self, NonNull};

/// Size and alignment of a page.
pub const PAGE_SIZE: usize = 64 * 1024;
/// The largest block served from pages; bigger ones are mapped on their own.
pub const SMALL_MAX: usize = 8192;
/// Alignment of every small block.
pub const SMALL_ALIGN: usize = 16;
/// Room for a page's header (a multiple of [`SMALL_ALIGN`]).
const HEADER: usize = 128;
/// Page headers sit at one of this many offsets (`HEADER` apart), chosen by the page's
/// address. At the same offset in every page they would all fall in the same few
/// cache sets (pages are 64 KiB-aligned), and freeing during a sweep, which touches a
/// header per block, missed the cache at every page: bintrees ran 25% slower.
const COLORS: usize = 16;
/// Empty pages always kept for reuse by [`PageArena::trim`]; beyond these it keeps as
/// many as were taken from the cache since the last trim (what the program's churn
/// needs). Cached pages stay in the footprint (they are resident), and are given back
/// at once when a charge would otherwise pass the limit.
const EMPTY_KEEP: usize = 4;
/// Pages mapped at once (on Unix, where a page of a batch can be unmapped alone).
const BATCH: usize = if os::PARTIAL_UNMAP { 16 } else { 1 };

/// Number of size classes: 16..128 by 16, then four per doubling up to [`SMALL_MAX`].
const NCLASSES: usize = 32;

/// The block size of each class.
const CLASS_SIZE: [u32; NCLASSES] = class_sizes();
/// The class of a request, indexed by its size in 16-byte units, rounded up.
static CLASS_OF: [u8; SMALL_MAX / SMALL_ALIGN + 1] = class_table();

const fn class_sizes() -> [u32; NCLASSES] {
    let mut s = [0u32; NCLASSES];
    let mut i = 0;
    while i < 8 {
        s[i] = 16 * (i as u32 + 1);
        i += 1;
    }
    let mut base = 128u32;
    while i < NCLASSES {
        let step = base / 4;
        let mut k = 1;
        while k <= 4 {
            s[i] = base + step * k;
            i += 1;
            k += 1;
        }
        base *= 2;
    }
    s
}

const fn class_table() -> [u8; SMALL_MAX / SMALL_ALIGN + 1] {
    let sizes = class_sizes();
    let mut t = [0u8; SMALL_MAX / SMALL_ALIGN + 1];
    let mut units = 0;
    let mut c = 0;
    while units <= SMALL_MAX / SMALL_ALIGN {
        while (sizes[c] as usize) < units * SMALL_ALIGN {
            c += 1;
        }
        t[units] = c as u8;
        units += 1;
    }
    t
}

/// Does a request of this size and alignment come from pages?
#[inline(always)]
pub fn is_small(size: usize, align: usize) -> bool {
    size <= SMALL_MAX && align <= SMALL_ALIGN
}

#[inline(always)]
fn class_of(size: usize) -> usize {
    CLASS_OF[size.div_ceil(SMALL_ALIGN)] as usize
}

/// Which list a page is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Avail,
    Full,
    Empty,
}

/// The header of a page (the fields allocation and freeing use come first, in one
/// cache line).
#[repr(C)]
struct Page {
    /// Freed blocks, linked through their first word.
    free: *mut FreeBlock,
    /// Address of the next block never handed out.
    bump: usize,
    /// `bump` may advance to here without committing: min(`end`, `committed`).
    ready: usize,
    used: u32,
    block: u32,
    class: u8,
    list: List,
    /// One past the last whole block.
    end: usize,
    /// Granules below this address are committed and charged.
    committed: usize,
    prev: *mut Page,
    next: *mut Page,
}

/// The header of the page at `base`.
#[inline(always)]
fn header_of(base: usize) -> *mut Page {
    (base + (base / PAGE_SIZE) % COLORS * HEADER) as *mut Page
}

/// The start of the page whose header is `page`.
#[inline(always)]
fn base_of(page: *const Page) -> usize {
    page as usize & !(PAGE_SIZE - 1)
}

const _: () = assert!(std::mem::size_of::<Page>() <= HEADER);
// Every header lies in the page's first granule, which a new page commits.
const _: () = assert!(COLORS * HEADER <= OS_PAGE);

struct FreeBlock {
    next: *mut FreeBlock,
}

struct Inner {
    /// Per class, the pages with a free block or bump room; allocation uses the first.
    avail: [*mut Page; NCLASSES],
    /// The last page of each `avail` list.
    avail_tail: [*mut Page; NCLASSES],
    /// Pages with no room.
    full: *mut Page,
    /// Pages with no block in use (singly linked through `next`).
    empty: *mut Page,
    n_empty: usize,
    /// Pages taken from the empty cache since the last trim.
    reused: usize,
    /// Pages mapped and never used yet: `[fresh, fresh_end)`.
    fresh: usize,
    fresh_end: usize,
    /// Bytes of memory the state holds: committed granules and large blocks.
    footprint: usize,
    /// The largest `footprint` seen.
    peak: usize,
}

/// One state's page arena. See the module documentation.
pub struct PageArena {
    inner: UnsafeCell<Inner>,
}

// SAFETY: the arena owns its pages; it is moved between threads with its state and
// never shared (it is not `Sync`), so no two threads touch its pages at once.
unsafe impl Send for PageArena {}

impl Default for PageArena {
    fn default() -> Self {
        PageArena::new()
    }
}

impl PageArena {
    pub fn new() -> PageArena {
        PageArena {
            inner: UnsafeCell::new(Inner {
                avail: [ptr::null_mut(); NCLASSES],
                avail_tail: [ptr::null_mut(); NCLASSES],
                full: ptr::null_mut(),
                empty: ptr::null_mut(),
                n_empty: 0,
                reused: 0,
                fresh: 0,
                fresh_end: 0,
                footprint: 0,
                peak: 0,
            }),
        }
    }

    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    fn inner(&self) -> &mut Inner {
        // SAFETY: single-threaded use (not `Sync`), and no caller holds the returned
        // reference across another call into the arena (module invariant).
        unsafe { &mut *self.inner.get() }
    }

    /// Bytes the state holds: committed granules of its pages and its large blocks.
    #[inline]
    pub fn footprint(&self) -> usize {
        self.inner().footprint
    }
    #[cfg(any(test, feature = "internals"))]
    /// The largest footprint seen.
    pub fn peak_footprint(&self) -> usize {
        self.inner().peak
    }

    /// Give cached empty pages back to the system, keeping a few for reuse. The
    /// collector calls this at the end of each cycle.
    pub fn trim(&self) {
        let a = self.inner();
        // Keep what the last cycle reused; of the rest, half goes each cycle, so a
        // program whose churn varies between cycles does not map pages again.
        let keep = EMPTY_KEEP.max(std::mem::take(&mut a.reused)).max(a.n_empty / 2);
        a.release_empty(keep);
    }

    /// Allocate `size` bytes aligned to `align` (size > 0), keeping the footprint
    /// within `limit`.
    #[inline]
    pub fn alloc(&self, size: usize, align: usize, limit: usize) -> Option<NonNull<u8>> {
        if is_small(size, align) {
            self.inner().alloc_small(class_of(size), limit)
        } else {
            self.inner().alloc_large(size, align, limit)
        }
    }

    /// Free a block.
    ///
    /// # Safety
    /// `p` came from this arena for `size` and `align` and is not used again.
    #[inline]
    pub unsafe fn dealloc(&self, p: NonNull<u8>, size: usize, align: usize) {
        // SAFETY: caller contract.
        unsafe {
            if is_small(size, align) {
                self.inner().free_small(p)
            } else {
                self.inner().free_large(p, size)
            }
        }
    }

    /// Resize a block, keeping its contents; on `None` the old block is unchanged.
    ///
    /// # Safety
    /// `p` came from this arena for `old` and `align`; `new > 0`.
    pub unsafe fn realloc(
        &self,
        p: NonNull<u8>,
        old: usize,
        align: usize,
        new: usize,
        limit: usize,
    ) -> Option<NonNull<u8>> {
        let (small_old, small_new) = (is_small(old, align), is_small(new, align));
        if small_old && small_new && class_of(old) == class_of(new) {
            return Some(p);
        }
        if !small_old && !small_new && align <= OS_PAGE {
            // SAFETY: caller contract: `p` is a large block of `old` bytes.
            return unsafe { self.inner().realloc_large(p, old, new, limit) };
        }
        let q = self.alloc(new, align, limit)?;
        // SAFETY: both blocks are live and distinct; `p` is freed after the copy.
        unsafe {
            ptr::copy_nonoverlapping(p.as_ptr(), q.as_ptr(), old.min(new));
            self.dealloc(p, old, align);
        }
        Some(q)
    }
}

impl Inner {
    /// Add `bytes` to the footprint if it stays within `limit`, giving cached empty
    /// pages back first if that makes the room.
    #[inline]
    fn charge(&mut self, bytes: usize, limit: usize) -> bool {
        loop {
            match self.footprint.checked_add(bytes) {
                Some(n) if n <= limit => {
                    self.footprint = n;
                    if n > self.peak {
                        self.peak = n;
                    }
                    return true;
                }
                _ if self.n_empty > 0 => self.release_empty(0),
                _ => return false,
            }
        }
    }

    /// Unmap cached empty pages until at most `keep` are left.
    #[cold]
    fn release_empty(&mut self, keep: usize) {
        while self.n_empty > keep {
            let page = self.empty;
            // SAFETY: pages in the empty list are mapped with initialised headers.
            self.empty = unsafe { (*page).next };
            self.n_empty -= 1;
            self.release(page);
        }
    }

    #[inline(always)]
    fn alloc_small(&mut self, class: usize, limit: usize) -> Option<NonNull<u8>> {
        let page = self.avail[class];
        if !page.is_null() {
            // SAFETY: pages in the lists are mapped and their headers initialised.
            let pg = unsafe { &mut *page };
            let b = pg.free;
            if !b.is_null() {
                // SAFETY: a free block is a block of this page not in use; its first
                // word was written by `free_small`.
                pg.free = unsafe { (*b).next };
                pg.used += 1;
                // SAFETY: blocks are inside a mapped page, never null.
                return Some(unsafe { NonNull::new_unchecked(b.cast()) });
            }
            let next = pg.bump + pg.block as usize;
            if next <= pg.ready {
                let b = pg.bump;
                pg.bump = next;
                pg.used += 1;
                // SAFETY: as above.
                return Some(unsafe { NonNull::new_unchecked(b as *mut u8) });
            }
        }
        self.alloc_small_slow(class, limit)
    }

    #[cold]
    fn alloc_small_slow(&mut self, class: usize, limit: usize) -> Option<NonNull<u8>> {
        loop {
            let mut page = self.avail[class];
            if page.is_null() {
                page = self.new_page(class, limit)?;
            }
            // SAFETY: as in `alloc_small`.
            let pg = unsafe { &mut *page };
            if !pg.free.is_null() || pg.bump + pg.block as usize <= pg.ready {
                return self.alloc_small(class, limit);
            }
            let next = pg.bump + pg.block as usize;
            if next <= pg.end {
                // Bump room, but the next granule is not committed yet.
                let upto = (next + OS_PAGE - 1) & !(OS_PAGE - 1);
                if !self.charge(upto - pg.committed, limit) {
                    return self.alloc_from_other_page(class);
                }
                pg.committed = upto;
                pg.ready = upto.min(pg.end);
                continue;
            }
            // No room left: the page is full.
            self.unlink(page);
            self.push(page, List::Full);
        }
    }

    /// At the limit: take a free block from any page of the class, committing nothing.
    fn alloc_from_other_page(&mut self, class: usize) -> Option<NonNull<u8>> {
        let mut page = self.avail[class];
        while !page.is_null() {
            // SAFETY: as in `alloc_small`.
            let pg = unsafe { &mut *page };
            if !pg.free.is_null() {
                let b = pg.free;
                // SAFETY: as in `alloc_small`.
                pg.free = unsafe { (*b).next };
                pg.used += 1;
                return NonNull::new(b.cast());
            }
            page = pg.next;
        }
        None
    }

    /// A page for `class`, from the empty cache or newly mapped, put first in the
    /// class's list.
    fn new_page(&mut self, class: usize, limit: usize) -> Option<*mut Page> {
        let page = if !self.empty.is_null() {
            let p = self.empty;
            // SAFETY: pages in the empty list are mapped with initialised headers.
            self.empty = unsafe { (*p).next };
            self.n_empty -= 1;
            self.reused += 1;
            p
        } else {
            if !self.charge(OS_PAGE, limit) {
                return None;
            }
            let Some(base) = self.fresh_page() else {
                self.footprint -= OS_PAGE;
                return None;
            };
            let p = header_of(base);
            // SAFETY: inside a fresh mapping of PAGE_SIZE bytes, aligned for the header.
            unsafe {
                p.write(Page {
                    free: ptr::null_mut(),
                    bump: 0,
                    ready: 0,
                    end: 0,
                    committed: base + OS_PAGE,
                    prev: ptr::null_mut(),
                    next: ptr::null_mut(),
                    used: 0,
                    block: 0,
                    class: 0,
                    list: List::Empty,
                })
            };
            p
        };
        // SAFETY: `page` is mapped and not in any list.
        let pg = unsafe { &mut *page };
        let start = page as usize + HEADER;
        let block = CLASS_SIZE[class];
        pg.block = block;
        pg.class = class as u8;
        pg.end = start + (base_of(page) + PAGE_SIZE - start) / block as usize * block as usize;
        reset(pg);
        self.push(page, List::Avail);
        Some(page)
    }

    /// The start of a page never used: the next of the current batch, or the first of a
    /// new batch. Pages are mapped [`BATCH`] at a time (one system call instead of
    /// sixteen); a page not yet used is not touched, so it is neither resident nor
    /// charged.
    fn fresh_page(&mut self) -> Option<usize> {
        if self.fresh == self.fresh_end {
            let base = os::map(BATCH * PAGE_SIZE, PAGE_SIZE)?.as_ptr() as usize;
            self.fresh = base;
            self.fresh_end = base + BATCH * PAGE_SIZE;
        }
        let base = self.fresh;
        self.fresh += PAGE_SIZE;
        Some(base)
    }

    /// # Safety
    /// `p` is a small block of this arena in use.
    #[inline(always)]
    unsafe fn free_small(&mut self, p: NonNull<u8>) {
        let page = header_of(p.as_ptr() as usize & !(PAGE_SIZE - 1));
        // SAFETY: the block's page is mapped (it holds a block in use).
        let pg = unsafe { &mut *page };
        let b = p.as_ptr().cast::<FreeBlock>();
        // SAFETY: the block is at least 16 bytes, aligned, and no longer in use.
        unsafe { b.write(FreeBlock { next: pg.free }) };
        pg.free = b;
        pg.used -= 1;
        if pg.list != List::Avail || pg.used == 0 {
            self.free_small_slow(page);
        }
    }

    #[cold]
    fn free_small_slow(&mut self, page: *mut Page) {
        // SAFETY: a mapped page with an initialised header.
        let pg = unsafe { &mut *page };
        if pg.list == List::Full {
            self.unlink(page);
            self.push_back(page);
        }
        if pg.used > 0 {
            return;
        }
        reset(pg);
        if self.avail[pg.class as usize] == page && pg.next.is_null() {
            return; // the class's only page: keep it, empty, for the next block
        }
        self.unlink(page);
        pg.next = self.empty;
        pg.list = List::Empty;
        self.empty = page;
        self.n_empty += 1;
    }

    /// Unmap a page that is in no list.
    fn release(&mut self, page: *mut Page) {
        let base = base_of(page);
        // SAFETY: a mapped page with an initialised header, in no list.
        self.footprint -= unsafe { (*page).committed } - base;
        // SAFETY: the page was mapped with PAGE_SIZE bytes at `base` and nothing points
        // into it (no block in use, in no list).
        unsafe { os::unmap(NonNull::new_unchecked(base as *mut u8), PAGE_SIZE) };
    }

    /// Put `page` first in its class's avail list, or in the full list.
    fn push(&mut self, page: *mut Page, list: List) {
        // SAFETY: a mapped page with an initialised header, in no list.
        let pg = unsafe { &mut *page };
        let class = pg.class as usize;
        let head = match list {
            List::Avail => &mut self.avail[class],
            _ => &mut self.full,
        };
        pg.prev = ptr::null_mut();
        pg.next = *head;
        if head.is_null() {
            if list == List::Avail {
                self.avail_tail[class] = page;
            }
        } else {
            // SAFETY: list members are mapped pages.
            unsafe { (**head).prev = page };
        }
        *head = page;
        pg.list = list;
    }

    /// Put `page` last in its class's avail list: allocation reaches it after the pages
    /// before it, by which time a sweep has usually freed more of its blocks (taking it
    /// at once would hop between pages with one free block each).
    fn push_back(&mut self, page: *mut Page) {
        // SAFETY: a mapped page with an initialised header, in no list.
        let pg = unsafe { &mut *page };
        let class = pg.class as usize;
        let tail = self.avail_tail[class];
        if tail.is_null() {
            return self.push(page, List::Avail);
        }
        pg.prev = tail;
        pg.next = ptr::null_mut();
        // SAFETY: list members are mapped pages.
        unsafe { (*tail).next = page };
        self.avail_tail[class] = page;
        pg.list = List::Avail;
    }

    /// Take `page` out of the avail or full list it is in.
    fn unlink(&mut self, page: *mut Page) {
        // SAFETY: a mapped page in the avail or full list; its neighbours are too.
        unsafe {
            let pg = &mut *page;
            let class = pg.class as usize;
            if pg.prev.is_null() {
                match pg.list {
                    List::Avail => self.avail[class] = pg.next,
                    _ => self.full = pg.next,
                }
            } else {
                (*pg.prev).next = pg.next;
            }
            if !pg.next.is_null() {
                (*pg.next).prev = pg.prev;
            } else if pg.list == List::Avail {
                self.avail_tail[class] = pg.prev;
            }
            pg.prev = ptr::null_mut();
            pg.next = ptr::null_mut();
        }
    }

    fn alloc_large(&mut self, size: usize, align: usize, limit: usize) -> Option<NonNull<u8>> {
        let mapped = os::round_up(size)?;
        if !self.charge(mapped, limit) {
            return None;
        }
        let p = os::map(mapped, align);
        if p.is_none() {
            self.footprint -= mapped;
        }
        p
    }

    /// # Safety
    /// `p` is a large block of `size` bytes from this arena, not used again.
    unsafe fn free_large(&mut self, p: NonNull<u8>, size: usize) {
        let mapped = os::round_up(size).unwrap_or(size);
        self.footprint -= mapped;
        // SAFETY: caller contract; it was mapped with `mapped` bytes.
        unsafe { os::unmap(p, mapped) }
    }

    /// # Safety
    /// `p` is a large block of `old` bytes from this arena, alignment at most a page.
    unsafe fn realloc_large(&mut self, p: NonNull<u8>, old: usize, new: usize, limit: usize) -> Option<NonNull<u8>> {
        let (old_m, new_m) = (os::round_up(old)?, os::round_up(new)?);
        if new_m == old_m {
            return Some(p);
        }
        if new_m > old_m && !self.charge(new_m - old_m, limit) {
            return None;
        }
        // SAFETY: caller contract.
        match unsafe { os::remap(p, old_m, new_m) } {
            Some(q) => {
                if new_m < old_m {
                    self.footprint -= old_m - new_m;
                }
                Some(q)
            }
            None => {
                if new_m > old_m {
                    self.footprint -= new_m - old_m;
                }
                None
            }
        }
    }
}

/// Start a page over: no free list, bump at the first block.
fn reset(pg: &mut Page) {
    let start = pg as *mut Page as usize + HEADER;
    pg.free = ptr::null_mut();
    pg.bump = start;
    pg.ready = pg.committed.min(pg.end);
}

impl Drop for PageArena {
    /// Unmap every page. Large blocks belong to their owners, who free them first (the
    /// state frees every object before its heap).
    fn drop(&mut self) {
        let a = self.inner.get_mut();
        for i in 0..=NCLASSES + 1 {
            let mut page = match i {
                i if i < NCLASSES => a.avail[i],
                i if i == NCLASSES => a.full,
                _ => a.empty,
            };
            while !page.is_null() {
                // SAFETY: list members are mapped pages with initialised headers.
                let next = unsafe { (*page).next };
                a.release(page);
                page = next;
            }
        }
        if a.fresh != a.fresh_end {
            // SAFETY: the unused rest of the last batch, mapped here and never handed out.
            unsafe { os::unmap(NonNull::new_unchecked(a.fresh as *mut u8), a.fresh_end - a.fresh) };
        }
        a.avail = [ptr::null_mut(); NCLASSES];
        a.avail_tail = [ptr::null_mut(); NCLASSES];
        a.full = ptr::null_mut();
        a.empty = ptr::null_mut();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_small_size() {
        for size in 1..=SMALL_MAX {
            let c = class_of(size);
            assert!(CLASS_SIZE[c] as usize >= size, "size {size} class {c}");
            if c > 0 {
                assert!(
                    (CLASS_SIZE[c - 1] as usize) < size,
                    "size {size} not in the smallest class"
                );
            }
            assert_eq!(CLASS_SIZE[c] as usize % SMALL_ALIGN, 0);
        }
        assert_eq!(CLASS_SIZE[NCLASSES - 1] as usize, SMALL_MAX);
    }

    #[test]
    fn blocks_are_reused_and_pages_returned() {
        let a = PageArena::new();
        let mut blocks = Vec::new();
        for i in 0..10_000usize {
            let size = 16 + (i * 37) % 3000;
            let p = a.alloc(size, 8, usize::MAX).unwrap();
            // SAFETY: a fresh block of `size` bytes.
            unsafe { p.as_ptr().write_bytes(i as u8, size) };
            blocks.push((p, size, i as u8));
        }
        assert!(a.footprint() > 0);
        for &(p, size, tag) in &blocks {
            // SAFETY: still in use; nothing else wrote it.
            let s = unsafe { std::slice::from_raw_parts(p.as_ptr(), size) };
            assert!(s.iter().all(|&b| b == tag), "a block was overwritten");
        }
        for (p, size, _) in blocks.drain(..) {
            // SAFETY: allocated above with this size, freed once.
            unsafe { a.dealloc(p, size, 8) };
        }
        // What stays after trimming (each trim gives back half of the cache): at most
        // one empty page per class, plus a few cached.
        for _ in 0..20 {
            a.trim();
        }
        assert!(
            a.footprint() <= (NCLASSES + EMPTY_KEEP) * PAGE_SIZE,
            "footprint {}",
            a.footprint()
        );
    }

    #[test]
    fn the_limit_counts_pages_not_blocks() {
        let a = PageArena::new();
        let limit = 16 * PAGE_SIZE;
        // One 16-byte block kept per page: the footprint grows by pages.
        let mut kept = Vec::new();
        let mut all = Vec::new();
        while let Some(p) = a.alloc(16, 8, limit) {
            all.push(p);
        }
        assert!(a.footprint() <= limit);
        let per_page = (PAGE_SIZE - COLORS * HEADER) / 16;
        for (i, p) in all.into_iter().enumerate() {
            if i % per_page == 0 {
                kept.push(p);
            } else {
                // SAFETY: allocated above, freed once.
                unsafe { a.dealloc(p, 16, 8) };
            }
        }
        // The pages stay committed: a bigger class cannot get new memory...
        assert!(a.alloc(4000, 8, limit).is_none() || a.footprint() <= limit);
        // ...but the free blocks of the small class are still there to use.
        assert!(a.alloc(16, 8, limit).is_some());
        for p in kept {
            // SAFETY: allocated above, freed once.
            unsafe { a.dealloc(p, 16, 8) };
        }
    }

    #[test]
    fn large_blocks_grow_and_shrink() {
        let a = PageArena::new();
        let p = a.alloc(100_000, 8, usize::MAX).unwrap();
        assert_eq!(a.footprint(), os::round_up(100_000).unwrap());
        // SAFETY: a fresh block of 100,000 bytes.
        unsafe { p.as_ptr().write_bytes(7, 100_000) };
        // SAFETY: resized from its size; the old pointer is not used after.
        let q = unsafe { a.realloc(p, 100_000, 8, 1_000_000, usize::MAX) }.unwrap();
        // SAFETY: the prefix was kept.
        assert!(unsafe { std::slice::from_raw_parts(q.as_ptr(), 100_000) }
            .iter()
            .all(|&b| b == 7));
        // SAFETY: as above.
        let r = unsafe { a.realloc(q, 1_000_000, 8, 100, usize::MAX) }.unwrap();
        // SAFETY: as above.
        assert!(unsafe { std::slice::from_raw_parts(r.as_ptr(), 100) }
            .iter()
            .all(|&b| b == 7));
        // SAFETY: a small block of 100 bytes now.
        unsafe { a.dealloc(r, 100, 8) };
        assert!(a.alloc(1 << 20, 8, 4096).is_none(), "the limit holds for large blocks");
    }
}
