//! Conversions between Lua values and C bytes, with LuaJIT's rules and messages
//! (`ext_ffi_semantics.html`, "Conversions from Lua objects to C types" and back).
//!
//! The pair the rest of the FFI (and the C call layer) uses:
//! - [`to_c`]: a Lua value into the C representation of a type, written to `dst`;
//! - [`from_c`]: C bytes of a type at an address into a Lua value (numbers for
//!   scalars that fit, boxed cdata for 64-bit integers, pointers and complex
//!   numbers, a reference or a copy for aggregates).
//!
//! Plus the initializers of `ffi.new` ([`init`]): tables, replicated scalars,
//! strings into char arrays, VLA/VLS sizes ([`alloc_size`]).
//!
//! Invariants: `dst`/addresses are valid for the type's size (the caller's
//! obligation: a cdata payload, or raw memory a script pointed at); nothing here
//! allocates except the cdata [`from_c`] returns and error messages.
use super::ctype::{flags, CKind, CType, CTypeId, SIZE_UNKNOWN};
use super::{new_cdata, repr, FfiState};
use crate::cdata::GcCdata;
use crate::errmsg;
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

/// How strict a conversion is: implicit (assignment, argument, initializer) or an
/// explicit `ffi.cast`, which also converts between pointers and integers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Implicit,
    Cast,
}

/// A number as an `int64_t` the way x86-64 converts (out of range and NaN give
/// the "integer indefinite" `i64::MIN`), as LuaJIT's `(int64_t)n`.
pub fn num_to_i64(n: f64) -> i64 {
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// A number as a `uint64_t` as LuaJIT's `lj_num2u64` computes it.
pub fn num_to_u64(n: f64) -> u64 {
    let i = num_to_i64(n);
    if i < 0 {
        num_to_i64(n - 18_446_744_073_709_551_616.0) as u64
    } else {
        i as u64
    }
}

/// The name of a Lua value for conversion messages: its type, or for cdata the C
/// type's name.
pub fn value_type_name(fs: &FfiState, v: Value) -> Vec<u8> {
    match v.as_cdata() {
        Some(c) => {
            let mut out = Vec::new();
            repr::type_name(&fs.tab, CTypeId(c.ctid()), &mut out);
            out
        }
        None => crate::vm::meta::type_name(v).as_bytes().to_vec(),
    }
}

/// `cannot convert 'from' to 'to'`.
/// While the arguments of a C call are converted (`FfiState::conv_arg`), it is
/// `bad argument #n to '?' (cannot convert ...)`, as LuaJIT says.
pub fn convert_error(st: &mut State, fs: &FfiState, v: Value, to: CTypeId) -> Throw {
    let from = value_type_name(fs, v);
    let to = repr::name_string(&fs.tab, to);
    let arg = fs.conv_arg.get();
    if arg > 0 {
        let msg: Vec<u8> = errmsg::Parts::new(errmsg::FFI_CONVERT, &[&from, to.as_bytes()]).concat();
        let n = arg.to_string();
        return st.rt_error_fmt(errmsg::BAD_ARGUMENT, &[n.as_bytes(), b"?", &msg]);
    }
    st.rt_error_fmt(errmsg::FFI_CONVERT, &[&from, to.as_bytes()])
}

/// The numeric value of scalar C bytes: an integer (with its signedness) or a float.
#[derive(Clone, Copy, Debug)]
pub enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::U(u) => u as f64,
            Num::F(f) => f,
        }
    }
    pub fn as_i64(self) -> i64 {
        match self {
            Num::I(i) => i,
            Num::U(u) => u as i64,
            Num::F(f) => num_to_i64(f),
        }
    }
    pub fn as_u64(self) -> u64 {
        match self {
            Num::I(i) => i as u64,
            Num::U(u) => u,
            Num::F(f) => num_to_u64(f),
        }
    }
}

/// Read `size` bytes at `p` (native endian).
///
/// # Safety
/// `p` is valid for reading `size <= 8` bytes.
unsafe fn load(p: *const u8, size: usize) -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: caller contract.
    unsafe { std::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), size.min(8)) };
    u64::from_le_bytes(b)
}

