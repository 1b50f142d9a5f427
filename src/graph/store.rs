//! The frozen [`Graph`]: petgraph topology, per-kind attribute columns,
//! interned strings, an O(1) id index, CSR adjacency per node sorted by edge
//! kind, and provenance for every node and edge. Read-only and `Send + Sync`.

use std::fmt::Write as _;
use std::sync::OnceLock;

use petgraph::graph::DiGraph;
use rayon::slice::ParallelSliceMut as _;
use serde::Serialize;

use crate::graph::column::{Column, Interner, NONE, Raw, RawType, Value};
use crate::graph::schema::{AttrId, EdgeKindId, KindId, Schema};

/// A node of a [`Graph`] (dense, `0..node_count()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct NodeId(pub u32);

/// An edge of a [`Graph`] (dense, `0..edge_count()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EdgeId(pub u32);

/// Where a node or an edge came from: the file (index into
/// [`Graph::files`]), the record's index in its list, and its first line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Provenance {
    /// Index of the file in [`Graph::files`].
    pub file: u32,
    /// Zero-based index of the record in its file's node or edge list.
    pub record: u32,
    /// One-based line where the record starts.
    pub line: u32,
}

/// Adjacency in compressed sparse rows: for node `n`, entries
/// `offsets[n]..offsets[n+1]`, sorted by (edge kind, neighbour).
#[derive(Default)]
pub(crate) struct Csr {
    pub(crate) offsets: Vec<u32>,
    pub(crate) kinds: Vec<EdgeKindId>,
    pub(crate) nodes: Vec<NodeId>,
    pub(crate) edges: Vec<EdgeId>,
}

impl Csr {
    /// Builds from `(node, kind, neighbour, edge)` tuples: a counting sort by
    /// node (linear), then a sort of each node's few entries by (kind, neighbour).
    pub(crate) fn build(n: usize, entries: &[(u32, EdgeKindId, u32, u32)]) -> Csr {
        let mut offsets = vec![0u32; n + 1];
        for &(node, ..) in entries {
            if let Some(o) = offsets.get_mut(node as usize + 1) {
                *o += 1;
            }
        }
        for i in 1..offsets.len() {
            let prev = offsets.get(i - 1).copied().unwrap_or(0);
            if let Some(o) = offsets.get_mut(i) {
                *o += prev;
            }
        }
        let mut next: Vec<u32> = offsets.clone();
        let mut placed: Vec<(EdgeKindId, u32, u32)> = vec![(EdgeKindId(0), 0, 0); entries.len()];
        for &(node, k, nb, e) in entries {
            if let Some(slot) = next.get_mut(node as usize) {
                if let Some(p) = placed.get_mut(*slot as usize) {
                    *p = (k, nb, e);
                }
                *slot += 1;
            }
        }
        drop(next);
        for w in offsets.windows(2) {
            if let [s, e] = *w
                && e - s > 1
                && let Some(range) = placed.get_mut(s as usize..e as usize)
            {
                range.sort_unstable();
            }
        }
        let mut csr = Csr {
            offsets,
            kinds: Vec::with_capacity(placed.len()),
            nodes: Vec::with_capacity(placed.len()),
            edges: Vec::with_capacity(placed.len()),
        };
        for (k, nb, e) in placed {
            csr.kinds.push(k);
            csr.nodes.push(NodeId(nb));
            csr.edges.push(EdgeId(e));
        }
        csr
    }

    fn range(&self, n: NodeId, kind: EdgeKindId) -> std::ops::Range<usize> {
        let s = self.offsets.get(n.0 as usize).copied().unwrap_or(0) as usize;
        let e = self.offsets.get(n.0 as usize + 1).copied().unwrap_or(0) as usize;
        let kinds = self.kinds.get(s..e).unwrap_or(&[]);
        // A binary search for the first edge of the kind (branch-free in
        // std), then a scan over its edges, which are few (callgrind: a
        // third fewer instructions than scanning from the start).
        let lo = kinds.partition_point(|k| *k < kind);
        let len = kinds.get(lo..).unwrap_or(&[]).iter().take_while(|k| **k == kind).count();
        s + lo..s + lo + len
    }

