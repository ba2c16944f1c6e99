//! Operator load test against the local kube-apiserver (a benchmark, not a test).
//!
//!   hack/loadtest-operator.sh            # builds, starts the cluster, runs this, stops it
//!
//! Seeds 2,000 Deployments in 100 namespaces, 200 AppPostures and 4,000 Trivy Operator
//! VulnerabilityReports of 50–500 vulnerabilities each (real vulnerabilities from the
//! fixtures: Trivy Operator and Trivy JSON outputs), then starts the release `stance
//! operator` and measures: time from start to every AppPosture's status written; time
//! from a report change to the status change (p50/p99); the operator's RSS.
//! Sizes can be scaled down with STANCE_LOAD_DEPLOYMENTS (reports = 2 × deployments,
//! namespaces = deployments / 20, apps = deployments / 10).
//!
//! Side by side: STANCE_LOAD_BIN=/tmp/before:/tmp/after runs the rounds alternately with
//! those prebuilt operator binaries (default: target/release/stance). Before each operator
//! start, with STANCE_LOAD_CLUSTER_DIR (the state dir of hack/local-cluster.sh) and
//! STANCE_LOAD_SERVER set, `hack/list-reports-floor.py` pages through the same reports at
//! the operator's page size: the API server's own list time, the floor of convergence.
//! STANCE_LOAD_LOG=DIR keeps each start's operator log (STANCE_LOG=info) there.
//! STANCE_LOAD_FIRST_START=1 deletes the discovered image Assets before each start, so
//! every round is a first start on the cluster (the operator then creates about 2,000
//! Assets and writes their status while the changes are measured).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::ApiResource;
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};
use stance::api::AppPosture;

const CONCURRENCY: usize = 16;
const SIDECARS: usize = 5;

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures")
}

/// Real vulnerability entries (Trivy Operator shape) from the fixtures.
fn pool() -> Vec<Value> {
    let mut loaded = stance::ingest::Loaded::default();
    for f in ["defectdojo/trivy_operator", "trivy-operator", "trivy", "defectdojo/trivy"] {
        if let Ok(l) = stance::ingest::load_paths(&[fixtures().join(f)]) {
            loaded.reports.extend(l.reports);
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in loaded.reports.iter().flat_map(|r| &r.findings) {
        let (Some(p), stance_core::model::FindingKind::Vulnerability) = (&f.package, f.kind) else { continue };
        let installed = p.installed_version.as_deref().unwrap_or("0");
        if !seen.insert((f.id.to_string(), p.name.to_string(), installed.to_string())) {
            continue;
        }
        out.push(json!({
            "vulnerabilityID": &*f.id, "resource": &*p.name, "installedVersion": installed,
            "fixedVersion": p.fixed_version.as_deref().unwrap_or(" "), "severity": f.severity.as_str(),
            "title": &*f.title, "score": f.cvss.unwrap_or(5.0), "primaryLink": f.primary_url.as_deref().unwrap_or(" "),
            "publishedDate": " ", "lastModifiedDate": " ", "target": " ", "links": []
        }));
    }
    out
}

/// `n` vulnerabilities: the pool, then the pool again with renamed packages (distinct findings).
fn vulnerabilities(pool: &[Value], n: usize, salt: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut v = pool[(i + salt) % pool.len()].clone();
            let round = (i + salt) / pool.len();
            if round > 0 {
                v["resource"] = format!("{}-{round}", v["resource"].as_str().unwrap_or("pkg")).into();
            }
            v
        })
        .collect()
}

