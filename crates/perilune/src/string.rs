//! Interned strings and the string table.
//!
//! Every Lua string is interned: two strings with the same bytes are the same object,
//! so string equality and table lookups by string key are pointer compares. A
//! [`GcStr`] holds its bytes inline after the struct (plus a NUL terminator, so
//! handing them to C later needs no copy).
//!
//! Invariants:
//! - The hash (in `hdr.aux`) is seeded per state (SipHash with random keys), so a
//!   script cannot predict collisions and flood a chain (DESIGN.md invariant 9).
//! - Strings are not on the collector's list of all objects: they are linked only into
//!   the string table's hash chains (through `hdr.next`), and the collector sweeps
//!   those chains. Removing a dead string is unlinking it, which never allocates.
//! - The bucket array grows only in [`StringTable::intern`] (ordinary execution). If
//!   growing fails the table keeps its buckets and longer chains; interning still works.

use crate::alloc::{HVec, Heap, HeapRef, OutOfMemory};
use crate::object::{GcHeader, GcRef, ObjKind};
use std::alloc::Layout;
use std::hash::{BuildHasher, Hasher};
use std::ptr::NonNull;

/// The smallest bucket array (also the initial one).
const MIN_BUCKETS: usize = 256;

/// A string object; `len` bytes follow the struct, then a NUL.
#[repr(C)]
pub struct GcStr {
    /// `aux` holds the hash; `flags` the reserved-word id for the lexer (0 = none).
    pub hdr: GcHeader,
    pub len: usize,
}

impl GcStr {
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes were written right after the struct at creation and are
        // never changed (strings are immutable).
        unsafe {
            let p = (self as *const GcStr as *const u8).add(std::mem::size_of::<GcStr>());
            std::slice::from_raw_parts(p, self.len)
        }
    }
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    #[inline(always)]
    pub fn hash(&self) -> u32 {
        self.hdr.aux
    }
    /// The bytes as UTF-8 text, with invalid sequences replaced (for messages).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
    /// Layout of a string of `len` bytes.
    pub fn layout(len: usize) -> Result<Layout, OutOfMemory> {
        let size = std::mem::size_of::<GcStr>()
            .checked_add(len)
            .and_then(|n| n.checked_add(1))
            .ok_or(OutOfMemory)?;
        Layout::from_size_align(size, 8).map_err(|_| OutOfMemory)
    }
}

/// The intern table: a hash of chains linked through the strings' headers.
pub struct StringTable {
    buckets: HVec<Option<GcRef<GcStr>>>,
    count: usize,
    /// SipHash with random keys; `None` (test builds, `table::fix_seeds`): fixed keys.
    hasher: Option<std::collections::hash_map::RandomState>,
}

impl StringTable {
    pub fn new(heap: HeapRef) -> Result<StringTable, OutOfMemory> {
        Ok(StringTable {
            buckets: HVec::filled(heap, MIN_BUCKETS, None)?,
            count: 0,
            hasher: (!crate::table::seeds_fixed()).then(std::collections::hash_map::RandomState::new),
        })
    }

    pub fn hash_bytes(&self, bytes: &[u8]) -> u32 {
        let mut h = self.hasher.as_ref().map_or_else(
            std::collections::hash_map::DefaultHasher::new,
            BuildHasher::build_hasher,
        );
        h.write(bytes);
        let x = h.finish();
        (x ^ (x >> 32)) as u32
    }

    #[cfg(any(test, feature = "internals"))]
    /// Number of interned strings.
    pub fn count(&self) -> usize {
        self.count
    }

    fn bucket_of(&self, hash: u32) -> usize {
        hash as usize & (self.buckets.len() - 1)
    }

    /// Find an existing string with these bytes.
    pub fn find(&self, bytes: &[u8], hash: u32) -> Option<GcRef<GcStr>> {
        let mut cur = self.buckets[self.bucket_of(hash)];
        while let Some(s) = cur {
            if s.hash() == hash && s.as_bytes() == bytes {
                return Some(s);
            }
            cur = s.hdr.next.map(|h| h.cast());
        }
        None
    }

