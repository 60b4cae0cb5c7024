//! The accounting allocator: every byte a script can influence goes through here.
//!
//! A [`Heap`] takes its memory from the state's own page arena ([`arena`]), or from a
//! pluggable [`Allocator`] a host supplies (the analogue of `lua_Alloc`). It counts the
//! bytes it hands out, remembers the peak, and refuses any request that would take the
//! state's *footprint* over the limit. Refusal is an ordinary value, [`OutOfMemory`],
//! which the VM turns into the Lua error `not enough memory`.
//!
//! Invariants:
//! - `used` is exactly the sum of the sizes of the live blocks handed out.
//! - The footprint is what the state holds: with the arena, its committed pages and
//!   large blocks (so fragmentation counts, docs/memory.md); with a host allocator,
//!   `used`. It never exceeds the limit, except by memory taken before the limit was
//!   lowered.
//! - A shrink never fails: if the allocator refuses it, the old block is kept and the
//!   caller is told the capacity did not change (DESIGN.md invariant 3).
//! - An allocation never starts a collection. It only adds to `debt`, which the
//!   interpreter pays off with GC steps at its safe points. A refused request leaves a
//!   full collection owed (`collection_owed`), paid at the next safe point and at the
//!   latest where the error is caught, before anything else runs.
//!
//! [`HVec`] is the growable buffer every subsystem uses for accounted storage; it
//! carries a [`HeapRef`] so it frees itself on drop.

pub mod arena;
mod os;

use arena::PageArena;
use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::NonNull;

use crate::hot::HotBlock;

/// An allocation was refused (by the limit or by the allocator).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

impl std::fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::errmsg::NOMEM)
    }
}
impl std::error::Error for OutOfMemory {}

/// A source of memory for one Lua state: the analogue of `lua_Alloc`.
///
/// # Safety
/// Implementations must behave like [`std::alloc::GlobalAlloc`]: a returned block is
/// valid for `layout`, `realloc` preserves the prefix, and blocks are only freed with
/// the layout they were allocated with. Returning `None` is always allowed.
pub unsafe trait Allocator: Send {
    /// Allocate a block for `layout` (size > 0).
    fn alloc(&self, layout: Layout) -> Option<NonNull<u8>>;
    /// Resize a block. On `None` the old block must still be valid and unchanged.
    ///
    /// # Safety
    /// `ptr` was returned by this allocator for `old`, and `new_size > 0`.
    unsafe fn realloc(&self, ptr: NonNull<u8>, old: Layout, new_size: usize) -> Option<NonNull<u8>>;
    /// Free a block.
    ///
    /// # Safety
    /// `ptr` was returned by this allocator for `layout` and is not used again.
    unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout);
}

/// The process allocator: Rust's global allocator, or with the `mimalloc` feature the
/// process allocator of `process_alloc` without its emergency reserve. Free its blocks
/// through it (as the [`Allocator`] contract says), not with `std::alloc::dealloc`.
#[derive(Default, Clone, Copy, Debug)]
pub struct SystemAllocator;

/// What the process allocator is for the Lua heap: the global allocator, or with the
/// `mimalloc` feature the process allocator without its emergency reserve (a refusal
/// of a Lua allocation is an ordinary error and must not spend the reserve that error
/// reporting needs; see `process_alloc`).
#[cfg(feature = "mimalloc")]
use crate::process_alloc::Plain as ProcessMemory;
#[cfg(not(feature = "mimalloc"))]
struct ProcessMemory;

// SAFETY: forwards to the global allocator.
#[cfg(not(feature = "mimalloc"))]
unsafe impl std::alloc::GlobalAlloc for ProcessMemory {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees, forwarded.
        unsafe { std::alloc::alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's guarantees, forwarded.
        unsafe { std::alloc::realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantees, forwarded.
        unsafe { std::alloc::dealloc(ptr, layout) }
    }
}

// SAFETY: forwards to a `GlobalAlloc`, which satisfies the same contract; every block
// is allocated, resized and freed through the same one.
unsafe impl Allocator for SystemAllocator {
    fn alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: callers never ask for zero-sized blocks (Heap filters them out).
        NonNull::new(unsafe { std::alloc::GlobalAlloc::alloc(&ProcessMemory, layout) })
    }
    unsafe fn realloc(&self, ptr: NonNull<u8>, old: Layout, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: contract of the trait method.
        NonNull::new(unsafe { std::alloc::GlobalAlloc::realloc(&ProcessMemory, ptr.as_ptr(), old, new_size) })
    }
    unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: contract of the trait method.
        unsafe { std::alloc::GlobalAlloc::dealloc(&ProcessMemory, ptr.as_ptr(), layout) }
    }
}

