//! The `package` library and `require`/`module`, with Lua 5.1's semantics as LuaJIT
//! 2.1 ships them.
//!
//! - `package.loaded` is the registry's `_LOADED` table; `require` and `module` keep
//!   the original table (as upvalues), so replacing `package.loaded` does not change
//!   what they use, as in Lua 5.1.
//! - `package.loaders` holds four searchers, tried in order: `package.preload`, Lua
//!   files along `package.path`, native modules along `package.cpath`, and the
//!   all-in-one native searcher (the root name of `a.b.c` along `package.cpath`).
//!   Native modules cannot be loaded until Perilune has a C API: a native file that
//!   is found, and `package.loadlib`, give an error that says so.
//! - `require("ffi")` fails as for any missing module, with a first line saying
//!   that Perilune has no FFI yet.
//! - `package.path` and `package.cpath` start from `LUA_PATH` and `LUA_CPATH` when
//!   set (a `;;` in them stands for the default), unless the registry field
//!   `LUA_NOENV` is true (the command line's `-E`), as in LuaJIT. The defaults are
//!   [`DEFAULT_PATH`] and [`DEFAULT_CPATH`] (docs/stdlib-debug-package-jit.md).
//! - `module(name, ...)` creates or reuses the module table, sets `_NAME`, `_M` and
//!   `_PACKAGE`, makes it the environment of the calling function and applies the
//!   options (`package.seeall`).
//!
//! This library opens after the others: it enters every library table already in
//! the globals into `package.loaded` and puts LuaJIT's loadable `table.new` and
//! `table.clear`, and the `jit.*` modules, into `package.preload`.

use crate::buf::Buf;
use crate::object::{GcRef, GcStr, GcTable};
use crate::stdlib::base::{read_source, skip_shebang};
use crate::value::Value;
use crate::vm::error::{LResult, Throw};
use crate::vm::frame::FrameKind;
use crate::vm::state::State;

/// Default `package.path`: the current directory, Perilune's own module directory,
/// then the usual Lua 5.1 module trees, so pure-Lua modules installed for Lua 5.1 or
/// LuaJIT are found.
#[cfg(not(windows))]
pub const DEFAULT_PATH: &str = "./?.lua;/usr/local/share/perilune/?.lua;/usr/local/share/lua/5.1/?.lua;\
/usr/local/share/lua/5.1/?/init.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua";
/// Defines `DEFAULT_CPATH`, the default `package.cpath` (searched so that error
/// messages list it; loading native modules needs the C API): luajit's as Debian and
/// Ubuntu build it, with the multiarch directory of the target where their `lua-*`
/// packages install C modules (`/usr/lib/x86_64-linux-gnu/lua/5.1/?.so`), and
/// `/usr/lib/lua/5.1/?.so` instead on other systems.
macro_rules! default_cpath {
    ($(($($cond:tt)*) $triple:literal),* $(,)?) => {
        $(
            /// Default `package.cpath` (see `default_cpath!`).
            #[cfg(all(target_os = "linux", $($cond)*))]
            pub const DEFAULT_CPATH: &str = concat!(
                "./?.so;/usr/local/lib/lua/5.1/?.so;/usr/lib/",
                $triple,
                "/lua/5.1/?.so;/usr/local/lib/lua/5.1/loadall.so"
            );
        )*
        /// Default `package.cpath` (see `default_cpath!`).
        #[cfg(not(any(windows, $(all(target_os = "linux", $($cond)*)),*)))]
        pub const DEFAULT_CPATH: &str =
            "./?.so;/usr/local/lib/lua/5.1/?.so;/usr/lib/lua/5.1/?.so;/usr/local/lib/lua/5.1/loadall.so";
    };
}

