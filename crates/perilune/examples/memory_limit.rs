//! A memory limit catching a runaway script; the state stays usable.
//!
//! Run with `cargo run -p perilune --example memory_limit`.

use perilune::{Error, Lua, Result};

fn main() -> Result<()> {
    let lua = Lua::new();
    let limit = lua.used_memory() + 4 * 1024 * 1024;
    lua.set_memory_limit(limit)?;
    println!("limit: {limit} bytes, in use: {}", lua.used_memory());

    let runaway = r#"
        local hoard = {}
        while true do
            hoard[#hoard + 1] = { "another", "table", #hoard }
        end
    "#;
    match lua.load(runaway).set_name("runaway.lua").exec() {
        Err(Error::MemoryError(msg)) => println!("runaway script stopped: {msg}"),
        other => println!("unexpected: {other:?}"),
    }
    lua.gc_collect()?;
    println!("after collection, in use: {}", lua.used_memory());

    // The same state keeps working, and scripts can handle the error themselves.
    let msg: String = lua
        .load(
            r#"
            local ok, err = pcall(function()
                local t = {}
                for i = 1, 1e9 do t[i] = i end
            end)
            return ok and "finished?!" or ("caught: " .. err)
            "#,
        )
        .eval()?;
    println!("{msg}");
    println!("1 + 1 = {}", lua.load("1 + 1").eval::<i32>()?);
    Ok(())
}