/// Write the low `size` bytes of `v` to `p`.
///
/// # Safety
/// `p` is valid for writing `size <= 8` bytes.
unsafe fn store(p: *mut u8, size: usize, v: u64) {
    let b = v.to_le_bytes();
    // SAFETY: caller contract.
    unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), p, size.min(8)) };
}

/// The value of a scalar (integer, bool, enum, float; the real part of a complex)
/// of resolved type `t` at `p`; `None` for other kinds.
///
/// # Safety
/// `p` is valid for `t.size` bytes.
pub unsafe fn read_num(fs: &FfiState, t: &CType, p: *const u8) -> Option<Num> {
    match t.kind {
        CKind::Int => {
            let size = t.size as usize;
            // SAFETY: caller contract.
            let raw = unsafe { load(p, size) };
            if t.flags & flags::BOOL != 0 {
                return Some(Num::I((raw & 0xff != 0) as i64));
            }
            if t.flags & flags::UNSIGNED != 0 {
                Some(Num::U(raw))
            } else {
                let sh = 64 - 8 * size.clamp(1, 8) as u32;
                Some(Num::I(((raw << sh) as i64) >> sh))
            }
        }
        CKind::Enum => {
            let u = *fs.tab.resolve(t.child);
            // SAFETY: an enum has its underlying type's size.
            unsafe { read_num(fs, &u, p) }
        }
        CKind::Float => {
            let size = if t.flags & flags::COMPLEX != 0 {
                t.size / 2
            } else {
                t.size
            };
            // SAFETY: caller contract.
            let raw = unsafe { load(p, 8) };
            match size {
                4 => Some(Num::F(f32::from_bits(raw as u32) as f64)),
                8 => Some(Num::F(f64::from_bits(raw))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Write number `n` as a scalar of resolved type `t` at `p`. `false`: not a scalar.
///
/// # Safety
/// `p` is valid for `t.size` bytes.
pub unsafe fn write_num(fs: &FfiState, t: &CType, p: *mut u8, n: Num) -> bool {
    match t.kind {
        CKind::Int => {
            let size = t.size as usize;
            let v = if t.flags & flags::BOOL != 0 {
                let nz = match n {
                    Num::F(f) => f != 0.0,
                    Num::I(i) => i != 0,
                    Num::U(u) => u != 0,
                };
                nz as u64
            } else if t.flags & flags::UNSIGNED != 0 && size == 8 {
                n.as_u64()
            } else {
                match n {
                    // LuaJIT converts to 32 bits first for the narrow types.
                    Num::F(f) if size < 8 => num_to_i64(f) as i32 as i64 as u64,
                    _ => n.as_i64() as u64,
                }
            };
            // SAFETY: caller contract.
            unsafe { store(p, size, v) };
            true
        }
        CKind::Enum => {
            let u = *fs.tab.resolve(t.child);
            // SAFETY: an enum has its underlying type's size.
            unsafe { write_num(fs, &u, p, n) }
        }
        CKind::Float => {
            let cplx = t.flags & flags::COMPLEX != 0;
            let size = if cplx { t.size / 2 } else { t.size };
            let f = n.as_f64();
            // SAFETY: caller contract (a complex is two parts of `size` bytes).
            unsafe {
                match size {
                    4 => store(p, 4, (f as f32).to_bits() as u64),
                    8 => store(p, 8, f.to_bits()),
                    _ => return false,
                }
                if cplx {
                    std::ptr::write_bytes(p.add(size as usize), 0, size as usize);
                }
            }
            true
        }
        _ => false,
    }
}

/// Where a cdata's object lives: its type (references followed) and address.
pub fn locate(fs: &FfiState, c: crate::object::GcRef<GcCdata>) -> (CTypeId, *mut u8) {
    let id = CTypeId(c.ctid());
    let t = fs.tab.resolve(id);
    if t.kind == CKind::Ref {
        // SAFETY: a reference's payload is the 8-byte address it refers to.
        let a = unsafe { load(GcCdata::payload(c), 8) } as usize;
        (t.child, a as *mut u8)
    } else {
        (id, GcCdata::payload(c))
    }
}

/// The address a pointer-like cdata stands for (pointers: their value; arrays,
/// structs and references: where the object is), with its element/pointee type.
pub fn pointer_of(fs: &FfiState, c: crate::object::GcRef<GcCdata>) -> Option<(CTypeId, usize)> {
    let (id, addr) = locate(fs, c);
    let t = fs.tab.resolve(id);
    match t.kind {
        // SAFETY: a pointer object holds 8 bytes.
        CKind::Ptr => Some((t.child, unsafe { load(addr, 8) } as usize)),
        CKind::Array => Some((t.child, addr as usize)),
        // SAFETY: a function cdata holds the function's 8-byte address.
        CKind::Func => Some((id, unsafe { load(addr, 8) } as usize)),
        CKind::Struct | CKind::Union => Some((id, addr as usize)),
        _ => None,
    }
}

fn is_void(fs: &FfiState, id: CTypeId) -> bool {
    fs.tab.resolve(id).kind == CKind::Void
}

/// Are pointee types `a` and `b` the same (qualifiers ignored)?
fn same_type(fs: &FfiState, a: CTypeId, b: CTypeId) -> bool {
    let (ra, rb) = (fs.tab.resolve_id(a), fs.tab.resolve_id(b));
    if ra == rb {
        return true;
    }
    let (ta, tb) = (fs.tab.get(ra), fs.tab.get(rb));
    match (ta.kind, tb.kind) {
        (CKind::Int, CKind::Int) | (CKind::Float, CKind::Float) => {
            ta.size == tb.size && (ta.flags & !flags::QUALS) == (tb.flags & !flags::QUALS)
        }
        (CKind::Ptr, CKind::Ptr) => same_type(fs, ta.child, tb.child),
        (CKind::Array, CKind::Array) => ta.value == tb.value && same_type(fs, ta.child, tb.child),
        _ => false,
    }
}

/// Convert Lua value `v` to C type `id`, writing its representation to `dst`.
///
/// # Safety
/// `dst` is valid for writing the type's size.
pub unsafe fn to_c(st: &mut State, fs: &FfiState, id: CTypeId, v: Value, dst: *mut u8, mode: Mode) -> LResult<()> {
    let t = *fs.tab.resolve(id);
    if let Some(n) = v.as_number() {
        if t.kind == CKind::Ptr {
            if mode == Mode::Cast {
                // SAFETY: a pointer is 8 bytes.
                unsafe { store(dst, 8, num_to_i64(n) as u64) };
                return Ok(());
            }
            return Err(convert_error(st, fs, v, id));
        }
        // SAFETY: caller contract.
        if unsafe { write_num(fs, &t, dst, Num::F(n)) } {
            return Ok(());
        }
        return Err(convert_error(st, fs, v, id));
    }
    if let Some(b) = v.as_bool() {
        // SAFETY: caller contract.
        if t.kind != CKind::Ptr && unsafe { write_num(fs, &t, dst, Num::I(b as i64)) } {
            return Ok(());
        }
        return Err(convert_error(st, fs, v, id));
    }
    if v.is_nil() {
        if t.kind == CKind::Ptr {
            // SAFETY: a pointer is 8 bytes.
            unsafe { store(dst, 8, 0) };
            return Ok(());
        }
        return Err(convert_error(st, fs, v, id));
    }
    if let Some(s) = v.as_string() {
        match t.kind {
            CKind::Ptr => {
                // SAFETY: a pointer is 8 bytes. Strings are NUL-terminated and do
                // not move; the pointer is valid while the string is alive.
                unsafe { store(dst, 8, s.as_bytes().as_ptr() as u64) };
                return Ok(());
            }
            CKind::Array if fs.tab.resolve(t.child).size == 1 => {
                let bytes = s.as_bytes();
                let n = if t.size == SIZE_UNKNOWN {
                    0
                } else {
                    (t.size as usize).min(bytes.len() + 1)
                };
                let m = n.min(bytes.len());
                // SAFETY: caller contract: `dst` holds `t.size` bytes, n <= t.size.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, m);
                    if n > m {
                        *dst.add(m) = 0;
                    }
                }
                return Ok(());
            }
            CKind::Enum => {
                if let Some(k) = enum_constant(fs, &t, s.as_bytes()) {
                    // SAFETY: caller contract.
                    unsafe { write_num(fs, &t, dst, Num::I(k)) };
                    return Ok(());
                }
                return Err(convert_error(st, fs, v, id));
            }
            _ => return Err(convert_error(st, fs, v, id)),
        }
    }
    if let Some(a) = v.as_light_userdata() {
        if t.kind == CKind::Ptr {
            // SAFETY: a pointer is 8 bytes.
            unsafe { store(dst, 8, a as u64) };
            return Ok(());
        }
        return Err(convert_error(st, fs, v, id));
    }
    if let Some(u) = v.as_userdata() {
        if t.kind == CKind::Ptr {
            // SAFETY: a pointer is 8 bytes; the payload stays where it is.
            unsafe { store(dst, 8, crate::udata::GcUdata::payload_ptr(u) as u64) };
            return Ok(());
        }
        return Err(convert_error(st, fs, v, id));
    }
    if v.is_function() && t.kind == CKind::Ptr && fs.tab.resolve(t.child).kind == CKind::Func {
        // A Lua function where a function pointer is expected: a callback.
        let a = super::ccall::new_callback(st, fs, id, v)?;
        // SAFETY: a pointer is 8 bytes.
        unsafe { store(dst, 8, a as u64) };
        return Ok(());
    }
    if let Some(tab) = v.as_table() {
        if matches!(t.kind, CKind::Array | CKind::Struct | CKind::Union) {
            // SAFETY: caller contract.
            return unsafe { init_from_table(st, fs, id, tab, dst) };
        }
        return Err(convert_error(st, fs, v, id));
    }
    if let Some(c) = v.as_cdata() {
        // SAFETY: caller contract.
        return unsafe { cdata_to_c(st, fs, id, &t, v, c, dst, mode) };
    }
    Err(convert_error(st, fs, v, id))
}

/// The value of enum constant `name` of enum `t`.
pub fn enum_constant(fs: &FfiState, t: &CType, name: &[u8]) -> Option<i64> {
    let mut k = t.first;
    for _ in 0..super::ctype::MAX_TYPES {
        if k.is_none() {
            break;
        }
        let c = fs.tab.get(k);
        if fs.tab.name(c.name) == name {
            return Some(c.value);
        }
        k = c.next;
    }
    None
}

#[allow(clippy::too_many_arguments)]
unsafe fn cdata_to_c(
    st: &mut State,
    fs: &FfiState,
    id: CTypeId,
    t: &CType,
    v: Value,
    c: crate::object::GcRef<GcCdata>,
    dst: *mut u8,
    mode: Mode,
) -> LResult<()> {
    let (sid, sp) = locate(fs, c);
    let s = *fs.tab.resolve(sid);
    match t.kind {
        CKind::Int | CKind::Float | CKind::Enum => {
            // SAFETY: `sp` is the cdata's object, of its type's size.
            if let Some(n) = unsafe { read_num(fs, &s, sp) } {
                // SAFETY: caller contract.
                unsafe { write_num(fs, t, dst, n) };
                return Ok(());
            }
            if mode == Mode::Cast && t.kind == CKind::Int {
                if let Some((_, a)) = pointer_of(fs, c) {
                    let n = Num::U(a as u64);
                    // SAFETY: caller contract.
                    unsafe { write_num(fs, t, dst, n) };
                    return Ok(());
                }
            }
        }
        CKind::Ptr => {
            if mode == Mode::Cast {
                if let Some((_, a)) = pointer_of(fs, c) {
                    // SAFETY: a pointer is 8 bytes.
                    unsafe { store(dst, 8, a as u64) };
                    return Ok(());
                }
                // SAFETY: `sp` is the cdata's object.
                if let Some(n) = unsafe { read_num(fs, &s, sp) } {
                    // SAFETY: a pointer is 8 bytes.
                    unsafe { store(dst, 8, n.as_u64()) };
                    return Ok(());
                }
            } else if let Some((pointee, a)) = pointer_of(fs, c) {
                let ok = match s.kind {
                    CKind::Ptr | CKind::Array => {
                        is_void(fs, t.child)
                            || is_void(fs, pointee)
                            || same_type(fs, t.child, pointee)
                            || (fs.tab.resolve(t.child).kind == CKind::Func
                                && fs.tab.resolve(pointee).kind == CKind::Func)
                    }
                    // A function converts to any function pointer, as in LuaJIT.
                    CKind::Func => is_void(fs, t.child) || fs.tab.resolve(t.child).kind == CKind::Func,
                    // A struct or union converts to a pointer to it.
                    _ => is_void(fs, t.child) || same_type(fs, t.child, sid),
                };
                if ok {
                    // SAFETY: a pointer is 8 bytes.
                    unsafe { store(dst, 8, a as u64) };
                    return Ok(());
                }
            }
        }
        CKind::Struct | CKind::Union | CKind::Array if same_type(fs, id, sid) && t.size != SIZE_UNKNOWN => {
            // SAFETY: both objects are of this type's size; copy handles overlap.
            unsafe { std::ptr::copy(sp, dst, t.size as usize) };
            return Ok(());
        }
        _ => {}
    }
    Err(convert_error(st, fs, v, id))
}

/// Convert `v` to type `id` into a fresh boxed cdata (`ffi.cast`, arithmetic
/// results).
pub fn to_cdata(st: &mut State, fs: &FfiState, id: CTypeId, v: Value, mode: Mode) -> LResult<Value> {
    let size = fs.tab.resolve(id).size;
    if size == SIZE_UNKNOWN {
        return Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE));
    }
    // Rooted: `v` may be a cdata the conversion reads after this allocation.
    let c = new_cdata(st, fs, id, size as usize)?;
    // SAFETY: the payload is `size` bytes.
    unsafe { to_c(st, fs, id, v, GcCdata::payload(c), mode)? };
    Ok(Value::cdata(c))
}

/// A reference type to `id` (interned).
pub fn ref_type(st: &mut State, fs: &mut FfiState, id: CTypeId) -> LResult<CTypeId> {
    address_type(st, fs, CKind::Ref, id)
}

/// A pointer type to `id` (interned).
pub fn ptr_type(st: &mut State, fs: &mut FfiState, id: CTypeId) -> LResult<CTypeId> {
    address_type(st, fs, CKind::Ptr, id)
}

/// The interned 8-byte type of `kind` (a pointer or a reference) to `id`.
fn address_type(st: &mut State, fs: &mut FfiState, kind: CKind, id: CTypeId) -> LResult<CTypeId> {
    let mut r = CType::new(kind);
    r.child = id;
    r.size = 8;
    r.align = 3;
    match fs.tab.intern(r)? {
        Some(i) => Ok(i),
        None => Err(st.rt_error_here(errmsg::TABLE_OVERFLOW)),
    }
}

/// The Lua value of C type `id` at `p`. Aggregates give a reference (`as_ref`)
/// or a boxed copy.
///
/// # Safety
/// `p` is valid for reading the type's size.
pub unsafe fn from_c(st: &mut State, fs: &mut FfiState, id: CTypeId, p: *const u8, as_ref: bool) -> LResult<Value> {
    let t = *fs.tab.resolve(id);
    match t.kind {
        CKind::Int if t.flags & flags::BOOL != 0 => {
            // SAFETY: caller contract.
            Ok(Value::boolean(unsafe { *p } != 0))
        }
        CKind::Int if t.size == 8 => {
            // SAFETY: caller contract.
            let raw = unsafe { load(p, 8) };
            super::new_int64(st, fs, raw, t.flags & flags::UNSIGNED != 0)
        }
        CKind::Int | CKind::Enum => {
            // SAFETY: caller contract.
            let n = unsafe { read_num(fs, &t, p) }.map_or(0.0, Num::as_f64);
            Ok(Value::number(n))
        }
        CKind::Float if t.flags & flags::COMPLEX == 0 && t.size <= 8 => {
            // SAFETY: caller contract.
            let n = unsafe { read_num(fs, &t, p) }.map_or(0.0, Num::as_f64);
            Ok(Value::number(n))
        }
        CKind::Struct | CKind::Union | CKind::Array if as_ref => {
            let r = ref_type(st, fs, id)?;
            let c = new_cdata(st, fs, r, 8)?;
            // SAFETY: a reference's payload is 8 bytes.
            unsafe { store(GcCdata::payload(c), 8, p as u64) };
            Ok(Value::cdata(c))
        }
        CKind::Void | CKind::Func => Err(st.rt_error_fmt(
            errmsg::FFI_CONVERT,
            &[repr::name_string(&fs.tab, id).as_bytes(), b"lua"],
        )),
        _ => {
            if t.size == SIZE_UNKNOWN {
                return Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE));
            }
            let c = new_cdata(st, fs, id, t.size as usize)?;
            // SAFETY: caller contract; the fresh payload is `t.size` bytes.
            unsafe { std::ptr::copy_nonoverlapping(p, GcCdata::payload(c), t.size as usize) };
            Ok(Value::cdata(c))
        }
    }
}

