//! SARIF, ZAP JSON and PolicyReport / OpenReports parsing against real third-party files
//! (`../shared/fixtures`). Every expected value below was read from the fixture itself.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{fixture_bytes, parse_fixture, reports};
use stance::ingest::Parsed;
use stance_core::model::{Artifact, Finding, FindingKind, Format, ImageRef, ObjectRef, Report, Severity, VexState};

fn single(rel: &str) -> Report {
    let mut r = reports(rel);
    assert_eq!(r.len(), 1, "{rel}: expected one report");
    r.remove(0)
}

fn severities(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.severity).or_default() += 1;
    }
    m
}

fn sev(pairs: &[(Severity, usize)]) -> BTreeMap<Severity, usize> {
    pairs.iter().copied().collect()
}

fn ids(findings: &[Finding]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(&*f.id).or_default() += 1;
    }
    m
}

fn find<'a>(r: &'a Report, id: &str) -> &'a Finding {
    r.findings.iter().find(|f| &*f.id == id).unwrap_or_else(|| panic!("no finding {id}"))
}

fn other(origin: &str) -> Artifact {
    Artifact::Other(Arc::from(origin))
}

fn pod(ns: Option<&str>, name: &str) -> Artifact {
    Artifact::Object(ObjectRef::new("Pod", ns, name))
}

use Severity::{Critical, High, Info, Low, Medium, Unknown};

// ------------------------------------------------------------------------------------------
// SARIF
// ------------------------------------------------------------------------------------------

/// A fixture, its number of findings and their severity spread.
type SarifCase = (&'static str, usize, &'static [(Severity, usize)]);

/// Every SARIF fixture parses without warnings into one report per run, with the number of
/// results (minus KICS's one `kind: pass` result) and the severity spread the file implies.
#[test]
fn sarif_every_real_file_parses_with_expected_counts_and_severities() {
    let cases: &[SarifCase] = &[
        ("trivy/alpine-310.sarif.golden", 4, &[(Medium, 4)]),
        ("defectdojo/sarif/codeQL-output.sarif", 72, &[(High, 11), (Medium, 4), (Low, 57)]),
        ("defectdojo/sarif/gitleaks_7.5.0.sarif", 8, &[(Medium, 8)]),
        ("defectdojo/sarif/semgrepowasp-benchmark-sample.sarif", 1768, &[(Medium, 1768)]),
        ("defectdojo/sarif/spotbugs.sarif", 56, &[(Low, 56)]),
        ("secobserve/sarif/bandit.sarif", 2, &[(Medium, 2)]),
        ("secobserve/sarif/checkov.sarif", 4, &[(High, 4)]),
        ("secobserve/sarif/dependency-check.sarif", 3, &[(Critical, 1), (High, 1), (Medium, 1)]),
        ("secobserve/sarif/eslint.sarif", 10, &[(Medium, 10)]),
        ("secobserve/sarif/kics.sarif", 2, &[(High, 2)]),
        ("secobserve/sarif/semgrep.sarif", 4, &[(Medium, 4)]),
        ("secobserve/sarif/trivy_config.sarif", 1, &[(Medium, 1)]),
        ("sarif-sdk/Pylint-01.json.sarif", 72, &[(Medium, 72)]),
        ("sarif-sdk/ValidResults.sarif", 166, &[(High, 43), (Medium, 32), (Low, 91)]),
        ("sarif-sdk/WebGoat.xml.sarif", 30, &[(High, 11), (Medium, 12), (Low, 7)]),
        ("sarif-sdk/bannedAPIs_java.xml.sarif", 33, &[(High, 33)]),
        ("sarif-sdk/results.csv.sarif", 80, &[(High, 2), (Medium, 27), (Low, 51)]),
    ];
    for (rel, count, spread) in cases {
        let r = single(rel);
        assert_eq!(r.source.format, Format::Sarif, "{rel}");
        assert_eq!(r.findings.len(), *count, "{rel}");
        assert_eq!(severities(&r.findings), sev(spread), "{rel}");
        assert_eq!(r.scanned.len(), 1, "{rel}");
        assert!(r.subject.is_none(), "{rel}");
        assert!(r.findings.iter().all(|f| *f.artifact == r.scanned[0] && !f.title.is_empty()), "{rel}");
    }
}

