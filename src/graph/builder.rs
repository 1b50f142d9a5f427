//! [`GraphBuilder`]: collects nodes, attributes and edges from any number of
//! files, validates them against the schema as they come (types, kinds,
//! duplicate ids), and on [`GraphBuilder::finish`] resolves edges (dangling
//! ends, allowed endpoint kinds) and freezes a [`Graph`]. Every problem is a
//! [`Diag`] with the file and the best span known; nothing panics and nothing
//! is dropped without a diagnostic.

use std::borrow::Cow;
use std::sync::Arc;

use petgraph::graph::DiGraph;

use crate::diag::{Code, Diag, Diagnostics, did_you_mean};
use crate::graph::column::{Cell, Column, Interner, NONE};
use crate::graph::schema::{AttrType, EdgeKindId, KindId, Schema};
use crate::graph::store::{Csr, Graph, NodeId, NodeMeta, Provenance};
use crate::source::{SourceFile, Span};
use crate::time::{Duration, Timestamp};

mod prepared;
pub(crate) use prepared::{PreparedAttr, PreparedEdge, PreparedNode, Preparer};

/// An attribute value as a loader read it, before it is checked against the
/// schema. Strings borrow from the input where they can.
#[derive(Clone, Debug, PartialEq)]
pub enum Input<'a> {
    /// `null`: the same as leaving the attribute out.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (timestamps, durations and enums are written as strings).
    Str(Cow<'a, str>),
    /// A timestamp an adapter already parsed.
    Time(Timestamp),
    /// A duration an adapter already parsed.
    Duration(Duration),
    /// A list.
    List(Vec<Input<'a>>),
}

impl Input<'_> {
    /// An owned string value.
    pub fn str(s: impl Into<String>) -> Input<'static> {
        Input::Str(Cow::Owned(s.into()))
    }

    /// A list of owned strings.
    pub fn strs<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Input<'static> {
        Input::List(items.into_iter().map(|s| Input::str(s)).collect())
    }

    /// The JSON type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Input::Null => "null",
            Input::Bool(_) => "bool",
            Input::Int(_) => "int",
            Input::Float(_) => "float",
            Input::Str(_) => "string",
            Input::Time(_) => "timestamp",
            Input::Duration(_) => "duration",
            Input::List(_) => "list",
        }
    }

    /// A copy that owns its strings.
    pub fn into_owned(self) -> Input<'static> {
        match self {
            Input::Null => Input::Null,
            Input::Bool(b) => Input::Bool(b),
            Input::Int(i) => Input::Int(i),
            Input::Float(f) => Input::Float(f),
            Input::Str(s) => Input::Str(Cow::Owned(s.into_owned())),
            Input::Time(t) => Input::Time(t),
            Input::Duration(d) => Input::Duration(d),
            Input::List(l) => Input::List(l.into_iter().map(Input::into_owned).collect()),
        }
    }
}

/// A file registered with a [`GraphBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId(pub u32);

/// Where a record sits: its file, its index in its list, and its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    /// The file.
    pub file: FileId,
    /// Zero-based index in the file's node or edge list.
    pub record: u32,
    /// The record's bytes in the file (empty when unknown).
    pub span: Span,
}

/// What [`GraphBuilder::finish`] does with errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Any error fails the load; every error is listed.
    #[default]
    Strict,
    /// Invalid records are skipped; their errors become warnings.
    Lenient,
}

/// A loaded graph with the warnings of its load.
pub struct Loaded {
    /// The graph.
    pub graph: Graph,
    /// Warnings (and, in lenient mode, the errors turned into warnings).
    pub diagnostics: Diagnostics,
}

const PLACEHOLDER: u16 = u16::MAX;
const FAILED: u16 = u16::MAX - 1;

/// Edges from which the two adjacency directions are built on two threads.
const PARALLEL_CSR_EDGES: usize = 1 << 15;

#[derive(Clone, Copy)]
struct Slot {
    kind: u16,
    row: u32,
}

struct PendingEdge {
    from: u32,
    to: u32,
    kind: EdgeKindId,
    optional: bool,
    label: u32,
    prov: Provenance,
    span: Span,
}

struct FileState {
    src: Arc<SourceFile>,
    cursor: usize,
    line: u32,
}

