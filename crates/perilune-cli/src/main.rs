//! The `perilune` command: runs Lua scripts with the same options, messages and exit
//! codes as the `luajit` command, plus an editing interactive prompt and a memory limit.
//!
//! - [`options`] parses the command line (luajit's grammar plus `--help` and
//!   `--memory-limit`);
//! - [`session`] runs what it asks for on a fresh [`perilune::vm::state::State`];
//! - [`jit`] (`-j`, `-O`) and [`bytecode`] (`-b`) are luajit's tool options;
//! - [`repl`] is the interactive prompt, [`interrupt`] turns Ctrl-C into an error;
//! - [`shims`] adds library functions the runtime lacks so far (`os.exit`).
//!
//! See docs/cli.md.

mod bytecode;
mod interrupt;
mod jit;
mod options;
mod repl;
mod session;
mod shims;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let status = run(&argv);
    let _ = std::io::stdout().flush();
    ExitCode::from(status)
}

/// Run the command line; returns the exit status.
fn run(argv: &[OsString]) -> u8 {
    let progname = match argv.first() {
        Some(p) => options::os_bytes(p).into_owned(),
        None => b"perilune".to_vec(),
    };
    let opts = match options::parse(argv) {
        Ok(o) => o,
        Err(options::UsageError::Usage) => {
            session::print_usage(&progname);
            return 1;
        }
        Err(options::UsageError::Message(msg)) => {
            session::message(&progname, msg.as_bytes());
            return 1;
        }
    };
    if opts.help {
        session::print_help(&progname);
        return 0;
    }
    let state = match perilune::vm::state::State::new() {
        Ok(s) => s,
        Err(_) => {
            session::message(&progname, b"cannot create state: not enough memory");
            return 1;
        }
    };
    if let Some(limit) = opts.memory_limit {
        state.heap.set_limit(limit);
    }
    interrupt::install(state.interrupt_handle());
    let mut session = session::Session::new(state, progname);
    match session.run(argv, &opts) {
        Ok(()) => 0,
        Err(session::Reported) => 1,
    }
}
