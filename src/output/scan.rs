//! The result of `stance scan`: applications ranked by risk, their top findings with
//! factors, guardrail violations of running workloads, and what could not be read.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use stance_core::assessment::app::{self, Assessment};
use stance_core::assessment::exception_state;
use stance_core::assessment::inferred;
use stance_core::assessment::not_running::{self, NotRunning};
use stance_core::assessment::status::{ImageStatus, RankedFinding, SeverityCounts};
use stance_core::guardrail::RiskExceptionState;
use stance_core::index::PostureIndex;
use stance_core::model::{App, Workload};
use stance_core::policy::Violation;
use stance_core::policy::admission::running_violations;

use super::findings::SuppressedLine;
pub use crate::ingest::LoadSummary;
use crate::ingest::Warning;

/// Version of the JSON schema below; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "stance.dev/scan/v1";

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanOutput {
    pub schema: &'static str,
    pub generated_at: String,
    pub summary: Summary,
    /// Applications (AppPostures), highest risk first.
    pub apps: Vec<AppOutput>,
    /// Applications inferred from labels for workloads no AppPosture selects, highest risk
    /// first; each has `inferred: true`.
    pub inferred_apps: Vec<AppOutput>,
    /// Artifacts with findings that no running workload uses, highest risk first.
    pub not_running: Vec<NotRunningOutput>,
    /// Guardrail violations of running workloads that belong to no application.
    pub unowned_violations: Vec<Violation>,
    pub policies: Vec<PolicyOutput>,
    pub exceptions: Vec<ExceptionOutput>,
    /// Documents that could not be read (file and problem).
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub files: usize,
    pub reports: usize,
    /// Findings after correlation and de-duplication.
    pub findings: usize,
    pub images: usize,
    pub workloads: usize,
    pub apps: usize,
    pub inferred_apps: usize,
    /// Artifacts with findings that no running workload uses.
    pub not_running: usize,
    /// Open (un-excepted) violations of running workloads by enforcement.
    pub violations: BTreeMap<String, usize>,
    pub warnings: usize,
    /// Kubernetes kinds present in the input that Stance does not use, with counts.
    pub ignored_kinds: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppOutput {
    pub namespace: String,
    pub name: String,
    /// True for an application inferred from labels (no AppPosture).
    pub inferred: bool,
    /// For an inferred application: the label that named it, or `workload name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub criticality: &'static str,
    pub data_classification: &'static str,
    pub exposure: &'static str,
    pub exposure_reasons: Vec<String>,
    /// Declared criticality or exposure that was ignored because it would lower what
    /// counts (a declaration raises, never lowers; see docs/concepts.md).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context_overridden: Vec<String>,
    pub risk_score: u32,
    pub findings: SeverityCounts,
    /// Open findings on CISA's Known Exploited Vulnerabilities list.
    pub known_exploited: usize,
    pub suppressed_findings: usize,
    /// The findings VEX suppresses, with the statement that did it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedLine>,
    pub top_findings: Vec<RankedFinding>,
    pub workloads: Vec<String>,
    pub images: Vec<ImageStatus>,
    pub violations: Vec<Violation>,
    pub compliant: bool,
}

/// An artifact with findings that no running workload uses.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotRunningOutput {
    /// The artifact (`image:…`, `repository:…`, `endpoint:…`, `object:…`).
    pub artifact: String,
    /// The Asset that names it (`namespace/name`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    pub risk_score: u32,
    pub findings: SeverityCounts,
    pub suppressed_findings: usize,
    /// The findings VEX suppresses, with the statement that did it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedLine>,
    pub top_findings: Vec<RankedFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_scanned: Option<String>,
}

