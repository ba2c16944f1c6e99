//! `vulnerabilities`: no vulnerability above a severity (with optional filters).

use super::{Hit, Item, image_label, plural};
use crate::api::guardrail_policy::VulnerabilityRule;
use crate::model::{Finding, FindingKind};
use crate::policy::context::ImageCtx;

/// True when the rule counts this finding.
pub fn counts(rule: &VulnerabilityRule, f: &Finding, now: jiff::Timestamp) -> bool {
    f.kind == FindingKind::Vulnerability
        && !f.suppressed()
        && f.severity > rule.max_severity
        && (!rule.fix_available_only || f.fix_available())
        && (!rule.known_exploited_only || f.kev)
        && rule.min_epss.is_none_or(|min| f.epss.is_some_and(|e| f64::from(e) >= min))
        && rule.older_than_days.is_none_or(|days| {
            f.published.or(f.first_seen).is_some_and(|t| now.duration_since(t).as_secs() / 86_400 > i64::from(days))
        })
        && !rule.ignore.iter().any(|i| f.ids().any(|id| id.eq_ignore_ascii_case(i)))
}

/// How a finding is listed in messages: `CVE-… CRITICAL in pkg 1.0 (fixed in 1.1; KEV)`.
pub fn describe(f: &Finding) -> String {
    let mut s = format!("{} {}", f.id, f.severity);
    if let Some(p) = &f.package {
        s.push_str(&format!(" in {}", p.name));
        if let Some(v) = &p.installed_version {
            s.push_str(&format!(" {v}"));
        }
    }
    let mut notes = Vec::new();
    match f.package.as_ref().and_then(|p| p.fixed_version.as_deref()) {
        Some(fix) => notes.push(format!("fixed in {fix}")),
        None if f.kind == FindingKind::Vulnerability => notes.push("no fix yet".to_string()),
        None => {}
    }
    if f.kev {
        notes.push("known exploited".into());
    }
    if let Some(e) = f.epss.filter(|e| *e >= 0.1) {
        notes.push(format!("EPSS {e:.2}"));
    }
    if !notes.is_empty() {
        s.push_str(&format!(" ({})", notes.join(", ")));
    }
    s
}

pub fn check<'a>(rule: &VulnerabilityRule, img: &ImageCtx<'a>, now: jiff::Timestamp) -> Option<Hit<'a>> {
    let posture = img.posture?;
    let mut hits: Vec<&Finding> = posture.findings.iter().filter(|f| counts(rule, f, now)).collect();
    if hits.is_empty() {
        return None;
    }
    hits.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.kev.cmp(&a.kev)).then(a.id.cmp(&b.id)));
    let fixable = hits.iter().filter(|f| f.fix_available()).count();
    let mut qualifiers = Vec::new();
    if rule.fix_available_only {
        qualifiers.push("fixable");
    }
    if rule.known_exploited_only {
        qualifiers.push("known-exploited");
    }
    let header = format!(
        "{} has {} above {}",
        image_label(img.image, img.container),
        plural(
            hits.len(),
            &format!("{}vulnerability", with_space(&qualifiers)),
            &format!("{}vulnerabilities", with_space(&qualifiers))
        ),
        rule.max_severity
    );
    let advice = if fixable == hits.len() {
        "Upgrade the listed packages to the fixed versions and rebuild the image".to_string()
    } else if fixable > 0 {
        format!(
            "{fixable} of them have fixed versions: upgrade those and rebuild; for the rest consider another base image"
        )
    } else {
        "No fixed versions are published yet: consider another base image or accept the risk".to_string()
    };
    let items =
        hits.iter().map(|f| Item { key: f.id.to_string(), aliases: f.aliases.clone(), text: describe(f) }).collect();
    Some(Hit { container: Some(img.container), image: Some(img.image), header, items, advice })
}

fn with_space(words: &[&str]) -> String {
    if words.is_empty() { String::new() } else { format!("{} ", words.join(" ")) }
}
