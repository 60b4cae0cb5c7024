//! The `ffi` library's functions (LuaJIT's `ext_ffi_api.html`): `cdef`, `new`,
//! `cast`, `typeof`, `sizeof`, `alignof`, `offsetof`, `istype`, `string`, `copy`,
//! `fill`, `errno`, `abi`, `gc`, `metatype`, and the `os`/`arch` fields. Calls into C
//! (`ffi.C`, `ffi.load`) are [`super::ccall`]'s.
//!
//! Invariants: a type argument is a C declaration string, a ctype object or any
//! cdata (meaning its type); parse errors are LuaJIT's messages; `ffi.cdef` is
//! transactional (the parser rolls back); nothing panics.
use super::cmeta::{ctype_of_ctobj, fstate};
use super::conv::{self, locate, to_c, Mode};
use super::ctype::{flags, CKind, CTypeId, SIZE_UNKNOWN};
use super::{cparse, ffi_env, new_cdata, FfiState, ENV_METATYPES};
use crate::alloc::{HVec, HeapRef};
use crate::cdata::GcCdata;
use crate::errmsg;
use crate::object::{GcRef, GcTable};
use crate::stdlib::{open_funcs, Lib};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::{State, Tm};

/// The module table.
pub fn make_module(st: &mut State) -> LResult<GcRef<GcTable>> {
    let t = st.new_table(0, 24)?;
    st.push(Value::table(t))?;
    open_funcs(st, Lib::Ffi, t)?;
    for (k, v) in [(&b"os"[..], &b"Linux"[..]), (b"arch", b"x64")] {
        let k = st.str_value(k)?;
        let v = st.str_value(v)?;
        st.table_set(t, k, v)?;
    }
    st.pop(1);
    Ok(t)
}

fn parse_error(st: &mut State, e: cparse::CError, src: &[u8]) -> crate::vm::error::Throw {
    if e.kind == cparse::CErrorKind::OutOfMemory {
        return crate::vm::error::Throw::Oom;
    }
    let m = e.message(src);
    st.rt_error_bytes(m.as_bytes())
}

/// Argument `i` as a C type.
fn check_ctype(st: &mut State, i: usize) -> LResult<CTypeId> {
    let v = st.arg(i);
    let fs = fstate(st)?;
    if let Some(s) = v.as_string() {
        let text = s.as_bytes();
        if let Some(m) = fs.last_parse.get() {
            if &m.text[..m.len as usize] == text {
                return Ok(m.id);
            }
        }
        let src = text.to_vec();
        let before = fs.tab.len();
        return match cparse::parse_type(&mut fs.tab, &src) {
            Ok(id) => {
                let t = fs.tab.get(fs.tab.resolve_id(id));
                if matches!(t.kind, CKind::Struct | CKind::Union | CKind::Enum)
                    && t.flags & flags::INCOMPLETE != 0
                    && t.first.is_none()
                    && t.size == SIZE_UNKNOWN
                {
                    let name = fs.tab.name(t.name).to_vec();
                    return Err(st.rt_error_fmt(errmsg::FFI_UNDECLARED_TAG, &[&name]));
                }
                // Only a parse that made no record is a pure lookup, safe to repeat.
                if fs.tab.len() == before && src.len() <= super::PARSE_MEMO_LEN {
                    let mut m = super::ParseMemo {
                        text: [0; super::PARSE_MEMO_LEN],
                        len: src.len() as u8,
                        id,
                    };
                    m.text[..src.len()].copy_from_slice(&src);
                    fs.last_parse.set(Some(m));
                }
                Ok(id)
            }
            Err(e) => Err(parse_error(st, e, &src)),
        };
    }
    if let Some(c) = v.as_cdata() {
        if let Some(id) = ctype_of_ctobj(fs, c) {
            return Ok(id);
        }
        return Ok(CTypeId(c.ctid()));
    }
    Err(st.type_error(i, "C type"))
}

/// A ctype object (what `ffi.typeof` returns) for type `id`.
pub fn new_ctobj(st: &mut State, fs: &FfiState, id: CTypeId) -> LResult<Value> {
    let c = new_cdata(st, fs, fs.ids.ctype, 4)?;
    GcCdata::bytes(c).copy_from_slice(&id.0.to_ne_bytes());
    Ok(Value::cdata(c))
}

fn metatype_table(st: &State, id: CTypeId) -> Option<GcRef<GcTable>> {
    if !super::ffi_state(st)?.has_metatypes.get() {
        return None;
    }
    let mts = ffi_env(st)?.get(Value::number(ENV_METATYPES)).as_table()?;
    mts.get(Value::number(id.0 as f64)).as_table()
}

