//! The built-in functions, one table entry each: name, how it is called,
//! arity, type rule and implementation. The checker, the evaluator,
//! constant folding and the language server read a built-in from here and
//! nowhere else, so adding one is one entry (and its [`Builtin`] variant).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::Builtin;
use super::value::{OpError, Value, glob, overflow};
use crate::graph::Schema;
use crate::time::Duration;
use crate::types::Ty;

/// One built-in function.
pub struct Def {
    /// Which it is.
    pub builtin: Builtin,
    /// How a policy calls it.
    pub name: &'static str,
    /// How it is called, for help and the editor (`starts_with(text, prefix)`).
    pub signature: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// `default`: its first argument may be missing (that is its point), and
    /// its result may be missing when its fallback may.
    pub fallback: bool,
    /// The type rule: the result's type for the arguments' types (none of
    /// them the error-recovery type), or the argument that is wrong.
    pub check: fn(&[Ty], &Schema) -> Result<Ty, Wrong>,
    /// The implementation, over evaluated arguments (`id` needs the graph:
    /// the evaluator answers it, this gives missing).
    pub eval: for<'a> fn(&[Value<'a>]) -> Result<Value<'a>, OpError>,
}

/// A call's argument of the wrong type, as a type rule reports it.
#[derive(Debug, PartialEq, Eq)]
pub struct Wrong {
    /// Which argument (from 0).
    pub arg: usize,
    /// What it should have been, in words (`a string`).
    pub want: String,
    /// Help beyond "call it as ..." when the mistake is a common one.
    pub help: Option<String>,
}

fn wrong(arg: usize, want: &str) -> Wrong {
    Wrong { arg, want: want.to_owned(), help: None }
}

/// The type of argument `i` (the error-recovery type when absent: the
/// checker checks the arity first).
fn arg(tys: &[Ty], i: usize) -> &Ty {
    tys.get(i).unwrap_or(&Ty::Unknown)
}

fn arg_value<'v, 'a>(args: &'v [Value<'a>], i: usize) -> &'v Value<'a> {
    args.get(i).unwrap_or(&Value::Missing)
}

