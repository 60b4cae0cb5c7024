//! The metatable every cdata shares (`getmetatable(cd) == "ffi"`): indexing
//! (members, elements, pointer dereference), stores, pointer and 64-bit integer
//! arithmetic, comparisons, `tostring`, and the hand-off to a type's
//! `ffi.metatype` metatable.
//!
//! Rules (LuaJIT's, `ext_ffi_semantics.html`): fields and elements first, then the
//! metatype's `__index`/`__newindex`; for every other operation the metatype's
//! metamethod of either operand wins. Arithmetic: pointer +/- integer, pointer -
//! pointer (a number of elements); otherwise any C number or Lua number on both
//! sides with a cdata among them is computed in 64 bits, unsigned if either is a
//! `uint64_t`, and gives an `int64_t`/`uint64_t` cdata. Division and modulo truncate
//! as C does; by zero they give `0x8000000000000000`.
//!
//! Invariants: the FFI state is re-fetched after every call into Lua (a metamethod
//! may declare types); raw pointers a script made are used as given (a bad one can
//! crash, as in LuaJIT); nothing panics.
use super::conv::{self, from_c, locate, pointer_of, to_c, Mode, Num};
use super::ctype::{flags, CKind, CTypeId, SIZE_UNKNOWN};
use super::{ffi_env, ffi_state, new_cdata, new_int64, repr, FfiState, ENV_METATYPES};
use crate::cdata::GcCdata;
use crate::errmsg;
use crate::object::{GcRef, GcTable};
use crate::stdlib::{open_funcs, Lib};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::{State, Tm};

/// The cdata metatable.
pub fn make_metatable(st: &mut State) -> LResult<GcRef<GcTable>> {
    let mt = st.new_table(0, 24)?;
    st.push(Value::table(mt))?;
    open_funcs(st, Lib::CdataMeta, mt)?;
    let k = st.str_value(b"__metatable")?;
    let v = st.str_value(b"ffi")?;
    st.table_set(mt, k, v)?;
    st.pop(1);
    Ok(mt)
}

/// The FFI state (the FFI is open whenever a cdata exists).
pub(crate) fn fstate<'a>(st: &mut State) -> LResult<&'a mut FfiState> {
    match ffi_state(st) {
        Some(f) => Ok(f),
        None => Err(st.rt_error_here(errmsg::FFI_INVALID_TYPE)),
    }
}

/// The type a ctype object (an `ffi.typeof` result) stands for.
pub fn ctype_of_ctobj(fs: &FfiState, c: GcRef<GcCdata>) -> Option<CTypeId> {
    if CTypeId(c.ctid()) != fs.ids.ctype {
        return None;
    }
    let b = GcCdata::bytes(c);
    let mut w = [0u8; 4];
    w.copy_from_slice(b.get(..4)?);
    Some(CTypeId(u32::from_ne_bytes(w)))
}

/// The type whose metatype applies to cdata `c`: a struct/union (or complex) of
/// its own, or the one a pointer/reference points to, or the type a ctype object
/// stands for.
fn meta_type(fs: &FfiState, c: GcRef<GcCdata>) -> CTypeId {
    if let Some(id) = ctype_of_ctobj(fs, c) {
        return fs.tab.resolve_id(id);
    }
    let (id, _) = locate(fs, c);
    let r = fs.tab.resolve_id(id);
    let t = fs.tab.get(r);
    if t.kind == CKind::Ptr {
        fs.tab.resolve_id(t.child)
    } else {
        r
    }
}

/// The metatype table of `v`'s type, if `v` is a cdata whose type has one.
pub fn metatype_of(st: &State, fs: &FfiState, v: Value) -> Option<GcRef<GcTable>> {
    if !fs.has_metatypes.get() {
        return None;
    }
    let c = v.as_cdata()?;
    let id = meta_type(fs, c);
    let mts = ffi_env(st)?.get(Value::number(ENV_METATYPES)).as_table()?;
    mts.get(Value::number(id.0 as f64)).as_table()
}

/// Metamethod `tm` of the metatype of `v`.
fn mm(st: &State, fs: &FfiState, v: Value, tm: Tm) -> Value {
    match metatype_of(st, fs, v) {
        Some(mt) => mt.get_str(st.tm_names[tm as usize]),
        None => Value::NIL,
    }
}

