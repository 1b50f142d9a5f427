//! Envoy's gRPC `ext_authz` service (`envoy.service.auth.v3.Authorization/Check`)
//! on its own listener, behind the `grpc` feature.
//!
//! Owns: reading the identity, target, action and decision out of a
//! `CheckRequest` (from the configured [`IdentitySource`] and
//! [`InputSource`]s) and turning a decision or an error into a
//! `CheckResponse`. Must not: decide anything itself. The token check, the
//! decision, the metrics and the decision log are the HTTP routes' own
//! ([`routes::check_token`], [`routes::decide_gateway`], [`routes::finish`]),
//! so both transports answer alike and reload together.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, DeniedHttpResponse,
    HeaderAppendAction, HeaderValue, HeaderValueOption, HttpResponse, HttpStatus, OkHttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use envoy_types::pb::google::protobuf::value::Kind;
use envoy_types::pb::google::rpc;
use hyper::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use super::error::ApiError;
use super::grpc_config::{GrpcConfig, IdentitySource, InputSource};
use super::routes::{self, GatewayInputs};
use super::server::{ServeError, State};

/// The metadata namespace Envoy's `jwt_authn` filter writes verified payloads to.
const JWT_NAMESPACE: &str = "envoy.filters.http.jwt_authn";

/// gRPC status codes (google.rpc.Code) the answers use.
const OK: i32 = 0;
const INVALID_ARGUMENT: i32 = 3;
const NOT_FOUND: i32 = 5;
const PERMISSION_DENIED: i32 = 7;
const UNAVAILABLE: i32 = 14;
const UNAUTHENTICATED: i32 = 16;

/// A running gRPC listener; [`Listener::stop`] ends it.
pub(crate) struct Listener {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Stops accepting, lets calls in flight finish (up to a second).
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.task).await;
    }
}

/// Binds the gRPC listener and starts serving on the current runtime. Prints
/// `gov serve: grpc ext_authz listening on ADDR` once bound.
pub(crate) async fn start(config: &GrpcConfig, state: Arc<State>) -> Result<Listener, ServeError> {
    let listener = TcpListener::bind(config.listen).await.map_err(|source| ServeError::Io {
        what: format!("cannot listen on {} (--grpc-listen)", config.listen),
        source,
    })?;
    let addr = listener.local_addr().unwrap_or(config.listen);
    // The whole check (its request head and any body Envoy forwards) in one message.
    let max_message = state.max_header_bytes.saturating_add(state.max_body_bytes);
    let max_headers = u32::try_from(state.max_header_bytes).unwrap_or(u32::MAX);
    let timeout = state.timeout;
    let service = AuthorizationServer::new(Check { state, config: config.clone() })
        .max_decoding_message_size(max_message);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = Server::builder()
        .timeout(timeout)
        .http2_max_header_list_size(max_headers)
        .serve_with_incoming_shutdown(service, incoming, async {
            let _ = stopped.await;
        });
    let task = tokio::spawn(async move {
        if let Err(e) = server.await {
            eprintln!("gov serve: the grpc listener stopped: {e}");
        }
    });
    eprintln!("gov serve: grpc ext_authz listening on {addr}");
    Ok(Listener { stop, task })
}

struct Check {
    state: Arc<State>,
    config: GrpcConfig,
}

#[tonic::async_trait]
impl Authorization for Check {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        let start = Instant::now();
        let at = SystemTime::now();
        let state = &*self.state;
        // The token is Envoy's (`grpc_service.initial_metadata`), not the client's.
        if let Err(e) = routes::check_token(state, request.metadata().as_ref()) {
            state.metrics.error(e.code, start.elapsed());
            return Err(tonic::Status::unauthenticated(e.message));
        }
        // So is the decision's name: a client cannot pick a weaker decision.
        let named = match metadata_str(&request, state.headers.decision.as_str()) {
            Ok(n) => n.map(str::to_owned),
            Err(e) => return Ok(tonic::Response::new(self.refuse(&e, start))),
        };
        let attributes = request.into_inner().attributes.unwrap_or_default();
        let answer = match self.decide(&attributes, named.as_deref()) {
            Ok((request, decision, engine)) => {
                let response = allowed_or_denied(&decision, &request.decision, &engine);
                match routes::finish(state, "envoy-grpc", request, decision, engine, at, start)
                    .await
                {
                    Ok(()) => response,
                    Err(e) => self.refuse(&e, start),
                }
            }
            Err(e) => self.refuse(&e, start),
        };
        Ok(tonic::Response::new(answer))
    }
}

