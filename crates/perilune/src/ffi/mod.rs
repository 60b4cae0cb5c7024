//! LuaJIT's FFI (docs/ffi.md; design: FFI.md): the C type table ([`ctype`]), the C
//! declaration parser ([`cparse`]), conversions between Lua values and C bytes
//! ([`conv`]), type names as LuaJIT prints them ([`repr`]), the `ffi` library
//! ([`lib`]), the metamethods every cdata shares ([`cmeta`]), the C call layer
//! ([`call`], [`clib`], [`callback`]) and its Lua side ([`ccall`]: `ffi.C`,
//! `ffi.load`, calls, callbacks).
//!
//! Owns: the FFI state of a Lua state ([`FfiState`]: the type table, the ids of
//! the types the runtime makes itself, the call descriptors, the callback slots and
//! the saved errno), kept in a userdata rooted in `State::ffi`
//! whose environment table holds the Lua-side values (the module table, the
//! metatypes by ctype id, the cdata metatable).
//!
//! Invariants: everything here allocates only through the state's accounted heap and
//! reports failure as a value (`OutOfMemory`, `CError`, a Lua error); nothing panics
//! on any input. Only raw memory misuse through pointers a script made (a bad
//! address) can crash, as in LuaJIT.
// The C call layer; some of its helpers are used by the tests only.
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub mod call;
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub mod callback;
pub mod ccall;
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub mod clib;
pub mod cmeta;
pub mod conv;
pub mod cparse;
pub mod ctype;
pub mod lib;
pub mod repr;

use std::any::TypeId;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::alloc::OutOfMemory;
use crate::cdata::GcCdata;
use crate::object::{GcRef, GcTable, GcUdata};
use crate::udata::HostPayload;
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;
use ctype::{flags, CKind, CType, CTypeId, CTypeTable};

/// The ids of the types the runtime itself makes values of.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ids {
    pub int64: CTypeId,
    pub uint64: CTypeId,
    pub double: CTypeId,
    pub complex: CTypeId,
    pub voidp: CTypeId,
    pub const_charp: CTypeId,
    /// `int` (vararg promotions).
    pub int: CTypeId,
    /// The type of `ffi.typeof` results (payload: the id they stand for, `u32`).
    pub ctype: CTypeId,
}

/// The FFI state of one Lua state. Fields drop in order: the callbacks (whose
/// closures point into descriptors) before the call cache.
pub struct FfiState {
    pub tab: CTypeTable,
    pub ids: Ids,
    pub callbacks: RefCell<callback::Callbacks>,
    pub calls: RefCell<call::CallCache>,
    /// The errno C calls of this state see (`ffi.errno`).
    pub errno: call::Errno,
    /// While the arguments of a C call are converted: the argument number (from
    /// 1), so that a conversion error reads `bad argument #n to '?' (...)`; else 0.
    pub conv_arg: Cell<u32>,
    /// Whether `ffi.metatype` was ever called: until then no cdata operation looks
    /// for a metatype (the common case pays no table lookups).
    pub has_metatypes: Cell<bool>,
    /// The descriptor of the last fixed-argument call (function type, descriptor):
    /// a loop calling one function skips the cache's hash lookup.
    pub last_desc: Cell<Option<(CTypeId, call::DescRef)>>,
    /// The last type string parsed to a type without making a record (so parsing
    /// it again gives the same id): `ffi.cast("uint64_t", x)` in a loop parses once.
    pub last_parse: Cell<Option<ParseMemo>>,
    /// Recent member lookups (`p.x`): (struct id, key bytes' address) -> (member,
    /// offset), direct-mapped. A hit is checked against the member's name, so a
    /// reused address never gives a wrong member.
    pub member_memo: [Cell<MemberMemo>; MEMBER_MEMO],
}

/// Entries of [`FfiState::member_memo`].
pub const MEMBER_MEMO: usize = 16;

/// One entry of [`FfiState::member_memo`] (`sid` 0: empty).
#[derive(Clone, Copy, Default)]
pub struct MemberMemo {
    pub sid: CTypeId,
    pub key: usize,
    pub member: CTypeId,
    pub off: u64,
}

/// A memo of [`FfiState::last_parse`]: the string's bytes (short ones only).
#[derive(Clone, Copy)]
pub struct ParseMemo {
    pub text: [u8; PARSE_MEMO_LEN],
    pub len: u8,
    pub id: CTypeId,
}

