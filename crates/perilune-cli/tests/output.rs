//! Standard output is buffered as C stdio buffers it (docs/stdlib-io-os.md,
//! "Standard output"): fully buffered on a pipe or file, line-buffered on a terminal,
//! `setvbuf` honoured, written out before stdin is read, before stderr is written,
//! on an uncaught error, by `os.exit` and at the end; a write error at exit is as
//! silent as luajit's; a closed pipe ends the process by SIGPIPE.
//!
//! Each test runs `perilune`, and `luajit` too when it is installed and the case is
//! luajit's behaviour (cases where Perilune deliberately differs say so). Setting
//! `PERILUNE_TEST_BIN` runs another `perilune` binary (to check that a test fails
//! without the feature it covers).

#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Interp;

/// A busy wait of 0.3 s of CPU time, for output that must not have been written yet.
const PAUSE: &str = "local t0 = os.clock() while os.clock() - t0 < 0.3 do end";

fn perilune() -> Interp {
    match std::env::var_os("PERILUNE_TEST_BIN") {
        Some(p) => Interp {
            name: "perilune".into(),
            program: PathBuf::from(p),
        },
        None => Interp::perilune(),
    }
}

/// perilune, and luajit when installed.
fn both() -> Vec<Interp> {
    let mut v = vec![perilune()];
    match Interp::luajit() {
        Some(l) => v.push(l),
        None => eprintln!("note: luajit not found; only perilune is checked"),
    }
    v
}

fn command(interp: &Interp, chunk: &str) -> Command {
    let mut cmd = Command::new(&interp.program);
    cmd.arg0("perilune").args(["-e", chunk]).env_remove("LUA_INIT");
    cmd
}

/// Wait for `child`, killing it after 20 s.
fn wait(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{what}: did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run `chunk` with stdout and stderr into one pipe (as `2>&1 | cat`); the output
/// and the exit status.
fn run_merged(interp: &Interp, chunk: &str) -> (String, Option<i32>) {
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    let mut cmd = command(interp, chunk);
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone().expect("clone pipe"))
        .stderr(writer);
    let mut child = cmd.spawn().expect("spawn");
    drop(cmd);
    let mut out = Vec::new();
    reader.read_to_end(&mut out).expect("read");
    let status = wait(&mut child, chunk);
    (String::from_utf8_lossy(&out).into_owned(), status.code())
}

/// Run `chunk` with stdout piped; the bytes of the first `read` of the pipe (which
/// returns what the first `write` wrote, at least) and then all of stdout.
fn first_read(interp: &Interp, chunk: &str) -> (String, String) {
    let mut child = command(interp, chunk)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 4096];
    let n = out.read(&mut buf).expect("read");
    let first = String::from_utf8_lossy(&buf[..n]).into_owned();
    let mut rest = Vec::new();
    out.read_to_end(&mut rest).expect("read");
    let status = wait(&mut child, chunk);
    assert!(status.success(), "{}: {chunk}: {status:?}", interp.name);
    (first.clone(), first + &String::from_utf8_lossy(&rest))
}

/// Run `chunk` with stdout going to /dev/full; stderr and the exit status.
fn run_to_dev_full(interp: &Interp, chunk: &str) -> (String, Option<i32>) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = command(interp, chunk)
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    (String::from_utf8_lossy(&out.stderr).into_owned(), out.status.code())
}

/// On a pipe, output waits in the buffer: one write at the end.
#[test]
fn fully_buffered_on_a_pipe() {
    for interp in both() {
        for chunk in [
            format!("print('a') {PAUSE} print('b')"),
            format!("io.write('a\\n') {PAUSE} io.stdout:write('b\\n')"),
        ] {
            let (first, all) = first_read(&interp, &chunk);
            assert_eq!(all, "a\nb\n", "{}: {chunk}", interp.name);
            assert_eq!(first, "a\nb\n", "{}: output was not buffered: {chunk}", interp.name);
        }
    }
}

