//! CycloneDX and SPDX parsing against real SBOMs, BOMs with vulnerabilities and VEX
//! documents from ../shared/fixtures. Every expected value below was read from the file.

mod common;

use std::sync::Arc;

use common::reports;
use stance_core::model::{
    Artifact, Component, Finding, Format, ImageRef, ProductId, Report, Severity, VexFormat, VexProduct, VexState,
};

fn one(rel: &str) -> Report {
    let mut r = reports(rel);
    assert_eq!(r.len(), 1, "{rel}: one report per document");
    r.remove(0)
}

fn components(r: &Report) -> &[Component] {
    r.components.as_deref().expect("an SBOM has an inventory")
}

fn component<'a>(r: &'a Report, name: &str) -> &'a Component {
    components(r).iter().find(|c| &*c.name == name).unwrap_or_else(|| panic!("no component {name}"))
}

fn licenses(c: &Component) -> Vec<&str> {
    c.licenses.iter().map(|l| &**l).collect()
}

fn image(r: &Report) -> &ImageRef {
    assert_eq!(r.scanned.len(), 1, "{:?}", r.scanned);
    r.scanned[0].image().unwrap_or_else(|| panic!("subject is not an image: {:?}", r.scanned[0]))
}

fn finding<'a>(r: &'a Report, id: &str, package: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| &*f.id == id && f.package.as_ref().is_some_and(|p| &*p.name == package))
        .unwrap_or_else(|| panic!("no finding {id} in {package}"))
}

fn other(s: &str) -> Vec<Artifact> {
    vec![Artifact::Other(Arc::from(s))]
}

fn repository(s: &str) -> Vec<Artifact> {
    vec![Artifact::Repository(Arc::from(s))]
}

fn ts(s: &str) -> Option<jiff::Timestamp> {
    Some(s.parse().expect("test timestamp"))
}

fn opt(s: &str) -> Option<Arc<str>> {
    Some(Arc::from(s))
}

// ---------------------------------------------------------------------------------------
// CycloneDX: Trivy

#[test]
fn trivy_npm_cyclonedx_has_the_jquery_vulnerability() {
    let r = one("trivy/npm-cyclonedx.json.golden");
    assert_eq!(r.source.format, Format::CycloneDx);
    // 1.6+ object form of metadata.tools.
    assert_eq!(&*r.source.scanner, "trivy dev");
    assert_eq!(r.scanned_at, ts("2021-08-25T12:20:30Z"));
    // A Trivy scan of a local path: named like the Trivy JSON parser names it.
    assert_eq!(r.scanned, other("testdata/fixtures/repo/npm"));
    // 13 components, minus Trivy's `package-lock.json` grouping component.
    assert_eq!(components(&r).len(), 12);
    let jquery = component(&r, "jquery");
    assert_eq!(jquery.version, opt("3.3.9"));
    assert_eq!(jquery.purl, opt("pkg:npm/jquery@3.3.9"));
    assert_eq!(licenses(jquery), ["MIT"]);
    assert!(components(&r).iter().all(|c| &*c.name != "package-lock.json"));

    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!(&*f.id, "CVE-2019-11358");
    // Source `ghsa` rates it medium (Ubuntu says low; the source's rating is used).
    assert_eq!(f.severity, Severity::Medium);
    // Highest of CVSSv31 6.1 (nvd) and CVSSv3 5.6 (redhat); the CVSSv2 4.3 is ignored.
    assert_eq!(f.cvss, Some(6.1));
    let p = f.package.as_ref().unwrap();
    assert_eq!((&*p.name, p.installed_version.as_deref()), ("jquery", Some("3.3.9")));
    assert_eq!(p.purl, opt("pkg:npm/jquery@3.3.9"));
    // From "recommendation": "Upgrade jquery to version 3.4.0".
    assert_eq!(p.fixed_version, opt("3.4.0"));
    assert_eq!(f.primary_url, opt("https://avd.aquasec.com/nvd/cve-2019-11358"));
    assert_eq!(f.published, ts("2019-04-20T00:29:00Z"));
    assert_eq!(f.first_seen, ts("2021-08-25T12:20:30Z"));
    assert!(f.title.starts_with("jQuery before 3.4.0, as used in Drupal"), "{}", f.title);
    assert!(f.title.chars().count() <= 201);
    assert_eq!(*f.artifact, r.scanned[0]);
    assert!(f.vex.is_none());
}

