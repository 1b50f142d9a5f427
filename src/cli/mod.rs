//! Command-line parsing and dispatch. Each command lives in its own file and
//! only calls the library and a renderer.

mod decide_cmd;
mod diff_cmd;
mod eval_cmd;
mod explain_cmd;
mod fmt_cmd;
mod git_ref;
pub mod graph_cmd;
pub mod ingest_cmd;
mod output;
mod parse_cmd;
mod plugin_args;
mod policy;
mod posture;
mod project_args;
mod report_cmd;
mod sarif_out;
#[cfg(feature = "serve")]
mod serve_cmd;
mod test_cmd;

use std::process::ExitCode;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use gov::diag::{Diag, Diagnostics};
use gov::graph::{Loaded, Mode};
use gov::ingest::{self, LoadOptions};
use gov::report::summary::plural;
use output::Exit;

/// Policy-as-code for identity governance.
///
/// Write governance rules for non-human identities in `.gov` files, check
/// them, and evaluate them against an identity inventory.
#[derive(Parser, Debug)]
#[command(name = "gov", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// How to print diagnostics: `human` (graphical on a terminal, plain otherwise), `plain` or `json`.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human, env = "GOV_ERROR_FORMAT")]
    pub error_format: ErrorFormat,

    /// When to use colour in human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub plugins: plugin_args::PluginArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Diagnostic output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// Graphical on a terminal, plain otherwise.
    Human,
    /// Plain text, for logs and screen readers.
    Plain,
    /// JSON lines, for tools.
    Json,
}

/// Colour choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse policy files and print their syntax tree (for tooling).
    Parse(parse_cmd::ParseArgs),
    /// Format policy files in the canonical style.
    Fmt(fmt_cmd::FmtArgs),
    /// Compile policies (names, types, lints) without evaluating them.
    Check(eval_cmd::CheckArgs),
    /// Audit an inventory: every rule over every entity; exit code by `--fail-on`.
    Eval(eval_cmd::EvalArgs),
    /// Print a rule's documentation, or why it did (not) fire for an entity.
    Explain(explain_cmd::ExplainArgs),
    /// Write a self-contained HTML posture report per business service, with history and trends.
    Report(report_cmd::ReportArgs),
    /// Decide one request with a `decision` block (exit 0 allowed, 1 not allowed).
    Decide(decide_cmd::DecideArgs),
    /// What a policy change does to the findings (and recorded decisions), or what changed between two reports.
    Diff(Box<diff_cmd::DiffArgs>),
    /// Run the `test` blocks of policy files, with rule coverage.
    Test(test_cmd::TestArgs),
    /// Convert real inventory exports (AWS, Kubernetes, OpenGraph) to the native format.
    Ingest(ingest_cmd::IngestArgs),
    /// Inspect identity graphs: stats, the neighbourhood of one entity, synthetic inventories.
    Graph(graph_cmd::GraphArgs),
    /// Serve decisions over HTTP (JSON API, NGINX auth_request, Envoy ext_authz).
    #[cfg(feature = "serve")]
    Serve(Box<serve_cmd::ServeArgs>),
    /// Run the language server over stdin and stdout (for editors).
    #[cfg(feature = "lsp")]
    Lsp,
}

/// The output settings of this run, for the commands that print through
/// [`render`] rather than an [`output::Output`] they are handed.
static OUTPUT: std::sync::OnceLock<output::Output> = std::sync::OnceLock::new();

