//! NOT API. The runtime's internals, for the project's own tests, fuzz targets and
//! benchmarks; compiled only with the non-default `internals` feature and hidden from
//! the documentation.
//!
//! Nothing here is covered by semver: names and signatures change with any commit.
//! And these are not safe to use: many *safe* functions here hand out raw object
//! pointers (`GcRef` dereferences without a check, `State` can free what a pointer
//! still names), so code using this module can break memory safety without writing
//! `unsafe`. A host embeds Perilune through the crate's root (`perilune::Lua`, ...)
//! only. The decision is written down in `docs/api-surface.md`.
//!
//! The submodules mirror the crate's own paths (`unstable_internals::vm::state::State`
//! is `crate::vm::state::State`) and re-export only what the tests use.
#![doc(hidden)]

pub mod alloc {
    pub use crate::alloc::{Heap, OutOfMemory};
}

pub mod compiler {
    pub use crate::compiler::{bytecode, compile, dump, listing, verify};
}

pub mod ffi {
    pub use crate::ffi::{call, callback, clib, cparse, ctype};
}

pub mod func {
    pub use crate::func::FF_C;
}

pub mod gc {
    pub use crate::gc::{full_collect, has_pending_finalizers, verify_heap};
}

pub mod jit {
    pub use crate::jit::param;
}

pub mod table {
    pub use crate::table::{fix_seeds, rehash_count, GcTable};
}

pub mod testing {
    pub use crate::testing::{mode_at_rest, Fault, FaultyAllocator};

    /// The most the JIT's compiler was charged at once (`jit::compile`, J5).
    pub fn jit_reserved_peak(st: &crate::vm::state::State) -> usize {
        st.jit.compile_charged_peak
    }
}

pub mod value {
    pub use crate::value::Value;
}

pub mod vm {
    pub use crate::vm::{budget, error, state};
}
