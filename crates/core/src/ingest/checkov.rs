//! Checkov JSON (`checkov -o json`): one report object per check type (`terraform`,
//! `kubernetes`, `dockerfile`, `helm`, `cloudformation`, `secrets`, …), or an array of them
//! when a run covers several (the document reader splits the array). Fields are those of
//! Checkov's `Report.get_dict()` and `Record` (`checkov/common/output/report.py`,
//! `record.py` in <https://github.com/bridgecrewio/checkov>).
//!
//! One [`Report`] per check-type object. Every evaluated resource is scanned (passed,
//! failed and skipped checks); one finding per failed or skipped check:
//!
//! * **artifact**: the resource in its file, `Artifact::Other("<file>:<resource>")`
//!   (`/aws/db-app.tf:aws_db_instance.default`), the file being `repo_file_path`, else
//!   `file_path`. A misconfiguration's identity is its check on its object, and a Checkov
//!   object is a resource of an IaC file.
//! * **kind**: secret for the `secrets` check type, misconfiguration for every other IaC
//!   type. The `sca_package` / `sca_image` types (Prisma Cloud package scans) are not read.
//! * id `check_id` (`CKV_AWS_161`); `bc_check_id` is an alias; title `check_name`; URL
//!   `guideline`; location `file_path:first line` (`file_line_range[0]`, when positive).
//! * severity: `severity` when Checkov states one (it does with a Prisma Cloud API key),
//!   else unknown.
//! * a skipped check (`check_result.result: SKIPPED`, a `checkov:skip` comment) is a
//!   finding with a VEX `not_affected` statement whose justification is the
//!   `suppress_comment`.
//! * For secrets, the resource (a hash Checkov computes) is the fingerprint; the secret
//!   itself (`code_block`) is never copied.
//!
//! **Identity**: check id × file × resource.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::FormatError;
use super::error_path::{join, typed};
use super::lenient::{Num, Text, items};
use super::source;
use crate::model::{Artifact, Finding, FindingKind, Format, Report, Severity, Source, Vex, VexState};

