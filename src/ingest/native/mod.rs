//! The native inventory format `gov.inventory/v1`, in JSON or YAML (see
//! `docs/inventory.md` and `schemas/inventory.schema.json`): reading it into
//! a [`GraphBuilder`] and writing it from adapter records.
//!
//! JSON is read record by record: the document is parsed once into borrowed
//! raw records, each record is then parsed on its own, so its byte offset is
//! known (provenance and spans) without a span-aware JSON parser.

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

/// What the parsing thread sends, in document order.
enum Msg<'a> {
    Format(Option<Cow<'a, str>>),
    Schema(&'a RawValue),
    Records(Batch<'a>),
    /// Records split but not parsed, with their lines: sent when the loading
    /// thread has nothing queued, so that it parses them itself instead of
    /// waiting (the parsing thread goes on splitting the next ones).
    Raw {
        raws: Vec<&'a RawValue>,
        lines: Vec<u32>,
        first: usize,
        edges: bool,
    },
    Malformed(serde_json::Error),
}

type Sender<'a> = std::sync::mpsc::SyncSender<Msg<'a>>;

/// The parsing thread's state: what it needs to prepare records (see
/// [`Preparer`]) and its line counter.
struct ParseState<'a> {
    text: &'a str,
    tx: Sender<'a>,
    /// The schema as extended by the document's `schema` section comes back here.
    schema_rx: std::sync::mpsc::Receiver<crate::graph::Schema>,
    prep: Preparer,
    /// The builder's string interner while the load runs: string values of
    /// prepared records are interned here, once the document's format is
    /// known to be this one, while the loading thread is behind (see
    /// `queued`); else they are only hashed, and interned when inserted.
    strings: &'a Mutex<Interner>,
    format_ok: bool,
    /// Batches sent and not yet taken by the loading thread. Interning the
    /// strings here when it lags, and there when it does not, keeps both
    /// threads busy whichever is faster on a machine and an inventory.
    queued: &'a AtomicUsize,
    split: Split,
    /// Batches the loading thread is done with come back here to be freed
    /// on the thread that allocated them (freeing another thread's memory
    /// is slow in glibc's allocator).
    done: std::sync::mpsc::Receiver<Batch<'a>>,
    /// Buffers of batches that came back, emptied, for the next batches.
    spare_nodes: Vec<NodeItems<'a>>,
    spare_edges: Vec<EdgeItems<'a>>,
    spare_attrs: Vec<Vec<PreparedAttr>>,
    /// Line counting: `line` is the one-based line of byte `cursor`.
    cursor: usize,
    line: u32,
}

/// Which thread does the work that can go either way: parsing records (the
/// loading thread parses a batch itself when it has nothing queued) and
/// interning string values (the parsing thread does it while the loading
/// thread lags). `Auto` decides by the queue; tests fix each choice.
#[derive(Clone, Copy, Debug)]
enum Split {
    Auto,
    #[cfg(test)]
    Fixed {
        loader_parses: bool,
        parser_interns: bool,
    },
}

impl ParseState<'_> {
    /// Whether the next batch goes to the loading thread unparsed.
    fn send_raw(&self) -> bool {
        self.format_ok
            && match self.split {
                Split::Auto => self.queued.load(Ordering::Relaxed) == 0,
                #[cfg(test)]
                Split::Fixed { loader_parses, .. } => loader_parses,
            }
    }

    /// Whether this thread interns the string values of the next batch.
    fn intern(&self) -> bool {
        self.format_ok
            && match self.split {
                Split::Auto => self.queued.load(Ordering::Relaxed) >= LAGGING,
                #[cfg(test)]
                Split::Fixed { parser_interns, .. } => parser_interns,
            }
    }

    /// Frees the records of batches the loading thread is done with and
    /// keeps their buffers (a few spares at most).
    fn take_back(&mut self) {
        while let Ok(done) = self.done.try_recv() {
            match done {
                Batch::Nodes(mut items, mut attrs, _) => {
                    items.clear();
                    attrs.clear();
                    if self.spare_nodes.len() < 4 {
                        self.spare_nodes.push(items);
                        self.spare_attrs.push(attrs);
                    }
                }
                Batch::Edges(mut items) => {
                    items.clear();
                    if self.spare_edges.len() < 4 {
                        self.spare_edges.push(items);
                    }
                }
            }
        }
    }

    /// The one-based line of byte `offset` (offsets come in increasing order).
    fn line_of(&mut self, offset: usize) -> u32 {
        if offset < self.cursor {
            self.cursor = 0;
            self.line = 1;
        }
        let chunk = self.text.as_bytes().get(self.cursor..offset).unwrap_or(&[]);
        self.line += count_newlines(chunk) as u32;
        self.cursor = offset.max(self.cursor);
        self.line
    }
}

