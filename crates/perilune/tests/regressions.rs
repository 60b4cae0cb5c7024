//! Focused regression tests for bugs found by the allocation-failure sweep and the
//! finalizer / memory-pressure tests (docs/fault-injection.md). Each test names the
//! scenario that found it; the ones still open are listed in the doc.

mod common;

use common::{post_checks, run_script, take_output, End};
use perilune::testing::{Fault, FaultyAllocator};

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
    assert_eq!(
        out,
        "true\t1\t2\t3\nfalse\tH:regression:3: inner\n1\ntrue\ttrue\n"
    );
}
