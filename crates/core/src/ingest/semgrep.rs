//! Semgrep JSON (`semgrep scan --json`): `results[]` of rule matches and `errors[]`, as
//! Semgrep's output schema defines them (`CliOutput` / `CliMatch` in
//! <https://github.com/semgrep/semgrep-interfaces/blob/main/semgrep_output_v1.atd>).
//!
//! One [`Report`] per document, about `Artifact::Other(origin)` (Semgrep does not name the
//! repository; as for SARIF, whoever stores the file may attribute it). One SAST finding
//! per result:
//!
//! * id `check_id`; title the first line of `extra.message`.
//! * severity `extra.severity` as Semgrep states it: `ERROR` → high, `WARNING` → medium,
//!   `INFO` → low (what the same scan's SARIF levels `error` / `warning` / `note` give),
//!   and the newer `CRITICAL` / `HIGH` / `MEDIUM` / `LOW` as written; `INVENTORY` and
//!   `EXPERIMENT` → info.
//! * location `path:start.line` (the form the SARIF parser gives the same result); URL
//!   the rule's `extra.metadata.source` (else the first `references[]` entry).
//! * fingerprint `extra.fingerprint` when Semgrep gives a real one (logged-out runs write
//!   `requires login`, which is not).
//! * `extra.is_ignored` (a `nosemgrep` comment) becomes a VEX `not_affected` statement.
//! * The matched code (`extra.lines`) and metavariable values are never copied.
//!
//! **Identity**: rule id × document × fingerprint, else location — two results of one
//! rule on one line are one finding.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::FormatError;
use super::error_path::{join, typed};
use super::lenient::{Num, Text, items};
use super::source;
use super::title::title_line;
use crate::model::{Artifact, Finding, FindingKind, Format, Report, Severity, Vex, VexState};

/// True for Semgrep JSON: `results` whose entries carry `check_id`, next to `errors` (an
/// empty run: `results`, `errors` and `paths` or `version`).
pub fn detect(v: &Value) -> bool {
    let Some(results) = v.get("results").and_then(Value::as_array) else { return false };
    if !v.get("errors").is_some_and(Value::is_array) {
        return false;
    }
    match results.first() {
        Some(r) => r.get("check_id").is_some(),
        None => v.get("paths").is_some() || v.get("version").is_some(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Semgrep JSON document")]
struct Doc {
    version: Text,
    results: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a Semgrep result")]
struct MatchDoc {
    check_id: Text,
    path: Text,
    start: Option<Position>,
    extra: Option<Extra>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a position object")]
struct Position {
    line: Num,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Extra {
    message: Text,
    severity: Text,
    fingerprint: Text,
    is_ignored: Option<bool>,
    /// Free-form rule metadata: only `source` and `references` are read.
    metadata: Option<Map<String, Value>>,
}

/// Parses a Semgrep JSON document into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: Doc = typed(v, "")?;
    let scanner = doc.version.get().map_or_else(|| "Semgrep".to_string(), |v| format!("Semgrep {v}"));
    let src = source(Format::Semgrep, &scanner, origin);
    let artifact = Artifact::Other(Arc::from(origin));
    let mut report = Report::new(src.clone());
    for (i, r) in items(&doc.results) {
        let path = format!("results[{i}]");
        let m: MatchDoc = typed(r, &path)?;
        let id = m.check_id.get().ok_or_else(|| FormatError::new(join(&path, "check_id"), "missing"))?;
        let extra = m.extra.unwrap_or_default();
        let title = extra.message.get().and_then(title_line).unwrap_or_else(|| id.to_string());
        let mut f =
            Finding::new(FindingKind::Sast, id, severity(extra.severity.get()), &title, artifact.clone(), src.clone());
        let line = m.start.as_ref().and_then(|s| s.line.line());
        f.location = match (m.path.get(), line) {
            (Some(p), Some(l)) => Some(Arc::from(format!("{p}:{l}"))),
            (Some(p), None) => Some(Arc::from(p)),
            (None, _) => None,
        };
        f.fingerprint = extra.fingerprint.get().filter(|fp| !fp.eq_ignore_ascii_case("requires login")).map(Arc::from);
        f.primary_url = extra.metadata.as_ref().and_then(rule_url).map(Arc::from);
        if extra.is_ignored == Some(true) {
            f.vex =
                Some(Vex { source: None, state: VexState::NotAffected, justification: Some(Arc::from("nosemgrep")) });
        }
        report.findings.push(f);
    }
    report.scanned = vec![artifact];
    Ok(vec![report])
}

fn severity(word: Option<&str>) -> Severity {
    match word.map(str::to_ascii_uppercase).as_deref() {
        Some("ERROR") => Severity::High,
        Some("WARNING") => Severity::Medium,
        Some("INFO") => Severity::Low,
        Some("INVENTORY" | "EXPERIMENT") => Severity::Info,
        Some(other) => Severity::parse(other),
        None => Severity::Unknown,
    }
}

fn rule_url(meta: &Map<String, Value>) -> Option<&str> {
    let is_url = |s: &&str| s.starts_with("https://") || s.starts_with("http://");
    meta.get("source").and_then(Value::as_str).filter(is_url).or_else(|| match meta.get("references")? {
        Value::Array(refs) => refs.iter().filter_map(Value::as_str).find(is_url),
        Value::String(s) => Some(s.as_str()).filter(is_url),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_semgrep_documents_only() {
        assert!(detect(&json!({"results": [{"check_id": "a"}], "errors": []})));
        assert!(detect(&json!({"results": [], "errors": [], "version": "1.50.0"})));
        assert!(!detect(&json!({"results": [{"source": {}, "packages": []}]})));
        assert!(!detect(&json!({"results": [], "errors": []})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let e = parse("s", &json!({"results": [{"check_id": "r", "start": {"line": "x"}}], "errors": []})).unwrap_err();
        assert!(e.to_string().starts_with("results[0].start"), "{e}");
        let e = parse("s", &json!({"results": [{}], "errors": []})).unwrap_err();
        assert_eq!(e.to_string(), "results[0].check_id: missing");
    }

    #[test]
    fn severities_fingerprints_and_ignores() {
        let v = json!({"version": "1.99.0", "errors": [], "results": [
            {"check_id": "a", "path": "x.py", "start": {"line": 3}, "extra": {"severity": "INFO", "fingerprint": "requires login", "is_ignored": true}},
            {"check_id": "b", "path": "y.py", "start": {"line": 1}, "extra": {"severity": "CRITICAL", "fingerprint": "0f1e", "metadata": {"references": ["https://r"]}}}
        ]});
        let r = parse("s", &v).unwrap().remove(0);
        assert_eq!(&*r.source.scanner, "Semgrep 1.99.0");
        let (a, b) = (&r.findings[0], &r.findings[1]);
        assert_eq!(
            (a.severity, a.fingerprint.as_deref(), a.location.as_deref()),
            (Severity::Low, None, Some("x.py:3"))
        );
        assert_eq!(a.vex.as_ref().unwrap().state, VexState::NotAffected);
        assert_eq!(
            (b.severity, b.fingerprint.as_deref(), b.primary_url.as_deref()),
            (Severity::Critical, Some("0f1e"), Some("https://r"))
        );
    }
}
