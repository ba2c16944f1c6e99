//! The admission handler in-process (no socket): the real kubewarden AdmissionReviews and
//! AdmissionRequests against indexes built from real scanner output (Trivy JSON goldens, a
//! Trivy Operator VulnerabilityReport, the CISA KEV catalog), plus reviews of every workload
//! kind, enforcement mode, exception state, dry run, unscanned image, the `newRiskOnly`
//! ratchet, exempt namespaces and Stance's own objects. Every answer is read back with
//! kube's admission types.

mod webhook_support;

use serde_json::{Value, json};
use stance::webhook::{Decision, HandlerOptions, handle, handle_noop};
use stance_core::model::ObjectRef;
use webhook_support::*;

/// Policies over the real reports: deny known-exploited and fixable CRITICAL
/// vulnerabilities (unscanned images allowed), warn on `latest` tags, audit hardening.
fn guardrails() -> String {
    [
        policy("no-kev", "Enforce", "  onUnscanned: allow\n", KEV_RULE),
        policy(
            "no-fixable-critical",
            "Enforce",
            "  onUnscanned: allow\n",
            "  - vulnerabilities: {maxSeverity: HIGH, fixAvailableOnly: true}\n",
        ),
        policy("no-latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
        policy("hardening", "Audit", "", "  - workloadSecurity: {requireResourceLimits: false}\n"),
    ]
    .concat()
}

/// Replaces the image of the named container of a kubewarden Pod review.
fn with_image(mut review: Value, container: &str, image: &str) -> Value {
    let containers = review.pointer_mut("/request/object/spec/containers").unwrap().as_array_mut().unwrap();
    let c = containers.iter_mut().find(|c| c["name"] == container).unwrap();
    c["image"] = json!(image);
    review
}

#[test]
fn kubewarden_load_testing_reviews_are_warned_and_audited_as_they_are() {
    let index = mk_index(&guardrails(), &REPORTS);
    for rel in LOAD_TESTING {
        let review = fixture_json(rel);
        let uid = review["request"]["uid"].as_str().unwrap().to_string();
        let h = run(&index, &review);
        assert_eq!(h.status, 200, "{rel}");
        let a = answer(&h);
        assert_eq!(a.uid, uid, "{rel}: uid echoed");
        assert!(a.allowed, "{rel}: unscanned images are allowed by onUnscanned: allow: {a:?}");
        // Every container runs an image without a tag or tagged `latest`.
        let warnings = a.warnings.clone().unwrap_or_default();
        assert_eq!(warnings.len(), 2, "{rel}: {warnings:#?}");
        assert!(warnings.iter().all(|w| w.starts_with("[no-latest/imageReference] ") && w.contains("latest")));
        assert_eq!(h.outcome.decision, Decision::Warn);
        assert_eq!((h.outcome.kind, h.outcome.operation), ("Pod", "CREATE"));
        assert_eq!(h.outcome.workload, Some(ObjectRef::new("Pod", Some("default"), "nginx")));
        assert_eq!(h.outcome.user, "kubernetes-admin");
        // The hardening (Audit) findings are recorded, not shown.
        let audit = h.outcome.audit_record(now()).expect("an audit record");
        assert!(audit.violations.iter().any(|v| v.policy.as_ref() == "hardening"), "{rel}: {audit:#?}");
        assert!(audit.violations.iter().all(|v| !v.blocks()));
        assert_eq!(
            (audit.uid.as_str(), audit.operation, audit.user.as_str()),
            (uid.as_str(), "CREATE", "kubernetes-admin")
        );
        assert!(warnings.iter().all(|w| !w.contains("hardening")));
    }
}

#[test]
fn kubewarden_reviews_with_vulnerable_images_are_denied_with_an_actionable_message() {
    let index = mk_index(&guardrails(), &REPORTS);
    // Spring4Shell (KEV-listed) in the nginx container of the real review.
    let review = with_image(fixture_json(LOAD_TESTING[0]), "nginx", SPRING);
    let h = run(&index, &review);
    let a = answer(&h);
    assert!(!a.allowed);
    assert_eq!(a.result.code, 403);
    let m = &a.result.message;
    assert!(m.starts_with("Stance guardrails deny Pod/default/nginx (2 blocking violations):\n"), "{m}");
    for needle in [
        "[no-kev/kev]",
        "CVE-2022-22965",
        "spring-beans 5.3.15",
        "fixed in 5.3.18",
        "known exploited",
        SPRING,
        "container nginx",
        "To accept the risk, ask for a RiskException in namespace stance-system with spec: {policy: no-kev, rules: [kev], \
         findings: [CVE-2022-22965], match: {namespaces: [default], workloads: [nginx]}",
        "[no-fixable-critical/vulnerabilities]",
    ] {
        assert!(m.contains(needle), "message lacks {needle:?}:\n{m}");
    }
    assert!(m.len() < 4096);
    // The other container still gets its warning; the denied request is not audited.
    assert_eq!(a.warnings.as_ref().map(Vec::len), Some(1), "{a:?}");
    assert_eq!(h.outcome.decision, Decision::Deny);
    assert!(h.outcome.audit_record(now()).is_none());

    // nginx:alpine, scanned by the Trivy Operator: a fixable CRITICAL in curl, not on KEV.
    let review = with_image(fixture_json(LOAD_TESTING[4]), "nginx", NGINX_ALPINE);
    let a = answer(&run(&index, &review));
    assert!(!a.allowed);
    let m = &a.result.message;
    for needle in [
        "1 blocking violation)",
        "[no-fixable-critical/vulnerabilities]",
        "CVE-2023-23914 CRITICAL in curl 7.87.0-r1 (fixed in 7.87.0-r2)",
        "nginx:alpine",
        "RiskException",
    ] {
        assert!(m.contains(needle), "message lacks {needle:?}:\n{m}");
    }
    assert!(!m.contains("[no-kev"), "{m}");
    // A scanned image with only MEDIUM findings passes.
    let a = answer(&run(&index, &with_image(fixture_json(LOAD_TESTING[1]), "nginx", ALPINE)));
    assert!(a.allowed);
}

#[test]
fn verify_image_signatures_requests_of_every_kind() {
    // Enforce with onUnscanned: deny: none of these images has a scan report.
    let index = mk_index(
        &policy("scanned-only", "Enforce", "  onUnscanned: deny\n", "  - vulnerabilities: {maxSeverity: HIGH}\n"),
        &REPORTS,
    );
    let cases = [
        ("cronjob_creation_unsigned.json", "CronJob", "ghcr.io/kubewarden/test-verify-image-signatures:unsigned", 1),
        ("deployment_creation_signed.json", "Deployment", "ghcr.io/kubewarden/test-verify-image-signatures:signed", 1),
        (
            "deployment_creation_unsigned.json",
            "Deployment",
            "ghcr.io/kubewarden/test-verify-image-signatures:unsigned",
            1,
        ),
        (
            "pod_creation_with_digest.json",
            "Pod",
            "nginx:v1.26@sha256:89102e348749bb17a6a651a4b2a17420e1a66d2a44a675b981973d49a5af3a5e",
            1,
        ),
        ("pod_creation_with_init_container.json", "Pod", "init", 2),
        (
            "statefulset_creation_unsigned.json",
            "StatefulSet",
            "ghcr.io/kubewarden/test-verify-image-signatures:unsigned",
            1,
        ),
    ];
    for (file, kind, image, denials) in cases {
        let request = fixture_json(&format!("kubewarden-verify-image-signatures/{file}"));
        let h = run(&index, &wrap(request));
        let a = answer(&h);
        assert!(!a.allowed, "{file}");
        assert_eq!(a.uid, "1299d386-525b-4032-98ae-1949f69f9cfc");
        assert_eq!(h.outcome.kind, kind, "{file}");
        assert_eq!(h.outcome.user, "alice");
        // The bare requests carry no namespace: the object lands in `default`.
        assert_eq!(h.outcome.workload.as_ref().unwrap().to_string(), format!("{kind}/default/nginx"));
        let m = &a.result.message;
        assert_eq!(m.matches("[scanned-only/vulnerabilities]").count(), denials, "{file}: {m}");
        assert!(m.contains("has no scan report yet"), "{file}: {m}");
        let short = image.split('@').next().unwrap().split(':').next().unwrap().rsplit('/').next().unwrap();
        assert!(m.contains(short), "{file}: {m} names {short}");
    }
    // The same requests under onUnscanned: warn are admitted with a warning per image.
    let index = mk_index(
        &policy("scanned-only", "Enforce", "  onUnscanned: warn\n", "  - vulnerabilities: {maxSeverity: HIGH}\n"),
        &REPORTS,
    );
    let request = fixture_json("kubewarden-verify-image-signatures/pod_creation_with_init_container.json");
    let a = answer(&run(&index, &wrap(request)));
    assert!(a.allowed);
    let warnings = a.warnings.unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(warnings.iter().any(|w| w.contains("(container init)")), "{warnings:#?}");
}

#[test]
fn every_workload_kind_and_container_list_is_judged() {
    let index = mk_index(&policy("no-kev", "Enforce", "", KEV_RULE), &REPORTS);
    let pod_spec = json!({
        "initContainers": [{"name": "init", "image": SPRING}],
        "containers": [{"name": "app", "image": ALPINE}],
        "ephemeralContainers": [{"name": "dbg", "image": SPRING}],
    });
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": pod_spec});
    let objects = [
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "x"}, "spec": pod_spec}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "x"}, "spec": {"selector": {}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s", "namespace": "x"}, "spec": {"serviceName": "s", "selector": {}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds", "namespace": "x"}, "spec": {"selector": {}, "template": template}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": "x"}, "spec": {"selector": {}, "template": template}}),
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "x"}, "spec": {"template": template}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj", "namespace": "x"}, "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}),
    ];
    let mut kinds = Vec::new();
    for o in objects {
        let kind = o["kind"].as_str().unwrap().to_string();
        let h = run(&index, &review_of("CREATE", o, None));
        let a = answer(&h);
        assert!(!a.allowed, "{kind}");
        assert_eq!(h.outcome.kind, kind);
        let containers: Vec<&str> = h.outcome.violations.iter().filter_map(|v| v.container.as_deref()).collect();
        assert_eq!(containers, ["init", "dbg"], "{kind}");
        assert!(a.result.message.contains("(container init)") && a.result.message.contains("(container dbg)"));
        kinds.push(kind);
    }
    assert_eq!(kinds, ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);
}

