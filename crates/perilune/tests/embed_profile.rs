//! `jit.profile` in a host: sampling goes on under a memory limit and an instruction
//! budget (a refused allocation is the ordinary `not enough memory`, the budget
//! still stops the script, and the callback's own instructions are charged), and the
//! timer thread ends at `stop()` and when the state is closed without it.
//!
//! One test function: the timer threads are counted by name in `/proc/self/task`,
//! which another test running at the same time would disturb.

use std::time::{Duration, Instant};

use perilune::{Error, Lua, LuaOptions, StdLib};

/// Timer threads of profilers in this process (`None` where `/proc` cannot tell).
fn profiler_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut n = 0;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        // The kernel keeps 15 bytes of a thread's name.
        if comm.trim_end() == "perilune-profil" {
            n += 1;
        }
    }
    Some(n)
}

/// Wait (up to 10 s) until `want` profiler threads are left; the thread count as
/// `/proc` shows it lags the join by a moment.
fn expect_threads(want: usize) {
    let start = Instant::now();
    loop {
        let Some(n) = profiler_threads() else { return };
        if n == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{n} profiler threads, expected {want}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

const START: &str = r#"
    local profile = require("jit.profile")
    samples, oom = 0, 0
    profile.start("i1", function(thread, n, vmstate)
      assert(type(thread) == "thread" and n >= 1 and vmstate:match("^[ICG]$"), vmstate)
      samples = samples + n
    end)
"#;

#[test]
fn profiler_under_limits_and_its_thread() -> Result<(), Error> {
    expect_threads(0);
    let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new().memory_limit(4 << 20))?;
    lua.load(START).exec()?;
    expect_threads(1);

    // Allocations refused over and over while samples are taken.
    let churn = r#"
        local deadline = os.clock() + 0.3
        while os.clock() < deadline or samples < 5 do
          local ok, e = pcall(function() local t = {} for i = 1, 1e7 do t[i] = { i } end end)
          if not ok then assert(e == "not enough memory", e) oom = oom + 1 end
        end
        return samples, oom
    "#;
    let (samples, oom): (u64, u64) = lua.load(churn).eval()?;
    assert!(samples >= 5 && oom >= 1, "samples {samples}, refusals {oom}");

    // The budget stops a loop while the profiler runs its callback in it.
    lua.set_instruction_budget(Some(20_000_000))?;
    let r = lua.load("while true do local t = { 1 } end").exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    // The callback's instructions are charged: the same loop costs more with a
    // callback that does work of its own.
    lua.set_instruction_budget(None)?;
    let spent = |cb: &str| -> Result<u64, Error> {
        lua.load(format!("require('jit.profile').start('i1', {cb})")).exec()?;
        lua.set_instruction_budget(Some(1 << 40))?;
        let r = lua.load("for i = 1, 3e7 do end").exec();
        let left = lua.instruction_budget()?.unwrap_or(0);
        lua.set_instruction_budget(None)?;
        r?;
        Ok((1 << 40) - left)
    };
    let quiet = spent("function() end")?;
    let busy = spent("function() for i = 1, 1e5 do end end")?;
    assert!(
        busy > quiet + 50_000,
        "callback work not charged: {busy} against {quiet}"
    );
    lua.load(START).exec()?;

    // Sampling goes on after the abort.
    let before: u64 = lua.globals().get("samples")?;
    lua.load("local t = os.clock() + 0.1 while os.clock() < t or samples == 0 do end")
        .exec()?;
    let after: u64 = lua.globals().get("samples")?;
    assert!(after > before, "no samples after the abort");

    // stop() ends the timer thread; a second start and no stop: closing ends it.
    lua.load("require('jit.profile').stop() require('jit.profile').stop()")
        .exec()?;
    expect_threads(0);
    let quiet: u64 = lua.globals().get("samples")?;
    lua.load("for i = 1, 1e7 do end").exec()?;
    assert_eq!(lua.globals().get::<u64>("samples")?, quiet, "samples after stop");
    lua.load(START).exec()?;
    expect_threads(1);
    drop(lua);
    expect_threads(0);

    // A state whose profiler is replaced again and again keeps one thread.
    let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new())?;
    lua.load("for i = 1, 50 do require('jit.profile').start('i1', print) end")
        .exec()?;
    expect_threads(1);
    drop(lua);
    expect_threads(0);
    Ok(())
}
