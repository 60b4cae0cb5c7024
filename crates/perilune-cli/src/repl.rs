//! The interactive prompt (`perilune` on a terminal, or `-i`).
//!
//! Each input is compiled as the chunk `stdin`:
//! - `=expr` is `return expr` (Lua 5.1's shorthand);
//! - otherwise the input is tried as an expression list first, so an expression typed
//!   alone prints its values (as Lua 5.3+ does), and it is compiled as statements when
//!   it is not one; a call is made without a tail call (see [`returning`]), so errors
//!   in it keep their `stdin:1:` position;
//! - a syntax error that ends at `'<eof>'` means the input is incomplete: the prompt
//!   `>> ` asks for more lines, which are added to it (Lua's rule);
//! - results, if any, are printed with the global `print`.
//!
//! Errors are printed without the program-name prefix, with a traceback, and the
//! prompt comes back. The prompts are `> ` and `>> `, or the values of the globals
//! `_PROMPT` and `_PROMPT2` when they are strings or numbers.
//!
//! On a terminal, lines are edited with `rustyline`; history persists in the file
//! named by `PERILUNE_HISTORY` (empty: no history file) or `~/.perilune_history`.
//! Ctrl-C at the prompt drops the line being typed (and any unfinished statement);
//! Ctrl-C while code runs raises `interrupted!` in it ([`crate::interrupt`]); Ctrl-D
//! on an empty line ends the session. When standard input is not a terminal (`-i` with
//! a pipe) lines are read plainly and the prompts are written to standard output, as
//! luajit does.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use perilune::{BString, Error, Function, Lua, MultiValue, ReportStyle, Value};

use crate::session::Session;

const CHUNKNAME: &str = "=stdin";

/// What reading a line gave.
enum Input {
    Line(Vec<u8>),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D or end of input.
    Eof,
}

/// Where lines come from.
trait LineSource {
    fn read(&mut self, prompt: &str) -> Input;
    /// Remember a complete input in the history.
    fn remember(&mut self, _entry: &str) {}
}

/// A terminal, through rustyline.
struct Terminal {
    editor: rustyline::DefaultEditor,
    history: Option<PathBuf>,
}

impl LineSource for Terminal {
    fn read(&mut self, prompt: &str) -> Input {
        use rustyline::error::ReadlineError;
        crate::session::flush_stdout();
        match self.editor.readline(prompt) {
            Ok(line) => Input::Line(line.into_bytes()),
            Err(ReadlineError::Interrupted) => Input::Interrupted,
            Err(_) => Input::Eof,
        }
    }

    fn remember(&mut self, entry: &str) {
        if entry.trim().is_empty() {
            return;
        }
        let _ = self.editor.add_history_entry(entry);
        // Saved after every entry, so `os.exit` or a kill loses nothing.
        if let Some(path) = &self.history {
            let _ = self.editor.save_history(path);
        }
    }
}

/// Standard input that is not a terminal: prompts on stdout, no editing.
struct Plain;

impl LineSource for Plain {
    fn read(&mut self, prompt: &str) -> Input {
        crate::session::write_stdout(prompt.as_bytes());
        let mut line = Vec::new();
        match std::io::stdin().lock().read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => Input::Eof,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                Input::Line(line)
            }
        }
    }
}

/// The history file: `PERILUNE_HISTORY` (empty disables it) or `~/.perilune_history`.
pub fn history_path() -> Option<PathBuf> {
    match std::env::var_os("PERILUNE_HISTORY") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".perilune_history")),
    }
}

fn terminal() -> Option<Terminal> {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(1000)
        .ok()?
        .history_ignore_dups(true)
        .ok()?
        .build();
    let mut editor = rustyline::DefaultEditor::with_config(config).ok()?;
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    Some(Terminal { editor, history })
}

/// Run the prompt until end of input.
pub fn run(session: &mut Session) {
    let mut source: Box<dyn LineSource> = if std::io::stdin().is_terminal() {
        match terminal() {
            Some(t) => Box::new(t),
            None => Box::new(Plain),
        }
    } else {
        Box::new(Plain)
    };
    let saved = session.prefix_reports;
    session.prefix_reports = false;
    {
        let session: &Session = session;
        while let Some(ready) = read_chunk(session, source.as_mut()) {
            if let Some(f) = ready {
                run_chunk(session, &f);
            }
        }
    }
    session.prefix_reports = saved;
    crate::session::write_stdout(b"\n");
}

/// What compiling the input gave.
enum Compiled {
    Ready(Function),
    /// The input ends in the middle of a statement.
    Incomplete,
    Failed(Error),
}

