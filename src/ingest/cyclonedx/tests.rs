//! Unit tests of the CycloneDX parser.

use serde_json::json;

use super::vulnerability::parse_upgrade;
use super::*;

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
        let err = parse("t", &doc).expect_err("must fail");
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
