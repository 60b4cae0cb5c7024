//! Focused regression tests for bugs found by the allocation-failure sweep and the
//! finalizer / memory-pressure tests (docs/fault-injection.md). Each test names the
//! scenario that found it; the ones still open are listed in the doc.

mod common;

use common::{post_checks, run_script, take_output, End};
use perilune::unstable_internals::testing::{Fault, FaultyAllocator};

/// Run `src` fault-free and return its ending and output; panics on a failed
/// post-run check.
fn run_ok(src: &str) -> (End, String) {
    let fa = FaultyAllocator::new();
    let (st, end) = run_script(&fa, Fault::None, src.as_bytes(), b"=regression");
    let out = String::from_utf8_lossy(&take_output()).into_owned();
    if let Err(e) = post_checks(&fa, st) {
        panic!("post-run checks: {e}");
    }
    (end, out)
}

/// Found by the sweep (fault-free baseline of errors/xpcall.lua and
/// functions/recursion.lua, memory error under valgrind): `return pcall(f)` /
/// `return xpcall(f, h)` in tail position. `tail_call` (vm/interp.rs) runs a non-Lua
/// callee through `precall`, but pcall/xpcall push a marker frame and return
/// `Entered::Lua` when `f` is a Lua function; `CALLT` then does `continue 'frame`,
/// and when the protected call returns, the *calling* frame resumes after its
/// `CALLT`, which is the last instruction of the function: the interpreter reads
/// past the end of the bytecode (out-of-bounds read, then garbage opcodes or a
/// SIGSEGV) instead of returning the results.
#[test]
fn tail_called_pcall_returns_its_results() {
    let (end, out) = run_ok(
        "local function f(...) return pcall(function(...) return ... end, ...) end\n\
         print(f(1, 2, 3))\n\
         local function g() return xpcall(function() error('inner') end, function(e) return 'H:' .. e end) end\n\
         print(g())\n\
         print(select('#', f()))\n\
         local function rec() return pcall(rec) end\n\
         local r = {rec()}\n\
         print(r[1], #r > 100)",
    );
    assert_eq!(end, End::Ok);
    assert_eq!(out, "true\t1\t2\t3\nfalse\tH:regression:3: inner\n1\ntrue\ttrue\n");
}

/// Found by memory_limit.rs ("deep recursion"): the traceback of an error raised
/// 20000 frames deep was built in full as a Rust `String` (about 1.3 MB outside the
/// accounted heap, unbounded, so a memory limit did not bound the process) and then
/// interned. LuaJIT's `luaL_traceback` shows the first 11 levels, `...` and the last
/// 10 when there are more than 22; `State::traceback_text` now does the same.
#[test]
fn traceback_of_deep_recursion_is_bounded() {
    let (end, _) =
        run_ok("local function rec(n) if n == 0 then error('bottom') end return (rec(n - 1)) end rec(20000)");
    let End::RunError(m) = end else {
        panic!("expected an error, got {end:?}")
    };
    let lines: Vec<&str> = m.lines().collect();
    // message, "stack traceback:", 11 levels, "...", 10 levels (the last is the host).
    assert_eq!(lines.len(), 24, "{m}");
    assert_eq!(lines[0], "regression:1: bottom");
    assert_eq!(lines[1], "stack traceback:");
    assert_eq!(lines[2], "\t[C]: in function 'error'");
    assert_eq!(lines[3], "\tregression:1: in function 'rec'");
    assert_eq!(lines[13], "\t...");
    assert_eq!(lines[21], "\tregression:1: in function 'rec'");
    assert_eq!(lines[22], "\tregression:1: in main chunk");
    assert_eq!(lines[23], "\t[C]: at 0x?");
}

/// The boundary of the rule above, checked against luajit 2.1: 22 levels are shown
/// in full, 23 are cut (11, `...`, 10).
#[test]
fn traceback_cut_boundary() {
    let src =
        |n: u32| format!("local function rec(n) if n == 0 then error('bottom') end return (rec(n - 1)) end rec({n})");
    // error + (n + 1) rec + main + host = n + 4 levels
    let (end, _) = run_ok(&src(18));
    let m = end.message().unwrap_or_default().to_string();
    assert_eq!(m.lines().count(), 2 + 22, "{m}");
    assert!(!m.contains("\t..."), "{m}");
    let (end, _) = run_ok(&src(19));
    let m = end.message().unwrap_or_default().to_string();
    assert_eq!(m.lines().count(), 2 + 22, "{m}");
    assert_eq!(m.lines().filter(|l| *l == "\t...").count(), 1, "{m}");
}

