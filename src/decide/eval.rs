//! Deciding one request: inputs into a frame, then the clauses by precedence.
//!
//! Deny clauses are evaluated first (every one, so that all reasons are
//! reported), then approval clauses (every one, for the union of approvers),
//! then allow clauses up to the first that holds. A let is evaluated once,
//! the first time a clause that reads it is (lets it reads first, in source
//! order). A clause that fails at
//! run time (division by zero, overflow) fails closed: the effect is `deny`
//! with a reason of clause `error`.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use serde_json::Value as Json;

use super::{DecideError, Decision, Effect, Inner, Reason, Request};
use crate::domain::Direction;
use crate::eval::engine::{
    EvalError, Frame, Interpreter as Interp, Known, PathBuffers, matches_pattern,
};
use crate::eval::plan::{self, Cond, Cx};
use crate::graph::records::Records;
use crate::graph::{Graph, NodeId};
use crate::ir::value::Value;
use crate::ir::{self, ClauseEffect, DecisionStep};
use crate::time::{Duration, Timestamp};
use crate::types::Ty;

/// Where a clause is, computed once per engine (not per request).
#[derive(Debug)]
pub(crate) struct ClauseSite {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    /// The lets (step indices, in source order) this step needs, directly
    /// or through other lets: a clause evaluates only those, so a request
    /// denied early never pays for a let that only later clauses read.
    pub needs: Box<[usize]>,
    /// A clause's condition compiled for the engine's graph ([`cond`]), or
    /// a let's value when it is a truth ([`plan::is_truth`]); `None` when
    /// the interpreter evaluates the IR.
    pub when: Option<Cond>,
    /// A clause's reason template compiled for the engine's graph.
    pub reason: Option<Box<[plan::Piece]>>,
}

pub(super) fn site_of(loc: &crate::source::Loc, needs: Vec<usize>) -> ClauseSite {
    let (line, column) = loc.file.line_col(loc.span.start);
    ClauseSite {
        file: Arc::from(loc.file.name()),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        needs: needs.into_boxed_slice(),
        when: None,
        reason: None,
    }
}

thread_local! {
    /// Path buffers reused across requests on one thread, so that path
    /// walks do not allocate. (The frame's slots are allocated per request:
    /// a `Vec<Value<'a>>` cannot be kept past the request's lifetime
    /// without a loop over it and a collect, which cost more, by callgrind,
    /// than an allocation.)
    static BUFFERS: Cell<PathBuffers> = const { Cell::new(PathBuffers::new()) };
}

thread_local! {
    /// Plugin instances reused across requests on one thread. An instance is
    /// tied to its module: after a hot swap the new program's plugins are
    /// different modules, and the host starts new instances for them.
    static PLUGINS: Cell<crate::plugin::Instances> = Cell::new(crate::plugin::Instances::default());
}

/// Takes the thread's path buffers (empty, with their capacity).
fn take_buffers() -> PathBuffers {
    BUFFERS.with(Cell::take)
}

/// Gives the buffers back.
fn give_buffers(buffers: PathBuffers) {
    BUFFERS.with(|c| c.set(buffers));
}

pub(super) fn decide(inner: &Inner, request: &Request) -> Result<Decision, DecideError> {
    let Some(index) = inner.by_name.get(request.decision.as_str()).copied() else {
        return Err(unknown_decision(&inner.program, &request.decision));
    };
    let prepared = Prepared {
        rows: &inner.rows,
        sites: inner.sites.get(index).map_or(&[][..], Vec::as_slice),
        warm: inner.warm.get(index).map_or(&[][..], Vec::as_slice),
        priorities: inner.priorities.as_ref(),
    };
    decide_in(&inner.program, &inner.graph, inner.known, index, prepared, request)
}

/// The error for a decision name the program does not declare.
pub(crate) fn unknown_decision(program: &ir::Program, name: &str) -> DecideError {
    let suggestion = crate::diag::did_you_mean(name, program.decisions.iter().map(|d| &*d.name))
        .map(str::to_owned);
    DecideError::UnknownDecision { name: name.to_owned(), suggestion }
}

