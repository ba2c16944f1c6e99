//! Gitleaks JSON reports (`gitleaks detect --report-format json`): an array of findings,
//! each one secret in one file (and, scanning git history, one commit). Fields of
//! gitleaks 8 (`report.Finding` in <https://github.com/gitleaks/gitleaks>) and, read the
//! same way, gitleaks 7's lower-case ones (`rule`, `file`, `lineNumber`, `commit`).
//!
//! The document reader splits the top-level array, so each element is parsed on its own
//! (its origin ends in `[i]`); every element of one file is about the same artifact,
//! `Artifact::Other(<file>)`, the origin without its `[i]`.
//!
//! One secret finding per element:
//! * id `RuleID`; title `Description` (else the rule); location `File:StartLine`.
//! * fingerprint: gitleaks' own `Fingerprint` (8.10+), else the same formula gitleaks uses,
//!   `Commit:File:RuleID:StartLine` (`File:RuleID:StartLine` without a commit), so one
//!   secret seen in two commits is two findings, as gitleaks counts it.
//! * severity: gitleaks states none; Stance uses medium — what gitleaks' own SARIF report of
//!   the same scan gets (SARIF's default level `warning`), so both forms agree.
//! * `Secret`, `Match`, the commit author, e-mail and message are never copied.
//!
//! **Identity**: rule × file × fingerprint.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::FormatError;
use super::error_path::typed;
use super::lenient::{Num, Text};
use super::source;
use crate::model::{Artifact, Finding, FindingKind, Format, Report, Severity};

/// True for one gitleaks finding (8: `RuleID` + `File` + `StartLine`; 7: `rule` +
/// `file` + `lineNumber`).
pub fn detect(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    (o.contains_key("RuleID") && o.contains_key("File") && o.contains_key("StartLine"))
        || (o.contains_key("rule")
            && o.contains_key("file")
            && o.contains_key("lineNumber")
            && o.contains_key("offender"))
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a gitleaks finding")]
struct Leak {
    #[serde(rename = "RuleID", alias = "rule")]
    rule_id: Text,
    #[serde(rename = "Description")]
    description: Text,
    #[serde(rename = "File", alias = "file")]
    file: Text,
    #[serde(rename = "StartLine", alias = "lineNumber")]
    start_line: Num,
    #[serde(rename = "Commit", alias = "commit")]
    commit: Text,
    #[serde(rename = "Fingerprint")]
    fingerprint: Text,
}

/// Parses one gitleaks finding into a report about the file it came from.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let leak: Leak = typed(v, "")?;
    let rule = leak.rule_id.get().ok_or_else(|| FormatError::new("RuleID", "missing"))?;
    let file = leak.file.get();
    let line = leak.start_line.get().filter(|l| *l >= 0.0).map(|l| l as u64);
    let src = source(Format::Gitleaks, "Gitleaks", origin);
    let artifact = Artifact::Other(Arc::from(document_of(origin)));
    let mut f = Finding::new(
        FindingKind::Secret,
        rule,
        Severity::Medium,
        leak.description.get().unwrap_or(rule),
        artifact.clone(),
        src.clone(),
    );
    f.location = file.map(|p| {
        Arc::from(match line {
            Some(l) => format!("{p}:{l}"),
            None => p.to_string(),
        })
    });
    let line_text = line.map(|l| l.to_string()).unwrap_or_default();
    f.fingerprint = Some(Arc::from(match (leak.fingerprint.get(), leak.commit.get()) {
        (Some(fp), _) => fp.to_string(),
        (None, Some(c)) => format!("{c}:{}:{rule}:{line_text}", file.unwrap_or("")),
        (None, None) => format!("{}:{rule}:{line_text}", file.unwrap_or("")),
    }));
    let mut report = Report::new(src);
    report.scanned = vec![artifact];
    report.findings = vec![f];
    Ok(vec![report])
}

/// The file an array element came from: `report.json[3]` → `report.json`.
fn document_of(origin: &str) -> &str {
    match origin.strip_suffix(']').and_then(|o| o.rsplit_once('[')) {
        Some((doc, index)) if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => doc,
        _ => origin,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_gitleaks_findings_only() {
        assert!(detect(&json!({"RuleID": "aws-access-token", "File": "a", "StartLine": 1})));
        assert!(detect(&json!({"rule": "AWS", "file": "a", "lineNumber": 1, "offender": "x"})));
        assert!(!detect(&json!({"RuleID": "x"})));
    }

    #[test]
    fn fingerprints_and_origins() {
        assert_eq!(document_of("r.json[12]"), "r.json");
        assert_eq!(document_of("r.json"), "r.json");
        assert_eq!(document_of("r[x]"), "r[x]");
        let v7 =
            json!({"rule": "AWS Access Key", "file": "a.tf", "lineNumber": 3, "offender": "AKIA…", "commit": "abc"});
        let r = parse("g.json[0]", &v7).unwrap().remove(0);
        let f = &r.findings[0];
        assert_eq!(f.fingerprint.as_deref(), Some("abc:a.tf:AWS Access Key:3"));
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("g.json"))]);
        assert!(!format!("{f:?}").contains("AKIA"));
        let e = parse("g", &json!({"RuleID": 1, "File": [], "StartLine": 1})).unwrap_err();
        assert!(e.to_string().starts_with("File:"), "{e}");
    }
}
