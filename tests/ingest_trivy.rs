//! Trivy Operator CRs and Trivy CLI JSON, parsed from the real third-party fixtures in
//! `../shared/fixtures`. Expected values were read from the files themselves (python/jq),
//! not from the parser's output.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use stance_core::ingest::{trivy_json, trivy_operator};
use stance_core::model::{Artifact, Finding, FindingKind, Format, ImageRef, ObjectRef, Report, Severity};

fn one(rel: &str) -> Report {
    let mut reports = common::reports(rel);
    assert_eq!(reports.len(), 1, "{rel}: expected one report");
    reports.pop().unwrap()
}

fn ts(s: &str) -> Option<Timestamp> {
    Some(s.parse().unwrap())
}

fn image(s: &str) -> Artifact {
    Artifact::Image(ImageRef::parse(s).unwrap())
}

fn object(kind: &str, ns: Option<&str>, name: &str) -> Artifact {
    Artifact::Object(ObjectRef::new(kind, ns, name))
}

fn find<'a>(r: &'a Report, id: &str, pkg: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| &*f.id == id && f.package.as_ref().is_some_and(|p| &*p.name == pkg))
        .unwrap_or_else(|| panic!("no finding {id} in {pkg}"))
}

fn by_id<'a>(r: &'a Report, id: &str) -> &'a Finding {
    r.findings.iter().find(|f| &*f.id == id).unwrap_or_else(|| panic!("no finding {id}"))
}

fn severities(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.severity).or_default() += 1;
    }
    m
}

fn kinds(findings: &[Finding]) -> BTreeMap<FindingKind, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.kind).or_default() += 1;
    }
    m
}

fn ids(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| &*f.id).collect()
}

// ------------------------------------------------------------------------------------
// Trivy Operator CRs
// ------------------------------------------------------------------------------------

