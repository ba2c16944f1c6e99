//! Operator resilience against a real kube-apiserver: two replicas with one leader and
//! failover, reports carried in ConfigMaps, and recovery after the API server is killed
//! and restarted mid-run. One test (the restart would disturb concurrent tests).

mod common;

use std::time::Duration;

use common::cluster::{self, eventually};
use common::operator::Operator;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;
use stance::api::AppPosture;

const T: Duration = Duration::from_secs(90);

async fn leader_of(ops: &[&Operator]) -> Vec<bool> {
    let mut out = Vec::new();
    for op in ops {
        out.push(op.is_leader().await);
    }
    out
}

/// Restarts the local cluster's kube-apiserver (etcd keeps its data), as `hack/local-cluster.sh`
/// does for a partly running cluster.
fn restart_apiserver() {
    let dir = std::env::var("STANCE_CLUSTER_DIR").unwrap_or_else(|_| "/tmp/stance-cluster".into());
    let pid = std::fs::read_to_string(format!("{dir}/run/kube-apiserver.pid"))
        .expect("the test cluster's kube-apiserver pid file");
    let status = std::process::Command::new("kill").arg("-9").arg(pid.trim()).status().unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_secs(2));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/local-cluster.sh");
    let out = std::process::Command::new(script).args(["up", &dir]).output().unwrap();
    assert!(out.status.success(), "restart failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
async fn replicas_elect_one_leader_read_configmaps_and_survive_an_api_server_restart() {
    let client = cluster::client().await;
    cluster::install_crds(&client, cluster::stance_crds()).await;
    let ns = cluster::namespace(&client, "ha").await;
    let apps: Api<AppPosture> = Api::namespaced(client.clone(), &ns);
    apps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "AppPosture",
            "metadata": {"name": "storefront", "namespace": ns},
            "spec": {"criticality": "high", "repositories": ["https://github.com/acme/storefront"]}}))
        .unwrap(),
    )
    .await
    .unwrap();

    // Two replicas: exactly one leads.
    let a = Operator::start("ha-a", &ns, &ns);
    let b = Operator::start("ha-b", &ns, &ns);
    a.wait_ready().await;
    b.wait_ready().await;
    let leaders =
        eventually(T, || async { Some(leader_of(&[&a, &b]).await).filter(|l| l.iter().filter(|x| **x).count() == 1) })
            .await;

    // A SAST result uploaded by CI as a labelled ConfigMap attributed to the app.
    let sarif = String::from_utf8(common::fixture_bytes("secobserve/sarif/semgrep.sarif")).unwrap();
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "storefront-semgrep", "namespace": ns,
            "labels": {"aspm.stance.dev/report": "sarif"}, "annotations": {"aspm.stance.dev/app": "storefront"}},
        "data": {"semgrep.sarif": sarif}
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), &ns).create(&PostParams::default(), &cm).await.unwrap();
    let expected = {
        let mut l = stance::ingest::Loaded::default();
        l.add_bytes("semgrep.sarif", sarif.as_bytes());
        l.reports.iter().map(|r| r.findings.len()).sum::<usize>() as u32
    };
    let status =
        eventually(T, || async { apps.get("storefront").await.ok()?.status.filter(|s| s.findings.total > 0) }).await;
    assert_eq!(status.findings.total, expected, "every SARIF result, de-duplicated");
    assert_eq!(status.findings_by_source.get("sarif"), Some(&expected));

    // Kill the leader: the other takes over within a lease duration (15s) plus retries.
    let (leader, follower) = if leaders[0] { (a, b) } else { (b, a) };
    // A hard kill: the Lease is not released, the follower takes over once it expires.
    leader.kill();
    eventually(T, || async { Some(leader_of(&[&follower]).await).filter(|l| l[0]) }).await;

    // Kill and restart the API server mid-run; the operator's watches recover and a change
    // made afterwards still reaches the status.
    restart_apiserver();
    let client = cluster::client().await;
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    eventually(T, || async { cms.get("storefront-semgrep").await.ok() }).await;
    let mut cm = cms.get("storefront-semgrep").await.unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&cm.data.as_ref().unwrap()["semgrep.sarif"]).unwrap();
    // Keep only the first result.
    v["runs"][0]["results"].as_array_mut().unwrap().truncate(1);
    cm.data = Some([("semgrep.sarif".to_string(), v.to_string())].into());
    cms.replace("storefront-semgrep", &PostParams::default(), &cm).await.unwrap();
    let apps: Api<AppPosture> = Api::namespaced(client.clone(), &ns);
    eventually(T, || async { apps.get("storefront").await.ok()?.status.filter(|s| s.findings.total == 1) }).await;
    follower.wait_ready().await;
    follower.stop();
    cluster::delete_namespace(&client, &ns).await;
}
