//! The audit: every rule over every entity in its scope, in parallel, with
//! deterministic output, in two stages. [`scan`] evaluates and keeps a small
//! verdict per failure (what counts, gates and orders findings); then
//! [`Scan::into_audit`] builds each finding's text by evaluating its rule
//! again for its entity. The scan stays small and fast (millions of
//! failures are tens of megabytes, not gigabytes), and a caller that needs
//! only the counts or the gate never pays for messages and evidence.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use rayon::prelude::*;

use super::engine::{EvalError, Frame, Interpreter, matches_pattern};
use super::finding::*;
use super::plan::{self, Cond, Cx};
use crate::domain::{Enforcement, SeverityLevel};
use crate::graph::records::Records;
use crate::graph::{Graph, NodeId};
use crate::ir::value::Value;
use crate::ir::{self, BodyStep, Program};
use crate::source::Loc;
use crate::time::{Duration, Timestamp};

/// What to audit.
#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    /// The evaluation time.
    pub now: Option<Timestamp>,
    /// Only these rules (all when empty).
    pub rules: Vec<String>,
    /// Only this entity.
    pub entity: Option<String>,
    /// Nodes the paths of one rule may visit for one entity before it ends
    /// in a `gov::eval::walk_limit` error finding
    /// ([`DEFAULT_WALK_LIMIT`](super::engine::DEFAULT_WALK_LIMIT) when `None`).
    pub walk_limit: Option<u64>,
}

/// An exception is in force through the whole of its `until` day.
pub fn exception_expired(until: Timestamp, now: Timestamp) -> bool {
    until.0 + 86_400 <= now.0
}

/// Runs every rule of `program` over `graph` and materialises every finding:
/// [`scan`], then [`Scan::into_audit`].
pub fn audit(program: &Program, graph: &Graph, options: &AuditOptions) -> Audit {
    scan(program, graph, options).into_audit()
}

/// The outcome of evaluating every rule over its scope, before any finding's
/// text exists: per rule and entity, whether it failed, with the severity,
/// priority, service and waiver that decide how it is counted, grouped and
/// gated. 28 bytes per finding, where a [`Finding`] with its message,
/// evidence and provenance is several hundred; [`Scan::into_audit`] builds
/// those, in parallel, by evaluating each failing rule for its entity again.
pub struct Scan<'a> {
    engine: Interpreter<'a>,
    shared: Shared,
    /// The rules audited, in declaration order, each with its verdicts in
    /// entity id order.
    per: Vec<(PerRule<'a>, Vec<Verdict>)>,
    rules: Vec<RuleSummary>,
    /// Per rule (as `rules`): entities checked per business service node
    /// ([`NONE`]: none). Empty unless the scan was [`scan_scoped`].
    scopes: Vec<ScopeCounts>,
}

/// Entities checked per business service node id.
type ScopeCounts = HashMap<u32, usize>;

/// No priority, service or waiver.
const NONE: u32 = u32::MAX;

/// One failing (or erroring) rule-entity pair, as the scan records it.
#[derive(Clone, Copy)]
struct Verdict {
    node: NodeId,
    /// The entity's position in id order among its kind ([`Graph::id_rank`]).
    rank: u32,
    /// The entity's business service ([`NONE`]: none).
    service: u32,
    /// Index of the exception that waives it ([`NONE`]: open).
    waiver: u32,
    kind: FindingKind,
    severity: SeverityLevel,
    /// Index of the `priority by` arm that matched (`u8::MAX`: none).
    priority: u8,
}

impl Verdict {
    fn is_open(&self) -> bool {
        self.waiver == NONE
    }
}

/// Evaluates every rule of `program` over its scope in `graph`, in parallel,
/// keeping only what a failure needs to be counted and ordered.
///
/// Entities are scanned in load order, the order of their attribute rows,
/// in chunks; a chunk keeps its failures with their node, and only those are
/// ordered by entity id at the end (an integer sort on the graph's id rank).
pub fn scan<'a>(program: &'a Program, graph: &'a Graph, options: &AuditOptions) -> Scan<'a> {
    scan_with(program, graph, options, false, true)
}

/// [`scan`] that also counts, per rule, the entities checked per business
/// service ([`Scan::scopes`]), for pass rates per service. It looks up the
/// service of every checked entity, which a plain scan does only for failures.
pub fn scan_scoped<'a>(program: &'a Program, graph: &'a Graph, options: &AuditOptions) -> Scan<'a> {
    scan_with(program, graph, options, true, true)
}

