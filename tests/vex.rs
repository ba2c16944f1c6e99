//! VEX documents (OpenVEX, CSAF 2.0, standalone CycloneDX VEX) read from ../shared/fixtures
//! and applied to other scanners' findings. Expected values were read from the files (and,
//! for the gomod pair, from Trivy's own result of applying the VEX).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{fixture_bytes, reports};
use jiff::Timestamp;
use stance::ingest::{Limits, Loaded, Reader, Warning};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::{
    Channel, FindingKind, ImageRef, ProductId, Provenance, Report, VexDocument, VexFormat, VexState,
};

fn doc(rel: &str) -> Arc<VexDocument> {
    let mut r = reports(rel);
    assert_eq!(r.len(), 1, "{rel}: one report per document");
    let r = r.remove(0);
    assert!(r.findings.is_empty() && r.scanned.is_empty(), "{rel}: a VEX document has no findings of its own");
    r.vex.expect("a VEX document")
}

fn ids(s: &stance_core::model::VexStatement) -> Vec<&str> {
    s.vulnerabilities.iter().map(|v| &**v).collect()
}

fn purl_text(p: &ProductId) -> String {
    match p {
        ProductId::Package(p) => format!("{}@{}", p.id.to_purl(), p.version.as_deref().unwrap_or("")),
        other => format!("{other:?}"),
    }
}

fn ts(s: &str) -> Option<Timestamp> {
    Some(s.parse().unwrap())
}

/// An index of fixture files and inline documents, all read as files given to the command.
fn index(fixtures: &[&str], inline: &[(&str, String)]) -> (PostureIndex, Vec<Warning>) {
    let mut loaded = Loaded::default();
    for f in fixtures {
        loaded.add_bytes(f, &fixture_bytes(f));
    }
    for (name, text) in inline {
        loaded.add_bytes(name, text.as_bytes());
    }
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    loaded.into_index_with_warnings(IndexConfig::default())
}

/// `(id, package purl)` of findings.
type Keys = BTreeSet<(String, String)>;

/// `(id, package purl)` of every vulnerability finding, split into open and suppressed.
fn split(index: &PostureIndex) -> (Keys, Keys) {
    let (mut open, mut suppressed) = (BTreeSet::new(), BTreeSet::new());
    for (_, p) in index.artifacts() {
        for f in p.findings.iter().filter(|f| f.kind == FindingKind::Vulnerability) {
            let purl = f.package.as_ref().and_then(|p| p.purl.as_deref()).unwrap_or("").to_string();
            let set = if f.suppressed() { &mut suppressed } else { &mut open };
            set.insert((f.id.to_string(), purl));
        }
    }
    (open, suppressed)
}

// ---------------------------------------------------------------------------------------
// Parsing

#[test]
fn openvex_v020_subcomponents_and_justifications() {
    let d = doc("openvex/v0.2.0.json");
    assert_eq!(d.format, VexFormat::OpenVex);
    assert_eq!(d.author.as_deref(), Some("The OpenVEX Project <openvex@openssf.org>"));
    assert_eq!(d.timestamp, ts("2023-07-17T18:28:47.696004345-06:00"));
    assert!(d.id.ends_with("vex-d4e9020b6d0d26f131d535e055902dd6ccf3e2088bce3079a8cd3588a4b14c78"));
    let states: Vec<VexState> = d.statements.iter().map(|s| s.state).collect();
    use VexState::*;
    assert_eq!(states, [Fixed, Fixed, Fixed, NotAffected, NotAffected]);
    let s = &d.statements[3];
    assert_eq!(ids(s), ["CVE-2023-3446"]);
    assert_eq!(s.justification.as_deref(), Some("vulnerable_code_not_present"));
    assert_eq!(s.impact.as_deref(), Some("affected functions were removed before packaging"));
    // No time of its own: the document's.
    assert_eq!(s.timestamp, d.timestamp);
    // The product is the alpine image by digest (no repository_url: the digest alone names it).
    let digest = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126";
    assert_eq!(s.products[0].id, ProductId::Image { tag: None, name: None, digest: Some(digest.into()) });
    let subs: Vec<String> = s.products[0].subcomponents.iter().map(purl_text).collect();
    assert_eq!(subs, ["pkg:apk/alpine/libssl3@3.0.8-r3", "pkg:apk/alpine/libcrypto3@3.0.8-r3"]);

    let d = doc("openvex/v020-1.vex.json");
    assert_eq!(d.timestamp, None);
    let s = &d.statements[0];
    assert_eq!((ids(s), s.state), (vec!["CVE-9876-54321"], UnderInvestigation));
    assert_eq!(s.timestamp, ts("2022-12-22T16:36:43-05:00"));
    assert_eq!(purl_text(&s.products[0].id), "pkg:apk/wolfi/bash@1.0.0");

    // Grype's test document names its product by `identifiers.purl` only.
    let d = doc("openvex/grype-openvex.json");
    let s = &d.statements[0];
    assert_eq!((ids(s), s.state), (vec!["CVE-2023-45803"], Fixed));
    assert_eq!(purl_text(&s.products[0].id), "pkg:pypi/urllib3@1.26.16+cgr.1");
}

