//! [`Lua`]: a handle to one Lua universe, and the plumbing every handle uses.
//!
//! # Ownership
//!
//! A [`Lua`] is an `Rc` of a heap block, [`LuaRaw`], that holds the VM [`State`] as a
//! raw pointer in a `Cell`, the refs bookkeeping and cached metatables. `Lua` is a
//! cheap `Clone`; the state is *closed* (its finalizers run, every object is freed)
//! when the last `Lua` is dropped, in `Lua::drop`, while that `Lua`'s strong count
//! still holds the block. Value handles ([`LuaRef`]: `Table`, `Function`, ...) hold
//! only a `Weak` link: they do not keep the state open. Every handle operation
//! upgrades the link first, so a handle used after the state is closed gets
//! [`Error::StateDestroyed`] and never touches freed memory; its `Drop` then does
//! nothing. The block itself outlives the state as long as a `Weak` points to it,
//! which is what makes that check possible.
//!
//! # How the state is reached (and why it is sound)
//!
//! Every operation *takes* the state pointer ([`Lua::with_state`]), leaving null
//! behind, turns it into `&mut State` for the duration of the operation and puts it
//! back. So at most one `&mut State` derived from it exists at a time, and code that
//! runs while the VM is busy (the `Drop` of a Rust value stored in a userdata, which
//! runs inside the collector) finds null and gets [`Error::StateBusy`] instead of a
//! second `&mut`. After the state is closed the cell stays null and `closed` is set:
//! operations get [`Error::StateDestroyed`].
//!
//! While an operation runs, a strong `Lua` outlives it: either the `&Lua` the method
//! was called on (borrowed, so it cannot be dropped meanwhile) or the strong `Lua` a
//! handle operation upgraded its link to (a local of the operation, unreachable from
//! the code it runs). So the block and the state cannot go away under the VM, and no
//! `Lua` dropped during an operation can be the last one.
//!
//! When the VM calls a Rust callback, the trampoline puts the `&mut State` *it* was
//! given back into the cell (as a raw pointer derived from it) while the callback
//! runs, and takes it out again afterwards: the callback's operations are reborrows of
//! the VM's reference, never siblings of it. The `&Lua` the callback receives is a
//! view of the block (an `Rc` rebuilt from the block's address inside a
//! `ManuallyDrop`, so it never changes the strong count); cloning it makes a real,
//! counted `Lua`.
//!
//! # Handles
//!
//! A handle keeps its value alive by storing it in the *refs table*, an
//! integer-keyed table like the registry's `luaL_ref` slots, but rooted in the state's
//! `host_root` instead of the registry, so that no script can reach it. Reference counts and the
//! free list live on the Rust side; a handle's `Drop` only decrements a count and, at
//! zero, queues the slot, which the next operation clears. `Drop` never touches the
//! state, so it is harmless wherever it runs. `Lua` and handles are `!Send` (they
//! hold `Rc`/`Weak`), so all of this is single-threaded; only [`RegistryKey`] and
//! the interrupt flag cross threads, through `Arc`s.

use std::any::TypeId;
use std::cell::{Cell, UnsafeCell};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::{Rc, Weak};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::alloc::{Allocator, HeapRef};
use crate::object::{GcRef, GcTable};
use crate::value::Value as Raw;
use crate::vm::budget::InterruptAction;
use crate::vm::call::close_upvals;
use crate::vm::error::{LResult, Throw};
use crate::vm::state::State;

use super::error::{Error, Result};
use super::string::LuaString;
use super::table::Table;
use super::userdata::{error_metatable_native, UdCell, WrappedError};
use super::value::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti, MultiValue, Value};

/// The abort reason `vm::budget` gives when the instruction budget runs out.
pub(crate) const BUDGET_REASON: &str = crate::errmsg::BUDGET_EXHAUSTED;

/// Which standard libraries to open. Combine with `|`.
///
/// The names and groups are mlua's, so a host ported from mlua opens what it opened
/// there: [`StdLib::ALL_SAFE`] is every library but `debug` and `ffi`, and is what
/// [`Lua::new`] opens, `io`, `os` and `package` included.
/// What each selection opens:
///
/// | selection | opens |
/// |---|---|
/// | (always) | the base library without `dofile`/`loadfile` |
/// | `COROUTINE` | `coroutine` |
/// | `TABLE` | `table` |
/// | `STRING` | `string` (with `string.buffer` for `require` when `PACKAGE` is open) |
/// | `MATH` | `math` |
/// | `BIT` | LuaJIT's `bit` |
/// | `JIT` | LuaJIT's `jit` (`jit.opt`, and `jit.util`/`jit.profile` for `require`) |
/// | `IO` | `io` and file methods |
/// | `OS_TIME` | `os.clock`, `os.date`, `os.difftime`, `os.time` only |
/// | `OS` | all of `os` (`OS_TIME` and `execute`, `exit`, `getenv`, `remove`, `rename`, `setlocale`, `tmpname`) |
/// | `PACKAGE` | `package`, `require`, `module` (Lua modules: no native code until Perilune has a C API) |
/// | `BASE_FILES` | `dofile`, `loadfile` in the base library |
/// | `DEBUG` | `debug` (only [`Lua::new_trusted`] opens it) |
/// | `ISOLATED` | `COROUTINE`, `TABLE`, `STRING`, `MATH`, `BIT`, `JIT`: nothing that reaches outside the state |
/// | `FFI` | LuaJIT's `ffi`, for `require("ffi")` (only [`Lua::unsafe_new_trusted`] and mlua's `unsafe_new*` open it) |
/// | `ALL_SAFE` | everything but `DEBUG` and `FFI` |
/// | `ALL` | everything |
///
/// None of these is a sandbox: `io`, `os`, `package` and `dofile` give a script
/// the powers of the process. Untrusted code runs in [`Lua::create_sandbox`], whose
/// own, stricter set does not depend on the selection (it shares only what the
/// selection opened of the isolated libraries).
///
/// Only libraries Perilune implements are opened; asking for one it does not have
/// yet is not an error (it is simply absent). LuaJIT's `ffi`, with which scripts
/// can corrupt memory, opens only through the `unsafe` constructors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StdLib(u32);

impl StdLib {
    /// `coroutine`.
    pub const COROUTINE: StdLib = StdLib(1);
    /// `table`.
    pub const TABLE: StdLib = StdLib(1 << 1);
    /// `io` (reaches files and processes).
    pub const IO: StdLib = StdLib(1 << 2);
    /// All of `os` (reaches files, processes and the environment): `OS_TIME` and
    /// the rest.
    pub const OS: StdLib = StdLib(StdLib::OS_REST.0 | StdLib::OS_TIME.0);
    /// `string`.
    pub const STRING: StdLib = StdLib(1 << 4);
    /// LuaJIT's `bit`.
    pub const BIT: StdLib = StdLib(1 << 6);
    /// `math`.
    pub const MATH: StdLib = StdLib(1 << 7);
    /// `package` (loads Lua files; no native code until Perilune has a C API).
    pub const PACKAGE: StdLib = StdLib(1 << 8);
    /// LuaJIT's `jit`.
    pub const JIT: StdLib = StdLib(1 << 11);
    /// `dofile`, `loadfile` in the base library (they read files). Perilune's own
    /// bit: in mlua the base library always has them.
    pub const BASE_FILES: StdLib = StdLib(1 << 12);
    /// The clock and the calendar only: `os.clock`, `os.date`, `os.difftime`,
    /// `os.time`, without `execute`, `exit`, `getenv`, `remove`, `rename`,
    /// `setlocale` and `tmpname` (Perilune's own).
    ///
    /// ```
    /// use perilune::{Lua, LuaOptions, StdLib};
    /// let lua = Lua::new_with(StdLib::ISOLATED | StdLib::OS_TIME, LuaOptions::new())?;
    /// assert!(lua.load("return os.time() > 0 and os.execute == nil").eval::<bool>()?);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub const OS_TIME: StdLib = StdLib(1 << 13);
    /// `debug`: it reaches around every encapsulation a script relies on (locals,
    /// upvalues, metatables, the registry, sandboxes), so the safe constructors
    /// refuse it; [`Lua::new_trusted`] opens it.
    pub const DEBUG: StdLib = StdLib(1 << 31);
    /// No library but the base library.
    pub const NONE: StdLib = StdLib(0);
    /// Every library that cannot reach outside the Lua state: `coroutine`, `table`,
    /// `string`, `math`, `bit`, `jit` (Perilune's own; what `ALL_SAFE` was before
    /// it took mlua's meaning). Still not a sandbox: scripts share the globals.
    pub const ISOLATED: StdLib = StdLib(
        StdLib::COROUTINE.0 | StdLib::TABLE.0 | StdLib::STRING.0 | StdLib::MATH.0 | StdLib::BIT.0 | StdLib::JIT.0,
    );
    /// mlua's safe set: everything but `debug` and `ffi`; what
    /// [`Lua::new`] opens.
    pub const ALL_SAFE: StdLib = StdLib((1 << 30) - 1);
    /// Every library.
    pub const ALL: StdLib = StdLib(u32::MAX);
    /// Every library (the same as [`StdLib::ALL`]): what the `perilune` command opens.
    pub const ALL_TRUSTED: StdLib = StdLib::ALL;
    /// The part of `os` beyond `OS_TIME`; no public name, so that it never opens
    /// without the clock.
    const OS_REST: StdLib = StdLib(1 << 3);
    /// LuaJIT's `ffi` (for `require("ffi")`; never a global): scripts can corrupt
    /// memory with it, so only [`Lua::new_trusted`] and the `unsafe` constructors
    /// open it, never a safe set or a sandbox. Bit 30, as in mlua.
    pub const FFI: StdLib = StdLib(1 << 30);
    /// What the safe constructors refuse: `debug` and `ffi`.
    const UNSAFE: StdLib = StdLib(StdLib::DEBUG.0 | StdLib::FFI.0);

