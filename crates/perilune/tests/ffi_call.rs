//! Calls into C (docs/ffi.md, "Calls", "Libraries", "Callbacks"), through the crate's
//! internals (declarations parsed by `cparse`, symbols resolved by `clib`, calls made
//! by `call` through libffi, callbacks made by `callback`) and from Lua through
//! `ffi.load` (the last test). The C side is `tests/data/ffi/calltest.c`, compiled
//! by `cc -shared` at test time: every scalar type, structs and unions by value,
//! varargs, errno, callbacks that return and callbacks that fail.

use perilune::unstable_internals::alloc::Heap;
use perilune::unstable_internals::ffi::call::{self, CallCache, CallError, DescRef, Errno, RetKind};
use perilune::unstable_internals::ffi::callback::{CallbackError, Callbacks};
use perilune::unstable_internals::ffi::clib::{self, CLib, Symbol};
use perilune::unstable_internals::ffi::cparse;
use perilune::unstable_internals::ffi::ctype::{CTypeId, CTypeTable};
use perilune::unstable_internals::gc;
use perilune::unstable_internals::vm::error::Throw;
use perilune::unstable_internals::vm::state::State;
use std::ffi::{c_void, CStr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const DECLS: &str = r#"
int8_t t_i8(int8_t a, int8_t b);
uint8_t t_u8(uint8_t a, uint8_t b);
int16_t t_i16(int16_t a, int16_t b);
uint16_t t_u16(uint16_t a, uint16_t b);
int32_t t_i32(int32_t a, int32_t b);
uint32_t t_u32(uint32_t a, uint32_t b);
int64_t t_i64(int64_t a, int64_t b);
uint64_t t_u64(uint64_t a, uint64_t b);
float t_f32(float a, float b);
double t_f64(double a, double b);
long double t_ld(long double a, long double b);
bool t_bool(bool a);
const char *t_ptr(const char *s, int k);
void t_void(int *out, int v);
double t_many(int a, double b, float c, int64_t d, char e, unsigned short f, void *p,
              int g, double h, int i, double j, int k, double l, double m, double n,
              double o, double q, int r);
typedef struct { int x, y; } P2;
typedef struct { float x, y, z; } V3;
typedef struct { double d; int i; } DI;
typedef struct { char c[3]; } C3;
typedef struct { int a[10]; } Big;
typedef union { float f; int i; } UFI;
typedef struct { unsigned a : 3, b : 5; int c; } BF;
typedef struct { double x, y; } D2;
P2 t_p2(P2 a, P2 b);
V3 t_v3(V3 a, float s);
DI t_di(DI a);
C3 t_c3(C3 a);
Big t_big(Big b, int k);
int t_ufi(UFI u, int as_int);
UFI t_ufi_ret(float f);
int t_bf(BF s);
D2 t_d2(D2 a, D2 b);
double t_cabs2(_Complex float c);
int t_isum(int n, ...);
double t_dsum(int n, ...);
int64_t t_mixed_va(const char *fmt, ...);
int t_set_errno(int e);
int t_get_errno(void);
int t_apply(int (*f)(int), int x);
double t_applyd(double (*f)(double, float), double x);
int64_t t_apply64(int64_t (*f)(int64_t), int64_t x);
void t_sort(int *a, int n, int (*cmp)(const void *, const void *));
int t_count_calls(int (*f)(int), int n);
int t_renamed(int a, int b) __asm__("t_i32");
size_t strlen(const char *s);
int snprintf(char *buf, size_t n, const char *fmt, ...);
int t_missing(void);
enum { SEVEN = 7 };
"#;

fn have_cc() -> bool {
    Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The test library, compiled once per test binary into `dir/libcalltest.so`.
fn lib_path() -> Option<&'static Path> {
    static LIB: OnceLock<Option<PathBuf>> = OnceLock::new();
    LIB.get_or_init(|| {
        if cfg!(target_feature = "crt-static") {
            eprintln!("a statically linked build cannot load libraries: skipping the C call tests");
            return None;
        }
        if !have_cc() {
            eprintln!("no C compiler: skipping the C call tests");
            return None;
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ffi_call_{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ffi/calltest.c");
        let out = dir.join("libcalltest.so");
        let st = Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("cc");
        assert!(st.success(), "cc failed");
        Some(out)
    })
    .as_deref()
}

/// A heap, a type table with the declarations, a call cache and the test library.
/// Fields drop in order: everything using the heap before it.
struct Env {
    errno: Errno,
    cache: CallCache,
    lib: CLib,
    t: CTypeTable,
    heap: Box<Heap>,
}

impl Env {
    fn new() -> Option<Env> {
        let path = lib_path()?;
        let heap = Box::new(Heap::paged());
        let mut t = CTypeTable::new(&heap).expect("table");
        cparse::predefine(&mut t).expect("predefined");
        cparse::cdef(&mut t, DECLS.as_bytes())
            .map_err(|e| e.message(DECLS.as_bytes()))
            .expect("declarations");
        let lib = CLib::load(&heap, path.as_os_str().as_encoded_bytes(), false).expect("load");
        Some(Env {
            errno: Errno::default(),
            cache: CallCache::new(&heap),
            lib,
            t,
            heap,
        })
    }

    fn func_in(&mut self, lib: Option<&CLib>, name: &str) -> (DescRef, *mut c_void) {
        let lib = lib.unwrap_or(&self.lib);
        match lib.lookup(&self.heap, &self.t, name.as_bytes()).expect("symbol") {
            Symbol::Function { ty, addr, .. } => (self.cache.desc(&self.t, ty, &[]).expect("descriptor"), addr),
            other => panic!("{name} is {other:?}"),
        }
    }

    fn ty(&mut self, decl: &str) -> CTypeId {
        cparse::parse_type(&mut self.t, decl.as_bytes()).expect("type")
    }

    /// Call `name` with `args`; the result's first bytes as `R`.
    fn call<R: Copy>(&mut self, name: &str, args: &mut [*mut c_void]) -> R {
        let (d, f) = self.func_in(None, name);
        self.call_desc(d, f, args, None).expect("call")
    }

    fn call_desc<R: Copy>(
        &mut self,
        d: DescRef,
        f: *mut c_void,
        args: &mut [*mut c_void],
        cbs: Option<&Callbacks>,
    ) -> Result<R, Throw> {
        assert!(size_of::<R>() <= 128);
        let mut ret = [0u64; 16];
        assert!(d.ret_buffer_size() <= size_of_val(&ret));
        // SAFETY: the declarations match calltest.c; the arguments match them.
        unsafe {
            call::call(
                d,
                f,
                args,
                ret.as_mut_ptr().cast(),
                &self.errno,
                cbs.map(Callbacks::handle),
            )?
        };
        // SAFETY: `R` is the result type of `name` and fits in the buffer.
        Ok(unsafe { ret.as_ptr().cast::<R>().read() })
    }
}

/// A pointer to a local, as an argument.
macro_rules! a {
    ($x:expr) => {
        (&mut $x) as *mut _ as *mut c_void
    };
}

#[test]
fn every_scalar_type() {
    let Some(mut e) = Env::new() else { return };
    let (mut x, mut y) = (100i8, 27i8);
    assert_eq!(e.call::<i8>("t_i8", &mut [a!(x), a!(y)]), 127);
    y = 28;
    assert_eq!(e.call::<i8>("t_i8", &mut [a!(x), a!(y)]), -128);
    let (mut x, mut y) = (200u8, 100u8);
    assert_eq!(e.call::<u8>("t_u8", &mut [a!(x), a!(y)]), 44);
    let (mut x, mut y) = (-30000i16, -10000i16);
    assert_eq!(e.call::<i16>("t_i16", &mut [a!(x), a!(y)]), 25536);
    let (mut x, mut y) = (65535u16, 2u16);
    assert_eq!(e.call::<u16>("t_u16", &mut [a!(x), a!(y)]), 1);
    let (mut x, mut y) = (i32::MAX, -1i32);
    assert_eq!(e.call::<i32>("t_i32", &mut [a!(x), a!(y)]), i32::MAX - 1);
    let (mut x, mut y) = (u32::MAX, 1u32);
    assert_eq!(e.call::<u32>("t_u32", &mut [a!(x), a!(y)]), 0);
    let (mut x, mut y) = (1i64 << 40, -3i64);
    assert_eq!(e.call::<i64>("t_i64", &mut [a!(x), a!(y)]), -(3i64 << 40));
    let (mut x, mut y) = (u64::MAX - 1, 1u64);
    assert_eq!(e.call::<u64>("t_u64", &mut [a!(x), a!(y)]), u64::MAX);
    let (mut x, mut y) = (1.5f32, -2.0f32);
    assert_eq!(e.call::<f32>("t_f32", &mut [a!(x), a!(y)]), -3.0);
    let (mut x, mut y) = (1.0f64, 3.0f64);
    assert_eq!(e.call::<f64>("t_f64", &mut [a!(x), a!(y)]), 1.0 / 3.0);
    // long double: 80-bit x87 values in 16 bytes; 1.0 + 2.0 = 3.0, which starts with
    // the 64-bit mantissa 0xC000... and the exponent 0x4000.
    let one = [0u8, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f, 0, 0, 0, 0, 0, 0];
    let two = [0u8, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40, 0, 0, 0, 0, 0, 0];
    let (mut x, mut y) = (one, two);
    let r: [u8; 16] = e.call("t_ld", &mut [a!(x), a!(y)]);
    assert_eq!(&r[..10], &[0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x40]);
    let mut b = true;
    assert!(!e.call::<bool>("t_bool", &mut [a!(b)]));
    let s = c"hello";
    let (mut p, mut k) = (s.as_ptr(), 2i32);
    let r: *const i8 = e.call("t_ptr", &mut [a!(p), a!(k)]);
    // SAFETY: t_ptr returned a pointer into `s`.
    assert_eq!(unsafe { CStr::from_ptr(r) }, c"llo");
    let (mut out, mut v) = (0i32, 42i32);
    let mut outp: *mut i32 = &mut out;
    let (d, f) = e.func_in(None, "t_void");
    assert_eq!(d.ret_kind(), RetKind::Void);
    e.call_desc::<u64>(d, f, &mut [a!(outp), a!(v)], None).unwrap();
    assert_eq!(out, 42);
}

#[test]
fn more_arguments_than_registers() {
    let Some(mut e) = Env::new() else { return };
    let (mut a1, mut b, mut c, mut d, mut ch, mut f) = (1i32, 2.5f64, 0.25f32, 1i64 << 33, b'A' as i8, 65535u16);
    let mut p: *const c_void = &a1 as *const i32 as *const c_void;
    let (mut g, mut h, mut i, mut j, mut k) = (7i32, 8.5f64, 9i32, 10.5f64, 11i32);
    let (mut l, mut m, mut n, mut o, mut q, mut r) = (12.0f64, 13.0f64, 14.0f64, 15.0f64, 16.0f64, 17i32);
    let args = &mut [
        a!(a1),
        a!(b),
        a!(c),
        a!(d),
        a!(ch),
        a!(f),
        a!(p),
        a!(g),
        a!(h),
        a!(i),
        a!(j),
        a!(k),
        a!(l),
        a!(m),
        a!(n),
        a!(o),
        a!(q),
        a!(r),
    ];
    let want = 1.0
        + 2.5
        + 0.25
        + (1i64 << 33) as f64
        + 65.0
        + 65535.0
        + 1000.0
        + 7.0
        + 8.5
        + 9.0
        + 10.5
        + 11.0
        + 12.0
        + 13.0
        + 14.0
        + 15.0
        + 16.0
        + 17.0;
    assert_eq!(e.call::<f64>("t_many", args), want);
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct P2 {
    x: i32,
    y: i32,
}
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct V3 {
    x: f32,
    y: f32,
    z: f32,
}
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct DI {
    d: f64,
    i: i32,
}
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct D2 {
    x: f64,
    y: f64,
}

#[test]
fn structs_and_unions_by_value() {
    let Some(mut e) = Env::new() else { return };
    let (mut p, mut q) = (P2 { x: 1, y: 2 }, P2 { x: 10, y: 20 });
    assert_eq!(e.call::<P2>("t_p2", &mut [a!(p), a!(q)]), P2 { x: 11, y: 40 });
    let (mut v, mut s) = (V3 { x: 1.0, y: 2.0, z: 3.0 }, 2.0f32);
    assert_eq!(e.call::<V3>("t_v3", &mut [a!(v), a!(s)]), V3 { x: 2.0, y: 4.0, z: 6.0 });
    let mut di = DI { d: 1.25, i: 41 };
    assert_eq!(e.call::<DI>("t_di", &mut [a!(di)]), DI { d: 2.5, i: 42 });
    let mut c3 = *b"abc";
    assert_eq!(&e.call::<[u8; 3]>("t_c3", &mut [a!(c3)]), b"cba");
    let mut big: [i32; 10] = std::array::from_fn(|i| i as i32);
    let mut k = 7i32;
    let r: [i32; 10] = e.call("t_big", &mut [a!(big), a!(k)]);
    assert_eq!(r[7], 107);
    assert_eq!(r[6], 6);
    // A union of a float and an int is INTEGER class (the int wins), whichever member
    // the caller wrote.
    let (mut u, mut as_int) = (7.75f32, 0i32);
    assert_eq!(e.call::<i32>("t_ufi", &mut [a!(u), a!(as_int)]), 7);
    let (mut u, mut as_int) = (-5i32, 1i32);
    assert_eq!(e.call::<i32>("t_ufi", &mut [a!(u), a!(as_int)]), -5);
    let mut f = 3.5f32;
    assert_eq!(e.call::<f32>("t_ufi_ret", &mut [a!(f)]), 3.5);
    // Bitfields: a = 5, b = 17 packed into the first int, c = 3.
    let mut bf = [5u32 | (17 << 3), 3u32];
    assert_eq!(e.call::<i32>("t_bf", &mut [a!(bf)]), 500 + 170 + 3);
    let (mut x, mut y) = (D2 { x: 1.0, y: 2.0 }, D2 { x: 0.5, y: 0.25 });
    assert_eq!(e.call::<D2>("t_d2", &mut [a!(x), a!(y)]), D2 { x: 1.5, y: 2.25 });
    let mut c = [3.0f32, 4.0f32];
    assert_eq!(e.call::<f64>("t_cabs2", &mut [a!(c)]), 25.0);
}

#[test]
fn varargs_get_one_descriptor_per_signature() {
    let Some(mut e) = Env::new() else { return };
    let int = e.ty("int");
    let dbl = e.ty("double");
    let i64t = e.ty("int64_t");
    let p2 = e.ty("P2");
    let ccp = e.ty("const char *");
    let Symbol::Function { ty, addr, .. } = e.lib.lookup(&e.heap, &e.t, b"t_isum").unwrap() else {
        panic!()
    };
    let d3 = e.cache.desc(&e.t, ty, &[int, int, int]).unwrap();
    assert_eq!((d3.nfixed(), d3.nargs()), (1, 4));
    let (mut n, mut x, mut y, mut z) = (3i32, 1i32, 20i32, 300i32);
    assert_eq!(
        e.call_desc::<i32>(d3, addr, &mut [a!(n), a!(x), a!(y), a!(z)], None)
            .unwrap(),
        321
    );
    assert_eq!(e.cache.desc(&e.t, ty, &[int, int, int]).unwrap(), d3, "cached");
    let d1 = e.cache.desc(&e.t, ty, &[int]).unwrap();
    assert_ne!(d1, d3);
    let mut n = 1i32;
    assert_eq!(e.call_desc::<i32>(d1, addr, &mut [a!(n), a!(x)], None).unwrap(), 1);
    // Unpromoted vararg types are the caller's bug, refused.
    let ch = e.ty("char");
    let fl = e.ty("float");
    assert_eq!(e.cache.desc(&e.t, ty, &[ch]), Err(CallError::BadType));
    assert_eq!(e.cache.desc(&e.t, ty, &[fl]), Err(CallError::BadType));

    let Symbol::Function { ty, addr, .. } = e.lib.lookup(&e.heap, &e.t, b"t_dsum").unwrap() else {
        panic!()
    };
    let d = e.cache.desc(&e.t, ty, &[dbl, dbl]).unwrap();
    let (mut n, mut x, mut y) = (2i32, 0.5f64, 0.25f64);
    assert_eq!(
        e.call_desc::<f64>(d, addr, &mut [a!(n), a!(x), a!(y)], None).unwrap(),
        0.75
    );

    let Symbol::Function { ty, addr, .. } = e.lib.lookup(&e.heap, &e.t, b"t_mixed_va").unwrap() else {
        panic!()
    };
    let d = e.cache.desc(&e.t, ty, &[int, i64t, dbl, p2]).unwrap();
    let (mut fmt, mut i, mut l, mut f, mut p) = (c"ildp".as_ptr(), 1i32, 1i64 << 40, 2.9f64, P2 { x: 4, y: 5 });
    let r = e
        .call_desc::<i64>(d, addr, &mut [a!(fmt), a!(i), a!(l), a!(f), a!(p)], None)
        .unwrap();
    assert_eq!(r, 1 + (1i64 << 40) + 2 + 45);

    // snprintf from the default namespace, with a string and a double.
    let c = CLib::default_namespace();
    let Symbol::Function { ty, addr, .. } = c.lookup(&e.heap, &e.t, b"snprintf").unwrap() else {
        panic!()
    };
    let d = e.cache.desc(&e.t, ty, &[ccp, dbl, int]).unwrap();
    let mut buf = [0u8; 64];
    let (mut bp, mut len, mut fmt) = (buf.as_mut_ptr(), buf.len(), c"%s=%.2f/%d".as_ptr());
    let (mut s, mut x, mut k) = (c"pi".as_ptr(), std::f64::consts::PI, -7i32);
    let n = e
        .call_desc::<i32>(d, addr, &mut [a!(bp), a!(len), a!(fmt), a!(s), a!(x), a!(k)], None)
        .unwrap();
    assert_eq!(&buf[..n as usize], b"pi=3.14/-7");
}

#[test]
fn errno_is_saved_after_a_call_and_restored_before_the_next() {
    let Some(mut e) = Env::new() else { return };
    let mut v = 34i32;
    assert_eq!(e.call::<i32>("t_set_errno", &mut [a!(v)]), -1);
    assert_eq!(e.errno.get(), 34);
    // Anything Rust does in between may change the thread's errno.
    let _ = std::fs::metadata("/nonexistent/perilune");
    assert_eq!(e.call::<i32>("t_get_errno", &mut []), 34);
    e.errno.set(0);
    assert_eq!(e.call::<i32>("t_get_errno", &mut []), 0);
}

#[test]
fn the_default_namespace_and_asm_redirects() {
    let Some(mut e) = Env::new() else { return };
    let c = CLib::default_namespace();
    assert!(c.is_default());
    let (d, f) = e.func_in(Some(&c), "strlen");
    let mut s = c"perilune".as_ptr();
    assert_eq!(e.call_desc::<usize>(d, f, &mut [a!(s)], None).unwrap(), 8);
    // `int t_renamed(int, int) __asm__("t_i32")` is looked up as t_i32.
    let (mut x, mut y) = (40i32, 2i32);
    assert_eq!(e.call::<i32>("t_renamed", &mut [a!(x), a!(y)]), 42);
    // Constants are values, not symbols.
    match e.lib.lookup(&e.heap, &e.t, b"SEVEN").unwrap() {
        Symbol::Constant { value, .. } => assert_eq!(value, 7),
        other => panic!("{other:?}"),
    }
    // Errors in LuaJIT's words (what `luajit` prints on Linux: dlerror's text).
    let err = e.lib.lookup(&e.heap, &e.t, b"t_missing").unwrap_err();
    let msg = String::from_utf8_lossy(err.message()).into_owned();
    assert!(msg.ends_with("libcalltest.so: undefined symbol: t_missing"), "{msg}");
    let err = c.lookup(&e.heap, &e.t, b"nodecl").unwrap_err();
    assert_eq!(err.message(), b"missing declaration for symbol 'nodecl'");
    let err = c.lookup(&e.heap, &e.t, b"P2").unwrap_err();
    assert_eq!(err.message(), b"missing declaration for symbol 'P2'");
}

#[test]
fn library_names_are_canonicalised_as_luajit_does() {
    let heap = Heap::paged();
    let canon = |n: &str| {
        let v = clib::canonical_name(&heap, n.as_bytes()).unwrap();
        String::from_utf8(v[..v.len() - 1].to_vec()).unwrap()
    };
    assert_eq!(canon("z"), "libz.so");
    assert_eq!(canon("libz"), "libz.so");
    assert_eq!(canon("z.so.1"), "libz.so.1");
    assert_eq!(canon("libz.so.1"), "libz.so.1");
    assert_eq!(canon("./z"), "./z");
    assert_eq!(canon("/usr/lib/libz.so"), "/usr/lib/libz.so");
    if cfg!(target_feature = "crt-static") {
        return; // loading is refused there (a_static_build_refuses_to_load_libraries)
    }
    // Errors are dlopen's, as luajit prints them.
    let err = CLib::load(&heap, b"nosuchlib", false).unwrap_err();
    assert_eq!(
        err.message(),
        b"libnosuchlib.so: cannot open shared object file: No such file or directory"
    );
    let err = CLib::load(&heap, b"/nonexist/x.so", true).unwrap_err();
    assert_eq!(
        err.message(),
        b"/nonexist/x.so: cannot open shared object file: No such file or directory"
    );
    // libc and libm by their short names: on glibc systems `libc.so` and `libm.so`
    // are linker scripts (when the development files are installed).
    for name in ["c", "m"] {
        match CLib::load(&heap, name.as_bytes(), false) {
            Ok(l) => assert!(l.symbol(&heap, b"strlen").is_ok() || l.symbol(&heap, b"cos").is_ok()),
            Err(e) => {
                let m = String::from_utf8_lossy(e.message()).into_owned();
                assert!(m.contains("cannot open shared object file"), "{name}: {m}");
            }
        }
    }
}

#[test]
fn glibc_linker_scripts_name_the_real_library() {
    let Some(lib) = lib_path() else { return };
    let heap = Heap::paged();
    let dir = lib.parent().unwrap();
    let lib = lib.display();
    // The full form, as glibc installs libc.so, and a one-line INPUT.
    let scripts = [
        ("libscript1.so", format!("/* GNU ld script\n   Use the shared library.  */\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( {lib}  AS_NEEDED ( /nonexist.so ) )\n")),
        ("libscript2.so", format!("INPUT({lib})\n")),
    ];
    for (name, text) in &scripts {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let l = CLib::load(&heap, path.as_os_str().as_encoded_bytes(), false).expect(name);
        assert!(l.symbol(&heap, b"t_i32").is_ok());
    }
    // A text file that is not a script: dlopen's own message.
    let path = dir.join("libnotascript.so");
    std::fs::write(&path, "hello\n").unwrap();
    let err = CLib::load(&heap, path.as_os_str().as_encoded_bytes(), false).unwrap_err();
    let msg = String::from_utf8_lossy(err.message()).into_owned();
    assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
    // A script naming a library that does not exist: the second dlopen's message.
    let path = dir.join("libbadscript.so");
    std::fs::write(&path, "INPUT(/nonexist/libnothing.so)\n").unwrap();
    let err = CLib::load(&heap, path.as_os_str().as_encoded_bytes(), false).unwrap_err();
    assert_eq!(
        err.message(),
        b"/nonexist/libnothing.so: cannot open shared object file: No such file or directory"
    );
}

#[test]
fn a_collected_namespace_closes_its_library() {
    let Some(lib) = lib_path() else { return };
    // A copy of its own, so that no other test holds the library open.
    let copy = lib.with_file_name("libcalltest_gc.so");
    std::fs::copy(lib, &copy).unwrap();
    let cpath = std::ffi::CString::new(copy.as_os_str().as_encoded_bytes()).unwrap();
    let loaded = || {
        // SAFETY: RTLD_NOLOAD only asks; a handle it returns is released at once.
        unsafe {
            let h = libc::dlopen(cpath.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD);
            if !h.is_null() {
                libc::dlclose(h);
            }
            !h.is_null()
        }
    };
    let mut st = State::new().expect("state");
    let l = CLib::load(&st.heap, cpath.as_bytes(), false).unwrap();
    assert!(loaded());
    let u = st.new_userdata(clib::payload_len()).unwrap();
    clib::install(u, l).unwrap();
    assert!(clib::clib_of(u).is_some_and(|l| !l.is_default()));
    gc::full_collect(&mut st);
    assert!(!loaded(), "the collector closed the library");
    // And at close.
    let l = CLib::load(&st.heap, cpath.as_bytes(), false).unwrap();
    let u = st.new_userdata(clib::payload_len()).unwrap();
    clib::install(u, l).unwrap();
    let v = perilune::unstable_internals::value::Value::userdata(u);
    st.set_global("keep", v).unwrap();
    gc::full_collect(&mut st);
    assert!(loaded(), "reachable: still open");
    drop(st);
    assert!(!loaded(), "closing the state closed the library");
}

#[test]
fn descriptors_that_cannot_be_made() {
    let Some(mut e) = Env::new() else { return };
    let src = "typedef struct { char a; int b; } __attribute__((packed)) PK;
               int f_pk(PK);
               typedef struct { int x; } __attribute__((aligned(16))) AL;
               int f_al(AL);
               struct Inc; int f_inc(struct Inc);
               typedef struct { int n; int v[?]; } VLS;";
    cparse::cdef(&mut e.t, src.as_bytes()).unwrap();
    for (f, want) in [
        ("int(*)(PK)", CallError::Nyi),
        ("int(*)(AL)", CallError::Nyi),
        ("int(*)(struct Inc)", CallError::BadType),
        ("int", CallError::BadType),
    ] {
        let ty = e.ty(f);
        assert_eq!(e.cache.desc(&e.t, ty, &[]), Err(want), "{f}");
    }
    assert_eq!(CallError::Nyi.message(), "NYI: cannot call this C function (yet)");
    // Varargs given to a function without `...`.
    let int = e.ty("int");
    let f = e.ty("int(*)(int)");
    assert_eq!(e.cache.desc(&e.t, f, &[int]), Err(CallError::BadType));
}

#[test]
fn out_of_memory_building_descriptors_is_an_error_and_leaves_the_cache_usable() {
    let Some(mut e) = Env::new() else { return };
    let names = ["t_p2", "t_big", "t_v3", "t_many", "t_ufi", "t_di"];
    let base = e.heap.used();
    let mut failures = 0;
    let mut limit = base;
    loop {
        e.heap.set_limit(limit);
        let mut all = true;
        for n in names {
            let Symbol::Function { ty, .. } = e.lib.lookup(&e.heap, &e.t, n.as_bytes()).unwrap_or_else(|_| {
                e.heap.set_limit(usize::MAX);
                e.lib.lookup(&e.heap, &e.t, n.as_bytes()).unwrap()
            }) else {
                panic!()
            };
            e.heap.set_limit(limit);
            match e.cache.desc(&e.t, ty, &[]) {
                Ok(_) => {}
                Err(err) => {
                    assert_eq!(err, CallError::Oom, "{n}");
                    assert_eq!(err.message(), "not enough memory");
                    failures += 1;
                    all = false;
                }
            }
        }
        if all {
            break;
        }
        limit += 16;
        assert!(limit < base + (1 << 20), "never succeeded");
    }
    assert!(failures > 0);
    e.heap.set_limit(usize::MAX);
    let (mut p, mut q) = (P2 { x: 1, y: 2 }, P2 { x: 3, y: 4 });
    assert_eq!(e.call::<P2>("t_p2", &mut [a!(p), a!(q)]), P2 { x: 4, y: 8 });
    let used = e.heap.used();
    assert!(e.cache.byte_size() > 0 && e.cache.byte_size() <= used);
    drop(e.cache);
    drop(e.lib);
    drop(e.t);
    assert_eq!(e.heap.used(), 0, "everything freed at close");
}

// --- Callbacks ----------------------------------------------------------------------

/// A callback's behaviour: reads the arguments, writes the result.
type CbFn = Box<dyn FnMut(&[*mut c_void], *mut c_void) -> Result<(), Throw>>;

/// What the test dispatcher sees: a Rust closure per slot.
#[derive(Default)]
struct Host {
    calls: usize,
    /// Slot -> behaviour.
    funcs: Vec<Option<CbFn>>,
}

/// The dispatcher of these tests (the VM's will run the Lua function of the slot).
unsafe fn dispatch(
    ctx: *mut c_void,
    slot: u32,
    desc: DescRef,
    args: *const *mut c_void,
    ret: *mut c_void,
) -> Result<(), Throw> {
    // SAFETY: the tests install a live `Host` as the context.
    let host = unsafe { &mut *ctx.cast::<Host>() };
    host.calls += 1;
    // SAFETY: libffi hands `nargs` argument pointers.
    let args = unsafe { std::slice::from_raw_parts(args, desc.nargs()) };
    match host.funcs.get_mut(slot as usize).and_then(|f| f.as_mut()) {
        Some(f) => f(args, ret),
        None => Err(Throw::Oom),
    }
}

fn set_func(host: &mut Host, slot: u32, f: impl FnMut(&[*mut c_void], *mut c_void) -> Result<(), Throw> + 'static) {
    let i = slot as usize;
    if host.funcs.len() <= i {
        host.funcs.resize_with(i + 1, || None);
    }
    host.funcs[i] = Some(Box::new(f));
}

/// Read argument `i` as `T`.
fn arg<T: Copy>(args: &[*mut c_void], i: usize) -> T {
    // SAFETY: the tests read each argument as its declared type.
    unsafe { args[i].cast::<T>().read() }
}

/// A callback table with the test dispatcher and its host (declare them after the
/// `Env`, so that they drop first), and the descriptor of `fty`.
fn callbacks(e: &mut Env, fty: &str) -> (Callbacks, Box<Host>, DescRef) {
    let cbs = Callbacks::new(&e.heap).unwrap();
    let mut host = Box::<Host>::default();
    cbs.set_dispatch(dispatch, (&mut *host as *mut Host).cast());
    let ty = e.ty(fty);
    let d = e.cache.desc(&e.t, ty, &[]).unwrap();
    (cbs, host, d)
}

#[test]
fn callbacks_run_and_return_every_scalar_kind() {
    let Some(mut e) = Env::new() else { return };
    let (mut cbs, mut host, d) = callbacks(&mut e, "int(*)(int)");
    let (slot, code) = cbs.create(d).unwrap();
    set_func(&mut host, slot, |a, r| {
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write(arg::<i32>(a, 0) * 10) };
        Ok(())
    });
    let (da, fa) = e.func_in(None, "t_apply");
    let (mut fp, mut x) = (code, 4i32);
    assert_eq!(
        e.call_desc::<i32>(da, fa, &mut [a!(fp), a!(x)], Some(&cbs)).unwrap(),
        90
    );
    assert_eq!(host.calls, 2);

    let dd = e.ty("double(*)(double, float)");
    let d = e.cache.desc(&e.t, dd, &[]).unwrap();
    let (slot, code) = cbs.create(d).unwrap();
    set_func(&mut host, slot, |a, r| {
        // SAFETY: a `double` result buffer.
        unsafe { r.cast::<f64>().write(arg::<f64>(a, 0) + arg::<f32>(a, 1) as f64) };
        Ok(())
    });
    let (da, fa) = e.func_in(None, "t_applyd");
    let (mut fp, mut x) = (code, 2.0f64);
    assert_eq!(
        e.call_desc::<f64>(da, fa, &mut [a!(fp), a!(x)], Some(&cbs)).unwrap(),
        2.5
    );

    let d64 = e.ty("int64_t(*)(int64_t)");
    let d = e.cache.desc(&e.t, d64, &[]).unwrap();
    let (slot, code) = cbs.create(d).unwrap();
    set_func(&mut host, slot, |a, r| {
        // SAFETY: an `int64_t` result buffer.
        unsafe { r.cast::<i64>().write(arg::<i64>(a, 0) << 20) };
        Ok(())
    });
    let (da, fa) = e.func_in(None, "t_apply64");
    let (mut fp, mut x) = (code, 1i64 << 40);
    assert_eq!(
        e.call_desc::<i64>(da, fa, &mut [a!(fp), a!(x)], Some(&cbs)).unwrap(),
        1i64 << 60
    );

    // A comparator for the C library's qsort.
    let cmp = e.ty("int(*)(const void *, const void *)");
    let d = e.cache.desc(&e.t, cmp, &[]).unwrap();
    let (slot, code) = cbs.create(d).unwrap();
    set_func(&mut host, slot, |a, r| {
        let (x, y) = (arg::<*const i32>(a, 0), arg::<*const i32>(a, 1));
        // SAFETY: qsort hands pointers to elements of the array.
        let (x, y) = unsafe { (*x, *y) };
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write((y > x) as i32 - (y < x) as i32) };
        Ok(())
    });
    let mut v = [5i32, -3, 9, 0, 9, 12, -40, 7];
    let (ds, fs) = e.func_in(None, "t_sort");
    let (mut vp, mut n, mut fp) = (v.as_mut_ptr(), v.len() as i32, code);
    e.call_desc::<u64>(ds, fs, &mut [a!(vp), a!(n), a!(fp)], Some(&cbs))
        .unwrap();
    assert_eq!(v, [12, 9, 9, 7, 5, 0, -3, -40]);
    assert_eq!(cbs.live(), 4);
    assert_eq!(cbs.stray_calls(), 0);
}

#[test]
fn a_failing_callback_is_held_and_raised_when_the_c_call_returns() {
    let Some(mut e) = Env::new() else { return };
    let (mut cbs, mut host, d) = callbacks(&mut e, "int(*)(int)");
    let (slot, code) = cbs.create(d).unwrap();
    // Fails on its third call, with out of memory.
    set_func(&mut host, slot, |a, r| {
        let i: i32 = arg(a, 0);
        if i == 2 {
            return Err(Throw::Oom);
        }
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write(i + 1) };
        Ok(())
    });
    let (dc, fc) = e.func_in(None, "t_count_calls");
    let (mut fp, mut n) = (code, 10i32);
    let r = e.call_desc::<i32>(dc, fc, &mut [a!(fp), a!(n)], Some(&cbs));
    assert!(matches!(r, Err(Throw::Oom)), "{r:?}");
    // Lua ran three times; the seven calls after the failure returned 0 without it.
    assert_eq!(host.calls, 3);
    assert!(cbs.take_held().is_none(), "raised once");
    // The next call is clean.
    host.calls = 0;
    set_func(&mut host, slot, |a, r| {
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write(arg::<i32>(a, 0)) };
        Ok(())
    });
    assert_eq!(
        e.call_desc::<i32>(dc, fc, &mut [a!(fp), a!(n)], Some(&cbs)).unwrap(),
        45
    );
    assert_eq!(host.calls, 10);

    // A freed slot: the dispatcher finds no function (here: `Throw::Oom`, the VM's
    // says `bad callback`); freeing it twice is `bad callback`.
    cbs.free(slot).unwrap();
    assert_eq!(cbs.free(slot), Err(CallbackError::Dead));
    assert_eq!(CallbackError::Dead.message(), "bad callback");
    host.funcs[slot as usize] = None;
    let r = e.call_desc::<i32>(dc, fc, &mut [a!(fp), a!(n)], Some(&cbs));
    assert!(matches!(r, Err(Throw::Oom)));
    // A freed slot is reused.
    let (slot2, code2) = cbs.create(d).unwrap();
    assert_eq!((slot2, code2), (slot, code));
    assert_eq!(cbs.live(), 1);

    // Called with no C call of the state running: does not run Lua, returns 0.
    host.calls = 0;
    set_func(&mut host, slot2, |_, r| {
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write(99) };
        Ok(())
    });
    // SAFETY: `code2` is a callback of type int(*)(int).
    let f: extern "C" fn(i32) -> i32 = unsafe { std::mem::transmute(code2) };
    assert_eq!(f(1), 0);
    assert_eq!(host.calls, 0);
    assert_eq!(cbs.stray_calls(), 1);
}

