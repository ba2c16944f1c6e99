//! Lifecycle tests: an application's images change over time (upgrade, unscanned rollout,
//! rollback), and the tracker's records, the ledger's first-seen dates, the `remediation`
//! rule and the summaries follow. Plain synchronous tests with `mk_*` builders.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::summary::{self, DAY};
use super::*;
use crate::guardrail::{
    Enforcement, ExceptionSettings, GuardrailRule, MatchSource, OnUnscanned, Policy, PolicySource, RemediationPolicy,
    RemediationRule,
};
use crate::index::{IndexConfig, PolicyEntry, PostureIndex};
use crate::model::{
    App, Artifact, Container, Finding, FindingKind, Format, ImageRef, Package, Report, Severity, Source, Workload,
    WorkloadKind,
};
use crate::policy::evaluate;
use crate::selector::LabelSelector;

fn t(day: i64) -> Timestamp {
    Timestamp::from_second(1_767_225_600 + day * DAY).unwrap() // 2026-01-01 + day
}

fn mk_workload(image: &str) -> Workload {
    let labels: BTreeMap<String, String> = [("app".to_string(), "api".to_string())].into();
    let mut w = Workload::new(WorkloadKind::Deployment, "shop", "api", vec![Container::hardened("main", image)]);
    w.pod_labels = labels;
    w
}

/// A Trivy Operator-like report of `image` listing `(id, severity, installed version)` in
/// openssl, created at `created`.
fn mk_report(image: &str, vulns: &[(&str, Severity, &str)], created: Option<Timestamp>) -> Report {
    let img = ImageRef::parse(image).unwrap();
    let source = Arc::new(Source {
        format: Format::TrivyOperator,
        scanner: Arc::from("Trivy"),
        origin: Arc::from(format!("report-{image}")),
        workload: None,
        container: None,
    });
    let mut r = Report::new(source.clone());
    r.scanned = vec![Artifact::Image(img.clone())];
    r.scanned_at = created;
    for (id, sev, version) in vulns {
        let mut f =
            Finding::new(FindingKind::Vulnerability, id, *sev, id, Artifact::Image(img.clone()), source.clone());
        f.package = Some(Package {
            name: Arc::from("openssl"),
            installed_version: Some(Arc::from(*version)),
            ..Default::default()
        });
        f.first_seen = created;
        r.findings.push(f);
    }
    r
}

fn mk_index() -> PostureIndex {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_app(App {
        namespace: Arc::from("shop"),
        name: Arc::from("api"),
        selector: Some(LabelSelector {
            match_labels: [("app".to_string(), "api".to_string())].into(),
            match_expressions: Vec::new(),
        }),
        ..Default::default()
    });
    index
}

/// Runs `image` in the index (replacing the previous revision).
fn deploy(index: &mut PostureIndex, image: &str) {
    index.apply_workload(mk_workload(image));
    index.refresh();
}

fn scan(index: &mut PostureIndex, image: &str, vulns: &[(&str, Severity, &str)], created: Option<Timestamp>) {
    index.apply_report(&format!("report-{image}"), mk_report(image, vulns, created));
    index.refresh();
}

fn api() -> SubjectRef {
    SubjectRef::app("shop", "api")
}

fn key(id: &str) -> FindingKey {
    FindingKey { kind: FindingKind::Vulnerability, id: Arc::from(id), what: Arc::from("openssl") }
}