/// Make a cdata of type `id` from `args` (a VLA/VLS count first): `ffi.new` and
/// calling a ctype object `ct`. Calling `ct` (not nil) calls a metatype's `__new`
/// instead when there is one (with `ct` first); a metatype's `__gc` becomes the
/// new object's finalizer.
pub fn construct(st: &mut State, id: CTypeId, ct: Value, args: &[Value]) -> LResult<usize> {
    let fs = fstate(st)?;
    let rid = fs.tab.resolve_id(id);
    let mt = metatype_table(st, rid);
    if let Some(mt) = mt {
        let newname = st.intern(b"__new")?;
        let h = mt.get_str(newname);
        if !h.is_nil() && !ct.is_nil() {
            let mut all = vec![ct];
            all.extend_from_slice(args);
            let r = st.call_sync(h, &all)?;
            st.push(r)?;
            return Ok(1);
        }
    }
    let t = *fs.tab.resolve(id);
    if t.kind == CKind::Void || t.kind == CKind::Func || rid == fs.ids.ctype {
        return Err(st.arg_error(1, errmsg::FFI_INVALID_SIZE));
    }
    let (count, init_args) = if t.flags & flags::VLA != 0 {
        let Some(n) = args.first().and_then(|v| super::cmeta::int_operand(fs, *v)) else {
            return Err(st.arg_error(2, errmsg::VALUE_EXPECTED));
        };
        let n = n.0.as_i64();
        if n < 0 {
            return Err(st.arg_error(1, errmsg::FFI_INVALID_SIZE));
        }
        (Some(n as u64), &args[1..])
    } else {
        (None, args)
    };
    let size = match conv::alloc_size(fs, id, count) {
        Some(s) if s <= super::ctype::MAX_SIZE => s as usize,
        _ => return Err(st.arg_error(1, errmsg::FFI_INVALID_SIZE)),
    };
    let c = new_cdata(st, fs, id, size)?;
    let v = Value::cdata(c);
    st.push(v)?;
    // SAFETY: the payload is `size` bytes, zeroed.
    unsafe { conv::init(st, fs, id, GcCdata::payload(c), size, init_args)? };
    if let Some(mt) = mt {
        let h = mt.get_str(st.tm_names[Tm::Gc as usize]);
        if !h.is_nil() && c.has_fin_slot() {
            crate::gc::set_cdata_finalizer(st, c, h);
        }
    }
    Ok(1)
}

pub(crate) fn ffi_new(st: &mut State) -> LResult<usize> {
    let id = check_ctype(st, 1)?;
    let n = st.arg_count();
    let args: Vec<Value> = (2..=n).map(|i| st.arg(i)).collect();
    // `ffi.new` never calls `__new` (only calling the ctype object does, as in
    // LuaJIT), so a `__new` can use it to make the object.
    construct(st, id, Value::NIL, &args)
}

pub(crate) fn ffi_cast(st: &mut State) -> LResult<usize> {
    let id = check_ctype(st, 1)?;
    let v = st.check_any(2)?;
    let fs = fstate(st)?;
    let t = fs.tab.resolve(id);
    if !matches!(t.kind, CKind::Int | CKind::Float | CKind::Enum | CKind::Ptr) {
        return Err(st.arg_error(1, errmsg::FFI_INVALID_TYPE));
    }
    let r = conv::to_cdata(st, fs, id, v, Mode::Cast)?;
    st.push(r)?;
    Ok(1)
}

/// The source with `$` parameters (arguments from 2 on) applied: a string
/// argument is spliced in as an identifier; a number or a type stays a `$` the
/// parser takes from the returned list. Both live in the state's heap.
fn with_params(st: &mut State, src: &[u8]) -> LResult<(HVec<u8>, HVec<cparse::Param>)> {
    let h = HeapRef::new(&st.heap);
    let mut out = HVec::with_capacity(h, src.len())?;
    let mut params = HVec::new(h);
    let mut next = 2;
    let n = st.arg_count();
    for &b in src {
        if b != b'$' {
            out.push(b)?;
            continue;
        }
        if next > n {
            return Err(st.rt_error_here(errmsg::FFI_BAD_PARAMS));
        }
        let v = st.arg(next);
        if let Some(s) = v.as_string() {
            out.extend_from_slice(s.as_bytes())?;
        } else if let Some(x) = v.as_number() {
            params.push(cparse::Param::Int(conv::num_to_i64(x) as u32 as u64))?;
            out.push(b'$')?;
        } else if let Some(c) = v.as_cdata() {
            let fs = fstate(st)?;
            let id = ctype_of_ctobj(fs, c).unwrap_or(CTypeId(c.ctid()));
            params.push(cparse::Param::Type(id))?;
            out.push(b'$')?;
        } else {
            let got = crate::vm::meta::type_name(v);
            return Err(st.arg_error(next, &errmsg::format(errmsg::FFI_PARAM_EXPECTED, &[&got])));
        }
        next += 1;
    }
    if next <= n {
        return Err(st.rt_error_here(errmsg::FFI_BAD_PARAMS));
    }
    Ok((out, params))
}

