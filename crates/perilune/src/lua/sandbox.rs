//! Sandboxes: per-script global environments over frozen, read-only libraries.
//!
//! [`Lua::create_sandbox`] returns a fresh environment table `E` for one script:
//! - reads of names `E` does not have go (through a protected metatable) to a hidden
//!   table of safe base functions, copied once per state;
//! - each library (`string`, `table`, `math`, `coroutine`, `bit`) is a new empty
//!   proxy stored in `E` whose protected metatable reads through to a hidden, frozen
//!   copy of the library and raises an error on any assignment, so `string.rep = nil`
//!   fails and `rawset(string, ...)` can only change this script's own proxy;
//! - strings used by code whose environment is a sandbox see a string metatable of
//!   their own, whose `__index` is the frozen `string` copy: `("").dump` is nil there,
//!   while the host's code keeps the real library (`State::metatable_of` picks the
//!   metatable by the environment of the innermost running Lua function);
//! - `math.random` is the sandbox's own generator, seeded from the system's
//!   randomness (or from [`SandboxOptions::random_seed`]), so no script can predict
//!   or steer another's numbers (`math.randomseed` is absent);
//! - `_G` is `E`; `load`/`loadstring` give the chunks they load `E` as environment
//!   and refuse binary chunks (mode `"t"`), even in a trusted state;
//!   `getmetatable` hides the string metatable; `collectgarbage` only allows
//!   `collect`, `count` and `step`; `getfenv`/`setfenv` (which would reach the real
//!   globals), `dofile`, `loadfile`, `module`, `package`, `string.dump` and
//!   `math.randomseed` are absent;
//! - `require` is a sandbox's own: it returns the sandbox's library proxies by name
//!   and `string.buffer` (a library instance of the sandbox's own, made at its first
//!   `require`: it only builds strings, so it cannot reach outside), and nothing else.
//!
//! Assignments to globals land in `E` itself, so scripts in different sandboxes
//! cannot see or change each other's globals or the libraries the others use.
//!
//! What a sandbox has is not listed here: every row of the one table of library
//! functions (`stdlib::LIB_FUNCS`) says whether sandboxes share the function, have
//! their own version of it, or leave it out (`stdlib::Sandbox`), and
//! [`sandbox_spec`] derives the builder's lists from that column: the base functions
//! to share, the libraries to copy (those with a shared function) and the library
//! functions to leave out of the copies (by identity, wherever they appear). The
//! messages the builder raises come from `errmsg.rs`. Invariant: the builder names
//! no library function itself except the ones it replaces (`Own` rows).

use crate::errmsg;
use crate::object::GcRef;
use crate::stdlib::{lib_func, shared_rows, Lib, Sandbox, LIBRARIES};
use crate::table::GcTable;
use crate::value::{LuaType, Value as Raw};
use crate::vm::error::LResult;
use crate::vm::state::{type_index, State};

use super::error::Result;
use super::function::Function;
use super::state::mem_error;
use super::state::Lua;
use super::table::Table;

const SANDBOX_BUILDER: &str = r#"
local G, string_mt, new_generator, open_buffer, spec = ...
local setmetatable, getmetatable, rawset, error, type, pairs, ipairs, tostring =
      G.setmetatable, G.getmetatable, G.rawset, G.error, G.type, G.pairs, G.ipairs, G.tostring
local loadstring, load, setfenv, collectgarbage = G.loadstring, G.load, G.setfenv, G.collectgarbage
local rawget = G.rawget
local leave_out, msg = spec.leave_out, spec.msg

local function read_only()
  error(msg.read_only, 2)
end

local libs, copies = {}, {}
for _, name in ipairs(spec.libs) do
  -- Raw, as leave_out was made: a library the globals' metatable would supply is
  -- not copied.
  local lib = rawget(G, name)
  if type(lib) == "table" then
    local copy = {}
    for k, v in pairs(lib) do
      -- Functions the library table says sandboxes do not share (string.dump,
      -- math.randomseed) or have their own version of (math.random, below).
      if not leave_out[v] then
        copy[k] = v
      end
    end
    copies[name] = copy
    if name ~= "math" then
      libs[name] = { __index = copy, __newindex = read_only, __metatable = false }
    end
  end
end

-- The string metatable for code running in a sandbox: the real one's fields, with
-- the frozen copy as __index (so no `dump`), hidden from getmetatable.
local sandbox_string_mt
if string_mt and copies.string then
  sandbox_string_mt = {}
  for k, v in pairs(string_mt) do sandbox_string_mt[k] = v end
  sandbox_string_mt.__index = copies.string
  sandbox_string_mt.__metatable = false
end

local base = {}
for _, name in ipairs(spec.base) do
  base[name] = G[name]
end
base._VERSION = G._VERSION
local env_mt = { __index = base, __metatable = false }

