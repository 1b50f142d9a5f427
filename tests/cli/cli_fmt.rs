//! `gov fmt` as an author and a CI pipeline use it: `--check` lists what is
//! not formatted, `--write` rewrites in place (through a temporary file
//! renamed when complete).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use cli_support::gov_in as gov;

const MESSY: &str = "rule owner-required {\n  enforce hard\n  for id: identity where id.type!=\"human\"\n  require exists id -[owned_by]-> _\n}\n";

#[test]
fn write_formats_in_place_and_check_then_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("owner.gov"), MESSY).unwrap();

    let o = gov(dir.path(), &["fmt", "--check", "owner.gov"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("owner.gov")).unwrap(), MESSY);

    let o = gov(dir.path(), &["fmt", "--write", "owner.gov"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let formatted = std::fs::read_to_string(dir.path().join("owner.gov")).unwrap();
    assert!(formatted.contains("id.type != \"human\""), "{formatted}");
    // Only the file itself: the temporary it was written through is gone.
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["owner.gov"]);

    let o = gov(dir.path(), &["fmt", "--check", "owner.gov"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}
