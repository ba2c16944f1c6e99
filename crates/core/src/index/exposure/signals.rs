//! Where a load balancer lives: the signals that say whether the load balancer behind an
//! Ingress or a `LoadBalancer` Service is internet-facing or internal.
//!
//! An object kind says nothing about who can reach it: an Ingress served by an internal
//! AWS ALB is reachable only from the VPC. Each cloud's controller states the scheme in
//! its own annotation or class, with its own default; Stance reads the well-known ones
//! (the table below, also in `docs/concepts.md`) and the operator's declarations
//! ([`ExposureConfig`], flags `--internal-ingress-class`, `--internet-ingress-class`,
//! `--internal-lb-class`, `--internet-lb-class`). A declaration for a class wins (it speaks
//! for settings Stance cannot see, such as an `IngressClassParams` that forces a scheme);
//! what is known to no rule counts as internet, and the reason says how to declare it.
//!
//! | object | signal | reach |
//! |---|---|---|
//! | Ingress, class `alb` (AWS Load Balancer Controller) | `alb.ingress.kubernetes.io/scheme: internet-facing` | internet |
//! | | `alb.ingress.kubernetes.io/scheme: internal`, or no scheme (the controller's default) | internal |
//! | Ingress, class `gce-internal` (GKE internal Application Load Balancer) | the class | internal |
//! | Ingress with `appgw.ingress.kubernetes.io/use-private-ip: "true"` (Azure AGIC) | the annotation | internal |
//! | Service `LoadBalancer` managed by the AWS Load Balancer Controller (`loadBalancerClass: service.k8s.aws/nlb`, or `service.beta.kubernetes.io/aws-load-balancer-type: external` / `nlb-ip`) | `service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing` | internet |
//! | | `…-scheme: internal`, or no scheme (the controller's default) | internal |
//! | Service `LoadBalancer` (AWS in-tree) | `service.beta.kubernetes.io/aws-load-balancer-internal` set (not `false`) | internal |
//! | Service `LoadBalancer` (GKE) | `networking.gke.io/load-balancer-type: Internal` (or the older `cloud.google.com/load-balancer-type`) | internal |
//! | Service `LoadBalancer` (AKS) | `service.beta.kubernetes.io/azure-load-balancer-internal: "true"` | internal |
//! | Service `LoadBalancer` (OCI) | `service.beta.kubernetes.io/oci-load-balancer-internal: "true"`, `oci-network-load-balancer.oraclecloud.com/internal: "true"` | internal |
//! | Service `LoadBalancer` with another `loadBalancerClass`, Ingress of another class | an operator declaration, else | internet |
//! | Service `NodePort` | node ports are open wherever the nodes are | internet |
//! | HTTPRoute | its Gateway's exposure is not read | internet |
//!
//! Sources: AWS Load Balancer Controller annotations (`docs/guide/ingress/annotations.md`,
//! `docs/guide/service/annotations.md`: scheme, default `internal`); GKE "Configure
//! internal Application Load Balancer for Ingress" (`gce-internal`) and "Internal
//! passthrough Network Load Balancer" (`networking.gke.io/load-balancer-type`); AKS "Use
//! an internal load balancer"; AGIC annotations (`use-private-ip`); Kubernetes Service
//! `spec.loadBalancerClass` and Ingress `spec.ingressClassName` (the annotation
//! `kubernetes.io/ingress.class` is its deprecated predecessor).

use crate::model::{Route, Service};
use crate::risk::Reach;

/// The operator's declarations of ingress classes and load-balancer classes whose
/// exposure Stance cannot read from the objects (flags and chart values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExposureConfig {
    pub internal_ingress_classes: Vec<String>,
    pub internet_ingress_classes: Vec<String>,
    pub internal_lb_classes: Vec<String>,
    pub internet_lb_classes: Vec<String>,
}

/// A reach and the signal that decided it (shown in status and output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    pub reach: Reach,
    pub reason: String,
}

fn signal(reach: Reach, reason: impl Into<String>) -> Signal {
    Signal { reach, reason: reason.into() }
}

fn annotation<'a>(annotations: &'a std::collections::BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    annotations.get(key).map(|v| v.trim())
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

const ALB_SCHEME: &str = "alb.ingress.kubernetes.io/scheme";
const AGIC_PRIVATE_IP: &str = "appgw.ingress.kubernetes.io/use-private-ip";
const AWS_LB_TYPE: &str = "service.beta.kubernetes.io/aws-load-balancer-type";
const AWS_LB_SCHEME: &str = "service.beta.kubernetes.io/aws-load-balancer-scheme";
const AWS_LB_INTERNAL: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";
const AWS_LBC_CLASS: &str = "service.k8s.aws/nlb";

