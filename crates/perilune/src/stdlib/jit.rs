//! The `jit` library: LuaJIT's control interface, ahead of Perilune's JIT.
//!
//! Until the JIT exists, `jit.status()` returns `false` and the controls (`on`, `off`,
//! `flush`, `attach`, `opt.start`) check their arguments as LuaJIT does and are
//! accepted without effect.
//!
//! `jit.version` is `"LuaJIT 2.1.0-beta3"` and `jit.version_num` is `20100`: Perilune
//! runs LuaJIT 2.1 programs, and such programs test these values to pick LuaJIT code
//! paths (`table.new`, `bit`, FFI-free fallbacks). `perilune -v` names the runtime.
//! `jit.os` and `jit.arch` use LuaJIT's names for the host.

use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// What `jit.version` reports.
pub const VERSION: &str = "LuaJIT 2.1.0-beta3";
/// What `jit.version_num` reports.
pub const VERSION_NUM: f64 = 20100.0;

/// Optimisation flags `jit.opt.start` accepts (`name`, `+name`, `-name`, `noname`,
/// `no-name`).
const OPT_FLAGS: [&str; 10] = [
    "fold", "cse", "dce", "fwd", "dse", "narrow", "loop", "abc", "sink", "fuse",
];
/// Parameters `jit.opt.start` accepts as `name=number`.
const OPT_PARAMS: [&str; 15] = [
    "maxtrace",
    "maxrecord",
    "maxirconst",
    "maxside",
    "maxsnap",
    "hotloop",
    "hotexit",
    "tryside",
    "instunroll",
    "loopunroll",
    "callunroll",
    "recunroll",
    "sizemcode",
    "maxmcode",
    "minstitch",
];

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
    open_lib(st)?;
    super::mark_lib(st, "jit")
}

fn open_lib(st: &mut State) -> LResult<()> {
    let t = st.new_table(0, 12)?;
    st.set_global("jit", Value::table(t))?;
    super::register(
        st,
        t,
        &[
            ("on", on),
            ("off", off),
            ("flush", flush),
            ("status", status),
            ("attach", attach),
        ],
    )?;
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
    super::register(st, opt, &[("start", opt_start)])
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

fn on(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, false)?;
    Ok(0)
}

fn off(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, false)?;
    Ok(0)
}

fn flush(st: &mut State) -> LResult<usize> {
    check_mode_arg(st, true)?;
    Ok(0)
}

/// `jit.status()`: no JIT yet, so it is off (and has no flags to list).
fn status(st: &mut State) -> LResult<usize> {
    st.push(Value::FALSE)?;
    Ok(1)
}

/// `jit.attach(f [, event])`: there are no JIT events to deliver yet.
fn attach(st: &mut State) -> LResult<usize> {
    if !st.arg(1).is_function() {
        return Err(st.type_error(1, "function"));
    }
    Ok(0)
}

/// Is `s` something `jit.opt.start` accepts: a level digit, a flag, or a parameter?
fn valid_opt(s: &[u8]) -> bool {
    if s.len() == 1 && s[0].is_ascii_digit() {
        return true;
    }
    let (flag, signed) = match s {
        [b'+' | b'-', rest @ ..] => (rest, true),
        [b'n', b'o', b'-', rest @ ..] | [b'n', b'o', rest @ ..] => (rest, true),
        _ => (s, false),
    };
    if OPT_FLAGS.iter().any(|f| f.as_bytes() == flag) {
        return true;
    }
    if signed {
        return false;
    }
    match s.iter().position(|&b| b == b'=') {
        Some(eq) => {
            OPT_PARAMS.iter().any(|p| p.as_bytes() == &s[..eq]) && s[eq + 1..].iter().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn opt_start(st: &mut State) -> LResult<usize> {
    for i in 1..=st.arg_count() {
        let s = st.check_string(i)?;
        if !valid_opt(s.as_bytes()) {
            return Err(st.rt_error_parts(&[b"unknown or malformed optimization flag '", s.as_bytes(), b"'"]));
        }
    }
    Ok(0)
}
