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
//!   `metadata.component` (a standalone VEX) is `Other(origin)`.
//! * **Components** from `components[]`, recursively. A component's name is prefixed
//!   with its `group` the way its ecosystem writes it (`org.slf4j:slf4j-api` for Maven,
//!   `@babel/core` for npm, `laravel/framework` for Composer), which is also how Trivy
//!   JSON names packages; the purl stays the real identity. The operating system (type
//!   `operating-system`) and Trivy's grouping components (lock files, marked
//!   `aquasecurity:trivy:Class`) are not packages and are skipped.
//! * **Findings** from `vulnerabilities[]`: one per (vulnerability, affected component);
//!   an `affects` ref matching no component (a bom-link into another BOM) still yields a
//!   finding, its package read from the ref's purl fragment. Severity is the rating of the
//!   vulnerability's own `source` when it rates it (Trivy's semantics), else the worst.

use std::sync::Arc;

use jiff::Timestamp;
use packageurl::PackageUrl;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{source, timestamp};
use crate::model::artifact::normalize_repository;
use crate::model::{
    Artifact, Component, Finding, FindingKind, Format, ImageRef, Package, Report, Severity, Source, Vex, VexState,
};

/// Longest title kept (characters); longer descriptions are cut at a word boundary.
const TITLE_MAX: usize = 200;

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
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, String> {
    let bom: Bom = deserialize_located(v)?;
    let meta = bom.metadata.unwrap_or_default();
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

    let mut report = Report::new(src.clone());
    report.scanned = vec![artifact.clone()];
    report.scanned_at = scanned_at;
    report.components = Some(components);
    for vuln in bom.vulnerabilities.iter().flatten() {
        vulnerability_findings(vuln, &by_ref, &artifact, &src, scanned_at, &mut report.findings);
    }
    Ok(vec![report])
}

// ---------------------------------------------------------------------------------------
// Document structure (only the fields Stance reads; everything optional and null-tolerant).

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Bom {
    metadata: Option<Metadata>,
    components: Option<Vec<CdxComponent>>,
    external_references: Option<Vec<ExternalReference>>,
    vulnerabilities: Option<Vec<Vulnerability>>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    timestamp: Option<String>,
    tools: Option<Tools>,
    component: Option<CdxComponent>,
}

/// `metadata.tools`: an array of tools up to 1.4, `{components, services}` from 1.5.
#[derive(Deserialize)]
#[serde(untagged)]
enum Tools {
    List(Vec<Tool>),
    Object { components: Option<Vec<Tool>>, services: Option<Vec<Tool>> },
}

#[derive(Deserialize)]
struct Tool {
    name: Option<String>,
    version: Option<String>,
}

impl Tools {
    /// `name version` of every tool, joined with `, `.
    fn joined(&self) -> String {
        let tools: Vec<&Tool> = match self {
            Tools::List(list) => list.iter().collect(),
            Tools::Object { components, services } => components.iter().chain(services).flatten().collect(),
        };
        let mut names: Vec<String> = Vec::new();
        for t in tools {
            let name = t.name.as_deref().unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            let s = match t.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => format!("{name} {v}"),
                None => name.to_string(),
            };
            if !names.contains(&s) {
                names.push(s);
            }
        }
        names.join(", ")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxComponent {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    group: Option<String>,
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    licenses: Option<Vec<LicenseChoice>>,
    properties: Option<Vec<Property>>,
    external_references: Option<Vec<ExternalReference>>,
    components: Option<Vec<CdxComponent>>,
}

impl CdxComponent {
    fn properties(&self, name: &str) -> impl Iterator<Item = &str> {
        self.properties
            .iter()
            .flatten()
            .filter(move |p| p.name.as_deref() == Some(name))
            .filter_map(|p| p.value.as_deref())
            .filter(|v| !v.trim().is_empty())
    }

    fn has_property(&self, name: &str) -> bool {
        self.properties.iter().flatten().any(|p| p.name.as_deref() == Some(name))
    }

