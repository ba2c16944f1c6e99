//! VEX statements applied to findings, whichever scanner reported them: the one home of
//! "does this VEX document decide this finding".
//!
//! A statement decides a vulnerability finding when one of the finding's ids (its id or an
//! alias: CVE, GHSA, …, compared case-insensitively) is one of the statement's and one of
//! its products covers the finding's artifact and package ([`product`]). Then:
//!
//! - **Within one document** the latest statement wins (OpenVEX spec §"Statement": later
//!   statements about the same product supersede earlier ones; on equal times the one
//!   written later in the document).
//! - **Across documents** the latest statement wins too, by its time clamped to when Stance
//!   observed the document (a future-dated document cannot outrank the others for good).
//!   On equal (or unknown) times a statement that keeps the finding open beats one that
//!   suppresses it: a gate that is unsure does not hide. Either way every document whose
//!   latest statement disagrees about suppression is listed on the finding
//!   ([`VexSource::conflicts`]), and [`VexSet::conflicts`] names such disagreements as
//!   warnings when a document is applied: conflicts are reported, never silently resolved.
//! - A state the scanner itself reported (Trivy's VEX, a CycloneDX BOM's own `analysis`)
//!   counts as the oldest statement: a document replaces it, and a disagreement is listed.
//!
//! Only documents from trusted channels are ever put in a [`VexSet`] (the index drops a
//! tenant's, with a warning: `index::evidence`). Suppressed findings stay in every output,
//! with the statement that suppressed them; they stop counting for risk and violations
//! through [`Finding::suppressed`].

mod product;

pub(crate) use product::is_listed;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use rustc_hash::FxHashMap;

use crate::model::{Finding, FindingKind, Vex, VexConflict, VexDocument, VexSource, VexStatement};

/// The trusted VEX documents the index holds, indexed by vulnerability id.
#[derive(Clone, Debug, Default)]
pub struct VexSet {
    docs: BTreeMap<Arc<str>, Arc<VexDocument>>,
    /// Upper-cased vulnerability id → (document key, statement index).
    by_id: FxHashMap<String, Vec<(Arc<str>, u32)>>,
}

/// How many disagreements [`VexSet::conflicts`] names one by one before summing up.
const MAX_CONFLICT_LINES: usize = 10;

impl VexSet {
    /// True when no document is held.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// How many documents are held.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Adds (or replaces) the document stored under `key` (the report id).
    pub fn insert(&mut self, key: &str, doc: Arc<VexDocument>) {
        self.remove(key);
        let key: Arc<str> = Arc::from(key);
        for (i, s) in doc.statements.iter().enumerate() {
            for id in &s.vulnerabilities {
                let entry = self.by_id.entry(id.to_ascii_uppercase()).or_default();
                if entry.last() != Some(&(key.clone(), i as u32)) {
                    entry.push((key.clone(), i as u32));
                }
            }
        }
        self.docs.insert(key, doc);
    }

    /// Removes the document stored under `key`; false when there was none.
    pub fn remove(&mut self, key: &str) -> bool {
        let Some(doc) = self.docs.remove(key) else { return false };
        for id in doc.statements.iter().flat_map(|s| &s.vulnerabilities) {
            let upper = id.to_ascii_uppercase();
            if let Some(entry) = self.by_id.get_mut(&upper) {
                entry.retain(|(k, _)| **k != *key);
                if entry.is_empty() {
                    self.by_id.remove(&upper);
                }
            }
        }
        true
    }

    /// Sets the VEX state of every finding some statement decides (copying only those).
    pub fn apply(&self, findings: &mut [Arc<Finding>]) {
        if self.is_empty() {
            return;
        }
        for f in findings {
            if let Some(vex) = self.decide(f)
                && f.vex.as_ref() != Some(&vex)
            {
                Arc::make_mut(f).vex = Some(vex);
            }
        }
    }

