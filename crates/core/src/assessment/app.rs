//! An application's assessment: its findings ranked by contextual risk, coverage, and
//! the guardrail verdicts of its running workloads. The operator writes the result into
//! `AppPosture.status` ([`Assessment::summary`] plus the Kubernetes envelope); `stance scan`
//! prints it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use rustc_hash::FxHashMap;

use super::condition::ConditionState;
use super::status::{
    ComplianceStatus, Coverage, DEFAULT_TOP_FINDINGS, ImageStatus, MAX_TOP_FINDINGS, RankedFinding, SeverityCounts,
    ViolationStatus,
};
use crate::guardrail::Exception;
use crate::index::context::Context;
use crate::index::{ArtifactPosture, PostureIndex};
use crate::lifecycle::SubjectRef;
use crate::lifecycle::summary::{self, Remediation};
use crate::model::{App, Artifact, ArtifactKey, Criticality, Finding, ImageRef, Severity, Workload};
use crate::policy::Violation;
use crate::policy::admission::running_violations;
use crate::risk::{self, Reach, RiskContext, RiskScore};

/// Most violations listed in status.
pub const MAX_STATUS_VIOLATIONS: usize = 20;
/// Most entries in `status.criticalFindings`.
pub const MAX_CRITICAL_FINDINGS: usize = 100;

/// A finding of the application with its contextual score.
#[derive(Clone, Debug)]
pub struct Ranked<'a> {
    pub finding: &'a Finding,
    pub risk: RiskScore,
    /// `Kind/namespace/name` of the application's workloads it affects.
    pub workloads: Vec<String>,
}

/// Everything known about one application.
#[derive(Debug)]
pub struct Assessment<'a> {
    pub app: &'a App,
    pub namespace: String,
    pub name: String,
    pub reach: Reach,
    pub exposure_reasons: Vec<String>,
    /// The criticality that counts (never below the namespace's floor).
    pub criticality: Criticality,
    /// Declared context that was ignored because it would lower what counts.
    pub overridden: Vec<String>,
    /// All open findings, highest risk first.
    pub ranked: Vec<Ranked<'a>>,
    /// Findings hidden by VEX or an active exception.
    pub suppressed: usize,
    /// The findings a VEX statement hides, in artifact order: shown as suppressed, with the
    /// statement that did it, in every output.
    pub vex_suppressed: Vec<&'a Finding>,
    pub images: Vec<ImageStatus>,
    pub workloads: Vec<String>,
    /// Guardrail violations of the application's running workloads.
    pub violations: Vec<Violation>,
    pub risk_score: u32,
    /// Overdue findings, new / fixed this week and time to fix, when the index holds a
    /// lifecycle view (`crate::lifecycle`).
    pub remediation: Option<Remediation>,
}

/// How an application uses one artifact.
#[derive(Debug)]
pub struct ArtifactUse<'a> {
    /// `Kind/namespace/name` of the application's workloads running it (none for objects,
    /// repositories and endpoints).
    pub workloads: BTreeSet<String>,
    pub privileged: bool,
    pub root: bool,
    /// The image reference a workload runs, for images.
    pub image: Option<&'a ImageRef>,
}

/// One finding of an application, as [`AppScope::for_each_finding`] visits it.
#[derive(Debug)]
pub struct FindingUse<'u, 'a> {
    pub finding: &'a Finding,
    /// The risk context of the artifact's use (exposure, criticality, privileges).
    pub ctx: &'u RiskContext,
    /// Hidden by a VEX statement or an active RiskException the operator trusts.
    pub hidden: bool,
    pub workloads: &'u BTreeSet<String>,
    pub image: Option<&'a ImageRef>,
}

