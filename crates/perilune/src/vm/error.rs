//! How errors travel: as values in `Result`s, never by unwinding (DESIGN.md invariant 7).

use crate::alloc::OutOfMemory;
use crate::value::Value;

/// A non-local exit from Lua code.
#[derive(Clone, Copy, Debug)]
pub enum Throw {
    /// A Lua error carrying its error object (position already prefixed where the
    /// error was raised with one).
    Error(Value),
    /// An allocation failed. Caught as the state's preallocated `not enough memory`
    /// string, so raising it never allocates.
    Oom,
    /// The running coroutine yields (only produced where yielding is allowed).
    Yield,
    /// The host stopped the script (budget spent, interrupt callback): no `pcall` in
    /// the script catches it. The reason is in `State::budget.abort_reason`.
    Abort,
}

impl From<OutOfMemory> for Throw {
    fn from(_: OutOfMemory) -> Self {
        Throw::Oom
    }
}

/// Result of anything that can raise a Lua error.
pub type LResult<T> = Result<T, Throw>;
