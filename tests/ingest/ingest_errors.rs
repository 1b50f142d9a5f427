//! Bad input: every case is a diagnostic with a code, a message and a
//! location; nothing panics, nothing is dropped silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use gov::diag::{Code, Diag, Severity};
use gov::graph::Mode;
use gov::ingest::{self, Format, LoadOptions, Mapping};
use gov::source::SourceFile;

/// Loads one native inventory strictly and returns its errors.
fn errors(name: &str, text: &str) -> Vec<Diag> {
    match ingest::load_sources(vec![SourceFile::new(name, text)], &LoadOptions::default()) {
        Ok(l) => panic!(
            "expected errors, loaded {} nodes; warnings {:?}",
            l.graph.node_count(),
            l.diagnostics
        ),
        Err(d) => d.into_vec(),
    }
}

/// Converts one adapter input strictly and returns its errors.
fn convert_errors(format: Format, name: &str, text: &str) -> Vec<Diag> {
    match ingest::convert_sources(
        vec![SourceFile::new(name, text)],
        Some(format),
        &Mapping::default(),
        Mode::Strict,
    ) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d.into_vec(),
    }
}

/// The single diagnostic, with its one-based line and column.
fn only(diags: &[Diag]) -> (&Diag, usize, usize) {
    assert_eq!(
        diags.len(),
        1,
        "{:#?}",
        diags.iter().map(|d| (&d.code, &d.message)).collect::<Vec<_>>()
    );
    let d = &diags[0];
    let (line, col) =
        d.file.as_ref().expect("a file").line_col(d.primary_span().expect("a label").start);
    (d, line, col)
}

fn doc(nodes: &str, edges: &str) -> String {
    format!(
        "{{\"format\": \"gov.inventory/v1\",\n\"nodes\": [\n{nodes}\n],\n\"edges\": [\n{edges}\n]}}\n"
    )
}

const ALICE: &str = r#"{"id": "alice", "kind": "identity", "attrs": {"type": "human"}}"#;

#[test]
fn malformed_json_has_line_and_column() {
    let d = errors(
        "inv.json",
        "{\"format\": \"gov.inventory/v1\",\n\"nodes\": [\n{\"id\": \"a\" \"kind\": \"group\"}\n]}",
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::MalformedJson);
    assert_eq!(d.message, "invalid inventory: expected `,` or `}` (line 3, column 12)");
    assert_eq!((line, col), (3, 12));
    assert_eq!(d.file.as_ref().unwrap().name(), "inv.json");
}

#[test]
fn truncated_json_points_at_the_end() {
    let text = "{\"format\": \"gov.inventory/v1\", \"nodes\": [";
    let d = errors("inv.json", text);
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::MalformedJson);
    assert!(d.message.starts_with("invalid inventory: EOF while parsing a list"), "{}", d.message);
    assert_eq!((line, col), (1, text.len()));
}

#[test]
fn missing_format_field() {
    let d = errors("inv.json", "{\"nodes\": []}");
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::UnsupportedFormat);
    assert_eq!(d.message, "the inventory has no `format` field");
    assert_eq!((line, col), (1, 1));
    assert!(d.help.as_ref().unwrap().contains("gov.inventory/v1"));
}

#[test]
fn unsupported_format_version() {
    let d = errors("inv.json", "{\n  \"format\": \"gov.inventory/v2\", \"nodes\": []}");
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::UnsupportedFormat);
    assert_eq!(d.message, "unsupported inventory format `gov.inventory/v2`");
    assert_eq!((line, col), (2, 13));
}