/// What belongs to an application: its workloads and the artifacts they use (images,
/// objects, and the repositories and endpoints it names). The one home of "the findings of
/// an application": [`assess`] ranks them, the remediation lifecycle tracks them.
#[derive(Debug)]
pub struct AppScope<'a> {
    pub app: &'a App,
    pub workloads: Vec<&'a Workload>,
    /// By artifact key, in key order.
    pub uses: Vec<(ArtifactKey, ArtifactUse<'a>)>,
    pub reach: Reach,
    pub exposure_reasons: Vec<String>,
    /// The criticality that counts (never below the namespace's floor).
    pub criticality: Criticality,
    /// Declared context that was ignored because it would lower what counts.
    pub overridden: Vec<String>,
}

impl<'a> AppScope<'a> {
    /// The application's workloads (those its selector selects) and artifacts in the
    /// index, in its context ([`PostureIndex::app_context`]).
    pub fn new(index: &'a PostureIndex, app: &'a App) -> AppScope<'a> {
        let workloads: Vec<&Workload> = index.app_workloads(app).map(|w| &**w).collect();
        AppScope::of_members(index, app, workloads, index.app_context(app))
    }

    /// `app` as made of `workloads`, with its `context` (reach, criticality and why)
    /// already resolved by [`PostureIndex::context`]: the hook for applications no
    /// AppPosture declares (see [`super::inferred`]), whose members come from labels
    /// instead of a selector.
    pub fn of_members(
        index: &'a PostureIndex,
        app: &'a App,
        workloads: Vec<&'a Workload>,
        context: Context,
    ) -> AppScope<'a> {
        // Which artifacts belong to the app, and which of its workloads use each.
        let mut uses: FxHashMap<ArtifactKey, ArtifactUse<'_>> = FxHashMap::default();
        for w in &workloads {
            let wref = w.object_ref().to_string();
            for c in &w.containers {
                let Ok(img) = &c.image else { continue };
                let key = index.resolve_key(&Artifact::Image(img.clone()));
                let u = uses.entry(key).or_insert_with(|| ArtifactUse {
                    workloads: BTreeSet::new(),
                    privileged: false,
                    root: false,
                    image: Some(img),
                });
                u.workloads.insert(wref.clone());
                u.privileged |= w.is_privileged();
                u.root |= w.may_run_as_root();
            }
        }
        let bare = || ArtifactUse { workloads: BTreeSet::new(), privileged: false, root: false, image: None };
        for key in index.object_artifacts_of(&app.namespace, &workloads) {
            uses.entry(key).or_insert_with(bare);
        }
        for key in index.app_extra_artifacts(app, &workloads) {
            uses.entry(key).or_insert_with(bare);
        }
        let mut uses: Vec<(ArtifactKey, ArtifactUse<'_>)> = uses.into_iter().collect();
        uses.sort_by(|a, b| a.0.cmp(&b.0));
        AppScope {
            app,
            workloads,
            uses,
            reach: context.reach,
            exposure_reasons: context.reasons,
            criticality: context.criticality,
            overridden: context.overridden,
        }
    }

    /// The risk context of one use of an artifact at `now`.
    pub fn context(&self, u: &ArtifactUse<'_>, now: Timestamp) -> RiskContext {
        RiskContext {
            reach: self.reach,
            criticality: self.criticality,
            data: self.app.data_classification,
            privileged: u.privileged,
            root: u.root,
            now,
        }
    }

    /// Visits every finding of every artifact of the application, in artifact-key order,
    /// each marked hidden when VEX or an active trusted RiskException hides it at `now`.
    pub fn for_each_finding(&self, index: &'a PostureIndex, now: Timestamp, mut visit: impl FnMut(FindingUse<'_, 'a>)) {
        let exceptions: Vec<&Exception> = trusted_exceptions(index, now);
        let app_names = [&*self.app.name];
        for (key, u) in &self.uses {
            let Some(posture) = index.posture_for(&self.app.namespace, key) else { continue };
            let ctx = self.context(u, now);
            let affected: Vec<&Workload> =
                self.workloads.iter().copied().filter(|w| u.workloads.contains(&w.object_ref().to_string())).collect();
            for f in &posture.findings {
                let hidden = f.suppressed()
                    || exceptions
                        .iter()
                        .any(|e| e.hides_finding(f.ids(), &affected, &app_names, u.image, &self.app.namespace));
                visit(FindingUse { finding: f, ctx: &ctx, hidden, workloads: &u.workloads, image: u.image });
            }
        }
    }
}

