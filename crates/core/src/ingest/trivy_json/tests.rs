//! Unit tests of the Trivy JSON parser.

use super::artifact::{image_from_metadata, image_from_target};
use super::model::Metadata;
use super::*;
use crate::ingest::lenient::Text;
use crate::ingest::trivy_artifact::is_remote_repository;
use crate::model::{Artifact, ImageRef, Severity};
use serde_json::json;

fn one(v: Value) -> Report {
    assert!(detect(&v), "not detected: {v}");
    let mut r = parse("t.json", &v).unwrap();
    assert_eq!(r.len(), 1);
    r.pop().unwrap()
}

#[test]
fn minimal_report_and_missing_optional_fields() {
    let r = one(json!({"SchemaVersion": 2, "ArtifactName": "nginx:1.25", "ArtifactType": "container_image",
        "Results": [{"Target": "nginx:1.25 (debian 12.1)", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2023-1", "PkgName": "zlib", "Severity": "HIGH"},
            {"VulnerabilityID": "GHSA-xxxx-yyyy-zzzz", "VendorIDs": ["CVE-2023-20002"], "PkgName": "x", "FixedVersion": ""}
        ]}, {"Target": "x", "Vulnerabilities": null}]}));
    assert_eq!(&*r.source.scanner, "Trivy");
    assert_eq!(r.scanned, vec![Artifact::Image(ImageRef::parse("nginx:1.25").unwrap())]);
    assert!(r.scanned_at.is_none());
    assert_eq!(r.findings.len(), 2);
    assert_eq!(&*r.findings[0].title, "CVE-2023-1", "title falls back to the id");
    assert_eq!(r.findings[0].severity, Severity::High);
    assert_eq!(&*r.findings[1].id, "CVE-2023-20002", "a CVE alias becomes the id");
    assert_eq!(r.findings[1].aliases, vec![Arc::<str>::from("GHSA-xxxx-yyyy-zzzz")]);
    assert_eq!(r.findings[1].package.as_ref().unwrap().fixed_version, None);
    assert!(r.components.is_none());
}

#[test]
fn wrong_field_types_name_the_field() {
    let bad_score = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
        "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "CVSS": {"nvd": {"V3Score": "high"}}}]}]});
    let e = parse("t", &bad_score).unwrap_err().to_string();
    assert!(e.starts_with("Results[0].Vulnerabilities[0].CVSS.nvd.V3Score:"), "{e}");
    let bad_list = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": {"Target": "t"}});
    let e = parse("t", &bad_list).unwrap_err().to_string();
    assert!(e.starts_with("Results:"), "{e}");
    let bad_tags = json!({"SchemaVersion": 2, "ArtifactName": "x", "Metadata": {"RepoTags": "alpine"}});
    let e = parse("t", &bad_tags).unwrap_err().to_string();
    assert!(e.starts_with("Metadata.RepoTags:"), "{e}");
    let bad_pkg = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
        "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": {"a": 1}}]}]});
    let e = parse("t", &bad_pkg).unwrap_err().to_string();
    assert!(e.starts_with("Results[0].Vulnerabilities[0].PkgName:"), "{e}");
    let no_id = json!({"SchemaVersion": 2, "Results": [{"Target": "t", "Secrets": [{"Title": "x"}]}]});
    let e = parse("t", &no_id).unwrap_err().to_string();
    assert_eq!(e, "Results[0].Secrets[0].RuleID: missing");
    let not_object = json!({"SchemaVersion": 2, "ArtifactName": "x", "Trivy": "0.50"});
    let e = parse("t", &not_object).unwrap_err().to_string();
    assert!(e.starts_with("Trivy:"), "{e}");
}

#[test]
fn numbers_where_text_is_expected_are_accepted() {
    let r = one(json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t",
        "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p", "InstalledVersion": 2, "CVSS": {"ghsa": {"V3Score": "7.5"}, "redhat": {"V3Score": 8.1}}}]}]}));
    let f = &r.findings[0];
    assert_eq!(f.package.as_ref().unwrap().installed_version.as_deref(), Some("2"));
    assert_eq!(f.cvss, Some(8.1), "no NVD score: the highest");
}

#[test]
fn detect_leaves_other_formats_alone() {
    assert!(!detect(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []})));
    assert!(!detect(&json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"})));
    assert!(!detect(&json!({"version": "2.1.0", "runs": []})));
    assert!(!detect(&json!({"apiVersion": "v1", "kind": "ConfigMap"})));
    assert!(!detect(&json!({"Target": "x"})));
    assert!(detect(&json!({"Target": "debian (debian 10.8)", "Type": "debian", "Vulnerabilities": null})));
    assert!(detect(&json!({"ClusterName": "c", "Resources": []})));
    assert!(detect(&json!({"ClusterName": "c"})));
    assert!(!detect(&json!({"ClusterName": "c", "Resources": "x"})));
    assert!(!detect(&json!({"ClusterName": "c", "other": 1})));
}

#[test]
fn image_names_from_metadata() {
    let meta = Metadata {
        repo_tags: Some(vec![Text("alpine:3.10.2".into())]),
        repo_digests: Some(vec![Text(
            "alpine@sha256:72c42ed48c3a2db31b7dafe17d275b634664a708d901ec9fd57b1529280f01fb".into(),
        )]),
        ..Metadata::default()
    };
    let img = image_from_metadata(Some("images/alpine.tar"), &meta).unwrap();
    assert_eq!(
        img.to_string(),
        "docker.io/library/alpine:3.10.2@sha256:72c42ed48c3a2db31b7dafe17d275b634664a708d901ec9fd57b1529280f01fb"
    );
    // A digest of another repository is not this image's.
    let other = image_from_metadata(Some("ghcr.io/org/app:1"), &meta).unwrap();
    assert_eq!(other.digest, None);
    assert_eq!(
        image_from_target("docker.io/redis:6.0.5 (debian 10.4)").unwrap().to_string(),
        "docker.io/library/redis:6.0.5"
    );
    assert!(image_from_target("package-lock.json").is_none());
    assert!(is_remote_repository("https://github.com/org/repo"));
    assert!(is_remote_repository("github.com/org/repo"));
    assert!(!is_remote_repository("testdata/fixtures/repo/npm"));
}

#[test]
fn package_licenses_are_cleaned_like_sboms() {
    let r = one(json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Packages": [
        {"Name": "a", "Licenses": ["MIT", "(MIT)", "NOASSERTION", "", null, "GPL-2.0"]}]}]}));
    let licenses = &r.components.as_ref().unwrap()[0].licenses;
    assert_eq!(licenses, &vec![Arc::<str>::from("MIT"), Arc::from("GPL-2.0")]);
}
