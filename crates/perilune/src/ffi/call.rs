//! Calls into C through libffi (docs/ffi.md, "Calls"): call descriptors built from
//! function ctypes, cached per function type (per signature for varargs), and the
//! call itself given a code pointer and arguments already in C representation.
//!
//! Owns: the descriptors (`ffi_cif` and its argument-type array, one accounted block
//! each), the libffi descriptions of aggregates passed by value (one accounted block
//! per struct or union type, shared by every descriptor using it). [`call`] borrows
//! nothing mutably, so a callback running during a call can make descriptors and
//! call C again (re-entrancy through callbacks).
//!
//! Invariants:
//! - Every block is allocated from the state's heap and freed when the cache is
//!   dropped (at close), never earlier: a [`DescRef`] stays valid as long as its
//!   [`CallCache`] lives, and libffi closures (callback.rs) point into descriptors.
//! - A descriptor is only made for a signature libffi lays out exactly as the type
//!   table does: every aggregate's libffi size and alignment are checked against
//!   ours after `ffi_prep_cif`; a mismatch is `NYI`, never a wrong call.
//! - Nothing here panics. Out of memory is [`CallError::Oom`] (the Lua error `not
//!   enough memory`), and the cache is left as it was.
//!
//! Aggregates by value: libffi computes a struct's layout itself from a list of
//! member types, so the table's layout (packed members, `aligned(n)`, bitfields,
//! unions) cannot be handed over member by member. Instead an aggregate of up to 16
//! bytes is described by the classes of its eightbytes as the x86-64 System V ABI
//! defines them: an eightbyte holding only `float`/`double` bytes becomes one
//! `double` or two `float`s, any other becomes integer pieces of the aggregate's
//! alignment. That reproduces the size, the alignment and the registers the C
//! compiler uses. A larger aggregate goes through memory whatever its members, and
//! is described as integer pieces grouped in power-of-two chunks (a logarithmic
//! number of libffi types, so a 1 MB struct costs a few hundred bytes).
use super::callback::CallbackHandle;
use super::ctype::{flags, CKind, CType, CTypeId, CTypeTable, SIZE_UNKNOWN};
use crate::alloc::{HVec, Heap, HeapRef, OutOfMemory};
use crate::errmsg;
use crate::value::Value;
use crate::vm::error::Throw;
use libffi_sys as lf;
use std::alloc::Layout;
use std::cell::Cell;
use std::ffi::{c_int, c_uint, c_void};
use std::ptr::{self, NonNull};

/// Why no descriptor could be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The heap refused (`not enough memory`).
    Oom,
    /// A signature libffi or this layer cannot call (LuaJIT's NYI message).
    Nyi,
    /// Not a function type, or a parameter of a type no value has (`void`, an
    /// incomplete struct, a variable-length type): `invalid C type`.
    BadType,
}

impl CallError {
    /// The error message, in LuaJIT's words.
    pub fn message(self) -> &'static str {
        match self {
            CallError::Oom => errmsg::NOMEM,
            CallError::Nyi => errmsg::FFI_CALL_NYI,
            CallError::BadType => errmsg::FFI_INVALID_TYPE,
        }
    }
}

impl From<OutOfMemory> for CallError {
    fn from(_: OutOfMemory) -> Self {
        CallError::Oom
    }
}

/// Deepest nesting of aggregates the classifier follows (the declaration parser
/// bounds nesting already; this is a second bound, not a limit users meet).
const MAX_NESTING: u32 = 64;

/// How a call returns its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetKind {
    Void,
    /// An integer (also `_Bool`, enums) of `size` bytes.
    Int {
        size: u32,
        signed: bool,
    },
    Float {
        size: u32,
    },
    Ptr,
    /// A struct, union or complex number of `size` bytes.
    Aggregate {
        size: u32,
    },
}