    /// Are all libraries of `other` in `self`? (mlua's `contains` asks whether any
    /// is: the same for single libraries.)
    pub fn contains(self, other: StdLib) -> bool {
        self.0 & other.0 == other.0
    }

    /// The selection bit of a library of `stdlib::LIBRARIES` (tables of functions that
    /// open only inside another library select nothing of their own).
    fn of_lib(lib: crate::stdlib::Lib) -> StdLib {
        use crate::stdlib::Lib;
        match lib {
            Lib::Coroutine => StdLib::COROUTINE,
            Lib::String => StdLib::STRING,
            Lib::Table => StdLib::TABLE,
            Lib::Math => StdLib::MATH,
            Lib::Bit => StdLib::BIT,
            Lib::Io => StdLib::IO,
            Lib::OsTime => StdLib::OS_TIME,
            Lib::Os => StdLib::OS_REST,
            Lib::Debug => StdLib::DEBUG,
            Lib::Jit => StdLib::JIT,
            Lib::Package => StdLib::PACKAGE,
            Lib::Ffi => StdLib::FFI,
            Lib::Base
            | Lib::File
            | Lib::JitOpt
            | Lib::JitUtil
            | Lib::JitProfile
            | Lib::Buffer
            | Lib::BufferMethod
            | Lib::CdataMeta
            | Lib::Made => StdLib::NONE,
        }
    }

    fn intersects(self, other: StdLib) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for StdLib {
    type Output = StdLib;
    fn bitor(self, rhs: StdLib) -> StdLib {
        StdLib(self.0 | rhs.0)
    }
}
impl std::ops::BitOrAssign for StdLib {
    fn bitor_assign(&mut self, rhs: StdLib) {
        self.0 |= rhs.0;
    }
}
impl std::ops::BitAnd for StdLib {
    type Output = StdLib;
    fn bitand(self, rhs: StdLib) -> StdLib {
        StdLib(self.0 & rhs.0)
    }
}

/// Options for creating a state ([`Lua::new_with`], [`Lua::new_trusted`]).
///
/// ```
/// use perilune::{Error, Lua, LuaOptions, StdLib};
/// // A limit set here already counts the standard libraries.
/// let r = Lua::new_with(StdLib::ALL_SAFE, LuaOptions::new().memory_limit(1024));
/// assert!(matches!(r, Err(Error::MemoryError(_))));
/// let lua = Lua::new_with(StdLib::ALL_SAFE, LuaOptions::new().memory_limit(8 << 20))?;
/// assert!(lua.used_memory() < 8 << 20);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LuaOptions {
    memory_limit: usize,
    ignore_env_vars: bool,
}

impl LuaOptions {
    pub fn new() -> Self {
        LuaOptions::default()
    }

    /// Limit the state to `bytes` (0: no limit) from its creation on, before the
    /// standard libraries are opened, so that everything the state allocates is
    /// counted (a later [`Lua::set_memory_limit`] can only count what comes after).
    /// A limit too small for the libraries makes creation fail with
    /// [`Error::MemoryError`].
    #[must_use]
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// With `true`, the `package` library ignores the environment variables
    /// `LUA_PATH` and `LUA_CPATH` and starts from the default paths, as `luajit -E`
    /// does (the registry's `LUA_NOENV` is set before the libraries open).
    ///
    /// ```
    /// use perilune::{Lua, LuaOptions, StdLib};
    /// let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new().ignore_env_vars(true))?;
    /// let path: String = lua.load("return package.path").eval()?;
    /// assert!(path.starts_with("./?.lua;"));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    #[must_use]
    pub fn ignore_env_vars(mut self, ignore: bool) -> Self {
        self.ignore_env_vars = ignore;
        self
    }
}

/// What an interrupt callback ([`Lua::set_interrupt`]) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmState {
    /// Keep running.
    Continue,
    /// Raise a Lua error with this message; the script can catch it with `pcall`.
    Error(String),
    /// Stop the script: the call the host made returns [`Error::Interrupted`] with
    /// this reason, and no `pcall` in the script can catch it.
    Abort(String),
}

/// Reference counts of the refs table's slots.
#[derive(Default)]
struct RefBook {
    /// `counts[i]`: live handles for slot `i` (slot 0 is unused).
    counts: Vec<u32>,
    /// Slots whose count reached zero, cleared at the next operation.
    dead: Vec<u32>,
    /// Cleared slots ready for reuse.
    free: Vec<u32>,
}

/// The heap block a [`Lua`] points to. See the module documentation.
pub(crate) struct LuaRaw {
    /// The VM state while nobody uses it; null while an operation runs, and for
    /// good once the state is closed.
    pub(crate) state: Cell<*mut State>,
    /// Set when the last `Lua` closes the state.
    closed: Cell<bool>,
    /// The state's heap (its counters are `Cell`s, read without the state).
    heap: HeapRef,
    refs: GcRef<GcTable>,
    /// SAFETY discipline: only touched by the small non-reentrant functions below,
    /// which call neither user code nor anything that could reach them again; `Lua`
    /// and handles are `!Send` and `!Sync` (`Rc`/`Weak`), so this is single-threaded.
    book: UnsafeCell<RefBook>,
    /// Slots released by dropped [`RegistryKey`]s (which may be dropped anywhere).
    key_queue: Arc<Mutex<Vec<u32>>>,
    pub(crate) interrupt_flag: Arc<AtomicBool>,
    /// Cached metatables of userdata types, each held by a ref that is never freed.
    pub(crate) ud_metatables: UnsafeCell<HashMap<TypeId, GcRef<GcTable>>>,
    /// Metatable of wrapped Rust errors (held by a permanent ref).
    pub(crate) error_mt: GcRef<GcTable>,
    pub(crate) globals_ref: u32,
    pub(crate) globals: Raw,
    /// The sandbox environment maker, once built (a permanent ref).
    pub(crate) sandbox_maker: Cell<Option<Raw>>,
    /// The host's values attached with [`Lua::set_app_data`] (dropped at close).
    pub(crate) app_data: super::app_data::AppData,
}

