//! Lowered `decision` blocks: inputs as frame slots with their types, lets
//! and clauses in source order, reason templates pre-split. Evaluated per
//! request by [`crate::decide`].

pub use crate::types::InputType;
use std::fmt::Write as _;
use std::sync::Arc;

use super::{Expr, Slot, Template, expr_text, template_text};
use crate::graph::Schema;
use crate::source::Loc;

/// A compiled decision block.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The decision's name (what a request names).
    pub name: Arc<str>,
    /// Doc comment.
    pub doc: String,
    /// Where the name is.
    pub name_loc: Loc,
    /// Declared inputs, in order.
    pub inputs: Vec<DecisionInput>,
    /// Lets and clauses in source order.
    pub steps: Vec<DecisionStep>,
    /// The slot of the first input of kind `service`: what `service` means
    /// in the decision, and what `priority by` ranks.
    pub service: Option<Slot>,
    /// Number of slots its frame needs.
    pub frame: usize,
}

/// One declared input.
#[derive(Clone, Debug)]
pub struct DecisionInput {
    /// Its name (the key in a request's `input`).
    pub name: Arc<str>,
    /// Its frame slot.
    pub slot: Slot,
    /// What it takes.
    pub ty: InputType,
    /// `T?`: may be left out (or `null`), then it is missing.
    pub optional: bool,
    /// Where it is declared.
    pub loc: Loc,
}

/// A `let` or a clause, in source order.
#[derive(Clone, Debug)]
pub enum DecisionStep {
    /// `let name = value`.
    Let {
        /// Slot.
        slot: Slot,
        /// Name, for dumps.
        name: Arc<str>,
        /// Value.
        value: Expr,
    },
    /// `deny` / `allow` / `require approval`.
    Clause(DecisionClause),
}

/// What a clause does when its condition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClauseEffect {
    /// `deny "reason" when cond`
    Deny,
    /// `require approval from expr when cond`
    Approval,
    /// `allow ["reason"] when cond`
    Allow,
}

impl ClauseEffect {
    /// As written in a reason (`deny`, `approval`, `allow`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseEffect::Deny => "deny",
            ClauseEffect::Approval => "approval",
            ClauseEffect::Allow => "allow",
        }
    }
}

/// One clause of a decision.
#[derive(Clone, Debug)]
pub struct DecisionClause {
    /// What it does.
    pub effect: ClauseEffect,
    /// When it applies.
    pub when: Expr,
    /// The reason text (deny, allow with a reason).
    pub reason: Option<Template>,
    /// Who must approve (approval clauses).
    pub approvers: Option<Expr>,
    /// The condition's source text (the message of an allow without a reason).
    pub text: Arc<str>,
    /// Where the clause is.
    pub loc: Loc,
}

impl Decision {
    /// The clauses with their step index, in source order.
    pub fn clauses(&self) -> impl Iterator<Item = (usize, &DecisionClause)> {
        self.steps.iter().enumerate().filter_map(|(i, s)| match s {
            DecisionStep::Clause(c) => Some((i, c)),
            DecisionStep::Let { .. } => None,
        })
    }

    /// The input of a name.
    pub fn input(&self, name: &str) -> Option<&DecisionInput> {
        self.inputs.iter().find(|i| &*i.name == name)
    }

    /// Appends the readable form for `gov check --emit ir`.
    pub(crate) fn dump(&self, out: &mut String, schema: &Schema) {
        let service = self.service.map_or_else(|| "none".to_owned(), |s| format!("${s}"));
        let _ = writeln!(out, "decision {} (frame {}, service {service})", self.name, self.frame);
        for i in &self.inputs {
            let _ = writeln!(
                out,
                "  input ${} ({}): {}{}",
                i.slot,
                i.name,
                i.ty.show(schema),
                if i.optional { "?" } else { "" }
            );
        }
        for s in &self.steps {
            match s {
                DecisionStep::Let { slot, name, value } => {
                    let _ = writeln!(out, "  let ${slot} ({name}) = {}", expr_text(value, schema));
                }
                DecisionStep::Clause(c) => {
                    let _ = write!(out, "  {}", c.effect.as_str());
                    if let Some(r) = &c.reason {
                        let _ = write!(out, " {}", template_text(r, schema));
                    }
                    if let Some(a) = &c.approvers {
                        let _ = write!(out, " from {}", expr_text(a, schema));
                    }
                    let _ = writeln!(out, " when {}", expr_text(&c.when, schema));
                }
            }
        }
    }
}
