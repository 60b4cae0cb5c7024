//! Calls into C from Lua (docs/ffi.md, "Calls from Lua"): the namespace objects
//! `ffi.C` and `ffi.load(name[, global])`, indexing them (functions, extern
//! variables, constants), calling function and function-pointer cdata, and Lua
//! functions as callbacks (`ffi.cast("int(*)(int)", f)`, a function passed where a
//! function pointer is expected, `cb:free()`, `cb:set(f)`).
//!
//! Owns: the Lua side of the call layer. The descriptors ([`super::call`]), the
//! libraries ([`super::clib`]) and the callback slots ([`super::callback`]) are held
//! by the FFI state; this module keeps in the FFI's environment table what the
//! collector must see: the Lua function of every callback slot
//! ([`super::ENV_CALLBACKS`]), the namespace metatable and the callback methods. A
//! namespace userdata's own environment table caches what its names resolved to
//! (one function cdata per symbol, a reference for a variable, a number for a
//! constant).
//!
//! Invariants:
//! - Arguments are converted with [`to_c`] into a buffer on the Rust stack (or, for
//!   many or large arguments, one in the accounted heap), while the Lua values they
//!   came from stay on the Lua stack: a `const char *` into a Lua string stays valid
//!   for the call.
//! - Nothing is borrowed across the C call: a callback running during it may call
//!   C again, declare types and make descriptors.
//! - An error inside a callback never unwinds through C: the dispatcher returns it,
//!   the call layer holds it and [`call_cdata`] raises it when the C call returns.
//!   While held, its value is anchored in the FFI environment ([`ENV_HELD`], a key
//!   made at open, so anchoring never allocates), where the collector sees it.
//! - The dispatcher's context is the `State`'s address, which is stable (states are
//!   boxed and never moved once made) and outlives the callbacks (dropped at close).
//! - Implicit callbacks (a Lua function converted to a function pointer) are
//!   permanent, as LuaJIT documents: C code may keep the pointer. At most
//!   [`super::callback::MAX_CALLBACKS`] are alive (`too many callbacks`).
use super::call::{self, CallError, DescRef, RetKind};
use super::callback::CallbackError;
use super::clib::{self, CLib, LibError, Symbol};
use super::cmeta::fstate;
use super::conv::{convert_error, from_c, locate, to_c, Mode};
use super::ctype::{flags, CKind, CTypeId, SIZE_UNKNOWN};
use super::{ffi_env, new_cdata, FfiState, ENV_CALLBACKS, ENV_CB_FREE, ENV_CB_SET, ENV_CLIB_MT, ENV_HELD};
use crate::alloc::{HVec, HeapRef};
use crate::cdata::GcCdata;
use crate::errmsg;
use crate::object::{GcRef, GcTable, GcUdata};
use crate::stdlib::new_func;
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ptr;

/// Arguments converted in the stack buffer; more go to the heap.
const INLINE_ARGS: usize = 8;
/// 16-byte units of the stack argument buffer.
const INLINE_UNITS: usize = 16;

/// Fast-function ids of the functions this module makes (rows in `stdlib/mod.rs`).
pub const FF_CLIB_INDEX: u16 = crate::func::FF_OWN + 76;
pub const FF_CLIB_NEWINDEX: u16 = crate::func::FF_OWN + 77;
pub const FF_CB_FREE: u16 = crate::func::FF_OWN + 78;
pub const FF_CB_SET: u16 = crate::func::FF_OWN + 79;

/// Make the namespace metatable, the callback methods and `ffi.C` (at open).
pub fn open(st: &mut State, env: GcRef<GcTable>, module: GcRef<GcTable>) -> LResult<()> {
    let cbs = st.new_table(0, 0)?;
    st.table_set(env, Value::number(ENV_CALLBACKS), Value::table(cbs))?;
    st.table_set(env, Value::number(ENV_HELD), Value::FALSE)?;
    let mt = st.new_table(0, 2)?;
    st.table_set(env, Value::number(ENV_CLIB_MT), Value::table(mt))?;
    for (name, ffid) in [(&b"__index"[..], FF_CLIB_INDEX), (b"__newindex", FF_CLIB_NEWINDEX)] {
        let f = new_func(st, ffid, 0)?;
        let k = st.str_value(name)?;
        st.table_set(mt, k, Value::function(f))?;
    }
    let k = st.str_value(b"__metatable")?;
    st.table_set(mt, k, Value::boolean(false))?;
    for (slot, ffid) in [(ENV_CB_FREE, FF_CB_FREE), (ENV_CB_SET, FF_CB_SET)] {
        let f = new_func(st, ffid, 0)?;
        st.table_set(env, Value::number(slot), Value::function(f))?;
    }
    let c = new_namespace(st, CLib::default_namespace())?;
    let k = st.str_value(b"C")?;
    st.table_set(module, k, c)
}

