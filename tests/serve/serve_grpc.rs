//! `gov serve --grpc-listen`: Envoy's `Authorization/Check` called directly
//! with a gRPC client, for the mappings the Envoy test does not reach (the
//! mTLS principal, `context_extensions`, the header defaults), the token as
//! gRPC metadata, the answers' statuses and bodies, and the decision log.
#![cfg(all(feature = "cli", feature = "grpc"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Peer, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest, CheckResponse};
use support::Server;

fn grpc_addr(gov: &Server) -> SocketAddr {
    let log = gov.log.lock().unwrap().clone();
    let line = log.iter().find(|l| l.contains("grpc ext_authz listening on ")).unwrap();
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

struct Check {
    principal: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    context: Vec<(&'static str, &'static str)>,
    metadata: Vec<(&'static str, String)>,
}

impl Check {
    fn new(method: &'static str) -> Check {
        Check {
            principal: "",
            method,
            path: "/payments/invoices?x=1",
            headers: Vec::new(),
            context: Vec::new(),
            metadata: Vec::new(),
        }
    }
}

/// One `Check` call on a fresh connection.
fn call(addr: SocketAddr, c: Check) -> Result<CheckResponse, tonic::Status> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let mut client = AuthorizationClient::connect(format!("http://{addr}")).await.unwrap();
        let attrs = AttributeContext {
            source: Some(Peer { principal: c.principal.into(), ..Peer::default() }),
            request: Some(Request {
                http: Some(HttpRequest {
                    method: c.method.into(),
                    path: c.path.into(),
                    headers: c.headers.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                    ..HttpRequest::default()
                }),
                ..Request::default()
            }),
            context_extensions: c.context.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            ..AttributeContext::default()
        };
        let mut req = tonic::Request::new(CheckRequest { attributes: Some(attrs) });
        for (k, v) in &c.metadata {
            req.metadata_mut().insert(*k, v.parse().unwrap());
        }
        client.check(req).await.map(tonic::Response::into_inner)
    })
}

