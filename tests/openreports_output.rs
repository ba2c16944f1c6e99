//! The `openreports.io/v1alpha1` Reports Stance writes (`stance scan --format openreports`,
//! and the operator when that CRD is installed) validate against the real CRD's schema
//! (`../shared/fixtures/crds/openreports/openreports.io_reports.yaml`, openreports/reports-api)
//! and stay within etcd's object size limit.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::{Value, json};
use stance::output::openreports::{self, MAX_REPORT_BYTES};
use stance::output::policy_report::{
    self, Outcome, PolicyReport, ReportMetadata, ReportResult, ReportSummary, ReportTimestamp, ResourceRef,
};

const NOW: &str = "2026-11-27T12:00:00Z";

/// The CRD's OpenAPI schema as a strict JSON Schema: the API server silently drops a field
/// the schema does not declare, so an undeclared field is an error here (as in
/// `tests/output_formats.rs` for the wgpolicyk8s CRD).
fn strict(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else { return };
    let open = obj.contains_key("additionalProperties") || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    if obj.contains_key("properties") && !open {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (k, v) in obj.iter_mut() {
        match k.as_str() {
            "properties" => v.as_object_mut().into_iter().flat_map(|m| m.values_mut()).for_each(strict),
            "items" | "additionalProperties" => strict(v),
            "allOf" | "anyOf" | "oneOf" => v.as_array_mut().into_iter().flatten().for_each(strict),
            _ => {}
        }
    }
}

fn validator() -> jsonschema::Validator {
    let crd: Value =
        serde_yaml::from_slice(&common::fixture_bytes("crds/openreports/openreports.io_reports.yaml")).unwrap();
    assert_eq!(crd["spec"]["names"]["kind"], "Report");
    let version = crd["spec"]["versions"].as_array().unwrap().iter().find(|v| v["name"] == "v1alpha1").unwrap();
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    schema["$schema"] = json!("http://json-schema.org/draft-04/schema#");
    common::schema::validator(&schema)
}

fn scan(format: &str) -> Vec<Value> {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["scan", "--format", format, "--now", NOW])
        .arg(demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_yaml::Deserializer::from_slice(&out.stdout).map(|d| Value::deserialize(d).unwrap()).collect()
}

#[test]
fn demo_openreports_validate_against_the_openreports_crd_schema() {
    let validator = validator();
    let reports = scan("openreports");
    assert_eq!(reports.len(), 4);
    for r in &reports {
        assert_eq!((r["apiVersion"].as_str(), r["kind"].as_str()), (Some("openreports.io/v1alpha1"), Some("Report")));
        let errors = common::schema::errors(&validator, r);
        assert!(errors.is_empty(), "{}: {errors:#?}", r["metadata"]["namespace"]);
        let summary = &r["summary"];
        let counted: u64 = ["pass", "fail", "warn", "error", "skip"].iter().map(|k| summary[k].as_u64().unwrap()).sum();
        assert_eq!(counted as usize, r["results"].as_array().unwrap().len());
        assert_eq!(r["metadata"]["labels"]["app.kubernetes.io/managed-by"], "stance");
    }
    // The same results as the PolicyReports, namespace by namespace.
    let policy_reports = scan("policyreport");
    let results = |rs: &[Value]| -> BTreeMap<String, Value> {
        rs.iter().map(|r| (r["metadata"]["namespace"].as_str().unwrap().to_string(), r["results"].clone())).collect()
    };
    assert_eq!(results(&reports), results(&policy_reports));
    // Not vacuous: an undeclared field, a wrong result and a wrong severity are refused.
    for (path, bad) in [("colour", json!("red")), ("result", json!("maybe")), ("severity", json!("urgent"))] {
        let mut broken = reports[0].clone();
        broken["results"][0][path] = bad;
        assert!(!common::schema::errors(&validator, &broken).is_empty(), "{path}");
    }
}

/// 2,000 results with 3 KB messages in one namespace: pages of at most 500 results and
/// 1 MiB, every one valid, nothing lost, messages capped.
#[test]
fn large_namespaces_are_paged_within_etcds_limit() {
    let validator = validator();
    let message = "v".repeat(3000);
    let results: Vec<ReportResult> = (0..2000)
        .map(|i| ReportResult {
            source: "stance",
            policy: "no-critical-vulnerabilities".into(),
            rule: "cves".into(),
            category: "vulnerabilities",
            result: if i % 3 == 0 { Outcome::Fail } else { Outcome::Pass },
            severity: Some("high"),
            scored: true,
            resources: vec![ResourceRef {
                api_version: "apps/v1",
                kind: "Deployment",
                namespace: "shop".into(),
                name: format!("web-{i}"),
                uid: String::new(),
            }],
            timestamp: ReportTimestamp { seconds: 1_790_000_000, nanos: 0 },
            message: if i == 7 { "x".repeat(100_000) } else { message.clone() },
            properties: BTreeMap::from([("enforcement", "Enforce".to_string())]),
        })
        .collect();
    let input: Vec<PolicyReport> = results
        .chunks(policy_report::RESULTS_PER_REPORT)
        .map(|page| PolicyReport {
            api_version: policy_report::API_VERSION,
            kind: "PolicyReport",
            metadata: ReportMetadata {
                name: "stance-guardrails".into(),
                namespace: "shop".into(),
                labels: BTreeMap::from([("app.kubernetes.io/managed-by", "stance")]),
            },
            summary: ReportSummary::default(),
            results: page.to_vec(),
        })
        .collect();
    let out = openreports::from_policy_reports(input);
    assert!(out.len() >= 7, "about 6 MB of results: {} pages", out.len());
    let mut total = 0;
    for (i, r) in out.iter().enumerate() {
        let v = serde_json::to_value(r).unwrap();
        assert!(common::schema::errors(&validator, &v).is_empty());
        assert!(serde_json::to_vec(&v).unwrap().len() <= MAX_REPORT_BYTES);
        assert_eq!(r.metadata.name, format!("stance-guardrails-{}", i + 1));
        assert_eq!((r.summary.fail + r.summary.pass) as usize, r.results.len());
        total += r.results.len();
    }
    assert_eq!(total, 2000);
    let long = out.iter().flat_map(|r| &r.results).find(|r| r.resources[0].name == "web-7").unwrap();
    assert_eq!(long.message.chars().count(), openreports::MAX_MESSAGE_CHARS + 1);
}
