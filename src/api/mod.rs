//! Stance's custom resources (`aspm.stance.dev/v1alpha1`), one file per kind.
//!
//! The YAML under `crds/` is generated from these types (`stance crds`); a test fails
//! when it drifts.

pub mod app_posture;
pub mod asset;
pub mod common;
pub mod guardrail_policy;
pub mod risk_exception;

pub use app_posture::{AppPosture, AppPostureSpec, AppPostureStatus};
pub use asset::{Asset, AssetSpec, AssetStatus, AssetType};
pub use common::{Criticality, DataClassification, Exposure};
pub use guardrail_policy::{Enforcement, GuardrailPolicy, GuardrailPolicySpec, GuardrailRule};
pub use risk_exception::{RiskException, RiskExceptionSpec, RiskExceptionState};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The API group of every Stance kind.
pub const GROUP: &str = "aspm.stance.dev";
/// The served and stored version.
pub const VERSION: &str = "v1alpha1";

/// All of Stance's CRDs, in a stable order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![AppPosture::crd(), Asset::crd(), GuardrailPolicy::crd(), RiskException::crd()]
}

/// The CRDs as one multi-document YAML stream (what `stance crds` prints and `crds/` holds).
pub fn crds_yaml() -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    Ok(out)
}