/// Found by the benchmark suite (varargs peaked at 56 MB): after many short-lived
/// strings die, the string table kept its grown bucket array (1 MB for 100000 dead
/// strings). The buckets now shrink as housekeeping at safe points and after
/// `collectgarbage("collect")`, outside any collector step.
#[test]
fn string_table_gives_buckets_back() {
    let (end, out) = run_ok(
        "local function f(x) return tostring(x) end\n\
         for i = 1, 100000 do f(i) end\n\
         collectgarbage()\n\
         print(collectgarbage('count') < 200)",
    );
    assert_eq!(end, End::Ok);
    assert_eq!(out, "true\n");
}

/// Run `src` through the safe API on its own thread with `setup` applied to the
/// state; `None` if it has not finished after `secs` seconds (the thread is left
/// behind: a hang must fail the test, not block it).
fn run_bounded(
    src: &'static str,
    secs: u64,
    setup: impl FnOnce(&perilune::Lua) + Send + 'static,
) -> Option<perilune::Result<()>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let lua = perilune::Lua::new();
        setup(&lua);
        let _ = tx.send(lua.load(src).exec());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs)).ok()
}

/// A pattern whose backtracking takes exponential time: `.-` four times over a
/// 3000-byte subject that does not contain `b` is about 3000^4/24 matcher steps.
const CATASTROPHIC_PATTERN: &str = "local s = string.rep('a', 3000) return string.find(s, '.-.-.-.-b')";

/// Found by the `run` fuzz target (docs/fuzzing.md: a timeout after 15 s with a
/// 200 000 instruction budget): a pathological pattern never paid anything into the
/// instruction budget, because the interpreter charges only loop back-edges and
/// calls, and `string.find` is one call. The budget that a host sets to stop
/// untrusted code did not stop it. The matcher now counts its steps and pays them
/// into the VM's countdown (`State::pay_native`).
#[test]
fn instruction_budget_stops_a_catastrophic_pattern() {
    let r = run_bounded(CATASTROPHIC_PATTERN, 20, |lua| {
        lua.set_instruction_budget(Some(200_000)).unwrap();
    });
    match r {
        Some(Err(perilune::Error::BudgetExhausted)) => {}
        Some(other) => panic!("expected the budget to run out, got {other:?}"),
        None => panic!("the budget did not stop the pattern within 20 s"),
    }
    // gsub and gmatch go through the same meter.
    for src in [
        "local s = string.rep('a', 3000) return s:gsub('.-.-.-.-b', '')",
        "local s = string.rep('a', 3000) for m in s:gmatch('.-.-.-.-b') do end",
    ] {
        let r = run_bounded(src, 20, |lua| lua.set_instruction_budget(Some(200_000)).unwrap());
        assert!(matches!(r, Some(Err(perilune::Error::BudgetExhausted))), "{src}: {r:?}");
    }
}

/// The same pattern with no budget is stopped by the interrupt flag (Ctrl-C in the
/// command line), which the interpreter looks at only when the countdown runs out.
#[test]
fn interrupt_stops_a_catastrophic_pattern() {
    let r = run_bounded(CATASTROPHIC_PATTERN, 20, |lua| {
        let flag = lua.interrupt_handle();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    });
    match r {
        Some(Err(e)) => assert!(e.to_string().contains("interrupted!"), "{e}"),
        other => panic!("expected 'interrupted!', got {other:?}"),
    }
}

/// Found by the `run_structured` fuzz target (`assertion failed: ci.kind ==
/// FrameKind::Lua` in `execute_from`): `xpcall` of a value that cannot be called,
/// with a handler that raises. The call fails before any frame is pushed for it,
/// the handler runs and fails too, and the interpreter then resumed a frame that
/// was not a Lua frame.
#[test]
fn xpcall_of_uncallable_with_failing_handler() {
    let (end, out) = run_ok(
        "print(xpcall(false, function() error('x') end))\n\
         print(pcall(xpcall, {}, function() local x = nil; x() end))\n\
         print(xpcall(nil, function(...) return (nil)() end))\n\
         local co = coroutine.wrap(function() return xpcall(false, function() error('y') end) end)\n\
         print(co())\n\
         print(xpcall(false, function(e) return 'handled: ' .. e end))",
    );
    assert_eq!(end, End::Ok);
    assert_eq!(
        out,
        "false\terror in error handling\n\
         true\tfalse\terror in error handling\n\
         false\terror in error handling\n\
         false\terror in error handling\n\
         false\thandled: attempt to call a boolean value\n"
    );
}

