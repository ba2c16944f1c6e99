//! What status, metrics and `stance history` say about remediation, from lifecycle records:
//! overdue findings, new / reopened / fixed in a window, mean and p90 time to fix, and the
//! daily roll-up rows trends are drawn from. The one home of these numbers: the operator
//! computes them from its ledger, the store's reader from the rows it loads.

use jiff::{SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::record::Record;
use crate::guardrail::RemediationPolicy;
use crate::model::Severity;

/// Seconds in a day.
pub const DAY: i64 = 86_400;
/// The windows time to fix is reported over, in days.
pub const TIME_TO_FIX_WINDOWS: [u32; 2] = [30, 90];
/// The window "new vs fixed this week" counts over, in days.
pub const WEEK_DAYS: i64 = 7;
/// Severities with deadlines, worst first (the rows of time-to-fix tables).
pub const TRACKED_SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// Mean and 90th percentile of the time to fix of the lifecycles fixed in a window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeToFix {
    /// `CRITICAL`, `HIGH`, … or `ALL`.
    pub severity: String,
    /// The window: fixed within the last this many days.
    pub window_days: u32,
    /// Lifecycles fixed in the window.
    pub fixed: u32,
    /// Mean days from opened to fixed (one decimal); `None` when nothing was fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_days: Option<f64>,
    /// 90th percentile (nearest rank) in days (one decimal); `None` when nothing was fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_days: Option<f64>,
}

/// Mean and nearest-rank p90 of durations, in days rounded to one decimal.
pub fn time_to_fix(severity: &str, window_days: u32, mut durations: Vec<SignedDuration>) -> TimeToFix {
    let fixed = durations.len() as u32;
    if durations.is_empty() {
        return TimeToFix { severity: severity.into(), window_days, fixed, mean_days: None, p90_days: None };
    }
    durations.sort();
    let days = |secs: f64| (secs / DAY as f64 * 10.0).round() / 10.0;
    let total: f64 = durations.iter().map(|d| d.as_secs_f64()).sum();
    // Nearest rank: the smallest value with at least 90 % of the values at or below it.
    let rank = (durations.len() * 9).div_ceil(10).max(1);
    TimeToFix {
        severity: severity.into(),
        window_days,
        fixed,
        mean_days: Some(days(total / durations.len() as f64)),
        p90_days: Some(days(durations[rank - 1].as_secs_f64())),
    }
}

/// Time to fix per tracked severity and overall, for each of [`TIME_TO_FIX_WINDOWS`], of
/// the records fixed within the window before `now`.
pub fn time_to_fix_table<'r>(records: impl IntoIterator<Item = &'r Record> + Clone, now: Timestamp) -> Vec<TimeToFix> {
    let mut out = Vec::new();
    for window in TIME_TO_FIX_WINDOWS {
        let since = now - SignedDuration::from_secs(i64::from(window) * DAY);
        let in_window = |r: &&Record| r.fixed.is_some_and(|f| f > since && f <= now);
        for sev in TRACKED_SEVERITIES {
            let d = records.clone().into_iter().filter(in_window).filter(|r| r.facts.severity == sev);
            out.push(time_to_fix(sev.as_str(), window, d.filter_map(Record::time_to_fix).collect()));
        }
        let all = records.clone().into_iter().filter(in_window).filter_map(Record::time_to_fix).collect();
        out.push(time_to_fix("ALL", window, all));
    }
    out
}

/// One subject's (or the whole cluster's) remediation at a time: what `AppPosture.status.remediation`,
/// `stance scan` and `stance history` show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Remediation {
    /// Open findings, hidden ones excluded.
    pub open: u32,
    /// Open findings past their due date.
    pub overdue: u32,
    /// Overdue findings per severity (`CRITICAL`…), only severities with some.
    // Read back from a status, `null` is none: a status patch that drops the map may leave
    // `null`, and an AppPosture whose status cannot be read is refused by the watch.
    #[serde(
        skip_serializing_if = "std::collections::BTreeMap::is_empty",
        deserialize_with = "crate::assessment::status::null_as_default"
    )]
    pub overdue_by_severity: std::collections::BTreeMap<String, u32>,
    /// First seen in the last 7 days.
    pub new_this_week: u32,
    /// Reopened in the last 7 days.
    pub reopened_this_week: u32,
    /// Fixed in the last 7 days.
    pub fixed_this_week: u32,
    /// Per severity and window (see [`time_to_fix_table`]).
    pub time_to_fix: Vec<TimeToFix>,
}