default_cpath! {
    (target_arch = "x86_64", target_env = "gnu") "x86_64-linux-gnu",
    (target_arch = "aarch64", target_env = "gnu") "aarch64-linux-gnu",
    (target_arch = "x86", target_env = "gnu") "i386-linux-gnu",
    (target_arch = "arm", target_env = "gnu") "arm-linux-gnueabihf",
    (target_arch = "riscv64", target_env = "gnu") "riscv64-linux-gnu",
    (target_arch = "powerpc64", target_endian = "little", target_env = "gnu") "powerpc64le-linux-gnu",
    (target_arch = "s390x", target_env = "gnu") "s390x-linux-gnu",
    (target_arch = "loongarch64", target_env = "gnu") "loongarch64-linux-gnu",
}
#[cfg(windows)]
pub const DEFAULT_PATH: &str = ".\\?.lua;!\\lua\\?.lua;!\\lua\\?\\init.lua;!\\?.lua;!\\?\\init.lua";
#[cfg(windows)]
pub const DEFAULT_CPATH: &str = ".\\?.dll;!\\?.dll;!\\loadall.dll";

/// Directory separator used in module names turned into paths.
const DIRSEP: &str = if cfg!(windows) { "\\" } else { "/" };

/// Why a native module cannot be loaded (where Lua 5.1 built without dynamic
/// libraries says "dynamic libraries not enabled; check your Lua installation",
/// which no installation could help): a C module calls the Lua C API, which Perilune
/// does not have yet.
const NO_C_MODULES: &str = crate::errmsg::MODULE_NO_C;

/// The first line of the "not found" list of `require("ffi")`: libraries that detect
/// LuaJIT through `pcall(require, "ffi")` get an ordinary `require` failure, and a
/// reader learns why. (A `package.preload.ffi` or an `ffi.lua` on the path is used
/// as for any module.)
const NO_FFI: &str = crate::errmsg::MODULE_NO_FFI;

/// Libraries entered into `package.loaded` when present in the globals.
const LIBS: [&str; 13] = [
    "_G",
    "coroutine",
    "string",
    "table",
    "math",
    "bit",
    "io",
    "os",
    "debug",
    "jit",
    "ffi",
    "package",
    "string.buffer",
];

/// Private static whose address marks a module being loaded in `package.loaded`.
static SENTINEL: u8 = 0;

fn sentinel() -> Value {
    Value::light_userdata(&SENTINEL as *const u8 as usize)
}

fn set_field(st: &mut State, t: GcRef<GcTable>, name: &[u8], v: Value) -> LResult<()> {
    let k = st.str_value(name)?;
    st.table_set(t, k, v)
}

fn get_field(st: &mut State, t: GcRef<GcTable>, name: &[u8]) -> LResult<Value> {
    let k = st.intern(name)?;
    Ok(t.get_str(k))
}

/// A native closure of library function `ffid` with the given upvalues.
fn closure(st: &mut State, ffid: u16, ups: &[Value]) -> LResult<Value> {
    let c = super::new_func(st, ffid, ups.len())?;
    c.native_upvals().copy_from_slice(ups);
    Ok(Value::function(c))
}

/// The path from environment variable `var` (`;;` = the default), or the default.
fn env_path(noenv: bool, var: &str, default: &str) -> String {
    match std::env::var(var) {
        Ok(p) if !noenv => {
            let p = p.replace(";;", ";\u{1};");
            p.replace('\u{1}', default)
        }
        _ => default.to_string(),
    }
}