/// Where each step of a decision is, and the lets it needs; with a graph,
/// each clause's condition compiled for it.
pub(super) fn sites_of(d: &ir::Decision, graph: Option<&Graph>) -> Vec<ClauseSite> {
    // The let that last bound each slot before a step (a later let of the
    // same slot shadows an earlier one).
    let mut bound: Vec<(ir::Slot, usize)> = Vec::new();
    let mut needs_of: Vec<Vec<usize>> = Vec::with_capacity(d.steps.len());
    let mut sites = Vec::with_capacity(d.steps.len());
    for (i, step) in d.steps.iter().enumerate() {
        let mut read = Vec::new();
        let loc = match step {
            DecisionStep::Clause(c) => {
                c.when.slots_read(&mut read);
                if let Some(a) = &c.approvers {
                    a.slots_read(&mut read);
                }
                if let Some(t) = &c.reason {
                    t.slots_read(&mut read);
                }
                &c.loc
            }
            DecisionStep::Let { value, .. } => {
                value.slots_read(&mut read);
                &value.loc
            }
        };
        let mut needs: Vec<usize> = Vec::new();
        for s in read {
            if let Some(&(_, j)) = bound.iter().rev().find(|(b, _)| *b == s) {
                needs.extend(needs_of.get(j).into_iter().flatten().copied());
                needs.push(j);
            }
        }
        needs.sort_unstable();
        needs.dedup();
        if let DecisionStep::Let { slot, .. } = step {
            bound.push((*slot, i));
        }
        let mut site = site_of(loc, needs.clone());
        match (step, graph) {
            (DecisionStep::Clause(c), Some(g)) => {
                site.when = Some(plan::compile(&c.when, g));
                site.reason = c.reason.as_ref().map(|t| plan::template(t, g));
            }
            // A let whose value is a truth (a quantifier or logic) is that
            // condition's outcome as a bool, so it compiles the same way.
            (DecisionStep::Let { value, .. }, Some(g)) if plan::is_truth(value) => {
                site.when = Some(plan::compile(value, g));
            }
            _ => {}
        }
        sites.push(site);
        needs_of.push(needs);
    }
    sites
}

/// What a decision reads of one entity input: attributes and edges. Loaded
/// together before the clauses run ([`Graph::touch`]), so that their cache
/// misses overlap instead of coming one clause at a time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Warm {
    slot: ir::Slot,
    attrs: Vec<(crate::graph::KindId, crate::graph::AttrId)>,
    out: bool,
    inc: bool,
}

/// How many out-neighbours of each entity input get their records
/// prefetched.
const NEIGHBOURS: usize = 16;

/// The reads of each entity input of `d`, from every clause and let.
pub(super) fn warm_of(d: &ir::Decision) -> Vec<Warm> {
    fn visit(e: &ir::Expr, warm: &mut [Warm]) {
        use ir::ExprKind as K;
        let input = |node: &ir::Expr| match node.kind {
            K::Local(s) => Some(s),
            _ => None,
        };
        match &e.kind {
            K::Attr { node, slots, .. } | K::Has { node, slots, .. } => {
                if let Some(w) = input(node).and_then(|s| warm.iter_mut().find(|w| w.slot == s)) {
                    for p in slots {
                        if !w.attrs.contains(p) {
                            w.attrs.push(*p);
                        }
                    }
                }
            }
            K::Aggregate { source, .. } => {
                if let ir::Source::Path(p) = &**source
                    && let Some(first) = p.steps.first()
                    && let Some(w) =
                        input(&p.start).and_then(|s| warm.iter_mut().find(|w| w.slot == s))
                {
                    w.out |= first.direction != Direction::In;
                    w.inc |= first.direction != Direction::Out;
                }
            }
            _ => {}
        }
        e.for_each_child(&mut |c| visit(c, warm));
    }
    let mut warm: Vec<Warm> = (d.inputs.iter())
        .filter(|i| matches!(i.ty.ty(), Ty::Node(_)))
        .map(|i| Warm { slot: i.slot, ..Warm::default() })
        .collect();
    for step in &d.steps {
        match step {
            DecisionStep::Clause(c) => {
                visit(&c.when, &mut warm);
                if let Some(a) = &c.approvers {
                    visit(a, &mut warm);
                }
            }
            DecisionStep::Let { value, .. } => visit(value, &mut warm),
        }
    }
    warm.retain(|w| !w.attrs.is_empty() || w.out || w.inc);
    warm
}

