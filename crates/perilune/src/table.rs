//! Tables: an array part for keys `1..=n` and a hash part for everything else.
//!
//! This module owns the layout of a table's two parts, the key normalisation rules, the
//! hash function for keys, collision resolution, the resize policy, `#`, `next`, and
//! the operations the collector needs (traversal and weak-entry clearing). See
//! `docs/tables.md` for the longer story.
//!
//! Layout (stable; the interpreter and the JIT load from it directly):
//! - `array[i - 1]` holds key `i` for `1 <= i <= array.len()`; absent keys are nil.
//! - `node` is empty or a power-of-two number of [`Node`]s (`#[repr(C)]`: `val` at
//!   offset 0, `key` at 8, `next` at 16). A key's *main position* is
//!   `hash(key) & (node.len() - 1)`; collisions are chained through `next` (an index,
//!   or -1) with Brent's variation: a node that is not in its own main position is
//!   moved out of the way when a key that does belong there arrives.
//!
//! Invariants:
//! - Keys are normalised before they are stored or looked up, so key equality is bit
//!   equality: numbers are stored as their `f64` bits with `-0` turned into `+0`
//!   (an integral float *is* the integer, since numbers are doubles); NaN and nil are
//!   never keys. A node whose key is nil has never been used since the last resize.
//! - A node whose value is nil is free or holds a *dead key*: the key bits stay so that
//!   `next` can still find its position and chains stay intact, but the key is never
//!   hashed, dereferenced, or reported, and the collector must not mark it (the object
//!   it names may already be freed).
//! - Every live key (non-nil value) is reachable from its main position by following
//!   `next`; every node has at most one predecessor, so chains never form cycles.
//! - Assigning to a key that is present (even as a dead key) never allocates or moves
//!   anything; only inserting a new key may resize, and a resize that fails leaves the
//!   table exactly as it was (new parts are allocated before anything is moved).
//! - Nothing the collector calls ([`GcTable::iter`], [`GcTable::for_each_value_mut`],
//!   [`GcTable::clear_weak`], [`GcTable::byte_size`]) allocates.
//! - A table's hash seed (see [`GcTable::hash_seed`]) is fixed at creation: every key
//!   other than a string is hashed as `mix64(bits ^ seed)`, and the node positions
//!   depend on it, so a copy ([`GcTable::duplicate`]) keeps it.

use crate::alloc::{HVec, HeapRef, OutOfMemory};
use crate::object::{GcHeader, GcRef, GcStr, ObjKind};
use crate::value::Value;

#[cfg(test)]
mod tests;

/// Largest array part: `2^MAX_ABITS` slots. Integer keys above it always go to the
/// hash part, and the resize policy counts keys in `2^MAX_ABITS + 1` power-of-two
/// slices.
const MAX_ABITS: usize = 30;
const MAX_ASIZE: usize = 1 << MAX_ABITS;
/// Largest hash part (chain links are `i32`).
const MAX_HSIZE: usize = 1 << 30;

/// One slot of the hash part.
///
/// `key` is nil for a node unused since the last resize. `val` nil with a non-nil key
/// is a dead key (see the module invariants).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Node {
    pub val: Value,
    pub key: Value,
    /// Index of the next node in this collision chain, or -1.
    pub next: i32,
}

impl Node {
    /// An unused node.
    pub const EMPTY: Node = Node {
        val: Value::NIL,
        key: Value::NIL,
        next: -1,
    };
}

/// Why a store into a table failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// "table index is nil"
    NilKey,
    /// "table index is NaN"
    NanKey,
    /// "not enough memory"
    Oom,
}

impl TableError {
    #[cfg(test)]
    /// The Lua error message for this failure.
    pub fn message(self) -> &'static str {
        match self {
            TableError::NilKey => crate::errmsg::TABLE_INDEX_NIL,
            TableError::NanKey => crate::errmsg::TABLE_INDEX_NAN,
            TableError::Oom => crate::errmsg::NOMEM,
        }
    }
}

impl From<OutOfMemory> for TableError {
    fn from(_: OutOfMemory) -> Self {
        TableError::Oom
    }
}

#[repr(C)]
pub struct GcTable {
    /// `flags`: metamethod absence cache; bit `1 << tm` set means "this table, used as
    /// a metatable, has no metamethod `tm`" (for the first 8 metamethods). Every
    /// `set*` clears it. `aux`: the high 32 bits of the hash seed.
    pub hdr: GcHeader,
    /// Array part: key `i` (1 <= i <= array.len()) lives at `array[i-1]`.
    pub array: HVec<Value>,
    /// Hash part: empty, or a power-of-two number of nodes.
    pub node: HVec<Node>,
    /// Free-slot search position for collisions (counts down; every node at or above
    /// it has been handed out since the last resize).
    pub lastfree: u32,
    /// The low 32 bits of the hash seed (in what would be padding: with the high half
    /// in `hdr.aux`, the seed costs no space).
    seed_lo: u32,
    pub metatable: Option<GcRef<GcTable>>,
}

