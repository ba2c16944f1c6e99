//! An application as the core sees it: the domain form of an `AppPosture` (the edge
//! converts the custom resource into it; the index stores this, never the resource).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::artifact::ObjectRef;
use super::context::{Criticality, DataClassification, Exposure};
use super::workload::Workload;
use crate::selector::LabelSelector;

/// An application and its business context.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct App {
    /// The AppPosture's namespace (the edge fills in the default namespace).
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    /// The AppPosture's uid, when read from a cluster (owner of discovered Assets).
    pub uid: Option<String>,
    /// `metadata.generation`, echoed as `observedGeneration` in status.
    pub generation: Option<i64>,
    /// The AppPosture's own labels (what a policy's `appSelector` matches).
    pub labels: BTreeMap<String, String>,
    /// Owning team.
    pub owner: Option<String>,
    pub criticality: Criticality,
    /// Declared exposure; `Auto` means "detect it" (see [`crate::risk::reach`]).
    pub exposure: Exposure,
    pub data_classification: DataClassification,
    /// Selects the application's workloads in its namespace; `None` or empty selects nothing.
    pub selector: Option<LabelSelector>,
    /// Source repositories (git URLs) whose findings belong to the application.
    pub repositories: Vec<String>,
    /// Host names whose DAST findings belong to the application.
    pub endpoints: Vec<String>,
    /// How many ranked findings its status keeps (`spec.topFindings`).
    pub top_findings: Option<u32>,
}

impl App {
    /// `AppPosture/namespace/name`.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new("AppPosture", Some(&self.namespace), &self.name)
    }

    /// True when the application's non-empty selector selects the workload (by its own
    /// labels or its pod template's), in the application's namespace.
    pub fn selects(&self, w: &Workload) -> bool {
        if *w.namespace != *self.namespace {
            return false;
        }
        match &self.selector {
            Some(sel) if !sel.is_empty() => sel.matches(&w.pod_labels) || sel.matches(&w.labels),
            _ => false,
        }
    }
}
