//! Binary and unary operators: comparisons, arithmetic, logic, membership.

use super::Checker;
use super::expr::*;
use super::types::{Ty, Typed};
use crate::diag::Code;
use crate::ir::value::{self, Value};
use crate::ir::{self, Const, Op};
use crate::source::Loc;
use crate::syntax::ast::{self, BinaryOp};

impl Checker<'_> {
    pub(super) fn binary(
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
}

/// The result type of an arithmetic operator, if it applies.
pub(super) fn arith(op: Op, a: &Ty, b: &Ty) -> Option<Ty> {
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