#[test]
fn node_without_kind() {
    let d = errors("inv.json", &doc(r#"{"id": "a"}"#, ""));
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::MissingField);
    assert_eq!(d.message, "invalid node 0: missing field `kind` (line 3, column 11)");
    assert_eq!((line, col), (3, 11));
}

#[test]
fn misspelt_record_field() {
    let d = errors("inv.json", &doc(r#"{"id": "a", "kind": "group", "atrs": {}}"#, ""));
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::MissingField);
    assert!(
        d.message.starts_with(
            "invalid node 0: unknown field `atrs`, expected one of `id`, `kind`, `attrs`"
        ),
        "{}",
        d.message
    );
    assert_eq!(line, 3);
}

#[test]
fn object_as_attribute_value() {
    let d = errors(
        "inv.json",
        &doc(r#"{"id": "a", "kind": "group", "attrs": {"name": {"first": "x"}}}"#, ""),
    );
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::MissingField);
    assert!(d.message.contains("an attribute value cannot be an object"), "{}", d.message);
    assert_eq!(line, 3);
}

#[test]
fn duplicate_id_points_at_the_second_record() {
    let d = errors("inv.json", &doc(&format!("{ALICE},\n{ALICE}"), ""));
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::DuplicateId);
    assert_eq!(d.message, "duplicate node id `alice`");
    assert_eq!((line, col), (4, 2));
    assert!(d.help.as_ref().unwrap().contains("first defined in `inv.json` at line 3 (record 0)"));
}

#[test]
fn duplicate_id_across_files() {
    let a = SourceFile::new("a.json", doc(ALICE, ""));
    let b = SourceFile::new("b.json", doc(ALICE, ""));
    let d = ingest::load_sources(vec![a, b], &LoadOptions::default()).err().unwrap().into_vec();
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::DuplicateId);
    assert_eq!(d.file.as_ref().unwrap().name(), "b.json");
    assert_eq!(line, 3);
}

