//! HTTP decision API for gateways (issue #7), behind the `serve` feature:
//! `POST /v1/decide`, an NGINX `auth_request` endpoint, an Envoy `ext_authz`
//! HTTP service, `/healthz` and Prometheus `/metrics`; with the `grpc`
//! feature, Envoy's gRPC `ext_authz` service on a listener of its own; reloads on SIGHUP and
//! on file change; an asynchronous JSON-lines decision log. See the README's
//! "gov serve" section for the statuses and headers.
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

pub use config::{Config, HeaderNames, InputNames, MIN_HEADER_BYTES};
pub use grpc_config::{BadSource, GrpcConfig, IdentitySource, InputSource};
pub use server::{ServeError, parse_listen, run};
