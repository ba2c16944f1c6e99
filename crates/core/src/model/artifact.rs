//! What a finding is about: an image, a workload, a repository, an endpoint.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::image::{ImageKey, ImageRef};

/// A reference to a Kubernetes object (namespaced or cluster-scoped).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Arc<str>>,
    pub name: Arc<str>,
}

impl ObjectRef {
    /// A reference; an empty namespace counts as none.
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            kind: Arc::from(kind),
            namespace: namespace.filter(|n| !n.is_empty()).map(Arc::from),
            name: Arc::from(name),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// The thing a finding was found in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Artifact {
    /// A container image (vulnerabilities, secrets, SBOM components).
    Image(ImageRef),
    /// A Kubernetes object (configuration audits, policy results).
    Object(ObjectRef),
    /// A source repository (SAST, dependency scans in CI), by URL or name.
    Repository(Arc<str>),
    /// A network endpoint (DAST), by host or base URL.
    Endpoint(Arc<str>),
    /// Anything else a scanner names (a file system path, a node, a cluster).
    Other(Arc<str>),
}

/// A stable string form of an [`Artifact`], used as the correlation key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArtifactKey(pub Arc<str>);

impl Artifact {
    /// Short name of the artifact's type, as output in JSON (`image`, `object`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Artifact::Image(_) => "image",
            Artifact::Object(_) => "object",
            Artifact::Repository(_) => "repository",
            Artifact::Endpoint(_) => "endpoint",
            Artifact::Other(_) => "other",
        }
    }

    /// The correlation key: images by digest when known (so the same bytes under two tags
    /// are one artifact), everything else by its normalised name.
    pub fn key(&self) -> ArtifactKey {
        match self {
            Artifact::Image(i) => image_artifact_key(&i.key()),
            other => ArtifactKey(Arc::from(other.to_string())),
        }
    }

    /// The image, when the artifact is one.
    pub fn image(&self) -> Option<&ImageRef> {
        match self {
            Artifact::Image(i) => Some(i),
            _ => None,
        }
    }
}

/// The artifact key of an image key (`image:<digest or name:tag>`).
pub fn image_artifact_key(key: &ImageKey) -> ArtifactKey {
    ArtifactKey(Arc::from(format!("image:{key}")))
}

/// Normalises a repository URL so `https://github.com/org/repo.git`, `git@github.com:org/repo`
/// and `github.com/org/repo` are the same repository.
pub fn normalize_repository(url: &str) -> String {
    let mut s = url.trim().trim_end_matches('/');
    for prefix in ["git+", "https://", "http://", "ssh://", "git://"] {
        s = s.strip_prefix(prefix).unwrap_or(s);
    }
    let s = s.strip_prefix("git@").map_or_else(|| s.to_string(), |rest| rest.replacen(':', "/", 1));
    let s = s.trim_end_matches(".git");
    // Drop credentials such as `user@host` left in clone URLs.
    let s = match s.split_once('@') {
        Some((cred, rest)) if !cred.contains('/') => rest,
        _ => s,
    };
    s.to_ascii_lowercase()
}

/// Normalises an endpoint to its host name (lower case, no scheme, port or path).
pub fn normalize_endpoint(url: &str) -> String {
    let s = url.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let host = s.split(['/', '?', '#']).next().unwrap_or(s);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    host.to_ascii_lowercase()
}

impl fmt::Display for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Artifact::Image(i) => write!(f, "image:{i}"),
            Artifact::Object(o) => write!(f, "object:{o}"),
            Artifact::Repository(r) => write!(f, "repository:{r}"),
            Artifact::Endpoint(e) => write!(f, "endpoint:{e}"),
            Artifact::Other(o) => write!(f, "other:{o}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_normalise() {
        let want = "github.com/org/repo";
        for url in [
            "https://github.com/org/repo.git",
            "git@github.com:org/repo.git",
            "github.com/Org/Repo/",
            "git+https://token@github.com/org/repo",
        ] {
            assert_eq!(normalize_repository(url), want, "{url}");
        }
    }

    #[test]
    fn endpoints_normalise_to_host() {
        assert_eq!(normalize_endpoint("https://Shop.Example.com:8443/login?x=1"), "shop.example.com");
        assert_eq!(normalize_endpoint("http://localhost:8080"), "localhost");
        assert_eq!(normalize_endpoint("api.example.com"), "api.example.com");
    }

    #[test]
    fn image_artifacts_key_by_digest() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let a = Artifact::Image(ImageRef::from_parts("docker.io", "nginx", Some("1"), Some(d)));
        let b = Artifact::Image(ImageRef::from_parts("mirror.local", "nginx", Some("x"), Some(d)));
        assert_eq!(a.key(), b.key());
    }
}
