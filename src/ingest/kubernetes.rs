//! Kubernetes manifests and objects → domain types: workloads, network objects,
//! namespaces and Stance's own resources (through `crate::api::convert`).
//!
//! The CLI reads these from files; the operator and webhook pass the objects they
//! receive through the same functions, so all three see a workload identically.
//! Report-carrying ConfigMaps are reports, read by the core (`stance_core::ingest::config_map`).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace as K8sNamespace, Pod, PodSpec, SecurityContext, Service as K8sService};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;
use stance_core::index::{ExceptionEntry, KubeObject, PolicyEntry};
use stance_core::ingest::FormatError;
use stance_core::ingest::config_map::object_name;
use stance_core::model::{
    App, Asset as AssetModel, Container, ContainerKind, GrantFrom, GrantTo, ImageRef, Namespace, ObjectRef,
    ReferenceGrant, Route, Service, Workload, WorkloadKind,
};
pub use stance_core::names::DEFAULT_NAMESPACE;
use stance_core::names::GROUP;

use super::{Parsed, Warning};
use crate::api::{AppPosture, Asset, GuardrailPolicy, RiskException};

/// Recognises and converts one manifest. Kinds Stance does not use become
/// [`Parsed::Ignored`]; a known kind that does not deserialize is a warning. Stance's own
/// kinds are converted with `crate::api::convert` (an invalid policy or exception is kept,
/// with its error, as the index keeps it).
pub fn parse_object(origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let result: Result<Option<KubeObject>, FormatError> = match (group, kind) {
        (GROUP, "AppPosture") => typed::<AppPosture>(v).map(|o| Some(KubeObject::App(App::from(&o)))),
        (GROUP, "Asset") => typed::<Asset>(v).map(|o| {
            let asset = AssetModel::from(&o);
            // An Asset belongs to an application of its own namespace only (the core
            // ignores the reference; say so where the object is read).
            if let Some(r) = &asset.app_ref
                && let Some(other) = r.namespace.as_deref().filter(|n| *n != &*asset.namespace)
            {
                warnings.push(Warning::new(
                    origin,
                    format!(
                        "Asset {}/{}: spec.appRef names AppPosture {other}/{} in another namespace; it is ignored (an Asset belongs to an application of its own namespace)",
                        asset.namespace, asset.name, r.name
                    ),
                ));
            }
            Some(KubeObject::Asset(asset))
        }),
        (GROUP, "GuardrailPolicy") => {
            typed::<GuardrailPolicy>(v).map(|o| Some(KubeObject::Policy(PolicyEntry::from(&o))))
        }
        (GROUP, "RiskException") => {
            typed::<RiskException>(v).map(|o| Some(KubeObject::Exception(ExceptionEntry::from(&o))))
        }
        ("", "Service") => typed::<K8sService>(v).map(|s| Some(KubeObject::Service(service(&s)))),
        ("networking.k8s.io", "Ingress") => typed::<Ingress>(v).map(|i| Some(KubeObject::Route(ingress(&i)))),
        ("gateway.networking.k8s.io", "HTTPRoute") => http_route(v).map(|r| Some(KubeObject::Route(r))),
        ("gateway.networking.k8s.io", "ReferenceGrant") => {
            reference_grant(v).map(|g| Some(KubeObject::ReferenceGrant(g)))
        }
        ("", "Namespace") => typed::<K8sNamespace>(v).map(|n| {
            Some(KubeObject::Namespace(Namespace {
                name: Arc::from(n.metadata.name.unwrap_or_default()),
                labels: n.metadata.labels.unwrap_or_default(),
            }))
        }),
        _ => match WorkloadKind::parse(kind) {
            Some(wk) if matches!(group, "" | "apps" | "batch") => {
                workload_from_value(wk, v, DEFAULT_NAMESPACE).map(|w| Some(KubeObject::Workload(w)))
            }
            _ => Ok(None),
        },
    };
    match result {
        Ok(Some(o)) => out.push(Parsed::Object(Box::new(o))),
        Ok(None) => out.push(Parsed::Ignored(kind.to_string())),
        Err(e) => warnings.push(Warning::new(origin, format!("{kind} {}: {e}", object_name(v)))),
    }
}