local function maker(seed)
  local env = setmetatable({}, env_mt)
  for name, mt in pairs(libs) do
    rawset(env, name, setmetatable({}, mt))
  end
  if copies.math then
    local math = {}
    for k, v in pairs(copies.math) do math[k] = v end
    math.random = new_generator(seed)
    rawset(env, "math", setmetatable({}, { __index = math, __newindex = read_only, __metatable = false }))
  end
  rawset(env, "_G", env)
  rawset(env, "getmetatable", function(o)
    if type(o) == "string" then return nil end
    return getmetatable(o)
  end)
  rawset(env, "loadstring", function(s, name)
    local f, e = loadstring(s, name, "t")
    if f then setfenv(f, env) end
    return f, e
  end)
  rawset(env, "load", function(c, name)
    local f, e = load(c, name, "t")
    if f then setfenv(f, env) end
    return f, e
  end)
  -- require: the libraries this sandbox has, and string.buffer (a library instance
  -- of its own, made when first required, so that changes to it stay here).
  local loaded = {}
  for name in pairs(copies) do loaded[name] = rawget(env, name) end
  rawset(env, "require", function(name)
    if type(name) == "number" then name = tostring(name) end
    if type(name) ~= "string" then
      error(msg.require_arg[1] .. type(name) .. msg.require_arg[2], 2)
    end
    local m = loaded[name]
    if m == nil and name == "string.buffer" and open_buffer and copies.string then
      m = open_buffer()
      loaded[name] = m
    end
    if m == nil then
      error(msg.require_missing[1] .. name .. msg.require_missing[2], 2)
    end
    return m
  end)
  rawset(env, "collectgarbage", function(opt, arg)
    if opt == nil or opt == "collect" or opt == "count" or opt == "step" then
      return collectgarbage(opt, arg)
    end
    error(msg.gc_option[1] .. tostring(opt) .. msg.gc_option[2], 2)
  end)
  return env
end
return maker, env_mt, sandbox_string_mt
"#;

/// Options for [`Lua::create_sandbox_with`].
///
/// ```
/// use perilune::{Lua, SandboxOptions};
/// let lua = Lua::new();
/// // Reproducible random numbers: the sequence `math.randomseed(42)` gives.
/// let a = lua.create_sandbox_with(SandboxOptions::new().random_seed(42.0))?;
/// let b = lua.create_sandbox_with(SandboxOptions::new().random_seed(42.0))?;
/// let draw = "return math.random(1000)";
/// let x: u32 = lua.load(draw).set_environment(a).eval()?;
/// let y: u32 = lua.load(draw).set_environment(b).eval()?;
/// assert_eq!(x, y);
/// # Ok::<(), perilune::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct SandboxOptions {
    random_seed: Option<f64>,
}

impl SandboxOptions {
    /// The defaults: what [`Lua::create_sandbox`] uses.
    pub fn new() -> SandboxOptions {
        SandboxOptions::default()
    }

    /// Start the sandbox's `math.random` generator as `math.randomseed(seed)` would
    /// (the same sequence as LuaJIT's for that seed), for reproducible runs. By
    /// default each sandbox's generator starts from the system's randomness, so no
    /// script (in this sandbox or another) can predict its numbers.
    pub fn random_seed(mut self, seed: f64) -> SandboxOptions {
        self.random_seed = Some(seed);
        self
    }
}

