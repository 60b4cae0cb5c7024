//! `string.buffer` seen from a host: which states have it (a preloaded module with
//! `package`, a sandbox's `require`), the memory limit and the instruction budget
//! over its operations, and its decoder on random input. The Lua-level behaviour
//! is in `tests/lua/string_buffer/` (expected output from LuaJIT), the wire format
//! against `luajit` in `perilune-cli/tests/buffer_interop.rs`.

use perilune::{Error, Lua, LuaOptions, StdLib};

fn trusted() -> Lua {
    Lua::new_trusted(StdLib::ISOLATED | StdLib::PACKAGE, LuaOptions::new()).expect("state")
}

/// The Lua predicate "is this one of the decoder's errors" shared with the
/// `buffer_decode` fuzz target.
fn decoder_errors(lua: &Lua) -> perilune::Function {
    let source = include_str!("data/buffer_decoder_errors.lua");
    lua.load(source)
        .set_name("=buffer_decoder_errors")
        .eval()
        .expect("predicate")
}

#[test]
fn preloaded_with_package_not_a_global() {
    let lua = trusted();
    let r: (bool, bool, bool, String) = lua
        .load(
            r#"
            local b = require("string.buffer")
            return string.buffer == nil, package.loaded["string.buffer"] == b,
                   type(package.preload["string.buffer"]) == "function",
                   b.new():put("a", 1):tostring()
            "#,
        )
        .eval()
        .unwrap();
    assert_eq!(r, (true, true, true, "a1".to_string()));
    // Without the string library there is no string.buffer either.
    let lua = Lua::new_trusted(StdLib::PACKAGE, LuaOptions::new()).unwrap();
    assert!(lua.load("return require('string.buffer')").exec().is_err());
}

#[test]
fn sandboxes_require_their_own_instance() {
    let lua = Lua::new();
    let a = lua.create_sandbox().unwrap();
    let b = lua.create_sandbox().unwrap();
    let code = r#"
        local buffer = require("string.buffer")
        local s = buffer.encode({ 1, "two", { three = 3 } })
        local t = buffer.decode(s)
        return t[2] .. t[3].three .. buffer.new():put("x"):get()
    "#;
    for env in [a.clone(), b.clone()] {
        let s: String = lua.load(code).set_environment(env).eval().unwrap();
        assert_eq!(s, "two3x");
    }
    // require gives the sandbox's own libraries too.
    let same: bool = lua
        .load("return require('string') == string and require('table') == table")
        .set_environment(a.clone())
        .eval()
        .unwrap();
    assert!(same);
    // Changes to the library or the method table stay in the sandbox that made them.
    lua.load(
        r#"
        local buffer = require("string.buffer")
        buffer.encode = nil
        buffer.new().__index.put = function() error("changed") end
        "#,
    )
    .set_environment(a.clone())
    .exec()
    .unwrap();
    let s: String = lua.load(code).set_environment(b.clone()).eval().unwrap();
    assert_eq!(s, "two3x");
    assert!(lua.load(code).set_environment(a).exec().is_err());
    // Nothing else can be required.
    for name in ["io", "os", "debug", "package", "ffi", "string.buffer.x", "table.new"] {
        let e = lua
            .load(format!("return require('{name}')"))
            .set_environment(b.clone())
            .exec()
            .unwrap_err();
        assert!(e.to_string().contains("not found"), "{name}: {e}");
    }
    // The host's string library has no `buffer` field.
    assert!(lua.load("return string.buffer == nil").eval::<bool>().unwrap());
}

#[test]
fn memory_limit_applies_to_buffers() {
    let lua = trusted();
    lua.set_memory_limit(lua.used_memory() + (4 << 20)).unwrap();
    let r: (bool, String, bool, String, bool, String, bool) = lua
        .load(
            r#"
            local buffer = require("string.buffer")
            local chunk = string.rep("x", 100000)
            local b = buffer.new()
            local ok, err = pcall(function()
              for i = 1, 1000 do b:put(chunk) end
            end)
            b:free()
            -- After free the space is back: a megabyte fits again.
            local ok2 = pcall(function() b:put(string.rep("y", 1000000)) end)
            local ok3, err3 = pcall(buffer.new, 100000000)
            local big = {}
            for i = 1, 200000 do big[i] = i end
            local ok4, err4 = pcall(buffer.encode, { big, big, big, big, big })
            return ok, tostring(err), ok2, tostring(err3), ok3, tostring(err4), #b > 0
            "#,
        )
        .eval()
        .unwrap();
    assert!(!r.0);
    assert!(r.1.contains("not enough memory"), "{}", r.1);
    assert!(r.2, "the space was not given back by free");
    assert_eq!(r.3, "not enough memory");
    assert!(!r.4);
    assert!(r.5.contains("not enough memory"), "{}", r.5);
    assert!(r.6);
    // The state works after all that.
    lua.set_memory_limit(0).unwrap();
    let n: i64 = lua
        .load("local t = {} for i = 1, 100 do t[i] = i end return #t")
        .eval()
        .unwrap();
    assert_eq!(n, 100);
}

