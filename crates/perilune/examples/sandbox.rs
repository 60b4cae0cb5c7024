//! Two untrusted scripts side by side, each in its own sandbox.
//!
//! Run with `cargo run -p perilune --example sandbox`.

use perilune::{Lua, Result};

const SCRIPT_A: &str = r#"
counter = (counter or 0) + 1
-- Try to sabotage the other script.
print = function() end
local ok, err = pcall(function() coroutine.wrap = nil end)
log("A: changing a library failed: " .. tostring(err))
ok, err = pcall(function() return getfenv(0) end)
log("A: getfenv available? " .. tostring(ok))
return counter
"#;

const SCRIPT_B: &str = r#"
counter = (counter or 100) + 1
log("B: sees print = " .. type(print) .. ", coroutine.wrap = " .. type(coroutine.wrap))
return counter
"#;

fn main() -> Result<()> {
    let lua = Lua::new();
    let log = lua.create_function(|_, msg: String| {
        println!("  {msg}");
        Ok(())
    })?;

    let env_a = lua.create_sandbox()?;
    let env_b = lua.create_sandbox()?;
    env_a.set("log", log.clone())?;
    env_b.set("log", log)?;
    lua.set_memory_limit(lua.used_memory() + 8 * 1024 * 1024)?;

    for round in 1..=2 {
        println!("round {round}");
        lua.set_instruction_budget(Some(1_000_000))?;
        let a: i64 = lua
            .load(SCRIPT_A)
            .set_name("a.lua")
            .set_environment(env_a.clone())
            .eval()?;
        lua.set_instruction_budget(Some(1_000_000))?;
        let b: i64 = lua
            .load(SCRIPT_B)
            .set_name("b.lua")
            .set_environment(env_b.clone())
            .eval()?;
        println!("  counters: A = {a}, B = {b}");
    }
    println!(
        "global counter in the host state: {:?}",
        lua.globals().get::<Option<i64>>("counter")?
    );
    Ok(())
}
