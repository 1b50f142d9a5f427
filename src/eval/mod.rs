//! Audit (all rules over the graph) and decide (one request), with traces for
//! `explain`.
//!
//! Must not: do I/O. `now` and plugins are passed in.

pub mod audit;
pub mod engine;
pub mod explain;
pub mod finding;

pub use audit::{AuditOptions, Scan, audit, scan, scan_scoped};
pub use finding::{
    Audit, Evidence, ExpiredException, Finding, FindingKind, Origin, PriorityAssignment, RuleScope,
    RuleSummary, Scopes, ServiceCount, Waiver,
};