/// Assesses an application at `now`.
pub fn assess<'a>(index: &'a PostureIndex, app: &'a App, now: Timestamp) -> Assessment<'a> {
    assess_scope(index, AppScope::new(index, app), now)
}

/// Assesses `app` as made of `workloads` in `context` (see [`AppScope::of_members`]).
pub fn assess_members<'a>(
    index: &'a PostureIndex,
    app: &'a App,
    workloads: Vec<&'a Workload>,
    context: Context,
    now: Timestamp,
) -> Assessment<'a> {
    assess_scope(index, AppScope::of_members(index, app, workloads, context), now)
}

fn assess_scope<'a>(index: &'a PostureIndex, scope: AppScope<'a>, now: Timestamp) -> Assessment<'a> {
    let app = scope.app;
    let mut ranked = Vec::new();
    let mut suppressed = 0;
    let mut vex_suppressed = Vec::new();
    scope.for_each_finding(index, now, |u| {
        if u.hidden {
            suppressed += 1;
            if u.finding.suppressed() {
                vex_suppressed.push(u.finding);
            }
        } else {
            ranked.push(Ranked {
                finding: u.finding,
                risk: risk::score(u.finding, u.ctx),
                workloads: u.workloads.iter().cloned().collect(),
            });
        }
    });
    let images = scope
        .uses
        .iter()
        .filter_map(|(key, u)| {
            u.image
                .map(|img| image_status(img, index.posture_for(&app.namespace, key).map(|p| &**p), u.workloads.len()))
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.risk
            .score
            .cmp(&a.risk.score)
            .then(b.finding.severity.cmp(&a.finding.severity))
            .then_with(|| a.finding.id.cmp(&b.finding.id))
    });
    let scores: Vec<u32> = ranked.iter().map(|r| r.risk.score).collect();
    let violations = scope.workloads.iter().flat_map(|w| running_violations(w, index, now)).collect();
    Assessment {
        app,
        namespace: app.namespace.to_string(),
        name: app.name.to_string(),
        reach: scope.reach,
        risk_score: risk::app_score(&scores),
        ranked,
        suppressed,
        vex_suppressed,
        images,
        workloads: scope.workloads.iter().map(|w| w.object_ref().to_string()).collect(),
        violations,
        exposure_reasons: scope.exposure_reasons,
        criticality: scope.criticality,
        overridden: scope.overridden,
        remediation: remediation(index, app, now),
    }
}

/// The application's remediation summary from the index's lifecycle view, if it has one.
pub fn remediation(index: &PostureIndex, app: &App, now: Timestamp) -> Option<Remediation> {
    let ledger = index.ledger()?;
    let subject = SubjectRef::app(&app.namespace, &app.name);
    let records = ledger.subject(&subject).into_iter().flat_map(|r| r.values());
    Some(summary::remediation(records, &ledger.policy, now))
}

/// Active exceptions from the namespaces the operator trusts by default: these hide the
/// findings they name from posture (policies decide separately what they honour).
pub fn trusted_exceptions(index: &PostureIndex, now: Timestamp) -> Vec<&Exception> {
    index
        .exceptions()
        .filter_map(|e| e.active(now))
        .filter(|e| index.config.trusts_exceptions_from(&e.namespace))
        .collect()
}

