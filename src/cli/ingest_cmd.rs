//! `gov ingest`: convert real inventory exports to the native format.

use std::path::PathBuf;
use std::process::ExitCode;

use gov::graph::Mode;
use gov::ingest::{self, Format, Mapping};

use super::output::Exit;
use super::{Progress, io_fail, render, render_one, summary};

/// Arguments of `gov ingest`.
#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Input format; detected from each file's content when left out.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// Input files or directories (several files merge into one inventory).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Where to write the native inventory (`-` for standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Mapping file (YAML): which tags and properties name owner, steward, service, tier.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Convert the valid part and report the rest as warnings, instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

/// Runs `gov ingest`.
pub fn run(args: &IngestArgs) -> ExitCode {
    let mapping = match &args.mapping {
        None => Mapping::default(),
        Some(p) => {
            let src = match ingest::read_source(p) {
                Ok(s) => s,
                Err(e) => return io_fail(&e.0),
            };
            match Mapping::parse(&src) {
                Ok(m) => m,
                Err(d) => {
                    render_one(&d);
                    return Exit::InvalidInventory.into();
                }
            }
        }
    };
    let files = match ingest::expand_paths(&args.files) {
        Ok(f) => f,
        Err(e) => return io_fail(&e.0),
    };
    let mut sources = Vec::new();
    for f in &files {
        match ingest::read_source(f) {
            Ok(s) => sources.push(s),
            Err(e) => return io_fail(&e.0),
        }
    }
    let mode = if args.lenient { Mode::Lenient } else { Mode::Strict };
    let progress = Progress::start(format!("converting {} file(s)", sources.len()));
    let result = ingest::convert_sources(sources, args.from, &mapping, mode);
    progress.finish();
    let converted = match result {
        Ok(c) => c,
        Err(diags) => {
            render(&diags);
            summary(&diags, args.lenient);
            return Exit::InvalidInventory.into();
        }
    };
    render(&converted.loaded.diagnostics);
    summary(&converted.loaded.diagnostics, args.lenient);
    let metadata = serde_json::json!({
        "converted_by": concat!("gov ", env!("CARGO_PKG_VERSION")),
        "from": args.from.map(|f| f.to_string()),
        "sources": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
    });
    let written = if args.output.as_os_str() == "-" {
        converted.write(Some(&metadata), std::io::stdout().lock()).map(|_| ())
    } else {
        std::fs::File::create(&args.output)
            .and_then(|f| converted.write(Some(&metadata), std::io::BufWriter::new(f)).map(|_| ()))
    };
    if let Err(e) = written {
        return io_fail(&gov::Diag::error(
            gov::Code::Io,
            format!("cannot write `{}`: {e}", args.output.display()),
        ));
    }
    let g = &converted.loaded.graph;
    eprintln!(
        "wrote {} nodes and {} edges to `{}`",
        g.node_count(),
        g.edge_count() + converted.unresolved.len(),
        args.output.display()
    );
    eprint!("{}", file_summaries(&converted.files));
    ExitCode::SUCCESS
}

/// One line per input file (records read, nodes and edges it gave), then
/// one indented line per diagnostic code that points into it: every record
/// left out has a diagnostic, so nothing is dropped without a count here.
fn file_summaries(files: &[ingest::FileSummary]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for f in files {
        let _ = writeln!(
            out,
            "  {}: {} records read, {} nodes, {} edges",
            f.file, f.records, f.nodes, f.edges
        );
        for ((code, severity), n) in &f.problems {
            let what = match severity {
                gov::Severity::Error => "error",
                gov::Severity::Warning => "warning",
            };
            let _ = writeln!(out, "    {n} {code} ({what}{})", if *n == 1 { "" } else { "s" });
        }
    }
    out
}