    /// Intern `bytes`: return the existing string or allocate a new one with header
    /// colour `white`. `revive` is called on an existing string so the collector can
    /// rescue one that is about to be swept.
    pub fn intern(
        &mut self,
        heap: &Heap,
        bytes: &[u8],
        white: u8,
        revive: impl FnOnce(GcRef<GcStr>),
    ) -> Result<GcRef<GcStr>, OutOfMemory> {
        let hash = self.hash_bytes(bytes);
        if let Some(s) = self.find(bytes, hash) {
            revive(s);
            return Ok(s);
        }
        if self.count >= self.buckets.len() {
            self.resize(self.buckets.len() * 2);
        }
        let layout = GcStr::layout(bytes.len())?;
        let p = heap.alloc(layout)?.cast::<GcStr>();
        let b = self.bucket_of(hash);
        let mut hdr = GcHeader::new(ObjKind::Str);
        hdr.aux = hash;
        hdr.marked = white;
        hdr.next = self.buckets[b].map(|s| s.header());
        // SAFETY: `p` is a fresh block of `layout` bytes: the struct, `len` bytes, a NUL.
        unsafe {
            p.as_ptr().write(GcStr { hdr, len: bytes.len() });
            let data = (p.as_ptr() as *mut u8).add(std::mem::size_of::<GcStr>());
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len());
            data.add(bytes.len()).write(0);
        }
        let s = GcRef::from_raw(p);
        self.buckets[b] = Some(s);
        self.count += 1;
        Ok(s)
    }

    /// Halve the bucket array while it is less than a quarter full (housekeeping at a
    /// safe point, never inside a collector step: the string sweep walks buckets by
    /// index). A failed allocation leaves the table as it was.
    pub fn shrink_if_sparse(&mut self) {
        let mut n = self.buckets.len();
        while n > MIN_BUCKETS && self.count * 4 < n {
            n /= 2;
        }
        if n < self.buckets.len() {
            self.resize(n);
        }
    }

    /// Rehash into `n` buckets (a power of two). A failure leaves the table as it was
    /// (an optional allocation: no collection is owed for it).
    fn resize(&mut self, n: usize) {
        let heap = self.buckets.heap();
        let fresh = heap
            .get()
            .optional(|| HVec::<Option<GcRef<GcStr>>>::filled(heap, n, None));
        let Ok(mut fresh) = fresh else {
            return;
        };
        for i in 0..self.buckets.len() {
            let mut cur = self.buckets[i];
            while let Some(s) = cur {
                cur = s.hdr.next.map(|h| h.cast());
                let b = s.hash() as usize & (n - 1);
                s.get_mut().hdr.next = fresh[b].map(|x| x.header());
                fresh[b] = Some(s);
            }
        }
        self.buckets = fresh;
    }

    /// Number of buckets (for the collector's incremental sweep).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Sweep one bucket: unlink and free every string for which `is_dead` holds, and
    /// call `keep` on the others. Never allocates.
    pub fn sweep_bucket(
        &mut self,
        heap: &Heap,
        bucket: usize,
        mut is_dead: impl FnMut(GcRef<GcStr>) -> bool,
        mut keep: impl FnMut(GcRef<GcStr>),
    ) {
        let Some(slot) = self.buckets.get(bucket).copied() else {
            return;
        };
        let mut cur = slot;
        let mut prev: Option<GcRef<GcStr>> = None;
        while let Some(s) = cur {
            let next = s.hdr.next.map(|h| h.cast::<GcStr>());
            if is_dead(s) {
                match prev {
                    None => self.buckets[bucket] = next,
                    Some(p) => p.get_mut().hdr.next = next.map(|x| x.header()),
                }
                self.count -= 1;
                free_string(heap, s);
            } else {
                keep(s);
                prev = Some(s);
            }
            cur = next;
        }
    }

    /// Free every string (state close).
    pub fn free_all(&mut self, heap: &Heap) {
        for b in 0..self.buckets.len() {
            self.sweep_bucket(heap, b, |_| true, |_| {});
        }
    }

    #[cfg(any(test, feature = "internals"))]
    /// Bytes held by the bucket array.
    pub fn bucket_bytes(&self) -> usize {
        self.buckets.byte_size()
    }

    #[cfg(any(test, feature = "internals"))]
    /// Visit every interned string (for the heap verifier).
    pub fn for_each(&self, mut f: impl FnMut(GcRef<GcStr>)) {
        for b in self.buckets.iter() {
            let mut cur = *b;
            while let Some(s) = cur {
                f(s);
                cur = s.hdr.next.map(|h| h.cast());
            }
        }
    }
}

fn free_string(heap: &Heap, s: GcRef<GcStr>) {
    if let Ok(layout) = GcStr::layout(s.len) {
        // SAFETY: the string was allocated by `intern` with exactly this layout and has
        // just been unlinked from its chain; nothing else owns it.
        unsafe { heap.dealloc(NonNull::new_unchecked(s.as_ptr() as *mut u8), layout) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::SystemAllocator;

    #[test]
    fn interning_is_identity_and_survives_growth() {
        let heap = Box::new(Heap::new(Box::new(SystemAllocator)));
        let mut st = StringTable::new(HeapRef::new(&heap)).unwrap();
        let a = st.intern(&heap, b"hello", 1, |_| {}).unwrap();
        let b = st.intern(&heap, b"hello", 1, |_| {}).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_bytes(), b"hello");
        let mut all = Vec::new();
        for i in 0..2000 {
            all.push(st.intern(&heap, format!("s{i}").as_bytes(), 1, |_| {}).unwrap());
        }
        assert!(st.bucket_count() >= 2000);
        for (i, s) in all.iter().enumerate() {
            assert_eq!(st.find(format!("s{i}").as_bytes(), s.hash()), Some(*s));
        }
        assert_eq!(st.count(), 2001);
        st.free_all(&heap);
        assert_eq!(st.count(), 0);
        drop(st);
        assert_eq!(heap.used(), 0);
    }

    #[test]
    fn intern_fails_cleanly_at_limit() {
        let heap = Box::new(Heap::new(Box::new(SystemAllocator)));
        let mut st = StringTable::new(HeapRef::new(&heap)).unwrap();
        heap.set_limit(heap.used() + 10);
        assert_eq!(
            st.intern(&heap, b"a long string that does not fit", 1, |_| {}).err(),
            Some(OutOfMemory)
        );
        assert_eq!(st.count(), 0);
        heap.set_limit(usize::MAX);
        st.free_all(&heap);
    }
}
