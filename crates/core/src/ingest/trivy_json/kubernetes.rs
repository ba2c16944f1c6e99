//! `trivy k8s --format json`: one report per Kubernetes resource, in both the old
//! (`Vulnerabilities[]` / `Misconfigurations[]`) and the new (`Resources[]` / `Findings[]`)
//! shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::artifact::{image_from_metadata, image_from_target};
use super::model::{Metadata, MisconfDoc, ResultDoc};
use super::results::{add_result, misconf_finding};
use super::{Acc, Ctx};
use crate::ingest::FormatError;
use crate::ingest::error_path::{join, typed_or_default};
use crate::ingest::lenient::{Text, items};
use crate::model::{Artifact, Format, ImageRef, ObjectRef, Report};

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

/// `trivy k8s` output: one report per Kubernetes resource, attributed to it as workload.
/// Misconfigurations are findings of the object; vulnerabilities and secrets of the image
/// an OS result's target names (later language results of the same image follow it), or
/// of the resource's only image when `Metadata` lists one.
pub(super) fn parse_k8s(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: K8sDoc = typed_or_default(Some(v), "")?;
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
            let res: K8sResource = typed_or_default(Some(r), &path)?;
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
        let source = crate::ingest::workload_source(Format::TrivyJson, "Trivy", origin, object.clone(), None);
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
                let result: ResultDoc = typed_or_default(Some(r), &rpath)?;
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
) -> Result<(), FormatError> {
    let target = r.target.get();
    for (i, m) in items(&r.misconfigurations) {
        let p = format!("{path}.Misconfigurations[{i}]");
        let doc: MisconfDoc = typed_or_default(Some(m), &p)?;
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
fn k8s_images(meta: Option<&Value>, path: &str) -> Result<Vec<ImageRef>, FormatError> {
    let metas: Vec<Metadata> = match meta {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, m)| typed_or_default(Some(m), &format!("{path}[{i}]")))
            .collect::<Result<_, _>>()?,
        Some(m) => vec![typed_or_default(Some(m), path)?],
    };
    Ok(metas.iter().filter_map(|m| image_from_metadata(None, m)).collect())
}
