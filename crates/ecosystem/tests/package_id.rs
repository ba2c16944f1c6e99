//! Package identity: the npm case from ../shared/cases, the purl-spec's own test suite
//! (tests/data/purl-spec-tests.json, see SOURCES.md), and the per-type rules.

mod common;

use stance_ecosystem::{PackageId, Purl};

fn id(purl: &str) -> PackageId {
    PackageId::from_purl(purl).unwrap_or_else(|e| panic!("{purl}: {e}"))
}

/// ../shared/cases/npm-scoped-purl-encoded-slash: every spelling is one package.
#[test]
fn scoped_npm_package_in_every_spelling_is_one_package() {
    let spec = id("pkg:npm/%40babel/traverse@7.22.5");
    for other in [
        "pkg:npm/%40babel%2Ftraverse@7.22.5",
        "pkg:npm/@babel/traverse",
        "pkg:npm/@babel/traverse@7.22.5",
        "pkg:npm/%40babel/traverse",
        "pkg:npm/%40babel%2ftraverse?foo=bar#sub/path",
    ] {
        assert_eq!(id(other), spec, "{other}");
    }
    for (ns, name) in [(Some("@babel"), "traverse"), (Some("babel"), "traverse"), (None, "@babel/traverse")] {
        assert_eq!(PackageId::from_parts("npm", ns, name).expect("valid"), spec, "{ns:?} {name}");
    }
    assert_eq!(spec.namespace(), Some("@babel"));
    assert_eq!(spec.name(), "traverse");
    assert_eq!(spec.to_purl(), "pkg:npm/%40babel/traverse");
    // The version is kept apart, and the literal `@` does not swallow the name into it.
    let p = Purl::parse("pkg:npm/@babel/traverse@7.22.5").expect("valid");
    assert_eq!(p.version.as_deref(), Some("7.22.5"));
    assert_eq!(Purl::parse("pkg:npm/@babel/traverse").expect("valid").version, None);
    // Different packages stay different.
    assert_ne!(id("pkg:npm/%40babel/core"), spec);
    assert_ne!(id("pkg:npm/traverse"), spec);
    assert_ne!(id("pkg:npm/%40Babel/traverse"), spec, "npm is case-sensitive (purl-spec npm definition)");
    assert_ne!(id("pkg:npm/JSONStream"), id("pkg:npm/jsonstream"), "two distinct npm packages");
}

#[test]
fn per_type_normalisation() {
    // PEP 503.
    assert_eq!(id("pkg:pypi/Django_Rest.Framework@3.0"), id("pkg:pypi/django-rest-framework"));
    assert_eq!(id("pkg:pypi/zope..interface"), id("pkg:pypi/zope-interface"));
    assert_eq!(PackageId::from_parts("PyPI", None, "Jinja2").expect("valid"), id("pkg:pypi/jinja2"));
    // Case-insensitive types.
    assert_eq!(id("pkg:github/Package-URL/Purl-Spec"), id("pkg:github/package-url/purl-spec"));
    assert_eq!(id("pkg:deb/Debian/OpenSSL@3.0"), id("pkg:deb/debian/openssl"));
    assert_eq!(id("pkg:composer/Laravel/Framework"), id("pkg:composer/laravel/framework"));
    // Registries that fold case.
    assert_eq!(id("pkg:nuget/Newtonsoft.Json@13.0.1"), id("pkg:nuget/newtonsoft.json"));
    assert_eq!(id("pkg:cargo/Serde_JSON"), id("pkg:cargo/serde-json"));
    // Case-sensitive types.
    assert_ne!(id("pkg:maven/org.Apache/Log4j"), id("pkg:maven/org.apache/log4j"));
    assert_ne!(id("pkg:golang/github.com/Sirupsen/logrus"), id("pkg:golang/github.com/sirupsen/logrus"));
    // Maven group from an SBOM's parts.
    assert_eq!(
        PackageId::from_parts("maven", Some("org.apache.logging.log4j"), "log4j-core").expect("valid"),
        id("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar")
    );
    // Distribution packages: the namespace (the distribution) is part of the identity.
    assert_ne!(id("pkg:deb/debian/openssl"), id("pkg:deb/ubuntu/openssl"));
    assert_eq!(id("pkg:apk/alpine/openssl@1.1.1j-r0?arch=x86_64&distro=3.13"), id("pkg:apk/alpine/openssl"));
    assert_eq!(id("pkg:apk/alpine/openssl").scheme(), stance_ecosystem::Scheme::Apk);
}

#[test]
fn rejects_what_is_not_a_package() {
    for bad in [
        "",
        "openssl",
        "pkg:",
        "pkg:npm",
        "pkg:npm/",
        "http://example.com/x",
        "pkg:1npm/x",
        "pkg:npm/%é",
        "pkg:npm/a%2",
    ] {
        assert!(PackageId::from_purl(bad).is_err(), "{bad:?}");
    }
    assert!(PackageId::from_parts("npm", Some("@babel"), "  ").is_err());
    assert!(PackageId::from_parts("", None, "x").is_err());
    let msg = PackageId::from_purl("openssl").expect_err("not a purl").to_string();
    assert!(msg.contains("pkg:<type>/"), "{msg}");
}