#[test]
fn a_finding_is_new_persists_is_fixed_by_an_upgrade_and_reopens_on_rollback() {
    let mut index = mk_index();
    let mut tracker = Tracker::new();
    deploy(&mut index, "shop/api:1.0");
    scan(
        &mut index,
        "shop/api:1.0",
        &[("CVE-2026-0001", Severity::High, "3.0.1"), ("CVE-2026-0002", Severity::Low, "3.0.1")],
        None,
    );
    let tally = tracker.observe(&snapshot(&index, t(0)), t(0));
    assert_eq!((tally.new, tally.total()), (2, 2));
    assert_eq!(tracker.get(&api(), &key("CVE-2026-0001")).unwrap().first_seen, t(0));

    // Nothing moved: nothing is written.
    assert_eq!(tracker.observe(&snapshot(&index, t(1)), t(1)).total(), 0);

    // 1.1 is rolled out before its scan: nothing can be called fixed yet.
    deploy(&mut index, "shop/api:1.1");
    assert_eq!(tracker.observe(&snapshot(&index, t(2)), t(2)).total(), 0);
    // Its scan still has CVE-2026-0002 (openssl upgraded, not far enough) and fixed 0001.
    scan(&mut index, "shop/api:1.1", &[("CVE-2026-0002", Severity::Low, "3.0.2")], None);
    let tally = tracker.observe(&snapshot(&index, t(3)), t(3));
    assert_eq!((tally.fixed, tally.total()), (1, 1), "{:?}", tracker.pending());
    let fixed = tracker.get(&api(), &key("CVE-2026-0001")).unwrap();
    assert_eq!((fixed.fixed, fixed.time_to_fix()), (Some(t(3)), Some(SignedDuration::from_hours(72))));
    // The finding another version still has keeps its first-seen date.
    let kept = tracker.get(&api(), &key("CVE-2026-0002")).unwrap();
    assert_eq!((kept.first_seen, kept.fixed, kept.revision), (t(0), None, 1));

    // Rolled back to 1.0: reopened, first seen where it was.
    deploy(&mut index, "shop/api:1.0");
    let tally = tracker.observe(&snapshot(&index, t(5)), t(5));
    assert_eq!((tally.reopened, tally.total()), (1, 1));
    let r = tracker.get(&api(), &key("CVE-2026-0001")).unwrap();
    assert_eq!((r.first_seen, r.opened, r.fixed, r.cycle, r.revision), (t(0), t(5), None, 2, 3));
    let events: Vec<(Event, Timestamp)> =
        tracker.pending().iter().filter(|c| c.key == key("CVE-2026-0001")).map(|c| (c.event, c.at)).collect();
    assert_eq!(events, [(Event::New, t(0)), (Event::Fixed, t(3)), (Event::Reopened, t(5))]);
}

#[test]
fn first_seen_is_the_report_time_when_earlier_never_a_future_one() {
    let mut index = mk_index();
    deploy(&mut index, "shop/api:1.0");
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0001", Severity::High, "1")], Some(t(-10)));
    let mut tracker = Tracker::new();
    tracker.observe(&snapshot(&index, t(0)), t(0));
    assert_eq!(tracker.get(&api(), &key("CVE-2026-0001")).unwrap().first_seen, t(-10));

    let mut index = mk_index();
    deploy(&mut index, "shop/api:1.0");
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0001", Severity::High, "1")], Some(t(30)));
    let mut tracker = Tracker::new();
    tracker.observe(&snapshot(&index, t(0)), t(0));
    assert_eq!(tracker.get(&api(), &key("CVE-2026-0001")).unwrap().first_seen, t(0));
}

#[test]
fn pending_changes_keep_their_dates_until_committed() {
    let mut index = mk_index();
    deploy(&mut index, "shop/api:1.0");
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0001", Severity::High, "1")], None);
    let mut tracker = Tracker::new();
    tracker.observe(&snapshot(&index, t(0)), t(0));
    tracker.committed(1);
    assert!(tracker.pending().is_empty());
    // The store is down for two days: a new finding arrives on day 1, the first is fixed on day 2.
    scan(
        &mut index,
        "shop/api:1.0",
        &[("CVE-2026-0001", Severity::High, "1"), ("CVE-2026-0003", Severity::Critical, "1")],
        None,
    );
    tracker.observe(&snapshot(&index, t(1)), t(1));
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0003", Severity::Critical, "1")], None);
    tracker.observe(&snapshot(&index, t(2)), t(2));
    let queued: Vec<(&str, Event, Timestamp, Timestamp)> =
        tracker.pending().iter().map(|c| (&*c.key.id, c.event, c.at, c.record.first_seen)).collect();
    assert_eq!(queued, [("CVE-2026-0003", Event::New, t(1), t(1)), ("CVE-2026-0001", Event::Fixed, t(2), t(0))]);
    // A restart from what the store holds plus the queue gives the same records.
    tracker.committed(5);
    assert!(tracker.pending().is_empty());
}

