//! Policy unit tests: the `test` blocks of `.gov` files, run against their
//! graphs, with rule coverage.
//!
//! Owns: building a test's graph (fixture files and inline literals), checking
//! expectations against an audit, coverage of `where` and `require` clauses.
//! Reads fixture files (relative to the test's file); everything else is the
//! library's pipeline: compile, load, audit, explain.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::check::{self, Options};
use crate::diag::{Code, Diag, Diagnostics, did_you_mean};
use crate::eval::explain::{self, Trace};
use crate::eval::{Audit, AuditOptions, FindingKind, audit};
use crate::ingest::{LoadOptions, load_sources, read_source};
use crate::ir::Program;
use crate::source::{Loc, SourceFile};
use crate::syntax::Parsed;
use crate::syntax::ast::{self, Expectation, ExprKind, GraphItem, Item, TestClauseKind};
use crate::time::Timestamp;

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    /// Only tests whose name contains this.
    pub filter: Option<String>,
    /// Collect clause coverage.
    pub coverage: bool,
}

/// The outcome of one test.
#[derive(Clone, Debug, Serialize)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// `file:line`.
    pub location: String,
    /// True when every expectation held.
    pub passed: bool,
    /// One line per failed expectation: expected vs actual.
    pub failures: Vec<String>,
    /// The `explain` trace of the first mismatch, when there is an entity to explain.
    pub explain: Option<String>,
    /// Expectations checked.
    pub expectations: usize,
}

/// Coverage of one clause: seen true, seen false.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClauseCoverage {
    /// `where` or `require`.
    pub clause: String,
    /// One-based source line.
    pub line: usize,
    /// Evaluated to true in some test.
    pub seen_true: bool,
    /// Evaluated to false in some test.
    pub seen_false: bool,
}

/// Coverage of one rule.
#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage {
    /// Rule id.
    pub rule: String,
    /// Its clauses.
    pub clauses: Vec<ClauseCoverage>,
}

impl RuleCoverage {
    /// Outcomes seen out of outcomes possible (two per clause).
    pub fn counts(&self) -> (usize, usize) {
        let seen =
            self.clauses.iter().map(|c| usize::from(c.seen_true) + usize::from(c.seen_false)).sum();
        (seen, self.clauses.len() * 2)
    }
}

/// Everything `gov test` reports.
#[derive(Clone, Debug, Serialize)]
pub struct TestReport {
    /// Results in file and declaration order.
    pub results: Vec<TestResult>,
    /// Coverage per rule, when asked for.
    pub coverage: Option<Vec<RuleCoverage>>,
}

impl TestReport {
    /// Number of failed tests.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// Overall clause coverage in percent (100 when there is nothing to cover).
    pub fn coverage_percent(&self) -> Option<f64> {
        let cov = self.coverage.as_ref()?;
        let (seen, total) =
            cov.iter().map(RuleCoverage::counts).fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
        Some(if total == 0 { 100.0 } else { seen as f64 * 100.0 / total as f64 })
    }
}

