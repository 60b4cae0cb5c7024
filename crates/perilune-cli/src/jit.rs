//! `-j cmd` and `-O[opt]`: LuaJIT's JIT control options.
//!
//! They reach the JIT through the `jit` library (docs/jit.md), with LuaJIT's syntax,
//! checks and messages:
//! - `-j name[=arg,arg...]`: when a global `jit` table has a function `name`, it is
//!   called with the arguments (strings; an empty one is nil). Otherwise `on`, `off`
//!   and `flush` are accepted without arguments (with a string argument they fail as
//!   LuaJIT's do: they expect a function), and `status` is accepted. Any other name
//!   is a `jit.name` module, loaded with `require` and started with its `start`
//!   function; without such a module (or without `require`) the message is LuaJIT's
//!   `unknown luaJIT command or jit.* modules not installed`.
//! - `-O[opt,opt...]`: `jit.opt.start` is called with the pieces (an empty piece is
//!   nil). It holds the one list of flags and parameters (the library's
//!   `stdlib/jit/param.rs`); when a script has removed it, a fresh state's is used.
//!
//! Errors are reported without a traceback, as luajit does for these options.

use perilune::{Error, Lua, LuaOptions, ReportStyle, StdLib, Value};

use crate::session::{Outcome, Session};

const UNKNOWN_COMMAND: &[u8] = b"unknown luaJIT command or jit.* modules not installed";

/// Split a comma-separated argument list: an empty list has no arguments, an empty
/// piece is nil (`None`).
fn split_args(list: Option<&[u8]>) -> Vec<Option<&[u8]>> {
    match list {
        None | Some(b"") => Vec::new(),
        Some(l) => l.split(|&c| c == b',').map(|p| (!p.is_empty()).then_some(p)).collect(),
    }
}

/// `-j cmd`.
pub fn command(session: &Session, cmd: &[u8]) -> Outcome {
    let (name, list) = match cmd.iter().position(|&c| c == b'=') {
        Some(eq) => (&cmd[..eq], Some(&cmd[eq + 1..])),
        None => (cmd, None),
    };
    let args = split_args(list);
    let r = lookup(&session.lua, &["jit", &String::from_utf8_lossy(name)]);
    if let Some(f) = session.check(r)?.filter(|v| matches!(v, Value::Function(_))) {
        return call(session, f, &args);
    }
    match name {
        b"on" | b"off" | b"flush" => match args.first() {
            Some(Some(_)) => Err(session.report(b"bad argument #1 to '?' (function expected, got string)")),
            _ => Ok(()),
        },
        b"status" => Ok(()),
        _ => run_module(session, name, &args),
    }
}

/// A `jit.*` module: `require("jit." .. name).start(args...)`.
fn run_module(session: &Session, name: &[u8], args: &[Option<&[u8]>]) -> Outcome {
    let r = session.lua.globals().raw_get::<Value>("require");
    let require = match session.check(r)? {
        Value::Function(f) => f,
        _ => return Err(session.report(UNKNOWN_COMMAND)),
    };
    let mut module = b"jit.".to_vec();
    module.extend_from_slice(name);
    let r = session.lua.create_string(&module);
    let module = session.check(r)?;
    let table = match session.call_interruptible(&require, vec![Value::String(module)], ReportStyle::Message) {
        Ok(results) => results.into_iter().next().unwrap_or(Value::Nil),
        Err(e) => {
            if e.report().is_some_and(|m| m.starts_with(b"module ")) {
                return Err(session.report(UNKNOWN_COMMAND));
            }
            return Err(session.report_error(&e));
        }
    };
    let start = match &table {
        Value::Table(t) => {
            let r = t.raw_get::<Value>("start");
            session.check(r)?
        }
        _ => Value::Nil,
    };
    if start.is_nil() {
        return Err(session.report(UNKNOWN_COMMAND));
    }
    call(session, start, args)
}

/// `-O[opt]`: `jit.opt.start(opt, opt, ...)`, which owns the list of flags and
/// parameters. When a script has removed the global, the pieces are still checked
/// (luajit finds the function in `package.loaded`, out of a script's usual reach): by
/// the `jit.opt.start` of a fresh state with only the `jit` library.
pub fn optimize(session: &Session, opt: &[u8]) -> Outcome {
    let args = split_args(Some(opt));
    let r = lookup(&session.lua, &["jit", "opt", "start"]);
    if let Some(f) = session.check(r)?.filter(|v| matches!(v, Value::Function(_))) {
        return call(session, f, &args);
    }
    let r = Lua::new_with(StdLib::JIT, LuaOptions::new());
    let lua = session.check(r)?;
    let r = lookup(&lua, &["jit", "opt", "start"]);
    let Some(start) = session.check(r)? else {
        return Ok(());
    };
    let mut values = Vec::with_capacity(args.len());
    for a in &args {
        values.push(match a {
            Some(s) => Value::String(session.check(lua.create_string(s))?),
            None => Value::Nil,
        });
    }
    let Value::Function(start) = start else {
        return Ok(());
    };
    let r: perilune::Result<perilune::MultiValue> =
        start.call_reported(perilune::MultiValue::from_vec(values), ReportStyle::Message);
    session.check(r).map(drop)
}

/// `t1.t2...name` from the globals through plain tables, without metamethods.
fn lookup(lua: &Lua, path: &[&str]) -> Result<Option<Value>, Error> {
    let mut v = Value::Table(lua.globals());
    for name in path {
        let Value::Table(t) = v else {
            return Ok(None);
        };
        v = t.raw_get(*name)?;
    }
    Ok((!v.is_nil()).then_some(v))
}

/// Call `f` with the arguments (strings; `None` is nil), no traceback on error.
fn call(session: &Session, f: Value, args: &[Option<&[u8]>]) -> Outcome {
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Some(s) => {
                let r = session.lua.create_string(s);
                values.push(Value::String(session.check(r)?));
            }
            None => values.push(Value::Nil),
        }
    }
    session.call_value(f, values, ReportStyle::Message).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_lists() {
        assert!(split_args(None).is_empty());
        assert!(split_args(Some(b"")).is_empty());
        assert_eq!(split_args(Some(b"a,,b")), vec![Some(&b"a"[..]), None, Some(&b"b"[..])]);
        assert_eq!(split_args(Some(b"3,")), vec![Some(&b"3"[..]), None]);
    }
}
