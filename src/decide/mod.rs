//! The embedding API for per-request decisions: an [`Engine`]
//! (compiled policies plus identity graph, built once, `Send + Sync`, cheap to
//! clone) answers "may this identity do this to that service now?" through
//! [`Engine::decide`], and an [`EngineHandle`] swaps in a new policy set or
//! graph atomically, keeping the old one when the update is broken.
//!
//! Owns: request decoding (inputs by name, entity ids through the graph's id
//! lookup), the precedence of clauses (deny over approval over allow; no
//! matching allow is `not_permitted`), and the result shape.
//! Must not: parse or check policy text itself (it calls `syntax` and `check`),
//! evaluate a condition itself (clauses run the plan of `eval::plan`, as
//! audits do, over the records of `graph::records`), or do I/O while
//! deciding (only [`Engine::load`] reads files).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use crate::diag::Diagnostics;
use crate::graph::Graph;
use crate::ir::Program;
use crate::time::Timestamp;

/// Compiled policies and identity graph, built once. `Clone` is an `Arc`
/// clone; the engine is `Send + Sync` and decides through `&self`.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    program: Program,
    graph: Graph,
    revision: String,
    /// Decision index by name.
    /// (`hashbrown`'s hasher: a request names its decision, and SipHash
    /// was a measurable part of a decision.)
    by_name: hashbrown::HashMap<Box<str>, usize>,
    /// Per decision, per step: where the clause is (computed once).
    sites: Vec<Vec<eval::ClauseSite>>,
    /// Per decision: what it reads of its entity inputs (computed once).
    warm: Vec<Vec<eval::Warm>>,
    /// The priority of each service, when it depends on nothing else.
    priorities: Option<eval::Priorities>,
    /// Row-major copies of the attributes the compiled conditions read.
    rows: crate::graph::records::Records,
    /// Schema ids the interpreter needs, resolved once.
    known: crate::eval::engine::Known,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("revision", &self.inner.revision)
            .field("nodes", &self.inner.graph.node_count())
            .finish_non_exhaustive()
    }
}

/// Where [`Engine::load`] and [`EngineHandle::reload`] read from (the one
/// loader's [`crate::load::Sources`]).
pub use crate::load::Sources;

/// One question to a decision block.
///
/// JSON:
/// `{"decision": "call-service", "input": {"subject": "svc-a", "target": "billing",
/// "action": "write"}, "now": "2026-11-23T00:00:00Z"}`; `now` is optional and
/// defaults to the clock. An input declared with a node kind (identity,
/// service, credential...) takes the entity id as a JSON string;
/// string/int/bool/timestamp/duration inputs take JSON scalars (timestamps and
/// durations as the strings gov's syntax uses).
#[derive(Clone, Debug, Deserialize)]
pub struct Request {
    /// The name of the decision block.
    pub decision: String,
    /// Inputs by declared name.
    #[serde(default)]
    pub input: BTreeMap<String, serde_json::Value>,
    /// The time of the request; default: the system clock.
    #[serde(default)]
    pub now: Option<Timestamp>,
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// What the caller may do.
    pub effect: Effect,
    /// Why: the matching deny / approval / allow clauses (for `not_permitted`: empty).
    pub reasons: Vec<Reason>,
    /// Approvers (from `require approval from EXPR`), when effect is `approval_required`.
    pub approvers: Vec<String>,
    /// Priority label (`"P1"`) from the policy's `priority by` for the target service, if any.
    pub priority: Option<Cow<'static, str>>,
}

/// The outcome of a decision. Precedence: deny, then approval, then allow;
/// no matching allow is `NotPermitted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// An allow clause matched and nothing denied or required approval.
    Allow,
    /// Explicitly denied by a deny clause (or a clause failed at run time: fail closed).
    Deny,
    /// No allow clause matched (default deny).
    NotPermitted,
    /// An approval clause matched: allowed once the approvers agree.
    ApprovalRequired,
}

impl Effect {
    /// Whether the request may go ahead now (only [`Effect::Allow`]).
    pub fn is_allowed(self) -> bool {
        matches!(self, Effect::Allow)
    }

    /// The snake_case name (`allow`, `deny`, `not_permitted`, `approval_required`).
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
            Effect::NotPermitted => "not_permitted",
            Effect::ApprovalRequired => "approval_required",
        }
    }
}

