//! `-b ...`: LuaJIT's bytecode tool: save or list bytecode.
//!
//! The arguments follow LuaJIT's `-b` grammar: option letters may be attached to `-b`
//! (`-bl`) or given separately (`-b -l`) and may be mixed with the file names;
//! `-l` lists, `-s`/`-g` choose stripping, `-n name`, `-t type`, `-a arch`, `-o os`
//! take a value, `-e chunk` makes the chunk string the input (it must come before any
//! file name), `--` ends the options and `-` means standard input or output.
//!
//! - With `-l` the input (one file, `-`, or `-e chunk`) is compiled and its listing
//!   written to the output (default: standard output) in `luajit -bl`'s format.
//! - Otherwise the input is compiled and saved to the output in Perilune's binary
//!   chunk format (what `string.dump` writes: docs/bytecode-dump.md), which
//!   `perilune out.bc`, `loadfile` and `require` run. The output type is `-t type` or
//!   comes from the output name's extension, as in LuaJIT: `raw` (the default), `c`
//!   or `h` (a C array `luaJIT_BC_<name>` holding the chunk, with the module name
//!   from `-n name` or the input file's name); object files (`o`, `obj`) are refused.
//!   Debug info is stripped unless `-g` is given, as in LuaJIT.
//!
//! A malformed `-b` command line prints the tool's usage on stderr and exits 1, as
//! luajit does; other failures are reported with luajit's messages.

use std::ffi::OsString;
use std::io::Write;

use perilune::Value;

use crate::options::os_bytes;
use crate::session::{bytes_to_os, strerror, Outcome, Reported, Session};

/// Where the tool reads from.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    /// A file name, or `-` for standard input.
    Path(Vec<u8>),
    /// `-e chunk`.
    Chunk(Vec<u8>),
}

/// What the saved chunk is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileType {
    Raw,
    C,
    H,
    Object,
}

impl FileType {
    /// LuaJIT's names (`-t`, and the output file's extension).
    fn from_name(name: &[u8]) -> Option<FileType> {
        match name.to_ascii_lowercase().as_slice() {
            b"raw" => Some(FileType::Raw),
            b"c" => Some(FileType::C),
            b"h" => Some(FileType::H),
            b"o" | b"obj" => Some(FileType::Object),
            _ => None,
        }
    }
}

/// A parsed `-b` command line.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    list: bool,
    /// Input then output, in order.
    files: Vec<Input>,
    /// `-t type`.
    file_type: Option<FileType>,
    /// `-n name`, as given.
    module_name: Option<Vec<u8>>,
    /// `-g`: keep debug information (the default, as in LuaJIT, is `-s`: strip it).
    keep_debug: bool,
}

