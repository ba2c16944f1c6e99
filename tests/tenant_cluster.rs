//! Tenants cannot talk past the gate (issue 17 §6), through a real API server: the demo
//! loaded into the local kube-apiserver with `stance run` watching it (the steps of
//! `hack/demo-cluster.sh`), the chart's roles for people aggregated into the built-in roles,
//! and two users bound to the built-in `edit` role in one namespace each (`alice` in `shop`,
//! `bob` in `payments`), impersonated with `kubectl --as`. Every attack of the issue is tried
//! through kubectl as those users. Afterwards every AppPosture's status is what an offline
//! `stance scan` of the demo gives with only what the design lets a tenant change
//! (docs/security.md): a finding the shop team adds about an image shop runs, seen in shop
//! only, and its application's declared criticality, down to its namespace's floor and no
//! further — and the guardrails still refuse what they refused.
//!
//! Runs with `hack/test.sh`, or against the local cluster:
//! `STANCE_TEST_KUBECONFIG=$(hack/local-cluster.sh kubeconfig) STANCE_TEST_KUBECTL=$(hack/local-cluster.sh kubectl-path)
//!  cargo test --test tenant_cluster -- --include-ignored`
//! (needs Python 3 with PyYAML and the Helm library: `pip install pyyaml helm-python-sdk`).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::demo::{Demo, apps_of, live_statuses, repo, scan, statuses_agree, text};
use serde_json::{Value, json};

/// Spring4Shell (CVE-2022-22965, KEV-listed): what payments-api runs and the guardrails refuse.
const SPRING: &str = "ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11";
/// The image storefront (shop) and reporting (analytics) both run.
const NGINX: &str = "nginx:alpine";

/// kubectl as the cluster administrator (`user` None) or impersonating `user`, with
/// `manifest` on stdin (`-f -`) when given.
fn kubectl(demo: &Demo, user: Option<&str>, args: &[&str], manifest: Option<&Value>) -> Output {
    let mut c = demo.kubectl_command();
    if let Some(u) = user {
        c.arg(format!("--as={u}"));
    }
    c.args(args);
    let Some(m) = manifest else { return c.output().unwrap() };
    let mut child =
        c.args(["-f", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(m.to_string().as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Copies the files under `from` to `to`.
fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", text(&out));
    out
}

/// A Trivy JSON report of `image` claiming Log4Shell (CVE-2021-44228, CRITICAL, KEV-listed).
fn log4shell_report(image: &str) -> String {
    json!({
        "SchemaVersion": 2,
        "CreatedAt": "2026-11-27T11:00:00Z",
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Metadata": {"RepoTags": [image]},
        "Results": [{
            "Target": format!("{image} (made up)"),
            "Class": "lang-pkgs",
            "Type": "jar",
            "Vulnerabilities": [{
                "VulnerabilityID": "CVE-2021-44228",
                "PkgName": "org.apache.logging.log4j:log4j-core",
                "InstalledVersion": "2.14.1",
                "FixedVersion": "2.15.0",
                "Severity": "CRITICAL",
                "Title": "written by a tenant",
            }],
        }],
    })
    .to_string()
}

/// A ConfigMap labelled as a report, as anyone with `edit` may write one in its namespace.
fn report_config_map(ns: &str, name: &str, content: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"aspm.stance.dev/report": "trivy"}},
        "data": {"report.json": content},
    })
}

fn deployment(ns: &str, name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name, "team": ns}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": name, "team": ns}},
                "spec": {
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 1000},
                    "containers": [{
                        "name": "app",
                        "image": image,
                        "securityContext": {"allowPrivilegeEscalation": false},
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    }],
                },
            },
        },
    })
}

/// The API server refused the request because Stance's webhook denied it, naming `needles`.
fn assert_denied(out: &Output, needles: &[&str]) -> String {
    let msg = text(out);
    assert!(!out.status.success(), "admitted:\n{msg}");
    assert!(msg.contains("denied the request"), "not refused by the webhook:\n{msg}");
    for n in needles {
        assert!(msg.contains(n), "{n:?} not in:\n{msg}");
    }
    msg
}

