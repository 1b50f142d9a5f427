//! The one loader: policy paths, inventories and a mapping file in; the
//! parsed policies, the graph and the compiled program out, with their
//! diagnostics. The command line, [`crate::Engine::load`] (and so `gov serve`
//! and its reloads) and `gov diff` all read their inputs through it, stage
//! by stage or whole, so that a file is found, read, decoded and reported the
//! same way whoever asks.
//!
//! Owns: finding policy files, reading them (size and UTF-8 checked, as
//! parse errors with a location), reading the mapping and the inventories
//! (directories expanded, formats detected), the order in which their texts
//! make up a revision, and which stage a failure belongs to ([`Stage`]: the
//! command line turns it into an exit code).
//! Must not: print, or decide what a failure costs the caller.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::{Compiled, Options};
use crate::diag::{Code, Diag, Diagnostics};
use crate::graph::{Graph, Loaded as LoadedGraph, Mode, Schema};
use crate::ingest::{self, LoadOptions, Mapping};
use crate::source::SourceFile;
use crate::syntax::Parsed;
use crate::time::Timestamp;

/// What to load: the options a project file holds.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Policy files or directories (`*.gov`).
    pub policies: Vec<PathBuf>,
    /// Inventory files or directories (any format `gov ingest` reads).
    pub inventories: Vec<PathBuf>,
    /// An optional mapping file (see docs/inventory.md).
    pub mapping: Option<PathBuf>,
}

/// The stage a failure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Nothing to load (no `.gov` file under the paths given).
    Usage,
    /// A file could not be read.
    Io,
    /// A policy does not parse or check.
    Policy,
    /// An inventory or mapping file is not valid (invalid UTF-8 included).
    Inventory,
}

/// A failed load: the stage and every diagnostic, in the order found.
#[derive(Debug)]
pub struct Failure {
    /// Which stage failed.
    pub stage: Stage,
    /// What went wrong, with locations and help.
    pub diagnostics: Diagnostics,
}

impl Failure {
    fn new(stage: Stage, diagnostics: impl Into<Diagnostics>) -> Self {
        Failure { stage, diagnostics: diagnostics.into() }
    }

    /// A file that could not be read ([`Stage::of_read`]).
    fn read(d: Diag) -> Self {
        Failure::new(Stage::of_read(&d), d)
    }
}

impl Stage {
    /// The stage of a diagnostic from reading an inventory or mapping file:
    /// the file system's ([`Stage::Io`]) when the file could not be read or
    /// is not a regular file, else the content's ([`Stage::Inventory`]:
    /// invalid UTF-8, too large).
    pub fn of_read(d: &Diag) -> Stage {
        if matches!(d.code, Code::Io | Code::NotAFile) { Stage::Io } else { Stage::Inventory }
    }
}

/// Reads and parses every `.gov` file under `paths`, in the order
/// [`crate::source::policy_files`] finds them.
///
/// Every file is read and parsed before this returns, so all their
/// problems are reported at once: files that could not be read first, then
/// parse errors. The stage is [`Stage::Policy`] when any file does not
/// parse, else [`Stage::Io`].
pub fn policies(paths: &[PathBuf]) -> Result<Vec<Parsed>, Failure> {
    let files = crate::source::policy_files(paths).map_err(|e| {
        let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        Failure::new(
            Stage::Io,
            Diag::error(Code::Io, format!("cannot read `{shown}`: {e}"))
                .help("check the path and the file's permissions"),
        )
    })?;
    if files.is_empty() {
        return Err(Failure::new(
            Stage::Usage,
            Diag::error(Code::Io, "no `.gov` files found")
                .help("pass policy files or directories that contain `*.gov` files"),
        ));
    }
    let mut parsed = Vec::with_capacity(files.len());
    let mut unreadable = Diagnostics::new();
    let mut invalid = Diagnostics::new();
    for path in files {
        let name = path.display().to_string();
        match ingest::read_bytes(&path) {
            Ok(bytes) => match crate::syntax::parse_bytes(&name, &bytes) {
                Ok(p) => parsed.push(p),
                Err(d) => invalid.extend(d),
            },
            Err(e) => unreadable.push(e.0),
        }
    }
    let stage = if invalid.has_errors() { Stage::Policy } else { Stage::Io };
    if invalid.has_errors() || !unreadable.is_empty() {
        unreadable.extend(invalid);
        return Err(Failure::new(stage, unreadable));
    }
    Ok(parsed)
}

