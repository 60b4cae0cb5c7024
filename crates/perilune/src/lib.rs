//! Perilune: a LuaJIT-compatible Lua runtime that survives running out of memory.
//!
//! # Quick start
//!
//! Embed it in a Rust program: create a state, expose Rust functions, run Lua.
//!
//! ```
//! use perilune::{Lua, Result};
//!
//! fn main() -> Result<()> {
//!     let lua = Lua::new(); // mlua's safe set: all but debug (a sandbox: create_sandbox)
//!     lua.set_memory_limit(16 * 1024 * 1024)?; // over it: a catchable "not enough memory"
//!
//!     let add = lua.create_function(|_, (a, b): (i64, i64)| Ok(a + b))?;
//!     lua.globals().set("add", add)?;
//!     let n: i64 = lua.load("return add(40, 2)").eval()?;
//!     assert_eq!(n, 42);
//!
//!     // Lua errors, failed conversions and exhausted limits are `Err`s, never panics.
//!     let err = lua.load("add(1, 'x')").exec().unwrap_err();
//!     assert!(err.to_string().contains("bad argument #2 to 'add' (number expected, got string)"));
//!     Ok(())
//! }
//! ```
//!
//! The API follows [mlua](https://docs.rs/mlua) 0.10 and later ([`Lua`], a cheap
//! clonable handle; `'static` [`Table`], [`Function`], [`Value`], [`UserData`], ...;
//! `call::<R>(args)`; `use perilune::prelude::*` for mlua's `Lua*` names) and adds hard limits: [`Lua::set_memory_limit`], an
//! instruction budget ([`Lua::set_instruction_budget`]), an interrupt callback
//! ([`Lua::set_interrupt`]) and sandboxes ([`Lua::create_sandbox`]). More: the
//! examples in `crates/perilune/examples/` (`cargo run -p perilune --example
//! call_lua`, `userdata`, `memory_limit`, `budget`, `sandbox`) and `docs/embedding.md`
//! in the repository, which also recommends building this crate optimised in a host's
//! dev profile (`[profile.dev.package.perilune] opt-level = 3`: the interpreter runs
//! about 8 times faster than unoptimised).
//!
//! # What is public
//!
//! Only the safe embedding API is: the handles and conversions re-exported here from
//! the `lua` module, the [`Allocator`] trait a host plugs in (with [`SystemAllocator`]),
//! the library selection [`StdLib`], and [`flush_stdout`]. Every other module (values,
//! objects, the collector, the compiler, the VM) is private to the crate: those types
//! hand out raw pointers through safe functions, so a host that could name them could
//! break memory safety without writing `unsafe`. Tests, fuzz targets and benchmarks
//! reach them through a hidden module behind the non-default `internals` feature,
//! which is not API (`docs/api-surface.md`).
//!
//! A host cannot name the raw objects, the collector or the VM state (the modules
//! are private, error E0603), with or without the `internals` feature:
//!
//! ```compile_fail,E0603
//! use perilune::object::GcRef;
//! ```
//! ```compile_fail,E0603
//! use perilune::table::GcTable;
//! ```
//! ```compile_fail,E0603
//! use perilune::vm::state::State;
//! ```
//! ```compile_fail,E0603
//! use perilune::gc::full_collect;
//! ```
//!
//! and without the feature not the hidden module either (the doctests are built with
//! the features of the build that runs them, so `tests/public_surface.rs` also checks
//! this, from a host crate built with the default features):
#![cfg_attr(
    not(feature = "internals"),
    doc = "```compile_fail,E0432\nuse perilune::unstable_internals::vm::state::State;\n```"
)]
//!
//! # Layout
//!
//! The crate is laid out by subsystem (all private but `lua`'s re-exports):
//! - `value`: 8-byte NaN-boxed values.
//! - `alloc`: the accounting allocator every script-influenced byte goes through.
//! - `buf`: the growable byte buffer of concatenation, formatting, io and messages.
//! - `object`, `string`, `table`, `func`, `udata`: the collectable objects.
//! - `gc`: the incremental collector.
//! - `compiler`: lexer, parser and code generator.
//! - `vm`: state, threads, frames, the interpreter.
//! - `stdlib`: the standard library.
//! - `lua`: the safe embedding API, re-exported here (`perilune::Lua`, ...).
//! - `testing` (tests and the `internals` feature only): a fault-injecting allocator.
//! - `process_alloc` (public with the feature `mimalloc`): a fast process-wide allocator for binaries.

pub(crate) mod alloc;
pub(crate) mod buf;
pub(crate) mod cdata;
pub(crate) mod compiler;
pub(crate) mod errmsg;
pub(crate) mod ffi;
pub(crate) mod func;
pub(crate) mod gc;
pub(crate) mod hot;
// Without a backend (the `jit` feature off, or another target) the JIT records but
// never compiles: the parts that install and run machine code stay unused there.
#[cfg_attr(
    not(all(feature = "jit", target_arch = "x86_64", unix)),
    allow(dead_code, unused_imports)
)]
pub(crate) mod jit;
mod lua;
pub(crate) mod number;
pub(crate) mod object;
#[cfg(feature = "mimalloc")]
pub mod process_alloc;
pub(crate) mod stdlib;
pub(crate) mod string;
pub(crate) mod table;
#[cfg(any(test, feature = "internals"))]
pub(crate) mod testing;
pub(crate) mod udata;
pub(crate) mod value;
pub(crate) mod vm;

#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod unstable_internals;

pub use alloc::{Allocator, SystemAllocator};
#[cfg(feature = "async")]
pub use lua::AsyncThread;
pub use lua::{flush_stdout, prelude, String};
pub use lua::{
    AnyUserData, AppDataRef, AppDataRefMut, AsChunk, BString, BorrowedBytes, BorrowedStr, Chunk, ChunkMode, Error,
    ErrorContext, ExternalError, ExternalResult, FromLua, FromLuaMulti, Function, IntoLua, IntoLuaMulti, LightUserData,
    Lua, LuaOptions, LuaString, MetaMethod, MultiValue, Nil, RegistryKey, ReportStyle, Result, SandboxOptions, StdLib,
    Table, TablePairs, TableSequence, Thread, ThreadStatus, UserData, UserDataFields, UserDataMethods, UserDataRef,
    UserDataRefMut, Value, Variadic, VmState, WeakLua, MESSAGE_EXCERPT_MAX,
};
// Issue 20, scope and friends (docs/embedding.md, "Scope").
#[cfg(feature = "serde")]
pub use lua::{DeserializeOptions, LuaSerdeExt, SerializeOptions};
pub use lua::{FunctionInfo, LuaNativeFn, LuaNativeFnMut, Scope, UserDataMetatable, UserDataMetatablePairs};
