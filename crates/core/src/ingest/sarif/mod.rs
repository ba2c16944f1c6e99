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

mod classify;
mod finding;
mod model;
mod rules;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::{Map, Value};

use self::classify::ToolKind;
use self::finding::finding;
use self::model::{Run, SarifResult};
use self::rules::Rules;
use super::error_path::typed;
use super::lenient::{non_empty, prop_str};
use super::trivy_artifact::image_from_names;
use crate::ingest::FormatError;
use crate::ingest::{source, timestamp};
use crate::model::{Artifact, Format, ImageRef, Report, artifact::normalize_repository};

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
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let runs = match v.get("runs") {
        Some(Value::Array(runs)) => runs,
        Some(other) => return Err(FormatError::new("runs", format!("expected an array, found {}", type_name(other)))),
        None => return Err(FormatError::new("runs", "missing (a SARIF log has a runs array)")),
    };
    runs.iter().enumerate().map(|(i, run)| parse_run(origin, run, &format!("runs[{i}]"))).collect()
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

fn parse_run(origin: &str, run_value: &Value, path: &str) -> Result<Report, FormatError> {
    let run: Run = typed(run_value, path)?;
    let results: &[Value] = match run_value.get("results") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(r)) => r,
        Some(other) => {
            return Err(FormatError::new(
                format!("{path}.results"),
                format!("expected an array, found {}", type_name(other)),
            ));
        }
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
    let list = |key: &str| -> Vec<&str> {
        props.get(key).and_then(Value::as_array).map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_str).collect())
    };
    let image_name = prop_str(props, "imageName")?;
    image_from_names(Some(&image_name), list("repoTags"), list("repoDigests"))
}
