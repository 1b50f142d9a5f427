//! Read-only views of a graph for tools: counts by kind, orphans, and the
//! neighbourhood of one node.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;

use crate::graph::{EdgeId, Graph, NodeId, Value};

/// Counts of a graph.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Number of nodes.
    pub nodes: usize,
    /// Number of edges.
    pub edges: usize,
    /// Nodes per kind, in schema order (kinds with none included).
    pub nodes_by_kind: BTreeMap<String, usize>,
    /// Edges per edge kind.
    pub edges_by_kind: BTreeMap<String, usize>,
    /// Non-human identities with no `owned_by` edge.
    pub unowned_identities: usize,
    /// Credentials that no identity holds (`has_credential`).
    pub unheld_credentials: usize,
    /// Nodes with no edge at all.
    pub isolated: usize,
}

/// Counts nodes and edges by kind and finds orphans.
pub fn stats(g: &Graph) -> Stats {
    let s = g.schema();
    let mut st = Stats { nodes: g.node_count(), edges: g.edge_count(), ..Stats::default() };
    for (k, def) in s.kinds() {
        st.nodes_by_kind.insert(def.name.clone(), g.nodes_of_kind(k).len());
    }
    let mut per_edge = vec![0usize; s.edge_kind_count()];
    for e in 0..g.edge_count() as u32 {
        if let Some((_, k, _)) = g.edge(EdgeId(e))
            && let Some(c) = per_edge.get_mut(usize::from(k.0))
        {
            *c += 1;
        }
    }
    for (k, def) in s.edge_kinds() {
        st.edges_by_kind
            .insert(def.name.clone(), per_edge.get(usize::from(k.0)).copied().unwrap_or(0));
    }
    if let (Some(identity), Some(owned_by)) = (s.kind("identity"), s.edge_kind("owned_by")) {
        let ty = s.attr(identity, "type");
        st.unowned_identities = g
            .nodes_of_kind(identity)
            .iter()
            .filter(|n| ty.is_none_or(|t| g.attr(**n, t) != Value::Str("human")))
            .filter(|n| g.out(**n, owned_by).is_empty())
            .count();
    }
    if let (Some(cred), Some(has)) = (s.kind("credential"), s.edge_kind("has_credential")) {
        st.unheld_credentials =
            g.nodes_of_kind(cred).iter().filter(|n| g.inc(**n, has).is_empty()).count();
    }
    st.isolated = g
        .nodes()
        .filter(|n| g.out_all(*n).next().is_none() && g.inc_all(*n).next().is_none())
        .count();
    st
}

/// The nodes within some hops of a start node (both directions) and the edges between them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neighbourhood {
    /// Nodes with their distance from the start, in breadth-first order.
    pub nodes: Vec<(NodeId, u32)>,
    /// Edges among those nodes, sorted.
    pub edges: Vec<EdgeId>,
    /// True when `limit` cut the walk short.
    pub truncated: bool,
}

/// Breadth-first walk from `start` over edges in both directions, up to
/// `depth` hops and `limit` nodes.
pub fn neighbourhood(g: &Graph, start: NodeId, depth: u32, limit: usize) -> Neighbourhood {
    let mut seen: HashMap<NodeId, u32> = HashMap::from([(start, 0)]);
    let mut order = vec![(start, 0)];
    let mut queue = VecDeque::from([(start, 0u32)]);
    let mut truncated = false;
    while let Some((n, d)) = queue.pop_front() {
        if d >= depth {
            continue;
        }
        for r in g.out_all(n).chain(g.inc_all(n)) {
            if seen.contains_key(&r.other) {
                continue;
            }
            if seen.len() >= limit {
                truncated = true;
                break;
            }
            seen.insert(r.other, d + 1);
            order.push((r.other, d + 1));
            queue.push_back((r.other, d + 1));
        }
    }
    let mut edges: Vec<EdgeId> = order
        .iter()
        .flat_map(|(n, _)| g.out_all(*n).filter(|r| seen.contains_key(&r.other)).map(|r| r.id))
        .collect();
    edges.sort_unstable();
    edges.dedup();
    Neighbourhood { nodes: order, edges, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Input, Mode, Schema, Site};
    use crate::source::{SourceFile, Span};

    #[test]
    fn stats_and_neighbourhood() {
        let mut b = GraphBuilder::new(Schema::builtin());
        let f = b.add_file(SourceFile::new("t", ""));
        let at = Site { file: f, record: 0, span: Span::default() };
        let none: &[(&str, Input<'_>)] = &[];
        b.add_node("alice", "identity", &[("type", Input::str("human"))], &at);
        b.add_node("bot", "identity", &[("type", Input::str("bot"))], &at);
        b.add_node("svc", "identity", &[("type", Input::str("service_account"))], &at);
        b.add_node("k", "credential", &[("type", Input::str("token"))], &at);
        b.add_node("lost", "credential", &[("type", Input::str("token"))], &at);
        b.add_node("g", "group", none, &at);
        b.add_edge("svc", "alice", "owned_by", None, false, &at);
        b.add_edge("svc", "k", "has_credential", None, false, &at);
        b.add_edge("alice", "g", "member_of", None, false, &at);
        let g = b.finish(Mode::Strict).unwrap().graph;
        let st = stats(&g);
        assert_eq!(st.nodes_by_kind["identity"], 3);
        assert_eq!(st.edges_by_kind["owned_by"], 1);
        assert_eq!((st.unowned_identities, st.unheld_credentials, st.isolated), (1, 1, 2));
        let svc = g.lookup("svc").unwrap();
        let n1 = neighbourhood(&g, svc, 1, 100);
        assert_eq!(n1.nodes.len(), 3);
        assert_eq!(n1.edges.len(), 2);
        let n2 = neighbourhood(&g, svc, 2, 100);
        assert_eq!(n2.nodes.len(), 4);
        assert!(neighbourhood(&g, svc, 2, 2).truncated);
    }
}