    /// The ecosystem-style display name (see the module docs).
    fn display_name(&self) -> Option<String> {
        let name = self.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            return self.purl.as_deref().and_then(|p| p.parse::<PackageUrl>().ok()).map(|p| purl_display_name(&p));
        }
        Some(match self.group.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            Some(g) if self.purl.as_deref().is_some_and(|p| p.starts_with("pkg:maven/")) => format!("{g}:{name}"),
            Some(g) => format!("{g}/{name}"),
            None => name.to_string(),
        })
    }
}

#[derive(Deserialize)]
struct LicenseChoice {
    license: Option<LicenseRef>,
    expression: Option<String>,
}

#[derive(Deserialize)]
struct LicenseRef {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Property {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    ty: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct Vulnerability {
    id: Option<String>,
    source: Option<VulnSource>,
    references: Option<Vec<VulnReference>>,
    ratings: Option<Vec<Rating>>,
    description: Option<String>,
    detail: Option<String>,
    recommendation: Option<String>,
    advisories: Option<Vec<Advisory>>,
    published: Option<String>,
    analysis: Option<Analysis>,
    affects: Option<Vec<Affect>>,
}

#[derive(Deserialize)]
struct VulnSource {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct VulnReference {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Rating {
    source: Option<VulnSource>,
    score: Option<f64>,
    severity: Option<String>,
    method: Option<String>,
}

#[derive(Deserialize)]
struct Advisory {
    url: Option<String>,
}

#[derive(Deserialize)]
struct Analysis {
    state: Option<String>,
    justification: Option<String>,
    detail: Option<String>,
}

#[derive(Deserialize)]
struct Affect {
    #[serde(rename = "ref")]
    reference: Option<String>,
    versions: Option<Vec<AffectVersion>>,
}

#[derive(Deserialize)]
struct AffectVersion {
    version: Option<String>,
    status: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Subject and components.

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
                version: nonempty(c.version.as_deref()),
                purl: nonempty(c.purl.as_deref()),
                licenses: licenses(c.licenses.as_deref().unwrap_or_default()),
            });
        }
        collect(c.components.as_deref().unwrap_or_default(), by_ref, out);
    }
}

