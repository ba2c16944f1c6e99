//! The lifecycle diff: the records known so far + what the index says now + the time →
//! changes (new, fixed, reopened, changed), applied to the records and queued for the store.
//!
//! Memory is authoritative for first-seen dates: a change is applied at once and stays
//! queued ([`Tracker::pending`]) until the store confirms it ([`Tracker::committed`]), so
//! a database that is down for an hour loses nothing and, when it returns, receives the
//! first-seen and fixed dates as they happened, not as of its return.

use std::sync::Arc;

use jiff::Timestamp;
use rustc_hash::FxHashMap;

use super::identity::{FindingKey, SubjectRef};
use super::ledger::{Ledger, SubjectRecords};
use super::record::Record;
use super::snapshot::Snapshot;
use crate::guardrail::RemediationPolicy;

/// What happened to a finding identity.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    /// Seen for the first time.
    New,
    /// Gone from every image and object of the subject (which were all scanned).
    Fixed,
    /// Seen again after it was fixed.
    Reopened,
    /// Still open; its severity, KEV state, exposure, hidden state or risk changed.
    Changed,
}

impl Event {
    /// `new`, `fixed`, `reopened`, `changed` (the store's column value).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::New => "new",
            Event::Fixed => "fixed",
            Event::Reopened => "reopened",
            Event::Changed => "changed",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    pub fn parse(text: &str) -> Option<Event> {
        [Event::New, Event::Fixed, Event::Reopened, Event::Changed].into_iter().find(|e| e.as_str() == text)
    }
}

/// One recorded change: the event and the record as it stands after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub subject: SubjectRef,
    pub key: FindingKey,
    pub event: Event,
    pub at: Timestamp,
    pub record: Record,
}

/// Counts of one observation's changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub new: usize,
    pub fixed: usize,
    pub reopened: usize,
    pub changed: usize,
}

impl Tally {
    /// Changes of any kind.
    pub fn total(&self) -> usize {
        self.new + self.fixed + self.reopened + self.changed
    }
}

/// Every lifecycle of one cluster, and the changes the store has not confirmed yet.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    subjects: FxHashMap<SubjectRef, Arc<SubjectRecords>>,
    pending: Vec<Change>,
    observed: Option<Timestamp>,
}

impl Tracker {
    /// An empty tracker (no store, or an empty one).
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A tracker holding the records a store loaded (nothing pending).
    pub fn from_records(records: impl IntoIterator<Item = (SubjectRef, FindingKey, Record)>) -> Tracker {
        let mut subjects: FxHashMap<SubjectRef, SubjectRecords> = FxHashMap::default();
        for (s, k, r) in records {
            subjects.entry(s).or_default().insert(k, r);
        }
        Tracker {
            subjects: subjects.into_iter().map(|(s, r)| (s, Arc::new(r))).collect(),
            pending: Vec::new(),
            observed: None,
        }
    }

