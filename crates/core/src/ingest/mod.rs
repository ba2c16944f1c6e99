//! Reading scanner reports, SBOMs and exploitability feeds into domain types.
//!
//! One module per source format (VEX documents too: `openvex`, `csaf`, and standalone
//! CycloneDX VEX in `cyclonedx`, each a report carrying a `VexDocument`). Each report format exposes
//! `detect(&Value) -> bool` and `parse(origin, &Value) -> Result<Vec<Report>, FormatError>`;
//! [`document`] recognises a document by `apiVersion`/`kind` or by its content and
//! dispatches. Nothing here talks to a cluster or reads a file: callers hand in bytes or
//! values (the CLI's files, the operator's watched objects, CI uploads), and get back
//! reports plus the Kubernetes objects that are not reports, raw, for them to convert.

pub mod budget;
pub mod checkov;
pub mod config_map;
pub mod csaf;
pub mod cyclonedx;
pub mod document;
pub mod epss;
pub mod gitleaks;
pub mod grype;
pub mod gzip;
pub mod kev;
pub mod kubescape;
pub mod kyverno_exception;
pub mod npm_audit;
pub mod openvex;
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
pub(crate) mod purl;
mod sbom_subject;
mod title;
mod trivy_artifact;
mod trivy_cvss;
mod vex_product;

pub use budget::{Limits, Refusal};
pub use document::{Parsed, Reader, parse_bytes, parse_value};
pub use epss::Epss;
pub use kev::Kev;

use std::sync::Arc;

use crate::model::{Format, ObjectRef, Source};

/// Why a scanner document could not be read: where in the document and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FormatError {
    /// The field at fault as a JSON path from the document's root (`runs[0].results[3].level`),
    /// a line (`line 12`) for CSV, or empty when the document as a whole is wrong.
    pub path: String,
    pub problem: String,
}

impl FormatError {
    /// A problem at `path` (see [`FormatError::path`]).
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> FormatError {
        FormatError { path: path.into(), problem: problem.into() }
    }

    /// A problem with the document as a whole.
    pub fn whole(problem: impl Into<String>) -> FormatError {
        FormatError::new("", problem)
    }
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() { f.write_str(&self.problem) } else { write!(f, "{}: {}", self.path, self.problem) }
    }
}

/// A problem with one document that did not stop the others from being read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// The file (and document index) or object the problem is in.
    pub origin: String,
    /// What is wrong, naming the field where one is at fault.
    pub message: String,
    /// Set when the document was refused rather than unreadable (a budget exceeded, or a
    /// report channel carrying something else): callers count these in a metric.
    #[serde(skip)]
    pub refusal: Option<Refusal>,
}

impl Warning {
    /// A warning about `origin` that is not a refusal.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> Warning {
        Warning { origin: origin.into(), message: message.into(), refusal: None }
    }
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