/// `npm.json.golden` (Trivy JSON) and `npm-cyclonedx.json.golden` are the same Trivy scan.
#[test]
fn trivy_json_and_cyclonedx_of_the_same_scan_agree() {
    let json = one("trivy/npm.json.golden");
    let cdx = one("trivy/npm-cyclonedx.json.golden");
    assert_eq!(json.source.format, Format::TrivyJson);
    assert_eq!(json.scanned[0].key(), cdx.scanned[0].key());
    let identity = |r: &Report| {
        let mut ids: Vec<(String, String, Option<String>, String)> = r
            .findings
            .iter()
            .map(|f| {
                let p = f.package.as_ref().expect("vulnerabilities have a package");
                (
                    f.id.to_string(),
                    p.name.to_string(),
                    p.installed_version.as_deref().map(str::to_string),
                    f.artifact.key().0.to_string(),
                )
            })
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(identity(&json), identity(&cdx));
    assert_eq!(identity(&cdx).len(), 1);
    // Both state the fix and a medium severity.
    let (a, b) = (&json.findings[0], &cdx.findings[0]);
    assert_eq!(a.package.as_ref().unwrap().fixed_version, b.package.as_ref().unwrap().fixed_version);
    assert_eq!(a.severity, b.severity);
}

#[test]
fn trivy_image_boms_name_the_image() {
    // RepoTag only (the name is the scanned tar file): no digest, keyed by tag.
    let r = one("trivy/centos-7-cyclonedx.json");
    assert_eq!(image(&r).to_string(), "ghcr.io/aquasecurity/trivy-test-images:centos-7");
    assert_eq!(&*r.source.scanner, "trivy dev");
    assert_eq!(r.scanned_at, ts("2022-06-14T15:08:48Z"));
    // bash and openssl-libs; the `centos` operating-system component is not a package.
    assert_eq!(components(&r).len(), 2);
    let ssl = component(&r, "openssl-libs");
    assert_eq!(ssl.purl, opt("pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810"));
    assert_eq!(licenses(ssl), ["OpenSSL+"]);
    assert_eq!(licenses(component(&r, "bash")), ["GPLv3+"]);
    assert!(r.findings.is_empty());

    // CycloneDX 1.7 from Trivy, 161 components of which one is the `debian` OS.
    let r = one("trivy/fluentd-multiple-lockfiles.cdx.json.golden");
    assert_eq!(image(&r).to_string(), "ghcr.io/aquasecurity/trivy-test-images:fluentd-multiple-lockfiles");
    assert_eq!(components(&r).len(), 160);
    let apt = component(&r, "apt");
    assert_eq!(apt.purl, opt("pkg:deb/debian/apt@1.8.2?arch=amd64&distro=debian-10.2"));
    assert_eq!(licenses(apt), ["GPL-2.0-or-later", "GPL-2.0-only"]);
    assert_eq!(component(&r, "zeitwerk").purl, opt("pkg:gem/zeitwerk@2.3.0"));
}

#[test]
fn trivy_operator_alpine_sbom_has_tag_and_digest() {
    // The Trivy plugin fixture of trivy-operator: Trivy 0.52.2 CycloneDX 1.5 of alpine:3.18.
    let r = one("trivy-operator/alpine_sbom.json");
    let img = image(&r);
    assert_eq!(
        img.to_string(),
        "docker.io/library/alpine:3.18@sha256:eece025e432126ce23f223450a0326fbebde39cdf496a85d8c016293fc851978"
    );
    assert_eq!(img.key().as_str(), "sha256:eece025e432126ce23f223450a0326fbebde39cdf496a85d8c016293fc851978");
    assert_eq!(&*r.source.scanner, "trivy 0.52.2");
    assert_eq!(r.scanned_at, ts("2023-11-09T23:34:52Z"));
    assert_eq!(components(&r).len(), 15);
    let zlib = component(&r, "zlib");
    assert_eq!(zlib.version, opt("1.2.13-r1"));
    assert_eq!(zlib.purl, opt("pkg:apk/alpine/zlib@1.2.13-r1?arch=x86_64&distro=3.18.4"));
    assert_eq!(licenses(zlib), ["Zlib"]);
}

#[test]
fn kubernetes_bom_is_about_the_cluster() {
    let r = one("trivy/minikube-kbom.json");
    assert_eq!(r.scanned, other("k8s.io/kubernetes@1.27.0"));
    assert_eq!(&*r.source.scanner, "trivy 0.45.1-15-g7bbd0d097");
    // 18 components minus the two `ubuntu` operating-system entries.
    assert_eq!(components(&r).len(), 16);
    let sched = component(&r, "registry.k8s.io/kube-scheduler");
    assert_eq!(sched.version, opt("sha256:5897d7a97d23dce25cbf36fcd6e919180a8ef904bf5156583ffdb6a733ab04af"));
    assert_eq!(component(&r, "k8s.io/kubelet").purl, opt("pkg:k8s/k8s.io%2Fkubelet@1.27.0"));
    assert!(r.findings.is_empty());
}

#[test]
fn secobserve_trivy_cyclonedx_vulnerabilities() {
    let r = one("secobserve/cyclonedx/trivy.json");
    assert_eq!(
        image(&r).to_string(),
        "docker.io/example/example-frontend:dev@sha256:73d3494bb53ebe41f806c08fc356c000c21fe4a5eddf23907646c4eab784ea19"
    );
    assert_eq!(&*r.source.scanner, "trivy 0.38.3");
    assert_eq!(components(&r).len(), 85);
    // `{expression}` licenses, several per component.
    assert_eq!(licenses(component(&r, "icu-libs")), ["MIT", "ICU", "Unicode-TOU"]);
    assert_eq!(licenses(component(&r, "ca-certificates")), ["MPL-2.0", "MIT"]);

    assert_eq!(r.findings.len(), 2);
    let f = finding(&r, "CVE-2023-29469", "libxml2");
    // Source `alpine` has no rating of its own: the worst rating (redhat medium) counts.
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.cvss, Some(5.9));
    let p = f.package.as_ref().unwrap();
    assert_eq!(p.installed_version, opt("2.10.3-r1"));
    assert_eq!(p.fixed_version, opt("2.10.4-r0"));
    assert_eq!(p.purl, opt("pkg:apk/alpine/libxml2@2.10.3-r1?distro=3.17.3"));
    assert_eq!(f.aliases, vec![Arc::<str>::from("GHSA-35m5-8cvj-8783"), Arc::from("alias 2")]);
    assert_eq!(&*f.title, "No description is available for this CVE.");
    assert_eq!(f.primary_url, opt("https://access.redhat.com/security/cve/CVE-2023-29469"));

    let f = finding(&r, "CVE-2023-28484", "icu-libs");
    // CVSSv31 5.9 medium and CVSSv4 8.8 high, both from redhat.
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.cvss, Some(8.8));
    assert_eq!(f.package.as_ref().unwrap().fixed_version, opt("72.2.0"));
}