/// Mix 64 key bits into a 32-bit hash whose low bits depend on every input bit.
/// Callers xor the table's seed into `bits` first ([`GcTable::hash_seed`]).
///
/// Integral doubles differ only in their top ~20 bits and pointers are aligned, so the
/// raw bits would cluster in a power-of-two table, and one multiply is not enough to
/// bring high input bits down to the low output bits the mask keeps (measured: 4 of
/// 16 buckets used for the keys 1..16). This is the 64-bit avalanche finalizer from
/// MurmurHash3 (xor-shift, multiply, twice): two multiplies, close to a random
/// spread for integers, fractions and aligned addresses alike.
///
/// The finalizer is invertible and public: without a seed a script can compute keys
/// whose hashes agree in their low bits and put them all in one chain (quadratic
/// insertion). With a secret 64-bit seed xored in first (V8 hashes integers the
/// same way: key ^ seed, then an integer mixer) the keys it picks land at positions
/// it cannot predict.
#[inline(always)]
fn mix64(bits: u64) -> u32 {
    let mut x = bits;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^= x >> 33;
    x as u32
}

/// Hash of a normalised, live key in a table with hash seed `seed`. Dereferences
/// string keys (whose hash is seeded by the string table), so it must never be called
/// on a dead key.
#[inline(always)]
fn key_hash(key: Value, seed: u64) -> u32 {
    match key.as_string() {
        Some(s) => s.hash(),
        None => mix64(key.bits() ^ seed),
    }
}

/// Test builds only: states made from now on hash with fixed seeds (tables and
/// strings), so two states running one script charge the same budget units even
/// where the cost depends on hash order (`pairs`, then `table.sort`). The JIT's
/// differential test compares states that way.
#[cfg(any(test, feature = "internals"))]
static FIXED_SEEDS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`FIXED_SEEDS`]; never undone.
#[cfg(any(test, feature = "internals"))]
pub fn fix_seeds() {
    FIXED_SEEDS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Are the seeds fixed ([`fix_seeds`])? Always false in a build without tests.
#[inline]
pub fn seeds_fixed() -> bool {
    #[cfg(any(test, feature = "internals"))]
    {
        FIXED_SEEDS.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(any(test, feature = "internals")))]
    {
        false
    }
}

/// A fresh 64-bit seed from the system's randomness, for [`GcTable::new_seeded`]: one
/// per state. Drawn through std's `RandomState` (keys from the OS's random source,
/// `getrandom` on Linux), hashed with SipHash, so no two calls give related values.
pub fn random_seed() -> u64 {
    if seeds_fixed() {
        return 0x9E37_79B9_7F4A_7C15;
    }
    use std::hash::BuildHasher;
    let s = std::collections::hash_map::RandomState::new().hash_one(0x7461_626c_6573_6565u64);
    // 0 would mean "unseeded" to a reader of `hash_seed`; any other value works.
    if s == 0 {
        0x9E37_79B9_7F4A_7C15
    } else {
        s
    }
}

/// The normalised bits of a non-NaN number key (`-0` becomes `+0`).
#[inline(always)]
fn num_key_bits(n: f64) -> u64 {
    if n == 0.0 {
        0
    } else {
        n.to_bits()
    }
}

/// If `n` is an integer in `1..=MAX_ASIZE`, that integer.
#[inline(always)]
fn array_candidate(n: f64) -> Option<usize> {
    let i = n as i64;
    if i as f64 == n && (1..=MAX_ASIZE as i64).contains(&i) {
        Some(i as usize)
    } else {
        None
    }
}

/// Index of the power-of-two slice `(2^(b-1), 2^b]` that holds `k >= 1` (slice 0 is
/// just `1`).
#[inline(always)]
fn slice_of(k: usize) -> usize {
    if k <= 1 {
        0
    } else {
        (usize::BITS - (k - 1).leading_zeros()) as usize
    }
}

/// A key after normalisation: its stored bits and its hash.
#[derive(Clone, Copy)]
struct NormKey {
    bits: u64,
    hash: u32,
}

impl NormKey {
    /// Normalise a key for lookup or store in a table with hash seed `seed`. `None`
    /// for nil and NaN.
    #[inline(always)]
    fn of(key: Value, seed: u64) -> Option<NormKey> {
        if key.is_number() {
            let n = key.number_unchecked();
            if n.is_nan() {
                return None;
            }
            let bits = num_key_bits(n);
            return Some(NormKey {
                bits,
                hash: mix64(bits ^ seed),
            });
        }
        if key.is_nil() {
            return None;
        }
        Some(NormKey {
            bits: key.bits(),
            hash: key_hash(key, seed),
        })
    }

    /// A non-string key's normalised bits with their hash.
    #[inline(always)]
    fn mixed(bits: u64, seed: u64) -> NormKey {
        NormKey {
            bits,
            hash: mix64(bits ^ seed),
        }
    }
}