/// Where a heap's memory comes from.
// One per state, inside the boxed `Heap`: boxing the arena would put another pointer
// hop in front of every allocation.
#[allow(clippy::large_enum_variant)]
enum Source {
    /// The state's own pages: the default, and the only source whose footprint
    /// includes fragmentation.
    Arena(PageArena),
    /// A host's allocator, called for every block.
    Host(Box<dyn Allocator>),
}

/// The accounting layer over the state's memory. Owned by the state, boxed so its
/// address is stable for the [`HeapRef`]s held by buffers.
pub struct Heap {
    source: Source,
    used: Cell<usize>,
    peak: Cell<usize>,
    limit: Cell<usize>,
    /// The words compiled code and the interpreter's fast paths read (`hot.rs`),
    /// the GC debt among them: bytes allocated since the collector last caught up,
    /// positive when a GC step is due at the next safe point. Here because this box
    /// is the one place both the allocator and the running code reach.
    pub hot: HotBlock,
    /// The JIT's hot counters, next to the hot block (`hot.rs`).
    pub hotcounts: crate::hot::HotCounts,
    /// An allocation was refused since the last full collection: one is owed, and
    /// the debt stays positive until it has run (DESIGN.md invariant 5).
    collection_owed: Cell<bool>,
    /// Bytes the state holds outside its allocator: the JIT's executable pages
    /// (`jit/code.rs`), mapped on their own because they change protection. Counted
    /// in `used` and the footprint, so the limit covers them (JIT.md J5).
    external: Cell<usize>,
}

impl Heap {
    /// A heap over the state's own page arena (the default).
    pub fn paged() -> Heap {
        Heap::with_source(Source::Arena(PageArena::new()))
    }
    /// A heap over a host's allocator.
    pub fn new(allocator: Box<dyn Allocator>) -> Heap {
        Heap::with_source(Source::Host(allocator))
    }
    fn with_source(source: Source) -> Heap {
        Heap {
            source,
            used: Cell::new(0),
            peak: Cell::new(0),
            limit: Cell::new(usize::MAX),
            hot: HotBlock::new(),
            hotcounts: Default::default(),
            collection_owed: Cell::new(false),
            external: Cell::new(0),
        }
    }

    /// Bytes currently allocated.
    pub fn used(&self) -> usize {
        self.used.get()
    }
    /// The largest `used` seen.
    #[cfg(test)]
    pub fn peak(&self) -> usize {
        self.peak.get()
    }
    /// Bytes the state holds, which the limit bounds: committed pages and large blocks
    /// of the arena (at least `used`), or `used` with a host allocator.
    #[inline]
    pub fn footprint(&self) -> usize {
        match &self.source {
            Source::Arena(a) => a.footprint() + self.external.get(),
            Source::Host(_) => self.used.get(),
        }
    }

    /// Charge `n` bytes held outside the allocator (executable pages) to the heap:
    /// refused, without owing a collection, when the limit would be passed.
    #[cfg_attr(not(all(feature = "jit", target_arch = "x86_64", unix)), allow(dead_code))]
    pub fn charge_external(&self, n: usize) -> Result<(), OutOfMemory> {
        match self.footprint().max(self.used.get()).checked_add(n) {
            Some(t) if t <= self.limit.get() => {}
            _ => return Err(OutOfMemory),
        }
        self.external.set(self.external.get() + n);
        let used = self.used.get() + n;
        self.used.set(used);
        self.peak.set(self.peak.get().max(used));
        Ok(())
    }

    /// Bytes charged by [`Heap::charge_external`] and not given back.
    pub fn external(&self) -> usize {
        self.external.get()
    }