/// What an engine computes once for a decision, not per request.
pub(crate) struct Prepared<'p> {
    /// From [`sites_of`].
    pub sites: &'p [ClauseSite],
    /// From [`warm_of`].
    pub warm: &'p [Warm],
    /// From [`priorities_of`], when `priority by` depends on the service only.
    pub priorities: Option<&'p Priorities>,
    /// From [`rows_of`]: the attributes the compiled conditions read.
    pub rows: &'p Records,
}

/// Leaves out of `warm` the attributes `rows` holds: loading the record
/// loads them.
pub(super) fn trim_warm(warm: &mut [Warm], rows: &Records) {
    for w in warm {
        w.attrs.retain(|(k, a)| !rows.copied(*k, *a));
    }
}

/// The row-major records of what the compiled conditions and reason
/// templates of every decision read (see [`crate::graph::records`]).
pub(super) fn rows_of(graph: &Graph, sites: &[Vec<ClauseSite>]) -> Records {
    let mut fields = Vec::new();
    for site in sites.iter().flatten() {
        if let Some(c) = &site.when {
            c.fields(&mut fields);
        }
        if let Some(t) = &site.reason {
            plan::template_fields(t, &mut fields);
        }
    }
    Records::build(graph, &fields)
}

/// The `priority by` level of each service (absent: no arm matched).
pub(crate) type Priorities = hashbrown::HashMap<u32, u8>;

/// The level of every service, when `priority by` reads nothing but the
/// service, its attributes and constants: then it is the same for every
/// request, and a decision looks it up instead of evaluating it.
pub(super) fn priorities_of(
    program: &ir::Program,
    graph: &Graph,
    known: Known,
) -> Option<Priorities> {
    let p = program.priority.as_ref()?;
    if !p.by.service_only(false) {
        return None;
    }
    let kind = graph.schema().service_model().kind?;
    let engine = Interp::with_known(program, graph, Timestamp(0), known);
    let mut frame = Frame::new(p.frame, NodeId(0));
    let mut out = Priorities::new();
    for &s in graph.nodes_of_kind(kind) {
        if let Some(level) = priority_level(&engine, p, s, &mut frame) {
            out.insert(s.0, level);
        }
    }
    Some(out)
}

/// The `priority by` level for `service`, evaluated in `f` (reset here).
fn priority_level<'a>(
    engine: &Interp<'a>,
    p: &'a ir::PriorityRule,
    service: NodeId,
    f: &mut Frame<'a>,
) -> Option<u8> {
    f.reset(service);
    f.set_service(Some(service));
    let v = engine.eval(&p.by, f).ok()?;
    p.arms.iter().find(|(pat, _, _)| matches_pattern(pat, &v)).map(|(_, level, _)| *level)
}

