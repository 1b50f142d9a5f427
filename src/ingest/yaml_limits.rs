//! Limits on YAML input, checked before a YAML inventory or mapping file is
//! deserialized: how deep collections nest ([`MAX_DEPTH`]) and how far
//! aliases may expand a document ([`MAX_ALIAS_EXPANSION`]).
//!
//! Why: the YAML parser expands every alias (`*name`) where it is used, so a
//! small file whose one anchored list is referenced a hundred thousand times
//! becomes a hundred million values, even inside a section that is never
//! loaded; and flow collections (`[[[[...`) nested a hundred thousand deep
//! take the parser quadratic time before any depth check of the
//! deserializer runs. Both are caught here in time linear in the file.
//!
//! Must not: reject a file the YAML parser would accept within the limits,
//! or report a syntax error (the real parse does that, with its position).

use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diag::{Code, Diag};
use crate::source::{SourceFile, Span};

/// How deep collections (sequences and mappings, flow or block) may nest.
pub const MAX_DEPTH: usize = 64;

/// How many values aliases may add to a document: it may hold at most as
/// many values, aliases expanded, as it has bytes plus this number.
pub const MAX_ALIAS_EXPANSION: usize = 1_000_000;

const TOO_DEEP: &str = "gov-yaml-limit: nested too deep";
const TOO_MANY: &str = "gov-yaml-limit: aliases expand too far";

/// Checks `src` (YAML text) against the limits; the diagnostic points at
/// where a limit was passed.
pub fn check(src: &Arc<SourceFile>) -> Result<(), Diag> {
    let text = src.text();
    if let Some(at) = flow_too_deep(text) {
        return Err(too_deep(src, at));
    }
    let budget = Budget { left: text.len().saturating_add(MAX_ALIAS_EXPANSION), depth: 0 };
    let mut budget = budget;
    let de = serde_yaml_ng::Deserializer::from_str(text);
    match Count(&mut budget).deserialize(de) {
        Ok(()) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            let at = e.location().map_or(0, |l| l.index()).min(text.len());
            if msg.contains(TOO_DEEP) {
                Err(too_deep(src, at))
            } else if msg.contains(TOO_MANY) {
                let at = if at == 0 { text.find('*').unwrap_or(0) } else { at };
                Err(Diag::error(
                    Code::YamlAliasLimit,
                    format!(
                        "YAML aliases expand this file past {} values (its size in bytes plus {})",
                        crate::diag::thousands(text.len().saturating_add(MAX_ALIAS_EXPANSION)),
                        crate::diag::thousands(MAX_ALIAS_EXPANSION)
                    ),
                )
                .in_file(src)
                .label(span_at(text, at), "expanding here")
                .help("write the values out, or use fewer `*alias` references to large anchored values"))
            } else {
                // A syntax error: the real parse reports it with its position.
                Ok(())
            }
        }
    }
}

fn too_deep(src: &Arc<SourceFile>, at: usize) -> Diag {
    Diag::error(
        Code::YamlTooDeep,
        format!("YAML collections nest more than {MAX_DEPTH} levels deep"),
    )
    .in_file(src)
    .label(span_at(src.text(), at), format!("level {} starts here", MAX_DEPTH + 1))
    .help("inventories nest a few levels (nodes, attributes, lists); flatten the data")
}

/// A one-character span at `at` (on a character boundary, inside the text).
fn span_at(text: &str, at: usize) -> Span {
    let mut at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    let end = text.get(at..).and_then(|t| t.chars().next()).map_or(at, |c| at + c.len_utf8());
    Span::new(at, end)
}

