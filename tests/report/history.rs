//! The finding history (`gov::history`): due dates from first seen, overdue,
//! resolved and reopened findings, damaged records skipped with their place,
//! concurrent writers, and a clock that goes backwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use gov::Code;
use gov::domain::{Enforcement, SeverityLevel};
use gov::eval::FindingKind;
use gov::history::{self, History, Run, RunFinding, ScopeRecord, Status, Timeline, codec};
use gov::report::fingerprint;
use gov::time::{Duration, Timestamp};

const DAY: i64 = 86_400;

fn day(n: i64) -> Timestamp {
    // 2026-11-01 plus n days.
    Timestamp(Timestamp::parse("2026-11-01").unwrap().0 + n * DAY)
}

/// A finding of rule `owner-required` on `entity`, P2 within 3 days.
fn finding(entity: &str, service: Option<&str>) -> RunFinding {
    RunFinding {
        fingerprint: fingerprint::value("owner-required", "identity", entity),
        rule: Arc::from("owner-required"),
        entity: Arc::from(entity),
        service: service.map(Arc::from),
        tier: service.map(|_| 1),
        severity: SeverityLevel::High,
        enforcement: Enforcement::Hard,
        priority: Some((2, Duration::days(3))),
        status: Status::Open,
        kind: FindingKind::Violation,
    }
}

fn run(now: Timestamp, entities: &[&str]) -> Run {
    let mut findings: Vec<RunFinding> =
        entities.iter().map(|e| finding(e, Some("service:ledger"))).collect();
    findings.sort_by_key(|f| f.fingerprint);
    let scopes = vec![ScopeRecord {
        rule: Arc::from("owner-required"),
        service: Some(Arc::from("service:ledger")),
        checked: 10,
        passed: 10 - entities.len() as u64,
    }];
    Run { now, scopes, findings }
}

fn fp(entity: &str) -> u64 {
    fingerprint::value("owner-required", "identity", entity)
}

#[test]
fn due_date_runs_from_first_seen_not_from_now() {
    let runs = [run(day(0), &["sa-a"]), run(day(2), &["sa-a", "sa-b"])];
    let t = Timeline::replay(&runs);
    let a = t.latest[&fp("sa-a")];
    assert_eq!(a.first_seen, day(0));
    assert_eq!(a.due, Some(day(3)), "first seen + 3d, not now + 3d");
    assert!(!a.overdue && !a.new);
    let b = t.latest[&fp("sa-b")];
    assert_eq!((b.first_seen, b.due, b.new), (day(2), Some(day(5)), true));
}

#[test]
fn an_open_finding_past_its_due_date_is_overdue() {
    let runs = [run(day(0), &["sa-a"]), run(day(4), &["sa-a", "sa-b"])];
    let t = Timeline::replay(&runs);
    assert!(t.latest[&fp("sa-a")].overdue, "due day 3, now day 4");
    assert!(!t.latest[&fp("sa-b")].overdue, "first seen today");
    // A waived finding is never overdue.
    let mut waived = run(day(4), &["sa-a"]);
    waived.findings[0].status = Status::Waived;
    let t = Timeline::replay(&[run(day(0), &["sa-a"]), waived]);
    assert!(!t.latest[&fp("sa-a")].overdue);
}

#[test]
fn the_audit_reports_the_due_date_from_first_seen() {
    let runs = [run(day(0), &["sa-a"]), run(day(2), &["sa-a"])];
    let t = Timeline::replay(&runs);
    let mut audit = one_finding_audit(day(2), "sa-a");
    t.apply_due(&mut audit);
    assert_eq!(audit.findings[0].priority.unwrap().due, day(3));
}

