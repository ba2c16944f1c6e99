//! Issue 8 §2: one table of admission scenarios, each run through the three entry points —
//! the webhook handler in-process (an AdmissionReview), `stance check` (the binary, the object
//! as a manifest and its running revision in the state) and `stance scan --format json` (the
//! object as it runs) — asserting the same decision (allow / warn / deny / skip) and the same
//! violations (policy, rule, rule type, enforcement, container, image, items, and what makes
//! the effect: `exceptedBy`, `preexisting`).
//!
//! The images that need findings are judged on real reports read in place from
//! `../shared/fixtures` (Trivy goldens, a Trivy Operator VulnerabilityReport, the CISA KEV
//! catalog). The expected decision of each row is the one the scenario is built for (stated
//! by hand, not computed by Stance), so the table fails when the three entry points agree on a
//! wrong answer too.

mod webhook_support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use webhook_support::common::fixture_path;
use webhook_support::*;

const RS_UID: &str = "6f1c2d3e-0000-4000-8000-00000000a5a5";
const DEPLOY_UID: &str = "6f1c2d3e-0000-4000-8000-00000000d001";
const REPLICASET_CONTROLLER: &str = "system:serviceaccount:kube-system:replicaset-controller";
const USER: &str = "dev@example.com";
/// Unscanned, tagged `latest`: only the `no-latest` warning and the pod rules can fire on it.
const MINER: &str = "docker.io/attacker/miner:latest";

/// Policies, the known Deployment and ReplicaSet (with their uids), and two exceptions for the
/// fixable CRITICAL curl finding of `nginx:alpine` (CVE-2023-23914, Trivy Operator report):
/// one expired, one active.
fn state_yaml() -> String {
    let mut s = [
        policy(
            "no-fixable-critical",
            "Enforce",
            "  onUnscanned: allow\n  match: {excludeNamespaces: [legacy]}\n",
            "  - vulnerabilities: {maxSeverity: HIGH, fixAvailableOnly: true}\n",
        ),
        policy(
            "legacy-ratchet",
            "Enforce",
            "  onUnscanned: allow\n  newRiskOnly: true\n  match: {namespaces: [legacy]}\n",
            "  - vulnerabilities: {maxSeverity: HIGH, fixAvailableOnly: true}\n",
        ),
        policy(
            "pod-baseline",
            "Enforce",
            "",
            "  - workloadSecurity: {disallowPrivileged: true, disallowHostNamespaces: true, requireRunAsNonRoot: false, \
             disallowPrivilegeEscalation: false, requireResourceLimits: false}\n",
        ),
        policy("no-latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
        exception(
            "stance-system",
            "pay-expired",
            "[CVE-2023-23914]",
            "2026-11-20T00:00:00Z",
            "  policy: no-fixable-critical\n  match: {namespaces: [shop], workloads: [pay-expired]}\n",
        ),
        exception(
            "stance-system",
            "pay-active",
            "[CVE-2023-23914]",
            "2026-12-20T00:00:00Z",
            "  policy: no-fixable-critical\n  match: {namespaces: [shop], workloads: [pay-active]}\n",
        ),
    ]
    .concat();
    for o in [deployment_with_uid(), replicaset()] {
        s.push_str("---\n");
        s.push_str(&serde_json::to_string(&o).unwrap());
        s.push('\n');
    }
    s
}

fn template(image: &str) -> Value {
    json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "5d4f8b7c9"}},
           "spec": {"containers": [{"name": "web", "image": image}]}})
}

fn deployment_with_uid() -> Value {
    // Its template is the ReplicaSet's, so the Pods the ReplicaSet makes run what it runs.
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "shop", "uid": DEPLOY_UID, "labels": {"app": "web"}},
           "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(NGINX_ALPINE)}})
}

fn replicaset() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
           "metadata": {"name": "web-5d4f8b7c9", "namespace": "shop", "uid": RS_UID,
                        "labels": {"app": "web", "pod-template-hash": "5d4f8b7c9"},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                             "uid": DEPLOY_UID, "controller": true}]},
           "spec": {"selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f8b7c9"}},
                    "template": template(NGINX_ALPINE)}})
}