/// Runs the tests of a policy set. Errors are policy or fixture problems
/// that stop the run (a test that fails is a result, not an error).
pub fn run(files: &[Parsed], options: &TestOptions) -> Result<TestReport, Diagnostics> {
    let mut results = Vec::new();
    let mut diags = Diagnostics::new();
    let mut coverage: BTreeMap<usize, RuleCoverage> = BTreeMap::new();
    let mut rule_order: Vec<String> = Vec::new();
    let mut program_for_coverage: Option<Program> = None;
    for parsed in files {
        for item in &parsed.module.items {
            let Item::Test(test) = item else { continue };
            if options.filter.as_ref().is_some_and(|f| !test.name.value.contains(f.as_str())) {
                continue;
            }
            match run_one(files, parsed, test, options.coverage) {
                Ok((result, program, clause_obs)) => {
                    results.push(result);
                    if options.coverage {
                        for (rule, obs) in clause_obs {
                            let entry = coverage.entry(rule).or_insert_with(|| RuleCoverage {
                                rule: String::new(),
                                clauses: Vec::new(),
                            });
                            merge(entry, obs);
                        }
                        if program_for_coverage.is_none() {
                            rule_order = program.rules.iter().map(|r| r.id.to_string()).collect();
                            program_for_coverage = Some(program);
                        }
                    }
                }
                Err(d) => diags.extend(d),
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let coverage = options.coverage.then(|| {
        // Every rule of the policy set appears, tested or not.
        let program = match program_for_coverage {
            Some(p) => Some(p),
            None => check::compile(
                files,
                &crate::graph::Schema::builtin(),
                &Options { now: Timestamp::now() },
            )
            .ok()
            .map(|c| c.program),
        };
        let Some(program) = program else { return Vec::new() };
        if rule_order.is_empty() {
            rule_order = program.rules.iter().map(|r| r.id.to_string()).collect();
        }
        program
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut cov = coverage
                    .remove(&i)
                    .unwrap_or(RuleCoverage { rule: String::new(), clauses: Vec::new() });
                cov.rule = r.id.to_string();
                if cov.clauses.is_empty() {
                    cov.clauses = rule_clauses(r);
                }
                cov
            })
            .collect()
    });
    Ok(TestReport { results, coverage })
}

fn rule_clauses(r: &crate::ir::Rule) -> Vec<ClauseCoverage> {
    let line = |l: &Loc| l.file.line_col(l.span.start).0;
    let mut v = Vec::new();
    if let Some(f) = &r.filter {
        v.push(ClauseCoverage { clause: "where".into(), line: line(&f.loc), ..Default::default() });
    }
    for s in &r.body {
        if let crate::ir::BodyStep::Require { cond, .. } = s {
            v.push(ClauseCoverage {
                clause: "require".into(),
                line: line(&cond.loc),
                ..Default::default()
            });
        }
    }
    v
}

fn merge(into: &mut RuleCoverage, obs: Vec<ClauseCoverage>) {
    if into.clauses.is_empty() {
        into.clauses = obs;
        return;
    }
    for (a, b) in into.clauses.iter_mut().zip(obs) {
        a.seen_true |= b.seen_true;
        a.seen_false |= b.seen_false;
    }
}

type RunOne = (TestResult, Program, Vec<(usize, Vec<ClauseCoverage>)>);

fn run_one(
    files: &[Parsed],
    parsed: &Parsed,
    test: &ast::Test,
    coverage: bool,
) -> Result<RunOne, Diagnostics> {
    let file = &parsed.file;
    let (line, _) = file.line_col(test.loc.span.start);
    let location = format!("{}:{line}", file.name());
    let mut sources: Vec<Arc<SourceFile>> = Vec::new();
    let mut now = None;
    let mut diags = Diagnostics::new();
    for c in &test.clauses {
        match &c.kind {
            TestClauseKind::GivenFile { path } => {
                let base = Path::new(file.name()).parent().unwrap_or(Path::new("."));
                match read_source(&base.join(&path.value)) {
                    Ok(src) => sources.push(src),
                    Err(e) => diags.push(
                        Diag::error(
                            Code::Io,
                            format!(
                                "test `{}`: cannot read fixture `{}`",
                                test.name.value, path.value
                            ),
                        )
                        .in_file(file)
                        .label(path.loc.span, "fixture")
                        .help(format!("{}; paths are relative to the policy file", e.0.message)),
                    ),
                }
            }
            TestClauseKind::GivenInline { graph } => {
                match inline_inventory(file, &test.name.value, graph, sources.len()) {
                    Ok(src) => sources.push(src),
                    Err(d) => diags.extend(d),
                }
            }
            TestClauseKind::Now { at } => now = Some(*at),
            TestClauseKind::Expect(_) => {}
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let now = now.unwrap_or_else(Timestamp::now);
    let graph = load_sources(sources, &LoadOptions::default())?.graph;
    let program = check::compile(files, graph.schema(), &Options { now })?.program;
    let result = audit(&program, &graph, &AuditOptions { now: Some(now), ..Default::default() });
    let mut failures = Vec::new();
    let mut explain_target: Option<(usize, String)> = None;
    let mut expectations = 0;
    for c in &test.clauses {
        let TestClauseKind::Expect(e) = &c.kind else { continue };
        expectations += 1;
        match check_expectation(&program, &graph, &result, e, now) {
            Ok(()) => {}
            Err(Mismatch::Fail { message, explain }) => {
                failures.push(message);
                if explain_target.is_none() {
                    explain_target = explain;
                }
            }
            Err(Mismatch::Invalid(d)) => diags.push(d.in_file(file)),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let explain = explain_target.and_then(|(rule, entity)| {
        let node = graph.lookup(&entity)?;
        explain::explain(&program, &graph, rule, node, now).map(|t| explain::render(&t))
    });
    let mut clause_obs = Vec::new();
    if coverage {
        for (i, rule) in program.rules.iter().enumerate() {
            let mut obs = rule_clauses(rule);
            for n in graph.nodes_of_kind(rule.kind) {
                if let Some(t) = explain::explain(&program, &graph, i, *n, now) {
                    observe(&mut obs, &t);
                }
            }
            clause_obs.push((i, obs));
        }
    }
    let passed = failures.is_empty();
    Ok((
        TestResult {
            name: test.name.value.clone(),
            location,
            passed,
            failures,
            explain,
            expectations,
        },
        program,
        clause_obs,
    ))
}

/// Records which way each clause of a trace went.
fn observe(obs: &mut [ClauseCoverage], t: &Trace) {
    let mut clauses = obs.iter_mut();
    for step in &t.steps {
        if step.clause != "where" && step.clause != "require" {
            continue;
        }
        let Some(c) = clauses.next() else { break };
        match step.holds {
            Some(true) => c.seen_true = true,
            Some(false) => c.seen_false = true,
            None => {}
        }
    }
}

enum Mismatch {
    Fail { message: String, explain: Option<(usize, String)> },
    Invalid(Diag),
}

fn rule_of(program: &Program, name: &ast::Name) -> Result<usize, Mismatch> {
    let local = name.name.rsplit('.').next().unwrap_or(&name.name);
    program.rule_index(local).ok_or_else(|| {
        let names: Vec<&str> = program.rules.iter().map(|r| &*r.id).collect();
        let mut d =
            Diag::error(Code::UnknownRule, format!("test expects unknown rule `{}`", name.name))
                .label(name.loc.span, "no such rule");
        if let Some(s) = did_you_mean(local, names.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        Mismatch::Invalid(d)
    })
}

fn check_expectation(
    program: &Program,
    graph: &crate::graph::Graph,
    a: &Audit,
    e: &Expectation,
    now: Timestamp,
) -> Result<(), Mismatch> {
    fn findings_in<'x>(a: &'x Audit, rule: &str) -> std::vec::IntoIter<&'x crate::eval::Finding> {
        a.findings.iter().filter(|f| &*f.rule == rule).collect::<Vec<_>>().into_iter()
    }
    let findings_of = |rule: &str| findings_in(a, rule);
    let describe = |rule: &str| {
        let all: Vec<String> = findings_of(rule)
            .map(|f| match (&f.waived_by, f.kind) {
                (_, FindingKind::Error) => format!("{} (error: {})", f.entity, f.message),
                (Some(w), _) => format!("{} (waived by {})", f.entity, w.exception),
                (None, _) => f.entity.clone(),
            })
            .collect();
        if all.is_empty() {
            "no findings".to_owned()
        } else {
            format!("findings on {}", all.join(", "))
        }
    };
    let entity_known = |id: &ast::StrLit| -> Result<(), Mismatch> {
        if graph.lookup(&id.value).is_some() {
            Ok(())
        } else {
            Err(Mismatch::Invalid(
                Diag::error(
                    Code::UnknownRule,
                    format!("no entity `{}` in the test's graph", id.value),
                )
                .label(id.loc.span, "unknown entity")
                .help("add it to `given { ... }` or the fixture"),
            ))
        }
    };
    match e {
        Expectation::Fails { rule, entity } => {
            let i = rule_of(program, rule)?;
            entity_known(entity)?;
            let id = &*program.rules.get(i).map(|r| r.id.clone()).unwrap_or_default();
            match findings_of(id).find(|f| f.entity == entity.value) {
                Some(f) if f.is_open() && f.kind == FindingKind::Violation => Ok(()),
                Some(f) if f.kind == FindingKind::Error => fail(
                    format!(
                        "expected {id} to fail on \"{}\", but it could not be evaluated: {}",
                        entity.value, f.message
                    ),
                    i,
                    &entity.value,
                ),
                Some(f) => fail(
                    format!(
                        "expected {id} to fail on \"{}\", but the finding is waived by {}",
                        entity.value,
                        f.waived_by.as_ref().map_or("", |w| &*w.exception)
                    ),
                    i,
                    &entity.value,
                ),
                None => fail(
                    format!(
                        "expected {id} to fail on \"{}\", but it passes ({})",
                        entity.value,
                        describe(id)
                    ),
                    i,
                    &entity.value,
                ),
            }
        }
        Expectation::Passes { rule, entity } => {
            let i = rule_of(program, rule)?;
            entity_known(entity)?;
            let id = &*program.rules.get(i).map(|r| r.id.clone()).unwrap_or_default();
            match findings_of(id).find(|f| f.entity == entity.value) {
                None => Ok(()),
                Some(f) => fail(
                    format!(
                        "expected {id} to pass on \"{}\", but it fails: {}",
                        entity.value, f.message
                    ),
                    i,
                    &entity.value,
                ),
            }
        }
        Expectation::Finds { rule, count } => {
            let i = rule_of(program, rule)?;
            let id = &*program.rules.get(i).map(|r| r.id.clone()).unwrap_or_default();
            let open = findings_of(id).filter(|f| f.is_open()).count() as u64;
            if open == *count {
                Ok(())
            } else {
                Err(Mismatch::Fail {
                    message: format!(
                        "expected {id} to find {count}, found {open} ({})",
                        describe(id)
                    ),
                    explain: None,
                })
            }
        }
        Expectation::Priority { rule, level, entity } => {
            let i = rule_of(program, rule)?;
            entity_known(entity)?;
            let id = &*program.rules.get(i).map(|r| r.id.clone()).unwrap_or_default();
            match findings_of(id).find(|f| f.entity == entity.value) {
                Some(f) if f.priority.map(|p| p.level) == Some(*level) => Ok(()),
                Some(f) => fail(
                    format!(
                        "expected {id} on \"{}\" to have priority P{level}, it has {}",
                        entity.value,
                        f.priority.map_or("none".to_owned(), |p| format!("P{}", p.level))
                    ),
                    i,
                    &entity.value,
                ),
                None => fail(
                    format!(
                        "expected {id} to fail on \"{}\" with priority P{level}, but it passes",
                        entity.value
                    ),
                    i,
                    &entity.value,
                ),
            }
        }
        Expectation::Waived { rule, entity } => {
            let i = rule_of(program, rule)?;
            entity_known(entity)?;
            let id = &*program.rules.get(i).map(|r| r.id.clone()).unwrap_or_default();
            match findings_of(id).find(|f| f.entity == entity.value) {
                Some(f) if f.waived_by.is_some() => Ok(()),
                Some(_) => fail(
                    format!(
                        "expected {id} on \"{}\" to be waived, but no exception applies",
                        entity.value
                    ),
                    i,
                    &entity.value,
                ),
                None => fail(
                    format!(
                        "expected {id} on \"{}\" to be waived, but the rule passes",
                        entity.value
                    ),
                    i,
                    &entity.value,
                ),
            }
        }
        Expectation::Decision { decision, inputs, effect } => {
            decision_expectation(program, graph, decision, inputs, *effect, now)
        }
    }
}

/// `expect decision NAME with { ... } is EFFECT`: decides the request with
/// the decision API. `deny` means explicitly denied (a deny clause, or a
/// clause that failed at run time); `not_permitted` means no allow matched.
fn decision_expectation(
    program: &Program,
    graph: &crate::graph::Graph,
    decision: &ast::Name,
    inputs: &[ast::FieldInit],
    want: ast::Effect,
    now: Timestamp,
) -> Result<(), Mismatch> {
    let mut input = BTreeMap::new();
    for f in inputs {
        match literal(&f.value) {
            Some(v) => {
                input.insert(f.name.name.clone(), v);
            }
            None => {
                return Err(Mismatch::Invalid(
                    Diag::error(
                        Code::InvalidDecisionInput,
                        format!("`{}` is not a literal value", f.value.loc.text()),
                    )
                    .label(f.value.loc.span, "not a literal")
                    .help("decision inputs are values: entity ids as strings, numbers, booleans, dates, durations and lists of them"),
                ));
            }
        }
    }
    // `pkg.call-service` names the decision `call-service` (as rules are named).
    let local = decision.name.rsplit('.').next().unwrap_or(&decision.name).to_owned();
    let request = crate::decide::Request { decision: local, input, now: Some(now) };
    let got = match crate::decide::decide_borrowed(program, graph, &request) {
        Ok(d) => d,
        Err(crate::decide::DecideError::UnknownDecision { suggestion, .. }) => {
            let mut d = Diag::error(
                Code::UnknownDecision,
                format!("test expects unknown decision `{}`", decision.name),
            )
            .label(decision.loc.span, "no such decision");
            if let Some(s) = suggestion {
                d = d.help(format!("did you mean `{s}`?"));
            }
            return Err(Mismatch::Invalid(d));
        }
        Err(e @ crate::decide::DecideError::UnknownEntity { .. }) => {
            // A test graph without the entity is a failed expectation, not a broken test:
            // the request would get the same answer from a gateway.
            return Err(Mismatch::Fail {
                message: format!(
                    "expected decision {} to be {}, but the request cannot be decided: {e}",
                    decision.name,
                    want.as_str()
                ),
                explain: None,
            });
        }
        Err(e) => {
            return Err(Mismatch::Invalid(
                Diag::error(Code::InvalidDecisionInput, format!("decision `{}`: {e}", decision.name))
                    .label(decision.loc.span, "this expectation")
                    .help("give every declared input (optional ones may be left out), with values of the declared types"),
            ));
        }
    };
    let matches = matches!(
        (want, got.effect),
        (ast::Effect::Allow, crate::decide::Effect::Allow)
            | (ast::Effect::Deny, crate::decide::Effect::Deny)
            | (ast::Effect::Approval, crate::decide::Effect::ApprovalRequired)
            | (ast::Effect::NotPermitted, crate::decide::Effect::NotPermitted)
    );
    if matches {
        return Ok(());
    }
    let why = got.reasons.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; ");
    Err(Mismatch::Fail {
        message: format!(
            "expected decision {} to be {}, but it is {}{}",
            decision.name,
            want.as_str(),
            got.effect.as_str(),
            if why.is_empty() { String::new() } else { format!(" ({why})") }
        ),
        explain: None,
    })
}

fn fail(message: String, rule: usize, entity: &str) -> Result<(), Mismatch> {
    Err(Mismatch::Fail { message, explain: Some((rule, entity.to_owned())) })
}

/// An inline `given { ... }` as a native inventory.
fn inline_inventory(
    file: &Arc<SourceFile>,
    test: &str,
    graph: &[GraphItem],
    n: usize,
) -> Result<Arc<SourceFile>, Diagnostics> {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut diags = Diagnostics::new();
    for g in graph {
        match g {
            GraphItem::Node { kind, id, attrs, .. } => {
                let mut obj = serde_json::Map::new();
                for a in attrs {
                    match literal(&a.value) {
                        Some(v) => {
                            obj.insert(a.name.name.clone(), v);
                        }
                        None => diags.push(
                            Diag::error(Code::TypeMismatch, format!("`{}` is not a literal value", a.value.loc.text()))
                                .in_file(file)
                                .label(a.value.loc.span, "not a literal")
                                .help("test graphs hold values: strings, numbers, booleans, dates, durations and lists of them"),
                        ),
                    }
                }
                nodes.push(serde_json::json!({"id": id.value, "kind": kind.name, "attrs": obj}));
            }
            GraphItem::Edge { from, kind, to, .. } => {
                edges.push(
                    serde_json::json!({"from": from.value, "to": to.value, "kind": kind.name}),
                );
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let doc = serde_json::json!({"format": "gov.inventory/v1", "nodes": nodes, "edges": edges});
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    Ok(SourceFile::new(format!("{} (test \"{test}\", given #{})", file.name(), n + 1), text))
}

fn literal(e: &ast::Expr) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match &e.kind {
        ExprKind::Null => J::Null,
        ExprKind::Bool(b) => J::Bool(*b),
        ExprKind::Int(i) => J::from(*i),
        ExprKind::Float(f) => J::from(*f),
        ExprKind::Str(s) => J::String(s.clone()),
        ExprKind::Time(t) => J::String(t.to_string()),
        ExprKind::Duration(d) => J::String(d.to_string()),
        ExprKind::Unary(ast::UnaryOp::Neg, x) => match &x.kind {
            ExprKind::Int(i) => J::from(-i),
            ExprKind::Float(f) => J::from(-f),
            _ => return None,
        },
        ExprKind::List(xs) => J::Array(xs.iter().map(literal).collect::<Option<Vec<_>>>()?),
        _ => return None,
    })
}
