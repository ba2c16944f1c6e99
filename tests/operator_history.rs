//! The operator's history hook (src/controller/history.rs) over the storefront timeline of
//! examples/history, with a real SQLite store: the store is down when the operator starts
//! (its folder is missing), the changes wait in memory and are written when it returns; an
//! operator restart on the upgraded image keeps every first-seen date (the upgrade's report
//! is dated three weeks later) and records the fixes; the metrics show time to fix.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use prometheus_client::registry::Registry;
use stance::controller::history::{self, HistoryMetrics, HistoryOptions};
use stance_core::guardrail::RemediationPolicy;
use stance_core::index::{IndexConfig, SharedIndex};
use stance_core::lifecycle::SubjectRef;
use stance_history::{HistoryUrl, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

fn index(version: &str) -> SharedIndex {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/history");
    let (idx, _) =
        stance::ingest::load_index(IndexConfig::default(), &[root.join("stance"), root.join(version)]).unwrap();
    Arc::new(RwLock::new(idx))
}

fn report(version: &str) -> serde_json::Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/history/{version}/vulnerabilityreport.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn report_time(version: &str) -> Timestamp {
    report(version)["report"]["updateTimestamp"].as_str().unwrap().parse().unwrap()
}

/// Finding identities in a report: (id, package short name).
fn identities(version: &str) -> usize {
    let r = report(version);
    let ids: BTreeSet<(String, String)> = r["report"]["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let resource = v["resource"].as_str().unwrap();
            let short = resource.rsplit([':', '/']).next().unwrap().to_ascii_lowercase();
            (v["vulnerabilityID"].as_str().unwrap().to_string(), short)
        })
        .collect();
    ids.len()
}

fn options(url: &HistoryUrl) -> HistoryOptions {
    HistoryOptions {
        url: url.clone(),
        cluster: "prod".into(),
        policy: RemediationPolicy::default(),
        retention: SignedDuration::from_hours(400 * 24),
        identity: "test".into(),
        settle: Duration::from_millis(20),
        every: Duration::from_millis(100),
    }
}

/// The running hook (as the writer: it leads and every watch has listed).
struct Hook {
    token: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    _changes: watch::Sender<u64>,
    _writer: watch::Sender<bool>,
}

fn start(url: &HistoryUrl, index: SharedIndex, metrics: Arc<HistoryMetrics>) -> Hook {
    let token = CancellationToken::new();
    let (changes, changes_rx) = watch::channel(0u64);
    let (writer, writer_rx) = watch::channel(true);
    let task = tokio::spawn(history::run(options(url), index, changes_rx, writer_rx, metrics, None, token.clone()));
    Hook { token, task, _changes: changes, _writer: writer }
}

impl Hook {
    /// Stops it, as an operator shutting down.
    async fn stop(self) {
        self.token.cancel();
        self.task.await.unwrap();
    }
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn stored(url: &HistoryUrl) -> stance_core::lifecycle::Tracker {
    let s = Store::open(url, "prod").await.unwrap();
    let t = s.load().await.unwrap();
    s.close().await;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_keeps_first_seen_across_a_restart_and_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("not-yet");
    let url: HistoryUrl = format!("sqlite:{}/history.db", folder.display()).parse().unwrap();
    let storefront = SubjectRef::app("shop", "storefront");

    // The store is down: the changes are observed and kept in memory.
    let mut registry = Registry::default();
    let metrics = HistoryMetrics::register(&mut registry);
    let v1 = index("v1");
    let hook = start(&url, v1.clone(), metrics.clone());
    let n1 = identities("v1") as i64;
    until("every finding pending", || metrics.pending.get() == n1).await;
    assert_eq!(metrics.up.get(), 0);
    // The index already has the lifecycle view (the webhook's due dates use it).
    let first = report_time("v1");
    let ledger = v1.read().unwrap().ledger().cloned().unwrap();
    assert!(ledger.subject(&storefront).unwrap().values().all(|r| r.first_seen == first));

    // It returns: the pending changes are written, with their first-seen dates.
    std::fs::create_dir_all(&folder).unwrap();
    until("the store is up and written", || metrics.up.get() == 1 && metrics.pending.get() == 0).await;
    let t = stored(&url).await;
    assert_eq!(t.len() as i64, n1);
    assert!(t.records().all(|(_, _, r)| r.first_seen == first && r.fixed.is_none()));
    hook.stop().await;

    // Restart on the upgraded image, whose report is dated three weeks later.
    let metrics = HistoryMetrics::register(&mut Registry::default());
    let v2 = index("v2");
    assert!(report_time("v2") > first);
    let hook = start(&url, v2.clone(), metrics.clone());
    until("the fixes are written", || metrics.written.get() > 0 && metrics.pending.get() == 0).await;
    let t = stored(&url).await;
    let open: Vec<_> = t.records().filter(|(_, _, r)| r.fixed.is_none()).collect();
    let fixed: Vec<_> = t.records().filter(|(_, _, r)| r.fixed.is_some()).collect();
    let n2 = identities("v2");
    assert_eq!((open.len(), fixed.len()), (n2, n1 as usize - n2));
    // First seen stays the v1 scan's time for every finding the upgrade kept.
    assert!(open.iter().all(|(_, _, r)| r.first_seen == first));
    // Time to fix: from the v1 scan to now, over the fixed ones, in the metrics.
    let ttf = metrics
        .time_to_fix_mean
        .get_or_create(&history::WindowLabels { severity: "ALL".into(), window: "90".into() })
        .get();
    // (all fixed at one observation; the summaries round to a tenth of a day)
    let expected = fixed[0].2.fixed.unwrap().duration_since(first).as_secs();
    assert!(fixed.iter().all(|(_, _, r)| r.fixed == fixed[0].2.fixed));
    assert!((ttf - expected).abs() <= 4320 + 60, "{ttf} vs {expected}");
    hook.stop().await;
}
