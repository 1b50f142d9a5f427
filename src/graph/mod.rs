//! The identity graph: the [`Schema`] (kinds, typed attributes, edge kinds, as
//! data), the immutable [`Graph`] (petgraph topology, per-kind attribute
//! columns, interned strings, O(1) id lookup, CSR adjacency per edge kind,
//! provenance), and the [`GraphBuilder`] that validates and freezes it.
//!
//! Must not: read files or know any inventory format (that is [`crate::ingest`]).

mod builder;
mod column;
pub mod inspect;
pub(crate) mod records;
mod schema;
mod store;

pub use builder::{FileId, GraphBuilder, Input, KeyLocator, Loaded, Mode, Site};
pub(crate) use builder::{PreparedAttr, PreparedEdge, PreparedNode, Preparer};
pub(crate) use column::Interner;
pub use column::{ListValue, Value};
pub(crate) use column::{Raw, RawType};
pub use schema::{
    AttrDef, AttrId, AttrType, EdgeKindDef, EdgeKindId, KindDef, KindId, Schema, SchemaError,
    ServiceModel,
};
pub use store::{EdgeId, EdgeRef, Graph, NodeId, Provenance};
