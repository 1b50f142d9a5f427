//! What the ingest targets share: load or convert one source, in strict and
//! lenient mode, and render every diagnostic (spans inside the text).
#![allow(dead_code)]

use gov::graph::Mode;
use gov::ingest::{Format, LoadOptions, Mapping};
use gov::source::SourceFile;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

fn render(ds: &gov::Diagnostics) {
    for d in gov::report::diagnostics::capped(ds).iter() {
        let _ = gov::report::diagnostics::render_plain(d);
    }
}

/// A native inventory named `name` (the extension picks JSON or YAML).
pub fn load_native(name: &str, data: &[u8]) {
    let Some(text) = text(data) else { return };
    for mode in [Mode::Strict, Mode::Lenient] {
        let opts = LoadOptions { mode, ..LoadOptions::default() };
        match gov::ingest::load_sources(vec![SourceFile::new(name, text)], &opts) {
            Ok(loaded) => render(&loaded.diagnostics),
            Err(ds) => {
                assert!(ds.has_errors(), "a failed load without an error");
                render(&ds);
            }
        }
    }
}

/// A file in an adapter format, converted as `gov ingest --from` does.
pub fn convert(format: Format, name: &str, data: &[u8]) {
    let Some(text) = text(data) else { return };
    let src = SourceFile::new(name, text);
    match gov::ingest::convert_sources(vec![src], Some(format), &Mapping::default(), Mode::Lenient) {
        Ok(converted) => {
            render(&converted.loaded.diagnostics);
            // The native output of what was converted is written without error.
            let out = converted.write(None, Vec::new());
            assert!(out.is_ok(), "writing the converted inventory failed");
        }
        Err(ds) => render(&ds),
    }
}
