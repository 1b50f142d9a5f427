//! Loaders from inventory formats into the identity graph: the native
//! `gov.inventory/v1` format (JSON or YAML) and adapters for the formats
//! organisations already export (AWS IAM authorization details, the AWS IAM
//! credential report, Kubernetes RBAC lists, BloodHound OpenGraph, Google
//! Cloud IAM policies, service accounts and keys), each in its
//! own file. Adapters produce an [`Inventory`]; `gov ingest` writes it in the
//! native format, and [`Inventory::load_into`] loads it directly.
//!
//! Must not: panic on input, or drop a record without a diagnostic.

pub mod aws_authz;
pub mod aws_credential_report;
pub mod detect;
pub mod gcp;
pub mod generate;
mod inventory;
pub mod k8s;
pub mod mapping;
pub mod native;
pub mod opengraph;
pub mod yaml_limits;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use inventory::{
    AttrSpec, EdgeRecord, EdgeSpec, FileSummary, Inventory, KindSpec, NodeRecord, Origin,
    SchemaSection,
};
pub use mapping::Mapping;

use crate::diag::{Code, Diag, Diagnostics};
use crate::graph::{GraphBuilder, Loaded, Mode, Schema};
use crate::source::{SourceFile, Span};

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// `aws iam get-account-authorization-details` JSON.
    AwsAuthz,
    /// AWS IAM credential report CSV.
    AwsCredentialReport,
    /// `kubectl get serviceaccounts,roles,clusterroles,rolebindings,clusterrolebindings -A -o json`.
    K8s,
    /// BloodHound OpenGraph JSON.
    #[cfg_attr(feature = "cli", value(name = "opengraph"))]
    OpenGraph,
    /// Google Cloud IAM: `gcloud projects get-iam-policy`, `gcloud iam
    /// service-accounts list` and `... keys list`, with `--format=json`.
    Gcp,
    /// The native `gov.inventory/v1` format.
    Native,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::AwsAuthz => "aws-authz",
            Format::AwsCredentialReport => "aws-credential-report",
            Format::K8s => "k8s",
            Format::OpenGraph => "opengraph",
            Format::Gcp => "gcp",
            Format::Native => "native",
        })
    }
}

/// An I/O problem (exit code 5 in the CLI), kept apart from invalid content.
#[derive(Debug)]
pub struct IoError(pub Diag);

/// Reads a file as a source, with a `gov::io` diagnostic on failure.
///
/// Only regular files are read (symbolic links to them too): a FIFO, a socket
/// or a device is `gov::io::not_a_file`, since reading one may block forever
/// or never end (see [`read_bytes`]). Text that is not UTF-8 is
/// `gov::parse::invalid_utf8` (see [`read_inventory`] for inventories).
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, IoError> {
    let name = path.display().to_string();
    let bytes = read_bytes(path)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let src = SourceFile::new(name.clone(), text);
            Err(IoError(
                Diag::error(Code::InvalidUtf8, format!("`{name}` is not valid UTF-8"))
                    .in_file(&src)
                    .label(Span::new(at, at + 1), "invalid byte")
                    .help("inventories are UTF-8 text; re-export or convert the file"),
            ))
        }
    }
}

/// The bytes of a regular file: `gov::io::not_a_file` for a FIFO, a socket
/// or a device (checked before opening, which blocks on a FIFO), `gov::io`
/// when it cannot be read.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, IoError> {
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| {
        IoError(
            Diag::error(Code::Io, format!("cannot read `{name}`: {e}"))
                .help("check the path and the file's permissions"),
        )
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(IoError(not_a_file(&name, &meta.file_type())));
    }
    std::fs::read(path).map_err(cannot)
}

/// [`read_source`] for an inventory or mapping file: text that is not UTF-8
/// is invalid content (`gov::ingest::invalid_utf8`, exit 4 in the CLI), not
/// an I/O problem.
pub fn read_inventory(path: &Path) -> Result<Arc<SourceFile>, IoError> {
    read_source(path).map_err(|mut e| {
        if e.0.code == Code::InvalidUtf8 {
            e.0.code = Code::IngestInvalidUtf8;
        }
        e
    })
}

