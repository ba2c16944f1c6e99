//! The sweep's plan, synchronously, from `mk_*` builders: no cluster, no client.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use stance_core::index::{ExceptionEntry, IndexConfig, KubeObject, PolicyEntry};
use stance_core::model::{
    App, Artifact, Container, Finding, FindingKind, Format, ImageRef, Report, Severity, Source, Workload, WorkloadKind,
};
use stance_core::selector::LabelSelector;

use super::*;
use crate::api::RiskExceptionState;
use crate::controller::observed::{ObservedAsset, Update};

const UID: &str = "0f6f3c1e-1111-2222-3333-444455556666";

fn now() -> Timestamp {
    "2026-11-27T00:00:00Z".parse().unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn mk_workload(ns: &str, name: &str, image: &str) -> Workload {
    let mut w = Workload::new(WorkloadKind::Deployment, ns, name, vec![Container::hardened("main", image)]);
    w.pod_labels = labels(&[("app", name)]);
    w
}

fn mk_app(ns: &str, name: &str) -> App {
    App {
        namespace: Arc::from(ns),
        name: Arc::from(name),
        uid: Some(UID.into()),
        generation: Some(3),
        selector: Some(LabelSelector { match_labels: labels(&[("app", name)]), match_expressions: Vec::new() }),
        ..Default::default()
    }
}

fn mk_report(image: &str, cves: &[&str]) -> Report {
    let img = ImageRef::parse(image).unwrap();
    let source = Arc::new(Source {
        format: Format::TrivyOperator,
        scanner: Arc::from("Trivy"),
        origin: Arc::from("r"),
        workload: None,
        container: None,
    });
    let mut r = Report::new(source.clone());
    r.scanned = vec![Artifact::Image(img.clone())];
    for id in cves {
        r.findings.push(Finding::new(
            FindingKind::Vulnerability,
            id,
            Severity::Critical,
            id,
            Artifact::Image(img.clone()),
            source.clone(),
        ));
    }
    r
}

/// A GuardrailPolicy, through the one conversion the watch and admission use.
fn mk_policy(name: &str, rules: &str) -> PolicyEntry {
    let p: GuardrailPolicy = serde_yaml::from_str(&format!(
        "apiVersion: aspm.stance.dev/v1alpha1\nkind: GuardrailPolicy\nmetadata: {{name: {name}, generation: 2}}\n\
         spec:\n  rules:\n{rules}"
    ))
    .unwrap();
    PolicyEntry::from(&p)
}

fn mk_exception(name: &str, expires: &str, findings: &[&str]) -> ExceptionEntry {
    let mut e = RiskException::new(
        name,
        crate::api::RiskExceptionSpec {
            justification: "waf rule in place".into(),
            expires: expires.into(),
            findings: findings.iter().map(|f| f.to_string()).collect(),
            // Another namespace than shop's: it names a finding shop runs without waiving it
            // there (without match.namespaces it would cover exempt stance-system only: Unmatched).
            match_: crate::api::risk_exception::ExceptionMatch {
                namespaces: vec!["billing".into()],
                ..Default::default()
            },
            ..Default::default()
        },
    );
    e.metadata.namespace = Some("stance-system".into());
    e.metadata.generation = Some(1);
    ExceptionEntry::from(&e)
}

/// `shop/web` (an AppPosture with a uid) running a scanned image with one CRITICAL.
fn mk_index(objects: Vec<KubeObject>) -> PostureIndex {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_workload(mk_workload("shop", "web", "ghcr.io/acme/web:1.0"));
    index.apply_app(mk_app("shop", "web"));
    index.apply_report("r", mk_report("ghcr.io/acme/web:1.0", &["CVE-2024-0001"]));
    for o in objects {
        index.apply_object(o);
    }
    index.refresh();
    index
}

/// The cluster shows exactly what the plan wrote.
fn observe(plan: &Plan) -> Observed {
    let mut seen = Observed::default();
    for a in &plan.apply_assets {
        let key = (a.metadata.namespace.clone(), a.metadata.name.clone().unwrap_or_default());
        let update =
            Update::Asset(ObservedAsset { status: None, owner_references: a.metadata.owner_references.clone() });
        seen.apply(&key, update);
    }
    for (ns, name, status) in &plan.asset_status {
        let owners = seen.asset(ns, name).and_then(|a| a.owner_references.clone());
        let update = Update::Asset(ObservedAsset { status: Some(status.clone()), owner_references: owners });
        seen.apply(&(Some(ns.clone()), name.clone()), update);
    }
    for (name, status) in &plan.policy_status {
        seen.apply(&(None, name.clone()), Update::Policy(Some(status.clone())));
    }
    for (ns, name, status) in &plan.exception_status {
        seen.apply(&(Some(ns.clone()), name.clone()), Update::Exception(Some(status.clone())));
    }
    seen
}

#[test]
fn discovered_names_are_valid_and_stable() {
    let n = discovered_name("docker.io/library/nginx");
    assert!(n.starts_with("img-nginx-") && n.len() == "img-nginx-".len() + 8, "{n}");
    assert_eq!(n, discovered_name("docker.io/library/nginx"));
    assert_ne!(n, discovered_name("ghcr.io/acme/nginx"));
    let long = discovered_name(&format!("r.io/{}", "A_b.".repeat(40)));
    assert!(
        long.len() <= 63 && long.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{long}"
    );
}

#[test]
fn every_running_image_of_an_application_gets_one_discovered_asset_owned_by_it() {
    let index = mk_index(vec![]);
    let plan = plan(&index, &Observed::default(), now());
    let [asset] = &plan.apply_assets[..] else { panic!("one discovered Asset: {:?}", plan.apply_assets) };
    assert_eq!(asset.metadata.name.as_deref(), Some(discovered_name("ghcr.io/acme/web").as_str()));
    assert_eq!(asset.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(asset.spec.identifier, "ghcr.io/acme/web");
    assert!(asset.spec.discovered && asset.spec.asset_type == AssetType::Image);
    let labels = asset.metadata.labels.as_ref().unwrap();
    assert_eq!((labels[DISCOVERED_LABEL].as_str(), labels[MANAGED_BY_LABEL].as_str()), ("true", MANAGED_BY));
    let owner = &asset.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()), ("AppPosture", "web", UID));
    assert!(plan.delete_assets.is_empty());
}

