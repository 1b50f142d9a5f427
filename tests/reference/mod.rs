//! A small reference interpreter for rules and exceptions, written directly
//! over the AST with string names and `HashMap` environments. It is the test
//! oracle for the IR evaluator: slow, naive and meant to be obviously correct.
//!
//! Semantics (mirrors the README's language guide):
//! - a rule ranges over all nodes of its `for` kind; a `where` filter that is
//!   not `true` leaves the entity unchecked; lets evaluate in order; the first
//!   `require` that is not `true` is a violation; an evaluation error (division
//!   by zero, overflow) is an error finding;
//! - an absent attribute is missing; `==` treats missing as `null`; ordering
//!   comparisons with missing are false; only `true` is true in a condition;
//! - a path's matches are the distinct tuples of step endpoints; a step reaches
//!   its neighbours (plain step) or the nodes whose shortest walk (of one hop
//!   or more, unless `*0..`) over the step's edges lies within its bounds; a kind annotation filters; a
//!   name already bound to a node, written without a kind, pins the endpoint;
//! - `count` and `sum` count distinct tuples of the path's named binders, or
//!   distinct node sequences when the path names none;
//! - an exception waives a violation when it names the rule, has not expired
//!   (`until` holds through the end of that day) and its `when` is true in the
//!   rule's environment at the failing `require`.
#![allow(dead_code)]

pub mod generate;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use gov::syntax::ast::{
    Aggregator, BinaryOp, Binder, Direction, ExceptionClauseKind, Expr, ExprKind, Item, Literal,
    Module, PathPattern, PatternAlt, Quantifier, Rule, RuleClauseKind, SeveritySpec, Source, Step,
    UnaryOp,
};

/// A value.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Missing,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Seconds since the epoch.
    Time(i64),
    /// Seconds.
    Dur(i64),
    Node(usize),
    List(Vec<V>),
}

/// A node of the reference graph.
#[derive(Clone, Debug)]
pub struct RNode {
    pub id: String,
    pub kind: String,
    pub attrs: HashMap<String, V>,
}

/// The reference graph: nodes and `(from, to, kind)` edges.
#[derive(Clone, Debug, Default)]
pub struct RGraph {
    pub nodes: Vec<RNode>,
    pub edges: Vec<(usize, usize, String)>,
}

/// One finding, as compared with the engine's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RFinding {
    pub rule: String,
    pub entity: String,
    pub error: bool,
    pub waived_by: Option<String>,
    /// `critical` ... `info`.
    pub severity: &'static str,
    /// From `priority by` (evaluated with only the entity and its service).
    pub priority: Option<u8>,
    /// The entity's business service (id).
    pub service: Option<String>,
}

/// What the reference audit finds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ROutcome {
    pub findings: BTreeSet<RFinding>,
    /// Rule id to the number of entities in scope.
    pub checked: BTreeMap<String, usize>,
    /// Some evaluation ran past its walk limit (the outcome is not compared).
    pub walk_limited: bool,
}

type Env = HashMap<String, V>;

/// The environment key of the rule's entity (not a valid name in the language).
const ENTITY: &str = "@entity";

struct Interp<'a> {
    g: &'a RGraph,
    now: i64,
    /// Nodes visited by path steps for the current entity, against `limit`,
    /// and in the whole audit, against `budget`.
    walked: std::cell::Cell<u64>,
    total: std::cell::Cell<u64>,
    limit: u64,
    budget: u64,
    limited: std::cell::Cell<bool>,
}

fn truthy(v: &V) -> bool {
    matches!(v, V::Bool(true))
}

fn equals(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Int(x), V::Float(y)) | (V::Float(y), V::Int(x)) => (*x as f64) == *y,
        (V::List(x), V::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equals(p, q))
        }
        _ => a == b,
    }
}