impl LuaRaw {
    /// Take a new ref on `v` (which must be rooted or fresh: no collection runs here).
    pub(crate) fn make_ref(&self, st: &mut State, v: Raw) -> Result<u32> {
        // SAFETY: see `book`; no user code runs while the borrow is live.
        let book = unsafe { &mut *self.book.get() };
        let idx = match book.free.pop() {
            Some(i) => i,
            None => {
                if book.counts.is_empty() {
                    book.counts.push(0);
                }
                let i = book.counts.len() as u32;
                book.counts.push(0);
                i
            }
        };
        match self.refs.get_mut().set_int(idx as i64, v) {
            Ok(()) => {
                crate::gc::barrier_back(st, self.refs, v);
                book.counts[idx as usize] = 1;
                Ok(idx)
            }
            Err(_) => {
                book.free.push(idx);
                Err(Error::MemoryError(crate::errmsg::NOMEM.into()))
            }
        }
    }

    pub(crate) fn inc_ref(&self, idx: u32) {
        // SAFETY: see `book`.
        let book = unsafe { &mut *self.book.get() };
        if let Some(c) = book.counts.get_mut(idx as usize) {
            *c = c.saturating_add(1);
        }
    }

    pub(crate) fn dec_ref(&self, idx: u32) {
        // SAFETY: see `book`.
        let book = unsafe { &mut *self.book.get() };
        if let Some(c) = book.counts.get_mut(idx as usize) {
            if *c > 0 {
                *c -= 1;
                if *c == 0 {
                    book.dead.push(idx);
                }
            }
        }
    }

    /// Clear the slots of dropped handles and registry keys. Never allocates in the
    /// Lua heap (the slots exist already).
    fn drain(&self, _st: &mut State) {
        if let Ok(mut q) = self.key_queue.try_lock() {
            for idx in q.drain(..) {
                self.dec_ref(idx);
            }
        }
        // SAFETY: see `book`.
        let book = unsafe { &mut *self.book.get() };
        while let Some(idx) = book.dead.pop() {
            // Storing nil into an existing slot never allocates.
            let _ = self.refs.get_mut().set_int(idx as i64, Raw::NIL);
            book.free.push(idx);
        }
    }

    /// The state's heap, while the state is open (the heap is freed with it).
    fn heap(&self) -> Option<&crate::alloc::Heap> {
        (!self.closed.get()).then(|| self.heap.get())
    }

    /// Number of live refs (for tests and leak checks).
    pub(crate) fn live_refs(&self) -> usize {
        // SAFETY: see `book`.
        let book = unsafe { &*self.book.get() };
        book.counts.iter().filter(|&&c| c > 0).count()
    }
}

/// A Lua state: a handle to one independent Lua universe.
///
/// Created with [`Lua::new`] (safe standard libraries), [`Lua::new_with`],
/// [`Lua::new_trusted`] or [`Lua::new_with_allocator`]. `Lua` is a cheap [`Clone`]:
/// every clone is the same state, which is closed (finalizers run, memory freed)
/// when the last clone is dropped. Values taken out of it ([`Table`],
/// [`Function`](crate::Function), ...) are `'static` handles that do not keep it
/// open: used after it is closed they return [`Error::StateDestroyed`].
///
/// `Lua` and its handles are neither `Send` nor `Sync` (as mlua without its `send`
/// feature): a state lives on the thread that made it. What crosses threads is the
/// interrupt flag ([`Lua::interrupt_handle`]) and [`RegistryKey`]s (docs/embedding.md,
/// "Threads").
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<perilune::Lua>();
/// ```
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<perilune::Table>();
/// ```
///
/// ```
/// use perilune::Lua;
/// let lua = Lua::new();
/// lua.globals().set("x", 20)?;
/// let y: i64 = lua.load("return x * 2 + 2").eval()?;
/// assert_eq!(y, 42);
/// let other = lua.clone(); // the same state
/// assert_eq!(other.globals().get::<i64>("x")?, 20);
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone)]
pub struct Lua {
    raw: Rc<LuaRaw>,
}

/// A link to a [`Lua`] that does not keep the state open ([`Lua::weak`]): for a Rust
/// value stored *inside* the state (a callback's capture, a userdata) that needs
/// the state, where a `Lua` clone would keep the state alive forever (a cycle).
///
/// ```
/// let lua = perilune::Lua::new();
/// let weak = lua.weak();
/// assert!(weak.try_upgrade().is_some());
/// drop(lua);
/// assert!(weak.try_upgrade().is_none());
/// assert!(matches!(weak.upgrade(), Err(perilune::Error::StateDestroyed)));
/// ```
#[derive(Clone)]
pub struct WeakLua(Weak<LuaRaw>);

impl WeakLua {
    /// The state, if it is still open.
    pub fn try_upgrade(&self) -> Option<Lua> {
        let raw = self.0.upgrade()?;
        (!raw.closed.get()).then_some(Lua { raw })
    }

    /// The state, or [`Error::StateDestroyed`] once it is closed (mlua's `upgrade`
    /// panics instead).
    pub fn upgrade(&self) -> Result<Lua> {
        self.try_upgrade().ok_or(Error::StateDestroyed)
    }
}

impl std::fmt::Debug for WeakLua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WeakLua({:p})", self.0.as_ptr())
    }
}

impl PartialEq for WeakLua {
    fn eq(&self, other: &Self) -> bool {
        Weak::ptr_eq(&self.0, &other.0)
    }
}

impl PartialEq for Lua {
    /// The same state.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.raw, &other.raw)
    }
}

impl Lua {
    pub(crate) fn raw(&self) -> &LuaRaw {
        &self.raw
    }

    /// A link to this state that does not keep it open.
    pub fn weak(&self) -> WeakLua {
        WeakLua(Rc::downgrade(&self.raw))
    }

    /// The `Weak` link handles keep.
    pub(crate) fn downgrade(&self) -> Weak<LuaRaw> {
        Rc::downgrade(&self.raw)
    }

    /// A `&Lua` for a callback, made from the block's address without touching the
    /// strong count, and the block it points to.
    ///
    /// # Safety
    /// `raw` points into the `Rc` allocation of a live `LuaRaw` whose strong count
    /// stays above zero while the returned view is used (an operation is running:
    /// see the module documentation).
    pub(crate) unsafe fn view(raw: NonNull<LuaRaw>) -> std::mem::ManuallyDrop<Lua> {
        // SAFETY: caller contract; `ManuallyDrop` keeps the count unchanged, as the
        // view never gives back the reference it did not take.
        std::mem::ManuallyDrop::new(Lua {
            raw: unsafe { Rc::from_raw(raw.as_ptr()) },
        })
    }

