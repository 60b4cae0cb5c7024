//! Random-program differential testing against LuaJIT: the program generator.
pub mod gen;
