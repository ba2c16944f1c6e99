//! The history store at scale (issue 12 §4; BENCHMARKS.md "History store"): SUBJECTS
//! applications × FINDINGS open findings each, observed once a day for DAYS days with CHURN
//! (fraction) of every application's findings fixed and as many new ones each day.
//!
//! Reports, per store, the median and worst time of one day's refresh (tracker diff +
//! write of the changes and roll-ups), the first day (every lifecycle new: what writing a
//! full snapshot costs), a full-snapshot rewrite of every lifecycle at the end (side by side
//! with the diff), the store's size, and the trend / time-to-fix queries for one application
//! and for the whole cluster.
//!
//! `cargo bench -p stance-history --bench store` with the environment:
//! `STANCE_BENCH_SUBJECTS` (default 1000), `STANCE_BENCH_FINDINGS` (100), `STANCE_BENCH_DAYS`
//! (10), `STANCE_BENCH_CHURN` (0.05), `STANCE_BENCH_POSTGRES_URL` (also run against this
//! PostgreSQL server, in a database `stance_bench` it recreates).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use stance_core::guardrail::RemediationPolicy;
use stance_core::lifecycle::summary::{self, DAY};
use stance_core::lifecycle::{
    Change, Event, Facts, FindingKey, Observation, Snapshot, SubjectRef, SubjectSnapshot, Tracker,
};
use stance_core::model::{FindingKind, Severity};
use stance_history::{HistoryUrl, Scope, Store};

