//! Errors of the embedding API.

use std::fmt;
use std::sync::Arc;

/// The result type of the embedding API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when using Lua from Rust.
///
/// Errors raised by Lua code become [`Error::RuntimeError`] (message followed by a
/// stack traceback), errors returned by Rust callbacks reach the host wrapped in
/// [`Error::CallbackError`], and a script stopped by the host is
/// [`Error::BudgetExhausted`] or [`Error::Interrupted`], which no `pcall` inside the
/// script can catch.
///
/// ```
/// use perilune::{Error, Lua};
/// let lua = Lua::new();
/// match lua.load("error('boom')").exec() {
///     Err(Error::RuntimeError(msg)) => assert!(msg.contains("boom")),
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// A chunk did not compile. `incomplete_input` is true when more input could
    /// complete it (the message ends at `<eof>`), as an interactive prompt needs.
    SyntaxError { message: String, incomplete_input: bool },
    /// Lua code raised an error. The message is followed by a stack traceback.
    RuntimeError(String),
    /// An allocation failed: the memory limit was reached, or the allocator refused.
    MemoryError(String),
    /// The instruction budget set with [`Lua::set_instruction_budget`] ran out.
    ///
    /// [`Lua::set_instruction_budget`]: crate::Lua::set_instruction_budget
    BudgetExhausted,
    /// The interrupt callback set with [`Lua::set_interrupt`] stopped the script; the
    /// reason it gave.
    ///
    /// [`Lua::set_interrupt`]: crate::Lua::set_interrupt
    Interrupted(String),
    /// The Lua state is in use by the code that is running now and cannot be used
    /// from here (for example from the `Drop` of a value stored in a userdata, which
    /// runs inside the collector).
    StateBusy,
    /// The state was closed (its last [`Lua`] was dropped) and a handle of it was
    /// used: `Lua instance is destroyed`, mlua's words.
    ///
    /// [`Lua`]: crate::Lua
    StateDestroyed,
    /// A value of one state was given to another (or to a [`Lua`] that is not its
    /// own).
    ///
    /// [`Lua`]: crate::Lua
    MismatchedState,
    /// A Rust callback (a function made by `create_function_mut`) was called again
    /// while it was already running.
    RecursiveMutCallback,
    /// A function made by a [`Scope`](crate::Scope) was called after its scope ended
    /// (or a method of a userdata the scope lent): mlua's `CallbackDestructed`.
    CallbackDestructed,
    /// A Rust value could not be converted to a Lua value.
    ToLuaConversionError {
        from: &'static str,
        to: &'static str,
        message: Option<String>,
    },
    /// A Lua value could not be converted to the Rust type asked for.
    FromLuaConversionError {
        from: &'static str,
        to: &'static str,
        message: Option<String>,
    },
    /// A resumed coroutine is dead or running.
    CoroutineUnresumable,
    /// A userdata is not of the Rust type asked for.
    UserDataTypeMismatch,
    /// The Rust value in a userdata was taken out with `AnyUserData::take`.
    UserDataDestructed,
    /// A userdata could not be borrowed because it is mutably borrowed.
    UserDataBorrowError,
    /// A userdata could not be borrowed mutably because it is borrowed.
    UserDataBorrowMutError,
    /// A metamethod that the API manages itself (`__gc`, `__metatable`, `__mode`)
    /// was registered.
    MetaMethodRestricted(String),
    /// A registry key was used with a `Lua` it does not belong to.
    MismatchedRegistryKey,
    /// An argument of a Rust function had the wrong type. Displayed as Lua words a
    /// built-in function's: `bad argument #2 to 'add' (number expected, got
    /// string)`; Lua code that catches it sees that text (through `tostring`).
    BadArgument {
        /// The function: what the calling Lua code called it (`add` for `add(...)`,
        /// `m.add(...)` or `obj:add(...)`), `None` when no Lua code called it
        /// (`pcall(add, ...)`, a call from Rust), shown as `?`.
        to: Option<String>,
        /// 1-based position, counted as the caller counts it: after the receiver in
        /// a method call (`obj:m(x)`: `x` is #1).
        pos: usize,
        /// The argument's name, if known.
        name: Option<String>,
        cause: Arc<Error>,
    },
    /// An error raised by a Rust callback, as seen from outside the Lua code that
    /// called it.
    CallbackError { traceback: String, cause: Arc<Error> },
    /// A Rust callback panicked; the panic was stopped at the Lua boundary.
    CallbackPanic(String),
    /// Any other error a Rust callback wants to raise.
    ExternalError(Arc<dyn std::error::Error + Send + Sync>),
    /// An error with some context added (see [`ErrorContext`]).
    WithContext { context: String, cause: Arc<Error> },
    /// An error of [`Function::call_reported`]: `report` is the text the standalone
    /// `lua`/`luajit` command prints for it, in the [`ReportStyle`] asked for (the
    /// exact bytes of the Lua message), or `None` when the error object is `nil`
    /// (the command prints nothing); `cause` is the error [`Function::call`] would
    /// have returned.
    ///
    /// [`Function::call_reported`]: crate::Function::call_reported
    /// [`Function::call`]: crate::Function::call
    /// [`ReportStyle`]: crate::ReportStyle
    Reported { report: Option<Vec<u8>>, cause: Arc<Error> },
    /// An error a Rust callback raises the way Lua's own functions raise theirs
    /// (`luaL_error`, `luaL_argerror`): Lua code receives a plain string, not a
    /// wrapped Rust error, made of the position of the calling Lua code and the
    /// message — or, with `argument: Some(n)`, `bad argument #n to 'name' (message)`
    /// with the name the caller used for the function. Make it with
    /// [`Error::plain`] or [`Error::plain_argument`].
    PlainError { message: String, argument: Option<usize> },
    /// A Rust value could not be converted to a Lua value by
    /// [`LuaSerdeExt::to_value`](crate::LuaSerdeExt::to_value) (feature `serde`).
    #[cfg(feature = "serde")]
    SerializeError(String),
    /// A Lua value could not be converted to a Rust value by
    /// [`LuaSerdeExt::from_value`](crate::LuaSerdeExt::from_value) (feature `serde`).
    #[cfg(feature = "serde")]
    DeserializeError(String),
}

