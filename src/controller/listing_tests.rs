use jiff::Timestamp;
use stance_core::index::IndexConfig;

use super::*;
use crate::ingest::Limits;

/// The real Trivy Operator VulnerabilityReport of the fixtures, at `resource_version`.
fn report(resource_version: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/trivy-operator/vulnerability-ttl.yaml");
    let text = std::fs::read_to_string(&path).expect("../shared/fixtures/trivy-operator/vulnerability-ttl.yaml");
    let mut v: Value = serde_yaml::from_str(&text).expect("the fixture is YAML");
    v["metadata"]["resourceVersion"] = resource_version.into();
    v
}

/// The same report with one more, distinct vulnerability (a rescan found something).
fn with_new_vulnerability(mut v: Value, resource_version: &str) -> Value {
    let vulns = v["report"]["vulnerabilities"].as_array_mut().expect("the fixture lists vulnerabilities");
    let mut extra = vulns[0].clone();
    extra["vulnerabilityID"] = "CVE-2099-0001".into();
    extra["severity"] = "CRITICAL".into();
    vulns.push(extra);
    v["metadata"]["resourceVersion"] = resource_version.into();
    v
}

/// Another report: another namespace, another image.
fn elsewhere(mut v: Value) -> Value {
    v["metadata"]["namespace"] = "other".into();
    v["report"]["artifact"]["repository"] = "coredns/other".into();
    v
}

fn apply(v: &Value, feed: Feed, kind: &str) -> Step {
    let at: Timestamp = "2026-11-30T00:00:00Z".parse().unwrap();
    Step::Apply(Box::new(feed::prepare(feed, kind, v, at, Limits::default())))
}

struct Fixture {
    index: PostureIndex,
    observed: Observed,
    listing: Listing,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            index: PostureIndex::new(IndexConfig::default()),
            observed: Observed::default(),
            listing: Listing::default(),
        }
    }

    fn run(&mut self, feed: Feed, kind: &str, steps: Vec<Step>) -> Outcome {
        let mut out = Outcome::default();
        for s in steps {
            self.listing.step(&mut self.index, &mut self.observed, feed, kind, s, &mut out);
        }
        out
    }

    fn reports(&mut self, steps: Vec<Step>) -> Outcome {
        self.run(Feed::Report, "VulnerabilityReport", steps)
    }
}

const VR: &str = "VulnerabilityReport";

#[test]
fn only_the_first_list_holds_back_correlation() {
    let mut f = Fixture::new();
    let out = f.reports(vec![Step::Relist, apply(&report("1"), Feed::Report, VR)]);
    assert!(out.changed && !out.synced);
    assert!(f.listing.hold_refresh(), "the first list is correlated once, when it completes");
    let out = f.reports(vec![Step::Synced]);
    assert!(out.synced);
    assert!(!f.listing.hold_refresh());
    f.reports(vec![Step::Relist]);
    assert!(f.listing.listing());
    assert!(!f.listing.hold_refresh(), "a re-list must not hold back the changes arriving meanwhile");
}

#[test]
fn a_change_during_a_relist_is_applied_at_once_and_the_relist_still_resets() {
    let mut f = Fixture::new();
    let first = report("1");
    let gone = elsewhere(report("5"));
    f.reports(vec![Step::Relist, apply(&first, Feed::Report, VR), apply(&gone, Feed::Report, VR), Step::Synced]);
    f.index.refresh();
    let listed = f.index.finding_count();
    let first_alone = {
        let mut alone = Fixture::new();
        alone.reports(vec![Step::Relist, apply(&first, Feed::Report, VR), Step::Synced]);
        alone.index.refresh();
        alone.index.finding_count()
    };
    assert!(first_alone > 0 && listed > first_alone, "{first_alone} {listed}");

    // A re-list (after 410 Gone) shows the first report unchanged: nothing to apply, nothing
    // to correlate, nothing to announce.
    let out = f.reports(vec![Step::Relist, apply(&first, Feed::Report, VR)]);
    assert_eq!(out.unchanged, 1);
    assert!(!out.changed);
    assert_eq!(f.index.finding_count(), listed);

    // The report changes while the re-list is still in progress: applied now, and the watch
    // may correlate it now (not after the re-list).
    let out = f.reports(vec![Step::Apply(match apply(&with_new_vulnerability(first, "7"), Feed::Report, VR) {
        Step::Apply(p) => p,
        _ => unreachable!(),
    })]);
    assert!(out.changed && !out.synced);
    assert!(!f.listing.hold_refresh());
    f.index.refresh();
    assert_eq!(f.index.finding_count(), listed + 1, "the new vulnerability is counted before the re-list ends");

    // The re-list completes without the other report: it is removed (a re-list is a reset).
    let out = f.reports(vec![Step::Synced]);
    assert!(out.changed && out.synced);
    f.index.refresh();
    assert_eq!(f.listing.len(), 1);
    assert_eq!(f.index.finding_count(), first_alone + 1, "the report not listed again is gone");
}

