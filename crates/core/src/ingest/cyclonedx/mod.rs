//! CycloneDX JSON BOMs (spec 1.2–1.7): SBOMs, BOMs with vulnerabilities (Trivy, Grype)
//! and standalone VEX documents.
//!
//! One [`Report`] per BOM:
//!
//! * **Subject** (`scanned[0]`) from `metadata.component`: a container image (type
//!   `container`, a `pkg:oci`/`pkg:docker` purl, or Trivy's `aquasecurity:trivy:RepoTag` /
//!   `RepoDigest` properties) becomes [`Artifact::Image`]; an application with a VCS
//!   reference (`externalReferences[type=vcs]` on the component or the BOM, a `vcs_url`
//!   purl qualifier, a `pkg:github` purl or a name such as `github.com/org/repo`, or a
//!   Trivy `repo` scan of a remote URL) becomes [`Artifact::Repository`]; anything else —
//!   including Trivy `fs` scans of a local path, exactly as the Trivy JSON parser names
//!   them — is [`Artifact::Other`] named `name@version` (or `name`). A BOM without
//!   `metadata.component` is `Other(origin)`.
//! * **Components** from `components[]`, recursively. A component's name is prefixed
//!   with its `group` the way its ecosystem writes it (`org.slf4j:slf4j-api` for Maven,
//!   `@babel/core` for npm, `laravel/framework` for Composer; not for distribution
//!   packages, whose group is the distribution), which is also how Trivy JSON names
//!   packages and how every other parser names them (one rule: `purl::package_name`);
//!   the purl stays the real identity. Licenses are cleaned up by the shared license
//!   rule (`NOASSERTION`, duplicates and redundant parentheses dropped). The operating system (type
//!   `operating-system`) and Trivy's grouping components (lock files, marked
//!   `aquasecurity:trivy:Class`) are not packages and are skipped.
//! * **Findings** from `vulnerabilities[]`: one per (vulnerability, affected component);
//!   an `affects` ref matching no component (a bom-link into another BOM) still yields a
//!   finding, its package read from the ref's purl fragment. Severity is the rating of the
//!   vulnerability's own `source` when it rates it (Trivy's semantics), else the worst.
//! * A **standalone VEX** BOM (no components, vulnerabilities with `analysis`) is no report
//!   of findings: it carries a `VexDocument` applied to every scanner's findings ([`vex`]).

mod model;
#[cfg(test)]
mod tests;
mod vex;
mod vulnerability;

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value;

use self::model::{Bom, CdxComponent, ExternalReference, LicenseChoice, Tools};
use self::vulnerability::vulnerability_findings;
use super::error_path::deserialize_located;
use super::lenient::non_empty_arc;
use super::license;
use super::sbom_subject::{ImageHints, image_ref, purl_repository, strip_url_suffix, vcs_repository};
use super::trivy_artifact::is_remote_repository;
use super::{source, timestamp};
use crate::ingest::FormatError;
use crate::model::artifact::normalize_repository;
use crate::model::{Artifact, Component, Format, Report};

/// Trivy's component properties Stance reads.
const TRIVY_REFERENCE: &str = "aquasecurity:trivy:Reference";
const TRIVY_REPO_TAG: &str = "aquasecurity:trivy:RepoTag";
const TRIVY_REPO_DIGEST: &str = "aquasecurity:trivy:RepoDigest";
const TRIVY_SCHEMA_VERSION: &str = "aquasecurity:trivy:SchemaVersion";
const TRIVY_CLASS: &str = "aquasecurity:trivy:Class";

/// True for a CycloneDX JSON document (`bomFormat: "CycloneDX"`).
pub fn detect(v: &Value) -> bool {
    v.get("bomFormat").and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case("CycloneDX"))
}

/// Parses one BOM into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let mut bom: Bom = deserialize_located(v)?;
    let meta = bom.metadata.take().unwrap_or_default();
    let scanner = meta.tools.as_ref().map(Tools::joined).filter(|s| !s.is_empty());
    let src = source(Format::CycloneDx, scanner.as_deref().unwrap_or("CycloneDX"), origin);
    let artifact = subject(meta.component.as_ref(), bom.external_references.as_deref().unwrap_or_default(), origin);
    let scanned_at = meta.timestamp.as_deref().and_then(timestamp::parse);

    // Index every component by bom-ref (the subject too: VEX documents name it in `affects`).
    let mut by_ref: FxHashMap<&str, &CdxComponent> = FxHashMap::default();
    let mut components = Vec::new();
    if let Some(mc) = &meta.component {
        if let Some(r) = mc.bom_ref.as_deref() {
            by_ref.insert(r, mc);
        }
        collect(mc.components.as_deref().unwrap_or_default(), &mut by_ref, &mut components);
    }
    collect(bom.components.as_deref().unwrap_or_default(), &mut by_ref, &mut components);

    if vex::is_standalone(&bom, meta.component.as_ref()) {
        // Statements about other scanners' findings, not findings of its own.
        let subject = meta.component.as_ref().map(|c| (c, &artifact));
        let mut report = Report::new(src);
        report.scanned_at = scanned_at;
        report.vex = Some(Arc::new(vex::document(origin, &bom, subject, scanned_at)));
        return Ok(vec![report]);
    }

    let mut report = Report::new(src.clone());
    report.scanned = vec![artifact.clone()];
    report.scanned_at = scanned_at;
    report.components = Some(components);
    for vuln in bom.vulnerabilities.iter().flatten() {
        vulnerability_findings(vuln, &by_ref, &artifact, &src, scanned_at, &mut report.findings);
    }
    Ok(vec![report])
}