/// Applies our identity to the spec's expected parts.
fn parts_id(v: &serde_json::Value) -> PackageId {
    PackageId::from_parts(v["type"].as_str().expect("type"), v["namespace"].as_str(), v["name"].as_str().expect("name"))
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[test]
fn purl_spec_test_suite() {
    let data: serde_json::Value = serde_json::from_str(&common::data("purl-spec-tests.json")).expect("json");
    let (mut parsed, mut built, mut refused, mut lenient) = (0, 0, 0, Vec::new());
    let mut mismatches = Vec::new();
    for t in data["tests"].as_array().expect("tests") {
        let failure = t["expected_failure"].as_bool().unwrap_or(false);
        match (t["test_type"].as_str(), failure) {
            (Some("parse"), false) => {
                let input = t["input"].as_str().expect("input");
                let want = &t["expected_output"];
                let p = match Purl::parse(input) {
                    Ok(p) => p,
                    Err(e) => {
                        mismatches.push(format!("{input}: {e}"));
                        continue;
                    }
                };
                if p.id != parts_id(want) {
                    mismatches.push(format!("{input}: {:?} != {:?}", p.id, parts_id(want)));
                }
                // Versions of these types are case-insensitive (purl-spec type definitions).
                let fold = ["huggingface", "oci", "pypi", "vscode-extension"].contains(&p.id.ty());
                let norm = |v: Option<&str>| v.map(|v| if fold { v.to_lowercase() } else { v.to_string() });
                assert_eq!(norm(p.version.as_deref()), norm(want["version"].as_str()), "{input}");
                assert_eq!(p.subpath.as_deref(), want["subpath"].as_str(), "{input}");
                parsed += 1;
            }
            (Some("parse"), true) => {
                let input = t["input"].as_str().expect("input");
                match Purl::parse(input) {
                    Err(_) => refused += 1,
                    Ok(_) => lenient.push(input.to_string()),
                }
            }
            (Some("build"), false) => {
                let want = t["expected_output"].as_str().expect("purl");
                if parts_id(&t["input"]) != id(want) {
                    mismatches.push(format!("build {want}: {:?} != {:?}", parts_id(&t["input"]), id(want)));
                }
                built += 1;
            }
            _ => {}
        }
    }
    // Inputs the spec says must fail that are accepted on purpose (module docs: they still
    // name one package; only type-specific validity or canonical case is broken).
    let accepted = [
        "pkg:chrome-extension/44444algnefjeiefhmpklpfiohadpglk",
        "pkg:chrome-extension/dogs",
        "pkg:chrome-extension/dlpngalgnefjeiefhmpklpfiohadpglk@1.2.3.4.5",
        "pkg:chrome-extension/dlpngalgnefjeiefhmpklpfiohadpglk@1.2.3-beta",
        "pkg:cpan/LWP::UserAgent@6.7.6",
        "pkg:cpan/GDT/URI::PackageURL",
        "pkg:cpan/URI::PackageURL",
        "pkg:gem/jruby-launcher@1.1.2?Platform=java",
        "pkg:julia/Dates",
        "pkg:otp/namespace/hex@2.1.1",
        "pkg:Rpm/fedora/curl@7.50.3-1.fc25?Arch=i386&Distro=fedora-25",
        "pkg:swift/Alamofire@5.4.3",
        "pkg:vcpkg/boost/asio@1.84.0",
        "pkg:vscode-extension/java@1.46.2025091308",
    ];
    let unexpected: Vec<&String> = lenient.iter().filter(|l| !accepted.contains(&l.as_str())).collect();
    assert!(unexpected.is_empty(), "accepted what the spec refuses: {unexpected:?}");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(parsed >= 150 && built >= 140, "parsed {parsed}, built {built}");
    assert!(refused >= 20, "refused only {refused} of the spec's failures; accepted {lenient:?}");
}

/// purl-spec `PURL-TYPES.rst` (rpm): a non-zero epoch is the `epoch` qualifier; Trivy writes
/// deb packages the same way (../shared/fixtures/trivy-operator/00-sbom-pod.yaml).
#[test]
fn the_epoch_qualifier_joins_deb_rpm_and_alpm_versions() {
    let with = |purl: &str, v: &str| Purl::parse(purl).expect("a purl").version_with_epoch(v).map(|c| c.into_owned());
    let deb = "pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1?arch=amd64&distro=debian-9.8&epoch=1";
    assert_eq!(with(deb, "2.29.2-1+deb9u1").as_deref(), Ok("1:2.29.2-1+deb9u1"));
    assert_eq!(with(deb, "1:2.29.2-1+deb9u2").as_deref(), Ok("1:2.29.2-1+deb9u2"), "already there");
    assert_eq!(with("pkg:rpm/centos/openssl-libs?epoch=01", "1.0.2k-16.el7").as_deref(), Ok("1:1.0.2k-16.el7"));
    assert_eq!(with("pkg:alpm/arch/vim?epoch=2", "9.0-1").as_deref(), Ok("2:9.0-1"));
    assert_eq!(with("pkg:rpm/fedora/curl?epoch=0", "8.0-1").as_deref(), Ok("8.0-1"), "0 is the default");
    assert_eq!(with("pkg:rpm/fedora/curl", "8.0-1").as_deref(), Ok("8.0-1"));
    // Other ecosystems have no such qualifier: left alone.
    assert_eq!(with("pkg:npm/left-pad?epoch=1", "1.0.0").as_deref(), Ok("1.0.0"));
    // Contradictions are errors, never a guess.
    for (purl, v) in [
        (deb, "2:2.29.2-1+deb9u1"),
        ("pkg:rpm/fedora/curl?epoch=x", "8.0-1"),
        ("pkg:rpm/fedora/curl?epoch=1&epoch=2", "8.0-1"),
        ("pkg:rpm/fedora/curl?epoch=1", "a:8.0-1"),
    ] {
        let e = with(purl, v).expect_err("no epoch can be told");
        assert!(e.to_string().contains("epoch"), "{e}");
    }
    assert_eq!(with("pkg:rpm/fedora/curl?epoch=1&epoch=01", "8.0").as_deref(), Ok("1:8.0"));
}
