//! The Lua state: everything one independent Lua universe owns.
//!
//! A [`State`] owns the heap, the collector, the string table, the registry and the
//! main thread. Objects are created through the `new_*` methods here, which allocate
//! through the heap and link the object into the collector.
//!
//! Invariants:
//! - The heap is boxed and outlives every object: `Drop` frees all objects, then the
//!   heap.
//! - `cur` is the running thread; it is always reachable (the main thread, or a
//!   coroutine whose resumer holds it on its stack).
//! - Fixed strings (`tm_names`, `oom_msg`) carry the FIXED mark and are never swept.
//! - What the VM is doing is the hot block's mode (`hot.rs`), changed only by
//!   [`State::with_mode`]; between calls from the host it is `VmMode::Interp`.

use crate::alloc::{Allocator, HVec, Heap, HeapRef, OutOfMemory};
use crate::func::{FuncBody, GcFunc, GcProto, GcUpval, NativeFn, FF_LUA};
use crate::gc::{self, mark, Gc};
use crate::hot::VmMode;
use crate::object::{GcHeader, GcRef, GcStr, GcTable, GcThread, GcUdata, ObjKind};
use crate::string::StringTable;
use crate::udata::GcUdata as _Udata;
use crate::value::{LuaType, Value};
use crate::vm::thread::ThreadStatus;

/// Metamethods, in the order of their names in [`TM_NAMES`]. The first eight are
/// cached as "absent" in a metatable's `hdr.flags`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tm {
    Index = 0,
    NewIndex,
    Gc,
    Mode,
    Eq,
    Len,
    Lt,
    Le,
    Concat,
    Call,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
    Metatable,
    Tostring,
}

pub const TM_COUNT: usize = 19;
pub const TM_NAMES: [&str; TM_COUNT] = [
    "__index",
    "__newindex",
    "__gc",
    "__mode",
    "__eq",
    "__len",
    "__lt",
    "__le",
    "__concat",
    "__call",
    "__add",
    "__sub",
    "__mul",
    "__div",
    "__mod",
    "__pow",
    "__unm",
    "__metatable",
    "__tostring",
];

/// Number of basic types that can have a shared metatable (indexed by `LuaType`).
pub const NUM_TYPES: usize = 10;

pub fn type_index(t: LuaType) -> usize {
    t as usize
}

/// Receives the message of an error raised inside a finalizer (`__gc`). Not `Send`:
/// the state itself never leaves its thread (its object pointers are not `Send`), so
/// the handler runs on that thread and may hold thread-bound values.
pub type FinalizerErrorHandler = Box<dyn FnMut(&[u8])>;

