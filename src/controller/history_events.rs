//! The history's Kubernetes Events (issue 12 §1, docs/history.md), published by the history
//! task ([`super::history`]), never from reconciliation or admission:
//!
//! - `HistoryStoreDown` (Warning) when this replica's store stops answering, and
//!   `HistoryStoreUp` (Normal) when it answers again, on the leader Lease in Stance's
//!   namespace (the object every replica shares). One per change, not per attempt.
//! - `FindingOverdue` (Warning) on the AppPosture of a **critical** application when one of
//!   its findings passes its due date between two observations of the writer
//!   ([`Record::became_overdue`]): announced once, also across restarts (the window starts at
//!   the store's last observation), at most [`MAX_OVERDUE_EVENTS`] per observation and
//!   application, the rest counted in one more Event.
//!
//! Store Events go through kube's [`Recorder`], which folds repeats (a store flapping) into
//! one Event's series. Overdue Events are created directly: the Recorder keys its series on
//! reason and object, not the note, so ten findings of one application would become one
//! Event counted ten times; these are announced once by construction (the time window).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use stance_core::guardrail::RemediationPolicy;
use stance_core::index::PostureIndex;
use stance_core::lifecycle::{FindingKey, Record, SubjectKind, Tracker};
use stance_core::model::Criticality;

/// `FindingOverdue` Events per application and observation, at most (then one summary).
pub const MAX_OVERDUE_EVENTS: usize = 10;

/// Where the history task publishes its Events.
#[derive(Clone)]
pub struct HistoryEvents {
    client: Client,
    recorder: Recorder,
    identity: String,
    lease: ObjectReference,
}

impl std::fmt::Debug for HistoryEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryEvents").field("lease", &self.lease).finish_non_exhaustive()
    }
}

/// One finding that just became overdue, ready to announce.
#[derive(Clone, Debug, PartialEq)]
pub struct Overdue {
    pub app: ObjectReference,
    pub note: String,
}

impl HistoryEvents {
    /// Events reported as `stance` / `identity`, store Events on Lease `lease` of `namespace`.
    pub fn new(client: Client, identity: &str, namespace: &str, lease: &str) -> HistoryEvents {
        let reporter = Reporter { controller: "stance".into(), instance: Some(identity.to_string()) };
        let lease = ObjectReference {
            api_version: Some("coordination.k8s.io/v1".into()),
            kind: Some("Lease".into()),
            name: Some(lease.to_string()),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        };
        HistoryEvents {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            identity: identity.to_string(),
            lease,
        }
    }

    /// The store went down (`error`) or came back (`None`).
    pub async fn store(&self, store: &str, error: Option<&str>) {
        let (type_, reason, note) = match error {
            Some(e) => (
                EventType::Warning,
                "HistoryStoreDown",
                format!("history store {store} unavailable; tracking in memory until it returns: {e}"),
            ),
            None => (EventType::Normal, "HistoryStoreUp", format!("history store {store} answers again")),
        };
        self.publish(type_, reason, note, &self.lease).await;
    }

    /// Announces findings that became overdue ([`overdue_since`]).
    pub async fn overdue(&self, items: &[Overdue]) {
        let now = Timestamp::now();
        for (i, o) in items.iter().enumerate() {
            let name = format!("{}.{:x}{i:02x}", o.app.name.as_deref().unwrap_or("stance"), now.as_nanosecond());
            let ev = K8sEvent {
                metadata: ObjectMeta { name: Some(name), namespace: o.app.namespace.clone(), ..Default::default() },
                event_time: Some(MicroTime(now)),
                action: Some("RecordHistory".into()),
                reason: Some("FindingOverdue".into()),
                note: Some(o.note.chars().take(1000).collect()),
                regarding: Some(o.app.clone()),
                reporting_controller: Some("stance".into()),
                reporting_instance: Some(self.identity.clone()),
                type_: Some("Warning".into()),
                ..Default::default()
            };
            let ns = o.app.namespace.as_deref().unwrap_or("default");
            if let Err(e) =
                Api::<K8sEvent>::namespaced(self.client.clone(), ns).create(&PostParams::default(), &ev).await
            {
                tracing::warn!(error = %e, "could not publish a FindingOverdue Event");
            }
        }
    }

    async fn publish(&self, type_: EventType, reason: &str, note: String, regarding: &ObjectReference) {
        let ev = Event {
            type_,
            reason: reason.into(),
            // The API server refuses notes over 1 kB.
            note: Some(note.chars().take(1000).collect()),
            action: "RecordHistory".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, regarding).await {
            tracing::warn!(error = %e, reason, "could not publish a history Event");
        }
    }
}

/// The findings of critical applications that became overdue in `[since, now)`, as Events
/// to publish: at most [`MAX_OVERDUE_EVENTS`] per application (most urgent first: the
/// earliest due), then one that counts the rest.
pub fn overdue_since(
    tracker: &Tracker,
    index: &PostureIndex,
    policy: &RemediationPolicy,
    since: Timestamp,
    now: Timestamp,
) -> Vec<Overdue> {
    let mut by_app: std::collections::BTreeMap<_, Vec<(Timestamp, &FindingKey, &Record)>> = Default::default();
    for (subject, key, r) in tracker.records() {
        if subject.kind != SubjectKind::App {
            continue;
        }
        if let Some(due) = r.became_overdue(policy, since, now) {
            by_app.entry(subject).or_default().push((due, key, r));
        }
    }
    let mut out = Vec::new();
    for (subject, mut found) in by_app {
        let Some(app) = index.app(&subject.namespace, &subject.name) else { continue };
        if app.criticality != Criticality::Critical {
            continue;
        }
        let reference = crate::api::app_posture::reference(app);
        found.sort_by_key(|(due, key, _)| (*due, (*key).clone()));
        for (due, key, r) in found.iter().take(MAX_OVERDUE_EVENTS) {
            let note = format!(
                "{} {} in {} is overdue: first seen {}, due {} (critical application)",
                key.id,
                r.facts.severity.as_str(),
                key.what,
                r.first_seen.strftime("%Y-%m-%d"),
                due.strftime("%Y-%m-%d"),
            );
            out.push(Overdue { app: reference.clone(), note });
        }
        if found.len() > MAX_OVERDUE_EVENTS {
            let note =
                format!("{} more findings became overdue (see stance history)", found.len() - MAX_OVERDUE_EVENTS);
            out.push(Overdue { app: reference.clone(), note });
        }
    }
    out
}