#[test]
fn legacy_openvex_v001() {
    let d = doc("openvex/v0.0.1.json");
    assert_eq!(d.author.as_deref(), Some("Wolfi J Inkinson"));
    let s = &d.statements[0];
    // v0.0.1: the vulnerability and the products are plain strings.
    assert_eq!((ids(s), s.state), (vec!["CVE-2023-12345"], VexState::Fixed));
    let products: Vec<String> = s
        .products
        .iter()
        .map(|p| match &p.id {
            ProductId::Package(p) => format!("{} {:?}", purl_text(&ProductId::Package(p.clone())), p.qualifiers),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        products,
        [r#"pkg:apk/wolfi/git@2.39.0-r1 [("arch", "armv7")]"#, r#"pkg:apk/wolfi/git@2.39.0-r1 [("arch", "x86_64")]"#]
    );
}

#[test]
fn csaf_vex_statuses_flags_threats_and_product_tree() {
    let d = doc("csaf/2022-evd-uc-03-ms-001.json");
    assert_eq!(d.format, VexFormat::Csaf);
    assert_eq!(&*d.id, "2022-EVD-UC-03-MS-001");
    assert_eq!(d.author.as_deref(), Some("Example Company ProductCERT"));
    assert_eq!(d.statements.len(), 19);
    let count = |st: VexState| d.statements.iter().filter(|s| s.state == st).count();
    assert_eq!(
        [VexState::NotAffected, VexState::Affected, VexState::UnderInvestigation, VexState::Fixed].map(count),
        [6, 5, 5, 3]
    );
    let s = d.statements.iter().find(|s| ids(s) == ["CVE-2020-11897"]).unwrap();
    assert_eq!(s.state, VexState::NotAffected);
    assert_eq!(s.impact.as_deref(), Some("IPv6 is not supported and code is not present."));
    assert_eq!(&*s.path, "vulnerabilities[1].product_status.known_not_affected[0]");
    // The product is named only ("Example Company GHI 17.4", from a three-level branch):
    // nothing a scan could show, so it decides no finding.
    assert_eq!(s.products[0].id, ProductId::Unidentified("Example Company GHI 17.4".into()));
    let affected = d.statements.iter().find(|s| ids(s) == ["CVE-2020-11898"]).unwrap();
    assert_eq!(affected.state, VexState::Affected);
    assert!(affected.action.is_some(), "the remediation is the action");

    let d = doc("csaf/sec-vex-2022-0001.json");
    assert_eq!(d.statements.len(), 3);
    for s in &d.statements {
        assert_eq!(s.state, VexState::NotAffected);
        assert_eq!(s.justification.as_deref(), Some("component_not_present"));
        assert_eq!(s.impact.as_deref(), Some("Secvisogram is written in JavaScript. No Java is included."));
        assert_eq!(s.timestamp, ts("2022-05-27T10:00:00.000Z"), "the flag's date");
    }
    assert_eq!(ids(&d.statements[0]), ["CVE-2021-44228"]);
}

#[test]
fn csaf_red_hat_relationships_resolve_to_platform_and_component() {
    let d = doc("csaf/redhat-cve-2024-3094.json");
    assert_eq!(&*d.id, "CVE-2024-3094");
    assert_eq!(d.timestamp, ts("2026-08-04T07:05:53+00:00"));
    assert_eq!(d.statements.len(), 26);
    assert!(d.statements.iter().all(|s| s.state == VexState::NotAffected
        && s.justification.as_deref() == Some("vulnerable_code_not_present")
        && ids(s)[0] == "CVE-2024-3094"));
    // "red_hat_enterprise_linux_9:xz-libs": xz-libs as a component of RHEL 9.
    let rhel9: Vec<_> = d
        .statements
        .iter()
        .filter(|s| s.products[0].id == ProductId::Cpe("cpe:/o:redhat:enterprise_linux:9".into()))
        .collect();
    assert_eq!(rhel9.len(), 5);
    let subs: BTreeSet<String> = rhel9.iter().map(|s| purl_text(&s.products[0].subcomponents[0])).collect();
    assert_eq!(
        subs,
        BTreeSet::from(["xz-lzma-compat", "xz-devel", "xz-libs", "xz", "xz"].map(|p| format!("pkg:rpm/redhat/{p}@")))
    );
}

// ---------------------------------------------------------------------------------------
// Applying VEX to other scanners' findings

#[test]
fn trivy_gomod_vex_suppresses_exactly_what_trivy_removed() {
    // Trivy's golden result of `trivy repo --vex openvex.json` on the same repository.
    let (trivy, _) = index(&["trivy/gomod-vex.json.golden"], &[]);
    let (trivy_open, trivy_suppressed) = split(&trivy);
    assert!(trivy_suppressed.is_empty());
    let (stance, warnings) = index(&["trivy/gomod.json.golden", "openvex/trivy-gomod-openvex.json"], &[]);
    assert!(warnings.is_empty(), "{warnings:#?}");
    let (open, suppressed) = split(&stance);
    assert_eq!(open, trivy_open, "nothing else is suppressed");
    let removed = BTreeSet::from([(
        "CVE-2022-23628".to_string(),
        "pkg:golang/github.com/open-policy-agent/opa@v0.35.0".to_string(),
    )]);
    assert_eq!(suppressed, removed, "what Trivy removed, and only that");
    // Still visible, with the document and statement that suppressed it.
    let f = stance.artifacts().flat_map(|(_, p)| p.findings.iter()).find(|f| f.suppressed()).unwrap();
    let vex = f.vex.as_ref().unwrap();
    assert_eq!(vex.state, VexState::NotAffected);
    assert_eq!(vex.justification.as_deref(), Some("vulnerable_code_not_in_execute_path"));
    let src = vex.source.as_ref().unwrap();
    assert_eq!(&*src.document, "aquasecurity/trivy:613fd55abbc2857b5ca28b07a26f3cd4c8b0ddc4c8a97c57497a2d4c4880d7fc");
    assert_eq!(&*src.statement, "statements[0]");
    assert_eq!(&*src.origin, "openvex/trivy-gomod-openvex.json");
    assert_eq!(src.impact.as_deref(), Some("The vulnerable code isn't called"));
    assert!(src.conflicts.is_empty());
}

#[test]
fn a_fixed_version_statement_leaves_other_versions_open() {
    // Grype's VEX says urllib3 1.26.16+cgr.1 is fixed; OSV-Scanner found 1.26.17, whose
    // findings name CVE-2023-45803 only as an alias (GHSA-g4mx-q9vg-27p4, PYSEC-2023-212).
    let scan = "defectdojo/osv-scanner/many_findings.json";
    let (plain, _) = index(&[scan], &[]);
    let (with_vex, _) = index(&[scan, "openvex/grype-openvex.json"], &[]);
    assert_eq!(split(&plain), split(&with_vex), "another version: nothing changes");
    // The same statement without a version names every version of urllib3.
    let text = String::from_utf8(fixture_bytes("openvex/grype-openvex.json"))
        .unwrap()
        .replace("pkg:pypi/urllib3@1.26.16+cgr.1", "pkg:pypi/urllib3");
    let (any_version, _) = index(&[scan], &[("any-version.openvex.json", text)]);
    let (open, suppressed) = split(&any_version);
    let urllib3: BTreeSet<_> = split(&plain)
        .0
        .into_iter()
        .filter(|(id, purl)| {
            purl.starts_with("pkg:pypi/urllib3@")
                && (id == "GHSA-g4mx-q9vg-27p4" || id == "PYSEC-2023-212" || id == "CVE-2023-45803")
        })
        .collect();
    assert!(
        !urllib3.is_empty(),
        "{:#?}",
        split(&plain).0.iter().filter(|(_, p)| p.contains("urllib3")).collect::<Vec<_>>()
    );
    assert_eq!(suppressed, urllib3, "by alias, on that package only");
    assert_eq!(open.len() + suppressed.len(), split(&plain).0.len());
}

/// The Trivy gomod VEX with another id, status and time.
fn restated(id: &str, status: &str, time: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture_bytes("openvex/trivy-gomod-openvex.json")).unwrap();
    v["@id"] = id.into();
    v["timestamp"] = time.into();
    v["statements"][0]["status"] = status.into();
    v["statements"][0]["timestamp"] = time.into();
    v.to_string()
}

#[test]
fn conflicting_documents_are_reported_and_the_latest_statement_wins() {
    let gomod = ["trivy/gomod.json.golden", "openvex/trivy-gomod-openvex.json"];
    let opa = |index: &PostureIndex| {
        index.artifacts().flat_map(|(_, p)| p.findings.iter().cloned()).find(|f| &*f.id == "CVE-2022-23628").unwrap()
    };
    // Later than Trivy's document (2024-07-09): the later statement decides.
    let later = restated("team/reopened", "affected", "2025-01-01T00:00:00Z");
    let (idx, warnings) = index(&gomod, &[("reopened.openvex.json", later)]);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].message.starts_with("VEX conflict: statements[0] says CVE-2022-23628 is affected"));
    assert!(warnings[0].message.contains("says not_affected"), "{}", warnings[0].message);
    let f = opa(&idx);
    assert!(!f.suppressed());
    let src = f.vex.as_ref().unwrap().source.as_ref().unwrap();
    assert_eq!(&*src.document, "team/reopened");
    assert_eq!(src.conflicts.len(), 1);
    assert_eq!(src.conflicts[0].state, VexState::NotAffected);
    // Earlier than Trivy's: Trivy's statement decides, the disagreement is still listed.
    let earlier = restated("team/old", "affected", "2023-01-01T00:00:00Z");
    let (idx, warnings) = index(&gomod, &[("old.openvex.json", earlier)]);
    assert_eq!(warnings.len(), 1);
    let f = opa(&idx);
    assert!(f.suppressed());
    assert_eq!(&*f.vex.as_ref().unwrap().source.as_ref().unwrap().conflicts[0].document, "team/old");
    // At the same time, the statement that keeps the finding open wins.
    let same = restated("team/same", "under_investigation", "2024-07-09T11:38:00.115697+04:00");
    let (idx, _) = index(&gomod, &[("same.openvex.json", same)]);
    assert_eq!(opa(&idx).vex.as_ref().unwrap().state, VexState::UnderInvestigation);
}

