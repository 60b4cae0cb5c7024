//! Finalizers under memory pressure (DESIGN.md invariants 4 and 6,
//! docs/fault-injection.md): `__gc` handlers that allocate while memory is exhausted,
//! handlers that raise errors (reported to the warning handler, never rethrown into
//! the code whose safe point ran them), objects resurrected by their finalizer, and
//! states closed while finalizers are pending, with and without memory.

mod common;

use common::{post_checks, run, take_warnings, test_state, End};
use perilune::unstable_internals::gc;
use perilune::unstable_internals::testing::{Fault, FaultyAllocator};
use perilune::unstable_internals::vm::state::State;

fn verify(st: &mut State) {
    if let Err(e) = gc::verify_heap(st) {
        panic!("verify_heap: {e}");
    }
}

fn expect_ok(st: &mut State, src: &str) -> String {
    let (end, out) = run(st, src);
    assert_eq!(end, End::Ok, "script failed; output so far:\n{out}");
    verify(st);
    out
}

const MAKE_ALLOCATING: &str = "
ran = 0
for i = 1, 50 do
  local p = newproxy(true)
  getmetatable(p).__gc = function(u)
    local t = {}
    for j = 1, 20 do t[j] = {j, tostring(j) .. 'x'} end
    ran = ran + 1
  end
end
";

#[test]
fn gc_handlers_that_allocate_with_memory_exhausted() {
    let fa = FaultyAllocator::new();
    let mut st = test_state(&fa);
    expect_ok(&mut st, MAKE_ALLOCATING);
    // Every allocation fails from `fault('all')` on: each finalizer fails with
    // "not enough memory" (reported as a warning, or the object stays queued when
    // there is no room to call it); the code that ran the collection goes on.
    let out = expect_ok(
        &mut st,
        "fault('all')
         collectgarbage()
         local survived = true
         fault('off')
         print(survived, ran <= 50)",
    );
    assert_eq!(out, "true\ttrue\n");
    let w = take_warnings();
    assert!(w.iter().all(|m| m == "not enough memory"), "{w:?}");
    // With memory back, anything still queued runs; no finalizer runs twice.
    let out = expect_ok(&mut st, "collectgarbage() collectgarbage() print(ran)");
    let ran: usize = out.trim().parse().unwrap_or(usize::MAX);
    assert_eq!(ran + w.len(), 50, "ran {ran}, failed {}: {w:?}", w.len());
    assert!(post_checks(&fa, Some(st)).is_ok());
}

#[test]
fn gc_handlers_under_a_memory_limit() {
    // The same, but memory runs out by the heap's limit rather than the allocator.
    let fa = FaultyAllocator::new();
    let mut st = test_state(&fa);
    expect_ok(&mut st, MAKE_ALLOCATING);
    gc::full_collect(&mut st);
    let used = st.heap.used();
    st.heap.set_limit(used + 512);
    let (end, _) = run(&mut st, "collectgarbage() local x = 1");
    // The chunk itself may fail to get its frame; it must not fail any other way.
    if let End::RunError(m) | End::LoadError(m) = &end {
        assert!(m.contains("not enough memory"), "{m}");
    }
    st.heap.set_limit(usize::MAX);
    let out = expect_ok(&mut st, "collectgarbage() collectgarbage() print(ran)");
    let w = take_warnings();
    let ran: usize = out.trim().parse().unwrap_or(usize::MAX);
    assert_eq!(ran + w.len(), 50, "ran {ran}: {w:?}");
    assert!(post_checks(&fa, Some(st)).is_ok());
}

#[test]
fn gc_handler_errors_go_to_the_warning_handler() {
    let fa = FaultyAllocator::new();
    let mut st = test_state(&fa);
    let out = expect_ok(
        &mut st,
        "local n = 0
         for i = 1, 10 do
           local p = newproxy(true)
           getmetatable(p).__gc = function() n = n + 1 if i % 2 == 0 then error('boom ' .. i) else error({}) end end
         end
         collectgarbage()
         print('after collect', n)
         -- errors raised by finalizers that run at implicit safe points (allocation
         -- driven steps) do not reach this loop either
         local keep = {}
         for i = 1, 2000 do
           local p = newproxy(true)
           getmetatable(p).__gc = function() error('implicit') end
           keep[i % 10] = {i}
         end
         collectgarbage()
         print('loop done')",
    );
    assert_eq!(out, "after collect\t10\nloop done\n");
    let w = take_warnings();
    assert!(w.len() >= 10 + 1000, "only {} warnings", w.len());
    assert!(w.iter().any(|m| m == "test:4: boom 4"), "{:?}", &w[..10]);
    // A non-string error object is reported as `?`, as LuaJIT does.
    assert!(w.iter().any(|m| m == "?"));
    assert!(w.iter().any(|m| m.contains("implicit")));
    // pcall around the collection sees no error either.
    let out = expect_ok(
        &mut st,
        "do local p = newproxy(true) getmetatable(p).__gc = function() error('x') end end
         print(pcall(collectgarbage))",
    );
    assert_eq!(out, "true\t0\n");
    assert_eq!(take_warnings().len(), 1);
    assert!(post_checks(&fa, Some(st)).is_ok());
}

