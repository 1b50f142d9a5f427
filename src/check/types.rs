//! Static types of expressions.

use std::fmt;

use crate::graph::{AttrType, KindId, Schema};

/// The shape of a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// `true`/`false`.
    Bool,
    /// Integer.
    Int,
    /// Float.
    Float,
    /// Text (enums are text too).
    Str,
    /// Timestamp.
    Time,
    /// Duration.
    Duration,
    /// The `null` literal.
    Null,
    /// A list.
    List(Box<Ty>),
    /// A node of one of these kinds (empty: any kind).
    Node(Vec<KindId>),
    /// The type of an expression that already has an error: accepted
    /// everywhere so that one mistake is reported once.
    Unknown,
}

/// A type and whether the value may be missing.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    /// The shape.
    pub ty: Ty,
    /// May be missing (an optional attribute, an empty `min`, ...).
    pub opt: bool,
}

impl Typed {
    /// A value that is always present.
    pub fn of(ty: Ty) -> Self {
        Typed { ty, opt: false }
    }

    /// A value that may be missing.
    pub fn opt(ty: Ty) -> Self {
        Typed { ty, opt: true }
    }

    /// The error-recovery type.
    pub fn unknown() -> Self {
        Typed::of(Ty::Unknown)
    }

    /// True for the error-recovery type.
    pub fn is_unknown(&self) -> bool {
        self.ty == Ty::Unknown
    }
}

impl Ty {
    /// The type of an attribute's values.
    pub fn from_attr(t: &AttrType) -> Ty {
        match t {
            AttrType::String | AttrType::Enum(_) => Ty::Str,
            AttrType::Int => Ty::Int,
            AttrType::Float => Ty::Float,
            AttrType::Bool => Ty::Bool,
            AttrType::Timestamp => Ty::Time,
            AttrType::Duration => Ty::Duration,
            AttrType::List(e) => Ty::List(Box::new(Ty::from_attr(e))),
        }
    }

    /// True for `int` and `float`.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    /// Values of both types can be compared with `==`.
    pub fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Unknown, _) | (_, Ty::Unknown) | (Ty::Null, _) | (_, Ty::Null) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Ty::List(a), Ty::List(b)) => a.comparable(b),
            (Ty::Node(_), Ty::Node(_)) => true,
            (a, b) => a == b,
        }
    }

    /// Values of both types can be ordered with `<`.
    pub fn orderable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Ty::Str, Ty::Str) | (Ty::Time, Ty::Time) | (Ty::Duration, Ty::Duration) => true,
            _ => false,
        }
    }

    /// Printed for people, with kind names from the schema.
    pub fn show(&self, schema: &Schema) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Str => "string".into(),
            Ty::Time => "timestamp".into(),
            Ty::Duration => "duration".into(),
            Ty::Null => "null".into(),
            Ty::List(e) => format!("[{}]", e.show(schema)),
            Ty::Node(ks) if ks.is_empty() => "node".into(),
            Ty::Node(ks) => ks.iter().map(|k| schema.kind_name(*k)).collect::<Vec<_>>().join(" | "),
            Ty::Unknown => "unknown".into(),
        }
    }
}

impl Typed {
    /// Printed for people: `timestamp?` when optional.
    pub fn show(&self, schema: &Schema) -> String {
        if self.opt { format!("{}?", self.ty.show(schema)) } else { self.ty.show(schema) }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.show(&Schema::empty()))
    }
}
