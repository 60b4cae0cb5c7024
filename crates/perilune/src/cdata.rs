//! C data objects (`type(x) == "cdata"`): a ctype id and a payload of C bytes, owned
//! by the collector (design: FFI.md "Objects"; docs/ffi.md).
//!
//! Layout of one block (16-aligned, allocated from the state's heap):
//!
//! ```text
//!   [ CdataFin (16 bytes) ]   only with `flags & REF`: finalizer slot + chain link
//!   [ GcCdata  (32 bytes) ]   header (aux = ctype id), payload length
//!   [ payload  (len bytes) ]  16-aligned
//! ```
//!
//! Invariants:
//! - `GcRef<GcCdata>` points at the header, never at the block start; the prefix is
//!   at a fixed negative offset, the payload at a fixed positive one, so freeing
//!   needs only the header (`flags`, `len`), never the type table.
//! - Only cdata made with [`CDATA_REF`] (pointers, structs, unions, arrays: what
//!   `ffi.gc` accepts) have the prefix. Its `fin` is a value the collector marks when
//!   it traverses the object; its `link` is the `finobj`/due chain (`gc/mod.rs`),
//!   used only while [`CDATA_ONCHAIN`] is set.
//! - The payload's bytes are never interpreted here: the FFI (`ffi/`) owns what they
//!   mean.
use std::alloc::Layout;
use std::ptr::NonNull;

use crate::alloc::{Heap, OutOfMemory};
use crate::object::{GcHeader, GcRef, ObjKind};
use crate::value::Value;

/// `GcHeader::flags`: the block has the finalizer prefix.
pub const CDATA_REF: u8 = 1 << 0;
/// `GcHeader::flags`: linked on the collector's `finobj` or due chain.
pub const CDATA_ONCHAIN: u8 = 1 << 1;

/// The object header of C data.
#[repr(C)]
pub struct GcCdata {
    /// `aux` is the ctype id.
    pub hdr: GcHeader,
    /// Payload bytes.
    pub len: u32,
    _pad: u32,
}

/// The finalizer prefix of reference-kind cdata.
#[repr(C)]
pub struct CdataFin {
    pub fin: Value,
    pub link: Option<GcRef<GcCdata>>,
}

const PREFIX: usize = std::mem::size_of::<CdataFin>();
const ALIGN: usize = 16;
const _: () = assert!(PREFIX == 16 && std::mem::size_of::<GcCdata>() == 32);

fn layout(len: usize, with_fin: bool) -> Option<Layout> {
    let size = std::mem::size_of::<GcCdata>()
        .checked_add(len)?
        .checked_add(if with_fin { PREFIX } else { 0 })?;
    Layout::from_size_align(size, ALIGN).ok()
}

impl GcCdata {
    /// Allocate an unlinked cdata of type `ctid` with `len` zeroed payload bytes. The
    /// caller links it into the collector (`Gc::adopt`) before the next safe point.
    pub fn alloc(heap: &Heap, ctid: u32, len: usize, with_fin: bool) -> Result<GcRef<GcCdata>, OutOfMemory> {
        let len32 = u32::try_from(len).map_err(|_| OutOfMemory)?;
        let lay = layout(len, with_fin).ok_or(OutOfMemory)?;
        let p = heap.alloc(lay)?;
        let off = if with_fin { PREFIX } else { 0 };
        // SAFETY: `p` is a fresh block of `lay.size()` bytes, 16-aligned; the prefix,
        // the header and the payload all lie inside it at the offsets of the layout.
        unsafe {
            std::ptr::write_bytes(p.as_ptr(), 0, lay.size());
            if with_fin {
                p.as_ptr().cast::<CdataFin>().write(CdataFin {
                    fin: Value::NIL,
                    link: None,
                });
            }
            let h = p.as_ptr().add(off).cast::<GcCdata>();
            let mut hdr = GcHeader::new(ObjKind::Cdata);
            hdr.aux = ctid;
            hdr.flags = if with_fin { CDATA_REF } else { 0 };
            h.write(GcCdata {
                hdr,
                len: len32,
                _pad: 0,
            });
            Ok(GcRef::from_raw(NonNull::new_unchecked(h)))
        }
    }

    /// The ctype id.
    #[inline(always)]
    pub fn ctid(&self) -> u32 {
        self.hdr.aux
    }

    #[inline(always)]
    pub fn has_fin_slot(&self) -> bool {
        self.hdr.flags & CDATA_REF != 0
    }

    /// Bytes of the block (prefix, header and payload).
    pub fn block_size(&self) -> usize {
        layout(self.len as usize, self.has_fin_slot()).map_or(0, |l| l.size())
    }

    /// The payload's first byte.
    #[inline(always)]
    pub fn payload(c: GcRef<GcCdata>) -> *mut u8 {
        // SAFETY: the payload starts right after the header struct, inside the block.
        unsafe { c.as_ptr().cast::<u8>().add(std::mem::size_of::<GcCdata>()) }
    }

    /// The payload as a slice.
    #[inline(always)]
    pub fn bytes<'a>(c: GcRef<GcCdata>) -> &'a mut [u8] {
        // SAFETY: `len` bytes of payload follow the header (module invariants); the
        // VM is single-threaded and callers do not hold two of these at once.
        unsafe { std::slice::from_raw_parts_mut(GcCdata::payload(c), c.len as usize) }
    }

    /// The finalizer prefix, if the object has one.
    #[inline(always)]
    pub fn fin<'a>(c: GcRef<GcCdata>) -> Option<&'a mut CdataFin> {
        if !c.has_fin_slot() {
            return None;
        }
        // SAFETY: with CDATA_REF the prefix lies right before the header, in the same
        // block (module invariants).
        Some(unsafe { &mut *c.as_ptr().cast::<u8>().sub(PREFIX).cast::<CdataFin>() })
    }

    /// Free the block.
    ///
    /// # Safety
    /// `o` is a cdata made by [`GcCdata::alloc`] from `heap`, unlinked and unreachable.
    pub unsafe fn free(heap: &Heap, o: GcRef<GcHeader>) {
        let c = o.cast::<GcCdata>();
        let with_fin = c.has_fin_slot();
        let Some(lay) = layout(c.len as usize, with_fin) else {
            return;
        };
        let off = if with_fin { PREFIX } else { 0 };
        // SAFETY: caller contract; the block starts `off` bytes before the header.
        unsafe {
            let p = c.as_ptr().cast::<u8>().sub(off);
            heap.dealloc(NonNull::new_unchecked(p), lay);
        }
    }
}
