//! Library functions the command line needs that the runtime does not provide yet.
//!
//! - `os.exit([status])`: LuaJIT's semantics — `true` is success, `false` failure,
//!   a number is the exit status (truncated; only its low 8 bits reach the parent on
//!   Unix), nothing or nil is 0. Standard output is flushed first. The state is not
//!   closed, so finalizers do not run (LuaJIT closes it only when a second argument
//!   is true; this shim ignores that argument).
//!
//! A shim is installed only where the runtime has nothing: when an `os` library
//! exists, its `exit` is used untouched. Remove this module once the runtime's `os`
//! library lands.

use std::io::Write;

use perilune::{Error, Lua, Table, Value, Variadic};

/// Add `os.exit` when the runtime has no `os` library (or one without `exit`).
pub fn install(lua: &Lua) -> perilune::Result<()> {
    let globals = lua.globals();
    let table = match globals.raw_get::<_, Value>("os")? {
        Value::Table(t) => {
            if !t.raw_get::<_, Value>("exit")?.is_nil() {
                return Ok(());
            }
            t
        }
        Value::Nil => {
            let t: Table = lua.create_table_with_capacity(0, 1)?;
            globals.raw_set("os", &t)?;
            t
        }
        _ => return Ok(()),
    };
    table.raw_set("exit", lua.create_function(os_exit)?)
}

fn os_exit(lua: &Lua, args: Variadic<Value>) -> perilune::Result<()> {
    let status = match args.first() {
        Some(Value::Boolean(true)) | Some(Value::Nil) | None => 0,
        Some(Value::Boolean(false)) => 1,
        // A number, or a string Lua converts to one (`'5'`, `' 0x10 '`).
        Some(v @ (Value::Integer(_) | Value::Number(_) | Value::String(_))) => match lua.unpack::<f64>(v.clone()) {
            Ok(n) if n.is_finite() => n as i64 as i32,
            Ok(_) => 0,
            Err(_) => return Err(Error::plain_argument(1, "number expected, got string")),
        },
        Some(other) => {
            return Err(Error::plain_argument(
                1,
                format!("number expected, got {}", other.type_name()),
            ))
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(status)
}
