//! The `jit` library: LuaJIT's control interface, ahead of Perilune's JIT, and the
//! `jit.*` modules.
//!
//! Until the JIT exists, `jit.status()` returns `false` and the controls (`on`, `off`,
//! `flush`, `attach`, `opt.start`) check their arguments as LuaJIT does and are
//! accepted without effect.
//!
//! `jit.version` is `"LuaJIT 2.1.0-beta3 (Perilune x.y.z)"` and `jit.version_num` is
//! `20100`: Perilune runs LuaJIT 2.1 programs, and such programs test these values to
//! pick LuaJIT code paths (`table.new`, `bit`, FFI-free fallbacks). The version string
//! starts with LuaJIT's own, so the patterns programs use (`^LuaJIT 2%.1`,
//! `LuaJIT (%S+)`, `(2%.%d)%.%d`) still match, and it names the runtime. `jit.os` and
//! `jit.arch` use LuaJIT's names for the host.
//!
//! The modules `require` finds (in `package.preload`, put there when the package
//! library opens: [`register_preload`]): `jit.util` ([`util`]) and `jit.profile`
//! ([`profile`]) in Rust; `jit.p` (the `-jp` profiler), `jit.zone`, `jit.v`,
//! `jit.dump`, `jit.bcsave` and `jit.vmdef` are Lua source compiled into the library
//! (`stdlib/jit/*.lua`). See docs/stdlib-debug-package-jit.md.

pub mod param;
pub mod profile;
pub mod util;

use crate::object::{GcRef, GcTable};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// What `jit.version` reports.
pub const VERSION: &str = concat!("LuaJIT 2.1.0-beta3 (Perilune ", env!("CARGO_PKG_VERSION"), ")");
/// What `jit.version_num` reports.
pub const VERSION_NUM: f64 = 20100.0;

/// LuaJIT's name of the operating system.
pub fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" | "android" => "Linux",
        "windows" => "Windows",
        "macos" | "ios" => "OSX",
        "freebsd" | "netbsd" | "openbsd" | "dragonfly" => "BSD",
        "solaris" | "illumos" | "haiku" | "aix" => "POSIX",
        _ => "Other",
    }
}

/// LuaJIT's name of the CPU architecture.
pub fn arch_name() -> &'static str {
    let little = cfg!(target_endian = "little");
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "x86" => "x86",
        "arm" => {
            if little {
                "arm"
            } else {
                "armeb"
            }
        }
        "aarch64" => {
            if little {
                "arm64"
            } else {
                "arm64be"
            }
        }
        "powerpc" | "powerpc64" => "ppc",
        "mips" => {
            if little {
                "mipsel"
            } else {
                "mips"
            }
        }
        "mips64" => {
            if little {
                "mips64el"
            } else {
                "mips64"
            }
        }
        other => other,
    }
}

pub fn open(st: &mut State) -> LResult<()> {
    open_lib(st)
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 12)?;
    st.set_global("jit", Value::table(t))?;
    super::open_funcs(st, super::Lib::Jit, t)?;
    for (k, v) in [("version", VERSION), ("os", os_name()), ("arch", arch_name())] {
        let key = st.str_value(k.as_bytes())?;
        let val = st.str_value(v.as_bytes())?;
        st.table_set(t, key, val)?;
    }
    let key = st.str_value(b"version_num")?;
    st.table_set(t, key, Value::number(VERSION_NUM))?;
    let opt = st.new_table(0, 1)?;
    let key = st.str_value(b"opt")?;
    st.table_set(t, key, Value::table(opt))?;
    super::open_funcs(st, super::Lib::JitOpt, opt)
}

/// The argument check of `on`/`off`/`flush`: nothing, nil, `true` or a Lua function
/// (plus a trace number for `flush`).
fn check_mode_arg(st: &mut State, allow_number: bool) -> LResult<()> {
    let v = st.arg(1);
    let ok = st.arg_count() == 0
        || v.is_nil()
        || v.as_bool() == Some(true)
        || v.as_function().is_some_and(|f| f.is_lua())
        || (allow_number && v.is_number());
    if ok {
        Ok(())
    } else {
        Err(st.type_error(1, "function"))
    }
}

pub(crate) fn on(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, false)?;
    Ok(0)
}

pub(crate) fn off(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, false)?;
    Ok(0)
}

pub(crate) fn flush(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, true)?;
    Ok(0)
}

/// `jit.status()`: no JIT yet, so it is off (and has no flags to list).
pub(crate) fn status(st: &mut State) -> LResult<usize> {
    st.push(Value::FALSE)?;
    Ok(1)
}

