//! The lifecycle scenarios against a real database: a finding appears, persists across a new
//! store handle (a restart) with its first-seen date intact, is fixed when the image is
//! upgraded, reopens when rolled back; writes are idempotent; the schema migrates from
//! empty and from version 1.
//!
//! Always against SQLite (a temp file); against PostgreSQL too when `STANCE_TEST_POSTGRES_URL`
//! names a server (hack/test.sh starts one), each test in a database of its own.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use stance_core::guardrail::{RemediationPolicy, RemediationRule, SeverityDays};
use stance_core::lifecycle::summary::{self, DAY};
use stance_core::lifecycle::{Facts, FindingKey, Observation, Snapshot, SubjectRef, SubjectSnapshot};
use stance_core::model::{FindingKind, Severity};
use stance_history::{HistoryUrl, Scope, Store, schema};

/// 2026-01-01 + `day` days.
fn t(day: i64) -> Timestamp {
    Timestamp::from_second(1_767_225_600 + day * DAY).unwrap()
}

fn app() -> SubjectRef {
    SubjectRef::app("shop", "api")
}

fn key(id: &str, package: &str) -> FindingKey {
    FindingKey { kind: FindingKind::Vulnerability, id: Arc::from(id), what: Arc::from(package) }
}

fn facts(severity: Severity) -> Facts {
    Facts { severity, known_exploited: false, kev_due: None, risk: 60, internet: false, hidden: false }
}

/// The application's findings as the index would hold them: `complete` = every image scanned.
fn snap(findings: &[(&FindingKey, Severity)], complete: bool) -> Snapshot {
    let mut s = SubjectSnapshot { complete, ..Default::default() };
    for (k, sev) in findings {
        s.findings.insert((*k).clone(), Observation { facts: facts(*sev), reported: None });
    }
    let mut out = Snapshot::default();
    out.subjects.insert(app(), s);
    out
}

fn policy() -> RemediationPolicy {
    RemediationPolicy::from(&RemediationRule {
        days: Some(SeverityDays::parse("critical=7,high=30").unwrap()),
        internet_days: None,
        known_exploited_days: None,
    })
}

/// One database per test: a SQLite file in `dir`, and a new database on the PostgreSQL
/// server when one is configured.
async fn databases(dir: &tempfile::TempDir, name: &str) -> Vec<HistoryUrl> {
    let mut out = vec![format!("sqlite:{}/{name}.db", dir.path().display()).parse().unwrap()];
    if let Ok(base) = std::env::var("STANCE_TEST_POSTGRES_URL") {
        out.push(postgres_database(&base, name).await);
    }
    out
}