/// The diagnostic for a path that exists but is not a regular file.
fn not_a_file(name: &str, kind: &std::fs::FileType) -> Diag {
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            "a FIFO (named pipe)"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        }
    };
    #[cfg(not(unix))]
    let what = if kind.is_dir() { "a directory" } else { "not a regular file" };
    Diag::error(Code::NotAFile, format!("`{name}` is {what}, not a regular file"))
        .help("gov reads only regular files (a FIFO or device could block forever); copy the data to a file first")
}

/// Expands directories into their inventory files (`.json`, `.yaml`, `.yml`,
/// `.csv`, recursively, sorted), keeping files as given. A YAML file found in
/// a directory that is a mapping file (no `format:` key, only mapping keys) is
/// left out, so `mapping.yaml` can sit beside the inventories it maps; named
/// on its own, it is read as an inventory and reported.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found, 0).map_err(|e| {
                IoError(Diag::error(
                    Code::Io,
                    format!("cannot read directory `{}`: {e}", p.display()),
                ))
            })?;
            found.sort();
            out.extend(found.into_iter().filter(|f| !is_mapping_file(f)));
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A YAML file that parses as a mapping file and declares no inventory format.
fn is_mapping_file(path: &Path) -> bool {
    let name = path.to_string_lossy();
    if !native::is_yaml_name(&name) {
        return false;
    }
    // Mapping files are a few lines; an inventory is never skipped unread.
    let Ok(meta) = std::fs::metadata(path) else { return false };
    if !meta.is_file() || meta.len() > 1 << 20 {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    if text.trim().is_empty() || text.contains("format:") {
        return false;
    }
    Mapping::parse(&SourceFile::new(name, text)).is_ok()
}

/// Directories nest at most this deep below a named one (a symbolic link
/// that loops back would otherwise be walked forever).
const MAX_DIR_DEPTH: usize = 32;

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > MAX_DIR_DEPTH {
        return Err(std::io::Error::other(format!(
            "directories nest more than {MAX_DIR_DEPTH} deep (a symbolic link loop?)"
        )));
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            matches!(e.to_ascii_lowercase().as_str(), "json" | "yaml" | "yml" | "csv")
        }) {
            out.push(path);
        }
    }
    Ok(())
}

/// Options for loading inventories into a graph.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Strict (fail on any error) or lenient (skip invalid records, warn).
    pub mode: Mode,
    /// The schema to validate against (built-in plus policy extensions).
    pub schema: Schema,
    /// Mapping for adapter formats loaded directly.
    pub mapping: Mapping,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { mode: Mode::Strict, schema: Schema::builtin(), mapping: Mapping::default() }
    }
}

/// Converts one source in an adapter format into records.
pub fn convert(format: Format, src: Arc<SourceFile>, mapping: &Mapping) -> Inventory {
    match format {
        Format::AwsAuthz => aws_authz::convert(src, mapping),
        Format::AwsCredentialReport => aws_credential_report::convert(src, mapping),
        Format::K8s => k8s::convert(src, mapping),
        Format::OpenGraph => opengraph::convert(&[src], mapping),
        Format::Gcp => gcp::convert(src),
        Format::Native => {
            let mut inv = Inventory::new();
            let f = inv.add_file(src);
            let d = inv.diag(
                Code::UnknownFormat,
                "the file is already a native inventory",
                f,
                Span::default(),
            );
            inv.diags.push(d.help("load it directly; `gov ingest` converts other formats"));
            inv
        }
    }
}

