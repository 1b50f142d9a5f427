//! The plan: conditions compiled for one graph, the one place where a
//! condition is evaluated for an audit (`audit::run`: rule filters,
//! `require`s and truth `let`s) and for a decision (`decide`'s clauses).
//!
//! The interpreter (`eval::engine`) walks the IR, builds a [`Value`] for
//! every attribute it reads and compares strings by their text. Audits run
//! one rule over every entity of a kind and a gateway runs the same clauses
//! for every request, both against one graph, so each condition is compiled
//! once more, for that graph:
//! - an attribute compared with a constant or `now` reads its value in place
//!   (from row-major [`Records`] when a decision engine built them, else
//!   from the graph's columns), and a string constant becomes the graph's
//!   interned symbol for that text, so `subject.type == "human"` is one
//!   integer compare, with no string read; `now - x.a > 90d` compares the
//!   attribute's age;
//! - a string input compared with constants (`action in [..]`) compares
//!   text, without cloning the input's value;
//! - `exists` over a path from a variable walks the adjacency in the
//!   interpreter's order, binding its variables; a step to a pinned
//!   variable binary-searches the sorted adjacency, and a kind test the
//!   schema guarantees is dropped;
//! - `and` and `or` chains are flattened, their leaves evaluated without a
//!   call each, and a `has` guard next to the comparison it guards dropped;
//! - reason templates read string attributes' text straight from the
//!   records ([`Piece`]).
//!
//! Everything else is handed to the interpreter as it is ([`Cond::Interp`]),
//! so the two agree by construction on all but the specialised forms, and
//! differential tests pin that they agree on those too, for decisions
//! (`decide::eval`) and audits (`audit`).

use super::engine::{EvalError, Frame, Interpreter as Interp, distinct};
use crate::domain::Direction;
use crate::graph::records::{Records, Use};
use crate::graph::{AttrId, EdgeKindId, Graph, KindId, NodeId, Raw, RawType};
use crate::ir::value::Value;
use crate::ir::{self, Agg, Bind, Const, Expr, ExprKind, Op, Slot, Source};

/// What compiled conditions evaluate against: the interpreter (graph,
/// time, fallback) and the engine's attribute records.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'e, 'a> {
    pub engine: &'e Interp<'a>,
    pub records: &'a Records,
}

/// `(kind, column)` for every kind that has an attribute.
type Cols = Box<[(KindId, AttrId)]>;

/// A condition compiled for one graph.
#[derive(Debug)]
pub(crate) enum Cond {
    /// A constant condition.
    Const(bool),
    /// Every one holds (short-circuit, in order).
    All(Box<[Cond]>),
    /// Any one holds (short-circuit, in order).
    Any(Box<[Cond]>),
    /// Negation.
    Not(Box<Cond>),
    /// A variable that holds `true`.
    Truthy(Slot),
    /// `x.a == "text"` (or `!=` when `eq` is false) for a string or enum
    /// attribute of the node in slot `node`. `sym` is the text's symbol in
    /// the graph; `None` when no attribute in the graph has this text, so
    /// that nothing equals it.
    Sym { node: Slot, cols: Cols, sym: Option<u32>, eq: bool },
    /// `x.a OP rhs` for a scalar attribute and a constant or `now`.
    Scalar { node: Slot, cols: Cols, op: Op, rhs: Rhs },
    /// `now - x.a OP limit` for a timestamp attribute and a constant
    /// duration: the attribute's age. `expr` is the whole comparison, for
    /// the interpreter's error when the subtraction overflows.
    Since { node: Slot, cols: Cols, op: Op, limit: i64, expr: Expr },
    /// `x has a`.
    Has { node: Slot, cols: Cols },
    /// A string-valued variable equal to (`in`) one of `items` when `want`
    /// is true, equal to none of them when false.
    Text { slot: Slot, items: Box<[Box<str>]>, want: bool },
    /// `exists from -[..]-> x .. where cond`: a path from a variable.
    Exists { from: Slot, hops: Box<[Hop]>, cond: Option<Box<Cond>> },
    /// Anything else: the interpreter's [`Interp::test`].
    Interp(Expr),
}