/// Summarises records at `now` under `policy`.
pub fn remediation<'r>(
    records: impl IntoIterator<Item = &'r Record> + Clone,
    policy: &RemediationPolicy,
    now: Timestamp,
) -> Remediation {
    let week = now - SignedDuration::from_secs(WEEK_DAYS * DAY);
    let recent = |t: Timestamp| t > week && t <= now;
    let mut r = Remediation::default();
    for rec in records.clone() {
        if rec.is_open() && !rec.facts.hidden {
            r.open += 1;
            if rec.overdue(policy, now) {
                r.overdue += 1;
                *r.overdue_by_severity.entry(rec.facts.severity.as_str().to_string()).or_default() += 1;
            }
        }
        if recent(rec.first_seen) {
            r.new_this_week += 1;
        }
        if rec.cycle > 1 && rec.is_open() && recent(rec.opened) {
            r.reopened_this_week += 1;
        }
        if rec.fixed.is_some_and(recent) {
            r.fixed_this_week += 1;
        }
    }
    r.time_to_fix = time_to_fix_table(records, now);
    r
}

/// One day's roll-up row of one subject and severity: what trends are drawn from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyCounts {
    /// Open (not hidden) at the end of the day, or at `now` for today.
    pub open: u32,
    /// Of those, overdue.
    pub overdue: u32,
    /// First seen that day.
    pub new: u32,
    /// Reopened that day.
    pub reopened: u32,
    /// Fixed that day.
    pub fixed: u32,
    /// Sum of the time to fix of those fixed that day, in seconds (mean = this / fixed).
    pub fix_seconds: i64,
}

impl DailyCounts {
    /// Adds another row (subjects summed into the cluster's row).
    pub fn add(&mut self, o: &DailyCounts) {
        self.open += o.open;
        self.overdue += o.overdue;
        self.new += o.new;
        self.reopened += o.reopened;
        self.fixed += o.fixed;
        self.fix_seconds += o.fix_seconds;
    }
}

/// The roll-up of records for the UTC day starting at `day_start`, as of `at` (the end of
/// that day, or now for today), per severity (index by [`Severity::rank`]).
pub fn daily<'r>(
    records: impl IntoIterator<Item = &'r Record>,
    policy: &RemediationPolicy,
    day_start: Timestamp,
    at: Timestamp,
) -> [DailyCounts; 6] {
    let day_end = day_start + SignedDuration::from_secs(DAY);
    let within = |t: Timestamp| t >= day_start && t < day_end && t <= at;
    let mut out = [DailyCounts::default(); 6];
    for r in records {
        let c = &mut out[r.facts.severity.rank()];
        if r.is_open() && !r.facts.hidden && r.opened <= at {
            c.open += 1;
            if r.overdue(policy, at) {
                c.overdue += 1;
            }
        }
        if within(r.first_seen) {
            c.new += 1;
        }
        if r.cycle > 1 && within(r.opened) {
            c.reopened += 1;
        }
        if let Some(f) = r.fixed.filter(|f| within(*f)) {
            c.fixed += 1;
            c.fix_seconds += f.duration_since(r.opened).as_secs();
        }
    }
    out
}

/// The start (00:00 UTC) of the day `t` falls in.
pub fn day_start(t: Timestamp) -> Timestamp {
    let s = t.as_second().div_euclid(DAY) * DAY;
    Timestamp::from_second(s).unwrap_or(t)
}

/// A roll-up row: the subject (`None`: the whole cluster), the severity and its counts.
pub type RollupRow = (Option<super::SubjectRef>, Severity, DailyCounts);

/// Every subject's roll-up rows for the UTC day of `at`, as of `at`, and the cluster's
/// (the sum over subjects). Rows whose counts are all zero are included only for the
/// severities a subject has records of, so a count that dropped to zero overwrites
/// yesterday's value of today's row.
pub fn daily_rows(ledger: &super::Ledger, at: Timestamp) -> Vec<RollupRow> {
    let start = day_start(at);
    let mut cluster = [DailyCounts::default(); 6];
    let mut seen = [false; 6];
    let mut out = Vec::new();
    for (subject, records) in ledger.subjects() {
        let counts = daily(records.values(), &ledger.policy, start, at);
        let mut present = [false; 6];
        for r in records.values() {
            present[r.facts.severity.rank()] = true;
        }
        for sev in Severity::WORST_FIRST {
            let i = sev.rank();
            if present[i] {
                seen[i] = true;
                cluster[i].add(&counts[i]);
                out.push((Some(subject.clone()), sev, counts[i]));
            }
        }
    }
    for sev in Severity::WORST_FIRST {
        if seen[sev.rank()] {
            out.push((None, sev, cluster[sev.rank()]));
        }
    }
    out
}