/// `setvbuf("no")` writes at once, `setvbuf("line")` at each newline, and
/// `flush` on demand.
#[test]
fn setvbuf_and_flush_on_a_pipe() {
    let cases = [
        (
            format!("io.stdout:setvbuf('no') io.write('a') {PAUSE} io.write('b')"),
            "a",
            "ab",
        ),
        (
            format!("io.stdout:setvbuf('line') print('a') {PAUSE} print('b')"),
            "a\n",
            "a\nb\n",
        ),
        (
            format!("io.stdout:setvbuf('line') io.write('a') io.write('b\\n') {PAUSE} print('c')"),
            "ab\n",
            "ab\nc\n",
        ),
        (
            format!("io.write('a') io.stdout:flush() {PAUSE} print('b')"),
            "a",
            "ab\n",
        ),
        (format!("io.write('a') io.flush() {PAUSE} print('b')"), "a", "ab\n"),
        (
            format!("io.stdout:setvbuf('line') io.stdout:setvbuf('full') print('a') {PAUSE} print('b')"),
            "a\nb\n",
            "a\nb\n",
        ),
    ];
    for interp in both() {
        for (chunk, first, all) in &cases {
            let (got_first, got_all) = first_read(&interp, chunk);
            assert_eq!(&got_all, all, "{}: {chunk}", interp.name);
            assert_eq!(&got_first, first, "{}: {chunk}", interp.name);
        }
    }
}

/// Perilune writes stdout's pending bytes before anything goes to stderr (as C++
/// ties `cerr` to `cout`), so `2>&1` shows program order; luajit's stdio shows
/// stderr first when stdout is not a terminal. On a terminal they agree
/// ([`interleaving_on_a_terminal_is_luajits`]).
#[test]
fn stderr_writes_flush_stdout_first() {
    let chunk =
        "io.write('a') print('b') io.stderr:write('E1\\n') io.write('c\\n') io.stderr:write('E2\\n') print('d')";
    let (out, status) = run_merged(&perilune(), chunk);
    assert_eq!(out, "ab\nE1\nc\nE2\nd\n");
    assert_eq!(status, Some(0));
    if let Some(luajit) = Interp::luajit() {
        assert_eq!(run_merged(&luajit, chunk).0, "E1\nE2\nab\nc\nd\n", "luajit's order");
    }
}

/// The report of an uncaught error comes after the output printed before it
/// (luajit prints it first, the output at exit).
#[test]
fn uncaught_error_report_follows_the_output() {
    let (out, status) = run_merged(&perilune(), "print(1) io.write(2) error('boom')");
    assert!(
        out.starts_with("1\n2perilune: (command line):1: boom\nstack traceback:\n"),
        "{out}"
    );
    assert_eq!(status, Some(1));
    // A finalizer's error report too.
    let (out, status) = run_merged(
        &perilune(),
        "print(1) local p = newproxy(true) getmetatable(p).__gc = function() error('gc', 0) end p = nil collectgarbage() print(2)",
    );
    assert_eq!(out, "1\nERROR in finalizer: gc\n2\n");
    assert_eq!(status, Some(0));
}

/// A prompt written without a newline shows before the program waits for input,
/// however the input is read. (luajit shows it only on a terminal.)
#[test]
fn output_is_flushed_before_reading_stdin() {
    for read in [
        "io.read()",
        "io.stdin:read('*l')",
        "io.lines()()",
        "io.read('*n')",
        "io.stdin:lines()()",
    ] {
        let chunk = format!("io.write('name? ') local l = {read} print('got', l)");
        let mut child = command(&perilune(), &chunk)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn");
        let mut out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 6];
            let r = out.read_exact(&mut buf).map(|()| buf);
            let _ = tx.send(r);
            let mut rest = Vec::new();
            let _ = out.read_to_end(&mut rest);
            rest
        });
        // Nothing is typed until the prompt has been seen.
        let prompt = rx.recv_timeout(Duration::from_secs(10));
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all(b"42\n");
        drop(input);
        let status = wait(&mut child, &chunk);
        let rest = reader.join().expect("reader");
        let prompt = prompt.unwrap_or_else(|_| panic!("{read}: the prompt did not show before reading"));
        assert_eq!(&prompt.expect("read prompt"), b"name? ", "{read}");
        let rest = String::from_utf8_lossy(&rest);
        assert!(rest == "got\t42\n", "{read}: {rest}");
        assert!(status.success(), "{read}");
    }
}

