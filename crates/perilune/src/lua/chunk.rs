//! [`Chunk`]: Lua source waiting to be compiled and run.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::vm::error::Throw;

use super::error::{Error, Result};
use super::function::Function;
use super::state::{mem_error, set_function_env, Lua, LuaRef};
use super::table::Table;
use super::value::{FromLuaMulti, IntoLuaMulti};

/// What [`Lua::load`] takes, with mlua's trait shape: source text or a binary
/// chunk (`&str`, `String`, `&[u8]`, `Vec<u8>` and references to them), or a file
/// (`&Path`, `PathBuf`: read when the chunk is compiled, named `@path`). A host type
/// can implement it too; `name`, `environment` and `mode` give the chunk's defaults
/// (the `Chunk::set_*` methods override them).
///
/// ```
/// use std::path::Path;
/// let lua = perilune::Lua::new();
/// let dir = std::env::temp_dir().join(format!("perilune-aschunk-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("answer.lua");
/// std::fs::write(&file, "return 6 * 7").unwrap();
/// assert_eq!(lua.load(file.as_path()).eval::<i32>()?, 42);
/// let e = lua.load(Path::new("/no/such/file.lua")).exec().unwrap_err();
/// assert!(e.to_string().contains("cannot open /no/such/file.lua"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), perilune::Error>(())
/// ```
pub trait AsChunk<'a> {
    /// The chunk's name (see [`Chunk::set_name`] for `@` and `=`), if it has one.
    fn name(&self) -> Option<String> {
        None
    }
    /// The chunk's environment, if not the globals.
    fn environment(&self, lua: &Lua) -> Result<Option<Table>> {
        let _ = lua;
        Ok(None)
    }
    /// The kinds of chunk accepted, if restricted.
    fn mode(&self) -> Option<ChunkMode> {
        None
    }
    /// The text or binary chunk; an I/O error is returned when the chunk is
    /// compiled.
    fn source(self) -> std::io::Result<Cow<'a, [u8]>>;
}
impl<'a> AsChunk<'a> for &'a str {
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        Ok(Cow::Borrowed(self.as_bytes()))
    }
}
impl<'a> AsChunk<'a> for String {
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        Ok(Cow::Owned(self.into_bytes()))
    }
}
impl<'a> AsChunk<'a> for &'a String {
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        Ok(Cow::Borrowed(self.as_bytes()))
    }
}
impl<'a> AsChunk<'a> for &'a [u8] {
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        Ok(Cow::Borrowed(self))
    }
}
impl<'a> AsChunk<'a> for Vec<u8> {
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        Ok(Cow::Owned(self))
    }
}
impl<'a> AsChunk<'a> for &'a Vec<u8> {
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        Ok(Cow::Borrowed(self))
    }
}
impl<'a> AsChunk<'a> for &Path {
    fn name(&self) -> Option<String> {
        Some(format!("@{}", self.display()))
    }
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        read_chunk_file(self)
    }
}
impl<'a> AsChunk<'a> for PathBuf {
    fn name(&self) -> Option<String> {
        Some(format!("@{}", self.display()))
    }
    fn source(self) -> std::io::Result<Cow<'a, [u8]>> {
        read_chunk_file(&self)
    }
}

/// A chunk file's bytes; the error names the file, as `loadfile`'s does.
fn read_chunk_file<'a>(path: &Path) -> std::io::Result<Cow<'a, [u8]>> {
    std::fs::read(path).map(Cow::Owned).map_err(|e| {
        let text = crate::errmsg::format(crate::errmsg::OPEN_FAILED, &[&path.display(), &e]);
        std::io::Error::new(e.kind(), text)
    })
}

/// Which kinds of chunk [`Chunk`] accepts: Lua `load`'s mode argument (`"t"`, `"b"`,
/// `"bt"`). A chunk of another kind fails with LuaJIT's "attempt to load chunk with
/// wrong mode".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkMode {
    /// Source text only (`"t"`).
    Text,
    /// Binary chunks (`string.dump` output) only (`"b"`).
    Binary,
    /// Either (`"bt"`).
    TextOrBinary,
}

impl ChunkMode {
    fn as_load_mode(self) -> &'static [u8] {
        match self {
            ChunkMode::Text => b"t",
            ChunkMode::Binary => b"b",
            ChunkMode::TextOrBinary => b"bt",
        }
    }
}