/// A namespace userdata holding `lib`, with its cache table and metatable.
fn new_namespace(st: &mut State, lib: CLib) -> LResult<Value> {
    let Some(env) = ffi_env(st) else {
        return Err(st.rt_error_here(errmsg::FFI_INVALID_TYPE));
    };
    let mt = env.get(Value::number(ENV_CLIB_MT)).as_table();
    let cache = st.new_table(0, 0)?;
    st.push(Value::table(cache))?;
    let u = st.new_userdata(clib::payload_len());
    st.pop(1);
    let u = u?;
    if clib::install(u, lib).is_err() {
        return Err(st.rt_error_here(errmsg::FFI_INVALID_TYPE));
    }
    let m = u.get_mut();
    // Both are fresh or reachable from the FFI state; `u` is white: no barrier.
    m.env = cache;
    m.metatable = mt;
    Ok(Value::userdata(u))
}

fn lib_error(st: &mut State, e: LibError) -> Throw {
    match e {
        LibError::Oom => Throw::Oom,
        LibError::Message(m) => st.rt_error_bytes(&m),
    }
}

/// `ffi.load(name[, global])`.
pub(crate) fn ffi_load(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let global = st.arg(2).is_truthy();
    let lib = match CLib::load(&st.heap, name.as_bytes(), global) {
        Ok(l) => l,
        Err(e) => return Err(lib_error(st, e)),
    };
    // On an error below `lib` is dropped, which closes the library again.
    let v = new_namespace(st, lib)?;
    st.push(v)?;
    Ok(1)
}

/// The namespace argument and the name being indexed.
fn namespace_args(st: &mut State) -> LResult<(GcRef<GcUdata>, Value)> {
    let Some(u) = st.arg(1).as_userdata().filter(|u| clib::clib_of(*u).is_some()) else {
        return Err(st.type_error(1, "userdata"));
    };
    let k = st.arg(2);
    if !k.is_string() {
        return Err(st.type_error(2, "string"));
    }
    Ok((u, k))
}

/// What `ns[name]` resolved to: from the namespace's cache, or looked up and cached.
/// A variable is cached as a reference to it.
fn resolve_name(st: &mut State, u: GcRef<GcUdata>, k: Value) -> LResult<Value> {
    let cached = u.env.get(k);
    if !cached.is_nil() {
        return Ok(cached);
    }
    let fs = fstate(st)?;
    let Some(lib) = clib::clib_of(u) else {
        return Err(st.rt_error_here(errmsg::FFI_INVALID_TYPE));
    };
    let Some(name) = k.as_string() else {
        return Err(st.type_error(2, "string"));
    };
    let sym = match lib.lookup(&st.heap, &fs.tab, name.as_bytes()) {
        Ok(s) => s,
        Err(e) => return Err(lib_error(st, e)),
    };
    let v = match sym {
        Symbol::Constant { decl, value } => {
            let t = *fs.tab.resolve(fs.tab.get(decl).child);
            if t.size == 8 && t.kind == CKind::Int {
                super::new_int64(st, fs, value as u64, t.flags & flags::UNSIGNED != 0)?
            } else if t.flags & flags::UNSIGNED != 0 {
                Value::number(value as u32 as f64)
            } else {
                Value::number(value as i32 as f64)
            }
        }
        Symbol::Function { ty, addr, .. } => {
            let c = new_cdata(st, fs, ty, 8)?;
            GcCdata::bytes(c).copy_from_slice(&(addr as usize).to_ne_bytes());
            Value::cdata(c)
        }
        Symbol::Variable { decl, addr, .. } => {
            let r = super::conv::ref_type(st, fs, fs.tab.get(decl).child)?;
            let c = new_cdata(st, fs, r, 8)?;
            GcCdata::bytes(c).copy_from_slice(&(addr as usize).to_ne_bytes());
            Value::cdata(c)
        }
    };
    st.push(v)?;
    st.table_set(u.env, k, v)?;
    st.pop(1);
    Ok(v)
}

