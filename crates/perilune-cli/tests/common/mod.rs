//! Shared helpers for the integration tests: running an interpreter with a
//! timeout, normalising its stderr, and printing readable diffs.
//!
//! Both `perilune` and `luajit` are started with `argv[0]` set to `perilune`, so
//! their messages (`perilune: ...`) and `arg[-1]` agree; stderr is normalised anyway
//! (see [`normalize_stderr`]) for platforms where `argv[0]` cannot be chosen.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of an interpreter produced.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Exit status; `None` when killed by a signal.
    pub status: Option<i32>,
    /// The signal that ended the process, if any (Unix).
    pub signal: Option<i32>,
    pub timed_out: bool,
}

/// An interpreter under test.
#[derive(Clone, Debug)]
pub struct Interp {
    /// Shown in messages ("perilune", "luajit").
    pub name: String,
    pub program: PathBuf,
}

impl Interp {
    pub fn perilune() -> Interp {
        Interp {
            name: "perilune".into(),
            program: PathBuf::from(env!("CARGO_BIN_EXE_perilune")),
        }
    }

    /// `luajit` from `PERILUNE_LUAJIT` or the PATH, if it runs.
    pub fn luajit() -> Option<Interp> {
        let program = std::env::var_os("PERILUNE_LUAJIT")
            .map(PathBuf::from)
            .unwrap_or_else(|| "luajit".into());
        let ok = Command::new(&program)
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| Interp {
            name: "luajit".into(),
            program,
        })
    }

    /// Run with `args` in `dir`, feeding `stdin`, killing the child after `timeout`.
    pub fn run(&self, dir: &Path, args: &[&str], stdin: Option<&[u8]>, timeout: Duration) -> std::io::Result<Outcome> {
        self.run_env(dir, args, &[], stdin, timeout)
    }

    /// [`Interp::run`] with extra environment variables.
    pub fn run_env(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> std::io::Result<Outcome> {
        let mut cmd = Command::new(&self.program);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.arg0("perilune");
        }
        cmd.args(args)
            .current_dir(dir)
            .env_remove("LUA_INIT")
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let feeder = match (stdin, child.stdin.take()) {
            (Some(data), Some(mut pipe)) => {
                let data = data.to_vec();
                Some(std::thread::spawn(move || {
                    let _ = pipe.write_all(&data);
                }))
            }
            _ => None,
        };
        let mut out_pipe = child.stdout.take().expect("stdout is piped");
        let mut err_pipe = child.stderr.take().expect("stderr is piped");
        let out_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out_pipe.read_to_end(&mut buf);
            buf
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err_pipe.read_to_end(&mut buf);
            buf
        });
        let start = Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            if start.elapsed() >= timeout {
                timed_out = true;
                let _ = child.kill();
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(f) = feeder {
            let _ = f.join();
        }
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal = None;
        Ok(Outcome {
            stdout,
            stderr,
            status: status.code(),
            signal,
            timed_out,
        })
    }
}

/// Per-script timeout: `PERILUNE_TEST_TIMEOUT` seconds, default 60.
pub fn timeout() -> Duration {
    let secs = std::env::var("PERILUNE_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Make stderr comparable: `luajit: ` at a line start becomes `perilune: `, and
/// every hexadecimal address (`0x55d0c2f0a2c0`) becomes `0x?` (luajit ends a
/// traceback with `[C]: at 0x...`).
pub fn normalize_stderr(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    let mut line_start = true;
    while i < s.len() {
        if line_start && s[i..].starts_with(b"luajit: ") {
            out.extend_from_slice(b"perilune: ");
            i += b"luajit: ".len();
            line_start = false;
            continue;
        }
        if s[i..].starts_with(b"0x") && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
            out.extend_from_slice(b"0x?");
            i += 2;
            while s.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
            line_start = false;
            continue;
        }
        line_start = s[i] == b'\n';
        out.push(s[i]);
        i += 1;
    }
    out
}

/// A diff of two texts for a failure message: the lines between the common prefix
/// and the common suffix, `-` expected and `+` actual, with line numbers.
pub fn diff(label: &str, expected: &[u8], actual: &[u8]) -> String {
    const MAX: usize = 30;
    let exp = String::from_utf8_lossy(expected);
    let act = String::from_utf8_lossy(actual);
    let e: Vec<&str> = exp.split_inclusive('\n').collect();
    let a: Vec<&str> = act.split_inclusive('\n').collect();
    let prefix = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = e[prefix..]
        .iter()
        .rev()
        .zip(a[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut s = format!("  {label} differs (first difference at line {}):\n", prefix + 1);
    let show = |s: &mut String, sign: char, lines: &[&str]| {
        for (k, line) in lines.iter().enumerate().take(MAX) {
            let shown = line
                .strip_suffix('\n')
                .map_or(format!("{line}  [no newline at end]"), str::to_string);
            s.push_str(&format!("    {sign}{:>4} | {shown}\n", prefix + k + 1));
        }
        if lines.len() > MAX {
            s.push_str(&format!("    {sign}     ... {} more lines\n", lines.len() - MAX));
        }
    };
    if prefix > 0 {
        let ctx = e[prefix - 1].strip_suffix('\n').unwrap_or(e[prefix - 1]);
        s.push_str(&format!("     {:>4} | {ctx}\n", prefix));
    }
    show(&mut s, '-', &e[prefix..e.len() - suffix]);
    show(&mut s, '+', &a[prefix..a.len() - suffix]);
    s
}

impl Outcome {
    /// The exit status in words, for failure messages.
    pub fn status_text(&self) -> String {
        match (self.status, self.signal) {
            (Some(s), _) => s.to_string(),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => "killed".to_string(),
        }
    }
}

/// Show a byte string briefly (for status lines and small outputs).
pub fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Check every item on a few threads and panic with every failure at once.
/// `name` labels an item in the report (`label` formats its section heading), `what`
/// names the items ("scripts"), `rerun` says how to run one again.
pub fn check_all<T: Sync>(
    interp: &Interp,
    items: &[T],
    name: impl Fn(&T) -> String + Sync,
    check: impl Fn(&T) -> Option<String> + Sync,
    what: &str,
    label: impl Fn(&str) -> String,
    rerun: &str,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if let Some(report) = check(item) {
                    failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((name(item), report));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort();
    eprintln!(
        "{}: {} of {} {what} passed",
        interp.name,
        items.len() - failures.len(),
        items.len()
    );
    if failures.is_empty() {
        return;
    }
    let mut msg = format!(
        "{}: {} of {} {what} failed:\n",
        interp.name,
        failures.len(),
        items.len()
    );
    for (name, _) in &failures {
        msg.push_str(&format!("  {name}\n"));
    }
    for (name, report) in &failures {
        msg.push_str(&format!("\n=== {} ({})\n{report}", label(name), interp.name));
    }
    msg.push_str(&format!("\n{rerun}\n"));
    panic!("{msg}");
}
