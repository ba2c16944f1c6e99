//! Issue 12's done-when: an operator restart keeps every first-seen date — `stance operator
//! --history` against the local kube-apiserver (+ kube-controller-manager) and a real store
//! (the PostgreSQL `hack/test.sh` starts, and a SQLite file).
//!
//! The storefront timeline of examples/history in a live namespace: the real Trivy Operator
//! report of `nginx:1.23.3-alpine` re-pointed at the ReplicaSet the controller-manager
//! creates; the operator records every finding; it stops; the report is rewritten with a
//! later `updateTimestamp` (a store that re-inserted would move every first-seen date to it);
//! the operator starts again and every first-seen date is unchanged. Then the image is
//! upgraded to `1.23.4-alpine` (its report lacks 17 findings): those are fixed; rolled back:
//! they reopen, first seen still the first scan's time.
//!
//! Each run writes under its own `--cluster-name`, so runs share one PostgreSQL database.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::cluster::{self, eventually};
use common::operator::{Operator, vr_api};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use stance_core::lifecycle::{FindingKey, SubjectRef, Tracker};
use stance_history::{HistoryUrl, Store};

const T: Duration = Duration::from_secs(90);

/// One scenario at a time: every operator watches (and records) the whole cluster, so
/// operators of parallel scenarios load the machine and write each other's statuses.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const V1_IMAGE: &str = "nginx:1.23.3-alpine";
const V2_IMAGE: &str = "nginx:1.23.4-alpine";

/// examples/history/VERSION/vulnerabilityreport.json re-pointed at ReplicaSet `rs` of `ns`
/// (labels and owner reference as Trivy Operator writes them).
fn report(version: &str, ns: &str, rs: &ReplicaSet) -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/history/{version}/vulnerabilityreport.json"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rs_name = rs.name_any();
    let md = &mut v["metadata"];
    md["name"] = json!(format!("replicaset-{rs_name}-nginx"));
    md["namespace"] = json!(ns);
    md["labels"]["trivy-operator.resource.name"] = json!(rs_name);
    md["labels"]["trivy-operator.resource.namespace"] = json!(ns);
    md["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
        "uid": rs.uid().unwrap(), "controller": true, "blockOwnerDeletion": false}]);
    v
}

fn report_time(report: &Value) -> Timestamp {
    report["report"]["updateTimestamp"].as_str().unwrap().parse().unwrap()
}

/// The ReplicaSet of `deployment` running `image` (created by kube-controller-manager).
async fn replica_set(client: &Client, ns: &str, image: &str) -> ReplicaSet {
    eventually(T, || async {
        Api::<ReplicaSet>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|rs| {
                rs.spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .and_then(|t| t.spec.as_ref())
                    .is_some_and(|p| p.containers.iter().any(|c| c.image.as_deref() == Some(image)))
            })
    })
    .await
}

async fn set_image(client: &Client, ns: &str, image: &str) {
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": image}]}}}});
    Api::<Deployment>::namespaced(client.clone(), ns)
        .patch("storefront", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .unwrap();
}

/// The storefront's lifecycles in the store, by finding identity, and the time of the
/// cluster's last observation written.
async fn stored(
    url: &HistoryUrl,
    cluster: &str,
    ns: &str,
) -> (BTreeMap<FindingKey, stance_core::lifecycle::Record>, Option<Timestamp>) {
    let Ok(store) = Store::open(url, cluster).await else { return (BTreeMap::new(), None) };
    let tracker: Tracker = store.load().await.unwrap_or_default();
    let observed =
        store.reader().clusters().await.unwrap_or_default().into_iter().find(|(c, _)| c == cluster).map(|(_, t)| t);
    store.close().await;
    let app = SubjectRef::app(ns, "storefront");
    let records = tracker.records().filter(|(s, _, _)| **s == app).map(|(_, k, r)| (k.clone(), *r)).collect();
    (records, observed)
}

/// Waits until the operator has written an observation made after `after` that `accept`s.
async fn observed_after(
    url: &HistoryUrl,
    cluster: &str,
    ns: &str,
    after: Timestamp,
    accept: impl Fn(&BTreeMap<FindingKey, stance_core::lifecycle::Record>) -> bool,
) -> BTreeMap<FindingKey, stance_core::lifecycle::Record> {
    eventually(T, || async {
        let (records, observed) = stored(url, cluster, ns).await;
        (observed.is_some_and(|t| t > after) && accept(&records)).then_some(records)
    })
    .await
}

fn start(cluster: &str, ns: &str, url: &str) -> Operator {
    start_with(cluster, ns, url, &[])
}

fn start_with(cluster: &str, ns: &str, url: &str, extra: &[&str]) -> Operator {
    let mut args = vec!["--history", url, "--cluster-name", cluster];
    args.extend(extra);
    Operator::start_with(&format!("history-{cluster}"), ns, ns, &args)
}

/// What a lifecycle's dates are: (first seen, opened, fixed, cycle).
type Dates = (Timestamp, Timestamp, Option<Timestamp>, u32);

fn dates(records: &BTreeMap<FindingKey, stance_core::lifecycle::Record>) -> BTreeMap<FindingKey, Dates> {
    records.iter().map(|(k, r)| (k.clone(), (r.first_seen, r.opened, r.fixed, r.cycle))).collect()
}

/// A fresh namespace with the storefront (its AppPosture at `criticality`, its Deployment on
/// the v1 image); deleted when the returned guard drops.
async fn storefront(client: &Client, prefix: &str, criticality: &str) -> (String, Cleanup) {
    cluster::install_crds(client, cluster::stance_crds()).await;
    cluster::install_crds(client, cluster::fixture_crds("trivy-operator")).await;
    let ns = cluster::namespace(client, prefix).await;
    let cleanup = Cleanup(ns.clone());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/history");
    let app: Value =
        serde_yaml::Deserializer::from_str(&std::fs::read_to_string(root.join("stance/storefront.yaml")).unwrap())
            .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
            .find(|v| v["kind"] == "AppPosture")
            .unwrap();
    let deployment: Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("v1/storefront.yaml")).unwrap()).unwrap();
    let mut app: DynamicObject = serde_json::from_value(app).unwrap();
    app.metadata.namespace = Some(ns.clone());
    app.data["spec"]["criticality"] = json!(criticality);
    let ar = ApiResource::erase::<stance::api::AppPosture>(&());
    Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &ar).create(&PostParams::default(), &app).await.unwrap();
    let mut deployment: Deployment = serde_json::from_value(deployment).unwrap();
    deployment.metadata.namespace = Some(ns.clone());
    // No kubelet runs the Pods, so a rolling update would wait forever for the new ones to be
    // ready: Recreate swaps the ReplicaSets at once.
    deployment.spec.as_mut().unwrap().strategy = Some(serde_json::from_value(json!({"type": "Recreate"})).unwrap());
    Api::<Deployment>::namespaced(client.clone(), &ns).create(&PostParams::default(), &deployment).await.unwrap();
    (ns, cleanup)
}

