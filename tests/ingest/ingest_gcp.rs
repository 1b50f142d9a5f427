//! The `gcp` adapter on real, public exports (`tests/fixtures/gcp/`, from
//! gcpdiag) and on minimal samples of what no public repository holds
//! (service-account key lists, conditional bindings), written here to
//! Google's REST reference (`ServiceAccountKey`, `Policy`, `Binding`, `Expr`).
//! Expected counts come from plain `serde_json` over the raw files, not from
//! the adapter's code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gov::diag::{Code, Severity};
use gov::graph::{Graph, Input, Value};
use gov::ingest::{self, Format, Inventory, LoadOptions, Mapping};
use gov::source::SourceFile;
use serde_json::Value as Json;

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gcp").join(dir)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gov-gcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn convert_text(name: &str, text: &str) -> Inventory {
    ingest::convert(Format::Gcp, SourceFile::new(name, text), &Mapping::default())
}

use cli_support::gov;

fn attr<'g>(g: &'g Graph, id: &str, name: &str) -> Value<'g> {
    let n = g.lookup(id).unwrap_or_else(|| panic!("no node `{id}`"));
    g.attr(n, g.schema().attr(g.kind(n), name).unwrap())
}

fn kind_count(g: &Graph, kind: &str) -> usize {
    g.nodes_of_kind(g.schema().kind(kind).unwrap()).len()
}

fn edge_count(g: &Graph, kind: &str) -> usize {
    let ek = g.schema().edge_kind(kind).unwrap();
    g.nodes().map(|n| g.out(n, ek).len()).sum()
}

fn has_edge(g: &Graph, from: &str, kind: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (g.lookup(from), g.lookup(to)) else { return false };
    g.out(a, g.schema().edge_kind(kind).unwrap()).contains(&b)
}

/// What the raw files say the graph must hold, by independent reading.
#[derive(Default, Debug)]
struct Expected {
    /// Node id -> kind.
    nodes: BTreeMap<String, &'static str>,
    /// Service accounts that have their own record.
    listed: BTreeSet<String>,
    /// (member id, role node id).
    grants: BTreeSet<(String, String)>,
    grant_count: usize,
    keys: usize,
}

fn expect_from(files: &[PathBuf]) -> Expected {
    let mut x = Expected::default();
    for f in files {
        let doc: Json = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let items: Vec<Json> = match &doc {
            Json::Array(a) => a.clone(),
            Json::Object(o) if o.contains_key("accounts") => {
                o["accounts"].as_array().unwrap().clone()
            }
            Json::Object(o) if o.contains_key("keys") => o["keys"].as_array().unwrap().clone(),
            _ => Vec::new(),
        };
        for b in doc.get("bindings").and_then(Json::as_array).into_iter().flatten() {
            let role = b["role"].as_str().unwrap();
            let role_id = match b.get("condition") {
                Some(c) => format!("gcp:role:{role} if {}", c["expression"].as_str().unwrap()),
                None => format!("gcp:role:{role}"),
            };
            x.nodes.insert(role_id.clone(), "role");
            for m in b["members"].as_array().unwrap() {
                let m = m.as_str().unwrap();
                let inner = m.strip_prefix("deleted:").unwrap_or(m);
                let kind = if inner.starts_with("serviceAccount:")
                    || inner.starts_with("user:")
                    || inner.starts_with("principal:")
                {
                    "identity"
                } else {
                    "group"
                };
                x.nodes.insert(format!("gcp:{m}"), kind);
                x.grants.insert((format!("gcp:{m}"), role_id.clone()));
                x.grant_count += 1;
            }
        }
        for it in items {
            if let Some(email) = it.get("email").and_then(Json::as_str) {
                let id = format!("gcp:serviceAccount:{email}");
                x.nodes.insert(id.clone(), "identity");
                x.listed.insert(id);
            } else {
                let name = it["name"].as_str().unwrap();
                let parts: Vec<&str> = name.split('/').collect();
                x.nodes.insert(format!("gcp:serviceAccount:{}", parts[3]), "identity");
                x.nodes.insert(format!("gcp:key:{}/{}", parts[3], parts[5]), "credential");
                x.keys += 1;
            }
        }
    }
    x
}