type Decided = (crate::decide::Request, crate::decide::Decision, Arc<crate::decide::Engine>);

impl Check {
    fn decide(&self, attrs: &AttributeContext, named: Option<&str>) -> Result<Decided, ApiError> {
        let state = &*self.state;
        let http = attrs.request.as_ref().and_then(|r| r.http.as_ref());
        let identity = self.identity(attrs, http)?;
        let target = self.input(&self.config.target, attrs, http, state.headers.target.as_str())?;
        let action = self.input(&self.config.action, attrs, http, state.headers.action.as_str())?;
        // A missing action header falls back to the method, as on the HTTP service.
        let default_action = match (&self.config.action, action) {
            (InputSource::Header, None) => {
                http.map(|h| h.method.as_str()).filter(|m| !m.is_empty())
            }
            _ => None,
        };
        let inputs =
            GatewayInputs { identity: &identity, target, action, default_action, decision: named };
        routes::decide_gateway(state, &inputs)
    }

    /// The identity from the configured source; none: 401 `missing_identity`.
    fn identity(
        &self,
        attrs: &AttributeContext,
        http: Option<&HttpRequest>,
    ) -> Result<String, ApiError> {
        let (found, what) = match &self.config.identity {
            IdentitySource::Header => {
                let name = self.state.headers.identity.as_str();
                (header(http, name)?.map(str::to_owned), format!("no `{name}` header"))
            }
            IdentitySource::Principal => (
                attrs
                    .source
                    .as_ref()
                    .map(|p| p.principal.trim())
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
                "no mTLS peer principal (`attributes.source.principal`)".to_owned(),
            ),
            IdentitySource::Jwt { payload_key, claim } => (
                jwt_claim(attrs, payload_key, claim),
                format!(
                    "no verified JWT claim `{claim}` (metadata `{JWT_NAMESPACE}`, key `{payload_key}`)"
                ),
            ),
        };
        found.ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "missing_identity", what)
                .hint("check the identity source (--grpc-identity) and what Envoy sends to gov")
        })
    }

    fn input<'a>(
        &self,
        source: &InputSource,
        attrs: &'a AttributeContext,
        http: Option<&'a HttpRequest>,
        header_name: &str,
    ) -> Result<Option<&'a str>, ApiError> {
        Ok(match source {
            InputSource::Header => header(http, header_name)?,
            InputSource::Method => http.map(|h| h.method.as_str()),
            InputSource::Path => {
                http.map(|h| h.path.split_once('?').map_or(h.path.as_str(), |(p, _)| p))
            }
            InputSource::Context(key) => attrs.context_extensions.get(key).map(String::as_str),
        }
        .map(str::trim)
        .filter(|v| !v.is_empty()))
    }

    /// An error as Envoy's client sees it: the HTTP route's status, JSON body
    /// and `x-gov-error` header; counted like the HTTP route's errors.
    fn refuse(&self, e: &ApiError, start: Instant) -> CheckResponse {
        self.state.metrics.error(e.code, start.elapsed());
        let mut headers = vec![header_option("content-type", "application/json")];
        headers.push(header_option("x-gov-error", e.code));
        denied(e.status, rpc_code(e.status), &e.message, headers, &e.body())
    }
}

/// A header of the client's request (Envoy lower-cases the names).
fn header<'a>(http: Option<&'a HttpRequest>, name: &str) -> Result<Option<&'a str>, ApiError> {
    let Some(value) = http.and_then(|h| h.headers.get(name)) else { return Ok(None) };
    if !value.chars().all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_header",
            format!("header `{name}` is not visible ASCII"),
        ));
    }
    let value = value.trim();
    Ok((!value.is_empty()).then_some(value))
}

fn metadata_str<'r, T>(
    request: &'r tonic::Request<T>,
    name: &str,
) -> Result<Option<&'r str>, ApiError> {
    match request.metadata().get(name) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(s) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_header",
                format!("gRPC metadata `{name}` is not visible ASCII"),
            )),
        },
    }
}

