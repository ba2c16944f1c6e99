//! Kubernetes misconfiguration scans: Kubescape results JSON (`defectdojo/kubescape/`: a
//! clean file scan, one with failures, and a 1 MB scan of 44 resources) and the newer
//! `trivy k8s` shape (`ClusterName` + `Resources`, `defectdojo/trivy/issue_9170.json`),
//! which the Trivy JSON parser reads. Expected values are read from the files here or were
//! read with jq.

mod formats_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use formats_support::{arr, cli_distinct, count_by, json, one, reports, s, severities};
use serde_json::Value;
use stance_core::model::{Artifact, FindingKind, Format, ObjectRef, Severity};

/// Kubescape's bands of a control's score factor (`apis.ControlSeverityToInt` in
/// kubescape/opa-utils), restated.
fn band(f: f64) -> Severity {
    if f >= 9.0 {
        Severity::Critical
    } else if f >= 7.0 {
        Severity::High
    } else if f >= 4.0 {
        Severity::Medium
    } else if f >= 1.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

/// (resourceID, controlID, score factor) of every failed control in the raw file: the
/// control's `status.status`, else any of its rules' statuses.
fn failed(doc: &Value) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for r in arr(doc, "results") {
        for c in arr(r, "controls") {
            let failed = match c["status"]["status"].as_str() {
                Some(st) => st == "failed",
                None => arr(c, "rules").iter().any(|x| s(x, "status") == "failed"),
            };
            if failed {
                let id = s(c, "controlID");
                let factor = doc["summaryDetails"]["controls"][id]["scoreFactor"].as_f64().unwrap_or(0.0);
                out.push((s(r, "resourceID").to_string(), id.to_string(), factor));
            }
        }
    }
    out
}

#[test]
fn kubescape_fixtures_give_as_many_findings_as_distinct_issues() {
    for rel in [
        "defectdojo/kubescape/results.json",
        "defectdojo/kubescape/with_a_failure.json",
        "defectdojo/kubescape/many_findings.json",
    ] {
        let doc = json(rel);
        let fails = failed(&doc);
        let r = one(rel);
        assert_eq!(r.findings.len(), fails.len(), "{rel}");
        assert_eq!(severities(&r.findings), count_by(fails.iter().map(|(_, _, f)| band(*f))), "{rel}");
        // One artifact per resource: the mapping never joins two resources.
        let ids: BTreeSet<&str> = arr(&doc, "resources").iter().map(|x| s(x, "resourceID")).collect();
        assert_eq!(r.scanned.len(), ids.len(), "{rel}");
        let pairs: BTreeSet<(&str, &str)> = fails.iter().map(|(r, c, _)| (r.as_str(), c.as_str())).collect();
        assert_eq!(cli_distinct(rel), pairs.len(), "{rel}");
    }
}