pub(crate) fn ffi_typeof(st: &mut State) -> LResult<usize> {
    if st.arg_count() > 1 && st.arg(1).is_string() {
        let s = st.check_string(1)?;
        let (src, params) = with_params(st, s.as_bytes())?;
        let fs = fstate(st)?;
        let id = match cparse::parse_type_with(&mut fs.tab, &src, &params) {
            Ok(id) => id,
            Err(e) => return Err(parse_error(st, e, &src)),
        };
        let r = new_ctobj(st, fs, id)?;
        st.push(r)?;
        return Ok(1);
    }
    let id = check_ctype(st, 1)?;
    let fs = fstate(st)?;
    let r = new_ctobj(st, fs, id)?;
    st.push(r)?;
    Ok(1)
}

pub(crate) fn ffi_sizeof(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    let id = check_ctype(st, 1)?;
    let fs = fstate(st)?;
    if let Some(c) = v.as_cdata() {
        let kind = fs.tab.resolve(CTypeId(c.ctid())).kind;
        // A function cdata's payload is its address, not an object (size: nil).
        if ctype_of_ctobj(fs, c).is_none() && kind != CKind::Ref && kind != CKind::Func {
            st.push(Value::number(c.len as f64))?;
            return Ok(1);
        }
    }
    let t = *fs.tab.resolve(id);
    let count = if t.flags & flags::VLA != 0 {
        let Some(n) = super::cmeta::int_operand(fs, st.arg(2)) else {
            return Err(st.arg_error(2, errmsg::VALUE_EXPECTED));
        };
        Some(n.0.as_i64().max(0) as u64)
    } else {
        None
    };
    match conv::alloc_size(fs, id, count) {
        Some(s) => st.push(Value::number(s as f64))?,
        None => st.push(Value::NIL)?,
    }
    Ok(1)
}

pub(crate) fn ffi_alignof(st: &mut State) -> LResult<usize> {
    let id = check_ctype(st, 1)?;
    let fs = fstate(st)?;
    let a = fs.tab.resolve(id).alignment();
    st.push(Value::number(a as f64))?;
    Ok(1)
}

pub(crate) fn ffi_offsetof(st: &mut State) -> LResult<usize> {
    let id = check_ctype(st, 1)?;
    let name = st.check_string(2)?;
    let fs = fstate(st)?;
    match super::cmeta::find_member(fs, id, name.as_bytes(), 0) {
        Some((m, off)) => {
            let f = *fs.tab.get(m);
            if f.kind == CKind::BitField {
                let bit = off * 8 + f.value as u64;
                st.push(Value::number((bit / 8) as f64))?;
                st.push(Value::number((bit % 8) as f64))?;
                st.push(Value::number(f.bits as f64))?;
                return Ok(3);
            }
            st.push(Value::number((off + f.value as u64) as f64))?;
            Ok(1)
        }
        None => Ok(0),
    }
}

pub(crate) fn ffi_istype(st: &mut State) -> LResult<usize> {
    let id = check_ctype(st, 1)?;
    let v = st.arg(2);
    let fs = fstate(st)?;
    let r = match v.as_cdata() {
        Some(c) if ctype_of_ctobj(fs, c).is_none() => {
            let (oid, _) = locate(fs, c);
            let (a, b) = (fs.tab.resolve_id(id), fs.tab.resolve_id(oid));
            if a == b {
                true
            } else {
                let (ta, tb) = (*fs.tab.get(a), *fs.tab.get(b));
                ta.kind == tb.kind
                    && ta.size == tb.size
                    && matches!(ta.kind, CKind::Int | CKind::Float | CKind::Ptr)
                    && (ta.flags & !flags::QUALS) == (tb.flags & !flags::QUALS)
                    && (ta.kind != CKind::Ptr || fs.tab.resolve_id(ta.child) == fs.tab.resolve_id(tb.child))
            }
        }
        _ => false,
    };
    st.push(Value::boolean(r))?;
    Ok(1)
}

/// Argument `i` as a C pointer (`const void *` conversion rules).
fn check_ptr(st: &mut State, i: usize) -> LResult<usize> {
    let v = st.arg(i);
    let fs = fstate(st)?;
    let mut b = [0u8; 8];
    let id = fs.ids.voidp;
    // SAFETY: `b` holds a pointer's 8 bytes.
    unsafe { to_c(st, fs, id, v, b.as_mut_ptr(), Mode::Implicit)? };
    Ok(usize::from_ne_bytes(b))
}