#[test]
fn sarif_trivy_image_scan_gives_packages_and_the_image() {
    let r = single("trivy/alpine-310.sarif.golden");
    assert_eq!(&*r.source.scanner, "Trivy dev");
    // `imageName` is the archive path; the image comes from `repoTags`.
    let image = ImageRef::parse("ghcr.io/aquasecurity/trivy-test-images:alpine-310").unwrap();
    assert_eq!(r.scanned, vec![Artifact::Image(image)]);
    assert_eq!(ids(&r.findings), BTreeMap::from([("CVE-2019-1549", 2), ("CVE-2019-1551", 2)]));
    let f = &r.findings[0];
    assert_eq!(f.kind, FindingKind::Vulnerability);
    assert_eq!(&*f.title, "openssl: information disclosure in fork()");
    assert_eq!(f.severity, Medium);
    assert_eq!(f.cvss, Some(5.3)); // rule properties "security-severity": "5.3"
    assert_eq!(f.primary_url.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2019-1549"));
    assert_eq!(f.location.as_deref(), Some("testdata/fixtures/images/alpine-310.tar.gz:1"));
    let p = f.package.as_ref().unwrap();
    assert_eq!(
        (&*p.name, p.installed_version.as_deref(), p.fixed_version.as_deref()),
        ("libcrypto1.1", Some("1.1.1c-r0"), Some("1.1.1d-r0"))
    );
    let p = r.findings[3].package.as_ref().unwrap();
    assert_eq!((&*p.name, p.fixed_version.as_deref()), ("libssl1.1", Some("1.1.1d-r2")));
    assert!(r.findings.iter().all(|f| f.fingerprint.is_none() && f.kind == FindingKind::Vulnerability));
}

#[test]
fn sarif_codeql_rules_by_index_fingerprints_and_problem_severity() {
    let rel = "defectdojo/sarif/codeQL-output.sarif";
    let r = single(rel);
    assert_eq!(&*r.source.scanner, "CodeQL 2.5.4");
    assert_eq!(r.scanned, vec![other(rel)]);
    assert!(r.scanned_at.is_none());
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Sast && f.fingerprint.is_some()));
    assert_eq!(ids(&r.findings)["py/unused-import"], 40);
    let f = &r.findings[0];
    assert_eq!(&*f.id, "py/empty-except");
    assert_eq!(&*f.title, "Empty except");
    assert_eq!(f.severity, Low); // problem.severity "recommendation", defaultConfiguration "note"
    assert_eq!(f.location.as_deref(), Some("good/db_init.py:39"));
    assert_eq!(f.fingerprint.as_deref(), Some("9cbc869fbfffeb60:1")); // primaryLocationLineHash
    let sqli = find(&r, "py/sql-injection");
    assert_eq!((&*sqli.title, sqli.severity), ("SQL query built from user-controlled sources", High));
    assert_eq!(sqli.location.as_deref(), Some("bad/libuser.py:12"));
    assert_eq!(ids(&r.findings)["py/flask-debug"], 4);
}

#[test]
fn sarif_semgrep_owasp_benchmark_1768_results() {
    let r = single("defectdojo/sarif/semgrepowasp-benchmark-sample.sarif");
    assert_eq!(&*r.source.scanner, "semgrep 0.17.0");
    let by_rule = ids(&r.findings);
    assert_eq!(by_rule.len(), 7);
    assert_eq!(by_rule["java.lang.security.audit.cookie-missing-httponly.cookie-missing-httponly"], 776);
    assert_eq!(by_rule["java.lang.security.audit.cookie-missing-samesite.cookie-missing-samesite"], 776);
    assert_eq!(by_rule["java.lang.security.audit.formatted-sql-string.formatted-sql-string"], 116);
    assert_eq!(by_rule["java.lang.security.audit.ldap-injection.ldap-injection"], 1);
    let f = &r.findings[0];
    assert_eq!(&*f.id, "java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle");
    assert_eq!(&*f.title, "Using CBC with PKCS5Padding is susceptible to padding orcale attacks. A malicious actor");
    assert_eq!(f.location.as_deref(), Some("src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02660.java:59"));
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Sast && f.severity == Medium));
}

