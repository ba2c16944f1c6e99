//! Contextual risk scoring: severity × exploitability × exposure × business impact.
//!
//! The score is a sum of capped points so that every score explains itself: each
//! [`Factor`] says how many points it contributed and why. The formula and its
//! rationale are in `docs/risk.md`; the budgets below must match it.

use std::fmt;

use jiff::Timestamp;

use super::reach::Reach;
use crate::model::{Criticality, DataClassification, Finding, FindingKind, Severity};

/// Points budget per factor family. They sum to 100.
pub const SEVERITY_MAX: u32 = 35;
/// Points for exploitability (KEV, EPSS, secrets, DAST).
pub const EXPLOIT_MAX: u32 = 25;
/// Points for network reach.
pub const EXPOSURE_MAX: u32 = 15;
/// Points for business impact (criticality and data classification).
pub const BUSINESS_MAX: u32 = 15;
/// Points for workload privileges.
pub const WORKLOAD_MAX: u32 = 5;
/// Points for remediation (fix available, age).
pub const REMEDIATION_MAX: u32 = 5;

/// Findings with a score at or above this count towards an application's breadth bonus.
pub const HIGH_RISK: u32 = 60;
/// Cap of the breadth bonus added to an application's top finding score.
pub const BREADTH_MAX: u32 = 10;
/// Days after publication from which a vulnerability counts as long-known.
pub const AGE_DAYS: i64 = 30;

/// Where a finding lives, for scoring.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RiskContext {
    pub reach: Reach,
    pub criticality: Criticality,
    pub data: DataClassification,
    /// Privileged container or host namespaces: a compromise reaches the node.
    pub privileged: bool,
    /// A container may run as root.
    pub root: bool,
    pub now: Timestamp,
}

impl RiskContext {
    /// The context of a finding seen outside any application.
    pub fn unknown(now: Timestamp) -> RiskContext {
        RiskContext {
            reach: Reach::Unknown,
            criticality: Criticality::Medium,
            data: DataClassification::Internal,
            privileged: false,
            root: false,
            now,
        }
    }
}

/// One contribution to a score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factor {
    /// `severity`, `cvss`, `kev`, `epss`, `secret`, `dast`, `exposure`, `criticality`,
    /// `data`, `privileged`, `root`, `fix`, `age`.
    pub name: &'static str,
    pub points: u32,
    /// The value behind the points (`HIGH`, `0.94`, `internet`, …).
    pub detail: String,
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}(+{})", self.name, self.detail, self.points)
    }
}

/// A score 0–100 with the factors that make it up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskScore {
    pub score: u32,
    pub factors: Vec<Factor>,
}

fn severity_points(s: Severity) -> u32 {
    match s {
        Severity::Critical => 33,
        Severity::High => 26,
        Severity::Medium => 17,
        Severity::Low => 7,
        Severity::Unknown => 10,
        Severity::Info => 0,
    }
}

/// The value behind a factor's points, formatted only when a [`Factor`] is built.
#[derive(Clone, Copy, Debug)]
enum Detail<'a> {
    Cvss(f32),
    Severity(Severity),
    Epss(f32),
    Text(&'static str),
    Reach(Reach),
    Criticality(Criticality),
    Data(DataClassification),
    Fixed(&'a str),
    Days(i64),
}

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::Cvss(c) => write!(f, "{c:.1}"),
            Detail::Severity(s) => f.write_str(s.as_str()),
            Detail::Epss(p) => write!(f, "{p:.3}"),
            Detail::Text(t) => f.write_str(t),
            Detail::Reach(r) => f.write_str(r.as_str()),
            Detail::Criticality(c) => f.write_str(c.as_str()),
            Detail::Data(d) => f.write_str(d.as_str()),
            Detail::Fixed(v) => f.write_str(v),
            Detail::Days(d) => write!(f, "{d}d"),
        }
    }
}