fn licenses(choices: &[LicenseChoice]) -> Vec<Arc<str>> {
    let mut out: Vec<Arc<str>> = Vec::new();
    for choice in choices {
        let text = match &choice.license {
            Some(l) => l.id.as_deref().filter(|s| !s.trim().is_empty()).or(l.name.as_deref()),
            None => choice.expression.as_deref(),
        };
        if let Some(l) = text.and_then(normalize_license)
            && !out.iter().any(|o| **o == *l)
        {
            out.push(Arc::from(l));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Vulnerabilities.

fn vulnerability_findings(
    v: &Vulnerability,
    by_ref: &FxHashMap<&str, &CdxComponent>,
    artifact: &Artifact,
    src: &Arc<Source>,
    scanned_at: Option<Timestamp>,
    out: &mut Vec<Finding>,
) {
    let Some(id) = v.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) else {
        return;
    };
    let (severity, cvss) = rate(v);
    let title = title(v, id);
    let primary_url = v
        .advisories
        .iter()
        .flatten()
        .find_map(|a| a.url.as_deref())
        .or(v.source.as_ref().and_then(|s| s.url.as_deref()));
    let published = v.published.as_deref().and_then(timestamp::parse);
    let vex = v.analysis.as_ref().and_then(|a| {
        Some(Vex {
            state: VexState::parse(a.state.as_deref()?)?,
            justification: nonempty(a.justification.as_deref()).or_else(|| nonempty(a.detail.as_deref())),
        })
    });
    let base = {
        let mut f = Finding::new(FindingKind::Vulnerability, id, severity, &title, artifact.clone(), src.clone());
        f.cvss = cvss;
        for r in v.references.iter().flatten() {
            if let Some(alias) = r.id.as_deref() {
                f.add_alias(alias);
            }
        }
        f.prefer_cve_id();
        f.primary_url = nonempty(primary_url);
        f.published = published;
        f.first_seen = scanned_at;
        f.vex = vex;
        f
    };
    let affects = v.affects.as_deref().unwrap_or_default();
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut any = false;
    for a in affects {
        let Some(r) = a.reference.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
            continue;
        };
        if !seen.insert(r) {
            continue;
        }
        any = true;
        let mut package = affected_package(r, a, by_ref);
        package.fixed_version = fixed_version(a, v.recommendation.as_deref(), &package.name, affects.len() == 1);
        let mut f = base.clone();
        f.package = Some(package);
        out.push(f);
    }
    if !any {
        out.push(base);
    }
}

/// The package an `affects[].ref` names: the component with that bom-ref, else (a
/// bom-link into another BOM, or a dangling ref) what the ref itself says.
fn affected_package(r: &str, a: &Affect, by_ref: &FxHashMap<&str, &CdxComponent>) -> Package {
    // Trivy writes the installed version (with epoch) here; the component has it without.
    let affected_version = a
        .versions
        .iter()
        .flatten()
        .filter(|v| v.status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("affected")))
        .find_map(|v| nonempty(v.version.as_deref()));
    if let Some(c) = by_ref.get(r) {
        return Package {
            purl: nonempty(c.purl.as_deref()),
            name: Arc::from(c.display_name().unwrap_or_else(|| r.to_string())),
            installed_version: affected_version.or_else(|| nonempty(c.version.as_deref())),
            fixed_version: None,
        };
    }
    // `urn:cdx:<serial>/<version>#<bom-ref>`: the fragment is the other BOM's bom-ref.
    let fragment = r.rsplit_once('#').map_or(r, |(_, f)| f);
    match fragment.parse::<PackageUrl>() {
        Ok(p) => Package {
            purl: Some(Arc::from(fragment)),
            name: Arc::from(purl_display_name(&p)),
            installed_version: affected_version.or_else(|| nonempty(p.version())),
            fixed_version: None,
        },
        Err(_) => {
            Package { purl: None, name: Arc::from(fragment), installed_version: affected_version, fixed_version: None }
        }
    }
}

/// Severity and CVSS of a vulnerability.
///
/// Severity: the rating given by the vulnerability's own `source` when there is one
/// (Trivy lists every vendor's rating and uses its data source's, as Trivy JSON does),
/// else the worst of all ratings. A rating without a severity word is derived from its
/// CVSS score. CVSS: the highest v3/v3.1/v4 score.
fn rate(v: &Vulnerability) -> (Severity, Option<f32>) {
    let ratings = v.ratings.as_deref().unwrap_or_default();
    let is_cvss = |r: &Rating| r.method.as_deref().is_some_and(|m| m.to_ascii_lowercase().starts_with("cvss"));
    let severity_of = |r: &Rating| {
        let s = r.severity.as_deref().map_or(Severity::Unknown, Severity::parse);
        match (s, r.score) {
            (Severity::Unknown, Some(score)) if is_cvss(r) => Severity::from_cvss(score as f32),
            _ => s,
        }
    };
    let vuln_source = v.source.as_ref().and_then(|s| s.name.as_deref()).map(str::trim).filter(|s| !s.is_empty());
    let from_source = vuln_source.and_then(|src| {
        ratings
            .iter()
            .filter(|r| {
                r.source.as_ref().and_then(|s| s.name.as_deref()).is_some_and(|n| n.trim().eq_ignore_ascii_case(src))
            })
            .map(severity_of)
            .filter(|s| *s != Severity::Unknown)
            .max()
    });
    let severity = from_source.unwrap_or_else(|| ratings.iter().map(severity_of).max().unwrap_or_default());
    let cvss = ratings
        .iter()
        .filter(|r| {
            r.method.as_deref().is_some_and(|m| {
                let m = m.to_ascii_lowercase();
                m == "cvssv3" || m == "cvssv31" || m == "cvssv4"
            })
        })
        .filter_map(|r| r.score)
        .filter(|s| s.is_finite())
        .map(|s| s as f32)
        .reduce(f32::max);
    (severity, cvss)
}

