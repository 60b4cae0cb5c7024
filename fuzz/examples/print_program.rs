//! Print the Lua program the `run_structured` target makes from a file of fuzz bytes
//! (a crash artifact or a corpus entry): `cargo run --example print_program -- FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: print_program FILE");
        std::process::exit(2);
    };
    match std::fs::read(&path) {
        Ok(data) => print!("{}", perilune_fuzz::gen::program(&data)),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