/// `jit.attach(f [, event])`: there are no JIT events to deliver yet.
pub(crate) fn attach(st: &mut State) -> LResult<usize> {
    if !st.arg(1).is_function() {
        return Err(st.type_error(1, "function"));
    }
    Ok(0)
}

/// `jit.opt.start(...)`: check each piece against [`param`]'s list (the JIT will
/// apply them).
pub(crate) fn opt_start(st: &mut State) -> LResult<usize> {
    for i in 1..=st.arg_count() {
        let s = st.check_string(i)?;
        if param::parse(s.as_bytes()).is_none() {
            return Err(st.rt_error_fmt(crate::errmsg::JIT_FLAG, &[s.as_bytes()]));
        }
    }
    Ok(0)
}

// --- The jit.* modules --------------------------------------------------------------

/// A module `require` can load.
enum Module {
    /// Built in Rust.
    Native(fn(&mut State) -> LResult<GcRef<GcTable>>),
    /// Lua source compiled when required: the chunk name and the text. The chunk is
    /// called with the module name and the helpers of [`lua_helpers`].
    Lua(&'static str, &'static str),
}

/// The modules, by the name `require` takes.
const MODULES: [(&str, Module); 8] = [
    ("jit.util", Module::Native(util::open)),
    ("jit.profile", Module::Native(profile::open)),
    ("jit.vmdef", Module::Lua("=jit/vmdef.lua", include_str!("vmdef.lua"))),
    ("jit.zone", Module::Lua("=jit/zone.lua", include_str!("zone.lua"))),
    ("jit.p", Module::Lua("=jit/p.lua", include_str!("p.lua"))),
    ("jit.v", Module::Lua("=jit/v.lua", include_str!("v.lua"))),
    ("jit.dump", Module::Lua("=jit/dump.lua", include_str!("dump.lua"))),
    ("jit.bcsave", Module::Lua("=jit/bcsave.lua", include_str!("bcsave.lua"))),
];

/// Put a loader for each `jit.*` module into `preload` (`package.preload`). Called
/// by the package library when it opens, if the `jit` library is open.
pub fn register_preload(st: &mut State, preload: GcRef<GcTable>) -> LResult<()> {
    for (i, (name, _)) in MODULES.iter().enumerate() {
        let loader = super::new_func(st, super::FF_JIT_PRELOAD, 1)?;
        loader.native_upvals()[0] = Value::number(i as f64);
        let k = st.str_value(name.as_bytes())?;
        st.table_set(preload, k, Value::function(loader))?;
    }
    Ok(())
}

/// The `package.preload` loader of module [`MODULES`]`[upvalue 1]`.
pub(crate) fn load_module(st: &mut State) -> LResult<usize> {
    let i = st.native_upval(0).as_number().unwrap_or(-1.0);
    let Some((name, module)) = MODULES.get(i as usize) else {
        return Err(st.rt_error(crate::errmsg::INTERNAL_JIT_MODULE));
    };
    match module {
        Module::Native(open) => {
            let t = open(st)?;
            st.push(Value::table(t))?;
        }
        Module::Lua(chunkname, source) => {
            st.load_mode(source.as_bytes(), chunkname.as_bytes(), Some(b"t"))?;
            st.push_str(name.as_bytes())?;
            let n = lua_helpers(st)?;
            st.call(1 + n, 1)?;
        }
    }
    Ok(1)
}

/// What the Lua-source modules get as their second chunk argument (and nothing else
/// can reach): a table with `listing(f)`, the text `-bl` prints for a Lua function,
/// and `bcnames`, the opcode names in LuaJIT's `jit.vmdef` layout.
fn lua_helpers(st: &mut State) -> LResult<usize> {
    let t = st.new_table(0, 2)?;
    st.push(Value::table(t))?;
    let f = super::new_func(st, super::FF_JIT_LISTING, 0)?;
    let k = st.str_value(b"listing")?;
    st.table_set(t, k, Value::function(f))?;
    let names: String = crate::compiler::bytecode::OP_NAMES
        .iter()
        .map(|n| format!("{n:<6}"))
        .collect();
    let v = st.str_value(names.as_bytes())?;
    let k = st.str_value(b"bcnames")?;
    st.table_set(t, k, v)?;
    Ok(1)
}

/// `listing(f)`: the bytecode listing of Lua function `f` (`perilune -bl`'s format).
pub(crate) fn listing(st: &mut State) -> LResult<usize> {
    let Some(p) = st.arg(1).as_function().and_then(|f| f.proto()) else {
        return Err(st.type_error(1, "function"));
    };
    let text = crate::compiler::listing::listing(p);
    st.charge_bytes(text.len())?;
    st.push_str(text.as_bytes())?;
    Ok(1)
}
