//! The `stance` binary end to end: the demo through every output format, `findings` on
//! real files, `check` exit codes, `crds`.

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";

fn stance() -> Command {
    Command::cargo_bin("stance").unwrap()
}

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo")
}

fn scan_json() -> Value {
    let out = stance().args(["scan", "--format", "json", "--top", "50", "--now", NOW]).arg(demo()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn demo_scan_ranks_by_context_not_raw_severity() {
    let v = scan_json();
    assert_eq!(v["schema"], "stance.dev/scan/v1");
    assert_eq!(v["summary"]["warnings"], 0, "{:#}", v["warnings"]);
    let apps: Vec<&str> = v["apps"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(apps, ["payments-api", "storefront", "reporting", "catalog"]);
    let scores: Vec<u64> = v["apps"].as_array().unwrap().iter().map(|a| a["riskScore"].as_u64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // The KEV-listed Spring4Shell on the critical, internet-facing payments API tops everything.
    let pay = &v["apps"][0];
    assert_eq!(pay["exposure"], "internet");
    let top = &pay["topFindings"][0];
    assert_eq!(top["id"], "CVE-2022-22965");
    assert_eq!(top["knownExploited"], true);
    let factors: Vec<&str> = top["factors"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(
        factors.iter().any(|f| f.starts_with("kev=")) && factors.iter().any(|f| f.starts_with("exposure=internet"))
    );

    // The same nginx:alpine vulnerability ranks lower in the low-criticality, unexposed app.
    let find = |app: &Value, id: &str, pkg: &str| {
        app["topFindings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id && f["package"] == pkg)
            .map(|f| f["riskScore"].as_u64().unwrap())
    };
    let store = v["apps"].as_array().unwrap().iter().find(|a| a["name"] == "storefront").unwrap();
    let reporting = v["apps"].as_array().unwrap().iter().find(|a| a["name"] == "reporting").unwrap();
    let (s, r) = (find(store, "CVE-2022-3970", "tiff").unwrap(), find(reporting, "CVE-2022-3970", "tiff").unwrap());
    assert!(s > r + 15, "storefront {s} vs reporting {r}");

    // Findings from every source reach the storefront: image scan, config audit, SAST, DAST.
    let kinds: std::collections::BTreeSet<&str> =
        store["topFindings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["dast", "misconfiguration", "sast", "vulnerability"]);
    // The curl CVE is excepted (not_affected) by the active exception: hidden from the ranking.
    assert!(find(store, "CVE-2023-23914", "curl").is_none());
    assert_eq!(store["suppressedFindings"], 2);

    let exc: Vec<(String, String)> = v["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["state"].as_str().unwrap().to_string()))
        .collect();
    assert!(exc.contains(&("storefront-curl-hsts".into(), "Active".into())));
    assert!(exc.contains(&("payments-spring4shell-hotfix-window".into(), "Expired".into())));
    // The expired exception does not cover the payments API: Enforce violations remain.
    assert!(
        pay["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["policy"] == "no-known-exploited" && x["exceptedBy"].is_null())
    );
    assert_eq!(pay["compliant"], false);
    // The unowned debug pod is reported.
    assert!(
        v["unownedViolations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["workload"] == "Pod/default/debug-shell" && x["ruleType"] == "workloadSecurity")
    );
}

#[test]
fn demo_scan_table_is_readable() {
    let out = stance().args(["scan", "--now", NOW]).arg(demo()).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let first_app_row = text.lines().nth(3).unwrap();
    assert!(first_app_row.starts_with("payments/payments-api"), "{text}");
    for needle in [
        "CVE-2022-22965",
        "DENY",
        "EXCEPTED",
        "storefront-curl-hsts",
        "Expired",
        "Inferred applications",
        "default/debug-shell (inferred)",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}

#[test]
fn demo_scan_sarif_is_valid_and_reads_back() {
    let out = stance().args(["scan", "--format", "sarif", "--now", NOW]).arg(demo()).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
    // Our own SARIF parser reads it back: one finding per result.
    let (parsed, warnings) = {
        let (mut out_docs, mut w) = (Vec::new(), Vec::new());
        stance::ingest::parse_bytes("stance.sarif", &out.stdout, &mut out_docs, &mut w);
        (out_docs, w)
    };
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut loaded = stance::ingest::Loaded::default();
    loaded.add(parsed);
    assert_eq!(loaded.reports[0].findings.len(), results.len());
}

#[test]
fn demo_scan_policyreports_read_back() {
    let out = stance().args(["scan", "--format", "policyreport", "--now", NOW]).arg(demo()).output().unwrap();
    assert!(out.status.success());
    let mut loaded = stance::ingest::Loaded::default();
    loaded.add_bytes("stance-policyreports.yaml", &out.stdout);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let namespaces: Vec<String> = serde_yaml::Deserializer::from_slice(&out.stdout)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap()["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(namespaces, ["analytics", "default", "payments", "shop"]);
    // Failing results become findings; the payments API's Enforce violations are among them.
    let failing: Vec<_> = loaded
        .reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.artifact.to_string().contains("payments-api"))
        .collect();
    assert!(failing.iter().any(|f| f.id.contains("no-known-exploited")), "{failing:#?}");
}

use serde::Deserialize;

#[test]
fn findings_deduplicate_across_formats() {
    let out = stance()
        .args(["findings"])
        .arg(common::fixture_path("trivy/npm.json.golden"))
        .arg(common::fixture_path("trivy/npm-cyclonedx.json.golden"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let f = &lines[0];
    assert_eq!(f["ruleId"], "CVE-2019-11358");
    assert_eq!(f["kind"], "vulnerability");
    assert_eq!(f["package"]["name"], "jquery");
    assert_eq!(f["package"]["installedVersion"], "3.3.9");
    assert_eq!(f["package"]["fixedVersion"], "3.4.0");
    assert_eq!(f["package"]["purl"], "pkg:npm/jquery@3.3.9");
    let mut formats: Vec<&str> =
        f["sources"].as_array().unwrap().iter().map(|s| s["format"].as_str().unwrap()).collect();
    formats.sort_unstable();
    assert_eq!(formats, ["cyclonedx", "trivy-json"]);
    assert_eq!(f["id"].as_str().unwrap().len(), 16);
    assert!(f["riskScore"].as_u64().unwrap() > 0 && !f["factors"].as_array().unwrap().is_empty());
}

#[test]
fn findings_of_a_malformed_file_warn_and_keep_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"SchemaVersion\": 2, ").unwrap();
    std::fs::copy(common::fixture_path("trivy/alpine-310.json.golden"), dir.path().join("alpine.json")).unwrap();
    let out = stance().arg("findings").arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 4);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("broken.json") && err.contains("invalid JSON"), "{err}");
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn check_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let state = demo();
    let good = write(
        dir.path(),
        "good.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: catalog, namespace: shop, labels: {team: web}}\nspec:\n  selector: {matchLabels: {app.kubernetes.io/name: catalog}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: catalog, team: web}}\n    spec:\n      containers: [{name: api, image: 'ghcr.io/aquasecurity/trivy-test-images:alpine-310'}]\n",
    );
    let out = stance().args(["check", "--now", NOW, "-f"]).arg(&good).arg("--state").arg(&state).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Deployment/shop/catalog"), "{text}");

    // Against the state without cluster/: a manifest the state already runs unchanged is an
    // UPDATE that changes nothing guardrails judge, which admission (and so check) skips.
    let bad = state.join("cluster/payments.yaml");
    // The Namespaces too: the demo's supply-chain policy selects namespaces by label.
    let desired = ["stance", "reports", "feeds", "cluster/namespaces.yaml"].map(|d| state.join(d));
    let out = stance().args(["check", "--now", NOW, "-f"]).arg(&bad).arg("--state").args(&desired).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("DENY   Deployment/payments/payments-api")
            && text.contains("CVE-2022-22965")
            && text.contains("RiskException"),
        "{text}"
    );

    // JSON output carries the decision per workload.
    let out = stance()
        .args(["check", "--format", "json", "--now", NOW, "-f"])
        .arg(&bad)
        .arg("--state")
        .args(&desired)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["decision"], "deny");

    // Unreadable path, unparseable manifest, usage error: 2.
    let out = stance().args(["check", "-f", "/nonexistent/x.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.yaml"));
    let broken = write(
        dir.path(),
        "broken.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: [}\n",
    );
    let out = stance().args(["check", "-f"]).arg(&broken).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.yaml"));
    assert_eq!(stance().args(["check"]).output().unwrap().status.code(), Some(2));
    assert_eq!(stance().args(["scan", "--format", "xml", "."]).output().unwrap().status.code(), Some(2));
}

#[test]
fn crds_command_prints_the_crds_directory() {
    let out = stance().arg("crds").output().unwrap();
    assert!(out.status.success());
    let printed: Vec<Value> =
        serde_yaml::Deserializer::from_slice(&out.stdout).map(|d| Value::deserialize(d).unwrap()).collect();
    let mut on_disk = Vec::new();
    for (name, _) in stance::api::crd_files().unwrap() {
        let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crds").join(name)).unwrap();
        on_disk.push(serde_yaml::from_str::<Value>(&text).unwrap());
    }
    assert_eq!(printed, on_disk);
}

/// The README's quick start shows the demo's ranking: it must be what `stance scan` prints.
#[test]
fn readme_quick_start_table_is_what_scan_prints() {
    let out = stance().args(["scan", "--now", NOW]).arg(demo()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table: Vec<&str> = printed.lines().skip_while(|l| !l.starts_with("APPLICATION ")).take(5).collect();
    assert_eq!(table.len(), 5, "no application table in:\n{printed}");
    for line in table {
        assert!(
            readme.contains(line.trim_end()),
            "README.md does not show this line of `stance scan examples/demo`:\n{line}"
        );
    }
}

/// Issue 16 §4: an exception that can waive nothing is shown as `Unmatched` with the reason,
/// never `Active`: one without `match.namespaces` in stance-system (it covers exempt
/// stance-system only), one in a namespace no policy trusts, one naming a policy that is not
/// there. One scoped to the workloads' namespace is `Active`.
#[test]
fn scan_shows_exceptions_that_match_nothing_as_unmatched() {
    let dir = tempfile::tempdir().unwrap();
    let exception = |ns: &str, name: &str, extra: &str| {
        format!(
            "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: RiskException\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  rules: [kev]\n  justification: WAF rule in place\n  expires: \"2026-12-20T00:00:00Z\"\n{extra}"
        )
    };
    let state = [
        "apiVersion: aspm.stance.dev/v1alpha1\nkind: GuardrailPolicy\nmetadata: {name: no-kev}\nspec:\n  enforcement: Enforce\n  rules:\n  - name: kev\n    vulnerabilities: {maxSeverity: MEDIUM, knownExploitedOnly: true}\n".to_string(),
        exception("stance-system", "own-namespace-only", ""),
        exception("payments", "untrusted-namespace", ""),
        exception("stance-system", "no-such-policy", "  policy: nope\n  match: {namespaces: [payments]}\n"),
        exception("stance-system", "scoped", "  match: {namespaces: [payments]}\n"),
    ]
    .concat();
    write(dir.path(), "state.yaml", &state);
    let out = stance().args(["scan", "--format", "json", "--now", NOW]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let state_of = |name: &str| {
        let e =
            v["exceptions"].as_array().unwrap().iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{v:#}"));
        (e["state"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap_or_default().to_string())
    };
    let (state, reason) = state_of("own-namespace-only");
    assert_eq!(state, "Unmatched");
    assert!(reason.contains("stance-system, exempt") && reason.contains("match.namespaces"), "{reason}");
    let (state, reason) = state_of("untrusted-namespace");
    assert_eq!(state, "Unmatched");
    assert!(reason.contains("trusts RiskExceptions from namespace payments"), "{reason}");
    let (state, reason) = state_of("no-such-policy");
    assert_eq!(state, "Unmatched");
    assert!(reason.contains("no GuardrailPolicy nope"), "{reason}");
    assert_eq!(state_of("scoped"), ("Active".to_string(), String::new()));
}

/// The demo's supply-chain policy selects namespaces by label (`env: prod`): without the
/// Namespace objects the gate cannot tell whether it applies, so it says so (exit 2) instead
/// of judging as if the namespace had no labels.
#[test]
fn check_without_the_namespaces_a_selector_reads_cannot_judge() {
    let state = demo();
    let without = ["stance", "reports", "feeds"].map(|d| state.join(d));
    let out = stance()
        .args(["check", "--now", NOW, "-f"])
        .arg(state.join("cluster/payments.yaml"))
        .arg("--state")
        .args(&without)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Namespace payments: is neither in --state nor among the manifests"), "{err}");
    assert!(err.contains("namespaceSelector of supply-chain"), "{err}");
    // The Namespace among the manifests counts as much as in the state.
    let out = stance()
        .args(["check", "--now", NOW, "-f"])
        .arg(state.join("cluster/payments.yaml"))
        .arg(state.join("cluster/namespaces.yaml"))
        .arg("--state")
        .args(&without)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}