impl Lua {
    /// A fresh sandbox environment for one untrusted script: run the script with
    /// [`Chunk::set_environment`](super::chunk::Chunk::set_environment). See the
    /// module documentation for what it contains. The frozen library copies are
    /// taken from the globals the first time this is called.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let a = lua.create_sandbox()?;
    /// let b = lua.create_sandbox()?;
    /// lua.load("x = 1").set_environment(a.clone()).exec()?;
    /// assert!(lua.load("return x").set_environment(b.clone()).eval::<Option<i32>>()?.is_none());
    /// assert!(lua.load("string.rep = nil").set_environment(a).exec().is_err());
    /// assert_eq!(lua.load("return ('ab'):rep(2)").set_environment(b.clone()).eval::<String>()?, "abab");
    /// assert!(lua.load("return ('').dump").set_environment(b).eval::<Option<perilune::Function>>()?.is_none());
    /// assert!(lua.globals().get::<Option<i32>>("x")?.is_none());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_sandbox(&self) -> Result<Table> {
        self.create_sandbox_with(SandboxOptions::new())
    }

    /// [`Lua::create_sandbox`] with options (a deterministic random seed).
    pub fn create_sandbox_with(&self, options: SandboxOptions) -> Result<Table> {
        let maker = match self.raw().sandbox_maker.get() {
            Some(v) => self.with_state(|st, raw| {
                let f = super::value::Value::from_raw(self, st, raw, v)?;
                match f {
                    super::value::Value::Function(f) => Ok(f),
                    _ => Err(super::error::Error::RuntimeError(
                        crate::errmsg::INTERNAL_SANDBOX_MAKER.into(),
                    )),
                }
            })?,
            None => self.build_sandbox_maker()?,
        };
        maker.call(options.random_seed)
    }

    /// Run the builder once: make the maker, and record the sandbox environments'
    /// metatable and the sandboxes' string metatable in the state.
    fn build_sandbox_maker(&self) -> Result<Function> {
        let builder = self.load(SANDBOX_BUILDER).set_name("=sandbox").into_function()?;
        let (string_mt, new_generator, open_buffer, spec) = self.with_state(|st, raw| {
            let mt = st.type_mts[type_index(LuaType::String)].map_or(Raw::NIL, Raw::table);
            let mt = super::value::Value::from_raw(self, st, raw, mt)?;
            let f = st
                .new_native(crate::stdlib::math::new_generator, crate::stdlib::FF_NEW_GENERATOR, 0)
                .map_err(|_| mem_error())?;
            let f = super::value::Value::from_raw(self, st, raw, Raw::function(f))?;
            let ob = st
                .new_native(crate::stdlib::buffer::open_module, crate::stdlib::FF_OPEN_BUFFER, 0)
                .map_err(|_| mem_error())?;
            let ob = super::value::Value::from_raw(self, st, raw, Raw::function(ob))?;
            let spec = sandbox_spec(st).map_err(|_| mem_error())?;
            let spec = super::value::Value::from_raw(self, st, raw, Raw::table(spec))?;
            Ok((mt, f, ob, spec))
        })?;
        let (maker, env_mt, sandbox_string_mt): (Function, Table, Option<Table>) =
            builder.call((self.globals(), string_mt, new_generator, open_buffer, spec))?;
        let (maker_v, env_mt_v) = (maker.0.val, env_mt.0.val);
        let string_mt_v = sandbox_string_mt.as_ref().map(|t| t.0.val);
        self.with_state(|st, raw| {
            // Kept alive for the state's life by refs that are never released.
            raw.make_ref(st, maker_v)?;
            raw.make_ref(st, env_mt_v)?;
            if let Some(smt) = string_mt_v {
                raw.make_ref(st, smt)?;
            }
            st.sandbox_strings = env_mt_v
                .as_table()
                .map(|env_mt| (env_mt, string_mt_v.and_then(Raw::as_table)));
            Ok(())
        })?;
        self.raw().sandbox_maker.set(Some(maker_v));
        Ok(maker)
    }
}

/// Whether `env` is a sandbox environment (made by [`Lua::create_sandbox`]): all of
/// them share one protected metatable.
pub(crate) fn is_sandbox_env(st: &crate::vm::state::State, env: crate::object::GcRef<crate::table::GcTable>) -> bool {
    matches!(st.sandbox_strings, Some((mt, _)) if env.metatable == Some(mt))
}

/// The builder's lists, derived from the sandbox column of `stdlib::LIB_FUNCS`, and
/// its messages, from `errmsg.rs`: a table with
/// - `base`: the names of the base functions sandboxes share;
/// - `libs`: the globals of the libraries that have a shared function;
/// - `leave_out`: a set of the function values in those libraries (as the globals
///   hold them now) whose row says `Own` or `Absent`;
/// - `msg`: `read_only`, and `{before, after}` around the argument of
///   `require_arg` (a type name), `require_missing` (a module name) and
///   `gc_option` (an option).
fn sandbox_spec(st: &mut State) -> LResult<GcRef<GcTable>> {
    // Allocations never collect (only safe points do), so the tables made here
    // need no rooting until the caller turns `spec` into a handle.
    let spec = st.new_table(0, 4)?;
    let base = st.new_table(32, 0)?;
    set_field(st, spec, b"base", Raw::table(base))?;
    for (i, r) in shared_rows(Lib::Base).enumerate() {
        let name = st.str_value(r.name.as_bytes())?;
        st.table_set(base, Raw::number((i + 1) as f64), name)?;
    }
    let libs = st.new_table(8, 0)?;
    set_field(st, spec, b"libs", Raw::table(libs))?;
    let leave_out = st.new_table(0, 4)?;
    set_field(st, spec, b"leave_out", Raw::table(leave_out))?;
    let mut n = 0;
    for (lib, name, _) in LIBRARIES {
        if shared_rows(lib).next().is_none() {
            continue;
        }
        n += 1;
        let key = st.str_value(name.as_bytes())?;
        st.table_set(libs, Raw::number(n as f64), key)?;
        let Some(t) = st.get_global(name)?.as_table() else {
            continue;
        };
        let mut k = Raw::NIL;
        while let Ok(Some((next, v))) = t.next(k) {
            let ffid = crate::stdlib::ffid_of(v);
            if lib_func(ffid).is_some_and(|r| r.sandbox != Sandbox::Shared) {
                st.table_set(leave_out, v, Raw::TRUE)?;
            }
            k = next;
        }
    }
    let msg = st.new_table(0, 4)?;
    set_field(st, spec, b"msg", Raw::table(msg))?;
    let read_only = st.str_value(errmsg::SANDBOX_READ_ONLY.as_bytes())?;
    set_field(st, msg, b"read_only", read_only)?;
    let type_expected = errmsg::format(errmsg::TYPE_EXPECTED, &[&"string", &"%s"]);
    let require_arg = errmsg::format(errmsg::BAD_ARGUMENT, &[&1, &"require", &type_expected]);
    let not_found = format!("{} {}", errmsg::MODULE_NOT_FOUND, errmsg::SANDBOX_REQUIRE);
    for (field, template) in [
        (&b"require_arg"[..], require_arg.as_str()),
        (b"require_missing", not_found.as_str()),
        (b"gc_option", errmsg::SANDBOX_GC_OPTION),
    ] {
        let (before, after) = template.split_once("%s").unwrap_or((template, ""));
        let pair = st.new_table(2, 0)?;
        set_field(st, msg, field, Raw::table(pair))?;
        let before = st.str_value(before.as_bytes())?;
        st.table_set(pair, Raw::number(1.0), before)?;
        let after = st.str_value(after.as_bytes())?;
        st.table_set(pair, Raw::number(2.0), after)?;
    }
    Ok(spec)
}