#[test]
fn kubescape_values() {
    let clean = one("defectdojo/kubescape/results.json");
    assert_eq!((clean.source.format, &*clean.source.scanner), (Format::Kubescape, "Kubescape v3.0.3"));
    assert!(clean.findings.is_empty());
    assert_eq!(clean.scanned_at, None, "generationTime 0001-01-01 is no time");

    let r = one("defectdojo/kubescape/with_a_failure.json");
    let nginx = Artifact::Other(Arc::from("nginx.yaml:0:Deployment/nginx-deployment"));
    assert_eq!(r.scanned, vec![nginx.clone()]);
    let got: Vec<(&str, &str, Severity)> = r.findings.iter().map(|f| (&*f.id, &*f.title, f.severity)).collect();
    assert_eq!(
        got,
        [
            ("C-0030", "Ingress and Egress blocked", Severity::Medium),
            ("C-0055", "Linux hardening", Severity::Medium),
            ("C-0260", "Missing network policy", Severity::Medium)
        ]
    );
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Misconfiguration && *f.artifact == nginx));
    assert_eq!(
        r.findings[1].location.as_deref(),
        Some("spec.template.spec.containers[0].securityContext.seccompProfile")
    );

    let big = one("defectdojo/kubescape/many_findings.json");
    assert_eq!(big.findings.len(), 289);
    assert_eq!(big.scanned_at, Some("2022-11-02T07:55:55.697021698Z".parse().unwrap()));
    // A workload with its Service (no `path=` in the id): the object itself.
    assert!(big.scanned.contains(&Artifact::Object(ObjectRef::new("Deployment", Some("kubescape"), "kubescape"))));
    // The same Deployment in two manifests: two objects.
    for file in
        ["httphandler/examples/prometheus/ks-deployment.yaml", "httphandler/examples/microservice/ks-deployment.yaml"]
    {
        assert!(big.scanned.contains(&Artifact::Other(Arc::from(format!("{file}:Deployment/kubescape/kubescape")))));
    }
    // Kubescape's own summary counts, per control, the resources that failed and those a
    // posture exception excluded: Stance's open and suppressed findings agree for every
    // control (229 and 60 in all).
    let doc = json("defectdojo/kubescape/many_findings.json");
    for (id, c) in doc["summaryDetails"]["controls"].as_object().unwrap() {
        let of = |suppressed: bool| {
            big.findings.iter().filter(|f| &*f.id == id && f.suppressed() == suppressed).count() as u64
        };
        let counters = &c["ResourceCounters"];
        assert_eq!(of(false), counters["failedResources"].as_u64().unwrap_or(0), "{id} failed");
        assert_eq!(of(true), counters["excludedResources"].as_u64().unwrap_or(0), "{id} excluded");
    }
    assert_eq!(big.findings.iter().filter(|f| f.suppressed()).count(), 60);
    let excluded = big.findings.iter().find(|f| f.suppressed()).unwrap();
    let why = excluded.vex.as_ref().unwrap().justification.as_deref().unwrap();
    assert!(why.starts_with("Kubescape exception exclude-kubescape-resources-"), "{why}");
    let f = big.findings.iter().find(|f| &*f.id == "C-0017").unwrap();
    assert_eq!(f.location.as_deref(), Some("spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"));
}

#[test]
fn trivy_k8s_resources_shape_is_read_by_the_trivy_parser() {
    let rel = "defectdojo/trivy/issue_9170.json";
    let doc = json(rel);
    let rs = reports(rel);
    assert_eq!(rs.len(), arr(&doc, "Resources").len(), "one report per resource");
    assert!(rs.iter().all(|r| r.source.format == Format::TrivyJson));
    let mut expected = BTreeSet::new();
    for res in arr(&doc, "Resources") {
        for result in arr(res, "Results") {
            for m in arr(result, "Misconfigurations").iter().filter(|m| s(m, "Status") == "FAIL") {
                expected.insert((s(res, "Kind"), s(res, "Namespace"), s(res, "Name"), s(m, "ID")));
            }
        }
    }
    let got: BTreeSet<(String, String, String, String)> = rs
        .iter()
        .flat_map(|r| &r.findings)
        .map(|f| {
            let Artifact::Object(o) = &*f.artifact else { panic!("{:?}", f.artifact) };
            (o.kind.to_string(), o.namespace.as_deref().unwrap_or("").to_string(), o.name.to_string(), f.id.to_string())
        })
        .collect();
    let expected: BTreeSet<(String, String, String, String)> =
        expected.into_iter().map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into())).collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 37);
    assert_eq!(cli_distinct(rel), 37);
    let role =
        rs.iter().find(|r| r.source.workload.as_ref().is_some_and(|w| &*w.name == "caas-scanners-role")).unwrap();
    assert_eq!(role.findings.len(), 14);
    let svc = &rs[0].findings[0];
    assert_eq!((&*svc.id, svc.severity), ("KSV116", Severity::Low));
}
