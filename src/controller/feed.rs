//! Watched objects → index operations (pure: no I/O, unit-tested without a cluster).
//!
//! Each object is converted with the same ingest functions the CLI uses (so a manifest
//! file and a watched object give the same domain value), applied, and forgotten: the
//! index keeps only domain values, never the raw object.

use std::collections::HashMap;

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use stance_core::index::PostureIndex;
use stance_core::model::{Channel, Provenance};
use stance_core::names::{DEFAULT_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL};

use super::observed::{Observed, Update};
use super::targets::Feed;
use crate::ingest::kubernetes::parse_object;
use crate::ingest::{KubeObject, Limits, Parsed, Reader, Refusal, Warning, read_config_map, read_value};

/// `(namespace, name)` of a watched object.
pub type ObjKey = (Option<String>, String);

/// Per-watch state the index does not hold: how many report ids each object produced
/// (one object can carry several reports, e.g. a SARIF file with several runs).
#[derive(Debug, Default)]
pub struct FeedState {
    reports: HashMap<ObjKey, usize>,
}

/// The key of an object value.
pub fn key_of(obj: &Value) -> Option<ObjKey> {
    let name = obj.pointer("/metadata/name")?.as_str()?.to_string();
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Some((ns, name))
}

fn report_id(kind: &str, key: &ObjKey, i: usize) -> String {
    match &key.0 {
        Some(ns) => format!("{kind}/{ns}/{}#{i}", key.1),
        None => format!("{kind}/{}#{i}", key.1),
    }
}

/// An object parsed into domain values, ready to apply (parsing happens outside the
/// index lock).
#[derive(Debug, Default)]
pub struct Prepared {
    pub key: Option<ObjKey>,
    objects: Vec<KubeObject>,
    reports: Vec<stance_core::model::Report>,
    /// The object's status (and owners) for the status writer.
    observed: Option<Update>,
    /// What could not be read (the rest is still applied).
    pub problems: Vec<String>,
    /// Why parts of it were refused (a report channel carrying another kind, a budget
    /// exceeded), one per refused document: counted in a metric.
    pub refusals: Vec<Refusal>,
    /// What identifies its content ([`super::listing::fingerprint`]): an object listed
    /// again with the same one is not applied again.
    pub fingerprint: Option<u64>,
}

fn is_own_output(obj: &Value) -> bool {
    obj.pointer("/metadata/labels").and_then(|l| l.get(MANAGED_BY_LABEL)).and_then(Value::as_str) == Some(MANAGED_BY)
}

/// Parses an added or modified object with the same functions the CLI uses. Reports carry
/// their channel (the scanner resource, or the report ConfigMap) and `observed`; reading
/// one object costs at most `limits`.
pub fn prepare(feed: Feed, kind: &str, obj: &Value, observed: Timestamp, limits: Limits) -> Prepared {
    let Some(key) = key_of(obj) else {
        return Prepared { problems: vec!["object without metadata.name".into()], ..Default::default() };
    };
    let fingerprint = super::listing::fingerprint(feed, obj);
    let origin = match &key.0 {
        Some(ns) => format!("{kind} {ns}/{}", key.1),
        None => format!("{kind} {}", key.1),
    };
    // Stance's own PolicyReports (its guardrail results) are output, not input: reading them
    // back would turn every violation into a finding of the next round.
    if feed == Feed::Report && is_own_output(obj) {
        return Prepared { key: Some(key), fingerprint, ..Default::default() };
    }
    let mut parsed = Vec::new();
    let mut warnings = Vec::new();
    let namespace = key.0.as_deref().map(Arc::from);
    match feed {
        // Reports are recognised by the core; a scanner's resource speaks as that scanner.
        Feed::Report => {
            let channel = Channel::ScannerResource { kind: Arc::from(kind), namespace };
            let reader = Reader::new(Provenance::new(channel, observed), limits);
            read_value(&reader, &origin, obj, &mut parsed, &mut warnings)
        }
        // A report ConfigMap is the channel of what it carries: reports only, as evidence
        // of its namespace unless the platform trusts it.
        Feed::ReportConfigMap => {
            let channel = Channel::ReportConfigMap {
                namespace: namespace.unwrap_or_else(|| Arc::from(DEFAULT_NAMESPACE)),
                name: Arc::from(key.1.as_str()),
                upload: None,
            };
            let reader = Reader::new(Provenance::new(channel, observed), limits);
            read_config_map(&reader, &origin, obj, &mut parsed, &mut warnings)
        }
        _ => parse_object(&origin, obj, &mut parsed, &mut warnings),
    }
    let mut out = Prepared { key: Some(key), observed: Update::of(feed, obj), fingerprint, ..Default::default() };
    for p in parsed {
        match p {
            Parsed::Object(o) => out.objects.push(*o),
            Parsed::Report(r) => out.reports.push(r),
            Parsed::Kev(_) | Parsed::Epss(_) | Parsed::Ignored(_) => {}
        }
    }
    out.refusals = warnings.iter().filter_map(|w| w.refusal).collect();
    out.problems = warnings.into_iter().map(|w| format!("{}: {}", w.origin, w.message)).collect();
    out
}

