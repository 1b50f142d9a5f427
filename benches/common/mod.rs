//! What several benchmarks share: the request sampler over the generated
//! inventory (the same stream for the same seed, so that figures compare
//! across benchmarks), and reading a `GOV_BENCH_*` number.
#![allow(dead_code, clippy::unwrap_used)]

use gov::graph::{Graph, NodeId};

/// The actions requests rotate over (reads most common, deletes rare).
pub const ACTIONS: [&str; 7] = ["read", "read", "read", "write", "write", "admin", "delete"];

/// `GOV_BENCH_<name>` as a number, or `default`.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A xorshift64 stream: deterministic, cheap, good enough to pick requests.
pub fn xorshift() -> impl FnMut() -> u64 {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Requests' subjects: the identities that support a business service,
/// and the resources they may target.
pub struct Population<'g> {
    pub nhis: Vec<NodeId>,
    pub resources: &'g [NodeId],
}

impl<'g> Population<'g> {
    pub fn of(graph: &'g Graph) -> Self {
        let schema = graph.schema();
        let identity = schema.kind("identity").unwrap();
        let resource = schema.kind("resource").unwrap();
        let supports = schema.edge_kind("supports").unwrap();
        let nhis = graph
            .nodes_of_kind(identity)
            .iter()
            .copied()
            .filter(|n| !graph.out(*n, supports).is_empty())
            .collect();
        Population { nhis, resources: graph.nodes_of_kind(resource) }
    }
}

/// `items[r % len]`.
pub fn pick<T: Copy>(items: &[T], r: u64) -> T {
    items[(r % items.len() as u64) as usize]
}
