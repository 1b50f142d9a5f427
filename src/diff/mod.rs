//! Comparing two sets of findings by fingerprint: what a policy change does
//! to an audit (`gov diff --base --head`), what changed between two saved
//! reports (`--before --after`), and the baseline state of each SARIF result
//! (`gov eval --baseline`). Also the replay of a decision log against two
//! policy sets ([`replay`]).
//!
//! Findings are matched by their fingerprint (rule id, entity kind, entity id;
//! see [`crate::report::fingerprint`]) into new, resolved, changed (the same
//! finding with a different severity, enforcement, priority, waiver, message,
//! kind or service: the diff says which) and unchanged, counted per rule and
//! per business service. A rule whose id changed shows as resolved plus new,
//! with a [`RenameHint`].
//!
//! Must not: evaluate or read files; it compares what it is given.

pub mod replay;
mod saved;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::{Audit, Finding, FindingKind};
use crate::report::fingerprint;

/// One finding, as the diff compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The fingerprint (see [`crate::report::fingerprint::value`]).
    pub fingerprint: u64,
    /// Rule id.
    pub rule: Arc<str>,
    /// Entity kind.
    pub entity_kind: Arc<str>,
    /// Entity id.
    pub entity: String,
    /// Violation or evaluation error.
    pub kind: FindingKind,
    /// Severity.
    pub severity: SeverityLevel,
    /// Enforcement level.
    pub enforcement: Enforcement,
    /// Priority level (1 = P1), if one applies.
    pub priority: Option<u8>,
    /// The exception that waives it, if any.
    pub waiver: Option<Arc<str>>,
    /// The finding's message.
    pub message: String,
    /// The business service of the entity, if any.
    pub service: Option<String>,
    /// Where a saved report placed it (only for entries read from a report).
    pub place: Option<Box<Place>>,
}

/// Where a finding of a saved report points, for reporting a finding that is
/// gone (a SARIF `absent` result).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// The rule's policy file and line.
    pub rule: Option<(String, u32)>,
    /// The inventory record's file and line.
    pub origin: Option<(String, Option<u32>)>,
}

impl Entry {
    /// The entry of an audit finding.
    pub fn of(f: &Finding) -> Entry {
        Entry {
            fingerprint: fingerprint::value(&f.rule, &f.entity_kind, &f.entity),
            rule: Arc::clone(&f.rule),
            entity_kind: Arc::clone(&f.entity_kind),
            entity: f.entity.clone(),
            kind: f.kind,
            severity: f.severity,
            enforcement: f.enforcement,
            priority: f.priority.map(|p| p.level),
            waiver: f.waived_by.as_ref().map(|w| Arc::clone(&w.exception)),
            message: f.message.clone(),
            service: f.service.clone(),
            place: None,
        }
    }

    /// True when no exception waives it.
    pub fn is_open(&self) -> bool {
        self.waiver.is_none()
    }

    /// The fingerprint as 16 hex digits (as reports write it).
    pub fn fingerprint_hex(&self) -> String {
        fingerprint::hex16(self.fingerprint)
    }

    /// Open and enforced at `level` or above.
    pub fn blocks_at(&self, level: Enforcement) -> bool {
        self.is_open() && self.enforcement >= level
    }

    /// The fields in which `self` and `other` (the same finding) differ.
    pub fn changed_fields(&self, other: &Entry) -> Vec<Field> {
        let mut out = Vec::new();
        if self.kind != other.kind {
            out.push(Field::Kind);
        }
        if self.severity != other.severity {
            out.push(Field::Severity);
        }
        if self.enforcement != other.enforcement {
            out.push(Field::Enforcement);
        }
        if self.priority != other.priority {
            out.push(Field::Priority);
        }
        if self.waiver != other.waiver {
            out.push(Field::Waiver);
        }
        if self.message != other.message {
            out.push(Field::Message);
        }
        if self.service != other.service {
            out.push(Field::Service);
        }
        out
    }
}

/// A field of a finding that can change while the finding stays the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Violation or evaluation error.
    Kind,
    /// Severity.
    Severity,
    /// Enforcement level.
    Enforcement,
    /// Priority.
    Priority,
    /// The waiving exception (waived, no longer waived, another exception).
    Waiver,
    /// The message text.
    Message,
    /// The business service.
    Service,
}

