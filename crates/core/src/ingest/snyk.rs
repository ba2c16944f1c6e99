//! Snyk CLI JSON: `snyk test --json` (one project; `--all-projects` writes an array of
//! them, which the document reader splits) and `snyk container test --json` (an image, its
//! OS packages in `vulnerabilities` and the applications found in it in `applications[]`).
//! Field names are those of the CLI's JSON output (<https://docs.snyk.io/snyk-cli/commands/test>;
//! the `TestResult` / `AnnotatedIssue` types of <https://github.com/snyk/cli>). `snyk code
//! test` writes SARIF, which the SARIF parser reads.
//!
//! One [`Report`] per project object:
//!
//! * **artifact**: a container project (`projectName: docker-image|<name>`, or a `docker`
//!   object) is the image `<name>` with the tag its dependency paths name
//!   (`from[0]: docker-image|<name>@<tag>`); no digest is stated. Any other project is
//!   [`Artifact::Other`] named by the directory holding its manifest (`path` joined with the
//!   directory of `displayTargetFile` / `targetFile`, see [`super::project_dir`]), which is
//!   how OSV-Scanner and Trivy `fs` name the same project.
//! * **findings**: one per `vulnerabilities[]` entry of the project and of each
//!   `applications[]` entry. Snyk lists an issue once per dependency path (`from`); the
//!   paths of one issue in one package version are one finding.
//!   - id: Snyk's `id` (`SNYK-JS-…`); aliases `identifiers.CVE`, `identifiers.GHSA` and
//!     `alternativeIds` (CWE ids are not aliases: two issues share a CWE without being one);
//!     a CVE alias becomes the primary id.
//!   - kind: vulnerability; licence issues (`type: license`) are policy results of Snyk's
//!     licence policy.
//!   - severity: `severity` (Snyk's own rating; `nvdSeverity` is not used), CVSS:
//!     `cvssScore` (Snyk's score), EPSS: `epssDetails.probability`.
//!   - package: `name` (`gcc-10/libgcc-s1` for a Debian binary of a source package; Snyk
//!     names no purl) at `version`, fixed in `fixedIn` (joined by `, `); location the
//!     manifest (`displayTargetFile`, else `targetFile`); published `publicationTime`;
//!     URL the first `references[].url`.
//! * **identity**: id and aliases × project (image) × package short name and version.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::FormatError;
use super::error_path::{join, typed};
use super::lenient::{Num, Text, items};
use super::project_dir::join_manifest;
use super::title::title_line;
use super::{source, timestamp};
use crate::model::{Artifact, Finding, FindingKind, Format, ImageRef, Package, Report, Severity, Source};

const DOCKER_PREFIX: &str = "docker-image|";