/// One clause that contributed to a decision.
#[derive(Clone, Debug, Serialize)]
pub struct Reason {
    /// The decision block (shared with the compiled program: no copy per reason).
    pub decision: Arc<str>,
    /// `deny`, `allow`, `approval` or `error`.
    pub clause: &'static str,
    /// The clause's reason text with its placeholders filled in (or the error).
    pub message: String,
    /// The policy file of the clause (shared, like `decision`).
    pub file: Arc<str>,
    /// 1-based line of the clause.
    pub line: u32,
    /// 1-based column of the clause.
    pub column: u32,
}

/// A request that cannot be decided. [`DecideError::kind`] is a stable
/// snake_case code a server maps to HTTP: `unknown_decision` 404,
/// `unknown_entity` 401 (auth endpoints) or 404 (`/v1/decide`),
/// `missing_input` / `unknown_input` / `bad_input` 400.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// No decision block of that name.
    #[error("unknown decision `{name}`")]
    UnknownDecision {
        /// The requested name.
        name: String,
        /// The closest declared name, if any.
        suggestion: Option<String>,
    },
    /// An entity input names an id that is not in the graph (or of another kind).
    #[error("input `{input}`: no entity `{id}`")]
    UnknownEntity {
        /// The input name.
        input: String,
        /// The id given.
        id: String,
    },
    /// A declared input was not given.
    #[error("missing input `{input}`")]
    MissingInput {
        /// The input name.
        input: String,
    },
    /// An input the decision does not declare.
    #[error("unknown input `{input}`")]
    UnknownInput {
        /// The input name.
        input: String,
    },
    /// An input value of the wrong type.
    #[error("input `{input}`: expected {expected}")]
    BadInput {
        /// The input name.
        input: String,
        /// What the input takes (`an identity id (string)`, `an int`...).
        expected: String,
    },
}

impl DecideError {
    /// A stable snake_case code for the error.
    pub fn kind(&self) -> &'static str {
        match self {
            DecideError::UnknownDecision { .. } => "unknown_decision",
            DecideError::UnknownEntity { .. } => "unknown_entity",
            DecideError::MissingInput { .. } => "missing_input",
            DecideError::UnknownInput { .. } => "unknown_input",
            DecideError::BadInput { .. } => "bad_input",
        }
    }
}

impl Engine {
    /// From a compiled program and its graph (the program must have been
    /// compiled against `graph.schema()`). The revision is a hash of the
    /// compiled program and of the graph's size and source file names (a
    /// content hash of a large graph would cost seconds; [`Engine::load`]
    /// hashes the file contents instead).
    pub fn new(program: Program, graph: Graph) -> Engine {
        let shape = format!("{} nodes, {} edges", graph.node_count(), graph.edge_count());
        let mut parts: Vec<&[u8]> = vec![b"new", shape.as_bytes()];
        parts.extend(graph.files().iter().map(|f| f.as_bytes()));
        let dump = program.dump();
        parts.push(dump.as_bytes());
        let revision = revision_of_parts(&parts);
        Engine::with_revision(program, graph, revision)
    }

    pub(crate) fn with_revision(program: Program, graph: Graph, revision: String) -> Engine {
        let mut by_name = hashbrown::HashMap::new();
        for (i, d) in program.decisions.iter().enumerate() {
            by_name.entry(Box::from(&*d.name)).or_insert(i);
        }
        let sites: Vec<_> =
            program.decisions.iter().map(|d| eval::sites_of(d, Some(&graph))).collect();
        let rows = eval::rows_of(&graph, &sites);
        let mut warm: Vec<_> = program.decisions.iter().map(eval::warm_of).collect();
        for w in &mut warm {
            eval::trim_warm(w, &rows);
        }
        let known = crate::eval::engine::Known::of(&graph);
        let priorities = eval::priorities_of(&program, &graph, known);
        Engine {
            inner: Arc::new(Inner {
                program,
                graph,
                revision,
                by_name,
                sites,
                warm,
                priorities,
                rows,
                known,
            }),
        }
    }