fn title(v: &Vulnerability, id: &str) -> String {
    [v.description.as_deref(), v.detail.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|t| t.lines().map(str::trim).find(|l| !l.is_empty()))
        .map_or_else(|| id.to_string(), |t| truncate(t, TITLE_MAX))
}

/// Cuts `text` to at most `max` characters, at a word boundary when there is one, adding `…`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            let head = &text[..cut];
            let head = head.rsplit_once(' ').map_or(head, |(h, _)| h).trim_end_matches([',', ';', ':', '.', ' ']);
            format!("{head}…")
        }
    }
}

/// The fixed version: `affects[].versions[]` with status `unaffected`, else the
/// recommendation `Upgrade <package> to version <v>` (Trivy, Snyk).
fn fixed_version(a: &Affect, recommendation: Option<&str>, package: &str, single: bool) -> Option<Arc<str>> {
    let unaffected: Vec<&str> = a
        .versions
        .iter()
        .flatten()
        .filter(|v| v.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("unaffected")))
        .filter_map(|v| v.version.as_deref().map(str::trim).filter(|v| !v.is_empty()))
        .collect();
    if !unaffected.is_empty() {
        return Some(Arc::from(unaffected.join(", ")));
    }
    let upgrades: Vec<(&str, &str)> =
        recommendation.into_iter().flat_map(|r| r.split([';', '\n'])).filter_map(parse_upgrade).collect();
    let matches_package = |name: &str| {
        name.eq_ignore_ascii_case(package)
            || package.rsplit(['/', ':']).next().is_some_and(|short| name.eq_ignore_ascii_case(short))
    };
    upgrades
        .iter()
        .find(|(name, _)| matches_package(name))
        .or_else(|| if single && upgrades.len() == 1 { upgrades.first() } else { None })
        .map(|(_, v)| Arc::from(*v))
}

/// `Upgrade X to version Y[ or higher][.]` → `(X, Y)`.
fn parse_upgrade(segment: &str) -> Option<(&str, &str)> {
    let s = segment.trim();
    let rest = s.strip_prefix("Upgrade ").or_else(|| s.strip_prefix("upgrade "))?;
    let (name, version) = rest.split_once(" to version ")?;
    let version = version.trim().trim_end_matches('.');
    let version = ["or higher", "or later", "or newer"]
        .iter()
        .find_map(|suffix| version.strip_suffix(suffix))
        .unwrap_or(version)
        .trim()
        .trim_end_matches([',', '.'])
        .trim();
    (!name.trim().is_empty() && !version.is_empty()).then(|| (name.trim(), version))
}

// ---------------------------------------------------------------------------------------
// Helpers shared with the SPDX parser.

fn nonempty(s: Option<&str>) -> Option<Arc<str>> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(Arc::from)
}

