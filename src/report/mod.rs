//! Renderers of diagnostics and findings: human (miette), plain, JSON, SARIF,
//! JUnit, Markdown.
//!
//! Must not: decide anything; it prints what earlier stages produced.

pub mod diagnostics;
