//! Show what an input of the `mutate_dump` target does (a crash artifact or a corpus
//! entry): which snippet, which bytes change, and the bytecode listing of the
//! mutated chunk if the verifier accepts it:
//! `cargo run --example print_mutated_dump -- FILE [--run]`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: print_mutated_dump FILE [--run]");
        std::process::exit(2);
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let dumps = perilune_fuzz::dumps();
    let Some(chunk) = perilune_fuzz::mutated_dump(&data) else {
        println!("(input too short: nothing runs)");
        return;
    };
    let pick = data[0] as usize % dumps.len();
    println!("snippet {pick}:\n{}", perilune_fuzz::dump_snippets()[pick]);
    for (i, (a, b)) in dumps[pick].iter().zip(&chunk).enumerate() {
        if a != b {
            println!("byte {i}: {a:#04x} -> {b:#04x}");
        }
    }
    let Ok(mut st) = perilune::unstable_internals::vm::state::State::new() else {
        eprintln!("no state");
        std::process::exit(1);
    };
    match perilune::unstable_internals::compiler::dump::undump(&mut st, &chunk, b"=mutated") {
        Ok(p) => println!("{}", perilune::unstable_internals::compiler::listing(p)),
        Err(e) => println!("refused: {e:?}"),
    }
    // The listing is printed; the prototypes die with the state.
    drop(st);
    if std::env::args().any(|a| a == "--run") {
        std::env::set_var("PERILUNE_FUZZ_VERBOSE", "1");
        perilune_fuzz::run_chunk(&chunk);
    }
}
