//! Lowers `decision` blocks to [`ir::Decision`]: inputs become frame slots
//! with the types a request must give, lets and clauses keep their order,
//! reasons are pre-split templates. `service` in a decision is its first
//! input of kind `service` (what `priority by` ranks).

use std::sync::Arc;

use super::{Checker, Context, Ty, Typed};
use crate::diag::Code;
use crate::ir;
use crate::syntax::ast;

impl Checker<'_> {
    pub(super) fn lower_decision(&mut self, d: &ast::Decision) -> Option<ir::Decision> {
        self.start_frame(Context::Entity);
        let service_kind = self.schema.service_model().kind;
        let mut inputs: Vec<ir::DecisionInput> = Vec::new();
        let mut steps = Vec::new();
        let mut broken = false;
        for c in &d.clauses {
            match &c.kind {
                ast::DecisionClauseKind::Input { params } => {
                    for p in params {
                        let t = self.type_of(&p.ty);
                        if let Some(first) = inputs.iter().find(|i| *i.name == *p.name.name) {
                            let first = first.loc.clone();
                            let mut h = self.error(
                                Code::DuplicateName,
                                format!(
                                    "input `{}` is declared twice in decision `{}`",
                                    p.name.name, d.name.name
                                ),
                                &p.name.loc,
                                "declared again",
                            );
                            h.label_at(&first, "first declared here");
                            h.help("give each input its own name");
                            broken = true;
                            continue;
                        }
                        let slot =
                            self.bind(&p.name.name, t.clone().unwrap_or_else(Typed::unknown));
                        match t.as_ref().and_then(|t| input_type(&t.ty)) {
                            Some(ty) => inputs.push(ir::DecisionInput {
                                name: Arc::from(p.name.name.as_str()),
                                slot,
                                ty,
                                optional: t.is_some_and(|t| t.opt),
                                loc: p.name.loc.clone(),
                            }),
                            // An unknown type was reported by `type_of`.
                            None => broken = true,
                        }
                    }
                }
                ast::DecisionClauseKind::Let(l) => {
                    let (e, t) = self.expr(&l.value);
                    let slot = self.bind(&l.name.name, t);
                    steps.push(ir::DecisionStep::Let {
                        slot,
                        name: Arc::from(l.name.name.as_str()),
                        value: e,
                    });
                }
                ast::DecisionClauseKind::Deny { reason, when } => {
                    let (w, t) = self.expr(when);
                    self.expect_condition(&t, when);
                    let reason = self.template(reason);
                    steps.push(clause(ir::ClauseEffect::Deny, w, Some(reason), None, when, c));
                }
                ast::DecisionClauseKind::Allow { reason, when } => {
                    let (w, t) = self.expr(when);
                    self.expect_condition(&t, when);
                    let reason = reason.as_ref().map(|r| self.template(r));
                    steps.push(clause(ir::ClauseEffect::Allow, w, reason, None, when, c));
                }
                ast::DecisionClauseKind::Approval { from, when } => {
                    let (a, at) = self.expr(from);
                    if !approvers_type(&at.ty) {
                        let found = at.show(&self.schema);
                        self.error(
                            Code::TypeMismatch,
                            format!("approvers must be text, entities or a list of them, found `{found}`"),
                            &from.loc,
                            format!("this is `{found}`"),
                        )
                        .help("name approvers by address or id: `target.owner`, `[\"secops@example.com\", target.owner]`");
                    }
                    let (w, t) = self.expr(when);
                    self.expect_condition(&t, when);
                    steps.push(clause(ir::ClauseEffect::Approval, w, None, Some(a), when, c));
                }
            }
        }
        if broken || self.lowered.decisions.iter().any(|x| *x.name == *d.name.name) {
            // Errors were reported (or the name is a duplicate, reported when declaring).
            return None;
        }
        let service = inputs
            .iter()
            .find(|i| {
                matches!(i.ty.ty(), Ty::Node(ks)
                    if service_kind.is_some_and(|s| ks.len() == 1 && ks.contains(&s)))
            })
            .map(|i| i.slot);
        Some(ir::Decision {
            name: Arc::from(d.name.name.as_str()),
            doc: d.docs.join("\n"),
            name_loc: d.name.loc.clone(),
            inputs,
            steps,
            service,
            frame: usize::from(self.frame.max_slot),
        })
    }
}

fn clause(
    effect: ir::ClauseEffect,
    when: ir::Expr,
    reason: Option<ir::Template>,
    approvers: Option<ir::Expr>,
    cond: &ast::Expr,
    c: &ast::DecisionClause,
) -> ir::DecisionStep {
    ir::DecisionStep::Clause(ir::DecisionClause {
        effect,
        when,
        reason,
        approvers,
        text: Arc::from(cond.loc.text()),
        loc: c.loc.clone(),
    })
}

/// The request-side type of a declared input type.
fn input_type(t: &Ty) -> Option<ir::InputType> {
    ir::InputType::new(t.clone())
}

/// Approvers are named by text or by entity (its id), alone or in a list.
fn approvers_type(t: &Ty) -> bool {
    match t {
        Ty::Str | Ty::Node(_) | Ty::Unknown | Ty::Null => true,
        Ty::List(e) => approvers_type(e),
        _ => false,
    }
}
