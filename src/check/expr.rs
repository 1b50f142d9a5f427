//! Expressions: the dispatch over expression kinds, names and literals,
//! guards for optional values, and the helpers the other expression files
//! share. Attributes are in `attrs.rs`, calls in `calls.rs`, operators in
//! `operators.rs`, quantifiers, aggregates and paths in `paths.rs`.

use std::sync::Arc;

use super::types::{Ty, Typed};
use super::{Checker, assignable};
use crate::diag::{Code, did_you_mean};
use crate::graph::KindId;
use crate::ir::value::{self, Value};
use crate::ir::{self, Agg, Const, Op, Slot};
use crate::source::Loc;
use crate::syntax::ast::{self, BinaryOp, ExprKind as A, UnaryOp};

pub(super) fn ir(kind: ir::ExprKind, loc: &Loc) -> ir::Expr {
    ir::Expr { kind, loc: loc.clone() }
}

pub(super) fn konst(c: Const, loc: &Loc) -> ir::Expr {
    ir(ir::ExprKind::Const(c), loc)
}

pub(super) fn as_const(e: &ir::Expr) -> Option<&Const> {
    match &e.kind {
        ir::ExprKind::Const(c) => Some(c),
        _ => None,
    }
}

/// Attributes an expression proves present when it is true (`positive`) or
/// false: `x has a`, `x.a != null`, and conjunctions of them.
pub(crate) fn facts_of(e: &ir::Expr, positive: bool) -> Vec<(Slot, String)> {
    use ir::ExprKind as K;
    let attr_of = |x: &ir::Expr| match &x.kind {
        K::Attr { node, name, .. } => fact_slot(node).map(|s| (s, name.to_string())),
        _ => None,
    };
    match (&e.kind, positive) {
        (K::Has { node, name, .. }, true) => match fact_slot(node) {
            Some(s) => vec![(s, name.to_string())],
            None => Vec::new(),
        },
        (K::Binary(Op::Ne, a, b), true) | (K::Binary(Op::Eq, a, b), false) => {
            match (attr_of(a), as_const(b), attr_of(b), as_const(a)) {
                (Some(f), Some(Const::Null), _, _) | (_, _, Some(f), Some(Const::Null)) => vec![f],
                _ => Vec::new(),
            }
        }
        (K::And(a, b), true) | (K::Or(a, b), false) => {
            let mut v = facts_of(a, positive);
            v.extend(facts_of(b, positive));
            v
        }
        (K::Not(x), p) => facts_of(x, !p),
        _ => Vec::new(),
    }
}

/// The pseudo-slot under which facts about `service` are kept.
const SERVICE_FACT: Slot = Slot::MAX;

/// Where facts about a node expression are kept: its local slot, or
/// [`SERVICE_FACT`] for `service` (so `service has tier` guards `service.tier`).
pub(crate) fn fact_slot(node: &ir::Expr) -> Option<Slot> {
    match node.kind {
        ir::ExprKind::Local(s) => Some(s),
        ir::ExprKind::Service => Some(SERVICE_FACT),
        _ => None,
    }
}

/// A match pattern's constants.
pub(crate) fn pattern(p: &ast::Pattern) -> ir::Pattern {
    let mut consts = Vec::new();
    for alt in &p.alts {
        match alt {
            ast::PatternAlt::Wildcard => return ir::Pattern::Any,
            ast::PatternAlt::Literal(l) => consts.push(match l {
                ast::Literal::Null => Const::Null,
                ast::Literal::Bool(b) => Const::Bool(*b),
                ast::Literal::Int(i) => Const::Int(*i),
                ast::Literal::Float(f) => Const::Float(*f),
                ast::Literal::Str(s) => Const::Str(Arc::from(s.as_str())),
                ast::Literal::Duration(d) => Const::Duration(*d),
                ast::Literal::Time(t) => Const::Time(*t),
            }),
        }
    }
    ir::Pattern::OneOf(consts)
}

