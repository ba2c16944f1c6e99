//! `stance-synth`: writes the synthetic load-test data set (`stance_core::synthetic`) as files the
//! ordinary loader reads, so `stance webhook --state DIR` serves exactly what a cluster with
//! that many Trivy Operator reports would give it:
//!
//! - `reports/vulnerabilityreports-NNNN.json`: Trivy Operator `VulnerabilityReport`s in
//!   `List` objects (500 per file), one per image;
//! - `policies.yaml`: the synthetic GuardrailPolicies (every rule type and enforcement mode);
//! - `reviews/deployment.json`: an AdmissionReview of a Deployment whose three containers run
//!   scanned synthetic images (the evaluation-heavy request of the load test).
//!
//! Usage: `stance-synth --out DIR [--images 5000] [--findings 100000] [--policies 50] [--seed 11]`.
//! Only the load-test script uses it (`hack/loadtest-webhook.sh`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};
use stance::api::{GuardrailPolicy, GuardrailPolicySpec};
use stance_core::model::{Artifact, Report};
use stance_core::synthetic::{self, Spec};

const PER_FILE: usize = 500;
/// When the synthetic reports say they scanned (a day before the load test's `--now`).
const SCANNED_AT: &str = "2026-11-26T00:00:00Z";

struct Args {
    out: PathBuf,
    images: usize,
    findings: usize,
    policies: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { out: PathBuf::new(), images: 5_000, findings: 100_000, policies: 50, seed: 11 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--out" => a.out = PathBuf::from(value()?),
            "--images" => a.images = number(value()?)?,
            "--findings" => a.findings = number(value()?)?,
            "--policies" => a.policies = number(value()?)?,
            "--seed" => a.seed = number(value()?)? as u64,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.out.as_os_str().is_empty() {
        return Err("--out DIR is required".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| write_all(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "stance-synth: {e}\nusage: stance-synth --out DIR [--images N] [--findings N] [--policies N] [--seed N]"
            );
            ExitCode::from(2)
        }
    }
}

fn write_all(a: &Args) -> Result<(), String> {
    let spec = Spec { images: a.images, findings: a.findings, reports_per_image: 1, seed: a.seed };
    let reports = synthetic::reports(&spec);
    let dir = a.out.join("reports");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut findings = 0;
    for (n, chunk) in reports.chunks(PER_FILE).enumerate() {
        let items: Vec<Value> = chunk.iter().enumerate().map(|(i, r)| report_cr(n * PER_FILE + i, r)).collect();
        findings += chunk.iter().map(|r| r.findings.len()).sum::<usize>();
        write(
            &dir.join(format!("vulnerabilityreports-{n:04}.json")),
            &json!({"apiVersion": "v1", "kind": "List", "items": items}),
        )?;
    }
    let policies: Vec<String> = synthetic::policy_specs(a.policies)
        .into_iter()
        .map(|(name, spec)| {
            let spec: GuardrailPolicySpec = serde_yaml::from_str(spec).map_err(|e| e.to_string())?;
            serde_yaml::to_string(&GuardrailPolicy::new(&name, spec)).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let path = a.out.join("policies.yaml");
    std::fs::write(&path, policies.join("---\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    let reviews = a.out.join("reviews");
    std::fs::create_dir_all(&reviews).map_err(|e| format!("{}: {e}", reviews.display()))?;
    write(&reviews.join("deployment.json"), &deployment_review(&[1, 2, 3]))?;
    println!(
        "wrote {} VulnerabilityReports ({findings} findings over {} images), {} policies and a Deployment review to {}",
        reports.len(),
        a.images,
        a.policies,
        a.out.display()
    );
    Ok(())
}

fn write(path: &Path, v: &Value) -> Result<(), String> {
    let bytes = serde_json::to_vec(v).map_err(|e| e.to_string())?;
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// A Trivy Operator VulnerabilityReport of the report's image, as the operator writes it
/// for the container of a ReplicaSet.
fn report_cr(n: usize, r: &Report) -> Value {
    let Some(Artifact::Image(img)) = r.scanned.first() else { return Value::Null };
    let ns = format!("team-{}", n % 100);
    let rs = format!("service-{n}-7d9f8c6b5");
    let vulnerabilities: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let p = f.package.as_ref();
            json!({
                "vulnerabilityID": f.id.as_ref(),
                "resource": p.map_or("", |p| &*p.name),
                "installedVersion": p.and_then(|p| p.installed_version.as_deref()).unwrap_or(""),
                "fixedVersion": p.and_then(|p| p.fixed_version.as_deref()).unwrap_or(""),
                "severity": f.severity.as_str(),
                "title": f.title.as_ref(),
                "primaryLink": format!("https://avd.aquasec.com/nvd/{}", f.id.to_lowercase()),
                "score": f.cvss,
            })
        })
        .collect();
    json!({
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": format!("replicaset-{rs}-main"),
            "namespace": ns,
            "labels": {
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": rs,
                "trivy-operator.resource.namespace": ns,
                "trivy-operator.container.name": "main",
            },
        },
        "report": {
            "artifact": {"repository": img.repository.as_ref(), "tag": img.tag.as_deref()},
            "registry": {"server": img.registry.as_ref()},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.50.0"},
            "updateTimestamp": SCANNED_AT,
            "vulnerabilities": vulnerabilities,
        },
    })
}

/// An AdmissionReview (CREATE) of a Deployment running the given synthetic images.
fn deployment_review(images: &[usize]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(c, i)| {
            json!({
                "name": format!("c{c}"), "image": synthetic::image(*i).to_string(),
                "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true},
                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
            })
        })
        .collect();
    let object = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "t"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web", "team": "t"}}, "spec": {"containers": containers}}},
    });
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "7f3b9c1e-5d2a-4e8f-9b6c-0a1d2e3f4a5b",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "web", "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "ci-deployer", "groups": ["system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
        },
    })
}
