//! The business context that counts for an application or a workload: its exposure
//! (detected × declared × the platform's floor) and its criticality (declared × floor),
//! resolved in one place for admission, `stance check`, `stance scan`, status and Assets.
//!
//! The rules are [`crate::risk::reach::resolve`] and [`crate::risk::criticality::resolve`];
//! this module gathers their inputs from the index: the cached detected exposure of each
//! application, the AppPostures' declarations (which the judged team can write) and the
//! namespace labels `aspm.stance.dev/exposure` / `aspm.stance.dev/criticality` (which it
//! cannot: see `docs/security.md`).

use super::PostureIndex;
use super::exposure::Detected;
use crate::model::{App, Criticality, Exposure};
use crate::names::{CRITICALITY_LABEL, EXPOSURE_LABEL};
use crate::risk::Reach;
use crate::risk::criticality::{self, ResolvedCriticality};
use crate::risk::reach::{self, Resolved, Stated};

/// What counts for one application or workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub reach: Reach,
    /// Why: the detected objects and the signals that decided their reach, or the
    /// declaration / floor that raised it.
    pub reasons: Vec<String>,
    /// Never below the namespace's floor (`medium` without the label), with or without an
    /// application: the one answer for policy scoping in admission, `stance check` and the
    /// operator's audit.
    pub criticality: Criticality,
    /// Declarations that asked for less than what counts (ignored), and unreadable floor labels.
    pub overridden: Vec<String>,
}

fn exposure_label(v: &str) -> Option<Reach> {
    match v.trim().to_ascii_lowercase().as_str() {
        "internet" => Some(Reach::Internet),
        "internal" => Some(Reach::Internal),
        "none" => Some(Reach::None),
        _ => None,
    }
}

fn criticality_label(v: &str) -> Option<Criticality> {
    match v.trim().to_ascii_lowercase().as_str() {
        "low" => Some(Criticality::Low),
        "medium" => Some(Criticality::Medium),
        "high" => Some(Criticality::High),
        "critical" => Some(Criticality::Critical),
        _ => None,
    }
}

impl PostureIndex {
    /// The context of the applications `apps` (all in `namespace`) — for a workload, the
    /// applications that select it, with `own` its own detected exposure (at admission it
    /// may not be in the index yet).
    pub fn context(&self, namespace: &str, apps: &[&App], own: Option<&Detected>) -> Context {
        let mut notes = Vec::new();
        let labels = self.namespace_labels(namespace);
        let label = |key: &str| labels.get(key).map(String::as_str).filter(|v| !v.trim().is_empty());
        let by = |key: &str| format!("namespace {namespace} label {key}");

        let exposure_floor = label(EXPOSURE_LABEL).and_then(|v| match exposure_label(v) {
            Some(r) => Some(Stated { value: r, by: by(EXPOSURE_LABEL) }),
            None => {
                notes.push(format!("{} {v:?} is not internet, internal or none: ignored", by(EXPOSURE_LABEL)));
                None
            }
        });
        let criticality_floor = label(CRITICALITY_LABEL).and_then(|v| match criticality_label(v) {
            Some(c) => Some(Stated { value: c, by: by(CRITICALITY_LABEL) }),
            None => {
                notes.push(format!("{} {v:?} is not low, medium, high or critical: ignored", by(CRITICALITY_LABEL)));
                None
            }
        });

        // Detected: the strongest of the applications' (cached) and the workload's own.
        let detected = apps
            .iter()
            .filter_map(|a| self.detected_exposure(&a.namespace, &a.name).map(|d| &**d))
            .chain(own)
            .max_by_key(|d| d.reach.rank())
            .map(|d| (d.reach, d.reasons.clone()))
            .unwrap_or_else(|| (Reach::None, vec!["no workloads".into()]));
        let declared: Vec<Stated<Exposure>> = apps
            .iter()
            .map(|a| Stated { value: a.exposure, by: format!("AppPosture {}/{} spec.exposure", a.namespace, a.name) })
            .collect();
        let Resolved { reach, reasons, overridden } = reach::resolve(detected, &declared, exposure_floor);
        notes.extend(overridden);

        let declared: Vec<Stated<Criticality>> = apps
            .iter()
            .map(|a| Stated {
                value: a.criticality,
                by: format!("AppPosture {}/{} spec.criticality", a.namespace, a.name),
            })
            .collect();
        let ResolvedCriticality { criticality, overridden } =
            criticality::resolve(&declared, criticality_floor, namespace);
        notes.extend(overridden);
        Context { reach, reasons, criticality, overridden: notes }
    }

    /// One application's context.
    pub fn app_context(&self, app: &App) -> Context {
        self.context(&app.namespace, &[app], None)
    }
}
