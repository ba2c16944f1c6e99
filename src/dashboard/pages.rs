//! The dashboard's pages: plain functions from the posture model (and, for an
//! application's findings and for searches, the index) and the viewer to HTML. Every value
//! goes through an askama template, which HTML-escapes it; only the SVG charts, built from
//! numbers in [`super::chart`], are inserted as markup.

use std::collections::BTreeMap;

use askama::Template;
use jiff::{Timestamp, ToSpan};

use super::TrendSource;
use super::access::Viewer;
use super::chart;
use crate::output::scan::{AppOutput, ScanOutput};
use stance_core::assessment::app::{self, ranked_finding};
use stance_core::assessment::inferred;
use stance_core::assessment::status::{RankedFinding, SeverityCounts};
use stance_core::blast_radius::{self, BlastRadius, Hit, Query};
use stance_core::guardrail::RiskExceptionState;
use stance_core::index::PostureIndex;
use stance_core::model::{ImageRef, Severity};
use stance_core::policy::Effect;

/// Rows per page of every paginated list.
pub const PAGE_SIZE: usize = 50;
/// Exceptions expiring within this many days are shown on the overview.
pub const EXPIRING_DAYS: i64 = 14;
/// Images whose last scan is older than this many days are shown as stale.
pub const STALE_SCAN_DAYS: i64 = 7;
/// Components listed per image on the application page.
const COMPONENTS_SHOWN: usize = 200;

/// What every page shows around its content.
pub struct Chrome {
    pub title: String,
    pub user: Option<String>,
    /// `all namespaces` or `N namespaces`.
    pub scope: String,
    pub query: String,
    pub now: String,
}

impl Chrome {
    pub fn new(title: &str, user: Option<&str>, viewer: &Viewer, now: Timestamp) -> Chrome {
        let scope = match viewer {
            Viewer::All => "all namespaces".to_string(),
            Viewer::Namespaces(s) => format!("{} namespaces", s.len()),
        };
        Chrome {
            title: title.into(),
            user: user.map(str::to_string),
            scope,
            query: String::new(),
            now: now.to_string(),
        }
    }
}

/// Percent-encodes a path segment or query value (everything but RFC 3986 unreserved).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of an application: `/apps/ns/name` or `/inferred/ns/name`.
pub fn app_href(namespace: &str, name: &str, inferred: bool) -> String {
    format!("/{}/{}/{}", if inferred { "inferred" } else { "apps" }, enc(namespace), enc(name))
}

/// A page position (1-based) and the links around it.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Pages `total` rows; `link(n)` is the URL of page `n`.
    pub fn new(page: usize, total: usize, link: impl Fn(usize) -> String) -> Pager {
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }

    fn range(&self) -> std::ops::Range<usize> {
        let start = (self.page - 1) * PAGE_SIZE;
        start..(start + PAGE_SIZE).min(self.total)
    }
}

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

fn exception_row(e: &crate::output::scan::ExceptionOutput) -> ExceptionRow {
    ExceptionRow {
        anchor: format!("exception-{}-{}", enc(&e.namespace), enc(&e.name)),
        name: format!("{}/{}", e.namespace, e.name),
        state: format!("{:?}", e.state),
        expires: e.expires.clone().unwrap_or_default(),
        ticket: e.ticket.clone(),
    }
}

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
        exceptions: model
            .exceptions
            .iter()
            .filter(|e| e.namespace == namespace || trusted(&e.namespace))
            .map(exception_row)
            .collect(),
        href,
        chrome,
    })
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub heading: String,
    pub error: Option<String>,
    pub answer: Option<BlastRadius>,
    pub hits: Vec<Hit>,
    pub all: bool,
    pub pager: Pager,
}