/// Call `h(args)` and return its one result as this native's result.
fn call_ret(st: &mut State, h: Value, args: &[Value]) -> LResult<usize> {
    let r = st.call_sync(h, args)?;
    st.push(r)?;
    Ok(1)
}

fn cd_arg(st: &mut State, i: usize) -> LResult<GcRef<GcCdata>> {
    match st.arg(i).as_cdata() {
        Some(c) => Ok(c),
        None => Err(st.type_error(i, "cdata")),
    }
}

/// An index key as an element number (a number or an integer cdata).
fn key_index(fs: &FfiState, k: Value) -> Option<i64> {
    if let Some(n) = k.as_number() {
        return Some(conv::num_to_i64(n));
    }
    let c = k.as_cdata()?;
    let (id, p) = locate(fs, c);
    let t = *fs.tab.resolve(id);
    if t.kind != CKind::Int {
        return None;
    }
    // SAFETY: `p` is the cdata's object.
    unsafe { conv::read_num(fs, &t, p) }.map(Num::as_i64)
}

/// A member `name` of struct/union `sid` (transparent members searched): the
/// member record and the byte offset of the struct that holds it.
pub fn find_member(fs: &FfiState, sid: CTypeId, name: &[u8], depth: u32) -> Option<(CTypeId, u64)> {
    if depth > 0 {
        return find_member_in(fs, sid, name, depth);
    }
    let key = name.as_ptr() as usize;
    let slot = &fs.member_memo[(key >> 4 ^ sid.0 as usize) % super::MEMBER_MEMO];
    let m = slot.get();
    if m.sid == sid && m.key == key && !sid.is_none() && fs.tab.name(fs.tab.get(m.member).name) == name {
        return Some((m.member, m.off));
    }
    let r = find_member_in(fs, sid, name, 0);
    if let Some((member, off)) = r {
        slot.set(super::MemberMemo { sid, key, member, off });
    }
    r
}

fn find_member_in(fs: &FfiState, sid: CTypeId, name: &[u8], depth: u32) -> Option<(CTypeId, u64)> {
    let t = fs.tab.resolve(sid);
    if !matches!(t.kind, CKind::Struct | CKind::Union) || depth > 32 {
        return None;
    }
    let mut m = t.first;
    for _ in 0..super::ctype::MAX_TYPES {
        if m.is_none() {
            return None;
        }
        let f = fs.tab.get(m);
        if matches!(f.kind, CKind::Field | CKind::BitField) {
            if f.name.len == 0 && f.kind == CKind::Field {
                if let Some((id, off)) = find_member(fs, f.child, name, depth + 1) {
                    return Some((id, off + f.value as u64));
                }
            } else if fs.tab.name(f.name) == name {
                return Some((m, 0));
            }
        }
        m = f.next;
    }
    None
}

/// The environment slot of a callback's method `k` (`free` or `set`), if `c` is a
/// function pointer (a callback) and `k` names one.
fn callback_method(fs: &FfiState, c: GcRef<GcCdata>, k: Value) -> Option<f64> {
    if !is_func_ptr(fs, c) {
        return None;
    }
    match k.as_string()?.as_bytes() {
        b"free" => Some(super::ENV_CB_FREE),
        b"set" => Some(super::ENV_CB_SET),
        _ => None,
    }
}

fn type_name_of(fs: &FfiState, id: CTypeId) -> String {
    repr::name_string(&fs.tab, id)
}

fn no_member(st: &mut State, fs: &FfiState, id: CTypeId, k: Value) -> Throw {
    let n = type_name_of(fs, id);
    match k.as_string() {
        Some(s) => {
            let s = s.as_bytes().to_vec();
            st.rt_error_fmt(errmsg::FFI_NO_MEMBER, &[n.as_bytes(), &s])
        }
        None => {
            let kt = conv::value_type_name(fs, k);
            st.rt_error_fmt(errmsg::FFI_BAD_INDEX, &[n.as_bytes(), &kt])
        }
    }
}

/// Where `obj[k]` is: an element or a member. `Ok(None)`: not found.
enum Slot {
    /// Of type `id` at the address.
    At(CTypeId, *mut u8),
    /// Bitfield `f` of the struct at the address.
    Bits(CTypeId, *mut u8),
    /// Part of a complex (0 real, 1 imaginary) at the address, of float size.
    Part(u32, *mut u8),
    /// An element of a pointer to or array of a type of unknown size (`void *`).
    Unsized,
}

