//! Whatever parses formats to text that parses back to the same tree, and
//! formatting that text again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = gov::syntax::parse_bytes("fuzz.gov", data) else { return };
    let text = gov::syntax::format(&parsed);
    let reparsed = match gov::syntax::parse_bytes("formatted.gov", text.as_bytes()) {
        Ok(p) => p,
        Err(diags) => {
            let shown: Vec<String> =
                diags.iter().map(gov::report::diagnostics::render_plain).collect();
            panic!("formatted text does not parse:\n{}\n--- formatted\n{text}", shown.join("\n"));
        }
    };
    assert!(parsed.module == reparsed.module, "formatting changed the tree\n--- formatted\n{text}");
    let again = gov::syntax::format(&reparsed);
    assert!(again == text, "formatting is not idempotent\n--- once\n{text}\n--- twice\n{again}");
});
