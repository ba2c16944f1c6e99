//! One lifecycle: what is known about a finding identity in a subject, from first seen to
//! fixed (and back, when it reopens).

use jiff::Timestamp;
use jiff::civil::Date;

use crate::guardrail::remediation::{DueInput, RemediationPolicy};
use crate::model::Severity;

/// What the index says about a finding at one observation: the values kept over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The worst severity any of its occurrences has.
    pub severity: Severity,
    /// On CISA's KEV list.
    pub known_exploited: bool,
    /// The KEV catalog's `dueDate`, when listed.
    pub kev_due: Option<Date>,
    /// The highest contextual risk (0–100) of its occurrences.
    pub risk: u32,
    /// The subject is reachable from the internet.
    pub internet: bool,
    /// Every occurrence is hidden by VEX or an active RiskException: still present (never
    /// "fixed" by an exception), but not counted open or overdue.
    pub hidden: bool,
}

/// How far the risk score must move before the change is recorded: scores follow EPSS,
/// which moves a little every day, and the history keeps the trend, not every wobble.
pub const RISK_STEP: u32 = 5;

impl Facts {
    /// True when `new` differs from `self` enough to record: severity, KEV state or its
    /// due date, exposure, hidden, or the risk by [`RISK_STEP`] or more.
    pub fn differs(&self, new: &Facts) -> bool {
        self.severity != new.severity
            || self.known_exploited != new.known_exploited
            || self.kev_due != new.kev_due
            || self.internet != new.internet
            || self.hidden != new.hidden
            || self.risk.abs_diff(new.risk) >= RISK_STEP
    }
}

/// A finding identity's lifecycle in one subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// First seen in the cluster; never moves later (due dates count from here).
    pub first_seen: Timestamp,
    /// When the current open period began: `first_seen`, or the last reopening.
    pub opened: Timestamp,
    /// When it was fixed (gone from every running image and object of the subject);
    /// `None` while open.
    pub fixed: Option<Timestamp>,
    /// Open periods so far: 1, plus one per reopening.
    pub cycle: u32,
    /// Increases with every recorded change; the store keeps the highest, so a change
    /// written twice (a leader failover mid-write) is stored once.
    pub revision: u32,
    /// The values as of the last recorded change.
    pub facts: Facts,
}

impl Record {
    /// True while not fixed.
    pub fn is_open(&self) -> bool {
        self.fixed.is_none()
    }

    /// The due date under `policy` (from first seen, not from the last reopening: rolling
    /// an image back does not restart its clock). `None` without a deadline.
    pub fn due(&self, policy: &RemediationPolicy) -> Option<Timestamp> {
        policy.due(&DueInput {
            first_seen: self.first_seen,
            severity: self.facts.severity,
            known_exploited: self.facts.known_exploited,
            kev_due: self.facts.kev_due,
            internet: self.facts.internet,
        })
    }

    /// True when open, not hidden, and past its due date at `now`.
    pub fn overdue(&self, policy: &RemediationPolicy, now: Timestamp) -> bool {
        self.is_open() && !self.facts.hidden && self.due(policy).is_some_and(|d| now > d)
    }

    /// The due date, when it passed in `[since, now)` with the finding open and not hidden
    /// (it became [`overdue`](Self::overdue) between two observations: the operator's
    /// Event, announced once).
    pub fn became_overdue(&self, policy: &RemediationPolicy, since: Timestamp, now: Timestamp) -> Option<Timestamp> {
        let due = self.due(policy)?;
        (self.is_open() && !self.facts.hidden && since <= due && due < now).then_some(due)
    }

    /// How long the last open period lasted, when fixed.
    pub fn time_to_fix(&self) -> Option<jiff::SignedDuration> {
        self.fixed.map(|f| f.duration_since(self.opened))
    }
}