// --- Initializers -------------------------------------------------------------------

/// The payload size of a cdata of type `id`, `n` the element count of a VLA or of
/// the VLS's last member. `None`: unknown size (no count for a variable type, or
/// an incomplete type).
pub fn alloc_size(fs: &FfiState, id: CTypeId, n: Option<u64>) -> Option<u64> {
    let t = fs.tab.resolve(id);
    if t.flags & flags::VLA != 0 {
        let n = n?;
        match t.kind {
            CKind::Array => {
                let es = fs.tab.resolve(t.child).size;
                if es == SIZE_UNKNOWN {
                    return None;
                }
                (es as u64).checked_mul(n)
            }
            CKind::Struct | CKind::Union => {
                // The last member is the `[?]` array.
                let mut m = t.first;
                let mut last = None;
                for _ in 0..super::ctype::MAX_TYPES {
                    if m.is_none() {
                        break;
                    }
                    last = Some(m);
                    m = fs.tab.get(m).next;
                }
                let f = fs.tab.get(last?);
                let arr = fs.tab.resolve(f.child);
                let es = fs.tab.resolve(arr.child).size as u64;
                let end = (f.value as u64).checked_add(es.checked_mul(n)?)?;
                let a = t.alignment() as u64;
                Some(end.div_ceil(a) * a)
            }
            _ => None,
        }
    } else if t.size == SIZE_UNKNOWN || t.flags & flags::INCOMPLETE != 0 {
        None
    } else {
        Some(t.size as u64)
    }
}

