//! The answer itself: envelope errors, size caps, the lines a denial shows and the exceptions it names.

use super::*;

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