impl Field {
    /// The name reports use (`severity`, `waiver`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Kind => "kind",
            Field::Severity => "severity",
            Field::Enforcement => "enforcement",
            Field::Priority => "priority",
            Field::Waiver => "waiver",
            Field::Message => "message",
            Field::Service => "service",
        }
    }
}

/// One side of a comparison: the rules that were evaluated and their findings.
#[derive(Clone, Debug, Default)]
pub struct FindingSet {
    /// Rule ids evaluated (findings or not), for rename hints.
    pub rules: Vec<String>,
    /// The findings.
    pub entries: Vec<Entry>,
}

impl FindingSet {
    /// The findings of an audit.
    pub fn of_audit(audit: &Audit) -> FindingSet {
        FindingSet {
            rules: audit.rules.iter().map(|r| r.id.clone()).collect(),
            entries: audit.findings.iter().map(Entry::of).collect(),
        }
    }

    /// A saved report: a `gov.findings/v1` JSON document or a SARIF log
    /// written by `gov eval --format sarif`. `name` is for the diagnostic.
    pub fn from_report(name: &str, text: &str) -> Result<FindingSet, crate::Diag> {
        saved::read(name, text)
    }
}

/// The same finding on both sides, with fields that differ.
#[derive(Clone, Debug)]
pub struct Changed {
    /// Before (base).
    pub before: Entry,
    /// After (head).
    pub after: Entry,
    /// Which fields differ (never empty).
    pub fields: Vec<Field>,
}

/// Counts for one rule or one service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Findings only in the head.
    pub new: usize,
    /// Findings only in the base.
    pub resolved: usize,
    /// Findings in both, with a field changed.
    pub changed: usize,
    /// Findings in both, the same.
    pub unchanged: usize,
}

impl Counts {
    /// True when anything was added, resolved or changed.
    pub fn differs(&self) -> bool {
        self.new + self.resolved + self.changed > 0
    }
}

/// A rule of the base that the head no longer has, whose findings reappear
/// under a rule only the head has: probably the same rule with a new id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenameHint {
    /// The base's rule id.
    pub from: String,
    /// The head's rule id.
    pub to: String,
    /// Entities with a finding under both ids.
    pub entities: usize,
}

/// The service key for findings without a business service.
pub const NO_SERVICE: &str = "(no service)";

/// The comparison of two finding sets.
#[derive(Clone, Debug, Default)]
pub struct FindingDiff {
    /// Findings only in the head, by rule then entity.
    pub new: Vec<Entry>,
    /// Findings only in the base, by rule then entity.
    pub resolved: Vec<Entry>,
    /// Findings on both sides whose fields differ, by rule then entity.
    pub changed: Vec<Changed>,
    /// Findings on both sides, the same.
    pub unchanged: usize,
    /// Counts per rule id (rules with no findings on either side are absent).
    pub by_rule: BTreeMap<String, Counts>,
    /// Counts per business service ([`NO_SERVICE`] for none).
    pub by_service: BTreeMap<String, Counts>,
    /// Rules that look renamed.
    pub renamed: Vec<RenameHint>,
    /// Findings that repeat a fingerprint already seen on the same side
    /// (base, head): counted, not compared.
    pub duplicates: (usize, usize),
}

fn order(e: &Entry) -> (&str, &str, &str) {
    (&e.rule, &e.entity_kind, &e.entity)
}

