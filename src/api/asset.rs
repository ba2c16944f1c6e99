//! `Asset`: one image, repository, endpoint or service with business context.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Criticality, Exposure, LocalRef};

/// What kind of thing an asset is.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssetType {
    /// A container image repository (`ghcr.io/acme/shop`); matches every tag and digest.
    #[default]
    Image,
    /// A source repository (git URL); SAST and CI dependency findings attach to it.
    Repository,
    /// A network endpoint (host name); DAST findings attach to it.
    Endpoint,
    /// A Kubernetes Service, by name, in the asset's namespace.
    Service,
}

impl AssetType {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Image => "image",
            AssetType::Repository => "repository",
            AssetType::Endpoint => "endpoint",
            AssetType::Service => "service",
        }
    }
}

/// One asset and its business context. Declared by teams, or discovered by the
/// operator for every running image (`discovered: true`).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "aspm.stance.dev",
    version = "v1alpha1",
    kind = "Asset",
    plural = "assets",
    shortname = "sa",
    category = "stance",
    namespaced,
    status = "AssetStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "Identifier", type_ = "string", json_path = ".spec.identifier"),
    printcolumn(name = "App", type_ = "string", json_path = ".spec.appRef.name"),
    printcolumn(name = "Risk", type_ = "integer", json_path = ".status.riskScore"),
    printcolumn(name = "Critical", type_ = "integer", json_path = ".status.findings.critical"),
    printcolumn(name = "High", type_ = "integer", json_path = ".status.findings.high"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct AssetSpec {
    #[serde(rename = "type", default)]
    pub asset_type: AssetType,
    /// Image repository, git URL, host name or Service name, depending on `type`.
    pub identifier: String,
    /// The AppPosture this asset belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<LocalRef>,
    /// Overrides the application's criticality for this asset's findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// Overrides the application's exposure for this asset's findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Set by the operator on assets it created from running images.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discovered: bool,
}

/// Observed state of an asset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetStatus {
    #[serde(default)]
    pub risk_score: u32,
    #[serde(default)]
    pub findings: super::app_posture::SeverityCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scanned: Option<String>,
    /// Workloads running it (at most 20 listed; `workloadCount` has them all).
    #[serde(default, deserialize_with = "super::common::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub seen_in: Vec<String>,
    #[serde(default)]
    pub workload_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
