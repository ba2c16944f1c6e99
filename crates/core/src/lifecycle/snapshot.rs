//! What the index says now, per subject and finding identity: the input of
//! [`Tracker::observe`](super::Tracker::observe).

use std::collections::BTreeMap;

use jiff::Timestamp;
use rustc_hash::FxHashMap;

use super::identity::{FindingKey, SubjectRef};
use super::record::Facts;
use crate::assessment::app::AppScope;
use crate::assessment::asset::{asset_context, asset_postures};
use crate::index::PostureIndex;
use crate::ingest::Kev;
use crate::model::{Finding, FindingKind};
use crate::risk::{self, Reach, RiskContext};

/// One finding identity of a subject as observed now (several occurrences merged: the
/// worst severity and risk, KEV if any says so, hidden only when all are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    pub facts: Facts,
    /// The earliest time a report says a scanner saw it (`Finding::first_seen`), if any.
    pub reported: Option<Timestamp>,
}

/// A subject's findings now.
#[derive(Clone, Debug, Default)]
pub struct SubjectSnapshot {
    /// True when every image the subject runs has a vulnerability scan. While an image
    /// waits for its scan (a new version, a report deleted and not yet rewritten), nothing of
    /// the subject is marked fixed: absence of evidence is not a fix.
    pub complete: bool,
    pub findings: FxHashMap<FindingKey, Observation>,
}

/// Every tracked subject's findings now, by subject.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub subjects: BTreeMap<SubjectRef, SubjectSnapshot>,
}

impl Snapshot {
    /// Finding identities in all subjects together.
    pub fn len(&self) -> usize {
        self.subjects.values().map(|s| s.findings.len()).sum()
    }

    /// True when no subject has a finding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The index's applications and declared (not discovered) assets, each with its findings at
/// `now`: the same findings `assess` ranks (an application's) and an Asset's status counts.
pub fn snapshot(index: &PostureIndex, now: Timestamp) -> Snapshot {
    let mut out = Snapshot::default();
    for app in index.apps() {
        let scope = AppScope::new(index, app);
        let complete = scope
            .uses
            .iter()
            .filter(|(_, u)| u.image.is_some())
            .all(|(key, _)| index.posture_for(&app.namespace, key).is_some_and(|p| p.scanned));
        let mut s = SubjectSnapshot { complete, findings: FxHashMap::default() };
        scope.for_each_finding(index, now, |u| add(&mut s, u.finding, u.ctx, u.hidden, index.kev()));
        out.subjects.insert(SubjectRef::app(&app.namespace, &app.name), s);
    }
    // Discovered image Assets mirror running images that applications already cover.
    for asset in index.assets().filter(|a| !a.discovered) {
        let ctx = asset_context(index, asset, now);
        let (postures, _) = asset_postures(index, asset);
        let complete = !postures.is_empty() && postures.iter().all(|p| p.scanned);
        let mut s = SubjectSnapshot { complete, findings: FxHashMap::default() };
        for f in postures.iter().flat_map(|p| p.findings.iter()) {
            add(&mut s, f, &ctx, f.suppressed(), index.kev());
        }
        out.subjects.insert(SubjectRef::asset(&asset.namespace, &asset.name), s);
    }
    out
}

fn add(s: &mut SubjectSnapshot, f: &Finding, ctx: &RiskContext, hidden: bool, kev: &Kev) {
    let facts = Facts {
        severity: f.severity,
        known_exploited: f.kev,
        kev_due: kev_due(f, kev),
        // Hidden findings score 0 (risk::points); their risk when visible is what matters.
        risk: if hidden { 0 } else { risk::points(f, ctx) },
        internet: ctx.reach == Reach::Internet,
        hidden,
    };
    let seen = Observation { facts, reported: f.first_seen };
    s.findings
        .entry(super::FindingKey::of(f))
        .and_modify(|o| {
            o.facts.severity = o.facts.severity.max(facts.severity);
            o.facts.known_exploited |= facts.known_exploited;
            o.facts.kev_due = min_some(o.facts.kev_due, facts.kev_due);
            o.facts.risk = o.facts.risk.max(facts.risk);
            o.facts.internet |= facts.internet;
            o.facts.hidden &= facts.hidden;
            o.reported = min_some(o.reported, seen.reported);
        })
        .or_insert(seen);
}

/// The earliest KEV catalog `dueDate` among the finding's ids.
pub fn kev_due(f: &Finding, kev: &Kev) -> Option<jiff::civil::Date> {
    if f.kind != FindingKind::Vulnerability || !f.kev {
        return None;
    }
    f.ids().filter_map(|id| kev.get(id)).filter_map(|e| e.due_date).min()
}

fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
