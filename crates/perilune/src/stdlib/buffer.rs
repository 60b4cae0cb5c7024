//! `string.buffer`, LuaJIT 2.1's string buffer library (`require("string.buffer")`),
//! without the parts that need the FFI. See `docs/stdlib-string.md`, "string.buffer".
//!
//! A buffer is a full userdata whose payload holds a [`StrBuf`] (a Rust value dropped
//! through the `HostPayload` hook of `udata.rs`). Its bytes live in an accounted
//! [`HVec`], so the memory limit applies to them and a refused allocation is the
//! ordinary "not enough memory" error; `buf:free()` and the collector give them back.
//!
//! - Writers append at the end; readers consume from a read offset `r`, so `get` and
//!   `skip` move no bytes. When a write does not fit, the consumed prefix is dropped
//!   by moving the live bytes down if at least an eighth of the capacity is consumed
//!   (or the write needs the room anyway), else the block grows geometrically: each
//!   byte is moved O(1) times, and `put` of many small strings is amortized O(1).
//! - `buf:set(str)` does not copy: the buffer reads from the string (copy-on-write)
//!   until something is written to it. The string is kept alive in the buffer's
//!   *private environment* (below).
//! - Values a buffer must keep alive (its `dict` and `metatable` dictionaries and the
//!   string of `set`) are kept in a private environment table, slots 1, 2 and 3,
//!   made the first time one is needed; a buffer without any has the method table as
//!   its environment, as in LuaJIT. The payload remembers which table is its own and
//!   checks it and the slot's type on every use, so `debug.setfenv` or writes into
//!   the table from Lua can make a buffer forget its dictionaries or its string (it
//!   is then empty) but never make it read freed memory.
//! - Everything a buffer method receives from Lua is checked as LuaJIT checks it,
//!   with LuaJIT's messages (`bad argument #1 to 'put' (buffer expected, got nil)`,
//!   `number out of range`, `cannot put buffer into itself`, ...).
//!
//! Differences from LuaJIT (all documented in `docs/stdlib-string.md`):
//! - No FFI: `putcdata`, `reserve`, `commit` and `ref` are absent from the method
//!   table (as in a LuaJIT built without the FFI), `set` takes strings only.
//! - `..` with a buffer goes through a `__concat` metamethod (LuaJIT's VM handles
//!   buffers in its concatenation directly); the results are the same, but an error
//!   for a value that cannot be concatenated does not name the variable.
//! - A failed `buf:encode` leaves the buffer as it was (LuaJIT may leave part of the
//!   encoding).
//! - `io.write`, `file:write` and `load` do not take buffers yet (they take their
//!   `tostring`).

use std::any::TypeId;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::buffer_codec::{self, Dicts};
use super::string::{num_to_i32, push_charged};
use crate::alloc::HVec;
use crate::buf::{Buf, MAX_STR};
use crate::object::{GcRef, GcStr, GcTable, GcUdata};
use crate::udata::HostPayload;
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::{State, Tm};

/// The largest amount of data a buffer holds (LuaJIT's `LJ_MAX_BUF`, the largest
/// string); more is "not enough memory".
pub const MAX_BUF: usize = MAX_STR;

/// Smallest block a buffer allocates when it starts to hold data (LuaJIT's
/// `LJ_MIN_SBUF`).
const MIN_SIZE: usize = 32;

/// Slots of a buffer's private environment table.
const ENV_DICT_STR: i64 = 1;
const ENV_DICT_MT: i64 = 2;
const ENV_COW: i64 = 3;

/// A buffer's payload.
pub struct StrBuf {
    /// Owned bytes: the contents are `data[r..]` (unless `cow` is set; then `data`
    /// is empty).
    data: HVec<u8>,
    /// Read offset: the bytes before it were consumed.
    r: usize,
    /// Copy-on-write source (`buf:set(str)`).
    cow: Option<Cow>,
    /// Address of the buffer's private environment table, 0 if it has none.
    env_id: usize,
}

