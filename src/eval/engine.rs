//! The IR interpreter: expressions, paths and aggregates over one frame.
//!
//! Missing values propagate instead of failing: an attribute of a missing
//! node is missing, a comparison with a missing value is false (and `== null`
//! true), a missing condition is false. Arithmetic errors (division by zero,
//! overflow) are [`EvalError`]s that the audit turns into error findings.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::domain::Direction;
use crate::graph::{AttrId, EdgeKindId, Graph, KindId, NodeId, ServiceModel, Value as GValue};
use crate::ir::value::{self, Value};
use crate::ir::{
    Agg, Bind, Builtin, Const, Expr, ExprKind, Op, Path, Pattern, Program, Source, Step, Template,
    TemplatePart,
};
use crate::source::Loc;
use crate::time::Timestamp;

/// An evaluation that has no value.
#[derive(Clone, Debug)]
pub struct EvalError(Box<EvalErrorData>);

/// What an [`EvalError`] holds (boxed: errors are rare, and a small
/// `Result` keeps every evaluation step cheap).
#[derive(Clone, Debug)]
pub struct EvalErrorData {
    /// What went wrong.
    pub message: String,
    /// The expression that failed.
    pub loc: Loc,
}

impl EvalError {
    /// An error at `loc`.
    pub fn new(message: impl Into<String>, loc: &Loc) -> Self {
        EvalError(Box::new(EvalErrorData { message: message.into(), loc: loc.clone() }))
    }
}

impl std::ops::Deref for EvalError {
    type Target = EvalErrorData;
    fn deref(&self) -> &EvalErrorData {
        &self.0
    }
}

/// Longest path walk per variable-length step, whatever the bounds say:
/// a walk stops at nodes already visited, so this bounds only pathological
/// graphs with millions of reachable nodes.
const MAX_REACH: usize = 1_000_000;

/// Nodes the paths of one evaluation (one rule for one entity, or one
/// decision) may visit before it ends with a `gov::eval::walk_limit` error.
/// Nested multi-hop quantifiers multiply: three hops inside three hops over
/// nodes of degree 30 are 30^6 visits. A few seconds of work; real rules
/// visit thousands.
pub const DEFAULT_WALK_LIMIT: u64 = 50_000_000;

/// Variables of one evaluation.
pub struct Frame<'a> {
    /// Slot values.
    pub slots: Vec<Value<'a>>,
    /// The entity the rule is evaluated for.
    pub entity: NodeId,
    /// Its business service, computed on first use.
    service: Option<Option<NodeId>>,
    /// Nodes of the last path match visited, for witnesses.
    pub trail: Vec<NodeId>,
    /// This worker's plugin instances (created on first call, reused across entities).
    pub plugins: crate::plugin::Instances,
    /// Node buffers for variable-length path steps, reused across walks.
    pub(crate) scratch: Vec<Vec<NodeId>>,
    /// Nodes visited by path steps since the frame was made or reset,
    /// against [`Interpreter::walk_limit`].
    pub(crate) walked: u64,
}

/// A frame's path buffers (the trail of the last match, the node buffers of
/// variable-length steps), kept between evaluations by a caller that runs
/// many (a gateway thread) so that their allocations are reused.
#[derive(Debug, Default)]
pub struct PathBuffers {
    pub(crate) trail: Vec<NodeId>,
    pub(crate) scratch: Vec<Vec<NodeId>>,
}

impl PathBuffers {
    /// No buffers yet.
    pub const fn new() -> Self {
        PathBuffers { trail: Vec::new(), scratch: Vec::new() }
    }
}

impl<'a> Frame<'a> {
    /// A frame of `size` missing slots for `entity`.
    pub fn new(size: usize, entity: NodeId) -> Self {
        Frame {
            slots: vec![Value::Missing; size.max(1)],
            entity,
            service: None,
            trail: Vec::new(),
            plugins: crate::plugin::Instances::default(),
            scratch: Vec::new(),
            walked: 0,
        }
    }

    /// A frame over buffers the caller reuses across evaluations (slots
    /// already sized and missing; the trail empty), with no plugin instances
    /// (set [`Frame::plugins`] to reuse some).
    #[inline]
    pub fn with_buffers(slots: Vec<Value<'a>>, buffers: PathBuffers, entity: NodeId) -> Self {
        let PathBuffers { mut trail, scratch } = buffers;
        trail.clear();
        Frame {
            slots,
            entity,
            service: None,
            trail,
            plugins: crate::plugin::Instances::default(),
            scratch,
            walked: 0,
        }
    }

