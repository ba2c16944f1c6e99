//! Kubescape JSON results (`kubescape scan --format json`, format version v2): `results[]`
//! of controls per resource, `resources[]` with the scanned objects and `summaryDetails`
//! with each control's score factor. Types: `PostureReport` / `Result` / `ResourceAssociatedControl`
//! of <https://github.com/kubescape/opa-utils> (`reporthandling/v2`, `reporthandling/results/v1`).
//!
//! One [`Report`] per document; every resource in `resources[]` and `results[]` is scanned.
//!
//! * **artifact** of a resource: in a cluster scan (a `resourceID` without `path=`), the
//!   Kubernetes object its `object` names (`kind`, `metadata.namespace`/`name`, or the
//!   top-level `namespace`/`name` Kubescape writes for a workload with related objects), as
//!   [`Artifact::Object`] — the object Trivy Operator and PolicyReports name too. In a file
//!   scan (`path=<hash>/api=<group/version>/<ns>/<kind>/<name>`), the object in its file,
//!   `Artifact::Other("<sourcePath>:<kind>/[<namespace>/]<name>")`, so the same name in two
//!   manifests stays two objects; a composite id (an object and its related RBAC objects,
//!   several `path=` parts) is `Other(resourceID)`.
//! * **findings**: one misconfiguration per control that failed on a resource — the
//!   control's `status.status` (v2), or any of its `rules[].status` (older output) is
//!   `failed`. A control Kubescape excluded by a posture exception — an `excluded` status,
//!   a `w/exceptions` sub-status, or (older output) failed rules that all list the
//!   `exception`s that matched them — is a finding with a VEX `not_affected` statement
//!   naming the exceptions; these are the `excludedResources` of Kubescape's own summary.
//!   - id `controlID` (`C-0017`, `CIS-5.7.2`); title the control `name`.
//!   - severity from the control's `scoreFactor` in `summaryDetails.controls`, with
//!     Kubescape's own bands (`apis.ControlSeverityToInt`: ≥ 9 critical, ≥ 7 high, ≥ 4
//!     medium, ≥ 1 low), else unknown.
//!   - location: the first failed rule's first `failedPath` / `fixPath.path` /
//!     `reviewPath` / `deletePath`.
//! * **identity**: control id × object (in its file, for file scans).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::FormatError;
use super::error_path::{join, typed};
use super::lenient::{Num, Text, items};
use super::{source, timestamp};
use crate::model::{Artifact, Finding, FindingKind, Format, ObjectRef, Report, Severity, Vex, VexState};

