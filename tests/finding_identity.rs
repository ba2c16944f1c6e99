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
