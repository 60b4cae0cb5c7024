//! The runtime's error messages, each spelled once (LuaJIT keeps its own in
//! `lj_errmsg.h`; this is Perilune's table, docs/errors.md).
//!
//! Every message the VM, the compiler, the libraries and the embedding API raise is
//! a constant here; raise sites name the constant, never a literal. A message with
//! parameters is a template whose `%s` marks each argument: [`Parts`] splices the
//! arguments in without copying or allocating (the state joins the parts on its
//! accounted heap); [`format`] builds a `String` for the sites that formatted one
//! before (syntax errors, the embedding API's errors).
//!
//! Invariants: the texts are byte-for-byte LuaJIT's (the Lua corpus compares them);
//! no two entries share a text (a unit test); no message literal reappears outside
//! this file (`tests/architecture.rs`). This is a core module: it imports nothing
//! from the crate. `NOMEM` is interned once when the state is made, so raising it
//! never allocates.

/// Defines each message as a `&str` constant and lists them all in [`ALL`].
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        $($(#[$doc])* pub const $name: &str = $text;)*
        /// Every message, by name, in the order of this file (for the tests).
        #[cfg(test)]
        pub const ALL: &[(&str, &str)] = &[$((stringify!($name), $text),)*];
    };
}

messages! {
    // --- Memory, stacks, limits -------------------------------------------------------
    /// Preallocated in the state: raising it never allocates.
    NOMEM = "not enough memory",
    STACK_OVERFLOW = "stack overflow",
    C_STACK_OVERFLOW = "C stack overflow",
    ERROR_IN_ERROR = "error in error handling",
    STRING_LENGTH_OVERFLOW = "string length overflow",
    STRING_SLICE_TOO_LONG = "string slice too long",
    TABLE_OVERFLOW = "table overflow",
    INTERRUPTED = "interrupted!",

    // --- Operations on values ---------------------------------------------------------
    TABLE_INDEX_NIL = "table index is nil",
    TABLE_INDEX_NAN = "table index is NaN",
    NEXT_KEY = "invalid key to 'next'",
    LOOP_GETTABLE = "loop in gettable",
    LOOP_SETTABLE = "loop in settable",
    /// Operation, type name.
    OP_ON_VALUE = "attempt to %s a %s value",
    /// Operation, kind ("local", "global", ...), name, type name.
    OP_ON_NAMED = "attempt to %s %s '%s' (a %s value)",
    OP_CALL = "call",
    OP_INDEX = "index",
    OP_ARITH = "perform arithmetic on",
    OP_LEN = "get length of",
    OP_CONCAT = "concatenate",
    /// Type name.
    COMPARE_SAME = "attempt to compare two %s values",
    /// Type names.
    COMPARE_MIXED = "attempt to compare %s with %s",
    /// "initial value", "limit" or "step".
    FOR_NOT_NUMBER = "'for' %s must be a number",
    FOR_INITIAL = "initial value",
    FOR_LIMIT = "limit",
    FOR_STEP = "step",
    TOSTRING_NOT_STRING = "'__tostring' must return a string",
    PRINT_TOSTRING = "'tostring' must return a string to 'print'",

    // --- Coroutines -------------------------------------------------------------------
    COROUTINE_DEAD = "cannot resume dead coroutine",
    COROUTINE_RUNNING = "cannot resume running coroutine",
    /// Also what the embedding API reports for a yield out of a host call.
    YIELD_ACROSS_C = "attempt to yield across C-call boundary",
    COROUTINE_EXPECTED = "coroutine expected",

    // --- Arguments --------------------------------------------------------------------
    /// Argument number, function name, message.
    BAD_ARGUMENT = "bad argument #%s to '%s' (%s)",
    /// Method name, message.
    BAD_SELF = "calling '%s' on bad self (%s)",
    /// Expected type, actual type.
    TYPE_EXPECTED = "%s expected, got %s",
    NO_VALUE = "no value",
    VALUE_EXPECTED = "value expected",
    INVALID_OPTION = "invalid option",
    /// The option.
    INVALID_OPTION_NAMED = "invalid option '%s'",
    INVALID_FORMAT = "invalid format",
    INVALID_VALUE = "invalid value",
    INVALID_LEVEL = "invalid level",
    LEVEL_OUT_OF_RANGE = "level out of range",
    INDEX_OUT_OF_RANGE = "index out of range",
    BASE_OUT_OF_RANGE = "base out of range",
    NUMBER_OUT_OF_RANGE = "number out of range",
    NIL_OR_TABLE = "nil or table expected",
    BOOLEAN_OR_PROXY = "boolean or proxy expected",
    FUNCTION_OR_LEVEL = "function or level expected",
    LUA_FUNCTION_EXPECTED = "Lua function expected",
    STRING_FUNCTION_TABLE = "string/function/table expected",

    // --- Base library -----------------------------------------------------------------
    ASSERTION_FAILED = "assertion failed!",
    PROTECTED_METATABLE = "cannot change a protected metatable",
    UNPACK_TOO_MANY = "too many results to unpack",
    SETFENV = "'setfenv' cannot change environment of given object",
    LOAD_WRONG_MODE = "attempt to load chunk with wrong mode",
    LOAD_BINARY_TEXT_MODE = "attempt to load a binary chunk (mode is 't')",
    READER_NOT_STRING = "reader function must return a string",
    /// File name, the OS's reason.
    OPEN_FAILED = "cannot open %s: %s",
    /// File name (or "stdin"), the OS's reason.
    READ_FAILED = "cannot read %s: %s",
    /// A traceback's message for an error object that is not a string.
    ERROR_OBJECT_NOT_STRING = "(error object is not a string)",
    /// The embedding API's message for such an error object: its type name.
    ERROR_OBJECT_TYPE = "(error object is a %s value)",

    // --- Strings, patterns, tables ----------------------------------------------------
    DUMP_FAILED = "unable to dump given function",
    /// Type name.
    GSUB_REPLACEMENT = "invalid replacement value (a %s)",
    /// The conversion spec.
    FORMAT_OPTION = "invalid option '%s' to 'format'",
    PATTERN_ENDS_WITH_PERCENT = "malformed pattern (ends with '%')",
    PATTERN_MISSING_BRACKET = "malformed pattern (missing ']')",
    PATTERN_MISSING_FRONTIER = "missing '[' after '%f' in pattern",
    PATTERN_UNBALANCED = "unbalanced pattern",
    PATTERN_UNFINISHED_CAPTURE = "unfinished capture",
    PATTERN_INVALID_CAPTURE = "invalid pattern capture",
    PATTERN_CAPTURE_INDEX = "invalid capture index",
    PATTERN_TOO_MANY_CAPTURES = "too many captures",
    PATTERN_TOO_COMPLEX = "pattern too complex",
    PATTERN_STOPPED = "pattern matching stopped",
    /// Type name, index.
    CONCAT_VALUE = "invalid value (%s) at index %s in table for 'concat'",
    INSERT_ARGUMENTS = "wrong number of arguments to 'insert'",
    SORT_ORDER = "invalid order function for sorting",

    // --- io and os ----------------------------------------------------------------------
    FILE_CLOSED = "attempt to use a closed file",
    STD_FILE_CLOSED = "standard file is closed",
    CLOSE_STD_FILE = "cannot close standard file",
    /// Field name.
    DATE_FIELD_MISSING = "field '%s' missing in date table",
    TMPNAME_FAILED = "unable to generate a unique filename",

    // --- package ----------------------------------------------------------------------
    PACKAGE_LOADED = "'package.loaded' must be a table",
    PACKAGE_LOADERS = "'package.loaders' must be a table",
    PACKAGE_PRELOAD = "'package.preload' must be a table",
    /// Field name.
    PACKAGE_FIELD = "'package.%s' must be a string",
    /// Module name.
    MODULE_LOOP = "loop or previous error loading module '%s'",
    /// Module name, file, message.
    MODULE_LOAD = "error loading module '%s' from file '%s':\n\t%s",
    /// Module name.
    MODULE_CONFLICT = "name conflict for module '%s'",
    /// Module name; the loaders' reasons follow.
    MODULE_NOT_FOUND = "module '%s' not found:",
    /// File name.
    MODULE_NO_FILE = "\n\tno file '%s'",
    /// Module name.
    MODULE_NO_PRELOAD = "\n\tno field package.preload['%s']",
    MODULE_NOT_FROM_LUA = "'module' not called from a Lua function",
    /// Why a C module is not loaded (package.rs).
    MODULE_NO_C = "Perilune cannot load C modules yet: it has no Lua C API for them to call",
    /// First line of `require("ffi")`'s not-found list in a state without the FFI
    /// (package.rs).
    MODULE_NO_FFI = "\n\tthe 'ffi' module is not open in this state (it is never in a safe library set)",

    // --- string.buffer ------------------------------------------------------------------
    BUFFER_INTO_ITSELF = "cannot put buffer into itself",
    BUFFER_OPTIONS = "bad options table",
    BUFFER_LEFT_OVER = "left-over data in buffer",
    /// Type name.
    SERIALIZE_TYPE = "cannot serialize '%s'",
    SERIALIZE_TOO_DEEP = "too deep to serialize",
    DESERIALIZE_END = "unexpected end of buffer",
    /// Tag, two hex digits.
    DESERIALIZE_TAG = "cannot deserialize tag 0x%s",
    /// Index.
    DESERIALIZE_DICT = "cannot deserialize dictionary index %s",
    DESERIALIZE_LIGHTUD = "bad light userdata pointer",
    DESERIALIZE_DUPLICATE_KEY = "duplicate table key",

    // --- jit ----------------------------------------------------------------------------
    /// The flag.
    JIT_FLAG = "unknown or malformed optimization flag '%s'",
    /// The OS error.
    PROFILER_THREAD = "cannot start the profiler's timer thread: %s",

    // --- Host limits (abort reasons) ----------------------------------------------------
    BUDGET_EXHAUSTED = "instruction budget exhausted",
    FINALIZER_BUDGET_EXHAUSTED = "finalizer budget exhausted",
    INTERRUPT_PANICKED = "interrupt callback panicked",

    // --- The embedding API's refusals ---------------------------------------------------
    /// A sandbox's library proxies refuse assignments.
    SANDBOX_READ_ONLY = "attempt to modify a read-only table",
    /// After `MODULE_NOT_FOUND` in a sandbox's `require`.
    SANDBOX_REQUIRE = "a sandbox can only require its own libraries and 'string.buffer'",
    /// The option a sandbox's `collectgarbage` refuses.
    SANDBOX_GC_OPTION = "collectgarbage option '%s' is not allowed here",
    /// A userdata's `__newindex` for a key with no setter (lua/userdata.rs); the key.
    USERDATA_UNKNOWN_FIELD = "attempt to set unknown field '%s' of userdata",
    /// A scoped callback called after its `Lua::scope` ended (mlua's words).
    CALLBACK_DESTRUCTED = "a destructed callback or destructed userdata method was called",
    /// `AnyUserData::set_nth_user_value` with 0 or more than 65535 (mlua's words).
    USER_VALUE_INDEX = "user value index out of bounds",
    /// `Thread::reset` of the running coroutine, or of one that resumed another.
    THREAD_RESET_RUNNING = "cannot reset a running thread",
    SAFE_MODE_UNSAFE_LIBS = "the debug library cannot be opened by a safe constructor (Lua::new_with): use Lua::new_trusted",
    /// `Table::raw_insert`/`raw_remove` outside the sequence (lua/table.rs): mlua's words.
    INDEX_OUT_OF_BOUNDS = "index out of bounds",
    /// A string that is not UTF-8 where a Rust `String` is asked for (lua/value.rs).
    NOT_UTF8 = "invalid utf-8",
    /// An async call whose future was dropped with its `AsyncThread`, resumed again
    /// (lua/async_fn.rs, feature `async`).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    ASYNC_FUTURE_DROPPED = "the future of this async call was dropped with its AsyncThread",
    /// An integer a double cannot hold exactly, converted to Lua (conv.rs, serde.rs).
    INTEGER_NOT_EXACT = "integer cannot be represented exactly by a Lua number",
    /// serde conversion (feature `serde`, lua/serde.rs): mlua's words.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    SERDE_RECURSIVE_TABLE = "recursive table detected",
    /// The Lua type name.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    SERDE_UNSUPPORTED_TYPE = "unsupported value type '%s'",
    /// The depth limit.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    SERDE_TOO_DEEP = "too deeply nested (more than %s levels)",

    // --- Loading bytecode ---------------------------------------------------------------
    /// Chunk name, "incompatible" or "malformed", whose bytecode (or nothing).
    LOAD_BYTECODE = "%s: cannot load %s bytecode%s",
    BYTECODE_OF_LUAJIT = " (LuaJIT bytecode: Perilune cannot run it, load the Lua source)",
    BYTECODE_OF_PUC = " (PUC Lua bytecode: Perilune cannot run it, load the Lua source)",

    // --- Internal errors (a broken invariant, reported instead of a panic) --------------
    INTERNAL_PCALL_BODY = "internal error: protected call reached its native body",
    INTERNAL_WRAP = "internal error: wrap without coroutine",
    INTERNAL_PROFILER_STACK = "internal error: the profiler moved the stack",
    INTERNAL_JIT_MODULE = "internal error: unknown jit module",
    INTERNAL_RANDOM_STATE = "internal error: random state missing",
    INTERNAL_CALLBACK_DATA = "internal error: Rust callback data missing",
    INTERNAL_FRAME_FUNCTION = "internal error: frame without function",
    INTERNAL_FRAME_PROTO = "internal error: Lua frame without prototype",
    INTERNAL_PROTO_INDEX = "internal error: bad prototype index",
    INTERNAL_TSETM = "internal error: TSETM without table",
    INTERNAL_UPVALUE_INDEX = "internal error: bad upvalue index",
    INTERNAL_TDUP = "internal error: TDUP without template",
    INTERNAL_CALL = "internal error: call without function",
    /// The verifier's message (debug builds verify every compiled chunk).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    INTERNAL_VERIFY = "internal error: bytecode verification failed: %s",
    INTERNAL_BUFFER_METHODS = "string.buffer: method table lost",
    INTERNAL_SANDBOX_MAKER = "sandbox maker lost",
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    INTERNAL_HOST_ROOT = "internal error: the state has no host root",

    // --- Compiler -----------------------------------------------------------------------
    LEX_LONG_DELIMITER = "invalid long string delimiter",
    LEX_UNFINISHED_LONG_STRING = "unfinished long string",
    LEX_UNFINISHED_LONG_COMMENT = "unfinished long comment",
    LEX_UNFINISHED_STRING = "unfinished string",
    LEX_ESCAPE = "invalid escape sequence",
    LEX_NUMBER = "malformed number",
    PARSE_COMPLEX = "function or expression too complex",
    PARSE_JUMP = "control structure too long",
    /// Function ("main function" or "function at line N"), limit, what.
    PARSE_LIMIT = "%s has more than %s %s",
    PARSE_MAIN_FUNCTION = "main function",
    /// Line.
    PARSE_FUNCTION_AT = "function at line %s",
    /// Token.
    PARSE_EXPECTED = "'%s' expected",
    /// Token, opening token, its line.
    PARSE_EXPECTED_MATCH = "'%s' expected (to close '%s' at line %s)",
    PARSE_LEVELS = "chunk has too many syntax levels",
    PARSE_CONSTANTS = "constants",
    PARSE_LOCALS = "local variables",
    PARSE_UPVALUES = "upvalues",
    PARSE_VARIABLE_NAMES = "variable names",
    PARSE_NO_LOOP = "no loop to break",
    /// Label.
    PARSE_UNDEFINED_LABEL = "undefined label '%s'",
    /// Label.
    PARSE_DUPLICATE_LABEL = "duplicate label '%s'",
    /// Label, local.
    PARSE_GOTO_SCOPE = "<goto %s> jumps into the scope of local '%s'",
    PARSE_PARAMETER = "<name> or '...' expected",
    PARSE_UNEXPECTED = "unexpected symbol",
    PARSE_SYNTAX = "syntax error",
    PARSE_FOR = "'=' or 'in' expected",
    PARSE_VARARG = "cannot use '...' outside a vararg function",
    PARSE_AMBIGUOUS = "ambiguous syntax (function call x new statement)",
    PARSE_ARGUMENTS = "function arguments expected",

    // --- The FFI's C declarations (docs/ffi.md) -------------------------------------
    FFI_DECL_SPEC = "declaration specifier expected",
    FFI_INVALID_TYPE = "invalid C type",
    FFI_INVALID_SIZE = "size of C type is unknown or too large",
    /// Name.
    FFI_REDEFINE = "attempt to redefine '%s'",

    // --- The FFI's calls, libraries and callbacks (docs/ffi.md) ----------------------
    FFI_CALL_NYI = "NYI: cannot call this C function (yet)",
    /// Symbol name.
    FFI_NO_DECL = "missing declaration for symbol '%s'",
    FFI_BAD_CALLBACK = "bad callback",
    FFI_WRONG_ARGS = "wrong number of arguments for function call",
    /// `$` parameters of `ffi.cdef`/`ffi.typeof` that do not match the arguments.
    FFI_BAD_PARAMS = "wrong number of type parameters",
    FFI_PARAM_EXPECTED = "type parameter expected, got %s",
    /// Calling a NULL function pointer (LuaJIT crashes; a deliberate difference).
    FFI_NULL_CALL = "attempt to call a NULL function pointer",
    FFI_TOO_MANY_CALLBACKS = "too many callbacks",
    /// `dlopen` failed without saying why.
    FFI_DLOPEN_FAILED = "dlopen failed",
    /// Library name: `ffi.load` in a statically linked build (docs/build.md).
    FFI_STATIC_LOAD = "%s: cannot load a library into a statically linked perilune (docs/build.md, \"The link mode\")",

    // --- cdata and the ffi library (docs/ffi.md) --------------------------------------
    /// From type, to type.
    FFI_CONVERT = "cannot convert '%s' to '%s'",
    /// Type.
    FFI_TOO_MANY_INIT = "too many initializers for '%s'",
    /// Type, member name.
    FFI_NO_MEMBER = "'%s' has no member named '%s'",
    /// Type, key type.
    FFI_BAD_INDEX = "'%s' cannot be indexed with '%s'",
    /// Both operands' types.
    FFI_ARITH = "attempt to perform arithmetic on '%s' and '%s'",
    FFI_COMPARE = "attempt to compare '%s' with '%s'",
    FFI_CONCAT = "attempt to concatenate '%s' and '%s'",
    /// Type.
    FFI_LEN = "attempt to get length of '%s'",
    /// Type.
    FFI_NOT_CALLABLE = "'%s' is not callable",
    FFI_WRITE_CONST = "attempt to write to constant location",
    /// Tag name.
    FFI_UNDECLARED_TAG = "undeclared or implicit tag '%s'",
}

