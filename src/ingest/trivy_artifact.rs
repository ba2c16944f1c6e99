//! How Trivy names what it scanned — image names, image archives, remote repositories —
//! shared by the parsers of every format Trivy writes (Trivy JSON, SARIF, CycloneDX, SPDX)
//! so that the reports of one scan meet on one artifact.

use crate::model::ImageRef;

/// Trivy JSON's rule for a scanned name that is a remote repository rather than a local
/// path: a URL, `git@host:…`, or `host.tld/org/repo`.
pub(crate) fn is_remote_repository(name: &str) -> bool {
    if name.contains("://") || name.starts_with("git@") {
        return true;
    }
    if name.starts_with(['.', '/']) || name.contains('\\') {
        return false;
    }
    let first = name.split('/').next().unwrap_or("");
    first.contains('.') && name.split('/').filter(|s| !s.is_empty()).count() >= 3
}

/// True for a scanned name that is a file (`--input image.tar`), not an image name.
pub(crate) fn looks_like_path(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('/')
        || name.starts_with("./")
        || name.starts_with("../")
        || name.contains('\\')
        || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci"].iter().any(|ext| lower.ends_with(ext))
}

/// The image Trivy scanned: the name as the user gave it (unless it is a path such as
/// `alpine.tar.gz`), else the first of `other_names` that parses (`Reference`, `RepoTags`),
/// with the digest of the `repo_digests` entry of the same repository; else the first
/// digest reference.
pub(crate) fn image_from_names<'a>(
    scanned_name: Option<&'a str>,
    other_names: impl IntoIterator<Item = &'a str>,
    repo_digests: impl IntoIterator<Item = &'a str>,
) -> Option<ImageRef> {
    let named = scanned_name
        .filter(|n| !looks_like_path(n))
        .into_iter()
        .chain(other_names)
        .find_map(|n| ImageRef::parse(n).ok());
    let digests: Vec<ImageRef> = repo_digests.into_iter().filter_map(|d| ImageRef::parse(d).ok()).collect();
    match named {
        Some(mut img) => {
            if img.digest.is_none()
                && let Some(d) = digests.iter().find(|d| d.registry == img.registry && d.repository == img.repository)
            {
                img.digest = d.digest.clone();
            }
            Some(img)
        }
        None => digests.into_iter().next(),
    }
}
