//! The operator's Prometheus metrics. Label values are bounded: kinds, results and
//! reasons — never object names, images or CVE ids.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub kind: String,
    /// `apply`, `delete`, `relist`; `unchanged`: listed again or status-only, not re-applied.
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `AppPosture`, `Asset`, `RiskException`, `GuardrailPolicy`.
    pub kind: String,
    /// `written`, `unchanged`, `error`.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    /// The watched kind (`ConfigMap`, `VulnerabilityReport.aquasecurity.github.io`) or `upload`.
    pub kind: String,
    /// `not_a_report`, `decompressed_size`, `nodes`, `nesting`.
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

/// Every operator metric.
#[derive(Debug)]
pub struct ControllerMetrics {
    pub watch_events: Family<EventLabels, Counter>,
    pub watch_errors: Family<KindLabel, Counter>,
    pub rejected_objects: Family<KindLabel, Counter>,
    pub refused_documents: Family<RefusedLabels, Counter>,
    pub reconciles: Family<ResultLabels, Counter>,
    pub reconcile_duration: Histogram,
    pub events_published: Family<ReasonLabel, Counter>,
    pub index_findings: Gauge,
    pub index_artifacts: Gauge,
    pub index_workloads: Gauge,
    pub index_apps: Gauge,
    pub leader: Gauge,
    pub ingest_uploads: Family<ResultLabels, Counter>,
}

impl ControllerMetrics {
    pub fn register(registry: &mut Registry) -> Arc<ControllerMetrics> {
        let m = ControllerMetrics {
            watch_events: Family::default(),
            watch_errors: Family::default(),
            rejected_objects: Family::default(),
            refused_documents: Family::default(),
            reconciles: Family::default(),
            reconcile_duration: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            events_published: Family::default(),
            index_findings: Gauge::default(),
            index_artifacts: Gauge::default(),
            index_workloads: Gauge::default(),
            index_apps: Gauge::default(),
            leader: Gauge::default(),
            ingest_uploads: Family::default(),
        };
        let r = registry.sub_registry_with_prefix("stance_operator");
        r.register("watch_events", "Watch events applied to the index, by kind and event", m.watch_events.clone());
        r.register("watch_errors", "Watch errors (the watch retries with backoff), by kind", m.watch_errors.clone());
        r.register(
            "rejected_objects",
            "Watched objects that could not be read (logged and skipped)",
            m.rejected_objects.clone(),
        );
        r.register(
            "refused_documents",
            "Documents refused, never applied: a report ConfigMap or upload carrying something other than reports, \
             or an object past its decompression or parse budget (by kind and reason)",
            m.refused_documents.clone(),
        );
        r.register("reconciles", "Status reconciliations by kind and result", m.reconciles.clone());
        r.register(
            "reconcile_duration_seconds",
            "Time to assess an application and write its status",
            m.reconcile_duration.clone(),
        );
        r.register("events", "Kubernetes Events published, by reason", m.events_published.clone());
        r.register("index_findings", "Correlated findings in the index", m.index_findings.clone());
        r.register(
            "index_artifacts",
            "Artifacts (images, objects, repositories, endpoints) in the index",
            m.index_artifacts.clone(),
        );
        r.register("index_workloads", "Workloads in the index", m.index_workloads.clone());
        r.register("index_apps", "AppPostures in the index", m.index_apps.clone());
        r.register("leader", "1 while this replica holds the leader Lease and writes status", m.leader.clone());
        r.register("ingest_uploads", "Reports uploaded on POST /ingest, by result", m.ingest_uploads.clone());
        Arc::new(m)
    }

    /// Updates the index size gauges.
    pub fn observe_index(&self, index: &stance_core::index::PostureIndex) {
        self.index_findings.set(index.finding_count() as i64);
        self.index_artifacts.set(index.artifacts().count() as i64);
        self.index_workloads.set(index.workloads().count() as i64);
        self.index_apps.set(index.apps().count() as i64);
    }
}