#[test]
fn defectdojo_trivy_bom_one_finding_per_affected_package() {
    let r = one("defectdojo/cyclonedx/issue_9277.json");
    assert_eq!(
        image(&r).to_string(),
        "docker.io/library/ubuntu:latest@sha256:6042500cf4b44023ea1894effe7890666b0c5c7871ed83a97c36c76ae560bb9b"
    );
    assert_eq!(&*r.source.scanner, "trivy 0.48.1");
    assert_eq!(components(&r).len(), 101);
    // 10 vulnerabilities affecting 14 packages.
    assert_eq!(r.findings.len(), 14);
    for pkg in ["gcc-12-base", "libgcc-s1", "libstdc++6"] {
        let f = finding(&r, "CVE-2022-27943", pkg);
        assert_eq!(f.package.as_ref().unwrap().installed_version, opt("12.3.0-1ubuntu1~22.04"));
        assert_eq!(f.severity, Severity::Low, "ubuntu's own rating");
    }
    assert_eq!(
        finding(&r, "CVE-2022-27943", "libstdc++6").package.as_ref().unwrap().purl,
        opt("pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04?arch=amd64&distro=ubuntu-22.04")
    );

    let f = finding(&r, "CVE-2016-2781", "coreutils");
    // Ratings: cbl-mariner medium, nvd medium, redhat medium, ubuntu low; source is ubuntu.
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.cvss, Some(8.6));
    assert_eq!(f.published, ts("2017-02-07T15:59:00Z"));
    assert_eq!(f.package.as_ref().unwrap().fixed_version, None);

    // The affected version carries the epoch the component version leaves out.
    let f = finding(&r, "CVE-2017-11164", "libpcre3");
    assert_eq!(f.package.as_ref().unwrap().installed_version, opt("2:8.39-13ubuntu0.22.04.1"));
    assert_eq!(component(&r, "libpcre3").version, opt("8.39-13ubuntu0.22.04.1"));
    assert_eq!(f.cvss, Some(7.5));

    // This hand-edited file's TEMP advisory names a Debian purl that is not a component:
    // the package comes from the ref itself.
    let f = finding(&r, "TEMP-0290435-0B57B5", "tar");
    let p = f.package.as_ref().unwrap();
    assert_eq!(p.purl, opt("pkg:deb/debian/tar@1.30%2Bdfsg-6?arch=amd64&distro=debian-10.12"));
    assert_eq!(p.installed_version, opt("1.30+dfsg-6"));
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.cvss, None);
    assert_eq!(f.primary_url, opt("https://security-tracker.debian.org/tracker/TEMP-0290435-0B57B5"));
    assert_eq!(*f.artifact, r.scanned[0]);
}

