//! The interactive prompt on a real (pseudo-)terminal, driven with `rexpect`: line
//! editing is on (rustyline), `=expr`, an expression alone, continuation lines,
//! errors, Ctrl-C at the prompt and in a running loop, Ctrl-D, and the history file.
//!
//! Every wait has a timeout (`TIMEOUT_MS`), so a prompt that hangs fails the test
//! instead of blocking; the child is killed when the session is dropped. Typed lines
//! are echoed by the line editor, so each check waits for output that does not occur
//! in the typed text (`=6*7` → `42`).

#![cfg(unix)]

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};

const TIMEOUT_MS: u64 = 20_000;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("perilune-prompt-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    Scratch(dir)
}

/// Start `perilune args...` on a pseudo-terminal with its history in `dir`.
fn start(dir: &Scratch, args: &[&str]) -> Option<PtySession> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perilune"));
    cmd.arg0("perilune")
        .args(args)
        .current_dir(&dir.0)
        .env("TERM", "xterm")
        .env("HOME", &dir.0)
        .env("PERILUNE_HISTORY", dir.0.join("history"))
        .env_remove("LUA_INIT");
    let options = Options::new()
        .timeout_ms(Some(TIMEOUT_MS))
        .strip_ansi_escape_codes(true);
    match spawn_with_options(cmd, options) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("note: cannot open a pseudo-terminal ({e}); prompt test skipped");
            None
        }
    }
}

/// Wait for `needle`, failing with what was seen so far.
fn expect(p: &mut PtySession, needle: &str, step: &str) -> String {
    match p.exp_string(needle) {
        Ok(before) => before,
        Err(e) => panic!("{step}: waiting for {needle:?}: {e}"),
    }
}

fn send_line(p: &mut PtySession, line: &str) {
    p.send_line(line).expect("write to the terminal");
}

/// The child exited normally with `code` (its wait status, as nix prints it, is
/// `Exited(Pid(n), code)`).
fn assert_exited(p: &PtySession, code: i32, step: &str) {
    let status = format!("{:?}", p.process().wait());
    assert!(
        status.starts_with("Ok(Exited(") && status.ends_with(&format!(", {code}))")),
        "{step}: exit status {status}, expected {code}"
    );
}

/// Type `line`, wait until the editor has taken it (its echo and a line break), then
/// until the next prompt `prompt` is shown; returns what was printed in between.
/// Waiting for the prompt keeps the checks in step with the output.
fn step(p: &mut PtySession, line: &str, prompt: &str) -> String {
    send_line(p, line);
    expect(p, &format!("{line}\r\n"), &format!("echo of {line:?}"));
    expect(p, prompt, &format!("prompt after {line:?}"))
}

#[test]
fn interactive_prompt_on_a_terminal() {
    let dir = scratch("main");
    let Some(mut p) = start(&dir, &[]) else {
        return;
    };
    expect(&mut p, "Perilune ", "banner");
    expect(&mut p, "> ", "first prompt");

    let out = step(&mut p, "=6*7", "> ");
    assert!(out.contains("42"), "=expr printed {out:?}");

    let out = step(&mut p, "10*10+1", "> ");
    assert!(out.contains("101"), "an expression alone printed {out:?}");

    let out = step(&mut p, "x = 'ab' .. 'cd'", "> ");
    assert!(!out.contains("abcd"), "a statement printed {out:?}");
    let out = step(&mut p, "x", "> ");
    assert!(out.contains("abcd"), "a variable alone printed {out:?}");

    step(&mut p, "for i = 1, 3 do", ">> ");
    step(&mut p, "  n = (n or 0) + i", ">> ");
    step(&mut p, "end", "> ");
    let out = step(&mut p, "=n * 100", "> ");
    assert!(out.contains("600"), "the statement did not run: {out:?}");

    let out = step(&mut p, "error('bo' .. 'om')", "> ");
    assert!(
        out.contains("stdin:1: boom") && out.contains("stack traceback:"),
        "error report: {out:?}"
    );

    // Ctrl-C in a running loop: `interrupted!`, and the prompt still works.
    send_line(&mut p, "print('lo' .. 'op') while true do end");
    expect(&mut p, "loop", "the loop started");
    std::thread::sleep(Duration::from_millis(200));
    p.send_control('c').expect("send Ctrl-C");
    expect(&mut p, "interrupted!", "Ctrl-C interrupts the loop");
    expect(&mut p, "> ", "prompt after the interrupt");
    let out = step(&mut p, "=40+3", "> ");
    assert!(
        out.contains("43"),
        "the prompt does not work after an interrupt: {out:?}"
    );

    // Ctrl-C at the prompt drops the line being typed.
    p.send("=1000+").expect("type");
    std::thread::sleep(Duration::from_millis(200));
    p.send_control('c').expect("send Ctrl-C");
    std::thread::sleep(Duration::from_millis(200));
    let out = step(&mut p, "=20+2", "> ");
    assert!(
        out.contains("22") && !out.contains("unexpected"),
        "Ctrl-C kept the text: {out:?}"
    );

    // Ctrl-C in the middle of a statement drops all of it.
    step(&mut p, "do", ">> ");
    p.send_control('c').expect("send Ctrl-C");
    std::thread::sleep(Duration::from_millis(200));
    let out = step(&mut p, "=300+33", "> ");
    assert!(
        out.contains("333"),
        "Ctrl-C did not drop the unfinished statement: {out:?}"
    );

    // Lines typed ahead, faster than they run, are all kept.
    send_line(&mut p, "=1000+1");
    send_line(&mut p, "=2000+2");
    send_line(&mut p, "=3000+3");
    expect(&mut p, "1001", "first typed-ahead line");
    expect(&mut p, "2002", "second typed-ahead line");
    expect(&mut p, "3003", "third typed-ahead line");
    expect(&mut p, "> ", "prompt after the typed-ahead lines");

    // Ctrl-D on an empty line ends the session with status 0.
    p.send_control('d').expect("send Ctrl-D");
    p.exp_eof().expect("the session ends at Ctrl-D");
    assert_exited(&p, 0, "Ctrl-D");

    let history = std::fs::read_to_string(dir.0.join("history")).unwrap_or_default();
    for entry in ["=6*7", "10*10+1", "error('bo' .. 'om')"] {
        assert!(history.contains(entry), "history lacks {entry:?}:\n{history}");
    }
    assert!(
        !history.lines().any(|l| l == "=1000+"),
        "a dropped line is in the history:\n{history}"
    );
}

#[test]
fn dash_i_runs_the_script_then_the_prompt() {
    let dir = scratch("dash-i");
    std::fs::write(dir.0.join("s.lua"), "greeting = 'hel' .. 'lo'\nprint('script ran')\n").expect("write script");
    let Some(mut p) = start(&dir, &["-i", "s.lua"]) else {
        return;
    };
    expect(&mut p, "Perilune ", "banner");
    expect(&mut p, "script ran", "the script runs first");
    expect(&mut p, "> ", "then the prompt");
    let out = step(&mut p, "greeting", "> ");
    assert!(out.contains("hello"), "the script's globals are missing: {out:?}");
    send_line(&mut p, "os.exit(3)");
    p.exp_eof().expect("os.exit ends the session");
    assert_exited(&p, 3, "os.exit(3)");
}