#[test]
fn a_future_dated_statement_counts_from_when_it_was_read() {
    // Read first (2026-01-01) but dated 2999: it cannot outrank a statement read later.
    let reader = |at: &str| Reader::new(Provenance::new(Channel::File, at.parse().unwrap()), Limits::default());
    let mut loaded = Loaded::with_reader(reader("2026-01-01T00:00:00Z"));
    loaded.add_bytes("trivy/gomod.json.golden", &fixture_bytes("trivy/gomod.json.golden"));
    loaded.add_bytes("future.openvex.json", restated("future", "not_affected", "2999-01-01T00:00:00Z").as_bytes());
    let mut later = Loaded::with_reader(reader("2026-02-01T00:00:00Z"));
    later.add_bytes("now.openvex.json", restated("now", "affected", "2026-01-15T00:00:00Z").as_bytes());
    loaded.reports.extend(later.reports);
    let (idx, _) = loaded.into_index_with_warnings(IndexConfig::default());
    let f = idx.artifacts().flat_map(|(_, p)| p.findings.iter()).find(|f| &*f.id == "CVE-2022-23628").unwrap();
    assert_eq!(f.vex.as_ref().unwrap().state, VexState::Affected);
    let src = f.vex.as_ref().unwrap().source.as_ref().unwrap();
    assert_eq!(src.conflicts[0].timestamp, ts("2026-01-01T00:00:00Z"), "clamped to when it was read");
}