impl GcTable {
    #[cfg(any(test, feature = "internals"))]
    /// An *unseeded* table (hash seed 0) with room for `narray` array slots and at
    /// least `nhash` hash keys (rounded up to a power of two). Its number and pointer
    /// key positions are predictable, which unit tests rely on; every table the VM
    /// makes is seeded ([`GcTable::new_seeded`], `State::new_table`).
    pub fn new(heap: HeapRef, narray: usize, nhash: usize) -> Result<GcTable, OutOfMemory> {
        GcTable::new_seeded(heap, 0, narray, nhash)
    }

    /// A table whose non-string keys are hashed with `seed` mixed in (the state's
    /// seed, from [`random_seed`]), with room for `narray` array slots and at least
    /// `nhash` hash keys (rounded up to a power of two).
    pub fn new_seeded(heap: HeapRef, seed: u64, narray: usize, nhash: usize) -> Result<GcTable, OutOfMemory> {
        if narray > MAX_ASIZE {
            return Err(OutOfMemory);
        }
        let nnode = hash_size_for(nhash)?;
        let array = HVec::filled(heap, narray, Value::NIL)?;
        let node = HVec::filled(heap, nnode, Node::EMPTY)?;
        let mut hdr = GcHeader::new(ObjKind::Table);
        hdr.aux = (seed >> 32) as u32;
        Ok(GcTable {
            hdr,
            array,
            node,
            lastfree: nnode as u32,
            seed_lo: seed as u32,
            metatable: None,
        })
    }

    /// The seed mixed into the hash of every key that is not a string (numbers,
    /// booleans, light userdata, object pointers): the key's main position is
    /// `mix64(bits ^ seed) & (hash_len - 1)`. 0 for an unseeded table.
    #[inline(always)]
    pub fn hash_seed(&self) -> u64 {
        ((self.hdr.aux as u64) << 32) | self.seed_lo as u64
    }

    /// A copy of this table's contents (no metatable), with the same layout, for
    /// `TDUP`: cloning the parts is much cheaper than re-inserting every key.
    pub fn duplicate(&self) -> Result<GcTable, OutOfMemory> {
        let heap = self.array.heap();
        let mut hdr = GcHeader::new(ObjKind::Table);
        // The node positions depend on the seed: the copy must keep it.
        hdr.aux = self.hdr.aux;
        Ok(GcTable {
            hdr,
            array: HVec::from_slice(heap, &self.array)?,
            node: HVec::from_slice(heap, &self.node)?,
            lastfree: self.lastfree,
            seed_lo: self.seed_lo,
            metatable: None,
        })
    }

    /// Number of slots in the array part.
    #[inline(always)]
    pub fn array_len(&self) -> usize {
        self.array.len()
    }

    /// Number of nodes in the hash part (0 or a power of two).
    #[inline(always)]
    pub fn hash_len(&self) -> usize {
        self.node.len()
    }

    #[cfg(any(test, feature = "internals"))]
    /// Bytes of heap held by the two parts (what the heap verifier charges to the
    /// table besides the object itself).
    pub fn byte_size(&self) -> usize {
        self.array.byte_size() + self.node.byte_size()
    }

    // ---- lookups -------------------------------------------------------------------

    /// Find the value stored under normalised key bits in the hash part; nil if absent.
    #[inline(always)]
    fn lookup(&self, kbits: u64, hash: u32) -> Value {
        let len = self.node.len();
        if len == 0 {
            return Value::NIL;
        }
        let mask = len - 1;
        let base = self.node.as_ptr();
        let mut i = hash as usize & mask;
        loop {
            // SAFETY: `i` is masked with `len - 1` and `len > 0`, so `i < len`, and the
            // node buffer holds `len` initialised nodes.
            let n = unsafe { &*base.add(i) };
            if n.key.bits() == kbits {
                return n.val;
            }
            if n.next < 0 {
                return Value::NIL;
            }
            i = n.next as usize & mask;
        }
    }

    /// The node index holding normalised key bits (live or dead), if any.
    #[inline]
    fn find_node(&self, kbits: u64, hash: u32) -> Option<usize> {
        let len = self.node.len();
        if len == 0 {
            return None;
        }
        let mask = len - 1;
        let base = self.node.as_ptr();
        let mut i = hash as usize & mask;
        loop {
            // SAFETY: `i` is masked with `len - 1` and `len > 0`, so `i < len`.
            let n = unsafe { &*base.add(i) };
            if n.key.bits() == kbits {
                return Some(i);
            }
            if n.next < 0 {
                return None;
            }
            i = n.next as usize & mask;
        }
    }

