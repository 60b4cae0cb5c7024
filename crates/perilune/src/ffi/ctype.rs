//! The C type table of the FFI: every C type a state knows, as packed records in the
//! accounted heap, addressed by [`CTypeId`] (docs/ffi.md, "Type table").
//!
//! Owns: the records, the names they carry (one byte pool), two intrusive hash
//! indexes (named entries by name and namespace; unnamed scalar, pointer and array
//! types by shape, so that equal types get one id) and the undo log that makes a
//! declaration batch transactional.
//!
//! Invariants:
//! - Every buffer is an [`HVec`] of the state's heap: growing can fail with
//!   [`OutOfMemory`], shrinking cannot. Nothing here panics on any input.
//! - At most [`MAX_TYPES`] records; id 0 is `void` and doubles as "none" in links.
//! - A record never changes once complete, except the one completion of an
//!   incomplete struct, union or enum; that change is logged first.
//! - Hash chains are sorted by descending id (new entries are prepended, a rehash
//!   reinserts in ascending order), so [`CTypeTable::rollback`] to a mark only drops
//!   chain heads at or above the mark.
use crate::alloc::{HVec, Heap, HeapRef, OutOfMemory};

/// Most records a table holds; one more is "table overflow" (as in LuaJIT).
pub const MAX_TYPES: usize = 65536;
/// Size of a type whose size is unknown: incomplete, `void`, or variable-length.
pub const SIZE_UNKNOWN: u32 = u32::MAX;
/// Largest size of a complete C type (LuaJIT's `CTMAX_SIZE`).
pub const MAX_SIZE: u64 = 0x7fff_ffff;

/// A type's index in its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CTypeId(pub u32);

impl CTypeId {
    /// `void`, and "no link".
    pub const VOID: CTypeId = CTypeId(0);
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CKind {
    Void,
    /// `_Bool` and the integers, `char` included; `flags & UNSIGNED` for unsigned.
    Int,
    Float,
    /// `child`: the pointee.
    Ptr,
    /// `child`: the element; `value`: the length (0 with `VLA` for `[?]`).
    Array,
    /// `first`: the first member (a `Field` or `BitField` chain through `next`).
    Struct,
    Union,
    /// `first`: the first `Constant`; `child`: the underlying integer type.
    Enum,
    /// `child`: the result; `first`: the first `Param`; `VARARG`.
    Func,
    /// `child`: the type; `value`: the byte offset; anonymous: a transparent member.
    Field,
    /// `child`: the declared type; `value`: the bit offset in the struct; `bits`.
    BitField,
    /// `child`: the type.
    Param,
    /// An enum or `static const` integer: `child` its type, `value` its value.
    Constant,
    /// `child`: the named type.
    Typedef,
    /// A function or variable declared `extern`: `child` its type, `sym` its symbol.
    Extern,
    /// `const`/`volatile` of a struct, union or enum (its identity stays one record):
    /// `child` the type, the qualifiers in `flags`.
    Qual,
    /// A C++-style reference (`T &`): what indexing a struct or array gives for an
    /// aggregate member. `child`: the referenced type; 8 bytes (the address).
    Ref,
}

/// `CType::flags`.
pub mod flags {
    pub const CONST: u16 = 1 << 0;
    pub const VOLATILE: u16 = 1 << 1;
    pub const UNSIGNED: u16 = 1 << 2;
    /// `_Bool`.
    pub const BOOL: u16 = 1 << 3;
    /// A function with `...`.
    pub const VARARG: u16 = 1 << 4;
    /// A struct, union or enum declared but not defined yet.
    pub const INCOMPLETE: u16 = 1 << 5;
    /// `[?]`, or a struct whose last member is one (a VLS).
    pub const VLA: u16 = 1 << 6;
    /// `long` spelled (`long`, `long long`, `long double`), for printing later.
    pub const LONG: u16 = 1 << 7;
    /// A member declared `__attribute__((packed))` (or of a packed struct).
    pub const PACKED: u16 = 1 << 8;
    /// `_Complex`: a float pair; `size` is the pair's.
    pub const COMPLEX: u16 = 1 << 9;
    pub const QUALS: u16 = CONST | VOLATILE;
}

/// A name in the table's pool (`len == 0`: no name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Name {
    pub start: u32,
    pub len: u32,
}

