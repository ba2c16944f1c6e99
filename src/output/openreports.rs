//! `openreports.io/v1alpha1` Reports of Stance's guardrail results: the successor of the
//! `wgpolicyk8s.io` PolicyReport (<https://github.com/openreports/reports-api>, CRD
//! `config/crd/openreports.io_reports.yaml`) that Kyverno and Policy Reporter read.
//!
//! The results are the ones [`policy_report::reports`] renders — one per (workload,
//! applicable rule) — in the same per-namespace `stance-guardrails[-N]` reports, with the
//! Report's `apiVersion` and `kind`. An object stored in etcd must stay below its request
//! limit (1.5 MiB by default), so a namespace's results are split into pages of at most
//! [`policy_report::RESULTS_PER_REPORT`] results **and** [`MAX_REPORT_BYTES`] of JSON, and a
//! result message longer than [`MAX_MESSAGE_CHARS`] is cut (with `…`). Each page's summary
//! counts its own results.

use serde_json::Value;

use super::policy_report::{self, Outcome, PolicyReport, RESULTS_PER_REPORT, ReportResult, ReportSummary};
use crate::output::policy_report::ReportMetadata;
use stance_core::index::PostureIndex;

/// The Report's API version (`openreports.io_reports.yaml`, version `v1alpha1`).
pub const API_VERSION: &str = "openreports.io/v1alpha1";
/// The namespaced Report kind (Stance's results are per namespace).
pub const KIND: &str = "Report";
/// Largest JSON size of one Report: well below etcd's default 1.5 MiB request limit, with
/// room for the metadata the API server adds (managed fields, annotations).
pub const MAX_REPORT_BYTES: usize = 1024 * 1024;
/// Longest result message kept (characters).
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// The Reports for every running (top-level) workload in the index.
pub fn reports(index: &PostureIndex, now: jiff::Timestamp) -> Vec<PolicyReport> {
    from_policy_reports(policy_report::reports(index, now))
}

/// The same results as OpenReports `Report`s, re-paged within [`MAX_REPORT_BYTES`].
pub fn from_policy_reports(reports: Vec<PolicyReport>) -> Vec<PolicyReport> {
    // The wgpolicyk8s pages of one namespace are consecutive: join them, page again.
    let mut by_ns: Vec<(String, ReportMetadata, Vec<ReportResult>)> = Vec::new();
    for r in reports {
        match by_ns.last_mut() {
            Some((ns, _, results)) if *ns == r.metadata.namespace => results.extend(r.results),
            _ => by_ns.push((r.metadata.namespace.clone(), r.metadata, r.results)),
        }
    }
    let mut out = Vec::new();
    for (_, meta, results) in by_ns {
        let pages = paginate(results.into_iter().map(cap_message).collect(), MAX_REPORT_BYTES);
        let n = pages.len();
        for (i, page) in pages.into_iter().enumerate() {
            let name = if n == 1 { "stance-guardrails".to_string() } else { format!("stance-guardrails-{}", i + 1) };
            out.push(PolicyReport {
                api_version: API_VERSION,
                kind: KIND,
                metadata: ReportMetadata { name, namespace: meta.namespace.clone(), labels: meta.labels.clone() },
                summary: summary(&page),
                results: page,
            });
        }
    }
    out
}

/// Splits results into pages of at most [`RESULTS_PER_REPORT`] results whose JSON adds up
/// to at most `budget` bytes (a single result larger than the budget is a page of its own).
pub fn paginate(results: Vec<ReportResult>, budget: usize) -> Vec<Vec<ReportResult>> {
    // The envelope (apiVersion, kind, metadata, summary) is small; keep 4 KiB for it.
    let budget = budget.saturating_sub(4096).max(1);
    let mut pages: Vec<Vec<ReportResult>> = Vec::new();
    let mut current: Vec<ReportResult> = Vec::new();
    let mut size = 0usize;
    for r in results {
        let len = serde_json::to_vec(&r).map_or(0, |v| v.len()) + 1;
        if !current.is_empty() && (current.len() >= RESULTS_PER_REPORT || size + len > budget) {
            pages.push(std::mem::take(&mut current));
            size = 0;
        }
        size += len;
        current.push(r);
    }
    if !current.is_empty() {
        pages.push(current);
    }
    pages
}

