//! The Acme Payments example organisation (`examples/acme/`): all
//! four formats load together from the directory, the adapters join them
//! (credential report to authorization details by ARN, IRSA to the AWS
//! role, tags to services and owners), and the smoke policy finds the planted
//! problems in every priority.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use gov::eval::{Audit, AuditOptions, audit};
use gov::graph::{Graph, Loaded, Value};
use gov::source::SourceFile;
use gov::time::Timestamp;

const ACCOUNT: &str = "418273645091";

fn acme() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/acme")
}

fn load() -> Loaded {
    match gov::ingest::load_paths(&[acme()], &gov::ingest::LoadOptions::default()) {
        Ok(l) => l,
        Err(Ok(d)) => {
            panic!("{}", d.iter().map(gov::report::diagnostics::render_plain).collect::<String>())
        }
        Err(Err(e)) => panic!("{}", gov::report::diagnostics::render_plain(&e.0)),
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

/// Within 10% of the number the committed data has: the example may grow a
/// little without rewriting this test, but not lose a format.
fn assert_about(what: &str, actual: usize, expected: usize) {
    let slack = expected.div_ceil(10);
    assert!(
        actual.abs_diff(expected) <= slack,
        "{what}: {actual}, expected about {expected} (±{slack})"
    );
}

fn has_edge(g: &Graph, from: &str, kind: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (g.lookup(from), g.lookup(to)) else { return false };
    g.out(a, g.schema().edge_kind(kind).unwrap()).contains(&b)
}

fn aws(kind_path_name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind_path_name}")
}

#[test]
fn the_four_formats_load_together_without_warnings() {
    let loaded = load();
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        loaded.diagnostics.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
    );
    let g = &loaded.graph;
    assert_about("identities", count(g, "identity"), 283);
    assert_about("credentials", count(g, "credential"), 90);
    assert_about("roles", count(g, "role"), 31);
    assert_about("groups", count(g, "group"), 22);
    assert_eq!(count(g, "service"), 14, "13 business services and a staging copy");
    assert_eq!(count(g, "resource"), 10);
    // One record per source system.
    assert_eq!(count_where(g, "identity", "type", "human"), 96, "people from the HRIS");
    assert_about("IAM users", count_where(g, "identity", "type", "iam_user"), 21);
    assert_about("k8s service accounts", count_where(g, "identity", "source", "k8s"), 36);
    assert_about("vault credentials", count_where(g, "credential", "source", "vault"), 67);
    assert_eq!(count_where(g, "identity", "type", "bot"), 3);
    // Services from AWS tags and Kubernetes labels carry the tier tag.
    let payments = g.lookup("service:payments-core").unwrap();
    assert_eq!(g.attr_by_name(payments, "tier"), Value::Int(0));
    let wiki = g.lookup("service:internal-wiki").unwrap();
    assert_eq!(g.attr_by_name(wiki, "tier"), Value::Int(3));
}

#[test]
fn the_adapters_join_the_sources() {
    let loaded = load();
    let g = &loaded.graph;
    // IRSA: the Kubernetes service account assumes the AWS role.
    assert!(has_edge(
        g,
        "k8s:serviceaccount:payments/payments-api",
        "assumes",
        &aws("role/payments-core-api-irsa")
    ));
    // The credential report joined the authorization details by ARN: one
    // node with attributes from both, and its access key with `rotated_at`.
    let user = aws("user/service/svc-payments-settlement");
    let n = g.lookup(&user).unwrap();
    assert!(matches!(g.attr_by_name(n, "external_id"), Value::Str(s) if s.starts_with("AIDA")));
    assert_eq!(g.attr_by_name(n, "password_enabled"), Value::Bool(false));
    let key = format!("{user}#access_key_1");
    assert!(has_edge(g, &user, "has_credential", &key));
    let k = g.lookup(&key).unwrap();
    match g.attr_by_name(k, "rotated_at") {
        Value::Time(t) => assert!(t.to_string().starts_with("2025-06-03"), "{t}"),
        other => panic!("rotated_at is {other:?}"),
    }
    // Tags became owners and services.
    assert!(has_edge(g, &user, "owned_by", "samuel.adeyemi@acmepay.example"));
    assert!(has_edge(g, &user, "supports", "service:payments-core"));
    // Group membership carries AdministratorAccess to the legacy deployer.
    assert!(has_edge(g, &aws("user/svc-legacy-deployer"), "member_of", &aws("group/deployers")));
    assert!(has_edge(
        g,
        &aws("group/deployers"),
        "grants",
        "arn:aws:iam::aws:policy/AdministratorAccess"
    ));
    // Kubernetes: the Argo deployer is bound to cluster-admin.
    assert!(has_edge(
        g,
        "k8s:serviceaccount:ci/argo-deployer",
        "grants",
        "k8s:clusterrole:cluster-admin"
    ));
}

fn run_smoke() -> Audit {
    let loaded = load();
    let path = acme().join("policies-smoke.gov");
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = gov::syntax::parse(&SourceFile::new(path.display().to_string(), text)).unwrap();
    let now = Timestamp::parse("2026-11-22").unwrap();
    let compiled =
        gov::check::compile(&[parsed], loaded.graph.schema(), &gov::check::Options { now })
            .unwrap_or_else(|d| {
                panic!(
                    "{}",
                    d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
                )
            });
    audit(&compiled.program, &loaded.graph, &AuditOptions { now: Some(now), ..Default::default() })
}

