//! Source files and locations.
//!
//! Every AST node and every diagnostic points into a [`SourceFile`] through a
//! [`Loc`]. A `Loc` compares equal to every other `Loc`, so that two trees that
//! differ only in layout compare equal (the formatter's round-trip property
//! relies on it).

use std::fmt;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::Serialize;

/// A named text: a policy file or an inventory file.
#[derive(PartialEq, Eq)]
pub struct SourceFile {
    name: String,
    text: String,
}

impl SourceFile {
    /// A source with a display name (usually the path as the user gave it).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self { name: name.into(), text: text.into() })
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// The text of the one-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.split('\n').nth(line.saturating_sub(1)).map_or("", |l| l.trim_end_matches('\r'))
    }
}

impl fmt::Debug for SourceFile {
    /// The name and size only: a source can be megabytes long.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceFile({:?}, {} bytes)", self.name, self.text.len())
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A byte range in one source file.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end: end.max(start) }
    }

    /// The smallest span that covers both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// True for an empty range.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> Self {
        SourceSpan::new(s.start.into(), s.len())
    }
}

/// A span that knows its file. Equal to every other `Loc` (see the module docs).
#[derive(Clone)]
pub struct Loc {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Where in it.
    pub span: Span,
}

impl Loc {
    /// A location in `file`.
    pub fn new(file: Arc<SourceFile>, span: Span) -> Self {
        Self { file, span }
    }

    /// The source text it covers.
    pub fn text(&self) -> &str {
        self.file.text().get(self.span.start..self.span.end).unwrap_or("")
    }

    /// The smallest location covering both (in this file).
    pub fn to(&self, other: &Loc) -> Loc {
        Loc::new(self.file.clone(), self.span.join(other.span))
    }
}

impl PartialEq for Loc {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Loc {}

impl fmt::Debug for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{:?}", self.file.name(), self.span)
    }
}

impl Serialize for Loc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (line, column) = self.file.line_col(self.span.start);
        #[derive(Serialize)]
        struct Repr {
            start: usize,
            end: usize,
            line: usize,
            column: usize,
        }
        Repr { start: self.span.start, end: self.span.end, line, column }.serialize(s)
    }
}

/// The policy files `paths` name: a file passes through; a directory gives
/// the `.gov` files below it, sorted. Links are followed, but a directory
/// already walked (a link back up the tree) is not walked again, so a loop
/// ends. The CLI, `gov serve` and embedders find policies the same way.
pub fn policy_files(paths: &[std::path::PathBuf]) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![p.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            if !seen.insert(std::fs::canonicalize(&dir)?) {
                continue;
            }
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "gov") {
                    found.push(path);
                }
            }
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn policy_files_are_sorted_and_a_link_loop_ends() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("policies");
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        for f in ["z.gov", "b/a.gov", "b/c/m.gov", "b/notes.txt"] {
            std::fs::write(root.join(f), "").unwrap();
        }
        // A link back up the tree: walked once, not forever.
        std::os::unix::fs::symlink(&root, root.join("b/c/up")).unwrap();
        let file = root.join("z.gov");
        let found = policy_files(&[root.clone(), file.clone()]).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
            .collect();
        assert_eq!(names[..3], ["b/a.gov", "b/c/m.gov", "z.gov"]);
        // The file named on its own passes through after the directory's.
        assert_eq!(found.last(), Some(&file));
        assert_eq!(found.len(), 4);
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let f = SourceFile::new("x", "ab\né x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_text(2), "é x");
    }

    #[test]
    fn locs_are_left_out_of_equality() {
        let f = SourceFile::new("x", "abc");
        assert_eq!(Loc::new(f.clone(), Span::new(0, 1)), Loc::new(f, Span::new(1, 3)));
    }
}