/// Creates (afresh) database `stance_test_NAME` on the server of `base` and returns its URL.
async fn postgres_database(base: &str, name: &str) -> HistoryUrl {
    use sqlx::Connection;
    let db = format!("stance_test_{name}");
    let mut conn = sqlx::PgConnection::connect(base).await.expect("connect to STANCE_TEST_POSTGRES_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let (server, _) = base.rsplit_once('/').expect("a postgres:// URL ending in /DATABASE");
    format!("{server}/{db}").parse().unwrap()
}

/// Loads the cluster's lifecycles through a new store handle (as a restarted operator
/// does), observes `snapshot` at `now`, writes the changes and closes the handle.
async fn observe(url: &HistoryUrl, snapshot: &Snapshot, now: Timestamp) -> stance_core::lifecycle::Tally {
    let store = Store::open(url, "prod").await.unwrap();
    let mut tracker = store.load().await.unwrap();
    let tally = tracker.observe(snapshot, now);
    let rows = summary::daily_rows(&tracker.ledger(policy()), now);
    let w = store.write(tracker.pending(), &rows, now, "test").await.unwrap();
    assert_eq!((w.changes, w.stale), (tally.total(), 0), "{url}");
    store.close().await;
    tally
}

#[tokio::test]
async fn a_finding_appears_persists_is_fixed_by_an_upgrade_and_reopens_on_rollback() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(&dir, "scenario").await {
        let openssl = key("CVE-2024-0001", "openssl");
        let zlib = key("CVE-2024-0002", "zlib");
        let v1 = snap(&[(&openssl, Severity::Critical), (&zlib, Severity::High)], true);

        // Day 0: both appear.
        assert_eq!(observe(&url, &v1, t(0)).await.new, 2, "{url}");
        // Day 3, after a restart: nothing new, first seen still day 0.
        assert_eq!(observe(&url, &v1, t(3)).await.total(), 0, "{url}");
        let store = Store::open(&url, "prod").await.unwrap();
        let tracker = store.load().await.unwrap();
        let r = tracker.get(&app(), &openssl).copied().unwrap();
        assert_eq!((r.first_seen, r.fixed, r.cycle), (t(0), None, 1), "{url}");
        store.close().await;

        // Day 5: a rollout waits for its scan (incomplete): nothing is fixed.
        assert_eq!(observe(&url, &snap(&[], false), t(5)).await.fixed, 0, "{url}");
        // Day 10: the upgraded image is scanned and has only zlib's finding.
        let v2 = snap(&[(&zlib, Severity::High)], true);
        assert_eq!(observe(&url, &v2, t(10)).await.fixed, 1, "{url}");
        // Day 12: rolled back: openssl's finding reopens, first seen still day 0.
        let tally = observe(&url, &v1, t(12)).await;
        assert_eq!((tally.reopened, tally.new), (1, 0), "{url}");

        let store = Store::open(&url, "prod").await.unwrap();
        let tracker = store.load().await.unwrap();
        let r = tracker.get(&app(), &openssl).copied().unwrap();
        assert_eq!((r.first_seen, r.opened, r.fixed, r.cycle), (t(0), t(12), None, 2), "{url}");

        // The reader: the openssl lifecycle fixed on day 10 after 10 days, overdue again
        // (critical: 7 days from first seen), zlib (high, 30 days) not yet.
        let reader = store.reader();
        let scope = Scope { cluster: Some("prod".into()), subject: Some(app()) };
        let found = reader.findings(&scope, t(0), &policy(), t(12), false).await.unwrap();
        let ids: Vec<(&str, bool, u32)> = found.iter().map(|f| (f.id.as_str(), f.overdue, f.cycle)).collect();
        assert_eq!(ids, [("CVE-2024-0001", true, 2), ("CVE-2024-0002", false, 1)], "{url}");
        assert_eq!(found[0].first_seen, t(0).to_string());
        let overdue = reader.findings(&scope, t(12), &policy(), t(12), true).await.unwrap();
        assert_eq!(overdue.len(), 1, "{url}");
        let by = reader.remediation(&scope, &policy(), t(12)).await.unwrap();
        let rem = by.get(&("prod".to_string(), app())).unwrap();
        assert_eq!((rem.open, rem.overdue), (2, 1), "{url}");

        // Trends: one point per day observed and severity; the whole cluster's rows.
        let trend = reader.trends(&Scope { cluster: None, subject: None }, t(0)).await.unwrap();
        let day10: Vec<_> = trend.iter().filter(|p| p.day == "2026-01-11").collect();
        let critical = day10.iter().find(|p| p.severity == "CRITICAL").unwrap();
        assert_eq!((critical.counts.open, critical.counts.fixed), (0, 1), "{url}");
        assert_eq!(critical.counts.fix_seconds, 10 * DAY, "{url}");
        let clusters = reader.clusters().await.unwrap();
        assert_eq!(clusters, [("prod".to_string(), t(12))], "{url}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_write_repeated_after_a_failover_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(&dir, "idempotent").await {
        let openssl = key("CVE-2024-0001", "openssl");
        // Two replicas load the same (empty) state and observe the same change.
        let a = Store::open(&url, "prod").await.unwrap();
        let b = Store::open(&url, "prod").await.unwrap();
        let mut ta = a.load().await.unwrap();
        let mut tb = b.load().await.unwrap();
        ta.observe(&snap(&[(&openssl, Severity::High)], true), t(0));
        tb.observe(&snap(&[(&openssl, Severity::High)], true), t(0));
        let wa = a.write(ta.pending(), &[], t(0), "replica-a").await.unwrap();
        assert_eq!((wa.findings, wa.events, wa.stale), (1, 1, 0), "{url}");
        // The old leader's write (interrupted before it heard back) is retried by the new one.
        let wb = b.write(tb.pending(), &[], t(0), "replica-b").await.unwrap();
        assert_eq!((wb.findings, wb.events, wb.stale), (0, 0, 1), "{url}");
        let wa = a.write(ta.pending(), &[], t(0), "replica-a").await.unwrap();
        assert_eq!((wa.findings, wa.events), (0, 0), "{url}");
        // The fix is then written once as well.
        ta.committed(ta.pending().len());
        ta.observe(&snap(&[], true), t(4));
        let w = a.write(ta.pending(), &[], t(4), "replica-a").await.unwrap();
        assert_eq!((w.findings, w.events), (1, 1), "{url}");
        let r = b.load().await.unwrap().get(&app(), &openssl).copied().unwrap();
        assert_eq!((r.first_seen, r.fixed, r.revision), (t(0), Some(t(4)), 2), "{url}");
        a.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn first_seen_only_moves_earlier() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(&dir, "first_seen").await {
        let openssl = key("CVE-2024-0001", "openssl");
        let store = Store::open(&url, "prod").await.unwrap();
        // A replica that restarted without the store's state sees it "new" later…
        let mut late = stance_core::lifecycle::Tracker::new();
        late.observe(&snap(&[(&openssl, Severity::High)], true), t(5));
        // …after the store already holds it from day 0, at a lower revision.
        let mut early = stance_core::lifecycle::Tracker::new();
        early.observe(&snap(&[(&openssl, Severity::High)], true), t(0));
        early.observe(&snap(&[(&openssl, Severity::Critical)], true), t(1));
        store.write(early.pending(), &[], t(1), "a").await.unwrap();
        store.write(late.pending(), &[], t(5), "b").await.unwrap();
        let r = store.load().await.unwrap().get(&app(), &openssl).copied().unwrap();
        assert_eq!((r.first_seen, r.facts.severity), (t(0), Severity::Critical), "{url}");
        store.close().await;
    }
}

#[tokio::test]
async fn the_schema_migrates_from_empty_and_from_version_1() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(&dir, "migrations").await {
        let openssl = key("CVE-2024-0001", "openssl");
        // A store created by the first release (lifecycles only) holding one lifecycle.
        let v1 = Store::open_at(&url, "prod", 1).await.unwrap();
        let mut tracker = v1.load().await.unwrap();
        tracker.observe(&snap(&[(&openssl, Severity::High)], true), t(0));
        let err = v1.write(tracker.pending(), &[], t(0), "old").await.unwrap_err();
        // Version 1 has no `clusters` table: this build's writes need the upgrade.
        assert!(err.to_string().contains(&url.to_string()), "{err}");
        v1.close().await;
        // Upgraded by opening it: version 2's tables appear, nothing is lost.
        let store = Store::open(&url, "prod").await.unwrap();
        store.write(tracker.pending(), &[], t(0), "new").await.unwrap();
        let reopened = Store::open(&url, "prod").await.unwrap();
        let r = reopened.load().await.unwrap().get(&app(), &openssl).copied().unwrap();
        assert_eq!(r.first_seen, t(0), "{url}");
        assert_eq!(reopened.reader().clusters().await.unwrap().len(), 1, "{url}");
        store.close().await;
        reopened.close().await;
    }
    // From empty: every version applied, in order, once.
    for url in databases(&dir, "migrations_empty").await {
        let store = Store::open(&url, "prod").await.unwrap();
        Store::open(&url, "prod").await.unwrap().close().await;
        assert!(store.reader().clusters().await.unwrap().is_empty());
        assert_eq!(schema::LATEST, 2);
        store.close().await;
    }
}

#[tokio::test]
async fn retention_deletes_lifecycles_fixed_before_the_cutoff() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(&dir, "retention").await {
        let (a, b) = (key("CVE-2024-0001", "openssl"), key("CVE-2024-0002", "zlib"));
        observe(&url, &snap(&[(&a, Severity::High), (&b, Severity::High)], true), t(0)).await;
        observe(&url, &snap(&[(&b, Severity::High)], true), t(2)).await;
        let store = Store::open(&url, "prod").await.unwrap();
        assert!(store.retain(t(2) + SignedDuration::from_secs(1)).await.unwrap() > 0);
        let tracker = store.load().await.unwrap();
        assert_eq!(tracker.get(&app(), &a), None, "{url}");
        assert_eq!(tracker.get(&app(), &b).map(|r| r.first_seen), Some(t(0)), "{url}");
        store.close().await;
    }
}
