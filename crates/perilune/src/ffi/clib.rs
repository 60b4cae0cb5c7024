//! C library namespaces (docs/ffi.md, "Libraries"): `ffi.C`, the process's own
//! symbols, and `ffi.load(name, global)`, a shared library opened with `dlopen`.
//!
//! Owns: the `dlopen` handle of a library (closed when the [`CLib`] is dropped: by the
//! collector, through the userdata payload hook [`CLIB_PAYLOAD`], or at close), the
//! name canonicalisation (`z` -> `libz.so`, paths kept) and the fallback through
//! glibc's linker scripts (a `libfoo.so` that is a text file naming the real
//! library), both as LuaJIT does them.
//!
//! Invariants:
//! - The default namespace is `RTLD_DEFAULT` and is never closed.
//! - Errors are what `dlerror` says (LuaJIT's words on POSIX: `libx.so: cannot open
//!   shared object file: No such file or directory`, `perilune: undefined symbol:
//!   f`), copied into the state's heap ([`LibError`]; out of memory copying one is
//!   `not enough memory`).
//! - Names are made NUL-terminated in the state's heap; out of memory is an error
//!   like any other. Nothing here panics.
//! - A statically linked build (`crt-static`) has no working `dlopen` for libraries
//!   that need libc (they would get a second libc): [`CLib::load`] refuses with a
//!   message saying so.
use super::call::resolve;
use super::ctype::{CKind, CTypeId, CTypeTable, Namespace};
use crate::alloc::{HVec, Heap, HeapRef, OutOfMemory};
use crate::errmsg;
use crate::object::GcRef;
use crate::udata::{GcUdata, HostPayload};
use std::any::TypeId;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::Read;

/// An error of this module: its message in the state's heap, or out of memory
/// (also when the message itself could not be stored).
pub enum LibError {
    Oom,
    Message(HVec<u8>),
}

impl LibError {
    fn from_parts(heap: HeapRef, parts: &[&[u8]]) -> LibError {
        let mut v = HVec::new(heap);
        for p in parts {
            if v.extend_from_slice(p).is_err() {
                return LibError::Oom;
            }
        }
        LibError::Message(v)
    }

    /// A one-argument message template with `arg` spliced in.
    fn template(heap: HeapRef, t: &'static str, arg: &[u8]) -> LibError {
        let (a, b) = t.split_once("%s").unwrap_or((t, ""));
        LibError::from_parts(heap, &[a.as_bytes(), arg, b.as_bytes()])
    }

    /// `dlerror()`'s message, or `fallback` when it has none.
    fn dlerror(heap: HeapRef, fallback: &str) -> LibError {
        // SAFETY: `dlerror` returns null or a NUL-terminated string valid until the
        // next dl* call of this thread; it is copied at once.
        let p = unsafe { libc::dlerror() };
        if p.is_null() {
            return LibError::from_parts(heap, &[fallback.as_bytes()]);
        }
        // SAFETY: as above.
        LibError::from_parts(heap, &[unsafe { CStr::from_ptr(p) }.to_bytes()])
    }

    /// The message (`not enough memory` for [`LibError::Oom`]: the VM raises its
    /// preallocated string for that one).
    pub fn message(&self) -> &[u8] {
        match self {
            LibError::Oom => errmsg::NOMEM.as_bytes(),
            LibError::Message(m) => m,
        }
    }
}

impl From<OutOfMemory> for LibError {
    fn from(_: OutOfMemory) -> Self {
        LibError::Oom
    }
}

impl std::fmt::Debug for LibError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LibError({:?})", String::from_utf8_lossy(self.message()))
    }
}

/// A C library namespace: the default one or a loaded library.
#[derive(Debug)]
pub struct CLib {
    /// `None`: the default namespace.
    handle: Option<std::ptr::NonNull<c_void>>,
}

/// `bytes` with a NUL appended, in the heap.
fn c_name(heap: HeapRef, bytes: &[u8]) -> Result<HVec<u8>, OutOfMemory> {
    let mut v = HVec::with_capacity(heap, bytes.len() + 1)?;
    v.extend_from_slice(bytes)?;
    v.push(0)?;
    Ok(v)
}