    /// A state with mlua's safe set of standard libraries ([`StdLib::ALL_SAFE`]):
    /// every library but `debug`, so `io`, `os`, `package`, `dofile` and
    /// `loadfile` included, as `mlua::Lua::new` opens them. Binary chunks are
    /// refused (docs/embedding.md, "Bytecode").
    ///
    /// **This is not a sandbox.** "Safe" means, as in mlua, that no script can
    /// break the host's memory safety or reach the state's internals; it can still
    /// read and write files, run programs and end the process. To run code you do
    /// not trust, give each script an environment from [`Lua::create_sandbox`] (its
    /// own, stricter set of functions, whatever the state opened), or open fewer
    /// libraries with [`Lua::new_with`] (e.g. [`StdLib::ISOLATED`], or with
    /// [`StdLib::OS_TIME`] for the clock and the calendar only).
    ///
    /// Aborts the process (as Rust does on allocation failure) if the system
    /// allocator cannot provide the few kilobytes a state needs.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// assert!(lua.load("return os.time() > 0 and io ~= nil").eval::<bool>()?);
    /// assert!(lua.load("return debug").eval::<Option<perilune::Table>>()?.is_none());
    /// // Untrusted code: a sandbox, which has neither `io` nor `os`.
    /// let env = lua.create_sandbox()?;
    /// assert!(lua.load("return os == nil and io == nil").set_environment(env).eval::<bool>()?);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn new() -> Lua {
        match Lua::create(None, StdLib::ALL_SAFE, LuaOptions::new(), false) {
            Ok(lua) => lua,
            Err(_) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<State>()),
        }
    }

    /// A state with the given libraries, as `mlua::Lua::new_with`: fails if `debug`
    /// (one of the libraries [`StdLib::ALL_SAFE`] leaves out) is asked for; use
    /// [`Lua::new_trusted`] for it. Binary chunks are refused. Fails with
    /// [`Error::MemoryError`] if the memory limit of `options` is too small for the
    /// libraries.
    ///
    /// ```
    /// use perilune::{Lua, LuaOptions, StdLib};
    /// let lua = Lua::new_with(StdLib::COROUTINE | StdLib::OS_TIME, LuaOptions::new())?;
    /// assert!(lua.load("return os.clock() >= 0 and os.remove == nil").eval::<bool>()?);
    /// assert!(Lua::new_with(StdLib::IO | StdLib::PACKAGE, LuaOptions::new()).is_ok());
    /// assert!(Lua::new_with(StdLib::DEBUG, LuaOptions::new()).is_err());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn new_with(libs: StdLib, options: LuaOptions) -> Result<Lua> {
        refuse_unsafe(libs)?;
        Lua::create(None, libs, options, false)
    }

    /// A state for scripts the host trusts: any libraries, `debug` included, and
    /// binary chunks (verified before they run). This is how the `perilune` command
    /// creates its state (`Lua::new_trusted(StdLib::ALL, ...)`). None of these
    /// libraries can break the host's memory safety (the values the API's handles
    /// hold are out of every script's reach, `debug.getregistry` included), which is
    /// why this constructor is safe where mlua's `unsafe_new_with` is not; they give
    /// scripts the powers of the process and a look inside every function. Fails
    /// with [`Error::MemoryError`] if the memory limit of `options` is too small for
    /// the libraries.
    ///
    /// ```
    /// use perilune::{Lua, LuaOptions, StdLib};
    /// let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new())?;
    /// assert!(lua.load("return debug.traceback ~= nil").eval::<bool>()?);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    ///
    /// `ffi` is the one library this constructor leaves out even when `libs` names
    /// it ([`StdLib::ALL`] does): with it a script can write anywhere in the
    /// process's memory. [`Lua::unsafe_new_trusted`] opens it.
    pub fn new_trusted(libs: StdLib, options: LuaOptions) -> Result<Lua> {
        Lua::create(None, StdLib(libs.0 & !StdLib::FFI.0), options, true)
    }

    /// [`Lua::new_trusted`] that also opens `ffi` when `libs` names it (LuaJIT's FFI,
    /// for `require("ffi")`): what the `perilune` command uses.
    ///
    /// # Safety
    ///
    /// With `ffi`, a script can read and write any address and call into C: the
    /// caller trusts the scripts this state runs as much as native code.
    pub unsafe fn unsafe_new_trusted(libs: StdLib, options: LuaOptions) -> Result<Lua> {
        Lua::create(None, libs, options, true)
    }

    /// mlua's `unsafe_new`: [`Lua::unsafe_new_with`] with every library
    /// ([`StdLib::ALL`]).
    ///
    /// # Safety
    ///
    /// [`Lua::unsafe_new_trusted`] under mlua's name, so that a host ported from mlua
    /// compiles unchanged: it opens LuaJIT's `ffi`, with which scripts can corrupt
    /// memory, so the caller promises to trust the scripts as native code.
    ///
    /// ```
    /// let lua = unsafe { perilune::Lua::unsafe_new() };
    /// assert!(lua.load("return debug ~= nil").eval::<bool>()?);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub unsafe fn unsafe_new() -> Lua {
        // SAFETY: the caller's promise is passed on unchanged.
        unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::new()) }
    }

    /// mlua's `unsafe_new_with`: the state [`Lua::new_trusted`] makes, returned
    /// without a `Result` as mlua does. A memory limit in `options` too small for
    /// the libraries is set after they open instead of failing (every allocation
    /// then fails with [`Error::MemoryError`] until the host raises the limit);
    /// the process aborts, as [`Lua::new`] does, only if the system allocator
    /// cannot provide the state.
    ///
    /// # Safety
    ///
    /// As [`Lua::unsafe_new`]: `libs` may include `ffi`.
    pub unsafe fn unsafe_new_with(libs: StdLib, options: LuaOptions) -> Lua {
        let limit = options.memory_limit;
        // SAFETY: the caller's promise is passed on unchanged.
        let lua = unsafe { Lua::unsafe_new_trusted(libs, options.clone()) }.or_else(|e| match e {
            Error::MemoryError(_) if limit != 0 => {
                // SAFETY: as above.
                let lua = unsafe { Lua::unsafe_new_trusted(libs, options.memory_limit(0)) }?;
                lua.set_memory_limit(limit)?;
                Ok(lua)
            }
            e => Err(e),
        });
        match lua {
            Ok(lua) => lua,
            Err(_) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<State>()),
        }
    }

    /// A state whose every allocation goes through `allocator` (the analogue of
    /// `lua_newstate` with a `lua_Alloc`), with the given libraries (refused as by
    /// [`Lua::new_with`]: `debug` is not among them). Fails with
    /// [`Error::MemoryError`] if the allocator refuses what the state needs to start.
    /// A panic inside the allocator is caught and treated as a refusal.
    ///
    /// ```
    /// use perilune::{Lua, StdLib};
    /// use perilune::SystemAllocator;
    /// let lua = Lua::new_with_allocator(Box::new(SystemAllocator), StdLib::ALL_SAFE)?;
    /// assert_eq!(lua.load("return 1 + 1").eval::<i32>()?, 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn new_with_allocator(allocator: Box<dyn Allocator>, libs: StdLib) -> Result<Lua> {
        refuse_unsafe(libs)?;
        Lua::create(
            Some(Box::new(CatchUnwindAllocator(allocator))),
            libs,
            LuaOptions::new(),
            false,
        )
    }

    /// `allow_bytecode`: whether `load` accepts binary chunks (`string.dump` output);
    /// only the trusted and unsafe constructors allow it.
    /// `allocator`: a host's, or `None` for the state's own page arena.
    fn create(
        allocator: Option<Box<dyn Allocator>>,
        libs: StdLib,
        options: LuaOptions,
        allow_bytecode: bool,
    ) -> Result<Lua> {
        let st = match allocator {
            Some(a) => State::with_allocator(a),
            None => State::new(),
        };
        let mut st = st.map_err(|_| Error::MemoryError(crate::errmsg::NOMEM.into()))?;
        st.allow_bytecode = allow_bytecode;
        if options.memory_limit != 0 {
            st.heap.set_limit(options.memory_limit);
        }
        let noenv = options.ignore_env_vars;
        let setup = (|| {
            if noenv {
                let k = st.str_value(b"LUA_NOENV")?;
                let reg = st.registry;
                st.table_set(reg, k, Raw::TRUE)?;
            }
            open_libs(&mut st, libs)
        })()
        .and_then(|()| {
            // The refs table is the state's host root, not a registry entry: scripts
            // with the `debug` library can reach the registry, and a script that
            // could clear a slot would free a value a handle still points to.
            let refs = st.new_table(16, 0)?;
            st.host_root = Some(refs);
            let error_mt = error_metatable_native(&mut st)?;
            let k = st.str_value(b"perilune.error_mt")?;
            st.table_set(refs, k, Raw::table(error_mt))?;
            Ok((refs, error_mt))
        });
        let (refs, error_mt) = match setup {
            Ok(x) => x,
            Err(Throw::Oom) => return Err(Error::MemoryError(crate::errmsg::NOMEM.into())),
            Err(e) => {
                let v = st.error_value(e);
                let msg = v
                    .as_string()
                    .map_or_else(String::new, |s| s.to_str_lossy().into_owned());
                return Err(Error::RuntimeError(msg));
            }
        };
        let heap = st.heap_ref();
        let interrupt_flag = st.interrupt_handle();
        let globals = Raw::table(st.globals);
        let st_ptr = Box::into_raw(st);
        let raw = LuaRaw {
            state: Cell::new(st_ptr),
            closed: Cell::new(false),
            heap,
            refs,
            book: UnsafeCell::new(RefBook::default()),
            key_queue: Arc::new(Mutex::new(Vec::new())),
            interrupt_flag,
            ud_metatables: UnsafeCell::new(HashMap::new()),
            error_mt,
            globals_ref: 0,
            globals,
            sandbox_maker: Cell::new(None),
            app_data: Default::default(),
        };
        let mut lua = Lua { raw: Rc::new(raw) };
        let globals_ref = lua.with_state(|st, raw| raw.make_ref(st, globals))?;
        match Rc::get_mut(&mut lua.raw) {
            Some(raw) => raw.globals_ref = globals_ref,
            None => return Err(Error::StateBusy),
        }
        Ok(lua)
    }

    /// Run `f` with exclusive access to the VM state (see the module documentation).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State, &LuaRaw) -> Result<R>) -> Result<R> {
        let raw = self.raw();
        let p = raw.state.replace(std::ptr::null_mut());
        if p.is_null() {
            return Err(if raw.closed.get() {
                Error::StateDestroyed
            } else {
                Error::StateBusy
            });
        }
        // SAFETY: `p` came from `Box::into_raw` (or from the `&mut State` a trampoline
        // was given, see the module docs) and was taken out of the cell, so this is the
        // only `&mut State` derived from it until it is put back below.
        let st = unsafe { &mut *p };
        raw.drain(st);
        let r = f(st, raw);
        raw.state.set(p);
        r
    }

    /// The global environment table.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.globals().set("answer", 42)?;
    /// assert_eq!(lua.load("return answer").eval::<u8>()?, 42);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn globals(&self) -> Table {
        let raw = self.raw();
        raw.inc_ref(raw.globals_ref);
        Table(LuaRef {
            lua: self.downgrade(),
            idx: raw.globals_ref,
            val: raw.globals,
        })
    }

    /// A new, empty table.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_table()?;
    /// t.set(1, "one")?;
    /// assert_eq!(t.len()?, 1);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_table(&self) -> Result<Table> {
        self.create_table_with_capacity(0, 0)
    }

    /// A new table with room for `narr` array and `nrec` hash entries.
    pub fn create_table_with_capacity(&self, narr: usize, nrec: usize) -> Result<Table> {
        self.with_state(|st, raw| {
            let t = st.new_table(narr, nrec).map_err(|_| mem_error())?;
            Ok(Table(LuaRef::new(self, st, raw, Raw::table(t))?))
        })
    }

    /// A table filled from key/value pairs.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_table_from([("a", 1), ("b", 2)])?;
    /// assert_eq!(t.get::<i32>("b")?, 2);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_table_from<K, V>(&self, iter: impl IntoIterator<Item = (K, V)>) -> Result<Table>
    where
        K: IntoLua,
        V: IntoLua,
    {
        let t = self.create_table()?;
        for (k, v) in iter {
            t.raw_set(k, v)?;
        }
        Ok(t)
    }

    /// A table with the values of `iter` at keys 1, 2, ...
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let t = lua.create_sequence_from([10, 20, 30])?;
    /// assert_eq!(t.raw_len(), 3);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_sequence_from<V>(&self, iter: impl IntoIterator<Item = V>) -> Result<Table>
    where
        V: IntoLua,
    {
        let t = self.create_table()?;
        for (i, v) in iter.into_iter().enumerate() {
            t.raw_set(i as i64 + 1, v)?;
        }
        Ok(t)
    }

    /// A Lua string (any bytes).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let s = lua.create_string(b"caf\xc3\xa9")?;
    /// assert_eq!(s.to_str()?, "café");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_string(&self, s: impl AsRef<[u8]>) -> Result<LuaString> {
        self.with_state(|st, raw| {
            let v = st.str_value(s.as_ref()).map_err(|_| mem_error())?;
            Ok(LuaString(LuaRef::new(self, st, raw, v)?))
        })
    }

    /// Convert a Rust value to a Lua value.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let v = lua.pack(vec![1, 2])?;
    /// assert_eq!(lua.unpack::<Vec<i32>>(v)?, [1, 2]);
    /// let m = lua.pack_multi((1, "two"))?;
    /// assert_eq!(lua.unpack_multi::<(i32, String)>(m)?, (1, "two".to_string()));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn pack(&self, t: impl IntoLua) -> Result<Value> {
        t.into_lua(self)
    }

    /// Convert a Lua value to a Rust value.
    pub fn unpack<T: FromLua>(&self, v: Value) -> Result<T> {
        T::from_lua(v, self)
    }

    /// Convert a Rust value to several Lua values.
    pub fn pack_multi(&self, t: impl IntoLuaMulti) -> Result<MultiValue> {
        t.into_lua_multi(self)
    }

    /// Convert several Lua values to a Rust value.
    pub fn unpack_multi<T: FromLuaMulti>(&self, v: MultiValue) -> Result<T> {
        T::from_lua_multi(v, self)
    }

    // --- Limits ---------------------------------------------------------------------

    /// Bytes currently allocated by this state (0 once it is closed).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// assert!(lua.used_memory() > 0);
    /// ```
    pub fn used_memory(&self) -> usize {
        self.raw().heap().map_or(0, |h| h.used())
    }

    /// Bytes of memory this state holds, which the memory limit bounds: with the
    /// default heap, the memory its pages have touched and its large blocks (at least
    /// [`Lua::used_memory`]; the difference is free space inside its pages); with a
    /// host allocator ([`Lua::new_with_allocator`]), the same as `used_memory`.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// assert!(lua.memory_footprint() >= lua.used_memory());
    /// ```
    pub fn memory_footprint(&self) -> usize {
        self.raw().heap().map_or(0, |h| h.footprint())
    }

    /// Limit the state to `limit` bytes (0: no limit) and return the previous limit
    /// (0 if there was none). The limit bounds the state's footprint
    /// ([`Lua::memory_footprint`]), so memory held by fragmentation counts too.
    /// Allocations that would pass it fail with `not enough memory`, which Lua code
    /// sees as an error and the host as [`Error::MemoryError`]; the state stays
    /// usable. Memory already in use is not taken back.
    ///
    /// ```
    /// use perilune::{Error, Lua};
    /// let lua = Lua::new();
    /// lua.set_memory_limit(lua.memory_footprint() + 256 * 1024)?;
    /// let r = lua.load("local t = {} for i = 1, 1e7 do t[i] = i end").exec();
    /// assert!(matches!(r, Err(Error::MemoryError(_))));
    /// assert_eq!(lua.load("return 1 + 1").eval::<i32>()?, 2);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn set_memory_limit(&self, limit: usize) -> Result<usize> {
        let heap = self.raw().heap().ok_or(Error::StateDestroyed)?;
        let prev = heap.limit();
        heap.set_limit(if limit == 0 { usize::MAX } else { limit });
        Ok(if prev == usize::MAX { 0 } else { prev })
    }

    /// Limit execution to about `units` VM instructions from now (loop iterations
    /// are charged by the length of their body, calls one unit each); `None` removes
    /// the limit. When it runs out, the running call returns
    /// [`Error::BudgetExhausted`], which no `pcall` in the script can catch; later
    /// calls fail the same way until a new budget is set.
    ///
    /// ```
    /// use perilune::{Error, Lua};
    /// let lua = Lua::new();
    /// lua.set_instruction_budget(Some(100_000))?;
    /// let r = lua.load("while true do end").exec();
    /// assert!(matches!(r, Err(Error::BudgetExhausted)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn set_instruction_budget(&self, units: Option<u64>) -> Result<()> {
        self.with_state(|st, _| {
            st.set_budget(units);
            Ok(())
        })
    }

    /// What is left of the instruction budget, if one is set.
    pub fn instruction_budget(&self) -> Result<Option<u64>> {
        self.with_state(|st, _| Ok(st.budget_remaining()))
    }

    /// Switch the tracing JIT on or off (as `jit.on()`/`jit.off()`; docs/jit.md).
    /// **The JIT is on by default** where its backend is built (the default `jit`
    /// cargo feature on x86-64 Unix), as in LuaJIT; elsewhere it is off by default,
    /// and switched on it records loops that are never compiled. Compiled code keeps the memory limit, the
    /// instruction budget and the interrupt exactly as the interpreter does.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.set_jit(false)?;
    /// assert!(!lua.jit_enabled()?);
    /// assert_eq!(lua.load("return jit.status()").eval::<bool>()?, false);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_jit(&self, on: bool) -> Result<()> {
        self.with_state(|st, _| {
            st.jit_set_on(on);
            Ok(())
        })
    }

    /// Is the JIT on (see [`Lua::set_jit`])?
    pub fn jit_enabled(&self) -> Result<bool> {
        self.with_state(|st, _| Ok(st.jit.is_on()))
    }

    /// Call `callback` regularly while Lua code runs (about every 10 000
    /// instructions, and at every budget check). It can let the script go on, raise an
    /// error in it, or abort it ([`Error::Interrupted`]). A panic in the callback
    /// aborts the script. The callback need not be `Send` (it runs on the state's
    /// thread, like every callback); to stop a script from another thread, share an
    /// `Arc<AtomicBool>` with it, or use [`Lua::interrupt_handle`].
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use perilune::{Lua, VmState};
    /// let lua = Lua::new();
    /// let checks = Rc::new(Cell::new(0)); // not `Send`
    /// let seen = checks.clone();
    /// lua.set_interrupt(move || { seen.set(seen.get() + 1); VmState::Continue })?;
    /// lua.load("for i = 1, 1e6 do end").exec()?;
    /// assert!(checks.get() > 0);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    ///
    /// ```
    /// use perilune::{Error, Lua, VmState};
    /// let lua = Lua::new();
    /// let mut checks = 0;
    /// lua.set_interrupt(move || {
    ///     checks += 1;
    ///     if checks > 3 { VmState::Abort("too slow".into()) } else { VmState::Continue }
    /// })?;
    /// let r = lua.load("while true do end").exec();
    /// assert!(matches!(r, Err(Error::Interrupted(ref m)) if m == "too slow"));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn set_interrupt<F>(&self, mut callback: F) -> Result<()>
    where
        F: FnMut() -> VmState + 'static,
    {
        let f = Box::new(move || match catch_unwind(AssertUnwindSafe(&mut callback)) {
            Ok(VmState::Continue) => InterruptAction::Continue,
            Ok(VmState::Error(m)) => InterruptAction::Error(m),
            Ok(VmState::Abort(m)) => InterruptAction::Abort(m),
            Err(_) => InterruptAction::Abort(crate::errmsg::INTERRUPT_PANICKED.into()),
        });
        self.with_state(|st, _| {
            st.set_interrupt(Some(f));
            Ok(())
        })
    }

    /// Receive the errors raised inside finalizers (`__gc` metamethods). Such an error
    /// is never rethrown into the code that happened to run the collector (the
    /// finalizer runs under its own protected call); without a handler it is dropped.
    /// The handler gets the message's bytes, a number converted to text and `?` for any
    /// other error object, as LuaJIT v2.1's `ERRFIN` event does. The `perilune` command
    /// prints them as `ERROR in finalizer: <message>` on stderr. The handler runs
    /// while the VM is busy: it must not call back into this state.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use perilune::Lua;
    /// let lua = Lua::new();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// lua.set_finalizer_error_handler(move |msg| sink.lock().unwrap().push(msg.to_vec()))?;
    /// lua.load("local p = newproxy(true) getmetatable(p).__gc = function() error('boom', 0) end
    ///           p = nil collectgarbage()").exec()?;
    /// assert_eq!(*seen.lock().unwrap(), vec![b"boom".to_vec()]);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_finalizer_error_handler<F>(&self, mut handler: F) -> Result<()>
    where
        F: FnMut(&[u8]) + 'static,
    {
        // A panic in the host's handler must not unwind through the VM.
        let f = Box::new(move |msg: &[u8]| {
            let _ = catch_unwind(AssertUnwindSafe(|| handler(msg)));
        });
        self.with_state(|st, _| {
            st.finalizer_error_handler = Some(f);
            Ok(())
        })
    }

    /// Set the cap each finalizer (`__gc`) call runs under, in budget units
    /// (default 1 000 000, about 3 ms; `None`: no cap of its own). A finalizer that spends it is stopped
    /// and reported to the finalizer error handler as `finalizer budget exhausted`;
    /// the code it interrupted goes on. The budget in force applies as well: see
    /// docs/embedding.md, "Finalizers and the budget".
    pub fn set_finalizer_budget(&self, units: Option<u64>) -> Result<()> {
        self.with_state(|st, _| {
            st.set_finalizer_budget(units);
            Ok(())
        })
    }

    /// Remove the handler set by [`Lua::set_finalizer_error_handler`].
    pub fn remove_finalizer_error_handler(&self) -> Result<()> {
        self.with_state(|st, _| {
            st.finalizer_error_handler = None;
            Ok(())
        })
    }

    /// Remove the interrupt callback.
    pub fn remove_interrupt(&self) -> Result<()> {
        self.with_state(|st, _| {
            st.set_interrupt(None);
            Ok(())
        })
    }

    /// A flag that, set to `true` from anywhere (another thread, a signal handler),
    /// makes running Lua code raise the catchable error `interrupted!` at its next
    /// check (as the `luajit` command does on Ctrl-C). For a stop the script cannot
    /// catch, use [`Lua::set_interrupt`] returning [`VmState::Abort`].
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.raw().interrupt_flag.clone()
    }

    // --- Garbage collector ---------------------------------------------------------

    /// A full collection, then pending finalizers.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.load("garbage = {} for i = 1, 1000 do garbage[i] = {} end garbage = nil").exec()?;
    /// let before = lua.used_memory();
    /// lua.gc_collect()?;
    /// assert!(lua.used_memory() < before);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    ///
    /// Finalizers run here as anywhere else (docs/embedding.md, "Finalizers and the
    /// budget"): each under the budget in force and its own cap. If the budget runs
    /// out or the interrupt callback aborts inside one, the rest stay queued and this
    /// returns [`Error::BudgetExhausted`] or [`Error::Interrupted`].
    pub fn gc_collect(&self) -> Result<()> {
        self.with_state(|st, raw| {
            crate::gc::full_collect(st);
            st.run_finalizers();
            if st.budget.pending_abort {
                st.budget.pending_abort = false;
                return Err(error_from_throw(st, raw, Throw::Abort));
            }
            Ok(())
        })
    }

    /// One incremental step (the work normally done for 1 KiB of allocation); true
    /// if it finished a cycle.
    pub fn gc_step(&self) -> Result<bool> {
        self.gc_step_kbytes(0)
    }

    /// A step doing the work of `kbytes` KiB of allocation; true if it finished a
    /// cycle.
    pub fn gc_step_kbytes(&self, kbytes: usize) -> Result<bool> {
        self.with_state(|st, raw| {
            let done = crate::gc::step_kb(st, kbytes);
            st.run_finalizers();
            if st.budget.pending_abort {
                st.budget.pending_abort = false;
                return Err(error_from_throw(st, raw, Throw::Abort));
            }
            Ok(done)
        })
    }

    /// Stop automatic collection (explicit collections still work; a memory limit
    /// still holds).
    pub fn gc_stop(&self) -> Result<()> {
        self.with_state(|st, _| {
            crate::gc::set_stopped(st, true);
            Ok(())
        })
    }

    /// Restart automatic collection.
    pub fn gc_restart(&self) -> Result<()> {
        self.with_state(|st, _| {
            crate::gc::set_stopped(st, false);
            Ok(())
        })
    }

    /// Is automatic collection running?
    pub fn gc_is_running(&self) -> Result<bool> {
        self.with_state(|st, _| Ok(!st.gc.stopped))
    }

    /// Set the pause (percent; 200 waits until memory doubles) and return the old one.
    pub fn gc_set_pause(&self, pause: u32) -> Result<u32> {
        self.with_state(|st, _| Ok(crate::gc::set_pause(st, pause)))
    }

    /// Set the step multiplier (percent of work per allocation; 0: each step is a
    /// full cycle) and return the old one.
    pub fn gc_set_step_multiplier(&self, stepmul: u32) -> Result<u32> {
        self.with_state(|st, _| Ok(crate::gc::set_stepmul(st, stepmul)))
    }

    // --- Registry ----------------------------------------------------------------

    /// Keep a value alive with a key that is `'static` and `Send` (it can be stored
    /// anywhere, inside callbacks too).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let key = lua.create_registry_value("kept")?;
    /// assert_eq!(lua.registry_value::<String>(&key)?, "kept");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_registry_value<T: IntoLua>(&self, t: T) -> Result<RegistryKey> {
        let v = t.into_lua(self)?;
        self.with_state(|st, raw| {
            let rv = v.to_raw(st, raw)?;
            let idx = raw.make_ref(st, rv)?;
            Ok(RegistryKey {
                idx,
                queue: raw.key_queue.clone(),
            })
        })
    }

    /// The value a registry key holds.
    pub fn registry_value<T: FromLua>(&self, key: &RegistryKey) -> Result<T> {
        let v = self.with_state(|st, raw| {
            if !Arc::ptr_eq(&key.queue, &raw.key_queue) {
                return Err(Error::MismatchedRegistryKey);
            }
            let rv = raw.refs.get_int(key.idx as i64);
            Value::from_raw(self, st, raw, rv)
        })?;
        T::from_lua(v, self)
    }

    /// Release a registry key now (dropping it does the same).
    pub fn remove_registry_value(&self, key: RegistryKey) -> Result<()> {
        if !Arc::ptr_eq(&key.queue, &self.raw().key_queue) {
            return Err(Error::MismatchedRegistryKey);
        }
        drop(key);
        Ok(())
    }

    /// Does `key` belong to this state?
    pub fn owns_registry_value(&self, key: &RegistryKey) -> bool {
        Arc::ptr_eq(&key.queue, &self.raw().key_queue)
    }

    /// Store `t` in the Lua registry under `name` (what `debug.getregistry()[name]`
    /// reads in a trusted state), for the state's whole life or until unset.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// lua.set_named_registry_value("app.version", 3)?;
    /// assert_eq!(lua.named_registry_value::<i32>("app.version")?, 3);
    /// lua.unset_named_registry_value("app.version")?;
    /// assert_eq!(lua.named_registry_value::<Option<i32>>("app.version")?, None);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_named_registry_value(&self, name: &str, t: impl IntoLua) -> Result<()> {
        let v = t.into_lua(self)?;
        self.with_state(|st, raw| {
            let v = v.to_raw(st, raw)?;
            protect(st, raw, |st| {
                // Rooted on the stack while the key is made (`v` may be a fresh error
                // userdata).
                st.push(v)?;
                let k = st.str_value(name.as_bytes())?;
                let reg = st.registry;
                st.table_set(reg, k, v)?;
                st.pop(1);
                Ok(())
            })
        })
    }

    /// The value stored under `name` in the registry (nil if none).
    pub fn named_registry_value<T: FromLua>(&self, name: &str) -> Result<T> {
        let v = self.with_state(|st, raw| {
            let v = protect(st, raw, |st| {
                let k = st.str_value(name.as_bytes())?;
                Ok(st.registry.get(k))
            })?;
            Value::from_raw(self, st, raw, v)
        })?;
        T::from_lua(v, self)
    }

    /// Remove the value stored under `name` in the registry.
    pub fn unset_named_registry_value(&self, name: &str) -> Result<()> {
        self.set_named_registry_value(name, Value::Nil)
    }

    /// Make `key` hold `t` instead of its value.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let mut key = lua.create_registry_value("old")?;
    /// lua.replace_registry_value(&mut key, "new")?;
    /// assert_eq!(lua.registry_value::<String>(&key)?, "new");
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn replace_registry_value(&self, key: &mut RegistryKey, t: impl IntoLua) -> Result<()> {
        let v = t.into_lua(self)?;
        self.with_state(|st, raw| {
            if !Arc::ptr_eq(&key.queue, &raw.key_queue) {
                return Err(Error::MismatchedRegistryKey);
            }
            let v = v.to_raw(st, raw)?;
            // The key's slot holds a value, so storing into it never allocates.
            raw.refs.get_mut().set_int(key.idx as i64, v).map_err(|_| mem_error())?;
            crate::gc::barrier_back(st, raw.refs, v);
            Ok(())
        })
    }

    /// Release the values of dropped [`RegistryKey`]s now (every operation does it
    /// anyway: this is for a host that wants the memory back before its next call).
    pub fn expire_registry_values(&self) {
        let _ = self.with_state(|_, _| Ok(()));
    }

    /// Number of values Rust handles keep alive (a debugging aid: it goes back down
    /// when handles are dropped and the next operation runs).
    pub fn live_handles(&self) -> Result<usize> {
        self.with_state(|_, raw| Ok(raw.live_refs()))
    }
}

