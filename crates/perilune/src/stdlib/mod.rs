//! The standard library, one module per Lua library, and [`LIB_FUNCS`], the one table
//! of every built-in function.
//!
//! Every function here is a [`NativeFn`](crate::func::NativeFn): it reads its
//! arguments through the `State` argument API (`vm/api.rs`), pushes its results and
//! returns their count. Messages follow LuaJIT's wording.
//!
//! Invariants:
//! - Every native function the libraries make is a row of [`LIB_FUNCS`] (library,
//!   name, function, fast-function id), and its function object carries that id
//!   ([`GcFunc::ffid`](crate::func::GcFunc)); the name comes from the row.
//!   Ids are unique. A library opens by entering its rows into its table
//!   ([`open_funcs`]); rows of [`Lib::Made`] are made by their library's code
//!   ([`new_func`]) because they carry upvalues or are made per call.
//! - Every row says what sandboxes do with its function ([`Sandbox`]); the sandbox's
//!   lists are derived from that column, never written by hand (`lua/sandbox.rs`).
//! - Ids below [`FF_OWN`] are LuaJIT 2.1's fast-function numbers, which `tostring`
//!   shows as `builtin#N` and the JIT will record calls by; Perilune's own functions
//!   (those LuaJIT implements as plain C functions) have ids from [`FF_OWN`] on and
//!   print their address, as in LuaJIT. The numbering is in docs/fastfunc.md.

pub mod base;
pub mod bit;
pub mod buffer;
pub mod buffer_codec;
pub mod coroutine;
pub mod debug;
pub mod format;
pub mod io;
pub mod iofile;
pub mod jit;
pub mod math;
pub mod os;
pub mod package;
pub mod pattern;
pub mod string;
pub mod table;

use crate::func::{GcFunc, NativeFn, FF_OWN, FF_PCALL, FF_TOSTRING, FF_XPCALL};
use crate::object::{GcRef, GcTable};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// Where a library function is entered when its library opens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lib {
    /// The globals.
    Base,
    Coroutine,
    Math,
    Bit,
    String,
    Table,
    /// The methods of files (the registry's `"FILE*"` metatable).
    File,
    Io,
    /// `os.clock`, `date`, `difftime`, `time`: the part of `os` `StdLib::OS_TIME`
    /// opens.
    OsTime,
    /// The rest of `os` (`execute`, `exit`, `getenv`, `remove`, `rename`,
    /// `setlocale`, `tmpname`): only with all of `StdLib::OS`.
    Os,
    Debug,
    Jit,
    /// `jit.opt`.
    JitOpt,
    /// The `jit.util` module.
    JitUtil,
    /// The `jit.profile` module.
    JitProfile,
    /// The `string.buffer` module.
    Buffer,
    /// The metatable of string buffers.
    BufferMethod,
    Package,
    /// The `ffi` module (`require("ffi")`; never a global, never in a sandbox).
    Ffi,
    /// The metatable every cdata shares (`ffi/cmeta.rs`).
    CdataMeta,
    /// Nowhere: made by the library's code with [`new_func`].
    Made,
}

/// What a sandbox (`lua/sandbox.rs`, `Lua::create_sandbox`) does with a library
/// function: every row of [`LIB_FUNCS`] says it, so a new function cannot be added
/// without deciding whether untrusted scripts may have it. The sandbox's lists are
/// derived from this column (docs/embedding.md, "Sandbox").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sandbox {
    /// Sandboxes share it: it works only on the values it is given and the state's
    /// own objects, and cannot reach the real globals, another script's values or
    /// anything outside the state. A library with such a row is in every sandbox
    /// as a read-only proxy of a frozen copy.
    Shared,
    /// Each sandbox has its own version, made by `lua/sandbox.rs` (`load`,
    /// `loadstring`, `getmetatable`, `collectgarbage`, `require`, `math.random`) or
    /// used by it to make one (the string buffer module's opener, the generator
    /// maker); the original is left out.
    Own,
    /// Left out of sandboxes: it reaches outside the state (files, processes, the
    /// environment, the clock, process-wide settings) or around the sandbox (the
    /// real globals, bytecode, the debug interface, the random seed).
    Absent,
}