    /// Give back `n` bytes charged by [`Heap::charge_external`].
    #[cfg_attr(not(all(feature = "jit", target_arch = "x86_64", unix)), allow(dead_code))]
    pub fn release_external(&self, n: usize) {
        debug_assert!(self.external.get() >= n, "external accounting underflow");
        self.external.set(self.external.get().saturating_sub(n));
        self.account_free(n);
    }
    /// Give memory the state no longer uses back to the system (cached empty pages);
    /// the collector calls this when it finishes a cycle.
    pub fn trim(&self) {
        if let Source::Arena(a) = &self.source {
            a.trim();
        }
    }
    #[cfg(any(test, feature = "internals"))]
    /// The largest footprint seen.
    pub fn peak_footprint(&self) -> usize {
        match &self.source {
            Source::Arena(a) => a.peak_footprint(),
            Source::Host(_) => self.peak.get(),
        }
    }
    pub fn limit(&self) -> usize {
        self.limit.get()
    }
    /// Set the limit in bytes (`usize::MAX` for none). Takes effect at the next request;
    /// memory already allocated is not taken back.
    pub fn set_limit(&self, limit: usize) {
        self.limit.set(limit);
    }
    #[inline(always)]
    pub fn debt(&self) -> isize {
        self.hot.gc_debt.get()
    }
    /// Set the debt. While a collection is owed it stays positive, so the next safe
    /// point pays it whatever the pacing says.
    pub fn set_debt(&self, debt: isize) {
        self.hot
            .gc_debt
            .set(if self.collection_owed.get() { debt.max(1) } else { debt });
    }

    /// Is a full collection owed because an allocation was refused?
    #[inline(always)]
    pub fn collection_owed(&self) -> bool {
        self.collection_owed.get()
    }
    /// The owed collection has run (or a full one ran anyway).
    pub fn clear_collection_owed(&self) {
        self.collection_owed.set(false);
    }

    /// Run `f`, whose allocations are optional: the caller tolerates their refusal (a
    /// growth that can wait, a housekeeping rehash), so a refusal there leaves no
    /// collection owed and no debt. Without this, a table that retries such a growth
    /// near the limit would force a full collection at every safe point.
    pub fn optional<R>(&self, f: impl FnOnce() -> R) -> R {
        let (owed, debt) = (self.collection_owed.get(), self.hot.gc_debt.get());
        let r = f();
        if !owed && self.collection_owed.get() {
            self.collection_owed.set(false);
            self.hot.gc_debt.set(debt);
        }
        r
    }

    /// Refuse a request: the memory it asked for is most likely held by garbage the
    /// failed operation left behind, so a full collection is owed at the next safe
    /// point. Only flags are written: refusing never allocates or collects.
    #[cold]
    fn refuse(&self) -> OutOfMemory {
        self.collection_owed.set(true);
        self.hot.gc_debt.set(self.hot.gc_debt.get().max(1));
        OutOfMemory
    }

    /// What the arena may hold: the limit less the external bytes.
    #[inline(always)]
    fn arena_limit(&self) -> usize {
        self.limit.get().saturating_sub(self.external.get())
    }

    /// With a host allocator: may `used` grow by `grow`?
    fn charge(&self, grow: usize) -> Result<(), OutOfMemory> {
        let used = self.used.get();
        match used.checked_add(grow) {
            Some(n) if n <= self.limit.get() => Ok(()),
            _ => Err(self.refuse()),
        }
    }
    fn account_alloc(&self, size: usize) {
        let used = self.used.get() + size;
        self.used.set(used);
        if used > self.peak.get() {
            self.peak.set(used);
        }
        self.hot
            .gc_debt
            .set(self.hot.gc_debt.get().saturating_add(size as isize));
    }
    fn account_free(&self, size: usize) {
        debug_assert!(self.used.get() >= size, "heap accounting underflow");
        self.used.set(self.used.get().saturating_sub(size));
    }