#[test]
fn dangling_edge_suggests_a_close_id() {
    let d =
        errors("inv.json", &doc(ALICE, r#"{"from": "alise", "to": "alice", "kind": "owned_by"}"#));
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::DanglingEdge);
    assert_eq!(d.message, "edge `owned_by` points to unknown source `alise`");
    assert_eq!(d.help.as_deref(), Some("did you mean `alice`? no node has the id `alise`"));
    assert_eq!((line, col), (6, 1));
}

#[test]
fn unknown_node_kind() {
    let d = errors(
        "inv.json",
        &doc(r#"{"id": "k", "kind": "credentail", "attrs": {"type": "token"}}"#, ""),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::UnknownKind);
    assert_eq!(d.message, "unknown node kind `credentail`");
    assert_eq!(d.help.as_deref(), Some("did you mean `credential`?"));
    assert_eq!((line, col), (3, 13));
}

#[test]
fn edges_of_a_rejected_node_do_not_cascade() {
    let d = errors(
        "inv.json",
        &doc(
            &format!("{ALICE},\n{{\"id\": \"k\", \"kind\": \"widget\"}}"),
            r#"{"from": "alice", "to": "k", "kind": "uses"}"#,
        ),
    );
    let (d, _, _) = only(&d);
    assert_eq!(d.code, Code::UnknownKind);
}

#[test]
fn unknown_edge_kind() {
    let d =
        errors("inv.json", &doc(ALICE, r#"{"from": "alice", "to": "alice", "kind": "owned_bi"}"#));
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::UnknownEdgeKind);
    assert_eq!(d.message, "unknown edge kind `owned_bi`");
    assert_eq!(d.help.as_deref(), Some("did you mean `owned_by`?"));
    assert_eq!((line, col), (6, 34));
}

#[test]
fn unknown_attribute() {
    let d = errors(
        "inv.json",
        &doc(
            r#"{"id": "k", "kind": "credential", "attrs": {"type": "token", "rotatd_at": "2026-01-01"}}"#,
            "",
        ),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::UnknownAttribute);
    assert_eq!(d.message, "kind `credential` has no attribute `rotatd_at`");
    assert_eq!(d.help.as_deref(), Some("did you mean `rotated_at`?"));
    assert_eq!((line, col), (3, 62));
}

#[test]
fn wrong_attribute_type() {
    let d = errors(
        "inv.json",
        &doc(r#"{"id": "s", "kind": "service", "attrs": {"tier": "high"}}"#, ""),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::WrongType);
    assert_eq!(d.message, "attribute `service.tier` expects an `int`, found string");
    assert_eq!(d.help.as_deref(), Some("write the value as a whole number, e.g. `2`"));
    assert_eq!((line, col), (3, 42));
}

#[test]
fn wrong_list_element_type() {
    let d = errors(
        "inv.json",
        &doc(
            r#"{"id": "k", "kind": "credential", "attrs": {"type": "token", "scopes": ["repo", 3]}}"#,
            "",
        ),
    );
    let (d, _, _) = only(&d);
    assert_eq!(d.code, Code::WrongType);
    assert_eq!(d.message, "attribute `credential.scopes` expects a list of `string`, found int");
}

#[test]
fn impossible_date() {
    let d = errors(
        "inv.json",
        &doc(
            r#"{"id": "k", "kind": "credential", "attrs": {"type": "token", "rotated_at": "2026-02-30"}}"#,
            "",
        ),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::IngestInvalidDate);
    assert_eq!(
        d.message,
        "attribute `credential.rotated_at` has an invalid timestamp `2026-02-30`: day 30 does not exist in that month (it has 28 days)"
    );
    assert_eq!((line, col), (3, 62));
}

#[test]
fn unparseable_date() {
    let d = errors(
        "inv.json",
        &doc(
            r#"{"id": "k", "kind": "credential", "attrs": {"type": "token", "expires_at": "next tuesday"}}"#,
            "",
        ),
    );
    let (d, _, _) = only(&d);
    assert_eq!(d.code, Code::IngestInvalidDate);
    assert!(d.message.starts_with(
        "attribute `credential.expires_at` has an invalid timestamp `next tuesday`: expected"
    ));
}

#[test]
fn enum_value_outside_its_set() {
    let d = errors(
        "inv.json",
        &doc(r#"{"id": "s", "kind": "service", "attrs": {"criticality": "hgh"}}"#, ""),
    );
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::InvalidValue);
    assert_eq!(
        d.message,
        "attribute `service.criticality` has `hgh`, which is not one of its values"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("did you mean `high`? allowed values: low, medium, high, critical")
    );
    assert_eq!(line, 3);
}

#[test]
fn invalid_duration_in_a_declared_attribute() {
    let text = "{\"format\": \"gov.inventory/v1\",\n\"schema\": {\"kinds\": {\"credential\": {\"attributes\": {\"max_age\": \"duration\"}}}},\n\"nodes\": [\n{\"id\": \"k\", \"kind\": \"credential\", \"attrs\": {\"type\": \"token\", \"max_age\": \"90 days\"}}\n]}";
    let d = errors("inv.json", text);
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::InvalidValue);
    assert_eq!(
        d.message,
        "attribute `credential.max_age` has an invalid duration `90 days`: unknown duration unit ` days`"
    );
    assert_eq!(line, 4);
}

#[test]
fn missing_required_attribute() {
    let d = errors(
        "inv.json",
        &doc(r#"{"id": "bot", "kind": "identity", "attrs": {"name": "bot"}}"#, ""),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::MissingAttribute);
    assert_eq!(d.message, "node `bot` of kind `identity` lacks the required attribute `type`");
    assert_eq!((line, col), (3, 35));
}

#[test]
fn edge_between_kinds_it_does_not_connect() {
    let d = errors(
        "inv.json",
        &doc(
            &format!(
                "{ALICE},\n{{\"id\": \"k\", \"kind\": \"credential\", \"attrs\": {{\"type\": \"token\"}}}}"
            ),
            r#"{"from": "k", "to": "alice", "kind": "has_credential"}"#,
        ),
    );
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::EdgeNotAllowed);
    assert_eq!(d.message, "edge `has_credential` cannot go from a `credential` to a `identity`");
    assert_eq!(
        d.help.as_deref(),
        Some("`has_credential` goes from `identity` | `service` to `credential`")
    );
    assert_eq!(line, 7);
}

#[test]
fn schema_section_cannot_change_a_builtin_attribute() {
    let text = "{\"format\": \"gov.inventory/v1\",\n\"schema\": {\"kinds\": {\"credential\": {\"attributes\": {\"rotated_at\": \"string\"}}}},\n\"nodes\": []}";
    let d = errors("inv.json", text);
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::SchemaConflict);
    assert_eq!(d.message, "attribute `credential.rotated_at` is already defined as `timestamp`");
    assert_eq!((line, col), (2, 52));
}

#[test]
fn schema_section_with_an_unknown_type() {
    let text = "{\"format\": \"gov.inventory/v1\",\n\"schema\": {\"kinds\": {\"vault\": {\"attributes\": {\"path\": \"text\"}}}},\n\"nodes\": []}";
    let d = errors("inv.json", text);
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::SchemaConflict);
    assert_eq!(d.message, "attribute `vault.path` has an unknown type `text`");
    assert_eq!(line, 2);
}

#[test]
fn malformed_yaml() {
    let d = errors("inv.yaml", "format: gov.inventory/v1\nnodes:\n  - id: a\n    kind: [group\n");
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::MalformedYaml);
    assert!(d.message.starts_with("invalid inventory: "), "{}", d.message);
    assert!(d.message.contains("(line 4, column 11)"), "{}", d.message);
    assert_eq!(line, 4);
}

#[test]
fn yaml_semantic_error_points_at_the_record() {
    let d = errors(
        "inv.yaml",
        "format: gov.inventory/v1\nnodes:\n  - id: a\n    kind: group\n  - id: b\n    kind: grop\n",
    );
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::UnknownKind);
    assert_eq!(d.help.as_deref(), Some("did you mean `group`?"));
    assert_eq!(line, 6);
}

const REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
const REPORT_ROW: &str = "bob,arn:aws:iam::1:user/bob,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

#[test]
fn credential_report_short_row() {
    let text = format!(
        "{REPORT_HEADER}\n{REPORT_ROW}\nalice,arn:aws:iam::1:user/alice,2024-01-01T00:00:00+00:00\n"
    );
    let d = convert_errors(Format::AwsCredentialReport, "report.csv", &text);
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::MalformedCsv);
    assert_eq!(d.message, "row on line 3 has 3 fields, the header has 22");
    assert_eq!((line, col), (3, 1));
}

#[test]
fn credential_report_missing_columns() {
    let header = REPORT_HEADER.replace(",cert_2_active,cert_2_last_rotated", "");
    let d = convert_errors(Format::AwsCredentialReport, "report.csv", &format!("{header}\n"));
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::MalformedCsv);
    assert_eq!(
        d.message,
        "the credential report lacks 2 of its 22 columns: `cert_2_active`, `cert_2_last_rotated`"
    );
    assert_eq!(line, 1);
}

