//! A finding's identity is fine enough: on every real SARIF file in `../shared/fixtures`,
//! `stance findings` gives exactly the distinct results the file holds — no two distinct
//! results merge (issue 9 §3). The expected number is computed here from the file itself,
//! independently of Stance's parser: per run, the results that report something (SARIF
//! 2.1.0 §3.27.9: not `pass` / `notApplicable`; §3.27.24: not `baselineState: absent`),
//! counting results that are identical in every property once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures")
}

fn cases() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cases")
}

fn sarif_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures are readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sarif_files(&path, out);
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".sarif")) {
            out.push(path);
        }
    }
}

/// The distinct reported results of a SARIF log, read straight from its JSON.
fn distinct_results(log: &Value) -> usize {
    let mut n = 0;
    for run in log["runs"].as_array().into_iter().flatten() {
        let mut seen = BTreeSet::new();
        for r in run["results"].as_array().into_iter().flatten() {
            let kind = r["kind"].as_str().unwrap_or("fail").to_ascii_lowercase();
            if kind == "pass" || kind == "notapplicable" {
                continue;
            }
            if r["baselineState"].as_str().is_some_and(|b| b.eq_ignore_ascii_case("absent")) {
                continue;
            }
            // serde_json's maps are ordered: equal results serialise equally.
            seen.insert(r.to_string());
        }
        n += seen.len();
    }
    n
}

