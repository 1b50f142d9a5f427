//! Renderers of diagnostics and findings: human (miette), plain, JSON, SARIF,
//! JUnit, Markdown.
//!
//! Must not: decide anything; it prints what earlier stages produced.

pub mod diagnostics;
/// Finding diffs and decision-log replays as text, JSON and Markdown.
pub mod diff;
/// Stable finding fingerprints (FNV-1a over rule and entity) for CI deduplication.
pub mod fingerprint;
/// The self-contained HTML posture report.
pub mod html;
/// Audit findings as plain text for terminals and logs, grouped by priority and service.
pub mod human;
/// Audit findings as the documented `gov.findings/v1` JSON document.
pub mod json;
/// Audit findings as JUnit XML for CI test-report views.
pub mod junit;
/// Audit findings as a Markdown summary for pull-request comments.
pub mod markdown;
/// Audit findings as SARIF 2.1.0 for code-scanning UIs.
pub mod sarif;
/// The Markdown scorecard per business service and the changes since the previous run.
pub mod scorecard;
/// Counts and orderings of findings that every renderer shares.
pub mod summary;