/// A prepared call descriptor. Lives in one accounted block: this header, then the
/// argument-type array libffi reads, then the vararg types (the cache key).
#[repr(C)]
pub struct CallDesc {
    cif: lf::ffi_cif,
    func: CTypeId,
    ret: CTypeId,
    ret_kind: RetKind,
    nfixed: u32,
    nargs: u32,
    block: usize,
}

/// A descriptor of a [`CallCache`]; valid while the cache lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DescRef(NonNull<CallDesc>);

impl DescRef {
    fn get(&self) -> &CallDesc {
        // SAFETY: descriptors are freed only when their cache is dropped, and a
        // `DescRef` is only used while its cache lives (type invariant).
        unsafe { self.0.as_ref() }
    }
    /// The function type it was made for.
    pub fn func(&self) -> CTypeId {
        self.get().func
    }
    /// The result type (typedefs and qualifiers resolved away).
    pub fn ret(&self) -> CTypeId {
        self.get().ret
    }
    pub fn ret_kind(&self) -> RetKind {
        self.get().ret_kind
    }
    /// Declared parameters.
    pub fn nfixed(&self) -> usize {
        self.get().nfixed as usize
    }
    /// Declared parameters plus varargs.
    pub fn nargs(&self) -> usize {
        self.get().nargs as usize
    }
    /// Bytes the result buffer of [`CallCache::call`] must have (at least a
    /// register: libffi widens small integer results), 8-aligned.
    pub fn ret_buffer_size(&self) -> usize {
        match self.get().ret_kind {
            RetKind::Aggregate { size } => (size as usize).max(8).next_multiple_of(8),
            RetKind::Float { size } => (size as usize).max(8),
            _ => 8,
        }
    }
    pub(crate) fn cif(&self) -> *mut lf::ffi_cif {
        self.0.as_ptr().cast()
    }
    fn vararg_types(&self) -> &[CTypeId] {
        let d = self.get();
        let n = (d.nargs - d.nfixed) as usize;
        // SAFETY: the block holds `nargs - nfixed` ids at `vararg_offset` (built so by
        // `CallCache::build`), alive while the cache is.
        unsafe {
            let base = self.0.as_ptr().cast::<u8>().add(vararg_offset(d.nargs as usize));
            std::slice::from_raw_parts(base.cast::<CTypeId>(), n)
        }
    }
}

fn arg_types_offset() -> usize {
    size_of::<CallDesc>().next_multiple_of(align_of::<*mut lf::ffi_type>())
}
fn vararg_offset(nargs: usize) -> usize {
    arg_types_offset() + nargs * size_of::<*mut lf::ffi_type>()
}

/// One slot of the descriptor index (open addressing; `desc` null: empty).
#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    desc: *mut CallDesc,
}

/// An aggregate's libffi description: `types` libffi types, then the element arrays.
#[derive(Clone, Copy)]
struct Agg {
    id: CTypeId,
    block: NonNull<u8>,
    layout: Layout,
    /// Our size and alignment, to check libffi's against.
    size: u32,
    align: u32,
}

/// The errno a state's C calls see (`ffi.errno`): saved after every call, restored
/// before the next.
#[derive(Default, Debug)]
pub struct Errno(Cell<c_int>);

impl Errno {
    /// The errno the last C call left (`ffi.errno()`).
    pub fn get(&self) -> c_int {
        self.0.get()
    }
    /// Set the errno the next C call starts with (`ffi.errno(n)`).
    pub fn set(&self, e: c_int) {
        self.0.set(e);
    }
}

/// The descriptor cache of a state.
pub struct CallCache {
    heap: HeapRef,
    index: HVec<Slot>,
    count: usize,
    aggs: HVec<Agg>,
}

/// Resolve typedefs and qualifier records.
pub fn resolve(t: &CTypeTable, mut id: CTypeId) -> CTypeId {
    for _ in 0..MAX_NESTING * 4 {
        match t.get(id).kind {
            CKind::Typedef | CKind::Qual => id = t.get(id).child,
            _ => return id,
        }
    }
    id
}