fn subject(mc: Option<&CdxComponent>, bom_refs: &[ExternalReference], origin: &str) -> Artifact {
    let Some(c) = mc else {
        return Artifact::Other(Arc::from(origin));
    };
    let name = c.name.as_deref().unwrap_or("").trim();
    let ty = c.ty.as_deref().unwrap_or("");
    let repo_tags: Vec<&str> = c.properties(TRIVY_REFERENCE).chain(c.properties(TRIVY_REPO_TAG)).collect();
    let repo_digests: Vec<&str> = c.properties(TRIVY_REPO_DIGEST).collect();
    let purl = c.purl.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let oci_purl = purl.is_some_and(|p| p.starts_with("pkg:oci/") || p.starts_with("pkg:docker/"));
    if ty.eq_ignore_ascii_case("container") || oci_purl || !repo_tags.is_empty() || !repo_digests.is_empty() {
        let hints = ImageHints { name, version: c.version.as_deref(), purl, repo_tags, repo_digests };
        if let Some(image) = image_ref(&hints) {
            return Artifact::Image(image);
        }
    } else {
        let vcs = c
            .external_references
            .iter()
            .flatten()
            .chain(bom_refs)
            .filter(|r| r.ty.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("vcs")))
            .find_map(|r| r.url.as_deref().map(strip_url_suffix).filter(|u| !u.is_empty()));
        if let Some(url) = vcs {
            return Artifact::Repository(Arc::from(normalize_repository(url)));
        }
        if let Some(repo) = purl.and_then(purl_repository).or_else(|| vcs_repository(name)) {
            return Artifact::Repository(Arc::from(repo));
        }
        // Trivy `repo` scans of a remote repository name its URL (as Trivy JSON's ArtifactName);
        // `fs` scans and local checkouts name a path and stay `Other(path)`, as in Trivy JSON.
        if ty.eq_ignore_ascii_case("application") && c.has_property(TRIVY_SCHEMA_VERSION) && is_remote_repository(name)
        {
            return Artifact::Repository(Arc::from(normalize_repository(name)));
        }
    }
    let display = c.display_name().unwrap_or_default();
    if display.is_empty() {
        return Artifact::Other(Arc::from(origin));
    }
    Artifact::Other(Arc::from(match c.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{display}@{v}"),
        None => display,
    }))
}

/// Walks `components` recursively: indexes bom-refs and converts packages.
fn collect<'a>(list: &'a [CdxComponent], by_ref: &mut FxHashMap<&'a str, &'a CdxComponent>, out: &mut Vec<Component>) {
    for c in list {
        if let Some(r) = c.bom_ref.as_deref() {
            by_ref.entry(r).or_insert(c);
        }
        let grouping =
            c.has_property(TRIVY_CLASS) || c.ty.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("operating-system"));
        if !grouping && let Some(name) = c.display_name() {
            out.push(Component {
                name: Arc::from(name),
                version: non_empty_arc(c.version.as_deref()),
                purl: non_empty_arc(c.purl.as_deref()),
                licenses: licenses(c.licenses.as_deref().unwrap_or_default()),
            });
        }
        collect(c.components.as_deref().unwrap_or_default(), by_ref, out);
    }
}

/// A component's licences by CycloneDX's rule for `licenses` (1.4–1.6 `licenseChoice`): the
/// entries all apply (the specification states no choice between entries — an SPDX choice
/// is one `expression` entry — so reading them as all applying never hides a denied
/// licence); when some entries are acknowledged as `concluded` (1.6 `acknowledgement`),
/// only those count, as SPDX prefers a concluded licence over a declared one.
fn licenses(choices: &[LicenseChoice]) -> Vec<Arc<str>> {
    let concluded = |c: &&LicenseChoice| {
        let ack = c.license.as_ref().and_then(|l| l.acknowledgement.as_deref()).or(c.acknowledgement.as_deref());
        ack.is_some_and(|a| a.trim().eq_ignore_ascii_case("concluded"))
    };
    let any_concluded = choices.iter().any(|c| concluded(&c));
    let counted = choices.iter().filter(|c| !any_concluded || concluded(c));
    license::licenses(counted.filter_map(|choice| match &choice.license {
        Some(l) => l.id.as_deref().filter(|s| !s.trim().is_empty()).or(l.name.as_deref()),
        None => choice.expression.as_deref(),
    }))
}