/// One row of [`LIB_FUNCS`].
#[derive(Clone, Copy)]
pub struct LibFunc {
    pub lib: Lib,
    /// The field name, and the name tracebacks show.
    pub name: &'static str,
    pub f: NativeFn,
    pub ffid: u16,
    /// Whether sandboxes have it.
    pub sandbox: Sandbox,
}

const fn row(lib: Lib, name: &'static str, f: NativeFn, ffid: u16, sandbox: Sandbox) -> LibFunc {
    LibFunc {
        lib,
        name,
        f,
        ffid,
        sandbox,
    }
}

use Sandbox::{Absent, Own, Shared};

/// LuaJIT's fast-function ids of functions made at run time.
pub const FF_IPAIRS_AUX: u16 = 6;
pub const FF_WRAP_AUX: u16 = 36;
pub const FF_MATH_RANDOM: u16 = 62;
pub const FF_MATH_RANDOMSEED: u16 = 63;
pub const FF_GMATCH_AUX: u16 = 86;
pub const FF_BUFFER_NEW: u16 = 220;
/// Perilune's own ids of functions made at run time.
pub const FF_LINES_ITER: u16 = FF_OWN + 12;
pub const FF_REQUIRE: u16 = FF_OWN + 13;
pub const FF_MODULE: u16 = FF_OWN + 14;
/// The four `package.loaders`, in order.
pub const FF_LOADER_PRELOAD: u16 = FF_OWN + 15;
pub const FF_PRELOAD_VALUE: u16 = FF_OWN + 19;
pub const FF_OPEN_BUFFER: u16 = FF_OWN + 20;
pub const FF_NEW_GENERATOR: u16 = FF_OWN + 21;
pub const FF_JIT_PRELOAD: u16 = FF_OWN + 22;
pub const FF_JIT_LISTING: u16 = FF_OWN + 23;
pub const FF_PROFILE_TRAMPOLINE: u16 = FF_OWN + 24;
pub const FF_JIT_TRACEDUMP: u16 = FF_OWN + 25;

/// Every built-in function, by library, in the order each library enters them.
pub static LIB_FUNCS: &[LibFunc] = ROWS;