/// A chunk of Lua source, made by [`Lua::load`]. Binary chunks (`string.dump`
/// output) are refused by states from the safe constructors ([`Lua::new`],
/// [`Lua::new_with`], [`Lua::new_with_allocator`]) with "attempt to load a binary
/// chunk (mode is 't')", whatever the chunk's mode; trusted states load them (always
/// verified) unless the chunk's mode ([`Chunk::set_mode`]) says text only, which is
/// the default for a chunk whose environment is a sandbox.
///
/// ```
/// let lua = perilune::Lua::new();
/// lua.load("x = 1").set_name("setup").exec()?;
/// assert_eq!(lua.load("x + 1").eval::<i32>()?, 2);
/// let err = lua.load("error('bad')").set_name("script.lua").exec().unwrap_err();
/// assert!(err.to_string().contains("script.lua:1: bad"));
/// # Ok::<(), perilune::Error>(())
/// ```
#[must_use = "a chunk does nothing until it is executed"]
pub struct Chunk<'a> {
    lua: Lua,
    /// The text, the binary chunk, or why a file could not be read (returned when
    /// the chunk is compiled, as mlua does).
    source: std::result::Result<Cow<'a, [u8]>, Error>,
    name: Option<Vec<u8>>,
    env: Option<Table>,
    mode: Option<ChunkMode>,
}

impl Lua {
    /// Prepare a chunk: Lua source, a binary chunk, or a file (`&Path`, `PathBuf`:
    /// named `@path`, read when the chunk is compiled; see [`AsChunk`]).
    pub fn load<'a>(&self, chunk: impl AsChunk<'a>) -> Chunk<'a> {
        let name = chunk.name();
        let mode = chunk.mode();
        let env = chunk.environment(self);
        let source = chunk.source().map_err(Error::external);
        let (env, source) = match env {
            Ok(env) => (env, source),
            Err(e) => (None, Err(e)),
        };
        let c = Chunk {
            lua: self.clone(),
            source,
            name: None,
            env,
            mode,
        };
        match name {
            Some(n) => c.set_name(n),
            None => c,
        }
    }
}

impl<'a> Chunk<'a> {
    /// The name used in error messages and tracebacks, as Lua's `chunkname`: a name
    /// starting with `@` is a file name (`@dir/a.lua` shows as `dir/a.lua`, shortened
    /// from the left when long), one starting with `=` is shown verbatim without the
    /// `=` (`=stdin` shows as `stdin`); any other name is shown as given, as if it
    /// started with `=`. Names are bytes, so a file name need not be UTF-8. Without a
    /// name, a chunk is named by its source text (`[string "x = 1"]`).
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let e = lua.load("error('x')").set_name("@scripts/a.lua").exec().unwrap_err();
    /// assert!(e.to_string().contains("scripts/a.lua:1: x"));
    /// let e = lua.load("error('x')").set_name("=stdin").exec().unwrap_err();
    /// assert!(e.to_string().contains("stdin:1: x"));
    /// let e = lua.load("error('x')").exec().unwrap_err();
    /// assert!(e.to_string().contains(r#"[string "error('x')"]:1: x"#));
    /// ```
    pub fn set_name(mut self, name: impl AsRef<[u8]>) -> Self {
        let name = name.as_ref();
        self.name = Some(if name.starts_with(b"@") || name.starts_with(b"=") {
            name.to_vec()
        } else {
            let mut n = b"=".to_vec();
            n.extend_from_slice(name);
            n
        });
        self
    }

    /// Run the chunk with `env` as its global environment instead of the globals
    /// (Lua 5.1 `setfenv` on the loaded function): see [`Lua::create_sandbox`].
    pub fn set_environment(mut self, env: Table) -> Self {
        self.env = Some(env);
        self
    }

    /// Which kinds of chunk to accept (mlua's `Chunk::set_mode`, plus
    /// [`ChunkMode::TextOrBinary`]). Without a mode, a chunk whose environment is a
    /// sandbox ([`Lua::create_sandbox`]) is [`ChunkMode::Text`], and any other chunk
    /// accepts what the state accepts (both kinds in a trusted state). A mode never
    /// lets a state from a safe constructor load a binary chunk.
    ///
    /// ```
    /// use perilune::{ChunkMode, Lua, LuaOptions, StdLib};
    /// let lua = Lua::new_trusted(StdLib::ALL_TRUSTED, LuaOptions::new())?;
    /// let bin = lua.load("return string.dump(function() return 1 end)").eval::<perilune::LuaString>()?;
    /// let bin = bin.as_bytes().to_vec();
    /// assert_eq!(lua.load(&bin[..]).eval::<i32>()?, 1);
    /// let e = lua.load(&bin[..]).set_mode(ChunkMode::Text).exec().unwrap_err();
    /// assert!(e.to_string().contains("attempt to load chunk with wrong mode"));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn set_mode(mut self, mode: ChunkMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Compile the chunk into a function.
    pub fn into_function(self) -> Result<Function> {
        self.compile(self.source()?)
    }

    /// The environment given with [`Chunk::set_environment`], if any.
    pub fn environment(&self) -> Option<&Table> {
        self.env.as_ref()
    }

    /// The kinds of chunk this one accepts: the mode given, else what its bytes are
    /// (binary when they start with LuaJIT's `ESC` signature, as mlua answers).
    pub fn mode(&self) -> ChunkMode {
        match (self.mode, &self.source) {
            (Some(m), _) => m,
            (None, Ok(s)) if s.starts_with(b"\x1b") => ChunkMode::Binary,
            (None, _) => ChunkMode::Text,
        }
    }