async fn scenario(url_text: String, prefix: &str) {
    let url: HistoryUrl = url_text.parse().unwrap();
    let client = cluster::client().await;
    let (ns, _cleanup) = storefront(&client, prefix, "high").await;
    // Unique per run: runs share one PostgreSQL database.
    let cluster_name = ns.clone();

    let reports = vr_api(&client, &ns);
    let rs1 = replica_set(&client, &ns, V1_IMAGE).await;
    let v1 = report("v1", &ns, &rs1);
    let first = report_time(&v1);
    let v1_obj: DynamicObject = serde_json::from_value(v1.clone()).unwrap();
    reports.create(&PostParams::default(), &v1_obj).await.unwrap();

    // 1. The operator records every finding, first seen when the report says the scanner saw it.
    let started = Timestamp::now();
    let op = start(&cluster_name, &ns, &url_text);
    let recorded = observed_after(&url, &cluster_name, &ns, started, |r| !r.is_empty()).await;
    let n1 = recorded.len();
    assert!(n1 > 20, "{n1} lifecycles recorded");
    assert!(recorded.values().all(|r| r.first_seen == first && r.fixed.is_none() && r.cycle == 1), "{recorded:#?}");
    op.stop();

    // 2. The report is rewritten with later dates while the operator is down.
    let later = "2026-11-20T08:00:00Z";
    let patch = json!({"report": {"updateTimestamp": later}});
    reports.patch(&v1_obj.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    let restarted = Timestamp::now();
    let op = start(&cluster_name, &ns, &url_text);
    let after_restart = observed_after(&url, &cluster_name, &ns, restarted, |_| true).await;
    // Every first-seen date is unchanged, nothing was fixed or reopened.
    assert_eq!(dates(&after_restart), dates(&recorded), "a restart on a re-dated report changed the lifecycles");

    // 3. The upgrade: a new ReplicaSet, its report without the fixed findings.
    set_image(&client, &ns, V2_IMAGE).await;
    let rs2 = replica_set(&client, &ns, V2_IMAGE).await;
    let v2 = report("v2", &ns, &rs2);
    reports.create(&PostParams::default(), &serde_json::from_value(v2).unwrap()).await.unwrap();
    let upgraded = observed_after(&url, &cluster_name, &ns, restarted, |r| r.values().any(|r| r.fixed.is_some())).await;
    let fixed: Vec<&FindingKey> = upgraded.iter().filter(|(_, r)| r.fixed.is_some()).map(|(k, _)| k).collect();
    let kept: Vec<&FindingKey> = upgraded.iter().filter(|(_, r)| r.fixed.is_none()).map(|(k, _)| k).collect();
    assert!(!fixed.is_empty() && !kept.is_empty(), "fixed {fixed:?}, kept {kept:?}");
    // The upgrade brings no finding of its own in this timeline (examples/history/derive.py).
    assert_eq!(upgraded.len(), n1);
    assert!(upgraded.values().all(|r| r.first_seen == first), "{upgraded:#?}");

    // 4. Rolled back: the old ReplicaSet runs again (its report is still there): reopened.
    set_image(&client, &ns, V1_IMAGE).await;
    let rolled =
        observed_after(&url, &cluster_name, &ns, restarted, |r| fixed.iter().all(|k| r[*k].fixed.is_none())).await;
    for k in &fixed {
        let r = &rolled[*k];
        assert_eq!((r.cycle, r.first_seen), (2, first), "{k:?} reopened: {r:?}");
        assert!(r.opened > first);
    }
    for k in &kept {
        assert_eq!((rolled[*k].cycle, rolled[*k].first_seen), (1, first), "{k:?}");
    }
    op.stop();
}

/// Deletes the test's namespace when the scenario ends, failed or not, and waits until it is
/// gone: tests after this one must not find its objects (an image's discovered Asset counts
/// every namespace running the repository).
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(kubectl) = std::env::var("STANCE_TEST_KUBECTL") {
            let _ = std::process::Command::new(kubectl)
                .env("KUBECONFIG", cluster::kubeconfig_path())
                .args(["delete", "namespace", &self.0, "--wait=true", "--timeout=120s"])
                .output();
        }
    }
}