pub(crate) fn ffi_string(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    let p = check_ptr(st, 1)?;
    if p == 0 && !v.is_string() {
        let fs = fstate(st)?;
        let id = fs.ids.const_charp;
        return Err(conv::convert_error(st, fs, v, id));
    }
    let len = if st.arg(2).is_nil() {
        // SAFETY: a NUL-terminated string at `p` (the caller's promise, as in C).
        unsafe { libc::strlen(p as *const libc::c_char) }
    } else {
        let n = st.check_number(2)?;
        conv::num_to_i64(n).max(0) as usize
    };
    if len > crate::buf::MAX_STR {
        return Err(st.rt_error_here(errmsg::STRING_LENGTH_OVERFLOW));
    }
    // SAFETY: `len` bytes at `p` (the caller's promise, as in C).
    let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len) };
    st.push_str(bytes)?;
    Ok(1)
}

pub(crate) fn ffi_copy(st: &mut State) -> LResult<usize> {
    let dst = check_ptr(st, 1)?;
    let src_v = st.arg(2);
    let src = check_ptr(st, 2)?;
    let len = if st.arg(3).is_nil() {
        match src_v.as_string() {
            Some(s) => s.len() + 1,
            None => return Err(st.arg_error(3, errmsg::VALUE_EXPECTED)),
        }
    } else {
        conv::num_to_i64(st.check_number(3)?).max(0) as usize
    };
    // SAFETY: `len` bytes at both addresses (the caller's promise, as in C);
    // `copy` allows overlap.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len) };
    Ok(0)
}

pub(crate) fn ffi_fill(st: &mut State) -> LResult<usize> {
    let dst = check_ptr(st, 1)?;
    let len = conv::num_to_i64(st.check_number(2)?).max(0) as usize;
    let c = st.opt_integer(3, 0)? as u8;
    // SAFETY: `len` bytes at `dst` (the caller's promise, as in C).
    unsafe { std::ptr::write_bytes(dst as *mut u8, c, len) };
    Ok(0)
}

pub(crate) fn ffi_errno(st: &mut State) -> LResult<usize> {
    // The errno the last C call of this state left (saved by the call layer).
    let fs = fstate(st)?;
    let old = fs.errno.get();
    if st.arg_count() >= 1 && !st.arg(1).is_nil() {
        let n = st.check_integer(1)?;
        fs.errno.set(n as libc::c_int);
    }
    st.push(Value::number(old as f64))?;
    Ok(1)
}

pub(crate) fn ffi_abi(st: &mut State) -> LResult<usize> {
    let s = st.check_string(1)?;
    let yes = matches!(s.as_bytes(), b"64bit" | b"le" | b"fpu" | b"hardfp" | b"gc64");
    st.push(Value::boolean(yes))?;
    Ok(1)
}

pub(crate) fn ffi_gc(st: &mut State) -> LResult<usize> {
    let v = st.arg(1);
    let Some(c) = v.as_cdata() else {
        return Err(st.type_error(1, "cdata"));
    };
    let f = st.arg(2);
    if !c.has_fin_slot() {
        return Err(st.arg_error(1, errmsg::FFI_INVALID_TYPE));
    }
    crate::gc::set_cdata_finalizer(st, c, f);
    st.push(v)?;
    Ok(1)
}

pub(crate) fn ffi_metatype(st: &mut State) -> LResult<usize> {
    let id = check_ctype(st, 1)?;
    let mt = st.check_table(2)?;
    let fs = fstate(st)?;
    let rid = fs.tab.resolve_id(id);
    let t = fs.tab.get(rid);
    let ok =
        matches!(t.kind, CKind::Struct | CKind::Union) || (t.kind == CKind::Float && t.flags & flags::COMPLEX != 0);
    if !ok {
        return Err(st.arg_error(1, errmsg::FFI_INVALID_TYPE));
    }
    let Some(mts) = ffi_env(st).and_then(|e| e.get(Value::number(ENV_METATYPES)).as_table()) else {
        return Err(st.rt_error_here(errmsg::FFI_INVALID_TYPE));
    };
    let key = Value::number(rid.0 as f64);
    if !mts.get(key).is_nil() {
        return Err(st.rt_error_here(errmsg::PROTECTED_METATABLE));
    }
    st.table_set(mts, key, Value::table(mt))?;
    fs.has_metatypes.set(true);
    let r = new_ctobj(st, fs, rid)?;
    st.push(r)?;
    Ok(1)
}

pub(crate) fn ffi_cdef(st: &mut State) -> LResult<usize> {
    let s = st.check_string(1)?;
    // The string stays alive as argument 1 while it is parsed.
    let (src, params) = with_params(st, s.as_bytes())?;
    let fs = fstate(st)?;
    if let Err(e) = cparse::cdef_with(&mut fs.tab, &src, &params) {
        return Err(parse_error(st, e, &src));
    }
    Ok(0)
}
