//! Round trips and hostile inputs for binary chunks: every failure must be a clean
//! error, never a panic.

use super::*;
use crate::vm::error::Throw;

/// A state for a test (no libraries).
fn new_state() -> Box<State> {
    State::new().unwrap()
}

const SAMPLE: &str = r#"
local up = 1
local function f(a, b, ...)
  local t = { 1, 2.5, "s", x = true, y = false, [10] = "ten", nil, nil }
  local u = { f = function() return up, a end }
  for i = 1, 3 do t[i] = (t[i] or 0) end
  for k, v in pairs(t) do up = up + 1 end
  while a < b do a = a + 1 if a == 5 then break end end
  return #t, select('#', ...), u.f(), a .. "x" .. b
end
return f(1, 10, "a", "b")
"#;

fn compile_dump(st: &mut State, src: &str) -> Vec<u8> {
    let p = crate::compiler::compile(st, src.as_bytes(), b"=sample").unwrap();
    dump(st, p, false).ok().unwrap().as_slice().to_vec()
}

#[test]
fn round_trip_is_stable() {
    let st = &mut *new_state();
    let bytes = compile_dump(st, SAMPLE);
    assert!(bytes.starts_with(SIGNATURE));
    let p = undump(st, &bytes, b"=loaded").unwrap();
    let again = dump(st, p, false).ok().unwrap();
    assert_eq!(bytes, again.as_slice());
    assert_eq!(p.source.as_bytes(), b"=sample");
}

#[test]
fn loaded_chunk_runs() {
    let st = &mut *new_state();
    let bytes = compile_dump(st, "return 6 * 7, ({1, 2, 3})[3]");
    st.load(&bytes, b"=bin").unwrap();
    st.call(0, 2).unwrap();
    assert_eq!(st.peek(1).as_number(), Some(42.0));
    assert_eq!(st.peek(0).as_number(), Some(3.0));
}

#[test]
fn every_truncation_fails_cleanly() {
    let st = &mut *new_state();
    let bytes = compile_dump(st, SAMPLE);
    for n in 0..bytes.len() {
        assert!(
            undump(st, &bytes[..n], b"=loaded").is_err(),
            "truncated at {n} was accepted"
        );
    }
}

#[test]
fn foreign_headers_are_incompatible() {
    let st = &mut *new_state();
    assert_eq!(
        undump(st, b"\x1bLJ\x02garbage garbage garbage", b"=loaded"),
        Err(UndumpError::Incompatible)
    );
    let mut bytes = compile_dump(st, "return 1");
    bytes[SIGNATURE.len()] = FORMAT_VERSION + 1;
    assert_eq!(undump(st, &bytes, b"=loaded"), Err(UndumpError::Incompatible));
}

#[test]
fn load_reports_luajit_messages() {
    let st = &mut *new_state();
    let msg = |r: Result<(), Throw>| match r {
        Err(Throw::Error(v)) => v.as_string().unwrap().to_str_lossy().into_owned(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        msg(st.load(b"\x1bLJ\x02junkjunkjunkjunk", b"=x")),
        "x: cannot load incompatible bytecode"
    );
    // A header LuaJIT 2.1 writes (version 2, flags: stripped) names LuaJIT.
    assert_eq!(
        msg(st.load(b"\x1bLJ\x02\x02junkjunkjunk", b"=x")),
        "x: cannot load incompatible bytecode (LuaJIT bytecode: Perilune cannot run it, load the Lua source)"
    );
    let bytes = compile_dump(st, "return 1");
    assert_eq!(
        msg(st.load(&bytes[..bytes.len() - 1], &bytes[..bytes.len() - 1])),
        "(binary): cannot load malformed bytecode"
    );
    st.allow_bytecode = false;
    assert_eq!(
        msg(st.load(&bytes, b"=x")),
        "attempt to load a binary chunk (mode is 't')"
    );
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let st = &mut *new_state();
    let bytes = compile_dump(st, SAMPLE);
    for i in 0..bytes.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut m = bytes.clone();
            m[i] ^= x;
            // Accepted mutations have passed the verifier; that is all we require.
            let _ = undump(st, &m, b"=loaded");
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let st = &mut *new_state();
    let bytes = compile_dump(st, SAMPLE);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut accepted = 0;
    for _ in 0..4000 {
        let mut m = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(m.len());
            match rng.below(5) {
                0 => m[at] = rng.next() as u8,
                1 => m[at] ^= 1 << rng.below(8),
                2 => {
                    m.remove(at);
                }
                3 => m.insert(at, rng.next() as u8),
                _ => {
                    // A plausible large count where a length might be.
                    let v = (rng.next() as u32).to_le_bytes();
                    for (k, b) in v.iter().enumerate() {
                        if let Some(slot) = m.get_mut(at + k) {
                            *slot = *b;
                        }
                    }
                }
            }
        }
        if undump(st, &m, b"=loaded").is_ok() {
            accepted += 1;
        }
    }
    // Most mutations must be caught; a few (line numbers, names) are harmless.
    assert!(accepted < 4000);
}