/// API groups none of whose kinds run containers, besides those Stance reads: Kubernetes'
/// own groups (`kubectl api-resources` of Kubernetes 1.33), the Gateway API, and the
/// ecosystem kinds Stance's own chart and inputs use (scanner reports, Kyverno, Prometheus
/// Operator, cert-manager).
const GROUPS_WITHOUT_POD_RUNNERS: &[&str] = &[
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
    "gateway.networking.k8s.io",
    GROUP,
    "aquasecurity.github.io",
    "wgpolicyk8s.io",
    "openreports.io",
    "kyverno.io",
    "monitoring.coreos.com",
    "cert-manager.io",
];

/// True when an object of this `apiVersion` and `kind` runs no containers of its own, so
/// that admission has nothing to judge in it (a ConfigMap, a Role, a ServiceMonitor).
/// False for the pod controllers Stance cannot read (a `ReplicationController`, an
/// `extensions/v1beta1` Deployment) and for kinds of any other API group (a custom
/// resource may run pods through its operator, and admission then judges Pods this
/// object's reader never sees).
pub fn runs_no_containers(api_version: &str, kind: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match group {
        "" => !matches!(kind, "ReplicationController" | "Pod"),
        "apps" => kind == "ControllerRevision",
        "batch" => false,
        "extensions" => matches!(kind, "Ingress" | "NetworkPolicy" | "PodSecurityPolicy"),
        g => GROUPS_WITHOUT_POD_RUNNERS.contains(&g),
    }
}

pub use stance_core::model::scope::is_cluster_scoped;

/// Deserializes a Kubernetes object. A `null` label or annotation value (YAML `team:`
/// with no value) is read as `""`, as the API server reads it, rather than failing the
/// whole object.
/// A deserialization error names the field at fault (`spec.replicas: invalid type: …`).
fn typed<T: for<'de> Deserialize<'de>>(v: &Value) -> Result<T, FormatError> {
    let located = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        FormatError::new(if path == "." { String::new() } else { path }, e.inner().to_string())
    };
    serde_path_to_error::deserialize(v).or_else(|e| {
        let mut fixed = v.clone();
        if empty_null_label_values(&mut fixed) {
            serde_path_to_error::deserialize(&fixed).map_err(located)
        } else {
            Err(located(e))
        }
    })
}

/// Replaces `null` values in every `labels` / `annotations` map (object metadata and pod
/// templates at any depth) with `""`; true when anything changed.
fn empty_null_label_values(v: &mut Value) -> bool {
    let mut changed = false;
    // An explicit stack: the depth of the value is the input's.
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if matches!(key.as_str(), "labels" | "annotations")
                        && let Value::Object(entries) = value
                    {
                        for entry in entries.values_mut().filter(|e| e.is_null()) {
                            *entry = Value::String(String::new());
                            changed = true;
                        }
                    }
                    stack.push(value);
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
    changed
}

/// Converts a pod-running object of the given kind to a [`Workload`]. Objects without
/// `metadata.namespace` (e.g. admission requests on CREATE) get `namespace`.
pub fn workload_from_value(kind: WorkloadKind, v: &Value, namespace: &str) -> Result<Workload, FormatError> {
    let (meta, template_labels, spec) = match kind {
        WorkloadKind::Pod => {
            let p: Pod = typed(v)?;
            let labels = p.metadata.labels.clone();
            (p.metadata, labels, p.spec)
        }
        WorkloadKind::Deployment => {
            let d: Deployment = typed(v)?;
            let t = d.spec.map(|s| s.template);
            (d.metadata, t.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone()), t.and_then(|t| t.spec))
        }
        WorkloadKind::StatefulSet => {
            let d: StatefulSet = typed(v)?;
            let t = d.spec.map(|s| s.template);
            (d.metadata, t.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone()), t.and_then(|t| t.spec))
        }
        WorkloadKind::DaemonSet => {
            let d: DaemonSet = typed(v)?;
            let t = d.spec.map(|s| s.template);
            (d.metadata, t.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone()), t.and_then(|t| t.spec))
        }
        WorkloadKind::ReplicaSet => {
            let d: ReplicaSet = typed(v)?;
            let t = d.spec.and_then(|s| s.template);
            (d.metadata, t.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone()), t.and_then(|t| t.spec))
        }
        WorkloadKind::Job => {
            let d: Job = typed(v)?;
            let t = d.spec.map(|s| s.template);
            (d.metadata, t.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone()), t.and_then(|t| t.spec))
        }
        WorkloadKind::CronJob => {
            // Before Kubernetes 1.21 CronJobs are batch/v1beta1 only, with v1's fields.
            let d: CronJob = if v.get("apiVersion").and_then(Value::as_str) == Some("batch/v1beta1") {
                let mut v1 = v.clone();
                v1["apiVersion"] = "batch/v1".into();
                typed(&v1)?
            } else {
                typed(v)?
            };
            let t = d.spec.and_then(|s| s.job_template.spec).map(|s| s.template);
            (d.metadata, t.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone()), t.and_then(|t| t.spec))
        }
    };
    let spec = spec.ok_or_else(|| FormatError::whole("has no pod spec (spec.template.spec / spec)"))?;
    Ok(workload(kind, &meta, template_labels.unwrap_or_default(), &spec, namespace))
}

