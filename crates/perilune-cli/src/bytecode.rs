//! `-b ...`: LuaJIT's bytecode tool, the listing part of it.
//!
//! The arguments follow LuaJIT's `-b` grammar: option letters may be attached to `-b`
//! (`-bl`) or given separately (`-b -l`) and may be mixed with the file names;
//! `-l` lists, `-s`/`-g` choose stripping, `-n name`, `-t type`, `-a arch`, `-o os`
//! take a value, `-e chunk` makes the chunk string the input (it must come before any
//! file name), `--` ends the options and `-` means standard input or output.
//!
//! With `-l` the input (one file, `-`, or `-e chunk`) is compiled and its listing
//! written to the output (default: standard output) in `luajit -bl`'s format. Saving
//! bytecode (no `-l`) is not supported yet: Perilune has no bytecode file format; it
//! is reported as an error. A malformed `-b` command line prints the tool's usage on
//! stderr and exits 1, as luajit does.

use std::ffi::OsString;
use std::io::Write;

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

/// A parsed `-b` command line.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    list: bool,
    /// Input then output, in order.
    files: Vec<Input>,
}

/// Parse the `-b` arguments (`args[0]` is the `-b...` word itself).
fn parse(args: &[OsString]) -> Option<Request> {
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
                b's' | b'g' => {}
                b'e' | b'n' | b't' | b'a' | b'o' => {
                    // The value is the next word; the letter must end its word.
                    if k + 1 != w.len() || i >= words.len() {
                        return None;
                    }
                    let value = words[i].clone();
                    i += 1;
                    if letter == b'e' {
                        if !req.files.is_empty() {
                            return None;
                        }
                        req.files.push(Input::Chunk(value));
                    }
                }
                _ => return None,
            }
        }
    }
    let count_ok = if req.list {
        (1..=2).contains(&req.files.len())
    } else {
        req.files.len() == 2
    };
    count_ok.then_some(req)
}

/// Run the tool.
pub fn run(session: &Session, args: &[OsString]) -> Outcome {
    let Some(req) = parse(args) else {
        print_usage(session.progname());
        return Err(Reported);
    };
    if !req.list {
        return Err(session.report(b"saving bytecode is not supported yet (-bl lists it)"));
    }
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
    let r = chunk.bytecode_listing();
    let text = session.check(r)?;
    match req.files.get(1) {
        Some(Input::Path(out)) if out != b"-" => match std::fs::write(bytes_to_os(out), text) {
            Ok(()) => Ok(()),
            Err(e) => Err(session.report_io("open", out, &e)),
        },
        _ => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
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
        "List bytecode: {name} -bl[options] input [output]\n\
\x20 -l        Only list bytecode (required: saving bytecode is not supported yet).\n\
\x20 -s        Strip debug info (accepted; listings are unaffected).\n\
\x20 -g        Keep debug info (accepted; listings are unaffected).\n\
\x20 -n name   Set module name (accepted; listings are unaffected).\n\
\x20 -t type   Set output file type (accepted; listings are unaffected).\n\
\x20 -a arch   Override architecture (accepted; listings are unaffected).\n\
\x20 -o os     Override OS (accepted; listings are unaffected).\n\
\x20 -e chunk  Use chunk string as input.\n\
\x20 --        Stop handling options.\n\
\x20 -         Use stdin as input and/or stdout as output.\n"
    );
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(args: &[&str]) -> Option<Request> {
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
            assert_eq!(req(bad), None, "{bad:?}");
        }
    }
}
