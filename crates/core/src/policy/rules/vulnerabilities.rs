//! `vulnerabilities`: no vulnerability above a severity (with optional filters).

use super::{Hit, plural_qualified};
use crate::guardrail::spec::VulnerabilityRule;
use crate::index::ArtifactPosture;
use crate::lifecycle::Dates;
use crate::model::{Finding, FindingKind, Severity};
use crate::policy::context::ImageCtx;
use crate::policy::precomputed::{Part, PartItems};

/// True when the rule counts this finding; `olderThanDays` counts from when it was first
/// seen in the cluster ([`Dates::first_seen`]).
pub fn counts(rule: &VulnerabilityRule, f: &Finding, dates: &Dates<'_>, now: jiff::Timestamp) -> bool {
    f.kind == FindingKind::Vulnerability
        && !f.suppressed()
        && f.severity.exceeds(rule.max_severity)
        && (!rule.fix_available_only || f.fix_available())
        && (!rule.known_exploited_only || f.kev)
        && rule.min_epss.is_none_or(|min| f.epss.is_some_and(|e| f64::from(e) >= min))
        && rule.older_than_days.is_none_or(|days| {
            dates.first_seen(f).is_some_and(|t| now.duration_since(t).as_secs() / 86_400 > i64::from(days))
        })
        && !rule.ignore.iter().any(|i| f.ids().any(|id| id.eq_ignore_ascii_case(i)))
}

/// How a finding is listed in messages: `CVE-… CRITICAL in pkg 1.0 (fixed in 1.1; KEV)`.
pub fn describe(f: &Finding) -> String {
    let mut s = String::with_capacity(96);
    describe_into(&mut s, f);
    s
}

/// [`describe`] appended to `s`. Written with `push_str` rather than `write!`: admission
/// words every listed finding, and the formatting machinery cost 15 % of an evaluation.
pub fn describe_into(s: &mut String, f: &Finding) {
    s.push_str(&f.id);
    s.push(' ');
    s.push_str(f.severity.as_str());
    if let Some(p) = &f.package {
        s.push_str(" in ");
        s.push_str(&p.name);
        if let Some(v) = &p.installed_version {
            s.push(' ');
            s.push_str(v);
        }
    }
    let mut sep = " (";
    let mut note = |s: &mut String, parts: &[&str]| {
        s.push_str(sep);
        parts.iter().for_each(|p| s.push_str(p));
        sep = ", ";
    };
    match f.package.as_ref().and_then(|p| p.fixed_version.as_deref()) {
        Some(fix) => note(s, &["fixed in ", fix]),
        None if f.kind == FindingKind::Vulnerability => note(s, &["no fix yet"]),
        None => {}
    }
    if f.kev {
        note(s, &["known exploited"]);
    }
    if let Some(e) = f.epss.filter(|e| *e >= 0.1) {
        note(s, &["EPSS ", &format!("{e:.2}")]);
    }
    if sep == ", " {
        s.push(')');
    }
}

/// A hit listing the image's vulnerabilities the rule counts at `now`.
pub fn check<'a>(
    rule: &VulnerabilityRule,
    img: &ImageCtx<'a>,
    dates: &Dates<'_>,
    now: jiff::Timestamp,
) -> Option<Hit<'a>> {
    let risk = crate::risk::RiskContext::unknown(now);
    part(rule, img.posture?, dates, now).map(|p| p.hit(img, risk))
}

/// The image's part of the violation: the vulnerabilities of the posture the rule counts at
/// `now`, worst first (KEV first within a severity, then by id). `dates` and `now` matter
/// only with `olderThanDays`.
pub fn part(
    rule: &VulnerabilityRule,
    posture: &ArtifactPosture,
    dates: &Dates<'_>,
    now: jiff::Timestamp,
) -> Option<Part> {
    // The posture lists findings worst severity first, `UNKNOWN` last: test only those above
    // the threshold and the unknown ones at the end instead of every finding of the image
    // (admission runs this per policy and image).
    let findings = &posture.findings;
    let above = findings.iter().take_while(|f| f.severity > rule.max_severity).count();
    let unknown_from = if Severity::Unknown.exceeds(rule.max_severity) {
        findings.partition_point(|f| f.severity != Severity::Unknown).max(above)
    } else {
        findings.len()
    };
    let mut hits: Vec<(u32, &Finding)> = (0..above)
        .chain(unknown_from..findings.len())
        .map(|i| (i, &*findings[i]))
        .filter(|(_, f)| counts(rule, f, dates, now))
        .filter_map(|(i, f)| Some((u32::try_from(i).ok()?, f)))
        .collect();
    if hits.is_empty() {
        return None;
    }
    hits.sort_by(|(_, a), (_, b)| b.severity.cmp(&a.severity).then(b.kev.cmp(&a.kev)).then(a.id.cmp(&b.id)));
    let fixable = hits.iter().filter(|(_, f)| f.fix_available()).count();
    let mut qualifiers = Vec::new();
    if rule.fix_available_only {
        qualifiers.push("fixable");
    }
    if rule.known_exploited_only {
        qualifiers.push("known-exploited");
    }
    let unscored = if hits.iter().any(|(_, f)| f.severity == Severity::Unknown) {
        " (UNKNOWN severity counts as above it until scored)"
    } else {
        ""
    };
    let tail = format!(
        " has {} above {}{unscored}",
        plural_qualified(hits.len(), &qualifiers, "vulnerability", "vulnerabilities"),
        rule.max_severity
    );
    let advice: std::borrow::Cow<'static, str> = if fixable == hits.len() {
        "Upgrade the listed packages to the fixed versions and rebuild the image".into()
    } else if fixable > 0 {
        format!(
            "{fixable} of them have fixed versions: upgrade those and rebuild; for the rest consider another base image"
        )
        .into()
    } else {
        "No fixed versions are published yet: consider another base image or accept the risk".into()
    };
    Some(Part {
        items: PartItems::Vulnerabilities(hits.into_iter().map(|(i, _)| i).collect()),
        tail: tail.into(),
        advice,
    })
}