/// Compares `base` with `head` by fingerprint.
pub fn diff(base: &FindingSet, head: &FindingSet) -> FindingDiff {
    let mut out = FindingDiff::default();
    let mut index: HashMap<u64, usize> = HashMap::with_capacity(base.entries.len());
    for (i, e) in base.entries.iter().enumerate() {
        match index.entry(e.fingerprint) {
            // The first one counts.
            std::collections::hash_map::Entry::Occupied(_) => out.duplicates.0 += 1,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
        }
    }
    let mut matched = vec![false; base.entries.len()];
    let mut seen_head: std::collections::HashSet<u64> =
        std::collections::HashSet::with_capacity(head.entries.len());
    for e in &head.entries {
        if !seen_head.insert(e.fingerprint) {
            out.duplicates.1 += 1;
            continue;
        }
        let before = index.get(&e.fingerprint).and_then(|&i| Some((i, base.entries.get(i)?)));
        match before {
            Some((i, b)) => {
                if let Some(m) = matched.get_mut(i) {
                    *m = true;
                }
                let fields = b.changed_fields(e);
                if fields.is_empty() {
                    out.unchanged += 1;
                    bump(&mut out, e, |c| c.unchanged += 1);
                } else {
                    bump(&mut out, e, |c| c.changed += 1);
                    out.changed.push(Changed { before: b.clone(), after: e.clone(), fields });
                }
            }
            None => {
                bump(&mut out, e, |c| c.new += 1);
                out.new.push(e.clone());
            }
        }
    }
    for (i, (e, m)) in base.entries.iter().zip(&matched).enumerate() {
        if !*m && index.get(&e.fingerprint) == Some(&i) {
            bump(&mut out, e, |c| c.resolved += 1);
            out.resolved.push(e.clone());
        }
    }
    out.new.sort_by(|a, b| order(a).cmp(&order(b)));
    out.resolved.sort_by(|a, b| order(a).cmp(&order(b)));
    out.changed.sort_by(|a, b| order(&a.after).cmp(&order(&b.after)));
    out.renamed = rename_hints(base, head, &out);
    out
}

fn bump(out: &mut FindingDiff, e: &Entry, f: impl Fn(&mut Counts)) {
    f(out.by_rule.entry(e.rule.to_string()).or_default());
    let service = e.service.as_deref().unwrap_or(NO_SERVICE);
    f(out.by_service.entry(service.to_owned()).or_default());
}

