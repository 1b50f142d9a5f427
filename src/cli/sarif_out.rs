//! What `gov eval --format sarif` knows that the library cannot: which
//! inventory files lie inside the git repository of the current directory
//! (their records become primary locations, with URIs relative to the
//! repository's root), and the baseline report of `--baseline`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gov::diff::FindingSet;
use gov::eval::Audit;

use super::output::{Exit, Output};

/// The nearest directory at or above the current one that holds `.git`
/// (a directory, or a file in a worktree or submodule).
fn repository_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().find(|d| d.join(".git").exists()).and_then(|d| d.canonicalize().ok())
}

/// `path` relative to `root`, with `/` separators, when it lies inside.
fn inside(root: &Path, path: &str) -> Option<String> {
    let full = Path::new(path).canonicalize().ok()?;
    let rel = full.strip_prefix(root).ok()?;
    let parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The audit's inventory files that lie inside the repository, each with its
/// path from the repository's root.
pub fn repository_files(audit: &Audit) -> HashMap<String, String> {
    let Some(root) = repository_root() else { return HashMap::new() };
    audit.inventory_files.iter().filter_map(|f| Some((f.clone(), inside(&root, f)?))).collect()
}

/// Reads `--baseline`: a `gov.findings/v1` JSON report or a SARIF log.
pub fn baseline(path: &Path, out: &Output) -> Result<FindingSet, Exit> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| out.io_error(&name, &e))?;
    FindingSet::from_report(&name, &text).map_err(|d| {
        out.diagnostics(&d.into());
        Exit::Usage
    })
}

/// The SARIF text of `gov eval`.
pub fn render(audit: &Audit, baseline: Option<&FindingSet>) -> String {
    let opts = gov::report::sarif::Options { repository_files: repository_files(audit), baseline };
    gov::report::sarif::render_string_with(audit, &opts)
}