/// An allocator that never gives freed blocks back while it lives: it fills them
/// with 0xDD and keeps them, so a write to a freed object stays visible.
#[derive(Clone, Default)]
struct Quarantine(std::sync::Arc<std::sync::Mutex<Vec<(usize, std::alloc::Layout)>>>);

// SAFETY: blocks come from the system allocator with the layout asked for; a freed
// block is only poisoned and remembered, never handed out again.
unsafe impl perilune::Allocator for Quarantine {
    fn alloc(&self, layout: std::alloc::Layout) -> Option<std::ptr::NonNull<u8>> {
        perilune::SystemAllocator.alloc(layout)
    }
    unsafe fn realloc(
        &self,
        ptr: std::ptr::NonNull<u8>,
        old: std::alloc::Layout,
        new_size: usize,
    ) -> Option<std::ptr::NonNull<u8>> {
        let layout = std::alloc::Layout::from_size_align(new_size, old.align()).ok()?;
        let new = perilune::SystemAllocator.alloc(layout)?;
        // SAFETY: both blocks are live and at least this long; they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(ptr.as_ptr(), new.as_ptr(), old.size().min(new_size)) };
        // SAFETY: `ptr` was allocated here with `old` and is not used again.
        unsafe { self.dealloc(ptr, old) };
        Some(new)
    }
    unsafe fn dealloc(&self, ptr: std::ptr::NonNull<u8>, layout: std::alloc::Layout) {
        // SAFETY: the block is `layout.size()` bytes and belongs to the caller.
        unsafe { std::ptr::write_bytes(ptr.as_ptr(), 0xDD, layout.size()) };
        if let Ok(mut v) = self.0.lock() {
            v.push((ptr.as_ptr() as usize, layout));
        }
    }
}

impl Quarantine {
    /// Check that every freed block is still all 0xDD, then free them for real.
    /// Returns how many freed blocks were written to.
    fn written_after_free(&self) -> usize {
        let blocks = std::mem::take(&mut *self.0.lock().unwrap());
        let mut dirty = 0;
        for (p, layout) in blocks {
            // SAFETY: the block is still allocated (quarantined) with `layout`.
            let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, layout.size()) };
            if bytes.iter().any(|&b| b != 0xDD) {
                dirty += 1;
            }
            // SAFETY: allocated by `SystemAllocator` with `layout` (which is not always
            // Rust's global allocator: with the `mimalloc` feature it is the process
            // allocator), freed once, by the same allocator.
            if let Some(nn) = std::ptr::NonNull::new(p as *mut u8) {
                unsafe { perilune::Allocator::dealloc(&perilune::SystemAllocator, nn, layout) };
            }
        }
        dirty
    }
}

/// Closing a state frees every object and then touches none of them. (Found by
/// valgrind when the collector's `free_all` was public: dropping a state after it
/// wrote to the freed main thread. `free_all` is now private to `State::drop`; this
/// keeps the check that closing writes to no block it freed.)
#[test]
fn dropping_a_state_writes_no_freed_object() {
    let q = Quarantine::default();
    let lua = perilune::Lua::new_with_allocator(Box::new(q.clone()), perilune::StdLib::ALL_SAFE).unwrap();
    lua.load(
        "t = {1, 2, 3} co = coroutine.create(function() coroutine.yield() end) coroutine.resume(co)\n\
         s = string.rep('x', 100) .. 1",
    )
    .exec()
    .unwrap();
    drop(lua);
    assert_eq!(q.written_after_free(), 0, "freed blocks were written to");
}

/// Found by the PUC-Rio suite (big.lua:11): concatenating past LuaJIT's largest
/// string must raise "string length overflow" (before trying to allocate), not
/// "not enough memory" or succeed.
#[test]
fn concatenation_past_the_largest_string_overflows() {
    let (end, out) = run_ok(
        "local s = string.rep('x', 2^26)\n\
         local f = loadstring('return function(a) return a' .. string.rep('..a', 40) .. ' end')()\n\
         local ok, e = pcall(f, s)\n\
         print(ok, (string.find(e, 'string length overflow', 1, true)) ~= nil)",
    );
    assert_eq!(end, End::Ok);
    assert_eq!(out, "false\ttrue\n");
}

