//! Pure status helpers: "changed except timestamps?", condition transition times, and
//! which findings and violations are new since the last written status (for Events).

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::app_posture::{AppPostureStatus, ViolationStatus};

/// Keeps each condition's `lastTransitionTime` from the previous status when its status
/// did not change (Kubernetes API conventions).
pub fn carry_transition_times(old: &[Condition], new: &mut [Condition]) {
    for c in new.iter_mut() {
        if let Some(prev) = old.iter().find(|o| o.type_ == c.type_ && o.status == c.status) {
            c.last_transition_time = prev.last_transition_time.clone();
        }
    }
}

/// The status with its timestamps blanked, for comparison.
fn comparable(s: &AppPostureStatus) -> AppPostureStatus {
    let mut s = s.clone();
    s.last_evaluated = None;
    for c in &mut s.conditions {
        c.last_transition_time = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH);
    }
    s
}

/// True when the new status differs from the current one in anything but timestamps.
pub fn app_status_changed(current: Option<&AppPostureStatus>, new: &AppPostureStatus) -> bool {
    match current {
        None => true,
        Some(cur) => comparable(cur) != comparable(new),
    }
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
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

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
        assert!(!app_status_changed(Some(&old), &new));
        new.risk_score = 51;
        assert!(app_status_changed(Some(&old), &new));
        assert!(app_status_changed(None, &new));
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
