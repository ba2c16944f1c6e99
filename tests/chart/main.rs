//! The Helm chart `charts/stance`, rendered and linted by the real Helm engine. This file
//! renders and parses; one module per part of the chart checks it.
//!
//! `hack/render-chart.py` renders the chart with Helm 4's own library (the PyPI package
//! helm-python-sdk bundles it; no helm binary) in several variants and lints it. These tests run
//! that script, parse every rendered object into its k8s-openapi type — strictly: a field the type
//! does not know fails the test — and check what matters: the hardened pod, the probes and
//! container arguments against the real `stance` binary, the exact RBAC, the webhook
//! configuration and its certificate, the monitoring objects against the real metric names, the
//! values schema, and that the chart's CRDs are the repository's `crds/` byte for byte.
//!
//! They need Python 3 with `pip install helm-python-sdk` (hack/test.sh installs it and runs them
//! with `--include-ignored`). `STANCE_PYTHON` selects another interpreter. The renderings stay in
//! `target/tmp/chart/` for inspection.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use k8s_openapi::api::admissionregistration::v1::{ValidatingWebhook, ValidatingWebhookConfiguration};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, PodSpec, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

mod monitoring;
mod objects;
mod pod;
mod rbac;
mod values;
mod webhook;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn repo(rel: &str) -> PathBuf {
    Path::new(REPO).join(rel)
}

fn python() -> String {
    std::env::var("STANCE_PYTHON").unwrap_or_else(|_| "python3".into())
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The output of `hack/render-chart.py OUTDIR`, produced once per test process.
struct Rendered {
    dir: PathBuf,
    index: Value,
}

fn rendered() -> &'static Rendered {
    static RENDERED: OnceLock<Result<Rendered, String>> = OnceLock::new();
    let result = RENDERED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart");
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(python())
            .arg(repo("hack/render-chart.py"))
            .arg(&dir)
            .current_dir(REPO)
            .output()
            .map_err(|e| format!("cannot run {} hack/render-chart.py: {e}", python()))?;
        if !out.status.success() {
            return Err(format!(
                "hack/render-chart.py failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let index = std::fs::read_to_string(dir.join("index.json")).map_err(|e| format!("index.json: {e}"))?;
        let index = serde_json::from_str(&index).map_err(|e| format!("index.json: {e}"))?;
        Ok(Rendered { dir, index })
    });
    match result {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// One rendered object.
#[derive(Clone, Debug)]
struct Object {
    kind: String,
    api_version: String,
    name: String,
    namespace: Option<String>,
    value: Value,
}

impl Object {
    fn id(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace.as_deref().unwrap_or("-"), self.name)
    }
}

/// A rendered variant: its release, namespace and objects.
struct Variant {
    name: &'static str,
    release: String,
    namespace: String,
    objects: Vec<Object>,
    notes: String,
}

fn parse_documents(text: &str, origin: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{origin}: not YAML: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn variant(name: &'static str) -> Variant {
    let r = rendered();
    let meta = &r.index["variants"][name];
    assert!(meta.is_object(), "hack/render-chart.py did not render the variant {name}");
    let text = std::fs::read_to_string(r.dir.join(format!("{name}.yaml"))).unwrap();
    let objects = parse_documents(&text, name)
        .into_iter()
        .map(|value| Object {
            kind: value["kind"].as_str().unwrap_or_else(|| panic!("{name}: an object without kind: {value}")).into(),
            api_version: value["apiVersion"].as_str().unwrap_or_default().into(),
            name: value["metadata"]["name"].as_str().unwrap_or_default().into(),
            namespace: value["metadata"]["namespace"].as_str().map(Into::into),
            value,
        })
        .collect();
    Variant {
        name,
        release: meta["release"].as_str().unwrap().into(),
        namespace: meta["namespace"].as_str().unwrap().into(),
        objects,
        notes: std::fs::read_to_string(r.dir.join(format!("{name}.NOTES.txt"))).unwrap(),
    }
}

/// Every variant hack/render-chart.py renders.
const VARIANTS: &[&str] = &[
    "default",
    "cert-manager",
    "cert-manager-issuer",
    "monitoring",
    "policy-reports",
    "no-ingest",
    "custom",
    "single",
];

/// Drops what serializing a typed object cannot reproduce: nulls, and empty maps and lists
/// that mean "absent".
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !matches!(v, Value::Object(m) if m.is_empty()))
                .filter(|(_, v)| !matches!(v, Value::Array(a) if a.is_empty()))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// The first path at which two JSON values differ.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, &p) {
                            return Some(d);
                        }
                    }
                    (Some(u), None) => return Some(format!("{p} = {u} is not a field of the type")),
                    (None, Some(v)) => return Some(format!("{p} = {v} appeared")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} became {b}")),
    }
}

