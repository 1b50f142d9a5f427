//! The identity graph: schema, node and edge storage, indexes, attribute columns.
