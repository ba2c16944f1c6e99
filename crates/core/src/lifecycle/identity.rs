//! What a remediation lifecycle is kept for: one finding identity in one application or
//! asset (the cluster is the store's business: each cluster writes under its own name).
//!
//! The identity is the index's correlation identity (`index::correlate`) with its
//! version-specific parts left out: the image (its digest and tag), and a package's installed
//! version. An image rebuilt or upgraded that still carries CVE-X in openssl keeps CVE-X's
//! lifecycle, and its first-seen date: rebuilding never resets a remediation clock, and a
//! finding is fixed only when no running image of the application still has it.
//!
//! | kind | identity within the subject |
//! |---|---|
//! | vulnerability | id + package short name (`log4j-core`, not `log4j-core@2.14.1`) |
//! | secret, SAST, DAST | id + the scanner's fingerprint, else the location; + the repository or endpoint |
//! | misconfiguration, policy | id + the Kubernetes object (or other non-image artifact) |

use std::fmt;
use std::sync::Arc;

use crate::index::correlate::package_short_name;
use crate::model::{Artifact, Finding, FindingKind};

/// Whether a subject is an application or an asset.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    /// An `AppPosture`: the findings of its workloads' images, objects, repositories and endpoints.
    App,
    /// An `Asset` Stance did not discover itself (a declared image, repository, endpoint or Service).
    Asset,
}

impl SubjectKind {
    /// `app` or `asset` (the store's column value).
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::App => "app",
            SubjectKind::Asset => "asset",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    pub fn parse(text: &str) -> Option<SubjectKind> {
        match text {
            "app" => Some(SubjectKind::App),
            "asset" => Some(SubjectKind::Asset),
            _ => None,
        }
    }
}

/// An application or asset, by namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectRef {
    pub kind: SubjectKind,
    pub namespace: Arc<str>,
    pub name: Arc<str>,
}

impl SubjectRef {
    /// The application `namespace/name`.
    pub fn app(namespace: &str, name: &str) -> SubjectRef {
        SubjectRef { kind: SubjectKind::App, namespace: Arc::from(namespace), name: Arc::from(name) }
    }

    /// The asset `namespace/name`.
    pub fn asset(namespace: &str, name: &str) -> SubjectRef {
        SubjectRef { kind: SubjectKind::Asset, namespace: Arc::from(namespace), name: Arc::from(name) }
    }
}

/// `namespace/name` for applications (how users name them: `--app shop/storefront`),
/// `asset:namespace/name` for assets.
impl fmt::Display for SubjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SubjectKind::App => write!(f, "{}/{}", self.namespace, self.name),
            SubjectKind::Asset => write!(f, "asset:{}/{}", self.namespace, self.name),
        }
    }
}

/// A finding's identity within one subject (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FindingKey {
    pub kind: FindingKind,
    /// The preferred id (a CVE id when any alias is one).
    pub id: Arc<str>,
    /// What the finding is in, version-independent: the package's short name, or the
    /// fingerprint / location and non-image artifact. Empty when nothing more is needed.
    pub what: Arc<str>,
}

impl FindingKey {
    /// The key of a finding as the index holds it.
    pub fn of(f: &Finding) -> FindingKey {
        FindingKey { kind: f.kind, id: f.id.clone(), what: Arc::from(what(f)) }
    }
}

fn what(f: &Finding) -> String {
    let part = match f.kind {
        FindingKind::Vulnerability => f.package.as_ref().map(|p| package_short_name(p).to_ascii_lowercase()),
        FindingKind::Secret | FindingKind::Sast | FindingKind::Dast => {
            f.fingerprint.as_deref().or(f.location.as_deref()).map(str::to_string)
        }
        FindingKind::Misconfiguration | FindingKind::Policy => None,
    };
    // Image versions come and go; everything else a finding can be in is stable.
    let artifact = match &*f.artifact {
        Artifact::Image(_) => None,
        other => Some(other.key().0),
    };
    match (part, artifact) {
        (Some(p), Some(a)) => format!("{p} @ {a}"),
        (Some(p), None) => p,
        (None, Some(a)) => a.to_string(),
        (None, None) => String::new(),
    }
}

/// Parses a [`FindingKind`] from its output name (`vulnerability`, …), as the store keeps it.
pub fn parse_kind(text: &str) -> Option<FindingKind> {
    [
        FindingKind::Vulnerability,
        FindingKind::Misconfiguration,
        FindingKind::Secret,
        FindingKind::Sast,
        FindingKind::Dast,
        FindingKind::Policy,
    ]
    .into_iter()
    .find(|k| k.as_str() == text)
}