/// The one definition of the score: calls `add(name, points, detail)` for every factor
/// of a finding in a context (points may be 0). [`score`] keeps the factors, [`points`]
/// only sums them; both are this function, so they cannot disagree.
fn tally(f: &Finding, ctx: &RiskContext, mut add: impl FnMut(&'static str, u32, Detail<'_>)) {
    // Severity: the CVSS base score when known (finer than the label), else the label.
    match f.cvss.filter(|c| (0.0..=10.0).contains(c) && *c > 0.0) {
        Some(cvss) => {
            add("cvss", ((cvss * SEVERITY_MAX as f32 / 10.0).round() as u32).min(SEVERITY_MAX), Detail::Cvss(cvss))
        }
        None => add("severity", severity_points(f.severity), Detail::Severity(f.severity)),
    }

    // Exploitability: known exploitation beats any prediction.
    if f.kev {
        add("kev", EXPLOIT_MAX, Detail::Text("known exploited"));
    } else if let Some(p) = f.epss.filter(|p| *p > 0.0) {
        // sqrt spreads the heavily skewed EPSS distribution: 0.01 → 2, 0.1 → 6, 0.9 → 19.
        add("epss", ((20.0 * p.min(1.0).sqrt()).round() as u32).min(20), Detail::Epss(p));
    } else if f.kind == FindingKind::Secret {
        add("secret", 15, Detail::Text("usable credential"));
    } else if f.kind == FindingKind::Dast {
        add("dast", 10, Detail::Text("found by probing the live endpoint"));
    }

    let exposure = match ctx.reach {
        Reach::Internet => EXPOSURE_MAX,
        Reach::Internal | Reach::Unknown => 6,
        Reach::None => 0,
    };
    add("exposure", exposure, Detail::Reach(ctx.reach));

    add("criticality", criticality_points(ctx.criticality), Detail::Criticality(ctx.criticality));
    add("data", data_points(ctx.data), Detail::Data(ctx.data));

    if ctx.privileged {
        add("privileged", WORKLOAD_MAX, Detail::Text("privileged or host namespaces"));
    } else if ctx.root {
        add("root", 2, Detail::Text("may run as root"));
    }

    if f.fix_available() {
        let fixed = f.package.as_ref().and_then(|p| p.fixed_version.as_deref()).unwrap_or("");
        add("fix", 3, Detail::Fixed(fixed));
    }
    if let Some(since) = f.published.or(f.first_seen)
        && age_counts_from(f).is_some_and(|from| ctx.now >= from)
    {
        add("age", 2, Detail::Days(ctx.now.duration_since(since).as_secs() / 86_400));
    }
}

/// The instant from which a finding's age adds points ([`AGE_DAYS`] whole days after it
/// was published, else first seen); `None` when neither is known. The only factor of a
/// score that changes with time alone: a precomputed outcome holds until the next of
/// these instants (`policy::precomputed`).
pub fn age_counts_from(f: &Finding) -> Option<Timestamp> {
    let since = f.published.or(f.first_seen)?;
    // Saturating: a date at the end of jiff's range never gets old.
    since.checked_add(jiff::SignedDuration::from_secs(AGE_DAYS * 86_400)).ok()
}

/// The window of instants `[from, until)` around `now` in which no finding of `findings`
/// changes its age factor, so every score of them in a context stays what it is at `now`
/// (`None`: unbounded on that side).
pub fn stable_window<'f>(
    findings: impl IntoIterator<Item = &'f Finding>,
    now: Timestamp,
) -> (Option<Timestamp>, Option<Timestamp>) {
    let (mut from, mut until) = (None::<Timestamp>, None::<Timestamp>);
    for t in findings.into_iter().filter(|f| !f.suppressed()).filter_map(age_counts_from) {
        if t <= now {
            from = Some(from.map_or(t, |x| x.max(t)));
        } else {
            until = Some(until.map_or(t, |x| x.min(t)));
        }
    }
    (from, until)
}

/// Scores one finding in a context, with the factors that explain the score.
/// VEX-suppressed findings score 0.
pub fn score(f: &Finding, ctx: &RiskContext) -> RiskScore {
    if f.suppressed() {
        return RiskScore::default();
    }
    let mut factors = Vec::with_capacity(6);
    tally(f, ctx, |name, points, detail| {
        if points > 0 {
            factors.push(Factor { name, points, detail: detail.to_string() });
        }
    });
    let score = factors.iter().map(|f| f.points).sum::<u32>().min(100);
    RiskScore { score, factors }
}

/// The score alone, without formatting factor descriptions (the hot path of `riskScore`
/// rules and Asset status). Always equals `score(f, ctx).score`: both are [`tally`].
pub fn points(f: &Finding, ctx: &RiskContext) -> u32 {
    if f.suppressed() {
        return 0;
    }
    let mut sum = 0;
    tally(f, ctx, |_, points, _| sum += points);
    sum.min(100)
}

fn criticality_points(c: Criticality) -> u32 {
    match c {
        Criticality::Critical => 12,
        Criticality::High => 8,
        Criticality::Medium => 5,
        Criticality::Low => 2,
    }
}

fn data_points(d: DataClassification) -> u32 {
    match d {
        DataClassification::Restricted => 3,
        DataClassification::Confidential => 2,
        DataClassification::Internal => 1,
        DataClassification::Public => 0,
    }
}