pub fn open(st: &mut State) -> LResult<()> {
    let reg = st.registry;
    let pkg = st.new_table(0, 12)?;
    st.set_global("package", Value::table(pkg))?;
    // package.loaded is the registry's _LOADED.
    let loaded = match get_field(st, reg, b"_LOADED")?.as_table() {
        Some(t) => t,
        None => {
            let t = st.new_table(0, 16)?;
            set_field(st, reg, b"_LOADED", Value::table(t))?;
            t
        }
    };
    set_field(st, pkg, b"loaded", Value::table(loaded))?;
    let preload = st.new_table(0, 4)?;
    set_field(st, pkg, b"preload", Value::table(preload))?;

    let pv = Value::table(pkg);
    let loaders = st.new_table(4, 0)?;
    set_field(st, pkg, b"loaders", Value::table(loaders))?;
    for i in 0..4u16 {
        let c = closure(st, super::FF_LOADER_PRELOAD + i, &[pv])?;
        st.table_set(loaders, Value::number((i + 1) as f64), c)?;
    }
    super::open_funcs(st, super::Lib::Package, pkg)?;

    let noenv = get_field(st, reg, b"LUA_NOENV")?.is_truthy();
    let path = env_path(noenv, "LUA_PATH", DEFAULT_PATH);
    let v = st.str_value(path.as_bytes())?;
    set_field(st, pkg, b"path", v)?;
    let cpath = env_path(noenv, "LUA_CPATH", DEFAULT_CPATH);
    let v = st.str_value(cpath.as_bytes())?;
    set_field(st, pkg, b"cpath", v)?;
    let config = format!("{DIRSEP}\n;\n?\n!\n-\n");
    let v = st.str_value(config.as_bytes())?;
    set_field(st, pkg, b"config", v)?;

    let lv = Value::table(loaded);
    let req = closure(st, super::FF_REQUIRE, &[pv, lv])?;
    st.set_global("require", req)?;
    let module_fn = closure(st, super::FF_MODULE, &[lv])?;
    st.set_global("module", module_fn)?;

    // The libraries opened so far, and LuaJIT's submodules.
    let g = st.globals;
    for name in LIBS {
        let v = get_field(st, g, name.as_bytes())?;
        if v.is_table() {
            set_field(st, loaded, name.as_bytes(), v)?;
        }
    }
    if let Some(jit) = get_field(st, g, b"jit")?.as_table() {
        let opt = get_field(st, jit, b"opt")?;
        if opt.is_table() {
            set_field(st, loaded, b"jit.opt", opt)?;
        }
    }
    if let Some(table) = get_field(st, g, b"table")?.as_table() {
        for (field, module) in [(&b"new"[..], &b"table.new"[..]), (b"clear", b"table.clear")] {
            let f = get_field(st, table, field)?;
            if f.is_function() {
                let l = closure(st, super::FF_PRELOAD_VALUE, &[f])?;
                set_field(st, preload, module, l)?;
            }
        }
    }
    if get_field(st, g, b"jit")?.is_table() {
        super::jit::register_preload(st, preload)?;
    }
    // `string.buffer` comes with the string library, as a preloaded module (LuaJIT's
    // string library registers it in `package.preload`).
    if get_field(st, g, b"string")?.is_table() {
        let l = closure(st, super::FF_OPEN_BUFFER, &[])?;
        set_field(st, preload, b"string.buffer", l)?;
    }
    // LuaJIT preloads `ffi` (there is no global): only where the FFI is open.
    if let Some(m) = crate::ffi::module_table(st) {
        let l = closure(st, super::FF_PRELOAD_VALUE, &[Value::table(m)])?;
        set_field(st, preload, b"ffi", l)?;
    }
    Ok(())
}

/// A `package.preload` loader that returns its upvalue (`table.new`, ...).
pub(crate) fn preload_value(st: &mut State) -> LResult<usize> {
    let v = st.native_upval(0);
    st.push(v)?;
    Ok(1)
}

// --- require ------------------------------------------------------------------------

