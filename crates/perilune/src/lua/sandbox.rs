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

use crate::value::{LuaType, Value as Raw};
use crate::vm::state::type_index;

use super::error::Result;
use super::function::Function;
use super::state::mem_error;
use super::state::Lua;
use super::table::Table;

const SANDBOX_BUILDER: &str = r#"
local G, string_mt, new_generator, open_buffer = ...
local setmetatable, getmetatable, rawset, error, type, pairs, ipairs, tostring =
      G.setmetatable, G.getmetatable, G.rawset, G.error, G.type, G.pairs, G.ipairs, G.tostring
local loadstring, load, setfenv, collectgarbage = G.loadstring, G.load, G.setfenv, G.collectgarbage
local rawget = G.rawget

local function read_only()
  error("attempt to modify a read-only table", 2)
end

local libs, copies = {}, {}
for _, name in ipairs({ "string", "table", "math", "coroutine", "bit" }) do
  local lib = G[name]
  if type(lib) == "table" then
    local copy = {}
    for k, v in pairs(lib) do
      -- string.dump exposes bytecode; each sandbox gets its own math.random below.
      -- math.randomseed stays out: with a generator per sandbox it could only steer
      -- the script's own numbers, but a host wanting reproducible runs seeds them.
      if k ~= "dump" and k ~= "randomseed" and not (name == "math" and k == "random") then
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
for _, name in ipairs({
  "assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget",
  "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall",
  "newproxy", "gcinfo", "_VERSION",
}) do
  base[name] = G[name]
end
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
      error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
    end
    local m = loaded[name]
    if m == nil and name == "string.buffer" and open_buffer and copies.string then
      m = open_buffer()
      loaded[name] = m
    end
    if m == nil then
      error("module '" .. name .. "' not found: a sandbox can only require its own libraries and 'string.buffer'", 2)
    end
    return m
  end)
  rawset(env, "collectgarbage", function(opt, arg)
    if opt == nil or opt == "collect" or opt == "count" or opt == "step" then
      return collectgarbage(opt, arg)
    end
    error("collectgarbage option '" .. tostring(opt) .. "' is not allowed here", 2)
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
    /// assert!(lua.globals().get::<_, Option<i32>>("x")?.is_none());
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
        let (string_mt, new_generator, open_buffer) = self.with_state(|st, raw| {
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
            Ok((mt, f, ob))
        })?;
        let (maker, env_mt, sandbox_string_mt): (Function, Table, Option<Table>) =
            builder.call((self.globals(), string_mt, new_generator, open_buffer))?;
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
