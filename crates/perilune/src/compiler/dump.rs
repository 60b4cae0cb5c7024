//! Binary chunks: `string.dump` writes a prototype tree, `load` reads it back.
//!
//! The format is Perilune's own (see `docs/bytecode-dump.md`): a header
//! (`"\x1bPerilune"`, a format version, instruction and number sizes, a test number
//! that fixes byte order and float format), the chunk's source name, then the main
//! prototype with its children nested inside it. All integers are little-endian
//! `u32`; strings are a `u32` length and the bytes; numbers are the `f64` bits.
//!
//! Reading treats the input as hostile (DESIGN.md invariant 9). Every count is
//! checked against the bytes that remain before anything is allocated, so a chunk
//! can never ask for more memory than a small multiple of its own size; counts and
//! indices are bounded by the compiler's own limits; nesting is bounded; every
//! allocation goes through the state's heap (failure is `not enough memory`); and
//! the finished tree always goes through the bytecode verifier before a closure is
//! made from it. Any problem is the error LuaJIT gives for a bad chunk.
//!
//! No collection runs while a chunk is read (allocations never start one), so the
//! strings, tables and prototypes made here need no rooting until `load` pushes the
//! closure; after a failure they are garbage.

use crate::alloc::HVec;
use crate::compiler::bytecode::{Ins, MAX_SLOTS};
use crate::compiler::codegen::{MAX_CONSTS, MAX_UPVALS};
use crate::compiler::parser::MAX_LEVEL;
use crate::func::{GcProto, LocVar, UpvalDesc};
use crate::object::{GcHeader, GcRef, GcStr, GcTable, ObjKind};
use crate::value::Value;
use crate::vm::state::State;

/// The first bytes of every binary chunk. A chunk whose first byte is `\x1b` is
/// binary; one that does not continue with the rest of this is not ours.
pub const SIGNATURE: &[u8] = b"\x1bPerilune";
/// Format version; bumped whenever the layout or the instruction set changes.
/// Version 2 added the flags byte (stripped chunks).
pub const FORMAT_VERSION: u8 = 2;
/// Header flag: debug information left out (`string.dump(f, true)`, `perilune -b -s`).
const FLAG_STRIP: u8 = 1;
/// Written after the sizes: fixes byte order and float format.
const TEST_NUMBER: f64 = 370.5;

/// Constant tags.
const K_NUM: u8 = 0;
const K_STR: u8 = 1;
const K_TABLE: u8 = 2;
/// Template table entry tags (besides `K_NUM` and `K_STR`).
const K_FALSE: u8 = 3;
const K_TRUE: u8 = 4;
/// A cdata literal of the FFI (`KCDATA`): a kind byte ([`CD_INT64`], [`CD_UINT64`],
/// [`CD_COMPLEX`]) and 16 payload bytes; loading one needs a state with the FFI.
const K_CDATA: u8 = 5;
const CD_INT64: u8 = 0;
const CD_UINT64: u8 = 1;
const CD_COMPLEX: u8 = 2;

/// The most child prototypes a function can have (FNEW's operand is 16 bits).
const MAX_PROTOS: usize = 1 << 16;

/// Why a chunk could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndumpError {
    /// Starts with `\x1b` but is not a Perilune chunk of this version and platform.
    Incompatible,
    /// A Perilune chunk that is cut short, inconsistent or fails verification. The
    /// text says what was wrong (for tests; the Lua error does not show it).
    Malformed(String),
    /// The heap refused an allocation.
    Oom,
}

impl From<crate::alloc::OutOfMemory> for UndumpError {
    fn from(_: crate::alloc::OutOfMemory) -> Self {
        UndumpError::Oom
    }
}

fn bad<T>(what: &str) -> Result<T, UndumpError> {
    Err(UndumpError::Malformed(what.to_string()))
}

// --- Writing ------------------------------------------------------------------------

/// Why a function could not be written.
#[derive(Debug)]
pub enum DumpError {
    /// A constant the format cannot hold (never made by the compiler).
    Unsupported,
    Oom,
}

impl From<crate::alloc::OutOfMemory> for DumpError {
    fn from(_: crate::alloc::OutOfMemory) -> Self {
        DumpError::Oom
    }
}

struct Writer {
    out: HVec<u8>,
    /// The state's literal ctype ids (`State::ffi_literals`).
    literals: Option<[u32; 3]>,
    /// Leave out debug information: line numbers, upvalue and local names.
    strip: bool,
}

