//! The clap command tree. Thin: parse arguments, call the library, render
//! diagnostics, map outcomes to exit codes (0 ok, 2 usage, 4 invalid
//! inventory, 5 I/O error).

pub mod graph_cmd;
pub mod ingest_cmd;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gov::diag::{Diag, Diagnostics};
use gov::graph::{Loaded, Mode};
use gov::ingest::{self, LoadOptions};

/// Exit code: an inventory is invalid.
pub const EXIT_INVALID: u8 = 4;
/// Exit code: a file could not be read or written.
pub const EXIT_IO: u8 = 5;

/// gov: policy-as-code for identity governance.
#[derive(clap::Parser)]
#[command(name = "gov", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Convert real inventory exports (AWS, Kubernetes, OpenGraph) to the native format.
    Ingest(ingest_cmd::IngestArgs),
    /// Inspect identity graphs: stats, the neighbourhood of one entity, synthetic inventories.
    Graph(graph_cmd::GraphArgs),
}

/// Runs a parsed command line.
pub fn run(cli: &Cli) -> ExitCode {
    match &cli.command {
        Command::Ingest(a) => ingest_cmd::run(a),
        Command::Graph(a) => graph_cmd::run(a),
    }
}

/// Prints diagnostics to stderr (miette's graphical renderer; colour only on a terminal).
pub fn render(diags: &Diagnostics) {
    for d in diags.iter() {
        render_one(d);
    }
}

/// Prints one diagnostic.
pub fn render_one(d: &Diag) {
    let handler = if std::io::stderr().is_terminal() {
        miette::GraphicalReportHandler::new()
    } else {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
    };
    let mut out = String::new();
    if handler.render_report(&mut out, d).is_ok() {
        eprintln!("{out}");
    } else {
        eprintln!("{}: {}", d.code, d.message);
    }
}

/// Prints a one-line summary of a load's problems.
pub fn summary(diags: &Diagnostics, lenient: bool) {
    let (e, w) = (diags.error_count(), diags.warning_count());
    if e > 0 {
        eprintln!(
            "error: {e} error{} in the inventory{}",
            plural(e),
            if lenient { "" } else { " (use --lenient to load the valid part)" }
        );
    } else if w > 0 {
        eprintln!("warning: {w} problem{} reported; the rest was loaded", plural(w));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A spinner on stderr, shown only on a terminal and only once the work has
/// taken more than a second.
pub struct Progress {
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts the delayed spinner with a message.
    pub fn start(message: String) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self { done, handle: None };
        }
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            for _ in 0..10 {
                std::thread::sleep(Duration::from_millis(100));
                if flag.load(Ordering::Relaxed) {
                    return;
                }
            }
            let bar = indicatif::ProgressBar::new_spinner().with_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            bar.finish_and_clear();
        });
        Self { done, handle: Some(handle) }
    }

    /// Stops and clears the spinner.
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Loads inventories (files or directories) with a progress spinner, printing
/// diagnostics; returns the exit code on failure.
pub fn load(paths: &[PathBuf], lenient: bool) -> Result<Loaded, ExitCode> {
    let files = ingest::expand_paths(paths).map_err(|e| io_fail(&e.0))?;
    let mut sources = Vec::with_capacity(files.len());
    let mut bytes = 0;
    for f in &files {
        let src = ingest::read_source(f).map_err(|e| io_fail(&e.0))?;
        bytes += src.text().len();
        sources.push(src);
    }
    let progress =
        Progress::start(format!("loading {} file(s), {:.1} MB", files.len(), bytes as f64 / 1e6));
    let opts = LoadOptions {
        mode: if lenient { Mode::Lenient } else { Mode::Strict },
        ..LoadOptions::default()
    };
    let result = ingest::load_sources(sources, &opts);
    progress.finish();
    match result {
        Ok(loaded) => {
            render(&loaded.diagnostics);
            summary(&loaded.diagnostics, lenient);
            Ok(loaded)
        }
        Err(diags) => {
            render(&diags);
            summary(&diags, lenient);
            Err(ExitCode::from(EXIT_INVALID))
        }
    }
}

/// Prints a diagnostic from reading a file and returns exit code 5 (4 when
/// the file was read but is not UTF-8 text).
pub fn io_fail(d: &Diag) -> ExitCode {
    render_one(d);
    ExitCode::from(if d.code == gov::Code::Io { EXIT_IO } else { EXIT_INVALID })
}
