//! The lifecycle rules of the standard library (risk and data class,
//! purpose, retirement, outgrown risk class, movers, review cadence by class)
//! in the quick start's audit of the Acme example: they find exactly the
//! cases planted in `examples/acme/` (its README lists them), in the
//! priority of the service each case touches, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use std::collections::BTreeSet;

const LIFECYCLE_RULES: &[&str] = &[
    "nhi-risk-class-required",
    "nhi-data-class-required",
    "nhi-purpose-required",
    "nhi-retirement-trigger-required",
    "past-retirement-date",
    "outgrown-risk-class",
    "owner-moved-team",
    "review-cadence-by-risk-class",
];

/// The never-registered identities: the untagged legacy deployer and
/// reporting role, the partner client nobody owns, the Kubernetes
/// `default` and `kube-system` service accounts (the way clusters come) and
/// the unclaimed preview builder.
const UNREGISTERED: &[(&str, &str)] = &[
    ("arn:aws:iam::418273645091:role/legacy-reporting-role", "P4"),
    ("arn:aws:iam::418273645091:user/svc-legacy-deployer", "P4"),
    ("client-shopbridge", "P2"),
    ("k8s:serviceaccount:checkout/default", "P4"),
    ("k8s:serviceaccount:ci/default", "P4"),
    ("k8s:serviceaccount:fraud/default", "P4"),
    ("k8s:serviceaccount:kube-system/aws-node", "P4"),
    ("k8s:serviceaccount:kube-system/coredns", "P4"),
    ("k8s:serviceaccount:kube-system/default", "P4"),
    ("k8s:serviceaccount:kube-system/ebs-csi-controller-sa", "P4"),
    ("k8s:serviceaccount:ledger/default", "P4"),
    ("k8s:serviceaccount:monitoring/default", "P4"),
    ("k8s:serviceaccount:payments/default", "P4"),
    ("k8s:serviceaccount:search/default", "P4"),
    ("k8s:serviceaccount:web/default", "P4"),
    ("k8s:serviceaccount:web/preview-builder", "P4"),
];

fn quick_start_audit() -> serde_json::Value {
    let out = cli_support::gov(cli_support::QUICK_START_JSON);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn found(v: &serde_json::Value, rule: &str) -> BTreeSet<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            assert_eq!(f["status"], "open", "{f}");
            (
                f["entity"].as_str().unwrap().to_owned(),
                f["priority"]["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items.iter().map(|(e, p)| ((*e).to_owned(), (*p).to_owned())).collect()
}

#[test]
fn the_lifecycle_rules_find_exactly_the_planted_cases() {
    let v = quick_start_audit();
    // Every lifecycle rule ran and checked entities (a rule missing from the
    // library, or scoped to nothing, would make the sets below vacuous).
    for r in LIFECYCLE_RULES {
        let rule = v["rules"].as_array().unwrap().iter().find(|x| x["id"] == *r);
        let checked = rule.and_then(|x| x["checked"].as_u64()).unwrap_or(0);
        assert!(checked > 0, "{r} did not run or checked nothing");
    }
    let unregistered = set(UNREGISTERED);
    assert_eq!(found(&v, "nhi-risk-class-required"), unregistered);
    assert_eq!(found(&v, "nhi-retirement-trigger-required"), unregistered);
    // ... and the legacy SMS account nobody remembers the purpose of.
    let mut no_purpose = unregistered.clone();
    no_purpose.insert(("sa-notifications-sms-legacy".into(), "P3".into()));
    assert_eq!(found(&v, "nhi-purpose-required"), no_purpose);
    // Of the unregistered, only the two AWS principals reach data (S3 reads,
    // AdministratorAccess); and the search service account that shares the
    // analytics password was registered without a data class.
    assert_eq!(
        found(&v, "nhi-data-class-required"),
        set(&[
            ("arn:aws:iam::418273645091:role/legacy-reporting-role", "P4"),
            ("arn:aws:iam::418273645091:user/svc-legacy-deployer", "P4"),
            ("sa-search-analytics", "P3"),
        ])
    );
    // The RateWise contract ended on 2026-09-30; client and key still live.
    assert_eq!(found(&v, "past-retirement-date"), set(&[("client-ratewise", "P2")]));
    // The low-risk FX pilot that payments-core now depends on (P1), and the
    // medium-risk search indexer that may do anything with secrets.
    assert_eq!(
        found(&v, "outgrown-risk-class"),
        set(&[("wl-fx-rates-pilot", "P1"), ("k8s:serviceaccount:search/indexer", "P3")])
    );
    // Maya Ibrahim moved from checkout to finance and still owns the renderer.
    assert_eq!(found(&v, "owner-moved-team"), set(&[("wl-checkout-receipt-renderer", "P2")]));
    // The release bot is classed critical (90 days) and was attested 150
    // days ago; tier 1 alone would allow 180, so only this rule reports it.
    assert_eq!(found(&v, "review-cadence-by-risk-class"), set(&[("bot-release", "P2")]));
    assert!(found(&v, "attestation-overdue-by-tier").iter().all(|(e, _)| e != "bot-release"));
}

#[test]
fn the_planted_findings_say_what_is_wrong() {
    let v = quick_start_audit();
    let message = |rule: &str, entity: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["entity"] == entity)
            .and_then(|f| f["message"].as_str())
            .unwrap_or_else(|| panic!("no {rule} finding on {entity}"))
            .to_owned()
    };
    assert_eq!(
        message("outgrown-risk-class", "wl-fx-rates-pilot"),
        "workload wl-fx-rates-pilot is classed low risk but reaches a tier-0 service"
    );
    assert_eq!(
        message("outgrown-risk-class", "k8s:serviceaccount:search/indexer"),
        "service_account indexer is classed medium risk but reaches a privileged entitlement"
    );
    let retired = message("past-retirement-date", "client-ratewise");
    assert!(retired.contains("due to retire on 2026-09-30"), "{retired}");
    assert!(retired.contains("with 1 usable credential"), "{retired}");
    let cadence = message("review-cadence-by-risk-class", "bot-release");
    assert!(
        cadence.contains("classed critical risk and must be attested every 90 days"),
        "{cadence}"
    );
}
