//! SARIF 2.1.0 logs (CodeQL, Semgrep, Trivy, Checkov, KICS, Gitleaks, dependency-check, …).
//!
//! One [`Report`] per `runs[]` entry, about one artifact: the repository of
//! `versionControlProvenance[0].repositoryUri`, else the image Trivy names in
//! `run.properties` (`imageName` / `repoTags` / `repoDigests`, as the Trivy JSON parser
//! names it), else `Artifact::Other(origin)` — whoever stored the file may attribute it to
//! an app. `scanned_at` is `invocations[0].endTimeUtc` (else `startTimeUtc`), also used as
//! each finding's `first_seen`. What each finding is built from:
//!
//! * **rule**: `ruleId`, `rule.id`, or `ruleIndex` / `rule.index` (into the driver's rules,
//!   or the extension `rule.toolComponent` names), looked up once per run in a hash map.
//!   Hierarchical ids (`CA1000/sub`) fall back to their parent. Gitleaks 7 writes no rule
//!   reference at all, only `"<rule> secret detected"` as the message: that is matched too.
//! * **kind**: CVE-/GHSA- ids → vulnerability; secret scanners (gitleaks, trufflehog,
//!   detect-secrets, Trivy's `Secret` rules) → secret; IaC / configuration scanners (checkov,
//!   kics, tfsec, terrascan, …, and ids `AVD-`, `CKV_`, `KSV`) → misconfiguration; else SAST.
//! * **severity**, first that applies: a numeric `security-severity` (result or rule
//!   properties; also kept as `cvss`), the rule's `cvssv3_baseScore` / `cvssv4_baseScore`
//!   (dependency-check), a severity word in the result's properties (`severity`,
//!   `issue_severity` of Bandit, `priority` of Fortify), the result's `level`, a severity
//!   word in the rule's properties (`severity`, CodeQL's `problem.severity`), the rule's
//!   `defaultConfiguration.level`, else SARIF's default `warning` (`error` → high,
//!   `warning` → medium, `note` → low, `none` → info; unknown levels are ignored).
//! * **location**: the first `physicalLocation` as `uri:startLine` (a `uri` missing but
//!   `index` given is taken from `run.artifacts`), else the first logical location's
//!   name. `uriBaseId` is not resolved: relative paths are the stable, repository-relative
//!   form and the base (`file:///home/ci/…`) is only the scanning machine's checkout.
//! * **fingerprint**: the first (by key) of `fingerprints`, else of `partialFingerprints`.
//! * Results of `kind` `pass` / `notApplicable` and with `baselineState` `absent` are not
//!   findings. Accepted `suppressions` (e.g. ESLint's in-source disables) become a VEX
//!   `not_affected` statement, suppressions under review `in_triage`.
//!
//! Code snippets (`region.snippet`) and secret matches are never read.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::ingest::{source, timestamp};
use crate::model::{
    Artifact, Finding, FindingKind, Format, ImageRef, Package, PurlParts, Report, Severity, Vex, VexState,
    artifact::normalize_repository, finding::is_cve,
};

/// Longest title kept (characters); longer first lines are cut with `…`.
const MAX_TITLE: usize = 200;

/// True when `v` is a SARIF log: a `runs` array and a 2.x `version` or a SARIF `$schema`.
pub fn detect(v: &Value) -> bool {
    let Some(Value::Array(_)) = v.get("runs") else {
        return false;
    };
    let version = v.get("version").and_then(Value::as_str).unwrap_or("");
    let schema = v.get("$schema").and_then(Value::as_str).unwrap_or("");
    version.starts_with("2.") || schema.to_ascii_lowercase().contains("sarif")
}

/// Parses a SARIF log into one report per run.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, String> {
    let runs = match v.get("runs") {
        Some(Value::Array(runs)) => runs,
        Some(other) => return Err(format!("runs: expected an array, found {}", type_name(other))),
        None => return Err("runs: missing (a SARIF log has a runs array)".into()),
    };
    runs.iter().enumerate().map(|(i, run)| parse_run(origin, run, &format!("runs[{i}]"))).collect()
}

