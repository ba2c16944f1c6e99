//! Workloads: the pod-running objects guardrails are evaluated against.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::artifact::ObjectRef;
use super::image::ImageRef;

/// The kinds of object that run pods.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WorkloadKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    /// Every kind, in the order they are listed to users.
    pub const ALL: [WorkloadKind; 7] = [
        WorkloadKind::Pod,
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::ReplicaSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
    ];

    /// The Kubernetes kind name (`Deployment`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }

    /// Parses a Kubernetes kind name (exact, as in manifests).
    pub fn parse(kind: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL.into_iter().find(|k| k.as_str() == kind)
    }
}

/// Which list of the pod spec a container is in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContainerKind {
    Container,
    InitContainer,
    EphemeralContainer,
}

/// A container as guardrails see it: its image and its effective security settings
/// (container-level settings already merged over pod-level ones).
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    pub name: Arc<str>,
    pub kind: ContainerKind,
    /// The image exactly as written in the spec.
    pub image_raw: Arc<str>,
    /// The parsed image, or the parse error's message when the reference is malformed.
    pub image: Result<ImageRef, String>,
    pub privileged: bool,
    /// `allowPrivilegeEscalation` as effective: unset means allowed (the kernel default).
    pub allow_privilege_escalation: bool,
    /// True unless `runAsNonRoot: true` or a non-zero `runAsUser` is set (pod or container).
    pub may_run_as_root: bool,
    pub has_cpu_limit: bool,
    pub has_memory_limit: bool,
    pub capabilities_added: Vec<Arc<str>>,
}

/// A pod-running object, flattened to what guardrails and the posture need.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    pub uid: Option<Arc<str>>,
    pub labels: BTreeMap<String, String>,
    /// Labels of the pods it creates (its pod template's labels; a Pod's own labels).
    pub pod_labels: BTreeMap<String, String>,
    /// The controlling owner (`ownerReferences[controller=true]`), e.g. a Pod's ReplicaSet.
    /// Written by whoever wrote the object: admission never trusts it on its own
    /// (`policy::admission`).
    pub owner: Option<ObjectRef>,
    /// The `uid` that owner reference names.
    pub owner_uid: Option<Arc<str>>,
    pub containers: Vec<Container>,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    /// Paths of `hostPath` volumes.
    pub host_paths: Vec<Arc<str>>,
    pub service_account: Option<Arc<str>>,
}

impl Container {
    /// A container named `name` running `image` (parsed as a manifest's reference is: a
    /// malformed one is kept as its error) with the settings of a hardened manifest: not
    /// privileged, no privilege escalation, not root, CPU and memory limits, no added
    /// capabilities. Synthetic data and tests start from it and change what they test.
    pub fn hardened(name: &str, image: &str) -> Container {
        Container {
            name: Arc::from(name),
            kind: ContainerKind::Container,
            image_raw: Arc::from(image),
            image: ImageRef::parse(image).map_err(|e| e.to_string()),
            privileged: false,
            allow_privilege_escalation: false,
            may_run_as_root: false,
            has_cpu_limit: true,
            has_memory_limit: true,
            capabilities_added: Vec::new(),
        }
    }
}

impl Workload {
    /// A `kind` named `name` in `namespace` running `containers`, with no labels, owner,
    /// host namespaces, host paths or service account.
    pub fn new(kind: WorkloadKind, namespace: &str, name: &str, containers: Vec<Container>) -> Workload {
        Workload {
            kind,
            namespace: Arc::from(namespace),
            name: Arc::from(name),
            uid: None,
            labels: BTreeMap::new(),
            pod_labels: BTreeMap::new(),
            owner: None,
            owner_uid: None,
            containers,
            host_network: false,
            host_pid: false,
            host_ipc: false,
            host_paths: Vec::new(),
            service_account: None,
        }
    }

    /// `Kind/namespace/name`.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(self.kind.as_str(), Some(&self.namespace), &self.name)
    }

    /// Successfully parsed images of every container, in spec order.
    pub fn images(&self) -> impl Iterator<Item = &ImageRef> {
        self.containers.iter().filter_map(|c| c.image.as_ref().ok())
    }

    /// True when any container runs privileged or the pod shares a host namespace:
    /// a compromise of such a workload is a compromise of its node.
    pub fn is_privileged(&self) -> bool {
        self.host_network || self.host_pid || self.host_ipc || self.containers.iter().any(|c| c.privileged)
    }

    /// True when any container may run as root.
    pub fn may_run_as_root(&self) -> bool {
        self.containers.iter().any(|c| c.may_run_as_root)
    }

    /// True when this workload runs what `other` runs, as far as guardrails judge pods: the
    /// same containers (images and security settings), host namespaces, hostPath volumes
    /// and service account. Labels and names do not count (a Pod's differ from its
    /// controller's). An unset service account is `default`, as the API server's
    /// ServiceAccount admission plugin sets it on Pods but not on pod templates.
    pub fn runs_same_as(&self, other: &Workload) -> bool {
        let account = |w: &Workload| w.service_account.as_deref().unwrap_or("default").to_string();
        self.containers == other.containers
            && (self.host_network, self.host_pid, self.host_ipc) == (other.host_network, other.host_pid, other.host_ipc)
            && self.host_paths == other.host_paths
            && account(self) == account(other)
    }
}