fn key_hash(func: CTypeId, varargs: &[CTypeId]) -> u32 {
    let mut h = func.0.wrapping_mul(0x9e37_79b1) ^ varargs.len() as u32;
    for v in varargs {
        h = (h ^ v.0).wrapping_mul(0x85eb_ca6b).rotate_left(13);
    }
    h
}

/// A libffi scalar type.
fn scalar(t: &lf::ffi_type) -> *mut lf::ffi_type {
    ptr::from_ref(t).cast_mut()
}

macro_rules! lf_type {
    ($name:ident) => {
        // SAFETY: taking the address of libffi's immutable-in-practice type
        // descriptors; libffi only reads the scalar ones.
        scalar(unsafe { &*ptr::addr_of!(lf::$name) })
    };
}

fn int_type(size: u32, signed: bool) -> Option<*mut lf::ffi_type> {
    Some(match (size, signed) {
        (1, true) => lf_type!(ffi_type_sint8),
        (1, false) => lf_type!(ffi_type_uint8),
        (2, true) => lf_type!(ffi_type_sint16),
        (2, false) => lf_type!(ffi_type_uint16),
        (4, true) => lf_type!(ffi_type_sint32),
        (4, false) => lf_type!(ffi_type_uint32),
        (8, true) => lf_type!(ffi_type_sint64),
        (8, false) => lf_type!(ffi_type_uint64),
        _ => return None,
    })
}

/// What a parameter or result is, for libffi.
enum Shape {
    Void,
    Scalar(*mut lf::ffi_type, RetKind),
    Aggregate(CTypeId, u32, u32),
}

fn shape(t: &CTypeTable, id: CTypeId) -> Result<Shape, CallError> {
    let id = resolve(t, id);
    let c = t.get(id);
    let signed = c.flags & flags::UNSIGNED == 0;
    Ok(match c.kind {
        CKind::Void => Shape::Void,
        CKind::Int if c.flags & flags::BOOL != 0 => {
            Shape::Scalar(lf_type!(ffi_type_uint8), RetKind::Int { size: 1, signed: false })
        }
        CKind::Int => {
            let ty = int_type(c.size, signed).ok_or(CallError::Nyi)?;
            Shape::Scalar(ty, RetKind::Int { size: c.size, signed })
        }
        CKind::Enum => {
            let u = resolve(t, c.child);
            let (size, signed) = if u.is_none() {
                (c.size, signed)
            } else {
                let uc = t.get(u);
                (uc.size, uc.flags & flags::UNSIGNED == 0)
            };
            let ty = int_type(size, signed).ok_or(CallError::BadType)?;
            Shape::Scalar(ty, RetKind::Int { size, signed })
        }
        CKind::Float if c.flags & flags::COMPLEX != 0 => aggregate(c, id)?,
        CKind::Float => match c.size {
            4 => Shape::Scalar(lf_type!(ffi_type_float), RetKind::Float { size: 4 }),
            8 => Shape::Scalar(lf_type!(ffi_type_double), RetKind::Float { size: 8 }),
            16 => Shape::Scalar(lf_type!(ffi_type_longdouble), RetKind::Float { size: 16 }),
            _ => return Err(CallError::Nyi),
        },
        CKind::Ptr | CKind::Ref | CKind::Func => Shape::Scalar(lf_type!(ffi_type_pointer), RetKind::Ptr),
        CKind::Struct | CKind::Union => aggregate(c, id)?,
        _ => return Err(CallError::BadType),
    })
}

fn aggregate(c: &CType, id: CTypeId) -> Result<Shape, CallError> {
    if c.flags & (flags::INCOMPLETE | flags::VLA) != 0 || c.size == SIZE_UNKNOWN || c.size == 0 {
        return Err(CallError::BadType);
    }
    Ok(Shape::Aggregate(id, c.size, c.alignment()))
}

