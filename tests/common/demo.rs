//! The demo in a live cluster, for tests: `hack/demo-cluster.sh` steps run against the test
//! cluster with a private state dir and ports. On drop (also when the test fails) it stops
//! `stance run`, removes its webhook configuration and deletes the demo's objects, so the tests
//! after it find the cluster as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// The snapshot's date (README quick start); `hack/demo-cluster.sh` evaluates at it by default.
pub const NOW: &str = "2026-11-27T12:00:00Z";

pub fn repo(rel: &str) -> PathBuf {
    Path::new(REPO).join(rel)
}

pub fn python() -> String {
    std::env::var("STANCE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// stdout and stderr of a finished command.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub struct Demo {
    pub kubectl: String,
    pub state: tempfile::TempDir,
    pub webhook_port: u16,
    pub metrics_port: u16,
}

impl Demo {
    /// A demo with a fresh state dir and free ports; needs `STANCE_TEST_KUBECTL`.
    pub fn new() -> Demo {
        Demo {
            kubectl: std::env::var("STANCE_TEST_KUBECTL")
                .expect("set STANCE_TEST_KUBECTL to a kubectl (hack/local-cluster.sh kubectl-path); hack/test.sh does"),
            state: tempfile::tempdir().unwrap(),
            webhook_port: super::operator::free_port(),
            metrics_port: super::operator::free_port(),
        }
    }

    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(REPO)
            .env("KUBECONFIG", super::cluster::kubeconfig_path())
            .env("KUBECTL", &self.kubectl)
            .env("STANCE_BIN", env!("CARGO_BIN_EXE_stance"))
            .env("STANCE_DEMO_DIR", self.state.path())
            .env("STANCE_DEMO_WEBHOOK_PORT", self.webhook_port.to_string())
            .env("STANCE_DEMO_METRICS_PORT", self.metrics_port.to_string())
            .env("STANCE_DEMO_NOW", NOW);
        c
    }

    /// Runs one step of `hack/demo-cluster.sh` (load, validate, serve, stop, unload).
    pub fn script(&self, step: &str) -> Output {
        self.command(&repo("hack/demo-cluster.sh")).arg(step).output().unwrap()
    }

    pub fn objects(&self, args: &[&str]) -> Output {
        let mut c = self.command(Path::new(&python()));
        c.arg(repo("hack/demo-objects.py")).args(args).output().unwrap()
    }

    /// kubectl against the test cluster, as its administrator.
    pub fn kubectl_command(&self) -> Command {
        self.command(Path::new(&self.kubectl))
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command().args(args).output().unwrap()
    }

    /// The chart's objects (default values, release `stance` in `stance-system`) that `keep`
    /// selects, rendered with the real Helm library (`hack/render-chart.py`).
    pub fn chart_objects(&self, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(python())
            .arg(repo("hack/render-chart.py"))
            .args(["--only", "demo", "--release", "stance", "--namespace", "stance-system"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "hack/render-chart.py failed:\n{}", text(&out));
        let rendered = std::fs::read_to_string(dir.path().join("demo.yaml")).unwrap();
        serde_yaml::Deserializer::from_str(&rendered)
            .filter_map(|d| <Option<Value> as serde::Deserialize>::deserialize(d).unwrap())
            .filter(|v| keep(v))
            .collect()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.script("stop");
        let _ = self.script("unload");
    }
}

/// What the cluster and the offline scan must agree on for one application, from its status.
pub fn posture_of_status(status: &Value) -> Value {
    let top: Vec<Value> = status["topFindings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| serde_json::json!([f["id"], f["package"], f["riskScore"]]))
        .collect();
    serde_json::json!({
        "riskScore": status["riskScore"],
        "exposure": status["exposure"],
        "findings": status["findings"],
        "suppressedFindings": status["suppressedFindings"],
        "compliant": status["compliance"]["compliant"],
        // Left out of the status when there are none.
        "violations": status["compliance"].get("violationsByEnforcement").cloned().unwrap_or_else(|| serde_json::json!({})),
        "topFindings": top,
    })
}

/// What the cluster and the offline scan must agree on for one application.
pub fn posture_of_scan(app: &Value, top: usize) -> Value {
    let top: Vec<Value> = app["topFindings"]
        .as_array()
        .unwrap()
        .iter()
        .take(top)
        .map(|f| json!([f["id"], f["package"], f["riskScore"]]))
        .collect();
    json!({
        "riskScore": app["riskScore"],
        "exposure": app["exposure"],
        "findings": app["findings"],
        "suppressedFindings": app["suppressedFindings"],
        "compliant": app["compliant"],
        "violations": violations_by_enforcement(app),
        "topFindings": top,
    })
}

/// The scan's open violations (not excepted) counted by enforcement, as the status counts them.
pub fn violations_by_enforcement(app: &Value) -> Value {
    let mut counts = BTreeMap::<String, u64>::new();
    for v in app["violations"].as_array().unwrap().iter().filter(|v| v["exceptedBy"].is_null()) {
        *counts.entry(v["enforcement"].as_str().unwrap().to_string()).or_default() += 1;
    }
    json!(counts)
}

/// Every AppPosture's status in the cluster, by `namespace/name`.
pub fn live_statuses(demo: &Demo) -> BTreeMap<String, Value> {
    let out = demo.kubectl(&["get", "apppostures", "-A", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let (ns, name) = (a["metadata"]["namespace"].as_str().unwrap(), a["metadata"]["name"].as_str().unwrap());
            (format!("{ns}/{name}"), a["status"].clone())
        })
        .collect()
}

/// Compares the live statuses with the applications of an offline scan (`offline`, by
/// `namespace/name`) until they agree or `timeout` passes: statuses are rewritten as the
/// operator catches up. Returns (live, offline) as last compared, for the caller to assert
/// equal (a failure then shows the last difference).
pub fn statuses_agree(
    demo: &Demo,
    offline: &BTreeMap<String, &Value>,
    timeout: Duration,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let deadline = Instant::now() + timeout;
    loop {
        let live = live_statuses(demo);
        let actual: BTreeMap<String, Value> = live.iter().map(|(k, s)| (k.clone(), posture_of_status(s))).collect();
        let expected: BTreeMap<String, Value> = offline
            .iter()
            .map(|(k, a)| {
                let shown = live.get(k).and_then(|s| s["topFindings"].as_array()).map_or(0, Vec::len);
                (k.clone(), posture_of_scan(a, shown))
            })
            .collect();
        if actual == expected || Instant::now() > deadline {
            return (actual, expected);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `stance scan --format json --top 50 --now NOW` of `paths`, which must read without warnings.
pub fn scan(paths: &[&Path]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["scan", "--format", "json", "--top", "50", "--now", NOW])
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["warnings"], 0, "{:#}", v["warnings"]);
    v
}

/// The applications of a scan by `namespace/name`.
pub fn apps_of(scan: &Value) -> BTreeMap<String, &Value> {
    scan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (format!("{}/{}", a["namespace"].as_str().unwrap(), a["name"].as_str().unwrap()), a))
        .collect()
}
