//! Decisions per second through a real Envoy: the `ext_authz` filter asking
//! `gov serve` over HTTP and over gRPC, against the same Envoy without the
//! filter, in one run.
//!
//! Envoy runs the shipped configurations (`examples/envoy/http.yaml`,
//! `examples/envoy/grpc.yaml`) with this run's ports, and variants cut from
//! them: without the `ext_authz` filter (the baseline), and the gRPC one
//! without `jwt_authn` (identity from a header, as the HTTP one does), so
//! that HTTP and gRPC are compared on the same inputs. A closed-loop load
//! generator keeps `GOV_BENCH_CONNECTIONS` keep-alive HTTP/1.1 connections
//! (default 16) busy for `GOV_BENCH_SECONDS` per scenario (default 3, after
//! 0.5 s of warm-up), and at most `GOV_BENCH_REQUESTS` requests (default
//! 200,000); best of `GOV_BENCH_ROUNDS` interleaved rounds (default 2).
//! Requests rotate over allowed and denied identities; every one through
//! the filter is one decision (checked against gov's counter).
//!
//! Envoy, gov, the upstream and the load generator share the machine; the
//! ratio to the baseline is the figure to compare.
//!
//! Needs `envoy` (`GOV_TEST_ENVOY`, the PATH, or `target/envoy-venv`).
//! Run with `cargo bench --bench envoy --no-default-features --features cli,grpc`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;
use common::env_num;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

const TOKEN: &str = "bench-token";

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn find_envoy() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("GOV_TEST_ENVOY") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([manifest("target/envoy-venv/bin")])
        .map(|d| d.join("envoy"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `gov serve` with the gRPC listener; returns it, its HTTP and gRPC addresses.
fn start_gov(grpc_args: &[&str]) -> (Proc, SocketAddr, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(["serve", "examples/nginx/gateway.gov", "-i", "examples/nginx/inventory.json"])
        .args(["--no-watch", "--listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"])
        .args(grpc_args)
        .env("GOV_SERVE_TOKEN", TOKEN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut grpc = None;
    let http = loop {
        let line = lines.next().expect("gov serve exited").unwrap();
        if let Some(a) = line.split("grpc ext_authz listening on ").nth(1) {
            grpc = Some(a.trim().parse().unwrap());
        }
        if let Some(a) = line.split("listening on http://").nth(1) {
            break a.trim().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), http, grpc.expect("no grpc listening line"))
}

/// A keep-alive upstream answering `200 upstream ok`, one thread per connection.
fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nupstream ok");
                    }
                }
            });
        }
    });
    addr
}

/// Removes the filter named `name` (its whole list item) from a config.
fn without_filter(config: &str, name: &str) -> String {
    let item = format!("          - name: {name}\n");
    let start = config.find(&item).unwrap_or_else(|| panic!("no filter {name}"));
    let end = config[start + item.len()..]
        .find("          - name: ")
        .map_or(config.len(), |i| start + item.len() + i);
    format!("{}{}", &config[..start], &config[end..])
}