/// One step of a [`Cond::Exists`] path.
#[derive(Debug)]
pub(crate) struct Hop {
    /// One hop over one edge kind, out or in (`true`): the graph's
    /// adjacency slice itself, sorted by node.
    edge: Option<(EdgeKindId, bool)>,
    /// The step: its binding, and the interpreter's reach when `edge` is `None`.
    step: ir::Step,
    kinds: Box<[KindId]>,
    filter: Option<Cond>,
}

/// The right-hand side of a [`Cond::Scalar`], of the attribute's type.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rhs {
    Bool(bool),
    Int(i64),
    Time(i64),
    Duration(i64),
    /// The request's time (a timestamp).
    Now,
}

impl Cond {
    /// Adds the attributes its leaves read to `out`, with what they read of
    /// them (for [`Records::build`]).
    pub(crate) fn fields(&self, out: &mut Vec<(KindId, AttrId, Use)>) {
        match self {
            Cond::Sym { cols, .. } | Cond::Scalar { cols, .. } | Cond::Since { cols, .. } => {
                out.extend(cols.iter().map(|&(k, a)| (k, a, Use::Value)));
            }
            Cond::Has { cols, .. } => out.extend(cols.iter().map(|&(k, a)| (k, a, Use::Presence))),
            Cond::All(xs) | Cond::Any(xs) => xs.iter().for_each(|x| x.fields(out)),
            Cond::Not(x) => x.fields(out),
            Cond::Exists { hops, cond, .. } => {
                for f in hops.iter().filter_map(|h| h.filter.as_ref()) {
                    f.fields(out);
                }
                if let Some(c) = cond {
                    c.fields(out);
                }
            }
            Cond::Const(_) | Cond::Truthy(_) | Cond::Text { .. } | Cond::Interp(_) => {}
        }
    }
}

/// Adds the attributes a compiled template reads to `out`.
pub(crate) fn template_fields(pieces: &[Piece], out: &mut Vec<(KindId, AttrId, Use)>) {
    for p in pieces {
        if let Piece::Str { cols, .. } = p {
            out.extend(cols.iter().map(|&(k, a)| (k, a, Use::Text)));
        }
    }
}

/// Compiles a condition for `graph` (see the module documentation).
pub(crate) fn compile(e: &Expr, graph: &Graph) -> Cond {
    match &e.kind {
        ExprKind::Const(c) => Cond::Const(matches!(c, Const::Bool(true))),
        ExprKind::Local(s) => Cond::Truthy(*s),
        ExprKind::And(a, b) => flatten(true, compile(a, graph), compile(b, graph)),
        ExprKind::Or(a, b) => flatten(false, compile(a, graph), compile(b, graph)),
        ExprKind::Not(x) => Cond::Not(Box::new(compile(x, graph))),
        ExprKind::Has { node, slots, .. } => match local(node) {
            Some(node) => Cond::Has { node, cols: slots.clone().into_boxed_slice() },
            None => Cond::Interp(e.clone()),
        },
        ExprKind::Binary(op, a, b) => {
            comparison(e, *op, a, b, graph).unwrap_or_else(|| Cond::Interp(e.clone()))
        }
        ExprKind::Aggregate { agg: Agg::Exists, source, cond, projection: None } => {
            exists(source, cond.as_deref(), graph).unwrap_or_else(|| Cond::Interp(e.clone()))
        }
        _ => Cond::Interp(e.clone()),
    }
}