    /// Takes the frame's path buffers back, emptied, for the next frame.
    #[inline]
    pub fn take_buffers(&mut self) -> PathBuffers {
        let mut trail = std::mem::take(&mut self.trail);
        trail.clear();
        PathBuffers { trail, scratch: std::mem::take(&mut self.scratch) }
    }

    /// Reuses the frame for another entity.
    pub fn reset(&mut self, entity: NodeId) {
        for s in &mut self.slots {
            *s = Value::Missing;
        }
        self.entity = entity;
        self.service = None;
        self.trail.clear();
        self.walked = 0;
    }

    /// Sets the entity's business service when it is already known.
    pub fn set_service(&mut self, service: Option<NodeId>) {
        self.service = Some(service);
    }

    /// Sets a slot (growing the frame if an exception needs more).
    #[inline]
    pub fn set(&mut self, slot: u16, v: Value<'a>) {
        let i = usize::from(slot);
        if i >= self.slots.len() {
            self.slots.resize(i + 1, Value::Missing);
        }
        if let Some(s) = self.slots.get_mut(i) {
            *s = v;
        }
    }
}

/// What a path walk callback wants next.
pub(crate) enum Flow {
    /// Keep walking.
    Continue,
    /// Stop the walk.
    Stop,
}

/// Evaluates IR against a graph.
pub struct Interpreter<'a> {
    /// The program.
    pub program: &'a Program,
    /// The graph.
    pub graph: &'a Graph,
    /// The evaluation time.
    pub now: Timestamp,
    services: ServiceModel,
    /// Nodes one frame's paths may visit ([`DEFAULT_WALK_LIMIT`] unless set).
    walk_limit: u64,
}

fn from_graph(v: GValue<'_>) -> Value<'_> {
    match v {
        GValue::Missing => Value::Missing,
        GValue::Bool(b) => Value::Bool(b),
        GValue::Int(i) => Value::Int(i),
        GValue::Float(f) => Value::Float(f),
        GValue::Str(s) => Value::Str(Cow::Borrowed(s)),
        GValue::Time(t) => Value::Time(t),
        GValue::Duration(d) => Value::Duration(d),
        GValue::List(l) => Value::List(Arc::new(l.iter().map(from_graph).collect())),
    }
}

/// The schema ids the engine needs, resolved once per graph (a decision
/// builds an engine per request): the schema's service model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Known {
    services: ServiceModel,
}

impl Known {
    pub(crate) fn of(graph: &Graph) -> Self {
        Known { services: graph.schema().service_model() }
    }
}

impl<'a> Interpreter<'a> {
    /// An engine for one program, graph and time.
    pub fn new(program: &'a Program, graph: &'a Graph, now: Timestamp) -> Self {
        Self::with_known(program, graph, now, Known::of(graph))
    }

    /// [`Interpreter::new`] with the schema ids already resolved ([`Known::of`] the same graph).
    pub(crate) fn with_known(
        program: &'a Program,
        graph: &'a Graph,
        now: Timestamp,
        known: Known,
    ) -> Self {
        Interpreter {
            program,
            graph,
            now,
            services: known.services,
            walk_limit: DEFAULT_WALK_LIMIT,
        }
    }

    /// The same engine with another walk limit: the nodes the paths of one
    /// evaluation may visit before it ends with a `gov::eval::walk_limit`
    /// error (at least 1).
    #[must_use]
    pub fn with_walk_limit(mut self, limit: u64) -> Self {
        self.walk_limit = limit.max(1);
        self
    }