impl Default for Lua {
    fn default() -> Self {
        Lua::new()
    }
}

impl std::fmt::Debug for Lua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lua({:p})", self.raw)
    }
}

impl Drop for Lua {
    fn drop(&mut self) {
        // Only the last `Lua` closes the state (handles hold `Weak` links, views
        // are never dropped). See the module documentation for why no operation can
        // be running on this state here.
        if Rc::strong_count(&self.raw) != 1 {
            return;
        }
        let raw = &*self.raw;
        if raw.closed.replace(true) {
            return;
        }
        let st = raw.state.replace(std::ptr::null_mut());
        if !st.is_null() {
            // SAFETY: `st` came from `Box::into_raw` in `create` and nobody else holds
            // it. Dropping it runs the remaining finalizers and frees every object;
            // userdata payload drops run with the cell empty, so they cannot reach
            // the state (a finalizer calling a Rust callback reaches it through the
            // callback's view, as in any call). The block outlives this: `self`
            // still holds it.
            drop(unsafe { Box::from_raw(st) });
        }
        // (A null cell means an operation panicked half-way; the state is leaked
        // rather than freed in an unknown condition.)
        // The app data goes with the state (its drops run after the map is out of
        // its cell, so they may use the API; they get `StateDestroyed`).
        drop(raw.app_data.take_all());
    }
}