/// Builds a [`Workload`] from an object's metadata and pod spec (typed objects from watches
/// use this directly).
pub fn workload(
    kind: WorkloadKind,
    meta: &ObjectMeta,
    pod_labels: BTreeMap<String, String>,
    spec: &PodSpec,
    default_namespace: &str,
) -> Workload {
    let pod_sc = spec.security_context.as_ref();
    let pod_non_root = pod_sc.and_then(|s| s.run_as_non_root);
    let pod_user = pod_sc.and_then(|s| s.run_as_user);
    let mut containers = Vec::new();
    let mut push =
        |name: &str,
         image: Option<&str>,
         kind: ContainerKind,
         sc: Option<&SecurityContext>,
         limits: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>| {
            let image_raw = image.unwrap_or("");
            let non_root = sc.and_then(|s| s.run_as_non_root).or(pod_non_root);
            let user = sc.and_then(|s| s.run_as_user).or(pod_user);
            containers.push(Container {
                name: Arc::from(name),
                kind,
                image_raw: Arc::from(image_raw),
                image: ImageRef::parse(image_raw).map_err(|e| e.to_string()),
                privileged: sc.and_then(|s| s.privileged).unwrap_or(false),
                allow_privilege_escalation: sc.and_then(|s| s.allow_privilege_escalation).unwrap_or(true),
                may_run_as_root: non_root != Some(true) && user.is_none_or(|u| u == 0),
                has_cpu_limit: limits.is_some_and(|l| l.contains_key("cpu")),
                has_memory_limit: limits.is_some_and(|l| l.contains_key("memory")),
                capabilities_added: sc
                    .and_then(|s| s.capabilities.as_ref())
                    .and_then(|c| c.add.as_ref())
                    .map(|a| a.iter().map(|s| Arc::from(s.as_str())).collect())
                    .unwrap_or_default(),
            });
        };
    for c in spec.init_containers.iter().flatten() {
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        push(&c.name, c.image.as_deref(), ContainerKind::InitContainer, c.security_context.as_ref(), limits);
    }
    for c in &spec.containers {
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        push(&c.name, c.image.as_deref(), ContainerKind::Container, c.security_context.as_ref(), limits);
    }
    for c in spec.ephemeral_containers.iter().flatten() {
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        push(&c.name, c.image.as_deref(), ContainerKind::EphemeralContainer, c.security_context.as_ref(), limits);
    }
    let controller = meta.owner_references.iter().flatten().find(|o| o.controller == Some(true));
    let owner = controller
        .map(|o| ObjectRef::new(&o.kind, Some(meta.namespace.as_deref().unwrap_or(default_namespace)), &o.name));
    let owner_uid = controller.map(|o| Arc::from(o.uid.as_str())).filter(|u: &Arc<str>| !u.is_empty());
    Workload {
        kind,
        namespace: Arc::from(meta.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(default_namespace)),
        name: Arc::from(meta.name.as_deref().or(meta.generate_name.as_deref()).unwrap_or("")),
        uid: meta.uid.as_deref().map(Arc::from),
        labels: meta.labels.clone().unwrap_or_default(),
        pod_labels,
        owner,
        owner_uid,
        containers,
        host_network: spec.host_network.unwrap_or(false),
        host_pid: spec.host_pid.unwrap_or(false),
        host_ipc: spec.host_ipc.unwrap_or(false),
        host_paths: spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| v.host_path.as_ref().map(|h| Arc::from(h.path.as_str())))
            .collect(),
        service_account: spec.service_account_name.as_deref().map(Arc::from),
    }
}

