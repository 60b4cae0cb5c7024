//! Crafted and mutated binary chunks (docs/bytecode-dump.md, "What the verifier
//! checks"): a trusted state loads them, so the verifier and the interpreter must
//! turn every one into an error or a bounded run, never a crash, a panic or a hang.
//!
//! The cases that crashed or hung before the fix run in a child process (this test
//! binary started again on one test, with a time limit), so a regression fails the
//! test instead of killing the test runner or hanging it.

use perilune::unstable_internals::compiler::bytecode::{arg_a, ins_abc, ins_ad, op_byte, Ins, Op, JUMP_BIAS};
use perilune::{Error, Lua, LuaOptions, StdLib};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child process to the name of the test it runs.
const CHILD_ENV: &str = "PERILUNE_MALFORMED_CHILD";

/// Run `body` in a child process (this binary, only test `name`) and fail if it does
/// not pass within `limit`: a crash, an abort or a hang is a test failure.
fn isolated(name: &str, limit: Duration, body: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the test binary");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}: still running after {limit:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        status.success() && stdout.contains("1 passed"),
        "{name}: child failed ({status}):\n{stdout}\n{stderr}"
    );
}

/// A trusted state (binary chunks allowed) with the libraries that stay inside it.
fn trusted() -> Lua {
    Lua::new_trusted(StdLib::ISOLATED, LuaOptions::new()).unwrap()
}

/// `string.dump` of `src` compiled as a chunk.
fn dump(lua: &Lua, src: &str) -> Vec<u8> {
    let s: perilune::LuaString = lua
        .load("return string.dump(assert(loadstring(...)))")
        .call(lua.create_string(src).unwrap())
        .unwrap();
    s.as_bytes().to_vec()
}

/// Where the main function's instructions start in a dump, and how many there are
/// (docs/bytecode-dump.md: the header with its flags byte, the source name, then the
/// main prototype's two lines, three bytes and the instruction count). Dumps here are
/// not stripped.
fn code_at(chunk: &[u8]) -> (usize, usize) {
    let u32_at = |at: usize| u32::from_le_bytes(chunk[at..at + 4].try_into().unwrap()) as usize;
    let head = b"\x1bPerilune".len() + 3 + 8 + 1;
    assert_eq!(chunk[head - 1], 0, "a stripped dump");
    let proto = head + 4 + u32_at(head);
    let count_at = proto + 4 + 4 + 3;
    (count_at + 4, u32_at(count_at))
}

fn instructions(chunk: &[u8]) -> Vec<Ins> {
    let (at, n) = code_at(chunk);
    (0..n)
        .map(|i| u32::from_le_bytes(chunk[at + 4 * i..at + 4 * i + 4].try_into().unwrap()))
        .collect()
}

fn set_ins(chunk: &mut [u8], pc: usize, ins: Ins) {
    let (at, n) = code_at(chunk);
    assert!(pc < n);
    chunk[at + 4 * pc..at + 4 * pc + 4].copy_from_slice(&ins.to_le_bytes());
}

fn find(chunk: &[u8], op: Op) -> usize {
    find_any(chunk, &[op])
}

fn find_any(chunk: &[u8], ops: &[Op]) -> usize {
    instructions(chunk)
        .iter()
        .position(|&i| ops.iter().any(|&op| op_byte(i) == op as u8))
        .unwrap_or_else(|| panic!("none of {ops:?} in the chunk"))
}

/// Load and run `chunk` under a budget; return the load error, if any.
fn load_and_run(lua: &Lua, chunk: &[u8], budget: u64) -> Result<(), Error> {
    lua.set_instruction_budget(Some(budget)).unwrap();
    let f = lua.load(chunk).set_name("=crafted").into_function()?;
    let r = f.call::<perilune::MultiValue>((1, 2, 3));
    lua.set_instruction_budget(None).unwrap();
    r.map(|_| ())
}

fn assert_malformed(r: Result<(), Error>) {
    match r {
        Err(e) if e.to_string().contains("cannot load malformed bytecode") => {}
        other => panic!("expected a malformed-bytecode error, got {other:?}"),
    }
}

#[test]
fn dumps_still_load_and_run() {
    let lua = trusted();
    let chunk = dump(&lua, "local a, b = ... return a, b, ... , {...}");
    lua.load(chunk).call::<perilune::MultiValue>((1, 2, 3)).unwrap();
}

/// Issue 14: `RET` with D = 0 returned `0 - 1` values (`usize::MAX`): a panic in a
/// debug build, a read far past the stack in a release build.
#[test]
fn ret_with_d_zero_is_rejected() {
    isolated("ret_with_d_zero_is_rejected", Duration::from_secs(60), || {
        let lua = trusted();
        let mut chunk = dump(&lua, "local a, b = 1, 2 return a, b");
        let pc = find(&chunk, Op::RET);
        let a = arg_a(instructions(&chunk)[pc]);
        set_ins(&mut chunk, pc, ins_ad(Op::RET, a, 0));
        assert_malformed(load_and_run(&lua, &chunk, 100_000));
    });
}

