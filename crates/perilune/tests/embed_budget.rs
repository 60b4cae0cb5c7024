//! The instruction budget counts work, not instructions (issue 14, item 5): every
//! native whose cost depends on its input pays into the countdown in proportion to
//! the bytes or elements it touches, the compiler pays per token, and a deadline
//! set through the interrupt callback is honoured promptly.
//!
//! The tests assert what is charged (units proportional to the work, a stop before
//! the work is done), never how long something took, except for generous bounds
//! where stopping at all is the point. `deadline_table` (ignored; run it with
//! `--ignored --nocapture` on a release build) prints the table in
//! docs/embedding.md.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use perilune::{Error, Lua, VmState};

/// One family of natives: code run once without a budget to build the data, and
/// code that does the expensive operation over and over (or once, hugely).
struct Family {
    name: &'static str,
    setup: &'static str,
    work: &'static str,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "string.find plain (worst case)",
        setup: "S = ('a'):rep(1.6e6) P = ('a'):rep(8e5) .. 'b'",
        work: "while true do S:find(P, 1, true) end",
    },
    Family {
        name: "string.find pattern (backtracking)",
        setup: "S = ('a'):rep(1e5)",
        work: "while true do S:find(('a?'):rep(40) .. ('a'):rep(40) .. 'b') end",
    },
    Family {
        name: "s .. 'y' (concat)",
        setup: "S = ('x'):rep(1.6e6)",
        work: "while true do local t = S .. 'y' end",
    },
    Family {
        name: "string.upper / lower",
        setup: "S = ('x'):rep(1.6e6)",
        work: "while true do local t = S:upper() end",
    },
    Family {
        name: "string.reverse",
        setup: "S = ('x'):rep(1.6e6)",
        work: "while true do local t = S:reverse() end",
    },
    Family {
        name: "string.rep",
        setup: "",
        work: "while true do local t = ('x'):rep(1.6e6) end",
    },
    Family {
        name: "string.sub",
        setup: "S = ('x'):rep(1.6e6)",
        work: "while true do local t = S:sub(2) end",
    },
    Family {
        name: "string.format %s",
        setup: "S = ('x'):rep(1.6e6)",
        work: "while true do local t = ('%s.'):format(S) end",
    },
    Family {
        name: "string.gsub (output)",
        setup: "S = ('x'):rep(1e5)",
        work: "while true do local t = S:gsub('x', 'yyyyyyyyyyyyyyyy') end",
    },
    Family {
        name: "tonumber",
        setup: "S = ('0'):rep(1.6e6) .. '1'",
        work: "while true do local n = tonumber(S) end",
    },
    Family {
        name: "table.concat",
        setup: "T = {} for i = 1, 100 do T[i] = ('x'):rep(16000) end",
        work: "while true do local t = table.concat(T) end",
    },
    Family {
        name: "unpack",
        setup: "T = {} for i = 1, 7000 do T[i] = i end",
        work: "while true do local a = unpack(T) end",
    },
    Family {
        name: "table.insert / remove at the front",
        setup: "T = {} for i = 1, 1e6 do T[i] = i end",
        work: "while true do table.insert(T, 1, 0) table.remove(T, 1) end",
    },
    Family {
        name: "table.sort",
        setup: "T = {} for i = 1, 1e6 do T[i] = (i * 7919) % 1000003 end",
        work: "while true do table.sort(T) end",
    },
    Family {
        name: "next over dead keys",
        setup: "T = {} for i = 1, 2^20 do T['k' .. i] = i end for i = 2, 2^20 do T['k' .. i] = nil end",
        work: "while true do local k = next(T) end",
    },
    Family {
        name: "collectgarbage",
        setup: "T = {} for i = 1, 1e6 do T[i] = {} end",
        work: "while true do collectgarbage() end",
    },
    Family {
        name: "loadstring (600 KB)",
        setup: "S = ('a = 1 + 2 * 3\\n'):rep(43000)",
        work: "while true do loadstring(S) end",
    },
    Family {
        name: "rehash cycle (2^k - 1 keys)",
        setup: "T = {} for i = 1, 2^16 - 1 do T['k' .. i] = i end",
        work: "local j = 2^16 - 1 while true do j = j + 1 T['k' .. j] = j T['k' .. (j - 2^16 + 1)] = nil end",
    },
];