/// A key to a value kept alive in the Lua registry; `'static`, `Send` and `Sync`.
/// Made by [`Lua::create_registry_value`]. Dropping it releases the value (at the
/// state's next operation).
pub struct RegistryKey {
    idx: u32,
    queue: Arc<Mutex<Vec<u32>>>,
}

impl std::fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryKey({})", self.idx)
    }
}

impl Drop for RegistryKey {
    fn drop(&mut self) {
        match self.queue.lock() {
            Ok(mut q) => q.push(self.idx),
            Err(poisoned) => poisoned.into_inner().push(self.idx),
        }
    }
}

pub(crate) fn mem_error() -> Error {
    Error::MemoryError(crate::errmsg::NOMEM.into())
}

/// A reference to a Lua value held by Rust: one slot of the refs table plus the
/// value's bits (valid as long as the slot holds it and the state is open), and a
/// `Weak` link to the state's block.
pub(crate) struct LuaRef {
    lua: Weak<LuaRaw>,
    idx: u32,
    pub(crate) val: Raw,
}

impl LuaRef {
    /// A new ref on `v`, which must be reachable or fresh (no collection runs here).
    pub(crate) fn new(lua: &Lua, st: &mut State, raw: &LuaRaw, v: Raw) -> Result<LuaRef> {
        let idx = raw.make_ref(st, v)?;
        Ok(LuaRef {
            lua: lua.downgrade(),
            idx,
            val: v,
        })
    }