fn scan_with<'a>(
    program: &'a Program,
    graph: &'a Graph,
    options: &AuditOptions,
    scoped: bool,
    compiled: bool,
) -> Scan<'a> {
    let now = options.now.unwrap_or_else(Timestamp::now);
    let mut engine = Interpreter::new(program, graph, now);
    if let Some(limit) = options.walk_limit {
        engine = engine.with_walk_limit(limit);
    }
    let only_entity = options.entity.as_deref().map(|id| graph.lookup(id));
    let mut rules = Vec::new();
    let mut per_rule = Vec::new();
    let mut scopes = Vec::new();
    for (index, rule) in program.rules.iter().enumerate() {
        if !options.rules.is_empty() && !options.rules.iter().any(|r| **r == *rule.id) {
            continue;
        }
        let one;
        let entities: &[NodeId] = match only_entity {
            Some(Some(n)) if graph.kind(n) == rule.kind => {
                one = [n];
                &one
            }
            Some(_) => &[],
            None => graph.nodes_of_kind(rule.kind),
        };
        let per = PerRule::new(program, index, rule, graph, compiled);
        // One frame per worker, reset per entity: no allocation per passing
        // check. Chunks keep their order in the collected vector.
        let tallies: Vec<Tally> = entities
            .par_chunks(CHUNK)
            .map_init(
                || Worker::new(rule.frame, program),
                |w, chunk| {
                    let mut t = Tally::default();
                    for n in chunk {
                        if let Some(v) = check_entity(&engine, &per, *n, w) {
                            if scoped {
                                let s = engine.frame_service(&mut w.frame).map_or(NONE, |s| s.0);
                                *t.scope.entry(s).or_default() += 1;
                            }
                            t.add(v);
                        }
                    }
                    t
                },
            )
            .collect();
        let mut summary = RuleSummary {
            id: rule.id.to_string(),
            doc: rule.doc.clone(),
            severity: default_severity(&rule.severity),
            enforcement: rule.enforcement,
            maps: rule.maps.clone(),
            loc: rule.name_loc.clone(),
            checked: 0,
            failed: 0,
            waived: 0,
            errors: 0,
        };
        let mut verdicts = Vec::with_capacity(tallies.iter().map(|t| t.hits.len()).sum());
        let mut scope = ScopeCounts::new();
        for t in tallies {
            for (s, n) in t.scope {
                *scope.entry(s).or_default() += n;
            }
            summary.checked += t.checked;
            summary.failed += t.failed;
            summary.waived += t.waived;
            summary.errors += t.errors;
            verdicts.extend(t.hits);
        }
        // All of one kind, so the rank orders them by id. Inventories often
        // list entities in id order already: then there is nothing to sort.
        if !verdicts.is_sorted_by_key(|v| v.rank) {
            verdicts.par_sort_unstable_by_key(|v| v.rank);
        }
        per_rule.push((per, verdicts));
        rules.push(summary);
        if scoped {
            scopes.push(scope);
        }
    }
    Scan { engine, shared: Shared::new(program, graph), per: per_rule, rules, scopes }
}

impl<'a> Scan<'a> {
    /// Findings (open, waived and errors).
    pub fn len(&self) -> usize {
        self.per.iter().map(|(_, v)| v.len()).sum()
    }

    /// True when every rule held for every entity.
    pub fn is_empty(&self) -> bool {
        self.per.iter().all(|(_, v)| v.is_empty())
    }

    /// Every rule evaluated, in declaration order, with its counts.
    pub fn rules(&self) -> &[RuleSummary] {
        &self.rules
    }

