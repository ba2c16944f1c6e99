//! Recomputing what changed: the correlated views of artifacts whose reports (or tag
//! mappings, or enrichment) changed, and the exposure of applications in changed
//! namespaces.
//!
//! Correlation is the expensive part (one image can carry tens of thousands of findings),
//! so it runs outside the index's locks, on owned data: [`PostureIndex::plan_refresh`]
//! gathers what the changed artifacts' reports say (a read of shared pointers),
//! [`RefreshInput::compute`] correlates without touching the index, and
//! [`PostureIndex::apply_refresh`] swaps the result in. The operator holds a read lock
//! for the first step and a short write lock for the last ([`refresh_shared`]), so
//! admission keeps answering meanwhile. Changes made between the steps stay marked and
//! are recomputed by the next refresh; a plan older than one already applied is
//! discarded whole.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use rustc_hash::FxHashSet;

use super::changes::Touch;
use super::correlate::{Identities, correlate_shared};
use super::packages::PackageIndex;
use super::{ArtifactPosture, PostureIndex, SharedIndex, completeness};
use crate::model::artifact::image_artifact_key;
use crate::model::{Artifact, ArtifactKey, Component, Finding, ImageKey, Trust};
use crate::vex::VexSet;

/// What the reports of the changed artifacts say, gathered from the index (shared
/// pointers, no correlation yet).
#[derive(Debug, Default)]
pub struct RefreshInput {
    generation: u64,
    /// The raw keys being recomputed, with the generation that marked them.
    dirty: Vec<(ArtifactKey, u64)>,
    /// Raw keys that now resolve elsewhere (a tag whose digest became known).
    stale: Vec<ArtifactKey>,
    /// Each resolved key with what its reports say, in report id order.
    keys: Vec<(ArtifactKey, Vec<Contribution>)>,
    /// The trusted VEX documents, applied to the correlated findings.
    vex: Arc<VexSet>,
}

/// What one report says about one artifact.
#[derive(Debug)]
struct Contribution {
    trust: Trust,
    findings: Vec<Arc<Finding>>,
    scanned: bool,
    scanned_at: Option<Timestamp>,
    components: Option<Arc<Vec<Component>>>,
    artifact: Option<Artifact>,
}

/// The new state of the artifacts that changed, ready to swap in.
#[derive(Debug, Default)]
pub struct RefreshPlan {
    generation: u64,
    dirty: Vec<(ArtifactKey, u64)>,
    stale: Vec<ArtifactKey>,
    results: Vec<(ArtifactKey, Computed)>,
}

impl RefreshInput {
    /// How many artifacts need recomputing.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no artifact needs recomputing.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.stale.is_empty()
    }

    /// Correlates every changed artifact (the expensive step; touches no index).
    pub fn compute(self) -> RefreshPlan {
        RefreshPlan {
            generation: self.generation,
            dirty: self.dirty,
            stale: self.stale,
            results: self.keys.into_iter().map(|(k, contributions)| (k, compute(contributions, &self.vex))).collect(),
        }
    }
}

/// The views of one artifact: the trusted one, and each tenant's where its own evidence
/// adds findings.
#[derive(Debug, Default)]
struct Computed {
    trusted: Option<Arc<ArtifactPosture>>,
    views: Vec<(Arc<str>, Arc<ArtifactPosture>)>,
}

impl Computed {
    /// The artifact the views are about (for the name and namespace lookups).
    fn artifact(&self) -> Option<&Artifact> {
        self.trusted.iter().chain(self.views.iter().map(|(_, v)| v)).find_map(|p| p.artifact.as_ref())
    }
}

/// What the reports of one trust level say about one artifact.
#[derive(Default)]
struct Evidence {
    findings: Vec<Arc<Finding>>,
    scanned: bool,
    last_scanned: Option<Timestamp>,
    components: Option<(Option<Timestamp>, Arc<Vec<Component>>)>,
    best: Option<Artifact>,
}

