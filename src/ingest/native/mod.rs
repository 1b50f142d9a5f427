//! The native inventory format `gov.inventory/v1`, in JSON or YAML (see
//! `docs/inventory.md` and `schemas/inventory.schema.json`): reading it into
//! a [`GraphBuilder`] and writing it from adapter records.
//!
//! This module owns what both encodings share: the format check, the record
//! shapes, offsets and JSON error positions. `json` reads JSON record by
//! record on two threads (each record keeps its byte offset without a
//! span-aware parser), `yaml` reads YAML within its alias and nesting
//! limits, `write` writes native JSON.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use smallvec::SmallVec;

use crate::diag::{Code, Diag};
use crate::graph::{
    FileId, GraphBuilder, Input, Interner, PreparedAttr, PreparedEdge, PreparedNode, Preparer, Site,
};
use crate::ingest::inventory::{Inventory, SchemaSection};
use crate::source::{SourceFile, Span};

/// The format tag of this version.
pub const FORMAT: &str = "gov.inventory/v1";

/// Attributes of a record, in file order; inline up to 10 (no allocation
/// per record for the common case).
struct Attrs<'a>(SmallVec<[(Cow<'a, str>, Input<'a>); 10]>);

impl<'de: 'a, 'a> Deserialize<'de> for Attrs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The visitor names the record's lifetime: a `SmallVec` of borrowed
        // strings is not covariant, so it is built with the right one.
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Attrs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = SmallVec::new();
                while let Some((k, val)) = m.next_entry::<Cow<'de, str>, Input<'de>>()? {
                    v.push((k, val));
                }
                Ok(Attrs(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeRec<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    attrs: Option<Attrs<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeRec<'a> {
    #[serde(borrow)]
    from: Cow<'a, str>,
    #[serde(borrow)]
    to: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    label: Option<Cow<'a, str>>,
    #[serde(default)]
    optional: bool,
}

/// Byte offset of a one-based line and column in `text`.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l.char_indices().nth(column.saturating_sub(1)).map_or(l.len(), |(b, _)| b);
            return (off + col).min(text.len());
        }
        off += l.len();
    }
    text.len()
}

/// The offset of `inner` inside `outer` (both from the same buffer).
pub fn offset_in(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize).min(outer.len())
}

/// A diagnostic for a serde_json error in `text` (which starts at `base` in `file`).
pub fn json_error(
    file: &Arc<SourceFile>,
    text: &str,
    base: usize,
    e: &serde_json::Error,
    what: &str,
) -> Diag {
    let at = base + offset_of(text, e.line(), e.column());
    let end = (at + 1).min(file.text().len()).max(at);
    let (line, col) = file.line_col(at);
    let msg = strip_position(&e.to_string());
    let (code, help) = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => (
            Code::MalformedJson,
            "fix the JSON syntax at this position (a validator such as `jq .` shows the same place)",
        ),
        _ => (Code::MissingField, "see docs/inventory.md for the fields a record takes"),
    };
    Diag::error(code, format!("{what}: {msg} (line {line}, column {col})"))
        .in_file(file)
        .label(Span::new(at, end), "here")
        .help(help)
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_owned(),
        None => msg.to_owned(),
    }
}

/// True when the file name says YAML.
pub fn is_yaml_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".yaml") || n.ends_with(".yml")
}

/// Reads one native inventory (JSON or YAML, by name or first character) into `b`.
pub fn read(b: &mut GraphBuilder, src: Arc<SourceFile>) {
    let text_is_yaml = is_yaml_name(src.name())
        || !src.text().trim_start().starts_with('{') && !src.text().trim().is_empty();
    let file = b.add_file(src.clone());
    if text_is_yaml {
        read_yaml(b, &src, file);
    } else {
        read_json(b, &src, file, Split::Auto);
    }
}

fn check_format(b: &mut GraphBuilder, src: &Arc<SourceFile>, format: Option<&str>) -> bool {
    let text = src.text();
    match format {
        Some(FORMAT) => true,
        Some(other) => {
            let at = text.find(&format!("\"{other}\"")).or_else(|| text.find(other)).unwrap_or(0);
            let d = Diag::error(
                Code::UnsupportedFormat,
                format!("unsupported inventory format `{other}`"),
            )
            .in_file(src)
            .label(Span::new(at, at + other.len() + 2), "this version is not supported")
            .help(format!(
                "this gov reads `{FORMAT}`; convert other formats with `gov ingest --from ...`"
            ));
            b.push_diag(d);
            false
        }
        None => {
            let d = Diag::error(Code::UnsupportedFormat, "the inventory has no `format` field")
                .in_file(src)
                .label(Span::new(0, text.len().min(1)), "")
                .help(format!(
                    "add `\"format\": \"{FORMAT}\"` at the top, or convert the file with `gov ingest`"
                ));
            b.push_diag(d);
            false
        }
    }
}

