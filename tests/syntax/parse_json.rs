//! `gov parse FILE --json` works on every valid corpus file: one JSON object
//! per file with the module and its comments, exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::process::Command;

#[test]
fn parse_json_on_every_valid_file() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/syntax/valid");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 25);
    for f in files {
        let out = Command::new(env!("CARGO_BIN_EXE_gov"))
            .args(["parse", "--json"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["module"]["items"].as_array().is_some_and(|i| !i.is_empty()), "{}", f.display());
        assert!(v["comments"].is_array());
        assert_eq!(v["file"].as_str(), Some(f.display().to_string().as_str()));
    }
}
