//! The `newRiskOnly` ratchet across images and the criticality floor in policy scoping.

use std::sync::Arc;

use jiff::Timestamp;

use super::evaluate;
use crate::guardrail::spec::WorkloadSecurityRule;
use crate::guardrail::{Enforcement, ExceptionSettings, GuardrailRule, MatchSource, OnUnscanned, Policy, PolicySource};
use crate::index::{IndexConfig, PolicyEntry, PostureIndex};
use crate::model::{App, Container, Criticality, Namespace, Workload, WorkloadKind};
use crate::names::CRITICALITY_LABEL;
use crate::selector::LabelSelector;

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

#[test]
fn a_workload_no_application_selects_is_at_the_namespace_floor() {
    let mut index =
        index_with(entry(false, &[Criticality::Critical, Criticality::High, Criticality::Medium], only(true, false)));
    index.apply_app(App {
        namespace: Arc::from("team-a"),
        name: Arc::from("agent"),
        criticality: Criticality::Critical,
        selector: Some(LabelSelector {
            match_labels: [("app".to_string(), "agent".to_string())].into(),
            match_expressions: Vec::new(),
        }),
        ..Default::default()
    });
    let selected = agent("agent", &[("agent", "nginx:1.25")]);
    assert!(!evaluate(&selected, None, &index, now()).allowed());
    // Relabelled out of its AppPosture: `medium` (the default floor), still in scope.
    let relabelled = agent("agent-v2", &[("agent", "nginx:1.25")]);
    let v = evaluate(&relabelled, None, &index, now());
    assert!(!v.allowed(), "{v:#?}");
    // Only the platform's namespace label lowers the floor, and then the policy lets it go.
    index.apply_namespace(Namespace {
        name: Arc::from("team-a"),
        labels: [(CRITICALITY_LABEL.to_string(), "low".to_string())].into(),
    });
    assert!(evaluate(&relabelled, None, &index, now()).allowed());
    assert!(!evaluate(&selected, None, &index, now()).allowed(), "the AppPosture still raises it");
}