/// LuaJIT's canonical file name: a name without `/` gets `.so` unless it has a dot,
/// and then `lib` unless it starts with `lib`.
pub fn canonical_name(heap: &Heap, name: &[u8]) -> Result<HVec<u8>, OutOfMemory> {
    let h = HeapRef::new(heap);
    if name.contains(&b'/') {
        return c_name(h, name);
    }
    let mut v = HVec::with_capacity(h, name.len() + 7)?;
    if !name.starts_with(b"lib") {
        v.extend_from_slice(b"lib")?;
    }
    v.extend_from_slice(name)?;
    if !name.contains(&b'.') {
        v.extend_from_slice(b".so")?;
    }
    v.push(0)?;
    Ok(v)
}

/// The library a GNU linker script line names: `GROUP ( /lib/libm.so.6 ...)` or
/// `INPUT(...)` gives its first path.
fn script_line(line: &[u8]) -> Option<&[u8]> {
    if !(line.starts_with(b"GROUP") || line.starts_with(b"INPUT")) {
        return None;
    }
    let open = line.iter().position(|&c| c == b'(')?;
    let rest = &line[open + 1..];
    let start = rest.iter().position(|&c| c != b' ').unwrap_or(rest.len());
    let rest = &rest[start..];
    let end = rest
        .iter()
        .position(|&c| c == b' ' || c == b')' || c == b'\n' || c == b'\r')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The library a linker script at `path` names, as LuaJIT reads one: a file starting
/// `/* GNU ld script` is searched line by line, any other file only on its first
/// line. Only the first 8 KB are read (glibc's scripts are a few hundred bytes).
fn script_target(heap: HeapRef, path: &[u8]) -> Option<HVec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let mut f = std::fs::File::open(std::ffi::OsStr::from_bytes(path)).ok()?;
    let mut buf = [0u8; 8192];
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    let text = &buf[..n];
    let mut lines = text.split(|&c| c == b'\n');
    let first = lines.next()?;
    let found = if first.starts_with(b"/* GNU ld script") {
        lines.find_map(script_line)
    } else {
        script_line(first)
    }?;
    c_name(heap, found).ok()
}

fn dlopen(name: &[u8], global: bool) -> *mut c_void {
    let flags: c_int = libc::RTLD_LAZY | if global { libc::RTLD_GLOBAL } else { libc::RTLD_LOCAL };
    // SAFETY: `name` is NUL-terminated (made by `c_name`/`canonical_name`).
    unsafe { libc::dlopen(name.as_ptr().cast::<c_char>(), flags) }
}

impl CLib {
    /// `ffi.C`: the symbols of the process and of every library loaded globally.
    pub fn default_namespace() -> CLib {
        CLib { handle: None }
    }

    pub fn is_default(&self) -> bool {
        self.handle.is_none()
    }

    /// `ffi.load(name, global)`.
    pub fn load(heap: &Heap, name: &[u8], global: bool) -> Result<CLib, LibError> {
        if cfg!(target_feature = "crt-static") {
            return Err(LibError::template(HeapRef::new(heap), errmsg::FFI_STATIC_LOAD, name));
        }
        let file = canonical_name(heap, name)?;
        let h = dlopen(&file, global);
        if let Some(h) = std::ptr::NonNull::new(h) {
            return Ok(CLib { handle: Some(h) });
        }
        let err = LibError::dlerror(HeapRef::new(heap), errmsg::FFI_DLOPEN_FAILED);
        // A text file where a library was expected: dlopen's message is "PATH:
        // invalid ELF header" (or similar); try the library a linker script names.
        let msg = err.message();
        if msg.first() == Some(&b'/') {
            if let Some(colon) = msg.iter().position(|&c| c == b':') {
                if let Some(target) = script_target(HeapRef::new(heap), &msg[..colon]) {
                    let h = dlopen(&target, global);
                    if let Some(h) = std::ptr::NonNull::new(h) {
                        return Ok(CLib { handle: Some(h) });
                    }
                    return Err(LibError::dlerror(HeapRef::new(heap), errmsg::FFI_DLOPEN_FAILED));
                }
            }
        }
        Err(err)
    }

