//! Applications inferred from the labels people already set, for workloads no AppPosture
//! selects: a cluster shows its posture before anyone writes a custom resource.
//!
//! A running (top-level) workload that no AppPosture of its namespace selects belongs to
//! the inferred application named by the first of these labels it carries — its pod
//! template's labels first, then its own:
//!
//! 1. `app.kubernetes.io/part-of` (the application a component belongs to),
//! 2. `app.kubernetes.io/name`,
//! 3. `app`,
//! 4. `app.kubernetes.io/instance` (Argo CD's default tracking label),
//! 5. `argocd.argoproj.io/instance` (Argo CD's annotation-style tracking label),
//!
//! or, without any of them, of an application named after the workload itself. The
//! recommended labels are Kubernetes' ("Recommended Labels", kubernetes.io/docs/concepts/
//! overview/working-with-objects/common-labels/); Argo CD's tracking labels are from its
//! "Resource Tracking" documentation. Workloads of one namespace with the same name form
//! one application.
//!
//! An inferred application has criticality `medium`, data classification `internal` and its
//! exposure detected from the Services and routes that reach its workloads. It is never an
//! AppPosture: there is no object whose status the operator could write, so inferred
//! applications appear in `stance scan`, the dashboard and metrics only, always marked as
//! inferred. A declared AppPosture always wins: a workload it selects is never inferred.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::app::{Assessment, assess_members};
use crate::index::PostureIndex;
use crate::index::context::Context;
use crate::index::exposure;
use crate::model::{App, Criticality, DataClassification, Exposure, Workload};

/// The labels that name an inferred application, in order of preference.
pub const NAME_LABELS: [&str; 5] = [
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/name",
    "app",
    "app.kubernetes.io/instance",
    "argocd.argoproj.io/instance",
];

/// Labels whose value, when a workload carries one, is shown as the inferred owner.
pub const OWNER_LABELS: [&str; 2] = ["owner", "team"];

/// What named an inferred application: `NAME_LABELS[i]`, or the workload's own name.
pub const NAMED_BY_WORKLOAD: &str = "workload name";

/// An application inferred from labels (see the module documentation).
#[derive(Clone, Debug)]
pub struct InferredApp<'a> {
    /// The application as the assessment sees it: namespace, name, criticality `medium`,
    /// exposure `auto` (detected), owner from [`OWNER_LABELS`]; no selector.
    pub app: App,
    /// The label that named it, or [`NAMED_BY_WORKLOAD`].
    pub named_by: &'static str,
    /// Its top-level workloads, by kind and name.
    pub workloads: Vec<&'a Workload>,
}

/// The inferred application name of a workload, and what named it (see the module docs).
pub fn name_of(w: &Workload) -> (String, &'static str) {
    for label in NAME_LABELS {
        let value = w.pod_labels.get(label).or_else(|| w.labels.get(label)).map(|v| v.trim());
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            return (v.to_string(), label);
        }
    }
    (w.name.to_string(), NAMED_BY_WORKLOAD)
}

/// True when no AppPosture selects the running workload: it belongs to an inferred
/// application.
pub fn is_inferred_member(index: &PostureIndex, w: &Workload) -> bool {
    index.is_top_level(w) && index.apps_of(w).next().is_none()
}

/// Every inferred application, by namespace then name.
pub fn applications(index: &PostureIndex) -> Vec<InferredApp<'_>> {
    group(index, index.workloads())
}

/// The inferred applications of one namespace, by name.
pub fn applications_in<'a>(index: &'a PostureIndex, namespace: &str) -> Vec<InferredApp<'a>> {
    group(index, index.workloads_in(namespace))
}

/// The inferred application of one workload (`None` when an AppPosture selects it or it is
/// not a top-level workload), with all its members.
pub fn application_of<'a>(index: &'a PostureIndex, w: &Workload) -> Option<InferredApp<'a>> {
    if !is_inferred_member(index, w) {
        return None;
    }
    let (name, _) = name_of(w);
    applications_in(index, &w.namespace).into_iter().find(|a| *a.app.name == *name)
}

/// Groups the inferred members among `workloads` by namespace and inferred name.
fn group<'a>(index: &'a PostureIndex, workloads: impl Iterator<Item = &'a Arc<Workload>>) -> Vec<InferredApp<'a>> {
    let mut groups: BTreeMap<(Arc<str>, String), InferredApp<'a>> = BTreeMap::new();
    for w in workloads {
        if !is_inferred_member(index, w) {
            continue;
        }
        let (name, named_by) = name_of(w);
        let entry = groups.entry((w.namespace.clone(), name.clone())).or_insert_with(|| InferredApp {
            app: App {
                namespace: w.namespace.clone(),
                name: Arc::from(name.as_str()),
                criticality: Criticality::Medium,
                exposure: Exposure::Auto,
                data_classification: DataClassification::Internal,
                ..App::default()
            },
            named_by,
            workloads: Vec::new(),
        });
        if entry.app.owner.is_none() {
            entry.app.owner = owner_of(w);
        }
        entry.workloads.push(&**w);
    }
    groups.into_values().collect()
}

fn owner_of(w: &Workload) -> Option<String> {
    OWNER_LABELS
        .iter()
        .find_map(|l| w.labels.get(*l).or_else(|| w.pod_labels.get(*l)))
        .filter(|v| !v.trim().is_empty())
        .cloned()
}

impl InferredApp<'_> {
    /// Its context: reach detected from the Services and routes that reach its workloads,
    /// raised by the namespace's exposure label, and the namespace's criticality floor
    /// (none declared: the default `medium` applies) — the one rule of
    /// [`PostureIndex::context`], as for an AppPosture with `exposure: auto`. No
    /// AppPosture is passed: an inferred name may equal a declared application's, whose
    /// cached exposure must not leak in.
    pub fn context(&self, index: &PostureIndex) -> Context {
        let detected = exposure::detect(&self.workloads, index.network_in(&self.app.namespace));
        index.context(&self.app.namespace, &[], Some(&detected))
    }
}

/// Assesses an inferred application at `now`, exactly as an AppPosture with the same
/// workloads, criticality `medium` and `exposure: auto` would be.
pub fn assess<'a>(index: &'a PostureIndex, inferred: &'a InferredApp<'a>, now: Timestamp) -> Assessment<'a> {
    assess_members(index, &inferred.app, inferred.workloads.clone(), inferred.context(index), now)
}