pub(crate) fn require(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let pkg = st.native_upval(0).as_table();
    let Some(loaded) = st.native_upval(1).as_table() else {
        return Err(st.rt_error(crate::errmsg::PACKAGE_LOADED));
    };
    let have = loaded.get_str(name);
    if have.is_truthy() {
        if Value::raw_equal(have, sentinel()) {
            let msg = crate::errmsg::format(crate::errmsg::MODULE_LOOP, &[&name.to_str_lossy()]);
            return Err(st.rt_error(&msg));
        }
        st.push(have)?;
        return Ok(1);
    }
    let loaders = match pkg {
        Some(p) => get_field(st, p, b"loaders")?,
        None => Value::NIL,
    };
    let Some(loaders) = loaders.as_table() else {
        return Err(st.rt_error(crate::errmsg::PACKAGE_LOADERS));
    };
    // Keep the loaders table on the stack: the loaders below run Lua code.
    st.push(Value::table(loaders))?;
    // The loaders' messages are joined on the heap: there can be any number of them.
    let mut msg = Buf::new(st.heap_ref());
    for part in crate::errmsg::Parts::new(crate::errmsg::MODULE_NOT_FOUND, &[name.as_bytes()]).iter() {
        msg.extend(part)?;
    }
    if name.as_bytes() == b"ffi" {
        msg.extend(NO_FFI.as_bytes())?;
    }
    let mut i = 1i64;
    let opener = loop {
        let loader = loaders.get_int(i);
        if loader.is_nil() {
            return Err(st.rt_error_bytes(msg.as_slice()));
        }
        let r = st.call_sync(loader, &[Value::string(name)])?;
        if r.is_function() {
            break r;
        }
        if let Some(s) = r.as_string() {
            msg.extend(s.as_bytes())?;
        } else if let Some(n) = r.as_number() {
            msg.extend(st.number_to_str(n)?.as_bytes())?;
        }
        i += 1;
    };
    st.table_set(loaded, Value::string(name), sentinel())?;
    let r = st.call_sync(opener, &[Value::string(name)])?;
    if !r.is_nil() {
        st.table_set(loaded, Value::string(name), r)?;
    }
    let mut v = loaded.get_str(name);
    if Value::raw_equal(v, sentinel()) {
        v = Value::TRUE;
        st.table_set(loaded, Value::string(name), v)?;
    }
    st.push(v)?;
    Ok(1)
}