impl Checker<'_> {
    /// Checks an expression and lowers it.
    pub(crate) fn expr(&mut self, e: &ast::Expr) -> (ir::Expr, Typed) {
        let loc = &e.loc;
        if !self.declared.fn_stack.is_empty() {
            self.inlined += 1;
        }
        match &e.kind {
            A::Null => (konst(Const::Null, loc), Typed::of(Ty::Null)),
            A::Bool(b) => (konst(Const::Bool(*b), loc), Typed::of(Ty::Bool)),
            A::Int(i) => (konst(Const::Int(*i), loc), Typed::of(Ty::Int)),
            A::Float(f) => (konst(Const::Float(*f), loc), Typed::of(Ty::Float)),
            A::Str(s) => (konst(Const::Str(Arc::from(s.as_str())), loc), Typed::of(Ty::Str)),
            A::Duration(d) => (konst(Const::Duration(*d), loc), Typed::of(Ty::Duration)),
            A::Time(t) => (konst(Const::Time(*t), loc), Typed::of(Ty::Time)),
            A::Now => (ir(ir::ExprKind::Now, loc), Typed::of(Ty::Time)),
            A::List(xs) => self.list(xs, loc),
            A::Var(n) => self.var(n),
            A::Field(obj, name) => self.field(obj, name, loc),
            A::Has(obj, name) => self.has(obj, name, loc),
            A::Call(callee, args) => self.call(callee, args, loc),
            A::Unary(UnaryOp::Not, x) => {
                let (xe, xt) = self.expr(x);
                self.expect_condition(&xt, x);
                if let Some(Const::Bool(b)) = as_const(&xe) {
                    return (konst(Const::Bool(!b), loc), Typed::of(Ty::Bool));
                }
                (ir(ir::ExprKind::Not(Box::new(xe)), loc), Typed::of(Ty::Bool))
            }
            A::Unary(UnaryOp::Neg, x) => {
                let (xe, xt) = self.expr(x);
                if !matches!(xt.ty, Ty::Int | Ty::Float | Ty::Duration | Ty::Unknown) {
                    let found = xt.ty.show(self.schema());
                    self.error(
                        Code::TypeMismatch,
                        format!("cannot negate `{found}`"),
                        &x.loc,
                        format!("this is `{found}`"),
                    )
                    .help("`-` applies to numbers and durations");
                    return (xe, Typed::unknown());
                }
                self.present(&xt, x);
                if let Some(c) = as_const(&xe)
                    && let Ok(v) = value::neg(&Value::from_const(c))
                    && let Some(c) = v.to_const()
                {
                    return (konst(c, loc), Typed::of(xt.ty));
                }
                (ir(ir::ExprKind::Neg(Box::new(xe)), loc), Typed::of(xt.ty))
            }
            A::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) => {
                let (ae, at) = self.expr(a);
                self.expect_condition(&at, a);
                let mark = self.scope_mark();
                self.push_facts(facts_of(&ae, *op == BinaryOp::And));
                let (be, bt) = self.expr(b);
                self.scope_reset(mark);
                self.expect_condition(&bt, b);
                let and = *op == BinaryOp::And;
                match as_const(&ae) {
                    Some(Const::Bool(x)) if *x == and => return (be, Typed::of(Ty::Bool)),
                    Some(Const::Bool(_)) => {
                        return (konst(Const::Bool(!and), loc), Typed::of(Ty::Bool));
                    }
                    _ => {}
                }
                let kind = if and {
                    ir::ExprKind::And(Box::new(ae), Box::new(be))
                } else {
                    ir::ExprKind::Or(Box::new(ae), Box::new(be))
                };
                (ir(kind, loc), Typed::of(Ty::Bool))
            }
            A::Binary(op, a, b) => self.binary(*op, a, b, loc),
            A::If(c, a, b) => {
                let (ce, ct) = self.expr(c);
                self.expect_condition(&ct, c);
                let mark = self.scope_mark();
                self.push_facts(facts_of(&ce, true));
                let (ae, at) = self.expr(a);
                self.scope_reset(mark);
                self.push_facts(facts_of(&ce, false));
                let (be, bt) = self.expr(b);
                self.scope_reset(mark);
                let ty = self.unify(&at, &bt, b, "the `else` branch", "the `then` branch");
                if let Some(Const::Bool(x)) = as_const(&ce) {
                    return (if *x { ae } else { be }, ty);
                }
                (ir(ir::ExprKind::If(Box::new(ce), Box::new(ae), Box::new(be)), loc), ty)
            }
            A::Match(x, arms) => {
                // A missing scrutinee matches `null` or `_`: no guard needed.
                let (xe, xt) = self.expr(x);
                for arm in arms {
                    self.check_pattern(&arm.pattern, &xt, x);
                }
                let mut out = Vec::new();
                let mut ty: Option<(Typed, &ast::Expr)> = None;
                let mut exhaustive = false;
                for arm in arms {
                    let p = pattern(&arm.pattern);
                    exhaustive |= p == ir::Pattern::Any;
                    let (ve, vt) = self.expr(&arm.value);
                    ty = Some(match ty {
                        None => (vt, &arm.value),
                        Some((prev, first)) => {
                            let u = self.unify(&prev, &vt, &arm.value, "this arm", "the first arm");
                            (u, first)
                        }
                    });
                    out.push((p, ve));
                }
                let mut t = ty.map_or_else(Typed::unknown, |(t, _)| t);
                t.opt |= !exhaustive;
                (ir(ir::ExprKind::Match(Box::new(xe), out), loc), t)
            }
            A::Quantified { quantifier, source, cond } => {
                let agg = match quantifier {
                    ast::Quantifier::Exists => Agg::Exists,
                    ast::Quantifier::All => Agg::All,
                };
                self.aggregate(agg, source, cond.as_deref(), None, loc)
            }
            A::Aggregate { aggregator, source, filter, projection } => {
                let agg = match aggregator {
                    ast::Aggregator::Count => Agg::Count,
                    ast::Aggregator::Min => Agg::Min,
                    ast::Aggregator::Max => Agg::Max,
                    ast::Aggregator::Sum => Agg::Sum,
                };
                self.aggregate(agg, source, filter.as_deref(), projection.as_deref(), loc)
            }
        }
    }

    /// The values an enum attribute may take, when `e` reads one.
    pub(super) fn enum_values(&self, e: &ir::Expr) -> Option<Vec<String>> {
        let ir::ExprKind::Attr { slots, .. } = &e.kind else { return None };
        let mut values: Vec<String> = Vec::new();
        for (k, a) in slots {
            match self.schema().attr_def(*k, *a).map(|d| &d.ty) {
                Some(crate::graph::AttrType::Enum(vs)) => values.extend(vs.iter().cloned()),
                _ => return None,
            }
        }
        (!values.is_empty()).then_some(values)
    }

    /// Warns when an enum attribute is compared with a string it can never
    /// hold (`s.criticality == "hgh"`), with the nearest value.
    pub(super) fn check_enum_literal(
        &mut self,
        op: Op,
        ae: &ir::Expr,
        be: &ir::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
    ) {
        let (attr, lit, lit_ast) = match op {
            Op::In | Op::NotIn => (ae, be, b),
            _ if as_const(ae).is_some() => (be, ae, a),
            _ => (ae, be, b),
        };
        let Some(values) = self.enum_values(attr) else { return };
        let strings: Vec<&str> = match as_const(lit) {
            Some(Const::Str(s)) => vec![s.as_ref()],
            Some(Const::List(items)) if matches!(op, Op::In | Op::NotIn) => items
                .iter()
                .filter_map(|c| match c {
                    Const::Str(s) => Some(s.as_ref()),
                    _ => None,
                })
                .collect(),
            _ => return,
        };
        let Some(bad) = strings.into_iter().find(|s| !values.iter().any(|v| v == s)) else {
            return;
        };
        let bad = bad.to_owned();
        let hint = did_you_mean(&bad, values.iter().map(String::as_str)).map(str::to_owned);
        let list = values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        let mut h = self.warning(
            Code::NeverMatches,
            format!("`{bad}` is not a value of `{}`", attr.loc.text()),
            &lit_ast.loc,
            "never equal",
        );
        match hint {
            Some(s) => {
                h.help(format!("did you mean `{s}`? `{}` is one of {list}", attr.loc.text()))
            }
            None => h.help(format!("`{}` is one of {list}", attr.loc.text())),
        }
    }

    /// Reports a literal pattern that can never equal the scrutinee (once per pattern).
    pub(crate) fn check_pattern(&mut self, p: &ast::Pattern, scrutinee: &Typed, x: &ast::Expr) {
        if scrutinee.is_unknown() {
            return;
        }
        for alt in &p.alts {
            let ast::PatternAlt::Literal(l) = alt else { continue };
            let lt = match l {
                ast::Literal::Null => Ty::Null,
                ast::Literal::Bool(_) => Ty::Bool,
                ast::Literal::Int(_) => Ty::Int,
                ast::Literal::Float(_) => Ty::Float,
                ast::Literal::Str(_) => Ty::Str,
                ast::Literal::Duration(_) => Ty::Duration,
                ast::Literal::Time(_) => Ty::Time,
            };
            if lt.comparable(&scrutinee.ty) {
                continue;
            }
            let (found, want) = (lt.show(self.schema()), scrutinee.ty.show(self.schema()));
            let mut h = self.error(
                Code::TypeMismatch,
                format!("this pattern is `{found}` but `{}` is `{want}`", x.loc.text()),
                &p.loc,
                "can never match",
            );
            h.label_at(&x.loc, &format!("this is `{want}`"));
            h.help(if lt == Ty::Str && scrutinee.ty.is_numeric() {
                "write numbers without quotes: `0 => ...`".to_owned()
            } else {
                format!("write a `{want}` value, or `_` for every other value")
            });
            return;
        }
    }

    /// Reports a value that may be missing where one is needed.
    pub(crate) fn present(&mut self, t: &Typed, e: &ast::Expr) {
        if t.opt && !t.is_unknown() && self.lenient == 0 {
            let text = e.loc.text().to_owned();
            let shown = t.show(self.schema());
            let help = match &e.kind {
                A::Field(obj, name) => format!(
                    "guard it: `{} has {} and ...`, or give a default: `default({text}, ...)`",
                    obj.loc.text(),
                    name.name
                ),
                _ => format!("give a default: `default({text}, ...)`"),
            };
            self.error(
                Code::OptionalWithoutGuard,
                format!("`{text}` may be missing (`{shown}`)"),
                &e.loc,
                "may be missing here",
            )
            .help(help);
        }
    }

    /// The common type of two branches, reporting a mismatch on `b`.
    pub(super) fn unify(
        &mut self,
        a: &Typed,
        b: &Typed,
        b_expr: &ast::Expr,
        b_what: &str,
        a_what: &str,
    ) -> Typed {
        let opt = a.opt || b.opt;
        if a.is_unknown() || b.is_unknown() {
            return Typed::unknown();
        }
        if a.ty == Ty::Null {
            return Typed::opt(b.ty.clone());
        }
        if b.ty == Ty::Null {
            return Typed::opt(a.ty.clone());
        }
        if assignable(&b.ty, &a.ty) {
            return Typed { ty: a.ty.clone(), opt };
        }
        if assignable(&a.ty, &b.ty) {
            return Typed { ty: b.ty.clone(), opt };
        }
        let (sa, sb) = (a.show(self.schema()), b.show(self.schema()));
        self.error(
            Code::TypeMismatch,
            format!("{b_what} is `{sb}` but {a_what} is `{sa}`"),
            &b_expr.loc,
            format!("this is `{sb}`"),
        )
        .help(if b_what.contains("element") {
            "the elements of a list have one type"
        } else {
            "every branch must give a value of one type"
        });
        Typed::unknown()
    }

    pub(super) fn list(&mut self, xs: &[ast::Expr], loc: &Loc) -> (ir::Expr, Typed) {
        let mut items = Vec::new();
        let mut elem: Option<Typed> = None;
        for x in xs {
            let (xe, xt) = self.expr(x);
            elem = Some(match elem {
                None => xt,
                Some(prev) => self.unify(&prev, &xt, x, "this element", "the first element"),
            });
            items.push(xe);
        }
        let ty = Ty::List(Box::new(elem.map_or(Ty::Unknown, |t| t.ty)));
        let consts: Option<Vec<Const>> = items.iter().map(|i| as_const(i).cloned()).collect();
        match consts {
            Some(cs) => (konst(Const::List(cs.into()), loc), Typed::of(ty)),
            None => (ir(ir::ExprKind::List(items), loc), Typed::of(ty)),
        }
    }

    pub(super) fn var(&mut self, n: &ast::Name) -> (ir::Expr, Typed) {
        let loc = &n.loc;
        if let Some((slot, t)) = self.lookup(&n.name) {
            return (ir(ir::ExprKind::Local(slot), loc), t);
        }
        if n.name == "service" && self.note_service() {
            let kinds: Vec<KindId> = self.schema().service_model().kind.into_iter().collect();
            return (ir(ir::ExprKind::Service, loc), Typed::opt(Ty::Node(kinds)));
        }
        if let Some((e, t)) = self.const_value(&n.name) {
            return (ir::Expr { kind: e.kind, loc: loc.clone() }, t);
        }
        if self.is_plugin(&n.name) {
            self.error(
                Code::TypeMismatch,
                format!("plugin `{}` is not a value", n.name),
                loc,
                "a plugin",
            )
            .help(format!("call one of its functions: `{}.function(...)`", n.name));
            return (konst(Const::Null, loc), Typed::unknown());
        }
        // One unknown name is one mistake: later uses of it in the same
        // rule become labels of the first report, not new errors.
        if self.quiet == 0
            && let Some(first) =
                self.frame.unbound.iter().find(|(u, _)| *u == n.name).map(|(_, i)| *i)
        {
            self.label_diag(first, loc, "also used here");
            return (konst(Const::Null, loc), Typed::unknown());
        }
        if self.quiet == 0 {
            self.frame.unbound.push((n.name.clone(), self.diags.len()));
        }
        if let Some((_, bound)) = self.frame.path_binders.iter().rev().find(|(b, _)| *b == n.name) {
            let bound = bound.clone();
            let mut h = self.error(
                Code::UnboundVariable,
                format!("`{}` is only defined inside the quantifier whose path binds it", n.name),
                loc,
                "out of scope here",
            );
            h.label_at(&bound, "bound here, by a path");
            h.help(format!(
                "a name bound by a path lives only inside its `exists`, `all` or aggregate; move the test into the quantifier's `where`, e.g. `exists x -[e]-> {}: kind where {}.active`",
                n.name, n.name
            ));
            return (konst(Const::Null, loc), Typed::unknown());
        }
        if n.name == "service" && self.frame.context == super::Context::Pure {
            self.error(
                Code::UnboundVariable,
                "`service` is not defined in a constant or a function",
                loc,
                "no entity here",
            )
            .help("`service` is the business service of the entity a rule checks; pass what you need as a parameter, e.g. `fn max_age(tier: int)` called as `max_age(service.tier)`");
            return (konst(Const::Null, loc), Typed::unknown());
        }
        let names = self.names_in_scope();
        let s = did_you_mean(&n.name, names.iter().map(String::as_str)).map(str::to_owned);
        if let Some(s) = &s {
            // The author meant that name: do not also call it unused.
            self.lookup(s);
        }
        let mut h = self.error(
            Code::UnboundVariable,
            format!("`{}` is not defined here", n.name),
            loc,
            "unknown name",
        );
        match s {
            Some(s) => h.help(format!("did you mean `{s}`?")),
            None if names.is_empty() => {
                h.help("bind it first: `for x: kind`, `let x = ...`, or a path `a -[e]-> x`")
            }
            None => {
                let mut names = names;
                names.sort();
                names.dedup();
                h.help(format!(
                    "names in scope: {}",
                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ))
            }
        }
        (konst(Const::Null, loc), Typed::unknown())
    }
}