fn setup(f: &Family) -> Lua {
    let lua = Lua::new();
    lua.load(f.setup).exec().expect("setup");
    lua
}

/// Run `f.work` with an interrupt callback that aborts once `after` has passed;
/// the time from that deadline to the end of the call, and the number of callback
/// calls.
fn deadline_stop(f: &Family, after: Duration) -> (Duration, u64) {
    let lua = setup(f);
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let deadline = Instant::now() + after;
    lua.set_interrupt(move || {
        seen.fetch_add(1, Ordering::Relaxed);
        if Instant::now() >= deadline {
            VmState::Abort("deadline".into())
        } else {
            VmState::Continue
        }
    })
    .unwrap();
    let r = lua.load(f.work).exec();
    let end = Instant::now();
    assert!(
        matches!(r, Err(Error::Interrupted(ref m)) if m == "deadline"),
        "{}: {r:?}",
        f.name
    );
    (end.saturating_duration_since(deadline), calls.load(Ordering::Relaxed))
}

/// Run `f.work` under a budget of `units`; the time it took to stop.
fn budget_stop(f: &Family, units: u64) -> Duration {
    let lua = setup(f);
    lua.set_instruction_budget(Some(units)).unwrap();
    let t0 = Instant::now();
    let r = lua.load(f.work).exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{}: {r:?}", f.name);
    t0.elapsed()
}

/// Every family stops at a deadline and under a small budget. The bound is
/// generous (debug builds, loaded machines): before the fix several families took
/// tens of seconds.
#[test]
fn every_native_family_stops_at_a_deadline_and_on_budget() {
    for f in FAMILIES {
        let (late, calls) = deadline_stop(f, Duration::from_millis(20));
        assert!(
            late < Duration::from_secs(2),
            "{}: stopped {late:?} after the deadline",
            f.name
        );
        assert!(calls > 0, "{}", f.name);
        let took = budget_stop(f, 1000);
        assert!(
            took < Duration::from_secs(2),
            "{}: a budget of 1000 units ran {took:?}",
            f.name
        );
    }
}

/// The table in docs/embedding.md: for each family, the time from a 100 ms
/// deadline to the stop, and the time a budget of 1000 units takes to run out.
#[test]
#[ignore]
fn deadline_table() {
    println!("| native family | deadline to stop | budget of 1000 units ran |");
    println!("|---|---|---|");
    for f in FAMILIES {
        let mut lates: Vec<Duration> = (0..5).map(|_| deadline_stop(f, Duration::from_millis(100)).0).collect();
        lates.sort();
        let took = budget_stop(f, 1000);
        println!(
            "| {} | {:.2} ms (max {:.2}) | {:.2} ms |",
            f.name,
            lates[2].as_secs_f64() * 1e3,
            lates[4].as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3
        );
    }
}

/// One family, named by `BUDGET_FAMILY` (a prefix of its name): for measuring one
/// family in a process of its own.
#[test]
#[ignore]
fn one_family() {
    let Ok(name) = std::env::var("BUDGET_FAMILY") else {
        return;
    };
    for f in FAMILIES.iter().filter(|f| f.name.starts_with(&name)) {
        let (late, calls) = deadline_stop(f, Duration::from_millis(100));
        println!(
            "{}: {:.2} ms after the deadline, {calls} callback calls",
            f.name,
            late.as_secs_f64() * 1e3
        );
    }
}

/// A single pathological match is checked as it runs: the matcher pays every 10,000
/// steps, so the host's callback is asked at a steady rate within one `find`, and a
/// deadline is honoured within one payment (well under a millisecond of matching). Before, the
/// matcher started over with twice the allowance at each payment, so the checks came
/// at doubling intervals: the 20th came after about 5e10 steps (this test hung) and a
/// deadline was missed by as long as the match had already run (36 ms in the table of
/// docs/embedding.md).
#[test]
fn a_pathological_match_is_checked_as_it_runs() {
    let lua = Lua::new();
    lua.load("S = ('a'):rep(1e5)").exec().expect("setup");
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    lua.set_interrupt(move || {
        if seen.fetch_add(1, Ordering::Relaxed) + 1 >= 20 {
            VmState::Abort("enough".into())
        } else {
            VmState::Continue
        }
    })
    .unwrap();
    let start = 1u64 << 50;
    lua.set_instruction_budget(Some(start)).unwrap();
    let r = lua.load("S:find(('a?'):rep(40) .. ('a'):rep(40) .. 'b')").exec();
    assert!(matches!(r, Err(Error::Interrupted(ref m)) if m == "enough"), "{r:?}");
    let used = start - lua.instruction_budget().unwrap().expect("budget");
    assert_eq!(calls.load(Ordering::Relaxed), 20);
    assert!(used < 400_000, "20 checks took {used} units of matching");
}

