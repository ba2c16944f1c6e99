//! `GuardrailPolicy`: cluster-wide release-governance rules. The rule types and settings
//! are the core's (`stance_core::guardrail::spec`); this file adds the Kubernetes envelope:
//! the `match` block (its selectors are Kubernetes `LabelSelector`s) and the status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Criticality, Exposure};
pub use stance_core::guardrail::spec::{
    BannedComponent, ComponentsRule, Enforcement, ExceptionSettings, GuardrailRule, ImageReferenceRule, OnUnscanned,
    OwnershipRule, RiskScoreRule, SbomRequiredRule, ScanRequiredRule, VulnerabilityRule, WorkloadSecurityRule,
};

/// Release-governance guardrails applied at admission (webhook), in CI (`stance check`)
/// and to running workloads (operator audit).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "aspm.stance.dev",
    version = "v1alpha1",
    kind = "GuardrailPolicy",
    plural = "guardrailpolicies",
    shortname = "gp",
    shortname = "guardrail",
    category = "stance",
    status = "GuardrailPolicyStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Enforcement", type_ = "string", json_path = ".spec.enforcement"),
    printcolumn(name = "Violations", type_ = "integer", json_path = ".status.violatingWorkloads"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub enforcement: Enforcement,
    /// Which workloads the policy applies to. Empty matches every workload.
    #[serde(default, rename = "match")]
    pub match_: PolicyMatch,
    /// What to do when an image has no scan report yet (vulnerability, risk and component
    /// rules cannot be judged without one). Default `warn`.
    #[serde(default)]
    pub on_unscanned: OnUnscanned,
    /// On UPDATE, deny only violations the running revision does not already have, so an
    /// old known problem does not block an urgent unrelated fix ("new risk only").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new_risk_only: bool,
    #[serde(default)]
    pub exceptions: ExceptionSettings,
    pub rules: Vec<GuardrailRule>,
}

/// Which workloads a policy applies to. Every given criterion must match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyMatch {
    /// Labels of the workload's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Namespace names (in addition to the selector).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_namespaces: Vec<String>,
    /// Labels of the AppPosture the workload belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_selector: Option<LabelSelector>,
    /// Criticalities of the workload's application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criticalities: Vec<Criticality>,
    /// Effective exposures of the workload's application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposures: Vec<Exposure>,
    /// Workload kinds (`Deployment`, `Pod`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
}

/// Observed state of a policy, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailPolicyStatus {
    /// Running workloads that violate the policy.
    #[serde(default)]
    pub violating_workloads: u32,
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