    /// Counts one node visited by `step`: an error once the frame has
    /// visited more than the walk limit.
    #[inline(always)]
    pub(crate) fn visit(&self, step: &Step, f: &mut Frame<'_>) -> Result<(), EvalError> {
        f.walked += 1;
        if f.walked > self.walk_limit {
            return Err(self.walk_limit_error(step));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn walk_limit_error(&self, step: &Step) -> EvalError {
        EvalError::new(
            format!(
                "its paths visited more than {} nodes for one entity ({}); \
                 nested multi-hop steps multiply: name edge kinds and a direction, filter \
                 early, or raise the limit (`--walk-limit`)",
                crate::diag::thousands(self.walk_limit),
                crate::diag::Code::WalkLimit
            ),
            &step.loc,
        )
    }

    /// The business service of an entity: itself for a service, else the most
    /// critical (lowest tier) service it supports, directly or through the
    /// identity that holds it (for credentials): the schema's
    /// [`ServiceModel`].
    pub fn service_of(&self, n: NodeId) -> Option<NodeId> {
        let g = self.graph;
        let model = &self.services;
        if Some(g.kind(n)) == model.kind {
            return Some(n);
        }
        let supports = model.supports?;
        // One candidate (the common case): no list, no tier lookups.
        let direct = g.out(n, supports);
        if let [s] = direct {
            return Some(*s);
        }
        if direct.is_empty()
            && let Some(hc) = model.holds
            && let [holder] = g.inc(n, hc)
            && let [s] = g.out(*holder, supports)
        {
            return Some(*s);
        }
        let mut candidates: Vec<NodeId> = direct.to_vec();
        if candidates.is_empty()
            && let Some(hc) = model.holds
        {
            for holder in g.inc(n, hc) {
                candidates.extend_from_slice(g.out(*holder, supports));
            }
        }
        let tier = |s: NodeId| {
            let v = match model.tier {
                Some(a) if Some(g.kind(s)) == model.kind => g.attr(s, a),
                // A schema extension may let `supports` reach another kind.
                _ => g.attr_by_name(s, ServiceModel::TIER),
            };
            match v {
                GValue::Int(t) => t,
                _ => i64::MAX,
            }
        };
        candidates
            .into_iter()
            .min_by(|a, b| tier(*a).cmp(&tier(*b)).then_with(|| g.id(*a).cmp(g.id(*b))))
    }

    /// The business service of the frame's entity (computed once per entity).
    pub fn frame_service(&self, f: &mut Frame<'_>) -> Option<NodeId> {
        if let Some(s) = f.service {
            return s;
        }
        let s = self.service_of(f.entity);
        f.service = Some(s);
        s
    }

    fn err(&self, message: impl Into<String>, loc: &Loc) -> EvalError {
        EvalError::new(message, loc)
    }

    /// Evaluates an expression.
    ///
    /// The common nodes of attribute rules (constants, locals, attributes,
    /// `has`, logic, comparisons) are handled here; the rest in
    /// `Interpreter::eval_complex`. Keeping this function small keeps its stack
    /// frame small, and it runs several times per rule-entity check.
    #[inline]
    pub fn eval(&self, e: &'a Expr, f: &mut Frame<'a>) -> Result<Value<'a>, EvalError> {
        Ok(match &e.kind {
            ExprKind::Const(c) => Value::from_const(c),
            ExprKind::Now => Value::Time(self.now),
            ExprKind::Local(s) => f.slots.get(usize::from(*s)).cloned().unwrap_or(Value::Missing),
            ExprKind::Attr { node, slots, .. } => match self.eval_node(node, f)? {
                Some(n) => {
                    let k = self.graph.kind(n);
                    match slots.iter().find(|(sk, _)| *sk == k) {
                        Some((_, a)) => from_graph(self.graph.attr(n, *a)),
                        None => Value::Missing,
                    }
                }
                None => Value::Missing,
            },
            ExprKind::Has { node, slots, .. } => Value::Bool(self.has(node, slots, f)?),
            ExprKind::Not(x) => Value::Bool(!self.eval(x, f)?.truthy()),
            ExprKind::And(a, b) => {
                Value::Bool(self.eval(a, f)?.truthy() && self.eval(b, f)?.truthy())
            }
            ExprKind::Or(a, b) => {
                Value::Bool(self.eval(a, f)?.truthy() || self.eval(b, f)?.truthy())
            }
            ExprKind::Binary(op, a, b) => {
                if let (Op::In | Op::NotIn, ExprKind::Const(Const::List(items))) = (op, &b.kind) {
                    return self.in_consts(*op, a, items, f);
                }
                let x = self.eval(a, f)?;
                let y = self.eval(b, f)?;
                match value::binary(*op, &x, &y) {
                    Ok(v) => v,
                    Err(m) => return Err(self.op_err(m, &e.loc)),
                }
            }
            _ => return self.eval_complex(e, f),
        })
    }

    /// Evaluates a condition: the same truth as `eval(e)?.truthy()`, but
    /// logic and comparisons give a bool directly, without building a
    /// [`Value`] for every node, and a constant operand is read in place.
    pub fn test(&self, e: &'a Expr, f: &mut Frame<'a>) -> Result<bool, EvalError> {
        match &e.kind {
            ExprKind::And(a, b) => Ok(self.test(a, f)? && self.test(b, f)?),
            ExprKind::Or(a, b) => Ok(self.test(a, f)? || self.test(b, f)?),
            ExprKind::Not(x) => Ok(!self.test(x, f)?),
            ExprKind::Has { node, slots, .. } => self.has(node, slots, f),
            ExprKind::Binary(op, a, b) => {
                if let (Op::In | Op::NotIn, ExprKind::Const(Const::List(items))) = (op, &b.kind) {
                    return Ok(self.in_consts(*op, a, items, f)?.truthy());
                }
                let x = self.eval(a, f)?;
                let y = match (op, &b.kind) {
                    (Op::Eq, ExprKind::Const(c)) => return Ok(x.equals_const(c)),
                    (Op::Ne, ExprKind::Const(c)) => return Ok(!x.equals_const(c)),
                    (_, ExprKind::Const(c)) => Value::from_const(c),
                    _ => self.eval(b, f)?,
                };
                if let Some(r) = value::compare_op(*op, &x, &y) {
                    return Ok(r);
                }
                match value::binary(*op, &x, &y) {
                    Ok(v) => Ok(v.truthy()),
                    Err(m) => Err(self.op_err(m, &e.loc)),
                }
            }
            _ => Ok(self.eval(e, f)?.truthy()),
        }
    }

    /// `node has attr`: the node's kind has the column and the node a value in it.
    #[inline]
    fn has(
        &self,
        node: &'a Expr,
        slots: &[(KindId, AttrId)],
        f: &mut Frame<'a>,
    ) -> Result<bool, EvalError> {
        Ok(match self.eval_node(node, f)? {
            Some(n) => {
                let k = self.graph.kind(n);
                slots.iter().any(|(sk, a)| *sk == k && self.graph.has_attr(n, *a))
            }
            None => false,
        })
    }

    /// `x in [constants]`: compared element by element, without building
    /// the list as a value on every evaluation.
    #[inline(never)]
    fn in_consts(
        &self,
        op: Op,
        x: &'a Expr,
        items: &'a [Const],
        f: &mut Frame<'a>,
    ) -> Result<Value<'a>, EvalError> {
        let x = self.eval(x, f)?;
        let found = items.iter().any(|c| x.equals_const(c));
        Ok(Value::Bool(found == (op == Op::In)))
    }