/// Deserializes an object into its k8s-openapi type and checks that nothing was lost on the
/// way: a misspelt or misplaced field (which the API server would drop or refuse) fails.
fn typed<T: DeserializeOwned + Serialize>(o: &Object) -> T {
    let t: T = serde_json::from_value(o.value.clone())
        .unwrap_or_else(|e| panic!("{} does not deserialize as {}: {e}", o.id(), std::any::type_name::<T>()));
    let back = serde_json::to_value(&t).unwrap();
    if let Some(d) = first_difference(&normalized(&o.value), &normalized(&back), "") {
        panic!("{} is not a valid {}: {d}", o.id(), std::any::type_name::<T>());
    }
    t
}

impl Variant {
    fn all(&self, kind: &str) -> Vec<&Object> {
        self.objects.iter().filter(|o| o.kind == kind).collect()
    }

    fn one(&self, kind: &str) -> &Object {
        let all = self.all(kind);
        assert_eq!(all.len(), 1, "{}: expected exactly one {kind}, found {}", self.name, all.len());
        all[0]
    }

    fn get<T: DeserializeOwned + Serialize>(&self, kind: &str) -> T {
        typed(self.one(kind))
    }

    fn named(&self, kind: &str, name: &str) -> &Object {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .unwrap_or_else(|| panic!("{}: no {kind} named {name}", self.name))
    }

    fn fullname(&self) -> String {
        if self.release.contains("stance") { self.release.clone() } else { format!("{}-stance", self.release) }
    }

    fn deployment(&self) -> Deployment {
        self.get("Deployment")
    }

    fn pod(&self) -> PodSpec {
        self.deployment().spec.unwrap().template.spec.unwrap()
    }

    fn container(&self) -> Container {
        let pod = self.pod();
        assert_eq!(pod.containers.len(), 1, "one container");
        pod.containers[0].clone()
    }

    fn args(&self) -> Vec<String> {
        self.container().args.unwrap_or_default()
    }

    /// Values of `--flag=value` arguments.
    fn flag_values(&self, flag: &str) -> Vec<String> {
        let prefix = format!("{flag}=");
        self.args().iter().filter_map(|a| a.strip_prefix(&prefix).map(str::to_string)).collect()
    }

    fn flag(&self, flag: &str) -> Option<String> {
        let mut v = self.flag_values(flag);
        assert!(v.len() <= 1, "{}: {flag} given {} times", self.name, v.len());
        v.pop()
    }

    fn has_switch(&self, flag: &str) -> bool {
        self.args().iter().any(|a| a == flag)
    }

    fn webhook_config(&self) -> ValidatingWebhookConfiguration {
        self.get("ValidatingWebhookConfiguration")
    }

    fn webhook(&self, name: &str) -> ValidatingWebhook {
        self.webhook_config()
            .webhooks
            .unwrap_or_default()
            .into_iter()
            .find(|w| w.name == name)
            .unwrap_or_else(|| panic!("{}: no webhook {name}", self.name))
    }
}