#[test]
fn findings_are_resolved_and_reopened() {
    let runs =
        [run(day(0), &["sa-a", "sa-b"]), run(day(1), &["sa-a"]), run(day(6), &["sa-a", "sa-b"])];
    let t = Timeline::replay(&runs);
    let counts: Vec<(usize, usize, usize, usize)> =
        t.runs.iter().map(|r| (r.open, r.new, r.resolved, r.reopened)).collect();
    assert_eq!(counts, [(2, 2, 0, 0), (1, 0, 1, 0), (2, 1, 0, 1)]);
    assert_eq!(t.resolutions.len(), 1);
    let r = &t.resolutions[0];
    assert_eq!((&*r.entity, r.first_seen, r.resolved_at), ("sa-b", day(0), day(1)));
    assert_eq!(r.time_to_resolve(), Duration::days(1));
    assert_eq!(r.within_sla(), Some(true));
    let b = t.latest[&fp("sa-b")];
    assert!(b.reopened && b.new);
    assert_eq!(b.first_seen, day(6), "a reopened finding's clock starts again");
    assert!(t.resolved_in_latest.is_empty());
    // Per service.
    let ledger = &t.runs[1].services[&Some(Arc::from("service:ledger"))];
    assert_eq!((ledger.open, ledger.resolved), (1, 1));
}

#[test]
fn records_round_trip_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = run(day(0), &["sa-a", "<script>alert(1)</script>", "\" onmouseover=\"x"]);
    r.findings[0].priority = None;
    r.findings[1].status = Status::Waived;
    r.findings[1].kind = FindingKind::Error;
    r.findings[2].service = None;
    r.findings[2].tier = None;
    r.scopes.push(ScopeRecord { rule: Arc::from("x"), service: None, checked: 3, passed: 0 });
    let path = history::record(dir.path(), &r).unwrap();
    assert_eq!(path.extension().unwrap(), history::EXTENSION);
    let h = History::open(dir.path()).unwrap();
    assert!(h.diagnostics().is_empty());
    assert_eq!(h.runs(), std::slice::from_ref(&r));
    assert_eq!(h.runs()[0].finding(fp("sa-a")).map(|f| &*f.entity), Some("sa-a"));
    assert_eq!(h.runs()[0].finding(1), None);
    // An empty run and a missing directory.
    assert_eq!(codec::decode(&codec::encode(&run(day(1), &[]))).unwrap(), run(day(1), &[]));
    assert!(History::open(&dir.path().join("absent")).unwrap().runs().is_empty());
}

#[test]
fn a_damaged_record_is_skipped_with_its_place_and_the_others_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let first = history::record(dir.path(), &run(day(0), &["sa-a", "sa-b"])).unwrap();
    let second = history::record(dir.path(), &run(day(1), &["sa-a"])).unwrap();
    let third = history::record(dir.path(), &run(day(2), &["sa-c"])).unwrap();
    // Truncated (a crash of an older writer, a full disk) ...
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(&first, &bytes[..bytes.len() - 5]).unwrap();
    // ... and one flipped byte in the body.
    let mut bytes = std::fs::read(&second).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x40;
    std::fs::write(&second, &bytes).unwrap();
    // And garbage with the right extension.
    std::fs::write(dir.path().join("run-junk.govrun"), b"GOVRUN").unwrap();

    let h = History::open(dir.path()).unwrap();
    assert_eq!(h.runs().len(), 1, "the undamaged run is kept");
    assert_eq!(h.runs()[0].now, day(2));
    assert_eq!(h.files(), [third]);
    let messages: Vec<String> = h.diagnostics().iter().map(|d| d.message.clone()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    for d in h.diagnostics().iter() {
        assert_eq!(d.code, Code::HistoryCorruptRecord);
        assert!(!d.is_error(), "a warning: the run goes on");
    }
    let about = |p: &std::path::Path| {
        messages.iter().find(|m| m.contains(&p.display().to_string())).cloned().unwrap()
    };
    let len = std::fs::metadata(&first).unwrap().len();
    assert!(about(&first).contains(&format!("at byte {len}: the record is truncated")));
    assert!(about(&second).contains("at byte 24: the checksum does not match"));
    assert!(about(&dir.path().join("run-junk.govrun")).contains("truncated in its header"));
    // Recording still works beside the damaged files.
    history::record(dir.path(), &run(day(3), &[])).unwrap();
    assert_eq!(History::open(dir.path()).unwrap().runs().len(), 2);
}

#[test]
fn every_truncation_of_a_record_is_an_error_not_a_panic() {
    let bytes = codec::encode(&run(day(0), &["sa-a", "sa-b", "sa-c"]));
    for len in 0..bytes.len() {
        let e = codec::decode(&bytes[..len]).unwrap_err();
        assert!(e.offset <= len.max(codec::HEADER_LEN), "{len}: {e:?}");
    }
    // Every single-byte change is caught (the header's fields or the checksum).
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(r) = codec::decode(&b) {
            // Only the `now` field may change without failing the checksum.
            assert!((8..16).contains(&i), "byte {i} changed silently");
            assert_ne!(r.now, day(0));
        }
    }
}

