//! Embedding API: what a sandboxed script must not reach (issue 14, item 8).
//!
//! - `string.dump` (it shows the bytecode and constants of any Lua function the
//!   script can get hold of, the host's included) is absent from a sandbox by every
//!   path: the `string` proxy, method syntax on a string (`("").dump`), the string
//!   metatable, a table whose `__index` is a string, native code that indexes on the
//!   script's behalf, coroutines and chunks loaded inside the sandbox.
//! - Each sandbox has its own `math.random` generator, seeded from the system's
//!   randomness, so one script can neither predict nor steer another's numbers;
//!   `SandboxOptions::random_seed` makes it deterministic instead.

use perilune::{Lua, SandboxOptions, Table};

fn eval<R: perilune::FromLuaMulti>(lua: &Lua, env: &Table, src: &str) -> R {
    lua.load(src)
        .set_environment(env.clone())
        .eval::<R>()
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// Every way to reach `dump` from inside a sandbox gives nil.
const DUMP_PATHS: &[&str] = &[
    "return string.dump",
    "return ('').dump",
    "return ('x').dump",
    "local s = 'abc' return s.dump",
    "return (('abc'):upper()).dump",
    "return getmetatable('')",
    "return setmetatable({}, { __index = '' }).dump",
    "return setmetatable({}, { __index = setmetatable({}, { __index = 'x' }) }).dump",
    "return coroutine.wrap(function() return ('').dump end)()",
    "return select(2, pcall(function() return ('').dump end))",
    "return loadstring(\"return ('').dump\")()",
    "return load(\"return ('').dump\")()",
    "local t = {} for k, v in pairs(string) do t[#t + 1] = k end return nil",
    "local f = function() return ('').dump end return f()",
];

#[test]
fn dump_is_unreachable_in_a_sandbox() {
    let lua = Lua::new();
    let sb = lua.create_sandbox().unwrap();
    for src in DUMP_PATHS {
        let v: perilune::Value = eval(&lua, &sb, src);
        assert!(matches!(v, perilune::Value::Nil), "{src} gave {v:?}");
    }
    // Calling it by method syntax fails as calling any missing method does.
    let e = lua
        .load("local function f() return 1 end return ('').dump(f)")
        .set_environment(sb.clone())
        .exec()
        .unwrap_err();
    assert!(
        e.to_string().contains("attempt to call field 'dump' (a nil value)"),
        "{e}"
    );
    // A native function that indexes on the script's behalf: gsub with a table whose
    // `__index` is a string looks up the match "dump" through the string metatable.
    // It must find nothing (with `dump` it would raise "invalid replacement value").
    let s: String = eval(
        &lua,
        &sb,
        "return (('dump'):gsub('%a+', setmetatable({}, { __index = '' })))",
    );
    assert_eq!(s, "dump");
}

#[test]
fn string_methods_still_work_in_a_sandbox() {
    let lua = Lua::new();
    let sb = lua.create_sandbox().unwrap();
    let s: String = eval(
        &lua,
        &sb,
        "local s = 'ab' return s:rep(2) .. s:upper() .. ('%d'):format(7) .. ('x'):byte() .. #s:sub(2)",
    );
    assert_eq!(s, "ababAB71201");
    let s: String = eval(&lua, &sb, "return coroutine.wrap(function() return ('q'):rep(3) end)()");
    assert_eq!(s, "qqq");
    let s: String = eval(&lua, &sb, "return loadstring(\"return ('a'):upper()\")()");
    assert_eq!(s, "A");
}

#[test]
fn the_host_keeps_its_string_methods() {
    let lua = Lua::new();
    let a = lua.create_sandbox().unwrap();
    let b = lua.create_sandbox().unwrap();
    assert_eq!(eval::<String>(&lua, &a, "return type(('').dump)"), "nil");
    // The host's own code (global environment) still sees the real library.
    let t: String = lua.load("return type(('').dump)").eval().unwrap();
    assert_eq!(t, "function");
    let t: String = lua.load("return type(getmetatable('').__index.dump)").eval().unwrap();
    assert_eq!(t, "function");
    // A host function called from a sandbox runs with the host's view.
    let host_fn = lua
        .load("return function() return type(('').dump) end")
        .eval::<perilune::Function>()
        .unwrap();
    a.set("host_fn", host_fn).unwrap();
    assert_eq!(eval::<String>(&lua, &a, "return host_fn()"), "function");
    // A sandbox function called by the host keeps the sandbox's view.
    let sb_fn: perilune::Function = eval(&lua, &b, "return function() return type(('').dump) end");
    assert_eq!(sb_fn.call::<String>(()).unwrap(), "nil");
    // Another state is not affected at all.
    let other = Lua::new();
    let t: String = other.load("return type(('').dump)").eval().unwrap();
    assert_eq!(t, "function");
}

/// The first `n` numbers of a sandbox's `math.random()`.
fn draws(lua: &Lua, sb: &Table, n: usize) -> Vec<f64> {
    (0..n).map(|_| eval::<f64>(lua, sb, "return math.random()")).collect()
}

#[test]
fn sandboxes_have_independent_unpredictable_generators() {
    // Two states' sandboxes: with one fixed-seed generator they drew the same numbers
    // (LuaJIT's unseeded sequence), so a script could predict them.
    let (l1, l2) = (Lua::new(), Lua::new());
    let (s1, s2) = (l1.create_sandbox().unwrap(), l2.create_sandbox().unwrap());
    let (d1, d2) = (draws(&l1, &s1, 4), draws(&l2, &s2, 4));
    assert_ne!(d1, d2);
    let host: Vec<f64> = l1
        .load("return {math.random(), math.random(), math.random(), math.random()}")
        .eval::<Vec<f64>>()
        .unwrap();
    assert_ne!(d1, host);
    // Two sandboxes in one state have different generators too.
    let s3 = l1.create_sandbox().unwrap();
    assert_ne!(draws(&l1, &s1, 4), draws(&l1, &s3, 4));
    // Numbers are still in range.
    for _ in 0..100 {
        let (x, k): (f64, i64) = eval(&l1, &s1, "return math.random(), math.random(6)");
        assert!((0.0..1.0).contains(&x), "{x}");
        assert!((1..=6).contains(&k), "{k}");
    }
}

#[test]
fn a_sandbox_cannot_steer_another_sandbox_or_the_host() {
    let lua = Lua::new();
    let opts = || SandboxOptions::new().random_seed(42.0);
    let reference = {
        let r = Lua::new();
        let sb = r.create_sandbox_with(opts()).unwrap();
        draws(&r, &sb, 6)
    };
    let host_reference: Vec<f64> = Lua::new()
        .load("return {math.random(), math.random(), math.random()}")
        .eval()
        .unwrap();
    let a = lua.create_sandbox_with(opts()).unwrap();
    let b = lua.create_sandbox().unwrap();
    let mut got = Vec::new();
    for _ in 0..6 {
        got.push(eval::<f64>(&lua, &a, "return math.random()"));
        // The other sandbox draws in between, and cannot reseed anything.
        eval::<()>(&lua, &b, "math.random() math.random(10) assert(math.randomseed == nil)");
    }
    assert_eq!(got, reference);
    // The host's generator did not move either: it still starts where LuaJIT's does.
    let host: Vec<f64> = lua
        .load("return {math.random(), math.random(), math.random()}")
        .eval()
        .unwrap();
    assert_eq!(host, host_reference);
}

#[test]
fn deterministic_random_option_is_reproducible() {
    let seq = |seed: f64| {
        let lua = Lua::new();
        let sb = lua
            .create_sandbox_with(SandboxOptions::new().random_seed(seed))
            .unwrap();
        draws(&lua, &sb, 5)
    };
    assert_eq!(seq(7.0), seq(7.0));
    assert_ne!(seq(7.0), seq(8.0));
    // The sequence is the one `math.randomseed(seed)` gives (LuaJIT's, for that seed).
    let lua = Lua::new();
    let want: Vec<f64> = lua
        .load("math.randomseed(7) local t = {} for i = 1, 5 do t[i] = math.random() end return t")
        .eval()
        .unwrap();
    assert_eq!(seq(7.0), want);
    // The option seeds only the generator of the sandbox it made.
    let seeded = lua.create_sandbox_with(SandboxOptions::new().random_seed(7.0)).unwrap();
    let other = lua.create_sandbox().unwrap();
    assert_ne!(draws(&lua, &other, 5), want);
    assert_eq!(draws(&lua, &seeded, 5), want);
}