#[test]
fn an_exception_hides_a_finding_without_fixing_it_and_severity_changes_are_recorded() {
    let mut index = mk_index();
    deploy(&mut index, "shop/api:1.0");
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0001", Severity::Medium, "1")], None);
    let mut tracker = Tracker::new();
    tracker.observe(&snapshot(&index, t(0)), t(0));
    // The scanner re-rates it.
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0001", Severity::Critical, "1")], None);
    let tally = tracker.observe(&snapshot(&index, t(1)), t(1));
    assert_eq!((tally.changed, tally.total()), (1, 1));
    let r = tracker.get(&api(), &key("CVE-2026-0001")).unwrap();
    assert_eq!((r.facts.severity, r.first_seen, r.revision), (Severity::Critical, t(0), 2));

    // A VEX statement hides it: recorded as hidden, not fixed.
    let mut report = mk_report("shop/api:1.0", &[("CVE-2026-0001", Severity::Critical, "1")], None);
    report.findings[0].vex = Some(crate::model::Vex::new(crate::model::VexState::NotAffected, None));
    index.apply_report("report-shop/api:1.0", report);
    index.refresh();
    let tally = tracker.observe(&snapshot(&index, t(2)), t(2));
    assert_eq!((tally.changed, tally.fixed), (1, 0));
    let r = tracker.get(&api(), &key("CVE-2026-0001")).unwrap();
    assert!(r.is_open() && r.facts.hidden);
    assert!(!r.overdue(&RemediationPolicy::default(), t(400)), "hidden findings are never overdue");
}

fn remediation_policy_entry(rule: RemediationRule) -> PolicyEntry {
    let rules = [GuardrailRule { remediation: Some(rule), ..Default::default() }];
    let settings = ExceptionSettings::default();
    let compiled = Policy::compile(PolicySource {
        name: Some("deadlines"),
        enforcement: Enforcement::Enforce,
        matcher: MatchSource::default(),
        on_unscanned: OnUnscanned::Allow,
        new_risk_only: false,
        exceptions: &settings,
        rules: &rules,
    })
    .unwrap();
    PolicyEntry {
        name: Arc::from("deadlines"),
        generation: None,
        enforcement: Enforcement::Enforce,
        description: None,
        compiled: Ok(Arc::new(compiled)),
    }
}

#[test]
fn the_remediation_rule_counts_from_first_seen_in_the_cluster() {
    let mut index = mk_index();
    index.apply_policy(remediation_policy_entry(RemediationRule::default()));
    deploy(&mut index, "shop/api:1.0");
    // No report time and no ledger: no start, no deadline.
    scan(&mut index, "shop/api:1.0", &[("CVE-2026-0001", Severity::High, "1")], None);
    assert!(evaluate(&mk_workload("shop/api:1.0"), None, &index, t(100)).allowed());

    let mut tracker = Tracker::new();
    tracker.observe(&snapshot(&index, t(0)), t(0));
    index.set_ledger(Arc::new(tracker.ledger(RemediationPolicy::default())));
    // HIGH: 30 days from first seen (day 0).
    assert!(evaluate(&mk_workload("shop/api:1.0"), None, &index, t(30)).allowed());
    let v = evaluate(&mk_workload("shop/api:1.0"), None, &index, t(31));
    assert!(!v.allowed(), "{v:#?}");
    assert_eq!(v.violations[0].rule_type, "remediation");
    let m = &v.violations[0].message;
    assert!(
        m.contains("CVE-2026-0001 HIGH in openssl 1")
            && m.contains("due 2026-01-31, 1 day overdue (first seen 2026-01-01)"),
        "{m}"
    );

    // The next version still carries it (another openssl build): rebuilding resets nothing.
    scan(&mut index, "shop/api:1.1", &[("CVE-2026-0001", Severity::High, "2")], None);
    assert!(!evaluate(&mk_workload("shop/api:1.1"), None, &index, t(31)).allowed());
    // A version without it is admitted.
    scan(&mut index, "shop/api:1.2", &[], None);
    assert!(evaluate(&mk_workload("shop/api:1.2"), None, &index, t(31)).allowed());
}

