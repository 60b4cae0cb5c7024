//! `string.dump` output of varied functions with 1-4 bytes changed, loaded as a
//! binary chunk in a trusted state and run under a memory limit and an instruction
//! budget (docs/fuzzing.md). The verifier may refuse the chunk and the run may fail;
//! a panic, an abort or a hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    perilune_fuzz::mutate_dump_one(data);
});