    /// Allocate a block. Zero-sized layouts get a dangling, well-aligned pointer.
    #[inline]
    pub fn alloc(&self, layout: Layout) -> Result<NonNull<u8>, OutOfMemory> {
        if layout.size() == 0 {
            return Ok(dangling(layout));
        }
        let p = match &self.source {
            Source::Arena(a) => a.alloc(layout.size(), layout.align(), self.arena_limit()),
            Source::Host(h) => {
                self.charge(layout.size())?;
                h.alloc(layout)
            }
        };
        let p = p.ok_or_else(|| self.refuse())?;
        self.account_alloc(layout.size());
        Ok(p)
    }

    /// Resize a block. Growing may fail (the old block stays valid). Shrinking never
    /// fails: if the allocator refuses, the old block is returned unchanged and
    /// `Ok((old_ptr, old_size))` tells the caller the size stayed.
    ///
    /// # Safety
    /// `ptr` came from this heap with layout `old`.
    pub unsafe fn realloc(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new_size: usize,
    ) -> Result<(NonNull<u8>, usize), OutOfMemory> {
        if old.size() == 0 {
            let layout = Layout::from_size_align(new_size, old.align()).map_err(|_| OutOfMemory)?;
            return self.alloc(layout).map(|p| (p, new_size));
        }
        if new_size == 0 {
            // SAFETY: caller contract.
            unsafe { self.dealloc(ptr, old) };
            return Ok((dangling(old), 0));
        }
        let grow = new_size > old.size();
        if grow && matches!(self.source, Source::Host(_)) {
            self.charge(new_size - old.size())?;
        }
        // SAFETY: caller contract.
        let p = unsafe {
            match &self.source {
                Source::Arena(a) => a.realloc(ptr, old.size(), old.align(), new_size, self.arena_limit()),
                Source::Host(h) => h.realloc(ptr, old, new_size),
            }
        };
        match p {
            Some(p) if grow => {
                self.account_alloc(new_size - old.size());
                Ok((p, new_size))
            }
            Some(p) => {
                self.account_free(old.size() - new_size);
                Ok((p, new_size))
            }
            None if grow => Err(self.refuse()),
            None => Ok((ptr, old.size())),
        }
    }

    /// Free a block.
    ///
    /// # Safety
    /// `ptr` came from this heap with `layout` and is not used again.
    #[inline]
    pub unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        self.account_free(layout.size());
        // SAFETY: caller contract.
        unsafe {
            match &self.source {
                Source::Arena(a) => a.dealloc(ptr, layout.size(), layout.align()),
                Source::Host(h) => h.dealloc(ptr, layout),
            }
        }
    }
}

fn dangling(layout: Layout) -> NonNull<u8> {
    // A non-null address aligned to the layout, never dereferenced for size 0.
    NonNull::new(layout.align() as *mut u8).unwrap_or(NonNull::dangling())
}

/// A pointer to the state's heap, held by buffers so they can free themselves.
///
/// Invariant: the `Heap` is boxed by the state and outlives every object and buffer
/// allocated from it (the state frees all objects before dropping the heap).
#[derive(Clone, Copy)]
pub struct HeapRef(NonNull<Heap>);

impl HeapRef {
    pub fn new(heap: &Heap) -> HeapRef {
        HeapRef(NonNull::from(heap))
    }
    #[inline(always)]
    pub fn get(&self) -> &Heap {
        // SAFETY: the heap outlives every HeapRef (type invariant above).
        unsafe { self.0.as_ref() }
    }
}

/// A growable array of `Copy` elements whose storage is accounted by the heap.
/// Every growing operation is fallible; shrinking never fails. Length and capacity
/// are 32-bit (a larger buffer is refused as out of memory), which keeps the buffer at
/// 24 bytes: a table holds two of them, and table size is cache footprint. The
/// layout is fixed (`#[repr(C)]`) because compiled code loads `ptr` and `len` of
/// table parts (`crate::vm::layout`).
#[repr(C)]
pub struct HVec<T: Copy> {
    ptr: NonNull<T>,
    len: u32,
    cap: u32,
    heap: HeapRef,
}

impl<T: Copy> HVec<T> {
    /// Offset of the pointer to the elements (`crate::vm::layout`).
    pub const PTR_OFFSET: usize = std::mem::offset_of!(Self, ptr);
    /// Offset of the element count, a `u32`.
    pub const LEN_OFFSET: usize = std::mem::offset_of!(Self, len);