fn load_dir(dir: &Path) -> gov::graph::Loaded {
    match ingest::load_paths(&[dir.to_path_buf()], &LoadOptions::default()) {
        Ok(l) => l,
        Err(Ok(d)) => panic!("{:#?}", d.iter().map(|d| d.message.clone()).collect::<Vec<_>>()),
        Err(Err(e)) => panic!("{}", e.0.message),
    }
}

fn check_against_raw(dir: &Path) -> (gov::graph::Loaded, Expected) {
    let loaded = load_dir(dir);
    let x = expect_from(&json_files(dir));
    let g = &loaded.graph;
    for (id, kind) in &x.nodes {
        let n = g.lookup(id).unwrap_or_else(|| panic!("no node `{id}` in {}", dir.display()));
        assert_eq!(g.schema().kind_name(g.kind(n)), *kind, "{id}");
        let inferred = attr(g, id, "inferred");
        let own_record = x.listed.contains(id) || *kind == "role" || *kind == "credential";
        assert_eq!(inferred == Value::Bool(true), !own_record, "`inferred` of {id}");
    }
    for kind in ["identity", "group", "role", "credential"] {
        let want = x.nodes.values().filter(|k| **k == kind).count();
        assert_eq!(kind_count(g, kind), want, "{kind} nodes in {}", dir.display());
    }
    for (m, r) in &x.grants {
        assert!(has_edge(g, m, "grants", r), "{m} -[grants]-> {r}");
    }
    assert_eq!(edge_count(g, "grants"), x.grant_count);
    assert_eq!(edge_count(g, "has_credential"), x.keys);
    (loaded, x)
}

#[test]
fn real_samples_load_and_match_an_independent_count() {
    for dir in ["gke1", "composer1"] {
        let (loaded, x) = check_against_raw(&fixtures(dir));
        assert!(loaded.diagnostics.is_empty(), "{dir}: {:?}", loaded.diagnostics);
        assert!(!x.listed.is_empty() && x.grant_count > 0, "{dir}: the sample is not empty");
    }
    // Figures a reader can check by eye against README.txt.
    let x = expect_from(&json_files(&fixtures("gke1")));
    assert_eq!((x.grant_count, x.listed.len()), (9, 3));
    let x = expect_from(&json_files(&fixtures("composer1")));
    assert_eq!((x.grant_count, x.listed.len()), (12, 2));
}

#[test]
fn real_sample_attributes() {
    let loaded = load_dir(&fixtures("gke1"));
    let g = &loaded.graph;
    let compute = "gcp:serviceAccount:12340002-compute@developer.gserviceaccount.com";
    assert_eq!(attr(g, compute, "type"), Value::Str("service_account"));
    assert_eq!(attr(g, compute, "active"), Value::Bool(true));
    assert_eq!(attr(g, compute, "namespace"), Value::Str("gcpdiag-gke1-aaaa"));
    assert_eq!(attr(g, compute, "external_id"), Value::Str("104895434383649428040"));
    assert_eq!(
        attr(g, compute, "email"),
        Value::Str("12340002-compute@developer.gserviceaccount.com")
    );
    // Google's own service agents are not the organisation's service accounts.
    let agent = "gcp:serviceAccount:12340002@cloudservices.gserviceaccount.com";
    assert_eq!(attr(g, agent, "type"), Value::Str("service_agent"));
    assert_eq!(
        attr(
            g,
            "gcp:serviceAccount:service-12340002@compute-system.iam.gserviceaccount.com",
            "type"
        ),
        Value::Str("service_agent")
    );
    assert_eq!(attr(g, "gcp:user:testuser@example.com", "type"), Value::Str("human"));
    for (role, privileged, managed) in [
        ("roles/owner", true, true),
        ("roles/editor", true, true),
        ("roles/pubsub.serviceAgent", false, true),
        ("projects/gcpdiag-gke1-aaaa/roles/gke2_custom_role", false, false),
    ] {
        let id = format!("gcp:role:{role}");
        assert_eq!(attr(g, &id, "privileged"), Value::Bool(privileged), "{role}");
        assert_eq!(attr(g, &id, "managed"), Value::Bool(managed), "{role}");
        assert_eq!(attr(g, &id, "external_id"), Value::Str(role));
    }
    // Grants are labelled with the policy file (the export has no project id).
    let inv = ingest::convert(
        Format::Gcp,
        ingest::read_source(&fixtures("gke1").join("iam-policy.json")).unwrap(),
        &Mapping::default(),
    );
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    assert!(inv.edges.iter().all(|e| e.label.as_deref() == Some("iam-policy.json")));
}