fn find_slot(fs: &FfiState, c: GcRef<GcCdata>, k: Value) -> (CTypeId, Option<Slot>) {
    let (id, addr) = locate(fs, c);
    let t = *fs.tab.resolve(id);
    let (sid, base) = match t.kind {
        CKind::Ptr | CKind::Array => {
            if let Some(i) = key_index(fs, k) {
                let et = fs.tab.resolve(t.child);
                if et.size == SIZE_UNKNOWN || et.kind == CKind::Void {
                    return (id, Some(Slot::Unsized));
                }
                let base = if t.kind == CKind::Ptr {
                    // SAFETY: a pointer object is 8 bytes.
                    unsafe { std::ptr::read_unaligned(addr.cast::<usize>()) }
                } else {
                    addr as usize
                };
                let p = base.wrapping_add((i as usize).wrapping_mul(et.size as usize));
                return (id, Some(Slot::At(t.child, p as *mut u8)));
            }
            // Members only through a pointer to a struct or union; anything else
            // (`int *`, `complex *`, a function pointer) has no members, and the
            // error names the pointer type, as LuaJIT's does.
            let to_aggregate = matches!(fs.tab.resolve(t.child).kind, CKind::Struct | CKind::Union);
            if t.kind == CKind::Array || !k.is_string() || !to_aggregate {
                return (id, None);
            }
            // A member through a pointer to a struct.
            // SAFETY: a pointer object is 8 bytes.
            let p = unsafe { std::ptr::read_unaligned(addr.cast::<usize>()) };
            (t.child, p as *mut u8)
        }
        _ => (id, addr),
    };
    let st_t = *fs.tab.resolve(sid);
    let Some(name) = k.as_string() else {
        return (sid, None);
    };
    if st_t.kind == CKind::Float && st_t.flags & flags::COMPLEX != 0 {
        let half = st_t.size / 2;
        return match name.as_bytes() {
            b"re" => (sid, Some(Slot::Part(half, base))),
            // SAFETY: the imaginary part follows the real one.
            b"im" => (sid, Some(Slot::Part(half, unsafe { base.add(half as usize) }))),
            _ => (sid, None),
        };
    }
    match find_member(fs, sid, name.as_bytes(), 0) {
        Some((m, off)) => {
            let f = *fs.tab.get(m);
            // SAFETY: members lie inside the struct (layout invariant).
            let holder = unsafe { base.add(off as usize) };
            if f.kind == CKind::BitField {
                (sid, Some(Slot::Bits(m, holder)))
            } else {
                // SAFETY: as above.
                (sid, Some(Slot::At(f.child, unsafe { holder.add(f.value as usize) })))
            }
        }
        None => (sid, None),
    }
}

pub(crate) fn cd_index(st: &mut State) -> LResult<usize> {
    let c = cd_arg(st, 1)?;
    let (v, k) = (st.arg(1), st.arg(2));
    let fs = fstate(st)?;
    let (owner, slot) = if ctype_of_ctobj(fs, c).is_some() {
        (meta_type(fs, c), None)
    } else {
        find_slot(fs, c, k)
    };
    match slot {
        Some(Slot::At(id, p)) => {
            // SAFETY: `p` is an element or member of the cdata's object, or an
            // address a script made (raw memory, as in LuaJIT).
            let r = unsafe { from_c(st, fs, id, p, true)? };
            st.push(r)?;
            Ok(1)
        }
        Some(Slot::Bits(m, holder)) => {
            let f = *fs.tab.get(m);
            // SAFETY: as above.
            let r = unsafe { conv::load_bitfield(fs, &f, holder) };
            st.push(r)?;
            Ok(1)
        }
        Some(Slot::Part(size, p)) => {
            // SAFETY: as above; a part is a float of `size` bytes.
            let n = unsafe {
                if size == 4 {
                    std::ptr::read_unaligned(p.cast::<f32>()) as f64
                } else {
                    std::ptr::read_unaligned(p.cast::<f64>())
                }
            };
            st.push(Value::number(n))?;
            Ok(1)
        }
        Some(Slot::Unsized) => Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE)),
        None => {
            // `cb:free()`, `cb:set(f)` (read only: assigning them is "no member").
            if let Some(slot) = callback_method(fs, c, k) {
                let m = ffi_env(st).map_or(Value::NIL, |e| e.get(Value::number(slot)));
                st.push(m)?;
                return Ok(1);
            }
            let h = mm(st, fs, v, Tm::Index);
            if h.is_function() {
                return call_ret(st, h, &[v, k]);
            }
            if !h.is_nil() {
                let r = st.index_sync(h, k)?;
                st.push(r)?;
                return Ok(1);
            }
            Err(no_member(st, fs, owner, k))
        }
    }
}