/// Most arguments a template takes.
const MAX_ARGS: usize = 4;

/// A message as the parts the state joins: the template's pieces with the arguments
/// between them, borrowed, on the stack (no allocation).
pub struct Parts<'a> {
    parts: [&'a [u8]; 2 * MAX_ARGS + 1],
    len: usize,
}

impl<'a> Parts<'a> {
    /// `template` with its `%s` replaced by `args` in order. A missing argument
    /// leaves the place empty; extra arguments are dropped (the unit test checks
    /// every template's count, so neither happens).
    pub fn new(template: &'a str, args: &[&'a [u8]]) -> Self {
        let mut p = Parts {
            parts: [&[]; 2 * MAX_ARGS + 1],
            len: 0,
        };
        for (i, piece) in template.split("%s").enumerate() {
            if i > 0 && i <= MAX_ARGS {
                p.parts[p.len] = args.get(i - 1).copied().unwrap_or(&[]);
                p.len += 1;
            }
            if i <= MAX_ARGS {
                p.parts[p.len] = piece.as_bytes();
                p.len += 1;
            }
        }
        p
    }
}

impl<'a> std::ops::Deref for Parts<'a> {
    type Target = [&'a [u8]];
    fn deref(&self) -> &Self::Target {
        &self.parts[..self.len]
    }
}

/// `template` with its `%s` replaced by `args`, as a `String` (for messages that
/// are Rust strings before they reach the state: syntax errors, host errors).
pub fn format(template: &str, args: &[&dyn std::fmt::Display]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(template.len() + 16 * args.len());
    for (i, piece) in template.split("%s").enumerate() {
        if i > 0 {
            if let Some(a) = args.get(i - 1) {
                let _ = write!(out, "{a}");
            }
        }
        out.push_str(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_spelled_once() {
        let mut seen = std::collections::HashMap::new();
        for (name, text) in ALL {
            assert!(!text.is_empty(), "{name} is empty");
            if let Some(other) = seen.insert(*text, *name) {
                panic!("{name} and {other} have the same text {text:?}");
            }
        }
    }

    #[test]
    fn templates_take_at_most_max_args() {
        for (name, text) in ALL {
            assert!(text.matches("%s").count() <= MAX_ARGS, "{name}: {text:?}");
        }
    }

    #[test]
    fn parts_and_format_agree() {
        let p = Parts::new(OP_ON_NAMED, &[b"call", b"local", b"f", b"nil"]);
        assert_eq!(p.concat(), b"attempt to call local 'f' (a nil value)");
        assert_eq!(
            format(OP_ON_NAMED, &[&"call", &"local", &"f", &"nil"]),
            "attempt to call local 'f' (a nil value)"
        );
        assert_eq!(Parts::new(NOMEM, &[]).concat(), b"not enough memory");
        assert_eq!(
            format(COMPARE_MIXED, &[&"number", &"nil"]),
            "attempt to compare number with nil"
        );
        // A missing argument leaves its place empty rather than failing.
        assert_eq!(
            Parts::new(COMPARE_MIXED, &[b"number"]).concat(),
            b"attempt to compare number with "
        );
    }
}
