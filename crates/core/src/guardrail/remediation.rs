//! Remediation deadlines: how many days a finding may stay open, counted from when it was
//! first seen in the cluster. One rule, two places it is written: a `GuardrailPolicy`'s
//! `remediation` rule (enforced at admission) and the cluster-wide default policy
//! (`--remediation-days`, the chart's `remediation` value) that status, metrics and
//! `stance history` count overdue findings with.
//!
//! The defaults come from public remediation policies:
//! - per severity, FedRAMP's continuous-monitoring deadlines (High 30 days, Moderate 90,
//!   Low 180; FedRAMP counts Critical as High): critical 30, high 30, medium 90, low 180;
//! - internet-exposed workloads, CISA BOD 19-02 ("Vulnerability Remediation Requirements for
//!   Internet-Accessible Systems"): critical 15 days, high 30;
//! - known exploited vulnerabilities, CISA BOD 22-01: two weeks (14 days), or the KEV
//!   catalog's own `dueDate` for that CVE when it is earlier.

use jiff::Timestamp;
use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::Severity;

/// Days to fix per severity; a severity left out has no deadline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeverityDays {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<u32>,
}

impl SeverityDays {
    /// FedRAMP's deadlines: critical 30, high 30, medium 90, low 180.
    pub const FEDRAMP: SeverityDays =
        SeverityDays { critical: Some(30), high: Some(30), medium: Some(90), low: Some(180) };
    /// CISA BOD 19-02 for internet-accessible systems: critical 15, high 30.
    pub const BOD_19_02: SeverityDays = SeverityDays { critical: Some(15), high: Some(30), medium: None, low: None };

    /// The days allowed for a severity (`None`: no deadline; INFO and UNKNOWN never have one).
    pub fn get(&self, s: Severity) -> Option<u32> {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info | Severity::Unknown => None,
        }
    }

    /// Parses `critical=30,high=30,medium=90,low=180` (any subset, any order; the command
    /// line's form). Errors say which part is wrong.
    pub fn parse(text: &str) -> Result<SeverityDays, String> {
        let mut d = SeverityDays::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (sev, days) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not SEVERITY=DAYS (e.g. critical=15,high=30)"))?;
            let days: u32 = days.trim().parse().map_err(|_| format!("{part:?}: {days:?} is not a number of days"))?;
            let slot = match sev.trim().to_ascii_lowercase().as_str() {
                "critical" => &mut d.critical,
                "high" => &mut d.high,
                "medium" => &mut d.medium,
                "low" => &mut d.low,
                other => return Err(format!("{part:?}: {other:?} is not critical, high, medium or low")),
            };
            *slot = Some(days);
        }
        Ok(d)
    }
}

/// The `remediation` rule of a GuardrailPolicy: images of the workload must have no finding
/// open past its due date. A field left out takes the default (module documentation);
/// a `days` or `internetDays` map that is given replaces the default entirely.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationRule {
    /// Days to fix from first seen in the cluster, per severity. Default: critical 30,
    /// high 30, medium 90, low 180 (FedRAMP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<SeverityDays>,
    /// Shorter deadlines when the workload is reachable from the internet. Default:
    /// critical 15, high 30 (CISA BOD 19-02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_days: Option<SeverityDays>,
    /// Days to fix a vulnerability on CISA's KEV list; the catalog's `dueDate` applies when
    /// it is earlier. Default 14 (CISA BOD 22-01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_exploited_days: Option<u32>,
}

/// Compiled deadlines (defaults filled in); see [`RemediationPolicy::due`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemediationPolicy {
    pub days: SeverityDays,
    pub internet_days: SeverityDays,
    pub known_exploited_days: Option<u32>,
}

impl Default for RemediationPolicy {
    fn default() -> Self {
        RemediationPolicy::from(&RemediationRule::default())
    }
}

impl From<&RemediationRule> for RemediationPolicy {
    fn from(r: &RemediationRule) -> Self {
        RemediationPolicy {
            days: r.days.unwrap_or(SeverityDays::FEDRAMP),
            internet_days: r.internet_days.unwrap_or(SeverityDays::BOD_19_02),
            known_exploited_days: r.known_exploited_days.or(Some(14)),
        }
    }
}

/// What a finding's due date depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueInput {
    /// First seen in the cluster (or, without a history store, the report's observed time).
    pub first_seen: Timestamp,
    pub severity: Severity,
    /// On CISA's KEV list.
    pub known_exploited: bool,
    /// The KEV catalog's `dueDate` for the CVE, when listed.
    pub kev_due: Option<Date>,
    /// The workload or application is reachable from the internet.
    pub internet: bool,
}

