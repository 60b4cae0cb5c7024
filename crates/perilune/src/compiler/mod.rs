//! The compiler: Lua source to bytecode prototypes in one pass.

pub mod bytecode;