/// Byte classes of an aggregate of at most 16 bytes.
const PAD: u8 = 0;
const INT: u8 = 1;
const SSE: u8 = 2;

/// Mark the bytes of the value of type `id` at `off` in `map` (bytes past 16 are
/// ignored: only aggregates of up to 16 bytes are classified).
fn classify(t: &CTypeTable, id: CTypeId, off: u64, map: &mut [u8; 16], depth: u32) -> Result<(), CallError> {
    if depth > MAX_NESTING || off >= 16 {
        return if off >= 16 { Ok(()) } else { Err(CallError::Nyi) };
    }
    let id = resolve(t, id);
    let c = t.get(id);
    let mut mark = |off: u64, size: u64, class: u8| -> Result<(), CallError> {
        // A member the ABI would not align naturally (packed) puts the aggregate in
        // memory in gcc's classification; libffi cannot express that.
        if size == 0 || !off.is_multiple_of(size.min(8)) {
            return Err(CallError::Nyi);
        }
        for b in off..(off + size).min(16) {
            let m = &mut map[b as usize];
            *m = if *m == INT || class == INT { INT } else { SSE };
        }
        Ok(())
    };
    match c.kind {
        CKind::Int | CKind::Enum | CKind::Ptr => mark(off, c.size as u64, INT),
        CKind::Float if c.flags & flags::COMPLEX != 0 => {
            let half = c.size as u64 / 2;
            if half > 8 {
                return Err(CallError::Nyi);
            }
            mark(off, half, SSE)?;
            mark(off + half, half, SSE)
        }
        CKind::Float if c.size <= 8 => mark(off, c.size as u64, SSE),
        CKind::Struct | CKind::Union => {
            let mut m = c.first;
            while !m.is_none() {
                let f = t.get(m);
                match f.kind {
                    CKind::Field => classify(t, f.child, off + f.value as u64, map, depth + 1)?,
                    CKind::BitField => {
                        let (lo, hi) = (f.value as u64 / 8, (f.value as u64 + f.bits as u64).div_ceil(8));
                        for b in (off + lo)..(off + hi).min(16) {
                            map[b as usize] = INT;
                        }
                    }
                    _ => {}
                }
                m = f.next;
            }
            Ok(())
        }
        CKind::Array if c.flags & flags::VLA == 0 => {
            let es = t.get(resolve(t, c.child)).size as u64;
            if es == 0 || es == SIZE_UNKNOWN as u64 {
                return Err(CallError::BadType);
            }
            let mut o = off;
            for _ in 0..c.value.clamp(0, 16) {
                classify(t, c.child, o, map, depth + 1)?;
                o += es;
            }
            Ok(())
        }
        _ => Err(CallError::Nyi),
    }
}

/// The libffi element list of an aggregate: `pieces` of at most 16, or chunks.
enum Plan {
    /// Up to 16 elements (each a scalar libffi type).
    Small { elems: [*mut lf::ffi_type; 16], n: usize },
    /// `count` integer pieces of `piece`, in power-of-two chunks.
    Large { piece: *mut lf::ffi_type, count: u32 },
}

fn plan(t: &CTypeTable, id: CTypeId, size: u32, align: u32) -> Result<Plan, CallError> {
    if align > 8 || !size.is_multiple_of(align) {
        return Err(CallError::Nyi);
    }
    let piece = int_type(align, false).ok_or(CallError::Nyi)?;
    if size > 16 {
        return Ok(Plan::Large {
            piece,
            count: size / align,
        });
    }
    let mut map = [PAD; 16];
    classify(t, id, 0, &mut map, 0)?;
    let mut elems = [ptr::null_mut(); 16];
    let mut n = 0;
    let mut e = 0;
    while e < size {
        let m = (size - e).min(8);
        let sse = map[e as usize..(e + m) as usize].iter().all(|&b| b != INT)
            && map[e as usize..(e + m) as usize].contains(&SSE);
        let (ty, each) = match (sse, align) {
            (true, 8) => (lf_type!(ffi_type_double), 8),
            (true, 4) => (lf_type!(ffi_type_float), 4),
            (true, _) => return Err(CallError::Nyi),
            (false, a) => (piece, a),
        };
        for _ in 0..m / each {
            elems[n] = ty;
            n += 1;
        }
        e += m;
    }
    Ok(Plan::Small { elems, n })
}