/// Reads and parses a mapping file.
pub fn mapping(path: &Path) -> Result<(Mapping, Arc<SourceFile>), Failure> {
    let src = ingest::read_inventory(path).map_err(|e| Failure::read(e.0))?;
    let mapping = Mapping::parse(&src).map_err(|d| Failure::new(Stage::Inventory, d))?;
    Ok((mapping, src))
}

/// Reads the inventory files under `paths` (directories expanded), in load
/// order, stopping at the first that cannot be read.
pub fn inventories(paths: &[PathBuf]) -> Result<Vec<Arc<SourceFile>>, Failure> {
    let files = ingest::expand_paths(paths).map_err(|e| Failure::read(e.0))?;
    files.iter().map(|f| ingest::read_inventory(f).map_err(|e| Failure::read(e.0))).collect()
}

/// The loaded graph and the texts it was loaded from.
pub struct Graphed {
    /// The graph, with the load's warnings.
    pub loaded: LoadedGraph,
    /// The mapping file's text (first) and every inventory's, in load order.
    pub texts: Vec<Arc<SourceFile>>,
}

/// Reads the mapping and the inventories of `sources` and loads them into
/// one graph; `None` when no inventory is given. [`Mode::Lenient`] loads the
/// valid part of a broken inventory and reports its errors as warnings.
pub fn graph(sources: &Sources, mode: Mode) -> Result<Option<Graphed>, Failure> {
    if sources.inventories.is_empty() {
        return Ok(None);
    }
    let mut opts = LoadOptions { mode, ..LoadOptions::default() };
    let mut texts = Vec::new();
    if let Some(path) = &sources.mapping {
        let (m, src) = mapping(path)?;
        opts.mapping = m;
        texts.push(src);
    }
    let inventories = inventories(&sources.inventories)?;
    texts.extend(inventories.iter().cloned());
    let loaded =
        ingest::load_sources(inventories, &opts).map_err(|d| Failure::new(Stage::Inventory, d))?;
    Ok(Some(Graphed { loaded, texts }))
}

/// Checks and lowers policies against the graph's schema (the built-in
/// schema without a graph).
pub fn compile(
    parsed: &[Parsed],
    graph: Option<&Graph>,
    now: Timestamp,
) -> Result<Compiled, Failure> {
    let builtin;
    let schema = match graph {
        Some(g) => g.schema(),
        None => {
            builtin = Schema::builtin();
            &builtin
        }
    };
    crate::check::compile(parsed, schema, &Options { now })
        .map_err(|d| Failure::new(Stage::Policy, d))
}

/// Everything loaded: what [`load`] returns.
pub struct Loaded {
    /// The compiled program, with the checker's warnings.
    pub compiled: Compiled,
    /// The graph (built-in schema, no nodes, when no inventory was given),
    /// with the load's warnings.
    pub graph: LoadedGraph,
    /// The texts loaded, in revision order: policies, the mapping,
    /// inventories.
    pub texts: Vec<Arc<SourceFile>>,
}