/// An application's score: its worst finding, plus one point for each other finding at
/// or above [`HIGH_RISK`] (at most [`BREADTH_MAX`]), capped at 100.
pub fn app_score(sorted_scores_desc: &[u32]) -> u32 {
    let Some((&top, rest)) = sorted_scores_desc.split_first() else { return 0 };
    let breadth = rest.iter().take_while(|&&s| s >= HIGH_RISK).count() as u32;
    (top + breadth.min(BREADTH_MAX)).min(100)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{Artifact, Format, Package, Source};

    fn finding(sev: Severity, cvss: Option<f32>) -> Finding {
        let src = Arc::new(Source {
            format: Format::TrivyJson,
            scanner: Arc::from("t"),
            origin: Arc::from("o"),
            workload: None,
            container: None,
        });
        let mut f = Finding::new(FindingKind::Vulnerability, "CVE-1", sev, "t", Artifact::Other(Arc::from("x")), src);
        f.cvss = cvss;
        f
    }

    fn ctx(reach: Reach, criticality: Criticality, data: DataClassification) -> RiskContext {
        RiskContext { reach, criticality, data, privileged: false, root: false, now: Timestamp::UNIX_EPOCH }
    }

    #[test]
    fn kev_high_on_critical_internet_app_outranks_unexploited_critical_in_batch_job() {
        let mut kev_high = finding(Severity::High, Some(7.5));
        kev_high.kev = true;
        let a = score(&kev_high, &ctx(Reach::Internet, Criticality::Critical, DataClassification::Restricted));
        let mut crit = finding(Severity::Critical, Some(9.8));
        crit.epss = Some(0.004);
        let b = score(&crit, &ctx(Reach::None, Criticality::Low, DataClassification::Internal));
        assert!(a.score > b.score + 30, "{a:?} vs {b:?}");
        assert_eq!(a.factors.iter().map(|f| f.points).sum::<u32>(), a.score);
        assert!(a.factors.iter().any(|f| f.name == "kev"));
    }

    #[test]
    fn budgets_sum_to_100_and_max_context_reaches_it() {
        assert_eq!(SEVERITY_MAX + EXPLOIT_MAX + EXPOSURE_MAX + BUSINESS_MAX + WORKLOAD_MAX + REMEDIATION_MAX, 100);
        let mut f = finding(Severity::Critical, Some(10.0));
        f.kev = true;
        f.published = Some(Timestamp::UNIX_EPOCH);
        f.package = Some(Package { name: Arc::from("p"), fixed_version: Some(Arc::from("2")), ..Default::default() });
        let mut c = ctx(Reach::Internet, Criticality::Critical, DataClassification::Restricted);
        c.privileged = true;
        c.now = Timestamp::from_second(86_400 * 365).unwrap();
        assert_eq!(score(&f, &c).score, 100);
    }

    #[test]
    fn suppressed_scores_zero_and_labels_without_cvss_use_severity() {
        let mut f = finding(Severity::Medium, None);
        let s = score(&f, &ctx(Reach::None, Criticality::Low, DataClassification::Public));
        assert_eq!(s.factors[0].to_string(), "severity=MEDIUM(+17)");
        f.vex = Some(crate::model::Vex::new(crate::model::VexState::NotAffected, None));
        assert_eq!(score(&f, &ctx(Reach::Internet, Criticality::Critical, DataClassification::Restricted)).score, 0);
    }

    #[test]
    fn points_equal_score_for_every_context() {
        let mut fs = vec![
            finding(Severity::Critical, Some(9.8)),
            finding(Severity::Low, None),
            finding(Severity::Unknown, None),
        ];
        fs[0].kev = true;
        fs[1].epss = Some(0.3);
        fs[2].kind = FindingKind::Secret;
        fs[2].published = Some(Timestamp::UNIX_EPOCH);
        for f in &fs {
            for reach in [Reach::Internet, Reach::Internal, Reach::None, Reach::Unknown] {
                for crit in [Criticality::Critical, Criticality::Low] {
                    let mut c = ctx(reach, crit, DataClassification::Confidential);
                    c.root = true;
                    c.now = Timestamp::from_second(86_400 * 100).unwrap();
                    assert_eq!(points(f, &c), score(f, &c).score);
                }
            }
        }
    }

    #[test]
    fn app_score_adds_breadth() {
        assert_eq!(app_score(&[]), 0);
        assert_eq!(app_score(&[70]), 70);
        assert_eq!(app_score(&[70, 65, 61, 59, 80]), 72);
        assert_eq!(app_score(&[95; 30]), 100);
    }

    proptest::proptest! {
        /// The age switch is the whole-days rule it replaces: `now >= age_counts_from` exactly
        /// when `AGE_DAYS` whole days have passed since publication, and no score changes
        /// inside the window `stable_window` gives.
        #[test]
        fn age_switch_is_whole_days_and_window_is_stable(
            published in 0i64..200 * 86_400,
            now in 0i64..200 * 86_400,
            probe in 0i64..200 * 86_400,
        ) {
            let mut f = finding(Severity::High, None);
            f.published = Some(Timestamp::from_second(published).unwrap());
            let at = |s: i64| Timestamp::from_second(s).unwrap();
            let whole_days = at(now).duration_since(at(published)).as_secs() / 86_400 >= AGE_DAYS;
            proptest::prop_assert_eq!(age_counts_from(&f).is_some_and(|t| at(now) >= t), whole_days);
            let (from, until) = stable_window([&f], at(now));
            let inside = from.is_none_or(|t| at(probe) >= t) && until.is_none_or(|t| at(probe) < t);
            let mut c = ctx(Reach::Internet, Criticality::High, DataClassification::Internal);
            c.now = at(now);
            let mut d = c;
            d.now = at(probe);
            if inside {
                proptest::prop_assert_eq!(points(&f, &c), points(&f, &d));
            }
        }
    }
}