/// A Pod running `image`; `privileged` adds hostPID and a privileged container.
fn pod(ns: &str, name: &str, image: &str, privileged: bool) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                       "spec": {"containers": [{"name": "main", "image": image}]}});
    if privileged {
        p["spec"]["hostPID"] = json!(true);
        p["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    }
    p
}

/// A Pod as the ReplicaSet's template makes it, naming the ReplicaSet (real uid) as owner.
fn owned_pod(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "shop",
                        "labels": {"app": "web", "pod-template-hash": "5d4f8b7c9"},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f8b7c9",
                                             "uid": RS_UID, "controller": true, "blockOwnerDeletion": true}]},
           "spec": spec})
}

/// `deployment()` with a second container (a change guardrails read) when `sidecar`.
fn deployment_in(ns: &str, name: &str, image: &str, sidecar: bool) -> Value {
    let mut d = deployment(ns, name, image);
    if sidecar {
        let c = json!({"name": "sidecar", "image": ALPINE, "securityContext": {"allowPrivilegeEscalation": false},
                       "resources": {"limits": {"cpu": "10m", "memory": "16Mi"}}});
        d["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap().push(c);
    }
    d
}

/// One row: a request, and the decision it is built to get.
struct Scenario {
    name: &'static str,
    requester: &'static str,
    object: Value,
    /// The running revision: `oldObject` of an UPDATE (webhook), in the state (`check`).
    old: Option<Value>,
    expected: &'static str,
    /// How `stance scan` sees it (see [`Scan`]).
    scan: Scan,
    /// `stance check` has no authenticated requester: a manifest is what a user (or a CD
    /// tool) applies, never the replicaset-controller. For a controller's request, `check`
    /// is compared with the webhook's verdict on the same request made by a user.
    check_as_user: bool,
}

/// What `stance scan` (the object as it runs) can say about a scenario.
enum Scan {
    /// The running object is judged on its own: the same violations as admission.
    Same,
    /// The running object is not judged on its own (exempt namespace; a Pod its controller
    /// stands for): it has no violation of its own.
    NoneOfItsOwn,
    /// An UPDATE is no running object: `scan` sees only the revision that runs, never the
    /// change, so "judged on what it changes", "unchanged" and `newRiskOnly` have nothing to
    /// say there.
    NotExpressible,
}

fn scenarios() -> Vec<Scenario> {
    let owned_spec = template(NGINX_ALPINE)["spec"].clone();
    let mut forged_spec = pod("shop", "x", MINER, true)["spec"].clone();
    forged_spec["containers"][0]["name"] = json!("web");
    vec![
        Scenario {
            name: "Pod created by the replicaset-controller for the known ReplicaSet",
            requester: REPLICASET_CONTROLLER,
            object: owned_pod("web-5d4f8b7c9-abcde", owned_spec.clone()),
            old: None,
            expected: "skip",
            scan: Scan::NoneOfItsOwn,
            check_as_user: true,
        },
        Scenario {
            name: "bare Pod created by a user",
            requester: USER,
            object: pod("shop", "bare", MINER, true),
            old: None,
            expected: "deny",
            scan: Scan::Same,
            check_as_user: false,
        },
        Scenario {
            name: "Pod with a forged owner (real ReplicaSet uid) created by a user",
            requester: USER,
            object: owned_pod("web-5d4f8b7c9-zzzzz", forged_spec),
            old: None,
            expected: "deny",
            scan: Scan::Same,
            check_as_user: false,
        },
        Scenario {
            name: "Pod with the ReplicaSet's owner and template created by a user",
            requester: USER,
            object: owned_pod("web-5d4f8b7c9-yyyyy", owned_spec),
            old: None,
            expected: "deny",
            // Running, it is what its controller runs: reported once, as the Deployment.
            scan: Scan::NoneOfItsOwn,
            check_as_user: false,
        },
        Scenario {
            name: "UPDATE that changes nothing guardrails read",
            requester: USER,
            object: deployment_in("shop", "cart", NGINX_ALPINE, false),
            old: Some(deployment_in("shop", "cart", NGINX_ALPINE, false)),
            expected: "skip",
            scan: Scan::NotExpressible,
            check_as_user: false,
        },
        Scenario {
            name: "UPDATE to a vulnerable image",
            requester: USER,
            object: deployment_in("shop", "cart", NGINX_ALPINE, false),
            old: Some(deployment_in("shop", "cart", ALPINE, false)),
            expected: "deny",
            scan: Scan::NotExpressible,
            check_as_user: false,
        },
        Scenario {
            name: "privileged, vulnerable Pod in an exempt namespace",
            requester: USER,
            object: pod("kube-system", "debug", NGINX_ALPINE, true),
            old: None,
            expected: "skip",
            scan: Scan::NoneOfItsOwn,
            check_as_user: false,
        },
        Scenario {
            name: "vulnerable Pod under an expired RiskException",
            requester: USER,
            object: pod("shop", "pay-expired", NGINX_ALPINE, false),
            old: None,
            expected: "deny",
            scan: Scan::Same,
            check_as_user: false,
        },
        Scenario {
            name: "vulnerable Pod under an active RiskException",
            requester: USER,
            object: pod("shop", "pay-active", NGINX_ALPINE, false),
            old: None,
            expected: "allow",
            scan: Scan::Same,
            check_as_user: false,
        },
        Scenario {
            name: "newRiskOnly: same-image UPDATE (a sidecar added) keeps the known CRITICAL",
            requester: USER,
            object: deployment_in("legacy", "api", NGINX_ALPINE, true),
            old: Some(deployment_in("legacy", "api", NGINX_ALPINE, false)),
            expected: "warn",
            scan: Scan::NotExpressible,
            check_as_user: false,
        },
        Scenario {
            name: "newRiskOnly: UPDATE to a new image brings new CRITICALs",
            requester: USER,
            object: deployment_in("legacy", "api", SPRING, false),
            old: Some(deployment_in("legacy", "api", NGINX_ALPINE, false)),
            expected: "deny",
            scan: Scan::NotExpressible,
            check_as_user: false,
        },
        Scenario {
            name: "newRiskOnly: CREATE of the vulnerable image",
            requester: USER,
            object: deployment_in("legacy", "fresh", NGINX_ALPINE, false),
            old: None,
            expected: "deny",
            scan: Scan::Same,
            check_as_user: false,
        },
    ]
}

/// The fields of a violation that say what it is and what it does, sorted for comparison
/// (`message` is left out: admission writes only the lines its answer shows).
fn key(violations: &Value, workload: &str) -> Vec<String> {
    let mut out: Vec<String> = violations
        .as_array()
        .unwrap_or_else(|| panic!("violations: {violations}"))
        .iter()
        .filter(|v| v["workload"] == workload)
        .map(|v| {
            json!([
                v["policy"],
                v["rule"],
                v["ruleType"],
                v["enforcement"],
                v["container"],
                v["image"],
                v["items"],
                v.get("exceptedBy").cloned().unwrap_or(json!([])),
                v.get("preexisting").cloned().unwrap_or(json!(false)),
            ])
            .to_string()
        })
        .collect();
    out.sort();
    out
}

fn workload_ref(o: &Value) -> String {
    format!(
        "{}/{}/{}",
        o["kind"].as_str().unwrap(),
        o["metadata"]["namespace"].as_str().unwrap(),
        o["metadata"]["name"].as_str().unwrap()
    )
}

/// The webhook's verdict: (decision, violations).
fn webhook(index: &stance_core::index::PostureIndex, s: &Scenario, requester: &str) -> (String, Vec<String>) {
    let operation = if s.old.is_some() { "UPDATE" } else { "CREATE" };
    let mut review = review_of(operation, s.object.clone(), s.old.clone());
    review["request"]["userInfo"]["username"] = json!(requester);
    let h = run(index, &review);
    assert_eq!(h.status, 200, "{}", s.name);
    let a = answer(&h);
    let decision = match h.outcome.skipped {
        Some(_) => "skip".to_string(),
        None => h.outcome.decision.as_str().to_string(),
    };
    assert_eq!(a.allowed, decision != "deny", "{}: the answer says what the outcome says", s.name);
    (decision, key(&serde_json::to_value(&h.outcome.violations).unwrap(), &workload_ref(&s.object)))
}

fn stance(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stance")).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// `--state` arguments: the scenario's state folder plus the real reports in place.
fn state_args(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut a = vec!["--state".into(), dir.into()];
    for r in REPORTS {
        a.push("--state".into());
        a.push(fixture_path(r).into());
    }
    a
}

/// `stance check`'s verdict: the object as a manifest, its running revision in the state.
fn check(s: &Scenario, tmp: &Path) -> (String, Vec<String>) {
    let (state, manifests) = (tmp.join("check-state"), tmp.join("check-manifests"));
    std::fs::create_dir_all(&state).unwrap();
    std::fs::create_dir_all(&manifests).unwrap();
    let mut yaml = state_yaml();
    if let Some(old) = &s.old {
        yaml.push_str(&format!("---\n{old}\n"));
    }
    std::fs::write(state.join("state.yaml"), yaml).unwrap();
    std::fs::write(manifests.join("object.json"), s.object.to_string()).unwrap();
    let mut args: Vec<std::ffi::OsString> = ["check", "--format", "json", "--now", NOW, "-f"].map(Into::into).to_vec();
    args.push(manifests.into());
    args.extend(state_args(&state));
    let (code, out, err) = stance(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: check output ({e}): {out}{err}", s.name));
    let [c] = v.as_array().unwrap().as_slice() else { panic!("{}: one workload checked: {out}", s.name) };
    assert_eq!(c["workload"], workload_ref(&s.object), "{}", s.name);
    let decision =
        if c.get("notJudged").is_some() { "skip".into() } else { c["decision"].as_str().unwrap().to_string() };
    assert_eq!(code, Some(if decision == "deny" { 1 } else { 0 }), "{}: exit code\n{out}{err}", s.name);
    (decision, key(&c["violations"], &workload_ref(&s.object)))
}

/// Every violation `stance scan` lists for the running state plus `s.object` as it runs (from
/// the applications and the unowned list).
fn scan(s: &Scenario, tmp: &Path) -> Value {
    let dir = tmp.join("scan");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("state.yaml"), format!("{}---\n{}\n", state_yaml(), s.object)).unwrap();
    let mut args: Vec<std::ffi::OsString> = ["scan", "--format", "json", "--now", NOW].map(Into::into).to_vec();
    args.push(dir.into());
    args.extend(REPORTS.iter().map(|r| fixture_path(r).into()));
    let (code, out, err) = stance(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    assert_eq!(code, Some(0), "{}: {err}", s.name);
    let v: Value = serde_json::from_str(&out).unwrap();
    let mut all: Vec<Value> = v["unownedViolations"].as_array().unwrap().clone();
    for app in v["apps"].as_array().unwrap() {
        all.extend(app["violations"].as_array().unwrap().iter().cloned());
    }
    Value::Array(all)
}

#[test]
fn every_scenario_gets_one_verdict_from_webhook_check_and_scan() {
    let index = mk_index(&state_yaml(), &REPORTS);
    for s in scenarios() {
        let tmp = tempfile::tempdir().unwrap();
        let (decision, violations) = webhook(&index, &s, s.requester);
        assert_eq!(decision, s.expected, "{}: webhook {violations:#?}", s.name);
        // A skipped request has no violations; every judged row here has some (the allowed one
        // an excepted violation, the warned one a pre-existing one).
        assert_eq!(violations.is_empty(), s.expected == "skip", "{}: {violations:#?}", s.name);

        let from_check = check(&s, tmp.path());
        let expected_check = if s.check_as_user { webhook(&index, &s, USER) } else { (decision, violations.clone()) };
        if s.check_as_user {
            assert_ne!(expected_check.0, "skip", "{}: a user's request is judged", s.name);
        }
        assert_eq!(from_check, expected_check, "{}: stance check", s.name);

        // A running object has no decision of its own: its violations are its verdict.
        let expected_scan = match s.scan {
            Scan::Same => violations,
            Scan::NoneOfItsOwn => Vec::new(),
            Scan::NotExpressible => continue,
        };
        assert_eq!(key(&scan(&s, tmp.path()), &workload_ref(&s.object)), expected_scan, "{}: stance scan", s.name);
    }
}

/// The controller a Pod stands for is still reported once: `scan` lists the Deployment's
/// violations (the vulnerable template), not its Pod's.
#[test]
fn scan_reports_the_controller_of_an_owned_pod() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenarios().into_iter().next().unwrap();
    let deployment = key(&scan(&s, tmp.path()), "Deployment/shop/web");
    assert!(deployment.iter().any(|k| k.contains("no-fixable-critical")), "{deployment:#?}");
}
