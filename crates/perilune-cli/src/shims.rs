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

use perilune::stdlib::register;
use perilune::value::Value;
use perilune::vm::error::LResult;
use perilune::vm::state::State;

/// Add `os.exit` when the runtime has no `os` library (or one without `exit`).
pub fn install(state: &mut State) -> LResult<()> {
    let os = state.get_global("os")?;
    let table = match os.as_table() {
        Some(t) => {
            let key = state.intern(b"exit")?;
            if !t.get_str(key).is_nil() {
                return Ok(());
            }
            t
        }
        None if os.is_nil() => {
            let t = state.new_table(0, 1)?;
            state.set_global("os", Value::table(t))?;
            t
        }
        None => return Ok(()),
    };
    register(state, table, &[("exit", os_exit)])
}

fn os_exit(st: &mut State) -> LResult<usize> {
    let status = match st.arg(1).as_bool() {
        Some(true) => 0,
        Some(false) => 1,
        None => st.opt_integer(1, 0)? as i32,
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(status)
}