/// The referenced type and address of a cached variable, if `v` is one.
fn variable_of(fs: &FfiState, v: Value) -> Option<(CTypeId, *mut u8)> {
    let c = v.as_cdata()?;
    let t = fs.tab.get(CTypeId(c.ctid()));
    if t.kind != CKind::Ref {
        return None;
    }
    Some(locate(fs, c))
}

/// `ns.name`: a function cdata, a constant, or the value of a variable.
pub(crate) fn clib_index(st: &mut State) -> LResult<usize> {
    let (u, k) = namespace_args(st)?;
    let v = resolve_name(st, u, k)?;
    let fs = fstate(st)?;
    let r = match variable_of(fs, v) {
        // SAFETY: the address `dlsym` gave for a variable of this type.
        Some((id, p)) => unsafe { from_c(st, fs, id, p, true)? },
        None => v,
    };
    st.push(r)?;
    Ok(1)
}

/// `ns.name = v`: stores into a variable; anything else is constant.
pub(crate) fn clib_newindex(st: &mut State) -> LResult<usize> {
    let (u, k) = namespace_args(st)?;
    let v = resolve_name(st, u, k)?;
    let val = st.arg(3);
    let fs = fstate(st)?;
    match variable_of(fs, v) {
        Some((id, p)) if !super::cmeta::is_const(fs, id) => {
            // SAFETY: the address `dlsym` gave for a variable of this type.
            unsafe { to_c(st, fs, id, val, p, Mode::Implicit)? };
            Ok(0)
        }
        _ => Err(st.rt_error_here(errmsg::FFI_WRITE_CONST)),
    }
}

fn call_error(st: &mut State, e: CallError) -> Throw {
    match e {
        CallError::Oom => Throw::Oom,
        e => st.rt_error_here(e.message()),
    }
}

/// The type a vararg argument is passed as (LuaJIT's rules: numbers as `double`,
/// strings as `const char *`, small integers promoted to `int`, `float` to
/// `double`, arrays as pointers to their element).
fn vararg_type(st: &mut State, fs: &mut FfiState, v: Value) -> LResult<CTypeId> {
    let int = fs.ids.int;
    if v.is_number() {
        return Ok(fs.ids.double);
    }
    if v.is_string() {
        return Ok(fs.ids.const_charp);
    }
    if v.as_bool().is_some() {
        return Ok(int);
    }
    let Some(c) = v.as_cdata() else {
        return Ok(fs.ids.voidp);
    };
    let (id, _) = locate(fs, c);
    let rid = fs.tab.resolve_id(id);
    let t = *fs.tab.get(rid);
    Ok(match t.kind {
        CKind::Int | CKind::Enum if t.size < 4 || t.flags & flags::BOOL != 0 => int,
        CKind::Enum => int,
        CKind::Float if t.size == 4 => fs.ids.double,
        CKind::Array => super::conv::ptr_type(st, fs, t.child)?,
        CKind::Func => super::conv::ptr_type(st, fs, rid)?,
        _ => rid,
    })
}

/// A 16-byte unit of the argument buffer (aligned for any argument).
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Unit([u8; 16]);