/// Collects an inventory (from one or many files) and freezes it into a [`Graph`].
pub struct GraphBuilder {
    schema: Schema,
    files: Vec<FileState>,
    ids: Interner,
    slots: Vec<Slot>,
    node_prov: Vec<Provenance>,
    by_kind: Vec<Vec<u32>>,
    columns: Vec<Vec<Column>>,
    strings: Interner,
    edges: Vec<PendingEdge>,
    diags: Diagnostics,
    full: bool,
    last_from: Option<u32>,
    key_locator: KeyLocator,
}

/// Where a key is written in a record's text: its byte range within the
/// text, or `None`. The reader of a text format supplies it
/// ([`GraphBuilder::with_key_locator`]); the graph knows no format, so
/// without one a diagnostic about a key points at the whole record.
pub type KeyLocator = fn(record: &str, key: &str) -> Option<(usize, usize)>;

impl GraphBuilder {
    /// A builder validating against `schema`.
    pub fn new(schema: Schema) -> Self {
        Self {
            schema,
            files: Vec::new(),
            ids: Interner::default(),
            slots: Vec::new(),
            node_prov: Vec::new(),
            by_kind: Vec::new(),
            columns: Vec::new(),
            strings: Interner::default(),
            edges: Vec::new(),
            diags: Diagnostics::new(),
            full: false,
            last_from: None,
            key_locator: |_, _| None,
        }
    }

    /// How diagnostics find a key inside a record's text (see [`KeyLocator`]).
    pub fn with_key_locator(mut self, locate: KeyLocator) -> Self {
        self.key_locator = locate;
        self
    }

    /// Reserves room for about `nodes` nodes, `edges` edges and `bytes` of ids.
    pub fn reserve(&mut self, nodes: usize, edges: usize, bytes: usize) {
        self.ids.reserve(nodes, bytes);
        self.strings.reserve(nodes, 0);
        self.slots.reserve(nodes);
        self.node_prov.reserve(nodes);
        self.edges.reserve(edges);
    }

    /// The schema, with any extensions made so far.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The schema, to extend it (an inventory's `schema` section).
    pub fn schema_mut(&mut self) -> &mut Schema {
        &mut self.schema
    }

    /// Registers a source file; records then point into it with a [`Site`].
    pub fn add_file(&mut self, src: Arc<SourceFile>) -> FileId {
        self.files.push(FileState { src, cursor: 0, line: 1 });
        FileId(self.files.len() as u32 - 1)
    }

    /// The source of a registered file.
    pub fn file(&self, f: FileId) -> Option<&Arc<SourceFile>> {
        self.files.get(f.0 as usize).map(|s| &s.src)
    }

    /// Adds a diagnostic found by a loader.
    pub fn push_diag(&mut self, d: Diag) {
        self.diags.push(d);
    }

