#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod check;
pub mod decide;
pub mod diag;
pub mod diff;
pub mod domain;
pub mod eval;
pub mod graph;
pub mod hash;
pub mod history;
pub mod ingest;
pub mod ir;
pub mod load;
#[cfg(feature = "lsp")]
pub mod lsp;
pub mod metrics;
pub mod plugin;
#[cfg(any(feature = "cli", feature = "lsp"))]
pub mod project;
pub mod report;
#[cfg(feature = "serve")]
pub mod serve;
pub mod source;
pub mod syntax;
#[cfg(test)]
mod test_support;
pub mod testing;
pub mod time;
pub mod types;
pub mod value;

pub use decide::{DecideError, Decision, Effect, Engine, EngineHandle, Reason, Request, Sources};
pub use diag::{Code, Diag, Diagnostics, Severity};
pub use source::{Loc, SourceFile, Span};

/// The examples of `docs/embedding.md`, compiled and run as doc tests so
/// that the embedding guide cannot rot.
#[doc = include_str!("../docs/embedding.md")]
#[cfg(doctest)]
pub struct EmbeddingGuide;
