//! A pre-scan of the raw text, before pest sees it.
//!
//! It finds what the grammar cannot report well or at all: unterminated strings
//! and block comments (pest would only say "unexpected character" somewhere
//! later), nesting so deep that later recursive stages could exhaust the stack,
//! and the comments themselves, which the grammar skips but the formatter must
//! keep.

use std::sync::Arc;

use serde::Serialize;

use crate::diag::{Code, Diag, Diagnostics};
use crate::source::{SourceFile, Span};

/// Brackets (`(`, `[`, `{`) may nest this deep.
pub const MAX_BRACKET_DEPTH: usize = 64;
/// Nesting constructs without brackets (`not`, `if`, `exists`, `all`, `match`)
/// counted along the open brackets may reach this many.
pub const MAX_KEYWORD_NESTING: usize = 256;

/// A comment the formatter must keep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// The comment including `//` or `/* */`.
    pub text: String,
    /// Where.
    pub span: Span,
    /// `/* */` rather than `//`.
    pub block: bool,
    /// Nothing but whitespace stands before it on its line.
    pub own_line: bool,
}

/// What the pre-scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Comments in order.
    pub comments: Vec<Comment>,
    /// Lexical errors.
    pub diags: Diagnostics,
}

const NESTING_WORDS: &[&str] = &["not", "if", "exists", "all", "match"];

