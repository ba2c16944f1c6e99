//! Unit tests of the CycloneDX parser.

use serde_json::json;

use super::vulnerability::parse_upgrade;
use super::*;
use crate::model::{Finding, Severity};

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

/// A finding of `id` on lodash at `version`, in a repository.
fn lodash_finding(id: &str, version: &str) -> Finding {
    let src = crate::ingest::source(crate::model::Format::Grype, "grype", "scan.json");
    let mut f = Finding::new(
        crate::model::FindingKind::Vulnerability,
        id,
        Severity::High,
        id,
        Artifact::Repository(Arc::from("github.com/shop/cart")),
        src,
    );
    f.package = Some(crate::model::Package {
        purl: Some(Arc::from(format!("pkg:npm/lodash@{version}"))),
        name: Arc::from("lodash"),
        installed_version: Some(Arc::from(version)),
        fixed_version: None,
    });
    f
}

/// The VEX state a standalone CycloneDX VEX document gives `f`.
fn vex_state_of(doc: Value, f: &Finding) -> Option<crate::model::VexState> {
    let vex = one(doc).vex.expect("a standalone VEX document");
    let mut set = crate::vex::VexSet::default();
    set.insert("vex.json", vex);
    set.decide(f).map(|v| v.state)
}

/// CycloneDX 1.5 `affectedVersions`: a `not_affected` analysis covers only the versions
/// listed `unaffected` — not every version of the package the ref names — in both the
/// schema's array form and the single-object form (with `state` for `status`) of
/// CycloneDX's own VEX use-case examples (bom-examples `VEX/Use-Cases/Case-5`, `Case-8`).
#[test]
fn standalone_vex_covers_only_the_versions_it_lists() {
    use crate::model::VexState;
    let doc = |versions: Value| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{
            "id": "CVE-2021-23337", "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
            "affects": [{"ref": "pkg:npm/lodash", "versions": versions}]}]})
    };
    let listed = doc(
        json!([{"range": "vers:npm/>=4.17.21", "status": "unaffected"}, {"version": "4.17.15", "status": "affected"}]),
    );
    assert_eq!(vex_state_of(listed.clone(), &lodash_finding("CVE-2021-23337", "4.17.21")), Some(VexState::NotAffected));
    assert_eq!(vex_state_of(listed.clone(), &lodash_finding("CVE-2021-23337", "4.18.0")), Some(VexState::NotAffected));
    assert_eq!(vex_state_of(listed.clone(), &lodash_finding("CVE-2021-23337", "4.17.15")), None, "listed affected");
    assert_eq!(vex_state_of(listed, &lodash_finding("CVE-2021-23337", "4.17.20")), None, "not listed");
    let one_object = doc(json!({"version": "4.17.20", "state": "unaffected"}));
    assert_eq!(
        vex_state_of(one_object.clone(), &lodash_finding("CVE-2021-23337", "4.17.20")),
        Some(VexState::NotAffected)
    );
    assert_eq!(vex_state_of(one_object, &lodash_finding("CVE-2021-23337", "4.17.19")), None);
    // A suppression whose listed versions all contradict it, or whose range is not one of
    // the package's ecosystem, covers nothing.
    let contradicting = doc(json!([{"version": "4.17.20"}]));
    assert_eq!(vex_state_of(contradicting, &lodash_finding("CVE-2021-23337", "4.17.20")), None);
    let foreign_range = doc(json!([{"range": "vers:deb/>=0", "status": "unaffected"}]));
    assert_eq!(vex_state_of(foreign_range, &lodash_finding("CVE-2021-23337", "4.17.20")), None);
    // Without a version list the ref's purl decides, as before: every version.
    assert_eq!(
        vex_state_of(doc(Value::Null), &lodash_finding("CVE-2021-23337", "4.17.15")),
        Some(VexState::NotAffected)
    );
}

/// In an SBOM's own `vulnerabilities`, versions listed `unaffected` that are not the
/// installed one say where the fix is (Trivy, Snyk): the component stays affected.
#[test]
fn sbom_vulnerabilities_are_not_affected_only_at_a_listed_unaffected_installed_version() {
    let sbom = |versions: Value| {
        one(json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "components": [{"bom-ref": "c1", "name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15"}],
            "vulnerabilities": [{"id": "CVE-2021-23337", "affects": [{"ref": "c1", "versions": versions}]}]}))
    };
    let fixed_elsewhere = sbom(json!([{"version": "4.17.21", "status": "unaffected"}]));
    let f = &fixed_elsewhere.findings[0];
    assert_eq!(f.vex, None, "{f:?}");
    assert_eq!(f.package.as_ref().and_then(|p| p.fixed_version.as_deref()), Some("4.17.21"));
    let installed = sbom(json!([{"range": "vers:npm/>=4.17.0|<4.17.16", "status": "unaffected"}]));
    assert_eq!(installed.findings[0].vex.as_ref().map(|v| v.state), Some(crate::model::VexState::NotAffected));
    let both =
        sbom(json!([{"version": "4.17.15", "status": "unaffected"}, {"version": "4.17.15", "status": "affected"}]));
    assert_eq!(both.findings[0].vex, None, "listed both ways: affected");
}
