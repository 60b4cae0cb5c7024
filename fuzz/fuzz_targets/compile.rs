//! The compiler on arbitrary bytes: compiling must return a prototype or an error,
//! never panic; every prototype it returns must pass the bytecode verifier (the
//! interpreter trusts its operands) and must be listable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    perilune_fuzz::compile_one(data);
});
