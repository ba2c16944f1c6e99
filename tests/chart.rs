//! The Helm chart `charts/stance`, rendered and linted by the real Helm engine.
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

// ---------------------------------------------------------------------------------------------
// Rendering, linting and strict parsing

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn chart_renders_lints_and_every_object_is_a_valid_kubernetes_object() {
    let r = rendered();
    assert!(r.index["helm_sdk"].as_str().unwrap().starts_with("v4."), "rendered by Helm 4: {}", r.index["helm_sdk"]);
    assert_eq!(r.index["chart"]["name"], "stance");
    let cargo_version = env!("CARGO_PKG_VERSION");
    assert_eq!(r.index["chart"]["appVersion"], cargo_version, "Chart.yaml appVersion follows Cargo.toml's version");
    for name in VARIANTS {
        // The script already failed on any lint warning; the reports are kept: check them too.
        let lint = &r.index["lint"][name];
        let bad: Vec<&Value> =
            lint["messages"].as_array().unwrap().iter().filter(|m| m["severity"].as_i64().unwrap() >= 2).collect();
        assert!(bad.is_empty(), "helm lint ({name}): {bad:#?}");

        let v = variant(name);
        assert!(!v.objects.is_empty(), "{name} renders objects");
        for o in &v.objects {
            match o.kind.as_str() {
                "Deployment" => {
                    let _: Deployment = typed(o);
                }
                "Service" => {
                    let _: Service = typed(o);
                }
                "ServiceAccount" => {
                    let _: ServiceAccount = typed(o);
                }
                "ClusterRole" => {
                    let _: ClusterRole = typed(o);
                }
                "ClusterRoleBinding" => {
                    let _: ClusterRoleBinding = typed(o);
                }
                "Role" => {
                    let _: Role = typed(o);
                }
                "RoleBinding" => {
                    let _: RoleBinding = typed(o);
                }
                "PodDisruptionBudget" => {
                    let _: PodDisruptionBudget = typed(o);
                }
                "ValidatingWebhookConfiguration" => {
                    let _: ValidatingWebhookConfiguration = typed(o);
                }
                "Secret" => {
                    let _: Secret = typed(o);
                }
                "NetworkPolicy" => {
                    let _: NetworkPolicy = typed(o);
                }
                "PersistentVolumeClaim" => {
                    let _: k8s_openapi::api::core::v1::PersistentVolumeClaim = typed(o);
                }
                // Custom resources of cert-manager and the Prometheus Operator: checked below.
                "Issuer" | "Certificate" => assert_eq!(o.api_version, "cert-manager.io/v1", "{}", o.id()),
                "ServiceMonitor" | "PrometheusRule" => {
                    assert_eq!(o.api_version, "monitoring.coreos.com/v1", "{}", o.id())
                }
                other => panic!("{name}: unexpected kind {other} ({})", o.id()),
            }
            // Namespaced objects go to the release namespace; names follow the release.
            let cluster_scoped =
                matches!(o.kind.as_str(), "ClusterRole" | "ClusterRoleBinding" | "ValidatingWebhookConfiguration");
            if cluster_scoped {
                assert_eq!(o.namespace, None, "{}", o.id());
            } else {
                assert_eq!(o.namespace.as_deref(), Some(v.namespace.as_str()), "{}", o.id());
            }
            assert!(o.name.starts_with(&v.fullname()), "{} is named after the release ({})", o.id(), v.fullname());
            assert_eq!(o.value["metadata"]["labels"]["app.kubernetes.io/instance"], v.release.as_str(), "{}", o.id());
            assert!(o.value.to_string().len() < 1 << 20, "{} fits in etcd", o.id());
        }
        let ids: BTreeSet<String> = v.objects.iter().map(Object::id).collect();
        assert_eq!(ids.len(), v.objects.len(), "{name}: no object twice");
    }

    let kinds = |name: &'static str| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for o in variant(name).objects {
            *m.entry(o.kind).or_insert(0) += 1;
        }
        m
    };
    let expect = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    let base = [
        ("ClusterRole", 4), // stance, -view, -edit, -report-uploader
        ("ClusterRoleBinding", 1),
        ("Deployment", 1),
        ("PodDisruptionBudget", 1),
        ("Role", 2), // -leader-election, -uploads
        ("RoleBinding", 2),
        ("Secret", 1),
        ("Service", 1),
        ("ServiceAccount", 1),
        ("ValidatingWebhookConfiguration", 1),
    ];
    assert_eq!(kinds("default"), expect(&base));
    let mut cm: Vec<(&str, usize)> = base.iter().copied().filter(|(k, _)| *k != "Secret").collect();
    cm.extend([("Issuer", 2), ("Certificate", 2)]);
    assert_eq!(kinds("cert-manager"), expect(&cm), "cert-manager issues the Secret");
    let mut monitoring = base.to_vec();
    monitoring.extend([("ServiceMonitor", 1), ("PrometheusRule", 1)]);
    assert_eq!(kinds("monitoring"), expect(&monitoring));
    assert_eq!(kinds("no-ingest")["ClusterRole"], 3, "no uploader role without ingest");
    assert_eq!(kinds("custom").get("NetworkPolicy"), Some(&1), "networkPolicy.enabled adds one");
    assert_eq!(kinds("no-ingest")["Role"], 1, "no ConfigMap write without ingest");
    assert_eq!(
        kinds("single"),
        expect(&[
            ("ClusterRole", 4),
            ("ClusterRoleBinding", 1),
            ("Deployment", 1),
            ("PersistentVolumeClaim", 1),
            ("Role", 1),
            ("RoleBinding", 1),
            ("Secret", 1),
            ("Service", 1),
            ("ServiceAccount", 1),
        ]),
        "one replica: no PDB (it would block drains), no Lease role (only the uploads one), and webhook.enabled=false; \
         the SQLite history's volume"
    );
}

/// `networkPolicy.enabled` admits ingress to Stance's own pods on the container's two ports
/// only: the HTTPS port from `webhookFrom`'s peers, the metrics port from `metricsFrom`'s (every
/// source when empty); egress stays open. Off by default.
#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn network_policy_admits_only_the_serving_ports() {
    use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPeer};
    for name in VARIANTS.iter().filter(|n| **n != "custom") {
        assert!(variant(name).all("NetworkPolicy").is_empty(), "{name}: no NetworkPolicy unless enabled");
    }
    let v = variant("custom");
    let np: NetworkPolicy = v.get("NetworkPolicy");
    let spec = np.spec.expect("spec");
    // It selects exactly the Deployment's pods.
    let pod_labels = v.deployment().spec.unwrap().template.metadata.unwrap().labels.unwrap();
    let selector = spec.pod_selector.unwrap().match_labels.expect("matchLabels");
    assert!(!selector.is_empty());
    for (k, val) in &selector {
        assert_eq!(pod_labels.get(k), Some(val), "the pod template has {k}={val}");
    }
    assert_eq!(spec.policy_types, Some(vec!["Ingress".to_string()]), "egress is not restricted");
    let container_port = |port_name: &str| {
        let ports = v.container().ports.unwrap();
        ports.iter().find(|p| p.name.as_deref() == Some(port_name)).unwrap().container_port
    };
    let rules = spec.ingress.expect("ingress rules");
    assert_eq!(rules.len(), 2, "{rules:#?}");
    let only_port = |i: usize| {
        let ports = rules[i].ports.clone().unwrap();
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
        ports[0].port.clone().unwrap()
    };
    assert_eq!(only_port(0), IntOrString::Int(container_port("https")));
    assert_eq!(only_port(1), IntOrString::Int(container_port("metrics")));
    let cidr = NetworkPolicyPeer {
        ip_block: Some(IPBlock { cidr: "10.0.0.0/24".into(), except: None }),
        ..Default::default()
    };
    assert_eq!(rules[0].from, Some(vec![cidr]), "the HTTPS port only from webhookFrom");
    assert_eq!(rules[1].from, None, "metricsFrom empty: every source");
}

