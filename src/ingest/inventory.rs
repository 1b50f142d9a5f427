//! [`Inventory`]: the records an adapter produced, before they are loaded into
//! a graph or written as a native inventory. Records of the same id and kind
//! from several adapters merge (the AWS credential report joins the
//! authorization details by ARN); conflicting values are reported.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diag::{Code, Diag, Diagnostics};
use crate::graph::{AttrType, FileId, GraphBuilder, Input, KindId, Site};
use crate::source::{SourceFile, Span};

/// Where an adapter found a record: index into [`Inventory::files`], the
/// record's index in its source list, and its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Inventory::files`].
    pub file: u32,
    /// Zero-based record index in the source.
    pub record: u32,
    /// The record's bytes in the source file.
    pub span: Span,
}

/// One node produced by an adapter.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRecord {
    /// Unique id (an ARN, a Kubernetes reference, an OpenGraph id).
    pub id: String,
    /// Node kind name.
    pub kind: String,
    /// Attributes in insertion order.
    pub attrs: Vec<(String, Input<'static>)>,
    /// Where it came from.
    pub origin: Origin,
}

impl NodeRecord {
    /// A node with no attributes yet.
    pub fn new(id: impl Into<String>, kind: &str, origin: Origin) -> Self {
        Self { id: id.into(), kind: kind.to_owned(), attrs: Vec::new(), origin }
    }

    /// Adds an attribute (a `Null` value is left out).
    pub fn set(&mut self, name: &str, value: Input<'static>) -> &mut Self {
        if !matches!(value, Input::Null) {
            self.attrs.push((name.to_owned(), value));
        }
        self
    }

    /// The value of an attribute, if set.
    pub fn get(&self, name: &str) -> Option<&Input<'static>> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// One edge produced by an adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeRecord {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// Edge kind name.
    pub kind: String,
    /// The source system's own name for the relation, kept for display.
    pub label: Option<String>,
    /// A link into data that may not be loaded (skipped with a warning if so).
    pub optional: bool,
    /// Where it came from.
    pub origin: Origin,
}

impl EdgeRecord {
    /// A required edge with no label.
    pub fn new(from: impl Into<String>, kind: &str, to: impl Into<String>, origin: Origin) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            kind: kind.to_owned(),
            label: None,
            optional: false,
            origin,
        }
    }
}

/// An attribute declared in a `schema` section: a type string such as
/// `"timestamp"`, or an object with `type`, `required` and `doc`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrSpec {
    /// Just the type: `"string"`, `"[string]"`, `"enum(a, b)"`.
    Type(String),
    /// Type with details.
    Full {
        /// The type.
        #[serde(rename = "type")]
        ty: String,
        /// Whether every node of the kind must have it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        required: bool,
        /// What it means.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        doc: String,
    },
}

/// A node kind in a `schema` section (new, or extending a built-in kind).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// What it means.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// Attributes by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, AttrSpec>,
}

/// An edge kind in a `schema` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// Kinds allowed at the source (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
    /// Kinds allowed at the target (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// What it means.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
}

/// The `schema` section of a native inventory: extensions to the built-in schema.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSection {
    /// Node kinds to add or extend.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<String, KindSpec>,
    /// Edge kinds to add.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub edges: BTreeMap<String, EdgeSpec>,
}