/// Deserializes `T` from a value; on error, names the path of the offending field
/// (`components[12].licenses: invalid type: …`).
///
/// Every struct the SBOM parsers read has only optional fields, so a document reduced to
/// the path of one field fails exactly when that field is wrong: the error path is found
/// by descending into the first child whose reduced document still fails.
pub(crate) fn deserialize_located<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| {
        let path = locate::<T>(v);
        if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
    })
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn locate<T: DeserializeOwned>(root: &Value) -> String {
    fn wrap(steps: &[Step<'_>], leaf: &Value) -> Value {
        steps.iter().rev().fold(leaf.clone(), |inner, step| match step {
            Step::Key(k) => Value::Object(std::iter::once((k.to_string(), inner)).collect()),
            Step::Index(_) => Value::Array(vec![inner]),
        })
    }
    let mut steps: Vec<Step<'_>> = Vec::new();
    let mut current = root;
    'descend: loop {
        let children: Vec<(Step<'_>, &Value)> = match current {
            Value::Object(m) => m.iter().map(|(k, v)| (Step::Key(k.as_str()), v)).collect(),
            Value::Array(a) => a.iter().enumerate().map(|(i, v)| (Step::Index(i), v)).collect(),
            _ => break,
        };
        // A node of the wrong kind fails even when empty: the error is here, not below.
        let empty = if current.is_object() { Value::Object(serde_json::Map::new()) } else { Value::Array(Vec::new()) };
        if !steps.is_empty() && T::deserialize(&wrap(&steps, &empty)).is_err() {
            break;
        }
        for (step, child) in children {
            steps.push(step);
            if T::deserialize(&wrap(&steps, child)).is_err() {
                current = child;
                continue 'descend;
            }
            steps.pop();
        }
        break;
    }
    let mut path = String::new();
    for step in &steps {
        match step {
            Step::Key(k) if path.is_empty() => path.push_str(k),
            Step::Key(k) => {
                path.push('.');
                path.push_str(k);
            }
            Step::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    path
}

/// A license id, name or expression as declared, without redundant enclosing parentheses;
/// `None` for empty, `NOASSERTION` and `NONE`.
pub(crate) fn normalize_license(text: &str) -> Option<String> {
    let mut s = text.trim();
    while s.starts_with('(') && s.ends_with(')') && closing_paren(s) == Some(s.len() - 1) {
        s = s[1..s.len() - 1].trim();
    }
    if s.is_empty() || s.eq_ignore_ascii_case("NOASSERTION") || s.eq_ignore_ascii_case("NONE") {
        return None;
    }
    Some(s.to_string())
}

/// Byte index of the parenthesis closing the one at index 0.
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
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

/// Drops a URL's query and fragment (`…/repo.git#readme`).
fn strip_url_suffix(url: &str) -> &str {
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

/// The repository a purl names: `pkg:github/org/repo`, `pkg:gitlab/…`, `pkg:bitbucket/…`,
/// or any purl with a `vcs_url` qualifier.
pub(crate) fn purl_repository(purl: &str) -> Option<String> {
    let p: PackageUrl<'_> = purl.parse().ok()?;
    if let Some(vcs) = p.qualifiers().get("vcs_url")
        && let Some(repo) = vcs_repository(vcs)
    {
        return Some(repo);
    }
    let host = match p.ty() {
        "github" => "github.com",
        "gitlab" => "gitlab.com",
        "bitbucket" => "bitbucket.org",
        _ => return None,
    };
    let ns = p.namespace().filter(|n| !n.is_empty())?;
    Some(normalize_repository(&format!("{host}/{ns}/{}", p.name())))
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
    let purl = h.purl.and_then(|p| p.parse::<PackageUrl>().ok()).filter(|p| matches!(p.ty(), "oci" | "docker"));
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
            .or_else(|| purl.as_ref().and_then(|p| p.version()).filter(|v| digest_like(v)).map(Arc::from))
            .or_else(|| h.version.map(str::trim).filter(|v| digest_like(v)).map(Arc::from))
    });
    let valid_tag = |t: &&str| !t.is_empty() && t.len() <= 128 && !t.contains(['/', ':', '@', ' ']);
    let tag: Option<Arc<str>> = base.tag.clone().or_else(|| {
        purl.as_ref()
            .and_then(|p| p.qualifiers().get("tag").map(|t| t.trim().to_string()))
            .filter(|t| valid_tag(&t.as_str()))
            .map(Arc::from)
            .or_else(|| h.version.map(str::trim).filter(|v| !digest_like(v)).filter(valid_tag).map(Arc::from))
    });
    Some(ImageRef::from_parts(&base.registry, &base.repository, tag.as_deref(), digest.as_deref()))
}

/// The image a subject's name is, unless it is a path to an image archive.
fn image_name(name: &str) -> Option<ImageRef> {
    let n = name.trim();
    let lower = n.to_ascii_lowercase();
    let archive = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci"].iter().any(|e| lower.ends_with(e));
    if archive || n.starts_with(['/', '.']) || n.contains("://") {
        return None;
    }
    ImageRef::parse(n).ok()
}

fn purl_image(p: &PackageUrl<'_>) -> Option<ImageRef> {
    if let Some(url) = p.qualifiers().get("repository_url") {
        return ImageRef::parse(url.trim().trim_start_matches("https://")).ok();
    }
    match p.namespace().filter(|n| !n.is_empty()) {
        Some(ns) => ImageRef::parse(&format!("{ns}/{}", p.name())).ok(),
        None => ImageRef::parse(p.name()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(v: Value) -> Report {
        let mut r = parse("t.json", &v).expect("parses");
        assert_eq!(r.len(), 1);
        r.remove(0)
    }

    #[test]
    fn detects_bom_format() {
        assert!(detect(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5"})));
        assert!(!detect(&json!({"spdxVersion": "SPDX-2.3"})));
        assert!(!detect(&json!({"bomFormat": 3})));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases = [
            (json!({"bomFormat": "CycloneDX", "components": {"name": "x"}}), "components: "),
            (
                json!({"bomFormat": "CycloneDX", "components": [{"name": "a"}, {"name": "b", "licenses": "MIT"}]}),
                "components[1].licenses: ",
            ),
            (
                json!({"bomFormat": "CycloneDX", "components": [{"name": "a", "components": [{"version": 3}]}]}),
                "components[0].components[0].version: ",
            ),
            (
                json!({"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1", "ratings": [{"score": "high"}]}]}),
                "vulnerabilities[0].ratings[0].score: ",
            ),
            (json!({"bomFormat": "CycloneDX", "metadata": {"tools": [{"name": ["trivy"]}]}}), "metadata.tools"),
            (json!({"bomFormat": "CycloneDX", "metadata": {"timestamp": 5}}), "metadata.timestamp: "),
        ];
        for (doc, want) in cases {
            let err = parse("t", &doc).expect_err("must fail");
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn nulls_and_missing_fields_are_fine() {
        let r = one(json!({"bomFormat": "CycloneDX", "metadata": null, "components": null,
                           "vulnerabilities": [{"id": null}, {"id": "CVE-2024-1", "affects": null}]}));
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("t.json"))]);
        assert_eq!(r.components.as_deref(), Some(&[][..]));
        assert_eq!(r.findings.len(), 1);
        assert_eq!(&*r.findings[0].id, "CVE-2024-1");
        assert_eq!(&*r.findings[0].title, "CVE-2024-1");
        assert_eq!(&*r.source.scanner, "CycloneDX");
    }

    #[test]
    fn licenses_normalise() {
        assert_eq!(normalize_license(" (MIT OR Apache-2.0) ").as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(normalize_license("(MIT) AND (BSD-3-Clause)").as_deref(), Some("(MIT) AND (BSD-3-Clause)"));
        assert_eq!(normalize_license("NOASSERTION"), None);
        assert_eq!(normalize_license(""), None);
        assert_eq!(normalize_license("(("), Some("((".to_string()));
    }

    #[test]
    fn upgrade_recommendations() {
        assert_eq!(parse_upgrade("Upgrade jquery to version 3.4.0"), Some(("jquery", "3.4.0")));
        assert_eq!(
            parse_upgrade("Upgrade a:b to version 2.6.7.4, 2.9.10.7, 2.10.5.1 or higher."),
            Some(("a:b", "2.6.7.4, 2.9.10.7, 2.10.5.1"))
        );
        assert_eq!(parse_upgrade("Do something"), None);
    }

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
    fn truncates_long_titles() {
        let long = "word ".repeat(100);
        let t = truncate(&long, 200);
        assert!(t.chars().count() <= 201 && t.ends_with("word…"), "{t}");
        assert_eq!(truncate("short", 200), "short");
    }
}