/// The reach of the load balancer an Ingress (or another route) gets.
pub fn route_reach(r: &Route, config: &ExposureConfig) -> Signal {
    if &*r.kind != "Ingress" {
        return signal(
            Reach::Internet,
            format!("{} (its Gateway's exposure is not read: counted as internet)", r.kind),
        );
    }
    let class = r.class.as_deref();
    if let Some(c) = class {
        if config.internal_ingress_classes.iter().any(|k| k == c) {
            return signal(Reach::Internal, format!("ingress class {c} declared internal (--internal-ingress-class)"));
        }
        if config.internet_ingress_classes.iter().any(|k| k == c) {
            return signal(Reach::Internet, format!("ingress class {c} declared internet (--internet-ingress-class)"));
        }
    }
    if is_true(annotation(&r.annotations, AGIC_PRIVATE_IP)) {
        return signal(Reach::Internal, format!("internal load balancer ({AGIC_PRIVATE_IP}: true)"));
    }
    match class {
        Some("alb") => match annotation(&r.annotations, ALB_SCHEME) {
            Some(s) if s.eq_ignore_ascii_case("internet-facing") => {
                signal(Reach::Internet, format!("internet-facing load balancer ({ALB_SCHEME}: {s})"))
            }
            Some(s) if s.eq_ignore_ascii_case("internal") => {
                signal(Reach::Internal, format!("internal load balancer ({ALB_SCHEME}: {s})"))
            }
            Some(s) => signal(
                Reach::Internet,
                format!("{ALB_SCHEME}: {s} is no scheme the controller knows: counted as internet"),
            ),
            None => signal(
                Reach::Internal,
                format!(
                    "internal load balancer (ingress class alb without {ALB_SCHEME}: the AWS Load Balancer Controller's default is internal)"
                ),
            ),
        },
        Some("gce-internal") => signal(Reach::Internal, "internal load balancer (ingress class gce-internal)"),
        Some(c) => signal(
            Reach::Internet,
            format!("ingress class {c} is not known to be internal (declare it with --internal-ingress-class)"),
        ),
        None => signal(Reach::Internet, "an Ingress without a class (not known to be internal)"),
    }
}

/// The reach a Service's type and load balancer give.
pub fn service_reach(s: &Service, config: &ExposureConfig) -> Signal {
    let what = format!("Service {}/{}", s.namespace, s.name);
    match &*s.service_type {
        "LoadBalancer" => {
            let lb = load_balancer_reach(s, config);
            signal(lb.reach, format!("{what} type LoadBalancer: {}", lb.reason))
        }
        "NodePort" => {
            signal(Reach::Internet, format!("{what} type NodePort (node ports are open wherever the nodes are)"))
        }
        t => signal(Reach::Internal, format!("{what} type {t}")),
    }
}

