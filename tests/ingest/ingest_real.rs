//! The adapters on real, public samples (`../shared/realdata/`) and on the
//! documented-format fixtures under `tests/fixtures/ingest/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::PathBuf;

use gov::graph::{Graph, Mode, NodeId, Schema, Value};
use gov::ingest::{self, Format, Inventory, Mapping};

fn realdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name)
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest").join(name)
}

fn convert(format: Format, path: PathBuf) -> Inventory {
    let src = ingest::read_source(&path).unwrap();
    ingest::convert(format, src, &Mapping::default())
}

fn load(inv: &Inventory) -> gov::graph::Loaded {
    let mut b = gov::graph::GraphBuilder::new(Schema::builtin());
    inv.load_into(&mut b);
    match b.finish(Mode::Strict) {
        Ok(l) => l,
        Err(d) => panic!(
            "{:#?}",
            d.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>()
        ),
    }
}

fn count(g: &Graph, kind: &str) -> usize {
    g.nodes_of_kind(g.schema().kind(kind).unwrap()).len()
}

fn count_where(g: &Graph, kind: &str, attr: &str, value: &str) -> usize {
    let k = g.schema().kind(kind).unwrap();
    let a = g.schema().attr(k, attr).unwrap();
    g.nodes_of_kind(k).iter().filter(|n| g.attr(**n, a) == Value::Str(value)).count()
}

fn has_edge(g: &Graph, from: &str, kind: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (g.lookup(from), g.lookup(to)) else { return false };
    g.out(a, g.schema().edge_kind(kind).unwrap()).contains(&b)
}

fn node(g: &Graph, id: &str) -> NodeId {
    g.lookup(id).unwrap_or_else(|| panic!("no node `{id}`"))
}

