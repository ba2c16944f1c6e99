//! SPDX 2.2 / 2.3 JSON documents (`spdxVersion: "SPDX-2.x"`).
//!
//! One [`Report`] per document:
//!
//! * **Subject**: the package(s) the document describes (`documentDescribes`, or a
//!   `DESCRIBES` relationship from `SPDXRef-DOCUMENT`, or `DESCRIBED_BY` towards it). A
//!   container image (`primaryPackagePurpose: CONTAINER`, a `pkg:oci` / `pkg:docker` purl,
//!   Trivy's `SPDXRef-ContainerImage-…` / syft's `SPDXRef-DocumentRoot-Image-…` ids, or
//!   Trivy's `RepoTag:` / `RepoDigest:` attribution texts and annotations) becomes
//!   [`Artifact::Image`]; a package with a VCS location (`pkg:github` purl, a `git+…`
//!   download location, a `github.com/org/repo` name, or a Trivy root
//!   `SPDXRef-Filesystem-…` / `SPDXRef-Repository-…` naming a remote URL) becomes
//!   [`Artifact::Repository`]; anything else (Trivy `fs` scans of a local path included, as
//!   the Trivy JSON parser names them) is [`Artifact::Other`] named `name@version`. A document that describes
//!   no package (syft 0.57) is `Other(document name)`.
//! * **Components**: every other package, with its `PACKAGE-MANAGER` purl and its license
//!   (`licenseConcluded`, else `licenseDeclared`; `NOASSERTION` / `NONE` skipped). The OS
//!   and Trivy's lock-file grouping packages (`Class:` annotations) are not packages and
//!   are skipped, as in the CycloneDX parser.
//! * **Findings**: a `SECURITY` external reference of type `advisory` (or `url`) whose
//!   locator names a CVE or GHSA id becomes a vulnerability on that package, severity
//!   `Unknown` (SPDX 2 has no severity). CPE references are ignored.

use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde::Deserialize;
use serde_json::Value;

use super::error_path::deserialize_located;
use super::finding_id::advisory_id;
use super::lenient::non_empty_arc;
use super::license::spdx_license;
use super::sbom_subject::{ImageHints, image_ref, purl_repository, vcs_repository};
use super::trivy_artifact::is_remote_repository;
use super::{source, timestamp};
use crate::ingest::FormatError;
use crate::model::artifact::normalize_repository;
use crate::model::{Artifact, Component, Finding, FindingKind, Format, Package, Report, Severity, Source};

const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

/// True for an SPDX JSON document (`spdxVersion: "SPDX-…"`).
pub fn detect(v: &Value) -> bool {
    v.get("spdxVersion").and_then(Value::as_str).is_some_and(|s| s.trim().starts_with("SPDX-"))
}

/// Parses one SPDX 2.x document into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: Document = deserialize_located(v)?;
    let version = doc.spdx_version.as_deref().unwrap_or("").trim();
    if !version.starts_with("SPDX-2.") {
        return Err(FormatError::new(
            "spdxVersion",
            format!("{version:?} is not supported (SPDX 2.2 and 2.3 JSON are)"),
        ));
    }
    let creation = doc.creation_info.unwrap_or_default();
    let tools: Vec<&str> = creation
        .creators
        .iter()
        .flatten()
        .filter_map(|c| c.trim().strip_prefix("Tool:"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let scanner = if tools.is_empty() { "SPDX".to_string() } else { tools.join(", ") };
    let src = source(Format::Spdx, &scanner, origin);
    let scanned_at = creation.created.as_deref().and_then(timestamp::parse);
    let packages = doc.packages.unwrap_or_default();

    // The described elements, in document order, without duplicates.
    let mut described: Vec<&str> = Vec::new();
    let relationships = doc.relationships.as_deref().unwrap_or_default();
    let describes =
        doc.document_describes.iter().flatten().map(String::as_str).chain(relationships.iter().filter_map(|r| {
            let ty = r.relationship_type.as_deref()?.trim();
            let (from, to) = (r.spdx_element_id.as_deref()?.trim(), r.related_spdx_element.as_deref()?.trim());
            match ty {
                "DESCRIBES" if from == DOCUMENT_ID => Some(to),
                "DESCRIBED_BY" if to == DOCUMENT_ID => Some(from),
                _ => None,
            }
        }));
    for id in describes {
        if !described.contains(&id) {
            described.push(id);
        }
    }
    let roots: FxHashSet<&str> = described.iter().copied().collect();

    let mut scanned: Vec<Artifact> = Vec::new();
    for p in packages.iter().filter(|p| p.spdx_id.as_deref().is_some_and(|id| roots.contains(id))) {
        let a = subject(p);
        if !scanned.contains(&a) {
            scanned.push(a);
        }
    }
    if scanned.is_empty() {
        let name = doc.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(origin);
        scanned.push(Artifact::Other(Arc::from(name)));
    }
    let artifact = scanned[0].clone();

    let mut report = Report::new(src.clone());
    let mut components = Vec::new();
    for p in &packages {
        vulnerability_findings(p, &artifact, &src, scanned_at, &mut report.findings);
        let is_root = p.spdx_id.as_deref().is_some_and(|id| roots.contains(id));
        if is_root || p.is_grouping() {
            continue;
        }
        let Some(name) = p.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            continue;
        };
        let license = spdx_license(p.license_concluded.as_deref(), p.license_declared.as_deref());
        components.push(Component {
            name: Arc::from(name),
            version: non_empty_arc(p.version_info.as_deref()),
            purl: p.purl().map(Arc::from),
            licenses: license.into_iter().map(Arc::from).collect(),
        });
    }
    report.scanned = scanned;
    report.scanned_at = scanned_at;
    report.components = Some(components);
    Ok(vec![report])
}

