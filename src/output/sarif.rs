//! SARIF 2.1.0 rendering of a scan: every listed finding and every guardrail violation
//! is a result, so code-scanning dashboards can ingest Stance's verdict.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::scan::ScanOutput;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level_of_severity(sev: &str) -> &'static str {
    match sev {
        "CRITICAL" | "HIGH" => "error",
        "MEDIUM" => "warning",
        _ => "note",
    }
}

/// GitHub's convention: a numeric `security-severity` drives its severity display.
fn security_severity(sev: &str) -> &'static str {
    match sev {
        "CRITICAL" => "9.5",
        "HIGH" => "7.5",
        "MEDIUM" => "5.0",
        "LOW" => "2.0",
        _ => "0.0",
    }
}

/// Renders the scan as one SARIF run.
pub fn render(out: &ScanOutput) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for app in &out.apps {
        let app_id = format!("{}/{}", app.namespace, app.name);
        for f in &app.top_findings {
            rules.entry(f.id.clone()).or_insert_with(|| {
                json!({
                    "id": f.id,
                    "shortDescription": { "text": f.title },
                    "properties": { "security-severity": security_severity(&f.severity), "tags": ["security", f.kind] }
                })
            });
            let mut text =
                format!("{} ({}) in {}: risk {} for application {app_id}", f.id, f.severity, f.artifact, f.risk_score);
            if let (Some(p), Some(v)) = (&f.package, &f.installed_version) {
                text.push_str(&format!("; package {p} {v}"));
            }
            if let Some(fix) = &f.fixed_version {
                text.push_str(&format!("; fixed in {fix}"));
            }
            results.push(json!({
                "ruleId": f.id,
                "level": level_of_severity(&f.severity),
                "message": { "text": text },
                "locations": [{ "logicalLocations": [{ "fullyQualifiedName": f.artifact, "kind": "resource" }] }],
                "partialFingerprints": { "stanceFinding/v1": super::stable_id(&[&f.id, &f.artifact, f.package.as_deref().unwrap_or(""), f.installed_version.as_deref().unwrap_or("")]) },
                "properties": { "riskScore": f.risk_score, "factors": f.factors, "application": app_id, "knownExploited": f.known_exploited }
            }));
        }
    }
    let violations = out.apps.iter().flat_map(|a| &a.violations).chain(&out.unowned_violations);
    for v in violations {
        let id = format!("guardrail/{}/{}", v.policy, v.rule);
        rules.entry(id.clone()).or_insert_with(|| {
            json!({
                "id": id,
                "shortDescription": { "text": format!("GuardrailPolicy {} rule {} ({})", v.policy, v.rule, v.rule_type) },
                "properties": { "tags": ["guardrail", v.rule_type] }
            })
        });
        let level = if v.blocks() {
            "error"
        } else if v.warns() {
            "warning"
        } else {
            "note"
        };
        let mut result = json!({
            "ruleId": id,
            "level": level,
            "message": { "text": v.line() },
            "locations": [{ "logicalLocations": [{ "fullyQualifiedName": v.workload, "kind": "resource" }] }],
            "properties": { "enforcement": v.enforcement.as_str(), "items": v.items }
        });
        if !v.excepted_by.is_empty() {
            result["suppressions"] =
                json!([{ "kind": "external", "justification": format!("RiskException {}", v.excepted_by.join(", ")) }]);
        }
        results.push(result);
    }
    let index: BTreeMap<String, usize> = rules.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    for r in &mut results {
        if let Some(i) = r["ruleId"].as_str().and_then(|id| index.get(id)) {
            r["ruleIndex"] = json!(i);
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "Stance",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/stance-dev/stance",
                "rules": rules.into_values().collect::<Vec<_>>()
            }},
            "invocations": [{ "executionSuccessful": true, "endTimeUtc": out.generated_at }],
            "results": results
        }]
    })
}