// ---------------------------------------------------------------------------------------
// CycloneDX: Grype and syft

#[test]
fn grype_cyclonedx_vulnerabilities() {
    let r = one("secobserve/cyclonedx/grype.json");
    // Grype names the image `example/example:dev` and gives the digest as version.
    assert_eq!(
        image(&r).to_string(),
        "docker.io/example/example:dev@sha256:88901af20b50287be153ec4f20ed78f947eb5fa0d0a52432ced6e261b66b6cbc"
    );
    assert_eq!(&*r.source.scanner, "grype 0.59.1");
    assert_eq!(r.scanned_at, ts("2023-04-12T19:55:50Z"));
    assert_eq!(components(&r).len(), 106);
    assert_eq!(licenses(component(&r, "zstd-libs")), ["BSD-3-Clause", "GPL-2.0-or-later"]);
    assert_eq!(r.findings.len(), 8);

    // Grype's GHSA without a CVE alias stays a GHSA; the self-reference is not an alias.
    let f = finding(&r, "GHSA-43fp-rhv2-5gv8", "certifi");
    assert!(f.aliases.is_empty());
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.cvss, None);
    assert_eq!(&*f.title, "Certifi removing TrustCor root certificate");
    assert_eq!(f.package.as_ref().unwrap().purl, opt("pkg:pypi/certifi@2022.12.7"));
    assert_eq!(f.package.as_ref().unwrap().installed_version, opt("2022.12.7"));

    let f = finding(&r, "CVE-2018-20225", "pip");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.cvss, Some(7.8));
    assert!(f.title.starts_with("** DISPUTED ** An issue was discovered in pip"));

    // Only a CVSSv2 score: no CVSS (v3+) score.
    let f = finding(&r, "CVE-2007-4559", "python");
    assert_eq!(f.cvss, None);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.package.as_ref().unwrap().purl, opt("pkg:generic/python@3.11.3"));

    // The same CVE in five MariaDB packages: one finding each.
    let maria: Vec<&str> =
        r.findings.iter().filter(|f| &*f.id == "CVE-2022-47015").map(|f| &*f.package.as_ref().unwrap().name).collect();
    assert_eq!(maria, ["mariadb-client", "mariadb-common", "mariadb-dev", "mariadb-embedded", "mysql-client"]);
}

#[test]
fn syft_mongo_image_bom() {
    let r = one("guac/big-mongo-cyclonedx.json");
    assert_eq!(
        image(&r).to_string(),
        "docker.io/library/mongo@sha256:fd73df9425bd48f25d7e913422af8124a6eadbd5d99f67bbd4a8b121f59b1187"
    );
    assert_eq!(&*r.source.scanner, "syft 0.58.0");
    assert_eq!(r.scanned_at, ts("2022-10-08T14:23:54Z"));
    // 293 components, minus syft's `ubuntu 20.04` operating-system entry.
    assert_eq!(components(&r).len(), 292);
    let server = component(&r, "mongodb-org-server");
    assert_eq!(server.version, opt("6.0.2"));
    assert_eq!(
        server.purl,
        opt("pkg:deb/ubuntu/mongodb-org-server@6.0.2?arch=amd64&upstream=mongodb-org&distro=ubuntu-20.04")
    );
    assert_eq!(licenses(component(&r, "adduser")), ["GPL-2.0-only"]);
}

// ---------------------------------------------------------------------------------------
// CycloneDX: CycloneDX project examples (1.2–1.4), Maven, npm, Composer, Go

#[test]
fn juice_shop_npm_sbom() {
    let r = one("cyclonedx-bom-examples/SBOM/juice-shop/via_npm/flat/bom.1.4.json");
    // metadata.component.externalReferences[type=vcs] (the tool's own vcs ref is ignored).
    assert_eq!(r.scanned, repository("github.com/juice-shop/juice-shop"));
    assert_eq!(&*r.source.scanner, "cyclonedx-library 1.13.3, cyclonedx-npm 1.9.2");
    assert_eq!(r.scanned_at, None);
    assert_eq!(components(&r).len(), 1115);
    // npm scopes are the group.
    let babel = component(&r, "@babel/helper-string-parser");
    assert_eq!(babel.version, opt("7.19.4"));
    assert_eq!(babel.purl, opt("pkg:npm/%40babel/helper-string-parser@7.19.4#packages/babel-helper-string-parser"));
    assert_eq!(component(&r, "@nlpjs/core").purl, opt("pkg:npm/%40nlpjs/core@4.26.1"));
    // `{expression}` without its redundant parentheses; `{license:{name}}` as written.
    assert_eq!(licenses(component(&r, "rc")), ["BSD-2-Clause OR MIT OR Apache-2.0"]);
    assert_eq!(licenses(component(&r, "atob")), ["MIT OR Apache-2.0"]);
    assert_eq!(licenses(component(&r, "chainsaw")), ["MIT/X11"]);
    assert_eq!(licenses(component(&r, "express")), ["MIT"]);
    assert!(r.findings.is_empty());
}

