//! Runtime values: what evaluation computes, plugins take and return, and
//! messages show. The operators that need the IR's vocabulary (constants,
//! operator and built-in ids) are `ir::value`; this module depends on
//! nothing but the graph's node ids and time, so every stage may use it.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

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

impl Value<'_> {
    /// Truth in a condition: only `true` is true (a missing bool is false).
    #[inline]
    pub fn truthy(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// Equality as `==` means it: numbers compare across int and float.
    #[inline]
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

    /// Order for `<` and friends, `min` and `max`; `None` when unordered.
    #[inline]
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

/// Writes `[a, b, c]`.
pub(crate) fn write_list<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = T>,
) -> fmt::Result {
    f.write_str("[")?;
    for (i, x) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    f.write_str("]")
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
            Value::List(xs) => write_list(f, xs.iter()),
            Value::Node(n) => write!(f, "node#{}", n.0),
        }
    }
}
