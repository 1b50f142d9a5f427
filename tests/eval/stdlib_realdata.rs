//! The standard library (`policies/`) on real, public inventories from
//! `../shared/realdata/`: the cloudsplaining AWS authorization details sample
//! and the GitHound (GitHub) OpenGraph samples. The findings are snapshotted;
//! see each test's comment for the findings checked by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::fmt::Write as _;
use std::path::PathBuf;

use gov::eval::{Audit, AuditOptions, audit};
use gov::time::Timestamp;

fn realdata(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/realdata")).join(name)
}

fn run(files: &[&str]) -> Audit {
    let paths: Vec<PathBuf> = files.iter().map(|f| realdata(f)).collect();
    let loaded = gov::ingest::load_paths(&paths, &gov::ingest::LoadOptions::default())
        .unwrap_or_else(|e| panic!("{:?}", e.map(|d| d.len())));
    let policy_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"));
    let mut parsed = Vec::new();
    let mut stack = vec![policy_dir];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "gov") {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display().to_string();
        parsed.push(gov::syntax::parse_bytes(&rel, &std::fs::read(&f).unwrap()).unwrap());
    }
    let now = Timestamp::parse("2026-11-22").unwrap();
    let compiled =
        gov::check::compile(&parsed, loaded.graph.schema(), &gov::check::Options { now })
            .unwrap_or_else(|d| {
                panic!(
                    "{}",
                    d.iter().map(gov::report::diagnostics::render_plain).collect::<String>()
                )
            });
    audit(&compiled.program, &loaded.graph, &AuditOptions { now: Some(now), ..Default::default() })
}

/// One line per finding: rule, entity, status, priority, message.
fn listing(a: &Audit) -> String {
    let mut s = String::new();
    for f in &a.findings {
        let status = match (&f.waived_by, f.kind) {
            (_, gov::eval::FindingKind::Error) => "error",
            (Some(_), _) => "waived",
            (None, _) => "open",
        };
        let p = f.priority.map_or("-".to_owned(), |p| format!("P{}", p.level));
        let _ = writeln!(
            s,
            "{} | {} | {status} {p} {:?} | {}",
            f.rule, f.entity, f.severity, f.message
        );
    }
    s
}

fn counts(a: &Audit) -> String {
    let mut s = String::new();
    for r in &a.rules {
        let _ = writeln!(
            s,
            "{}: checked {}, failed {}, waived {}, errors {}",
            r.id, r.checked, r.failed, r.waived, r.errors
        );
    }
    s
}

/// Checked by hand against the JSON (2026-11-22):
/// - `no-admin-on-nhi` on `role/OrganizationAccountAccessRole` and `user/obama`:
///   both have `AdministratorAccess` attached (obama also through group `admin`,
///   hence `privilege-via-nested-groups` too); `role/privesc-sre-role` has
///   `privesc-sre-admin-policy` allowing `iam:*`, `ec2:*`, `s3:*` on `*`.
/// - Not reported, rightly: `fp1-allow-and-deny-role` (its policy allows and
///   denies `iam:*`) and `fp2-allow-and-deny-multiple-policies-role` (one
///   policy allows `iam:*`, another denies it): cloudsplaining's own
///   false-positive cases. An earlier adapter ignored `Deny` and reported both.
/// - `no-admin-on-nhi` on `fn4-exploitableNotAction-role` and `-user`:
///   cloudsplaining's false-negative case, a policy that allows everything
///   but `iam:Update*`, `iam:Create*` and `iam:Attach*` on `*` (`NotAction`).
///   An earlier adapter ignored `NotAction` statements and missed both.
/// - `idle-identity` on `role/OverprivilegedEC2`: `RoleLastUsed.LastUsedDate`
///   is 2019-01-20, 2,862 days before the evaluation date.
/// - `vendor-without-review` on the `AWSServiceRoleForCloudFormationStackSetsOrgAdmin`
///   role of account 072528804237: a principal of another account named in a
///   trust policy, with no review date on record.
/// - The ownership and attestation rules fail on every non-human identity:
///   the sample carries no owner, steward, service or attestation data at all,
///   which is exactly what they exist to surface.
#[test]
fn aws_authorization_details_sample() {
    let a = run(&["aws_authz_details__cloudsplaining_example.json"]);
    assert!(
        a.findings.iter().all(|f| f.kind == gov::eval::FindingKind::Violation),
        "no evaluation errors"
    );
    insta::assert_snapshot!("aws_counts", counts(&a));
    insta::assert_snapshot!("aws_findings", listing(&a));
}

/// Checked by hand against the JSON (2026-11-22):
/// - `credential-max-age-by-tier` on org secret `ALL_REPO_SECRET`:
///   `updated_at` 2026-01-30, 295 days before the evaluation date; repository
///   secret `TESTSECRET` (`GH_Secret_R_kgDOMuFnXA_TESTSECRET`): 2025-07-30,
///   479 days; both over the 180 days allowed to a credential with no
///   business service. GitHub secrets carry no expiry, hence
///   `credential-without-expiry` on each.
/// - Not reported, rightly: the personal access tokens GitHub marks
///   `token_expired: true` (e.g. `GitHound Testing`, granted 2025-11-17 with no
///   expiry) are loaded as inactive and no longer count as live secrets; the
///   SAML external identity `EI_lAHOCoV2Oc2WFs4CbGNd` maps to a GitHub user
///   (`GH_MapsToUser`), so it is an employee's login and not a vendor (an
///   earlier `vendor-without-review` flagged it).
/// - The ownership and attestation rules fail on the GitHub apps: OpenGraph
///   carries no owner, steward, service or attestation for them.
#[test]
fn github_opengraph_samples() {
    let a = run(&[
        "opengraph_github__githound_O_kgDOCoV2OQ.json",
        "opengraph_github_saml__githound_saml_O_kgDOCoV2OQ.json",
    ]);
    assert!(
        a.findings.iter().all(|f| f.kind == gov::eval::FindingKind::Violation),
        "no evaluation errors"
    );
    insta::assert_snapshot!("github_counts", counts(&a));
    insta::assert_snapshot!("github_findings", listing(&a));
}
