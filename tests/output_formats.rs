//! What `stance scan` writes for other tools is accepted by them: the SARIF validates
//! against the OASIS SARIF 2.1.0 schema and meets GitHub code scanning's documented upload
//! requirements; the PolicyReports validate against the `wgpolicyk8s.io` CRD's schema.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::{Value, json};

const NOW: &str = "2026-11-27T12:00:00Z";

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo")
}

fn scan(format: &str, extra: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["scan", "--format", format, "--now", NOW])
        .args(extra)
        .arg(demo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn sarif(extra: &[&str]) -> Value {
    serde_json::from_slice(&scan("sarif", extra)).unwrap()
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

fn is_guardrail(r: &Value) -> bool {
    r["ruleId"].as_str().unwrap().starts_with("guardrail/")
}

#[test]
fn demo_sarif_validates_against_the_sarif_2_1_0_schema() {
    let validator = common::schema::committed("sarif-schema-2.1.0.json");
    let log = sarif(&[]);
    let errors = common::schema::errors(&validator, &log);
    assert!(errors.is_empty(), "{errors:#?}");

    // The validator is not vacuous: a result without its message, or with an unknown
    // level, is refused.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
    assert!(!common::schema::errors(&validator, &broken).is_empty());
    let mut broken = log;
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!common::schema::errors(&validator, &broken).is_empty());
}

/// GitHub's "SARIF support for code scanning": the properties it marks required (non-empty),
/// its length limits, and its upload limits (runs, results, rules, tags, locations).
fn github_problems(log: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let text = |v: &Value| v.as_str().filter(|s| !s.trim().is_empty()).map(str::to_string);
    if text(&log["$schema"]).is_none() {
        p.push("$schema is missing".to_string());
    }
    if log["version"] != "2.1.0" {
        p.push("version is not 2.1.0".into());
    }
    let runs = log["runs"].as_array().cloned().unwrap_or_default();
    if runs.is_empty() || runs.len() > 20 {
        p.push(format!("{} runs (1 to 20 allowed)", runs.len()));
    }
    for run in &runs {
        let driver = &run["tool"]["driver"];
        if text(&driver["name"]).is_none() {
            p.push("tool.driver.name is missing".into());
        }
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        if rules.len() > 25_000 {
            p.push(format!("{} rules (at most 25,000)", rules.len()));
        }
        for (i, rule) in rules.iter().enumerate() {
            for field in ["id", "/shortDescription/text", "/fullDescription/text", "/help/text"] {
                let v = if field.starts_with('/') { rule.pointer(field).unwrap_or(&Value::Null) } else { &rule[field] };
                match text(v) {
                    None => p.push(format!("rules[{i}] {field} is missing or empty")),
                    Some(t) if field.contains("Description") && t.chars().count() > 1024 => {
                        p.push(format!("rules[{i}] {field} is longer than 1024 characters"))
                    }
                    Some(_) => {}
                }
            }
            if rule["name"].as_str().is_some_and(|n| n.chars().count() > 255) {
                p.push(format!("rules[{i}] name is longer than 255 characters"));
            }
            if rule["properties"]["tags"].as_array().is_some_and(|t| t.len() > 20) {
                p.push(format!("rules[{i}] has more than 20 tags"));
            }
            if let Some(s) = rule["properties"]["security-severity"].as_str() {
                if !s.parse::<f64>().is_ok_and(|x| x > 0.0 && x <= 10.0) {
                    p.push(format!("rules[{i}] security-severity {s:?} is not a score in (0, 10]"));
                }
            }
        }
        let results = run["results"].as_array().cloned().unwrap_or_default();
        if results.len() > 25_000 {
            p.push(format!("{} results (at most 25,000 per run)", results.len()));
        }
        for (i, r) in results.iter().enumerate() {
            let id = text(&r["ruleId"]);
            if id.is_none() {
                p.push(format!("results[{i}] ruleId is missing"));
            }
            if let Some(ri) = r["ruleIndex"].as_u64() {
                if rules.get(ri as usize).map(|rule| text(&rule["id"])) != Some(id.clone()) {
                    p.push(format!("results[{i}] ruleIndex {ri} does not point at rule {id:?}"));
                }
            }
            if text(&r["message"]["text"]).is_none() {
                p.push(format!("results[{i}] message.text is missing"));
            }
            if text(&r["partialFingerprints"]["primaryLocationLineHash"]).is_none() {
                p.push(format!("results[{i}] has no partialFingerprints.primaryLocationLineHash"));
            }
            let locations = r["locations"].as_array().cloned().unwrap_or_default();
            if locations.is_empty() || locations.len() > 10 {
                p.push(format!(
                    "results[{i}] has {} locations (1 to 10: GitHub shows none without one)",
                    locations.len()
                ));
            }
            let Some(phys) = locations.first().map(|l| &l["physicalLocation"]) else { continue };
            match text(&phys["artifactLocation"]["uri"]) {
                None => p.push(format!("results[{i}] has no physicalLocation.artifactLocation.uri")),
                // Relative to the repository root: an absolute URI of another scheme than the
                // checkout's `file:` makes GitHub reject the whole upload.
                Some(uri) if uri.contains(':') => p.push(format!("results[{i}] uri {uri:?} is not relative")),
                Some(_) => {}
            }
            for f in ["startLine", "startColumn", "endLine", "endColumn"] {
                if phys["region"][f].as_u64().is_none_or(|n| n < 1) {
                    p.push(format!("results[{i}] region.{f} is missing"));
                }
            }
        }
    }
    p
}

#[test]
fn demo_sarif_meets_github_code_scanning_upload_requirements() {
    let log = sarif(&[]);
    let problems = github_problems(&log);
    assert!(problems.is_empty(), "{problems:#?}");
    // Every kind of place a result can have is exercised by the demo, and placed as documented.
    let uris: BTreeSet<&str> = results(&log)
        .iter()
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    for expected in [
        "library/nginx",                        // an OS package of docker.io/library/nginx (Trivy's place)
        "aquasecurity/trivy-test-images",       // …of ghcr.io/aquasecurity/trivy-test-images
        "frontend/src/commons/about/About.tsx", // SAST: its own file (line in the region)
        "example-backend.example.com/admin",    // DAST: host and path
        "Deployment/payments/payments-api",     // a guardrail violation: the workload
    ] {
        assert!(uris.contains(expected), "no result placed at {expected}: {uris:#?}");
    }
    let sast = results(&log)
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "frontend/src/access_control/AADSignInButton.tsx"
        })
        .unwrap();
    assert_eq!(sast["locations"][0]["physicalLocation"]["region"]["startLine"], 27);

    // The check can fail: each broken copy is caught.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"] = json!([]);
    assert!(!github_problems(&broken).is_empty());
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("https://example.com/x");
    assert!(!github_problems(&broken).is_empty());
    let mut broken = log;
    broken["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"] = json!("");
    assert!(!github_problems(&broken).is_empty());
}

