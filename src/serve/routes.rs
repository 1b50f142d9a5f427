//! The routes: `/healthz`, `/metrics`, `POST /v1/decide`, `GET /v1/decisions`,
//! the NGINX `auth_request` endpoint (`/v1/authz/nginx[/DECISION]`) and the
//! Envoy `ext_authz` HTTP service (`/v1/authz/envoy/...`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use super::error::ApiError;
use super::log::Record;
use super::server::{Headers, State};
use crate::decide::{self, DecideError, Decision, Engine};

type Resp = Response<Full<Bytes>>;

/// Answers one request; never fails (errors are JSON responses).
pub(crate) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Resp {
    let start = Instant::now();
    let head = head_len(&req);
    if head > state.max_header_bytes {
        let e = ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header_too_large",
            format!(
                "the request head is {head} bytes, over the limit of {}",
                state.max_header_bytes
            ),
        )
        .hint("send fewer or shorter headers, or raise --max-header");
        state.metrics.error(e.code, start.elapsed());
        return error_response(&e);
    }
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::GET | &Method::HEAD, "/healthz") => {
            let engine = state.engine.current();
            let body = serde_json::json!({"status": "ok", "revision": engine.revision()});
            json(StatusCode::OK, body.to_string().into_bytes())
        }
        (&Method::GET, "/metrics") => {
            let text = state.metrics.render(state.engine.current().revision());
            let mut r = Response::new(Full::new(Bytes::from(text)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        (_, p) if p.starts_with("/v1/") => {
            let result = match check_token(&state, req.headers()) {
                Err(e) => Err(e),
                Ok(()) => match tokio::time::timeout(state.timeout, v1(&state, req, start)).await {
                    Ok(result) => result,
                    Err(_) => Err(ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "timeout",
                        format!("no answer within {} ms", state.timeout.as_millis()),
                    )
                    .hint("raise --timeout, or send the body faster")),
                },
            };
            result.unwrap_or_else(|e| {
                state.metrics.error(e.code, start.elapsed());
                error_response(&e)
            })
        }
        _ => error_response(
            &ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no route `{path}`")).hint(
                "routes: POST /v1/decide, GET /v1/decisions, /v1/authz/nginx, /v1/authz/envoy/..., GET /healthz, GET /metrics",
            ),
        ),
    }
}

/// The size of a request head as sent: request line, headers, blank line.
fn head_len<B>(req: &Request<B>) -> usize {
    // "METHOD URI HTTP/1.1\r\n"
    // The target as sent: origin form (`/path?query`), or absolute form
    // with scheme and authority; measured without formatting it.
    let uri = req.uri();
    let target = uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    let line = req.method().as_str().len() + 1 + target + 1 + 8 + 2;
    let headers: usize =
        req.headers().iter().map(|(name, value)| name.as_str().len() + 2 + value.len() + 2).sum();
    line + headers + 2
}

async fn v1(state: &State, req: Request<Incoming>, start: Instant) -> Result<Resp, ApiError> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if path == "/v1/decide" {
        if method != Method::POST {
            return Err(method_not_allowed("POST"));
        }
        return decide_json(state, req, start).await;
    }
    if path == "/v1/decisions" {
        if method != Method::GET {
            return Err(method_not_allowed("GET"));
        }
        let engine = state.engine.current();
        let names: Vec<&str> = engine.decisions().collect();
        let body = serde_json::json!({"revision": engine.revision(), "decisions": names});
        return Ok(json(StatusCode::OK, body.to_string().into_bytes()));
    }
    if let Some(rest) = path.strip_prefix("/v1/authz/nginx") {
        let named = match rest {
            "" | "/" => None,
            r => match r.strip_prefix('/') {
                Some(name) if !name.contains('/') => Some(name),
                _ => return Err(not_found(&path)),
            },
        };
        return gateway(state, &req, Gateway::Nginx, named, start).await;
    }
    if path == "/v1/authz/envoy" || path.starts_with("/v1/authz/envoy/") {
        return gateway(state, &req, Gateway::Envoy, None, start).await;
    }
    Err(not_found(&path))
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no route `{path}`"))
        .hint("routes: POST /v1/decide, GET /v1/decisions, /v1/authz/nginx[/DECISION], /v1/authz/envoy/...")
}

fn method_not_allowed(allowed: &'static str) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("use {allowed}"),
    );
    e.allow = Some(allowed);
    e
}

/// Constant-time comparison of the bearer token, when one is configured.
pub(crate) fn check_token(state: &State, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.token else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .map(<[u8]>::trim_ascii);
    let ok = given.is_some_and(|g| {
        g.len() == expected.len()
            && g.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            if given.is_some() { "wrong bearer token" } else { "missing bearer token" },
        )
        .hint("send `Authorization: Bearer TOKEN` with the server's token"))
    }
}

async fn read_body(state: &State, req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let max = state.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {max} bytes"),
        )
        .hint("raise --max-body, or send a smaller request")
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "body_unreadable",
            format!("cannot read the request body: {e}"),
        )),
    }
}