#[test]
fn a_discovered_asset_already_as_wanted_is_left_alone_and_one_no_longer_wanted_is_deleted() {
    let first = plan(&mk_index(vec![]), &Observed::default(), now());
    let wanted = &first.apply_assets[0];
    let as_read = |a: &Asset| KubeObject::Asset(stance_core::model::Asset::from(a));
    let mut stale = wanted.clone();
    stale.metadata.name = Some("img-old-0000".into());
    let index = mk_index(vec![as_read(wanted), as_read(&stale)]);
    let seen = observe(&first);
    let second = plan(&index, &seen, now());
    assert!(second.apply_assets.is_empty(), "{:?}", second.apply_assets);
    assert_eq!(second.delete_assets, [("shop".to_string(), "img-old-0000".to_string())]);
    // Re-created AppPosture (another uid): the owner reference is re-applied.
    let mut moved = seen.clone();
    for a in moved.assets.values_mut() {
        if let Some(o) = a.owner_references.as_mut() {
            o[0].uid = "another-uid".into();
        }
    }
    assert_eq!(plan(&index, &moved, now()).apply_assets.len(), 1);
}

#[test]
fn statuses_are_written_once_and_not_again_when_only_time_moves() {
    let objects = vec![
        KubeObject::Policy(mk_policy("no-critical", "  - vulnerabilities: {maxSeverity: HIGH}\n")),
        KubeObject::Exception(mk_exception("waiver", "2026-12-15T00:00:00Z", &["CVE-2024-0001"])),
    ];
    let index = mk_index(objects);
    let first = plan(&index, &Observed::default(), now());
    let [(name, policy)] = &first.policy_status[..] else { panic!("{:?}", first.policy_status) };
    assert_eq!((name.as_str(), policy.violating_workloads, policy.observed_generation), ("no-critical", 1, Some(2)));
    let ready = &policy.conditions[0];
    assert_eq!((ready.type_.as_str(), ready.status.as_str(), ready.reason.as_str()), ("Ready", "True", "Valid"));
    let [(_, _, exception)] = &first.exception_status[..] else { panic!("{:?}", first.exception_status) };
    assert_eq!((exception.state, exception.covered_findings), (RiskExceptionState::Active, 1));
    // The next sweep, an hour later, against what the cluster now shows: nothing to write,
    // and the Ready condition keeps its transition time.
    let seen = observe(&first);
    let later: Timestamp = "2026-11-27T01:00:00Z".parse().unwrap();
    let second = plan(&index, &seen, later);
    assert!(second.policy_status.is_empty() && second.exception_status.is_empty(), "{second:?}");
    assert!(second.asset_status.is_empty(), "{:?}", second.asset_status);
    // When the verdict changes (the exception expires), it is written again.
    let expired: Timestamp = "2026-12-16T00:00:00Z".parse().unwrap();
    let third = plan(&index, &seen, expired);
    assert_eq!(third.exception_status[0].2.state, RiskExceptionState::Expired);
    // A policy status that changes keeps the Ready condition's transition time while the
    // condition's status stays the same.
    let mut stale = seen.clone();
    stale.policies.values_mut().flatten().for_each(|s| s.violating_workloads = 7);
    let fourth = plan(&index, &stale, later);
    assert_eq!(fourth.policy_status[0].1.violating_workloads, 1);
    assert_eq!(fourth.policy_status[0].1.conditions[0].last_transition_time, Time(now()));
}

#[test]
fn invalid_policies_and_exceptions_say_why() {
    let objects = vec![
        KubeObject::Policy(mk_policy("two", "  - vulnerabilities: {maxSeverity: HIGH}\n    sbomRequired: {}\n")),
        KubeObject::Exception(mk_exception("forever", "next tuesday", &[])),
    ];
    let plan = plan(&mk_index(objects), &Observed::default(), now());
    let ready = &plan.policy_status[0].1.conditions[0];
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("False", "Invalid"));
    assert!(ready.message.starts_with("spec.rules[0]: sets 2 rule types"), "{}", ready.message);
    let exception = &plan.exception_status[0].2;
    assert_eq!(exception.state, RiskExceptionState::Invalid);
    assert!(exception.reason.as_deref().is_some_and(|r| r.starts_with("spec.expires")), "{exception:?}");
}
