//! Unit tests of the Trivy Operator parser.

use super::*;
use serde_json::json;

fn vuln_cr(report: Value) -> Value {
    json!({
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {"name": "r", "namespace": "shop",
            "labels": {"trivy-operator.resource.kind": "Deployment", "trivy-operator.resource.name": "web",
                       "trivy-operator.container.name": "app"}},
        "report": report,
    })
}

#[test]
fn detect_needs_group_and_report_kind() {
    assert!(detect(&vuln_cr(json!({}))));
    assert!(!detect(&json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "Foo"})));
    assert!(!detect(&json!({"apiVersion": "example.com/v1", "kind": "VulnerabilityReport"})));
    assert!(!detect(&json!({"kind": "VulnerabilityReport"})));
}

#[test]
fn missing_optional_fields_are_fine() {
    let v = vuln_cr(json!({"artifact": {"repository": "acme/web"},
        "vulnerabilities": [{"vulnerabilityID": "CVE-2024-1", "resource": "openssl", "fixedVersion": ""}]}));
    let r = parse("t", &v).unwrap().pop().unwrap();
    assert_eq!(&*r.source.scanner, "Trivy");
    assert_eq!(r.source.workload.as_ref().unwrap().to_string(), "Deployment/shop/web");
    assert_eq!(r.source.container.as_deref(), Some("app"));
    assert_eq!(r.scanned[0].to_string(), "image:docker.io/acme/web");
    assert!(r.scanned_at.is_none());
    let f = &r.findings[0];
    assert_eq!((&*f.title, f.severity, f.cvss), ("CVE-2024-1", Severity::Unknown, None));
    assert_eq!(f.package.as_ref().unwrap().fixed_version, None);
    assert_eq!(f.location, None);
}

#[test]
fn wrong_field_types_name_the_field() {
    let e = parse(
        "t",
        &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": [
        {"vulnerabilityID": "CVE-1", "score": "high"}]})),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("report.vulnerabilities[0].score:"), "{e}");
    let e = parse("t", &vuln_cr(json!({"artifact": {"repository": ["a"]}}))).unwrap_err().to_string();
    assert!(e.starts_with("report.artifact.repository:"), "{e}");
    let e = parse(
        "t",
        &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": [
        {"vulnerabilityID": "CVE-1", "cvss": {"nvd": {"V3Score": [9]}}}]})),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("report.vulnerabilities[0].cvss.nvd.V3Score:"), "{e}");
    let e = parse("t", &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": {"x": 1}})))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("report.vulnerabilities:"), "{e}");
    let e = parse("t", &vuln_cr(json!({"vulnerabilities": []}))).unwrap_err().to_string();
    assert_eq!(e, "report.artifact.repository: missing");
    let e = parse("t", &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": [{"resource": "x"}]})))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "report.vulnerabilities[0].vulnerabilityID: missing");
    let mut no_report = vuln_cr(json!(null));
    assert_eq!(parse("t", &no_report).unwrap_err().to_string(), "report: missing");
    no_report["metadata"] = json!({"labels": ["a"]});
    no_report["report"] = json!({});
    assert!(parse("t", &no_report).unwrap_err().to_string().starts_with("metadata.labels:"));
    let checks = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport",
        "metadata": {"name": "x"}, "report": {"checks": [{"checkID": "KSV001", "success": "no"}]}});
    assert!(parse("t", &checks).unwrap_err().to_string().starts_with("report.checks[0].success:"));
}

