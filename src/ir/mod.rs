//! The lowered, typed program: what the evaluator runs.
//!
//! Names are gone: variables are frame slots, attributes are `(kind, column)`
//! pairs, edge kinds are ids, constants are folded, message templates are
//! pre-split. Every node that can fail or be explained keeps its source
//! [`Loc`]. Built by [`crate::check`]; printed by `gov check --emit ir`.

pub mod builtins;
pub mod decision;
pub mod value;

use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::domain::{Direction, Enforcement, SeverityLevel};
use crate::graph::{AttrId, EdgeKindId, KindId, Schema};
use crate::source::Loc;
use crate::time::{Duration, Timestamp};

pub use decision::{
    ClauseEffect, Decision, DecisionClause, DecisionInput, DecisionStep, InputType,
};

/// A frame slot holding a variable.
pub type Slot = u16;

/// A constant value in the program.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// `null` / missing.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// String.
    Str(Arc<str>),
    /// Timestamp.
    Time(Timestamp),
    /// Duration.
    Duration(Duration),
    /// List of constants.
    List(Arc<[Const]>),
}

impl fmt::Display for Const {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Const::Null => f.write_str("null"),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Int(i) => write!(f, "{i}"),
            Const::Float(x) => write!(f, "{x:?}"),
            Const::Str(s) => write!(f, "{s:?}"),
            Const::Time(t) => write!(f, "{t}"),
            Const::Duration(d) => write!(f, "{d}"),
            Const::List(xs) => crate::value::write_list(f, xs.iter()),
        }
    }
}

/// Operators after type checking: the operand types are known, so each has
/// one meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==` on any two values of one type.
    Eq,
    /// `!=`
    Ne,
    /// `<` on ordered values.
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// Element of a list, or substring of a string.
    In,
    /// Negated `In`.
    NotIn,
    /// Numeric, time and duration addition; string concatenation.
    Add,
    /// Numeric, time and duration subtraction.
    Sub,
    /// Multiplication.
    Mul,
    /// Division (errors on zero).
    Div,
    /// Remainder (errors on zero).
    Rem,
}

impl Op {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Rem => "%",
        }
    }
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `default(x, d)`: `x`, or `d` when `x` is missing.
    Default,
    /// `len(list | string)`
    Len,
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// `contains(s, sub)` or `contains(list, x)`
    Contains,
    /// `starts_with(s, prefix)`
    StartsWith,
    /// `ends_with(s, suffix)`
    EndsWith,
    /// `matches(s, glob)` with `*` and `?`
    Matches,
    /// `days(duration) -> int` (whole days)
    Days,
    /// `hours(duration) -> int`
    Hours,
    /// `min(a, b)`
    Min2,
    /// `max(a, b)`
    Max2,
    /// `abs(x)`
    Abs,
    /// `is_empty(list | string)`
    IsEmpty,
    /// `id(node) -> string`
    Id,
}

impl Builtin {
    /// The function's name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Every built-in.
    pub const ALL: &'static [Builtin] = &[
        Builtin::Default,
        Builtin::Len,
        Builtin::Lower,
        Builtin::Upper,
        Builtin::Contains,
        Builtin::StartsWith,
        Builtin::EndsWith,
        Builtin::Matches,
        Builtin::Days,
        Builtin::Hours,
        Builtin::Min2,
        Builtin::Max2,
        Builtin::Abs,
        Builtin::IsEmpty,
        Builtin::Id,
    ];
}

/// Aggregations over a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// At least one element satisfies the condition.
    Exists,
    /// Every element satisfies the condition.
    All,
    /// How many elements pass the filter (distinct bindings).
    Count,
    /// Smallest projection.
    Min,
    /// Largest projection.
    Max,
    /// Sum of projections (distinct bindings).
    Sum,
}

/// A lowered expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Where it was written.
    pub loc: Loc,
}