impl Evidence {
    fn is_empty(&self) -> bool {
        self.findings.is_empty() && !self.scanned && self.components.is_none()
    }

    fn offer_artifact(&mut self, a: &Artifact) {
        // The most complete identity; equal ones by their order, never by the report's id
        // (its path), so the same inputs in another folder give the same answer.
        let better = match &self.best {
            None => true,
            Some(b) => (completeness(a), std::cmp::Reverse(a)) > (completeness(b), std::cmp::Reverse(b)),
        };
        if better {
            self.best = Some(a.clone());
        }
    }
}

impl PostureIndex {
    /// Recomputes everything applies have invalidated: correlated findings of dirty
    /// artifacts and the exposure of applications in changed namespaces.
    pub fn refresh(&mut self) {
        let plan = self.plan_refresh().compute();
        self.apply_refresh(plan);
    }

    /// True when a refresh has something to do.
    pub fn needs_refresh(&self) -> bool {
        !self.dirty.is_empty() || !self.topology_dirty.is_empty()
    }

    /// Gathers what the reports of every dirty artifact say (cheap: shared pointers), for
    /// [`RefreshInput::compute`].
    pub fn plan_refresh(&self) -> RefreshInput {
        let mut input = RefreshInput { generation: self.generation, vex: self.vex.clone(), ..Default::default() };
        let mut resolved = FxHashSet::default();
        for (k, stamp) in &self.dirty {
            input.dirty.push((k.clone(), *stamp));
            let r = self.resolve_raw_key(k);
            if r != *k {
                input.stale.push(k.clone());
            }
            resolved.insert(r);
        }
        input.keys = resolved.into_iter().map(|k| (k.clone(), self.gather(&k))).collect();
        input
    }

    /// Swaps in a plan's views (unless a newer plan was applied since) and recomputes
    /// the exposure of changed namespaces. When it swapped in anything, that is a change
    /// of its own: the generation moves and what it touched is recorded, so a reader that
    /// asked what changed before the swap learns of it ([`super::changes`]).
    pub fn apply_refresh(&mut self, plan: RefreshPlan) {
        let mut touches = Vec::new();
        if plan.generation >= self.refreshed {
            self.refreshed = plan.generation;
            for (k, stamp) in plan.dirty {
                if self.dirty.get(&k) == Some(&stamp) {
                    self.dirty.remove(&k);
                }
            }
            for k in plan.stale {
                touches.push(Touch::Artifact(k.clone()));
                // A tag that now maps to a digest: its findings live under the digest.
                let old = self.artifacts.remove(&k);
                let old_views = self.views.remove(&k);
                let artifact = old
                    .as_ref()
                    .and_then(|p| p.artifact.clone())
                    .or_else(|| old_views.as_ref().and_then(|v| v.values().find_map(|p| p.artifact.clone())));
                self.unlink_artifact(&k, artifact.as_ref());
            }
            for (k, computed) in plan.results {
                touches.push(Touch::Artifact(k.clone()));
                self.swap(k, computed);
            }
        }
        let namespaces: Vec<Arc<str>> = self.topology_dirty.drain().collect();
        for ns in namespaces {
            self.recompute_exposure(&ns);
            touches.push(Touch::Namespace(ns));
        }
        if !touches.is_empty() {
            self.generation += 1;
            for t in touches {
                self.touched(t);
            }
        }
    }