#[test]
fn enforcement_modes() {
    for (mode, allowed, warnings, audited) in
        [("Enforce", false, 0, false), ("Warn", true, 1, true), ("Audit", true, 0, true)]
    {
        let index = mk_index(&policy("p", mode, "", KEV_RULE), &REPORTS);
        let h = run(&index, &review_of("CREATE", deployment("pay", "api", SPRING), None));
        let a = answer(&h);
        assert_eq!(a.allowed, allowed, "{mode}");
        assert_eq!(a.warnings.as_ref().map_or(0, Vec::len), warnings, "{mode}");
        if warnings > 0 {
            let w = &a.warnings.as_ref().unwrap()[0];
            assert!(w.starts_with("[p/kev] image ") && w.contains("CVE-2022-22965") && w.len() <= 512, "{w}");
        }
        assert_eq!(h.outcome.audit_record(now()).is_some(), audited, "{mode}");
        assert_eq!(
            h.outcome.decision.as_str(),
            ["deny", "warn", "allow"][usize::from(allowed) + usize::from(mode == "Audit")]
        );
    }
}

#[test]
fn exceptions_active_expired_and_in_the_wrong_namespace() {
    let base = policy("no-kev", "Enforce", "", KEV_RULE);
    let cases = [
        (
            exception(
                "stance-system",
                "ok",
                "[CVE-2022-22965]",
                "2026-12-15T00:00:00Z",
                "  match: {namespaces: [pay]}\n",
            ),
            true,
            "active",
        ),
        (
            exception(
                "stance-system",
                "old",
                "[CVE-2022-22965]",
                "2026-11-01T00:00:00Z",
                "  match: {namespaces: [pay]}\n",
            ),
            false,
            "expired",
        ),
        (
            exception("pay", "self", "[CVE-2022-22965]", "2026-12-15T00:00:00Z", ""),
            false,
            "in the application's namespace",
        ),
        (
            exception(
                "stance-system",
                "other",
                "[CVE-2022-22965]",
                "2026-12-15T00:00:00Z",
                "  match: {namespaces: [shop]}\n",
            ),
            false,
            "for another namespace",
        ),
    ];
    for (exc, allowed, why) in cases {
        let index = mk_index(&format!("{base}{exc}"), &REPORTS);
        let h = run(&index, &review_of("CREATE", deployment("pay", "api", SPRING), None));
        let a = answer(&h);
        assert_eq!(a.allowed, allowed, "{why}: {a:?}");
        if allowed {
            // Excepted: no warning, but recorded for the operator with the exception's name.
            assert!(a.warnings.is_none(), "{why}");
            let record = h.outcome.audit_record(now()).unwrap();
            assert_eq!(record.violations[0].excepted_by, ["stance-system/ok"]);
        } else {
            assert!(a.result.message.contains("CVE-2022-22965"), "{why}");
        }
    }
}

