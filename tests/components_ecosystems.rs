//! The `components` rule end to end, ecosystem by ecosystem: a GuardrailPolicy banning a
//! version range, an SBOM listing one package, a Deployment running the image — denied or
//! allowed as that ecosystem orders its versions. The orderings asserted are the
//! ecosystems' own published rules (the vectors themselves are tested in
//! `crates/ecosystem/tests`, against dpkg's, rpm's, apk-tools', Maven's, PEP 440's and
//! SemVer's suites); here they must survive policy compilation, the SBOM parser, the
//! package index and the rule. Licences: the SPDX specification's expression examples
//! (SPDX 2.3 Annex D) through `deniedLicenses`.

mod common;

use jiff::Timestamp;
use serde_json::json;
use stance::ingest::{KubeObject, Loaded};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::Workload;
use stance_core::policy::evaluate;

const IMAGE: &str = "registry.example.com/team/app:1.0";

fn now() -> Timestamp {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

fn index_of(policy_rules: &str, components: serde_json::Value) -> PostureIndex {
    let policy = format!(
        "apiVersion: aspm.stance.dev/v1alpha1\nkind: GuardrailPolicy\nmetadata: {{name: p}}\nspec:\n  enforcement: Enforce\n  rules:\n{policy_rules}"
    );
    let sbom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"component": {"type": "container", "bom-ref": "img", "name": IMAGE}},
        "components": components,
    });
    let mut loaded = Loaded::default();
    loaded.add_bytes("policy.yaml", policy.as_bytes());
    loaded.add_bytes("sbom.cdx.json", sbom.to_string().as_bytes());
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    loaded.into_index(IndexConfig::default())
}

fn deployment() -> Workload {
    deployment_of(IMAGE)
}

fn deployment_of(image: &str) -> Workload {
    let yaml = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: team}}\nspec:\n  selector: {{matchLabels: {{app: app}}}}\n  template:\n    metadata: {{labels: {{app: app}}}}\n    spec:\n      containers: [{{name: main, image: {image}}}]\n"
    );
    let mut loaded = Loaded::default();
    loaded.add_bytes("w.yaml", yaml.as_bytes());
    match loaded.objects.pop() {
        Some(KubeObject::Workload(w)) => w,
        other => panic!("not a workload: {other:?}"),
    }
}

/// The denial message, if the workload is denied.
fn denial(index: &PostureIndex) -> Option<String> {
    let v = evaluate(&deployment(), None, index, now());
    let msgs: Vec<String> = v.denials().map(|d| d.message.clone()).collect();
    (!msgs.is_empty()).then(|| msgs.join("\n"))
}

/// Is `version` of the package `purl` inside `range` (a ban on `base`)?
fn banned(base: &str, range: &str, purl: &str) -> bool {
    let rules = format!("  - components:\n      banned: [{{purl: '{base}', versions: '{range}'}}]\n");
    let index = index_of(&rules, json!([{"type": "library", "name": "x", "purl": purl}]));
    assert!(
        index.policies().all(|p| p.compiled.is_ok()),
        "{base} {range}: {:?}",
        index.policies().map(|p| p.compiled.as_ref().err().map(ToString::to_string)).collect::<Vec<_>>()
    );
    denial(&index).is_some()
}

#[test]
fn alpine_apk_letters_suffixes_and_revisions() {
    let range = ">=1.1.1, <1.1.1k";
    assert!(banned("pkg:apk/alpine/openssl", range, "pkg:apk/alpine/openssl@1.1.1j-r0?arch=x86_64"));
    assert!(banned("pkg:apk/alpine/openssl", range, "pkg:apk/alpine/openssl@1.1.1-r0"));
    assert!(!banned("pkg:apk/alpine/openssl", range, "pkg:apk/alpine/openssl@1.1.1k-r0"));
    // `_rc` before the release, `_p` after it.
    assert!(banned("pkg:apk/alpine/busybox", "<1.36.1", "pkg:apk/alpine/busybox@1.36.1_rc1-r0"));
    assert!(!banned("pkg:apk/alpine/busybox", "<=1.36.1-r0", "pkg:apk/alpine/busybox@1.36.1_p1-r0"));
    // The package-URL range syntax.
    assert!(banned("pkg:apk/alpine/openssl", "vers:apk/>=1.1.1|<1.1.1k", "pkg:apk/alpine/openssl@1.1.1j-r0"));
}

