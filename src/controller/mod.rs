//! The operator: watches feed the shared index; reconcilers write status from it.
//!
//! - [`watch`]: every watched kind → the index (relist = reset; optional kinds rediscovered).
//! - [`reconcile`]: AppPosture status, via kube-runtime's `Controller`, re-run for the
//!   applications index changes reach (coalesced; [`route_changes`]) and at exception expiry.
//! - [`sweep`]: discovered image Assets; Asset, GuardrailPolicy and RiskException status.
//! - [`leader`]: only the Lease holder writes; every replica keeps its index warm.

pub mod decisions;
pub mod feed;
pub mod history;
pub mod history_events;
pub mod ingest_api;
pub mod leader;
pub mod listing;
pub mod metrics;
pub mod observed;
pub mod policy_reports;
pub mod reconcile;
pub mod status;
pub mod sweep;
pub mod targets;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::Api;
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio::sync::watch as channel;
use tokio_util::sync::CancellationToken;

use self::metrics::ControllerMetrics;
use crate::api::AppPosture;
use crate::telemetry::Readiness;
use stance_core::index::{Affected, SharedIndex, refresh_shared};

/// Operator settings.
#[derive(Clone, Debug)]
pub struct OperatorOptions {
    /// Namespace of the leader Lease (Stance's own namespace).
    pub namespace: String,
    /// This replica's identity in the Lease and in Events (the pod name).
    pub identity: String,
    /// With `false` this replica always writes (single-replica development setups).
    pub leader_election: bool,
    /// CISA KEV JSON and FIRST EPSS CSV files, re-read when they change.
    pub feeds: Vec<PathBuf>,
    /// How long reconciliation waits for more index changes.
    pub debounce: Duration,
    /// Also write PolicyReports with the guardrail results.
    pub policy_reports: bool,
    /// Record the remediation history (`--history`; [`history`]).
    pub history: Option<(history::HistoryOptions, Arc<history::HistoryMetrics>)>,
    /// The read budget of each watched object.
    pub limits: crate::ingest::Limits,
}