// ---------------------------------------------------------------------------------------
// Helpers shared with the ZAP and PolicyReport parsers.
// ---------------------------------------------------------------------------------------

/// Deserializes `v` into `T`; on failure the message names the offending field
/// (`path.field: invalid type …`). `T`'s fields must all have defaults, which is how the
/// lenient format structs are declared anyway.
pub(crate) fn typed<T: for<'de> Deserialize<'de>>(v: &Value, path: &str) -> Result<T, String> {
    T::deserialize(v).map_err(|e| {
        if let Value::Object(map) = v {
            for (key, value) in map {
                let mut one = Map::new();
                one.insert(key.clone(), value.clone());
                if let Err(inner) = T::deserialize(&Value::Object(one)) {
                    let inner = inner.to_string();
                    if !inner.starts_with("missing field") {
                        return format!("{}: {inner}", join_path(path, key));
                    }
                }
            }
        }
        if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
    })
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// `null` is the default value (scanners write `"rules": null`, `"repoDigests": null`).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A scalar read as text: strings, and numbers or booleans where a scanner (or YAML)
/// writes an identifier unquoted (`pluginid: 10038`, `rule: 5`). Objects and arrays are
/// type errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Text(pub String);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(TextVisitor)
    }
}

/// A non-empty, trimmed string from an optional text field.
pub(crate) fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The first non-empty line of `text`, cut to [`MAX_TITLE`] characters.
pub(crate) fn title_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(match line.char_indices().nth(MAX_TITLE) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line.to_string(),
    })
}

