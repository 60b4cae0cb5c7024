//! Command-line options, parsed the way the `luajit` command parses them.
//!
//! The grammar (LuaJIT 2.1):
//! - Options come before the script. The first argument that does not start with
//!   `-` is the script; everything after it belongs to the script.
//! - `--` ends the options; the argument after it, if any, is the script, even when
//!   it is `-` (then it names a file called `-`).
//! - A lone `-` runs standard input as the script and ends the options.
//! - `-e chunk`, `-l name` and `-j cmd` take an argument, attached (`-eprint(1)`) or
//!   as the next argument. `-O[opt]` takes only an attached argument. `-i`, `-v` and
//!   `-E` take nothing.
//! - `-b` hands all remaining arguments to the bytecode tool; it must come before any
//!   other option except `-O` (luajit's rule), else it is a usage error.
//! - Anything else is a usage error: the caller prints the usage text and exits 1.
//!
//! Perilune's own options are long ones, which luajit rejects, so no luajit command
//! line changes meaning: `--help`, and `--memory-limit SIZE` (or `--memory-limit=SIZE`)
//! where SIZE is a byte count with an optional `K`, `M` or `G` suffix (powers of 1024).
//!
//! Parsing never runs anything; [`crate::session`] executes the result.

use std::ffi::{OsStr, OsString};

/// An option that is executed in command-line order, before the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `-e chunk`: run a string.
    Exec(OsString),
    /// `-l name`: `require` a library.
    Require(OsString),
    /// `-j cmd`: a JIT control command.
    Jit(OsString),
    /// `-O[opt]`: JIT optimisation flags.
    Optimize(OsString),
}

/// Where the script comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Script {
    /// A file name.
    File(OsString),
    /// Standard input (`-`).
    Stdin,
}

/// The parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-e`, `-l`, `-j`, `-O` in the order given.
    pub actions: Vec<Action>,
    /// `-i`: enter interactive mode after the script.
    pub interactive: bool,
    /// `-v` (also set by `-i`): print version information.
    pub version: bool,
    /// `-E`: ignore environment variables (`LUA_INIT`).
    pub no_env: bool,
    /// `-b ...`: the bytecode tool with all remaining arguments.
    pub bytecode: Option<Vec<OsString>>,
    /// The script and its index in `argv` (arguments after it go to the script).
    pub script: Option<(usize, Script)>,
    /// `--memory-limit SIZE`: the heap limit in bytes.
    pub memory_limit: Option<usize>,
    /// `--help`: print the full help on stdout and exit 0.
    pub help: bool,
}

impl Options {
    /// Index in `argv` that becomes `arg[0]`: the script, or one past the end when
    /// there is none (then every argument gets a negative index, as in luajit).
    pub fn script_index(&self, argc: usize) -> usize {
        self.script.as_ref().map_or(argc, |(i, _)| *i)
    }

    /// Whether any `-e` chunk was given (then stdin is not read by default).
    pub fn has_exec(&self) -> bool {
        self.actions.iter().any(|a| matches!(a, Action::Exec(_)))
    }
}

/// The command line is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError {
    /// Print luajit's usage text and exit 1.
    Usage,
    /// Print `<progname>: <message>` and exit 1 (a bad value for a Perilune option).
    Message(String),
}

/// The bytes of an argument (lossy outside Unix, where arguments need not be bytes).
pub fn os_bytes(s: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::borrow::Cow::Borrowed(s.as_bytes())
    }
    #[cfg(not(unix))]
    {
        match s.to_string_lossy() {
            std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(b.as_bytes()),
            std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o.into_bytes()),
        }
    }
}

/// The part of an option argument after the option letter (`-eCODE` → `CODE`).
fn attached(arg: &OsStr) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(&arg.as_bytes()[2..]).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(arg.to_string_lossy()[2..].to_string())
    }
}

/// Parse `argv` (including the program name at index 0).
pub fn parse(argv: &[OsString]) -> Result<Options, UsageError> {
    let mut opts = Options::default();
    // Whether an option that rules out a later `-b` was seen (all but `-O`).
    let mut flags_seen = false;
    let mut i = 1;
    while i < argv.len() {
        let arg = &argv[i];
        let bytes = os_bytes(arg);
        if bytes.first() != Some(&b'-') {
            opts.script = Some((i, Script::File(arg.clone())));
            break;
        }
        if bytes.len() == 1 {
            opts.script = Some((i, Script::Stdin));
            break;
        }
        let letter = bytes[1];
        let has_rest = bytes.len() > 2;
        match letter {
            b'-' if !has_rest => {
                if let Some(next) = argv.get(i + 1) {
                    opts.script = Some((i + 1, Script::File(next.clone())));
                }
                break;
            }
            b'-' => i = long_option(argv, i, &bytes, &mut opts)?,
            b'e' | b'l' | b'j' => {
                let value = if has_rest {
                    attached(arg)
                } else {
                    i += 1;
                    argv.get(i).cloned().ok_or(UsageError::Usage)?
                };
                opts.actions.push(match letter {
                    b'e' => Action::Exec(value),
                    b'l' => Action::Require(value),
                    _ => Action::Jit(value),
                });
                flags_seen = true;
            }
            b'O' => opts.actions.push(Action::Optimize(attached(arg))),
            b'b' if flags_seen => return Err(UsageError::Usage),
            b'b' => {
                opts.bytecode = Some(argv[i..].to_vec());
                break;
            }
            b'i' | b'v' | b'E' if !has_rest => {
                match letter {
                    b'i' => {
                        opts.interactive = true;
                        opts.version = true;
                    }
                    b'v' => opts.version = true,
                    _ => opts.no_env = true,
                }
                flags_seen = true;
            }
            _ => return Err(UsageError::Usage),
        }
        i += 1;
    }
    Ok(opts)
}

