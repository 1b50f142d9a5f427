//! The README's `.gov` examples parse and are canonically formatted, so the
//! language guide cannot drift from the grammar.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use gov::source::SourceFile;

fn gov_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```gov") => current = Some((n + 1, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn readme_examples_parse_and_are_formatted() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = gov_blocks(&readme);
    assert!(blocks.len() >= 10, "expected the language guide's examples, found {}", blocks.len());
    for (line, text) in blocks {
        let file = SourceFile::new(format!("README.md:{line}"), text.clone());
        let parsed = gov::syntax::parse(&file).unwrap_or_else(|d| {
            panic!("{}", d.iter().map(gov::report::diagnostics::render_plain).collect::<String>())
        });
        assert_eq!(
            gov::syntax::format(&parsed),
            text,
            "README example at line {line} is not canonically formatted"
        );
    }
}
