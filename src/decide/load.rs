//! [`Engine::load`]: reads policies, inventories and a mapping file, builds the
//! graph and compiles the policies against its schema. Every problem comes
//! back as a diagnostic; nothing here panics on input.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Engine, Sources, revision_of_parts};
use crate::diag::{Code, Diag, Diagnostics};
use crate::graph::Mode;
use crate::ingest::{self, LoadOptions, Mapping};
use crate::source::SourceFile;
use crate::time::Timestamp;

pub(super) fn load(sources: &Sources) -> Result<Engine, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut hashed: Vec<Arc<SourceFile>> = Vec::new();

    // Policies.
    let files = policy_files(&sources.policies)?;
    if files.is_empty() {
        return Err(Diag::error(Code::Io, "no `.gov` files found")
            .help("pass policy files or directories that contain `*.gov` files")
            .into());
    }
    let mut parsed = Vec::with_capacity(files.len());
    for path in &files {
        match ingest::read_source(path) {
            Ok(src) => {
                hashed.push(src.clone());
                match crate::syntax::parse(&src) {
                    Ok(p) => parsed.push(p),
                    Err(d) => diags.extend(d),
                }
            }
            Err(e) => diags.push(e.0),
        }
    }

    // Mapping and inventories.
    let mut opts = LoadOptions { mode: Mode::Strict, ..LoadOptions::default() };
    if let Some(path) = &sources.mapping {
        match ingest::read_inventory(path) {
            Ok(src) => {
                hashed.push(src.clone());
                match Mapping::parse(&src) {
                    Ok(m) => opts.mapping = m,
                    Err(d) => diags.push(d),
                }
            }
            Err(e) => diags.push(e.0),
        }
    }
    let mut inventories = Vec::new();
    match ingest::expand_paths(&sources.inventories) {
        Ok(paths) => {
            for p in paths {
                match ingest::read_inventory(&p) {
                    Ok(src) => inventories.push(src),
                    Err(e) => diags.push(e.0),
                }
            }
        }
        Err(e) => diags.push(e.0),
    }
    if diags.has_errors() {
        return Err(diags);
    }
    hashed.extend(inventories.iter().cloned());
    let graph = ingest::load_sources(inventories, &opts)?.graph;
    let options = crate::check::Options { now: Timestamp::now() };
    let compiled = crate::check::compile(&parsed, graph.schema(), &options)?;
    let parts: Vec<&[u8]> = hashed.iter().map(|s| s.text().as_bytes()).collect();
    let revision = revision_of_parts(&parts);
    Ok(Engine::with_revision(compiled.program, graph, revision))
}

/// The `.gov` files under the given paths, as every caller finds them.
fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diag> {
    crate::source::policy_files(paths).map_err(|e| {
        let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        Diag::error(Code::Io, format!("cannot read the policies under `{shown}`: {e}"))
            .help("check the path and the directory's permissions")
    })
}
