//! Arbitrary bytes into the parser: it must return a tree or diagnostics,
//! never panic, overflow the stack or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match gov::syntax::parse_bytes("fuzz.gov", data) {
        Ok(parsed) => {
            // Touch the tree so that building and dropping it are exercised.
            let _ = parsed.module.items.len();
        }
        Err(diags) => {
            // Every diagnostic renders (spans inside the text, on char boundaries).
            for d in &diags {
                let _ = gov::report::diagnostics::render_plain(d);
            }
            assert!(diags.has_errors(), "parse failed without an error");
        }
    }
});
