//! The scripted remediation timeline (examples/history, docs/history.md): two Trivy Operator
//! reports of the storefront's nginx image — the real report of nginx:1.23.3-alpine from
//! ../shared/fixtures and the upgrade derived from it by examples/history/derive.py — replayed
//! with `stance scan --history sqlite:… --now T`, then read back with `stance history`; and the
//! due-date policy of examples/history/stance, with `--now` moving time.
//!
//! Expected numbers are computed here from the report files themselves (findings per
//! identity and severity, scan times), never copied from Stance's output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use jiff::Timestamp;
use serde_json::Value;

const T1: &str = "2026-11-02T09:00:00Z";
const T2: &str = "2026-11-23T09:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(p: &str) -> String {
    root().join("examples/history").join(p).display().to_string()
}

fn stance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stance")).args(args).current_dir(root()).output().unwrap()
}

fn report(version: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(example(&format!("{version}/vulnerabilityreport.json"))).unwrap())
        .unwrap()
}

/// A report's finding identities — (vulnerability id, package short name) — with their severity.
fn identities(r: &Value) -> BTreeMap<(String, String), String> {
    r["report"]["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let id = v["vulnerabilityID"].as_str().unwrap().to_string();
            // The package's short name (Go modules and Maven coordinates by their last part),
            // as the lifecycle identity keeps it: versions and registries come and go.
            let resource = v["resource"].as_str().unwrap();
            let package = resource.rsplit([':', '/']).next().unwrap().to_ascii_lowercase();
            ((id, package), v["severity"].as_str().unwrap().to_string())
        })
        .collect()
}

fn scanned(r: &Value) -> Timestamp {
    r["report"]["updateTimestamp"].as_str().unwrap().parse().unwrap()
}

fn days(a: Timestamp, b: Timestamp) -> f64 {
    (b.duration_since(a).as_secs_f64() / 86_400.0 * 10.0).round() / 10.0
}

#[test]
fn the_derived_upgrade_is_what_derive_py_writes_from_the_fixture() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(example("derive.py"))
        .args(["--out", &out.path().display().to_string()])
        .status()
        .expect("python3 runs examples/history/derive.py");
    assert!(status.success());
    for v in ["v1", "v2"] {
        let file = format!("{v}/vulnerabilityreport.json");
        assert_eq!(
            std::fs::read_to_string(out.path().join(&file)).unwrap(),
            std::fs::read_to_string(example(&file)).unwrap(),
            "examples/history/{file} is out of date: run python3 examples/history/derive.py"
        );
    }
    // v1 is the fixture's findings, unchanged but for the dates the CRD requires, which the
    // export lacks and derive.py fills with "" (no date in the scan result).
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("../shared/fixtures/defectdojo/trivy_operator/vulnerabilityreport_many.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut v1 = report("v1")["report"]["vulnerabilities"].clone();
    for v in v1.as_array_mut().unwrap() {
        for field in ["publishedDate", "lastModifiedDate"] {
            assert_eq!(v.as_object_mut().unwrap().remove(field), Some(Value::from("")), "{field} of {v}");
        }
    }
    assert_eq!(fixture["report"]["vulnerabilities"], v1);
}

