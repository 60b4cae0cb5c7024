//! C data and `ffi.gc` through the embedding API (docs/ffi.md): the churn target of
//! issue 18 (millions of finalizable cdata, a bounded live set: a flat peak within a
//! small multiple of the live data, every finalizer run exactly once, also under a
//! memory limit), finalizers at close, and `ffi` staying out of the safe states.
//! The Lua-level behaviour is in `tests/lua/ffi/` (expected output from luajit).

use perilune::{Lua, LuaOptions, StdLib};

fn ffi_state() -> Lua {
    // SAFETY: the scripts of this file are the test's own and touch only memory
    // they allocate with `ffi.new`.
    unsafe { Lua::unsafe_new_trusted(StdLib::ALL, LuaOptions::new()) }.unwrap()
}

/// 4 million `ffi.gc` cdata, at most 100,000 alive at once. The live data is
/// measured in the same state (after full collections). Measured (debug build of
/// the command, same program): live 6.5 MB, peak 18.4 MB in each quarter, with or
/// without `--memory-limit 32M`; luajit's peak on it is 24.8 MB.
///
/// `PERILUNE_CHURN_DIV=k` divides both counts by k (for a run under valgrind); the
/// peak checks then do not apply, only "every finalizer once".
#[test]
fn cdata_finalizer_churn_keeps_a_flat_peak() {
    let div: u32 = std::env::var("PERILUNE_CHURN_DIV")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&k| k >= 1)
        .unwrap_or(1);
    let (n, alive) = (4_000_000 / div / 4 * 4, (100_000 / div).max(1));
    let script = SCRIPT.replace(
        "local N, ALIVE = 4000000, 100000",
        &format!("local N, ALIVE = {n}, {alive}"),
    );
    const SCRIPT: &str = r#"
        local ffi = require("ffi")
        local N, ALIVE = 4000000, 100000
        local finalized = 0
        local function fin(cd) finalized = finalized + 1 end
        collectgarbage() collectgarbage()
        local base = collectgarbage("count")
        local live = {}
        for i = 1, ALIVE do live[i] = ffi.gc(ffi.new("int[2]"), fin) end
        collectgarbage() collectgarbage()
        local livekb = collectgarbage("count") - base
        live = nil
        collectgarbage() collectgarbage()
        finalized = 0
        base = collectgarbage("count")
        local peaks, peak = {}, 0
        live = {}
        for i = 1, N do
          live[i % ALIVE + 1] = ffi.gc(ffi.new("int[2]"), fin)
          if i % 1000 == 0 then peak = math.max(peak, collectgarbage("count")) end
          if i % (N / 4) == 0 then peaks[#peaks + 1] = peak - base peak = 0 end
        end
        live = nil
        collectgarbage() collectgarbage()
        return finalized, livekb, peaks[1], peaks[4]
    "#;
    for limit in [None, Some(32 * 1024 * 1024)] {
        let lua = ffi_state();
        if let Some(l) = limit {
            lua.set_memory_limit(l).unwrap();
        }
        let (finalized, live, first, last): (f64, f64, f64, f64) = lua.load(&script).eval().unwrap();
        assert_eq!(finalized, n as f64, "limit {limit:?}");
        if div > 1 {
            continue;
        }
        assert!(
            last <= first * 1.25,
            "peak rose from {first} KB to {last} KB (limit {limit:?})"
        );
        assert!(
            last <= live * 3.5,
            "peak {last} KB against {live} KB of live data (limit {limit:?})"
        );
    }
}

/// Every finalizer runs exactly once, each its own object's, including those of
/// objects still alive when the state closes.
#[test]
fn cdata_finalizers_run_once_and_at_close() {
    let lua = ffi_state();
    let (count, bad): (f64, f64) = lua
        .load(
            r#"
            local ffi = require("ffi")
            local N, ALIVE = 100000, 2000
            local seen = {}
            local live = {}
            for i = 1, N do
              live[i % ALIVE + 1] = ffi.gc(ffi.new("int[1]", i), function(cd) seen[cd[0]] = (seen[cd[0]] or 0) + 1 end)
            end
            live = nil
            collectgarbage() collectgarbage()
            local count, bad = 0, 0
            for i = 1, N do
              if seen[i] then count = count + 1 end
              if seen[i] ~= nil and seen[i] ~= 1 then bad = bad + 1 end
            end
            return count, bad
            "#,
        )
        .eval()
        .unwrap();
    assert_eq!((count, bad), (100000.0, 0.0));

    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let lua = ffi_state();
        let h = hits.clone();
        let f = lua
            .create_function(move |_, ()| {
                h.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            })
            .unwrap();
        lua.globals().set("hit", f).unwrap();
        lua.load(
            r#"
            local ffi = require("ffi")
            keep = {}
            for i = 1, 100 do keep[i] = ffi.gc(ffi.new("char[8]"), function() hit() end) end
            for i = 1, 50 do ffi.gc(ffi.new("char[8]"), function() hit() end) end
            ffi.gc(keep[1], nil)
            "#,
        )
        .exec()
        .unwrap();
    }
    // 99 kept (one cleared) and 50 garbage: all run at close, once.
    assert_eq!(hits.load(std::sync::atomic::Ordering::Relaxed), 149);
}

/// `ffi` is never in a safe state: `require` does not find it and the safe
/// constructors refuse the bit.
#[test]
fn safe_states_have_no_ffi() {
    let lua = Lua::new();
    assert!(lua.load("return require('ffi')").exec().is_err());
    let lua = Lua::new_trusted(StdLib::ALL, LuaOptions::new()).unwrap();
    assert!(lua.load("return require('ffi')").exec().is_err());
    assert!(Lua::new_with(StdLib::FFI, LuaOptions::new()).is_err());
    // Not even in a sandbox of a state that has it.
    let lua = ffi_state();
    assert!(lua.load("return require('ffi')").exec().is_ok());
    let sandbox = lua.create_sandbox().unwrap();
    let r = lua.load("return require('ffi')").set_environment(sandbox).exec();
    assert!(r.is_err());
}

/// `1LL`, `1ULL` and `1i` are cdata literals only in states with the FFI; elsewhere
/// they stay malformed numbers (FFI.md: no on-demand loading).
#[test]
fn literals_need_the_ffi() {
    let lua = Lua::new();
    for src in ["return 1LL", "return 2ULL", "return 3i"] {
        let e = lua.load(src).exec().unwrap_err();
        assert!(e.to_string().contains("malformed number near"), "{src}: {e}");
    }
    let lua = ffi_state();
    let s: String = lua
        .load("return tostring(1LL + 2ULL) .. ' ' .. tostring(3i)")
        .eval()
        .unwrap();
    assert_eq!(s, "3ULL 0+3i");
}