/// Units of budget `code` uses (after `setup` ran without a budget).
fn units_used(setup: &str, code: &str) -> u64 {
    let lua = Lua::new();
    lua.load(setup).exec().expect("setup");
    let start = 1u64 << 50;
    lua.set_instruction_budget(Some(start)).unwrap();
    lua.load(code).exec().unwrap_or_else(|e| panic!("{code}: {e}"));
    start - lua.instruction_budget().unwrap().expect("budget")
}

/// Each native pays in proportion to the bytes or elements it touches: twice the
/// input costs about twice the units, and a megabyte costs at least a unit per 16
/// bytes touched (the rate in `vm::budget::BYTES_PER_UNIT`) rather than the few units
/// of one call.
#[test]
fn natives_pay_in_proportion_to_their_input() {
    let cases: &[(&str, &str, u64)] = &[
        // (setup with N, code, minimum units for N = 2^20)
        ("S = ('x'):rep(N)", "local t = S:upper()", 1 << 16),
        ("S = ('x'):rep(N)", "local t = S:lower()", 1 << 16),
        ("S = ('x'):rep(N)", "local t = S:reverse()", 1 << 16),
        ("", "local t = ('x'):rep(N)", 1 << 16),
        ("S = ('x'):rep(N)", "local t = S:sub(2)", 1 << 16),
        ("S = ('x'):rep(N)", "local t = S .. 'y'", 1 << 16),
        ("S = ('x'):rep(N)", "local t = ('%s.'):format(S)", 1 << 16),
        ("S = ('x'):rep(N)", "local t = S:gsub('y', 'z')", 1 << 16),
        (
            "S = ('a'):rep(N) P = ('a'):rep(64) .. 'b'",
            "assert(not S:find(P, 1, true))",
            1 << 16,
        ),
        ("S = ('0'):rep(N) .. '1'", "assert(tonumber(S) == 1)", 1 << 16),
        (
            "S = ('x'):rep(N) .. 'a' R = ('x'):rep(N) .. 'b'",
            "assert(S < R)",
            1 << 16,
        ),
        (
            "T = {} for i = 1, N / 1024 do T[i] = ('x'):rep(1024) end",
            "local t = table.concat(T)",
            1 << 16,
        ),
        ("S = ('a = 1\\n'):rep(N / 6)", "assert(loadstring(S))", 1 << 16),
        (
            "T = {} for i = 1, N / 16 do T[i] = i end",
            "table.insert(T, 1, 0)",
            1 << 16,
        ),
        (
            "T = {} for i = 1, N / 16 do T[i] = (i * 7919) % 65521 end",
            "table.sort(T)",
            1 << 16,
        ),
        (
            "T = {} for i = 1, N / 4 do T['k' .. i] = i end for i = 1, N / 4 - 1 do T['k' .. i] = nil end",
            "for k in pairs(T) do end",
            1 << 14,
        ),
        ("", "local t = table.new(N / 8, 0)", 1 << 15),
    ];
    for &(setup, code, min) in cases {
        let small = units_used(&format!("N = 2^20 {setup}"), code);
        let big = units_used(&format!("N = 2^21 {setup}"), code);
        assert!(small >= min, "{code}: {small} units for N = 2^20");
        assert!(
            big as f64 >= 1.7 * small as f64 && big as f64 <= 2.6 * small as f64,
            "{code}: {small} units for N = 2^20, {big} for 2^21"
        );
    }
    // A call that does little work still costs little.
    assert!(units_used("S = ('x'):rep(2^20)", "local t = S:sub(1, 10) local u = #S") < 20);
}

/// The example in issue 14: one plain `find` over 1.6 MB under a budget of 1000
/// units ran 25.7 s. It now stops after about a budget's worth of work.
#[test]
fn a_plain_find_stops_on_budget() {
    let lua = Lua::new();
    lua.load("S = ('a'):rep(1.6e6) P = ('a'):rep(8e5) .. 'b'")
        .exec()
        .unwrap();
    lua.set_instruction_budget(Some(1000)).unwrap();
    let t0 = Instant::now();
    let r = lua.load("return S:find(P, 1, true)").exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(2));
}