    /// The node an expression denotes (`None` for any other value), without
    /// cloning a local's value.
    #[inline]
    fn eval_node(&self, e: &'a Expr, f: &mut Frame<'a>) -> Result<Option<NodeId>, EvalError> {
        let v = match &e.kind {
            ExprKind::Local(s) => match f.slots.get(usize::from(*s)) {
                Some(Value::Node(n)) => return Ok(Some(*n)),
                _ => return Ok(None),
            },
            _ => self.eval(e, f)?,
        };
        Ok(match v {
            Value::Node(n) => Some(n),
            _ => None,
        })
    }

    #[cold]
    #[inline(never)]
    fn op_err(&self, m: value::OpError, loc: &Loc) -> EvalError {
        self.err(m.0, loc)
    }

    /// The expressions [`Interpreter::eval`] leaves out.
    #[inline(never)]
    fn eval_complex(&self, e: &'a Expr, f: &mut Frame<'a>) -> Result<Value<'a>, EvalError> {
        Ok(match &e.kind {
            ExprKind::Const(_)
            | ExprKind::Now
            | ExprKind::Local(_)
            | ExprKind::Attr { .. }
            | ExprKind::Has { .. }
            | ExprKind::Not(_)
            | ExprKind::And(..)
            | ExprKind::Or(..)
            | ExprKind::Binary(..) => return self.eval(e, f),
            ExprKind::Service => self.frame_service(f).map_or(Value::Missing, Value::Node),
            ExprKind::List(xs) => {
                let mut out = Vec::with_capacity(xs.len());
                for x in xs {
                    out.push(self.eval(x, f)?);
                }
                Value::List(Arc::new(out))
            }
            ExprKind::Neg(x) => value::neg(&self.eval(x, f)?).map_err(|m| self.err(m.0, &e.loc))?,
            ExprKind::If(c, a, b) => {
                if self.eval(c, f)?.truthy() {
                    self.eval(a, f)?
                } else {
                    self.eval(b, f)?
                }
            }
            ExprKind::Match(x, arms) => {
                let v = self.eval(x, f)?;
                for (p, out) in arms {
                    if matches_pattern(p, &v) {
                        return self.eval(out, f);
                    }
                }
                Value::Missing
            }
            ExprKind::Call(b, args) => {
                // Built-ins take at most a few arguments: keep them on the
                // stack (a heap vector per call showed up in the profile).
                const STACK: usize = 4;
                let mut stack: [Value<'a>; STACK] = std::array::from_fn(|_| Value::Missing);
                let mut heap = Vec::new();
                let vals: &[Value<'a>] = if args.len() <= STACK {
                    for (slot, a) in stack.iter_mut().zip(args) {
                        *slot = self.eval(a, f)?;
                    }
                    stack.get(..args.len()).unwrap_or_default()
                } else {
                    heap.reserve(args.len());
                    for a in args {
                        heap.push(self.eval(a, f)?);
                    }
                    &heap
                };
                if *b == Builtin::Id {
                    return Ok(match vals.first() {
                        Some(Value::Node(n)) => Value::Str(Cow::Borrowed(self.graph.id(*n))),
                        _ => Value::Missing,
                    });
                }
                value::builtin(*b, vals).map_err(|m| self.err(m.0, &e.loc))?
            }
            ExprKind::PluginCall { plugin, func, args, .. } => {
                // Arguments on the stack: no allocation for a scalar call.
                let mut vals: [Value<'a>; crate::plugin::MAX_PARAMS] =
                    std::array::from_fn(|_| Value::Missing);
                for (v, a) in vals.iter_mut().zip(args) {
                    *v = self.eval(a, f)?;
                }
                let n = args.len().min(crate::plugin::MAX_PARAMS);
                let args = vals.get(..n).unwrap_or_default();
                crate::plugin::call(&self.program.plugins, &mut f.plugins, *plugin, *func, args)
                    .map_err(|m| self.err(m, &e.loc))?
            }
            ExprKind::Block(binds, body) => {
                for (slot, v) in binds {
                    let v = self.eval(v, f)?;
                    f.set(*slot, v);
                }
                self.eval(body, f)?
            }
            ExprKind::Aggregate { agg, source, cond, projection } => {
                self.aggregate(*agg, source, cond.as_deref(), projection.as_deref(), f, &e.loc)?
            }
        })
    }

    /// Renders a message template.
    pub fn template(&self, t: &'a Template, f: &mut Frame<'a>) -> String {
        // Room for the text and a short value per hole: one allocation for
        // most messages instead of a few doublings.
        let guess = t
            .parts
            .iter()
            .map(|p| match p {
                TemplatePart::Text(x) => x.len(),
                TemplatePart::Expr(_) => 24,
            })
            .sum();
        let mut s = String::with_capacity(guess);
        self.template_into(t, f, &mut s);
        s
    }

    /// Renders a message template at the end of `out` (no string per hole).
    pub fn template_into(&self, t: &'a Template, f: &mut Frame<'a>, out: &mut String) {
        for p in &t.parts {
            match p {
                TemplatePart::Text(x) => out.push_str(x),
                TemplatePart::Expr(e) => self.hole_into(e, f, out),
            }
        }
    }

    /// A template hole's value as people read it, at the end of `out`; an
    /// evaluation error shows as `<message>`.
    pub(crate) fn hole_into(&self, e: &'a Expr, f: &mut Frame<'a>, out: &mut String) {
        match self.eval(e, f) {
            Ok(v) => self.show_into(&v, out),
            Err(err) => {
                out.push('<');
                out.push_str(&err.message);
                out.push('>');
            }
        }
    }

    /// A value as people read it (nodes by id).
    pub fn show(&self, v: &Value<'_>) -> String {
        let mut s = String::new();
        self.show_into(v, &mut s);
        s
    }

    /// [`Interpreter::show`] at the end of `out`.
    pub fn show_into(&self, v: &Value<'_>, out: &mut String) {
        use std::fmt::Write as _;
        match v {
            Value::Node(n) => out.push_str(self.graph.id(*n)),
            Value::Str(x) => out.push_str(x),
            Value::Time(t) => t.push_to(out),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::List(xs) => {
                out.push('[');
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.show_into(x, out);
                }
                out.push(']');
            }
            // Writing to a `String` cannot fail.
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }

    fn aggregate(
        &self,
        agg: Agg,
        source: &'a Source,
        cond: Option<&'a Expr>,
        projection: Option<&'a Expr>,
        f: &mut Frame<'a>,
        loc: &Loc,
    ) -> Result<Value<'a>, EvalError> {
        if agg == Agg::Exists
            && let Source::Path(p) = source
            && let [step] = &p.steps[..]
            && let (1, Some(1), Direction::Out | Direction::In, [e]) =
                (step.min, step.max, step.direction, &step.edges[..])
        {
            return self.exists_one_hop(p, step, *e, cond, f).map(Value::Bool);
        }
        let mut acc = Acc::new(agg);
        // Only count and sum dedupe; the others never pay for the set.
        let mut seen: Option<HashSet<Vec<u32>>> = None;
        let mut first_err: Option<EvalError> = None;
        let dedup = matches!(agg, Agg::Count | Agg::Sum);
        let named: &[u16] = match source {
            Source::Path(p) => &p.named,
            Source::List { .. } => &[],
        };
        let is_path = matches!(source, Source::Path(_));
        let mut visit = |eng: &Self, f: &mut Frame<'a>| -> Flow {
            let pass = match cond {
                Some(c) => match eng.test(c, f) {
                    Ok(v) => v,
                    Err(e) => {
                        first_err = Some(e);
                        return Flow::Stop;
                    }
                },
                None => true,
            };
            match agg {
                Agg::Exists => {
                    if pass {
                        acc.hit = true;
                        return Flow::Stop;
                    }
                }
                Agg::All => {
                    if !pass {
                        acc.hit = false;
                        return Flow::Stop;
                    }
                }
                _ => {
                    if !pass {
                        return Flow::Continue;
                    }
                    // Distinct matches: tuples of named binders, or the nodes
                    // walked when the path names none (parallel edges count once).
                    if dedup && is_path {
                        let key: Vec<u32> = if named.is_empty() {
                            f.trail.iter().map(|n| n.0).collect()
                        } else {
                            named
                                .iter()
                                .map(|s| match f.slots.get(usize::from(*s)) {
                                    Some(Value::Node(n)) => n.0,
                                    _ => u32::MAX,
                                })
                                .collect()
                        };
                        if !seen.get_or_insert_with(HashSet::new).insert(key) {
                            return Flow::Continue;
                        }
                    }
                    let v = match projection {
                        Some(p) => match eng.eval(p, f) {
                            Ok(v) => v,
                            Err(e) => {
                                first_err = Some(e);
                                return Flow::Stop;
                            }
                        },
                        None => Value::Missing,
                    };
                    if let Err(m) = acc.add(v) {
                        first_err = Some(EvalError::new(m, loc));
                        return Flow::Stop;
                    }
                }
            }
            Flow::Continue
        };
        match source {
            Source::List { slot, list } => {
                let items = match self.eval(list, f)? {
                    Value::List(xs) => xs,
                    _ => Arc::new(Vec::new()),
                };
                for item in items.iter() {
                    f.set(*slot, item.clone());
                    if let Flow::Stop = visit(self, f) {
                        break;
                    }
                }
            }
            Source::Path(p) => {
                self.walk(p, f, &mut visit)?;
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok(acc.finish())
    }

    /// Whether a node a step reached matches its kinds, pinned binder and
    /// filter; a new binder is bound to it first (the filter may read it).
    #[inline]
    fn admits(&self, step: &'a Step, m: NodeId, f: &mut Frame<'a>) -> Result<bool, EvalError> {
        if !step.kinds.is_empty() && !step.kinds.contains(&self.graph.kind(m)) {
            return Ok(false);
        }
        match step.bind {
            Bind::Anonymous => {}
            Bind::New(s) => f.set(s, Value::Node(m)),
            Bind::Pinned(s) => {
                if f.slots.get(usize::from(s)) != Some(&Value::Node(m)) {
                    return Ok(false);
                }
            }
        }
        match &step.filter {
            Some(filter) => self.test(filter, f),
            None => Ok(true),
        }
    }

    /// `exists start -[e]-> x where cond`, the most common quantifier: the
    /// same matches, binders, trail and errors as the general walk, without
    /// its callback and recursion.
    fn exists_one_hop(
        &self,
        p: &'a Path,
        step: &'a Step,
        edge: EdgeKindId,
        cond: Option<&'a Expr>,
        f: &mut Frame<'a>,
    ) -> Result<bool, EvalError> {
        let Value::Node(start) = self.eval(&p.start, f)? else { return Ok(false) };
        f.trail.clear();
        f.trail.push(start);
        let reached = match step.direction {
            Direction::In => self.graph.inc(start, edge),
            _ => self.graph.out(start, edge),
        };
        for m in distinct(reached) {
            self.visit(step, f)?;
            if !self.admits(step, m, f)? {
                continue;
            }
            f.trail.truncate(1);
            f.trail.push(m);
            match cond {
                Some(c) if !self.test(c, f)? => {}
                _ => return Ok(true),
            }
        }
        Ok(false)
    }

    /// Calls `visit` for every match of a path (with binders set in the frame).
    pub(crate) fn walk(
        &self,
        p: &'a Path,
        f: &mut Frame<'a>,
        visit: &mut dyn FnMut(&Self, &mut Frame<'a>) -> Flow,
    ) -> Result<(), EvalError> {
        let Value::Node(start) = self.eval(&p.start, f)? else { return Ok(()) };
        f.trail.clear();
        f.trail.push(start);
        self.step(&p.steps, 0, start, f, visit).map(|_| ())
    }

    /// Nodes reachable from `n` in `min..=max` hops of the step's edges, each
    /// once (parallel edges, self-loops and both directions reach a node
    /// again: walked per edge, nested steps would multiply them), in
    /// breadth-first order, into `out` (cleared first). `seen` is
    /// scratch space: every node discovered, in discovery order, which is
    /// also the queue.
    pub(crate) fn reach(
        &self,
        n: NodeId,
        step: &Step,
        out: &mut Vec<NodeId>,
        seen: &mut Vec<NodeId>,
    ) {
        out.clear();
        seen.clear();
        // Most reach sets are a few dozen nodes: a linear scan of `seen` beats
        // hashing; past that a hash set takes over.
        const SMALL: usize = 48;
        let mut big: Option<hashbrown::HashSet<NodeId>> = None;
        let mut first = |y: NodeId, seen: &mut Vec<NodeId>| -> bool {
            if let Some(set) = &mut big {
                return set.insert(y);
            }
            if seen.contains(&y) {
                return false;
            }
            if seen.len() >= SMALL {
                let mut set: hashbrown::HashSet<NodeId> = seen.iter().copied().collect();
                set.insert(y);
                big = Some(set);
            }
            true
        };
        // The start is reached again only through a cycle (at depth 1 or
        // more), so widening the bounds never loses a match.
        if step.min == 0 {
            first(n, seen);
            seen.push(n);
            out.push(n);
        }
        let mut lo = seen.len();
        let mut depth = 1u32;
        let mut expand = |x: NodeId, depth: u32, seen: &mut Vec<NodeId>, out: &mut Vec<NodeId>| {
            let mut visit = |y: NodeId| {
                if first(y, seen) {
                    seen.push(y);
                    if depth >= step.min {
                        out.push(y);
                    }
                }
            };
            self.for_neighbours(x, step, &mut visit);
        };
        expand(n, depth, seen, out);
        while lo < seen.len() && step.max.is_none_or(|m| depth < m) && seen.len() < MAX_REACH {
            depth += 1;
            let hi = seen.len();
            for i in lo..hi {
                if let Some(&x) = seen.get(i) {
                    expand(x, depth, seen, out);
                }
            }
            lo = hi;
        }
    }

    /// Calls `visit` for each neighbour of `n` over the step's edges, without
    /// collecting them.
    fn for_neighbours(&self, n: NodeId, step: &Step, visit: &mut dyn FnMut(NodeId)) {
        let g = self.graph;
        let dirs: &[Direction] = match step.direction {
            Direction::Out => &[Direction::Out],
            Direction::In => &[Direction::In],
            Direction::Either => &[Direction::Out, Direction::In],
        };
        for d in dirs {
            if step.edges.is_empty() {
                match d {
                    Direction::In => g.inc_all(n).for_each(|r| visit(r.other)),
                    _ => g.out_all(n).for_each(|r| visit(r.other)),
                }
            } else {
                for e in &step.edges {
                    let ns = match d {
                        Direction::In => g.inc(n, *e),
                        _ => g.out(n, *e),
                    };
                    ns.iter().for_each(|&y| visit(y));
                }
            }
        }
    }

    fn step(
        &self,
        steps: &'a [Step],
        i: usize,
        at: NodeId,
        f: &mut Frame<'a>,
        visit: &mut dyn FnMut(&Self, &mut Frame<'a>) -> Flow,
    ) -> Result<Flow, EvalError> {
        let Some(step) = steps.get(i) else { return Ok(visit(self, f)) };
        let depth = f.trail.len();
        // One hop over one edge kind (the common step) walks the graph's
        // adjacency slice directly; other steps collect their reach first.
        let mut owned = Vec::new();
        let reached: &[NodeId] = match (step.min, step.max, step.direction, &step.edges[..]) {
            (1, Some(1), Direction::Out, [e]) => self.graph.out(at, *e),
            (1, Some(1), Direction::In, [e]) => self.graph.inc(at, *e),
            _ => {
                let mut seen = f.scratch.pop().unwrap_or_default();
                owned = f.scratch.pop().unwrap_or_default();
                self.reach(at, step, &mut owned, &mut seen);
                f.scratch.push(seen);
                &owned
            }
        };
        let flow = 'scan: {
            for m in distinct(reached) {
                if let Err(e) = self.visit(step, f) {
                    break 'scan Err(e);
                }
                match self.admits(step, m, f) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => break 'scan Err(e),
                }
                f.trail.truncate(depth);
                f.trail.push(m);
                match self.step(steps, i + 1, m, f, visit) {
                    Ok(Flow::Continue) => {}
                    other => break 'scan other,
                }
            }
            Ok(Flow::Continue)
        };
        if owned.capacity() > 0 {
            f.scratch.push(owned);
        }
        flow
    }
}

/// The nodes of an adjacency slice, each once. Slices are sorted by node,
/// so parallel edges sit together; a step walks each neighbour once, as
/// [`Interpreter::reach`] does, or nested steps would multiply them.
#[inline]
pub(crate) fn distinct(slice: &[NodeId]) -> impl Iterator<Item = NodeId> + '_ {
    slice
        .iter()
        .enumerate()
        .filter(|&(i, m)| i == 0 || slice.get(i - 1) != Some(m))
        .map(|(_, &m)| m)
}

