//! The standard library, one module per Lua library.
//!
//! Every function here is a [`NativeFn`](crate::func::NativeFn): it reads its
//! arguments through the `State` argument API (`vm/api.rs`), pushes its results and
//! returns their count. Messages follow LuaJIT's wording.

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

use crate::func::NativeFn;
use crate::object::{GcRef, Table};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// Register `funcs` in table `t`.
pub fn register(st: &mut State, t: GcRef<Table>, funcs: &[(&'static str, NativeFn)]) -> LResult<()> {
    for &(name, f) in funcs {
        let fv = st.new_native(f, name, 0)?;
        let k = st.str_value(name.as_bytes())?;
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

#[cfg(any(test, feature = "internals"))]
/// Open the standard libraries in the globals. `package` opens last: it enters the
/// libraries opened before it into `package.loaded`.
pub fn open_base(st: &mut State) -> LResult<()> {
    base::open(st)?;
    coroutine::open(st)?;
    string::open(st)?;
    table::open(st)?;
    math::open(st)?;
    bit::open(st)?;
    io::open(st)?;
    os::open(st)?;
    debug::open(st)?;
    jit::open(st)?;
    package::open(st)
}

/// LuaJIT's fast-function ids of the library functions, by library and name, as
/// `tostring` shows them (`function: builtin#29` for `print`). The numbers are those
/// LuaJIT 2.1 prints; functions that LuaJIT implements as plain C functions (`module`,
/// `require`, `string.len`, `math.deg`, `table.remove`, `package.*`, ...) are not
/// listed and print their address, as there. `"FILE*"` is the file metatable.
const FFIDS: &[(&str, &[(&str, u8)])] = &[
    (
        "_G",
        &[
            ("assert", 2),
            ("type", 3),
            ("next", 4),
            ("pairs", 5),
            ("ipairs", 7),
            ("getmetatable", 8),
            ("setmetatable", 9),
            ("getfenv", 10),
            ("setfenv", 11),
            ("rawget", 12),
            ("rawset", 13),
            ("rawequal", 14),
            ("unpack", 15),
            ("select", 16),
            ("tonumber", 17),
            ("tostring", FF_TOSTRING),
            ("error", 19),
            ("pcall", 20),
            ("xpcall", 21),
            ("loadfile", 22),
            ("load", 23),
            ("loadstring", 24),
            ("dofile", 25),
            ("gcinfo", 26),
            ("collectgarbage", 27),
            ("newproxy", 28),
            ("print", 29),
        ],
    ),
    (
        "coroutine",
        &[
            ("status", 30),
            ("running", 31),
            ("isyieldable", 32),
            ("create", 33),
            ("yield", 34),
            ("resume", 35),
            ("wrap", 37),
        ],
    ),
    (
        "math",
        &[
            ("abs", 38),
            ("floor", 39),
            ("ceil", 40),
            ("sqrt", 41),
            ("log10", 42),
            ("exp", 43),
            ("sin", 44),
            ("cos", 45),
            ("tan", 46),
            ("asin", 47),
            ("acos", 48),
            ("atan", 49),
            ("sinh", 50),
            ("cosh", 51),
            ("tanh", 52),
            ("frexp", 53),
            ("modf", 54),
            ("log", 55),
            ("atan2", 56),
            ("pow", 57),
            ("fmod", 58),
            ("ldexp", 59),
            ("min", 60),
            ("max", 61),
            ("random", 62),
            ("randomseed", 63),
        ],
    ),
    (
        "bit",
        &[
            ("tobit", 64),
            ("bnot", 65),
            ("bswap", 66),
            ("lshift", 67),
            ("rshift", 68),
            ("arshift", 69),
            ("rol", 70),
            ("ror", 71),
            ("band", 72),
            ("bor", 73),
            ("bxor", 74),
            ("tohex", 75),
        ],
    ),
    (
        "string",
        &[
            ("byte", 76),
            ("char", 77),
            ("sub", 78),
            ("rep", 79),
            ("reverse", 80),
            ("lower", 81),
            ("upper", 82),
            ("dump", 83),
            ("find", 84),
            ("match", 85),
            ("gmatch", 87),
            ("gsub", 88),
            ("format", 89),
        ],
    ),
    (
        "table",
        &[
            ("maxn", 90),
            ("insert", 91),
            ("concat", 92),
            ("sort", 93),
            ("new", 94),
            ("clear", 95),
        ],
    ),
    (
        "FILE*",
        &[
            ("close", 96),
            ("read", 97),
            ("write", 98),
            ("flush", 99),
            ("seek", 100),
            ("setvbuf", 101),
            ("lines", 102),
            ("__gc", 103),
            ("__tostring", 104),
        ],
    ),
    (
        "io",
        &[
            ("open", 105),
            ("popen", 106),
            ("tmpfile", 107),
            ("close", 108),
            ("read", 109),
            ("write", 110),
            ("flush", 111),
            ("input", 112),
            ("output", 113),
            ("lines", 114),
            ("type", 115),
        ],
    ),
    (
        "os",
        &[
            ("execute", 116),
            ("remove", 117),
            ("rename", 118),
            ("tmpname", 119),
            ("getenv", 120),
            ("exit", 121),
            ("clock", 122),
            ("date", 123),
            ("time", 124),
            ("difftime", 125),
            ("setlocale", 126),
        ],
    ),
    (
        "debug",
        &[
            ("getregistry", 127),
            ("getmetatable", 128),
            ("setmetatable", 129),
            ("getfenv", 130),
            ("setfenv", 131),
            ("getinfo", 132),
            ("getlocal", 133),
            ("setlocal", 134),
            ("getupvalue", 135),
            ("setupvalue", 136),
            ("upvalueid", 137),
            ("upvaluejoin", 138),
            ("sethook", 139),
            ("gethook", 140),
            ("debug", 141),
            ("traceback", 142),
        ],
    ),
    (
        "jit",
        &[
            ("on", 143),
            ("off", 144),
            ("flush", 145),
            ("status", 146),
            ("security", 147),
            ("attach", 148),
        ],
    ),
];

/// Fast-function id of `tostring` (`print` checks for it).
pub const FF_TOSTRING: u8 = 18;
/// Fast-function ids of functions made at run time or kept out of the library tables.
pub const FF_IPAIRS_AUX: u8 = 6;
pub const FF_WRAP_AUX: u8 = 36;
pub const FF_GMATCH_AUX: u8 = 86;
const FF_OPT_START: u8 = 160;

/// Mark a native function with LuaJIT's fast-function id `id`.
pub fn set_ffid(f: Value, id: u8) {
    if let Some(f) = f.as_function().filter(|f| !f.is_lua()) {
        f.get_mut().hdr.ffid = id;
    }
}

/// The fast-function id of `v` (0 if it is not a library function LuaJIT numbers).
#[inline]
pub fn ffid_of(v: Value) -> u8 {
    v.as_function().map_or(0, |f| f.hdr.ffid)
}

/// Give the functions of library `lib` (a name in [`FFIDS`]) LuaJIT's fast-function
/// ids; each library's `open` calls it last. `_G` is the base library, and `io`
/// marks the file methods too.
pub(crate) fn mark_lib(st: &mut State, lib: &str) -> LResult<()> {
    let libs: &[&str] = match lib {
        "io" => &["io", "FILE*"],
        _ => &[lib],
    };
    for &name in libs {
        let t = match name {
            "_G" => Some(st.globals),
            "FILE*" => {
                let k = st.intern(b"FILE*")?;
                st.registry.get_str(k).as_table()
            }
            _ => {
                let k = st.intern(name.as_bytes())?;
                st.globals.get_str(k).as_table()
            }
        };
        let Some(t) = t else { continue };
        let funcs = FFIDS.iter().find(|(n, _)| *n == name).map_or(&[][..], |(_, f)| *f);
        for &(fname, id) in funcs {
            let k = st.intern(fname.as_bytes())?;
            set_ffid(t.get_str(k), id);
        }
        if name == "jit" {
            let k = st.intern(b"opt")?;
            if let Some(opt) = t.get_str(k).as_table() {
                let k = st.intern(b"start")?;
                set_ffid(opt.get_str(k), FF_OPT_START);
            }
        }
    }
    Ok(())
}