/// `webhook.clientCA.secretName`: the Secret's CA is mounted read-only and `--client-ca` names
/// the mounted file; without it, neither the flag nor the volume.
#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn client_ca_secret_is_mounted_and_passed_as_client_ca() {
    for name in VARIANTS.iter().filter(|n| **n != "custom") {
        let v = variant(name);
        assert_eq!(v.flag("--client-ca"), None, "{name}: no --client-ca unless webhook.clientCA.secretName");
        assert!(v.pod().volumes.unwrap_or_default().iter().all(|vol| vol.name != "client-ca"), "{name}");
    }
    let v = variant("custom");
    let flag = v.flag("--client-ca").expect("--client-ca");
    let pod = v.pod();
    let volume = pod.volumes.unwrap().into_iter().find(|vol| vol.name == "client-ca").expect("a client-ca volume");
    let secret = volume.secret.expect("a Secret volume");
    assert_eq!(secret.secret_name.as_deref(), Some("apiserver-client-ca"));
    assert_eq!(secret.default_mode, Some(0o440));
    let items = secret.items.expect("items");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].key, "client-ca.pem", "webhook.clientCA.key");
    let mount = v.container().volume_mounts.unwrap().into_iter().find(|m| m.name == "client-ca").expect("mounted");
    assert_eq!(mount.read_only, Some(true));
    assert!(mount.sub_path.is_none(), "without subPath, so a rotated CA reaches the pod");
    assert_eq!(flag, format!("{}/{}", mount.mount_path, items[0].path), "--client-ca names the mounted CA");
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn chart_crds_are_the_repository_crds_byte_for_byte() {
    // charts/stance/crds/ is a copy of crds/ (generated from src/api/, see tests/crds.rs).
    // Resync after changing the CRDs with:  cp crds/*.yaml charts/stance/crds/
    let list = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let source = repo("crds");
    let chart = repo("charts/stance/crds");
    let files = list(&source);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(
        list(&chart),
        files,
        "charts/stance/crds/ holds the same files as crds/ (cp crds/*.yaml charts/stance/crds/)"
    );
    for f in &files {
        let a = std::fs::read(source.join(f)).unwrap();
        let b = std::fs::read(chart.join(f)).unwrap();
        assert!(
            a == b,
            "charts/stance/crds/{f} differs from crds/{f}: resync with `cp crds/*.yaml charts/stance/crds/`"
        );
    }
    // What Helm itself loaded as the chart's CRDs (installed before the templates on install).
    let r = rendered();
    let loaded: Vec<String> =
        r.index["crds"].as_array().unwrap().iter().map(|c| c["filename"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        loaded.iter().cloned().collect::<BTreeSet<_>>(),
        files.iter().cloned().collect(),
        "Helm loads every CRD"
    );
    for f in &files {
        let helm = std::fs::read(r.dir.join("crds").join(f)).unwrap();
        assert!(helm == std::fs::read(source.join(f)).unwrap(), "Helm's view of {f} equals crds/{f}");
    }
    for f in &files {
        let text = std::fs::read_to_string(r.dir.join("crds").join(f)).unwrap();
        let docs = parse_documents(&text, f);
        assert_eq!(docs.len(), 1, "{f}: one CRD per file");
        let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
            serde_json::from_value(docs[0].clone()).unwrap_or_else(|e| panic!("{f} is not a CRD: {e}"));
        let name = crd.metadata.name.unwrap();
        assert_eq!(format!("{name}.yaml"), *f);
        assert_eq!(crd.spec.group, "aspm.stance.dev");
    }
    // Never also as templates (Helm would then delete them with the release, and data with them).
    for name in VARIANTS {
        assert!(variant(name).all("CustomResourceDefinition").is_empty(), "{name}: CRDs only from crds/");
    }
}

// ---------------------------------------------------------------------------------------------
// The pod

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn pod_is_hardened_with_resources_probes_and_spread() {
    for name in VARIANTS {
        let v = variant(name);
        let pod = v.pod();
        let c = v.container();
        let ctx = |what: &str| format!("{name}: {what}");

        // Pod security context.
        let psc = pod.security_context.clone().expect("pod securityContext");
        assert_eq!(psc.run_as_non_root, Some(true), "{}", ctx("runAsNonRoot"));
        assert_eq!(psc.run_as_user, Some(65532), "{}", ctx("runAsUser"));
        assert_eq!(
            psc.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
            Some("RuntimeDefault"),
            "{}",
            ctx("seccomp")
        );
        // Container security context.
        let sc = c.security_context.clone().expect("container securityContext");
        assert_eq!(sc.run_as_non_root, Some(true), "{}", ctx("runAsNonRoot"));
        assert_eq!(sc.run_as_user, Some(65532), "{}", ctx("runAsUser"));
        assert_eq!(sc.read_only_root_filesystem, Some(true), "{}", ctx("readOnlyRootFilesystem"));
        assert_eq!(sc.allow_privilege_escalation, Some(false), "{}", ctx("allowPrivilegeEscalation"));
        assert_ne!(sc.privileged, Some(true), "{}", ctx("privileged"));
        let caps = sc.capabilities.clone().expect("capabilities");
        assert_eq!(caps.drop, Some(vec!["ALL".to_string()]), "{}", ctx("drop ALL"));
        assert!(caps.add.unwrap_or_default().is_empty(), "{}", ctx("no capability added"));
        assert_eq!(sc.seccomp_profile.as_ref().map(|s| s.type_.as_str()), Some("RuntimeDefault"), "{}", ctx("seccomp"));
        // Nothing of the host.
        assert_ne!(pod.host_network, Some(true), "{}", ctx("hostNetwork"));
        assert_ne!(pod.host_pid, Some(true), "{}", ctx("hostPID"));
        assert_ne!(pod.host_ipc, Some(true), "{}", ctx("hostIPC"));
        for vol in pod.volumes.iter().flatten() {
            assert!(vol.host_path.is_none(), "{}", ctx(&format!("hostPath volume {}", vol.name)));
        }
        // It talks to the API server: the token is mounted, by the pod's explicit choice.
        assert_eq!(pod.automount_service_account_token, Some(true), "{}", ctx("automountServiceAccountToken"));
        assert_eq!(pod.service_account_name.as_deref(), Some(v.fullname().as_str()), "{}", ctx("serviceAccountName"));
        let grace = pod.termination_grace_period_seconds.expect("terminationGracePeriodSeconds");
        assert!((10..=120).contains(&grace), "{}", ctx("terminationGracePeriodSeconds"));

        // Requests and limits.
        let res = c.resources.clone().expect("resources");
        let requests = res.requests.unwrap_or_default();
        let limits = res.limits.unwrap_or_default();
        for key in ["cpu", "memory"] {
            assert!(requests.contains_key(key), "{}", ctx(&format!("requests.{key}")));
        }
        assert!(limits.contains_key("memory"), "{}", ctx("limits.memory"));
        assert!(mebibytes(&limits["memory"].0) >= mebibytes(&requests["memory"].0), "{}", ctx("limit >= request"));
        assert!(mebibytes(&requests["memory"].0) >= 384, "{}", ctx("room for a ~300 MB index"));

        // Image: the chart's appVersion unless pinned by digest.
        let image = c.image.clone().unwrap();
        if *name == "custom" {
            assert_eq!(image, format!("ghcr.io/stance-dev/stance@sha256:{}", "a".repeat(64)));
        } else {
            assert_eq!(image, format!("ghcr.io/stance-dev/stance:{}", env!("CARGO_PKG_VERSION")));
        }

        // Probes hit the real endpoints on the real listener: the named port is the metrics
        // container port, which is the port of --metrics-listen.
        let ports: BTreeMap<String, i32> =
            c.ports.iter().flatten().map(|p| (p.name.clone().unwrap_or_default(), p.container_port)).collect();
        let metrics_port = listen_port(&v.flag("--metrics-listen").expect("--metrics-listen"));
        let https_port = listen_port(&v.flag("--listen").expect("--listen"));
        assert_eq!(ports.get("metrics"), Some(&metrics_port), "{}", ctx("metrics port"));
        assert_eq!(ports.get("https"), Some(&https_port), "{}", ctx("https port"));
        for (probe, path) in [(c.liveness_probe.clone(), "/healthz"), (c.readiness_probe.clone(), "/readyz")] {
            let probe = probe.unwrap_or_else(|| panic!("{}", ctx(&format!("probe {path}"))));
            let get = probe.http_get.expect("httpGet probe");
            assert_eq!(get.path.as_deref(), Some(path), "{}", ctx("probe path"));
            let port = match &get.port {
                IntOrString::Int(p) => *p,
                IntOrString::String(n) => ports[n],
            };
            assert_eq!(port, metrics_port, "{}", ctx(&format!("{path} is served on the metrics listener")));
            assert_ne!(get.scheme.as_deref(), Some("HTTPS"), "{}", ctx("the metrics listener is plain HTTP"));
            assert!(probe.period_seconds.unwrap_or(10) >= 1 && probe.timeout_seconds.unwrap_or(1) >= 1);
        }

        // $(VAR) references in args resolve to env vars set from the downward API.
        let env: BTreeMap<String, String> = c
            .env
            .iter()
            .flatten()
            .map(|e| {
                let from = e.value_from.as_ref().and_then(|f| f.field_ref.as_ref()).map(|f| f.field_path.clone());
                (e.name.clone(), from.or(e.value.clone()).unwrap_or_default())
            })
            .collect();
        assert_eq!(
            env.get("POD_NAMESPACE").map(String::as_str),
            Some("metadata.namespace"),
            "{}",
            ctx("POD_NAMESPACE")
        );
        assert_eq!(env.get("POD_NAME").map(String::as_str), Some("metadata.name"), "{}", ctx("POD_NAME"));
        assert!(env.contains_key("STANCE_LOG"), "{}", ctx("STANCE_LOG"));
        assert_eq!(v.flag("--namespace").as_deref(), Some("$(POD_NAMESPACE)"));
        assert_eq!(v.flag("--identity").as_deref(), Some("$(POD_NAME)"));

        // The certificate files Stance is told to read are the mounted Secret's keys.
        let tls = pod.volumes.iter().flatten().find(|vol| vol.name == "tls").expect("tls volume");
        let secret = tls.secret.clone().expect("the tls volume is a Secret");
        assert_eq!(secret.secret_name.as_deref(), Some(format!("{}-tls", v.fullname()).as_str()));
        let mount = c.volume_mounts.iter().flatten().find(|m| m.name == "tls").expect("tls mount");
        assert_eq!(mount.read_only, Some(true));
        assert!(mount.sub_path.is_none(), "no subPath: rotated certificates must reach the pod");
        assert_eq!(v.flag("--tls-cert"), Some(format!("{}/tls.crt", mount.mount_path)));
        assert_eq!(v.flag("--tls-key"), Some(format!("{}/tls.key", mount.mount_path)));
        let keys: BTreeSet<String> = secret.items.iter().flatten().map(|i| i.key.clone()).collect();
        assert_eq!(keys, BTreeSet::from(["tls.crt".to_string(), "tls.key".to_string()]));

        // Replicas, rollout and spread.
        let deployment = v.deployment();
        let spec = deployment.spec.clone().unwrap();
        let replicas = spec.replicas.unwrap();
        let expected_replicas = match *name {
            "single" => 1,
            "custom" => 3,
            _ => 2,
        };
        assert_eq!(replicas, expected_replicas, "{}", ctx("replicas"));
        let selector = spec.selector.match_labels.clone().unwrap();
        let pod_labels = spec.template.metadata.clone().unwrap().labels.unwrap();
        assert!(selector.iter().all(|(k, val)| pod_labels.get(k) == Some(val)), "{}", ctx("selector matches the pods"));
        let strategy = spec.strategy.clone().unwrap();
        if *name == "single" {
            // The SQLite history's ReadWriteOnce volume: the old pod releases it first.
            assert_eq!(strategy.type_.as_deref(), Some("Recreate"), "{}", ctx("SQLite history rollout"));
        } else {
            let rolling = strategy.rolling_update.unwrap();
            assert_eq!(
                rolling.max_unavailable,
                Some(IntOrString::Int(0)),
                "{}",
                ctx("rollouts keep every replica serving")
            );
        }
        if replicas > 1 {
            let affinity = pod.affinity.clone().and_then(|a| a.pod_anti_affinity).expect("podAntiAffinity");
            let terms: Vec<_> = affinity
                .preferred_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
                .map(|t| t.pod_affinity_term.clone())
                .chain(affinity.required_during_scheduling_ignored_during_execution.iter().flatten().cloned())
                .collect();
            assert!(
                terms.iter().any(|t| t.topology_key == "kubernetes.io/hostname"
                    && t.label_selector.as_ref().and_then(|s| s.match_labels.as_ref()) == Some(&selector)),
                "{}",
                ctx("replicas are spread across nodes")
            );
            if *name == "custom" {
                assert!(affinity.required_during_scheduling_ignored_during_execution.is_some(), "hard anti-affinity");
            }
            for t in pod.topology_spread_constraints.iter().flatten() {
                assert_eq!(
                    t.label_selector.as_ref().and_then(|s| s.match_labels.as_ref()),
                    Some(&selector),
                    "{}",
                    ctx("spread constraints select the pods")
                );
            }
            // Voluntary disruptions keep one replica answering admission requests.
            let pdb: PodDisruptionBudget = v.get("PodDisruptionBudget");
            assert_eq!(v.one("PodDisruptionBudget").api_version, "policy/v1");
            let pdb = pdb.spec.unwrap();
            assert_eq!(pdb.min_available, Some(IntOrString::Int(1)), "{}", ctx("minAvailable"));
            assert_eq!(pdb.selector.unwrap().match_labels.unwrap(), selector, "{}", ctx("PDB selects the pods"));
        } else {
            assert!(v.all("PodDisruptionBudget").is_empty(), "{}", ctx("no PDB for one replica"));
        }
        assert_eq!(
            pod.priority_class_name.as_deref(),
            if *name == "custom" { Some("platform-critical") } else { None },
            "{}",
            ctx("priorityClassName")
        );

        // The Service sends 443 to the HTTPS listener and exposes the metrics listener.
        let svc: Service = v.get("Service");
        let svc_spec = svc.spec.unwrap();
        assert_eq!(svc_spec.selector.as_ref(), Some(&selector), "{}", ctx("Service selects the pods"));
        let svc_ports: BTreeMap<String, (i32, IntOrString)> = svc_spec
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone().unwrap(), (p.port, p.target_port.clone().unwrap())))
            .collect();
        assert_eq!(svc_ports["https"], (443, IntOrString::String("https".into())), "{}", ctx("Service https"));
        assert_eq!(svc_ports["metrics"], (9090, IntOrString::String("metrics".into())), "{}", ctx("Service metrics"));

        // Feeds are mounted read-only and passed as --feed.
        let feeds = v.flag_values("--feed");
        if *name == "custom" {
            assert_eq!(
                feeds,
                ["/etc/stance/feeds/known_exploited_vulnerabilities.json", "/etc/stance/feeds/epss_scores.csv.gz"]
            );
            let m = c.volume_mounts.iter().flatten().find(|m| m.name == "feeds").expect("feeds mount");
            assert_eq!((m.mount_path.as_str(), m.read_only), ("/etc/stance/feeds", Some(true)));
        } else {
            assert!(feeds.is_empty());
        }
    }
}

