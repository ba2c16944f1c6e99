//! The admission handler in-process (no socket): the real kubewarden AdmissionReviews and
//! AdmissionRequests against indexes built from real scanner output (Trivy JSON goldens, a
//! Trivy Operator VulnerabilityReport, the CISA KEV catalog), plus reviews of every workload
//! kind, enforcement mode, exception state, dry run, unscanned image, the `newRiskOnly`
//! ratchet, exempt namespaces and Stance's own objects. Every answer is read back with
//! kube's admission types.

#[path = "../webhook_support/mod.rs"]
mod webhook_support;

mod answers;
mod judging;
mod reviews;

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