fn findings(dir: &Path, file: &Path) -> Vec<Value> {
    let out = Command::cargo_bin("stance")
        .expect("the stance binary")
        .current_dir(dir)
        .args(["findings"])
        .arg(file)
        .args(["--format", "json"])
        .output()
        .expect("stance runs");
    assert!(out.status.success(), "stance findings {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("one JSON finding per line"))
        .collect()
}

#[test]
fn no_two_distinct_sarif_results_merge_on_any_real_sarif_fixture() {
    let mut files = Vec::new();
    sarif_files(&fixtures(), &mut files);
    files.sort();
    assert!(files.len() >= 17, "expected the real SARIF fixtures, found {files:?}");
    let mut wrong = Vec::new();
    for f in &files {
        let log: Value = serde_json::from_slice(&std::fs::read(f).expect("readable")).expect("JSON");
        let want = distinct_results(&log);
        let got = findings(&fixtures(), f).len();
        if want != got {
            wrong.push(format!("{}: {want} distinct results, {got} findings", f.display()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn codeql_keeps_all_72_results() {
    let f = fixtures().join("defectdojo/sarif/codeQL-output.sarif");
    let log: Value = serde_json::from_slice(&std::fs::read(&f).expect("readable")).expect("JSON");
    let results = log["runs"][0]["results"].as_array().expect("results").len();
    assert_eq!(findings(&fixtures(), &f).len(), results);
}

/// `../shared/cases/sarif-same-fingerprint-two-files`: one rule, one line fingerprint, two
/// files → two findings, one per file.
#[test]
fn case_sarif_same_fingerprint_two_files() {
    let dir = cases().join("sarif-same-fingerprint-two-files");
    let got = findings(&dir, Path::new("two-files.sarif"));
    let mut locations: Vec<&str> = got.iter().filter_map(|f| f["location"].as_str()).collect();
    locations.sort();
    assert_eq!(locations, ["v1/handlers/profile.js:12", "v2/handlers/profile.js:40"]);
}

// ------------------------------------------------------------------------------------------
// Other formats: the same question, each format's identity computed from the file.
// ------------------------------------------------------------------------------------------

/// Vulnerability entries (package, version, ids) → the distinct vulnerabilities: one per
/// package version and vulnerability, where ids shared through aliases are one
/// vulnerability (GHSA-… listing CVE-… is the CVE). The same package version listed from
/// several manifests or file paths of one artifact is one vulnerable package (a
/// distribution package is installed once; a module version is one dependency).
fn distinct_vulnerabilities(entries: Vec<(String, String, Vec<String>)>) -> usize {
    let mut groups: Vec<((String, String), BTreeSet<String>)> = Vec::new();
    for (pkg, version, ids) in entries {
        let key = (pkg, version);
        let mut ids: BTreeSet<String> = ids.into_iter().map(|i| i.to_ascii_uppercase()).collect();
        let (hits, rest): (Vec<_>, Vec<_>) =
            groups.into_iter().partition(|(k, g)| *k == key && g.intersection(&ids).next().is_some());
        for (_, g) in hits {
            ids.extend(g);
        }
        groups = rest;
        groups.push((key, ids));
    }
    groups.len()
}

fn load(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(rel)).expect("readable")).expect("JSON")
}

fn strs(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn assert_distinct(rel: &str, want: usize) {
    let got = findings(&fixtures(), &fixtures().join(rel)).len();
    assert_eq!(got, want, "{rel}: {want} distinct findings in the file, stance findings gives {got}");
}

#[test]
fn trivy_json_fixtures_keep_every_distinct_finding() {
    for rel in [
        "trivy/alpine-310.json.golden",
        "trivy/debian-stretch.json.golden",
        "trivy/distroless-python27.json.golden",
        "trivy/gomod.json.golden",
        "trivy/helm_testchart.json.golden",
        "trivy/npm.json.golden",
        "trivy/secrets.json.golden",
        "trivy/spring4shell-jre11.json.golden",
        "trivy/ubuntu-1804.json.golden",
        "defectdojo/trivy/issue_9170.json",
    ] {
        let v = load(rel);
        let (mut vulns, mut other) = (Vec::new(), BTreeSet::new());
        // An image or repository report lists `Results`; a cluster report, `Resources[].Results`.
        let results: Vec<&Value> =
            strs(&v["Results"]).chain(strs(&v["Resources"]).flat_map(|r| strs(&r["Results"]))).collect();
        for r in results {
            for x in strs(&r["Vulnerabilities"]) {
                vulns.push((text(&x["PkgName"]), text(&x["InstalledVersion"]), vec![text(&x["VulnerabilityID"])]));
            }
            for m in strs(&r["Misconfigurations"]).filter(|m| m["Status"].as_str().is_none_or(|s| s == "FAIL")) {
                other.insert(("m", text(&r["Target"]), text(&m["ID"]), text(&m["CauseMetadata"]["StartLine"])));
            }
            for s in strs(&r["Secrets"]) {
                other.insert(("s", text(&r["Target"]), text(&s["RuleID"]), text(&s["StartLine"])));
            }
        }
        assert_distinct(rel, distinct_vulnerabilities(vulns) + other.len());
    }
}

#[test]
fn grype_fixtures_keep_every_distinct_finding() {
    for rel in [
        "grype/TestJsonDirsPresenter.golden",
        "grype/TestJsonImgsPresenter.golden",
        "grype/ghsa-test.json",
        "grype/keycloak-test.json",
        "defectdojo/grype/issue_9618.json",
        "defectdojo/grype/many_vulns_with_epss_values.json",
        "defectdojo/grype/same_cve_different_paths.json",
    ] {
        let v = load(rel);
        let entries = strs(&v["matches"])
            .map(|m| {
                let mut ids = vec![text(&m["vulnerability"]["id"])];
                ids.extend(strs(&m["relatedVulnerabilities"]).map(|r| text(&r["id"])));
                (text(&m["artifact"]["name"]), text(&m["artifact"]["version"]), ids)
            })
            .collect();
        assert_distinct(rel, distinct_vulnerabilities(entries));
    }
}

#[test]
fn osv_scanner_and_npm_audit_fixtures_keep_every_distinct_finding() {
    for rel in ["defectdojo/osv-scanner/many_findings.json", "defectdojo/osv-scanner/some_findings.json"] {
        let v = load(rel);
        let mut want = 0;
        // Each scanned lock file is its own artifact.
        for r in strs(&v["results"]) {
            let mut entries = Vec::new();
            for p in strs(&r["packages"]) {
                for x in strs(&p["vulnerabilities"]) {
                    let mut ids = vec![text(&x["id"])];
                    ids.extend(strs(&x["aliases"]).map(text));
                    entries.push((text(&p["package"]["name"]), text(&p["package"]["version"]), ids));
                }
            }
            want += distinct_vulnerabilities(entries);
        }
        assert_distinct(rel, want);
    }
    for rel in ["defectdojo/npm-audit/many_vulns.json", "defectdojo/npm-audit/one_vuln.json"] {
        let v = load(rel);
        let mut advisories = BTreeSet::new();
        for (name, vuln) in v["vulnerabilities"].as_object().into_iter().flatten() {
            // `via` entries that are objects are advisories; strings point at other packages.
            for via in strs(&vuln["via"]).filter(|x| x.is_object()) {
                advisories.insert((name.clone(), text(&via["source"])));
            }
        }
        assert_distinct(rel, advisories.len());
    }
}

#[test]
fn code_and_secret_scanner_fixtures_keep_every_distinct_finding() {
    for rel in [
        "defectdojo/semgrep/many_findings.json",
        "defectdojo/semgrep/many_vulns.json",
        "defectdojo/semgrep/one_finding.json",
    ] {
        let v = load(rel);
        let results: BTreeSet<String> = strs(&v["results"])
            .map(|r| format!("{}|{}|{}|{}", r["check_id"], r["path"], r["start"], r["end"]))
            .collect();
        assert_distinct(rel, results.len());
    }
    let rel = "defectdojo/gitleaks/gitleaks8_many.json";
    // Gitleaks' own fingerprint, else the formula gitleaks uses for it: commit:file:rule:line.
    let leaks: BTreeSet<String> = strs(&load(rel))
        .map(|l| match l["Fingerprint"].as_str() {
            Some(fp) => fp.to_string(),
            None => {
                format!("{}:{}:{}:{}", text(&l["Commit"]), text(&l["File"]), text(&l["RuleID"]), text(&l["StartLine"]))
            }
        })
        .collect();
    assert_distinct(rel, leaks.len());
    let rel = "defectdojo/checkov/checkov-report-multiple-check_type.json";
    let v = load(rel);
    let reports: Vec<&Value> = if v.is_array() { strs(&v).collect() } else { vec![&v] };
    let failed: BTreeSet<String> = reports
        .iter()
        .flat_map(|c| strs(&c["results"]["failed_checks"]).map(move |r| (c, r)))
        .map(|(c, r)| {
            format!(
                "{}|{}|{}|{}|{}",
                c["check_type"], r["check_id"], r["file_path"], r["resource"], r["file_line_range"]
            )
        })
        .collect();
    assert_distinct(rel, failed.len());
}