/// The kinds of lowered expression.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A folded constant.
    Const(Const),
    /// The evaluation time.
    Now,
    /// A variable.
    Local(Slot),
    /// The business service of the rule's entity (computed once per entity).
    Service,
    /// An attribute of a node: the column for each kind it may have.
    Attr {
        /// A node-valued expression.
        node: Box<Expr>,
        /// `(kind, column)` for every kind that has the attribute.
        slots: Vec<(KindId, AttrId)>,
        /// The attribute's name (for evidence and `explain`).
        name: Arc<str>,
    },
    /// `node has attr`.
    Has {
        /// A node-valued expression.
        node: Box<Expr>,
        /// `(kind, column)` for every kind that has the attribute.
        slots: Vec<(KindId, AttrId)>,
        /// The attribute's name.
        name: Arc<str>,
    },
    /// `[a, b]` with non-constant elements.
    List(Vec<Expr>),
    /// `not x`
    Not(Box<Expr>),
    /// `-x`
    Neg(Box<Expr>),
    /// `a and b` (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// `a or b` (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// A binary operator.
    Binary(Op, Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `match x { ... }`: the first arm whose pattern matches.
    Match(Box<Expr>, Vec<(Pattern, Expr)>),
    /// A built-in call.
    Call(Builtin, Vec<Expr>),
    /// A plugin call `plugin.func(args)`: ids into [`Program::plugins`].
    PluginCall {
        /// The plugin's id in [`Program::plugins`].
        plugin: u16,
        /// The function's index in the plugin's declaration.
        func: u16,
        /// `plugin.func`, for dumps and messages.
        name: Arc<str>,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `let` bindings scoped over an expression (from inlined functions).
    Block(Vec<(Slot, Expr)>, Box<Expr>),
    /// A quantifier or aggregate.
    Aggregate {
        /// What is computed.
        agg: Agg,
        /// What is ranged over.
        source: Box<Source>,
        /// Filter (count/min/max/sum) or condition (exists/all).
        cond: Option<Box<Expr>>,
        /// Projection (min/max/sum).
        projection: Option<Box<Expr>>,
    },
}

impl Expr {
    /// True when the value depends on the entity's service only: it reads
    /// `service`, its attributes, constants and (when `now` is true) `now`,
    /// and calls only built-ins. Audits and decisions memoise `priority by`
    /// per service when it does.
    pub fn service_only(&self, now: bool) -> bool {
        if matches!(
            self.kind,
            ExprKind::Local(_)
                | ExprKind::Aggregate { .. }
                | ExprKind::PluginCall { .. }
                | ExprKind::Block(..)
        ) || (!now && matches!(self.kind, ExprKind::Now))
        {
            return false;
        }
        let mut all = true;
        self.for_each_child(&mut |c| all &= c.service_only(now));
        all
    }

    /// Calls `f` for each direct sub-expression, in evaluation order
    /// (quantifiers: the list or path start, the path filters, the
    /// condition, the projection). The one place that knows every variant's
    /// children: analyses recurse through it.
    pub fn for_each_child<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Const(_) | ExprKind::Now | ExprKind::Service | ExprKind::Local(_) => {}
            ExprKind::Attr { node, .. }
            | ExprKind::Has { node, .. }
            | ExprKind::Not(node)
            | ExprKind::Neg(node) => f(node),
            ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Binary(_, a, b) => {
                f(a);
                f(b);
            }
            ExprKind::If(c, a, b) => {
                f(c);
                f(a);
                f(b);
            }
            ExprKind::Match(x, arms) => {
                f(x);
                for (_, e) in arms {
                    f(e);
                }
            }
            ExprKind::List(xs) | ExprKind::Call(_, xs) | ExprKind::PluginCall { args: xs, .. } => {
                for x in xs {
                    f(x);
                }
            }
            ExprKind::Block(binds, body) => {
                for (_, e) in binds {
                    f(e);
                }
                f(body);
            }
            ExprKind::Aggregate { source, cond, projection, .. } => {
                match &**source {
                    Source::List { list, .. } => f(list),
                    Source::Path(p) => {
                        f(&p.start);
                        for e in p.steps.iter().filter_map(|s| s.filter.as_ref()) {
                            f(e);
                        }
                    }
                }
                for e in [cond, projection].into_iter().flatten() {
                    f(e);
                }
            }
        }
    }

    /// Adds every frame slot the expression reads (`Local`, and path
    /// endpoints pinned to a bound variable) to `out`, each once. Slots it
    /// binds itself (quantifier variables, block lets) are included too:
    /// callers only ask about slots bound outside.
    pub fn slots_read(&self, out: &mut Vec<Slot>) {
        let mut add = |s: Slot| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        match &self.kind {
            ExprKind::Local(s) => add(*s),
            ExprKind::Aggregate { source, .. } => {
                if let Source::Path(p) = &**source {
                    for step in &p.steps {
                        if let Bind::Pinned(s) = step.bind {
                            add(s);
                        }
                    }
                }
            }
            _ => {}
        }
        self.for_each_child(&mut |c| c.slots_read(out));
    }
}

