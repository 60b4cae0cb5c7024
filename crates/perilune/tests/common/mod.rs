//! Shared helpers of the fault-injection tests (`alloc_sweep.rs`, `finalizers_oom.rs`,
//! `regressions.rs`): running Lua source inside the library on a
//! [`FaultyAllocator`], with `print` captured, and the post-run consistency checks.
#![allow(dead_code)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use perilune::unstable_internals::alloc::OutOfMemory;
use perilune::unstable_internals::gc;
use perilune::unstable_internals::testing::{Fault, FaultyAllocator};
use perilune::unstable_internals::value::Value;
use perilune::unstable_internals::vm::error::LResult;
use perilune::unstable_internals::vm::state::State;

thread_local! {
    /// What the replacement `print` wrote on this thread.
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `print` that writes to a thread-local buffer instead of stdout. It converts its
/// arguments with `tostring` like the real one, so it allocates the same way.
fn captured_print(st: &mut State) -> LResult<usize> {
    let n = st.arg_count();
    for i in 1..=n {
        let s = st.tostring(st.arg(i))?;
        st.set_arg(i, Value::string(s));
    }
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        for i in 1..=n {
            if i > 1 {
                o.push(b'\t');
            }
            if let Some(s) = st.arg(i).as_string() {
                o.extend_from_slice(s.as_bytes());
            }
        }
        o.push(b'\n');
    });
    Ok(0)
}

/// What `print` wrote since the last call, with addresses normalized.
pub fn take_output() -> Vec<u8> {
    normalize(&OUT.with(|o| std::mem::take(&mut *o.borrow_mut())))
}

/// `open_libs` plus the capturing `print`.
pub fn setup(st: &mut State) -> LResult<()> {
    st.open_libs()?;
    let p = st.new_native(captured_print, perilune::unstable_internals::func::FF_C, 0)?;
    st.set_global("print", Value::function(p))?;
    let hotloop = HOTLOOP.with(|h| h.get());
    if hotloop != 0 {
        let top = st.cur.top;
        st.load(format!("jit.opt.start('hotloop={hotloop}')").as_bytes(), b"=setup")?;
        if !st.pcall(0, 0, true) {
            let v = st.peek(0);
            st.pop(1);
            debug_assert_eq!(st.cur.top, top);
            return Err(perilune::unstable_internals::vm::error::Throw::Error(v));
        }
    }
    Ok(())
}

thread_local! {
    /// `-Ohotloop` for the states [`setup`] prepares on this thread (0: the default).
    /// The JIT sweep sets 1, so every loop of a script is recorded and compiled.
    pub static HOTLOOP: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The text of an error value on top of the stack (as the runner reports it).
pub fn error_text(v: Value) -> String {
    match v.as_string() {
        Some(s) => String::from_utf8_lossy(&normalize(s.as_bytes())).into_owned(),
        None => format!("(error object is a {} value)", v.type_name()),
    }
}

/// How a script run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// `State::with_allocator` returned OutOfMemory.
    StateOom,
    /// `open_libs` (or installing `print`) failed; the message.
    SetupError(String),
    /// `load` failed; the message.
    LoadError(String),
    /// The chunk ran to completion.
    Ok,
    /// The chunk raised an error (message with traceback).
    RunError(String),
}

impl End {
    pub fn message(&self) -> Option<&str> {
        match self {
            End::SetupError(m) | End::LoadError(m) | End::RunError(m) => Some(m),
            _ => None,
        }
    }
}

/// Load and run `src` in `st` (pcall with traceback); the stack is left as found.
pub fn run_chunk(st: &mut State, src: &[u8], chunkname: &[u8]) -> End {
    let top = st.cur.top;
    if let Err(e) = st.load(src, chunkname) {
        let v = st.error_value(e);
        return End::LoadError(error_text(v));
    }
    call_chunk(st, top)
}

/// Call the loaded chunk on top of the stack (pcall with traceback); `top` is the
/// stack top below it.
fn call_chunk(st: &mut State, top: usize) -> End {
    let end = if st.pcall(0, 0, true) {
        End::Ok
    } else {
        let m = error_text(st.peek(0));
        st.pop(1);
        End::RunError(m)
    };
    if st.cur.top != top {
        return End::RunError(format!(
            "harness: stack top {} after the run, expected {top}",
            st.cur.top
        ));
    }
    end
}

/// When a fault is armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    /// Just before the state is created: the fault's request count covers state
    /// creation, `open_libs`, compiling and running.
    AtCreate,
    /// Just before the compiled chunk is called: the count covers only running it.
    AtRun,
    /// No allocator fault: just before the chunk is called, the heap's limit is set
    /// to its current use plus this many bytes (the limit path of `Heap::charge` and
    /// the collector's near-limit pacing).
    Limit(usize),
}

