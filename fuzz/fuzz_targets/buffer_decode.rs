//! Arbitrary bytes to `string.buffer`'s decoder (stand-alone and through buffers
//! with `dict`/`metatable` options), under a memory limit and an instruction budget
//! (docs/fuzzing.md). Only LuaJIT's decoder errors are allowed; a panic, an abort, a
//! hang or an unexpected error is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    perilune_fuzz::buffer_decode_one(data);
});
