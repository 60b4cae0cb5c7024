//! Embedding API: Lua's standard output (`print`, `io.write`) is one buffer for the
//! process, as C's `stdout` is. Closing a state writes it out, with or without the
//! `io` library, and `perilune::flush_stdout` does on demand, so a host
//! that writes to stdout itself keeps the order.
//!
//! The test runs itself again as a child process (stdout is then a pipe, so fully
//! buffered) and checks the order of what the child wrote.

#![cfg(unix)]

use std::io::Write;

use perilune::{Lua, LuaOptions, StdLib};

const CHILD_ENV: &str = "PERILUNE_EMBED_OUTPUT_CHILD";

/// Written by the host straight to stdout, after flushing Rust's buffer.
fn host_write(text: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).expect("write");
    out.flush().expect("flush");
}

fn child() {
    // A safe state: `print`, no `io` library.
    let lua = Lua::new();
    lua.load("print('<lua-a>')").exec().expect("print");
    drop(lua);
    host_write("<host-b>\n");
    // Two states share the buffer and its order.
    let one = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new()).expect("trusted state");
    let two = Lua::new();
    one.load("print('<one-1>')").exec().expect("print");
    two.load("print('<two-2>')").exec().expect("print");
    one.load("io.write('<one-3>\\n')").exec().expect("write");
    // Flushing on demand.
    perilune::flush_stdout().expect("flush");
    host_write("<host-c>\n");
    one.load("io.stdout:write('<one-4>\\n')").exec().expect("write");
    drop(one);
    host_write("<host-d>\n");
    two.load("print('<two-5>')").exec().expect("print");
    // Left for the flush at process exit: the process ends with `two` still open
    // (its destructor never runs), and the test harness reports nothing more.
    std::process::exit(0);
}

#[test]
fn closing_a_state_writes_its_output() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "closing_a_state_writes_its_output",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let order = [
        "<lua-a>", "<host-b>", "<one-1>", "<two-2>", "<one-3>", "<host-c>", "<one-4>", "<host-d>", "<two-5>",
    ];
    let positions: Vec<Option<usize>> = order.iter().map(|m| text.find(m)).collect();
    assert!(positions.iter().all(Option::is_some), "missing output:\n{text}");
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "out of order:\n{text}");
}