#[test]
fn callbacks_refuse_varargs_and_aggregates_by_value() {
    let Some(mut e) = Env::new() else { return };
    let mut cbs = Callbacks::new(&e.heap).unwrap();
    for f in ["int(*)(int, ...)", "P2(*)(int)", "int(*)(P2)"] {
        let ty = e.ty(f);
        let d = if f.contains("...") {
            let int = e.ty("int");
            e.cache.desc(&e.t, ty, &[int]).unwrap()
        } else {
            e.cache.desc(&e.t, ty, &[]).unwrap()
        };
        assert_eq!(cbs.create(d), Err(CallbackError::BadType), "{f}");
    }
    assert_eq!(cbs.live(), 0);
}

#[test]
fn too_many_callbacks_and_out_of_memory_making_one() {
    use perilune::unstable_internals::ffi::callback::MAX_CALLBACKS;
    let Some(mut e) = Env::new() else { return };
    let mut cbs = Callbacks::new(&e.heap).unwrap();
    let ty = e.ty("void(*)(void)");
    let d = e.cache.desc(&e.t, ty, &[]).unwrap();
    // Out of memory at every step of making the first few.
    let mut made = 0;
    let mut limit = e.heap.used();
    while made < 3 {
        e.heap.set_limit(limit);
        match cbs.create(d) {
            Ok(_) => made += 1,
            Err(err) => {
                assert_eq!(err, CallbackError::Oom);
                limit += 8;
            }
        }
    }
    e.heap.set_limit(usize::MAX);
    assert_eq!(cbs.live(), 3);
    for _ in 3..MAX_CALLBACKS {
        cbs.create(d).unwrap();
    }
    assert_eq!(cbs.create(d), Err(CallbackError::TooMany));
    assert_eq!(CallbackError::TooMany.message(), "too many callbacks");
    cbs.free(17).unwrap();
    assert_eq!(cbs.create(d).map(|(s, _)| s), Ok(17));
    drop(cbs);
    drop(e.cache);
    drop(e.lib);
    drop(e.t);
    assert_eq!(e.heap.used(), 0, "every slot freed at close");
}

