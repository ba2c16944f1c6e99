//! Audit of running workloads: which policies each violates (for GuardrailPolicy status
//! and PolicyReports), with the same `evaluate` admission uses.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::index::PostureIndex;
use crate::policy::admission::running_violations;

/// Per policy: how many running (top-level) workloads have an open (not excepted)
/// violation of it.
pub fn violating_workloads(index: &PostureIndex, now: Timestamp) -> BTreeMap<String, u32> {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for w in index.workloads().filter(|w| index.reported_on_its_own(w)) {
        let violations = running_violations(w, index, now);
        let mut policies: Vec<&str> = violations.iter().filter(|v| v.is_open()).map(|v| &*v.policy).collect();
        policies.sort_unstable();
        policies.dedup();
        for p in policies {
            *counts.entry(p.to_string()).or_default() += 1;
        }
    }
    counts
}
