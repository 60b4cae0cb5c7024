//! The serializer of `string.buffer`: LuaJIT 2.1's binary object format, so that a
//! string encoded by `luajit` decodes here and the other way round
//! (`docs/stdlib-string.md`, "Serialization format").
//!
//! The format, as LuaJIT's `doc/ext_buffer.html` specifies it: an object is one tag
//! (a prefix-encoded 32-bit number, "U124" below) followed by its payload.
//! - `0x00` nil, `0x01` false, `0x02` true;
//! - `0x03` NULL light userdata, `0x04` + 4 bytes and `0x05` + 8 bytes a light
//!   userdata address (little-endian);
//! - `0x06` + 4 bytes a signed 32-bit integer, `0x07` + 8 bytes a double (both
//!   little-endian; LuaJIT on 64-bit machines writes every number as a double, and so
//!   does Perilune, whose numbers are all doubles);
//! - `0x08`..`0x0d` a table: bit 0 set means a hash part follows (`h` pairs), bits
//!   1-2 say whether there is an array part and where it starts: `0x0a`/`0x0b` hold
//!   `a` values for keys `0..a-1`, `0x0c`/`0x0d` hold `a - 1` values for keys
//!   `1..a-1` (`a` counts LuaJIT's slot 0 either way). The counts come right after
//!   the tag (array first), then the array values, then key/value pairs;
//! - `0x0e` + index: the table that follows gets metatable number index+1 of the
//!   buffer's `metatable` dictionary;
//! - `0x0f` + index: string number index+1 of the buffer's `dict` dictionary;
//! - `0x10`, `0x11` (+8 bytes) and `0x12` (+16 bytes): FFI `int64_t`, `uint64_t` and
//!   `complex`; Perilune has no FFI, so they are refused as LuaJIT refuses them when
//!   the FFI is not loaded ("cannot deserialize tag 0x10");
//! - `0x20 + len` + `len` bytes: a string.
//!
//! U124: a value below `0xe0` is one byte; below `0x1fe0` two bytes
//! (`0xe0 | (v - 0xe0) >> 8`, then `(v - 0xe0) & 0xff`); anything else `0xff` and
//! four little-endian bytes.
//!
//! Limits and messages are LuaJIT's: nesting deeper than 100 tables is "too deep to
//! serialize" both ways (so a cycle is reported as that too), a table header that
//! asks for more than LuaJIT's largest array (2^27+1 slots) or hash (2^26 keys) is
//! "table overflow", a truncated object is "unexpected end of buffer".
//!
//! Invariants:
//! - Nothing here runs Lua code or starts a collection: the objects a decode builds
//!   are reachable only from the table being filled until the caller pushes the
//!   result, which is safe because collections only run at safe points.
//! - Decoding allocates in proportion to the input it has read: a table's parts are
//!   sized from its header only when the rest of the input can hold that many
//!   entries (each takes at least one byte); otherwise the decode is bound to fail
//!   and the table grows as entries arrive, so a short input cannot ask for a huge
//!   allocation.
//! - Work is paid into the instruction budget as it is done (`State::charge`), per
//!   byte copied and per table slot scanned or allocated.

use crate::alloc::HVec;
use crate::object::{GcRef, GcStr, GcTable};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

/// Tables nested deeper than this cannot be encoded or decoded (LuaJIT's
/// `LJ_SERIALIZE_DEPTH`).
pub const MAX_DEPTH: i32 = 100;

/// LuaJIT's largest array part (`LJ_MAX_ASIZE`, slots including slot 0) and hash
/// part (`2^LJ_MAX_HBITS` keys): a table header asking for more is "table overflow".
const LJ_MAX_ASIZE: u32 = (1 << 27) + 1;
const LJ_MAX_HSIZE: u32 = 1 << 26;

const TAG_NIL: u8 = 0x00;
const TAG_FALSE: u8 = 0x01;
const TAG_TRUE: u8 = 0x02;
const TAG_NULL: u8 = 0x03;
const TAG_LIGHTUD32: u8 = 0x04;
const TAG_LIGHTUD64: u8 = 0x05;
const TAG_INT: u32 = 0x06;
const TAG_NUM: u8 = 0x07;
const TAG_TAB: u8 = 0x08;
const TAG_DICT_MT: u8 = 0x0e;
const TAG_DICT_STR: u8 = 0x0f;
const TAG_INT64: u32 = 0x10;
const TAG_UINT64: u32 = 0x11;
const TAG_COMPLEX: u32 = 0x12;
const TAG_STR: u32 = 0x20;

