//! Running what the command line asked for, the way `luajit` does it.
//!
//! Order of work (as luajit does it): open the libraries (done by `main`, with `-E`
//! already applied),
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

use perilune::{Error, Function, Lua, ReportStyle, Value};

use crate::interrupt::run_interruptible;
use crate::options::{os_bytes, Action, Options, Script};

/// The failure has already been reported on stderr.
#[derive(Debug)]
pub struct Reported;

pub type Outcome = Result<(), Reported>;

/// One run of the command: the Lua state plus what reports need.
pub struct Session {
    pub lua: Lua,
    progname: Vec<u8>,
    /// Whether reports start with `<progname>: ` (not at the interactive prompt).
    pub prefix_reports: bool,
}

impl Session {
    pub fn new(lua: Lua, progname: Vec<u8>) -> Session {
        Session {
            lua,
            progname,
            prefix_reports: true,
        }
    }

    /// Execute the parsed command line (the libraries are open already).
    pub fn run(&mut self, argv: &[OsString], opts: &Options) -> Outcome {
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
            // The listing is written to stdout by the tool itself: after what
            // `LUA_INIT` printed.
            flush_stdout();
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
    fn require(&self, name: &[u8]) -> Outcome {
        let r = self.lua.globals().raw_get::<Value>("require");
        let require = self.check(r)?;
        if require.is_nil() {
            let mut msg = b"module '".to_vec();
            msg.extend_from_slice(name);
            msg.extend_from_slice(b"' not found: 'require' is not available (no package library)");
            return Err(self.report(&msg));
        }
        let r = self.lua.create_string(name);
        let name = self.check(r)?;
        self.call_value(require, vec![Value::String(name)], ReportStyle::Traceback)
            .map(drop)
    }

    /// `arg[i - script_index] = argv[i]` for every argument.
    fn create_arg_table(&self, argv: &[OsString], script_index: usize) -> perilune::Result<()> {
        let narray = argv.len().saturating_sub(script_index + 1);
        let table = self.lua.create_table_with_capacity(narray, script_index + 1)?;
        for (i, a) in argv.iter().enumerate() {
            table.raw_set(i as i64 - script_index as i64, self.lua.create_string(os_bytes(a))?)?;
        }
        self.lua.globals().raw_set("arg", table)
    }

    /// `LUA_INIT`: `@file` runs a file, anything else runs as a chunk.
    fn run_lua_init(&self) -> Outcome {
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
    fn do_file(&self, path: Option<&OsString>, args: &[OsString]) -> Outcome {
        let (source, chunkname) = match path {
            Some(p) => {
                let mut name = b"@".to_vec();
                name.extend_from_slice(&os_bytes(p));
                (self.read_file(p)?, name)
            }
            None => {
                // Reading stdin: what was printed so far shows first (as for io.read).
                flush_stdout();
                let mut source = Vec::new();
                if let Err(e) = std::io::stdin().lock().read_to_end(&mut source) {
                    return Err(self.report(format!("cannot read stdin: {}", strerror(&e)).as_bytes()));
                }
                (source, b"=stdin".to_vec())
            }
        };
        self.do_chunk(&source, &chunkname, args)
    }

    pub fn read_file(&self, path: &OsString) -> Result<Vec<u8>, Reported> {
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

    /// Compile `source` and call it with `args` as `...`; an error is reported with
    /// a traceback (a syntax error without one).
    fn do_chunk(&self, source: &[u8], chunkname: &[u8], args: &[OsString]) -> Outcome {
        let r = self.lua.load(source).set_name(chunkname).into_function();
        let f = self.check(r)?;
        let r = args
            .iter()
            .map(|a| self.lua.create_string(os_bytes(a)).map(Value::String))
            .collect::<perilune::Result<Vec<_>>>();
        let args = self.check(r)?;
        let r = self.call_interruptible(&f, args, ReportStyle::Traceback);
        self.check(r).map(drop)
    }

    /// Call `f` with Ctrl-C turned into an interrupt; errors come back reported in
    /// `style` (see [`perilune::Function::call_reported`]).
    pub fn call_interruptible(
        &self,
        f: &Function,
        args: Vec<Value>,
        style: ReportStyle,
    ) -> perilune::Result<perilune::MultiValue> {
        let flag = self.lua.interrupt_handle();
        let args = perilune::MultiValue::from_vec(args);
        run_interruptible(&flag, || f.call_reported(args, style))
    }

    /// Call any value the way Lua calls it (a function, or a table or userdata with
    /// `__call`), with Ctrl-C turned into an interrupt; errors are reported.
    pub fn call_value(&self, v: Value, args: Vec<Value>, style: ReportStyle) -> Result<perilune::MultiValue, Reported> {
        let r = self.try_call_value(v, args, style);
        self.check(r)
    }

    /// [`Session::call_value`] without reporting the error.
    pub fn try_call_value(
        &self,
        v: Value,
        args: Vec<Value>,
        style: ReportStyle,
    ) -> perilune::Result<perilune::MultiValue> {
        let (f, args) = callable(&self.lua, v, args, style)?;
        self.call_interruptible(&f, args, style)
    }

    /// Report the error of `r`, if any.
    pub fn check<T>(&self, r: perilune::Result<T>) -> Result<T, Reported> {
        r.map_err(|e| self.report_error(&e))
    }

    /// Report an error as luajit does: a `nil` error object prints nothing.
    pub fn report_error(&self, e: &Error) -> Reported {
        match e.report() {
            Some(text) => self.report(&text),
            None => Reported,
        }
    }

    pub fn report_io(&self, what: &str, name: &[u8], e: &std::io::Error) -> Reported {
        let mut msg = format!("cannot {what} ").into_bytes();
        msg.extend_from_slice(name);
        msg.extend_from_slice(b": ");
        msg.extend_from_slice(strerror(e).as_bytes());
        self.report(&msg)
    }

    /// Print `<progname>: <msg>` on stderr (just `<msg>` at the prompt).
    pub fn report(&self, msg: &[u8]) -> Reported {
        let prefix: &[u8] = if self.prefix_reports { &self.progname } else { b"" };
        message(prefix, msg);
        Reported
    }

    /// The program name reports start with.
    pub fn progname(&self) -> &[u8] {
        &self.progname
    }
}

/// The function to call for calling `v` with `args`: `v` itself, or a table's
/// `__call` metamethod with the table in front of the arguments. Anything else fails
/// with what the VM reports for such a call: `attempt to call a X value` (with the
/// host's frame as the traceback in [`ReportStyle::Traceback`]).
fn callable(lua: &Lua, v: Value, mut args: Vec<Value>, style: ReportStyle) -> perilune::Result<(Function, Vec<Value>)> {
    let metatable = match &v {
        Value::Function(f) => return Ok((f.clone(), args)),
        Value::Table(t) => t.get_metatable()?,
        _ => None,
    };
    if let Some(mt) = metatable {
        if let Value::Function(call) = mt.raw_get::<Value>("__call")? {
            args.insert(0, v);
            return Ok((call, args));
        }
    }
    let msg = format!("attempt to call a {} value", v.type_name());
    let report = match style {
        ReportStyle::Message => msg.clone(),
        ReportStyle::Traceback => format!("{msg}\nstack traceback:\n\t[C]: at {lua:p}"),
    };
    Err(Error::Reported {
        report: Some(report.into_bytes()),
        cause: std::sync::Arc::new(Error::runtime(msg)),
    })
}

/// Write out what Lua code left in standard output's buffer (`print`, `io.write`
/// are buffered as C's stdio buffers them), before the command writes to stdout or
/// stderr itself, so that the output keeps its order.
pub fn flush_stdout() {
    let _ = perilune::flush_stdout();
}

/// Write `bytes` to stdout after what Lua code wrote, and flush.
pub fn write_stdout(bytes: &[u8]) {
    flush_stdout();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Print `<progname>: <msg>` on stderr, or just `<msg>` when `progname` is empty
/// (stdout is flushed first so the order of interleaved output is kept).
pub fn message(progname: &[u8], msg: &[u8]) {
    flush_stdout();
    // Written in parts: the message is not copied again (it may be long, and the
    // process may be short of memory).
    let mut err = std::io::stderr().lock();
    if !progname.is_empty() {
        let _ = err.write_all(progname);
        let _ = err.write_all(b": ");
    }
    let _ = err.write_all(msg);
    let _ = err.write_all(b"\n");
    let _ = err.flush();
}

/// The usage text, on stderr.
pub fn print_usage(progname: &[u8]) {
    flush_stdout();
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
    let text = format!(
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
running code; Ctrl-D exits.\n"
    );
    write_stdout(text.as_bytes());
}

pub fn print_version() {
    let text = format!(
        "Perilune {} -- a LuaJIT-compatible Lua 5.1 runtime\n",
        env!("CARGO_PKG_VERSION")
    );
    write_stdout(text.as_bytes());
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
