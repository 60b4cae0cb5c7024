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
        let heap = st.heap_ref();
        if let Err(perilune::compiler::verify::LoopError::Unpaid(e)) = perilune::compiler::verify::verify_loops(p, heap)
        {
            panic!("the compiler made a loop that pays nothing into the budget: {e}");
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
    run_in(Lua::new(), src, "run");
}

/// Run `src` in `lua` under the memory limit and budget, then check that the state
/// still works (shared by [`run_one`] and [`run_chunk`]).
fn run_in(lua: Lua, src: &[u8], label: &str) {
    lua.load(PRELUDE).set_name("=prelude").exec().expect("prelude");
    lua.set_memory_limit(lua.used_memory() + MEMORY_LIMIT).expect("limit");
    lua.set_instruction_budget(Some(BUDGET)).expect("budget");
    let r = lua.load(src).set_name("=fuzz").exec();
    if std::env::var_os("PERILUNE_FUZZ_VERBOSE").is_some() {
        eprintln!("{label}: {r:?}");
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

/// The functions `mutate_dump` mutates: `fuzz/dump_snippets.lua`, one chunk per
/// `--@@`-separated part.
pub const DUMP_SNIPPETS: &str = include_str!("../dump_snippets.lua");

/// The snippets of [`DUMP_SNIPPETS`], split.
pub fn dump_snippets() -> Vec<&'static str> {
    DUMP_SNIPPETS.split("\n--@@\n").collect()
}

/// `string.dump` of every snippet, made once per process.
pub fn dumps() -> &'static [Vec<u8>] {
    static DUMPS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    DUMPS.get_or_init(|| {
        let lua = perilune::Lua::new_trusted(perilune::StdLib::ALL_SAFE, perilune::LuaOptions::new()).expect("state");
        dump_snippets()
            .into_iter()
            .map(|src| {
                let s: perilune::LuaString = lua
                    .load("return string.dump(assert(loadstring(...)))")
                    .call(lua.create_string(src.as_bytes()).expect("string"))
                    .expect("dump");
                s.as_bytes().to_vec()
            })
            .collect()
    })
}

/// The mutated chunk an input of `mutate_dump` describes: byte 0 picks the dump,
/// byte 1 the number of mutations (1 to 4), then each mutation is three bytes: a
/// little-endian position (taken modulo the chunk's length) and the new value. A
/// mutation that would leave the byte as it was flips its low bit instead, so every
/// input changes the chunk.
pub fn mutated_dump(data: &[u8]) -> Option<Vec<u8>> {
    let dumps = dumps();
    let (&pick, rest) = data.split_first()?;
    let (&count, mut rest) = rest.split_first()?;
    let mut chunk = dumps.get(pick as usize % dumps.len())?.clone();
    for _ in 0..1 + count % 4 {
        let Some((m, more)) = rest.split_first_chunk::<3>() else {
            break;
        };
        rest = more;
        let at = u16::from_le_bytes([m[0], m[1]]) as usize % chunk.len();
        chunk[at] = if chunk[at] == m[2] { m[2] ^ 1 } else { m[2] };
    }
    Some(chunk)
}

/// `mutate_dump` target: a dump of a varied function with 1-4 bytes changed, loaded
/// as a binary chunk in a trusted state (safe libraries only), run under
/// [`MEMORY_LIMIT`] and [`BUDGET`]. Being refused by the loader (the verifier) or
/// failing at run time is fine; a panic, an abort or a hang is a bug. Afterwards the
/// state must still work.
pub fn mutate_dump_one(data: &[u8]) {
    let Some(chunk) = mutated_dump(data) else { return };
    run_chunk(&chunk);
}

/// Run a (binary) chunk in a fresh trusted state under the limits, then check the
/// state as [`run_one`] does.
pub fn run_chunk(chunk: &[u8]) {
    let lua = perilune::Lua::new_trusted(perilune::StdLib::ALL_SAFE, perilune::LuaOptions::new()).expect("state");
    run_in(lua, chunk, "mutate_dump");
}