#[test]
fn credential_report_bad_boolean() {
    let row = REPORT_ROW.replacen(",false,N/A,N/A,N/A,false,", ",false,N/A,N/A,N/A,maybe,", 1);
    let d = convert_errors(
        Format::AwsCredentialReport,
        "report.csv",
        &format!("{REPORT_HEADER}\n{row}\n"),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::InvalidValue);
    assert_eq!(
        d.message,
        "`mfa_active` of `arn:aws:iam::1:user/bob` is `maybe`, not `true` or `false`"
    );
    assert_eq!((line, col), (2, 73));
}

#[test]
fn credential_report_bad_date() {
    let row = REPORT_ROW.replace("2024-01-02T00:00:00+00:00", "2024-13-02T00:00:00+00:00");
    let d = convert_errors(
        Format::AwsCredentialReport,
        "report.csv",
        &format!("{REPORT_HEADER}\n{row}\n"),
    );
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::IngestInvalidDate);
    assert_eq!(
        d.message,
        "`access_key_1_last_rotated` of `arn:aws:iam::1:user/bob` is not a date: `2024-13-02T00:00:00+00:00` (month 13 does not exist (months are 01 to 12))"
    );
    assert_eq!((line, col), (2, 84));
}

#[test]
fn aws_authz_bad_create_date() {
    let text = "{\"UserDetailList\": [\n {\"UserName\": \"u\", \"UserId\": \"AID1\", \"Arn\": \"arn:aws:iam::1:user/u\",\n  \"CreateDate\": \"yesterday\"}\n]}";
    let d = convert_errors(Format::AwsAuthz, "authz.json", text);
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::IngestInvalidDate);
    assert!(
        d.message.starts_with("`CreateDate` of `arn:aws:iam::1:user/u` is not a date: `yesterday`"),
        "{}",
        d.message
    );
    assert_eq!((line, col), (3, 18));
}

