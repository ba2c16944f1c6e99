//! The handed cases of issue 9 and issue 17 §3, read in place from `../shared/cases` and
//! checked against their EXPECTED.md: the command each states, run from inside its folder,
//! gives the right answer.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cases").join(name)
}

/// Runs `stance ARGS` in the case folder: (exit code, stdout, stderr).
fn stance(name: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("stance").expect("binary").current_dir(case(name)).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `stance check -f deploy --state …` as JSON: workload → decision.
fn check(name: &str, states: &[&str]) -> (i32, Vec<(String, String)>, Value) {
    let mut args = vec!["check", "-f", "deploy"];
    for s in states {
        args.extend(["--state", s]);
    }
    args.extend(["--now", NOW, "--format", "json"]);
    let (code, out, err) = stance(name, &args);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{out}\n{err}"));
    let decisions = v
        .as_array()
        .expect("a list of checked workloads")
        .iter()
        .map(|c| (c["workload"].as_str().unwrap_or("").to_string(), c["decision"].as_str().unwrap_or("").to_string()))
        .collect();
    (code, decisions, v)
}

fn decision(decisions: &[(String, String)], workload: &str) -> String {
    decisions.iter().find(|(w, _)| w == workload).map(|(_, d)| d.clone()).unwrap_or_else(|| panic!("no {workload}"))
}

/// Alpine's `1.1.1j-r0` and `1.1.1-r0` are inside `>=1.1.1, <1.1.1k` in apk order.
#[test]
fn apk_openssl_letter_version() {
    let (code, d, _) = check("apk-openssl-letter-version", &["state"]);
    assert_eq!(code, 1);
    assert_eq!(decision(&d, "Deployment/shop/api"), "deny");
    assert_eq!(decision(&d, "Deployment/shop/legacy"), "deny");
}

/// `%40babel%2Ftraverse` and `%40babel/traverse` are one package; a policy purl typed with
/// a literal `@` is the same package too.
#[test]
fn npm_scoped_purl_encoded_slash() {
    for state in ["state", "state-literal-at"] {
        let (code, d, _) = check("npm-scoped-purl-encoded-slash", &[state]);
        assert_eq!(code, 1, "{state}");
        assert_eq!(decision(&d, "Deployment/web/ui-a"), "deny", "{state}");
        assert_eq!(decision(&d, "Deployment/web/ui-b"), "deny", "{state}");
    }
}

/// `(MIT OR GPL-3.0-or-later)` lets the user choose MIT; `MIT AND GPL-3.0-or-later` does not.
#[test]
fn license_or_expression() {
    let (code, d, v) = check("license-or-expression", &["state"]);
    assert_eq!(code, 1);
    assert_eq!(decision(&d, "Deployment/web/ui"), "allow");
    assert_eq!(decision(&d, "Deployment/web/ui-legacy"), "deny");
    // The violation says which licence forced it.
    assert!(v.to_string().contains("GPL-3.0-or-later whichever licence is chosen"), "{v}");
}

/// An Ingress on an internal ALB is internal exposure, and the reason names the signal.
#[test]
fn internal_alb_ingress() {
    let (code, out, err) = stance("internal-alb-ingress", &["scan", "state", "--format", "json", "--now", NOW]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let app =
        v["apps"].as_array().and_then(|a| a.iter().find(|a| a["name"] == "billing-admin")).expect("billing-admin");
    assert_eq!(app["exposure"], "internal");
    let reasons = app["exposureReasons"].to_string();
    assert!(reasons.contains("alb.ingress.kubernetes.io/scheme: internal"), "{reasons}");
}

/// A team's AppPosture that declares exposure none and criticality low does not take an
/// internet-facing app out of internet-facing policies; the scan says what was overridden.
#[test]
fn self_declared_exposure() {
    let (code, d, _) = check("self-declared-exposure", &["cluster", "app-as-platform-set"]);
    assert_eq!((code, decision(&d, "Deployment/shop/web")), (1, "deny".to_string()), "control");
    let (code, d, v) = check("self-declared-exposure", &["cluster", "app-as-edited"]);
    assert_eq!((code, decision(&d, "Deployment/shop/web")), (1, "deny".to_string()));
    let text = v.to_string();
    assert!(text.contains("internet-facing-needs-sbom"), "{text}");
    assert!(text.contains("declared exposure none in AppPosture shop/web spec.exposure is ignored"), "{text}");

    let (code, out, err) = stance(
        "self-declared-exposure",
        &["scan", "cluster", "app-as-edited", "deploy", "--format", "json", "--now", NOW],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let app = v["apps"].as_array().and_then(|a| a.iter().find(|a| a["name"] == "web")).expect("web");
    assert_eq!(app["exposure"], "internet");
    assert!(app["exposureReasons"].to_string().contains("Ingress shop/web"), "{app}");
    let overridden = app["contextOverridden"].to_string();
    assert!(overridden.contains("declared exposure none"), "{overridden}");
    // No namespace label: the team cannot declare itself below the default floor.
    assert_eq!(app["criticality"], "medium");
    assert!(overridden.contains("declared criticality low"), "{overridden}");
}
