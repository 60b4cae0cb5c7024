//! Unit tests of the compiler through its entry points.

use super::*;
use crate::value::Value;

/// A state for a test (no libraries).
fn new_state() -> Box<State> {
    State::new().unwrap()
}

/// A compiled chunk and the state whose heap holds it (dropped after the last use).
struct Compiled {
    proto: GcRef<GcProto>,
    _state: Box<State>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&listing(self.proto))
    }
}

impl std::ops::Deref for Compiled {
    type Target = GcProto;
    fn deref(&self) -> &GcProto {
        &self.proto
    }
}

fn compile_str(src: &str) -> Result<Compiled, String> {
    let mut st = new_state();
    match compile(&mut st, src.as_bytes(), src.as_bytes()) {
        Ok(proto) => Ok(Compiled { proto, _state: st }),
        Err(Throw::Error(v)) => Err(v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default()),
        Err(t) => Err(format!("{t:?}")),
    }
}

#[test]
fn chunk_ids() {
    assert_eq!(chunk_id(b"@f.lua"), "f.lua");
    assert_eq!(chunk_id(b"=stdin"), "stdin");
    assert_eq!(chunk_id(b"x = = 1"), "[string \"x = = 1\"]");
    assert_eq!(chunk_id(b"abc\ndef"), "[string \"abc...\"]");
    let long = "a".repeat(70);
    assert_eq!(
        chunk_id(format!("@{long}").as_bytes()),
        format!("...{}", "a".repeat(56))
    );
    assert_eq!(chunk_id(long.as_bytes()), format!("[string \"{}...\"]", "a".repeat(45)));
    assert_eq!(
        chunk_id("a".repeat(48).as_bytes()),
        format!("[string \"{}\"]", "a".repeat(48))
    );
    assert_eq!(chunk_id(format!("={}", "b".repeat(70)).as_bytes()), "b".repeat(59));
}

#[test]
fn basic_errors() {
    assert_eq!(
        compile_str("x = = 1").unwrap_err(),
        "[string \"x = = 1\"]:1: unexpected symbol near '='"
    );
    let st = &mut *new_state();
    let e = compile(st, b"function f()\n", b"@f.lua").err().unwrap();
    let Throw::Error(v) = e else { panic!() };
    assert_eq!(
        v.as_string().unwrap().to_str_lossy(),
        "f.lua:2: 'end' expected (to close 'function' at line 1) near '<eof>'"
    );
}

#[test]
fn main_proto_shape() {
    let p = compile_str("local a = 1 return a").unwrap();
    assert!(p.is_vararg);
    assert_eq!(p.num_params, 0);
    assert_eq!(p.upvals.len(), 0);
    assert_eq!(p.code.len(), p.lineinfo.len());
    assert_eq!(p.locvars.len(), 1);
    assert_eq!(p.locvars[0].name.as_bytes(), b"a");
}

#[test]
fn constants_are_deduplicated() {
    let p = compile_str("local a = 'x', 'x', 'y', 1.5, 1.5, 'y'").unwrap();
    let strs = p.consts.iter().filter(|v: &&Value| v.is_string()).count();
    assert_eq!(strs, 2);
    assert_eq!(p.consts.len(), 3);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("x = {}1{}", "(".repeat(100000), ")".repeat(100000));
    assert!(compile_str(&src)
        .unwrap_err()
        .contains("chunk has too many syntax levels"));
    let src = format!("x = -{}1", "not ".repeat(100000));
    assert!(compile_str(&src).unwrap_err().contains("too many syntax levels"));
    let src = format!("{}{}", "do ".repeat(100000), "end ".repeat(100000));
    assert!(compile_str(&src).unwrap_err().contains("too many syntax levels"));
    let src = format!("x = {}{}", "{".repeat(100000), "}".repeat(100000));
    assert!(compile_str(&src).unwrap_err().contains("too many syntax levels"));
    let src = format!("x = {}1{}", "(".repeat(300), ")".repeat(300));
    assert!(compile_str(&src).is_err());
}

