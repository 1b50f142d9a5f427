//! The adapters read exports faithfully: each record becomes nodes and edges
//! or a located diagnostic, and what the export grants is what the graph
//! says. Counts are computed here from the raw files with plain serde_json
//! and csv, independently of the adapters' own code; the cases that no
//! public sample holds are built in the test, following the documented
//! export formats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use gov::graph::{Graph, Mode, Schema, Value};
use gov::ingest::{self, Format, Inventory, Mapping};
use gov::{Code, Severity, SourceFile};
use serde_json::{Value as Json, json};

fn realdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name)
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest").join(name)
}

fn source(name: &str, text: String) -> Arc<SourceFile> {
    SourceFile::new(name.to_owned(), text)
}

fn convert(format: Format, name: &str, text: String) -> Inventory {
    ingest::convert(format, source(name, text), &Mapping::default())
}

fn load(inv: &Inventory, mode: Mode) -> gov::graph::Loaded {
    let mut b = gov::graph::GraphBuilder::new(Schema::builtin());
    inv.load_into(&mut b);
    match b.finish(mode) {
        Ok(l) => l,
        Err(d) => panic!("{:#?}", d.iter().map(|d| d.message.clone()).collect::<Vec<_>>()),
    }
}

fn attr<'g>(g: &'g Graph, id: &str, name: &str) -> Value<'g> {
    g.attr_by_name(g.lookup(id).unwrap_or_else(|| panic!("no node `{id}`")), name)
}

fn strs(v: Value<'_>) -> Vec<String> {
    match v {
        Value::List(items) => items.iter().map(|i| i.as_str().unwrap().to_owned()).collect(),
        Value::Missing => Vec::new(),
        other => panic!("not a list: {other:?}"),
    }
}

fn has_edge(g: &Graph, from: &str, kind: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (g.lookup(from), g.lookup(to)) else { return false };
    g.out(a, g.schema().edge_kind(kind).unwrap()).contains(&b)
}

// ---------------------------------------------------------------- Kubernetes

/// What `kubectl get clusterroles,clusterrolebindings -o json` prints for a
/// wildcard cluster role bound to a CI service account, and a namespaced
/// binding whose service account subject leaves out its namespace.
fn rbac_without_service_accounts() -> String {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "everything", "uid": "c1"},
             "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                       {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "event-reader", "uid": "c2"},
             "rules": [{"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["get", "list"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "ci-everything", "uid": "b1"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "everything"},
             "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": "read-events", "namespace": "monitoring", "uid": "b2"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "event-reader"},
             "subjects": [{"kind": "ServiceAccount", "name": "scraper"}]}
        ]
    })
    .to_string()
}

#[test]
fn k8s_service_accounts_named_only_by_a_binding_are_identities() {
    let inv = convert(Format::K8s, "rbac.json", rbac_without_service_accounts());
    let loaded = load(&inv, Mode::Strict);
    let g = &loaded.graph;
    let deployer = "k8s:serviceaccount:ci/deployer";
    assert_eq!(attr(g, deployer, "type"), Value::Str("service_account"));
    assert_eq!(attr(g, deployer, "namespace"), Value::Str("ci"));
    assert_eq!(attr(g, deployer, "inferred"), Value::Bool(true));
    assert!(has_edge(g, deployer, "grants", "k8s:clusterrole:everything"));
    // A RoleBinding subject without a namespace takes the binding's, with a warning.
    let scraper = "k8s:serviceaccount:monitoring/scraper";
    assert!(has_edge(g, scraper, "grants", "k8s:clusterrole:event-reader"));
    let warned: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning && d.message.contains("`scraper`"))
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", loaded.diagnostics);
    assert!(warned[0].message.contains("`monitoring`"));
    // No edge was dropped: both bindings resolve.
    assert!(loaded.diagnostics.iter().all(|d| d.code != Code::UnresolvedEdge));
}

#[test]
fn a_service_accounts_own_record_replaces_the_inferred_one() {
    let accounts = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "deployer", "namespace": "ci", "uid": "sa-1",
                      "creationTimestamp": "2025-01-02T03:04:05Z"}}]})
    .to_string();
    // In either order, one node, with the account's own attributes and no `inferred`.
    for order in [[0, 1], [1, 0]] {
        let files = [
            convert(Format::K8s, "rbac.json", rbac_without_service_accounts()),
            convert(Format::K8s, "sa.json", accounts.clone()),
        ];
        let mut inv = Inventory::new();
        let [a, b] = files;
        let (first, second) = if order[0] == 0 { (a, b) } else { (b, a) };
        inv.extend(first);
        inv.extend(second);
        let loaded = load(&inv, Mode::Strict);
        let g = &loaded.graph;
        let id = "k8s:serviceaccount:ci/deployer";
        assert!(attr(g, id, "inferred").is_missing(), "order {order:?}");
        assert_eq!(attr(g, id, "external_id"), Value::Str("sa-1"));
        assert!(has_edge(g, id, "grants", "k8s:clusterrole:everything"));
        assert!(loaded.diagnostics.iter().all(|d| d.code != Code::ConflictingValue));
    }
}