#[test]
fn sarif_gitleaks_secrets_without_rule_ids_and_without_the_secret() {
    let r = single("defectdojo/sarif/gitleaks_7.5.0.sarif");
    assert_eq!(&*r.source.scanner, "Gitleaks v7.4.0");
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Secret));
    // No ruleId in Gitleaks 7: the rule is matched from "<rule> secret detected".
    assert_eq!(ids(&r.findings), BTreeMap::from([("AWS Access Key", 6), ("Asymmetric Private Key", 2)]));
    let f = &r.findings[0];
    assert_eq!(&*f.title, "AWS Access Key secret detected");
    assert_eq!(
        f.location.as_deref(),
        Some("dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json:13")
    );
    // The offender (`properties.offender`) and the snippet are never copied.
    let dump = format!("{:?}", r.findings);
    assert!(!dump.contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(
        String::from_utf8_lossy(&fixture_bytes("defectdojo/sarif/gitleaks_7.5.0.sarif"))
            .contains("AKIAIOSFODNN7EXAMPLE")
    );
}

#[test]
fn sarif_spotbugs_message_strings_and_help_uri() {
    let r = single("defectdojo/sarif/spotbugs.sarif");
    assert_eq!(&*r.source.scanner, "SpotBugs 4.4.0");
    let f = &r.findings[0];
    assert_eq!(&*f.id, "DMI_HARDCODED_ABSOLUTE_FILENAME");
    assert_eq!(&*f.title, "Code contains a hard coded reference to an absolute pathname.");
    assert_eq!(f.location.as_deref(), Some("Boot.java:23"));
    assert_eq!(
        f.primary_url.as_deref(),
        Some("https://spotbugs.readthedocs.io/en/latest/bugDescriptions.html#DMI_HARDCODED_ABSOLUTE_FILENAME")
    );
}

#[test]
fn sarif_secobserve_bandit_checkov_kics_trivy_config() {
    let bandit = single("secobserve/sarif/bandit.sarif");
    assert_eq!(&*bandit.source.scanner, "Bandit");
    assert_eq!(bandit.scanned_at.unwrap().to_string(), "2022-10-21T04:19:27Z"); // invocations[0].endTimeUtc
    let f = &bandit.findings[0];
    assert_eq!((&*f.id, f.kind, f.severity), ("B104", FindingKind::Sast, Medium)); // issue_severity MEDIUM
    assert_eq!(&*f.title, "hardcoded_bind_all_interfaces");
    assert_eq!(f.location.as_deref(), Some("backend/config/settings/dist.py:14"));
    assert_eq!(bandit.findings[1].location.as_deref(), Some("backend/config/settings/local.py:14"));

    let checkov = single("secobserve/sarif/checkov.sarif");
    assert_eq!(&*checkov.source.scanner, "Checkov 2.1.277");
    assert!(checkov.findings.iter().all(|f| &*f.id == "CKV_DOCKER_2"
        && f.kind == FindingKind::Misconfiguration
        && f.severity == High
        && &*f.title == "Ensure that HEALTHCHECK instructions have been added to container images"));
    let locations: Vec<_> = checkov.findings.iter().filter_map(|f| f.location.as_deref()).collect();
    assert_eq!(
        locations,
        [
            "frontend/docker/Dockerfile:1",
            "backend/docker/cloud/redis/Dockerfile:1",
            "backend/docker/cloud/django/Dockerfile:1",
            "backend/docker/local/django/Dockerfile:1"
        ]
    );

    let kics = single("secobserve/sarif/kics.sarif");
    assert_eq!(&*kics.source.scanner, "KICS development");
    // Three results, one of them `kind: pass`.
    assert_eq!(kics.findings.len(), 2);
    let f = &kics.findings[0];
    assert_eq!((&*f.id, &*f.title), ("d6355c88-1e8d-49e9-b2f2-f8a1ca12c75b", "Docker Socket Mounted In Container"));
    assert_eq!(f.location.as_deref(), Some("docker-compose-prod-postgres.yml:34"));
    assert_eq!(&*kics.findings[1].title, "Passwords And Secrets - Encryption Key");
    assert!(kics.findings.iter().all(|f| f.kind == FindingKind::Misconfiguration && f.severity == High));

    let trivy = single("secobserve/sarif/trivy_config.sarif");
    assert_eq!(&*trivy.source.scanner, "Trivy 0.47.0");
    let f = &trivy.findings[0];
    assert_eq!(
        (&*f.id, f.kind, f.severity, f.cvss),
        ("AVD-AZU-0014", FindingKind::Misconfiguration, Medium, Some(5.5))
    );
    assert_eq!(&*f.title, "Ensure that the expiration date is set on all keys");
    // uriBaseId ROOTPATH (file:///home/example/) is left unresolved.
    assert_eq!(f.location.as_deref(), Some("modules/azure-cosmosdb/main.tf:164"));
    assert_eq!(f.primary_url.as_deref(), Some("https://avd.aquasec.com/misconfig/avd-azu-0014"));
}

