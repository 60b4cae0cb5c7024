//! Differential testing of the JIT (docs/jit.md, "Differential test"): random
//! programs run with the JIT off, with it on and every loop hot at once
//! (`hotloop=1`), and on with the exit-stress mode (guards also leave at random).
//! All three must print the same, end the same way and charge the same budget
//! units (what recording charges aside: JIT.md J6).
//!
//! Two generators: the corpus differential test's random programs
//! (`perilune-cli/tests/difftest`, every construct of the language) and
//! `jitdiff`, programs made of hot numeric loops (what traces compile).
//!
//! Environment:
//! - `PERILUNE_JIT_DIFF_SEEDS=2000` — how many seeds (default [`DEFAULT_SEEDS`]);
//! - `PERILUNE_JIT_DIFF_START=5000` — the first seed (default 0);
//! - `PERILUNE_JIT_DIFF_DUMP=/some/dir` — also write every program there;
//! - `PERILUNE_JIT_DIFF_FILE=prog.lua` — run that program only (three ways).

#[allow(dead_code)]
#[path = "../../perilune-cli/tests/difftest/mod.rs"]
mod difftest;
mod jitdiff;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use perilune::unstable_internals::jit::param;
use perilune::unstable_internals::vm::error::Throw;
use perilune::unstable_internals::vm::state::State;

/// Seeds run by default (each seed: two programs, three runs each).
const DEFAULT_SEEDS: u64 = 60;

/// More than any generated program needs; a JIT bug that loops forever stops here.
const BUDGET: u64 = 200_000_000;

/// Captures `print` and `io.write` into a buffer that `__output()` returns, so the
/// three runs of one program can be compared in one process.
const CAPTURE: &str = r#"
local out, n = {}, 0
local select, tostring, concat, type, error = select, tostring, table.concat, type, error
function print(...)
  local parts = {}
  for i = 1, select('#', ...) do parts[i] = tostring((select(i, ...))) end
  n = n + 1
  out[n] = concat(parts, "\t") .. "\n"
end
local stdout = io.stdout
io.write = function(...)
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    local t = type(v)
    if t ~= "string" and t ~= "number" then
      error("bad argument #" .. i .. " to 'write' (string expected, got " .. t .. ")", 2)
    end
    n = n + 1
    out[n] = tostring(v)
  end
  return stdout
end
function __output() return concat(out) end
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Off,
    On,
    Stress,
}

/// What one run gave: output, how it ended, units charged (recording aside).
#[derive(Debug, PartialEq, Eq)]
struct Run {
    output: String,
    end: String,
    units: u64,
}

fn message(st: &mut State, e: Throw) -> String {
    match e {
        Throw::Error(v) => match st.tostring_raw(v) {
            Ok(s) => format!("error: {}", String::from_utf8_lossy(s.as_bytes())),
            Err(_) => "error (no message)".into(),
        },
        Throw::Oom => "not enough memory".into(),
        Throw::Yield => "yield".into(),
        Throw::Abort => "abort".into(),
    }
}

fn run(program: &str, mode: Mode) -> Run {
    let mut st = State::new().expect("state");
    st.open_libs().map_err(|_| ()).expect("libs");
    if mode != Mode::Off {
        st.jit_set_on(true);
        st.jit_apply(param::parse(b"hotloop=1").expect("hotloop"));
        st.jit_set_stress(mode == Mode::Stress);
    }
    st.load(CAPTURE.as_bytes(), b"=capture")
        .map_err(|_| ())
        .expect("capture");
    st.call(0, 0).map_err(|_| ()).expect("capture runs");
    st.set_budget(Some(BUDGET));
    let recorded = st.jit_record_units();
    let end = match st.load(program.as_bytes(), b"=prog") {
        Err(e) => format!("load {}", message(&mut st, e)),
        Ok(()) => match st.call(0, 0) {
            Ok(()) => "ok".into(),
            Err(e) => message(&mut st, e),
        },
    };
    let used = BUDGET - st.budget_remaining().unwrap_or(0);
    let units = used - (st.jit_record_units() - recorded);
    st.set_budget(None);
    let output = match st.get_global("__output") {
        Ok(f) => {
            st.push(f).map_err(|_| ()).expect("push");
            match st.call(0, 1) {
                Ok(()) => {
                    let v = st.peek(0);
                    v.as_string()
                        .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
                        .unwrap_or_default()
                }
                Err(_) => "(no output)".into(),
            }
        }
        Err(_) => "(no output)".into(),
    };
    Run {
        output: hide_addresses(&output),
        end: hide_addresses(&end),
        units,
    }
}