impl Error {
    /// A runtime error with this message.
    pub fn runtime<S: fmt::Display>(message: S) -> Self {
        Error::RuntimeError(message.to_string())
    }
    /// Wrap any error.
    pub fn external<E: Into<Box<dyn std::error::Error + Send + Sync>>>(err: E) -> Self {
        Error::ExternalError(Arc::from(err.into()))
    }
    /// An error a Rust callback raises as a plain Lua string with the caller's
    /// position, as `error(message)` would from Lua code ([`Error::PlainError`]).
    ///
    /// ```
    /// use perilune::{Error, Lua};
    /// let lua = Lua::new();
    /// let f = lua.create_function(|_, ()| Err::<(), _>(Error::plain("out of cheese")))?;
    /// lua.globals().set("f", f)?;
    /// let (ok, msg): (bool, String) = lua.load("return pcall(function() f() end)").set_name("=script").eval()?;
    /// assert!(!ok);
    /// assert_eq!(msg, "script:1: out of cheese");
    /// // Called by a Rust function (here `pcall`), there is no Lua position to give.
    /// let (_, msg): (bool, String) = lua.load("return pcall(f)").eval()?;
    /// assert_eq!(msg, "out of cheese");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn plain<S: fmt::Display>(message: S) -> Self {
        Error::PlainError {
            message: message.to_string(),
            argument: None,
        }
    }

    /// A bad-argument error a Rust callback raises the way the built-in functions do:
    /// Lua code receives the plain string `<position> bad argument #pos to 'name'
    /// (message)`, where `name` is what the caller called the function
    /// ([`Error::PlainError`]).
    ///
    /// ```
    /// use perilune::{Error, Lua, Value};
    /// let lua = Lua::new();
    /// let f = lua.create_function(|_, v: Value| match v {
    ///     Value::Integer(n) => Ok(n),
    ///     other => Err(Error::plain_argument(1, format!("number expected, got {}", other.type_name()))),
    /// })?;
    /// lua.globals().set("count", f)?;
    /// let (_, msg): (bool, String) = lua.load("return pcall(count, 'x')").set_name("=script").eval()?;
    /// assert_eq!(msg, "bad argument #1 to '?' (number expected, got string)");
    /// let (_, msg): (bool, String) = lua.load("local ok, e = pcall(function() count('x') end) return ok, e")
    ///     .set_name("=script")
    ///     .eval()?;
    /// assert_eq!(msg, "script:1: bad argument #1 to 'count' (number expected, got string)");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn plain_argument<S: fmt::Display>(pos: usize, message: S) -> Self {
        Error::PlainError {
            message: message.to_string(),
            argument: Some(pos),
        }
    }

    /// The text the standalone command prints for an [`Error::Reported`] (`None`
    /// for a `nil` error object); for any other error, its `Display` text.
    pub fn report(&self) -> Option<Vec<u8>> {
        match self {
            Error::Reported { report, .. } => report.clone(),
            Error::SyntaxError { message, .. } => Some(message.clone().into_bytes()),
            Error::MemoryError(m) => Some(m.clone().into_bytes()),
            e => Some(e.to_string().into_bytes()),
        }
    }

    pub(crate) fn from_conv(from: &'static str, to: &'static str, message: Option<String>) -> Self {
        Error::FromLuaConversionError { from, to, message }
    }
    /// The innermost cause: follows `CallbackError`, `BadArgument` and `WithContext`.
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::CallbackError { cause, .. }
            | Error::BadArgument { cause, .. }
            | Error::WithContext { cause, .. }
            | Error::Reported { cause, .. } => cause.root_cause(),
            e => e,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SyntaxError { message, .. } => write!(f, "syntax error: {message}"),
            Error::RuntimeError(m) => write!(f, "runtime error: {m}"),
            Error::MemoryError(m) => write!(f, "memory error: {m}"),
            Error::BudgetExhausted => f.write_str(crate::errmsg::BUDGET_EXHAUSTED),
            Error::Interrupted(m) => write!(f, "interrupted: {m}"),
            Error::StateBusy => f.write_str("the Lua state is busy and cannot be used here"),
            Error::StateDestroyed => f.write_str("Lua instance is destroyed"),
            Error::MismatchedState => f.write_str("value belongs to a different Lua state"),
            Error::RecursiveMutCallback => f.write_str("mutable callback called recursively"),
            Error::CallbackDestructed => f.write_str(crate::errmsg::CALLBACK_DESTRUCTED),
            Error::ToLuaConversionError { from, to, message } => {
                write!(f, "error converting {from} to Lua {to}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::FromLuaConversionError { from, to, message } => {
                write!(f, "error converting Lua {from} to {to}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::CoroutineUnresumable => f.write_str("cannot resume a dead or running coroutine"),
            Error::UserDataTypeMismatch => f.write_str("userdata is not expected type"),
            Error::UserDataDestructed => f.write_str("userdata has been destructed"),
            Error::UserDataBorrowError => f.write_str("error borrowing userdata"),
            Error::UserDataBorrowMutError => f.write_str("error mutably borrowing userdata"),
            Error::MetaMethodRestricted(m) => write!(f, "metamethod {m} is restricted"),
            Error::MismatchedRegistryKey => f.write_str("registry key used with a different Lua"),
            Error::BadArgument { to, pos, name, cause } => {
                write!(f, "bad argument #{pos}")?;
                if let Some(n) = name {
                    write!(f, " '{n}'")?;
                }
                write!(f, " to '{}' (", to.as_deref().unwrap_or("?"))?;
                write_argument_reason(f, cause)?;
                f.write_str(")")
            }
            Error::CallbackError { traceback, cause } => write!(f, "callback error: {cause}\n{traceback}"),
            Error::CallbackPanic(m) => write!(f, "Rust callback panicked: {m}"),
            Error::ExternalError(e) => write!(f, "{e}"),
            Error::WithContext { context, cause } => write!(f, "{context}\n{cause}"),
            Error::Reported { report, .. } => match report {
                Some(r) => f.write_str(&String::from_utf8_lossy(r)),
                None => f.write_str("nil"),
            },
            Error::PlainError { message, argument } => match argument {
                Some(n) => write!(f, "bad argument #{n} ({message})"),
                None => f.write_str(message),
            },
            #[cfg(feature = "serde")]
            Error::SerializeError(m) => write!(f, "serialize error: {m}"),
            #[cfg(feature = "serde")]
            Error::DeserializeError(m) => write!(f, "deserialize error: {m}"),
        }
    }
}

