//! The process around the routes: load, bind, the accept loop on hyper's
//! HTTP/1 connection builder (header size and header read timeout), SIGHUP,
//! shutdown on SIGINT/SIGTERM, and the decision log's writer thread.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::HeaderName;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::config::{Config, InputNames, MIN_HEADER_BYTES, default_max_connections};
use super::log::DecisionLog;
use super::metrics::Metrics;
use super::slots::Slots;
use super::{reload, routes};
use crate::decide::{Engine, EngineHandle};
use crate::diag::Diagnostics;

/// Why the server did not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The policies, inventories or mapping have errors.
    #[error("the policies or inventories have errors")]
    Load(Diagnostics),
    /// A setting is invalid.
    #[error("{0}")]
    Config(String),
    /// Binding the address, opening the decision log, starting the runtime.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Everything a request handler reads; shared by every connection.
pub(crate) struct State {
    pub engine: Arc<EngineHandle>,
    pub metrics: Arc<Metrics>,
    pub log: Option<DecisionLog>,
    pub token: Option<Vec<u8>>,
    pub decision: Option<String>,
    pub headers: Headers,
    pub inputs: InputNames,
    pub max_body_bytes: usize,
    /// Largest request head answered (more: a JSON 431).
    pub max_header_bytes: usize,
    pub timeout: Duration,
}

/// The gateway header names, parsed once.
pub(crate) struct Headers {
    pub identity: HeaderName,
    pub target: HeaderName,
    pub action: HeaderName,
    pub decision: HeaderName,
}

fn header_name(what: &str, name: &str) -> Result<HeaderName, ServeError> {
    HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes()).map_err(|_| {
        ServeError::Config(format!("the {what} header `{name}` is not a valid header name"))
    })
}

/// Loads the sources and serves until SIGINT or SIGTERM. Prints
/// `gov serve: listening on http://ADDR` to stderr once the port is bound.
pub fn run(config: Config) -> Result<(), ServeError> {
    let headers = Headers {
        identity: header_name("identity", &config.headers.identity)?,
        target: header_name("target", &config.headers.target)?,
        action: header_name("action", &config.headers.action)?,
        decision: header_name("decision", &config.headers.decision)?,
    };
    if config.max_body_bytes == 0 {
        return Err(ServeError::Config("--max-body must be at least 1 byte".into()));
    }
    if config.decision_log_sync && config.decision_log.is_none() {
        return Err(ServeError::Config("--decision-log-sync needs --decision-log FILE".into()));
    }
    if config.max_connections == Some(0) {
        return Err(ServeError::Config("--max-connections must be at least 1".into()));
    }
    if config.timeout.is_zero() {
        return Err(ServeError::Config("--timeout must be at least 1 ms".into()));
    }
    #[cfg(not(feature = "grpc"))]
    if config.grpc.is_some() {
        return Err(ServeError::Config(
            "this gov is built without gRPC (the `grpc` feature)".into(),
        ));
    }
    let snapshot = reload::Snapshot::take(&config.sources);
    let engine = Engine::load(&config.sources).map_err(ServeError::Load)?;
    let metrics = Arc::new(Metrics::default());
    let (log, log_thread) = match &config.decision_log {
        Some(path) => {
            let (log, thread) = DecisionLog::open(
                path,
                config.decision_log_capacity,
                Arc::clone(&metrics),
                config.decision_log_sync,
            )
            .map_err(|source| ServeError::Io {
                what: format!("cannot open the decision log `{}`", path.display()),
                source,
            })?;
            (Some(log), Some(thread))
        }
        None => (None, None),
    };
    let revision = engine.revision().to_owned();
    let decisions: Vec<String> = engine.decisions().map(str::to_owned).collect();
    let handle = Arc::new(EngineHandle::new(engine));
    let reload_tx = reload::spawn(
        config.sources.clone(),
        snapshot,
        Arc::clone(&handle),
        Arc::clone(&metrics),
        config.watch_interval,
        reload::Policy { allow_decision_removal: config.allow_decision_removal },
    )
    .map_err(|source| ServeError::Io { what: "cannot start the reload thread".into(), source })?;
    let state = Arc::new(State {
        engine: handle,
        metrics,
        log,
        token: config.token.as_ref().map(|t| t.trim().as_bytes().to_vec()),
        decision: config.decision.clone(),
        headers,
        inputs: config.inputs.clone(),
        max_body_bytes: config.max_body_bytes,
        max_header_bytes: config.max_header_bytes.max(MIN_HEADER_BYTES),
        timeout: config.timeout,
    });
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = config.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io { what: "cannot start the runtime".into(), source })?;
    let result = rt.block_on(async {
        let listener = TcpListener::bind(config.listen).await.map_err(|source| ServeError::Io {
            what: format!("cannot listen on {}", config.listen),
            source,
        })?;
        let addr = listener.local_addr().unwrap_or(config.listen);
        #[cfg(feature = "grpc")]
        let grpc = match &config.grpc {
            Some(g) => Some(super::grpc::start(g, Arc::clone(&state)).await?),
            None => None,
        };
        eprintln!(
            "gov serve: revision {revision}, decisions: {}",
            if decisions.is_empty() { "(none)".to_owned() } else { decisions.join(", ") }
        );
        eprintln!("gov serve: listening on http://{addr}");
        spawn_sighup(reload_tx.clone());
        accept_loop(listener, Arc::clone(&state), &config).await;
        #[cfg(feature = "grpc")]
        if let Some(grpc) = grpc {
            grpc.stop().await;
        }
        eprintln!("gov serve: shutting down");
        Ok(())
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    drop(reload_tx);
    // The last handle on the log's queue: its thread writes what is queued and ends.
    drop(state);
    if let Some(thread) = log_thread {
        let _ = thread.join();
    }
    result
}

#[cfg(unix)]
fn spawn_sighup(tx: std::sync::mpsc::Sender<()>) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => {
            eprintln!("gov serve: cannot listen for SIGHUP ({e}); reload on file change only")
        }
    }
}

