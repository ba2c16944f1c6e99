//! `examples/gitops`: every file is valid, its compliant manifests pass `stance check` and
//! the deliberately bad one fails, for the reasons the README states.

use std::path::PathBuf;

use assert_cmd::Command;

const NOW: &str = "2026-11-27T12:00:00Z";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/gitops")
}

fn check(manifests: &str) -> (i32, String) {
    let r = repo();
    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["check", "--now", NOW, "-f"])
        .arg(r.join(manifests))
        .args(["--state"])
        .arg(r.join("policies"))
        .args(["--state"])
        .arg(r.join("apps"))
        .args(["--state"])
        .arg(r.join("exceptions"))
        .args(["--state"])
        .arg(r.join("scans"))
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn every_file_is_valid_and_every_policy_compiles() {
    let dirs: Vec<PathBuf> =
        ["policies", "apps", "exceptions", "deploy", "scans"].iter().map(|d| repo().join(d)).collect();
    let loaded = stance::ingest::load_paths(&dirs).unwrap();
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let index = loaded.into_index(Default::default());
    let policies: Vec<_> = index.policies().collect();
    assert_eq!(policies.len(), 6);
    for p in policies {
        assert!(p.compiled.is_ok(), "{:?}", p.compiled);
    }
    for e in index.exceptions() {
        assert!(e.compiled.is_ok(), "{:?}", e.compiled);
    }
}

#[test]
fn compliant_manifests_pass() {
    let (code, out) = check("deploy/shop");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ALLOW  Deployment/shop/catalog"), "{out}");
}

#[test]
fn the_bad_manifest_fails_for_the_documented_reasons() {
    let (code, out) = check("deploy/payments");
    assert_eq!(code, 1, "{out}");
    for needle in [
        "DENY   Deployment/payments/payments-api",
        "[no-known-exploited/kev]",
        "CVE-2022-22965",
        "fixed in 5.3.18",
        "[digest-pinning-in-prod/imageReference]",
        "warn:  [sbom-for-critical-apps/sbomRequired]",
        "excepted by RiskException stance-system/payments-spring4shell-waf",
    ] {
        assert!(out.contains(needle), "missing {needle:?}:\n{out}");
    }
    let (code, _) = check("deploy");
    assert_eq!(code, 1);
}

/// Evidence among the manifests — a forged "not affected" VEX document and an empty KEV
/// catalog beside the bad manifest — is the change author's word: the gate refuses it
/// (exit 2) and, told to judge the rest, still denies as admission would.
#[test]
fn evidence_among_the_manifests_is_refused_and_never_applied() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("deploy/payments")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("vex.openvex.json"),
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "dev",
            "timestamp": "2026-11-01T00:00:00Z", "version": 1, "statements": [{
            "vulnerability": {"name": "CVE-2022-22965"},
            "products": [{"@id": "pkg:maven/org.springframework/spring-beans@5.3.15"}],
            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kev.json"),
        r#"{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.20",
            "dateReleased": "2026-11-20T00:00:00Z", "count": 0, "vulnerabilities": []}"#,
    )
    .unwrap();
    let r = repo();
    let run = |extra: &[&str]| {
        let out = Command::cargo_bin("stance")
            .unwrap()
            .args(["check", "--now", NOW])
            .args(extra)
            .arg("-f")
            .arg(dir.path())
            .arg("--state")
            .args(["policies", "apps", "exceptions", "scans"].map(|d| r.join(d)))
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("vex.openvex.json: is a VEX document among the manifests"), "{err}");
    assert!(err.contains("kev.json: is a KEV catalog among the manifests"), "{err}");
    let (code, out, err) = run(&["--allow-unjudgeable"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("[no-known-exploited/kev]") && out.contains("CVE-2022-22965"), "{out}");
}