pub struct State {
    pub gc: Gc,
    pub strings: StringTable,
    pub registry: GcRef<GcTable>,
    /// A table for the embedding host's own values (the safe API's handles), rooted
    /// here rather than in the registry so that no script can reach it, not even
    /// through `debug.getregistry`.
    pub host_root: Option<GcRef<GcTable>>,
    /// The globals table (`_G`), also the main thread's environment.
    pub globals: GcRef<GcTable>,
    pub main_thread: GcRef<GcThread>,
    /// The running thread.
    pub cur: GcRef<GcThread>,
    pub tm_names: [GcRef<GcStr>; TM_COUNT],
    /// The preallocated error object for allocation failures.
    pub oom_msg: GcRef<GcStr>,
    /// Metatables shared by all values of a basic type (strings have one).
    pub type_mts: [Option<GcRef<GcTable>>; NUM_TYPES],
    /// The name of a native by its fast-function id, for messages: the library
    /// table's lookup once a library opened (the VM does not import the libraries).
    pub ff_name: fn(u16) -> &'static str,
    /// Nesting of Rust-level re-entries (natives calling Lua, coroutine resumes).
    pub rust_depth: u32,
    /// Where errors raised by finalizers go, as the bytes of the error message (a
    /// number converted, `?` for any other object, as LuaJIT's `ERRFIN` event gives
    /// them); nothing is formatted when unset.
    pub finalizer_error_handler: Option<FinalizerErrorHandler>,
    /// The instruction budget, the interrupt callback and the profiler (`vm/budget.rs`;
    /// the countdown itself is in the hot block, `hot.rs`).
    pub budget: crate::vm::budget::Budget,
    /// Mask and count of the Lua debug hook (`vm/hook.rs`).
    pub dbg_hook: crate::vm::hook::DebugHook,
    /// Set while an error handler runs: the stack and frame limits are raised a little.
    pub error_headroom: bool,
    /// The thread (its address) whose xpcall handler is running, if any. Another
    /// error reaching a handler on that thread meanwhile is "error in error handling"
    /// without running it, as LuaJIT marks the thread's status while its handler runs.
    pub handling_thread: usize,
    /// Set when the stack overflowed while a handler ran: the handler's failure is
    /// then reported as "stack overflow", as LuaJIT does, not as an error in error
    /// handling.
    pub overflow_in_handler: bool,
    /// Instructions left until the next `count` hook event.
    pub hook_count_left: u32,
    /// Prototype address and pc of the last instruction run with a line hook set.
    pub hook_last: (usize, usize),
    /// The tracing JIT's state: on/off, parameters, the recorder, traces
    /// (`crate::jit`, docs/jit.md).
    pub jit: crate::jit::Jit,
    /// The copy of the dispatch loop the state asks for (`vm/interp.rs`).
    pub dispatch: crate::vm::interp::LoopCopy,
    /// Whether `load` and friends accept binary chunks (made by `string.dump`). On by
    /// default; the safe embedding API turns it off (see `docs/embedding.md`).
    pub allow_bytecode: bool,
    /// Mixed into the hash of every non-string table key (random per state; see
    /// `docs/tables.md`, "Keys"), so scripts cannot choose colliding keys.
    pub table_seed: u64,
    /// Set by the first `Lua::create_sandbox`: the metatable every sandbox
    /// environment has, and the string metatable for code running in one (its
    /// `__index` is the sandboxes' frozen `string` copy, without `dump`; none
    /// without a string library). Both are kept alive by the embedding API's refs.
    /// See [`State::metatable_of`].
    pub sandbox_strings: Option<(GcRef<GcTable>, Option<GcRef<GcTable>>)>,
    /// The FFI's state (its C type table, `ffi/mod.rs`), a userdata rooted here once
    /// the `ffi` library opened; `None` in states without the FFI. The lexer reads
    /// 64-bit integer literals only when it is set (FFI.md).
    pub ffi: Option<GcRef<GcUdata>>,
    /// The ctype ids of `int64_t`, `uint64_t` and `complex`, set with `ffi`: the
    /// lexer reads `1LL`, `1ULL` and `1i` literals only when they are there.
    pub ffi_literals: Option<[u32; 3]>,
    /// Declared last so it is dropped last: the string table's buckets (and any
    /// other State-owned buffer) free themselves through it when the fields drop.
    pub heap: Box<Heap>,
}

impl State {
    /// A state on its own page arena (the default heap).
    pub fn new() -> Result<Box<State>, OutOfMemory> {
        State::with_heap(Box::new(Heap::paged()))
    }

    /// A state on a host-supplied allocator.
    pub fn with_allocator(allocator: Box<dyn Allocator>) -> Result<Box<State>, OutOfMemory> {
        State::with_heap(Box::new(Heap::new(allocator)))
    }

