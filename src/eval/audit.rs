//! The audit: every rule over every entity in its scope, in parallel, with
//! deterministic output.

use rayon::prelude::*;

use super::engine::{Engine, EvalError, Frame, matches_pattern};
use super::finding::*;
use crate::graph::{Graph, NodeId};
use crate::ir::value::Value;
use crate::ir::{self, BodyStep, Program};
use crate::source::Loc;
use crate::syntax::ast::SeverityLevel;
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
}

/// An exception is in force through the whole of its `until` day.
pub fn exception_expired(until: Timestamp, now: Timestamp) -> bool {
    until.0 + 86_400 <= now.0
}

/// Runs every rule of `program` over `graph`.
///
/// Entities are scanned in load order, the order of their attribute rows,
/// in chunks; a chunk keeps its failures with their node, and only those are
/// ordered by entity id at the end (an integer sort on the graph's id rank).
pub fn audit(program: &Program, graph: &Graph, options: &AuditOptions) -> Audit {
    let now = options.now.unwrap_or_else(Timestamp::now);
    let engine = Engine::new(program, graph, now);
    let only_entity = options.entity.as_deref().map(|id| graph.lookup(id));
    let mut rules = Vec::new();
    let mut per_rule: Vec<Vec<(NodeId, Box<Finding>)>> = Vec::new();
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
        // One frame per worker, reset per entity: no allocation per passing
        // check. Chunks keep their order in the collected vector.
        let tallies: Vec<Tally> = entities
            .par_chunks(CHUNK)
            .map_init(
                || Frame::new(rule.frame, NodeId(0)),
                |f, chunk| {
                    let mut t = Tally::default();
                    for n in chunk {
                        t.add(check_entity(&engine, index, *n, f), *n);
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
        let mut failing = Vec::with_capacity(tallies.iter().map(|t| t.hits.len()).sum());
        for t in tallies {
            summary.checked += t.checked;
            summary.failed += t.failed;
            summary.waived += t.waived;
            summary.errors += t.errors;
            failing.extend(t.hits);
        }
        // All of one kind, so the rank orders them by id.
        failing.par_sort_unstable_by_key(|(n, _)| graph.id_rank(*n));
        per_rule.push(failing);
        rules.push(summary);
    }
    // Findings stay boxed until the total is known: moving multi-hundred-byte
    // records while sorting or growing a vector copied gigabytes.
    let mut findings = Vec::with_capacity(per_rule.iter().map(Vec::len).sum());
    findings.extend(per_rule.into_iter().flatten().map(|(_, f)| *f));
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
    Audit { now, rules, findings, expired_exceptions, inventory_files: graph.files().to_vec() }
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
    hits: Vec<(NodeId, Box<Finding>)>,
}

impl Tally {
    fn add(&mut self, o: Outcome, n: NodeId) {
        match o {
            Outcome::OutOfScope => return,
            Outcome::Pass => {}
            Outcome::Finding(f) => {
                match (f.kind, f.is_open()) {
                    (FindingKind::Error, _) => self.errors += 1,
                    (_, true) => self.failed += 1,
                    (_, false) => self.waived += 1,
                }
                self.hits.push((n, f));
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

enum Outcome {
    OutOfScope,
    Pass,
    Finding(Box<Finding>),
}

/// Where evaluating a rule for an entity stopped. The frame holds the state
/// at that point.
enum End<'a> {
    OutOfScope,
    Pass,
    Failed(&'a ir::Expr),
    Errored(EvalError),
}

/// Evaluates the rule's filter and body for one entity, up to the first
/// failing `require` or error.
fn run<'a>(engine: &Engine<'a>, rule: &'a ir::Rule, n: NodeId, f: &mut Frame<'a>) -> End<'a> {
    f.reset(n);
    f.set(rule.var, Value::Node(n));
    if let Some(filter) = &rule.filter {
        match engine.test(filter, f) {
            Ok(true) => {}
            Ok(false) => return End::OutOfScope,
            Err(e) => return End::Errored(e),
        }
    }
    for step in &rule.body {
        match step {
            BodyStep::Let { slot, value, .. } => match engine.eval(value, f) {
                Ok(v) => f.set(*slot, v),
                Err(e) => return End::Errored(e),
            },
            BodyStep::Require { cond, .. } => match engine.test(cond, f) {
                Ok(true) => {}
                Ok(false) => return End::Failed(cond),
                Err(e) => return End::Errored(e),
            },
        }
    }
    End::Pass
}

/// Evaluates one rule for one entity and builds its finding.
fn check_entity<'a>(
    engine: &Engine<'a>,
    rule_index: usize,
    n: NodeId,
    f: &mut Frame<'a>,
) -> Outcome {
    let Some(rule) = engine.program.rules.get(rule_index) else { return Outcome::OutOfScope };
    match run(engine, rule, n, f) {
        End::OutOfScope => Outcome::OutOfScope,
        End::Pass => Outcome::Pass,
        End::Errored(e) => Outcome::Finding(Box::new(error_finding(engine, rule, n, &e, f))),
        End::Failed(cond) => {
            // Exceptions may read any `let`, also one written after the
            // failing `require`: evaluate the rest before waivers.
            finish_lets(engine, rule, cond, f);
            Outcome::Finding(Box::new(violation(engine, rule_index, rule, n, cond, f)))
        }
    }
}

/// Evaluates the `let`s after `failed` (errors leave the slot missing).
fn finish_lets<'a>(
    engine: &Engine<'a>,
    rule: &'a ir::Rule,
    failed: &'a ir::Expr,
    f: &mut Frame<'a>,
) {
    let mut after = false;
    for step in &rule.body {
        match step {
            BodyStep::Require { cond, .. } => after |= std::ptr::eq(cond, failed),
            BodyStep::Let { slot, value, .. } if after => {
                let v = engine.eval(value, f).unwrap_or(Value::Missing);
                f.set(*slot, v);
            }
            BodyStep::Let { .. } => {}
        }
    }
}

fn severity_for<'a>(engine: &Engine<'a>, rule: &'a ir::Rule, f: &mut Frame<'a>) -> SeverityLevel {
    match &rule.severity {
        ir::Severity::Fixed(l) => *l,
        ir::Severity::By { scrutinee, arms, default } => {
            let v = engine.eval(scrutinee, f).unwrap_or(Value::Missing);
            arms.iter().find(|(p, _)| matches_pattern(p, &v)).map_or(*default, |(_, l)| *l)
        }
    }
}

fn priority_for<'a>(
    engine: &Engine<'a>,
    n: NodeId,
    service: Option<NodeId>,
) -> Option<PriorityAssignment> {
    let p = engine.program.priority.as_ref()?;
    let mut f = Frame::new(p.frame, n);
    f.set_service(service);
    let v = engine.eval(&p.by, &mut f).ok()?;
    let (_, level, within) = p.arms.iter().find(|(pat, _, _)| matches_pattern(pat, &v))?;
    Some(PriorityAssignment {
        level: *level,
        within: *within,
        due: Timestamp(engine.now.0.saturating_add(within.0)),
    })
}

