//! The meaning of every operator on runtime values ([`crate::value`]), and
//! values to and from the IR's constants. The checker uses the same
//! functions to fold constants, so a folded expression and an evaluated one
//! cannot disagree.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use super::{Builtin, Const, Op};
use crate::time::{Duration, Timestamp};
pub(crate) use crate::value::overflow;
pub use crate::value::{OpError, Value, glob, neg};

impl<'a> Value<'a> {
    /// The value of a constant.
    pub fn from_const(c: &'a Const) -> Value<'a> {
        match c {
            Const::Null => Value::Missing,
            Const::Bool(b) => Value::Bool(*b),
            Const::Int(i) => Value::Int(*i),
            Const::Float(f) => Value::Float(*f),
            Const::Str(s) => Value::Str(Cow::Borrowed(s)),
            Const::Time(t) => Value::Time(*t),
            Const::Duration(d) => Value::Duration(*d),
            Const::List(xs) => Value::List(Arc::new(xs.iter().map(Value::from_const).collect())),
        }
    }

    /// The constant for a value (nodes have none).
    pub fn to_const(&self) -> Option<Const> {
        Some(match self {
            Value::Missing => Const::Null,
            Value::Bool(b) => Const::Bool(*b),
            Value::Int(i) => Const::Int(*i),
            Value::Float(f) => Const::Float(*f),
            Value::Str(s) => Const::Str(Arc::from(s.as_ref())),
            Value::Time(t) => Const::Time(*t),
            Value::Duration(d) => Const::Duration(*d),
            Value::List(xs) => {
                Const::List(xs.iter().map(Value::to_const).collect::<Option<Vec<_>>>()?.into())
            }
            Value::Node(_) => return None,
        })
    }

    /// [`Value::equals`] against a constant, without building a value for
    /// it when the two are of one scalar type (the common `x == "text"`).
    #[inline]
    pub fn equals_const(&self, c: &Const) -> bool {
        match (self, c) {
            (Value::Str(a), Const::Str(b)) => a.as_ref() == b.as_ref(),
            (Value::Int(a), Const::Int(b)) => a == b,
            (Value::Bool(a), Const::Bool(b)) => a == b,
            (Value::Time(a), Const::Time(b)) => a == b,
            (Value::Duration(a), Const::Duration(b)) => a == b,
            _ => self.equals(&Value::from_const(c)),
        }
    }
}

/// A comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) as a plain bool; `None`
/// for the other operators. Unordered operands compare false.
#[inline]
pub fn compare_op(op: Op, a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
    Some(match op {
        Op::Eq => a.equals(b),
        Op::Ne => !a.equals(b),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => match a.compare(b) {
            None => false,
            Some(o) => match op {
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            },
        },
        _ => return None,
    })
}

/// Applies a binary operator.
pub fn binary<'a>(op: Op, a: &Value<'a>, b: &Value<'a>) -> Result<Value<'a>, OpError> {
    use Value as V;
    Ok(match op {
        Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            V::Bool(compare_op(op, a, b).unwrap_or(false))
        }
        Op::In | Op::NotIn => {
            let found = match b {
                V::List(xs) => xs.iter().any(|x| x.equals(a)),
                V::Str(hay) => match a {
                    V::Str(needle) => hay.contains(needle.as_ref()),
                    _ => false,
                },
                _ => false,
            };
            V::Bool(found == (op == Op::In))
        }
        Op::Add => match (a, b) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_add(*y).ok_or_else(overflow)?),
            (V::Time(t), V::Duration(d)) | (V::Duration(d), V::Time(t)) => {
                V::Time(Timestamp(t.0.checked_add(d.0).ok_or_else(overflow)?))
            }
            (V::Duration(x), V::Duration(y)) => {
                V::Duration(Duration(x.0.checked_add(y.0).ok_or_else(overflow)?))
            }
            (V::Str(x), V::Str(y)) => V::Str(Cow::Owned(format!("{x}{y}"))),
            _ => float_op(a, b, |x, y| x + y)?,
        },
        Op::Sub => match (a, b) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_sub(*y).ok_or_else(overflow)?),
            (V::Time(x), V::Time(y)) => {
                V::Duration(Duration(x.0.checked_sub(y.0).ok_or_else(overflow)?))
            }
            (V::Time(t), V::Duration(d)) => {
                V::Time(Timestamp(t.0.checked_sub(d.0).ok_or_else(overflow)?))
            }
            (V::Duration(x), V::Duration(y)) => {
                V::Duration(Duration(x.0.checked_sub(y.0).ok_or_else(overflow)?))
            }
            _ => float_op(a, b, |x, y| x - y)?,
        },
        Op::Mul => match (a, b) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_mul(*y).ok_or_else(overflow)?),
            (V::Duration(d), V::Int(n)) | (V::Int(n), V::Duration(d)) => {
                V::Duration(Duration(d.0.checked_mul(*n).ok_or_else(overflow)?))
            }
            _ => float_op(a, b, |x, y| x * y)?,
        },
        Op::Div | Op::Rem => {
            let zero = matches!(b, V::Int(0))
                || matches!(b, V::Duration(Duration(0)))
                || matches!(b, V::Float(f) if *f == 0.0);
            if zero {
                return Err(OpError("division by zero".into()));
            }
            match (op, a, b) {
                (Op::Div, V::Int(x), V::Int(y)) => V::Int(x.checked_div(*y).ok_or_else(overflow)?),
                (Op::Rem, V::Int(x), V::Int(y)) => V::Int(x.checked_rem(*y).ok_or_else(overflow)?),
                (Op::Div, V::Duration(d), V::Int(n)) => {
                    V::Duration(Duration(d.0.checked_div(*n).ok_or_else(overflow)?))
                }
                (Op::Div, V::Duration(x), V::Duration(y)) => V::Float(x.0 as f64 / y.0 as f64),
                (Op::Div, _, _) => float_op(a, b, |x, y| x / y)?,
                _ => float_op(a, b, |x, y| x % y)?,
            }
        }
    })
}

