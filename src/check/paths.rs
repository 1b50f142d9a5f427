//! Quantifiers and aggregates over lists and graph paths, and the paths
//! themselves (steps, bindings, node filters).

use super::Checker;
use super::expr::*;
use super::types::{Ty, Typed};
use crate::diag::{Code, did_you_mean};
use crate::domain::Direction;
use crate::graph::KindId;
use crate::ir::{self, Agg, Bind, Const, Slot};
use crate::source::Loc;
use crate::syntax::ast;

impl Checker<'_> {
    pub(super) fn aggregate(
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

    pub(super) fn element_type(&mut self, t: &Typed, e: &ast::Expr) -> Typed {
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

    pub(super) fn aggregate_type(&mut self, agg: Agg, t: &Typed, e: &ast::Expr) -> Typed {
        self.aggregate_type_at(agg, t, &e.loc)
    }

    pub(super) fn aggregate_type_at(&mut self, agg: Agg, t: &Typed, loc: &Loc) -> Typed {
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

    pub(super) fn path(&mut self, p: &ast::PathPattern) -> Option<ir::Path> {
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