/// (gRPC status code, HTTP status for a denial or 200, headers, body).
fn answer(r: &CheckResponse) -> (i32, u16, Vec<(String, String)>, String) {
    let code = r.status.as_ref().unwrap().code;
    match r.http_response.as_ref().unwrap() {
        HttpResponse::OkResponse(ok) => {
            let h = ok
                .headers
                .iter()
                .map(|o| o.header.as_ref().unwrap())
                .map(|h| (h.key.clone(), h.value.clone()));
            (code, 200, h.collect(), String::new())
        }
        HttpResponse::DeniedResponse(d) => {
            let h = d
                .headers
                .iter()
                .map(|o| o.header.as_ref().unwrap())
                .map(|h| (h.key.clone(), h.value.clone()));
            (
                code,
                u16::try_from(d.status.as_ref().unwrap().code).unwrap(),
                h.collect(),
                d.body.clone(),
            )
        }
        HttpResponse::ErrorResponse(e) => panic!("unexpected error response {e:?}"),
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn grpc_check_takes_the_principal_the_route_context_and_the_method() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let gov = Server::start(
        &[
            "examples/nginx/gateway.gov",
            "-i",
            "examples/nginx/inventory.json",
            "--no-watch",
            "--grpc-listen",
            "127.0.0.1:0",
            "--grpc-identity",
            "principal",
            "--grpc-target",
            "context:target",
            "--grpc-action",
            "method",
            "--decision-log",
            log.to_str().unwrap(),
        ],
        &[("GOV_SERVE_TOKEN", "grpc-token")],
    );
    let addr = grpc_addr(&gov);
    let token = || vec![("authorization", "Bearer grpc-token".to_owned())];
    let check = |principal: &'static str, method: &'static str, target: &'static str| {
        let mut c = Check::new(method);
        c.principal = principal;
        c.context = vec![("target", target)];
        // A client's own headers name nobody here.
        c.headers = vec![("x-gov-identity", "svc-ledger"), ("x-gov-action", "GET")];
        c.metadata = token();
        c
    };

    // Allowed: OK, with the effect and revision for the upstream.
    let r = call(addr, check("alice", "GET", "payments")).unwrap();
    let (code, status, headers, _) = answer(&r);
    assert_eq!((code, status), (0, 200));
    assert_eq!(header(&headers, "x-gov-effect"), Some("allow"));
    assert!(header(&headers, "x-gov-revision").is_some_and(|r| r.len() == 16));

    // Not permitted: 403 with the JSON decision; the method, not the client's header, is the action.
    let (code, status, headers, body) =
        answer(&call(addr, check("alice", "POST", "payments")).unwrap());
    assert_eq!((code, status), (7, 403));
    assert_eq!(header(&headers, "x-gov-effect"), Some("not_permitted"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["effect"].as_str(), v["allowed"].as_bool()),
        (Some("not_permitted"), Some(false))
    );

    // A deny carries its reason.
    let (_, status, headers, _) = answer(&call(addr, check("bob", "GET", "payments")).unwrap());
    assert_eq!(status, 403);
    assert_eq!(header(&headers, "x-gov-reason"), Some("the identity is deactivated"));

    // No principal, an unknown one: 401 with the error's JSON and code.
    let (code, status, headers, body) = answer(&call(addr, check("", "GET", "payments")).unwrap());
    assert_eq!((code, status), (16, 401));
    assert_eq!(header(&headers, "x-gov-error"), Some("missing_identity"));
    assert!(body.contains("attributes.source.principal"), "{body}");
    let (_, status, headers, _) = answer(&call(addr, check("eve", "GET", "payments")).unwrap());
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "x-gov-error"), Some("unknown_entity"));
    // An unknown target fails closed.
    let (_, status, _, _) = answer(&call(addr, check("alice", "GET", "nowhere")).unwrap());
    assert_eq!(status, 403);

    // The decision is named by the call's metadata; a wrong name is 404 with a suggestion.
    let mut c = check("alice", "GET", "payments");
    c.metadata.push(("x-gov-decision", "call-servic".to_owned()));
    let (_, status, _, body) = answer(&call(addr, c).unwrap());
    assert_eq!(status, 404);
    assert!(body.contains("did you mean `call-service`?"), "{body}");

    // Without the token, or with a wrong one: UNAUTHENTICATED, no decision.
    let mut c = check("alice", "GET", "payments");
    c.metadata.clear();
    assert_eq!(call(addr, c).unwrap_err().code(), tonic::Code::Unauthenticated);
    let mut c = check("alice", "GET", "payments");
    c.metadata = vec![("authorization", "Bearer nope".to_owned())];
    assert_eq!(call(addr, c).unwrap_err().code(), tonic::Code::Unauthenticated);

    // Metrics count both transports' decisions and errors alike.
    let metrics = gov.request("GET", "/metrics", &[], b"").text();
    assert!(metrics.contains("gov_decisions_total{effect=\"allow\"} 1"), "{metrics}");
    assert!(metrics.contains("gov_decision_errors_total{code=\"unauthorized\"} 2"), "{metrics}");
    assert!(
        metrics.contains("gov_decision_errors_total{code=\"missing_identity\"} 1"),
        "{metrics}"
    );

    // The decision log has the three decisions, from the gRPC endpoint.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= 3 || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let records: Vec<serde_json::Value> =
        lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 3, "{lines}");
    assert!(records.iter().all(|r| r["endpoint"] == "envoy-grpc"), "{lines}");
    assert_eq!(records[0]["request"]["input"]["subject"], "alice");
    assert_eq!(records[0]["request"]["input"]["target"], "payments");
    assert_eq!(records[0]["request"]["input"]["action"], "GET");
}

#[test]
fn grpc_check_reads_the_gateway_headers_by_default() {
    let gov = Server::start(
        &[
            "examples/nginx/gateway.gov",
            "-i",
            "examples/nginx/inventory.json",
            "--no-watch",
            "--grpc-listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let addr = grpc_addr(&gov);
    let with = |headers: Vec<(&'static str, &'static str)>, method| {
        let mut c = Check::new(method);
        c.headers = headers;
        answer(&call(addr, c).unwrap())
    };
    // The action header, else the method.
    let (_, status, _, _) =
        with(vec![("x-gov-identity", "alice"), ("x-gov-target", "payments")], "GET");
    assert_eq!(status, 200);
    let (_, status, _, _) =
        with(vec![("x-gov-identity", "alice"), ("x-gov-target", "payments")], "POST");
    assert_eq!(status, 403);
    let (_, status, _, _) = with(
        vec![("x-gov-identity", "alice"), ("x-gov-target", "payments"), ("x-gov-action", "GET")],
        "POST",
    );
    assert_eq!(status, 200);
    // No identity header: 401 naming the header.
    let (_, status, _, body) = with(vec![("x-gov-target", "payments")], "GET");
    assert_eq!(status, 401);
    assert!(body.contains("no `x-gov-identity` header"), "{body}");
    // A client's decision header does not choose the decision (only the call's metadata does).
    let (_, status, _, _) = with(
        vec![("x-gov-identity", "alice"), ("x-gov-target", "payments"), ("x-gov-decision", "nope")],
        "GET",
    );
    assert_eq!(status, 200);
}