/// A `--name` option at `argv[i]`; returns the index of its last argument.
fn long_option(argv: &[OsString], i: usize, bytes: &[u8], opts: &mut Options) -> Result<usize, UsageError> {
    let (name, inline) = match bytes.iter().position(|&c| c == b'=') {
        Some(eq) => (&bytes[..eq], Some(&bytes[eq + 1..])),
        None => (bytes, None),
    };
    match name {
        b"--help" if inline.is_none() => {
            opts.help = true;
            Ok(i)
        }
        b"--memory-limit" => {
            let (value, last) = match inline {
                Some(v) => (v.to_vec(), i),
                None => match argv.get(i + 1) {
                    Some(v) => (os_bytes(v).into_owned(), i + 1),
                    None => return Err(UsageError::Message("--memory-limit needs a size".into())),
                },
            };
            match parse_size(&value) {
                Some(n) => opts.memory_limit = Some(n),
                None => {
                    return Err(UsageError::Message(format!(
                        "bad memory limit '{}' (expected bytes, or a number with K, M or G)",
                        String::from_utf8_lossy(&value)
                    )))
                }
            }
            Ok(last)
        }
        _ => Err(UsageError::Usage),
    }
}

/// A size: decimal digits with an optional `K`, `M` or `G` suffix (either case; powers
/// of 1024). `None` when malformed or too large.
pub fn parse_size(text: &[u8]) -> Option<usize> {
    let (digits, shift) = match text.last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    n.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("perilune")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn exec(s: &str) -> Action {
        Action::Exec(s.into())
    }

    #[test]
    fn script_and_args() {
        let o = parse(&argv(&["a.lua", "-e", "x"])).unwrap();
        assert_eq!(o.script, Some((1, Script::File("a.lua".into()))));
        assert!(o.actions.is_empty());
        assert_eq!(o.script_index(4), 1);
    }

    #[test]
    fn exec_attached_and_separate() {
        let o = parse(&argv(&["-eprint(1)", "-e", "print(2)"])).unwrap();
        assert_eq!(o.actions, vec![exec("print(1)"), exec("print(2)")]);
        assert_eq!(o.script, None);
        assert_eq!(o.script_index(4), 4);
        assert!(o.has_exec());
    }

    #[test]
    fn missing_argument_is_usage_error() {
        assert_eq!(parse(&argv(&["-e"])), Err(UsageError::Usage));
        assert_eq!(parse(&argv(&["-ex", "-l"])), Err(UsageError::Usage));
    }

    #[test]
    fn unknown_options_are_usage_errors() {
        for bad in ["-x", "--x", "-vx", "-iv", "-Ex"] {
            assert_eq!(parse(&argv(&[bad])), Err(UsageError::Usage), "{bad}");
        }
    }

    #[test]
    fn dash_is_stdin_and_double_dash_ends_options() {
        let o = parse(&argv(&["-", "x"])).unwrap();
        assert_eq!(o.script, Some((1, Script::Stdin)));
        let o = parse(&argv(&["--", "-", "x"])).unwrap();
        assert_eq!(o.script, Some((2, Script::File("-".into()))));
        let o = parse(&argv(&["--"])).unwrap();
        assert_eq!(o.script, None);
        let o = parse(&argv(&["--", "-e"])).unwrap();
        assert_eq!(o.script, Some((2, Script::File("-e".into()))));
    }

    #[test]
    fn flags() {
        let o = parse(&argv(&["-i", "-E", "-O3", "-joff", "s.lua"])).unwrap();
        assert!(o.interactive && o.version && o.no_env);
        assert_eq!(o.actions, vec![Action::Optimize("3".into()), Action::Jit("off".into())]);
        let o = parse(&argv(&["-b", "-l", "x"])).unwrap();
        assert_eq!(o.bytecode, Some(vec!["-b".into(), "-l".into(), "x".into()]));
    }

    #[test]
    fn bytecode_must_come_first() {
        let o = parse(&argv(&["-O3", "-bl", "x"])).unwrap();
        assert!(o.bytecode.is_some());
        for pre in ["-v", "-E", "-i", "-jon", "-eX", "-lX"] {
            assert_eq!(parse(&argv(&[pre, "-bl", "x"])), Err(UsageError::Usage), "{pre}");
        }
        let o = parse(&argv(&["--memory-limit", "1M", "-bl", "x"])).unwrap();
        assert!(o.bytecode.is_some());
    }

    #[test]
    fn long_options() {
        let o = parse(&argv(&["--memory-limit", "10M", "--help", "s.lua"])).unwrap();
        assert_eq!(o.memory_limit, Some(10 << 20));
        assert!(o.help);
        assert_eq!(o.script, Some((4, Script::File("s.lua".into()))));
        let o = parse(&argv(&["--memory-limit=2k"])).unwrap();
        assert_eq!(o.memory_limit, Some(2048));
        assert!(matches!(parse(&argv(&["--memory-limit"])), Err(UsageError::Message(_))));
        assert!(matches!(
            parse(&argv(&["--memory-limit", "x"])),
            Err(UsageError::Message(_))
        ));
        assert_eq!(parse(&argv(&["--help=1"])), Err(UsageError::Usage));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size(b"123"), Some(123));
        assert_eq!(parse_size(b"1K"), Some(1024));
        assert_eq!(parse_size(b"3m"), Some(3 << 20));
        assert_eq!(parse_size(b"1G"), Some(1 << 30));
        for bad in [
            "",
            "K",
            "1.5M",
            "-1",
            "1KB",
            "99999999999999999999",
            "18446744073709551615G",
        ] {
            assert_eq!(parse_size(bad.as_bytes()), None, "{bad}");
        }
    }
}
