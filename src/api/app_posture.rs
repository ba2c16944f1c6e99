//! `AppPosture`: an application, its business context, and (in status) its ranked risk.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use stance_core::model::App;
use stance_core::names::API_VERSION;

use super::common::{Criticality, DataClassification, Exposure};
pub use stance_core::assessment::status::{
    ComplianceStatus, Coverage, DEFAULT_TOP_FINDINGS, ImageStatus, MAX_TOP_FINDINGS, RankedFinding, SeverityCounts,
    ViolationStatus,
};

/// An application and its business context. Stance ranks the findings of the
/// application's workloads, images, repositories and endpoints by risk in its status.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "aspm.stance.dev",
    version = "v1alpha1",
    kind = "AppPosture",
    plural = "apppostures",
    shortname = "ap",
    shortname = "posture",
    category = "stance",
    namespaced,
    status = "AppPostureStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Criticality", type_ = "string", json_path = ".spec.criticality"),
    printcolumn(name = "Exposure", type_ = "string", json_path = ".status.exposure"),
    printcolumn(name = "Risk", type_ = "integer", json_path = ".status.riskScore"),
    printcolumn(name = "Critical", type_ = "integer", json_path = ".status.findings.critical"),
    printcolumn(name = "High", type_ = "integer", json_path = ".status.findings.high"),
    printcolumn(
        name = "Compliant",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Compliant\")].status"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct AppPostureSpec {
    /// Owning team (used in messages and reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How to reach the owner (e-mail, chat channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default)]
    pub criticality: Criticality,
    #[serde(default)]
    pub exposure: Exposure,
    #[serde(default)]
    pub data_classification: DataClassification,
    /// Selects the application's workloads in this namespace by their labels or their
    /// pod template's labels. An empty selector selects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Source repositories (git URLs) whose SAST / dependency findings belong to this app.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
    /// Host names whose DAST findings belong to this app (in addition to those of its Ingresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// How many ranked findings to keep in status (default 20, at most 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub top_findings: Option<u32>,
}

/// Observed posture of an application, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppPostureStatus {
    /// Application risk 0–100 (see docs/risk.md).
    #[serde(default)]
    pub risk_score: u32,
    /// The effective exposure (`auto` resolved) and what it was derived from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<String>,
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub exposure_reasons: Vec<String>,
    /// Open findings by severity (suppressed and excepted ones are not counted here).
    #[serde(default, deserialize_with = "super::common::null_as_default")]
    pub findings: SeverityCounts,
    /// Open findings by source format (`trivy-operator`, `sarif`, …).
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub findings_by_source: BTreeMap<String, u32>,
    /// Findings hidden by VEX statements or active RiskExceptions.
    #[serde(default)]
    pub suppressed_findings: u32,
    /// Every open CRITICAL or known-exploited finding (at most 100), as
    /// `ID SEVERITY in package on artifact`; a new entry raises an Event.
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub critical_findings: Vec<String>,
    /// Findings a VEX statement suppresses (at most 100), as `ID in package on artifact:
    /// state (justification) by <document> <statement> [<origin>]`: visible, with what
    /// suppressed them.
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub vex_suppressed: Vec<String>,
    /// The highest-risk findings, best first; at most `spec.topFindings`.
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub top_findings: Vec<RankedFinding>,
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageStatus>,
    #[serde(default, deserialize_with = "super::common::null_as_default")]
    pub sbom_coverage: Coverage,
    #[serde(default, deserialize_with = "super::common::null_as_default")]
    pub scan_coverage: Coverage,
    #[serde(default, deserialize_with = "super::common::null_as_default")]
    pub compliance: ComplianceStatus,
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Overdue findings, new / fixed this week and mean / p90 time to fix per severity over
    /// the last 30 and 90 days, counted from first seen in the cluster (docs/history.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<stance_core::lifecycle::summary::Remediation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// RFC 3339 time of the evaluation that produced this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated: Option<String>,
}

/// The reference Events about an application are published on.
pub fn reference(app: &App) -> ObjectReference {
    ObjectReference {
        api_version: Some(API_VERSION.into()),
        kind: Some("AppPosture".into()),
        name: Some(app.name.to_string()),
        namespace: Some(app.namespace.to_string()),
        uid: app.uid.clone(),
        ..Default::default()
    }
}
