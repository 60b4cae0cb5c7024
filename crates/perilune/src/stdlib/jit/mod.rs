//! The `jit` library: LuaJIT's control interface, ahead of Perilune's JIT, and the
//! `jit.*` modules.
//!
//! The controls (`on`, `off`, `flush`, `status`, `opt.start`) act on the JIT's state
//! (`crate::jit`, docs/jit.md) and check their arguments as LuaJIT does; `attach`
//! checks them and has no events to deliver yet.
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

pub mod profile;
pub mod util;

use crate::jit::param;
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

/// Do `on`/`off`/`flush` act on the whole JIT (no argument, nil or `true`), not on
/// one function?
fn whole_jit(st: &State) -> bool {
    st.arg_count() == 0 || st.arg(1).is_nil() || st.arg(1).as_bool() == Some(true)
}

/// `jit.on([f [, true]])`: switch the JIT on. With a function nothing changes yet
/// (per-function modes are not kept: docs/jit.md).
pub(crate) fn on(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, false)?;
    if whole_jit(st) {
        st.jit_set_on(true);
    }
    Ok(0)
}

/// `jit.off([f [, true]])`: switch the JIT off (see [`on`] for functions).
pub(crate) fn off(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, false)?;
    if whole_jit(st) {
        st.jit_set_on(false);
    }
    Ok(0)
}

/// `jit.flush([f | n])`: forget what the JIT learnt (see [`on`] for functions).
pub(crate) fn flush(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, true)?;
    if whole_jit(st) {
        st.jit_flush();
    }
    Ok(0)
}

/// `jit.status()`: whether the JIT is on, then the names of the optimisation flags
/// that are on, whether or not it is (LuaJIT also lists CPU features before the
/// flags; Perilune has none to report).
pub(crate) fn status(st: &mut State) -> LResult<usize> {
    st.push(Value::boolean(st.jit.is_on()))?;
    let flags: Vec<&str> = st.jit.flag_names().collect();
    for f in &flags {
        st.push_str(f.as_bytes())?;
    }
    Ok(1 + flags.len())
}

/// `jit.attach(f [, event])`: call `f` at every JIT event of that kind (only
/// `"trace"` events happen: `crate::jit::deliver_events`); without an event, stop
/// calling it.
pub(crate) fn attach(st: &mut State) -> LResult<usize> {
    let f = st.arg(1);
    if !f.is_function() {
        return Err(st.type_error(1, "function"));
    }
    let ev = st.arg(2);
    let key = crate::jit::event_key();
    let reg = st.registry;
    let handlers = match reg.get(key).as_table() {
        Some(t) => t,
        None => {
            let t = st.new_table(0, 1)?;
            st.table_set(reg, key, Value::table(t))?;
            t
        }
    };
    let v = if ev.is_string() { ev } else { Value::NIL };
    st.table_set(handlers, f, v)?;
    Ok(0)
}

/// `jit.opt.start(...)`: apply each piece of [`param`]'s list in turn (LuaJIT
/// applies the pieces before a bad one too). Without arguments: level 3.
pub(crate) fn opt_start(st: &mut State) -> LResult<usize> {
    if st.arg_count() == 0 {
        st.jit_apply(param::Opt::Level(param::LEVELS[3]));
    }
    for i in 1..=st.arg_count() {
        let s = st.check_string(i)?;
        let Some(opt) = param::parse(s.as_bytes()) else {
            return Err(st.rt_error_fmt(crate::errmsg::JIT_FLAG, &[s.as_bytes()]));
        };
        st.jit_apply(opt);
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
/// `bcnames`, the opcode names in LuaJIT's `jit.vmdef` layout, and `tracedump(n)`,
/// the IR of trace `n`.
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
    let f = super::new_func(st, super::FF_JIT_TRACEDUMP, 0)?;
    let k = st.str_value(b"tracedump")?;
    st.table_set(t, k, Value::function(f))?;
    Ok(1)
}

/// `tracedump(n [, mcode])`: the IR and snapshots of finished trace `n` (`-jdump`'s
/// text), followed by its machine code when `mcode` is true and the listing was
/// made (it is when trace handlers listen while the trace compiles), or nil.
pub(crate) fn tracedump(st: &mut State) -> LResult<usize> {
    let n = st.check_integer(1)?;
    let mcode = st.arg(2).is_truthy();
    let text = u32::try_from(n).ok().and_then(|n| st.jit.dump_of(n)).map(|t| {
        // The IR text, then a NUL and the machine code listing.
        match t.iter().position(|&b| b == 0) {
            Some(i) if mcode => [&t[..i], &t[i + 1..]].concat(),
            Some(i) => t[..i].to_vec(),
            None => t.to_vec(),
        }
    });
    match text {
        Some(t) => st.push_str(&t)?,
        None => st.push(Value::NIL)?,
    }
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