    /// Compares the records with what the index says now and records the differences at
    /// `now`:
    /// - an identity never seen is **new**, first seen at the earliest of `now` and the
    ///   time its report says a scanner saw it (never later than `now`);
    /// - a fixed one seen again is **reopened** (its first-seen date stays);
    /// - an open one the subject no longer has is **fixed**, only when the subject's
    ///   images are all scanned ([`SubjectSnapshot::complete`](super::SubjectSnapshot));
    /// - an open one whose facts moved ([`Facts::differs`](super::Facts::differs)) is **changed**.
    ///
    /// Subjects absent from the snapshot (deleted applications) are left as they are.
    pub fn observe(&mut self, snap: &Snapshot, now: Timestamp) -> Tally {
        let mut tally = Tally::default();
        let empty = Arc::new(SubjectRecords::default());
        for (subject, seen) in &snap.subjects {
            let current = self.subjects.get(subject).unwrap_or(&empty);
            let mut changes: Vec<(FindingKey, Event, Record)> = Vec::new();
            for (key, o) in &seen.findings {
                match current.get(key) {
                    None => {
                        let first = o.reported.map_or(now, |r| r.min(now));
                        let record = Record {
                            first_seen: first,
                            opened: first,
                            fixed: None,
                            cycle: 1,
                            revision: 1,
                            facts: o.facts,
                        };
                        changes.push((key.clone(), Event::New, record));
                    }
                    Some(r) if !r.is_open() => {
                        let record = Record {
                            opened: now,
                            fixed: None,
                            cycle: r.cycle + 1,
                            revision: r.revision + 1,
                            facts: o.facts,
                            ..*r
                        };
                        changes.push((key.clone(), Event::Reopened, record));
                    }
                    Some(r) if r.facts.differs(&o.facts) => {
                        let record = Record { revision: r.revision + 1, facts: o.facts, ..*r };
                        changes.push((key.clone(), Event::Changed, record));
                    }
                    Some(_) => {}
                }
            }
            if seen.complete {
                for (key, r) in current.iter() {
                    if r.is_open() && !seen.findings.contains_key(key) {
                        let record = Record { fixed: Some(now), revision: r.revision + 1, ..*r };
                        changes.push((key.clone(), Event::Fixed, record));
                    }
                }
            }
            if changes.is_empty() {
                continue;
            }
            // Deterministic order: the store and the tests see the same sequence every run.
            changes.sort_by(|a, b| a.0.cmp(&b.0));
            let records = Arc::make_mut(self.subjects.entry(subject.clone()).or_default());
            for (key, event, record) in changes {
                match event {
                    Event::New => tally.new += 1,
                    Event::Fixed => tally.fixed += 1,
                    Event::Reopened => tally.reopened += 1,
                    Event::Changed => tally.changed += 1,
                }
                records.insert(key.clone(), record);
                self.pending.push(Change { subject: subject.clone(), key, event, at: now, record });
            }
        }
        self.observed = Some(now);
        tally
    }

    /// Changes not yet confirmed by the store, oldest first.
    pub fn pending(&self) -> &[Change] {
        &self.pending
    }

    /// The store wrote the first `n` pending changes.
    pub fn committed(&mut self, n: usize) {
        self.pending.drain(..n.min(self.pending.len()));
    }

    /// Forgets lifecycles fixed before `cutoff` (retention; the store deletes the same).
    /// Returns how many were forgotten.
    pub fn forget_fixed_before(&mut self, cutoff: Timestamp) -> usize {
        let mut n = 0;
        for records in self.subjects.values_mut() {
            if records.values().any(|r| r.fixed.is_some_and(|f| f < cutoff)) {
                let records = Arc::make_mut(records);
                let before = records.len();
                records.retain(|_, r| r.fixed.is_none_or(|f| f >= cutoff));
                n += before - records.len();
            }
        }
        self.subjects.retain(|_, r| !r.is_empty());
        n
    }

    /// Every record, by subject.
    pub fn records(&self) -> impl Iterator<Item = (&SubjectRef, &FindingKey, &Record)> {
        self.subjects.iter().flat_map(|(s, rs)| rs.iter().map(move |(k, r)| (s, k, r)))
    }

    /// The record of one finding identity in one subject.
    pub fn get(&self, subject: &SubjectRef, key: &FindingKey) -> Option<&Record> {
        self.subjects.get(subject).and_then(|rs| rs.get(key))
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.subjects.values().map(|r| r.len()).sum()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When [`observe`](Self::observe) last ran.
    pub fn observed(&self) -> Option<Timestamp> {
        self.observed
    }

    /// A read-only view for evaluation and status, sharing the records (cheap: one
    /// reference per subject; the next change copies only the subjects it touches).
    pub fn ledger(&self, policy: RemediationPolicy) -> Ledger {
        Ledger::new(policy, self.subjects.clone(), self.observed)
    }
}