impl Writer {
    fn u8(&mut self, b: u8) -> Result<(), DumpError> {
        Ok(self.out.push(b)?)
    }
    fn u32(&mut self, v: u32) -> Result<(), DumpError> {
        Ok(self.out.extend_from_slice(&v.to_le_bytes())?)
    }
    fn len(&mut self, n: usize) -> Result<(), DumpError> {
        let n = u32::try_from(n).map_err(|_| DumpError::Unsupported)?;
        self.u32(n)
    }
    fn u64(&mut self, v: u64) -> Result<(), DumpError> {
        Ok(self.out.extend_from_slice(&v.to_le_bytes())?)
    }
    fn bytes(&mut self, b: &[u8]) -> Result<(), DumpError> {
        self.len(b.len())?;
        Ok(self.out.extend_from_slice(b)?)
    }
    fn str(&mut self, s: GcRef<GcStr>) -> Result<(), DumpError> {
        self.bytes(s.as_bytes())
    }
    /// A number, string or boolean inside a template table.
    fn template_value(&mut self, v: Value) -> Result<(), DumpError> {
        if let Some(n) = v.as_number() {
            self.u8(K_NUM)?;
            self.u64(n.to_bits())
        } else if let Some(s) = v.as_string() {
            self.u8(K_STR)?;
            self.str(s)
        } else {
            match v.as_bool() {
                Some(false) => self.u8(K_FALSE),
                Some(true) => self.u8(K_TRUE),
                None => Err(DumpError::Unsupported),
            }
        }
    }
    fn proto(&mut self, p: &GcProto, depth: usize) -> Result<(), DumpError> {
        if depth > MAX_LEVEL as usize {
            return Err(DumpError::Unsupported);
        }
        // A stripped function forgets where it was defined, as in LuaJIT.
        let (first, last) = if self.strip {
            (0, 0)
        } else {
            (p.line_defined, p.last_line_defined)
        };
        self.u32(first)?;
        self.u32(last)?;
        self.u8(p.num_params)?;
        self.u8(p.is_vararg as u8)?;
        self.u8(p.framesize)?;
        self.len(p.code.len())?;
        for &ins in p.code.iter() {
            // The instruction as compiled, never a JIT-patched loop.
            self.u32(crate::compiler::bytecode::unpatch(ins))?;
        }
        if !self.strip {
            for i in 0..p.code.len() {
                self.u32(p.lineinfo.get(i).copied().unwrap_or(0))?;
            }
        }
        self.len(p.consts.len())?;
        for &k in p.consts.iter() {
            if let Some(t) = k.as_table() {
                self.u8(K_TABLE)?;
                self.len(t.array_len())?;
                // In key order, not the table's: hash order depends on the state's
                // (and the table's) random seed, and a dump should be the same
                // bytes every time.
                let mut entries: HVec<(Value, Value)> = HVec::with_capacity(self.out.heap(), t.iter().count())?;
                for e in t.iter() {
                    entries.push(e)?;
                }
                entries
                    .as_mut_slice()
                    .sort_unstable_by(|x, y| template_key_order(x.0, y.0));
                self.len(entries.len())?;
                for &(key, val) in entries.as_slice() {
                    self.template_value(key)?;
                    self.template_value(val)?;
                }
            } else if k.is_number() || k.is_string() {
                self.template_value(k)?;
            } else if let Some(c) = k.as_cdata() {
                let ids = self.literals.ok_or(DumpError::Unsupported)?;
                let kind = match ids.iter().position(|&i| i == c.ctid()) {
                    Some(0) => CD_INT64,
                    Some(1) => CD_UINT64,
                    Some(2) => CD_COMPLEX,
                    _ => return Err(DumpError::Unsupported),
                };
                self.u8(K_CDATA)?;
                self.u8(kind)?;
                let mut b = [0u8; 16];
                let src = crate::cdata::GcCdata::bytes(c);
                let n = src.len().min(16);
                b[..n].copy_from_slice(&src[..n]);
                self.out.extend_from_slice(&b)?;
            } else {
                return Err(DumpError::Unsupported);
            }
        }
        self.len(p.upvals.len())?;
        for (i, u) in p.upvals.iter().enumerate() {
            self.u8(u.in_stack as u8)?;
            self.u8(u.index)?;
            if !self.strip {
                match p.upval_names.get(i) {
                    Some(&s) => self.str(s)?,
                    None => self.bytes(b"")?,
                }
            }
        }
        if !self.strip {
            self.len(p.locvars.len())?;
            for lv in p.locvars.iter() {
                self.str(lv.name)?;
                self.u32(lv.start_pc)?;
                self.u32(lv.end_pc)?;
                self.u8(lv.reg)?;
            }
        }
        self.len(p.protos.len())?;
        for &child in p.protos.iter() {
            self.proto(&child, depth + 1)?;
        }
        Ok(())
    }
}

