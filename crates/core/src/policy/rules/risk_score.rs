//! `riskScore`: no finding whose contextual risk exceeds a threshold.

use super::{Hit, Item, ItemText, plural};
use crate::guardrail::spec::RiskScoreRule;
use crate::policy::context::{ImageCtx, Subject};
use crate::risk;

/// A hit listing the image's findings whose contextual risk (in the workload's context) exceeds `max`, worst first.
pub fn check<'a>(rule: &RiskScoreRule, img: &ImageCtx<'a>, s: &Subject<'_>) -> Option<Hit<'a>> {
    let posture = img.posture?;
    let mut scored: Vec<(u32, Item<'a>)> = posture
        .findings
        .iter()
        .filter_map(|f| {
            let points = risk::points(f, &s.risk);
            (points > rule.max).then(|| (points, Item::finding(f, ItemText::Risk(f, s.risk))))
        })
        .collect();
    if scored.is_empty() {
        return None;
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
    let header = format!(
        "{} has {} with risk above {} (highest {}) in this context (exposure {}, criticality {})",
        img.label,
        plural(scored.len(), "finding", "findings"),
        rule.max,
        scored[0].0,
        s.risk.reach.as_str(),
        s.risk.criticality.as_str()
    );
    Some(Hit {
        container: Some(img.container),
        image: Some(img.image),
        header,
        items: scored.into_iter().map(|(_, i)| i).collect(),
        advice: "Fix the highest-risk findings first (see their factors), or reduce exposure".into(),
    })
}
