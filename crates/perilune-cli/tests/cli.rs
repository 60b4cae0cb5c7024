//! The command line itself: `arg`, `-e`, stdin, `--`, usage errors, missing files,
//! uncaught error reports and `LUA_INIT`, each compared with LuaJIT's behaviour.
//!
//! `perilune_command_line` checks the `perilune` binary; `luajit_command_line` runs
//! the same cases through `luajit` (skipped when it is not installed) to prove the
//! expectations are LuaJIT's. All failures are reported together.

mod common;

use std::path::PathBuf;

use common::{diff, normalize_stderr, Interp};

/// One invocation and what it must produce (stderr is compared after
/// [`normalize_stderr`]).
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    stdin: Option<&'static str>,
    stdout: &'static str,
    stderr: &'static str,
    status: i32,
    /// Perilune deliberately differs from luajit here (e.g. the version banner).
    perilune_only: bool,
}

const CASE: Case = Case {
    name: "",
    args: &[],
    env: &[],
    stdin: None,
    stdout: "",
    stderr: "",
    status: 0,
    perilune_only: false,
};

const ARGS_LUA: &str = "print('script', select('#', ...), ...)\nfor i = -3, #arg do print(i, arg[i]) end\n";

const USAGE: &str = "usage: perilune [options]... [script [args]...].
Available options are:
  -e chunk  Execute string 'chunk'.
  -l name   Require library 'name'.
  -b ...    Save or list bytecode.
  -j cmd    Perform LuaJIT control command.
  -O[opt]   Control LuaJIT optimizations.
  -i        Enter interactive mode after executing 'script'.
  -v        Show version information.
  -E        Ignore environment variables.
  --        Stop handling options.
  -         Execute stdin and stop handling options.
";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "script with arguments",
            args: &["args.lua", "a", "b c"],
            stdout: "script\t2\ta\tb c\n-3\tnil\n-2\tnil\n-1\tperilune\n0\targs.lua\n1\ta\n2\tb c\n",
            ..CASE
        },
        Case {
            name: "options before the script get negative indices",
            args: &["-e", "x = 1", "args.lua", "-e"],
            stdout: "script\t1\t-e\n-3\tperilune\n-2\t-e\n-1\tx = 1\n0\targs.lua\n1\t-e\n",
            ..CASE
        },
        Case {
            name: "double dash ends the options",
            args: &["--", "args.lua", "--"],
            stdout: "script\t1\t--\n-3\tnil\n-2\tperilune\n-1\t--\n0\targs.lua\n1\t--\n",
            ..CASE
        },
        Case {
            name: "-e runs a chunk and arg has no script",
            args: &["-e", "print(arg[0], #arg, arg[-1], arg[-2], arg[-3], ...)"],
            stdout: "nil\t0\tprint(arg[0], #arg, arg[-1], arg[-2], arg[-3], ...)\t-e\tperilune\n",
            ..CASE
        },
        Case {
            name: "several -e in order, attached argument",
            args: &["-eprint(1)", "-e", "print(2)"],
            stdout: "1\n2\n",
            ..CASE
        },
        Case {
            name: "-e does not read stdin",
            args: &["-e", "print('e')"],
            stdin: Some("print('stdin')"),
            stdout: "e\n",
            ..CASE
        },
        Case {
            name: "- runs stdin with arguments",
            args: &["-", "x", "y"],
            stdin: Some("print(arg[0], ...)"),
            stdout: "-\tx\ty\n",
            ..CASE
        },
        Case {
            name: "no arguments and stdin not a terminal runs stdin",
            stdin: Some("#!shebang line\nprint('from stdin', arg[0], arg[-1])"),
            stdout: "from stdin\tnil\tperilune\n",
            ..CASE
        },
        Case {
            name: "error in stdin names the chunk stdin",
            args: &["-"],
            stdin: Some("print('ok')\nerror('bad')"),
            stdout: "ok\n",
            stderr: "perilune: stdin:2: bad\nstack traceback:\n\t[C]: in function 'error'\n\tstdin:2: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "error in -e",
            args: &["-e", "error('x')"],
            stderr: "perilune: (command line):1: x\nstack traceback:\n\t[C]: in function 'error'\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "a failing -e stops the run",
            args: &["-e", "error('first', 0)", "-e", "print('second')", "args.lua"],
            stderr: "perilune: first\nstack traceback:\n\t[C]: in function 'error'\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "syntax error in -e has no traceback",
            args: &["-e", "x ="],
            stderr: "perilune: (command line):1: unexpected symbol near '<eof>'\n",
            status: 1,
            ..CASE
        },
        Case { name: "error(nil) prints nothing", args: &["-e", "error(nil)"], status: 1, ..CASE },
        Case {
            name: "non-string error object",
            args: &["-e", "error({})"],
            stderr: "perilune: (error object is not a string)\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "error value that is a number",
            args: &["-e", "error(42, 0)"],
            stderr: "perilune: 42\nstack traceback:\n\t[C]: in function 'error'\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "missing script",
            args: &["nofile.lua"],
            stderr: "perilune: cannot open nofile.lua: No such file or directory\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "missing script named - after --",
            args: &["--", "-"],
            stdin: Some("print('not run')"),
            stderr: "perilune: cannot open -: No such file or directory\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "script is a directory",
            args: &["."],
            stderr: "perilune: cannot read .: Is a directory\n",
            status: 1,
            ..CASE
        },
        Case { name: "unknown option", args: &["-x"], stderr: USAGE, status: 1, ..CASE },
        Case { name: "unknown long option", args: &["--x"], stderr: USAGE, status: 1, ..CASE },
        Case { name: "-e without a chunk", args: &["-e"], stderr: USAGE, status: 1, ..CASE },
        Case { name: "flag with trailing text", args: &["-vx"], stderr: USAGE, status: 1, ..CASE },
        Case {
            name: "LUA_INIT runs first",
            args: &["-e", "print('main')"],
            env: &[("LUA_INIT", "print('init')")],
            stdout: "init\nmain\n",
            ..CASE
        },
        Case {
            name: "LUA_INIT @file",
            args: &["-e", "print('main')"],
            env: &[("LUA_INIT", "@args.lua")],
            stdout: "script\t0\n-3\tperilune\n-2\t-e\n-1\tprint('main')\n0\tnil\nmain\n",
            ..CASE
        },
        Case {
            name: "LUA_INIT error",
            args: &["-e", "print('main')"],
            env: &[("LUA_INIT", "error('init failed')")],
            stderr: "perilune: LUA_INIT:1: init failed\nstack traceback:\n\t[C]: in function 'error'\n\tLUA_INIT:1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-E ignores LUA_INIT",
            args: &["-E", "-e", "print('main')"],
            env: &[("LUA_INIT", "print('init')")],
            stdout: "main\n",
            ..CASE
        },
        Case {
            name: "-v prints the version and does not read stdin",
            args: &["-v"],
            stdin: Some("print('stdin')"),
            stdout: concat!("Perilune ", env!("CARGO_PKG_VERSION"), " -- a LuaJIT-compatible Lua 5.1 runtime\n"),
            perilune_only: true,
            ..CASE
        },
    ]
}