fn float_op<'a>(
    a: &Value<'a>,
    b: &Value<'a>,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Value<'a>, OpError> {
    let num = |v: &Value<'_>| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => {
            let r = f(x, y);
            if r.is_finite() {
                Ok(Value::Float(r))
            } else {
                Err(OpError("arithmetic overflow".into()))
            }
        }
        // The checker rules these out; a missing operand yields missing.
        _ => Ok(Value::Missing),
    }
}

/// Applies a built-in to evaluated arguments (`Id` needs the graph and is
/// handled by the evaluator): its [`super::builtins::Def::eval`].
pub fn builtin<'a>(b: Builtin, args: &[Value<'a>]) -> Result<Value<'a>, OpError> {
    (b.def().eval)(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut must agree with building the constant's value, for every
    /// pair of kinds (across int and float too).
    #[test]
    fn equals_const_is_equals_of_the_constant() {
        let consts = [
            Const::Null,
            Const::Bool(true),
            Const::Bool(false),
            Const::Int(2),
            Const::Int(3),
            Const::Float(2.0),
            Const::Float(2.5),
            Const::Str(Arc::from("human")),
            Const::Str(Arc::from("")),
            Const::Time(Timestamp(100)),
            Const::Duration(Duration(100)),
            Const::List(Arc::from(vec![Const::Int(2), Const::Str(Arc::from("human"))])),
        ];
        let mut values: Vec<Value<'_>> = consts.iter().map(Value::from_const).collect();
        values.push(Value::Str(Cow::Owned("human".to_owned())));
        values.push(Value::Node(crate::graph::NodeId(2)));
        for v in &values {
            for c in &consts {
                assert_eq!(v.equals_const(c), v.equals(&Value::from_const(c)), "{v:?} == {c:?}");
            }
        }
    }

    #[test]
    fn time_arithmetic() {
        let t = Value::Time(Timestamp(100));
        let d = Value::Duration(Duration(40));
        assert_eq!(binary(Op::Sub, &t, &Value::Time(Timestamp(60))), Ok(d.clone()));
        assert_eq!(binary(Op::Add, &t, &d), Ok(Value::Time(Timestamp(140))));
        assert_eq!(
            binary(Op::Div, &Value::Int(1), &Value::Int(0)),
            Err(OpError("division by zero".into()))
        );
        assert_eq!(binary(Op::Lt, &Value::Missing, &Value::Int(1)), Ok(Value::Bool(false)));
        assert_eq!(binary(Op::Eq, &Value::Missing, &Value::Missing), Ok(Value::Bool(true)));
    }

    #[test]
    fn globs() {
        assert!(glob("iam:*", "iam:PassRole"));
        assert!(glob("*", ""));
        assert!(glob("a?c*", "abcdef"));
        assert!(!glob("iam:*", "s3:GetObject"));
    }
}