/// Loads policies, mapping and inventories (strictly: an invalid record is an
/// error) and compiles the policies against the graph's schema, at `now`.
///
/// Policies and the graph are both read before either failure is
/// returned, so a caller sees every problem with the files at once.
pub fn load(sources: &Sources, now: Timestamp) -> Result<Loaded, Failure> {
    let parsed = policies(&sources.policies);
    let graphed = graph(sources, Mode::Strict);
    let (parsed, graphed) = match (parsed, graphed) {
        (Ok(p), Ok(g)) => (p, g),
        (Err(mut a), Err(b)) => {
            a.diagnostics.extend(b.diagnostics);
            return Err(a);
        }
        (Err(a), Ok(_)) | (Ok(_), Err(a)) => return Err(a),
    };
    let (graph, inventory_texts) = match graphed {
        Some(g) => (g.loaded, g.texts),
        None => (
            ingest::load_sources(Vec::new(), &LoadOptions::default())
                .map_err(|d| Failure::new(Stage::Inventory, d))?,
            Vec::new(),
        ),
    };
    let compiled = compile(&parsed, Some(&graph.graph), now)?;
    let mut texts: Vec<Arc<SourceFile>> = parsed.iter().map(|p| p.file.clone()).collect();
    texts.extend(inventory_texts);
    Ok(Loaded { compiled, graph, texts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{e}"));
        p
    }

    fn stage(r: Result<Loaded, Failure>) -> Stage {
        match r {
            Ok(_) => panic!("loaded"),
            Err(f) => f.stage,
        }
    }

    #[test]
    fn each_failure_names_its_stage() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let now = Timestamp(0);
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap_or_else(|e| panic!("{e}"));
        let at = |policies: Vec<PathBuf>, inventories: Vec<PathBuf>| Sources {
            policies,
            inventories,
            mapping: None,
        };
        assert_eq!(stage(load(&at(vec![empty.clone()], vec![]), now)), Stage::Usage);
        let missing = dir.path().join("missing.gov");
        assert_eq!(stage(load(&at(vec![missing], vec![]), now)), Stage::Io);
        let broken = write(dir.path(), "broken.gov", b"rule r {");
        assert_eq!(stage(load(&at(vec![broken.clone()], vec![]), now)), Stage::Policy);
        let good = write(dir.path(), "good.gov", b"rule r { for x: identity require x has name }");
        let latin1 =
            write(dir.path(), "inv.json", b"{\"format\": \"gov.inventory/v1\", \"x\": \"\xe9\"}");
        assert_eq!(stage(load(&at(vec![good.clone()], vec![latin1]), now)), Stage::Inventory);
        let bad_record = write(
            dir.path(),
            "bad.json",
            br#"{"format": "gov.inventory/v1", "nodes": [{"kind": "identity"}]}"#,
        );
        assert_eq!(
            stage(load(&at(vec![good.clone()], vec![bad_record.clone()]), now)),
            Stage::Inventory
        );
        // Both a broken policy and a broken inventory: every problem at once.
        let both =
            load(&at(vec![broken], vec![bad_record]), now).err().map(|f| f.diagnostics.len());
        assert!(both.is_some_and(|n| n >= 2), "{both:?}");
    }

    #[test]
    fn texts_come_in_revision_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let policy = write(dir.path(), "p.gov", b"rule r { for x: identity require x has name }");
        let mapping = write(dir.path(), "m.yaml", b"owner: [owner]\n");
        let inv = write(
            dir.path(),
            "i.json",
            br#"{"format": "gov.inventory/v1", "nodes": [{"id": "a", "kind": "identity", "attrs": {"type": "bot"}}]}"#,
        );
        let sources =
            Sources { policies: vec![policy], inventories: vec![inv], mapping: Some(mapping) };
        let loaded = load(&sources, Timestamp(0)).unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        let names: Vec<String> = loaded
            .texts
            .iter()
            .map(|t| Path::new(t.name()).file_name().map(|n| n.to_string_lossy().into_owned()))
            .map(Option::unwrap_or_default)
            .collect();
        assert_eq!(names, ["p.gov", "m.yaml", "i.json"]);
        assert_eq!(loaded.graph.graph.node_count(), 1);
    }
}
