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
    if looks_like_path(name) {
        return false;
    }
    let first = name.split('/').next().unwrap_or("");
    first.contains('.') && name.split('/').filter(|s| !s.is_empty()).count() >= 3
}

/// True for a scanned or subject name that is a file rather than an image name: an
/// image archive (`alpine.tar.gz`, `image.oci`), an absolute or relative path (`/tmp/x`,
/// `./x`, `../x`, `.cache/x` — no image reference starts with `.`), a Windows path
/// (`C:\scans\x`, `images\x`: no image reference contains `\`) or a URL (`file:///x`).
///
/// The one rule for Trivy JSON, SARIF, CycloneDX and SPDX subjects.
pub(crate) fn looks_like_path(name: &str) -> bool {
    let name = name.trim();
    let lower = name.to_ascii_lowercase();
    let drive = name.as_bytes().get(..3).is_some_and(|b| b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/');
    name.starts_with(['/', '.', '~'])
        || name.contains('\\')
        || name.contains("://")
        || drive
        || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci"].iter().any(|ext| lower.ends_with(ext))
}

/// The image Trivy scanned: the name as the user gave it (unless it [looks like a
/// path](looks_like_path) such as `alpine.tar.gz`), else the first of `other_names` that
/// parses (`Reference`, `RepoTags`), with the digest of the `repo_digests` entry of the
/// same repository; else the first digest reference.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_not_image_names() {
        for path in [
            "/tmp/alpine",
            "./alpine",
            "../alpine",
            ".cache/alpine",
            ".alpine",
            "~/images/alpine",
            "images\\alpine",
            "C:\\scans\\alpine",
            "C:/scans/alpine",
            "alpine.tar",
            "alpine.TAR.GZ",
            "file:///tmp/alpine",
        ] {
            assert!(looks_like_path(path), "{path}");
        }
        for image in ["alpine", "alpine:3.18", "ghcr.io/org/app:1", "localhost:5000/app", "a/b.tar/c"] {
            assert!(!looks_like_path(image), "{image}");
        }
    }

    #[test]
    fn a_path_name_falls_back_to_other_names() {
        // `.cache/…` was taken as an image name by the Trivy rule (it only knew `./`).
        let img = image_from_names(Some(".cache/alpine"), ["alpine:3.18"], []).unwrap();
        assert_eq!(img.to_string(), "docker.io/library/alpine:3.18");
        let img = image_from_names(Some("C:\\scans\\alpine"), ["alpine:3.18"], []).unwrap();
        assert_eq!(img.to_string(), "docker.io/library/alpine:3.18");
    }
}
