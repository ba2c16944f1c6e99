//! `Asset`: one image, repository, endpoint or service with business context.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Criticality, Exposure, LocalRef};
pub use stance_core::assessment::status::AssetStatus;
pub use stance_core::model::AssetType;

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
