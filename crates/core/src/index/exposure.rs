//! Exposure detection: which Services, Ingresses and HTTPRoutes reach a set of workloads.

use crate::model::{Route, Service, Workload};
use crate::risk::Reach;
use crate::selector::subset_matches;

/// The detected reach of a set of workloads and the objects that cause it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub reach: Reach,
    pub reasons: Vec<String>,
}

/// Derives reach from the network objects that route to `workloads`:
/// - an Ingress or HTTPRoute with a backend Service that selects one of them, a
///   `LoadBalancer` Service (unless annotated internal) or a `NodePort` Service → internet;
/// - any other selecting Service (ClusterIP, internal load balancer) → internal;
/// - nothing → none.
pub fn detect<'a>(
    workloads: &[&Workload],
    services: impl IntoIterator<Item = &'a Service>,
    routes: impl IntoIterator<Item = &'a Route> + Clone,
) -> Detected {
    let mut internet = Vec::new();
    let mut internal = Vec::new();
    for svc in services {
        let selects =
            workloads.iter().any(|w| *w.namespace == *svc.namespace && subset_matches(&svc.selector, &w.pod_labels));
        if !selects {
            continue;
        }
        for r in routes.clone() {
            if r.backends.iter().any(|(ns, n)| *ns == svc.namespace && *n == svc.name) {
                let hosts = if r.hosts.is_empty() { "*".to_string() } else { r.hosts.join(",") };
                internet.push(format!("{} {}/{} ({hosts}) → Service {}", r.kind, r.namespace, r.name, svc.name));
            }
        }
        match &*svc.service_type {
            "LoadBalancer" if !svc.internal_load_balancer => {
                internet.push(format!("Service {}/{} type LoadBalancer", svc.namespace, svc.name));
            }
            "NodePort" => internet.push(format!("Service {}/{} type NodePort", svc.namespace, svc.name)),
            t => internal.push(format!("Service {}/{} type {t}", svc.namespace, svc.name)),
        }
    }
    if !internet.is_empty() {
        Detected { reach: Reach::Internet, reasons: internet }
    } else if !internal.is_empty() {
        Detected { reach: Reach::Internal, reasons: internal }
    } else {
        Detected { reach: Reach::None, reasons: vec!["no Service selects its workloads".into()] }
    }
}