#[test]
fn budget_stops_large_encodes_and_decodes() {
    let lua = trusted();
    lua.load(
        r#"
        buffer = require("string.buffer")
        big = {}
        for i = 1, 300000 do big[i] = { i, "v" .. i } end
        "#,
    )
    .exec()
    .unwrap();
    lua.set_instruction_budget(Some(20_000)).unwrap();
    let e = lua.load("s = buffer.encode(big)").exec().unwrap_err();
    assert!(matches!(e, Error::BudgetExhausted), "{e:?}");
    lua.set_instruction_budget(None).unwrap();
    lua.load("s = buffer.encode(big)").exec().unwrap();
    lua.set_instruction_budget(Some(20_000)).unwrap();
    let e = lua.load("t = buffer.decode(s)").exec().unwrap_err();
    assert!(matches!(e, Error::BudgetExhausted), "{e:?}");
    lua.set_instruction_budget(None).unwrap();
    let n: i64 = lua.load("return #buffer.decode(s)").eval().unwrap();
    assert_eq!(n, 300000);
}

/// Random and mutated inputs (a deterministic generator) decode or fail with one
/// of LuaJIT's decoder messages, through `buffer.decode` and through buffers with
/// dictionaries; whatever decodes, encodes and decodes again.
#[test]
fn random_input_decodes_or_fails_cleanly() {
    let lua = trusted();
    lua.set_memory_limit(lua.used_memory() + (64 << 20)).unwrap();
    let n: i64 = lua
        .load(
            r#"
            local buffer = require("string.buffer")
            local MT = {}
            local opts = { dict = { "a", "bb", "" }, metatable = { MT, false } }
            local dec, enc = buffer.new(opts), buffer.new(opts)
            local is_decoder_error = ...
            local seed = 7
            local function rnd(n)
              seed = (seed * 1103515245 + 12345) % 2147483648
              return math.floor(seed / 65536) % n
            end
            local function check(ok, err)
              if ok then return true end
              assert(is_decoder_error(err), tostring(err))
              return false
            end
            -- Valid encodings to mutate, and tags to draw from.
            local valid = {
              buffer.encode({ 1, 2, { x = "y", [true] = false } }),
              enc:reset():encode(setmetatable({ a = 1, bb = { "" } }, MT)):get(),
              buffer.encode(string.rep("s", 300)),
              buffer.encode({ [0] = 0, 1.5, nil, "three", k = { {}, {} } }),
            }
            local tags = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 0x20, 0x21,
                           0xdf, 0xe0, 0xfe, 0xff }
            local decoded = 0
            for n = 1, 20000 do
              local bytes
              if n % 2 == 0 then
                bytes = {}
                for i = 1, rnd(24) do
                  bytes[i] = rnd(3) == 0 and tags[rnd(#tags) + 1] or rnd(256)
                end
              else
                bytes = { valid[rnd(#valid) + 1]:byte(1, -1) }
                for _ = 1, 1 + rnd(3) do
                  bytes[rnd(#bytes) + 1] = rnd(256)
                end
              end
              local s = string.char(unpack(bytes))
              local ok, v
              if n % 3 == 0 then
                dec:set(s)
                ok, v = pcall(dec.decode, dec)
              else
                ok, v = pcall(buffer.decode, s)
              end
              if check(ok, v) then
                decoded = decoded + 1
                local again = enc:reset():encode(v):get()
                dec:set(again)
                dec:decode()
                assert(#dec == 0)
              end
            end
            return decoded
            "#,
        )
        .call(decoder_errors(&lua))
        .unwrap();
    assert!(n > 1000, "only {n} inputs decoded");
}

/// Reads advance an offset and writes compact only when enough was consumed: a FIFO
/// that keeps 4 MB live while moving 200 000 small pieces through would move ~800 GB
/// if every `get` shifted the data (or every `put` compacted), minutes of memmove,
/// and takes a fraction of a second when both are amortized O(1).
#[test]
fn fifo_use_is_linear() {
    let lua = trusted();
    let start = std::time::Instant::now();
    let n: i64 = lua
        .load(
            r#"
            local buffer = require("string.buffer")
            local b = buffer.new()
            b:put(string.rep("x", 4000000))
            local got = 0
            for i = 1, 200000 do
              b:put("abcdefgh")
              got = got + #b:get(8)
              if i % 1000 == 0 then b:skip(0) end
            end
            for i = 1, 100000 do b:put("p") end
            for i = 1, 100000 do got = got + #b:get(1) end
            return got + #b
            "#,
        )
        .eval()
        .unwrap();
    assert_eq!(n, 1600000 + 100000 + 4000000);
    // Generous: a debug build does this in well under a second.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}
