//! The network objects that decide who can reach a workload (exposure).

use std::collections::BTreeMap;
use std::sync::Arc;

/// A Service, reduced to what exposure detection needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Service {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    pub service_type: Arc<str>,
    /// Pod selector; empty selects no pods (headless / manual endpoints).
    pub selector: BTreeMap<String, String>,
    /// `spec.loadBalancerClass`: which load-balancer implementation serves it.
    pub load_balancer_class: Option<Arc<str>>,
    /// `metadata.annotations`: cloud controllers read their load balancer's scheme here
    /// (`index::exposure` lists the ones Stance reads).
    pub annotations: BTreeMap<String, String>,
}

/// A route from outside the cluster to Services: an Ingress or a Gateway API HTTPRoute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// `Ingress` or `HTTPRoute`.
    pub kind: Arc<str>,
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    pub hosts: Vec<Arc<str>>,
    /// Backend Services as (namespace, name).
    pub backends: Vec<(Arc<str>, Arc<str>)>,
    /// An Ingress's class: `spec.ingressClassName`, else the legacy
    /// `kubernetes.io/ingress.class` annotation.
    pub class: Option<Arc<str>>,
    /// `metadata.annotations` (ingress controllers read their load balancer's scheme here).
    pub annotations: BTreeMap<String, String>,
}

/// A namespace's labels (for policies' `namespaceSelector`, and the platform's floors for
/// criticality and exposure: `names::CRITICALITY_LABEL`, `names::EXPOSURE_LABEL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub name: Arc<str>,
    pub labels: BTreeMap<String, String>,
}

/// A Gateway API `ReferenceGrant` (`gateway.networking.k8s.io/v1beta1`): in its own
/// namespace, it lets objects of the `from` kinds in other namespaces refer to objects of
/// the `to` kinds here. An HTTPRoute's backend in another namespace counts only with one
/// (Gateway API spec, "ReferenceGrant").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceGrant {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    /// `spec.from[]`: who may refer here.
    pub from: Vec<GrantFrom>,
    /// `spec.to[]`: what may be referred to.
    pub to: Vec<GrantTo>,
}

/// A ReferenceGrant's `spec.from[]` entry: objects of this group and kind in this namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantFrom {
    pub group: Arc<str>,
    pub kind: Arc<str>,
    pub namespace: Arc<str>,
}

/// A ReferenceGrant's `spec.to[]` entry: objects of this group (`""` is the core group) and
/// kind in the grant's namespace, only the one named when `name` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantTo {
    pub group: Arc<str>,
    pub kind: Arc<str>,
    pub name: Option<Arc<str>>,
}

impl ReferenceGrant {
    /// True when an HTTPRoute in `route_namespace` may send traffic to the Service `name`
    /// in this grant's namespace.
    pub fn allows_route_to_service(&self, route_namespace: &str, name: &str) -> bool {
        let from = self.from.iter().any(|f| {
            &*f.group == "gateway.networking.k8s.io" && &*f.kind == "HTTPRoute" && &*f.namespace == route_namespace
        });
        let to = self
            .to
            .iter()
            .any(|t| t.group.is_empty() && &*t.kind == "Service" && t.name.as_deref().is_none_or(|n| n == name));
        from && to
    }
}