/// Applies a prepared object to the index and its status to `observed` (call `refresh`
/// after a batch). Returns what the index did not take from its reports, and why.
pub fn commit(
    index: &mut PostureIndex,
    state: &mut FeedState,
    observed: &mut Observed,
    feed: Feed,
    kind: &str,
    p: Prepared,
) -> Vec<Warning> {
    let mut notes = Vec::new();
    let Some(key) = p.key else { return notes };
    if let Some(update) = p.observed {
        observed.apply(&key, update);
    }
    for o in p.objects {
        index.apply_object(o);
    }
    let count = p.reports.len();
    for (i, r) in p.reports.into_iter().enumerate() {
        notes.extend(index.apply_report(&report_id(kind, &key, i), r));
    }
    if matches!(feed, Feed::Report | Feed::ReportConfigMap) {
        let before = state.reports.insert(key.clone(), count).unwrap_or(0);
        for i in count..before {
            index.delete_report(&report_id(kind, &key, i));
        }
    }
    notes
}

/// Records only the status of a prepared object (its content is already in the index).
pub fn observe(observed: &mut Observed, key: &ObjKey, p: Prepared) {
    if let Some(update) = p.observed {
        observed.apply(key, update);
    }
}

/// [`prepare`] (observed now, default limits) then [`commit`]; returns the problems and
/// what the index did not take.
pub fn apply(
    index: &mut PostureIndex,
    state: &mut FeedState,
    observed: &mut Observed,
    feed: Feed,
    kind: &str,
    obj: &Value,
) -> Vec<String> {
    let p = prepare(feed, kind, obj, Timestamp::now(), Limits::default());
    let mut problems = p.problems.clone();
    let notes = commit(index, state, observed, feed, kind, p);
    problems.extend(notes.into_iter().map(|w| format!("{}: {}", w.origin, w.message)));
    problems
}