/// Output to a full device: buffered writes succeed and the error shows at the
/// flush; at exit it is ignored (status 0, nothing on stderr), as in luajit.
#[test]
fn write_errors_are_luajits() {
    let cases: &[(&str, &str, i32)] = &[
        ("print(1)", "", 0),
        ("for i = 1, 10000 do print(i) end", "", 0),
        ("io.write('x') os.exit(3)", "", 3),
        ("io.stderr:write(tostring(io.write('x')), '\\n')", "true\n", 0),
        ("io.stdout:setvbuf('no') io.stderr:write(tostring(io.write('x')), '\\n')", "nil\n", 0),
        (
            "io.write('x') local ok, msg, code = io.stdout:flush() io.stderr:write(tostring(ok), ' ', msg, ' ', code, '\\n')",
            "nil No space left on device 28\n",
            0,
        ),
        (
            "io.stdout:setvbuf('no') local ok, msg, code = io.write('x') io.stderr:write(tostring(ok), ' ', msg, ' ', code, '\\n')",
            "nil No space left on device 28\n",
            0,
        ),
        (
            "io.stdout:setvbuf('no') local ok, msg = io.stdout:write('x') io.stderr:write(tostring(ok), ' ', msg, '\\n')",
            "nil No space left on device\n",
            0,
        ),
    ];
    for interp in both() {
        for &(chunk, stderr, status) in cases {
            let (got_err, got_status) = run_to_dev_full(&interp, chunk);
            assert_eq!(got_err, stderr, "{}: {chunk}", interp.name);
            assert_eq!(got_status, Some(status), "{}: {chunk}", interp.name);
        }
    }
}

/// Perilune honours `setvbuf`'s size (glibc ignores it when Lua passes no buffer),
/// up to 64 KiB.
#[test]
fn setvbuf_size_is_honoured_up_to_64k() {
    let cases: &[(&str, &str)] = &[
        ("io.stdout:setvbuf('full', 4) io.stderr:write(tostring(io.write('abc')), ' ', tostring(io.write('de')), '\\n')", "true nil\n"),
        ("io.stdout:setvbuf('full', 1e9) io.stderr:write(tostring(io.write(('x'):rep(65535))), '\\n')", "true\n"),
        ("io.stdout:setvbuf('full', 1e9) io.stderr:write(tostring(io.write(('x'):rep(65536))), '\\n')", "nil\n"),
    ];
    for &(chunk, stderr) in cases {
        let (got_err, got_status) = run_to_dev_full(&perilune(), chunk);
        assert_eq!(got_err, stderr, "{chunk}");
        assert_eq!(got_status, Some(0), "{chunk}");
    }
}

/// Writing to a pipe nobody reads ends the process by SIGPIPE, as it ends luajit
/// (`perilune big.lua | head` stops).
#[test]
fn a_closed_pipe_ends_the_process_by_sigpipe() {
    for interp in both() {
        let mut child = command(&interp, "for i = 1, 1e7 do print(i) end print('not reached')")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let status = wait(&mut child, "sigpipe");
        let mut err = String::new();
        let _ = child.stderr.take().expect("stderr").read_to_string(&mut err);
        assert_eq!(status.signal(), Some(13), "{}: {status:?} {err}", interp.name);
        assert_eq!(err, "", "{}", interp.name);
    }
}

/// On a terminal, stdout is line-buffered: a line shows while the program still
/// runs, and stdout and stderr interleave as they do under luajit.
#[test]
fn interleaving_on_a_terminal_is_luajits() {
    use rexpect::reader::Options;
    use rexpect::session::spawn_with_options;
    let chunk = "io.write('a') print('b') io.stderr:write('E1\\n') io.write('c\\n') \
                 io.stderr:write('E2\\n') print('d') io.write('no newline')";
    for interp in both() {
        let options = || Options::new().timeout_ms(Some(20_000)).strip_ansi_escape_codes(true);
        // A line shows at once, not at exit.
        let mut cmd = command(&interp, "print('ready') while true do end");
        cmd.env("TERM", "xterm");
        let Ok(mut p) = spawn_with_options(cmd, options()) else {
            eprintln!("note: cannot open a pseudo-terminal; skipped");
            return;
        };
        if let Err(e) = p.exp_string("ready") {
            panic!("{}: the line did not show on the terminal: {e}", interp.name);
        }
        let _ = p.process_mut().exit();
        // Interleaving.
        let mut cmd = command(&interp, chunk);
        cmd.env("TERM", "xterm");
        let mut p = spawn_with_options(cmd, options()).expect("spawn on a terminal");
        let out = p.exp_eof().expect("output").replace("\r\n", "\n");
        assert_eq!(out, "ab\nE1\nc\nE2\nd\nno newline", "{}", interp.name);
    }
}
