//! Pure status helpers: building a Kubernetes `Condition` from the core's
//! [`ConditionState`], "changed apart from timestamps?", transition times, the status
//! envelope of an AppPosture, and which findings and violations are new since the last
//! written status (for Events). One home each: the reconciler and the sweep both call them.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use stance_core::assessment::status::{AssetStatus, RiskExceptionStatus, ViolationStatus};
use stance_core::assessment::{AppSummary, ConditionState, assess};
use stance_core::index::PostureIndex;
use stance_core::model::App;

use crate::api::AppPostureStatus;
use crate::api::guardrail_policy::GuardrailPolicyStatus;

/// The one builder of the conditions Stance writes: the core's decision, stamped with the
/// time of this evaluation and the object's generation.
pub fn condition(state: &ConditionState, now: Timestamp, generation: Option<i64>) -> Condition {
    Condition {
        type_: state.type_.into(),
        status: state.status().into(),
        reason: state.reason.into(),
        message: state.message.clone(),
        last_transition_time: Time(now),
        observed_generation: generation,
    }
}

/// An application's `AppPosture.status` at `now`, as the reconciler writes it (before
/// transition times are carried over from the current status).
pub fn app_status(index: &PostureIndex, app: &App, now: Timestamp) -> AppPostureStatus {
    app_posture_status(assess(index, app, now).summary(), now, app.generation)
}

/// An AppPosture's status: the core's summary in the Kubernetes envelope.
pub fn app_posture_status(summary: AppSummary, now: Timestamp, generation: Option<i64>) -> AppPostureStatus {
    AppPostureStatus {
        risk_score: summary.risk_score,
        exposure: Some(summary.exposure),
        exposure_reasons: summary.exposure_reasons,
        findings: summary.findings,
        findings_by_source: summary.findings_by_source,
        suppressed_findings: summary.suppressed_findings,
        critical_findings: summary.critical_findings,
        vex_suppressed: summary.vex_suppressed,
        top_findings: summary.top_findings,
        workloads: summary.workloads,
        images: summary.images,
        sbom_coverage: summary.sbom_coverage,
        scan_coverage: summary.scan_coverage,
        compliance: summary.compliance,
        conditions: summary.conditions.iter().map(|c| condition(c, now, generation)).collect(),
        remediation: summary.remediation,
        observed_generation: generation,
        last_evaluated: Some(now.to_string()),
    }
}

/// Keeps each condition's `lastTransitionTime` from the previous status when its status
/// did not change (Kubernetes API conventions).
pub fn carry_transition_times(old: &[Condition], new: &mut [Condition]) {
    for c in new.iter_mut() {
        if let Some(prev) = old.iter().find(|o| o.type_ == c.type_ && o.status == c.status) {
            c.last_transition_time = prev.last_transition_time.clone();
        }
    }
}

/// A status whose timestamps (evaluation time, condition transition times) say when it
/// was computed, not what it says.
pub trait Timestamped: Clone + PartialEq {
    /// The status with its timestamps blanked, for comparison.
    fn without_timestamps(&self) -> Self;
}

fn blank(conditions: &mut [Condition]) {
    for c in conditions {
        c.last_transition_time = Time(Timestamp::UNIX_EPOCH);
    }
}

impl Timestamped for AppPostureStatus {
    fn without_timestamps(&self) -> Self {
        let mut s = self.clone();
        s.last_evaluated = None;
        blank(&mut s.conditions);
        s
    }
}

impl Timestamped for GuardrailPolicyStatus {
    fn without_timestamps(&self) -> Self {
        let mut s = self.clone();
        blank(&mut s.conditions);
        s
    }
}

/// `lastScanned` is the scan's time, not the evaluation's: it is content.
impl Timestamped for AssetStatus {
    fn without_timestamps(&self) -> Self {
        self.clone()
    }
}

impl Timestamped for RiskExceptionStatus {
    fn without_timestamps(&self) -> Self {
        self.clone()
    }
}

/// True when the new status differs from the current one in anything but timestamps
/// (the one test of "worth writing").
pub fn changed<S: Timestamped>(current: Option<&S>, new: &S) -> bool {
    current.is_none_or(|cur| cur.without_timestamps() != new.without_timestamps())
}

/// Critical or known-exploited findings in `new` that `old` did not list.
pub fn new_alerting_findings<'a>(old: Option<&AppPostureStatus>, new: &'a AppPostureStatus) -> Vec<&'a str> {
    let before: BTreeSet<&str> = old.into_iter().flat_map(|s| &s.critical_findings).map(String::as_str).collect();
    new.critical_findings.iter().map(String::as_str).filter(|f| !before.contains(f)).collect()
}

fn violation_key(v: &ViolationStatus) -> (String, String, String) {
    (v.policy.clone(), v.rule.clone(), v.workload.clone())
}

/// Guardrail violations in `new` that `old` did not list.
pub fn new_violations<'a>(old: Option<&AppPostureStatus>, new: &'a AppPostureStatus) -> Vec<&'a ViolationStatus> {
    let before: BTreeSet<_> = old.into_iter().flat_map(|s| &s.compliance.violations).map(violation_key).collect();
    new.compliance.violations.iter().filter(|v| !before.contains(&violation_key(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(t: &str, status: &str, at: i64) -> Condition {
        Condition {
            type_: t.into(),
            status: status.into(),
            reason: "R".into(),
            message: String::new(),
            last_transition_time: Time(jiff::Timestamp::from_second(at).unwrap()),
            observed_generation: None,
        }
    }

    #[test]
    fn only_timestamps_changed_is_unchanged() {
        let old = AppPostureStatus {
            risk_score: 50,
            last_evaluated: Some("a".into()),
            conditions: vec![cond("Ready", "True", 1)],
            ..Default::default()
        };
        let mut new = old.clone();
        new.last_evaluated = Some("b".into());
        new.conditions = vec![cond("Ready", "True", 99)];
        assert!(!changed(Some(&old), &new));
        new.risk_score = 51;
        assert!(changed(Some(&old), &new));
        assert!(changed(None, &new));
    }

    #[test]
    fn transition_time_kept_unless_status_flips() {
        let old = vec![cond("Ready", "True", 1), cond("Compliant", "True", 1)];
        let mut new = vec![cond("Ready", "True", 9), cond("Compliant", "False", 9)];
        carry_transition_times(&old, &mut new);
        assert_eq!(new[0].last_transition_time.0.as_second(), 1);
        assert_eq!(new[1].last_transition_time.0.as_second(), 9);
    }

    #[test]
    fn events_only_for_new_alerting_findings_and_violations() {
        let old = AppPostureStatus {
            critical_findings: vec!["CVE-2021-0001 CRITICAL on image:x".into()],
            ..Default::default()
        };
        let new = AppPostureStatus {
            critical_findings: vec![
                "CVE-2021-0001 CRITICAL on image:x".into(),
                "CVE-2021-0002 HIGH on image:x (known exploited)".into(),
            ],
            compliance: crate::api::app_posture::ComplianceStatus {
                violations: vec![ViolationStatus {
                    policy: "p".into(),
                    rule: "r".into(),
                    workload: "w".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(new_alerting_findings(Some(&old), &new), ["CVE-2021-0002 HIGH on image:x (known exploited)"]);
        assert_eq!(new_violations(Some(&old), &new).len(), 1);
        assert_eq!(new_violations(Some(&new), &new).len(), 0, "a restart with the same status emits nothing");
    }
}