pub(crate) fn is_const(fs: &FfiState, id: CTypeId) -> bool {
    let mut id = id;
    for _ in 0..64 {
        let t = fs.tab.get(id);
        if t.flags & flags::CONST != 0 && !matches!(t.kind, CKind::Ptr) {
            return true;
        }
        match t.kind {
            CKind::Typedef | CKind::Qual => {
                if t.kind == CKind::Qual && t.flags & flags::CONST != 0 {
                    return true;
                }
                id = t.child;
            }
            CKind::Ptr => return t.flags & flags::CONST != 0,
            _ => return false,
        }
    }
    false
}

pub(crate) fn cd_newindex(st: &mut State) -> LResult<usize> {
    let c = cd_arg(st, 1)?;
    let (v, k, val) = (st.arg(1), st.arg(2), st.arg(3));
    let fs = fstate(st)?;
    let (owner, slot) = if ctype_of_ctobj(fs, c).is_some() {
        (meta_type(fs, c), None)
    } else {
        find_slot(fs, c, k)
    };
    match slot {
        Some(Slot::At(id, p)) => {
            if is_const(fs, id) {
                return Err(st.rt_error_here(errmsg::FFI_WRITE_CONST));
            }
            // SAFETY: as in `cd_index`.
            unsafe { to_c(st, fs, id, val, p, Mode::Implicit)? };
            Ok(0)
        }
        Some(Slot::Bits(m, holder)) => {
            // SAFETY: as in `cd_index`; the member's offset within `holder` is 0.
            unsafe { conv::store_member(st, fs, m, holder, val)? };
            Ok(0)
        }
        Some(Slot::Part(size, p)) => {
            let Some(n) = val.as_number() else {
                let d = fs.ids.double;
                return Err(conv::convert_error(st, fs, val, d));
            };
            // SAFETY: as in `cd_index`.
            unsafe {
                if size == 4 {
                    std::ptr::write_unaligned(p.cast::<f32>(), n as f32)
                } else {
                    std::ptr::write_unaligned(p.cast::<f64>(), n)
                }
            }
            Ok(0)
        }
        Some(Slot::Unsized) => Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE)),
        None => {
            let h = mm(st, fs, v, Tm::NewIndex);
            if h.is_function() {
                st.call_sync(h, &[v, k, val])?;
                return Ok(0);
            }
            if !h.is_nil() {
                st.newindex_sync(h, k, val)?;
                return Ok(0);
            }
            Err(no_member(st, fs, owner, k))
        }
    }
}

// --- Arithmetic ------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
}

impl Op {
    fn tm(self) -> Tm {
        match self {
            Op::Add => Tm::Add,
            Op::Sub => Tm::Sub,
            Op::Mul => Tm::Mul,
            Op::Div => Tm::Div,
            Op::Mod => Tm::Mod,
            Op::Pow => Tm::Pow,
            Op::Unm => Tm::Unm,
        }
    }
}

/// A Lua or C number as an operand of 64-bit arithmetic: its value and whether it
/// is a `uint64_t`.
pub fn int_operand(fs: &FfiState, v: Value) -> Option<(Num, bool)> {
    if let Some(n) = v.as_number() {
        return Some((Num::F(n), false));
    }
    let c = v.as_cdata()?;
    let id = CTypeId(c.ctid());
    if id == fs.ids.int64 || id == fs.ids.uint64 {
        // The boxed 64-bit integers arithmetic makes: read directly.
        let mut b = [0u8; 8];
        b.copy_from_slice(GcCdata::bytes(c).get(..8)?);
        let x = u64::from_ne_bytes(b);
        return Some(if id == fs.ids.uint64 {
            (Num::U(x), true)
        } else {
            (Num::I(x as i64), false)
        });
    }
    if ctype_of_ctobj(fs, c).is_some() {
        return None;
    }
    let (id, p) = locate(fs, c);
    let t = *fs.tab.resolve(id);
    let u64_ = t.kind == CKind::Int && t.size == 8 && t.flags & flags::UNSIGNED != 0;
    // SAFETY: `p` is the cdata's object.
    let n = unsafe { conv::read_num(fs, &t, p) }?;
    Some((n, u64_))
}