fn order(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Float(x), V::Float(y)) => x.partial_cmp(y),
        (V::Int(x), V::Float(y)) => (*x as f64).partial_cmp(y),
        (V::Float(x), V::Int(y)) => x.partial_cmp(&(*y as f64)),
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) | (V::Dur(x), V::Dur(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn literal(l: &Literal) -> V {
    match l {
        Literal::Null => V::Missing,
        Literal::Bool(b) => V::Bool(*b),
        Literal::Int(i) => V::Int(*i),
        Literal::Float(f) => V::Float(*f),
        Literal::Str(s) => V::Str(s.clone()),
        Literal::Duration(d) => V::Dur(d.0),
        Literal::Time(t) => V::Time(t.0),
    }
}

fn ovf(x: Option<i64>) -> Result<i64, String> {
    x.ok_or_else(|| "arithmetic overflow".to_owned())
}

fn arith(op: BinaryOp, a: &V, b: &V) -> Result<V, String> {
    use V::*;
    if matches!(op, BinaryOp::Div | BinaryOp::Rem) && matches!(b, Int(0) | Dur(0)) {
        return Err("division by zero".into());
    }
    Ok(match (op, a, b) {
        (BinaryOp::Add, Int(x), Int(y)) => Int(ovf(x.checked_add(*y))?),
        (BinaryOp::Sub, Int(x), Int(y)) => Int(ovf(x.checked_sub(*y))?),
        (BinaryOp::Mul, Int(x), Int(y)) => Int(ovf(x.checked_mul(*y))?),
        (BinaryOp::Div, Int(x), Int(y)) => Int(ovf(x.checked_div(*y))?),
        (BinaryOp::Rem, Int(x), Int(y)) => Int(ovf(x.checked_rem(*y))?),
        (BinaryOp::Add, Time(t), Dur(d)) | (BinaryOp::Add, Dur(d), Time(t)) => {
            Time(ovf(t.checked_add(*d))?)
        }
        (BinaryOp::Sub, Time(t), Dur(d)) => Time(ovf(t.checked_sub(*d))?),
        (BinaryOp::Sub, Time(x), Time(y)) => Dur(ovf(x.checked_sub(*y))?),
        (BinaryOp::Add, Dur(x), Dur(y)) => Dur(ovf(x.checked_add(*y))?),
        (BinaryOp::Sub, Dur(x), Dur(y)) => Dur(ovf(x.checked_sub(*y))?),
        (BinaryOp::Mul, Dur(d), Int(n)) | (BinaryOp::Mul, Int(n), Dur(d)) => {
            Dur(ovf(d.checked_mul(*n))?)
        }
        (BinaryOp::Div, Dur(d), Int(n)) => Dur(ovf(d.checked_div(*n))?),
        (BinaryOp::Add, Str(x), Str(y)) => Str(format!("{x}{y}")),
        // The generator never makes floats; a missing operand gives missing.
        _ => Missing,
    })
}

/// One match of a path: the environment with the new binders, and the
/// values of the named (non-pinned) binders in order.
struct Match {
    env: Env,
    key: Vec<usize>,
}

impl Interp<'_> {
    fn eval(&self, e: &Expr, env: &Env) -> Result<V, String> {
        Ok(match &e.kind {
            ExprKind::Null => V::Missing,
            ExprKind::Bool(b) => V::Bool(*b),
            ExprKind::Int(i) => V::Int(*i),
            ExprKind::Float(f) => V::Float(*f),
            ExprKind::Str(s) => V::Str(s.clone()),
            ExprKind::Duration(d) => V::Dur(d.0),
            ExprKind::Time(t) => V::Time(t.0),
            ExprKind::Now => V::Time(self.now),
            ExprKind::List(xs) => {
                V::List(xs.iter().map(|x| self.eval(x, env)).collect::<Result<_, _>>()?)
            }
            ExprKind::Var(n) => match env.get(&n.name) {
                Some(v) => v.clone(),
                None if n.name == "service" => {
                    let entity = env.get(ENTITY).expect("the rule's entity");
                    let V::Node(e) = entity else { unreachable!() };
                    self.service_of(*e).map_or(V::Missing, V::Node)
                }
                None => panic!("reference: unbound name `{}`", n.name),
            },
            ExprKind::Field(obj, name) => match self.eval(obj, env)? {
                V::Node(n) => self.g.nodes[n].attrs.get(&name.name).cloned().unwrap_or(V::Missing),
                _ => V::Missing,
            },
            ExprKind::Has(obj, name) => match self.eval(obj, env)? {
                V::Node(n) => V::Bool(self.g.nodes[n].attrs.contains_key(&name.name)),
                _ => V::Bool(false),
            },
            ExprKind::Call(callee, args) => {
                let ExprKind::Var(f) = &callee.kind else { panic!("reference: method call") };
                let vals: Vec<V> =
                    args.iter().map(|a| self.eval(a, env)).collect::<Result<_, _>>()?;
                match (f.name.as_str(), vals.as_slice()) {
                    ("default", [x, d]) => {
                        if *x == V::Missing {
                            d.clone()
                        } else {
                            x.clone()
                        }
                    }
                    ("id", [V::Node(n)]) => V::Str(self.g.nodes[*n].id.clone()),
                    ("days", [V::Dur(d)]) => V::Int(d.div_euclid(86_400)),
                    (other, _) => panic!("reference: unsupported call `{other}`"),
                }
            }
            ExprKind::Unary(UnaryOp::Not, x) => V::Bool(!truthy(&self.eval(x, env)?)),
            ExprKind::Unary(UnaryOp::Neg, x) => match self.eval(x, env)? {
                V::Int(i) => V::Int(ovf(i.checked_neg())?),
                V::Dur(d) => V::Dur(ovf(d.checked_neg())?),
                _ => V::Missing,
            },
            ExprKind::Binary(BinaryOp::And, a, b) => {
                V::Bool(truthy(&self.eval(a, env)?) && truthy(&self.eval(b, env)?))
            }
            ExprKind::Binary(BinaryOp::Or, a, b) => {
                V::Bool(truthy(&self.eval(a, env)?) || truthy(&self.eval(b, env)?))
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.eval(a, env)?;
                let y = self.eval(b, env)?;
                match op {
                    BinaryOp::Eq => V::Bool(equals(&x, &y)),
                    BinaryOp::Ne => V::Bool(!equals(&x, &y)),
                    BinaryOp::Lt => V::Bool(order(&x, &y) == Some(Ordering::Less)),
                    BinaryOp::Le => {
                        V::Bool(matches!(order(&x, &y), Some(o) if o != Ordering::Greater))
                    }
                    BinaryOp::Gt => V::Bool(order(&x, &y) == Some(Ordering::Greater)),
                    BinaryOp::Ge => {
                        V::Bool(matches!(order(&x, &y), Some(o) if o != Ordering::Less))
                    }
                    BinaryOp::In | BinaryOp::NotIn => {
                        let found = match (&x, &y) {
                            (_, V::List(xs)) => xs.iter().any(|v| equals(v, &x)),
                            (V::Str(n), V::Str(h)) => h.contains(n.as_str()),
                            _ => false,
                        };
                        V::Bool(found == (*op == BinaryOp::In))
                    }
                    _ => arith(*op, &x, &y)?,
                }
            }
            ExprKind::If(c, a, b) => {
                if truthy(&self.eval(c, env)?) {
                    self.eval(a, env)?
                } else {
                    self.eval(b, env)?
                }
            }
            ExprKind::Match(x, arms) => {
                let v = self.eval(x, env)?;
                for arm in arms {
                    let hit = arm.pattern.alts.iter().any(|alt| match alt {
                        PatternAlt::Wildcard => true,
                        PatternAlt::Literal(l) => equals(&literal(l), &v),
                    });
                    if hit {
                        return self.eval(&arm.value, env);
                    }
                }
                V::Missing
            }
            ExprKind::Quantified { quantifier, source, cond } => {
                let ms = self.matches(source, env)?;
                let mut result = *quantifier == Quantifier::All;
                for m in &ms {
                    let ok = match cond {
                        Some(c) => truthy(&self.eval(c, &m.env)?),
                        None => true,
                    };
                    match quantifier {
                        Quantifier::Exists if ok => {
                            result = true;
                            break;
                        }
                        Quantifier::All if !ok => {
                            result = false;
                            break;
                        }
                        _ => {}
                    }
                }
                V::Bool(result)
            }
            ExprKind::Aggregate { aggregator, source, filter, projection } => {
                let mut passing = Vec::new();
                for m in self.matches(source, env)? {
                    let ok = match filter {
                        Some(c) => truthy(&self.eval(c, &m.env)?),
                        None => true,
                    };
                    if ok {
                        passing.push(m);
                    }
                }
                match aggregator {
                    Aggregator::Count => {
                        let distinct: BTreeSet<Vec<usize>> =
                            passing.iter().map(|m| m.key.clone()).collect();
                        let has_named = passing.first().is_some_and(|m| !m.key.is_empty());
                        V::Int(if has_named { distinct.len() } else { passing.len() } as i64)
                    }
                    Aggregator::Min | Aggregator::Max => {
                        let p = projection.as_ref().expect("min/max need a projection here");
                        let mut best: Option<V> = None;
                        for m in &passing {
                            let v = self.eval(p, &m.env)?;
                            if v == V::Missing {
                                continue;
                            }
                            let better = match &best {
                                None => true,
                                Some(b) => {
                                    let want = if *aggregator == Aggregator::Min {
                                        Ordering::Less
                                    } else {
                                        Ordering::Greater
                                    };
                                    order(&v, b) == Some(want)
                                }
                            };
                            if better {
                                best = Some(v);
                            }
                        }
                        best.unwrap_or(V::Missing)
                    }
                    Aggregator::Sum => {
                        let p = projection.as_ref().expect("sum needs a projection here");
                        let mut seen = BTreeSet::new();
                        let mut total = V::Int(0);
                        for m in &passing {
                            if !m.key.is_empty() && !seen.insert(m.key.clone()) {
                                continue;
                            }
                            let v = self.eval(p, &m.env)?;
                            if v != V::Missing {
                                total = arith(BinaryOp::Add, &total, &v)?;
                            }
                        }
                        total
                    }
                }
            }
        })
    }

    /// The business service of an entity: itself for a service; else the
    /// most critical (lowest tier, then lowest id) service it supports; else,
    /// for a credential, the one its holders support.
    fn service_of(&self, n: usize) -> Option<usize> {
        let g = self.g;
        if g.nodes[n].kind == "service" {
            return Some(n);
        }
        let supported = |x: usize| -> Vec<usize> {
            g.edges
                .iter()
                .filter(|(a, _, k)| *a == x && k == "supports")
                .map(|(_, b, _)| *b)
                .collect()
        };
        let mut candidates = supported(n);
        if candidates.is_empty() {
            for (a, b, k) in &g.edges {
                if *b == n && k == "has_credential" {
                    candidates.extend(supported(*a));
                }
            }
        }
        let tier = |s: usize| match g.nodes[s].attrs.get("tier") {
            Some(V::Int(t)) => *t,
            _ => i64::MAX,
        };
        candidates.into_iter().min_by(|a, b| {
            tier(*a).cmp(&tier(*b)).then_with(|| g.nodes[*a].id.cmp(&g.nodes[*b].id))
        })
    }

    fn matches(&self, source: &Source, env: &Env) -> Result<Vec<Match>, String> {
        match source {
            Source::Path(p) => self.path_matches(p, env),
            Source::In { .. } | Source::Expr { .. } => {
                panic!("reference: list sources are not generated")
            }
        }
    }

    fn path_matches(&self, p: &PathPattern, env: &Env) -> Result<Vec<Match>, String> {
        let Binder::Named(start) = &p.start else { return Ok(Vec::new()) };
        let Some(V::Node(n)) = env.get(&start.name) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        self.walk(&p.steps, *n, env.clone(), Vec::new(), &mut out)?;
        Ok(out)
    }

    fn walk(
        &self,
        steps: &[Step],
        at: usize,
        env: Env,
        key: Vec<usize>,
        out: &mut Vec<Match>,
    ) -> Result<(), String> {
        let Some((step, rest)) = steps.split_first() else {
            out.push(Match { env, key });
            return Ok(());
        };
        let (min, max) = step.repeat.map_or((1, Some(1)), |r| (r.min, r.max));
        for m in self.reach(at, step, min, max) {
            self.walked.set(self.walked.get() + 1);
            self.total.set(self.total.get() + 1);
            if self.walked.get() > self.limit || self.total.get() > self.budget {
                self.limited.set(true);
                return Err("walk limit".to_owned());
            }
            if let Some(k) = &step.node.kind
                && self.g.nodes[m].kind != k.name
            {
                continue;
            }
            let mut env2 = env.clone();
            let mut key2 = key.clone();
            if let Binder::Named(name) = &step.node.binder {
                let pinned =
                    step.node.kind.is_none() && matches!(env.get(&name.name), Some(V::Node(_)));
                if pinned {
                    if env.get(&name.name) != Some(&V::Node(m)) {
                        continue;
                    }
                } else {
                    env2.insert(name.name.clone(), V::Node(m));
                    key2.push(m);
                }
            }
            if let Some(f) = &step.node.filter
                && !truthy(&self.eval(f, &env2)?)
            {
                continue;
            }
            self.walk(rest, m, env2, key2, out)?;
        }
        Ok(())
    }

    /// A plain step: the neighbours over the step's edges (a self-loop
    /// reaches the node itself). A variable-length step: the nodes whose
    /// shortest walk of one hop or more from `n` is in `min..=max` (each node
    /// once); the start is at distance 0 only for `*0..`, otherwise it is
    /// reached again through a cycle.
    fn reach(&self, n: usize, step: &Step, min: u32, max: Option<u32>) -> BTreeSet<usize> {
        let any = step.edges.iter().any(|e| e.name == "_");
        let kind_ok = |k: &str| any || step.edges.iter().any(|e| e.name == k);
        if step.repeat.is_none() {
            let mut out = BTreeSet::new();
            for (a, b, k) in &self.g.edges {
                if !kind_ok(k) {
                    continue;
                }
                if *a == n && matches!(step.direction, Direction::Out | Direction::Either) {
                    out.insert(*b);
                }
                if *b == n && matches!(step.direction, Direction::In | Direction::Either) {
                    out.insert(*a);
                }
            }
            return out;
        }
        let mut dist: HashMap<usize, u32> = HashMap::new();
        if min == 0 {
            dist.insert(n, 0);
        }
        let mut queue = VecDeque::from([(n, 0u32)]);
        while let Some((x, d)) = queue.pop_front() {
            if max.is_some_and(|m| d >= m) {
                continue;
            }
            for (a, b, k) in &self.g.edges {
                if !kind_ok(k) {
                    continue;
                }
                let mut next = Vec::new();
                if *a == x && matches!(step.direction, Direction::Out | Direction::Either) {
                    next.push(*b);
                }
                if *b == x && matches!(step.direction, Direction::In | Direction::Either) {
                    next.push(*a);
                }
                for y in next {
                    if let std::collections::hash_map::Entry::Vacant(v) = dist.entry(y) {
                        v.insert(d + 1);
                        queue.push_back((y, d + 1));
                    }
                }
            }
        }
        dist.into_iter()
            .filter(|(_, d)| *d >= min && max.is_none_or(|m| *d <= m))
            .map(|(x, _)| x)
            .collect()
    }
}

/// Audits every rule of `module` over `g` at `now` (seconds). Paths that
/// visit more than `walk_limit` nodes for one entity, as the engine's limit
/// counts them, or more than `walk_budget` in the whole audit (the reference
/// pays microseconds per visit: it copies its environment), set
/// [`ROutcome::walk_limited`].
pub fn audit(module: &Module, g: &RGraph, now: i64, walk_limit: u64, walk_budget: u64) -> ROutcome {
    let it = Interp {
        g,
        now,
        walked: std::cell::Cell::new(0),
        total: std::cell::Cell::new(0),
        limit: walk_limit,
        budget: walk_budget,
        limited: std::cell::Cell::new(false),
    };
    let mut out = ROutcome::default();
    for item in &module.items {
        let Item::Rule(r) = item else { continue };
        let rule = r.name.name.clone();
        let (var, kind, filter) = r
            .clauses
            .iter()
            .find_map(|c| match &c.kind {
                RuleClauseKind::For { var, kind, filter } => Some((var, kind, filter)),
                _ => None,
            })
            .expect("a rule has a `for`");
        let mut checked = 0;
        for (n, node) in g.nodes.iter().enumerate() {
            if node.kind != kind.name {
                continue;
            }
            it.walked.set(0);
            let mut env: Env =
                HashMap::from([(var.name.clone(), V::Node(n)), (ENTITY.to_owned(), V::Node(n))]);
            let finding = |error: bool, waived_by: Option<String>, env: &Env| RFinding {
                rule: rule.clone(),
                entity: node.id.clone(),
                error,
                waived_by,
                severity: severity(&it, r, env),
                priority: priority(&it, module, n),
                service: it.service_of(n).map(|s| g.nodes[s].id.clone()),
            };
            if let Some(f) = filter {
                match it.eval(f, &env) {
                    Ok(v) if truthy(&v) => {}
                    Ok(_) => continue,
                    Err(_) => {
                        checked += 1;
                        out.findings.insert(finding(true, None, &env));
                        continue;
                    }
                }
            }
            checked += 1;
            for (i, c) in r.clauses.iter().enumerate() {
                match &c.kind {
                    RuleClauseKind::Let(l) => match it.eval(&l.value, &env) {
                        Ok(v) => {
                            env.insert(l.name.name.clone(), v);
                        }
                        Err(_) => {
                            out.findings.insert(finding(true, None, &env));
                            break;
                        }
                    },
                    RuleClauseKind::Require { cond } => match it.eval(cond, &env) {
                        Ok(v) if truthy(&v) => {}
                        Ok(_) => {
                            // A `when` sees every `let`, also those after the
                            // failing `require`; one that errors is missing,
                            // for the `when` and for the `let`s after it.
                            for later in r.clauses.get(i + 1..).unwrap_or_default() {
                                if let RuleClauseKind::Let(l) = &later.kind {
                                    let v = it.eval(&l.value, &env).unwrap_or(V::Missing);
                                    env.insert(l.name.name.clone(), v);
                                }
                            }
                            let w = waiver(&it, module, &rule, &env);
                            out.findings.insert(finding(false, w, &env));
                            break;
                        }
                        Err(_) => {
                            out.findings.insert(finding(true, None, &env));
                            break;
                        }
                    },
                    _ => {}
                }
            }
        }
        out.checked.insert(rule, checked);
    }
    out.walk_limited = it.limited.get();
    out
}

/// A finding's severity: fixed, or the first arm matching the `by` value
/// (no arm: the highest level any arm gives); `medium` when unspecified.
fn severity(it: &Interp<'_>, r: &Rule, env: &Env) -> &'static str {
    for c in &r.clauses {
        match &c.kind {
            RuleClauseKind::Severity(SeveritySpec::Fixed(l)) => return l.as_str(),
            RuleClauseKind::Severity(SeveritySpec::By { scrutinee, arms }) => {
                let v = it.eval(scrutinee, env).unwrap_or(V::Missing);
                for arm in arms {
                    if arm.pattern.alts.iter().any(|alt| match alt {
                        PatternAlt::Wildcard => true,
                        PatternAlt::Literal(l) => equals(&literal(l), &v),
                    }) {
                        return arm.value.as_str();
                    }
                }
                return arms.iter().map(|a| a.value).max().map_or("medium", |l| l.as_str());
            }
            _ => {}
        }
    }
    "medium"
}

fn priority(it: &Interp<'_>, module: &Module, n: usize) -> Option<u8> {
    let p = module.items.iter().find_map(|i| match i {
        Item::Priority(p) => Some(p),
        _ => None,
    })?;
    let env: Env = HashMap::from([(ENTITY.to_owned(), V::Node(n))]);
    let v = it.eval(&p.by, &env).ok()?;
    let arm = p.arms.iter().find(|a| {
        a.pattern.alts.iter().any(|alt| match alt {
            PatternAlt::Wildcard => true,
            PatternAlt::Literal(l) => equals(&literal(l), &v),
        })
    })?;
    Some(arm.value.level)
}

fn waiver(it: &Interp<'_>, module: &Module, rule: &str, env: &Env) -> Option<String> {
    for item in &module.items {
        let Item::Exception(e) = item else { continue };
        let mut names_rule = false;
        let mut when = None;
        let mut until = None;
        for c in &e.clauses {
            match &c.kind {
                ExceptionClauseKind::Rule { rule: r } => names_rule = r.name == rule,
                ExceptionClauseKind::When { cond } => when = Some(cond),
                ExceptionClauseKind::Until { date } => until = Some(date.0),
                _ => {}
            }
        }
        let Some(until) = until else { continue };
        // In force through the whole of the `until` day.
        let in_force = it.now < until + 86_400;
        if !names_rule || !in_force {
            continue;
        }
        if when.is_none_or(|w| it.eval(w, env).is_ok_and(|v| truthy(&v))) {
            return Some(e.name.name.clone());
        }
    }
    None
}