#[test]
fn operator_vulnerability_report_nginx_alpine() {
    let r = one("defectdojo/trivy_operator/vulnerabilityreport_many.json");
    assert_eq!(r.source.format, Format::TrivyOperator);
    assert_eq!(&*r.source.scanner, "Trivy 0.38.2");
    let workload = r.source.workload.as_ref().unwrap();
    assert_eq!(workload, &ObjectRef::new("ReplicaSet", Some("default"), "nginx-deployment-965685897"));
    assert_eq!(r.source.container.as_deref(), Some("nginx"));
    // registry.server index.docker.io + repository library/nginx + tag alpine.
    let nginx = ImageRef::from_parts("docker.io", "library/nginx", Some("alpine"), None);
    assert_eq!(nginx.to_string(), "docker.io/library/nginx:alpine");
    assert_eq!(r.scanned, vec![Artifact::Image(nginx.clone())]);
    assert_eq!(r.scanned_at, ts("2023-03-23T16:23:01Z"));
    assert!(r.components.is_none());

    assert_eq!(r.findings.len(), 41);
    assert_eq!(kinds(&r.findings), BTreeMap::from([(FindingKind::Vulnerability, 41)]));
    assert_eq!(
        severities(&r.findings),
        BTreeMap::from([(Severity::Critical, 2), (Severity::High, 3), (Severity::Medium, 25), (Severity::Low, 11)])
    );
    assert!(r.findings.iter().all(|f| *f.artifact == Artifact::Image(nginx.clone())));
    let mut per_pkg = BTreeMap::new();
    for f in &r.findings {
        *per_pkg.entry(f.package.as_ref().unwrap().name.to_string()).or_insert(0) += 1;
    }
    assert_eq!(per_pkg["tiff"], 19);
    assert_eq!(per_pkg["curl"], 9);
    assert_eq!(per_pkg["libcurl"], 9);
    assert_eq!(per_pkg["github.com/aws/aws-sdk-go"], 2);

    let hsts = find(&r, "CVE-2023-23914", "curl");
    assert_eq!(hsts.severity, Severity::Critical);
    assert_eq!(hsts.cvss, Some(4.2));
    assert_eq!(&*hsts.title, "curl: HSTS ignored on multiple requests");
    let pkg = hsts.package.as_ref().unwrap();
    assert_eq!(pkg.installed_version.as_deref(), Some("7.87.0-r1"));
    assert_eq!(pkg.fixed_version.as_deref(), Some("7.87.0-r2"));
    assert_eq!(pkg.purl, None);
    assert_eq!(hsts.primary_url.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2023-23914"));
    assert_eq!(hsts.location, None, "target is \"\"");
    assert_eq!(hsts.first_seen, ts("2023-03-23T16:23:01Z"));
    assert_eq!(find(&r, "CVE-2023-27535", "curl").cvss, None, "no score in the report");
    // An empty fixedVersion means no fix.
    let aws = find(&r, "CVE-2020-8911", "github.com/aws/aws-sdk-go");
    assert_eq!(aws.package.as_ref().unwrap().fixed_version, None);
    assert!(!aws.fix_available());
    assert_eq!(r.findings.iter().filter(|f| !f.fix_available()).count(), 2);
    assert_eq!(r.findings.iter().filter(|f| f.cvss.is_some()).count(), 27);
}

#[test]
fn operator_vulnerability_report_with_digest_and_dates() {
    let r = one("defectdojo/trivy_operator/vulnerabilityreport_extended.json");
    assert_eq!(&*r.source.scanner, "Trivy 0.48.3");
    assert_eq!(r.source.workload, Some(ObjectRef::new("Pod", Some("lbc"), "ubuntu")));
    assert_eq!(r.source.container.as_deref(), Some("ubuntu"));
    let img = r.scanned[0].image().unwrap();
    assert_eq!(
        img.to_string(),
        "docker.io/library/ubuntu:20.04@sha256:f78909c2b360d866b3220655c0b079838258b8891a12ac25fc670f0cbb54229f"
    );
    assert_eq!(r.findings.len(), 5);
    assert!(r.findings.iter().all(|f| f.severity == Severity::Medium));
    let gnutls = find(&r, "CVE-2024-0553", "libgnutls30");
    assert_eq!(gnutls.published, ts("2024-01-16T12:15:45Z"));
    assert_eq!(gnutls.cvss, Some(5.9));
    assert_eq!(gnutls.location.as_deref(), Some("ubuntu:20.04 (ubuntu 20.04)"));
    assert_eq!(gnutls.first_seen, ts("2024-01-23T13:43:55Z"));
    let pam = find(&r, "CVE-2024-22365", "libpam0g");
    assert_eq!(pam.published, None, "publishedDate is \"\"");
    assert_eq!(pam.package.as_ref().unwrap().fixed_version.as_deref(), Some("1.3.1-5ubuntu4.7"));
}

#[test]
fn operator_vulnerability_report_yaml_with_other_registry() {
    let r = one("trivy-operator/vulnerability-ttl.yaml");
    assert_eq!(&*r.source.scanner, "Trivy 0.35.0");
    assert_eq!(r.source.workload, Some(ObjectRef::new("ReplicaSet", Some("kube-system"), "coredns-558bd4d5db")));
    assert_eq!(r.source.container.as_deref(), Some("coredns"));
    assert_eq!(r.scanned, vec![image("k8s.gcr.io/coredns/coredns:v1.8.0")]);
    assert_eq!(r.scanned_at, ts("2022-12-08T15:50:37Z"));
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!((&*f.id, f.severity, f.cvss), ("CVE-2021-3121", Severity::High, Some(8.6)));
    assert_eq!(&*f.title, "gogo/protobuf: plugin/unmarshal/unmarshal.go lacks certain index validation");
    let pkg = f.package.as_ref().unwrap();
    assert_eq!(&*pkg.name, "github.com/gogo/protobuf");
    assert_eq!(pkg.installed_version.as_deref(), Some("v1.3.1"));
    assert_eq!(pkg.fixed_version.as_deref(), Some("1.3.2"));
}

#[test]
fn operator_config_audit_report_failed_checks() {
    let r = one("defectdojo/trivy_operator/configauditreport_many.json");
    assert_eq!(&*r.source.scanner, "Trivy dev");
    let rs = ObjectRef::new("ReplicaSet", Some("default"), "nginx-deployment-965685897");
    assert_eq!(r.source.workload, Some(rs.clone()));
    assert_eq!(r.source.container, None, "config audits have no container label");
    assert_eq!(r.scanned, vec![Artifact::Object(rs.clone())]);
    assert_eq!(r.scanned_at, ts("2023-03-23T16:22:54Z"));
    assert_eq!(r.findings.len(), 13, "all 13 checks have success: false");
    assert!(r.findings.iter().all(|f| f.kind == FindingKind::Misconfiguration));
    assert!(r.findings.iter().all(|f| *f.artifact == Artifact::Object(rs.clone())));
    assert_eq!(severities(&r.findings), BTreeMap::from([(Severity::Medium, 2), (Severity::Low, 11)]));
    assert_eq!(
        ids(&r),
        [
            "KSV014", "KSV016", "KSV030", "KSV015", "KSV011", "KSV012", "KSV018", "KSV110", "KSV003", "KSV021",
            "KSV001", "KSV106", "KSV020"
        ]
    );
    let ksv001 = by_id(&r, "KSV001");
    assert_eq!(&*ksv001.title, "Process can elevate its own privileges");
    assert_eq!(ksv001.severity, Severity::Medium);
    assert_eq!(
        ksv001.location.as_deref(),
        Some(
            "Container 'nginx' of ReplicaSet 'nginx-deployment-965685897' should set 'securityContext.allowPrivilegeEscalation' to false"
        )
    );
    assert_eq!(ksv001.first_seen, ts("2023-03-23T16:22:54Z"));
    assert!(ksv001.package.is_none());
}

#[test]
fn operator_config_audit_yaml_fixtures() {
    let pod = one("trivy-operator/pod-configauditreport-expected.yaml");
    assert_eq!(&*pod.source.scanner, "Trivy version");
    assert_eq!(pod.scanned, vec![object("Pod", Some("default"), "my-pod")]);
    assert_eq!(pod.findings.len(), 13);
    // Matches the report's own summary: high 1, medium 3, low 9.
    assert_eq!(
        severities(&pod.findings),
        BTreeMap::from([(Severity::High, 1), (Severity::Medium, 3), (Severity::Low, 9)])
    );
    assert_eq!(by_id(&pod, "KSV014").severity, Severity::High);
    assert_eq!(pod.scanned_at, None, "no updateTimestamp");
    assert_eq!(by_id(&pod, "KSV014").first_seen, None, "no creationTimestamp either");
    assert_eq!(
        by_id(&pod, "KSV020").location.as_deref(),
        Some("Container 'app' of Pod 'my-pod' should set 'securityContext.runAsUser' > 10000")
    );

    let ttl = one("trivy-operator/config-audit-ttl.yaml");
    assert_eq!(ttl.scanned, vec![object("ReplicaSet", Some("kube-system"), "coredns-558bd4d5dc")]);
    assert_eq!(ttl.source.container.as_deref(), Some("coredns"));
    assert_eq!(ttl.scanned_at, ts("2023-01-29T19:01:44Z"));
    assert_eq!(ids(&ttl), ["KSV110"]);
    assert_eq!(ttl.findings[0].severity, Severity::Low);
    assert_eq!(ttl.findings[0].first_seen, ts("2022-12-08T15:50:37Z"));
    assert_eq!(
        ttl.findings[0].location.as_deref(),
        Some("Service 'kubernetes' should not be set with 'default' namespace")
    );
}

#[test]
fn operator_exposed_secret_report() {
    let r = one("defectdojo/trivy_operator/exposedsecretreport_many.json");
    assert_eq!(r.source.workload, Some(ObjectRef::new("ReplicaSet", Some("default"), "nginx-deployment-c868466d4")));
    assert_eq!(r.source.container.as_deref(), Some("nginx"));
    assert_eq!(r.scanned, vec![image("docker.io/library/secret:latest")]);
    assert_eq!(r.scanned_at, ts("2023-03-24T08:34:18Z"));
    assert_eq!(kinds(&r.findings), BTreeMap::from([(FindingKind::Secret, 2)]));
    let aws = by_id(&r, "aws-secret-access-key");
    assert_eq!((&*aws.title, aws.severity), ("AWS Secret Access Key", Severity::Critical));
    assert_eq!(aws.location.as_deref(), Some("root/aws_secret.txt"));
    let gh = by_id(&r, "github-pat");
    assert_eq!((&*gh.title, gh.severity), ("GitHub Personal Access Token", Severity::Critical));
    assert_eq!(gh.location.as_deref(), Some("root/github_secret.txt"));
    // The `match` text (the secret line) is not copied anywhere.
    let debug = format!("{:?}", r.findings);
    assert!(!debug.contains("AWS_secret_KEY") && !debug.contains("GITHUB_PAT") && !debug.contains("****"));
}

#[test]
fn operator_reports_in_list_and_dict() {
    let list = common::reports("defectdojo/trivy_operator/findings_in_list.json");
    assert_eq!(list.len(), 2);
    assert_eq!(kinds(&list[0].findings), BTreeMap::from([(FindingKind::Misconfiguration, 13)]));
    assert_eq!(kinds(&list[1].findings), BTreeMap::from([(FindingKind::Vulnerability, 5)]));
    assert_eq!(list[1].source.workload, Some(ObjectRef::new("Pod", Some("lbc"), "ubuntu")));

    // Eleven keys, eight of them empty lists.
    let dict = common::reports("defectdojo/trivy_operator/all_reports_in_dict.json");
    assert_eq!(dict.len(), 3);
    let all: Vec<Finding> = dict.iter().flat_map(|r| r.findings.clone()).collect();
    assert_eq!(
        kinds(&all),
        BTreeMap::from([
            (FindingKind::Vulnerability, 41),
            (FindingKind::Misconfiguration, 1),
            (FindingKind::Secret, 1)
        ])
    );
    let secret = all.iter().find(|f| f.kind == FindingKind::Secret).unwrap();
    assert_eq!(&*secret.id, "aws-secret-access-key");
    let check = all.iter().find(|f| f.kind == FindingKind::Misconfiguration).unwrap();
    assert_eq!((&*check.id, check.severity), ("KSV014", Severity::Low));
}

#[test]
fn operator_cluster_sbom_report() {
    let r = one("trivy-operator/00-sbom-pod.yaml");
    assert_eq!(&*r.source.scanner, "Trivy 0.53.0");
    assert_eq!(r.source.workload, None, "a ClusterSbomReport names no workload");
    assert!(r.findings.is_empty());
    assert_eq!(r.scanned_at, ts("2023-11-12T18:51:06Z"));
    // report.artifact.digest (sha256:295c7be0…) is the BOM's aquasecurity:trivy:ImageID, the
    // config digest; the manifest digest is the RepoDigest nginx@sha256:f7988fb6….
    let img = r.scanned[0].image().unwrap();
    assert_eq!(
        img.to_string(),
        "docker.io/library/nginx:1.14.2@sha256:f7988fb6c02e0ce69257d9bd9cf37ae20a60f1df7563c3a2a6abe24160306b8d"
    );
    let components = r.components.as_ref().unwrap();
    assert_eq!(components.len(), 109, "108 libraries + the debian operating-system component");
    assert_eq!(components.iter().filter(|c| c.purl.is_some()).count(), 108);
    let adduser = components.iter().find(|c| &*c.name == "adduser").unwrap();
    assert_eq!(adduser.version.as_deref(), Some("3.115"));
    assert_eq!(adduser.purl.as_deref(), Some("pkg:deb/debian/adduser@3.115?arch=all&distro=debian-9.8"));
    assert_eq!(adduser.licenses, vec![Arc::<str>::from("GPL-2.0")]);
    let libc = components.iter().find(|c| &*c.name == "libc6").unwrap();
    assert_eq!(libc.licenses, vec![Arc::<str>::from("LGPL-2.1"), Arc::from("GPL-2.0")]);
    let nginx = components.iter().find(|c| &*c.name == "nginx").unwrap();
    assert_eq!(nginx.version.as_deref(), Some("1.14.2-1~stretch"));
    assert!(nginx.licenses.is_empty());
    let os = components.iter().find(|c| &*c.name == "debian").unwrap();
    assert_eq!(os.version.as_deref(), Some("9.8"));
}

#[test]
fn operator_plugin_fixtures_are_trivy_json_or_cyclonedx() {
    // pkg/plugins/trivy/testdata/fixture/*.json are what the plugin reads, not CRs.
    let raw = one("trivy-operator/vulnerability_report.json");
    assert_eq!(raw.source.format, Format::TrivyJson);
    assert_eq!(&*raw.source.scanner, "Trivy");
    assert_eq!(
        raw.scanned,
        vec![image("alpine:3.10.2@sha256:72c42ed48c3a2db31b7dafe17d275b634664a708d901ec9fd57b1529280f01fb")]
    );
    assert_eq!(ids(&raw), ["CVE-2019-1549", "CVE-2019-1547"]);
    // No `Severity`; SeveritySource nvd with VendorSeverity.nvd 2 (medium) and 1 (low).
    assert_eq!(by_id(&raw, "CVE-2019-1549").severity, Severity::Medium);
    assert_eq!(by_id(&raw, "CVE-2019-1547").severity, Severity::Low);
    let pkg = by_id(&raw, "CVE-2019-1547").package.clone().unwrap();
    assert_eq!(
        (&*pkg.name, pkg.installed_version.as_deref(), pkg.fixed_version.as_deref()),
        ("openssl", Some("1.1.1c-r0"), Some("1.1.1d-r0"))
    );

    let full = one("trivy-operator/full_report.json");
    assert_eq!(kinds(&full.findings), BTreeMap::from([(FindingKind::Vulnerability, 2), (FindingKind::Secret, 4)]));
    let stripe = by_id(&full, "stripe-access-token");
    assert_eq!((stripe.severity, stripe.location.as_deref()), (Severity::Critical, Some("/app/config/secret.yaml:4")));
    let aws = by_id(&full, "aws-secret-access-key");
    assert_eq!((&*aws.title, aws.location.as_deref()), ("AWS Secret Access Key", Some("/etc/apt/s3auth.conf:2")));
    assert!(!format!("{:?}", full.findings).contains("SecretAccessKey ="));

    let sbom: serde_json::Value =
        serde_json::from_slice(&common::fixture_bytes("trivy-operator/alpine_sbom.json")).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert!(!trivy_json::detect(&sbom) && !trivy_operator::detect(&sbom), "CycloneDX is another parser's");
}

// ------------------------------------------------------------------------------------
// Trivy CLI JSON
// ------------------------------------------------------------------------------------

#[test]
fn trivy_alpine_310_image() {
    let r = one("trivy/alpine-310.json.golden");
    assert_eq!(r.source.format, Format::TrivyJson);
    assert_eq!(&*r.source.scanner, "Trivy dev");
    assert_eq!(r.source.workload, None);
    // ArtifactName is the tarball's path; Metadata.Reference/RepoTags name the image. There
    // are no RepoDigests, and ImageID (sha256:96176967…) is the config digest: no digest.
    let img = r.scanned[0].image().unwrap();
    assert_eq!(img.to_string(), "ghcr.io/aquasecurity/trivy-test-images:alpine-310");
    assert_eq!(img.digest, None);
    assert_eq!(r.scanned_at, ts("2021-08-25T12:20:30.000000005Z"));
    assert_eq!(r.findings.len(), 4);
    assert!(r.findings.iter().all(|f| f.severity == Severity::Medium && f.cvss == Some(5.3)));
    assert!(r.findings.iter().all(|f| f.first_seen == r.scanned_at));
    let f = find(&r, "CVE-2019-1551", "libssl1.1");
    let pkg = f.package.as_ref().unwrap();
    assert_eq!(pkg.purl.as_deref(), Some("pkg:apk/alpine/libssl1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2"));
    assert_eq!(pkg.installed_version.as_deref(), Some("1.1.1c-r0"));
    assert_eq!(pkg.fixed_version.as_deref(), Some("1.1.1d-r2"));
    assert_eq!(&*f.title, "openssl: Integer overflow in RSAZ modular exponentiation on x86_64");
    assert_eq!(f.published, ts("2019-12-06T18:15:00Z"));
    assert_eq!(f.primary_url.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2019-1551"));
    assert_eq!(f.location.as_deref(), Some("testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)"));
    assert!(r.components.is_none(), "no Packages in the file");
}

#[test]
fn trivy_os_image_goldens() {
    // (file, image, vulnerabilities, severities)
    type Case = (&'static str, &'static str, usize, &'static [(Severity, usize)]);
    let cases: [Case; 3] = [
        (
            "trivy/debian-stretch.json.golden",
            "ghcr.io/aquasecurity/trivy-test-images:debian-stretch",
            5,
            &[(Severity::Low, 1), (Severity::Medium, 4)],
        ),
        (
            "trivy/distroless-python27.json.golden",
            "ghcr.io/aquasecurity/trivy-test-images:distroless-python27",
            4,
            &[(Severity::Low, 2), (Severity::Medium, 2)],
        ),
        (
            "trivy/ubuntu-1804.json.golden",
            "ghcr.io/aquasecurity/trivy-test-images:ubuntu-1804",
            5,
            &[(Severity::Low, 1), (Severity::Medium, 4)],
        ),
    ];
    for (rel, img, n, sev) in cases {
        let r = one(rel);
        assert_eq!(r.scanned, vec![image(img)], "{rel}");
        assert_eq!(r.findings.len(), n, "{rel}");
        assert_eq!(severities(&r.findings), sev.iter().copied().collect(), "{rel}");
    }

    let debian = one("trivy/debian-stretch.json.golden");
    let bash = find(&debian, "CVE-2019-18276", "bash");
    assert_eq!(bash.package.as_ref().unwrap().fixed_version, None, "Status end_of_life, no fix");
    assert_eq!(bash.cvss, Some(7.8));
    let e2fs = find(&debian, "CVE-2019-5094", "e2fsprogs");
    assert_eq!(e2fs.aliases, vec![Arc::<str>::from("DSA-4535-1")], "VendorIDs become aliases");
    assert_eq!(e2fs.cvss, Some(6.7), "NVD's 6.7 over Red Hat's 6.4");
    assert_eq!(e2fs.package.as_ref().unwrap().fixed_version.as_deref(), Some("1.43.4-2+deb9u1"));

    let distroless = one("trivy/distroless-python27.json.golden");
    let low = find(&distroless, "CVE-2019-1563", "openssl");
    assert_eq!((low.severity, low.cvss), (Severity::Low, Some(3.7)));
    assert_eq!(low.aliases, vec![Arc::<str>::from("DSA-4539-1")]);
}

#[test]
fn trivy_spring4shell_jar() {
    let r = one("trivy/spring4shell-jre11.json.golden");
    assert_eq!(r.scanned, vec![image("ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11")]);
    assert_eq!(ids(&r), ["CVE-2022-22965"], "CustomResources are not findings");
    let f = &r.findings[0];
    assert_eq!((f.severity, f.cvss), (Severity::Critical, Some(9.8)));
    let pkg = f.package.as_ref().unwrap();
    assert_eq!(&*pkg.name, "org.springframework:spring-beans");
    assert_eq!(pkg.purl.as_deref(), Some("pkg:maven/org.springframework/spring-beans@5.3.15"));
    assert_eq!((pkg.installed_version.as_deref(), pkg.fixed_version.as_deref()), (Some("5.3.15"), Some("5.3.18")));
    assert_eq!(
        f.location.as_deref(),
        Some("usr/local/tomcat/webapps/helloworld.war/WEB-INF/lib/spring-beans-5.3.15.jar"),
        "PkgPath is more precise than the result target \"Java\""
    );
}

#[test]
fn trivy_npm_repository_with_packages() {
    let r = one("trivy/npm.json.golden");
    assert_eq!(
        r.scanned,
        vec![Artifact::Other(Arc::from("testdata/fixtures/repo/npm"))],
        "a local path, not a remote URL"
    );
    assert_eq!(ids(&r), ["CVE-2019-11358"]);
    let f = &r.findings[0];
    assert_eq!(f.location.as_deref(), Some("package-lock.json"));
    assert_eq!(f.cvss, Some(6.1));
    assert_eq!(f.package.as_ref().unwrap().fixed_version.as_deref(), Some("3.4.0"));
    let components = r.components.as_ref().unwrap();
    assert_eq!(components.len(), 12);
    let jquery = components.iter().find(|c| &*c.name == "jquery").unwrap();
    assert_eq!(jquery.version.as_deref(), Some("3.3.9"));
    assert_eq!(jquery.purl.as_deref(), Some("pkg:npm/jquery@3.3.9"));
    assert_eq!(jquery.licenses, vec![Arc::<str>::from("MIT")]);
    assert_eq!(components.iter().filter(|c| !c.licenses.is_empty()).count(), 5);
}

#[test]
fn trivy_gomod_without_cve_ids() {
    let r = one("trivy/gomod-vex.json.golden");
    assert_eq!(r.findings.len(), 4);
    assert!(r.findings.iter().all(|f| f.severity == Severity::Unknown && f.cvss.is_none()));
    let gms: Vec<_> = r.findings.iter().filter(|f| &*f.id == "GMS-2022-20").collect();
    assert_eq!(gms.len(), 3);
    let locations: Vec<_> = gms.iter().map(|f| f.location.as_deref().unwrap()).collect();
    assert_eq!(locations, ["go.mod", "submod/go.mod", "submod2/go.mod"]);
    assert_eq!(
        gms[0].package.as_ref().unwrap().purl.as_deref(),
        Some("pkg:golang/github.com/docker/distribution@v2.7.1%2Bincompatible")
    );
    let text = find(&r, "CVE-2021-38561", "golang.org/x/text");
    assert_eq!(&*text.title, "CVE-2021-38561", "no Title: the id");
    assert_eq!(text.package.as_ref().unwrap().fixed_version.as_deref(), Some("0.3.7"));
}

#[test]
fn trivy_kbom_keeps_comma_separated_fixed_versions() {
    let r = one("trivy/minikube-kbom.json.golden");
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("testdata/fixtures/sbom/minikube-kbom.json"))]);
    let f = find(&r, "CVE-2023-2431", "k8s.io/kubelet");
    let pkg = f.package.as_ref().unwrap();
    assert_eq!(pkg.fixed_version.as_deref(), Some("1.24.14, 1.25.9, 1.26.4, 1.27.1"));
    assert_eq!(pkg.purl.as_deref(), Some("pkg:k8s/k8s.io%2Fkubelet@1.27.0"));
    assert_eq!(&*f.title, "Bypass of seccomp profile enforcement");
    assert_eq!((f.severity, f.cvss), (Severity::Low, Some(3.4)));
}