fn load_balancer_reach(s: &Service, config: &ExposureConfig) -> Signal {
    let a = &s.annotations;
    let class = s.load_balancer_class.as_deref();
    if let Some(c) = class {
        if config.internal_lb_classes.iter().any(|k| k == c) {
            return signal(Reach::Internal, format!("loadBalancerClass {c} declared internal (--internal-lb-class)"));
        }
        if config.internet_lb_classes.iter().any(|k| k == c) {
            return signal(Reach::Internet, format!("loadBalancerClass {c} declared internet (--internet-lb-class)"));
        }
    }
    let lb_type = annotation(a, AWS_LB_TYPE);
    let aws_lbc = class == Some(AWS_LBC_CLASS)
        || lb_type.is_some_and(|t| t.eq_ignore_ascii_case("external") || t.eq_ignore_ascii_case("nlb-ip"));
    if aws_lbc {
        return match annotation(a, AWS_LB_SCHEME) {
            Some(v) if v.eq_ignore_ascii_case("internet-facing") => {
                signal(Reach::Internet, format!("internet-facing load balancer ({AWS_LB_SCHEME}: {v})"))
            }
            Some(v) if v.eq_ignore_ascii_case("internal") => {
                signal(Reach::Internal, format!("internal load balancer ({AWS_LB_SCHEME}: {v})"))
            }
            Some(v) => signal(
                Reach::Internet,
                format!("{AWS_LB_SCHEME}: {v} is no scheme the controller knows: counted as internet"),
            ),
            None => signal(
                Reach::Internal,
                format!(
                    "internal load balancer (AWS Load Balancer Controller without {AWS_LB_SCHEME}: its default is internal)"
                ),
            ),
        };
    }
    if let Some(v) = annotation(a, AWS_LB_INTERNAL).filter(|v| !v.eq_ignore_ascii_case("false")) {
        return signal(Reach::Internal, format!("internal load balancer ({AWS_LB_INTERNAL}: {v:?})"));
    }
    for key in ["networking.gke.io/load-balancer-type", "cloud.google.com/load-balancer-type"] {
        if annotation(a, key).is_some_and(|v| v.eq_ignore_ascii_case("internal")) {
            return signal(Reach::Internal, format!("internal load balancer ({key}: Internal)"));
        }
    }
    for key in [
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "oci-network-load-balancer.oraclecloud.com/internal",
    ] {
        if is_true(annotation(a, key)) {
            return signal(Reach::Internal, format!("internal load balancer ({key}: true)"));
        }
    }
    match class {
        Some(c) => signal(
            Reach::Internet,
            format!("loadBalancerClass {c} is not known to be internal (declare it with --internal-lb-class)"),
        ),
        None => signal(Reach::Internet, "no internal load-balancer annotation"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;

    fn ingress(class: Option<&str>, annotations: &[(&str, &str)]) -> Route {
        Route {
            kind: Arc::from("Ingress"),
            namespace: Arc::from("ns"),
            name: Arc::from("i"),
            class: class.map(Arc::from),
            annotations: annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Route::default()
        }
    }

    fn lb(class: Option<&str>, annotations: &[(&str, &str)]) -> Service {
        Service {
            namespace: Arc::from("ns"),
            name: Arc::from("s"),
            service_type: Arc::from("LoadBalancer"),
            selector: BTreeMap::new(),
            load_balancer_class: class.map(Arc::from),
            annotations: annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn ingress_signals() {
        let c = ExposureConfig::default();
        let reach = |r: Route| route_reach(&r, &c).reach;
        assert_eq!(reach(ingress(Some("alb"), &[(ALB_SCHEME, "internal")])), Reach::Internal);
        assert_eq!(reach(ingress(Some("alb"), &[(ALB_SCHEME, "internet-facing")])), Reach::Internet);
        assert_eq!(reach(ingress(Some("alb"), &[])), Reach::Internal);
        assert_eq!(reach(ingress(Some("gce-internal"), &[])), Reach::Internal);
        assert_eq!(reach(ingress(Some("gce"), &[])), Reach::Internet);
        assert_eq!(reach(ingress(Some("nginx"), &[])), Reach::Internet);
        assert_eq!(reach(ingress(None, &[(AGIC_PRIVATE_IP, "true")])), Reach::Internal);
        let declared = ExposureConfig { internal_ingress_classes: vec!["nginx-private".into()], ..c.clone() };
        let s = route_reach(&ingress(Some("nginx-private"), &[]), &declared);
        assert_eq!(s.reach, Reach::Internal);
        assert!(s.reason.contains("--internal-ingress-class"), "{}", s.reason);
        // A declaration for the class wins over the object's annotation.
        let public = ExposureConfig { internet_ingress_classes: vec!["alb".into()], ..c };
        assert_eq!(route_reach(&ingress(Some("alb"), &[(ALB_SCHEME, "internal")]), &public).reach, Reach::Internet);
    }

    #[test]
    fn load_balancer_signals() {
        let c = ExposureConfig::default();
        let reach = |s: Service| service_reach(&s, &c).reach;
        assert_eq!(reach(lb(None, &[])), Reach::Internet);
        assert_eq!(reach(lb(Some(AWS_LBC_CLASS), &[])), Reach::Internal);
        assert_eq!(reach(lb(Some(AWS_LBC_CLASS), &[(AWS_LB_SCHEME, "internet-facing")])), Reach::Internet);
        assert_eq!(reach(lb(None, &[(AWS_LB_TYPE, "external"), (AWS_LB_SCHEME, "internal")])), Reach::Internal);
        // The in-tree AWS provider ignores the controller's scheme annotation.
        assert_eq!(reach(lb(None, &[(AWS_LB_SCHEME, "internal")])), Reach::Internet);
        assert_eq!(reach(lb(None, &[(AWS_LB_INTERNAL, "true")])), Reach::Internal);
        assert_eq!(reach(lb(None, &[(AWS_LB_INTERNAL, "false")])), Reach::Internet);
        assert_eq!(reach(lb(None, &[("networking.gke.io/load-balancer-type", "Internal")])), Reach::Internal);
        assert_eq!(
            reach(lb(None, &[("service.beta.kubernetes.io/azure-load-balancer-internal", "true")])),
            Reach::Internal
        );
        assert_eq!(reach(lb(Some("example.com/metallb"), &[])), Reach::Internet);
        let declared = ExposureConfig { internal_lb_classes: vec!["example.com/metallb".into()], ..c };
        assert_eq!(service_reach(&lb(Some("example.com/metallb"), &[]), &declared).reach, Reach::Internal);
        let mut node_port = lb(None, &[]);
        node_port.service_type = Arc::from("NodePort");
        assert_eq!(service_reach(&node_port, &ExposureConfig::default()).reach, Reach::Internet);
    }
}