/// The number of `\n` in `bytes`, 64 bytes at a time (a loop the compiler vectorizes).
fn count_newlines(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(64);
    let mut n = 0;
    for c in &mut chunks {
        n += usize::from(c.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>());
    }
    n + chunks.remainder().iter().filter(|&&b| b == b'\n').count()
}

/// The top level of a native JSON document, streamed: records are split
/// and parsed in batches as the document is read, and sent on.
struct DocSeed<'a, 's> {
    st: &'s mut ParseState<'a>,
}

struct RecordsSeed<'a, 's> {
    st: &'s mut ParseState<'a>,
    edges: bool,
}

const TOP_FIELDS: &[&str] = &["format", "metadata", "schema", "nodes", "edges"];

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for DocSeed<'a, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for DocSeed<'a, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an inventory object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let mut format_seen = false;
        while let Some(key) = m.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "format" => {
                    format_seen = true;
                    let f: Cow<'de, str> = m.next_value()?;
                    self.st.format_ok = f == FORMAT;
                    send(&self.st.tx, Msg::Format(Some(f)))?;
                }
                "metadata" => {
                    m.next_value::<serde::de::IgnoredAny>()?;
                }
                "schema" => {
                    let raw: &'de RawValue = m.next_value()?;
                    send(&self.st.tx, Msg::Schema(raw))?;
                    // Records after the section are prepared against the extended schema.
                    if let Ok(schema) = self.st.schema_rx.recv() {
                        self.st.prep.set_schema(schema);
                    }
                }
                "nodes" | "edges" => {
                    let edges = key == "edges";
                    m.next_value_seed(RecordsSeed { st: &mut *self.st, edges })?;
                }
                other => return Err(serde::de::Error::unknown_field(other, TOP_FIELDS)),
            }
        }
        if !format_seen {
            send(&self.st.tx, Msg::Format(None))?;
        }
        Ok(())
    }
}

fn send<'a, E: serde::de::Error>(tx: &Sender<'a>, msg: Msg<'a>) -> Result<(), E> {
    tx.send(msg).map_err(|_| E::custom("the load was cancelled"))
}

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for RecordsSeed<'a, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for RecordsSeed<'a, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut chunk: Vec<&'de RawValue> = Vec::with_capacity(BATCH);
        let mut first = 0;
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            chunk.push(raw);
            if chunk.len() == BATCH {
                self.st.take_back();
                let msg = if self.st.send_raw() {
                    let lines = count_lines(self.st, &chunk);
                    let raws = std::mem::replace(&mut chunk, Vec::with_capacity(BATCH));
                    Msg::Raw { raws, lines, first, edges: self.edges }
                } else {
                    Msg::Records(parse_batch(self.st, &chunk, first, self.edges))
                };
                self.st.queued.fetch_add(1, Ordering::Relaxed);
                send(&self.st.tx, msg)?;
                first += BATCH;
                chunk.clear();
            }
        }
        if !chunk.is_empty() {
            let batch = parse_batch(self.st, &chunk, first, self.edges);
            self.st.queued.fetch_add(1, Ordering::Relaxed);
            send(&self.st.tx, Msg::Records(batch))?;
        }
        Ok(())
    }
}