/// The dictionaries of a buffer made with `buffer.new{dict = ..., metatable = ...}`.
/// Both are the arrays the script passed, with the reverse index (entry -> its
/// 0-based position, stored as the number whose bits are that position, as LuaJIT
/// stores it) added to their hash part when the buffer was made.
#[derive(Clone, Copy, Default)]
pub struct Dicts {
    pub strs: Option<GcRef<GcTable>>,
    pub mts: Option<GcRef<GcTable>>,
}

/// The 0-based dictionary position stored for an entry (`None` if it has none).
fn dict_position(v: Value) -> Option<u32> {
    // The low 32 bits, whatever the number: that is what LuaJIT reads from the slot.
    v.as_number().map(|n| n.to_bits() as u32)
}

// --- Encoding --------------------------------------------------------------------

/// Append the encoding of `v` to `out`. `limit` is the largest length `out` may
/// reach (beyond it: "not enough memory", as for a string that would be too long).
/// On error `out` may hold part of the encoding; the caller truncates it.
pub fn encode(st: &mut State, out: &mut HVec<u8>, limit: usize, v: Value, dicts: Dicts) -> LResult<()> {
    let mut e = Encoder {
        out,
        limit,
        depth: MAX_DEPTH,
        dicts,
    };
    e.put(st, v)
}

struct Encoder<'a> {
    out: &'a mut HVec<u8>,
    limit: usize,
    depth: i32,
    dicts: Dicts,
}

