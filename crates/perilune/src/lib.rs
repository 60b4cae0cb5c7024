//! Perilune: a LuaJIT-compatible Lua runtime that survives running out of memory.
//!
//! The crate is laid out by subsystem:
//! - [`value`]: 8-byte NaN-boxed values.
//! - [`alloc`]: the accounting allocator every script-influenced byte goes through.
//! - [`object`], [`string`], [`table`], [`func`], [`udata`]: the collectable objects.
//! - [`gc`]: the incremental collector.
//! - [`compiler`]: lexer, parser and code generator.
//! - [`vm`]: state, threads, frames, the interpreter.
//! - [`lib`](crate::stdlib): the standard library.
//! - [`lua`]: the safe embedding API, re-exported here (`perilune::Lua`, ...).
//! - [`testing`]: a fault-injecting allocator for allocation-failure tests.
//! - `process_alloc` (feature `mimalloc`): a fast process-wide allocator for binaries.

pub mod alloc;
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
