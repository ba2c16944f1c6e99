//! Reading scanner reports, SBOMs, exploitability feeds and Kubernetes manifests into
//! domain types.
//!
//! One module per source format. Each report format exposes
//! `detect(&Value) -> bool` and `parse(origin, &Value) -> Result<Vec<Report>, String>`;
//! [`document`] recognises a document by `apiVersion`/`kind` or by its content and
//! dispatches. Nothing here talks to a cluster: the operator feeds the objects it
//! watches through the same functions.

pub mod checkov;
pub mod cyclonedx;
pub mod document;
pub mod epss;
pub mod gitleaks;
pub mod grype;
pub mod kev;
pub mod kubernetes;
pub mod kubescape;
pub mod kyverno_exception;
pub mod loader;
pub mod npm_audit;
pub mod osv_scanner;
pub mod policy_report;
pub mod sarif;
pub mod semgrep;
pub mod snyk;
pub mod spdx;
pub mod spdx3;
pub mod timestamp;
pub mod trivy_json;
pub mod trivy_operator;
pub mod zap;

// Shared by several parsers.
mod cvss_vector;
mod error_path;
mod finding_id;
mod lenient;
mod license;
mod project_dir;
mod purl;
mod sbom_subject;
mod title;
mod trivy_artifact;
mod trivy_cvss;

pub use document::{Parsed, parse_bytes, parse_value};
pub use epss::Epss;
pub use kev::Kev;
pub use kubernetes::KubeObject;
pub use loader::{LoadError, LoadSummary, Loaded, for_each_file, load_paths};

use std::sync::Arc;

use crate::model::{Format, ObjectRef, Source};

/// A problem with one document that did not stop the others from being read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// The file (and document index) or object the problem is in.
    pub origin: String,
    pub message: String,
}

/// Builds the shared [`Source`] of a report's findings.
pub fn source(format: Format, scanner: &str, origin: &str) -> Arc<Source> {
    Arc::new(Source {
        format,
        scanner: Arc::from(scanner.trim()),
        origin: Arc::from(origin),
        workload: None,
        container: None,
    })
}

/// Builds a [`Source`] that names the workload and container the scanner attributed its
/// findings to.
pub fn workload_source(
    format: Format,
    scanner: &str,
    origin: &str,
    workload: Option<ObjectRef>,
    container: Option<&str>,
) -> Arc<Source> {
    Arc::new(Source {
        format,
        scanner: Arc::from(scanner.trim()),
        origin: Arc::from(origin),
        workload,
        container: container.filter(|c| !c.is_empty()).map(Arc::from),
    })
}