/// Decides a request for the decision at `index`.
pub(crate) fn decide_in<'a>(
    program: &'a ir::Program,
    graph: &'a Graph,
    known: Known,
    index: usize,
    Prepared { sites, warm, priorities, rows }: Prepared<'a>,
    request: &Request,
) -> Result<Decision, DecideError> {
    let Some(d) = program.decisions.get(index) else {
        return Err(unknown_decision(program, &request.decision));
    };
    // `resize_with`, not `vec![Value::Missing; n]`: the latter clones the
    // value into every slot, a match per slot (callgrind: 270 instructions
    // a request against under 100).
    let mut slots = Vec::with_capacity(d.frame.max(1));
    slots.resize_with(d.frame.max(1), || Value::Missing);
    let buffers = take_buffers();
    // One pass over the request's keys matches each to its input (a short
    // scan of a few names beats a search of the map per input); errors
    // then come in the same order as before: inputs in declaration order,
    // then the first key that is no input.
    let mut given: smallvec::SmallVec<[Option<&Json>; 8]> =
        smallvec::smallvec![None; d.inputs.len()];
    let mut unknown = None;
    for (key, value) in &request.input {
        match d.inputs.iter().position(|i| *i.name == **key) {
            Some(p) => {
                if let Some(g) = given.get_mut(p) {
                    *g = Some(value);
                }
            }
            None => {
                unknown = unknown.or(Some(key));
            }
        }
    }
    for (input, found) in d.inputs.iter().zip(given) {
        let v = match found {
            None | Some(Json::Null) if input.optional => Value::Missing,
            None | Some(Json::Null) => {
                give_buffers(buffers);
                return Err(DecideError::MissingInput { input: input.name.to_string() });
            }
            Some(j) => match decode(graph, rows, input.ty.ty(), j) {
                Ok(v) => v,
                Err(e) => {
                    give_buffers(buffers);
                    return Err(e.into_error(input, &program.schema));
                }
            },
        };
        if let Some(s) = slots.get_mut(usize::from(input.slot)) {
            *s = v;
        }
    }
    if let Some(name) = unknown {
        give_buffers(buffers);
        return Err(DecideError::UnknownInput { input: name.clone() });
    }
    // The inputs' records, columns and adjacency first, so that their cache
    // misses overlap; then, once the adjacency is in, the records of the
    // nodes one step away (an owner, credentials), as prefetches: a load
    // would hold up the clauses until it arrives, a prefetch does not.
    // Loading those records with plain loads was 0.3 µs slower at p50;
    // prefetching them is about 7% faster than not.
    let mut touched = 0;
    for w in warm {
        if let Some(Value::Node(n)) = slots.get(usize::from(w.slot)) {
            rows.prefetch(*n);
            touched ^= graph.touch(*n, &w.attrs, w.out, w.inc);
        }
    }
    std::hint::black_box(touched);
    for w in warm.iter().filter(|w| w.out) {
        if let Some(Value::Node(n)) = slots.get(usize::from(w.slot)) {
            for m in graph.out_nodes(*n).iter().take(NEIGHBOURS) {
                rows.prefetch(*m);
            }
        }
    }
    let service = d.service.and_then(|s| match slots.get(usize::from(s)) {
        Some(Value::Node(n)) => Some(*n),
        _ => None,
    });
    let now = request.now.unwrap_or_else(Timestamp::now);
    let engine = Interp::with_known(program, graph, now, known);
    let mut frame = Frame::with_buffers(slots, buffers, service.unwrap_or(NodeId(0)));
    // Plugin instances live in a thread-local between requests; a program
    // without plugins skips the round trip.
    let plugins = !program.plugins.is_empty();
    if plugins {
        frame.plugins = PLUGINS.with(Cell::take);
    }
    frame.set_service(service);
    let mut run =
        Run { engine: &engine, rows, d, sites, lets: smallvec::smallvec![false; d.steps.len()] };
    let mut decision = run.clauses(&mut frame);
    if let Some(p) = &program.priority
        && let Some(s) = service
    {
        let level = match priorities {
            Some(known) => known.get(&s.0).copied(),
            None => priority_level(&engine, p, s, &mut frame),
        };
        decision.priority = level.map(priority_label);
    }
    give_buffers(frame.take_buffers());
    if plugins {
        PLUGINS.with(|c| c.set(std::mem::take(&mut frame.plugins)));
    }
    Ok(decision)
}

struct Run<'e, 'a> {
    engine: &'e Interp<'a>,
    rows: &'a Records,
    d: &'a ir::Decision,
    sites: &'a [ClauseSite],
    /// Whether each step's let has been evaluated (inline up to 64 steps).
    lets: smallvec::SmallVec<[bool; 64]>,
}