    pub fn new(heap: HeapRef) -> HVec<T> {
        HVec {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            heap,
        }
    }
    pub fn with_capacity(heap: HeapRef, cap: usize) -> Result<HVec<T>, OutOfMemory> {
        let mut v = HVec::new(heap);
        v.reserve_exact(cap)?;
        Ok(v)
    }
    pub fn from_slice(heap: HeapRef, items: &[T]) -> Result<HVec<T>, OutOfMemory> {
        let mut v = HVec::with_capacity(heap, items.len())?;
        v.extend_from_slice(items)?;
        Ok(v)
    }
    /// Create with `len` copies of `fill`.
    pub fn filled(heap: HeapRef, len: usize, fill: T) -> Result<HVec<T>, OutOfMemory> {
        let mut v: HVec<T> = HVec::with_capacity(heap, len)?;
        let p = v.ptr.as_ptr();
        for i in 0..len {
            // SAFETY: the capacity is at least `len` (reserved above).
            unsafe { p.add(i).write(fill) };
        }
        v.len = len as u32; // the capacity, reserved above, fits in u32
        Ok(v)
    }
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len as usize
    }
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    #[inline(always)]
    pub fn capacity(&self) -> usize {
        self.cap as usize
    }
    #[inline(always)]
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }
    #[inline(always)]
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr.as_ptr()
    }
    pub fn heap(&self) -> HeapRef {
        self.heap
    }
    /// Bytes of heap this buffer holds.
    pub fn byte_size(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>()
    }

    fn layout(cap: usize) -> Result<Layout, OutOfMemory> {
        Layout::array::<T>(cap).map_err(|_| OutOfMemory)
    }

    fn set_capacity(&mut self, new_cap: usize) -> Result<(), OutOfMemory> {
        let new_cap32 = u32::try_from(new_cap).map_err(|_| OutOfMemory)?;
        let new_layout = Self::layout(new_cap)?;
        let heap = self.heap.get();
        let new_ptr = if self.cap == 0 {
            heap.alloc(new_layout)?.cast::<T>()
        } else {
            let old_layout = Self::layout(self.capacity())?;
            // SAFETY: ptr was allocated from this heap with old_layout.
            let (p, got) = unsafe { heap.realloc(self.ptr.cast(), old_layout, new_layout.size())? };
            if got != new_layout.size() {
                // A refused shrink: the old block stays, and so does the capacity.
                return Ok(());
            }
            p.cast::<T>()
        };
        self.ptr = new_ptr;
        self.cap = new_cap32;
        Ok(())
    }

    /// Make room for `extra` more elements, growing geometrically.
    pub fn reserve(&mut self, extra: usize) -> Result<(), OutOfMemory> {
        let need = self.len().checked_add(extra).ok_or(OutOfMemory)?;
        if need <= self.capacity() {
            return Ok(());
        }
        // Doubling stops at the largest capacity; `need` beyond it fails.
        let new_cap = self
            .capacity()
            .saturating_mul(2)
            .max(4)
            .min(u32::MAX as usize)
            .max(need);
        self.set_capacity(new_cap)
    }
    pub fn reserve_exact(&mut self, extra: usize) -> Result<(), OutOfMemory> {
        let need = self.len().checked_add(extra).ok_or(OutOfMemory)?;
        if need <= self.capacity() {
            return Ok(());
        }
        self.set_capacity(need)
    }
    #[inline]
    pub fn push(&mut self, v: T) -> Result<(), OutOfMemory> {
        if self.len == self.cap {
            self.reserve(1)?;
        }
        // SAFETY: len < cap after reserve.
        unsafe { self.ptr.as_ptr().add(self.len as usize).write(v) };
        self.len += 1;
        Ok(())
    }
    /// Push if there is room; false (and nothing stored) when full. Never allocates,
    /// so hot paths that checked the capacity pay no call.
    #[inline(always)]
    pub fn push_within_capacity(&mut self, v: T) -> bool {
        if self.len == self.cap {
            return false;
        }
        // SAFETY: len < cap.
        unsafe { self.ptr.as_ptr().add(self.len as usize).write(v) };
        self.len += 1;
        true
    }
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: index < old len, initialised.
        Some(unsafe { self.ptr.as_ptr().add(self.len as usize).read() })
    }
    pub fn extend_from_slice(&mut self, items: &[T]) -> Result<(), OutOfMemory> {
        self.reserve(items.len())?;
        // SAFETY: capacity reserved; source and destination do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), self.ptr.as_ptr().add(self.len()), items.len()) };
        self.len += items.len() as u32; // fits: at most the capacity
        Ok(())
    }
    /// Grow to `len` with copies of `fill`, or truncate.
    pub fn resize(&mut self, len: usize, fill: T) -> Result<(), OutOfMemory> {
        if len <= self.len() {
            self.len = len as u32;
            return Ok(());
        }
        self.reserve_exact(len - self.len())?;
        while self.len() < len {
            // SAFETY: capacity reserved above.
            unsafe { self.ptr.as_ptr().add(self.len()).write(fill) };
            self.len += 1;
        }
        Ok(())
    }
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.len = len as u32;
        }
    }
    pub fn clear(&mut self) {
        self.len = 0;
    }
    /// Give back unused capacity. Never fails; a refused shrink keeps the old block.
    pub fn shrink_to_fit(&mut self) {
        if self.cap > self.len {
            if self.len == 0 {
                self.free_storage();
            } else {
                let _ = self.set_capacity(self.len());
            }
        }
    }
    fn free_storage(&mut self) {
        if self.cap != 0 {
            if let Ok(layout) = Self::layout(self.capacity()) {
                // SAFETY: allocated from this heap with this layout.
                unsafe { self.heap.get().dealloc(self.ptr.cast(), layout) };
            }
            self.ptr = NonNull::dangling();
            self.cap = 0;
        }
    }
    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: ptr is valid for len initialised elements (dangling+0 is fine).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len()) }
    }
    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as above, and we hold &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len()) }
    }
}