/// The members of a struct or union, in order, transparent members included as
/// themselves (a nested anonymous struct is initialized as one member).
fn members(fs: &FfiState, t: &CType) -> Vec<CTypeId> {
    let mut out = Vec::new();
    let mut m = t.first;
    for _ in 0..super::ctype::MAX_TYPES {
        if m.is_none() {
            break;
        }
        let f = fs.tab.get(m);
        if matches!(f.kind, CKind::Field | CKind::BitField) {
            out.push(m);
        }
        m = f.next;
    }
    out
}

/// Store `v` into member `m` of the struct at `base`.
///
/// # Safety
/// `base` is valid for the struct's size.
pub unsafe fn store_member(st: &mut State, fs: &FfiState, m: CTypeId, base: *mut u8, v: Value) -> LResult<()> {
    let f = *fs.tab.get(m);
    if f.kind == CKind::BitField {
        // SAFETY: caller contract.
        return unsafe { store_bitfield(st, fs, &f, base, v) };
    }
    // SAFETY: the member lies inside the struct (layout invariant).
    unsafe { to_c(st, fs, f.child, v, base.add(f.value as usize), Mode::Implicit) }
}

/// Bytes spanned by a bitfield: (first byte, count, shift).
fn bit_span(f: &CType) -> (usize, usize, u32) {
    let off = f.value as u64;
    let start = (off / 8) as usize;
    let shift = (off % 8) as u32;
    let n = (shift as usize + f.bits as usize).div_ceil(8);
    (start, n.clamp(1, 9), shift)
}

