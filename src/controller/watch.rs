//! Watches every target kind and feeds the shared index.
//!
//! Objects are parsed on the blocking pool outside the index lock, then applied in batches
//! under one short write lock; correlation then runs on the blocking pool on owned data,
//! and only its result is swapped in under the write lock (`index::refresh_shared`), so
//! admission keeps answering while a large report is read. A relist (start-up, 410 Gone,
//! API server restart, network drop) is a reset: objects not seen again are removed, so
//! state is never lost or duplicated. Kinds that are not served are re-discovered
//! periodically.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::discovery::{ApiResource, Scope};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::feed::{self, ObjKey};
use super::listing::{Listing, Outcome, Step};
use super::metrics::{ControllerMetrics, EventLabels, KindLabel, RefusedLabels};
use super::observed::SharedObserved;
use super::targets::{self, TARGETS, Target};
use crate::ingest::Limits;
use crate::telemetry::Readiness;
use stance_core::index::{SharedIndex, refresh_shared};

/// How often kinds that were not served are looked for again.
pub const REDISCOVERY: Duration = Duration::from_secs(60);
/// Most events applied under one index lock.
const BATCH: usize = 256;
/// Batches fetched ahead of the one being applied.
const PREFETCH: usize = 4;

/// What every watch needs.
#[derive(Clone)]
pub struct WatchContext {
    pub client: Client,
    pub index: SharedIndex,
    /// The statuses the watched Stance objects show (for the status writer).
    pub observed: SharedObserved,
    /// Sends the index generation after every applied batch (the reconciler listens).
    pub changes: watch::Sender<u64>,
    pub readiness: Readiness,
    pub metrics: Arc<ControllerMetrics>,
    /// The read budget of each watched object.
    pub limits: Limits,
    /// One refresh at a time: two watches correlating the same changes would only do the
    /// work twice.
    pub refresh_gate: Arc<tokio::sync::Mutex<()>>,
}

/// Prefix of the readiness conditions of the watches.
pub const CONDITION_PREFIX: &str = "watch:";

/// Readiness condition of a target's watch.
fn condition(t: &Target) -> String {
    format!("{CONDITION_PREFIX}{}", t.name())
}

/// Starts a watch for every served target and keeps looking for the others until
/// `token` is cancelled.
pub async fn run(ctx: WatchContext, token: CancellationToken) {
    // Required kinds gate readiness from the start; optional ones only once found.
    for t in TARGETS.iter().filter(|t| !t.optional) {
        ctx.readiness.register(&condition(t));
    }
    let mut running: HashSet<&'static str> = HashSet::new();
    let mut announced_missing: HashSet<String> = HashSet::new();
    loop {
        for group in targets::groups() {
            let wanted: Vec<&Target> =
                TARGETS.iter().filter(|t| t.group == group && !running.contains(t.kind_id())).collect();
            if wanted.is_empty() {
                continue;
            }
            let discovered = match kube::discovery::group(&ctx.client, group).await {
                Ok(g) => Some(g),
                Err(e) => {
                    tracing::debug!(group, error = %e, "API group not served");
                    None
                }
            };
            for t in wanted {
                match discovered.as_ref().and_then(|g| find_kind(g, t.kind)) {
                    Some((ar, caps)) => {
                        tracing::info!(kind = %t.name(), version = %ar.version, "watching");
                        running.insert(t.kind_id());
                        ctx.readiness.register(&condition(t));
                        tokio::spawn(watch_target(ctx.clone(), *t, ar, caps.scope, token.clone()));
                    }
                    None => {
                        if announced_missing.insert(t.name()) {
                            if t.optional {
                                tracing::info!(kind = %t.name(), "not installed in this cluster; will look again every minute");
                            } else {
                                tracing::error!(kind = %t.name(), "required kind is not served (are Stance's CRDs installed?); retrying every minute");
                            }
                        }
                    }
                }
            }
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(REDISCOVERY) => {}
        }
    }
}

