//! Where a piece of evidence came from: the channel it arrived through and when Stance
//! observed it. Who may assert what is derived from the channel (see
//! `index::trust::TrustConfig::trust`), never from anything the document says about itself:
//! a document's own namespace, dates or author are the writer's choice.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

/// An upload to `POST /ingest`: the identity the TokenReview authenticated and the
/// namespace the SubjectAccessReview authorized it for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upload {
    pub uploader: Arc<str>,
    pub namespace: Arc<str>,
}

/// How a document reached Stance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A scanner's own custom resource that Stance watches (Trivy Operator reports,
    /// PolicyReports, OpenReports, Kyverno PolicyExceptions): its kind, and its namespace
    /// (`None` when cluster-scoped). RBAC decides who may write these.
    ScannerResource { kind: Arc<str>, namespace: Option<Arc<str>> },
    /// A ConfigMap labelled `aspm.stance.dev/report`. `upload` holds the provenance
    /// annotations `POST /ingest` writes; they count only in Stance's own namespace, where
    /// tenants cannot write.
    ReportConfigMap { namespace: Arc<str>, name: Arc<str>, upload: Option<Upload> },
    /// The body of a `POST /ingest` upload, as received.
    Upload(Upload),
    /// A file given to the command line (a state folder is the operator's own repository).
    File,
}

impl Channel {
    /// True for the channels that carry reports only (scanner results and SBOMs): every
    /// other kind of document in them is refused, never applied.
    pub fn reports_only(&self) -> bool {
        matches!(self, Channel::ReportConfigMap { .. } | Channel::Upload(_))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Channel::ScannerResource { kind, namespace: Some(ns) } => write!(f, "{kind} in namespace {ns}"),
            Channel::ScannerResource { kind, namespace: None } => write!(f, "{kind} (cluster-scoped)"),
            Channel::ReportConfigMap { namespace, name, upload: None } => write!(f, "ConfigMap {namespace}/{name}"),
            Channel::ReportConfigMap { namespace, name, upload: Some(u) } => {
                write!(f, "ConfigMap {namespace}/{name} (uploaded by {} for namespace {})", u.uploader, u.namespace)
            }
            Channel::Upload(u) => write!(f, "upload by {} for namespace {}", u.uploader, u.namespace),
            Channel::File => f.write_str("file"),
        }
    }
}

/// The channel of a report and the time Stance observed it. Times a document states
/// (scan dates, first-seen dates) are clamped to `observed`: a report cannot claim to be
/// newer than the moment it was read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Provenance {
    pub channel: Channel,
    pub observed: Timestamp,
}

impl Provenance {
    /// Evidence arriving through `channel`, observed at `observed`.
    pub fn new(channel: Channel, observed: Timestamp) -> Provenance {
        Provenance { channel, observed }
    }

    /// `t`, or the observation time when `t` is later.
    pub fn clamp(&self, t: Option<Timestamp>) -> Option<Timestamp> {
        t.map(|t| t.min(self.observed))
    }
}

/// A file read without a clock (parsers' own output, tests, benchmarks): trusted, its dates
/// kept as written. Every reader of real input stamps the real provenance (`ingest::read_*`).
impl Default for Provenance {
    fn default() -> Provenance {
        Provenance { channel: Channel::File, observed: Timestamp::MAX }
    }
}

/// Whose word a piece of evidence is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trust {
    /// Speaks for every namespace: it may add findings, suppress them (VEX), count as a
    /// scan or an SBOM, and tell which digest a tag is.
    Trusted,
    /// Evidence a tenant of this namespace wrote: it may only add findings, seen only by
    /// workloads and applications in this namespace.
    Tenant(Arc<str>),
}

impl Trust {
    /// True for [`Trust::Trusted`].
    pub fn is_trusted(&self) -> bool {
        matches!(self, Trust::Trusted)
    }
}