fn image_status(img: &ImageRef, posture: Option<&ArtifactPosture>, workloads: usize) -> ImageStatus {
    let count = |s: Severity| {
        posture.map_or(0, |p| p.findings.iter().filter(|f| f.severity == s && !f.suppressed()).count()) as u32
    };
    let digest = posture
        .and_then(|p| p.artifact.as_ref())
        .and_then(Artifact::image)
        .and_then(|i| i.digest.as_deref())
        .or(img.digest.as_deref())
        .map(str::to_string);
    ImageStatus {
        image: img.to_string(),
        digest,
        workloads: workloads as u32,
        scanned: posture.is_some_and(|p| p.scanned),
        last_scanned: posture.and_then(|p| p.last_scanned).map(|t| t.to_string()),
        sbom: posture.is_some_and(ArtifactPosture::has_sbom),
        critical: count(Severity::Critical),
        high: count(Severity::High),
    }
}

/// Counts per severity of the given findings.
pub fn severity_counts<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> SeverityCounts {
    let mut c = SeverityCounts::default();
    for f in findings {
        match f.severity {
            Severity::Critical => c.critical += 1,
            Severity::High => c.high += 1,
            Severity::Medium => c.medium += 1,
            Severity::Low => c.low += 1,
            Severity::Info | Severity::Unknown => c.unknown += 1,
        }
        c.total += 1;
    }
    c
}

/// The status shown in `RankedFinding.factors` and the CLI.
pub fn ranked_finding(r: &Ranked<'_>) -> RankedFinding {
    let f = r.finding;
    let mut sources: Vec<String> = f.sources.iter().map(|s| format!("{} ({})", s.scanner, s.format.as_str())).collect();
    sources.sort();
    sources.dedup();
    RankedFinding {
        id: f.id.to_string(),
        kind: f.kind.as_str().into(),
        severity: f.severity.as_str().into(),
        risk_score: r.risk.score,
        title: f.title.to_string(),
        artifact: f.artifact.to_string(),
        package: f.package.as_ref().map(|p| p.name.to_string()),
        installed_version: f.package.as_ref().and_then(|p| p.installed_version.as_deref()).map(str::to_string),
        fixed_version: f.package.as_ref().and_then(|p| p.fixed_version.as_deref()).map(str::to_string),
        known_exploited: f.kev,
        epss: f.epss.map(|e| (f64::from(e) * 10_000.0).round() / 10_000.0),
        factors: r.risk.factors.iter().map(ToString::to_string).collect(),
        sources,
        workloads: r.workloads.len() as u32,
    }
}