/// # Safety
/// `base` is valid for the struct's size.
unsafe fn store_bitfield(st: &mut State, fs: &FfiState, f: &CType, base: *mut u8, v: Value) -> LResult<()> {
    let ty = *fs.tab.resolve(f.child);
    let mut tmp = [0u8; 8];
    // SAFETY: `tmp` holds 8 bytes, enough for any integer.
    unsafe { to_c(st, fs, f.child, v, tmp.as_mut_ptr(), Mode::Implicit)? };
    let val = u64::from_le_bytes(tmp) as u128;
    let (start, n, shift) = bit_span(f);
    let mask: u128 = ((1u128 << f.bits) - 1) << shift;
    let _ = ty;
    let mut cur = [0u8; 16];
    // SAFETY: the span lies inside the struct (layout invariant).
    unsafe { std::ptr::copy_nonoverlapping(base.add(start), cur.as_mut_ptr(), n) };
    let w = u128::from_le_bytes(cur);
    let w = (w & !mask) | ((val << shift) & mask);
    // SAFETY: as above.
    unsafe { std::ptr::copy_nonoverlapping(w.to_le_bytes().as_ptr(), base.add(start), n) };
    Ok(())
}

/// Read bitfield `f` of the struct at `base`.
///
/// # Safety
/// `base` is valid for the struct's size.
pub unsafe fn load_bitfield(fs: &FfiState, f: &CType, base: *const u8) -> Value {
    let ty = *fs.tab.resolve(f.child);
    let (start, n, shift) = bit_span(f);
    let mut cur = [0u8; 16];
    // SAFETY: the span lies inside the struct (layout invariant).
    unsafe { std::ptr::copy_nonoverlapping(base.add(start), cur.as_mut_ptr(), n) };
    let w = u128::from_le_bytes(cur) >> shift;
    let bits = f.bits as u32;
    let raw = (w & ((1u128 << bits) - 1)) as u64;
    if ty.flags & flags::BOOL != 0 {
        return Value::boolean(raw != 0);
    }
    if ty.flags & flags::UNSIGNED != 0 || bits == 0 {
        Value::number(raw as f64)
    } else {
        let sh = 64 - bits;
        Value::number((((raw << sh) as i64) >> sh) as f64)
    }
}

