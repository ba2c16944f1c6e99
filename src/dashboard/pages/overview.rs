//! The overview: applications by risk, KEV findings, policies, expiring exceptions and stale scans.

use std::collections::BTreeMap;

use askama::Template;
use jiff::{Timestamp, ToSpan};

use super::{Chrome, EXPIRING_DAYS, Pager, STALE_SCAN_DAYS, app_href, enc};
use crate::dashboard::TrendSource;
use crate::dashboard::access::Viewer;
use crate::dashboard::chart;
use crate::output::scan::{AppOutput, ScanOutput};
use stance_core::assessment::status::SeverityCounts;
use stance_core::guardrail::RiskExceptionState;
use stance_core::policy::Effect;

pub struct AppRow {
    pub href: String,
    /// `href?` — the application page with a filter appended.
    pub filter: String,
    pub name: String,
    pub named_by: String,
    pub owner: String,
    pub criticality: &'static str,
    pub exposure: &'static str,
    pub risk: u32,
    pub counts: SeverityCounts,
    pub kev: usize,
    pub compliant: bool,
    pub violations: usize,
}

impl AppRow {
    fn new(a: &AppOutput) -> AppRow {
        let href = app_href(&a.namespace, &a.name, a.inferred);
        AppRow {
            filter: format!("{href}?"),
            href,
            name: format!("{}/{}", a.namespace, a.name),
            named_by: a.named_by.clone().unwrap_or_default(),
            owner: a.owner.clone().unwrap_or_else(|| "-".into()),
            criticality: a.criticality,
            exposure: a.exposure,
            risk: a.risk_score,
            counts: a.findings.clone(),
            kev: a.known_exploited,
            compliant: a.compliant,
            violations: a.violations.iter().filter(|v| v.is_open()).count(),
        }
    }
}