/// A string claim of the payload Envoy's `jwt_authn` verified.
fn jwt_claim(attrs: &AttributeContext, payload_key: &str, claim: &str) -> Option<String> {
    let payload = attrs
        .metadata_context
        .as_ref()?
        .filter_metadata
        .get(JWT_NAMESPACE)?
        .fields
        .get(payload_key)?;
    let Some(Kind::StructValue(payload)) = &payload.kind else { return None };
    match &payload.fields.get(claim)?.kind {
        Some(Kind::StringValue(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn allowed_or_denied(
    decision: &crate::decide::Decision,
    name: &str,
    engine: &crate::decide::Engine,
) -> CheckResponse {
    let mut headers = vec![
        header_option("x-gov-effect", decision.effect.as_str()),
        header_option("x-gov-revision", &routes::header_text(engine.revision())),
    ];
    if let Some(reason) = decision.reasons.first() {
        headers.push(header_option("x-gov-reason", &routes::header_text(&reason.message)));
    }
    if !decision.approvers.is_empty() {
        headers.push(header_option(
            "x-gov-approvers",
            &routes::header_text(&decision.approvers.join(", ")),
        ));
    }
    if decision.effect.is_allowed() {
        // Added to the request Envoy forwards, replacing any a client sent.
        return CheckResponse {
            status: Some(rpc::Status { code: OK, message: String::new(), details: Vec::new() }),
            http_response: Some(HttpResponse::OkResponse(OkHttpResponse {
                headers,
                ..OkHttpResponse::default()
            })),
            ..CheckResponse::default()
        };
    }
    headers.push(header_option("content-type", "application/json"));
    let body = routes::answer_body(name, decision, engine);
    denied(StatusCode::FORBIDDEN, PERMISSION_DENIED, decision.effect.as_str(), headers, &body)
}

fn denied(
    status: StatusCode,
    code: i32,
    message: &str,
    headers: Vec<HeaderValueOption>,
    body: &[u8],
) -> CheckResponse {
    CheckResponse {
        status: Some(rpc::Status { code, message: message.to_owned(), details: Vec::new() }),
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            // Envoy's `envoy.type.v3.StatusCode` numbers are the HTTP codes.
            status: Some(HttpStatus { code: i32::from(status.as_u16()) }),
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
        })),
        ..CheckResponse::default()
    }
}

fn rpc_code(status: StatusCode) -> i32 {
    match status {
        StatusCode::UNAUTHORIZED => UNAUTHENTICATED,
        StatusCode::FORBIDDEN => PERMISSION_DENIED,
        StatusCode::NOT_FOUND => NOT_FOUND,
        StatusCode::SERVICE_UNAVAILABLE => UNAVAILABLE,
        _ => INVALID_ARGUMENT,
    }
}

fn header_option(key: &str, value: &str) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: key.to_owned(),
            value: value.to_owned(),
            ..HeaderValue::default()
        }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..HeaderValueOption::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use envoy_types::pb::envoy::config::core::v3::Metadata;
    use envoy_types::pb::google::protobuf::{Struct, Value};

    fn string(s: &str) -> Value {
        Value { kind: Some(Kind::StringValue(s.into())) }
    }

    fn with_payload(fields: &[(&str, Value)]) -> AttributeContext {
        let payload =
            Struct { fields: fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect() };
        let ns = Struct {
            fields: [("jwt_payload".to_owned(), Value { kind: Some(Kind::StructValue(payload)) })]
                .into(),
        };
        AttributeContext {
            metadata_context: Some(Metadata {
                filter_metadata: [(JWT_NAMESPACE.to_owned(), ns)].into(),
                ..Metadata::default()
            }),
            ..AttributeContext::default()
        }
    }

    #[test]
    fn jwt_claim_reads_a_string_claim_of_the_verified_payload() {
        let attrs = with_payload(&[
            ("sub", string("alice")),
            ("n", Value { kind: Some(Kind::NumberValue(1.0)) }),
        ]);
        assert_eq!(jwt_claim(&attrs, "jwt_payload", "sub").as_deref(), Some("alice"));
        // Another payload key, a missing claim, a claim that is not a string: no identity.
        assert_eq!(jwt_claim(&attrs, "other", "sub"), None);
        assert_eq!(jwt_claim(&attrs, "jwt_payload", "email"), None);
        assert_eq!(jwt_claim(&attrs, "jwt_payload", "n"), None);
        assert_eq!(jwt_claim(&AttributeContext::default(), "jwt_payload", "sub"), None);
    }

    #[test]
    fn denied_answers_carry_the_http_status_and_body() {
        let e = ApiError::new(StatusCode::UNAUTHORIZED, "missing_identity", "no identity");
        let r = denied(e.status, rpc_code(e.status), &e.message, Vec::new(), &e.body());
        assert_eq!(r.status.unwrap().code, UNAUTHENTICATED);
        let Some(HttpResponse::DeniedResponse(d)) = r.http_response else { panic!("not denied") };
        assert_eq!(d.status.unwrap().code, 401);
        let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(body["error"]["code"], "missing_identity");
    }
}