/// Reads a native JSON inventory: one thread reads the document, splits and
/// parses records in batches, while this one inserts them in order (so node
/// ids and diagnostics come out as in a sequential load).
fn read_json(b: &mut GraphBuilder, src: &Arc<SourceFile>, file: FileId, split: Split) {
    let text = src.text();
    // About one node per 400 bytes of a typical inventory; the tables shrink after the load.
    b.reserve(text.len() / 400, 0, 0);
    let prep = b.preparer();
    // For records the loading thread parses itself (`Msg::Raw`).
    let mut own_prep = b.preparer();
    let mut own = Interner::default();
    b.swap_strings(&mut own);
    let strings = Mutex::new(own);
    let strings = &strings;
    let queued = &AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg<'_>>(8);
        let (schema_tx, schema_rx) = std::sync::mpsc::channel();
        let (done_tx, done) = std::sync::mpsc::channel();
        scope.spawn(move || {
            let mut st = ParseState {
                text,
                tx,
                schema_rx,
                prep,
                strings,
                format_ok: false,
                queued,
                split,
                done,
                spare_nodes: Vec::new(),
                spare_edges: Vec::new(),
                spare_attrs: Vec::new(),
                cursor: 0,
                line: 1,
            };
            let mut de = serde_json::Deserializer::from_str(text);
            let result = serde::de::DeserializeSeed::deserialize(DocSeed { st: &mut st }, &mut de)
                .and_then(|()| de.end());
            if let Err(e) = result {
                let _ = st.tx.send(Msg::Malformed(e));
            }
        });
        // Records wait until the format is known to be this one.
        let mut format_ok: Option<bool> = None;
        let mut held = Vec::new();
        for msg in rx {
            match msg {
                Msg::Format(f) => {
                    let ok = check_format(b, src, f.as_deref());
                    format_ok = Some(ok);
                    for batch in held.drain(..) {
                        if ok {
                            insert(b, src, file, &batch, strings);
                        }
                    }
                }
                Msg::Schema(raw) => {
                    let base = offset_in(text, raw.get());
                    match serde_json::from_str::<SchemaSection>(raw.get()) {
                        Ok(s) => s.apply(b, file, Span::new(base, base + raw.get().len())),
                        Err(e) => {
                            b.push_diag(json_error(
                                src,
                                raw.get(),
                                base,
                                &e,
                                "invalid `schema` section",
                            ));
                        }
                    }
                    let _ = schema_tx.send(b.schema().clone());
                    own_prep.set_schema(b.schema().clone());
                }
                Msg::Records(batch) => {
                    queued.fetch_sub(1, Ordering::Relaxed);
                    match format_ok {
                        Some(true) => {
                            insert(b, src, file, &batch, strings);
                            let _ = done_tx.send(batch);
                        }
                        None => held.push(batch),
                        Some(false) => {}
                    }
                }
                Msg::Raw { raws, lines, first, edges } => {
                    queued.fetch_sub(1, Ordering::Relaxed);
                    if format_ok == Some(false) {
                        continue;
                    }
                    let batch =
                        parse_records(text, &raws, &lines, first, edges, &mut own_prep, None, None);
                    if format_ok == Some(true) {
                        insert(b, src, file, &batch, strings);
                        let _ = done_tx.send(batch);
                    } else {
                        held.push(batch);
                    }
                }
                Msg::Malformed(e) => b.push_diag(json_error(src, text, 0, &e, "invalid inventory")),
            }
        }
    });
    let mut own = std::mem::take(&mut *strings.lock().unwrap_or_else(PoisonError::into_inner));
    b.swap_strings(&mut own);
}

/// Records per parsed batch.
const BATCH: usize = 4096;

/// Batches waiting for the loading thread from which on it is taken to lag.
const LAGGING: usize = 2;

/// A parsed record: its index in its list, its bytes, its line, the record
/// (or why it is not one), and its prepared form when it is plainly valid.
struct Item<T, P> {
    index: usize,
    base: usize,
    len: usize,
    line: u32,
    rec: Result<T, serde_json::Error>,
    prep: Option<P>,
}

type NodeItems<'a> = Vec<Item<NodeRec<'a>, PreparedNode>>;
type EdgeItems<'a> = Vec<Item<EdgeRec<'a>, PreparedEdge>>;

