//! Findings on artifacts that run nowhere: a CI scan of an image no workload runs, a
//! repository's SARIF, a DAST scan of a host no route serves. They belong to no application
//! (declared or inferred), so without this list they would be invisible.
//!
//! An artifact "runs" when a top-level workload runs its image, when it is a Kubernetes
//! object one of them is (or controls), or when an application claims it beyond its
//! workloads (repositories, endpoints, image Assets, attributed reports, route hosts — see
//! [`PostureIndex::app_extra_artifacts`]). Every other artifact with findings is listed here,
//! under the Asset that names it when there is one, ranked in that Asset's context (its
//! criticality and exposure, else its application's), else in the context of an unknown
//! application (criticality `medium`, reach unknown).

use std::sync::Arc;

use jiff::Timestamp;
use rustc_hash::FxHashSet;

use super::app::Ranked;
use super::asset::{asset_context, image_name};
use super::inferred;
use crate::index::{ArtifactPosture, PostureIndex};
use crate::model::artifact::{normalize_endpoint, normalize_repository};
use crate::model::{Artifact, ArtifactKey, Asset, AssetType, Finding, Workload};
use crate::risk::{self, RiskContext};

/// One artifact no running workload uses, with its findings ranked.
#[derive(Debug)]
pub struct NotRunning<'a> {
    pub key: &'a ArtifactKey,
    pub posture: &'a Arc<ArtifactPosture>,
    /// The Asset that names the artifact, if any (the first by namespace and name).
    pub asset: Option<&'a Arc<Asset>>,
    /// Open findings, highest risk first.
    pub ranked: Vec<Ranked<'a>>,
    /// Findings a VEX statement suppresses.
    pub suppressed: usize,
    /// Those findings, shown as suppressed with the statement that did it.
    pub vex_suppressed: Vec<&'a Finding>,
    /// The highest risk among `ranked` (0 when none).
    pub risk_score: u32,
}

/// Resolved keys of every artifact that runs (see the module documentation).
pub fn running_artifacts(index: &PostureIndex) -> FxHashSet<ArtifactKey> {
    let mut keys = FxHashSet::default();
    let mut namespace: Option<&str> = None;
    let mut members: Vec<&Workload> = Vec::new();
    // Workloads come grouped by namespace: object artifacts are looked up once per namespace.
    let flush = |ns: Option<&str>, members: &mut Vec<&Workload>, keys: &mut FxHashSet<ArtifactKey>| {
        if let Some(ns) = ns {
            keys.extend(index.object_artifacts_of(ns, members));
        }
        members.clear();
    };
    for w in index.workloads().filter(|w| index.is_top_level(w)) {
        if namespace != Some(&*w.namespace) {
            flush(namespace, &mut members, &mut keys);
            namespace = Some(&w.namespace);
        }
        for img in w.images() {
            keys.insert(index.resolve_key(&Artifact::Image(img.clone())));
        }
        members.push(w);
    }
    flush(namespace, &mut members, &mut keys);
    for app in index.apps() {
        let ws: Vec<&Workload> = index.app_workloads(app).map(|w| &**w).collect();
        keys.extend(index.app_extra_artifacts(app, &ws));
    }
    for a in inferred::applications(index) {
        keys.extend(index.app_extra_artifacts(&a.app, &a.workloads));
    }
    keys
}

/// The Asset naming an artifact: an image Asset by repository, a repository or endpoint
/// Asset by its normalised identifier.
fn asset_of<'a>(index: &'a PostureIndex, artifact: Option<&Artifact>) -> Option<&'a Arc<Asset>> {
    let artifact = artifact?;
    index.assets().find(|a| match (a.asset_type, artifact) {
        (AssetType::Image, Artifact::Image(img)) => image_name(&a.identifier) == img.name(),
        (AssetType::Repository, Artifact::Repository(r)) => normalize_repository(&a.identifier) == **r,
        (AssetType::Endpoint, Artifact::Endpoint(e)) => normalize_endpoint(&a.identifier) == **e,
        _ => false,
    })
}

/// The risk context of an artifact's findings: its Asset's ([`asset_context`]) when it
/// has one, else an unknown application's.
fn context(index: &PostureIndex, asset: Option<&Asset>, now: Timestamp) -> RiskContext {
    asset.map(|a| asset_context(index, a, now)).unwrap_or_else(|| RiskContext::unknown(now))
}

/// Every artifact with findings that runs nowhere, highest risk first (then by key).
pub fn not_running(index: &PostureIndex, now: Timestamp) -> Vec<NotRunning<'_>> {
    let running = running_artifacts(index);
    let mut out: Vec<NotRunning<'_>> = index
        .artifacts()
        .filter(|(k, p)| !p.findings.is_empty() && !running.contains(*k))
        .map(|(key, posture)| {
            let asset = asset_of(index, posture.artifact.as_ref());
            let ctx = context(index, asset.map(|a| &**a), now);
            let mut ranked: Vec<Ranked<'_>> = posture
                .findings
                .iter()
                .filter(|f| !f.suppressed())
                .map(|f| Ranked { finding: f, risk: risk::score(f, &ctx), workloads: Vec::new() })
                .collect();
            ranked.sort_by(|a, b| {
                b.risk
                    .score
                    .cmp(&a.risk.score)
                    .then(b.finding.severity.cmp(&a.finding.severity))
                    .then_with(|| a.finding.id.cmp(&b.finding.id))
            });
            let suppressed = posture.findings.len() - ranked.len();
            let vex_suppressed: Vec<&Finding> =
                posture.findings.iter().filter(|f| f.suppressed()).map(|f| &**f).collect();
            let risk_score = ranked.first().map_or(0, |r| r.risk.score);
            NotRunning { key, posture, asset, ranked, suppressed, vex_suppressed, risk_score }
        })
        .collect();
    out.sort_by(|a, b| b.risk_score.cmp(&a.risk_score).then_with(|| a.key.cmp(b.key)));
    out
}