    /// The address of symbol `sym` (`dlsym`).
    pub fn symbol(&self, heap: &Heap, sym: &[u8]) -> Result<*mut c_void, LibError> {
        let name = c_name(HeapRef::new(heap), sym)?;
        let handle = self.handle.map_or(libc::RTLD_DEFAULT, |h| h.as_ptr());
        // SAFETY: clear any stale error, then look the NUL-terminated name up in a
        // handle that is open (this `CLib` owns it) or the default namespace.
        let p = unsafe {
            libc::dlerror();
            libc::dlsym(handle, name.as_ptr().cast::<c_char>())
        };
        if p.is_null() {
            return Err(LibError::dlerror(HeapRef::new(heap), errmsg::FFI_DLOPEN_FAILED));
        }
        Ok(p)
    }

    /// Index the namespace with a declared name (`C.strlen`): what the declaration
    /// is and, for a function or variable, its address, looked up under its
    /// `__asm__("sym")` name if it has one.
    pub fn lookup(&self, heap: &Heap, t: &CTypeTable, name: &[u8]) -> Result<Symbol, LibError> {
        let Some(id) = t.lookup(name, Namespace::Ordinary) else {
            return Err(LibError::template(HeapRef::new(heap), errmsg::FFI_NO_DECL, name));
        };
        let rec = t.get(id);
        match rec.kind {
            CKind::Constant => Ok(Symbol::Constant {
                decl: id,
                value: rec.value,
            }),
            CKind::Extern => {
                let sym = if rec.sym.len > 0 { t.name(rec.sym) } else { name };
                let addr = self.symbol(heap, sym)?;
                let ty = resolve(t, rec.child);
                let is_func = t.get(ty).kind == CKind::Func;
                Ok(if is_func {
                    Symbol::Function { decl: id, ty, addr }
                } else {
                    Symbol::Variable { decl: id, ty, addr }
                })
            }
            // A typedef is not a symbol: LuaJIT says the same as for a missing one.
            _ => Err(LibError::template(HeapRef::new(heap), errmsg::FFI_NO_DECL, name)),
        }
    }
}

/// What a name of a namespace is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// A function: `ty` its function type, `addr` its code.
    Function {
        decl: CTypeId,
        ty: CTypeId,
        addr: *mut c_void,
    },
    /// An extern variable of type `ty` at `addr`.
    Variable {
        decl: CTypeId,
        ty: CTypeId,
        addr: *mut c_void,
    },
    /// An enum or `static const` constant.
    Constant { decl: CTypeId, value: i64 },
}

impl Drop for CLib {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            // SAFETY: the handle came from `dlopen` and is closed once. Function
            // pointers taken from it must not be called afterwards, as in LuaJIT
            // (the collector closes a library only when its namespace is garbage).
            unsafe { libc::dlclose(h.as_ptr()) };
        }
    }
}

// --- The payload of a namespace userdata ---------------------------------------------

/// # Safety
/// `payload` holds an initialised `CLib` dropped only here (udata.rs contract).
unsafe fn drop_clib(payload: *mut u8) {
    // SAFETY: caller contract; `dlclose` does not unwind.
    unsafe { std::ptr::drop_in_place(payload.cast::<CLib>()) };
}

/// The drop hook of namespace userdata: the collector (or the state's close) closes
/// the library.
pub static CLIB_PAYLOAD: HostPayload = HostPayload {
    drop: drop_clib,
    type_id: TypeId::of::<CLib>,
    heap_bytes: None,
};

/// Payload bytes of a namespace userdata.
pub fn payload_len() -> usize {
    size_of::<CLib>()
}

/// Store `lib` in the fresh userdata `u` (created with [`payload_len`] bytes).
/// `Err(lib)` hands it back when `u` cannot take it.
pub fn install(u: GcRef<GcUdata>, lib: CLib) -> Result<(), CLib> {
    if u.len < payload_len() || u.host.is_some() {
        return Err(lib);
    }
    // SAFETY: the payload has room for a `CLib`, is 16-aligned (more than `CLib`
    // needs) and holds no value yet.
    unsafe { GcUdata::payload_ptr(u).cast::<CLib>().write(lib) };
    u.get_mut().host = Some(&CLIB_PAYLOAD);
    Ok(())
}

/// The namespace in `u`, if `u` is a namespace userdata.
pub fn clib_of<'a>(u: GcRef<GcUdata>) -> Option<&'a CLib> {
    let host = u.host?;
    if (host.type_id)() != TypeId::of::<CLib>() || u.len < payload_len() {
        return None;
    }
    // SAFETY: `host` says the payload holds an initialised `CLib`.
    Some(unsafe { &*GcUdata::payload_ptr(u).cast::<CLib>() })
}
