//! HTTP decision API for gateways, behind the `serve` feature:
//! `POST /v1/decide`, an NGINX `auth_request` endpoint, an Envoy `ext_authz`
//! HTTP service, `/healthz` and Prometheus `/metrics`; with the `grpc`
//! feature, Envoy's gRPC `ext_authz` service on a listener of its own; reloads on SIGHUP and
//! on file change; an asynchronous JSON-lines decision log. See `docs/serving.md`
//! for the statuses and headers.
//!
//! Owns: HTTP (routes, limits, statuses, JSON errors), the mapping of gateway
//! headers to decision inputs, metrics, the decision log and reloads.
//! Must not: hold policy logic; it calls [`crate::decide::Engine`].

mod config;
mod error;
#[cfg(feature = "grpc")]
mod grpc;
mod grpc_config;
mod log;
mod metrics;
mod reload;
mod routes;
mod server;
mod slots;

pub use config::{
    Config, HeaderNames, InputNames, MIN_HEADER_BYTES, RESERVED_FDS, default_max_connections,
};
pub use grpc_config::{BadSource, GrpcConfig, IdentitySource, InputSource};
pub use server::{ServeError, parse_listen, run};

/// The request decoders, for the fuzz targets under `fuzz/`; not an API.
#[doc(hidden)]
pub mod fuzzing {
    use std::collections::BTreeMap;

    use hyper::header::{HeaderMap, HeaderName, HeaderValue};

    use super::config::{HeaderNames, InputNames};

    /// A `/v1/decide` body as the server decodes it; `Err`: the error code.
    pub fn decode_body(body: &[u8]) -> Result<crate::decide::Request, &'static str> {
        super::routes::parse_request(body).map_err(|e| e.code)
    }

    /// A gateway check's inputs as the server reads them from headers (the
    /// default header names; pairs that are not valid HTTP are skipped, as
    /// hyper rejects them); `Err`: the error code.
    pub fn decode_gateway(
        headers: &[(&[u8], &[u8])],
        method: &[u8],
        nginx: bool,
    ) -> Result<(Option<String>, BTreeMap<String, serde_json::Value>), &'static str> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
                map.append(n, v);
            }
        }
        let method = hyper::Method::from_bytes(method).unwrap_or(hyper::Method::GET);
        let names = HeaderNames::default();
        let h = super::server::Headers {
            identity: HeaderName::from_static("x-gov-identity"),
            target: HeaderName::from_static("x-gov-target"),
            action: HeaderName::from_static("x-gov-action"),
            decision: HeaderName::from_static("x-gov-decision"),
        };
        debug_assert_eq!(h.identity.as_str(), names.identity);
        let inputs = InputNames::default();
        let g = super::routes::gateway_ask(&h, &map, &method, nginx, None).map_err(|e| e.code)?;
        let mut input = BTreeMap::new();
        input.insert(inputs.identity, serde_json::Value::from(g.identity));
        if let Some(t) = g.target {
            input.insert(inputs.target, serde_json::Value::from(t));
        }
        if let Some(a) = g.action.or(g.default_action) {
            input.insert(inputs.action, serde_json::Value::from(a));
        }
        Ok((g.decision.map(str::to_owned), input))
    }
}
