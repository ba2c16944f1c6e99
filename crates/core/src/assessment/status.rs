//! The values the operator writes into status (and `stance scan` prints): pure data,
//! computed by this module's siblings. The CRDs in `stance::api` embed these types, so the
//! status schema is defined here once.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::guardrail::RiskExceptionState;

/// Default number of findings kept in `status.topFindings`.
pub const DEFAULT_TOP_FINDINGS: u32 = 20;
/// Hard cap on `spec.topFindings`, which keeps the status far below etcd's object limit.
pub const MAX_TOP_FINDINGS: u32 = 100;

/// Counts per severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeverityCounts {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub unknown: u32,
    pub total: u32,
}

/// One finding, as ranked for an application.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankedFinding {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub risk_score: u32,
    pub title: String,
    /// `image:…`, `object:…`, `repository:…` or `endpoint:…`.
    pub artifact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_exploited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
    /// The factors that make up the score, e.g. `severity=HIGH(+26)`, `kev(+25)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<String>,
    /// Scanners that reported it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Number of the app's workloads affected.
    #[serde(default)]
    pub workloads: u32,
}

/// An image the application runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageStatus {
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub workloads: u32,
    pub scanned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scanned: Option<String>,
    pub sbom: bool,
    pub critical: u32,
    pub high: u32,
}

/// How many of the application's images have a given kind of evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub images: u32,
    pub covered: u32,
    pub percent: u32,
}

/// Guardrail results for the application's running workloads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceStatus {
    pub compliant: bool,
    /// Violations by enforcement (`Enforce`, `Warn`, `Audit`).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub violations_by_enforcement: BTreeMap<String, u32>,
    /// The first violations (at most 20), one line each.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<ViolationStatus>,
}

/// One guardrail violation by a running workload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViolationStatus {
    pub policy: String,
    pub rule: String,
    pub enforcement: String,
    pub workload: String,
    pub message: String,
}
/// Observed state of an asset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetStatus {
    #[serde(default)]
    pub risk_score: u32,
    #[serde(default)]
    pub findings: SeverityCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scanned: Option<String>,
    /// Workloads running it (at most 20 listed; `workloadCount` has them all).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub seen_in: Vec<String>,
    #[serde(default)]
    pub workload_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
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
/// Deserializes `null` as the type's default. Status collections may come back as `null`
/// (the CRD schema allows it: see `stance::api::portable`); reading them must not fail.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
