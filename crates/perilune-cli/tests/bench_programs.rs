//! The benchmark programs in `bench/` give the right answer: each `bench/<name>.lua` is run
//! at its small size (the argument on its `-- small size: N` line) and its stdout is compared
//! with `bench/<name>.small`; it must exit with status 0 and print nothing on stderr. Every
//! failure is collected and reported at the end. This checks correctness only; timing is
//! `bench/run`'s job and never part of `cargo test` (see docs/benchmarks.md).
//!
//! - `perilune_runs_bench_programs` runs the `perilune` binary.
//! - `luajit_runs_bench_programs` runs `luajit` (when installed) to prove that the `.small`
//!   files are LuaJIT's output.
//!
//! Environment: `PERILUNE_TEST_FILTER=a,b` runs only the programs whose name contains one of
//! the substrings; `PERILUNE_TEST_TIMEOUT` sets the per-program timeout in seconds (default
//! 60); `PERILUNE_LUAJIT` names the luajit binary.

mod common;

use std::path::{Path, PathBuf};

use common::{diff, show, Interp};

/// The header line that gives a program's small size argument.
const SMALL_SIZE: &str = "-- small size:";

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench")
}

/// One benchmark program.
struct Program {
    name: String,
    script: PathBuf,
}

/// Every `bench/*.lua`, sorted, restricted by `PERILUNE_TEST_FILTER`.
fn programs() -> Vec<Program> {
    let dir = bench_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut all: Vec<Program> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .map(|script| Program {
            name: script
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            script,
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(all.len() >= 16, "expected at least 16 programs in {}", dir.display());
    if let Ok(f) = std::env::var("PERILUNE_TEST_FILTER") {
        if !f.is_empty() {
            let pats: Vec<&str> = f.split(',').filter(|p| !p.is_empty()).collect();
            all.retain(|p| pats.iter().any(|pat| p.name.contains(pat)));
            assert!(!all.is_empty(), "PERILUNE_TEST_FILTER={f} matches no benchmark program");
        }
    }
    all
}

/// The small size argument from the program's `-- small size: N` line.
fn small_arg(source: &str) -> Option<String> {
    source
        .lines()
        .find_map(|l| l.strip_prefix(SMALL_SIZE))
        .map(|rest| rest.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Run one program at its small size; `None` if it passed, else what went wrong.
fn check(interp: &Interp, prog: &Program) -> Option<String> {
    let source = match std::fs::read_to_string(&prog.script) {
        Ok(s) => s,
        Err(e) => return Some(format!("  cannot read {}: {e}\n", prog.script.display())),
    };
    let Some(arg) = small_arg(&source) else {
        return Some(format!("  no '{SMALL_SIZE} N' line in {}\n", prog.script.display()));
    };
    let mut report = String::new();
    for ext in ["small", "expected"] {
        if !prog.script.with_extension(ext).is_file() {
            report.push_str(&format!("  missing bench/{}.{ext}\n", prog.name));
        }
    }
    let expected = match std::fs::read(prog.script.with_extension("small")) {
        Ok(b) => b,
        Err(_) => return Some(report),
    };
    let file = format!("{}.lua", prog.name);
    let timeout = common::timeout();
    let got = match interp.run(&bench_dir(), &[&file, &arg], None, timeout) {
        Ok(o) => o,
        Err(e) => return Some(format!("  cannot run {}: {e}\n", interp.program.display())),
    };
    if got.timed_out {
        report.push_str(&format!("  timed out after {} s (killed)\n", timeout.as_secs()));
    }
    if got.status != Some(0) {
        report.push_str(&format!("  exit status: expected 0, got {}\n", got.status_text()));
    }
    if !got.stderr.is_empty() {
        report.push_str(&format!("  stderr: {}\n", show(&got.stderr)));
    }
    if got.stdout != expected {
        report.push_str(&diff("stdout", &expected, &got.stdout));
    }
    (!report.is_empty()).then_some(report)
}

/// Run every program on a few threads and panic with all failures.
fn run_all(interp: &Interp, progs: &[Program]) {
    common::check_all(
        interp,
        progs,
        |p| p.name.clone(),
        |p| check(interp, p),
        "benchmark programs at small size",
        |name| format!("bench/{name}.lua"),
        "Rerun one program with PERILUNE_TEST_FILTER=<name>.",
    );
}

#[test]
fn perilune_runs_bench_programs() {
    run_all(&Interp::perilune(), &programs());
}

#[test]
fn luajit_runs_bench_programs() {
    let Some(luajit) = Interp::luajit() else {
        eprintln!("note: luajit not found (set PERILUNE_LUAJIT or put it on PATH); differential test skipped");
        return;
    };
    run_all(&luajit, &programs());
}
