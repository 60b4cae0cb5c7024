//! File-based compiler tests: every `tests/compiler/*.lua` is compiled and its listing
//! compared with `*.bl`, or, for sources that must not compile, its error message
//! compared with `*.err` (the text `luajit` prints, without the `luajit: ` prefix).
//!
//! Set `PERILUNE_BLESS=1` to rewrite the expected files from the current output
//! (review the diff before committing). `PERILUNE_LIST=file.lua` prints one listing.

use perilune::unstable_internals::compiler::{compile, listing};
use perilune::unstable_internals::vm::error::Throw;
use perilune::unstable_internals::vm::state::State;
use std::path::Path;

fn compile_file(path: &Path) -> Result<String, String> {
    let src = std::fs::read(path).unwrap();
    let name = format!("@{}", path.file_name().unwrap().to_string_lossy());
    let st = &mut *State::new().unwrap();
    match compile(st, &src, name.as_bytes()) {
        Ok(p) => Ok(listing(p)),
        Err(Throw::Error(v)) => Err(v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default()),
        Err(t) => Err(format!("{t:?}")),
    }
}

#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compiler");
    let bless = std::env::var_os("PERILUNE_BLESS").is_some();
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut count = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "lua")) {
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
            Ok(want) => failures.push(format!("{}:\n--- want\n{want}--- got\n{got_text}", path.display())),
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

/// Byte-level mutations of the corpus sources must compile or fail with an error,
/// never panic or hang.
#[test]
fn mutations_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compiler");
    let mut sources: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    sources.sort();
    let alphabet: &[u8] = b" \n()[]{}=.,;:+-*/%^#<>~'\"\\0123456789xeEpP_abgoto::endlocalfunctionreturnbreak";
    let tokens: &[&[u8]] = &[
        b" end ",
        b" do ",
        b" goto l ",
        b" ::l:: ",
        b" local x ",
        b" function() ",
        b" return ",
        b" break ",
        b" ... ",
        b" repeat ",
        b" until x ",
        b" for i=1,2 do ",
        b" if x then ",
        b" else ",
        b" (",
        b")",
    ];
    let st = &mut *State::new().unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut err) = (0, 0);
    for round in 0..20000 {
        let mut src = sources[round % sources.len()].clone();
        for _ in 0..(1 + rand() % 4) {
            let pos = (rand() as usize) % (src.len() + 1);
            match rand() % 3 {
                0 if pos < src.len() => {
                    src.remove(pos);
                }
                1 => src.insert(pos, alphabet[(rand() as usize) % alphabet.len()]),
                _ => {
                    let t = tokens[(rand() as usize) % tokens.len()];
                    for (i, &b) in t.iter().enumerate() {
                        src.insert(pos + i, b);
                    }
                }
            }
        }
        match compile(st, &src, b"=fuzz") {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    // Both outcomes must occur, or the mutations are not exercising the compiler.
    assert!(ok > 100 && err > 100, "ok {ok} err {err}");
}