/// [`LIB_FUNCS`] as a constant, so that [`ROW_OF`] can be computed from it.
const ROWS: &[LibFunc] = &[
    // Base
    row(Lib::Base, "print", base::print, 29, Shared),
    row(Lib::Base, "type", base::type_, 3, Shared),
    row(Lib::Base, "tonumber", base::tonumber, 17, Shared),
    row(Lib::Base, "error", base::error, 19, Shared),
    row(Lib::Base, "assert", base::assert, 2, Shared),
    row(Lib::Base, "select", base::select, 16, Shared),
    row(Lib::Base, "pairs", base::pairs, 5, Shared),
    row(Lib::Base, "ipairs", base::ipairs, 7, Shared),
    row(Lib::Base, "setmetatable", base::setmetatable, 9, Shared),
    row(Lib::Base, "getmetatable", base::getmetatable, 8, Own),
    row(Lib::Base, "rawget", base::rawget, 12, Shared),
    row(Lib::Base, "rawset", base::rawset, 13, Shared),
    row(Lib::Base, "rawequal", base::rawequal, 14, Shared),
    row(Lib::Base, "collectgarbage", base::collectgarbage, 27, Own),
    row(Lib::Base, "gcinfo", base::gcinfo, 26, Shared),
    row(Lib::Base, "unpack", base::unpack, 15, Shared),
    row(Lib::Base, "getfenv", base::getfenv, 10, Absent),
    row(Lib::Base, "setfenv", base::setfenv, 11, Absent),
    row(Lib::Base, "newproxy", base::newproxy, 28, Shared),
    row(Lib::Base, "loadstring", base::loadstring, 24, Own),
    row(Lib::Base, "load", base::load, 23, Own),
    row(Lib::Base, "loadfile", base::loadfile, 22, Absent),
    row(Lib::Base, "dofile", base::dofile, 25, Absent),
    row(Lib::Base, "next", base::next, 4, Shared),
    row(Lib::Base, "tostring", base::tostring, FF_TOSTRING, Shared),
    row(Lib::Base, "pcall", base::not_direct, FF_PCALL, Shared),
    row(Lib::Base, "xpcall", base::not_direct, FF_XPCALL, Shared),
    // Coroutine
    row(Lib::Coroutine, "create", coroutine::create, 33, Shared),
    row(Lib::Coroutine, "resume", coroutine::resume, 35, Shared),
    row(Lib::Coroutine, "yield", coroutine::yield_, 34, Shared),
    row(Lib::Coroutine, "status", coroutine::status, 30, Shared),
    row(Lib::Coroutine, "wrap", coroutine::wrap, 37, Shared),
    row(Lib::Coroutine, "running", coroutine::running, 31, Shared),
    row(Lib::Coroutine, "isyieldable", coroutine::isyieldable, 32, Shared),
    // Math
    row(Lib::Math, "abs", math::abs, 38, Shared),
    row(Lib::Math, "floor", math::floor, 39, Shared),
    row(Lib::Math, "ceil", math::ceil, 40, Shared),
    row(Lib::Math, "sqrt", math::sqrt, 41, Shared),
    row(Lib::Math, "log10", math::log10, 42, Shared),
    row(Lib::Math, "exp", math::exp, 43, Shared),
    row(Lib::Math, "sin", math::sin, 44, Shared),
    row(Lib::Math, "cos", math::cos, 45, Shared),
    row(Lib::Math, "tan", math::tan, 46, Shared),
    row(Lib::Math, "asin", math::asin, 47, Shared),
    row(Lib::Math, "acos", math::acos, 48, Shared),
    row(Lib::Math, "atan", math::atan, 49, Shared),
    row(Lib::Math, "sinh", math::sinh, 50, Shared),
    row(Lib::Math, "cosh", math::cosh, 51, Shared),
    row(Lib::Math, "tanh", math::tanh, 52, Shared),
    row(Lib::Math, "frexp", math::frexp, 53, Shared),
    row(Lib::Math, "modf", math::modf, 54, Shared),
    row(Lib::Math, "log", math::log, 55, Shared),
    row(Lib::Math, "deg", math::deg, FF_OWN, Shared),
    row(Lib::Math, "rad", math::rad, FF_OWN + 1, Shared),
    row(Lib::Math, "atan2", math::atan2, 56, Shared),
    row(Lib::Math, "pow", math::pow, 57, Shared),
    row(Lib::Math, "fmod", math::fmod, 58, Shared),
    row(Lib::Math, "ldexp", math::ldexp, 59, Shared),
    row(Lib::Math, "min", math::min, 60, Shared),
    row(Lib::Math, "max", math::max, 61, Shared),
    // Bit
    row(Lib::Bit, "tobit", bit::tobit, 64, Shared),
    row(Lib::Bit, "bnot", bit::bnot, 65, Shared),
    row(Lib::Bit, "bswap", bit::bswap, 66, Shared),
    row(Lib::Bit, "band", bit::band, 72, Shared),
    row(Lib::Bit, "bor", bit::bor, 73, Shared),
    row(Lib::Bit, "bxor", bit::bxor, 74, Shared),
    row(Lib::Bit, "lshift", bit::lshift, 67, Shared),
    row(Lib::Bit, "rshift", bit::rshift, 68, Shared),
    row(Lib::Bit, "arshift", bit::arshift, 69, Shared),
    row(Lib::Bit, "rol", bit::rol, 70, Shared),
    row(Lib::Bit, "ror", bit::ror, 71, Shared),
    row(Lib::Bit, "tohex", bit::tohex, 75, Shared),
    // String
    row(Lib::String, "byte", string::byte, 76, Shared),
    row(Lib::String, "char", string::char, 77, Shared),
    row(Lib::String, "dump", string::dump, 83, Absent),
    row(Lib::String, "find", string::find, 84, Shared),
    row(Lib::String, "format", format::format, 89, Shared),
    row(Lib::String, "gmatch", string::gmatch, 87, Shared),
    row(Lib::String, "gsub", string::gsub, 88, Shared),
    row(Lib::String, "len", string::len, FF_OWN + 2, Shared),
    row(Lib::String, "lower", string::lower, 81, Shared),
    row(Lib::String, "match", string::match_, 85, Shared),
    row(Lib::String, "rep", string::rep, 79, Shared),
    row(Lib::String, "reverse", string::reverse, 80, Shared),
    row(Lib::String, "sub", string::sub, 78, Shared),
    row(Lib::String, "upper", string::upper, 82, Shared),
    // Table
    row(Lib::Table, "concat", table::concat, 92, Shared),
    row(Lib::Table, "insert", table::insert, 91, Shared),
    row(Lib::Table, "remove", table::remove, FF_OWN + 3, Shared),
    row(Lib::Table, "sort", table::sort, 93, Shared),
    row(Lib::Table, "maxn", table::maxn, 90, Shared),
    row(Lib::Table, "getn", table::getn, FF_OWN + 4, Shared),
    row(Lib::Table, "move", table::move_, FF_OWN + 5, Shared),
    row(Lib::Table, "foreach", table::foreach, FF_OWN + 6, Shared),
    row(Lib::Table, "foreachi", table::foreachi, FF_OWN + 7, Shared),
    row(Lib::Table, "new", table::new, 94, Shared),
    row(Lib::Table, "clear", table::clear, 95, Shared),
    // File
    row(Lib::File, "close", io::f_close, 96, Absent),
    row(Lib::File, "flush", io::f_flush, 99, Absent),
    row(Lib::File, "lines", io::f_lines, 102, Absent),
    row(Lib::File, "read", io::f_read, 97, Absent),
    row(Lib::File, "seek", io::f_seek, 100, Absent),
    row(Lib::File, "setvbuf", io::f_setvbuf, 101, Absent),
    row(Lib::File, "write", io::f_write, 98, Absent),
    row(Lib::File, "__gc", io::f_gc, 103, Absent),
    row(Lib::File, "__tostring", io::f_tostring, 104, Absent),
    // Io
    row(Lib::Io, "close", io::io_close, 108, Absent),
    row(Lib::Io, "flush", io::io_flush, 111, Absent),
    row(Lib::Io, "input", io::io_input, 112, Absent),
    row(Lib::Io, "lines", io::io_lines, 114, Absent),
    row(Lib::Io, "open", io::io_open, 105, Absent),
    row(Lib::Io, "output", io::io_output, 113, Absent),
    row(Lib::Io, "popen", io::io_popen, 106, Absent),
    row(Lib::Io, "read", io::io_read, 109, Absent),
    row(Lib::Io, "tmpfile", io::io_tmpfile, 107, Absent),
    row(Lib::Io, "type", io::io_type, 115, Absent),
    row(Lib::Io, "write", io::io_write, 110, Absent),
    // OsTime: the clock and the calendar (`StdLib::OS_TIME`).
    row(Lib::OsTime, "clock", os::clock, 122, Absent),
    row(Lib::OsTime, "date", os::date, 123, Absent),
    row(Lib::OsTime, "difftime", os::difftime, 125, Absent),
    row(Lib::OsTime, "time", os::time, 124, Absent),
    // Os: the rest of `os` (files, processes, the environment, the locale).
    row(Lib::Os, "execute", os::execute, 116, Absent),
    row(Lib::Os, "exit", os::exit, 121, Absent),
    row(Lib::Os, "getenv", os::getenv, 120, Absent),
    row(Lib::Os, "remove", os::remove, 117, Absent),
    row(Lib::Os, "rename", os::rename, 118, Absent),
    row(Lib::Os, "setlocale", os::setlocale, 126, Absent),
    row(Lib::Os, "tmpname", os::tmpname, 119, Absent),
    // Debug
    row(Lib::Debug, "getregistry", debug::getregistry, 127, Absent),
    row(Lib::Debug, "getmetatable", debug::getmetatable, 128, Absent),
    row(Lib::Debug, "setmetatable", debug::setmetatable, 129, Absent),
    row(Lib::Debug, "getfenv", debug::getfenv, 130, Absent),
    row(Lib::Debug, "setfenv", debug::setfenv, 131, Absent),
    row(Lib::Debug, "getinfo", debug::getinfo, 132, Absent),
    row(Lib::Debug, "getlocal", debug::getlocal, 133, Absent),
    row(Lib::Debug, "setlocal", debug::setlocal, 134, Absent),
    row(Lib::Debug, "getupvalue", debug::getupvalue, 135, Absent),
    row(Lib::Debug, "setupvalue", debug::setupvalue, 136, Absent),
    row(Lib::Debug, "upvalueid", debug::upvalueid, 137, Absent),
    row(Lib::Debug, "upvaluejoin", debug::upvaluejoin, 138, Absent),
    row(Lib::Debug, "sethook", debug::sethook, 139, Absent),
    row(Lib::Debug, "gethook", debug::gethook, 140, Absent),
    row(Lib::Debug, "debug", debug::debug, 141, Absent),
    row(Lib::Debug, "traceback", debug::traceback, 142, Absent),
    // Jit
    row(Lib::Jit, "on", jit::on, 143, Absent),
    row(Lib::Jit, "off", jit::off, 144, Absent),
    row(Lib::Jit, "flush", jit::flush, 145, Absent),
    row(Lib::Jit, "status", jit::status, 146, Absent),
    row(Lib::Jit, "attach", jit::attach, 148, Absent),
    // jit.opt
    row(Lib::JitOpt, "start", jit::opt_start, 160, Absent),
    // JitUtil
    row(Lib::JitUtil, "funcinfo", jit::util::funcinfo, 149, Absent),
    row(Lib::JitUtil, "funcbc", jit::util::funcbc, 150, Absent),
    row(Lib::JitUtil, "funck", jit::util::funck, 151, Absent),
    row(Lib::JitUtil, "funcuvname", jit::util::funcuvname, 152, Absent),
    row(Lib::JitUtil, "traceinfo", jit::util::no_trace, 153, Absent),
    row(Lib::JitUtil, "traceir", jit::util::no_trace, 154, Absent),
    row(Lib::JitUtil, "tracek", jit::util::no_trace, 155, Absent),
    row(Lib::JitUtil, "tracesnap", jit::util::no_trace, 156, Absent),
    row(Lib::JitUtil, "tracemc", jit::util::no_trace, 157, Absent),
    row(Lib::JitUtil, "traceexitstub", jit::util::no_trace, 158, Absent),
    row(Lib::JitUtil, "ircalladdr", jit::util::ircalladdr, 159, Absent),
    // JitProfile
    row(Lib::JitProfile, "start", jit::profile::start, 161, Absent),
    row(Lib::JitProfile, "stop", jit::profile::stop, 162, Absent),
    row(Lib::JitProfile, "dumpstack", jit::profile::dumpstack, 163, Absent),
    // Package
    row(Lib::Package, "loadlib", package::loadlib, FF_OWN + 8, Absent),
    row(Lib::Package, "searchpath", package::searchpath, FF_OWN + 9, Absent),
    row(Lib::Package, "seeall", package::seeall, FF_OWN + 10, Absent),
    // ffi (docs/ffi.md): never in a sandbox, never in a safe library set.
    row(Lib::Ffi, "cdef", crate::ffi::lib::ffi_cdef, FF_OWN + 40, Absent),
    row(Lib::Ffi, "new", crate::ffi::lib::ffi_new, FF_OWN + 41, Absent),
    row(Lib::Ffi, "cast", crate::ffi::lib::ffi_cast, FF_OWN + 42, Absent),
    row(Lib::Ffi, "typeof", crate::ffi::lib::ffi_typeof, FF_OWN + 43, Absent),
    row(Lib::Ffi, "sizeof", crate::ffi::lib::ffi_sizeof, FF_OWN + 44, Absent),
    row(Lib::Ffi, "alignof", crate::ffi::lib::ffi_alignof, FF_OWN + 45, Absent),
    row(Lib::Ffi, "offsetof", crate::ffi::lib::ffi_offsetof, FF_OWN + 46, Absent),
    row(Lib::Ffi, "istype", crate::ffi::lib::ffi_istype, FF_OWN + 47, Absent),
    row(Lib::Ffi, "string", crate::ffi::lib::ffi_string, FF_OWN + 48, Absent),
    row(Lib::Ffi, "copy", crate::ffi::lib::ffi_copy, FF_OWN + 49, Absent),
    row(Lib::Ffi, "fill", crate::ffi::lib::ffi_fill, FF_OWN + 50, Absent),
    row(Lib::Ffi, "errno", crate::ffi::lib::ffi_errno, FF_OWN + 51, Absent),
    row(Lib::Ffi, "abi", crate::ffi::lib::ffi_abi, FF_OWN + 52, Absent),
    row(Lib::Ffi, "gc", crate::ffi::lib::ffi_gc, FF_OWN + 53, Absent),
    row(Lib::Ffi, "metatype", crate::ffi::lib::ffi_metatype, FF_OWN + 54, Absent),
    row(Lib::Ffi, "load", crate::ffi::ccall::ffi_load, FF_OWN + 55, Absent),
    // The namespace metatable and the callback methods (ffi/ccall.rs).
    row(Lib::Made, "__index", crate::ffi::ccall::clib_index, FF_OWN + 76, Absent),
    row(
        Lib::Made,
        "__newindex",
        crate::ffi::ccall::clib_newindex,
        FF_OWN + 77,
        Absent,
    ),
    row(Lib::Made, "free", crate::ffi::ccall::cb_free, FF_OWN + 78, Absent),
    row(Lib::Made, "set", crate::ffi::ccall::cb_set, FF_OWN + 79, Absent),
    row(
        Lib::CdataMeta,
        "__index",
        crate::ffi::cmeta::cd_index,
        FF_OWN + 60,
        Absent,
    ),
    row(
        Lib::CdataMeta,
        "__newindex",
        crate::ffi::cmeta::cd_newindex,
        FF_OWN + 61,
        Absent,
    ),
    row(Lib::CdataMeta, "__eq", crate::ffi::cmeta::cd_eq, FF_OWN + 62, Absent),
    row(Lib::CdataMeta, "__lt", crate::ffi::cmeta::cd_lt, FF_OWN + 63, Absent),
    row(Lib::CdataMeta, "__le", crate::ffi::cmeta::cd_le, FF_OWN + 64, Absent),
    row(Lib::CdataMeta, "__add", crate::ffi::cmeta::cd_add, FF_OWN + 65, Absent),
    row(Lib::CdataMeta, "__sub", crate::ffi::cmeta::cd_sub, FF_OWN + 66, Absent),
    row(Lib::CdataMeta, "__mul", crate::ffi::cmeta::cd_mul, FF_OWN + 67, Absent),
    row(Lib::CdataMeta, "__div", crate::ffi::cmeta::cd_div, FF_OWN + 68, Absent),
    row(Lib::CdataMeta, "__mod", crate::ffi::cmeta::cd_mod, FF_OWN + 69, Absent),
    row(Lib::CdataMeta, "__pow", crate::ffi::cmeta::cd_pow, FF_OWN + 70, Absent),
    row(Lib::CdataMeta, "__unm", crate::ffi::cmeta::cd_unm, FF_OWN + 71, Absent),
    row(Lib::CdataMeta, "__len", crate::ffi::cmeta::cd_len, FF_OWN + 72, Absent),
    row(
        Lib::CdataMeta,
        "__concat",
        crate::ffi::cmeta::cd_concat,
        FF_OWN + 73,
        Absent,
    ),
    row(
        Lib::CdataMeta,
        "__call",
        crate::ffi::cmeta::cd_call,
        FF_OWN + 74,
        Absent,
    ),
    row(
        Lib::CdataMeta,
        "__tostring",
        crate::ffi::cmeta::cd_tostring,
        FF_OWN + 75,
        Absent,
    ),
    // string.buffer's library and buffer methods (`require "string.buffer"`).
    row(Lib::Buffer, "encode", buffer::buf_encode, 221, Shared),
    row(Lib::Buffer, "decode", buffer::buf_decode, 222, Shared),
    row(Lib::BufferMethod, "free", buffer::m_free, 204, Shared),
    row(Lib::BufferMethod, "reset", buffer::m_reset, 205, Shared),
    row(Lib::BufferMethod, "skip", buffer::m_skip, 206, Shared),
    row(Lib::BufferMethod, "set", buffer::m_set, 207, Shared),
    row(Lib::BufferMethod, "put", buffer::m_put, 208, Shared),
    row(Lib::BufferMethod, "putf", buffer::m_putf, 209, Shared),
    row(Lib::BufferMethod, "get", buffer::m_get, 210, Shared),
    row(Lib::BufferMethod, "encode", buffer::m_encode, 215, Shared),
    row(Lib::BufferMethod, "decode", buffer::m_decode, 216, Shared),
    row(Lib::BufferMethod, "__gc", buffer::m_gc, 217, Shared),
    row(Lib::BufferMethod, "__tostring", buffer::m_tostring, 218, Shared),
    row(Lib::BufferMethod, "__len", buffer::m_len, 219, Shared),
    row(Lib::BufferMethod, "__concat", buffer::m_concat, FF_OWN + 11, Shared),
    // Made by their library's code (closures with upvalues, iterators, loaders).
    row(Lib::Made, "ipairs_aux", base::ipairs_aux, FF_IPAIRS_AUX, Shared),
    row(Lib::Made, "wrap", coroutine::wrap_call, FF_WRAP_AUX, Shared),
    row(Lib::Made, "gmatch_aux", string::gmatch_step, FF_GMATCH_AUX, Shared),
    row(Lib::Made, "random", math::random, FF_MATH_RANDOM, Own),
    row(Lib::Made, "randomseed", math::randomseed, FF_MATH_RANDOMSEED, Absent),
    row(Lib::Made, "new", buffer::buf_new, FF_BUFFER_NEW, Shared),
    row(Lib::Made, "lines", io::lines_iter, FF_LINES_ITER, Absent),
    row(Lib::Made, "require", package::require, FF_REQUIRE, Own),
    row(Lib::Made, "module", package::module, FF_MODULE, Absent),
    row(
        Lib::Made,
        "loader_preload",
        package::loader_preload,
        FF_LOADER_PRELOAD,
        Absent,
    ),
    row(
        Lib::Made,
        "loader_Lua",
        package::loader_lua,
        FF_LOADER_PRELOAD + 1,
        Absent,
    ),
    row(Lib::Made, "loader_C", package::loader_c, FF_LOADER_PRELOAD + 2, Absent),
    row(
        Lib::Made,
        "loader_Croot",
        package::loader_croot,
        FF_LOADER_PRELOAD + 3,
        Absent,
    ),
    row(Lib::Made, "preload", package::preload_value, FF_PRELOAD_VALUE, Absent),
    row(
        Lib::Made,
        "luaopen_string_buffer",
        buffer::open_module,
        FF_OPEN_BUFFER,
        Own,
    ),
    row(Lib::Made, "new_generator", math::new_generator, FF_NEW_GENERATOR, Own),
    row(Lib::Made, "preload", jit::load_module, FF_JIT_PRELOAD, Absent),
    row(Lib::Made, "listing", jit::listing, FF_JIT_LISTING, Absent),
    row(Lib::Made, "tracedump", jit::tracedump, FF_JIT_TRACEDUMP, Absent),
    row(
        Lib::Made,
        "profiler callback",
        jit::profile::trampoline,
        FF_PROFILE_TRAMPOLINE,
        Absent,
    ),
];

