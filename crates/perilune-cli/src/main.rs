//! The `perilune` command: runs Lua scripts with the same options, messages and exit
//! codes as the `luajit` command, plus an editing interactive prompt and a memory limit.
//!
//! - [`options`] parses the command line (luajit's grammar plus `--help` and
//!   `--memory-limit`);
//! - [`session`] runs what it asks for on a fresh [`perilune::Lua`], through the
//!   safe embedding API only (docs/embedding.md);
//! - [`jit`] (`-j`, `-O`) and [`bytecode`] (`-b`) are luajit's tool options;
//! - [`repl`] is the interactive prompt, [`interrupt`] turns Ctrl-C into an error.
//!
//! See docs/cli.md.

// One `unsafe` call, allowed where it is made: opening `ffi` (`new_state`).
#![deny(unsafe_code)]

mod bytecode;
mod interrupt;
mod jit;
mod options;
mod repl;
mod session;

/// The process allocator for the runtime's own Rust-side memory (Lua objects live in
/// the state's page arena, docs/memory.md): mimalloc, with the emergency reserve that
/// lets a process-level out-of-memory still be reported.
#[global_allocator]
static GLOBAL: perilune::process_alloc::ProcessAllocator = perilune::process_alloc::ProcessAllocator;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    default_sigpipe();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let status = run(&argv);
    session::flush_stdout();
    let _ = std::io::stdout().flush();
    ExitCode::from(status)
}

/// Writing to a pipe whose reader has gone ends the process by SIGPIPE, as it ends
/// luajit (`perilune big.lua | head` stops instead of running to the end with every
/// write failing). Rust starts programs with SIGPIPE ignored; a handler that runs
/// the default action restores the usual behaviour (child processes get the default
/// disposition back at `exec`).
fn default_sigpipe() {
    #[cfg(unix)]
    {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        let always = Arc::new(AtomicBool::new(true));
        let _ = signal_hook::flag::register_conditional_default(signal_hook::consts::SIGPIPE, always);
    }
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
    // The state has every library (`ffi` too, as luajit), and the memory limit from the start,
    // so that the libraries are counted too. `--memory-limit 0` leaves no room at
    // all (the API's 0 would mean no limit).
    // `-E`: the package library ignores LUA_PATH and LUA_CPATH, as in luajit.
    let mut options = perilune::LuaOptions::new().ignore_env_vars(opts.no_env);
    if let Some(limit) = opts.memory_limit {
        options = options.memory_limit(limit.max(1));
    }
    let lua = match new_state(options) {
        Ok(lua) => lua,
        Err(e) => {
            session::message(&progname, &e.report().unwrap_or_default());
            return 1;
        }
    };
    // Room to report an error when the process itself runs out of memory.
    perilune::process_alloc::enable_reserve();
    interrupt::install(lua.interrupt_handle());
    // An error inside a finalizer is reported and the program goes on, as in luajit v2.1.
    let reported = lua.set_finalizer_error_handler(|msg| {
        use std::io::Write;
        session::flush_stdout();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(b"ERROR in finalizer: ");
        let _ = err.write_all(msg);
        let _ = err.write_all(b"\n");
        let _ = err.flush();
    });
    // Finalizers run to completion, as in luajit (the library caps each one by default).
    let reported = reported.and_then(|()| lua.set_finalizer_budget(None));
    if let Err(e) = reported {
        session::message(&progname, &e.report().unwrap_or_default());
        return 1;
    }
    let mut session = session::Session::new(lua, progname);
    match session.run(argv, &opts) {
        Ok(()) => 0,
        Err(session::Reported) => 1,
    }
}

/// The command's state: every library, `ffi` included, as luajit has.
#[allow(unsafe_code)]
fn new_state(options: perilune::LuaOptions) -> perilune::Result<perilune::Lua> {
    // SAFETY: the command runs the scripts it is given as luajit does, `ffi`
    // included: whoever runs a script with it trusts the script as native code.
    unsafe { perilune::Lua::unsafe_new_trusted(perilune::StdLib::ALL_TRUSTED, options) }
}
