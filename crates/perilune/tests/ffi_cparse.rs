//! The FFI's C declaration parser and type table (docs/ffi.md), through the crate's
//! internals: struct layouts compared with the C compiler's (`sizeof`, `_Alignof`,
//! `offsetof` of the same declarations, compiled by `cc` at test time), system
//! headers after `cc -E` accepted, errors in LuaJIT's words (taken from `luajit -e
//! 'ffi.cdef[[...]]'`), transactional `cdef`, bounded nesting, out of memory at every
//! allocation.

use perilune::unstable_internals::alloc::Heap;
use perilune::unstable_internals::ffi::cparse::{self, CError, CErrorKind};
use perilune::unstable_internals::ffi::ctype::{flags, CKind, CTypeId, CTypeTable, Namespace, SIZE_UNKNOWN};
use std::process::Command;

fn table(heap: &Heap) -> CTypeTable {
    let mut t = CTypeTable::new(heap).expect("table");
    cparse::predefine(&mut t).expect("predefined types");
    t
}

fn cdef(t: &mut CTypeTable, src: &str) -> Result<(), String> {
    cparse::cdef(t, src.as_bytes()).map_err(|e: CError| e.message(src.as_bytes()))
}

/// Follow typedefs and qualifier records.
fn resolve(t: &CTypeTable, mut id: CTypeId) -> CTypeId {
    while matches!(t.get(id).kind, CKind::Typedef | CKind::Qual) {
        id = t.get(id).child;
    }
    id
}

/// The struct or union named by the typedef `name`.
fn typedef(t: &CTypeTable, name: &str) -> CTypeId {
    let id = t
        .lookup(name.as_bytes(), Namespace::Ordinary)
        .unwrap_or_else(|| panic!("no typedef {name}"));
    resolve(t, id)
}

/// (name, byte offset) of each named, non-bitfield member of a struct, descending
/// into transparent members with their offset added.
fn members(t: &CTypeTable, s: CTypeId, base: i64, out: &mut Vec<(String, i64)>) {
    let mut cur = t.get(s).first;
    while !cur.is_none() {
        let f = t.get(cur);
        let name = String::from_utf8_lossy(t.name(f.name)).into_owned();
        if f.kind == CKind::Field {
            if name.is_empty() {
                members(t, resolve(t, f.child), base + f.value, out);
            } else {
                out.push((name, base + f.value));
            }
        }
        cur = f.next;
    }
}

