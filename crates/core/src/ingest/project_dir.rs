//! The project a dependency scan of a source tree is about, named by its directory as the
//! scanner wrote it: OSV-Scanner names the lockfile it read (`/src/app/package-lock.json`),
//! Snyk the scanned path and the manifest below it (`/src/app` + `package-lock.json`),
//! Trivy's `fs` scans the directory (`ArtifactName`). The one rule: the directory holding
//! the manifest, with `\` written `/` and no trailing `/`, so that the reports of one
//! project meet on one [`Artifact::Other`](crate::model::Artifact::Other).

/// `path` with `\` as `/`, a leading `./` and trailing `/` removed (`/` stays `/`).
pub(crate) fn normalize_dir(path: &str) -> String {
    let p = path.trim().replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p);
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() && p.starts_with('/') { "/".to_string() } else { trimmed.to_string() }
}

/// The directory of a file path (`/src/app/package-lock.json` → `/src/app`); `""` for a
/// bare file name.
pub(crate) fn parent_dir(file: &str) -> String {
    let f = normalize_dir(file);
    match f.rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
        None => String::new(),
    }
}

/// The project directory of a manifest named relative to a scanned base directory (Snyk's
/// `path` + `displayTargetFile`). A manifest already below the base's last segments
/// (`/src/frontend` + `frontend/package-lock.json`, as `snyk --all-projects` writes npm
/// projects) is not joined twice; an absolute manifest path stands alone.
pub(crate) fn join_manifest(base: Option<&str>, manifest: Option<&str>) -> Option<String> {
    let base = base.map(normalize_dir).filter(|b| !b.is_empty());
    let Some(manifest) = manifest.map(str::trim).filter(|m| !m.is_empty()) else { return base };
    let rel = parent_dir(manifest);
    let absolute = manifest.starts_with('/') || manifest.starts_with('\\') || manifest.get(1..2) == Some(":");
    if absolute {
        return Some(rel);
    }
    Some(match base {
        None if rel.is_empty() => return None,
        None => rel,
        Some(b) if rel.is_empty() || b == rel || b.ends_with(&format!("/{rel}")) => b,
        Some(b) if b == "/" => format!("/{rel}"),
        Some(b) => format!("{b}/{rel}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories() {
        assert_eq!(normalize_dir("C:\\workspace\\"), "C:/workspace");
        assert_eq!(normalize_dir("./app/"), "app");
        assert_eq!(normalize_dir("/"), "/");
        assert_eq!(parent_dir("/tmp/components/yarn.lock"), "/tmp/components");
        assert_eq!(parent_dir("/yarn.lock"), "/");
        assert_eq!(parent_dir("yarn.lock"), "");
    }

    #[test]
    fn manifests_join_their_base_once() {
        assert_eq!(join_manifest(Some("C:\\workspace"), Some("pom.xml")).as_deref(), Some("C:/workspace"));
        assert_eq!(
            join_manifest(Some("/mnt/c/Projects/cyberspect/frontend"), Some("frontend/package-lock.json")).as_deref(),
            Some("/mnt/c/Projects/cyberspect/frontend")
        );
        assert_eq!(
            join_manifest(Some("/mnt/c/p"), Some("sbom/Lambda/obj/project.assets.json")).as_deref(),
            Some("/mnt/c/p/sbom/Lambda/obj")
        );
        assert_eq!(join_manifest(Some("img"), Some("/juice-shop/package.json")).as_deref(), Some("/juice-shop"));
        assert_eq!(join_manifest(None, None), None);
        assert_eq!(join_manifest(None, Some("a/b.json")).as_deref(), Some("a"));
    }
}
