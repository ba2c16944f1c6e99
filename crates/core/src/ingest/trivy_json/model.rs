//! Trivy's JSON document types (`pkg/types/report.go`), lenient: every field optional,
//! lists read as raw values so that each element's errors name it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::ingest::lenient::{Num, Text};

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy JSON report object")]
pub(super) struct Doc {
    #[serde(rename = "ArtifactName")]
    pub(super) artifact_name: Text,
    #[serde(rename = "ArtifactType")]
    pub(super) artifact_type: Text,
    #[serde(rename = "CreatedAt")]
    pub(super) created_at: Text,
    #[serde(rename = "Trivy")]
    pub(super) trivy: Option<Value>,
    #[serde(rename = "Metadata")]
    pub(super) metadata: Option<Value>,
    #[serde(rename = "Results")]
    pub(super) results: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct TrivyInfo {
    #[serde(rename = "Version")]
    pub(super) version: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct Metadata {
    #[serde(rename = "RepoTags")]
    pub(super) repo_tags: Option<Vec<Text>>,
    #[serde(rename = "RepoDigests")]
    pub(super) repo_digests: Option<Vec<Text>>,
    #[serde(rename = "ImageID")]
    pub(super) image_id: Text,
    #[serde(rename = "Reference")]
    pub(super) reference: Text,
    #[serde(rename = "RepoURL")]
    pub(super) repo_url: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy result object")]
pub(super) struct ResultDoc {
    #[serde(rename = "Target")]
    pub(super) target: Text,
    #[serde(rename = "Class")]
    pub(super) class: Text,
    #[serde(rename = "Vulnerabilities")]
    pub(super) vulnerabilities: Option<Vec<Value>>,
    #[serde(rename = "Misconfigurations")]
    pub(super) misconfigurations: Option<Vec<Value>>,
    #[serde(rename = "Secrets")]
    pub(super) secrets: Option<Vec<Value>>,
    #[serde(rename = "Packages")]
    pub(super) packages: Option<Vec<Value>>,
    #[serde(rename = "ExperimentalModifiedFindings")]
    pub(super) modified: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct PkgIdentifier {
    #[serde(rename = "PURL")]
    pub(super) purl: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy vulnerability object")]
pub(super) struct VulnDoc {
    #[serde(rename = "VulnerabilityID")]
    pub(super) id: Text,
    #[serde(rename = "VendorIDs")]
    pub(super) vendor_ids: Option<Vec<Text>>,
    #[serde(rename = "PkgName")]
    pub(super) pkg_name: Text,
    #[serde(rename = "PkgPath")]
    pub(super) pkg_path: Text,
    #[serde(rename = "PkgIdentifier")]
    pub(super) pkg_identifier: Option<PkgIdentifier>,
    /// Older Trivy versions: the package URL as `PkgRef`.
    #[serde(rename = "PkgRef")]
    pub(super) pkg_ref: Text,
    #[serde(rename = "InstalledVersion")]
    pub(super) installed_version: Text,
    #[serde(rename = "FixedVersion")]
    pub(super) fixed_version: Text,
    #[serde(rename = "Status")]
    pub(super) status: Text,
    #[serde(rename = "Severity")]
    pub(super) severity: Text,
    /// Which vendor's rating `Severity` is; used with `VendorSeverity` when `Severity`
    /// is absent (as in Trivy Operator's plugin fixtures).
    #[serde(rename = "SeveritySource")]
    pub(super) severity_source: Text,
    /// Vendor ratings on Trivy's scale 0 = unknown … 4 = critical.
    #[serde(rename = "VendorSeverity")]
    pub(super) vendor_severity: Option<BTreeMap<String, Num>>,
    #[serde(rename = "Title")]
    pub(super) title: Text,
    #[serde(rename = "PrimaryURL")]
    pub(super) primary_url: Text,
    #[serde(rename = "PublishedDate")]
    pub(super) published: Text,
    #[serde(rename = "CVSS")]
    pub(super) cvss: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct CauseMetadata {
    #[serde(rename = "StartLine")]
    pub(super) start_line: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy misconfiguration object")]
pub(super) struct MisconfDoc {
    #[serde(rename = "ID")]
    pub(super) id: Text,
    #[serde(rename = "AVDID")]
    pub(super) avd_id: Text,
    /// Rego package, e.g. `builtin.kubernetes.KSV001`: its last part is the short check id.
    #[serde(rename = "Namespace")]
    pub(super) namespace: Text,
    #[serde(rename = "Title")]
    pub(super) title: Text,
    #[serde(rename = "Message")]
    pub(super) message: Text,
    #[serde(rename = "Severity")]
    pub(super) severity: Text,
    #[serde(rename = "PrimaryURL")]
    pub(super) primary_url: Text,
    #[serde(rename = "Status")]
    pub(super) status: Text,
    #[serde(rename = "CauseMetadata")]
    pub(super) cause: Option<CauseMetadata>,
}

/// A detected secret. `Match` and `Code` are deliberately not read: they hold the secret.
#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy secret object")]
pub(super) struct SecretDoc {
    #[serde(rename = "RuleID")]
    pub(super) rule_id: Text,
    #[serde(rename = "Title")]
    pub(super) title: Text,
    #[serde(rename = "Severity")]
    pub(super) severity: Text,
    #[serde(rename = "StartLine")]
    pub(super) start_line: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy package object")]
pub(super) struct PackageDoc {
    #[serde(rename = "Name")]
    pub(super) name: Text,
    #[serde(rename = "Version")]
    pub(super) version: Text,
    #[serde(rename = "Identifier")]
    pub(super) identifier: Option<PkgIdentifier>,
    #[serde(rename = "Licenses")]
    pub(super) licenses: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct ModifiedFinding {
    #[serde(rename = "Type")]
    pub(super) ty: Text,
    #[serde(rename = "Status")]
    pub(super) status: Text,
    #[serde(rename = "Statement")]
    pub(super) statement: Text,
    #[serde(rename = "Finding")]
    pub(super) finding: Option<Value>,
}
