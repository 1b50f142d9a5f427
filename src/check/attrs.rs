//! Attributes: `x.a` and `x has a` on nodes, their columns, and "did you
//! mean" for attributes of other kinds.

use std::sync::Arc;

use super::Checker;
use super::expr::*;
use super::types::{Ty, Typed};
use crate::diag::{Code, did_you_mean};
use crate::graph::KindId;
use crate::ir::{self, Const};
use crate::source::Loc;
use crate::syntax::ast::{self, ExprKind as A};

impl Checker<'_> {
    /// The columns of attribute `name` for a node type; reports an unknown one.
    pub(super) fn attr_slots(
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
    pub(super) fn attr_elsewhere(
        &self,
        kinds: &[KindId],
        attr: &str,
        obj_text: &str,
    ) -> Option<String> {
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
    pub(super) fn suggested_attr(&self, kinds: &[KindId], name: &str) -> Option<String> {
        let schema = self.schema();
        let mut names: Vec<String> = Vec::new();
        for (k, d) in schema.kinds() {
            if kinds.is_empty() || kinds.contains(&k) {
                names.extend(d.attrs().map(|(_, a)| a.name.clone()));
            }
        }
        did_you_mean(name, names.iter().map(String::as_str)).map(str::to_owned)
    }

    pub(super) fn node_operand(
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

    pub(super) fn field(
        &mut self,
        obj: &ast::Expr,
        name: &ast::Name,
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
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

    pub(super) fn has(
        &mut self,
        obj: &ast::Expr,
        name: &ast::Name,
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
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
}