/// A `-b` command line that is not a usage error may still be refused.
#[derive(Debug, PartialEq, Eq)]
enum ParseError {
    /// Print the tool's usage.
    Usage,
    /// Report this message.
    Message(&'static str),
}

/// LuaJIT's architectures for object files (`-a`).
const ARCHS: &[&[u8]] = &[
    b"x86",
    b"x64",
    b"arm",
    b"arm64",
    b"arm64be",
    b"ppc",
    b"mips",
    b"mipsel",
    b"mips64",
    b"mips64el",
    b"mips64r6",
    b"mips64r6el",
];

/// LuaJIT's operating systems for object files (`-o`).
const OSES: &[&[u8]] = &[
    b"linux",
    b"windows",
    b"osx",
    b"freebsd",
    b"netbsd",
    b"openbsd",
    b"dragonfly",
    b"solaris",
];

/// Parse the `-b` arguments (`args[0]` is the `-b...` word itself).
fn parse(args: &[OsString]) -> Result<Request, ParseError> {
    let mut words: Vec<Vec<u8>> = Vec::with_capacity(args.len());
    if let Some(first) = args.first() {
        let first = os_bytes(first);
        if first.len() > 2 {
            let mut w = b"-".to_vec();
            w.extend_from_slice(&first[2..]);
            words.push(w);
        }
    }
    words.extend(args.iter().skip(1).map(|a| os_bytes(a).into_owned()));
    let mut req = Request {
        list: false,
        files: Vec::new(),
        file_type: None,
        module_name: None,
        keep_debug: false,
    };
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w.first() != Some(&b'-') || w.len() == 1 {
            req.files.push(Input::Path(w.clone()));
            continue;
        }
        if w == b"--" {
            req.files.extend(words[i..].iter().cloned().map(Input::Path));
            break;
        }
        for (k, &letter) in w.iter().enumerate().skip(1) {
            match letter {
                b'l' => req.list = true,
                b's' => req.keep_debug = false,
                b'g' => req.keep_debug = true,
                b'e' | b'n' | b't' | b'a' | b'o' => {
                    // The value is the next word; the letter must end its word.
                    if k + 1 != w.len() || i >= words.len() {
                        return Err(ParseError::Usage);
                    }
                    let value = words[i].clone();
                    i += 1;
                    match letter {
                        b'e' => {
                            if !req.files.is_empty() {
                                return Err(ParseError::Usage);
                            }
                            req.files.push(Input::Chunk(value));
                        }
                        b'n' => {
                            if value.is_empty() || !value.iter().all(|&c| is_name_byte(c)) {
                                return Err(ParseError::Message("bad module name"));
                            }
                            req.module_name = Some(value);
                        }
                        b't' => {
                            req.file_type =
                                Some(FileType::from_name(&value).ok_or(ParseError::Message("unknown file type"))?);
                        }
                        b'a' => {
                            if !ARCHS.contains(&value.to_ascii_lowercase().as_slice()) {
                                return Err(ParseError::Message("unknown architecture"));
                            }
                        }
                        _ => {
                            if !OSES.contains(&value.to_ascii_lowercase().as_slice()) {
                                return Err(ParseError::Message("unknown OS name"));
                            }
                        }
                    }
                }
                _ => return Err(ParseError::Usage),
            }
        }
    }
    let count_ok = if req.list {
        (1..=2).contains(&req.files.len())
    } else {
        req.files.len() == 2
    };
    if count_ok {
        Ok(req)
    } else {
        Err(ParseError::Usage)
    }
}

/// A byte of a module name (`[%w_.%-]`).
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// A module name as a C identifier: dots and dashes become underscores.
fn c_name(name: &[u8]) -> Vec<u8> {
    name.iter()
        .map(|&c| if c == b'.' || c == b'-' { b'_' } else { c })
        .collect()
}

/// The module name of an input file (its name without directory and extension, up
/// to the first byte that cannot be in a name), as LuaJIT derives it.
fn module_name_of(input: &Input) -> Option<Vec<u8>> {
    let Input::Path(path) = input else {
        return None;
    };
    let base = path
        .iter()
        .rposition(|&c| c == b'/' || c == b'\\')
        .map_or(&path[..], |i| &path[i + 1..]);
    let stem = base.iter().rposition(|&c| c == b'.').map_or(base, |i| &base[..i]);
    let len = stem.iter().take_while(|&&c| is_name_byte(c)).count();
    (len > 0).then(|| c_name(&stem[..len]))
}

/// The type an output file name asks for: its extension's, else raw.
fn type_of_output(name: &[u8]) -> FileType {
    let ext = name.iter().rposition(|&c| c == b'.').map(|i| &name[i + 1..]);
    match ext {
        Some(e) if !e.is_empty() && e.iter().all(u8::is_ascii_alphabetic) => {
            FileType::from_name(e).unwrap_or(FileType::Raw)
        }
        _ => FileType::Raw,
    }
}

