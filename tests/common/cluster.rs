//! Helpers for tests against a real kube-apiserver (started by `hack/local-cluster.sh up`;
//! `hack/test.sh` does it and runs the cluster tests). Cluster tests are marked
//! `#[ignore = "needs a Kubernetes API server: run hack/test.sh"]`, so a plain
//! `cargo test` lists them as ignored with that reason instead of silently passing.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// The kubeconfig of the test cluster: `STANCE_TEST_KUBECONFIG`, else `KUBECONFIG`.
pub fn kubeconfig_path() -> PathBuf {
    std::env::var_os("STANCE_TEST_KUBECONFIG").or_else(|| std::env::var_os("KUBECONFIG")).map(PathBuf::from).expect(
        "this test needs a Kubernetes API server: run `hack/test.sh`, or `eval \"$(hack/local-cluster.sh up)\"` and set \
         STANCE_TEST_KUBECONFIG=$KUBECONFIG",
    )
}

/// A client for the test cluster.
pub async fn client() -> Client {
    let path = kubeconfig_path();
    let kc = Kubeconfig::read_from(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await.expect("kubeconfig loads");
    Client::try_from(config).expect("client")
}

/// A fresh namespace named `<prefix>-<random>`; deleted when the returned guard drops.
pub async fn namespace(client: &Client, prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("{prefix}-{:x}", nanos ^ std::process::id());
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.expect("create namespace");
    name
}

pub async fn delete_namespace(client: &Client, name: &str) {
    let _ = Api::<Namespace>::all(client.clone()).delete(name, &DeleteParams::default()).await;
}

/// Creates (or keeps) CRDs and waits until each is Established.
pub async fn install_crds(client: &Client, crds: Vec<CustomResourceDefinition>) {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap();
        match api.create(&PostParams::default(), &crd).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => panic!("create CRD {name}: {e}"),
        }
        let established =
            kube::runtime::wait::await_condition(api.clone(), &name, kube::runtime::conditions::is_crd_established());
        tokio::time::timeout(Duration::from_secs(30), established)
            .await
            .expect("CRD established in 30s")
            .expect("watch");
    }
}

/// Stance's CRDs from `crds/` (the same bytes the chart ships).
pub fn stance_crds() -> Vec<CustomResourceDefinition> {
    read_crds(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crds"))
}

/// The Trivy Operator / PolicyReport / OpenReports CRDs from `../shared/fixtures/crds/<dir>`.
pub fn fixture_crds(dir: &str) -> Vec<CustomResourceDefinition> {
    read_crds(&super::fixture_path(&format!("crds/{dir}")))
}

fn read_crds(dir: &std::path::Path) -> Vec<CustomResourceDefinition> {
    let mut out = Vec::new();
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = <serde_json::Value as serde::Deserialize>::deserialize(doc).unwrap();
            if v.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition") {
                out.push(serde_json::from_value(v).unwrap());
            }
        }
    }
    out
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "condition not met within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