impl Template {
    /// Adds the slots its holes read (see [`Expr::slots_read`]).
    pub fn slots_read(&self, out: &mut Vec<Slot>) {
        for p in &self.parts {
            if let TemplatePart::Expr(e) = p {
                e.slots_read(out);
            }
        }
    }
}

/// A match pattern: any of the constants, or anything.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// `_`
    Any,
    /// Any of these values (`null` matches a missing value).
    OneOf(Vec<Const>),
}

/// What a quantifier ranges over.
#[derive(Clone, Debug)]
pub enum Source {
    /// Elements of a list bound to a slot.
    List {
        /// The element's slot.
        slot: Slot,
        /// The list.
        list: Expr,
    },
    /// Matches of a path pattern.
    Path(Path),
}

/// A path pattern starting at a bound node.
#[derive(Clone, Debug)]
pub struct Path {
    /// Where it starts.
    pub start: Expr,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Slots of named binders (distinct matches are distinct tuples of these).
    pub named: Vec<Slot>,
}

/// One step of a path.
#[derive(Clone, Debug)]
pub struct Step {
    /// Which way edges are followed.
    pub direction: Direction,
    /// Edge kinds accepted (empty: any).
    pub edges: Vec<EdgeKindId>,
    /// Hop bounds (`1..=1` for a plain step).
    pub min: u32,
    /// Upper hop bound (`None`: until no new node is reached).
    pub max: Option<u32>,
    /// Node kinds accepted at the end of the step (empty: any).
    pub kinds: Vec<KindId>,
    /// How the reached node is bound.
    pub bind: Bind,
    /// Filter on the reached node.
    pub filter: Option<Expr>,
    /// Where it was written.
    pub loc: Loc,
}

/// How a step's node is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    /// `_`: not bound.
    Anonymous,
    /// A new variable.
    New(Slot),
    /// A variable bound before: the node must be that one.
    Pinned(Slot),
}

/// A message with holes.
#[derive(Clone, Debug)]
pub struct Template {
    /// Literal text and expressions, in order.
    pub parts: Vec<TemplatePart>,
}

/// A piece of a [`Template`].
#[derive(Clone, Debug)]
pub enum TemplatePart {
    /// Text.
    Text(Arc<str>),
    /// An interpolated value.
    Expr(Expr),
}

/// Severity of a rule's findings.
#[derive(Clone, Debug)]
pub enum Severity {
    /// Always this level.
    Fixed(SeverityLevel),
    /// Chosen by matching a value; `default` when no arm matches.
    By {
        /// What is matched.
        scrutinee: Expr,
        /// Arms in order.
        arms: Vec<(Pattern, SeverityLevel)>,
        /// The level when no arm matches.
        default: SeverityLevel,
    },
}

/// A `let` or a `require` in a rule's body, in order.
#[derive(Clone, Debug)]
pub enum BodyStep {
    /// `let` (`used` is false when nothing reads it; it is still evaluated lazily).
    Let {
        /// Slot.
        slot: Slot,
        /// Name, for `explain`.
        name: Arc<str>,
        /// Value.
        value: Expr,
    },
    /// `require`
    Require {
        /// Must hold.
        cond: Expr,
        /// The source text of the condition, for reports.
        text: Arc<str>,
    },
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Rule id.
    pub id: Arc<str>,
    /// Doc comment.
    pub doc: String,
    /// Where the name is.
    pub name_loc: Loc,
    /// The node kind ranged over.
    pub kind: KindId,
    /// The `for` variable's slot.
    pub var: Slot,
    /// The `where` filter.
    pub filter: Option<Expr>,
    /// Lets and requires in order.
    pub body: Vec<BodyStep>,
    /// Severity.
    pub severity: Severity,
    /// Enforcement.
    pub enforcement: Enforcement,
    /// Framework controls.
    pub maps: Vec<String>,
    /// Finding message.
    pub message: Option<Template>,
    /// Finding help.
    pub help: Option<Template>,
    /// Number of slots its frame needs.
    pub frame: usize,
    /// Whether anything reads `service` (computing it costs graph walks).
    pub uses_service: bool,
}

