//! Running the built `gov` binary from tests: in a directory, with
//! `NO_COLOR` (piped output is plain anyway; this pins it), and waiting for
//! a child with a limit so that a hang fails the test instead of CI.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

/// The repository root: examples, policies and fixtures are named from here.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The README's quick start as JSON: the standard library and the Acme
/// exceptions over the Acme example, on the example's date.
pub const QUICK_START_JSON: &[&str] = &[
    "eval",
    "policies/",
    "examples/acme/exceptions.gov",
    "--inventory",
    "examples/acme/",
    "--now",
    "2026-11-22",
    "--format",
    "json",
];

/// `gov ARGS` in `dir`.
pub fn gov_in(dir: impl AsRef<Path>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `gov ARGS` at the repository root.
pub fn gov(args: &[&str]) -> Output {
    gov_in(ROOT, args)
}

/// Bytes of a child's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits for `child` at most `limit`; kills it and returns `None` past that.
pub fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