#[test]
fn a_report_without_resource_version_is_always_applied() {
    let mut f = Fixture::new();
    let mut v = report("1");
    v["metadata"].as_object_mut().unwrap().remove("resourceVersion");
    f.reports(vec![Step::Relist, apply(&v, Feed::Report, VR), Step::Synced]);
    let out = f.reports(vec![apply(&v, Feed::Report, VR)]);
    assert!(out.changed && out.unchanged == 0);
}

const APP: &str = "apiVersion: aspm.stance.dev/v1alpha1\nkind: AppPosture\nmetadata: {name: shop, namespace: shop, uid: u1, resourceVersion: '1', generation: 1}\nspec: {criticality: high, selector: {matchLabels: {app: web}}}\n";

#[test]
fn stances_own_status_writes_are_not_index_changes() {
    let mut f = Fixture::new();
    let app: Value = serde_yaml::from_str(APP).unwrap();
    f.run(
        Feed::AppPosture,
        "AppPosture",
        vec![Step::Relist, apply(&app, Feed::AppPosture, "AppPosture"), Step::Synced],
    );

    // The reconciler wrote the status: a new resourceVersion, the same spec.
    let mut written = app.clone();
    written["metadata"]["resourceVersion"] = "2".into();
    written["status"] = serde_json::json!({"riskScore": 70});
    written["metadata"]["managedFields"] = serde_json::json!([{"manager": "stance", "operation": "Apply"}]);
    let out = f.run(Feed::AppPosture, "AppPosture", vec![apply(&written, Feed::AppPosture, "AppPosture")]);
    assert!(!out.changed, "a status write must not re-trigger every assessment");

    // A spec or label change is one.
    let mut edited = written.clone();
    edited["spec"]["criticality"] = "critical".into();
    let out = f.run(Feed::AppPosture, "AppPosture", vec![apply(&edited, Feed::AppPosture, "AppPosture")]);
    assert!(out.changed);
    let mut labelled = edited.clone();
    labelled["metadata"]["labels"] = serde_json::json!({"team": "a"});
    let out = f.run(Feed::AppPosture, "AppPosture", vec![apply(&labelled, Feed::AppPosture, "AppPosture")]);
    assert!(out.changed);
}

#[test]
fn a_status_only_change_still_reaches_observed() {
    let mut f = Fixture::new();
    let asset: Value = serde_yaml::from_str(
        "apiVersion: aspm.stance.dev/v1alpha1\nkind: Asset\nmetadata: {name: db, namespace: shop, resourceVersion: '1'}\nspec: {type: Image, identifier: registry.example.com/db}\n",
    )
    .unwrap();
    f.run(Feed::Asset, "Asset", vec![Step::Relist, apply(&asset, Feed::Asset, "Asset"), Step::Synced]);
    assert!(f.observed.asset("shop", "db").is_some_and(|a| a.status.is_none()));
    let mut written = asset.clone();
    written["metadata"]["resourceVersion"] = "2".into();
    written["status"] = serde_json::json!({"riskScore": 10});
    let out = f.run(Feed::Asset, "Asset", vec![apply(&written, Feed::Asset, "Asset")]);
    assert!(!out.changed);
    assert!(
        f.observed.asset("shop", "db").is_some_and(|a| a.status.is_some()),
        "the sweep compares with the status the cluster shows"
    );
}