fn origin(graph: &Graph, n: NodeId) -> Option<Origin> {
    let p = graph.provenance(n)?;
    let file = graph.files().get(p.file as usize)?.clone();
    Some(Origin { file, line: (p.line > 0).then_some(p.line), record: p.record })
}

fn base_finding<'a>(
    engine: &Engine<'a>,
    rule: &ir::Rule,
    n: NodeId,
    kind: FindingKind,
    condition_loc: Loc,
    f: &mut Frame<'a>,
) -> Finding {
    let graph = engine.graph;
    let service = engine.frame_service(f);
    Finding {
        kind,
        rule: rule.id.to_string(),
        rule_loc: rule.name_loc.clone(),
        condition_loc,
        entity: graph.id(n).to_owned(),
        entity_kind: graph.schema().kind_name(graph.kind(n)).to_owned(),
        severity: default_severity(&rule.severity),
        enforcement: rule.enforcement,
        priority: priority_for(engine, n, service),
        service: service.map(|s| graph.id(s).to_owned()),
        message: String::new(),
        help: None,
        evidence: Vec::new(),
        witness: Vec::new(),
        origin: origin(graph, n),
        maps: rule.maps.clone(),
        waived_by: None,
    }
}

fn error_finding<'a>(
    engine: &Engine<'a>,
    rule: &'a ir::Rule,
    n: NodeId,
    e: &EvalError,
    f: &mut Frame<'a>,
) -> Finding {
    let mut finding = base_finding(engine, rule, n, FindingKind::Error, e.loc.clone(), f);
    finding.severity = severity_for(engine, rule, f);
    finding.message = format!("could not evaluate `{}`: {}", e.loc.text(), e.message);
    finding
}

