//! Running what the command line asked for, the way `luajit` does it.
//!
//! Order of work (as in luajit's `pmain`): open the libraries, build the global `arg`
//! table, run `LUA_INIT` (unless `-E`), print the version (`-v`), run the `-e`/`-l`/
//! `-j`/`-O` actions in order, run the script, then either enter interactive mode or,
//! when there was no script, no `-e` and no `-v`, run standard input if it is not a
//! terminal. The first failure is reported and ends the run with exit status 1.
//!
//! Reports go to stderr as `<progname>: <message>`, where `<progname>` is `argv[0]`
//! (as luajit does). A message is the error value when it is a string or number, `(error
//! object is not a string)` otherwise, and nothing at all for a `nil` error.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};

use perilune::value::Value;
use perilune::vm::error::Throw;
use perilune::vm::state::State;

use crate::options::{os_bytes, Action, Options, Script};

/// The failure has already been reported on stderr.
#[derive(Debug)]
pub struct Reported;

type Outcome = Result<(), Reported>;

/// One run of the command: the state plus what reports need.
pub struct Session {
    state: Box<State>,
    progname: Vec<u8>,
}

impl Session {
    pub fn new(state: Box<State>, progname: Vec<u8>) -> Session {
        Session { state, progname }
    }

    /// Execute the parsed command line.
    pub fn run(&mut self, argv: &[OsString], opts: &Options) -> Outcome {
        let r = self.state.open_libs();
        self.check(r)?;
        let r = self.create_arg_table(argv, opts.script_index(argv.len()));
        self.check(r)?;
        if !opts.no_env {
            self.run_lua_init()?;
        }
        if opts.version {
            print_version();
        }
        if let Some(args) = &opts.bytecode {
            return self.bytecode(args);
        }
        for action in &opts.actions {
            match action {
                Action::Exec(chunk) => self.do_chunk(&os_bytes(chunk), b"=(command line)", &[])?,
                Action::Require(_) => return self.unsupported("-l"),
                Action::Jit(_) => return self.unsupported("-j"),
                Action::Optimize(_) => return self.unsupported("-O"),
            }
        }
        if let Some((index, script)) = &opts.script {
            let script_args = &argv[index + 1..];
            match script {
                Script::File(path) => self.do_file(Some(path), script_args)?,
                Script::Stdin => self.do_file(None, script_args)?,
            }
        }
        if opts.interactive {
            return self.unsupported("-i");
        }
        if opts.script.is_none() && !opts.has_exec() && !opts.version {
            if std::io::stdin().is_terminal() {
                print_version();
                return self.unsupported("interactive mode");
            }
            self.do_file(None, &[])?;
        }
        Ok(())
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

    fn read_file(&mut self, path: &OsString) -> Result<Vec<u8>, Reported> {
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
        if self.state.pcall(args.len(), 0, true) {
            Ok(())
        } else {
            let err = self.state.peek(0);
            let reported = self.report_value(err);
            self.state.pop(1);
            Err(reported)
        }
    }

    fn push_arg(&mut self, a: &OsString) -> Result<(), Throw> {
        let v = self.state.str_value(&os_bytes(a))?;
        self.state.push(v)
    }

    fn check(&mut self, r: Result<(), Throw>) -> Outcome {
        r.map_err(|t| self.report_throw(t))
    }

    fn report_throw(&mut self, t: Throw) -> Reported {
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
    fn report_value(&mut self, v: Value) -> Reported {
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

    fn report_io(&mut self, what: &str, name: &[u8], e: &std::io::Error) -> Reported {
        let mut msg = format!("cannot {what} ").into_bytes();
        msg.extend_from_slice(name);
        msg.extend_from_slice(b": ");
        msg.extend_from_slice(strerror(e).as_bytes());
        self.report(&msg)
    }

    /// `-b`: for now only the listing, `-bl file` (or `-b -l file`).
    fn bytecode(&mut self, args: &[OsString]) -> Outcome {
        let words: Vec<Vec<u8>> = args.iter().map(|a| os_bytes(a).into_owned()).collect();
        let file = match words.as_slice() {
            [b, path] if b.as_slice() == b"-bl" => path,
            [b, l, path] if b.as_slice() == b"-b" && l.as_slice() == b"-l" => path,
            _ => return self.unsupported("this form of -b"),
        };
        let path = bytes_to_os(file);
        let source = self.read_file(&path)?;
        let mut name = b"@".to_vec();
        name.extend_from_slice(file);
        match perilune::compiler::compile(&mut self.state, &source, &name) {
            Ok(p) => {
                print!("{}", perilune::compiler::listing(p));
                Ok(())
            }
            Err(e) => {
                let v = self.state.error_value(e);
                let text = v.as_string().map(|s| s.as_bytes().to_vec()).unwrap_or_default();
                Err(self.report(&text))
            }
        }
    }

    fn unsupported(&mut self, what: &str) -> Outcome {
        Err(self.report(format!("{what} is not supported yet").as_bytes()))
    }

    /// Print `<progname>: <msg>` on stderr.
    fn report(&mut self, msg: &[u8]) -> Reported {
        message(&self.progname, msg);
        Reported
    }
}

/// Print `<progname>: <msg>` on stderr (stdout is flushed first so the order of
/// interleaved output is kept).
pub fn message(progname: &[u8], msg: &[u8]) {
    let _ = std::io::stdout().flush();
    let mut line = Vec::with_capacity(progname.len() + msg.len() + 3);
    line.extend_from_slice(progname);
    line.extend_from_slice(b": ");
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
    let _ = err.write_all(
        b" [options]... [script [args]...].\n\
Available options are:\n\
\x20 -e chunk  Execute string 'chunk'.\n\
\x20 -l name   Require library 'name'.\n\
\x20 -b ...    Save or list bytecode.\n\
\x20 -j cmd    Perform LuaJIT control command.\n\
\x20 -O[opt]   Control LuaJIT optimizations.\n\
\x20 -i        Enter interactive mode after executing 'script'.\n\
\x20 -v        Show version information.\n\
\x20 -E        Ignore environment variables.\n\
\x20 --        Stop handling options.\n\
\x20 -         Execute stdin and stop handling options.\n",
    );
    let _ = err.flush();
}

fn print_version() {
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
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(pos) if e.raw_os_error().is_some() => text[..pos].to_string(),
        _ => text,
    }
}

fn bytes_to_os(b: &[u8]) -> OsString {
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
