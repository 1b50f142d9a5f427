//! Text helpers of the language server: LSP positions (UTF-16) to byte offsets
//! and back, `file:` URIs to paths and back, and a forgiving tokenizer that
//! works on half-typed text (the parser does not).

use lsp_types::{Position, Range};

/// Line starts of a text, for position conversion.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    /// The LSP position of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> Position {
        let offset = clamp_to_char(self.text, offset);
        let line = self.starts.partition_point(|s| *s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col = self.text.get(start..offset).map_or(0, |s| s.encode_utf16().count());
        Position::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }

    /// The LSP range of a byte range.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The byte offset of an LSP position (clamped to the line and the text).
    pub fn offset(&self, pos: Position) -> usize {
        let Some(start) = self.starts.get(pos.line as usize).copied() else {
            return self.text.len();
        };
        let end = self.starts.get(pos.line as usize + 1).map_or(self.text.len(), |e| e - 1);
        let line = self.text.get(start..end).unwrap_or("");
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= pos.character {
                return start + i;
            }
            units += u32::try_from(c.len_utf16()).unwrap_or(1);
        }
        end
    }
}

/// The largest char boundary at or before `offset`.
fn clamp_to_char(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while o > 0 && !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokKind {
    /// A name or keyword (kebab-case rule names included).
    Ident,
    /// A number, duration or date.
    Number,
    /// A string literal.
    Str,
    /// Any other character.
    Punct,
}

/// A token: kind and byte range.
#[derive(Clone, Copy, Debug)]
pub struct Tok {
    /// What.
    pub kind: TokKind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Tok {
    /// The token's text.
    pub fn text<'t>(&self, src: &'t str) -> &'t str {
        src.get(self.start..self.end).unwrap_or("")
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits text into tokens, skipping white space and comments. Never fails:
/// an unterminated string or comment runs to the end of its line or the file.
pub fn tokens(src: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_whitespace() {
            continue;
        }
        if c == '/' && it.peek().is_some_and(|(_, n)| *n == '/') {
            for (_, n) in it.by_ref() {
                if n == '\n' {
                    break;
                }
            }
            continue;
        }
        if c == '/' && it.peek().is_some_and(|(_, n)| *n == '*') {
            it.next();
            let mut prev = ' ';
            for (_, n) in it.by_ref() {
                if prev == '*' && n == '/' {
                    break;
                }
                prev = n;
            }
            continue;
        }
        if c == '"' {
            let mut end = src.len();
            let mut escaped = false;
            for (j, n) in it.by_ref() {
                if n == '\n' {
                    end = j;
                    break;
                }
                if !escaped && n == '"' {
                    end = j + 1;
                    break;
                }
                escaped = !escaped && n == '\\';
            }
            out.push(Tok { kind: TokKind::Str, start: i, end });
            continue;
        }
        if is_word(c) {
            let mut end = i + c.len_utf8();
            loop {
                match it.peek().copied() {
                    Some((j, n)) if is_word(n) => {
                        it.next();
                        end = j + n.len_utf8();
                    }
                    // `owner-required` is one name; `a -[e]-> b` and `x - 1` are not.
                    Some((j, '-'))
                        if src.get(j + 1..).and_then(|s| s.chars().next()).is_some_and(is_word) =>
                    {
                        it.next();
                        end = j + 1;
                    }
                    _ => break,
                }
            }
            let kind = if c.is_ascii_digit() { TokKind::Number } else { TokKind::Ident };
            out.push(Tok { kind, start: i, end });
            continue;
        }
        out.push(Tok { kind: TokKind::Punct, start: i, end: i + c.len_utf8() });
    }
    out
}

/// The index of the token that contains `offset` (or ends at it: the cursor
/// just after a word is on it).
pub fn token_at(toks: &[Tok], offset: usize) -> Option<usize> {
    let i = toks.partition_point(|t| t.end < offset);
    let t = toks.get(i)?;
    (t.start <= offset && offset <= t.end).then_some(i)
}

/// The path of a `file:` URI, percent-decoded; `None` for other schemes.
pub fn uri_to_path(uri: &str) -> Option<std::path::PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///p` has an empty authority; `file://localhost/p` names this host.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = rest.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    Some(std::path::PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &std::path::Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let t = "ab\n\u{1F600}x\n";
        let ix = LineIndex::new(t);
        assert_eq!(ix.position(3), Position::new(1, 0));
        assert_eq!(ix.position(7), Position::new(1, 2));
        assert_eq!(ix.offset(Position::new(1, 2)), 7);
        assert_eq!(ix.offset(Position::new(9, 0)), t.len());
        assert_eq!(ix.offset(Position::new(0, 99)), 2);
    }

    #[test]
    fn kebab_names_are_one_token_and_arrows_are_not() {
        let src = "rule owner-required { a -[owned_by]-> p } // x\n\"s\" 90d";
        let words: Vec<&str> = tokens(src).iter().map(|t| t.text(src)).collect();
        assert_eq!(
            words,
            [
                "rule",
                "owner-required",
                "{",
                "a",
                "-",
                "[",
                "owned_by",
                "]",
                "-",
                ">",
                "p",
                "}",
                "\"s\"",
                "90d"
            ]
        );
    }

    #[test]
    fn uris_round_trip() {
        let p = std::path::Path::new("/tmp/a b/ü.gov");
        assert_eq!(uri_to_path(&path_to_uri(p)).as_deref(), Some(p));
        assert_eq!(uri_to_path("untitled:1"), None);
    }
}