/// Parsed records, in document order.
enum Batch<'a> {
    /// Nodes, and the prepared attributes of all of them in one buffer;
    /// `true` when their string values are interned already.
    Nodes(NodeItems<'a>, Vec<PreparedAttr>, bool),
    Edges(EdgeItems<'a>),
}

/// Parses and prepares records (with their lines counted already).
#[allow(clippy::too_many_arguments)]
fn parse_records<'a>(
    text: &'a str,
    raws: &[&'a RawValue],
    lines: &[u32],
    first: usize,
    edges: bool,
    prep: &mut Preparer,
    nodes: Option<(NodeItems<'a>, Vec<PreparedAttr>)>,
    edge_items: Option<EdgeItems<'a>>,
) -> Batch<'a> {
    let line = |j: usize| lines.get(j).copied().unwrap_or(0);
    if edges {
        let mut items = edge_items.unwrap_or_default();
        items.extend(raws.iter().enumerate().map(|(j, raw)| {
            let base = offset_in(text, raw.get());
            let rec: Result<EdgeRec<'a>, _> = serde_json::from_str(raw.get());
            let prep = rec
                .as_ref()
                .ok()
                .and_then(|e| prep.edge(&e.from, &e.to, &e.kind, e.label.as_deref()));
            Item { index: first + j, base, len: raw.get().len(), line: line(j), rec, prep }
        }));
        Batch::Edges(items)
    } else {
        let (mut items, mut attrs) = nodes.unwrap_or_default();
        items.extend(raws.iter().enumerate().map(|(j, raw)| {
            let base = offset_in(text, raw.get());
            let rec: Result<NodeRec<'a>, _> = serde_json::from_str(raw.get());
            let prep = rec.as_ref().ok().filter(|n| !n.id.is_empty()).and_then(|n| {
                let a = n.attrs.as_ref().map_or(&[][..], |a| &a.0[..]);
                prep.node(&n.id, &n.kind, a, &mut attrs)
            });
            Item { index: first + j, base, len: raw.get().len(), line: line(j), rec, prep }
        }));
        Batch::Nodes(items, attrs, false)
    }
}

/// The one-based lines where `raws` start, counted on (in document order).
fn count_lines(st: &mut ParseState<'_>, raws: &[&RawValue]) -> Vec<u32> {
    raws.iter().map(|raw| st.line_of(offset_in(st.text, raw.get()))).collect()
}

fn parse_batch<'a>(
    st: &mut ParseState<'a>,
    raws: &[&'a RawValue],
    first: usize,
    edges: bool,
) -> Batch<'a> {
    let lines = count_lines(st, raws);
    let nodes = st.spare_nodes.pop().zip(st.spare_attrs.pop());
    let edge_items = st.spare_edges.pop();
    let batch = parse_records(st.text, raws, &lines, first, edges, &mut st.prep, nodes, edge_items);
    match batch {
        Batch::Nodes(mut items, mut attrs, _) => {
            let interned = st.intern();
            if interned {
                let mut strings = st.strings.lock().unwrap_or_else(PoisonError::into_inner);
                for it in &mut items {
                    if let (Ok(n), Some(p)) = (&it.rec, &it.prep) {
                        let a = n.attrs.as_ref().map_or(&[][..], |a| &a.0[..]);
                        let (start, end) = (p.attrs.0 as usize, p.attrs.1 as usize);
                        let pa = attrs.get_mut(start..end).unwrap_or(&mut []);
                        if !Preparer::intern_strings(&mut strings, a, pa) {
                            it.prep = None;
                        }
                    }
                }
            }
            Batch::Nodes(items, attrs, interned)
        }
        edges => edges,
    }
}

/// Runs `f` with the builder's string interner in place (see `ParseState::strings`).
fn with_strings<T>(
    b: &mut GraphBuilder,
    strings: &Mutex<Interner>,
    f: impl FnOnce(&mut GraphBuilder) -> T,
) -> T {
    let mut guard = strings.lock().unwrap_or_else(PoisonError::into_inner);
    b.swap_strings(&mut guard);
    let out = f(b);
    b.swap_strings(&mut guard);
    out
}