/// A scratch folder with the fixture script.
fn fixture_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perilune-cli-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create fixture dir");
    std::fs::write(dir.join("args.lua"), ARGS_LUA).expect("write fixture");
    dir
}

fn run_cases(interp: &Interp, tag: &str) {
    let dir = fixture_dir(tag);
    let timeout = common::timeout();
    let mut failures = Vec::new();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| interp.name == "perilune" || !c.perilune_only)
        .collect();
    for case in &cases {
        let got = match interp.run_env(&dir, case.args, case.env, case.stdin.map(str::as_bytes), timeout) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!(
                    "=== {}\n  cannot run {}: {e}\n",
                    case.name,
                    interp.program.display()
                ));
                continue;
            }
        };
        let mut report = String::new();
        if got.timed_out {
            report.push_str("  timed out (killed)\n");
        }
        if got.status != Some(case.status) {
            let got = got.status_text();
            report.push_str(&format!("  exit status: expected {}, got {got}\n", case.status));
        }
        if got.stdout != case.stdout.as_bytes() {
            report.push_str(&diff("stdout", case.stdout.as_bytes(), &got.stdout));
        }
        let err = normalize_stderr(&got.stderr);
        if err != case.stderr.as_bytes() {
            report.push_str(&diff("stderr", case.stderr.as_bytes(), &err));
        }
        if !report.is_empty() {
            failures.push(format!("=== {} (args {:?})\n{report}", case.name, case.args));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{}: {} of {} command-line cases passed",
        interp.name,
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{}: {} command-line cases failed:\n\n{}",
        interp.name,
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn perilune_command_line() {
    run_cases(&Interp::perilune(), "perilune");
}

#[test]
fn luajit_command_line() {
    match Interp::luajit() {
        Some(luajit) => run_cases(&luajit, "luajit"),
        None => eprintln!("note: luajit not found; differential command-line test skipped"),
    }
}
