//! An application's page: its ranked findings (filtered), violations, images and components.

use askama::Template;
use jiff::Timestamp;

use super::overview::{ExceptionRow, exception_row};
use super::{COMPONENTS_SHOWN, Chrome, Pager, app_href, enc};
use crate::output::scan::{AppOutput, ScanOutput};
use stance_core::assessment::app::{self, ranked_finding};
use stance_core::assessment::inferred;
use stance_core::assessment::status::{RankedFinding, SeverityCounts};
use stance_core::index::PostureIndex;
use stance_core::model::{ImageRef, Severity};
use stance_core::policy::Effect;

pub struct FindingRow {
    pub href: String,
    pub risk_score: u32,
    pub severity: String,
    pub id: String,
    pub title: String,
    pub package: String,
    pub fix: String,
    pub artifact: String,
    pub factors: String,
}

impl FindingRow {
    fn new(f: &RankedFinding) -> FindingRow {
        FindingRow {
            href: format!("/findings/{}", enc(&f.id)),
            risk_score: f.risk_score,
            severity: f.severity.clone(),
            id: f.id.clone(),
            title: f.title.clone(),
            package: match (&f.package, &f.installed_version) {
                (Some(p), Some(v)) => format!("{p} {v}"),
                (Some(p), None) => p.clone(),
                _ => "-".into(),
            },
            fix: f.fixed_version.clone().unwrap_or_else(|| "-".into()),
            artifact: f.artifact.clone(),
            factors: f.factors.join(" "),
        }
    }
}

pub struct ViolationRow {
    pub effect: &'static str,
    pub policy: String,
    pub workload: String,
    pub message: String,
}
pub struct ImageRow {
    pub href: String,
    pub image: String,
    pub workloads: u32,
    pub scanned: String,
    pub sbom: bool,
    pub critical: u32,
    pub high: u32,
}
pub struct ComponentList {
    pub image: String,
    pub total: usize,
    pub rows: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "app.html")]
pub struct AppPage {
    pub chrome: Chrome,
    pub href: String,
    pub filter_base: String,
    pub name: String,
    pub inferred: bool,
    pub named_by: String,
    pub owner: String,
    pub criticality: &'static str,
    pub data: &'static str,
    pub exposure: &'static str,
    pub exposure_reasons: Vec<String>,
    pub risk: u32,
    pub workloads: Vec<String>,
    pub counts: SeverityCounts,
    pub kev: usize,
    pub suppressed: usize,
    /// The findings VEX suppresses, each with the document and statement that did it.
    pub vex_suppressed: Vec<String>,
    pub filter: Option<String>,
    pub findings: Vec<FindingRow>,
    pub pager: Pager,
    pub violations: Vec<ViolationRow>,
    pub images: Vec<ImageRow>,
    pub image_count: usize,
    pub sbom_covered: usize,
    pub scan_covered: usize,
    pub components: Vec<ComponentList>,
    pub exceptions: Vec<ExceptionRow>,
}

/// Which findings an application page lists (`?severity=` or `?kev=1`).
#[derive(Clone, Debug, Default)]
pub struct FindingFilter {
    pub severity: Option<Severity>,
    pub kev: bool,
}

