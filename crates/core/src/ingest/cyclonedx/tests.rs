//! Unit tests of the CycloneDX parser.

use serde_json::json;

use super::vulnerability::parse_upgrade;
use super::*;
use crate::model::Severity;

fn one(v: Value) -> Report {
    let mut r = parse("t.json", &v).expect("parses");
    assert_eq!(r.len(), 1);
    r.remove(0)
}

#[test]
fn detects_bom_format() {
    assert!(detect(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5"})));
    assert!(!detect(&json!({"spdxVersion": "SPDX-2.3"})));
    assert!(!detect(&json!({"bomFormat": 3})));
}

#[test]
fn wrong_types_name_the_field() {
    let cases = [
        (json!({"bomFormat": "CycloneDX", "components": {"name": "x"}}), "components: "),
        (
            json!({"bomFormat": "CycloneDX", "components": [{"name": "a"}, {"name": "b", "licenses": "MIT"}]}),
            "components[1].licenses: ",
        ),
        (
            json!({"bomFormat": "CycloneDX", "components": [{"name": "a", "components": [{"version": 3}]}]}),
            "components[0].components[0].version: ",
        ),
        (
            json!({"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1", "ratings": [{"score": "high"}]}]}),
            "vulnerabilities[0].ratings[0].score: ",
        ),
        (json!({"bomFormat": "CycloneDX", "metadata": {"tools": [{"name": ["trivy"]}]}}), "metadata.tools"),
        (json!({"bomFormat": "CycloneDX", "metadata": {"timestamp": 5}}), "metadata.timestamp: "),
    ];
    for (doc, want) in cases {
        let err = parse("t", &doc).expect_err("must fail").to_string();
        assert!(err.starts_with(want), "{err:?} should start with {want:?}");
    }
}

#[test]
fn nulls_and_missing_fields_are_fine() {
    let r = one(json!({"bomFormat": "CycloneDX", "metadata": null, "components": null,
                       "vulnerabilities": [{"id": null}, {"id": "CVE-2024-1", "affects": null}]}));
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("t.json"))]);
    assert_eq!(r.components.as_deref(), Some(&[][..]));
    assert_eq!(r.findings.len(), 1);
    assert_eq!(&*r.findings[0].id, "CVE-2024-1");
    assert_eq!(&*r.findings[0].title, "CVE-2024-1");
    assert_eq!(&*r.source.scanner, "CycloneDX");
}

#[test]
fn upgrade_recommendations() {
    assert_eq!(parse_upgrade("Upgrade jquery to version 3.4.0"), Some(("jquery", "3.4.0")));
    assert_eq!(
        parse_upgrade("Upgrade a:b to version 2.6.7.4, 2.9.10.7, 2.10.5.1 or higher."),
        Some(("a:b", "2.6.7.4, 2.9.10.7, 2.10.5.1"))
    );
    assert_eq!(parse_upgrade("Do something"), None);
}

#[test]
fn numeric_string_scores_are_numbers() {
    // `"score": "7.5"` used to fail the whole BOM ("invalid type: string, expected f64").
    let r = one(json!({"bomFormat": "CycloneDX", "vulnerabilities": [
        {"id": "CVE-2024-1", "ratings": [{"score": "7.5", "method": "CVSSv31"}, {"score": " ", "method": "CVSSv3"}]},
        {"id": "CVE-2024-2", "ratings": [{"score": 9.8, "method": "CVSSv3", "severity": "critical"}, {"score": null}]}
    ]}));
    assert_eq!((r.findings[0].severity, r.findings[0].cvss), (Severity::High, Some(7.5)));
    assert_eq!((r.findings[1].severity, r.findings[1].cvss), (Severity::Critical, Some(9.8)));
}

#[test]
fn components_are_named_by_the_shared_purl_rule() {
    let r = one(json!({"bomFormat": "CycloneDX", "components": [
        {"group": "org.yaml", "name": "snakeyaml", "purl": "pkg:maven/org.yaml/snakeyaml@1.33"},
        {"group": "debian", "name": "tar", "purl": "pkg:deb/debian/tar@1.30"},
        {"purl": "pkg:gitlab/group/project@1"},
        {"group": "@babel", "name": "core"}
    ]}));
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["org.yaml:snakeyaml", "tar", "group/project", "@babel/core"]);
}