#[test]
fn dry_run_gets_the_same_verdict_and_no_audit_record() {
    let index = mk_index(
        &[policy("no-kev", "Enforce", "", KEV_RULE), policy("hardening", "Audit", "", "  - workloadSecurity: {}\n")]
            .concat(),
        &REPORTS,
    );
    for image in [SPRING, ALPINE] {
        let mut review = review_of("CREATE", deployment("pay", "api", image), None);
        let wet = run(&index, &review);
        review["request"]["dryRun"] = json!(true);
        let dry = run(&index, &review);
        assert_eq!(answer(&wet).allowed, answer(&dry).allowed, "{image}");
        assert_eq!(answer(&wet).result.message, answer(&dry).result.message);
        assert!(dry.outcome.dry_run && dry.outcome.audit_record(now()).is_none(), "{image}");
    }
    // A real review whose privileged container breaks the Audit policy: recorded only when wet.
    let mut review = fixture_json(LOAD_TESTING[4]);
    let wet = run(&index, &review);
    assert!(answer(&wet).allowed);
    let record = wet.outcome.audit_record(now()).expect("audited");
    assert!(record.violations.iter().any(|v| v.policy.as_ref() == "hardening" && v.audits()), "{record:#?}");
    review["request"]["dryRun"] = json!(true);
    let dry = run(&index, &review);
    assert_eq!(answer(&dry).allowed, answer(&wet).allowed);
    assert_eq!(dry.outcome.violations, wet.outcome.violations);
    assert!(dry.outcome.audit_record(now()).is_none());
}