impl<T: Copy> Drop for HVec<T> {
    fn drop(&mut self) {
        self.free_storage();
    }
}

impl<T: Copy> std::ops::Deref for HVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}
impl<T: Copy> std::ops::DerefMut for HVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounting_and_limit() {
        let heap = Box::new(Heap::new(Box::new(SystemAllocator)));
        let h = HeapRef::new(&heap);
        {
            let mut v: HVec<u64> = HVec::new(h);
            for i in 0..100 {
                v.push(i).unwrap();
            }
            assert_eq!(heap.used(), v.byte_size());
            heap.set_limit(heap.used());
            let before = v.len();
            while v.len() < v.capacity() {
                v.push(0).unwrap();
            }
            assert_eq!(v.push(1), Err(OutOfMemory));
            assert!(v.len() > before);
            assert_eq!(v[3], 3);
            heap.set_limit(usize::MAX);
            v.truncate(2);
            v.shrink_to_fit();
            assert_eq!(heap.used(), 16);
        }
        assert_eq!(heap.used(), 0);
        assert!(heap.peak() >= 800);
    }

    struct RefuseShrink;
    // SAFETY: forwards to the system allocator, refusing shrinks (allowed by contract).
    unsafe impl Allocator for RefuseShrink {
        fn alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
            SystemAllocator.alloc(layout)
        }
        unsafe fn realloc(&self, ptr: NonNull<u8>, old: Layout, new_size: usize) -> Option<NonNull<u8>> {
            if new_size < old.size() {
                return None;
            }
            // SAFETY: forwarded contract.
            unsafe { SystemAllocator.realloc(ptr, old, new_size) }
        }
        unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: Layout) {
            // SAFETY: forwarded contract.
            unsafe { SystemAllocator.dealloc(ptr, layout) }
        }
    }

    #[test]
    fn refused_shrink_keeps_block() {
        let heap = Box::new(Heap::new(Box::new(RefuseShrink)));
        let mut v: HVec<u32> = HVec::from_slice(HeapRef::new(&heap), &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        v.truncate(2);
        v.shrink_to_fit();
        assert_eq!(v.capacity(), 8);
        assert_eq!(&v[..], &[1, 2]);
        assert_eq!(heap.used(), 32);
        drop(v);
        assert_eq!(heap.used(), 0);
    }
}