#[test]
fn aws_authz_real_sample() {
    let inv = convert(Format::AwsAuthz, realdata("aws_authz_details__cloudsplaining_example.json"));
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    let loaded = load(&inv);
    let g = &loaded.graph;
    eprintln!("{:?}", loaded.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>());
    assert_eq!(count_where(g, "identity", "type", "iam_user"), 44);
    assert_eq!(count_where(g, "identity", "type", "role"), 78);
    assert_eq!(count(g, "group"), 5);
    let policies = g
        .nodes_of_kind(g.schema().kind("role").unwrap())
        .iter()
        .filter(|n| !g.id(**n).contains("#inline/"))
        .count();
    assert_eq!(policies, 84);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    // Group membership, attached managed policies, inline policies.
    let acct = "arn:aws:iam::200611803367";
    assert!(has_edge(
        g,
        &format!("{acct}:user/privesc-sre-user"),
        "member_of",
        &format!("{acct}:group/privesc-sre-group")
    ));
    assert!(has_edge(
        g,
        &format!("{acct}:group/privesc-sre-group"),
        "grants",
        &format!("{acct}:policy/privesc-sre-admin-policy")
    ));
    assert!(has_edge(
        g,
        &format!("{acct}:user/fp2-allow-and-deny-multiple-policies-user"),
        "grants",
        &format!("{acct}:policy/fp2-allow-all")
    ));
    assert!(has_edge(
        g,
        "arn:aws:iam::012345678901:user/userwithlotsofpermissions",
        "grants",
        "arn:aws:iam::012345678901:user/userwithlotsofpermissions#inline/InsecureUserPolicy"
    ));
    // Trust policies: a role, a service and an SSO session (resolved to the role with its path).
    let exec = format!("{acct}:role/AWS-QuickSetup-StackSet-Local-ExecutionRole");
    assert!(has_edge(
        g,
        &format!("{acct}:role/AWS-QuickSetup-StackSet-Local-AdministrationRole"),
        "assumes",
        &exec
    ));
    assert!(has_edge(g, &exec, "grants", "arn:aws:iam::aws:policy/AdministratorAccess"));
    let ssm = node(g, "aws-service:ssm.amazonaws.com");
    assert_eq!(g.attr_by_name(ssm, "type"), Value::Str("aws_service"));
    // Dates with a space and an offset, AWS managed policies, actions.
    let user = node(g, &format!("{acct}:user/fn1-privesc3-partial-user"));
    assert_eq!(g.attr_by_name(user, "created_at").to_string(), "\"2023-03-09T10:41:45Z\"");
    let admin = node(g, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(g.attr_by_name(admin, "managed"), Value::Bool(true));
    assert_eq!(g.attr_by_name(admin, "privileged"), Value::Bool(true));
    // Each node points back at its record.
    let p = g.provenance(user).unwrap();
    assert_eq!(
        (p.record, g.files()[p.file as usize].ends_with("cloudsplaining_example.json")),
        (0, true)
    );
    assert!(p.line > 1);
}

#[test]
fn aws_credential_report_fixture() {
    let inv = convert(Format::AwsCredentialReport, fixture("credential_report.csv"));
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    let g = &load(&inv).graph;
    assert_eq!(count(g, "identity"), 4);
    assert_eq!(count(g, "credential"), 5);
    let root = node(g, "arn:aws:iam::200611803367:root");
    assert_eq!(g.attr_by_name(root, "type"), Value::Str("root"));
    assert!(g.attr_by_name(root, "password_enabled").is_missing(), "not_supported stays missing");
    assert_eq!(g.attr_by_name(root, "mfa_active"), Value::Bool(true));
    let sre = "arn:aws:iam::200611803367:user/privesc-sre-user";
    assert!(has_edge(g, sre, "has_credential", &format!("{sre}#access_key_1")));
    assert!(has_edge(g, sre, "has_credential", &format!("{sre}#access_key_2")));
    let k1 = node(g, &format!("{sre}#access_key_1"));
    assert_eq!(g.attr_by_name(k1, "last_used_service"), Value::Str("s3"));
    assert_eq!(g.attr_by_name(k1, "last_used_state"), Value::Str("used"));
    assert_eq!(g.attr_by_name(k1, "rotated_at").to_string(), "\"2025-01-10T14:22:05Z\"");
    // `TRUE` and `False` are booleans too.
    assert_eq!(g.attr_by_name(node(g, sre), "mfa_active"), Value::Bool(true));
    assert_eq!(
        g.attr_by_name(node(g, &format!("{sre}#access_key_2")), "active"),
        Value::Bool(false)
    );
    // N/A (never used) and no_information are different missing states.
    let never = node(g, "arn:aws:iam::200611803367:user/fn1-privesc3-partial-user#access_key_1");
    assert!(g.attr_by_name(never, "last_used_at").is_missing());
    assert_eq!(g.attr_by_name(never, "last_used_state"), Value::Str("never"));
    let legacy = node(g, "arn:aws:iam::200611803367:user/legacy-batch#access_key_1");
    assert_eq!(g.attr_by_name(legacy, "last_used_state"), Value::Str("no_information"));
    let cert = node(g, "arn:aws:iam::200611803367:user/legacy-batch#cert_1");
    assert_eq!(g.attr_by_name(cert, "type"), Value::Str("certificate"));
}

#[test]
fn credential_report_joins_authorization_details_by_arn() {
    let mut inv =
        convert(Format::AwsAuthz, realdata("aws_authz_details__cloudsplaining_example.json"));
    inv.extend(convert(Format::AwsCredentialReport, fixture("credential_report.csv")));
    let loaded = load(&inv);
    let g = &loaded.graph;
    let sre = node(g, "arn:aws:iam::200611803367:user/privesc-sre-user");
    // One node with facts from both sources.
    assert_eq!(g.attr_by_name(sre, "external_id"), Value::Str("AIDAS5NLFGDTSXSVAF7AI"));
    assert_eq!(g.attr_by_name(sre, "password_enabled"), Value::Bool(true));
    assert!(has_edge(
        g,
        "arn:aws:iam::200611803367:user/privesc-sre-user",
        "member_of",
        "arn:aws:iam::200611803367:group/privesc-sre-group"
    ));
    assert_eq!(
        count_where(g, "identity", "type", "iam_user"),
        44 + 1,
        "legacy-batch is only in the report"
    );
}

#[test]
fn k8s_rbac_fixture() {
    let inv = convert(Format::K8s, fixture("k8s_rbac.json"));
    // The RoleBinding's ServiceAccount subject leaves out its namespace.
    assert_eq!(inv.diags.len(), 1, "{:?}", inv.diags);
    assert!(inv.diags.iter().all(|d| d.code == gov::Code::MissingField
        && d.severity == gov::Severity::Warning
        && d.message.contains("`payments-api`")));
    let loaded = load(&inv);
    let g = &loaded.graph;
    assert_eq!(count_where(g, "identity", "type", "service_account"), 3);
    assert_eq!(count(g, "role"), 3);
    let sa = "k8s:serviceaccount:payments/payments-api";
    // A ServiceAccount subject without a namespace takes the binding's.
    assert!(has_edge(g, sa, "grants", "k8s:role:payments/secret-reader"));
    assert!(has_edge(
        g,
        "k8s:serviceaccount:kube-system/coredns",
        "grants",
        "k8s:clusterrole:system:coredns"
    ));
    // system: groups and users are kept.
    assert!(has_edge(g, "k8s:group:system:masters", "grants", "k8s:clusterrole:cluster-admin"));
    assert_eq!(g.attr_by_name(node(g, "k8s:user:system:kube-proxy"), "type"), Value::Str("system"));
    assert_eq!(g.attr_by_name(node(g, "k8s:user:jane@example.com"), "type"), Value::Str("human"));
    // Labels through the mapping: service and tier.
    assert!(has_edge(g, sa, "supports", "service:payments"));
    assert_eq!(g.attr_by_name(node(g, "service:payments"), "tier"), Value::Int(0));
    let secret_reader = node(g, "k8s:role:payments/secret-reader");
    assert_eq!(
        g.attr_by_name(secret_reader, "actions").to_string(),
        r#"["get secrets", "list secrets", "watch secrets"]"#
    );
    // The IRSA role and the owner are not loaded: the edges are skipped with warnings.
    let unresolved: Vec<_> =
        loaded.diagnostics.iter().filter(|d| d.code != gov::Code::MissingField).collect();
    assert_eq!(unresolved.len(), 2, "{:?}", loaded.diagnostics);
    assert!(unresolved.iter().all(|d| d.code == gov::Code::UnresolvedEdge));
    let label = g.edge_label(g.out_edges(node(g, sa), g.schema().edge_kind("grants").unwrap())[0]);
    assert_eq!(label, Some("RoleBinding/payments/payments-api-reads-secrets"));
}

#[test]
fn k8s_irsa_links_to_the_aws_role_when_both_are_loaded() {
    let mut inv =
        convert(Format::AwsAuthz, realdata("aws_authz_details__cloudsplaining_example.json"));
    inv.extend(convert(Format::K8s, fixture("k8s_rbac.json")));
    let loaded = load(&inv);
    let g = &loaded.graph;
    assert!(has_edge(
        g,
        "k8s:serviceaccount:payments/payments-api",
        "assumes",
        "arn:aws:iam::200611803367:role/AWS-QuickSetup-StackSet-Local-ExecutionRole"
    ));
    assert!(has_edge(
        g,
        "k8s:serviceaccount:payments/payments-api",
        "owned_by",
        "arn:aws:iam::200611803367:user/privesc-sre-user"
    ));
    // Only the fixture's subject without a namespace is reported.
    assert!(
        loaded.diagnostics.iter().all(|d| d.code == gov::Code::MissingField),
        "{:?}",
        loaded.diagnostics
    );
}

#[test]
fn k8s_single_kind_list() {
    let inv = convert(Format::K8s, fixture("k8s_serviceaccounts.json"));
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    let g = &load(&inv).graph;
    assert_eq!(count(g, "identity"), 2);
    assert!(has_edge(
        g,
        "k8s:serviceaccount:ci/deployer",
        "has_credential",
        "k8s:secret:ci/deployer-token-7xk2p"
    ));
}

fn githound() -> Inventory {
    let src =
        ingest::read_source(&realdata("opengraph_github__githound_O_kgDOCoV2OQ.json")).unwrap();
    ingest::opengraph::convert(&[src], &Mapping::default())
}

#[test]
fn opengraph_github_real_sample() {
    let inv = githound();
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    assert_eq!(inv.nodes.len(), 338);
    assert_eq!(inv.edges.len(), 2763);
    let loaded = load(&inv);
    let g = &loaded.graph;
    assert_eq!(g.node_count(), 338);
    // Two GH_HasEnvironment edges start at nodes that are not in the sample:
    // they are skipped with a warning each, never silently.
    assert_eq!(g.edge_count(), 2761);
    assert_eq!(loaded.diagnostics.len(), 2);
    assert!(loaded.diagnostics.iter().all(|d| d.code == gov::Code::UnresolvedEdge));
    assert_eq!(count_where(g, "identity", "type", "human"), 13);
    assert_eq!(count_where(g, "credential", "type", "personal_access_token"), 6);
    assert_eq!(count_where(g, "credential", "type", "secret"), 11);
    assert_eq!(count(g, "group"), 8);
    // Personal access tokens: expiry, last use, owner.
    let pat = node(g, "GH_PAT_O_kgDOCoV2OQ_1250276");
    assert_eq!(g.attr_by_name(pat, "expires_at").to_string(), "\"2026-04-13T04:46:10Z\"");
    assert_eq!(g.attr_by_name(pat, "last_used_at").to_string(), "\"2026-03-14T04:47:54Z\"");
    assert_eq!(g.attr_by_name(pat, "name"), Value::Str("TestTest"));
    let no_expiry = node(g, "GH_PAT_O_kgDOCoV2OQ_1167164");
    assert!(
        g.attr_by_name(no_expiry, "expires_at").is_missing(),
        "an empty token_expires_at means no expiry"
    );
    assert_eq!(g.attr_by_name(no_expiry, "token_expired"), Value::Bool(true));
    assert!(has_edge(g, "MDQ6VXNlcjEzMjc4MjEw", "has_credential", "GH_PAT_O_kgDOCoV2OQ_1250276"));
    assert!(has_edge(g, "U_kgDOD64CFw", "has_credential", "GH_PAT_O_kgDOCoV2OQ_1167164"));
    // Unmapped relations keep their name as the edge label.
    let c = g.out_edges(pat, g.schema().edge_kind("can_access").unwrap());
    assert!(c.iter().all(|e| g.edge_label(*e) == Some("GH_CanAccess")));
    assert!(!c.is_empty());
    // Properties outside the schema are declared by the inventory with inferred types.
    let org = node(g, "O_kgDOCoV2OQ");
    assert_eq!(g.attr_by_name(org, "source_type"), Value::Str("Organization"));
    assert_eq!(g.attr_by_name(org, "type"), Value::Str("organization"));
    assert_eq!(g.attr_by_name(org, "is_verified"), Value::Bool(true));
    assert_eq!(g.attr_by_name(org, "updated_at").to_string(), "\"2026-03-10T22:06:10Z\"");
}

#[test]
fn opengraph_saml_sample_links_to_github_users() {
    let saml =
        ingest::read_source(&realdata("opengraph_github_saml__githound_saml_O_kgDOCoV2OQ.json"))
            .unwrap();
    // Alone: its ends in the main payload and in Okta are not loaded.
    let alone = ingest::opengraph::convert(std::slice::from_ref(&saml), &Mapping::default());
    assert_eq!((alone.nodes.len(), alone.edges.len()), (2, 5));
    let loaded = load(&alone);
    assert_eq!(loaded.graph.edge_count(), 1);
    assert_eq!(loaded.diagnostics.len(), 4);
    // With the main payload: the external identity maps to the GitHub user.
    let main =
        ingest::read_source(&realdata("opengraph_github__githound_O_kgDOCoV2OQ.json")).unwrap();
    let both = ingest::opengraph::convert(&[main, saml], &Mapping::default());
    let loaded = load(&both);
    let g = &loaded.graph;
    assert_eq!(g.node_count(), 340);
    assert!(has_edge(g, "EI_lAHOCoV2Oc2WFs4CbGNd", "assumes", "MDQ6VXNlcjEzMjc4MjEw"));
    assert!(has_edge(g, "O_kgDOCoV2OQ", "can_access", "OIP_kwDOCoV2Oc2WFg"));
    let ei = node(g, "EI_lAHOCoV2Oc2WFs4CbGNd");
    assert_eq!(g.attr_by_name(ei, "saml_identity_username"), Value::Str("jatkinson@specterops.io"));
    // The Okta end (matched by name) is not loaded: two warnings, plus the two of the main sample.
    assert_eq!(loaded.diagnostics.len(), 4);
}