#[test]
fn unscanned_images_follow_on_unscanned() {
    let review = review_of("CREATE", deployment("shop", "new", "ghcr.io/acme/brand-new:1.0"), None);
    for (mode, allowed, warnings) in [("deny", false, 0), ("warn", true, 1), ("allow", true, 0)] {
        let index = mk_index(&policy("p", "Enforce", &format!("  onUnscanned: {mode}\n"), KEV_RULE), &REPORTS);
        let a = answer(&run(&index, &review));
        assert_eq!((a.allowed, a.warnings.as_ref().map_or(0, Vec::len)), (allowed, warnings), "{mode}: {a:?}");
        let text = if allowed { a.warnings.unwrap_or_default().join("") } else { a.result.message };
        assert_eq!(
            text.contains("ghcr.io/acme/brand-new:1.0 (container main) has no scan report yet"),
            mode != "allow",
            "{mode}: {text}"
        );
    }
}

#[test]
fn new_risk_only_ratchet_on_update() {
    let index = mk_index(&policy("p", "Enforce", "  newRiskOnly: true\n", KEV_RULE), &REPORTS);
    let running = deployment("pay", "api", SPRING);
    // An unrelated change (a label) to a workload that already had the problem: allowed, warned.
    let mut relabelled = running.clone();
    relabelled["metadata"]["labels"]["hotfix"] = json!("1");
    let h = run(&index, &review_of("UPDATE", relabelled.clone(), Some(running.clone())));
    let a = answer(&h);
    assert!(a.allowed, "{a:?}");
    let w = a.warnings.unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("already present in the running revision"), "{w:?}");
    assert_eq!((h.outcome.decision, h.outcome.operation), (Decision::Warn, "UPDATE"));
    // Introducing the vulnerable image in an update is denied.
    let a = answer(&run(&index, &review_of("UPDATE", running.clone(), Some(deployment("pay", "api", ALPINE)))));
    assert!(!a.allowed && a.result.message.contains("CVE-2022-22965"));
    // The same update on CREATE (no running revision) is denied too.
    assert!(!answer(&run(&index, &review_of("CREATE", relabelled.clone(), None))).allowed);
    // Without the ratchet, the label change is denied…
    let strict = mk_index(&policy("p", "Enforce", "", KEV_RULE), &REPORTS);
    assert!(!answer(&run(&strict, &review_of("UPDATE", relabelled, Some(running.clone())))).allowed);
    // …but an update guardrails cannot tell apart (an annotation, the replica count) never is.
    let mut restarted = running.clone();
    restarted["spec"]["replicas"] = json!(3);
    restarted["spec"]["template"]["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/restartedAt": NOW});
    let h = run(&strict, &review_of("UPDATE", restarted, Some(running)));
    assert!(answer(&h).allowed);
    assert_eq!(h.outcome.skipped, Some("no change guardrails judge"));
}

#[test]
fn exempt_namespaces_subresources_deletions_and_other_kinds_are_admitted_unjudged() {
    let index = mk_index(&policy("no-kev", "Enforce", "", KEV_RULE), &REPORTS);
    let risky = deployment("kube-system", "api", SPRING);
    let h = run(&index, &review_of("CREATE", risky, None));
    assert!(answer(&h).allowed);
    assert_eq!(h.outcome.skipped, Some("exempt namespace"));

    let mut status = review_of("UPDATE", deployment("pay", "api", SPRING), Some(deployment("pay", "api", ALPINE)));
    status["request"]["subResource"] = json!("status");
    let h = run(&index, &status);
    assert_eq!((answer(&h).allowed, h.outcome.skipped), (true, Some("subresource")));

    // The deletion state is the stored object's (oldObject, which the API server supplies).
    let mut deleting = deployment("pay", "api", ALPINE);
    deleting["metadata"]["deletionTimestamp"] = json!(NOW);
    let h = run(&index, &review_of("UPDATE", deployment("pay", "api", SPRING), Some(deleting.clone())));
    assert_eq!((answer(&h).allowed, h.outcome.skipped), (true, Some("being deleted")));
    // A deletionTimestamp the requester writes into a new object is not a deletion.
    let mut claimed = deployment("pay", "api", SPRING);
    claimed["metadata"]["deletionTimestamp"] = json!(NOW);
    assert!(!answer(&run(&index, &review_of("CREATE", claimed, None))).allowed);

    let mut delete = review_of("CREATE", deployment("pay", "api", SPRING), None);
    delete["request"]["operation"] = json!("DELETE");
    let h = run(&index, &delete);
    assert_eq!((answer(&h).allowed, h.outcome.operation), (true, "DELETE"));

    let service =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "pay"}, "spec": {}});
    let h = run(&index, &review_of("CREATE", service, None));
    assert_eq!((answer(&h).allowed, h.outcome.kind, h.outcome.skipped), (true, "other", Some("kind not judged")));
    // A workload kind name in a foreign API group is not a workload.
    let mut foreign = review_of("CREATE", deployment("pay", "api", SPRING), None);
    foreign["request"]["kind"]["group"] = json!("example.com");
    assert_eq!(run(&index, &foreign).outcome.kind, "other");
}

