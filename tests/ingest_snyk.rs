//! Snyk CLI JSON from DefectDojo's parser tests (`defectdojo/snyk/`): `snyk test` of one
//! Maven project (1 and 41 issues), `snyk test --all-projects` (an array of 7 projects),
//! and `snyk container test` of an image with an npm application inside. Expected values
//! are read from the files here or were read with jq. Also: Snyk Code's SARIF, in the
//! shape Snyk documents, is read by the SARIF parser.

mod formats_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use formats_support::{arr, cli_distinct, count_by, distinct_by_ids, json, one, reports, s, severities};
use serde_json::{Value, json as j};
use stance_core::ingest::sarif;
use stance_core::model::{Artifact, FindingKind, Format, ImageRef, Severity};

const FILES: [&str; 4] = [
    "defectdojo/snyk/single_project_one_vuln.json",
    "defectdojo/snyk/single_project_many_vulns.json",
    "defectdojo/snyk/all_containers_target_output.json",
    "defectdojo/snyk/snykcontainer_issue_9270.json",
];

fn projects(doc: &Value) -> Vec<&Value> {
    match doc {
        Value::Array(list) => list.iter().collect(),
        one => vec![one],
    }
}

/// Every issue of a project and of its applications.
fn issues(project: &Value) -> Vec<&Value> {
    let mut all: Vec<&Value> = arr(project, "vulnerabilities").iter().collect();
    for app in arr(project, "applications") {
        all.extend(arr(app, "vulnerabilities"));
    }
    all
}

/// Snyk's identity rule on the raw file: per project, (package name, version) and the
/// issue's ids (Snyk id, CVEs, GHSAs).
fn distinct_issues(doc: &Value) -> usize {
    let mut items = Vec::new();
    for (p, project) in projects(doc).into_iter().enumerate() {
        for v in issues(project) {
            let mut ids = vec![s(v, "id").to_string()];
            for list in ["CVE", "GHSA"] {
                ids.extend(arr(&v["identifiers"], list).iter().filter_map(Value::as_str).map(str::to_string));
            }
            items.push(((p, s(v, "name").to_string(), s(v, "version").to_string()), ids));
        }
    }
    distinct_by_ids(&items)
}

#[test]
fn every_fixture_gives_as_many_findings_as_distinct_issues() {
    for rel in FILES {
        let doc = json(rel);
        let rs = reports(rel);
        assert_eq!(rs.len(), projects(&doc).len(), "{rel}: one report per project");
        let total: usize = rs.iter().map(|r| r.findings.len()).sum();
        assert_eq!(total, projects(&doc).iter().map(|p| issues(p).len()).sum::<usize>(), "{rel}");
        let distinct = distinct_issues(&doc);
        assert_eq!(cli_distinct(rel), distinct, "{rel}");
        // Snyk's own count (`uniqueCount`) is of distinct issue ids; a container issue of a
        // source package hits several binary packages (`gcc-10/libgcc-s1`,
        // `gcc-10/libstdc++6`), which are distinct findings, as Trivy reports them.
        for project in projects(&doc) {
            let mut subs = vec![project];
            subs.extend(arr(project, "applications"));
            for sub in subs {
                let ids: BTreeSet<&str> = arr(sub, "vulnerabilities").iter().map(|v| s(v, "id")).collect();
                assert_eq!(ids.len() as u64, sub["uniqueCount"].as_u64().unwrap(), "{rel}");
            }
        }
    }
}

#[test]
fn snyk_test_single_maven_project() {
    let r = one("defectdojo/snyk/single_project_one_vuln.json");
    assert_eq!((r.source.format, &*r.source.scanner), (Format::Snyk, "Snyk"));
    // `path` C:\workspace, manifest pom.xml at its root.
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("C:/workspace"))]);
    let f = &r.findings[0];
    assert_eq!(&*f.id, "CVE-2019-12400");
    assert_eq!(f.aliases, vec![Arc::<str>::from("SNYK-JAVA-ORGAPACHESANTUARIO-460281")]);
    assert_eq!((f.kind, f.severity, f.cvss), (FindingKind::Vulnerability, Severity::Medium, Some(6.5)));
    assert_eq!(&*f.title, "XML External Entity (XXE) Injection");
    let p = f.package.as_ref().unwrap();
    assert_eq!(
        (&*p.name, p.installed_version.as_deref(), p.fixed_version.as_deref()),
        ("org.apache.santuario:xmlsec", Some("2.1.1"), Some("2.1.4"))
    );
    assert_eq!(f.location.as_deref(), Some("pom.xml"));
    assert_eq!(f.published, Some("2019-08-25T13:53:19Z".parse().unwrap()));

    let rel = "defectdojo/snyk/single_project_many_vulns.json";
    let doc = json(rel);
    let r = one(rel);
    let word = |w: &str| match w {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        other => panic!("{other}"),
    };
    assert_eq!(severities(&r.findings), count_by(arr(&doc, "vulnerabilities").iter().map(|v| word(s(v, "severity")))));
}