/// Runs the operator until `token` is cancelled. `changes` receives the index generation
/// after every watch batch (the webhook can use it too).
pub async fn run(
    client: Client,
    opts: OperatorOptions,
    index: SharedIndex,
    metrics: Arc<ControllerMetrics>,
    readiness: Readiness,
    token: CancellationToken,
) {
    let (changes_tx, changes_rx) = channel::channel(0u64);
    let (leader_tx, leader_rx) = channel::channel(false);
    let leader_task = if opts.leader_election {
        let cfg = leader::LeaderConfig::new(&opts.namespace, &opts.identity);
        Some(tokio::spawn(leader::run(client.clone(), cfg, leader_tx, token.clone())))
    } else {
        leader_tx.send_replace(true);
        None
    };
    {
        let metrics = metrics.clone();
        let mut rx = leader_rx.clone();
        tokio::spawn(async move {
            loop {
                metrics.leader.set(i64::from(*rx.borrow()));
                if rx.changed().await.is_err() {
                    return;
                }
            }
        });
    }
    tokio::spawn(feeds(opts.feeds.clone(), index.clone(), changes_tx.clone(), token.clone()));
    // Status, Events and Assets are written only by the leader, and only once every watch
    // has listed: a status computed from a half-listed index would undercount, then
    // announce the rest as "new" critical findings, on every start and failover.
    let writer_rx = writer(leader_rx.clone(), changes_rx.clone(), readiness.clone(), token.clone());
    let observed = observed::SharedObserved::default();
    let wctx = watch::WatchContext {
        client: client.clone(),
        index: index.clone(),
        observed: observed.clone(),
        changes: changes_tx,
        readiness,
        metrics: metrics.clone(),
        limits: opts.limits,
        refresh_gate: Arc::new(tokio::sync::Mutex::new(())),
    };
    tokio::spawn(watch::run(wctx, token.clone()));
    if let Some((h, m)) = opts.history.clone() {
        let lease = leader::LeaderConfig::new(&opts.namespace, &opts.identity).lease_name;
        let events = history_events::HistoryEvents::new(client.clone(), &opts.identity, &opts.namespace, &lease);
        tokio::spawn(history::run(
            h,
            index.clone(),
            changes_rx.clone(),
            writer_rx.clone(),
            m,
            Some(events),
            token.clone(),
        ));
    }
    let sweep = sweep::SweepContext {
        client: client.clone(),
        index: index.clone(),
        observed,
        metrics: metrics.clone(),
        policy_reports: opts.policy_reports,
    };
    tokio::spawn(sweep::run(sweep, changes_rx.clone(), writer_rx.clone(), token.clone()));

    let reporter = Reporter { controller: "stance".into(), instance: Some(opts.identity.clone()) };
    let ctx = Arc::new(reconcile::Context {
        client: client.clone(),
        index: index.clone(),
        events: reconcile::event_publisher(Recorder::new(client.clone(), reporter), metrics.clone()),
        metrics,
        leader: writer_rx.clone(),
    });
    // Re-run the AppPostures a burst of index changes reaches (every one when it reaches
    // everything, and when this replica becomes the writer).
    let (all_tx, all_rx) = futures::channel::mpsc::unbounded();
    let (some_tx, some_rx) = futures::channel::mpsc::unbounded();
    tokio::spawn(route_changes(
        index.clone(),
        changes_rx,
        writer_rx,
        opts.debounce,
        Rerun { all: all_tx, some: some_tx },
        token.clone(),
    ));
    let shutdown = token.clone();
    let controller = Controller::new(Api::<AppPosture>::all(client), watcher::Config::default())
        .with_config(controller::Config::default().debounce(opts.debounce.min(ECHO_DEBOUNCE)).concurrency(4))
        .reconcile_all_on(all_rx)
        .reconcile_on(some_rx)
        .graceful_shutdown_on(async move { shutdown.cancelled().await })
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "controller");
            }
        });
    // Graceful shutdown waits for reconciles in flight; one stuck on a slow API server must
    // not keep a stopped replica alive until the kubelet's SIGKILL (seen once in the
    // SIGTERM-at-start-up test: the Lease was released, the process lived on).
    let stopped_late = async {
        token.cancelled().await;
        tokio::time::sleep(STOP_GRACE).await;
    };
    tokio::select! {
        () = controller => tracing::info!("controller stopped"),
        () = stopped_late => tracing::warn!(grace = ?STOP_GRACE, "controller did not stop in time; leaving its reconciles"),
    }
    // Let the leader task release the Lease, so another replica takes over at once.
    if let Some(task) = leader_task {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
}

/// The controller's own debounce: it only merges the requests of one instant (an
/// AppPosture's watch event and an index change for it). Waiting for further index changes
/// is [`route_changes`]'s job: the controller's debounce restarts with every request, so index
/// changes arriving faster than it (thousands of Asset writes after a start) postponed every
/// status write until they stopped (BENCHMARKS.md, operator load test).
const ECHO_DEBOUNCE: Duration = Duration::from_millis(100);

/// Where [`route_changes`] sends what to re-run.
struct Rerun {
    /// Every AppPosture.
    all: futures::channel::mpsc::UnboundedSender<()>,
    /// These AppPostures.
    some: futures::channel::mpsc::UnboundedSender<ObjectRef<AppPosture>>,
}

