//! File-based compiler tests: every `tests/compiler/*.lua` is compiled and its listing
//! compared with `*.bl`, or, for sources that must not compile, its error message
//! compared with `*.err` (the text `luajit` prints, without the `luajit: ` prefix).
//!
//! Set `PERILUNE_BLESS=1` to rewrite the expected files from the current output
//! (review the diff before committing). `PERILUNE_LIST=file.lua` prints one listing.

use perilune::compiler::{compile, listing};
use perilune::vm::error::Throw;
use perilune::vm::state::State;
use std::path::Path;

fn compile_file(path: &Path) -> Result<String, String> {
    let src = std::fs::read(path).unwrap();
    let name = format!("@{}", path.file_name().unwrap().to_string_lossy());
    // Leaked: dropping a skeleton `State` is not yet safe (heap dropped before strings).
    let st = Box::leak(State::new().unwrap());
    match compile(st, &src, name.as_bytes()) {
        Ok(p) => Ok(listing(p)),
        Err(Throw::Error(v)) => Err(v
            .as_string()
            .map(|s| s.to_str_lossy().into_owned())
            .unwrap_or_default()),
        Err(t) => Err(format!("{t:?}")),
    }
}

#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compiler");
    let bless = std::env::var_os("PERILUNE_BLESS").is_some();
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut count = 0;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
    {
        count += 1;
        let got = compile_file(path);
        let bl = path.with_extension("bl");
        let err = path.with_extension("err");
        let (expect_path, got_text) = match &got {
            Ok(l) => (bl, l.clone()),
            Err(e) => (err, format!("{e}\n")),
        };
        if bless {
            std::fs::write(&expect_path, &got_text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expect_path) {
            Ok(want) if want == got_text => {}
            Ok(want) => failures.push(format!(
                "{}:\n--- want\n{want}--- got\n{got_text}",
                path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no {} (got:\n{got_text})",
                path.display(),
                expect_path.display()
            )),
        }
    }
    assert!(count > 0, "no corpus files found");
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn list_one() {
    if let Ok(f) = std::env::var("PERILUNE_LIST") {
        match compile_file(Path::new(&f)) {
            Ok(l) => println!("{l}"),
            Err(e) => println!("ERROR: {e}"),
        }
    }
}
