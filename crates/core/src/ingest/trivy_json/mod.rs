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

mod artifact;
mod kubernetes;
mod legacy;
mod model;
mod results;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use self::artifact::report_artifact;
use self::kubernetes::parse_k8s;
use self::legacy::parse_legacy;
use self::model::{Doc, Metadata, ResultDoc, TrivyInfo};
use self::results::add_result;
use super::error_path::typed_or_default;
use super::lenient::items;
use super::timestamp;
use crate::ingest::FormatError;
use crate::model::{Component, Finding, Format, Report, Source};

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

/// Parses one Trivy JSON document (or one legacy result, or one `trivy k8s` report).
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let Some(o) = v.as_object() else {
        return Err(FormatError::whole("expected a JSON object"));
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
pub(super) struct Ctx {
    pub(super) source: Arc<Source>,
    pub(super) first_seen: Option<Timestamp>,
}

/// Findings and components of one report, accumulated result by result.
#[derive(Default)]
pub(super) struct Acc {
    pub(super) findings: Vec<Finding>,
    pub(super) components: Option<Vec<Component>>,
    pub(super) seen_components: HashSet<Component>,
}

impl Acc {
    pub(super) fn add_component(&mut self, c: Component) {
        let list = self.components.get_or_insert_with(Vec::new);
        if self.seen_components.insert(c.clone()) {
            list.push(c);
        }
    }
}

fn scanner_name(trivy: Option<&Value>, path: &str) -> Result<String, FormatError> {
    let info: TrivyInfo = typed_or_default(trivy, path)?;
    Ok(match info.version.get() {
        Some(v) => format!("Trivy {v}"),
        None => "Trivy".to_string(),
    })
}

fn parse_report(origin: &str, v: &Value) -> Result<Report, FormatError> {
    let doc: Doc = typed_or_default(Some(v), "")?;
    let scanner = scanner_name(doc.trivy.as_ref(), "Trivy")?;
    let meta: Metadata = typed_or_default(doc.metadata.as_ref(), "Metadata")?;
    let source = crate::ingest::source(Format::TrivyJson, &scanner, origin);
    let scanned_at = doc.created_at.get().and_then(timestamp::parse);
    let artifact = report_artifact(&doc, &meta);
    let ctx = Ctx { source: source.clone(), first_seen: scanned_at };
    let mut acc = Acc::default();
    for (i, r) in items(&doc.results) {
        let path = format!("Results[{i}]");
        let result: ResultDoc = typed_or_default(Some(r), &path)?;
        add_result(&ctx, &result, &path, &artifact, &mut acc)?;
    }
    let mut report = Report::new(source);
    report.scanned = vec![artifact];
    report.scanned_at = scanned_at;
    report.findings = acc.findings;
    report.components = acc.components;
    Ok(report)
}