/// The blast radius of `q` (`/search`), or of one finding id (`/findings/ID`, `finding`).
pub fn search_page(
    index: &PostureIndex,
    q: &str,
    finding: bool,
    viewer: &Viewer,
    page: usize,
    mut chrome: Chrome,
    now: Timestamp,
) -> SearchPage {
    let parsed = if finding { Ok(Query::Vulnerability(q.to_string())) } else { Query::parse(q) };
    let heading = if finding { format!("Finding {q}: where it runs") } else { "Where does it run?".to_string() };
    chrome.query = if finding { String::new() } else { q.to_string() };
    let visible = |ns: &str| viewer.sees(ns);
    let scope: blast_radius::Visible<'_> = if viewer.is_all() { None } else { Some(&visible) };
    let (answer, error) = match parsed {
        _ if q.trim().is_empty() => (None, None),
        Ok(query) => (Some(blast_radius::search(index, &query, scope, now)), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let total = answer.as_ref().map_or(0, |a| a.artifacts.len());
    let link_base = if finding { format!("/findings/{}?", enc(q)) } else { format!("/search?q={}&", enc(q)) };
    let pager = Pager::new(page, total, |n| format!("{link_base}page={n}"));
    let hits = answer.as_ref().map(|a| a.artifacts[pager.range()].to_vec()).unwrap_or_default();
    SearchPage { chrome, heading, error, answer, hits, all: viewer.is_all(), pager }
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub heading: String,
    pub note: Option<String>,
    pub empty: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<ListRow>,
}

pub struct ListRow {
    pub anchor: String,
    pub name: String,
    pub href: Option<String>,
    pub cells: Vec<String>,
}

/// Policies with their open violations by effect among the applications the viewer sees.
pub fn policies_page(m: &ScanOutput, viewer: &Viewer, chrome: Chrome) -> ListPage {
    let mut effects: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for v in m.apps.iter().chain(&m.inferred_apps).filter(|a| viewer.sees(&a.namespace)).flat_map(|a| &a.violations) {
        let e = effects.entry(&v.policy).or_default();
        e[match v.effect() {
            Effect::Deny => 0,
            Effect::Warn => 1,
            Effect::Audit => 2,
            Effect::Excepted => 3,
        }] += 1;
    }
    let rows = m
        .policies
        .iter()
        .map(|p| {
            let e = effects.get(p.name.as_str()).copied().unwrap_or_default();
            ListRow {
                anchor: format!("policy-{}", enc(&p.name)),
                name: p.name.clone(),
                href: None,
                cells: vec![
                    p.enforcement.to_string(),
                    p.error.as_ref().map_or("valid".into(), |e| format!("INVALID: {e}")),
                    e[0].to_string(),
                    e[1].to_string(),
                    e[2].to_string(),
                    e[3].to_string(),
                ],
            }
        })
        .collect();
    ListPage {
        chrome,
        heading: "Guardrail policies".into(),
        note: Some("Violations of running workloads in the namespaces you can see, by effect.".into()),
        empty: "No GuardrailPolicy.".into(),
        columns: vec!["Policy", "Enforcement", "Status", "Deny", "Warn", "Audit", "Excepted"],
        rows,
    }
}

/// RiskExceptions in the namespaces the viewer sees, with their state.
pub fn exceptions_page(m: &ScanOutput, viewer: &Viewer, chrome: Chrome) -> ListPage {
    let rows = m
        .exceptions
        .iter()
        .filter(|e| viewer.sees(&e.namespace))
        .map(|e| {
            let r = exception_row(e);
            ListRow {
                anchor: r.anchor,
                name: r.name,
                href: None,
                cells: vec![
                    r.state,
                    r.expires,
                    e.ticket.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                ],
            }
        })
        .collect();
    ListPage {
        chrome,
        heading: "Risk exceptions".into(),
        note: None,
        empty: "No RiskException you can see.".into(),
        columns: vec!["Exception", "State", "Expires", "Ticket", "Reason"],
        rows,
    }
}

/// Artifacts with findings that run nowhere (cluster-wide viewers only: they belong to no
/// namespace).
pub fn not_running_page(m: &ScanOutput, viewer: &Viewer, page: usize, chrome: Chrome) -> ListPage {
    let all = if viewer.is_all() { m.not_running.as_slice() } else { &[] };
    let pager = Pager::new(page, all.len(), |_| String::new());
    let rows = all[pager.range()]
        .iter()
        .map(|n| ListRow {
            anchor: String::new(),
            name: n.artifact.clone(),
            href: Some(format!("/search?q={}", enc(&search_text(&n.artifact)))),
            cells: vec![
                n.asset.clone().unwrap_or_else(|| "-".into()),
                n.risk_score.to_string(),
                format!("{} ({} critical, {} high)", n.findings.total, n.findings.critical, n.findings.high),
                n.top_findings.first().map(|f| format!("{} {}", f.id, f.title)).unwrap_or_default(),
                n.last_scanned.clone().unwrap_or_default(),
            ],
        })
        .collect();
    ListPage {
        chrome,
        heading: "Not running".into(),
        note: Some(format!(
            "Artifacts with findings that no running workload uses (CI scans, repositories, endpoints), by artifact; {} in all.",
            all.len()
        )),
        empty: if viewer.is_all() {
            "Every artifact with findings runs in a workload.".into()
        } else {
            "Only cluster-wide viewers see artifacts that run in no namespace.".into()
        },
        columns: vec!["Artifact", "Asset", "Risk", "Open findings", "Top finding", "Last scanned"],
        rows,
    }
}

/// The search text for an artifact key: images by reference, others by their top finding.
fn search_text(artifact: &str) -> String {
    match artifact.strip_prefix("image:") {
        Some(img) => format!("image:{img}"),
        None => artifact.to_string(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
    pub login: bool,
}

/// Namespaces that hold anything the dashboard shows (for per-namespace access reviews).
pub fn namespaces(index: &PostureIndex) -> Vec<String> {
    let mut set: std::collections::BTreeSet<String> = index.apps().map(|a| a.namespace.to_string()).collect();
    set.extend(index.workloads().map(|w| w.namespace.to_string()));
    set.extend(index.exceptions().map(|e| e.namespace.to_string()));
    set.into_iter().collect()
}