#[test]
fn snyk_all_projects_array_is_one_report_per_project() {
    let rs = reports("defectdojo/snyk/all_containers_target_output.json");
    let dirs: Vec<String> = rs.iter().map(|r| r.scanned[0].to_string()).collect();
    assert_eq!(
        dirs,
        [
            "other:/mnt/c/Projects/cyberspect/Mobile-Security-Framework-MobSF",
            "other:/mnt/c/Projects/cyberspect/frontend",
            "other:/mnt/c/Projects/cyberspect/sbom/Lambda/obj",
            "other:/mnt/c/Projects/cyberspect/sbom/LicenseCacheBuilder/obj",
            "other:/mnt/c/Projects/cyberspect/sbom/SBOM/obj",
            "other:/mnt/c/Projects/cyberspect/sbom/SBOMTests/TestFiles",
            "other:/mnt/c/Projects/cyberspect/sbom/SBOMTests/obj",
        ]
    );
    assert_eq!(rs.iter().map(|r| r.findings.len()).collect::<Vec<_>>(), [9, 6, 0, 0, 0, 0, 25]);
    // One issue on several dependency paths is several statements, one finding (9 → 6).
    let ids: BTreeSet<&str> = rs[0].findings.iter().map(|f| &*f.id).collect();
    assert_eq!(ids.len(), 6);
}

#[test]
fn snyk_container_image_with_epss_and_an_application() {
    let r = one("defectdojo/snyk/snykcontainer_issue_9270.json");
    let img = ImageRef::parse("sarim04/juiceshop:latest").unwrap();
    assert_eq!(r.scanned, vec![Artifact::Image(img.clone())]);
    assert_eq!(r.findings.len(), 25 + 12, "25 OS issues, 12 in the npm application");
    let gcc = r.findings.iter().find(|f| f.aliases.iter().any(|a| &**a == "SNYK-DEBIAN11-GCC10-5901313")).unwrap();
    assert_eq!(&*gcc.id, "CVE-2023-4039");
    assert_eq!((gcc.severity, gcc.cvss, gcc.epss), (Severity::Low, Some(4.8), Some(0.00046)));
    let p = gcc.package.as_ref().unwrap();
    assert_eq!((&*p.name, p.installed_version.as_deref()), ("gcc-10/libgcc-s1", Some("10.2.1-6")));
    let jwt = r.findings.iter().find(|f| &*f.id == "CVE-2020-15084").unwrap();
    assert_eq!((jwt.severity, jwt.cvss, jwt.epss), (Severity::High, Some(7.4), Some(0.00197)));
    assert!(jwt.aliases.iter().any(|a| &**a == "GHSA-6g6m-m6h5-w9gf"));
    assert_eq!(jwt.location.as_deref(), Some("/juice-shop/package.json"));
    assert!(r.findings.iter().all(|f| *f.artifact == Artifact::Image(img.clone())));
}

/// `snyk code test --sarif` as Snyk documents it (driver `SnykCode`, rules with
/// `defaultConfiguration.level`, results with `fingerprints` and `priorityScore`): read by
/// the SARIF parser as SAST findings. Written here from Snyk's documented output; no real
/// Snyk Code SARIF file is among the fixtures.
#[test]
fn snyk_code_sarif_is_read_by_the_sarif_parser() {
    let log = j!({
      "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
      "version": "2.1.0",
      "runs": [{
        "tool": {"driver": {"name": "SnykCode", "semanticVersion": "1.0.0", "version": "1.0.0", "rules": [
          {"id": "java/Sqli", "name": "Sqli", "shortDescription": {"text": "SQL Injection"},
           "defaultConfiguration": {"level": "error"}, "properties": {"tags": ["java"], "categories": ["Security"], "cwe": ["CWE-89"]}}]}},
        "results": [{
          "ruleId": "java/Sqli", "ruleIndex": 0, "level": "error",
          "message": {"text": "Unsanitized input from the request URL flows into createQuery, where it is used in an SQL query."},
          "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/main/java/pas/au/snyk/se/dao/AccountRestController.java", "uriBaseId": "%SRCROOT%"},
                          "region": {"startLine": 25, "endLine": 25, "startColumn": 32, "endColumn": 43}}}],
          "fingerprints": {"0": "6a1cbf6c9e7b3a9d", "1": "e0c5c3a1.4f3e2b7c"},
          "properties": {"priorityScore": 770}
        }],
        "properties": {"coverage": [{"files": 17, "isSupported": true, "lang": "Java"}]}
      }]
    });
    assert!(sarif::detect(&log));
    let r = sarif::parse("snyk-code.sarif", &log).unwrap().remove(0);
    assert_eq!(&*r.source.scanner, "SnykCode 1.0.0");
    let f = &r.findings[0];
    assert_eq!((f.kind, &*f.id, f.severity), (FindingKind::Sast, "java/Sqli", Severity::High));
    assert_eq!(f.location.as_deref(), Some("src/main/java/pas/au/snyk/se/dao/AccountRestController.java:25"));
    assert_eq!(f.fingerprint.as_deref(), Some("6a1cbf6c9e7b3a9d"));
}
