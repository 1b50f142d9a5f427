//! `gov decide`: one request against a decision block, through the library's
//! [`gov::Engine`] (what a gateway embeds). Exit 0 when the effect is
//! `allow`, 1 for `deny`, `not_permitted` and `approval_required`.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use clap::ValueEnum;
use gov::time::Timestamp;
use gov::{Code, DecideError, Diag, Diagnostics, Engine, Request, Sources};

use super::output::{Exit, Output};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecideFormat {
    /// The effect, the reasons with their clauses, approvers and priority.
    Human,
    /// The decision as JSON (`effect`, `reasons`, `approvers`, `priority`, `revision`).
    Json,
}

#[derive(clap::Args, Debug)]
pub struct DecideArgs {
    /// Policy files or directories.
    #[arg(required = true, value_name = "POLICIES")]
    pub paths: Vec<PathBuf>,
    /// Inventory files or directories (native JSON/YAML or a real format).
    #[arg(long = "inventory", short = 'i', value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// A YAML mapping file (see docs/inventory.md).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// The request as JSON: `{"decision": "...", "input": {...}, "now": "..."}`; `-` reads stdin.
    #[arg(long, value_name = "FILE|-")]
    pub request: PathBuf,
    /// Decision time (RFC 3339 or YYYY-MM-DD); overrides the request's `now`;
    /// default: the request's, else the system clock.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DecideFormat::Human)]
    pub format: DecideFormat,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).map_err(|e| format!("`{s}`: {e}"))
}

pub fn run(args: &DecideArgs, out: &Output) -> Exit {
    let mut request = match read_request(&args.request) {
        Ok(r) => r,
        Err((d, exit)) => {
            out.diagnostics(&d.into());
            return exit;
        }
    };
    if args.now.is_some() {
        request.now = args.now;
    }
    let sources = Sources {
        policies: args.paths.clone(),
        inventories: args.inventory.clone(),
        mapping: args.mapping.clone(),
    };
    let engine = match Engine::load(&sources) {
        Ok(e) => e,
        Err(d) => {
            out.diagnostics(&d);
            return load_exit(&d);
        }
    };
    let decision = match engine.decide(&request) {
        Ok(d) => d,
        Err(e) => {
            out.diagnostics(&request_error(&e).into());
            return Exit::Usage;
        }
    };
    let mut text = String::new();
    match args.format {
        DecideFormat::Json => {
            let mut v = serde_json::to_value(&decision).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("decision".into(), request.decision.clone().into());
                o.insert("revision".into(), engine.revision().into());
            }
            text = serde_json::to_string_pretty(&v).unwrap_or_default();
            text.push('\n');
        }
        DecideFormat::Human => {
            let _ = writeln!(text, "{} ({})", decision.effect.as_str(), request.decision);
            for r in &decision.reasons {
                let _ = writeln!(
                    text,
                    "  {}: {} ({}:{}:{})",
                    r.clause, r.message, r.file, r.line, r.column
                );
            }
            if !decision.approvers.is_empty() {
                let _ = writeln!(text, "  approvers: {}", decision.approvers.join(", "));
            }
            if let Some(p) = &decision.priority {
                let _ = writeln!(text, "  priority: {p}");
            }
        }
    }
    // A closed pipe (`| head`) is not an error of the decision.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if decision.effect.is_allowed() { Exit::Ok } else { Exit::Violations }
}

fn read_request(path: &PathBuf) -> Result<Request, (Diag, Exit)> {
    let (name, text) = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            (Diag::error(Code::Io, format!("cannot read the request from stdin: {e}")), Exit::Io)
        })?;
        ("<stdin>".to_owned(), s)
    } else {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            (
                Diag::error(Code::Io, format!("cannot read `{name}`: {e}"))
                    .help("check the path and the file's permissions"),
                Exit::Io,
            )
        })?;
        (name, text)
    };
    // A byte-order mark is skipped, as `gov serve` skips it.
    serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text)).map_err(|e| {
        (
            Diag::error(Code::InvalidDecisionInput, format!("`{name}` is not a decision request: {e}"))
                .help(r#"a request is JSON: {"decision": "call-service", "input": {"subject": "svc-a", "target": "billing", "action": "write"}}"#),
            Exit::Usage,
        )
    })
}

/// A request the engine refused, as a diagnostic.
fn request_error(e: &DecideError) -> Diag {
    let code = match e {
        DecideError::UnknownDecision { .. } => Code::UnknownDecision,
        _ => Code::InvalidDecisionInput,
    };
    let d = Diag::error(code, e.to_string());
    match e {
        DecideError::UnknownDecision { suggestion: Some(s), .. } => {
            d.help(format!("did you mean `{s}`?"))
        }
        DecideError::UnknownDecision { .. } => {
            d.help("the request's `decision` names a `decision` block of the policies")
        }
        DecideError::UnknownEntity { .. } => {
            d.help("entity inputs take the id of a node of the declared kind in the inventory")
        }
        _ => d.help(
            "give every declared input (optional ones may be left out) with its declared type",
        ),
    }
}

/// The exit code for a failed load: I/O, then the inventory, then the policies.
fn load_exit(d: &Diagnostics) -> Exit {
    let errors = || d.iter().filter(|x| x.is_error()).map(|x| x.code.as_str());
    if errors().any(|c| c == "gov::io") {
        Exit::Io
    } else if errors().any(|c| c.starts_with("gov::ingest::")) {
        Exit::InvalidInventory
    } else {
        Exit::InvalidPolicy
    }
}