    /// Entities checked per rule and business service; empty unless the scan
    /// was [`scan_scoped`]. Rules and services are in a fixed order (rules as
    /// [`Scan::rules`], services by id, the entities with no service last).
    pub fn scopes(&self) -> Scopes {
        let g = self.engine.graph;
        let rules = (self.rules.iter().zip(&self.scopes))
            .map(|(r, counts)| {
                let mut checked: Vec<ServiceCount> = counts
                    .iter()
                    .map(|(s, n)| ServiceCount {
                        service: node(*s).map(|s| g.id(s).to_owned()),
                        checked: *n,
                    })
                    .collect();
                checked.sort_by(|a, b| match (&a.service, &b.service) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (x, y) => x.is_none().cmp(&y.is_none()),
                });
                RuleScope { rule: r.id.clone(), checked }
            })
            .collect();
        Scopes { rules }
    }

    /// The worst enforcement level among open findings (violations and errors).
    pub fn worst_open_enforcement(&self) -> Option<Enforcement> {
        (self.per.iter())
            .filter(|(_, v)| v.iter().any(Verdict::is_open))
            .map(|(p, _)| p.rule.enforcement)
            .max()
    }

    /// Builds every finding (message, help, evidence, witness, provenance), in
    /// parallel and in the scan's order.
    pub fn into_audit(self) -> Audit {
        let Scan { engine, shared, per, rules, scopes: _ } = self;
        let program = engine.program;
        let mut findings = Vec::with_capacity(per.iter().map(|(_, v)| v.len()).sum());
        for (p, verdicts) in &per {
            // An indexed iterator: written in place, in order.
            findings.par_extend(verdicts.par_iter().with_min_len(256).map_init(
                || Frame::new(p.rule.frame, NodeId(0)),
                |f, v| materialise(&engine, &shared, p, v, f),
            ));
        }
        let now = engine.now;
        let expired_exceptions = program
            .exceptions
            .iter()
            .filter(|e| exception_expired(e.until, now))
            .map(|e| ExpiredException {
                exception: e.id.to_string(),
                rule: program.rules.get(e.rule).map(|r| r.id.to_string()).unwrap_or_default(),
                until: e.until,
                loc: e.loc.clone(),
            })
            .collect();
        Audit {
            now,
            rules,
            findings,
            expired_exceptions,
            inventory_files: engine.graph.files().to_vec(),
        }
    }
}

/// Entities per unit of parallel work.
const CHUNK: usize = 2048;

/// What the scan keeps of a chunk of entities.
#[derive(Default)]
struct Tally {
    checked: usize,
    failed: usize,
    waived: usize,
    errors: usize,
    hits: Vec<Verdict>,
    /// Entities checked per service (only in a scoped scan).
    scope: ScopeCounts,
}

impl Tally {
    fn add(&mut self, o: Checked) {
        match o {
            Checked::Pass => {}
            Checked::Failed(v) => {
                match (v.kind, v.is_open()) {
                    (FindingKind::Error, _) => self.errors += 1,
                    (_, true) => self.failed += 1,
                    (_, false) => self.waived += 1,
                }
                self.hits.push(v);
            }
        }
        self.checked += 1;
    }
}

/// The highest level a severity can give (the rule's headline severity).
pub fn default_severity(s: &ir::Severity) -> SeverityLevel {
    match s {
        ir::Severity::Fixed(l) => *l,
        ir::Severity::By { arms, default, .. } => {
            arms.iter().map(|(_, l)| *l).max().unwrap_or(*default)
        }
    }
}

/// An entity in the rule's scope, checked.
enum Checked {
    Pass,
    Failed(Verdict),
}

/// Where evaluating a rule for an entity stopped. The frame holds the state
/// at that point.
enum End<'a> {
    OutOfScope,
    Pass,
    Failed(&'a ir::Expr),
    Errored(EvalError),
}

/// The audit reads attributes from the graph's columns: it scans every
/// entity of a kind in row order, which is the order the columns keep, so
/// there is nothing to gain from copying them into records first.
static COLUMNS: Records = Records::EMPTY;

/// Evaluates the rule's filter and body for one entity, up to the first
/// failing `require` or error, running the rule's compiled plan: the
/// conditions decisions run too ([`plan`]).
fn run<'a>(
    engine: &Interpreter<'a>,
    per: &'a PerRule<'a>,
    n: NodeId,
    f: &mut Frame<'a>,
) -> End<'a> {
    let rule = per.rule;
    let cx = Cx { engine, records: &COLUMNS };
    f.reset(n);
    f.set(rule.var, Value::Node(n));
    if let Some(filter) = &per.filter {
        match filter.holds(cx, f) {
            Ok(true) => {}
            Ok(false) => return End::OutOfScope,
            Err(e) => return End::Errored(e),
        }
    }
    for (step, compiled) in rule.body.iter().zip(per.plan.iter()) {
        if let Err(e) = run_step(cx, step, compiled.as_ref(), f) {
            return e;
        }
    }
    End::Pass
}