#[test]
fn a_callback_calling_c_that_calls_a_failing_callback() {
    // Lua -> t_apply -> callback A -> (Lua) -> t_apply -> callback B, which fails.
    // The inner call raises B's error into A's Lua code when it returns; A does not
    // catch it, so it is held again and raised when the outer call returns. Nothing
    // unwinds through C frames on the way.
    let Some(mut e) = Env::new() else { return };
    let (mut cbs, mut host, d) = callbacks(&mut e, "int(*)(int)");
    let (slot_a, code_a) = cbs.create(d).unwrap();
    let (slot_b, code_b) = cbs.create(d).unwrap();
    let (da, fa) = e.func_in(None, "t_apply");
    let handle = cbs.handle();
    let errno: *const Errno = &e.errno;
    let caught = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = caught.clone();
    set_func(&mut host, slot_a, move |a, r| {
        let (mut fp, mut x) = (code_b, arg::<i32>(a, 0));
        let mut out = [0u64; 2];
        // SAFETY: t_apply's signature; `errno` outlives the calls of this test.
        let res = unsafe {
            call::call(
                da,
                fa,
                &mut [a!(fp), a!(x)],
                out.as_mut_ptr().cast(),
                &*errno,
                Some(handle),
            )
        };
        if res.is_err() {
            seen.set(seen.get() + 1);
        }
        res?;
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write(out[0] as i32) };
        Ok(())
    });
    set_func(&mut host, slot_b, |a, r| {
        if arg::<i32>(a, 0) == 6 {
            return Err(Throw::Abort);
        }
        // SAFETY: an `int` result buffer.
        unsafe { r.cast::<i32>().write(1) };
        Ok(())
    });
    // A(1): B(1) + B(2) = 2; A(2): B(2) + B(3) = 2: 4 in all.
    let (mut fp, mut x) = (code_a, 1i32);
    assert_eq!(e.call_desc::<i32>(da, fa, &mut [a!(fp), a!(x)], Some(&cbs)).unwrap(), 4);
    // A(5): B(5) = 1, B(6) fails: the inner call raises into A, A fails, held again.
    host.calls = 0;
    let mut x = 5i32;
    let r = e.call_desc::<i32>(da, fa, &mut [a!(fp), a!(x)], Some(&cbs));
    assert!(matches!(r, Err(Throw::Abort)), "{r:?}");
    assert_eq!(caught.get(), 1, "raised into the outer callback once");
    // A(5) ran, B(5), B(6) ran; A(6) was not run (an error was held).
    assert_eq!(host.calls, 3);
    assert!(cbs.take_held().is_none());
}

