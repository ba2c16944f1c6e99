//! `npm audit --json` of npm 7 and later (`auditReportVersion: 2`): `vulnerabilities` maps
//! each vulnerable package name to its advisories (`via[]` objects) and to the packages it
//! is vulnerable through (`via[]` names). Format: npm's `@npmcli/arborist` audit report
//! (<https://github.com/npm/cli/blob/latest/workspaces/arborist/lib/audit-report.js>).
//!
//! One [`Report`] per document:
//!
//! * **artifact**: npm names neither the project nor its path, so the document is about
//!   `Artifact::Other(origin)` — whoever stores the file may attribute it to an app.
//! * **findings**: one vulnerability per advisory object in a package's `via[]` (names in
//!   `via[]` only point at another package's entry, which lists that advisory itself):
//!   - id: the GHSA id in the advisory `url` (`https://github.com/advisories/GHSA-…`),
//!     else `npm-advisory-<source>`; title `title`; URL `url`.
//!   - severity: the advisory's `severity` (`moderate` → medium), as npm states it — not
//!     the package entry's, which is the worst of everything it is vulnerable through;
//!     CVSS: `cvss.score` when positive.
//!   - package: the advisory's `name` (else the entry's), with no installed version (npm
//!     audit does not state it; `range` is the vulnerable range) and no fixed version
//!     (`fixAvailable` names the top-level upgrade, not a version of this package);
//!     location the first of `nodes` (`node_modules/debug`).
//! * **identity**: advisory id × document × package name. Because no installed version is
//!   stated, an npm audit finding does not merge with another tool's finding of the same
//!   advisory (whose package key carries the version); it merges with the same finding of
//!   another npm audit of the same file.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::FormatError;
use super::error_path::typed;
use super::finding_id::advisory_id;
use super::lenient::{Num, Scalar, Text, non_empty};
use super::source;
use super::title::title_line;
use crate::model::{Artifact, Finding, FindingKind, Format, Package, Report, Severity};

/// True for an npm 7+ audit report: `auditReportVersion` 2 and a `vulnerabilities` map.
pub fn detect(v: &Value) -> bool {
    v.get("auditReportVersion").and_then(Value::as_i64) == Some(2)
        && v.get("vulnerabilities").is_some_and(Value::is_object)
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an npm audit package entry")]
struct Entry {
    name: Text,
    /// Advisory objects and names of the packages this one is vulnerable through.
    via: Option<Vec<Value>>,
    nodes: Option<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an npm advisory object")]
struct Advisory {
    source: Option<Scalar>,
    name: Text,
    title: Text,
    url: Text,
    severity: Text,
    cvss: Option<Cvss>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Cvss {
    score: Num,
}

/// Parses an npm audit report into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let Some(Value::Object(entries)) = v.get("vulnerabilities") else {
        return Err(FormatError::new("vulnerabilities", "expected an object"));
    };
    let src = source(Format::NpmAudit, "npm audit", origin);
    let artifact = Artifact::Other(Arc::from(origin));
    let mut report = Report::new(src.clone());
    for (key, value) in entries {
        let path = format!("vulnerabilities.{key}");
        let entry: Entry = typed(value, &path)?;
        let location = entry.nodes.iter().flatten().find_map(Text::arc);
        for (i, via) in entry.via.iter().flatten().enumerate() {
            if via.is_string() {
                continue;
            }
            let apath = format!("{path}.via[{i}]");
            let a: Advisory = typed(via, &apath)?;
            let id = a
                .url
                .get()
                .and_then(advisory_id)
                .or_else(|| non_empty(a.source.as_deref()).map(|s| format!("npm-advisory-{s}")))
                .ok_or_else(|| FormatError::new(apath.clone(), "neither url nor source names the advisory"))?;
            let title = a.title.get().and_then(title_line).unwrap_or_else(|| id.clone());
            let severity = Severity::parse(a.severity.get().unwrap_or(""));
            let mut f = Finding::new(FindingKind::Vulnerability, &id, severity, &title, artifact.clone(), src.clone());
            f.cvss = a.cvss.as_ref().and_then(|c| c.score.get()).filter(|s| *s > 0.0 && *s <= 10.0).map(|s| s as f32);
            let name = a.name.get().or(entry.name.get()).unwrap_or(key);
            f.package =
                Some(Package { purl: None, name: Arc::from(name), installed_version: None, fixed_version: None });
            f.location = location.clone();
            f.primary_url = a.url.get().filter(|u| u.starts_with("http")).map(Arc::from);
            report.findings.push(f);
        }
    }
    report.scanned = vec![artifact];
    Ok(vec![report])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_v2_reports_only() {
        assert!(detect(&json!({"auditReportVersion": 2, "vulnerabilities": {}})));
        assert!(!detect(&json!({"advisories": {}, "metadata": {}})));
        assert!(!detect(&json!({"auditReportVersion": 2, "vulnerabilities": []})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let e = parse("n", &json!({"auditReportVersion": 2, "vulnerabilities": {"debug": {"via": {}}}})).unwrap_err();
        assert!(e.to_string().starts_with("vulnerabilities.debug.via:"), "{e}");
        let e = parse("n", &json!({"auditReportVersion": 2, "vulnerabilities": {"debug": {"via": [{"title": "x"}]}}}))
            .unwrap_err();
        assert_eq!(e.to_string(), "vulnerabilities.debug.via[0]: neither url nor source names the advisory");
    }
}