/// Which namespace a named record lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// Typedefs, enum constants, static constants, externs.
    Ordinary,
    /// Struct, union and enum tags.
    Tag,
}

/// One record.
#[derive(Clone, Copy, Debug)]
pub struct CType {
    pub kind: CKind,
    pub flags: u16,
    /// log2 of the alignment.
    pub align: u8,
    /// Bitfield width.
    pub bits: u8,
    /// Bytes, or [`SIZE_UNKNOWN`].
    pub size: u32,
    pub child: CTypeId,
    pub first: CTypeId,
    pub next: CTypeId,
    pub name: Name,
    /// `__asm__("sym")` of an extern, else no name.
    pub sym: Name,
    pub value: i64,
    /// Next record in the same hash bucket.
    hnext: CTypeId,
    /// Which index holds it: 0 none, [`IN_NAMES`], [`IN_SHAPES`].
    index: u8,
}

const IN_NAMES: u8 = 1;
const IN_SHAPES: u8 = 2;

impl CType {
    pub const fn new(kind: CKind) -> CType {
        CType {
            kind,
            flags: 0,
            align: 0,
            bits: 0,
            size: SIZE_UNKNOWN,
            child: CTypeId::VOID,
            first: CTypeId::VOID,
            next: CTypeId::VOID,
            name: Name { start: 0, len: 0 },
            sym: Name { start: 0, len: 0 },
            value: 0,
            hnext: CTypeId::VOID,
            index: 0,
        }
    }
    pub fn alignment(&self) -> u32 {
        1 << self.align
    }
    fn namespace(&self) -> Namespace {
        match self.kind {
            CKind::Struct | CKind::Union | CKind::Enum => Namespace::Tag,
            _ => Namespace::Ordinary,
        }
    }
    /// The fields that make an unnamed type equal to another (for interning).
    fn shape(&self) -> (CKind, u16, u8, u32, u32, i64) {
        (self.kind, self.flags, self.align, self.size, self.child.0, self.value)
    }
}

/// Where a transaction started ([`CTypeTable::mark`]).
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    types: usize,
    pool: usize,
    undo: usize,
}

/// The type table.
pub struct CTypeTable {
    types: HVec<CType>,
    pool: HVec<u8>,
    /// Bucket heads of named records (by name and namespace).
    names: HVec<CTypeId>,
    /// Bucket heads of interned unnamed types (by shape).
    shapes: HVec<CTypeId>,
    undo: HVec<(CTypeId, CType)>,
}

fn hash_bytes(b: &[u8], seed: u32) -> u32 {
    // FNV-1a; the names come from declarations the program itself makes.
    let mut h = 0x811c_9dc5u32 ^ seed;
    for &c in b {
        h = (h ^ c as u32).wrapping_mul(0x0100_0193);
    }
    h
}

fn hash_shape(t: &CType) -> u32 {
    let (k, f, a, s, c, v) = t.shape();
    let mut h = (k as u32).wrapping_mul(0x9e37_79b1) ^ (f as u32) << 8 ^ (a as u32) << 24;
    h = (h ^ s).wrapping_mul(0x85eb_ca6b);
    h = (h ^ c).wrapping_mul(0xc2b2_ae35);
    h ^ (v as u32) ^ ((v >> 32) as u32)
}

