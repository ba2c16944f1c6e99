//! VEX documents as read from OpenVEX, CSAF 2.0 and standalone CycloneDX VEX: statements
//! that say whether a vulnerability affects a product, whichever scanner reported it.
//! [`crate::vex`] applies them to findings; the parsers (`ingest::openvex`, `ingest::csaf`,
//! `ingest::cyclonedx`) build them.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use stance_ecosystem::{Purl, VersionRange};

use super::finding::VexState;

/// The format a VEX document was written in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VexFormat {
    /// OpenVEX v0.2.0 or the legacy v0.0.1 (openvex/spec `OPENVEX-SPEC.md`).
    #[serde(rename = "openvex")]
    OpenVex,
    /// CSAF 2.0 (OASIS `csaf-v2.0-os`, profile 5 "VEX").
    Csaf,
    /// A standalone CycloneDX VEX BOM (`vulnerabilities[].analysis`, no components).
    #[serde(rename = "cyclonedx")]
    CycloneDx,
}

impl VexFormat {
    /// The name used in output (`openvex`, `csaf`, `cyclonedx`).
    pub fn as_str(self) -> &'static str {
        match self {
            VexFormat::OpenVex => "openvex",
            VexFormat::Csaf => "csaf",
            VexFormat::CycloneDx => "cyclonedx",
        }
    }
}

/// One VEX document: who wrote it, when, and its statements in document order.
#[derive(Clone, Debug, PartialEq)]
pub struct VexDocument {
    pub format: VexFormat,
    /// The document's own identifier (OpenVEX `@id`, CSAF `tracking.id`, CycloneDX
    /// `serialNumber`), else the origin.
    pub id: Arc<str>,
    /// The file (`path#document`) or object it was read from.
    pub origin: Arc<str>,
    /// The author (OpenVEX `author`, CSAF `publisher.name`), for display only: trust comes
    /// from the channel the document arrived through, never from what it says of itself.
    pub author: Option<Arc<str>>,
    /// The document's time (OpenVEX `timestamp`, CSAF `tracking.current_release_date`,
    /// CycloneDX `metadata.timestamp`); statements without a time of their own take it.
    pub timestamp: Option<Timestamp>,
    pub statements: Vec<VexStatement>,
}

/// One statement: a status of some vulnerability ids for some products.
#[derive(Clone, Debug, PartialEq)]
pub struct VexStatement {
    /// Where in the document (`statements[3]`, `vulnerabilities[0].product_status.fixed[2]`).
    pub path: Arc<str>,
    /// The vulnerability's identifiers: its name and every alias the statement gives.
    pub vulnerabilities: Vec<Arc<str>>,
    pub products: Vec<VexProduct>,
    pub state: VexState,
    /// The justification label (`vulnerable_code_not_present`, CSAF flag labels, …).
    pub justification: Option<Arc<str>>,
    /// Why the product is not affected, in the author's words (OpenVEX `impact_statement`,
    /// CSAF `threats[category=impact]`, CycloneDX `analysis.detail`).
    pub impact: Option<Arc<str>>,
    /// What to do (OpenVEX `action_statement`, CSAF remediations, CycloneDX `response`).
    pub action: Option<Arc<str>>,
    /// The statement's own time, else the document's (clamped by the index to when Stance
    /// observed the document).
    pub timestamp: Option<Timestamp>,
}

/// A product a statement is about, optionally narrowed to components inside it (OpenVEX
/// `subcomponents`, a CSAF relationship's `product_reference`).
#[derive(Clone, Debug, PartialEq)]
pub struct VexProduct {
    pub id: ProductId,
    pub subcomponents: Vec<ProductId>,
}

/// How a statement names a product.
#[derive(Clone, Debug, PartialEq)]
pub enum ProductId {
    /// A container image: by digest when one is given (the content), else by
    /// `registry/repository` and the tag when one is given (else every tag and digest).
    Image { name: Option<String>, tag: Option<String>, digest: Option<String> },
    /// A package URL: the package, and the version when given (absent: every version).
    Package(Purl),
    /// A package at the versions a statement lists (CycloneDX 1.4–1.6
    /// `vulnerabilities[].affects[].versions[]`, the `affectedVersions` definition): the
    /// package as in [`ProductId::Package`] (its purl's version, when given, must match too),
    /// and only when its version is one listed. An empty list is no version at all.
    PackageVersions { purl: Purl, versions: Vec<ListedVersion> },
    /// A platform named only by CPE (`cpe:/o:redhat:enterprise_linux:9`).
    Cpe(String),
    /// Anything Stance cannot recognise in a scan (a product name, a CSAF product without
    /// identification helper): such statements apply to nothing.
    Unidentified(String),
}

/// One entry of a statement's version list ([`ProductId::PackageVersions`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ListedVersion {
    /// `version`: this version exactly, as written (compared trimmed).
    Exact(String),
    /// `range`: a package-URL `vers:` range, parsed in the package's version scheme; a
    /// version that is not one of that scheme is not in it.
    Range(Arc<VersionRange>),
}

/// The statement that decided a finding's VEX state, as output beside the state: which
/// document and statement, and the statements of other documents that disagree.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VexSource {
    pub format: VexFormat,
    /// The document's identifier ([`VexDocument::id`]).
    pub document: Arc<str>,
    /// Where the document was read from ([`VexDocument::origin`]).
    pub origin: Arc<str>,
    /// The statement's place in the document ([`VexStatement::path`]).
    pub statement: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Arc<str>>,
    /// Statements about the same finding in other documents (or in the scanner's own
    /// report) whose state disagrees on whether it applies: reported, never hidden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<VexConflict>,
}

/// A disagreeing statement (see [`VexSource::conflicts`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VexConflict {
    /// The document's identifier, or `scanner report` for a state the scanner stated.
    pub document: Arc<str>,
    pub origin: Arc<str>,
    pub statement: Arc<str>,
    pub state: VexState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}
