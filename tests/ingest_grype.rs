//! Grype JSON (`grype -o json`) from the real files in `../shared/fixtures/grype/` (grype's
//! own explain-test scans and JSON presenter snapshots) and `defectdojo/grype/` (0.36,
//! 0.94 with EPSS and `risk`, 0.96). Expected values are read from the files here or were
//! read from them with jq, never from Stance's output.

mod formats_support;

use std::sync::Arc;

use formats_support::{arr, cli_distinct, cli_findings, count_by, distinct_by_ids, json, one, s, severities};
use serde_json::Value;
use stance_core::model::{Artifact, Format, ImageRef, Severity};

const FILES: [&str; 8] = [
    "grype/keycloak-test.json",
    "grype/ghsa-test.json",
    "grype/TestJsonImgsPresenter.golden",
    "grype/TestJsonDirsPresenter.golden",
    "grype/TestEmptyJsonPresenter.golden",
    "defectdojo/grype/many_vulns_with_epss_values.json",
    "defectdojo/grype/issue_9618.json",
    "defectdojo/grype/same_cve_different_paths.json",
];

fn is_cve(id: &str) -> bool {
    id.to_ascii_uppercase().starts_with("CVE-")
}

/// Grype's identity rule restated on the raw file: a match is (package name, version) and
/// its ids — the vulnerability id and the related ids, except a related CVE of a match
/// that is itself a different CVE.
fn distinct_issues(doc: &Value) -> usize {
    let items: Vec<((String, String), Vec<String>)> = arr(doc, "matches")
        .iter()
        .map(|m| {
            let id = s(&m["vulnerability"], "id").to_string();
            let mut ids = vec![id.clone()];
            for r in arr(m, "relatedVulnerabilities") {
                let rid = s(r, "id");
                if !(is_cve(&id) && is_cve(rid) && !rid.eq_ignore_ascii_case(&id)) {
                    ids.push(rid.to_string());
                }
            }
            ((s(&m["artifact"], "name").to_string(), s(&m["artifact"], "version").to_string()), ids)
        })
        .collect();
    distinct_by_ids(&items)
}

#[test]
fn every_fixture_gives_as_many_findings_as_distinct_issues() {
    for rel in FILES {
        let doc = json(rel);
        let r = one(rel);
        assert_eq!(r.findings.len(), arr(&doc, "matches").len(), "{rel}: one finding per match");
        assert_eq!(cli_distinct(rel), distinct_issues(&doc), "{rel}");
    }
    // Not vacuous: these files do hold matches that are one issue.
    assert_eq!(distinct_issues(&json("grype/ghsa-test.json")), 1);
    assert_eq!(distinct_issues(&json("defectdojo/grype/same_cve_different_paths.json")), 1);
}

#[test]
fn grype_0_94_with_epss_and_nvd_cvss() {
    let rel = "defectdojo/grype/many_vulns_with_epss_values.json";
    let doc = json(rel);
    let r = one(rel);
    assert_eq!(r.source.format, Format::Grype);
    assert_eq!(&*r.source.scanner, "grype 0.94.0");
    assert_eq!(r.scanned_at, Some("2025-06-19T11:43:35.523947199Z".parse().unwrap()));
    // userInput busybox:1.32.1, digest of the repoDigests entry of the same repository.
    let busybox = ImageRef::parse(
        "docker.io/library/busybox:1.32.1@sha256:ae39a6f5c07297d7ab64dbd4f82c77c874cc6a94cea29fdec309d0992574b4f7",
    )
    .unwrap();
    assert_eq!(r.scanned, vec![Artifact::Image(busybox)]);
    // Severities as grype states them.
    let word = |w: &str| match w {
        "Critical" => Severity::Critical,
        "High" => Severity::High,
        "Medium" => Severity::Medium,
        "Low" => Severity::Low,
        other => panic!("{other}"),
    };
    let want = count_by(arr(&doc, "matches").iter().map(|m| word(s(&m["vulnerability"], "severity"))));
    assert_eq!(severities(&r.findings), want);
    let f = r.findings.iter().find(|f| &*f.id == "CVE-2022-28391").unwrap();
    assert_eq!((f.severity, f.cvss, f.epss), (Severity::High, Some(8.8), Some(0.0719)));
    let p = f.package.as_ref().unwrap();
    assert_eq!(
        (p.purl.as_deref(), &*p.name, p.installed_version.as_deref()),
        (Some("pkg:generic/busybox@1.32.1"), "busybox", Some("1.32.1"))
    );
    assert_eq!(p.fixed_version, None);
    assert_eq!(f.location.as_deref(), Some("/bin/["));
    assert_eq!(f.primary_url.as_deref(), Some("https://nvd.nist.gov/vuln/detail/CVE-2022-28391"));
    let fixed = r.findings.iter().find(|f| &*f.id == "CVE-2021-42376").unwrap();
    assert_eq!(fixed.package.as_ref().unwrap().fixed_version.as_deref(), Some("1.34.0"));
    // Only CNA-sourced v3.1 score: 2.5.
    assert_eq!(r.findings.iter().find(|f| &*f.id == "CVE-2024-58251").unwrap().cvss, Some(2.5));
}