/// The Lua type a conversion to the Rust type named `rust` (as conv.rs names it)
/// expects.
fn expected_lua_type(rust: &str) -> &str {
    match rust {
        "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64" | "usize" | "f32" | "f64" => "number",
        "String" | "&str" | "BString" | "string" => "string",
        "Vec" | "HashMap" | "BTreeMap" | "table" => "table",
        "LightUserData" => "userdata",
        other => other,
    }
}

/// Why an argument did not convert, in the words of Lua's argument checks: `number
/// expected, got string`, `number has no integer representation` (Lua 5.3's).
fn write_argument_reason(f: &mut fmt::Formatter<'_>, cause: &Error) -> fmt::Result {
    match cause {
        Error::FromLuaConversionError { from, to, message } => {
            let expected = expected_lua_type(to);
            match message.as_deref() {
                None | Some("expected table") => {
                    f.write_str(&crate::errmsg::format(crate::errmsg::TYPE_EXPECTED, &[&expected, from]))
                }
                Some("out of range") => write!(f, "number out of range for {to}"),
                Some(m) if expected == "string" => write!(f, "string is not valid UTF-8: {m}"),
                Some(m) => f.write_str(m),
            }
        }
        e => write!(f, "{e}"),
    }
}

impl Error {
    /// Complete a [`Error::BadArgument`] raised by the running Rust callback, the way
    /// `luaL_argerror` words its message: the function's name as the calling Lua
    /// code called it, the position counted after the receiver of a method call,
    /// and `no value` for an argument that was not passed. Other errors are
    /// returned as they are.
    pub(crate) fn complete_bad_argument(self, st: &crate::vm::state::State) -> Error {
        let Error::BadArgument { to, pos, name, cause } = self else {
            return self;
        };
        let idx = st.cur.frame_index(0).unwrap_or(0);
        let (kind, called) = match st.function_name_kind(idx) {
            Some((kind, n)) => (kind, Some(String::from_utf8_lossy(n.as_bytes()).into_owned())),
            None => ("", None),
        };
        let cause = match cause.as_ref() {
            Error::FromLuaConversionError {
                from: "nil",
                to: rust,
                message: None,
            } if pos > st.arg_count() => Arc::new(Error::FromLuaConversionError {
                from: crate::errmsg::NO_VALUE,
                to: rust,
                message: None,
            }),
            _ => cause,
        };
        Error::BadArgument {
            to: to.or(called),
            pos: if kind == "method" && pos > 1 { pos - 1 } else { pos },
            name,
            cause,
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::CallbackError { cause, .. }
            | Error::BadArgument { cause, .. }
            | Error::WithContext { cause, .. }
            | Error::Reported { cause, .. } => Some(cause.as_ref()),
            Error::ExternalError(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// Turn any error into an [`Error`] (like mlua's `ExternalError`).
pub trait ExternalError {
    fn into_lua_err(self) -> Error;
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> ExternalError for E {
    fn into_lua_err(self) -> Error {
        Error::external(self)
    }
}

/// Turn the error of any `Result` into an [`Error`] (mlua's `ExternalResult`).
///
/// ```
/// use perilune::{ExternalResult, Lua};
/// let lua = Lua::new();
/// let parse = lua.create_function(|_, s: String| s.parse::<i64>().into_lua_err())?;
/// assert_eq!(parse.call::<i64>("42")?, 42);
/// assert!(parse.call::<i64>("x").is_err());
/// # Ok::<(), perilune::Error>(())
/// ```
pub trait ExternalResult<T> {
    fn into_lua_err(self) -> Result<T>;
}

impl<T, E: ExternalError> ExternalResult<T> for std::result::Result<T, E> {
    fn into_lua_err(self) -> Result<T> {
        self.map_err(ExternalError::into_lua_err)
    }
}

/// Add context to errors of a `Result`.
pub trait ErrorContext: Sized {
    /// Wrap the error with a message.
    fn context<C: fmt::Display>(self, context: C) -> Self;
}

impl<T> ErrorContext for Result<T> {
    fn context<C: fmt::Display>(self, context: C) -> Self {
        self.map_err(|e| Error::WithContext {
            context: context.to_string(),
            cause: Arc::new(e),
        })
    }
}
