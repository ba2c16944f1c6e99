//! The operator's history hook (`--history URL`, docs/history.md): a task of its own, off
//! the reconcile and admission paths, that observes the index after changes and writes what
//! changed to the store.
//!
//! - Only the writer (the leader, once every watch has listed) observes and writes; when a
//!   replica becomes the writer it reloads the lifecycles from the store, so what the previous
//!   leader wrote is its starting point (a restart keeps every first-seen date).
//! - Every replica gives its index the lifecycle view (`PostureIndex::set_ledger`), so the
//!   webhook's verdicts count due dates from first seen in the cluster on every replica;
//!   replicas that do not write reload it from the store every [`FOLLOW_EVERY`].
//! - The database down: Stance keeps working from memory — changes stay pending in the
//!   tracker with their dates, `stance_history_up` is 0, a warning is logged — and the
//!   pending changes are written when it returns (a first-seen date only moves earlier).

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use stance_core::guardrail::RemediationPolicy;
use stance_core::index::SharedIndex;
use stance_core::lifecycle::summary;
use stance_core::lifecycle::{Tracker, snapshot};
use stance_history::{HistoryUrl, Store};
use tokio::sync::watch as channel;
use tokio_util::sync::CancellationToken;

use super::history_events::{self, HistoryEvents};

/// What the hook needs (`--history`, `--cluster-name`, the remediation flags).
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    pub url: HistoryUrl,
    pub cluster: String,
    pub policy: RemediationPolicy,
    pub retention: SignedDuration,
    /// This replica (written with each observation: who wrote last).
    pub identity: String,
    /// Observations wait this long for further index changes (a relist arrives in many
    /// batches): [`SETTLE`].
    pub settle: Duration,
    /// And run at least this often (due dates pass without any index change): [`EVERY`].
    pub every: Duration,
}