// ---------------------------------------------------------------------------------------
// Document structure (only the fields Stance reads; everything optional and null-tolerant).

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: Option<String>,
    name: Option<String>,
    creation_info: Option<CreationInfo>,
    document_describes: Option<Vec<String>>,
    packages: Option<Vec<SpdxPackage>>,
    relationships: Option<Vec<Relationship>>,
}

#[derive(Deserialize, Default)]
struct CreationInfo {
    created: Option<String>,
    creators: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: Option<String>,
    relationship_type: Option<String>,
    related_spdx_element: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: Option<String>,
    name: Option<String>,
    version_info: Option<String>,
    download_location: Option<String>,
    license_concluded: Option<String>,
    license_declared: Option<String>,
    primary_package_purpose: Option<String>,
    external_refs: Option<Vec<ExternalRef>>,
    /// Trivy (SPDX 2.2) writes image facts here: `RepoTag: …`, `RepoDigest: …`.
    attribution_texts: Option<Vec<String>>,
    /// Trivy (SPDX 2.3) writes the same facts as annotation comments.
    annotations: Option<Vec<Annotation>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: Option<String>,
    reference_type: Option<String>,
    reference_locator: Option<String>,
}

#[derive(Deserialize)]
struct Annotation {
    comment: Option<String>,
}

impl SpdxPackage {
    fn id(&self) -> &str {
        self.spdx_id.as_deref().unwrap_or("")
    }

    /// The first `PACKAGE-MANAGER` / `PACKAGE_MANAGER` purl.
    fn purl(&self) -> Option<&str> {
        self.external_refs
            .iter()
            .flatten()
            .filter(|r| {
                r.reference_category
                    .as_deref()
                    .is_some_and(|c| c.replace('_', "-").eq_ignore_ascii_case("PACKAGE-MANAGER"))
                    && r.reference_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("purl"))
            })
            .find_map(|r| r.reference_locator.as_deref().map(str::trim).filter(|l| !l.is_empty()))
    }

    /// Values of Trivy's `Key: value` facts (attribution texts and annotation comments).
    fn facts<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let texts = self.attribution_texts.iter().flatten().map(String::as_str);
        let comments = self.annotations.iter().flatten().filter_map(|a| a.comment.as_deref());
        texts.chain(comments).filter_map(move |t| {
            let (k, v) = t.split_once(':')?;
            (k.trim() == key).then(|| v.trim()).filter(|v| !v.is_empty())
        })
    }

    fn purpose(&self) -> &str {
        self.primary_package_purpose.as_deref().unwrap_or("")
    }

    /// The OS and Trivy's per-lock-file / per-OS grouping packages.
    fn is_grouping(&self) -> bool {
        self.purpose().replace('_', "-").eq_ignore_ascii_case("OPERATING-SYSTEM")
            || self.id().starts_with("SPDXRef-OperatingSystem-")
            || self.facts("Class").next().is_some()
    }
}

