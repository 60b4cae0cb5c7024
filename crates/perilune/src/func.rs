//! Function prototypes, closures and upvalues.
//!
//! A [`GcProto`] is what the compiler produces for one function body: bytecode, constants,
//! child prototypes, and debug information. A [`GcFunc`] is a closure: a prototype
//! or a native Rust function (its [`FuncBody`]), its environment table, its upvalues
//! and its fast-function id (which also names a native in messages). An [`GcUpval`] is
//! a captured variable, *open* while it still lives in a stack slot of a running frame
//! and *closed* once that frame has ended and the value moved into the upvalue itself.
//!
//! Invariants:
//! - Closures store their upvalues inline after the struct: `hdr.aux` of them, each
//!   8 bytes (`GcRef<GcUpval>` for Lua closures, `Value` for native ones).
//! - An open upvalue's `v` points into its thread's stack; when the stack is
//!   reallocated the thread rewrites `v` of every open upvalue. A closed upvalue's `v`
//!   points at its own `closed` field.
//! - A thread's open upvalues form a list sorted by stack slot, highest first, with no
//!   two for the same slot, so closures share captured variables.

use crate::alloc::HVec;
use crate::compiler::bytecode::Ins;
use crate::object::{GcHeader, GcRef, GcStr, GcTable};
use crate::value::Value;
use crate::vm::error::Throw;
use crate::vm::state::State;

/// A native function: reads its arguments from the current frame of `state`, pushes
/// its results on the stack, and returns how many it pushed.
pub type NativeFn = fn(&mut State) -> Result<usize, Throw>;

/// How a child closure captures one upvalue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpvalDesc {
    /// `true`: capture register `index` of the enclosing frame; `false`: share upvalue
    /// `index` of the enclosing closure.
    pub in_stack: bool,
    pub index: u8,
}

/// Debug information about a local variable: it lives in `reg` for instructions
/// `start_pc..end_pc`.
#[derive(Clone, Copy, Debug)]
pub struct LocVar {
    pub name: GcRef<GcStr>,
    pub start_pc: u32,
    pub end_pc: u32,
    pub reg: u8,
}

/// A compiled function body.
#[repr(C)]
pub struct GcProto {
    pub hdr: GcHeader,
    pub code: HVec<Ins>,
    /// Source line of each instruction (same length as `code`).
    pub lineinfo: HVec<u32>,
    /// Numbers and strings; string constants are interned `Value::string`s. Template
    /// tables for `TDUP` are `Value::table`s.
    pub consts: HVec<Value>,
    pub protos: HVec<GcRef<GcProto>>,
    pub upvals: HVec<UpvalDesc>,
    pub upval_names: HVec<GcRef<GcStr>>,
    pub locvars: HVec<LocVar>,
    /// The chunk name as given to `load` (`"@file.lua"`, `"=stdin"`, or source text).
    pub source: GcRef<GcStr>,
    pub line_defined: u32,
    pub last_line_defined: u32,
    pub num_params: u8,
    pub is_vararg: bool,
    /// Number of registers the frame needs.
    pub framesize: u8,
}

impl GcProto {
    /// Whether this is a chunk's main function: it starts on line 0 and ends on a
    /// line (a main function ends on line 1 at least). A stripped function
    /// (`string.dump(f, true)`) has both at 0 and counts as an ordinary function, as
    /// in LuaJIT.
    pub fn is_main(&self) -> bool {
        self.line_defined == 0 && self.last_line_defined != 0
    }
}

/// Fast-function ids (docs/fastfunc.md). A function object carries one: 0 for Lua
/// functions, 1 for host functions, otherwise the id of its row in the library table
/// (`stdlib::LIB_FUNCS`). Below [`FF_OWN`] they are LuaJIT 2.1's numbers.
pub const FF_LUA: u16 = 0;
/// A native function made by the host (the embedding API): no name, no id.
pub const FF_C: u16 = 1;
/// `tostring`: a value with `__tostring` has the metamethod take the call's place (a
/// tail call, as LuaJIT's fast function does), so it may yield.
pub const FF_TOSTRING: u16 = 18;
/// `pcall` and `xpcall` run as VM frames, so coroutines can yield across them.
pub const FF_PCALL: u16 = 20;
pub const FF_XPCALL: u16 = 21;
/// The first id of Perilune's own natives: LuaJIT numbers its fast functions below.
pub const FF_OWN: u16 = 256;