#[test]
fn trivy_helm_misconfigurations() {
    let r = one("trivy/helm_testchart.json.golden");
    let repo = Artifact::Other(Arc::from("testdata/fixtures/repo/helm_testchart"));
    assert_eq!(r.scanned, vec![repo.clone()]);
    assert_eq!(kinds(&r.findings), BTreeMap::from([(FindingKind::Misconfiguration, 6)]));
    assert_eq!(ids(&r), ["KSV-0001", "KSV-0030", "KSV-0104", "KSV-0110", "KSV-0117", "KSV-0118"]);
    assert!(r.findings.iter().all(|f| *f.artifact == repo));
    let ksv1 = by_id(&r, "KSV-0001");
    assert_eq!(ksv1.aliases, vec![Arc::<str>::from("KSV001")], "the Rego namespace's short id");
    assert_eq!(&*ksv1.title, "Can elevate its own privileges");
    assert_eq!(ksv1.severity, Severity::Medium);
    assert_eq!(ksv1.location.as_deref(), Some("templates/deployment.yaml:28"));
    assert_eq!(ksv1.primary_url.as_deref(), Some("https://avd.aquasec.com/misconfig/ksv-0001"));
    assert_eq!(by_id(&r, "KSV-0117").location.as_deref(), Some("templates/deployment.yaml"), "no StartLine");
    assert_eq!(by_id(&r, "KSV-0118").severity, Severity::High);
    assert_eq!(by_id(&r, "KSV-0110").location.as_deref(), Some("templates/deployment.yaml:4"));
}

