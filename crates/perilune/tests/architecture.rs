//! The crate's layering, checked on its sources (docs/architecture.md).
//!
//! Every module of `src/` belongs to one layer; a file may name (`crate::x`,
//! `super::...` reaching `x`) only modules of its own layer or of layers below it:
//!
//! ```text
//!   lua        the embedding API
//!   stdlib, ffi  the standard libraries and the FFI
//!   vm, compiler,  the engine (one layer: the compiler works on the VM's state and
//!   jit            raises its errors; the VM calls the compiler to load chunks;
//!                  the interpreter calls the JIT at hot loops, which reads it)
//!   gc         the collector
//!   core       values, objects, allocator, buffer, number conversions
//! ```
//!
//! The few places where a lower layer names a type of the engine are listed in
//! [`ALLOWED`] with the reason; anything else fails the test with the file, the line
//! and the path. The libraries and the embedding API also reach a thread's frames
//! only through the VM's frame API (`vm/frame.rs`), never the frame array.
//!
//! Error messages are spelled only in `src/errmsg.rs` (docs/errors.md): a string
//! literal elsewhere that spells one fails [`messages_are_spelled_only_in_errmsg`].

use std::fs;
use std::path::{Path, PathBuf};

/// Layers from the bottom up: a module may import from its own layer and below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "core",
        &[
            "alloc",
            "buf",
            "cdata",
            "errmsg",
            "func",
            "hot",
            "number",
            "object",
            "process_alloc",
            "string",
            "table",
            "testing",
            "udata",
            "value",
        ],
    ),
    ("gc", &["gc"]),
    ("engine", &["compiler", "jit", "vm"]),
    ("stdlib", &["stdlib", "ffi"]),
    ("lua", &["lua"]),
];

/// Imports that go up a layer on purpose: (file or directory prefix, imported path
/// prefix, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    // A native function is `fn(&mut State) -> LResult<usize>`, and a Lua function
    // holds its prototype's instructions: the function object names both.
    ("func.rs", "vm::state", "native functions take the state"),
    ("func.rs", "vm::error", "native functions return the VM's errors"),
    ("func.rs", "compiler::bytecode", "a prototype holds bytecode"),
    // The thread object is defined beside the frames it holds.
    ("object.rs", "vm::thread", "re-export of the thread object"),
    // The collector's roots and lists hang off the state (LuaJIT: global_State).
    ("gc/", "vm::state", "the collector works on the state"),
    ("gc/tests.rs", "vm::error", "tests run code"),
    ("testing.rs", "vm::state", "test helpers look at the VM mode"),
    (
        "vm/mode.rs",
        "stdlib::open_base",
        "its tests run library code in each mode",
    ),
    (
        "jit/mod.rs",
        "stdlib::open_base",
        "its tests run loops that call library functions",
    ),
];