#[test]
fn legacy_openvex_applies_to_a_qualified_package() {
    // A CycloneDX scan result naming the wolfi git package of v0.0.1's statement.
    let bom = |arch: &str| {
        format!(
            r#"{{"bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {{"component": {{"bom-ref": "app", "type": "container", "name": "cgr.dev/chainguard/git",
              "version": "sha256:{d}"}}}},
            "components": [{{"bom-ref": "git", "type": "library", "name": "git", "version": "2.39.0-r1",
              "purl": "pkg:apk/wolfi/git@2.39.0-r1?arch={arch}"}}],
            "vulnerabilities": [{{"id": "CVE-2023-12345", "ratings": [{{"severity": "high"}}],
              "affects": [{{"ref": "git"}}]}}]}}"#,
            d = "e".repeat(64)
        )
    };
    let (idx, _) = index(&["openvex/v0.0.1.json"], &[("x86.cdx.json", bom("x86_64"))]);
    assert_eq!(split(&idx).1.len(), 1, "the x86_64 package is named");
    let (idx, _) = index(&["openvex/v0.0.1.json"], &[("s390x.cdx.json", bom("s390x"))]);
    assert_eq!(split(&idx).1.len(), 0, "an architecture the statement does not name");
}

// ---------------------------------------------------------------------------------------
// Trust: a tenant cannot suppress a finding with a forged VEX document