/// The preferred version serving `kind`, else any version that serves it (CronJob is in
/// batch/v1beta1 only before Kubernetes 1.21, while batch's preferred version is v1).
fn find_kind(group: &kube::discovery::ApiGroup, kind: &str) -> Option<(ApiResource, kube::discovery::ApiCapabilities)> {
    group.recommended_kind(kind).or_else(|| {
        let versions: Vec<String> = group.versions().map(str::to_string).collect();
        versions.iter().find_map(|v| group.versioned_resources(v).into_iter().find(|(ar, _)| ar.kind == kind))
    })
}

impl Target {
    fn kind_id(&self) -> &'static str {
        // `Report` exists in openreports.io only; kinds are otherwise unique across groups.
        if self.group == "openreports.io" {
            if self.kind == "Report" { "Report.openreports.io" } else { "ClusterReport.openreports.io" }
        } else {
            self.kind
        }
    }
}

/// An object as a JSON value with its apiVersion and kind (list items omit them).
fn to_value(obj: DynamicObject, ar: &ApiResource) -> Option<Value> {
    let mut v = serde_json::to_value(obj).ok()?;
    if let Value::Object(map) = &mut v {
        map.entry("apiVersion").or_insert_with(|| Value::String(ar.api_version.clone()));
        map.entry("kind").or_insert_with(|| Value::String(ar.kind.clone()));
    }
    Some(v)
}

enum Change {
    Relist,
    Apply(Value),
    Delete(ObjKey),
    Synced,
}