/// One more than the largest fast-function id.
const FFID_LIMIT: usize = 512;

/// The row of each fast-function id, plus one (0: no row), computed at compile time:
/// `new_func` runs on every `gmatch`, `coroutine.wrap` and `io.lines`, where a search
/// of the table cost 40% of a short `gmatch` loop.
const ROW_OF: [u16; FFID_LIMIT] = {
    let mut index = [0u16; FFID_LIMIT];
    let mut i = 0;
    while i < ROWS.len() {
        let id = ROWS[i].ffid as usize;
        assert!(id < FFID_LIMIT, "fast-function id out of range");
        index[id] = i as u16 + 1;
        i += 1;
    }
    index
};

/// The row with id `ffid`.
pub fn lib_func(ffid: u16) -> Option<&'static LibFunc> {
    let row = *ROW_OF.get(ffid as usize)?;
    LIB_FUNCS.get((row as usize).checked_sub(1)?)
}

/// The name of the library function with id `ffid` (`"?"` for none): what the VM
/// shows for a native with no name at its call site (`State::ff_name`).
pub fn ff_name(ffid: u16) -> &'static str {
    lib_func(ffid).map_or("?", |r| r.name)
}

/// Enter the functions of `lib` into table `t`, each under its name.
pub fn open_funcs(st: &mut State, lib: Lib, t: GcRef<GcTable>) -> LResult<()> {
    st.ff_name = ff_name;
    for r in LIB_FUNCS.iter().filter(|r| r.lib == lib) {
        let fv = st.new_native(r.f, r.ffid, 0)?;
        let k = st.str_value(r.name.as_bytes())?;
        st.table_set(t, k, Value::function(fv))?;
    }
    Ok(())
}

