//! The Lua test corpus: every `tests/lua/<area>/<name>.lua` is run and its stdout,
//! stderr and exit status are compared with `<name>.expected`, `<name>.stderr` (empty
//! if absent) and `<name>.status` (0 if absent). See docs/testing.md.
//!
//! - `perilune_matches_expected` runs the `perilune` binary on every script and reports
//!   every mismatch at the end, not just the first.
//! - `luajit_matches_expected` runs the same scripts through `luajit`, when it is
//!   installed, to prove that the expected files are LuaJIT's behaviour.
//! - `perilune_matches_expected_with_jit_hotloop1` runs them with the JIT on,
//!   recording and compiling every loop from its first back-edge (`LUA_INIT`);
//!   `perilune_matches_expected_with_jit_off` with the JIT off (`-joff`'s state), and
//!   `perilune_matches_expected_under_exit_stress` with every loop compiled at once
//!   and guards leaving their traces at random (`PERILUNE_JIT_STRESS=1`).
//!
//! Environment: `PERILUNE_TEST_FILTER=a,b` runs only scripts whose path (relative to
//! `tests/lua`, e.g. `coroutine/wrap.lua`) contains one of the substrings;
//! `PERILUNE_TEST_ALL=1` also runs `stdlib_pending/`; `PERILUNE_TEST_TIMEOUT` sets the
//! per-script timeout in seconds (default 60); `PERILUNE_LUAJIT` names the luajit binary.

mod common;

use std::path::{Path, PathBuf};

use common::{diff, normalize_stderr, show, Interp};

/// Folders that hold scripts for libraries that are not implemented yet; they run
/// only with `PERILUNE_TEST_ALL=1`.
const PENDING_DIRS: &[&str] = &["stdlib_pending"];

/// A line in a script that keeps it out of the differential run (for behaviour
/// where Perilune deliberately differs from LuaJIT; document why next to it).
const NOT_DIFFERENTIAL: &str = "-- test: perilune-only";

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lua")
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// One script and its expectations.
struct Case {
    /// Path relative to the corpus root, with `/` separators.
    name: String,
    script: PathBuf,
}

impl Case {
    fn sibling(&self, ext: &str) -> PathBuf {
        self.script.with_extension(ext)
    }
}

fn collect(dir: &Path, rel: &str, include_pending: bool, out: &mut Vec<Case>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = if rel.is_empty() {
            file.clone()
        } else {
            format!("{rel}/{file}")
        };
        if path.is_dir() {
            if include_pending || !PENDING_DIRS.contains(&file.as_str()) {
                collect(&path, &name, include_pending, out);
            }
        } else if file.ends_with(".lua") {
            out.push(Case { name, script: path });
        }
    }
}

/// The scripts selected by the environment.
fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    collect(&corpus_root(), "", env_flag("PERILUNE_TEST_ALL"), &mut all);
    assert!(!all.is_empty(), "no scripts found under {}", corpus_root().display());
    match std::env::var("PERILUNE_TEST_FILTER") {
        Ok(f) if !f.is_empty() => {
            let pats: Vec<&str> = f.split(',').filter(|p| !p.is_empty()).collect();
            all.retain(|c| pats.iter().any(|p| c.name.contains(p)));
            assert!(!all.is_empty(), "PERILUNE_TEST_FILTER={f} matches no script");
            all
        }
        _ => all,
    }
}

/// Run one case; `None` if it passed, else a description of every difference.
fn check(interp: &Interp, case: &Case) -> Option<String> {
    check_env(interp, case, &[])
}

/// [`check`] with extra environment variables.
fn check_env(interp: &Interp, case: &Case, env: &[(&str, &str)]) -> Option<String> {
    let expected_out = match std::fs::read(case.sibling("expected")) {
        Ok(b) => b,
        Err(e) => return Some(format!("  cannot read {}: {e}\n", case.sibling("expected").display())),
    };
    let expected_err = std::fs::read(case.sibling("stderr")).unwrap_or_default();
    let expected_status: i32 = match std::fs::read_to_string(case.sibling("status")) {
        Ok(s) => match s.trim().parse() {
            Ok(n) => n,
            Err(_) => {
                return Some(format!(
                    "  bad status file {}: {}\n",
                    case.sibling("status").display(),
                    show(s.as_bytes())
                ))
            }
        },
        Err(_) => 0,
    };
    let dir = case.script.parent().unwrap_or(Path::new("."));
    let file = case
        .script
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let timeout = common::timeout();
    let got = match interp.run_env(dir, &[&file], env, None, timeout) {
        Ok(o) => o,
        Err(e) => return Some(format!("  cannot run {}: {e}\n", interp.program.display())),
    };
    let mut report = String::new();
    if got.timed_out {
        report.push_str(&format!("  timed out after {} s (killed)\n", timeout.as_secs()));
    }
    if got.status != Some(expected_status) {
        report.push_str(&format!(
            "  exit status: expected {expected_status}, got {}\n",
            got.status_text()
        ));
    }
    if got.stdout != expected_out {
        report.push_str(&diff("stdout", &expected_out, &got.stdout));
    }
    let got_err = normalize_stderr(&got.stderr);
    if got_err != normalize_stderr(&expected_err) {
        report.push_str(&diff("stderr", &expected_err, &got_err));
    }
    (!report.is_empty()).then_some(report)
}