#[test]
fn debian_dpkg_tilde_and_epochs() {
    // `~` sorts before anything, even the end of the version (Debian policy §5.6.12).
    assert!(banned("pkg:deb/debian/openssl", "<2.2-1", "pkg:deb/debian/openssl@2.2~rc-4"));
    // The epoch compares first: 1:1.0 is after 2.0.
    assert!(!banned("pkg:deb/debian/tar", "<2.0-1", "pkg:deb/debian/tar@1:1.0-1"));
    assert!(banned("pkg:deb/debian/tar", "<1:1.0-2", "pkg:deb/debian/tar@1:1.0-1"));
}

#[test]
fn rpm_tilde_caret_and_epochs() {
    assert!(banned("pkg:rpm/redhat/curl", "<1.0", "pkg:rpm/redhat/curl@1.0~rc1-1"));
    // `^` is a post-release snapshot: after 1.0, before 1.0.1.
    assert!(!banned("pkg:rpm/redhat/curl", "<=1.0-1", "pkg:rpm/redhat/curl@1.0^git1-1"));
    assert!(banned("pkg:rpm/redhat/curl", "<1.0.1", "pkg:rpm/redhat/curl@1.0^git1-1"));
    assert!(!banned("pkg:rpm/redhat/curl", "<2.0-1", "pkg:rpm/redhat/curl@1:1.0-1"));
}

/// A bound written without a release compares epoch and version only, as rpm's
/// `rpmverOverlap` (`rpmio/rpmver.c`) does: `xz-libs = 5.6.0` covers every 5.6.0 release
/// (CVE-2024-3094, the xz backdoor in upstream 5.6.0 and 5.6.1, as Fedora packaged it).
#[test]
fn rpm_bounds_without_a_release_cover_every_release() {
    let xz = "pkg:rpm/fedora/xz-libs";
    for range in ["vers:rpm/5.6.0|5.6.1", "=5.6.0", ">=5.6.0, <=5.6.1", "vers:rpm/>=5.6.0|<=5.6.1"] {
        assert!(banned(xz, range, "pkg:rpm/fedora/xz-libs@5.6.0-1.fc40?arch=x86_64"), "{range}");
        assert_eq!(banned(xz, range, "pkg:rpm/fedora/xz-libs@5.6.1-2.fc40"), range != "=5.6.0", "{range}");
        assert!(!banned(xz, range, "pkg:rpm/fedora/xz-libs@5.4.6-3.fc40"), "{range}");
        assert!(!banned(xz, range, "pkg:rpm/fedora/xz-libs@5.6.2-1.fc40"), "{range}");
    }
    // Strict bounds exclude every release of the bound's version.
    assert!(!banned(xz, "<5.6.0", "pkg:rpm/fedora/xz-libs@5.6.0-1.fc40"));
    assert!(!banned(xz, ">5.6.1", "pkg:rpm/fedora/xz-libs@5.6.1-2.fc40"));
    // With a release, the release counts; the epoch always does.
    assert!(!banned(xz, "=5.6.0-2.fc40", "pkg:rpm/fedora/xz-libs@5.6.0-1.fc40"));
    assert!(!banned(xz, "=5.6.0", "pkg:rpm/fedora/xz-libs@1:5.6.0-1.fc40"));
    // Debian is not rpm: dpkg's `=` compares the whole version, revision included.
    assert!(!banned("pkg:deb/debian/xz-utils", "=5.6.0", "pkg:deb/debian/xz-utils@5.6.0-0.2"));
}

