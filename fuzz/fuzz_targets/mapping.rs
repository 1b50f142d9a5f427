//! Arbitrary bytes as a mapping file: a mapping or one diagnostic, never a
//! panic or a hang (the YAML limits apply).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let src = gov::source::SourceFile::new("mapping.yaml", text);
    if let Err(d) = gov::ingest::Mapping::parse(&src) {
        let _ = gov::report::diagnostics::render_plain(&d);
    }
});
