//! Calling Lua from Rust and Rust from Lua.
//!
//! Run with `cargo run -p perilune --example call_lua`.

use perilune::{Function, Lua, Result, Table};

fn main() -> Result<()> {
    let lua = Lua::new();

    // Rust -> Lua: define a Lua function, call it with Rust values.
    lua.load(
        r#"
        function describe(name, scores)
            local total = 0
            for _, s in ipairs(scores) do total = total + s end
            return name .. " scored " .. total, total / #scores
        end
        "#,
    )
    .set_name("describe.lua")
    .exec()?;
    let describe: Function = lua.globals().get("describe")?;
    let (text, mean): (String, f64) = describe.call(("ada", vec![90, 85, 77]))?;
    println!("{text} (mean {mean:.1})");

    // Lua -> Rust: expose a Rust closure, call it from Lua.
    let word_count = lua.create_function(|_, text: String| Ok(text.split_whitespace().count()))?;
    lua.globals().set("word_count", word_count)?;
    let n: usize = lua.load(r#"word_count("the quick brown fox")"#).eval()?;
    println!("word_count says {n}");

    // Tables both ways.
    let config: Table = lua.load("{ width = 800, height = 600, title = 'demo' }").eval()?;
    let area = config.get::<u32>("width")? * config.get::<u32>("height")?;
    println!("{} is {area} pixels", config.get::<String>("title")?);

    // `Lua` is a cheap handle: a clone is the same state, and values are 'static,
    // so they can be kept in Rust structures. The state closes with the last clone.
    let shared = lua.clone();
    let square: Function = shared.load("function(x) return x * x end").eval()?;
    println!("square(12) = {}", square.call::<i64>(12)?);

    // Errors come back as values, with a traceback.
    if let Err(e) = lua.load("local t = nil; return t.field").set_name("broken.lua").exec() {
        println!("caught: {e}");
    }
    Ok(())
}
