//! `RiskException`: a time-boxed, justified acceptance of specific risk.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use stance_core::assessment::status::RiskExceptionStatus;
pub use stance_core::guardrail::spec::{ExceptionAnalysis, ExceptionMatch, RiskExceptionState};

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
    // `format: date-time` lets the API server refuse a bare date at apply time; the compiler
    // (stance_core::ingest::timestamp) still judges the text for files read offline.
    #[schemars(extend("format" = "date-time"))]
    pub expires: String,
    /// A VEX-style statement; `not_affected` also hides the findings from posture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<ExceptionAnalysis>,
}