/// A scalar property as text (`"5.3"`, `5.3`, `true`); `None` for objects, arrays, null.
pub(crate) fn prop_str(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A numeric property written as a number or a numeric string.
pub(crate) fn prop_f32(props: &Map<String, Value>, key: &str) -> Option<f32> {
    match props.get(key)? {
        Value::Number(n) => n.as_f64().map(|f| f as f32),
        Value::String(s) => s.trim().parse::<f32>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A severity word (`high`, `MEDIUM`, CodeQL's `recommendation`); `None` when unrecognised.
pub(crate) fn severity_word(text: &str) -> Option<Severity> {
    match Severity::parse(text) {
        Severity::Unknown if text.trim().eq_ignore_ascii_case("recommendation") => Some(Severity::Low),
        Severity::Unknown => None,
        s => Some(s),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// True for identifiers of published vulnerabilities (`CVE-…`, `GHSA-…`).
pub(crate) fn is_vulnerability_id(id: &str) -> bool {
    let id = id.trim();
    is_cve(id) || (id.len() > 5 && id[..5].eq_ignore_ascii_case("ghsa-"))
}

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

// ---------------------------------------------------------------------------------------
// The SARIF object model (only what is used; unknown fields are ignored).
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Run {
    #[serde(deserialize_with = "nullable")]
    tool: Tool,
    #[serde(deserialize_with = "nullable")]
    version_control_provenance: Vec<VersionControl>,
    #[serde(deserialize_with = "nullable")]
    invocations: Vec<Invocation>,
    #[serde(deserialize_with = "nullable")]
    artifacts: Vec<ArtifactEntry>,
    #[serde(deserialize_with = "nullable")]
    properties: Map<String, Value>,
    // `results` is read element by element (see `parse_run`), not cloned here.
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tool {
    #[serde(deserialize_with = "nullable")]
    driver: ToolComponent,
    #[serde(deserialize_with = "nullable")]
    extensions: Vec<ToolComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ToolComponent {
    name: Option<String>,
    version: Option<Text>,
    semantic_version: Option<Text>,
    #[serde(deserialize_with = "nullable")]
    rules: Vec<Rule>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Rule {
    id: Option<Text>,
    name: Option<String>,
    short_description: Option<Message>,
    help_uri: Option<String>,
    default_configuration: Option<Configuration>,
    #[serde(deserialize_with = "nullable")]
    properties: Map<String, Value>,
    #[serde(deserialize_with = "nullable")]
    message_strings: BTreeMap<String, Message>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Configuration {
    level: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message {
    text: Option<String>,
    id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    arguments: Vec<Text>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct VersionControl {
    repository_uri: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Invocation {
    start_time_utc: Option<String>,
    end_time_utc: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtifactEntry {
    location: Option<ArtifactLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtifactLocation {
    uri: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<Text>,
    rule_index: Option<i64>,
    rule: Option<RuleReference>,
    kind: Option<String>,
    level: Option<String>,
    #[serde(deserialize_with = "nullable")]
    message: Message,
    #[serde(deserialize_with = "nullable")]
    locations: Vec<Location>,
    #[serde(deserialize_with = "nullable")]
    fingerprints: BTreeMap<String, Text>,
    #[serde(deserialize_with = "nullable")]
    partial_fingerprints: BTreeMap<String, Text>,
    #[serde(deserialize_with = "nullable")]
    properties: Map<String, Value>,
    #[serde(deserialize_with = "nullable")]
    suppressions: Vec<Suppression>,
    baseline_state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RuleReference {
    id: Option<Text>,
    index: Option<i64>,
    tool_component: Option<ToolComponentReference>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToolComponentReference {
    name: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
    #[serde(deserialize_with = "nullable")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Region {
    start_line: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LogicalLocation {
    name: Option<String>,
    fully_qualified_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Suppression {
    kind: Option<String>,
    status: Option<String>,
    justification: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------------------

/// The rules of a run's tool components, indexed by id.
struct Rules<'a> {
    driver: &'a [Rule],
    driver_name: &'a str,
    extensions: &'a [ToolComponent],
    by_id: HashMap<&'a str, &'a Rule>,
}

impl<'a> Rules<'a> {
    fn new(tool: &'a Tool) -> Rules<'a> {
        let mut by_id = HashMap::new();
        let all = tool.driver.rules.iter().chain(tool.extensions.iter().flat_map(|e| e.rules.iter()));
        for rule in all {
            if let Some(id) = non_empty(rule.id.as_deref()) {
                by_id.entry(id).or_insert(rule);
            }
        }
        Rules {
            driver: &tool.driver.rules,
            driver_name: tool.driver.name.as_deref().unwrap_or(""),
            extensions: &tool.extensions,
            by_id,
        }
    }

    /// The rule a result refers to, by index (checked against the id when both are given)
    /// or by id.
    fn find(&self, result: &SarifResult, id: Option<&str>) -> Option<&'a Rule> {
        let reference = result.rule.as_ref();
        let index = result.rule_index.or_else(|| reference.and_then(|r| r.index));
        if let Some(index) = index.and_then(|i| usize::try_from(i).ok()) {
            let component = match reference.and_then(|r| r.tool_component.as_ref()) {
                None => Some(self.driver),
                Some(tc) => match (tc.index.and_then(|i| usize::try_from(i).ok()), tc.name.as_deref()) {
                    (Some(i), _) => self.extensions.get(i).map(|e| e.rules.as_slice()),
                    (None, Some(name)) if name == self.driver_name => Some(self.driver),
                    (None, Some(name)) => {
                        self.extensions.iter().find(|e| e.name.as_deref() == Some(name)).map(|e| e.rules.as_slice())
                    }
                    (None, None) => Some(self.driver),
                },
            };
            if let Some(rule) = component.and_then(|rules| rules.get(index))
                && (id.is_none() || rule.id.as_deref() == id)
            {
                return Some(rule);
            }
        }
        let mut id = id?;
        loop {
            if let Some(rule) = self.by_id.get(id) {
                return Some(rule);
            }
            // Hierarchical rule ids (`CA1000/sub`) are reported against their parent.
            id = id.rsplit_once('/')?.0;
        }
    }
}

fn parse_run(origin: &str, run_value: &Value, path: &str) -> Result<Report, String> {
    let run: Run = typed(run_value, path)?;
    let results: &[Value] = match run_value.get("results") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(r)) => r,
        Some(other) => return Err(format!("{path}.results: expected an array, found {}", type_name(other))),
    };

    let driver = &run.tool.driver;
    let tool_name = non_empty(driver.name.as_deref()).unwrap_or("SARIF");
    let version = non_empty(driver.semantic_version.as_deref()).or(non_empty(driver.version.as_deref()));
    let scanner = match version {
        Some(v) => format!("{tool_name} {v}"),
        None => tool_name.to_string(),
    };
    let src = source(Format::Sarif, &scanner, origin);
    let artifact = run_artifact(&run, origin);
    let mut report = Report::new(src.clone());
    report.scanned = vec![artifact.clone()];
    report.scanned_at = run.invocations.first().and_then(|inv| {
        [inv.end_time_utc.as_deref(), inv.start_time_utc.as_deref()].into_iter().flatten().find_map(timestamp::parse)
    });

    let rules = Rules::new(&run.tool);
    let tool = ToolKind::of(tool_name);
    for (j, value) in results.iter().enumerate() {
        let result: SarifResult = typed(value, &format!("{path}.results[{j}]"))?;
        if let Some(mut finding) = finding(&result, &run, &rules, tool, &artifact, &src) {
            finding.first_seen = report.scanned_at;
            report.findings.push(finding);
        }
    }
    Ok(report)
}

/// The scanned artifact: the repository of `versionControlProvenance`, the image Trivy
/// names in the run's properties, else the file the log was read from.
fn run_artifact(run: &Run, origin: &str) -> Artifact {
    if let Some(repo) = run.version_control_provenance.iter().find_map(|v| non_empty(v.repository_uri.as_deref())) {
        return Artifact::Repository(Arc::from(normalize_repository(repo)));
    }
    if let Some(image) = trivy_image(&run.properties) {
        return Artifact::Image(image);
    }
    Artifact::Other(Arc::from(origin))
}

/// Trivy writes `imageName`, `repoTags` and `repoDigests` into `run.properties` for image
/// scans: the image is the name as given (unless it is an archive path such as
/// `alpine.tar.gz`), else the first tag, with the digest of the same repository — as the
/// Trivy JSON parser names it, so both formats of one scan meet on one artifact.
fn trivy_image(props: &Map<String, Value>) -> Option<ImageRef> {
    let list = |key: &str| -> Vec<String> {
        props
            .get(key)
            .and_then(Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
    };
    let image_name = prop_str(props, "imageName")?;
    let is_path = |n: &str| {
        let lower = n.to_ascii_lowercase();
        n.starts_with('/')
            || n.starts_with("./")
            || n.starts_with("../")
            || n.contains('\\')
            || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".oci"].iter().any(|ext| lower.ends_with(ext))
    };
    let named = Some(image_name)
        .filter(|n| !is_path(n))
        .into_iter()
        .chain(list("repoTags"))
        .find_map(|n| ImageRef::parse(&n).ok());
    let digests: Vec<ImageRef> = list("repoDigests").iter().filter_map(|d| ImageRef::parse(d).ok()).collect();
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

/// What a tool reports, when its name says so.
#[derive(Copy, Clone, PartialEq, Eq)]
enum ToolKind {
    Secrets,
    Configuration,
    Trivy,
    Other,
}

impl ToolKind {
    fn of(tool_name: &str) -> ToolKind {
        let name = tool_name.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        if has(&["gitleaks", "trufflehog", "detect-secrets", "detect_secrets", "ggshield", "secretlint", "talisman"]) {
            ToolKind::Secrets
        } else if name.contains("trivy") {
            ToolKind::Trivy
        } else if has(&[
            "checkov",
            "kics",
            "tfsec",
            "terrascan",
            "kube-score",
            "kubesec",
            "kube-linter",
            "kubelinter",
            "polaris",
            "cfn-lint",
            "cfn_nag",
            "hadolint",
            "tflint",
        ]) {
            ToolKind::Configuration
        } else {
            ToolKind::Other
        }
    }
}

fn finding_kind(tool: ToolKind, id: &str, rule: Option<&Rule>) -> FindingKind {
    if is_vulnerability_id(id) {
        return FindingKind::Vulnerability;
    }
    let upper = id.to_ascii_uppercase();
    let config_id = upper.starts_with("AVD-")
        || upper.starts_with("CKV_")
        || upper.starts_with("CKV2_")
        || (upper.starts_with("KSV") && upper[3..].starts_with(|c: char| c.is_ascii_digit() || c == '-'));
    match tool {
        ToolKind::Secrets => FindingKind::Secret,
        ToolKind::Configuration => FindingKind::Misconfiguration,
        // Trivy names each rule by result class: `OsPackageVulnerability`,
        // `LanguageSpecificPackageVulnerability`, `Misconfiguration`, `Secret`, `License`.
        ToolKind::Trivy => match rule.and_then(|r| r.name.as_deref()) {
            Some("Secret") => FindingKind::Secret,
            Some(n) if n.ends_with("Vulnerability") => FindingKind::Vulnerability,
            Some("Misconfiguration") => FindingKind::Misconfiguration,
            _ if config_id => FindingKind::Misconfiguration,
            _ => FindingKind::Sast,
        },
        ToolKind::Other if config_id => FindingKind::Misconfiguration,
        ToolKind::Other => FindingKind::Sast,
    }
}

fn level_severity(level: Option<&str>) -> Option<Severity> {
    match level?.trim().to_ascii_lowercase().as_str() {
        "error" => Some(Severity::High),
        "warning" => Some(Severity::Medium),
        "note" => Some(Severity::Low),
        "none" => Some(Severity::Info),
        _ => None,
    }
}

/// Severity and CVSS score of a result (order documented in the module docs).
fn severity(result: &SarifResult, rule: Option<&Rule>) -> (Severity, Option<f32>) {
    let empty = Map::new();
    let rule_props = rule.map_or(&empty, |r| &r.properties);
    let score = prop_f32(&result.properties, "security-severity").or_else(|| prop_f32(rule_props, "security-severity"));
    if let Some(s) = score.filter(|s| (0.0..=10.0).contains(s)) {
        return (Severity::from_cvss(s), Some(s));
    }
    if let Some(s) = prop_f32(rule_props, "cvssv3_baseScore").filter(|s| (0.0..=10.0).contains(s)) {
        return (Severity::from_cvss(s), Some(s));
    }
    if let Some(s) = prop_f32(rule_props, "cvssv4_baseScore").filter(|s| (0.0..=10.0).contains(s)) {
        // Not a v3 score: it decides the severity but is not kept as `cvss`.
        return (Severity::from_cvss(s), None);
    }
    let word = |props: &Map<String, Value>, keys: &[&str]| {
        keys.iter().find_map(|k| prop_str(props, k).and_then(|t| severity_word(&t)))
    };
    let sev = word(&result.properties, &["severity", "issue_severity", "priority"])
        .or_else(|| level_severity(result.level.as_deref()))
        .or_else(|| word(rule_props, &["severity", "problem.severity"]))
        .or_else(|| level_severity(rule.and_then(|r| r.default_configuration.as_ref()?.level.as_deref())))
        .unwrap_or(Severity::Medium);
    (sev, None)
}

/// `message.text`, or the rule's message string `message.id` with `{0}`… replaced by the
/// arguments (SpotBugs, Contrast).
fn message_text(message: &Message, rule: Option<&Rule>) -> Option<String> {
    if let Some(text) = non_empty(message.text.as_deref()) {
        return Some(text.to_string());
    }
    let template = rule?.message_strings.get(message.id.as_deref()?)?.text.as_deref()?;
    let mut text = template.to_string();
    for (i, arg) in message.arguments.iter().enumerate() {
        text = text.replace(&format!("{{{i}}}"), arg);
    }
    Some(text)
}

fn location(result: &SarifResult, run: &Run) -> Option<String> {
    for loc in &result.locations {
        let Some(phys) = &loc.physical_location else { continue };
        let Some(al) = &phys.artifact_location else { continue };
        let uri = non_empty(al.uri.as_deref()).map(str::to_string).or_else(|| {
            let entry = run.artifacts.get(usize::try_from(al.index?).ok()?)?;
            non_empty(entry.location.as_ref()?.uri.as_deref()).map(str::to_string)
        });
        if let Some(uri) = uri {
            return Some(match phys.region.as_ref().and_then(|r| r.start_line).filter(|l| *l > 0) {
                Some(line) => format!("{uri}:{line}"),
                None => uri,
            });
        }
    }
    result
        .locations
        .iter()
        .flat_map(|l| &l.logical_locations)
        .find_map(|l| non_empty(l.fully_qualified_name.as_deref()).or(non_empty(l.name.as_deref())).map(str::to_string))
}

/// The package of a vulnerability: a package URL among the logical locations
/// (dependency-check), or Trivy's `Package:` / `Installed Version:` / `Fixed Version:`
/// message lines.
fn package(result: &SarifResult, message: Option<&str>) -> Option<Package> {
    let purl = result
        .locations
        .iter()
        .flat_map(|l| &l.logical_locations)
        .filter_map(|l| l.fully_qualified_name.as_deref())
        .find(|n| n.starts_with("pkg:"));
    if let Some(p) = purl.and_then(package_from_purl) {
        return Some(p);
    }
    let (mut name, mut installed, mut fixed) = (None, None, None);
    for line in message?.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Package:") {
            name = non_empty(Some(v));
        } else if let Some(v) = line.strip_prefix("Installed Version:") {
            installed = non_empty(Some(v));
        } else if let Some(v) = line.strip_prefix("Fixed Version:") {
            fixed = non_empty(Some(v));
        }
    }
    Some(Package {
        purl: None,
        name: Arc::from(name?),
        installed_version: installed.map(Arc::from),
        fixed_version: fixed.map(Arc::from),
    })
}

fn vex(result: &SarifResult) -> Option<Vex> {
    let mut under_review = false;
    for s in &result.suppressions {
        let status = s.status.as_deref().unwrap_or("accepted");
        if status.eq_ignore_ascii_case("underReview") {
            under_review = true;
        } else if status.eq_ignore_ascii_case("accepted") {
            let kind = s.kind.as_deref().unwrap_or("external");
            let justification = match non_empty(s.justification.as_deref()) {
                Some(j) => format!("suppressed ({kind}): {j}"),
                None => format!("suppressed ({kind})"),
            };
            return Some(Vex { state: VexState::NotAffected, justification: Some(Arc::from(justification)) });
        }
    }
    under_review.then(|| Vex { state: VexState::InTriage, justification: Some(Arc::from("suppression under review")) })
}

fn finding(
    result: &SarifResult,
    run: &Run,
    rules: &Rules<'_>,
    tool: ToolKind,
    artifact: &Artifact,
    src: &Arc<crate::model::Source>,
) -> Option<Finding> {
    if let Some(kind) = result.kind.as_deref()
        && (kind.eq_ignore_ascii_case("pass") || kind.eq_ignore_ascii_case("notApplicable"))
    {
        return None;
    }
    if result.baseline_state.as_deref().is_some_and(|b| b.eq_ignore_ascii_case("absent")) {
        return None;
    }
    let explicit_id = non_empty(result.rule_id.as_deref()).or_else(|| non_empty(result.rule.as_ref()?.id.as_deref()));
    let mut rule = rules.find(result, explicit_id);
    let raw_message = non_empty(result.message.text.as_deref());
    if rule.is_none() && explicit_id.is_none() {
        // Gitleaks 7 writes no rule reference, only "<rule id> secret detected".
        rule = raw_message.and_then(|m| {
            let m = m.trim();
            rules.by_id.get(m).or_else(|| rules.by_id.get(m.strip_suffix(" secret detected")?)).copied()
        });
    }
    let message = message_text(&result.message, rule);
    let id = explicit_id
        .map(str::to_string)
        .or_else(|| non_empty(rule.and_then(|r| r.id.as_deref())).map(str::to_string))
        .or_else(|| message.as_deref().and_then(title_line))
        .unwrap_or_else(|| "unknown".to_string());

    let kind = finding_kind(tool, &id, rule);
    let (severity, cvss) = severity(result, rule);
    let title = rule
        .and_then(|r| {
            r.short_description.as_ref().and_then(|d| non_empty(d.text.as_deref())).or(non_empty(r.name.as_deref()))
        })
        .and_then(title_line)
        .filter(|t| t != &id || message.is_none())
        .or_else(|| message.as_deref().and_then(title_line))
        .unwrap_or_else(|| id.clone());

    let mut f = Finding::new(kind, &id, severity, &title, artifact.clone(), src.clone());
    f.cvss = cvss;
    f.location = location(result, run).map(Arc::from);
    f.fingerprint = result
        .fingerprints
        .values()
        .chain(result.partial_fingerprints.values())
        .find_map(|v| non_empty(Some(v)))
        .map(Arc::from);
    f.primary_url = rule.and_then(|r| non_empty(r.help_uri.as_deref())).map(Arc::from);
    if kind == FindingKind::Vulnerability {
        f.package = package(result, message.as_deref());
    }
    f.vex = vex(result);
    Some(f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(v: Value) -> Report {
        let mut reports = parse("t.sarif", &v).expect("parses");
        assert_eq!(reports.len(), 1);
        reports.remove(0)
    }

    fn log(tool: Value, results: Value) -> Value {
        json!({"version": "2.1.0", "runs": [{"tool": tool, "results": results}]})
    }

    #[test]
    fn detects_sarif_logs_only() {
        assert!(detect(&json!({"version": "2.1.0", "runs": []})));
        assert!(detect(&json!({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []})));
        assert!(!detect(&json!({"version": "2.1.0"})));
        assert!(!detect(&json!({"runs": {}, "version": "2.1.0"})));
        assert!(!detect(&json!({"SchemaVersion": 2, "Results": []})));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = parse("t", &json!({"version": "2.1.0", "runs": "x"})).unwrap_err();
        assert!(e.starts_with("runs:"), "{e}");
        let e = parse("t", &json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": 3}}}]}))
            .unwrap_err();
        assert!(e.starts_with("runs[0].tool:"), "{e}");
        assert!(e.contains("expected a sequence"), "{e}");
        let e = parse("t", &log(json!({"driver": {"name": "x"}}), json!([{"ruleId": "a", "level": ["error"]}])))
            .unwrap_err();
        assert!(e.starts_with("runs[0].results[0].level:"), "{e}");
        let e = parse("t", &log(json!({"driver": {"name": "x"}}), json!({"a": 1}))).unwrap_err();
        assert!(e.starts_with("runs[0].results:"), "{e}");
        let e = parse("t", &log(json!({"driver": {"name": "x"}}), json!([{"ruleId": "a", "locations": "here"}])))
            .unwrap_err();
        assert!(e.starts_with("runs[0].results[0].locations:"), "{e}");
    }

    #[test]
    fn nulls_and_unknown_levels_fall_back() {
        let r = one(log(
            json!({"driver": {"name": "Tool", "rules": null, "version": 3}}),
            json!([
                {"ruleId": "R1", "level": "catastrophic", "message": {"text": "first\nsecond"}, "locations": null},
                {"ruleId": 7, "level": "none"},
                {"ruleId": "R3", "level": "note", "kind": "pass"},
            ]),
        ));
        assert_eq!(&*r.source.scanner, "Tool 3");
        assert_eq!(r.findings.len(), 2);
        // Unknown level: SARIF's default `warning`.
        assert_eq!(r.findings[0].severity, Severity::Medium);
        assert_eq!(&*r.findings[0].title, "first");
        assert_eq!(r.findings[0].kind, FindingKind::Sast);
        assert_eq!(&*r.findings[1].id, "7");
        assert_eq!(r.findings[1].severity, Severity::Info);
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("t.sarif"))]);
    }

    #[test]
    fn rules_resolve_by_index_id_extension_and_hierarchy() {
        let tool = json!({
            "driver": {"name": "Analyzer", "rules": [
                {"id": "A1", "shortDescription": {"text": "Rule one"}, "defaultConfiguration": {"level": "error"}},
                {"id": "A2", "name": "RuleTwo", "helpUri": "https://x/A2", "properties": {"security-severity": "9.1"}}
            ]},
            "extensions": [{"name": "pack", "rules": [{"id": "E1", "shortDescription": {"text": "Ext rule"}}]}]
        });
        let r = one(log(
            tool,
            json!([
                {"ruleIndex": 0},
                {"ruleId": "A2"},
                {"rule": {"index": 0, "toolComponent": {"index": 0}}},
                {"ruleId": "A1/sub", "message": {"text": "m"}},
            ]),
        ));
        let f = &r.findings;
        assert_eq!((&*f[0].id, &*f[0].title, f[0].severity), ("A1", "Rule one", Severity::High));
        assert_eq!(
            (&*f[1].id, &*f[1].title, f[1].severity, f[1].cvss),
            ("A2", "RuleTwo", Severity::Critical, Some(9.1))
        );
        assert_eq!(f[1].primary_url.as_deref(), Some("https://x/A2"));
        assert_eq!((&*f[2].id, &*f[2].title), ("E1", "Ext rule"));
        assert_eq!((&*f[3].id, &*f[3].title, f[3].severity), ("A1/sub", "Rule one", Severity::High));
    }

    #[test]
    fn repository_artifact_invocation_time_and_suppressions() {
        let v = json!({"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "gitleaks", "semanticVersion": "8.18.0"}},
            "versionControlProvenance": [{"repositoryUri": "https://github.com/Org/App.git"}],
            "invocations": [{"startTimeUtc": "2024-01-02T03:04:05Z"}],
            "results": [{
                "ruleId": "aws-access-token", "message": {"text": "AWS token"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.py"},
                    "region": {"startLine": 4, "snippet": {"text": "AKIA…"}}}}],
                "partialFingerprints": {"zz": "2", "commitSha": "abc"},
                "suppressions": [{"kind": "inSource"}]
            }]
        }]});
        let r = one(v);
        assert_eq!(r.scanned, vec![Artifact::Repository(Arc::from("github.com/org/app"))]);
        assert_eq!(r.scanned_at.unwrap().as_second(), 1704164645);
        let f = &r.findings[0];
        assert_eq!(f.kind, FindingKind::Secret);
        assert_eq!(f.location.as_deref(), Some("src/a.py:4"));
        assert_eq!(f.fingerprint.as_deref(), Some("abc"));
        assert_eq!(f.vex.as_ref().unwrap().state, VexState::NotAffected);
        assert!(!format!("{f:?}").contains("AKIA"));
    }

    #[test]
    fn titles_are_cut_on_char_boundaries() {
        let long = "é".repeat(500);
        let t = title_line(&format!("\n  {long}\nmore")).unwrap();
        assert_eq!(t.chars().count(), MAX_TITLE + 1);
        assert!(t.ends_with('…'));
    }
}