/// Converts a Service.
/// Whether its load balancer is internal is the core's decision
/// (`stance_core::index::exposure::signals`), from the class and annotations kept here.
pub fn service(s: &K8sService) -> Service {
    let spec = s.spec.as_ref();
    Service {
        namespace: Arc::from(s.metadata.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)),
        name: Arc::from(s.metadata.name.as_deref().unwrap_or("")),
        service_type: Arc::from(spec.and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP")),
        selector: spec.and_then(|s| s.selector.clone()).unwrap_or_default(),
        load_balancer_class: spec.and_then(|s| s.load_balancer_class.as_deref()).map(Arc::from),
        annotations: s.metadata.annotations.clone().unwrap_or_default(),
    }
}

/// The legacy annotation that names an Ingress's class.
const INGRESS_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Converts an Ingress (default backend and every rule's service backends, its class and
/// annotations).
pub fn ingress(i: &Ingress) -> Route {
    let ns: Arc<str> = Arc::from(i.metadata.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE));
    let mut hosts = Vec::new();
    let mut backends = Vec::new();
    if let Some(spec) = &i.spec {
        if let Some(svc) = spec.default_backend.as_ref().and_then(|b| b.service.as_ref()) {
            backends.push((ns.clone(), Arc::from(svc.name.as_str())));
        }
        for rule in spec.rules.iter().flatten() {
            if let Some(h) = &rule.host {
                hosts.push(Arc::from(h.as_str()));
            }
            for path in rule.http.iter().flat_map(|h| &h.paths) {
                if let Some(svc) = &path.backend.service {
                    backends.push((ns.clone(), Arc::from(svc.name.as_str())));
                }
            }
        }
    }
    backends.sort();
    backends.dedup();
    let annotations = i.metadata.annotations.clone().unwrap_or_default();
    // `spec.ingressClassName` is authoritative; the annotation is its deprecated predecessor.
    let class = i
        .spec
        .as_ref()
        .and_then(|s| s.ingress_class_name.as_deref())
        .or(annotations.get(INGRESS_CLASS_ANNOTATION).map(String::as_str))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(Arc::from);
    Route {
        kind: Arc::from("Ingress"),
        namespace: ns,
        name: Arc::from(i.metadata.name.as_deref().unwrap_or("")),
        hosts,
        backends,
        class,
        annotations,
    }
}

/// Converts a Gateway API ReferenceGrant (`v1beta1`, and the same shape in `v1alpha2`;
/// read by field names like HTTPRoutes). A `to` entry's group `""` is the core API group.
pub fn reference_grant(v: &Value) -> Result<ReferenceGrant, FormatError> {
    let ns: Arc<str> = Arc::from(v.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(DEFAULT_NAMESPACE));
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or_else(|| FormatError::new("metadata.name", "missing"))?;
    let text = |e: &Value, k: &str| -> Arc<str> { Arc::from(e.get(k).and_then(Value::as_str).unwrap_or("")) };
    let list = |p: &str| v.pointer(p).and_then(Value::as_array).cloned().unwrap_or_default();
    let from = list("/spec/from")
        .iter()
        .map(|e| GrantFrom { group: text(e, "group"), kind: text(e, "kind"), namespace: text(e, "namespace") })
        .collect();
    let to = list("/spec/to")
        .iter()
        .map(|e| {
            let name = e.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).map(Arc::from);
            GrantTo { group: text(e, "group"), kind: text(e, "kind"), name }
        })
        .collect();
    Ok(ReferenceGrant { namespace: ns, name: Arc::from(name), from, to })
}