/// One step of a rule's body: a `let` binds its slot, a `require` that does
/// not hold ends the evaluation.
#[inline]
fn run_step<'a>(
    cx: Cx<'_, 'a>,
    step: &'a BodyStep,
    compiled: Option<&'a Cond>,
    f: &mut Frame<'a>,
) -> Result<(), End<'a>> {
    match (step, compiled) {
        (BodyStep::Let { slot, .. }, Some(c)) => {
            let v = Value::Bool(c.holds(cx, f).map_err(End::Errored)?);
            f.set(*slot, v);
        }
        (BodyStep::Let { slot, value, .. }, None) => {
            let v = cx.engine.eval(value, f).map_err(End::Errored)?;
            f.set(*slot, v);
        }
        (BodyStep::Require { cond, .. }, Some(c)) => {
            if !c.holds(cx, f).map_err(End::Errored)? {
                return Err(End::Failed(cond));
            }
        }
        (BodyStep::Require { cond, .. }, None) => {
            if !cx.engine.test(cond, f).map_err(End::Errored)? {
                return Err(End::Failed(cond));
            }
        }
    }
    Ok(())
}

/// Evaluates one rule for one entity; `None` when the entity is out of the
/// rule's scope.
fn check_entity<'a>(
    engine: &Interpreter<'a>,
    per: &'a PerRule<'a>,
    n: NodeId,
    w: &mut Worker<'a>,
) -> Option<Checked> {
    let (kind, waivable) = match run(engine, per, n, &mut w.frame) {
        End::OutOfScope => return None,
        End::Pass => return Some(Checked::Pass),
        End::Errored(_) => (FindingKind::Error, false),
        End::Failed(cond) => {
            // Exceptions may read any `let`, also one written after the
            // failing `require`: evaluate the rest before waivers.
            finish_lets(engine, per, cond, &mut w.frame);
            (FindingKind::Violation, true)
        }
    };
    Some(Checked::Failed(failed(engine, per, n, kind, waivable, w)))
}

// Out of line: a failure is rare next to a check.
#[inline(never)]
fn failed<'a>(
    engine: &Interpreter<'a>,
    per: &PerRule<'a>,
    n: NodeId,
    kind: FindingKind,
    waivable: bool,
    w: &mut Worker<'a>,
) -> Verdict {
    let service = engine.frame_service(&mut w.frame);
    let priority = match &mut w.by_service {
        Some(memo) => *memo
            .entry(service.map_or(NONE, |s| s.0))
            .or_insert_with(|| priority_for(engine, n, service, &mut w.priority)),
        None => priority_for(engine, n, service, &mut w.priority),
    };
    let severity = severity_for(engine, per.rule, &mut w.frame);
    let waiver = if waivable { waiver(engine, per, &mut w.frame) } else { None };
    Verdict {
        node: n,
        rank: engine.graph.id_rank(n),
        service: service.map_or(NONE, |s| s.0),
        waiver: waiver.and_then(|i| u32::try_from(i).ok()).unwrap_or(NONE),
        kind,
        severity,
        priority: priority.unwrap_or(u8::MAX),
    }
}

/// The finding of a verdict: the rule is evaluated again for its entity (the
/// graph, `now` and the program are the same, so it fails the same way) to
/// recover the frame its message, evidence and witness read.
fn materialise<'a>(
    engine: &Interpreter<'a>,
    shared: &Shared,
    per: &'a PerRule<'a>,
    v: &Verdict,
    f: &mut Frame<'a>,
) -> Finding {
    let end = run(engine, per, v.node, f);
    f.set_service(node(v.service));
    match (v.kind, end) {
        (FindingKind::Violation, End::Failed(cond)) => {
            finish_lets(engine, per, cond, f);
            violation(engine, shared, per, v, cond, f)
        }
        (FindingKind::Error, End::Errored(e)) => error_finding(engine, shared, per, v, &e),
        _ => unstable(engine, shared, per, v),
    }
}

fn node(id: u32) -> Option<NodeId> {
    (id != NONE).then_some(NodeId(id))
}

/// What an audit's findings share, built once per audit.
struct Shared {
    /// Inventory file names, by provenance index.
    files: Vec<Arc<str>>,
    /// The waiver of each exception of the program, by index.
    waivers: Vec<Waiver>,
}

impl Shared {
    fn new(program: &Program, graph: &Graph) -> Self {
        Shared {
            files: graph.files().iter().map(|f| Arc::from(f.as_str())).collect(),
            waivers: program
                .exceptions
                .iter()
                .map(|e| Waiver {
                    exception: e.id.clone(),
                    until: e.until,
                    approved_by: Arc::from(e.approved_by.as_slice()),
                    reason: e.reason.as_deref().map(Arc::from),
                })
                .collect(),
        }
    }
}