#[test]
fn dropwizard_maven_sbom_spec_1_2() {
    let r = one("cyclonedx-bom-examples/SBOM/dropwizard-1.3.15/bom.json");
    assert_eq!(r.scanned, other("io.dropwizard:dropwizard-parent@1.3.15"));
    assert_eq!(&*r.source.scanner, "CycloneDX Maven plugin 2.0.2");
    assert_eq!(r.scanned_at, ts("2020-08-02T21:27:04Z"));
    assert_eq!(components(&r).len(), 167);
    // Maven names are `group:artifact`, as Trivy JSON writes them.
    let guava = component(&r, "com.google.guava:guava");
    assert_eq!(guava.version, opt("24.1.1-jre"));
    assert_eq!(guava.purl, opt("pkg:maven/com.google.guava/guava@24.1.1-jre?type=jar"));
    assert_eq!(licenses(guava), ["Apache-2.0"]);
    assert_eq!(
        licenses(component(&r, "org.glassfish.hk2:osgi-resource-locator")),
        ["CDDL-1.0 OR GPL-2.0-with-classpath-exception"]
    );
    assert_eq!(
        licenses(component(&r, "ch.qos.logback:logback-core")),
        ["EPL-1.0", "GNU Lesser General Public License"]
    );
    assert_eq!(components(&r).iter().filter(|c| c.licenses.is_empty()).count(), 34);
}

#[test]
fn laravel_composer_and_proton_bridge_go_sboms() {
    let r = one("cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.4.json");
    assert_eq!(r.scanned, other("cyclonedx/cyclonedx-php-composer-demo@dev-master"));
    assert_eq!(&*r.source.scanner, "cyclonedx-php-composer in-dev");
    assert_eq!(components(&r).len(), 62);
    let fw = component(&r, "laravel/framework");
    assert_eq!(fw.version, opt("v7.30.6"));
    assert_eq!(fw.purl, opt("pkg:composer/laravel/framework@v7.30.6"));
    assert_eq!(licenses(fw), ["MIT"]);

    let r = one("cyclonedx-bom-examples/SBOM/proton-bridge/proton-bridge-v1.8.0.bom.json");
    assert_eq!(r.scanned, repository("github.com/protonmail/proton-bridge"));
    assert_eq!(&*r.source.scanner, "cyclonedx-gomod v0.6.1");
    assert_eq!(r.scanned_at, ts("2021-05-16T15:10:53Z"));
    assert_eq!(components(&r).len(), 201);
    let bbloom = component(&r, "github.com/AndreasBriese/bbloom");
    assert_eq!(bbloom.purl, opt("pkg:golang/github.com/AndreasBriese/bbloom@v0.0.0-20190306092124-e2d15f34fcf9"));
    assert_eq!(licenses(bbloom), ["CC0-1.0", "MIT"]);
}

#[test]
fn quarkus_maven_sbom() {
    let r = one("guac/quarkus-deps-cyclonedx.json");
    assert_eq!(r.scanned, other("org.acme:getting-started@1.0.0-SNAPSHOT"));
    assert_eq!(&*r.source.scanner, "CycloneDX Maven plugin 2.7.1");
    assert_eq!(r.scanned_at, ts("2022-11-09T11:14:31Z"));
    assert_eq!(components(&r).len(), 94);
    let c = component(&r, "io.quarkus:quarkus-fs-util");
    assert_eq!(c.version, opt("0.0.9"));
    assert_eq!(c.purl, opt("pkg:maven/io.quarkus/quarkus-fs-util@0.0.9?type=jar"));
    assert_eq!(licenses(c), ["Apache-2.0"]);
}

// ---------------------------------------------------------------------------------------
// CycloneDX VEX

