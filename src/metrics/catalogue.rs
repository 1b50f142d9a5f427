//! The business services of a graph, with their tier, display name and the
//! identities that support them: the rows of a scorecard, also for the
//! services that have no finding at all.
//!
//! Must not: evaluate rules. An identity belongs to the service the engine
//! groups its findings under ([`Interpreter::service_of`]), so counts and
//! findings agree.

use std::collections::HashMap;

use super::IdentityCounts;
use crate::eval::engine::Interpreter;
use crate::graph::{Graph, Value};
use crate::ir::Program;
use crate::time::Timestamp;

/// One business service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Node id, e.g. `service:ledger`.
    pub id: String,
    /// Its `name` attribute, if any.
    pub name: Option<String>,
    /// Its `tier` attribute, if any.
    pub tier: Option<i64>,
    /// Identities whose findings are grouped under it.
    pub identities: IdentityCounts,
}

/// Every business service of a graph.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// In id order.
    pub services: Vec<ServiceInfo>,
    /// Identities that support no business service.
    pub unassigned: IdentityCounts,
    index: HashMap<String, usize>,
}

impl Catalogue {
    /// The services of `graph` (the program decides nothing here; the
    /// engine that finds an entity's service needs one).
    pub fn of(program: &Program, graph: &Graph) -> Catalogue {
        let engine = Interpreter::new(program, graph, Timestamp(0));
        let schema = graph.schema();
        let mut c = Catalogue::default();
        let model = schema.service_model();
        if let Some(kind) = model.kind {
            let mut nodes: Vec<_> = graph.nodes_of_kind(kind).to_vec();
            nodes.sort_by(|a, b| graph.id(*a).cmp(graph.id(*b)));
            for n in nodes {
                let name = match graph.attr_by_name(n, "name") {
                    Value::Str(s) => Some(s.to_owned()),
                    _ => None,
                };
                let tier = match model.tier.map(|a| graph.attr(n, a)) {
                    Some(Value::Int(t)) => Some(t),
                    _ => None,
                };
                c.index.insert(graph.id(n).to_owned(), c.services.len());
                c.services.push(ServiceInfo {
                    id: graph.id(n).to_owned(),
                    name,
                    tier,
                    identities: IdentityCounts::default(),
                });
            }
        }
        if let Some(kind) = schema.kind("identity") {
            for n in graph.nodes_of_kind(kind) {
                let human = matches!(graph.attr_by_name(*n, "type"), Value::Str("human"));
                let counts = match engine.service_of(*n) {
                    Some(s) => {
                        match c.index.get(graph.id(s)).copied().and_then(|i| c.services.get_mut(i))
                        {
                            Some(info) => &mut info.identities,
                            None => continue,
                        }
                    }
                    None => &mut c.unassigned,
                };
                if human {
                    counts.people += 1;
                } else {
                    counts.non_human += 1;
                }
            }
        }
        c
    }

    /// A service by id.
    pub fn get(&self, id: &str) -> Option<&ServiceInfo> {
        self.index.get(id).and_then(|i| self.services.get(*i))
    }

    /// A service's tier.
    pub fn tier(&self, id: &str) -> Option<i64> {
        self.get(id).and_then(|s| s.tier)
    }
}
