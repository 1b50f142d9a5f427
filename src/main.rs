//! The `gov` command line: a thin client of the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