/// True for one Snyk CLI project result: a `vulnerabilities` array with Snyk's
/// `packageManager` and `ok` fields.
pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.get("vulnerabilities").is_some_and(Value::is_array)
        && o.get("ok").is_some_and(Value::is_boolean)
        && (o.contains_key("packageManager") || o.contains_key("projectName"))
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Snyk project result")]
struct Project {
    vulnerabilities: Option<Vec<Value>>,
    applications: Option<Vec<Value>>,
    #[serde(rename = "projectName")]
    project_name: Text,
    path: Text,
    #[serde(rename = "displayTargetFile")]
    display_target_file: Text,
    #[serde(rename = "targetFile")]
    target_file: Text,
    docker: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Snyk issue")]
struct Issue {
    id: Text,
    #[serde(rename = "type")]
    ty: Text,
    title: Text,
    severity: Text,
    #[serde(rename = "cvssScore")]
    cvss_score: Num,
    #[serde(rename = "epssDetails")]
    epss_details: Option<EpssDetails>,
    identifiers: Option<Identifiers>,
    #[serde(rename = "alternativeIds")]
    alternative_ids: Option<Vec<Text>>,
    name: Text,
    #[serde(rename = "packageName")]
    package_name: Text,
    version: Text,
    #[serde(rename = "fixedIn")]
    fixed_in: Option<Vec<Text>>,
    #[serde(rename = "publicationTime")]
    publication_time: Text,
    references: Option<Vec<Reference>>,
    from: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct EpssDetails {
    probability: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object of identifier lists")]
struct Identifiers {
    #[serde(rename = "CVE")]
    cve: Option<Vec<Text>>,
    #[serde(rename = "GHSA")]
    ghsa: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a reference object")]
struct Reference {
    url: Text,
}

/// Parses one Snyk project result into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let p: Project = typed(v, "")?;
    let src = source(Format::Snyk, "Snyk", origin);
    let container = p.project_name.get().is_some_and(|n| n.starts_with(DOCKER_PREFIX)) || p.docker.is_some();
    let first_from = first_dependency_root(&p)?;
    let artifact = if container {
        container_image(&p, first_from.as_deref())
    } else {
        join_manifest(p.path.get(), p.display_target_file.get().or(p.target_file.get()))
            .map(|d| Artifact::Other(d.into()))
    }
    .unwrap_or_else(|| Artifact::Other(Arc::from(origin)));

    let mut report = Report::new(src.clone());
    let manifest = p.display_target_file.get().or(p.target_file.get());
    add_issues(&p.vulnerabilities, "vulnerabilities", manifest, &artifact, &src, &mut report.findings)?;
    for (i, app) in items(&p.applications) {
        let path = format!("applications[{i}]");
        let a: Project = typed(app, &path)?;
        let manifest = a.display_target_file.get().or(a.target_file.get());
        add_issues(
            &a.vulnerabilities,
            &join(&path, "vulnerabilities"),
            manifest,
            &artifact,
            &src,
            &mut report.findings,
        )?;
    }
    report.scanned = vec![artifact];
    Ok(vec![report])
}

/// The first dependency path's root (`docker-image|name@tag`), which names the image's tag.
fn first_dependency_root(p: &Project) -> Result<Option<String>, FormatError> {
    let Some((i, first)) = items(&p.vulnerabilities).next() else { return Ok(None) };
    let issue: Issue = typed(first, &format!("vulnerabilities[{i}]"))?;
    Ok(issue.from.iter().flatten().find_map(Text::get).map(str::to_string))
}

fn container_image(p: &Project, root: Option<&str>) -> Option<Artifact> {
    let name = p.project_name.get().and_then(|n| n.strip_prefix(DOCKER_PREFIX)).map(str::trim);
    let tag = root
        .and_then(|r| r.strip_prefix(DOCKER_PREFIX))
        .and_then(|r| r.rsplit_once('@'))
        .filter(|(n, _)| name.is_none_or(|name| name == *n))
        .map(|(_, t)| t);
    let candidates = [
        name.zip(tag).map(|(n, t)| if t.starts_with("sha256:") { format!("{n}@{t}") } else { format!("{n}:{t}") }),
        p.path.get().map(str::to_string),
        name.map(str::to_string),
    ];
    candidates.into_iter().flatten().find_map(|c| ImageRef::parse(&c).ok()).map(Artifact::Image)
}

fn add_issues(
    list: &Option<Vec<Value>>,
    at: &str,
    manifest: Option<&str>,
    artifact: &Artifact,
    src: &Arc<Source>,
    out: &mut Vec<Finding>,
) -> Result<(), FormatError> {
    for (i, v) in items(list) {
        let path = format!("{at}[{i}]");
        let issue: Issue = typed(v, &path)?;
        out.push(finding(&issue, &path, manifest, artifact, src)?);
    }
    Ok(())
}

fn finding(
    issue: &Issue,
    path: &str,
    manifest: Option<&str>,
    artifact: &Artifact,
    src: &Arc<Source>,
) -> Result<Finding, FormatError> {
    let id = issue.id.get().ok_or_else(|| FormatError::new(join(path, "id"), "missing"))?;
    let kind = if issue.ty.get().is_some_and(|t| t.eq_ignore_ascii_case("license")) {
        FindingKind::Policy
    } else {
        FindingKind::Vulnerability
    };
    let title = issue.title.get().and_then(title_line).unwrap_or_else(|| id.to_string());
    let mut f = Finding::new(
        kind,
        id,
        Severity::parse(issue.severity.get().unwrap_or("")),
        &title,
        artifact.clone(),
        src.clone(),
    );
    let ids = issue.identifiers.as_ref();
    let cves = ids.into_iter().flat_map(|i| i.cve.iter().flatten());
    let ghsas = ids.into_iter().flat_map(|i| i.ghsa.iter().flatten());
    for alias in cves.chain(ghsas).chain(issue.alternative_ids.iter().flatten()).filter_map(Text::get) {
        f.add_alias(alias);
    }
    f.prefer_cve_id();
    f.cvss = issue.cvss_score.get().filter(|s| (0.0..=10.0).contains(s)).map(|s| s as f32);
    f.epss = issue
        .epss_details
        .as_ref()
        .and_then(|e| e.probability.get())
        .filter(|p| (0.0..=1.0).contains(p))
        .map(|p| p as f32);
    if let Some(name) = issue.name.get().or(issue.package_name.get()) {
        let fixed: Vec<&str> = issue.fixed_in.iter().flatten().filter_map(Text::get).collect();
        f.package = Some(Package {
            purl: None,
            name: Arc::from(name),
            installed_version: issue.version.arc(),
            fixed_version: (!fixed.is_empty()).then(|| Arc::from(fixed.join(", "))),
        });
    }
    f.location = manifest.map(Arc::from);
    f.published = issue.publication_time.get().and_then(timestamp::parse);
    f.primary_url =
        issue.references.iter().flatten().find_map(|r| r.url.get().filter(|u| u.starts_with("http")).map(Arc::from));
    Ok(f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_snyk_projects_only() {
        assert!(detect(&json!({"vulnerabilities": [], "ok": true, "packageManager": "npm"})));
        assert!(!detect(&json!({"vulnerabilities": [], "ok": true})));
        assert!(!detect(&json!({"auditReportVersion": 2, "vulnerabilities": {}})));
        assert!(!detect(&json!({"ok": false, "error": "Could not detect supported target files", "path": "."})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let doc = |v: Value| json!({"vulnerabilities": [v], "ok": false, "packageManager": "npm"});
        let e = parse("s", &doc(json!({"title": "x"}))).unwrap_err();
        assert_eq!(e.to_string(), "vulnerabilities[0].id: missing");
        let e = parse("s", &doc(json!({"id": "SNYK-1", "identifiers": {"CVE": "CVE-2020-1"}}))).unwrap_err();
        assert!(e.to_string().starts_with("vulnerabilities[0].identifiers"), "{e}");
        let e = parse(
            "s",
            &json!({"vulnerabilities": [], "ok": true, "packageManager": "deb", "applications": [{"vulnerabilities": [{"id": 1, "from": {}}]}]}),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("applications[0].vulnerabilities[0].from"), "{e}");
    }

    #[test]
    fn licence_issues_are_policy_results_and_cwes_are_not_aliases() {
        let v = json!({"ok": false, "packageManager": "npm", "path": "/src/app", "displayTargetFile": "package-lock.json",
        "vulnerabilities": [
            {"id": "snyk:lic:npm:foo:GPL-3.0", "type": "license", "severity": "high", "name": "foo", "version": "1.0.0"},
            {"id": "SNYK-JS-A-1", "severity": "medium", "name": "a", "version": "1", "identifiers": {"CWE": ["CWE-400"], "CVE": []}}
        ]});
        let r = parse("s", &v).unwrap().remove(0);
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("/src/app"))]);
        assert_eq!(r.findings[0].kind, FindingKind::Policy);
        assert_eq!(r.findings[1].kind, FindingKind::Vulnerability);
        assert!(r.findings[1].aliases.is_empty());
        assert_eq!(r.findings[1].location.as_deref(), Some("package-lock.json"));
    }
}