#[test]
fn sarif_dependency_check_vulnerabilities_with_purls_and_cvss() {
    let r = single("secobserve/sarif/dependency-check.sarif");
    assert_eq!(&*r.source.scanner, "dependency-check 8.0.1");
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Vulnerability));
    let bcel = find(&r, "CVE-2022-42920");
    // security-severity written as a number (9.8), not a string.
    assert_eq!((bcel.severity, bcel.cvss), (Critical, Some(9.8)));
    assert_eq!(bcel.fingerprint.as_deref(), Some("252e91c4b99958a439d35727992a52f1"));
    let p = bcel.package.as_ref().unwrap();
    assert_eq!(p.purl.as_deref(), Some("pkg:maven/org.apache.bcel/bcel@6.5.0"));
    assert_eq!((&*p.name, p.installed_version.as_deref()), ("org.apache.bcel:bcel", Some("6.5.0")));
    assert!(bcel.location.as_deref().unwrap().ends_with("/bcel-6.5.0.jar"));
    // Only a CVSS v4 score (8.8): it sets the severity but is not a v3 `cvss`.
    let quarkus = find(&r, "CVE-2023-0044");
    assert_eq!((quarkus.severity, quarkus.cvss), (High, None));
    assert_eq!(&*quarkus.package.as_ref().unwrap().name, "io.quarkus:quarkus-vertx-http");
    let xerces = find(&r, "CVE-2017-10355");
    assert_eq!((xerces.severity, xerces.cvss), (Medium, Some(5.9)));
}

#[test]
fn sarif_eslint_in_source_suppressions_and_semgrep_fingerprints() {
    let r = single("secobserve/sarif/eslint.sarif");
    assert_eq!(&*r.source.scanner, "ESLint 8.25.0");
    let suppressed: Vec<_> = r.findings.iter().filter(|f| f.suppressed()).collect();
    assert_eq!(suppressed.len(), 5);
    assert!(suppressed.iter().all(|f| f.vex.as_ref().unwrap().state == VexState::NotAffected));
    assert_eq!(ids(&r.findings)["security/detect-object-injection"], 4);
    let f = &r.findings[0];
    assert_eq!((&*f.id, &*f.title), ("@typescript-eslint/no-unused-vars", "Disallow unused variables"));
    assert_eq!(f.location.as_deref(), Some("file:///home/stefanf/workspace/SecObserve/frontend/src/App.tsx:19"));
    assert!(f.vex.is_none());

    let r = single("secobserve/sarif/semgrep.sarif");
    assert_eq!(&*r.source.scanner, "semgrep 1.16.0");
    let f = &r.findings[0];
    assert_eq!(&*f.id, "typescript.react.portability.i18next.jsx-not-internationalized.jsx-not-internationalized");
    assert_eq!(f.location.as_deref(), Some("frontend/src/access_control/AADSignInButton.tsx:27"));
    assert!(f.fingerprint.as_deref().unwrap().starts_with("8482205033004d9d9710add5391a1231")); // matchBasedId/v1
}

