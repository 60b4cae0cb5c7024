//! Differential testing with random programs: `difftest::gen` writes a random,
//! deterministic Lua 5.1 program for each seed; `perilune -joff` and `luajit -joff`
//! run it and must agree on stdout, stderr (normalised as in the corpus tests) and
//! the exit status. Skipped with a note when luajit is not installed.
//!
//! Environment (see docs/testing.md):
//! - `PERILUNE_DIFF_SEEDS=100000` — how many seeds to run (default [`DEFAULT_SEEDS`]);
//! - `PERILUNE_DIFF_START=5000` — the first seed (default 0);
//! - `PERILUNE_DIFF_PERILUNE=/path/to/perilune` — run another build (for long runs
//!   with the release binary);
//! - `PERILUNE_DIFF_DUMP=/some/dir` — also write every program there as `<seed>.lua`;
//! - `PERILUNE_LUAJIT` — the luajit binary.

mod common;
mod difftest;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::{diff, normalize_stderr, Interp};
use difftest::gen;

/// Seeds run by default: a few seconds in all.
const DEFAULT_SEEDS: u64 = 250;

/// Failures shown in full (the rest are listed by seed).
const SHOWN: usize = 5;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(s) if !s.is_empty() => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={s} is not a number")),
        _ => default,
    }
}

/// A scratch folder for the programs, removed at the end.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run one seed; `None` if both interpreters agree, else a report.
fn check(seed: u64, dir: &Path, perilune: &Interp, luajit: &Interp, dump: Option<&Path>) -> Option<String> {
    let program = gen::generate(seed);
    let file = format!("{seed}.lua");
    if let Err(e) = std::fs::write(dir.join(&file), &program) {
        return Some(format!("cannot write {}: {e}\n", dir.join(&file).display()));
    }
    if let Some(d) = dump {
        let _ = std::fs::write(d.join(&file), &program);
    }
    let timeout = Duration::from_secs(20);
    let args = ["-joff", file.as_str()];
    let expected = match luajit.run(dir, &args, None, timeout) {
        Ok(o) => o,
        Err(e) => return Some(format!("cannot run {}: {e}\n", luajit.program.display())),
    };
    let got = match perilune.run(dir, &args, None, timeout) {
        Ok(o) => o,
        Err(e) => return Some(format!("cannot run {}: {e}\n", perilune.program.display())),
    };
    let _ = std::fs::remove_file(dir.join(&file));
    let mut report = String::new();
    // The generator promises programs that LuaJIT runs to the end.
    let uncaught = program.contains(gen::UNCAUGHT_MARKER);
    if expected.timed_out || (!uncaught && expected.status != Some(0)) {
        report.push_str(&format!(
            "  generator bug: luajit ended with status {}{}: {}\n",
            expected.status_text(),
            if expected.timed_out { " (timed out)" } else { "" },
            String::from_utf8_lossy(&expected.stderr)
        ));
    }
    if got.timed_out {
        report.push_str(&format!(
            "  perilune timed out after {} s (killed)\n",
            timeout.as_secs()
        ));
    }
    if got.status != expected.status {
        report.push_str(&format!(
            "  exit status: luajit {}, perilune {}\n",
            expected.status_text(),
            got.status_text()
        ));
    }
    if got.stdout != expected.stdout {
        report.push_str(&diff("stdout", &expected.stdout, &got.stdout));
    }
    let (exp_err, got_err) = (normalize_stderr(&expected.stderr), normalize_stderr(&got.stderr));
    if exp_err != got_err {
        report.push_str(&diff("stderr", &exp_err, &got_err));
    }
    if report.is_empty() {
        return None;
    }
    Some(format!(
        "{report}  --- program ({file}) ---\n{program}  --- luajit stdout ---\n{}  --- luajit stderr ---\n{}  --- perilune stdout ---\n{}  --- perilune stderr ---\n{}",
        String::from_utf8_lossy(&expected.stdout),
        String::from_utf8_lossy(&expected.stderr),
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&got.stderr),
    ))
}

#[test]
fn random_programs_match_luajit() {
    let Some(luajit) = Interp::luajit() else {
        eprintln!("note: luajit not found (set PERILUNE_LUAJIT or put it on PATH); random differential test skipped");
        return;
    };
    let mut perilune = Interp::perilune();
    if let Some(p) = std::env::var_os("PERILUNE_DIFF_PERILUNE") {
        perilune.program = PathBuf::from(p);
    }
    let start = env_u64("PERILUNE_DIFF_START", 0);
    let count = env_u64("PERILUNE_DIFF_SEEDS", DEFAULT_SEEDS);
    let dump = std::env::var_os("PERILUNE_DIFF_DUMP").map(PathBuf::from);
    if let Some(d) = &dump {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    }
    let scratch = Scratch(std::env::temp_dir().join(format!("perilune-diff-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).unwrap_or_else(|e| panic!("cannot create {}: {e}", scratch.0.display()));

    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as u64;
                if i >= count {
                    break;
                }
                let seed = start + i;
                if let Some(r) = check(seed, &scratch.0, &perilune, &luajit, dump.as_deref()) {
                    failures.lock().unwrap_or_else(|e| e.into_inner()).push((seed, r));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by_key(|f| f.0);
    eprintln!(
        "random programs: {} of {count} seeds from {start} agree with luajit",
        count as usize - failures.len()
    );
    if failures.is_empty() {
        return;
    }
    let seeds: Vec<String> = failures.iter().map(|f| f.0.to_string()).collect();
    let mut msg = format!(
        "{} of {count} random programs differ from luajit; seeds: {}\n",
        failures.len(),
        seeds.join(" ")
    );
    for (seed, report) in failures.iter().take(SHOWN) {
        msg.push_str(&format!("\n=== seed {seed}\n{report}"));
    }
    if failures.len() > SHOWN {
        msg.push_str(&format!("\n({} more not shown)\n", failures.len() - SHOWN));
    }
    msg.push_str(
        "\nRerun one with PERILUNE_DIFF_START=<seed> PERILUNE_DIFF_SEEDS=1 \
         cargo test -p perilune-cli --test differential\n",
    );
    panic!("{msg}");
}
