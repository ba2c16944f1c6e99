//! `wgpolicyk8s.io/v1alpha2` PolicyReports of Stance's guardrail results, one per
//! namespace (split into pages so no report nears etcd's object size limit), so the
//! Policy Reporter UI and other tools that read PolicyReports show Stance's verdicts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use stance_core::index::PostureIndex;
use stance_core::model::{Workload, WorkloadKind};
use stance_core::policy::context::Subject;
use stance_core::policy::evaluate::applies;
use stance_core::policy::{Violation, evaluate};

/// Results per report page: ~1 KiB each keeps a page far below etcd's 1.5 MiB limit.
pub const RESULTS_PER_REPORT: usize = 500;

fn api_version(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Pod => "v1",
        WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
        _ => "apps/v1",
    }
}

fn severity(v: &Violation) -> &'static str {
    match v.enforcement {
        crate::api::Enforcement::Enforce => "high",
        crate::api::Enforcement::Warn => "medium",
        crate::api::Enforcement::Audit => "low",
    }
}

/// One `pass`/`fail`/`warn`/`skip` result per (workload, applicable policy rule).
fn results_for(w: &Workload, index: &PostureIndex, now: Timestamp) -> Vec<Value> {
    let verdict = evaluate(w, None, index, now);
    let subject = Subject::new(w, index, now);
    let resource = json!({
        "apiVersion": api_version(w.kind), "kind": w.kind.as_str(), "namespace": &*w.namespace, "name": &*w.name,
        "uid": w.uid.as_deref().unwrap_or("")
    });
    let ts = json!({ "seconds": now.as_second(), "nanos": 0 });
    let mut out = Vec::new();
    for entry in index.policies() {
        let Ok(p) = &entry.compiled else { continue };
        if !applies(p, &subject) {
            continue;
        }
        for rule in &p.rules {
            let hits: Vec<&Violation> =
                verdict.violations.iter().filter(|v| v.policy == p.name && v.rule == rule.name).collect();
            if hits.is_empty() {
                out.push(json!({
                    "source": "stance", "policy": &*p.name, "rule": &*rule.name, "category": rule.check.type_name(),
                    "result": "pass", "scored": true, "resources": [resource], "timestamp": ts,
                    "message": "no violation"
                }));
            }
            for v in hits {
                let result = if !v.excepted_by.is_empty() {
                    "skip"
                } else if v.blocks() {
                    "fail"
                } else {
                    "warn"
                };
                let mut props = BTreeMap::new();
                props.insert("enforcement", v.enforcement.as_str().to_string());
                if let Some(img) = &v.image {
                    props.insert("image", img.to_string());
                }
                if !v.excepted_by.is_empty() {
                    props.insert("riskException", v.excepted_by.join(","));
                }
                out.push(json!({
                    "source": "stance", "policy": &*p.name, "rule": &*rule.name, "category": rule.check.type_name(),
                    "result": result, "severity": severity(v), "scored": true, "resources": [resource],
                    "timestamp": ts, "message": v.message, "properties": props
                }));
            }
        }
    }
    out
}

/// Builds the PolicyReports for every running (top-level) workload in the index.
pub fn render(index: &PostureIndex, now: Timestamp) -> Vec<Value> {
    let mut by_ns: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for w in index.workloads().filter(|w| index.is_top_level(w)) {
        by_ns.entry(w.namespace.to_string()).or_default().extend(results_for(w, index, now));
    }
    let mut reports = Vec::new();
    for (ns, results) in by_ns {
        let pages = results.chunks(RESULTS_PER_REPORT).count();
        for (i, page) in results.chunks(RESULTS_PER_REPORT).enumerate() {
            let mut summary = BTreeMap::from([("pass", 0), ("fail", 0), ("warn", 0), ("error", 0), ("skip", 0)]);
            for r in page {
                if let Some(n) = r["result"].as_str().and_then(|k| summary.get_mut(k)) {
                    *n += 1;
                }
            }
            let name =
                if pages == 1 { "stance-guardrails".to_string() } else { format!("stance-guardrails-{}", i + 1) };
            reports.push(json!({
                "apiVersion": "wgpolicyk8s.io/v1alpha2",
                "kind": "PolicyReport",
                "metadata": { "name": name, "namespace": ns, "labels": { "app.kubernetes.io/managed-by": "stance" } },
                "summary": summary,
                "results": page
            }));
        }
    }
    reports
}
