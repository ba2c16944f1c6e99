//! A RiskException's observed state: its lifecycle state and how many findings it covers.

use jiff::Timestamp;

use super::status::RiskExceptionStatus;
use crate::guardrail::RiskExceptionState;
use crate::index::{ExceptionEntry, PostureIndex};

/// The status of an exception at `now`. An active exception that names findings counts
/// the correlated findings it names, as its own namespace sees them (another namespace's
/// evidence never changes its status); a blanket one (no findings listed) counts none.
pub fn exception_status(index: &PostureIndex, e: &ExceptionEntry, now: Timestamp) -> RiskExceptionStatus {
    let (state, reason) = e.state(now);
    let covered = match &e.compiled {
        Ok(x) if state == RiskExceptionState::Active => index
            .artifacts_for(&e.namespace)
            .flat_map(|(_, a)| a.findings.iter())
            .filter(|f| x.names_finding(f.ids()))
            .count() as u32,
        _ => 0,
    };
    RiskExceptionStatus { state, reason, covered_findings: covered, observed_generation: e.generation }
}