/// The chunk as a C array named `luaJIT_BC_<name>`: `c` for a source file that
/// exports it, `h` for a header that defines it with its size (LuaJIT's layout:
/// decimal bytes, lines of at most 78 characters).
fn c_array(kind: FileType, name: &[u8], chunk: &[u8]) -> Vec<u8> {
    let name = String::from_utf8_lossy(name);
    let mut out = if kind == FileType::C {
        format!(
            "#ifdef __cplusplus\nextern \"C\"\n#endif\n#ifdef _WIN32\n__declspec(dllexport)\n#endif\n\
const unsigned char luaJIT_BC_{name}[] = {{\n"
        )
    } else {
        format!(
            "#define luaJIT_BC_{name}_SIZE {}\nstatic const unsigned char luaJIT_BC_{name}[] = {{\n",
            chunk.len()
        )
    }
    .into_bytes();
    let mut width = 0;
    for (i, b) in chunk.iter().enumerate() {
        let text = b.to_string();
        width += text.len() + 1;
        if width > 78 {
            out.extend_from_slice(b",\n");
            width = text.len() + 1;
        } else if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(b"\n};\n");
    out
}

/// Run the tool.
pub fn run(session: &Session, args: &[OsString]) -> Outcome {
    let req = match parse(args) {
        Ok(r) => r,
        Err(ParseError::Usage) => {
            print_usage(session.progname());
            return Err(Reported);
        }
        Err(ParseError::Message(m)) => return Err(session.report(m.as_bytes())),
    };
    // `-e chunk` is named by its text (no chunk name), as luajit does.
    let (source, chunkname) = match &req.files[0] {
        Input::Chunk(c) => (c.clone(), None),
        Input::Path(p) if p == b"-" => {
            let mut source = Vec::new();
            if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut source) {
                return Err(session.report(format!("cannot read stdin: {}", strerror(&e)).as_bytes()));
            }
            (source, Some(b"=stdin".to_vec()))
        }
        Input::Path(p) => {
            let source = session.read_file(&bytes_to_os(p))?;
            let mut name = b"@".to_vec();
            name.extend_from_slice(p);
            (source, Some(name))
        }
    };
    let chunk = session.lua.load(source);
    let chunk = match chunkname {
        Some(name) => chunk.set_name(name),
        None => chunk,
    };
    let output = match req.files.get(1) {
        Some(Input::Path(out)) => out.clone(),
        _ => b"-".to_vec(),
    };
    if req.list {
        let r = chunk.bytecode_listing();
        let text = session.check(r)?;
        return write_output(session, &output, text.as_bytes());
    }
    let r = chunk.into_function();
    let f = session.check(r)?;
    let r = dump(&session.lua, f, !req.keep_debug);
    let bytes = session.check(r)?;
    let kind = req.file_type.unwrap_or_else(|| type_of_output(&output));
    let data = match kind {
        FileType::Raw => bytes,
        FileType::Object => {
            return Err(session.report(b"object files are not supported: write C source with -t c or -t h"))
        }
        FileType::C | FileType::H => {
            let name = match &req.module_name {
                Some(n) => c_name(n),
                None => match module_name_of(&req.files[0]) {
                    Some(n) => n,
                    None => return Err(session.report(b"cannot derive module name, use -n name")),
                },
            };
            c_array(kind, &name, &bytes)
        }
    };
    write_output(session, &output, &data)
}

/// `string.dump(f, strip)` through the state's string library.
fn dump(lua: &perilune::Lua, f: perilune::Function, strip: bool) -> perilune::Result<Vec<u8>> {
    let string: perilune::Table = lua.globals().raw_get("string")?;
    let dump: perilune::Function = string.raw_get("dump")?;
    match dump.call::<Value>((f, strip))? {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        _ => Err(perilune::Error::runtime("string.dump returned no string")),
    }
}

/// Write `data` to the file `name`, or to standard output for `-`; a file that
/// cannot be written is reported as luajit reports it (`name: reason`).
fn write_output(session: &Session, name: &[u8], data: &[u8]) -> Outcome {
    if name == b"-" {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(data);
        let _ = stdout.flush();
        return Ok(());
    }
    match std::fs::write(bytes_to_os(name), data) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut msg = name.to_vec();
            msg.extend_from_slice(b": ");
            msg.extend_from_slice(strerror(&e).as_bytes());
            Err(session.report(&msg))
        }
    }
}

