//! The safe embedding API: run Lua from Rust with limits that hold.
//!
//! The names and shapes follow [mlua](https://docs.rs/mlua) (0.9, with lifetimes)
//! wherever mlua has the concept: [`Lua`], [`Table`], [`Function`], [`Value`],
//! [`IntoLua`]/[`FromLua`], [`UserData`], [`AnyUserData`], [`Thread`], [`Error`].
//! Perilune adds hard limits: a memory limit and pluggable allocator
//! ([`Lua::set_memory_limit`], [`Lua::new_with_allocator`]), an instruction budget
//! and interrupt callback ([`Lua::set_instruction_budget`], [`Lua::set_interrupt`])
//! whose stops scripts cannot catch, and sandboxes ([`Lua::create_sandbox`]).
//!
//! Design notes (handle lifetimes, why `Lua` is `Send`, how Rust values in userdata
//! are dropped, the sandbox) are in `docs/embedding.md`.
//!
//! ```
//! use perilune::{Lua, Result};
//!
//! fn main() -> Result<()> {
//!     let lua = Lua::new();
//!     let add = lua.create_function(|_, (a, b): (i64, i64)| Ok(a + b))?;
//!     lua.globals().set("add", add)?;
//!     let n: i64 = lua.load("return add(40, 2)").eval()?;
//!     assert_eq!(n, 42);
//!     Ok(())
//! }
//! ```
//!
//! Every operation that touches the state returns a `Result`: Lua errors, failed
//! allocations, wrong types and misuse (a conflicting userdata borrow, a dead
//! coroutine) are `Err`s, never panics or undefined behaviour.

mod chunk;
mod conv;
mod error;
mod function;
mod sandbox;
mod state;
mod string;
mod table;
mod thread;
mod userdata;
mod value;

pub use chunk::{AsChunk, Chunk, ChunkMode};
pub use conv::BString;
pub use error::{Error, ErrorContext, ExternalError, Result};
pub use function::{Function, ReportStyle};
pub use sandbox::SandboxOptions;
pub use state::{Lua, LuaOptions, RegistryKey, StdLib, VmState, MESSAGE_EXCERPT_MAX};
pub use string::LuaString;
pub use table::{Table, TablePairs, TableSequence};
pub use thread::{Thread, ThreadStatus};
pub use userdata::{AnyUserData, MetaMethod, UserData, UserDataFields, UserDataMethods, UserDataRef, UserDataRefMut};
pub use value::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti, LightUserData, MultiValue, Nil, Value, Variadic};

/// Write out what Lua code left in standard output's buffer (`fflush(stdout)`).
///
/// `print`, `io.write` and `io.stdout:write` of every state in the process write to
/// one buffer, as C's `stdout` is one `FILE`. Closing a state and the end of the
/// process write it out; a host that writes to standard output itself calls this
/// first so that the output keeps its order.
///
/// ```
/// let lua = perilune::Lua::new();
/// lua.load("print('from Lua')").exec()?;
/// perilune::flush_stdout()?;
/// println!("from Rust, after it");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn flush_stdout() -> std::io::Result<()> {
    crate::stdlib::iofile::flush_stdout()
}

/// mlua calls the Lua string handle `String`.
pub type String<'lua> = LuaString<'lua>;

/// The usual imports.
pub mod prelude {
    pub use super::{
        AnyUserData as LuaAnyUserData, Error as LuaError, FromLua, FromLuaMulti, Function as GcFunc, IntoLua,
        IntoLuaMulti, Lua, LuaString, MetaMethod as LuaMetaMethod, MultiValue as LuaMultiValue, Result as LuaResult,
        Table as LuaTable, Thread as LuaThread, UserData as LuaUserData, UserDataFields as LuaUserDataFields,
        UserDataMethods as LuaUserDataMethods, Value as LuaValue, Variadic as LuaVariadic,
    };
}