impl CTypeTable {
    /// An empty table (only `void`), allocated from `heap`.
    pub fn new(heap: &Heap) -> Result<CTypeTable, OutOfMemory> {
        let h = HeapRef::new(heap);
        let mut t = CTypeTable {
            types: HVec::new(h),
            pool: HVec::new(h),
            names: HVec::filled(h, 64, CTypeId::VOID)?,
            shapes: HVec::filled(h, 64, CTypeId::VOID)?,
            undo: HVec::new(h),
        };
        let mut void = CType::new(CKind::Void);
        void.align = 0;
        t.types.push(void)?;
        Ok(t)
    }

    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub fn len(&self) -> usize {
        self.types.len()
    }
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
    /// Bytes of heap the table holds.
    pub fn byte_size(&self) -> usize {
        self.types.byte_size()
            + self.pool.byte_size()
            + self.names.byte_size()
            + self.shapes.byte_size()
            + self.undo.byte_size()
    }

    pub fn get(&self, id: CTypeId) -> &CType {
        // Ids are only made by this table and never outlive a rollback of theirs;
        // an unknown one reads as `void` rather than panicking.
        self.types.get(id.0 as usize).unwrap_or(&self.types[0])
    }

    pub fn name(&self, n: Name) -> &[u8] {
        let (s, e) = (n.start as usize, n.start as usize + n.len as usize);
        self.pool.get(s..e).unwrap_or(&[])
    }

    /// Copy `bytes` into the name pool.
    pub fn intern_name(&mut self, bytes: &[u8]) -> Result<Name, OutOfMemory> {
        let start = u32::try_from(self.pool.len()).map_err(|_| OutOfMemory)?;
        let len = u32::try_from(bytes.len()).map_err(|_| OutOfMemory)?;
        self.pool.extend_from_slice(bytes)?;
        Ok(Name { start, len })
    }

    /// Append a record (not indexed). `Ok(None)`: the table is full.
    pub fn push(&mut self, t: CType) -> Result<Option<CTypeId>, OutOfMemory> {
        if self.types.len() >= MAX_TYPES {
            return Ok(None);
        }
        let id = CTypeId(self.types.len() as u32);
        self.types.push(t)?;
        Ok(Some(id))
    }

    /// Change record `id`, logging its old value first (for [`Self::rollback`]).
    pub fn update(&mut self, id: CTypeId, f: impl FnOnce(&mut CType)) -> Result<(), OutOfMemory> {
        let Some(old) = self.types.get(id.0 as usize).copied() else {
            return Ok(());
        };
        self.undo.push((id, old))?;
        let mut new = old;
        f(&mut new);
        new.hnext = old.hnext;
        new.index = old.index;
        self.types[id.0 as usize] = new;
        Ok(())
    }

    /// Set a link of a record made in this transaction (no undo needed: a rollback
    /// drops the record itself).
    pub fn set_next(&mut self, id: CTypeId, next: CTypeId) {
        if let Some(t) = self.types.get_mut(id.0 as usize) {
            t.next = next;
        }
    }

    fn bucket(len: usize, h: u32) -> usize {
        (h as usize) & (len - 1)
    }

    /// Follow typedefs and qualifier wrappers to the type itself (bounded: a chain
    /// longer than any the parser makes reads as `void`).
    pub fn resolve_id(&self, mut id: CTypeId) -> CTypeId {
        for _ in 0..256 {
            let t = self.get(id);
            match t.kind {
                CKind::Typedef | CKind::Qual => id = t.child,
                _ => return id,
            }
        }
        CTypeId::VOID
    }

    /// The type `id` stands for, typedefs and qualifier wrappers followed.
    pub fn resolve(&self, id: CTypeId) -> &CType {
        self.get(self.resolve_id(id))
    }

    /// Look a name up in a namespace.
    pub fn lookup(&self, name: &[u8], ns: Namespace) -> Option<CTypeId> {
        let mut cur = self.names[Self::bucket(self.names.len(), hash_bytes(name, 0))];
        while !cur.is_none() {
            let t = self.get(cur);
            if t.namespace() == ns && self.name(t.name) == name {
                return Some(cur);
            }
            cur = t.hnext;
        }
        None
    }