    fn with_heap(heap: Box<Heap>) -> Result<Box<State>, OutOfMemory> {
        let href = HeapRef::new(&heap);
        let strings = StringTable::new(href)?;
        let table_seed = crate::table::random_seed();
        let mut gc = Gc::new();
        let mut strings = strings;
        // Build the first objects before the State exists; on failure free them.
        let build = |gc: &mut Gc, strings: &mut StringTable| -> Result<_, OutOfMemory> {
            let white = gc.current_white;
            let mut fixed = |s: &str| -> Result<GcRef<GcStr>, OutOfMemory> {
                let r = strings.intern(&heap, s.as_bytes(), white, |_| {})?;
                r.get_mut().hdr.marked |= mark::FIXED;
                Ok(r)
            };
            let oom = fixed(crate::errmsg::NOMEM)?;
            let mut tms = [oom; TM_COUNT];
            for (i, name) in TM_NAMES.iter().enumerate() {
                tms[i] = fixed(name)?;
            }
            let globals = gc.new_object(&heap, GcTable::new_seeded(href, table_seed, 0, 64)?, 0)?;
            let registry = gc.new_object(&heap, GcTable::new_seeded(href, table_seed, 0, 4)?, 0)?;
            let main = gc.new_object(&heap, new_thread_value(href, globals)?, 0)?;
            Ok((oom, tms, globals, registry, main))
        };
        match build(&mut gc, &mut strings) {
            Ok((oom_msg, tm_names, globals, registry, main_thread)) => {
                heap.hot.countdown.set(crate::vm::budget::CHECK_INTERVAL);
                let jit = crate::jit::Jit::default();
                heap.hotcounts.reset(jit.hotcount_start());
                let dispatch = if jit.is_on() {
                    crate::vm::interp::LoopCopy::Counting
                } else {
                    crate::vm::interp::LoopCopy::Plain
                };
                main_thread.get_mut().status = ThreadStatus::Running;
                Ok(Box::new(State {
                    heap,
                    gc,
                    strings,
                    registry,
                    host_root: None,
                    globals,
                    main_thread,
                    cur: main_thread,
                    tm_names,
                    oom_msg,
                    type_mts: [None; NUM_TYPES],
                    ff_name: |_| "?",
                    rust_depth: 0,
                    finalizer_error_handler: None,
                    budget: crate::vm::budget::Budget::default(),
                    dbg_hook: crate::vm::hook::DebugHook::default(),
                    error_headroom: false,
                    handling_thread: 0,
                    overflow_in_handler: false,
                    hook_count_left: 0,
                    hook_last: (0, 0),
                    jit,
                    dispatch,
                    allow_bytecode: true,
                    table_seed,
                    sandbox_strings: None,
                    ffi: None,
                    ffi_literals: None,
                }))
            }
            Err(e) => {
                let mut cur = gc.allgc.take();
                while let Some(o) = cur {
                    cur = o.next;
                    // SAFETY: these objects were just created and nothing else refers
                    // to them.
                    unsafe { gc::free_object(&heap, o) };
                }
                strings.free_all(&heap);
                drop(strings);
                Err(e)
            }
        }
    }

    #[inline(always)]
    pub fn heap_ref(&self) -> HeapRef {
        HeapRef::new(&self.heap)
    }

    /// Intern a string.
    pub fn intern(&mut self, bytes: &[u8]) -> Result<GcRef<GcStr>, OutOfMemory> {
        let white = self.gc.current_white;
        let other = white ^ mark::WHITES;
        self.strings.intern(&self.heap, bytes, white, |s| {
            // A string found while sweeping may be marked dead; it is alive again.
            let h = &mut s.get_mut().hdr;
            if h.marked & other != 0 && h.marked & mark::FIXED == 0 {
                h.marked = (h.marked & !mark::WHITES) | white;
            }
        })
    }

    /// Intern and wrap as a value.
    pub fn str_value(&mut self, bytes: &[u8]) -> Result<Value, OutOfMemory> {
        Ok(Value::string(self.intern(bytes)?))
    }

    pub fn new_table(&mut self, narray: usize, nhash: usize) -> Result<GcRef<GcTable>, OutOfMemory> {
        let t = GcTable::new_seeded(self.heap_ref(), self.table_seed, narray, nhash)?;
        self.gc.new_object(&self.heap, t, 0)
    }

    /// A new table with the contents of `template` (TDUP).
    pub fn dup_table(&mut self, template: GcRef<GcTable>) -> Result<GcRef<GcTable>, OutOfMemory> {
        let t = template.duplicate()?;
        self.gc.new_object(&self.heap, t, 0)
    }

    /// Link a finished prototype into the collector.
    pub fn new_proto(&mut self, p: GcProto) -> Result<GcRef<GcProto>, OutOfMemory> {
        self.gc.new_object(&self.heap, p, 0)
    }

    /// A Lua closure of `proto` with `nup` upvalue slots. The caller fills the
    /// upvalues before the next safe point.
    pub fn new_lua_closure(
        &mut self,
        proto: GcRef<GcProto>,
        env: GcRef<GcTable>,
    ) -> Result<GcRef<GcFunc>, OutOfMemory> {
        let nup = proto.upvals.len();
        let mut hdr = GcHeader::new(ObjKind::Function);
        hdr.aux = nup as u32;
        let f = GcFunc {
            hdr,
            env,
            body: FuncBody::Lua(proto),
            ffid: FF_LUA,
        };
        self.gc.new_object(&self.heap, f, nup * 8)
    }

