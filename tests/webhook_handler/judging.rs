//! What is judged and how: workload kinds and container lists, enforcement, exceptions, dry runs, unscanned images, the ratchet, exempt objects, controllers, ephemeral containers and Stance's own objects.

use super::*;

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
fn the_ratchet_spares_a_privileged_container_only_while_it_keeps_its_image() {
    let rule = "  - workloadSecurity: {requireResourceLimits: false, requireRunAsNonRoot: false, disallowPrivilegeEscalation: false}\n";
    let index = mk_index(&policy("pod-security", "Enforce", "  newRiskOnly: true\n", rule), &[]);
    let privileged = |image: &str| {
        let mut d = deployment("team-a", "agent", image);
        d["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
        d
    };
    let running = privileged("nginx:1.25");
    // The pod-level violation names no container; its item `privileged:<container>` does.
    let mut relabelled = running.clone();
    relabelled["metadata"]["labels"]["hotfix"] = json!("1");
    let a = answer(&run(&index, &review_of("UPDATE", relabelled, Some(running.clone()))));
    assert!(a.allowed && a.warnings.is_some(), "{a:?}");
    // Kept privileged, switched to any image: denied like a CREATE of it.
    let swapped = privileged("evil.example.com/miner:6.6.6");
    let a = answer(&run(&index, &review_of("UPDATE", swapped, Some(running))));
    assert!(!a.allowed && a.result.message.contains("is privileged"), "{a:?}");
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
