//! Interrupts and instruction budgets stop code that never ends on its own.

use perilune::unstable_internals::vm::state::State;
use std::sync::atomic::Ordering;

fn run(st: &mut State, src: &str) -> Result<(), String> {
    st.load(src.as_bytes(), b"=test")
        .map_err(|_| "load failed".to_string())?;
    if st.pcall(0, 0, false) {
        Ok(())
    } else {
        let v = st.peek(0);
        st.pop(1);
        Err(v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default())
    }
}

fn state() -> Box<State> {
    let mut st = State::new().expect("state");
    st.open_libs().map_err(|_| ()).expect("libs");
    st
}

#[test]
fn budget_stops_every_kind_of_endless_code() {
    for src in [
        "while true do end",
        "repeat until false",
        "for i = 1, 1e300 do end",
        "::top:: goto top",
        "local function f() return f() end f()",
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) local _ = t.x",
        "for k in function() return 1 end do end",
    ] {
        let mut st = state();
        st.set_budget(Some(1_000_000));
        let err = run(&mut st, src).expect_err(src);
        assert!(
            err.contains("instruction budget exhausted") || err.contains("stack overflow"),
            "{src}: {err}"
        );
        // The state stays usable once the budget is lifted.
        st.set_budget(None);
        run(&mut st, "local x = 0 for i = 1, 10 do x = x + i end assert(x == 55)").expect("usable after abort");
    }
}

#[test]
fn scripts_cannot_catch_an_abort() {
    let mut st = state();
    st.set_budget(Some(100_000));
    let err = run(&mut st, "while true do pcall(function() while true do end end) end").unwrap_err();
    assert_eq!(err, "instruction budget exhausted");
    st.set_budget(Some(100_000));
    let src = "local co = coroutine.wrap(function() while true do end end) print(pcall(co))";
    assert_eq!(run(&mut st, src).unwrap_err(), "instruction budget exhausted");
}

#[test]
fn interrupt_flag_raises_a_catchable_error() {
    let mut st = state();
    let flag = st.interrupt_handle();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        flag.store(true, Ordering::Relaxed);
    });
    let src = "local ok, e = pcall(function() while true do end end) assert(not ok) error(e, 0)";
    let err = run(&mut st, src).unwrap_err();
    setter.join().expect("setter thread");
    assert!(err.ends_with("interrupted!"), "{err}");
}

#[test]
fn host_callback_can_abort() {
    let mut st = state();
    let mut calls = 0;
    st.set_interrupt(Some(Box::new(move || {
        calls += 1;
        if calls > 3 {
            perilune::unstable_internals::vm::budget::InterruptAction::Abort("stopped by host".into())
        } else {
            perilune::unstable_internals::vm::budget::InterruptAction::Continue
        }
    })));
    assert_eq!(run(&mut st, "while true do end").unwrap_err(), "stopped by host");
}