/// The tool's usage text, on stderr.
fn print_usage(progname: &[u8]) {
    let _ = std::io::stdout().flush();
    let name = String::from_utf8_lossy(progname);
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "Save Perilune bytecode: {name} -b[options] input output\n\
\x20 -l        Only list bytecode.\n\
\x20 -s        Strip debug info (default).\n\
\x20 -g        Keep debug info.\n\
\x20 -n name   Set module name (default: auto-detect from input name).\n\
\x20 -t type   Set output file type (default: auto-detect from output name).\n\
\x20 -a arch   Override architecture for object files (default: native).\n\
\x20 -o os     Override OS for object files (default: native).\n\
\x20 -e chunk  Use chunk string as input.\n\
\x20 --        Stop handling options.\n\
\x20 -         Use stdin as input and/or stdout as output.\n\
\n\
File types: c h raw (default)\n"
    );
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(args: &[&str]) -> Result<Request, ParseError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args)
    }

    fn path(p: &str) -> Input {
        Input::Path(p.as_bytes().to_vec())
    }

    #[test]
    fn forms() {
        let r = req(&["-bl", "a.lua"]).unwrap();
        assert!(r.list);
        assert_eq!(r.files, vec![path("a.lua")]);
        let r = req(&["-b", "-l", "a.lua", "out"]).unwrap();
        assert_eq!(r.files, vec![path("a.lua"), path("out")]);
        let r = req(&["-b", "a.lua", "-l"]).unwrap();
        assert!(r.list);
        let r = req(&["-bl", "-e", "x=1"]).unwrap();
        assert_eq!(r.files, vec![Input::Chunk(b"x=1".to_vec())]);
        let r = req(&["-bls", "--", "-e"]).unwrap();
        assert_eq!(r.files, vec![path("-e")]);
        let r = req(&["-ble", "x"]).unwrap();
        assert_eq!(r.files, vec![Input::Chunk(b"x".to_vec())]);
        let r = req(&["-bl", "-"]).unwrap();
        assert_eq!(r.files, vec![path("-")]);
        let r = req(&["-b", "a.lua", "a.out"]).unwrap();
        assert!(!r.list);
        let r = req(&[
            "-bg", "-t", "H", "-n", "my.mod-x", "-a", "X64", "-o", "linux", "a.lua", "-",
        ])
        .unwrap();
        assert_eq!(r.file_type, Some(FileType::H));
        assert_eq!(r.module_name, Some(b"my.mod-x".to_vec()));
    }

    #[test]
    fn malformed() {
        for bad in [
            &["-b"][..],
            &["-bl"],
            &["-bx", "a"],
            &["-bl", "a", "b", "c"],
            &["-b", "a"],
            &["-bl", "a", "-e", "x"],
            &["-bel", "x"],
            &["-bl", "-n"],
        ] {
            assert_eq!(req(bad), Err(ParseError::Usage), "{bad:?}");
        }
        assert_eq!(
            req(&["-b", "-t", "zz", "a", "b"]),
            Err(ParseError::Message("unknown file type"))
        );
        assert_eq!(
            req(&["-b", "-n", "a b", "a", "b"]),
            Err(ParseError::Message("bad module name"))
        );
        assert_eq!(
            req(&["-b", "-a", "vax", "a", "b"]),
            Err(ParseError::Message("unknown architecture"))
        );
        assert_eq!(
            req(&["-b", "-o", "beos", "a", "b"]),
            Err(ParseError::Message("unknown OS name"))
        );
    }

    #[test]
    fn names_and_types() {
        assert_eq!(module_name_of(&path("dir/my.mod.lua")), Some(b"my_mod".to_vec()));
        assert_eq!(module_name_of(&path("C:\\x\\a-b.lua")), Some(b"a_b".to_vec()));
        assert_eq!(module_name_of(&path("noext")), Some(b"noext".to_vec()));
        assert_eq!(module_name_of(&path("dir/ x.lua")), None);
        assert_eq!(module_name_of(&Input::Chunk(b"x=1".to_vec())), None);
        assert_eq!(type_of_output(b"out.C"), FileType::C);
        assert_eq!(type_of_output(b"out.h"), FileType::H);
        assert_eq!(type_of_output(b"out.o"), FileType::Object);
        assert_eq!(type_of_output(b"out.bc"), FileType::Raw);
        assert_eq!(type_of_output(b"-"), FileType::Raw);
    }

    #[test]
    fn c_arrays_as_luajit_writes_them() {
        let chunk: Vec<u8> = (0..=255u8).cycle().take(60).collect();
        let h = String::from_utf8(c_array(FileType::H, b"m", &chunk)).unwrap();
        assert!(h.starts_with("#define luaJIT_BC_m_SIZE 60\nstatic const unsigned char luaJIT_BC_m[] = {\n0,1,2,"));
        assert!(h.ends_with(",59\n};\n"));
        assert!(h.lines().all(|l| l.len() <= 78), "{h}");
        let c = String::from_utf8(c_array(FileType::C, b"m", &[27, 1])).unwrap();
        assert!(c.ends_with("const unsigned char luaJIT_BC_m[] = {\n27,1\n};\n"), "{c}");
    }
}
