//! Name resolution, schema and type checking, lints (issue #4).
//!
//! Owns: turning a parsed [`crate::syntax::ast::Module`] into checked
//! declarations with diagnostics. Must not: evaluate, or read inventories.