fn start_envoy(
    bin: &Path,
    config: &str,
    dir: &Path,
    app: SocketAddr,
    http: u16,
    grpc: u16,
) -> (Proc, SocketAddr) {
    let listen = free_port();
    let conf = config
        .replace("port_value: 8080", &format!("port_value: {listen}"))
        .replace("port_value: 9000", &format!("port_value: {}", app.port()))
        .replace("port_value: 8181", &format!("port_value: {http}"))
        .replace("127.0.0.1:8181", &format!("127.0.0.1:{http}"))
        .replace("port_value: 8182", &format!("port_value: {grpc}"))
        .replace("Bearer change-me", &format!("Bearer {TOKEN}"))
        .replace("/etc/envoy/jwks.json", dir.join("jwks.json").to_str().unwrap());
    let path = dir.join(format!("envoy-{listen}.yaml"));
    std::fs::write(&path, conf).unwrap();
    let concurrency = env_num("GOV_BENCH_ENVOY_CONCURRENCY", 2).to_string();
    let child = Command::new(bin)
        .arg("-c")
        .arg(&path)
        .args(["--disable-hot-restart", "--concurrency", &concurrency, "-l", "error"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut envoy = Proc(child);
    let addr: SocketAddr = ([127, 0, 0, 1], listen).into();
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        assert!(envoy.0.try_wait().unwrap().is_none(), "envoy exited");
        assert!(Instant::now() < deadline, "envoy did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (envoy, addr)
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn { stream, buf: Vec::with_capacity(4096) }
    }

    /// Sends `req`, returns the status (the body is read and dropped).
    fn round_trip(&mut self, req: &[u8]) -> u16 {
        self.stream.write_all(req).unwrap();
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).unwrap().to_ascii_lowercase();
                let status: u16 = head[9..12].parse().unwrap();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                while self.buf.len() < end + 4 + len {
                    let n = self.stream.read(&mut chunk).unwrap();
                    assert!(n > 0, "envoy closed the connection");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return status;
            }
            let n = self.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "envoy closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Requests measured, of which allowed (200), and the seconds measured.
struct Outcome {
    requests: u64,
    allowed: u64,
    secs: f64,
}

/// Closed loop over `connections` threads, requests round robin.
fn drive(addr: SocketAddr, requests: &Arc<Vec<Vec<u8>>>, connections: usize) -> Outcome {
    let warmup = Duration::from_millis(500);
    let measure = Duration::from_secs(env_num("GOV_BENCH_SECONDS", 3));
    let limit = env_num("GOV_BENCH_REQUESTS", 200_000);
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let (count, allowed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let threads: Vec<_> = (0..connections)
        .map(|i| {
            let (requests, stop, measuring) =
                (Arc::clone(requests), Arc::clone(&stop), Arc::clone(&measuring));
            let (count, allowed) = (Arc::clone(&count), Arc::clone(&allowed));
            std::thread::spawn(move || {
                let mut conn = Conn::new(addr);
                let mut k = i;
                while !stop.load(Ordering::Relaxed) {
                    let status = conn.round_trip(&requests[k % requests.len()]);
                    k += 1;
                    assert!(matches!(status, 200 | 403), "status {status}");
                    if measuring.load(Ordering::Relaxed) {
                        if count.fetch_add(1, Ordering::Relaxed) + 1 >= limit {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if status == 200 {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(warmup);
    measuring.store(true, Ordering::Relaxed);
    let start = Instant::now();
    while start.elapsed() < measure && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
    }
    measuring.store(false, Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    Outcome {
        requests: count.load(Ordering::Relaxed),
        allowed: allowed.load(Ordering::Relaxed),
        secs,
    }
}

/// The identities and paths requests rotate over: (identity, path, target).
const MIX: [(&str, &str, &str); 4] = [
    ("alice", "/payments/invoices", "payments"),   // allowed
    ("svc-ledger", "/ledger/entries", "ledger"),   // allowed
    ("mallory", "/payments/invoices", "payments"), // not permitted
    ("bob", "/payments/invoices", "payments"),     // deny
];

fn header_requests() -> Vec<Vec<u8>> {
    MIX.iter()
        .map(|(who, path, target)| {
            format!("GET {path} HTTP/1.1\r\nHost: app\r\nx-gov-identity: {who}\r\nx-gov-target: {target}\r\n\r\n")
                .into_bytes()
        })
        .collect()
}

fn jwt_requests(key: &SigningKey) -> Vec<Vec<u8>> {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
    MIX.iter()
        .map(|(who, path, _)| {
            let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "bench"});
            let claims = serde_json::json!({"iss": "https://idp.example.com", "aud": "gateway", "sub": who, "exp": exp});
            let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
            let signature: Signature = key.sign(input.as_bytes());
            let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
            format!("GET {path} HTTP/1.1\r\nHost: app\r\nauthorization: Bearer {jwt}\r\n\r\n").into_bytes()
        })
        .collect()
}

fn jwks(key: &SigningKey) -> String {
    let point = key.verifying_key().to_encoded_point(false);
    serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "bench",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    }]})
    .to_string()
}

/// gov's decision counter.
fn decisions(gov: SocketAddr) -> u64 {
    let mut s = TcpStream::connect(gov).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: gov\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|l| l.starts_with("gov_decisions_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

struct Scenario {
    name: &'static str,
    envoy: SocketAddr,
    gov: Option<SocketAddr>,
    requests: Arc<Vec<Vec<u8>>>,
    best: f64,
}

fn main() {
    let Some(bin) = find_envoy() else {
        println!("envoy bench skipped: no envoy (GOV_TEST_ENVOY, PATH or target/envoy-venv)");
        return;
    };
    let connections = env_num("GOV_BENCH_CONNECTIONS", 16) as usize;
    let rounds = env_num("GOV_BENCH_ROUNDS", 2).max(1);
    let version = Command::new(&bin).arg("--version").output().unwrap();
    println!(
        "envoy: {}\n{} cores, {connections} keep-alive connections, best of {rounds} interleaved rounds of {} s (at most {} requests) per scenario",
        String::from_utf8_lossy(&version.stdout).trim(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env_num("GOV_BENCH_SECONDS", 3),
        env_num("GOV_BENCH_REQUESTS", 200_000),
    );
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_slice(&[7; 32]).unwrap();
    std::fs::write(dir.path().join("jwks.json"), jwks(&key)).unwrap();
    let app = upstream();
    let http_yaml = std::fs::read_to_string(manifest("examples/envoy/http.yaml")).unwrap();
    let grpc_yaml = std::fs::read_to_string(manifest("examples/envoy/grpc.yaml")).unwrap();

    // One gov per identity source: header (HTTP and the header gRPC variant), JWT.
    let (_gov_h, gov_http, gov_grpc) =
        start_gov(&["--grpc-target", "context:target", "--grpc-action", "method"]);
    let (_gov_j, gov_j_http, gov_j_grpc) = start_gov(&[
        "--grpc-identity",
        "jwt",
        "--grpc-target",
        "context:target",
        "--grpc-action",
        "method",
    ]);
    let d = dir.path();
    let envoys = [
        start_envoy(
            &bin,
            &without_filter(&http_yaml, "envoy.filters.http.ext_authz"),
            d,
            app,
            gov_http.port(),
            gov_grpc.port(),
        ),
        start_envoy(&bin, &http_yaml, d, app, gov_http.port(), gov_grpc.port()),
        start_envoy(
            &bin,
            &without_filter(&grpc_yaml, "envoy.filters.http.jwt_authn"),
            d,
            app,
            gov_http.port(),
            gov_grpc.port(),
        ),
        start_envoy(
            &bin,
            &without_filter(&grpc_yaml, "envoy.filters.http.ext_authz"),
            d,
            app,
            gov_j_http.port(),
            gov_j_grpc.port(),
        ),
        start_envoy(&bin, &grpc_yaml, d, app, gov_j_http.port(), gov_j_grpc.port()),
    ];
    let headers = Arc::new(header_requests());
    let jwts = Arc::new(jwt_requests(&key));
    let mut scenarios = vec![
        Scenario {
            name: "envoy, no filter",
            envoy: envoys[0].1,
            gov: None,
            requests: Arc::clone(&headers),
            best: 0.0,
        },
        Scenario {
            name: "envoy + ext_authz HTTP",
            envoy: envoys[1].1,
            gov: Some(gov_http),
            requests: Arc::clone(&headers),
            best: 0.0,
        },
        Scenario {
            name: "envoy + ext_authz gRPC",
            envoy: envoys[2].1,
            gov: Some(gov_http),
            requests: Arc::clone(&headers),
            best: 0.0,
        },
        Scenario {
            name: "envoy + jwt_authn, no ext_authz",
            envoy: envoys[3].1,
            gov: None,
            requests: Arc::clone(&jwts),
            best: 0.0,
        },
        Scenario {
            name: "envoy + jwt_authn + ext_authz gRPC",
            envoy: envoys[4].1,
            gov: Some(gov_j_http),
            requests: Arc::clone(&jwts),
            best: 0.0,
        },
    ];
    for round in 1..=rounds {
        for s in &mut scenarios {
            let before = s.gov.map(decisions);
            let o = drive(s.envoy, &s.requests, connections);
            let rate = o.requests as f64 / o.secs;
            if let (Some(gov), Some(before)) = (s.gov, before) {
                // Every request through the filter was a decision (warm-up included).
                assert!(
                    decisions(gov) - before >= o.requests,
                    "{}: fewer decisions than requests",
                    s.name
                );
            }
            if s.gov.is_some() {
                // Two of the four identities are allowed: the filter let through about half.
                let share = o.allowed as f64 / o.requests as f64;
                assert!((0.4..=0.6).contains(&share), "{}: {share:.2} allowed", s.name);
            } else {
                assert_eq!(o.allowed, o.requests, "{}: without the filter all pass", s.name);
            }
            println!(
                "round {round}  {:<36} {rate:>8.0} req/s  ({} requests, {} allowed)",
                s.name, o.requests, o.allowed
            );
            s.best = s.best.max(rate);
        }
    }
    let base = scenarios[0].best;
    let jwt_base = scenarios[3].best;
    println!(
        "\n| scenario | requests/s (best) | vs no filter | vs jwt_authn only |\n|---|---|---|---|"
    );
    for s in &scenarios {
        println!(
            "| {} | {:.0} | {:.2}x | {} |",
            s.name,
            s.best,
            s.best / base,
            if s.name.contains("jwt") {
                format!("{:.2}x", s.best / jwt_base)
            } else {
                String::new()
            }
        );
    }
}
