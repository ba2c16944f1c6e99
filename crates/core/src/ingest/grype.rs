//! Grype JSON (`grype -o json`): the document of grype's JSON presenter
//! (`grype/presenter/models/document.go`, `match.go`, `vulnerability.go`, `source.go` in
//! <https://github.com/anchore/grype>), from grype 0.3x to the current fields (`epss`,
//! `knownExploited`, `risk`).
//!
//! One [`Report`] per document, about what `source` names:
//!
//! * **artifact**: for `source.type: image`, the image as the user gave it
//!   (`target.userInput`, else the first of `target.tags`), with the digest of the
//!   `target.repoDigests` entry of the same repository — the digest a runtime pulls by.
//!   `target.manifestDigest` and `target.imageID` are not used: grype computes them from the
//!   image it read (for a daemon image, the digest of a re-serialised manifest), so they are
//!   not what a Pod's `imageID` or Trivy's `RepoDigests` say. `directory` / `file` sources
//!   are [`Artifact::Other`] named by their path, as Trivy's `fs` scans are; anything else is
//!   `Other(origin)`.
//! * **findings**: one vulnerability per `matches[]` entry, and per `ignoredMatches[]` entry
//!   whose applied ignore rule carries a `vex-status` (a VEX document said so; the finding
//!   keeps that statement). Matches ignored by the user's own ignore rules stay hidden, as
//!   Trivy's `.trivyignore` does.
//!   - id `vulnerability.id`; aliases the `relatedVulnerabilities[].id` (the NVD record of a
//!     distro or GHSA match). A related CVE is **not** taken as an alias of a match whose
//!     own id is a different CVE (two CVEs are never the same issue), so a mis-linked record
//!     cannot merge two distinct findings. A CVE alias becomes the primary id.
//!   - severity `vulnerability.severity` as grype states it (the matched record's: the
//!     distribution's for OS packages, GitHub's for language packages, NVD's for CPE
//!     matches; `Negligible` → info).
//!   - CVSS: the highest v3 base score in `vulnerability.cvss`, else in the NVD record among
//!     `relatedVulnerabilities` (v2 and v4 scores are not used).
//!   - EPSS: the highest `vulnerability.epss[].epss` (grype ≥ 0.87), kept unless Stance's own
//!     EPSS feed knows the CVE. `risk` (grype's own severity × threat product) and
//!     `knownExploited` are not carried: Stance ranks with its own risk score from the same
//!     inputs, and KEV membership comes from the CISA catalog Stance loads.
//!   - package: `artifact.purl` (named as Trivy names packages), `artifact.name`, installed
//!     `artifact.version`, fixed `vulnerability.fix.versions` joined by `, ` (as Trivy writes
//!     several); location the first `artifact.locations[].path`.
//!   - title: the first line of `description`, else the id; URL `dataSource`, else `urls[0]`.
//! * **identity** (see `posture::correlate`): id and aliases × image digest (else name:tag)
//!   × package short name and installed version. Two matches of one vulnerability in one
//!   package version at two paths are one issue (grype reports the same package found twice).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::FormatError;
use super::error_path::{join, typed, typed_or_default};
use super::lenient::{Num, Text, items};
use super::purl::package_from_purl;
use super::title::title_line;
use super::trivy_artifact::image_from_names;
use super::{source, timestamp};
use crate::model::finding::is_cve;
use crate::model::{Artifact, Finding, FindingKind, Format, Package, Report, Severity, Source, Vex, VexState};