#[test]
fn standalone_vex_references_another_bom() {
    // No components: a VEX document about other scanners' findings, not findings of its own.
    let r = one("cyclonedx-bom-examples/VEX/vex.json");
    assert!(r.scanned.is_empty() && r.findings.is_empty() && r.components.is_none());
    let doc = r.vex.as_ref().unwrap();
    assert_eq!(doc.format, VexFormat::CycloneDx);
    assert_eq!(doc.statements.len(), 1);
    let s = &doc.statements[0];
    assert_eq!(&*s.path, "vulnerabilities[0]");
    let ids: Vec<&str> = s.vulnerabilities.iter().map(|v| &**v).collect();
    assert_eq!(ids, ["CVE-2020-25649", "SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302"]);
    assert_eq!(s.state, VexState::NotAffected);
    assert_eq!(s.justification, opt("code_not_reachable"));
    assert_eq!(s.action, opt("will_not_fix, update"));
    assert!(s.impact.as_deref().unwrap().starts_with("Automated dataflow analysis"));
    // `updated` is the statement's time.
    assert_eq!(s.timestamp, ts("2021-10-26T00:00:00Z"));
    // affects[].ref is a bom-link `urn:cdx:<serial>/1#<purl>` into the SBOM VEX/bom.json.
    let [VexProduct { id: ProductId::Package(p), subcomponents }] = &s.products[..] else { panic!("{:?}", s.products) };
    assert!(subcomponents.is_empty());
    assert_eq!(p.id.to_purl(), "pkg:maven/com.fasterxml.jackson.core/jackson-databind");
    assert_eq!(p.version.as_deref(), Some("2.10.0"));

    // The SBOM it refers to (spec 1.3) names that very package.
    let bom = one("cyclonedx-bom-examples/VEX/bom.json");
    assert!(bom.vex.is_none());
    assert_eq!(bom.scanned, other("com.example:example-app@1.0.0"));
    assert_eq!(components(&bom).len(), 3);
    let databind = component(&bom, "com.fasterxml.jackson.core:jackson-databind");
    assert_eq!(databind.purl, opt("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"));
    assert_eq!(licenses(databind), ["Apache-2.0"]);
}

#[test]
fn cisa_vex_case_2_product_not_affected() {
    let r = one("cyclonedx-bom-examples/VEX/CISA-Use-Cases/Case-2/vex.json");
    assert!(r.findings.is_empty());
    assert_eq!(r.scanned_at, ts("2022-03-03T00:00:00Z"));
    let doc = r.vex.as_ref().unwrap();
    assert_eq!(doc.statements.len(), 19);
    let ids: Vec<String> = (11896..=11914).map(|n| format!("CVE-2020-{n}")).collect();
    assert_eq!(doc.statements.iter().map(|s| s.vulnerabilities[0].to_string()).collect::<Vec<_>>(), ids);
    for s in &doc.statements {
        assert_eq!(s.state, VexState::NotAffected);
        assert_eq!(s.justification, opt("code_not_reachable"));
        // `affects` names the subject itself (bom-ref `product-ABC`), a product known by
        // name only: nothing Stance could find in a scan, so it decides no finding.
        assert_eq!(s.products.len(), 1);
        assert!(matches!(&s.products[0].id, ProductId::Unidentified(n) if n == "other:ABC@4.2"), "{:?}", s.products);
        // No time of its own: the document's.
        assert_eq!(s.timestamp, ts("2022-03-03T00:00:00Z"));
    }
}

// ---------------------------------------------------------------------------------------
// SPDX

#[test]
fn spdx_security_references_become_findings() {
    let r = one("spdx-examples/04-SBOMwSecurity.json");
    assert_eq!(r.source.format, Format::Spdx);
    // Only a `Person:` creator: no tool.
    assert_eq!(&*r.source.scanner, "SPDX");
    assert_eq!(r.scanned_at, ts("2023-05-12T18:30:22Z"));
    // DESCRIBES relationship → tools-java, whose purl is pkg:github/spdx/tools-java.
    assert_eq!(r.scanned, repository("github.com/spdx/tools-java"));
    assert_eq!(components(&r).len(), 1);
    let xlsx = component(&r, "xlsx");
    assert_eq!(xlsx.purl, opt("pkg:maven/org.webjars.npm/xlsx@0.16.6"));
    assert!(xlsx.licenses.is_empty());
    assert_eq!(r.findings.len(), 1);
    let f = finding(&r, "CVE-2021-32012", "xlsx");
    assert_eq!(f.severity, Severity::Unknown);
    assert_eq!(f.package.as_ref().unwrap().installed_version, opt("0.16.6"));
    assert_eq!(f.primary_url, opt("https://nvd.nist.gov/vuln/detail/CVE-2021-32012"));

    let r = one("spdx-examples/ACME-v2.3.spdx.json");
    // documentDescribes → SPDXRef-Acme (sic: "Applcation").
    assert_eq!(r.scanned, other("Acme Applcation@2.3"));
    assert_eq!(components(&r).len(), 3);
    assert_eq!(licenses(component(&r, "elliptic")), ["MIT"]);
    assert_eq!(licenses(component(&r, "OpenSSL")), ["Apache-2.0"]);
    assert_eq!(component(&r, "alpine").version, opt("latest"));
    assert_eq!(r.findings.len(), 2);
    assert_eq!(finding(&r, "CVE-2020-28498", "elliptic").package.as_ref().unwrap().purl, opt("pkg:npm/elliptic@6.5.2"));
    assert_eq!(finding(&r, "CVE-2022-2274", "OpenSSL").package.as_ref().unwrap().installed_version, opt("3.0.4"));
}