pub struct KevRow {
    pub href: String,
    pub filter: String,
    pub name: String,
    pub count: usize,
}
pub struct PolicyRow {
    pub anchor: String,
    pub name: String,
    pub deny: usize,
    pub warn: usize,
    pub audit: usize,
    pub excepted: usize,
}
pub struct ExceptionRow {
    pub anchor: String,
    pub name: String,
    pub state: String,
    pub expires: String,
    pub ticket: Option<String>,
}
pub struct StaleRow {
    pub image: String,
    pub href: String,
    pub app: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct Overview {
    pub chrome: Chrome,
    pub chart: String,
    pub counts: SeverityCounts,
    pub app_total: usize,
    pub inferred_total: usize,
    pub not_running: usize,
    pub trend: Option<String>,
    pub trend_note: &'static str,
    pub apps: Vec<AppRow>,
    pub pager: Pager,
    pub inferred: Vec<AppRow>,
    pub inferred_pager: Pager,
    pub kev: Vec<KevRow>,
    pub policies: Vec<PolicyRow>,
    pub expiring_days: i64,
    pub expiring: Vec<ExceptionRow>,
    pub stale_days: i64,
    pub stale: Vec<StaleRow>,
    pub warnings: usize,
}

fn add(total: &mut SeverityCounts, c: &SeverityCounts) {
    total.critical += c.critical;
    total.high += c.high;
    total.medium += c.medium;
    total.low += c.low;
    total.unknown += c.unknown;
    total.total += c.total;
}

/// The overview: applications by risk, counts, KEV on internet-facing apps, violations by
/// policy and effect, exceptions expiring soon, stale images, trends.
pub fn overview(
    m: &ScanOutput,
    viewer: &Viewer,
    chrome: Chrome,
    page: usize,
    inferred_page: usize,
    trends: Option<&dyn TrendSource>,
    now: Timestamp,
) -> Overview {
    let apps: Vec<&AppOutput> = m.apps.iter().filter(|a| viewer.sees(&a.namespace)).collect();
    let inferred: Vec<&AppOutput> = m.inferred_apps.iter().filter(|a| viewer.sees(&a.namespace)).collect();
    let mut counts = SeverityCounts::default();
    for a in apps.iter().chain(&inferred) {
        add(&mut counts, &a.findings);
    }
    let pager = Pager::new(page, apps.len(), |n| format!("/?page={n}&ipage={inferred_page}"));
    let inferred_pager = Pager::new(inferred_page, inferred.len(), |n| format!("/?page={page}&ipage={n}"));
    let kev = apps
        .iter()
        .chain(&inferred)
        .filter(|a| a.exposure == "internet" && a.known_exploited > 0)
        .map(|a| {
            let r = AppRow::new(a);
            KevRow { href: r.href, filter: r.filter, name: r.name, count: a.known_exploited }
        })
        .collect();
    let mut by_policy: BTreeMap<&str, PolicyRow> = BTreeMap::new();
    for v in apps.iter().chain(&inferred).flat_map(|a| &a.violations) {
        let row = by_policy.entry(&v.policy).or_insert_with(|| PolicyRow {
            anchor: format!("policy-{}", enc(&v.policy)),
            name: v.policy.to_string(),
            deny: 0,
            warn: 0,
            audit: 0,
            excepted: 0,
        });
        match v.effect() {
            Effect::Deny => row.deny += 1,
            Effect::Warn => row.warn += 1,
            Effect::Audit => row.audit += 1,
            Effect::Excepted => row.excepted += 1,
        }
    }
    let soon = now.checked_add(EXPIRING_DAYS.days()).unwrap_or(now);
    let expiring = m
        .exceptions
        .iter()
        .filter(|e| viewer.sees(&e.namespace) && e.state == RiskExceptionState::Active)
        .filter(|e| e.expires.as_deref().and_then(|x| x.parse::<Timestamp>().ok()).is_some_and(|t| t <= soon))
        .map(exception_row)
        .collect();
    let stale_before = now.checked_sub(STALE_SCAN_DAYS.days()).unwrap_or(now);
    let mut stale = Vec::new();
    for a in apps.iter().chain(&inferred) {
        for i in &a.images {
            let last = i.last_scanned.as_deref().and_then(|t| t.parse::<Timestamp>().ok());
            let why = match (i.scanned, last) {
                (false, _) => "never scanned: no scan report names this image".to_string(),
                (true, Some(t)) if t < stale_before => {
                    format!("last scanned {} days ago ({t})", (now.as_second() - t.as_second()) / 86_400)
                }
                _ => continue,
            };
            stale.push(StaleRow {
                image: i.image.clone(),
                href: app_href(&a.namespace, &a.name, a.inferred),
                app: format!("{}/{}", a.namespace, a.name),
                why,
            });
        }
    }
    let points = trends.map(|t| t.trend(None, viewer)).unwrap_or_default();
    let trend = chart::trend_lines(&points);
    Overview {
        chart: chart::severity_bars(&counts),
        counts,
        app_total: apps.len() + inferred.len(),
        inferred_total: inferred.len(),
        not_running: if viewer.is_all() { m.not_running.len() } else { 0 },
        trend_note: if trends.is_none() {
            "Trends appear once a history store is configured."
        } else {
            "Not enough history recorded yet."
        },
        trend,
        apps: apps[pager.range()].iter().map(|a| AppRow::new(a)).collect(),
        pager,
        inferred: inferred[inferred_pager.range()].iter().map(|a| AppRow::new(a)).collect(),
        inferred_pager,
        kev,
        policies: by_policy.into_values().collect(),
        expiring_days: EXPIRING_DAYS,
        expiring,
        stale_days: STALE_SCAN_DAYS,
        stale,
        warnings: m.summary.warnings,
        chrome,
    }
}

pub(super) fn exception_row(e: &crate::output::scan::ExceptionOutput) -> ExceptionRow {
    ExceptionRow {
        anchor: format!("exception-{}-{}", enc(&e.namespace), enc(&e.name)),
        name: format!("{}/{}", e.namespace, e.name),
        state: format!("{:?}", e.state),
        expires: e.expires.clone().unwrap_or_default(),
        ticket: e.ticket.clone(),
    }
}
