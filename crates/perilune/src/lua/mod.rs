//! The safe embedding API: run Lua from Rust with limits that hold.
//!
//! The names and shapes follow [mlua](https://docs.rs/mlua) 0.10 and later (`Lua`
//! a cheap clonable handle, `'static` values, `call::<R>(args)`) wherever mlua has
//! the concept: [`Lua`], [`Table`], [`Function`], [`Value`],
//! [`IntoLua`]/[`FromLua`], [`UserData`], [`AnyUserData`], [`Thread`], [`Error`].
//! Perilune adds hard limits: a memory limit and pluggable allocator
//! ([`Lua::set_memory_limit`], [`Lua::new_with_allocator`]), an instruction budget
//! and interrupt callback ([`Lua::set_instruction_budget`], [`Lua::set_interrupt`])
//! whose stops scripts cannot catch, and sandboxes ([`Lua::create_sandbox`]).
//!
//! Design notes (ownership and handles, why `Lua` is not `Send`, how Rust values in
//! userdata are dropped, the sandbox) are in `docs/embedding.md`.
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

/// `Debug` for borrow guards (`UserDataRef`, `AppDataRef`, ...): the borrowed value's.
macro_rules! debug_as_target {
    ($($guard:ident),*) => {$(
        impl<T: std::fmt::Debug + 'static> std::fmt::Debug for $guard<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

mod app_data;
#[cfg(feature = "async")]
mod async_fn;
mod chunk;
mod conv;
mod error;
mod function;
mod sandbox;
mod scope;
#[cfg(feature = "serde")]
mod serde;
mod state;
mod string;
mod table;
mod thread;
mod userdata;
mod value;

#[cfg(feature = "serde")]
pub use self::serde::{DeserializeOptions, LuaSerdeExt, SerializeOptions};
pub use app_data::{AppDataRef, AppDataRefMut};
#[cfg(feature = "async")]
pub use async_fn::AsyncThread;
pub use chunk::{AsChunk, Chunk, ChunkMode};
pub use conv::BString;
pub use error::{Error, ErrorContext, ExternalError, ExternalResult, Result};
pub use function::{Function, FunctionInfo, LuaNativeFn, LuaNativeFnMut, ReportStyle};
pub use sandbox::SandboxOptions;
pub use scope::Scope;
pub use state::{Lua, LuaOptions, RegistryKey, StdLib, VmState, WeakLua, MESSAGE_EXCERPT_MAX};
pub use string::{BorrowedBytes, BorrowedStr, LuaString};
pub use table::{Table, TablePairs, TableSequence};
pub use thread::{Thread, ThreadStatus};
pub use userdata::{
    AnyUserData, MetaMethod, UserData, UserDataFields, UserDataMetatable, UserDataMetatablePairs, UserDataMethods,
    UserDataRef, UserDataRefMut,
};
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
pub type String = LuaString;

/// The usual imports, with mlua's names (`use perilune::prelude::*;` then `Lua`,
/// `LuaTable`, `LuaFunction`, `LuaValue`, `LuaResult`, ...).
///
/// ```
/// use perilune::prelude::*;
/// fn double(lua: &Lua) -> LuaResult<LuaFunction> {
///     lua.create_function(|_, x: f64| Ok(x * 2.0))
/// }
/// let lua = Lua::new();
/// let f = double(&lua)?;
/// assert_eq!(f.call::<f64>(21)?, 42.0);
/// let t: LuaTable = lua.create_table()?;
/// t.set("v", LuaValue::Boolean(true))?;
/// # Ok::<(), LuaError>(())
/// ```
pub mod prelude {
    #[cfg(feature = "async")]
    pub use super::AsyncThread as LuaAsyncThread;
    pub use super::{
        AnyUserData as LuaAnyUserData, Chunk as LuaChunk, Error as LuaError, ErrorContext as LuaErrorContext,
        ExternalError as LuaExternalError, ExternalResult as LuaExternalResult, FromLua, FromLuaMulti,
        Function as LuaFunction, IntoLua, IntoLuaMulti, LightUserData as LuaLightUserData, Lua, LuaOptions, LuaString,
        MetaMethod as LuaMetaMethod, MultiValue as LuaMultiValue, Nil as LuaNil, RegistryKey as LuaRegistryKey,
        Result as LuaResult, StdLib as LuaStdLib, Table as LuaTable, TablePairs as LuaTablePairs,
        TableSequence as LuaTableSequence, Thread as LuaThread, ThreadStatus as LuaThreadStatus,
        UserData as LuaUserData, UserDataFields as LuaUserDataFields, UserDataMethods as LuaUserDataMethods,
        UserDataRef as LuaUserDataRef, UserDataRefMut as LuaUserDataRefMut, Value as LuaValue, Variadic as LuaVariadic,
        VmState as LuaVmState, WeakLua as LuaWeakLua,
    };
    // Issue 20, scope and friends.
    #[cfg(feature = "serde")]
    pub use super::{
        DeserializeOptions as LuaDeserializeOptions, LuaSerdeExt, SerializeOptions as LuaSerializeOptions,
    };
    pub use super::{
        FunctionInfo as LuaFunctionInfo, LuaNativeFn, LuaNativeFnMut, Scope as LuaScope,
        UserDataMetatable as LuaUserDataMetatable,
    };
}