#[test]
fn spdx_maven_examples_and_licenses() {
    for (rel, scanner) in [
        ("spdx-examples/examplemaven-0.0.1.spdx.json", "spdx-maven-plugin"),
        ("spdx-examples/examplemaven-0.0.1-enriched.spdx.json", "spdx-maven-plugin, Parlay"),
    ] {
        let r = one(rel);
        assert_eq!(r.scanned, other("examplemaven@0.0.1"), "{rel}");
        assert_eq!(&*r.source.scanner, scanner);
        assert_eq!(components(&r).len(), 5);
        // licenseConcluded NOASSERTION → licenseDeclared.
        let junit = component(&r, "JUnit");
        assert_eq!(licenses(junit), ["CPL-1.0"]);
        assert_eq!(junit.version, opt("3.8.1"));
        let core = component(&r, "Apache Log4j Core");
        assert!(core.licenses.is_empty() && core.version.is_none() && core.purl.is_none());
        // The "enriched" document adds relationships, no security references.
        assert!(r.findings.is_empty());
    }
}

#[test]
fn spdx_k8s_bom_example() {
    let r = one("spdx-examples/sbom.spdx.json");
    // documentDescribes names a package and a file; only the package is an artifact.
    assert_eq!(r.scanned, other("hello-server-src@0.1.0"));
    assert_eq!(&*r.source.scanner, "sigs.k8s.io/bom/pkg/spdx");
    assert_eq!(components(&r).len(), 3);
    let logger = component(&r, "pretty_env_logger");
    assert_eq!(logger.purl, opt("pkg:cargo/pretty_env_logger@0.4.0"));
    assert_eq!(licenses(logger), ["MIT OR Apache-2.0"]);
    assert_eq!(licenses(component(&r, "hyper")), ["MIT"]);
}

#[test]
fn syft_spdx_documents() {
    // syft 0.57, SPDX 2.2: no DESCRIBES at all; `PACKAGE_MANAGER` with an underscore.
    let r = one("guac/alpine-spdx.json");
    assert_eq!(r.scanned, other("alpine-latest"));
    assert_eq!(&*r.source.scanner, "syft-0.57.0");
    assert_eq!(r.scanned_at, ts("2022-09-21T14:54:15.500229Z"));
    assert_eq!(components(&r).len(), 14);
    let zlib = component(&r, "zlib");
    assert_eq!(zlib.purl, opt("pkg:alpine/zlib@1.2.12-r3?arch=x86_64&upstream=zlib&distro=alpine-3.16.2"));
    assert_eq!(licenses(zlib), ["Zlib"]);
    assert!(components(&r).iter().any(|c| licenses(c) == ["MPL-2.0 AND MIT"]));
    assert!(r.findings.is_empty(), "cpe23Type references are not findings");

    // syft 0.90, SPDX 2.3, 1 MB: the CONTAINER root with syft's own pkg:oci purl form.
    let r = one("guac/oci-kubectl-linux-amd64-spdx-1.json");
    assert_eq!(
        image(&r).to_string(),
        "k8supstream.azurecr.io/public/oss/kubernetes/kubectl:v1.28.1-linux-amd64\
         @sha256:ee398c1e436e28bb57d16e3fed395657e877890295483bf21c016acbab6b7fd1"
    );
    assert_eq!(&*r.source.scanner, "syft-0.90.0");
    assert_eq!(components(&r).len(), 88);
    let tz = component(&r, "tzdata");
    assert_eq!(tz.purl, opt("pkg:deb/debian/tzdata@2021a-1+deb11u10?arch=all&distro=debian-11"));
    assert!(tz.licenses.is_empty(), "NOASSERTION");
    assert_eq!(component(&r, "./staging/src/k8s.io/api").version, opt("(devel)"));
}

