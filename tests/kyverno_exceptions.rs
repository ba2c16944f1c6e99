//! Kyverno PolicyExceptions in Stance's output: a policy result an exception made pass or
//! skip is a suppressed finding naming the exception, from the PolicyReport result Kyverno
//! writes and from the PolicyException object itself; both meet on one finding.
//!
//! The PolicyException is the one of Kyverno's documentation (`delta-exception`); the
//! report results use Kyverno's own spellings (`properties.exceptions`, Kyverno ≥ 1.11, and
//! the engine's skip message `rule skipped due to policy exception <ns/name>`).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use stance::ingest::{Loaded, Parsed, parse_bytes};
use stance_core::model::{Artifact, Format, ObjectRef, VexState};

const EXCEPTION: &str = r#"
apiVersion: kyverno.io/v2
kind: PolicyException
metadata:
  name: delta-exception
  namespace: delta
spec:
  exceptions:
  - policyName: disallow-host-namespaces
    ruleNames:
    - host-namespaces
    - autogen-host-namespaces
  match:
    any:
    - resources:
        kinds:
        - Pod
        - Deployment
        namespaces:
        - delta
        names:
        - important-tool
"#;

/// Kyverno's background report for the exempted Deployment (Kyverno ≥ 1.11 names the
/// exception in `properties.exceptions`), and an older report's Pod result that still says
/// fail (written before the exception existed).
const REPORTS: &str = r#"
apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata:
  name: a1b2
  namespace: delta
  labels: {app.kubernetes.io/managed-by: kyverno}
scope: {apiVersion: apps/v1, kind: Deployment, name: important-tool, namespace: delta}
results:
- policy: disallow-host-namespaces
  rule: autogen-host-namespaces
  result: skip
  scored: true
  source: kyverno
  message: rule is skipped due to policy exception
  properties: {exceptions: delta/delta-exception}
- policy: require-labels
  rule: check-team
  result: pass
  source: kyverno
---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata:
  name: c3d4
  namespace: delta
  labels: {app.kubernetes.io/managed-by: kyverno}
scope: {apiVersion: v1, kind: Pod, name: important-tool, namespace: delta}
results:
- policy: disallow-host-namespaces
  rule: host-namespaces
  result: fail
  severity: high
  source: kyverno
  message: 'validation error: Sharing the host namespaces is disallowed.'
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn findings(paths: &[PathBuf]) -> Vec<Value> {
    let out =
        Command::cargo_bin("stance").unwrap().args(["findings", "--format", "json"]).args(paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_policy_exception_object_is_read_into_suppressed_statements() {
    let mut loaded = Loaded::default();
    loaded.add_bytes("exception.yaml", EXCEPTION.as_bytes());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.ignored.is_empty(), "PolicyException is a kind Stance uses");
    let r = &loaded.reports[0];
    assert_eq!((r.source.format, &*r.source.scanner), (Format::KyvernoException, "Kyverno PolicyException"));
    // 2 rules × (Pod, Deployment) in delta named important-tool.
    assert_eq!(r.findings.len(), 4);
    let deploy = Artifact::Object(ObjectRef::new("Deployment", Some("delta"), "important-tool"));
    let f = r.findings.iter().find(|f| *f.artifact == deploy && f.id.ends_with("/autogen-host-namespaces")).unwrap();
    assert_eq!(f.vex.as_ref().unwrap().state, VexState::NotAffected);
    assert_eq!(f.vex.as_ref().unwrap().justification.as_deref(), Some("Kyverno PolicyException delta/delta-exception"));
}

#[test]
fn a_skip_result_naming_an_exception_is_a_suppressed_finding() {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    parse_bytes("reports.yaml", REPORTS.as_bytes(), &mut out, &mut warnings);
    assert!(warnings.is_empty(), "{warnings:?}");
    let Parsed::Report(r) = &out[0] else { panic!() };
    // The skip caused by the exception is a finding; the plain pass is not.
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert!(f.suppressed());
    assert_eq!(&*f.id, "disallow-host-namespaces/autogen-host-namespaces");
    assert_eq!(
        &*f.title,
        "disallow-host-namespaces/autogen-host-namespaces: exempted by Kyverno PolicyException delta/delta-exception"
    );
}

#[test]
fn report_results_and_exception_objects_meet_in_stance_findings() {
    let dir = tempfile::tempdir().unwrap();
    let reports = write(dir.path(), "reports.yaml", REPORTS);
    // Without the exception object: the Deployment's skip shows as suppressed, naming the
    // exception; the stale Pod failure is open.
    let lines = findings(std::slice::from_ref(&reports));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let deploy = lines.iter().find(|l| l["artifact"] == "object:Deployment/delta/important-tool").unwrap();
    assert_eq!(deploy["vex"], "NotAffected");
    assert!(deploy["title"].as_str().unwrap().contains("Kyverno PolicyException delta/delta-exception"));
    let pod = lines.iter().find(|l| l["artifact"] == "object:Pod/delta/important-tool").unwrap();
    assert!(pod.get("vex").is_none());
    assert_eq!(pod["severity"], "HIGH");

    // With it: one finding per (rule, object); the report's and the exception's statements
    // are one finding with both sources, and the stale failure is suppressed.
    let exception = write(dir.path(), "exception.yaml", EXCEPTION);
    let lines = findings(&[reports, exception]);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines.iter().all(|l| l["vex"] == "NotAffected"));
    let deploy = lines
        .iter()
        .find(|l| {
            l["artifact"] == "object:Deployment/delta/important-tool"
                && l["ruleId"] == "disallow-host-namespaces/autogen-host-namespaces"
        })
        .unwrap();
    let mut formats: Vec<&str> =
        deploy["sources"].as_array().unwrap().iter().map(|s| s["format"].as_str().unwrap()).collect();
    formats.sort_unstable();
    assert_eq!(formats, ["kyverno-policy-exception", "policy-report"]);
    let pod = lines
        .iter()
        .find(|l| {
            l["artifact"] == "object:Pod/delta/important-tool"
                && l["ruleId"] == "disallow-host-namespaces/host-namespaces"
        })
        .unwrap();
    assert_eq!(pod["severity"], "HIGH", "the failure's severity is kept");
    assert_eq!(pod["sources"].as_array().unwrap().len(), 2);
}