    /// The diagnostics so far.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diags
    }

    /// Number of nodes added so far.
    pub fn node_count(&self) -> usize {
        self.node_prov.len()
    }

    /// A diagnostic pointing at `span` in `file`.
    pub fn diag_at(&self, code: Code, message: String, file: FileId, span: Span) -> Diag {
        let d = Diag::error(code, message);
        match self.file(file) {
            Some(f) => d.in_file(f).label(span, ""),
            None => d,
        }
    }

    /// One-based line of `offset`, counted incrementally (loaders go forwards).
    fn line_of(&mut self, file: FileId, offset: usize) -> u32 {
        let Some(st) = self.files.get_mut(file.0 as usize) else { return 0 };
        if offset < st.cursor {
            st.cursor = 0;
            st.line = 1;
        }
        let text = st.src.text().as_bytes();
        let chunk = text.get(st.cursor..offset.min(text.len())).unwrap_or(&[]);
        st.line += chunk.iter().filter(|&&b| b == b'\n').count() as u32;
        st.cursor = offset.min(text.len());
        st.line
    }

    fn prov(&mut self, at: &Site) -> Provenance {
        let line = if at.span.is_empty() && at.span.start == 0 {
            0
        } else {
            self.line_of(at.file, at.span.start)
        };
        Provenance { file: at.file.0, record: at.record, line }
    }

    /// The span of `key` inside the record at `at`, as the builder's
    /// [`KeyLocator`] finds it, else the record's span.
    pub fn key_span(&self, at: &Site, key: &str) -> Span {
        let text = self.file(at.file).and_then(|f| f.text().get(at.span.start..at.span.end));
        match text.and_then(|t| (self.key_locator)(t, key)) {
            Some((start, end)) => Span::new(at.span.start + start, at.span.start + end),
            None => at.span,
        }
    }

    fn too_large(&mut self, at: &Site) {
        if !self.full {
            self.full = true;
            let d = self.diag_at(
                Code::InventoryTooLarge,
                "the inventory exceeds the graph's limits (4 GiB of ids or strings, 4 billion nodes)".into(),
                at.file,
                at.span,
            );
            self.diags.push(d.help("split the inventory by account or tenant"));
        }
    }

    fn ensure_columns(&mut self, k: KindId) {
        let ki = usize::from(k.0);
        while self.columns.len() <= ki {
            self.columns.push(Vec::new());
            self.by_kind.push(Vec::new());
        }
        let rows = self.by_kind.get(ki).map_or(0, Vec::len);
        let Some(def) = self.schema.kind_def(k) else { return };
        if let Some(cols) = self.columns.get_mut(ki) {
            for a in def.attrs.iter().skip(cols.len()) {
                cols.push(Column::new(&a.ty, rows));
            }
        }
    }

    /// Adds a node with its attributes. Returns its slot, or `None` when the
    /// node was rejected (the reason is in the diagnostics).
    pub fn add_node<K: AsRef<str>>(
        &mut self,
        id: &str,
        kind: &str,
        attrs: &[(K, Input<'_>)],
        at: &Site,
    ) -> Option<NodeId> {
        let Some(k) = self.schema.kind(kind) else {
            let hint = did_you_mean(kind, self.schema.kind_names());
            let known: Vec<&str> = self.schema.kinds().map(|(_, d)| d.name.as_str()).collect();
            let span = self.key_span(at, "kind");
            let d = self.diag_at(
                Code::UnknownKind,
                format!("unknown node kind `{kind}`"),
                at.file,
                span,
            );
            let help = match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => format!(
                    "use one of {}, or declare the kind in the inventory's `schema` section",
                    known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            self.diags.push(d.help(help));
            self.mark_failed(id);
            return None;
        };
        let Ok((sym, _)) = self.ids.intern(id) else {
            self.too_large(at);
            return None;
        };
        let prov = self.prov(at);
        let row = self.place_node(sym, k, id, at, prov)?;
        for (name, value) in attrs {
            self.set_attr(k, row, name.as_ref(), value, at);
        }
        self.check_required(k, row, id, kind, at);
        Some(NodeId(sym))
    }

    /// Gives the node `sym` of kind `k` its slot, row and provenance; `None`
    /// (with a diagnostic) when the id is already defined.
    fn place_node(
        &mut self,
        sym: u32,
        k: KindId,
        id: &str,
        at: &Site,
        prov: Provenance,
    ) -> Option<usize> {
        if let Some(slot) = self.slots.get(sym as usize).copied()
            && slot.kind != PLACEHOLDER
        {
            let first = self.node_prov.get(sym as usize).copied().unwrap_or_default();
            let first_file = self.file(FileId(first.file)).map_or("", |f| f.name()).to_owned();
            let span = self.key_span(at, "id");
            let d =
                self.diag_at(Code::DuplicateId, format!("duplicate node id `{id}`"), at.file, span);
            self.diags.push(d.help(format!(
                    "the id is first defined in `{first_file}` at line {} (record {}); ids must be unique across all loaded files",
                    first.line, first.record
                )));
            return None;
        }
        self.ensure_columns(k);
        let ki = usize::from(k.0);
        let row = self.by_kind.get(ki).map_or(0, Vec::len);
        if let Some(cols) = self.columns.get_mut(ki) {
            cols.iter_mut().for_each(Column::push_missing);
        }
        if let Some(list) = self.by_kind.get_mut(ki) {
            list.push(sym);
        }
        let slot = Slot { kind: k.0, row: row as u32 };
        if (sym as usize) < self.slots.len() {
            if let Some(s) = self.slots.get_mut(sym as usize) {
                *s = slot;
            }
            if let Some(p) = self.node_prov.get_mut(sym as usize) {
                *p = prov;
            }
        } else {
            self.slots.push(slot);
            self.node_prov.push(prov);
        }
        Some(row)
    }

    /// Diagnostics for required attributes that node `id` (row `row` of kind
    /// `k`, called `kind` in the record) lacks.
    fn check_required(&mut self, k: KindId, row: usize, id: &str, kind: &str, at: &Site) {
        let ki = usize::from(k.0);
        let missing: Vec<String> = self
            .schema
            .kind_def(k)
            .map(|def| {
                def.attrs()
                    .filter(|(a, d)| {
                        d.required
                            && self
                                .columns
                                .get(ki)
                                .and_then(|c| c.get(usize::from(a.0)))
                                .is_none_or(|c| c.is_missing(row))
                    })
                    .map(|(_, d)| d.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        for name in missing {
            let span = self.key_span(at, "attrs");
            let d = self.diag_at(
                Code::MissingAttribute,
                format!("node `{id}` of kind `{kind}` lacks the required attribute `{name}`"),
                at.file,
                span,
            );
            self.diags.push(d.help(format!("add `\"{name}\"` to the node's attributes")));
        }
    }

    fn mark_failed(&mut self, id: &str) {
        if let Ok((sym, new)) = self.ids.intern(id) {
            if new {
                self.slots.push(Slot { kind: FAILED, row: NONE });
                self.node_prov.push(Provenance::default());
            } else if let Some(s) = self.slots.get_mut(sym as usize)
                && s.kind == PLACEHOLDER
            {
                s.kind = FAILED;
            }
        }
    }

    fn set_attr(&mut self, k: KindId, row: usize, name: &str, value: &Input<'_>, at: &Site) {
        if matches!(value, Input::Null) {
            return;
        }
        let Some(a) = self.schema.attr(k, name) else {
            let def = self.schema.kind_def(k);
            let kind = def.map_or("", |d| d.name.as_str());
            let hint =
                def.and_then(|d| did_you_mean(name, d.attrs.iter().map(|a| a.name.as_str())));
            let span = self.key_span(at, name);
            let d = self.diag_at(
                Code::UnknownAttribute,
                format!("kind `{kind}` has no attribute `{name}`"),
                at.file,
                span,
            );
            let help = match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => format!("declare it in the inventory's `schema` section under `{kind}`"),
            };
            self.diags.push(d.help(help));
            return;
        };
        let Some(def) = self.schema.attr_def(k, a) else { return };
        let result = match &def.ty {
            AttrType::List(elem) => match value {
                Input::List(items) => items
                    .iter()
                    .map(|item| cell(elem, item, &mut self.strings))
                    .collect::<Result<Vec<Cell>, CellError>>()
                    .map(|cells| {
                        if let Some(col) = self
                            .columns
                            .get_mut(usize::from(k.0))
                            .and_then(|c| c.get_mut(usize::from(a.0)))
                        {
                            col.set_list(row, cells);
                        }
                    }),
                other => Err(CellError::Type(other.type_name())),
            },
            ty => cell(ty, value, &mut self.strings).map(|c| {
                if let Some(col) =
                    self.columns.get_mut(usize::from(k.0)).and_then(|c| c.get_mut(usize::from(a.0)))
                {
                    col.set(row, c);
                }
            }),
        };
        if let Err(e) = result {
            let ty = def.ty.clone();
            let kind = self.schema.kind_name(k).to_owned();
            let span = self.key_span(at, name);
            let (code, msg, help) = match e {
                CellError::Type(got) => (
                    Code::WrongType,
                    format!("attribute `{kind}.{name}` expects {}, found {got}", article(&ty)),
                    format!("write the value as {}", example(&ty)),
                ),
                CellError::Date(text, why) => (
                    Code::IngestInvalidDate,
                    format!("attribute `{kind}.{name}` has an invalid timestamp `{text}`: {why}"),
                    "write an RFC 3339 timestamp such as `2026-01-31T12:00:00Z` or a date `2026-01-31`".into(),
                ),
                CellError::Value(msg, help) => {
                    (Code::InvalidValue, format!("attribute `{kind}.{name}` {msg}"), help)
                }
                CellError::Full => {
                    self.too_large(at);
                    return;
                }
            };
            let d = self.diag_at(code, msg, at.file, span);
            self.diags.push(d.help(help));
        }
    }

    /// Adds an edge `from -[kind]-> to` between node ids, resolved at
    /// [`GraphBuilder::finish`]. An `optional` edge whose end is not loaded is
    /// skipped with a warning instead of an error (links into other systems).
    pub fn add_edge(
        &mut self,
        from: &str,
        to: &str,
        kind: &str,
        label: Option<&str>,
        optional: bool,
        at: &Site,
    ) {
        let Some(k) = self.schema.edge_kind(kind) else {
            let hint = did_you_mean(kind, self.schema.edge_kinds().map(|(_, d)| d.name.as_str()));
            let span = self.key_span(at, "kind");
            let d = self.diag_at(
                Code::UnknownEdgeKind,
                format!("unknown edge kind `{kind}`"),
                at.file,
                span,
            );
            let help = match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => "declare it in the inventory's `schema.edges` section".into(),
            };
            self.diags.push(d.help(help));
            return;
        };
        // Inventories list a node's edges together: reuse the last source.
        let a = match self.last_from {
            Some(sym) if self.ids.get(sym) == from => Ok(sym),
            _ => self.slot_for(from),
        };
        if let Ok(sym) = a {
            self.last_from = Some(sym);
        }
        let (Ok(a), Ok(b)) = (a, self.slot_for(to)) else {
            self.too_large(at);
            return;
        };
        let label = match label {
            Some(l) => match self.strings.intern(l) {
                Ok((s, _)) => s,
                Err(_) => {
                    self.too_large(at);
                    return;
                }
            },
            None => NONE,
        };
        let prov = self.prov(at);
        self.edges.push(PendingEdge {
            from: a,
            to: b,
            kind: k,
            optional,
            label,
            prov,
            span: at.span,
        });
    }

    fn slot_for(&mut self, id: &str) -> Result<u32, ()> {
        let (sym, new) = self.ids.intern(id).map_err(|_| ())?;
        self.slot_of(sym, new)
    }

    /// [`GraphBuilder::slot_for`] with the hash of `id` given.
    fn slot_for_hashed(&mut self, id: &str, hash: u64) -> Result<u32, ()> {
        let (sym, new) = self.ids.intern_hashed(id, hash).map_err(|_| ())?;
        self.slot_of(sym, new)
    }

    fn slot_of(&mut self, sym: u32, new: bool) -> Result<u32, ()> {
        if new {
            self.slots.push(Slot { kind: PLACEHOLDER, row: NONE });
            self.node_prov.push(Provenance::default());
        }
        Ok(sym)
    }

    /// Resolves edges, checks them against the schema and freezes the graph.
    pub fn finish(mut self, mode: Mode) -> Result<Loaded, Diagnostics> {
        // Renumber when some ids were only mentioned (dangling) or rejected.
        let all_defined = self.slots.iter().all(|s| s.kind != PLACEHOLDER && s.kind != FAILED);
        let remap: Option<Vec<u32>> = (!all_defined).then(|| {
            let mut next = 0u32;
            self.slots
                .iter()
                .map(|s| {
                    if s.kind == PLACEHOLDER || s.kind == FAILED {
                        NONE
                    } else {
                        next += 1;
                        next - 1
                    }
                })
                .collect()
        });
        let node_of = |sym: u32| -> u32 {
            match &remap {
                Some(r) => r.get(sym as usize).copied().unwrap_or(NONE),
                None => sym,
            }
        };
        // Edges.
        let pending = std::mem::take(&mut self.edges);
        let mut kept: Vec<(u32, u32, EdgeKindId, u32, Provenance)> =
            Vec::with_capacity(pending.len());
        let mut unresolved = 0usize;
        // A "did you mean" scans every id: a few per load, not one per
        // dangling edge (a broken export can have millions).
        let mut hints_left = ID_HINTS_PER_LOAD;
        for e in &pending {
            let (sa, sb) =
                (self.slots.get(e.from as usize).copied(), self.slots.get(e.to as usize).copied());
            let (Some(sa), Some(sb)) = (sa, sb) else { continue };
            if sa.kind == FAILED || sb.kind == FAILED {
                // The node's own diagnostic is the root cause; do not cascade.
                continue;
            }
            if sa.kind == PLACEHOLDER || sb.kind == PLACEHOLDER {
                let missing = if sa.kind == PLACEHOLDER { e.from } else { e.to };
                let missing_id = self.ids.get(missing).to_owned();
                let end = if sa.kind == PLACEHOLDER { "source" } else { "target" };
                let fid = FileId(e.prov.file);
                if e.optional {
                    unresolved += 1;
                    let mut d = self.diag_at(
                        Code::UnresolvedEdge,
                        format!("optional edge `{}` has no {end} `{missing_id}` in the loaded inventories", self.schema.edge_name(e.kind)),
                        fid,
                        e.span,
                    );
                    d.severity = crate::diag::Severity::Warning;
                    self.diags.push(d.help(
                        "load the inventory that defines it to link them; the edge is skipped",
                    ));
                } else {
                    let hint = if hints_left > 0 {
                        hints_left -= 1;
                        did_you_mean_id(&self.ids, &missing_id)
                    } else {
                        None
                    };
                    let d = self.diag_at(
                        Code::DanglingEdge,
                        format!(
                            "edge `{}` points to unknown {end} `{missing_id}`",
                            self.schema.edge_name(e.kind)
                        ),
                        fid,
                        e.span,
                    );
                    let help = match hint {
                        Some(h) => format!("did you mean `{h}`? no node has the id `{missing_id}`"),
                        None => format!(
                            "add a node with id `{missing_id}`, or load the file that defines it"
                        ),
                    };
                    self.diags.push(d.help(help));
                }
                continue;
            }
            let allowed = self
                .schema
                .edge_def(e.kind)
                .is_none_or(|d| d.allows(KindId(sa.kind), KindId(sb.kind)));
            if !allowed {
                let ename = self.schema.edge_name(e.kind).to_owned();
                let (fk, tk) = (
                    self.schema.kind_name(KindId(sa.kind)).to_owned(),
                    self.schema.kind_name(KindId(sb.kind)).to_owned(),
                );
                let expect = self.schema.edge_def(e.kind).map(|d| {
                    let names = |ks: &[KindId]| {
                        if ks.is_empty() {
                            "any kind".to_owned()
                        } else {
                            ks.iter()
                                .map(|k| format!("`{}`", self.schema.kind_name(*k)))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        }
                    };
                    format!("`{ename}` goes from {} to {}", names(&d.from), names(&d.to))
                });
                let d = self.diag_at(
                    Code::EdgeNotAllowed,
                    format!("edge `{ename}` cannot go from a `{fk}` to a `{tk}`"),
                    FileId(e.prov.file),
                    e.span,
                );
                self.diags.push(d.help(expect.unwrap_or_default()));
                continue;
            }
            kept.push((node_of(e.from), node_of(e.to), e.kind, e.label, e.prov));
        }
        drop(pending);
        let _ = unresolved;
        if mode == Mode::Strict && self.diags.has_errors() {
            return Err(self.diags);
        }
        if mode == Mode::Lenient {
            self.diags = self
                .diags
                .into_iter()
                .map(|mut d| {
                    d.severity = crate::diag::Severity::Warning;
                    d
                })
                .collect::<Vec<_>>()
                .into_iter()
                .fold(Diagnostics::new(), |mut acc, d| {
                    acc.push(d);
                    acc
                });
        }
        // Nodes.
        let (ids, slots, node_prov, by_kind) = match &remap {
            None => (self.ids, self.slots, self.node_prov, self.by_kind),
            Some(r) => {
                let mut ids = Interner::with_capacity(self.slots.len(), 0);
                let mut slots = Vec::new();
                let mut prov = Vec::new();
                for (sym, s) in self.slots.iter().enumerate() {
                    if r.get(sym).copied().unwrap_or(NONE) != NONE {
                        let _ = ids.intern(self.ids.get(sym as u32));
                        slots.push(*s);
                        prov.push(self.node_prov.get(sym).copied().unwrap_or_default());
                    }
                }
                let by_kind = self
                    .by_kind
                    .into_iter()
                    .map(|v| {
                        v.into_iter()
                            .map(|sym| r.get(sym as usize).copied().unwrap_or(NONE))
                            .collect()
                    })
                    .collect();
                (ids, slots, prov, by_kind)
            }
        };
        let n = slots.len();
        let mut topo: DiGraph<KindId, EdgeKindId, u32> = DiGraph::with_capacity(n, kept.len());
        let mut node_meta = Vec::with_capacity(n);
        for s in &slots {
            topo.add_node(KindId(s.kind));
            node_meta.push(NodeMeta { row: s.row, kind: KindId(s.kind) });
        }
        drop(slots);
        let mut out = Vec::with_capacity(kept.len());
        let mut inc = Vec::with_capacity(kept.len());
        let mut edge_label = Vec::with_capacity(kept.len());
        let mut edge_prov = Vec::with_capacity(kept.len());
        for (i, (a, b, k, label, prov)) in kept.into_iter().enumerate() {
            topo.add_edge(a.into(), b.into(), k);
            out.push((a, k, b, i as u32));
            inc.push((b, k, a, i as u32));
            edge_label.push(label);
            edge_prov.push(prov);
        }
        // The two directions are independent: build them side by side, unless
        // the graph is so small that starting a thread costs more.
        let (out, inc) = if out.len() < PARALLEL_CSR_EDGES {
            (Csr::build(n, &out), Csr::build(n, &inc))
        } else {
            std::thread::scope(|scope| {
                let handle = scope.spawn(|| Csr::build(n, &inc));
                let out = Csr::build(n, &out);
                let inc = match handle.join() {
                    Ok(csr) => csr,
                    Err(_) => Csr::build(n, &inc),
                };
                (out, inc)
            })
        };
        let mut columns = self.columns;
        for c in columns.iter_mut().flatten() {
            c.shrink();
        }
        let mut by_kind: Vec<Vec<NodeId>> =
            by_kind.into_iter().map(|v: Vec<u32>| v.into_iter().map(NodeId).collect()).collect();
        while by_kind.len() < self.schema.kind_count() {
            by_kind.push(Vec::new());
        }
        let mut ids = ids;
        ids.shrink();
        let mut strings = self.strings;
        strings.shrink();
        let mut node_prov = node_prov;
        node_prov.shrink_to_fit();
        let files = self.files.iter().map(|f| f.src.name().to_owned()).collect();
        let by_kind_rank = by_kind.iter().map(|_| std::sync::OnceLock::new()).collect();
        let graph = Graph {
            schema: self.schema,
            topo,
            ids,
            node_meta,
            by_kind,
            by_kind_rank,
            columns,
            strings,
            out,
            inc,
            edge_label,
            node_prov,
            edge_prov,
            files,
        };
        Ok(Loaded { graph, diagnostics: self.diags })
    }
}

/// Dangling edges of one load that get a "did you mean" hint: more than
/// people read (10 of a code per file are shown), few enough that the scans
/// cost nothing next to the load.
const ID_HINTS_PER_LOAD: usize = 32;

/// A close id for a dangling edge (a typo), checked against ids of similar
/// length only when the graph is small enough for the scan to be cheap.
fn did_you_mean_id(ids: &Interner, id: &str) -> Option<String> {
    if ids.len() > 100_000 {
        return None;
    }
    // An edit distance is at least the difference in characters, and a
    // character is at most 4 bytes: ids far longer or shorter cannot be close.
    let reach = 4 * (id.chars().count() / 3).max(1);
    let names = (0..ids.len() as u32)
        .map(|s| ids.get(s))
        .filter(|n| *n != id && n.len().abs_diff(id.len()) <= reach);
    did_you_mean(id, names).map(str::to_owned)
}

fn cell(ty: &AttrType, v: &Input<'_>, strings: &mut Interner) -> Result<Cell, CellError> {
    match (ty, v) {
        (AttrType::Str, Input::Str(s)) => {
            strings.intern(s).map(|(sym, _)| Cell::Str(sym)).map_err(|_| CellError::Full)
        }
        (AttrType::Enum(values), Input::Str(s)) => {
            if !values.iter().any(|x| x == s) {
                let hint = did_you_mean(s, values.iter().map(String::as_str))
                    .map(|h| format!("did you mean `{h}`? "))
                    .unwrap_or_default();
                return Err(CellError::Value(
                    format!("has `{s}`, which is not one of its values"),
                    format!("{hint}allowed values: {}", values.join(", ")),
                ));
            }
            strings.intern(s).map(|(sym, _)| Cell::Str(sym)).map_err(|_| CellError::Full)
        }
        (AttrType::Int, Input::Int(i)) => Ok(Cell::Int(*i)),
        (AttrType::Float, Input::Int(i)) => Ok(Cell::Float(*i as f64)),
        (AttrType::Float, Input::Float(f)) => Ok(Cell::Float(*f)),
        (AttrType::Bool, Input::Bool(b)) => Ok(Cell::Bool(*b)),
        (AttrType::Time, Input::Time(t)) => Ok(Cell::Time(*t)),
        (AttrType::Time, Input::Str(s)) => Timestamp::parse(s)
            .map(Cell::Time)
            .map_err(|e| CellError::Date(s.to_string(), e.to_string())),
        (AttrType::Duration, Input::Duration(d)) => Ok(Cell::Duration(*d)),
        (AttrType::Duration, Input::Str(s)) => {
            Duration::parse(s).map(Cell::Duration).map_err(|e| {
                CellError::Value(
                    format!("has an invalid duration `{s}`: {e}"),
                    "write a duration such as `90d`, `12h` or `1d12h`".into(),
                )
            })
        }
        (_, other) => Err(CellError::Type(other.type_name())),
    }
}

enum CellError {
    Type(&'static str),
    Date(String, String),
    Value(String, String),
    Full,
}

fn article(ty: &AttrType) -> String {
    match ty {
        AttrType::Int => "an `int`".into(),
        AttrType::Enum(_) => "an enum value".into(),
        AttrType::List(t) => format!("a list of `{t}`"),
        t => format!("a `{t}`"),
    }
}

fn example(ty: &AttrType) -> String {
    match ty {
        AttrType::Str => "a JSON string, e.g. `\"payments\"`".into(),
        AttrType::Int => "a whole number, e.g. `2`".into(),
        AttrType::Float => "a number, e.g. `0.5`".into(),
        AttrType::Bool => "`true` or `false`".into(),
        AttrType::Time => "a string such as `\"2026-01-31T12:00:00Z\"`".into(),
        AttrType::Duration => "a string such as `\"90d\"`".into(),
        AttrType::List(t) => format!("a JSON list of {}", example(t)),
        AttrType::Enum(v) => format!("one of {}", v.join(", ")),
    }
}

/// Shared by tests in this module and the loaders' unit tests.
#[cfg(test)]
pub(crate) fn test_site(file: FileId, record: u32) -> Site {
    Site { file, record, span: Span::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> (GraphBuilder, Site) {
        let mut b = GraphBuilder::new(Schema::builtin());
        let f = b.add_file(SourceFile::new("t.json", "{}"));
        (b, test_site(f, 0))
    }

    #[test]
    fn builds_columns_and_adjacency() {
        let (mut b, at) = builder();
        b.add_node(
            "alice",
            "identity",
            &[("type", Input::str("human")), ("active", Input::Bool(true))],
            &at,
        );
        b.add_node("svc", "identity", &[("type", Input::str("service_account"))], &at);
        b.add_node(
            "key",
            "credential",
            &[("type", Input::str("access_key")), ("rotated_at", Input::str("2026-01-02"))],
            &at,
        );
        b.add_edge("svc", "alice", "owned_by", None, false, &at);
        b.add_edge("svc", "key", "has_credential", None, false, &at);
        let g = b.finish(Mode::Strict).unwrap().graph;
        let s = g.schema();
        let svc = g.lookup("svc").unwrap();
        let alice = g.lookup("alice").unwrap();
        assert_eq!(g.out(svc, s.edge_kind("owned_by").unwrap()), &[alice]);
        assert_eq!(g.inc(alice, s.edge_kind("owned_by").unwrap()), &[svc]);
        assert!(g.out(svc, s.edge_kind("member_of").unwrap()).is_empty());
        let cred = s.kind("credential").unwrap();
        let key = g.nodes_of_kind(cred)[0];
        assert_eq!(
            g.attr(key, s.attr(cred, "rotated_at").unwrap()),
            crate::graph::Value::Time(Timestamp::parse("2026-01-02").unwrap())
        );
        assert_eq!(g.attr_by_name(alice, "active"), crate::graph::Value::Bool(true));
        assert!(g.attr_by_name(svc, "active").is_missing());
        assert_eq!(g.topology().edge_count(), 2);
    }

    #[test]
    fn lenient_drops_dangling_edges_with_a_warning() {
        let (mut b, at) = builder();
        b.add_node("a", "group", &[] as &[(&str, Input<'_>)], &at);
        b.add_edge("a", "nope", "member_of", None, false, &at);
        let loaded = b.finish(Mode::Lenient).unwrap();
        assert_eq!(loaded.graph.node_count(), 1);
        assert_eq!(loaded.graph.edge_count(), 0);
        assert_eq!(loaded.diagnostics.warning_count(), 1);
        assert_eq!(loaded.graph.lookup("nope"), None);
    }
}
