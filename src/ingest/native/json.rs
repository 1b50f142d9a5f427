//! Native JSON: the document parsed once into borrowed raw records on one
//! thread, each record parsed and inserted in batches on another, so every
//! record keeps its byte offset (provenance and spans).

use super::*;

/// What the parsing thread sends, in document order.
pub(super) enum Msg<'a> {
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

pub(super) type Sender<'a> = std::sync::mpsc::SyncSender<Msg<'a>>;

/// The parsing thread's state: what it needs to prepare records (see
/// [`Preparer`]) and its line counter.
pub(super) struct ParseState<'a> {
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
pub(super) enum Split {
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
pub(super) fn count_newlines(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(64);
    let mut n = 0;
    for c in &mut chunks {
        n += usize::from(c.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>());
    }
    n + chunks.remainder().iter().filter(|&&b| b == b'\n').count()
}

/// The top level of a native JSON document, streamed: records are split
/// and parsed in batches as the document is read, and sent on.
pub(super) struct DocSeed<'a, 's> {
    st: &'s mut ParseState<'a>,
}

pub(super) struct RecordsSeed<'a, 's> {
    st: &'s mut ParseState<'a>,
    edges: bool,
}

pub(super) const TOP_FIELDS: &[&str] = &["format", "metadata", "schema", "nodes", "edges"];

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

pub(super) fn send<'a, E: serde::de::Error>(tx: &Sender<'a>, msg: Msg<'a>) -> Result<(), E> {
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
pub(super) fn read_json(b: &mut GraphBuilder, src: &Arc<SourceFile>, file: FileId, split: Split) {
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
pub(super) const BATCH: usize = 4096;

/// Batches waiting for the loading thread from which on it is taken to lag.
pub(super) const LAGGING: usize = 2;

/// A parsed record: its index in its list, its bytes, its line, the record
/// (or why it is not one), and its prepared form when it is plainly valid.
pub(super) struct Item<T, P> {
    index: usize,
    base: usize,
    len: usize,
    line: u32,
    rec: Result<T, serde_json::Error>,
    prep: Option<P>,
}

pub(super) type NodeItems<'a> = Vec<Item<NodeRec<'a>, PreparedNode>>;
pub(super) type EdgeItems<'a> = Vec<Item<EdgeRec<'a>, PreparedEdge>>;

/// Parsed records, in document order.
pub(super) enum Batch<'a> {
    /// Nodes, and the prepared attributes of all of them in one buffer;
    /// `true` when their string values are interned already.
    Nodes(NodeItems<'a>, Vec<PreparedAttr>, bool),
    Edges(EdgeItems<'a>),
}

/// Parses and prepares records (with their lines counted already).
#[allow(clippy::too_many_arguments)]
pub(super) fn parse_records<'a>(
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
pub(super) fn count_lines(st: &mut ParseState<'_>, raws: &[&RawValue]) -> Vec<u32> {
    raws.iter().map(|raw| st.line_of(offset_in(st.text, raw.get()))).collect()
}

pub(super) fn parse_batch<'a>(
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
pub(super) fn with_strings<T>(
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

pub(super) fn insert(
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
pub(super) fn insert_records(
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