    /// Raw get (`rawget`): nil if absent, for a nil key, or for a NaN key.
    #[inline]
    pub fn get(&self, key: Value) -> Value {
        if key.is_number() {
            return self.get_num(key.number_unchecked());
        }
        if let Some(s) = key.as_string() {
            return self.get_str(s);
        }
        if key.is_nil() {
            return Value::NIL;
        }
        self.lookup(key.bits(), mix64(key.bits() ^ self.hash_seed()))
    }

    /// Raw get with a number key.
    #[inline]
    pub fn get_num(&self, n: f64) -> Value {
        let i = n as i64;
        if i as f64 == n {
            return self.get_int(i);
        }
        // Not integral: NaN (never stored) or a fraction/huge value, which is never
        // -0, so the raw bits are already normalised.
        if n.is_nan() {
            return Value::NIL;
        }
        let bits = n.to_bits();
        self.lookup(bits, mix64(bits ^ self.hash_seed()))
    }

    /// Raw get with an integer key: array part first, then the hash part.
    #[inline]
    pub fn get_int(&self, key: i64) -> Value {
        let idx = (key as u64).wrapping_sub(1);
        if idx < self.array.len() as u64 {
            // SAFETY: idx < array.len(), checked just above.
            return unsafe { *self.array.get_unchecked(idx as usize) };
        }
        // `key as f64` of 0 is +0, so this is already normalised.
        let bits = (key as f64).to_bits();
        self.lookup(bits, mix64(bits ^ self.hash_seed()))
    }

    /// Raw get with a string key.
    #[inline]
    pub fn get_str(&self, key: GcRef<GcStr>) -> Value {
        self.lookup(Value::string(key).bits(), key.hash())
    }

    // ---- stores --------------------------------------------------------------------

    /// The value slot of string key `key` if the hash part has a node for it (its
    /// value may be nil: a dead key). For in-place stores by the interpreter, which
    /// also clears the metamethod cache here, as every store does.
    #[inline(always)]
    pub fn str_slot(&mut self, key: GcRef<GcStr>) -> Option<*mut Value> {
        let i = self.find_node(Value::string(key).bits(), key.hash())?;
        self.hdr.flags = 0;
        // SAFETY: find_node returns an index below the node count.
        Some(unsafe { &mut (*self.node.as_mut_ptr().add(i)).val as *mut Value })
    }

    /// Raw set (`rawset`). Clears the metamethod cache. Assigning nil to an absent key
    /// does nothing; assigning to a present key never allocates.
    #[inline]
    pub fn set(&mut self, key: Value, val: Value) -> Result<(), TableError> {
        if key.is_number() {
            let n = key.number_unchecked();
            if n.is_nan() {
                return Err(TableError::NanKey);
            }
            return Ok(self.set_num(n, val)?);
        }
        if let Some(s) = key.as_string() {
            return Ok(self.set_str(s, val)?);
        }
        if key.is_nil() {
            return Err(TableError::NilKey);
        }
        self.hdr.flags = 0;
        Ok(self.set_hashed(NormKey::mixed(key.bits(), self.hash_seed()), val)?)
    }

    /// Raw set with a number key that is not NaN (the caller checks; [`GcTable::set`]
    /// reports `NanKey`).
    #[inline]
    fn set_num(&mut self, n: f64, val: Value) -> Result<(), OutOfMemory> {
        let i = n as i64;
        if i as f64 == n {
            return self.set_int(i, val);
        }
        self.hdr.flags = 0;
        self.set_hashed(NormKey::mixed(n.to_bits(), self.hash_seed()), val)
    }

    /// Raw set with an integer key. Clears the metamethod cache.
    #[inline]
    pub fn set_int(&mut self, key: i64, val: Value) -> Result<(), OutOfMemory> {
        self.hdr.flags = 0;
        let idx = (key as u64).wrapping_sub(1);
        if idx < self.array.len() as u64 {
            // SAFETY: idx < array.len(), checked just above.
            unsafe { *self.array.get_unchecked_mut(idx as usize) = val };
            return Ok(());
        }
        let bits = (key as f64).to_bits();
        self.set_hashed(NormKey::mixed(bits, self.hash_seed()), val)
    }

    /// Raw set with a string key. Clears the metamethod cache.
    #[inline]
    pub fn set_str(&mut self, key: GcRef<GcStr>, val: Value) -> Result<(), OutOfMemory> {
        self.hdr.flags = 0;
        self.set_hashed(
            NormKey {
                bits: Value::string(key).bits(),
                hash: key.hash(),
            },
            val,
        )
    }

    /// Store under a normalised key that does not belong to the array part.
    #[inline(always)]
    fn set_hashed(&mut self, k: NormKey, val: Value) -> Result<(), OutOfMemory> {
        if let Some(i) = self.find_node(k.bits, k.hash) {
            if let Some(n) = self.node.get_mut(i) {
                n.val = val;
            }
            return Ok(());
        }
        if val.is_nil() {
            return Ok(());
        }
        self.insert_new(k, val)
    }

