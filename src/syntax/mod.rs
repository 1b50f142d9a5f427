//! The surface syntax: pest grammar → AST with spans, and the formatter (AST →
//! canonical text).
//!
//! Owns: `grammar/gov.pest`, lexical validation of literals, parse diagnostics.
//! Must not: resolve names or know the schema.

pub mod ast;
