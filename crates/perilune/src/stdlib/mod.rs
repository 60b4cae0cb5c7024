//! The standard library, one module per Lua library.
//!
//! Every function here is a [`NativeFn`](crate::func::NativeFn): it reads its
//! arguments through the `State` argument API (`vm/api.rs`), pushes its results and
//! returns their count. Messages follow LuaJIT's wording.

pub mod base;
pub mod bit;
pub mod coroutine;
pub mod debug;
pub mod format;
pub mod io;
pub mod iofile;
pub mod jit;
pub mod math;
pub mod os;
pub mod package;
pub mod pattern;
pub mod string;
pub mod table;

use crate::func::NativeFn;
use crate::object::{GcRef, Table};
use crate::value::Value;
use crate::vm::error::LResult;
use crate::vm::state::State;

/// Register `funcs` in table `t`.
pub fn register(st: &mut State, t: GcRef<Table>, funcs: &[(&'static str, NativeFn)]) -> LResult<()> {
    for &(name, f) in funcs {
        let fv = st.new_native(f, name, 0)?;
        let k = st.str_value(name.as_bytes())?;
        st.table_set(t, k, Value::function(fv))?;
    }
    Ok(())
}

/// Open the standard libraries in the globals. `package` opens last: it enters the
/// libraries opened before it into `package.loaded`.
pub fn open_base(st: &mut State) -> LResult<()> {
    base::open(st)?;
    coroutine::open(st)?;
    string::open(st)?;
    table::open(st)?;
    math::open(st)?;
    bit::open(st)?;
    io::open(st)?;
    os::open(st)?;
    debug::open(st)?;
    jit::open(st)?;
    package::open(st)
}