/// Entry point: parses arguments, runs the command, maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(&e),
    };
    let out = OUTPUT.get_or_init(|| output::Output::new(cli.error_format, cli.color));
    match &cli.command {
        Command::Eval(args) if args.paths.is_empty() => {
            project_args::plugins(&cli.plugins).configure()
        }
        _ => cli.plugins.configure(),
    }
    let exit = match &cli.command {
        Command::Parse(args) => parse_cmd::run(args, out),
        Command::Fmt(args) => fmt_cmd::run(args, out),
        Command::Check(args) => eval_cmd::check(args, out),
        Command::Eval(args) => match project_args::fill_eval(args, out) {
            Ok(args) => eval_cmd::eval(&args, out),
            Err(exit) => exit,
        },
        Command::Explain(args) => explain_cmd::run(args, out),
        Command::Decide(args) => decide_cmd::run(args, out),
        Command::Diff(args) => diff_cmd::run(args, out),
        Command::Report(args) => report_cmd::run(args, out),
        Command::Test(args) => test_cmd::run(args, out),
        Command::Ingest(args) => return ingest_cmd::run(args),
        Command::Graph(args) => return graph_cmd::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve_cmd::run(args, out),
        #[cfg(feature = "lsp")]
        Command::Lsp => match gov::lsp::run_stdio() {
            Ok(()) => output::Exit::Ok,
            Err(e) => out.fail(
                output::Exit::Io,
                gov::Diag::error(gov::Code::Io, format!("the language server stopped: {e}")),
            ),
        },
    };
    exit.into()
}

/// Prints diagnostics to stderr, in the run's `--error-format`.
pub fn render(diags: &Diagnostics) {
    match OUTPUT.get() {
        Some(out) => out.each(diags),
        None => gov::report::diagnostics::capped(diags).iter().for_each(render_one),
    }
}

/// Prints one diagnostic, in the run's `--error-format`.
pub fn render_one(d: &Diag) {
    match OUTPUT.get() {
        Some(out) => out.one(d),
        None => eprintln!("{}", gov::report::diagnostics::render_plain(d)),
    }
}

/// Prints a one-line summary of a load's problems (not in JSON: the
/// diagnostics say it all).
pub fn summary(diags: &Diagnostics, lenient: bool) {
    let (e, w) = (diags.error_count(), diags.warning_count());
    let line = if e > 0 {
        format!(
            "error: {} in the inventory{}",
            plural(e, "error"),
            if lenient { "" } else { " (use --lenient to load the valid part)" }
        )
    } else if w > 0 {
        format!("warning: {} reported; the rest was loaded", plural(w, "problem"))
    } else {
        return;
    };
    match OUTPUT.get() {
        Some(out) => out.note(&line),
        None => eprintln!("{line}"),
    }
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
    let sources = gov::load::inventories(paths).map_err(|f| {
        f.diagnostics.iter().for_each(render_one);
        ExitCode::from(policy::exit_of(f.stage))
    })?;
    let bytes: usize = sources.iter().map(|s| s.text().len()).sum();
    let progress =
        Progress::start(format!("loading {} file(s), {:.1} MB", sources.len(), bytes as f64 / 1e6));
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
            Err(Exit::InvalidInventory.into())
        }
    }
}

/// Prints a diagnostic from reading a file and returns exit code 5 (4 when
/// the file was read but is not UTF-8 text).
pub fn io_fail(d: &Diag) -> ExitCode {
    render_one(d);
    policy::exit_of(gov::load::Stage::of_read(d)).into()
}

/// Clap's own errors (an unknown flag, a missing value) as a
/// `gov::cli::usage` diagnostic when JSON was asked for, which clap cannot
/// know since the arguments did not parse; help and version as clap prints them.
fn argument_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().collect();
    let json =
        args.windows(2).any(|w| matches!(w, [flag, v] if flag == "--error-format" && v == "json"))
            || args.iter().any(|a| a == "--error-format=json")
            || (!args.iter().any(|a| a.starts_with("--error-format"))
                && std::env::var("GOV_ERROR_FORMAT").is_ok_and(|v| v == "json"));
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand;
    if !json || informational {
        e.exit();
    }
    // Clap's text up to its usage block, on one line.
    let rendered = e.to_string();
    let message = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(|l| l.trim().trim_start_matches("error: "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let d = Diag::error(gov::Code::CliUsage, message)
        .help("`gov help` lists the commands and their flags");
    output::Output::new(ErrorFormat::Json, ColorChoice::Never).one(&d);
    Exit::Usage.into()
}