/// Pairs rules only the base has with rules only the head has when the
/// entities of their resolved and new findings mostly coincide (Jaccard
/// similarity of at least one half), best pairs first.
fn rename_hints(base: &FindingSet, head: &FindingSet, d: &FindingDiff) -> Vec<RenameHint> {
    let base_rules: BTreeSet<&str> = base.rules.iter().map(String::as_str).collect();
    let head_rules: BTreeSet<&str> = head.rules.iter().map(String::as_str).collect();
    let group = |entries: &[Entry], only: &dyn Fn(&str) -> bool| {
        let mut m: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for e in entries.iter().filter(|e| only(&e.rule)) {
            m.entry(e.rule.to_string())
                .or_default()
                .insert((e.entity_kind.to_string(), e.entity.clone()));
        }
        m
    };
    let gone = group(&d.resolved, &|r| !head_rules.contains(r));
    let came = group(&d.new, &|r| !base_rules.contains(r));
    let mut pairs = Vec::new();
    for (from, a) in &gone {
        for (to, b) in &came {
            let both = a.intersection(b).count();
            let either = a.union(b).count();
            if both > 0 && both * 2 >= either {
                pairs.push((both * 1000 / either.max(1), both, from, to));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(y.2)).then(x.3.cmp(y.3)));
    let mut used_from = BTreeSet::new();
    let mut used_to = BTreeSet::new();
    let mut out = Vec::new();
    for (_, both, from, to) in pairs {
        if used_from.insert(from.clone()) {
            if used_to.insert(to.clone()) {
                out.push(RenameHint { from: from.clone(), to: to.clone(), entities: both });
            } else {
                used_from.remove(from);
            }
        }
    }
    out.sort_by(|a, b| a.from.cmp(&b.from));
    out
}

impl FindingDiff {
    /// Findings the head adds that block at `level`: new open findings at or
    /// above it, and findings that now block and did not (a waiver removed,
    /// an enforcement raised).
    pub fn added_blocking(&self, level: Enforcement) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = self.new.iter().filter(|e| e.blocks_at(level)).collect();
        out.extend(
            self.changed
                .iter()
                .filter(|c| c.after.blocks_at(level) && !c.before.blocks_at(level))
                .map(|c| &c.after),
        );
        out.sort_by(|a, b| order(a).cmp(&order(b)));
        out
    }

    /// True when nothing was added, resolved or changed.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.resolved.is_empty() && self.changed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rule: &str, entity: &str) -> Entry {
        Entry {
            fingerprint: fingerprint::value(rule, "identity", entity),
            rule: rule.into(),
            entity_kind: "identity".into(),
            entity: entity.to_owned(),
            kind: FindingKind::Violation,
            severity: SeverityLevel::High,
            enforcement: Enforcement::Hard,
            priority: None,
            waiver: None,
            message: format!("{entity} fails {rule}"),
            service: Some("billing".into()),
            place: None,
        }
    }

    fn set(rules: &[&str], entries: Vec<Entry>) -> FindingSet {
        FindingSet { rules: rules.iter().map(|r| (*r).to_owned()).collect(), entries }
    }

    #[test]
    fn new_resolved_changed_and_unchanged_by_rule_and_service() {
        let mut waived = entry("a", "y");
        waived.waiver = Some("ex".into());
        let mut moved = entry("a", "z");
        moved.service = None;
        let base = set(&["a"], vec![entry("a", "x"), entry("a", "y"), moved.clone()]);
        let mut z = moved.clone();
        z.severity = SeverityLevel::Low;
        z.message = "edited".into();
        let head = set(&["a"], vec![entry("a", "w"), waived, z]);
        let d = diff(&base, &head);
        assert_eq!(d.new.iter().map(|e| e.entity.as_str()).collect::<Vec<_>>(), ["w"]);
        assert_eq!(d.resolved.iter().map(|e| e.entity.as_str()).collect::<Vec<_>>(), ["x"]);
        let fields: Vec<_> = d.changed.iter().map(|c| c.fields.clone()).collect();
        assert_eq!(fields, [vec![Field::Waiver], vec![Field::Severity, Field::Message]]);
        assert_eq!(d.unchanged, 0);
        assert_eq!(d.by_rule["a"], Counts { new: 1, resolved: 1, changed: 2, unchanged: 0 });
        assert_eq!(
            d.by_service["billing"],
            Counts { new: 1, resolved: 1, changed: 1, unchanged: 0 }
        );
        assert_eq!(d.by_service[NO_SERVICE].changed, 1);
        // Waiving a finding removes a blocker; it never adds one.
        assert!(d.added_blocking(Enforcement::Hard).iter().all(|e| e.entity == "w"));
    }

    #[test]
    fn a_removed_waiver_or_raised_enforcement_adds_a_blocker() {
        let mut soft = entry("a", "x");
        soft.enforcement = Enforcement::Soft;
        let mut waived = entry("a", "y");
        waived.waiver = Some("ex".into());
        let d = diff(
            &set(&["a"], vec![soft, waived]),
            &set(&["a"], vec![entry("a", "x"), entry("a", "y")]),
        );
        let added: Vec<_> =
            d.added_blocking(Enforcement::Hard).iter().map(|e| e.entity.clone()).collect();
        assert_eq!(added, ["x", "y"]);
        assert!(d.added_blocking(Enforcement::Soft).iter().all(|e| e.entity == "y"));
    }

    #[test]
    fn a_renamed_rule_is_resolved_plus_new_with_a_hint() {
        let base = set(&["old-id", "other"], vec![entry("old-id", "x"), entry("old-id", "y")]);
        let head = set(&["new-id", "other"], vec![entry("new-id", "x"), entry("new-id", "y")]);
        let d = diff(&base, &head);
        assert_eq!((d.new.len(), d.resolved.len()), (2, 2));
        assert_eq!(
            d.renamed,
            [RenameHint { from: "old-id".into(), to: "new-id".into(), entities: 2 }]
        );
        // A rule that still exists in the head is not a rename.
        let head = set(&["old-id", "new-id"], vec![entry("new-id", "x"), entry("new-id", "y")]);
        assert!(diff(&base, &head).renamed.is_empty());
        // Unrelated entities are not a rename either.
        let head = set(&["new-id"], vec![entry("new-id", "p"), entry("new-id", "q")]);
        assert!(diff(&base, &head).renamed.is_empty());
    }

    #[test]
    fn duplicate_fingerprints_are_counted_not_compared() {
        let base = set(&["a"], vec![entry("a", "x"), entry("a", "x")]);
        let head = set(&["a"], vec![entry("a", "x"), entry("a", "x"), entry("a", "x")]);
        let d = diff(&base, &head);
        assert_eq!(d.duplicates, (1, 2));
        assert_eq!(d.unchanged, 1);
        assert!(d.is_empty());
    }
}
