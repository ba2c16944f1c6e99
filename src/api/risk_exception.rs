//! `RiskException`: a time-boxed, justified acceptance of specific risk.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::VexState;

/// A time-boxed exception from guardrails and posture for specific findings.
///
/// It is honoured only when it lives in a namespace the policy trusts (by default the
/// platform team's namespace, not the application's) and before `expires`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "aspm.stance.dev",
    version = "v1alpha1",
    kind = "RiskException",
    plural = "riskexceptions",
    shortname = "rex",
    category = "stance",
    namespaced,
    status = "RiskExceptionStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Policy", type_ = "string", json_path = ".spec.policy"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
    printcolumn(name = "Expires", type_ = "string", json_path = ".spec.expires"),
    printcolumn(name = "Ticket", type_ = "string", json_path = ".spec.ticket"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct RiskExceptionSpec {
    /// GuardrailPolicy name this exception applies to; omitted means every policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Rule names (or rule types such as `vulnerabilities`) it applies to; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Finding ids (CVE, GHSA, check ids such as KSV001) it covers. Empty means every
    /// finding of the matched rules: use sparingly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    #[serde(default, rename = "match")]
    pub match_: ExceptionMatch,
    /// Why the risk is accepted. Required.
    pub justification: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// RFC 3339 time after which the exception stops applying. Required.
    pub expires: String,
    /// A VEX-style statement; `not_affected` also hides the findings from posture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<ExceptionAnalysis>,
}

/// What an exception applies to. Every listed criterion must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionMatch {
    /// Namespaces of the workloads covered; defaults to the exception's own namespace.
    /// `*` covers every namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// AppPosture names covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    /// Image patterns covered (globs over `registry/repository[:tag]`, e.g. `ghcr.io/acme/*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Workload names covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
}

/// A VEX analysis of the excepted findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionAnalysis {
    pub state: VexState,
    /// CycloneDX justification, e.g. `code_not_reachable`, `requires_configuration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Lifecycle state of an exception.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RiskExceptionState {
    #[default]
    Active,
    Expired,
    Invalid,
}

/// Observed state of an exception, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskExceptionStatus {
    #[serde(default)]
    pub state: RiskExceptionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Findings this exception currently covers.
    #[serde(default)]
    pub covered_findings: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
