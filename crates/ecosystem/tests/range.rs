//! Ranges in Stance syntax and `vers:`, with the vers-spec's own parse and containment
//! vectors (`tests/data/vers`, see SOURCES.md).

mod common;

use stance_ecosystem::{RangeError, Scheme, VersionRange};

fn inside(scheme: Scheme, range: &str, v: &str) -> bool {
    VersionRange::parse(scheme, range)
        .unwrap_or_else(|e| panic!("{range}: {e}"))
        .contains(v)
        .unwrap_or_else(|e| panic!("{range} ∋ {v}: {e}"))
}

/// ../shared/cases/apk-openssl-letter-version: the banned range and the two SBOM versions.
#[test]
fn alpine_openssl_letter_releases_are_inside_the_banned_range() {
    for range in [">=1.1.1, <1.1.1k", "vers:apk/>=1.1.1|<1.1.1k", "vers:alpine/<1.1.1k|>=1.1.1"] {
        for v in ["1.1.1j-r0", "1.1.1-r0", "1.1.1", "1.1.1a", "1.1.1j-r9"] {
            assert!(inside(Scheme::Apk, range, v), "{v} in {range}");
        }
        for v in ["1.1.1k", "1.1.1k-r0", "1.1.1l", "1.1.0-r5", "1.1.1_rc1", "3.0.8-r0"] {
            assert!(!inside(Scheme::Apk, range, v), "{v} not in {range}");
        }
    }
}

#[test]
fn stance_syntax_is_kept() {
    let s = Scheme::Semver;
    assert!(inside(s, ">=2.0.0, <2.17.1", "2.14.1"));
    assert!(!inside(s, ">=2.0.0, <2.17.1", "2.17.1"));
    assert!(!inside(s, ">=2.0.0 && <2.17.1", "1.2.17"));
    assert!(inside(s, "", "1.0.0"));
    assert!(VersionRange::parse(s, "  ").expect("empty is any").is_any());
    assert!(inside(s, "!=1.0.0", "1.1.0"));
    assert!(!inside(s, "!=1.0.0", "1.0.0"));
    for eq in ["1.0.0", "=1.0.0", "==1.0.0", "= 1.0.0"] {
        assert!(inside(s, eq, "1.0.0"), "{eq}");
        assert!(!inside(s, eq, "1.0.1"), "{eq}");
    }
    assert!(inside(s, "<=1.0.0, >0.9.0", "1.0.0"));
    assert!(matches!(VersionRange::parse(s, "< 2.0 beta"), Err(RangeError::Syntax { .. })));
    assert!(matches!(VersionRange::parse(s, ">="), Err(RangeError::Syntax { .. })));
}

