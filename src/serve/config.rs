//! What `gov serve` is told: sources, address, limits, the gateway header
//! names and where the decision log goes. Plain data; [`super::run`] checks it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::decide::Sources;

/// The smallest header limit hyper accepts (its HTTP/1 read buffer minimum).
pub const MIN_HEADER_BYTES: usize = 8192;

/// Configuration of a decision server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Policies, inventories and mapping: loaded at start, reloaded on SIGHUP and on change.
    pub sources: Sources,
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound one is printed).
    pub listen: SocketAddr,
    /// Bearer token required on `/v1/*` (`Authorization: Bearer TOKEN`); `None`: no token.
    pub token: Option<String>,
    /// The decision the gateway endpoints ask when the path or the decision
    /// header names none; `None`: the policy set's only decision.
    pub decision: Option<String>,
    /// Request headers the gateway endpoints read.
    pub headers: HeaderNames,
    /// The decision inputs those headers fill.
    pub inputs: InputNames,
    /// JSON-lines decision log; `None`: no log.
    pub decision_log: Option<PathBuf>,
    /// Records the decision log may hold in memory before it drops (and counts) new ones.
    pub decision_log_capacity: usize,
    /// Largest request body (bytes); more gets 413.
    pub max_body_bytes: usize,
    /// Largest request head (start line and headers, bytes); more gets 431.
    /// Values under 8192 are raised to 8192 (hyper's minimum).
    pub max_header_bytes: usize,
    /// Per-request deadline, from the first byte of the head to the response; past it: 503.
    pub timeout: Duration,
    /// How often to look for changed source files; `None`: only SIGHUP reloads.
    pub watch_interval: Option<Duration>,
    /// Runtime worker threads; `None`: one per core.
    pub threads: Option<usize>,
    /// Reloads may swap in a revision that drops decisions being served, or
    /// has no rules and no decisions (otherwise such a reload is refused).
    pub allow_decision_removal: bool,
    /// Open connections at most; `None`: derived from the process's open-file
    /// limit (see [`default_max_connections`]). Past it the least recently
    /// active idle connection is closed for a new one.
    pub max_connections: Option<usize>,
    /// Answer a decision only once its decision-log record is written and
    /// flushed to disk (`fsync`, one per batch of waiting decisions).
    pub decision_log_sync: bool,
    /// Envoy's gRPC `ext_authz` service on a listener of its own; `None`: off.
    pub grpc: Option<super::GrpcConfig>,
}

/// File descriptors kept back from connections for the log, the sources a
/// reload reads and the runtime.
pub const RESERVED_FDS: usize = 64;

/// The default connection cap: the soft open-file limit (`RLIMIT_NOFILE`,
/// read from `/proc/self/limits`; 1024 where it cannot be read) less
/// [`RESERVED_FDS`], and at least 16.
pub fn default_max_connections() -> usize {
    open_file_limit().unwrap_or(1024).saturating_sub(RESERVED_FDS).max(16)
}

/// The soft limit on open files, from `/proc/self/limits` (Linux).
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.trim_start_matches("Max open files").split_whitespace().next()?;
    // "unlimited" reads as no limit worth deriving from.
    soft.parse::<usize>().ok().map(|n| n.min(1 << 20))
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sources: Sources::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8181)),
            token: None,
            decision: None,
            headers: HeaderNames::default(),
            inputs: InputNames::default(),
            decision_log: None,
            decision_log_capacity: 65_536,
            max_body_bytes: 64 * 1024,
            max_header_bytes: 16 * 1024,
            timeout: Duration::from_millis(2_000),
            watch_interval: Some(Duration::from_secs(1)),
            threads: None,
            allow_decision_removal: false,
            max_connections: None,
            decision_log_sync: false,
            grpc: None,
        }
    }
}

/// Header names the gateway endpoints read (case-insensitive).
#[derive(Clone, Debug)]
pub struct HeaderNames {
    /// Who is asking (an entity id). Missing or unknown: 401.
    pub identity: String,
    /// What is asked for (an entity id, e.g. a service).
    pub target: String,
    /// What is done (a string). Default: `X-Original-Method` (NGINX), else the request's method.
    pub action: String,
    /// Which decision to ask, when the path names none.
    pub decision: String,
}

impl Default for HeaderNames {
    fn default() -> Self {
        HeaderNames {
            identity: "x-gov-identity".into(),
            target: "x-gov-target".into(),
            action: "x-gov-action".into(),
            decision: "x-gov-decision".into(),
        }
    }
}

/// Decision input names the gateway headers fill.
#[derive(Clone, Debug)]
pub struct InputNames {
    /// Filled from the identity header.
    pub identity: String,
    /// Filled from the target header.
    pub target: String,
    /// Filled from the action header (or the method).
    pub action: String,
}

impl Default for InputNames {
    fn default() -> Self {
        InputNames { identity: "subject".into(), target: "target".into(), action: "action".into() }
    }
}