    fn swap(&mut self, key: ArtifactKey, c: Computed) {
        let old = self
            .artifacts
            .get(&key)
            .and_then(|p| p.artifact.clone())
            .or_else(|| self.views.get(&key).and_then(|v| v.values().find_map(|p| p.artifact.clone())));
        let new = c.artifact().cloned();
        if old.is_some() && old != new {
            self.unlink_artifact(&key, old.as_ref());
        }
        match &new {
            Some(Artifact::Image(img)) => {
                self.images_by_name.entry(img.name()).or_default().insert(key.clone());
            }
            Some(Artifact::Object(o)) => {
                let ns: Arc<str> = o.namespace.clone().unwrap_or_else(|| Arc::from(""));
                self.objects_by_ns.entry(ns).or_default().insert(key.clone());
            }
            _ => {}
        }
        match c.trusted {
            Some(p) => {
                self.artifacts.insert(key.clone(), p);
            }
            None => {
                self.artifacts.remove(&key);
            }
        }
        if c.views.is_empty() {
            self.views.remove(&key);
        } else {
            self.views.insert(key, c.views.into_iter().collect());
        }
    }

    fn unlink_artifact(&mut self, key: &ArtifactKey, artifact: Option<&Artifact>) {
        match artifact {
            Some(Artifact::Image(img)) => {
                if let Some(s) = self.images_by_name.get_mut(&img.name()) {
                    s.remove(key);
                }
            }
            Some(Artifact::Object(o)) => {
                if let Some(s) = self.objects_by_ns.get_mut(o.namespace.as_deref().unwrap_or("")) {
                    s.remove(key);
                }
            }
            _ => {}
        }
    }

    /// The key a raw (as reported) key resolves to: image tags map to their digest.
    fn resolve_raw_key(&self, k: &ArtifactKey) -> ArtifactKey {
        match k.0.strip_prefix("image:") {
            Some(rest) if !ImageKey(Arc::from(rest)).is_digest() => {
                self.tag_digest.get(&ImageKey(Arc::from(rest))).map_or_else(|| k.clone(), image_artifact_key)
            }
            _ => k.clone(),
        }
    }

    /// Raw keys whose reports feed the resolved key (a digest and every tag mapped to it).
    fn raw_keys(&self, key: &ArtifactKey) -> Vec<ArtifactKey> {
        let mut keys = vec![key.clone()];
        if let Some(digest) = key.0.strip_prefix("image:")
            && let Some(tags) = self.digest_tags.get(&ImageKey(Arc::from(digest)))
        {
            keys.extend(tags.iter().map(image_artifact_key));
        }
        keys
    }

    /// What every report that mentions a resolved artifact key says about it, in report
    /// id order (merging keeps the first report's fields and lists sources in merge order).
    fn gather(&self, key: &ArtifactKey) -> Vec<Contribution> {
        let raw = self.raw_keys(key);
        let mut contributing: Vec<(&Arc<str>, &ArtifactKey)> = raw
            .iter()
            .flat_map(|rk| self.reports_by_key.get(rk).into_iter().flatten().map(move |id| (id, rk)))
            .collect();
        contributing.sort_unstable();
        contributing
            .into_iter()
            .filter_map(|(id, rk)| {
                let r = self.reports.get(id)?;
                Some(Contribution {
                    trust: r.trust.clone(),
                    findings: r.by_artifact.get(rk).cloned().unwrap_or_default(),
                    // Only trusted reports are ever stored as scans and SBOMs (see `evidence`).
                    scanned: r.scanned.contains(rk),
                    scanned_at: r.scanned_at,
                    components: r.components.as_ref().filter(|(ck, _)| ck == rk).map(|(_, c)| c.clone()),
                    artifact: r.artifacts.get(rk).cloned(),
                })
            })
            .collect()
    }
}

