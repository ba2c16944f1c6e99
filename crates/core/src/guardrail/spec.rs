//! What users write in GuardrailPolicies and RiskExceptions, below the Kubernetes
//! envelope: enforcement, the rule types and their settings, which exceptions a policy
//! honours, what an exception matches. The CRDs (`stance::api`) embed these types, so the
//! schema users write against is defined here once, and the compilers in this module's
//! siblings read them without any Kubernetes type in between.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Severity, VexState};

/// What happens when a rule is violated.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Enforcement {
    /// Admission is denied.
    #[default]
    Enforce,
    /// Admission is allowed with a warning shown to the client.
    Warn,
    /// Admission is allowed; the violation is recorded (metrics, events, status).
    Audit,
}

impl Enforcement {
    /// The name as written in the CRD (`Enforce`, `Warn`, `Audit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Enforce => "Enforce",
            Enforcement::Warn => "Warn",
            Enforcement::Audit => "Audit",
        }
    }
}

/// What to do with an image no scanner has reported on yet.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnUnscanned {
    /// Treat as a violation under the policy's enforcement.
    Deny,
    /// Allow, with a warning.
    #[default]
    Warn,
    /// Allow silently.
    Allow,
}

/// Which RiskExceptions the policy honours.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionSettings {
    /// Namespaces whose RiskExceptions are honoured. Empty means the operator's
    /// configured exception namespace (default `stance-system`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_namespaces: Vec<String>,
    /// Also honour exceptions in the workload's own namespace (lets app teams exempt
    /// themselves — off by default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_same_namespace: bool,
    /// Do not honour any exception.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// One rule. Exactly one of the rule-type fields must be set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailRule {
    /// Unique within the policy; defaults to the rule type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<VulnerabilityRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<RiskScoreRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_required: Option<ScanRequiredRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom_required: Option<SbomRequiredRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<ComponentsRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_reference: Option<ImageReferenceRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_security: Option<WorkloadSecurityRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<OwnershipRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<super::remediation::RemediationRule>,
}

/// Deny images with vulnerabilities above a severity; the optional filters narrow which
/// vulnerabilities count (all given filters must hold).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VulnerabilityRule {
    /// The highest severity allowed; anything above violates. `HIGH` denies CRITICAL.
    pub max_severity: Severity,
    /// Count only vulnerabilities with a known fixed version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fix_available_only: bool,
    /// Count only vulnerabilities on CISA's Known Exploited Vulnerabilities list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_exploited_only: bool,
    /// Count only vulnerabilities with an EPSS probability at least this (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_epss: Option<f64>,
    /// Count only vulnerabilities first seen in the cluster more than this many days ago (with
    /// no history store: first reported by a scanner), a remediation SLA. The `remediation`
    /// rule gives per-severity deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than_days: Option<u32>,
    /// Vulnerability ids never counted by this rule (prefer RiskExceptions: they expire).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

/// Deny workloads whose highest contextual finding risk exceeds a threshold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskScoreRule {
    /// The highest allowed risk score (0–100).
    #[schemars(range(min = 0, max = 100))]
    pub max: u32,
}

/// Every image must have a scan report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanRequiredRule {
    /// The report must be younger than this many hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_hours: Option<u32>,
}

/// Every image must have an SBOM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SbomRequiredRule {}

/// Banned packages and licenses, judged from the image's SBOM (or, without one, the
/// packages its vulnerability report names).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentsRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub banned: Vec<BannedComponent>,
    /// SPDX license ids that must not appear (`AGPL-3.0-only`, `SSPL-1.0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_licenses: Vec<String>,
}

/// A banned package, optionally only within a version range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BannedComponent {
    /// Package URL without version: `pkg:maven/org.apache.logging.log4j/log4j-core`.
    pub purl: String,
    /// Version range, comma-separated comparisons: `>=2.0.0, <2.17.1`. Empty bans all versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Constraints on how images are referenced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageReferenceRule {
    /// Registry (or registry/path) prefixes images must come from: `ghcr.io/acme`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_registries: Vec<String>,
    /// Images must be pinned by digest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_digest: bool,
    /// The `latest` tag (explicit or implied) is not allowed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disallow_latest: bool,
}

/// Pod security checks. Each check is on unless set to `false`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSecurityRule {
    #[serde(default = "yes")]
    pub disallow_privileged: bool,
    #[serde(default = "yes")]
    pub disallow_host_path: bool,
    /// hostNetwork, hostPID, hostIPC.
    #[serde(default = "yes")]
    pub disallow_host_namespaces: bool,
    #[serde(default = "yes")]
    pub require_run_as_non_root: bool,
    #[serde(default = "yes")]
    pub disallow_privilege_escalation: bool,
    /// CPU and memory limits on every container.
    #[serde(default = "yes")]
    pub require_resource_limits: bool,
}

impl Default for WorkloadSecurityRule {
    fn default() -> Self {
        WorkloadSecurityRule {
            disallow_privileged: true,
            disallow_host_path: true,
            disallow_host_namespaces: true,
            require_run_as_non_root: true,
            disallow_privilege_escalation: true,
            require_resource_limits: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Every workload must be owned: carry labels and belong to an application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnershipRule {
    /// Labels the workload (or its pod template) must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_labels: Vec<String>,
    /// The workload must be selected by some AppPosture. Default true.
    #[serde(default = "yes")]
    pub require_app_posture: bool,
}

impl Default for OwnershipRule {
    fn default() -> Self {
        OwnershipRule { required_labels: Vec::new(), require_app_posture: true }
    }
}

/// What an exception applies to. Every listed criterion must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionMatch {
    /// Namespaces of the workloads covered; defaults to the exception's own namespace.
    /// `*` covers every namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// AppPosture names covered: `namespace/name`, or a bare `name` when the exception
    /// covers a single namespace (one that spans several, or `*`, must qualify them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    /// Image patterns covered (globs over `registry/repository[:tag]`, e.g. `ghcr.io/acme/*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Workload names covered: `namespace/name`, or a bare `name` when the exception covers
    /// a single namespace.
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
    /// Valid, in force, and able to waive something.
    #[default]
    Active,
    /// Past `spec.expires`.
    Expired,
    /// Refused: the reason names the field.
    Invalid,
    /// Valid and in force, but it can waive nothing: it covers only exempt namespaces, or no
    /// GuardrailPolicy has its policy and rules or trusts exceptions from its namespace for the
    /// namespaces it covers (and it hides no finding from posture). The reason says which.
    Unmatched,
}