#[test]
fn sarif_sdk_converter_outputs() {
    let r = single("sarif-sdk/WebGoat.xml.sarif");
    assert_eq!(&*r.source.scanner, "Contrast Security");
    let f = &r.findings[0];
    assert_eq!((&*f.id, f.severity), ("sql-injection", High));
    assert_eq!(&*f.title, "Verifies no untrusted data is used in dynamic database queries.");
    assert_eq!(f.location.as_deref(), Some("/webgoat/Content/ForgotPassword.aspx"));
    // Only a logical location.
    assert_eq!(r.findings[4].location.as_deref(), Some("OWASP.WebGoat.NET.EncryptVSEncode.SHA()"));
    assert_eq!(r.findings[13].location.as_deref(), Some("/web.config:10"));

    let r = single("sarif-sdk/ValidResults.sarif");
    assert_eq!(&*r.source.scanner, "Heimdall Tools 1.3.40");
    assert_eq!(ids(&r.findings)["10104"], 20);
    let sqli = find(&r, "40024");
    // security-severity "7" → high, kept as the CVSS-like score.
    assert_eq!((sqli.severity, sqli.cvss, &*sqli.title), (High, Some(7.0), "SQL Injection - SQLite."));
    let f = find(&r, "10104");
    assert_eq!((f.severity, f.cvss), (Low, Some(3.0)));

    let r = single("sarif-sdk/bannedAPIs_java.xml.sarif");
    assert_eq!(&*r.source.scanner, "Fortify");
    let f = &r.findings[0];
    // No rules: the title is the message; `properties.priority` "High" is the severity.
    assert_eq!((&*f.id, f.severity), ("Insecure Randomness", High));
    assert!(f.title.starts_with("The random number generator implemented by nextInt()"));
    assert_eq!(f.location.as_deref(), Some("bannedAPIs.java:41"));
    assert_eq!(f.fingerprint.as_deref(), Some("28E211AE4264B96E98A055B7BB4DF4C2")); // InstanceId

    let r = single("sarif-sdk/results.csv.sarif");
    assert_eq!(&*r.source.scanner, "Semmle QL");
    // Neither ruleId nor rules: the message is the id.
    let f = &r.findings[0];
    assert_eq!(&*f.id, "Avoid using thread priorities. The effect is unpredictable and not portable.");
    assert_eq!(f.location.as_deref(), Some("src/main/java/org/apache/commons/io/FileCleaningTracker.java:211"));

    let r = single("sarif-sdk/Pylint-01.json.sarif");
    assert_eq!(&*r.source.scanner, "Pylint");
    let f = &r.findings[0];
    assert_eq!((&*f.id, &*f.title, f.severity), ("C0301(line-too-long)", "Line too long (110/100)", Medium));
    assert_eq!(f.location.as_deref(), Some("test.py:18"));
}

// ------------------------------------------------------------------------------------------
// ZAP
// ------------------------------------------------------------------------------------------

#[test]
fn zap_json_report_alerts_per_site() {
    let r = single("secobserve/zap/owasp_zap.json");
    assert_eq!(r.source.format, Format::Zap);
    assert_eq!(&*r.source.scanner, "OWASP ZAP 2.12.0");
    assert_eq!(r.scanned, vec![Artifact::Endpoint(Arc::from("example-backend.example.com"))]);
    assert_eq!(r.scanned_at.unwrap().to_string(), "2023-04-15T18:23:09Z"); // "Sat, 15 Apr 2023 18:23:09"
    let got: Vec<(&str, Severity)> = r.findings.iter().map(|f| (&*f.id, f.severity)).collect();
    assert_eq!(got, [("10098", Medium), ("10027", Info), ("10049", Info), ("10049", Info), ("10031", Info)]);
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Dast && f.vex.is_none() && *f.artifact == r.scanned[0]));

    let f = &r.findings[0];
    assert_eq!(&*f.title, "Cross-Domain Misconfiguration");
    assert_eq!(f.aliases, vec![Arc::<str>::from("CWE-264")]); // alertRef equals pluginid
    assert_eq!(f.location.as_deref(), Some("GET https://example-backend.example.com/django-static/admin/css/base.css"));
    assert_eq!(
        f.primary_url.as_deref(),
        Some("https://vulncat.fortify.com/en/detail?id=desc.config.dotnet.html5_overly_permissive_cors_policy")
    );
    assert_eq!(r.findings[1].primary_url, None); // "reference": ""
    assert_eq!(r.findings[2].primary_url.as_deref(), Some("https://tools.ietf.org/html/rfc7234"));
    // Two alerts share pluginid and alertRef 10049: their fingerprints still differ.
    assert_eq!(&*r.findings[2].title, "Non-Storable Content");
    assert_eq!(&*r.findings[3].title, "Storable and Cacheable Content");
    assert_ne!(r.findings[2].fingerprint, r.findings[3].fingerprint);
    assert!(r.findings[2].fingerprint.as_deref().unwrap().ends_with("@example-backend.example.com"));
    // Evidence strings are not copied.
    assert!(!format!("{:?}", r.findings).contains("Access-Control-Allow-Origin"));
}