/// The views of one artifact from what its reports say.
fn compute(contributions: Vec<Contribution>, vex: &VexSet) -> Computed {
    let mut trusted = Evidence::default();
    let mut tenants: BTreeMap<Arc<str>, Evidence> = BTreeMap::new();
    for c in contributions {
        let ev = match c.trust {
            Trust::Trusted => &mut trusted,
            Trust::Tenant(ns) => tenants.entry(ns).or_default(),
        };
        ev.findings.extend(c.findings);
        if c.scanned {
            ev.scanned = true;
            ev.last_scanned = ev.last_scanned.max(c.scanned_at);
        }
        if let Some(comps) = c.components
            && ev.components.as_ref().is_none_or(|(at, old)| (c.scanned_at, &comps) > (*at, old))
        {
            // The newest SBOM; at the same time, the greater inventory (not the later
            // path), so the answer does not depend on where the files are.
            ev.components = Some((c.scanned_at, comps));
        }
        if let Some(a) = &c.artifact {
            ev.offer_artifact(a);
        }
    }
    let mut out = Computed::default();
    if !trusted.is_empty() {
        out.trusted = Some(Arc::new(posture(&trusted, trusted.best.as_ref(), None, vex)));
    }
    let mut identities = None;
    for (ns, ev) in tenants {
        if ev.findings.is_empty() {
            continue;
        }
        let target = trusted.best.as_ref().or(ev.best.as_ref());
        let base = out.trusted.as_ref();
        let known = identities.get_or_insert_with(|| Identities::of(base.map_or(&[][..], |b| b.findings.as_slice())));
        let view = posture(&ev, target, Some((base, known)), vex);
        if view.findings.len() > base.map_or(0, |b| b.findings.len()) {
            out.views.push((ns, Arc::new(view)));
        }
    }
    out
}

/// A posture from one trust level's evidence; a tenant's view also takes the trusted
/// posture (`base`) and adds only the findings none of its findings already is.
fn posture(
    ev: &Evidence,
    target: Option<&Artifact>,
    base: Option<(Option<&Arc<ArtifactPosture>>, &Identities)>,
    vex: &VexSet,
) -> ArtifactPosture {
    let resolve = |a: &Artifact| match (a, target) {
        (Artifact::Image(_), Some(t @ Artifact::Image(_))) => Some(t.clone()),
        _ => None,
    };
    // Raw findings were enriched when stored; merging keeps KEV and the highest EPSS.
    let mut findings = correlate_shared(ev.findings.clone(), resolve);
    // VEX decides on the correlated finding (every id and source it has), whoever reported it.
    vex.apply(&mut findings);
    let (scanned, last_scanned, components) = match base {
        None => (ev.scanned, ev.last_scanned, ev.components.as_ref().map(|(_, c)| c.clone())),
        Some((trusted, known)) => {
            // A tenant adds findings; it never changes one a trusted source stated (nor
            // merges two of them into one through its aliases).
            findings.retain(|f| !known.contains(f));
            if let Some(t) = trusted {
                findings.extend(t.findings.iter().cloned());
            }
            match trusted {
                Some(t) => (t.scanned, t.last_scanned, t.components.clone()),
                None => (false, None, None),
            }
        }
    };
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    ArtifactPosture {
        artifact: base.and_then(|(t, _)| t.and_then(|t| t.artifact.clone())).or_else(|| target.cloned()),
        scanned,
        last_scanned,
        packages: PackageIndex::build(components.as_ref().map(|c| c.as_slice()), &findings),
        findings,
        components,
        precomputed: Default::default(),
    }
}

/// Why a shared index could not be refreshed.
#[derive(Debug, thiserror::Error)]
#[error("the posture index lock is poisoned (a panic while it was held)")]
pub struct Poisoned;

/// Refreshes a shared index without holding a lock while correlating: gathers under a read
/// lock, correlates on owned data, swaps under a short write lock. Blocking and CPU-bound:
/// async callers run it on the blocking pool. Returns the generation after the swap.
pub fn refresh_shared(index: &SharedIndex) -> Result<u64, Poisoned> {
    let input = {
        let idx = index.read().map_err(|_| Poisoned)?;
        if !idx.needs_refresh() {
            return Ok(idx.generation());
        }
        idx.plan_refresh()
    };
    // No lock held while correlating.
    let plan = input.compute();
    let mut idx = index.write().map_err(|_| Poisoned)?;
    idx.apply_refresh(plan);
    Ok(idx.generation())
}