/// True for one Checkov check-type report (`check_type` + `results`), or the summary
/// Checkov prints when it found nothing to scan.
pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    (o.get("check_type").is_some_and(Value::is_string) && o.get("results").is_some_and(Value::is_object))
        || (o.contains_key("checkov_version")
            && o.contains_key("passed")
            && o.contains_key("failed")
            && o.contains_key("resource_count"))
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Checkov report object")]
struct Doc {
    check_type: Text,
    results: Option<ResultsDoc>,
    summary: Option<Summary>,
    checkov_version: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Summary {
    checkov_version: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object of check lists")]
struct ResultsDoc {
    passed_checks: Option<Vec<Value>>,
    failed_checks: Option<Vec<Value>>,
    skipped_checks: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Checkov check record")]
struct Record {
    check_id: Text,
    bc_check_id: Text,
    check_name: Text,
    check_result: Option<CheckResult>,
    file_path: Text,
    repo_file_path: Text,
    file_line_range: Option<Vec<Num>>,
    resource: Text,
    guideline: Text,
    severity: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct CheckResult {
    suppress_comment: Text,
}

/// Parses one Checkov check-type report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: Doc = typed(v, "")?;
    let version = doc.summary.as_ref().and_then(|s| s.checkov_version.get()).or(doc.checkov_version.get());
    let scanner = version.map_or_else(|| "Checkov".to_string(), |v| format!("Checkov {v}"));
    let src = source(Format::Checkov, &scanner, origin);
    let kind = match doc.check_type.get() {
        Some("secrets") => Some(FindingKind::Secret),
        Some(t) if t.starts_with("sca_") => None,
        _ => Some(FindingKind::Misconfiguration),
    };
    let mut report = Report::new(src.clone());
    let mut seen: HashSet<Artifact> = HashSet::new();
    let results = doc.results.unwrap_or_default();
    let lists = [
        ("results.passed_checks", &results.passed_checks, None),
        ("results.failed_checks", &results.failed_checks, Some(false)),
        ("results.skipped_checks", &results.skipped_checks, Some(true)),
    ];
    for (at, list, outcome) in lists {
        let Some(kind) = kind else { break };
        for (i, r) in items(list) {
            let path = format!("{at}[{i}]");
            let rec: Record = typed(r, &path)?;
            let artifact = resource_artifact(&rec, origin);
            if seen.insert(artifact.clone()) {
                report.scanned.push(artifact.clone());
            }
            if let Some(skipped) = outcome {
                report.findings.push(finding(&rec, &path, kind, skipped, artifact, &src)?);
            }
        }
    }
    if report.scanned.is_empty() {
        report.scanned.push(Artifact::Other(Arc::from(origin)));
    }
    Ok(vec![report])
}

fn resource_artifact(rec: &Record, origin: &str) -> Artifact {
    let file = rec.repo_file_path.get().or(rec.file_path.get()).unwrap_or(origin);
    Artifact::Other(Arc::from(match rec.resource.get() {
        Some(res) => format!("{file}:{res}"),
        None => file.to_string(),
    }))
}

fn finding(
    rec: &Record,
    path: &str,
    kind: FindingKind,
    skipped: bool,
    artifact: Artifact,
    src: &Arc<Source>,
) -> Result<Finding, FormatError> {
    let id = rec.check_id.get().ok_or_else(|| FormatError::new(join(path, "check_id"), "missing"))?;
    let severity = Severity::parse(rec.severity.get().unwrap_or(""));
    let mut f = Finding::new(kind, id, severity, rec.check_name.get().unwrap_or(id), artifact, src.clone());
    if let Some(bc) = rec.bc_check_id.get() {
        f.add_alias(bc);
    }
    let line = rec.file_line_range.iter().flatten().next().and_then(|n| n.line());
    f.location = rec.file_path.get().map(|p| {
        Arc::from(match line {
            Some(l) => format!("{p}:{l}"),
            None => p.to_string(),
        })
    });
    f.primary_url = rec.guideline.get().filter(|u| u.starts_with("http")).map(Arc::from);
    if kind == FindingKind::Secret {
        f.fingerprint = rec.resource.arc();
    }
    if skipped {
        let comment = rec.check_result.as_ref().and_then(|c| c.suppress_comment.arc());
        f.vex = Some(Vex {
            source: None,
            state: VexState::NotAffected,
            justification: comment.or_else(|| Some(Arc::from("checkov:skip"))),
        });
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_checkov_reports_only() {
        assert!(detect(&json!({"check_type": "kubernetes", "results": {}})));
        assert!(detect(
            &json!({"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0, "checkov_version": "3.2.0"})
        ));
        assert!(!detect(&json!({"check_type": "kubernetes", "results": []})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let e = parse("c", &json!({"check_type": "terraform", "results": {"failed_checks": [{"check_id": "CKV_1", "file_line_range": "1"}]}}))
            .unwrap_err();
        assert!(e.to_string().starts_with("results.failed_checks[0].file_line_range:"), "{e}");
        let e = parse("c", &json!({"check_type": "terraform", "results": {"failed_checks": [{"resource": "r"}]}}))
            .unwrap_err();
        assert_eq!(e.to_string(), "results.failed_checks[0].check_id: missing");
    }

    #[test]
    fn skipped_checks_are_suppressed_and_secrets_are_fingerprinted() {
        let v = json!({"check_type": "secrets", "summary": {"checkov_version": "3.2.0"}, "results": {
            "skipped_checks": [{"check_id": "CKV_SECRET_6", "check_result": {"result": "SKIPPED", "suppress_comment": "test key"},
                                "file_path": "/a.py", "file_line_range": [3, 3], "resource": "25910f98", "code_block": [[3, "k = 'AKIA'"]]}]}});
        let r = parse("c", &v).unwrap().remove(0);
        let f = &r.findings[0];
        assert_eq!(
            (f.kind, f.fingerprint.as_deref(), f.location.as_deref()),
            (FindingKind::Secret, Some("25910f98"), Some("/a.py:3"))
        );
        assert_eq!(f.vex.as_ref().unwrap().justification.as_deref(), Some("test key"));
        assert!(!format!("{f:?}").contains("AKIA"));
        let empty =
            parse("c", &json!({"passed": 0, "failed": 0, "resource_count": 0, "checkov_version": "3.2.0"})).unwrap();
        assert!(empty[0].findings.is_empty());
    }
}