/// A compiled exception.
#[derive(Clone, Debug)]
pub struct Exception {
    /// Exception id.
    pub id: Arc<str>,
    /// Index of the rule in [`Program::rules`].
    pub rule: usize,
    /// Which findings it waives (`None`: all of the rule's).
    pub when: Option<Expr>,
    /// Last day it holds (inclusive).
    pub until: Timestamp,
    /// Approvers.
    pub approved_by: Vec<String>,
    /// Why.
    pub reason: Option<String>,
    /// Where.
    pub loc: Loc,
}

/// The compiled `priority by` declaration.
#[derive(Clone, Debug)]
pub struct PriorityRule {
    /// What is matched.
    pub by: Expr,
    /// Arms in order: level and time allowed.
    pub arms: Vec<(Pattern, u8, Duration)>,
    /// Slots its expression needs.
    pub frame: usize,
}

/// A checked, lowered policy set.
#[derive(Clone, Debug)]
pub struct Program {
    /// The schema the program was checked against (built-in plus extensions).
    pub schema: Arc<Schema>,
    /// Rules in declaration order.
    pub rules: Vec<Rule>,
    /// Exceptions in declaration order.
    pub exceptions: Vec<Exception>,
    /// The priority declaration, if any.
    pub priority: Option<PriorityRule>,
    /// Decision blocks in declaration order.
    pub decisions: Vec<Decision>,
    /// The WebAssembly plugins its rules call (compiled once, shared by workers).
    pub plugins: crate::plugin::PluginSet,
}

impl Program {
    /// The index of a rule by id.
    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| &*r.id == id)
    }

    /// A readable dump for `gov check --emit ir`.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        let schema = &self.schema;
        if let Some(p) = &self.priority {
            let _ = writeln!(out, "priority by {}", expr_text(&p.by, schema));
            for (pat, level, within) in &p.arms {
                let _ = writeln!(out, "  {} => P{level} within {within}", pattern_text(pat));
            }
        }
        for r in &self.rules {
            let _ = writeln!(
                out,
                "rule {} (kind {}, frame {}, {:?}, service {})",
                r.id,
                schema.kind_name(r.kind),
                r.frame,
                r.enforcement,
                r.uses_service
            );
            if let Some(f) = &r.filter {
                let _ = writeln!(out, "  filter {}", expr_text(f, schema));
            }
            for s in &r.body {
                match s {
                    BodyStep::Let { slot, name, value } => {
                        let _ =
                            writeln!(out, "  let ${slot} ({name}) = {}", expr_text(value, schema));
                    }
                    BodyStep::Require { cond, .. } => {
                        let _ = writeln!(out, "  require {}", expr_text(cond, schema));
                    }
                }
            }
            if let Some(m) = &r.message {
                let _ = writeln!(out, "  message {}", template_text(m, schema));
            }
        }
        for d in &self.decisions {
            d.dump(&mut out, schema);
        }
        for e in &self.exceptions {
            let when =
                e.when.as_ref().map(|w| expr_text(w, schema)).unwrap_or_else(|| "true".into());
            let _ = writeln!(
                out,
                "exception {} for rule #{} until {} when {when}",
                e.id, e.rule, e.until
            );
        }
        out
    }
}

fn pattern_text(p: &Pattern) -> String {
    match p {
        Pattern::Any => "_".into(),
        Pattern::OneOf(cs) => cs.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | "),
    }
}

pub(crate) fn template_text(t: &Template, schema: &Schema) -> String {
    let mut s = String::from("\"");
    for p in &t.parts {
        match p {
            TemplatePart::Text(x) => s.push_str(x),
            TemplatePart::Expr(e) => {
                let _ = write!(s, "{{{}}}", expr_text(e, schema));
            }
        }
    }
    s.push('"');
    s
}

