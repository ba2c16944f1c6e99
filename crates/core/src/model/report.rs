//! One scanner document, parsed: what it scanned, when, and what it found.

use std::sync::Arc;

use jiff::Timestamp;

use super::artifact::{Artifact, ObjectRef};
use super::component::Component;
use super::finding::{Finding, Source};
use super::provenance::Provenance;
use super::vex::VexDocument;

/// The result of parsing one scanner document (one report object, one file).
#[derive(Clone, Debug)]
pub struct Report {
    pub source: Arc<Source>,
    /// Artifacts the document says were scanned. This is the evidence `scanRequired`
    /// rules look for, and it is present even when nothing was found.
    pub scanned: Vec<Artifact>,
    pub scanned_at: Option<Timestamp>,
    pub findings: Vec<Finding>,
    /// The component inventory of `scanned[0]` when the document is (or embeds) an SBOM.
    pub components: Option<Vec<Component>>,
    /// The AppPosture or Asset the document was attributed to by whoever stored it
    /// (e.g. the annotation on an ingested ConfigMap); `None` when it names its own
    /// artifact well enough (images, workloads).
    pub subject: Option<ObjectRef>,
    /// The channel the document came through and when Stance observed it: what it may
    /// assert follows from this, not from the document (set by `ingest::read_*`).
    pub provenance: Provenance,
    /// The VEX statements of a VEX document (OpenVEX, CSAF, standalone CycloneDX VEX): they
    /// apply to every scanner's findings, when the channel is trusted (`crate::vex`).
    pub vex: Option<Arc<VexDocument>>,
}

impl Report {
    /// An empty report from `source`.
    pub fn new(source: Arc<Source>) -> Report {
        Report {
            source,
            scanned: Vec::new(),
            scanned_at: None,
            findings: Vec::new(),
            components: None,
            subject: None,
            provenance: Provenance::default(),
            vex: None,
        }
    }
}
