//! The remediation lifecycle (pure): for every application or asset and finding identity,
//! when it was first seen, whether it is open, when it was fixed or reopened, and its
//! severity, KEV state and contextual risk over time; due dates and time to fix from those.
//!
//! Plain functions over plain data, no store and no clock:
//!
//! - [`snapshot`]: the index now → per subject, finding identity → [`Observation`].
//! - [`Tracker::observe`]: records + snapshot + `now` → [`Change`]s (new, fixed, reopened,
//!   changed), applied to the records and queued until a store confirms them.
//! - [`Ledger`]: the records' read-only view; the index holds one so that evaluation counts
//!   `olderThanDays` and the `remediation` rule's deadlines from first seen in the cluster
//!   ([`Dates`]).
//! - [`summary`]: overdue findings, new / fixed this week, time to fix, daily roll-ups.
//!
//! The store (`stance-history`) loads records into a [`Tracker`] and writes its pending
//! changes; `docs/history.md` describes the whole.

pub mod identity;
pub mod ledger;
pub mod record;
pub mod snapshot;
pub mod summary;
pub mod tracker;

pub use identity::{FindingKey, SubjectKind, SubjectRef};
pub use ledger::{Dates, Ledger, SubjectRecords};
pub use record::{Facts, Record};
pub use snapshot::{Observation, Snapshot, SubjectSnapshot, snapshot};
pub use tracker::{Change, Event, Tally, Tracker};

#[cfg(test)]
mod tests;
