//! The compiler: Lua source to bytecode prototypes in one pass.
//!
//! - [`lexer`]: tokens and syntax error messages.
//! - [`parser`]: grammar, scopes, gotos; drives code generation as it parses.
//! - [`codegen`]: per-function state, registers, constants, jumps, expressions.
//! - [`bytecode`]: the instruction set.
//! - [`listing`]: `luajit -bl` style listings.
//!
//! Entry points: [`compile`], [`chunk_id`], [`listing()`]. See `docs/compiler.md`.

pub mod bytecode;
pub mod codegen;
pub mod dump;
pub mod lexer;
pub mod listing;
pub mod parser;
pub mod verify;

pub use listing::listing;

use crate::object::{GcProto, GcRef};
use crate::value::Value;
use crate::vm::error::Throw;
use crate::vm::state::State;

/// Compile a chunk. `chunkname` is as given to `load` (`"@file.lua"`, `"=stdin"` or
/// the source itself); as in LuaJIT, where it is a C string, it ends at a NUL byte. Returns the main function's prototype (vararg, no parameters,
/// no upvalues). Syntax errors are `Throw::Error` with LuaJIT's message text;
/// allocation failures are `Throw::Oom`.
///
/// No collection runs during compilation (allocations never trigger the collector),
/// so the strings and prototypes created here need no rooting until it returns.
pub fn compile(state: &mut State, source: &[u8], chunkname: &[u8]) -> Result<GcRef<GcProto>, Throw> {
    let chunkname = lexer::until_nul(chunkname);
    let src_name = state.intern(chunkname)?;
    parse(parser::Parser::new(state, source, chunkname, src_name))
}

/// Compile a chunk read through `reader`, a Lua function returning pieces of source
/// (`load`); `first` is the piece already read. The reader is called only when the
/// lexer needs more, as LuaJIT does, so a syntax error stops the reading. Its error
/// (or a piece that is not a string) is the compilation's error. The caller locks the
/// collector: the reader runs Lua code while the compiler holds unrooted objects.
pub fn compile_reader(
    state: &mut State,
    first: &[u8],
    reader: Value,
    chunkname: &[u8],
) -> Result<GcRef<GcProto>, Throw> {
    // The reader may itself compile through a reader (`load` inside the reader), each
    // compilation holding up to MAX_LEVEL levels of parser frames on the Rust stack.
    // The nesting of reader compilations on this thread is bounded so that stack stays
    // small (LuaJIT does not bound it and crashes).
    let Some(_guard) = ReaderNesting::enter() else {
        return Err(state.rt_error_here(crate::errmsg::C_STACK_OVERFLOW));
    };
    let chunkname = lexer::until_nul(chunkname);
    let src_name = state.intern(chunkname)?;
    let lx = lexer::Lexer::with_reader(state, first, reader, chunkname)?;
    parse(parser::Parser::with_lexer(lx, src_name))
}

/// Compilations through a reader nested in each other on this thread (a thread's own
/// count, because the Rust stack they use is the thread's).
const MAX_READER_NESTING: u32 = 2;

thread_local! {
    static READER_NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One level of reader compilation, counted while it lives.
struct ReaderNesting;

impl ReaderNesting {
    fn enter() -> Option<ReaderNesting> {
        READER_NESTING.with(|n| {
            let d = n.get();
            (d < MAX_READER_NESTING).then(|| {
                n.set(d + 1);
                ReaderNesting
            })
        })
    }
}

impl Drop for ReaderNesting {
    fn drop(&mut self) {
        READER_NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

fn parse(mut p: parser::Parser<'_>) -> Result<GcRef<GcProto>, Throw> {
    let r = match p.main_chunk() {
        Ok(proto) => Ok(proto),
        Err(parser::PErr::Throw(t)) => Err(t),
        Err(parser::PErr::Cg(e)) => Err(p.cg_error(e)),
    };
    // A reader that failed ended the input early: its error is the real one.
    match p.lx.reader_error() {
        Some(e) => Err(e),
        None => r,
    }
}

/// Size limit of a chunk id, as LuaJIT's `LUA_IDSIZE`.
const ID_SIZE: usize = 60;

/// The name of a chunk as shown in messages: `"@f.lua"` → `f.lua` (long paths keep
/// their end, after `...`), `"=stdin"` → `stdin`, anything else → `[string "first
/// line..."]`.
pub fn chunk_id(source: &[u8]) -> String {
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match source.first() {
        Some(b'=') => lossy(&source[1..source.len().min(ID_SIZE)]),
        Some(b'@') => {
            let name = &source[1..];
            if name.len() >= ID_SIZE {
                format!("...{}", lossy(&name[name.len() - (ID_SIZE - 4)..]))
            } else {
                lossy(name)
            }
        }
        _ => {
            // Stop at the first control character (a line break, usually).
            let mut len = source.iter().take(ID_SIZE - 12).take_while(|&&c| c >= b' ').count();
            if len < source.len() {
                len = len.min(ID_SIZE - 15);
                format!("[string \"{}...\"]", lossy(&source[..len]))
            } else {
                format!("[string \"{}\"]", lossy(&source[..len]))
            }
        }
    }
}

#[cfg(test)]
mod tests;