    /// Insert a key known to be absent, with a non-nil value, resizing if the hash part
    /// has no free node. On failure nothing has changed.
    #[cold]
    #[inline(never)]
    fn insert_new(&mut self, k: NormKey, val: Value) -> Result<(), OutOfMemory> {
        if let Some(i) = self.claim_node(k) {
            if let Some(n) = self.node.get_mut(i) {
                n.val = val;
            }
            return Ok(());
        }
        self.rehash(Some(Value::from_bits(k.bits)))?;
        // The resize counted this key, so it now fits in one of the parts.
        if self.put_fresh(k, val) {
            Ok(())
        } else {
            debug_assert!(false, "rehash left no room for the new key");
            Err(OutOfMemory)
        }
    }

    /// Put a key that is absent into whichever part it belongs to now, without
    /// resizing. Returns false if the hash part has no free node.
    fn put_fresh(&mut self, k: NormKey, val: Value) -> bool {
        let key = Value::from_bits(k.bits);
        if key.is_number() {
            if let Some(i) = array_candidate(key.number_unchecked()) {
                if let Some(slot) = self.array.get_mut(i - 1) {
                    *slot = val;
                    return true;
                }
            }
        }
        match self.claim_node(k) {
            Some(i) => {
                if let Some(n) = self.node.get_mut(i) {
                    n.val = val;
                }
                true
            }
            None => false,
        }
    }

    /// Next never-used node, scanning down from `lastfree`.
    fn take_free(&mut self) -> Option<usize> {
        while self.lastfree > 0 {
            self.lastfree -= 1;
            let i = self.lastfree as usize;
            if self.node.get(i)?.key.is_nil() {
                return Some(i);
            }
        }
        None
    }

    /// Give an absent key a node (with a nil value, which the caller fills in), or
    /// `None` if a free node is needed and there is none.
    ///
    /// Chained scatter with Brent's variation: if the key's main position is taken by
    /// a live key that lives there by right, the new key goes to a free node chained
    /// right after it; if it is taken by a guest (a key from another chain), the guest
    /// moves to the free node and the new key gets its own main position. So a chain
    /// never runs through a main position that another key owns.
    fn claim_node(&mut self, k: NormKey) -> Option<usize> {
        let len = self.node.len();
        if len == 0 {
            return None;
        }
        let mask = len - 1;
        let mp = k.hash as usize & mask;
        let at_mp = *self.node.get(mp)?;
        if at_mp.val.is_nil() {
            // Unused or dead: take it over. Its chain link stays, so any chain passing
            // through it (its old key's, or the one it was a guest in) stays intact.
            self.node.get_mut(mp)?.key = Value::from_bits(k.bits);
            return Some(mp);
        }
        let free = self.take_free()?;
        // The occupant is live, so its key is alive and may be hashed.
        let home = key_hash(at_mp.key, self.hash_seed()) as usize & mask;
        if home != mp {
            // Occupant is a guest: find its predecessor in its own chain and move it.
            let mut p = home;
            let mut steps = 0;
            loop {
                let nx = self.node.get(p)?.next;
                if nx < 0 || steps > len {
                    // Cannot happen while the invariants hold; refuse rather than
                    // corrupt (the node we took stays free: its key is still nil).
                    debug_assert!(false, "guest node not on its chain");
                    return None;
                }
                if nx as usize == mp {
                    break;
                }
                p = nx as usize & mask;
                steps += 1;
            }
            self.node.get_mut(p)?.next = free as i32;
            *self.node.get_mut(free)? = at_mp;
            *self.node.get_mut(mp)? = Node {
                val: Value::NIL,
                key: Value::from_bits(k.bits),
                next: -1,
            };
            Some(mp)
        } else {
            *self.node.get_mut(free)? = Node {
                val: Value::NIL,
                key: Value::from_bits(k.bits),
                next: at_mp.next,
            };
            self.node.get_mut(mp)?.next = free as i32;
            Some(free)
        }
    }

    // ---- resizing ------------------------------------------------------------------