fn subject(p: &SpdxPackage) -> Artifact {
    let name = p.name.as_deref().unwrap_or("").trim();
    let purl = p.purl();
    let repo_tags: Vec<&str> = p.facts("RepoTag").collect();
    let repo_digests: Vec<&str> = p.facts("RepoDigest").collect();
    let container = p.purpose().eq_ignore_ascii_case("CONTAINER")
        || purl.is_some_and(|u| u.starts_with("pkg:oci/") || u.starts_with("pkg:docker/"))
        || p.id().starts_with("SPDXRef-ContainerImage-")
        || p.id().starts_with("SPDXRef-DocumentRoot-Image-")
        || !repo_tags.is_empty()
        || !repo_digests.is_empty();
    if container {
        let hints = ImageHints { name, version: p.version_info.as_deref(), purl, repo_tags, repo_digests };
        if let Some(image) = image_ref(&hints) {
            return Artifact::Image(image);
        }
    } else {
        let repo = purl
            .and_then(purl_repository)
            .or_else(|| p.download_location.as_deref().and_then(vcs_repository))
            .or_else(|| vcs_repository(name));
        if let Some(repo) = repo {
            return Artifact::Repository(Arc::from(repo));
        }
        // Trivy `repo` scans of a remote repository (local paths stay `Other`, as in Trivy JSON).
        if (p.id().starts_with("SPDXRef-Filesystem-") || p.id().starts_with("SPDXRef-Repository-"))
            && is_remote_repository(name)
        {
            return Artifact::Repository(Arc::from(normalize_repository(name)));
        }
    }
    let label = if name.is_empty() { p.id() } else { name };
    Artifact::Other(Arc::from(match p.version_info.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{label}@{v}"),
        None => label.to_string(),
    }))
}

/// Vulnerabilities named by a package's `SECURITY` advisory references.
fn vulnerability_findings(
    p: &SpdxPackage,
    artifact: &Artifact,
    src: &Arc<Source>,
    scanned_at: Option<jiff::Timestamp>,
    out: &mut Vec<Finding>,
) {
    let mut seen: Vec<String> = Vec::new();
    for r in p.external_refs.iter().flatten() {
        let security = r.reference_category.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("SECURITY"));
        let advisory = r.reference_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("advisory") || t == "url");
        if !security || !advisory {
            continue;
        }
        let Some(locator) = r.reference_locator.as_deref().map(str::trim).filter(|l| !l.is_empty()) else {
            continue;
        };
        let Some(id) = advisory_id(locator) else {
            continue;
        };
        if seen.contains(&id) {
            continue;
        }
        let name = p.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(p.id());
        let mut f =
            Finding::new(FindingKind::Vulnerability, &id, Severity::Unknown, &id, artifact.clone(), src.clone());
        f.package = Some(Package {
            purl: p.purl().map(Arc::from),
            name: Arc::from(name),
            installed_version: non_empty_arc(p.version_info.as_deref()),
            fixed_version: None,
        });
        f.primary_url = Some(Arc::from(locator));
        f.first_seen = scanned_at;
        out.push(f);
        seen.push(id);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_spdx_json() {
        assert!(detect(&json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"})));
        assert!(!detect(&json!({"bomFormat": "CycloneDX"})));
        assert!(!detect(&json!({"spdxVersion": 2.3})));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases = [
            (json!({"spdxVersion": "SPDX-2.3", "packages": {"name": "x"}}), "packages: "),
            (
                json!({"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"}, {"name": "b", "versionInfo": 1}]}),
                "packages[1].versionInfo: ",
            ),
            (
                json!({"spdxVersion": "SPDX-2.3", "packages": [{"externalRefs": [{"referenceLocator": []}]}]}),
                "packages[0].externalRefs[0].referenceLocator: ",
            ),
            (json!({"spdxVersion": "SPDX-2.3", "creationInfo": {"creators": "Tool: x"}}), "creationInfo.creators: "),
            (json!({"spdxVersion": "SPDX-2.3", "documentDescribes": [1]}), "documentDescribes[0]: "),
        ];
        for (doc, want) in cases {
            let err = parse("t", &doc).expect_err("must fail").to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
        let err = parse("t", &json!({"spdxVersion": "SPDX-3.0"})).unwrap_err().to_string();
        assert!(err.starts_with("spdxVersion: "), "{err}");
    }

    #[test]
    fn minimal_document() {
        let r = parse("t.json", &json!({"spdxVersion": "SPDX-2.3", "packages": null})).unwrap().remove(0);
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("t.json"))]);
        assert_eq!(&*r.source.scanner, "SPDX");
        assert_eq!(r.components.as_deref(), Some(&[][..]));
    }
}