impl Plan {
    /// (libffi types, element-array slots) the description needs.
    fn counts(&self) -> (usize, usize) {
        match self {
            Plan::Small { n, .. } => (1, n + 1),
            Plan::Large { count, .. } => {
                let k = (u32::BITS - 1 - count.leading_zeros()) as usize;
                (1 + k, 3 * k + count.count_ones() as usize + 1)
            }
        }
    }
}

impl CallCache {
    /// An empty cache allocating from `heap`.
    pub fn new(heap: &Heap) -> CallCache {
        let h = HeapRef::new(heap);
        CallCache {
            heap: h,
            index: HVec::new(h),
            count: 0,
            aggs: HVec::new(h),
        }
    }

    /// Bytes of heap the cache holds.
    pub fn byte_size(&self) -> usize {
        let mut n = self.index.byte_size() + self.aggs.byte_size();
        for s in self.index.iter().filter(|s| !s.desc.is_null()) {
            // SAFETY: a non-null slot names a live descriptor of this cache.
            n += unsafe { (*s.desc).block };
        }
        n + self.aggs.iter().map(|a| a.layout.size()).sum::<usize>()
    }

    fn find(&self, func: CTypeId, varargs: &[CTypeId], hash: u32) -> Option<DescRef> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let s = self.index[i];
            if s.desc.is_null() {
                return None;
            }
            if s.hash == hash {
                // SAFETY: non-null slots name live descriptors.
                let d = DescRef(unsafe { NonNull::new_unchecked(s.desc) });
                if d.func() == func && d.vararg_types() == varargs {
                    return Some(d);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The descriptor for calling a function of type `func` (a function type, or a
    /// pointer to one, through typedefs) with `varargs` extra arguments of those types
    /// (already promoted: `double`, not `float`; `int`, not `char`). Made on first
    /// use and cached.
    pub fn desc(&mut self, t: &CTypeTable, func: CTypeId, varargs: &[CTypeId]) -> Result<DescRef, CallError> {
        let mut f = resolve(t, func);
        if t.get(f).kind == CKind::Ptr {
            f = resolve(t, t.get(f).child);
        }
        let fc = *t.get(f);
        if fc.kind != CKind::Func || (!varargs.is_empty() && fc.flags & flags::VARARG == 0) {
            return Err(CallError::BadType);
        }
        let hash = key_hash(f, varargs);
        if let Some(d) = self.find(f, varargs, hash) {
            return Ok(d);
        }
        // Room in the index first, so that a made descriptor always gets a slot.
        if (self.count + 1) * 2 > self.index.len() {
            self.grow_index()?;
        }
        let d = self.build(t, f, &fc, varargs)?;
        let mask = self.index.len() - 1;
        let mut i = hash as usize & mask;
        while !self.index[i].desc.is_null() {
            i = (i + 1) & mask;
        }
        self.index[i] = Slot {
            hash,
            desc: d.0.as_ptr(),
        };
        self.count += 1;
        Ok(d)
    }

    fn grow_index(&mut self) -> Result<(), OutOfMemory> {
        let n = (self.index.len() * 2).max(16);
        let mut fresh = HVec::filled(
            self.heap,
            n,
            Slot {
                hash: 0,
                desc: ptr::null_mut(),
            },
        )?;
        for s in self.index.iter().filter(|s| !s.desc.is_null()) {
            let mut i = s.hash as usize & (n - 1);
            while !fresh[i].desc.is_null() {
                i = (i + 1) & (n - 1);
            }
            fresh[i] = *s;
        }
        self.index = fresh;
        Ok(())
    }

    /// The libffi type of a parameter or result.
    fn ffi_type(&mut self, t: &CTypeTable, id: CTypeId) -> Result<(*mut lf::ffi_type, RetKind), CallError> {
        match shape(t, id)? {
            Shape::Void => Ok((lf_type!(ffi_type_void), RetKind::Void)),
            Shape::Scalar(ty, k) => Ok((ty, k)),
            Shape::Aggregate(id, size, align) => Ok((self.aggregate(t, id, size, align)?, RetKind::Aggregate { size })),
        }
    }

    /// The cached libffi description of an aggregate, made on first use.
    fn aggregate(
        &mut self,
        t: &CTypeTable,
        id: CTypeId,
        size: u32,
        align: u32,
    ) -> Result<*mut lf::ffi_type, CallError> {
        if let Some(a) = self.aggs.iter().find(|a| a.id == id) {
            return Ok(a.block.as_ptr().cast());
        }
        let plan = plan(t, id, size, align)?;
        let (ntypes, nslots) = plan.counts();
        let types_bytes = ntypes * size_of::<lf::ffi_type>();
        let layout = Layout::from_size_align(
            types_bytes + nslots * size_of::<*mut lf::ffi_type>(),
            align_of::<lf::ffi_type>(),
        )
        .map_err(|_| CallError::Oom)?;
        self.aggs.reserve(1)?;
        let block = self.heap.get().alloc(layout)?;
        // SAFETY: `block` is a fresh block of `layout`: `ntypes` libffi types followed
        // by `nslots` pointers, both aligned (a libffi type is pointer-aligned and its
        // size a multiple of a pointer). Every write below stays inside it.
        unsafe {
            let types = block.as_ptr().cast::<lf::ffi_type>();
            let slots = block.as_ptr().add(types_bytes).cast::<*mut lf::ffi_type>();
            let mk = |i: usize, elems: *mut *mut lf::ffi_type| {
                types.add(i).write(lf::ffi_type {
                    size: 0,
                    alignment: 0,
                    type_: lf::FFI_TYPE_STRUCT,
                    elements: elems,
                });
            };
            match plan {
                Plan::Small { elems, n } => {
                    ptr::copy_nonoverlapping(elems.as_ptr(), slots, n);
                    slots.add(n).write(ptr::null_mut());
                    mk(0, slots);
                }
                Plan::Large { piece, count } => {
                    // types[j] for j >= 1 is a chunk of 2^j pieces: two chunks of 2^(j-1).
                    let k = (u32::BITS - 1 - count.leading_zeros()) as usize;
                    let chunk = |j: usize| if j == 0 { piece } else { types.add(j) };
                    for j in 1..=k {
                        let s = slots.add(3 * (j - 1));
                        s.write(chunk(j - 1));
                        s.add(1).write(chunk(j - 1));
                        s.add(2).write(ptr::null_mut());
                        mk(j, s);
                    }
                    let top = slots.add(3 * k);
                    let mut n = 0;
                    for j in (0..=k).rev() {
                        if count & (1 << j) != 0 {
                            top.add(n).write(chunk(j));
                            n += 1;
                        }
                    }
                    top.add(n).write(ptr::null_mut());
                    mk(0, top);
                }
            }
        }
        self.aggs.push_within_capacity(Agg {
            id,
            block,
            layout,
            size,
            align,
        });
        Ok(block.as_ptr().cast())
    }

    /// Make (not cache) the descriptor of `f`.
    fn build(&mut self, t: &CTypeTable, f: CTypeId, fc: &CType, varargs: &[CTypeId]) -> Result<DescRef, CallError> {
        let (rtype, ret_kind) = self.ffi_type(t, fc.child)?;
        let ret = resolve(t, fc.child);
        let mut nfixed = 0usize;
        let mut p = fc.first;
        while !p.is_none() {
            nfixed += 1;
            p = t.get(p).next;
        }
        let nargs = nfixed + varargs.len();
        let size = vararg_offset(nargs) + size_of_val(varargs);
        let layout = Layout::from_size_align(size, align_of::<CallDesc>()).map_err(|_| CallError::Oom)?;
        let (Ok(nf), Ok(na)) = (c_uint::try_from(nfixed), c_uint::try_from(nargs)) else {
            return Err(CallError::Nyi);
        };
        // Argument types first (they may allocate aggregate descriptions), into the
        // block once it exists; the block is freed again on any error.
        let block = self.heap.get().alloc(layout)?;
        let free = |cache: &CallCache| {
            // SAFETY: `block` was allocated above with `layout` and is not used again.
            unsafe { cache.heap.get().dealloc(block, layout) }
        };
        // SAFETY: the block has room for `nargs` type pointers at `arg_types_offset`
        // and `varargs.len()` ids after them (its size is computed so).
        let arg_types = unsafe { block.as_ptr().add(arg_types_offset()).cast::<*mut lf::ffi_type>() };
        let mut p = fc.first;
        let mut i = 0;
        while !p.is_none() {
            let param = t.get(p);
            // A `void` parameter can only come from a malformed type.
            let ty = match self.ffi_type(t, param.child) {
                Ok((_, RetKind::Void)) => Err(CallError::BadType),
                Ok((ty, _)) => Ok(ty),
                Err(e) => Err(e),
            };
            match ty {
                // SAFETY: `i < nfixed <= nargs`, inside the array.
                Ok(ty) => unsafe { arg_types.add(i).write(ty) },
                Err(e) => {
                    free(self);
                    return Err(e);
                }
            }
            i += 1;
            p = param.next;
        }
        for (j, &v) in varargs.iter().enumerate() {
            let vc = t.get(resolve(t, v));
            let unpromoted = (vc.kind == CKind::Float && vc.size < 8 && vc.flags & flags::COMPLEX == 0)
                || (matches!(vc.kind, CKind::Int | CKind::Enum) && vc.size < 4);
            let ty = match self.ffi_type(t, v) {
                Ok((_, RetKind::Void)) => Err(CallError::BadType),
                Ok(_) if unpromoted => Err(CallError::BadType),
                Ok((ty, _)) => Ok(ty),
                Err(e) => Err(e),
            };
            match ty {
                // SAFETY: `nfixed + j < nargs`; the id array follows the type array.
                Ok(ty) => unsafe {
                    arg_types.add(nfixed + j).write(ty);
                    let ids = block.as_ptr().add(vararg_offset(nargs)).cast::<CTypeId>();
                    ids.add(j).write(v);
                },
                Err(e) => {
                    free(self);
                    return Err(e);
                }
            }
        }
        let desc = block.as_ptr().cast::<CallDesc>();
        // SAFETY: `desc` is the start of the block, aligned for `CallDesc`, and the
        // argument-type array it points to lives in the same block, as long as it.
        let status = unsafe {
            desc.write(CallDesc {
                // SAFETY: an all-zero cif is a valid value; libffi fills it in.
                cif: std::mem::zeroed(),
                func: f,
                ret,
                ret_kind,
                nfixed: nf,
                nargs: na,
                block: size,
            });
            let cif = ptr::addr_of_mut!((*desc).cif);
            if fc.flags & flags::VARARG != 0 {
                lf::ffi_prep_cif_var(cif, lf::ffi_abi_FFI_DEFAULT_ABI, nf, na, rtype, arg_types)
            } else {
                lf::ffi_prep_cif(cif, lf::ffi_abi_FFI_DEFAULT_ABI, na, rtype, arg_types)
            }
        };
        // SAFETY: the result type and the `nargs` argument types were written above.
        let laid_out = self.matches(rtype) && (0..nargs).all(|i| self.matches(unsafe { *arg_types.add(i) }));
        if status != lf::ffi_status_FFI_OK || !laid_out {
            free(self);
            return Err(CallError::Nyi);
        }
        // SAFETY: `desc` is non-null (inside `block`).
        Ok(DescRef(unsafe { NonNull::new_unchecked(desc) }))
    }

    /// Whether libffi laid `ty` out as the table does (scalars: always). An aggregate
    /// that fails stays cached and fails every descriptor using it, only those.
    fn matches(&self, ty: *mut lf::ffi_type) -> bool {
        match self.aggs.iter().find(|a| a.block.as_ptr().cast() == ty) {
            Some(a) => {
                // SAFETY: the block starts with the aggregate's libffi type, laid out
                // by the `ffi_prep_cif` that just used it.
                let ty = unsafe { &*ty };
                ty.size == a.size as usize && ty.alignment as u32 == a.align
            }
            None => true,
        }
    }
}

impl Drop for CallCache {
    fn drop(&mut self) {
        let heap = self.heap.get();
        for s in self.index.iter().filter(|s| !s.desc.is_null()) {
            // SAFETY: each descriptor block was allocated with this layout (its size
            // is recorded in it) and is freed once, here.
            unsafe {
                let size = (*s.desc).block;
                if let Ok(l) = Layout::from_size_align(size, align_of::<CallDesc>()) {
                    heap.dealloc(NonNull::new_unchecked(s.desc.cast()), l);
                }
            }
        }
        for a in self.aggs.iter() {
            // SAFETY: allocated with `a.layout`, freed once, here.
            unsafe { heap.dealloc(a.block, a.layout) };
        }
    }
}

/// Call `code` as described by `desc`.
///
/// `args[i]` points to argument `i` in C representation (a struct's bytes for a
/// struct by value); `ret` to a buffer of [`DescRef::ret_buffer_size`] bytes,
/// 8-aligned, which receives the result in C representation at offset 0 (small
/// integers are not widened). errno is restored before and saved after the call.
/// An error raised by a Lua callback during the call (callback.rs) is returned
/// once the call is back. Nothing is borrowed across the call: the callbacks it
/// runs may use the cache, the callbacks table and `errno` themselves.
///
/// # Safety
/// `code` is a function of the type `desc` was made for, `args` has
/// `desc.nargs()` valid pointers to values of the parameter types, and `ret` is
/// as above; `callbacks` is a handle of a live table. Whatever the C function does with its arguments is its business.
pub unsafe fn call(
    desc: DescRef,
    code: *const c_void,
    args: &mut [*mut c_void],
    ret: *mut c_void,
    errno: &Errno,
    callbacks: Option<CallbackHandle>,
) -> Result<(), Throw> {
    if args.len() != desc.nargs() || code.is_null() {
        // A caller's bug (it checks the count and the pointer): reported as an
        // error with a nil value rather than a read past `args` or a jump to 0.
        return Err(Throw::Error(Value::NIL));
    }
    let scope = callbacks.map(CallbackHandle::enter);
    // SAFETY: `__errno_location` returns this thread's errno.
    unsafe { *libc::__errno_location() = errno.get() };
    // SAFETY: the caller's contract; the cif lives as long as the cache.
    unsafe {
        let f: unsafe extern "C" fn() = std::mem::transmute(code);
        lf::ffi_call(desc.cif(), Some(f), ret, args.as_mut_ptr());
    }
    // SAFETY: as above.
    errno.set(unsafe { *libc::__errno_location() });
    if cfg!(target_endian = "big") {
        if let RetKind::Int { size, .. } = desc.ret_kind() {
            if size < 8 {
                // SAFETY: `ret` has at least 8 bytes; libffi widened the result
                // to a register, whose low bytes come last on big-endian.
                unsafe { ptr::copy(ret.cast::<u8>().add(8 - size as usize), ret.cast::<u8>(), size as usize) };
            }
        }
    }
    drop(scope);
    match callbacks.and_then(CallbackHandle::take_held) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
