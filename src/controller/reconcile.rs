//! The AppPosture reconciler: assess the application with the core (pure), write the
//! result into `status` with server-side apply, and publish Events for what is new.
//!
//! Events are queued and published by one task of their own ([`event_publisher`]), in the
//! order their statuses were written: a first start announces up to ten findings for every
//! application, and publishing them inside the reconcile made every status wait for the
//! Events of the applications before it (2,000 Event writes before the last of 200
//! statuses on the load-test cluster, BENCHMARKS.md).
//!
//! Re-triggered whenever the index changes (debounced) and at the next exception expiry,
//! so an exception stops applying on time. Only the leader writes, and only once every
//! watch has listed (`controller::run` gates `Context::leader` on both).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::watch;

use super::metrics::{ControllerMetrics, ReasonLabel, ResultLabels};
use stance_core::index::{PostureIndex, SharedIndex};
use stance_core::model::App;
use stance_core::names::API_VERSION;

use super::status::{app_status, carry_transition_times, changed, new_alerting_findings, new_violations};
use crate::api::AppPosture;

/// The field manager of every status Stance writes.
pub const FIELD_MANAGER: &str = "stance";
/// Re-evaluate at least this often (scan ages and SLAs move with time).
pub const MAX_REQUEUE: Duration = Duration::from_secs(600);
/// Most Events one reconciliation publishes (the rest are summarised in status).
const MAX_EVENTS: usize = 10;

/// Shared state of the reconcilers.
pub struct Context {
    pub client: Client,
    pub index: SharedIndex,
    /// Where the Events of a written status go ([`event_publisher`]).
    pub events: EventQueue,
    pub metrics: Arc<ControllerMetrics>,
    /// True while this replica may write: it holds the leader Lease and every watch has synced.
    pub leader: watch::Receiver<bool>,
}

/// Why a reconciliation failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("writing status of {0}: {1}")]
    Write(String, #[source] kube::Error),
    #[error("the shared index lock is poisoned (a panic while updating it); restart the operator")]
    IndexPoisoned,
}

/// The next time an active exception expires (the posture changes then).
pub fn next_expiry(index: &PostureIndex, now: Timestamp) -> Option<Timestamp> {
    index.exceptions().filter_map(|e| e.active(now)).map(|e| e.expires).min()
}

/// How long until the next forced re-evaluation.
pub fn requeue_after(next: Option<Timestamp>, now: Timestamp) -> Duration {
    match next {
        // One second after expiry, so the exception is expired when we look.
        Some(t) => Duration::from_secs((t.duration_since(now).as_secs().max(0) + 1) as u64).min(MAX_REQUEUE),
        None => MAX_REQUEUE,
    }
}

/// Events to publish, with the object each is about.
pub type EventQueue = tokio::sync::mpsc::Sender<(ObjectReference, Event)>;
/// Events queued at most; a reconcile that would queue more waits (nothing is dropped).
pub const EVENT_QUEUE: usize = 4096;

/// Starts the task that publishes queued Events, in order, and counts them; it ends when
/// every sender is dropped.
pub fn event_publisher(recorder: Recorder, metrics: Arc<ControllerMetrics>) -> EventQueue {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(ObjectReference, Event)>(EVENT_QUEUE);
    tokio::spawn(async move {
        while let Some((reference, ev)) = rx.recv().await {
            let reason = ev.reason.clone();
            match recorder.publish(&ev, &reference).await {
                Ok(()) => {
                    metrics.events_published.get_or_create(&ReasonLabel { reason }).inc();
                }
                Err(e) => tracing::warn!(error = %e, reason, "could not publish an Event"),
            }
        }
    });
    tx
}

/// Reconciles one AppPosture.
pub async fn reconcile(app: Arc<AppPosture>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !*ctx.leader.borrow() {
        // Followers keep their index warm but never write; they re-run when elected.
        return Ok(Action::await_change());
    }
    let started = Instant::now();
    let now = Timestamp::now();
    // The same conversion the watch feeding the index uses.
    let domain = App::from(&*app);
    let (namespace, name) = (domain.namespace.to_string(), domain.name.to_string());
    let (mut status, next) = {
        let index = ctx.index.read().map_err(|_| ReconcileError::IndexPoisoned)?;
        (app_status(&index, &domain, now), next_expiry(&index, now))
    };
    let old = app.status.as_ref();
    carry_transition_times(old.map(|s| s.conditions.as_slice()).unwrap_or_default(), &mut status.conditions);
    let result = if changed(old, &status) {
        let api: Api<AppPosture> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = json!({"apiVersion": API_VERSION, "kind": "AppPosture", "status": status});
        api.patch_status(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch))
            .await
            .map_err(|e| ReconcileError::Write(format!("AppPosture {namespace}/{name}"), e))?;
        publish_events(&ctx, &app, old, &status).await;
        "written"
    } else {
        "unchanged"
    };
    ctx.metrics.reconciles.get_or_create(&ResultLabels { kind: "AppPosture".into(), result: result.into() }).inc();
    ctx.metrics.reconcile_duration.observe(started.elapsed().as_secs_f64());
    tracing::debug!(app = %format!("{namespace}/{name}"), result, risk = status.risk_score, "reconciled");
    Ok(Action::requeue(requeue_after(next, now)))
}

/// Counts the failure and retries after a pause.
pub fn error_policy(app: Arc<AppPosture>, err: &ReconcileError, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconciles.get_or_create(&ResultLabels { kind: "AppPosture".into(), result: "error".into() }).inc();
    tracing::warn!(app = %app.name_any(), error = %err, "reconcile failed; retrying in 15s");
    Action::requeue(Duration::from_secs(15))
}

async fn publish_events(
    ctx: &Context,
    app: &AppPosture,
    old: Option<&crate::api::AppPostureStatus>,
    new: &crate::api::AppPostureStatus,
) {
    let reference = app.object_ref(&());
    let mut events: Vec<(&'static str, String)> = Vec::new();
    for f in new_alerting_findings(old, new) {
        let reason = if f.ends_with("(known exploited)") { "KnownExploitedFinding" } else { "CriticalFinding" };
        events.push((reason, format!("new finding: {f}")));
    }
    for v in new_violations(old, new) {
        events.push(("GuardrailViolation", format!("{} [{}/{}] {}", v.workload, v.policy, v.rule, v.message)));
    }
    let total = events.len();
    for (reason, note) in events.into_iter().take(MAX_EVENTS) {
        let ev = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            // The Events API limits notes to 1 KiB.
            note: Some(note.chars().take(1000).collect()),
            action: "Assess".into(),
            secondary: None,
        };
        if ctx.events.send((reference.clone(), ev)).await.is_err() {
            tracing::warn!(reason, "the Event publisher has stopped; Event not published");
        }
    }
    if total > MAX_EVENTS {
        tracing::info!(app = %app.name_any(), skipped = total - MAX_EVENTS, "more new findings/violations than Events published; see status");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requeue_at_expiry_capped() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(requeue_after(Some("2026-01-01T00:00:30Z".parse().unwrap()), now), Duration::from_secs(31));
        assert_eq!(requeue_after(Some("2027-01-01T00:00:00Z".parse().unwrap()), now), MAX_REQUEUE);
        assert_eq!(requeue_after(None, now), MAX_REQUEUE);
        assert_eq!(requeue_after(Some("2025-01-01T00:00:00Z".parse().unwrap()), now), Duration::from_secs(1));
    }
}