    fn all(&self, n: NodeId) -> std::ops::Range<usize> {
        let s = self.offsets.get(n.0 as usize).copied().unwrap_or(0) as usize;
        let e = self.offsets.get(n.0 as usize + 1).copied().unwrap_or(0) as usize;
        s..e
    }

    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4
            + self.kinds.capacity() * 2
            + self.nodes.capacity() * 4
            + self.edges.capacity() * 4
    }
}

/// Where a node's attributes are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NodeMeta {
    /// Its row in its kind's columns.
    pub(crate) row: u32,
    /// Its kind.
    pub(crate) kind: KindId,
}

/// The identity graph. Built by [`crate::graph::GraphBuilder`], immutable after.
pub struct Graph {
    pub(crate) schema: Schema,
    pub(crate) topo: DiGraph<KindId, EdgeKindId, u32>,
    pub(crate) ids: Interner,
    /// Per node, its kind and its row in the kind's columns, side by side:
    /// an attribute read needs both, and one array is one cache miss.
    pub(crate) node_meta: Vec<NodeMeta>,
    pub(crate) by_kind: Vec<Vec<NodeId>>,
    /// Per kind, each row's position in id order, computed on first use.
    pub(crate) by_kind_rank: Vec<OnceLock<Box<[u32]>>>,
    pub(crate) columns: Vec<Vec<Column>>,
    pub(crate) strings: Interner,
    pub(crate) out: Csr,
    pub(crate) inc: Csr,
    pub(crate) edge_label: Vec<u32>,
    pub(crate) node_prov: Vec<Provenance>,
    pub(crate) edge_prov: Vec<Provenance>,
    pub(crate) files: Vec<String>,
}

/// One edge, as seen from one of its ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeRef {
    /// The edge.
    pub id: EdgeId,
    /// Its kind.
    pub kind: EdgeKindId,
    /// The node at the other end.
    pub other: NodeId,
}

impl Graph {
    /// The schema the graph was validated against (with the inventory's extensions).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The petgraph topology (node weight: kind; edge weight: edge kind), for
    /// graph algorithms. Its indices equal [`NodeId`] and [`EdgeId`].
    pub fn topology(&self) -> &DiGraph<KindId, EdgeKindId, u32> {
        &self.topo
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_meta.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_prov.len()
    }

