//! One issue reported by two tools is one finding with both sources.
//!
//! The fixtures hold no image scanned by both Grype and Trivy, and no npm project scanned
//! by Snyk, OSV-Scanner and npm audit. So each pair is built from ONE real file: the other
//! tool's document is written here, minimally, in that tool's documented shape, from the
//! real file's values (image name, packages, versions, advisory ids) — as that tool would
//! report the same scan.

mod formats_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use formats_support::{arr, common, json, s};
use serde_json::{Value, json as j};

fn findings(paths: &[PathBuf]) -> Vec<Value> {
    let out =
        Command::cargo_bin("stance").unwrap().args(["findings", "--format", "json"]).args(paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p
}

fn formats(line: &Value) -> BTreeSet<String> {
    line["sources"].as_array().unwrap().iter().map(|s| s["format"].as_str().unwrap().to_string()).collect()
}

/// Trivy's real scan of `debian-stretch` (5 vulnerabilities: CVE-2019-5094 in four packages)
/// and the same scan as `grype -o json` would write it (source image, matches with the
/// artifact's name, version and purl).
#[test]
fn the_same_image_in_trivy_and_grype() {
    let rel = "trivy/debian-stretch.json.golden";
    let trivy = json(rel);
    let image = arr(&trivy["Metadata"], "RepoTags")[0].as_str().unwrap();
    let vulns: Vec<&Value> = arr(&trivy, "Results").iter().flat_map(|r| arr(r, "Vulnerabilities")).collect();
    let matches: Vec<Value> = vulns
        .iter()
        .map(|v| {
            j!({
                "vulnerability": {"id": s(v, "VulnerabilityID"), "namespace": "debian:distro:debian:9",
                                  "severity": "Medium", "fix": {"versions": [], "state": "unknown"}},
                "relatedVulnerabilities": [],
                "artifact": {"name": s(v, "PkgName"), "version": s(v, "InstalledVersion"), "type": "deb",
                             "purl": s(&v["PkgIdentifier"], "PURL"), "locations": [{"path": "/var/lib/dpkg/status"}]}
            })
        })
        .collect();
    let grype = j!({
        "matches": matches,
        "source": {"type": "image", "target": {"userInput": image, "tags": [image], "repoDigests": []}},
        "distro": {"name": "debian", "version": "9"},
        "descriptor": {"name": "grype", "version": "0.87.0"}
    });
    let dir = tempfile::tempdir().unwrap();
    let grype_path = write(dir.path(), "grype.json", &grype);
    let lines = findings(&[common::fixture_path(rel), grype_path]);

    let distinct: BTreeSet<(&str, &str)> = vulns.iter().map(|v| (s(v, "VulnerabilityID"), s(v, "PkgName"))).collect();
    assert_eq!(distinct.len(), 5);
    assert_eq!(lines.len(), distinct.len(), "{lines:#?}");
    for l in &lines {
        assert_eq!(formats(l), BTreeSet::from(["grype".to_string(), "trivy-json".to_string()]), "{l:#}");
        // The worst severity of the two and Trivy's fixed version survive the merge.
        assert_eq!(l["artifact"], format!("image:{image}"));
    }
    let bash = lines.iter().find(|l| l["package"]["name"] == "bash").unwrap();
    assert_eq!((bash["ruleId"].as_str(), bash["severity"].as_str()), (Some("CVE-2019-18276"), Some("MEDIUM")));
    let e2fs = lines.iter().find(|l| l["package"]["name"] == "e2fsprogs").unwrap();
    assert_eq!(e2fs["package"]["fixedVersion"], "1.43.4-2+deb9u1");
    assert_eq!(e2fs["aliases"], j!(["DSA-4535-1"]));
}

/// Snyk's real `--all-projects` scan of the npm project `@dependencytrack/frontend`, and
/// the same project as OSV-Scanner and npm audit would report it.
#[test]
fn the_same_npm_project_in_snyk_osv_scanner_and_npm_audit() {
    let all = json("defectdojo/snyk/all_containers_target_output.json");
    let project = all.as_array().unwrap().iter().find(|p| s(p, "packageManager") == "npm").unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let snyk_path = write(dir.path(), "snyk.json", &project);

    // OSV-Scanner knows the advisories with a GHSA or CVE id (not Snyk's own SNYK-JS-… ones).
    let lockfile = format!("{}/package-lock.json", s(&project, "path"));
    let mut packages: Vec<Value> = Vec::new();
    let mut npm: serde_json::Map<String, Value> = serde_json::Map::new();
    let mut advisories = BTreeSet::new();
    for v in arr(&project, "vulnerabilities") {
        let ghsa = arr(&v["identifiers"], "GHSA").first().and_then(Value::as_str);
        let cve = arr(&v["identifiers"], "CVE").first().and_then(Value::as_str);
        let Some(id) = ghsa.or(cve) else { continue };
        if !advisories.insert((id, s(v, "name"))) {
            continue; // the same issue on a second dependency path
        }
        packages.push(j!({
            "package": {"name": s(v, "name"), "version": s(v, "version"), "ecosystem": "npm"},
            "vulnerabilities": [{"id": id, "aliases": cve.filter(|c| *c != id).into_iter().collect::<Vec<_>>(),
                                 "summary": s(v, "title"), "database_specific": {"severity": s(v, "severity").to_uppercase()}}],
            "groups": [{"ids": [id], "aliases": [id]}]
        }));
        if let Some(g) = ghsa {
            npm.insert(s(v, "name").to_string(), j!({
                "name": s(v, "name"), "severity": s(v, "severity"), "isDirect": true,
                "via": [{"source": 1, "name": s(v, "name"), "dependency": s(v, "name"), "title": s(v, "title"),
                         "url": format!("https://github.com/advisories/{g}"), "severity": s(v, "severity"),
                         "cvss": {"score": 0, "vectorString": null}, "range": "*"}],
                "effects": [], "range": "*", "nodes": [format!("node_modules/{}", s(v, "name"))], "fixAvailable": true
            }));
        }
    }
    let osv = j!({"results": [{"source": {"path": lockfile, "type": "lockfile"}, "packages": packages}],
                  "experimental_config": {"licenses": {"summary": false, "allowlist": null}}});
    let osv_path = write(dir.path(), "osv.json", &osv);
    let npm_path =
        write(dir.path(), "npm-audit.json", &j!({"auditReportVersion": 2, "vulnerabilities": npm, "metadata": {}}));

    // Snyk and OSV-Scanner: one finding per issue, both sources where both know it.
    let lines = findings(&[snyk_path.clone(), osv_path.clone()]);
    let snyk_distinct =
        arr(&project, "vulnerabilities").iter().map(|v| (s(v, "id"), s(v, "name"))).collect::<BTreeSet<_>>();
    assert_eq!(lines.len(), snyk_distinct.len(), "{lines:#?}");
    let both: Vec<&Value> = lines.iter().filter(|l| l["sources"].as_array().unwrap().len() == 2).collect();
    assert_eq!(both.len(), advisories.len());
    assert_eq!(
        advisories.len(),
        3,
        "bootstrap-table CVE-2022-1726, merge GHSA-7wpw-2hjm-89gp, moment GHSA-8hfj-j24r-96c4"
    );
    for l in &both {
        assert_eq!(formats(l), BTreeSet::from(["osv-scanner".to_string(), "snyk".to_string()]));
        assert_eq!(l["artifact"], "other:/mnt/c/Projects/cyberspect/frontend");
    }
    let moment = both.iter().find(|l| l["package"]["name"] == "moment").unwrap();
    assert_eq!(moment["ruleId"], "CVE-2022-24785");
    let ids: BTreeSet<&str> = moment["aliases"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(ids.contains("GHSA-8hfj-j24r-96c4") && ids.contains("SNYK-JS-MOMENT-2440688"), "{ids:?}");

    // npm audit names neither the project nor installed versions: its findings stay its own.
    let with_npm = findings(&[snyk_path, osv_path, npm_path]);
    let npm_lines: Vec<&Value> = with_npm.iter().filter(|l| formats(l).contains("npm-audit")).collect();
    assert_eq!(npm_lines.len(), 2);
    assert!(
        npm_lines.iter().all(|l| formats(l).len() == 1 && l["artifact"].as_str().unwrap().ends_with("npm-audit.json"))
    );
    assert_eq!(with_npm.len(), lines.len() + 2);
}
