//! What an SBOM is about: the container image or source repository its subject names,
//! read from names, purls, VCS references and Trivy's image properties (shared by the
//! CycloneDX and SPDX parsers).

use std::sync::Arc;

use stance_ecosystem::Purl;

use super::trivy_artifact::looks_like_path;
use crate::model::ImageRef;
use crate::model::artifact::normalize_repository;

/// Drops a URL's query and fragment (`…/repo.git#readme`).
pub(crate) fn strip_url_suffix(url: &str) -> &str {
    let url = url.trim();
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The normalised repository a text names when it is recognisably a VCS location: a
/// `git+…`, `git@…`, `git://`, `ssh://` or `….git` URL, or `github.com/org/repo`-style
/// (GitHub, Bitbucket, Codeberg with exactly owner/repo; GitLab with subgroups).
pub(crate) fn vcs_repository(text: &str) -> Option<String> {
    let t = strip_url_suffix(text);
    if t.is_empty() || t.contains(char::is_whitespace) {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let explicit = ["git+", "git@", "git://", "ssh://"].iter().any(|p| lower.starts_with(p)) || lower.ends_with(".git");
    if !explicit && lower.contains("://") && !lower.starts_with("https://") && !lower.starts_with("http://") {
        return None;
    }
    let normalized = normalize_repository(t);
    let mut parts = normalized.split('/').filter(|p| !p.is_empty());
    let host = parts.next()?;
    let path: Vec<&str> = parts.collect();
    let recognised = match host {
        "github.com" | "bitbucket.org" | "codeberg.org" => path.len() == 2,
        "gitlab.com" => path.len() >= 2 && !path.contains(&"-"),
        _ => explicit && host.contains('.') && !path.is_empty(),
    };
    recognised.then_some(normalized)
}

/// The repository a purl names: `pkg:github/org/repo`, `pkg:gitlab/…`, `pkg:bitbucket/…`,
/// or any purl with a `vcs_url` qualifier.
pub(crate) fn purl_repository(purl: &str) -> Option<String> {
    let p = Purl::parse(purl).ok()?;
    if let Some(vcs) = qualifier(&p, "vcs_url")
        && let Some(repo) = vcs_repository(vcs)
    {
        return Some(repo);
    }
    let host = match p.id.ty() {
        "github" => "github.com",
        "gitlab" => "gitlab.com",
        "bitbucket" => "bitbucket.org",
        _ => return None,
    };
    let ns = p.id.namespace().filter(|n| !n.is_empty())?;
    Some(normalize_repository(&format!("{host}/{ns}/{}", p.id.name())))
}

/// A qualifier's value (keys are lower-cased by the parser).
fn qualifier<'a>(p: &'a Purl, key: &str) -> Option<&'a str> {
    p.qualifiers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// What an SBOM says about the container image it describes.
pub(crate) struct ImageHints<'a> {
    /// The subject's name (`alpine:3.18`, `docker.io/library/mongo`, or a tar file path).
    pub name: &'a str,
    /// The subject's version (syft/grype: the manifest digest; syft SPDX: the tag).
    pub version: Option<&'a str>,
    pub purl: Option<&'a str>,
    /// Trivy's `Reference` and `RepoTag` values.
    pub repo_tags: Vec<&'a str>,
    /// Trivy's `RepoDigest` values (`repo@sha256:…`).
    pub repo_digests: Vec<&'a str>,
}

