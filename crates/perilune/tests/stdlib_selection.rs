//! Which globals and library fields each standard-library selection opens, with their
//! types and fast-function ids (`builtin#N`), compared with
//! `tests/stdlib/fields.expected`. The libraries open from one table of functions
//! (`crates/perilune/src/stdlib/mod.rs`); this pins down that every selection still
//! opens exactly what it did and that every function keeps the id `tostring` shows.
//!
//! What a sandbox exposes by name is pinned the same way, in
//! `tests/stdlib/sandbox.expected`: its lists are derived from the library table's
//! `sandbox` column (`lua/sandbox.rs`), and this shows what they give.
//!
//! `PERILUNE_BLESS=1` rewrites the expected files.

use perilune::{Lua, LuaOptions, StdLib, Table};

/// Collects `path type tostring` for everything reachable from the globals through
/// plain tables (each table once), the string metatable, the names in
/// `package.loaded`/`package.preload`, the `jit.*` and `string.buffer` modules and
/// the file methods. Only base functions are used: every selection has them.
const LISTER: &str = r#"
local out, seen = {}, {}
local function walk(prefix, t, depth)
  if seen[t] or depth > 3 then return end
  seen[t] = true
  for k, v in pairs(t) do
    local path = prefix .. tostring(k)
    out[#out + 1] = path .. " " .. type(v) .. " " .. tostring(v)
    if type(v) == "table" and k ~= "loaded" and k ~= "preload" then
      walk(path .. ".", v, depth + 1)
    end
  end
end
walk("", _G, 0)
local smt = getmetatable("")
if smt then walk("@string_mt.", smt, 0) end
if type(package) == "table" then
  for k in pairs(package.loaded) do out[#out + 1] = "package.loaded[" .. k .. "]" end
  for k in pairs(package.preload) do out[#out + 1] = "package.preload[" .. k .. "]" end
end
if type(require) == "function" then
  for _, m in ipairs({ "jit.util", "jit.profile", "string.buffer" }) do
    local ok, t = pcall(require, m)
    if ok and type(t) == "table" then walk("require'" .. m .. "'.", t, 0) end
  end
  local ok, b = pcall(require, "string.buffer")
  if ok and type(b) == "table" then
    walk("@buffer_mt.", getmetatable(b.new()) and debug and debug.getmetatable(b.new()) or {}, 0)
  end
end
if type(debug) == "table" then
  walk("@FILE*_mt.", debug.getregistry()["FILE*"] or {}, 0)
end
return out
"#;

fn selections() -> Vec<(&'static str, StdLib)> {
    vec![
        ("NONE", StdLib::NONE),
        ("COROUTINE", StdLib::COROUTINE),
        ("TABLE", StdLib::TABLE),
        ("IO", StdLib::IO),
        ("OS", StdLib::OS),
        ("STRING", StdLib::STRING),
        ("MATH", StdLib::MATH),
        ("PACKAGE", StdLib::PACKAGE),
        ("BIT", StdLib::BIT),
        ("JIT", StdLib::JIT),
        ("DEBUG", StdLib::DEBUG),
        ("BASE_FILES", StdLib::BASE_FILES),
        ("JIT|PACKAGE", StdLib::JIT | StdLib::PACKAGE),
        ("STRING|PACKAGE|DEBUG", StdLib::STRING | StdLib::PACKAGE | StdLib::DEBUG),
        ("OS_TIME", StdLib::OS_TIME),
        ("ISOLATED|OS_TIME", StdLib::ISOLATED | StdLib::OS_TIME),
        ("ISOLATED", StdLib::ISOLATED),
        ("ALL_SAFE", StdLib::ALL_SAFE),
        ("ALL_TRUSTED", StdLib::ALL_TRUSTED),
    ]
}

/// `tostring` of a function, reduced to what is stable: `builtin#N` or `function`.
fn stable(line: &str) -> String {
    let mut parts = line.splitn(3, ' ');
    let (path, ty, text) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
    match text {
        None => path.to_string(),
        // Addresses, versions and paths differ between runs and machines.
        Some(t) => match t.find("builtin#") {
            Some(i) => format!("{path} {ty} {}", &t[i..]),
            None => format!("{path} {ty}"),
        },
    }
}

fn listing(libs: StdLib) -> Vec<String> {
    let lua = Lua::new_trusted(libs, LuaOptions::new().ignore_env_vars(true)).expect("state");
    let t: perilune::Table = lua.load(LISTER).eval().expect("lister");
    let mut out: Vec<String> = t
        .sequence_values::<String>()
        .map(|s| stable(&s.expect("line")))
        .collect();
    out.sort();
    out
}

#[test]
fn every_selection_opens_what_it_did() {
    let mut text = String::new();
    for (name, libs) in selections() {
        text.push_str(&format!("== {name}\n"));
        for line in listing(libs) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    check_expected("fields.expected", &text);
}

/// Compares `text` with the file `tests/stdlib/<name>`, or writes it with
/// `PERILUNE_BLESS=1`.
fn check_expected(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/stdlib")
        .join(name);
    if std::env::var_os("PERILUNE_BLESS").is_some() {
        std::fs::write(&path, text).expect("write expected");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("read expected");
    if expected != text {
        let diff: Vec<String> = expected
            .lines()
            .filter(|l| !text.lines().any(|m| m == *l))
            .map(|l| format!("- {l}"))
            .chain(
                text.lines()
                    .filter(|l| !expected.lines().any(|m| m == *l))
                    .map(|l| format!("+ {l}")),
            )
            .collect();
        panic!("{name} changed:\n{}", diff.join("\n"));
    }
}

/// Lists what a sandbox `env` exposes by name: its own fields, the hidden base table
/// behind its metatable, each library proxy's hidden copy, the sandbox's
/// `string.buffer` and what method syntax on a string finds there. Each line:
/// `path type [builtin#N] [host]`, `host` when the value is the host's own value at
/// the same path (shared), so a function the sandbox replaces shows without it.
const SANDBOX_LISTER: &str = r#"
local env, G, by_method = ...
local out = {}
local function stable(v)
  local s = tostring(v)
  local i = s:find("builtin#", 1, true)
  return i and (" " .. s:sub(i)) or ""
end
local function walk(prefix, t, host)
  for k, v in pairs(t) do
    local line = prefix .. tostring(k) .. " " .. type(v)
    if type(v) == "function" then line = line .. stable(v) end
    if type(host) == "table" and rawequal(rawget(host, k), v) then line = line .. " host" end
    out[#out + 1] = line
  end
end
walk("", env, G)
walk("", debug.getmetatable(env).__index, G)
for k, v in pairs(env) do
  if type(v) == "table" and k ~= "_G" then
    walk(k .. ".", debug.getmetatable(v).__index, G[k])
  end
end
walk("(''):", by_method, G.string)
local buf = env.require("string.buffer")
walk("require'string.buffer'.", buf, nil)
return out
"#;

fn sandbox_listing() -> Vec<String> {
    let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new().ignore_env_vars(true)).expect("state");
    let env = lua.create_sandbox().expect("sandbox");
    // What `("")[k]` finds in a sandbox for each field of the host's `string` (in a
    // second sandbox, given the names by the host, so the listed one stays as made).
    let other = lua.create_sandbox().expect("sandbox");
    let names: Table = lua
        .load("local t = {} for k in pairs(string) do t[#t + 1] = k end return t")
        .eval()
        .expect("names");
    other.set("names", names).expect("set");
    let by_method: Table = lua
        .load("local t = {} for _, k in ipairs(names) do t[k] = (''):rep(0)[k] end return t")
        .set_environment(other)
        .eval()
        .expect("string methods in a sandbox");
    let t: Table = lua
        .load(SANDBOX_LISTER)
        .call((env, lua.globals(), by_method))
        .expect("lister");
    let mut out: Vec<String> = t.sequence_values::<String>().map(|s| s.expect("line")).collect();
    out.sort();
    out
}

#[test]
fn a_sandbox_exposes_what_it_did() {
    let mut text = String::new();
    for line in sandbox_listing() {
        text.push_str(&line);
        text.push('\n');
    }
    check_expected("sandbox.expected", &text);
}