#[test]
fn an_account_record_replaces_the_inferred_member_in_either_order() {
    let dir = fixtures("composer1");
    let files = json_files(&dir);
    for order in [files.clone(), files.iter().rev().cloned().collect()] {
        let sources = order.iter().map(|f| ingest::read_source(f).unwrap()).collect();
        let loaded = ingest::load_sources(sources, &LoadOptions::default()).unwrap();
        let g = &loaded.graph;
        let id = "gcp:serviceAccount:env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com";
        assert_eq!(attr(g, id, "inferred"), Value::Missing);
        assert_eq!(attr(g, id, "external_id"), Value::Str("102376921990513050343"));
        assert!(has_edge(g, id, "grants", "gcp:role:roles/composer.worker"));
    }
}

#[test]
fn gcloud_arrays_and_rest_lists_read_alike() {
    let rest = std::fs::read_to_string(fixtures("gke1").join("iam-service-accounts.json")).unwrap();
    let doc: Json = serde_json::from_str(&rest).unwrap();
    // What `gcloud iam service-accounts list --format=json` prints.
    let array = serde_json::to_string_pretty(&doc["accounts"]).unwrap();
    let a = convert_text("rest.json", &rest);
    let b = convert_text("gcloud.json", &array);
    assert!(a.diags.is_empty() && b.diags.is_empty());
    assert_eq!(a.nodes.len(), 3);
    let strip = |inv: &Inventory| -> Vec<_> {
        inv.nodes.iter().map(|n| (n.id.clone(), n.kind.clone(), n.attrs.clone())).collect()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_eq!(ingest::detect::detect("gcloud.json", &array), Some(Format::Gcp));
    assert_eq!(ingest::detect::detect("rest.json", &rest), Some(Format::Gcp));
    assert_eq!(ingest::detect::detect("empty.json", "[]\n"), Some(Format::Gcp));
}

/// `gcloud iam service-accounts keys list --iam-account env2sa@... --format=json`
/// for an account of the composer1 sample: an old user-managed key, a recent
/// one with an expiry, Google's current system-managed key, a disabled key.
const KEYS_ENV2SA: &str = r#"[
  {
    "keyAlgorithm": "KEY_ALG_RSA_2048",
    "keyOrigin": "GOOGLE_PROVIDED",
    "keyType": "USER_MANAGED",
    "name": "projects/gcpdiag-composer1-aaaa/serviceAccounts/env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/keys/3f1c9a7e5b2d4c6a8e0f1a2b3c4d5e6f7a8b9c0d",
    "validAfterTime": "2025-01-10T08:00:00Z",
    "validBeforeTime": "9999-12-31T23:59:59Z"
  },
  {
    "keyAlgorithm": "KEY_ALG_RSA_2048",
    "keyOrigin": "USER_PROVIDED",
    "keyType": "USER_MANAGED",
    "name": "projects/gcpdiag-composer1-aaaa/serviceAccounts/env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/keys/7d2e8f4a6c1b3e5d7f9a0b2c4d6e8f0a1b3c5d7e",
    "validAfterTime": "2026-11-01T09:30:00Z",
    "validBeforeTime": "2027-01-30T09:30:00Z"
  },
  {
    "keyAlgorithm": "KEY_ALG_RSA_2048",
    "keyOrigin": "GOOGLE_PROVIDED",
    "keyType": "SYSTEM_MANAGED",
    "name": "projects/gcpdiag-composer1-aaaa/serviceAccounts/env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/keys/0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
    "validAfterTime": "2026-11-12T04:44:38Z",
    "validBeforeTime": "2026-11-29T04:44:38Z"
  },
  {
    "disabled": true,
    "keyAlgorithm": "KEY_ALG_RSA_2048",
    "keyOrigin": "GOOGLE_PROVIDED",
    "keyType": "USER_MANAGED",
    "name": "projects/gcpdiag-composer1-aaaa/serviceAccounts/env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/keys/5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d",
    "validAfterTime": "2023-05-02T11:00:00Z",
    "validBeforeTime": "9999-12-31T23:59:59Z"
  }
]
"#;

