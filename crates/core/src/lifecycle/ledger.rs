//! The read-only view of the lifecycles that evaluation, status and metrics use: the
//! records (shared with the tracker) and the cluster-wide remediation policy.
//!
//! The index holds one ([`PostureIndex::set_ledger`]); the operator's history task replaces
//! it after every observation. Without a history store the edge builds one from a fresh
//! tracker, so first seen is then the time the report says a scanner saw the finding.

use std::sync::Arc;

use jiff::Timestamp;
use rustc_hash::FxHashMap;

use super::identity::{FindingKey, SubjectRef};
use super::record::Record;
use super::snapshot::kev_due;
use crate::guardrail::RemediationPolicy;
use crate::guardrail::remediation::DueInput;
#[cfg(doc)]
use crate::index::PostureIndex;
use crate::ingest::Kev;
use crate::model::{App, Finding};

/// One subject's records, by finding identity.
pub type SubjectRecords = FxHashMap<FindingKey, Record>;

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// The cluster-wide remediation policy (overdue counts in status, metrics, history).
    pub policy: RemediationPolicy,
    subjects: FxHashMap<SubjectRef, Arc<SubjectRecords>>,
    /// When the tracker last observed the index.
    pub observed: Option<Timestamp>,
}

impl Ledger {
    /// A ledger over shared records.
    pub fn new(
        policy: RemediationPolicy,
        subjects: FxHashMap<SubjectRef, Arc<SubjectRecords>>,
        observed: Option<Timestamp>,
    ) -> Ledger {
        Ledger { policy, subjects, observed }
    }

    /// A subject's records.
    pub fn subject(&self, s: &SubjectRef) -> Option<&SubjectRecords> {
        self.subjects.get(s).map(|r| &**r)
    }

    /// Every subject with records.
    pub fn subjects(&self) -> impl Iterator<Item = (&SubjectRef, &SubjectRecords)> {
        self.subjects.iter().map(|(s, r)| (s, &**r))
    }

    /// The record of one identity in one subject.
    pub fn record(&self, s: &SubjectRef, key: &FindingKey) -> Option<&Record> {
        self.subjects.get(s).and_then(|r| r.get(key))
    }
}

/// When a finding was first seen, as evaluation asks it for one workload: the earliest
/// first-seen date any of the workload's applications has recorded for the finding's
/// identity, else the time the report says a scanner saw it. `olderThanDays` and the
/// `remediation` rule count from here.
#[derive(Clone, Debug)]
pub struct Dates<'a> {
    ledger: Option<&'a Ledger>,
    subjects: Vec<SubjectRef>,
    kev: &'a Kev,
}

impl<'a> Dates<'a> {
    /// The dates of findings of a workload belonging to `apps`.
    pub fn new<'b>(
        ledger: Option<&'a Ledger>,
        apps: impl IntoIterator<Item = &'b Arc<App>>,
        kev: &'a Kev,
    ) -> Dates<'a> {
        let subjects = match ledger {
            Some(_) => apps.into_iter().map(|a| SubjectRef::app(&a.namespace, &a.name)).collect(),
            None => Vec::new(),
        };
        Dates { ledger, subjects, kev }
    }

    /// See the type documentation. `None` when nothing says when it was first seen.
    pub fn first_seen(&self, f: &Finding) -> Option<Timestamp> {
        let recorded = match self.ledger {
            Some(l) if !self.subjects.is_empty() => {
                let key = FindingKey::of(f);
                self.subjects.iter().filter_map(|s| l.record(s, &key)).map(|r| r.first_seen).min()
            }
            _ => None,
        };
        recorded.or(f.first_seen)
    }

    /// The finding's due date under `policy` for a workload with this internet reach, or
    /// `None` (no deadline, or no first-seen date: an unknown start is no start).
    pub fn due(&self, policy: &RemediationPolicy, f: &Finding, internet: bool) -> Option<(Timestamp, Timestamp)> {
        let first_seen = self.first_seen(f)?;
        let due = policy.due(&DueInput {
            first_seen,
            severity: f.severity,
            known_exploited: f.kev,
            kev_due: kev_due(f, self.kev),
            internet,
        })?;
        Some((first_seen, due))
    }
}
