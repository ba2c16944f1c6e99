//! Report-carrying ConfigMaps: a ConfigMap labelled [`REPORT_LABEL`] holds scanner
//! reports in its `data` (text) and `binaryData` (base64, optionally gzip) values — how CI
//! uploads (`POST /ingest`) and GitOps repositories hand reports to Stance. Its annotation
//! ([`APP_ANNOTATION`] / [`ASSET_ANNOTATION`]) attributes them to an AppPosture or Asset.
//!
//! A report ConfigMap is a typed channel: it yields reports only (every other kind of
//! document in it is refused with a warning, never applied), every report in it carries
//! the ConfigMap's own [`Channel`], and all its keys share one read budget.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::Warning;
use super::document::{Parsed, Reading, bytes_in, warn};
use crate::model::{Channel, ObjectRef, Upload};
use crate::names::{
    APP_ANNOTATION, ASSET_ANNOTATION, DEFAULT_NAMESPACE, REPORT_LABEL, UPLOAD_NAMESPACE_ANNOTATION,
    UPLOADED_BY_ANNOTATION,
};

/// True for a core/v1 ConfigMap that carries the report label.
pub fn is_report_config_map(v: &Value) -> bool {
    // The core group: an apiVersion without a group part.
    v.get("apiVersion").and_then(Value::as_str).is_some_and(|a| !a.contains('/'))
        && v.get("kind").and_then(Value::as_str) == Some("ConfigMap")
        && v.pointer("/metadata/labels").and_then(|l| l.get(REPORT_LABEL)).is_some()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigMapDoc {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    binary_data: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    /// A `null` value (YAML `key:` with nothing after it) reads as empty, as the API server reads it.
    #[serde(default)]
    annotations: Option<BTreeMap<String, Option<String>>>,
}

/// Reads the reports a labelled ConfigMap carries and attributes them to the subject its
/// annotation names (`name` or `namespace/name`). Everything read from it carries its
/// channel: the ConfigMap, and the upload annotations when it has them (which count only in
/// Stance's own namespace: see `index::trust`).
pub(super) fn parse(
    reading: &mut Reading,
    origin: &str,
    v: &Value,
    out: &mut Vec<Parsed>,
    warnings: &mut Vec<Warning>,
) {
    let cm: ConfigMapDoc = match serde_path_to_error::deserialize(v) {
        Ok(cm) => cm,
        Err(e) => return warn(warnings, origin, format!("ConfigMap {}: {}: {}", object_name(v), e.path(), e.inner())),
    };
    let ns = cm.metadata.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(DEFAULT_NAMESPACE);
    let annotations = cm.metadata.annotations.unwrap_or_default();
    let annotation =
        |key: &str| annotations.get(key).and_then(|a| a.as_deref()).map(str::trim).filter(|a| !a.is_empty());
    let subject = annotation(APP_ANNOTATION)
        .map(|a| ("AppPosture", a))
        .or_else(|| annotation(ASSET_ANNOTATION).map(|a| ("Asset", a)))
        .map(|(kind, value)| match value.split_once('/') {
            Some((n, name)) => ObjectRef::new(kind, Some(n), name),
            None => ObjectRef::new(kind, Some(ns), value),
        });
    let upload = match (annotation(UPLOADED_BY_ANNOTATION), annotation(UPLOAD_NAMESPACE_ANNOTATION)) {
        (Some(by), Some(for_ns)) => Some(Upload { uploader: Arc::from(by), namespace: Arc::from(for_ns) }),
        _ => None,
    };
    let name = cm.metadata.name.as_deref().unwrap_or("<unnamed>");
    let channel = Channel::ReportConfigMap { namespace: Arc::from(ns), name: Arc::from(name), upload };
    let outer = std::mem::replace(&mut reading.provenance.channel, channel);
    let mut parsed = Vec::new();
    for (key, text) in cm.data.iter().flatten() {
        bytes_in(
            reading,
            &format!("{origin} (ConfigMap {ns}/{name} data.{key})"),
            text.as_bytes(),
            &mut parsed,
            warnings,
        );
    }
    for (key, encoded) in cm.binary_data.iter().flatten() {
        let at = format!("{origin} (ConfigMap {ns}/{name} binaryData.{key})");
        match base64::engine::general_purpose::STANDARD.decode(encoded.trim()) {
            Ok(bytes) => bytes_in(reading, &at, &bytes, &mut parsed, warnings),
            Err(e) => warn(warnings, &at, format!("not base64: {e}")),
        }
    }
    reading.provenance.channel = outer;
    for p in &mut parsed {
        if let Parsed::Report(r) = p
            && r.subject.is_none()
        {
            r.subject = subject.clone();
        }
    }
    out.extend(parsed);
}

/// `namespace/name` (or `name`) of an object, for messages.
pub fn object_name(v: &Value) -> String {
    let name = v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("<unnamed>");
    match v.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}