/// Initialize the object of type `id` at `dst` from a table.
///
/// # Safety
/// `dst` is valid for the type's size (or the VLA/VLS size it was made with).
unsafe fn init_from_table(
    st: &mut State,
    fs: &FfiState,
    id: CTypeId,
    tab: crate::object::GcRef<crate::object::GcTable>,
    dst: *mut u8,
) -> LResult<()> {
    let t = *fs.tab.resolve(id);
    let mut i: i64 = if tab.get_int(0).is_nil() { 1 } else { 0 };
    match t.kind {
        CKind::Array => {
            let es = fs.tab.resolve(t.child).size;
            if es == SIZE_UNKNOWN || es == 0 {
                return Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE));
            }
            let len = if t.flags & flags::VLA != 0 || t.size == SIZE_UNKNOWN {
                u64::MAX
            } else {
                t.value as u64
            };
            let first = i;
            let mut n = 0u64;
            loop {
                let v = tab.get_int(i);
                if v.is_nil() {
                    break;
                }
                if n >= len {
                    return Err(too_many(st, fs, id));
                }
                // SAFETY: element `n` < len lies inside the array.
                unsafe { to_c(st, fs, t.child, v, dst.add((n * es as u64) as usize), Mode::Implicit)? };
                n += 1;
                i += 1;
            }
            // One element fills the whole array (LuaJIT's rule).
            if n == 1 && len != u64::MAX {
                let _ = first;
                for k in 1..len {
                    // SAFETY: both elements lie inside the array.
                    unsafe {
                        std::ptr::copy_nonoverlapping(dst, dst.add((k * es as u64) as usize), es as usize);
                    }
                }
            }
            Ok(())
        }
        CKind::Struct | CKind::Union => {
            for m in members(fs, &t) {
                let f = *fs.tab.get(m);
                let mut v = Value::NIL;
                if f.name.len > 0 {
                    let key = st.intern(fs.tab.name(f.name))?;
                    v = tab.get(Value::string(key));
                }
                if v.is_nil() {
                    v = tab.get_int(i);
                    i += 1;
                }
                if !v.is_nil() {
                    // SAFETY: caller contract.
                    unsafe { store_member(st, fs, m, dst, v)? };
                }
                if t.kind == CKind::Union {
                    break;
                }
            }
            Ok(())
        }
        _ => Err(convert_error(st, fs, Value::table(tab), id)),
    }
}