/// Resolves the image an SBOM describes: registry/repository/tag from the name as the
/// user gave it (unless it is an archive path), else Trivy's `Reference` / `RepoTag`, else
/// `RepoDigest`, else the `pkg:oci`
/// purl (`repository_url` qualifier, or syft's `pkg:oci/<registry>/<path>`); the digest
/// from `RepoDigest`, else the purl version, else a digest-shaped version; the tag from
/// the purl's `tag` qualifier or a non-digest version when the name has none.
pub(crate) fn image_ref(h: &ImageHints<'_>) -> Option<ImageRef> {
    let purl = h.purl.and_then(|p| Purl::parse(p).ok()).filter(|p| matches!(p.id.ty(), "oci" | "docker"));
    let pinned: Vec<ImageRef> =
        h.repo_digests.iter().filter_map(|d| ImageRef::parse(d).ok()).filter(|r| r.digest.is_some()).collect();
    let base = image_name(h.name)
        .or_else(|| h.repo_tags.iter().find_map(|t| ImageRef::parse(t).ok()))
        .or_else(|| pinned.first().cloned())
        .or_else(|| purl.as_ref().and_then(purl_image))?;
    let digest_like = |s: &str| s.split_once(':').is_some_and(|(algo, hex)| algo.starts_with("sha") && hex.len() >= 32);
    let digest: Option<Arc<str>> = base.digest.clone().or_else(|| {
        pinned
            .iter()
            .find(|r| r.registry == base.registry && r.repository == base.repository)
            .or(pinned.first())
            .and_then(|r| r.digest.clone())
            .or_else(|| purl.as_ref().and_then(|p| p.version.as_deref()).filter(|v| digest_like(v)).map(Arc::from))
            .or_else(|| h.version.map(str::trim).filter(|v| digest_like(v)).map(Arc::from))
    });
    let valid_tag = |t: &&str| !t.is_empty() && t.len() <= 128 && !t.contains(['/', ':', '@', ' ']);
    let tag: Option<Arc<str>> = base.tag.clone().or_else(|| {
        purl.as_ref()
            .and_then(|p| qualifier(p, "tag").map(|t| t.trim().to_string()))
            .filter(|t| valid_tag(&t.as_str()))
            .map(Arc::from)
            .or_else(|| h.version.map(str::trim).filter(|v| !digest_like(v)).filter(valid_tag).map(Arc::from))
    });
    Some(ImageRef::from_parts(&base.registry, &base.repository, tag.as_deref(), digest.as_deref()))
}

/// The image a subject's name is, unless it [looks like a path](looks_like_path) (an image
/// archive, a local directory).
fn image_name(name: &str) -> Option<ImageRef> {
    let n = name.trim();
    if looks_like_path(n) {
        return None;
    }
    ImageRef::parse(n).ok()
}

fn purl_image(p: &Purl) -> Option<ImageRef> {
    if let Some(url) = qualifier(p, "repository_url") {
        return ImageRef::parse(url.trim().trim_start_matches("https://")).ok();
    }
    match p.id.namespace().filter(|n| !n.is_empty()) {
        Some(ns) => ImageRef::parse(&format!("{ns}/{}", p.id.name())).ok(),
        None => ImageRef::parse(p.id.name()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_locations() {
        assert_eq!(
            vcs_repository("github.com/ProtonMail/proton-bridge").as_deref(),
            Some("github.com/protonmail/proton-bridge")
        );
        assert_eq!(vcs_repository("git+ssh://git@example.org/team/app.git").as_deref(), Some("example.org/team/app"));
        assert_eq!(vcs_repository("k8s.io/kubernetes"), None);
        assert_eq!(vcs_repository("https://github.com/spdx/tools-java/releases/download/v1/x.zip"), None);
        assert_eq!(vcs_repository("NOASSERTION"), None);
        assert_eq!(
            purl_repository("pkg:github/spdx/tools-java@2235d5d").as_deref(),
            Some("github.com/spdx/tools-java")
        );
    }

    #[test]
    fn images_from_hints() {
        let d = "sha256:eece025e432126ce23f223450a0326fbebde39cdf496a85d8c016293fc851978";
        let h = ImageHints {
            name: "testdata/x.tar.gz",
            version: None,
            purl: Some(
                "pkg:oci/alpine@sha256%3Aeece025e432126ce23f223450a0326fbebde39cdf496a85d8c016293fc851978?repository_url=index.docker.io%2Flibrary%2Falpine",
            ),
            repo_tags: vec![],
            repo_digests: vec![],
        };
        assert_eq!(image_ref(&h).unwrap().to_string(), format!("docker.io/library/alpine@{d}"));
        let h = ImageHints {
            name: "testdata/x.tar.gz",
            version: None,
            purl: None,
            repo_tags: vec![],
            repo_digests: vec![],
        };
        assert_eq!(image_ref(&h), None);
    }

    #[test]
    fn windows_paths_are_not_image_names() {
        // `\` was not checked here (only in the Trivy JSON rule): the path was the image.
        let h = ImageHints {
            name: "scans\\alpine",
            version: None,
            purl: None,
            repo_tags: vec!["alpine:3.18"],
            repo_digests: vec![],
        };
        assert_eq!(image_ref(&h).unwrap().to_string(), "docker.io/library/alpine:3.18");
    }
}