#[test]
fn hashed_name_label_uses_the_annotation() {
    let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ClusterRbacAssessmentReport",
        "metadata": {"name": "clusterrole-6f69bb5b79",
            "labels": {"trivy-operator.resource.kind": "ClusterRole",
                       "trivy-operator.resource.name-hash": "6f69bb5b79",
                       "trivy-operator.resource.namespace": ""},
            "annotations": {"trivy-operator.resource.name": "system:controller:node-controller"}},
        "report": {"checks": [
            {"checkID": "KSV046", "id": "old", "severity": "CRITICAL", "success": false,
             "scope": {"type": "Resource", "value": "nodes"}},
            {"checkID": "KSV047", "severity": "HIGH", "success": true}]}});
    let r = parse("t", &v).unwrap().pop().unwrap();
    let object = ObjectRef::new("ClusterRole", None, "system:controller:node-controller");
    assert_eq!(r.scanned, vec![Artifact::Object(object.clone())]);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(&*r.findings[0].id, "KSV046");
    assert_eq!(r.findings[0].location.as_deref(), Some("Resource nodes"));
    assert_eq!(r.source.workload, Some(object));
}

#[test]
fn compliance_reports_are_not_findings() {
    let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ClusterComplianceReport",
        "metadata": {"name": "cis"}, "spec": {}, "status": {}});
    assert!(detect(&v));
    assert!(parse("t", &v).unwrap().is_empty());
}

#[test]
fn nested_bom_components_flatten() {
    let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
        "metadata": {"name": "s", "namespace": "ns", "ownerReferences": [
            {"kind": "ReplicaSet", "name": "web-1", "controller": true}]},
        "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": {"bomFormat": "CycloneDX",
            "metadata": {"component": {"name": "ghcr.io/org/app:1", "properties": [
                {"name": "aquasecurity:trivy:RepoDigest",
                 "value": "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}},
            "components": [
                {"name": "jar", "components": [
                    {"group": "org.yaml", "name": "snakeyaml", "version": "1.33",
                     "purl": "pkg:maven/org.yaml/snakeyaml@1.33", "licenses": [{"expression": "Apache-2.0"}]}]},
                {"name": "core", "group": "@babel", "purl": "pkg:npm/%40babel/core@7.0.0",
                 "licenses": [{"license": {"id": "MIT"}}, {"license": {"name": "custom"}}]}]}}});
    let r = parse("t", &v).unwrap().pop().unwrap();
    let names: Vec<_> = r.components.as_ref().unwrap().iter().map(|c| c.name.to_string()).collect();
    assert_eq!(names, ["jar", "org.yaml:snakeyaml", "@babel/core"]);
    assert_eq!(r.components.as_ref().unwrap()[2].licenses, vec![Arc::<str>::from("MIT"), Arc::from("custom")]);
    assert_eq!(r.components.as_ref().unwrap()[1].licenses, vec![Arc::<str>::from("Apache-2.0")]);
    // No registry in the CR: the BOM's RepoDigest of the same repository supplies it.
    assert_eq!(
        r.scanned[0].to_string(),
        "image:ghcr.io/org/app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(r.source.workload.as_ref().unwrap().to_string(), "ReplicaSet/ns/web-1");
}

#[test]
fn bom_licenses_and_names_are_cleaned_like_cyclonedx() {
    let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
        "metadata": {"name": "s", "namespace": "ns"},
        "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": {"bomFormat": "CycloneDX",
            "components": [
                {"name": "musl", "group": "alpine", "purl": "pkg:apk/alpine/musl@1.2.4-r2",
                 "licenses": [{"license": {"id": "NOASSERTION"}}, {"expression": "(MIT)"}, {"license": {"name": "MIT"}},
                              {"expression": "NONE"}]},
                {"name": "swift-nio", "group": "github.com/apple", "purl": "pkg:swift/github.com/apple/swift-nio@2.0.0"}]}}});
    let r = parse("t", &v).unwrap().pop().unwrap();
    let components = r.components.as_ref().unwrap();
    let names: Vec<&str> = components.iter().map(|c| &*c.name).collect();
    // The distribution is not part of an OS package's name; other groups are.
    assert_eq!(names, ["musl", "github.com/apple/swift-nio"]);
    // NOASSERTION / NONE dropped, `(MIT)` unwrapped, the duplicate once.
    assert_eq!(components[0].licenses, vec![Arc::<str>::from("MIT")]);
}