#[test]
fn concurrent_writers_never_corrupt_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let writers = 8;
    let per_writer = 5;
    std::thread::scope(|s| {
        for w in 0..writers {
            let dir = dir.path();
            s.spawn(move || {
                for i in 0..per_writer {
                    let entity = format!("sa-{w}-{i}");
                    history::record(dir, &run(day(0), &[entity.as_str(), "sa-shared"])).unwrap();
                }
            });
        }
    });
    let h = History::open(dir.path()).unwrap();
    assert!(h.diagnostics().is_empty(), "{:?}", h.diagnostics());
    assert_eq!(h.runs().len(), writers * per_writer);
    let mut entities: Vec<String> = h
        .runs()
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.entity.to_string()))
        .filter(|e| e != "sa-shared")
        .collect();
    entities.sort();
    entities.dedup();
    assert_eq!(entities.len(), writers * per_writer, "every run's own finding is there");
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".govrun")), "{names:?}");
}

#[test]
fn a_run_earlier_than_the_newest_recorded_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    history::record(dir.path(), &run(day(5), &["sa-a"])).unwrap();
    let e = history::record(dir.path(), &run(day(3), &["sa-a"])).unwrap_err();
    assert_eq!(e.code, Code::HistoryClockBackwards);
    assert!(e.message.contains("earlier than the newest recorded run"), "{}", e.message);
    assert!(e.help.unwrap().contains("--now"));
    assert_eq!(History::open(dir.path()).unwrap().runs().len(), 1, "nothing was written");
    // The same time again is not a clock going backwards.
    history::record(dir.path(), &run(day(5), &[])).unwrap();
    assert_eq!(History::open(dir.path()).unwrap().runs().len(), 2);
}

#[test]
fn a_history_record_costs_less_than_40_bytes_per_finding() {
    // 2,500 entities failing four rules each, over 12 services.
    let rules = ["owner-required", "credential-max-age", "idle-credential", "mfa-required"];
    let mut findings = Vec::new();
    for e in 0..2_500 {
        let entity = format!("arn:aws:iam::418273645091:role/service/svc-{e:05}");
        let service = format!("service:business-{}", e % 12);
        for r in rules {
            let mut f = finding(&entity, Some(&service));
            f.rule = Arc::from(r);
            f.fingerprint = fingerprint::value(r, "identity", &entity);
            f.priority = Some(((e % 3 + 1) as u8, Duration::days(14)));
            findings.push(f);
        }
    }
    findings.sort_by_key(|f| f.fingerprint);
    let n = findings.len();
    let bytes = codec::encode(&Run { now: day(0), scopes: Vec::new(), findings }).len();
    let per = bytes as f64 / n as f64;
    assert!(per <= 40.0, "{per:.1} bytes per finding");
}

fn one_finding_audit(now: Timestamp, entity: &str) -> gov::eval::Audit {
    let file = gov::SourceFile::new("p.gov", "rule owner-required {}");
    let loc = gov::Loc::new(file, gov::Span::new(0, 4));
    gov::eval::Audit {
        now,
        rules: Vec::new(),
        findings: vec![gov::eval::Finding {
            kind: FindingKind::Violation,
            rule: Arc::from("owner-required"),
            rule_loc: loc.clone(),
            condition_loc: loc,
            entity: entity.to_owned(),
            entity_kind: Arc::from("identity"),
            severity: SeverityLevel::High,
            enforcement: Enforcement::Hard,
            priority: Some(gov::eval::PriorityAssignment {
                level: 2,
                within: Duration::days(3),
                due: Timestamp(now.0 + 3 * DAY),
            }),
            service: Some("service:ledger".to_owned()),
            message: String::new(),
            help: None,
            evidence: Vec::new(),
            witness: Vec::new(),
            origin: None,
            maps: Arc::from(Vec::new()),
            waived_by: None,
        }],
        expired_exceptions: Vec::new(),
        inventory_files: Vec::new(),
    }
}