/// What a function runs. `repr(u8)` fixes the layout compiled code reads
/// (`vm/layout.rs`): a tag byte (0 Lua, 1 native), then the pointer 8 bytes in.
#[repr(u8)]
#[derive(Clone, Copy)]
pub enum FuncBody {
    Lua(GcRef<GcProto>),
    Native(NativeFn),
}

/// A closure: Lua or native, as its `body` says. Followed in memory by `hdr.aux`
/// upvalue slots.
#[repr(C)]
pub struct GcFunc {
    pub hdr: GcHeader,
    pub env: GcRef<GcTable>,
    pub body: FuncBody,
    /// The fast-function id ([`FF_LUA`], [`FF_C`] or a library function's).
    pub ffid: u16,
}

impl GcFunc {
    #[inline(always)]
    pub fn is_lua(&self) -> bool {
        matches!(self.body, FuncBody::Lua(_))
    }
    /// The prototype of a Lua function.
    #[inline(always)]
    pub fn proto(&self) -> Option<GcRef<GcProto>> {
        match self.body {
            FuncBody::Lua(p) => Some(p),
            FuncBody::Native(_) => None,
        }
    }
    /// The Rust function of a native function.
    #[inline(always)]
    pub fn native(&self) -> Option<NativeFn> {
        match self.body {
            FuncBody::Native(f) => Some(f),
            FuncBody::Lua(_) => None,
        }
    }
    /// Is this one of the natives the interpreter runs as a VM frame of its own
    /// (`pcall`, `xpcall`, `tostring`; see `vm/call.rs`)?
    #[inline(always)]
    pub fn runs_as_frame(&self) -> bool {
        matches!(self.ffid, FF_TOSTRING | FF_PCALL | FF_XPCALL)
    }
    /// LuaJIT's fast-function number, which `tostring` shows as `builtin#N`: only
    /// library functions LuaJIT implements as fast functions have one.
    #[inline]
    pub fn luajit_ffid(&self) -> Option<u8> {
        u8::try_from(self.ffid).ok().filter(|&id| id > FF_C as u8)
    }
    #[inline(always)]
    pub fn num_upvals(&self) -> usize {
        self.hdr.aux as usize
    }
    #[inline(always)]
    fn trailing<T>(&self) -> *mut T {
        // SAFETY: the allocation is `size_of::<GcFunc>() + aux * 8` bytes; the
        // trailing slots start right after the struct, which is 8-aligned.
        unsafe { (self as *const GcFunc as *mut u8).add(std::mem::size_of::<GcFunc>()) as *mut T }
    }
    /// The upvalues of a Lua closure.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn lua_upvals(&self) -> &mut [GcRef<GcUpval>] {
        debug_assert!(self.is_lua());
        // SAFETY: Lua closures hold `aux` initialised upvalue refs inline (module
        // invariant); the VM is single-threaded.
        unsafe { std::slice::from_raw_parts_mut(self.trailing(), self.num_upvals()) }
    }
    /// The upvalues of a native closure.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn native_upvals(&self) -> &mut [Value] {
        debug_assert!(!self.is_lua());
        // SAFETY: native closures hold `aux` initialised values inline.
        unsafe { std::slice::from_raw_parts_mut(self.trailing(), self.num_upvals()) }
    }
    /// Bytes of a closure with `nup` upvalues.
    pub fn alloc_size(nup: usize) -> usize {
        std::mem::size_of::<GcFunc>() + nup * 8
    }
}

/// A captured variable.
#[repr(C)]
pub struct GcUpval {
    pub hdr: GcHeader,
    /// Where the value lives: a stack slot while open, `closed` once closed.
    pub v: *mut Value,
    pub closed: Value,
    /// Stack slot index while open.
    pub slot: u32,
    pub is_open: bool,
    /// Next open upvalue of the same thread (lower slot).
    pub open_next: Option<GcRef<GcUpval>>,
}

impl GcUpval {
    #[inline(always)]
    pub fn get(&self) -> Value {
        // SAFETY: `v` points at a live stack slot (open) or at `closed` (module invariant).
        unsafe { *self.v }
    }
    #[inline(always)]
    pub fn set(&mut self, v: Value) {
        // SAFETY: as in `get`.
        unsafe { *self.v = v }
    }
}
