//! The public surface of the default build is the safe embedding API (docs/api-surface.md).
//!
//! The tests of this crate are built with the `internals` feature (the crate's
//! dev-dependency on itself), and cargo unifies features, so nothing compiled in this
//! build can show what a host sees. This test builds a tiny host crate of its own that
//! depends on `perilune` with default features (`cargo check`, offline, in the test's
//! scratch directory) and checks that it can name the embedding API and cannot name
//! the internals: the raw objects, the VM state, the collector, the hidden module.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a host uses: all of it must resolve.
const HOST: &str = "
use perilune::prelude::*;
pub use perilune::{Allocator, StdLib, SystemAllocator};
pub use perilune::{AnyUserData, Chunk, Error, Function, Lua, LuaOptions, LuaString, Table, Thread, Value};
pub fn run() -> perilune::Result<i64> {
    let lua = Lua::new_with_allocator(Box::new(SystemAllocator), StdLib::ALL_SAFE)?;
    let t: LuaTable = lua.create_table()?;
    t.set(1, 41)?;
    lua.globals().set(\"t\", t)?;
    let _ = perilune::flush_stdout();
    lua.load(\"return t[1] + 1\").eval()
}
";

/// Internals a host must not reach; each line must fail to resolve.
const FORBIDDEN: &[&str] = &[
    "perilune::object::GcRef",
    "perilune::table::GcTable",
    "perilune::vm::state::State",
    "perilune::gc::full_collect",
    "perilune::alloc::Heap",
    "perilune::value::Value",
    "perilune::testing::FaultyAllocator",
    "perilune::stdlib::io",
    "perilune::unstable_internals",
];

/// A fresh host crate named `name` whose library is `source`.
fn host_crate(name: &str, source: &str) -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nperilune = {{ path = {:?} }}\n\n[workspace]\n",
        manifest_dir.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/lib.rs"), source).unwrap();
    // The workspace's lock file pins the dependencies to what is already downloaded.
    let lock = manifest_dir.join("../../Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
    dir
}

/// `cargo check` the host crate: success and the compiler's messages.
fn check(dir: &Path) -> (bool, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--message-format=short"])
        .current_dir(dir)
        // Shared between the two host crates, apart from the build running this test.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("host-target"),
        )
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_host_reaches_the_api_and_not_the_internals() {
    let (ok, msgs) = check(&host_crate("surface_host_ok", HOST));
    assert!(ok, "the embedding API does not build for a host:\n{msgs}");

    let source: String = FORBIDDEN
        .iter()
        .map(|path| format!("#[allow(unused_imports)]\nuse {path};\n"))
        .collect();
    let (ok, msgs) = check(&host_crate("surface_host_bad", &source));
    assert!(!ok, "a host named the internals:\n{source}");
    for (i, path) in FORBIDDEN.iter().enumerate() {
        // Line of the `use` in the generated source (two lines per path).
        let at = format!("src/lib.rs:{}:", 2 * i + 2);
        let line = msgs
            .lines()
            .find(|l| l.contains(&at))
            .unwrap_or_else(|| panic!("`{path}` resolved in the default build:\n{msgs}"));
        assert!(
            line.contains("error[E0603]") || line.contains("error[E0432]"),
            "`{path}`: not a privacy or resolution error: {line}"
        );
    }
}