/// Longest type string [`FfiState::last_parse`] remembers.
pub const PARSE_MEMO_LEN: usize = 40;

/// Slots of the FFI userdata's environment table.
pub const ENV_MODULE: f64 = 1.0;
pub const ENV_METATYPES: f64 = 2.0;
/// The Lua functions of the callback slots (slot + 1 -> function).
pub const ENV_CALLBACKS: f64 = 3.0;
/// The metatable of namespace userdata (`ffi.C`, `ffi.load`).
pub const ENV_CLIB_MT: f64 = 4.0;
/// `cb:free` and `cb:set`.
pub const ENV_CB_FREE: f64 = 5.0;
pub const ENV_CB_SET: f64 = 6.0;
/// The error a failed callback holds until its C call returns (`false`: none). The
/// key exists from the start, so storing it never allocates; the collector sees it
/// through this table.
pub const ENV_HELD: f64 = 7.0;

// The payload of a userdata is 16-aligned.
const _: () = assert!(std::mem::align_of::<FfiState>() <= 16);

/// # Safety
/// `payload` holds an initialised `FfiState` that is dropped only here.
unsafe fn drop_state(payload: *mut u8) {
    let p = payload.cast::<FfiState>();
    // SAFETY: caller contract; the value is not used again. The collector must not
    // unwind, so a panic (there is none to expect: dropping frees HVecs) is caught.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe { std::ptr::drop_in_place(p) }));
}

fn heap_bytes(u: GcRef<GcUdata>) -> usize {
    state_in(u).map_or(0, |f| {
        let calls = f.calls.try_borrow().map_or(0, |c| c.byte_size());
        let cbs = f.callbacks.try_borrow().map_or(0, |c| c.byte_size());
        f.tab.byte_size() + calls + cbs
    })
}

static FFI_PAYLOAD: HostPayload = HostPayload {
    drop: drop_state,
    type_id: TypeId::of::<FfiState>,
    heap_bytes: Some(heap_bytes),
};

fn state_in<'a>(u: GcRef<GcUdata>) -> Option<&'a mut FfiState> {
    let host = u.host?;
    if !std::ptr::eq(host, &FFI_PAYLOAD) || u.len < std::mem::size_of::<FfiState>() {
        return None;
    }
    // SAFETY: `host` says the payload holds an initialised `FfiState` (udata.rs
    // invariant); the VM is single-threaded and callers hold no other reference.
    Some(unsafe { &mut *GcUdata::payload_ptr(u).cast::<FfiState>() })
}

/// The FFI state of `st`, if the FFI is open. The reference is valid while the
/// state lives (the userdata is rooted in `State::ffi` and never replaced); it must
/// not be held across a call that may reach it another way.
pub fn ffi_state<'a>(st: &State) -> Option<&'a mut FfiState> {
    state_in(st.ffi?)
}

/// The FFI's environment table (module, metatypes).
pub fn ffi_env(st: &State) -> Option<GcRef<GcTable>> {
    st.ffi.map(|u| u.env)
}

fn intern_builtin(tab: &mut CTypeTable, kind: CKind, size: u32, fl: u16) -> Result<CTypeId, OutOfMemory> {
    let mut t = CType::new(kind);
    t.size = size;
    t.align = (31 - size.max(1).leading_zeros()) as u8;
    t.flags = fl;
    if fl & flags::COMPLEX != 0 {
        t.align = 3;
    }
    tab.intern(t)?.ok_or(OutOfMemory)
}

fn new_state(st: &State) -> Result<FfiState, OutOfMemory> {
    let mut tab = CTypeTable::new(&st.heap)?;
    cparse::predefine(&mut tab)?;
    let int64 = intern_builtin(&mut tab, CKind::Int, 8, flags::LONG)?;
    let uint64 = intern_builtin(&mut tab, CKind::Int, 8, flags::LONG | flags::UNSIGNED)?;
    let double = intern_builtin(&mut tab, CKind::Float, 8, 0)?;
    let complex = intern_builtin(&mut tab, CKind::Float, 16, flags::COMPLEX)?;
    let mut p = CType::new(CKind::Ptr);
    p.size = 8;
    p.align = 3;
    let voidp = tab.intern(p)?.ok_or(OutOfMemory)?;
    let mut cchar = CType::new(CKind::Int);
    cchar.size = 1;
    cchar.flags = flags::CONST;
    let cchar = tab.intern(cchar)?.ok_or(OutOfMemory)?;
    p.child = cchar;
    let const_charp = tab.intern(p)?.ok_or(OutOfMemory)?;
    // A record of its own (never interned, never named): the type of ctype objects.
    let mut ct = CType::new(CKind::Void);
    ct.size = 4;
    ct.align = 2;
    ct.value = -1;
    let ctype = tab.push(ct)?.ok_or(OutOfMemory)?;
    let int = intern_builtin(&mut tab, CKind::Int, 4, 0)?;
    let callbacks = RefCell::new(callback::Callbacks::new(&st.heap)?);
    Ok(FfiState {
        tab,
        callbacks,
        calls: RefCell::new(call::CallCache::new(&st.heap)),
        errno: call::Errno::default(),
        conv_arg: Cell::new(0),
        has_metatypes: Cell::new(false),
        last_desc: Cell::new(None),
        last_parse: Cell::new(None),
        member_memo: Default::default(),
        ids: Ids {
            int64,
            uint64,
            double,
            complex,
            voidp,
            const_charp,
            ctype,
            int,
        },
    })
}

