//! Embedding API: which kinds of chunk `Lua::load` accepts (issue 14, item 9).
//!
//! A trusted state loads binary chunks (`string.dump` output), and the host had no
//! way to refuse them for one chunk, e.g. one that came from a user. `Chunk::set_mode`
//! takes `ChunkMode::{Text, Binary, TextOrBinary}`, like `load`'s mode argument; a
//! chunk whose environment is a sandbox is text only unless the host says otherwise.
//! A chunk of the wrong kind fails with the message LuaJIT's `load` gives.

use perilune::{ChunkMode, Lua, LuaOptions, StdLib};

fn trusted() -> Lua {
    Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new()).unwrap()
}

fn dumped(lua: &Lua) -> Vec<u8> {
    lua.load("return string.dump(function() return 42 end)")
        .eval::<perilune::LuaString>()
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// What `load` itself says for a binary chunk under mode "t" in this state (LuaJIT
/// 2.1: "attempt to load chunk with wrong mode").
fn load_message(lua: &Lua) -> String {
    lua.load("return select(2, load(string.dump(function() end), nil, 't'))")
        .eval::<String>()
        .unwrap()
}

#[test]
fn wrong_mode_message_is_luajits() {
    let lua = trusted();
    assert_eq!(load_message(&lua), "attempt to load chunk with wrong mode");
    // The oracle, when installed.
    if let Ok(out) = std::process::Command::new("luajit")
        .args(["-e", "io.write(select(2, load(string.dump(function() end), nil, 't')))"])
        .output()
    {
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), load_message(&lua));
        }
    }
}

#[test]
fn a_trusted_host_can_refuse_binary_chunks() {
    let lua = trusted();
    let bin = dumped(&lua);
    // Default in a trusted state: both kinds.
    assert_eq!(lua.load(bin.clone()).eval::<i32>().unwrap(), 42);
    assert_eq!(
        lua.load(&bin[..])
            .set_mode(ChunkMode::TextOrBinary)
            .eval::<i32>()
            .unwrap(),
        42
    );
    assert_eq!(
        lua.load(&bin[..]).set_mode(ChunkMode::Binary).eval::<i32>().unwrap(),
        42
    );
    // Text only: the binary chunk is refused, with load's message.
    let e = lua.load(&bin[..]).set_mode(ChunkMode::Text).exec().unwrap_err();
    assert!(e.to_string().contains(&load_message(&lua)), "{e}");
    let e = lua
        .load(&bin[..])
        .set_mode(ChunkMode::Text)
        .into_function()
        .unwrap_err();
    assert!(e.to_string().contains("wrong mode"), "{e}");
    // Text still works in text mode, and is refused in binary mode.
    assert_eq!(lua.load("return 7").set_mode(ChunkMode::Text).eval::<i32>().unwrap(), 7);
    assert_eq!(lua.load("1 + 1").set_mode(ChunkMode::Text).eval::<i32>().unwrap(), 2);
    let e = lua.load("return 7").set_mode(ChunkMode::Binary).exec().unwrap_err();
    assert!(e.to_string().contains("wrong mode"), "{e}");
    let e = lua.load("1 + 1").set_mode(ChunkMode::Binary).eval::<i32>().unwrap_err();
    assert!(e.to_string().contains("wrong mode"), "{e}");
}

#[test]
fn chunks_for_a_sandbox_are_text_only_by_default() {
    let lua = trusted();
    let bin = dumped(&lua);
    let sb = lua.create_sandbox().unwrap();
    let e = lua.load(&bin[..]).set_environment(sb.clone()).exec().unwrap_err();
    assert!(e.to_string().contains("wrong mode"), "{e}");
    let e = lua
        .load(&bin[..])
        .set_environment(sb.clone())
        .eval::<i32>()
        .unwrap_err();
    assert!(e.to_string().contains("wrong mode"), "{e}");
    // Text loads as before.
    assert_eq!(
        lua.load("return 5").set_environment(sb.clone()).eval::<i32>().unwrap(),
        5
    );
    // The host can opt in explicitly.
    let n: i32 = lua
        .load(&bin[..])
        .set_environment(sb.clone())
        .set_mode(ChunkMode::TextOrBinary)
        .eval()
        .unwrap();
    assert_eq!(n, 42);
    // An environment that is not a sandbox keeps the state's policy.
    let plain = lua.create_table().unwrap();
    assert_eq!(lua.load(&bin[..]).set_environment(plain).eval::<i32>().unwrap(), 42);
}

#[test]
fn a_safe_state_refuses_binary_chunks_whatever_the_mode() {
    let lua = Lua::new();
    let bin = dumped(&trusted());
    for mode in [ChunkMode::Binary, ChunkMode::TextOrBinary] {
        let e = lua.load(&bin[..]).set_mode(mode).exec().unwrap_err();
        assert!(e.to_string().contains("attempt to load a binary chunk"), "{e}");
    }
    let e = lua.load(&bin[..]).set_mode(ChunkMode::Text).exec().unwrap_err();
    assert!(e.to_string().contains("wrong mode"), "{e}");
    assert_eq!(lua.load("return 3").set_mode(ChunkMode::Text).eval::<i32>().unwrap(), 3);
}