/// Scans `file`.
pub fn scan(file: &Arc<SourceFile>) -> Scan {
    let text = file.text();
    let bytes = text.as_bytes();
    let mut out = Scan::default();
    // One frame per open bracket: (opening offset, nesting words seen in it).
    let mut frames: Vec<(usize, usize)> = vec![(0, 0)];
    let mut keyword_nesting = 0usize;
    let mut depth_reported = false;
    let mut unterminated_reported = false;
    // Strings hold `{expr}` holes, which hold strings: a stack of what we are in.
    // `Hole(n)`: inside a hole whose `{` is bracket frame number `n`.
    enum Mode {
        Str(usize),
        Hole(usize),
    }
    let mut modes: Vec<Mode> = Vec::new();
    let mut i = 0;
    let at = |k: usize| bytes.get(k).copied();
    loop {
        if let Some(Mode::Str(start)) = modes.last() {
            let start = *start;
            match at(i) {
                None | Some(b'\n') => {
                    // Report only the first: the quote meant to close it, on
                    // a later line, would read as another unterminated string.
                    if !unterminated_reported {
                        unterminated_reported = true;
                        out.diags.push(
                            Diag::error(Code::UnterminatedString, "unterminated string")
                                .in_file(file)
                                .label(Span::new(start, i), "this string is not closed")
                                .help("close it with `\"` on the same line; strings cannot span lines (write `\\n` for a line break)"),
                        );
                    }
                    // Resume as code after the line, whatever holes were open.
                    modes.clear();
                    if at(i).is_none() {
                        break;
                    }
                }
                Some(b'\\') => i += 2,
                Some(b'"') => {
                    modes.pop();
                    i += 1;
                }
                Some(b'{') => {
                    frames.push((i, 0));
                    modes.push(Mode::Hole(frames.len() - 1));
                    i += 1;
                }
                Some(_) => i += 1,
            }
            continue;
        }
        let Some(b) = at(i) else { break };
        match b {
            b'"' => {
                modes.push(Mode::Str(i));
                i += 1;
            }
            b'}' if matches!(modes.last(), Some(Mode::Hole(n)) if *n + 1 == frames.len()) => {
                if let Some((_, words)) = frames.pop() {
                    keyword_nesting -= words;
                }
                modes.pop();
                i += 1;
            }
            b'/' if at(i + 1) == Some(b'/') => {
                let start = i;
                let end = text.get(i..).and_then(|s| s.find('\n')).map_or(text.len(), |n| i + n);
                // `///` (exactly three slashes) is a doc comment: a token, not a comment.
                let is_doc = at(i + 2) == Some(b'/') && at(i + 3) != Some(b'/');
                if !is_doc {
                    let line_start =
                        text.get(..start).and_then(|s| s.rfind('\n')).map_or(0, |n| n + 1);
                    let own_line = text.get(line_start..start).is_some_and(|s| s.trim().is_empty());
                    out.comments.push(Comment {
                        text: text.get(start..end).unwrap_or("").trim_end().to_owned(),
                        span: Span::new(start, end),
                        block: false,
                        own_line,
                    });
                }
                i = end;
            }
            b'/' if at(i + 1) == Some(b'*') => {
                let start = i;
                let mut level = 0usize;
                loop {
                    match (at(i), at(i + 1)) {
                        (Some(b'/'), Some(b'*')) => {
                            level += 1;
                            i += 2;
                        }
                        (Some(b'*'), Some(b'/')) => {
                            level -= 1;
                            i += 2;
                            if level == 0 {
                                break;
                            }
                        }
                        (Some(_), _) => i += 1,
                        (None, _) => break,
                    }
                }
                if level > 0 {
                    out.diags.push(
                        Diag::error(Code::UnterminatedComment, "unterminated block comment")
                            .in_file(file)
                            .label(Span::new(start, start + 2), "this comment is never closed")
                            .help("close it with `*/`; block comments nest, so each `/*` needs its own `*/`"),
                    );
                } else {
                    let line_start =
                        text.get(..start).and_then(|s| s.rfind('\n')).map_or(0, |n| n + 1);
                    let own_line = text.get(line_start..start).is_some_and(|s| s.trim().is_empty());
                    out.comments.push(Comment {
                        text: text.get(start..i).unwrap_or("").to_owned(),
                        span: Span::new(start, i),
                        block: true,
                        own_line,
                    });
                }
            }
            b'(' | b'[' | b'{' => {
                frames.push((i, 0));
                if frames.len() > MAX_BRACKET_DEPTH + 1 && !depth_reported {
                    depth_reported = true;
                    out.diags.push(too_deep(
                        file,
                        i,
                        &format!("brackets nest more than {MAX_BRACKET_DEPTH} levels deep here"),
                    ));
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                if frames.len() > 1
                    && let Some((_, words)) = frames.pop()
                {
                    keyword_nesting -= words;
                }
                i += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or("");
                if NESTING_WORDS.contains(&word) {
                    keyword_nesting += 1;
                    if let Some(frame) = frames.last_mut() {
                        frame.1 += 1;
                    }
                    if keyword_nesting > MAX_KEYWORD_NESTING && !depth_reported {
                        depth_reported = true;
                        out.diags.push(too_deep(
                            file,
                            start,
                            &format!("more than {MAX_KEYWORD_NESTING} nested conditions (`not`, `if`, `exists`, `all`, `match`) in one block"),
                        ));
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn too_deep(file: &Arc<SourceFile>, at: usize, what: &str) -> Diag {
    Diag::error(Code::TooDeep, "nesting too deep")
        .in_file(file)
        .label(Span::new(at, at + 1), what)
        .help("split the condition into `let` bindings, helper `fn`s or separate rules")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(s: &str) -> Scan {
        scan(&SourceFile::new("t.gov", s))
    }

    #[test]
    fn keeps_comments_but_not_doc_comments() {
        let s = scan_str("/// doc\n// plain\nrule x { /* a /* nested */ b */ } //// four\n");
        let texts: Vec<_> = s.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["// plain", "/* a /* nested */ b */", "//// four"]);
        assert!(s.comments[0].own_line);
        assert!(!s.comments[1].own_line);
        assert!(s.diags.is_empty());
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        let s = scan_str("const x = \"http://a/*b\"\n");
        assert!(s.comments.is_empty());
        assert!(s.diags.is_empty());
    }

    #[test]
    fn reports_unterminated_string_and_comment() {
        let s = scan_str("const x = \"abc\nconst y = 1 /* open");
        let codes: Vec<_> = s.diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::UnterminatedString, Code::UnterminatedComment]);
        assert_eq!(s.diags.iter().next().unwrap().primary_span(), Some(Span::new(10, 14)));
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("const x = {}1{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(scan_str(&deep).diags.iter().next().map(|d| d.code), Some(Code::TooDeep));
        let nots = format!("const x = {}true", "not ".repeat(300));
        assert_eq!(scan_str(&nots).diags.iter().next().map(|d| d.code), Some(Code::TooDeep));
        let flat = format!("rule r {{ {} }}", "require not a\n".repeat(100));
        assert!(scan_str(&flat).diags.is_empty());
    }
}
