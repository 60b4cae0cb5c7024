//! Callbacks: C function pointers that run a Lua function (docs/ffi.md, "Callbacks"),
//! made from libffi closures.
//!
//! Owns: the callback slots (a libffi closure, its executable entry point, and the
//! record the closure is handed), the free list of released slots, and the error a
//! failed callback holds until the C call around it returns.
//!
//! This layer knows nothing of Lua values: a slot is a number, and running it is the
//! job of a dispatcher the state installs ([`Callbacks::set_dispatch`]), which finds
//! the Lua function of the slot (the state anchors it; `cb:set` replaces it there)
//! and converts the arguments and the result.
//!
//! Invariants:
//! - An error (or out of memory, or an abort) raised while a callback runs never
//!   unwinds through C frames: the dispatcher returns it as a value, the trampoline
//!   stores it as the held error, zeroes the result and returns to C normally. Until
//!   the C call around it returns, further callbacks do not run Lua (they return
//!   zero); then [`call`](super::call::call) raises the held
//!   error. The held value must be marked by the collector ([`Callbacks::held_value`]).
//! - A callback entered while no C call of this state is running (C code keeping the
//!   pointer and calling it later from elsewhere) does not run Lua: it returns zero
//!   and is counted ([`Callbacks::stray_calls`]).
//! - Slot records and the bookkeeping live in the state's heap; the closures come
//!   from libffi's allocator (executable memory) and their number is bounded by
//!   [`MAX_CALLBACKS`]. A freed slot keeps its closure for reuse; everything is freed
//!   when the table is dropped (at close). Freeing a slot never allocates.
use super::call::{DescRef, RetKind};
use crate::alloc::{HVec, Heap, HeapRef, OutOfMemory};
use crate::errmsg;
use crate::value::Value;
use crate::vm::error::Throw;
use libffi_sys as lf;
use std::alloc::Layout;
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr::{self, NonNull};

/// Most callbacks alive at once (LuaJIT allows 500 to 1000, by architecture).
pub const MAX_CALLBACKS: usize = 4096;

/// Runs slot `slot` for a C caller: `args[i]` points to argument `i` in C
/// representation, `ret` to the result buffer (already zeroed) of the descriptor's
/// result type. A slot with no Lua function (freed) is the error `bad callback`
/// ([`errmsg::FFI_BAD_CALLBACK`]). It must not panic (a panic here cannot unwind
/// into C: it aborts).
pub type Dispatch = unsafe fn(
    ctx: *mut c_void,
    slot: u32,
    desc: DescRef,
    args: *const *mut c_void,
    ret: *mut c_void,
) -> Result<(), Throw>;

/// Why a callback could not be made or freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackError {
    Oom,
    /// [`MAX_CALLBACKS`] are alive.
    TooMany,
    /// A vararg function type, or an aggregate argument or result by value: no
    /// callback for it (as in LuaJIT, where the conversion fails).
    BadType,
    /// Not a live callback (freed already): `bad callback`.
    Dead,
}

impl CallbackError {
    /// The message, in LuaJIT's words; `BadType` is reported by the conversion
    /// (`cannot convert 'function' to '...'`), which names the types.
    pub fn message(self) -> &'static str {
        match self {
            CallbackError::Oom => errmsg::NOMEM,
            CallbackError::TooMany => errmsg::FFI_TOO_MANY_CALLBACKS,
            CallbackError::BadType => errmsg::FFI_INVALID_TYPE,
            CallbackError::Dead => errmsg::FFI_BAD_CALLBACK,
        }
    }
}

impl From<OutOfMemory> for CallbackError {
    fn from(_: OutOfMemory) -> Self {
        CallbackError::Oom
    }
}

/// What the trampolines of one table share (one accounted block, stable address).
struct Shared {
    dispatch: Cell<Option<Dispatch>>,
    ctx: Cell<*mut c_void>,
    /// C calls of this state running (nested through callbacks).
    depth: Cell<u32>,
    held: Cell<Option<Throw>>,
    stray: Cell<u64>,
}

/// The record a closure is handed (one accounted block per slot, stable address).
struct Rec {
    shared: NonNull<Shared>,
    slot: u32,
    desc: Cell<Option<DescRef>>,
}

#[derive(Clone, Copy)]
struct Entry {
    closure: NonNull<lf::ffi_closure>,
    code: NonNull<c_void>,
    rec: NonNull<Rec>,
    live: bool,
}

/// The callbacks of a state.
pub struct Callbacks {
    heap: HeapRef,
    shared: NonNull<Shared>,
    slots: HVec<Entry>,
    /// Released slots; its capacity always covers every slot, so freeing never
    /// allocates.
    free: HVec<u32>,
}

/// A handle of a [`Callbacks`] table for the calls ([`call`](super::call::call)):
/// a copy of the pointer to its shared block, so that a C call borrows nothing while
/// the callbacks it runs use the table. Valid while the table lives.
#[derive(Clone, Copy, Debug)]
pub struct CallbackHandle(NonNull<Shared>);