impl Assessment<'_> {
    /// Open CRITICAL or known-exploited findings, highest risk first, as short lines.
    pub fn critical_findings(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .ranked
            .iter()
            .map(|r| r.finding)
            .filter(|f| f.severity == Severity::Critical || f.kev)
            .map(|f| {
                let pkg = f.package.as_ref().map(|p| format!(" in {}", p.name)).unwrap_or_default();
                let kev = if f.kev { " (known exploited)" } else { "" };
                format!("{} {}{pkg} on {}{kev}", f.id, f.severity, f.artifact)
            })
            .collect();
        lines.dedup();
        lines.truncate(MAX_CRITICAL_FINDINGS);
        lines
    }

    /// Everything `AppPosture.status` shows but the Kubernetes envelope (condition times,
    /// observed generation, evaluation time): top findings only (`spec.topFindings`,
    /// default 20, at most 100).
    pub fn summary(&self) -> AppSummary {
        let top = self.app.top_findings.unwrap_or(DEFAULT_TOP_FINDINGS).min(MAX_TOP_FINDINGS) as usize;
        let mut by_source: BTreeMap<String, u32> = BTreeMap::new();
        for r in &self.ranked {
            let formats: BTreeSet<&str> = r.finding.sources.iter().map(|s| s.format.as_str()).collect();
            for f in formats {
                *by_source.entry(f.to_string()).or_default() += 1;
            }
        }
        let coverage = |covered: usize| Coverage {
            images: self.images.len() as u32,
            covered: covered as u32,
            percent: if self.images.is_empty() { 0 } else { (covered * 100 / self.images.len()) as u32 },
        };
        let open: Vec<&Violation> = self.violations.iter().filter(|v| v.is_open()).collect();
        let mut by_enforcement: BTreeMap<String, u32> = BTreeMap::new();
        for v in &open {
            *by_enforcement.entry(v.enforcement.as_str().to_string()).or_default() += 1;
        }
        let compliant = open.is_empty();
        let conditions = vec![
            ConditionState {
                type_: "Ready",
                ok: true,
                reason: "Evaluated",
                message: format!(
                    "{} findings from {} images and {} workloads",
                    self.ranked.len(),
                    self.images.len(),
                    self.workloads.len()
                ),
            },
            if self.overridden.is_empty() {
                ConditionState {
                    type_: "DeclaredContext",
                    ok: true,
                    reason: "Honoured",
                    message: "the declared criticality and exposure apply".into(),
                }
            } else {
                ConditionState {
                    type_: "DeclaredContext",
                    ok: false,
                    reason: "LoweringIgnored",
                    message: self.overridden.join("; "),
                }
            },
            ConditionState {
                type_: "Compliant",
                ok: compliant,
                reason: if compliant { "NoViolations" } else { "GuardrailViolations" },
                message: if compliant {
                    "no guardrail violations by running workloads".into()
                } else {
                    format!("{} guardrail violations by running workloads", open.len())
                },
            },
        ];
        AppSummary {
            risk_score: self.risk_score,
            exposure: self.reach.as_str().to_string(),
            exposure_reasons: self.exposure_reasons.iter().take(5).cloned().collect(),
            findings: severity_counts(self.ranked.iter().map(|r| r.finding)),
            findings_by_source: by_source,
            suppressed_findings: self.suppressed as u32,
            top_findings: self.ranked.iter().take(top).map(ranked_finding).collect(),
            critical_findings: self.critical_findings(),
            vex_suppressed: self
                .vex_suppressed
                .iter()
                .filter_map(|f| crate::vex::suppression_line(f))
                .take(MAX_CRITICAL_FINDINGS)
                .collect(),
            workloads: self.workloads.clone(),
            sbom_coverage: coverage(self.images.iter().filter(|i| i.sbom).count()),
            scan_coverage: coverage(self.images.iter().filter(|i| i.scanned).count()),
            images: self.images.clone(),
            compliance: ComplianceStatus {
                compliant,
                violations_by_enforcement: by_enforcement,
                violations: open
                    .iter()
                    .take(MAX_STATUS_VIOLATIONS)
                    .map(|v| ViolationStatus {
                        policy: v.policy.to_string(),
                        rule: v.rule.to_string(),
                        enforcement: v.enforcement.as_str().into(),
                        workload: v.workload.to_string(),
                        message: v.message.clone(),
                    })
                    .collect(),
            },
            conditions,
            remediation: self.remediation.clone(),
        }
    }
}

/// An application's status content (see [`Assessment::summary`]); field by field what
/// `AppPosture.status` shows.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSummary {
    pub risk_score: u32,
    /// The effective exposure (`auto` resolved).
    pub exposure: String,
    pub exposure_reasons: Vec<String>,
    pub findings: SeverityCounts,
    pub findings_by_source: BTreeMap<String, u32>,
    pub suppressed_findings: u32,
    pub top_findings: Vec<RankedFinding>,
    pub critical_findings: Vec<String>,
    /// Findings a VEX statement suppresses (at most 100), each with the statement
    /// ([`crate::vex::suppression_line`]).
    pub vex_suppressed: Vec<String>,
    pub workloads: Vec<String>,
    pub images: Vec<ImageStatus>,
    pub sbom_coverage: Coverage,
    pub scan_coverage: Coverage,
    pub compliance: ComplianceStatus,
    /// `Ready`, `DeclaredContext` (declarations that would lower the context are ignored) and `Compliant`.
    pub conditions: Vec<ConditionState>,
    /// See [`Assessment::remediation`].
    pub remediation: Option<Remediation>,
}