/// A compilation is paid per token and can be stopped part-way.
#[test]
fn the_compiler_pays_per_token() {
    let lua = Lua::new();
    let src = "a = 1 + 2 * 3\n".repeat(43_000);
    lua.set_instruction_budget(Some(10_000)).unwrap();
    assert!(matches!(lua.load(&src).into_function(), Err(Error::BudgetExhausted)));
    // loadstring from a script: the stop goes through (it is not `nil, message`).
    let lua = Lua::new();
    lua.globals().set("S", src.as_str()).unwrap();
    lua.set_instruction_budget(Some(10_000)).unwrap();
    let r = lua.load("local f, e = loadstring(S) CAUGHT = e").exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    lua.set_instruction_budget(None).unwrap();
    assert_eq!(lua.globals().get::<Option<String>>("CAUGHT").unwrap(), None);
}

/// A table kept one key below a power of two, with one key inserted and one deleted
/// each time, used to be rebuilt on every insert (LuaJIT does the same). With the
/// growth hysteresis in `table.rs` a rebuild is followed by many inserts.
#[test]
fn insert_one_delete_one_does_not_rehash_every_time() {
    let lua = Lua::new();
    lua.load("T = {} for i = 1, 2^12 - 1 do T['k' .. i] = i end")
        .exec()
        .unwrap();
    let before = perilune::unstable_internals::table::rehash_count();
    lua.load(
        "local n = 2^12 - 1 local j = n
         for r = 1, 10000 do j = j + 1 T['k' .. j] = j T['k' .. (j - n)] = nil end",
    )
    .exec()
    .unwrap();
    let rehashes = perilune::unstable_internals::table::rehash_count() - before;
    assert!(rehashes < 50, "{rehashes} rehashes for 10000 inserts");
    // Growing a table from empty still doubles its hash part each time.
    let before = perilune::unstable_internals::table::rehash_count();
    lua.load("local t = {} for i = 1, 2^16 do t['x' .. i] = i end")
        .exec()
        .unwrap();
    let rehashes = perilune::unstable_internals::table::rehash_count() - before;
    assert!(rehashes <= 18, "{rehashes} rehashes to grow to 2^16 keys");
}

// --- Finalizers and the budget (issue 14, item 6) ----------------------------------

/// A script that registers a finalizer that never ends.
const ENDLESS_GC: &str = "local p = newproxy(true) getmetatable(p).__gc = function() while true do end end p = nil";

fn finalizer_errors(lua: &Lua) -> Arc<std::sync::Mutex<Vec<String>>> {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    lua.set_finalizer_error_handler(move |m| sink.lock().unwrap().push(String::from_utf8_lossy(m).into_owned()))
        .unwrap();
    seen
}

/// `gc_collect` with no budget in force runs each finalizer under its own cap:
/// an endless one is stopped and reported; the host goes on.
#[test]
fn gc_collect_never_runs_unbounded_lua() {
    let lua = Lua::new();
    let seen = finalizer_errors(&lua);
    lua.load(ENDLESS_GC).exec().unwrap();
    lua.set_finalizer_budget(Some(100_000)).unwrap();
    let t0 = Instant::now();
    lua.gc_collect().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(*seen.lock().unwrap(), vec!["finalizer budget exhausted".to_string()]);
    assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
}

/// Dropping the state runs the pending finalizers, each under its cap.
#[test]
fn closing_never_runs_unbounded_lua() {
    let lua = Lua::new();
    let seen = finalizer_errors(&lua);
    lua.load(format!(
        "{ENDLESS_GC} {ENDLESS_GC} KEEP = newproxy(true) getmetatable(KEEP).__gc = function() while true do end end"
    ))
    .exec()
    .unwrap();
    lua.set_finalizer_budget(Some(100_000)).unwrap();
    let t0 = Instant::now();
    drop(lua);
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(seen.lock().unwrap().len(), 3);
    // With the budget in force spent, closing runs no Lua at all.
    let lua = Lua::new();
    let seen = finalizer_errors(&lua);
    lua.load("KEEP = newproxy(true) getmetatable(KEEP).__gc = function() X = 1 end")
        .exec()
        .unwrap();
    lua.set_instruction_budget(Some(1000)).unwrap();
    assert!(matches!(
        lua.load("while true do end").exec(),
        Err(Error::BudgetExhausted)
    ));
    drop(lua);
    assert!(seen.lock().unwrap().is_empty());
}