/// Trivy writes a deb or rpm epoch as the package URL's `epoch` qualifier and the version
/// without it (../shared/fixtures/trivy-operator/00-sbom-pod.yaml:
/// `bsdutils@2.29.2-1%2Bdeb9u1?…&epoch=1` is `1:2.29.2-1+deb9u1`).
#[test]
fn the_epoch_qualifier_is_part_of_the_version() {
    let deb = "pkg:deb/debian/bsdutils";
    let range = ">=1:2.29.2-1, <1:2.29.2-1+deb9u2";
    assert!(banned(deb, range, "pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1?arch=amd64&distro=debian-9.8&epoch=1"));
    assert!(!banned(deb, range, "pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u2?epoch=1"));
    assert!(!banned(deb, range, "pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1"), "epoch 0 is below the range");
    assert!(banned(deb, range, "pkg:deb/debian/bsdutils@1:2.29.2-1%2Bdeb9u1?epoch=1"), "said twice alike");
    // The SBOM component's own version (as Trivy writes it, without the epoch) gets it too.
    let rpm_rule = "  - components:\n      banned: [{purl: 'pkg:rpm/centos/openssl-libs', versions: '>=1:1.0.2k-0, <1:1.0.2k-19.el7'}]\n";
    let purl = "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810";
    let index = index_of(
        rpm_rule,
        json!([{"type": "library", "name": "openssl-libs", "version": "1.0.2k-16.el7", "purl": purl}]),
    );
    let msg = denial(&index).expect("1:1.0.2k-16.el7 is inside the range");
    assert!(msg.contains("openssl-libs 1:1.0.2k-16.el7 is banned"), "{msg}");
    // A version whose own epoch contradicts the qualifier cannot be judged: said, not passed.
    let index = index_of(
        rpm_rule,
        json!([{"type": "library", "name": "openssl-libs", "version": "2:1.0.2k-16.el7", "purl": purl}]),
    );
    let msg = denial(&index).expect("a gate that cannot judge says so and fails");
    assert!(msg.contains("cannot judge") && msg.contains("epoch"), "{msg}");
    // A ban's epoch qualifier would not apply to its bounds: refused.
    let rules =
        "  - components:\n      banned: [{purl: 'pkg:deb/debian/bsdutils?epoch=1', versions: '<2.29.2-1+deb9u2'}]\n";
    let index = index_of(rules, json!([]));
    let err = index.policies().find_map(|p| p.compiled.as_ref().err().map(ToString::to_string));
    assert!(err.is_some_and(|e| e.contains("epoch")), "the ban's epoch qualifier is refused");
}

/// The real Trivy Operator SBOM report: bsdutils 1:2.29.2-1+deb9u1 is inside a ban written
/// with the epoch, although the component's version omits it.
#[test]
fn trivy_operator_sbom_epochs_reach_the_ban() {
    let policy = "apiVersion: aspm.stance.dev/v1alpha1\nkind: GuardrailPolicy\nmetadata: {name: p}\nspec:\n  enforcement: Enforce\n  rules:\n  - components:\n      banned: [{purl: 'pkg:deb/debian/bsdutils', versions: '>=1:2.29.2-1, <1:2.29.2-1+deb9u2'}]\n";
    let rel = "trivy-operator/00-sbom-pod.yaml";
    let mut loaded = Loaded::default();
    loaded.add_bytes("policy.yaml", policy.as_bytes());
    loaded.add_bytes(rel, &common::fixture_bytes(rel));
    let index = loaded.into_index(IndexConfig::default());
    let v = evaluate(&deployment_of("nginx:1.14.2"), None, &index, now());
    let msgs: Vec<String> = v.denials().map(|d| d.message.clone()).collect();
    assert!(msgs.iter().any(|m| m.contains("bsdutils 1:2.29.2-1+deb9u1 is banned")), "{msgs:#?}");
}

#[test]
fn pypi_pep440_order_and_name_normalisation() {
    // .dev < a < rc < release < .post (PEP 440 "Summary of permitted suffixes and relative ordering").
    assert!(banned("pkg:pypi/django", "<1.0a1", "pkg:pypi/django@1.0.dev1"));
    assert!(banned("pkg:pypi/django", "<1.0", "pkg:pypi/django@1.0rc1"));
    assert!(!banned("pkg:pypi/django", "<=1.0", "pkg:pypi/django@1.0.post1"));
    // PEP 503: one package however its name is spelled.
    assert!(banned("pkg:pypi/django-rest-framework", "<3.15", "pkg:pypi/Django_Rest.Framework@3.14.0"));
    // 1.0 and 1.0.0 are the same version.
    assert!(banned("pkg:pypi/django", "==1.0.0", "pkg:pypi/django@1.0"));
}