#[test]
fn the_smoke_policy_finds_the_planted_problems_in_every_priority() {
    let a = run_smoke();
    let levels: BTreeSet<u8> =
        a.findings.iter().filter_map(|f| f.priority.as_ref().map(|p| p.level)).collect();
    assert_eq!(levels, BTreeSet::from([1, 2, 3, 4]));
    let find = |rule: &str, entity: &str| {
        a.findings
            .iter()
            .find(|f| &*f.rule == rule && f.entity.starts_with(entity))
            .unwrap_or_else(|| panic!("no {rule} finding on {entity}"))
    };
    let priority = |rule: &str, entity: &str| find(rule, entity).priority.as_ref().map(|p| p.level);
    let settlement = aws("user/service/svc-payments-settlement#access_key_1");
    let expected: &[(&str, &str, Option<u8>)] = &[
        // P1: tier 0 (payments-core, ledger).
        ("owner-required", "sa-ledger-recon", Some(1)),
        ("credential-max-age", &settlement, Some(1)),
        ("shared-credential", "vault:kv/ledger/ledger-db-admin", Some(1)),
        (
            "no-console-password-for-service-accounts",
            &aws("user/service/svc-ledger-batch"),
            Some(1),
        ),
        ("console-needs-mfa", &aws("user/service/svc-ledger-batch"), Some(1)),
        ("token-without-expiry", "k8s:secret:ledger/ledger-reporter-token-", Some(1)),
        // P2: tier 1 (checkout, ci-platform, merchant-portal, observability).
        ("owner-required", &aws("user/service/svc-checkout-export"), Some(2)),
        ("owner-required", "bot-statusflare", Some(2)),
        ("owner-required", "client-shopbridge", Some(2)),
        ("shared-credential", "vault:kv/shared/analytics-db-readonly", Some(2)),
        ("no-admin-for-machines", "k8s:serviceaccount:ci/argo-deployer", Some(2)),
        ("no-admin-for-machines", &aws("role/terraform-ci"), Some(2)),
        ("no-admin-for-machines", &aws("role/checkout-legacy-batch"), Some(2)),
        ("token-without-expiry", "vault:kv/ci/github-pat-release-bot", Some(2)),
        // P3: tier 2 (search, notifications).
        ("idle-access-key", &aws("user/service/svc-search-sync#access_key_1"), Some(3)),
        ("owner-required", "k8s:serviceaccount:search/indexer", Some(3)),
        ("credential-max-age", "vault:kv/notifications/sms-gateway-key", Some(3)),
        // P4: tier 3 or no service.
        ("owner-required", "bot-cms-publisher", Some(4)),
        ("idle-access-key", &aws("user/service/svc-marketing-deploy#access_key_1"), Some(4)),
        ("owner-required", &aws("user/svc-legacy-deployer"), Some(4)),
        ("no-admin-for-machines", &aws("user/svc-legacy-deployer"), Some(4)),
        ("console-needs-mfa", &aws("user/dana.kim"), Some(4)),
        ("leaver-access", "priya.raman@acmepay.example", Some(4)),
        ("leaver-access", "tom.becker@acmepay.example", Some(4)),
    ];
    for (rule, entity, level) in expected {
        assert_eq!(priority(rule, entity), *level, "{rule} on {entity}");
    }
    // Healthy identities pass: a tier-0 service account with an active owner
    // and a monthly-rotated key.
    assert!(!a.findings.iter().any(|f| f.entity.starts_with("sa-ledger-api")));
    assert!(
        !a.findings.iter().any(|f| f.entity.contains("svc-payments-psp-sync")),
        "svc-payments-psp-sync is healthy"
    );
    // The planted problems and nothing wildly more: the count moves only
    // when the data does.
    assert_about("findings", a.findings.len(), 65);
}

fn gov_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            gov_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "gov") {
            out.push(p);
        }
    }
}

/// The standard library (`policies/`) finds the planted problems too, in
/// every priority. Rule names are left out: whichever rule reports an
/// entity, it must be reported.
#[test]
fn the_standard_library_finds_the_planted_problems_in_every_priority() {
    let mut files = Vec::new();
    gov_files(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies"), &mut files);
    files.sort();
    if files.is_empty() {
        return; // the library is not in this checkout
    }
    let parsed: Vec<_> = files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            gov::syntax::parse(&SourceFile::new(p.display().to_string(), text)).unwrap_or_else(
                |d| {
                    panic!(
                        "{}",
                        d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
                    )
                },
            )
        })
        .collect();
    let loaded = load();
    let now = Timestamp::parse("2026-11-22").unwrap();
    let compiled =
        gov::check::compile(&parsed, loaded.graph.schema(), &gov::check::Options { now })
            .unwrap_or_else(|d| {
                panic!(
                    "{}",
                    d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
                )
            });
    let a = audit(
        &compiled.program,
        &loaded.graph,
        &AuditOptions { now: Some(now), ..Default::default() },
    );
    let levels: BTreeSet<u8> =
        a.findings.iter().filter_map(|f| f.priority.as_ref().map(|p| p.level)).collect();
    assert_eq!(levels, BTreeSet::from([1, 2, 3, 4]));
    for entity in [
        "sa-ledger-recon".to_owned(),
        "vault:kv/ledger/ledger-db-admin".to_owned(),
        aws("user/service/svc-payments-settlement#access_key_1"),
        aws("user/service/svc-ledger-batch"),
        aws("user/service/svc-checkout-export"),
        "bot-statusflare".to_owned(),
        "k8s:serviceaccount:ci/argo-deployer".to_owned(),
        aws("role/terraform-ci"),
        aws("user/service/svc-search-sync#access_key_1"),
        "k8s:serviceaccount:search/indexer".to_owned(),
        "bot-cms-publisher".to_owned(),
        aws("user/svc-legacy-deployer"),
        aws("user/dana.kim"),
    ] {
        assert!(a.findings.iter().any(|f| f.entity == entity), "nothing found on {entity}");
    }
}
