//! Syntactically valid Lua generated from the fuzz bytes (perilune_fuzz::gen), run
//! like the `run` target, so that the fuzzer spends its time in the interpreter,
//! the libraries and the collector instead of in the parser's error paths.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = perilune_fuzz::gen::program(data);
    perilune_fuzz::run_one(src.as_bytes());
});