/// Every built-in, in [`Builtin`] order.
pub static TABLE: [Def; 15] = [
    Def {
        builtin: Builtin::Default,
        name: "default",
        signature: "default(value, fallback)",
        arity: 2,
        fallback: true,
        check: |t, schema| {
            let (t0, t1) = (arg(t, 0), arg(t, 1));
            if !t0.comparable(t1) {
                let want = t0.show(schema);
                let example = match t0 {
                    Ty::Time => " (a date is written without quotes: `2099-01-01`)",
                    Ty::Duration => " (a duration has a unit: `90d`)",
                    _ => "",
                };
                return Err(Wrong {
                    arg: 1,
                    want: format!("a default of type `{want}`"),
                    help: Some(format!(
                        "the default stands in for the missing value, so it must be a `{want}` too{example}"
                    )),
                });
            }
            Ok(if *t0 == Ty::Null { t1.clone() } else { t0.clone() })
        },
        eval: |a| {
            let a0 = arg_value(a, 0);
            Ok(if matches!(a0, Value::Missing) { arg_value(a, 1).clone() } else { a0.clone() })
        },
    },
    Def {
        builtin: Builtin::Len,
        name: "len",
        signature: "len(list_or_string)",
        arity: 1,
        fallback: false,
        check: |t, _| match arg(t, 0) {
            Ty::List(_) | Ty::Str => Ok(Ty::Int),
            _ => Err(wrong(0, "a list or a string")),
        },
        eval: |a| {
            Ok(match arg_value(a, 0) {
                Value::List(xs) => Value::Int(i64::try_from(xs.len()).unwrap_or(i64::MAX)),
                Value::Str(s) => Value::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX)),
                _ => Value::Missing,
            })
        },
    },
    Def {
        builtin: Builtin::Lower,
        name: "lower",
        signature: "lower(text)",
        arity: 1,
        fallback: false,
        check: |t, _| text(t, Ty::Str),
        eval: |a| {
            Ok(match arg_value(a, 0) {
                Value::Str(s) => Value::Str(Cow::Owned(s.to_lowercase())),
                _ => Value::Missing,
            })
        },
    },
    Def {
        builtin: Builtin::Upper,
        name: "upper",
        signature: "upper(text)",
        arity: 1,
        fallback: false,
        check: |t, _| text(t, Ty::Str),
        eval: |a| {
            Ok(match arg_value(a, 0) {
                Value::Str(s) => Value::Str(Cow::Owned(s.to_uppercase())),
                _ => Value::Missing,
            })
        },
    },
    Def {
        builtin: Builtin::Contains,
        name: "contains",
        signature: "contains(text, part) or contains(list, item)",
        arity: 2,
        fallback: false,
        check: |t, _| match (arg(t, 0), arg(t, 1)) {
            (Ty::Str, Ty::Str) => Ok(Ty::Bool),
            (Ty::List(e), x) if e.comparable(x) => Ok(Ty::Bool),
            _ => Err(wrong(0, "a string and a string, or a list and an element")),
        },
        eval: |a| {
            Ok(match (arg_value(a, 0), arg_value(a, 1)) {
                (Value::Str(h), Value::Str(n)) => Value::Bool(h.contains(n.as_ref())),
                (Value::List(xs), x) => Value::Bool(xs.iter().any(|y| y.equals(x))),
                _ => Value::Bool(false),
            })
        },
    },
    Def {
        builtin: Builtin::StartsWith,
        name: "starts_with",
        signature: "starts_with(text, prefix)",
        arity: 2,
        fallback: false,
        check: two_texts,
        eval: |a| Ok(texts(a, |s, p| s.starts_with(p))),
    },
    Def {
        builtin: Builtin::EndsWith,
        name: "ends_with",
        signature: "ends_with(text, suffix)",
        arity: 2,
        fallback: false,
        check: two_texts,
        eval: |a| Ok(texts(a, |s, p| s.ends_with(p))),
    },
    Def {
        builtin: Builtin::Matches,
        name: "matches",
        signature: "matches(text, glob)",
        arity: 2,
        fallback: false,
        check: two_texts,
        eval: |a| Ok(texts(a, |s, p| glob(p, s))),
    },
    Def {
        builtin: Builtin::Days,
        name: "days",
        signature: "days(duration)",
        arity: 1,
        fallback: false,
        check: |t, _| duration_to_int(t),
        eval: |a| Ok(whole(a, 86_400)),
    },
    Def {
        builtin: Builtin::Hours,
        name: "hours",
        signature: "hours(duration)",
        arity: 1,
        fallback: false,
        check: |t, _| duration_to_int(t),
        eval: |a| Ok(whole(a, 3600)),
    },
    Def {
        builtin: Builtin::Min2,
        name: "min",
        signature: "min(a, b), or min(path | expr) over a path",
        arity: 2,
        fallback: false,
        check: ordered_pair,
        eval: |a| Ok(pick(a, Ordering::Greater)),
    },
    Def {
        builtin: Builtin::Max2,
        name: "max",
        signature: "max(a, b), or max(path | expr) over a path",
        arity: 2,
        fallback: false,
        check: ordered_pair,
        eval: |a| Ok(pick(a, Ordering::Less)),
    },
    Def {
        builtin: Builtin::Abs,
        name: "abs",
        signature: "abs(number)",
        arity: 1,
        fallback: false,
        check: |t, _| match arg(t, 0) {
            t0 @ (Ty::Int | Ty::Float | Ty::Duration) => Ok(t0.clone()),
            _ => Err(wrong(0, "a number or a duration")),
        },
        eval: |a| {
            Ok(match arg_value(a, 0) {
                Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(overflow)?),
                Value::Float(f) => Value::Float(f.abs()),
                Value::Duration(d) => {
                    Value::Duration(Duration(d.0.checked_abs().ok_or_else(overflow)?))
                }
                _ => Value::Missing,
            })
        },
    },
    Def {
        builtin: Builtin::IsEmpty,
        name: "is_empty",
        signature: "is_empty(list_or_string)",
        arity: 1,
        fallback: false,
        check: |t, _| match arg(t, 0) {
            Ty::List(_) | Ty::Str => Ok(Ty::Bool),
            _ => Err(wrong(0, "a list or a string")),
        },
        eval: |a| {
            Ok(match arg_value(a, 0) {
                Value::List(xs) => Value::Bool(xs.is_empty()),
                Value::Str(s) => Value::Bool(s.is_empty()),
                _ => Value::Missing,
            })
        },
    },
    Def {
        builtin: Builtin::Id,
        name: "id",
        signature: "id(node)",
        arity: 1,
        fallback: false,
        check: |t, _| match arg(t, 0) {
            Ty::Node(_) => Ok(Ty::Str),
            _ => Err(wrong(0, "a node")),
        },
        eval: |_| Ok(Value::Missing),
    },
];

