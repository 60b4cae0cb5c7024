//! Shared code of the fuzz targets (docs/fuzzing.md): what one input does, so that the
//! targets stay one line each and a crash can be replayed from a test or a debugger
//! with the same code.

use perilune::unstable_internals::compiler::{compile, listing, verify::verify};
use perilune::unstable_internals::vm::state::State;
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
        if let Err(perilune::unstable_internals::compiler::verify::LoopError::Unpaid(e)) =
            perilune::unstable_internals::compiler::verify::verify_loops(p, heap)
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
    // Only the libraries that stay inside the state: `Lua::new` also opens `io` and
    // `os`, with which fuzzed code would write files and run programs.
    let lua = Lua::new_with(perilune::StdLib::ISOLATED, perilune::LuaOptions::new()).expect("state");
    run_in(lua, src, "run");
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
    check_usable(&lua);
}

/// With the limits lifted (and a new budget, since finalizers may run), the state
/// must collect and run [`CHECK`].
fn check_usable(lua: &Lua) {
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

/// `string.dump` of every snippet, with and without stripping, made once per process.
pub fn dumps() -> &'static [Vec<u8>] {
    static DUMPS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    DUMPS.get_or_init(|| {
        let lua = perilune::Lua::new_trusted(perilune::StdLib::ISOLATED, perilune::LuaOptions::new()).expect("state");
        dump_snippets()
            .into_iter()
            .flat_map(|src| [(src, false), (src, true)])
            .map(|(src, strip)| {
                let s: perilune::LuaString = lua
                    .load("local src, strip = ... return string.dump(assert(loadstring(src)), strip)")
                    .call((lua.create_string(src.as_bytes()).expect("string"), strip))
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
    let lua = perilune::Lua::new_trusted(perilune::StdLib::ISOLATED, perilune::LuaOptions::new()).expect("state");
    run_in(lua, chunk, "mutate_dump");
}

/// The predicate "is this one of LuaJIT's decoder errors" (a Lua chunk returning a
/// function), shared with the runtime's `string_buffer_host.rs` test.
pub const DECODER_ERRORS: &str = include_str!("../../crates/perilune/tests/data/buffer_decoder_errors.lua");

/// The Lua side of `buffer_decode`: decodes the input (argument 1) as `mode`
/// (argument 2) says, accepts only LuaJIT's decoder errors (argument 3, the
/// [`DECODER_ERRORS`] predicate), and checks that what it decoded encodes and
/// decodes again. A failure of these checks raises an error starting with
/// `buffer_decode check:`.
pub const BUFFER_DRIVER: &str = r#"
local data, mode, is_decoder_error = ...
local buffer = require("string.buffer")
local MT1, MT2 = {}, {}
local opts = { dict = { "alpha", "beta", "", "gamma" }, metatable = { MT1, false, MT2 } }
local function expected(ok, err)
  if ok then return true end
  if is_decoder_error(err) then return false end
  error("buffer_decode check: unexpected error: " .. tostring(err), 0)
end
local enc = buffer.new(opts)
local function again(v, with_dicts)
  -- Whatever was decoded can be encoded and decoded again.
  local ok, s
  if with_dicts then
    ok, s = pcall(function() return enc:reset():encode(v):get() end)
  else
    ok, s = pcall(buffer.encode, v)
  end
  if not ok then
    if tostring(s) == "not enough memory" then return end
    error("buffer_decode check: cannot re-encode: " .. tostring(s), 0)
  end
  local dec = with_dicts and buffer.new(opts) or nil
  local ok2, err = pcall(function()
    if dec then return dec:set(s):decode() else return buffer.decode(s) end
  end)
  if not ok2 and tostring(err) ~= "not enough memory" then
    error("buffer_decode check: cannot decode own encoding: " .. tostring(err), 0)
  end
end
local m = mode % 4
if m == 0 then
  local ok, v = pcall(buffer.decode, data)
  if expected(ok, v) then again(v, false) end
else
  local b = buffer.new(opts)
  if m == 1 then b:set(data) elseif m == 2 then b:put(data) else b:put(data):skip(1) end
  for _ = 1, 64 do
    if #b == 0 then break end
    local before = #b
    local ok, v = pcall(b.decode, b)
    if not expected(ok, v) then
      if #b ~= before then error("buffer_decode check: a failed decode consumed data", 0) end
      break
    end
    again(v, true)
  end
end
"#;

/// `buffer_decode` target: byte 0 picks the mode (stand-alone `buffer.decode`, or a
/// buffer with `dict`/`metatable` options reading the input through `set`, `put` or
/// `put` + `skip(1)`, decoding up to 64 objects), the rest is the encoded data. Run
/// in a trusted state with the safe libraries and `package` (for `require`), under
/// [`MEMORY_LIMIT`] and [`BUDGET`]. Decoding may fail only with LuaJIT's decoder
/// errors; a decoded value must encode and decode again; afterwards the state must
/// still work.
pub fn buffer_decode_one(data: &[u8]) {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let lua = perilune::Lua::new_trusted(
        perilune::StdLib::ISOLATED | perilune::StdLib::PACKAGE,
        perilune::LuaOptions::new(),
    )
    .expect("state");
    let driver = lua
        .load(BUFFER_DRIVER)
        .set_name("=buffer_decode")
        .into_function()
        .expect("driver");
    let is_decoder_error: perilune::Function = lua
        .load(DECODER_ERRORS)
        .set_name("=buffer_decoder_errors")
        .eval()
        .expect("predicate");
    let s = lua.create_string(payload).expect("input");
    lua.set_memory_limit(lua.used_memory() + MEMORY_LIMIT).expect("limit");
    lua.set_instruction_budget(Some(BUDGET)).expect("budget");
    let r = driver.call::<()>((s, mode, is_decoder_error));
    if std::env::var_os("PERILUNE_FUZZ_VERBOSE").is_some() {
        eprintln!("buffer_decode: {r:?}");
    }
    if let Err(e) = &r {
        let msg = e.to_string();
        assert!(!msg.contains("buffer_decode check:"), "{msg}");
    }
    check_usable(&lua);
}

/// Memory limit of a `cdef` input: the type table's growth is refused beyond it.
pub const CDEF_LIMIT: usize = 4 << 20;

/// `cdef` target: the FFI's C declaration parser on `data`, under a memory limit. It
/// returns an error or declares; either way it never panics, a failed batch leaves
/// the table as it was, and the table still takes a declaration afterwards.
pub fn cdef_one(data: &[u8]) {
    use perilune::unstable_internals::alloc::Heap;
    use perilune::unstable_internals::ffi::{cparse, ctype::CTypeTable};
    let heap = Heap::new(Box::new(perilune::SystemAllocator));
    let Ok(mut t) = CTypeTable::new(&heap) else { return };
    if cparse::predefine(&mut t).is_err() {
        return;
    }
    heap.set_limit(heap.used() + CDEF_LIMIT);
    let before = t.len();
    match cparse::cdef(&mut t, data) {
        Ok(()) => {}
        Err(e) => {
            let _ = e.message(data);
            assert_eq!(t.len(), before, "a failed cdef left records behind");
        }
    }
    if let Err(e) = cparse::parse_type(&mut t, data) {
        let _ = e.message(data);
    }
    heap.set_limit(usize::MAX);
    assert!(cparse::cdef(&mut t, b"struct fuzz_after { int a; double b; };").is_ok());
}