/// True for a grype JSON document: `matches` and a `descriptor` naming grype, or the
/// `matches` + `source` + `distro` triple every grype version writes.
pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    if !o.get("matches").is_some_and(|m| m.is_array() || m.is_null()) {
        return false;
    }
    let named = o
        .get("descriptor")
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .is_some_and(|n| n.to_ascii_lowercase().contains("grype"));
    named || (o.contains_key("source") && o.contains_key("distro"))
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a grype JSON document")]
struct Doc {
    matches: Option<Vec<Value>>,
    #[serde(rename = "ignoredMatches")]
    ignored_matches: Option<Vec<Value>>,
    source: Option<Value>,
    descriptor: Option<Descriptor>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Descriptor {
    name: Text,
    version: Text,
    timestamp: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct SourceDoc {
    #[serde(rename = "type")]
    ty: Text,
    /// An image's metadata (object) or a path (string).
    target: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an image object")]
struct ImageTarget {
    #[serde(rename = "userInput")]
    user_input: Text,
    tags: Option<Vec<Text>>,
    #[serde(rename = "repoDigests")]
    repo_digests: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a grype match object")]
struct Match {
    vulnerability: Option<Value>,
    #[serde(rename = "relatedVulnerabilities")]
    related: Option<Vec<Value>>,
    artifact: Option<Value>,
    #[serde(rename = "appliedIgnoreRules")]
    applied_ignore_rules: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a grype vulnerability object")]
struct Vulnerability {
    id: Text,
    #[serde(rename = "dataSource")]
    data_source: Text,
    namespace: Text,
    severity: Text,
    urls: Option<Vec<Text>>,
    description: Text,
    cvss: Option<Vec<Cvss>>,
    epss: Option<Vec<Epss>>,
    fix: Option<Fix>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CVSS object")]
struct Cvss {
    version: Text,
    metrics: Option<CvssMetrics>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct CvssMetrics {
    #[serde(rename = "baseScore")]
    base_score: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an EPSS object")]
struct Epss {
    epss: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Fix {
    versions: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a grype artifact object")]
struct ArtifactDoc {
    name: Text,
    version: Text,
    purl: Text,
    locations: Option<Vec<Location>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a location object")]
struct Location {
    path: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an ignore rule object")]
struct IgnoreRule {
    #[serde(rename = "vex-status")]
    vex_status: Text,
    #[serde(rename = "vex-justification")]
    vex_justification: Text,
}

/// Parses one grype JSON document into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: Doc = typed(v, "")?;
    let descriptor = doc.descriptor.unwrap_or_default();
    let scanner = match (descriptor.name.get(), descriptor.version.get().filter(|v| !v.starts_with('['))) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.to_string(),
        (None, _) => "grype".to_string(),
    };
    let src = source(Format::Grype, &scanner, origin);
    let scanned_at = descriptor.timestamp.get().and_then(timestamp::parse);
    let artifact = scanned_artifact(doc.source.as_ref(), origin)?;

    let mut report = Report::new(src.clone());
    for (i, m) in items(&doc.matches) {
        let path = format!("matches[{i}]");
        let m: Match = typed(m, &path)?;
        let mut f = finding(&m, &path, &artifact, &src)?;
        f.first_seen = scanned_at;
        report.findings.push(f);
    }
    for (i, m) in items(&doc.ignored_matches) {
        let path = format!("ignoredMatches[{i}]");
        let m: Match = typed(m, &path)?;
        let Some(vex) = vex_of_ignore_rules(&m, &path)? else { continue };
        let mut f = finding(&m, &path, &artifact, &src)?;
        f.first_seen = scanned_at;
        f.vex = Some(vex);
        report.findings.push(f);
    }
    report.scanned = vec![artifact];
    report.scanned_at = scanned_at;
    Ok(vec![report])
}

fn scanned_artifact(src: Option<&Value>, origin: &str) -> Result<Artifact, FormatError> {
    let doc: SourceDoc = typed_or_default(src, "source")?;
    let ty = doc.ty.get().unwrap_or("");
    match doc.target {
        Some(Value::String(path)) if !path.trim().is_empty() && ty != "image" && path.trim() != "unknown" => {
            Ok(Artifact::Other(Arc::from(path.trim())))
        }
        Some(ref t @ Value::Object(_)) if ty == "image" => {
            let img: ImageTarget = typed(t, "source.target")?;
            let tags = img.tags.iter().flatten().filter_map(Text::get);
            let digests = img.repo_digests.iter().flatten().filter_map(Text::get);
            Ok(image_from_names(img.user_input.get(), tags, digests)
                .map_or_else(|| Artifact::Other(Arc::from(origin)), Artifact::Image))
        }
        _ => Ok(Artifact::Other(Arc::from(origin))),
    }
}

/// The VEX statement of an ignored match whose ignore rules came from a VEX document.
fn vex_of_ignore_rules(m: &Match, path: &str) -> Result<Option<Vex>, FormatError> {
    for (i, r) in items(&m.applied_ignore_rules) {
        let rule: IgnoreRule = typed(r, &format!("{path}.appliedIgnoreRules[{i}]"))?;
        if let Some(state) = rule.vex_status.get().and_then(VexState::parse) {
            return Ok(Some(Vex { source: None, state, justification: rule.vex_justification.arc() }));
        }
    }
    Ok(None)
}

fn finding(m: &Match, path: &str, artifact: &Artifact, src: &Arc<Source>) -> Result<Finding, FormatError> {
    let vpath = join(path, "vulnerability");
    let vuln: Vulnerability = typed_or_default(m.vulnerability.as_ref(), &vpath)?;
    let id = vuln.id.get().ok_or_else(|| FormatError::new(join(&vpath, "id"), "missing"))?;
    let related: Vec<Vulnerability> = items(&m.related)
        .map(|(i, r)| typed(r, &format!("{path}.relatedVulnerabilities[{i}]")))
        .collect::<Result<_, _>>()?;
    let title = vuln.description.get().and_then(title_line).unwrap_or_else(|| id.to_string());
    let mut f = Finding::new(
        FindingKind::Vulnerability,
        id,
        Severity::parse(vuln.severity.get().unwrap_or("")),
        &title,
        artifact.clone(),
        src.clone(),
    );
    for r in &related {
        let Some(rid) = r.id.get() else { continue };
        if is_cve(id) && is_cve(rid) && !rid.eq_ignore_ascii_case(id) {
            continue;
        }
        f.add_alias(rid);
    }
    f.prefer_cve_id();
    f.cvss = best_v3(&vuln).or_else(|| {
        related.iter().filter(|r| r.namespace.get().is_some_and(|n| n.starts_with("nvd"))).find_map(best_v3)
    });
    f.epss = std::iter::once(&vuln)
        .chain(&related)
        .flat_map(|v| v.epss.iter().flatten())
        .filter_map(|e| e.epss.get())
        .filter(|p| (0.0..=1.0).contains(p))
        .map(|p| p as f32)
        .reduce(f32::max);
    f.primary_url = vuln
        .data_source
        .get()
        .filter(|u| u.starts_with("http"))
        .or_else(|| vuln.urls.iter().flatten().find_map(Text::get))
        .map(Arc::from);

    let art: ArtifactDoc = typed_or_default(m.artifact.as_ref(), &join(path, "artifact"))?;
    let from_purl = art.purl.get().and_then(package_from_purl);
    let name = from_purl.as_ref().map(|p| p.name.clone()).or_else(|| art.name.arc());
    if let Some(name) = name {
        let fixed: Vec<&str> =
            vuln.fix.iter().flat_map(|x| x.versions.iter().flatten()).filter_map(Text::get).collect();
        f.package = Some(Package {
            purl: from_purl.as_ref().and_then(|p| p.purl.clone()),
            name,
            installed_version: art.version.arc().or_else(|| from_purl.and_then(|p| p.installed_version)),
            fixed_version: (!fixed.is_empty()).then(|| Arc::from(fixed.join(", "))),
        });
    }
    f.location = art.locations.iter().flatten().find_map(|l| l.path.arc());
    Ok(f)
}

/// The highest CVSS v3 base score of one vulnerability record.
fn best_v3(v: &Vulnerability) -> Option<f32> {
    v.cvss
        .iter()
        .flatten()
        .filter(|c| c.version.get().is_some_and(|v| v.starts_with('3')))
        .filter_map(|c| c.metrics.as_ref()?.base_score.get())
        .filter(|s| (0.0..=10.0).contains(s))
        .map(|s| s as f32)
        .reduce(f32::max)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_grype_documents_only() {
        assert!(detect(&json!({"matches": [], "descriptor": {"name": "grype"}})));
        assert!(detect(&json!({"matches": null, "source": {}, "distro": {}})));
        assert!(!detect(&json!({"matches": []})));
        assert!(!detect(&json!({"SchemaVersion": 2, "Results": []})));
        assert!(!detect(&json!([])));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let doc = |m: Value| json!({"matches": [m], "descriptor": {"name": "grype"}});
        let e = parse("g", &doc(json!({"vulnerability": {"id": []}}))).unwrap_err();
        assert!(e.to_string().starts_with("matches[0].vulnerability.id:"), "{e}");
        let e = parse("g", &doc(json!({"vulnerability": {}}))).unwrap_err();
        assert_eq!(e.to_string(), "matches[0].vulnerability.id: missing");
        let e = parse("g", &doc(json!({"vulnerability": {"id": "CVE-2024-0001"}, "artifact": {"locations": {}}})))
            .unwrap_err();
        assert!(e.to_string().starts_with("matches[0].artifact.locations:"), "{e}");
        let e = parse("g", &json!({"matches": {}, "descriptor": {"name": "grype"}})).unwrap_err();
        assert!(e.to_string().starts_with("matches:"), "{e}");
    }

    #[test]
    fn a_related_cve_is_not_an_alias_of_another_cve() {
        let v = json!({"matches": [
            {"vulnerability": {"id": "CVE-2023-37920", "severity": "Low"},
             "relatedVulnerabilities": [{"id": "CVE-2023-50387"}],
             "artifact": {"name": "bind-utils", "version": "9"}},
            {"vulnerability": {"id": "GHSA-cfh5-3ghh-wfjx", "severity": "Medium"},
             "relatedVulnerabilities": [{"id": "CVE-2014-3577", "namespace": "nvd:cpe",
                "cvss": [{"version": "2.0", "metrics": {"baseScore": 5.8}},
                         {"version": "3.1", "metrics": {"baseScore": 7.4}}]}],
             "artifact": {"name": "httpclient", "version": "4.1.1"}}
        ], "source": {"type": "directory", "target": "/src"}, "distro": {}});
        let r = parse("g", &v).unwrap().remove(0);
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("/src"))]);
        assert!(r.findings[0].aliases.is_empty());
        assert_eq!(&*r.findings[1].id, "CVE-2014-3577");
        assert_eq!(r.findings[1].aliases, vec![Arc::<str>::from("GHSA-cfh5-3ghh-wfjx")]);
        assert_eq!(r.findings[1].cvss, Some(7.4));
    }

    #[test]
    fn ignored_matches_only_when_a_vex_document_said_so() {
        let m = |rule: Value| {
            json!({"vulnerability": {"id": "CVE-2024-1"}, "artifact": {"name": "a", "version": "1"},
                   "appliedIgnoreRules": [rule]})
        };
        let v = json!({"matches": [], "ignoredMatches": [
            m(json!({"vulnerability": "CVE-2024-1"})),
            m(json!({"vex-status": "not_affected", "vex-justification": "vulnerable_code_not_present"}))
        ], "descriptor": {"name": "grype", "version": "0.80.0"}});
        let r = parse("g", &v).unwrap().remove(0);
        assert_eq!(&*r.source.scanner, "grype 0.80.0");
        assert_eq!(r.findings.len(), 1);
        let vex = r.findings[0].vex.as_ref().unwrap();
        assert_eq!(vex.state, VexState::NotAffected);
        assert_eq!(vex.justification.as_deref(), Some("vulnerable_code_not_present"));
    }
}