fn powi64(x: i64, k: i64) -> i64 {
    if k < 0 {
        return match x {
            0 => i64::MAX,
            1 => 1,
            -1 => {
                if k & 1 != 0 {
                    -1
                } else {
                    1
                }
            }
            _ => 0,
        };
    }
    powu64(x as u64, k as u64) as i64
}

fn powu64(mut x: u64, mut k: u64) -> u64 {
    let mut y: u64 = 1;
    while k != 0 {
        if k & 1 != 0 {
            y = y.wrapping_mul(x);
        }
        x = x.wrapping_mul(x);
        k >>= 1;
    }
    y
}

/// 64-bit integer arithmetic as LuaJIT defines it (module docs).
pub fn int_arith(op: u8, a: u64, b: u64, unsigned: bool) -> u64 {
    const MIN: u64 = 0x8000_0000_0000_0000;
    let (sa, sb) = (a as i64, b as i64);
    match op {
        0 => a.wrapping_add(b),
        1 => a.wrapping_sub(b),
        2 => a.wrapping_mul(b),
        3 if b == 0 => MIN,
        3 if unsigned => a / b,
        3 => sa.wrapping_div(sb) as u64,
        4 if b == 0 => MIN,
        4 if unsigned => a % b,
        4 => sa.wrapping_rem(sb) as u64,
        5 if unsigned => powu64(a, b),
        5 => powi64(sa, sb) as u64,
        _ => a.wrapping_neg(),
    }
}

fn arith(st: &mut State, op: Op) -> LResult<usize> {
    let (a, b) = (st.arg(1), st.arg(2));
    let fs = fstate(st)?;
    for x in [a, b] {
        let h = mm(st, fs, x, op.tm());
        if !h.is_nil() {
            return call_ret(st, h, &[a, b]);
        }
    }
    let ptr_a = a.as_cdata().and_then(|c| ptr_operand(fs, c));
    let ptr_b = b.as_cdata().and_then(|c| ptr_operand(fs, c));
    if op == Op::Add || op == Op::Sub {
        match (ptr_a, ptr_b) {
            (Some((pid, elem, addr)), None) => {
                if let Some((n, _)) = int_operand(fs, b) {
                    return ptr_add(st, fs, pid, elem, addr, n.as_i64(), op == Op::Sub);
                }
            }
            (None, Some((pid, elem, addr))) if op == Op::Add => {
                if let Some((n, _)) = int_operand(fs, a) {
                    return ptr_add(st, fs, pid, elem, addr, n.as_i64(), false);
                }
            }
            (Some((_, ea, pa)), Some((_, eb, pb))) if op == Op::Sub => {
                let es = fs.tab.resolve(ea).size;
                if conv_same(fs, ea, eb) && es != SIZE_UNKNOWN {
                    let d = (pa as i64).wrapping_sub(pb as i64) / (es.max(1) as i64);
                    st.push(Value::number(d as f64))?;
                    return Ok(1);
                }
            }
            _ => {}
        }
    }
    if ptr_a.is_none() && ptr_b.is_none() {
        if let (Some((x, ua)), Some((y, ub))) = (int_operand(fs, a), int_operand(fs, b)) {
            let unsigned = ua || ub;
            let code = match op {
                Op::Add => 0,
                Op::Sub => 1,
                Op::Mul => 2,
                Op::Div => 3,
                Op::Mod => 4,
                Op::Pow => 5,
                Op::Unm => 6,
            };
            let (xa, yb) = if unsigned {
                (x.as_u64(), y.as_u64())
            } else {
                (x.as_i64() as u64, y.as_i64() as u64)
            };
            let r = int_arith(code, xa, yb, unsigned);
            let v = new_int64(st, fs, r, unsigned)?;
            st.push(v)?;
            return Ok(1);
        }
    }
    let (na, nb) = (conv::value_type_name(fs, a), conv::value_type_name(fs, b));
    Err(st.rt_error_fmt(errmsg::FFI_ARITH, &[&na, &nb]))
}