#[test]
fn random_garbage_after_the_header_fails() {
    let st = &mut *new_state();
    let header = compile_dump(st, "return 1");
    let head_len = SIGNATURE.len() + 3 + 8 + 1;
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let mut m = header[..head_len].to_vec();
        let n = rng.below(200);
        m.extend((0..n).map(|_| rng.next() as u8));
        let _ = undump(st, &m, b"=loaded");
    }
    // Huge counts right after the header allocate nothing.
    let mut m = header[..head_len].to_vec();
    m.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(undump(st, &m, b"=loaded"), Err(UndumpError::Malformed(_))));
}

#[test]
fn deep_nesting_is_refused() {
    let st = &mut *new_state();
    // Build a chain of 300 nested empty functions by hand.
    let mut w = Writer {
        out: HVec::new(st.heap_ref()),
        literals: None,
        strip: false,
    };
    w.out.extend_from_slice(SIGNATURE).unwrap();
    w.u8(FORMAT_VERSION).ok().unwrap();
    w.u8(4).ok().unwrap();
    w.u8(8).ok().unwrap();
    w.u64(TEST_NUMBER.to_bits()).ok().unwrap();
    w.u8(0).ok().unwrap();
    w.bytes(b"=deep").ok().unwrap();
    for _ in 0..300 {
        for v in [0u32, 0] {
            w.u32(v).ok().unwrap();
        }
        for b in [0u8, 1, 1] {
            w.u8(b).ok().unwrap();
        }
        w.u32(1).ok().unwrap();
        w.u32(crate::compiler::bytecode::ins_ad(
            crate::compiler::bytecode::Op::RET0,
            0,
            1,
        ))
        .ok()
        .unwrap();
        w.u32(0).ok().unwrap();
        for _ in 0..3 {
            w.u32(0).ok().unwrap();
        }
        w.u32(1).ok().unwrap();
    }
    let r = undump(st, w.out.as_slice(), b"=loaded");
    assert!(matches!(r, Err(UndumpError::Malformed(_))), "{r:?}");
}

#[test]
fn allocation_failures_are_oom() {
    // A host allocator, so that the limit counts bytes, not pages: undumping must
    // need more than the 64 bytes left.
    let st = &mut *State::with_allocator(Box::new(crate::alloc::SystemAllocator)).unwrap();
    let bytes = compile_dump(st, SAMPLE);
    let used = st.heap.used();
    st.heap.set_limit(used + 64);
    let r = undump(st, &bytes, b"=loaded");
    st.heap.set_limit(0);
    assert_eq!(r.err(), Some(UndumpError::Oom));
}

/// A local variable's register must be inside the frame: `debug.getlocal` reads
/// that slot, and above the frame's top a slot can hold a value already collected.
#[test]
fn local_variables_outside_the_frame_are_refused() {
    let st = &mut *new_state();
    let bytes = compile_dump(st, "local a, b = 1, 2 return a + b");
    assert!(undump(st, &bytes, b"=loaded").is_ok());
    // The record of `a`: name (length 1, "a"), start and end pc, register.
    let at = bytes.windows(5).position(|w| w == [1, 0, 0, 0, b'a']).expect("local a");
    let reg = at + 5 + 4 + 4;
    assert_eq!(bytes[reg], 0);
    let mut m = bytes.clone();
    m[reg] = 200;
    assert!(matches!(undump(st, &m, b"=loaded"), Err(UndumpError::Malformed(_))));
}