#[test]
fn kyverno_v2beta1_exceptions_and_unrelated_kyverno_kinds() {
    let v2beta1 = EXCEPTION.replace("kyverno.io/v2", "kyverno.io/v2beta1");
    let mut loaded = Loaded::default();
    loaded.add_bytes("e.yaml", v2beta1.as_bytes());
    assert_eq!(loaded.reports[0].findings.len(), 4);
    // A ClusterPolicy is not read; a malformed exception is a warning naming the file.
    loaded.add_bytes("p.yaml", b"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\n");
    assert_eq!(loaded.ignored.get("ClusterPolicy"), Some(&1));
    loaded.add_bytes(
        "bad.yaml",
        b"apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata: {name: x}\nspec: {exceptions: {policyName: p}}\n",
    );
    let w = loaded.warnings.last().unwrap();
    assert!(w.origin.starts_with("bad.yaml") && w.message.contains("PolicyException: spec"), "{w:?}");
}

/// The operator watches `kyverno.io` PolicyExceptions and feeds them like reports: applying
/// one adds its suppressed statements to the index, deleting it removes them.
#[test]
fn the_operator_feeds_watched_policy_exceptions_into_the_index() {
    use stance::controller::feed::{FeedState, apply, delete, key_of};
    use stance::controller::observed::Observed;
    use stance::controller::targets::{Feed, TARGETS};
    use stance_core::index::{IndexConfig, PostureIndex};

    let target = TARGETS.iter().find(|t| t.group == "kyverno.io" && t.kind == "PolicyException").unwrap();
    assert!(target.optional && target.feed == Feed::Report);
    let obj: Value = serde_yaml::from_str(EXCEPTION).unwrap();
    let mut index = PostureIndex::new(IndexConfig::default());
    let mut state = FeedState::default();
    let mut observed = Observed::default();
    assert!(apply(&mut index, &mut state, &mut observed, Feed::Report, "PolicyException", &obj).is_empty());
    index.refresh();
    let deploy = Artifact::Object(ObjectRef::new("Deployment", Some("delta"), "important-tool"));
    let posture = index.artifact_for("delta", &deploy).unwrap();
    assert_eq!(posture.findings.len(), 2);
    assert!(posture.findings.iter().all(|f| f.suppressed()));
    delete(&mut index, &mut state, &mut observed, Feed::Report, "PolicyException", &key_of(&obj).unwrap());
    index.refresh();
    assert!(index.artifact_for("delta", &deploy).is_none_or(|p| p.findings.is_empty()));
}
