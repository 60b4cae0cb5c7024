//! The FFI's C declaration parser on arbitrary bytes: `cdef` and `parse_type` return
//! a declaration or an error, never panic, and a failed `cdef` is rolled back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    perilune_fuzz::cdef_one(data);
});
