//! The compiler: Lua source to bytecode prototypes in one pass.

pub mod bytecode;
pub mod verify;

use crate::func::Proto;
use crate::object::GcRef;
use crate::vm::error::Throw;
use crate::vm::state::State;

/// Compile a chunk (stub until the compiler lands).
pub fn compile(state: &mut State, source: &[u8], chunkname: &[u8]) -> Result<GcRef<Proto>, Throw> {
    let _ = (source, chunkname);
    Err(state.error_from_text("compiler not available"))
}

/// The display name of a chunk (stub).
pub fn chunk_id(source: &[u8]) -> String {
    String::from_utf8_lossy(
        source
            .strip_prefix(b"@")
            .or(source.strip_prefix(b"="))
            .unwrap_or(source),
    )
    .into_owned()
}