/// Call the function (or function pointer) cdata `c` with the native's arguments
/// from 2 on; push its result.
pub fn call_cdata(st: &mut State, c: GcRef<GcCdata>) -> LResult<usize> {
    let fs = fstate(st)?;
    let (id, p) = locate(fs, c);
    let rid = fs.tab.resolve_id(id);
    let t = *fs.tab.get(rid);
    // SAFETY: a function or pointer cdata holds an 8-byte address.
    let code = unsafe { ptr::read_unaligned(p.cast::<usize>()) };
    let fid = if t.kind == CKind::Ptr {
        fs.tab.resolve_id(t.child)
    } else {
        rid
    };
    let ft = *fs.tab.get(fid);
    let given = st.arg_count().saturating_sub(1);
    let mut nfixed = 0usize;
    let mut q = ft.first;
    while !q.is_none() {
        nfixed += 1;
        q = fs.tab.get(q).next;
    }
    if given < nfixed || (given > nfixed && ft.flags & flags::VARARG == 0) {
        return Err(st.rt_error_here(errmsg::FFI_WRONG_ARGS));
    }
    // The types of the extra arguments (the descriptor's key).
    let nvar = given - nfixed;
    let mut vt_inline = [CTypeId(0); INLINE_ARGS];
    let mut vt_heap: HVec<CTypeId>;
    let vtypes: &mut [CTypeId] = if nvar <= INLINE_ARGS {
        &mut vt_inline[..nvar]
    } else {
        vt_heap = HVec::filled(HeapRef::new(&st.heap), nvar, CTypeId(0))?;
        &mut vt_heap
    };
    for (j, slot) in vtypes.iter_mut().enumerate() {
        let v = st.arg(2 + nfixed + j);
        *slot = vararg_type(st, fs, v)?;
    }
    let desc = match fs.last_desc.get() {
        Some((f, d)) if f == fid && nvar == 0 => d,
        _ => match fs.calls.borrow_mut().desc(&fs.tab, fid, vtypes) {
            Ok(d) => {
                if nvar == 0 {
                    fs.last_desc.set(Some((fid, d)));
                }
                d
            }
            Err(e) => return Err(call_error(st, e)),
        },
    };
    if code == 0 {
        return Err(st.rt_error_here(errmsg::FFI_NULL_CALL));
    }
    // Room for every argument: 16-byte units, an aggregate as many as it needs.
    let mut units = 0usize;
    let mut q = ft.first;
    let arg_units = |fs: &FfiState, id: CTypeId| (fs.tab.resolve(id).size.max(16) as usize).div_ceil(16);
    while !q.is_none() {
        units += arg_units(fs, fs.tab.get(q).child);
        q = fs.tab.get(q).next;
    }
    for &v in vtypes.iter() {
        units += arg_units(fs, v);
    }
    // Not zeroed: every argument's bytes are written by its conversion.
    let mut buf_inline = [const { MaybeUninit::<Unit>::uninit() }; INLINE_UNITS];
    let mut ptr_inline = [ptr::null_mut::<c_void>(); INLINE_ARGS];
    let mut buf_heap: HVec<MaybeUninit<Unit>>;
    let mut ptr_heap: HVec<*mut c_void>;
    let (buf, ptrs): (&mut [MaybeUninit<Unit>], &mut [*mut c_void]) = if units <= INLINE_UNITS && given <= INLINE_ARGS {
        (&mut buf_inline[..], &mut ptr_inline[..given])
    } else {
        let h = HeapRef::new(&st.heap);
        buf_heap = HVec::filled(h, units, MaybeUninit::uninit())?;
        ptr_heap = HVec::filled(h, given, ptr::null_mut())?;
        (&mut buf_heap, &mut ptr_heap)
    };
    let mut at = 0usize;
    let mut q = ft.first;
    for (i, arg) in ptrs.iter_mut().enumerate() {
        let ty = if i < nfixed {
            let pt = fs.tab.get(q).child;
            q = fs.tab.get(q).next;
            pt
        } else {
            vtypes[i - nfixed]
        };
        let dst = buf[at..].as_mut_ptr().cast::<u8>();
        at += arg_units(fs, ty);
        let v = st.arg(2 + i);
        fs.conv_arg.set(i as u32 + 1);
        // SAFETY: `dst` has `arg_units(ty)` units, at least the type's size.
        let r = unsafe { to_c(st, fs, ty, v, dst, Mode::Implicit) };
        fs.conv_arg.set(0);
        r?;
        *arg = dst.cast();
    }
    let mut ret = [Unit([0; 16]); 2];
    let mut ret_heap: HVec<Unit>;
    let rsize = desc.ret_buffer_size();
    let retp: *mut c_void = if rsize <= size_of_val(&ret) {
        ret.as_mut_ptr().cast()
    } else {
        ret_heap = HVec::filled(HeapRef::new(&st.heap), rsize.div_ceil(16), Unit([0; 16]))?;
        ret_heap.as_mut_ptr().cast()
    };
    let handle = fs.callbacks.borrow().handle();
    let errno: *const call::Errno = &fs.errno;
    // SAFETY: `code` is a function of the type the descriptor was made for (the
    // cdata's type; a wrong address is the script's doing, as in C); `ptrs` has one
    // valid pointer per argument; `retp` has `ret_buffer_size` bytes, 16-aligned;
    // the errno cell lives in the FFI state, which outlives the call.
    let r = unsafe { call::call(desc, code as *const c_void, ptrs, retp, &*errno, Some(handle)) };
    if let Err(e) = r {
        // The held error is raised now: it no longer needs its anchor.
        set_held(st, Value::FALSE);
        return Err(e);
    }
    push_result(st, desc, retp)
}