#[test]
fn pods_are_spared_only_when_their_authenticated_controller_creates_them() {
    let rs = "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: api-5d4f8, namespace: pay, uid: 0b1c}\nspec:\n  selector: {}\n  template:\n    spec:\n      containers: [{name: main, image: ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11}]\n";
    let index = mk_index(&format!("{}{rs}", policy("no-kev", "Enforce", "", KEV_RULE)), &REPORTS);
    let pod = |uid: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-5d4f8-x7k2p", "namespace": "pay",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-5d4f8", "uid": uid, "controller": true}]},
            "spec": {"containers": [{"name": "main", "image": SPRING}]}})
    };
    let by = |user: &str, uid: &str| {
        let mut r = review_of("CREATE", pod(uid), None);
        r["request"]["userInfo"]["username"] = json!(user);
        run(&index, &r)
    };
    let rs_controller = "system:serviceaccount:kube-system:replicaset-controller";
    let h = by(rs_controller, "0b1c");
    assert_eq!((answer(&h).allowed, h.outcome.skipped), (true, Some("controller already admitted")));
    let h = by("system:kube-controller-manager", "0b1c");
    assert_eq!(h.outcome.skipped, Some("controller already admitted"), "the manager's own credentials");
    // The owner reference with the real uid, written by anyone else: judged in full.
    let h = by("dev@example.com", "0b1c");
    assert_eq!((answer(&h).allowed, h.outcome.skipped), (false, None));
    // A controller that does not create Pods for ReplicaSets, or a forged uid: judged.
    assert!(!answer(&by("system:serviceaccount:kube-system:deployment-controller", "0b1c")).allowed);
    assert!(!answer(&by(rs_controller, "forged")).allowed);
    // Configured identities replace the defaults.
    let mut custom = mk_index(&format!("{}{rs}", policy("no-kev", "Enforce", "", KEV_RULE)), &REPORTS);
    custom.config.controllers = vec![stance_core::model::ControllerIdentity::parse("ci-bot=ReplicaSet").unwrap()];
    let mut r = review_of("CREATE", pod("0b1c"), None);
    r["request"]["userInfo"]["username"] = json!("ci-bot");
    assert_eq!(run(&custom, &r).outcome.skipped, Some("controller already admitted"));
    r["request"]["userInfo"]["username"] = json!(rs_controller);
    assert!(!answer(&run(&custom, &r)).allowed);
}

#[test]
fn ephemeral_containers_are_judged_on_what_they_add() {
    let index = mk_index(&policy("no-kev", "Enforce", "", KEV_RULE), &REPORTS);
    let pod = |ephemeral: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "pay"},
            "spec": {"containers": [{"name": "main", "image": SPRING}], "ephemeralContainers": ephemeral}})
    };
    // Kubernetes 1.23+: the Pod itself, subresource ephemeralcontainers.
    let mut add = review_of("UPDATE", pod(json!([{"name": "dbg", "image": SPRING}])), Some(pod(json!([]))));
    add["request"]["subResource"] = json!("ephemeralcontainers");
    let a = answer(&run(&index, &add));
    assert!(!a.allowed, "{a:?}");
    assert!(
        a.result.message.contains("container dbg") && !a.result.message.contains("container main"),
        "{}",
        a.result.message
    );
    // A clean debug image is admitted although the Pod's own container is not (it was
    // judged when the Pod was created).
    let mut clean = review_of("UPDATE", pod(json!([{"name": "dbg", "image": ALPINE}])), Some(pod(json!([]))));
    clean["request"]["subResource"] = json!("ephemeralcontainers");
    assert!(answer(&run(&index, &clean)).allowed);
    // Kubernetes 1.16–1.22: an EphemeralContainers object.
    let eph = |list: Value| {
        json!({"apiVersion": "v1", "kind": "EphemeralContainers", "metadata": {"name": "web", "namespace": "pay"},
            "ephemeralContainers": list})
    };
    let mut old_form = review_of(
        "UPDATE",
        eph(json!([{"name": "dbg", "image": SPRING, "targetContainerName": "main"}])),
        Some(eph(json!([]))),
    );
    old_form["request"]["subResource"] = json!("ephemeralcontainers");
    let h = run(&index, &old_form);
    assert!(!answer(&h).allowed);
    assert_eq!(h.outcome.kind, "EphemeralContainers");
    assert_eq!(h.outcome.workload, Some(ObjectRef::new("Pod", Some("pay"), "web")));
}

