//! Expressions: name resolution, types, guards for optional attributes, and
//! lowering to IR with constants folded.

use std::sync::Arc;

use super::types::{Ty, Typed};
use super::{Checker, assignable};
use crate::diag::plural;
use crate::diag::{Code, did_you_mean};
use crate::domain::Direction;
use crate::graph::KindId;
use crate::ir::value::{self, Value};
use crate::ir::{self, Agg, Bind, Builtin, Const, Op, Slot};
use crate::source::Loc;
use crate::syntax::ast::{self, BinaryOp, ExprKind as A, UnaryOp};

fn ir(kind: ir::ExprKind, loc: &Loc) -> ir::Expr {
    ir::Expr { kind, loc: loc.clone() }
}

fn konst(c: Const, loc: &Loc) -> ir::Expr {
    ir(ir::ExprKind::Const(c), loc)
}

fn as_const(e: &ir::Expr) -> Option<&Const> {
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

fn builtin_named(name: &str) -> Option<Builtin> {
    Builtin::ALL.iter().copied().find(|b| b.name() == name)
}

/// The built-in that a name from another language (or a misspelling too far
/// for edit distance) most likely means.
fn familiar_builtin(name: &str) -> Option<&'static str> {
    Some(match name.to_lowercase().as_str() {
        "length" | "lenght" | "lentgh" | "size" | "strlen" => "len",
        "lowercase" | "tolower" | "to_lower" | "downcase" => "lower",
        "uppercase" | "toupper" | "to_upper" | "upcase" => "upper",
        "has_prefix" | "hasprefix" | "prefix" | "begins_with" => "starts_with",
        "has_suffix" | "hassuffix" | "suffix" => "ends_with",
        "includes" | "has_item" => "contains",
        "glob" | "like" | "fnmatch" => "matches",
        "coalesce" | "unwrap_or" | "or_else" | "ifnull" | "nvl" => "default",
        "empty" => "is_empty",
        _ => return None,
    })
}