#[test]
fn a_bound_that_is_not_a_version_of_the_ecosystem_is_named() {
    let e = VersionRange::parse(Scheme::Apk, ">=1.1.1, <1.1.1k!").expect_err("invalid apk bound");
    match &e {
        RangeError::Bound { position, part, .. } => {
            assert_eq!(*position, 2);
            assert_eq!(part, "<1.1.1k!");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("bound 2 `<1.1.1k!`"), "{e}");
    assert!(e.to_string().contains("apk"), "{e}");
    // The same text is fine where it is a version (generic) or not (Debian needs a digit first).
    assert!(VersionRange::parse(Scheme::Generic, "<1.1.1k!").is_ok());
    assert!(VersionRange::parse(Scheme::Debian, "<openssl").is_err());
    assert!(matches!(
        VersionRange::parse(Scheme::Pep440, "vers:pypi/<1.0|>=lolwat"),
        Err(RangeError::Bound { position: 2, .. })
    ));
}

#[test]
fn contains_refuses_a_version_of_no_ecosystem() {
    let r = VersionRange::parse(Scheme::Apk, "<1.1.1k").expect("valid");
    assert!(matches!(r.contains("not a version"), Err(RangeError::Version(_))));
    // An `any` range needs no version at all.
    assert_eq!(VersionRange::parse(Scheme::Apk, "").expect("any").contains("???"), Ok(true));
}

#[test]
fn vers_type_must_match_the_package() {
    let e = VersionRange::parse(Scheme::Apk, "vers:npm/<1.0.0").expect_err("npm range for an apk package");
    assert!(matches!(e, RangeError::VersTypeMismatch { .. }), "{e:?}");
    assert!(VersionRange::parse(Scheme::Debian, "vers:deb/<1.0-1").is_ok());
    assert!(VersionRange::parse(Scheme::Debian, "vers:debian/<1.0-1").is_ok());
}

#[test]
fn vers_union_semantics() {
    let s = Scheme::Semver;
    let r = "vers:npm/<1.0.0|>=2.0.0|!=2.5.0|<3.0.0";
    assert!(inside(s, r, "0.1.0") && inside(s, r, "2.9.0"));
    assert!(!inside(s, r, "1.0.0") && !inside(s, r, "2.5.0") && !inside(s, r, "3.0.0"));
    let r = "vers:npm/<1.0.0|>=2.0.0|!=2.5.0";
    assert!(inside(s, r, "0.5.0"));
    assert!(!inside(s, r, "1.5.0"));
    assert!(inside(s, r, "2.0.0"));
    assert!(inside(s, r, "9.0.0"));
    assert!(!inside(s, r, "2.5.0"));
    let r = "vers:npm/>=1.0.0|<1.5.0|>=2.0.0|<2.5.0";
    assert!(inside(s, r, "1.2.0") && inside(s, r, "2.2.0"));
    assert!(!inside(s, r, "1.7.0") && !inside(s, r, "3.0.0") && !inside(s, r, "0.1.0"));
    assert!(inside(s, "vers:npm/1.0.0|3.0.0", "3.0.0"));
    assert!(!inside(s, "vers:npm/1.0.0|3.0.0", "2.0.0"));
    assert!(VersionRange::parse(s, "vers:npm/1.0.0|1.0").is_err(), "the same version twice");
    assert!(VersionRange::parse(s, "vers:npm/<1.0.0|<2.0.0").is_err(), "redundant");
    assert!(VersionRange::parse(s, "vers:npm/*|<2.0.0").is_err());
    assert!(VersionRange::parse(s, "VERS:npm/<2.0.0").is_err(), "scheme is lower case");
}

#[test]
fn vers_spec_canonical_parse_vectors() {
    let tests: serde_json::Value =
        serde_json::from_str(&common::data("vers/vers_canonical_parse_test.json")).expect("json");
    let mut n = 0;
    for t in tests["tests"].as_array().expect("tests") {
        let input = t["input"].as_str().expect("input");
        if input.starts_with("vers:datetime/") {
            continue; // the datetime scheme is not implemented (no package type uses it)
        }
        let parsed = VersionRange::parse_vers(input);
        if input == "vers:npm/>=2.0.0|<1.0.0" {
            // Deliberate: constraint order carries no meaning, so it is sorted instead of
            // refused (the spec's own containment vectors give unsorted ranges too).
            assert!(parsed.is_ok());
            continue;
        }
        if input == "vers:npm/1.0%252F0" {
            // Decoded once to `1.0%2F0`, which is no npm version: bounds are validated in
            // their ecosystem here, so this is refused as a bound, not as vers syntax.
            assert!(matches!(parsed, Err(RangeError::Bound { .. })), "{parsed:?}");
            continue;
        }
        if t["expected_failure"].as_bool().unwrap_or(false) {
            assert!(parsed.is_err(), "{input} should fail: {}", t["expected_message"]);
        } else {
            let r = parsed.unwrap_or_else(|e| panic!("{input}: {e}"));
            let want = t["expected_output"]["version_constraints"].as_array().expect("constraints");
            assert_eq!(r.constraints().len(), want.len(), "{input}");
            for (c, w) in r.constraints().iter().zip(want) {
                assert_eq!(c.comparator.as_str(), w[0].as_str().expect("op"), "{input}");
                assert_eq!(c.version.as_str(), w[1].as_str().expect("version"), "{input}");
            }
        }
        n += 1;
    }
    assert!(n >= 6, "{n}");
}

#[test]
fn vers_spec_containment_vectors() {
    let mut n = 0;
    for file in ["vers/pypi_range_containment_test.json", "vers/npm_range_containment_test.json"] {
        let tests: serde_json::Value = serde_json::from_str(&common::data(file)).expect("json");
        for t in tests["tests"].as_array().expect("tests") {
            let vers = t["input"]["vers"].as_str().expect("vers");
            let version = t["input"]["version"].as_str().expect("version");
            let r = VersionRange::parse_vers(vers).unwrap_or_else(|e| panic!("{vers}: {e}"));
            assert_eq!(r.contains(version), Ok(t["expected_output"].as_bool().expect("bool")), "{version} in {vers}");
            n += 1;
        }
    }
    assert!(n >= 11, "{n}");
}

#[test]
fn per_ecosystem_ranges() {
    assert!(inside(Scheme::Debian, "<1:2.0", "1.9"), "epoch 0 < epoch 1");
    assert!(inside(Scheme::Debian, ">=2.2~rc, <2.2-1", "2.2~rc-4"));
    assert!(inside(Scheme::Pep440, "<1.0", "1.0rc1"));
    assert!(!inside(Scheme::Pep440, "<1.0", "1.0.post1"));
    assert!(inside(Scheme::Maven, "<2.17.1", "2.17.1-rc1"));
    assert!(!inside(Scheme::Maven, "<2.17.1", "2.17.1.Final"));
    assert!(inside(Scheme::Rpm, "<1.0", "1.0~rc1"));
    assert!(inside(Scheme::Golang, "<v0.17.0", "v0.0.0-20220315160706-3147a52a75dd"));
    assert!(inside(Scheme::Nuget, "<13.0.1", "13.0.1-beta1"));
}

/// A bound without a release compares epoch and version only. Sources: rpm
/// `rpmio/rpmver.c` `rpmverOverlap` ("always matches if the side with no release has
/// SENSE_EQUAL"; otherwise equal E:V is outside `<` and `>`), and pacman
/// `test/util/vercmptest.sh` "mixed pkgrel inclusion" (`1.5` vs `1.5-1` is `0`, `1.1-1` vs
/// `1.0` is `1`) for alpm, which shares the rpm scheme. dpkg compares the whole version.
#[test]
fn rpm_and_alpm_bounds_without_a_release() {
    for (range, v, want) in [
        ("=5.6.0", "5.6.0-1.fc40", true),
        ("vers:rpm/5.6.0|5.6.1", "5.6.1-2.fc40", true),
        ("<=5.6.0", "5.6.0-9", true),
        (">=5.6.0", "5.6.0-0", true),
        ("<5.6.0", "5.6.0-1", false),
        (">5.6.0", "5.6.0-1", false),
        ("!=5.6.0", "5.6.0-1", false),
        ("=1:5.6.0", "1:5.6.0-1", true),
        ("=5.6.0", "1:5.6.0-1", false),
        ("=5.6.0-2", "5.6.0-1", false),
        ("<5.6.0~rc1", "5.6.0-1", false),
    ] {
        assert_eq!(inside(Scheme::Rpm, range, v), want, "{v} in {range}");
    }
    // pacman vercmptest.sh: 1.5 = 1.5-1, 1.1-1 = 1.1, 1.0-1 < 1.1, 1.1-1 > 1.0.
    assert!(inside(Scheme::for_purl_type("alpm"), "=1.5", "1.5-1"));
    assert!(inside(Scheme::for_purl_type("alpm"), "=1.1", "1.1-1"));
    assert!(inside(Scheme::for_purl_type("alpm"), "<1.1", "1.0-1"));
    assert!(inside(Scheme::for_purl_type("alpm"), ">1.0", "1.1-1"));
    // Sorting keeps rpmverCmp's total order: a missing release first.
    assert_eq!(Scheme::Rpm.compare("5.6.0", "5.6.0-1"), Ok(std::cmp::Ordering::Less));
    // Debian: `=` is the whole version (dpkg `dpkg_version_relate`).
    assert!(!inside(Scheme::Debian, "=5.6.0", "5.6.0-1"));
    assert!(!inside(Scheme::Debian, "vers:deb/5.6.0", "5.6.0-1"));
}
