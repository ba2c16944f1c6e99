//! Container image references, in one canonical form for workloads and for policy
//! patterns.
//!
//! Grammar and normalisation are those of the distribution project's reference package
//! (distribution/reference `reference.go`, `regexp.go`, `normalize.go`, the code Docker,
//! containerd and Kubernetes' kubelet use):
//!
//! * `[registry/]path[:tag][@digest]`. The first path component is a registry only if it
//!   looks like a host — it contains `.` or `:`, is `localhost`, or has upper-case letters
//!   (`splitDockerDomain`); otherwise the image is on Docker Hub. `localhost:5000/x` is a
//!   registry with a port, `test.com:5000` (no `/`) is the image `test.com`, tag `5000`.
//! * Path components are lower-case `[a-z0-9]+` joined by `.`, `_`, `__` or `-`s; the path
//!   is at most 255 characters; a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a digest is
//!   `sha256:` + 64, `sha384:` + 96 or `sha512:` + 128 lower-case hex digits (the algorithms
//!   go-digest registers). A bare 64-hex-digit name is refused as ambiguous with an image id.
//! * Docker Hub: no registry, `docker.io`, `index.docker.io`, `registry-1.docker.io` and
//!   `registry.hub.docker.com` are all `docker.io`, and a one-component path gets the
//!   implicit `library/` (`nginx` = `docker.io/library/nginx`).
//! * A registry host with a `.` or `:` (or `localhost`) is lower-cased, since host names are
//!   case-insensitive and the reference package's case-keeping would make `GHCR.io/acme`
//!   and `ghcr.io/acme` differ. A host recognised only by its upper-case letters
//!   (`LOCALDOMAIN/x`) keeps them, or its canonical text would read as a Docker Hub name.
//!
//! [`ImagePrefix`] is an allowed registry or repository prefix from a policy. Its registry is
//! normalised the same way (aliases, no registry = Docker Hub); its path is taken as
//! written, without the implicit `library/` (a prefix `docker.io/acme` is the Docker Hub
//! organisation `acme`; official images are `docker.io/library/…`). It matches on whole
//! path segments, so `ghcr.io/acme` matches `ghcr.io/acme/app` but not
//! `ghcr.io/acme-evil/app` nor `ghcr.io.evil.com/acme/app`.

use std::fmt;

/// The registry every Docker Hub alias normalises to.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed, normalised image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// Registry host (and port), lower case; `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path (`library/nginx`).
    pub repository: String,
    /// The tag as written; `None` when absent.
    pub tag: Option<String>,
    /// The manifest digest (`sha256:…`) when given.
    pub digest: Option<String>,
}

/// Why an image reference or prefix is invalid; each message says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// Nothing given.
    #[error("the image reference is empty")]
    Empty,
    /// The registry part is not a host name, IPv6 literal or port.
    #[error("{0:?} is not a registry host (host name or [IPv6], optional :port)")]
    Registry(String),
    /// A repository path component is invalid.
    #[error(
        "repository {0:?} is invalid: path components are lower-case letters and digits separated by `.`, `_`, `__` or `-`"
    )]
    Repository(String),
    /// Upper-case letters in the repository.
    #[error("repository {0:?} must be lower case")]
    Uppercase(String),
    /// The path is longer than 255 characters.
    #[error("repository {0:?} is longer than 255 characters")]
    TooLong(String),
    /// The tag is invalid.
    #[error("tag {0:?} is invalid: 1–128 of A-Z a-z 0-9 _ . - , not starting with . or -")]
    Tag(String),
    /// The digest is invalid or of an unsupported algorithm.
    #[error("digest {0:?} is invalid: expected sha256:<64 hex>, sha384:<96 hex> or sha512:<128 hex>, lower case")]
    Digest(String),
    /// A 64-hex-digit name, which Docker reads as an image id.
    #[error("{0:?} looks like an image id, not a repository name; prefix it with its registry (docker.io/…)")]
    AmbiguousId(String),
    /// A prefix pattern carries a tag or digest.
    #[error("prefix {0:?} must be a registry or repository without a tag or digest (e.g. ghcr.io/acme)")]
    PrefixWithTag(String),
    /// Whitespace or another stray character.
    #[error("{0:?} contains whitespace or characters no image reference can contain")]
    Invalid(String),
}

/// The canonical name of a registry host: Docker Hub's aliases (and no registry at all)
/// become `docker.io`; any other host is lower-cased.
pub fn normalize_registry(host: &str) -> String {
    let h = host.trim().trim_end_matches('/');
    let lower = h.to_ascii_lowercase();
    match lower.as_str() {
        "" | "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB.into(),
        l if l.contains(['.', ':']) || l == "localhost" => lower,
        _ => h.to_string(),
    }
}