/// What a rule's findings share, built once per rule.
struct PerRule<'a> {
    rule: &'a ir::Rule,
    id: Arc<str>,
    /// The name of the rule's kind (every entity it checks is of that kind).
    kind: Arc<str>,
    maps: Arc<[String]>,
    /// The help text when it has no holes.
    help: Option<Arc<str>>,
    /// Indexes of the rule's exceptions, in declaration order.
    exceptions: Vec<usize>,
    /// For each `require`: its condition and the reads its evidence shows
    /// (distinct texts, at most [`MAX_EVIDENCE`]).
    reads: Vec<(&'a ir::Expr, Reads<'a>)>,
    /// The filter, compiled for the graph.
    filter: Option<Cond>,
    /// Per step of the body: a `require`'s condition, or a `let` whose
    /// value is a truth ([`plan::is_truth`]), compiled for the graph;
    /// `None` for any other `let` (the interpreter evaluates its value).
    plan: Box<[Option<Cond>]>,
}

/// The reads a condition's evidence shows, with their source text.
type Reads<'a> = Vec<(&'a ir::Expr, Arc<str>)>;

/// Evidence values listed per finding, at most.
const MAX_EVIDENCE: usize = 8;

impl<'a> PerRule<'a> {
    /// `compiled` false leaves every condition to the interpreter (the
    /// differential test's other side).
    fn new(
        program: &Program,
        index: usize,
        rule: &'a ir::Rule,
        graph: &Graph,
        compiled: bool,
    ) -> Self {
        let lower =
            |e: &ir::Expr| if compiled { plan::compile(e, graph) } else { Cond::Interp(e.clone()) };
        let help = rule.help.as_ref().and_then(|t| match t.parts.as_slice() {
            [] => Some(Arc::from("")),
            [ir::TemplatePart::Text(x)] => Some(x.clone()),
            _ => None,
        });
        let reads = rule
            .body
            .iter()
            .filter_map(|step| match step {
                BodyStep::Require { cond, .. } => Some((cond, evidence_reads(cond))),
                BodyStep::Let { .. } => None,
            })
            .collect();
        PerRule {
            rule,
            id: rule.id.clone(),
            kind: Arc::from(graph.schema().kind_name(rule.kind)),
            maps: Arc::from(rule.maps.as_slice()),
            help,
            exceptions: (program.exceptions.iter().enumerate())
                .filter(|(_, e)| e.rule == index)
                .map(|(i, _)| i)
                .collect(),
            reads,
            filter: rule.filter.as_ref().map(lower),
            plan: (rule.body.iter())
                .map(|step| match step {
                    BodyStep::Require { cond, .. } => Some(lower(cond)),
                    BodyStep::Let { value, .. } if compiled && plan::is_truth(value) => {
                        Some(lower(value))
                    }
                    BodyStep::Let { .. } => None,
                })
                .collect(),
        }
    }
}
/// Evaluates the `let`s after `failed` (errors leave the slot missing).
fn finish_lets<'a>(
    engine: &Interpreter<'a>,
    per: &'a PerRule<'a>,
    failed: &'a ir::Expr,
    f: &mut Frame<'a>,
) {
    let cx = Cx { engine, records: &COLUMNS };
    let mut after = false;
    for (step, compiled) in per.rule.body.iter().zip(per.plan.iter()) {
        match step {
            BodyStep::Require { cond, .. } => after |= std::ptr::eq(cond, failed),
            BodyStep::Let { slot, .. } if after => {
                if run_step(cx, step, compiled.as_ref(), f).is_err() {
                    f.set(*slot, Value::Missing);
                }
            }
            BodyStep::Let { .. } => {}
        }
    }
}

/// A worker's reusable state: the rule's frame, the `priority by` frame and,
/// when the priority depends on the service only, the priority per service.
struct Worker<'a> {
    frame: Frame<'a>,
    priority: Frame<'a>,
    /// `Some` when `priority by` reads nothing but `service` (and constants),
    /// keyed by the service's node id (`u32::MAX`: none).
    by_service: Option<ServiceMemo>,
}

impl Worker<'_> {
    fn new(size: usize, program: &Program) -> Self {
        let priority = program.priority.as_ref().map_or(0, |p| p.frame);
        let by_service = program
            .priority
            .as_ref()
            .is_some_and(|p| p.by.service_only(true))
            .then(ServiceMemo::default);
        Worker {
            frame: Frame::new(size, NodeId(0)),
            priority: Frame::new(priority, NodeId(0)),
            by_service,
        }
    }
}

