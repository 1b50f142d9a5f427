//! What the gRPC `ext_authz` listener is told: its address and where in
//! Envoy's `CheckRequest` the identity, the target and the action are found.
//! Plain data, parsed from the command line's words; [`super::run`] uses it.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// Envoy's gRPC authorization service (`envoy.service.auth.v3.Authorization/Check`).
#[derive(Clone, Debug)]
pub struct GrpcConfig {
    /// Address of the gRPC listener (port 0: any free port; the bound one is printed).
    pub listen: SocketAddr,
    /// Where the caller's identity comes from.
    pub identity: IdentitySource,
    /// Where the target comes from.
    pub target: InputSource,
    /// Where the action comes from.
    pub action: InputSource,
}

impl GrpcConfig {
    /// A listener on `listen` with the defaults: identity, target and action
    /// from the gateway headers (the action falls back to the method).
    pub fn new(listen: SocketAddr) -> Self {
        GrpcConfig {
            listen,
            identity: IdentitySource::Header,
            target: InputSource::Header,
            action: InputSource::Header,
        }
    }
}

/// Where the identity of a gRPC check comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// The client request's identity header (`--identity-header`): only
    /// safe when Envoy sets it itself.
    Header,
    /// The mTLS peer's principal (`attributes.source.principal`: the URI SAN,
    /// else the subject, of the client certificate Envoy verified).
    Principal,
    /// A claim of the JWT Envoy's `jwt_authn` filter verified, from the
    /// check's metadata (`metadata_context.filter_metadata["envoy.filters.http.jwt_authn"]`).
    Jwt {
        /// The provider's `payload_in_metadata` key.
        payload_key: String,
        /// The claim holding the identity (a top-level string claim).
        claim: String,
    },
}

/// Where the target or the action of a gRPC check comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// The client request's header (`--target-header`, `--action-header`);
    /// a missing action header falls back to the method.
    Header,
    /// The request's path, without the query.
    Path,
    /// The request's method.
    Method,
    /// A key of the route's `context_extensions` (set per route in Envoy's
    /// `ExtAuthzPerRoute.check_settings`).
    Context(String),
}

/// A `--grpc-target`/`--grpc-action` word that names no source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSource(pub String);

impl fmt::Display for BadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a source: use header, path, method or context:KEY", self.0)
    }
}

impl std::error::Error for BadSource {}

impl FromStr for InputSource {
    type Err = BadSource;

    fn from_str(s: &str) -> Result<Self, BadSource> {
        match s.trim() {
            "header" => Ok(InputSource::Header),
            "path" => Ok(InputSource::Path),
            "method" => Ok(InputSource::Method),
            other => match other.strip_prefix("context:") {
                Some(key) if !key.trim().is_empty() => Ok(InputSource::Context(key.trim().into())),
                _ => Err(BadSource(s.to_owned())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn input_sources_parse_and_reject_unknown_words() {
        assert_eq!("path".parse::<InputSource>(), Ok(InputSource::Path));
        assert_eq!(
            "context:target".parse::<InputSource>(),
            Ok(InputSource::Context("target".into()))
        );
        let err = "context:".parse::<InputSource>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`context:` is not a source: use header, path, method or context:KEY"
        );
        assert!("url".parse::<InputSource>().is_err());
    }
}
