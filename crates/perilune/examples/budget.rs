//! An instruction budget and an interrupt callback stopping infinite loops that the
//! script cannot catch.
//!
//! Run with `cargo run -p perilune --example budget`.

use std::time::{Duration, Instant};

use perilune::{Error, Lua, Result, VmState};

fn main() -> Result<()> {
    let lua = Lua::new();

    // A budget of about ten million instructions.
    lua.set_instruction_budget(Some(10_000_000))?;
    let script = "while true do pcall(function() while true do end end) end";
    match lua.load(script).exec() {
        Err(Error::BudgetExhausted) => println!("budget stopped the loop (pcall could not catch it)"),
        other => println!("unexpected: {other:?}"),
    }
    lua.set_instruction_budget(None)?;

    // A wall-clock deadline with the interrupt callback.
    let deadline = Instant::now() + Duration::from_millis(200);
    lua.set_interrupt(move || {
        if Instant::now() > deadline {
            VmState::Abort("deadline passed".into())
        } else {
            VmState::Continue
        }
    })?;
    let started = Instant::now();
    match lua.load("local n = 0 while true do n = n + 1 end").exec() {
        Err(Error::Interrupted(why)) => println!("interrupted after {:?}: {why}", started.elapsed()),
        other => println!("unexpected: {other:?}"),
    }
    lua.remove_interrupt()?;
    println!("state still usable: {}", lua.load("'yes'").eval::<String>()?);
    Ok(())
}