/// Priorities by service node id.
type ServiceMemo = HashMap<u32, Option<u8>, BuildHasherDefault<IdHasher>>;

/// A hasher for node ids (a multiply, not SipHash: the memo is per worker
/// and keyed by the graph's own ids).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

fn severity_for<'a>(
    engine: &Interpreter<'a>,
    rule: &'a ir::Rule,
    f: &mut Frame<'a>,
) -> SeverityLevel {
    match &rule.severity {
        ir::Severity::Fixed(l) => *l,
        ir::Severity::By { scrutinee, arms, default } => {
            let v = engine.eval(scrutinee, f).unwrap_or(Value::Missing);
            arms.iter().find(|(p, _)| matches_pattern(p, &v)).map_or(*default, |(_, l)| *l)
        }
    }
}

/// The index of the `priority by` arm for entity `n`, evaluated in `f`
/// (reset here).
fn priority_for<'a>(
    engine: &Interpreter<'a>,
    n: NodeId,
    service: Option<NodeId>,
    f: &mut Frame<'a>,
) -> Option<u8> {
    let p = engine.program.priority.as_ref()?;
    f.reset(n);
    f.set_service(service);
    let v = engine.eval(&p.by, f).ok()?;
    let arm = p.arms.iter().position(|(pat, _, _)| matches_pattern(pat, &v))?;
    u8::try_from(arm).ok().filter(|a| *a != u8::MAX)
}

/// The priority of `priority by`'s arm `arm`.
fn priority_of(engine: &Interpreter<'_>, arm: u8) -> Option<PriorityAssignment> {
    let p = engine.program.priority.as_ref()?;
    let (_, level, within) = p.arms.get(usize::from(arm))?;
    Some(PriorityAssignment {
        level: *level,
        within: *within,
        due: Timestamp(engine.now.0.saturating_add(within.0)),
    })
}

fn origin(shared: &Shared, graph: &Graph, n: NodeId) -> Option<Origin> {
    let p = graph.provenance(n)?;
    let file = shared.files.get(p.file as usize)?.clone();
    Some(Origin { file, line: (p.line > 0).then_some(p.line), record: p.record })
}

/// The parts of a finding its verdict and its rule decide.
fn base_finding<'a>(
    engine: &Interpreter<'a>,
    shared: &Shared,
    per: &PerRule<'a>,
    v: &Verdict,
    condition_loc: Loc,
) -> Finding {
    let graph = engine.graph;
    let rule = per.rule;
    Finding {
        kind: v.kind,
        rule: per.id.clone(),
        rule_loc: rule.name_loc.clone(),
        condition_loc,
        entity: graph.id(v.node).to_owned(),
        entity_kind: per.kind.clone(),
        severity: v.severity,
        enforcement: rule.enforcement,
        priority: priority_of(engine, v.priority),
        service: node(v.service).map(|s| graph.id(s).to_owned()),
        message: String::new(),
        help: None,
        evidence: Vec::new(),
        witness: Vec::new(),
        origin: origin(shared, graph, v.node),
        maps: per.maps.clone(),
        waived_by: shared.waivers.get(v.waiver as usize).cloned(),
    }
}

// Out of line: a finding is rare next to a check.
#[inline(never)]
fn error_finding<'a>(
    engine: &Interpreter<'a>,
    shared: &Shared,
    per: &PerRule<'a>,
    v: &Verdict,
    e: &EvalError,
) -> Finding {
    let mut finding = base_finding(engine, shared, per, v, e.loc.clone());
    finding.message = format!("could not evaluate `{}`: {}", e.loc.text(), e.message);
    finding
}

/// A verdict whose rule, evaluated again, did not end the same way: only a
/// plugin that keeps state between calls can do that. The finding keeps the
/// scan's verdict and says why it has no evidence.
#[cold]
fn unstable<'a>(
    engine: &Interpreter<'a>,
    shared: &Shared,
    per: &PerRule<'a>,
    v: &Verdict,
) -> Finding {
    let mut finding = base_finding(engine, shared, per, v, per.rule.name_loc.clone());
    finding.message = format!(
        "rule `{}` {} for `{}` in the audit but not when evaluated again for the report; \\
         a plugin it calls keeps state between calls",
        per.id,
        match v.kind {
            FindingKind::Violation => "failed",
            FindingKind::Error => "could not be evaluated",
        },
        finding.entity
    );
    finding
}

