//! Shared code of the fuzz targets (docs/fuzzing.md): what one input does, so that the
//! targets stay one line each and a crash can be replayed from a test or a debugger
//! with the same code.

use perilune::compiler::{compile, listing, verify::verify};
use perilune::vm::state::State;
use perilune::{Error, Lua};

pub mod gen;

/// Memory limit of a `run` input, above what the fresh state uses.
pub const MEMORY_LIMIT: usize = 8 << 20;
/// Instruction budget of a `run` input.
pub const BUDGET: u64 = 200_000;
/// The script run afterwards to check that the state still works.
pub const CHECK: &str = "local t = {} for i = 1, 100 do t[i] = i end return #t";

/// `compile` target: the compiler on `data`. A prototype the verifier rejects is a
/// code generator bug (the interpreter indexes registers and constants unchecked).
pub fn compile_one(data: &[u8]) {
    let Ok(mut st) = State::new() else { return };
    if let Ok(p) = compile(&mut st, data, b"=fuzz") {
        if let Err(e) = verify(p) {
            panic!("the bytecode verifier rejects the compiler's output: {e}");
        }
        let _ = listing(p);
    }
}

/// `print` for fuzzed code: converts its arguments as the real one does (so
/// `__tostring` runs and allocates), writes nothing.
const PRELUDE: &str = "local tostring, select = tostring, select
print = function(...) for i = 1, select('#', ...) do tostring((select(i, ...))) end end";

/// `run` targets: `src` as a chunk under [`MEMORY_LIMIT`] and [`BUDGET`] through
/// the safe API. Any Lua result is fine; afterwards, with the limits lifted (and a
/// new budget, since finalizers may run), the state must run [`CHECK`].
pub fn run_one(src: &[u8]) {
    let lua = Lua::new();
    lua.load(PRELUDE).set_name("=prelude").exec().expect("prelude");
    lua.set_memory_limit(lua.used_memory() + MEMORY_LIMIT).expect("limit");
    lua.set_instruction_budget(Some(BUDGET)).expect("budget");
    let r = lua.load(src).set_name("=fuzz").exec();
    if std::env::var_os("PERILUNE_FUZZ_VERBOSE").is_some() {
        eprintln!("run: {r:?}");
    }
    lua.set_memory_limit(0).expect("limit");
    lua.set_instruction_budget(Some(BUDGET)).expect("budget");
    // Finalizers of the script's objects may run here and spend the budget; that
    // is their right, so the collection's own result is not checked.
    let _ = lua.gc_collect();
    lua.set_instruction_budget(Some(BUDGET)).expect("budget");
    match lua.load(CHECK).set_name("=check").eval::<i64>() {
        Ok(100) => {}
        // A finalizer that loops until the budget ends can be run by this chunk's
        // allocations too.
        Err(Error::BudgetExhausted) => {}
        other => panic!("the state is unusable after the run: {other:?}"),
    }
}