/// Files exempt from the rules: the crate root declares every module, and
/// `unstable_internals` (tests and fuzz targets only, docs/api-surface.md)
/// re-exports from every layer.
const EXEMPT: &[&str] = &["lib.rs", "unstable_internals.rs"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every Rust source under `dir` (a file or a folder of `src/`), as its path relative
/// to `src/` (with `/`) and its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let src = src_dir();
    let mut files = Vec::new();
    if dir.is_dir() {
        rust_files(dir, &mut files);
    } else {
        files.push(dir.to_path_buf());
    }
    files
        .iter()
        .map(|f| {
            let rel = f
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(f).expect("read source"))
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file relative to `src/`: `vm/api.rs` -> `[vm, api]`,
/// `vm/mod.rs` -> `[vm]`, `compiler/dump/tests.rs` -> `[compiler, dump, tests]`.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The source without comments and string literals (doc links and messages may
/// name any module).
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    out.push(if b[i] == b'\n' { '\n' } else { ' ' });
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'\n') {
                        out.push('\n');
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal such as '"' must not open a string.
            b'\'' if b.get(i + 2) == Some(&b'\'') => {
                out.push_str("' '");
                i += 3;
            }
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                let end = src[i + 2..].find('\'').map_or(b.len(), |k| i + 2 + k + 1);
                out.push_str("' '");
                i = end;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every absolute module path the source names, with its line: `crate::a::b`,
/// `super::x` resolved against `module`, and each item of a `crate::{a, b::c}`
/// group.
fn imports(src: &str, module: &[String]) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let at_word = i == 0 || !is_ident(b[i - 1]) && b[i - 1] != b':';
        let rest = &src[i..];
        let (base, len): (Vec<String>, usize) = if at_word && rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if at_word && rest.starts_with("super::") {
            // `super` is the parent of the file's module; each further `super::`
            // goes one up.
            let mut base = module.to_vec();
            base.pop();
            let mut len = "super::".len();
            while src[i + len..].starts_with("super::") {
                base.pop();
                len += "super::".len();
            }
            (base, len)
        } else {
            i += 1;
            continue;
        };
        let line = src[..i].matches('\n').count() + 1;
        let mut j = i + len;
        let mut tails = Vec::new();
        if b.get(j) == Some(&b'{') {
            // A group: the first segment of each item at depth one.
            let mut depth = 0;
            let mut item_start = true;
            while j < b.len() {
                match b[j] {
                    b'{' => {
                        depth += 1;
                        if depth == 1 {
                            item_start = true;
                        }
                    }
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b',' if depth == 1 => item_start = true,
                    c if depth == 1 && item_start && is_ident(c) => {
                        let end = (j..b.len())
                            .find(|&k| !(is_ident(b[k]) || b[k] == b':'))
                            .unwrap_or(b.len());
                        tails.push(src[j..end].trim_end_matches(':').to_owned());
                        item_start = false;
                        j = end;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
        } else {
            let end = (j..b.len())
                .find(|&k| !(is_ident(b[k]) || b[k] == b':'))
                .unwrap_or(b.len());
            tails.push(src[j..end].trim_end_matches(':').to_owned());
            j = end;
        }
        for t in tails {
            let mut path = base.clone();
            path.extend(t.split("::").filter(|s| !s.is_empty()).map(str::to_owned));
            if !path.is_empty() {
                found.push((line, path.join("::")));
            }
        }
        i = j.max(i + 1);
    }
    found
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&top))
}

/// The rule violations of one file (`rel` relative to `src/`).
fn check_file(rel: &str, src: &str) -> Vec<String> {
    if EXEMPT.contains(&rel) {
        return Vec::new();
    }
    let module = module_path(rel);
    let Some(own) = layer_of(&module[0]) else {
        return vec![format!(
            "{rel}: module `{}` is in no layer of tests/architecture.rs",
            module[0]
        )];
    };
    let code = strip(src);
    let mut bad = Vec::new();
    for (line, path) in imports(&code, &module) {
        let top = path.split("::").next().unwrap_or("");
        let Some(theirs) = layer_of(top) else {
            continue; // an item of the crate root or of the same module
        };
        if theirs <= own {
            continue;
        }
        let allowed = ALLOWED.iter().any(|(file, prefix, _)| {
            rel.starts_with(file) && (path == *prefix || path.starts_with(&format!("{prefix}::")))
        });
        if !allowed {
            bad.push(format!(
                "{rel}:{line}: `{path}`: the {} layer may not import from the {} layer",
                LAYERS[own].0, LAYERS[theirs].0
            ));
        }
    }
    if matches!(module[0].as_str(), "stdlib" | "lua") {
        for (n, l) in code.lines().enumerate() {
            let hit = l
                .match_indices(".frames")
                .any(|(k, _)| !l[k + 7..].starts_with(|c: char| c.is_alphanumeric() || c == '_'));
            if hit {
                bad.push(format!(
                    "{rel}:{}: reads a thread's frame array; use the frame API of vm/frame.rs",
                    n + 1
                ));
            }
        }
    }
    bad
}

#[test]
fn imports_follow_the_layers() {
    let src = src_dir();
    let files = sources(&src);
    assert!(
        files.len() > 50,
        "found only {} source files under {}",
        files.len(),
        src.display()
    );
    let mut bad = Vec::new();
    for (rel, text) in &files {
        bad.extend(check_file(rel, text));
    }
    assert!(
        bad.is_empty(),
        "layering violations (docs/architecture.md):\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_allowed_exception_is_still_needed() {
    let src = src_dir();
    for (file, prefix, why) in ALLOWED {
        let used = sources(&src.join(file)).iter().any(|(rel, text)| {
            let code = strip(text);
            imports(&code, &module_path(rel))
                .iter()
                .any(|(_, p)| p == prefix || p.starts_with(&format!("{prefix}::")))
        });
        assert!(used, "exception ({file}, {prefix}: {why}) is no longer used: delete it");
    }
}

#[test]
fn the_checker_sees_forbidden_imports() {
    // Each of these must be caught, so that the rule cannot pass vacuously.
    let cases = [
        ("vm/call.rs", "use crate::stdlib::base::tostring_meta;"),
        ("vm/call.rs", "fn f() { crate::stdlib::open_base(st); }"),
        ("vm/hook.rs", "pub profile: crate::stdlib::jit::profile::ProfileHook,"),
        ("gc/verify.rs", "use crate::{value::Value, stdlib::buffer};"),
        ("vm/api.rs", "use super::super::stdlib::open_base;"),
        ("stdlib/io.rs", "use crate::lua::Lua;"),
        ("table.rs", "use crate::gc::barrier_back;"),
        ("compiler/dump/tests.rs", "use super::super::super::stdlib;"),
        ("stdlib/base.rs", "let ci = st.cur.frames[idx];"),
        ("lua/thread.rs", "if co.frames.is_empty() {}"),
    ];
    for (file, src) in cases {
        assert!(!check_file(file, src).is_empty(), "not caught in {file}: {src}");
    }
    // And these are fine: downward imports, comments, strings, the frame API.
    let fine = [
        (
            "stdlib/base.rs",
            "use crate::vm::state::State; use super::string::check_int;",
        ),
        ("vm/meta.rs", "// see crate::stdlib::base\nlet s = \"crate::stdlib\";"),
        ("lua/state.rs", "use crate::stdlib::open_base; let d = th.depth();"),
        ("func.rs", "use crate::vm::state::State;"),
        ("stdlib/debug.rs", "let n = th.frames_len_is_not_the_array;"),
    ];
    for (file, src) in fine {
        assert_eq!(check_file(file, src), Vec::<String>::new(), "{file}: {src}");
    }
}

// --- Error messages live in errmsg.rs (docs/errors.md) ---------------------------------

/// The messages of `src/errmsg.rs` as written there (escapes kept): `NAME = "text",`.
fn messages() -> Vec<(String, String)> {
    let src = fs::read_to_string(src_dir().join("errmsg.rs")).expect("read errmsg.rs");
    src.lines()
        .filter_map(|l| {
            let l = l.trim();
            let (name, rest) = l.split_once(" = \"")?;
            let text = rest.strip_suffix("\",")?;
            name.bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_')
                .then(|| (name.to_owned(), text.to_owned()))
        })
        .collect()
}

/// The string literals of a source (outside comments), with their lines, as written.
fn literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i + 1 < b.len() && b[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                i += src[i + 2..].find('\'').map_or(b.len(), |k| k + 2);
            }
            b'"' => {
                let (start, at) = (i + 1, line);
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'\n') {
                        line += 1;
                    }
                    i += 1;
                }
                out.push((at, src[start..i.min(b.len())].to_owned()));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether `lit` spells the message `text`: the same text (a phrase), a `format!`
/// string of the template (`{...}` where it has `%s`), or a long fixed piece of a
/// template.
fn spells(lit: &str, text: &str) -> bool {
    if !text.contains("%s") {
        // Single words ("limit", "upvalues") are also field names: only phrases count.
        return text.len() >= 8 && text.contains(' ') && lit == text;
    }
    let pieces: Vec<&str> = text.split("%s").collect();
    if pieces.iter().any(|p| p.len() >= 12 && lit == *p) {
        return true;
    }
    let mut rest = lit;
    for (k, piece) in pieces.iter().enumerate() {
        if k > 0 {
            let Some(close) = rest.strip_prefix('{').and_then(|r| r.find('}')) else {
                return false;
            };
            rest = &rest[close + 2..];
        }
        let Some(r) = rest.strip_prefix(piece) else {
            return false;
        };
        rest = r;
    }
    rest.is_empty()
}

/// The message literals of one file outside the table (tests may spell them).
fn message_literals(rel: &str, src: &str, msgs: &[(String, String)]) -> Vec<String> {
    if rel == "errmsg.rs" || rel.ends_with("tests.rs") {
        return Vec::new();
    }
    let code = src.split("#[cfg(test)]\nmod tests {").next().unwrap_or("");
    let mut bad = Vec::new();
    for (line, lit) in literals(code) {
        for (name, text) in msgs {
            if spells(&lit, text) {
                bad.push(format!("{rel}:{line}: \"{lit}\" is errmsg::{name}"));
            }
        }
    }
    bad
}

#[test]
fn messages_are_spelled_only_in_errmsg() {
    let msgs = messages();
    assert!(msgs.len() > 100, "found only {} messages in errmsg.rs", msgs.len());
    let mut bad = Vec::new();
    for (rel, text) in sources(&src_dir()) {
        bad.extend(message_literals(&rel, &text, &msgs));
    }
    assert!(
        bad.is_empty(),
        "message texts outside src/errmsg.rs (docs/errors.md):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_message_checker_sees_copies() {
    let msgs = messages();
    let caught = [
        r#"Err(st.rt_error("table index is nil"))"#,
        r#"let m = format!("attempt to compare two {ta} values");"#,
        r#"st.rt_error_parts(&[b"attempt to compare two ", t, b" values"])"#,
        r#"let m = format!("'{}' expected (to close '{}' at line {})", a, b, c);"#,
        r#"f.write_str("not enough memory")"#,
    ];
    for src in caught {
        assert!(!message_literals("vm/x.rs", src, &msgs).is_empty(), "not caught: {src}");
    }
    let fine = [
        r#"// st.rt_error("table index is nil")"#,
        r#"st.rt_error(crate::errmsg::TABLE_INDEX_NIL)"#,
        "#[cfg(test)]\nmod tests {\n    const M: &str = \"table index is nil\";\n}",
        r#"let c = '"'; let s = "call";"#,
    ];
    for src in fine {
        assert_eq!(message_literals("vm/x.rs", src, &msgs), Vec::<String>::new(), "{src}");
    }
}