/// The offset of the bracket that opens flow level `MAX_DEPTH + 1`, if any.
///
/// A lexical scan: comments, quoted scalars and block scalars are skipped; in
/// block context `[` and `{` open a flow collection only where a value
/// starts (line start, after `- `, `: `, `? `, an anchor or a tag), since a
/// plain scalar such as `a[1` may hold them; in flow context every bracket
/// is structural. It counts flow levels only, so it never counts more levels
/// than the document has.
fn flow_too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(b'\n');
    let mut i = 0usize;
    let mut flow = 0usize;
    // Whether a value may start here: at a line's start, after an indicator.
    let mut value_start = true;
    // Indentation of the current line (block scalars run on below it).
    let mut indent = 0usize;
    let mut line_start = true;
    while i < b.len() {
        let c = at(i);
        if line_start {
            // Indentation.
            let mut n = 0;
            while at(i + n) == b' ' {
                n += 1;
            }
            indent = n;
            i += n;
            line_start = false;
            if flow == 0 {
                value_start = true;
            }
            continue;
        }
        let after_space = i == 0 || matches!(at(i - 1), b' ' | b'\t' | b'\n' | b'\r');
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' if after_space => {
                while i < b.len() && at(i) != b'\n' {
                    i += 1;
                }
            }
            b'[' | b'{' if flow > 0 || value_start => {
                flow += 1;
                if flow > MAX_DEPTH {
                    return Some(i);
                }
                value_start = true;
                i += 1;
            }
            b']' | b'}' if flow > 0 => {
                flow -= 1;
                value_start = false;
                i += 1;
            }
            b',' if flow > 0 => {
                value_start = true;
                i += 1;
            }
            b'"' | b'\'' if value_start => {
                i = skip_quoted(b, i);
                value_start = false;
            }
            b'&' | b'!' if value_start => {
                // An anchor or a tag: a value still starts after it.
                while i < b.len() && !matches!(at(i), b' ' | b'\t' | b'\n' | b'\r' | b',') {
                    if flow > 0 && matches!(at(i), b'[' | b']' | b'{' | b'}') {
                        break;
                    }
                    i += 1;
                }
            }
            b'|' | b'>' if value_start && flow == 0 => {
                // A block scalar: its lines are indented deeper than this one.
                while i < b.len() && at(i) != b'\n' {
                    i += 1;
                }
                loop {
                    let start = i + 1;
                    if start >= b.len() {
                        i = b.len();
                        break;
                    }
                    let mut n = 0;
                    while at(start + n) == b' ' {
                        n += 1;
                    }
                    let blank = matches!(at(start + n), b'\n' | b'\r');
                    if !blank && n <= indent {
                        break;
                    }
                    i = start + n;
                    while i < b.len() && at(i) != b'\n' {
                        i += 1;
                    }
                }
            }
            b'-' | b'?' | b':' if matches!(at(i + 1), b' ' | b'\t' | b'\n' | b'\r') => {
                value_start = true;
                i += 1;
            }
            b':' if flow > 0 => {
                value_start = true;
                i += 1;
            }
            _ => {
                value_start = false;
                i += 1;
            }
        }
    }
    None
}

/// The offset just past the quoted scalar that starts at `i`.
fn skip_quoted(b: &[u8], i: usize) -> usize {
    let quote = b.get(i).copied().unwrap_or(b'"');
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        if quote == b'"' && c == b'\\' {
            j += 2;
            continue;
        }
        if c == quote {
            if quote == b'\'' && b.get(j + 1) == Some(&b'\'') {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

struct Budget {
    /// Values still allowed.
    left: usize,
    /// Collections open around the current value.
    depth: usize,
}

/// Walks a document as the parser presents it (aliases expanded), counting
/// values and nesting, and stops at the first limit passed.
struct Count<'b>(&'b mut Budget);

impl Count<'_> {
    fn tick<E: de::Error>(&mut self) -> Result<(), E> {
        match self.0.left.checked_sub(1) {
            Some(left) => {
                self.0.left = left;
                Ok(())
            }
            None => Err(E::custom(TOO_MANY)),
        }
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.tick()?;
        self.0.depth += 1;
        if self.0.depth > MAX_DEPTH { Err(E::custom(TOO_DEEP)) } else { Ok(()) }
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! leaf {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<E: de::Error>(mut self, _: $t) -> Result<(), E> { self.tick() })*
    };
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    leaf!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.tick()
    }

    fn visit_none<E: de::Error>(mut self) -> Result<(), E> {
        self.tick()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.enter()?;
        while seq.next_element_seed(Count(&mut *self.0))?.is_some() {}
        self.0.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        while map.next_key_seed(Count(&mut *self.0))?.is_some() {
            map.next_value_seed(Count(&mut *self.0))?;
        }
        self.0.depth -= 1;
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(mut self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag value`).
        use de::VariantAccess as _;
        self.tick()?;
        let ((), variant) = data.variant_seed(Count(&mut *self.0))?;
        variant.newtype_variant_seed(Count(&mut *self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Result<(), Code> {
        check(&SourceFile::new("t.yaml", text.to_owned())).map_err(|d| d.code)
    }

    #[test]
    fn ordinary_yaml_passes() {
        let text = "format: gov.inventory/v1\n# a [ comment\nnodes:\n  - id: a[1\n    kind: identity\n    attrs: {tags: [x, \"[y\", 'it''s [']}\n    note: |\n      [[[[ not flow\n  - {id: b, kind: identity}\nmetadata: &m {a: 1}\nmore: *m\n";
        assert_eq!(check_text(text), Ok(()));
    }

    #[test]
    fn flow_nesting_is_capped() {
        let ok = format!("x: {}{}\n", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert_eq!(check_text(&ok), Ok(()));
        let deep = format!("x: {}{}\n", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(check_text(&deep), Err(Code::YamlTooDeep));
    }

    #[test]
    fn block_nesting_is_capped() {
        let deep = format!("x:\n{}1\n", "- ".repeat(MAX_DEPTH + 1));
        assert_eq!(check_text(&deep), Err(Code::YamlTooDeep));
    }

    #[test]
    fn alias_expansion_is_capped() {
        let list = format!("[{}]", vec!["x"; 1000].join(","));
        let refs = vec!["*a"; 2000].join(",");
        let text = format!("base: &a {list}\nrefs: [{refs}]\n");
        assert_eq!(check_text(&text), Err(Code::YamlAliasLimit));
        let few = format!("base: &a {list}\nrefs: [*a, *a]\n");
        assert_eq!(check_text(&few), Ok(()));
    }
}
