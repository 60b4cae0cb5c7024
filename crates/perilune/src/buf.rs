//! The growable byte buffer of the core: [`Buf`], and the cap on every string-sized
//! thing, [`MAX_STR`].
//!
//! Concatenation, `string.format`, `string.rep`/`gsub`, io reads, `tostring`
//! messages, chunk sources and the `string.buffer` object all build their bytes in a
//! `Buf`. It sits in the core, beside the allocator, so that the VM, the libraries
//! and later the JIT share one type (LuaJIT's `SBuf` plays this part).
//!
//! Invariants:
//! - Every byte is on the state's heap ([`HVec`]): accounted, and checked against the
//!   memory limit. Growing is fallible; shrinking never fails.
//! - The length never exceeds [`MAX_STR`]: a request for more is refused as out of
//!   memory, like a refused allocation, so a script asking for a huge string gets the
//!   ordinary "not enough memory" error.
//! - The layout is `#[repr(C)]` (data pointer, length, capacity, heap, as [`HVec`]
//!   lays them out) so that compiled code can load the fields.
//!
//! The `string.buffer` object (`stdlib/buffer.rs`) keeps a raw [`HVec`] instead: it
//! reads from an offset, so its block may hold a consumed prefix plus up to
//! [`MAX_STR`] live bytes, which the cap on a `Buf`'s whole length would refuse.

use crate::alloc::{HVec, HeapRef, OutOfMemory};

/// The longest string LuaJIT creates; longer results are "not enough memory".
pub const MAX_STR: usize = 0x7fff_ff00;

/// A growable byte buffer on the state's heap, capped at [`MAX_STR`].
#[repr(C)]
pub struct Buf {
    data: HVec<u8>,
}

impl Buf {
    /// Where the byte vector sits (`vm/layout.rs` adds its pointer and length).
    pub const DATA_OFFSET: usize = core::mem::offset_of!(Buf, data);
}

impl Buf {
    pub fn new(heap: HeapRef) -> Buf {
        Buf { data: HVec::new(heap) }
    }

    pub fn with_capacity(heap: HeapRef, cap: usize) -> Result<Buf, OutOfMemory> {
        if cap > MAX_STR {
            return Err(OutOfMemory);
        }
        Ok(Buf {
            data: HVec::with_capacity(heap, cap)?,
        })
    }

    /// Refuse a length over the cap before anything is allocated.
    fn check_len(len: usize) -> Result<(), OutOfMemory> {
        if len > MAX_STR {
            return Err(OutOfMemory);
        }
        Ok(())
    }

    pub fn extend(&mut self, b: &[u8]) -> Result<(), OutOfMemory> {
        Self::check_len(self.data.len().saturating_add(b.len()))?;
        self.data.extend_from_slice(b)
    }

    pub fn push(&mut self, b: u8) -> Result<(), OutOfMemory> {
        self.extend(&[b])
    }

    /// Append `n` copies of `b`.
    pub fn fill(&mut self, b: u8, n: usize) -> Result<(), OutOfMemory> {
        let len = self.data.len().saturating_add(n);
        Self::check_len(len)?;
        self.data.resize(len, b)
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn as_slice(&self) -> &[u8] {
        self.data.as_slice()
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.data.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::{Heap, SystemAllocator};

    #[test]
    fn grows_and_refuses_past_the_cap() {
        let heap = Box::new(Heap::new(Box::new(SystemAllocator)));
        let mut b = Buf::new(HeapRef::new(&heap));
        b.extend(b"ab").unwrap();
        b.push(b'c').unwrap();
        b.fill(b'-', 2).unwrap();
        assert_eq!(b.as_slice(), b"abc--");
        assert!(b.fill(b'x', MAX_STR).is_err());
        assert!(Buf::with_capacity(HeapRef::new(&heap), MAX_STR + 1).is_err());
        // A refused request leaves the contents alone.
        assert_eq!(b.as_slice(), b"abc--");
        assert!(b.extend(&[0; 16]).is_ok());
        assert_eq!(b.len(), 21);
    }

    #[test]
    fn layout_is_pointer_length_capacity_heap() {
        assert_eq!(std::mem::size_of::<Buf>(), 24);
        assert_eq!(std::mem::offset_of!(Buf, data), 0);
    }
}