impl SchemaSection {
    /// True when it declares nothing.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.edges.is_empty()
    }

    /// Declares an attribute (kept if already declared).
    pub fn declare_attr(&mut self, kind: &str, name: &str, ty: &AttrType) {
        self.kinds
            .entry(kind.to_owned())
            .or_default()
            .attributes
            .entry(name.to_owned())
            .or_insert_with(|| AttrSpec::Type(ty.to_string()));
    }

    /// Applies the section to the builder's schema; conflicts are diagnostics
    /// pointing at `span` in `file` (the key's position when it can be found).
    pub fn apply(&self, b: &mut GraphBuilder, file: FileId, span: Span) {
        let site = Site { file, record: 0, span };
        for (kind, spec) in &self.kinds {
            let k = match b.schema().kind(kind) {
                Some(k) => k,
                None => match b.schema_mut().add_kind(kind, &spec.doc) {
                    Ok(k) => k,
                    Err(e) => {
                        let s = b.key_span(&site, kind);
                        let d = b.diag_at(Code::SchemaConflict, e.to_string(), file, s);
                        b.push_diag(d.help("kind names use letters, digits and `_`"));
                        continue;
                    }
                },
            };
            for (name, a) in &spec.attributes {
                let (ty, required, doc) = match a {
                    AttrSpec::Type(t) => (t.as_str(), false, ""),
                    AttrSpec::Full { ty, required, doc } => (ty.as_str(), *required, doc.as_str()),
                };
                let s = b.key_span(&site, name);
                let Some(parsed) = AttrType::parse(ty) else {
                    let d = b.diag_at(
                        Code::SchemaConflict,
                        format!("attribute `{kind}.{name}` has an unknown type `{ty}`"),
                        file,
                        s,
                    );
                    b.push_diag(d.help(
                        "use string, int, float, bool, timestamp, duration, [T] or enum(a, b)",
                    ));
                    continue;
                };
                if let Err(e) = b.schema_mut().add_attr(k, name, parsed, required, doc) {
                    let d = b.diag_at(Code::SchemaConflict, e.to_string(), file, s);
                    b.push_diag(
                        d.help("an inventory may add attributes but not change existing ones"),
                    );
                }
            }
        }
        for (name, spec) in &self.edges {
            let s = b.key_span(&site, name);
            let mut kinds = |names: &[String]| -> Vec<KindId> {
                let mut out = Vec::new();
                for n in names {
                    match b.schema().kind(n) {
                        Some(k) => out.push(k),
                        None => {
                            let d = b.diag_at(
                                Code::UnknownKind,
                                format!("edge kind `{name}` names unknown node kind `{n}`"),
                                file,
                                s,
                            );
                            b.push_diag(d.help("declare the kind under `schema.kinds` first"));
                        }
                    }
                }
                out
            };
            let (from, to) = (kinds(&spec.from), kinds(&spec.to));
            if let Err(e) = b.schema_mut().add_edge_kind(name, &from, &to, &spec.doc) {
                let d = b.diag_at(Code::SchemaConflict, e.to_string(), file, s);
                b.push_diag(d.help("an inventory may add edge kinds but not change existing ones"));
            }
        }
    }
}

/// What one input file gave when it was converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The file's name as given.
    pub file: String,
    /// Records the adapter read (users, objects, rows, nodes and edges).
    pub records: u64,
    /// Nodes it produced (after merging records of one id).
    pub nodes: u64,
    /// Edges it produced.
    pub edges: u64,
    /// Diagnostics pointing into the file, by code and severity.
    pub problems: BTreeMap<(&'static str, crate::diag::Severity), u64>,
}