/// Converts a Gateway API HTTPRoute (no k8s-openapi type exists; read by field names).
pub fn http_route(v: &Value) -> Result<Route, FormatError> {
    let ns: Arc<str> = Arc::from(v.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(DEFAULT_NAMESPACE));
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or_else(|| FormatError::new("metadata.name", "missing"))?;
    let strs = |p: &str| -> Vec<Arc<str>> {
        v.pointer(p).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(Arc::from).collect()
    };
    let mut backends = Vec::new();
    for rule in v.pointer("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
        for b in rule.get("backendRefs").and_then(Value::as_array).into_iter().flatten() {
            let kind = b.get("kind").and_then(Value::as_str).unwrap_or("Service");
            if kind != "Service" {
                continue;
            }
            if let Some(n) = b.get("name").and_then(Value::as_str) {
                let bns = b.get("namespace").and_then(Value::as_str).map_or(ns.clone(), Arc::from);
                backends.push((bns, Arc::from(n)));
            }
        }
    }
    backends.sort();
    backends.dedup();
    Ok(Route {
        kind: Arc::from("HTTPRoute"),
        namespace: ns.clone(),
        name: Arc::from(name),
        hosts: strs("/spec/hostnames"),
        backends,
        ..Route::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(yaml: &str) -> KubeObject {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        let (mut out, mut w) = (Vec::new(), Vec::new());
        parse_object("t", &v, &mut out, &mut w);
        assert!(w.is_empty(), "{w:?}");
        match out.pop() {
            Some(Parsed::Object(o)) => *o,
            other => panic!("expected an object, got {other:?}"),
        }
    }

    #[test]
    fn deployment_security_settings_are_effective() {
        let KubeObject::Workload(w) = one(r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {team: a}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true}
      hostNetwork: true
      volumes: [{name: h, hostPath: {path: /var/run}}]
      initContainers:
      - {name: init, image: busybox}
      containers:
      - name: app
        image: ghcr.io/acme/web:1.2
        securityContext: {allowPrivilegeEscalation: false}
        resources: {limits: {cpu: 100m, memory: 64Mi}}
      - name: sidecar
        image: envoyproxy/envoy:v1.30.0
        securityContext: {privileged: true, runAsNonRoot: false, runAsUser: 0}
"#)
        else {
            panic!("not a workload")
        };
        assert_eq!((&*w.namespace, &*w.name, w.kind), ("shop", "web", WorkloadKind::Deployment));
        assert_eq!(w.pod_labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(w.containers.len(), 3);
        let [init, app, side] = &w.containers[..] else { unreachable!() };
        assert_eq!(init.kind, ContainerKind::InitContainer);
        assert_eq!(init.image.as_ref().unwrap().to_string(), "docker.io/library/busybox");
        assert!(!init.may_run_as_root, "pod-level runAsNonRoot applies");
        assert!(!app.allow_privilege_escalation && app.has_cpu_limit && app.has_memory_limit);
        assert!(side.privileged && side.may_run_as_root && side.allow_privilege_escalation);
        assert!(w.host_network && w.is_privileged());
        assert_eq!(w.host_paths, vec![Arc::<str>::from("/var/run")]);
    }

    #[test]
    fn cronjob_and_pod_owner() {
        let KubeObject::Workload(cj) = one(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: 'alpine:3.18'}]\n",
        ) else {
            panic!()
        };
        assert_eq!(&*cj.namespace, DEFAULT_NAMESPACE);
        assert_eq!(cj.containers[0].image.as_ref().unwrap().to_string(), "docker.io/library/alpine:3.18");
        let KubeObject::Workload(pod) = one(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-abc\n  namespace: shop\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d4f, uid: u, controller: true}]\nspec:\n  containers: [{name: c, image: 'nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}]\n",
        ) else {
            panic!()
        };
        assert_eq!(pod.owner.unwrap().to_string(), "ReplicaSet/shop/web-5d4f");
    }

    #[test]
    fn network_objects() {
        let KubeObject::Service(s) = one(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {networking.gke.io/load-balancer-type: Internal}\nspec: {type: LoadBalancer, selector: {app: web}}\n",
        ) else {
            panic!()
        };
        assert_eq!(s.annotations.get("networking.gke.io/load-balancer-type").map(String::as_str), Some("Internal"));
        assert_eq!(&*s.service_type, "LoadBalancer");
        let KubeObject::Route(r) = one(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n",
        ) else {
            panic!()
        };
        assert_eq!(r.hosts, vec![Arc::<str>::from("shop.example.com")]);
        assert_eq!(r.backends, vec![(Arc::<str>::from("shop"), Arc::<str>::from("web"))]);
        let KubeObject::Route(h) = one(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\nspec:\n  hostnames: [api.example.com]\n  rules:\n  - backendRefs: [{name: api, port: 8080}, {name: other, namespace: x}]\n",
        ) else {
            panic!()
        };
        assert_eq!(h.backends.len(), 2);
        assert_eq!(&*h.kind, "HTTPRoute");
        // The class: `spec.ingressClassName`, else the legacy annotation.
        let class = |yaml: &str| match one(yaml) {
            KubeObject::Route(r) => r.class.map(|c| c.to_string()),
            _ => panic!("not a route"),
        };
        assert_eq!(
            class("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a, annotations: {kubernetes.io/ingress.class: nginx}}\nspec: {ingressClassName: alb}\n").as_deref(),
            Some("alb")
        );
        assert_eq!(
            class("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a, annotations: {kubernetes.io/ingress.class: gce-internal}}\nspec: {}\n").as_deref(),
            Some("gce-internal")
        );
        let KubeObject::ReferenceGrant(g) = one(
            "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: backend}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]\n  to: [{group: \"\", kind: Service, name: api}]\n",
        ) else {
            panic!("not a ReferenceGrant")
        };
        assert!(g.allows_route_to_service("shop", "api"));
        assert!(!g.allows_route_to_service("shop", "other"));
        assert!(!g.allows_route_to_service("elsewhere", "api"));
    }

    #[test]
    fn null_label_and_annotation_values_are_empty() {
        // `team:` with no value is null; the API server reads it as "". It used to reject
        // the whole object ("invalid type: null, expected a string").
        let KubeObject::Workload(w) =
            one("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {team: , app: web}\n  \
             annotations: {note: }\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    \
             metadata: {labels: {app: web, tier: }}\n    spec:\n      containers: [{name: c, image: nginx}]\n")
        else {
            panic!("not a workload")
        };
        assert_eq!(w.labels.get("team").map(String::as_str), Some(""));
        assert_eq!(w.pod_labels.get("tier").map(String::as_str), Some(""));
        let KubeObject::Namespace(n) =
            one("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: }}\n")
        else {
            panic!("not a namespace")
        };
        assert_eq!(n.labels.get("team").map(String::as_str), Some(""));
        // Other wrong values are still errors.
        let v: Value = serde_yaml::from_str("apiVersion: v1\nkind: Namespace\nmetadata: {name: [x]}\n").unwrap();
        let (mut out, mut w) = (Vec::new(), Vec::new());
        parse_object("t", &v, &mut out, &mut w);
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn report_config_map_with_null_labels() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scan\n  namespace: shop\n  \
                    labels: {aspm.stance.dev/report: , team: }\n  annotations: {aspm.stance.dev/app: }\ndata:\n  \
                    r.json: '{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"x\"}}, \
                    \"results\": [{\"ruleId\": \"R1\"}]}]}'\n";
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        let (mut out, mut w) = (Vec::new(), Vec::new());
        crate::ingest::parse_value("t", &v, &mut out, &mut w);
        assert!(w.is_empty(), "{w:?}");
        let [Parsed::Report(r)] = &out[..] else { panic!("expected one report, got {out:?}") };
        assert_eq!(r.findings.len(), 1);
        // An empty app annotation attributes the report to nothing.
        assert_eq!(r.subject, None);
    }

    #[test]
    fn malformed_known_kind_is_a_warning() {
        let v: Value = serde_yaml::from_str(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n",
        )
        .unwrap();
        let (mut out, mut w) = (Vec::new(), Vec::new());
        parse_object("f.yaml#0", &v, &mut out, &mut w);
        assert!(out.is_empty());
        assert_eq!(w.len(), 1);
        assert!(w[0].message.starts_with("Deployment x:"), "{}", w[0].message);
    }
}