/// Run all cases on a few threads and panic with every failure.
fn run_corpus(interp: &Interp, cases: &[Case]) {
    common::check_all(
        interp,
        cases,
        |c| c.name.clone(),
        |c| check(interp, c),
        "scripts",
        |name| name.to_string(),
        "Rerun one script with PERILUNE_TEST_FILTER=<part of its path>.",
    );
}

#[test]
fn perilune_matches_expected() {
    run_corpus(&Interp::perilune(), &cases());
}

/// `LUA_INIT` that switches the JIT on and records every loop from its first
/// back-edge: the corpus must give the same output as with the JIT off.
const JIT_EAGER: &str = "jit.on() jit.opt.start('hotloop=1')";

/// Run the corpus with `env`, leaving out scripts that print `jit.status()` (their
/// output says how the JIT is set).
fn run_corpus_env(env: &[(&str, &str)], what: &str) {
    let interp = Interp::perilune();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| std::fs::read_to_string(&c.script).map_or(true, |s| !s.contains("jit.status")))
        .collect();
    common::check_all(
        &interp,
        &cases,
        |c| c.name.clone(),
        |c| check_env(&interp, c, env),
        what,
        |name| name.to_string(),
        "Rerun one script with PERILUNE_TEST_FILTER=<part of its path>.",
    );
}

/// The corpus again with the JIT recording and compiling at once (JIT.md, "Testing" 2).
#[test]
fn perilune_matches_expected_with_jit_hotloop1() {
    run_corpus_env(&[("LUA_INIT", JIT_EAGER)], "scripts with the JIT on");
}

/// The corpus with the JIT off (the JIT is on by default).
#[test]
fn perilune_matches_expected_with_jit_off() {
    run_corpus_env(&[("LUA_INIT", "jit.off()")], "scripts with the JIT off");
}

/// The exit-stress mode (JIT.md, "Testing" 3): every loop compiled at once and
/// guards leaving their traces at random, so every snapshot is restored somewhere.
#[test]
fn perilune_matches_expected_under_exit_stress() {
    run_corpus_env(
        &[("LUA_INIT", JIT_EAGER), ("PERILUNE_JIT_STRESS", "1")],
        "scripts under exit stress",
    );
}

#[test]
fn luajit_matches_expected() {
    let Some(luajit) = Interp::luajit() else {
        eprintln!("note: luajit not found (set PERILUNE_LUAJIT or put it on PATH); differential test skipped");
        return;
    };
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| {
            std::fs::read_to_string(&c.script).map_or(true, |s| !s.lines().any(|l| l.trim() == NOT_DIFFERENTIAL))
        })
        .collect();
    run_corpus(&luajit, &cases);
}

/// The driver for `dumped_scripts_match_expected`: compile the script, dump it, load
/// the binary chunk and run that instead. `arg` is set as the command would set it.
fn dump_driver(file: &str) -> String {
    format!(
        "local f = assert(loadfile({file:?})) \
         f = assert(loadstring(string.dump(f), '=dumped')) \
         arg = {{ [0] = {file:?}, [-1] = 'perilune' }} \
         return f()"
    )
}

/// Every script that ends normally and writes nothing to stderr behaves the same
/// (same stdout, status 0) after a trip through `string.dump` and `loadstring`.
#[test]
fn dumped_scripts_match_expected() {
    let interp = Interp::perilune();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| !c.sibling("status").exists() && !c.sibling("stderr").exists())
        .collect();
    common::check_all(
        &interp,
        &cases,
        |c| c.name.clone(),
        |case| {
            let expected = std::fs::read(case.sibling("expected")).unwrap_or_default();
            let dir = case.script.parent().unwrap_or(Path::new("."));
            let file = case
                .script
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let driver = dump_driver(&file);
            let got = match interp.run(dir, &["-e", &driver], None, common::timeout()) {
                Ok(o) => o,
                Err(e) => return Some(format!("  cannot run: {e}\n")),
            };
            let mut report = String::new();
            if got.status != Some(0) {
                report.push_str(&format!("  exit status {}: {}\n", got.status_text(), show(&got.stderr)));
            }
            if got.stdout != expected {
                report.push_str(&diff("stdout", &expected, &got.stdout));
            }
            (!report.is_empty()).then_some(report)
        },
        "dumped scripts",
        |name| name.to_string(),
        "Rerun one script with PERILUNE_TEST_FILTER=<part of its path>.",
    );
}
