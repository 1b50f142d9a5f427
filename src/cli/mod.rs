//! Command-line parsing and dispatch. Each command lives in its own file and
//! only calls the library and a renderer.

mod eval_cmd;
mod explain_cmd;
mod fmt_cmd;
mod output;
mod parse_cmd;
mod policy;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
}

/// Entry point: parses arguments, runs the command, maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.error_format, cli.color);
    let exit = match &cli.command {
        Command::Parse(args) => parse_cmd::run(args, &out),
        Command::Fmt(args) => fmt_cmd::run(args, &out),
        Command::Check(args) => eval_cmd::check(args, &out),
        Command::Eval(args) => eval_cmd::eval(args, &out),
        Command::Explain(args) => explain_cmd::run(args, &out),
    };
    exit.into()
}