/// Whether the interpreter's value of `e` is always a bool equal to its
/// truth as a condition: quantifiers `exists` and `all`, `and`, `or` and
/// `not` (a let of such a value compiles like a clause).
pub(crate) fn is_truth(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Aggregate { agg: Agg::Exists | Agg::All, .. }
            | ExprKind::And(..)
            | ExprKind::Or(..)
            | ExprKind::Not(_)
    )
}

/// `a and b` (`all`) or `a or b`, merging nested chains of the same kind.
fn flatten(all: bool, a: Cond, b: Cond) -> Cond {
    let mut items = Vec::new();
    for c in [a, b] {
        match c {
            Cond::All(xs) if all => items.extend(xs),
            Cond::Any(xs) if !all => items.extend(xs),
            other => items.push(other),
        }
    }
    if !all {
        return Cond::Any(items.into());
    }
    // `x has a and x.a < c`: the comparison is false when the attribute is
    // missing, so the guard the checker requires adds nothing (and the
    // two are next to each other, so no condition that could fail runs
    // where it did not).
    let mut kept: Vec<Cond> = Vec::with_capacity(items.len());
    for c in items {
        if let Some(Cond::Has { node, cols }) = kept.last()
            && covers(&c, *node, cols)
        {
            kept.pop();
        }
        kept.push(c);
    }
    Cond::All(kept.into())
}

/// Whether `c` is false whenever attribute `cols` of `node` is missing.
fn covers(c: &Cond, node: Slot, cols: &[(KindId, AttrId)]) -> bool {
    match c {
        Cond::Scalar { node: n, cols: k, op, .. } | Cond::Since { node: n, cols: k, op, .. } => {
            *n == node && **k == *cols && *op != Op::Ne
        }
        Cond::Sym { node: n, cols: k, eq: true, .. } => *n == node && **k == *cols,
        _ => false,
    }
}

fn local(e: &Expr) -> Option<Slot> {
    match e.kind {
        ExprKind::Local(s) => Some(s),
        _ => None,
    }
}

/// An attribute of a variable: its slot and columns.
fn attr_of(e: &Expr) -> Option<(Slot, &[(KindId, AttrId)])> {
    match &e.kind {
        ExprKind::Attr { node, slots, .. } => Some((local(node)?, slots)),
        _ => None,
    }
}

/// `now - x.a`: the attribute whose age it is.
fn age_of(x: &Expr) -> Option<(Slot, &[(KindId, AttrId)])> {
    match &x.kind {
        ExprKind::Binary(Op::Sub, l, r) if matches!(l.kind, ExprKind::Now) => attr_of(r),
        _ => None,
    }
}

/// The one type of every column of an attribute in `graph` (`None` when
/// they differ or one is absent: then the interpreter decides).
fn column_type(cols: &[(KindId, AttrId)], graph: &Graph) -> Option<RawType> {
    let mut ty = None;
    for (k, a) in cols {
        let t = graph.raw_type(*k, *a)?;
        if ty.is_some_and(|u| u != t) {
            return None;
        }
        ty = Some(t);
    }
    ty
}