fn insert(
    b: &mut GraphBuilder,
    src: &Arc<SourceFile>,
    file: FileId,
    batch: &Batch<'_>,
    strings: &Mutex<Interner>,
) {
    match batch {
        // Strings not interned yet: the whole batch with the interner in place.
        Batch::Nodes(_, _, false) => {
            with_strings(b, strings, |b| insert_records(b, src, file, batch, None))
        }
        Batch::Nodes(..) | Batch::Edges(_) => insert_records(b, src, file, batch, Some(strings)),
    }
}

/// Inserts a batch; `strings` is the interner when it is not in the builder
/// (records that go through `add_node` / `add_edge` need it there).
fn insert_records(
    b: &mut GraphBuilder,
    src: &Arc<SourceFile>,
    file: FileId,
    batch: &Batch<'_>,
    strings: Option<&Mutex<Interner>>,
) {
    let slow = |b: &mut GraphBuilder, f: &mut dyn FnMut(&mut GraphBuilder)| match strings {
        Some(m) => with_strings(b, m, f),
        None => f(b),
    };
    let text = src.text();
    match batch {
        Batch::Nodes(records, prepared, _) => {
            // Independent lookups first (their cache misses overlap), then in order.
            let known: Vec<Option<u32>> = records
                .iter()
                .map(|it| match (&it.rec, &it.prep) {
                    (Ok(n), Some(p)) => b.find_prepared(&n.id, p.id_hash),
                    _ => None,
                })
                .collect();
            for (it, known) in records.iter().zip(known) {
                let (i, base, len) = (it.index, it.base, it.len);
                let at = Site { file, record: i as u32, span: Span::new(base, base + len) };
                match &it.rec {
                    Ok(n) => {
                        let attrs = n.attrs.as_ref().map_or(&[][..], |a| &a.0[..]);
                        if let Some(p) = &it.prep {
                            let (start, end) = (p.attrs.0 as usize, p.attrs.1 as usize);
                            let pa = prepared.get(start..end).unwrap_or(&[]);
                            b.add_prepared_node(p, known, &n.id, &n.kind, attrs, pa, &at, it.line);
                            continue;
                        }
                        if n.id.is_empty() {
                            empty_id(b, &at, file, i);
                            continue;
                        }
                        slow(b, &mut |b| {
                            b.add_node(&n.id, &n.kind, attrs, &at);
                        });
                    }
                    Err(e) => {
                        let r = text.get(base..base + len).unwrap_or("");
                        b.push_diag(json_error(src, r, base, e, &format!("invalid node {i}")));
                    }
                }
            }
        }
        Batch::Edges(records) => {
            let known: Vec<(Option<u32>, Option<u32>)> = records
                .iter()
                .map(|it| match (&it.rec, &it.prep) {
                    (Ok(e), Some(p)) => {
                        (b.find_prepared(&e.from, p.from_hash), b.find_prepared(&e.to, p.to_hash))
                    }
                    _ => (None, None),
                })
                .collect();
            for (it, known) in records.iter().zip(known) {
                let (i, base, len) = (it.index, it.base, it.len);
                let at = Site { file, record: i as u32, span: Span::new(base, base + len) };
                match (&it.rec, &it.prep) {
                    (Ok(e), Some(p)) => {
                        b.add_prepared_edge(p, known, &e.from, &e.to, e.optional, &at, it.line)
                    }
                    (Ok(e), None) => slow(b, &mut |b| {
                        b.add_edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional, &at)
                    }),
                    (Err(e), _) => {
                        let r = text.get(base..base + len).unwrap_or("");
                        b.push_diag(json_error(src, r, base, e, &format!("invalid edge {i}")));
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlNode {
    id: String,
    kind: String,
    #[serde(default)]
    attrs: Option<serde_yaml_ng::Mapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlEdge {
    from: String,
    to: String,
    kind: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlDoc {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    metadata: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    schema: Option<SchemaSection>,
    #[serde(default)]
    nodes: Vec<YamlNode>,
    #[serde(default)]
    edges: Vec<YamlEdge>,
}

/// The diagnostic for node `i`, at `at`, whose `id` is empty (on the key).
fn empty_id(b: &mut GraphBuilder, at: &Site, file: FileId, i: usize) {
    let span = b.key_span(at, "id");
    let d = b.diag_at(Code::MissingField, format!("node {i} has an empty `id`"), file, span);
    b.push_diag(d.help("give every node a unique, non-empty id"));
}

fn yaml_value(v: serde_yaml_ng::Value) -> Result<Input<'static>, &'static str> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Input::Null,
        Y::Bool(b) => Input::Bool(b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Input::Int(i),
            None => Input::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Y::String(s) => Input::Str(Cow::Owned(s)),
        Y::Sequence(items) => {
            Input::List(items.into_iter().map(yaml_value).collect::<Result<_, _>>()?)
        }
        Y::Mapping(_) => return Err("an attribute value cannot be a mapping"),
        Y::Tagged(t) => yaml_value(t.value)?,
    })
}

/// A diagnostic for a YAML error.
pub fn yaml_error(src: &Arc<SourceFile>, e: &serde_yaml_ng::Error, what: &str) -> Diag {
    let (at, pos) = match e.location() {
        Some(l) => (l.index(), format!(" (line {}, column {})", l.line(), l.column())),
        None => (0, String::new()),
    };
    let at = at.min(src.text().len());
    let msg = strip_position(&e.to_string());
    Diag::error(Code::MalformedYaml, format!("{what}: {msg}{pos}"))
        .in_file(src)
        .label(Span::new(at, (at + 1).min(src.text().len())), "here")
        .help("fix the YAML at this position; see docs/inventory.md for the layout")
}

fn read_yaml(b: &mut GraphBuilder, src: &Arc<SourceFile>, file: FileId) {
    let text = src.text();
    if let Err(d) = super::yaml_limits::check(src) {
        b.push_diag(d);
        return;
    }
    let doc: YamlDoc = match serde_yaml_ng::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            b.push_diag(yaml_error(src, &e, "invalid inventory"));
            return;
        }
    };
    if !check_format(b, src, doc.format.as_deref()) {
        return;
    }
    let _ = doc.metadata;
    if let Some(s) = &doc.schema {
        let at = text.find("schema:").unwrap_or(0);
        s.apply(b, file, Span::new(at, text.len()));
    }
    // YAML gives no positions after parsing: find each record by its id,
    // moving forwards, so that provenance and labels point near it.
    let mut cursor = 0usize;
    let mut locate = |key: &str, value: &str| -> Span {
        let rest = text.get(cursor..).unwrap_or("");
        let found =
            [format!("{key}: {value}"), format!("{key}: \"{value}\""), format!("{key}: '{value}'")]
                .into_iter()
                .find_map(|n| rest.find(&n).map(|i| (i, n.len())));
        match found {
            Some((i, len)) => {
                let start = cursor + i;
                let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |p| p + 1);
                // The record runs on while lines are indented at least as deep as its keys.
                let key_col = start - line_start;
                let mut end =
                    text.get(start..).and_then(|t| t.find('\n')).map_or(text.len(), |p| start + p);
                while let Some(next) = text.get(end + 1..).filter(|t| !t.is_empty()) {
                    let line = next.split('\n').next().unwrap_or("");
                    let indent = line.len() - line.trim_start_matches(' ').len();
                    if !line.trim().is_empty() && indent < key_col {
                        break;
                    }
                    end = (end + 1 + line.len()).min(text.len());
                }
                cursor = start + len;
                Span::new(line_start, end)
            }
            None => Span::default(),
        }
    };
    for (i, n) in doc.nodes.into_iter().enumerate() {
        let at = Site { file, record: i as u32, span: locate("id", &n.id) };
        let mut attrs = Vec::new();
        for (k, v) in n.attrs.unwrap_or_default() {
            let key = match k {
                serde_yaml_ng::Value::String(s) => s,
                other => serde_yaml_ng::to_string(&other).unwrap_or_default().trim().to_owned(),
            };
            match yaml_value(v) {
                Ok(v) => attrs.push((key, v)),
                Err(msg) => {
                    let span = b.key_span(&at, &key);
                    let d = b.diag_at(
                        Code::WrongType,
                        format!("attribute `{key}` of node `{}`: {msg}", n.id),
                        file,
                        span,
                    );
                    b.push_diag(d.help("attribute values are scalars or lists of scalars"));
                }
            }
        }
        b.add_node(&n.id, &n.kind, &attrs, &at);
    }
    for (i, e) in doc.edges.into_iter().enumerate() {
        let at = Site { file, record: i as u32, span: locate("from", &e.from) };
        b.add_edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional, &at);
    }
}

/// Writes a native JSON inventory, one record per line, streaming.
pub struct NativeWriter<W: Write> {
    w: W,
    state: WriterState,
}

#[derive(PartialEq, Eq)]
enum WriterState {
    Nodes { first: bool },
    Edges { first: bool },
}

#[derive(serde::Serialize)]
#[serde(bound = "K: AsRef<str>")]
struct NodeOut<'a, K> {
    id: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attrs: Option<AttrsOut<'a, K>>,
}

