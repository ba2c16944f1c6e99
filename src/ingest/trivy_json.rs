//! Trivy CLI JSON (`trivy image|fs|repo|sbom --format json`, `SchemaVersion: 2`), the
//! legacy pre-schema output (a top-level array of results) and `trivy k8s --format json`.
//!
//! Field names are Trivy's own (`pkg/types/report.go`, `pkg/k8s/report/report.go`). Quirks
//! handled here:
//! - `ArtifactName` of an image scanned from a tarball (`--input x.tar.gz`) is the file
//!   path; the image name is then in `Metadata.Reference` / `Metadata.RepoTags`.
//! - `Metadata.ImageID` is the *config* digest, not the manifest digest; only
//!   `Metadata.RepoDigests` (`name@sha256:…`) give the digest a runtime pulls by.
//! - Legacy output has no `SchemaVersion`: the file is `[{Target, Type, Vulnerabilities}]`
//!   and the loader hands us one result at a time, recognised by its content.
//! - `trivy k8s` has two shapes: old (`ClusterName` + `Vulnerabilities[]` and
//!   `Misconfigurations[]`, each a list of resources) and new (`ClusterName` +
//!   `Resources[]`, or `Findings[]` with `--report all`); a resource's `Metadata` is an
//!   object in some versions and a list (one per image) in others.
//! - `Secrets[].Match` and `Code` contain the (masked) secret line: never copied.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde_json::Value;

use super::timestamp;
use crate::model::artifact::normalize_repository;
use crate::model::{
    Artifact, Component, Finding, FindingKind, Format, ImageRef, ObjectRef, Package, Report, Severity, Source, Vex,
    VexState,
};

// ---------------------------------------------------------------------------------------
// Lenient typed deserialisation shared with `trivy_operator`.
// ---------------------------------------------------------------------------------------

/// A scalar read as text: strings as they are, numbers and booleans printed (YAML reads an
/// unquoted `tag: 1.16` as a number), `null` as empty. Maps and lists are an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Text(pub String);