/// Removes a deleted object.
pub fn delete(
    index: &mut PostureIndex,
    state: &mut FeedState,
    observed: &mut Observed,
    feed: Feed,
    kind: &str,
    key: &ObjKey,
) {
    observed.delete(feed, key);
    let ns = key.0.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    let name = key.1.as_str();
    match feed {
        Feed::Workload(k) => index.delete_workload(k, ns, name),
        Feed::Service => index.delete_service(ns, name),
        Feed::Ingress => index.delete_route("Ingress", ns, name),
        Feed::HttpRoute => index.delete_route("HTTPRoute", ns, name),
        Feed::ReferenceGrant => index.delete_reference_grant(ns, name),
        Feed::Namespace => index.delete_namespace(name),
        Feed::AppPosture => index.delete_app(ns, name),
        Feed::Asset => index.delete_asset(ns, name),
        Feed::Policy => index.delete_policy(name),
        Feed::Exception => index.delete_exception(ns, name),
        Feed::Report | Feed::ReportConfigMap => {
            for i in 0..state.reports.remove(key).unwrap_or(0) {
                index.delete_report(&report_id(kind, key, i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use stance_core::index::IndexConfig;
    use stance_core::model::{ImageRef, WorkloadKind};

    use super::*;

    fn json(yaml: &str) -> Value {
        serde_yaml::from_str(yaml).unwrap()
    }

    const REPORT: &str = r#"
apiVersion: aquasecurity.github.io/v1alpha1
kind: VulnerabilityReport
metadata:
  name: replicaset-web-5d4f8c7b9-nginx
  namespace: shop
  labels: {trivy-operator.resource.kind: ReplicaSet, trivy-operator.resource.name: web-5d4f8c7b9, trivy-operator.resource.namespace: shop, trivy-operator.container.name: nginx}
report:
  artifact: {repository: library/nginx, tag: "1.25"}
  registry: {server: index.docker.io}
  scanner: {name: Trivy, vendor: Aqua Security, version: 0.50.0}
  updateTimestamp: "2026-11-01T00:00:00Z"
  vulnerabilities:
  - {vulnerabilityID: CVE-2023-23914, resource: curl, installedVersion: 7.87.0-r1, fixedVersion: 7.87.0-r2, severity: CRITICAL, title: curl HSTS}
"#;

    #[test]
    fn reports_apply_replace_and_delete() {
        let mut index = PostureIndex::new(IndexConfig::default());
        let mut state = FeedState::default();
        let mut observed = Observed::default();
        let obj = json(REPORT);
        assert!(apply(&mut index, &mut state, &mut observed, Feed::Report, "VulnerabilityReport", &obj).is_empty());
        index.refresh();
        let img = ImageRef::parse("nginx:1.25").unwrap();
        assert_eq!(index.image_for("default", &img).unwrap().findings.len(), 1);
        // The same object again (a resync) changes nothing.
        apply(&mut index, &mut state, &mut observed, Feed::Report, "VulnerabilityReport", &obj);
        index.refresh();
        assert_eq!(index.image_for("default", &img).unwrap().findings.len(), 1);
        delete(&mut index, &mut state, &mut observed, Feed::Report, "VulnerabilityReport", &key_of(&obj).unwrap());
        index.refresh();
        assert!(index.image_for("default", &img).is_none());
    }

    #[test]
    fn own_policy_reports_are_not_read_back() {
        let mut index = PostureIndex::new(IndexConfig::default());
        let mut state = FeedState::default();
        let mut observed = Observed::default();
        let own = json(
            "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nmetadata: {name: stance-guardrails, namespace: shop, labels: {app.kubernetes.io/managed-by: stance}}\nresults:\n- {policy: p, rule: r, result: fail, source: stance, resources: [{kind: Pod, name: x, namespace: shop}]}\n",
        );
        apply(&mut index, &mut state, &mut observed, Feed::Report, "PolicyReport", &own);
        index.refresh();
        assert_eq!(index.finding_count(), 0);
        let mut other = own.clone();
        other["metadata"]["labels"] = serde_json::json!({});
        apply(&mut index, &mut state, &mut observed, Feed::Report, "PolicyReport", &other);
        index.refresh();
        assert_eq!(index.finding_count(), 1);
    }

    #[test]
    fn workloads_and_bad_objects() {
        let mut index = PostureIndex::new(IndexConfig::default());
        let mut state = FeedState::default();
        let mut observed = Observed::default();
        let dep = json(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {}\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n",
        );
        assert!(
            apply(&mut index, &mut state, &mut observed, Feed::Workload(WorkloadKind::Deployment), "Deployment", &dep)
                .is_empty()
        );
        assert!(index.workload(WorkloadKind::Deployment, "shop", "web").is_some());
        delete(
            &mut index,
            &mut state,
            &mut observed,
            Feed::Workload(WorkloadKind::Deployment),
            "Deployment",
            &key_of(&dep).unwrap(),
        );
        assert!(index.workload(WorkloadKind::Deployment, "shop", "web").is_none());
        // A malformed object is reported, never a panic, and changes nothing.
        let bad =
            json("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: shop}\nspec: {template: 3}\n");
        let problems =
            apply(&mut index, &mut state, &mut observed, Feed::Workload(WorkloadKind::Deployment), "Deployment", &bad);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("Deployment shop/x"), "{problems:?}");
        assert_eq!(index.workloads().count(), 0);
    }
}