fn mebibytes(q: &str) -> u64 {
    let (num, unit) = q.split_at(q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len()));
    let n: u64 = num.parse().unwrap_or_else(|_| panic!("quantity {q}"));
    match unit {
        "Gi" => n * 1024,
        "Mi" => n,
        "G" => n * 1000 * 1000 * 1000 / (1 << 20),
        "M" => n * 1000 * 1000 / (1 << 20),
        "" => n / (1 << 20),
        other => panic!("unit {other} of {q}"),
    }
}

fn listen_port(addr: &str) -> i32 {
    addr.rsplit(':').next().unwrap().parse().unwrap_or_else(|_| panic!("address {addr}"))
}

// ---------------------------------------------------------------------------------------------
// The container's arguments against the real binary

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn container_args_are_accepted_by_stance_run() {
    let bin = env!("CARGO_BIN_EXE_stance");
    let help = Command::new(bin).args(["run", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(
        help.status.success(),
        "`stance run --help` failed: the chart runs `stance run`:\n{text}{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let known: BTreeSet<String> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=' || c == '<')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect();
    for name in VARIANTS {
        let v = variant(name);
        let args = v.args();
        assert_eq!(args.first().map(String::as_str), Some("run"), "{name}: the container runs `stance run`");
        assert!(v.container().command.is_none(), "{name}: the image's entrypoint is used");
        for a in &args[1..] {
            let flag = a.split('=').next().unwrap();
            assert!(flag.starts_with("--"), "{name}: argument {a:?} is not a --flag");
            assert!(known.contains(flag), "{name}: `stance run` has no flag {flag} (from {a:?}); it knows {known:?}");
        }
        // clap reads the arguments in order and stops at --help: every argument before it must
        // be one it accepts.
        let out = Command::new(bin).args(&args).arg("--help").output().unwrap();
        assert!(
            out.status.success(),
            "{name}: `stance {}` is refused:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );

        // Values the binary would refuse at start-up.
        let timeout: u64 = v.flag("--timeout-ms").expect("--timeout-ms").parse().unwrap();
        assert!((1..=30_000).contains(&timeout), "{name}: --timeout-ms {timeout}");
        assert!(matches!(v.flag("--log-format").as_deref(), Some("json" | "text")), "{name}: --log-format");
        let days: u32 = v.flag("--max-exception-days").unwrap().parse().unwrap();
        assert!(days >= 1);
        let leader = !v.has_switch("--no-leader-election");
        let replicas = v.deployment().spec.unwrap().replicas.unwrap();
        assert!(leader || replicas == 1, "{name}: several replicas need leader election");
        // The policy namespaces: the release namespace is always exempt, and exceptions default to it.
        assert!(v.flag_values("--exempt-namespace").contains(&v.namespace), "{name}: release namespace exempt");
        assert!(v.flag_values("--exempt-namespace").contains(&"kube-system".to_string()), "{name}: kube-system");
        let exceptions = v.flag_values("--exception-namespace");
        if *name == "custom" {
            assert_eq!(exceptions, ["security", "appsec"]);
            assert_eq!(v.flag_values("--exempt-namespace"), ["kube-system", "monitoring", "security"]);
            assert_eq!(v.flag("--max-in-flight").as_deref(), Some("64"));
        } else {
            assert_eq!(exceptions, std::slice::from_ref(&v.namespace));
        }
        assert_eq!(v.has_switch("--policy-reports"), *name == "policy-reports", "{name}: --policy-reports");
        assert_eq!(v.has_switch("--no-ingest"), *name == "no-ingest", "{name}: --no-ingest");
        assert_eq!(v.has_switch("--no-leader-election"), *name == "single", "{name}: --no-leader-election");
        assert_eq!(v.has_switch("--fail-open"), *name == "custom", "{name}: fail open only with failurePolicy Ignore");
        // Evidence: the upload audience, trusted sources, read budgets.
        let audience = v.flag("--ingest-audience");
        match *name {
            "no-ingest" => assert_eq!(audience, None, "{name}: no audience without ingest"),
            "custom" => {
                assert_eq!(audience.as_deref(), Some("aspm-ingest"));
                assert_eq!(v.flag_values("--trusted-uploader"), ["system:serviceaccount:ci:scanner"]);
                assert_eq!(v.flag_values("--trusted-report-namespace"), ["ci-scans"]);
                assert_eq!(v.flag("--max-decompressed-mib").as_deref(), Some("32"));
                assert_eq!(v.flag("--max-document-nodes").as_deref(), Some("2000000"));
            }
            _ => {
                assert_eq!(audience.as_deref(), Some("stance"), "{name}");
                assert!(
                    v.flag_values("--trusted-uploader").is_empty()
                        && v.flag_values("--trusted-report-namespace").is_empty()
                );
                assert_eq!(v.flag("--max-decompressed-mib").as_deref(), Some("16"), "{name}");
                assert_eq!(v.flag("--max-document-nodes").as_deref(), Some("1048576"), "{name}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RBAC

/// One permission: (scope, apiGroup, resource[/subresource], verb, resourceName or "").
type Grant = (String, String, String, String, String);

fn grants_of(rules: &[PolicyRule], scope: &str) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for r in rules {
        assert!(r.non_resource_urls.as_ref().is_none_or(Vec::is_empty), "no nonResourceURLs: {r:?}");
        let names = r.resource_names.clone().unwrap_or_default();
        let names = if names.is_empty() { vec![String::new()] } else { names };
        for g in r.api_groups.iter().flatten() {
            for res in r.resources.iter().flatten() {
                for verb in &r.verbs {
                    for n in &names {
                        out.insert((scope.to_string(), g.clone(), res.clone(), verb.clone(), n.clone()));
                    }
                }
            }
        }
    }
    out
}

fn assert_no_wildcards(o: &Object) {
    let rules = o.value["rules"].as_array().cloned().unwrap_or_default();
    for rule in &rules {
        for field in ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"] {
            for item in rule[field].as_array().into_iter().flatten() {
                let s = item.as_str().unwrap_or_default();
                assert!(!s.contains('*'), "{}: wildcard {s:?} in {field}", o.id());
            }
        }
    }
    assert!(o.value.get("aggregationRule").is_none(), "{}: no aggregationRule (it grants whatever matches)", o.id());
}

/// Everything the chart grants Stance's ServiceAccount, through every binding the chart renders.
fn service_account_grants(v: &Variant) -> BTreeSet<Grant> {
    let sa = v.fullname();
    let is_ours = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
        subjects
            .iter()
            .flatten()
            .any(|s| s.kind == "ServiceAccount" && s.name == sa && s.namespace.as_deref() == Some(v.namespace.as_str()))
    };
    let mut out = BTreeSet::new();
    for o in v.all("ClusterRoleBinding") {
        let b: ClusterRoleBinding = typed(o);
        if is_ours(&b.subjects) {
            assert_eq!(b.role_ref.kind, "ClusterRole");
            let role: ClusterRole = typed(v.named("ClusterRole", &b.role_ref.name));
            out.extend(grants_of(&role.rules.unwrap_or_default(), "cluster"));
        }
    }
    for o in v.all("RoleBinding") {
        let b: RoleBinding = typed(o);
        if is_ours(&b.subjects) {
            assert_eq!(b.role_ref.kind, "Role", "{}: a RoleBinding of a Role in the release namespace", o.id());
            let role: Role = typed(v.named("Role", &b.role_ref.name));
            assert_eq!(role.metadata.namespace.as_deref(), Some(v.namespace.as_str()));
            out.extend(grants_of(&role.rules.unwrap_or_default(), &format!("namespace {}", v.namespace)));
        }
    }
    out
}

fn grant(scope: &str, group: &str, resources: &[&str], verbs: &[&str]) -> Vec<Grant> {
    let mut out = Vec::new();
    for r in resources {
        for v in verbs {
            out.push((scope.into(), group.into(), r.to_string(), v.to_string(), String::new()));
        }
    }
    out
}

/// The minimum `stance run` needs (src/controller, src/webhook), by feature.
fn expected_grants(namespace: &str, ingest: bool, policy_reports: bool, leader_election: bool) -> BTreeSet<Grant> {
    const READ: &[&str] = &["get", "list", "watch"];
    let c = "cluster";
    let mut g = Vec::new();
    g.extend(grant(c, "", &["namespaces", "pods", "services", "configmaps"], READ));
    g.extend(grant(c, "apps", &["deployments", "statefulsets", "daemonsets", "replicasets"], READ));
    g.extend(grant(c, "batch", &["jobs", "cronjobs"], READ));
    g.extend(grant(c, "networking.k8s.io", &["ingresses"], READ));
    g.extend(grant(c, "gateway.networking.k8s.io", &["httproutes", "referencegrants"], READ));
    g.extend(grant(
        c,
        "aquasecurity.github.io",
        &[
            "vulnerabilityreports",
            "clustervulnerabilityreports",
            "configauditreports",
            "clusterconfigauditreports",
            "exposedsecretreports",
            "sbomreports",
            "clustersbomreports",
            "rbacassessmentreports",
            "clusterrbacassessmentreports",
            "infraassessmentreports",
            "clusterinfraassessmentreports",
        ],
        READ,
    ));
    g.extend(grant(c, "wgpolicyk8s.io", &["policyreports", "clusterpolicyreports"], READ));
    g.extend(grant(c, "openreports.io", &["reports", "clusterreports"], READ));
    g.extend(grant(c, "kyverno.io", &["policyexceptions"], READ));
    g.extend(grant(c, "aspm.stance.dev", &["apppostures", "assets", "guardrailpolicies", "riskexceptions"], READ));
    g.extend(grant(
        c,
        "aspm.stance.dev",
        &["apppostures/status", "assets/status", "guardrailpolicies/status", "riskexceptions/status"],
        &["patch"],
    ));
    g.extend(grant(c, "aspm.stance.dev", &["assets"], &["create", "patch", "delete"]));
    g.extend(grant(c, "events.k8s.io", &["events"], &["create", "patch"]));
    if ingest {
        g.extend(grant(c, "authentication.k8s.io", &["tokenreviews"], &["create"]));
        g.extend(grant(c, "authorization.k8s.io", &["subjectaccessreviews"], &["create"]));
        // Uploads are stored in Stance's own namespace: no cluster-wide ConfigMap write.
        g.extend(grant(&format!("namespace {namespace}"), "", &["configmaps"], &["create", "patch"]));
    }
    if policy_reports {
        g.extend(grant(c, "wgpolicyk8s.io", &["policyreports"], &["create", "update", "patch", "delete"]));
        g.extend(grant(c, "openreports.io", &["reports"], &["create", "update", "patch", "delete"]));
    }
    if leader_election {
        let ns = format!("namespace {namespace}");
        g.extend(grant(&ns, "coordination.k8s.io", &["leases"], &["create"]));
        for verb in ["get", "update"] {
            g.push((ns.clone(), "coordination.k8s.io".into(), "leases".into(), verb.into(), "stance-operator".into()));
        }
    }
    g.into_iter().collect()
}

fn show(grants: &BTreeSet<Grant>) -> String {
    grants.iter().map(|(s, g, r, v, n)| format!("  {s:24} {g:28} {r:32} {v:8} {n}\n")).collect()
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn rbac_is_exactly_the_minimum_stance_needs() {
    for name in VARIANTS {
        let v = variant(name);
        for kind in ["ClusterRole", "Role"] {
            for o in v.all(kind) {
                assert_no_wildcards(o);
            }
        }
        let ingest = *name != "no-ingest";
        let policy_reports = *name == "policy-reports";
        let leader = *name != "single";
        let got = service_account_grants(&v);
        let want = expected_grants(&v.namespace, ingest, policy_reports, leader);
        let extra: BTreeSet<Grant> = got.difference(&want).cloned().collect();
        let missing: BTreeSet<Grant> = want.difference(&got).cloned().collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "{name}: Stance's RBAC differs from the minimum.\nmore than needed:\n{}missing:\n{}",
            show(&extra),
            show(&missing)
        );
        // Never Secrets (the TLS Secret is mounted by the kubelet), never RBAC or webhooks.
        for (_, g, r, _, _) in &got {
            assert!(r != "secrets" && g != "rbac.authorization.k8s.io" && g != "admissionregistration.k8s.io", "{r}");
        }
        // Read-only on everything that is not Stance's own (besides Events, Leases, reviews and
        // the features' ConfigMaps / PolicyReports).
        for (_, g, r, verb, _) in &got {
            let write = !matches!(verb.as_str(), "get" | "list" | "watch");
            if write {
                let allowed = g == "aspm.stance.dev"
                    || g == "events.k8s.io"
                    || g == "coordination.k8s.io"
                    || (ingest && (g == "authentication.k8s.io" || g == "authorization.k8s.io"))
                    || (ingest && g.is_empty() && r == "configmaps")
                    || (policy_reports && g == "wgpolicyk8s.io" && r == "policyreports")
                    || (policy_reports && g == "openreports.io" && r == "reports");
                assert!(allowed, "{name}: unexpected write {verb} on {g}/{r}");
            }
        }

        // The roles for people and pipelines.
        let fullname = v.fullname();
        let view = v.named("ClusterRole", &format!("{fullname}-view"));
        assert_eq!(view.value["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"], "true");
        let view: ClusterRole = typed(view);
        assert_eq!(
            grants_of(&view.rules.unwrap(), "cluster"),
            grant(
                "cluster",
                "aspm.stance.dev",
                &["apppostures", "assets", "guardrailpolicies", "riskexceptions"],
                &["get", "list", "watch"]
            )
            .into_iter()
            .collect()
        );
        let edit = v.named("ClusterRole", &format!("{fullname}-edit"));
        assert_eq!(edit.value["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"], "true");
        assert_eq!(edit.value["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"], "true");
        let edit: ClusterRole = typed(edit);
        assert_eq!(
            grants_of(&edit.rules.unwrap(), "cluster"),
            grant(
                "cluster",
                "aspm.stance.dev",
                &["apppostures", "assets", "riskexceptions"],
                &["create", "update", "patch", "delete", "deletecollection"]
            )
            .into_iter()
            .collect(),
            "editors manage AppPostures, Assets and RiskExceptions; cluster-wide GuardrailPolicies stay with admins"
        );
        let uploader = v.all("ClusterRole").into_iter().find(|o| o.name == format!("{fullname}-report-uploader"));
        if ingest {
            let uploader: ClusterRole = typed(uploader.expect("report-uploader ClusterRole"));
            assert_eq!(
                grants_of(&uploader.rules.unwrap(), "cluster"),
                grant("cluster", "aspm.stance.dev", &["reports"], &["create"]).into_iter().collect(),
                "what POST /ingest authorizes with a SubjectAccessReview (src/controller/ingest_api.rs)"
            );
        } else {
            assert!(uploader.is_none(), "{name}: no uploader role without ingest");
        }
        // The chart binds nothing but Stance's own ServiceAccount.
        for o in v.all("ClusterRoleBinding").into_iter().chain(v.all("RoleBinding")) {
            let subjects = o.value["subjects"].as_array().unwrap();
            assert_eq!(subjects.len(), 1, "{}", o.id());
            assert_eq!(subjects[0]["name"], fullname.as_str());
        }
        let sa: ServiceAccount = v.get("ServiceAccount");
        assert_eq!(sa.automount_service_account_token, Some(false), "only the pod that needs it mounts the token");
    }
}

// ---------------------------------------------------------------------------------------------
// Webhook configuration and TLS

fn rules_of(w: &ValidatingWebhook) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for r in w.rules.iter().flatten() {
        for g in r.api_groups.iter().flatten() {
            for res in r.resources.iter().flatten() {
                for op in r.operations.iter().flatten() {
                    out.insert((g.clone(), res.clone(), op.clone()));
                }
            }
        }
    }
    out
}

fn expected_rules(pairs: &[(&str, &[&str])]) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (group, resources) in pairs {
        for r in *resources {
            for op in ["CREATE", "UPDATE"] {
                out.insert((group.to_string(), r.to_string(), op.to_string()));
            }
        }
    }
    out
}

fn excluded_namespaces(w: &ValidatingWebhook) -> BTreeSet<String> {
    let sel = w.namespace_selector.clone().expect("namespaceSelector");
    sel.match_expressions
        .iter()
        .flatten()
        .filter(|e| e.key == "kubernetes.io/metadata.name" && e.operator == "NotIn")
        .flat_map(|e| e.values.clone().unwrap_or_default())
        .collect()
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn webhook_configuration_is_safe_and_points_at_stance() {
    for name in VARIANTS {
        let v = variant(name);
        if name == &"single" {
            assert!(v.all("ValidatingWebhookConfiguration").is_empty(), "webhook.enabled=false");
            continue;
        }
        let config = v.webhook_config();
        let hooks = config.webhooks.clone().unwrap();
        let names: Vec<&str> = hooks.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["workloads.aspm.stance.dev", "objects.aspm.stance.dev"], "{name}");
        let custom = *name == "custom";
        let (policy, timeout) = if custom { ("Ignore", 10) } else { ("Fail", 5) };
        let svc: Service = v.get("Service");
        for w in &hooks {
            assert_eq!(w.admission_review_versions, ["v1"], "{name}/{}", w.name);
            assert_eq!(w.side_effects, "NoneOnDryRun", "{name}/{}", w.name);
            assert_eq!(w.failure_policy.as_deref(), Some(policy), "{name}/{}", w.name);
            assert_eq!(w.timeout_seconds, Some(timeout), "{name}/{}", w.name);
            // The server's own deadline is well inside the API server's.
            let server_ms: i32 = v.flag("--timeout-ms").unwrap().parse().unwrap();
            assert_eq!(server_ms, timeout * 1000 - 1000, "{name}: --timeout-ms = timeoutSeconds*1000 - 1000");
            // It calls the Service's HTTPS port, path /validate.
            let s = w.client_config.service.clone().expect("clientConfig.service");
            assert_eq!(s.name, svc.metadata.name.clone().unwrap());
            assert_eq!(s.namespace, v.namespace);
            assert_eq!(s.path.as_deref(), Some("/validate"));
            assert_eq!(s.port, Some(443));
            assert!(w.client_config.url.is_none());
        }

        // Pods and every pod controller; Stance's policies and exceptions.
        let workloads = v.webhook("workloads.aspm.stance.dev");
        assert_eq!(
            rules_of(&workloads),
            expected_rules(&[
                ("", &["pods", "pods/ephemeralcontainers"]),
                ("apps", &["deployments", "statefulsets", "daemonsets", "replicasets"]),
                ("batch", &["jobs", "cronjobs"]),
            ]),
            "{name}"
        );
        for r in workloads.rules.iter().flatten() {
            assert_eq!(r.scope.as_deref(), Some("Namespaced"));
        }
        let objects = v.webhook("objects.aspm.stance.dev");
        assert_eq!(
            rules_of(&objects),
            expected_rules(&[("aspm.stance.dev", &["guardrailpolicies", "riskexceptions"])]),
            "{name}"
        );
        assert!(
            objects.namespace_selector.is_none() && objects.object_selector.is_none(),
            "{name}: every GuardrailPolicy and RiskException is validated, also in Stance's namespace"
        );

        // Safety valves: kube-system, the exempt namespaces and the release namespace are never
        // sent to Stance — the same list Stance exempts itself.
        let excluded = excluded_namespaces(&workloads);
        assert!(excluded.contains("kube-system"), "{name}: {excluded:?}");
        assert!(excluded.contains(&v.namespace), "{name}: the release namespace {} is excluded", v.namespace);
        assert_eq!(excluded, v.flag_values("--exempt-namespace").into_iter().collect(), "{name}");
        let sel = workloads.namespace_selector.clone().unwrap();
        assert!(
            sel.match_expressions.iter().flatten().any(|e| e.key == "aspm.stance.dev/ignore"
                && e.operator == "NotIn"
                && e.values.as_deref() == Some(&["true".to_string()][..])),
            "{name}: namespaces opt out with the label aspm.stance.dev/ignore=true"
        );
        assert!(sel.match_labels.is_none());
        match workloads.object_selector.clone() {
            None => assert!(!custom, "{name}: objectSelector opt-out is off by default"),
            Some(o) => {
                assert!(custom);
                let e = &o.match_expressions.unwrap()[0];
                assert_eq!((e.key.as_str(), e.operator.as_str()), ("aspm.stance.dev/ignore", "NotIn"));
                assert_eq!(e.values.as_deref(), Some(&["true".to_string()][..]));
            }
        }
        match workloads.match_conditions.clone() {
            None => assert!(!custom, "{name}: matchConditions (Kubernetes 1.30+) are off by default"),
            Some(conds) => {
                assert!(custom);
                assert_eq!(conds.len(), 1);
                assert_eq!(conds[0].name, "skip-built-in-controllers");
                assert!(conds[0].expression.contains("system:serviceaccount:kube-system:replicaset-controller"));
            }
        }

        // TLS: a caBundle that verifies the serving certificate, or cert-manager's CA injection.
        let annotations = config.metadata.annotations.clone().unwrap_or_default();
        let cert_manager = name.starts_with("cert-manager");
        if cert_manager {
            assert!(v.all("Secret").is_empty(), "{name}: cert-manager writes the Secret");
            for w in &hooks {
                assert!(w.client_config.ca_bundle.is_none(), "{name}: cert-manager injects the caBundle");
            }
            let serving = format!("{}-serving", v.fullname());
            assert_eq!(annotations.get("cert-manager.io/inject-ca-from"), Some(&format!("{}/{serving}", v.namespace)));
            check_cert_manager(&v, name == &"cert-manager-issuer");
        } else {
            assert!(!annotations.contains_key("cert-manager.io/inject-ca-from"));
            let secret: Secret = v.get("Secret");
            assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
            assert_eq!(secret.metadata.name, Some(format!("{}-tls", v.fullname())));
            let data = secret.data.unwrap();
            let ca = &data["ca.crt"].0;
            for w in &hooks {
                assert_eq!(w.client_config.ca_bundle.as_ref().map(|b| &b.0), Some(ca), "{name}: caBundle = ca.crt");
            }
            let host = format!("{}.{}.svc", svc.metadata.name.clone().unwrap(), v.namespace);
            verify_serving_certificate(ca, &data["tls.crt"].0, &data["tls.key"].0, &host);
        }
    }
}

/// The certificate the chart generated is one Stance can serve (rustls loads the pair) and the
/// API server will trust: it chains to the caBundle for the Service's DNS name.
fn verify_serving_certificate(ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8], host: &str) {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert_pem).collect::<Result<_, _>>().expect("tls.crt is PEM");
    assert!(!chain.is_empty(), "tls.crt holds a certificate");
    let key = PrivateKeyDer::from_pem_slice(key_pem).expect("tls.key is a PEM private key");
    let key = provider.key_provider.load_private_key(key).expect("rustls can sign with tls.key");
    rustls::sign::CertifiedKey::new(chain.clone(), key).keys_match().expect("tls.key belongs to tls.crt");

    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(ca.expect("ca.crt is PEM")).expect("ca.crt is a usable CA");
    }
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .expect("verifier");
    for name in [host.to_string(), format!("{host}.cluster.local")] {
        let server = ServerName::try_from(name.clone()).unwrap();
        verifier
            .verify_server_cert(&chain[0], &chain[1..], &server, &[], UnixTime::now())
            .unwrap_or_else(|e| panic!("the serving certificate is not valid for {name} under the caBundle: {e}"));
    }
}

fn check_cert_manager(v: &Variant, existing_issuer: bool) {
    let f = v.fullname();
    let serving = &v.named("Certificate", &format!("{f}-serving")).value["spec"];
    assert_eq!(serving["secretName"], format!("{f}-tls"), "the Secret the pods mount");
    let dns: Vec<&str> = serving["dnsNames"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert!(dns.contains(&format!("{f}.{}.svc", v.namespace).as_str()), "{dns:?}");
    assert!(serving["usages"].as_array().unwrap().contains(&Value::from("server auth")));
    if existing_issuer {
        assert_eq!(serving["issuerRef"], serde_json::json!({"kind": "ClusterIssuer", "name": "corp-ca"}));
        assert!(v.all("Issuer").is_empty());
        assert_eq!(v.all("Certificate").len(), 1);
        return;
    }
    // selfSigned Issuer -> CA Certificate -> CA Issuer -> serving Certificate.
    let self_signed = &v.named("Issuer", &format!("{f}-selfsigned")).value["spec"];
    assert!(self_signed["selfSigned"].is_object());
    let ca = &v.named("Certificate", &format!("{f}-ca")).value["spec"];
    assert_eq!(ca["isCA"], true);
    assert_eq!(ca["issuerRef"]["name"], format!("{f}-selfsigned"));
    let ca_issuer = &v.named("Issuer", &format!("{f}-ca")).value["spec"];
    assert_eq!(ca_issuer["ca"]["secretName"], ca["secretName"]);
    assert_eq!(serving["issuerRef"]["name"], format!("{f}-ca"));
    assert_eq!(serving["issuerRef"]["kind"], "Issuer");
}

// ---------------------------------------------------------------------------------------------
// Monitoring

/// The metric names Stance really exports, from its own registries.
fn exported_metric_names() -> BTreeSet<String> {
    let mut registry = prometheus_client::registry::Registry::default();
    let operator = stance::controller::metrics::ControllerMetrics::register(&mut registry);
    let webhook = stance::webhook::WebhookMetrics::register(&mut registry);
    // A labelled family is exported once it has a child: create one of each.
    {
        use stance::controller::metrics::{EventLabels, KindLabel, ReasonLabel, ResultLabels};
        let kind = KindLabel { kind: "Pod".into() };
        let result = ResultLabels { kind: "AppPosture".into(), result: "error".into() };
        operator.watch_events.get_or_create(&EventLabels { kind: "Pod".into(), event: "apply".into() }).inc();
        operator.watch_errors.get_or_create(&kind).inc();
        operator.rejected_objects.get_or_create(&kind).inc();
        operator.reconciles.get_or_create(&result).inc();
        operator.events_published.get_or_create(&ReasonLabel { reason: "KnownExploitedFinding".into() }).inc();
        operator.ingest_uploads.get_or_create(&result).inc();
        webhook.bad_request("invalid_json");
        webhook.evaluation_error("timeout");
        webhook.observe_latency("validate", 0.001);
    }
    let text = stance::telemetry::encode(&registry);
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if let (Some("#"), Some("TYPE"), Some(name), Some(kind)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            match kind {
                "counter" => {
                    names.insert(format!("{name}_total"));
                }
                "histogram" => {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
                _ => {
                    names.insert(name.to_string());
                }
            }
        }
    }
    assert!(names.len() > 15, "metrics registered: {names:?}");
    names
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn monitoring_objects_scrape_the_service_and_alert_on_real_metrics() {
    for name in VARIANTS {
        let v = variant(name);
        if *name != "monitoring" {
            assert!(v.all("ServiceMonitor").is_empty() && v.all("PrometheusRule").is_empty(), "{name}: off by default");
        }
    }
    let v = variant("monitoring");
    let svc: Service = v.get("Service");
    let sm = &v.one("ServiceMonitor").value;
    let svc_labels = svc.metadata.labels.clone().unwrap();
    for (k, val) in sm["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(svc_labels.get(k).map(String::as_str), val.as_str(), "the ServiceMonitor selects the Service");
    }
    assert_eq!(sm["metadata"]["labels"]["release"], "kube-prometheus-stack");
    let endpoint = &sm["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], "metrics");
    assert_eq!(endpoint["path"], "/metrics");
    assert!(svc.spec.unwrap().ports.unwrap().iter().any(|p| p.name.as_deref() == Some("metrics")));
    assert_eq!(sm["spec"]["namespaceSelector"]["matchNames"], serde_json::json!([v.namespace]));

    let exported = exported_metric_names();
    let rule = &v.one("PrometheusRule").value;
    let groups = rule["spec"]["groups"].as_array().unwrap();
    let mut alerts = BTreeMap::new();
    for g in groups {
        for r in g["rules"].as_array().unwrap() {
            let alert = r["alert"].as_str().expect("alerting rules").to_string();
            let expr = r["expr"].as_str().unwrap();
            for metric in metric_names_in(expr) {
                assert!(
                    exported.contains(&metric) || metric == "up",
                    "{alert}: {metric} is not a metric Stance exports ({exported:?})"
                );
            }
            assert!(expr.contains(&format!("namespace=\"{}\"", v.namespace)), "{alert}: scoped to the release");
            let labels = r["labels"].as_object().unwrap();
            assert!(matches!(labels["severity"].as_str(), Some("critical" | "warning" | "info")), "{alert}");
            assert_eq!(labels["team"], "platform", "{alert}: prometheusRule.alertLabels");
            for a in ["summary", "description"] {
                assert!(r["annotations"][a].as_str().is_some_and(|s| s.len() > 10), "{alert}: {a}");
            }
            // Helm must not have eaten Prometheus' own templates.
            if let Some(d) = r["annotations"]["description"].as_str() {
                assert!(!d.contains("<no value>"), "{alert}: {d}");
            }
            alerts.insert(alert, expr.to_string());
        }
    }
    for (alert, needle) in [
        ("StanceDown", "up{"),
        ("StanceWebhookEvaluationErrors", "stance_webhook_evaluation_errors_total"),
        ("StanceWebhookFailingOpen", "stance_webhook_fail_open_total"),
        ("StanceWebhookSlow", "stance_webhook_request_duration_seconds_bucket"),
        ("StanceWebhookCertificateReloadFailed", "stance_webhook_tls_reload_failures_total"),
        ("StanceWatchErrors", "stance_operator_watch_errors_total"),
        ("StanceReconcileErrors", "stance_operator_reconciles_total"),
        ("StanceNoLeader", "stance_operator_leader"),
        ("StanceReportUploadsFailing", "stance_operator_ingest_uploads_total"),
        ("StanceKnownExploitedFinding", "stance_operator_events_total"),
    ] {
        let expr = alerts.get(alert).unwrap_or_else(|| panic!("alert {alert} is missing: {alerts:?}"));
        assert!(expr.contains(needle), "{alert}: {expr}");
    }
    assert!(alerts["StanceReconcileErrors"].contains("result=\"error\""));
    assert!(alerts["StanceKnownExploitedFinding"].contains("reason=\"KnownExploitedFinding\""));
    assert!(alerts["StanceWebhookSlow"].contains("endpoint=\"validate\""));
    assert!(alerts["StanceDown"].contains(&format!("job=\"{}\"", svc.metadata.name.unwrap())), "job = Service name");
    // The label values the alerts filter on are the ones the code uses.
    let reconcile = std::fs::read_to_string(repo("src/controller/reconcile.rs")).unwrap();
    assert!(reconcile.contains("\"KnownExploitedFinding\"") && reconcile.contains("result: \"error\".into()"));
    let service = std::fs::read_to_string(repo("src/webhook/service.rs")).unwrap();
    assert!(service.contains("\"validate\""));
    let ingest = std::fs::read_to_string(repo("src/controller/ingest_api.rs")).unwrap();
    assert!(ingest.contains("outcome(\"error\")"));
}

/// The `stance_*` (and `up`) metric names in a PromQL expression.
fn metric_names_in(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut word = String::new();
    for ch in expr.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            if word.starts_with("stance_") {
                out.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Values: documented, validated

/// Renders one rendering with `values`; Ok(YAML) or Err(Helm's message).
fn render_with(name: &str, values: Value) -> Result<String, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart-values");
    let out = Command::new(python())
        .arg(repo("hack/render-chart.py"))
        .args(["--only", name, "--values", &values.to_string()])
        .arg(&dir)
        .current_dir(REPO)
        .output()
        .expect("run hack/render-chart.py");
    if out.status.success() {
        Ok(std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `history.*` and `remediation.*` (docs/history.md): PostgreSQL by URL (custom), SQLite on a
/// kept PersistentVolumeClaim of the asked size and class mounted where `--history` points
/// (single), nothing without `history.enabled`; SQLite with several replicas is refused.
#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn history_values_pass_the_store_and_mount_the_sqlite_volume() {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    for name in VARIANTS.iter().filter(|n| !["custom", "single"].contains(n)) {
        let v = variant(name);
        for flag in ["--history", "--cluster-name", "--remediation-days", "--remediation-kev-days"] {
            assert_eq!(v.flag(flag), None, "{name}: {flag} only with history / remediation values");
        }
        assert!(v.all("PersistentVolumeClaim").is_empty(), "{name}");
    }
    let v = variant("custom");
    assert_eq!(v.flag("--history").as_deref(), Some("postgres://stance@history.internal:5432/stance?sslmode=require"));
    assert_eq!(v.flag("--cluster-name").as_deref(), Some("prod-eu-1"));
    assert_eq!(v.flag("--history-retention-days").as_deref(), Some("180"));
    assert_eq!(v.flag("--remediation-days").as_deref(), Some("critical=15,high=30,medium=90,low=180"));
    assert_eq!(v.flag("--remediation-internet-days").as_deref(), Some("critical=7"));
    assert_eq!(v.flag("--remediation-kev-days").as_deref(), Some("7"));
    assert!(v.all("PersistentVolumeClaim").is_empty(), "PostgreSQL needs no volume");

    let v = variant("single");
    let pvc: PersistentVolumeClaim = v.get("PersistentVolumeClaim");
    let claim = pvc.metadata.name.clone().unwrap();
    assert_eq!(claim, format!("{}-history", v.fullname()));
    let annotations = pvc.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations.get("helm.sh/resource-policy").map(String::as_str), Some("keep"), "outlives an uninstall");
    let spec = pvc.spec.unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast-ssd"));
    assert_eq!(spec.access_modes, Some(vec!["ReadWriteOnce".to_string()]));
    let requests = spec.resources.unwrap().requests.unwrap();
    assert_eq!(requests["storage"].0, "5Gi");
    let volume = v.pod().volumes.unwrap().into_iter().find(|vol| vol.name == "history").expect("a history volume");
    assert_eq!(volume.persistent_volume_claim.map(|c| c.claim_name), Some(claim));
    let mount = v.container().volume_mounts.unwrap().into_iter().find(|m| m.name == "history").expect("mounted");
    assert_ne!(mount.read_only, Some(true), "the store is written");
    let flag = v.flag("--history").expect("--history");
    let path = flag.strip_prefix("sqlite:").expect("a sqlite: URL");
    assert!(path.starts_with(&format!("{}/", mount.mount_path)), "{path} is on the volume");
    assert_eq!(v.flag("--cluster-name").as_deref(), Some("default"));
    assert_eq!(v.flag("--history-retention-days").as_deref(), Some("400"));

    // SQLite has one writer and the volume one pod.
    let refused = render_with("sqlite-replicas", serde_json::json!({"history": {"enabled": true}})).unwrap_err();
    assert!(refused.contains("replicaCount=1") && refused.contains("history.url"), "{refused}");
    for (values, field) in [
        (serde_json::json!({"history": {"url": "mysql://x/y"}}), "url"),
        (serde_json::json!({"remediation": {"days": "critical=soon"}}), "days"),
        (serde_json::json!({"history": {"persistence": {"size": "lots"}}}), "size"),
    ] {
        let e = render_with("history-bad", values.clone()).unwrap_err();
        assert!(e.contains(field), "{values}: {e}");
    }
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn values_schema_refuses_bad_values() {
    use serde_json::json;
    // Each is refused by `helm install` / `helm template` with a message naming the problem.
    let cases = [
        ("replicas-string", json!({"replicaCount": "two"}), "replicaCount"),
        ("replicas-zero", json!({"replicaCount": 0}), "replicaCount"),
        ("unknown-key", json!({"replicas": 2}), "replicas"),
        ("failure-policy", json!({"webhook": {"failurePolicy": "Sometimes"}}), "failurePolicy"),
        ("timeout-too-long", json!({"webhook": {"timeoutSeconds": 31}}), "timeoutSeconds"),
        ("typo-nested", json!({"webhook": {"failurePolcy": "Fail"}}), "failurePolcy"),
        ("pull-policy", json!({"image": {"pullPolicy": "Sometimes"}}), "pullPolicy"),
        ("log-format", json!({"logFormat": "xml"}), "logFormat"),
        ("root", json!({"securityContext": {"runAsNonRoot": false}}), "runAsNonRoot"),
        ("escalation", json!({"securityContext": {"allowPrivilegeEscalation": true}}), "allowPrivilegeEscalation"),
        ("namespace-name", json!({"policy": {"exemptNamespaces": ["Not A Namespace"]}}), "exemptNamespaces"),
        ("issuer-kind", json!({"certManager": {"issuerRef": {"kind": "Vault", "name": "x"}}}), "kind"),
        // Cross-value checks in the templates.
        ("server-timeout", json!({"webhook": {"timeoutSeconds": 5, "serverTimeoutMs": 5000}}), "serverTimeoutMs"),
        ("no-leader", json!({"leaderElection": {"enabled": false}}), "leaderElection"),
        ("feeds-without-volume", json!({"feeds": {"files": ["kev.json"]}}), "feeds.volume"),
        ("client-ca-secret", json!({"webhook": {"clientCA": {"secretName": "Not A Secret"}}}), "secretName"),
        ("client-ca-key", json!({"webhook": {"clientCA": {"secretName": "ca", "key": "a/b"}}}), "key"),
    ];
    for (name, values, needle) in cases {
        match render_with(name, values.clone()) {
            Ok(_) => panic!("{name}: the chart accepted {values}"),
            Err(message) => assert!(message.contains(needle), "{name}: the error does not name {needle}:\n{message}"),
        }
    }
    // Good values still render, and derived settings follow them.
    let ok =
        render_with("ok", json!({"replicaCount": 3, "webhook": {"timeoutSeconds": 1}})).expect("good values render");
    assert!(ok.contains("replicas: 3"));
    assert!(ok.contains("--timeout-ms=500"), "1 s: half of it");
    let ok = render_with("ok", json!({"webhook": {"timeoutSeconds": 10, "serverTimeoutMs": 3000}})).unwrap();
    assert!(ok.contains("--timeout-ms=3000") && ok.contains("timeoutSeconds: 10"));
    // kube-system and the release namespace stay exempt even when the list is emptied.
    let ok = render_with("ok", json!({"policy": {"exemptNamespaces": []}})).unwrap();
    assert!(ok.contains("--exempt-namespace=kube-system") && ok.contains("--exempt-namespace=stance-system"));
    assert!(ok.contains(r#"values: ["kube-system","stance-system"]"#), "{ok}");
}

#[test]
fn every_value_is_documented_and_in_the_schema() {
    let values_text = std::fs::read_to_string(repo("charts/stance/values.yaml")).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("charts/stance/values.schema.json")).unwrap()).unwrap();
    assert_eq!(schema["additionalProperties"], false, "unknown top-level values are refused");

    // A schema node "groups" values when it lists its properties and refuses others; its keys
    // are documented one by one. Anything else is one value (possibly a free-form map).
    fn node<'a>(schema: &'a Value, path: &[String]) -> Option<&'a Value> {
        path.iter().try_fold(schema, |n, k| n["properties"].get(k))
    }
    let is_group = |n: &Value| n["properties"].is_object() && n["additionalProperties"] == false;
    let lines: Vec<&str> = values_text.lines().collect();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, rest)) = trimmed.split_once(':') else { continue };
        if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        while stack.last().is_some_and(|(n, _)| *n >= indent) {
            stack.pop();
        }
        let parent: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
        // Inside a free-form value (resources, securityContext, list items): not a value of its own.
        if !parent.is_empty() && !node(&schema, &parent).is_some_and(is_group) {
            continue;
        }
        let mut path = parent.clone();
        path.push(key.to_string());
        let n = node(&schema, &path)
            .unwrap_or_else(|| panic!("values.yaml:{}: {} is not in values.schema.json", i + 1, path.join(".")));
        assert!(
            n["description"].is_string() || is_group(n),
            "values.schema.json: {} has no description",
            path.join(".")
        );
        let block_group = is_group(n) && rest.trim().is_empty();
        if !block_group {
            let above = lines[..i].iter().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim_start()).unwrap_or("");
            assert!(above.starts_with('#'), "values.yaml:{}: {} has no comment documenting it", i + 1, path.join("."));
        }
        seen.insert(path);
        stack.push((indent, key.to_string()));
    }
    // And every value the schema allows is in values.yaml (with its default).
    fn walk(schema: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Some(props) = schema["properties"].as_object()
            && schema["additionalProperties"] == false
        {
            for (k, v) in props {
                let mut p = path.clone();
                p.push(k.clone());
                out.push(p.clone());
                walk(v, p, out);
            }
        }
    }
    let mut all = Vec::new();
    walk(&schema, Vec::new(), &mut all);
    let values: serde_yaml::Value = serde_yaml::from_str(&values_text).unwrap();
    for path in all {
        if path == ["global"] {
            continue;
        }
        // Inside a value whose default is empty ({}), e.g. certManager.issuerRef.name.
        let parent_empty = path.len() > 1 && {
            let mut v = &values;
            for k in &path[..path.len() - 1] {
                v = &v[k.as_str()];
            }
            v.as_mapping().is_some_and(|m| m.is_empty())
        };
        if !parent_empty {
            assert!(
                seen.contains(&path),
                "values.schema.json allows {} but values.yaml does not show it",
                path.join(".")
            );
        }
    }
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn notes_explain_how_to_check_the_installation() {
    for name in VARIANTS {
        let v = variant(name);
        let f = v.fullname();
        let ns = &v.namespace;
        for needle in [
            format!("kubectl -n {ns} rollout status deployment/{f}"),
            "kubectl get apppostures -A".to_string(),
            format!("kubectl -n {ns} logs deployment/{f}"),
        ] {
            assert!(v.notes.contains(&needle), "{name}: NOTES.txt lacks {needle:?}:\n{}", v.notes);
        }
        assert!(!v.notes.contains("<no value>"), "{name}: {}", v.notes);
        if *name == "single" {
            assert!(v.notes.contains("Admission is OFF"));
        } else {
            assert!(v.notes.contains("--dry-run=server"), "{name}: how to check admission");
        }
        if *name == "default" {
            assert!(v.notes.contains("are REFUSED"), "failurePolicy Fail is spelled out");
            assert!(v.notes.contains(&format!("--clusterrole={f}-report-uploader")));
        }
    }
}