mod input;
mod json;
mod write;
mod yaml;

use json::{Split, read_json};
use yaml::read_yaml;

pub use write::{NativeWriter, schema_section, write_graph, write_inventory};
pub use yaml::yaml_error;

/// Where `key` is written in a native record's text: JSON `"key"` (with its
/// quotes) or YAML `key:` (the name), as a byte range of `record`. The
/// [`crate::graph::KeyLocator`] every reader of inventories gives its builder.
pub fn key_range(record: &str, key: &str) -> Option<(usize, usize)> {
    let quoted = format!("\"{key}\"");
    if let Some(i) = record.find(&quoted) {
        return Some((i, i + quoted.len()));
    }
    let yaml = format!("{key}:");
    let mut from = 0;
    while let Some(i) = record.get(from..).and_then(|t| t.find(&yaml)) {
        let pos = from + i;
        let before = record.get(..pos).and_then(|t| t.chars().next_back());
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            return Some((pos, pos + key.len()));
        }
        from = pos + yaml.len();
    }
    None
}

/// The diagnostic for node `i`, at `at`, whose `id` is empty (on the key).
fn empty_id(b: &mut GraphBuilder, at: &Site, file: FileId, i: usize) {
    let span = b.key_span(at, "id");
    let d = b.diag_at(Code::MissingField, format!("node {i} has an empty `id`"), file, span);
    b.push_diag(d.help("give every node a unique, non-empty id"));
}

#[cfg(test)]
mod tests {
    use super::json::*;
    use super::write::*;
    use super::*;
    use crate::graph::{Mode, Schema};

    #[test]
    fn writer_output_reads_back() {
        let mut out = NativeWriter::new(Vec::new(), None, None).unwrap();
        out.node("a", "identity", &[("type", Input::str("human"))]).unwrap();
        out.node(
            "k",
            "credential",
            &[("type", Input::str("token")), ("scopes", Input::strs(["x"]))],
        )
        .unwrap();
        out.edge("a", "k", "has_credential", Some("owns"), false).unwrap();
        let text = String::from_utf8(out.finish().unwrap()).unwrap();
        let mut b = GraphBuilder::new(Schema::builtin()).with_key_locator(key_range);
        read(&mut b, SourceFile::new("x.json", text));
        let g = b.finish(Mode::Strict).unwrap().graph;
        assert_eq!(g.node_count(), 2);
        assert_eq!(g.edge_count(), 1);
        let p = g.provenance(g.lookup("k").unwrap()).unwrap();
        assert_eq!((p.record, p.line), (1, 4));
    }

    #[test]
    fn yaml_reads_like_json() {
        let text = "format: gov.inventory/v1\nnodes:\n  - id: a\n    kind: identity\n    attrs: {type: human, active: true}\n  - id: g\n    kind: group\nedges:\n  - {from: a, to: g, kind: member_of}\n";
        let mut b = GraphBuilder::new(Schema::builtin()).with_key_locator(key_range);
        read(&mut b, SourceFile::new("x.yaml", text));
        let g = b.finish(Mode::Strict).unwrap().graph;
        assert_eq!(g.edge_count(), 1);
        assert_eq!(g.provenance(g.lookup("g").unwrap()).unwrap().line, 6);
    }