#[test]
fn fingerprints_are_stable_and_distinct_per_application_and_finding() {
    let fingerprints = |log: &Value| -> Vec<String> {
        results(log)
            .iter()
            .map(|r| r["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap().into())
            .collect()
    };
    let log = sarif(&[]);
    let first = fingerprints(&log);
    assert_eq!(first, fingerprints(&sarif(&[])), "fingerprints change between runs");
    let distinct: BTreeSet<&String> = first.iter().collect();
    assert_eq!(distinct.len(), first.len(), "two results share a fingerprint");
    assert!(results(&log).iter().any(is_guardrail), "guardrail violations are results too");

    // The same nginx vulnerability in two applications: same rule, same place, two alerts.
    let tiff: Vec<&Value> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "CVE-2022-3970" && r["message"]["text"].as_str().unwrap().contains("tiff"))
        .collect();
    let apps: BTreeSet<&str> = tiff.iter().map(|r| r["properties"]["application"].as_str().unwrap()).collect();
    assert_eq!(apps.into_iter().collect::<Vec<_>>(), ["analytics/reporting", "shop/storefront"]);
    assert_ne!(tiff[0]["partialFingerprints"], tiff[1]["partialFingerprints"]);

    // A finding's fingerprint does not depend on how many are listed.
    let top1 = sarif(&["--top", "1"]);
    let all: BTreeSet<String> = first.into_iter().collect();
    assert!(fingerprints(&top1).iter().all(|f| all.contains(f)));
}

#[test]
fn sarif_lists_every_finding_unless_top_is_given() {
    let json: Value = serde_json::from_slice(&scan("json", &["--top", "100000"])).unwrap();
    let expected: BTreeMap<String, usize> = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let name = format!("{}/{}", a["namespace"].as_str().unwrap(), a["name"].as_str().unwrap());
            (name, a["findings"]["total"].as_u64().unwrap() as usize)
        })
        .collect();
    assert!(
        expected.values().any(|n| *n > 10),
        "the demo must have an application with more findings than the table's 10"
    );
    let per_app = |log: &Value| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in results(log).iter().filter(|r| !is_guardrail(r)) {
            *m.entry(r["properties"]["application"].as_str().unwrap().to_string()).or_default() += 1;
        }
        m
    };
    let listed = per_app(&sarif(&[]));
    let expected_nonzero: BTreeMap<String, usize> =
        expected.iter().filter(|(_, n)| **n > 0).map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(listed, expected_nonzero, "SARIF lists every finding of every application");
    let capped = per_app(&sarif(&["--top", "2"]));
    assert!(capped.values().all(|n| *n <= 2) && capped.len() == expected_nonzero.len(), "{capped:?}");
}

