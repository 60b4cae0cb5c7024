//! LuaJIT's FFI, being built (docs/ffi.md): so far the C type table ([`ctype`]), the
//! C declaration parser ([`cparse`]), calls through libffi ([`call`]), library
//! namespaces ([`clib`]) and callbacks ([`callback`]). Not reachable from Lua yet: `require("ffi")`
//! stays unavailable until cdata exist, so scripts that probe for it with `pcall`
//! keep taking their fallback path.
//!
//! Invariants: everything here allocates only through the state's accounted heap and
//! reports failure as a value (`OutOfMemory`, `CError`); nothing panics on any input.
pub mod call;
pub mod callback;
pub mod clib;
pub mod cparse;
pub mod ctype;
