//! A real gateway: NGINX with `auth_request` (the shipped
//! `examples/nginx/gov.conf`) in front of a tiny upstream, asking `gov serve`.
//! Requests go out as different identities; exactly the ones the policy
//! allows must reach the upstream.
//!
//! Needs `nginx` (`.ci/run` installs it with apt). Without it the test fails
//! when `CI` is set and is skipped, loudly, otherwise. `GOV_TEST_NGINX` names
//! the binary if it is not on the PATH or in /usr/sbin.
#![cfg(all(feature = "cli", feature = "serve"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, free_port, upstream};

const TOKEN: &str = "nginx-test-token";

fn find_nginx() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("GOV_TEST_NGINX") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/usr/local/nginx/sbin".into()])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// A request through NGINX: identity, method, path, expected status, expected `X-Gov-Effect`.
type Case = (Option<&'static str>, &'static str, &'static str, u16, Option<&'static str>);

struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// The shipped config with this run's ports and token; NGINX in the
/// foreground as one process (no privilege drop), everything under `dir`.
fn start_nginx(bin: &Path, dir: &Path, listen: u16, gov: SocketAddr, app: SocketAddr) -> Nginx {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx/gov.conf"),
    )
    .unwrap();
    let conf = shipped
        .replace("server 127.0.0.1:8181;", &format!("server {gov};"))
        .replace("server 127.0.0.1:9000;", &format!("server {app};"))
        .replace("listen 127.0.0.1:8080;", &format!("listen 127.0.0.1:{listen};"))
        .replace("Bearer change-me", &format!("Bearer {TOKEN}"));
    for needle in
        [gov.to_string(), app.to_string(), format!("127.0.0.1:{listen};"), TOKEN.to_owned()]
    {
        assert!(
            conf.contains(&needle),
            "examples/nginx/gov.conf changed: cannot substitute {needle}"
        );
    }
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(dir.join("startup.log"))
        .args(["-g", "daemon off; master_process off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut nginx = Nginx { child, dir: dir.to_path_buf() };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", listen)).is_err() {
        if let Ok(Some(status)) = nginx.child.try_wait() {
            panic!(
                "nginx exited ({status}); error log:\n{}\n{}",
                nginx.error_log(),
                std::fs::read_to_string(dir.join("startup.log")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "nginx did not listen; error log:\n{}",
            nginx.error_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nginx
}

#[test]
fn nginx_lets_through_exactly_what_the_policy_allows() {
    let Some(bin) = find_nginx() else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
            panic!("nginx is not installed: .ci/run installs it with `apt-get install -y nginx`");
        }
        eprintln!(
            "\n*** SKIPPED tests/serve/nginx.rs: nginx is not installed (apt-get install nginx) ***\n"
        );
        return;
    };
    let gov = Server::start(
        &["examples/nginx/gateway.gov", "-i", "examples/nginx/inventory.json", "--no-watch"],
        &[("GOV_SERVE_TOKEN", TOKEN)],
    );
    let (app, seen) = upstream();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let nginx = start_nginx(&bin, dir.path(), port, gov.addr, app);
    let front: SocketAddr = ([127, 0, 0, 1], port).into();

    let cases: &[Case] = &[
        (Some("alice"), "GET", "/payments/invoices", 200, None), // reads through her team
        (Some("alice"), "POST", "/payments/invoices", 403, Some("not_permitted")), // no write access
        (Some("alice"), "GET", "/ledger/entries", 403, Some("not_permitted")),     // not her team's
        (Some("bob"), "GET", "/payments/invoices", 403, Some("deny")),             // deactivated
        (Some("mallory"), "GET", "/payments/invoices", 403, Some("not_permitted")), // no access
        (Some("svc-ledger"), "POST", "/ledger/entries", 200, None),                // direct access
        (Some("svc-ledger"), "GET", "/payments/invoices", 200, None),              // direct access
        (Some("svc-ledger"), "DELETE", "/payments/invoices/7", 403, Some("approval_required")), // tier 0
        (Some("eve"), "GET", "/payments/invoices", 401, None), // unknown identity
        (None, "GET", "/payments/invoices", 401, None),        // no identity header
    ];
    let mut expected_through = Vec::new();
    for (identity, method, path, status, effect) in cases {
        let headers: Vec<(&str, &str)> = identity.iter().map(|i| ("X-Gov-Identity", *i)).collect();
        let r = support::request(front, method, path, &headers, b"");
        assert_eq!(
            r.status,
            *status,
            "{identity:?} {method} {path}: {} {:?}\nnginx error log:\n{}\ngov stderr:\n{}",
            r.status,
            r.text(),
            nginx.error_log(),
            gov.log.lock().unwrap().join("\n")
        );
        if *status == 200 {
            assert_eq!(r.text(), "upstream ok", "{identity:?} {method} {path}");
            expected_through.push((
                method.to_string(),
                path.to_string(),
                identity.unwrap_or("").to_owned(),
            ));
        }
        if let Some(effect) = effect {
            assert_eq!(
                r.header("x-gov-effect"),
                Some(*effect),
                "{identity:?} {method} {path}: {:?}",
                r.headers
            );
        }
    }
    assert_eq!(r_reason(front), Some("the identity is deactivated".to_owned()));

    // Exactly the allowed requests reached the upstream, in order.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, expected_through);

    // gov saw every check (9 decisions: the request without an identity header is no decision).
    let metrics = gov
        .request("GET", "/metrics", &[("Authorization", &format!("Bearer {TOKEN}"))], b"")
        .text();
    let total: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("gov_decisions_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 9, "{metrics}");
}

/// The deny reason reaches the client through `auth_request_set` + `add_header`.
fn r_reason(front: SocketAddr) -> Option<String> {
    let r = support::request(front, "GET", "/payments/x", &[("X-Gov-Identity", "bob")], b"");
    r.header("x-gov-reason").map(str::to_owned)
}