/// A hand-made chunk of one function with `code` (frame of 2, vararg, nothing else).
fn chunk_with_code(st: &mut State, code: &[Ins]) -> Vec<u8> {
    let mut w = Writer {
        out: HVec::new(st.heap_ref()),
        literals: None,
        strip: false,
    };
    w.out.extend_from_slice(SIGNATURE).unwrap();
    for b in [FORMAT_VERSION, 4, 8] {
        w.u8(b).ok().unwrap();
    }
    w.u64(TEST_NUMBER.to_bits()).ok().unwrap();
    w.u8(0).ok().unwrap();
    w.bytes(b"=crafted").ok().unwrap();
    w.u32(0).ok().unwrap();
    w.u32(0).ok().unwrap();
    for b in [0u8, 1, 2] {
        w.u8(b).ok().unwrap();
    }
    w.u32(code.len() as u32).ok().unwrap();
    for &i in code {
        w.u32(i).ok().unwrap();
    }
    for _ in code {
        w.u32(1).ok().unwrap();
    }
    for _ in 0..4 {
        w.u32(0).ok().unwrap();
    }
    w.out.as_slice().to_vec()
}

/// The loop check follows both edges of a test: here the loop goes through the
/// *skip* edge of the first test and the backward (unpaid) jump of the second, and
/// is found only if a node whose two edges are both under way still counts as on
/// the search's path.
#[test]
fn unpaid_loops_through_either_edge_are_refused() {
    use crate::compiler::bytecode::{ins_ad, Op, JUMP_BIAS};
    let st = &mut *new_state();
    let code = |back: u32| {
        [
            ins_ad(Op::KPRI, 0, 1),
            ins_ad(Op::IST, 0, 0),
            ins_ad(Op::JMP, 1, JUMP_BIAS + 2),
            ins_ad(Op::ISF, 0, 0),
            ins_ad(Op::JMP, 1, back),
            ins_ad(Op::RET0, 0, 1),
        ]
    };
    // Forward: fine.
    let c = chunk_with_code(st, &code(JUMP_BIAS));
    assert!(undump(st, &c, b"=loaded").is_ok());
    // Back to the first test (pc 1 from the JMP at pc 4): a loop that pays nothing.
    let c = chunk_with_code(st, &code(JUMP_BIAS - 4));
    let r = undump(st, &c, b"=loaded");
    assert!(
        matches!(&r, Err(UndumpError::Malformed(m)) if m.contains("pays nothing")),
        "{r:?}"
    );
    // Through a LOOP instead, it pays.
    let mut paid = code(JUMP_BIAS - 3).to_vec();
    paid[2] = ins_ad(Op::LOOP, 1, JUMP_BIAS);
    paid[1] = ins_ad(Op::KPRI, 1, 0);
    let c = chunk_with_code(st, &paid);
    assert!(undump(st, &c, b"=loaded").is_ok());
}

#[test]
fn stripped_chunks_leave_out_debug_information() {
    let st = &mut *new_state();
    let p = crate::compiler::compile(st, SAMPLE.as_bytes(), b"=sample").unwrap();
    let full = dump(st, p, false).ok().unwrap().as_slice().to_vec();
    let bytes = dump(st, p, true).ok().unwrap().as_slice().to_vec();
    assert!(bytes.len() < full.len() / 2 + 64, "{} of {}", bytes.len(), full.len());
    let q = undump(st, &bytes, b"=named").unwrap();
    // The chunk name is the one `load` gives; lines, locals and upvalue names are gone.
    assert_eq!(q.source.as_bytes(), b"=named");
    let f = q.protos[0];
    assert_eq!((f.line_defined, f.last_line_defined), (0, 0));
    assert_eq!(f.lineinfo.len(), f.code.len());
    assert!(f.lineinfo.iter().all(|&l| l == 0));
    assert!(f.locvars.is_empty() && q.locvars.is_empty());
    assert!(f.upval_names.iter().all(|n| n.as_bytes().is_empty()));
    assert_eq!(f.code.as_slice(), p.protos[0].code.as_slice());
    // Stripping again gives the same bytes.
    assert_eq!(dump(st, q, true).ok().unwrap().as_slice(), &bytes[..]);
}

#[test]
fn every_truncation_of_a_stripped_chunk_fails_cleanly() {
    let st = &mut *new_state();
    let p = crate::compiler::compile(st, SAMPLE.as_bytes(), b"=sample").unwrap();
    let bytes = dump(st, p, true).ok().unwrap().as_slice().to_vec();
    for n in 0..bytes.len() {
        assert!(undump(st, &bytes[..n], b"=t").is_err(), "truncated at {n} was accepted");
    }
}

#[test]
fn unknown_header_flags_are_malformed() {
    let st = &mut *new_state();
    let mut bytes = compile_dump(st, "return 1");
    let flags = SIGNATURE.len() + 3 + 8;
    for f in [2u8, 3, 0x80] {
        bytes[flags] = f;
        assert!(
            matches!(undump(st, &bytes, b"=x"), Err(UndumpError::Malformed(_))),
            "flags {f}"
        );
    }
}