fn cap_message(mut r: ReportResult) -> ReportResult {
    if let Some((cut, _)) = r.message.char_indices().nth(MAX_MESSAGE_CHARS) {
        r.message.truncate(cut);
        r.message.push('…');
    }
    r
}

fn summary(results: &[ReportResult]) -> ReportSummary {
    let mut s = ReportSummary::default();
    for r in results {
        *match r.result {
            Outcome::Pass => &mut s.pass,
            Outcome::Fail => &mut s.fail,
            Outcome::Warn => &mut s.warn,
            Outcome::Skip => &mut s.skip,
        } += 1;
    }
    s
}

/// [`reports`] as JSON objects, as the operator applies them.
pub fn render(index: &PostureIndex, now: jiff::Timestamp) -> Vec<Value> {
    to_values(&reports(index, now))
}

/// Reports as JSON objects.
pub fn to_values(reports: &[PolicyReport]) -> Vec<Value> {
    reports.iter().filter_map(|r| serde_json::to_value(r).ok()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::output::policy_report::{ReportTimestamp, ResourceRef};

    fn result(i: usize, message: &str) -> ReportResult {
        ReportResult {
            source: "stance",
            policy: "p".into(),
            rule: format!("r{i}"),
            category: "vulnerabilities",
            result: if i % 2 == 0 { Outcome::Fail } else { Outcome::Pass },
            severity: None,
            scored: true,
            resources: vec![ResourceRef {
                api_version: "apps/v1",
                kind: "Deployment",
                namespace: "shop".into(),
                name: format!("w{i}"),
                uid: String::new(),
            }],
            timestamp: ReportTimestamp { seconds: 1, nanos: 0 },
            message: message.to_string(),
            properties: BTreeMap::new(),
        }
    }

    fn report(ns: &str, results: Vec<ReportResult>) -> PolicyReport {
        PolicyReport {
            api_version: policy_report::API_VERSION,
            kind: "PolicyReport",
            metadata: ReportMetadata {
                name: "stance-guardrails".into(),
                namespace: ns.into(),
                labels: BTreeMap::new(),
            },
            summary: ReportSummary::default(),
            results,
        }
    }

    #[test]
    fn pages_stay_within_the_byte_budget_and_count() {
        let big = "x".repeat(3000);
        let results: Vec<ReportResult> = (0..1200).map(|i| result(i, &big)).collect();
        let out =
            from_policy_reports(vec![report("shop", results[..500].to_vec()), report("shop", results[500..].to_vec())]);
        assert!(out.len() > 3, "3 MB of results need more than the 3 count-based pages");
        let mut total = 0;
        for (i, r) in out.iter().enumerate() {
            assert_eq!((r.api_version, r.kind), (API_VERSION, KIND));
            assert_eq!(r.metadata.name, format!("stance-guardrails-{}", i + 1));
            let bytes = serde_json::to_vec(r).unwrap().len();
            assert!(bytes <= MAX_REPORT_BYTES, "{bytes}");
            assert!(r.results.len() <= RESULTS_PER_REPORT);
            assert_eq!((r.summary.fail + r.summary.pass) as usize, r.results.len());
            total += r.results.len();
        }
        assert_eq!(total, 1200, "no result is lost");
    }

    #[test]
    fn long_messages_are_cut_and_namespaces_stay_apart() {
        let long = "é".repeat(MAX_MESSAGE_CHARS + 10);
        let out = from_policy_reports(vec![report("a", vec![result(0, &long)]), report("b", vec![result(1, "ok")])]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].metadata.name, "stance-guardrails");
        assert_eq!(out[0].results[0].message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!((out[1].metadata.namespace.as_str(), out[1].summary.pass), ("b", 1));
    }
}