struct AttrsOut<'a, K>(&'a [(K, Input<'a>)]);

impl<K: AsRef<str>> serde::Serialize for AttrsOut<'_, K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k.as_ref(), v)?;
        }
        m.end()
    }
}

#[derive(serde::Serialize)]
struct EdgeOut<'a> {
    from: &'a str,
    to: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    optional: bool,
}

impl<W: Write> NativeWriter<W> {
    /// Starts the document; `metadata` (any JSON) and `schema` are optional.
    pub fn new(
        mut w: W,
        metadata: Option<&serde_json::Value>,
        schema: Option<&SchemaSection>,
    ) -> io::Result<Self> {
        write!(w, "{{\"format\":\"{FORMAT}\"")?;
        if let Some(m) = metadata {
            w.write_all(b",\n\"metadata\":")?;
            serde_json::to_writer(&mut w, m)?;
        }
        if let Some(s) = schema.filter(|s| !s.is_empty()) {
            w.write_all(b",\n\"schema\":")?;
            serde_json::to_writer(&mut w, s)?;
        }
        w.write_all(b",\n\"nodes\":[")?;
        Ok(Self { w, state: WriterState::Nodes { first: true } })
    }

    /// Writes a node. Every node must come before the first edge.
    pub fn node<K: AsRef<str>>(
        &mut self,
        id: &str,
        kind: &str,
        attrs: &[(K, Input<'_>)],
    ) -> io::Result<()> {
        let WriterState::Nodes { first } = &mut self.state else {
            return Err(io::Error::other("nodes must be written before edges"));
        };
        self.w.write_all(if *first { b"\n" } else { b",\n" })?;
        *first = false;
        let attrs = (!attrs.is_empty()).then_some(AttrsOut(attrs));
        serde_json::to_writer(&mut self.w, &NodeOut { id, kind, attrs })?;
        Ok(())
    }

    /// Writes an edge.
    pub fn edge(
        &mut self,
        from: &str,
        to: &str,
        kind: &str,
        label: Option<&str>,
        optional: bool,
    ) -> io::Result<()> {
        if matches!(self.state, WriterState::Nodes { .. }) {
            self.w.write_all(b"\n],\n\"edges\":[")?;
            self.state = WriterState::Edges { first: true };
        }
        if let WriterState::Edges { first } = &mut self.state {
            self.w.write_all(if *first { b"\n" } else { b",\n" })?;
            *first = false;
        }
        serde_json::to_writer(&mut self.w, &EdgeOut { from, to, kind, label, optional })?;
        Ok(())
    }

    /// Ends the document and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if matches!(self.state, WriterState::Nodes { .. }) {
            self.w.write_all(b"\n],\n\"edges\":[")?;
        }
        self.w.write_all(b"\n]}\n")?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Writes an adapter's records as a native JSON inventory.
pub fn write_inventory<W: Write>(
    inv: &Inventory,
    metadata: Option<&serde_json::Value>,
    w: W,
) -> io::Result<W> {
    let mut out = NativeWriter::new(w, metadata, Some(&inv.schema))?;
    for n in &inv.nodes {
        out.node(&n.id, &n.kind, &n.attrs)?;
    }
    for e in &inv.edges {
        out.edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional)?;
    }
    out.finish()
}

/// The schema extensions `graph` uses beyond the built-in schema, as a
/// `schema` section (so that a written graph loads back on its own).
pub fn schema_section(schema: &crate::graph::Schema) -> SchemaSection {
    use crate::ingest::inventory::{AttrSpec, EdgeSpec, KindSpec};
    let builtin = crate::graph::Schema::builtin();
    let mut section = SchemaSection::default();
    for (_, k) in schema.kinds() {
        let base = builtin.kind(&k.name).and_then(|b| builtin.kind_def(b));
        for a in &k.attrs {
            if base.is_some_and(|b| b.attr(&a.name).is_some()) {
                continue;
            }
            let spec = if a.required || !a.doc.is_empty() {
                AttrSpec::Full { ty: a.ty.to_string(), required: a.required, doc: a.doc.clone() }
            } else {
                AttrSpec::Type(a.ty.to_string())
            };
            section
                .kinds
                .entry(k.name.clone())
                .or_default()
                .attributes
                .insert(a.name.clone(), spec);
        }
        if base.is_none() {
            section.kinds.entry(k.name.clone()).or_insert_with(KindSpec::default).doc =
                k.doc.clone();
        }
    }
    for (_, e) in schema.edge_kinds() {
        if builtin.edge_kind(&e.name).is_none() {
            let names = |ks: &[crate::graph::KindId]| {
                ks.iter().map(|k| schema.kind_name(*k).to_owned()).collect()
            };
            section.edges.insert(
                e.name.clone(),
                EdgeSpec { from: names(&e.from), to: names(&e.to), doc: e.doc.clone() },
            );
        }
    }
    section
}

fn to_input(v: crate::graph::Value<'_>) -> Input<'_> {
    use crate::graph::Value;
    match v {
        Value::Missing => Input::Null,
        Value::Bool(b) => Input::Bool(b),
        Value::Int(i) => Input::Int(i),
        Value::Float(f) => Input::Float(f),
        Value::Str(s) => Input::Str(Cow::Borrowed(s)),
        Value::Time(t) => Input::Time(t),
        Value::Duration(d) => Input::Duration(d),
        Value::List(l) => Input::List(l.iter().map(to_input).collect()),
    }
}

/// Writes a loaded graph as a native JSON inventory (nodes in load order,
/// attributes in schema order), followed by `extra` edges (optional edges
/// whose ends were not loaded, kept so that a later merge can resolve them).
pub fn write_graph<W: Write>(
    g: &crate::graph::Graph,
    extra: &[crate::ingest::EdgeRecord],
    metadata: Option<&serde_json::Value>,
    w: W,
) -> io::Result<W> {
    let schema = g.schema();
    let section = schema_section(schema);
    let mut out = NativeWriter::new(w, metadata, Some(&section))?;
    let mut attrs: Vec<(&str, Input<'_>)> = Vec::new();
    for n in g.nodes() {
        let k = g.kind(n);
        attrs.clear();
        if let Some(def) = schema.kind_def(k) {
            for (a, d) in def.attrs() {
                let v = g.attr(n, a);
                if !v.is_missing() {
                    attrs.push((d.name.as_str(), to_input(v)));
                }
            }
        }
        out.node(g.id(n), schema.kind_name(k), &attrs)?;
    }
    for e in 0..g.edge_count() as u32 {
        let e = crate::graph::EdgeId(e);
        if let Some((a, k, b)) = g.edge(e) {
            out.edge(g.id(a), g.id(b), schema.edge_name(k), g.edge_label(e), false)?;
        }
    }
    for e in extra {
        out.edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional)?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
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
        let mut b = GraphBuilder::new(Schema::builtin());
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
        let mut b = GraphBuilder::new(Schema::builtin());
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
        let mut b = GraphBuilder::new(Schema::builtin());
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