/// `table: 0x55d0c8a1b2c0` and the like differ from state to state.
fn hide_addresses(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i + 2]);
        let hex = rest[i + 2..].bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex >= 6 {
            out.push_str("ADDR");
        } else {
            out.push_str(&rest[i + 2..i + 2 + hex]);
        }
        rest = &rest[i + 2 + hex..];
    }
    out.push_str(rest);
    out
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// Compare the three runs of one program; a report when they differ.
fn check(name: &str, program: &str) -> Option<String> {
    let off = run(program, Mode::Off);
    let mut report = String::new();
    for mode in [Mode::On, Mode::Stress] {
        let got = run(program, mode);
        if got.output != off.output {
            report.push_str(&format!(
                "  {mode:?}: output differs\n--- off ---\n{}--- {mode:?} ---\n{}",
                off.output, got.output
            ));
        }
        if got.end != off.end {
            report.push_str(&format!(
                "  {mode:?}: ended with `{}`, off with `{}`\n",
                got.end, off.end
            ));
        }
        // Where the budget runs out may move by one loop iteration (JIT.md J6).
        if got.units != off.units && off.end != "abort" {
            report.push_str(&format!("  {mode:?}: charged {} units, off {}\n", got.units, off.units));
        }
    }
    (!report.is_empty()).then(|| format!("=== {name}\n{report}--- program ---\n{program}"))
}

#[test]
fn random_programs_agree_with_the_jit_on_and_off() {
    // The interpreter's own charge depends on hash order in places (`pairs`, then
    // `table.sort`): the three runs of a program must hash alike.
    perilune::unstable_internals::table::fix_seeds();
    if let Some(f) = std::env::var_os("PERILUNE_JIT_DIFF_FILE") {
        let p = std::fs::read_to_string(&f).expect("PERILUNE_JIT_DIFF_FILE is readable");
        if let Some(r) = check(&f.to_string_lossy(), &p) {
            panic!("{r}");
        }
        return;
    }
    let start = env_u64("PERILUNE_JIT_DIFF_START", 0);
    let count = env_u64("PERILUNE_JIT_DIFF_SEEDS", DEFAULT_SEEDS);
    let dump = std::env::var_os("PERILUNE_JIT_DIFF_DUMP").map(std::path::PathBuf::from);
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
                let programs = [
                    (format!("loops {seed}"), jitdiff::generate(seed)),
                    (format!("general {seed}"), difftest::gen::generate(seed)),
                ];
                for (name, p) in programs {
                    if let Some(d) = &dump {
                        let _ = std::fs::write(d.join(format!("{}.lua", name.replace(' ', "-"))), &p);
                    }
                    if let Some(r) = check(&name, &p) {
                        failures.lock().unwrap_or_else(|e| e.into_inner()).push((seed, r));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by_key(|f| f.0);
    if failures.is_empty() {
        return;
    }
    let names: Vec<&str> = failures
        .iter()
        .filter_map(|f| f.1.lines().next().and_then(|l| l.strip_prefix("=== ")))
        .collect();
    let mut msg = format!(
        "{} programs differ with the JIT on: {}\n",
        failures.len(),
        names.join(", ")
    );
    for (_, r) in failures.iter().take(3) {
        msg.push_str(r);
        msg.push('\n');
    }
    msg.push_str(
        "Rerun one with PERILUNE_JIT_DIFF_START=<seed> PERILUNE_JIT_DIFF_SEEDS=1 \
         cargo test -p perilune --test jit_differential\n",
    );
    panic!("{msg}");
}