    /// A native function with fast-function id `ffid` (docs/fastfunc.md: a library
    /// table row's, or `FF_C` for the host's) and `nup` upvalues (initialised to nil).
    pub fn new_native(&mut self, f: NativeFn, ffid: u16, nup: usize) -> Result<GcRef<GcFunc>, OutOfMemory> {
        let mut hdr = GcHeader::new(ObjKind::Function);
        hdr.aux = nup as u32;
        let env = self.globals;
        let func = GcFunc {
            hdr,
            env,
            body: FuncBody::Native(f),
            ffid,
        };
        let r = self.gc.new_object(&self.heap, func, nup * 8)?;
        for v in r.native_upvals() {
            *v = Value::NIL;
        }
        Ok(r)
    }

    /// A closed upvalue holding `v`.
    pub fn new_upval_closed(&mut self, v: Value) -> Result<GcRef<GcUpval>, OutOfMemory> {
        let uv = GcUpval {
            hdr: GcHeader::new(ObjKind::Upval),
            v: std::ptr::null_mut(),
            closed: v,
            slot: 0,
            is_open: false,
            open_next: None,
        };
        let r = self.gc.new_object(&self.heap, uv, 0)?;
        let m = r.get_mut();
        m.v = &mut m.closed;
        Ok(r)
    }

    pub fn new_userdata(&mut self, len: usize) -> Result<GcRef<GcUdata>, OutOfMemory> {
        let u = _Udata {
            hdr: GcHeader::new(ObjKind::Userdata),
            metatable: None,
            env: self.globals,
            len,
            host: None,
        };
        self.gc.new_object(&self.heap, u, len)
    }

    /// A new, empty coroutine thread with the given environment.
    pub fn new_thread(&mut self, env: GcRef<GcTable>) -> Result<GcRef<GcThread>, OutOfMemory> {
        let t = new_thread_value(self.heap_ref(), env)?;
        self.gc.new_object(&self.heap, t, 0)
    }

    /// The metatable of any value (`getmetatable` without `__metatable`).
    #[inline]
    pub fn metatable_of(&self, v: Value) -> Option<GcRef<GcTable>> {
        if let Some(t) = v.as_table() {
            return t.metatable;
        }
        if let Some(u) = v.as_userdata() {
            return u.metatable;
        }
        if self.sandbox_strings.is_some() && v.is_string() {
            if let Some(mt) = self.sandbox_string_mt() {
                return Some(mt);
            }
        }
        self.type_mts[type_index(v.lua_type())]
    }

    /// The sandboxes' string metatable if the innermost Lua function running on the
    /// current thread has a sandbox environment (natives run on behalf of that
    /// function: a `gsub` called from a sandbox indexes with the sandbox's view).
    #[inline(never)]
    fn sandbox_string_mt(&self) -> Option<GcRef<GcTable>> {
        let (env_mt, string_mt) = self.sandbox_strings?;
        let th = self.cur;
        for ci in th.frames.iter().rev() {
            match th.stack.get(ci.func as usize).and_then(|f| f.as_function()) {
                Some(f) if f.is_lua() => return string_mt.filter(|_| f.env.metatable == Some(env_mt)),
                _ => continue,
            }
        }
        None
    }
}

fn new_thread_value(heap: HeapRef, env: GcRef<GcTable>) -> Result<GcThread, OutOfMemory> {
    Ok(GcThread {
        hdr: GcHeader::new(ObjKind::Thread),
        stack: HVec::filled(heap, 40, Value::NIL)?,
        top: 0,
        frames: HVec::with_capacity(heap, 8)?,
        open_upvals: None,
        status: ThreadStatus::Suspended,
        env,
        nny: 0,
    })
}

impl Drop for State {
    /// Closing a state runs the finalizers of every userdata that still has one (as
    /// `lua_close` does), including those created by finalizers, then frees all.
    fn drop(&mut self) {
        self.cur = self.main_thread;
        let t = self.main_thread.get_mut();
        t.frames.clear();
        t.top = 0;
        for _ in 0..100 {
            gc::queue_all_finalizers(self);
            if !gc::has_pending_finalizers(self) {
                break;
            }
            self.run_finalizers();
            if self.budget.pending_abort {
                // The budget in force ran out, or the host's callback stopped a
                // finalizer: closing runs no more Lua code.
                break;
            }
        }
        self.with_mode(VmMode::Gc, gc::free_all);
        // The JIT's machine code (mapped pages charged to the heap) goes too: every
        // page, which the tests' debug builds check here (JIT.md J5).
        self.jit.free_traces();
        debug_assert_eq!(self.heap.external(), 0, "code pages mapped after close");
    }
}