/// Loads sources into one graph. Native inventories are read directly; files
/// in adapter formats (detected from content) are converted first.
pub fn load_sources(
    sources: Vec<Arc<SourceFile>>,
    opts: &LoadOptions,
) -> Result<Loaded, Diagnostics> {
    let mut b = GraphBuilder::new(opts.schema.clone()).with_key_locator(native::key_range);
    let mut adapted = Inventory::new();
    let mut opengraph = Vec::new();
    for src in sources {
        match detect::detect(src.name(), src.text()) {
            Some(Format::Native) => native::read(&mut b, src),
            Some(Format::OpenGraph) => opengraph.push(src),
            Some(f) => adapted.extend(convert(f, src, &opts.mapping)),
            None if src.text().trim_start().starts_with('{')
                || native::is_yaml_name(src.name()) =>
            {
                // Not recognisably anything else: read as native, which reports why it is not.
                native::read(&mut b, src);
            }
            None => {
                let d = Diag::error(
                    Code::UnknownFormat,
                    format!("cannot tell the format of `{}`", src.name()),
                )
                .in_file(&src)
                .label(Span::new(0, src.text().len().min(1)), "")
                .help("give `--from` with gov ingest, or convert the file to gov.inventory/v1");
                b.push_diag(d);
            }
        }
    }
    if !opengraph.is_empty() {
        adapted.extend(opengraph::convert(&opengraph, &opts.mapping));
    }
    adapted.load_into(&mut b);
    b.finish(opts.mode)
}

/// Reads paths (files or directories) and loads them into one graph. I/O
/// problems come back as `Err(Err(..))`, invalid content as `Err(Ok(..))`.
pub fn load_paths(
    paths: &[PathBuf],
    opts: &LoadOptions,
) -> Result<Loaded, Result<Diagnostics, IoError>> {
    let files = expand_paths(paths).map_err(Err)?;
    let mut sources = Vec::with_capacity(files.len());
    for f in &files {
        sources.push(read_inventory(f).map_err(Err)?);
    }
    load_sources(sources, opts).map_err(Ok)
}

/// The result of converting adapter formats: the validated graph, and the
/// optional edges whose ends were not loaded (kept for the native output).
pub struct Converted {
    /// The graph the records load into, with the load's warnings.
    pub loaded: Loaded,
    /// Optional edges into data that was not loaded.
    pub unresolved: Vec<EdgeRecord>,
    /// What each input file gave, in input order.
    pub files: Vec<FileSummary>,
}

impl Converted {
    /// Writes the result as a native JSON inventory.
    pub fn write<W: std::io::Write>(
        &self,
        metadata: Option<&serde_json::Value>,
        w: W,
    ) -> std::io::Result<W> {
        native::write_graph(&self.loaded.graph, &self.unresolved, metadata, w)
    }
}

/// Converts sources in adapter formats (`from`, or detected per file) into
/// one validated graph: what `gov ingest` does before writing.
pub fn convert_sources(
    sources: Vec<Arc<SourceFile>>,
    from: Option<Format>,
    mapping: &Mapping,
    mode: Mode,
) -> Result<Converted, Diagnostics> {
    let mut inv = Inventory::new();
    let mut opengraph = Vec::new();
    for src in sources {
        let format = from.or_else(|| detect::detect(src.name(), src.text()));
        match format {
            Some(Format::OpenGraph) => opengraph.push(src),
            Some(f) => inv.extend(convert(f, src, mapping)),
            None => {
                let f = inv.add_file(src.clone());
                let d = inv.diag(
                    Code::UnknownFormat,
                    format!("cannot tell the format of `{}`", src.name()),
                    f,
                    Span::new(0, src.text().len().min(1)),
                );
                inv.diags.push(d.help(
                    "name it with `--from aws-authz|aws-credential-report|k8s|opengraph|gcp`",
                ));
            }
        }
    }
    if !opengraph.is_empty() {
        inv.extend(opengraph::convert(&opengraph, mapping));
    }
    let mut b = GraphBuilder::new(Schema::builtin()).with_key_locator(native::key_range);
    inv.load_into(&mut b);
    let loaded = b.finish(mode)?;
    let g = &loaded.graph;
    let unresolved = inv
        .edges
        .iter()
        .filter(|e| e.optional && (g.lookup(&e.from).is_none() || g.lookup(&e.to).is_none()))
        .cloned()
        .collect();
    let files = inv.summary(&loaded.diagnostics);
    Ok(Converted { loaded, unresolved, files })
}
