//! Running what the command line asked for, the way `luajit` does it.
//!
//! Order of work (as luajit does it): open the libraries (plus the [`crate::shims`]),
//! build the global `arg` table, run `LUA_INIT` (unless `-E`), print the version
//! (`-v`), run the `-e`/`-l`/`-j`/`-O` actions in order, run the script, then either
//! enter interactive mode ([`crate::repl`]) or, when there was no script, no `-e` and no
//! `-v`, read the script from standard input — or start the prompt when standard input
//! is a terminal. The first failure is reported and ends the run with exit status 1.
//! `-b` (only `-O` may come before it) runs the bytecode tool ([`crate::bytecode`])
//! after `LUA_INIT` and `-O`, and then the run ends.
//!
//! Reports go to stderr as `<progname>: <message>`, where `<progname>` is `argv[0]`
//! (as luajit does); at the interactive prompt the prefix is left out. A message is
//! the error value when it is a string or number, `(error object is not a string)`
//! otherwise, and nothing at all for a `nil` error. Lua code runs with Ctrl-C turned
//! into the `interrupted!` error ([`crate::interrupt`]).

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};

use perilune::value::Value;
use perilune::vm::error::Throw;
use perilune::vm::state::State;

use crate::interrupt::run_interruptible;
use crate::options::{os_bytes, Action, Options, Script};

/// The failure has already been reported on stderr.
#[derive(Debug)]
pub struct Reported;

pub type Outcome = Result<(), Reported>;

/// One run of the command: the state plus what reports need.
pub struct Session {
    pub state: Box<State>,
    progname: Vec<u8>,
    /// Whether reports start with `<progname>: ` (not at the interactive prompt).
    pub prefix_reports: bool,
}

impl Session {
    pub fn new(state: Box<State>, progname: Vec<u8>) -> Session {
        Session {
            state,
            progname,
            prefix_reports: true,
        }
    }

    /// Execute the parsed command line.
    pub fn run(&mut self, argv: &[OsString], opts: &Options) -> Outcome {
        if opts.no_env {
            // As luajit does: the package library then ignores LUA_PATH/LUA_CPATH.
            let r = set_noenv(&mut self.state);
            self.check(r)?;
        }
        let r = self.state.open_libs();
        self.check(r)?;
        let r = crate::shims::install(&mut self.state);
        self.check(r)?;
        let r = self.create_arg_table(argv, opts.script_index(argv.len()));
        self.check(r)?;
        if !opts.no_env {
            self.run_lua_init()?;
        }
        if opts.version {
            print_version();
        }
        for action in &opts.actions {
            match action {
                Action::Exec(chunk) => self.do_chunk(&os_bytes(chunk), b"=(command line)", &[])?,
                Action::Require(name) => self.require(&os_bytes(name))?,
                Action::Jit(cmd) => crate::jit::command(self, &os_bytes(cmd))?,
                Action::Optimize(opt) => crate::jit::optimize(self, &os_bytes(opt))?,
            }
        }
        if let Some(args) = &opts.bytecode {
            return crate::bytecode::run(self, args);
        }
        if let Some((index, script)) = &opts.script {
            let script_args = &argv[index + 1..];
            match script {
                Script::File(path) => self.do_file(Some(path), script_args)?,
                Script::Stdin => self.do_file(None, script_args)?,
            }
        }
        if opts.interactive {
            crate::repl::run(self);
        } else if opts.script.is_none() && !opts.has_exec() && !opts.version {
            if std::io::stdin().is_terminal() {
                print_version();
                crate::repl::run(self);
            } else {
                self.do_file(None, &[])?;
            }
        }
        Ok(())
    }

    /// `-l name`: call the global `require` with the name, as luajit does. When
    /// `require` is missing (a state without the package library) that is said
    /// plainly (luajit would report "attempt to call a nil value").
    fn require(&mut self, name: &[u8]) -> Outcome {
        let r = self.state.get_global("require");
        let require = self.check(r)?;
        if require.is_nil() {
            let mut msg = b"module '".to_vec();
            msg.extend_from_slice(name);
            msg.extend_from_slice(b"' not found: 'require' is not available (no package library)");
            return Err(self.report(&msg));
        }
        let r = self.state.push(require);
        self.check(r)?;
        let r = self.state.push_str(name);
        self.check(r)?;
        self.call_reported(1, true)
    }