/// What adapters produce: nodes, edges, schema extensions, and the problems
/// they found, with the source files the records point into.
#[derive(Default)]
pub struct Inventory {
    /// The files records point into.
    pub files: Vec<Arc<SourceFile>>,
    /// Schema extensions the records need.
    pub schema: SchemaSection,
    /// Nodes, in source order.
    pub nodes: Vec<NodeRecord>,
    /// Edges, in source order.
    pub edges: Vec<EdgeRecord>,
    /// Problems found while converting.
    pub diags: Diagnostics,
    /// Records the adapter read from each file (index as in `files`): users,
    /// objects, rows, OpenGraph nodes and edges.
    pub records_read: Vec<u64>,
    index: HashMap<String, usize>,
}

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a source file and returns its index for [`Origin::file`].
    pub fn add_file(&mut self, f: Arc<SourceFile>) -> u32 {
        self.files.push(f);
        self.records_read.push(0);
        self.files.len() as u32 - 1
    }

    /// Records that `n` records were read from file `file`.
    pub fn set_records_read(&mut self, file: u32, n: u64) {
        if let Some(r) = self.records_read.get_mut(file as usize) {
            *r = n;
        }
    }

    /// What each file gave: records read, nodes and edges kept, and the
    /// diagnostics that point into it by code (each record an adapter or the
    /// loader left out has one).
    pub fn summary(&self, diags: &Diagnostics) -> Vec<FileSummary> {
        let mut out: Vec<FileSummary> = self
            .files
            .iter()
            .zip(&self.records_read)
            .map(|(f, &records)| FileSummary {
                file: f.name().to_owned(),
                records,
                nodes: 0,
                edges: 0,
                problems: BTreeMap::new(),
            })
            .collect();
        for n in &self.nodes {
            if let Some(s) = out.get_mut(n.origin.file as usize) {
                s.nodes += 1;
            }
        }
        for e in &self.edges {
            if let Some(s) = out.get_mut(e.origin.file as usize) {
                s.edges += 1;
            }
        }
        for d in diags.iter() {
            let Some(f) = &d.file else { continue };
            // Files are few; match by name (several files cannot share one).
            if let Some(s) = out.iter_mut().find(|s| s.file == f.name()) {
                *s.problems.entry((d.code.as_str(), d.severity)).or_default() += 1;
            }
        }
        out
    }

    /// A diagnostic at `span` of file `file`.
    pub fn diag(&self, code: Code, message: impl Into<String>, file: u32, span: Span) -> Diag {
        let d = Diag::error(code, message);
        match self.files.get(file as usize) {
            Some(f) => d.in_file(f).label(span, ""),
            None => d,
        }
    }

    /// Whether a node with this id exists.
    pub fn has_node(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&NodeRecord> {
        self.index.get(id).and_then(|&i| self.nodes.get(i))
    }

    /// The node with this id, to add attributes.
    pub fn node_mut(&mut self, id: &str) -> Option<&mut NodeRecord> {
        self.index.get(id).and_then(|&i| self.nodes.get_mut(i))
    }

    /// Adds a node, or merges it into an earlier node with the same id and
    /// kind (missing attributes are filled; a different value is a warning and
    /// the earlier one is kept). A same id with another kind is kept as a
    /// second record, and loading reports the duplicate.
    ///
    /// A record marked `inferred` (known only because another record names
    /// it) gives way to the node's own record: the own record replaces it,
    /// and an inferred record for a node that already has one is dropped.
    pub fn add_node(&mut self, rec: NodeRecord) {
        if let Some(&i) = self.index.get(&rec.id) {
            let mut warnings = Vec::new();
            if let Some(existing) = self.nodes.get_mut(i)
                && existing.kind == rec.kind
            {
                match (is_inferred(existing), is_inferred(&rec)) {
                    (true, false) => {
                        *existing = rec;
                        return;
                    }
                    (false, true) => return,
                    _ => {}
                }
                for (name, value) in rec.attrs {
                    match existing.get(&name) {
                            None => existing.attrs.push((name, value)),
                            Some(old) if *old == value => {}
                            Some(old) => warnings.push(format!(
                                "`{}` has `{name}` = {} here but {} in an earlier record; the earlier value is kept",
                                rec.id,
                                show(&value),
                                show(old)
                            )),
                        }
                }
                for w in warnings {
                    let mut d =
                        self.diag(Code::ConflictingValue, w, rec.origin.file, rec.origin.span);
                    d.severity = crate::diag::Severity::Warning;
                    self.diags
                        .push(d.help("fix the source that is wrong, or drop one of the inputs"));
                }
                return;
            }
        } else {
            self.index.insert(rec.id.clone(), self.nodes.len());
        }
        self.nodes.push(rec);
    }

    /// Adds an edge.
    pub fn add_edge(&mut self, e: EdgeRecord) {
        self.edges.push(e);
    }

    /// Appends another inventory (files, schema, nodes merged by id, edges, diagnostics).
    pub fn extend(&mut self, other: Inventory) {
        let base = self.files.len() as u32;
        self.files.extend(other.files);
        self.records_read.extend(other.records_read);
        for (k, spec) in other.schema.kinds {
            let mine = self.schema.kinds.entry(k).or_default();
            for (a, t) in spec.attributes {
                mine.attributes.entry(a).or_insert(t);
            }
        }
        for (k, spec) in other.schema.edges {
            self.schema.edges.entry(k).or_insert(spec);
        }
        for mut n in other.nodes {
            n.origin.file += base;
            self.add_node(n);
        }
        for mut e in other.edges {
            e.origin.file += base;
            self.edges.push(e);
        }
        self.diags.extend(other.diags);
    }

    /// Loads the records into a builder (schema extensions first).
    pub fn load_into(&self, b: &mut GraphBuilder) {
        let ids: Vec<FileId> = self.files.iter().map(|f| b.add_file(f.clone())).collect();
        let fid = |o: &Origin| ids.get(o.file as usize).copied().unwrap_or(FileId(0));
        if let Some(first) = ids.first() {
            self.schema.apply(b, *first, Span::default());
        }
        for d in self.diags.iter() {
            b.push_diag(d.clone());
        }
        for n in &self.nodes {
            let at = Site { file: fid(&n.origin), record: n.origin.record, span: n.origin.span };
            b.add_node(&n.id, &n.kind, &n.attrs, &at);
        }
        for e in &self.edges {
            let at = Site { file: fid(&e.origin), record: e.origin.record, span: e.origin.span };
            b.add_edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional, &at);
        }
    }
}

fn is_inferred(rec: &NodeRecord) -> bool {
    rec.get("inferred") == Some(&Input::Bool(true))
}

fn show(v: &Input<'_>) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