/// A finalizer pays into the budget in force: the script that runs it pays, and
/// when that budget runs out inside the finalizer the script is stopped (before,
/// the abort was reported as a finalizer error and the script went on).
#[test]
fn a_budget_exhausted_inside_a_finalizer_stops_the_script() {
    let lua = Lua::new();
    let seen = finalizer_errors(&lua);
    lua.set_finalizer_budget(None).unwrap();
    lua.set_instruction_budget(Some(200_000)).unwrap();
    let r = lua.load(format!("{ENDLESS_GC} collectgarbage() AFTER = true")).exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    lua.set_instruction_budget(None).unwrap();
    assert_eq!(lua.globals().get::<Option<bool>>("AFTER").unwrap(), None);
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());

    // The same when the finalizer runs at an allocation's safe point, not in
    // `collectgarbage`: the abort reaches the script at its next check.
    let lua = Lua::new();
    lua.set_finalizer_budget(None).unwrap();
    lua.load(ENDLESS_GC).exec().unwrap();
    lua.set_instruction_budget(Some(300_000)).unwrap();
    let r = lua.load("for i = 1, 1e7 do local t = {} end AFTER = true").exec();
    assert!(matches!(r, Err(Error::BudgetExhausted)), "{r:?}");
    lua.set_instruction_budget(None).unwrap();
    assert_eq!(lua.globals().get::<Option<bool>>("AFTER").unwrap(), None);

    // The finalizer's work is charged to the budget in force.
    let lua = Lua::new();
    lua.load("local p = newproxy(true) getmetatable(p).__gc = function() for i = 1, 1e5 do end end p = nil")
        .exec()
        .unwrap();
    lua.set_instruction_budget(Some(1 << 40)).unwrap();
    lua.gc_collect().unwrap();
    let used = (1u64 << 40) - lua.instruction_budget().unwrap().unwrap();
    assert!(used >= 100_000, "{used}");
}

/// The host's interrupt callback aborting inside a finalizer stops the host call
/// that ran it (`gc_collect` here), and the finalizers still queued wait.
#[test]
fn an_abort_inside_a_finalizer_reaches_the_host() {
    let lua = Lua::new();
    let seen = finalizer_errors(&lua);
    lua.set_finalizer_budget(None).unwrap();
    lua.load(format!("{ENDLESS_GC} {ENDLESS_GC}")).exec().unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    let c = calls.clone();
    lua.set_interrupt(move || {
        if c.fetch_add(1, Ordering::Relaxed) >= 10 {
            VmState::Abort("host says stop".into())
        } else {
            VmState::Continue
        }
    })
    .unwrap();
    let r = lua.gc_collect();
    assert!(
        matches!(r, Err(Error::Interrupted(ref m)) if m == "host says stop"),
        "{r:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(calls.load(Ordering::Relaxed), 11);
    lua.remove_interrupt().unwrap();
    // The state is usable; the other finalizer is still queued and runs (under
    // its cap) at the next collection.
    lua.set_finalizer_budget(Some(10_000)).unwrap();
    lua.gc_collect().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec!["finalizer budget exhausted".to_string()]);
}

/// The interrupt flag seen inside a finalizer interrupts the code the finalizer
/// interrupted (it is not lost in the finalizer's error report).
#[test]
fn the_interrupt_flag_inside_a_finalizer_reaches_the_script() {
    let lua = Lua::new();
    let seen = finalizer_errors(&lua);
    let flag = lua.interrupt_handle();
    let set = lua
        .create_function(move |_, ()| {
            flag.store(true, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    lua.globals().set("ctrl_c", set).unwrap();
    let r = lua
        .load(
            "local p = newproxy(true) getmetatable(p).__gc = function() ctrl_c() for i = 1, 1e6 do end end
             p = nil collectgarbage() for i = 1, 1e6 do end AFTER = true",
        )
        .exec();
    assert!(
        matches!(r, Err(Error::RuntimeError(ref m)) if m.contains("interrupted!")),
        "{r:?}"
    );
    assert_eq!(lua.globals().get::<Option<bool>>("AFTER").unwrap(), None);
    assert!(seen.lock().unwrap().is_empty());
}