fn report(ns: &str, rs: &str, uid: &str, container: &str, image: (&str, &str), vulns: Vec<Value>) -> Value {
    let crit = vulns.iter().filter(|v| v["severity"] == "CRITICAL").count();
    let high = vulns.iter().filter(|v| v["severity"] == "HIGH").count();
    json!({
        "apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport",
        "metadata": {"name": format!("replicaset-{rs}-{container}"), "namespace": ns,
            "labels": {"trivy-operator.resource.kind": "ReplicaSet", "trivy-operator.resource.name": rs,
                "trivy-operator.resource.namespace": ns, "trivy-operator.container.name": container},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": uid, "controller": true}]},
        "report": {"artifact": {"repository": image.0, "tag": image.1}, "registry": {"server": "registry.example.com"},
            "os": {"family": "alpine", "name": "3.18"},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.50.0"},
            "summary": {"criticalCount": crit, "highCount": high, "mediumCount": 0, "lowCount": 0, "unknownCount": 0},
            "updateTimestamp": "2026-11-01T00:00:00Z", "vulnerabilities": vulns}
    })
}

fn vr_resource() -> ApiResource {
    ApiResource {
        group: "aquasecurity.github.io".into(),
        version: "v1alpha1".into(),
        api_version: "aquasecurity.github.io/v1alpha1".into(),
        kind: "VulnerabilityReport".into(),
        plural: "vulnerabilityreports".into(),
    }
}

async fn create_all(client: &Client, ar: Option<&ApiResource>, objs: Vec<Value>) {
    futures::stream::iter(objs)
        .map(|o| {
            let client = client.clone();
            let ar = ar.cloned();
            async move {
                let ns = o["metadata"]["namespace"].as_str().map(str::to_string);
                let kind = o["kind"].as_str().unwrap_or_default().to_string();
                let dyn_obj: DynamicObject = serde_json::from_value(o).unwrap();
                let ar = ar.unwrap_or_else(|| match kind.as_str() {
                    "Namespace" => ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()),
                    "Deployment" => ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
                    "AppPosture" => ApiResource::erase::<AppPosture>(&()),
                    other => panic!("{other}"),
                });
                let api: Api<DynamicObject> = match ns {
                    Some(ns) => Api::namespaced_with(client, &ns, &ar),
                    None => Api::all_with(client, &ar),
                };
                match api.create(&PostParams::default(), &dyn_obj).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 409 => {}
                    Err(e) => panic!("create {kind}: {e}"),
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_mib(pid: u32) -> (f64, f64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

#[tokio::main]
async fn main() {
    let Some(kubeconfig) = std::env::var_os("STANCE_TEST_KUBECONFIG") else {
        eprintln!("operator_load: skipped — needs a cluster (run hack/loadtest-operator.sh)");
        return;
    };
    let deployments: usize = std::env::var("STANCE_LOAD_DEPLOYMENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let namespaces = (deployments / 20).max(1);
    let apps = (deployments / 10).max(1);
    let kc = Kubeconfig::read_from(&kubeconfig).unwrap();
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await.unwrap();
    let client = Client::try_from(config).unwrap();
    let pool = pool();
    println!("vulnerability pool from the fixtures: {} real entries", pool.len());

    if already_seeded(&client, deployments).await {
        println!("reusing the {} VulnerabilityReports already in the cluster (STANCE_LOAD_KEEP run)", deployments * 2);
    } else {
        seed(&client, &pool, deployments, namespaces, apps).await;
    }
    let rounds: usize = std::env::var("STANCE_LOAD_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let default_bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/stance");
    let bins: Vec<std::path::PathBuf> = match std::env::var("STANCE_LOAD_BIN") {
        Ok(v) if !v.is_empty() => v.split(':').map(std::path::PathBuf::from).collect(),
        _ => vec![default_bin],
    };
    let mut results = Vec::new();
    for round in 0..rounds {
        let bin = &bins[round % bins.len()];
        let floor = list_floor();
        let r = measure(&client, &kubeconfig, bin, round, deployments, namespaces, apps).await;
        println!(
            "round {} [{}] (load {}): API server list alone {}; watches synced {:.1}s, all {apps} statuses written {:.1}s (RSS {:.0} MiB); change-to-status over {} changes p50 {:.3}s p99 {:.3}s max {:.3}s; RSS {:.0} MiB now, {:.0} MiB peak",
            round + 1,
            bin.display(),
            loadavg(),
            floor.as_deref().unwrap_or("not measured"),
            r.synced,
            r.converged,
            r.rss_converged,
            r.latencies.len(),
            percentile(&r.latencies, 0.5),
            percentile(&r.latencies, 0.99),
            r.latencies.last().copied().unwrap_or(0.0),
            r.rss,
            r.hwm
        );
        println!("  change-to-status latencies (s, in order): {:.3?}", r.in_order);
        for l in r.metrics.lines().filter(|l| {
            l.starts_with("stance_operator_index_")
                || l.starts_with("stance_operator_watch_events_total{kind=\"VulnerabilityReport")
                || l.starts_with("stance_operator_reconciles_total")
        }) {
            println!("  {l}");
        }
        results.push(r);
    }
    let median = |f: &dyn Fn(&Round) -> f64| {
        let mut v: Vec<f64> = results.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median of {rounds} rounds: watches synced {:.1}s, initial convergence {:.1}s, change-to-status p50 {:.3}s p99 {:.3}s, RSS at convergence {:.0} MiB, peak RSS {:.0} MiB",
        median(&|r| r.synced),
        median(&|r| r.converged),
        median(&|r| percentile(&r.latencies, 0.5)),
        median(&|r| percentile(&r.latencies, 0.99)),
        median(&|r| r.rss_converged),
        median(&|r| r.hwm),
    );
    if std::env::var_os("STANCE_LOAD_KEEP").is_some() {
        println!("STANCE_LOAD_KEEP set: the seeded objects stay for the next run");
        return;
    }
    // Leave the cluster clean.
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    futures::stream::iter(0..namespaces)
        .map(|i| {
            let nss = nss.clone();
            async move { nss.delete(&ns_name(i), &Default::default()).await.map(|_| ()) }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .ok();
}

/// The 1-minute load average.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or("?").to_string()
}

/// `hack/list-reports-floor.py` over the reports, at the operator's page size, when the
/// cluster's state dir and server are given.
fn list_floor() -> Option<String> {
    let dir = std::env::var("STANCE_LOAD_CLUSTER_DIR").ok()?;
    let server = std::env::var("STANCE_LOAD_SERVER").ok()?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/list-reports-floor.py");
    let page = stance::controller::targets::TARGETS
        .iter()
        .find(|t| t.kind == "VulnerabilityReport")
        .map_or(25, |t| t.page_size);
    let out =
        std::process::Command::new("python3").arg(script).args([&server, &dir, &page.to_string()]).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// True when an earlier `STANCE_LOAD_KEEP=1` run left the full data set in the cluster.
async fn already_seeded(client: &Client, deployments: usize) -> bool {
    let api = Api::<DynamicObject>::all_with(client.clone(), &vr_resource());
    let mut count = 0;
    let mut params = ListParams::default().limit(1000);
    loop {
        let Ok(page) = api.list_metadata(&params).await else { return false };
        count += page.items.iter().filter(|r| r.namespace().is_some_and(|n| n.starts_with("load-"))).count();
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => params = params.continue_token(&c),
            _ => break,
        }
    }
    count >= deployments * 2
}

/// Creates the namespaces, Deployments, AppPostures and (once the ReplicaSets exist) reports.
async fn seed(client: &Client, pool: &[Value], deployments: usize, namespaces: usize, apps: usize) {
    let client = client.clone();
    let t = Instant::now();
    create_all(
        &client,
        None,
        (0..namespaces)
            .map(|i| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns_name(i)}}))
            .collect(),
    )
    .await;
    let mut deps = Vec::new();
    let mut posture = Vec::new();
    for d in 0..deployments {
        let ns = ns_name(d % namespaces);
        let group = d % apps;
        deps.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("svc-{d}"), "namespace": ns, "labels": {"group": format!("g{group}"), "team": "t"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": format!("svc-{d}")}},
                "template": {"metadata": {"labels": {"app": format!("svc-{d}"), "group": format!("g{group}")}},
                    "spec": {"containers": [
                        {"name": "app", "image": format!("registry.example.com/team-{}/svc-{d}:1.0", d % namespaces)},
                        {"name": "proxy", "image": format!("registry.example.com/envoyproxy/envoy:v1.{}", d % SIDECARS)}]}}}}));
    }
    for a in 0..apps {
        let criticality = ["critical", "high", "medium", "low"][a % 4];
        posture.push(json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "AppPosture",
            "metadata": {"name": format!("app-{a}"), "namespace": ns_name(a % namespaces)},
            "spec": {"criticality": criticality, "selector": {"matchLabels": {"group": format!("g{a}")}}}}));
    }
    create_all(&client, None, deps).await;
    create_all(&client, None, posture).await;
    // Wait for kube-controller-manager's ReplicaSets (Trivy Operator reports on them).
    let rs_api: Api<ReplicaSet> = Api::all(client.clone());
    let replicasets = loop {
        let rs: Vec<ReplicaSet> = rs_api.list(&ListParams::default().labels("group")).await.unwrap().items;
        let ours: Vec<ReplicaSet> =
            rs.into_iter().filter(|r| r.namespace().is_some_and(|n| n.starts_with("load-"))).collect();
        if ours.len() >= deployments {
            break ours;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let mut reports = Vec::new();
    let mut sizes = Vec::new();
    for (i, rs) in replicasets.iter().enumerate() {
        let ns = rs.namespace().unwrap();
        let d: usize = rs.name_any().trim_start_matches("svc-").split('-').next().unwrap().parse().unwrap();
        // 50–500 vulnerabilities, spread evenly.
        let n = 50 + (i * 7919) % 451;
        sizes.push(n);
        reports.push(report(
            &ns,
            &rs.name_any(),
            &rs.uid().unwrap(),
            "app",
            (&format!("team-{}/svc-{d}", d % namespaces), "1.0"),
            vulnerabilities(pool, n, i),
        ));
        let side = d % SIDECARS;
        reports.push(report(
            &ns,
            &rs.name_any(),
            &rs.uid().unwrap(),
            "proxy",
            ("envoyproxy/envoy", &format!("v1.{side}")),
            vulnerabilities(pool, 120, side * 13),
        ));
        sizes.push(120);
    }
    let total: usize = sizes.iter().sum();
    create_all(&client, Some(&vr_resource()), reports).await;
    println!(
        "seeded in {:.0}s: {deployments} Deployments in {namespaces} namespaces, {apps} AppPostures, {} VulnerabilityReports, {total} vulnerabilities",
        t.elapsed().as_secs_f64(),
        replicasets.len() * 2
    );
}

/// The operator process; killed when dropped, also when a measurement panics.
struct Operator(std::process::Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one operator start measured.
struct Round {
    /// Seconds from start until `/readyz` answered 200 (every watch listed and synced).
    synced: f64,
    /// Seconds from start until every AppPosture had a status written by this process.
    converged: f64,
    rss_converged: f64,
    /// Sorted change-to-status latencies, seconds.
    latencies: Vec<f64>,
    /// The same, in the order the changes were made.
    in_order: Vec<f64>,
    rss: f64,
    hwm: f64,
    metrics: String,
}

fn ns_name(i: usize) -> String {
    format!("load-{i:03}")
}

/// Starts the release operator, measures convergence and change latency, stops it.
async fn measure(
    client: &Client,
    kubeconfig: &std::ffi::OsStr,
    bin: &std::path::Path,
    round: usize,
    deployments: usize,
    namespaces: usize,
    apps: usize,
) -> Round {
    // Statuses left by an earlier start would be "unchanged" and never rewritten: clear them,
    // so every round measures the full initial convergence.
    let apps_api: Api<AppPosture> = Api::all(client.clone());
    for a in apps_api.list_metadata(&ListParams::default()).await.unwrap().items {
        let Some(ns) = a.namespace().filter(|n| n.starts_with("load-")) else { continue };
        let api: Api<AppPosture> = Api::namespaced(client.clone(), &ns);
        let clear = kube::api::Patch::Merge(json!({"status": null}));
        api.patch_status(&a.name_any(), &kube::api::PatchParams::default(), &clear).await.unwrap();
    }
    if std::env::var_os("STANCE_LOAD_FIRST_START").is_some() {
        let discovered = format!("{}=true", stance_core::names::DISCOVERED_LABEL);
        for i in 0..namespaces {
            let api: Api<stance::api::Asset> = Api::namespaced(client.clone(), &ns_name(i));
            api.delete_collection(&Default::default(), &ListParams::default().labels(&discovered)).await.unwrap();
        }
    }
    let log = match std::env::var_os("STANCE_LOAD_LOG") {
        Some(dir) => {
            let path = std::path::Path::new(&dir).join(format!("operator-round-{}.log", round + 1));
            std::process::Stdio::from(std::fs::File::create(path).expect("STANCE_LOAD_LOG: a writable directory"))
        }
        None => std::process::Stdio::inherit(),
    };
    let level = if std::env::var_os("STANCE_LOAD_LOG").is_some() { "info" } else { "warn" };
    let started_at = jiff::Timestamp::now();
    let start = Instant::now();
    let child = Operator(
        std::process::Command::new(bin)
            .args(["operator", "--metrics-listen", "127.0.0.1:19876", "--namespace", "default", "--identity", "load"])
            .env("KUBECONFIG", kubeconfig)
            .env("STANCE_LOG", level)
            .stderr(log)
            .spawn()
            .expect("the operator binary (cargo build --release, or STANCE_LOAD_BIN)"),
    );
    let mut synced = None;
    let converged = loop {
        if synced.is_none() && http_get("/readyz").await.starts_with("HTTP/1.1 200") {
            synced = Some(start.elapsed().as_secs_f64());
        }
        let list = apps_api.list(&ListParams::default()).await.unwrap().items;
        let done = list
            .iter()
            .filter(|a| a.namespace().is_some_and(|n| n.starts_with("load-")))
            .filter(|a| {
                a.status.as_ref().is_some_and(|s| {
                    s.findings.total > 0
                        && s.last_evaluated
                            .as_deref()
                            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                            .is_some_and(|t| t >= started_at)
                })
            })
            .count();
        if done >= apps {
            break start.elapsed().as_secs_f64();
        }
        assert!(start.elapsed() < Duration::from_secs(900), "not converged after 15 minutes ({done}/{apps})");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let (rss_converged, _) = rss_mib(child.0.id());
    println!(
        "round {}: watches synced {:.1}s, all {apps} statuses written {converged:.1}s, RSS {rss_converged:.0} MiB",
        round + 1,
        synced.unwrap_or(converged)
    );

    // Change-to-status latency: add a unique CRITICAL to a report, time until the app's status
    // lists it. Names only (metadata list): the full list is hundreds of MB.
    let vr: Vec<String> = Api::<DynamicObject>::all_with(client.clone(), &vr_resource())
        .list_metadata(&ListParams::default().limit(500))
        .await
        .unwrap()
        .items
        .iter()
        .filter(|r| r.name_any().ends_with("-app"))
        .map(|r| format!("{}/{}", r.namespace().unwrap_or_default(), r.name_any()))
        .collect();
    let mut latencies = Vec::new();
    for i in 0..20 {
        let (ns, name) = vr[(i * 37 + round * 11) % vr.len().min(deployments).max(1)].split_once('/').unwrap();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &vr_resource());
        let mut obj = api.get(name).await.unwrap();
        // Unique per run: a kept cluster still holds the markers of earlier runs.
        let marker = format!("CVE-2099-{}{round}{i:03}", std::process::id());
        obj.data["report"]["vulnerabilities"].as_array_mut().unwrap().push(json!({
            "vulnerabilityID": marker, "resource": "marker", "installedVersion": "1", "fixedVersion": "2",
            "severity": "CRITICAL", "title": "load test marker", "score": 9.8, "publishedDate": " ", "lastModifiedDate": " ", "target": " ", "links": []
        }));
        let rs = obj.labels()["trivy-operator.resource.name"].clone();
        let d: usize = rs.trim_start_matches("svc-").split('-').next().unwrap().parse().unwrap();
        let app = format!("app-{}", d % apps);
        let app_ns = ns_name((d % apps) % namespaces);
        let app_api: Api<AppPosture> = Api::namespaced(client.clone(), &app_ns);
        // The marker is one more distinct CRITICAL: the count moves (the status lists only
        // the top critical findings, which the marker need not be among at this size).
        let before = app_api.get(&app).await.unwrap().status.unwrap_or_default().findings.critical;
        let t0 = Instant::now();
        api.replace(name, &PostParams::default(), &obj).await.unwrap();
        loop {
            let s = app_api.get(&app).await.unwrap().status.unwrap_or_default();
            if s.findings.critical > before {
                latencies.push(t0.elapsed().as_secs_f64());
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "change not reflected within 60s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let in_order = latencies.clone();
    latencies.sort_by(f64::total_cmp);
    let (rss, hwm) = rss_mib(child.0.id());
    let metrics = http_get("/metrics").await;
    drop(child);
    Round { synced: synced.unwrap_or(converged), converged, rss_converged, latencies, in_order, rss, hwm, metrics }
}

/// A plain HTTP/1.0 GET on the operator's metrics port (no HTTP client dependency).
async fn http_get(path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect("127.0.0.1:19876").await else { return String::new() };
    let _ = s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).await;
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf).await;
    buf
}