#[test]
fn older_than_days_counts_from_first_seen_not_from_publication() {
    let mut index = mk_index();
    let rules = [GuardrailRule {
        vulnerabilities: Some(crate::guardrail::spec::VulnerabilityRule {
            max_severity: Severity::Medium,
            older_than_days: Some(7),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let settings = ExceptionSettings::default();
    let compiled = Policy::compile(PolicySource {
        name: Some("sla"),
        enforcement: Enforcement::Enforce,
        matcher: MatchSource::default(),
        on_unscanned: OnUnscanned::Allow,
        new_risk_only: false,
        exceptions: &settings,
        rules: &rules,
    })
    .unwrap();
    index.apply_policy(PolicyEntry {
        name: Arc::from("sla"),
        generation: None,
        enforcement: Enforcement::Enforce,
        description: None,
        compiled: Ok(Arc::new(compiled)),
    });
    deploy(&mut index, "shop/api:1.0");
    let mut report = mk_report("shop/api:1.0", &[("CVE-2021-44228", Severity::Critical, "1")], Some(t(0)));
    // Published five years ago: that is not how long this cluster has had it.
    report.findings[0].published = Some(t(-5 * 365));
    index.apply_report("r", report);
    index.refresh();
    assert!(evaluate(&mk_workload("shop/api:1.0"), None, &index, t(7)).allowed());
    assert!(!evaluate(&mk_workload("shop/api:1.0"), None, &index, t(8)).allowed());
}

#[test]
fn summaries_count_overdue_new_fixed_and_time_to_fix() {
    let policy = RemediationPolicy::default();
    let rec = |first: i64, fixed: Option<i64>, sev: Severity| Record {
        first_seen: t(first),
        opened: t(first),
        fixed: fixed.map(t),
        cycle: 1,
        revision: 1,
        facts: Facts { severity: sev, known_exploited: false, kev_due: None, risk: 50, internet: false, hidden: false },
    };
    // Ten HIGH findings fixed after 1..=10 days, all fixed within the last 30 days of day 60.
    let mut records: Vec<Record> = (1..=10).map(|d| rec(40, Some(40 + d), Severity::High)).collect();
    records.push(rec(0, None, Severity::Critical)); // open 60 days: overdue (30)
    records.push(rec(58, None, Severity::Critical)); // new this week, not overdue
    let r = summary::remediation(&records, &policy, t(60));
    assert_eq!((r.open, r.overdue, r.new_this_week, r.fixed_this_week), (2, 1, 1, 0));
    assert_eq!(r.overdue_by_severity.get("CRITICAL"), Some(&1));
    let high30 = r.time_to_fix.iter().find(|x| x.severity == "HIGH" && x.window_days == 30).unwrap();
    // Mean of 1..=10 days is 5.5; nearest-rank p90 of ten values is the ninth: 9 days.
    assert_eq!((high30.fixed, high30.mean_days, high30.p90_days), (10, Some(5.5), Some(9.0)));
    let crit30 = r.time_to_fix.iter().find(|x| x.severity == "CRITICAL" && x.window_days == 30).unwrap();
    assert_eq!((crit30.fixed, crit30.mean_days), (0, None));

    let day = summary::daily(&records, &policy, t(45), t(45) + SignedDuration::from_secs(DAY - 1));
    let high = day[Severity::High.rank()];
    // Fixed on day 45: the one opened on day 40 and fixed after 5 days.
    assert_eq!((high.fixed, high.fix_seconds), (1, 5 * DAY));
    assert_eq!(summary::day_start(t(3) + SignedDuration::from_secs(3600)), t(3));
}

#[test]
fn a_finding_becomes_overdue_once_between_two_observations() {
    let policy = RemediationPolicy::default();
    let facts = Facts {
        severity: Severity::Critical,
        known_exploited: false,
        kev_due: None,
        risk: 0,
        internet: false,
        hidden: false,
    };
    let r = Record { first_seen: t(0), opened: t(0), fixed: None, cycle: 1, revision: 1, facts };
    let due = r.due(&policy).unwrap();
    assert!(due > t(1));
    let after = due + SignedDuration::from_hours(1);
    // Between two observations that straddle the due date: once.
    assert_eq!(r.became_overdue(&policy, t(1), after), Some(due));
    assert_eq!(r.became_overdue(&policy, after, after + SignedDuration::from_hours(24)), None);
    // Not yet; and not overdue at the due date itself, so an observation exactly then counts.
    assert_eq!(r.became_overdue(&policy, t(1), due), None);
    assert_eq!(r.became_overdue(&policy, due, after), Some(due));
    // Fixed or hidden findings never become overdue.
    assert_eq!(Record { fixed: Some(t(1)), ..r }.became_overdue(&policy, t(1), after), None);
    let hidden = Record { facts: Facts { hidden: true, ..facts }, ..r };
    assert_eq!(hidden.became_overdue(&policy, t(1), after), None);
}

#[test]
fn a_status_remediation_with_null_maps_reads_as_none() {
    let r: summary::Remediation =
        serde_json::from_value(serde_json::json!({"open": 3, "overdue": 0, "overdueBySeverity": null})).unwrap();
    assert_eq!((r.open, r.overdue_by_severity.len()), (3, 0));
    let written = serde_json::to_value(&r).unwrap();
    assert!(written.get("overdueBySeverity").is_none(), "{written}");
}