    /// The state this value belongs to, or [`Error::StateDestroyed`]. The returned
    /// `Lua` keeps the state open while the caller uses `val`.
    pub(crate) fn lua(&self) -> Result<Lua> {
        WeakLua(self.lua.clone()).upgrade()
    }

    /// The value, to be stored into the state `raw` belongs to: fails if the handle
    /// is of another state ([`Error::MismatchedState`]) or its state is closed.
    pub(crate) fn raw_in(&self, raw: &LuaRaw) -> Result<Raw> {
        if std::ptr::eq(self.lua.as_ptr(), raw) {
            Ok(self.val)
        } else if self.lua.strong_count() == 0 {
            Err(Error::StateDestroyed)
        } else {
            Err(Error::MismatchedState)
        }
    }
}

impl Clone for LuaRef {
    fn clone(&self) -> Self {
        if let Some(raw) = self.lua.upgrade() {
            raw.inc_ref(self.idx);
        }
        LuaRef {
            lua: self.lua.clone(),
            idx: self.idx,
            val: self.val,
        }
    }
}

impl Drop for LuaRef {
    fn drop(&mut self) {
        // After the state is gone there is nothing to release.
        if let Some(raw) = self.lua.upgrade() {
            raw.dec_ref(self.idx);
        }
    }
}