fn conv_same(fs: &FfiState, a: CTypeId, b: CTypeId) -> bool {
    let (ra, rb) = (fs.tab.resolve(a), fs.tab.resolve(b));
    fs.tab.resolve_id(a) == fs.tab.resolve_id(b)
        || (ra.kind == rb.kind && ra.size == rb.size && (ra.flags & !flags::QUALS) == (rb.flags & !flags::QUALS))
}

/// A pointer operand: (the pointer type to make results of, element type,
/// address). Arrays decay to a pointer to their element.
fn ptr_operand(fs: &FfiState, c: GcRef<GcCdata>) -> Option<(Option<CTypeId>, CTypeId, usize)> {
    if ctype_of_ctobj(fs, c).is_some() {
        return None;
    }
    let (id, _) = locate(fs, c);
    let t = fs.tab.resolve(id);
    match t.kind {
        CKind::Ptr => pointer_of(fs, c).map(|(e, a)| (Some(id), e, a)),
        CKind::Array => pointer_of(fs, c).map(|(e, a)| (None, e, a)),
        _ => None,
    }
}

fn ptr_add(
    st: &mut State,
    fs: &mut FfiState,
    pid: Option<CTypeId>,
    elem: CTypeId,
    addr: usize,
    n: i64,
    sub: bool,
) -> LResult<usize> {
    let es = fs.tab.resolve(elem).size;
    if es == SIZE_UNKNOWN {
        return Err(st.rt_error_here(errmsg::FFI_INVALID_SIZE));
    }
    let off = (n as usize).wrapping_mul(es as usize);
    let p = if sub {
        addr.wrapping_sub(off)
    } else {
        addr.wrapping_add(off)
    };
    let pid = match pid {
        Some(p) => p,
        None => conv::ptr_type(st, fs, elem)?,
    };
    let c = new_cdata(st, fs, pid, 8)?;
    GcCdata::bytes(c).copy_from_slice(&(p as u64).to_ne_bytes());
    st.push(Value::cdata(c))?;
    Ok(1)
}

pub(crate) fn cd_add(st: &mut State) -> LResult<usize> {
    arith(st, Op::Add)
}
pub(crate) fn cd_sub(st: &mut State) -> LResult<usize> {
    arith(st, Op::Sub)
}
pub(crate) fn cd_mul(st: &mut State) -> LResult<usize> {
    arith(st, Op::Mul)
}
pub(crate) fn cd_div(st: &mut State) -> LResult<usize> {
    arith(st, Op::Div)
}
pub(crate) fn cd_mod(st: &mut State) -> LResult<usize> {
    arith(st, Op::Mod)
}
pub(crate) fn cd_pow(st: &mut State) -> LResult<usize> {
    arith(st, Op::Pow)
}
pub(crate) fn cd_unm(st: &mut State) -> LResult<usize> {
    arith(st, Op::Unm)
}

// --- Comparisons -------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
}

/// A pointer-like operand's address for comparisons (`nil` is NULL for `==`).
fn cmp_addr(fs: &FfiState, v: Value) -> Option<usize> {
    let c = v.as_cdata()?;
    if ctype_of_ctobj(fs, c).is_some() {
        return None;
    }
    let (id, _) = locate(fs, c);
    match fs.tab.resolve(id).kind {
        CKind::Ptr | CKind::Array => pointer_of(fs, c).map(|(_, a)| a),
        _ => None,
    }
}

