//! Packages from package URLs, named the way their ecosystem writes them
//! (`org.apache.bcel:bcel` for Maven, `@scope/name` for npm).
//!
//! Two readers exist: [`package_from_purl`] (SARIF, PolicyReport; the model's
//! [`PurlParts`]) and [`purl_display_name`] (CycloneDX; the `packageurl` crate). They
//! prefix the namespace for different sets of ecosystems.

use std::sync::Arc;

use packageurl::PackageUrl;

use crate::model::{Package, PurlParts};

/// A [`Package`] from a package URL (`pkg:maven/org.apache.bcel/bcel@6.5.0`), named the way
/// scanners name packages of that ecosystem (`org.apache.bcel:bcel`, `@scope/name`).
pub(crate) fn package_from_purl(purl: &str) -> Option<Package> {
    let p = PurlParts::parse(purl.trim())?;
    let name = match (&p.namespace, p.ty.as_str()) {
        (Some(ns), "maven") => format!("{ns}:{}", p.name),
        (Some(ns), "npm" | "golang" | "composer" | "github") => format!("{ns}/{}", p.name),
        _ => p.name.clone(),
    };
    Some(Package {
        purl: Some(Arc::from(purl.trim())),
        name: Arc::from(name),
        installed_version: p.version.as_deref().map(Arc::from),
        fixed_version: None,
    })
}

/// A package's name the way its ecosystem writes it, from a purl: `group:artifact` for
/// Maven, `namespace/name` for npm, Go, Composer and code hosts, the bare name for
/// distribution packages (`deb`, `rpm`, `apk`…) whose namespace is the vendor.
pub(crate) fn purl_display_name(p: &PackageUrl<'_>) -> String {
    match (p.ty(), p.namespace().filter(|n| !n.is_empty())) {
        ("maven", Some(ns)) => format!("{ns}:{}", p.name()),
        ("npm" | "golang" | "composer" | "github" | "gitlab" | "bitbucket" | "swift" | "huggingface", Some(ns)) => {
            format!("{ns}/{}", p.name())
        }
        _ => p.name().to_string(),
    }
}