impl<'a> Run<'_, 'a> {
    fn cx(&self) -> Cx<'_, 'a> {
        Cx { engine: self.engine, records: self.rows }
    }

    fn clauses(&mut self, f: &mut Frame<'a>) -> Decision {
        let mut reasons = Vec::with_capacity(4);
        // Deny: every clause, for every reason.
        for (i, c) in self.d.clauses().filter(|(_, c)| c.effect == ClauseEffect::Deny) {
            match self.holds(i, c, f) {
                Ok(true) => reasons.push(self.reason(i, c, f)),
                Ok(false) => {}
                Err(e) => return self.failed(i, &e, reasons),
            }
        }
        if !reasons.is_empty() {
            return decision(Effect::Deny, reasons, Vec::new());
        }
        // Approval: every clause, for the union of approvers.
        let mut approvers: Vec<String> = Vec::new();
        for (i, c) in self.d.clauses().filter(|(_, c)| c.effect == ClauseEffect::Approval) {
            match self.holds(i, c, f) {
                Ok(true) => {
                    let mut own = Vec::new();
                    if let Some(a) = &c.approvers {
                        match self.engine.eval(a, f) {
                            Ok(v) => self.approvers_of(&v, &mut own),
                            Err(e) => return self.failed(i, &e, reasons),
                        }
                    }
                    let message = if own.is_empty() {
                        "approval required, but no approver is known".to_owned()
                    } else {
                        format!("approval required from {}", own.join(", "))
                    };
                    for a in own {
                        if !approvers.contains(&a) {
                            approvers.push(a);
                        }
                    }
                    let r = self.reason_at(i, ClauseEffect::Approval.as_str(), message);
                    reasons.push(r);
                }
                Ok(false) => {}
                Err(e) => return self.failed(i, &e, reasons),
            }
        }
        if !reasons.is_empty() {
            return decision(Effect::ApprovalRequired, reasons, approvers);
        }
        // Allow: the first clause that holds.
        for (i, c) in self.d.clauses().filter(|(_, c)| c.effect == ClauseEffect::Allow) {
            match self.holds(i, c, f) {
                Ok(true) => {
                    reasons.push(self.reason(i, c, f));
                    return decision(Effect::Allow, reasons, Vec::new());
                }
                Ok(false) => {}
                Err(e) => return self.failed(i, &e, reasons),
            }
        }
        decision(Effect::NotPermitted, Vec::new(), Vec::new())
    }

    /// Evaluates the lets step `i` needs (once each, in source order), then
    /// the clause's condition.
    fn holds(
        &mut self,
        i: usize,
        c: &'a ir::DecisionClause,
        f: &mut Frame<'a>,
    ) -> Result<bool, EvalError> {
        // Sites come from `sites_of` for this decision; without one, every
        // let before the clause is evaluated, as a clause may read any.
        let all_before: Vec<usize>;
        let needs = match self.sites.get(i) {
            Some(site) => &site.needs[..],
            None => {
                all_before = (0..i).collect();
                &all_before
            }
        };
        for &j in needs {
            if self.lets.get(j) == Some(&false) {
                self.eval_let(j, f)?;
                if let Some(done) = self.lets.get_mut(j) {
                    *done = true;
                }
            }
        }
        match self.sites.get(i).and_then(|s| s.when.as_ref()) {
            Some(when) => when.holds(self.cx(), f),
            None => self.engine.test(&c.when, f),
        }
    }

    fn eval_let(&self, j: usize, f: &mut Frame<'a>) -> Result<(), EvalError> {
        if let Some(DecisionStep::Let { slot, value, .. }) = self.d.steps.get(j) {
            let v = match self.sites.get(j).and_then(|s| s.when.as_ref()) {
                Some(when) => Value::Bool(when.holds(self.cx(), f)?),
                None => self.engine.eval(value, f)?,
            };
            f.set(*slot, v);
        }
        Ok(())
    }

    fn reason(&self, i: usize, c: &'a ir::DecisionClause, f: &mut Frame<'a>) -> Reason {
        let compiled = self.sites.get(i).and_then(|s| s.reason.as_deref());
        let message = match (&c.reason, compiled) {
            (Some(_), Some(pieces)) => plan::render(pieces, self.cx(), f),
            (Some(t), None) => self.engine.template(t, f),
            (None, _) => format!("{} when {}", c.effect.as_str(), c.text),
        };
        self.reason_at(i, c.effect.as_str(), message)
    }

    fn reason_at(&self, i: usize, clause: &'static str, message: String) -> Reason {
        let (file, line, column) = match self.sites.get(i) {
            Some(s) => (Arc::clone(&s.file), s.line, s.column),
            None => (Arc::from(""), 0, 0),
        };
        Reason { decision: Arc::clone(&self.d.name), clause, message, file, line, column }
    }

    /// Fail closed: a clause that cannot be evaluated denies.
    fn failed(&self, i: usize, e: &EvalError, mut reasons: Vec<Reason>) -> Decision {
        reasons.retain(|r| r.clause == "deny");
        let (line, column) = e.loc.file.line_col(e.loc.span.start);
        let mut r = self.reason_at(
            i,
            "error",
            format!("evaluation failed, denied (fail closed): {}", e.message),
        );
        r.file = Arc::from(e.loc.file.name());
        r.line = u32::try_from(line).unwrap_or(u32::MAX);
        r.column = u32::try_from(column).unwrap_or(u32::MAX);
        reasons.push(r);
        decision(Effect::Deny, reasons, Vec::new())
    }

    /// Approvers from a value: text as given, entities by id, lists flattened;
    /// missing values name nobody. Each approver once, in order.
    fn approvers_of(&self, v: &Value<'_>, out: &mut Vec<String>) {
        let name = match v {
            Value::Missing => return,
            Value::List(xs) => {
                for x in xs.iter() {
                    self.approvers_of(x, out);
                }
                return;
            }
            Value::Node(n) => self.engine.graph.id(*n).to_owned(),
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        };
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
}