#[tokio::test]
#[ignore = "needs a Kubernetes API server and PostgreSQL: run hack/test.sh"]
async fn operator_restart_keeps_first_seen_on_postgres() {
    let _serial = SERIAL.lock().await;
    let base = std::env::var("STANCE_TEST_POSTGRES_URL")
        .expect("set STANCE_TEST_POSTGRES_URL (hack/test.sh starts PostgreSQL with hack/postgres.sh and sets it)");
    scenario(base, "hist-pg").await;
}

#[tokio::test]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
async fn operator_restart_keeps_first_seen_on_sqlite() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    scenario(format!("sqlite:{}/history.db", dir.path().display()), "hist-sqlite").await;
}

/// Events in `ns` with `reason` about the object named `name`: their notes.
async fn events(client: &Client, ns: &str, reason: &str, name: &str) -> Vec<String> {
    Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| e.note.unwrap_or_default())
        .collect()
}

/// The history's Events: the store down and back (on the leader Lease), and the findings of
/// a critical application that pass their due date while the operator watches (on its
/// AppPosture; at most 10, the rest counted), announced once, also across a restart.
#[tokio::test]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
async fn events_tell_the_store_down_and_back_and_findings_becoming_overdue() {
    let _serial = SERIAL.lock().await;
    let client = cluster::client().await;
    let (ns, _cleanup) = storefront(&client, "hist-events", "critical").await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("not-yet");
    let url = format!("sqlite:{}/history.db", folder.display());

    // The report says its scanner saw the findings a day ago, less a minute: with one-day
    // deadlines, every finding falls due a minute from now.
    let rs1 = replica_set(&client, &ns, V1_IMAGE).await;
    let mut v1 = report("v1", &ns, &rs1);
    let due = Timestamp::now() + jiff::SignedDuration::from_secs(60);
    v1["report"]["updateTimestamp"] = json!((due - jiff::SignedDuration::from_hours(24)).to_string());
    let findings = v1["report"]["vulnerabilities"].as_array().unwrap().len();
    vr_api(&client, &ns).create(&PostParams::default(), &serde_json::from_value(v1).unwrap()).await.unwrap();
    let deadlines = ["--remediation-days", "critical=1,high=1,medium=1,low=1"];
    let internet = ["--remediation-internet-days", "critical=1,high=1"];
    let flags = [deadlines, internet].concat();
    let op = start_with(&ns, &ns, &url, &flags);

    // The store is down (its folder is missing), then back.
    let lease = "stance-operator";
    let down = eventually(T, || async { events(&client, &ns, "HistoryStoreDown", lease).await.pop() }).await;
    assert!(down.contains("history.db") && down.contains("in memory"), "{down}");
    assert!(events(&client, &ns, "HistoryStoreUp", lease).await.is_empty());
    std::fs::create_dir_all(&folder).unwrap();
    eventually(T, || async { events(&client, &ns, "HistoryStoreUp", lease).await.pop() }).await;
    assert!(Timestamp::now() < due, "the test was too slow to see the findings fall due");
    assert!(events(&client, &ns, "FindingOverdue", "storefront").await.is_empty());

    // They fall due: 10 Events, then one with the count of the others.
    let overdue = eventually(Duration::from_secs(180), || async {
        Some(events(&client, &ns, "FindingOverdue", "storefront").await).filter(|e| e.len() > 10)
    })
    .await;
    let named: Vec<_> = overdue.iter().filter(|n| n.contains(" is overdue: first seen ")).collect();
    assert_eq!(named.len(), 10, "{overdue:#?}");
    let rest = format!("{} more findings became overdue", findings.saturating_sub(10));
    assert!(overdue.iter().any(|n| n.starts_with(&rest)), "{rest} in {overdue:#?}");
    op.stop();

    // A restart announces nothing again.
    let restarted = Timestamp::now();
    let op = start_with(&ns, &ns, &url, &flags);
    let parsed: HistoryUrl = url.parse().unwrap();
    observed_after(&parsed, &ns, &ns, restarted, |r| !r.is_empty()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(events(&client, &ns, "FindingOverdue", "storefront").await.len(), overdue.len());
    op.stop();
}
