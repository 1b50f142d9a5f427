//! `gov serve`: the HTTP decision API. Parses flags into a
//! [`gov::serve::Config`] and runs the library's server.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::output::{Exit, Output};

/// `gov serve` flags.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Policy files or directories (`*.gov`).
    #[arg(required = true, value_name = "POLICIES")]
    pub policies: Vec<PathBuf>,
    /// Inventory files or directories (native JSON/YAML or a real format, detected from content).
    #[arg(long = "inventory", short = 'i', value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// A YAML mapping file (see docs/inventory.md).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8181", value_parser = gov::serve::parse_listen)]
    pub listen: std::net::SocketAddr,
    /// A file holding the bearer token required on `/v1/*` (or set `GOV_SERVE_TOKEN`).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The decision the gateway endpoints ask when the path and the decision header name none
    /// (default: the policy set's only decision).
    #[arg(long, value_name = "NAME")]
    pub decision: Option<String>,
    /// Header holding the caller's identity (an entity id) on the gateway endpoints.
    #[arg(long, value_name = "HEADER", default_value = "X-Gov-Identity")]
    pub identity_header: String,
    /// Header holding the target (an entity id) on the gateway endpoints.
    #[arg(long, value_name = "HEADER", default_value = "X-Gov-Target")]
    pub target_header: String,
    /// Header holding the action (default when absent: `X-Original-Method`, then the method).
    #[arg(long, value_name = "HEADER", default_value = "X-Gov-Action")]
    pub action_header: String,
    /// Header naming the decision on the gateway endpoints.
    #[arg(long, value_name = "HEADER", default_value = "X-Gov-Decision")]
    pub decision_header: String,
    /// Decision input names the identity, target and action headers fill.
    #[arg(long, value_name = "NAME", default_value = "subject")]
    pub identity_input: String,
    /// See `--identity-input`.
    #[arg(long, value_name = "NAME", default_value = "target")]
    pub target_input: String,
    /// See `--identity-input`.
    #[arg(long, value_name = "NAME", default_value = "action")]
    pub action_input: String,
    /// Append one JSON line per decision to FILE (written asynchronously; never blocks a decision).
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    /// Largest request body in bytes (more: 413).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// Largest request head (start line and headers) in bytes (more: 431; at least 8192).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024)]
    pub max_header: usize,
    /// Per-request timeout in milliseconds (past it: 503).
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub timeout: u64,
    /// Reload only on SIGHUP, not when a source file changes.
    #[arg(long)]
    pub no_watch: bool,
    /// How often to look for changed source files, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub watch_interval: u64,
    /// Runtime worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Let a reload swap in a revision that drops decisions being served, or
    /// has no rules and no decisions (refused by default: an editor's save
    /// can leave a file empty for a moment).
    #[arg(long)]
    pub allow_decision_removal: bool,
    /// Open connections at most; past it the least recently active idle
    /// connection is closed (default: the open-file limit less 64).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Answer a decision only once its log record is on disk (fsync; one per
    /// batch of waiting decisions). Needs --decision-log.
    #[arg(long, requires = "decision_log")]
    pub decision_log_sync: bool,
    /// Also serve Envoy's gRPC `ext_authz` (`envoy.service.auth.v3.Authorization/Check`) on ADDR.
    #[arg(long, value_name = "ADDR", value_parser = gov::serve::parse_listen)]
    pub grpc_listen: Option<std::net::SocketAddr>,
    /// Where gRPC checks take the identity: `header` (the identity header), `principal` (the
    /// mTLS peer's), `jwt` (a claim of the JWT Envoy's `jwt_authn` verified).
    #[arg(long, value_name = "SOURCE", default_value = "header", value_parser = ["header", "principal", "jwt"])]
    pub grpc_identity: String,
    /// With `--grpc-identity jwt`: the `jwt_authn` provider's `payload_in_metadata` key.
    #[arg(long, value_name = "KEY", default_value = "jwt_payload")]
    pub grpc_jwt_payload: String,
    /// With `--grpc-identity jwt`: the claim holding the identity.
    #[arg(long, value_name = "CLAIM", default_value = "sub")]
    pub grpc_jwt_claim: String,
    /// Where gRPC checks take the target: `header`, `path`, `method` or `context:KEY` (the
    /// route's `context_extensions`).
    #[arg(long, value_name = "SOURCE", default_value = "header")]
    pub grpc_target: gov::serve::InputSource,
    /// Where gRPC checks take the action (`header` falls back to the method).
    #[arg(long, value_name = "SOURCE", default_value = "header")]
    pub grpc_action: gov::serve::InputSource,
}

pub fn run(args: &ServeArgs, out: &Output) -> Exit {
    let token = match (&args.token_file, std::env::var("GOV_SERVE_TOKEN")) {
        (Some(path), _) => match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            Ok(_) => {
                return out.fail(
                    Exit::Usage,
                    gov::Diag::error(
                        gov::Code::ServeStart,
                        format!("the token file `{}` is empty", path.display()),
                    )
                    .help("write the bearer token gateways send into the file"),
                );
            }
            Err(e) => {
                out.io_error(&path.display().to_string(), &e);
                return Exit::Io;
            }
        },
        (None, Ok(t)) if !t.trim().is_empty() => Some(t.trim().to_owned()),
        (None, _) => None,
    };
    let config = gov::serve::Config {
        sources: gov::Sources {
            policies: args.policies.clone(),
            inventories: args.inventory.clone(),
            mapping: args.mapping.clone(),
        },
        listen: args.listen,
        token,
        decision: args.decision.clone(),
        headers: gov::serve::HeaderNames {
            identity: args.identity_header.clone(),
            target: args.target_header.clone(),
            action: args.action_header.clone(),
            decision: args.decision_header.clone(),
        },
        inputs: gov::serve::InputNames {
            identity: args.identity_input.clone(),
            target: args.target_input.clone(),
            action: args.action_input.clone(),
        },
        decision_log: args.decision_log.clone(),
        max_body_bytes: args.max_body,
        max_header_bytes: args.max_header,
        timeout: Duration::from_millis(args.timeout),
        watch_interval: (!args.no_watch)
            .then(|| Duration::from_millis(args.watch_interval.max(10))),
        threads: args.threads,
        allow_decision_removal: args.allow_decision_removal,
        max_connections: args.max_connections,
        decision_log_sync: args.decision_log_sync,
        grpc: args.grpc_listen.map(|listen| gov::serve::GrpcConfig {
            listen,
            identity: match args.grpc_identity.as_str() {
                "principal" => gov::serve::IdentitySource::Principal,
                "jwt" => gov::serve::IdentitySource::Jwt {
                    payload_key: args.grpc_jwt_payload.clone(),
                    claim: args.grpc_jwt_claim.clone(),
                },
                _ => gov::serve::IdentitySource::Header,
            },
            target: args.grpc_target.clone(),
            action: args.grpc_action.clone(),
        }),
        ..gov::serve::Config::default()
    };
    match gov::serve::run(config) {
        Ok(()) => Exit::Ok,
        Err(gov::serve::ServeError::Load(diags)) => {
            super::render(&diags);
            out.note("error: gov serve did not start: the policies or inventories have errors");
            Exit::InvalidPolicy
        }
        Err(gov::serve::ServeError::Config(msg)) => {
            out.fail(Exit::Usage, gov::Diag::error(gov::Code::ServeStart, msg))
        }
        Err(e @ gov::serve::ServeError::Io { .. }) => {
            out.fail(Exit::Io, gov::Diag::error(gov::Code::ServeStart, e.to_string()))
        }
    }
}