/// Read and compile one input. `None` at end of input; `Some(Some(f))` with the
/// function to run; `Some(None)` when nothing is to run (an error was reported, or
/// the line was dropped with Ctrl-C).
fn read_chunk(session: &Session, source: &mut dyn LineSource) -> Option<Option<Function>> {
    let first = prompt(&session.lua, "_PROMPT", "> ");
    let mut buffer = match source.read(&first) {
        Input::Line(l) => l,
        Input::Interrupted => return Some(None),
        Input::Eof => return None,
    };
    loop {
        match compile(&session.lua, &buffer) {
            Compiled::Ready(f) => {
                source.remember(&String::from_utf8_lossy(&buffer));
                return Some(Some(f));
            }
            Compiled::Failed(e) => {
                source.remember(&String::from_utf8_lossy(&buffer));
                session.report_error(&e);
                return Some(None);
            }
            Compiled::Incomplete => {}
        }
        let more = prompt(&session.lua, "_PROMPT2", ">> ");
        match source.read(&more) {
            Input::Line(l) => {
                buffer.push(b'\n');
                buffer.extend_from_slice(&l);
            }
            Input::Interrupted => return Some(None),
            // As lua does: an unfinished statement at end of input ends the session.
            Input::Eof => return None,
        }
    }
}

/// Compile `source` as the chunk `stdin` (nothing runs).
fn load(lua: &Lua, source: &[u8]) -> perilune::Result<Function> {
    lua.load(source).set_name(CHUNKNAME).into_function()
}

/// Compile an input (see the module docs for the rules).
fn compile(lua: &Lua, input: &[u8]) -> Compiled {
    let (expr, statement_allowed) = match input.strip_prefix(b"=") {
        Some(rest) => (rest, false),
        None => (input, true),
    };
    match classify(load(lua, &with_return(expr))) {
        Compiled::Ready(f) => {
            // An expression list that is also a statement is a single call, which
            // `return` would make a tail call: run it through `returning` instead.
            if load(lua, expr).is_err() {
                return Compiled::Ready(f);
            }
            classify(load(lua, &returning(expr)))
        }
        other if !statement_allowed => other,
        _ => classify(load(lua, input)),
    }
}

/// `return <expr>`: compiles exactly when the text is an expression list.
fn with_return(expr: &[u8]) -> Vec<u8> {
    let mut s = b"return ".to_vec();
    s.extend_from_slice(expr);
    s
}

/// A chunk returning all results of a call, made in the chunk's own frame. A plain
/// `return f()` is a tail call (as in LuaJIT), which drops the chunk's frame, so an
/// error in `f` would lose its `stdin:1:` position and the traceback its main chunk.
/// The call is the argument of an identity function instead; the `)` goes on a line
/// of its own so that a trailing comment cannot hide it (the call itself is still
/// made on the call's own line).
fn returning(expr: &[u8]) -> Vec<u8> {
    let mut s = b"return (function(...) return ... end)(".to_vec();
    s.extend_from_slice(expr);
    s.extend_from_slice(b"\n)");
    s
}

/// A syntax error at the end of the input (the message ends with `'<eof>'`) means
/// the input is incomplete (Lua's rule).
fn classify(r: perilune::Result<Function>) -> Compiled {
    match r {
        Ok(f) => Compiled::Ready(f),
        Err(Error::SyntaxError { message, .. }) if message.ends_with("'<eof>'") => Compiled::Incomplete,
        Err(e) => Compiled::Failed(e),
    }
}

/// Run the compiled input and print its results.
fn run_chunk(session: &Session, f: &Function) {
    match session.call_interruptible(f, Vec::new(), ReportStyle::Traceback) {
        Ok(results) if !results.is_empty() => print_results(session, results),
        Ok(_) => {}
        Err(e) => {
            session.report_error(&e);
        }
    }
}

/// Call the global `print` with the results.
fn print_results(session: &Session, results: MultiValue) {
    let print = match session.lua.globals().raw_get::<Value>("print") {
        Ok(p) => p,
        Err(e) => {
            session.report_error(&e);
            return;
        }
    };
    if let Err(e) = session.try_call_value(print, results.into_vec(), ReportStyle::Message) {
        let text = e.report().unwrap_or_else(|| b"(error object is not a string)".to_vec());
        let mut msg = b"error calling 'print' (".to_vec();
        msg.extend_from_slice(&text);
        msg.push(b')');
        session.report(&msg);
    }
}

/// The prompt: the global `name` when it is a string or number, else `default`.
fn prompt(lua: &Lua, name: &str, default: &str) -> String {
    match lua.globals().raw_get::<Value>(name) {
        Ok(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => match lua.unpack::<BString>(v) {
            Ok(s) => String::from_utf8_lossy(&s.0).into_owned(),
            Err(_) => default.to_string(),
        },
        _ => default.to_string(),
    }
}
