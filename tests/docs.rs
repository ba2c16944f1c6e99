//! The documentation stays true to the code: every CRD field is in the reference.

use std::collections::BTreeSet;

fn paths(schema: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in props {
            let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            // Label selectors are documented once, as the standard Kubernetes type.
            if matches!(k.as_str(), "selector" | "namespaceSelector" | "appSelector") {
                out.insert(p);
                continue;
            }
            out.insert(p.clone());
            paths(v, &p, out);
        }
    }
    if let Some(items) = schema.get("items") {
        paths(items, &format!("{prefix}[]"), out);
    }
}

#[test]
fn every_crd_spec_field_is_in_the_reference() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy-reference.md"))
            .unwrap();
    let mut missing = Vec::new();
    for crd in stance::api::crds() {
        let v = serde_json::to_value(&crd.spec.versions[0].schema.as_ref().unwrap().open_api_v3_schema).unwrap();
        let mut fields = BTreeSet::new();
        paths(&v["properties"]["spec"], "", &mut fields);
        assert!(fields.len() > 5, "{}", crd.spec.names.kind);
        for f in fields {
            if !doc.contains(&format!("`{f}`")) {
                missing.push(format!("{}: {f}", crd.spec.names.kind));
            }
        }
    }
    assert!(missing.is_empty(), "fields missing from docs/policy-reference.md: {missing:#?}");
}

#[test]
fn risk_doc_budgets_match_the_code() {
    use stance::posture::risk::*;
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/risk.md")).unwrap();
    for (name, max) in [
        ("Severity", SEVERITY_MAX),
        ("Exploitability", EXPLOIT_MAX),
        ("Exposure", EXPOSURE_MAX),
        ("Business impact", BUSINESS_MAX),
        ("Workload", WORKLOAD_MAX),
        ("Remediation", REMEDIATION_MAX),
    ] {
        assert!(doc.contains(&format!("| **{name}** | {max} |")), "docs/risk.md budget for {name} is not {max}");
    }
}