/// The REST response (`projects.serviceAccounts.keys.list`) for an account
/// the service-account list does not hold.
const KEYS_DEPLOYER: &str = r#"{
  "keys": [
    {
      "name": "projects/gcpdiag-composer1-aaaa/serviceAccounts/deployer@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/keys/9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b",
      "validAfterTime": "2024-02-20T10:00:00Z",
      "validBeforeTime": "9999-12-31T23:59:59Z",
      "keyAlgorithm": "KEY_ALG_RSA_2048",
      "keyOrigin": "GOOGLE_PROVIDED",
      "keyType": "USER_MANAGED"
    }
  ]
}
"#;

/// A version 3 policy with conditional bindings and every member kind.
const POLICY_V3: &str = r#"{
  "bindings": [
    {
      "condition": {
        "description": "Break-glass access until the end of 2026",
        "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")",
        "title": "break-glass-2026"
      },
      "members": [
        "serviceAccount:deployer@gcpdiag-composer1-aaaa.iam.gserviceaccount.com"
      ],
      "role": "roles/owner"
    },
    {
      "members": [
        "serviceAccount:env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com",
        "user:alice@example.com"
      ],
      "role": "roles/owner"
    },
    {
      "condition": {
        "expression": "resource.name.startsWith(\"projects/_/buckets/logs-\")",
        "title": "log buckets only"
      },
      "members": [
        "allAuthenticatedUsers",
        "deleted:serviceAccount:old-etl@gcpdiag-composer1-aaaa.iam.gserviceaccount.com?uid=123456789012345678901",
        "domain:example.com",
        "group:auditors@example.com",
        "principal://iam.googleapis.com/projects/12340005/locations/global/workloadIdentityPools/gcpdiag-composer1-aaaa.svc.id.goog/subject/ns/etl/sa/runner",
        "principalSet://iam.googleapis.com/locations/global/workforcePools/corp/group/admins"
      ],
      "role": "roles/storage.objectViewer"
    },
    {
      "members": [
        "allUsers"
      ],
      "role": "roles/storage.objectViewer"
    }
  ],
  "etag": "BwYmBmsFodo=",
  "version": 3
}
"#;

/// The real composer1 exports plus the minimal samples, in one directory.
fn composer1_with_keys(name: &str) -> PathBuf {
    let dir = scratch(name);
    for f in json_files(&fixtures("composer1")) {
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("keys-env2sa.json"), KEYS_ENV2SA).unwrap();
    std::fs::write(dir.join("keys-deployer.json"), KEYS_DEPLOYER).unwrap();
    std::fs::write(dir.join("policy-v3.json"), POLICY_V3).unwrap();
    dir
}