#[test]
fn npm_cargo_composer_semver() {
    assert!(banned("pkg:npm/lodash", "<4.17.21", "pkg:npm/lodash@4.17.21-rc.1"));
    assert!(!banned("pkg:npm/lodash", "<4.17.21", "pkg:npm/lodash@4.17.21+build.5"));
    assert!(banned("pkg:npm/%40babel/traverse", "<7.23.2", "pkg:npm/%40babel%2Ftraverse@7.22.5"));
    assert!(banned("pkg:cargo/hyper", ">=0.14.0, <0.14.10", "pkg:cargo/hyper@0.14.9"));
    assert!(!banned("pkg:composer/laravel/framework", "<7.30.6", "pkg:composer/laravel/framework@7.30.10"));
}

#[test]
fn golang_versions_and_pseudo_versions() {
    assert!(banned("pkg:golang/golang.org/x/net", "<v0.17.0", "pkg:golang/golang.org/x/net@v0.15.0"));
    // A pseudo-version of an untagged commit precedes the first release.
    assert!(banned(
        "pkg:golang/github.com/acme/lib",
        "<v0.0.1",
        "pkg:golang/github.com/acme/lib@v0.0.0-20210101000000-abcdefabcdef"
    ));
}

#[test]
fn maven_comparable_version() {
    let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core";
    assert!(banned(log4j, ">=2.0.0, <2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"));
    assert!(!banned(log4j, ">=2.0.0, <2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"));
    // Qualifiers: alpha < beta < milestone < rc < snapshot < release < sp.
    assert!(banned(log4j, "<2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1-SNAPSHOT"));
    assert!(banned(log4j, "<2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1-rc1"));
    assert!(!banned(log4j, "<=2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1-sp1"));
    // `.RELEASE` / `-ga` / `-final` are the release itself; 2.17 is 2.17.0.
    assert!(banned(log4j, "==2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1.RELEASE"));
    assert!(banned(log4j, "==2.17.0", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17"));
}

#[test]
fn nuget_four_parts_and_labels() {
    assert!(!banned("pkg:nuget/Newtonsoft.Json", "<=13.0.1", "pkg:nuget/newtonsoft.json@13.0.1.1"));
    assert!(banned("pkg:nuget/Newtonsoft.Json", "<13.0.1", "pkg:nuget/Newtonsoft.Json@13.0.1-BETA1"));
}

#[test]
fn unknown_ecosystems_use_the_generic_order() {
    assert!(!banned("pkg:generic/acme/tool", "<1.9", "pkg:generic/acme/tool@1.10"));
    assert!(banned("pkg:generic/acme/tool", "<1.10", "pkg:generic/acme/tool@1.9"));
}

#[test]
fn a_bound_that_is_no_version_of_the_ecosystem_makes_the_policy_invalid() {
    let rules = "  - components:\n      banned: [{purl: 'pkg:pypi/django', versions: '>=1.0, <not!a!version'}]\n";
    let index = index_of(rules, json!([]));
    let entry = index.policies().next().expect("the policy");
    let err = entry.compiled.as_ref().expect_err("invalid");
    assert_eq!(err.field, "spec.rules[0].components.banned[0].versions");
    assert!(err.to_string().contains("not!a!version"), "{err}");
    // A vers range of another ecosystem, and a purl with a version, are invalid too.
    let rules = "  - components:\n      banned: [{purl: 'pkg:apk/alpine/openssl', versions: 'vers:deb/<1.0'}]\n";
    let err = index_of(rules, json!([])).policies().next().unwrap().compiled.clone().unwrap_err();
    assert_eq!(err.field, "spec.rules[0].components.banned[0].versions");
    let rules = "  - components:\n      banned: [{purl: 'pkg:npm/lodash@4.17.20'}]\n";
    let err = index_of(rules, json!([])).policies().next().unwrap().compiled.clone().unwrap_err();
    assert_eq!(err.field, "spec.rules[0].components.banned[0].purl");
}

#[test]
fn an_inventory_version_that_does_not_parse_is_reported_not_passed() {
    let rules = "  - components:\n      banned: [{purl: 'pkg:pypi/django', versions: '<4.2'}]\n";
    let index =
        index_of(rules, json!([{"type": "library", "name": "django", "purl": "pkg:pypi/django@not.a.version!"}]));
    let msg = denial(&index).expect("a gate that cannot judge says so and fails");
    assert!(msg.contains("cannot judge"), "{msg}");
}

#[test]
fn allowed_registries_match_whole_segments() {
    let rules = "  - imageReference: {allowedRegistries: [registry.example.com/team]}\n";
    let index = index_of(rules, json!([]));
    assert_eq!(denial(&index), None);
    let rules = "  - imageReference: {allowedRegistries: [registry.example.com/te]}\n";
    assert!(denial(&index_of(rules, json!([]))).is_some(), "a string prefix is not a path prefix");
    let rules = "  - imageReference: {allowedRegistries: ['registry.example.com.evil.io/team']}\n";
    assert!(denial(&index_of(rules, json!([]))).is_some());
    let rules = "  - imageReference: {allowedRegistries: ['ghcr.io/acme:latest']}\n";
    let err = index_of(rules, json!([])).policies().next().unwrap().compiled.clone().unwrap_err();
    assert_eq!(err.field, "spec.rules[0].imageReference.allowedRegistries[0]");
}

/// Is a component licensed `expression` denied under `denied`?
fn licence_denied(denied: &str, expression: &str) -> Option<String> {
    let rules = format!("  - components:\n      deniedLicenses: [{denied}]\n");
    let index = index_of(
        &rules,
        json!([{"type": "library", "name": "lib", "version": "1.0", "purl": "pkg:npm/lib@1.0",
                "licenses": [{"expression": expression}]}]),
    );
    denial(&index)
}

/// SPDX 2.3 Annex D ("SPDX License Expressions"): `OR` is a choice, `AND` conjunctive,
/// `WITH` an exception, `+` / `-or-later` any later version, precedence `WITH` > `AND` > `OR`.
#[test]
fn spdx_expressions_from_the_spec_through_denied_licenses() {
    // D.4.2 disjunctive: the user may choose the licence that is not denied.
    assert_eq!(licence_denied("LGPL-2.1-only", "LGPL-2.1-only OR MIT"), None);
    assert_eq!(licence_denied("LGPL-2.1-only", "LGPL-2.1-only OR MIT OR BSD-3-Clause"), None);
    // D.4.3 conjunctive: every licence applies.
    let msg = licence_denied("LGPL-2.1-only", "LGPL-2.1-only AND MIT").expect("denied");
    assert!(msg.contains("LGPL-2.1-only whichever licence is chosen"), "{msg}");
    assert!(licence_denied("BSD-2-Clause", "LGPL-2.1-only AND MIT AND BSD-2-Clause").is_some());
    // D.4.4 exception: still GPL-2.0-or-later (a denied licence written without an
    // exception matches it with any).
    assert!(licence_denied("GPL-2.0-or-later", "GPL-2.0-or-later WITH Bison-exception-2.2").is_some());
    // D.4.5 precedence: `LGPL-2.1-only OR BSD-3-Clause AND MIT` = LGPL OR (BSD AND MIT).
    assert_eq!(licence_denied("LGPL-2.1-only", "LGPL-2.1-only OR BSD-3-Clause AND MIT"), None);
    assert!(licence_denied("MIT", "LGPL-2.1-only OR BSD-3-Clause AND MIT").is_none(), "choose LGPL");
    assert!(licence_denied("MIT, LGPL-2.1-only", "LGPL-2.1-only OR BSD-3-Clause AND MIT").is_some());
    // Parentheses override precedence: (MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)).
    assert_eq!(licence_denied("LGPL-2.1-or-later", "MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)"), None);
    assert!(licence_denied("LGPL-2.1-or-later, BSD-3-Clause", "MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)").is_some());
    // `+` is `-or-later`; `-only` is another licence.
    assert!(licence_denied("GPL-3.0-or-later", "GPL-3.0+").is_some());
    assert_eq!(licence_denied("GPL-3.0-or-later", "GPL-3.0-only"), None);
}