/// Issue 14: `RETM`'s fixed part A + D was never checked against the frame, and a
/// `RETM` that no multiple-results instruction precedes counted stale values.
#[test]
fn retm_past_the_frame_is_rejected() {
    isolated("retm_past_the_frame_is_rejected", Duration::from_secs(60), || {
        let lua = trusted();
        let base = dump(&lua, "return 1, ...");
        let pc = find(&base, Op::RETM);
        let a = arg_a(instructions(&base)[pc]);
        for d in [200, 255, 0xffff] {
            let mut chunk = base.clone();
            set_ins(&mut chunk, pc, ins_ad(Op::RETM, a, d));
            assert_malformed(load_and_run(&lua, &chunk, 100_000));
        }
        // A RETM whose values no VARG or call produced.
        let mut chunk = base.clone();
        set_ins(&mut chunk, pc - 1, ins_ad(Op::KPRI, a + 1, 0));
        assert_malformed(load_and_run(&lua, &chunk, 100_000));
    });
}

/// Issue 14: a comparison whose JMP goes backwards looped forever under any budget
/// (the interpreter charges the budget at loop instructions and backward JMPs, not at
/// taken comparisons).
#[test]
fn backward_comparison_jump_is_rejected_or_charged() {
    isolated(
        "backward_comparison_jump_is_rejected_or_charged",
        Duration::from_secs(60),
        || {
            let lua = trusted();
            let mut chunk = dump(&lua, "local a, b = ... if a == b then return 1 end return 2");
            let cmp = find_any(&chunk, &[Op::ISEQV, Op::ISNEV]);
            // The JMP after the comparison jumps back to the comparison.
            let j = instructions(&chunk)[cmp + 1];
            assert_eq!(op_byte(j), Op::JMP as u8);
            set_ins(&mut chunk, cmp + 1, ins_ad(Op::JMP, arg_a(j), JUMP_BIAS - 2));
            let r = lua.load(chunk.as_slice()).into_function().and_then(|f| {
                lua.set_instruction_budget(Some(100_000)).unwrap();
                f.call::<()>((1, 2))
            });
            match r {
                Err(Error::BudgetExhausted) => {}
                Err(e) if e.to_string().contains("cannot load malformed bytecode") => {}
                other => panic!("expected a refusal or the budget's end, got {other:?}"),
            }
        },
    );
}

/// Issue 14: a FORI whose jump goes backwards (to itself, for a loop that runs zero
/// times) looped forever.
#[test]
fn backward_fori_is_rejected() {
    isolated("backward_fori_is_rejected", Duration::from_secs(60), || {
        let lua = trusted();
        let mut chunk = dump(&lua, "local n = 0 for i = 2, 1 do n = n + i end return n");
        let pc = find(&chunk, Op::FORI);
        let a = arg_a(instructions(&chunk)[pc]);
        set_ins(&mut chunk, pc, ins_ad(Op::FORI, a, JUMP_BIAS - 1));
        assert_malformed(load_and_run(&lua, &chunk, 100_000));
    });
}

/// Found by the `mutate_dump` fuzz target: a VARG in a function that is not vararg
/// (its flag byte changed) computed where the varargs start as `base - 2 - 0` below
/// the main chunk's `base` of 1: an overflow panic (a debug build) or a slice index
/// far out of range (release). The code generator never puts VARG there ("cannot use
/// '...' outside a vararg function"); the verifier now refuses it.
#[test]
fn varg_outside_a_vararg_function_is_rejected() {
    isolated(
        "varg_outside_a_vararg_function_is_rejected",
        Duration::from_secs(60),
        || {
            let lua = trusted();
            for src in ["return ...", "local a, b = ... return a, b"] {
                let mut chunk = dump(&lua, src);
                // The main function's is_vararg byte: after its two lines and num_params.
                let (code, _) = code_at(&chunk);
                let flag = code - 4 - 2;
                assert_eq!(chunk[flag], 1);
                chunk[flag] = 0;
                assert_malformed(load_and_run(&lua, &chunk, 100_000));
            }
        },
    );
}

/// A FORL or ITERL that jumps forwards paid a *negative* amount into the budget
/// (`-offset`), so a loop that went through it and through a backward JMP could gain
/// budget on every turn.
#[test]
fn forward_loop_back_edges_are_rejected() {
    let lua = trusted();
    let base = dump(
        &lua,
        "local n = 0 for i = 1, 3 do n = n + i end for k, v in pairs({}) do end return n",
    );
    for op in [Op::FORL, Op::ITERL] {
        let pc = find(&base, op);
        let ins = instructions(&base)[pc];
        let mut chunk = base.clone();
        set_ins(&mut chunk, pc, ins_ad(op, arg_a(ins), JUMP_BIAS + 1));
        assert_malformed(load_and_run(&lua, &chunk, 100_000));
    }
}