#[test]
fn keys_and_conditional_bindings_match_an_independent_count() {
    let dir = composer1_with_keys("count");
    let (loaded, x) = check_against_raw(&dir);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    assert_eq!(x.keys, 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_become_credentials_held_by_their_account() {
    let dir = composer1_with_keys("keys");
    let loaded = load_dir(&dir);
    let g = &loaded.graph;
    let env2sa = "gcp:serviceAccount:env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com";
    let key =
        |id: &str| format!("gcp:key:env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/{id}");
    let old = key("3f1c9a7e5b2d4c6a8e0f1a2b3c4d5e6f7a8b9c0d");
    let system = key("0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b");
    let recent = key("7d2e8f4a6c1b3e5d7f9a0b2c4d6e8f0a1b3c5d7e");
    let disabled = key("5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d");
    for k in [&old, &system, &recent, &disabled] {
        assert!(has_edge(g, env2sa, "has_credential", k), "{k}");
        assert_eq!(attr(g, k, "type"), Value::Str("service_account_key"));
        assert_eq!(attr(g, k, "namespace"), Value::Str("gcpdiag-composer1-aaaa"));
    }
    let t = |s: &str| Value::Time(gov::time::Timestamp::parse(s).unwrap());
    assert_eq!(attr(g, &old, "created_at"), t("2025-01-10T08:00:00Z"));
    assert_eq!(attr(g, &old, "rotated_at"), t("2025-01-10T08:00:00Z"));
    // 9999-12-31T23:59:59Z is how the API says "never expires".
    assert_eq!(attr(g, &old, "expires_at"), Value::Missing);
    assert_eq!(attr(g, &recent, "expires_at"), t("2027-01-30T09:30:00Z"));
    // Google rotates system-managed keys itself.
    assert_eq!(attr(g, &system, "ephemeral"), Value::Bool(true));
    assert_eq!(attr(g, &old, "ephemeral"), Value::Bool(false));
    assert_eq!(attr(g, &old, "active"), Value::Bool(true));
    assert_eq!(attr(g, &disabled, "active"), Value::Bool(false));
    // A key of an account the list does not hold: the account is inferred.
    let deployer = "gcp:serviceAccount:deployer@gcpdiag-composer1-aaaa.iam.gserviceaccount.com";
    assert_eq!(attr(g, deployer, "inferred"), Value::Bool(true));
    assert_eq!(attr(g, deployer, "type"), Value::Str("service_account"));
    assert!(has_edge(
        g,
        deployer,
        "has_credential",
        "gcp:key:deployer@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn conditional_bindings_keep_their_condition() {
    let inv = convert_text("prod-project.json", POLICY_V3);
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    let expr = r#"request.time < timestamp("2027-01-01T00:00:00Z")"#;
    let cond_id = format!("gcp:role:roles/owner if {expr}");
    let cond = inv.node(&cond_id).expect("a node for the conditional binding");
    assert_eq!(cond.get("conditions"), Some(&Input::strs([expr])));
    assert_eq!(cond.get("name"), Some(&Input::str("roles/owner if break-glass-2026")));
    assert_eq!(cond.get("privileged"), Some(&Input::Bool(true)));
    assert_eq!(cond.get("external_id"), Some(&Input::str("roles/owner")));
    // The unconditional binding of the same role is another node, with no condition.
    let plain = inv.node("gcp:role:roles/owner").unwrap();
    assert_eq!(plain.get("conditions"), None);
    let label = |from: &str, to: &str| {
        inv.edges.iter().find(|e| e.from == from && e.to == to).and_then(|e| e.label.clone())
    };
    let deployer = "gcp:serviceAccount:deployer@gcpdiag-composer1-aaaa.iam.gserviceaccount.com";
    assert_eq!(label(deployer, &cond_id).as_deref(), Some("prod-project.json if break-glass-2026"));
    assert_eq!(
        label("gcp:user:alice@example.com", "gcp:role:roles/owner").as_deref(),
        Some("prod-project.json")
    );
    assert_eq!(label(deployer, "gcp:role:roles/owner"), None, "the condition is not dropped");
    // Every member kind is kept.
    let kind = |id: &str| inv.node(id).map(|n| (n.kind.clone(), n.get("type").cloned()));
    let viewer = "gcp:role:roles/storage.objectViewer";
    assert_eq!(kind("gcp:allUsers"), Some(("group".into(), None)));
    assert_eq!(kind("gcp:allAuthenticatedUsers"), Some(("group".into(), None)));
    assert_eq!(kind("gcp:domain:example.com"), Some(("group".into(), None)));
    assert_eq!(kind("gcp:group:auditors@example.com"), Some(("group".into(), None)));
    let wi = "gcp:principal://iam.googleapis.com/projects/12340005/locations/global/workloadIdentityPools/gcpdiag-composer1-aaaa.svc.id.goog/subject/ns/etl/sa/runner";
    assert_eq!(kind(wi), Some(("identity".into(), Some(Input::str("workload")))));
    let deleted = "gcp:deleted:serviceAccount:old-etl@gcpdiag-composer1-aaaa.iam.gserviceaccount.com?uid=123456789012345678901";
    let d = inv.node(deleted).unwrap();
    assert_eq!(d.get("active"), Some(&Input::Bool(false)));
    assert_eq!(
        d.get("email"),
        Some(&Input::str("old-etl@gcpdiag-composer1-aaaa.iam.gserviceaccount.com"))
    );
    assert!(inv.edges.iter().any(|e| e.to == viewer && e.from == "gcp:allUsers"));
}

#[test]
fn the_standard_library_flags_old_keys_and_owners_but_not_google_managed_ones() {
    let dir = composer1_with_keys("eval");
    let o = gov(&[
        "eval",
        "policies/",
        "-i",
        dir.to_str().unwrap(),
        "--now",
        "2026-11-22",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    let found: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "open")
        .map(|f| (f["rule"].as_str().unwrap().to_owned(), f["entity"].as_str().unwrap().to_owned()))
        .collect();
    let has = |rule: &str, entity: &str| found.contains(&(rule.to_owned(), entity.to_owned()));
    let key =
        |id: &str| format!("gcp:key:env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com/{id}");
    let old = key("3f1c9a7e5b2d4c6a8e0f1a2b3c4d5e6f7a8b9c0d");
    let system = key("0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b");
    let recent = key("7d2e8f4a6c1b3e5d7f9a0b2c4d6e8f0a1b3c5d7e");
    let disabled = key("5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d");
    // A user-managed key past its maximum age; not the fresh, disabled or
    // Google-rotated ones.
    assert!(has("credential-max-age-by-tier", &old), "{found:#?}");
    for k in [&recent, &system, &disabled] {
        assert!(!has("credential-max-age-by-tier", k), "{k}");
    }
    assert!(has("credential-without-expiry", &old));
    assert!(has("static-credential-where-ephemeral-available", &recent));
    assert!(!has("static-credential-where-ephemeral-available", &system));
    // Service accounts holding roles/owner or roles/editor, conditional or not.
    let sa = |e: &str| format!("gcp:serviceAccount:{e}");
    for holder in [
        "env2sa@gcpdiag-composer1-aaaa.iam.gserviceaccount.com",
        "deployer@gcpdiag-composer1-aaaa.iam.gserviceaccount.com",
        "12340005-compute@developer.gserviceaccount.com",
    ] {
        assert!(has("no-admin-on-nhi", &sa(holder)), "{holder}: {found:#?}");
    }
    // Google's service agent with roles/editor, and a person: not NHIs.
    assert!(!has("no-admin-on-nhi", &sa("12340005@cloudservices.gserviceaccount.com")));
    assert!(!has("no-admin-on-nhi", "gcp:user:alice@example.com"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The first diagnostic with `code`, its line (1-based) and its severity.
fn first(inv: &Inventory, code: Code) -> (usize, Severity, String) {
    let d = inv
        .diags
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("no {code}: {:?}", inv.diags));
    let f = d.file.as_ref().expect("located in its file");
    let span = d.labels.first().expect("a label").span;
    (f.line_col(span.start).0, d.severity, d.message.clone())
}

#[test]
fn malformed_input_gives_located_diagnostics() {
    // JSON syntax.
    let inv =
        convert_text("p.json", "{\n  \"bindings\": [\n    {\"role\": \"roles/owner\",,}\n  ]\n}\n");
    let (line, sev, _) = first(&inv, Code::MalformedJson);
    assert_eq!((line, sev), (3, Severity::Error));
    // A binding without its role, and one with an empty role.
    let inv = convert_text(
        "p.json",
        "{\n  \"bindings\": [\n    {\"members\": [\"user:a@example.com\"]},\n    {\"role\": \"\", \"members\": []}\n  ]\n}\n",
    );
    let missing: Vec<_> = inv.diags.iter().filter(|d| d.code == Code::MissingField).collect();
    assert_eq!(missing.len(), 2, "{:?}", inv.diags);
    assert!(inv.nodes.is_empty() && inv.edges.is_empty());
    // A condition without an expression.
    let inv = convert_text(
        "p.json",
        "{\"bindings\": [\n{\"role\": \"roles/owner\", \"members\": [\"user:a@example.com\"],\n \"condition\": {\"title\": \"t\"}}]}",
    );
    let (line, _, msg) = first(&inv, Code::MissingField);
    assert_eq!(line, 3, "{msg}");
    assert!(
        inv.edges.is_empty(),
        "a grant whose condition is unknown is not loaded as unconditional"
    );
    // An unknown member kind: a warning naming the member, at its line.
    let inv = convert_text(
        "p.json",
        "{\"bindings\": [{\"role\": \"roles/viewer\", \"members\": [\n\"user:a@example.com\",\n\"robot:r2d2\"]}]}",
    );
    let (line, sev, msg) = first(&inv, Code::UnknownKind);
    assert_eq!((line, sev), (3, Severity::Warning));
    assert!(msg.contains("`robot:r2d2`"), "{msg}");
    assert_eq!(inv.edges.len(), 1);
    // A member listed twice in a binding holds the role once.
    let inv = convert_text(
        "p.json",
        r#"{"bindings": [{"role": "roles/viewer", "members": ["user:a@example.com", "user:a@example.com"]}]}"#,
    );
    assert_eq!((inv.diags.len(), inv.edges.len()), (0, 1));
    // Keys: a name that is not a key's, a date that is not one, an unknown keyType.
    let inv = convert_text(
        "k.json",
        r#"[
  {"keyType": "USER_MANAGED", "name": "projects/p/keys/1", "validAfterTime": "2025-01-01T00:00:00Z"},
  {"keyType": "USER_MANAGED", "name": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/2", "validAfterTime": "2025-13-01T00:00:00Z"},
  {"keyType": "KEY_TYPE_UNSPECIFIED", "name": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/3"},
  {"id": 4}
]"#,
    );
    assert_eq!(first(&inv, Code::InvalidValue).0, 2);
    assert_eq!(first(&inv, Code::IngestInvalidDate).0, 3);
    let warn = inv.diags.iter().find(|d| d.message.contains("KEY_TYPE_UNSPECIFIED")).unwrap();
    assert_eq!(warn.severity, Severity::Warning);
    let (line, sev, _) = first(&inv, Code::UnknownKind);
    assert_eq!((line, sev), (5, Severity::Error));
    // Not a gcloud export at all (forced with --from gcp).
    let inv = convert_text("x.json", r#"{"hello": 1}"#);
    assert_eq!(first(&inv, Code::UnknownFormat).1, Severity::Error);
}

#[test]
fn gov_ingest_reports_bad_gcp_input_and_exits_4() {
    let dir = scratch("cli-bad");
    let bad = dir.join("policy.json");
    std::fs::write(
        &bad,
        "{\n  \"bindings\": [\n    {\"members\": [\"user:a@example.com\"]}\n  ]\n}\n",
    )
    .unwrap();
    let out = dir.join("out.json");
    let o = gov(&["ingest", "--from", "gcp", bad.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("gov::ingest::missing_field"), "{stderr}");
    assert!(stderr.contains("policy.json:3"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Detected from content without --from, and converted.
    let o = gov(&["ingest", fixtures("gke1").to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let written: Json = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let x = expect_from(&json_files(&fixtures("gke1")));
    assert_eq!(written["nodes"].as_array().unwrap().len(), x.nodes.len());
    assert_eq!(written["edges"].as_array().unwrap().len(), x.grant_count);
    let _ = std::fs::remove_dir_all(&dir);
}