async fn watch_target(ctx: WatchContext, target: Target, ar: ApiResource, scope: Scope, token: CancellationToken) {
    let api: Api<DynamicObject> = Api::all_with(ctx.client.clone(), &ar);
    let mut config = watcher::Config::default().page_size(target.page_size);
    if let Some(sel) = target.label_selector {
        config = config.labels(sel);
    }
    let _ = scope;
    let name = target.name();
    let kind_label = KindLabel { kind: name.clone() };
    let label = |event: &str| EventLabels { kind: name.clone(), event: event.to_string() };
    // The watcher is pulled by its own task into a small buffer, so the next page of a list
    // is being fetched while this one is parsed and applied (a lazy stream would leave the
    // connection idle meanwhile: initial sync of large report lists took 3x the API server's
    // own listing time, BENCHMARKS.md).
    let (tx, mut stream) = tokio::sync::mpsc::channel(PREFETCH);
    let pump_token = token.clone();
    tokio::spawn(async move {
        let mut events = watcher::watcher(api, config).default_backoff().ready_chunks(BATCH).boxed();
        loop {
            let batch = tokio::select! {
                _ = pump_token.cancelled() => return,
                b = events.next() => match b { Some(b) => b, None => return },
            };
            if tx.send(batch).await.is_err() {
                return;
            }
        }
    });
    let mut listing = Listing::default();
    loop {
        let batch = tokio::select! {
            _ = token.cancelled() => return,
            b = stream.recv() => match b { Some(b) => b, None => return },
        };
        // Parse outside the lock.
        let mut changes = Vec::with_capacity(batch.len());
        for ev in batch {
            match ev {
                Ok(Event::Init) => changes.push(Change::Relist),
                Ok(Event::InitApply(o)) | Ok(Event::Apply(o)) => match to_value(o, &ar) {
                    Some(v) => changes.push(Change::Apply(v)),
                    None => {
                        ctx.metrics.rejected_objects.get_or_create(&kind_label).inc();
                    }
                },
                Ok(Event::Delete(o)) => {
                    if let Some(k) = to_value(o, &ar).as_ref().and_then(feed::key_of) {
                        changes.push(Change::Delete(k));
                    }
                }
                Ok(Event::InitDone) => changes.push(Change::Synced),
                Err(e) => {
                    ctx.metrics.watch_errors.get_or_create(&kind_label).inc();
                    tracing::warn!(kind = %name, error = %e, "watch error; retrying with backoff");
                }
            }
        }
        if changes.is_empty() {
            continue;
        }
        // Parse on the blocking pool: a large report takes a while, and the async workers
        // also serve admission.
        let observed_at = jiff::Timestamp::now();
        let (feed_kind, kind, limits) = (target.feed, target.kind, ctx.limits);
        let parsed = tokio::task::spawn_blocking(move || {
            changes
                .into_iter()
                .map(|c| match c {
                    Change::Relist => Step::Relist,
                    Change::Apply(v) => Step::Apply(Box::new(feed::prepare(feed_kind, kind, &v, observed_at, limits))),
                    Change::Delete(k) => Step::Delete(k),
                    Change::Synced => Step::Synced,
                })
                .collect::<Vec<_>>()
        })
        .await;
        let steps: Vec<Step> = match parsed {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(kind = %name, error = %e, "parsing a batch panicked; skipped it");
                continue;
            }
        };
        let mut outcome = Outcome::default();
        {
            let Ok(mut index) = ctx.index.write() else {
                tracing::error!("index lock poisoned; stopping the watch of {name}");
                return;
            };
            // Locked after the index, as everywhere (the sweep reads both). A poisoned lock
            // only means a panic elsewhere; the statuses it holds are still a valid cache.
            let mut observed = ctx.observed.lock().unwrap_or_else(|e| e.into_inner());
            for step in steps {
                let event = match &step {
                    Step::Relist => Some("relist"),
                    Step::Apply(p) => {
                        for r in &p.refusals {
                            let labels = RefusedLabels { kind: name.clone(), reason: r.as_str().into() };
                            ctx.metrics.refused_documents.get_or_create(&labels).inc();
                        }
                        if !p.problems.is_empty() {
                            ctx.metrics.rejected_objects.get_or_create(&kind_label).inc();
                            tracing::warn!(kind = %name, problems = ?p.problems, "could not read all of an object; skipped what was unreadable or refused");
                        }
                        Some("apply")
                    }
                    Step::Delete(_) => Some("delete"),
                    Step::Synced => None,
                };
                let unchanged_before = outcome.unchanged;
                listing.step(&mut index, &mut observed, target.feed, target.kind, step, &mut outcome);
                let event = if outcome.unchanged > unchanged_before { Some("unchanged") } else { event };
                if let Some(event) = event {
                    ctx.metrics.watch_events.get_or_create(&label(event)).inc();
                }
            }
        }
        for w in &outcome.notes {
            tracing::warn!(kind = %name, origin = %w.origin, "{}", w.message);
        }
        // During the first list the correlated views are computed once, when it completes:
        // refreshing after every page re-correlated images shared by many reports (a sidecar
        // in every pod) once per page, and nothing is served or written before. After it,
        // what changed is correlated and announced at once, also during a re-list (whose
        // unchanged objects change nothing).
        if !outcome.changed && !outcome.synced {
            continue;
        }
        if !listing.hold_refresh() {
            let _one_at_a_time = ctx.refresh_gate.lock().await;
            let index = ctx.index.clone();
            let started = std::time::Instant::now();
            match tokio::task::spawn_blocking(move || refresh_shared(&index)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "stopping the watch of {name}");
                    return;
                }
                Err(e) => tracing::error!(kind = %name, error = %e, "refreshing the index panicked"),
            }
            if outcome.synced {
                tracing::info!(kind = %name, seconds = started.elapsed().as_secs_f64(), "correlated after the list");
            }
        }
        if let Ok(index) = ctx.index.read() {
            ctx.metrics.observe_index(&index);
            ctx.changes.send_replace(index.generation());
        }
        let synced_now = outcome.synced;
        let known_len = listing.len();
        if synced_now {
            ctx.readiness.set(&condition(&target), true);
            // Wake the writers again: they wait for every watch to be synced (see
            // `controller::run`), which the notification of the batch above preceded.
            ctx.changes.send_modify(|_| {});
            tracing::info!(kind = %name, objects = known_len, "synced");
        }
    }
}