/// The order of template table keys in a dump: numbers by value, then strings by
/// their bytes, then `false` and `true`.
fn template_key_order(a: Value, b: Value) -> std::cmp::Ordering {
    let rank = |v: Value| {
        if v.is_number() {
            0
        } else if v.is_string() {
            1
        } else if v.as_bool() == Some(false) {
            2
        } else {
            3
        }
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| match (a.as_number(), b.as_number(), a.as_string(), b.as_string()) {
            (Some(x), Some(y), _, _) => x.total_cmp(&y),
            (_, _, Some(x), Some(y)) => x.as_bytes().cmp(y.as_bytes()),
            _ => std::cmp::Ordering::Equal,
        })
}

/// Serialise `p` and its children (not upvalue values) into a buffer on the state's
/// heap. `strip` leaves out the debug information (the chunk name too: a stripped
/// chunk takes the name `load` gives it).
pub fn dump(state: &State, p: GcRef<GcProto>, strip: bool) -> Result<HVec<u8>, DumpError> {
    let mut w = Writer {
        out: HVec::new(state.heap_ref()),
        literals: state.ffi_literals,
        strip,
    };
    w.out.extend_from_slice(SIGNATURE)?;
    w.u8(FORMAT_VERSION)?;
    w.u8(std::mem::size_of::<Ins>() as u8)?;
    w.u8(std::mem::size_of::<f64>() as u8)?;
    w.u64(TEST_NUMBER.to_bits())?;
    w.u8(if strip { FLAG_STRIP } else { 0 })?;
    if !strip {
        w.str(p.source)?;
    }
    w.proto(&p, 0)?;
    Ok(w.out)
}

// --- Reading ------------------------------------------------------------------------

struct Reader<'a, 's> {
    st: &'s mut State,
    buf: &'a [u8],
    pos: usize,
    /// Array slots of template tables still allowed (they can exceed the entries
    /// written, for constructors with nils, but not the size of the input).
    array_budget: usize,
    /// The chunk was written stripped: every upvalue is named by this empty string,
    /// and there are no line numbers or locals to read.
    stripped: Option<GcRef<GcStr>>,
}