#[test]
fn trivy_spdx_documents() {
    // Trivy 0.58, SPDX 2.3: image facts in annotations; the purl's repository_url is
    // malformed (`index.docker.io%secoberve%2F…`) but RepoTag / RepoDigest are right.
    let r = one("secobserve/spdx/multiple_observations.json");
    assert_eq!(
        image(&r).to_string(),
        "ghcr.io/secobserve/secobserve-backend:1.20.0@sha256:ce5416f0ca293e258ac5c7d8500eb41198064904379c6b033416772e07c3cf36"
    );
    assert_eq!(&*r.source.scanner, "trivy-0.58.0");
    assert_eq!(r.scanned_at, ts("2024-12-21T15:02:40Z"));
    // 124 packages minus the image root and the `alpine` OPERATING-SYSTEM package.
    assert_eq!(components(&r).len(), 122);
    let zstd = component(&r, "zstd-libs");
    assert_eq!(licenses(zstd), ["BSD-3-Clause AND GPL-2.0-or-later"]);
    let django = component(&r, "Django");
    assert_eq!(django.version, None, "empty versionInfo");
    assert_eq!(django.purl, opt("pkg:pypi/django@5.1.2"));
    assert_eq!(licenses(django), ["BSD-3-Clause"]);
    // 16 advisory references on 7 packages (avd.aquasec.com URLs, lower-case ids).
    assert_eq!(r.findings.len(), 16);
    let f = finding(&r, "CVE-2024-9143", "libcrypto3");
    assert_eq!(f.primary_url, opt("https://avd.aquasec.com/nvd/cve-2024-9143"));
    assert_eq!(f.package.as_ref().unwrap().installed_version, opt("3.3.2-r0"));
    assert_eq!(r.findings.iter().filter(|f| &*f.package.as_ref().unwrap().name == "libpq").count(), 5);
    assert_eq!(finding(&r, "CVE-2024-53908", "Django").package.as_ref().unwrap().installed_version, None);

    // Trivy dev, SPDX 2.2: image facts in attributionTexts; no digest.
    let r = one("trivy/centos-7-spdx.json");
    assert_eq!(image(&r).to_string(), "ghcr.io/aquasecurity/trivy-test-images:centos-7");
    assert_eq!(&*r.source.scanner, "trivy-dev");
    assert_eq!(components(&r).len(), 2);
    let ssl = component(&r, "openssl-libs");
    // The golden's versionInfo and purl disagree (…-19.el7 vs …-16.el7); both kept as written.
    assert_eq!(ssl.version, opt("1:1.0.2k-19.el7"));
    assert_eq!(ssl.purl, opt("pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810"));
    assert_eq!(licenses(ssl), ["OpenSSL"]);
    assert_eq!(licenses(component(&r, "bash")), ["GPLv3+"]);
}

#[test]
fn trivy_spdx_filesystem_scans() {
    let r = one("trivy/conda-spdx.json.golden");
    assert_eq!(r.scanned, other("testdata/fixtures/repo/conda"));
    assert_eq!(&*r.source.scanner, "trivy-dev");
    assert_eq!(r.scanned_at, ts("2021-08-25T12:20:30Z"));
    assert_eq!(components(&r).len(), 2);
    assert_eq!(component(&r, "openssl").purl, opt("pkg:conda/openssl@1.1.1q"));
    assert_eq!(licenses(component(&r, "openssl")), ["OpenSSL"]);
    assert_eq!(licenses(component(&r, "pip")), ["MIT"]);

    let r = one("trivy/julia-spdx.json.golden");
    assert_eq!(r.scanned, other("testdata/fixtures/repo/julia"));
    // A, and two different packages named B; `Manifest.toml` is Trivy's grouping package.
    let names: Vec<&str> = components(&r).iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["A", "B", "B"]);
    assert_eq!(component(&r, "A").purl, opt("pkg:julia/A@1.9.0?uuid=ead4f63c-334e-11e9-00e6-e7f0a5f21b60"));
    assert!(components(&r).iter().all(|c| c.licenses.is_empty()));
}

// ---------------------------------------------------------------------------------------
// Through the loader: malformed documents become warnings naming the field.

#[test]
fn malformed_sboms_warn_with_the_field_path() {
    use stance::ingest::parse_bytes;
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    parse_bytes(
        "bad.cdx.json",
        br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","purl":["x"]}]}"#,
        &mut out,
        &mut warnings,
    );
    parse_bytes("bad.spdx.json", br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":7}]}"#, &mut out, &mut warnings);
    assert!(out.is_empty());
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].message.starts_with("CycloneDX: components[0].purl: invalid type"), "{}", warnings[0].message);
    assert!(warnings[1].message.starts_with("SPDX: packages[0].name: invalid type"), "{}", warnings[1].message);
}