// Out of line: a finding is rare next to a check.
#[inline(never)]
fn violation<'a>(
    engine: &Interpreter<'a>,
    shared: &Shared,
    per: &PerRule<'a>,
    v: &Verdict,
    cond: &'a ir::Expr,
    f: &mut Frame<'a>,
) -> Finding {
    let rule = per.rule;
    let mut finding = base_finding(engine, shared, per, v, cond.loc.clone());
    finding.message = match &rule.message {
        Some(t) => engine.template(t, f),
        None => {
            // `{kind} `{entity}` fails `{condition}``, without `format!`.
            let text = cond.loc.text();
            let mut m = String::with_capacity(
                finding.entity_kind.len() + finding.entity.len() + text.len() + 12,
            );
            m.push_str(&finding.entity_kind);
            m.push_str(" `");
            m.push_str(&finding.entity);
            m.push_str("` fails `");
            m.push_str(text);
            m.push('`');
            m
        }
    };
    finding.help = match (&per.help, &rule.help) {
        (Some(h), _) => Some(h.clone()),
        (None, Some(t)) => Some(Arc::from(engine.template(t, f))),
        (None, None) => None,
    };
    finding.evidence = match per.reads.iter().find(|(c, _)| std::ptr::eq(*c, cond)) {
        Some((_, reads)) => evidence_of(engine, reads, f),
        None => evidence(engine, cond, f),
    };
    finding.witness = witness(engine, cond, f);
    finding
}

/// The first unexpired exception of the rule whose `when` holds (its index).
fn waiver<'a>(engine: &Interpreter<'a>, per: &PerRule<'a>, f: &mut Frame<'a>) -> Option<usize> {
    per.exceptions.iter().copied().find(|i| {
        engine.program.exceptions.get(*i).is_some_and(|e| {
            !exception_expired(e.until, engine.now)
                && match &e.when {
                    None => true,
                    Some(w) => engine.eval(w, f).is_ok_and(|v| v.truthy()),
                }
        })
    })
}

/// The attribute values (and `now`) a condition reads, outside quantifiers.
pub fn evidence<'a>(
    engine: &Interpreter<'a>,
    cond: &'a ir::Expr,
    f: &mut Frame<'a>,
) -> Vec<Evidence> {
    evidence_of(engine, &evidence_reads(cond), f)
}

/// The reads [`evidence`] shows for a condition: distinct non-empty texts, in
/// order, at most [`MAX_EVIDENCE`]. The same for every entity, so the audit
/// computes them once per rule.
fn evidence_reads(cond: &ir::Expr) -> Reads<'_> {
    let mut reads: Vec<&ir::Expr> = Vec::new();
    collect_reads(cond, &mut reads);
    let mut out: Reads<'_> = Vec::new();
    for r in reads {
        let text = r.loc.text();
        if text.is_empty() || out.iter().any(|(_, t)| **t == *text) {
            continue;
        }
        out.push((r, Arc::from(text)));
        if out.len() >= MAX_EVIDENCE {
            break;
        }
    }
    out
}

/// Evaluates the reads of [`evidence_reads`] for the frame's entity.
fn evidence_of<'a>(
    engine: &Interpreter<'a>,
    reads: &[(&'a ir::Expr, Arc<str>)],
    f: &mut Frame<'a>,
) -> Vec<Evidence> {
    let mut out = Vec::with_capacity(reads.len());
    for (r, text) in reads {
        let value = match engine.eval(r, f) {
            Ok(Value::Missing) => "missing".to_owned(),
            Ok(v) => engine.show(&v),
            Err(e) => {
                let mut s = String::with_capacity(7 + e.message.len());
                s.push_str("error: ");
                s.push_str(&e.message);
                s
            }
        };
        out.push(Evidence { expr: text.clone(), value });
    }
    out
}

fn collect_reads<'a>(e: &'a ir::Expr, out: &mut Vec<&'a ir::Expr>) {
    use ir::ExprKind as K;
    match &e.kind {
        K::Attr { node, .. } if matches!(node.kind, K::Local(_) | K::Service) => out.push(e),
        K::Now => out.push(e),
        // A quantifier's reads are per match, not of the entity.
        K::Aggregate { .. } => {}
        _ => e.for_each_child(&mut |c| collect_reads(c, out)),
    }
}