#[test]
fn k8s_rules_grant_every_api_group_and_spell_full_control_one_way() {
    let inv = convert(Format::K8s, "rbac.json", rbac_without_service_accounts());
    let g = &load(&inv, Mode::Strict).graph;
    assert_eq!(
        strs(attr(g, "k8s:clusterrole:event-reader", "actions")),
        ["get events", "get events.k8s.io/events", "list events", "list events.k8s.io/events"]
    );
    assert_eq!(strs(attr(g, "k8s:clusterrole:everything", "actions")), ["* */*", "* /*"]);
    assert_eq!(attr(g, "k8s:clusterrole:everything", "privileged"), Value::Bool(true));
    // The standard library's list of full-control actions uses the same spelling.
    let common =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/common.gov"))
            .unwrap();
    assert!(common.contains(r#"const admin_actions = ["*", "*:*", "iam:*", "* */*"]"#));
}

fn gov_eval_findings(policies: &str, inventory: &Path) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(["eval", policies, "-i"])
        .arg(inventory)
        .args(["--now", "2026-12-01T00:00:00Z", "--format", "json", "--fail-on", "never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_owned(), f["entity"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn gov_eval_flags_a_service_account_bound_to_a_wildcard_cluster_role() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rbac.json");
    std::fs::write(&path, rbac_without_service_accounts()).unwrap();
    let findings = gov_eval_findings("policies/", &path);
    let admin: Vec<_> = findings.iter().filter(|(r, _)| r == "no-admin-on-nhi").collect();
    assert_eq!(
        admin,
        [&("no-admin-on-nhi".to_owned(), "k8s:serviceaccount:ci/deployer".to_owned())],
        "{findings:?}"
    );
}

// ----------------------------------------------------------------------- AWS

fn cloudsplaining() -> Json {
    let text = std::fs::read_to_string(realdata("aws_authz_details__cloudsplaining_example.json"))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn aws(doc: &Json) -> Inventory {
    convert(Format::AwsAuthz, "authz.json", doc.to_string())
}

#[test]
fn aws_not_action_grants_are_broad_privilege() {
    let inv = aws(&cloudsplaining());
    let g = &load(&inv, Mode::Strict).graph;
    let power = "arn:aws:iam::aws:policy/PowerUserAccess";
    assert_eq!(strs(attr(g, power, "not_actions")), ["account:*", "iam:*", "organizations:*"]);
    assert_eq!(attr(g, power, "privileged"), Value::Bool(true));
    assert!(strs(attr(g, power, "actions")).contains(&"iam:CreateServiceLinkedRole".to_owned()));
    let exploitable = "arn:aws:iam::200611803367:policy/fn4-exploitableNotAction";
    assert_eq!(
        strs(attr(g, exploitable, "not_actions")),
        ["iam:Attach*", "iam:Create*", "iam:Update*"]
    );
    assert_eq!(attr(g, exploitable, "privileged"), Value::Bool(true));
}

#[test]
fn aws_conditions_stay_as_data() {
    let doc = cloudsplaining();
    // Independently: every default policy version with a conditional Allow.
    let mut expected = BTreeSet::new();
    for p in doc["Policies"].as_array().unwrap() {
        for v in p["PolicyVersionList"].as_array().unwrap() {
            if v["IsDefaultVersion"] != json!(true) {
                continue;
            }
            let st = &v["Document"]["Statement"];
            let list = st.as_array().cloned().unwrap_or_else(|| vec![st.clone()]);
            if list.iter().any(|s| {
                s["Effect"] == "Allow" && s["Condition"].as_object().is_some_and(|c| !c.is_empty())
            }) {
                expected.insert(p["Arn"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(!expected.is_empty(), "the sample has conditional grants");
    let g = &load(&aws(&doc), Mode::Strict).graph;
    let role = g.schema().kind("role").unwrap();
    let got: BTreeSet<String> = g
        .nodes_of_kind(role)
        .iter()
        .filter(|n| !g.id(**n).contains("#inline/"))
        .filter(|n| !strs(g.attr_by_name(**n, "conditions")).is_empty())
        .map(|n| g.id(*n).to_owned())
        .collect();
    assert_eq!(got, expected);
    for arn in &expected {
        let conditions = strs(attr(g, arn, "conditions"));
        assert!(
            conditions.iter().all(|c| serde_json::from_str::<Json>(c).is_ok()),
            "{conditions:?}"
        );
        assert!(!strs(attr(g, arn, "conditional_actions")).is_empty(), "{arn}");
    }
}

#[test]
fn aws_permissions_boundaries_are_recorded() {
    let mut doc = cloudsplaining();
    let user = &mut doc["UserDetailList"][0];
    let arn = user["Arn"].as_str().unwrap().to_owned();
    user["PermissionsBoundary"] = json!({
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": "arn:aws:iam::200611803367:policy/boundary"
    });
    let g = &load(&aws(&doc), Mode::Strict).graph;
    assert_eq!(
        attr(g, &arn, "permissions_boundary"),
        Value::Str("arn:aws:iam::200611803367:policy/boundary")
    );
}

#[test]
fn power_user_access_on_a_non_human_identity_is_reported() {
    let mut doc = cloudsplaining();
    // A role that a service assumes is a workload's; give it PowerUserAccess.
    let roles = doc["RoleDetailList"].as_array_mut().unwrap();
    let role = roles
        .iter_mut()
        .find(|r| {
            let trust = r["AssumeRolePolicyDocument"].to_string();
            trust.contains("\"Service\"")
                && r["AttachedManagedPolicies"].as_array().unwrap().is_empty()
        })
        .expect("a service role without attached policies");
    let arn = role["Arn"].as_str().unwrap().to_owned();
    role["AttachedManagedPolicies"] = json!([{
        "PolicyName": "PowerUserAccess",
        "PolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"
    }]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authz.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let findings = gov_eval_findings("policies/", &path);
    assert!(
        findings.contains(&("no-admin-on-nhi".to_owned(), arn.clone())),
        "{arn} not flagged: {:?}",
        findings.iter().filter(|(r, _)| r == "no-admin-on-nhi").collect::<Vec<_>>()
    );
}

// ----------------------------------------------------------------- OpenGraph

fn opengraph(name: &str, doc: &Json) -> Inventory {
    ingest::opengraph::convert(&[source(name, doc.to_string())], &Mapping::default())
}

#[test]
fn an_edge_to_a_rejected_node_says_the_node_was_rejected() {
    let doc = json!({"graph": {
        "nodes": [
            {"id": "u1", "kinds": ["GH_User"], "properties": {"name": "alice"}},
            {"id": "x1", "kinds": ["Jira_Board"], "properties": {"name": "board"}}
        ],
        "edges": [{"kind": "GH_CanAccess", "start": {"value": "u1"}, "end": {"value": "x1"}}]
    }});
    let inv = opengraph("og.json", &doc);
    let unknown: Vec<_> = inv.diags.iter().filter(|d| d.code == Code::UnknownKind).collect();
    assert_eq!(unknown.len(), 1);
    let edge: Vec<_> = inv.diags.iter().filter(|d| d.code == Code::UnresolvedEdge).collect();
    assert_eq!(edge.len(), 1, "{:?}", inv.diags);
    assert!(edge[0].message.contains("target `x1` was rejected"), "{}", edge[0].message);
    assert!(edge[0].message.contains("`Jira_Board`"), "{}", edge[0].message);
    // The loader does not add a second, misleading "not in the loaded inventories".
    let loaded = load(&inv, Mode::Lenient);
    assert!(
        loaded.diagnostics.iter().all(|d| !d.message.contains("in the loaded inventories")),
        "{:?}",
        loaded.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

#[test]
fn a_repeated_opengraph_node_merges_and_warns_on_conflicts() {
    let doc = json!({"graph": {
        "nodes": [
            {"id": "u1", "kinds": ["GH_User"], "properties": {"name": "alice", "email": "a@x"}},
            {"id": "u1", "kinds": ["GH_User"], "properties": {"name": "alice2", "company": "x"}}
        ],
        "edges": []
    }});
    let inv = opengraph("og.json", &doc);
    assert_eq!(inv.nodes.len(), 1);
    let conflicts: Vec<_> = inv.diags.iter().filter(|d| d.code == Code::ConflictingValue).collect();
    assert_eq!(conflicts.len(), 1, "{:?}", inv.diags);
    let g = &load(&inv, Mode::Strict).graph;
    assert_eq!(attr(g, "u1", "name"), Value::Str("alice"), "the first record wins");
    assert_eq!(attr(g, "u1", "company"), Value::Str("x"), "missing values are filled");
    // The same id under two schema kinds is a duplicate.
    let doc = json!({"graph": {"nodes": [
        {"id": "n", "kinds": ["GH_User"], "properties": {}},
        {"id": "n", "kinds": ["GH_Team"], "properties": {}}
    ], "edges": []}});
    let mut b = gov::graph::GraphBuilder::new(Schema::builtin());
    opengraph("og.json", &doc).load_into(&mut b);
    let err = b.finish(Mode::Strict).err().expect("duplicate ids fail a strict load");
    assert!(err.iter().any(|d| d.code == Code::DuplicateId));
}

// -------------------------------------------- counts, independent of adapters

/// Nodes and edges of the graph by where they came from.
fn nodes_of(g: &Graph, kind: &str) -> BTreeSet<String> {
    g.nodes_of_kind(g.schema().kind(kind).unwrap()).iter().map(|n| g.id(*n).to_owned()).collect()
}

#[test]
fn aws_authz_counts_match_the_raw_export() {
    let doc = cloudsplaining();
    let list = |k: &str| doc[k].as_array().unwrap().clone();
    let (users, roles, groups, policies) =
        (list("UserDetailList"), list("RoleDetailList"), list("GroupDetailList"), list("Policies"));
    let inv = aws(&doc);
    let summary = inv.summary(&inv.diags);
    assert_eq!(
        summary[0].records as usize,
        users.len() + roles.len() + groups.len() + policies.len()
    );
    let loaded = load(&inv, Mode::Strict);
    let g = &loaded.graph;
    let idents = nodes_of(g, "identity");
    for p in users.iter().chain(&roles) {
        assert!(idents.contains(p["Arn"].as_str().unwrap()));
    }
    let expected_groups: BTreeSet<String> =
        groups.iter().map(|p| p["Arn"].as_str().unwrap().to_owned()).collect();
    assert_eq!(nodes_of(g, "group"), expected_groups);
    // Entitlements: every managed policy, every inline policy.
    let mut expected_roles: BTreeSet<String> =
        policies.iter().map(|p| p["Arn"].as_str().unwrap().to_owned()).collect();
    let mut grants = 0;
    let mut member_of = 0;
    for (p, inline_key) in users
        .iter()
        .map(|p| (p, "UserPolicyList"))
        .chain(roles.iter().map(|p| (p, "RolePolicyList")))
        .chain(groups.iter().map(|p| (p, "GroupPolicyList")))
    {
        let arn = p["Arn"].as_str().unwrap();
        for i in p[inline_key].as_array().into_iter().flatten() {
            expected_roles.insert(format!("{arn}#inline/{}", i["PolicyName"].as_str().unwrap()));
            grants += 1;
        }
        grants += p["AttachedManagedPolicies"].as_array().map_or(0, Vec::len);
        member_of += p["GroupList"].as_array().map_or(0, Vec::len);
    }
    assert_eq!(nodes_of(g, "role"), expected_roles);
    let count = |kind: &str| {
        let k = g.schema().edge_kind(kind).unwrap();
        g.nodes().map(|n| g.out(n, k).len()).sum::<usize>()
    };
    assert_eq!(count("grants"), grants);
    assert_eq!(count("member_of"), member_of);
    // Every identity that is not a user or role of the export is a trust
    // policy's principal, and says so.
    let own: BTreeSet<&str> =
        users.iter().chain(&roles).map(|p| p["Arn"].as_str().unwrap()).collect();
    for id in idents.iter().filter(|i| !own.contains(i.as_str())) {
        assert_eq!(attr(g, id, "inferred"), Value::Bool(true), "{id}");
    }
    assert!(loaded.diagnostics.is_empty());
}

#[test]
fn credential_report_counts_match_the_raw_csv() {
    let path = fixture("credential_report.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    // A key or certificate exists when it is active or was ever rotated.
    let mut creds = 0;
    for r in &rows {
        for (active, rotated) in [
            ("access_key_1_active", "access_key_1_last_rotated"),
            ("access_key_2_active", "access_key_2_last_rotated"),
            ("cert_1_active", "cert_1_last_rotated"),
            ("cert_2_active", "cert_2_last_rotated"),
        ] {
            if r[col(active)].eq_ignore_ascii_case("true") || r[col(rotated)] != *"N/A" {
                creds += 1;
            }
        }
    }
    let inv = convert(Format::AwsCredentialReport, "report.csv", text.clone());
    let summary = inv.summary(&inv.diags);
    assert_eq!(summary[0].records as usize, rows.len());
    let g = &load(&inv, Mode::Strict).graph;
    assert_eq!(nodes_of(g, "identity").len(), rows.len());
    assert_eq!(nodes_of(g, "credential").len(), creds);
    for r in &rows {
        assert!(g.lookup(&r[col("arn")]).is_some());
    }
}

#[test]
fn k8s_counts_match_the_raw_list() {
    let text = std::fs::read_to_string(fixture("k8s_rbac.json")).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let items = doc["items"].as_array().unwrap();
    let of = |k: &'static str| items.iter().filter(move |i| i["kind"] == k);
    let mut subjects = 0;
    let mut accounts: BTreeSet<String> = of("ServiceAccount")
        .map(|i| {
            format!(
                "k8s:serviceaccount:{}/{}",
                i["metadata"]["namespace"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    for b in of("RoleBinding").chain(of("ClusterRoleBinding")) {
        for s in b["subjects"].as_array().into_iter().flatten() {
            subjects += 1;
            if s["kind"] == "ServiceAccount" {
                let ns = s["namespace"].as_str().or(b["metadata"]["namespace"].as_str()).unwrap();
                accounts.insert(format!("k8s:serviceaccount:{ns}/{}", s["name"].as_str().unwrap()));
            }
        }
    }
    let inv = convert(Format::K8s, "k8s_rbac.json", text.clone());
    assert_eq!(inv.summary(&inv.diags)[0].records as usize, items.len());
    let loaded = load(&inv, Mode::Lenient);
    let g = &loaded.graph;
    let roles = of("Role").count() + of("ClusterRole").count();
    assert_eq!(nodes_of(g, "role").len(), roles);
    let sa: BTreeSet<String> = nodes_of(g, "identity")
        .into_iter()
        .filter(|i| i.starts_with("k8s:serviceaccount:"))
        .collect();
    assert_eq!(sa, accounts);
    // Every subject is a `grants` edge, loaded or reported.
    let k = g.schema().edge_kind("grants").unwrap();
    let loaded_grants: usize = g.nodes().map(|n| g.out(n, k).len()).sum();
    let reported = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnresolvedEdge && d.message.contains("`grants`"))
        .count();
    assert_eq!(loaded_grants + reported, subjects);
}

#[test]
fn opengraph_counts_match_the_raw_payload() {
    let path = realdata("opengraph_github__githound_O_kgDOCoV2OQ.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let nodes = doc["graph"]["nodes"].as_array().unwrap();
    let edges = doc["graph"]["edges"].as_array().unwrap();
    let ids: BTreeSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let dangling = edges
        .iter()
        .filter(|e| {
            !ids.contains(e["start"]["value"].as_str().unwrap())
                || !ids.contains(e["end"]["value"].as_str().unwrap())
        })
        .count();
    let inv = opengraph("githound.json", &doc);
    assert_eq!(inv.summary(&inv.diags)[0].records as usize, nodes.len() + edges.len());
    let loaded = load(&inv, Mode::Strict);
    assert_eq!(loaded.graph.node_count(), ids.len());
    assert_eq!(loaded.graph.edge_count(), edges.len() - dangling);
    let reported = loaded.diagnostics.iter().filter(|d| d.code == Code::UnresolvedEdge).count();
    assert_eq!(reported, dangling, "every edge left out is reported");
}

#[test]
fn gov_ingest_ends_with_a_summary_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let rbac = dir.path().join("rbac.json");
    std::fs::write(&rbac, rbac_without_service_accounts()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gov"))
        .args(["ingest", "--lenient", "-o"])
        .arg(dir.path().join("out.json"))
        .arg(&rbac)
        .arg(realdata("opengraph_github__githound_O_kgDOCoV2OQ.json"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rbac.json: 4 records read, 4 nodes, 2 edges"), "{err}");
    assert!(
        err.contains(
            "opengraph_github__githound_O_kgDOCoV2OQ.json: 3101 records read, 338 nodes, 2763 edges"
        ),
        "{err}"
    );
    assert!(err.contains("    2 gov::ingest::unresolved_edge (warnings)"), "{err}");
    assert!(err.contains("    1 gov::ingest::missing_field (warning)"), "{err}");
}