fn have_cc() -> bool {
    Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Struct declarations whose layout must match the C compiler's, each a typedef `Tn`.
const LAYOUTS: &[&str] = &[
    "typedef struct { char a; int b; char c; } T;",
    "typedef struct { char a; double b; } T;",
    "typedef struct { char a; long double b; char c; } T;",
    "typedef struct { short a; char b[3]; long long c; float d; } T;",
    "typedef union { char a[5]; int b; double c; } T;",
    "typedef struct { char a; struct { char b; int c; } s; char d; } T;",
    "typedef struct { char a; struct { char b; double c; }; char d; } T;",
    "typedef struct { int a; union { char b; long c; }; short d; } T;",
    "typedef struct { char a; int b[]; } T;",
    "typedef struct { char a; int *p; void (*f)(int, ...); char c; } T;",
    "typedef struct __attribute__((packed)) { char a; int b; double c; } T;",
    "typedef struct { char a; int b; } __attribute__((packed)) T;",
    "typedef struct { char a; int b __attribute__((aligned(16))); char c; } T;",
    "typedef struct { char a; } __attribute__((aligned(32))) T;",
    "typedef struct { char a; int b __attribute__((packed)); } T;",
    "#pragma pack(1)\ntypedef struct { char a; double b; } T;\n#pragma pack()",
    "#pragma pack(push, 2)\ntypedef struct { char a; double b; int c; } T;\n#pragma pack(pop)",
    "#pragma pack(push, 4)\n#pragma pack(push, 1)\n#pragma pack(pop)\ntypedef struct { char a; double b; } T;\n#pragma pack(pop)",
    "typedef struct { int a : 3; int b : 5; char c; } T;",
    "typedef struct { char a; int b : 30; int c : 4; } T;",
    "typedef struct { char a : 4; int : 0; char b; } T;",
    "typedef struct { unsigned long long a : 40; unsigned b : 30; char c; } T;",
    "typedef struct { short a : 9; short b : 9; short c : 9; } T;",
    "typedef union { int a : 3; char b; } T;",
    "typedef struct { char a; _Bool b; unsigned char c : 1; long long d; } T;",
    "enum E { EA = 1, EB = EA << 4, EC = (EB | 3) * 2 };\ntypedef struct { char a; enum E e; int arr[EC]; } T;",
    "enum { K = 7 };\ntypedef struct { char a[K + 1]; int b[sizeof(int) * 2]; short c[(K > 3) + (char)257]; } T;",
    "typedef struct { double _Complex z; char c; float _Complex w; } T;",
    "typedef int A3[3];\ntypedef struct { char c; A3 a[2]; const volatile int *const p; } T;",
    "struct N { int x; };\ntypedef struct { struct N n[2]; char c; struct N *next; } T;",
    "typedef struct { int n; char s[?]; } T;",
];

#[test]
fn layouts_match_the_c_compiler() {
    if !have_cc() {
        eprintln!("no cc: layout probes skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("perilune-ffi-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, decl) in LAYOUTS.iter().enumerate() {
        let heap = Heap::paged();
        let mut t = table(&heap);
        cdef(&mut t, decl).unwrap_or_else(|e| panic!("{decl}: {e}"));
        let s = typedef(&t, "T");
        let st = t.get(s);
        let mut fields = Vec::new();
        members(&t, s, 0, &mut fields);
        let vls = decl.contains("[?]");
        // The compiler's view: a VLS becomes a flexible array member.
        let c_decl = decl.replace("[?]", "[]");
        let mut c = format!(
            "#include <stdio.h>\n#include <stddef.h>\n#include <stdbool.h>\n{c_decl}\nint main(void) {{\n\
             printf(\"%zu %zu\\n\", sizeof(T), _Alignof(T));\n"
        );
        for (name, _) in &fields {
            c.push_str(&format!("printf(\"%zu\\n\", offsetof(T, {name}));\n"));
        }
        c.push_str("return 0;\n}\n");
        let src = dir.join(format!("t{i}.c"));
        let exe = dir.join(format!("t{i}"));
        std::fs::write(&src, &c).unwrap();
        let out = Command::new("cc").arg("-o").arg(&exe).arg(&src).output().unwrap();
        assert!(
            out.status.success(),
            "{decl}: cc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let run = Command::new(&exe).output().unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        let mut lines = text.lines();
        let mut head = lines.next().unwrap().split(' ').map(|x| x.parse::<u64>().unwrap());
        let (size, align) = (head.next().unwrap(), head.next().unwrap());
        assert_eq!(st.size as u64, size, "sizeof: {decl}");
        assert_eq!(st.alignment() as u64, align, "alignof: {decl}");
        assert_eq!(st.flags & flags::VLA != 0, vls, "{decl}");
        for (name, off) in &fields {
            let want: i64 = lines.next().unwrap().parse().unwrap();
            assert_eq!(*off, want, "offsetof({name}): {decl}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cc -E` of system headers, with and without line markers, is accepted.
#[test]
fn preprocessed_system_headers_are_accepted() {
    if !have_cc() {
        eprintln!("no cc: header test skipped");
        return;
    }
    let mut headers = vec!["unistd.h", "math.h", "stdio.h", "stdlib.h", "string.h"];
    if std::path::Path::new("/usr/include/zlib.h").exists() {
        headers.push("zlib.h");
    }
    for h in headers {
        for markers in [false, true] {
            let mut cmd = Command::new("cc");
            cmd.arg("-E");
            if !markers {
                cmd.arg("-P");
            }
            let out = cmd
                .arg("-")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write;
                    c.stdin
                        .take()
                        .unwrap()
                        .write_all(format!("#include <{h}>\n").as_bytes())?;
                    c.wait_with_output()
                })
                .unwrap();
            assert!(out.status.success(), "cc -E {h}");
            let heap = Heap::paged();
            let mut t = table(&heap);
            let src = String::from_utf8_lossy(&out.stdout);
            cdef(&mut t, &src).unwrap_or_else(|e| panic!("{h} (line markers {markers}): {e}"));
            if h == "stdio.h" {
                let f = t.lookup(b"printf", Namespace::Ordinary).expect("printf");
                let fun = t.get(t.get(f).child);
                assert_eq!(fun.kind, CKind::Func);
                assert_ne!(fun.flags & flags::VARARG, 0);
            }
        }
    }
}

/// Messages as `luajit -e 'ffi=require"ffi" print(pcall(ffi.cdef, ...))'` prints them.
#[test]
fn errors_in_luajits_words() {
    let cases: &[(&str, &str)] = &[
        ("foo x;", "declaration specifier expected near 'foo'"),
        ("int 3;", "'<identifier>' expected near '3'"),
        ("int \"x\";", "'<identifier>' expected near 'x'"),
        ("@", "declaration specifier expected near '@'"),
        ("int x = 3;", "';' expected near '='"),
        ("int x;\nint y z;", "';' expected near 'z' at line 2"),
        ("struct S { int a; ", "declaration specifier expected near '<eof>'"),
        ("int f(int", "')' expected near '<eof>'"),
        ("int a[3", "']' expected near '<eof>'"),
        ("struct S {int a;}; struct S {int a;};", "attempt to redefine 'S'"),
        ("int a[?][?];", "size of C type is unknown or too large"),
        ("struct S3 { struct S3 s; };", "size of C type is unknown or too large"),
        ("enum E { A = 1/0 };", "invalid value"),
        ("int b[x];", "unexpected symbol near 'x'"),
        ("int x[1e3];", "malformed number near '1e3'"),
        ("extern int qq;\n\nextern static int r;", "invalid C type at line 3"),
    ];
    for (src, want) in cases {
        let heap = Heap::paged();
        let mut t = table(&heap);
        assert_eq!(cdef(&mut t, src).unwrap_err(), *want, "{src}");
    }
    let deep = [
        format!("enum Z {{ Z1 = {}1{} }};", "(".repeat(300), ")".repeat(300)),
        format!("int {}x{};", "(".repeat(300), ")".repeat(300)),
        format!("int {}x;", "*".repeat(300)),
        format!("int x{};", "[1]".repeat(300)),
        format!("enum Z2 {{ Z2a = {}1 }};", "-".repeat(3000)),
        format!(
            "struct A {{ {} int x; {} }};",
            "struct { ".repeat(300),
            "} a;".repeat(300)
        ),
    ];
    for src in &deep {
        let heap = Heap::paged();
        let mut t = table(&heap);
        let e = cdef(&mut t, src).unwrap_err();
        assert!(e.starts_with("chunk has too many syntax levels"), "{e}");
    }
}

/// What LuaJIT accepts that a strict C compiler would not, and the extensions.
#[test]
fn luajit_extensions_are_accepted() {
    let heap = Heap::paged();
    let mut t = table(&heap);
    let src = "typedef int foo; typedef int foo; int f(int); int f(int);\n\
               struct T { int a; int a; };\n\
               int g() __asm__(\"real_g\");\n\
               extern int errno_like __asm__(\"real_errno\");\n\
               static const int K = 5; int b[K];\n\
               int (*fp)(int, ...);\n\
               enum E2 { A2 = 1<<40 }; enum E3 { B3 = -1, C3 = 4000000000 };\n\
               enum E4 { D4=(3+4)*2, E4b=D4/3, F4 = sizeof(int), G4 = D4 ? 1 : 2 };\n\
               typedef struct { int n; double d[?]; } vls_t; typedef char buf_t[?];\n\
               typedef struct Opaque Opaque; int use(Opaque *);\n\
               void *p; const char *const *argv; int8_t i8; uint64_t u64; size_t sz;";
    cdef(&mut t, src).unwrap();
    let g = t.get(t.lookup(b"g", Namespace::Ordinary).unwrap());
    assert_eq!(t.name(g.sym), b"real_g");
    let k = |n: &str| t.get(t.lookup(n.as_bytes(), Namespace::Ordinary).unwrap()).value;
    assert_eq!(
        (k("K"), k("D4"), k("E4b"), k("F4"), k("G4"), k("B3")),
        (5, 14, 4, 4, 1, -1)
    );
    assert_eq!(k("C3"), 4000000000);
    let b = t.get(t.lookup(b"b", Namespace::Ordinary).unwrap());
    assert_eq!(t.get(b.child).size, 20);
    let buf = typedef(&t, "buf_t");
    assert_eq!(t.get(buf).size, SIZE_UNKNOWN);
    let vls = typedef(&t, "vls_t");
    assert_eq!((t.get(vls).size, t.get(vls).alignment()), (8, 8));
    // Declarators read inside out.
    let fp = t.get(t.lookup(b"fp", Namespace::Ordinary).unwrap()).child;
    assert_eq!(t.get(fp).kind, CKind::Ptr);
    let f = t.get(t.get(fp).child);
    assert_eq!((f.kind, f.flags & flags::VARARG != 0), (CKind::Func, true));
    cdef(
        &mut t,
        "void (*signal(int sig, void (*func)(int)))(int); char *(*table[4])(void);",
    )
    .unwrap();
    let sig = t.get(t.get(t.lookup(b"signal", Namespace::Ordinary).unwrap()).child);
    assert_eq!(sig.kind, CKind::Func);
    let ret = t.get(sig.child);
    assert_eq!((ret.kind, t.get(ret.child).kind), (CKind::Ptr, CKind::Func));
    let p1 = t.get(sig.first);
    let p2 = t.get(p1.next);
    assert_eq!((t.name(p1.name), t.name(p2.name)), (&b"sig"[..], &b"func"[..]));
    assert_eq!(t.get(p2.child).kind, CKind::Ptr);
    let tab = t.get(t.get(t.lookup(b"table", Namespace::Ordinary).unwrap()).child);
    assert_eq!(
        (tab.kind, tab.size, t.get(tab.child).kind),
        (CKind::Array, 32, CKind::Ptr)
    );
    // Equal types get one id.
    let p1 = cparse::parse_type(&mut t, b"const char *").unwrap();
    let p2 = cparse::parse_type(&mut t, b"const char*").unwrap();
    assert_eq!(p1, p2);
    let a = cparse::parse_type(&mut t, b"int[3]").unwrap();
    assert_eq!((t.get(a).kind, t.get(a).size), (CKind::Array, 12));
}

/// A failed `cdef` leaves the table as it was: no new name, the same records, an
/// incomplete struct still incomplete.
#[test]
fn cdef_is_transactional() {
    let heap = Heap::paged();
    let mut t = table(&heap);
    cdef(&mut t, "struct S; typedef struct S S; int keep;").unwrap();
    let len = t.len();
    let bytes = heap.used();
    let s = t.lookup(b"S", Namespace::Tag).unwrap();
    let err = cdef(&mut t, "struct S { int a; }; typedef int newname; int f(int x, @);").unwrap_err();
    assert_eq!(err, "declaration specifier expected near '@'");
    assert_eq!(t.len(), len);
    assert!(t.lookup(b"newname", Namespace::Ordinary).is_none());
    assert!(t.lookup(b"f", Namespace::Ordinary).is_none());
    assert_eq!(t.get(s).size, SIZE_UNKNOWN);
    // Many names, so that the indexes grow and rehash inside the failed batch.
    let mut big = String::new();
    for i in 0..3000 {
        big.push_str(&format!("typedef int t{i}; struct s{i} {{ int a; }}; int *p{i};\n"));
    }
    big.push('@');
    assert!(cdef(&mut t, &big).is_err());
    assert_eq!(t.len(), len);
    assert!(t.lookup(b"t5", Namespace::Ordinary).is_none());
    assert!(t.lookup(b"keep", Namespace::Ordinary).is_some());
    assert!(heap.used() >= bytes);
    // And then it works.
    cdef(&mut t, &big[..big.len() - 1]).unwrap();
    assert!(t.lookup(b"t2999", Namespace::Ordinary).is_some());
    cdef(&mut t, "struct S { int a; };").unwrap();
    assert_eq!(t.get(s).size, 4);
}

/// Every allocation of a `cdef` may fail: the result is `not enough memory` or
/// success, never a panic, and a failed batch leaves the table usable.
#[test]
fn out_of_memory_at_every_allocation() {
    let src = "typedef struct { int a; double b; char c[10]; } A; struct L { struct L *next; A a[4]; };\n\
               enum E { X = 1, Y, Z }; int f(const char *fmt, ...); typedef int (*cb)(struct L *, A);";
    let mut done = false;
    for extra in (0..200_000).step_by(48) {
        let heap = Heap::new(Box::new(perilune::SystemAllocator));
        let Ok(mut t) = CTypeTable::new(&heap) else { continue };
        if cparse::predefine(&mut t).is_err() {
            continue;
        }
        heap.set_limit(heap.used() + extra);
        match cparse::cdef(&mut t, src.as_bytes()) {
            Ok(()) => {
                done = true;
                break;
            }
            Err(e) => {
                assert_eq!(e.kind, CErrorKind::OutOfMemory);
                assert!(t.lookup(b"A", Namespace::Ordinary).is_none());
                heap.set_limit(usize::MAX);
                cdef(&mut t, "int after;").unwrap();
            }
        }
    }
    assert!(done, "never succeeded");
}