    /// `arg[i - script_index] = argv[i]` for every argument.
    fn create_arg_table(&mut self, argv: &[OsString], script_index: usize) -> Result<(), Throw> {
        let narray = argv.len().saturating_sub(script_index + 1);
        let table = self.state.new_table(narray, script_index + 1)?;
        // Allocation never starts a collection, so the table needs no rooting
        // until it is stored in the globals below.
        for (i, a) in argv.iter().enumerate() {
            let v = self.state.str_value(&os_bytes(a))?;
            table.get_mut().set_int(i as i64 - script_index as i64, v)?;
        }
        self.state.set_global("arg", Value::table(table))
    }

    /// `LUA_INIT`: `@file` runs a file, anything else runs as a chunk.
    fn run_lua_init(&mut self) -> Outcome {
        let Some(init) = std::env::var_os("LUA_INIT") else {
            return Ok(());
        };
        let bytes = os_bytes(&init).into_owned();
        match bytes.strip_prefix(b"@") {
            Some(path) => {
                let path = bytes_to_os(path);
                self.do_file(Some(&path), &[])
            }
            None => self.do_chunk(&bytes, b"=LUA_INIT", &[]),
        }
    }

    /// Load and run a script file (`None`: standard input).
    fn do_file(&mut self, path: Option<&OsString>, args: &[OsString]) -> Outcome {
        let (source, chunkname) = match path {
            Some(p) => {
                let mut name = b"@".to_vec();
                name.extend_from_slice(&os_bytes(p));
                (self.read_file(p)?, name)
            }
            None => {
                let mut source = Vec::new();
                if let Err(e) = std::io::stdin().lock().read_to_end(&mut source) {
                    return Err(self.report(format!("cannot read stdin: {}", strerror(&e)).as_bytes()));
                }
                (source, b"=stdin".to_vec())
            }
        };
        self.do_chunk(&source, &chunkname, args)
    }

    pub fn read_file(&mut self, path: &OsString) -> Result<Vec<u8>, Reported> {
        let name = os_bytes(path).into_owned();
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return Err(self.report_io("open", &name, &e)),
        };
        let mut source = Vec::new();
        match file.read_to_end(&mut source) {
            Ok(_) => Ok(source),
            Err(e) => Err(self.report_io("read", &name, &e)),
        }
    }

    /// Compile `source` and call it with `args` as `...`.
    fn do_chunk(&mut self, source: &[u8], chunkname: &[u8], args: &[OsString]) -> Outcome {
        if let Err(t) = self.state.load(source, chunkname) {
            return Err(self.report_throw(t));
        }
        for a in args {
            let r = self.push_arg(a);
            self.check(r)?;
        }
        self.call_reported(args.len(), true)
    }

    /// Call the function below the `nargs` arguments on the stack, discarding its
    /// results; an error is reported (with a traceback when `traceback`).
    pub fn call_reported(&mut self, nargs: usize, traceback: bool) -> Outcome {
        if self.call_interruptible(nargs, 0, traceback) {
            Ok(())
        } else {
            let err = self.state.peek(0);
            let reported = self.report_value(err);
            self.state.pop(1);
            Err(reported)
        }
    }

    /// [`State::pcall`] with Ctrl-C turned into an interrupt.
    pub fn call_interruptible(&mut self, nargs: usize, nresults: i32, traceback: bool) -> bool {
        let flag = self.state.interrupt_handle();
        let state = &mut self.state;
        run_interruptible(&flag, || state.pcall(nargs, nresults, traceback))
    }

    fn push_arg(&mut self, a: &OsString) -> Result<(), Throw> {
        let v = self.state.str_value(&os_bytes(a))?;
        self.state.push(v)
    }

    /// Report the error of `r`, if any.
    pub fn check<T>(&mut self, r: Result<T, Throw>) -> Result<T, Reported> {
        r.map_err(|t| self.report_throw(t))
    }

    pub fn report_throw(&mut self, t: Throw) -> Reported {
        match t {
            Throw::Error(v) => self.report_value(v),
            Throw::Oom => self.report(b"not enough memory"),
            Throw::Yield => self.report(b"attempt to yield from outside a coroutine"),
            Throw::Abort => {
                let reason = self.state.hooks.abort_reason.clone();
                self.report(reason.as_bytes())
            }
        }
    }

    /// Report an error value as luajit does.
    pub fn report_value(&mut self, v: Value) -> Reported {
        if v.is_nil() {
            return Reported;
        }
        if let Some(s) = v.as_string() {
            let msg = s.as_bytes().to_vec();
            return self.report(&msg);
        }
        if let Some(n) = v.as_number() {
            return match self.state.number_to_str(n) {
                Ok(s) => {
                    let msg = s.as_bytes().to_vec();
                    self.report(&msg)
                }
                Err(_) => self.report(b"not enough memory"),
            };
        }
        self.report(b"(error object is not a string)")
    }

    pub fn report_io(&mut self, what: &str, name: &[u8], e: &std::io::Error) -> Reported {
        let mut msg = format!("cannot {what} ").into_bytes();
        msg.extend_from_slice(name);
        msg.extend_from_slice(b": ");
        msg.extend_from_slice(strerror(e).as_bytes());
        self.report(&msg)
    }

    /// Print `<progname>: <msg>` on stderr (just `<msg>` at the prompt).
    pub fn report(&mut self, msg: &[u8]) -> Reported {
        let prefix: &[u8] = if self.prefix_reports { &self.progname } else { b"" };
        message(prefix, msg);
        Reported
    }

    /// The program name reports start with.
    pub fn progname(&self) -> &[u8] {
        &self.progname
    }
}