impl NotRunningOutput {
    fn new(n: &NotRunning<'_>, top: usize) -> NotRunningOutput {
        NotRunningOutput {
            artifact: n.posture.artifact.as_ref().map_or_else(|| n.key.0.to_string(), ToString::to_string),
            asset: n.asset.map(|a| format!("{}/{}", a.namespace, a.name)),
            risk_score: n.risk_score,
            findings: app::severity_counts(n.ranked.iter().map(|r| r.finding)),
            suppressed_findings: n.suppressed,
            suppressed: n.vex_suppressed.iter().filter_map(|f| SuppressedLine::new(f)).collect(),
            top_findings: n.ranked.iter().take(top).map(app::ranked_finding).collect(),
            last_scanned: n.posture.last_scanned.map(|t| t.to_string()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyOutput {
    pub name: String,
    pub enforcement: &'static str,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Open violations of running workloads.
    pub violations: usize,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionOutput {
    pub namespace: String,
    pub name: String,
    pub state: RiskExceptionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

impl AppOutput {
    /// The output of one assessment, `top` findings listed; `named_by` is set for an
    /// inferred application (the label that named it).
    pub fn new(a: &Assessment<'_>, named_by: Option<&str>, top: usize) -> AppOutput {
        let spec = a.app;
        AppOutput {
            namespace: a.namespace.clone(),
            name: a.name.clone(),
            inferred: named_by.is_some(),
            named_by: named_by.map(str::to_string),
            owner: spec.owner.clone(),
            criticality: a.criticality.as_str(),
            data_classification: spec.data_classification.as_str(),
            exposure: a.reach.as_str(),
            exposure_reasons: a.exposure_reasons.clone(),
            context_overridden: a.overridden.clone(),
            risk_score: a.risk_score,
            findings: app::severity_counts(a.ranked.iter().map(|r| r.finding)),
            known_exploited: a.ranked.iter().filter(|r| r.finding.kev).count(),
            suppressed_findings: a.suppressed,
            suppressed: a.vex_suppressed.iter().filter_map(|f| SuppressedLine::new(f)).collect(),
            top_findings: a.ranked.iter().take(top).map(app::ranked_finding).collect(),
            workloads: a.workloads.clone(),
            images: a.images.clone(),
            compliant: !a.violations.iter().any(|v| v.is_open()),
            violations: a.violations.clone(),
        }
    }
}

/// Every application's assessment at `now`, highest risk first (then by name).
pub fn assess_all(index: &PostureIndex, now: Timestamp) -> Vec<Assessment<'_>> {
    let mut all: Vec<Assessment<'_>> = index.apps().map(|a| app::assess(index, a, now)).collect();
    all.sort_by(|a, b| {
        b.risk_score.cmp(&a.risk_score).then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    });
    all
}

/// Every inferred application's output at `now` (`top` findings each), highest risk first
/// (then by name).
pub fn inferred_apps(index: &PostureIndex, now: Timestamp, top: usize) -> Vec<AppOutput> {
    let mut out: Vec<AppOutput> = inferred::applications(index)
        .iter()
        .map(|i| AppOutput::new(&inferred::assess(index, i, now), Some(i.named_by), top))
        .collect();
    out.sort_by(|a, b| {
        b.risk_score.cmp(&a.risk_score).then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    });
    out
}

/// Guardrail violations of running (top-level) workloads that no AppPosture selects.
pub fn unowned_violations(index: &PostureIndex, now: Timestamp) -> Vec<Violation> {
    let owned = |w: &Workload| index.apps_of(w).next().is_some();
    index
        .workloads()
        .filter(|w| index.reported_on_its_own(w) && !owned(w))
        .flat_map(|w| running_violations(w, index, now))
        .collect()
}

/// Assesses everything in the index at `now`; `top` findings are listed per application.
pub fn build(index: &PostureIndex, loaded_summary: &LoadSummary, now: Timestamp, top: usize) -> ScanOutput {
    let apps: Vec<AppOutput> = assess_all(index, now).iter().map(|a| AppOutput::new(a, None, top)).collect();
    let inferred_apps = inferred_apps(index, now, top);
    let not_running: Vec<NotRunningOutput> =
        not_running::not_running(index, now).iter().map(|n| NotRunningOutput::new(n, top)).collect();
    let unowned_violations = unowned_violations(index, now);

    let all_open = apps.iter().flat_map(|a| &a.violations).chain(&unowned_violations).filter(|v| v.is_open());
    let mut by_enforcement = BTreeMap::new();
    let mut by_policy: BTreeMap<&str, usize> = BTreeMap::new();
    for v in all_open {
        *by_enforcement.entry(v.enforcement.as_str().to_string()).or_default() += 1;
        *by_policy.entry(&v.policy).or_default() += 1;
    }
    let policies = index
        .policies()
        .map(|p| PolicyOutput {
            name: p.name.to_string(),
            enforcement: p.enforcement.as_str(),
            valid: p.compiled.is_ok(),
            error: p.compiled.as_ref().err().map(ToString::to_string),
            violations: by_policy.get(&*p.name).copied().unwrap_or(0),
        })
        .collect();
    let exceptions = index
        .exceptions()
        .map(|e| {
            let (state, reason) = exception_state(index, e, now);
            ExceptionOutput {
                namespace: e.namespace.to_string(),
                name: e.name.to_string(),
                state,
                reason,
                expires: Some(e.expires.clone()),
                ticket: e.ticket.clone(),
            }
        })
        .collect();
    let summary = Summary {
        files: loaded_summary.files,
        reports: loaded_summary.reports,
        findings: index.finding_count(),
        images: index.artifacts().filter(|(k, _)| k.0.starts_with("image:")).count(),
        workloads: index.workloads().filter(|w| index.reported_on_its_own(w)).count(),
        apps: apps.len(),
        inferred_apps: inferred_apps.len(),
        not_running: not_running.len(),
        violations: by_enforcement,
        warnings: loaded_summary.warnings.len(),
        ignored_kinds: loaded_summary.ignored.clone(),
    };
    ScanOutput {
        schema: SCHEMA_VERSION,
        generated_at: now.to_string(),
        summary,
        apps,
        inferred_apps,
        not_running,
        unowned_violations,
        policies,
        exceptions,
        warnings: loaded_summary.warnings.clone(),
    }
}

/// An application's name as `namespace/name`.
pub fn app_id(a: &App) -> String {
    format!("{}/{}", a.namespace, a.name)
}