impl Reader<'_, '_> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    fn take(&mut self, n: usize) -> Result<&[u8], UndumpError> {
        let end = match self.pos.checked_add(n) {
            Some(e) if e <= self.buf.len() => e,
            _ => return bad("unexpected end of chunk"),
        };
        let s = self.buf.get(self.pos..end).unwrap_or(&[]);
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, UndumpError> {
        let b = self.take(1)?;
        Ok(b.first().copied().unwrap_or(0))
    }
    fn bool(&mut self) -> Result<bool, UndumpError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => bad("bad boolean"),
        }
    }
    fn u32(&mut self) -> Result<u32, UndumpError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }
    fn u64(&mut self) -> Result<u64, UndumpError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// A count of items of at least `min_size` bytes each, no larger than `max` and
    /// no larger than what the rest of the input could hold.
    fn count(&mut self, min_size: usize, max: usize) -> Result<usize, UndumpError> {
        let n = self.u32()? as usize;
        if n > max {
            return bad("count out of range");
        }
        if n.saturating_mul(min_size) > self.remaining() {
            return bad("count larger than the chunk");
        }
        Ok(n)
    }
    fn str(&mut self) -> Result<GcRef<GcStr>, UndumpError> {
        let n = self.count(1, usize::MAX)?;
        let (start, end) = (self.pos, self.pos + n);
        self.pos = end;
        let bytes = self.buf.get(start..end).unwrap_or(&[]);
        Ok(self.st.intern(bytes)?)
    }
    /// A cdata literal (after `K_CDATA`): only in a state with the FFI.
    fn cdata(&mut self) -> Result<Value, UndumpError> {
        let kind = self.u8()?;
        let lo = self.u64()?;
        let hi = self.u64()?;
        let Some(ids) = self.st.ffi_literals else {
            return bad("cdata constant in a state without the FFI");
        };
        let (id, len) = match kind {
            CD_INT64 => (ids[0], 8),
            CD_UINT64 => (ids[1], 8),
            CD_COMPLEX => (ids[2], 16),
            _ => return bad("bad cdata constant"),
        };
        let c = crate::cdata::GcCdata::alloc(&self.st.heap, id, len, false)?;
        self.st.gc.adopt(c.header());
        let b = crate::cdata::GcCdata::bytes(c);
        let mut all = [0u8; 16];
        all[..8].copy_from_slice(&lo.to_le_bytes());
        all[8..].copy_from_slice(&hi.to_le_bytes());
        b.copy_from_slice(&all[..len]);
        Ok(Value::cdata(c))
    }
    fn number(&mut self) -> Result<Value, UndumpError> {
        Ok(Value::number(f64::from_bits(self.u64()?)))
    }
    fn template_value(&mut self) -> Result<Value, UndumpError> {
        match self.u8()? {
            K_NUM => self.number(),
            K_STR => Ok(Value::string(self.str()?)),
            K_FALSE => Ok(Value::FALSE),
            K_TRUE => Ok(Value::TRUE),
            _ => bad("bad template table entry"),
        }
    }
    fn template(&mut self) -> Result<GcRef<GcTable>, UndumpError> {
        let asize = self.u32()? as usize;
        if asize > self.array_budget {
            return bad("template array part too large");
        }
        self.array_budget -= asize;
        // Each entry is at least two tag bytes.
        let n = self.count(2, usize::MAX)?;
        let t = self.st.new_table(0, 0)?;
        for _ in 0..n {
            let k = self.template_value()?;
            let v = self.template_value()?;
            if k.as_number().is_some_and(f64::is_nan) {
                return bad("NaN key in template table");
            }
            match t.get_mut().set(k, v) {
                Ok(()) => {}
                Err(crate::table::TableError::Oom) => return Err(UndumpError::Oom),
                Err(_) => return bad("bad template table key"),
            }
        }
        t.get_mut().reserve_array(asize)?;
        Ok(t)
    }
    fn proto(&mut self, source: GcRef<GcStr>, depth: usize) -> Result<GcRef<GcProto>, UndumpError> {
        if depth > MAX_LEVEL as usize {
            return bad("functions nested too deeply");
        }
        let h = self.st.heap_ref();
        let line_defined = self.u32()?;
        let last_line_defined = self.u32()?;
        let num_params = self.u8()?;
        let is_vararg = self.bool()?;
        let framesize = self.u8()?;
        if framesize as u32 > MAX_SLOTS || num_params > framesize {
            return bad("bad frame size");
        }
        // Code: an instruction and (unless stripped) a line number per entry. A
        // stripped function is on line 0 throughout, as in LuaJIT.
        let strip_name = self.stripped;
        let ncode = self.count(if strip_name.is_some() { 4 } else { 8 }, usize::MAX)?;
        let mut code: HVec<Ins> = HVec::with_capacity(h, ncode)?;
        for _ in 0..ncode {
            code.push(self.u32()?)?;
        }
        let mut lineinfo: HVec<u32> = HVec::with_capacity(h, ncode)?;
        for _ in 0..ncode {
            lineinfo.push(if strip_name.is_some() { 0 } else { self.u32()? })?;
        }
        // Constants: a tag and at least four bytes.
        let nk = self.count(5, MAX_CONSTS)?;
        let mut consts: HVec<Value> = HVec::with_capacity(h, nk)?;
        for _ in 0..nk {
            let k = match self.u8()? {
                K_NUM => self.number()?,
                K_STR => Value::string(self.str()?),
                K_TABLE => Value::table(self.template()?),
                K_CDATA => self.cdata()?,
                _ => return bad("bad constant tag"),
            };
            consts.push(k)?;
        }
        // Upvalues: two bytes and (unless stripped) a name.
        let nup = self.count(if strip_name.is_some() { 2 } else { 6 }, MAX_UPVALS)?;
        let mut upvals: HVec<UpvalDesc> = HVec::with_capacity(h, nup)?;
        let mut upval_names: HVec<GcRef<GcStr>> = HVec::with_capacity(h, nup)?;
        for _ in 0..nup {
            let in_stack = self.bool()?;
            let index = self.u8()?;
            upvals.push(UpvalDesc { in_stack, index })?;
            upval_names.push(match strip_name {
                Some(empty) => empty,
                None => self.str()?,
            })?;
        }
        // Locals: a name, two pcs and a register.
        let nloc = if strip_name.is_some() {
            0
        } else {
            self.count(13, usize::MAX)?
        };
        let mut locvars: HVec<LocVar> = HVec::with_capacity(h, nloc)?;
        for _ in 0..nloc {
            let name = self.str()?;
            let start_pc = self.u32()?;
            let end_pc = self.u32()?;
            let reg = self.u8()?;
            // The register must be inside the frame: `debug.getlocal` reads it, and
            // above the frame's top a slot can hold a value the collector freed.
            if start_pc > end_pc || end_pc as usize > ncode || reg >= framesize {
                return bad("bad local variable");
            }
            locvars.push(LocVar {
                name,
                start_pc,
                end_pc,
                reg,
            })?;
        }
        // Children: each at least the fixed fields and five counts (four if stripped).
        let nchild = self.count(if strip_name.is_some() { 27 } else { 31 }, MAX_PROTOS)?;
        let mut protos: HVec<GcRef<GcProto>> = HVec::with_capacity(h, nchild)?;
        for _ in 0..nchild {
            let child = self.proto(source, depth + 1)?;
            protos.push(child)?;
        }
        let p = GcProto {
            hdr: GcHeader::new(ObjKind::Proto),
            code,
            lineinfo,
            consts,
            protos,
            upvals,
            upval_names,
            locvars,
            source,
            line_defined,
            last_line_defined,
            num_params,
            is_vararg,
            framesize,
        };
        Ok(self.st.new_proto(p)?)
    }
}