/// The contents are bytes `r..end` of the string at `addr`, which is held in slot
/// [`ENV_COW`] of the private environment.
#[derive(Clone, Copy)]
struct Cow {
    addr: usize,
    end: usize,
}

// The payload of a userdata is 16-aligned.
const _: () = assert!(std::mem::align_of::<StrBuf>() <= 16);

/// # Safety
/// `payload` holds an initialised `StrBuf` that is dropped only here (the
/// `HostPayload` contract of `udata.rs`).
unsafe fn drop_strbuf(payload: *mut u8) {
    let p = payload.cast::<StrBuf>();
    // The collector must not unwind.
    // SAFETY: caller contract; the value is not used again.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe { std::ptr::drop_in_place(p) }));
}

/// The drop hook (and type tag) of buffer payloads.
static BUFFER_PAYLOAD: HostPayload = HostPayload {
    drop: drop_strbuf,
    type_id: TypeId::of::<StrBuf>,
    heap_bytes: Some(heap_bytes),
};

/// The buffer state in `u`, if `u` is a buffer.
///
/// The reference must not be held across anything that can free `u` or run Lua
/// code; natives re-fetch it after calling back into Lua.
pub fn buf_of<'a>(u: GcRef<GcUdata>) -> Option<&'a mut StrBuf> {
    let host = u.host?;
    // Buffers are made here with this very vtable: a pointer compare identifies them.
    if !std::ptr::eq(host, &BUFFER_PAYLOAD) || u.len < std::mem::size_of::<StrBuf>() {
        return None;
    }
    // SAFETY: `host` says the payload holds an initialised `StrBuf` (udata.rs
    // invariant); the VM is single-threaded and callers hold no other reference.
    Some(unsafe { &mut *GcUdata::payload_ptr(u).cast::<StrBuf>() })
}

/// Heap bytes a buffer holds besides the userdata itself (its data block); 0 for
/// other userdata. For the heap verifier (through [`HostPayload::heap_bytes`]).
fn heap_bytes(u: GcRef<GcUdata>) -> usize {
    buf_of(u).map_or(0, |sb| sb.data.byte_size())
}

/// `v` as a buffer object.
pub fn as_buffer(v: Value) -> Option<GcRef<GcUdata>> {
    v.as_userdata().filter(|&u| buf_of(u).is_some())
}

/// The unconsumed bytes of buffer `u` (empty if `u` is not a buffer). Valid until
/// the buffer is written to, freed or collected.
pub fn contents<'a>(u: GcRef<GcUdata>) -> &'a [u8] {
    match buf_of(u) {
        Some(sb) => sb.bytes(u),
        None => &[],
    }
}

/// The bytes of a string, for as long as the caller keeps it alive.
fn str_bytes<'a>(s: GcRef<GcStr>) -> &'a [u8] {
    // SAFETY: strings are immutable and never move; every caller keeps `s`
    // reachable (an argument slot, a buffer's environment) while it uses the slice
    // and runs no collection in between.
    unsafe { &*(s.as_bytes() as *const [u8]) }
}

/// The private environment of `u`, if it still has the one it made.
fn private_env(u: GcRef<GcUdata>, env_id: usize) -> Option<GcRef<GcTable>> {
    (env_id != 0 && u.env.as_ptr() as usize == env_id).then_some(u.env)
}

impl StrBuf {
    fn new(heap: crate::alloc::HeapRef) -> StrBuf {
        StrBuf {
            data: HVec::new(heap),
            r: 0,
            cow: None,
            env_id: 0,
        }
    }

    /// The copy-on-write string, if it is still where the buffer put it.
    fn cow_str(&self, u: GcRef<GcUdata>, cow: Cow) -> Option<GcRef<GcStr>> {
        let env = private_env(u, self.env_id)?;
        env.get_int(ENV_COW)
            .as_string()
            .filter(|s| s.as_ptr() as usize == cow.addr)
    }