impl CallbackHandle {
    fn shared(&self) -> &Shared {
        // SAFETY: the table outlives its handles (type invariant); the shared block
        // is only read and written through `Cell`s.
        unsafe { self.0.as_ref() }
    }

    /// Mark a C call of the state as running until the scope is dropped.
    pub fn enter(self) -> Scope {
        let d = self.shared().depth.get();
        self.shared().depth.set(d.saturating_add(1));
        Scope(self)
    }

    /// The error a failed callback holds, taken (the C call around it returned).
    pub fn take_held(self) -> Option<Throw> {
        self.shared().held.take()
    }
}

/// Marks a C call running; see [`CallbackHandle::enter`].
pub struct Scope(CallbackHandle);

impl Drop for Scope {
    fn drop(&mut self) {
        let d = self.0.shared().depth.get();
        self.0.shared().depth.set(d.saturating_sub(1));
    }
}

/// Bytes of the result buffer libffi gives a closure for `cif`'s result.
///
/// # Safety
/// `cif` is a prepared cif.
unsafe fn ret_bytes(cif: *const lf::ffi_cif) -> usize {
    // SAFETY: a prepared cif has a valid result type.
    let r = unsafe { &*(*cif).rtype };
    match r.type_ {
        lf::FFI_TYPE_VOID => 0,
        lf::FFI_TYPE_STRUCT => r.size,
        // Scalars are returned through a register-sized slot.
        _ => r.size.max(size_of::<lf::ffi_arg>()),
    }
}

/// The entry point of every closure.
unsafe extern "C" fn trampoline(cif: *mut lf::ffi_cif, ret: *mut c_void, args: *mut *mut c_void, user: *mut c_void) {
    // SAFETY: `user` is the slot's `Rec`, alive as long as the closure (both are freed
    // together when the table is dropped), and its `shared` block likewise.
    let rec = unsafe { &*user.cast::<Rec>() };
    // SAFETY: as above.
    let sh = unsafe { rec.shared.as_ref() };
    // SAFETY: libffi hands a result buffer of this size for this cif.
    unsafe { ptr::write_bytes(ret.cast::<u8>(), 0, ret_bytes(cif)) };
    let (Some(dispatch), Some(desc)) = (sh.dispatch.get(), rec.desc.get()) else {
        sh.stray.set(sh.stray.get() + 1);
        return;
    };
    if sh.depth.get() == 0 {
        sh.stray.set(sh.stray.get() + 1);
        return;
    }
    if sh.held.get().is_some() {
        // An earlier callback of this C call failed: Lua does not run again until
        // the error is raised.
        return;
    }
    // SAFETY: the dispatcher's contract: `args` has the descriptor's argument count,
    // `ret` its result buffer.
    if let Err(e) = unsafe { dispatch(sh.ctx.get(), rec.slot, desc, args.cast_const(), ret) } {
        // SAFETY: as above; a failed callback returns zero, whatever it wrote.
        unsafe { ptr::write_bytes(ret.cast::<u8>(), 0, ret_bytes(cif)) };
        sh.held.set(Some(e));
    }
}

impl Callbacks {
    /// An empty table allocating from `heap`.
    pub fn new(heap: &Heap) -> Result<Callbacks, OutOfMemory> {
        let block = heap.alloc(Layout::new::<Shared>())?.cast::<Shared>();
        // SAFETY: a fresh block of `Shared`'s layout.
        unsafe {
            block.as_ptr().write(Shared {
                dispatch: Cell::new(None),
                ctx: Cell::new(ptr::null_mut()),
                depth: Cell::new(0),
                held: Cell::new(None),
                stray: Cell::new(0),
            })
        };
        let h = HeapRef::new(heap);
        Ok(Callbacks {
            heap: h,
            shared: block,
            slots: HVec::new(h),
            free: HVec::new(h),
        })
    }

    fn shared(&self) -> &Shared {
        // SAFETY: allocated in `new`, freed only in `drop`.
        unsafe { self.shared.as_ref() }
    }

    /// Install the dispatcher and the context it is handed (the state).
    pub fn set_dispatch(&self, dispatch: Dispatch, ctx: *mut c_void) {
        self.shared().dispatch.set(Some(dispatch));
        self.shared().ctx.set(ctx);
    }

    /// The handle C calls use.
    pub fn handle(&self) -> CallbackHandle {
        CallbackHandle(self.shared)
    }

    /// The error a failed callback holds, taken.
    pub fn take_held(&self) -> Option<Throw> {
        self.handle().take_held()
    }

    /// The value of the held error, for the collector to mark.
    pub fn held_value(&self) -> Option<Value> {
        match self.shared().held.get() {
            Some(Throw::Error(v)) => Some(v),
            _ => None,
        }
    }

    /// Callbacks entered while no C call of this state was running.
    pub fn stray_calls(&self) -> u64 {
        self.shared().stray.get()
    }

    /// Live callbacks.
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether `slot` is a live callback.
    pub fn is_live(&self, slot: u32) -> bool {
        self.slots.get(slot as usize).is_some_and(|e| e.live)
    }