    /// Recount the keys (plus `extra`, a key about to be inserted) and resize both
    /// parts: the array part becomes the largest power of two `n` such that more than
    /// `n/2` of the slots `1..=n` would be in use; everything else goes to the hash
    /// part, sized to the next power of two. Dead keys are dropped.
    fn rehash(&mut self, extra: Option<Value>) -> Result<(), OutOfMemory> {
        // slices[b] counts integer keys in (2^(b-1), 2^b].
        let mut slices = [0usize; MAX_ABITS + 1];
        let mut total = 0usize;
        let mut ints = 0usize;
        for (i, v) in self.array.iter().enumerate() {
            if !v.is_nil() {
                slices[slice_of(i + 1)] += 1;
                ints += 1;
                total += 1;
            }
        }
        let mut count_key = |key: Value| {
            total += 1;
            if key.is_number() {
                if let Some(k) = array_candidate(key.number_unchecked()) {
                    slices[slice_of(k)] += 1;
                    ints += 1;
                }
            }
        };
        for n in self.node.iter() {
            if !n.val.is_nil() {
                count_key(n.key);
            }
        }
        if let Some(key) = extra {
            count_key(key);
        }
        let (asize, in_array) = best_array_size(&slices, ints);
        let mut hkeys = total - in_array;
        if extra.is_some() {
            // Growth hysteresis: an insert that found no free node sizes the hash part
            // for a quarter more keys than it holds. Growing a full table is unchanged
            // (2^k + 1 keys need 2^(k+1) nodes either way); but a table whose deletions
            // left it just below a power of two (insert one, delete one) would
            // otherwise be rebuilt at the same size, all nodes used, on every insert.
            // With the slack, a rebuild is followed by at least a fifth of the table's
            // size in inserts before the next one.
            hkeys += hkeys / 4;
        }
        REHASHES.with(|n| n.set(n.get() + 1));
        self.resize(asize, hkeys)
    }

    /// Make the array part exactly `asize` slots and the hash part big enough for
    /// `hkeys` keys, moving entries between the parts. Both new blocks are obtained
    /// before anything moves, so on failure the table is unchanged.
    fn resize(&mut self, asize: usize, hkeys: usize) -> Result<(), OutOfMemory> {
        if asize > MAX_ASIZE {
            return Err(OutOfMemory);
        }
        let nnode = hash_size_for(hkeys)?;
        let fresh = HVec::filled(self.node.heap(), nnode, Node::EMPTY)?;
        let old_asize = self.array.len();
        if asize > old_asize {
            // On failure `fresh` is dropped (freed) and the old block stays.
            self.array.reserve_exact(asize - old_asize)?;
        }
        // Nothing below can fail.
        let old_node = std::mem::replace(&mut self.node, fresh);
        self.lastfree = nnode as u32;
        let seed = self.hash_seed();
        if asize > old_asize {
            // Capacity was reserved above, so this cannot fail.
            let grown = self.array.resize(asize, Value::NIL);
            debug_assert!(grown.is_ok());
        } else if asize < old_asize {
            // Cut the array one slot at a time from the end so that `put_fresh` sends
            // each moved key to the hash part rather than back into its old slot.
            for i in (asize..old_asize).rev() {
                let v = self.array.get(i).copied().unwrap_or(Value::NIL);
                self.array.truncate(i);
                if !v.is_nil() {
                    let bits = ((i + 1) as f64).to_bits();
                    let placed = self.put_fresh(NormKey::mixed(bits, seed), v);
                    debug_assert!(placed, "hash part sized too small in resize");
                }
            }
            self.array.shrink_to_fit();
        }
        for n in old_node.iter() {
            if !n.val.is_nil() {
                // Live, so the key is alive and may be hashed.
                let k = NormKey {
                    bits: n.key.bits(),
                    hash: key_hash(n.key, seed),
                };
                let placed = self.put_fresh(k, n.val);
                debug_assert!(placed, "hash part sized too small in resize");
            }
        }
        Ok(())
    }

    #[cfg(test)]
    /// Resize both parts to fit the live keys exactly (by the usual policy), dropping
    /// dead keys. For housekeeping at a safe point in ordinary execution (e.g. after
    /// the collector cleared many weak entries); never call it from a GC step. On
    /// failure the table is unchanged.
    pub fn compact(&mut self) -> Result<(), OutOfMemory> {
        self.rehash(None)
    }

    /// Grow the array part to at least `n` slots (for `SETLIST` and table
    /// constructors), moving integer keys `<= n` out of the hash part. Never shrinks.
    /// On failure the table is unchanged.
    pub fn reserve_array(&mut self, n: usize) -> Result<(), OutOfMemory> {
        if n <= self.array.len() {
            return Ok(());
        }
        let hkeys = self
            .node
            .iter()
            .filter(|nd| {
                let to_array = nd.key.is_number() && array_candidate(nd.key.number_unchecked()).is_some_and(|k| k <= n);
                !nd.val.is_nil() && !to_array
            })
            .count();
        self.resize(n, hkeys)
    }

    // ---- length and traversal ------------------------------------------------------

    /// `#t`: a border (an `n` with `t[n] ~= nil` or `n == 0`, and `t[n+1] == nil`).
    /// For a sequence this is its length. If the array part ends in nil, a binary
    /// search in the array part; otherwise, if there is a hash part, an unbounded
    /// doubling search over the integer keys after the array part.
    pub fn length(&self) -> usize {
        let asize = self.array.len();
        let arr = self.array.as_slice();
        if asize > 0 && arr[asize - 1].is_nil() {
            // Invariant: lo == 0 or arr[lo-1] non-nil; arr[hi-1] nil.
            let (mut lo, mut hi) = (0usize, asize);
            while hi - lo > 1 {
                let m = lo + (hi - lo) / 2;
                if arr[m - 1].is_nil() {
                    hi = m;
                } else {
                    lo = m;
                }
            }
            return lo;
        }
        if self.node.is_empty() {
            return asize;
        }
        self.hash_border(asize)
    }