    /// The source bytes, or the error reading them.
    fn source(&self) -> Result<&[u8]> {
        self.source.as_deref().map_err(Clone::clone)
    }

    fn compile(&self, source: &[u8]) -> Result<Function> {
        let lua = &self.lua;
        let name = self.chunk_name();
        lua.with_state(|st, raw| {
            let env = match &self.env {
                Some(t) => t.0.raw_in(raw)?.as_table(),
                None => None,
            };
            let top = st.cur.top;
            let mode = match (self.mode, env) {
                (Some(m), _) => Some(m),
                (None, Some(env)) if super::sandbox::is_sandbox_env(st, env) => Some(ChunkMode::Text),
                (None, _) => None,
            };
            if let Err(e) = st.load_mode(source, &name, mode.map(ChunkMode::as_load_mode)) {
                st.cur.get_mut().top = top;
                if let Throw::Abort = e {
                    // The budget or the host's callback stopped the compiler.
                    return Err(super::state::error_from_throw(st, raw, e));
                }
                return Err(compile_error(e));
            }
            let f = st.peek(0);
            if let Some(env) = env {
                set_function_env(st, f, env);
            }
            let r = LuaRef::new(lua, st, raw, f);
            st.cur.get_mut().top = top;
            Ok(Function(r?))
        })
    }

    /// The chunk name given to the compiler.
    fn chunk_name(&self) -> Vec<u8> {
        match &self.name {
            Some(n) => n.clone(),
            None => self.source.as_deref().unwrap_or_default().to_vec(),
        }
    }

    /// The chunk's bytecode listing, in the format of `luajit -bl` (one block per
    /// function, named `chunk:first-last`), without running anything. A syntax error
    /// is [`Error::SyntaxError`]. This is what `perilune -bl` prints.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let text = lua.load("x = 1\n").set_name("@list.lua").bytecode_listing()?;
    /// assert!(text.starts_with("-- BYTECODE -- list.lua:0-2\n0001    KSHORT   0   1\n"));
    /// // Without a name, the chunk is named by its source, as `luajit -bl -e` does.
    /// let text = lua.load("x=1").bytecode_listing()?;
    /// assert!(text.starts_with("-- BYTECODE -- \"x=1\":0-1\n"));
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn bytecode_listing(self) -> Result<String> {
        let name = self.chunk_name();
        let source = self.source()?;
        self.lua
            .with_state(|st, _| match crate::compiler::compile(st, source, &name) {
                // The prototype is not rooted: the listing is made before any safe point.
                Ok(p) => Ok(crate::compiler::listing(p)),
                Err(e) => Err(compile_error(e)),
            })
    }

    /// Run the chunk, discarding its results.
    pub fn exec(self) -> Result<()> {
        self.into_function()?.call(())
    }

    /// Evaluate the chunk as an expression if it is one (`1 + 1`), else run it as
    /// statements (`return 1 + 1` works too), and convert its results.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// assert_eq!(lua.load("2 ^ 10").eval::<u32>()?, 1024);
    /// assert_eq!(lua.load("local x = 5 return x").eval::<u32>()?, 5);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn eval<R: FromLuaMulti>(self) -> Result<R> {
        self.into_eval_function()?.call(())
    }

    /// The function [`Chunk::eval`] calls: the chunk as `return <chunk>` if that
    /// compiles, else as statements.
    pub(crate) fn into_eval_function(self) -> Result<Function> {
        let source = self.source()?;
        let mut expr = b"return ".to_vec();
        expr.extend_from_slice(source);
        let f = match self.compile(&expr) {
            Ok(f) => f,
            Err(Error::SyntaxError { .. }) => self.compile(source)?,
            Err(e) => return Err(e),
        };
        Ok(f)
    }

    /// Run the chunk with arguments (its `...`) and convert its results.
    ///
    /// ```
    /// let lua = perilune::Lua::new();
    /// let n: i32 = lua.load("local a, b = ... return a * b").call((6, 7))?;
    /// assert_eq!(n, 42);
    /// # Ok::<(), perilune::Error>(())
    /// ```
    pub fn call<R: FromLuaMulti>(self, args: impl IntoLuaMulti) -> Result<R> {
        self.into_function()?.call(args)
    }
}

/// The error for a chunk that did not compile.
fn compile_error(e: Throw) -> Error {
    match e {
        Throw::Error(v) => {
            let message = v
                .as_string()
                .map_or_else(String::new, |s| s.to_str_lossy().into_owned());
            let incomplete_input = message.ends_with("'<eof>'") || message.ends_with("<eof>");
            Error::SyntaxError {
                message,
                incomplete_input,
            }
        }
        _ => mem_error(),
    }
}
