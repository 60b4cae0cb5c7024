//! The `table`, `math` and `bit` libraries under memory limits and instruction
//! budgets: every corpus script of those areas is run under a rising series of
//! memory limits (each run must end normally or with "not enough memory", and leave
//! a consistent, usable heap), and the long loops inside the table functions must
//! stop when the budget runs out.

use perilune::unstable_internals::value::Value;
use perilune::unstable_internals::vm::error::{LResult, Throw};
use perilune::unstable_internals::vm::state::State;
use std::path::Path;

fn state() -> Box<State> {
    let mut st = State::new().expect("state");
    st.open_libs().map_err(|_| ()).expect("libs");
    // The scripts print a lot; the output is not what these tests look at.
    fn quiet(_: &mut State) -> LResult<usize> {
        Ok(0)
    }
    let f = st
        .new_native(quiet, perilune::unstable_internals::func::FF_C, 0)
        .expect("print");
    st.set_global("print", Value::function(f))
        .map_err(|_| ())
        .expect("set print");
    st
}

fn run(st: &mut State, src: &[u8], name: &[u8]) -> Result<(), String> {
    match st.load(src, name) {
        Ok(()) => {}
        Err(Throw::Oom) => return Err("not enough memory (while loading)".to_string()),
        Err(Throw::Error(v)) => {
            return Err(v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default());
        }
        Err(_) => return Err("load failed".to_string()),
    }
    if st.pcall(0, 0, false) {
        Ok(())
    } else {
        let v = st.peek(0);
        st.pop(1);
        Err(v.as_string().map(|s| s.to_str_lossy().into_owned()).unwrap_or_default())
    }
}

fn corpus_scripts() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lua");
    let mut out = Vec::new();
    for area in ["table_lib", "math", "bit"] {
        let Ok(entries) = std::fs::read_dir(root.join(area)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "lua") {
                let src = std::fs::read(&p).expect("read script");
                out.push((
                    format!("{area}/{}", p.file_name().unwrap_or_default().to_string_lossy()),
                    src,
                ));
            }
        }
    }
    out
}

#[test]
fn scripts_survive_every_memory_limit() {
    let scripts = corpus_scripts();
    assert!(scripts.len() >= 10, "corpus scripts not found");
    for (name, src) in scripts {
        let chunk = format!("@{name}");
        // How much the script needs beyond a fresh state, in the limit's unit (the
        // footprint: pages, not only live bytes).
        let mut st = state();
        let base = st.heap.footprint();
        run(&mut st, &src, chunk.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let need = st.heap.peak_footprint().saturating_sub(base);
        drop(st);
        let step = (need / 400).max(16);
        let mut extra = 0;
        loop {
            let mut st = state();
            let limit = st.heap.footprint() + extra;
            st.heap.set_limit(limit);
            let r = run(&mut st, &src, chunk.as_bytes());
            st.heap.set_limit(usize::MAX);
            if let Err(e) = &r {
                assert!(e.contains("not enough memory"), "{name} at +{extra} bytes: {e}");
            }
            perilune::unstable_internals::gc::full_collect(&mut st);
            perilune::unstable_internals::gc::verify_heap(&mut st)
                .unwrap_or_else(|e| panic!("{name} at +{extra}: heap: {e}"));
            run(
                &mut st,
                b"local t = {3, 1, 2} table.sort(t) assert(table.concat(t) == '123')",
                b"=after",
            )
            .unwrap_or_else(|e| panic!("{name} at +{extra}: not usable afterwards: {e}"));
            if r.is_ok() {
                break;
            }
            extra += step;
            assert!(extra <= need + 64 * step, "{name}: never finished under a limit");
        }
    }
}

#[test]
fn budget_stops_long_table_loops() {
    // (setup run without a budget, operation run with one)
    for (setup, op) in [
        // Shifts ~2^31 elements one by one.
        ("t = {1, 2, 3}", "table.insert(t, -2^31 + 5, 0)"),
        // Stores nil 2^31 times (nothing grows, so only the budget can stop it).
        ("", "table.move({}, 1, 2^31 - 2, 2)"),
        ("t = {} for i = 1, 2e5 do t[i] = (i * 7919) % 1000 end", "table.sort(t)"),
        ("t = {} for i = 1, 3e5 do t[i] = 'x' end", "table.concat(t)"),
        ("t = {} for i = 1, 3e5 do t[i] = i end", "table.remove(t, 1)"),
    ] {
        let mut st = state();
        run(&mut st, setup.as_bytes(), b"=setup").expect(setup);
        st.set_budget(Some(50_000));
        let err = run(&mut st, op.as_bytes(), b"=budget").expect_err(op);
        assert!(err.contains("instruction budget exhausted"), "{op}: {err}");
        st.set_budget(None);
        run(&mut st, b"assert(math.max(1, 2) == 2)", b"=after").expect("usable after abort");
    }
}
