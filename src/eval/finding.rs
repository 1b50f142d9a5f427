//! The result of an audit: findings, with everything a reviewer or a CI system
//! needs to act on them. Plain data, serialisable; renderers live in
//! [`crate::report`].
//!
//! What is the same for every finding of a rule (rule id, entity kind,
//! controls, evidence expressions, inventory file, exception) is shared
//! (`Arc`), not copied per finding: an audit may hold millions of findings.
//! Shared or not, a field serialises the same.

use std::sync::Arc;

use serde::Serialize;

use crate::domain::{Enforcement, SeverityLevel};
use crate::source::Loc;
use crate::time::{Duration, Timestamp};

/// Why a finding exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A `require` did not hold.
    Violation,
    /// Evaluating the rule for this entity failed (division by zero, a plugin
    /// trap, ...); the rule could not decide.
    Error,
}

/// Urgency from a `priority by` declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PriorityAssignment {
    /// 1 (most urgent) to 5.
    pub level: u8,
    /// Time allowed to act.
    pub within: Duration,
    /// `now + within`.
    pub due: Timestamp,
}

/// A value the failed condition read, for the reviewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The expression as written, e.g. `c.rotated_at` (shared by the rule's findings).
    pub expr: Arc<str>,
    /// Its value, printed (`missing` when the entity has none).
    pub value: String,
}

/// Where an entity came from in the inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Inventory file as given.
    pub file: Arc<str>,
    /// One-based line of the record, when known.
    pub line: Option<u32>,
    /// Zero-based index of the record in its list.
    pub record: u32,
}

/// The exception that waived a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Waiver {
    /// Exception id.
    pub exception: Arc<str>,
    /// Last day it holds.
    pub until: Timestamp,
    /// Who approved it.
    pub approved_by: Arc<[String]>,
    /// Why.
    pub reason: Option<Arc<str>>,
}

/// One rule failing (or erroring) for one entity.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Violation or evaluation error.
    pub kind: FindingKind,
    /// Rule id, e.g. `owner-required`.
    pub rule: Arc<str>,
    /// The rule's location in its `.gov` file (its name).
    pub rule_loc: Loc,
    /// The `require` that failed (or the expression that errored).
    pub condition_loc: Loc,
    /// Entity id, e.g. `svc-billing`.
    pub entity: String,
    /// Entity kind, e.g. `identity`.
    pub entity_kind: Arc<str>,
    /// Severity (fixed, or chosen by the rule's `severity by`).
    pub severity: SeverityLevel,
    /// Enforcement level of the rule.
    pub enforcement: Enforcement,
    /// Priority from `priority by`, when one applies.
    pub priority: Option<PriorityAssignment>,
    /// The business service the entity supports, for grouping (id), if any.
    pub service: Option<String>,
    /// The interpolated message (or the error's text).
    pub message: String,
    /// The rule's help text, interpolated (shared when it has no holes).
    pub help: Option<Arc<str>>,
    /// Attribute values the failed condition read.
    pub evidence: Vec<Evidence>,
    /// For path conditions: the node ids of the path that was tried or found.
    pub witness: Vec<String>,
    /// Where the entity's record is in the inventory.
    pub origin: Option<Origin>,
    /// Framework controls (`OWASP-NHI:NHI1`, ...).
    pub maps: Arc<[String]>,
    /// The exception that waives it, if any (waived findings are still listed).
    pub waived_by: Option<Waiver>,
}

impl Finding {
    /// True when no exception waives it.
    pub fn is_open(&self) -> bool {
        self.waived_by.is_none()
    }
}

/// An exception whose `until` date has passed: it waives nothing and is
/// reported so that "exception debt" stays visible.
#[derive(Clone, Debug, Serialize)]
pub struct ExpiredException {
    /// Exception id.
    pub exception: String,
    /// The rule it was for.
    pub rule: String,
    /// When it expired.
    pub until: Timestamp,
    /// Where it is declared.
    pub loc: Loc,
}

/// What a report says about each rule, findings or not (SARIF `rules`, JUnit test cases).
#[derive(Clone, Debug, Serialize)]
pub struct RuleSummary {
    /// Rule id.
    pub id: String,
    /// The doc comment.
    pub doc: String,
    /// Default severity (the fixed one, or the highest a `severity by` can give).
    pub severity: SeverityLevel,
    /// Enforcement level.
    pub enforcement: Enforcement,
    /// Framework controls.
    pub maps: Vec<String>,
    /// Where it is declared (its name).
    pub loc: Loc,
    /// Entities the rule checked (after its `for ... where` filter).
    pub checked: usize,
    /// Open (unwaived) violations.
    pub failed: usize,
    /// Waived violations.
    pub waived: usize,
    /// Evaluation errors.
    pub errors: usize,
}

/// The outcome of one audit.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    /// The evaluation time used.
    pub now: Timestamp,
    /// Every rule evaluated, in declaration order.
    pub rules: Vec<RuleSummary>,
    /// Findings, deterministically ordered (rule order, then entity id).
    pub findings: Vec<Finding>,
    /// Exceptions past their `until` date.
    pub expired_exceptions: Vec<ExpiredException>,
    /// Inventory files the graph was loaded from.
    pub inventory_files: Vec<String>,
}

impl Audit {
    /// The worst enforcement level among open findings (violations and errors).
    pub fn worst_open_enforcement(&self) -> Option<Enforcement> {
        self.findings.iter().filter(|f| f.is_open()).map(|f| f.enforcement).max()
    }
}

/// How many entities each rule checked per business service: the
/// denominators of pass rates per service. From [`crate::eval::scan_scoped`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scopes {
    /// One entry per rule audited, in declaration order.
    pub rules: Vec<RuleScope>,
}

/// One rule's scope, split by business service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleScope {
    /// Rule id.
    pub rule: String,
    /// Entities checked per service (by service id; `None`, last: no service).
    pub checked: Vec<ServiceCount>,
}

/// Entities of one business service that a rule checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceCount {
    /// Service id (`None`: the entities that support no business service).
    pub service: Option<String>,
    /// Entities checked.
    pub checked: usize,
}
