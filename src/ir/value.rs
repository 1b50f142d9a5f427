//! Runtime values and the meaning of every operator on them. The checker uses
//! the same functions to fold constants, so a folded expression and an
//! evaluated one cannot disagree.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use super::{Builtin, Const, Op};
use crate::graph::NodeId;
use crate::time::{Duration, Timestamp};

/// A value during evaluation. Strings borrow from the graph or the program
/// where they can.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// No value: an absent attribute, `null`, an empty `min`.
    Missing,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Text.
    Str(Cow<'a, str>),
    /// Timestamp.
    Time(Timestamp),
    /// Duration.
    Duration(Duration),
    /// List.
    List(Arc<Vec<Value<'a>>>),
    /// A node of the graph.
    Node(NodeId),
}

/// Why an operation has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError(pub String);

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

    /// Truth in a condition: only `true` is true (a missing bool is false).
    pub fn truthy(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// Equality as `==` means it: numbers compare across int and float.
    pub fn equals(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                (*a as f64) == *b
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y))
            }
            (a, b) => a == b,
        }
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

    /// Order for `<` and friends, `min` and `max`; `None` when unordered.
    pub fn compare(&self, other: &Value<'_>) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
            (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Str(a), Value::Str(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

pub(crate) fn overflow() -> OpError {
    OpError("arithmetic overflow".into())
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

/// Applies `-x`.
pub fn neg<'a>(v: &Value<'a>) -> Result<Value<'a>, OpError> {
    Ok(match v {
        Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
        Value::Float(f) => Value::Float(-f),
        Value::Duration(d) => Value::Duration(Duration(d.0.checked_neg().ok_or_else(overflow)?)),
        _ => Value::Missing,
    })
}

/// Glob match with `*` (any run) and `?` (one character).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while ti < t.len() {
        match p.get(pi) {
            Some('?') => {
                pi += 1;
                ti += 1;
            }
            Some('*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(c) if Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Applies a built-in to evaluated arguments (`Id` needs the graph and is
/// handled by the evaluator): its [`super::builtins::Def::eval`].
pub fn builtin<'a>(b: Builtin, args: &[Value<'a>]) -> Result<Value<'a>, OpError> {
    (b.def().eval)(args)
}

impl fmt::Display for Value<'_> {
    /// How values appear in messages and evidence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Missing => f.write_str("none"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Time(t) => write!(f, "{t}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::List(xs) => super::write_list(f, xs.iter()),
            Value::Node(n) => write!(f, "node#{}", n.0),
        }
    }
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