impl std::fmt::Debug for LuaRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:#x}", self.val.type_name(), self.val.bits() & 0x7FFF_FFFF_FFFF)
    }
}

impl PartialEq for LuaRef {
    /// The same value of the same state.
    fn eq(&self, other: &Self) -> bool {
        Weak::ptr_eq(&self.lua, &other.lua) && Raw::raw_equal(self.val, other.val)
    }
}

/// The safe constructors' refusal of `debug` (mlua's `SafetyError`; here a
/// `RuntimeError`, the API having no variant of its own for it).
fn refuse_unsafe(libs: StdLib) -> Result<()> {
    if libs.intersects(StdLib::UNSAFE) {
        return Err(Error::RuntimeError(crate::errmsg::SAFE_MODE_UNSAFE_LIBS.into()));
    }
    Ok(())
}

/// Open the requested libraries on a fresh state.
fn open_libs(st: &mut State, libs: StdLib) -> LResult<()> {
    crate::stdlib::base::open(st)?;
    if !libs.contains(StdLib::BASE_FILES) {
        for name in ["dofile", "loadfile"] {
            st.set_global(name, Raw::NIL)?;
        }
    }
    for (lib, _, open) in crate::stdlib::LIBRARIES {
        if libs.intersects(StdLib::of_lib(lib)) {
            open(st)?;
        }
    }
    Ok(())
}

/// Run `f` (which may raise) and turn a raise into an [`Error`], leaving the current
/// thread as it was: frames above, stack values above and open upvalues above the
/// starting top are dropped.
pub(crate) fn protect<R>(st: &mut State, raw: &LuaRaw, f: impl FnOnce(&mut State) -> LResult<R>) -> Result<R> {
    protect_with(st, raw, error_from_throw, f)
}

/// [`protect`] with the error made by `on_error` (called before the frames above are
/// dropped, so it can read them).
pub(crate) fn protect_with<R>(
    st: &mut State,
    raw: &LuaRaw,
    on_error: impl FnOnce(&mut State, &LuaRaw, Throw) -> Error,
    f: impl FnOnce(&mut State) -> LResult<R>,
) -> Result<R> {
    let th = st.cur;
    let depth = th.depth();
    let top = th.top;
    // An abort a finalizer left pending is raised here at the latest, so that it
    // reaches the host call it interrupted, not the next one.
    let r = match f(st) {
        Ok(_) if st.budget.pending_abort => {
            st.budget.pending_abort = false;
            Err(Throw::Abort)
        }
        r => r,
    };
    match r {
        Ok(r) => Ok(r),
        Err(e) => {
            let err = on_error(st, raw, e);
            st.cur = th;
            close_upvals(st, th, top);
            let t = th.get_mut();
            t.truncate_frames(depth);
            t.top = top;
            // The host handles the error next: pay a collection owed by a refused
            // allocation first, so it can allocate again (handles live in the registry).
            st.pay_owed_collection();
            if st.budget.pending_abort {
                // A finalizer run by that collection was stopped by the host.
                st.budget.pending_abort = false;
                return Err(error_from_throw(st, raw, Throw::Abort));
            }
            Err(err)
        }
    }
}

/// The host-side error for a raise. Must be called before the frames are dropped
/// (the traceback reads them).
pub(crate) fn error_from_throw(st: &mut State, raw: &LuaRaw, e: Throw) -> Error {
    match e {
        Throw::Oom => mem_error(),
        Throw::Abort => {
            let reason = std::mem::take(&mut st.budget.abort_reason);
            if reason == BUDGET_REASON {
                Error::BudgetExhausted
            } else {
                Error::Interrupted(reason)
            }
        }
        Throw::Yield => Error::RuntimeError(crate::errmsg::YIELD_ACROSS_C.into()),
        Throw::Error(v) => error_from_value(st, raw, v, true),
    }
}

/// The host-side error for a Lua error object.
pub(crate) fn error_from_value(st: &mut State, _raw: &LuaRaw, v: Raw, traceback: bool) -> Error {
    if v.as_string() == Some(st.oom_msg) {
        return mem_error();
    }
    let tb = || if traceback { st.traceback_text() } else { String::new() };
    if let Some(u) = v.as_userdata() {
        // SAFETY: the userdata is alive while `of`'s result is used: it is the error
        // being handled, still on the stack.
        if let Some(e) = unsafe { UdCell::<WrappedError>::of(u) }.and_then(|c| c.peek()) {
            return match &e.0 {
                Error::CallbackError { .. } => e.0.clone(),
                other => Error::CallbackError {
                    traceback: tb(),
                    cause: Arc::new(other.clone()),
                },
            };
        }
    }
    let msg = if let Some(s) = v.as_string() {
        let (text, cut) = message_excerpt(s.as_bytes());
        let mut m = String::from_utf8_lossy(text).into_owned();
        if cut {
            m.push_str("...");
        }
        m
    } else if let Some(n) = v.as_number() {
        let mut buf = [0u8; 64];
        let len = crate::number::fmt_number(n, &mut buf);
        String::from_utf8_lossy(&buf[..len]).into_owned()
    } else if v.is_nil() {
        "nil".to_string()
    } else {
        crate::errmsg::format(crate::errmsg::ERROR_OBJECT_TYPE, &[&v.type_name()])
    };
    if traceback {
        Error::RuntimeError(format!("{msg}\n{}", st.traceback_text()))
    } else {
        Error::RuntimeError(msg)
    }
}

/// The most bytes of an error message that leave the Lua heap: a host [`Error`] and
/// the command's report carry at most this much of a longer message, followed by
/// `...`. A script can raise a message of any size, and copies of it outside the heap
/// are not under the memory limit (one 20 MB message once cost 167 MB of process
/// memory).
pub const MESSAGE_EXCERPT_MAX: usize = 64 * 1024;

/// `bytes` cut to [`MESSAGE_EXCERPT_MAX`] (at a character boundary when the text is
/// UTF-8 there), and whether it was cut.
pub(crate) fn message_excerpt(bytes: &[u8]) -> (&[u8], bool) {
    if bytes.len() <= MESSAGE_EXCERPT_MAX {
        return (bytes, false);
    }
    let mut end = MESSAGE_EXCERPT_MAX;
    // Do not split a UTF-8 sequence: back up over continuation bytes (at most 3).
    while end > MESSAGE_EXCERPT_MAX - 3 && bytes[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    (&bytes[..end], true)
}

/// An allocator adapter that turns a panic in the host's allocator into a refusal,
/// so no unwinding can cross the VM.
struct CatchUnwindAllocator(Box<dyn Allocator>);

// SAFETY: forwards to the wrapped allocator, which upholds the contract; a caught
// panic is reported as a refusal (allowed) or, for `dealloc`, leaks the block.
unsafe impl Allocator for CatchUnwindAllocator {
    fn alloc(&self, layout: std::alloc::Layout) -> Option<NonNull<u8>> {
        catch_unwind(AssertUnwindSafe(|| self.0.alloc(layout))).ok().flatten()
    }
    unsafe fn realloc(&self, ptr: NonNull<u8>, old: std::alloc::Layout, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: caller contract, forwarded.
        catch_unwind(AssertUnwindSafe(|| unsafe { self.0.realloc(ptr, old, new_size) }))
            .ok()
            .flatten()
    }
    unsafe fn dealloc(&self, ptr: NonNull<u8>, layout: std::alloc::Layout) {
        // SAFETY: caller contract, forwarded.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { self.0.dealloc(ptr, layout) }));
    }
}

/// Give a function's environment (setfenv on a Lua function).
pub(crate) fn set_function_env(st: &mut State, f: Raw, env: GcRef<GcTable>) {
    if let Some(func) = f.as_function() {
        if func.is_lua() {
            func.get_mut().env = env;
            crate::gc::barrier_forward(st, func.header(), Raw::table(env));
        }
    }
}
