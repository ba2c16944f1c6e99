//! The handed cases of issue 17 (evidence with provenance), read in place from
//! `../shared/cases`, each asserting what its EXPECTED.md says is right, by running the
//! commands it gives from inside its folder:
//!
//! - `report-configmap-carries-exception`: a report ConfigMap, or an upload, yields reports
//!   only (check, scan and the webhook; `/ingest` itself is in `operator_ingest.rs`);
//! - `empty-scan-counts-as-scanned`: a tenant's empty report is not a scan;
//! - `future-dated-report-repoints-tag`: a tenant's 2099 report does not move a tag;
//! - `forged-finding-on-other-teams-image`: one namespace's evidence does not change
//!   another namespace's verdict or risk;
//! - `gzip-bomb-report-configmap`: refused with a warning naming the ConfigMap and the limit
//!   (memory bounds: `evidence_robustness.rs`);
//! - `quadratic-correlation-one-package`: see `evidence_robustness.rs`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::Command;
use clap::Parser;
use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";

fn case(name: &str) -> PathBuf {
    common::cases::path(name)
}

/// Runs `stance ARGS… --now NOW` in the case's folder; returns the exit code, stdout, stderr.
fn stance(case_name: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("stance")
        .unwrap()
        .current_dir(case(case_name))
        .args(args)
        .args(["--now", NOW])
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// `stance check -f deploy --state S… --format json`: the exit code and each workload's verdict.
fn check(case_name: &str, states: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["check", "-f", "deploy", "--format", "json"];
    for s in states {
        args.extend(["--state", s]);
    }
    let (code, out, err) = stance(case_name, &args);
    let verdicts: Vec<Value> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{case_name}: {e}: {out}\nstderr: {err}"));
    (code, verdicts)
}

/// `stance scan PATH… --format json`.
fn scan(case_name: &str, paths: &[&str]) -> Value {
    let mut args = vec!["scan", "--format", "json"];
    args.extend(paths);
    let (code, out, err) = stance(case_name, &args);
    assert_eq!(code, 0, "{case_name}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// `policy/rule` of the violations that block the deploy.
fn blocking(verdict: &Value) -> BTreeSet<String> {
    violations(verdict)
        .filter(|v| v["enforcement"] == "Enforce" && v.get("exceptedBy").is_none() && v.get("preexisting").is_none())
        .map(|v| format!("{}/{}", v["policy"].as_str().unwrap(), v["rule"].as_str().unwrap()))
        .collect()
}

fn violations(verdict: &Value) -> impl Iterator<Item = &Value> {
    verdict["violations"].as_array().into_iter().flatten()
}

fn excepted_by(verdict: &Value) -> BTreeSet<String> {
    violations(verdict)
        .flat_map(|v| v["exceptedBy"].as_array().into_iter().flatten())
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

fn the(verdicts: &[Value], workload: &str) -> Value {
    verdicts.iter().find(|v| v["workload"] == workload).unwrap_or_else(|| panic!("no verdict for {workload}")).clone()
}

const CARRIES_EXCEPTION: &str = "report-configmap-carries-exception";
const PAYMENTS: &str = "Deployment/payments/payments-api";

#[test]
fn a_report_configmap_or_upload_yields_reports_only() {
    let (code, control) = check(CARRIES_EXCEPTION, &["state"]);
    assert_eq!(code, 1);
    let control = the(&control, PAYMENTS);
    assert_eq!(control["decision"], "deny");
    let denied = blocking(&control);
    assert_eq!(denied.len(), 2, "the control denies with two blocking violations: {denied:?}");
    for (extra, smuggled) in [("configmap", "totally-approved"), ("uploaded", "ci-upload")] {
        let (code, verdicts) = check(CARRIES_EXCEPTION, &["state", extra]);
        let v = the(&verdicts, PAYMENTS);
        assert_eq!((code, v["decision"].as_str()), (1, Some("deny")), "{extra}");
        assert_eq!(blocking(&v), denied, "{extra}: the same two blocking violations as the control");
        assert!(!excepted_by(&v).contains(&format!("stance-system/{smuggled}")), "{extra}: {:?}", excepted_by(&v));
        assert_eq!(excepted_by(&v), excepted_by(&control), "{extra}: nothing more is excepted");

        let posture = scan(CARRIES_EXCEPTION, &["state", extra]);
        let exceptions: Vec<&str> =
            posture["exceptions"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(exceptions, ["payments-spring4shell-waf"], "{extra}: the only exception");
        // The warning names the ConfigMap and the kind it held, not applied.
        let warnings = posture["warnings"].as_array().unwrap();
        let refused = warnings.iter().find(|w| w["message"].as_str().unwrap().contains("RiskException"));
        let refused = refused.unwrap_or_else(|| panic!("{extra}: no warning names the RiskException: {warnings:?}"));
        assert!(refused["origin"].as_str().unwrap().contains("ConfigMap payments/"), "{refused}");
        assert!(refused["message"].as_str().unwrap().contains(smuggled), "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("not applied"), "{refused}");
    }
}

/// `stance webhook --state state --state configmap --self-signed`, then the review: the
/// webhook's own argument parsing and state loading, judged by its handler in-process.
#[test]
fn the_webhook_denies_the_review_despite_the_configmap() {
    let dir = case(CARRIES_EXCEPTION);
    let (state, configmap) = (dir.join("state"), dir.join("configmap"));
    let cli = stance::cli::Cli::try_parse_from([
        "stance".as_ref(),
        "webhook".as_ref(),
        "--state".as_ref(),
        state.as_os_str(),
        "--state".as_ref(),
        configmap.as_os_str(),
        "--self-signed".as_ref(),
        "--now".as_ref(),
        NOW.as_ref(),
    ])
    .unwrap();
    let stance::cli::Command::Webhook(args) = cli.command else { panic!("not the webhook command") };
    let loaded = stance::ingest::load_paths_with(&args.state, &args.policy.reader()).unwrap();
    let (index, _) = loaded.into_index_with_warnings(args.policy.config());
    let review = std::fs::read(dir.join("review-payments-api.json")).unwrap();
    let handled = stance::webhook::handle(&review, &index, args.policy.now(), &Default::default());
    let answer: Value = serde_json::from_slice(&handled.body).unwrap();
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(!message.contains("totally-approved"), "{message}");
}

#[test]
fn a_tenants_empty_report_is_not_a_scan() {
    let c = "empty-scan-counts-as-scanned";
    let workload = "Deployment/team-b/new-app";
    let (_, control) = check(c, &["state"]);
    let (code, forged) = check(c, &["state", "forged"]);
    let (control, forged) = (the(&control, workload), the(&forged, workload));
    assert_eq!(control["decision"], "deny");
    assert_eq!((code, forged["decision"].as_str()), (1, Some("deny")));
    let rule_types = |v: &Value| violations(v).map(|x| x["ruleType"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(rule_types(&forged), ["scanRequired"]);
    assert_eq!(blocking(&forged), blocking(&control));
}

#[test]
fn a_future_dated_tenant_report_does_not_repoint_a_tag() {
    let c = "future-dated-report-repoints-tag";
    let workload = "Deployment/team-b/reports";
    let (_, control) = check(c, &["state"]);
    let (code, forged) = check(c, &["state", "forged"]);
    let (control, forged) = (the(&control, workload), the(&forged, workload));
    assert_eq!((code, forged["decision"].as_str()), (1, Some("deny")));
    let items = |v: &Value| violations(v).flat_map(|x| x["items"].as_array().unwrap().clone()).collect::<Vec<_>>();
    assert_eq!(items(&forged).len(), 5, "the same 5 MEDIUM findings");
    assert_eq!(items(&forged), items(&control));
    assert!(forged["violations"][0]["message"].as_str().unwrap().contains("5 vulnerabilities above LOW"));
}

#[test]
fn another_namespaces_evidence_changes_neither_verdict_nor_risk() {
    let c = "forged-finding-on-other-teams-image";
    let workload = "Deployment/shop/catalog";
    let (code, verdicts) = check(c, &["state", "forged"]);
    let (_, control) = check(c, &["state"]);
    assert_eq!(the(&control, workload)["decision"], "allow");
    assert_eq!((code, the(&verdicts, workload)["decision"].as_str()), (0, Some("allow")));
    let catalog = |posture: &Value| {
        let app = posture["apps"].as_array().unwrap().iter().find(|a| a["name"] == "catalog").unwrap().clone();
        let ids: BTreeSet<String> =
            app["topFindings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
        (app["riskScore"].clone(), app["findings"].clone(), ids)
    };
    let before = catalog(&scan(c, &["state", "deploy"]));
    let after = catalog(&scan(c, &["state", "deploy", "forged"]));
    assert_eq!(before.0, 50, "the control's risk");
    assert_eq!(after, before);
    assert!(!after.2.contains("CVE-2021-44228"));
}

#[test]
fn a_gzip_bomb_configmap_is_refused_with_a_warning_naming_it_and_the_limit() {
    let posture = scan("gzip-bomb-report-configmap", &["state"]);
    let warnings = posture["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let (origin, message) = (warnings[0]["origin"].as_str().unwrap(), warnings[0]["message"].as_str().unwrap());
    assert!(origin.contains("ConfigMap sandbox/scan"), "{origin}");
    assert!(message.contains("16 MiB") && message.contains("per object"), "{message}");
}
