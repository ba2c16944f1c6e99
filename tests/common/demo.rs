//! The demo in a live cluster, for tests: `hack/demo-cluster.sh` steps run against the test
//! cluster with a private state dir and ports. On drop (also when the test fails) it stops
//! `stance run`, removes its webhook configuration and deletes the demo's objects, so the tests
//! after it find the cluster as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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