#[test]
fn aws_authz_record_missing_arn() {
    let text = "{\"RoleDetailList\": [\n {\"RoleName\": \"r\", \"RoleId\": \"AROA1\"}\n]}";
    let d = convert_errors(Format::AwsAuthz, "authz.json", text);
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::MissingField);
    assert!(d.message.starts_with("invalid role 0: missing field `Arn`"), "{}", d.message);
    assert_eq!(line, 2);
}

#[test]
fn opengraph_unknown_kind() {
    let text = "{\"graph\": {\"nodes\": [\n{\"id\": \"x\", \"kinds\": [\"Okta_Device\"], \"properties\": {}}\n], \"edges\": []}}";
    let d = convert_errors(Format::OpenGraph, "og.json", text);
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::UnknownKind);
    assert_eq!(d.message, "node `x` has no kind the mapping knows (`Okta_Device`)");
    assert_eq!((line, col), (2, 13));
}

#[test]
fn opengraph_bad_timestamp_property() {
    let text = "{\"graph\": {\"nodes\": [\n{\"id\": \"p\", \"kinds\": [\"GH_PersonalAccessToken\"], \"properties\": {\"token_expires_at\": \"soon\"}}\n], \"edges\": []}}";
    let d = convert_errors(Format::OpenGraph, "og.json", text);
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::IngestInvalidDate);
    assert_eq!(
        d.message,
        "property `token_expires_at` of `p` is \"soon\", which is not a `timestamp`"
    );
    assert_eq!((line, col), (2, 65));
}