    /// The slot whose entry point is `code`, if it is one of this table's.
    pub fn slot_of(&self, code: *const c_void) -> Option<u32> {
        self.slots
            .iter()
            .position(|e| e.code.as_ptr().cast_const() == code)
            .map(|i| i as u32)
    }

    /// Bytes of heap the table holds.
    pub fn byte_size(&self) -> usize {
        size_of::<Shared>() + self.slots.byte_size() + self.free.byte_size() + self.slots.len() * size_of::<Rec>()
    }

    /// A new callback of the function type of `desc`: its slot and the C function
    /// pointer that runs it.
    pub fn create(&mut self, desc: DescRef) -> Result<(u32, *const c_void), CallbackError> {
        if desc.nargs() != desc.nfixed() || matches!(desc.ret_kind(), RetKind::Aggregate { .. }) {
            return Err(CallbackError::BadType);
        }
        // SAFETY: the descriptor's cif is prepared and has `nargs` argument types.
        let by_value = unsafe {
            let cif = &*desc.cif();
            (0..cif.nargs as usize).any(|i| (**cif.arg_types.add(i)).type_ == lf::FFI_TYPE_STRUCT)
        };
        if by_value {
            return Err(CallbackError::BadType);
        }
        if let Some(slot) = self.free.pop() {
            let e = self.slots[slot as usize];
            if let Err(err) = self.prep(e, desc) {
                self.free.push_within_capacity(slot);
                return Err(err);
            }
            self.slots[slot as usize].live = true;
            return Ok((slot, e.code.as_ptr().cast_const()));
        }
        if self.slots.len() >= MAX_CALLBACKS {
            return Err(CallbackError::TooMany);
        }
        self.slots.reserve(1)?;
        self.free.reserve_exact(self.slots.len() + 1 - self.free.len())?;
        let slot = self.slots.len() as u32;
        let rec = self.heap.get().alloc(Layout::new::<Rec>())?.cast::<Rec>();
        // SAFETY: a fresh block of `Rec`'s layout.
        unsafe {
            rec.as_ptr().write(Rec {
                shared: self.shared,
                slot,
                desc: Cell::new(None),
            })
        };
        let mut code: *mut c_void = ptr::null_mut();
        // SAFETY: asks libffi for a closure of the size its header declares.
        let closure = unsafe { lf::ffi_closure_alloc(size_of::<lf::ffi_closure>(), &mut code) };
        let (Some(closure), Some(code)) = (NonNull::new(closure.cast::<lf::ffi_closure>()), NonNull::new(code)) else {
            // SAFETY: `rec` was allocated above with this layout and is unused.
            unsafe { self.heap.get().dealloc(rec.cast(), Layout::new::<Rec>()) };
            return Err(CallbackError::Oom);
        };
        let e = Entry {
            closure,
            code,
            rec,
            live: true,
        };
        // Reserved above: cannot fail. From here the table owns the closure.
        self.slots.push_within_capacity(e);
        if let Err(err) = self.prep(e, desc) {
            self.slots[slot as usize].live = false;
            self.free.push_within_capacity(slot);
            return Err(err);
        }
        Ok((slot, code.as_ptr().cast_const()))
    }

    /// Point slot `e`'s closure at `desc`'s signature.
    fn prep(&self, e: Entry, desc: DescRef) -> Result<(), CallbackError> {
        // SAFETY: `e.rec` is the slot's live record.
        unsafe { e.rec.as_ref() }.desc.set(Some(desc));
        // SAFETY: the closure and its code address came from `ffi_closure_alloc`
        // together; the cif lives as long as the call cache, which outlives this
        // table (the state drops callbacks first); `rec` as long as the closure.
        let status = unsafe {
            lf::ffi_prep_closure_loc(
                e.closure.as_ptr(),
                desc.cif(),
                Some(trampoline),
                e.rec.as_ptr().cast(),
                e.code.as_ptr(),
            )
        };
        if status == lf::ffi_status_FFI_OK {
            Ok(())
        } else {
            Err(CallbackError::BadType)
        }
    }

    /// `cb:free()`: release slot `slot` for reuse. Its closure keeps its signature
    /// until the slot is reused: C code calling the freed pointer meanwhile reaches
    /// the dispatcher, which finds no function for the slot and raises `bad
    /// callback` (held like any error).
    pub fn free(&mut self, slot: u32) -> Result<(), CallbackError> {
        let Some(e) = self.slots.get_mut(slot as usize).filter(|e| e.live) else {
            return Err(CallbackError::Dead);
        };
        e.live = false;
        // Capacity covers every slot (kept so by `create`).
        self.free.push_within_capacity(slot);
        Ok(())
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        let heap = self.heap.get();
        for e in self.slots.iter() {
            // SAFETY: each closure came from `ffi_closure_alloc`, each record from
            // this heap with `Rec`'s layout; both are freed once, here, and no C code
            // may call a callback of a closed state.
            unsafe {
                lf::ffi_closure_free(e.closure.as_ptr().cast());
                heap.dealloc(e.rec.cast(), Layout::new::<Rec>());
            }
        }
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { heap.dealloc(self.shared.cast(), Layout::new::<Shared>()) };
    }
}