fn violation<'a>(
    engine: &Engine<'a>,
    rule_index: usize,
    rule: &'a ir::Rule,
    n: NodeId,
    cond: &'a ir::Expr,
    f: &mut Frame<'a>,
) -> Finding {
    let mut finding = base_finding(engine, rule, n, FindingKind::Violation, cond.loc.clone(), f);
    finding.severity = severity_for(engine, rule, f);
    finding.message = match &rule.message {
        Some(t) => engine.template(t, f),
        None => format!("{} `{}` fails `{}`", finding.entity_kind, finding.entity, cond.loc.text()),
    };
    finding.help = rule.help.as_ref().map(|t| engine.template(t, f));
    finding.evidence = evidence(engine, cond, f);
    finding.witness = witness(engine, cond, f);
    finding.waived_by = waiver(engine, rule_index, f);
    finding
}

/// The first unexpired exception of the rule whose `when` holds.
fn waiver<'a>(engine: &Engine<'a>, rule_index: usize, f: &mut Frame<'a>) -> Option<Waiver> {
    let e = engine.program.exceptions.iter().filter(|e| e.rule == rule_index).find(|e| {
        !exception_expired(e.until, engine.now)
            && match &e.when {
                None => true,
                Some(w) => engine.eval(w, f).is_ok_and(|v| v.truthy()),
            }
    })?;
    Some(Waiver {
        exception: e.id.to_string(),
        until: e.until,
        approved_by: e.approved_by.clone(),
        reason: e.reason.clone(),
    })
}

/// The attribute values (and `now`) a condition reads, outside quantifiers.
pub fn evidence<'a>(engine: &Engine<'a>, cond: &'a ir::Expr, f: &mut Frame<'a>) -> Vec<Evidence> {
    let mut reads: Vec<&'a ir::Expr> = Vec::new();
    collect_reads(cond, &mut reads);
    let mut out: Vec<Evidence> = Vec::new();
    for r in reads {
        let text = r.loc.text().to_owned();
        if out.iter().any(|e| e.expr == text) || text.is_empty() {
            continue;
        }
        let value = match engine.eval(r, f) {
            Ok(Value::Missing) => "missing".to_owned(),
            Ok(v) => engine.show(&v),
            Err(e) => format!("error: {}", e.message),
        };
        out.push(Evidence { expr: text, value });
        if out.len() >= 8 {
            break;
        }
    }
    out
}

fn collect_reads<'a>(e: &'a ir::Expr, out: &mut Vec<&'a ir::Expr>) {
    use ir::ExprKind as K;
    match &e.kind {
        K::Attr { node, .. } => {
            if matches!(node.kind, K::Local(_) | K::Service) {
                out.push(e);
            } else {
                collect_reads(node, out);
            }
        }
        K::Now => out.push(e),
        K::Const(_) | K::Local(_) | K::Service | K::Aggregate { .. } => {}
        K::Has { node, .. } | K::Not(node) | K::Neg(node) => collect_reads(node, out),
        K::List(xs) | K::Call(_, xs) | K::PluginCall { args: xs, .. } => {
            xs.iter().for_each(|x| collect_reads(x, out))
        }
        K::And(a, b) | K::Or(a, b) | K::Binary(_, a, b) => {
            collect_reads(a, out);
            collect_reads(b, out);
        }
        K::If(c, a, b) => {
            collect_reads(c, out);
            collect_reads(a, out);
            collect_reads(b, out);
        }
        K::Match(x, arms) => {
            collect_reads(x, out);
            arms.iter().for_each(|(_, v)| collect_reads(v, out));
        }
        K::Block(binds, body) => {
            binds.iter().for_each(|(_, v)| collect_reads(v, out));
            collect_reads(body, out);
        }
    }
}

/// For a failed condition over a path: the nodes of the match that decided it
/// (the counterexample of an `all`, the match a `not exists` found).
fn witness<'a>(engine: &Engine<'a>, cond: &'a ir::Expr, f: &mut Frame<'a>) -> Vec<String> {
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
