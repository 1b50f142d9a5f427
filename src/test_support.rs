//! Fixtures the crate's unit tests share: a generated graph and a program
//! compiled against it.

use crate::graph::Graph;
use crate::ir::Program;
use crate::source::SourceFile;
use crate::time::Timestamp;

/// The evaluation time of the fixtures.
pub(crate) fn now() -> Timestamp {
    Timestamp::parse("2026-11-22").unwrap_or_else(|e| panic!("{e}"))
}

/// The synthetic inventory of `gov graph generate`, loaded.
pub(crate) fn generated_graph(identities: u64, seed: u64) -> Graph {
    let opts = crate::ingest::generate::GenOptions { identities, seed, now: now() };
    let mut bytes = Vec::new();
    crate::ingest::generate::generate(&opts, &mut bytes).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"));
    let src = SourceFile::new("inventory.json", text);
    crate::ingest::load_sources(vec![src], &crate::ingest::LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .graph
}

/// Policy texts `(name, text)` compiled against `graph`'s schema at [`now`].
pub(crate) fn compiled(files: &[(&str, &str)], graph: &Graph) -> Program {
    let parsed: Vec<_> = files
        .iter()
        .map(|(name, text)| {
            crate::syntax::parse(&SourceFile::new(*name, *text)).unwrap_or_else(|d| panic!("{d:?}"))
        })
        .collect();
    crate::check::compile(&parsed, graph.schema(), &crate::check::Options { now: now() })
        .unwrap_or_else(|d| panic!("{d:?}"))
        .program
}