/// Open the FFI in `st`: its state, the cdata metatable and the module table, which
/// `require("ffi")` returns (the package library puts a loader for it into
/// `package.preload`, as LuaJIT does: there is no global `ffi`).
pub fn open(st: &mut State) -> LResult<()> {
    if st.ffi.is_some() {
        return Ok(());
    }
    let env = st.new_table(4, 0)?;
    let u = st.new_userdata(std::mem::size_of::<FfiState>())?;
    u.get_mut().env = env;
    // Rooted in the stack while the rest is made.
    st.push(Value::userdata(u))?;
    let fs = new_state(st)?;
    let fs_ids = fs.ids;
    // SAFETY: the payload is `size_of::<FfiState>()` bytes, 16-aligned, and holds
    // nothing yet; `host` is set right after, so it is dropped exactly once.
    unsafe { GcUdata::payload_ptr(u).cast::<FfiState>().write(fs) };
    u.get_mut().host = Some(&FFI_PAYLOAD);
    if let Some(fs) = state_in(u) {
        // The state is boxed and never moves; it outlives its callbacks.
        let ctx: *mut State = st;
        fs.callbacks.borrow().set_dispatch(ccall::dispatch, ctx.cast());
    }
    st.ffi = Some(u);
    st.ffi_literals = Some([fs_ids.int64.0, fs_ids.uint64.0, fs_ids.complex.0]);
    st.pop(1);
    let metatypes = st.new_table(0, 0)?;
    st.table_set(env, Value::number(ENV_METATYPES), Value::table(metatypes))?;
    let module = lib::make_module(st)?;
    st.table_set(env, Value::number(ENV_MODULE), Value::table(module))?;
    ccall::open(st, env, module)?;
    let mt = cmeta::make_metatable(st)?;
    st.type_mts[crate::vm::state::type_index(crate::value::LuaType::Cdata)] = Some(mt);
    Ok(())
}

/// The module table (for `package.preload.ffi`), if the FFI is open.
pub fn module_table(st: &State) -> Option<GcRef<GcTable>> {
    ffi_env(st)?.get(Value::number(ENV_MODULE)).as_table()
}

/// A new cdata of type `id` with `len` zeroed payload bytes, linked into the
/// collector. Pointers, structs, unions and arrays get the finalizer slot.
pub fn new_cdata(st: &mut State, fs: &FfiState, id: CTypeId, len: usize) -> LResult<GcRef<GcCdata>> {
    let k = fs.tab.resolve(id).kind;
    let with_fin = matches!(k, CKind::Ptr | CKind::Struct | CKind::Union | CKind::Array);
    let c = GcCdata::alloc(&st.heap, id.0, len, with_fin)?;
    st.gc.adopt(c.header());
    Ok(c)
}

/// A boxed 64-bit integer (`1LL`, `1ULL`).
pub fn new_int64(st: &mut State, fs: &FfiState, v: u64, unsigned: bool) -> LResult<Value> {
    let id = if unsigned { fs.ids.uint64 } else { fs.ids.int64 };
    let c = new_cdata(st, fs, id, 8)?;
    GcCdata::bytes(c).copy_from_slice(&v.to_ne_bytes());
    Ok(Value::cdata(c))
}

/// A boxed 64-bit integer in a state with the FFI (for `bit.*`).
pub fn box_int64(st: &mut State, v: u64, unsigned: bool) -> LResult<Value> {
    let fs = cmeta::fstate(st)?;
    new_int64(st, fs, v, unsigned)
}