// ------------------------------------------------------------------------------------------
// PolicyReport / OpenReports
// ------------------------------------------------------------------------------------------

#[test]
fn policy_report_kube_bench_adapter_122_checks() {
    let rel = "wg-policy-prototypes/kube-bench-adapter/policy-report.yaml";
    let r = single(rel);
    assert_eq!(r.source.format, Format::PolicyReport);
    // No `source` anywhere: recognised by kube-bench's properties (audit, index).
    assert_eq!(&*r.source.scanner, "kube-bench");
    // 122 results: 36 fail, 49 warn, 37 pass.
    assert_eq!(r.findings.len(), 85);
    assert_eq!(severities(&r.findings), sev(&[(Medium, 36), (Low, 49)]));
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Misconfiguration));
    // `rule` is the section name: the check id is `properties.index`.
    assert_eq!(ids(&r.findings).len(), 85);
    let f = &r.findings[0];
    assert_eq!(&*f.id, "1.1.1");
    assert_eq!(
        &*f.title,
        "Ensure that the API server pod specification file permissions are set to 644 or more restrictive (Automated)"
    );
    assert_eq!(*f.artifact, other(&format!("{rel}#0/items[0]")));
    assert_eq!(find(&r, "1.1.9").severity, Low); // warn
    assert_eq!(find(&r, "1.2.6").severity, Medium); // fail
    assert!(r.findings.iter().all(|f| &*f.id != "1.2.2")); // pass
    // `timestamp.seconds` is 0 everywhere: the report's creationTimestamp is used.
    assert_eq!(r.scanned_at.unwrap().to_string(), "2021-04-08T11:44:57Z");
    assert_eq!(f.first_seen, r.scanned_at);
}

#[test]
fn policy_report_trivy_adapter_vulnerabilities_in_yaml_and_json() {
    let yaml = single("wg-policy-prototypes/trivy-adapter/policyreport.yaml");
    let json = single("wg-policy-prototypes/trivy-adapter/policyreport.json");
    for r in [&yaml, &json] {
        assert_eq!(&*r.source.scanner, "Trivy");
        // The adapter writes no `result`; every entry is a vulnerability found.
        assert_eq!(r.findings.len(), 14);
        assert!(r.findings.iter().all(|f| f.kind == FindingKind::Vulnerability));
        assert_eq!(severities(&r.findings), sev(&[(High, 7), (Medium, 4), (Low, 2), (Unknown, 1)]));
        // No resources or scope: the owner reference names the pod.
        let zipkin = pod(Some("default"), "zipkin-6b59cc5ddb-bp9h8");
        assert_eq!(r.scanned, vec![zipkin.clone()]);
        let f = &r.findings[0];
        assert_eq!((&*f.id, &*f.title, (*f.artifact).clone()), ("CVE-2021-30139", "CVE-2021-30139", zipkin));
        let p = f.package.as_ref().unwrap();
        assert_eq!(
            (&*p.name, p.installed_version.as_deref(), p.fixed_version.as_deref()),
            ("apk-tools", Some("2.10.5-r1"), Some("2.10.6-r0"))
        );
        assert_eq!(f.primary_url.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2021-30139"));
        assert_eq!(f.first_seen.unwrap().as_second(), 1628548814); // negative nanos ignored
        assert_eq!(find(r, "CVE-2021-36159").severity, Unknown); // no severity, no result
        assert_eq!(&*r.findings[2].title, "busybox: invalid free or segmentation fault via malformed gzip data");
    }
    let a: Vec<_> = yaml.findings.iter().map(|f| (&f.id, f.severity, &f.package)).collect();
    let b: Vec<_> = json.findings.iter().map(|f| (&f.id, f.severity, &f.package)).collect();
    assert_eq!(a, b);
    // The Trivy Operator VulnerabilityReport next to them is not a policy report.
    let (out, _) = parse_fixture("wg-policy-prototypes/trivy-adapter/vulnerabilityreport.yaml");
    assert!(!out.iter().any(|p| matches!(p, Parsed::Report(r) if r.source.format == Format::PolicyReport)));
}

#[test]
fn policy_report_kubearmor_runtime_alerts() {
    let r = single("wg-policy-prototypes/kubearmor-adapter/res.yaml");
    assert_eq!(&*r.source.scanner, "KubeArmor Policy Engine");
    assert_eq!(r.findings.len(), 3);
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Policy
        && &*f.id == "ksp-group-1-proc-path-block"
        && &*f.title == "block the sleep command"
        && f.severity == Medium));
    assert_eq!(*r.findings[0].artifact, pod(Some("multiubuntu"), "ubuntu-1-deployment-5d6b975744-rrkhh"));
    assert_eq!(*r.findings[1].artifact, pod(Some("multiubuntu"), "ubuntu-2-deployment-bc58cf44-sfr9s"));
    assert_eq!(r.scanned.len(), 2);
    // nanos equal to the seconds (out of range) are ignored.
    assert_eq!(r.findings[0].first_seen.unwrap().as_second(), 1637497885);
    assert_eq!(r.scanned_at.unwrap().as_second(), 1637497910);
}