    fn bytes<'a>(&self, u: GcRef<GcUdata>) -> &'a [u8] {
        match self.cow {
            None => {
                let all = self.data.as_slice();
                // SAFETY: the slice points into the buffer's block, which stays put
                // until the buffer is written to (callers' contract, see `contents`).
                let all: &'a [u8] = unsafe { &*(all as *const [u8]) };
                all.get(self.r..).unwrap_or(&[])
            }
            Some(c) => match self.cow_str(u, c) {
                Some(s) => {
                    let b = str_bytes(s);
                    let end = c.end.min(b.len());
                    b.get(self.r.min(end)..end).unwrap_or(&[])
                }
                None => &[],
            },
        }
    }

    fn len(&self, u: GcRef<GcUdata>) -> usize {
        self.bytes(u).len()
    }

    /// Forget the copy-on-write string (and release it).
    fn drop_cow(&mut self, u: GcRef<GcUdata>) {
        if self.cow.take().is_some() {
            if let Some(env) = private_env(u, self.env_id) {
                // Storing nil into a present key never allocates.
                let _ = env.get_mut().set_int(ENV_COW, Value::NIL);
            }
        }
    }

    /// Room for `extra` more bytes at the end of `data` (copying the contents out of
    /// a copy-on-write string first).
    fn make_room(&mut self, st: &mut State, u: GcRef<GcUdata>, extra: usize) -> LResult<()> {
        if self.cow.is_some() {
            let src = self.bytes(u);
            let need = src.len().saturating_add(extra);
            if need > MAX_BUF {
                return Err(Throw::Oom);
            }
            st.charge_bytes(src.len())?;
            let mut data = HVec::with_capacity(self.data.heap(), need.max(MIN_SIZE))?;
            data.extend_from_slice(src)?;
            self.data = data;
            self.r = 0;
            self.drop_cow(u);
            return Ok(());
        }
        let live = self.data.len() - self.r.min(self.data.len());
        if live.saturating_add(extra) > MAX_BUF {
            return Err(Throw::Oom);
        }
        let cap = self.data.capacity();
        if self.data.len() + extra <= cap {
            return Ok(());
        }
        if self.r > 0 && (live + extra > cap || self.r >= cap / 8) {
            self.compact();
        }
        if self.data.len() + extra > self.data.capacity() {
            if self.data.capacity() == 0 {
                self.data.reserve_exact(extra.max(MIN_SIZE))?;
            } else {
                self.data.reserve(extra)?;
            }
        }
        Ok(())
    }

    /// Move the live bytes to the start of the block.
    fn compact(&mut self) {
        let r = self.r.min(self.data.len());
        let live = self.data.len() - r;
        self.data.as_mut_slice().copy_within(r.., 0);
        self.data.truncate(live);
        self.r = 0;
    }

    /// Append `b` (which must not point into this buffer).
    fn append(&mut self, st: &mut State, u: GcRef<GcUdata>, b: &[u8]) -> LResult<()> {
        if b.is_empty() {
            return Ok(());
        }
        self.make_room(st, u, b.len())?;
        st.charge_bytes(b.len())?;
        Ok(self.data.extend_from_slice(b)?)
    }

    /// Consume `n` bytes (at most the length).
    fn consume(&mut self, u: GcRef<GcUdata>, n: usize) {
        let n = n.min(self.len(u));
        self.r += n;
        if self.cow.is_none() && self.r >= self.data.len() {
            self.data.clear();
            self.r = 0;
        }
    }

    fn reset(&mut self, u: GcRef<GcUdata>) {
        self.drop_cow(u);
        self.data.clear();
        self.r = 0;
    }

    fn free(&mut self, u: GcRef<GcUdata>) {
        self.drop_cow(u);
        self.data = HVec::new(self.data.heap());
        self.r = 0;
    }