impl Text {
    /// The trimmed text, `None` when empty.
    pub(crate) fn get(&self) -> Option<&str> {
        let t = self.0.trim();
        (!t.is_empty()).then_some(t)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Text, E> {
                Ok(Text(s))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Text, E> {
                Ok(Text(b.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A number, also accepted as a numeric string; `null` is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Num(pub Option<f64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Num, E> {
                Ok(Num(Some(n as f64)))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Num, E> {
                Ok(Num(Some(n as f64)))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Num, E> {
                Ok(Num(Some(n)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Num, E> {
                if s.trim().is_empty() {
                    return Ok(Num(None));
                }
                s.trim()
                    .parse::<f64>()
                    .map(|n| Num(Some(n)))
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(s), &self))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Num {
    /// The value when finite.
    pub(crate) fn get(self) -> Option<f64> {
        self.0.filter(|n| n.is_finite())
    }

    /// A line number or count (non-negative integer).
    pub(crate) fn line(self) -> Option<u64> {
        self.get().filter(|n| *n >= 1.0).map(|n| n as u64)
    }
}

/// Deserializes `v` (absent or `null` → default) and, on failure, names the field that is
/// wrong: `path.field: <serde message>`. `T` must be lenient (`#[serde(default)]` on the
/// container) so that each field can be tried on its own to find the culprit.
pub(crate) fn typed<T: DeserializeOwned + Default>(v: Option<&Value>, path: &str) -> Result<T, String> {
    match v {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => T::deserialize(v).map_err(|e| field_error::<T>(v, path, e)),
    }
}

fn field_error<T: DeserializeOwned>(v: &Value, path: &str, e: serde_json::Error) -> String {
    if let Value::Object(map) = v {
        for (k, fv) in map {
            let mut single = serde_json::Map::new();
            single.insert(k.clone(), fv.clone());
            if let Err(fe) = T::deserialize(&Value::Object(single)) {
                return format!("{}: {fe}", join(path, k));
            }
        }
    }
    if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
}

/// `parent.child` (or `child` at the root).
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() { child.to_string() } else { format!("{parent}.{child}") }
}

/// A list of values (absent or `null` → empty).
pub(crate) fn items(list: &Option<Vec<Value>>) -> impl Iterator<Item = (usize, &Value)> {
    list.iter().flatten().enumerate()
}

/// One vendor's CVSS scores (`CVSS.nvd`, `cvss.redhat`, …).
#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object of CVSS scores")]
pub(crate) struct CvssScores {
    #[serde(rename = "V3Score")]
    v3_score: Num,
}

/// The NVD v3 score, else the highest v3 score of any vendor, from a `CVSS` map
/// (`{"nvd": {"V3Score": 9.8}, "redhat": {…}}`) at `path`.
pub(crate) fn best_v3(cvss: &Option<BTreeMap<String, Value>>, path: &str) -> Result<Option<f32>, String> {
    let mut nvd = None;
    let mut max: Option<f64> = None;
    for (vendor, v) in cvss.iter().flatten() {
        let scores: CvssScores = typed(Some(v), &join(path, vendor))?;
        let Some(score) = scores.v3_score.get() else { continue };
        if vendor == "nvd" {
            nvd = Some(score);
        }
        max = Some(max.map_or(score, |m| m.max(score)));
    }
    Ok(nvd.or(max).map(|s| s as f32))
}

/// `Some(text)` for non-empty text.
pub(crate) fn arc(t: &Text) -> Option<Arc<str>> {
    t.get().map(Arc::from)
}

// ---------------------------------------------------------------------------------------
// Recognition.
// ---------------------------------------------------------------------------------------

/// True for a Trivy JSON report, a legacy Trivy result object, or a `trivy k8s` report.
/// Never claims CycloneDX, SPDX, SARIF or Kubernetes objects.
pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    let foreign = ["bomFormat", "spdxVersion", "SPDXID", "runs", "apiVersion", "kind", "@context"];
    if foreign.iter().any(|k| o.contains_key(*k)) {
        return false;
    }
    if o.contains_key("SchemaVersion")
        && ["Results", "ArtifactName", "ArtifactType", "ClusterName", "Resources"].iter().any(|k| o.contains_key(*k))
    {
        return true;
    }
    is_k8s(o) || is_legacy(o)
}

fn is_k8s(o: &serde_json::Map<String, Value>) -> bool {
    const LISTS: [&str; 4] = ["Resources", "Findings", "Vulnerabilities", "Misconfigurations"];
    // An empty report is just `{"ClusterName": …}` (the lists are `omitempty`).
    o.get("ClusterName").is_some_and(Value::is_string)
        && !o.contains_key("Results")
        && LISTS.iter().all(|k| o.get(*k).is_none_or(|x| x.is_array() || x.is_null()))
        && (o.len() == 1 || o.contains_key("SchemaVersion") || LISTS.iter().any(|k| o.contains_key(*k)))
}

/// A legacy (pre-`SchemaVersion`) result: `{"Target": …, "Type": …, "Vulnerabilities": […|null]}`.
fn is_legacy(o: &serde_json::Map<String, Value>) -> bool {
    !o.contains_key("SchemaVersion")
        && o.get("Target").is_some_and(Value::is_string)
        && ["Vulnerabilities", "Misconfigurations", "Secrets"].iter().any(|k| o.contains_key(*k))
}

// ---------------------------------------------------------------------------------------
// Trivy's document types (lenient: every field optional).
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy JSON report object")]
struct Doc {
    #[serde(rename = "ArtifactName")]
    artifact_name: Text,
    #[serde(rename = "ArtifactType")]
    artifact_type: Text,
    #[serde(rename = "CreatedAt")]
    created_at: Text,
    #[serde(rename = "Trivy")]
    trivy: Option<Value>,
    #[serde(rename = "Metadata")]
    metadata: Option<Value>,
    #[serde(rename = "Results")]
    results: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct TrivyInfo {
    #[serde(rename = "Version")]
    version: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Metadata {
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<Text>>,
    #[serde(rename = "RepoDigests")]
    repo_digests: Option<Vec<Text>>,
    #[serde(rename = "ImageID")]
    image_id: Text,
    #[serde(rename = "Reference")]
    reference: Text,
    #[serde(rename = "RepoURL")]
    repo_url: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy result object")]
struct ResultDoc {
    #[serde(rename = "Target")]
    target: Text,
    #[serde(rename = "Class")]
    class: Text,
    #[serde(rename = "Vulnerabilities")]
    vulnerabilities: Option<Vec<Value>>,
    #[serde(rename = "Misconfigurations")]
    misconfigurations: Option<Vec<Value>>,
    #[serde(rename = "Secrets")]
    secrets: Option<Vec<Value>>,
    #[serde(rename = "Packages")]
    packages: Option<Vec<Value>>,
    #[serde(rename = "ExperimentalModifiedFindings")]
    modified: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct PkgIdentifier {
    #[serde(rename = "PURL")]
    purl: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy vulnerability object")]
struct VulnDoc {
    #[serde(rename = "VulnerabilityID")]
    id: Text,
    #[serde(rename = "VendorIDs")]
    vendor_ids: Option<Vec<Text>>,
    #[serde(rename = "PkgName")]
    pkg_name: Text,
    #[serde(rename = "PkgPath")]
    pkg_path: Text,
    #[serde(rename = "PkgIdentifier")]
    pkg_identifier: Option<PkgIdentifier>,
    /// Older Trivy versions: the package URL as `PkgRef`.
    #[serde(rename = "PkgRef")]
    pkg_ref: Text,
    #[serde(rename = "InstalledVersion")]
    installed_version: Text,
    #[serde(rename = "FixedVersion")]
    fixed_version: Text,
    #[serde(rename = "Status")]
    status: Text,
    #[serde(rename = "Severity")]
    severity: Text,
    /// Which vendor's rating `Severity` is; used with `VendorSeverity` when `Severity`
    /// is absent (as in Trivy Operator's plugin fixtures).
    #[serde(rename = "SeveritySource")]
    severity_source: Text,
    /// Vendor ratings on Trivy's scale 0 = unknown … 4 = critical.
    #[serde(rename = "VendorSeverity")]
    vendor_severity: Option<BTreeMap<String, Num>>,
    #[serde(rename = "Title")]
    title: Text,
    #[serde(rename = "PrimaryURL")]
    primary_url: Text,
    #[serde(rename = "PublishedDate")]
    published: Text,
    #[serde(rename = "CVSS")]
    cvss: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct CauseMetadata {
    #[serde(rename = "StartLine")]
    start_line: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy misconfiguration object")]
struct MisconfDoc {
    #[serde(rename = "ID")]
    id: Text,
    #[serde(rename = "AVDID")]
    avd_id: Text,
    /// Rego package, e.g. `builtin.kubernetes.KSV001`: its last part is the short check id.
    #[serde(rename = "Namespace")]
    namespace: Text,
    #[serde(rename = "Title")]
    title: Text,
    #[serde(rename = "Message")]
    message: Text,
    #[serde(rename = "Severity")]
    severity: Text,
    #[serde(rename = "PrimaryURL")]
    primary_url: Text,
    #[serde(rename = "Status")]
    status: Text,
    #[serde(rename = "CauseMetadata")]
    cause: Option<CauseMetadata>,
}

/// A detected secret. `Match` and `Code` are deliberately not read: they hold the secret.
#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy secret object")]
struct SecretDoc {
    #[serde(rename = "RuleID")]
    rule_id: Text,
    #[serde(rename = "Title")]
    title: Text,
    #[serde(rename = "Severity")]
    severity: Text,
    #[serde(rename = "StartLine")]
    start_line: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Trivy package object")]
struct PackageDoc {
    #[serde(rename = "Name")]
    name: Text,
    #[serde(rename = "Version")]
    version: Text,
    #[serde(rename = "Identifier")]
    identifier: Option<PkgIdentifier>,
    #[serde(rename = "Licenses")]
    licenses: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct ModifiedFinding {
    #[serde(rename = "Type")]
    ty: Text,
    #[serde(rename = "Status")]
    status: Text,
    #[serde(rename = "Statement")]
    statement: Text,
    #[serde(rename = "Finding")]
    finding: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a trivy k8s report object")]
struct K8sDoc {
    #[serde(rename = "Resources")]
    resources: Option<Vec<Value>>,
    #[serde(rename = "Findings")]
    findings: Option<Vec<Value>>,
    #[serde(rename = "Vulnerabilities")]
    vulnerabilities: Option<Vec<Value>>,
    #[serde(rename = "Misconfigurations")]
    misconfigurations: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a trivy k8s resource object")]
struct K8sResource {
    #[serde(rename = "Namespace")]
    namespace: Text,
    #[serde(rename = "Kind")]
    kind: Text,
    #[serde(rename = "Name")]
    name: Text,
    /// One image's metadata (older versions) or a list of them (newer).
    #[serde(rename = "Metadata")]
    metadata: Option<Value>,
    #[serde(rename = "Results")]
    results: Option<Vec<Value>>,
}

// ---------------------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------------------

/// Parses one Trivy JSON document (or one legacy result, or one `trivy k8s` report).
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, String> {
    let Some(o) = v.as_object() else {
        return Err("expected a JSON object".into());
    };
    if is_k8s(o) {
        parse_k8s(origin, v)
    } else if is_legacy(o) {
        parse_legacy(origin, v)
    } else {
        parse_report(origin, v).map(|r| vec![r])
    }
}

/// What every finding of one report shares.
struct Ctx {
    source: Arc<Source>,
    first_seen: Option<Timestamp>,
}

/// Findings and components of one report, accumulated result by result.
#[derive(Default)]
struct Acc {
    findings: Vec<Finding>,
    components: Option<Vec<Component>>,
    seen_components: HashSet<Component>,
}

impl Acc {
    fn add_component(&mut self, c: Component) {
        let list = self.components.get_or_insert_with(Vec::new);
        if self.seen_components.insert(c.clone()) {
            list.push(c);
        }
    }
}

fn scanner_name(trivy: Option<&Value>, path: &str) -> Result<String, String> {
    let info: TrivyInfo = typed(trivy, path)?;
    Ok(match info.version.get() {
        Some(v) => format!("Trivy {v}"),
        None => "Trivy".to_string(),
    })
}

fn parse_report(origin: &str, v: &Value) -> Result<Report, String> {
    let doc: Doc = typed(Some(v), "")?;
    let scanner = scanner_name(doc.trivy.as_ref(), "Trivy")?;
    let meta: Metadata = typed(doc.metadata.as_ref(), "Metadata")?;
    let source = super::source(Format::TrivyJson, &scanner, origin);
    let scanned_at = doc.created_at.get().and_then(timestamp::parse);
    let artifact = report_artifact(&doc, &meta);
    let ctx = Ctx { source: source.clone(), first_seen: scanned_at };
    let mut acc = Acc::default();
    for (i, r) in items(&doc.results) {
        let path = format!("Results[{i}]");
        let result: ResultDoc = typed(Some(r), &path)?;
        add_result(&ctx, &result, &path, &artifact, &mut acc)?;
    }
    let mut report = Report::new(source);
    report.scanned = vec![artifact];
    report.scanned_at = scanned_at;
    report.findings = acc.findings;
    report.components = acc.components;
    Ok(report)
}

/// The scanned artifact of a whole-document report.
fn report_artifact(doc: &Doc, meta: &Metadata) -> Artifact {
    let ty = doc.artifact_type.get().unwrap_or("");
    let name = doc.artifact_name.get();
    let has_image_meta = meta.image_id.get().is_some()
        || meta.repo_tags.as_ref().is_some_and(|t| !t.is_empty())
        || meta.repo_digests.as_ref().is_some_and(|d| !d.is_empty());
    if ty == "container_image" || (ty.is_empty() && has_image_meta) {
        if let Some(img) = image_from_metadata(name, meta) {
            return Artifact::Image(img);
        }
    }
    if let Some(url) = meta.repo_url.get() {
        return Artifact::Repository(Arc::from(normalize_repository(url)));
    }
    match name {
        Some(n) if ty == "repository" && is_remote_repository(n) => {
            Artifact::Repository(Arc::from(normalize_repository(n)))
        }
        Some(n) => Artifact::Other(Arc::from(n)),
        None => Artifact::Other(Arc::from("unknown")),
    }
}

/// `https://…`, `git@host:org/repo`, or `host.tld/org/repo`: a repository Trivy cloned.
fn is_remote_repository(name: &str) -> bool {
    if name.contains("://") || name.starts_with("git@") {
        return true;
    }
    if name.starts_with('.') || name.starts_with('/') || name.contains('\\') {
        return false;
    }
    let first = name.split('/').next().unwrap_or("");
    first.contains('.') && name.split('/').filter(|s| !s.is_empty()).count() >= 3
}

/// True for an `ArtifactName` that is a file (`--input image.tar`), not an image name.
fn looks_like_path(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('/')
        || name.starts_with("./")
        || name.starts_with("../")
        || name.contains('\\')
        || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci"].iter().any(|ext| lower.ends_with(ext))
}

/// Builds the image from the scanned name and `Metadata`: the name as the user gave it
/// (else `Metadata.Reference`, else the first `RepoTags` entry), with the manifest digest
/// from the `RepoDigests` entry of the same repository.
fn image_from_metadata(artifact_name: Option<&str>, meta: &Metadata) -> Option<ImageRef> {
    let tags = meta.repo_tags.iter().flatten().filter_map(Text::get);
    let named = artifact_name
        .filter(|n| !looks_like_path(n))
        .into_iter()
        .chain(meta.reference.get())
        .chain(tags)
        .find_map(|n| ImageRef::parse(n).ok());
    let digests: Vec<ImageRef> =
        meta.repo_digests.iter().flatten().filter_map(Text::get).filter_map(|d| ImageRef::parse(d).ok()).collect();
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

/// The image named by an OS result's target, `name (family version)`.
fn image_from_target(target: &str) -> Option<ImageRef> {
    let (name, rest) = target.split_once(" (")?;
    if !rest.ends_with(')') || looks_like_path(name) {
        return None;
    }
    ImageRef::parse(name).ok()
}

/// Adds the findings and packages of one result.
fn add_result(ctx: &Ctx, r: &ResultDoc, path: &str, artifact: &Artifact, acc: &mut Acc) -> Result<(), String> {
    let target = r.target.get();
    for (i, v) in items(&r.vulnerabilities) {
        let p = format!("{path}.Vulnerabilities[{i}]");
        let doc: VulnDoc = typed(Some(v), &p)?;
        acc.findings.push(vuln_finding(ctx, &doc, &p, artifact, target, None)?);
    }
    for (i, m) in items(&r.modified) {
        let p = format!("{path}.ExperimentalModifiedFindings[{i}]");
        let doc: ModifiedFinding = typed(Some(m), &p)?;
        // Only vulnerabilities suppressed by a VEX statement; `.trivyignore` ("ignored")
        // suppressions are the user's, not a supplier statement, and stay hidden.
        let Some(state) = doc.status.get().and_then(VexState::parse) else { continue };
        if !doc.ty.get().is_some_and(|t| t.eq_ignore_ascii_case("vulnerability")) {
            continue;
        }
        let fp = join(&p, "Finding");
        let vd: VulnDoc = typed(doc.finding.as_ref(), &fp)?;
        let vex = Vex { state, justification: arc(&doc.statement) };
        acc.findings.push(vuln_finding(ctx, &vd, &fp, artifact, target, Some(vex))?);
    }
    for (i, m) in items(&r.misconfigurations) {
        let p = format!("{path}.Misconfigurations[{i}]");
        let doc: MisconfDoc = typed(Some(m), &p)?;
        if let Some(f) = misconf_finding(ctx, &doc, &p, artifact, target, false)? {
            acc.findings.push(f);
        }
    }
    for (i, s) in items(&r.secrets) {
        let p = format!("{path}.Secrets[{i}]");
        let doc: SecretDoc = typed(Some(s), &p)?;
        acc.findings.push(secret_finding(ctx, &doc, &p, artifact, target)?);
    }
    if r.packages.is_some() {
        acc.components.get_or_insert_with(Vec::new);
    }
    for (i, pkg) in items(&r.packages) {
        let p = format!("{path}.Packages[{i}]");
        let doc: PackageDoc = typed(Some(pkg), &p)?;
        let Some(name) = doc.name.get() else { continue };
        acc.add_component(Component {
            name: Arc::from(name),
            version: arc(&doc.version),
            purl: doc.identifier.as_ref().and_then(|i| arc(&i.purl)),
            licenses: doc.licenses.iter().flatten().filter_map(arc).collect(),
        });
    }
    Ok(())
}

fn vuln_finding(
    ctx: &Ctx,
    v: &VulnDoc,
    path: &str,
    artifact: &Artifact,
    target: Option<&str>,
    vex: Option<Vex>,
) -> Result<Finding, String> {
    let id = v.id.get().ok_or_else(|| format!("{}: missing", join(path, "VulnerabilityID")))?;
    let title = v.title.get().unwrap_or(id);
    let mut f =
        Finding::new(FindingKind::Vulnerability, id, vuln_severity(v), title, artifact.clone(), ctx.source.clone());
    for alias in v.vendor_ids.iter().flatten().filter_map(Text::get) {
        f.add_alias(alias);
    }
    f.prefer_cve_id();
    f.cvss = best_v3(&v.cvss, &join(path, "CVSS"))?;
    let purl = v
        .pkg_identifier
        .as_ref()
        .and_then(|i| arc(&i.purl))
        .or_else(|| v.pkg_ref.get().filter(|r| r.starts_with("pkg:")).map(Arc::from));
    if let Some(name) = v.pkg_name.get() {
        f.package = Some(Package {
            purl,
            name: Arc::from(name),
            installed_version: arc(&v.installed_version),
            fixed_version: arc(&v.fixed_version),
        });
    }
    f.location = v.pkg_path.get().or(target).map(Arc::from);
    f.primary_url = arc(&v.primary_url);
    f.published = v.published.get().and_then(timestamp::parse);
    f.first_seen = ctx.first_seen;
    f.vex = vex.or_else(|| match v.status.get().and_then(VexState::parse) {
        Some(VexState::NotAffected) => Some(Vex { state: VexState::NotAffected, justification: None }),
        _ => None,
    });
    Ok(f)
}

/// `Severity`, else the `SeveritySource` vendor's rating in `VendorSeverity`.
fn vuln_severity(v: &VulnDoc) -> Severity {
    if let Some(s) = v.severity.get() {
        return Severity::parse(s);
    }
    let rating = v.severity_source.get().and_then(|src| v.vendor_severity.as_ref()?.get(src)?.get());
    match rating.map(|r| r.round() as i64) {
        Some(1) => Severity::Low,
        Some(2) => Severity::Medium,
        Some(3) => Severity::High,
        Some(4) => Severity::Critical,
        _ => Severity::Unknown,
    }
}

/// A misconfiguration finding for a `FAIL` check (`None` for passes and exceptions).
/// `message_location` uses the check's message as location (objects scanned by
/// `trivy k8s`, whose line numbers are in a temporary file), like Trivy Operator does.
fn misconf_finding(
    ctx: &Ctx,
    m: &MisconfDoc,
    path: &str,
    artifact: &Artifact,
    target: Option<&str>,
    message_location: bool,
) -> Result<Option<Finding>, String> {
    if m.status.get().is_some_and(|s| !s.eq_ignore_ascii_case("FAIL")) {
        return Ok(None);
    }
    let id = m.id.get().or(m.avd_id.get()).ok_or_else(|| format!("{}: missing", join(path, "ID")))?;
    let mut f = Finding::new(
        FindingKind::Misconfiguration,
        id,
        Severity::parse(m.severity.get().unwrap_or("")),
        m.title.get().unwrap_or(id),
        artifact.clone(),
        ctx.source.clone(),
    );
    if let Some(avd) = m.avd_id.get() {
        f.add_alias(avd);
    }
    // `builtin.kubernetes.KSV001` → `KSV001`, the id Trivy Operator reports use.
    if let Some(short) = m.namespace.get().and_then(|n| n.rsplit('.').next())
        && short.starts_with(|c: char| c.is_ascii_uppercase())
        && short.bytes().any(|b| b.is_ascii_digit())
    {
        f.add_alias(short);
    }
    let line = m.cause.as_ref().and_then(|c| c.start_line.line());
    f.location = if message_location {
        m.message.get().map(Arc::from)
    } else {
        match (target, line) {
            (Some(t), Some(l)) => Some(Arc::from(format!("{t}:{l}"))),
            (Some(t), None) => Some(Arc::from(t)),
            (None, _) => None,
        }
    };
    f.primary_url = arc(&m.primary_url);
    f.first_seen = ctx.first_seen;
    Ok(Some(f))
}

fn secret_finding(
    ctx: &Ctx,
    s: &SecretDoc,
    path: &str,
    artifact: &Artifact,
    target: Option<&str>,
) -> Result<Finding, String> {
    let id = s.rule_id.get().ok_or_else(|| format!("{}: missing", join(path, "RuleID")))?;
    let mut f = Finding::new(
        FindingKind::Secret,
        id,
        Severity::parse(s.severity.get().unwrap_or("")),
        s.title.get().unwrap_or(id),
        artifact.clone(),
        ctx.source.clone(),
    );
    f.location = match (target, s.start_line.line()) {
        (Some(t), Some(l)) => Some(Arc::from(format!("{t}:{l}"))),
        (Some(t), None) => Some(Arc::from(t)),
        (None, _) => None,
    };
    f.first_seen = ctx.first_seen;
    Ok(f)
}

/// One legacy result (`[{Target, Type, Vulnerabilities}]` before `SchemaVersion` existed).
/// An OS result's target names the image (`debian (debian 10.8)`); others are paths.
fn parse_legacy(origin: &str, v: &Value) -> Result<Vec<Report>, String> {
    let result: ResultDoc = typed(Some(v), "")?;
    let target = result.target.get().unwrap_or("unknown");
    let artifact = image_from_target(target).map_or_else(|| Artifact::Other(Arc::from(target)), Artifact::Image);
    let source = super::source(Format::TrivyJson, "Trivy", origin);
    let ctx = Ctx { source: source.clone(), first_seen: None };
    let mut acc = Acc::default();
    add_result(&ctx, &result, "", &artifact, &mut acc)?;
    let mut report = Report::new(source);
    report.scanned = vec![artifact];
    report.findings = acc.findings;
    report.components = acc.components;
    Ok(vec![report])
}

/// `trivy k8s` output: one report per Kubernetes resource, attributed to it as workload.
/// Misconfigurations are findings of the object; vulnerabilities and secrets of the image
/// an OS result's target names (later language results of the same image follow it), or
/// of the resource's only image when `Metadata` lists one.
fn parse_k8s(origin: &str, v: &Value) -> Result<Vec<Report>, String> {
    let doc: K8sDoc = typed(Some(v), "")?;
    // The old shape lists a resource once under `Vulnerabilities` and again under
    // `Misconfigurations`: merge them by (kind, namespace, name), keeping first-seen order.
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut by_key: BTreeMap<(String, String, String), Vec<(String, K8sResource)>> = BTreeMap::new();
    let lists = [
        ("Resources", &doc.resources),
        ("Findings", &doc.findings),
        ("Vulnerabilities", &doc.vulnerabilities),
        ("Misconfigurations", &doc.misconfigurations),
    ];
    for (list_name, list) in lists {
        for (i, r) in items(list) {
            let path = format!("{list_name}[{i}]");
            let res: K8sResource = typed(Some(r), &path)?;
            let key = (
                res.kind.get().unwrap_or("").to_string(),
                res.namespace.get().unwrap_or("").to_string(),
                res.name.get().unwrap_or("").to_string(),
            );
            if !by_key.contains_key(&key) {
                order.push(key.clone());
            }
            by_key.entry(key).or_default().push((path, res));
        }
    }
    let mut reports = Vec::new();
    for key in order {
        let Some(parts) = by_key.remove(&key) else { continue };
        let (kind, ns, name) = &key;
        let object = (!kind.is_empty() && !name.is_empty()).then(|| ObjectRef::new(kind, Some(ns), name));
        let source = super::workload_source(Format::TrivyJson, "Trivy", origin, object.clone(), None);
        let object_artifact = object.map_or_else(|| Artifact::Other(Arc::from("unknown")), Artifact::Object);
        let ctx = Ctx { source: source.clone(), first_seen: None };
        let mut acc = Acc::default();
        let mut scanned: Vec<Artifact> = Vec::new();
        let mut mark = |a: &Artifact| {
            if !scanned.contains(a) {
                scanned.push(a.clone());
            }
        };
        for (path, res) in &parts {
            let images = k8s_images(res.metadata.as_ref(), &join(path, "Metadata"))?;
            let only_image = if images.len() == 1 { images.first().cloned() } else { None };
            let mut current: Option<ImageRef> = None;
            for (i, r) in items(&res.results) {
                let rpath = format!("{path}.Results[{i}]");
                let result: ResultDoc = typed(Some(r), &rpath)?;
                let has = |l: &Option<Vec<Value>>| l.as_ref().is_some_and(|l| !l.is_empty());
                let is_config = result.class.get() == Some("config") || has(&result.misconfigurations);
                if is_config {
                    mark(&object_artifact);
                }
                if let Some(img) = result.target.get().and_then(image_from_target) {
                    // Take the digest from the resource's metadata for the same repository.
                    let digest = images
                        .iter()
                        .find(|m| m.registry == img.registry && m.repository == img.repository)
                        .and_then(|m| m.digest.clone());
                    current = Some(ImageRef { digest: img.digest.clone().or(digest), ..img });
                }
                let image_artifact = current
                    .clone()
                    .or_else(|| only_image.clone())
                    .map_or_else(|| object_artifact.clone(), Artifact::Image);
                if !is_config || has(&result.vulnerabilities) || has(&result.secrets) {
                    mark(&image_artifact);
                }
                add_k8s_result(&ctx, &result, &rpath, &object_artifact, &image_artifact, &mut acc)?;
            }
        }
        let mut report = Report::new(source);
        report.scanned = scanned;
        report.findings = acc.findings;
        report.components = acc.components;
        reports.push(report);
    }
    Ok(reports)
}

/// Like [`add_result`], with misconfigurations attributed to the object and located by
/// their message (like Trivy Operator's reports; the line numbers Trivy gives are in a
/// temporary file), everything else to the image.
fn add_k8s_result(
    ctx: &Ctx,
    r: &ResultDoc,
    path: &str,
    object: &Artifact,
    image: &Artifact,
    acc: &mut Acc,
) -> Result<(), String> {
    let target = r.target.get();
    for (i, m) in items(&r.misconfigurations) {
        let p = format!("{path}.Misconfigurations[{i}]");
        let doc: MisconfDoc = typed(Some(m), &p)?;
        if let Some(f) = misconf_finding(ctx, &doc, &p, object, target, true)? {
            acc.findings.push(f);
        }
    }
    let rest = ResultDoc {
        target: r.target.clone(),
        vulnerabilities: r.vulnerabilities.clone(),
        secrets: r.secrets.clone(),
        packages: r.packages.clone(),
        modified: r.modified.clone(),
        ..ResultDoc::default()
    };
    add_result(ctx, &rest, path, image, acc)
}

/// The images a `trivy k8s` resource's `Metadata` (one object or a list) describes.
fn k8s_images(meta: Option<&Value>, path: &str) -> Result<Vec<ImageRef>, String> {
    let metas: Vec<Metadata> = match meta {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => {
            list.iter().enumerate().map(|(i, m)| typed(Some(m), &format!("{path}[{i}]"))).collect::<Result<_, _>>()?
        }
        Some(m) => vec![typed(Some(m), path)?],
    };
    Ok(metas.iter().filter_map(|m| image_from_metadata(None, m)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(v: Value) -> Report {
        assert!(detect(&v), "not detected: {v}");
        let mut r = parse("t.json", &v).unwrap();
        assert_eq!(r.len(), 1);
        r.pop().unwrap()
    }

    #[test]
    fn minimal_report_and_missing_optional_fields() {
        let r = one(json!({"SchemaVersion": 2, "ArtifactName": "nginx:1.25", "ArtifactType": "container_image",
            "Results": [{"Target": "nginx:1.25 (debian 12.1)", "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2023-1", "PkgName": "zlib", "Severity": "HIGH"},
                {"VulnerabilityID": "GHSA-xxxx-yyyy-zzzz", "VendorIDs": ["CVE-2023-20002"], "PkgName": "x", "FixedVersion": ""}
            ]}, {"Target": "x", "Vulnerabilities": null}]}));
        assert_eq!(&*r.source.scanner, "Trivy");
        assert_eq!(r.scanned, vec![Artifact::Image(ImageRef::parse("nginx:1.25").unwrap())]);
        assert!(r.scanned_at.is_none());
        assert_eq!(r.findings.len(), 2);
        assert_eq!(&*r.findings[0].title, "CVE-2023-1", "title falls back to the id");
        assert_eq!(r.findings[0].severity, Severity::High);
        assert_eq!(&*r.findings[1].id, "CVE-2023-20002", "a CVE alias becomes the id");
        assert_eq!(r.findings[1].aliases, vec![Arc::<str>::from("GHSA-xxxx-yyyy-zzzz")]);
        assert_eq!(r.findings[1].package.as_ref().unwrap().fixed_version, None);
        assert!(r.components.is_none());
    }

    #[test]
    fn wrong_field_types_name_the_field() {
        let bad_score = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
            "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "CVSS": {"nvd": {"V3Score": "high"}}}]}]});
        let e = parse("t", &bad_score).unwrap_err();
        assert!(e.starts_with("Results[0].Vulnerabilities[0].CVSS.nvd.V3Score:"), "{e}");
        let bad_list = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": {"Target": "t"}});
        let e = parse("t", &bad_list).unwrap_err();
        assert!(e.starts_with("Results:"), "{e}");
        let bad_tags = json!({"SchemaVersion": 2, "ArtifactName": "x", "Metadata": {"RepoTags": "alpine"}});
        let e = parse("t", &bad_tags).unwrap_err();
        assert!(e.starts_with("Metadata.RepoTags:"), "{e}");
        let bad_pkg = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
            "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": {"a": 1}}]}]});
        let e = parse("t", &bad_pkg).unwrap_err();
        assert!(e.starts_with("Results[0].Vulnerabilities[0].PkgName:"), "{e}");
        let no_id = json!({"SchemaVersion": 2, "Results": [{"Target": "t", "Secrets": [{"Title": "x"}]}]});
        let e = parse("t", &no_id).unwrap_err();
        assert_eq!(e, "Results[0].Secrets[0].RuleID: missing");
        let not_object = json!({"SchemaVersion": 2, "ArtifactName": "x", "Trivy": "0.50"});
        let e = parse("t", &not_object).unwrap_err();
        assert!(e.starts_with("Trivy:"), "{e}");
    }

    #[test]
    fn numbers_where_text_is_expected_are_accepted() {
        let r = one(json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
            "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "InstalledVersion": 2, "CVSS": {"ghsa": {"V3Score": "7.5"}, "redhat": {"V3Score": 8.1}}}]}]}));
        let f = &r.findings[0];
        assert_eq!(f.package.as_ref().unwrap().installed_version.as_deref(), Some("2"));
        assert_eq!(f.cvss, Some(8.1), "no NVD score: the highest");
    }

    #[test]
    fn detect_leaves_other_formats_alone() {
        assert!(!detect(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []})));
        assert!(!detect(&json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"})));
        assert!(!detect(&json!({"version": "2.1.0", "runs": []})));
        assert!(!detect(&json!({"apiVersion": "v1", "kind": "ConfigMap"})));
        assert!(!detect(&json!({"Target": "x"})));
        assert!(detect(&json!({"Target": "debian (debian 10.8)", "Type": "debian", "Vulnerabilities": null})));
        assert!(detect(&json!({"ClusterName": "c", "Resources": []})));
        assert!(detect(&json!({"ClusterName": "c"})));
        assert!(!detect(&json!({"ClusterName": "c", "Resources": "x"})));
        assert!(!detect(&json!({"ClusterName": "c", "other": 1})));
    }

    #[test]
    fn image_names_from_metadata() {
        let meta = Metadata {
            repo_tags: Some(vec![Text("alpine:3.10.2".into())]),
            repo_digests: Some(vec![Text(
                "alpine@sha256:72c42ed48c3a2db31b7dafe17d275b634664a708d901ec9fd57b1529280f01fb".into(),
            )]),
            ..Metadata::default()
        };
        let img = image_from_metadata(Some("images/alpine.tar"), &meta).unwrap();
        assert_eq!(
            img.to_string(),
            "docker.io/library/alpine:3.10.2@sha256:72c42ed48c3a2db31b7dafe17d275b634664a708d901ec9fd57b1529280f01fb"
        );
        // A digest of another repository is not this image's.
        let other = image_from_metadata(Some("ghcr.io/org/app:1"), &meta).unwrap();
        assert_eq!(other.digest, None);
        assert_eq!(
            image_from_target("docker.io/redis:6.0.5 (debian 10.4)").unwrap().to_string(),
            "docker.io/library/redis:6.0.5"
        );
        assert!(image_from_target("package-lock.json").is_none());
        assert!(is_remote_repository("https://github.com/org/repo"));
        assert!(is_remote_repository("github.com/org/repo"));
        assert!(!is_remote_repository("testdata/fixtures/repo/npm"));
    }
}