/// `P1`..`P5` without formatting on every request.
fn priority_label(level: u8) -> Cow<'static, str> {
    match level {
        1 => Cow::Borrowed("P1"),
        2 => Cow::Borrowed("P2"),
        3 => Cow::Borrowed("P3"),
        4 => Cow::Borrowed("P4"),
        5 => Cow::Borrowed("P5"),
        n => Cow::Owned(format!("P{n}")),
    }
}

fn decision(effect: Effect, reasons: Vec<Reason>, approvers: Vec<String>) -> Decision {
    Decision { effect, reasons, approvers, priority: None }
}

/// Why an input value was refused.
pub(super) enum InputError {
    /// The wrong JSON type.
    Bad,
    /// An id that is not in the graph (or not of the declared kind).
    Entity(String),
}

impl InputError {
    fn into_error(self, input: &ir::DecisionInput, schema: &crate::graph::Schema) -> DecideError {
        match self {
            InputError::Entity(id) => {
                DecideError::UnknownEntity { input: input.name.to_string(), id }
            }
            InputError::Bad => DecideError::BadInput {
                input: input.name.to_string(),
                expected: expected(input.ty.ty(), schema),
            },
        }
    }
}

/// What a request must give for a type, in words.
pub(super) fn expected(t: &Ty, schema: &crate::graph::Schema) -> String {
    match t {
        Ty::Bool => "a boolean".into(),
        Ty::Int => "an integer".into(),
        Ty::Float => "a number".into(),
        Ty::Str => "a string".into(),
        Ty::Time => "a timestamp string (RFC 3339 or YYYY-MM-DD)".into(),
        Ty::Duration => "a duration string (`90d`, `24h`)".into(),
        Ty::List(e) => format!("a list, each element {}", expected(e, schema)),
        Ty::Node(_) => format!("the id of an entity of kind `{}` (a string)", t.show(schema)),
        // An input type has neither (`InputType::new`).
        Ty::Null | Ty::Unknown => t.show(schema),
    }
}