/// For a failed condition over a path: the nodes of the match that decided it
/// (the counterexample of an `all`, the match a `not exists` found).
fn witness<'a>(engine: &Interpreter<'a>, cond: &'a ir::Expr, f: &mut Frame<'a>) -> Vec<String> {
    use ir::ExprKind as K;
    let (agg_expr, want_true) = match &cond.kind {
        K::Not(inner) => (inner.as_ref(), true),
        _ => (cond, false),
    };
    let K::Aggregate { agg, .. } = &agg_expr.kind else { return Vec::new() };
    // `exists` failed: nothing was found, no witness. `not exists` failed: the
    // inner exists found one. `all` failed: the counterexample.
    let relevant = matches!((agg, want_true), (ir::Agg::Exists, true) | (ir::Agg::All, false));
    if !relevant {
        return Vec::new();
    }
    f.trail.clear();
    if engine.eval(agg_expr, f).is_err() {
        return Vec::new();
    }
    f.trail.iter().map(|n| engine.graph.id(*n).to_owned()).collect()
}

/// How long ago `t` was, for messages.
pub fn age(now: Timestamp, t: Timestamp) -> Duration {
    Duration(now.0 - t.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules whose filters, `let`s and `require`s take every specialised
    /// form of the plan next to variants it must not take (operands
    /// swapped, a text no attribute has, a truth `let` read later, a
    /// failing `require` before `let`s an exception reads).
    const FORMS: &str = r#"
package forms

rule a { for x: identity where x.type == "bot" require x.active != false }
rule b { for x: identity where "human" != x.type require x has email and x.email != "p-1@example.com" }
rule c { for x: identity require x.type != "no attribute has this text" }
rule d { for x: identity where x has left_at require x.left_at >= now }
rule e { for x: identity where x has created_at require now - x.created_at <= 400d }
rule f { for x: identity where x has created_at require 30d >= now - x.created_at or x.created_at > 2025-06-01 }
rule g { for s: service require not (s has tier) or s.tier >= 1 }
rule h { for s: service where s has tier and 2 > s.tier require exists s <-[supports]- i: identity where i.active == false }
rule i {
  for x: identity
  let held = exists x -[has_credential]-> c: credential where c has rotated_at and now - c.rotated_at > 180d
  require not held
  let kind = x.type
  require all x -[has_credential]-> c where c.active == true
}
rule j { for x: identity require exists x -[member_of|grants*1..2]-> _ -[can_access]-> _ }
rule k { for x: identity require not exists x -[member_of]-> g -[grants]-> (r: role where r.privileged == true) }
rule l { for x: identity require exists x <-[owned_by]- (o where o.active == true) or x.type == "human" }
rule m { for c: credential require not (c has scopes) or c.ephemeral == true }

exception i-bots {
  rule i
  when kind == "bot"
  until 2099-01-01
  approved_by "sec@example.com"
}
"#;

    #[test]
    fn audits_run_the_plan_as_the_interpreter_does() {
        let now = crate::test_support::now();
        let graph = crate::test_support::generated_graph(1500, 11);
        let program = crate::test_support::compiled(
            &[
                ("nhi25.gov", include_str!("../../benches/policies/nhi25.gov")),
                ("forms.gov", FORMS),
            ],
            &graph,
        );
        let options = AuditOptions { now: Some(now), ..AuditOptions::default() };
        let run = |compiled| {
            let audit = scan_with(&program, &graph, &options, true, compiled);
            let scopes = format!("{:?}", audit.scopes());
            (serde_json::to_value(audit.into_audit()).unwrap_or_else(|e| panic!("{e}")), scopes)
        };
        let (planned, interpreted) = (run(true), run(false));
        assert_eq!(planned.1, interpreted.1);
        let (a, b) = (&planned.0["findings"], &interpreted.0["findings"]);
        let (a, b) = (
            a.as_array().map_or(&[][..], Vec::as_slice),
            b.as_array().map_or(&[][..], Vec::as_slice),
        );
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x, y);
        }
        assert_eq!(planned.0, interpreted.0);
        // The rules exercise the forms: many fail, some pass, some waived.
        let rules = planned.0["rules"].as_array().map_or(&[][..], Vec::as_slice);
        let count = |key: &str| rules.iter().filter(|r| r[key].as_u64() > Some(0)).count();
        assert!(count("failed") >= 20, "{rules:?}");
        assert!(count("waived") >= 1, "{rules:?}");
        assert!(rules.iter().any(|r| r["failed"].as_u64() < r["checked"].as_u64()));
    }
}
