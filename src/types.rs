//! The one type vocabulary of policies: [`Ty`], the shape of a value as the
//! checker infers it, printed one way everywhere; and its checked
//! restrictions for the contexts that allow less: [`InputType`] (what a
//! decision input may be: no `null`) and [`AbiType`] (what crosses the
//! plugin boundary: no `null`, no nodes). Each restriction is a `Ty` that
//! was checked once, when it was made, so code that reads one matches on
//! `Ty` and never converts.
//!
//! The schema's attribute types ([`AttrType`]: enums, the inventory
//! spelling) and the graph's column layouts are storage, not this
//! vocabulary; [`Ty::from_attr`] is the one bridge.

use std::fmt;

use crate::graph::{AttrType, KindId, Schema};

/// The shape of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
            AttrType::Str | AttrType::Enum(_) => Ty::Str,
            AttrType::Int => Ty::Int,
            AttrType::Float => Ty::Float,
            AttrType::Bool => Ty::Bool,
            AttrType::Time => Ty::Time,
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

/// The type of a decision input, as a request gives it: a [`Ty`] without
/// `null` or the error-recovery type anywhere in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputType(Ty);

impl InputType {
    /// `ty` as an input type, `None` when an input cannot have it.
    pub fn new(ty: Ty) -> Option<Self> {
        fn allowed(t: &Ty) -> bool {
            match t {
                Ty::Null | Ty::Unknown => false,
                Ty::List(e) => allowed(e),
                _ => true,
            }
        }
        allowed(&ty).then_some(InputType(ty))
    }

    /// The type.
    pub fn ty(&self) -> &Ty {
        &self.0
    }

    /// How the type is written in a policy (`identity`, `[string]`, `int`).
    pub fn show(&self, schema: &Schema) -> String {
        self.0.show(schema)
    }
}

/// A type that crosses the plugin boundary: a [`Ty`] made of `bool`, `int`,
/// `float`, `string`, `timestamp`, `duration` and lists of them.
///
/// `bool` travels as `i32` 0 or 1; `int`, `timestamp` (seconds since the
/// Unix epoch) and `duration` (seconds) as `i64`; `float` as `f64`;
/// `string` as UTF-8 bytes and a list as JSON bytes in guest memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbiType(Ty);

impl AbiType {
    /// `bool`.
    pub const BOOL: AbiType = AbiType(Ty::Bool);
    /// `int`.
    pub const INT: AbiType = AbiType(Ty::Int);
    /// `float`.
    pub const FLOAT: AbiType = AbiType(Ty::Float);
    /// `string`.
    pub const STR: AbiType = AbiType(Ty::Str);
    /// `timestamp`.
    pub const TIME: AbiType = AbiType(Ty::Time);
    /// `duration`.
    pub const DURATION: AbiType = AbiType(Ty::Duration);

    /// `ty` as an ABI type, `None` when a plugin cannot take or return it.
    pub fn new(ty: Ty) -> Option<Self> {
        fn allowed(t: &Ty) -> bool {
            match t {
                Ty::Bool | Ty::Int | Ty::Float | Ty::Str | Ty::Time | Ty::Duration => true,
                Ty::List(e) => allowed(e),
                Ty::Null | Ty::Node(_) | Ty::Unknown => false,
            }
        }
        allowed(&ty).then_some(AbiType(ty))
    }

    /// A list of `elem`.
    pub fn list(elem: AbiType) -> Self {
        AbiType(Ty::List(Box::new(elem.0)))
    }

    /// The type.
    pub fn ty(&self) -> &Ty {
        &self.0
    }

    /// True when the value travels through guest memory (a `gov_alloc` buffer
    /// for arguments, a packed `ptr << 32 | len` for results).
    pub fn in_memory(&self) -> bool {
        matches!(self.0, Ty::Str | Ty::List(_))
    }
}

impl fmt::Display for AbiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_refuse_what_their_context_cannot_carry() {
        let list = |t| Ty::List(Box::new(t));
        assert!(InputType::new(Ty::Node(vec![])).is_some());
        assert!(InputType::new(list(Ty::Time)).is_some());
        assert!(InputType::new(Ty::Null).is_none());
        assert!(InputType::new(list(Ty::Unknown)).is_none());
        assert!(AbiType::new(list(list(Ty::Str))).is_some());
        assert!(AbiType::new(Ty::Node(vec![])).is_none());
        assert!(AbiType::new(list(Ty::Null)).is_none());
        // One spelling everywhere.
        assert_eq!(AbiType::list(AbiType::TIME).to_string(), "[timestamp]");
        let input = InputType::new(list(Ty::Duration)).map(|t| t.show(&Schema::empty()));
        assert_eq!(input.as_deref(), Some("[duration]"));
    }
}