    /// Reads policy files/dirs (`.gov`), inventories (any format `gov ingest`
    /// reads) and an optional mapping file, and compiles against the graph's
    /// schema. Errors: every diagnostic (I/O, parse, ingest, check), never a panic.
    pub fn load(sources: &Sources) -> Result<Engine, Diagnostics> {
        let loaded = crate::load::load(sources, Timestamp::now()).map_err(|f| f.diagnostics)?;
        let parts: Vec<&[u8]> = loaded.texts.iter().map(|s| s.text().as_bytes()).collect();
        let revision = revision_of_parts(&parts);
        Ok(Engine::with_revision(loaded.compiled.program, loaded.graph.graph, revision))
    }

    /// Short stable content hash (hex) of the policy texts and inventory bytes.
    pub fn revision(&self) -> &str {
        &self.inner.revision
    }

    /// Names of the decision blocks in the policy set.
    pub fn decisions(&self) -> impl Iterator<Item = &str> {
        self.inner.program.decisions.iter().map(|d| &*d.name)
    }

    /// The compiled program.
    pub fn program(&self) -> &Program {
        &self.inner.program
    }

    /// The identity graph.
    pub fn graph(&self) -> &Graph {
        &self.inner.graph
    }

    /// Decides one request. Takes `&self`; allocates only the result where possible.
    pub fn decide(&self, request: &Request) -> Result<Decision, DecideError> {
        eval::decide(&self.inner, request)
    }
}

/// Hot swap: the current engine behind `arc-swap`; readers never block.
#[derive(Debug)]
pub struct EngineHandle {
    current: ArcSwap<Engine>,
}

impl EngineHandle {
    /// Serves `engine` until it is replaced.
    pub fn new(engine: Engine) -> Self {
        EngineHandle { current: ArcSwap::from_pointee(engine) }
    }

    /// The engine serving now (cheap: an `Arc` load).
    pub fn current(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Serves `engine` from now on; returns the old one.
    pub fn replace(&self, engine: Engine) -> Arc<Engine> {
        self.current.swap(Arc::new(engine))
    }

    /// Loads `sources`; on success swaps and returns the new revision, on
    /// error keeps the old engine serving and returns the diagnostics.
    pub fn reload(&self, sources: &Sources) -> Result<String, Diagnostics> {
        let engine = Engine::load(sources)?;
        let revision = engine.revision().to_owned();
        self.replace(engine);
        Ok(revision)
    }
}

#[cfg(test)]
mod compiled_tests;
mod eval;

/// Decides a request against a program and graph borrowed from elsewhere
/// (`gov test`), without building an [`Engine`].
pub(crate) fn decide_borrowed(
    program: &Program,
    graph: &Graph,
    request: &Request,
) -> Result<Decision, DecideError> {
    let Some(index) = program.decisions.iter().position(|d| *d.name == *request.decision) else {
        return Err(eval::unknown_decision(program, &request.decision));
    };
    let decision = program.decisions.get(index);
    let sites = decision.map(|d| eval::sites_of(d, Some(graph))).unwrap_or_default();
    let warm = decision.map(eval::warm_of).unwrap_or_default();
    let known = crate::eval::engine::Known::of(graph);
    // No records: copying attributes of the whole graph costs more than the
    // one request they would serve (`gov test` decides a few per program);
    // compiled conditions then read the columns.
    let rows = crate::graph::records::Records::default();
    let prepared = eval::Prepared { sites: &sites, warm: &warm, priorities: None, rows: &rows };
    eval::decide_in(program, graph, known, index, prepared, request)
}

/// FNV-1a 64 over the parts (with their lengths, so boundaries count): stable
/// across Rust versions and platforms, unlike `DefaultHasher`.
pub(crate) fn revision_of_parts(parts: &[&[u8]]) -> String {
    let mut h = crate::hash::Fnv64::default();
    for p in parts {
        h.write(&(p.len() as u64).to_le_bytes()).write(p);
    }
    format!("{:016x}", h.finish())
}

// The engine is shared across server threads: `Send + Sync + Clone` is part
// of its contract, checked at compile time.
const _: () = {
    const fn shared<T: Send + Sync + Clone>() {}
    const fn sync<T: Send + Sync>() {}
    shared::<Engine>();
    sync::<EngineHandle>();
    shared::<Decision>();
};