/// True for Kubescape JSON results: `summaryDetails` next to `results` (and usually
/// `resources`).
pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.get("summaryDetails").is_some_and(Value::is_object)
        && o.get("results").is_some_and(|r| r.is_array() || r.is_null())
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Kubescape results document")]
struct Doc {
    #[serde(rename = "generationTime")]
    generation_time: Text,
    results: Option<Vec<Value>>,
    resources: Option<Vec<Value>>,
    #[serde(rename = "summaryDetails")]
    summary: Option<Summary>,
    metadata: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Summary {
    controls: Option<HashMap<String, ControlSummary>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a control summary")]
struct ControlSummary {
    #[serde(rename = "scoreFactor")]
    score_factor: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a resource object")]
struct ResourceDoc {
    #[serde(rename = "resourceID")]
    resource_id: Text,
    object: Option<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a result object")]
struct ResultDoc {
    #[serde(rename = "resourceID")]
    resource_id: Text,
    controls: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a control object")]
struct Control {
    #[serde(rename = "controlID")]
    control_id: Text,
    name: Text,
    status: Option<Status>,
    rules: Option<Vec<Rule>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a status object")]
struct Status {
    status: Text,
    #[serde(rename = "subStatus")]
    sub_status: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a rule object")]
struct Rule {
    status: Text,
    paths: Option<Vec<PathDoc>>,
    /// The posture exceptions that matched (older output keeps the rule `failed`).
    exception: Option<Vec<ExceptionRef>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an exception object")]
struct ExceptionRef {
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a path object")]
struct PathDoc {
    #[serde(rename = "failedPath")]
    failed_path: Text,
    #[serde(rename = "reviewPath")]
    review_path: Text,
    #[serde(rename = "deletePath")]
    delete_path: Text,
    #[serde(rename = "fixPath")]
    fix_path: Option<FixPath>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct FixPath {
    path: Text,
}

/// Parses a Kubescape results document into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: Doc = typed(v, "")?;
    let version =
        doc.metadata.as_ref().and_then(|m| m.pointer("/scanMetadata/kubescapeVersion")).and_then(Value::as_str);
    let scanner = version.map_or_else(|| "Kubescape".to_string(), |v| format!("Kubescape {v}"));
    let src = source(Format::Kubescape, &scanner, origin);
    let scanned_at = doc.generation_time.get().and_then(timestamp::parse).filter(|t| t.as_second() > 0);
    let factors: HashMap<String, f64> = doc
        .summary
        .and_then(|s| s.controls)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(id, c)| Some((id, c.score_factor.get()?)))
        .collect();

    let mut report = Report::new(src.clone());
    let mut artifacts: HashMap<String, Artifact> = HashMap::new();
    let mut seen: HashSet<Artifact> = HashSet::new();
    for (i, r) in items(&doc.resources) {
        let res: ResourceDoc = typed(r, &format!("resources[{i}]"))?;
        let Some(id) = res.resource_id.get() else { continue };
        let a = resource_artifact(id, res.object.as_ref());
        if seen.insert(a.clone()) {
            report.scanned.push(a.clone());
        }
        artifacts.insert(id.to_string(), a);
    }
    for (i, r) in items(&doc.results) {
        let path = format!("results[{i}]");
        let res: ResultDoc = typed(r, &path)?;
        let id = res.resource_id.get().ok_or_else(|| FormatError::new(join(&path, "resourceID"), "missing"))?;
        let artifact = artifacts.get(id).cloned().unwrap_or_else(|| resource_artifact(id, None));
        if seen.insert(artifact.clone()) {
            report.scanned.push(artifact.clone());
        }
        for (j, c) in items(&res.controls) {
            let cpath = format!("{path}.controls[{j}]");
            let c: Control = typed(c, &cpath)?;
            let Some((outcome, exceptions)) = outcome(&c) else { continue };
            let cid = c.control_id.get().ok_or_else(|| FormatError::new(join(&cpath, "controlID"), "missing"))?;
            let severity = factors.get(cid).map_or(Severity::Unknown, |f| severity(*f));
            let mut f = Finding::new(
                FindingKind::Misconfiguration,
                cid,
                severity,
                c.name.get().unwrap_or(cid),
                artifact.clone(),
                src.clone(),
            );
            f.location = failed_path(&c).map(Arc::from);
            f.first_seen = scanned_at;
            if outcome == Outcome::Excluded {
                let why = if exceptions.is_empty() {
                    "Kubescape exception".to_string()
                } else {
                    format!("Kubescape exception {}", exceptions.join(", "))
                };
                f.vex = Some(Vex { source: None, state: VexState::NotAffected, justification: Some(Arc::from(why)) });
            }
            report.findings.push(f);
        }
    }
    if report.scanned.is_empty() {
        report.scanned.push(Artifact::Other(Arc::from(origin)));
    }
    report.scanned_at = scanned_at;
    Ok(vec![report])
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Outcome {
    Failed,
    Excluded,
}

/// How a control went on a resource, and the posture exceptions that excluded it.
fn outcome(c: &Control) -> Option<(Outcome, Vec<&str>)> {
    let is = |s: &str, want: &str| s.eq_ignore_ascii_case(want);
    let failed: Vec<&Rule> =
        c.rules.iter().flatten().filter(|r| r.status.get().is_some_and(|s| is(s, "failed"))).collect();
    let mut names: Vec<&str> =
        failed.iter().flat_map(|r| r.exception.iter().flatten()).filter_map(|e| e.name.get()).collect();
    names.sort_unstable();
    names.dedup();
    // Older output keeps an excepted rule `failed` and lists the exceptions on it.
    let all_excepted = !failed.is_empty() && failed.iter().all(|r| r.exception.as_ref().is_some_and(|e| !e.is_empty()));
    let status = c.status.as_ref().and_then(|s| s.status.get());
    let sub = c.status.as_ref().and_then(|s| s.sub_status.get()).unwrap_or("");
    let rules_say = |status: Option<&str>| match status {
        Some(s) if is(s, "excluded") => Some(Outcome::Excluded),
        _ if all_excepted => Some(Outcome::Excluded),
        _ if !failed.is_empty() => Some(Outcome::Failed),
        _ if c.rules.iter().flatten().any(|r| r.status.get().is_some_and(|s| is(s, "excluded"))) => {
            Some(Outcome::Excluded)
        }
        _ => None,
    };
    let outcome = match status {
        Some(s) if is(s, "failed") => rules_say(None).or(Some(Outcome::Failed)),
        Some(s) if is(s, "excluded") || sub.contains("exception") => Some(Outcome::Excluded),
        Some(_) => None,
        None => rules_say(None),
    }?;
    Some((outcome, names))
}

/// Kubescape's severity bands of a control's score factor (`apis.ControlSeverityToInt`).
fn severity(factor: f64) -> Severity {
    match factor {
        f if f >= 9.0 => Severity::Critical,
        f if f >= 7.0 => Severity::High,
        f if f >= 4.0 => Severity::Medium,
        f if f >= 1.0 => Severity::Low,
        _ => Severity::Unknown,
    }
}

fn failed_path(c: &Control) -> Option<&str> {
    let failed = c.rules.iter().flatten().filter(|r| r.status.get().is_some_and(|s| s.eq_ignore_ascii_case("failed")));
    failed.flat_map(|r| r.paths.iter().flatten()).find_map(|p| {
        p.failed_path
            .get()
            .or_else(|| p.fix_path.as_ref().and_then(|f| f.path.get()))
            .or(p.review_path.get())
            .or(p.delete_path.get())
    })
}

fn resource_artifact(id: &str, object: Option<&Map<String, Value>>) -> Artifact {
    fn text<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
        o.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }
    let meta = object.and_then(|o| o.get("metadata")).and_then(Value::as_object);
    let kind = object.and_then(|o| text(o, "kind"));
    let name = meta.and_then(|m| text(m, "name")).or_else(|| object.and_then(|o| text(o, "name")));
    let namespace = meta.and_then(|m| text(m, "namespace")).or_else(|| object.and_then(|o| text(o, "namespace")));
    let parts = id.matches("path=").count();
    match (kind, name) {
        (Some(kind), Some(name)) if parts == 0 => Artifact::Object(ObjectRef::new(kind, namespace, name)),
        (Some(kind), Some(name)) if parts == 1 && id.starts_with("path=") => {
            match object.and_then(|o| text(o, "sourcePath")) {
                Some(file) => Artifact::Other(Arc::from(match namespace {
                    Some(ns) => format!("{file}:{kind}/{ns}/{name}"),
                    None => format!("{file}:{kind}/{name}"),
                })),
                None => Artifact::Other(Arc::from(id)),
            }
        }
        _ => Artifact::Other(Arc::from(id)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_kubescape_results_only() {
        assert!(detect(&json!({"summaryDetails": {}, "results": []})));
        assert!(!detect(&json!({"results": []})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let e = parse("k", &json!({"summaryDetails": {}, "results": [{"resourceID": "x", "controls": [{"controlID": "C-1", "rules": {}}]}]}))
            .unwrap_err();
        assert!(e.to_string().starts_with("results[0].controls[0].rules:"), "{e}");
        let e = parse("k", &json!({"summaryDetails": {"controls": {"C-1": {"scoreFactor": "high"}}}, "results": []}))
            .unwrap_err();
        assert!(e.to_string().starts_with("summaryDetails"), "{e}");
    }

    #[test]
    fn cluster_objects_and_exclusions() {
        let v = json!({"summaryDetails": {"controls": {"C-0017": {"scoreFactor": 9}}},
            "resources": [{"resourceID": "apps/v1/shop/Deployment/web", "object": {"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}}],
            "results": [{"resourceID": "apps/v1/shop/Deployment/web", "controls": [
                {"controlID": "C-0017", "name": "Immutable container filesystem", "status": {"status": "failed"},
                 "rules": [{"status": "failed", "paths": [{"fixPath": {"path": "spec.x", "value": "true"}}]}]},
                {"controlID": "C-0018", "name": "x", "status": {"status": "passed", "subStatus": "w/exceptions"}},
                {"controlID": "C-0019", "name": "y", "status": {"status": "passed"}}]}]});
        let r = parse("k", &v).unwrap().remove(0);
        assert_eq!(r.scanned, vec![Artifact::Object(ObjectRef::new("Deployment", Some("shop"), "web"))]);
        assert_eq!(r.findings.len(), 2);
        assert_eq!((r.findings[0].severity, r.findings[0].location.as_deref()), (Severity::Critical, Some("spec.x")));
        assert!(r.findings[1].suppressed());
    }
}
