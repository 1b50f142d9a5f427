//! Content detection for `gov ingest` without `--from`: which format a file is
//! in, from its first bytes and its top-level keys.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;

use crate::ingest::Format;

/// The format of `text`, if it is one `gov` reads.
pub fn detect(name: &str, text: &str) -> Option<Format> {
    let head = text.get(..text.len().min(65_536)).unwrap_or(text);
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("user,arn,user_creation_time") {
        return Some(Format::AwsCredentialReport);
    }
    if head.contains(crate::ingest::native::FORMAT) {
        return Some(Format::Native);
    }
    if trimmed.starts_with('[') {
        return crate::ingest::gcp::detect(text).then_some(Format::Gcp);
    }
    if !trimmed.starts_with('{') {
        return crate::ingest::native::is_yaml_name(name)
            .then_some(Format::Native)
            .filter(|_| head.contains("format:"));
    }
    let keys: BTreeMap<String, IgnoredAny> = serde_json::from_str(text).ok()?;
    let has = |k: &str| keys.contains_key(k);
    if has("UserDetailList") || has("RoleDetailList") || has("GroupDetailList") || has("Policies") {
        return Some(Format::AwsAuthz);
    }
    if has("graph") {
        return Some(Format::OpenGraph);
    }
    if has("apiVersion") && has("kind") {
        return Some(Format::K8s);
    }
    if crate::ingest::gcp::detect(text) {
        return Some(Format::Gcp);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_content() {
        assert_eq!(
            detect("x", "user,arn,user_creation_time,password_enabled\n"),
            Some(Format::AwsCredentialReport)
        );
        assert_eq!(detect("x", r#"{"UserDetailList": []}"#), Some(Format::AwsAuthz));
        assert_eq!(detect("x", r#"{"graph": {"nodes": []}}"#), Some(Format::OpenGraph));
        assert_eq!(
            detect("x", r#"{"apiVersion": "v1", "kind": "List", "items": []}"#),
            Some(Format::K8s)
        );
        assert_eq!(detect("x", r#"{"format": "gov.inventory/v1"}"#), Some(Format::Native));
        assert_eq!(detect("x", r#"{"bindings": [], "etag": "BwX="}"#), Some(Format::Gcp));
        assert_eq!(detect("x", r#"[{"email": "a@p", "uniqueId": "1"}]"#), Some(Format::Gcp));
        assert_eq!(detect("x", r#"{"hello": 1}"#), None);
        assert_eq!(detect("x", "not json"), None);
    }
}
