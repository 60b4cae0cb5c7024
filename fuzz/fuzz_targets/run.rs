//! Arbitrary bytes as Lua source, run through the safe API under a memory limit and
//! an instruction budget. Only "no panic, no abort, the state works afterwards" is
//! checked: any Lua-level result is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    perilune_fuzz::run_one(data);
});