#[test]
fn k8s_cluster_binding_service_account_without_namespace() {
    let text = "{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": [\n{\"kind\": \"ClusterRoleBinding\", \"metadata\": {\"name\": \"b\"}, \"roleRef\": {\"kind\": \"ClusterRole\", \"name\": \"view\"}, \"subjects\": [{\"kind\": \"ServiceAccount\", \"name\": \"sa\"}]}\n]}";
    let d = convert_errors(Format::K8s, "k8s.json", text);
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::MissingField);
    assert_eq!(d.message, "ServiceAccount subject `sa` of `ClusterRoleBinding/b` has no namespace");
    assert_eq!(line, 2);
}

#[test]
fn k8s_unsupported_object_is_a_warning_not_silence() {
    let text = "{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": [\n{\"kind\": \"Pod\", \"metadata\": {\"name\": \"web\"}}\n]}";
    let c = ingest::convert_sources(
        vec![SourceFile::new("k8s.json", text)],
        Some(Format::K8s),
        &Mapping::default(),
        Mode::Strict,
    )
    .unwrap();
    let diags: Vec<Diag> = c.loaded.diagnostics.iter().cloned().collect();
    let (d, line, _) = only(&diags);
    assert_eq!(d.code, Code::UnknownKind);
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.message, "the k8s adapter does not read `Pod` objects; `web` is skipped");
    assert_eq!(line, 2);
}

#[test]
fn invalid_mapping_file() {
    let src = SourceFile::new("map.yaml", "owner: [owner]\nservise: [app]\n");
    let d = Mapping::parse(&src).unwrap_err();
    assert_eq!(d.code, Code::InvalidMapping);
    assert!(
        d.message.starts_with("invalid mapping file: unknown field `servise`"),
        "{}",
        d.message
    );
    let (line, _) = src.line_col(d.primary_span().unwrap().start);
    assert_eq!(line, 2);
}

#[test]
fn unknown_format_is_reported() {
    let d = convert_errors(Format::AwsAuthz, "x", "").len();
    assert_eq!(d, 1);
    let c = ingest::convert_sources(
        vec![SourceFile::new("notes.txt", "hello")],
        None,
        &Mapping::default(),
        Mode::Strict,
    );
    let d = c.err().unwrap().into_vec();
    let (d, line, _) = only(&d);
    assert_eq!(d.code, Code::UnknownFormat);
    assert_eq!(d.message, "cannot tell the format of `notes.txt`");
    assert_eq!(line, 1);
}

#[test]
fn strict_lists_every_error() {
    let d = errors(
        "inv.json",
        &doc(
            &format!(
                "{ALICE},\n{ALICE},\n{{\"id\": \"s\", \"kind\": \"service\", \"attrs\": {{\"tier\": \"x\"}}}}"
            ),
            r#"{"from": "nobody", "to": "alice", "kind": "owned_by"}"#,
        ),
    );
    let codes: Vec<Code> = d.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec![Code::DuplicateId, Code::WrongType, Code::DanglingEdge]);
}

#[test]
fn lenient_loads_the_valid_part_and_counts_the_rest() {
    let text = doc(
        &format!(
            "{ALICE},\n{ALICE},\n{{\"id\": \"s\", \"kind\": \"service\", \"attrs\": {{\"tier\": \"x\", \"name\": \"pay\"}}}}"
        ),
        "{\"from\": \"nobody\", \"to\": \"alice\", \"kind\": \"owned_by\"},\n{\"from\": \"s\", \"to\": \"alice\", \"kind\": \"owned_by\"}",
    );
    let opts = LoadOptions { mode: Mode::Lenient, ..LoadOptions::default() };
    let loaded = ingest::load_sources(vec![SourceFile::new("inv.json", text)], &opts).unwrap();
    assert_eq!(loaded.graph.node_count(), 2);
    assert_eq!(loaded.graph.edge_count(), 1);
    assert_eq!(loaded.diagnostics.warning_count(), 3);
    assert_eq!(loaded.diagnostics.error_count(), 0);
    let s = loaded.graph.lookup("s").unwrap();
    assert!(loaded.graph.attr_by_name(s, "tier").is_missing());
    assert_eq!(loaded.graph.attr_by_name(s, "name").as_str(), Some("pay"));
}

#[test]
fn invalid_utf8_is_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, b"{\"format\": \"gov.inventory/v1\", \"x\": \"\xff\"}").unwrap();
    let e = ingest::read_source(&path).unwrap_err();
    assert_eq!(e.0.code, Code::InvalidUtf8);
    assert_eq!(e.0.primary_span().unwrap().start, 37);
}

#[test]
fn missing_file_is_an_io_error() {
    let e = ingest::read_source(std::path::Path::new("/nonexistent/inv.json")).unwrap_err();
    assert_eq!(e.0.code, Code::Io);
    assert!(e.0.message.starts_with("cannot read `/nonexistent/inv.json`: "), "{}", e.0.message);
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "{",
        "[]",
        "null",
        "{\"graph\": 3}",
        "{\"UserDetailList\": [1, {}]}",
        "\u{feff}user,arn",
        "format: [",
        "{\"format\": \"gov.inventory/v1\", \"nodes\": [1, \"x\", []]}",
    ];
    for text in inputs {
        for f in [Format::AwsAuthz, Format::AwsCredentialReport, Format::K8s, Format::OpenGraph] {
            let _ = ingest::convert_sources(
                vec![SourceFile::new("x", text)],
                Some(f),
                &Mapping::default(),
                Mode::Lenient,
            );
        }
        let _ =
            ingest::load_sources(vec![SourceFile::new("x.json", text)], &LoadOptions::default());
        let _ =
            ingest::load_sources(vec![SourceFile::new("x.yaml", text)], &LoadOptions::default());
    }
}