/// A JSON input as a runtime value (entity ids through the graph's lookup;
/// their kind from the engine's records).
fn decode<'a>(graph: &Graph, rows: &Records, t: &Ty, j: &'a Json) -> Result<Value<'a>, InputError> {
    Ok(match (t, j) {
        (_, Json::Null) => Value::Missing,
        (Ty::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Ty::Int, Json::Number(n)) => Value::Int(n.as_i64().ok_or(InputError::Bad)?),
        (Ty::Float, Json::Number(n)) => Value::Float(n.as_f64().ok_or(InputError::Bad)?),
        (Ty::Str, Json::String(s)) => Value::Str(Cow::Borrowed(s)),
        (Ty::Time, Json::String(s)) => {
            Value::Time(Timestamp::parse(s).map_err(|_| InputError::Bad)?)
        }
        (Ty::Duration, Json::String(s)) => {
            Value::Duration(Duration::parse(s).map_err(|_| InputError::Bad)?)
        }
        (Ty::List(e), Json::Array(xs)) => {
            let mut out = Vec::with_capacity(xs.len());
            for x in xs {
                out.push(decode(graph, rows, e, x)?);
            }
            Value::List(Arc::new(out))
        }
        (Ty::Node(kinds), Json::String(id)) => match graph.lookup(id) {
            Some(n) if kinds.is_empty() || kinds.contains(&rows.kind(graph, n)) => Value::Node(n),
            _ => return Err(InputError::Entity(id.clone())),
        },
        _ => return Err(InputError::Bad),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_buffers_keep_their_allocation_across_requests() {
        let mut frame = Frame::with_buffers(Vec::new(), take_buffers(), NodeId(0));
        frame.trail.extend([NodeId(1), NodeId(2)]);
        frame.scratch.push(Vec::with_capacity(8));
        let ptr = frame.trail.as_ptr() as usize;
        give_buffers(frame.take_buffers());
        let PathBuffers { trail, scratch } = take_buffers();
        assert!(trail.is_empty());
        assert_eq!(scratch.len(), 1, "the path-step buffers were dropped");
        assert_eq!(trail.as_ptr() as usize, ptr, "the trail was reallocated");
        assert!(trail.capacity() >= 2);
    }

    /// The reads loaded up front are those of the entity inputs: their
    /// attributes (each once) and the direction of the paths that start at them.
    #[test]
    fn warm_lists_what_clauses_read_of_entity_inputs() {
        let text = r#"decision d {
  input subject: identity, app: service, action: string
  let owned = exists subject -[owned_by]-> _
  deny "x" when subject.type == "human" and subject.active == false
  deny "y" when app.tier == 0 and subject.type != "bot" and action == "write"
  allow "z" when owned or exists app <-[supports]- _
}"#;
        let file = crate::source::SourceFile::new("d.gov", text);
        let parsed = crate::syntax::parse(&file).unwrap_or_else(|d| panic!("{d:?}"));
        let schema = crate::graph::Schema::builtin();
        let now = Timestamp(0);
        let compiled = crate::check::compile(&[parsed], &schema, &crate::check::Options { now })
            .unwrap_or_else(|d| panic!("{d:?}"));
        let d = compiled.program.decisions.first().unwrap_or_else(|| panic!("no decision"));
        let warm = warm_of(d);
        let slot = |name: &str| d.input(name).map(|i| i.slot);
        let names = |w: &Warm| {
            let mut n: Vec<&str> = w
                .attrs
                .iter()
                .filter_map(|(k, a)| schema.attr_def(*k, *a))
                .map(|a| &*a.name)
                .collect();
            n.sort_unstable();
            n
        };
        assert_eq!(warm.len(), 2, "{warm:?}");
        let subject =
            warm.iter().find(|w| Some(w.slot) == slot("subject")).unwrap_or_else(|| panic!());
        assert_eq!(names(subject), ["active", "type"]);
        assert_eq!((subject.out, subject.inc), (true, false));
        let app = warm.iter().find(|w| Some(w.slot) == slot("app")).unwrap_or_else(|| panic!());
        assert_eq!(names(app), ["tier"]);
        assert_eq!((app.out, app.inc), (false, true));
    }
}