#[cfg(any(test, feature = "internals"))]
impl State {
    /// Open the standard libraries in the globals ([`open_base`]).
    pub fn open_libs(&mut self) -> LResult<()> {
        open_base(self)
    }
}

/// A new function object for the row with id `ffid`, with `nup` upvalues (nil).
pub fn new_func(st: &mut State, ffid: u16, nup: usize) -> LResult<GcRef<GcFunc>> {
    let Some(r) = lib_func(ffid) else {
        return Err(st.rt_error("internal error: no library function with this id"));
    };
    st.ff_name = ff_name;
    Ok(st.new_native(r.f, ffid, nup)?)
}

/// The fast-function id of `v` (0 if it is not a native function).
#[inline]
pub fn ffid_of(v: Value) -> u16 {
    v.as_function().map_or(0, |f| f.ffid)
}

/// Opens one library in the globals.
pub type LibOpener = fn(&mut State) -> LResult<()>;

/// The libraries besides the base library, in the order they open: the [`Lib`] their
/// selection bit is named for (`StdLib` in `lua/state.rs`), the global that holds
/// them, and their opener. `package` opens last: it enters the libraries opened
/// before it into `package.loaded`. `os` is two rows: its clock and calendar part
/// opens the `os` table, the rest adds to it.
pub const LIBRARIES: [(Lib, &str, LibOpener); 12] = [
    (Lib::Coroutine, "coroutine", coroutine::open),
    (Lib::String, "string", string::open),
    (Lib::Table, "table", table::open),
    (Lib::Math, "math", math::open),
    (Lib::Bit, "bit", bit::open),
    (Lib::Io, "io", io::open),
    (Lib::OsTime, "os", os::open_time),
    (Lib::Os, "os", os::open),
    (Lib::Debug, "debug", debug::open),
    (Lib::Jit, "jit", jit::open),
    (Lib::Ffi, "ffi", crate::ffi::open),
    (Lib::Package, "package", package::open),
];