/// The CRD's OpenAPI schema as a strict JSON Schema: the API server silently drops a field
/// the schema does not declare, so an undeclared field is an error here.
fn strict(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else { return };
    let open = obj.contains_key("additionalProperties") || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    if obj.contains_key("properties") && !open {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    // Walk sub-schemas only: `properties` is a map of them (one may be named "properties").
    for (k, v) in obj.iter_mut() {
        match k.as_str() {
            "properties" => v.as_object_mut().into_iter().flat_map(|m| m.values_mut()).for_each(strict),
            "items" | "additionalProperties" => strict(v),
            "allOf" | "anyOf" | "oneOf" => v.as_array_mut().into_iter().flatten().for_each(strict),
            _ => {}
        }
    }
}

#[test]
fn demo_policyreports_validate_against_the_wgpolicyk8s_crd_schema() {
    let crd: Value =
        serde_yaml::from_slice(&common::fixture_bytes("crds/wgpolicyk8s/wgpolicyk8s.io_policyreports.yaml")).unwrap();
    let version = crd["spec"]["versions"].as_array().unwrap().iter().find(|v| v["name"] == "v1alpha2").unwrap();
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    schema["$schema"] = json!("http://json-schema.org/draft-04/schema#");
    let validator = common::schema::validator(&schema);

    let out = scan("policyreport", &[]);
    let reports: Vec<Value> =
        serde_yaml::Deserializer::from_slice(&out).map(|d| Value::deserialize(d).unwrap()).collect();
    assert_eq!(reports.len(), 4);
    for r in &reports {
        assert_eq!(r["apiVersion"], "wgpolicyk8s.io/v1alpha2");
        let errors = common::schema::errors(&validator, r);
        assert!(errors.is_empty(), "{}: {errors:#?}", r["metadata"]["namespace"]);
        let summary = &r["summary"];
        let counted: u64 = ["pass", "fail", "warn", "error", "skip"].iter().map(|k| summary[k].as_u64().unwrap()).sum();
        assert_eq!(counted as usize, r["results"].as_array().unwrap().len());
    }
    // Not vacuous: an undeclared field and a wrong result value are refused.
    let mut broken = reports[0].clone();
    broken["results"][0]["colour"] = json!("red");
    assert!(!common::schema::errors(&validator, &broken).is_empty());
    let mut broken = reports[0].clone();
    broken["results"][0]["result"] = json!("maybe");
    assert!(!common::schema::errors(&validator, &broken).is_empty());
}
