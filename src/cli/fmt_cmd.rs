//! `gov fmt`: canonical formatting.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::output::{Exit, Output, policy_files, write_atomically};

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Policy files or directories (searched for `*.gov`); `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if any.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the files in place.
    #[arg(long)]
    pub write: bool,
}

pub fn run(args: &FmtArgs, out: &Output) -> Exit {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            return out.io_error("<stdin>", &e);
        }
        return match gov::syntax::parse_bytes("<stdin>", &bytes) {
            Ok(parsed) => {
                let text = gov::syntax::format(&parsed);
                if args.check {
                    if text.as_bytes() == bytes.as_slice() {
                        Exit::Ok
                    } else {
                        println!("<stdin>");
                        Exit::Violations
                    }
                } else {
                    print!("{text}");
                    Exit::Ok
                }
            }
            Err(d) => {
                out.diagnostics(&d);
                Exit::InvalidPolicy
            }
        };
    }
    let files = match policy_files(&args.paths) {
        Ok(f) => f,
        Err(e) => return out.io_error(&display(&args.paths), &e),
    };
    let mut invalid = false;
    let mut io_failed = false;
    let mut unformatted = Vec::new();
    let stdout = std::io::stdout();
    for path in &files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                out.io_error(&name, &e);
                io_failed = true;
                continue;
            }
        };
        let parsed = match gov::syntax::parse_bytes(&name, &bytes) {
            Ok(p) => p,
            Err(d) => {
                out.diagnostics(&d);
                invalid = true;
                continue;
            }
        };
        let text = gov::syntax::format(&parsed);
        let changed = text.as_bytes() != bytes.as_slice();
        if args.check {
            if changed {
                unformatted.push(name);
            }
        } else if args.write {
            if changed {
                if let Err(e) = write_atomically(path, &mut |w| w.write_all(text.as_bytes())) {
                    out.io_write_error(&name, &e);
                    io_failed = true;
                } else {
                    eprintln!("formatted {name}");
                }
            }
        } else {
            let _ = stdout.lock().write_all(text.as_bytes());
        }
    }
    if !unformatted.is_empty() {
        for f in &unformatted {
            println!("{f}");
        }
        let n = unformatted.len();
        eprintln!(
            "{n} file{} would be reformatted; run `gov fmt --write` to fix",
            if n == 1 { "" } else { "s" }
        );
    }
    if invalid {
        Exit::InvalidPolicy
    } else if io_failed {
        Exit::Io
    } else if !unformatted.is_empty() {
        Exit::Violations
    } else {
        Exit::Ok
    }
}

/// Writes next to the file and renames, so a crash never leaves half a policy.
fn display(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