#[test]
fn policy_report_samples() {
    let cis = single("wg-policy-prototypes/samples/sample-cis-k8s.yaml");
    assert_eq!(&*cis.source.scanner, "kube-cis"); // wgpolicyk8s.io/engine label
    let got: Vec<_> = cis.findings.iter().map(|f| (&*f.id, f.severity, f.kind)).collect();
    let m = FindingKind::Misconfiguration;
    assert_eq!(
        got,
        [
            ("api-server:anonymous-auth", Low, m),
            ("api-server:basic-auth-file", Medium, m),
            ("api-server:token-auth-file", Low, m)
        ]
    );
    assert_eq!(&*cis.findings[1].title, "ensure that --basic-auth-file argument is not set");

    let co = single("wg-policy-prototypes/samples/sample-co.yaml");
    assert_eq!(&*co.source.scanner, "openshift-compliance-operator");
    assert_eq!(co.findings.len(), 2);
    let f = &co.findings[0];
    assert_eq!(
        (&*f.id, f.severity, f.kind),
        ("xccdf_org.ssgproject.content_rule_audit_rules_etc_group_open", Medium, m)
    );
    assert_eq!(&*f.title, "Record Events that Modify User/Group Information via open syscall - /etc/group");
    assert_eq!(co.findings[1].severity, Low);

    let falco = reports("wg-policy-prototypes/samples/sample-falco-policy.yaml");
    assert_eq!(falco.len(), 2);
    let f = &falco[0].findings[0];
    assert_eq!((&*f.id, f.kind, f.severity), ("Change thread namespace", FindingKind::Policy, Low)); // properties.severity
    assert_eq!(*f.artifact, pod(Some("my-namespace"), "a-pod"));
    assert_eq!(&*f.sources[0].scanner, "falco-agent");
    let f = &falco[1].findings[0];
    assert_eq!((&*f.id, f.severity), ("audit", Medium));
    assert_eq!(*f.artifact, other("wg-policy-prototypes/samples/sample-falco-policy.yaml#1"));

    let rhacm = single("wg-policy-prototypes/samples/sample-rhacm-policy.yaml");
    let f = &rhacm.findings[0];
    assert_eq!((&*f.id, f.severity, f.kind), ("mustnothaveimagevuln", High, FindingKind::Policy));
    let vuln = "sha256.8d104847fc2371a983f7cb01c7c0a3ab35b7381d6bf7ce355d9b32a08c0031f0";
    assert_eq!(
        *f.artifact,
        Artifact::Object(ObjectRef::new("ImageManifestVuln", Some("openshift-cluster-version"), vuln))
    );

    for rel in [
        "wg-policy-prototypes/samples/sample-v1beta1-kyverno.yaml",
        "wg-policy-prototypes/samples/sample-v1beta2-kyverno.yaml",
    ] {
        let r = single(rel);
        assert_eq!(r.source.format, Format::PolicyReport, "{rel}");
        assert_eq!(&*r.source.scanner, "kyverno", "{rel}");
        assert!(r.findings.is_empty(), "{rel}: only a pass result");
        assert_eq!(r.scanned, vec![pod(Some("nirmata"), "kyverno-6d88f6dcdd-k6bc5")], "{rel}");
        assert_eq!(r.scanned_at.unwrap().as_second(), 1679565894, "{rel}");
    }
}