#[test]
fn stance_objects_are_admitted_only_when_the_index_accepts_them() {
    let index = mk_index("", &[]);
    let review = |kind: &str, ns: Option<&str>, object: Value| {
        wrap(json!({
            "uid": "u1", "kind": {"group": "aspm.stance.dev", "version": "v1alpha1", "kind": kind},
            "resource": {"group": "aspm.stance.dev", "version": "v1alpha1", "resource": "x"},
            "namespace": ns, "operation": "CREATE", "userInfo": {"username": "platform"}, "object": object,
        }))
    };
    let good_policy = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "GuardrailPolicy", "metadata": {"name": "p"},
        "spec": {"enforcement": "Enforce", "rules": [{"vulnerabilities": {"maxSeverity": "HIGH"}}]}});
    let h = run(&index, &review("GuardrailPolicy", None, good_policy));
    assert!(answer(&h).allowed);
    assert_eq!(h.outcome.kind, "GuardrailPolicy");
    let bad_policy = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "GuardrailPolicy", "metadata": {"name": "p"},
        "spec": {"rules": [{"components": {"banned": [{"purl": "log4j", "versions": "<2"}]}}]}});
    let a = answer(&run(&index, &review("GuardrailPolicy", None, bad_policy)));
    assert!(!a.allowed);
    assert_eq!(a.result.code, 422);
    assert!(
        a.result.message.starts_with(
            "GuardrailPolicy p is invalid, so Stance would ignore it: spec.rules[0].components.banned[0].purl"
        ),
        "{}",
        a.result.message
    );

    // RiskExceptions live in stance-system, an exempt namespace: they are validated all the same.
    let exc = |expires: &str, justification: &str| {
        json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "RiskException",
            "metadata": {"name": "waiver", "namespace": "stance-system"},
            "spec": {"findings": ["CVE-2022-22965"], "justification": justification, "expires": expires}})
    };
    // Admitted, but it matches nothing: without match.namespaces it covers exempt stance-system only.
    let a = answer(&run(&index, &review("RiskException", Some("stance-system"), exc("2026-12-15T00:00:00Z", "waf"))));
    assert!(a.allowed);
    let warnings = a.warnings.unwrap_or_default();
    assert!(warnings.len() == 1 && warnings[0].contains("stance-system/waiver matches nothing"), "{warnings:?}");
    let mut scoped = exc("2026-12-15T00:00:00Z", "waf");
    scoped["spec"]["match"] = json!({"namespaces": ["pay"]});
    let a = answer(&run(&index, &review("RiskException", Some("stance-system"), scoped)));
    assert!(a.allowed && a.warnings.unwrap_or_default().is_empty());
    let a = answer(&run(&index, &review("RiskException", Some("stance-system"), exc("2027-06-01T00:00:00Z", "waf"))));
    assert!(!a.allowed && a.result.message.contains("exceptions may last at most 90 days"), "{}", a.result.message);
    let a = answer(&run(&index, &review("RiskException", Some("stance-system"), exc("2026-12-15T00:00:00Z", " "))));
    assert!(!a.allowed && a.result.message.contains("spec.justification is empty"), "{}", a.result.message);
    let a = answer(&run(&index, &review("RiskException", Some("stance-system"), exc("2026-11-01T00:00:00Z", "waf"))));
    assert!(a.allowed);
    assert!(a.warnings.unwrap()[0].contains("it will never apply"));
}

#[test]
fn unreadable_objects_of_known_kinds_are_refused_with_a_reason() {
    let index = mk_index(&policy("no-kev", "Enforce", "", KEV_RULE), &REPORTS);
    let mut review = review_of("CREATE", deployment("pay", "api", SPRING), None);
    review["request"]["object"]["spec"]["template"]["spec"]["containers"] = json!("not a list");
    let h = run(&index, &review);
    let a = answer(&h);
    assert_eq!(h.status, 200, "the API server expects an AdmissionResponse");
    assert!(!a.allowed);
    assert_eq!(a.result.code, 400);
    assert!(a.result.message.starts_with("Stance cannot read this object as a Deployment: "), "{}", a.result.message);
    assert_eq!(h.outcome.decision.as_str(), "invalid");
    review["request"]["object"] = Value::Null;
    assert!(answer(&run(&index, &review)).result.message.contains("request.object is missing"));
}