#[cfg(not(unix))]
fn spawn_sighup(_tx: std::sync::mpsc::Sender<()>) {}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// hyper's limit on a request head: four times the configured one (at least
/// 64 KiB), so that a head over the configured limit still reaches the
/// router, which answers it with a JSON 431. Past this hyper answers 431
/// itself, without a body, and closes the connection.
pub(crate) fn head_buffer(max_header_bytes: usize) -> usize {
    max_header_bytes.max(MIN_HEADER_BYTES).saturating_mul(4).max(64 * 1024)
}

/// Whether an `accept` error means the process (or the system) is out of
/// file descriptors: EMFILE or ENFILE.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, config: &Config) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.timeout)
        .max_header_size(head_buffer(config.max_header_bytes))
        .keep_alive(true);
    let slots = Slots::new(config.max_connections.unwrap_or_else(default_max_connections));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    // Accept errors are logged at most once a second, with a count.
    let mut failures = 0u64;
    let mut last_report: Option<std::time::Instant> = None;
    loop {
        // At the cap: close an idle connection first; if every one is busy,
        // wait a moment for a request to finish.
        if !slots.make_room(false) {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(5)) => continue,
                () = &mut shutdown => return,
            }
        }
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    failures += 1;
                    if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        eprintln!(
                            "gov serve: accept failed: {e} ({failures} time(s) since the last report; {} of at most {} connections open)",
                            slots.open(),
                            slots.max()
                        );
                        failures = 0;
                        last_report = Some(std::time::Instant::now());
                    }
                    if out_of_descriptors(&e) && slots.make_room(true) {
                        // A descriptor was freed: try again at once.
                        tokio::task::yield_now().await;
                    } else {
                        // Wait, do not spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let (slot, activity, id) = slots.take();
        let conn = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(move |req| {
                let state = Arc::clone(&state);
                let busy = activity.begin();
                async move {
                    let resp = routes::handle(state, req).await;
                    drop(busy);
                    Ok::<_, Infallible>(resp)
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _slot = slot;
            let _ = conn.await;
        });
        slots.set_abort(id, task.abort_handle());
    }
}

/// The address a `--listen` value names.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse::<SocketAddr>().map_err(|_| format!("`{s}` is not an address such as 127.0.0.1:8181"))
}