/// The rows of `lib` that sandboxes share.
pub fn shared_rows(lib: Lib) -> impl Iterator<Item = &'static LibFunc> {
    LIB_FUNCS
        .iter()
        .filter(move |r| r.lib == lib && r.sandbox == Sandbox::Shared)
}

/// Open the base library and every library of [`LIBRARIES`] in the globals.
#[cfg(any(test, feature = "internals"))]
pub fn open_base(st: &mut State) -> LResult<()> {
    base::open(st)?;
    for (_, _, open) in LIBRARIES {
        open(st)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_numbered_as_luajit_does() {
        let mut ids: Vec<u16> = LIB_FUNCS.iter().map(|r| r.ffid).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate fast-function ids");
        assert!(
            LIB_FUNCS.iter().all(|r| r.ffid >= 2),
            "0 and 1 are Lua and host functions"
        );
        for (name, id) in [("print", 29), ("pcall", 20), ("tostring", 18), ("assert", 2)] {
            let r = LIB_FUNCS.iter().find(|r| r.lib == Lib::Base && r.name == name).unwrap();
            assert_eq!(r.ffid, id, "{name}");
        }
        // No two rows of one library share a name.
        let mut names: Vec<(String, &str)> = LIB_FUNCS
            .iter()
            .filter(|r| r.lib != Lib::Made)
            .map(|r| (format!("{:?}", r.lib), r.name))
            .collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn every_row_opens() {
        let mut st = State::new().unwrap();
        let t = st.new_table(0, 0).unwrap();
        for lib in [
            Lib::Base,
            Lib::Coroutine,
            Lib::Math,
            Lib::Bit,
            Lib::String,
            Lib::Table,
            Lib::File,
            Lib::Io,
            Lib::OsTime,
            Lib::Os,
            Lib::Debug,
            Lib::Jit,
            Lib::JitOpt,
            Lib::JitUtil,
            Lib::JitProfile,
            Lib::Buffer,
            Lib::BufferMethod,
            Lib::Package,
        ] {
            let t = st.new_table(0, 0).unwrap();
            open_funcs(&mut st, lib, t).unwrap();
            for r in LIB_FUNCS.iter().filter(|r| r.lib == lib) {
                let k = st.intern(r.name.as_bytes()).unwrap();
                let f = t.get_str(k).as_function().expect(r.name);
                assert_eq!(f.ffid, r.ffid, "{}", r.name);
                assert!(!f.is_lua());
            }
        }
        for r in LIB_FUNCS.iter().filter(|r| r.lib == Lib::Made) {
            let f = new_func(&mut st, r.ffid, 2).unwrap();
            assert_eq!((f.ffid, f.num_upvals()), (r.ffid, 2));
            assert_eq!((st.ff_name)(f.ffid), r.name);
        }
        let _ = t;
    }
}