#[test]
fn resurrected_objects() {
    let fa = FaultyAllocator::new();
    let mut st = test_state(&fa);
    let out = expect_ok(
        &mut st,
        "saved = {}
         local count = 0
         do
           local p = newproxy(true)
           local mt = getmetatable(p)
           mt.__gc = function(u) count = count + 1 saved[#saved + 1] = u end
           mt.payload = {1, 2, 3}
         end
         collectgarbage()
         print(count, #saved, type(saved[1]), getmetatable(saved[1]).payload[3])
         collectgarbage() collectgarbage()
         -- still alive (saved), and not finalized again
         print(count, #saved)
         saved = nil
         collectgarbage() collectgarbage()
         print(count)",
    );
    assert_eq!(out, "1\t1\tuserdata\t3\n1\t1\n1\n");
    verify(&mut st);
    // Resurrection under memory pressure: the finalizer's table store fails, the
    // object is dropped again and freed by a later cycle.
    expect_ok(
        &mut st,
        "saved2 = {}
         for i = 1, 20 do
           local p = newproxy(true)
           getmetatable(p).__gc = function(u) saved2[#saved2 + 1] = u end
         end
         fault('all') collectgarbage() fault('off')
         collectgarbage() collectgarbage()
         saved2 = nil
         collectgarbage() collectgarbage()",
    );
    take_warnings();
    assert!(post_checks(&fa, Some(st)).is_ok());
}

thread_local! {
    static CLOSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[test]
fn state_closed_with_finalizers_pending() {
    for armed in [None, Some(Fault::From(1)), Some(Fault::From(3)), Some(Fault::Above(64))] {
        let fa = FaultyAllocator::new();
        let mut st = test_state(&fa);
        expect_ok(
            &mut st,
            "closed = 0
             live = {}
             for i = 1, 30 do
               local p = newproxy(true)
               getmetatable(p).__gc = function()
                 closed = closed + 1
                 -- finalizers that allocate, create more finalizable objects, and fail
                 local q = newproxy(true)
                 getmetatable(q).__gc = function() local t = {} for j = 1, 10 do t[j] = j end end
                 if i % 3 == 0 then error('closing ' .. i) end
               end
               if i % 2 == 0 then live[i] = p end
             end",
        );
        // Queue the unreachable ones without running them (the collector only
        // queues; finalizers run at safe points), then close the state.
        gc::full_collect(&mut st);
        assert!(gc::has_pending_finalizers(&st));
        verify(&mut st);
        if let Some(f) = armed {
            fa.set(f);
        }
        let start = std::time::Instant::now();
        drop(st);
        assert!(start.elapsed().as_secs() < 10, "closing took too long");
        fa.disarm();
        assert_eq!(
            (fa.outstanding_bytes(), fa.live_blocks()),
            (0, 0),
            "leak after close with {armed:?}"
        );
        let w = take_warnings();
        if armed.is_none() {
            // Every `i % 3 == 0` finalizer (10 of them) reported its error.
            assert_eq!(w.iter().filter(|m| m.contains("closing")).count(), 10, "{w:?}");
        }
        CLOSED.with(|c| c.set(c.get() + 1));
    }
    assert_eq!(CLOSED.with(|c| c.get()), 4);
}

#[test]
fn finalizer_collecting_and_erroring_inside_a_coroutine() {
    let fa = FaultyAllocator::new();
    let mut st = test_state(&fa);
    let out = expect_ok(
        &mut st,
        "local co = coroutine.create(function()
           for i = 1, 5 do
             local p = newproxy(true)
             getmetatable(p).__gc = function()
               collectgarbage()                  -- nested collection: no recursion
               coroutine.yield('from gc')        -- may not yield across the finalizer
             end
           end
           collectgarbage()
           coroutine.yield('body')
           return 'done'
         end)
         print(coroutine.resume(co))
         print(coroutine.resume(co))",
    );
    assert_eq!(out, "true\tbody\ntrue\tdone\n");
    let w = take_warnings();
    assert_eq!(w.len(), 5, "{w:?}");
    assert!(w.iter().all(|m| m.contains("yield")), "{w:?}");
    assert!(post_checks(&fa, Some(st)).is_ok());
}