#[test]
fn envelope_errors_are_400_with_a_clear_message() {
    let index = mk_index("", &[]);
    let good = review_of("CREATE", deployment("pay", "api", SPRING), None);
    let mut wrong_version = good.clone();
    wrong_version["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let mut wrong_kind = good.clone();
    wrong_kind["kind"] = json!("ConversionReview");
    let mut no_request = good.clone();
    no_request.as_object_mut().unwrap().remove("request");
    let mut no_uid = good.clone();
    no_uid["request"]["uid"] = json!("");
    let cases: [(Vec<u8>, &str, &str); 6] = [
        (b"{not json".to_vec(), "invalid_json", "not an AdmissionReview JSON document"),
        (b"[1,2,3]".to_vec(), "invalid_json", "not an AdmissionReview JSON document"),
        (
            serde_json::to_vec(&wrong_version).unwrap(),
            "wrong_api_version",
            "apiVersion is \"admission.k8s.io/v1beta1\"; Stance serves admission.k8s.io/v1",
        ),
        (
            serde_json::to_vec(&wrong_kind).unwrap(),
            "wrong_kind",
            "kind is \"ConversionReview\"; expected AdmissionReview",
        ),
        (serde_json::to_vec(&no_request).unwrap(), "missing_request", "no request"),
        (serde_json::to_vec(&no_uid).unwrap(), "missing_uid", "request.uid is missing"),
    ];
    for (body, reason, message) in cases {
        for h in [handle(&body, &index, now(), &HandlerOptions::default()), handle_noop(&body)] {
            assert_eq!(h.status, 400, "{reason}");
            match h.outcome.decision {
                Decision::Invalid(r) => assert_eq!(r.as_str(), reason),
                other => panic!("{reason}: {other:?}"),
            }
            let a = answer(&h);
            assert!(
                !a.allowed && a.result.code == 400 && a.result.message.contains(message),
                "{reason}: {}",
                a.result.message
            );
        }
    }
}

/// Pod `pay/big` with `pairs` containers running the vulnerable Spring image and as many
/// running an untagged, unscanned `busybox`.
fn big_pod(pairs: usize) -> Value {
    let containers: Vec<Value> = (0..pairs)
        .flat_map(|i| {
            [json!({"name": format!("c{i}"), "image": SPRING}), json!({"name": format!("l{i}"), "image": "busybox"})]
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "pay"}, "spec": {"containers": containers}})
}