/// A comparison the specialised forms cover, or `None`.
fn comparison(e: &Expr, op: Op, a: &Expr, b: &Expr, graph: &Graph) -> Option<Cond> {
    // The age of a timestamp attribute against a duration: `now - x.a > 90d`.
    let aged = match (age_of(a), age_of(b)) {
        (Some(x), None) => Some((x, b, op)),
        (None, Some(x)) => Some((x, a, flip(op)?)),
        _ => None,
    };
    if let Some(((node, cols), other, op)) = aged {
        return match other.kind {
            ExprKind::Const(Const::Duration(d))
                if column_type(cols, graph) == Some(RawType::Time)
                    && matches!(op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge) =>
            {
                Some(Cond::Since { node, cols: cols.into(), op, limit: d.0, expr: e.clone() })
            }
            _ => None,
        };
    }
    // A string variable against constants: `action == "x"`, `action in [..]`.
    if let Some(slot) = local(a) {
        let want = matches!(op, Op::Eq | Op::In);
        let items: Vec<Box<str>> = match (op, &b.kind) {
            (Op::Eq | Op::Ne, ExprKind::Const(Const::Str(s))) => vec![Box::from(&**s)],
            (Op::In | Op::NotIn, ExprKind::Const(Const::List(xs))) => xs
                .iter()
                .map(|c| match c {
                    Const::Str(s) => Some(Box::from(&**s)),
                    _ => None,
                })
                .collect::<Option<_>>()?,
            _ => return None,
        };
        return Some(Cond::Text { slot, items: items.into(), want });
    }
    // An attribute against a constant or `now`, either way round.
    let (attr, other, op) = match (attr_of(a), attr_of(b)) {
        (Some(x), None) => (x, b, op),
        (None, Some(x)) => (x, a, flip(op)?),
        _ => return None,
    };
    let (node, cols) = attr;
    let ty = column_type(cols, graph)?;
    let cols: Cols = cols.into();
    let rhs = match (&other.kind, ty) {
        (ExprKind::Const(Const::Str(s)), RawType::Str) => {
            let eq = match op {
                Op::Eq => true,
                Op::Ne => false,
                _ => return None,
            };
            return Some(Cond::Sym { node, cols, sym: graph.string_sym(s), eq });
        }
        (ExprKind::Const(Const::Bool(v)), RawType::Bool) if matches!(op, Op::Eq | Op::Ne) => {
            Rhs::Bool(*v)
        }
        (ExprKind::Const(Const::Int(v)), RawType::Int) => Rhs::Int(*v),
        (ExprKind::Const(Const::Time(t)), RawType::Time) => Rhs::Time(t.0),
        (ExprKind::Const(Const::Duration(d)), RawType::Duration) => Rhs::Duration(d.0),
        (ExprKind::Now, RawType::Time) => Rhs::Now,
        _ => return None,
    };
    matches!(op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge).then_some(Cond::Scalar {
        node,
        cols,
        op,
        rhs,
    })
}

/// The operator with its operands swapped (`c < x` is `x > c`).
fn flip(op: Op) -> Option<Op> {
    Some(match op {
        Op::Eq | Op::Ne => op,
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        _ => return None,
    })
}

/// `exists x -[..]-> .. where ..`, a path from a variable.
fn exists(source: &Source, cond: Option<&Expr>, graph: &Graph) -> Option<Cond> {
    let Source::Path(p) = source else { return None };
    let hops = p
        .steps
        .iter()
        .map(|step| {
            let edge = match (step.min, step.max, step.direction, &step.edges[..]) {
                (1, Some(1), Direction::Out, [e]) => Some((*e, false)),
                (1, Some(1), Direction::In, [e]) => Some((*e, true)),
                _ => None,
            };
            // A kind test the schema already guarantees is dropped: the
            // graph keeps no edge the schema does not allow.
            let guaranteed = edge.is_some_and(|(e, incoming)| {
                graph.schema().edge_def(e).is_some_and(|d| {
                    let far = if incoming { &d.from } else { &d.to };
                    !far.is_empty() && far.iter().all(|k| step.kinds.contains(k))
                })
            });
            Hop {
                edge,
                step: step.clone(),
                kinds: if guaranteed { Box::default() } else { step.kinds.clone().into() },
                filter: step.filter.as_ref().map(|f| compile(f, graph)),
            }
        })
        .collect();
    Some(Cond::Exists {
        from: local(&p.start)?,
        hops,
        cond: cond.map(|c| Box::new(compile(c, graph))),
    })
}

/// A piece of a reason template compiled for a graph.
#[derive(Debug)]
pub(crate) enum Piece {
    /// Literal text.
    Text(std::sync::Arc<str>),
    /// `{x.a}` for a string or enum attribute: its text straight from the
    /// graph's strings; `expr` (the hole) when it is missing.
    Str { node: Slot, cols: Cols, expr: Expr },
    /// Any other hole, through the interpreter.
    Hole(Expr),
}