#[test]
fn policy_report_kyverno_chainsaw_partial_reports() {
    let r = single("kyverno-chainsaw-reports/image-validating-policies/report/admission/report.yaml");
    let f = &r.findings[0];
    assert_eq!((&*f.id, &*f.title), ("ivpol-report-admission-sample", "failed to verify image with notary cert"));
    assert_eq!(&*f.sources[0].scanner, "KyvernoImageValidatingPolicy");
    assert_eq!(*f.artifact, Artifact::Object(ObjectRef::new("Deployment", None, "test-deployment")));

    let r = single(
        "kyverno-chainsaw-reports/reports/background/multiple-exceptions-with-pod-security/report-fail-assert.yaml",
    );
    let f = &r.findings[0];
    assert_eq!((&*f.id, f.severity, &*f.sources[0].scanner), ("psp-baseline/baseline", Medium, "kyverno"));
    assert_eq!(*f.artifact, pod(None, "test-pod"));
    // A 256-character message, cut to 200 characters.
    assert!(f.title.starts_with("Validation rule 'baseline' failed. It violates PodSecurity \"baseline:v1.29\""));
    assert!(f.title.ends_with('…') && f.title.chars().count() <= 201, "{}", f.title);

    let r = single("kyverno-chainsaw-reports/reports/background/test-report-background-mode/report-assert.yaml");
    let f = &r.findings[0];
    assert_eq!((&*f.id, f.severity), ("podsecurity-subrule-restricted/restricted", Medium));
    assert_eq!(*f.artifact, pod(Some("default"), "badpod01"));

    // A `v1` list without `kind`: one report per item.
    let rel = "kyverno-chainsaw-reports/validating-policies/report/message-exp/report.yaml";
    let rs = reports(rel);
    assert_eq!(rs.len(), 3);
    assert_eq!(rs.iter().map(|r| r.findings.len()).collect::<Vec<_>>(), [1, 0, 1]);
    assert_eq!(&*rs[2].findings[0].title, "Deployment labels must be env=prod but found env=testing");
    assert_eq!(&*rs[2].findings[0].id, "check-deployment-labels");
    assert_eq!(&*rs[2].findings[0].sources[0].origin, format!("{rel}#0/items[2]"));
    assert_eq!(rs[1].scanned, vec![Artifact::Object(ObjectRef::new("Deployment", None, "good-deployment"))]);

    let r = single(
        "kyverno-chainsaw-reports/verify-images/clusterpolicy/standard/verify-image-background-audit/chainsaw-step-03-assert-1.yaml",
    );
    assert_eq!(r.findings.len(), 1);
    assert_eq!(&*r.findings[0].id, "keyed-basic-policy/require-ns-purpose-label");
    assert_eq!(r.scanned, vec![pod(Some("test-verify-images"), "test-secret-pod")]);
}

#[test]
fn openreports_samples() {
    let cis = single("openreports/sample-cis-k8s.yaml");
    assert_eq!(cis.source.format, Format::OpenReports);
    assert_eq!(&*cis.source.scanner, "kube-bench-adapter"); // top-level `source`
    assert_eq!(cis.findings.len(), 3);
    assert!(cis.findings.iter().all(|f| f.kind == FindingKind::Misconfiguration));
    assert_eq!(severities(&cis.findings), sev(&[(Medium, 1), (Low, 2)]));

    let falco = reports("openreports/sample-falco-policy.yaml");
    assert_eq!(falco.len(), 2);
    assert!(falco.iter().all(|r| r.source.format == Format::OpenReports && r.findings.len() == 1));
    assert_eq!(*falco[0].findings[0].artifact, pod(Some("my-namespace"), "a-pod"));

    let kyverno = single("openreports/sample-v1beta2-kyverno.yaml");
    assert!(kyverno.findings.is_empty());
    assert_eq!(kyverno.scanned, vec![pod(Some("nirmata"), "kyverno-6d88f6dcdd-k6bc5")]);
}
