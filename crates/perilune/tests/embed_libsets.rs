//! Library sets: what `Lua::new`, `Lua::new_with`, `Lua::new_trusted` and the finer
//! `StdLib` subsets open, and what a sandbox exposes (pinned in
//! `tests/stdlib/sandbox.expected`, derived from the one table of library functions).
//!
//! `PERILUNE_BLESS=1` rewrites the expected file.

use perilune::{Lua, LuaOptions, StdLib, Table, Value};

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

/// Compares `text` with the file `tests/stdlib/<name>`, or writes it with
/// `PERILUNE_BLESS=1`.
fn check_expected(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stdlib").join(name);
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

#[test]
fn a_sandbox_exposes_what_it_did() {
    let mut text = String::new();
    for line in sandbox_listing() {
        text.push_str(&line);
        text.push('\n');
    }
    check_expected("sandbox.expected", &text);
}

#[allow(dead_code)]
fn is_nil(lua: &Lua, expr: &str) -> bool {
    lua.load(format!("return {expr}")).eval::<Value>().expect("eval").is_nil()
}