    /// Index the named record `id` (its name must be set).
    pub fn index_name(&mut self, id: CTypeId) -> Result<(), OutOfMemory> {
        self.grow_index(true)?;
        let h = hash_bytes(self.name(self.get(id).name), 0);
        let b = Self::bucket(self.names.len(), h);
        let t = &mut self.types[id.0 as usize];
        t.hnext = self.names[b];
        t.index = IN_NAMES;
        self.names[b] = id;
        Ok(())
    }

    /// The id of an unnamed type equal to `t`, made if it does not exist yet.
    /// `Ok(None)`: the table is full.
    pub fn intern(&mut self, t: CType) -> Result<Option<CTypeId>, OutOfMemory> {
        let h = hash_shape(&t);
        let mut cur = self.shapes[Self::bucket(self.shapes.len(), h)];
        while !cur.is_none() {
            let o = self.get(cur);
            if o.shape() == t.shape() {
                return Ok(Some(cur));
            }
            cur = o.hnext;
        }
        self.grow_index(false)?;
        let Some(id) = self.push(t)? else { return Ok(None) };
        let b = Self::bucket(self.shapes.len(), h);
        let t = &mut self.types[id.0 as usize];
        t.hnext = self.shapes[b];
        t.index = IN_SHAPES;
        self.shapes[b] = id;
        Ok(Some(id))
    }

    /// Double a bucket array when it holds more entries than buckets. A rehash
    /// reinserts in ascending id order, which keeps the chains sorted (module
    /// invariants).
    fn grow_index(&mut self, names: bool) -> Result<(), OutOfMemory> {
        let buckets = if names { &self.names } else { &self.shapes };
        if self.types.len() < buckets.len() {
            return Ok(());
        }
        let n = buckets.len() * 2;
        let mut fresh: HVec<CTypeId> = HVec::filled(self.types.heap(), n, CTypeId::VOID)?;
        let which = if names { IN_NAMES } else { IN_SHAPES };
        for i in 1..self.types.len() {
            let t = self.types[i];
            if t.index != which {
                continue;
            }
            let h = if names {
                hash_bytes(self.name(t.name), 0)
            } else {
                hash_shape(&t)
            };
            let b = Self::bucket(n, h);
            self.types[i].hnext = fresh[b];
            fresh[b] = CTypeId(i as u32);
        }
        if names {
            self.names = fresh;
        } else {
            self.shapes = fresh;
        }
        Ok(())
    }

    /// Start a transaction.
    pub fn mark(&mut self) -> Mark {
        Mark {
            types: self.types.len(),
            pool: self.pool.len(),
            undo: self.undo.len(),
        }
    }

    /// End a transaction: keep everything since `m`.
    pub fn commit(&mut self, m: Mark) {
        self.undo.truncate(m.undo);
        if m.undo == 0 {
            self.undo.shrink_to_fit();
        }
    }

    /// Undo everything since `m`: records made since are dropped, records changed
    /// since get their old value back. Never fails.
    pub fn rollback(&mut self, m: Mark) {
        while self.undo.len() > m.undo {
            if let Some((id, old)) = self.undo.pop() {
                if let Some(t) = self.types.get_mut(id.0 as usize) {
                    let (hnext, index) = (t.hnext, t.index);
                    *t = old;
                    t.hnext = hnext;
                    t.index = index;
                }
            }
        }
        let keep = m.types as u32;
        for heads in [&mut self.names, &mut self.shapes] {
            for i in 0..heads.len() {
                let mut h = heads[i];
                while h.0 >= keep {
                    h = self.types.get(h.0 as usize).map_or(CTypeId::VOID, |t| t.hnext);
                }
                heads[i] = h;
            }
        }
        self.types.truncate(m.types);
        self.pool.truncate(m.pool);
    }
}
