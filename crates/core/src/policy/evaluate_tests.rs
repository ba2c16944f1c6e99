//! The `newRiskOnly` ratchet across images.

use std::sync::Arc;

use jiff::Timestamp;

use super::evaluate;
use crate::guardrail::spec::WorkloadSecurityRule;
use crate::guardrail::{Enforcement, ExceptionSettings, GuardrailRule, MatchSource, OnUnscanned, Policy, PolicySource};
use crate::index::{IndexConfig, PolicyEntry, PostureIndex};
use crate::model::{Container, Criticality, Workload, WorkloadKind};

fn now() -> Timestamp {
    Timestamp::from_second(1_795_000_000).expect("a valid time")
}

fn entry(new_risk_only: bool, criticalities: &[Criticality], check: WorkloadSecurityRule) -> PolicyEntry {
    let rules = [GuardrailRule { workload_security: Some(check), ..Default::default() }];
    let settings = ExceptionSettings::default();
    let compiled = Policy::compile(PolicySource {
        name: Some("pod-security"),
        enforcement: Enforcement::Enforce,
        matcher: MatchSource { criticalities, ..MatchSource::default() },
        on_unscanned: OnUnscanned::Allow,
        new_risk_only,
        exceptions: &settings,
        rules: &rules,
    })
    .expect("a valid policy");
    PolicyEntry {
        name: Arc::from("pod-security"),
        generation: None,
        enforcement: Enforcement::Enforce,
        description: None,
        compiled: Ok(Arc::new(compiled)),
    }
}

/// Only `disallowPrivileged` (or only the resource limits), as in the red-team reproduction.
fn only(privileged: bool, limits: bool) -> WorkloadSecurityRule {
    WorkloadSecurityRule {
        disallow_privileged: privileged,
        disallow_host_path: false,
        disallow_host_namespaces: false,
        require_run_as_non_root: false,
        disallow_privilege_escalation: false,
        require_resource_limits: limits,
    }
}

/// A Deployment `team-a/agent` labelled `app: <app>`, one container per `(name, image)`, privileged.
fn agent(app: &str, containers: &[(&str, &str)]) -> Workload {
    let containers = containers
        .iter()
        .map(|(name, image)| Container { privileged: true, ..Container::hardened(name, image) })
        .collect();
    let mut w = Workload::new(WorkloadKind::Deployment, "team-a", "agent", containers);
    w.pod_labels = [("app".to_string(), app.to_string())].into();
    w.labels = w.pod_labels.clone();
    w
}

fn index_with(p: PolicyEntry) -> PostureIndex {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_policy(p);
    index
}

#[test]
fn a_privileged_container_switched_to_another_image_is_new_risk() {
    let index = index_with(entry(true, &[], only(true, false)));
    let running = agent("agent", &[("agent", "docker.io/library/nginx:1.25")]);
    // Same image (written differently), same privilege: the ratchet spares it.
    let same = agent("agent", &[("agent", "nginx:1.25")]);
    let v = evaluate(&same, Some(&running), &index, now());
    assert!(v.allowed() && v.violations[0].preexisting, "{v:#?}");
    // Still privileged, but another image: denied, as on CREATE.
    let swapped = agent("agent", &[("agent", "evil.example.com/miner:6.6.6")]);
    let v = evaluate(&swapped, Some(&running), &index, now());
    assert!(!v.allowed() && !v.violations[0].preexisting, "{v:#?}");
    assert!(!evaluate(&swapped, None, &index, now()).allowed());
    // A privileged container renamed: its image cannot be compared, so it is new risk.
    let renamed = agent("agent", &[("other", "docker.io/library/nginx:1.25")]);
    assert!(!evaluate(&renamed, Some(&running), &index, now()).allowed());
}

#[test]
fn every_container_a_workload_violation_names_must_keep_its_image() {
    // Resource limits: one item per container, in one violation about the workload.
    let index = index_with(entry(true, &[], only(false, true)));
    let unlimited = |images: [&str; 2]| {
        let mut w = agent("agent", &[("web", images[0]), ("sidecar", images[1])]);
        for c in &mut w.containers {
            (c.privileged, c.has_cpu_limit) = (false, false);
        }
        w
    };
    let running = unlimited(["nginx:1.25", "envoy:1.30"]);
    let v = evaluate(&unlimited(["nginx:1.25", "envoy:1.30"]), Some(&running), &index, now());
    assert!(v.allowed() && v.violations[0].preexisting, "{v:#?}");
    let v = evaluate(&unlimited(["nginx:1.25", "evil.example.com/miner:6.6.6"]), Some(&running), &index, now());
    assert!(!v.allowed(), "{v:#?}");
}