/// Compiles a reason template for `graph`.
pub(crate) fn template(t: &ir::Template, graph: &Graph) -> Box<[Piece]> {
    t.parts
        .iter()
        .map(|p| match p {
            ir::TemplatePart::Text(x) => Piece::Text(x.clone()),
            ir::TemplatePart::Expr(e) => match attr_of(e) {
                Some((node, cols)) if column_type(cols, graph) == Some(RawType::Str) => {
                    Piece::Str { node, cols: cols.into(), expr: e.clone() }
                }
                _ => Piece::Hole(e.clone()),
            },
        })
        .collect()
}

/// Renders a compiled template: the text [`Interp::template`] renders
/// from the template it was compiled from.
pub(crate) fn render<'a>(pieces: &'a [Piece], cx: Cx<'_, 'a>, f: &mut Frame<'a>) -> String {
    let guess = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(x) => x.len(),
            _ => 24,
        })
        .sum();
    let mut out = String::with_capacity(guess);
    for p in pieces {
        let hole = match p {
            Piece::Text(x) => {
                out.push_str(x);
                continue;
            }
            Piece::Str { node, cols, expr } => {
                match node_in(f, *node).and_then(|n| cx.records.text(cx.engine.graph, n, cols)) {
                    Some(text) => {
                        out.push_str(text);
                        continue;
                    }
                    None => expr,
                }
            }
            Piece::Hole(e) => e,
        };
        cx.engine.hole_into(hole, f, &mut out);
    }
    out
}

/// The node in a slot, if it holds one.
#[inline]
fn node_in(f: &Frame<'_>, slot: Slot) -> Option<NodeId> {
    match f.slots.get(usize::from(slot)) {
        Some(Value::Node(n)) => Some(*n),
        _ => None,
    }
}