fn push_result(st: &mut State, desc: DescRef, retp: *mut c_void) -> LResult<usize> {
    if desc.ret_kind() == RetKind::Void {
        return Ok(0);
    }
    let fs = fstate(st)?;
    // SAFETY: the call wrote the result, of the descriptor's result type, at `retp`.
    let r = unsafe { from_c(st, fs, desc.ret(), retp.cast::<u8>(), false)? };
    st.push(r)?;
    Ok(1)
}

// --- Callbacks -----------------------------------------------------------------------

/// Anchor (or clear) the error a failed callback holds, where the collector sees it.
/// The key exists from the start: this never allocates or fails.
fn set_held(st: &mut State, v: Value) {
    if let Some(env) = ffi_env(st) {
        let _ = st.table_set(env, Value::number(ENV_HELD), v);
    }
}

/// The table of the callbacks' Lua functions (slot + 1 -> function).
fn callback_table(st: &mut State) -> LResult<GcRef<GcTable>> {
    match ffi_env(st).and_then(|e| e.get(Value::number(ENV_CALLBACKS)).as_table()) {
        Some(t) => Ok(t),
        None => Err(st.rt_error_here(errmsg::FFI_BAD_CALLBACK)),
    }
}

/// A new callback of function-pointer type `id` running `f`: its C address.
pub fn new_callback(st: &mut State, fs: &FfiState, id: CTypeId, f: Value) -> LResult<usize> {
    let ft = fs.tab.resolve(fs.tab.resolve(id).child);
    if ft.flags & flags::VARARG != 0 {
        return Err(convert_error(st, fs, f, id));
    }
    let desc = match fs.calls.borrow_mut().desc(&fs.tab, id, &[]) {
        Ok(d) => d,
        Err(CallError::Oom) => return Err(Throw::Oom),
        Err(_) => return Err(convert_error(st, fs, f, id)),
    };
    let made = fs.callbacks.borrow_mut().create(desc);
    let (slot, code) = match made {
        Ok(x) => x,
        Err(CallbackError::Oom) => return Err(Throw::Oom),
        Err(CallbackError::BadType) => return Err(convert_error(st, fs, f, id)),
        Err(e) => return Err(st.rt_error_here(e.message())),
    };
    let set = callback_table(st).and_then(|t| st.table_set(t, Value::number(slot as f64 + 1.0), f));
    if let Err(e) = set {
        let _ = fs.callbacks.borrow_mut().free(slot);
        return Err(e);
    }
    Ok(code as usize)
}

/// The slot of callback cdata argument 1 (`cb:free()`, `cb:set()`).
fn callback_arg(st: &mut State) -> LResult<(&'static FfiState, u32)> {
    let fs = fstate(st)?;
    let v = st.arg(1);
    let code = match v.as_cdata() {
        Some(c) if super::cmeta::is_func_ptr(fs, c) => {
            let (_, p) = locate(fs, c);
            // SAFETY: a pointer cdata holds 8 bytes.
            unsafe { ptr::read_unaligned(p.cast::<usize>()) }
        }
        _ => 0,
    };
    let slot = fs.callbacks.borrow().slot_of(code as *const c_void);
    match slot.filter(|&s| fs.callbacks.borrow().is_live(s)) {
        Some(s) => Ok((fs, s)),
        None => Err(st.rt_error_here(errmsg::FFI_BAD_CALLBACK)),
    }
}

