//! `string.buffer` serialization is interoperable with LuaJIT's, both ways: what
//! `luajit` encodes, `perilune` decodes to the same values, and the other way round.
//! Skipped with a note when luajit is not installed (`PERILUNE_LUAJIT` names it).
//!
//! Both interpreters run `buffer_interop/interop.lua`, which builds the same sample
//! values (fixed ones covering every tag, string lengths at the prefix-encoding
//! boundaries, NaN, -0, infinities, nested and mixed tables, dictionary strings and
//! metatables; then random nested tables from a deterministic generator), and:
//! - `encode`: one hex line per sample (with a `dict`/`metatable` buffer), then the
//!   stand-alone `buffer.encode` of each;
//! - `decode`: reads such lines and prints a canonical dump of each value;
//! - `exact`: the samples whose encoding is fixed byte for byte (no hash part with
//!   more than one key: the order of hash keys depends on each runtime's tables).
//!
//! Checked: each interpreter decodes the other's encodings to the dump LuaJIT gets
//! from its own; and for the exact samples the two encodings are the same bytes.
//!
//! A second test decodes ~3000 copies of LuaJIT's encodings with 1-3 random bytes
//! changed, inserted or removed (`mutate`) in both: the error message or the decoded
//! value must be the same, except that Perilune refuses light userdata addresses
//! above 47 bits ("bad light userdata pointer") that LuaJIT takes (LuaJIT then goes
//! on and may fail later or succeed). LuaJIT's string hash is seeded per run, so the
//! order of hash keys in its encodings, and with it the mutated inputs, change from
//! run to run; a difference is reported with its input (in hex) to replay it.

mod common;

use std::path::{Path, PathBuf};

use common::{diff, timeout, Interp};

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buffer_interop")
}

/// Run `interop.lua <mode>` and return its stdout, failing on any error.
fn run(interp: &Interp, mode: &str, stdin: Option<&[u8]>) -> Vec<u8> {
    let out = interp
        .run(&script_dir(), &["interop.lua", mode], stdin, timeout())
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", interp.name));
    assert!(
        out.status == Some(0) && !out.timed_out,
        "{} interop.lua {mode} failed (status {:?}, timed out {}):\n{}",
        interp.name,
        out.status,
        out.timed_out,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect()
}

#[test]
fn encodings_decode_in_the_other_runtime() {
    let Some(luajit) = Interp::luajit() else {
        eprintln!("note: luajit is not installed; skipping the string.buffer interoperability test");
        return;
    };
    let perilune = Interp::perilune();

    // The same samples on both sides.
    let lj_dump = run(&luajit, "dump", None);
    let pl_dump = run(&perilune, "dump", None);
    assert!(lj_dump == pl_dump, "{}", diff("the samples' dump", &lj_dump, &pl_dump));

    let lj_hex = run(&luajit, "encode", None);
    let pl_hex = run(&perilune, "encode", None);
    // What each decodes from LuaJIT's own encodings is the reference.
    let lj_of_lj = run(&luajit, "decode", Some(&lj_hex));
    let pl_of_lj = run(&perilune, "decode", Some(&lj_hex));
    let lj_of_pl = run(&luajit, "decode", Some(&pl_hex));
    let pl_of_pl = run(&perilune, "decode", Some(&pl_hex));
    assert!(
        pl_of_lj == lj_of_lj,
        "{}",
        diff("perilune decoding luajit's encodings", &lj_of_lj, &pl_of_lj)
    );
    assert!(
        lj_of_pl == lj_of_lj,
        "{}",
        diff("luajit decoding perilune's encodings", &lj_of_lj, &lj_of_pl)
    );
    assert!(
        pl_of_pl == lj_of_lj,
        "{}",
        diff("perilune decoding its own encodings", &lj_of_lj, &pl_of_pl)
    );

    // Byte for byte where the encoding does not depend on hash order, for both the
    // dictionary buffer (first block) and `buffer.encode` (after the `--` line).
    let exact = run(&luajit, "exact", None);
    let (lj, pl) = (lines(&lj_hex), lines(&pl_hex));
    assert_eq!(lj.len(), pl.len(), "different numbers of encodings");
    let per_block = lines(&lj_dump).len();
    let mut checked = 0;
    for n in lines(&exact) {
        let i: usize = String::from_utf8_lossy(n).parse().expect("sample number");
        for at in [i - 1, per_block + i] {
            assert!(
                lj[at] == pl[at],
                "sample {i} encodes differently:\n  luajit   {}\n  perilune {}",
                String::from_utf8_lossy(lj[at]),
                String::from_utf8_lossy(pl[at])
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} exact encodings compared");
    eprintln!(
        "string.buffer interop: {} samples decoded both ways, {checked} encodings identical",
        per_block
    );
}

#[test]
fn mutated_encodings_fail_or_decode_alike() {
    let Some(luajit) = Interp::luajit() else {
        eprintln!("note: luajit is not installed; skipping the string.buffer mutation test");
        return;
    };
    let perilune = Interp::perilune();
    let lj_hex = run(&luajit, "encode", None);
    let lj = run(&luajit, "mutate", Some(&lj_hex));
    let pl = run(&perilune, "mutate", Some(&lj_hex));
    let (lj, pl) = (lines(&lj), lines(&pl));
    assert_eq!(lj.len(), pl.len(), "different numbers of mutated inputs");
    let mut errors = 0;
    let mut wide_lud = 0;
    let mut mismatches = Vec::new();
    for (k, (a, b)) in lj.iter().zip(&pl).enumerate() {
        let known = b.ends_with(b" E:bad light userdata pointer") && !a.ends_with(b" E:bad light userdata pointer");
        wide_lud += usize::from(known);
        if a != b && !known {
            mismatches.push(format!(
                "input {}:\n  luajit   {}\n  perilune {}",
                k + 1,
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            ));
        }
        errors += usize::from(a.windows(3).any(|w| w == b" E:"));
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} mutated inputs differ:\n{}",
        mismatches.len(),
        lj.len(),
        mismatches.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        wide_lud * 50 < lj.len(),
        "{wide_lud} wide light userdata: too many to compare"
    );
    eprintln!(
        "string.buffer mutations: {} inputs, {errors} errors, all alike ({wide_lud} with light userdata above 47 bits)",
        lj.len()
    );
}