fn too_many(st: &mut State, fs: &FfiState, id: CTypeId) -> Throw {
    let n = repr::name_string(&fs.tab, id);
    st.rt_error_fmt(errmsg::FFI_TOO_MANY_INIT, &[n.as_bytes()])
}

/// `ffi.new`'s initializers `args` for the object of type `id` at `dst` (already
/// zeroed): none, one value converted (a table, a string for a char array, a
/// cdata of the same type), one scalar replicated over an array, or one value per
/// element/member in order.
///
/// # Safety
/// `dst` is valid for the object's size (`size`).
pub unsafe fn init(
    st: &mut State,
    fs: &FfiState,
    id: CTypeId,
    dst: *mut u8,
    size: usize,
    args: &[Value],
) -> LResult<()> {
    let t = *fs.tab.resolve(id);
    if args.is_empty() {
        return Ok(());
    }
    let aggregate = matches!(t.kind, CKind::Array | CKind::Struct | CKind::Union);
    if t.kind == CKind::Float && t.flags & flags::COMPLEX != 0 && args.len() == 2 {
        // `ffi.new("complex", re, im)`.
        let half = (t.size / 2) as usize;
        let mut pt = t;
        pt.flags &= !flags::COMPLEX;
        pt.size = half as u32;
        for (k, a) in args.iter().enumerate() {
            let Some(n) = a.as_number() else {
                return Err(convert_error(st, fs, *a, id));
            };
            // SAFETY: both parts lie inside the object.
            unsafe { write_num(fs, &pt, dst.add(k * half), Num::F(n)) };
        }
        return Ok(());
    }
    if !aggregate {
        if args.len() > 1 {
            return Err(too_many(st, fs, id));
        }
        // SAFETY: caller contract.
        return unsafe { to_c(st, fs, id, args[0], dst, Mode::Implicit) };
    }
    if args.len() == 1 {
        let a = args[0];
        let whole = a.is_table()
            || (a.is_string() && t.kind == CKind::Array && fs.tab.resolve(t.child).size == 1)
            || a.as_cdata().is_some_and(|c| same_type(fs, id, locate(fs, c).0));
        if whole {
            // SAFETY: caller contract.
            return unsafe { to_c(st, fs, id, a, dst, Mode::Implicit) };
        }
    }
    match t.kind {
        CKind::Array => {
            let es = fs.tab.resolve(t.child).size as usize;
            if es == 0 || es == SIZE_UNKNOWN as usize {
                return Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE));
            }
            let len = size / es;
            if args.len() > len {
                return Err(too_many(st, fs, id));
            }
            for (k, &a) in args.iter().enumerate() {
                // SAFETY: k < len elements lie inside the object.
                unsafe { to_c(st, fs, t.child, a, dst.add(k * es), Mode::Implicit)? };
            }
            if args.len() == 1 {
                for k in 1..len {
                    // SAFETY: both elements lie inside the object.
                    unsafe { std::ptr::copy_nonoverlapping(dst, dst.add(k * es), es) };
                }
            }
            Ok(())
        }
        _ => {
            let ms = members(fs, &t);
            let n = if t.kind == CKind::Union { 1 } else { ms.len() };
            if args.len() > n {
                return Err(too_many(st, fs, id));
            }
            for (&m, &a) in ms.iter().zip(args) {
                // SAFETY: caller contract.
                unsafe { store_member(st, fs, m, dst, a)? };
            }
            Ok(())
        }
    }
}
