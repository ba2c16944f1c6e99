//! The kubewarden project's real AdmissionReviews and AdmissionRequests, and image signature checks of every kind.

use super::*;

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
