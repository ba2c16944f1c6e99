//! Semgrep JSON, Gitleaks 8 JSON and Checkov JSON (two check types in one array) from
//! DefectDojo's parser tests. Expected values are read from the files here or were read
//! with jq.

mod formats_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use formats_support::{arr, cli_distinct, count_by, json, one, reports, s, severities};
use stance_core::model::{Artifact, FindingKind, Format, Severity};

#[test]
fn semgrep_fixtures_give_as_many_findings_as_distinct_issues() {
    for rel in [
        "defectdojo/semgrep/one_finding.json",
        "defectdojo/semgrep/many_findings.json",
        "defectdojo/semgrep/many_vulns.json",
    ] {
        let doc = json(rel);
        // Semgrep's identity on the raw file: rule × path × start line (no fingerprints here).
        let distinct: BTreeSet<(&str, &str, u64)> = arr(&doc, "results")
            .iter()
            .map(|r| (s(r, "check_id"), s(r, "path"), r["start"]["line"].as_u64().unwrap()))
            .collect();
        assert_eq!(one(rel).findings.len(), arr(&doc, "results").len(), "{rel}");
        assert_eq!(cli_distinct(rel), distinct.len(), "{rel}");
    }
}

#[test]
fn semgrep_values() {
    let r = one("defectdojo/semgrep/one_finding.json");
    assert_eq!((r.source.format, &*r.source.scanner), (Format::Semgrep, "Semgrep"));
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("defectdojo/semgrep/one_finding.json"))]);
    let f = &r.findings[0];
    assert_eq!((f.kind, &*f.id), (FindingKind::Sast, "java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle"));
    assert_eq!(f.severity, Severity::Medium, "WARNING");
    assert_eq!(f.location.as_deref(), Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java:64"));
    assert_eq!(&*f.title, "Using CBC with PKCS5Padding is susceptible to padding orcale attacks. A malicious actor");
    assert_eq!(f.primary_url.as_deref(), Some("https://capec.mitre.org/data/definitions/463.html"));
    assert!(!format!("{f:?}").contains("DES/CBC/PKCS5Padding"), "the matched code is not copied");

    let rel = "defectdojo/semgrep/many_vulns.json";
    let doc = json(rel);
    let word = |w: &str| match w {
        "ERROR" => Severity::High,
        "WARNING" => Severity::Medium,
        "INFO" => Severity::Low,
        other => panic!("{other}"),
    };
    let r = one(rel);
    assert_eq!(
        severities(&r.findings),
        count_by(arr(&doc, "results").iter().map(|x| word(s(&x["extra"], "severity"))))
    );
    assert_eq!(severities(&r.findings)[&Severity::High], 13);
    assert!(r.findings.iter().all(|f| !f.suppressed()), "is_ignored is false throughout");
}

#[test]
fn gitleaks_secrets_one_per_commit_and_never_the_secret() {
    let rel = "defectdojo/gitleaks/gitleaks8_many.json";
    let doc = json(rel);
    let leaks = doc.as_array().unwrap();
    let rs = reports(rel);
    assert_eq!(rs.len(), leaks.len());
    // gitleaks' own fingerprint formula on the raw file: commit:file:rule:line.
    let distinct: BTreeSet<String> = leaks
        .iter()
        .map(|l| format!("{}:{}:{}:{}", s(l, "Commit"), s(l, "File"), s(l, "RuleID"), l["StartLine"]))
        .collect();
    assert_eq!(distinct.len(), 4, "the two AWS keys are in two commits");
    assert_eq!(cli_distinct(rel), distinct.len());
    let f = &rs[0].findings[0];
    assert_eq!(
        (rs[0].source.format, f.kind, &*f.id, &*f.title),
        (Format::Gitleaks, FindingKind::Secret, "aws-access-token", "AWS")
    );
    assert_eq!((f.location.as_deref(), f.severity), (Some("/conf/aws.tf:2"), Severity::Medium));
    assert_eq!(
        f.fingerprint.as_deref(),
        Some("74d53286c550630f80847d37f68aa3065554ac813544072ccd1278da71fafe31:/conf/aws.tf:aws-access-token:2")
    );
    // Every element is about the file, not the array element.
    assert!(rs.iter().all(|r| r.scanned == vec![Artifact::Other(Arc::from(rel))]));
    let dump = format!("{rs:?}");
    for l in leaks {
        assert!(!dump.contains(s(l, "Secret")), "{}", s(l, "Secret"));
    }
    assert!(!dump.contains("first.last@gmail.com"));
    // No commit: the fingerprint is file:rule:line.
    assert_eq!(rs[2].findings[0].fingerprint.as_deref(), Some("conf/rsa.pk:RSA-PK:57"));
}

#[test]
fn checkov_two_check_types_in_one_array() {
    let rel = "defectdojo/checkov/checkov-report-multiple-check_type.json";
    let doc = json(rel);
    let rs = reports(rel);
    assert_eq!(rs.len(), 2);
    for (r, d) in rs.iter().zip(doc.as_array().unwrap()) {
        assert_eq!(&*r.source.scanner, "Checkov 2.0.209");
        let failed = arr(&d["results"], "failed_checks");
        assert_eq!(r.findings.len(), failed.len(), "{}", s(d, "check_type"));
        // Every evaluated resource (passed or failed) is scan evidence.
        let resources: BTreeSet<String> = ["passed_checks", "failed_checks"]
            .iter()
            .flat_map(|k| arr(&d["results"], k))
            .map(|c| format!("other:{}:{}", s(c, "repo_file_path"), s(c, "resource")))
            .collect();
        let scanned: BTreeSet<String> = r.scanned.iter().map(ToString::to_string).collect();
        assert_eq!(scanned, resources);
    }
    // Identity on the raw file: check × file × resource.
    let distinct: BTreeSet<(&str, &str, &str)> = doc
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| arr(&d["results"], "failed_checks"))
        .map(|c| (s(c, "check_id"), s(c, "repo_file_path"), s(c, "resource")))
        .collect();
    assert_eq!(cli_distinct(rel), distinct.len());
    assert_eq!(distinct.len(), 13);

    let f = &rs[0].findings[0];
    assert_eq!((f.kind, &*f.id, f.severity), (FindingKind::Misconfiguration, "CKV_AWS_161", Severity::Unknown));
    assert_eq!(*f.artifact, Artifact::Other(Arc::from("/infra/terraform/aws/db-app.tf:aws_db_instance.default")));
    assert_eq!(f.location.as_deref(), Some("/aws/db-app.tf:1"));
    assert_eq!(&*f.title, "Ensure RDS database has IAM authentication enabled");
    // The same check on two resources is two findings (CKV_AWS_79 and CKV_AWS_8 on db_app).
    let on_db_app = rs[0].findings.iter().filter(|f| f.artifact.to_string().ends_with("aws_instance.db_app")).count();
    assert_eq!(on_db_app, 5);
    let docker = &rs[1].findings[0];
    assert_eq!((&*docker.id, docker.location.as_deref()), ("CKV_DOCKER_3", Some("/aws/resources/Dockerfile")));
    assert_eq!(
        docker.primary_url.as_deref(),
        Some("https://docs.bridgecrew.io/docs/ensure-that-a-user-for-the-container-has-been-created")
    );
}