    /// The reference load: every record through `add_node` / `add_edge`, in
    /// order, on one thread (what `read` did before records were prepared on
    /// the parsing thread).
    fn read_sequential(b: &mut GraphBuilder, src: Arc<SourceFile>) {
        #[derive(Deserialize)]
        struct Doc<'a> {
            #[serde(borrow)]
            schema: Option<&'a RawValue>,
            #[serde(borrow, default)]
            nodes: Vec<&'a RawValue>,
            #[serde(borrow, default)]
            edges: Vec<&'a RawValue>,
        }
        let file = b.add_file(src.clone());
        let text = src.text();
        let doc: Doc<'_> = serde_json::from_str(text).unwrap();
        if let Some(raw) = doc.schema {
            let base = offset_in(text, raw.get());
            let s: SchemaSection = serde_json::from_str(raw.get()).unwrap();
            s.apply(b, file, Span::new(base, base + raw.get().len()));
        }
        for (i, raw) in doc.nodes.iter().enumerate() {
            let base = offset_in(text, raw.get());
            let at = Site { file, record: i as u32, span: Span::new(base, base + raw.get().len()) };
            match serde_json::from_str::<NodeRec<'_>>(raw.get()) {
                Ok(n) if n.id.is_empty() => empty_id(b, &at, file, i),
                Ok(n) => {
                    let attrs = n.attrs.map(|a| a.0.into_vec()).unwrap_or_default();
                    b.add_node(&n.id, &n.kind, &attrs, &at);
                }
                Err(e) => {
                    let what = format!("invalid node {i}");
                    b.push_diag(json_error(&src, raw.get(), base, &e, &what));
                }
            }
        }
        for (i, raw) in doc.edges.iter().enumerate() {
            let base = offset_in(text, raw.get());
            let at = Site { file, record: i as u32, span: Span::new(base, base + raw.get().len()) };
            match serde_json::from_str::<EdgeRec<'_>>(raw.get()) {
                Ok(e) => b.add_edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional, &at),
                Err(e) => {
                    let what = format!("invalid edge {i}");
                    b.push_diag(json_error(&src, raw.get(), base, &e, &what));
                }
            }
        }
    }

    /// Everything a load produces, as text: the graph written back (ids in
    /// order, attributes), provenance of every node and edge, diagnostics.
    fn outcome(loaded: crate::graph::Loaded) -> String {
        let g = &loaded.graph;
        let mut out = String::from_utf8(write_graph(g, &[], None, Vec::new()).unwrap()).unwrap();
        for n in g.nodes() {
            out.push_str(&format!("\nnode {}: {:?}", g.id(n), g.provenance(n)));
        }
        for e in 0..g.edge_count() as u32 {
            out.push_str(&format!("\nedge {e}: {:?}", g.edge_provenance(crate::graph::EdgeId(e))));
        }
        for d in loaded.diagnostics.iter() {
            out.push_str(&format!(
                "\n{:?} {:?} {} {:?} {:?}",
                d.code, d.severity, d.message, d.labels, d.help
            ));
        }
        out
    }

    fn both_ways(text: &str) -> (String, String) {
        let reference = load_with(text, None);
        // Every way of sharing the work between the two threads, fixed, and
        // decided as the load goes.
        for (loader_parses, parser_interns) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let split = Split::Fixed { loader_parses, parser_interns };
            assert_eq!(load_with(text, Some(split)), reference, "{split:?}");
        }
        (load_with(text, Some(Split::Auto)), reference)
    }

    /// A load of `text` after a small file, with `split`, or sequential.
    fn load_with(text: &str, split: Option<Split>) -> String {
        let mut b = GraphBuilder::new(Schema::builtin()).with_key_locator(key_range);
        // A file before this one: ids and lines go on across files.
        let first = "{\"format\":\"gov.inventory/v1\",\"nodes\":[{\"id\":\"g0\",\"kind\":\"group\"}],\"edges\":[{\"from\":\"g0\",\"to\":\"later\",\"kind\":\"grants\"}]}";
        read(&mut b, SourceFile::new("first.json", first));
        let src = SourceFile::new("x.json", text);
        match split {
            Some(split) => {
                let file = b.add_file(src.clone());
                read_json(&mut b, &src, file, split);
            }
            None => read_sequential(&mut b, src),
        }
        outcome(b.finish(Mode::Lenient).unwrap())
    }

    #[test]
    fn prepared_load_matches_a_sequential_one() {
        let opts = crate::ingest::generate::GenOptions {
            identities: 1500,
            ..crate::ingest::generate::GenOptions::default()
        };
        let mut v = Vec::new();
        crate::ingest::generate::generate(&opts, &mut v).unwrap();
        let text = String::from_utf8(v).unwrap();
        let (prepared, sequential) = both_ways(&text);
        assert!(prepared.len() > 100_000);
        assert_eq!(prepared, sequential);
    }

    #[test]
    fn prepared_load_matches_a_sequential_one_with_errors() {
        // Every kind of record the preparer passes on to add_node / add_edge,
        // next to plain ones, across more than one batch.
        let mut text = String::from(
            r#"{"format":"gov.inventory/v1",
"schema":{"kinds":{"robot":{"attributes":{"serial":"string","tier":{"type":"int","required":true}}},"identity":{"attributes":{"badge":"int"}}},"edges":{"drives":{"from":["robot"],"to":["resource"]}}},
"nodes":[
{"id":"r1","kind":"robot","attrs":{"serial":"s\u0031","tier":1}},
{"id":"r2","kind":"robot","attrs":{"serial":"s2"}},
{"id":"p1","kind":"identity","attrs":{"type":"human","badge":7,"created_at":"2026-01-02T03:04:05Z","left_at":null}},
{"id":"p2","kind":"identity","attrs":{"type":"alien"}},
{"id":"p3","kind":"identity","attrs":{"type":"human","created_at":"not a date"}},
{"id":"p4","kind":"identity","attrs":{"type":"human","colour":"blue"}},
{"id":"p5","kind":"identity","attrs":{"type":"human","active":"yes"}},
{"id":"p6","kind":"idenity","attrs":{"type":"human"}},
{"id":"","kind":"identity","attrs":{"type":"human"}},
{"id":"p1","kind":"identity","attrs":{"type":"human"}},
{"id":"p7","kind":"identity","attrs":{"type":"human","type":"workload"}},
{"id":"role1","kind":"role","attrs":{"actions":["s3:GetObject","x"],"privileged":false}},
{"id":"res1","kind":"resource","attrs":{"type":"bucket","name":"b\"1"}},
{"id":"later","kind":"role","attrs":{"actions":"s3:GetObject"}},
{"id":"p8","kind":"identity"},
{"id":"p9","kind":"identity","attrs":null},
{"id":"p10","kind":"identity","attrs":{"type":"human","extra":{"a":1}}},
{"id":"p11","kind":"identity","attrs":{"type":"human"},"oops":1},
"#,
        );
        for i in 0..5000 {
            text.push_str(&format!(
                "{{\"id\":\"n{i}\",\"kind\":\"identity\",\"attrs\":{{\"type\":\"{}\",\"name\":\"n {i}\"}}}},\n",
                if i % 997 == 0 { "nope" } else { "human" }
            ));
        }
        text.push_str(
            r#"{"id":"last","kind":"identity","attrs":{"type":"bot"}}
],
"edges":[
{"from":"r1","to":"res1","kind":"drives"},
{"from":"r1","to":"res1","kind":"drives","label":"fast"},
{"from":"p1","to":"role1","kind":"grantz"},
{"from":"p1","to":"ghost","kind":"grants"},
{"from":"p1","to":"elsewhere","kind":"grants","optional":true},
{"from":"p6","to":"role1","kind":"grants"},
{"from":"p1","to":"res1","kind":"owned_by"},
{"from":"p1","to":"r1","kind":"drives"},
{"from":"p1","kind":"grants"},
"#,
        );
        for i in 0..5000 {
            text.push_str(&format!(
                "{{\"from\":\"n{i}\",\"to\":\"{}\",\"kind\":\"grants\"}},\n",
                if i % 1013 == 0 { format!("new{i}") } else { "role1".to_owned() }
            ));
        }
        text.push_str("{\"from\":\"last\",\"to\":\"later\",\"kind\":\"grants\"}\n]}\n");
        let (prepared, sequential) = both_ways(&text);
        assert!(prepared.contains("UnknownKind"), "{prepared}");
        assert!(prepared.contains("DuplicateId"));
        assert!(prepared.contains("DanglingEdge"));
        assert_eq!(prepared, sequential);
    }

    #[test]
    fn records_before_the_format_and_schema_load_the_same() {
        let text = r#"{"nodes":[{"id":"r1","kind":"robot","attrs":{"serial":"a"}},{"id":"p","kind":"identity","attrs":{"type":"human"}}],
"schema":{"kinds":{"robot":{"attributes":{"serial":"string"}}}},
"format":"gov.inventory/v1","edges":[{"from":"p","to":"r1","kind":"owned_by"}]}"#;
        let (prepared, sequential) = both_ways(text);
        assert_eq!(prepared, sequential);
    }

    #[test]
    fn newlines_are_counted() {
        let text = "a\nb\n".repeat(100);
        assert_eq!(count_newlines(text.as_bytes()), 200);
        assert_eq!(count_newlines(&text.as_bytes()[1..]), 200);
        assert_eq!(count_newlines(&text.as_bytes()[2..131]), 64);
        assert_eq!(count_newlines(b""), 0);
    }

    #[test]
    fn offsets_from_line_and_column() {
        assert_eq!(offset_of("ab\ncd", 2, 2), 4);
        assert_eq!(offset_of("ab", 5, 1), 2);
    }
}