    /// All nodes, in load order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.node_count() as u32).map(NodeId)
    }

    /// The node with this id, in O(1).
    pub fn lookup(&self, id: &str) -> Option<NodeId> {
        self.ids.find(id).map(NodeId)
    }

    /// The id of a node.
    pub fn id(&self, n: NodeId) -> &str {
        self.ids.get(n.0)
    }

    /// The kind of a node.
    pub fn kind(&self, n: NodeId) -> KindId {
        self.node_meta.get(n.0 as usize).map_or(KindId(u16::MAX), |m| m.kind)
    }

    /// The nodes of one kind, in load order; `nodes_of_kind(k)[row]` is the
    /// node whose attributes sit in row `row` of the kind's columns.
    pub fn nodes_of_kind(&self, k: KindId) -> &[NodeId] {
        self.by_kind.get(usize::from(k.0)).map_or(&[], Vec::as_slice)
    }

    /// The position of a node among the nodes of its kind in id order
    /// (byte-wise). The table is computed once per kind on first use, so
    /// ordering a kind's nodes by id is an integer sort (the audit orders
    /// every rule's findings by entity id).
    pub fn id_rank(&self, n: NodeId) -> u32 {
        let Some(m) = self.node_meta.get(n.0 as usize) else { return u32::MAX };
        self.id_ranks(m.kind).get(m.row as usize).copied().unwrap_or(u32::MAX)
    }

    /// For each row of a kind, the position of its node in id order.
    fn id_ranks(&self, k: KindId) -> &[u32] {
        let Some(cell) = self.by_kind_rank.get(usize::from(k.0)) else { return &[] };
        cell.get_or_init(|| {
            let nodes = self.nodes_of_kind(k);
            let mut rows: Vec<u32> = (0..u32::try_from(nodes.len()).unwrap_or(u32::MAX)).collect();
            // Ids are unique, so an unstable sort is deterministic.
            rows.par_sort_unstable_by(|a, b| {
                let id = |r: &u32| nodes.get(*r as usize).map_or("", |n| self.id(*n));
                id(a).cmp(id(b))
            });
            let mut rank = vec![0u32; rows.len()];
            for (pos, row) in (0u32..).zip(&rows) {
                if let Some(r) = rank.get_mut(*row as usize) {
                    *r = pos;
                }
            }
            rank.into_boxed_slice()
        })
    }

    /// An attribute of a node ([`Value::Missing`] when absent or not in its kind).
    #[inline]
    pub fn attr(&self, n: NodeId, a: AttrId) -> Value<'_> {
        match self.column(n, a) {
            Some((c, row)) => c.get(row, &self.strings),
            None => Value::Missing,
        }
    }

    /// Whether a node has an attribute (`x has a`), without reading its value.
    #[inline]
    pub fn has_attr(&self, n: NodeId, a: AttrId) -> bool {
        self.column(n, a).is_some_and(|(c, row)| !c.is_missing(row))
    }

    #[inline]
    fn column(&self, n: NodeId, a: AttrId) -> Option<(&Column, usize)> {
        let m = self.node_meta.get(n.0 as usize)?;
        let c = self.columns.get(usize::from(m.kind.0))?.get(usize::from(a.0))?;
        Some((c, m.row as usize))
    }

    /// An attribute of `n` as stored ([`Raw`]), its column chosen by `n`'s
    /// kind from `(kind, column)` pairs ([`Raw::Missing`] when none is `n`'s).
    #[inline]
    pub(crate) fn raw(&self, n: NodeId, cols: &[(KindId, AttrId)]) -> Raw {
        let Some(m) = self.node_meta.get(n.0 as usize) else { return Raw::Missing };
        let Some((_, a)) = cols.iter().find(|(k, _)| *k == m.kind) else { return Raw::Missing };
        match self.columns.get(usize::from(m.kind.0)).and_then(|c| c.get(usize::from(a.0))) {
            Some(c) => c.raw(m.row as usize),
            None => Raw::Missing,
        }
    }

    /// The text of a string attribute's symbol ([`Graph::raw`]).
    pub(crate) fn string(&self, sym: u32) -> &str {
        self.strings.get(sym)
    }

    /// Where the text of a string attribute's symbol is: a start and a
    /// length for [`Graph::string_at`], which reads the text without
    /// the table of string ends.
    pub(crate) fn string_span(&self, sym: u32) -> (u32, u32) {
        self.strings.span(sym)
    }

    /// The text at a [`Graph::string_span`].
    pub(crate) fn string_at(&self, start: u32, len: u32) -> &str {
        self.strings.at(start, len)
    }

    /// What the column of attribute `a` of kind `k` holds (`None`: no such column).
    pub(crate) fn raw_type(&self, k: KindId, a: AttrId) -> Option<RawType> {
        Some(self.columns.get(usize::from(k.0))?.get(usize::from(a.0))?.raw_type())
    }

    /// The symbol of a string in the graph's attribute strings (`None`: no
    /// attribute of any node has this text).
    pub(crate) fn string_sym(&self, s: &str) -> Option<u32> {
        self.strings.find(s)
    }

    /// Loads what reading the attributes `attrs` of `n` and walking its edges
    /// (`out`, `inc`) will need, and folds it into one number for the caller
    /// to pass to [`std::hint::black_box`]. The loads do not depend on one
    /// another, so the processor overlaps their cache misses; the reads that
    /// follow then find the data in cache. A decision does this for its
    /// entity inputs before evaluating its clauses. Attributes not of `n`'s
    /// kind are skipped.
    pub fn touch(&self, n: NodeId, attrs: &[(KindId, AttrId)], out: bool, inc: bool) -> u64 {
        let mut acc = 0;
        // The per-node table only when there are columns to load: a
        // decision's records usually hold every attribute it reads.
        let meta = (!attrs.is_empty()).then(|| self.node_meta.get(n.0 as usize)).flatten();
        if let Some(m) = meta
            && let Some(columns) = self.columns.get(usize::from(m.kind.0))
        {
            for (_, a) in attrs.iter().filter(|(k, _)| *k == m.kind) {
                if let Some(c) = columns.get(usize::from(a.0)) {
                    acc ^= c.touch(m.row as usize);
                }
            }
        }
        for (wanted, csr) in [(out, &self.out), (inc, &self.inc)] {
            if wanted {
                let s = csr.offsets.get(n.0 as usize).copied().unwrap_or(0) as usize;
                acc ^= u64::from(s as u32);
                acc ^= u64::from(csr.kinds.get(s).map_or(0, |k| k.0));
                acc ^= u64::from(csr.nodes.get(s).map_or(0, |n| n.0));
            }
        }
        acc
    }

    /// An attribute by name (slower: resolves the name; for tools, not hot paths).
    pub fn attr_by_name(&self, n: NodeId, name: &str) -> Value<'_> {
        self.schema.attr(self.kind(n), name).map_or(Value::Missing, |a| self.attr(n, a))
    }

    /// The targets of all of `n`'s outgoing edges, by edge kind then node.
    pub(crate) fn out_nodes(&self, n: NodeId) -> &[NodeId] {
        self.out.nodes.get(self.out.all(n)).unwrap_or(&[])
    }

    /// The targets of `n`'s outgoing edges of one kind, sorted by node.
    pub fn out(&self, n: NodeId, kind: EdgeKindId) -> &[NodeId] {
        self.out.nodes.get(self.out.range(n, kind)).unwrap_or(&[])
    }

    /// The sources of `n`'s incoming edges of one kind, sorted by node.
    pub fn inc(&self, n: NodeId, kind: EdgeKindId) -> &[NodeId] {
        self.inc.nodes.get(self.inc.range(n, kind)).unwrap_or(&[])
    }

    /// The outgoing edges of one kind, parallel to [`Graph::out`].
    pub fn out_edges(&self, n: NodeId, kind: EdgeKindId) -> &[EdgeId] {
        self.out.edges.get(self.out.range(n, kind)).unwrap_or(&[])
    }

    /// The incoming edges of one kind, parallel to [`Graph::inc`].
    pub fn inc_edges(&self, n: NodeId, kind: EdgeKindId) -> &[EdgeId] {
        self.inc.edges.get(self.inc.range(n, kind)).unwrap_or(&[])
    }

    fn refs<'g>(&'g self, csr: &'g Csr, n: NodeId) -> impl Iterator<Item = EdgeRef> + 'g {
        csr.all(n).filter_map(move |i| {
            Some(EdgeRef {
                id: *csr.edges.get(i)?,
                kind: *csr.kinds.get(i)?,
                other: *csr.nodes.get(i)?,
            })
        })
    }

    /// Every outgoing edge of `n`, by kind then target.
    pub fn out_all(&self, n: NodeId) -> impl Iterator<Item = EdgeRef> + '_ {
        self.refs(&self.out, n)
    }

    /// Every incoming edge of `n`, by kind then source.
    pub fn inc_all(&self, n: NodeId) -> impl Iterator<Item = EdgeRef> + '_ {
        self.refs(&self.inc, n)
    }

    /// Source, kind and target of an edge.
    pub fn edge(&self, e: EdgeId) -> Option<(NodeId, EdgeKindId, NodeId)> {
        let idx = e.0.into();
        let (a, b) = self.topo.edge_endpoints(idx)?;
        let k = *self.topo.edge_weight(idx)?;
        Some((NodeId(a.index() as u32), k, NodeId(b.index() as u32)))
    }

    /// The source system's name for an edge (an OpenGraph kind, say), if it had one.
    pub fn edge_label(&self, e: EdgeId) -> Option<&str> {
        self.edge_label.get(e.0 as usize).filter(|&&s| s != NONE).map(|&s| self.strings.get(s))
    }

    /// Where a node came from.
    pub fn provenance(&self, n: NodeId) -> Option<&Provenance> {
        self.node_prov.get(n.0 as usize)
    }

    /// Where an edge came from.
    pub fn edge_provenance(&self, e: EdgeId) -> Option<&Provenance> {
        self.edge_prov.get(e.0 as usize)
    }

    /// The names of the files the graph was loaded from.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Bytes the graph holds on the heap (capacity, so what it costs, not what it uses).
    pub fn heap_bytes(&self) -> usize {
        let topo = self.topo.node_count() * (4 + 8) + self.topo.edge_count() * (2 + 2 + 16);
        let cols: usize = self.columns.iter().flatten().map(Column::heap_bytes).sum();
        let kinds: usize = self.by_kind.iter().map(|v| v.capacity() * 4).sum();
        topo + cols
            + kinds
            + self.ids.heap_bytes()
            + self.strings.heap_bytes()
            + self.node_meta.capacity() * std::mem::size_of::<NodeMeta>()
            + self.out.heap_bytes()
            + self.inc.heap_bytes()
            + self.edge_label.capacity() * 4
            + (self.node_prov.capacity() + self.edge_prov.capacity()) * 12
    }

    /// [`Graph::heap_bytes`] split into what nodes cost (ids and their index,
    /// kinds, rows, columns, interned strings, provenance) and what edges cost
    /// (petgraph edges, both CSR directions, labels, provenance).
    pub fn heap_split(&self) -> (usize, usize) {
        let edges = self.topo.edge_count() * (2 + 2 + 16)
            + self.out.kinds.capacity() * 2
            + self.out.nodes.capacity() * 4
            + self.out.edges.capacity() * 4
            + self.inc.kinds.capacity() * 2
            + self.inc.nodes.capacity() * 4
            + self.inc.edges.capacity() * 4
            + self.edge_label.capacity() * 4
            + self.edge_prov.capacity() * 12;
        let total = self.heap_bytes();
        (total.saturating_sub(edges), edges)
    }

    /// A text dump independent of load order and provenance: one line per node
    /// (`kind id attr=value ...`, attributes in schema order) then one per edge
    /// (`from -[kind]-> to`), each part sorted. Two graphs with equal dumps hold
    /// the same data.
    pub fn canonical_dump(&self) -> String {
        let mut nodes: Vec<String> = self
            .nodes()
            .map(|n| {
                let k = self.kind(n);
                let mut line = format!("{} {}", self.schema.kind_name(k), self.id(n));
                if let Some(def) = self.schema.kind_def(k) {
                    for (a, d) in def.attrs() {
                        let v = self.attr(n, a);
                        if !v.is_missing() {
                            let _ = write!(line, " {}={v}", d.name);
                        }
                    }
                }
                line
            })
            .collect();
        nodes.sort_unstable();
        let mut edges: Vec<String> = (0..self.edge_count() as u32)
            .filter_map(|e| {
                let (a, k, b) = self.edge(EdgeId(e))?;
                let label =
                    self.edge_label(EdgeId(e)).map(|l| format!(" ({l})")).unwrap_or_default();
                Some(format!(
                    "{} -[{}]-> {}{label}",
                    self.id(a),
                    self.schema.edge_name(k),
                    self.id(b)
                ))
            })
            .collect();
        edges.sort_unstable();
        let mut out = nodes.join("\n");
        out.push('\n');
        out.push_str(&edges.join("\n"));
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Graph>();
    }
}