#[test]
fn a_tenants_forged_vex_does_not_suppress_a_finding_on_another_teams_image() {
    let scan = "grype/keycloak-test.json";
    let digest = "sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50";
    let forged = format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "forged", "author": "Keycloak team",
        "timestamp": "2026-01-01T00:00:00Z", "version": 1,
        "statements": [{{"vulnerability": {{"name": "CVE-2020-12413"}},
          "products": [{{"@id": "pkg:oci/keycloak@{}?repository_url=docker.io/keycloak/keycloak"}}],
          "status": "not_affected", "justification": "vulnerable_code_not_present"}}]}}"#,
        digest.replace(':', "%3A")
    );
    let observed: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let read = |channel: Channel| -> Vec<Report> {
        let mut loaded = Loaded::with_reader(Reader::new(Provenance::new(channel, observed), Limits::default()));
        loaded.add_bytes("forged.openvex.json", forged.as_bytes());
        assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
        loaded.reports
    };
    let config_map =
        |ns: &str| Channel::ReportConfigMap { namespace: Arc::from(ns), name: Arc::from("vex"), upload: None };
    let image = ImageRef::parse(&format!("docker.io/keycloak/keycloak@{digest}")).unwrap();
    let suppressed_in = |idx: &PostureIndex, viewer: &str| {
        idx.image_for(viewer, &image).unwrap().findings.iter().filter(|f| f.suppressed()).count()
    };
    let build = |vex: Vec<Report>| {
        let mut idx = PostureIndex::new(IndexConfig::default());
        for r in reports(scan) {
            assert!(idx.apply_report(scan, r).is_empty());
        }
        let mut notes = Vec::new();
        for (i, r) in vex.into_iter().enumerate() {
            notes.extend(idx.apply_report(&format!("vex#{i}"), r));
        }
        idx.refresh();
        (idx, notes)
    };
    // The tenant's report ConfigMap (namespace sandbox): ignored, and said so.
    let (idx, notes) = build(read(config_map("sandbox")));
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(notes[0].message.contains("VEX document forged ignored"), "{}", notes[0].message);
    assert!(notes[0].message.contains("ConfigMap sandbox/vex"), "{}", notes[0].message);
    for viewer in ["keycloak", "sandbox"] {
        assert_eq!(suppressed_in(&idx, viewer), 0, "seen from {viewer}");
    }
    // An upload by an identity the platform does not trust: ignored too.
    let upload = Channel::Upload(stance_core::model::Upload {
        uploader: Arc::from("system:serviceaccount:sandbox:ci"),
        namespace: Arc::from("sandbox"),
    });
    let (idx, notes) = build(read(upload));
    assert_eq!((notes.len(), suppressed_in(&idx, "keycloak")), (1, 0));
    // The same document through the platform's trusted channel (Stance's namespace) applies.
    let (idx, notes) = build(read(config_map("stance-system")));
    assert!(notes.is_empty(), "{notes:#?}");
    let total =
        idx.image_for("keycloak", &image).unwrap().findings.iter().filter(|f| &*f.id == "CVE-2020-12413").count();
    assert!(total > 0);
    assert_eq!(suppressed_in(&idx, "keycloak"), total);
}