/// Run `src` in a fresh state on `fa` with `fault` armed at `arm`. Returns the state
/// (unless its creation failed), how the run ended and the captured output. The
/// fault is still armed on return.
pub fn run_script_at(
    fa: &FaultyAllocator,
    fault: Fault,
    arm: Arm,
    src: &[u8],
    chunkname: &[u8],
) -> (Option<Box<State>>, End) {
    take_output();
    fa.set(if arm == Arm::AtCreate { fault } else { Fault::None });
    let mut st = match State::with_allocator(fa.boxed()) {
        Ok(st) => st,
        Err(_) => return (None, End::StateOom),
    };
    // These internal calls return their errors directly; like the embedding API
    // (`lua::state::protect`), the harness pays an owed collection before going on.
    if let Err(e) = setup(&mut st) {
        let v = st.error_value(e);
        st.pay_owed_collection();
        return (Some(st), End::SetupError(error_text(v)));
    }
    let top = st.cur.top;
    if let Err(e) = st.load(src, chunkname) {
        let v = st.error_value(e);
        st.pay_owed_collection();
        return (Some(st), End::LoadError(error_text(v)));
    }
    match arm {
        Arm::AtRun => fa.set(fault),
        Arm::Limit(headroom) => st.heap.set_limit(st.heap.used().saturating_add(headroom)),
        Arm::AtCreate => {}
    }
    let end = call_chunk(&mut st, top);
    (Some(st), end)
}

/// [`run_script_at`] with the fault armed before the state is created.
pub fn run_script(fa: &FaultyAllocator, fault: Fault, src: &[u8], chunkname: &[u8]) -> (Option<Box<State>>, End) {
    run_script_at(fa, fault, Arm::AtCreate, src, chunkname)
}

/// Every `0x1234abcd` becomes `0x?` (addresses differ from run to run).
pub fn normalize(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"0x") && text.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            out.extend_from_slice(b"0x?");
            i += 2;
            while text.get(i).is_some_and(|c| c.is_ascii_hexdigit()) {
                i += 1;
            }
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// The "is the state still fine" script run after every faulted run.
pub const CHECK_SCRIPT: &[u8] = b"local t = {} for i=1,100 do t[i]=i end return #t";

/// Allocator activity that would show the collector allocating or shrinking.
fn alloc_activity(fa: &FaultyAllocator) -> (u64, u64, u64) {
    (fa.allocs(), fa.grows(), fa.shrinks())
}