/// One string argument; the result is `ret`.
fn text(t: &[Ty], ret: Ty) -> Result<Ty, Wrong> {
    if *arg(t, 0) == Ty::Str { Ok(ret) } else { Err(wrong(0, "a string")) }
}

/// Two string arguments; a bool.
fn two_texts(t: &[Ty], _: &Schema) -> Result<Ty, Wrong> {
    text(t, Ty::Bool)?;
    if *arg(t, 1) == Ty::Str { Ok(Ty::Bool) } else { Err(wrong(1, "a string")) }
}

fn duration_to_int(t: &[Ty]) -> Result<Ty, Wrong> {
    if *arg(t, 0) == Ty::Duration { Ok(Ty::Int) } else { Err(wrong(0, "a duration")) }
}

/// Two values of one ordered type; an int and a float give a float.
fn ordered_pair(t: &[Ty], schema: &Schema) -> Result<Ty, Wrong> {
    let (t0, t1) = (arg(t, 0), arg(t, 1));
    if !t0.orderable(t1) {
        let first = t0.show(schema);
        return Err(wrong(1, &format!("two values of one ordered type (the first is `{first}`)")));
    }
    Ok(if *t0 == Ty::Int && *t1 == Ty::Float { Ty::Float } else { t0.clone() })
}

/// A test of two strings (false unless both are strings).
fn texts<'a>(a: &[Value<'a>], f: fn(&str, &str) -> bool) -> Value<'a> {
    match (arg_value(a, 0), arg_value(a, 1)) {
        (Value::Str(s), Value::Str(p)) => Value::Bool(f(s, p)),
        _ => Value::Bool(false),
    }
}

/// Whole units of `unit` seconds in a duration.
fn whole<'a>(a: &[Value<'a>], unit: i64) -> Value<'a> {
    match arg_value(a, 0) {
        Value::Duration(d) => Value::Int(d.0.div_euclid(unit)),
        _ => Value::Missing,
    }
}

/// `min` (`drop` = Greater: keep the first unless it is greater) or `max`.
fn pick<'a>(a: &[Value<'a>], drop: Ordering) -> Value<'a> {
    let (a0, a1) = (arg_value(a, 0), arg_value(a, 1));
    match a0.compare(a1) {
        Some(o) if o != drop => a0.clone(),
        Some(_) => a1.clone(),
        None => Value::Missing,
    }
}

impl Builtin {
    /// Its table entry.
    pub fn def(self) -> &'static Def {
        // `TABLE` is in declaration order (a test pins it).
        TABLE.get(self as usize).unwrap_or(&TABLE[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order_and_complete() {
        assert_eq!(TABLE.len(), Builtin::ALL.len());
        let mut names = std::collections::BTreeSet::new();
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(*b as usize, i);
            assert_eq!(b.def().builtin, *b);
            assert!(names.insert(b.name()), "`{}` twice", b.name());
            assert!(b.def().signature.starts_with(&format!("{}(", b.name())), "{}", b.name());
        }
    }

    #[test]
    fn type_rules_name_the_wrong_argument() {
        let schema = Schema::empty();
        let check = |b: Builtin, tys: &[Ty]| (b.def().check)(tys, &schema);
        assert_eq!(check(Builtin::StartsWith, &[Ty::Str, Ty::Str]), Ok(Ty::Bool));
        assert_eq!(check(Builtin::StartsWith, &[Ty::Str, Ty::Int]).map_err(|w| w.arg), Err(1));
        assert_eq!(check(Builtin::Max2, &[Ty::Int, Ty::Float]), Ok(Ty::Float));
        assert_eq!(check(Builtin::Default, &[Ty::Null, Ty::Time]), Ok(Ty::Time));
        let w = check(Builtin::Default, &[Ty::Time, Ty::Str]).err();
        assert!(w.and_then(|w| w.help).is_some_and(|h| h.contains("without quotes")));
    }
}
