//! What a change touches, and which applications that reaches.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::guardrail::CompileError;
use crate::index::{IndexConfig, PolicyEntry, PostureIndex};
use crate::model::{
    App, Artifact, Asset, AssetType, Container, Criticality, Finding, FindingKind, Format, ImageRef, LocalRef,
    Namespace, Report, Severity, Source, Workload, WorkloadKind,
};
use crate::selector::LabelSelector;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn workload(ns: &str, name: &str, image: &str) -> Workload {
    let mut w = Workload::new(WorkloadKind::Deployment, ns, name, vec![Container::hardened("main", image)]);
    w.pod_labels = labels(&[("app", name)]);
    w
}

fn app(ns: &str, name: &str, criticality: Criticality) -> App {
    App {
        namespace: Arc::from(ns),
        name: Arc::from(name),
        selector: Some(LabelSelector { match_labels: labels(&[("app", name)]), match_expressions: Vec::new() }),
        criticality,
        ..Default::default()
    }
}

fn report(image: &str, cve: &str) -> Report {
    let img = ImageRef::parse(image).unwrap();
    let source = Arc::new(Source {
        format: Format::TrivyOperator,
        scanner: Arc::from("Trivy"),
        origin: Arc::from(format!("report of {image}")),
        workload: None,
        container: None,
    });
    let mut r = Report::new(source.clone());
    r.scanned = vec![Artifact::Image(img.clone())];
    r.findings.push(Finding::new(
        FindingKind::Vulnerability,
        cve,
        Severity::Critical,
        cve,
        Artifact::Image(img),
        source,
    ));
    r
}

fn discovered(ns: &str, app_name: &str, repo: &str) -> Asset {
    Asset {
        namespace: Arc::from(ns),
        name: Arc::from(format!("img-{app_name}")),
        asset_type: AssetType::Image,
        identifier: repo.into(),
        app_ref: Some(LocalRef { name: app_name.into(), namespace: None }),
        discovered: true,
        ..Default::default()
    }
}

/// Three applications: `a/web` and `b/api` run nginx:1.25, `c/db` runs postgres:16.
fn cluster() -> PostureIndex {
    let mut index = PostureIndex::new(IndexConfig::default());
    for (ns, name, image, crit) in [
        ("a", "web", "nginx:1.25", Criticality::Medium),
        ("b", "api", "nginx:1.25", Criticality::Critical),
        ("c", "db", "postgres:16", Criticality::High),
    ] {
        index.apply_workload(workload(ns, name, image));
        index.apply_app(app(ns, name, crit));
    }
    index.refresh();
    index
}

fn names(index: &PostureIndex, touched: &Touched) -> Option<Vec<String>> {
    match index.apps_touched(touched) {
        Affected::All => None,
        Affected::Apps(apps) => Some(apps.iter().map(|a| format!("{}/{}", a.namespace, a.name)).collect()),
    }
}

#[test]
fn a_report_for_an_image_touches_exactly_the_apps_running_it_critical_first() {
    let mut index = cluster();
    let g = index.generation();
    index.apply_report("nginx", report("nginx:1.25", "CVE-2024-0001"));
    index.refresh();
    let touched = index.touched_since(g);
    assert_eq!(names(&index, &touched), Some(vec!["b/api".to_string(), "a/web".to_string()]));

    // Its removal reaches the same applications (their findings go away).
    let g = index.generation();
    index.delete_report("nginx");
    index.refresh();
    assert_eq!(names(&index, &index.touched_since(g)), Some(vec!["b/api".to_string(), "a/web".to_string()]));
}

#[test]
fn a_refresh_after_the_reader_looked_is_a_change_of_its_own() {
    let mut index = cluster();
    let g = index.generation();
    index.apply_report("pg", report("postgres:16", "CVE-2024-0002"));
    // The reader looks before the correlation is swapped in...
    let seen = index.generation();
    assert_eq!(names(&index, &index.touched_since(g)), Some(vec!["c/db".to_string()]));
    index.refresh();
    // ...and still learns that the application's findings changed.
    assert!(index.generation() > seen);
    assert_eq!(names(&index, &index.touched_since(seen)), Some(vec!["c/db".to_string()]));
}

#[test]
fn stances_own_discovered_asset_changes_no_app_and_the_same_asset_again_nothing() {
    let mut index = cluster();
    let g = index.generation();
    index.apply_asset(discovered("a", "web", "docker.io/library/nginx"));
    assert!(index.generation() > g, "the sweep must still see the new Asset to write its status");
    assert_eq!(names(&index, &index.touched_since(g)), Some(Vec::new()));

    let g = index.generation();
    index.apply_asset(discovered("a", "web", "docker.io/library/nginx"));
    assert_eq!(index.generation(), g, "an identical Asset is no change at all");
    assert_eq!(index.touched_since(g), Touched::Nothing);

    // A declared Asset can widen what its application covers: it reaches its namespace.
    let mut declared = discovered("a", "web", "github.com/shop/web");
    declared.asset_type = AssetType::Repository;
    declared.discovered = false;
    let g = index.generation();
    index.apply_asset(declared);
    assert_eq!(names(&index, &index.touched_since(g)), Some(vec!["a/web".to_string()]));
}

#[test]
fn policies_exceptions_and_feeds_touch_everything() {
    let mut index = cluster();
    let g = index.generation();
    index.apply_policy(PolicyEntry {
        name: Arc::from("p"),
        generation: None,
        enforcement: Default::default(),
        description: None,
        compiled: Err(CompileError::new("spec", "test")),
    });
    assert_eq!(index.touched_since(g), Touched::Everything);
    assert_eq!(names(&index, &index.touched_since(g)), None);

    let g = index.generation();
    index.merge_kev(Default::default());
    assert_eq!(index.touched_since(g), Touched::Everything);
}

#[test]
fn topology_touches_the_namespace_only() {
    let mut index = cluster();
    let g = index.generation();
    index.apply_namespace(Namespace { name: Arc::from("c"), labels: labels(&[("team", "data")]) });
    assert_eq!(names(&index, &index.touched_since(g)), Some(vec!["c/db".to_string()]));

    let g = index.generation();
    index.apply_workload(workload("a", "web", "nginx:1.26"));
    index.refresh();
    assert_eq!(names(&index, &index.touched_since(g)), Some(vec!["a/web".to_string()]));
    // Nothing after the last look: nothing touched.
    assert_eq!(index.touched_since(index.generation()), Touched::Nothing);
}

#[test]
fn a_reader_older_than_the_log_is_told_everything() {
    let mut log = ChangeLog::default();
    for g in 1..=(MAX_TOUCHES as u64 + 10) {
        log.record(g, Touch::Namespace(Arc::from(format!("ns{g}"))));
    }
    assert_eq!(log.since(3), Touched::Everything);
    let recent = log.since(MAX_TOUCHES as u64 + 8);
    let Touched::Scoped { namespaces, artifacts } = recent else { panic!("expected scoped, got {recent:?}") };
    assert_eq!(namespaces.len(), 2);
    assert!(artifacts.is_empty());
}