/// An IR expression in a compact, explicit notation (slots as `$n`, columns as `kind.attr#col`).
pub fn expr_text(e: &Expr, schema: &Schema) -> String {
    let t = |x: &Expr| expr_text(x, schema);
    match &e.kind {
        ExprKind::Const(c) => c.to_string(),
        ExprKind::Now => "now".into(),
        ExprKind::Local(s) => format!("${s}"),
        ExprKind::Service => "service".into(),
        ExprKind::Attr { node, slots, name } => {
            let cols = slots
                .iter()
                .map(|(k, a)| format!("{}#{}", schema.kind_name(*k), a.0))
                .collect::<Vec<_>>()
                .join("|");
            format!("{}.{name}[{cols}]", t(node))
        }
        ExprKind::Has { node, slots, .. } => {
            let cols = slots
                .iter()
                .map(|(k, a)| format!("{}#{}", schema.kind_name(*k), a.0))
                .collect::<Vec<_>>();
            format!("has({}, {})", t(node), cols.join("|"))
        }
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(t).collect::<Vec<_>>().join(", ")),
        ExprKind::Not(x) => format!("not({})", t(x)),
        ExprKind::Neg(x) => format!("neg({})", t(x)),
        ExprKind::And(a, b) => format!("({} and {})", t(a), t(b)),
        ExprKind::Or(a, b) => format!("({} or {})", t(a), t(b)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", t(a), op.as_str(), t(b)),
        ExprKind::If(c, a, b) => format!("if({}, {}, {})", t(c), t(a), t(b)),
        ExprKind::Match(x, arms) => {
            let arms = arms
                .iter()
                .map(|(p, v)| format!("{} => {}", pattern_text(p), t(v)))
                .collect::<Vec<_>>();
            format!("match({}, {})", t(x), arms.join(", "))
        }
        ExprKind::Call(b, args) => {
            format!("{}({})", b.name(), args.iter().map(t).collect::<Vec<_>>().join(", "))
        }
        ExprKind::PluginCall { name, args, .. } => {
            format!("{name}({})", args.iter().map(t).collect::<Vec<_>>().join(", "))
        }
        ExprKind::Block(binds, body) => {
            let b = binds.iter().map(|(s, v)| format!("${s} = {}", t(v))).collect::<Vec<_>>();
            format!("{{{}; {}}}", b.join("; "), t(body))
        }
        ExprKind::Aggregate { agg, source, cond, projection } => {
            let src = match source.as_ref() {
                Source::List { slot, list } => format!("${slot} in {}", t(list)),
                Source::Path(p) => {
                    let mut s = t(&p.start);
                    for st in &p.steps {
                        let edges = if st.edges.is_empty() {
                            "_".to_owned()
                        } else {
                            st.edges
                                .iter()
                                .map(|e| schema.edge_name(*e))
                                .collect::<Vec<_>>()
                                .join("|")
                        };
                        let arrow = match st.direction {
                            Direction::Out => ("-[", "]->"),
                            Direction::In => ("<-[", "]-"),
                            Direction::Either => ("-[", "]-"),
                        };
                        let hops = match (st.min, st.max) {
                            (1, Some(1)) => String::new(),
                            (a, Some(b)) => format!("*{a}..{b}"),
                            (a, None) => format!("*{a}.."),
                        };
                        let bind = match st.bind {
                            Bind::Anonymous => "_".to_owned(),
                            Bind::New(s) => format!("${s}"),
                            Bind::Pinned(s) => format!("=${s}"),
                        };
                        let kinds = st
                            .kinds
                            .iter()
                            .map(|k| schema.kind_name(*k))
                            .collect::<Vec<_>>()
                            .join("|");
                        let _ = write!(s, " {}{edges}{hops}{} {bind}", arrow.0, arrow.1);
                        if !kinds.is_empty() {
                            let _ = write!(s, ":{kinds}");
                        }
                        if let Some(f) = &st.filter {
                            let _ = write!(s, "({})", t(f));
                        }
                    }
                    s
                }
            };
            let mut s = format!("{}({src}", format!("{agg:?}").to_lowercase());
            if let Some(c) = cond {
                let _ = write!(s, " where {}", t(c));
            }
            if let Some(p) = projection {
                let _ = write!(s, " | {}", t(p));
            }
            s.push(')');
            s
        }
    }
}