/// Found in review: a Rust caller asking for more results than the callee's frame
/// had stack room for (`State::pcall(0, 300)`) indexed past the stack while padding
/// with nil. `poscall` now makes room first.
#[test]
fn many_wanted_results_get_stack_room() {
    let mut st = perilune::unstable_internals::vm::state::State::new().expect("state");
    st.load(b"return 1, 2", b"=t").map_err(|_| ()).expect("load");
    assert!(st.pcall(0, 300, false));
    assert_eq!(st.peek(299).as_number(), Some(1.0));
    assert_eq!(st.peek(298).as_number(), Some(2.0));
    assert!(st.peek(0).is_nil());
    st.pop(300);
}

/// Found by an audit of script-sized Rust allocations: traceback lines copied the
/// function's name whole into Rust text, so long names (string constants of any size)
/// made tracebacks arbitrarily large outside the heap. Names longer than
/// `TRACEBACK_NAME_MAX` (200) bytes are cut and end in `...`; shorter ones are whole.
#[test]
fn traceback_shows_long_names_cut() {
    let long = "n".repeat(300);
    let exact = "e".repeat(200);
    let src = format!(
        "local t = {{}} t.{long} = function() error('x') end t.{exact} = function() t.{long}() end t.{exact}()"
    );
    let (end, _) = run_ok(&src);
    let End::RunError(m) = end else {
        panic!("expected an error, got {end:?}")
    };
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(
        lines[3],
        format!("\tregression:1: in function '{}...'", "n".repeat(200)),
        "{m}"
    );
    assert_eq!(lines[4], format!("\tregression:1: in function '{exact}'"), "{m}");
}

/// Found by the `mutate_dump` fuzz target (a call count mutated from 3 to 14082, a
/// libFuzzer timeout; the same from source): multiple results are copied value by
/// value, and recursion that passes a growing list on (`return n, f(n - 1)`,
/// `return g(n - 1, n, ...)`, `{f(n - 1)}`) does work quadratic in its depth while
/// the instruction budget counted only its calls: 14 000 calls, well inside a
/// 200 000 budget, copied 10^8 values. CALLM, CALLMT, RETM and TSETM now pay one
/// unit per 16 values they pass on (vm/interp.rs, `pay_values!`).
#[test]
fn instruction_budget_counts_multiple_results() {
    for src in [
        "local function f(n) if n == 0 then return end return n, f(n - 1) end return #{f(14000)}",
        "local function g(n, ...) if n == 0 then return select('#', ...) end return g(n - 1, n, ...) end return g(14000)",
        "local function h(n, ...) if n == 0 then return 0 end local t = {n, ...} return h(n - 1, unpack(t)) end return h(14000)",
    ] {
        let lua = perilune::Lua::new();
        lua.set_instruction_budget(Some(200_000)).unwrap();
        let r = lua.load(src).eval::<i64>();
        assert!(matches!(r, Err(perilune::Error::BudgetExhausted)), "{src}: {r:?}");
        // Short lists cost about what they did.
        lua.set_instruction_budget(Some(200_000)).unwrap();
        let short = src.replace("14000", "100");
        assert!(lua.load(short.as_str()).eval::<i64>().is_ok(), "{short}");
    }
}

/// Found by the `mutate_dump` fuzz target (a libFuzzer timeout): a `break` turned
/// into `TNEW` with a size hint of 32 768 hash slots made an endless loop clear
/// ~800 KB per turn while paying ~12 units of a 200 000 budget: minutes of work.
/// TNEW and TDUP now pay one unit per 16 slots they make. Source code copies big
/// tables too: a constructor of constants is one TDUP of a template.
#[test]
fn instruction_budget_counts_table_sizes() {
    let items: Vec<String> = (1..=4000).map(|i| format!("k{i} = {i}")).collect();
    let src = format!("N = 0 while true do local t = {{ {} }} N = N + 1 end", items.join(", "));
    let lua = perilune::Lua::new();
    lua.set_instruction_budget(Some(200_000)).unwrap();
    let r = lua.load(src.as_str()).exec();
    assert!(matches!(r, Err(perilune::Error::BudgetExhausted)), "{r:?}");
    lua.set_instruction_budget(None).unwrap();
    // About 200 000 / (4096 / 16) turns now; before, 200 000 / 6 (the loop's own
    // instructions), each copying 4000 entries.
    let turns: i64 = lua.load("return N").eval().unwrap();
    assert!(
        turns < 2000,
        "{turns} copies of a 4000-entry table under a 200 000 budget"
    );
}
