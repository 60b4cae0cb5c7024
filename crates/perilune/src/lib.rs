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
//!     let lua = Lua::new(); // the safe libraries: no io, os, debug or package
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
//! The API follows [mlua](https://docs.rs/mlua) 0.9 ([`Lua`], [`Table`], [`Function`],
//! [`Value`], [`UserData`], ...) and adds hard limits: [`Lua::set_memory_limit`], an
//! instruction budget ([`Lua::set_instruction_budget`]), an interrupt callback
//! ([`Lua::set_interrupt`]) and sandboxes ([`Lua::create_sandbox`]). More: the
//! examples in `crates/perilune/examples/` (`cargo run -p perilune --example
//! call_lua`, `userdata`, `memory_limit`, `budget`, `sandbox`) and `docs/embedding.md`
//! in the repository, which also recommends building this crate optimised in a host's
//! dev profile (`[profile.dev.package.perilune] opt-level = 3`: the interpreter runs
//! about 8 times faster than unoptimised).
//!
//! # Layout
//!
//! The crate is laid out by subsystem:
//! - [`value`]: 8-byte NaN-boxed values.
//! - [`alloc`]: the accounting allocator every script-influenced byte goes through.
//! - [`buf`]: the growable byte buffer of concatenation, formatting, io and messages.
//! - [`object`], [`string`], [`table`], [`func`], [`udata`]: the collectable objects.
//! - [`gc`]: the incremental collector.
//! - [`compiler`]: lexer, parser and code generator.
//! - [`vm`]: state, threads, frames, the interpreter.
//! - [`lib`](crate::stdlib): the standard library.
//! - [`lua`]: the safe embedding API, re-exported here (`perilune::Lua`, ...).
//! - [`testing`]: a fault-injecting allocator for allocation-failure tests.
//! - `process_alloc` (feature `mimalloc`): a fast process-wide allocator for binaries.

pub mod alloc;
pub mod buf;
pub mod compiler;
pub mod func;
pub mod gc;
pub mod lua;
pub mod number;
pub mod object;
#[cfg(feature = "mimalloc")]
pub mod process_alloc;
pub mod stdlib;
pub mod string;
pub mod table;
pub mod testing;
pub mod udata;
pub mod value;
pub mod vm;

pub use lua::{
    AnyUserData, AsChunk, BString, Chunk, ChunkMode, Error, ErrorContext, ExternalError, FromLua, FromLuaMulti,
    Function, IntoLua, IntoLuaMulti, LightUserData, Lua, LuaOptions, LuaString, MetaMethod, MultiValue, Nil,
    RegistryKey, ReportStyle, Result, SandboxOptions, StdLib, Table, TablePairs, TableSequence, Thread, ThreadStatus,
    UserData, UserDataFields, UserDataMethods, UserDataRef, UserDataRefMut, Value, Variadic, VmState,
    MESSAGE_EXCERPT_MAX,
};
