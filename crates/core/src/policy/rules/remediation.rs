//! `remediation`: no finding open past its due date, counted from when it was first seen in
//! the cluster (see `guardrail::remediation` for the deadlines and `lifecycle` for first seen).

use jiff::Timestamp;

use super::{Hit, Item, ItemText, plural_qualified};
use crate::guardrail::RemediationPolicy;
use crate::model::Finding;
use crate::policy::context::{ImageCtx, Subject};
use crate::risk::Reach;

/// A hit listing the image's findings past their due date at `s.now`, most overdue first.
pub fn check<'a>(policy: &RemediationPolicy, img: &ImageCtx<'a>, s: &Subject<'_>) -> Option<Hit<'a>> {
    let posture = img.posture?;
    let internet = s.risk.reach == Reach::Internet;
    let mut overdue: Vec<(Timestamp, Timestamp, &'a Finding)> = posture
        .findings
        .iter()
        .filter(|f| !f.suppressed())
        .filter_map(|f| {
            let (first_seen, due) = s.dates.due(policy, f, internet)?;
            (s.now > due).then_some((due, first_seen, &**f))
        })
        .collect();
    if overdue.is_empty() {
        return None;
    }
    overdue.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.severity.cmp(&a.2.severity)).then_with(|| a.2.id.cmp(&b.2.id)));
    let header = format!(
        "{} has {} past the remediation deadline",
        img.label,
        plural_qualified(overdue.len(), &[], "finding", "findings"),
    );
    let now = s.now;
    let items = overdue
        .into_iter()
        .map(|(due, first_seen, f)| Item::finding(f, ItemText::Overdue { finding: f, first_seen, due, now }))
        .collect();
    Some(Hit {
        container: Some(img.container),
        image: Some(img.image),
        header,
        items,
        advice: "Deadlines count from when each finding was first seen in the cluster: fix them (upgrade the \
                 packages and roll out the image), or record a time-boxed RiskException"
            .into(),
    })
}

/// `CVE-… HIGH in openssl 1.1.1 (fixed in 1.1.2), due 2026-11-01, 26 days overdue (first seen 2026-10-02)`.
pub fn describe_into(s: &mut String, f: &Finding, first_seen: Timestamp, due: Timestamp, now: Timestamp) {
    use std::fmt::Write;
    super::vulnerabilities::describe_into(s, f);
    let days = RemediationPolicy::overdue_days(due, now).unwrap_or(0);
    let _ = write!(
        s,
        ", due {}, {days} day{} overdue (first seen {})",
        due.strftime("%Y-%m-%d"),
        if days == 1 { "" } else { "s" },
        first_seen.strftime("%Y-%m-%d")
    );
}
