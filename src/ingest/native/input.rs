//! How an attribute value ([`Input`]) is spelled in the native format:
//! serde, so that JSON and YAML records deserialise straight into it (strings
//! borrowed from the text) and the writer serialises it back. The graph
//! keeps no knowledge of any text format.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

use crate::graph::Input;

impl Serialize for Input<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Input::Null => s.serialize_unit(),
            Input::Bool(b) => s.serialize_bool(*b),
            Input::Int(i) => s.serialize_i64(*i),
            Input::Float(f) => s.serialize_f64(*f),
            Input::Str(x) => s.serialize_str(x),
            Input::Time(t) => s.collect_str(t),
            Input::Duration(d) => s.collect_str(d),
            Input::List(l) => l.serialize(s),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Input<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Input<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean, null or list")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Input::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Input::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Input::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Input::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v).map(Input::Int).map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Input::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Input::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Input::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Input::Str(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = seq.next_element()? {
                    items.push(x);
                }
                Ok(Input::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Err(de::Error::custom("an attribute value cannot be an object"))
            }
        }
        d.deserialize_any(V)
    }
}