    /// The dictionaries (from the private environment).
    fn dicts(&self, u: GcRef<GcUdata>) -> Dicts {
        match private_env(u, self.env_id) {
            Some(env) => Dicts {
                strs: env.get_int(ENV_DICT_STR).as_table(),
                mts: env.get_int(ENV_DICT_MT).as_table(),
            },
            None => Dicts::default(),
        }
    }
}

/// The private environment of `u`, made now if it has none.
fn ensure_private_env(st: &mut State, u: GcRef<GcUdata>) -> LResult<GcRef<GcTable>> {
    let sb = sbuf(st, u)?;
    if let Some(env) = private_env(u, sb.env_id) {
        return Ok(env);
    }
    let env = st.new_table(3, 0)?;
    u.get_mut().env = env;
    crate::gc::barrier_forward(st, u.header(), Value::table(env));
    sbuf(st, u)?.env_id = env.as_ptr() as usize;
    Ok(env)
}

// --- Argument helpers ----------------------------------------------------------------

/// The payload of buffer `u` (checked by [`check_buf`] before).
fn sbuf<'a>(st: &mut State, u: GcRef<GcUdata>) -> LResult<&'a mut StrBuf> {
    match buf_of(u) {
        Some(sb) => Ok(sb),
        None => Err(st.type_error(1, "buffer")),
    }
}

/// Argument 1 as a buffer ("buffer expected").
fn check_buf(st: &mut State) -> LResult<GcRef<GcUdata>> {
    match as_buffer(st.arg(1)) {
        Some(u) => Ok(u),
        None => Err(st.type_error(1, "buffer")),
    }
}

/// LuaJIT's `lj_lib_checkintrange`: a number (strings are not converted), truncated
/// to 32 bits, within `lo..=hi`, else "number out of range".
fn int_range(st: &mut State, i: usize, lo: i32, hi: i32) -> LResult<usize> {
    let n = match st.arg(i).as_number() {
        Some(n) if i <= st.arg_count() => num_to_i32(n),
        _ => return Err(st.type_error(i, "number")),
    };
    if n < lo || n > hi {
        return Err(st.arg_error(i, crate::errmsg::NUMBER_OUT_OF_RANGE));
    }
    Ok(n as usize)
}

/// A string argument, not converted from a number (LuaJIT's `lj_lib_checkstrx`).
fn strict_string(st: &mut State, i: usize) -> LResult<GcRef<GcStr>> {
    match st.arg(i).as_string() {
        Some(s) => Ok(s),
        None => Err(st.type_error(i, "string")),
    }
}

/// The largest buffer size as an argument range bound.
const MAX_BUF_ARG: i32 = MAX_BUF as i32;

// --- Methods ---------------------------------------------------------------------------

pub(crate) fn m_free(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    sbuf(st, u)?.free(u);
    st.push(Value::userdata(u))?;
    Ok(1)
}

pub(crate) fn m_reset(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    sbuf(st, u)?.reset(u);
    st.push(Value::userdata(u))?;
    Ok(1)
}

pub(crate) fn m_skip(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    let n = int_range(st, 2, 0, MAX_BUF_ARG)?;
    sbuf(st, u)?.consume(u, n);
    st.push(Value::userdata(u))?;
    Ok(1)
}

pub(crate) fn m_set(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    let s = strict_string(st, 2)?;
    sbuf(st, u)?.free(u);
    let env = ensure_private_env(st, u)?;
    st.table_set(env, Value::number(ENV_COW as f64), Value::string(s))?;
    let sb = sbuf(st, u)?;
    sb.cow = Some(Cow {
        addr: s.as_ptr() as usize,
        end: s.len(),
    });
    sb.r = 0;
    st.push(Value::userdata(u))?;
    Ok(1)
}