#[test]
fn the_documented_example_suppresses_the_demo_libtiff_finding() {
    // docs/risk.md: `stance scan examples/demo examples/vex`.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let load = |paths: &[&str]| {
        let paths: Vec<_> = paths.iter().map(|p| root.join(p)).collect();
        stance::ingest::load_index(IndexConfig::default(), &paths).unwrap().0
    };
    let (before, after) = (load(&["examples/demo"]), load(&["examples/demo", "examples/vex"]));
    let tiff = |idx: &PostureIndex| -> Vec<(String, bool)> {
        idx.artifacts()
            .flat_map(|(_, p)| p.findings.iter())
            .filter(|f| &*f.id == "CVE-2022-3970")
            .map(|f| (f.artifact.to_string(), f.suppressed()))
            .collect()
    };
    assert_eq!(tiff(&before), [("image:docker.io/library/nginx:alpine".to_string(), false)]);
    assert_eq!(tiff(&after), [("image:docker.io/library/nginx:alpine".to_string(), true)]);
    // Nothing else changed.
    let others = |idx: &PostureIndex| {
        let (open, suppressed) = split(idx);
        (open.into_iter().filter(|(id, _)| id != "CVE-2022-3970").collect::<Vec<_>>(), suppressed.len())
    };
    assert_eq!(others(&before).0, others(&after).0);
}

#[test]
fn suppressed_findings_stay_visible_in_every_output() {
    let run = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let statement = "https://security.example.com/vex/nginx-alpine-2026-11 statements[0]";
    let now = ["--now", "2026-11-27T12:00:00Z"];
    // `stance scan --format json`: each application running nginx:alpine lists it.
    let scan = run(&[&["scan", "examples/demo", "examples/vex", "--format", "json"][..], &now].concat());
    let storefront = scan["apps"].as_array().unwrap().iter().find(|a| a["name"] == "storefront").unwrap();
    let s = &storefront["suppressed"][0];
    assert_eq!((s["ruleId"].as_str(), s["state"].as_str()), (Some("CVE-2022-3970"), Some("not_affected")));
    assert_eq!(s["statement"]["statement"], "statements[0]");
    assert_eq!(s["statement"]["origin"], "examples/vex/nginx-alpine.openvex.json");
    assert!(s["statement"]["impact"].as_str().unwrap().starts_with("nginx never reads TIFF images"));
    // SARIF: a result with a suppression naming the statement.
    let sarif = run(&[&["scan", "examples/demo", "examples/vex", "--format", "sarif"][..], &now].concat());
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<_> = results.iter().filter(|r| r["ruleId"] == "CVE-2022-3970").collect();
    assert!(!suppressed.is_empty());
    for r in suppressed {
        let j = r["suppressions"][0]["justification"].as_str().unwrap();
        assert!(j.contains(statement), "{j}");
        assert_eq!(r["suppressions"][0]["kind"], "external");
    }
    // `stance findings --format json` (one object per line): the state and the statement.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["findings", "examples/demo", "examples/vex", "--format", "json"])
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|f| f["ruleId"] == "CVE-2022-3970")
        .unwrap();
    assert_eq!(line["vex"], "NotAffected");
    assert_eq!(line["vexJustification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(line["vexStatement"]["document"], "https://security.example.com/vex/nginx-alpine-2026-11");
}