    /// The VEX state the held documents give `f`, or `None` when no statement decides it.
    pub fn decide(&self, f: &Finding) -> Option<Vex> {
        if f.kind != FindingKind::Vulnerability {
            return None;
        }
        // Each document's latest matching statement.
        let mut latest: BTreeMap<&Arc<str>, (Option<Timestamp>, u32)> = BTreeMap::new();
        for id in f.ids() {
            for (key, i) in self.by_id.get(&id.to_ascii_uppercase()).into_iter().flatten() {
                let s = &self.docs[key].statements[*i as usize];
                if !s.products.iter().any(|p| product::matches(p, &f.artifact, f.package.as_ref())) {
                    continue;
                }
                let candidate = (s.timestamp, *i);
                let slot = latest.entry(key).or_insert(candidate);
                if candidate > *slot {
                    *slot = candidate;
                }
            }
        }
        // The latest across documents; on equal times, one that keeps the finding open.
        let (winner_key, (_, wi)) =
            latest.iter().max_by_key(|(k, (t, i))| (*t, !self.docs[**k].statements[*i as usize].state.suppresses()))?;
        let doc = &self.docs[*winner_key];
        let s = &doc.statements[*wi as usize];
        let mut conflicts: Vec<VexConflict> = latest
            .iter()
            .filter(|(k, _)| *k != winner_key)
            .map(|(k, (_, i))| (&self.docs[*k], &self.docs[*k].statements[*i as usize]))
            .filter(|(_, o)| o.state.suppresses() != s.state.suppresses())
            .map(|(d, o)| conflict(d, o))
            .collect();
        if let Some(own) = f.vex.as_ref().filter(|v| v.source.is_none())
            && own.state.suppresses() != s.state.suppresses()
        {
            let origin = f.sources.first().map_or_else(|| Arc::from(""), |s| s.origin.clone());
            conflicts.push(VexConflict {
                document: Arc::from("scanner report"),
                origin,
                statement: own.justification.clone().unwrap_or_else(|| Arc::from("")),
                state: own.state,
                timestamp: None,
            });
        }
        Some(Vex {
            state: s.state,
            justification: s.justification.clone(),
            source: Some(Arc::new(VexSource {
                format: doc.format,
                document: doc.id.clone(),
                origin: doc.origin.clone(),
                statement: s.path.clone(),
                author: doc.author.clone(),
                timestamp: s.timestamp,
                impact: s.impact.clone(),
                action: s.action.clone(),
                conflicts,
            })),
        })
    }

    /// The statements of `doc` that disagree about suppression with a statement of another
    /// held document on the same vulnerability and product, one message each (the first
    /// [`MAX_CONFLICT_LINES`], then a count), for warnings when `doc` is applied.
    pub fn conflicts(&self, key: &str, doc: &VexDocument) -> Vec<String> {
        let mut lines = Vec::new();
        let mut more = 0usize;
        for s in &doc.statements {
            let mut seen = Vec::new();
            for id in &s.vulnerabilities {
                for (k, i) in self.by_id.get(&id.to_ascii_uppercase()).into_iter().flatten() {
                    if **k == *key || seen.contains(&(k, i)) {
                        continue;
                    }
                    seen.push((k, i));
                    let other_doc = &self.docs[k];
                    let o = &other_doc.statements[*i as usize];
                    if o.state.suppresses() == s.state.suppresses() || !same_product(s, o) {
                        continue;
                    }
                    if lines.len() == MAX_CONFLICT_LINES {
                        more += 1;
                        continue;
                    }
                    lines.push(format!(
                        "VEX conflict: {} says {} is {} ({}), but {} ({}, {}) says {}; the later statement decides \
                         ({} vs {}) and affected findings list both",
                        s.path,
                        s.vulnerabilities.first().map_or("", |v| v),
                        state_name(s),
                        time_text(s.timestamp),
                        other_doc.id,
                        other_doc.origin,
                        o.path,
                        state_name(o),
                        time_text(s.timestamp),
                        time_text(o.timestamp),
                    ));
                }
            }
        }
        if more > 0 {
            lines.push(format!("VEX conflict: {more} more statement(s) disagree with other documents"));
        }
        lines
    }
}

/// A VEX-suppressed finding in one line, as every output names it:
/// `CVE-… in pkg 1.0 on image:…: not_affected (justification) by <document> <statement>
/// [<origin>]`, plus how many statements disagree. `None` when VEX does not suppress it.
pub fn suppression_line(f: &Finding) -> Option<String> {
    let vex = f.vex.as_ref().filter(|v| v.state.suppresses())?;
    let pkg = f
        .package
        .as_ref()
        .map(|p| match &p.installed_version {
            Some(v) => format!(" in {} {v}", p.name),
            None => format!(" in {}", p.name),
        })
        .unwrap_or_default();
    let state = serde_json::to_value(vex.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let why = vex.justification.as_deref().map(|j| format!(" ({j})")).unwrap_or_default();
    let by = match &vex.source {
        Some(s) if s.conflicts.is_empty() => format!(" by {} {} [{}]", s.document, s.statement, s.origin),
        Some(s) => {
            format!(" by {} {} [{}]; {} conflicting statement(s)", s.document, s.statement, s.origin, s.conflicts.len())
        }
        None => " by the scanner's report".to_string(),
    };
    Some(format!("{}{pkg} on {}: {state}{why}{by}", f.id, f.artifact))
}

fn conflict(d: &VexDocument, s: &VexStatement) -> VexConflict {
    VexConflict {
        document: d.id.clone(),
        origin: d.origin.clone(),
        statement: s.path.clone(),
        state: s.state,
        timestamp: s.timestamp,
    }
}

fn same_product(a: &VexStatement, b: &VexStatement) -> bool {
    a.products.iter().any(|p| b.products.iter().any(|q| p.id == q.id))
}

fn state_name(s: &VexStatement) -> String {
    serde_json::to_value(s.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn time_text(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "no time".to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests;
