//! Exposure detection: which Services, Ingresses and HTTPRoutes reach a set of workloads,
//! and how far the load balancers behind them reach ([`signals`]).

pub mod signals;

use crate::model::{ReferenceGrant, Route, Service, Workload};
use crate::risk::Reach;
use crate::selector::subset_matches;

pub use signals::{ExposureConfig, Signal};

/// The detected reach of a set of workloads and the objects that cause it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub reach: Reach,
    pub reasons: Vec<String>,
}

/// The network objects detection reads.
#[derive(Clone, Copy)]
pub struct Network<'a, S, R, G> {
    pub services: S,
    pub routes: R,
    pub grants: G,
    pub config: &'a ExposureConfig,
}

/// Derives reach from the network objects that route to `workloads`: each Service that
/// selects one of them, and each Ingress or HTTPRoute with such a Service as a backend,
/// reaches as far as its load balancer does ([`signals`]); the strongest counts, and the
/// reasons are the objects that give it. An HTTPRoute's backend in another namespace
/// counts only when a ReferenceGrant there allows it (Gateway API). Nothing → none.
pub fn detect<'a, S, R, G>(workloads: &[&Workload], net: Network<'_, S, R, G>) -> Detected
where
    S: IntoIterator<Item = &'a Service>,
    R: IntoIterator<Item = &'a Route> + Clone,
    G: IntoIterator<Item = &'a ReferenceGrant> + Clone,
{
    let mut internet = Vec::new();
    let mut internal = Vec::new();
    let mut push = |reach: Reach, reason: String| match reach {
        Reach::Internet => internet.push(reason),
        _ => internal.push(reason),
    };
    for svc in net.services {
        let selects =
            workloads.iter().any(|w| *w.namespace == *svc.namespace && subset_matches(&svc.selector, &w.pod_labels));
        if !selects {
            continue;
        }
        for r in net.routes.clone() {
            if !r.backends.iter().any(|(ns, n)| *ns == svc.namespace && *n == svc.name) {
                continue;
            }
            if *r.namespace != *svc.namespace
                && !net
                    .grants
                    .clone()
                    .into_iter()
                    .any(|g| *g.namespace == *svc.namespace && g.allows_route_to_service(&r.namespace, &svc.name))
            {
                // Without a grant the Gateway refuses the backend: no traffic flows.
                continue;
            }
            let hosts = if r.hosts.is_empty() { "*".to_string() } else { r.hosts.join(",") };
            let s = signals::route_reach(r, net.config);
            push(
                s.reach,
                format!("{} {}/{} ({hosts}) → Service {}: {}", r.kind, r.namespace, r.name, svc.name, s.reason),
            );
        }
        let s = signals::service_reach(svc, net.config);
        push(s.reach, s.reason);
    }
    if !internet.is_empty() {
        Detected { reach: Reach::Internet, reasons: internet }
    } else if !internal.is_empty() {
        Detected { reach: Reach::Internal, reasons: internal }
    } else {
        Detected { reach: Reach::None, reasons: vec!["no Service selects its workloads".into()] }
    }
}
