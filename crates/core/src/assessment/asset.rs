//! An Asset's observed state: the findings of the artifacts it names and where it runs.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;

use super::app::severity_counts;
use super::status::AssetStatus;
use crate::index::{ArtifactPosture, PostureIndex};
use crate::model::artifact::{normalize_endpoint, normalize_repository};
use crate::model::{Artifact, Asset, AssetType, Criticality, ImageRef};
use crate::risk::criticality;
use crate::risk::reach::{self, Stated};
use crate::risk::{self, RiskContext};

/// Workloads listed in `status.seenIn` (all are counted in `workloadCount`).
pub const MAX_SEEN_IN: usize = 20;

/// The image repository name an image Asset identifies (`registry/repository`).
pub fn image_name(identifier: &str) -> String {
    ImageRef::parse(identifier).map(|i| i.name()).unwrap_or_else(|_| identifier.trim().to_ascii_lowercase())
}

/// The risk context of an Asset's findings at `now`: its application's context (an
/// application of the Asset's own namespace only: a reference to another namespace's is
/// ignored, and the edge warns when it reads one), raised — never lowered — by the
/// Asset's own criticality and exposure, which are declarations like an AppPosture's
/// (the one rule: `index::context`).
pub fn asset_context(index: &PostureIndex, asset: &Asset, now: Timestamp) -> RiskContext {
    let ns = &*asset.namespace;
    let app = asset
        .app_ref
        .as_ref()
        .filter(|r| r.namespace.as_deref().is_none_or(|n| n == ns))
        .and_then(|r| index.app(ns, &r.name));
    let mut ctx = RiskContext::unknown(now);
    let app_context = app.map(|a| index.app_context(a));
    if let Some(app) = app {
        ctx.data = app.data_classification;
    }
    let declared_criticality: Vec<Stated<Criticality>> = app
        .map(|a| Stated { value: a.criticality, by: format!("AppPosture {}/{}", a.namespace, a.name) })
        .into_iter()
        .chain(asset.criticality.map(|c| Stated { value: c, by: format!("Asset {}/{}", asset.namespace, asset.name) }))
        .collect();
    let floor = Stated { value: index.context(ns, &[], None).criticality, by: format!("namespace {ns}") };
    ctx.criticality = criticality::resolve(&declared_criticality, Some(floor), ns).criticality;
    ctx.reach = match (&app_context, asset.exposure) {
        (Some(c), Some(e)) => {
            reach::resolve((c.reach, c.reasons.clone()), &[Stated { value: e, by: "the Asset".into() }], None).reach
        }
        (Some(c), None) => c.reach,
        // Nothing detected to compare with: the Asset's declaration stands.
        (None, e) => e.and_then(reach::declared).unwrap_or(ctx.reach),
    };
    ctx
}

/// The postures of the artifacts an Asset names and, for images and Services, the
/// top-level workloads of its own namespace that run it (the one home of "an asset's
/// findings": its status and the remediation lifecycle both read them here).
pub fn asset_postures(index: &PostureIndex, asset: &Asset) -> (Vec<Arc<ArtifactPosture>>, BTreeSet<String>) {
    let ns = &*asset.namespace;
    let mut postures = Vec::new();
    let mut seen_in = BTreeSet::new();
    match asset.asset_type {
        AssetType::Image => {
            let name = image_name(&asset.identifier);
            postures.extend(index.artifacts_of_image_name(ns, &name));
            // Only the asset's own namespace: a team's asset must not reveal other tenants.
            for w in index.workloads_in(ns).filter(|w| index.reported_on_its_own(w)) {
                if w.images().any(|i| i.name() == name) {
                    seen_in.insert(w.object_ref().to_string());
                }
            }
        }
        AssetType::Repository => {
            postures.extend(
                index
                    .artifact_for(ns, &Artifact::Repository(Arc::from(normalize_repository(&asset.identifier))))
                    .cloned(),
            );
        }
        AssetType::Endpoint => {
            postures.extend(
                index.artifact_for(ns, &Artifact::Endpoint(Arc::from(normalize_endpoint(&asset.identifier)))).cloned(),
            );
        }
        AssetType::Service => {
            if let Some(svc) = index.services_in(ns).find(|s| *s.name == *asset.identifier) {
                for w in index.workloads_in(ns).filter(|w| index.reported_on_its_own(w)) {
                    if crate::selector::subset_matches(&svc.selector, &w.pod_labels) {
                        seen_in.insert(w.object_ref().to_string());
                    }
                }
            }
        }
    }
    (postures, seen_in)
}

/// Computes an Asset's status at `now`.
pub fn assess_asset(index: &PostureIndex, asset: &Asset, now: Timestamp) -> AssetStatus {
    let ctx = asset_context(index, asset, now);
    let (postures, seen_in) = asset_postures(index, asset);
    let open: Vec<_> =
        postures.iter().flat_map(|p| p.findings.iter()).filter(|f| !f.suppressed()).map(|f| &**f).collect();
    AssetStatus {
        risk_score: open.iter().map(|f| risk::points(f, &ctx)).max().unwrap_or(0),
        findings: severity_counts(open.iter().copied()),
        last_scanned: postures.iter().filter_map(|p| p.last_scanned).max().map(|t| t.to_string()),
        workload_count: seen_in.len() as u32,
        seen_in: seen_in.into_iter().take(MAX_SEEN_IN).collect(),
        observed_generation: asset.generation,
    }
}