/// Whether `chunk` is binary (starts with the escape byte), as `load` decides it.
pub fn is_binary(chunk: &[u8]) -> bool {
    chunk.first() == Some(&SIGNATURE[0])
}

/// Read a binary chunk made by [`dump`] and verify it. The result is the main
/// prototype, ready for a closure (its upvalues, if any, start out nil). A stripped
/// chunk's functions take `chunkname` (what `load` was given) as their source.
pub fn undump(state: &mut State, chunk: &[u8], chunkname: &[u8]) -> Result<GcRef<GcProto>, UndumpError> {
    let mut r = Reader {
        st: state,
        buf: chunk,
        pos: 0,
        array_budget: chunk.len().saturating_mul(2).saturating_add(64),
        stripped: None,
    };
    // The header: anything that is not ours (another runtime's bytecode, another
    // format version, another platform) is incompatible rather than malformed.
    let head_len = SIGNATURE.len() + 3 + 8 + 1;
    if chunk.len() < head_len {
        // As LuaJIT: cut inside the header proper is malformed, shorter is foreign.
        return if chunk.starts_with(SIGNATURE) {
            bad("truncated header")
        } else {
            Err(UndumpError::Incompatible)
        };
    }
    if r.take(SIGNATURE.len())? != SIGNATURE {
        return Err(UndumpError::Incompatible);
    }
    let version = r.u8()?;
    let ins_size = r.u8()?;
    let num_size = r.u8()?;
    let test = r.u64()?;
    if version != FORMAT_VERSION
        || ins_size as usize != std::mem::size_of::<Ins>()
        || num_size as usize != std::mem::size_of::<f64>()
        || test != TEST_NUMBER.to_bits()
    {
        return Err(UndumpError::Incompatible);
    }
    let source = match r.u8()? {
        0 => r.str()?,
        FLAG_STRIP => {
            r.stripped = Some(r.st.intern(b"")?);
            r.st.intern(chunkname)?
        }
        _ => return bad("unknown header flags"),
    };
    let p = r.proto(source, 0)?;
    if r.remaining() != 0 {
        return bad("trailing bytes after the chunk");
    }
    crate::compiler::verify::verify(p).map_err(UndumpError::Malformed)?;
    let heap = r.st.heap_ref();
    crate::compiler::verify::verify_loops(p, heap).map_err(|e| match e {
        crate::compiler::verify::LoopError::Unpaid(m) => UndumpError::Malformed(m),
        crate::compiler::verify::LoopError::Oom => UndumpError::Oom,
    })?;
    Ok(p)
}

#[cfg(test)]
mod tests;
