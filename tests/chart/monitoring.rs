//! The monitoring objects against the metric names Stance really exports.

use super::*;

/// The metric names Stance really exports, from its own registries.
fn exported_metric_names() -> BTreeSet<String> {
    let mut registry = prometheus_client::registry::Registry::default();
    let operator = stance::controller::metrics::ControllerMetrics::register(&mut registry);
    let webhook = stance::webhook::WebhookMetrics::register(&mut registry);
    // A labelled family is exported once it has a child: create one of each.
    {
        use stance::controller::metrics::{EventLabels, KindLabel, ReasonLabel, ResultLabels};
        let kind = KindLabel { kind: "Pod".into() };
        let result = ResultLabels { kind: "AppPosture".into(), result: "error".into() };
        operator.watch_events.get_or_create(&EventLabels { kind: "Pod".into(), event: "apply".into() }).inc();
        operator.watch_errors.get_or_create(&kind).inc();
        operator.rejected_objects.get_or_create(&kind).inc();
        operator.reconciles.get_or_create(&result).inc();
        operator.events_published.get_or_create(&ReasonLabel { reason: "KnownExploitedFinding".into() }).inc();
        operator.ingest_uploads.get_or_create(&result).inc();
        webhook.bad_request("invalid_json");
        webhook.evaluation_error("timeout");
        webhook.observe_latency("validate", 0.001);
    }
    let text = stance::telemetry::encode(&registry);
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if let (Some("#"), Some("TYPE"), Some(name), Some(kind)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            match kind {
                "counter" => {
                    names.insert(format!("{name}_total"));
                }
                "histogram" => {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
                _ => {
                    names.insert(name.to_string());
                }
            }
        }
    }
    assert!(names.len() > 15, "metrics registered: {names:?}");
    names
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn monitoring_objects_scrape_the_service_and_alert_on_real_metrics() {
    for name in VARIANTS {
        let v = variant(name);
        if *name != "monitoring" {
            assert!(v.all("ServiceMonitor").is_empty() && v.all("PrometheusRule").is_empty(), "{name}: off by default");
        }
    }
    let v = variant("monitoring");
    let svc: Service = v.get("Service");
    let sm = &v.one("ServiceMonitor").value;
    let svc_labels = svc.metadata.labels.clone().unwrap();
    for (k, val) in sm["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(svc_labels.get(k).map(String::as_str), val.as_str(), "the ServiceMonitor selects the Service");
    }
    assert_eq!(sm["metadata"]["labels"]["release"], "kube-prometheus-stack");
    let endpoint = &sm["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], "metrics");
    assert_eq!(endpoint["path"], "/metrics");
    assert!(svc.spec.unwrap().ports.unwrap().iter().any(|p| p.name.as_deref() == Some("metrics")));
    assert_eq!(sm["spec"]["namespaceSelector"]["matchNames"], serde_json::json!([v.namespace]));

    let exported = exported_metric_names();
    let rule = &v.one("PrometheusRule").value;
    let groups = rule["spec"]["groups"].as_array().unwrap();
    let mut alerts = BTreeMap::new();
    for g in groups {
        for r in g["rules"].as_array().unwrap() {
            let alert = r["alert"].as_str().expect("alerting rules").to_string();
            let expr = r["expr"].as_str().unwrap();
            for metric in metric_names_in(expr) {
                assert!(
                    exported.contains(&metric) || metric == "up",
                    "{alert}: {metric} is not a metric Stance exports ({exported:?})"
                );
            }
            assert!(expr.contains(&format!("namespace=\"{}\"", v.namespace)), "{alert}: scoped to the release");
            let labels = r["labels"].as_object().unwrap();
            assert!(matches!(labels["severity"].as_str(), Some("critical" | "warning" | "info")), "{alert}");
            assert_eq!(labels["team"], "platform", "{alert}: prometheusRule.alertLabels");
            for a in ["summary", "description"] {
                assert!(r["annotations"][a].as_str().is_some_and(|s| s.len() > 10), "{alert}: {a}");
            }
            // Helm must not have eaten Prometheus' own templates.
            if let Some(d) = r["annotations"]["description"].as_str() {
                assert!(!d.contains("<no value>"), "{alert}: {d}");
            }
            alerts.insert(alert, expr.to_string());
        }
    }
    for (alert, needle) in [
        ("StanceDown", "up{"),
        ("StanceWebhookEvaluationErrors", "stance_webhook_evaluation_errors_total"),
        ("StanceWebhookFailingOpen", "stance_webhook_fail_open_total"),
        ("StanceWebhookSlow", "stance_webhook_request_duration_seconds_bucket"),
        ("StanceWebhookCertificateReloadFailed", "stance_webhook_tls_reload_failures_total"),
        ("StanceWatchErrors", "stance_operator_watch_errors_total"),
        ("StanceReconcileErrors", "stance_operator_reconciles_total"),
        ("StanceNoLeader", "stance_operator_leader"),
        ("StanceReportUploadsFailing", "stance_operator_ingest_uploads_total"),
        ("StanceKnownExploitedFinding", "stance_operator_events_total"),
    ] {
        let expr = alerts.get(alert).unwrap_or_else(|| panic!("alert {alert} is missing: {alerts:?}"));
        assert!(expr.contains(needle), "{alert}: {expr}");
    }
    assert!(alerts["StanceReconcileErrors"].contains("result=\"error\""));
    assert!(alerts["StanceKnownExploitedFinding"].contains("reason=\"KnownExploitedFinding\""));
    assert!(alerts["StanceWebhookSlow"].contains("endpoint=\"validate\""));
    assert!(alerts["StanceDown"].contains(&format!("job=\"{}\"", svc.metadata.name.unwrap())), "job = Service name");
    // The label values the alerts filter on are the ones the code uses.
    let reconcile = std::fs::read_to_string(repo("src/controller/reconcile.rs")).unwrap();
    assert!(reconcile.contains("\"KnownExploitedFinding\"") && reconcile.contains("result: \"error\".into()"));
    let service = std::fs::read_to_string(repo("src/webhook/service.rs")).unwrap();
    assert!(service.contains("\"validate\""));
    let ingest = std::fs::read_to_string(repo("src/controller/ingest_api.rs")).unwrap();
    assert!(ingest.contains("outcome(\"error\")"));
}

/// The `stance_*` (and `up`) metric names in a PromQL expression.
fn metric_names_in(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut word = String::new();
    for ch in expr.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            if word.starts_with("stance_") {
                out.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    out
}