#[test]
fn grype_0_66_keycloak_distro_matches_with_nvd_related_records() {
    let r = one("grype/keycloak-test.json");
    assert_eq!(&*r.source.scanner, "grype 0.66.0");
    let img = ImageRef::parse(
        "docker.io/keycloak/keycloak:21.0.2@sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50",
    )
    .unwrap();
    assert_eq!(r.scanned, vec![Artifact::Image(img)]);
    let pkgs: Vec<&str> = r.findings.iter().map(|f| &*f.package.as_ref().unwrap().name).collect();
    assert_eq!(pkgs, ["nspr", "nss", "nss-softokn", "nss-softokn-freebl", "nss-sysinit", "nss-util"]);
    for f in &r.findings {
        assert_eq!((&*f.id, f.severity, f.cvss), ("CVE-2020-12413", Severity::Low, Some(5.9)));
        assert!(f.aliases.is_empty(), "the related record is the same CVE");
        assert_eq!(f.package.as_ref().unwrap().fixed_version, None, "state wont-fix");
        assert_eq!(f.location.as_deref(), Some("/var/lib/rpm/rpmdb.sqlite"));
    }
    assert_eq!(
        r.findings[0].package.as_ref().unwrap().purl.as_deref(),
        Some("pkg:rpm/rhel/nspr@4.34.0-17.el9_1?arch=x86_64&upstream=nss-3.79.0-17.el9_1.src.rpm&distro=rhel-9.1")
    );
}

#[test]
fn a_ghsa_match_and_its_nvd_cve_match_are_one_finding() {
    let rel = "grype/ghsa-test.json";
    let r = one(rel);
    assert_eq!(&*r.findings[0].id, "CVE-2014-3577", "the related CVE becomes the id");
    assert_eq!(r.findings[0].aliases, vec![Arc::<str>::from("GHSA-cfh5-3ghh-wfjx")]);
    let lines = cli_findings(&[rel]);
    assert_eq!(lines.len(), 1);
    let f = &lines[0];
    assert_eq!(f["ruleId"], "CVE-2014-3577");
    assert_eq!(f["aliases"], serde_json::json!(["GHSA-cfh5-3ghh-wfjx"]));
    assert_eq!(f["package"]["name"], "org.apache.httpcomponents:httpclient");
    assert_eq!(f["package"]["fixedVersion"], "4.3.5");
    assert_eq!(f["severity"], "MEDIUM");
    assert_eq!(f["sources"].as_array().unwrap().len(), 1, "one document, one source");
}

#[test]
fn grype_0_96_rpm_epochs_and_misrelated_cves() {
    let r = one("defectdojo/grype/issue_9618.json");
    assert_eq!(&*r.source.scanner, "grype 0.96.0");
    let Artifact::Image(img) = &r.scanned[0] else { panic!() };
    assert_eq!(
        img.to_string(),
        "quay.io/cloudservices/xjoin-kafka-connect-strimzi:latest@sha256:97e6d5aeed19f627205b218f45b284cd01ff658dd181416ab1d3e21aeb28d68e"
    );
    let bind = r
        .findings
        .iter()
        .find(|f| &*f.id == "CVE-2023-3341" && &*f.package.as_ref().unwrap().name == "bind-libs")
        .unwrap();
    let p = bind.package.as_ref().unwrap();
    assert_eq!(p.installed_version.as_deref(), Some("32:9.11.36-5.el8_7.2"));
    assert_eq!(p.fixed_version.as_deref(), Some("32:9.11.36-8.el8_8.2"));
    // CVE-2023-37920 names CVE-2023-50387 as related: not an alias (two CVEs).
    let f = r.findings.iter().find(|f| &*f.id == "CVE-2023-37920").unwrap();
    assert!(f.aliases.is_empty());
    // No severity in the record: unknown, never dropped.
    let cc = r.findings.iter().find(|f| &*f.id == "CVE-2024-26308").unwrap();
    assert_eq!((cc.severity, cc.cvss), (Severity::Unknown, None));
    assert_eq!(cc.aliases, vec![Arc::<str>::from("GHSA-4265-ccf5-phj5")]);
    // Two avro versions at two paths are two findings.
    let avro = r.findings.iter().filter(|f| &*f.id == "CVE-2023-39410").count();
    assert_eq!(avro, 2);
}

#[test]
fn presenter_snapshots_image_directory_and_empty() {
    let img = one("grype/TestJsonImgsPresenter.golden");
    assert_eq!(&*img.source.scanner, "grype", "version [not provided] is not a version");
    assert!(matches!(&img.scanned[0], Artifact::Image(i) if i.repository.ends_with("user-input")));
    let (a, b) = (&img.findings[0], &img.findings[1]);
    assert_eq!((&*a.id, a.severity, a.cvss, a.epss), ("CVE-1999-0001", Severity::Low, Some(8.2), Some(0.03)));
    let pa = a.package.as_ref().unwrap();
    assert_eq!((pa.purl.as_deref(), &*pa.name), (None, "package-1"), "an empty purl is no purl");
    assert_eq!(pa.fixed_version.as_deref(), Some("1.2.1, 2.1.3, 3.4.0"));
    assert_eq!((&*b.id, b.severity), ("CVE-1999-0002", Severity::Critical));
    assert_eq!(b.package.as_ref().unwrap().purl.as_deref(), Some("pkg:deb/package-2@2.2.2"));
    assert_eq!(b.location.as_deref(), Some("/foo/bar/somefile-2.txt"));

    let dir = one("grype/TestJsonDirsPresenter.golden");
    assert_eq!(dir.scanned, vec![Artifact::Other(Arc::from("/some/path"))]);
    assert_eq!(dir.findings.len(), 2);

    let empty = one("grype/TestEmptyJsonPresenter.golden");
    assert!(empty.findings.is_empty());
    assert_eq!(empty.scanned.len(), 1, "an empty scan is still scan evidence");
}