fn compare(st: &mut State, how: Cmp) -> LResult<usize> {
    let (a, b) = (st.arg(1), st.arg(2));
    let fs = fstate(st)?;
    let tm = match how {
        Cmp::Eq => Tm::Eq,
        Cmp::Lt => Tm::Lt,
        Cmp::Le => Tm::Le,
    };
    for x in [a, b] {
        let h = mm(st, fs, x, tm);
        if !h.is_nil() {
            let r = st.call_sync(h, &[a, b])?;
            st.push(Value::boolean(r.is_truthy()))?;
            return Ok(1);
        }
    }
    // Type objects are equal when they stand for the same type.
    if let (Some(x), Some(y)) = (a.as_cdata(), b.as_cdata()) {
        if let (Some(i), Some(j)) = (ctype_of_ctobj(fs, x), ctype_of_ctobj(fs, y)) {
            if how == Cmp::Eq {
                st.push(Value::boolean(fs.tab.resolve_id(i) == fs.tab.resolve_id(j)))?;
                return Ok(1);
            }
        }
    }
    let (pa, pb) = (cmp_addr(fs, a), cmp_addr(fs, b));
    let r = match (pa, pb) {
        (Some(x), Some(y)) => Some(match how {
            Cmp::Eq => x == y,
            Cmp::Lt => x < y,
            Cmp::Le => x <= y,
        }),
        (Some(x), None) if how == Cmp::Eq && b.is_nil() => Some(x == 0),
        (None, Some(y)) if how == Cmp::Eq && a.is_nil() => Some(y == 0),
        (Some(_), None) | (None, Some(_)) => None,
        (None, None) => match (int_operand(fs, a), int_operand(fs, b)) {
            (Some((x, ua)), Some((y, ub))) => Some(if ua || ub {
                let (x, y) = (x.as_u64(), y.as_u64());
                match how {
                    Cmp::Eq => x == y,
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                }
            } else {
                let (x, y) = (x.as_i64(), y.as_i64());
                match how {
                    Cmp::Eq => x == y,
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                }
            }),
            _ => None,
        },
    };
    match r {
        Some(r) => {
            st.push(Value::boolean(r))?;
            Ok(1)
        }
        None if how == Cmp::Eq => {
            st.push(Value::boolean(Value::raw_equal(a, b)))?;
            Ok(1)
        }
        None => {
            let (na, nb) = (conv::value_type_name(fs, a), conv::value_type_name(fs, b));
            Err(st.rt_error_fmt(errmsg::FFI_COMPARE, &[&na, &nb]))
        }
    }
}

pub(crate) fn cd_eq(st: &mut State) -> LResult<usize> {
    compare(st, Cmp::Eq)
}
pub(crate) fn cd_lt(st: &mut State) -> LResult<usize> {
    compare(st, Cmp::Lt)
}
pub(crate) fn cd_le(st: &mut State) -> LResult<usize> {
    compare(st, Cmp::Le)
}

// --- The rest ------------------------------------------------------------------------

pub(crate) fn cd_len(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    let fs = fstate(st)?;
    let h = mm(st, fs, v, Tm::Len);
    if !h.is_nil() {
        return call_ret(st, h, &[v]);
    }
    let n = conv::value_type_name(fs, v);
    Err(st.rt_error_fmt(errmsg::FFI_LEN, &[&n]))
}

pub(crate) fn cd_concat(st: &mut State) -> LResult<usize> {
    let (a, b) = (st.arg(1), st.arg(2));
    let fs = fstate(st)?;
    for x in [a, b] {
        let h = mm(st, fs, x, Tm::Concat);
        if !h.is_nil() {
            return call_ret(st, h, &[a, b]);
        }
    }
    let (na, nb) = (conv::value_type_name(fs, a), conv::value_type_name(fs, b));
    Err(st.rt_error_fmt(errmsg::FFI_CONCAT, &[&na, &nb]))
}

pub(crate) fn cd_call(st: &mut State) -> LResult<usize> {
    let c = cd_arg(st, 1)?;
    let v = st.arg(1);
    let fs = fstate(st)?;
    if let Some(id) = ctype_of_ctobj(fs, c) {
        let n = st.arg_count();
        let args: Vec<Value> = (2..=n).map(|i| st.arg(i)).collect();
        return super::lib::construct(st, id, v, &args);
    }
    // A function or function pointer has no metatype: call it.
    let (id, _) = locate(fs, c);
    if fs.tab.resolve(id).kind == CKind::Func || is_func_ptr(fs, c) {
        return super::ccall::call_cdata(st, c);
    }
    let h = mm(st, fs, v, Tm::Call);
    if !h.is_nil() {
        let n = st.arg_count();
        let args: Vec<Value> = (1..=n).map(|i| st.arg(i)).collect();
        let r = st.call_sync(h, &args)?;
        st.push(r)?;
        return Ok(1);
    }
    let (id, _) = locate(fs, c);
    let n = type_name_of(fs, id);
    Err(st.rt_error_fmt(errmsg::FFI_NOT_CALLABLE, &[n.as_bytes()]))
}

/// Whether `c` is a pointer to a function (what callbacks are).
pub(crate) fn is_func_ptr(fs: &FfiState, c: GcRef<GcCdata>) -> bool {
    let (id, _) = locate(fs, c);
    let t = fs.tab.resolve(id);
    t.kind == CKind::Ptr && fs.tab.resolve(t.child).kind == CKind::Func
}