/// Append value `v` (argument `i`) the way `put` does, without metamethods: a
/// string, a number (`%.14g`) or another buffer. False if `v` is none of these.
fn put_plain(st: &mut State, u: GcRef<GcUdata>, i: usize, v: Value) -> LResult<bool> {
    if let Some(s) = v.as_string() {
        sbuf(st, u)?.append(st, u, str_bytes(s))?;
    } else if let Some(n) = v.as_number() {
        let mut nb = [0u8; 64];
        let len = crate::number::fmt_number(n, &mut nb);
        sbuf(st, u)?.append(st, u, nb.get(..len).unwrap_or(&[]))?;
    } else if let Some(other) = as_buffer(v) {
        if other == u {
            return Err(st.arg_error(i, crate::errmsg::BUFFER_INTO_ITSELF));
        }
        sbuf(st, u)?.append(st, u, contents(other))?;
    } else {
        return Ok(false);
    }
    Ok(true)
}

pub(crate) fn m_put(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    for i in 2..=st.arg_count() {
        let v = st.arg(i);
        if put_plain(st, u, i, v)? {
            continue;
        }
        // `__tostring` is called once and its result appended like an argument (it
        // replaces the argument, so it stays rooted and the error names its type).
        let h = st.tm_of(v, Tm::Tostring);
        if !h.is_nil() {
            let r = st.call_sync(h, &[v])?;
            st.set_arg(i, r);
            if put_plain(st, u, i, r)? {
                continue;
            }
        }
        return Err(st.type_error(i, "string/number/__tostring"));
    }
    st.push(Value::userdata(u))?;
    Ok(1)
}

pub(crate) fn m_putf(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    let heap = st.heap_ref();
    // The formatted text goes into the buffer before any `__tostring` runs and at
    // the end, so the order of writes is LuaJIT's, and what was formatted before an
    // error stays in the buffer, as there.
    let mut flush = |st: &mut State, out: &mut Buf| -> LResult<()> {
        let text = std::mem::replace(out, Buf::new(heap));
        sbuf(st, u)?.append(st, u, text.as_slice())
    };
    let mut out = Buf::new(heap);
    let r = super::format::format_into(st, 2, &mut out, Some(u), &mut flush);
    let flushed = flush(st, &mut out);
    r?;
    flushed?;
    st.push(Value::userdata(u))?;
    Ok(1)
}

pub(crate) fn m_get(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    // `get()` is `get(nil)`.
    let n = st.arg_count().saturating_sub(1).max(1);
    for k in 0..n {
        let i = k + 2;
        let want = if st.arg(i).is_nil() {
            MAX_BUF
        } else {
            int_range(st, i, 0, MAX_BUF_ARG)?
        };
        let sb = sbuf(st, u)?;
        let b = sb.bytes(u);
        let take = want.min(b.len());
        push_charged(st, b.get(..take).unwrap_or(&[]), false)?;
        sbuf(st, u)?.consume(u, take);
    }
    Ok(n)
}

pub(crate) fn m_encode(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    let v = st.check_any(2)?;
    let sb = sbuf(st, u)?;
    let dicts = sb.dicts(u);
    // Own the contents (copy-on-write), and drop a consumed prefix at least as
    // long as the live data before the encoding grows the block.
    sb.make_room(st, u, 0)?;
    if sb.r > 0 && sb.r >= sb.data.len() - sb.r {
        sb.compact();
    }
    let start = sb.data.len();
    let limit = sb.r.saturating_add(MAX_BUF);
    if let Err(e) = buffer_codec::encode(st, &mut sb.data, limit, v, dicts) {
        sb.data.truncate(start);
        return Err(e);
    }
    st.push(Value::userdata(u))?;
    Ok(1)
}

pub(crate) fn m_decode(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    let sb = sbuf(st, u)?;
    let dicts = sb.dicts(u);
    let input = sb.bytes(u);
    let (v, used) = buffer_codec::decode(st, input, dicts)?;
    sbuf(st, u)?.consume(u, used);
    st.push(v)?;
    Ok(1)
}

