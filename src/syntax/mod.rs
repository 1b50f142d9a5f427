//! The surface syntax: pest grammar → AST with spans, and the formatter (AST →
//! canonical text).
//!
//! Owns: `grammar/gov.pest`, lexical validation of literals, parse diagnostics.
//! Must not: resolve names or know the schema.

pub mod ast;
mod errors;
pub mod lex;
mod parser;

pub use lex::Comment;
pub use parser::{MAX_INPUT_BYTES, MAX_OPERATOR_CHAIN, Parsed, parse, parse_bytes, parse_expr};
pub mod fmt;

pub use fmt::{format, format_expr, format_module};