fn env(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// xorshift64*: the same data on every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

const SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

fn key(n: usize) -> FindingKey {
    FindingKey {
        kind: FindingKind::Vulnerability,
        id: Arc::from(format!("CVE-2025-{n:06}")),
        what: Arc::from(format!("pkg{}", n % 97)),
    }
}

fn observation(n: usize) -> Observation {
    Observation {
        facts: Facts {
            severity: SEVERITIES[n % 4],
            known_exploited: n % 50 == 0,
            kev_due: None,
            risk: (n % 100) as u32,
            internet: n % 3 == 0,
            hidden: false,
        },
        reported: None,
    }
}

/// The applications' finding numbers, and the next new one.
struct World {
    apps: Vec<Vec<usize>>,
    next: usize,
}

impl World {
    fn new(subjects: usize, findings: usize) -> World {
        let apps = (0..subjects).map(|s| (s * findings..(s + 1) * findings).collect()).collect();
        World { apps, next: subjects * findings }
    }

    /// Fixes `churn` of every application's findings and adds as many new ones.
    fn churn(&mut self, rng: &mut Rng, churn: f64) {
        for app in &mut self.apps {
            let n = ((app.len() as f64) * churn).round() as usize;
            for _ in 0..n {
                let i = rng.below(app.len());
                app[i] = self.next;
                self.next += 1;
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot::default();
        for (i, app) in self.apps.iter().enumerate() {
            let mut s = SubjectSnapshot { complete: true, ..Default::default() };
            for &n in app {
                s.findings.insert(key(n), observation(n));
            }
            snap.subjects.insert(subject(i), s);
        }
        snap
    }
}

fn subject(i: usize) -> SubjectRef {
    SubjectRef::app(&format!("ns{}", i % 100), &format!("app{i}"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

async fn run(url: &HistoryUrl, size: Option<&dyn Fn() -> u64>) {
    let subjects = env("STANCE_BENCH_SUBJECTS", 1000.0) as usize;
    let findings = env("STANCE_BENCH_FINDINGS", 100.0) as usize;
    let days = env("STANCE_BENCH_DAYS", 10.0) as i64;
    let churn = env("STANCE_BENCH_CHURN", 0.05);
    let policy = RemediationPolicy::default();
    let store = Store::open(url, "bench").await.unwrap();
    let mut tracker = Tracker::new();
    let mut world = World::new(subjects, findings);
    let mut rng = Rng(42);
    let start = Timestamp::from_second(1_767_225_600).unwrap();
    let mut refreshes = Vec::new();
    let mut first = Duration::ZERO;
    let mut changes = 0;
    for day in 0..=days {
        if day > 0 {
            world.churn(&mut rng, churn);
        }
        let snap = world.snapshot();
        let now = start + SignedDuration::from_secs(day * DAY);
        let t = Instant::now();
        let tally = tracker.observe(&snap, now);
        let rows = summary::daily_rows(&tracker.ledger(policy), now);
        let w = store.write(tracker.pending(), &rows, now, "bench").await.unwrap();
        tracker.committed(w.changes);
        let took = t.elapsed();
        if day == 0 {
            first = took;
        } else {
            refreshes.push(took);
            changes = tally.total();
        }
    }
    let worst = refreshes.iter().max().copied().unwrap_or_default();
    let diff = median(refreshes);
    // A full snapshot at the end: every lifecycle rewritten (revision + 1), as a store that
    // kept whole snapshots instead of changes would each refresh.
    let now = start + SignedDuration::from_secs((days + 1) * DAY);
    let all: Vec<Change> = tracker
        .records()
        .map(|(s, k, r)| Change {
            subject: s.clone(),
            key: k.clone(),
            event: Event::Changed,
            at: now,
            record: stance_core::lifecycle::Record { revision: r.revision + 1, ..*r },
        })
        .collect();
    let t = Instant::now();
    store.write(&all, &[], now, "bench").await.unwrap();
    let full = t.elapsed();
    let reader = store.reader();
    let one = Scope { cluster: Some("bench".into()), subject: Some(subject(7)) };
    let cluster = Scope { cluster: Some("bench".into()), subject: None };
    let since = start;
    let q = |label: &str, d: Duration| println!("  {label:<44} {:>9.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{url}: {subjects} apps x {findings} findings = {} lifecycles open, {days} days at {:.0}% churn ({} records)",
        subjects * findings,
        churn * 100.0,
        tracker.len()
    );
    q("first day (all new = a full snapshot write)", first);
    q(&format!("daily refresh, median ({changes} changes)"), diff);
    q("daily refresh, worst", worst);
    q(&format!("full-snapshot rewrite ({} rows)", all.len()), full);
    for (label, scope) in [("trends, one app", &one), ("trends, whole cluster", &cluster)] {
        let mut v = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            reader.trends(scope, since).await.unwrap();
            v.push(t.elapsed());
        }
        q(&format!("{label} (median of 5)"), median(v));
    }
    for (label, scope) in [("time to fix, one app", &one), ("time to fix, whole cluster", &cluster)] {
        let mut v = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            reader.time_to_fix(scope, now).await.unwrap();
            v.push(t.elapsed());
        }
        q(&format!("{label} (median of 3)"), median(v));
    }
    store.close().await;
    if let Some(size) = size {
        println!("  {:<44} {:>9.1} MB", "store size (file + WAL)", size() as f64 / 1e6);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let url: HistoryUrl = format!("sqlite:{}", path.display()).parse().unwrap();
    let files = [path.clone(), dir.path().join("bench.db-wal")];
    let size = || files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    run(&url, Some(&size)).await;
    if let Ok(base) = std::env::var("STANCE_BENCH_POSTGRES_URL") {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::query("DROP DATABASE IF EXISTS stance_bench").execute(&mut conn).await.unwrap();
        sqlx::query("CREATE DATABASE stance_bench").execute(&mut conn).await.unwrap();
        let (server, _) = base.rsplit_once('/').unwrap();
        let url: HistoryUrl = format!("{server}/stance_bench").parse().unwrap();
        run(&url, None).await;
        let bytes: i64 =
            sqlx::query_scalar("SELECT pg_database_size('stance_bench')").fetch_one(&mut conn).await.unwrap();
        println!("  {:<44} {:>9.1} MB", "store size (pg_database_size)", bytes as f64 / 1e6);
    }
}
