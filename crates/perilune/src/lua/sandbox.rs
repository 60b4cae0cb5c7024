//! Sandboxes: per-script global environments over frozen, read-only libraries.
//!
//! [`Lua::create_sandbox`] returns a fresh environment table `E` for one script:
//! - reads of names `E` does not have go (through a protected metatable) to a hidden
//!   table of safe base functions, copied once per state;
//! - each library (`string`, `table`, `math`, `coroutine`, `bit`) is a new empty
//!   proxy stored in `E` whose protected metatable reads through to a hidden, frozen
//!   copy of the library and raises an error on any assignment, so `string.rep = nil`
//!   fails and `rawset(string, ...)` can only change this script's own proxy;
//! - `_G` is `E`; `load`/`loadstring` give the chunks they load `E` as environment
//!   and refuse binary chunks (mode `"t"`), even in a trusted state;
//!   `getmetatable` hides the string metatable; `collectgarbage` only allows
//!   `collect`, `count` and `step`; `getfenv`/`setfenv` (which would reach the real
//!   globals), `dofile`, `loadfile` and `module`/`require` are absent.
//!
//! Assignments to globals land in `E` itself, so scripts in different sandboxes
//! cannot see or change each other's globals or the libraries the others use.

use crate::value::Value as Raw;

use super::error::Result;
use super::function::Function;
use super::state::Lua;
use super::table::Table;

const SANDBOX_BUILDER: &str = r#"
local G = ...
local setmetatable, getmetatable, rawset, error, type, pairs, ipairs, tostring =
      G.setmetatable, G.getmetatable, G.rawset, G.error, G.type, G.pairs, G.ipairs, G.tostring
local loadstring, load, setfenv, collectgarbage = G.loadstring, G.load, G.setfenv, G.collectgarbage

local function read_only()
  error("attempt to modify a read-only table", 2)
end

local libs = {}
for _, name in ipairs({ "string", "table", "math", "coroutine", "bit" }) do
  local lib = G[name]
  if type(lib) == "table" then
    local copy = {}
    for k, v in pairs(lib) do
      -- string.dump exposes bytecode; math.randomseed would let one script steer
      -- the random numbers another one sees.
      if k ~= "dump" and k ~= "randomseed" then copy[k] = v end
    end
    libs[name] = { __index = copy, __newindex = read_only, __metatable = false }
  end
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

return function()
  local env = setmetatable({}, env_mt)
  for name, mt in pairs(libs) do
    rawset(env, name, setmetatable({}, mt))
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
  rawset(env, "collectgarbage", function(opt, arg)
    if opt == nil or opt == "collect" or opt == "count" or opt == "step" then
      return collectgarbage(opt, arg)
    end
    error("collectgarbage option '" .. tostring(opt) .. "' is not allowed here", 2)
  end)
  return env
end
"#;

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
    /// assert_eq!(lua.load("return ('ab'):rep(2)").set_environment(b).eval::<String>()?, "abab");
    /// assert!(lua.globals().get::<_, Option<i32>>("x")?.is_none());
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn create_sandbox(&self) -> Result<Table<'_>> {
        let maker = match self.raw().sandbox_maker.get() {
            Some(v) => self.with_state(|st, raw| {
                let f = super::value::Value::from_raw(self, st, raw, v)?;
                match f {
                    super::value::Value::Function(f) => Ok(f),
                    _ => Err(super::error::Error::RuntimeError("sandbox maker lost".into())),
                }
            })?,
            None => {
                let builder = self.load(SANDBOX_BUILDER).set_name("=sandbox").into_function()?;
                let maker: Function = builder.call(self.globals())?;
                let v: Raw = maker.0.val;
                // Kept alive for the state's life by a ref that is never released.
                self.with_state(|st, raw| raw.make_ref(st, v))?;
                self.raw().sandbox_maker.set(Some(v));
                maker
            }
        };
        maker.call(())
    }
}