#[test]
fn big_chunks() {
    let mut s = String::new();
    for i in 0..10000 {
        s.push_str(&format!("x{} = {} + y\n", i % 50, i));
    }
    compile_str(&s).unwrap();
    let items: Vec<String> = (0..100000).map(|i| i.to_string()).collect();
    let src = format!("local t = {{{}}}", items.join(","));
    // Constant items go into a TDUP template, so no constant limit applies.
    compile_str(&src).unwrap();
    // Items that are not constants need code and key constants: a clean error.
    let items: Vec<String> = (0..100000).map(|i| format!("x{}", i % 7)).collect();
    let src = format!("local t = {{{}}}", items.join(","));
    if let Err(e) = compile_str(&src) {
        assert!(e.contains("has more than 65536 constants"), "{e}");
    }
    let src = format!("local t = {{{}}}", vec!["0"; 100000].join(","));
    let _ = compile_str(&src);
}

#[test]
fn out_of_memory_is_reported() {
    let src = "local t = {} for i = 1, 10 do t[i] = function() return i .. 'x' end end return t";
    let st = &mut *new_state();
    let base = st.heap.used();
    let mut saw_oom = false;
    for extra in (0..20000).step_by(97) {
        st.heap.set_limit(base + extra);
        match compile(st, src.as_bytes(), b"=t") {
            Ok(_) => break,
            Err(Throw::Oom) => saw_oom = true,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    st.heap.set_limit(usize::MAX);
    assert!(saw_oom);
}

#[test]
fn locvars_cover_their_scope() {
    let p = compile_str("local a = 1\ndo local b = a end\nfor i = 1, 2 do end\nreturn a").unwrap();
    let names: Vec<String> = p.locvars.iter().map(|v| v.name.to_str_lossy().into_owned()).collect();
    assert_eq!(names, ["a", "b", "(for index)", "(for limit)", "(for step)", "i"]);
    let a = p.locvars[0];
    assert_eq!((a.reg, a.start_pc), (0, 1));
    assert_eq!(a.end_pc as usize, p.code.len());
    let b = p.locvars[1];
    assert_eq!(b.reg, 1);
    assert!(b.start_pc <= b.end_pc);
    for v in p.locvars.iter() {
        assert!((v.end_pc as usize) <= p.code.len());
    }
}

#[test]
fn upvalues_and_names() {
    let p = compile_str("local x, y = 1, 2\nreturn function() return function() return y + x end end").unwrap();
    let f = p.protos[0];
    let g = f.protos[0];
    assert_eq!(f.upvals.len(), 2);
    assert!(f.upvals.iter().all(|u| u.in_stack));
    assert!(g.upvals.iter().all(|u| !u.in_stack));
    let names: Vec<String> = g.upval_names.iter().map(|n| n.to_str_lossy().into_owned()).collect();
    assert_eq!(names, ["y", "x"]);
}

#[test]
fn many_constants_use_register_forms() {
    // More than 256 constants: arithmetic, method calls and field accesses must fall
    // back to register operands.
    let mut s = String::new();
    for i in 0..300 {
        s.push_str(&format!("g{i} = {i}.5\n"));
    }
    s.push_str("local a = ...\nlocal b = a + 123.25\nlocal c = a:method_name_x()\nlocal d = a.field_name_y\n");
    let p = compile_str(&s).unwrap();
    assert!(p.consts.len() > 256);
    for &ins in p.code.iter() {
        let op = bytecode::Op::from_u8(bytecode::op_byte(ins)).unwrap();
        if matches!(op.format(), bytecode::Format::ABN | bytecode::Format::ABS) {
            assert!((bytecode::arg_c(ins) as usize) < p.consts.len());
        }
    }
}

#[test]
fn long_jumps_error_cleanly() {
    let body = "x = y\n".repeat(20000);
    let src = format!("if a then\n{body}end");
    match compile_str(&src) {
        Ok(_) => {}
        Err(e) => assert!(e.contains("control structure too long"), "{e}"),
    }
    let src = format!("while a do\n{body}{body}end");
    assert!(compile_str(&src).unwrap_err().contains("control structure too long"));
}

#[test]
fn every_allocation_failure_is_clean() {
    // Fail compilation at every growing step of the heap; it must end in Oom (or
    // succeed), never panic.
    let src = "local t = {1, 2, x = 'y', [3] = f()}\nfor i = 1, 10 do local c = function() return i, t end end\n\
               goto l\n::l:: return t:m('s' .. 1, ...)";
    let st = &mut *new_state();
    let mut oom = 0;
    let mut extra = 0;
    loop {
        // Objects from failed attempts stay allocated until a collector exists, so
        // the limit is relative to what is in use now.
        let used = st.heap.used();
        st.heap.set_limit(used + extra);
        match compile(st, src.as_bytes(), b"=t") {
            Ok(_) => break,
            Err(Throw::Oom) => oom += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
        extra += 8;
        assert!(extra < 1 << 20);
    }
    st.heap.set_limit(usize::MAX);
    assert!(oom > 10);
}

/// The largest nesting LuaJIT 2.1 accepts for each construct compiles; one more is
/// "chunk has too many syntax levels" (blocks and function bodies count one level,
/// sub-expressions one, statements none).
#[test]
fn nesting_limits_match_luajit() {
    // (largest nesting LuaJIT accepts, prefix, opening repeated, middle, closing repeated)
    let cases: &[(usize, &str, &str, &str, &str)] = &[
        (198, "", "do ", "", "end "),
        (198, "", "if x then ", "", "end "),
        (198, "", "while x do ", "", "end "),
        (198, "", "repeat ", "", "until x "),
        (198, "", "local function f() ", "", "end "),
        (98, "return ", "function() return ", "1", " end"),
        (197, "return ", "(", "1", ")"),
        (198, "return ", "{", "", "}"),
        (197, "return ", "not ", "1", ""),
        (99, "", "f(function() ", "", "end)"),
        (65, "return ", "{function() return ", "1", " end}"),
        (99, "", "do if x then ", "", "end end "),
    ];
    let mk = |&(_, pre, open, mid, close): &(usize, &str, &str, &str, &str), n: usize| {
        format!("{pre}{}{mid}{}", open.repeat(n), close.repeat(n))
    };
    for case in cases {
        let ok = mk(case, case.0);
        assert!(compile_str(&ok).is_ok(), "{ok}");
        let bad = mk(case, case.0 + 1);
        assert!(
            compile_str(&bad)
                .unwrap_err()
                .ends_with(":1: chunk has too many syntax levels"),
            "{bad}"
        );
    }
    // Nested calls run out of registers first: LuaJIT keeps two slots per call frame.
    let calls = |n: usize| format!("return {}{}", "f(".repeat(n), ")".repeat(n));
    assert!(compile_str(&calls(124)).is_ok());
    assert!(compile_str(&calls(125))
        .unwrap_err()
        .ends_with("function or expression too complex near '('"));
}

#[test]
fn nul_bytes_in_names_and_messages() {
    let err = |src: &[u8], name: &[u8]| {
        let st = &mut *new_state();
        match compile(st, src, name) {
            Err(Throw::Error(v)) => v.as_string().unwrap().to_str_lossy().into_owned(),
            _ => panic!("no error"),
        }
    };
    // The chunk name ends at a NUL, as LuaJIT's C string does.
    assert_eq!(
        err(b"x = 1\0 y", b"x = 1\0 y"),
        "[string \"x = 1\"]:1: unexpected symbol"
    );
    assert_eq!(err(b"x = = 1", b"@abc\0def"), "abc:1: unexpected symbol near '='");
    assert_eq!(err(b"\0", b"\0"), "[string \"\"]:1: unexpected symbol");
    // Quoted token text ends at a NUL too.
    assert_eq!(err(b"x = 1 'a\0b'", b"=c"), "c:1: unexpected symbol near ''a'");
    assert_eq!(err(b"x = 'ab\0cd\n'", b"=c"), "c:1: unfinished string near ''ab'");
    let st = &mut *new_state();
    let p = compile(st, b"return 1", b"=a\0b").unwrap();
    assert_eq!(p.source.as_bytes(), b"=a");
}
