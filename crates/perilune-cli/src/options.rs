//! Command-line options, parsed the way the `luajit` command parses them.
//!
//! The grammar (LuaJIT 2.1):
//! - Options come before the script. The first argument that does not start with
//!   `-` is the script; everything after it belongs to the script.
//! - `--` ends the options; the argument after it, if any, is the script, even when
//!   it is `-` (then it names a file called `-`).
//! - A lone `-` runs standard input as the script and ends the options.
//! - `-e chunk`, `-l name` and `-j cmd` take an argument, attached (`-eprint(1)`) or
//!   as the next argument. `-O[opt]` takes only an attached argument. `-b` hands all
//!   remaining arguments to the bytecode tool. `-i`, `-v` and `-E` take nothing.
//! - Anything else is a usage error: the caller prints the usage text and exits 1.
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

/// The command line is malformed: print the usage text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageError;

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
            b'-' => {
                if has_rest {
                    return Err(UsageError);
                }
                if let Some(next) = argv.get(i + 1) {
                    opts.script = Some((i + 1, Script::File(next.clone())));
                }
                break;
            }
            b'e' | b'l' | b'j' => {
                let value = if has_rest {
                    attached(arg)
                } else {
                    i += 1;
                    argv.get(i).cloned().ok_or(UsageError)?
                };
                opts.actions.push(match letter {
                    b'e' => Action::Exec(value),
                    b'l' => Action::Require(value),
                    _ => Action::Jit(value),
                });
            }
            b'O' => opts.actions.push(Action::Optimize(attached(arg))),
            b'b' => {
                opts.bytecode = Some(argv[i..].to_vec());
                break;
            }
            b'i' | b'v' | b'E' if !has_rest => match letter {
                b'i' => {
                    opts.interactive = true;
                    opts.version = true;
                }
                b'v' => opts.version = true,
                _ => opts.no_env = true,
            },
            _ => return Err(UsageError),
        }
        i += 1;
    }
    Ok(opts)
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
        assert_eq!(parse(&argv(&["-e"])), Err(UsageError));
        assert_eq!(parse(&argv(&["-ex", "-l"])), Err(UsageError));
    }

    #[test]
    fn unknown_options_are_usage_errors() {
        for bad in ["-x", "--x", "-vx", "-iv", "-Ex"] {
            assert_eq!(parse(&argv(&[bad])), Err(UsageError), "{bad}");
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
}
