//! Through a real kube-apiserver: `stance webhook` (self-signed, on 127.0.0.1) registered
//! as a ValidatingWebhookConfiguration scoped to this test's namespace. A Deployment running
//! a known-exploited image is refused by the API server with Stance's message, a compliant
//! one is admitted, a Warn policy's warning reaches kubectl, and server-side dry runs are
//! judged without side effects.
//!
//! Run with `hack/test.sh`, or against the local cluster:
//! `STANCE_TEST_KUBECONFIG=$(hack/local-cluster.sh kubeconfig) STANCE_TEST_KUBECTL=$(hack/local-cluster.sh kubectl-path)
//!  cargo test --test webhook_cluster -- --include-ignored`

mod webhook_support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use webhook_support::common::cluster;
use webhook_support::process::{Server, start, state_dir};
use webhook_support::*;

const LABEL: &str = "stance.dev/webhook-test";

/// Deletes the webhook configuration and the namespace even when the test fails: a
/// leftover `failurePolicy: Fail` webhook pointing at a dead port would refuse every write
/// in its scope. Uses kubectl synchronously (Drop cannot await).
struct Cleanup {
    kubectl: String,
    kubeconfig: String,
    webhook: String,
    namespace: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for args in [
            vec!["delete", "validatingwebhookconfiguration", self.webhook.as_str(), "--ignore-not-found"],
            vec!["delete", "namespace", self.namespace.as_str(), "--ignore-not-found", "--wait=false"],
        ] {
            let _ = Command::new(&self.kubectl).args(&args).arg("--kubeconfig").arg(&self.kubeconfig).status();
        }
    }
}

/// Runs kubectl with a manifest on stdin; returns (success, stdout, stderr).
fn kubectl(c: &Cleanup, args: &[&str], manifest: &Value) -> (bool, String, String) {
    let mut child = Command::new(&c.kubectl)
        .args(args)
        .args(["--kubeconfig", &c.kubeconfig, "-n", &c.namespace, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    child.stdin.take().unwrap().write_all(manifest.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// One sample of the webhook's metrics (0 when absent).
async fn sample(server: &Server, series: &str) -> f64 {
    let body = metrics_text(server).await;
    body.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok()).unwrap_or(0.0)
}

async fn metrics_text(server: &Server) -> String {
    use http_body_util::BodyExt;
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let res = client.get(format!("http://{}/metrics", server.metrics).parse().unwrap()).await.unwrap();
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
async fn the_api_server_enforces_stance_verdicts() {
    let kubectl_path = std::env::var("STANCE_TEST_KUBECTL")
        .expect("set STANCE_TEST_KUBECTL to a kubectl (hack/local-cluster.sh kubectl-path); hack/test.sh does");
    let client = cluster::client().await;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let unique = format!("webhook-{:x}", nanos ^ std::process::id());
    let cleanup = Cleanup {
        kubectl: kubectl_path,
        kubeconfig: cluster::kubeconfig_path().display().to_string(),
        webhook: format!("stance-test-{unique}"),
        namespace: unique.clone(),
    };
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": unique, "labels": {LABEL: unique}}})).unwrap();
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.expect("create namespace");

    let state = state_dir();
    let ca_path = state.path().join("ca.pem");
    let server =
        start(state.path(), &["--self-signed".into(), "--ca-bundle-out".into(), ca_path.display().to_string()]);
    let ca = std::fs::read(&ca_path).unwrap();
    let config: ValidatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": cleanup.webhook},
        "webhooks": [{
            "name": "validate.stance.dev",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "NoneOnDryRun",
            "failurePolicy": "Fail",
            "timeoutSeconds": 5,
            "clientConfig": {
                "url": format!("https://127.0.0.1:{}/validate", server.addr.port()),
                "caBundle": stance::webhook::self_signed::base64(&ca),
            },
            "namespaceSelector": {"matchLabels": {LABEL: unique}},
            "rules": [
                {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"]},
                {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                 "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"]},
                {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["jobs", "cronjobs"]},
            ],
        }],
    }))
    .unwrap();
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &config)
        .await
        .expect("register the webhook");

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &unique);
    let mk =
        |name: &str, image: &str| -> Deployment { serde_json::from_value(deployment(&unique, name, image)).unwrap() };

    // 1. A Deployment running Spring4Shell (KEV-listed) is refused by the API server with
    //    Stance's message (retried until the API server has picked up the configuration).
    let mut attempt = 0;
    let message = cluster::eventually(Duration::from_secs(30), || {
        attempt += 1;
        let (deployments, d) = (deployments.clone(), mk(&format!("risky-{attempt}"), SPRING));
        async move {
            match deployments.create(&PostParams::default(), &d).await {
                Err(e) => Some(e.to_string()),
                Ok(created) => {
                    // The configuration was not active yet: undo and retry.
                    let name = created.metadata.name.unwrap();
                    let _ = deployments.delete(&name, &DeleteParams::default()).await;
                    None
                }
            }
        }
    })
    .await;
    for needle in [
        "admission webhook \"validate.stance.dev\" denied the request",
        "Stance guardrails deny Deployment/",
        "CVE-2022-22965",
        "fixed in 5.3.18",
        SPRING,
        "ask for a RiskException in namespace stance-system",
    ] {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }

    // 2. A compliant Deployment (scanned, nothing known-exploited) is admitted.
    deployments.create(&PostParams::default(), &mk("compliant", ALPINE)).await.expect("compliant Deployment admitted");

    // 3. A Warn policy's warning reaches the client (kubectl prints it on stderr).
    let (ok, _, stderr) = kubectl(&cleanup, &["apply"], &deployment(&unique, "latest", "nginx"));
    assert!(ok, "{stderr}");
    assert!(stderr.contains("Warning: [no-latest/imageReference]") && stderr.contains("latest"), "{stderr}");

    // 4. Server-side dry runs are judged like real requests, with no side effects: the
    //    violation counter (which skips dry runs) does not move while the requests do.
    let denies = r#"stance_webhook_admission_requests_total{decision="deny",kind="Deployment",operation="CREATE"}"#;
    let violations = r#"stance_webhook_violations_total{policy="no-kev",enforcement="Enforce",effect="deny"}"#;
    let (denies_before, violations_before) = (sample(&server, denies).await, sample(&server, violations).await);
    let (ok, _, stderr) = kubectl(&cleanup, &["create", "--dry-run=server"], &deployment(&unique, "risky-dry", SPRING));
    assert!(!ok && stderr.contains("Stance guardrails deny") && stderr.contains("CVE-2022-22965"), "{stderr}");
    assert_eq!(sample(&server, denies).await, denies_before + 1.0);
    assert_eq!(sample(&server, violations).await, violations_before);
    let (ok, stdout, stderr) =
        kubectl(&cleanup, &["create", "--dry-run=server"], &deployment(&unique, "fine-dry", ALPINE));
    assert!(ok && stdout.contains("created (server dry run)"), "{stdout}{stderr}");
    assert!(deployments.get_opt("fine-dry").await.unwrap().is_none(), "a dry run stores nothing");

    drop(server);
    drop(cleanup);
}