impl ImageRef {
    /// Parses a reference as written in a Pod spec, a policy or a scanner report.
    pub fn parse(text: &str) -> Result<ImageRef, ImageRefError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ImageRefError::Invalid(t.into()));
        }
        if t.len() == 64 && t.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
            return Err(ImageRefError::AmbiguousId(t.into()));
        }
        let (rest, digest) = match t.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (t, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        let (registry, path) = split_docker_domain(name)?;
        let tag = tag.map(validate_tag).transpose()?;
        let digest = digest.map(validate_digest).transpose()?;
        ImageRef::from_checked(registry, path, tag, digest)
    }

    /// Builds a reference from the separate fields scanner reports carry (registry may be
    /// empty for Docker Hub), validated and normalised exactly as [`ImageRef::parse`].
    pub fn from_parts(
        registry: &str,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> Result<ImageRef, ImageRefError> {
        let registry = registry.trim().trim_end_matches('/');
        if !registry.is_empty() {
            validate_registry(registry)?;
        }
        let repository = repository.trim().trim_matches('/');
        let tag = tag.map(str::trim).filter(|t| !t.is_empty()).map(validate_tag).transpose()?;
        let digest = digest.map(str::trim).filter(|d| !d.is_empty()).map(validate_digest).transpose()?;
        ImageRef::from_checked(registry, repository, tag, digest)
    }

    fn from_checked(
        registry: &str,
        path: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> Result<ImageRef, ImageRefError> {
        validate_path(path)?;
        let registry = normalize_registry(registry);
        let repository =
            if registry == DOCKER_HUB && !path.contains('/') { format!("library/{path}") } else { path.to_string() };
        Ok(ImageRef { registry, repository, tag: tag.map(str::to_string), digest: digest.map(str::to_string) })
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag the runtime pulls: the written one, else `latest` when no digest pins it.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
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

/// An allowed registry or repository prefix (`ghcr.io/acme`, `docker.io`, `localhost:5000`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImagePrefix {
    registry: String,
    path: Vec<String>,
}

impl ImagePrefix {
    /// Parses a prefix. A lone registry host (`ghcr.io`, `localhost:5000`, any Docker Hub
    /// alias) is the whole registry; otherwise the registry is split off as in an image
    /// name and the path kept as written: `docker.io/acme` and `acme` are the Docker Hub
    /// organisation `acme`, `docker.io/library/nginx` the official nginx image.
    pub fn parse(text: &str) -> Result<ImagePrefix, ImageRefError> {
        let t = text.trim().trim_end_matches('/');
        if t.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if t.contains('@') {
            return Err(ImageRefError::PrefixWithTag(t.into()));
        }
        let lone_host = !t.contains('/') && (t.contains(['.', ':']) || t == "localhost");
        if lone_host {
            if t.contains(':')
                && !t.starts_with('[')
                && t.rsplit_once(':').is_some_and(|(_, p)| !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(ImageRefError::PrefixWithTag(t.into()));
            }
            validate_registry(t)?;
            return Ok(ImagePrefix { registry: normalize_registry(t), path: Vec::new() });
        }
        let r = ImageRef::parse(t)?;
        if r.tag.is_some() || r.digest.is_some() {
            return Err(ImageRefError::PrefixWithTag(t.into()));
        }
        // The path as written: undo the implicit `library/` of a one-component name.
        let (_, written) = split_docker_domain(t)?;
        validate_path(written)?;
        Ok(ImagePrefix { registry: r.registry, path: written.split('/').map(str::to_string).collect() })
    }

    /// True when `image` is in this registry and its repository path starts with this
    /// prefix's path, segment by segment.
    pub fn matches(&self, image: &ImageRef) -> bool {
        if image.registry != self.registry {
            return false;
        }
        let mut segments = image.repository.split('/');
        self.path.iter().all(|p| segments.next() == Some(p.as_str()))
    }
}

impl fmt::Display for ImagePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.registry)?;
        for p in &self.path {
            write!(f, "/{p}")?;
        }
        Ok(())
    }
}

/// `splitDockerDomain`: (registry as written or "", path).
fn split_docker_domain(name: &str) -> Result<(&str, &str), ImageRefError> {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            validate_registry(first)?;
            Ok((first, rest))
        }
        _ => Ok(("", name)),
    }
}

/// `domainAndPort`: host name components or an `[IPv6]` literal, then an optional port.
fn validate_registry(host: &str) -> Result<(), ImageRefError> {
    let err = || ImageRefError::Registry(host.to_string());
    let (h, port) = if let Some(rest) = host.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(err)?;
        if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(err());
        }
        match after {
            "" => ("", None),
            p => ("", Some(p.strip_prefix(':').ok_or_else(err)?)),
        }
    } else {
        match host.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(err());
    }
    if !host.starts_with('[') {
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        };
        if !h.split('.').all(component_ok) {
            return Err(err());
        }
    }
    Ok(())
}

/// `remoteName` and its length limit.
fn validate_path(path: &str) -> Result<(), ImageRefError> {
    if path.is_empty() {
        return Err(ImageRefError::Repository(path.into()));
    }
    if path.len() > 255 {
        return Err(ImageRefError::TooLong(path.into()));
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(ImageRefError::Uppercase(path.into()));
    }
    for component in path.split('/') {
        if !valid_path_component(component) {
            return Err(ImageRefError::Repository(path.into()));
        }
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || (!sep.is_empty() && sep.bytes().all(|x| x == b'-'));
        if !ok {
            return false;
        }
    }
    true
}

fn validate_tag(tag: &str) -> Result<&str, ImageRefError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = tag.as_bytes();
    let ok = !b.is_empty() && b.len() <= 128 && word(b[0]) && b.iter().all(|&x| word(x) || x == b'.' || x == b'-');
    if ok { Ok(tag) } else { Err(ImageRefError::Tag(tag.into())) }
}

fn validate_digest(digest: &str) -> Result<&str, ImageRefError> {
    let len = match digest.split_once(':') {
        Some(("sha256", hex)) => (hex, 64),
        Some(("sha384", hex)) => (hex, 96),
        Some(("sha512", hex)) => (hex, 128),
        _ => return Err(ImageRefError::Digest(digest.into())),
    };
    let (hex, n) = len;
    if hex.len() == n && hex.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
        Ok(digest)
    } else {
        Err(ImageRefError::Digest(digest.into()))
    }
}
