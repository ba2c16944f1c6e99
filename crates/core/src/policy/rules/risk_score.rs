//! `riskScore`: no finding whose contextual risk exceeds a threshold.

use super::{Hit, plural};
use crate::guardrail::spec::RiskScoreRule;
use crate::index::ArtifactPosture;
use crate::policy::context::{ImageCtx, Subject};
use crate::policy::precomputed::{Part, PartItems};
use crate::risk::{self, RiskContext};

/// A hit listing the image's findings whose contextual risk (in the workload's context) exceeds `max`, worst first.
pub fn check<'a>(rule: &RiskScoreRule, img: &ImageCtx<'a>, s: &Subject<'_>) -> Option<Hit<'a>> {
    part(rule, img.posture?, &s.risk).map(|p| p.hit(img, s.risk))
}

/// The image's part of the violation: the findings of the posture whose risk in `ctx`
/// exceeds `max`, highest first (then by id). Holds while no finding's age factor changes
/// ([`risk::stable_window`]).
pub fn part(rule: &RiskScoreRule, posture: &ArtifactPosture, ctx: &RiskContext) -> Option<Part> {
    let mut scored: Vec<(u32, u32, &str)> = posture
        .findings
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let points = risk::points(f, ctx);
            (points > rule.max).then_some((points, u32::try_from(i).ok()?, &*f.id))
        })
        .collect();
    if scored.is_empty() {
        return None;
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(b.2)));
    let tail = format!(
        " has {} with risk above {} (highest {}) in this context (exposure {}, criticality {})",
        plural(scored.len(), "finding", "findings"),
        rule.max,
        scored[0].0,
        ctx.reach.as_str(),
        ctx.criticality.as_str()
    );
    Some(Part {
        items: PartItems::Risks(scored.into_iter().map(|(_, i, _)| i).collect()),
        tail: tail.into(),
        advice: "Fix the highest-risk findings first (see their factors), or reduce exposure".into(),
    })
}