/// Print `<progname>: <msg>` on stderr, or just `<msg>` when `progname` is empty
/// (stdout is flushed first so the order of interleaved output is kept).
pub fn message(progname: &[u8], msg: &[u8]) {
    let _ = std::io::stdout().flush();
    let mut line = Vec::with_capacity(progname.len() + msg.len() + 3);
    if !progname.is_empty() {
        line.extend_from_slice(progname);
        line.extend_from_slice(b": ");
    }
    line.extend_from_slice(msg);
    line.push(b'\n');
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&line);
    let _ = err.flush();
}

/// The usage text, on stderr.
pub fn print_usage(progname: &[u8]) {
    let _ = std::io::stdout().flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"usage: ");
    let _ = err.write_all(progname);
    let _ = err.write_all(b" [options]... [script [args]...].\nAvailable options are:\n");
    let _ = err.write_all(LUAJIT_OPTIONS.as_bytes());
    let _ = err.flush();
}

/// The option list of luajit's usage text (the usage text must stay luajit's).
const LUAJIT_OPTIONS: &str = "\
\x20 -e chunk  Execute string 'chunk'.
\x20 -l name   Require library 'name'.
\x20 -b ...    Save or list bytecode.
\x20 -j cmd    Perform LuaJIT control command.
\x20 -O[opt]   Control LuaJIT optimizations.
\x20 -i        Enter interactive mode after executing 'script'.
\x20 -v        Show version information.
\x20 -E        Ignore environment variables.
\x20 --        Stop handling options.
\x20 -         Execute stdin and stop handling options.
";

/// `--help`: luajit's usage text, Perilune's additions and the environment, on stdout.
pub fn print_help(progname: &[u8]) {
    let name = String::from_utf8_lossy(progname);
    let mut out = std::io::stdout().lock();
    let _ = write!(
        out,
        "usage: {name} [options]... [script [args]...].\n\
Available options are:\n{LUAJIT_OPTIONS}\
Perilune options:\n\
\x20 --memory-limit SIZE  Limit the Lua heap to SIZE bytes (suffix K, M or G for\n\
\x20                      KiB, MiB, GiB); going over it raises 'not enough memory'.\n\
\x20 --help               Show this help.\n\
Environment:\n\
\x20 LUA_INIT             Run this chunk, or the file after '@', before anything else.\n\
\x20 PERILUNE_HISTORY     History file of the interactive prompt\n\
\x20                      (default ~/.perilune_history; empty: no history).\n\
Without a script, the script is read from stdin, or the prompt starts when stdin\n\
is a terminal. At the prompt, an expression prints its value; Ctrl-C interrupts\n\
running code; Ctrl-D exits. See docs/cli.md.\n"
    );
    let _ = out.flush();
}

pub fn print_version() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Perilune {} -- a LuaJIT-compatible Lua 5.1 runtime",
        env!("CARGO_PKG_VERSION")
    );
    let _ = out.flush();
}

/// The C library's wording of an I/O error (`No such file or directory`), without
/// the ` (os error N)` suffix Rust adds.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(pos) if e.raw_os_error().is_some() => text[..pos].to_string(),
        _ => text,
    }
}

pub fn bytes_to_os(b: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// Set the registry's `LUA_NOENV` to true (`-E`), before the libraries open.
fn set_noenv(state: &mut State) -> perilune::vm::error::LResult<()> {
    let key = state.str_value(b"LUA_NOENV")?;
    let reg = state.registry;
    state.table_set(reg, key, Value::TRUE)
}