/// True when a value matches a pattern (`null` matches missing).
pub fn matches_pattern(p: &Pattern, v: &Value<'_>) -> bool {
    match p {
        Pattern::Any => true,
        Pattern::OneOf(cs) => cs.iter().any(|c| Value::from_const(c).equals(v)),
    }
}

/// An aggregate being computed.
struct Acc<'a> {
    agg: Agg,
    hit: bool,
    count: i64,
    best: Option<Value<'a>>,
}

impl<'a> Acc<'a> {
    fn new(agg: Agg) -> Self {
        Acc { agg, hit: agg == Agg::All, count: 0, best: None }
    }

    fn add(&mut self, v: Value<'a>) -> Result<(), String> {
        self.count += 1;
        match self.agg {
            Agg::Min | Agg::Max => {
                if matches!(v, Value::Missing) {
                    return Ok(());
                }
                let better = match &self.best {
                    None => true,
                    Some(b) => {
                        let o = v.compare(b);
                        if self.agg == Agg::Min {
                            o == Some(std::cmp::Ordering::Less)
                        } else {
                            o == Some(std::cmp::Ordering::Greater)
                        }
                    }
                };
                if better {
                    self.best = Some(v);
                }
            }
            Agg::Sum => {
                if matches!(v, Value::Missing) {
                    return Ok(());
                }
                self.best = Some(match self.best.take() {
                    None => v,
                    Some(b) => value::binary(crate::ir::Op::Add, &b, &v).map_err(|e| e.0)?,
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Value<'a> {
        match self.agg {
            Agg::Exists | Agg::All => Value::Bool(self.hit),
            Agg::Count => Value::Int(self.count),
            Agg::Min | Agg::Max => self.best.unwrap_or(Value::Missing),
            Agg::Sum => self.best.unwrap_or(Value::Int(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_walks_each_node_of_a_sorted_slice_once() {
        let ns: Vec<NodeId> = [1, 1, 2, 5, 5, 5, 7].into_iter().map(NodeId).collect();
        let got: Vec<u32> = distinct(&ns).map(|n| n.0).collect();
        assert_eq!(got, [1, 2, 5, 7]);
        assert_eq!(distinct(&[]).count(), 0);
    }
}
