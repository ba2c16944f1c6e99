//! `scanRequired` and `sbomRequired`: evidence must exist for every image.

use super::Hit;
use crate::guardrail::spec::ScanRequiredRule;
use crate::policy::context::ImageCtx;

/// A hit when the image has no vulnerability scan, or one older than `maxAgeHours` at `now`.
pub fn scan_required<'a>(rule: &ScanRequiredRule, img: &ImageCtx<'a>, now: jiff::Timestamp) -> Option<Hit<'a>> {
    let label = &img.label;
    if !img.scanned() {
        return Some(Hit {
            container: Some(img.container),
            image: Some(img.image),
            header: format!("{label} has no vulnerability scan report"),
            items: Vec::new(),
            advice:
                "Scan it (Trivy Operator does this for running workloads; in CI, publish the Trivy JSON or CycloneDX \
                     result as a report) and retry"
                    .into(),
        });
    }
    let max_hours = rule.max_age_hours?;
    let last = img.posture.and_then(|p| p.last_scanned);
    let age_hours = last.map(|t| now.duration_since(t).as_secs() / 3600);
    match age_hours {
        Some(h) if h <= i64::from(max_hours) => None,
        _ => Some(Hit {
            container: Some(img.container),
            image: Some(img.image),
            header: match (age_hours, last) {
                (Some(h), Some(t)) => {
                    format!("{label} was last scanned {h}h ago ({t}); the maximum age is {max_hours}h")
                }
                _ => format!("{label} has a scan report without a scan time; the maximum age is {max_hours}h"),
            },
            items: Vec::new(),
            advice: "Re-scan the image".into(),
        }),
    }
}

/// A hit when no SBOM lists the image's components.
pub fn sbom_required<'a>(img: &ImageCtx<'a>) -> Option<Hit<'a>> {
    if img.posture.is_some_and(|p| p.has_sbom()) {
        return None;
    }
    Some(Hit {
        container: Some(img.container),
        image: Some(img.image),
        header: format!("{} has no SBOM", img.label),
        items: Vec::new(),
        advice: "Publish a CycloneDX or SPDX SBOM for it (Trivy Operator's SbomReport, or from CI)".into(),
    })
}
