//! Container image references, normalised the way the container runtime resolves them
//! (the grammar and aliases are `stance_ecosystem::image_ref`'s, one for policies and workloads).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The registry Docker Hub images resolve to, whatever alias a report uses.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference: `registry/repository[:tag][@digest]`.
///
/// `nginx`, `docker.io/library/nginx`, `index.docker.io/library/nginx` all normalise to
/// registry `docker.io`, repository `library/nginx`, so a Pod's `image:` and a scanner's
/// `report.artifact` meet on the same key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    pub registry: Arc<str>,
    pub repository: Arc<str>,
    /// The tag as written; `None` when the reference has none (the runtime then pulls
    /// `latest` unless a digest is given).
    pub tag: Option<Arc<str>>,
    /// Manifest digest (`sha256:…`) when known.
    pub digest: Option<Arc<str>>,
}

/// Why an image reference could not be parsed (each message says what is expected).
pub use stance_ecosystem::ImageRefError;

/// The key findings, SBOMs and workloads are joined on: the digest when known, else
/// `registry/repository:tag`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageKey(pub Arc<str>);

impl ImageKey {
    /// The key as a string (`registry/repository:tag` or `registry/repository@digest`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// True when this key is a content digest (immutable), not a mutable tag.
    pub fn is_digest(&self) -> bool {
        self.0.starts_with("sha256:") || self.0.starts_with("sha384:") || self.0.starts_with("sha512:")
    }
}

impl fmt::Display for ImageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Normalises registry host aliases (Docker Hub has several) and host case.
pub fn normalize_registry(host: &str) -> String {
    stance_ecosystem::image_ref::normalize_registry(host)
}

impl ImageRef {
    /// Parses a reference as written in a Pod spec, a policy or a scanner report, by the
    /// distribution reference grammar (`stance_ecosystem::ImageRef`): Docker Hub aliases
    /// and the implicit `library/`, registry ports, tags, `sha256`/`sha384`/`sha512` digests.
    pub fn parse(text: &str) -> Result<ImageRef, ImageRefError> {
        stance_ecosystem::ImageRef::parse(text).map(ImageRef::from_canonical)
    }

    /// Builds a reference from the separate fields scanner reports carry, normalised as
    /// [`ImageRef::parse`] does. Fields the reference grammar refuses are still kept (a
    /// scanner's odd repository must not drop its findings), with the same registry
    /// aliases and implicit `library/`; a digest of no known algorithm is dropped.
    pub fn from_parts(registry: &str, repository: &str, tag: Option<&str>, digest: Option<&str>) -> ImageRef {
        if let Ok(r) = stance_ecosystem::ImageRef::from_parts(registry, repository, tag, digest) {
            return ImageRef::from_canonical(r);
        }
        let registry = normalize_registry(registry.trim_end_matches('/'));
        let repository = repository.trim_matches('/');
        // Docker Hub's official images live under `library/`.
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        fn nonempty(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let digest =
            nonempty(digest).filter(|d| stance_ecosystem::ImageRef::parse(&format!("x@{d}")).is_ok()).map(Arc::from);
        ImageRef {
            registry: Arc::from(registry),
            repository: Arc::from(repository),
            tag: nonempty(tag).map(Arc::from),
            digest,
        }
    }

    fn from_canonical(r: stance_ecosystem::ImageRef) -> ImageRef {
        ImageRef {
            registry: Arc::from(r.registry),
            repository: Arc::from(r.repository),
            tag: r.tag.map(Arc::from),
            digest: r.digest.map(Arc::from),
        }
    }

    /// The same reference in `stance_ecosystem`'s form, for prefix matching.
    pub fn canonical(&self) -> stance_ecosystem::ImageRef {
        stance_ecosystem::ImageRef {
            registry: self.registry.to_string(),
            repository: self.repository.to_string(),
            tag: self.tag.as_deref().map(str::to_string),
            digest: self.digest.as_deref().map(str::to_string),
        }
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag the runtime pulls: the written one, else `latest` (when no digest pins it).
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// `registry/repository:tag` — the mutable name of the image.
    pub fn tag_key(&self) -> Option<ImageKey> {
        self.effective_tag().map(|t| ImageKey(Arc::from(format!("{}/{}:{}", self.registry, self.repository, t))))
    }

    /// The join key: digest when known, else [`ImageRef::tag_key`].
    pub fn key(&self) -> ImageKey {
        match &self.digest {
            Some(d) => ImageKey(d.clone()),
            None => self.tag_key().unwrap_or_else(|| ImageKey(Arc::from(self.name()))),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl Serialize for ImageRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ImageRef::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:2f1fe2a8b7e1b3c1b8b7b3f0e6b0c0a1b2c3d4e5f60718293a4b5c6d7e8f9012";

    #[test]
    fn docker_hub_short_names_normalise() {
        let a = ImageRef::parse("nginx:1.21").unwrap();
        let b = ImageRef::from_parts("index.docker.io", "library/nginx", Some("1.21"), None);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "docker.io/library/nginx:1.21");
        assert_eq!(a.key().as_str(), "docker.io/library/nginx:1.21");
    }

    #[test]
    fn registry_with_port_is_not_a_tag() {
        let r = ImageRef::parse("localhost:5000/team/app").unwrap();
        assert_eq!(&*r.registry, "localhost:5000");
        assert_eq!(&*r.repository, "team/app");
        assert_eq!(r.tag, None);
        assert_eq!(r.effective_tag(), Some("latest"));
    }

    #[test]
    fn digest_wins_as_key() {
        let r = ImageRef::parse(&format!("ghcr.io/org/app:v1@{D}")).unwrap();
        assert_eq!(r.key().as_str(), D);
        assert!(r.key().is_digest());
        assert_eq!(r.tag_key().unwrap().as_str(), "ghcr.io/org/app:v1");
        let pinned = ImageRef::parse(&format!("ghcr.io/org/app@{D}")).unwrap();
        assert_eq!(pinned.effective_tag(), None);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(ImageRef::parse(" "), Err(ImageRefError::Empty));
        assert!(ImageRef::parse("nginx@sha256:zz").is_err());
        assert!(ImageRef::parse("nginx:1").is_ok());
        assert!(ImageRef::parse("acme/Nginx:1").is_err());
        assert!(ImageRef::parse("nginx:").is_err());
    }
}
