//! The same guardrail in Stance, Rego and CEL gives the same verdict (issue 14 §3): a table of
//! Pod reviews — allowed, denied by a fixable CRITICAL, denied by a known-exploited
//! vulnerability, excepted, with an expired exception, not internet-facing, not in any
//! application — judged by the three engines on the same review bytes and report data
//! (`tests/engines_support`), plus Pods of synthetic images whose verdict is not known in
//! advance, where the three must agree with each other. `benches/engines.rs` times them.

mod engines_support;

use engines_support::*;
use jiff::Timestamp;
use stance_core::synthetic::{self, Spec};

/// (case, namespace, Pod labels, images, admitted)
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], Vec<&'a str>, bool);

#[test]
fn stance_rego_and_cel_agree_on_the_guardrail() {
    let now = Timestamp::now();
    let kev = kev_ids(&fixture(KEV));
    let kev_id = kev.iter().find(|id| id.starts_with("CVE-2021-")).expect("a 2021 KEV entry").clone();
    let bulk = synthetic::reports(&Spec { images: 200, findings: 4_000, reports_per_image: 1, seed: 3 });
    let world = case_world(bulk, &kev_id, now);
    let stance = StanceEngine::new(&world);
    let mut rego = RegoEngine::new(&world);
    let cel = CelEngine::new(&world);

    let [a, b, c] = CLEAN;
    // (case, namespace, labels, images, admitted) — the expected answers follow from the
    // guardrail's wording, not from any engine.
    let cases: Vec<Case> = vec![
        ("allowed: nothing critical-fixable or known-exploited", "shop", &WEB, vec![a, b, c], true),
        ("denied: a fixable CRITICAL", "shop", &WEB, vec![a, CRITICAL, b], false),
        ("denied: a known-exploited MEDIUM", "shop", &WEB, vec![KEV_IMAGE, a, b], false),
        ("excepted: an unexpired exception covers the CRITICAL", "shop", &WEB, vec![a, EXCEPTED, b], true),
        ("expired exception: denied", "shop", &WEB, vec![a, EXPIRED, b], false),
        ("not internet-facing: allowed", "back", &BATCH, vec![CRITICAL, KEV_IMAGE, EXPIRED], true),
        (
            "in no application: allowed",
            "shop",
            &[("app.kubernetes.io/name", "other")],
            vec![CRITICAL, KEV_IMAGE, a],
            true,
        ),
        ("unscanned images: allowed", "shop", &WEB, vec!["registry.example.com/shop/unscanned:1.0"], true),
    ];
    for (case, ns, labels, images, admitted) in &cases {
        let body = review(ns, "pod", labels, images);
        assert_eq!(stance.allowed(&body, now), *admitted, "Stance: {case}");
        assert_eq!(rego.allowed(&body), *admitted, "Rego: {case}");
        assert_eq!(cel.allowed(&body, now), *admitted, "CEL: {case}");
    }

    // Synthetic images (a CRITICAL in about one finding of seven, two thirds with a fix,
    // random CVE ids some of which are on the KEV list): the three agree, image by image and
    // for a 3-container Pod, on the internet-facing app and the internal one.
    let mut denied = 0;
    for i in 0..200 {
        let images: Vec<String> =
            [i, (i + 1) % 200, (i + 7) % 200].iter().map(|j| synthetic::image(*j).to_string()).collect();
        for n in [1, 3] {
            let refs: Vec<&str> = images[..n].iter().map(String::as_str).collect();
            for (ns, labels) in [("shop", &WEB), ("back", &BATCH)] {
                let body = review(ns, "pod", labels, &refs);
                let s = stance.allowed(&body, now);
                assert_eq!(rego.allowed(&body), s, "Rego vs Stance: {ns} {refs:?}");
                assert_eq!(cel.allowed(&body, now), s, "CEL vs Stance: {ns} {refs:?}");
                denied += usize::from(!s);
                if ns == "back" {
                    assert!(s, "an internal application is never denied by this guardrail");
                }
            }
        }
    }
    assert!(
        denied > 50 && denied < 400,
        "the synthetic Pods exercise both answers ({denied} of 400 internet-facing denied)"
    );
}