#[test]
fn answers_stay_within_the_size_caps() {
    // 40 containers, each with two violations: far more than fits in 4 KiB.
    let index = mk_index(
        &[
            policy("no-kev", "Enforce", "", KEV_RULE),
            policy("latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
        ]
        .concat(),
        &REPORTS,
    );
    let pod = big_pod(40);
    let a = answer(&run(&index, &review_of("CREATE", pod, None)));
    assert!(!a.allowed);
    let m = &a.result.message;
    assert!(m.len() < 4096, "{}", m.len());
    assert!(m.starts_with("Stance guardrails deny Pod/pay/big (40 blocking violations):"), "{m}");
    assert!(m.contains("more violations not shown (run `stance check` on the manifest for all of them)"), "{m}");
    let w = a.warnings.unwrap();
    assert_eq!(w.len(), 20);
    assert!(w.iter().all(|w| w.len() <= 512));
    // 40 `latest` warnings and one for busybox having no scan report (no-kev's default
    // onUnscanned: warn, once per image): 19 shown, 22 summarised.
    assert!(w[19].starts_with("… and 22 more Stance warnings"), "{}", w[19]);
}

#[test]
fn the_answer_shows_the_verdicts_own_lines_and_audits_carry_the_first_messages() {
    // Admission writes only the messages it shows; they must read exactly as the full
    // verdict `stance check` prints.
    let index = mk_index(
        &[
            policy("no-kev", "Enforce", "", KEV_RULE),
            policy("latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
            policy("hardening", "Audit", "", "  - workloadSecurity: {}\n"),
        ]
        .concat(),
        &REPORTS,
    );
    let pod = big_pod(24);
    let w =
        stance::ingest::kubernetes::workload_from_value(stance_core::model::WorkloadKind::Pod, &pod, "pay").unwrap();
    let verdict = stance_core::policy::evaluate(&w, None, &index, now());
    let lines = |f: fn(&stance_core::policy::Violation) -> bool| -> Vec<String> {
        verdict.violations.iter().filter(|v| f(v)).map(|v| v.line()).collect()
    };
    let (denials, warnings) = (lines(|v| v.blocks()), lines(|v| v.warns()));
    assert!(denials.len() == 24 && warnings.len() > 20, "{} {}", denials.len(), warnings.len());

    let h = run(&index, &review_of("CREATE", pod.clone(), None));
    let a = answer(&h);
    let shown: Vec<&str> = a.result.message.lines().skip(1).take_while(|l| l.starts_with('[')).collect();
    assert!(!shown.is_empty() && shown.len() < denials.len(), "{}", a.result.message);
    for (s, d) in shown.iter().zip(&denials) {
        assert_eq!(*s, review_fit(d, 2000));
    }
    let got = a.warnings.unwrap();
    for (g, want) in got.iter().zip(warnings.iter().take(19)) {
        assert_eq!(*g, review_fit(want, 512));
    }
    // Every violation is counted; none of a denied request is worded for an audit.
    assert_eq!(h.outcome.violations.len(), verdict.violations.len());
    assert!(h.outcome.violations.iter().all(|v| v.message.is_empty()));

    // Admitted (the KEV policy excepted by namespace): the audit record's first messages
    // are the verdict's, the rest are left unwritten.
    let exempt = mk_index(
        &[
            policy("latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
            policy("hardening", "Audit", "", "  - workloadSecurity: {}\n"),
        ]
        .concat(),
        &REPORTS,
    );
    let verdict = stance_core::policy::evaluate(&w, None, &exempt, now());
    let h = run(&exempt, &review_of("CREATE", pod, None));
    let record = h.outcome.audit_record(now()).expect("an audit record");
    assert_eq!(record.violations.len(), verdict.violations.len());
    let worded = stance::webhook::audit::WORDED_VIOLATIONS;
    for (got, want) in record.violations.iter().zip(&verdict.violations) {
        assert_eq!((&got.policy, &got.rule, &got.items), (&want.policy, &want.rule, &want.items));
    }
    assert!(record.violations[..worded].iter().zip(&verdict.violations).all(|(g, w)| g.message == w.message));
    assert!(record.violations[worded..].iter().all(|v| v.message.is_empty()));
}

/// A line as the answer carries it (`review::fit` is the webhook's own; re-stated here so
/// the test does not pass by calling the code under test).
fn review_fit(line: &str, max: usize) -> String {
    let s: String = line.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.len() <= max {
        return s;
    }
    let mut end = max - "…".len();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Issue 16 §4: a denial names the RiskException that would waive it, field by field — and
/// that exception, written as the message says, does waive it; the excepted violation keeps
/// the CVE ids it waives; once the exception has expired, the denial says which one expired.
#[test]
fn a_denial_names_the_exception_that_waives_it_and_the_one_that_expired() {
    let policies = policy("no-kev", "Enforce", "  onUnscanned: allow\n", KEV_RULE);
    let review = review_of("CREATE", deployment("pay", "api", SPRING), None);
    let denied = answer(&run(&mk_index(&policies, &REPORTS), &review));
    assert!(!denied.allowed);
    let line = denied.result.message.lines().find(|l| l.starts_with("[no-kev/kev]")).unwrap().to_string();
    let (_, hint) = line.split_once("ask for a RiskException in namespace ").expect("a hint");
    let (namespace, spec) = hint.split_once(" with spec: ").expect("the fields");
    // The hint is a YAML flow mapping: write it into a RiskException, with a real expiry.
    let mut spec: serde_yaml::Value = serde_yaml::from_str(spec).unwrap_or_else(|e| panic!("{e}: {spec}"));
    assert_eq!(spec["findings"], serde_yaml::from_str::<serde_yaml::Value>("[CVE-2022-22965]").unwrap());
    let mut written = |expires: &str| {
        spec["expires"] = expires.into();
        let object = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "RiskException",
            "metadata": {"name": "spring-waiver", "namespace": namespace}, "spec": spec});
        format!("---\n{}", serde_yaml::to_string(&object).unwrap())
    };
    let active = [policies.clone(), written("2026-12-20T00:00:00Z")].concat();
    let h = run(&mk_index(&active, &REPORTS), &review);
    let a = answer(&h);
    assert!(a.allowed, "the exception the denial described waives it: {a:?}");
    let v = h.outcome.violations.iter().find(|v| &*v.rule == "kev").expect("the excepted violation is kept");
    assert_eq!(v.excepted_by, ["stance-system/spring-waiver"]);
    assert_eq!(v.item_strs(), ["CVE-2022-22965"], "an excepted violation keeps the ids it waives");

    let expired = [policies, written("2026-11-01T00:00:00Z")].concat();
    let a = answer(&run(&mk_index(&expired, &REPORTS), &review));
    assert!(!a.allowed);
    assert!(
        a.result.message.contains("RiskException stance-system/spring-waiver expired at 2026-11-01T00:00:00Z"),
        "{}",
        a.result.message
    );
}
