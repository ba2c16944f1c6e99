//! `ownership`: every workload carries owner labels and belongs to an application.

use super::{Hit, Item};
use crate::guardrail::spec::OwnershipRule;
use crate::policy::context::Subject;

/// A hit when the workload lacks a required label or belongs to no application.
pub fn check<'a>(rule: &OwnershipRule, s: &Subject<'a>) -> Option<Hit<'a>> {
    let w = s.workload;
    let mut items = Vec::new();
    for l in &rule.required_labels {
        if !w.labels.contains_key(l) && !w.pod_labels.contains_key(l) {
            items.push(Item::new(format!("label:{l}"), format!("label {l} is missing")));
        }
    }
    if rule.require_app_posture && s.apps.is_empty() {
        items.push(Item::new("appPosture", format!("no AppPosture in namespace {} selects it", w.namespace)));
    }
    if items.is_empty() {
        return None;
    }
    Some(Hit::workload(
        format!("{} {} has no clear owner", w.kind.as_str(), w.name),
        items,
        "Add the labels and declare the application with an AppPosture whose selector matches the pods",
    ))
}