pub(crate) fn m_gc(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    sbuf(st, u)?.free(u);
    Ok(0)
}

pub(crate) fn m_tostring(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    push_charged(st, contents(u), false)?;
    Ok(1)
}

pub(crate) fn m_len(st: &mut State) -> LResult<usize> {
    let u = check_buf(st)?;
    let n = sbuf(st, u)?.len(u);
    st.push(Value::number(n as f64))?;
    Ok(1)
}

/// Can `..` take `v` as it is (a string, a number or a buffer)?
fn concatable(v: Value) -> bool {
    v.is_string() || v.is_number() || as_buffer(v).is_some()
}

/// `__concat`: a buffer is concatenated as its contents. For an operand that is
/// none of string, number or buffer, this does what LuaJIT's concatenation does
/// (buffers have no `__concat` there): the other operand's `__concat`, else the
/// error for the first operand that is not a string or number.
pub(crate) fn m_concat(st: &mut State) -> LResult<usize> {
    let (a, b) = (st.arg(1), st.arg(2));
    if concatable(a) && concatable(b) {
        let mut out = Buf::new(st.heap_ref());
        for v in [a, b] {
            if let Some(s) = v.as_string() {
                out.extend(s.as_bytes())?;
            } else if let Some(n) = v.as_number() {
                let mut nb = [0u8; 64];
                let len = crate::number::fmt_number(n, &mut nb);
                out.extend(nb.get(..len).unwrap_or(&[]))?;
            } else if let Some(u) = as_buffer(v) {
                out.extend(contents(u))?;
            }
        }
        push_charged(st, out.as_slice(), true)?;
        return Ok(1);
    }
    for v in [a, b] {
        if as_buffer(v).is_none() {
            let h = st.tm_of(v, Tm::Concat);
            if !h.is_nil() {
                let r = st.call_sync(h, &[a, b])?;
                st.push(r)?;
                return Ok(1);
            }
        }
    }
    let bad = if a.is_string() || a.is_number() { b } else { a };
    let tn = crate::vm::meta::type_name(bad);
    Err(st.rt_error_fmt(
        crate::errmsg::OP_ON_VALUE,
        &[crate::errmsg::OP_CONCAT.as_bytes(), tn.as_bytes()],
    ))
}

// --- Library functions ----------------------------------------------------------------

/// Index the entries of a `dict` (strings) or `metatable` (tables) option once, as
/// LuaJIT does: each entry `e` at position `i` gets `dict[e] = <number with bits
/// i-1>` unless `dict[e]` is set already; `false` entries are skipped, anything
/// else is "bad options table". A table that already has a hash part (more than one
/// node) counts as indexed, as in LuaJIT.
fn prepare_dict(st: &mut State, d: GcRef<GcTable>, tables: bool) -> LResult<()> {
    if d.hash_len() > 1 {
        return Ok(());
    }
    let len = d.length();
    st.charge(1 + len as u64)?;
    for i in 1..=len {
        let v = d.get_int(i as i64);
        let ok = if tables { v.is_table() } else { v.is_string() };
        if ok {
            if d.get(v).is_nil() {
                let pos = Value::number(f64::from_bits((i - 1) as u64));
                st.table_set(d, v, pos)?;
            }
        } else if v.as_bool() != Some(false) {
            return Err(st.rt_error(crate::errmsg::BUFFER_OPTIONS));
        }
    }
    Ok(())
}

