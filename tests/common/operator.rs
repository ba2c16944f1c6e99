//! Running `stance operator` as a process against the test cluster, and building the
//! objects the scenarios apply (real Trivy Operator reports adapted to the test's
//! workloads).
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

/// Trivy Operator's VulnerabilityReports in a namespace (no CRD types: the tests load the
/// real CRDs from the fixtures).
pub fn vr_api(client: &Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource {
        group: "aquasecurity.github.io".into(),
        version: "v1alpha1".into(),
        api_version: "aquasecurity.github.io/v1alpha1".into(),
        kind: "VulnerabilityReport".into(),
        plural: "vulnerabilityreports".into(),
    };
    Api::namespaced_with(client.clone(), ns, &ar)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `stance operator`, killed on drop. Its log goes to `target/<name>.log`.
pub struct Operator {
    child: Child,
    pub metrics_port: u16,
    pub log: std::path::PathBuf,
}

impl Operator {
    pub fn start(name: &str, lease_namespace: &str, exception_namespace: &str) -> Operator {
        Operator::start_with(name, lease_namespace, exception_namespace, &[])
    }

    /// [`Operator::start`] with extra command-line arguments.
    pub fn start_with(name: &str, lease_namespace: &str, exception_namespace: &str, extra: &[&str]) -> Operator {
        let metrics_port = free_port();
        let log = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_stance"))
            .args([
                "operator",
                "--metrics-listen",
                &format!("127.0.0.1:{metrics_port}"),
                "--namespace",
                lease_namespace,
            ])
            .args(["--exception-namespace", exception_namespace, "--debounce-ms", "200", "--identity", name])
            .args(extra)
            .env("KUBECONFIG", super::cluster::kubeconfig_path())
            .env("STANCE_LOG", "info,stance=debug")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start stance operator");
        Operator { child, metrics_port, log }
    }

    /// GET on the metrics port; `None` while not listening.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = format!("127.0.0.1:{}", self.metrics_port);
        let mut stream = tokio::net::TcpStream::connect(&url).await.ok()?;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {url}\r\n\r\n").as_bytes()).await.ok()?;
        let mut buf = String::new();
        stream.read_to_string(&mut buf).await.ok()?;
        let code = buf.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
    }

    pub async fn wait_ready(&self) {
        super::cluster::eventually(Duration::from_secs(60), || async {
            self.get("/readyz").await.filter(|(c, _)| *c == 200)
        })
        .await;
    }

    /// Graceful stop: SIGTERM (the operator releases its Lease), SIGKILL after 10 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (`None` if still running after 10 s: then killed).
    pub fn terminate(mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Hard stop (SIGKILL): nothing is released.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// True when this replica reports holding the leader Lease.
    pub async fn is_leader(&self) -> bool {
        let m = self.get("/metrics").await.map(|(_, b)| b).unwrap_or_default();
        m.lines().any(|l| l.trim() == "stance_operator_leader 1")
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real Trivy Operator VulnerabilityReport fixture, re-pointed at a test ReplicaSet
/// (labels and owner reference as Trivy Operator writes them), with the fields the CRD
/// requires but the fixture omits filled in.
///
/// Required strings that are empty are written as a single space: the locally built
/// kube-apiserver (hack/local-cluster.sh) decodes `""` in custom resources as `null` and
/// then refuses it as "must be of type string" — a quirk of that build (its vendored
/// json-iterator on a modern Go), not of Kubernetes. Stance trims values, so " " reads as
/// empty exactly like "".
pub fn vulnerability_report(fixture: &str, ns: &str, rs_name: &str, rs_uid: &str, container: &str) -> Value {
    let mut v: Value = serde_json::from_slice(&super::fixture_bytes(fixture)).unwrap();
    let md = v["metadata"].as_object_mut().unwrap();
    for k in ["uid", "resourceVersion", "creationTimestamp", "generation"] {
        md.remove(k);
    }
    md.insert("name".into(), json!(format!("replicaset-{rs_name}-{container}")));
    md.insert("namespace".into(), json!(ns));
    md.insert(
        "labels".into(),
        json!({
            "trivy-operator.resource.kind": "ReplicaSet",
            "trivy-operator.resource.name": rs_name,
            "trivy-operator.resource.namespace": ns,
            "trivy-operator.container.name": container,
        }),
    );
    md.insert(
        "ownerReferences".into(),
        json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": rs_uid, "controller": true, "blockOwnerDeletion": false}]),
    );
    let report = v["report"].as_object_mut().unwrap();
    report.entry("os").or_insert(json!({"family": "alpine", "name": "3.17"}));
    if let Some(s) = report.get_mut("summary").and_then(Value::as_object_mut) {
        s.entry("unknownCount").or_insert(json!(0));
        s.entry("noneCount").or_insert(json!(0));
    }
    for vuln in report.get_mut("vulnerabilities").and_then(Value::as_array_mut).into_iter().flatten() {
        let o = vuln.as_object_mut().unwrap();
        for k in ["fixedVersion", "lastModifiedDate", "publishedDate", "target", "title"] {
            if o.get(k).is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
                o.insert(k.into(), json!(" "));
            }
        }
        // Optional empty strings are dropped for the same reason.
        o.retain(|_, v| v.as_str() != Some(""));
    }
    v
}
