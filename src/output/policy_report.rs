//! `wgpolicyk8s.io/v1alpha2` PolicyReports of Stance's guardrail results, one per
//! namespace (split into pages so no report nears etcd's object size limit), so the
//! Policy Reporter UI and other tools that read PolicyReports show Stance's verdicts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use stance_core::index::PostureIndex;
use stance_core::model::{Workload, WorkloadKind};
use stance_core::policy::Violation;
use stance_core::policy::admission::{self, AdmissionFacts};
use stance_core::policy::context::Subject;
use stance_core::policy::evaluate::applies;

/// Results per report page: ~1 KiB each keeps a page far below etcd's 1.5 MiB limit.
pub const RESULTS_PER_REPORT: usize = 500;

pub const API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";

/// A `wgpolicyk8s.io/v1alpha2` PolicyReport, with only the fields Stance fills in
/// (`tests/sarif.rs` checks them against the CRD's schema).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ReportMetadata,
    pub summary: ReportSummary,
    pub results: Vec<ReportResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReportMetadata {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReportSummary {
    pub pass: u32,
    pub fail: u32,
    pub warn: u32,
    pub error: u32,
    pub skip: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Warn,
    /// Excepted by a RiskException.
    Skip,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReportResult {
    pub source: &'static str,
    pub policy: String,
    pub rule: String,
    /// The rule type (`vulnerabilities`, `imageReference`, …).
    pub category: &'static str,
    pub result: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
    pub scored: bool,
    pub resources: Vec<ResourceRef>,
    pub timestamp: ReportTimestamp,
    pub message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<&'static str, String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct ReportTimestamp {
    pub seconds: i64,
    pub nanos: i32,
}

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
fn results_for(w: &Workload, index: &PostureIndex, now: Timestamp) -> Vec<ReportResult> {
    // The one triage of what runs: a workload in an exempt namespace has no results.
    let Ok(verdict) = admission::verdict(&AdmissionFacts::running(w), index, now) else { return Vec::new() };
    let subject = Subject::new(w, index, now);
    let resource = ResourceRef {
        api_version: api_version(w.kind),
        kind: w.kind.as_str(),
        namespace: w.namespace.to_string(),
        name: w.name.to_string(),
        uid: w.uid.as_deref().unwrap_or("").to_string(),
    };
    let ts = ReportTimestamp { seconds: now.as_second(), nanos: 0 };
    let result = |p: &str, rule: &str, category, outcome, severity, message: &str, properties| ReportResult {
        source: "stance",
        policy: p.to_string(),
        rule: rule.to_string(),
        category,
        result: outcome,
        severity,
        scored: true,
        resources: vec![resource.clone()],
        timestamp: ts,
        message: message.to_string(),
        properties,
    };
    let mut out = Vec::new();
    for entry in index.policies() {
        let Ok(p) = &entry.compiled else { continue };
        if !applies(p, &subject) {
            continue;
        }
        for rule in &p.rules {
            let hits: Vec<&Violation> =
                verdict.violations.iter().filter(|v| v.policy == p.name && v.rule == rule.name).collect();
            let category = rule.check.type_name();
            if hits.is_empty() {
                out.push(result(&p.name, &rule.name, category, Outcome::Pass, None, "no violation", BTreeMap::new()));
            }
            for v in hits {
                let outcome = if !v.excepted_by.is_empty() {
                    Outcome::Skip
                } else if v.blocks() {
                    Outcome::Fail
                } else {
                    Outcome::Warn
                };
                let mut props = BTreeMap::new();
                props.insert("enforcement", v.enforcement.as_str().to_string());
                if let Some(img) = &v.image {
                    props.insert("image", img.to_string());
                }
                if !v.excepted_by.is_empty() {
                    props.insert("riskException", v.excepted_by.join(","));
                }
                out.push(result(&p.name, &rule.name, category, outcome, Some(severity(v)), &v.message, props));
            }
        }
    }
    out
}

/// Builds the PolicyReports for every running (top-level) workload in the index.
pub fn reports(index: &PostureIndex, now: Timestamp) -> Vec<PolicyReport> {
    let mut by_ns: BTreeMap<String, Vec<ReportResult>> = BTreeMap::new();
    for w in index.workloads().filter(|w| index.reported_on_its_own(w)) {
        by_ns.entry(w.namespace.to_string()).or_default().extend(results_for(w, index, now));
    }
    let mut reports = Vec::new();
    for (ns, results) in by_ns {
        let pages = results.chunks(RESULTS_PER_REPORT).count();
        for (i, page) in results.chunks(RESULTS_PER_REPORT).enumerate() {
            let mut summary = ReportSummary::default();
            for r in page {
                *match r.result {
                    Outcome::Pass => &mut summary.pass,
                    Outcome::Fail => &mut summary.fail,
                    Outcome::Warn => &mut summary.warn,
                    Outcome::Skip => &mut summary.skip,
                } += 1;
            }
            let name =
                if pages == 1 { "stance-guardrails".to_string() } else { format!("stance-guardrails-{}", i + 1) };
            reports.push(PolicyReport {
                api_version: API_VERSION,
                kind: "PolicyReport",
                metadata: ReportMetadata {
                    name,
                    namespace: ns.clone(),
                    labels: BTreeMap::from([("app.kubernetes.io/managed-by", "stance")]),
                },
                summary,
                results: page.to_vec(),
            });
        }
    }
    reports
}

/// [`reports`] as JSON objects, as the operator applies them.
pub fn render(index: &PostureIndex, now: Timestamp) -> Vec<Value> {
    reports(index, now).iter().map(|r| serde_json::to_value(r).expect("a PolicyReport serializes")).collect()
}
