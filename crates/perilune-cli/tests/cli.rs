//! The command line itself: `arg`, `-e`, `-l`, `-j`, `-O`, `-b`, `-i` on a pipe,
//! stdin, `--`, usage errors, missing files, uncaught error reports, `LUA_INIT`,
//! `os.exit` statuses, and Perilune's `--memory-limit` and `--help`, each compared
//! with LuaJIT's behaviour where LuaJIT has it.
//!
//! `perilune_command_line` checks the `perilune` binary; `luajit_command_line` runs
//! the same cases (less the `perilune_only` ones) through `luajit` (skipped when it is
//! not installed) to prove the expectations are LuaJIT's. All failures are reported
//! together. Ctrl-C on a running script is checked by `sigint_interrupts_a_script`;
//! the interactive prompt on a terminal by `tests/prompt.rs`.

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

/// A script whose bytecode listing Perilune and luajit agree on.
const LIST_LUA: &str = "x = 1\n";

/// `luajit -bl` of [`LIST_LUA`] and of `-e x=1`.
const LISTING: &str = "-- BYTECODE -- list.lua:0-2\n0001    KSHORT   0   1\n0002    GSET     0   0      ; \"x\"\n0003    RET0     0   1\n\n";
const LISTING_E: &str = "-- BYTECODE -- \"x=1\":0-1\n0001    KSHORT   0   1\n0002    GSET     0   0      ; \"x\"\n0003    RET0     0   1\n\n";

const BC_USAGE: &str = "Save Perilune bytecode: perilune -b[options] input output
  -l        Only list bytecode.
  -s        Strip debug info (default).
  -g        Keep debug info.
  -n name   Set module name (default: auto-detect from input name).
  -t type   Set output file type (default: auto-detect from output name).
  -a arch   Override architecture for object files (default: native).
  -o os     Override OS for object files (default: native).
  -e chunk  Use chunk string as input.
  --        Stop handling options.
  -         Use stdin as input and/or stdout as output.

File types: c h raw (default)
";

/// What `-jv` and `-jdump` print when the JIT is off (the default): nothing.
const NO_TRACES_V: &str = "";
const NO_TRACES_DUMP: &str = "";

const VERSION: &str = concat!(
    "Perilune ",
    env!("CARGO_PKG_VERSION"),
    " -- a LuaJIT-compatible Lua 5.1 runtime\n"
);

/// A runaway allocation for the memory-limit cases.
const RUNAWAY: &str = "local t = {} for i = 1, 1e9 do t[i] = i end";

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

