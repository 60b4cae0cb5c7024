//! IR text tests: every `tests/jit-ir/<name>.lua` runs with the JIT on, recording
//! from the first back-edge (`-jon -Ohotloop=1 -jdump=is`: IR and snapshots, not the
//! machine code, which depends on the host CPU), and its standard output (the
//! program's output with each trace's IR and snapshots, or its abort reason) is
//! compared with `<name>.ir`. `PERILUNE_BLESS=1` writes the `.ir` files instead; read
//! the diff before committing it. Debug builds verify the IR of every trace
//! (`jit/ir.rs`): a failure shows as `IR verification failed` and fails here.
//! See docs/jit.md, "Reading the dump".

mod common;

use std::path::{Path, PathBuf};

use common::{diff, Interp};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/jit-ir")
}

#[test]
fn ir_dumps_match_expected() {
    let interp = Interp::perilune();
    let bless = std::env::var("PERILUNE_BLESS").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root())
        .expect("tests/jit-ir exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    let mut failures = String::new();
    for script in &scripts {
        let file = script.file_name().and_then(|f| f.to_str()).unwrap_or_default();
        let got = interp
            .run(
                &root(),
                &["-jon", "-Ohotloop=1", "-jdump=is", file],
                None,
                common::timeout(),
            )
            .expect("perilune runs");
        if got.status != Some(0) || !got.stderr.is_empty() {
            failures.push_str(&format!(
                "{file}: status {:?}, stderr {}\n",
                got.status,
                String::from_utf8_lossy(&got.stderr)
            ));
        }
        if String::from_utf8_lossy(&got.stdout).contains("IR verification failed") {
            failures.push_str(&format!("{file}: the IR verifier failed on a trace\n"));
        }
        let expected_path = script.with_extension("ir");
        if bless {
            std::fs::write(&expected_path, &got.stdout).expect("write .ir");
            continue;
        }
        let expected = std::fs::read(&expected_path).unwrap_or_default();
        if got.stdout != expected {
            failures.push_str(&format!("{file}:\n{}", diff("stdout", &expected, &got.stdout)));
        }
    }
    assert!(
        failures.is_empty(),
        "IR tests failed (PERILUNE_BLESS=1 regenerates):\n{failures}"
    );
}