/// The checks after a run: with the fault disarmed, the heap verifies, a full
/// collection allocates nothing and keeps the heap valid, the state still runs a
/// small script correctly; after the state is dropped the allocator holds nothing.
/// Returns a description of every violation.
pub fn post_checks(fa: &FaultyAllocator, st: Option<Box<State>>) -> Result<(), String> {
    let mut errs = Vec::new();
    if let Some(mut st) = st {
        // Every byte the allocator holds is accounted by the heap, and no more; the
        // heap also counts the JIT's code pages, which are mapped outside it.
        if fa.outstanding_bytes() + st.heap.external() != st.heap.used() {
            errs.push(format!(
                "accounting: the allocator holds {} bytes and the JIT's code {}, the heap counts {}",
                fa.outstanding_bytes(),
                st.heap.external(),
                st.heap.used()
            ));
        }
        // A refused allocation leaves a full collection owed; it has run by the time
        // the run's error, or its end, reached the host.
        if st.heap.collection_owed() {
            errs.push("a full collection is still owed after the run".into());
        }
        // Collect once while the fault is still armed: the collector must not need
        // memory (DESIGN.md invariant 4), so this must not even ask.
        let before = alloc_activity(fa);
        gc::full_collect(&mut st);
        let after = alloc_activity(fa);
        if before != after {
            errs.push(format!(
                "full_collect under fault made allocator requests: (allocs, grows, shrinks) {before:?} -> {after:?}"
            ));
        }
        fa.disarm();
        st.heap.set_limit(usize::MAX);
        if let Err(e) = gc::verify_heap(&mut st) {
            errs.push(format!("verify_heap after the run: {e}"));
        }
        let before = alloc_activity(fa);
        gc::full_collect(&mut st);
        let after = alloc_activity(fa);
        if before != after {
            errs.push(format!(
                "full_collect made allocator requests: (allocs, grows, shrinks) {before:?} -> {after:?}"
            ));
        }
        if let Err(e) = gc::verify_heap(&mut st) {
            errs.push(format!("verify_heap after full_collect: {e}"));
        }
        let top = st.cur.top;
        match st.load(CHECK_SCRIPT, b"=check") {
            Err(e) => {
                let v = st.error_value(e);
                errs.push(format!("check script does not load: {}", error_text(v)));
            }
            Ok(()) => {
                if st.pcall(0, 1, true) {
                    let r = st.peek(0).as_number();
                    if r != Some(100.0) {
                        errs.push(format!("check script returned {r:?}, expected 100"));
                    }
                } else {
                    errs.push(format!("check script failed: {}", error_text(st.peek(0))));
                }
                st.pop(1);
            }
        }
        if st.cur.top != top {
            errs.push(format!(
                "stack top {} after the check script, expected {top}",
                st.cur.top
            ));
        }
        if let Err(e) = gc::verify_heap(&mut st) {
            errs.push(format!("verify_heap after the check script: {e}"));
        }
        drop(st);
    }
    fa.disarm();
    if fa.outstanding_bytes() != 0 || fa.live_blocks() != 0 {
        errs.push(format!(
            "leak: {} bytes in {} blocks outstanding after the state was dropped",
            fa.outstanding_bytes(),
            fa.live_blocks()
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// Right after a run that ended in `not enough memory`, allocate a table and a
/// string. If that fails while the same allocation succeeds after a full collection,
/// the garbage of the failed run was not collected where the error was caught
/// (DESIGN.md invariant 5).
pub fn allocates_again_without_collecting(st: &mut State) -> Result<(), String> {
    let fresh = |st: &mut State| -> Result<(), OutOfMemory> {
        let t = st.new_table(4, 4)?;
        let s = st.str_value(b"a fresh string after the run")?;
        st.push(Value::table(t)).map_err(|_| OutOfMemory)?;
        st.push(s).map_err(|_| OutOfMemory)?;
        st.pop(2);
        Ok(())
    };
    if fresh(st).is_ok() {
        return Ok(());
    }
    gc::full_collect(st);
    let second = fresh(st);
    // A refusal here owes a collection like any other; pay it as the API would.
    st.pay_owed_collection();
    match second {
        Ok(()) => Err("allocation failed after the run and succeeded only after an explicit full collection".into()),
        Err(_) => Ok(()),
    }
}

pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lua")
}

pub fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

thread_local! {
    /// The allocator the `fault` native controls, and the warnings received.
    static FA: RefCell<Option<FaultyAllocator>> = const { RefCell::new(None) };
    static WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn record_warning(msg: &[u8]) {
    WARNINGS.with(|w| w.borrow_mut().push(String::from_utf8_lossy(msg).into_owned()));
}

/// The finalizer errors received since the last call.
pub fn take_warnings() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

/// `fault(kind [, n])` from Lua: `"off"`, `"all"` (every request fails), `"nth"`,
/// `"from"`, `"above"` (n bytes), `"grows"`, `"shrinks"`. Allocates nothing.
fn fault_native(st: &mut State) -> LResult<usize> {
    let n = st.arg(2).as_number().unwrap_or(1.0) as u64;
    let kind = st.arg(1);
    let fault = match kind.as_string().map(|s| s.as_bytes().to_vec()).as_deref() {
        Some(b"all") => Fault::From(1),
        Some(b"nth") => Fault::Nth(n),
        Some(b"from") => Fault::From(n),
        Some(b"above") => Fault::Above(n as usize),
        Some(b"grows") => Fault::Grows,
        Some(b"shrinks") => Fault::Shrinks,
        _ => Fault::None,
    };
    FA.with(|f| {
        if let Some(fa) = &*f.borrow() {
            fa.set(fault);
        }
    });
    Ok(0)
}

/// `heap_used()` from Lua: the heap's accounted bytes. Allocates nothing.
fn heap_used_native(st: &mut State) -> LResult<usize> {
    let n = st.heap.used() as f64;
    st.push(Value::number(n))?;
    Ok(1)
}

/// A state on `fa` with the libraries, the capturing `print`, a warning handler
/// that records warnings, and the test natives `fault` and `heap_used`.
pub fn test_state(fa: &FaultyAllocator) -> Box<State> {
    take_output();
    take_warnings();
    FA.with(|f| *f.borrow_mut() = Some(fa.clone()));
    let mut st = State::with_allocator(fa.boxed()).unwrap_or_else(|_| panic!("state creation failed"));
    st.finalizer_error_handler = Some(Box::new(record_warning));
    let r = setup(&mut st).and_then(|()| {
        let f = st.new_native(fault_native, perilune::unstable_internals::func::FF_C, 0)?;
        st.set_global("fault", Value::function(f))?;
        let f = st.new_native(heap_used_native, perilune::unstable_internals::func::FF_C, 0)?;
        st.set_global("heap_used", Value::function(f))
    });
    if r.is_err() {
        panic!("test state setup failed");
    }
    st
}

/// Run a chunk in `st` and return how it ended and what it printed.
pub fn run(st: &mut State, src: &str) -> (End, String) {
    let end = run_chunk(st, src.as_bytes(), b"=test");
    (end, String::from_utf8_lossy(&take_output()).into_owned())
}