/// How a built-in is called, for help ([`ir::builtins::Def::signature`]).
pub(crate) fn signature(b: Builtin) -> &'static str {
    b.def().signature
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
    fn enum_values(&self, e: &ir::Expr) -> Option<Vec<String>> {
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
    fn check_enum_literal(
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
    fn unify(
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

    fn list(&mut self, xs: &[ast::Expr], loc: &Loc) -> (ir::Expr, Typed) {
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

    fn var(&mut self, n: &ast::Name) -> (ir::Expr, Typed) {
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

    /// The columns of attribute `name` for a node type; reports an unknown one.
    fn attr_slots(
        &mut self,
        kinds: &[KindId],
        name: &ast::Name,
        obj_text: &str,
    ) -> Option<(Vec<(KindId, crate::graph::AttrId)>, Typed)> {
        let schema = self.schema();
        let candidates: Vec<KindId> = if kinds.is_empty() {
            schema.kinds().map(|(k, _)| k).collect()
        } else {
            kinds.to_vec()
        };
        let mut slots = Vec::new();
        let mut ty: Option<Ty> = None;
        let mut always = true;
        for k in &candidates {
            match schema.kind_def(*k).and_then(|d| d.attr(&name.name).map(|a| (a, d))) {
                Some((a, d)) => {
                    let def = d.attr_def(a);
                    if ty.is_none() {
                        ty = def.map(|x| Ty::from_attr(&x.ty));
                    }
                    always &= def.is_some_and(|x| x.required);
                    slots.push((*k, a));
                }
                None => always = false,
            }
        }
        if let Some(ty) = ty {
            return Some((slots, Typed { ty, opt: !always }));
        }
        if self.is_poisoned(&candidates, &name.name) {
            return Some((slots, Typed::unknown()));
        }
        let mut names: Vec<String> = Vec::new();
        for k in &candidates {
            if let Some(d) = self.schema().kind_def(*k) {
                names.extend(d.attrs().map(|(_, a)| a.name.clone()));
            }
        }
        names.sort();
        names.dedup();
        let kind_text = if kinds.is_empty() {
            "node".to_owned()
        } else {
            Ty::Node(kinds.to_vec()).show(self.schema())
        };
        let s = did_you_mean(&name.name, names.iter().map(String::as_str)).map(str::to_owned);
        let elsewhere =
            if kinds.is_empty() { None } else { self.attr_elsewhere(kinds, &name.name, obj_text) };
        let mut h = self.error(
            Code::CheckUnknownAttribute,
            format!("`{obj_text}` ({kind_text}) has no attribute `{}`", name.name),
            &name.loc,
            "unknown attribute",
        );
        match (s, elsewhere) {
            (Some(s), _) => h.help(format!("did you mean `{s}`?")),
            (None, Some(help)) => h.help(help),
            (None, None) => h.help(format!(
                "`{kind_text}` has {}; declare new attributes in a `schema` block",
                names.iter().take(12).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )),
        }
        None
    }

    /// When another kind has attribute `attr`: say which, and how to reach it
    /// from `kinds` with one edge, e.g. `exists id -[supports]-> s: service where s.tier ...`.
    fn attr_elsewhere(&self, kinds: &[KindId], attr: &str, obj_text: &str) -> Option<String> {
        let schema = self.schema();
        let owners: Vec<KindId> = schema
            .kinds()
            .filter(|(k, d)| !kinds.contains(k) && d.attr(attr).is_some())
            .map(|(k, _)| k)
            .collect();
        let first = *owners.first()?;
        let owner_names: Vec<&str> = owners.iter().map(|k| schema.kind_name(*k)).collect();
        let list = owner_names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        // An edge meant for these kinds first, then one from any kind.
        let reaches = |d: &crate::graph::EdgeKindDef| !d.to.is_empty() && d.to.contains(&first);
        let edge = schema
            .edge_kinds()
            .find(|(_, d)| reaches(d) && kinds.iter().any(|k| d.from.contains(k)))
            .or_else(|| schema.edge_kinds().find(|(_, d)| reaches(d) && d.from.is_empty()));
        let owner = schema.kind_name(first);
        let var = owner.chars().next().unwrap_or('x');
        Some(match edge {
            Some((_, d)) => format!(
                "`{attr}` is an attribute of {list}; reach it through a path, e.g. `exists {obj_text} -[{}]-> {var}: {owner} where {var}.{attr} ...`",
                d.name
            ),
            None => format!("`{attr}` is an attribute of {list}, not of this kind"),
        })
    }

    /// The attribute of `kinds` closest to a misspelled `name`, if any.
    fn suggested_attr(&self, kinds: &[KindId], name: &str) -> Option<String> {
        let schema = self.schema();
        let mut names: Vec<String> = Vec::new();
        for (k, d) in schema.kinds() {
            if kinds.is_empty() || kinds.contains(&k) {
                names.extend(d.attrs().map(|(_, a)| a.name.clone()));
            }
        }
        did_you_mean(name, names.iter().map(String::as_str)).map(str::to_owned)
    }

    fn node_operand(
        &mut self,
        obj: &ast::Expr,
        what: &str,
    ) -> Option<(ir::Expr, Typed, Vec<KindId>)> {
        let (oe, ot) = self.expr(obj);
        match &ot.ty {
            Ty::Unknown => None,
            Ty::Node(ks) => {
                let ks = ks.clone();
                Some((oe, ot, ks))
            }
            other => {
                let found = other.show(self.schema());
                self.error(
                    Code::TypeMismatch,
                    format!("{what} needs a node, found `{found}`"),
                    &obj.loc,
                    format!("this is `{found}`"),
                )
                .help("attributes belong to nodes (identities, credentials, services, ...)");
                None
            }
        }
    }

    fn field(&mut self, obj: &ast::Expr, name: &ast::Name, loc: &Loc) -> (ir::Expr, Typed) {
        if let A::Var(p) = &obj.kind
            && self.is_plugin(&p.name)
            && self.lookup(&p.name).is_none()
        {
            self.error(
                Code::TypeMismatch,
                format!("`{}.{}` is a plugin function", p.name, name.name),
                loc,
                "not called",
            )
            .help(format!("call it: `{}.{}(...)`", p.name, name.name));
            return (konst(Const::Null, loc), Typed::unknown());
        }
        let Some((oe, ot, kinds)) = self.node_operand(obj, &format!("`.{}`", name.name)) else {
            return (konst(Const::Null, loc), Typed::unknown());
        };
        let Some((slots, mut t)) = self.attr_slots(&kinds, name, obj.loc.text()) else {
            return (konst(Const::Null, loc), Typed::unknown());
        };
        // `x has a` proves both that `x` is there and that it has `a`.
        if let Some(s) = fact_slot(&oe)
            && self.proven(s, &name.name)
        {
            t.opt = false;
        } else {
            t.opt |= ot.opt;
        }
        let kind =
            ir::ExprKind::Attr { node: Box::new(oe), slots, name: Arc::from(name.name.as_str()) };
        (ir(kind, loc), t)
    }

    fn has(&mut self, obj: &ast::Expr, name: &ast::Name, loc: &Loc) -> (ir::Expr, Typed) {
        let Some((oe, _, kinds)) = self.node_operand(obj, "`has`") else {
            return (konst(Const::Null, loc), Typed::of(Ty::Bool));
        };
        let Some((slots, t)) = self.attr_slots(&kinds, name, obj.loc.text()) else {
            // Reported. Recover as if the author wrote the suggested name, so
            // that the guard still covers its uses (no follow-on errors).
            if let Some(fixed) = self.suggested_attr(&kinds, &name.name) {
                let fixed = ast::Name { name: fixed, loc: name.loc.clone() };
                self.quiet += 1;
                let r = self.attr_slots(&kinds, &fixed, obj.loc.text());
                self.quiet -= 1;
                if let Some((slots, _)) = r {
                    let kind = ir::ExprKind::Has {
                        node: Box::new(oe),
                        slots,
                        name: Arc::from(fixed.name.as_str()),
                    };
                    return (ir(kind, loc), Typed::of(Ty::Bool));
                }
            }
            return (konst(Const::Null, loc), Typed::of(Ty::Bool));
        };
        if !t.opt && !t.is_unknown() {
            self.warning(
                Code::NeverMatches,
                format!("`{}` always has `{}`", obj.loc.text(), name.name),
                loc,
                "always true",
            )
            .help("the attribute is required, so this test is always true; remove it");
        }
        (
            ir(
                ir::ExprKind::Has {
                    node: Box::new(oe),
                    slots,
                    name: Arc::from(name.name.as_str()),
                },
                loc,
            ),
            Typed::of(Ty::Bool),
        )
    }

    fn call(&mut self, callee: &ast::Expr, args: &[ast::Expr], loc: &Loc) -> (ir::Expr, Typed) {
        match &callee.kind {
            A::Var(f) if self.lookup(&f.name).is_none() => {
                if self.is_fn(&f.name)
                    && let Some(r) = self.call_fn(&f.name, args, loc)
                {
                    return r;
                }
                if let Some(b) = builtin_named(&f.name) {
                    return self.builtin(b, args.iter().collect(), loc);
                }
                // The arguments are checked on their own: their mistakes are
                // independent, and the names they use count as used.
                for a in args {
                    self.expr(a);
                }
                let mut names = self.fn_names();
                names.extend(Builtin::ALL.iter().map(|b| b.name().to_owned()));
                let s = did_you_mean(&f.name, names.iter().map(String::as_str))
                    .or_else(|| familiar_builtin(&f.name))
                    .map(str::to_owned);
                let mut h = self.error(
                    Code::UnknownFunction,
                    format!("unknown function `{}`", f.name),
                    &f.loc,
                    "not a function",
                );
                match s {
                    Some(s) => h.help(format!("did you mean `{s}`?")),
                    None => h.help(format!(
                        "built-in functions: {}; declare your own with `fn`",
                        Builtin::ALL
                            .iter()
                            .map(|b| format!("`{}`", b.name()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
                (konst(Const::Null, loc), Typed::unknown())
            }
            A::Field(obj, m) => {
                if let A::Var(p) = &obj.kind
                    && self.is_plugin(&p.name)
                    && self.lookup(&p.name).is_none()
                {
                    return self.plugin_call(p, m, args, loc);
                }
                if let Some(b) = builtin_named(&m.name) {
                    // Method style: `x.f(a)` is `f(x, a)`.
                    let mut all: Vec<&ast::Expr> = vec![obj.as_ref()];
                    all.extend(args.iter());
                    return self.builtin(b, all, loc);
                }
                self.expr(obj);
                for a in args {
                    self.expr(a);
                }
                let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
                let s = did_you_mean(&m.name, names.iter().copied())
                    .or_else(|| familiar_builtin(&m.name))
                    .map(str::to_owned);
                let mut h = self.error(
                    Code::UnknownFunction,
                    format!("unknown function `{}`", m.name),
                    &m.loc,
                    "not a function",
                );
                if let Some(s) = s {
                    h.help(format!("did you mean `{s}`?"));
                }
                (konst(Const::Null, loc), Typed::unknown())
            }
            _ => {
                self.error(Code::TypeMismatch, "this cannot be called", &callee.loc, "not a function")
                    .help("call a function by name: `f(x)`, a built-in method `x.f()` or a plugin `p.f(x)`");
                (konst(Const::Null, loc), Typed::unknown())
            }
        }
    }

    fn builtin(&mut self, b: Builtin, args: Vec<&ast::Expr>, loc: &Loc) -> (ir::Expr, Typed) {
        let def = b.def();
        let arity = def.arity;
        let mut lowered = Vec::new();
        let mut types = Vec::new();
        for a in &args {
            let (e, t) = self.expr(a);
            lowered.push(e);
            types.push(t);
        }
        if args.len() != arity {
            self.error(
                Code::WrongArity,
                format!("`{}` takes {}, found {}", b.name(), plural(arity, "argument"), args.len()),
                loc,
                "wrong number of arguments",
            )
            .help(format!("call it as `{}`", def.signature));
            return (konst(Const::Null, loc), Typed::unknown());
        }
        if types.iter().any(Typed::is_unknown) {
            return (konst(Const::Null, loc), Typed::unknown());
        }
        let tys: Vec<Ty> = types.iter().map(|t| t.ty.clone()).collect();
        let ret = match (def.check)(&tys, self.schema()) {
            Ok(ret) => ret,
            Err(w) => {
                if let (Some(a), Some(t)) = (args.get(w.arg), types.get(w.arg)) {
                    let found = t.ty.show(self.schema());
                    self.error(
                        Code::TypeMismatch,
                        format!("`{}` expects {}, found `{found}`", b.name(), w.want),
                        &a.loc,
                        format!("this is `{found}`"),
                    )
                    .help(w.help.unwrap_or_else(|| format!("call it as `{}`", def.signature)));
                }
                return (konst(Const::Null, loc), Typed::unknown());
            }
        };
        // Every argument but `default`'s first must be present (checked after
        // the types: a wrong type is the one error).
        for (i, (a, t)) in args.iter().zip(&types).enumerate() {
            if !(def.fallback && i == 0) {
                self.present(t, a);
            }
        }
        let ret_t = if def.fallback {
            Typed { ty: ret, opt: types.get(1).is_some_and(|t| t.opt) }
        } else {
            Typed::of(ret)
        };
        // Fold calls on constants.
        if b != Builtin::Id {
            let consts: Option<Vec<&Const>> = lowered.iter().map(as_const).collect();
            if let Some(cs) = consts {
                let vals: Vec<Value<'_>> = cs.into_iter().map(Value::from_const).collect();
                if let Ok(v) = value::builtin(b, &vals)
                    && let Some(c) = v.to_const()
                {
                    return (konst(c, loc), ret_t);
                }
            }
        }
        (ir(ir::ExprKind::Call(b, lowered), loc), ret_t)
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        a: &ast::Expr,
        b: &ast::Expr,
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
        let (ae, at) = self.expr(a);
        let (be, bt) = self.expr(b);
        let iop = match op {
            BinaryOp::Eq => Op::Eq,
            BinaryOp::Ne => Op::Ne,
            BinaryOp::Lt => Op::Lt,
            BinaryOp::Le => Op::Le,
            BinaryOp::Gt => Op::Gt,
            BinaryOp::Ge => Op::Ge,
            BinaryOp::In => Op::In,
            BinaryOp::NotIn => Op::NotIn,
            BinaryOp::Add => Op::Add,
            BinaryOp::Sub => Op::Sub,
            BinaryOp::Mul => Op::Mul,
            BinaryOp::Div => Op::Div,
            BinaryOp::Rem => Op::Rem,
            BinaryOp::And | BinaryOp::Or => Op::Eq,
        };
        if at.is_unknown() || bt.is_unknown() {
            return (konst(Const::Null, loc), Typed::unknown());
        }
        // The shapes first: an operator that does not apply is the one
        // error; whether an operand may be missing matters only after that.
        let result: Option<Ty> = match iop {
            Op::Eq | Op::Ne => at.ty.comparable(&bt.ty).then_some(Ty::Bool),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => at.ty.orderable(&bt.ty).then_some(Ty::Bool),
            Op::In | Op::NotIn => match &bt.ty {
                Ty::List(e) => e.comparable(&at.ty).then_some(Ty::Bool),
                Ty::Str => (at.ty == Ty::Str).then_some(Ty::Bool),
                _ => None,
            },
            _ => arith(iop, &at.ty, &bt.ty),
        };
        if result.is_some() {
            match iop {
                Op::Eq | Op::Ne => {}
                Op::In | Op::NotIn => self.present(&bt, b),
                _ => {
                    self.present(&at, a);
                    self.present(&bt, b);
                }
            }
        }
        let Some(ty) = result else {
            let (sa, sb) = (at.ty.show(self.schema()), bt.ty.show(self.schema()));
            let message = match iop {
                Op::Eq | Op::Ne => format!("cannot compare `{sa}` with `{sb}`"),
                Op::In | Op::NotIn => format!(
                    "`{}` needs a list (or a string) on the right, found `{sb}`",
                    iop.as_str()
                ),
                _ => format!("`{}` does not apply to `{sa}` and `{sb}`", iop.as_str()),
            };
            let mut h = self.error(
                Code::TypeMismatch,
                message,
                loc,
                format!("`{sa}` {} `{sb}`", iop.as_str()),
            );
            h.label_at(&a.loc, &format!("this is `{sa}`"));
            h.label_at(&b.loc, &format!("this is `{sb}`"));
            if (at.ty == Ty::Time && bt.ty == Ty::Str) || (at.ty == Ty::Str && bt.ty == Ty::Time) {
                h.help(
                    "write dates without quotes: `2027-01-31` is a date, `\"2027-01-31\"` is text",
                );
            } else if (at.ty == Ty::Duration && bt.ty == Ty::Int)
                || (at.ty == Ty::Int && bt.ty == Ty::Duration)
            {
                h.help("give the number a unit: `90d`, `24h`; or convert the duration with `days(...)`");
            } else if matches!(iop, Op::Lt | Op::Le | Op::Gt | Op::Ge)
                && ((at.ty == Ty::Time && bt.ty == Ty::Duration)
                    || (at.ty == Ty::Duration && bt.ty == Ty::Time))
            {
                h.help("to compare an age, subtract: `now - x < 90d`");
            } else if at.ty == Ty::Str && bt.ty == Ty::Str {
                h.help("`+` joins strings; `-`, `*`, `/` and `%` apply to numbers, durations and timestamps");
            } else if matches!(iop, Op::In | Op::NotIn) {
                h.help(format!(
                    "write a list: `{} {} [..., ...]`, or compare one value with `==`",
                    a.loc.text(),
                    iop.as_str()
                ));
            } else if matches!((&at.ty, &bt.ty), (Ty::Node(_), Ty::Str) | (Ty::Str, Ty::Node(_))) {
                let node = if matches!(at.ty, Ty::Node(_)) { a } else { b };
                h.help(format!(
                    "a node is not its name; compare an attribute, e.g. `{}.name`, or use `id({})`",
                    node.loc.text(),
                    node.loc.text()
                ));
            }
            return (konst(Const::Null, loc), Typed::unknown());
        };
        if matches!(iop, Op::Eq | Op::Ne | Op::In | Op::NotIn) {
            self.check_enum_literal(iop, &ae, &be, a, b);
        }
        if let (Some(x), Some(y)) = (as_const(&ae), as_const(&be))
            && let Ok(v) = value::binary(iop, &Value::from_const(x), &Value::from_const(y))
            && let Some(c) = v.to_const()
        {
            return (konst(c, loc), Typed::of(ty));
        }
        (ir(ir::ExprKind::Binary(iop, Box::new(ae), Box::new(be)), loc), Typed::of(ty))
    }

    fn aggregate(
        &mut self,
        agg: Agg,
        source: &ast::Source,
        cond: Option<&ast::Expr>,
        projection: Option<&ast::Expr>,
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
        let mark = self.scope_mark();
        let (src, element): (Option<ir::Source>, Option<(Slot, Typed)>) = match source {
            ast::Source::Path(p) => (self.path(p).map(ir::Source::Path), None),
            ast::Source::In { binder, collection } => {
                let (ce, ct) = self.expr(collection);
                let elem = self.element_type(&ct, collection);
                if matches!(ct.ty, Ty::List(_)) {
                    self.present(&ct, collection);
                }
                let name = match binder {
                    ast::Binder::Named(n) => n.name.clone(),
                    ast::Binder::Anonymous(_) => "_".to_owned(),
                };
                let slot = self.bind(&name, elem.clone());
                (Some(ir::Source::List { slot, list: ce }), Some((slot, elem)))
            }
            ast::Source::Expr { value } => {
                let (ce, ct) = self.expr(value);
                let elem = self.element_type(&ct, value);
                if matches!(ct.ty, Ty::List(_)) {
                    self.present(&ct, value);
                }
                let slot = self.bind("_", elem.clone());
                (Some(ir::Source::List { slot, list: ce }), Some((slot, elem)))
            }
        };
        let cond_ir = cond.map(|c| {
            let (ce, ct) = self.expr(c);
            self.expect_condition(&ct, c);
            ce
        });
        let mut result = Typed::of(match agg {
            Agg::Exists | Agg::All => Ty::Bool,
            _ => Ty::Int,
        });
        let proj_ir = match (agg, projection, &element) {
            (Agg::Exists | Agg::All | Agg::Count, Some(p), _) => {
                self.expr(p);
                self.error(
                    Code::TypeMismatch,
                    "this aggregate takes no `| projection`",
                    &p.loc,
                    "not used",
                )
                .help("`| expr` says what `min`, `max` and `sum` aggregate");
                None
            }
            (Agg::Min | Agg::Max | Agg::Sum, Some(p), _) => {
                // Missing projections are skipped, so they need no guard.
                let (pe, pt) = self.expr(p);
                result = self.aggregate_type(agg, &pt, p);
                Some(pe)
            }
            (Agg::Min | Agg::Max | Agg::Sum, None, Some((slot, t))) => {
                let t = t.clone();
                let e = ir(ir::ExprKind::Local(*slot), loc);
                result = self.aggregate_type_at(agg, &t, loc);
                Some(e)
            }
            (Agg::Min | Agg::Max | Agg::Sum, None, None) => {
                self.error(
                    Code::TypeMismatch,
                    format!("`{}` over a path needs a projection", format!("{agg:?}").to_lowercase()),
                    loc,
                    "what is aggregated?",
                )
                .help("add `| expr`, e.g. `min(c <-[has_credential]- _ -[supports]-> s: service | s.tier)`");
                result = Typed::unknown();
                None
            }
            _ => None,
        };
        self.scope_reset(mark);
        let Some(src) = src else { return (konst(Const::Null, loc), Typed::unknown()) };
        let kind = ir::ExprKind::Aggregate {
            agg,
            source: Box::new(src),
            cond: cond_ir.map(Box::new),
            projection: proj_ir.map(Box::new),
        };
        (ir(kind, loc), result)
    }

    fn element_type(&mut self, t: &Typed, e: &ast::Expr) -> Typed {
        match &t.ty {
            Ty::List(elem) => Typed::of((**elem).clone()),
            Ty::Unknown => Typed::unknown(),
            other => {
                let found = other.show(self.schema());
                self.error(
                    Code::TypeMismatch,
                    format!("expected a list, found `{found}`"),
                    &e.loc,
                    format!("this is `{found}`"),
                )
                .help("quantifiers range over a path (`a -[edge]-> b`) or a list (`x in xs`)");
                Typed::unknown()
            }
        }
    }

    fn aggregate_type(&mut self, agg: Agg, t: &Typed, e: &ast::Expr) -> Typed {
        self.aggregate_type_at(agg, t, &e.loc)
    }

    fn aggregate_type_at(&mut self, agg: Agg, t: &Typed, loc: &Loc) -> Typed {
        let ok = match agg {
            Agg::Sum => matches!(t.ty, Ty::Int | Ty::Float | Ty::Duration | Ty::Unknown),
            _ => matches!(
                t.ty,
                Ty::Int | Ty::Float | Ty::Duration | Ty::Time | Ty::Str | Ty::Unknown
            ),
        };
        if !ok {
            let found = t.ty.show(self.schema());
            let name = format!("{agg:?}").to_lowercase();
            self.error(
                Code::TypeMismatch,
                format!("cannot take the `{name}` of `{found}` values"),
                loc,
                format!("this is `{found}`"),
            )
            .help(match agg {
                Agg::Sum => "`sum` adds numbers or durations; to count matches, use `count(...)`",
                _ => "`min` and `max` take numbers, durations, timestamps or strings",
            });
            return Typed::unknown();
        }
        // `min`/`max` of nothing is missing; a sum of nothing is zero.
        Typed { ty: t.ty.clone(), opt: agg != Agg::Sum }
    }

    fn path(&mut self, p: &ast::PathPattern) -> Option<ir::Path> {
        let start = match &p.start {
            ast::Binder::Named(n) => {
                let (e, t) = self.var(n);
                match t.ty {
                    Ty::Node(_) => e,
                    Ty::Unknown => return None,
                    other => {
                        let found = other.show(self.schema());
                        self.error(
                            Code::InvalidPath,
                            format!("a path starts at a node, `{}` is `{found}`", n.name),
                            &n.loc,
                            "not a node",
                        );
                        return None;
                    }
                }
            }
            ast::Binder::Anonymous(l) => {
                self.error(Code::InvalidPath, "a path must start at a bound node, not `_`", l, "unbound start")
                    .help("start from the rule's variable or another bound node, e.g. `id -[owned_by]-> p`");
                return None;
            }
        };
        let mut steps = Vec::new();
        let mut named = Vec::new();
        let mut ok = true;
        for st in &p.steps {
            let mut edges = Vec::new();
            let mut any_edge = false;
            for e in &st.edges {
                if e.name == "_" {
                    any_edge = true;
                    continue;
                }
                match self.schema().edge_kind(&e.name) {
                    Some(id) => edges.push(id),
                    None => {
                        ok = false;
                        let names: Vec<String> =
                            self.schema().edge_kinds().map(|(_, d)| d.name.clone()).collect();
                        let s = did_you_mean(&e.name, names.iter().map(String::as_str))
                            .map(str::to_owned);
                        let mut h = self.error(
                            Code::CheckUnknownEdgeKind,
                            format!("unknown edge kind `{}`", e.name),
                            &e.loc,
                            "not an edge kind",
                        );
                        match s {
                            Some(s) => h.help(format!("did you mean `{s}`?")),
                            None => h.help(format!("edge kinds: {}", super::sorted_list(&names))),
                        }
                    }
                }
            }
            if any_edge {
                edges.clear();
            }
            // Kinds reachable through these edges, when the schema says.
            let mut inferred: Vec<KindId> = Vec::new();
            let mut unconstrained = edges.is_empty();
            for e in &edges {
                if let Some(def) = self.schema().edge_def(*e) {
                    let ends: Vec<KindId> = match st.direction {
                        Direction::Out => def.to.clone(),
                        Direction::In => def.from.clone(),
                        Direction::Either => {
                            if def.to.is_empty() || def.from.is_empty() {
                                Vec::new()
                            } else {
                                def.to.iter().chain(def.from.iter()).copied().collect()
                            }
                        }
                    };
                    if ends.is_empty() {
                        unconstrained = true;
                    }
                    inferred.extend(ends);
                }
            }
            inferred.sort();
            inferred.dedup();
            if unconstrained {
                inferred.clear();
            }
            let annotated = st.node.kind.as_ref().and_then(|k| self.kind(k));
            if st.node.kind.is_some() && annotated.is_none() {
                ok = false;
            }
            if let (Some(k), false) = (annotated, inferred.is_empty())
                && !inferred.contains(&k)
                && st.repeat.is_none()
                && let Some(kn) = &st.node.kind
            {
                let reach = Ty::Node(inferred.clone()).show(self.schema());
                let edge_names = edges
                    .iter()
                    .map(|e| self.schema().edge_name(*e).to_owned())
                    .collect::<Vec<_>>()
                    .join("|");
                self.warning(
                    Code::NeverMatches,
                    format!("`{}` can never be reached by `{edge_names}`", kn.name),
                    &st.loc,
                    format!("`{edge_names}` leads to {reach} here"),
                )
                .help("check the edge kind and its direction (`-[e]->` follows edges out, `<-[e]-` in)");
            }
            let kinds: Vec<KindId> = match annotated {
                Some(k) => vec![k],
                None => inferred,
            };
            let bind = match &st.node.binder {
                ast::Binder::Anonymous(_) => Bind::Anonymous,
                ast::Binder::Named(n) => {
                    let pinned = if st.node.kind.is_none() { self.lookup(&n.name) } else { None };
                    match pinned {
                        Some((slot, t)) if matches!(t.ty, Ty::Node(_)) => Bind::Pinned(slot),
                        _ => {
                            // An unknown kind or edge kind on the way here was
                            // reported: the binder is `Unknown`, so its uses are not.
                            let ty = if !ok {
                                Typed::unknown()
                            } else {
                                Typed::of(Ty::Node(kinds.clone()))
                            };
                            let slot = self.bind(&n.name, ty);
                            self.frame.path_binders.push((n.name.clone(), n.loc.clone()));
                            named.push(slot);
                            Bind::New(slot)
                        }
                    }
                }
            };
            let filter = st.node.filter.as_ref().map(|f| {
                let (fe, ft) = self.expr(f);
                self.expect_condition(&ft, f);
                // A node's filter holds for every match: it guards the rest
                // of the path and the quantifier's `where`.
                let facts = facts_of(&fe, true);
                self.push_facts(facts);
                fe
            });
            let (min, max) = match st.repeat {
                None => (1, Some(1)),
                Some(r) => (r.min, r.max),
            };
            steps.push(ir::Step {
                direction: st.direction,
                edges,
                min,
                max,
                kinds: if st.node.kind.is_some() { kinds } else { Vec::new() },
                bind,
                filter,
                loc: st.loc.clone(),
            });
        }
        ok.then_some(ir::Path { start, steps, named })
    }
}

/// The result type of an arithmetic operator, if it applies.
fn arith(op: Op, a: &Ty, b: &Ty) -> Option<Ty> {
    use Ty::*;
    Some(match (op, a, b) {
        (Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem, Int, Int) => Int,
        (Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem, x, y)
            if x.is_numeric() && y.is_numeric() =>
        {
            Float
        }
        (Op::Add, Str, Str) => Str,
        (Op::Add, Time, Duration) | (Op::Add, Duration, Time) | (Op::Sub, Time, Duration) => Time,
        (Op::Sub, Time, Time) => Duration,
        (Op::Add | Op::Sub, Duration, Duration) => Duration,
        (Op::Mul, Duration, Int) | (Op::Mul, Int, Duration) | (Op::Div, Duration, Int) => Duration,
        (Op::Div, Duration, Duration) => Float,
        _ => return None,
    })
}