#[test]
fn trivy_secrets_golden() {
    let r = one("trivy/secrets.json.golden");
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("testdata/fixtures/repo/secrets"))]);
    assert_eq!(kinds(&r.findings), BTreeMap::from([(FindingKind::Secret, 2)]));
    let aws = by_id(&r, "aws-access-key-id");
    assert_eq!((&*aws.title, aws.severity), ("AWS Access Key ID", Severity::Critical));
    assert_eq!(aws.location.as_deref(), Some("deploy.sh:3"));
    let custom = by_id(&r, "mysecret");
    assert_eq!((&*custom.title, custom.severity), ("My Secret", Severity::High));
    assert_eq!(custom.location.as_deref(), Some("deploy.sh:7"));
    // Match/Code (including an unmasked token in a context line) are never copied.
    let debug = format!("{:?}", r.findings);
    assert!(!debug.contains("ghp_") && !debug.contains("AWS_ACCESS_KEY_ID") && !debug.contains("echo"));
}

#[test]
fn trivy_legacy_result_array() {
    let r = one("defectdojo/trivy/legacy_many_vulns.json");
    assert_eq!(r.source.format, Format::TrivyJson);
    assert_eq!(&*r.source.scanner, "Trivy");
    // Target "debian (debian 10.8)": the image name, then the OS.
    assert_eq!(r.scanned, vec![image("debian")]);
    assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/debian");
    assert_eq!(r.findings.len(), 93);
    assert_eq!(
        severities(&r.findings),
        BTreeMap::from([(Severity::Low, 65), (Severity::High, 18), (Severity::Medium, 9), (Severity::Unknown, 1)])
    );
    assert!(r.findings.iter().all(|f| !f.fix_available()), "no FixedVersion anywhere in the file");
    let temp = by_id(&r, "TEMP-0981404-911A2F");
    assert_eq!((&*temp.title, &*temp.package.as_ref().unwrap().name), ("TEMP-0981404-911A2F", "libzstd1"));
    let apt = find(&r, "CVE-2011-3374", "apt");
    assert_eq!((apt.severity, apt.cvss), (Severity::Low, Some(3.7)));
    assert_eq!(apt.published, ts("2019-11-26T00:15:00Z"));
    assert_eq!(apt.location.as_deref(), Some("debian (debian 10.8)"));
}

