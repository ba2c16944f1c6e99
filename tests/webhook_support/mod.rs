//! Builders shared by the webhook tests: indexes from YAML plus real fixtures, AdmissionReviews
//! from the kubewarden fixtures or from manifests, and answers read back with kube's own
//! admission types (so every answer is checked to be what kube-rs — and the API server —
//! can read).
#![allow(dead_code)]

use jiff::Timestamp;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionResponse, AdmissionReview};
use serde_json::{Value, json};
use stance::webhook::{Handled, HandlerOptions, handle};
use stance_core::index::PostureIndex;

#[path = "../common/mod.rs"]
pub mod common;

pub const NOW: &str = "2026-11-27T12:00:00Z";
pub const SPRING: &str = "ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11";
pub const ALPINE: &str = "ghcr.io/aquasecurity/trivy-test-images:alpine-310";
/// Scanned by the Trivy Operator VulnerabilityReport fixture (CVE-2023-23914 CRITICAL in curl).
pub const NGINX_ALPINE: &str = "nginx:alpine";

pub const SPRING_GOLDEN: &str = "trivy/spring4shell-jre11.json.golden";
pub const ALPINE_GOLDEN: &str = "trivy/alpine-310.json.golden";
pub const NGINX_REPORT: &str = "defectdojo/trivy_operator/vulnerabilityreport_many.json";
pub const KEV: &str = "kev/known_exploited_vulnerabilities.json";
pub const REPORTS: [&str; 4] = [SPRING_GOLDEN, ALPINE_GOLDEN, NGINX_REPORT, KEV];

/// The five complete AdmissionReviews of kubewarden/load-testing.
pub const LOAD_TESTING: [&str; 5] = [
    "kubewarden-load-testing/policy-apparmor-accept-request.json",
    "kubewarden-load-testing/policy-user-group-accept-request.json",
    "kubewarden-load-testing/policy-user-group-mutate-request.json",
    "kubewarden-load-testing/policy-user-group-reject-request.json",
    "kubewarden-load-testing/req_for_secure_pod_images.json",
];

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

#[allow(unused_imports)] // not every test binary that includes this module builds indexes
pub use common::mk_index;

/// A GuardrailPolicy document.
pub fn policy(name: &str, enforcement: &str, extra: &str, rules: &str) -> String {
    format!(
        "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: GuardrailPolicy\nmetadata: {{name: {name}}}\nspec:\n  enforcement: {enforcement}\n{extra}  rules:\n{rules}"
    )
}

/// A RiskException document.
pub fn exception(ns: &str, name: &str, findings: &str, expires: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: RiskException\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  findings: {findings}\n  justification: waf rule in place\n  expires: \"{expires}\"\n{extra}"
    )
}

pub const KEV_RULE: &str = "  - name: kev\n    vulnerabilities: {maxSeverity: MEDIUM, knownExploitedOnly: true}\n";

/// A fixture as JSON.
pub fn fixture_json(rel: &str) -> Value {
    serde_json::from_slice(&common::fixture_bytes(rel)).unwrap()
}

/// Wraps a bare AdmissionRequest in an `admission.k8s.io/v1` AdmissionReview.
pub fn wrap(request: Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// The group of a workload kind's API.
pub fn group_of(kind: &str) -> &'static str {
    match kind {
        "Pod" => "",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps",
        "Job" | "CronJob" => "batch",
        _ => "example.com",
    }
}

/// A review of `object` (its `kind` and `metadata.namespace` are used).
pub fn review_of(operation: &str, object: Value, old: Option<Value>) -> Value {
    let kind = object["kind"].as_str().unwrap_or("Pod").to_string();
    let ns = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string();
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let group = object["apiVersion"].as_str().and_then(|v| v.rsplit_once('/')).map_or("", |(g, _)| g).to_string();
    wrap(json!({
        "uid": format!("uid-{kind}-{name}-{operation}"),
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
        "name": name, "namespace": ns, "operation": operation,
        "userInfo": {"username": "dev@example.com", "groups": ["system:authenticated"]},
        "object": object, "oldObject": old, "dryRun": false,
    }))
}

/// A Deployment manifest as JSON.
pub fn deployment(ns: &str, name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "team": "t"}},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{
                "name": "main", "image": image,
                "securityContext": {"allowPrivilegeEscalation": false},
                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}}
    })
}

/// Runs the handler on a review value.
pub fn run(index: &PostureIndex, review: &Value) -> Handled {
    handle(&serde_json::to_vec(review).unwrap(), index, now(), &HandlerOptions::default())
}

/// The answer, read with kube's types (fails the test when kube cannot read it).
pub fn answer(h: &Handled) -> AdmissionResponse {
    let r: AdmissionReview<DynamicObject> = serde_json::from_slice(&h.body)
        .unwrap_or_else(|e| panic!("kube cannot read the answer ({e}): {}", String::from_utf8_lossy(&h.body)));
    assert_eq!(r.types.api_version, "admission.k8s.io/v1");
    assert_eq!(r.types.kind, "AdmissionReview");
    r.response.expect("an answer has a response")
}

pub mod process;