/// Turns index changes into AppPosture re-runs, one pass per burst: `window` after the
/// first change of a burst, whatever comes after it (those are in the same pass, or start
/// the next one), so a change waits at most `window`. A pass re-runs only the applications
/// the changes since the last pass reach, most critical first (the core decides which:
/// `PostureIndex::apps_touched`); every one when they reach everything and when this
/// replica becomes the writer. Before it is the writer, nothing is re-run (nothing would
/// be written).
async fn route_changes(
    index: SharedIndex,
    mut changes: channel::Receiver<u64>,
    mut writer: channel::Receiver<bool>,
    window: Duration,
    rerun: Rerun,
    token: CancellationToken,
) {
    let mut seen = 0u64;
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            r = writer.changed() => {
                if r.is_err() {
                    return;
                }
                if *writer.borrow_and_update() {
                    // Read before re-running: what changes after is the next pass's.
                    let Ok(idx) = index.read() else { return };
                    seen = idx.generation();
                    drop(idx);
                    if rerun.all.unbounded_send(()).is_err() {
                        return;
                    }
                }
            }
            r = changes.changed() => {
                if r.is_err() {
                    return;
                }
                tokio::time::sleep(window).await;
                // Changes during the window are in this pass.
                changes.borrow_and_update();
                let writing = *writer.borrow();
                let pass = {
                    let Ok(idx) = index.read() else {
                        tracing::error!("the index lock is poisoned; AppPostures are no longer re-run on changes");
                        return;
                    };
                    let touched = idx.touched_since(seen);
                    seen = idx.generation();
                    if !writing {
                        continue;
                    }
                    match idx.apps_touched(&touched) {
                        Affected::All => None,
                        Affected::Apps(apps) => Some(
                            apps.iter()
                                .map(|a| ObjectRef::<AppPosture>::new(&a.name).within(&a.namespace))
                                .collect::<Vec<_>>(),
                        ),
                    }
                };
                let sent = match pass {
                    None => {
                        tracing::debug!("index changes reach every application");
                        rerun.all.unbounded_send(()).is_ok()
                    }
                    Some(apps) => {
                        tracing::debug!(apps = apps.len(), "index changes reach these applications");
                        apps.into_iter().all(|a| rerun.some.unbounded_send(a).is_ok())
                    }
                };
                if !sent {
                    return;
                }
            }
        }
    }
}

/// How long the controller may take to finish its reconciles after shutdown is asked.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// True while this replica may write: it leads and every watch has synced.
fn writer(
    mut leader: channel::Receiver<bool>,
    mut changes: channel::Receiver<u64>,
    readiness: Readiness,
    token: CancellationToken,
) -> channel::Receiver<bool> {
    let (tx, rx) = channel::channel(false);
    tokio::spawn(async move {
        loop {
            changes.borrow_and_update();
            let may = *leader.borrow_and_update() && readiness.ready_with_prefix(watch::CONDITION_PREFIX);
            tx.send_if_modified(|v| std::mem::replace(v, may) != may);
            tokio::select! {
                _ = token.cancelled() => return,
                r = leader.changed() => if r.is_err() { return },
                r = changes.changed() => if r.is_err() { return },
            }
        }
    });
    rx
}

/// Loads KEV / EPSS files and reloads them when they change (checked every minute).
async fn feeds(paths: Vec<PathBuf>, index: SharedIndex, changes: channel::Sender<u64>, token: CancellationToken) {
    if paths.is_empty() {
        return;
    }
    let mut seen: Vec<Option<std::time::SystemTime>> = vec![None; paths.len()];
    loop {
        let stamps: Vec<Option<std::time::SystemTime>> =
            paths.iter().map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()).collect();
        if stamps != seen {
            match crate::ingest::load_paths(&paths) {
                Ok(loaded) => {
                    for w in &loaded.warnings {
                        tracing::warn!(origin = %w.origin, "exploitability feed: {}", w.message);
                    }
                    if let Ok(mut idx) = index.write() {
                        tracing::info!(kev = loaded.kev.len(), epss = loaded.epss.len(), "loaded exploitability feeds");
                        idx.set_kev(loaded.kev);
                        idx.set_epss(loaded.epss);
                    }
                    // Re-enrichment marks every artifact: correlate them off the lock.
                    let shared = index.clone();
                    if let Ok(Ok(generation)) = tokio::task::spawn_blocking(move || refresh_shared(&shared)).await {
                        changes.send_replace(generation);
                    }
                    seen = stamps;
                }
                Err(e) => tracing::error!(error = %e, "cannot read exploitability feeds"),
            }
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod route_tests;
