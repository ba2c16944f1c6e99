//! The network objects that decide who can reach a workload (exposure).

use std::collections::BTreeMap;
use std::sync::Arc;

/// A Service, reduced to what exposure detection needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    pub service_type: Arc<str>,
    /// Pod selector; empty selects no pods (headless / manual endpoints).
    pub selector: BTreeMap<String, String>,
    /// A cloud "internal load balancer" annotation is present.
    pub internal_load_balancer: bool,
}

/// A route from outside the cluster to Services: an Ingress or a Gateway API HTTPRoute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `Ingress` or `HTTPRoute`.
    pub kind: Arc<str>,
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    pub hosts: Vec<Arc<str>>,
    /// Backend Services as (namespace, name).
    pub backends: Vec<(Arc<str>, Arc<str>)>,
}

/// A namespace's labels (for policies' `namespaceSelector`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub name: Arc<str>,
    pub labels: BTreeMap<String, String>,
}
