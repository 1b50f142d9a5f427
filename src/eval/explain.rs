//! `explain`: why a rule did or did not fire for one entity. Evaluates each
//! clause on its own and records its value, the attributes it read and, for
//! path conditions, the matches it tried.

use std::fmt::Write as _;

use super::audit::{evidence, exception_expired};
use super::engine::{Flow, Frame, Interpreter};
use super::finding::Evidence;
use crate::graph::{Graph, NodeId};
use crate::ir::value::Value;
use crate::ir::{self, BodyStep, Program};
use crate::source::Loc;
use crate::time::Timestamp;

/// One clause and what it evaluated to.
#[derive(Clone, Debug)]
pub struct TraceStep {
    /// `where`, `let name`, `require`, `exception NAME`.
    pub clause: String,
    /// The clause's source.
    pub loc: Loc,
    /// Its value, printed.
    pub value: String,
    /// For conditions: whether it held.
    pub holds: Option<bool>,
    /// Attribute values read.
    pub evidence: Vec<Evidence>,
    /// For path conditions: matches tried, with the condition's value for each.
    pub paths: Vec<String>,
}

/// The whole explanation.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Rule id.
    pub rule: String,
    /// Where the rule is.
    pub rule_loc: Loc,
    /// Entity id and kind.
    pub entity: (String, String),
    /// Where the entity's record is, as `file:line`.
    pub origin: Option<String>,
    /// Steps in order.
    pub steps: Vec<TraceStep>,
    /// Index in `steps` of the first condition that failed.
    pub first_failure: Option<usize>,
    /// One sentence: in scope or not, fails or passes, waived or not.
    pub verdict: String,
}

const MAX_PATHS: usize = 20;

/// Explains rule `rule` (an index into the program) for entity `n`.
pub fn explain(
    program: &Program,
    graph: &Graph,
    rule: usize,
    n: NodeId,
    now: Timestamp,
) -> Option<Trace> {
    let r = program.rules.get(rule)?;
    let engine = Interpreter::new(program, graph, now);
    let mut f = Frame::new(r.frame, n);
    f.set(r.var, Value::Node(n));
    let kind_name = graph.schema().kind_name(graph.kind(n)).to_owned();
    let origin = graph.provenance(n).and_then(|p| {
        let file = graph.files().get(p.file as usize)?;
        Some(if p.line > 0 {
            format!("{file}:{}", p.line)
        } else {
            format!("{file} (record {})", p.record)
        })
    });
    let mut trace = Trace {
        rule: r.id.to_string(),
        rule_loc: r.name_loc.clone(),
        entity: (graph.id(n).to_owned(), kind_name.clone()),
        origin,
        steps: Vec::new(),
        first_failure: None,
        verdict: String::new(),
    };
    if graph.kind(n) != r.kind {
        trace.verdict = format!(
            "not in scope: the rule checks `{}` entities and `{}` is `{kind_name}`",
            graph.schema().kind_name(r.kind),
            graph.id(n)
        );
        return Some(trace);
    }
    if let Some(filter) = &r.filter {
        let step = condition_step(&engine, "where", filter, &mut f);
        let holds = step.holds == Some(true);
        trace.steps.push(step);
        if !holds {
            trace.verdict =
                "not in scope: the `where` filter is false, so the rule does not check this entity"
                    .into();
            return Some(trace);
        }
    }
    for s in &r.body {
        match s {
            BodyStep::Let { slot, name, value } => {
                let (shown, v) = match engine.eval(value, &mut f) {
                    Ok(v) => (engine.show(&v), v),
                    Err(e) => (format!("error: {}", e.message), Value::Missing),
                };
                f.set(*slot, v);
                trace.steps.push(TraceStep {
                    clause: format!("let {name}"),
                    loc: value.loc.clone(),
                    value: shown,
                    holds: None,
                    evidence: evidence(&engine, value, &mut f),
                    paths: Vec::new(),
                });
            }
            BodyStep::Require { cond, .. } => {
                let step = condition_step(&engine, "require", cond, &mut f);
                if step.holds != Some(true) && trace.first_failure.is_none() {
                    trace.first_failure = Some(trace.steps.len());
                }
                trace.steps.push(step);
            }
        }
    }
    let fails = trace.first_failure.is_some();
    let mut waived = None;
    for e in program.exceptions.iter().filter(|e| e.rule == rule) {
        let expired = exception_expired(e.until, now);
        let applies = match &e.when {
            None => true,
            Some(w) => engine.eval(w, &mut f).is_ok_and(|v| v.truthy()),
        };
        let value = match (applies, expired) {
            (true, false) => format!("applies (until {})", e.until),
            (true, true) => format!("would apply, but expired on {}", e.until),
            (false, _) => "does not apply".to_owned(),
        };
        if applies && !expired && waived.is_none() {
            waived = Some(e.id.to_string());
        }
        let ev = e.when.as_ref().map(|w| evidence(&engine, w, &mut f)).unwrap_or_default();
        trace.steps.push(TraceStep {
            clause: format!("exception {}", e.id),
            loc: e.when.as_ref().map_or_else(|| e.loc.clone(), |w| w.loc.clone()),
            value,
            holds: (applies && !expired).then_some(true),
            evidence: ev,
            paths: Vec::new(),
        });
    }
    trace.verdict = match (fails, waived) {
        (false, _) => "passes: every `require` holds".to_owned(),
        (true, Some(x)) => format!("fails, waived by exception `{x}`"),
        (true, None) => "fails: the first failing `require` is marked".to_owned(),
    };
    Some(trace)
}