/// The operator's [`HistoryOptions::settle`].
pub const SETTLE: Duration = Duration::from_secs(5);
/// The operator's [`HistoryOptions::every`].
pub const EVERY: Duration = Duration::from_secs(60);
/// Non-writers reload the lifecycles this often.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(300);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabel {
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`.
    pub severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WindowLabels {
    /// `CRITICAL`…`LOW` or `ALL`.
    pub severity: String,
    /// `30` or `90` (days).
    pub window: String,
}

/// The `stance_history_*` metrics (bounded labels: severity and window only).
#[derive(Debug, Default)]
pub struct HistoryMetrics {
    /// 1 when the last read or write of the store succeeded.
    pub up: Gauge,
    /// Changes observed and not yet written.
    pub pending: Gauge,
    /// Changes written.
    pub written: Counter,
    pub open: Family<SeverityLabel, Gauge>,
    pub overdue: Family<SeverityLabel, Gauge>,
    /// Mean time to fix, in seconds, of the lifecycles fixed in the window.
    pub time_to_fix_mean: Family<WindowLabels, Gauge>,
    pub time_to_fix_p90: Family<WindowLabels, Gauge>,
    /// Admission decisions (violations) written to the audit trail ([`super::decisions`]).
    pub decisions_written: Counter,
    /// Admission decisions dropped while the store was behind.
    pub decisions_dropped: Counter,
}

impl HistoryMetrics {
    /// Registers under `stance_history_`.
    pub fn register(registry: &mut Registry) -> Arc<HistoryMetrics> {
        let m = HistoryMetrics::default();
        let r = registry.sub_registry_with_prefix("stance_history");
        r.register("up", "1 when the history store answered the last read or write", m.up.clone());
        r.register("pending_changes", "Lifecycle changes observed and not yet written", m.pending.clone());
        r.register("written_changes", "Lifecycle changes written to the store", m.written.clone());
        r.register("open_findings", "Open findings (hidden ones excluded), by severity", m.open.clone());
        r.register("overdue_findings", "Open findings past their due date, by severity", m.overdue.clone());
        r.register(
            "time_to_fix_mean_seconds",
            "Mean time to fix of findings fixed in the window (days: 30 or 90), by severity",
            m.time_to_fix_mean.clone(),
        );
        r.register(
            "time_to_fix_p90_seconds",
            "90th percentile time to fix of findings fixed in the window, by severity",
            m.time_to_fix_p90.clone(),
        );
        r.register(
            "admission_decisions_written",
            "Admission decisions (one per violation) written",
            m.decisions_written.clone(),
        );
        r.register(
            "admission_decisions_dropped",
            "Admission decisions dropped because the store was down and the buffer full",
            m.decisions_dropped.clone(),
        );
        Arc::new(m)
    }

    fn observe(&self, tracker: &Tracker, policy: &RemediationPolicy, now: Timestamp) {
        let records: Vec<_> = tracker.records().map(|(_, _, r)| *r).collect();
        for sev in summary::TRACKED_SEVERITIES {
            let label = SeverityLabel { severity: sev.as_str().to_string() };
            let of = records.iter().filter(|r| r.facts.severity == sev && r.is_open() && !r.facts.hidden);
            self.open.get_or_create(&label).set(of.clone().count() as i64);
            self.overdue.get_or_create(&label).set(of.filter(|r| r.overdue(policy, now)).count() as i64);
        }
        let fixed: Vec<_> = records.iter().filter(|r| r.fixed.is_some()).copied().collect();
        for t in summary::time_to_fix_table(&fixed, now) {
            let label = WindowLabels { severity: t.severity.clone(), window: t.window_days.to_string() };
            let secs = |d: Option<f64>| (d.unwrap_or(0.0) * summary::DAY as f64) as i64;
            self.time_to_fix_mean.get_or_create(&label).set(secs(t.mean_days));
            self.time_to_fix_p90.get_or_create(&label).set(secs(t.p90_days));
        }
        self.pending.set(tracker.pending().len() as i64);
    }
}

/// Runs until `token` is cancelled (see the module documentation); with `events`, publishes
/// the history's Kubernetes Events ([`super::history_events`]).
pub async fn run(
    opts: HistoryOptions,
    index: SharedIndex,
    mut changes: channel::Receiver<u64>,
    mut writer: channel::Receiver<bool>,
    metrics: Arc<HistoryMetrics>,
    events: Option<HistoryEvents>,
    token: CancellationToken,
) {
    let mut store: Option<Store> = None;
    // What the last store Event said (None: nothing yet), and why the store failed last.
    let mut announced_up: Option<bool> = None;
    let mut last_error = String::new();
    // The writer announces findings that became overdue since this time.
    let mut overdue_from: Option<Timestamp> = None;
    // `None` until loaded from the store (or, with the store down, started empty).
    let mut tracker: Option<Tracker> = None;
    let mut loaded = false;
    let mut was_writer = false;
    let mut followed: Option<std::time::Instant> = None;
    loop {
        let is_writer = *writer.borrow_and_update();
        changes.borrow_and_update();
        if store.is_none() {
            match Store::open(&opts.url, &opts.cluster).await {
                Ok(s) => store = Some(s),
                Err(e) => {
                    metrics.up.set(0);
                    last_error = e.to_string();
                    tracing::warn!(error = %e, "history store unavailable: tracking in memory until it returns");
                }
            }
        }
        let reload = !loaded
            || (is_writer && !was_writer)
            || (!is_writer && followed.is_none_or(|t| t.elapsed() >= FOLLOW_EVERY));
        if reload && let Some(s) = &store {
            match s.load().await {
                Ok(fresh) => {
                    // Changes observed while the store was away are written first (their
                    // first-seen dates only move stored ones earlier), then reloaded.
                    let unsaved = tracker.as_ref().is_some_and(|t| !t.pending().is_empty());
                    if unsaved && let Some(old) = &mut tracker {
                        if let Write::Done { .. } = write(s, old, &opts, &metrics).await {
                            loaded = false;
                        }
                    } else {
                        tracker = Some(fresh);
                        loaded = true;
                        followed = Some(std::time::Instant::now());
                        metrics.up.set(1);
                    }
                }
                Err(e) => {
                    metrics.up.set(0);
                    last_error = e.to_string();
                    tracing::warn!(error = %e, "cannot load the history: tracking in memory until the store returns");
                    if e.is_unavailable() {
                        store = None;
                    }
                }
            }
        }
        if is_writer && !was_writer {
            overdue_from = None;
        }
        was_writer = is_writer;
        let t = tracker.get_or_insert_with(Tracker::new);
        let now = Timestamp::now();
        let snap = match index.read() {
            Ok(idx) => snapshot(&idx, now),
            Err(_) => return,
        };
        if is_writer {
            let tally = t.observe(&snap, now);
            if tally.total() > 0 {
                tracing::info!(new = tally.new, fixed = tally.fixed, reopened = tally.reopened, "lifecycle changes");
            }
            if let Some(ev) = &events {
                let from = match overdue_from {
                    Some(from) => Some(from),
                    // Where the previous writer stopped (before this pass writes over it).
                    None => match &store {
                        Some(s) if loaded => s
                            .reader()
                            .clusters()
                            .await
                            .ok()
                            .and_then(|c| c.into_iter().find(|(name, _)| *name == opts.cluster).map(|(_, at)| at)),
                        _ => None,
                    },
                };
                let due = match (from, index.read()) {
                    (Some(from), Ok(idx)) => history_events::overdue_since(t, &idx, &opts.policy, from, now),
                    _ => Vec::new(),
                };
                tracing::debug!(?from, %now, overdue = due.len(), "findings that became overdue");
                ev.overdue(&due).await;
                overdue_from = Some(now);
            }
            if let Some(s) = &store
                && loaded
            {
                match write(s, t, &opts, &metrics).await {
                    Write::Done { stale } => loaded = stale == 0,
                    Write::Refused(e) => last_error = e,
                    Write::Unavailable(e) => {
                        last_error = e;
                        store = None;
                    }
                }
            }
        } else {
            // Follow the writer's records; observe in memory only, so findings the store
            // does not know yet count from now on this replica too.
            let mut view = t.clone();
            view.observe(&snap, now);
            if let Ok(mut idx) = index.write() {
                idx.set_ledger(Arc::new(view.ledger(opts.policy)));
            }
        }
        if is_writer && let Ok(mut idx) = index.write() {
            idx.set_ledger(Arc::new(t.ledger(opts.policy)));
        }
        metrics.observe(t, &opts.policy, now);
        if let Some(ev) = &events {
            let up = metrics.up.get() == 1;
            if announced_up != Some(up) {
                // Nothing to say about a store that was up from the start.
                if announced_up.is_some() || !up {
                    ev.store(&opts.url.to_string(), (!up).then_some(last_error.as_str())).await;
                }
                announced_up = Some(up);
            }
        }
        tokio::select! {
            _ = token.cancelled() => return,
            r = changes.changed() => if r.is_err() { return },
            r = writer.changed() => if r.is_err() { return },
            _ = tokio::time::sleep(opts.every) => {}
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(opts.settle) => {}
        }
    }
}

/// What [`write`] did.
enum Write {
    /// Written; `stale` lifecycles were newer in the store (reload).
    Done { stale: usize },
    /// A statement was refused (logged; retrying will not help, the changes are kept).
    Refused(String),
    /// The store is unreachable (the changes stay pending).
    Unavailable(String),
}

/// Writes the tracker's pending changes, today's roll-ups and retention; on success the
/// changes leave the tracker's queue.
async fn write(store: &Store, tracker: &mut Tracker, opts: &HistoryOptions, metrics: &HistoryMetrics) -> Write {
    let now = tracker.observed().unwrap_or_else(Timestamp::now);
    let rows = summary::daily_rows(&tracker.ledger(opts.policy), now);
    match store.write(tracker.pending(), &rows, now, &opts.identity).await {
        Ok(w) => {
            tracker.committed(w.changes);
            metrics.written.inc_by(w.changes as u64);
            metrics.up.set(1);
            if let Err(e) = store.retain(now - opts.retention).await {
                tracing::warn!(error = %e, "history retention failed");
            }
            Write::Done { stale: w.stale }
        }
        Err(e) => {
            metrics.up.set(0);
            tracing::warn!(error = %e, pending = tracker.pending().len(), "cannot write the history: kept in memory");
            if e.is_unavailable() { Write::Unavailable(e.to_string()) } else { Write::Refused(e.to_string()) }
        }
    }
}