/// `package.<field>` as a string (numbers converted), or the error Lua 5.1 gives.
fn path_field(st: &mut State, field: &str) -> LResult<Vec<u8>> {
    let pkg = st.native_upval(0).as_table();
    let v = match pkg {
        Some(p) => get_field(st, p, field.as_bytes())?,
        None => Value::NIL,
    };
    if let Some(s) = v.as_string() {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(n) = v.as_number() {
        return Ok(st.number_to_str(n)?.as_bytes().to_vec());
    }
    Err(st.rt_error_fmt(crate::errmsg::PACKAGE_FIELD, &[field.as_bytes()]))
}

/// Can `path` be opened for reading?
fn readable(path: &[u8]) -> bool {
    match std::str::from_utf8(path) {
        Ok(p) => std::fs::File::open(p).is_ok(),
        Err(_) => false,
    }
}

/// Look for `name` along `path` (`;`-separated templates, `?` = `name` with `sep`
/// replaced by `rep`): the first readable file, or the "no file" lines. Both are
/// built on the state's heap: their size is the path's times the name's, so a
/// script could make them huge.
fn search(st: &State, name: &[u8], path: &[u8], sep: &[u8], rep: &[u8]) -> LResult<Result<Buf, Buf>> {
    let name = replace(st, name, sep, rep)?;
    let mut tried = Buf::new(st.heap_ref());
    for template in path.split(|&b| b == b';').filter(|t| !t.is_empty()) {
        let file = replace(st, template, b"?", name.as_slice())?;
        if readable(file.as_slice()) {
            return Ok(Ok(file));
        }
        for part in crate::errmsg::Parts::new(crate::errmsg::MODULE_NO_FILE, &[file.as_slice()]).iter() {
            tried.extend(part)?;
        }
    }
    Ok(Err(tried))
}

/// `s` with every occurrence of `from` replaced by `to` (none if `from` is empty).
fn replace(st: &State, s: &[u8], from: &[u8], to: &[u8]) -> LResult<Buf> {
    let mut out = Buf::with_capacity(st.heap_ref(), s.len())?;
    let mut rest = s;
    while !rest.is_empty() {
        if !from.is_empty() && rest.starts_with(from) {
            out.extend(to)?;
            rest = rest.get(from.len()..).unwrap_or(&[]);
        } else {
            out.extend(rest.get(..1).unwrap_or(&[]))?;
            rest = rest.get(1..).unwrap_or(&[]);
        }
    }
    Ok(out)
}

/// "error loading module 'x' from file 'f':\n\tmsg".
fn load_error(st: &mut State, name: GcRef<GcStr>, file: &[u8], msg: &[u8]) -> Throw {
    let text = crate::errmsg::format(
        crate::errmsg::MODULE_LOAD,
        &[
            &name.to_str_lossy(),
            &String::from_utf8_lossy(file),
            &String::from_utf8_lossy(msg),
        ],
    );
    st.rt_error(&text)
}

pub(crate) fn loader_preload(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let pkg = st.native_upval(0).as_table();
    let preload = match pkg {
        Some(p) => get_field(st, p, b"preload")?,
        None => Value::NIL,
    };
    let Some(preload) = preload.as_table() else {
        return Err(st.rt_error(crate::errmsg::PACKAGE_PRELOAD));
    };
    let v = preload.get_str(name);
    if v.is_nil() {
        let msg = crate::errmsg::format(crate::errmsg::MODULE_NO_PRELOAD, &[&name.to_str_lossy()]);
        st.push_str(msg.as_bytes())?;
    } else {
        st.push(v)?;
    }
    Ok(1)
}

pub(crate) fn loader_lua(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let path = path_field(st, "path")?;
    let file = match search(st, name.as_bytes(), &path, b".", DIRSEP.as_bytes())? {
        Ok(f) => f,
        Err(tried) => {
            st.push_str(tried.as_slice())?;
            return Ok(1);
        }
    };
    let file = file.as_slice();
    let src = match read_source(st, Some(file))? {
        Ok(src) => src,
        Err(msg) => {
            let text = msg.as_string();
            let text = text.as_ref().map_or(&b"?"[..], |s| s.as_bytes());
            return Err(load_error(st, name, file, text));
        }
    };
    let mut chunk = b"@".to_vec();
    chunk.extend_from_slice(file);
    match st.load(skip_shebang(src.as_slice()), &chunk) {
        Ok(()) => Ok(1),
        Err(Throw::Error(msg)) => {
            let text = match msg.as_string() {
                Some(s) => s.as_bytes().to_vec(),
                None => b"?".to_vec(),
            };
            Err(load_error(st, name, file, &text))
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn loader_c(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let cpath = path_field(st, "cpath")?;
    match search(st, name.as_bytes(), &cpath, b".", DIRSEP.as_bytes())? {
        Ok(file) => Err(load_error(st, name, file.as_slice(), NO_C_MODULES.as_bytes())),
        Err(tried) => {
            st.push_str(tried.as_slice())?;
            Ok(1)
        }
    }
}

pub(crate) fn loader_croot(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let Some(dot) = name.as_bytes().iter().position(|&b| b == b'.') else {
        return Ok(0);
    };
    let root = name.as_bytes()[..dot].to_vec();
    let cpath = path_field(st, "cpath")?;
    match search(st, &root, &cpath, b".", DIRSEP.as_bytes())? {
        Ok(file) => Err(load_error(st, name, file.as_slice(), NO_C_MODULES.as_bytes())),
        Err(tried) => {
            st.push_str(tried.as_slice())?;
            Ok(1)
        }
    }
}

// --- package functions --------------------------------------------------------------

pub(crate) fn loadlib(st: &mut State) -> LResult<usize> {
    st.check_string(1)?;
    st.check_string(2)?;
    st.push(Value::NIL)?;
    st.push_str(NO_C_MODULES.as_bytes())?;
    st.push_str(b"absent")?;
    Ok(3)
}

pub(crate) fn searchpath(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let path = st.check_string(2)?;
    let sep = if st.arg(3).is_nil() {
        b".".to_vec()
    } else {
        st.check_string(3)?.as_bytes().to_vec()
    };
    let rep = if st.arg(4).is_nil() {
        DIRSEP.as_bytes().to_vec()
    } else {
        st.check_string(4)?.as_bytes().to_vec()
    };
    match search(st, name.as_bytes(), path.as_bytes(), &sep, &rep)? {
        Ok(file) => {
            st.push_str(file.as_slice())?;
            Ok(1)
        }
        Err(tried) => {
            st.push(Value::NIL)?;
            st.push_str(tried.as_slice())?;
            Ok(2)
        }
    }
}

pub(crate) fn seeall(st: &mut State) -> LResult<usize> {
    let m = st.check_table(1)?;
    let mt = match m.metatable {
        Some(mt) => mt,
        None => {
            let mt = st.new_table(0, 1)?;
            m.get_mut().metatable = Some(mt);
            crate::gc::barrier_forward(st, m.header(), Value::table(mt));
            mt
        }
    };
    let env = Value::table(st.cur.env);
    set_field(st, mt, b"__index", env)?;
    Ok(0)
}

// --- module -------------------------------------------------------------------------

/// The table at dotted path `name` under `root`, creating missing levels; `Err`
/// with the name if a level holds something else.
fn find_table(st: &mut State, root: GcRef<GcTable>, name: &[u8]) -> LResult<Option<GcRef<GcTable>>> {
    let mut t = root;
    for part in name.split(|&b| b == b'.') {
        let k = st.str_value(part)?;
        let v = t.get(k);
        t = if v.is_nil() {
            let n = st.new_table(0, 1)?;
            st.table_set(t, k, Value::table(n))?;
            n
        } else {
            match v.as_table() {
                Some(n) => n,
                None => return Ok(None),
            }
        };
    }
    Ok(Some(t))
}

pub(crate) fn module(st: &mut State) -> LResult<usize> {
    let name = st.check_string(1)?;
    let Some(loaded) = st.native_upval(0).as_table() else {
        return Err(st.rt_error(crate::errmsg::PACKAGE_LOADED));
    };
    let m = match loaded.get_str(name).as_table() {
        Some(m) => m,
        None => {
            let env = st.cur.env;
            let Some(m) = find_table(st, env, name.as_bytes())? else {
                let msg = crate::errmsg::format(crate::errmsg::MODULE_CONFLICT, &[&name.to_str_lossy()]);
                return Err(st.rt_error(&msg));
            };
            st.table_set(loaded, Value::string(name), Value::table(m))?;
            m
        }
    };
    let mv = Value::table(m);
    if get_field(st, m, b"_NAME")?.is_nil() {
        set_field(st, m, b"_M", mv)?;
        set_field(st, m, b"_NAME", Value::string(name))?;
        let bytes = name.as_bytes();
        let prefix = match bytes.iter().rposition(|&b| b == b'.') {
            Some(i) => &bytes[..=i],
            None => &[][..],
        };
        let p = st.str_value(prefix)?;
        set_field(st, m, b"_PACKAGE", p)?;
    }
    // The calling function (level 1) gets the module as its environment.
    let th = st.cur;
    let caller = th
        .frame_at(1)
        .filter(|ci| ci.kind == FrameKind::Lua)
        .and_then(|ci| th.frame_function(&ci).as_function());
    let Some(f) = caller else {
        return Err(st.rt_error(crate::errmsg::MODULE_NOT_FROM_LUA));
    };
    f.get_mut().env = m;
    crate::gc::barrier_forward(st, f.header(), mv);
    for i in 2..=st.arg_count() {
        let opt = st.arg(i);
        st.call_sync(opt, &[mv])?;
    }
    Ok(0)
}