/// A 271-byte command line (a string of 262 `x`s), then two short ones.
const DEBUG_LONG_LINE: &str = concat!(
    "print(\"",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "\")\nprint(2)\ncont\n"
);

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
            name: "LUA_PATH sets package.path, ;; is the default",
            args: &["-e", "print(package.path:sub(1, 9), package.path:sub(-6))"],
            env: &[("LUA_PATH", "./x/?.lua;;!")],
            stdout: "./x/?.lua\t.lua;!\n",
            ..CASE
        },
        Case {
            name: "-E ignores LUA_PATH",
            args: &["-E", "-e", "print(package.path:sub(1, 7))"],
            env: &[("LUA_PATH", "./x/?.lua")],
            stdout: "./?.lua\n",
            ..CASE
        },
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
            stdout: VERSION,
            perilune_only: true,
            ..CASE
        },
        Case { name: "-h is a usage error", args: &["-h"], stderr: USAGE, status: 1, ..CASE },
        // -l: a module that is not found. Perilune-only: luajit names no C function
        // called from C in a traceback (it prints `[C]: at 0x...` for `require`).
        Case {
            name: "-l with a module that is not found",
            args: &["-e", "package.path='./?.lua' package.cpath=''", "-l", "mod", "-e", "print('not run')"],
            stderr: "perilune: module 'mod' not found:\n\tno field package.preload['mod']\n\tno file './mod.lua'\nstack traceback:\n\t[C]: in function 'require'\n\t[C]: at 0x?\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-l calls the global require",
            args: &["-e", "function require(n) print('require', n) end", "-lfoo", "-e", "print('after')"],
            stdout: "require\tfoo\nafter\n",
            ..CASE
        },
        Case {
            name: "-l reports an error from require with a traceback",
            args: &["-e", "function require(n) error('no '..n, 0) end", "-l", "foo"],
            stderr: "perilune: no foo\nstack traceback:\n\t[C]: in function 'error'\n\t(command line):1: in function <(command line):1>\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        // -j and -O: accepted without effect, with luajit's checks.
        Case {
            name: "-j on/off/flush/status and -O forms are accepted",
            args: &["-jon", "-joff", "-jflush", "-j", "status", "-joff=", "-O", "-O3", "-Ofold,nocse,no-dse,-abc,+sink", "-Ohotloop=10,minstitch=0", "-e", "print('ok')"],
            stdout: "ok\n",
            ..CASE
        },
        Case {
            name: "-j with an unknown command",
            args: &["-jnosuchcommand", "-e", "print('not run')"],
            stderr: "perilune: unknown luaJIT command or jit.* modules not installed\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-jon -jv prints a line per trace",
            args: &["-jon", "-Ohotloop=1", "-jv", "-e", "for i = 1, 3 do end for i = 1, 3 do g = i end"],
            stderr: "[TRACE   1 (command line):1 loop]\n[TRACE --- (command line):1 -- NYI: bytecode GSET]\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-jv with the JIT off prints nothing and goes on",
            args: &["-jv", "-e", "print('run')"],
            stdout: "run\n",
            stderr: NO_TRACES_V,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-jdump with the JIT off prints nothing and goes on",
            args: &["-jdump", "-e", "print('run')"],
            stdout: "run\n",
            stderr: NO_TRACES_DUMP,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-jv=file and -jdump=opts,file",
            args: &["-jv=v.out", "-jdump=tbim,dump.out", "-e", "print(io.open('v.out'):read('*a') == '', io.open('dump.out') ~= nil)"],
            stdout: "true\ttrue\n",
            stderr: "",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-jv with a file that cannot be opened",
            args: &["-jv=/nonexistent/dir/v.out", "-e", "print('not run')"],
            stderr: "perilune: jit/v.lua:49: /nonexistent/dir/v.out: No such file or directory\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-jp with no samples",
            args: &["-jp", "-e", "print('run')"],
            stdout: "run\n[No samples collected]\n",
            ..CASE
        },
        Case {
            name: "-jp=G with no samples prints nothing",
            args: &["-jp=G", "-e", "print('run')"],
            stdout: "run\n",
            ..CASE
        },
        Case {
            name: "-jon with an argument",
            args: &["-jon=1"],
            stderr: "perilune: bad argument #1 to '?' (function expected, got string)\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-O with an unknown flag",
            args: &["-Onofoo"],
            stderr: "perilune: unknown or malformed optimization flag 'nofoo'\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-O with a malformed parameter",
            args: &["-Ohotloop=-1"],
            stderr: "perilune: unknown or malformed optimization flag 'hotloop=-1'\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-O with an empty piece",
            args: &["-O3,"],
            stderr: "perilune: bad argument #2 to '?' (string expected, got nil)\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-O still checks its pieces when a script removed jit",
            args: &["-e", "jit = nil", "-O3,+fold,hotloop=1", "-e", "print('ok')"],
            stdout: "ok\n",
            ..CASE
        },
        Case {
            name: "-O with an unknown flag when a script removed jit",
            args: &["-e", "jit = nil", "-Ofoo"],
            stderr: "perilune: unknown or malformed optimization flag 'foo'\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-O with an empty piece when a script removed jit",
            args: &["-e", "jit = nil", "-O3,,fold"],
            stderr: "perilune: bad argument #2 to '?' (string expected, got nil)\n",
            status: 1,
            ..CASE
        },
        // -b: listings.
        Case { name: "-bl file", args: &["-bl", "list.lua"], stdout: LISTING, ..CASE },
        Case { name: "-b -l file", args: &["-b", "-l", "list.lua"], stdout: LISTING, ..CASE },
        Case { name: "-bl -e chunk", args: &["-bl", "-e", "x=1"], stdout: LISTING_E, ..CASE },
        Case {
            name: "-bl - reads stdin",
            args: &["-bl", "-"],
            stdin: Some(LIST_LUA),
            stdout: "-- BYTECODE -- stdin:0-2\n0001    KSHORT   0   1\n0002    GSET     0   0      ; \"x\"\n0003    RET0     0   1\n\n",
            ..CASE
        },
        Case {
            name: "-O and LUA_INIT run before -b",
            args: &["-O3", "-bl", "list.lua"],
            env: &[("LUA_INIT", "print('init')")],
            stdout: concat!("init\n", "-- BYTECODE -- list.lua:0-2\n0001    KSHORT   0   1\n0002    GSET     0   0      ; \"x\"\n0003    RET0     0   1\n\n"),
            ..CASE
        },
        Case { name: "-b after -v is a usage error", args: &["-v", "-bl", "list.lua"], stderr: USAGE, status: 1, ..CASE },
        Case { name: "-b after -e is a usage error", args: &["-e", "x=1", "-bl", "list.lua"], stderr: USAGE, status: 1, ..CASE },
        Case {
            name: "-bl with a missing file",
            args: &["-bl", "nofile.lua"],
            stderr: "perilune: cannot open nofile.lua: No such file or directory\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-bl with a syntax error",
            args: &["-bl", "-e", "x("],
            stderr: "perilune: [string \"x(\"]:1: unexpected symbol near '<eof>'\n",
            status: 1,
            ..CASE
        },
        Case { name: "-b alone prints the tool's usage", args: &["-b"], stderr: BC_USAGE, status: 1, perilune_only: true, ..CASE },
        Case { name: "-bl with too many files", args: &["-bl", "a", "b", "c"], stderr: BC_USAGE, status: 1, perilune_only: true, ..CASE },
        // -b: saving.
        Case {
            name: "-b with an unknown file type",
            args: &["-b", "-t", "zz", "list.lua", "x"],
            stderr: "perilune: unknown file type\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-b with a bad module name",
            args: &["-b", "-n", "a b", "list.lua", "x.c"],
            stderr: "perilune: bad module name\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-b to C without a module name",
            args: &["-b", "-e", "x=1", "-t", "c", "-"],
            stderr: "perilune: cannot derive module name, use -n name\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-b with an unknown architecture",
            args: &["-b", "-a", "vax", "list.lua", "x.o"],
            stderr: "perilune: unknown architecture\n",
            status: 1,
            ..CASE
        },
        Case {
            // luajit writes the errno after the message ("...directory2").
            name: "-b to a file that cannot be written",
            args: &["-b", "list.lua", "/nonexistent/dir/x.bc"],
            stderr: "perilune: /nonexistent/dir/x.bc: No such file or directory\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-b with a missing input",
            args: &["-b", "nofile.lua", "x.bc"],
            stderr: "perilune: cannot open nofile.lua: No such file or directory\n",
            status: 1,
            ..CASE
        },
        Case {
            name: "-b refuses object files",
            args: &["-b", "list.lua", "list.o"],
            stderr: "perilune: object files are not supported: write C source with -t c or -t h\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        // os.exit
        Case { name: "os.exit()", args: &["-e", "os.exit()"], ..CASE },
        Case { name: "os.exit(3) flushes stdout", args: &["-e", "print('a') os.exit(3) print('b')"], stdout: "a\n", status: 3, ..CASE },
        Case { name: "os.exit(true)", args: &["-e", "os.exit(true)"], ..CASE },
        Case { name: "os.exit(false)", args: &["-e", "os.exit(false)"], status: 1, ..CASE },
        Case { name: "os.exit(-1)", args: &["-e", "os.exit(-1)"], status: 255, ..CASE },
        Case { name: "os.exit(263)", args: &["-e", "os.exit(263)"], status: 7, ..CASE },
        Case { name: "os.exit('5')", args: &["-e", "os.exit('5')"], status: 5, ..CASE },
        Case { name: "os.exit(2.7)", args: &["args.lua", "-e"], env: &[("LUA_INIT", "os.exit(2.7)")], status: 2, ..CASE },
        Case {
            name: "os.exit with a bad argument",
            args: &["-e", "os.exit('x')"],
            stderr: "perilune: (command line):1: bad argument #1 to 'exit' (number expected, got string)\nstack traceback:\n\t[C]: in function 'exit'\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            ..CASE
        },
        Case { name: "os.exit in a script", args: &["-"], stdin: Some("print(1)\nos.exit(9)\nprint(2)"), stdout: "1\n", status: 9, ..CASE },
        // -i with standard input that is not a terminal: prompts on stdout.
        Case {
            name: "-i on a pipe",
            args: &["-i"],
            stdin: Some("print(1)\n=1+1\nfor i=1,2 do\nprint(i)\nend\nerror('x')\nx = \n5\n=x\n"),
            stdout: concat!("Perilune ", env!("CARGO_PKG_VERSION"), " -- a LuaJIT-compatible Lua 5.1 runtime\n", "> 1\n> 2\n> >> >> 1\n2\n> > >> > 5\n> \n"),
            stderr: "stdin:1: x\nstack traceback:\n\t[C]: in function 'error'\n\tstdin:1: in main chunk\n\t[C]: at 0x?\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-i: an expression alone prints its values",
            args: &["-i", "-e", "function f() return 1, nil, 'x' end"],
            stdin: Some("f()\n1 + 1 -- comment\ntype(f)\n  \nlocal a = 5\n_PROMPT = 'lua> '\n"),
            stdout: concat!("Perilune ", env!("CARGO_PKG_VERSION"), " -- a LuaJIT-compatible Lua 5.1 runtime\n", "> 1\tnil\tx\n> 2\n> function\n> > > lua> \n"),
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-i: errors in expressions keep their position",
            args: &["-i"],
            stdin: Some("nosuch.field\nerror()\nerror({})\n"),
            stdout: concat!("Perilune ", env!("CARGO_PKG_VERSION"), " -- a LuaJIT-compatible Lua 5.1 runtime\n", "> > > > \n"),
            stderr: "stdin:1: attempt to index global 'nosuch' (a nil value)\nstack traceback:\n\tstdin:1: in main chunk\n\t[C]: at 0x?\n(error object is not a string)\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "-i after a failing script does not start",
            args: &["-i", "-e", "error('x', 0)"],
            stdin: Some("print('not run')\n"),
            stdout: VERSION,
            stderr: "perilune: x\nstack traceback:\n\t[C]: in function 'error'\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        // debug.debug reads at most 249 bytes per command, as luajit's fgets buffer; it
        // used to read any line whole, outside the heap (an endless one aborted).
        Case {
            name: "debug.debug runs a long line in 249-byte pieces",
            args: &["-e", "debug.debug() print('after')"],
            stdin: Some(DEBUG_LONG_LINE),
            stdout: "2\nafter\n",
            stderr: "lua_debug> (debug command):1: unfinished string near '<eof>'\n\
                     lua_debug> (debug command):1: unfinished string near '\")'\n\
                     lua_debug> lua_debug> ",
            ..CASE
        },
        // --memory-limit
        Case {
            name: "--memory-limit turns a runaway allocation into an error",
            args: &["--memory-limit", "10M", "-e", RUNAWAY],
            stderr: "perilune: not enough memory\nstack traceback:\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "--memory-limit: pcall catches it and the state goes on",
            args: &["--memory-limit=10M", "-e", "print(pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end)) print('after')"],
            stdout: "false\tnot enough memory\nafter\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "--memory-limit: right after pcall returns, print and new tables work",
            args: &[
                "--memory-limit",
                "32M",
                "-e",
                "local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = {} end end) print(ok, e) \
                 print(coroutine.resume(coroutine.create(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(40) .. i end end))) \
                 local u = {} for i = 1, 1000 do u[i] = {i} end print(#u)",
            ],
            stdout: "false\tnot enough memory\nfalse\tnot enough memory\n1000\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "an error in a finalizer is reported on stderr and the script goes on",
            args: &[
                "-e",
                "local p = newproxy(true) getmetatable(p).__gc = function() error('boom') end p = nil \
                 collectgarbage() print('after') \
                 local q = newproxy(true) getmetatable(q).__gc = function() error({}) end _G.q = q",
            ],
            stdout: "after\n",
            stderr: "ERROR in finalizer: (command line):1: boom\nERROR in finalizer: ?\n",
            // luajit 2.1.0-beta3 rethrows from collectgarbage; v2.1 reports it like this.
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "a long finalizer runs to completion, as in luajit",
            args: &[
                "-e",
                "local p = newproxy(true) getmetatable(p).__gc = function() local x = 0 \
                 for i = 1, 2e7 do x = x + 1 end print('finalized', x) end p = nil collectgarbage() print('after')",
            ],
            stdout: "finalized\t20000000\nafter\n",
            ..CASE
        },
        Case {
            name: "--memory-limit too small to start",
            args: &["--memory-limit", "1K", "-e", "print('not run')"],
            stderr: "perilune: not enough memory\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "--memory-limit with a bad size",
            args: &["--memory-limit", "10X", "-e", "print('not run')"],
            stderr: "perilune: bad memory limit '10X' (expected bytes, or a number with K, M or G)\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "--memory-limit without a size",
            args: &["--memory-limit"],
            stderr: "perilune: --memory-limit needs a size\n",
            status: 1,
            perilune_only: true,
            ..CASE
        },
        // The command opens `ffi` as luajit does: for `require`, not as a global.
        Case {
            name: "require('ffi') gives the ffi module, not a global",
            args: &["-e", "local f = require('ffi') print(type(f), ffi, type(f.new), package.loaded.ffi == f)"],
            stdout: "table\tnil\tfunction\ttrue\n",
            ..CASE
        },
        Case {
            name: "-l ffi loads the ffi module",
            args: &["-l", "ffi", "-e", "print(type(ffi), package.loaded.ffi.arch)"],
            stdout: "nil\tx64\n",
            ..CASE
        },
        Case {
            name: "a preloaded ffi module is used",
            args: &["-e", "package.preload.ffi = function() return 'shim' end print(require('ffi'))"],
            stdout: "shim\n",
            ..CASE
        },
        Case {
            name: "a C module found on package.cpath cannot be loaded, and says why",
            args: &["-e", "package.path = './?.lua' package.cpath = './?.so' print(pcall(require, 'cmod'))"],
            stdout: "false\terror loading module 'cmod' from file './cmod.so':\n\
                     \tPerilune cannot load C modules yet: it has no Lua C API for them to call\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "a C submodule found by the all-in-one loader",
            args: &["-e", "package.path = './?.lua' package.cpath = './?.so' print(pcall(require, 'cmod.sub'))"],
            stdout: "false\terror loading module 'cmod.sub' from file './cmod.so':\n\
                     \tPerilune cannot load C modules yet: it has no Lua C API for them to call\n",
            perilune_only: true,
            ..CASE
        },
        Case {
            name: "package.loadlib says why it cannot load",
            args: &["-e", "print(package.loadlib('./cmod.so', 'luaopen_cmod'))"],
            stdout: "nil\tPerilune cannot load C modules yet: it has no Lua C API for them to call\tabsent\n",
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
    std::fs::write(dir.join("list.lua"), LIST_LUA).expect("write fixture");
    // Found on package.cpath by the C-module cases (never loaded).
    std::fs::write(dir.join("cmod.so"), b"").expect("write fixture");
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

#[test]
fn help_lists_everything() {
    let dir = fixture_dir("help");
    let got = Interp::perilune()
        .run(&dir, &["--help"], None, common::timeout())
        .expect("run perilune");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(got.status, Some(0), "status");
    let out = String::from_utf8_lossy(&got.stdout);
    assert!(
        out.starts_with("usage: perilune [options]... [script [args]...].\n"),
        "{out}"
    );
    for option in [
        "-e chunk",
        "-l name",
        "-b ...",
        "-j cmd",
        "-O[opt]",
        "-i ",
        "-v ",
        "-E ",
        "--memory-limit SIZE",
        "--help",
        "LUA_INIT",
        "PERILUNE_HISTORY",
    ] {
        assert!(out.contains(option), "--help does not mention {option}:\n{out}");
    }
    // An installed command has no repository around it.
    for repo_file in ["docs/", ".md", "README", "crates/"] {
        assert!(
            !out.contains(repo_file),
            "--help refers to a file of the repository ({repo_file}):\n{out}"
        );
    }
    assert!(
        got.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&got.stderr)
    );
}

/// Ctrl-C (SIGINT) while a script runs raises `interrupted!` in it: uncaught, it is
/// reported with a traceback and the status is 1; `pcall` can catch it.
#[cfg(unix)]
#[test]
fn sigint_interrupts_a_script() {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    // `ready` is flushed explicitly: stdout is a pipe here, fully buffered as in
    // luajit, and the test waits for it.
    let cases: &[(&str, &str, &str, i32)] = &[
        (
            "print('ready') io.stdout:flush() while true do end",
            "ready\n",
            "perilune: (command line):1: interrupted!\nstack traceback:\n\t(command line):1: in main chunk\n\t[C]: at 0x?\n",
            1,
        ),
        (
            "print('ready') io.stdout:flush() print(pcall(function() while true do end end)) print('next')",
            "ready\nfalse\t(command line):1: interrupted!\nnext\n",
            "",
            0,
        ),
    ];
    for &(chunk, stdout, stderr, status) in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_perilune"))
            .arg0("perilune")
            .args(["-e", chunk])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn perilune");
        // Wait for "ready" so the handler is installed and the loop is running.
        let mut out = child.stdout.take().expect("stdout");
        let mut first = [0u8; 6];
        std::io::Read::read_exact(&mut out, &mut first).expect("read ready");
        assert_eq!(&first, b"ready\n");
        std::thread::sleep(Duration::from_millis(100));
        let killed = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let start = Instant::now();
        let exit = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("perilune did not stop after SIGINT: {chunk}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut rest);
        let mut err = Vec::new();
        let _ = std::io::Read::read_to_end(&mut child.stderr.take().expect("stderr"), &mut err);
        let mut all = first.to_vec();
        all.extend_from_slice(&rest);
        assert_eq!(String::from_utf8_lossy(&all), stdout, "stdout of {chunk}");
        assert_eq!(
            String::from_utf8_lossy(&normalize_stderr(&err)),
            stderr,
            "stderr of {chunk}"
        );
        assert_eq!(exit.code(), Some(status), "status of {chunk}");
    }
}

/// The memory limit bounds the process, not only the live objects: the fragmentation
/// workload (`bench/memory/fragmentation.lua`: keep one string per 64 KiB, collect,
/// move to the next size) pins pages, and those count against the limit. Before the
/// page arena (docs/memory.md) this run peaked at 97 MB of resident memory under
/// `--memory-limit 8M`, and at 106 MB under 24M.
#[cfg(target_os = "linux")]
#[test]
fn memory_limit_bounds_resident_memory() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("bench/memory/fragmentation.lua");
    for limit_mb in [8usize, 24] {
        let chunk = format!(
            "arg = {{'4', '16'}} dofile({:?}) \
             print(io.open('/proc/self/status'):read('*a'):match('VmHWM:%s*(%d+) kB'))",
            script.to_string_lossy()
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_perilune"))
            .arg(format!("--memory-limit={limit_mb}M"))
            .args(["-e", &chunk])
            .output()
            .expect("spawn perilune");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut lines = stdout.lines();
        assert!(
            lines.next().unwrap_or("").starts_with("rounds 16, out of memory in "),
            "{stdout}"
        );
        let peak_kb: usize = lines.next().and_then(|l| l.trim().parse().ok()).expect("VmHWM");
        // The constant: the command's own code, stacks and fixed structures (about
        // 2.6 MB for `perilune -e ''`), plus at most a page of overshoot.
        let bound_kb = (limit_mb + 6) * 1024;
        assert!(
            peak_kb <= bound_kb,
            "--memory-limit {limit_mb}M: peak RSS {peak_kb} kB > {bound_kb} kB"
        );
    }
}

/// When the process itself runs out of memory (here `ulimit -v`), the command reports
/// `not enough memory` and exits with status 1, as luajit does; Rust's own allocations
/// on the reporting path must not abort it. Scripts that catch the error go on.
#[test]
fn process_out_of_memory_is_an_error() {
    use std::process::Command;
    let cases: &[(&str, &str, i32)] = &[
        ("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end", "", 1),
        ("local t = {} for i = 1, 1e9 do t[i] = {i} end", "", 1),
        (
            "local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end end) \
             print(ok, e) local u = {} for i = 1, 100 do u[i] = {i} end print(#u)",
            "false\tnot enough memory\n100\n",
            0,
        ),
    ];
    for &(chunk, stdout, status) in cases {
        // 150 MB of address space: the binary and its allocators start in far less.
        let out = Command::new("sh")
            .args(["-c", "ulimit -v 150000 && exec \"$0\" -e \"$1\""])
            .arg(env!("CARGO_BIN_EXE_perilune"))
            .arg(chunk)
            .output()
            .expect("spawn sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{chunk}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{chunk}");
        if status == 1 {
            assert!(stderr.contains(": not enough memory\n"), "{chunk}: {stderr}");
        } else {
            assert_eq!(stderr, "", "{chunk}");
        }
    }
}

/// The default `package.cpath` has Debian's multiarch directory where luajit's has it
/// (`LUA_CPATH` ignored with `-E`); the installed luajit agrees when it is Debian's.
#[test]
fn default_cpath_is_luajits() {
    let dir = fixture_dir("cpath");
    let chunk = ["-E", "-e", "print(package.cpath)"];
    let got = Interp::perilune()
        .run(&dir, &chunk, None, common::timeout())
        .expect("run perilune");
    let cpath = String::from_utf8_lossy(&got.stdout).into_owned();
    let triple = if cfg!(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")) {
        Some("x86_64-linux-gnu")
    } else if cfg!(all(target_os = "linux", target_arch = "aarch64", target_env = "gnu")) {
        Some("aarch64-linux-gnu")
    } else {
        None
    };
    if let Some(t) = triple {
        assert_eq!(
            cpath,
            format!("./?.so;/usr/local/lib/lua/5.1/?.so;/usr/lib/{t}/lua/5.1/?.so;/usr/local/lib/lua/5.1/loadall.so\n")
        );
    }
    if let Some(luajit) = Interp::luajit() {
        let lj = luajit.run(&dir, &chunk, None, common::timeout()).expect("run luajit");
        let lj = String::from_utf8_lossy(&lj.stdout).into_owned();
        if triple.is_some_and(|t| lj.contains(&format!("/usr/lib/{t}/"))) {
            assert_eq!(cpath, lj, "luajit's package.cpath");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// README's run command runs a program that ships in the repository, and prints what
/// luajit prints for it (`examples/mandelbrot.expected`, made by luajit).
#[test]
fn readme_example_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let command = "cargo run --release -p perilune-cli -- examples/mandelbrot.lua";
    assert!(readme.contains(command), "README no longer shows `{command}`");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_perilune"))
        .arg("examples/mandelbrot.lua")
        .current_dir(&root)
        .output()
        .expect("run perilune");
    let expected = std::fs::read(root.join("examples/mandelbrot.expected")).expect("expected output");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&expected));
}

/// `-bg in.lua out.bc` saves Perilune bytecode that `perilune out.bc` runs with the
/// same output as the source; `-b` strips it as luajit does (line 0, the chunk named
/// by the file it is loaded from); `-t h`/`-t c` write it as LuaJIT's C arrays; `-`
/// is standard input and output; a chunk `luajit -b` wrote is refused with a message
/// that names LuaJIT.
#[test]
fn bytecode_round_trip() {
    let dir = fixture_dir("bcsave");
    let perilune = Interp::perilune();
    let timeout = common::timeout();
    let script = "local up = 'upvalue'\n\
local function f(n) if n < 2 then return n end return f(n - 1) + f(n - 2) end\n\
local t = { 1, 2, x = 'y' }\n\
print(f(15), up, t.x, #t, ...)\n\
print(debug.getinfo(1, 'S').source, debug.getinfo(f, 'S').linedefined)\n\
error('line ' .. 7)\n";
    std::fs::write(dir.join("prog.lua"), script).expect("write prog.lua");
    let run = |args: &[&str], stdin: Option<&[u8]>| perilune.run(&dir, args, stdin, timeout).expect("run perilune");
    let source = run(&["prog.lua", "a", "b"], None);
    let saved = run(&["-bg", "prog.lua", "prog.bc"], None);
    assert_eq!(
        (saved.status, saved.stdout.len(), saved.stderr.len()),
        (Some(0), 0, 0),
        "{saved:?}"
    );
    let bytes = std::fs::read(dir.join("prog.bc")).expect("read prog.bc");
    assert!(bytes.starts_with(b"\x1bPerilune"), "not Perilune bytecode");
    let loaded = run(&["prog.bc", "a", "b"], None);
    assert_eq!(loaded.status, source.status);
    assert_eq!(
        String::from_utf8_lossy(&loaded.stdout),
        String::from_utf8_lossy(&source.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&loaded.stdout),
        "610\tupvalue\ty\t2\ta\tb\n@prog.lua\t2\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&normalize_stderr(&loaded.stderr)),
        String::from_utf8_lossy(&normalize_stderr(&source.stderr))
    );
    // Stripped (the default, and -s): what luajit prints for its own stripped chunk.
    let stripped = run(&["-b", "prog.lua", "stripped.bc"], None);
    assert_eq!(stripped.status, Some(0), "{stripped:?}");
    let small = std::fs::read(dir.join("stripped.bc")).expect("read stripped.bc");
    assert!(small.len() < bytes.len(), "{} >= {}", small.len(), bytes.len());
    let loaded = run(&["stripped.bc", "a", "b"], None);
    assert_eq!(loaded.status, Some(1));
    assert_eq!(
        String::from_utf8_lossy(&loaded.stdout),
        "610\tupvalue\ty\t2\ta\tb\n@stripped.bc\t0\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&normalize_stderr(&loaded.stderr)),
        "perilune: stripped.bc:0: line 7\nstack traceback:\n\t[C]: in function 'error'\n\
\tstripped.bc: in function <stripped.bc:0>\n\t[C]: at 0x?\n"
    );
    // stdin to stdout; loadfile and require read the result.
    let piped = run(&["-bs", "-", "-"], Some(script.as_bytes()));
    assert_eq!(piped.status, Some(0));
    assert!(piped.stdout.starts_with(b"\x1bPerilune"));
    let module = run(&["-bg", "-e", "return { answer = 42 }", "mod.bc"], None);
    assert_eq!(module.status, Some(0));
    std::fs::rename(dir.join("mod.bc"), dir.join("bcmod.lua")).expect("rename");
    let required = run(
        &["-e", "print(require('bcmod').answer, loadfile('prog.bc') ~= nil)"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&required.stdout), "42\ttrue\n");
    // C arrays: the type from -t or the output's extension, the name from -n or the input.
    let header = run(&["-b", "-t", "h", "-n", "my.mod", "prog.lua", "-"], None);
    let text = String::from_utf8_lossy(&header.stdout).into_owned();
    assert!(
        text.starts_with(&format!(
            "#define luaJIT_BC_my_mod_SIZE {}\nstatic const unsigned char luaJIT_BC_my_mod[] = {{\n27,80,101,",
            small.len()
        )),
        "{text}"
    );
    assert!(
        text.ends_with("\n};\n") && text.lines().all(|l| l.len() <= 78),
        "{text}"
    );
    let numbers: Vec<u8> = text
        .lines()
        .skip(2)
        .take_while(|l| *l != "};")
        .flat_map(|l| {
            l.split(',')
                .filter(|n| !n.is_empty())
                .map(|n| n.parse::<u8>().expect("byte"))
        })
        .collect();
    assert_eq!(numbers, small, "the array holds the (stripped) chunk");
    let c = run(&["-b", "prog.lua", "prog.c"], None);
    assert_eq!(c.status, Some(0));
    let text = std::fs::read_to_string(dir.join("prog.c")).expect("read prog.c");
    assert!(
        text.contains("#ifdef _WIN32\n__declspec(dllexport)\n#endif\nconst unsigned char luaJIT_BC_prog[] = {\n27,80,"),
        "{text}"
    );
    // LuaJIT's bytecode: made by luajit when it is installed, else a chunk it made.
    let ljbc = dir.join("lj.bc");
    let made = Interp::luajit().is_some_and(|lj| {
        lj.run(&dir, &["-b", "-e", "print('hi')", "lj.bc"], None, timeout)
            .is_ok_and(|o| o.status == Some(0))
    });
    if !made {
        std::fs::write(&ljbc, LUAJIT_CHUNK).expect("write lj.bc");
    }
    let refused = run(&["lj.bc"], None);
    assert_eq!(refused.status, Some(1));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "perilune: lj.bc: cannot load incompatible bytecode (LuaJIT bytecode: Perilune cannot run it, load the Lua source)\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `luajit -b -e "print('hi')" -`: LuaJIT 2.1's bytecode.
const LUAJIT_CHUNK: &[u8] = b"\x1bLJ\x02\x0a \x02\x00\x03\x00\x02\x00\x046\x00\x00\x00'\x02\x01\x00B\x00\x02\x01K\x00\x01\x00\x07hi\x0aprint\x00";

/// The profiler behind `-jp`: a script that spends most of its time in one function
/// shows it on top of the report, in every view; `-jp=G` writes folded stacks (one
/// `frame;frame;... count` line per stack) that flame graph tools read; sampling goes
/// on under `--memory-limit` while the script runs into it.
#[test]
fn profiler_finds_the_hot_function() {
    let dir = fixture_dir("profile");
    let perilune = Interp::perilune();
    let timeout = common::timeout();
    // About 0.4 s in `busy`, a tenth of that in `idle`, whatever the machine's speed.
    let script = "local function spin(s) local x, t = 0, os.clock() + s repeat for i = 1, 1000 do x = x + i % 3 end until os.clock() > t return x end\n\
local function busy() local x = spin(0.4) return x end\n\
local function idle() local x = spin(0.04) return x end\n\
busy() idle()\n\
print('done')\n";
    std::fs::write(dir.join("hot.lua"), script).expect("write hot.lua");
    let run = |opt: &str| {
        let o = perilune
            .run(&dir, &[opt, "hot.lua"], None, timeout)
            .expect("run perilune");
        assert_eq!(o.status, Some(0), "{opt}: {o:?}");
        assert!(o.stderr.is_empty(), "{opt}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // Depth 2: the function and its caller (spin is called by busy and idle).
    let report = run("-jp=2");
    let mut lines = report.lines();
    assert_eq!(lines.next(), Some("done"));
    let top = lines.next().unwrap_or_default();
    assert!(top.ends_with("%  spin < busy"), "{report}");
    let pct: u32 = top.trim_start().split('%').next().unwrap_or("0").parse().unwrap_or(0);
    assert!(pct >= 60, "{report}");
    let raw = run("-jp=Fr");
    assert!(
        raw.lines().nth(1).is_some_and(|l| l.ends_with("  hot.lua:spin")),
        "{raw}"
    );
    let lines_view = run("-jp=l");
    assert!(
        lines_view.lines().nth(1).is_some_and(|l| l.ends_with("%  hot.lua:1")),
        "{lines_view}"
    );
    let states = run("-jp=v");
    assert!(
        states.lines().nth(1).is_some_and(|l| l.ends_with("%  Interpreted")),
        "{states}"
    );
    // Folded stacks, caller first, written to a file.
    let out = run("-jp=G,folded.txt");
    assert_eq!(out, "done\n");
    let folded = std::fs::read_to_string(dir.join("folded.txt")).expect("read folded.txt");
    let mut total = 0;
    let mut busy = 0;
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no count: {line:?}"));
        let count: u64 = count.parse().unwrap_or_else(|_| panic!("bad count: {line:?}"));
        let frames: Vec<&str> = stack.split(';').collect();
        assert!(frames.iter().all(|f| !f.is_empty() && !f.contains(' ')), "{line:?}");
        assert_eq!(frames[0], "hot.lua:0", "{line:?}");
        total += count;
        if stack == "hot.lua:0;busy;spin" {
            busy += count;
        }
    }
    assert!(total >= 10 && busy * 10 >= total * 6, "{folded}");
    // Under a memory limit that the script keeps hitting (and catching).
    let oom = "local n, t0 = 0, os.clock()\n\
while os.clock() - t0 < 0.3 do\n\
  local ok, e = pcall(function() local t = {} for i = 1, 1e7 do t[i] = { i } end end)\n\
  if not ok then assert(e == 'not enough memory', e) n = n + 1 end\n\
end\n\
print('refusals', n > 0)\n";
    std::fs::write(dir.join("oom.lua"), oom).expect("write oom.lua");
    let o = perilune
        .run(&dir, &["--memory-limit", "4M", "-jp=vr", "oom.lua"], None, timeout)
        .expect("run perilune");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status, Some(0), "{o:?}");
    let samples: u64 = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert!(out.starts_with("refusals\ttrue\n") && samples >= 5, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The finalizer churn (`bench/finalizer_churn.lua`: 4 million `newproxy` objects with
/// `__gc`, 100,000 alive at once) runs to the end under `--memory-limit 32M`: its peak
/// (about 25 MB of Lua heap, docs/gc.md "Pacing") leaves room under the limit, and
/// every finalizer runs.
#[test]
fn finalizer_churn_runs_under_a_32m_limit() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_perilune"))
        .args(["--memory-limit", "32M"])
        .arg(root.join("bench/finalizer_churn.lua"))
        .output()
        .expect("spawn perilune");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "created 4000000\nfinalized 4000000\n"
    );
    assert!(out.status.success());
}
