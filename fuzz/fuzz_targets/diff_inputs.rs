//! Arbitrary bytes as the files `gov diff` reads besides policies: a saved
//! report (`--before`/`--after`: a `gov.findings/v1` JSON report or a SARIF
//! log) and a decision log (`--decision-log`, JSON lines). A finding set or
//! a diagnostic that renders; records and invalid lines; never a panic.
//!
//! The first byte picks the reader; the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if pick & 1 == 0 {
        match gov::diff::FindingSet::from_report("fuzz.json", text) {
            Ok(set) => {
                let _ = set.entries.len();
            }
            Err(d) => {
                let _ = gov::report::diagnostics::render_plain(&d);
            }
        }
    } else {
        let log = gov::diff::replay::parse_log(text);
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(log.records.len() + log.invalid.len(), lines, "every non-blank line is a record or invalid");
    }
});