/// `tostring` of a cdata without a metatype `__tostring`, into `out`.
pub fn default_tostring(fs: &FfiState, c: GcRef<GcCdata>, out: &mut Vec<u8>) {
    if let Some(id) = ctype_of_ctobj(fs, c) {
        out.extend_from_slice(b"ctype<");
        repr::type_name(&fs.tab, id, out);
        out.push(b'>');
        return;
    }
    let (id, p) = locate(fs, c);
    let t = *fs.tab.resolve(id);
    let is_ref = fs.tab.resolve(CTypeId(c.ctid())).kind == CKind::Ref;
    if !is_ref && t.kind == CKind::Int && t.size == 8 && t.flags & flags::BOOL == 0 {
        // SAFETY: the payload holds 8 bytes.
        match unsafe { conv::read_num(fs, &t, p) } {
            Some(Num::U(u)) => out.extend_from_slice(format!("{u}ULL").as_bytes()),
            Some(n) => out.extend_from_slice(format!("{}LL", n.as_i64()).as_bytes()),
            None => {}
        }
        return;
    }
    if !is_ref && t.kind == CKind::Float && t.flags & flags::COMPLEX != 0 {
        let half = (t.size / 2) as usize;
        // SAFETY: the payload holds both parts.
        let (re, im) = unsafe {
            if half == 4 {
                (
                    std::ptr::read_unaligned(p.cast::<f32>()) as f64,
                    std::ptr::read_unaligned(p.add(4).cast::<f32>()) as f64,
                )
            } else {
                (
                    std::ptr::read_unaligned(p.cast::<f64>()),
                    std::ptr::read_unaligned(p.add(8).cast::<f64>()),
                )
            }
        };
        let mut b = [0u8; 64];
        let n = crate::number::fmt_number(re, &mut b);
        out.extend_from_slice(&b[..n]);
        if !(im < 0.0 || (im == 0.0 && im.is_sign_negative())) {
            out.push(b'+');
        }
        let n = crate::number::fmt_number(im, &mut b);
        out.extend_from_slice(&b[..n]);
        out.push(b'i');
        return;
    }
    out.extend_from_slice(b"cdata<");
    repr::type_name(&fs.tab, CTypeId(c.ctid()), out);
    out.extend_from_slice(b">: ");
    let addr = if matches!(t.kind, CKind::Ptr | CKind::Func) && !is_ref {
        // SAFETY: a pointer or function object holds 8 bytes (an address).
        unsafe { std::ptr::read_unaligned(p.cast::<usize>()) }
    } else if is_ref {
        p as usize
    } else {
        GcCdata::payload(c) as usize
    };
    if addr == 0 {
        out.extend_from_slice(b"NULL");
    } else {
        out.extend_from_slice(format!("{addr:#x}").as_bytes());
    }
}

pub(crate) fn cd_tostring(st: &mut State) -> LResult<usize> {
    let c = cd_arg(st, 1)?;
    let v = st.arg(1);
    let fs = fstate(st)?;
    let h = mm(st, fs, v, Tm::Tostring);
    if !h.is_nil() && ctype_of_ctobj(fs, c).is_none() {
        return call_ret(st, h, &[v]);
    }
    let mut out = Vec::new();
    default_tostring(fs, c, &mut out);
    st.push_str(&out)?;
    Ok(1)
}

/// `tonumber(cd)`: the value of a C number (the real part of a complex), `None`
/// for anything else.
pub fn to_number(st: &State, c: GcRef<GcCdata>) -> Option<f64> {
    let fs = ffi_state(st)?;
    if ctype_of_ctobj(fs, c).is_some() {
        return None;
    }
    let (id, p) = locate(fs, c);
    let t = *fs.tab.resolve(id);
    // SAFETY: `p` is the cdata's object.
    unsafe { conv::read_num(fs, &t, p) }.map(Num::as_f64)
}

/// The 64-bit integer value of `v` if it is an integer cdata (for `bit.*` and
/// `string.format`): the bits and whether it is a `uint64_t`.
pub fn int64_value(st: &State, v: Value) -> Option<(u64, bool)> {
    let fs = ffi_state(st)?;
    let c = v.as_cdata()?;
    let (n, u) = int_operand(fs, Value::cdata(c))?;
    let (id, _) = locate(fs, c);
    if fs.tab.resolve(id).kind != CKind::Int {
        return None;
    }
    Some((n.as_i64() as u64, u))
}
