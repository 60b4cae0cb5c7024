//! The `perilune` command: runs Lua scripts with the same options, messages and exit
//! codes as the `luajit` command.
//!
//! - [`options`] parses the command line (luajit's grammar);
//! - [`session`] runs what it asks for on a fresh [`perilune::vm::state::State`].

mod options;
mod session;

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
        Err(options::UsageError) => {
            session::print_usage(&progname);
            return 1;
        }
    };
    let state = match perilune::vm::state::State::new() {
        Ok(s) => s,
        Err(_) => {
            session::message(&progname, b"cannot create state: not enough memory");
            return 1;
        }
    };
    let mut session = session::Session::new(state, progname);
    match session.run(argv, &opts) {
        Ok(()) => 0,
        Err(session::Reported) => 1,
    }
}
