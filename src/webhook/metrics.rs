//! The webhook's Prometheus metrics. Label values are bounded: decisions, workload kinds,
//! operations, policy names (bounded by the number of GuardrailPolicies), enforcement
//! modes and fixed reasons — never finding ids, images or workload names.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use stance_core::policy::Effect;

use super::handler::{Decision, Outcome};
use crate::api::Enforcement;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub decision: &'static str,
    pub kind: &'static str,
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ViolationLabels {
    pub policy: Arc<str>,
    pub enforcement: EnforcementLabel,
    /// What the violation did: `deny`, `warn` or `audit` (Audit, excepted).
    pub effect: &'static str,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum EnforcementLabel {
    Enforce,
    Warn,
    Audit,
}

impl From<Enforcement> for EnforcementLabel {
    fn from(e: Enforcement) -> Self {
        match e {
            Enforcement::Enforce => EnforcementLabel::Enforce,
            Enforcement::Warn => EnforcementLabel::Warn,
            Enforcement::Audit => EnforcementLabel::Audit,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PathLabels {
    pub path: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub endpoint: &'static str,
}

/// Server-side latency buckets (seconds): fine below a millisecond, where answers should be.
pub const LATENCY_BUCKETS: [f64; 20] = [
    0.000_025, 0.000_05, 0.000_075, 0.000_1, 0.000_15, 0.000_2, 0.000_3, 0.000_4, 0.000_5, 0.000_75, 0.001, 0.002_5,
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Every metric family of the webhook.
#[derive(Debug)]
pub struct WebhookMetrics {
    pub requests: Family<RequestLabels, Counter>,
    pub violations: Family<ViolationLabels, Counter>,
    pub latency: Family<EndpointLabels, Histogram, fn() -> Histogram>,
    /// The evaluation alone (inline, or on its blocking thread; index lock included): the
    /// latency minus waiting for a slot and a thread.
    pub evaluation: Histogram,
    /// Evaluations finished, by where they ran: `inline` (on the thread that read the
    /// review) or `pool` (the blocking pool).
    pub evaluations: Family<PathLabels, Counter>,
    /// Inline evaluations stopped at the end of their slice and re-run on the blocking pool.
    pub inline_stopped: Counter,
    pub bad_requests: Family<ReasonLabels, Counter>,
    pub evaluation_errors: Family<ReasonLabels, Counter>,
    pub fail_open: Counter,
    pub in_flight: Gauge<i64, AtomicI64>,
    pub tls_reloads: Counter,
    pub tls_reload_failures: Counter,
    pub audit_dropped: Counter,
    /// Admission reviews refused unread because the caller presented no client certificate
    /// signed by `--client-ca`.
    pub unauthenticated: Counter,
}

impl WebhookMetrics {
    /// Registers the families (prefix `stance_webhook_`) and returns the handle the server
    /// records into.
    pub fn register(registry: &mut Registry) -> Arc<WebhookMetrics> {
        let m = WebhookMetrics {
            requests: Family::default(),
            violations: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            evaluation: latency_histogram(),
            evaluations: Family::default(),
            inline_stopped: Counter::default(),
            bad_requests: Family::default(),
            evaluation_errors: Family::default(),
            fail_open: Counter::default(),
            in_flight: Gauge::default(),
            tls_reloads: Counter::default(),
            tls_reload_failures: Counter::default(),
            audit_dropped: Counter::default(),
            unauthenticated: Counter::default(),
        };
        let r = registry.sub_registry_with_prefix("stance_webhook");
        r.register(
            "admission_requests",
            "AdmissionReviews answered on /validate, by decision (allow, warn, deny, invalid), object kind and operation",
            m.requests.clone(),
        );
        r.register(
            "violations",
            "Guardrail violations found at admission (dry runs excluded), by policy, enforcement and effect",
            m.violations.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Server-side time from the request body received to the answer ready, by endpoint",
            m.latency.clone(),
        );
        r.register(
            "evaluation_duration_seconds",
            "Time spent evaluating a review, inline or on its blocking thread (excludes waiting for a slot)",
            m.evaluation.clone(),
        );
        r.register(
            "bad_requests",
            "Requests that were not a usable AdmissionReview, by reason",
            m.bad_requests.clone(),
        );
        r.register(
            "evaluations",
            "Admission reviews evaluated, by where: inline (on the thread that read the review) or pool (the blocking pool)",
            m.evaluations.clone(),
        );
        r.register(
            "inline_stopped",
            "Inline evaluations stopped at the end of their slice and re-run on the blocking pool",
            m.inline_stopped.clone(),
        );
        r.register(
            "evaluation_errors",
            "Evaluations that did not finish (timeout, panic, internal), by reason",
            m.evaluation_errors.clone(),
        );
        r.register(
            "fail_open",
            "Requests allowed unevaluated because of an error under --fail-open",
            m.fail_open.clone(),
        );
        r.register("in_flight", "Evaluations running or waiting for a slot", m.in_flight.clone());
        r.register("tls_reloads", "Serving certificates loaded after a change of the files", m.tls_reloads.clone());
        r.register(
            "tls_reload_failures",
            "Changed certificate files that could not be loaded (the previous certificate stays in use)",
            m.tls_reload_failures.clone(),
        );
        r.register(
            "audit_records_dropped",
            "Audit records dropped because the operator's channel was full or closed",
            m.audit_dropped.clone(),
        );
        r.register(
            "unauthenticated_requests",
            "Admission reviews refused unread: the caller presented no client certificate signed by --client-ca",
            m.unauthenticated.clone(),
        );
        Arc::new(m)
    }

    /// Records an answered /validate request.
    pub fn record(&self, o: &Outcome) {
        self.requests
            .get_or_create(&RequestLabels { decision: o.decision.as_str(), kind: o.kind, operation: o.operation })
            .inc();
        if let Decision::Invalid(reason) = o.decision {
            self.bad_request(reason.as_str());
        }
        if o.dry_run {
            return;
        }
        for v in &o.violations {
            // The metric's label values predate `Effect::Excepted`: excepted counts as audit.
            let effect = match v.effect() {
                Effect::Deny => "deny",
                Effect::Warn => "warn",
                Effect::Audit | Effect::Excepted => "audit",
            };
            self.violations
                .get_or_create(&ViolationLabels { policy: v.policy.clone(), enforcement: v.enforcement.into(), effect })
                .inc();
        }
    }

    pub fn bad_request(&self, reason: &'static str) {
        self.bad_requests.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// Counts a finished evaluation by where it ran (`inline` or `pool`).
    pub fn evaluated(&self, path: &'static str) {
        self.evaluations.get_or_create(&PathLabels { path }).inc();
    }

    pub fn evaluation_error(&self, reason: &'static str) {
        self.evaluation_errors.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn observe_latency(&self, endpoint: &'static str, seconds: f64) {
        self.latency.get_or_create(&EndpointLabels { endpoint }).observe(seconds);
    }
}
