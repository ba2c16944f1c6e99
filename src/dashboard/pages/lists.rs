//! Search (blast radius), the policy, exception and not-running lists, and message pages.

use std::collections::BTreeMap;

use askama::Template;
use jiff::Timestamp;

use super::overview::exception_row;
use super::{Chrome, Pager, enc};
use crate::dashboard::access::Viewer;
use crate::output::scan::ScanOutput;
use stance_core::blast_radius::{self, BlastRadius, Hit, Query};
use stance_core::index::PostureIndex;
use stance_core::policy::Effect;

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