#[test]
fn large_inventories_report_errors_in_record_order() {
    // Over 50,000 records: records are parsed on a second thread.
    let mut nodes: Vec<String> =
        (0..60_000).map(|i| format!("{{\"id\": \"g{i}\", \"kind\": \"group\"}}")).collect();
    nodes[40_000] = "{\"id\": \"g40000\", \"kind\": \"group\", \"attrs\": {\"name\": 1}}".into();
    nodes[50_000] = "{\"id\": \"g50000\"}".into();
    let text =
        doc(&nodes.join(",\n"), "{\"from\": \"g1\", \"to\": \"g2\", \"kind\": \"member_of\"}");
    let d = errors("big.json", &text);
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].code, Code::WrongType);
    assert_eq!(d[0].file.as_ref().unwrap().line_col(d[0].primary_span().unwrap().start).0, 40_003);
    assert_eq!(d[1].code, Code::MissingField);
    assert!(
        d[1].message.starts_with("invalid node 50000: missing field `kind`"),
        "{}",
        d[1].message
    );
    let opts = LoadOptions { mode: Mode::Lenient, ..LoadOptions::default() };
    let loaded = ingest::load_sources(vec![SourceFile::new("big.json", text)], &opts).unwrap();
    assert_eq!(loaded.graph.node_count(), 59_999);
    assert_eq!(loaded.graph.edge_count(), 1);
    let p = loaded.graph.provenance(loaded.graph.lookup("g59999").unwrap()).unwrap();
    assert_eq!((p.record, p.line), (59_999, 60_002));
}

#[test]
fn unknown_top_level_field() {
    let d = errors("inv.json", "{\"format\": \"gov.inventory/v1\",\n \"node\": []}");
    let (d, line, col) = only(&d);
    assert_eq!(d.code, Code::MissingField);
    assert!(
        d.message.starts_with("invalid inventory: unknown field `node`, expected one of `format`"),
        "{}",
        d.message
    );
    assert_eq!((line, col), (2, 7));
}

#[test]
fn records_before_the_format_field_wait_for_it() {
    let text =
        "{\"nodes\": [{\"id\": \"g\", \"kind\": \"group\"}], \"format\": \"gov.inventory/v1\"}";
    let loaded =
        ingest::load_sources(vec![SourceFile::new("inv.json", text)], &LoadOptions::default())
            .unwrap();
    assert_eq!(loaded.graph.node_count(), 1);
    let d = errors(
        "inv.json",
        "{\"nodes\": [{\"id\": \"g\", \"kind\": \"group\"}], \"format\": \"gov.inventory/v9\"}",
    );
    assert_eq!(only(&d).0.code, Code::UnsupportedFormat);
}

#[test]
fn a_mapping_file_beside_the_inventories_is_not_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let inv = r#"{"format": "gov.inventory/v1", "nodes": [{"id": "a", "kind": "identity", "type": "bot"}]}"#;
    std::fs::write(dir.path().join("inventory.json"), inv).unwrap();
    std::fs::write(dir.path().join("mapping.yaml"), "owner: [team-owner]\ntier: [criticality]\n")
        .unwrap();
    // YAML that is neither a mapping nor an inventory is still read, and reported.
    std::fs::write(dir.path().join("stray.yaml"), "nodez: []\n").unwrap();
    let paths = ingest::expand_paths(&[dir.path().to_path_buf()]).unwrap();
    let names: Vec<String> =
        paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["inventory.json", "stray.yaml"]);
    // Named on its own, a mapping file is read as an inventory and reported.
    let file = dir.path().join("mapping.yaml");
    assert_eq!(ingest::expand_paths(std::slice::from_ref(&file)).unwrap(), [file]);
}