#[test]
fn a_static_build_refuses_to_load_libraries() {
    // Only meaningful in the static variant of docs/build.md ("The link mode"), where
    // a loaded library would get a second libc; the dynamic build loads (above).
    if !cfg!(target_feature = "crt-static") {
        return;
    }
    let heap = Heap::paged();
    let err = CLib::load(&heap, b"z", false).unwrap_err();
    assert_eq!(
        err.message(),
        b"z: cannot load a library into a statically linked perilune (docs/build.md, \"The link mode\")"
    );
}

/// The same library from Lua: `ffi.load(path)`, calls of every kind through the
/// namespace, callbacks, errno, a collected namespace.
#[test]
fn lua_calls_the_test_library_through_ffi_load() {
    let Some(path) = lib_path() else { return };
    // SAFETY: the test trusts its own scripts with the FFI.
    let lua = unsafe { perilune::Lua::unsafe_new_trusted(perilune::StdLib::ALL, perilune::LuaOptions::new()) }
        .expect("state");
    lua.globals()
        .set("LIBPATH", path.to_str().expect("utf-8 path"))
        .expect("set");
    lua.globals().set("DECLS", DECLS).expect("set");
    let (out, missing): (String, String) = lua
        .load(
            r#"
            local ffi = require("ffi")
            ffi.cdef(DECLS)
            local L = ffi.load(LIBPATH)
            local r = {}
            local function add(...) for _, v in ipairs({...}) do r[#r + 1] = tostring(v) end end
            add(L.t_i8(100, 100), L.t_u8(200, 100), L.t_i16(-3, 1), L.t_u32(4000000000, 1))
            add(L.t_i64(3, -5), L.t_u64(1, 2), L.t_f32(1.5, 2), L.t_f64(1, 4), L.t_bool(false))
            -- (long double: no number converts to it, as in LuaJIT)
            add(ffi.string(L.t_ptr("hello", 2)))
            local out = ffi.new("int[1]")
            L.t_void(out, 42)
            add(out[0], select('#', L.t_void(out, 43)), out[0])
            add(L.t_many(1, 2, 3, 4, 5, 6, nil, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18))
            local p = L.t_p2({1, 2}, {3, 4})
            add(p.x, p.y, L.t_v3({1, 2, 3}, 2).z, L.t_di({1.5, 2}).d, L.t_c3({{1, 2, 3}}).c[0])
            local big = ffi.new("Big")
            add(L.t_big(big, 9).a[9], L.t_ufi(ffi.new("UFI", {f = 2.5}), 0), L.t_bf({1, 2, 3}))
            add(L.t_isum(3, ffi.new("int", 1), ffi.new("int", 2), ffi.new("int", 3)), L.t_dsum(2, 1.5, 2.25))
            add(L.t_set_errno(33), ffi.errno(), L.t_get_errno())
            add(L.t_apply(function(x) return x * 10 end, 1))
            add(L.t_applyd(function(x, y) return x + y end, 1))
            add(L.t_apply64(function(x) return x * 2 end, 21))
            local a = ffi.new("int[5]", {4, 2, 5, 1, 3})
            L.t_sort(a, 5, function(x, y)
              return ffi.cast("const int *", x)[0] - ffi.cast("const int *", y)[0]
            end)
            add(a[0], a[4])
            local calls = 0
            local ok, e = pcall(L.t_count_calls, function(i)
              calls = calls + 1
              if i == 2 then error("third") end
              return 1
            end, 5)
            add(ok, (e:gsub("^.-: ", "")), calls)
            add(L.t_renamed(2, 3), L.SEVEN)
            local ok2, e2 = pcall(function() return L.t_missing end)
            return table.concat(r, " "), tostring(ok2) .. " " .. e2
            "#,
        )
        .eval()
        .expect("script");
    let expected = "-56 44 -2 4000000001 -15LL 3ULL 3 0.25 true llo 42 0 43 \
        164 4 8 6 3 3 100 2 123 6 3.75 -1 33 33 30 1.5 42LL 1 5 false third 3 5 7";
    assert_eq!(out, expected);
    assert!(
        missing.starts_with("false ") && missing.ends_with("libcalltest.so: undefined symbol: t_missing"),
        "{missing}"
    );
}
