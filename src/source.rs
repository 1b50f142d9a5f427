//! Source files and locations.
//!
//! Every AST node and every diagnostic points into a [`SourceFile`] through a
//! [`Loc`]. A `Loc` compares equal to every other `Loc`, so that two trees that
//! differ only in layout compare equal (the formatter's round-trip property
//! relies on it).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::Serialize;

/// A named text: a policy file or an inventory file.
pub struct SourceFile {
    name: String,
    text: String,
    /// Positions asked for so far: past a few, [`SourceFile::line_col`]
    /// builds `line_starts` once, so that a file with a hundred thousand
    /// diagnostics is not scanned from its start for each.
    lookups: AtomicUsize,
    /// Byte offset of each line's start, built on demand.
    line_starts: OnceLock<Vec<u32>>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.text == other.text
    }
}

impl Eq for SourceFile {}

/// Lookups answered by scanning before the line index is built.
const SCANS_BEFORE_INDEX: usize = 16;

impl SourceFile {
    /// A source with a display name (usually the path as the user gave it).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            name: name.into(),
            text: text.into(),
            lookups: AtomicUsize::new(0),
            line_starts: OnceLock::new(),
        })
    }

    /// The line index, once enough positions were asked for (never for a
    /// text whose offsets do not fit in `u32`).
    fn line_starts(&self) -> Option<&[u32]> {
        if let Some(l) = self.line_starts.get() {
            return Some(l);
        }
        if self.lookups.fetch_add(1, Ordering::Relaxed) < SCANS_BEFORE_INDEX
            || u32::try_from(self.text.len()).is_err()
        {
            return None;
        }
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1),
                )
                .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
                .collect()
        });
        Some(starts)
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
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = self.text.get(..offset).unwrap_or("");
        let (line, line_start) = match self.line_starts() {
            Some(starts) => {
                // The last line start at or before the offset.
                let i = starts.partition_point(|s| (*s as usize) <= offset).max(1) - 1;
                (i + 1, starts.get(i).map_or(0, |s| *s as usize))
            }
            None => (
                before.bytes().filter(|b| *b == b'\n').count() + 1,
                before.rfind('\n').map_or(0, |i| i + 1),
            ),
        };
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// The text of the one-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let text = match self.line_starts() {
            Some(starts) => {
                let i = line.saturating_sub(1);
                let Some(start) = starts.get(i).map(|s| *s as usize) else { return "" };
                let end = starts.get(i + 1).map_or(self.text.len(), |e| *e as usize - 1);
                self.text.get(start..end).unwrap_or("")
            }
            None => self.text.split('\n').nth(line.saturating_sub(1)).unwrap_or(""),
        };
        text.trim_end_matches('\r')
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

    #[test]
    fn the_line_index_answers_as_the_scan_does() {
        let text = "a\r\nbé\n\n  ü x\nlast";
        let scanned = SourceFile::new("s", text);
        let indexed = SourceFile::new("i", text);
        for _ in 0..=SCANS_BEFORE_INDEX {
            let _ = indexed.line_col(0);
        }
        assert!(indexed.line_starts().is_some());
        for offset in 0..=text.len() + 2 {
            let fresh = SourceFile::new("f", text);
            assert_eq!(indexed.line_col(offset), fresh.line_col(offset), "offset {offset}");
        }
        for line in 0..=7 {
            assert_eq!(
                indexed.line_text(line),
                SourceFile::new("f", text).line_text(line),
                "{line}"
            );
        }
        assert_eq!(indexed.line_text(2), "bé");
        assert_eq!(indexed.line_col(text.len()), (5, 5));
        assert!(scanned == SourceFile::new("s", text));
    }

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