#[test]
fn replaying_the_upgrade_records_what_was_fixed_and_how_long_it_took() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let url = format!("sqlite:{}", db.display());
    let (v1, v2) = (report("v1"), report("v2"));
    let (before, after) = (identities(&v1), identities(&v2));
    let fixed: BTreeMap<_, _> = before.iter().filter(|(k, _)| !after.contains_key(*k)).collect();
    assert!(!fixed.is_empty() && after.keys().all(|k| before.contains_key(k)));

    let out = stance(&["scan", &example("stance"), &example("v1"), "--history", &url, "--now", T1]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("history: {} new, 0 fixed", before.len())), "{stderr}");
    let out = stance(&["scan", &example("stance"), &example("v2"), "--history", &url, "--now", T2]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("history: 0 new, {} fixed", fixed.len())), "{stderr}");
    // A timeline is recorded forwards: an earlier snapshot into the same store is refused.
    let out = stance(&["scan", &example("stance"), &example("v1"), "--history", &url, "--now", T1]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("recorded forwards"));

    let out = stance(&[
        "history",
        "--history",
        &url,
        "--app",
        "shop/storefront",
        "--format",
        "json",
        "--now",
        "2026-11-24T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["schema"], "stance.dev/history/v1");
    // Time to fix: from the v1 report's scan time (first seen) to the upgrade's observation.
    let took = days(scanned(&v1), T2.parse().unwrap());
    let mut per_severity: BTreeMap<&str, u64> = BTreeMap::new();
    for sev in fixed.values() {
        *per_severity.entry(sev.as_str()).or_default() += 1;
    }
    for t in h["timeToFix"].as_array().unwrap() {
        let sev = t["severity"].as_str().unwrap();
        let n = if sev == "ALL" { fixed.len() as u64 } else { per_severity.get(sev).copied().unwrap_or(0) };
        assert_eq!(t["fixed"], n, "{t}");
        if n > 0 {
            assert_eq!((t["meanDays"].as_f64(), t["p90Days"].as_f64()), (Some(took), Some(took)), "{t}");
        }
    }
    let subject = &h["subjects"][0]["remediation"];
    assert_eq!(subject["open"], after.len() as u64);
    assert_eq!(subject["fixedThisWeek"], fixed.len() as u64);
    // Per-finding dates: every identity, first seen at the v1 scan; the fixed ones fixed at T2.
    let findings = h["findings"].as_array().unwrap();
    assert_eq!(findings.len(), before.len());
    for f in findings {
        let key = (f["id"].as_str().unwrap().to_string(), f["what"].as_str().unwrap().to_string());
        assert_eq!(f["severity"].as_str(), before.get(&key).map(String::as_str), "{f}");
        assert_eq!(f["firstSeen"].as_str().unwrap().parse::<Timestamp>().unwrap(), scanned(&v1));
        assert_eq!(f["fixed"].as_str().is_some(), fixed.contains_key(&key), "{f}");
    }
    // The trend: one day per observation.
    let trend_days: BTreeSet<&str> =
        h["trends"].as_array().unwrap().iter().map(|p| p["day"].as_str().unwrap()).collect();
    assert_eq!(trend_days, BTreeSet::from(["2026-11-02", "2026-11-23"]));

    // Months later, the MEDIUM findings the upgrade kept are past the 90 days of the default
    // policy; the table shows them.
    let later = "2027-02-05T00:00:00Z";
    let out = stance(&["history", "--history", &url, "--format", "json", "--now", later]);
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    let medium_open = after.values().filter(|s| *s == "MEDIUM").count();
    let overdue = h["overdue"].as_array().unwrap();
    assert_eq!(overdue.len(), medium_open);
    assert!(overdue.iter().all(|f| f["severity"] == "MEDIUM" && f["overdue"] == true));
    let out = stance(&["history", "--history", &url, "--now", later]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("Overdue findings ({medium_open})")), "{table}");
    assert!(table.contains("shop/storefront"), "{table}");
}

/// The deadlines policy of examples/history/stance denies the v1 rollout once its CRITICAL
/// findings are past the internet-facing 15 days (from the report's scan time: no store),
/// and warns once MEDIUM ones pass 90 days; the upgrade is allowed where v1 is denied.
#[test]
fn the_due_date_policy_denies_and_warns_as_time_moves() {
    let v1 = report("v1");
    let criticals: BTreeSet<String> =
        identities(&v1).into_iter().filter(|(_, s)| s == "CRITICAL").map(|((id, _), _)| id).collect();
    assert!(!criticals.is_empty());
    let check = |version: &str, now: &str| {
        stance(&[
            "check",
            "-f",
            &example(&format!("{version}/storefront.yaml")),
            "--state",
            &example("stance"),
            &example(&format!("{version}/vulnerabilityreport.json")),
            "--now",
            now,
        ])
    };
    // 8 days after the scan: nothing is due yet.
    let out = check("v1", "2026-11-10T00:00:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // 18 days: the CRITICAL ones are past 15 days.
    let out = check("v1", "2026-11-20T00:00:00Z");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("[remediation-deadlines/critical-and-high]"), "{text}");
    assert!(criticals.iter().all(|id| text.contains(id.as_str())), "{text}");
    assert!(!text.contains("remediation-deadlines-warn"), "{text}");
    // The upgraded image has none of them: allowed on the same day.
    let out = check("v2", "2026-11-20T00:00:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // 98 days after the upgrade's scan (first seen, without a store), its MEDIUM findings
    // are past 90 days: a warning.
    let out = check("v2", "2027-03-01T00:00:00Z");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("warn:  [remediation-deadlines-warn/medium-and-low]"), "{text}");
}
