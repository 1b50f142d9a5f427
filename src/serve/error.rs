//! Errors a client gets: an HTTP status and a JSON body
//! `{"error": {"code": "...", "message": "...", "hint": "..."}}` with a stable
//! snake_case code (also the `code` label of `gov_decision_errors_total`).

use hyper::StatusCode;
use serde::Serialize;

use crate::decide::DecideError;

/// A request the server answers with an error.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// What went wrong (lowercase, user text in backticks).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Where in the body (1-based line and column), for malformed JSON.
    pub position: Option<(usize, usize)>,
    /// The methods a route takes, for 405 (`Allow`).
    pub allow: Option<&'static str>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl ApiError {
    /// An error with no hint.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), hint: None, position: None, allow: None }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                hint: self.hint.as_deref(),
                line: self.position.map(|p| p.0),
                column: self.position.map(|p| p.1),
            },
        };
        serde_json::to_vec(&body)
            .unwrap_or_else(|_| b"{\"error\":{\"code\":\"internal\"}}".to_vec())
    }

    /// A body that is not valid JSON, or JSON of the wrong shape.
    pub fn from_json(err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let (code, hint) = match err.classify() {
            Category::Syntax | Category::Eof | Category::Io => (
                "malformed_json",
                "send one JSON object: {\"decision\": \"NAME\", \"input\": {...}}",
            ),
            Category::Data => (
                "invalid_request",
                "fields: `decision` (string), `input` (object), `now` (optional timestamp)",
            ),
        };
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, code, strip_position(&err.to_string()))
            .hint(hint);
        e.position = Some((err.line(), err.column()));
        e
    }

    /// A request the engine could not decide. `gateway`: the NGINX and Envoy
    /// endpoints, where an unknown identity is 401 and an unknown target fails closed (403).
    pub fn from_decide(err: &DecideError, gateway: bool, identity_input: &str) -> Self {
        let message = err.to_string();
        match err {
            DecideError::UnknownDecision { suggestion, .. } => {
                let e = ApiError::new(StatusCode::NOT_FOUND, "unknown_decision", message);
                match suggestion {
                    Some(s) => e.hint(format!("did you mean `{s}`?")),
                    None => e.hint("GET /v1/decisions lists the decisions"),
                }
            }
            DecideError::UnknownEntity { input, .. } => {
                let status = if !gateway {
                    StatusCode::NOT_FOUND
                } else if input == identity_input {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                };
                ApiError::new(status, "unknown_entity", message)
                    .hint("the id must be an entity of the inventory the server loaded")
            }
            DecideError::MissingInput { .. }
            | DecideError::UnknownInput { .. }
            | DecideError::BadInput { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, err.kind(), message)
            }
        }
    }
}

/// serde_json appends " at line L column C"; the position has its own fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn malformed_json_has_position_and_code() {
        let err = serde_json::from_slice::<serde_json::Value>(b"{\n  \"a\": }").unwrap_err();
        let e = ApiError::from_json(&err);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["error"]["code"], "malformed_json");
        assert_eq!(v["error"]["line"], 2);
        assert_eq!(v["error"]["column"], 8);
        assert!(!v["error"]["message"].as_str().unwrap().contains(" at line "));
    }

    #[test]
    fn unknown_entity_maps_by_endpoint_and_input() {
        let err = DecideError::UnknownEntity { input: "subject".into(), id: "x".into() };
        assert_eq!(ApiError::from_decide(&err, false, "subject").status, StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from_decide(&err, true, "subject").status, StatusCode::UNAUTHORIZED);
        assert_eq!(ApiError::from_decide(&err, true, "caller").status, StatusCode::FORBIDDEN);
    }
}