const DAY: i64 = 86_400;

impl RemediationPolicy {
    /// The deadline: the earliest of first seen + the severity's days, + the internet days
    /// when exposed, + the KEV days when known exploited, and the end of the KEV catalog's
    /// `dueDate` (UTC). `None` when nothing sets a deadline.
    pub fn due(&self, f: &DueInput) -> Option<Timestamp> {
        let after = |days: u32| f.first_seen.checked_add(jiff::SignedDuration::from_secs(i64::from(days) * DAY)).ok();
        let mut due = self.days.get(f.severity).and_then(after);
        let mut earliest = |t: Option<Timestamp>| {
            if let Some(t) = t {
                due = Some(due.map_or(t, |d| d.min(t)));
            }
        };
        if f.internet {
            earliest(self.internet_days.get(f.severity).and_then(after));
        }
        if f.known_exploited {
            earliest(self.known_exploited_days.and_then(after));
            // The catalog's date is a day: remediation is due by its end.
            earliest(
                f.kev_due
                    .and_then(|d| d.tomorrow().ok())
                    .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .map(|z| z.timestamp()),
            );
        }
        due
    }

    /// Whole days past the deadline at `now` (0 on the day it falls due), `None` when not overdue.
    pub fn overdue_days(due: Timestamp, now: Timestamp) -> Option<i64> {
        (now > due).then(|| now.duration_since(due).as_secs() / DAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn input(sev: Severity) -> DueInput {
        DueInput {
            first_seen: t("2026-01-01T00:00:00Z"),
            severity: sev,
            known_exploited: false,
            kev_due: None,
            internet: false,
        }
    }

    #[test]
    fn defaults_per_severity_internet_and_kev() {
        let p = RemediationPolicy::default();
        assert_eq!(p.due(&input(Severity::Critical)), Some(t("2026-01-31T00:00:00Z")));
        assert_eq!(p.due(&input(Severity::Medium)), Some(t("2026-04-01T00:00:00Z")));
        assert_eq!(p.due(&input(Severity::Info)), None);
        let exposed = DueInput { internet: true, ..input(Severity::Critical) };
        assert_eq!(p.due(&exposed), Some(t("2026-01-16T00:00:00Z")));
        // Internet deadlines never lengthen one: medium keeps its 90 days.
        assert_eq!(p.due(&DueInput { internet: true, ..input(Severity::Medium) }), Some(t("2026-04-01T00:00:00Z")));
        let kev = DueInput { known_exploited: true, ..input(Severity::Medium) };
        assert_eq!(p.due(&kev), Some(t("2026-01-15T00:00:00Z")));
        // The catalog's dueDate, when earlier, ends that day.
        let listed = DueInput { kev_due: Some(jiff::civil::date(2026, 1, 5)), ..kev };
        assert_eq!(p.due(&listed), Some(t("2026-01-06T00:00:00Z")));
        // A catalog date is ignored for a finding not (or no longer) known exploited.
        assert_eq!(p.due(&DueInput { known_exploited: false, ..listed }), Some(t("2026-04-01T00:00:00Z")));
    }

    #[test]
    fn a_given_map_replaces_the_defaults() {
        let rule = RemediationRule { days: Some(SeverityDays::parse("high=7").unwrap()), ..Default::default() };
        let p = RemediationPolicy::from(&rule);
        assert_eq!(p.due(&input(Severity::High)), Some(t("2026-01-08T00:00:00Z")));
        assert_eq!(p.due(&input(Severity::Critical)), None);
        assert_eq!(RemediationPolicy::overdue_days(t("2026-01-08T00:00:00Z"), t("2026-01-10T01:00:00Z")), Some(2));
        assert_eq!(RemediationPolicy::overdue_days(t("2026-01-08T00:00:00Z"), t("2026-01-08T00:00:00Z")), None);
    }

    #[test]
    fn severity_days_parse_errors_name_the_part() {
        assert_eq!(
            SeverityDays::parse(" Critical=15 , high=30").unwrap(),
            SeverityDays { critical: Some(15), high: Some(30), ..Default::default() }
        );
        assert!(SeverityDays::parse("urgent=1").unwrap_err().contains("\"urgent\""));
        assert!(SeverityDays::parse("high=soon").unwrap_err().contains("\"soon\""));
        assert!(SeverityDays::parse("high").unwrap_err().contains("SEVERITY=DAYS"));
    }
}
