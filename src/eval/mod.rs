//! Evaluation: the plan (`plan`: conditions compiled for a graph, which
//! audits and decisions both run), the interpreter it falls back to
//! ([`engine`]), the audit (every rule over the graph, [`audit`](mod@audit)) and traces
//! for `explain`.
//!
//! Must not: do I/O. `now` and plugins are passed in.

pub mod audit;
pub mod engine;
pub mod explain;
pub mod finding;
pub(crate) mod plan;

pub use audit::{AuditOptions, Scan, audit, scan, scan_scoped};
pub use finding::{
    Audit, Evidence, ExpiredException, Finding, FindingKind, Origin, PriorityAssignment, RuleScope,
    RuleSummary, Scopes, ServiceCount, Waiver,
};