/// A TSETM whose start index is not a sane integer made the interpreter's index
/// arithmetic overflow (`start - 1`, `start + i` on `i64`).
#[test]
fn tsetm_with_a_huge_start_is_rejected() {
    isolated("tsetm_with_a_huge_start_is_rejected", Duration::from_secs(60), || {
        let lua = trusted();
        // The start index is the chunk's only number constant; make it -2^63 and 2^80.
        for bits in [(-9.3e18f64).to_bits(), 1.2e24f64.to_bits(), 0.5f64.to_bits()] {
            let mut chunk = dump(&lua, "return {...}");
            let needle = 1.0f64.to_bits().to_le_bytes();
            let at = chunk.windows(8).rposition(|w| w == needle).expect("the constant 1");
            chunk[at..at + 8].copy_from_slice(&bits.to_le_bytes());
            assert_malformed(load_and_run(&lua, &chunk, 100_000));
        }
    });
}

/// Every operand the interpreter uses unchecked, pushed one past its bound.
#[test]
fn operands_out_of_range_are_rejected() {
    isolated("operands_out_of_range_are_rejected", Duration::from_secs(60), || {
        let lua = trusted();
        let base = dump(&lua, "local a, b = ... local c = a + b return c");
        let pc = find(&base, Op::ADDVV);
        // Past the frame: A, B and C.
        for ins in [
            ins_abc(Op::ADDVV, 250, 0, 1),
            ins_abc(Op::ADDVV, 0, 250, 1),
            ins_abc(Op::ADDVV, 0, 1, 250),
            ins_ad(Op::KNIL, 0, 250),
            ins_ad(Op::KNIL, 2, 1),
            ins_abc(Op::CAT, 0, 1, 250),
            ins_abc(Op::CALL, 0, 250, 2),
            ins_abc(Op::CALL, 0, 1, 250),
            ins_abc(Op::CALL, 0, 1, 0),
            ins_ad(Op::UGET, 0, 5),
            ins_ad(Op::FNEW, 0, 3),
            ins_ad(Op::KSTR, 0, 40),
            ins_ad(Op::TDUP, 0, 0),
            ins_ad(Op::UCLO, 251, JUMP_BIAS),
            ins_ad(Op::JMP, 0, JUMP_BIAS + 100),
            ins_ad(Op::JMP, 0, JUMP_BIAS - 100),
            ins_abc(Op::VARG, 249, 4, 0),
            ins_ad(Op::ITERL, 0, JUMP_BIAS - 1),
            0xff,
        ] {
            let mut chunk = base.clone();
            set_ins(&mut chunk, pc, ins);
            let r = load_and_run(&lua, &chunk, 100_000);
            assert!(
                matches!(&r, Err(e) if e.to_string().contains("malformed")),
                "{ins:#010x}: {r:?}"
            );
        }
    });
}

/// The deterministic cousin of the `mutate_dump` fuzz target: dumps of the fuzz
/// snippets with 1-4 random bytes changed (a fixed seed), each loaded and run in a
/// fresh trusted state under a memory limit and a budget. Any result but a crash, a
/// panic or a hang is fine; the state must work afterwards.
#[test]
fn mutated_dumps_never_crash() {
    isolated("mutated_dumps_never_crash", Duration::from_secs(600), || {
        const SNIPPETS: &str = include_str!("../../../fuzz/dump_snippets.lua");
        let lua = trusted();
        let dumps: Vec<Vec<u8>> = SNIPPETS.split("\n--@@\n").map(|s| dump(&lua, s)).collect();
        assert!(dumps.len() >= 25);
        let iterations: usize = std::env::var("PERILUNE_MUTATIONS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3000);
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let (mut loaded, mut ran) = (0, 0);
        for i in 0..iterations {
            let mut chunk = dumps[next() as usize % dumps.len()].clone();
            let (start, n) = code_at(&chunk);
            // Mostly inside the main function's code, where the operands are.
            for _ in 0..1 + next() % 4 {
                let at = if next() % 4 == 0 {
                    next() as usize % chunk.len()
                } else {
                    start + next() as usize % (4 * n)
                };
                chunk[at] = next() as u8;
            }
            let st = trusted();
            st.set_memory_limit(st.used_memory() + (8 << 20)).unwrap();
            st.set_instruction_budget(Some(200_000)).unwrap();
            if let Ok(f) = st.load(chunk.as_slice()).set_name("=mutated").into_function() {
                loaded += 1;
                if f.call::<perilune::MultiValue>(()).is_ok() {
                    ran += 1;
                }
            }
            st.set_memory_limit(0).unwrap();
            st.set_instruction_budget(Some(200_000)).unwrap();
            let _ = st.gc_collect();
            st.set_instruction_budget(Some(200_000)).unwrap();
            match st
                .load("local t = {} for i = 1, 100 do t[i] = i end return #t")
                .eval::<i64>()
            {
                Ok(100) | Err(Error::BudgetExhausted) => {}
                other => panic!("iteration {i}: the state is unusable afterwards: {other:?}"),
            }
        }
        eprintln!("{iterations} mutated dumps: {loaded} loaded, {ran} ran to the end");
        assert!(loaded > 0);
    });
}
