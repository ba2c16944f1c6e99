//! Applications inferred from labels and findings on artifacts that run nowhere (issue 11
//! §1): `stance scan` shows every finding before anyone writes an AppPosture.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures")
}

fn scan_json(paths: &[PathBuf]) -> Value {
    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["scan", "--format", "json", "--top", "1000", "--now", NOW])
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn total(v: &Value) -> u64 {
    v["findings"]["total"].as_u64().unwrap() + v["suppressedFindings"].as_u64().unwrap()
}

/// A folder of real scanner reports and no cluster objects: every finding the summary
/// counts is listed under "not running", one entry per artifact, none dropped.
#[test]
fn a_reports_only_folder_shows_every_finding_as_not_running() {
    let f = fixtures();
    let files: Vec<PathBuf> = [
        "trivy/alpine-310.json.golden",
        "trivy/spring4shell-jre11.json.golden",
        "trivy/secrets.json.golden",
        "trivy/gomod-vex.json.golden",
        "trivy-operator/vulnerability_report.json",
        "grype",
        "sarif-sdk",
    ]
    .iter()
    .map(|p| f.join(p))
    .collect();
    let v = scan_json(&files);
    let s = &v["summary"];
    assert_eq!(s["apps"], 0);
    assert_eq!(s["inferredApps"], 0);
    let findings = s["findings"].as_u64().unwrap();
    assert!(findings > 50, "the fixtures hold findings: {s:#}");
    let not_running = v["notRunning"].as_array().unwrap();
    assert_eq!(not_running.len() as u64, s["notRunning"].as_u64().unwrap());
    assert_eq!(not_running.iter().map(total).sum::<u64>(), findings, "every finding appears exactly once");
    // One entry per artifact, highest risk first.
    let mut artifacts: Vec<&str> = not_running.iter().map(|n| n["artifact"].as_str().unwrap()).collect();
    let scores: Vec<u64> = not_running.iter().map(|n| n["riskScore"].as_u64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    artifacts.sort();
    artifacts.dedup();
    assert_eq!(artifacts.len(), not_running.len());
    assert!(artifacts.contains(&"image:ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11"), "{artifacts:?}");

    // The table says so too, instead of an empty application table.
    let out = Command::cargo_bin("stance").unwrap().args(["scan", "--now", NOW]).args(&files).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("No AppPosture declares an application"), "{text}");
    assert!(text.contains("Not running ("), "{text}");
    assert!(text.contains("image:ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11: risk"), "{text}");
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Names come from the recommended labels in order, then Argo CD's, then the workload; a
/// workload an AppPosture selects is never inferred; findings of the image follow the
/// inferred application and are ranked with its detected exposure.
#[test]
fn workloads_no_app_posture_selects_form_inferred_applications() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = |name: &str, labels: &str, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{{labels}}}\n\
             spec:\n  selector: {{matchLabels: {{x: {name}}}}}\n  template:\n    metadata:\n      labels: {{x: {name}, {labels}}}\n\
             \x20   spec:\n      containers:\n      - name: c\n        image: {image}\n---\n"
        )
    };
    let mut manifests = String::new();
    manifests +=
        &deployment("web", "app.kubernetes.io/part-of: shop, app.kubernetes.io/name: web, team: web-team", "nginx:1");
    manifests += &deployment("worker", "app.kubernetes.io/name: shop", "nginx:2");
    manifests += &deployment("cart", "app: cart, app.kubernetes.io/instance: ignored", "nginx:3");
    manifests += &deployment("argo", "argocd.argoproj.io/instance: gitops-app", "nginx:4");
    manifests += &deployment("lonely", "tier: x", "nginx:5");
    manifests += &deployment("declared", "app: payments", "nginx:6");
    manifests += "apiVersion: aspm.stance.dev/v1alpha1\nkind: AppPosture\nmetadata: {name: payments, namespace: shop}\n\
                  spec: {selector: {matchLabels: {app: payments}}, criticality: high}\n---\n";
    manifests += "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  type: LoadBalancer\n  \
                  selector: {x: web}\n  ports: [{port: 80}]\n";
    write(dir.path(), "cluster.yaml", &manifests);
    let v = scan_json(&[dir.path().to_path_buf(), fixtures().join("trivy-operator/vulnerability_report.json")]);

    let declared: Vec<&str> = v["apps"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(declared, ["payments"]);
    assert_eq!(v["apps"][0]["inferred"], false);
    let inferred = v["inferredApps"].as_array().unwrap();
    let mut named: Vec<(String, String, Vec<String>)> = inferred
        .iter()
        .map(|a| {
            assert_eq!(a["inferred"], true);
            assert_eq!(a["criticality"], "medium");
            assert_eq!(a["namespace"], "shop");
            let ws = a["workloads"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect();
            (a["name"].as_str().unwrap().to_string(), a["namedBy"].as_str().unwrap().to_string(), ws)
        })
        .collect();
    named.sort();
    let expect =
        |n: &str, by: &str, ws: &[&str]| (n.to_string(), by.to_string(), ws.iter().map(|w| w.to_string()).collect());
    assert_eq!(
        named,
        [
            expect("cart", "app", &["Deployment/shop/cart"]),
            expect("gitops-app", "argocd.argoproj.io/instance", &["Deployment/shop/argo"]),
            expect("lonely", "workload name", &["Deployment/shop/lonely"]),
            // `part-of` wins over `name` for web; worker's `name` is the same application.
            expect("shop", "app.kubernetes.io/part-of", &["Deployment/shop/web", "Deployment/shop/worker"]),
        ]
    );
    let shop = inferred.iter().find(|a| a["name"] == "shop").unwrap();
    assert_eq!(shop["owner"], "web-team");
    assert_eq!(shop["exposure"], "internet", "detected from the LoadBalancer Service: {shop:#}");
    // The table marks them.
    let out = Command::cargo_bin("stance").unwrap().args(["scan", "--now", NOW]).arg(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("shop/shop (inferred)") && text.contains("Inferred applications"), "{text}");
}

/// The demo: its four AppPostures stay the application table; the privileged debug Pod no
/// AppPosture selects is an inferred application with its violations.
#[test]
fn the_demo_keeps_four_declared_applications_and_infers_the_debug_pod() {
    let v = scan_json(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo")]);
    assert_eq!(v["summary"]["apps"], 4);
    assert!(v["apps"].as_array().unwrap().iter().all(|a| a["inferred"] == false));
    let inferred = v["inferredApps"].as_array().unwrap();
    assert_eq!(inferred.len(), 1, "{inferred:#?}");
    assert_eq!(inferred[0]["name"], "debug-shell");
    assert_eq!(inferred[0]["namedBy"], "workload name");
    assert_eq!(inferred[0]["violations"].as_array().unwrap().len(), v["unownedViolations"].as_array().unwrap().len());
}