    /// Border search past the array part, where `t[j]` is non-nil or `j == 0`.
    fn hash_border(&self, j: usize) -> usize {
        // Beyond 2^53 consecutive integers are no longer representable; a table cannot
        // hold that many keys, so fall back to a scan bounded by the key count.
        const LIMIT: u64 = 1 << 52;
        let mut lo = j as u64;
        let mut hi = lo + 1;
        while !self.get_int(hi as i64).is_nil() {
            lo = hi;
            if hi > LIMIT {
                let mut i = 1u64;
                while !self.get_int(i as i64).is_nil() {
                    i += 1;
                }
                return (i - 1) as usize;
            }
            hi *= 2;
        }
        // t[lo] non-nil (or lo == 0), t[hi] nil.
        while hi - lo > 1 {
            let m = lo + (hi - lo) / 2;
            if self.get_int(m as i64).is_nil() {
                hi = m;
            } else {
                lo = m;
            }
        }
        lo as usize
    }

    /// The traversal position just after `key`: array slots are positions
    /// `0..asize`, node `j` is position `asize + j`.
    fn position_after(&self, key: Value) -> Result<usize, ()> {
        if key.is_nil() {
            return Ok(0);
        }
        let asize = self.array.len();
        if key.is_number() {
            let n = key.number_unchecked();
            let i = n as i64;
            if i as f64 == n && i >= 1 && (i as u64) <= asize as u64 {
                return Ok(i as usize);
            }
        }
        let k = NormKey::of(key, self.hash_seed()).ok_or(())?;
        match self.find_node(k.bits, k.hash) {
            Some(j) => Ok(asize + j + 1),
            None => Err(()),
        }
    }

    /// `next(t, key)`: the pair after `key` in traversal order (array part in order,
    /// then nodes), `Ok(None)` at the end, `Err(())` for "invalid key to 'next'".
    /// Works when `key`'s value was set to nil during the traversal (the node keeps
    /// its key).
    // The unit error is the interface the VM asked for: it has exactly one meaning.
    #[allow(clippy::result_unit_err)]
    pub fn next(&self, key: Value) -> Result<Option<(Value, Value)>, ()> {
        let mut pos = self.position_after(key)?;
        loop {
            match self.scan_live(pos, usize::MAX) {
                Ok(r) => return Ok(r),
                Err(p) => pos = p,
            }
        }
    }

    /// [`GcTable::next`] in steps, for callers that pay for the slots they skip: the
    /// traversal position after `key` (`Err(())`: invalid key), to give to
    /// [`GcTable::scan_live`].
    #[allow(clippy::result_unit_err)]
    pub fn next_position(&self, key: Value) -> Result<usize, ()> {
        self.position_after(key)
    }

    /// The first live pair at traversal position `start` or after, looking at no
    /// more than `max` slots: `Ok(Some(pair))`, `Ok(None)` at the end, or `Err(pos)`
    /// when `max` slots were empty or dead (go on from `pos`).
    #[allow(clippy::type_complexity)]
    pub fn scan_live(&self, start: usize, max: usize) -> Result<Option<(Value, Value)>, usize> {
        let asize = self.array.len();
        let stop = start.saturating_add(max);
        let mut pos = start;
        while pos < asize {
            if pos >= stop {
                return Err(pos);
            }
            let v = self.array.get(pos).copied().unwrap_or(Value::NIL);
            if !v.is_nil() {
                return Ok(Some((Value::number((pos + 1) as f64), v)));
            }
            pos += 1;
        }
        while let Some(n) = self.node.get(pos - asize) {
            if pos >= stop {
                return Err(pos);
            }
            if !n.val.is_nil() {
                return Ok(Some((n.key, n.val)));
            }
            pos += 1;
        }
        Ok(None)
    }

    // ---- for the collector ---------------------------------------------------------