/// An application's page (`None` when it does not exist or the viewer cannot see it): the
/// core's assessment of it, rendered through the same [`AppOutput::new`] as `stance scan`.
#[allow(clippy::too_many_arguments)]
pub fn app_page(
    index: &PostureIndex,
    model: &ScanOutput,
    namespace: &str,
    name: &str,
    inferred_app: bool,
    filter: &FindingFilter,
    page: usize,
    chrome: Chrome,
    now: Timestamp,
) -> Option<AppPage> {
    let inferred_all;
    let (assessment, named_by) = if inferred_app {
        inferred_all = inferred::applications_in(index, namespace);
        let i = inferred_all.iter().find(|i| *i.app.name == *name)?;
        (inferred::assess(index, i, now), Some(i.named_by))
    } else {
        (app::assess(index, index.app(namespace, name)?, now), None)
    };
    let out = AppOutput::new(&assessment, named_by, 0);
    let href = app_href(namespace, name, inferred_app);
    let listed: Vec<_> = assessment
        .ranked
        .iter()
        .filter(|r| filter.severity.is_none_or(|s| r.finding.severity == s) && (!filter.kev || r.finding.kev))
        .collect();
    let query = match (&filter.severity, filter.kev) {
        (Some(s), _) => format!("severity={}&", s.as_str().to_ascii_lowercase()),
        (None, true) => "kev=1&".into(),
        _ => String::new(),
    };
    let pager = Pager::new(page, listed.len(), |n| format!("{href}?{query}page={n}"));
    let findings = listed[pager.range()].iter().map(|r| FindingRow::new(&ranked_finding(r))).collect();
    let components = out
        .images
        .iter()
        .filter_map(|i| {
            let img = ImageRef::parse(&i.image).ok()?;
            let comps = index.image_for(namespace, &img)?.components.clone()?;
            Some(ComponentList {
                image: i.image.clone(),
                total: comps.len(),
                rows: comps
                    .iter()
                    .take(COMPONENTS_SHOWN)
                    .map(|c| {
                        (
                            c.name.to_string(),
                            c.version.as_deref().unwrap_or("-").to_string(),
                            c.purl.as_deref().unwrap_or("-").to_string(),
                            c.licenses.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", "),
                        )
                    })
                    .collect(),
            })
        })
        .collect();
    let trusted = |ns: &str| index.config.trusts_exceptions_from(ns);
    Some(AppPage {
        filter_base: format!("{href}?"),
        name: format!("{namespace}/{name}"),
        inferred: inferred_app,
        named_by: named_by.unwrap_or("").into(),
        owner: out.owner.clone().unwrap_or_else(|| "-".into()),
        criticality: out.criticality,
        data: out.data_classification,
        exposure: out.exposure,
        exposure_reasons: out.exposure_reasons.clone(),
        risk: out.risk_score,
        workloads: out.workloads.clone(),
        counts: out.findings.clone(),
        kev: out.known_exploited,
        suppressed: out.suppressed_findings,
        vex_suppressed: out.suppressed.iter().map(|l| l.text()).collect(),
        filter: filter
            .severity
            .map(|s| format!("{} only", s.as_str()))
            .or_else(|| filter.kev.then(|| "known exploited only".to_string())),
        findings,
        pager,
        violations: out
            .violations
            .iter()
            .map(|v| ViolationRow {
                effect: match v.effect() {
                    Effect::Deny => "DENY",
                    Effect::Warn => "WARN",
                    Effect::Audit => "AUDIT",
                    Effect::Excepted => "EXCEPTED",
                },
                policy: format!("{}/{}", v.policy, v.rule),
                workload: v.workload.to_string(),
                message: v.message.clone(),
            })
            .collect(),
        image_count: out.images.len(),
        sbom_covered: out.images.iter().filter(|i| i.sbom).count(),
        scan_covered: out.images.iter().filter(|i| i.scanned).count(),
        images: out
            .images
            .iter()
            .map(|i| ImageRow {
                href: format!("/search?q={}", enc(&format!("image:{}", i.image))),
                image: i.image.clone(),
                workloads: i.workloads,
                scanned: match (&i.scanned, &i.last_scanned) {
                    (true, Some(t)) => t.clone(),
                    (true, None) => "yes".into(),
                    (false, _) => "never".into(),
                },
                sbom: i.sbom,
                critical: i.critical,
                high: i.high,
            })
            .collect(),
        components,
        // The application's own namespace's exceptions, and the trusted ones that may
        // concern this application: never another team's, which name its unpatched risk.
        exceptions: model
            .exceptions
            .iter()
            .filter(|e| {
                e.namespace == namespace
                    || trusted(&e.namespace)
                        && index.exceptions().any(|x| {
                            *x.namespace == *e.namespace
                                && *x.name == *e.name
                                && x.compiled.as_ref().is_ok_and(|c| c.may_cover_app(namespace, name))
                        })
            })
            .map(exception_row)
            .collect(),
        href,
        chrome,
    })
}
