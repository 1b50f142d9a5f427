//! Writing native JSON: adapters stream records through [`NativeWriter`];
//! [`write_graph`] writes a loaded graph back out.

use super::*;

/// Writes a native JSON inventory, one record per line, streaming.
pub struct NativeWriter<W: Write> {
    w: W,
    state: WriterState,
}

#[derive(PartialEq, Eq)]
pub(super) enum WriterState {
    Nodes { first: bool },
    Edges { first: bool },
}

#[derive(serde::Serialize)]
#[serde(bound = "K: AsRef<str>")]
pub(super) struct NodeOut<'a, K> {
    id: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attrs: Option<AttrsOut<'a, K>>,
}

pub(super) struct AttrsOut<'a, K>(&'a [(K, Input<'a>)]);

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
pub(super) struct EdgeOut<'a> {
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

pub(super) fn to_input(v: crate::graph::Value<'_>) -> Input<'_> {
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