/// `kubectl auth can-i` as `user` answers `expected`.
fn can_i(demo: &Demo, user: &str, verb: &str, resource: &str, ns: Option<&str>) -> bool {
    let mut args = vec!["auth", "can-i", verb, resource];
    if let Some(ns) = ns {
        args.extend(["-n", ns]);
    }
    let out = kubectl(demo, Some(user), &args, None);
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

/// RiskExceptions' `namespace/name` → `status.state`.
fn exception_states(demo: &Demo) -> std::collections::BTreeMap<String, String> {
    let out = ok(kubectl(demo, None, &["get", "riskexceptions", "-A", "-o", "json"], None));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let key =
                format!("{}/{}", e["metadata"]["namespace"].as_str().unwrap(), e["metadata"]["name"].as_str().unwrap());
            (key, e["status"]["state"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
fn tenants_with_edit_change_no_other_verdict_status_or_exception() {
    let demo = Demo::new();
    let out = demo.script("load");
    assert!(out.status.success(), "hack/demo-cluster.sh load:\n{}", text(&out));

    // The roles: the chart's roles for people (aggregated into view / edit / admin, as the
    // chart installs them), and each tenant bound to the built-in `edit` in its namespace.
    let aggregated = demo.chart_objects(|o| {
        o["kind"] == "ClusterRole"
            && o["metadata"]["labels"]
                .as_object()
                .is_some_and(|l| l.keys().any(|k| k.starts_with("rbac.authorization.k8s.io/aggregate-to-")))
    });
    assert!(aggregated.len() >= 2, "the chart aggregates roles into view and edit: {aggregated:?}");
    for role in &aggregated {
        ok(kubectl(&demo, None, &["apply"], Some(role)));
    }
    for (user, ns) in [("alice", "shop"), ("bob", "payments")] {
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": format!("{user}-edit"), "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        });
        ok(kubectl(&demo, None, &["apply"], Some(&binding)));
    }
    // The clusterrole-aggregation controller fills `edit` with the chart's rules in a moment.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(can_i(&demo, "alice", "create", "riskexceptions.aspm.stance.dev", Some("shop"))
        && can_i(&demo, "alice", "get", "riskexceptions.aspm.stance.dev", Some("shop")))
    {
        assert!(Instant::now() < deadline, "edit never aggregated the chart's role");
        std::thread::sleep(Duration::from_millis(300));
    }

    // What a tenant may write in its namespace, and what it may not write at all: Stance's
    // namespace, policies, namespace labels (the criticality / exposure floors), other
    // teams' namespaces, and the scanners' own reports.
    for (verb, resource) in [("create", "configmaps"), ("update", "apppostures.aspm.stance.dev"), ("create", "pods")] {
        assert!(can_i(&demo, "alice", verb, resource, Some("shop")), "alice may {verb} {resource} in shop");
    }
    for (verb, resource, ns) in [
        ("create", "riskexceptions.aspm.stance.dev", Some("stance-system")),
        ("create", "configmaps", Some("stance-system")),
        ("create", "guardrailpolicies.aspm.stance.dev", None),
        ("patch", "namespaces", None),
        ("update", "apppostures.aspm.stance.dev", Some("payments")),
        ("create", "vulnerabilityreports.aquasecurity.github.io", Some("shop")),
        ("create", "policyreports.wgpolicyk8s.io", Some("shop")),
    ] {
        assert!(!can_i(&demo, "alice", verb, resource, ns), "alice may {verb} {resource} in {ns:?}");
    }

    let out = demo.script("serve");
    assert!(out.status.success(), "hack/demo-cluster.sh serve:\n{}", text(&out));
    // The operator writes the exceptions' statuses after it starts; compare against them
    // once written (an empty state read too early raced the first write in CI).
    let deadline = Instant::now() + Duration::from_secs(60);
    let exceptions_before = loop {
        let states = exception_states(&demo);
        if (!states.is_empty() && states.values().all(|s| !s.is_empty())) || Instant::now() > deadline {
            break states;
        }
        std::thread::sleep(Duration::from_millis(500));
    };

    // 1. A RiskException the shop team writes in its own namespace for its own and the
    //    payments team's known-exploited CVE.
    let exception = json!({
        "apiVersion": "aspm.stance.dev/v1alpha1",
        "kind": "RiskException",
        "metadata": {"name": "self-approved", "namespace": "shop"},
        "spec": {
            "policy": "no-known-exploited",
            "findings": ["CVE-2022-22965"],
            "match": {"namespaces": ["shop", "payments"]},
            "justification": "we accept it",
            "approvedBy": "alice",
            "expires": "2027-01-15T00:00:00Z",
        },
    });
    ok(kubectl(&demo, Some("alice"), &["apply"], Some(&exception)));

    // 2. A report ConfigMap in shop that carries a RiskException "in stance-system" for every
    //    namespace (the handed case, written where alice may write).
    let carried = common::cases::path("report-configmap-carries-exception/configmap/report-configmap.yaml");
    let mut carried: Value = serde_yaml::from_str(&std::fs::read_to_string(carried).unwrap()).unwrap();
    carried["metadata"]["namespace"] = json!("shop");
    ok(kubectl(&demo, Some("alice"), &["apply"], Some(&carried)));

    // 3. A forged Log4Shell finding on the payments team's image (a tenant's report speaks
    //    for its own namespace only).
    ok(kubectl(
        &demo,
        Some("alice"),
        &["apply"],
        Some(&report_config_map("shop", "payments-forged", &log4shell_report(SPRING))),
    ));

    // 4. The shop team lowers its own application's context.
    ok(kubectl(
        &demo,
        Some("alice"),
        &[
            "patch",
            "apppostures",
            "-n",
            "shop",
            "storefront",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"exposure":"none","criticality":"low"}}"#,
        ],
        None,
    ));

    // 5. A Pod that names storefront's ReplicaSet as its controller (with the real uid, which
    //    the tenant can read) to skip admission, running the Spring4Shell image.
    let rs = ok(kubectl(&demo, Some("alice"), &["get", "replicasets", "-n", "shop", "-o", "json"], None));
    let rs: Value = serde_json::from_slice(&rs.stdout).unwrap();
    let owner = rs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metadata"]["name"].as_str().unwrap_or("").starts_with("storefront"))
        .map(|r| r["metadata"].clone())
        .expect("storefront's ReplicaSet");
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "forged-owner",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "storefront", "team": "web"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner["name"], "uid": owner["uid"], "controller": true,
            }],
        },
        "spec": {"containers": [{"name": "app", "image": SPRING}]},
    });
    assert_denied(&kubectl(&demo, Some("alice"), &["create"], Some(&pod)), &["CVE-2022-22965", "forged-owner"]);

    // The change the design allows: a finding the shop team adds about an image shop runs.
    let own = report_config_map("shop", "nginx-extra", &log4shell_report(NGINX));
    ok(kubectl(&demo, Some("alice"), &["apply"], Some(&own)));

    // What the statuses must be. The design (docs/security.md, "Context") lets a team change
    // its AppPosture's criticality down to its namespace's floor (`aspm.stance.dev/criticality`,
    // `medium` without the label, as for shop) and no further, and its exposure never below
    // what is detected. So: the offline scan of the demo, with storefront declared as the
    // floor allows (`criticality: medium`, exposure as detected), plus the one report the team
    // may add (the same ConfigMap as a file keeps its in-cluster meaning: evidence of shop).
    let dir = tempfile::tempdir().unwrap();
    let at_floor = dir.path().join("demo");
    copy_dir(&repo("examples/demo"), &at_floor);
    let apps = at_floor.join("stance/apps.yaml");
    let text_before = std::fs::read_to_string(&apps).unwrap();
    let floored =
        text_before.replacen("  criticality: high\n  exposure: auto", "  criticality: medium\n  exposure: auto", 1);
    assert_ne!(floored, text_before, "storefront's declaration in examples/demo/stance/apps.yaml");
    std::fs::write(&apps, floored).unwrap();
    let own_file = dir.path().join("nginx-extra.configmap.json");
    std::fs::write(&own_file, own.to_string()).unwrap();
    let expected_scan = scan(&[&at_floor, &own_file]);
    let offline = apps_of(&expected_scan);
    let storefront = offline["shop/storefront"];
    assert!(
        storefront["topFindings"].to_string().contains("CVE-2021-44228"),
        "the offline scan shows shop's own finding"
    );
    assert!(!offline["analytics/reporting"]["topFindings"].to_string().contains("CVE-2021-44228"));
    // The declaration as the team wrote it gives the same offline (low and none are ignored).
    let as_written =
        text_before.replacen("  criticality: high\n  exposure: auto", "  criticality: low\n  exposure: none", 1);
    std::fs::write(&apps, as_written).unwrap();
    assert_eq!(apps_of(&scan(&[&at_floor, &own_file]))["shop/storefront"]["riskScore"], storefront["riskScore"]);
    let (actual, expected) = statuses_agree(&demo, &offline, Duration::from_secs(90));
    assert_eq!(
        serde_json::to_string_pretty(&actual).unwrap(),
        serde_json::to_string_pretty(&expected).unwrap(),
        "after the tenants' attempts, AppPosture statuses (left) differ from `stance scan` of the demo with only what \
         the design lets shop change (right)"
    );
    // The ignored lowering is said where the team looks.
    let live = live_statuses(&demo);
    let declared = live["shop/storefront"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "DeclaredContext")
        .cloned()
        .expect("a DeclaredContext condition");
    assert_eq!(
        (declared["status"].as_str(), declared["reason"].as_str()),
        (Some("False"), Some("LoweringIgnored")),
        "{declared}"
    );

    // Verdicts: both teams' Spring4Shell deploys are still refused; nothing the shop team wrote
    // waives them, and shop's forged finding is not in the payments team's denial.
    for (user, ns) in [("alice", "shop"), ("bob", "payments")] {
        let msg = assert_denied(
            &kubectl(&demo, Some(user), &["create"], Some(&deployment(ns, "spring-again", SPRING))),
            &["CVE-2022-22965"],
        );
        assert!(!msg.contains("self-approved") && !msg.contains("totally-approved"), "{msg}");
        if ns == "payments" {
            assert!(!msg.contains("CVE-2021-44228"), "shop's forged finding reached payments: {msg}");
        }
    }

    // Exceptions: the platform's are as they were; the shop team's waives nothing; the one
    // carried in a ConfigMap never became an object.
    let deadline = Instant::now() + Duration::from_secs(30);
    let exceptions_after = loop {
        let states = exception_states(&demo);
        if states.get("shop/self-approved").is_some_and(|s| !s.is_empty()) || Instant::now() > deadline {
            break states;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    for (name, state) in &exceptions_before {
        assert_eq!(exceptions_after.get(name), Some(state), "{name} changed");
    }
    let own_state = exceptions_after.get("shop/self-approved").map(String::as_str);
    assert!(
        matches!(own_state, Some(s) if !s.is_empty() && s != "Active"),
        "shop's own exception is {own_state:?}: {exceptions_after:?}"
    );
    assert!(!exceptions_after.keys().any(|k| k.ends_with("totally-approved")), "{exceptions_after:?}");
}