#[test]
fn trivy_k8s_cluster_report() {
    let reports = common::reports("defectdojo/trivy/kubernetes.json");
    let workloads: Vec<String> = reports.iter().map(|r| r.source.workload.as_ref().unwrap().to_string()).collect();
    assert_eq!(
        workloads,
        [
            "Deployment/default/redis-follower",
            "Deployment/default/redis-leader",
            "Service/default/redis-follower",
            "Service/default/redis-leader"
        ]
    );
    let follower = &reports[0];
    let deploy = object("Deployment", Some("default"), "redis-follower");
    let follower_image = image("gcr.io/google_samples/gb-redis-follower:v2");
    assert_eq!(follower.scanned, vec![follower_image.clone(), deploy.clone()]);
    assert_eq!(
        kinds(&follower.findings),
        BTreeMap::from([(FindingKind::Vulnerability, 5), (FindingKind::Misconfiguration, 5)])
    );
    let apt = find(follower, "CVE-2020-27350", "apt");
    assert_eq!(*apt.artifact, follower_image);
    assert_eq!(apt.aliases, vec![Arc::<str>::from("DSA-4808-1")]);
    assert_eq!((apt.severity, apt.cvss), (Severity::Medium, Some(5.7)));
    assert_eq!(apt.package.as_ref().unwrap().fixed_version.as_deref(), Some("1.8.2.2"));
    let ksv1 = by_id(follower, "KSV001");
    assert_eq!(*ksv1.artifact, deploy);
    assert_eq!(ksv1.severity, Severity::Medium);
    assert_eq!(
        ksv1.location.as_deref(),
        Some(
            "Container 'follower' of Deployment 'redis-follower' should set 'securityContext.allowPrivilegeEscalation' to false"
        )
    );
    let misconf_ids: Vec<_> =
        follower.findings.iter().filter(|f| f.kind == FindingKind::Misconfiguration).map(|f| &*f.id).collect();
    assert_eq!(misconf_ids, ["KSV001", "KSV003", "KSV011", "KSV012", "KSV014"]);

    let leader = &reports[1];
    assert_eq!(leader.scanned[0], image("docker.io/library/redis:6.0.5"));
    assert_eq!(leader.findings.len(), 10);

    let service = &reports[2];
    assert_eq!(service.scanned, vec![object("Service", Some("default"), "redis-follower")]);
    assert!(service.findings.is_empty());
}

#[test]
fn trivy_detect_claims_only_trivy_json() {
    let claimed = [
        "trivy/alpine-310.json.golden",
        "trivy/gomod-vex.json.golden",
        "trivy/minikube-kbom.json.golden",
        "defectdojo/trivy/kubernetes.json",
        "trivy-operator/full_report.json",
    ];
    let not_claimed = [
        "trivy/alpine-310.sarif.golden",
        "trivy/npm-cyclonedx.json.golden",
        "trivy/centos-7-cyclonedx.json",
        "trivy/centos-7-spdx.json",
        "trivy/conda-spdx.json.golden",
        "trivy/minikube-kbom.json",
        "trivy-operator/alpine_sbom.json",
    ];
    let load = |rel: &str| -> serde_json::Value { serde_json::from_slice(&common::fixture_bytes(rel)).unwrap() };
    for rel in claimed {
        assert!(trivy_json::detect(&load(rel)), "{rel}");
    }
    for rel in not_claimed {
        assert!(!trivy_json::detect(&load(rel)), "{rel}");
        assert!(!trivy_operator::detect(&load(rel)), "{rel}");
    }
}