impl Cond {
    /// Whether the condition holds: the same answer, bindings and errors
    /// as [`Interp::test`] on the expression it was compiled from.
    pub(crate) fn holds<'a>(
        &'a self,
        cx: Cx<'_, 'a>,
        f: &mut Frame<'a>,
    ) -> Result<bool, EvalError> {
        if let Some(b) = self.leaf(cx, f) {
            return Ok(b);
        }
        Ok(match self {
            Cond::All(xs) => {
                for x in xs.iter() {
                    let b = match x.leaf(cx, f) {
                        Some(b) => b,
                        None => x.holds(cx, f)?,
                    };
                    if !b {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Any(xs) => {
                for x in xs.iter() {
                    let b = match x.leaf(cx, f) {
                        Some(b) => b,
                        None => x.holds(cx, f)?,
                    };
                    if b {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::Not(x) => !x.holds(cx, f)?,
            // The one way a leaf has no answer: the age overflowed, and the
            // interpreter says how.
            Cond::Since { expr, .. } => interp(expr, cx.engine, f)?,
            Cond::Exists { from, hops, cond } => match node_in(f, *from) {
                Some(start) => walk(hops, start, cond.as_deref(), cx, f)?,
                None => false,
            },
            Cond::Interp(e) => interp(e, cx.engine, f)?,
            Cond::Const(_)
            | Cond::Truthy(_)
            | Cond::Sym { .. }
            | Cond::Scalar { .. }
            | Cond::Has { .. }
            | Cond::Text { .. } => false,
        })
    }

    /// [`Cond::holds`], with a leaf evaluated in place (no call).
    #[inline(always)]
    fn test<'a>(&'a self, cx: Cx<'_, 'a>, f: &mut Frame<'a>) -> Result<bool, EvalError> {
        match self.leaf(cx, f) {
            Some(b) => Ok(b),
            None => self.holds(cx, f),
        }
    }

    /// A leaf that cannot fail, evaluated in place: a condition's `and`
    /// and `or` evaluate their leaves without a call each. `None` for the
    /// other conditions (and for an age whose subtraction overflows).
    #[inline(always)]
    fn leaf<'a>(&'a self, cx: Cx<'_, 'a>, f: &Frame<'a>) -> Option<bool> {
        let g = cx.engine.graph;
        Some(match self {
            Cond::Const(b) => *b,
            Cond::Truthy(s) => f.slots.get(usize::from(*s)).is_some_and(Value::truthy),
            Cond::Sym { node, cols, sym, eq } => {
                let v = match node_in(f, *node).map(|n| cx.records.raw(g, n, cols)) {
                    Some(Raw::Sym(v)) => Some(v),
                    _ => None,
                };
                (v.is_some() && v == *sym) == *eq
            }
            Cond::Scalar { node, cols, op, rhs } => {
                let v = node_in(f, *node).map_or(Raw::Missing, |n| cx.records.raw(g, n, cols));
                scalar(v, *op, *rhs, cx.engine.now.0)
            }
            Cond::Since { node, cols, op, limit, .. } => {
                let v = match node_in(f, *node).map(|n| cx.records.raw(g, n, cols)) {
                    Some(Raw::Time(t)) => Raw::Duration(cx.engine.now.0.checked_sub(t)?),
                    _ => Raw::Missing,
                };
                scalar(v, *op, Rhs::Duration(*limit), cx.engine.now.0)
            }
            Cond::Has { node, cols } => {
                node_in(f, *node).is_some_and(|n| cx.records.has(g, n, cols))
            }
            Cond::Text { slot, items, want } => {
                let found = match f.slots.get(usize::from(*slot)) {
                    Some(Value::Str(s)) => items.iter().any(|i| **i == **s),
                    _ => false,
                };
                found == *want
            }
            _ => return None,
        })
    }
}

/// The rest of a path from `at`: whether some match of `hops` satisfies
/// `cond`, in the interpreter's order (depth first, nodes in adjacency
/// order), binding its variables as it goes. Out of line: it keeps
/// [`Cond::holds`], which runs for every node of every condition, small.
#[inline(never)]
fn walk<'a>(
    hops: &'a [Hop],
    at: NodeId,
    cond: Option<&'a Cond>,
    cx: Cx<'_, 'a>,
    f: &mut Frame<'a>,
) -> Result<bool, EvalError> {
    let Some((hop, rest)) = hops.split_first() else {
        return match cond {
            Some(c) => c.holds(cx, f),
            None => Ok(true),
        };
    };
    let g = cx.engine.graph;
    let Some((edge, incoming)) = hop.edge else {
        // A variable-length or multi-kind step: its reach, as the
        // interpreter computes it, in buffers the frame keeps.
        let mut seen = f.scratch.pop().unwrap_or_default();
        let mut reached = f.scratch.pop().unwrap_or_default();
        cx.engine.reach(at, &hop.step, &mut reached, &mut seen);
        f.scratch.push(seen);
        let mut found = Ok(false);
        for &m in &reached {
            found = cx.engine.visit(&hop.step, f).and_then(|()| hop.next(m, rest, cond, cx, f));
            if !matches!(found, Ok(false)) {
                break;
            }
        }
        f.scratch.push(reached);
        return found;
    };
    let reached = if incoming { g.inc(at, edge) } else { g.out(at, edge) };
    if let Bind::Pinned(s) = hop.step.bind {
        // Only the pinned node can match, and the slice is sorted by node.
        // (Parallel edges list it more than once; each would give the
        // same answer as the first.)
        return match node_in(f, s) {
            Some(p) if reached.binary_search(&p).is_ok() => {
                cx.engine.visit(&hop.step, f)?;
                hop.next(p, rest, cond, cx, f)
            }
            _ => Ok(false),
        };
    }
    for m in distinct(reached) {
        cx.engine.visit(&hop.step, f)?;
        if hop.next(m, rest, cond, cx, f)? {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Hop {
    /// Whether `m`, reached by this hop, is admitted (kind, binding,
    /// filter) and the rest of the path matches from it.
    #[inline]
    fn next<'a>(
        &'a self,
        m: NodeId,
        rest: &'a [Hop],
        cond: Option<&'a Cond>,
        cx: Cx<'_, 'a>,
        f: &mut Frame<'a>,
    ) -> Result<bool, EvalError> {
        if !self.kinds.is_empty() && !self.kinds.contains(&cx.records.kind(cx.engine.graph, m)) {
            return Ok(false);
        }
        match self.step.bind {
            Bind::Anonymous => {}
            Bind::New(s) => match f.slots.get_mut(usize::from(s)) {
                Some(slot) => *slot = Value::Node(m),
                None => f.set(s, Value::Node(m)),
            },
            Bind::Pinned(s) => {
                if node_in(f, s) != Some(m) {
                    return Ok(false);
                }
            }
        }
        if let Some(x) = &self.filter
            && !x.test(cx, f)?
        {
            return Ok(false);
        }
        // The last step: the condition itself, without a call to `walk`.
        if rest.is_empty() {
            return match cond {
                Some(c) => c.test(cx, f),
                None => Ok(true),
            };
        }
        walk(rest, m, cond, cx, f)
    }
}

/// [`Cond::Interp`], out of line for the same reason as [`walk`].
#[inline(never)]
fn interp<'a>(e: &'a Expr, engine: &Interp<'a>, f: &mut Frame<'a>) -> Result<bool, EvalError> {
    engine.test(e, f)
}

/// `v OP rhs` as the interpreter compares them: a missing value equals
/// nothing (so `!=` holds) and orders against nothing.
#[inline]
fn scalar(v: Raw, op: Op, rhs: Rhs, now: i64) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (v, rhs) {
        (Raw::Bool(a), Rhs::Bool(b)) => return (a == b) == (op == Op::Eq),
        (Raw::Int(a), Rhs::Int(b))
        | (Raw::Time(a), Rhs::Time(b))
        | (Raw::Duration(a), Rhs::Duration(b)) => Some(a.cmp(&b)),
        (Raw::Time(a), Rhs::Now) => Some(a.cmp(&now)),
        _ => None,
    };
    match (ord, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Lt) => o == Ordering::Less,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Ge) => o != Ordering::Less,
        (Some(_), _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    #[test]
    fn scalar_compares_as_values_do() {
        use crate::ir::value::{Value as V, compare_op};
        let now = 50;
        let raws =
            [Raw::Missing, Raw::Int(1), Raw::Int(2), Raw::Time(40), Raw::Time(50), Raw::Time(60)];
        let value = |r: Raw| match r {
            Raw::Int(i) => V::Int(i),
            Raw::Time(t) => V::Time(Timestamp(t)),
            _ => V::Missing,
        };
        for op in [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge] {
            for r in raws {
                for (rhs, v) in [
                    (Rhs::Int(1), V::Int(1)),
                    (Rhs::Int(2), V::Int(2)),
                    (Rhs::Time(50), V::Time(Timestamp(50))),
                    (Rhs::Now, V::Time(Timestamp(now))),
                ] {
                    let want = compare_op(op, &value(r), &v);
                    assert_eq!(Some(scalar(r, op, rhs, now)), want, "{r:?} {op:?} {rhs:?}");
                }
            }
        }
        for (r, b) in [(Raw::Missing, true), (Raw::Bool(true), true), (Raw::Bool(false), true)] {
            let v = match r {
                Raw::Bool(x) => V::Bool(x),
                _ => V::Missing,
            };
            for op in [Op::Eq, Op::Ne] {
                assert_eq!(Some(scalar(r, op, Rhs::Bool(b), now)), compare_op(op, &v, &V::Bool(b)));
            }
        }
    }
}