#[derive(Serialize)]
struct Answer<'a> {
    decision: &'a str,
    effect: &'static str,
    allowed: bool,
    reasons: &'a [decide::Reason],
    approvers: &'a [String],
    priority: Option<&'a str>,
    revision: &'a str,
}

pub(crate) fn answer_body(name: &str, d: &Decision, engine: &Engine) -> Vec<u8> {
    let a = Answer {
        decision: name,
        effect: d.effect.as_str(),
        allowed: d.effect.is_allowed(),
        reasons: &d.reasons,
        approvers: &d.approvers,
        priority: d.priority.as_deref(),
        revision: engine.revision(),
    };
    serde_json::to_vec(&a).unwrap_or_default()
}

/// A `/v1/decide` body as a request. A byte-order mark is not JSON, but
/// editors write one: it is skipped, as the CLI does.
pub(crate) fn parse_request(body: &[u8]) -> Result<decide::Request, ApiError> {
    let text = body.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(body);
    serde_json::from_slice(text).map_err(|e| ApiError::from_json(&e))
}

async fn decide_json(
    state: &State,
    req: Request<Incoming>,
    start: Instant,
) -> Result<Resp, ApiError> {
    let at = SystemTime::now();
    let body = read_body(state, req).await?;
    let request = parse_request(&body)?;
    let engine = state.engine.current();
    let decision = engine
        .decide(&request)
        .map_err(|e| ApiError::from_decide(&e, false, &state.inputs.identity))?;
    let resp = json(StatusCode::OK, answer_body(&request.decision, &decision, &engine));
    finish(state, "decide", request, decision, engine, at, start).await?;
    Ok(resp)
}

/// Counts and logs a decision. With `--decision-log-sync` it returns only
/// once the record is on disk, and fails (503) when it cannot be written.
pub(crate) async fn finish(
    state: &State,
    endpoint: &'static str,
    request: decide::Request,
    result: Decision,
    engine: Arc<Engine>,
    at: SystemTime,
    start: Instant,
) -> Result<(), ApiError> {
    let took = start.elapsed();
    state.metrics.decision(result.effect, took);
    let Some(log) = &state.log else { return Ok(()) };
    let waiting = log.send(Record {
        at,
        endpoint,
        decision: request.decision,
        input: request.input,
        now: request.now,
        result,
        engine,
        took,
        ack: None,
    });
    match waiting {
        None => Ok(()),
        Some(rx) => match rx.await {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "decision_log_failed",
                "the decision could not be written to the decision log",
            )
            .hint("--decision-log-sync answers only logged decisions; check the log's disk")),
        },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gateway {
    Nginx,
    Envoy,
}

/// A gateway header's value. A header sent more than once is ambiguous (a
/// proxy that appends rather than replaces would let the client choose):
/// 400 `bad_header`, failing closed.
fn header_str<'h>(
    headers: &'h HeaderMap,
    name: &header::HeaderName,
) -> Result<Option<&'h str>, ApiError> {
    let mut all = headers.get_all(name).iter();
    if let (Some(_), Some(_)) = (all.next(), all.next()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_header",
            format!("header `{name}` appears more than once"),
        )
        .hint("send it once; a proxy in front must replace the header, not append to it"));
    }
    match headers.get(name) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(s) if s.trim().is_empty() => Ok(None),
            Ok(s) => Ok(Some(s.trim())),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_header",
                format!("header `{name}` is not visible ASCII"),
            )),
        },
    }
}

/// Reads a gateway check's inputs from its headers: the identity (401 when
/// missing), target, action and decision; a header sent twice is a 400.
pub(crate) fn gateway_ask<'h>(
    h: &Headers,
    headers: &'h HeaderMap,
    method: &'h Method,
    nginx: bool,
    named: Option<&'h str>,
) -> Result<GatewayInputs<'h>, ApiError> {
    let Some(identity) = header_str(headers, &h.identity)? else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_identity",
            format!("no `{}` header", h.identity),
        )
        .hint("the gateway must set the identity header (--identity-header) on every check"));
    };
    let decision = match named {
        Some(n) => Some(n),
        None => header_str(headers, &h.decision)?,
    };
    // The action: the configured header, else NGINX's X-Original-Method (set
    // in the example config), else the method of this request (Envoy forwards
    // the original method).
    let action = header_str(headers, &h.action)?;
    let default_action = match action {
        Some(_) => None,
        None if nginx => {
            Some(header_str(headers, &ORIGINAL_METHOD)?.unwrap_or_else(|| method.as_str()))
        }
        None => Some(method.as_str()),
    };
    Ok(GatewayInputs {
        identity,
        target: header_str(headers, &h.target)?,
        action,
        default_action,
        decision,
    })
}