fn condition_step<'a>(
    engine: &Interpreter<'a>,
    clause: &str,
    cond: &'a ir::Expr,
    f: &mut Frame<'a>,
) -> TraceStep {
    let (value, holds) = match engine.eval(cond, f) {
        Ok(v) => (engine.show(&v), Some(v.truthy())),
        Err(e) => (format!("error: {}", e.message), None),
    };
    TraceStep {
        clause: clause.to_owned(),
        loc: cond.loc.clone(),
        value,
        holds,
        evidence: evidence(engine, cond, f),
        paths: paths_tried(engine, cond, f),
    }
}

/// Matches of the first path quantifier in `cond`, each with its condition's value.
fn paths_tried<'a>(engine: &Interpreter<'a>, cond: &'a ir::Expr, f: &mut Frame<'a>) -> Vec<String> {
    let Some((path, inner)) = first_path(cond) else { return Vec::new() };
    let mut out = Vec::new();
    let mut visit = |eng: &Interpreter<'a>, f: &mut Frame<'a>| -> Flow {
        let ids: Vec<&str> = f.trail.iter().map(|n| eng.graph.id(*n)).collect();
        let mut line = ids.join(" → ");
        if let Some(c) = inner {
            let v =
                eng.eval(c, f).map_or_else(|e| format!("error: {}", e.message), |v| eng.show(&v));
            let ev = evidence(eng, c, f)
                .into_iter()
                .map(|e| format!("{} = {}", e.expr, e.value))
                .collect::<Vec<_>>();
            let _ = write!(line, "  where … = {v}");
            if !ev.is_empty() {
                let _ = write!(line, " ({})", ev.join(", "));
            }
        }
        out.push(line);
        if out.len() >= MAX_PATHS { Flow::Stop } else { Flow::Continue }
    };
    if engine.walk(path, f, &mut visit).is_err() {
        return Vec::new();
    }
    if out.is_empty() {
        out.push("no path matches".to_owned());
    }
    out
}

fn first_path(e: &ir::Expr) -> Option<(&ir::Path, Option<&ir::Expr>)> {
    use ir::ExprKind as K;
    match &e.kind {
        K::Aggregate { source, cond, .. } => match source.as_ref() {
            ir::Source::Path(p) => Some((p, cond.as_deref())),
            ir::Source::List { .. } => None,
        },
        K::Not(x) | K::Neg(x) => first_path(x),
        K::And(a, b) | K::Or(a, b) | K::Binary(_, a, b) => first_path(a).or_else(|| first_path(b)),
        _ => None,
    }
}

/// The trace as text.
pub fn render(t: &Trace) -> String {
    let mut out = String::new();
    let (line, col) = t.rule_loc.file.line_col(t.rule_loc.span.start);
    let _ = writeln!(out, "rule {} ({}:{line}:{col})", t.rule, t.rule_loc.file.name());
    let _ = write!(out, "entity {} ({})", t.entity.0, t.entity.1);
    if let Some(o) = &t.origin {
        let _ = write!(out, " from {o}");
    }
    out.push_str("\n\n");
    for (i, s) in t.steps.iter().enumerate() {
        let (line, _) = s.loc.file.line_col(s.loc.span.start);
        let mark = match s.holds {
            Some(true) => "ok  ",
            Some(false) => "FAIL",
            None => "    ",
        };
        let first = if t.first_failure == Some(i) { "   <- first failing condition" } else { "" };
        let _ = writeln!(
            out,
            "{mark} {} {}  [line {line}]",
            s.clause,
            s.loc.text().split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let _ = writeln!(out, "       = {}{first}", s.value);
        for e in &s.evidence {
            let _ = writeln!(out, "       {} = {}", e.expr, e.value);
        }
        if !s.paths.is_empty() {
            let _ = writeln!(out, "       paths tried:");
            for p in &s.paths {
                let _ = writeln!(out, "         {p}");
            }
        }
    }
    let _ = writeln!(out, "\n{}", t.verdict);
    out
}