impl Encoder<'_> {
    fn bytes(&mut self, b: &[u8]) -> LResult<()> {
        if self.out.len().saturating_add(b.len()) > self.limit {
            return Err(Throw::Oom);
        }
        Ok(self.out.extend_from_slice(b)?)
    }

    #[inline]
    fn u124(&mut self, v: u32) -> LResult<()> {
        if v < 0xe0 {
            self.bytes(&[v as u8])
        } else if v < 0x1fe0 {
            let w = v - 0xe0;
            self.bytes(&[0xe0 | (w >> 8) as u8, w as u8])
        } else {
            let b = v.to_le_bytes();
            self.bytes(&[0xff, b[0], b[1], b[2], b[3]])
        }
    }

    fn string(&mut self, st: &mut State, s: GcRef<GcStr>) -> LResult<()> {
        let b = s.as_bytes();
        st.charge_bytes(b.len())?;
        // A string longer than u32 cannot exist (strings stop at MAX_STR).
        let len = u32::try_from(b.len()).map_err(|_| Throw::Oom)?;
        self.u124(TAG_STR.saturating_add(len))?;
        self.bytes(b)
    }

    fn put(&mut self, st: &mut State, v: Value) -> LResult<()> {
        if let Some(s) = v.as_string() {
            return self.string(st, s);
        }
        if v.is_number() {
            // Numbers are stored as their bits (NaNs canonical, sign kept).
            let b = v.bits().to_le_bytes();
            return self.bytes(&[TAG_NUM, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        }
        if let Some(b) = v.as_bool() {
            return self.bytes(&[if b { TAG_TRUE } else { TAG_FALSE }]);
        }
        if v.is_nil() {
            return self.bytes(&[TAG_NIL]);
        }
        if let Some(t) = v.as_table() {
            return self.table(st, t);
        }
        if let Some(addr) = v.as_light_userdata() {
            let a = addr as u64;
            return if a == 0 {
                self.bytes(&[TAG_NULL])
            } else if let Ok(a32) = u32::try_from(a) {
                let b = a32.to_le_bytes();
                self.bytes(&[TAG_LIGHTUD32, b[0], b[1], b[2], b[3]])
            } else {
                let b = a.to_le_bytes();
                self.bytes(&[TAG_LIGHTUD64, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            };
        }
        let tn = crate::vm::meta::type_name(v);
        Err(st.rt_error_fmt(crate::errmsg::SERIALIZE_TYPE, &[tn.as_bytes()]))
    }

    fn table(&mut self, st: &mut State, t: GcRef<GcTable>) -> LResult<()> {
        if self.depth <= 0 {
            return Err(st.rt_error(crate::errmsg::SERIALIZE_TOO_DEEP));
        }
        self.depth -= 1;
        let arr = t.array.as_slice();
        let nodes = t.node.as_slice();
        st.charge(1 + (arr.len() + nodes.len()) as u64 / 8)?;
        // LuaJIT's array part has a slot for key 0, counted in `a`; Perilune keeps
        // key 0 in the hash part. With an array part, a key 0 is written as its slot
        // 0 (the 0-based form), as LuaJIT writes `{[0] = x, y}`.
        let narray = arr.iter().rposition(|v| !v.is_nil()).map_or(0, |j| j + 2);
        let zero = if narray > 0 && !nodes.is_empty() {
            t.get_int(0)
        } else {
            Value::NIL
        };
        let zero_based = !zero.is_nil();
        let mut nhash = nodes.iter().filter(|n| !n.val.is_nil()).count();
        if zero_based {
            nhash -= 1;
        }
        if let (Some(dm), Some(mt)) = (self.dicts.mts, t.metatable) {
            if let Some(idx) = dict_position(dm.get(Value::table(mt))) {
                self.bytes(&[TAG_DICT_MT])?;
                self.u124(idx)?;
            }
        }
        let mut tag = TAG_TAB;
        if nhash > 0 {
            tag += 1;
        }
        if narray > 0 {
            tag += if zero_based { 2 } else { 4 };
        }
        self.bytes(&[tag])?;
        // Both counts fit: parts are at most 2^30 slots.
        if narray > 0 {
            self.u124(narray as u32)?;
        }
        if nhash > 0 {
            self.u124(nhash as u32)?;
        }
        if narray > 0 {
            if zero_based {
                self.put(st, zero)?;
            }
            for &v in arr.iter().take(narray - 1) {
                self.put(st, v)?;
            }
        }
        if nhash > 0 {
            for n in nodes {
                if n.val.is_nil() || (zero_based && n.key.as_number() == Some(0.0)) {
                    continue;
                }
                match (self.dicts.strs, n.key.as_string()) {
                    (Some(d), Some(k)) => match dict_position(d.get_str(k)) {
                        Some(idx) => {
                            self.bytes(&[TAG_DICT_STR])?;
                            self.u124(idx)?;
                        }
                        None => self.string(st, k)?,
                    },
                    _ => self.put(st, n.key)?,
                }
                self.put(st, n.val)?;
            }
        }
        self.depth += 1;
        Ok(())
    }
}

// --- Decoding --------------------------------------------------------------------

/// Decode one object from the start of `input`. Returns it and the number of bytes
/// it took.
pub fn decode(st: &mut State, input: &[u8], dicts: Dicts) -> LResult<(Value, usize)> {
    let mut d = Decoder {
        input,
        pos: 0,
        depth: MAX_DEPTH,
        dicts,
    };
    let v = d.get(st)?;
    Ok((v, d.pos))
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    depth: i32,
    dicts: Dicts,
}

fn eob(st: &mut State) -> Throw {
    st.rt_error(crate::errmsg::DESERIALIZE_END)
}

fn bad_tag(st: &mut State, tp: u32) -> Throw {
    let tp = format!("{tp:02x}");
    st.rt_error_fmt(crate::errmsg::DESERIALIZE_TAG, &[tp.as_bytes()])
}

fn bad_index(st: &mut State, idx: u32) -> Throw {
    // LuaJIT prints the 1-based index with `%d`: 2^32-1 shows as -1.
    let idx = (idx as i32).to_string();
    st.rt_error_fmt(crate::errmsg::DESERIALIZE_DICT, &[idx.as_bytes()])
}

impl<'a> Decoder<'a> {
    fn left(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    fn take(&mut self, st: &mut State, n: usize) -> LResult<&'a [u8]> {
        let input: &'a [u8] = self.input;
        match input.get(self.pos..self.pos.saturating_add(n)) {
            Some(b) => {
                self.pos += n;
                Ok(b)
            }
            None => Err(eob(st)),
        }
    }

    fn take_array<const N: usize>(&mut self, st: &mut State) -> LResult<[u8; N]> {
        let b = self.take(st, N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    fn u124(&mut self, st: &mut State) -> LResult<u32> {
        let [b] = self.take_array::<1>(st)?;
        let v = u32::from(b);
        if v < 0xe0 {
            Ok(v)
        } else if v != 0xff {
            let [lo] = self.take_array::<1>(st)?;
            Ok(((v & 0x1f) << 8) + u32::from(lo) + 0xe0)
        } else {
            Ok(u32::from_le_bytes(self.take_array::<4>(st)?))
        }
    }

    fn get(&mut self, st: &mut State) -> LResult<Value> {
        let tp = self.u124(st)?;
        if tp >= TAG_STR {
            let len = (tp - TAG_STR) as usize;
            let b = self.take(st, len)?;
            st.charge_bytes(len)?;
            return Ok(Value::string(st.intern(b)?));
        }
        match tp {
            0x00 => Ok(Value::NIL),
            0x01 => Ok(Value::FALSE),
            0x02 => Ok(Value::TRUE),
            0x03 => Ok(Value::light_userdata(0)),
            0x04 => {
                let a = u32::from_le_bytes(self.take_array::<4>(st)?);
                Ok(Value::light_userdata(a as usize))
            }
            0x05 => {
                let a = u64::from_le_bytes(self.take_array::<8>(st)?);
                // Light userdata hold 47-bit addresses here; LuaJIT refuses the
                // addresses it cannot represent with this message.
                match usize::try_from(a) {
                    Ok(a) if a >> 47 == 0 => Ok(Value::light_userdata(a)),
                    _ => Err(st.error_from_text(crate::errmsg::DESERIALIZE_LIGHTUD)),
                }
            }
            TAG_INT => {
                let i = i32::from_le_bytes(self.take_array::<4>(st)?);
                Ok(Value::number(f64::from(i)))
            }
            0x07 => {
                let bits = u64::from_le_bytes(self.take_array::<8>(st)?);
                Ok(Value::number(f64::from_bits(bits)))
            }
            0x08..=0x0e => self.table(st, tp),
            0x0f => {
                let idx = self.u124(st)?.wrapping_add(1);
                let s = match self.dicts.strs {
                    Some(d) if idx >= 1 => d.get_int(i64::from(idx)).as_string(),
                    _ => None,
                };
                match s {
                    Some(s) => Ok(Value::string(s)),
                    None => Err(bad_index(st, idx)),
                }
            }
            TAG_INT64 | TAG_UINT64 | TAG_COMPLEX => {
                // FFI numbers: checked for length first, then refused (no FFI).
                let sz = if tp == TAG_COMPLEX { 16 } else { 8 };
                self.take(st, sz)?;
                Err(bad_tag(st, tp))
            }
            _ => Err(bad_tag(st, tp)),
        }
    }

    fn table(&mut self, st: &mut State, mut tp: u32) -> LResult<Value> {
        if self.depth <= 0 {
            return Err(st.rt_error(crate::errmsg::SERIALIZE_TOO_DEEP));
        }
        self.depth -= 1;
        let mut mt = None;
        if tp == u32::from(TAG_DICT_MT) {
            let idx = self.u124(st)?.wrapping_add(1);
            mt = match self.dicts.mts {
                Some(d) if idx >= 1 => d.get_int(i64::from(idx)).as_table(),
                _ => None,
            };
            if mt.is_none() {
                return Err(bad_index(st, idx));
            }
            tp = self.u124(st)?;
            if !(u32::from(TAG_TAB)..u32::from(TAG_DICT_MT)).contains(&tp) {
                return Err(bad_tag(st, tp));
            }
        }
        let narray = if tp >= u32::from(TAG_TAB) + 2 {
            self.u124(st)?
        } else {
            0
        };
        let nhash = if tp & 1 != 0 { self.u124(st)? } else { 0 };
        if narray > LJ_MAX_ASIZE || nhash > LJ_MAX_HSIZE {
            return Err(st.error_from_text(crate::errmsg::TABLE_OVERFLOW));
        }
        let zero_based = tp < u32::from(TAG_TAB) + 4;
        let first: u32 = if zero_based { 0 } else { 1 };
        let count = narray.saturating_sub(first) as usize;
        // Size the parts from the header only if the input can hold that many
        // entries (at least one byte per value); otherwise the decode will fail
        // anyway and the table grows as it goes.
        let fits = count.saturating_add((nhash as usize).saturating_mul(2)) <= self.left();
        let (na, nh) = if fits {
            let zero_slot = usize::from(zero_based && narray > 0);
            (narray.saturating_sub(1) as usize, nhash as usize + zero_slot)
        } else {
            (0, 0)
        };
        st.charge(1 + (na + nh) as u64 / 8)?;
        let t = st.new_table(na, nh)?;
        if let Some(mt) = mt {
            // A new table is white: no barrier is needed, but it costs nothing.
            t.get_mut().metatable = Some(mt);
            crate::gc::barrier_forward(st, t.header(), Value::table(mt));
        }
        for i in first..narray {
            let v = self.get(st)?;
            if !v.is_nil() {
                st.table_set(t, Value::number(f64::from(i)), v)?;
            }
        }
        for _ in 0..nhash {
            let k = self.get(st)?;
            // These three come from LuaJIT's table code, which does not add the
            // caller's position (the other messages here do).
            if k.is_nil() {
                return Err(st.error_from_text(crate::errmsg::TABLE_INDEX_NIL));
            }
            if k.as_number().is_some_and(f64::is_nan) {
                return Err(st.error_from_text(crate::errmsg::TABLE_INDEX_NAN));
            }
            if !t.get(k).is_nil() {
                return Err(st.rt_error(crate::errmsg::DESERIALIZE_DUPLICATE_KEY));
            }
            let v = self.get(st)?;
            st.table_set(t, k, v)?;
        }
        self.depth += 1;
        Ok(Value::table(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Box<State> {
        let mut st = State::with_allocator(Box::new(crate::alloc::SystemAllocator)).unwrap();
        st.open_libs().unwrap();
        st
    }

    fn enc(st: &mut State, v: Value) -> Vec<u8> {
        let mut out = HVec::new(st.heap_ref());
        encode(st, &mut out, usize::MAX, v, Dicts::default()).unwrap();
        out.to_vec()
    }

    #[test]
    fn u124_boundaries() {
        let mut st = state();
        for (len, head) in [
            (0usize, vec![0x20u8]),
            (0xbf, vec![0xdf]),
            (0xc0, vec![0xe0, 0x00]),
            (0x1fbf, vec![0xfe, 0xff]),
            (0x1fc0, vec![0xff, 0xe0, 0x1f, 0x00, 0x00]),
        ] {
            let s = st.str_value(&vec![b'x'; len]).unwrap();
            let e = enc(&mut st, s);
            assert_eq!(&e[..head.len()], &head[..], "len {len}");
            assert_eq!(e.len(), head.len() + len);
            let (v, used) = decode(&mut st, &e, Dicts::default()).unwrap();
            assert_eq!(used, e.len());
            assert_eq!(v.as_string().unwrap().len(), len);
        }
    }

    #[test]
    fn scalars() {
        let mut st = state();
        assert_eq!(enc(&mut st, Value::NIL), [0]);
        assert_eq!(enc(&mut st, Value::FALSE), [1]);
        assert_eq!(enc(&mut st, Value::TRUE), [2]);
        assert_eq!(enc(&mut st, Value::number(1.0)), [7, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
        assert_eq!(enc(&mut st, Value::light_userdata(0)), [3]);
        assert_eq!(enc(&mut st, Value::light_userdata(1)), [4, 1, 0, 0, 0]);
        assert_eq!(
            enc(&mut st, Value::light_userdata(1 << 40)),
            [5, 0, 0, 0, 0, 0, 1, 0, 0]
        );
        let (v, _) = decode(&mut st, &[6, 0xff, 0xff, 0xff, 0xff], Dicts::default()).unwrap();
        assert_eq!(v.as_number(), Some(-1.0));
    }

    #[test]
    fn truncated_input_never_allocates_the_header_size() {
        let mut st = state();
        let before = st.heap.used();
        // An array of 2^27 slots announced by a 6-byte input.
        assert!(decode(&mut st, &[0x0c, 0xff, 0x01, 0x00, 0x00, 0x08], Dicts::default()).is_err());
        assert!(st.heap.used() < before + (1 << 20));
    }
}