/// NGINX `auth_request` and Envoy `ext_authz`: inputs from headers; 200 when
/// allowed, 403 otherwise, 401 for a missing or unknown identity.
async fn gateway(
    state: &State,
    req: &Request<Incoming>,
    kind: Gateway,
    named: Option<&str>,
    start: Instant,
) -> Result<Resp, ApiError> {
    let at = SystemTime::now();
    let inputs =
        gateway_ask(&state.headers, req.headers(), req.method(), kind == Gateway::Nginx, named)?;
    let (request, decision, engine) = decide_gateway(state, &inputs)?;
    let status = if decision.effect.is_allowed() { StatusCode::OK } else { StatusCode::FORBIDDEN };
    let mut resp = json(status, answer_body(&request.decision, &decision, &engine));
    let out = resp.headers_mut();
    out.insert("x-gov-effect", HeaderValue::from_static(decision.effect.as_str()));
    if let Ok(v) = HeaderValue::from_str(engine.revision()) {
        out.insert("x-gov-revision", v);
    }
    if let Some(reason) = decision.reasons.first()
        && let Ok(v) = HeaderValue::from_str(&header_text(&reason.message))
    {
        out.insert("x-gov-reason", v);
    }
    if !decision.approvers.is_empty()
        && let Ok(v) = HeaderValue::from_str(&header_text(&decision.approvers.join(", ")))
    {
        out.insert("x-gov-approvers", v);
    }
    let endpoint = match kind {
        Gateway::Nginx => "nginx",
        Gateway::Envoy => "envoy",
    };
    finish(state, endpoint, request, decision, engine, at, start).await?;
    Ok(resp)
}

/// The inputs of a gateway check, however the gateway sent them (headers,
/// or the fields of Envoy's gRPC `CheckRequest`).
pub(crate) struct GatewayInputs<'a> {
    pub identity: &'a str,
    pub target: Option<&'a str>,
    /// An action the gateway set explicitly.
    pub action: Option<&'a str>,
    /// The action offered when none is set (the method): left out when the
    /// decision declares no action input.
    pub default_action: Option<&'a str>,
    /// The decision the check names; `None`: `--decision`, else the only one.
    pub decision: Option<&'a str>,
}

/// Decides a gateway check on the current engine: the one decision path of
/// NGINX, Envoy HTTP and Envoy gRPC. An unknown identity is a 401 error.
pub(crate) fn decide_gateway(
    state: &State,
    g: &GatewayInputs<'_>,
) -> Result<(decide::Request, Decision, Arc<Engine>), ApiError> {
    let engine = state.engine.current();
    let decision = match g.decision {
        Some(n) => n.to_owned(),
        None => default_decision(state, &engine)?,
    };
    let mut input = BTreeMap::new();
    input.insert(state.inputs.identity.clone(), serde_json::Value::from(g.identity));
    if let Some(target) = g.target {
        input.insert(state.inputs.target.clone(), serde_json::Value::from(target));
    }
    if let Some(action) = g.action.or(g.default_action) {
        input.insert(state.inputs.action.clone(), serde_json::Value::from(action));
    }
    let mut request = decide::Request { decision, input, now: None };
    let mut result = engine.decide(&request);
    // A defaulted action is offered, not imposed: a decision that declares no
    // action input is asked without it.
    if g.action.is_none()
        && matches!(&result, Err(DecideError::UnknownInput { input }) if *input == state.inputs.action)
    {
        request.input.remove(&state.inputs.action);
        result = engine.decide(&request);
    }
    let decision = result.map_err(|e| ApiError::from_decide(&e, true, &state.inputs.identity))?;
    Ok((request, decision, engine))
}

static ORIGINAL_METHOD: header::HeaderName = header::HeaderName::from_static("x-original-method");

fn default_decision(state: &State, engine: &Engine) -> Result<String, ApiError> {
    if let Some(d) = &state.decision {
        return Ok(d.clone());
    }
    let mut names = engine.decisions();
    match (names.next(), names.next()) {
        (Some(only), None) => Ok(only.to_owned()),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "no_decision",
            "the request names no decision and the policy set has not exactly one",
        )
        .hint("use /v1/authz/nginx/DECISION, the decision header (--decision-header) or --decision NAME")),
    }
}

/// Header values are visible ASCII: other characters become `?`, and long
/// messages are cut.
pub(crate) fn header_text(s: &str) -> String {
    s.chars().take(200).map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).collect()
}

fn json(status: StatusCode, body: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn error_response(e: &ApiError) -> Resp {
    let mut r = json(e.status, e.body());
    if let Ok(code) = HeaderValue::from_str(e.code) {
        r.headers_mut().insert("x-gov-error", code);
    }
    if e.status == StatusCode::UNAUTHORIZED && e.code == "unauthorized" {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(allow) = e.allow {
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head is measured as it went over the wire, in either request-target form.
    #[test]
    fn head_len_counts_the_request_line_headers_and_blank_line() {
        let origin = Request::builder()
            .uri("/healthz?x=1")
            .header("a", "b")
            .body(())
            .unwrap_or_else(|e| panic!("{e}"));
        // "GET /healthz?x=1 HTTP/1.1\r\n" + "a: b\r\n" + "\r\n"
        assert_eq!(head_len(&origin), 27 + 6 + 2);
        let absolute = Request::builder()
            .uri("http://gov.internal/healthz")
            .body(())
            .unwrap_or_else(|e| panic!("{e}"));
        // "GET http://gov.internal/healthz HTTP/1.1\r\n" + "\r\n"
        assert_eq!(head_len(&absolute), 42 + 2);
    }
}
