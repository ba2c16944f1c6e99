//! An Asset's observed state: the findings of the artifacts it names and where it runs.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;

use super::app::severity_counts;
use super::status::AssetStatus;
use crate::index::PostureIndex;
use crate::model::artifact::{normalize_endpoint, normalize_repository};
use crate::model::{Artifact, Asset, AssetType, ImageRef};
use crate::risk::{self, RiskContext, reach};

/// Workloads listed in `status.seenIn` (all are counted in `workloadCount`).
pub const MAX_SEEN_IN: usize = 20;

/// The image repository name an image Asset identifies (`registry/repository`).
pub fn image_name(identifier: &str) -> String {
    ImageRef::parse(identifier).map(|i| i.name()).unwrap_or_else(|_| identifier.trim().to_ascii_lowercase())
}

/// Computes an Asset's status at `now`.
pub fn assess_asset(index: &PostureIndex, asset: &Asset, now: Timestamp) -> AssetStatus {
    let ns = &*asset.namespace;
    let app = asset.app_ref.as_ref().and_then(|r| index.app(r.namespace.as_deref().unwrap_or(ns), &r.name));
    let mut ctx = RiskContext::unknown(now);
    if let Some(app) = app {
        ctx.criticality = app.criticality;
        ctx.data = app.data_classification;
        ctx.reach = index.app_reach(app).0;
    }
    if let Some(c) = asset.criticality {
        ctx.criticality = c;
    }
    if let Some(r) = asset.exposure.and_then(reach::declared) {
        ctx.reach = r;
    }

    let mut postures = Vec::new();
    let mut seen_in = BTreeSet::new();
    match asset.asset_type {
        AssetType::Image => {
            let name = image_name(&asset.identifier);
            postures.extend(index.artifacts_of_image_name(ns, &name));
            // Only the asset's own namespace: a team's asset must not reveal other tenants.
            for w in index.workloads_in(ns).filter(|w| index.is_top_level(w)) {
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
                for w in index.workloads_in(ns).filter(|w| index.is_top_level(w)) {
                    if crate::selector::subset_matches(&svc.selector, &w.pod_labels) {
                        seen_in.insert(w.object_ref().to_string());
                    }
                }
            }
        }
    }
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