/// `buffer.new([size][, options])`; upvalue 1 is the method table.
pub(crate) fn buf_new(st: &mut State) -> LResult<usize> {
    let Some(mt) = st.native_upval(0).as_table() else {
        return Err(st.rt_error(crate::errmsg::INTERNAL_BUFFER_METHODS));
    };
    let narg = st.arg_count();
    let mut size = 0;
    let mut targ = 1;
    if narg >= 1 && !st.arg(1).is_table() {
        targ = 2;
        if !st.arg(1).is_nil() {
            size = int_range(st, 1, 0, MAX_BUF_ARG)?;
        }
    }
    let mut dicts = Dicts::default();
    if narg >= targ {
        let opts = st.check_table(targ)?;
        let k = st.intern(b"dict")?;
        if let Some(d) = opts.get_str(k).as_table() {
            prepare_dict(st, d, false)?;
            dicts.strs = Some(d);
        }
        let k = st.intern(b"metatable")?;
        if let Some(d) = opts.get_str(k).as_table() {
            prepare_dict(st, d, true)?;
            dicts.mts = Some(d);
        }
    }
    let u = st.new_userdata(std::mem::size_of::<StrBuf>())?;
    // SAFETY: the payload is at least `size_of::<StrBuf>()` bytes, 16-aligned (enough
    // for `StrBuf`, see the assertion above), and holds no value yet.
    unsafe {
        GcUdata::payload_ptr(u)
            .cast::<StrBuf>()
            .write(StrBuf::new(st.heap_ref()))
    };
    // A fresh object is white: storing these needs no barrier.
    let ur = u.get_mut();
    ur.host = Some(&BUFFER_PAYLOAD);
    ur.metatable = Some(mt);
    ur.env = mt;
    st.push(Value::userdata(u))?;
    if dicts.strs.is_some() || dicts.mts.is_some() {
        let env = ensure_private_env(st, u)?;
        for (slot, d) in [(ENV_DICT_STR, dicts.strs), (ENV_DICT_MT, dicts.mts)] {
            if let Some(d) = d {
                st.table_set(env, Value::number(slot as f64), Value::table(d))?;
            }
        }
    }
    if size > 0 {
        sbuf(st, u)?.data.reserve_exact(size)?;
    }
    Ok(1)
}

/// `buffer.encode(obj)`.
pub(crate) fn buf_encode(st: &mut State) -> LResult<usize> {
    let v = st.check_any(1)?;
    let mut out = HVec::new(st.heap_ref());
    buffer_codec::encode(st, &mut out, MAX_BUF, v, Dicts::default())?;
    push_charged(st, out.as_slice(), false)?;
    Ok(1)
}

/// `buffer.decode(str)`.
pub(crate) fn buf_decode(st: &mut State) -> LResult<usize> {
    let s = strict_string(st, 1)?;
    let input = str_bytes(s);
    let (v, used) = buffer_codec::decode(st, input, Dicts::default())?;
    if used != input.len() {
        return Err(st.rt_error(crate::errmsg::BUFFER_LEFT_OVER));
    }
    st.push(v)?;
    Ok(1)
}

fn set_field(st: &mut State, t: GcRef<GcTable>, name: &[u8], v: Value) -> LResult<()> {
    let k = st.str_value(name)?;
    st.table_set(t, k, v)
}

/// The loader of `require("string.buffer")` (in `package.preload`): a new library
/// table and method table on each call, as LuaJIT's `luaopen_string_buffer`.
pub fn open_module(st: &mut State) -> LResult<usize> {
    let mt = st.new_table(0, 16)?;
    super::open_funcs(st, super::Lib::BufferMethod, mt)?;
    let k = st.intern(b"__tostring")?;
    let ts = mt.get_str(k);
    set_field(st, mt, b"tostring", ts)?;
    let name = st.str_value(b"buffer")?;
    set_field(st, mt, b"__metatable", name)?;
    set_field(st, mt, b"__index", Value::table(mt))?;

    let lib = st.new_table(0, 4)?;
    let new = super::new_func(st, super::FF_BUFFER_NEW, 1)?;
    if let Some(slot) = new.native_upvals().first_mut() {
        *slot = Value::table(mt);
    }
    set_field(st, lib, b"new", Value::function(new))?;
    super::open_funcs(st, super::Lib::Buffer, lib)?;
    st.push(Value::table(lib))?;
    Ok(1)
}
