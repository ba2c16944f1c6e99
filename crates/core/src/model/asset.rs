//! An asset as the core sees it: the domain form of an `Asset` (one image, repository,
//! endpoint or Service with business context).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::{Criticality, Exposure, LocalRef};

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
    /// The lower-case name as written in the CRD.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Image => "image",
            AssetType::Repository => "repository",
            AssetType::Endpoint => "endpoint",
            AssetType::Service => "service",
        }
    }
}

/// One asset and its business context.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Asset {
    /// The Asset's namespace (the edge fills in the default namespace).
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    /// `metadata.generation`, echoed as `observedGeneration` in status.
    pub generation: Option<i64>,
    pub asset_type: AssetType,
    /// Image repository, git URL, host name or Service name, depending on `asset_type`.
    pub identifier: String,
    /// The AppPosture it belongs to (in the asset's namespace unless given).
    pub app_ref: Option<LocalRef>,
    /// Overrides the application's criticality for this asset's findings.
    pub criticality: Option<Criticality>,
    /// Overrides the application's exposure for this asset's findings (`Auto` does not).
    pub exposure: Option<Exposure>,
    pub owner: Option<String>,
    /// Created by the operator from a running image.
    pub discovered: bool,
}
