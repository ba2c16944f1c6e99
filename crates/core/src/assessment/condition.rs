//! Status conditions as the core decides them. The edge turns a [`ConditionState`] into a
//! Kubernetes `Condition` (one builder, which adds the transition time and the observed
//! generation), so the type, status, reason and message of every condition Stance writes
//! are decided here.

use crate::index::PolicyEntry;

/// One condition: `type`, `status` (`ok` → `"True"`), `reason`, `message`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionState {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub ok: bool,
    /// CamelCase, as Kubernetes conventions want.
    pub reason: &'static str,
    pub message: String,
}

impl ConditionState {
    /// `"True"` or `"False"`.
    pub fn status(&self) -> &'static str {
        if self.ok { "True" } else { "False" }
    }

    /// A GuardrailPolicy's `Ready` condition: applied, or invalid and why.
    pub fn policy_ready(p: &PolicyEntry) -> ConditionState {
        match &p.compiled {
            Ok(_) => {
                ConditionState { type_: "Ready", ok: true, reason: "Valid", message: "the policy is applied".into() }
            }
            Err(e) => ConditionState { type_: "Ready", ok: false, reason: "Invalid", message: e.to_string() },
        }
    }
}