fn set_field(st: &mut State, t: GcRef<GcTable>, name: &[u8], v: Raw) -> LResult<()> {
    let k = st.str_value(name)?;
    st.table_set(t, k, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lua::state::{LuaOptions, StdLib};
    use crate::stdlib::{FF_MATH_RANDOM, FF_MATH_RANDOMSEED, LIB_FUNCS};

    /// The global a row's function is a field of (`""`: the globals themselves), or
    /// `None` for rows that are not fields of a global library (file and buffer
    /// methods, modules behind `require`, functions made at run time).
    fn home(lib: Lib) -> Option<&'static str> {
        match lib {
            Lib::Base => Some(""),
            // Not a global (only `require` finds it); tests/ffi_cdata.rs checks that
            // no sandbox has it.
            Lib::Ffi => None,
            _ => LIBRARIES.iter().find(|(l, _, _)| *l == lib).map(|(_, name, _)| *name),
        }
    }

    /// Every row with a home is in a sandbox as its `sandbox` column says: shared
    /// (the host's own function), the sandbox's own (another function) or absent.
    /// The column itself is a required argument of every row (`stdlib::row`), so a
    /// row without a decision does not compile.
    #[test]
    fn every_row_is_in_a_sandbox_as_its_decision_says() {
        let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new()).unwrap();
        let env = lua.create_sandbox().unwrap();
        let check = lua
            .load(
                r#"
                local env, lib, name, decision = ...
                local host = lib == "" and _G or _G[lib]
                local mine = lib == "" and env or env[lib]
                local h = host[name]
                local m = mine and mine[name]
                if decision == "Shared" then return h ~= nil and rawequal(h, m) end
                if decision == "Own" then return type(m) == "function" and not rawequal(h, m) end
                return m == nil
                "#,
            )
            .into_function()
            .unwrap();
        let mut checked = 0;
        for r in LIB_FUNCS {
            let Some(lib) = home(r.lib) else { continue };
            let ok: bool = check
                .call((env.clone(), lib, r.name, format!("{:?}", r.sandbox)))
                .unwrap();
            assert!(ok, "{lib}.{} is not {:?} in a sandbox", r.name, r.sandbox);
            checked += 1;
        }
        assert!(checked > 140, "{checked}");
        // The rows made at run time that a library holds.
        for (ffid, name) in [(FF_MATH_RANDOM, "random"), (FF_MATH_RANDOMSEED, "randomseed")] {
            let r = lib_func(ffid).unwrap();
            let ok: bool = check
                .call((env.clone(), "math", name, format!("{:?}", r.sandbox)))
                .unwrap();
            assert!(ok, "math.{name} is not {:?} in a sandbox", r.sandbox);
        }
    }

    /// The libraries a sandbox copies are those with a shared row, and no library
    /// that reaches outside the state has one.
    #[test]
    fn sandboxes_copy_the_libraries_with_shared_rows() {
        let copied: Vec<&str> = LIBRARIES
            .iter()
            .filter(|(lib, _, _)| shared_rows(*lib).next().is_some())
            .map(|(_, name, _)| *name)
            .collect();
        assert_eq!(copied, ["coroutine", "string", "table", "math", "bit"]);
    }
}
