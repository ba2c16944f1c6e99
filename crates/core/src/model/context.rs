//! The business-context vocabulary shared by applications, assets, policies and risk:
//! criticality, exposure, data classification. The CRDs re-export these types, so their
//! schema (and the YAML users write) is defined here once.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much the business depends on an application.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Criticality {
    /// The lower-case name as written in the CRD.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

/// Who can reach an application over the network. `auto` (the default) derives it from
/// the Services, Ingresses and HTTPRoutes that route to the application's workloads.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    #[default]
    Auto,
    /// Reachable from the internet (Ingress, HTTPRoute, LoadBalancer, NodePort).
    Internet,
    /// Reachable inside the cluster or corporate network only.
    Internal,
    /// Not reachable over the network (batch jobs, workers).
    None,
}

impl Exposure {
    /// The lower-case name as written in the CRD.
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Auto => "auto",
            Exposure::Internet => "internet",
            Exposure::Internal => "internal",
            Exposure::None => "none",
        }
    }
}

/// The most sensitive class of data an application handles.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataClassification {
    Public,
    #[default]
    Internal,
    Confidential,
    /// Regulated data: personal, payment, health.
    Restricted,
}

impl DataClassification {
    /// The lower-case name as written in the CRD.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClassification::Public => "public",
            DataClassification::Internal => "internal",
            DataClassification::Confidential => "confidential",
            DataClassification::Restricted => "restricted",
        }
    }
}

/// A reference to an object by name, in the referrer's namespace unless given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}