    /// Every live `(key, value)` pair: the array part (integer keys) in order, then the
    /// nodes with non-nil values. Dead keys are skipped. Does not allocate.
    pub fn iter(&self) -> Iter<'_> {
        Iter { t: self, pos: 0 }
    }

    /// Call `f(key, &mut value)` for every slot with a non-nil value. The value may be
    /// changed (to nil too); the key may not. Does not allocate.
    pub fn for_each_value_mut(&mut self, mut f: impl FnMut(Value, &mut Value)) {
        for (i, v) in self.array.iter_mut().enumerate() {
            if !v.is_nil() {
                f(Value::number((i + 1) as f64), v);
            }
        }
        for n in self.node.iter_mut() {
            if !n.val.is_nil() {
                f(n.key, &mut n.val);
            }
        }
    }

    #[cfg(test)]
    /// Remove the entries of a weak table that refer to dead objects: with
    /// `weak_values`, any slot whose value is dead; with `weak_keys`, any node whose key
    /// is dead. Removing sets the value to nil and keeps the key bits (a dead key).
    /// `is_dead` is only called on collectable values of live entries, never on dead
    /// keys. Does not allocate or resize.
    pub fn clear_weak(&mut self, weak_keys: bool, weak_values: bool, is_dead: impl Fn(Value) -> bool) {
        if weak_values {
            for v in self.array.iter_mut() {
                if v.is_gc() && is_dead(*v) {
                    *v = Value::NIL;
                }
            }
        }
        if !weak_keys && !weak_values {
            return;
        }
        for n in self.node.iter_mut() {
            if n.val.is_nil() {
                continue;
            }
            let dead_key = weak_keys && n.key.is_gc() && is_dead(n.key);
            let dead_val = weak_values && n.val.is_gc() && is_dead(n.val);
            if dead_key || dead_val {
                n.val = Value::NIL;
            }
        }
    }

    #[cfg(any(test, feature = "internals"))]
    /// Check the structural invariants (for tests and the heap verifier). Hashes live
    /// keys, so every live key must be a valid object. Does not allocate unless it
    /// reports a violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let len = self.node.len();
        if len != 0 && !len.is_power_of_two() {
            return Err(format!("hash part size {len} is not a power of two"));
        }
        if self.lastfree as usize > len {
            return Err("lastfree beyond the hash part".into());
        }
        if self.array.len() > MAX_ASIZE {
            return Err("array part too large".into());
        }
        for (i, n) in self.node.iter().enumerate() {
            if n.next >= 0 && n.next as usize >= len {
                return Err(format!("node {i}: chain link out of range"));
            }
            if n.key.is_nil() && (!n.val.is_nil() || n.next >= 0) {
                return Err(format!("node {i}: unused node has a value or link"));
            }
        }
        for (i, n) in self.node.iter().enumerate() {
            if n.val.is_nil() {
                continue;
            }
            if n.key.is_number() {
                let x = n.key.number_unchecked();
                if x.is_nan() || n.key.bits() == (-0.0f64).to_bits() {
                    return Err(format!("node {i}: unnormalised number key"));
                }
                if let Some(k) = array_candidate(x) {
                    if k <= self.array.len() {
                        return Err(format!("node {i}: key {k} belongs to the array part"));
                    }
                }
            }
            // Reachable from its main position within `len` steps (no cycles).
            let mut p = key_hash(n.key, self.hash_seed()) as usize & (len - 1);
            let mut steps = 0;
            while p != i {
                let nx = self.node[p].next;
                if nx < 0 || steps > len {
                    return Err(format!("node {i}: live key not reachable from its main position"));
                }
                p = nx as usize;
                steps += 1;
            }
        }
        Ok(())
    }
}

thread_local! {
    static REHASHES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(any(test, feature = "internals"))]
/// How many times a table was rehashed (its keys recounted and both parts rebuilt) on
/// this thread: a test hook for the growth policy.
#[doc(hidden)]
pub fn rehash_count() -> u64 {
    REHASHES.with(|n| n.get())
}

/// The number of nodes for a hash part that must hold `keys` keys.
fn hash_size_for(keys: usize) -> Result<usize, OutOfMemory> {
    if keys == 0 {
        return Ok(0);
    }
    match keys.checked_next_power_of_two() {
        Some(n) if n <= MAX_HSIZE => Ok(n),
        _ => Err(OutOfMemory),
    }
}

/// The array size the resize policy picks from the slice counts, and how many keys
/// land in it: the largest power of two `n` with more than `n/2` of `1..=n` in use.
fn best_array_size(slices: &[usize; MAX_ABITS + 1], ints: usize) -> (usize, usize) {
    let mut best = (0, 0);
    let mut below = 0usize;
    for (b, &count) in slices.iter().enumerate() {
        let n = 1usize << b;
        // Once half of n exceeds every integer key there is, no larger n qualifies.
        if n / 2 >= ints {
            break;
        }
        below += count;
        if below > n / 2 {
            best = (n, below);
        }
    }
    best
}

/// Iterator over a table's live pairs; see [`GcTable::iter`].
pub struct Iter<'a> {
    t: &'a GcTable,
    pos: usize,
}

impl Iterator for Iter<'_> {
    type Item = (Value, Value);

    fn next(&mut self) -> Option<(Value, Value)> {
        let asize = self.t.array.len();
        while self.pos < asize {
            let i = self.pos;
            self.pos += 1;
            let v = self.t.array.get(i).copied().unwrap_or(Value::NIL);
            if !v.is_nil() {
                return Some((Value::number((i + 1) as f64), v));
            }
        }
        while let Some(n) = self.t.node.get(self.pos - asize) {
            self.pos += 1;
            if !n.val.is_nil() {
                return Some((n.key, n.val));
            }
        }
        None
    }
}