/// `cb:free()`.
pub(crate) fn cb_free(st: &mut State) -> LResult<usize> {
    let (fs, slot) = callback_arg(st)?;
    let t = callback_table(st)?;
    // Clearing an existing key never allocates.
    st.table_set(t, Value::number(slot as f64 + 1.0), Value::NIL)?;
    if fs.callbacks.borrow_mut().free(slot).is_err() {
        return Err(st.rt_error_here(errmsg::FFI_BAD_CALLBACK));
    }
    Ok(0)
}

/// `cb:set(f)`.
pub(crate) fn cb_set(st: &mut State) -> LResult<usize> {
    let (_, slot) = callback_arg(st)?;
    let f = st.arg(2);
    if !f.is_function() {
        return Err(st.type_error(2, "function"));
    }
    let t = callback_table(st)?;
    st.table_set(t, Value::number(slot as f64 + 1.0), f)?;
    Ok(0)
}

/// The callback dispatcher (`Callbacks::set_dispatch`): runs slot `slot`'s Lua
/// function with the C arguments converted, and converts its first result.
///
/// # Safety
/// `ctx` is the `State` the FFI state belongs to; `args` has one pointer per
/// parameter of `desc`'s function type; `ret` is the zeroed result buffer.
pub unsafe fn dispatch(
    ctx: *mut c_void,
    slot: u32,
    desc: DescRef,
    args: *const *mut c_void,
    ret: *mut c_void,
) -> Result<(), Throw> {
    // SAFETY: the caller's contract; the state is not otherwise borrowed while C
    // code runs (the call layer borrows nothing across the call).
    let st = unsafe { &mut *ctx.cast::<State>() };
    let t = callback_table(st)?;
    let f = t.get(Value::number(slot as f64 + 1.0));
    if !f.is_function() {
        return Err(st.rt_error_here(errmsg::FFI_BAD_CALLBACK));
    }
    let top = st.cur.top;
    // SAFETY: the caller's contract.
    let r = unsafe { run_callback(st, f, desc, args, ret) };
    st.cur.get_mut().top = top;
    if let Err(Throw::Error(v)) = r {
        // Held until the C call returns: anchored for the collector meanwhile.
        set_held(st, v);
    }
    r
}

/// # Safety
/// As [`dispatch`].
unsafe fn run_callback(
    st: &mut State,
    f: Value,
    desc: DescRef,
    args: *const *mut c_void,
    ret: *mut c_void,
) -> LResult<()> {
    st.push(f)?;
    let mut n = 0usize;
    let fs = fstate(st)?;
    let mut q = fs.tab.get(desc.func()).first;
    while !q.is_none() {
        let fs = fstate(st)?;
        let pt = fs.tab.get(q).child;
        q = fs.tab.get(q).next;
        // SAFETY: libffi hands one pointer per parameter, to a value of its type.
        let v = unsafe { from_c(st, fs, pt, (*args.add(n)).cast::<u8>(), false)? };
        st.push(v)?;
        n += 1;
    }
    st.call(n, 1)?;
    let r = st.peek(0);
    if desc.ret_kind() == RetKind::Void {
        return Ok(());
    }
    let fs = fstate(st)?;
    let rt = desc.ret();
    let t = *fs.tab.resolve(rt);
    let mut tmp = [Unit([0; 16]); 2];
    let tp = tmp.as_mut_ptr().cast::<u8>();
    if t.size == SIZE_UNKNOWN || t.size as usize > size_of_val(&tmp) {
        return Err(st.rt_error_here(errmsg::FFI_CALL_NYI));
    }
    // SAFETY: `tmp` holds the result type's size (checked above).
    unsafe { to_c(st, fs, rt, r, tp, Mode::Implicit)? };
    let size = t.size as usize;
    // SAFETY: `ret` is libffi's result buffer for this type: at least a register
    // for scalars, which are returned widened to it.
    unsafe {
        if let RetKind::Int { size: s, signed } = desc.ret_kind() {
            let mut b = [0u8; 8];
            b[..s as usize].copy_from_slice(std::slice::from_raw_parts(tp, s as usize));
            let raw = u64::from_le_bytes(b);
            let sh = 64 - 8 * s;
            let w = if signed && s < 8 {
                (((raw << sh) as i64) >> sh) as u64
            } else {
                raw
            };
            ptr::write_unaligned(ret.cast::<u64>(), w);
        } else {
            ptr::copy_nonoverlapping(tp, ret.cast::<u8>(), size);
        }
    }
    Ok(())
}
