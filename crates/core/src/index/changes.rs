//! What a change to the index reaches, readable as "what changed since generation g", and
//! which applications that touches.
//!
//! Every change that moves [`PostureIndex::generation`] records what it touched: a
//! namespace (its workloads, Services, routes, labels, applications, Assets, or the
//! objects and attributions reports name in it), an artifact (a report's findings, a tag
//! that now resolves elsewhere, a correlation swapped in by a refresh), or everything
//! (policies, exceptions, KEV/EPSS, VEX). An applied object that changes nothing the
//! index derives touches nothing: an Asset applied again identical is not a change at all,
//! and Stance's own discovered image Asset — which only records a repository its
//! application already runs — moves the generation (the sweep writes its status) but
//! touches no application.
//!
//! The operator re-assesses only the applications [`PostureIndex::apps_touched`] names
//! (operator load test, BENCHMARKS.md: each of the first sweep's ~2,110 Asset creations
//! used to re-assess all 200 applications). A refresh that swaps in new correlated views
//! or exposure is itself a change (its own generation), so a reader that looked before
//! the refresh sees it the next time it asks.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::PostureIndex;
use crate::model::artifact::image_artifact_key;
use crate::model::{App, ArtifactKey, ImageRef};

/// What one change reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Touch {
    /// Anything may have changed: policies, exceptions, KEV/EPSS, VEX, configuration.
    Everything,
    /// Something every application of this namespace may depend on.
    Namespace(Arc<str>),
    /// An artifact's findings or evidence (raw or resolved key).
    Artifact(ArtifactKey),
}

/// Everything the changes after some generation touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Touched {
    /// Nothing derived changed.
    #[default]
    Nothing,
    /// Everything may have changed (or the changes are older than the log holds).
    Everything,
    /// These namespaces and artifacts.
    Scoped { namespaces: FxHashSet<Arc<str>>, artifacts: FxHashSet<ArtifactKey> },
}

/// The applications a set of changes reaches.
#[derive(Debug, PartialEq)]
pub enum Affected<'a> {
    /// Every application.
    All,
    /// These, most critical first (then by namespace and name).
    Apps(Vec<&'a Arc<App>>),
}

/// Most touches held; older ones are forgotten and a reader that last looked before them
/// is told [`Touched::Everything`]. A first list of 4,000 reports records ~10,000.
const MAX_TOUCHES: usize = 1 << 16;

/// The recent touches, oldest first, with the generation that made each.
#[derive(Debug, Default)]
pub(super) struct ChangeLog {
    entries: VecDeque<(u64, Touch)>,
    /// Touches made at or before this generation may have been forgotten.
    floor: u64,
}

impl ChangeLog {
    pub(super) fn record(&mut self, generation: u64, touch: Touch) {
        if self.entries.back().is_some_and(|(g, t)| *g == generation && *t == touch) {
            return;
        }
        if self.entries.len() >= MAX_TOUCHES
            && let Some((g, _)) = self.entries.pop_front()
        {
            self.floor = self.floor.max(g);
        }
        self.entries.push_back((generation, touch));
    }

    /// What the changes made after `generation` touched.
    fn since(&self, generation: u64) -> Touched {
        if generation < self.floor {
            return Touched::Everything;
        }
        let mut out = Touched::Nothing;
        // Newest first: stop at the first touch the reader has already seen.
        for (_, t) in self.entries.iter().rev().take_while(|(g, _)| *g > generation) {
            let (namespaces, artifacts) = match &mut out {
                Touched::Everything => return Touched::Everything,
                Touched::Nothing => {
                    out = Touched::Scoped { namespaces: FxHashSet::default(), artifacts: FxHashSet::default() };
                    let Touched::Scoped { namespaces, artifacts } = &mut out else { unreachable!() };
                    (namespaces, artifacts)
                }
                Touched::Scoped { namespaces, artifacts } => (namespaces, artifacts),
            };
            match t {
                Touch::Everything => return Touched::Everything,
                Touch::Namespace(ns) => {
                    namespaces.insert(ns.clone());
                }
                Touch::Artifact(k) => {
                    artifacts.insert(k.clone());
                }
            }
        }
        out
    }
}

impl PostureIndex {
    /// Records a change: moves the generation and notes what the change touched.
    pub(super) fn touch(&mut self, touch: Touch) {
        self.generation += 1;
        self.changes.record(self.generation, touch);
    }

    /// Notes what a change touched at the current generation (the change moved it).
    pub(super) fn touched(&mut self, touch: Touch) {
        self.changes.record(self.generation, touch);
    }

    /// What the changes made after generation `since` touched (see the module
    /// documentation). Ask with the generation read together with the last answer.
    pub fn touched_since(&self, since: u64) -> Touched {
        self.changes.since(since)
    }

    /// The applications `touched` reaches: those in a touched namespace, and those whose
    /// workloads run, or who claim ([`PostureIndex::app_claims`]), a touched artifact —
    /// most critical first, so their status is written first.
    pub fn apps_touched(&self, touched: &Touched) -> Affected<'_> {
        let (namespaces, artifacts) = match touched {
            Touched::Nothing => return Affected::Apps(Vec::new()),
            Touched::Everything => return Affected::All,
            Touched::Scoped { namespaces, artifacts } => (namespaces, artifacts),
        };
        // Image repositories of touched image artifacts, for applications that claim an
        // image repository through an Asset (their keys are only known once correlated).
        let image_names: FxHashSet<String> = artifacts
            .iter()
            .filter_map(|k| k.0.strip_prefix("image:"))
            .filter_map(|i| ImageRef::parse(i).ok())
            .map(|i| i.name())
            .collect();
        let mut apps: Vec<&Arc<App>> = self
            .apps()
            .filter(|app| namespaces.contains(&app.namespace) || self.app_uses_any(app, artifacts, &image_names))
            .collect();
        let mut ranked: Vec<_> = apps.drain(..).map(|a| (self.app_context(a).criticality, a)).collect();
        ranked
            .sort_by(|(ca, a), (cb, b)| cb.cmp(ca).then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))));
        Affected::Apps(ranked.into_iter().map(|(_, a)| a).collect())
    }

    /// True when the application runs or claims one of `artifacts` (raw or resolved key),
    /// or claims an image repository in `image_names`.
    fn app_uses_any(&self, app: &App, artifacts: &FxHashSet<ArtifactKey>, image_names: &FxHashSet<String>) -> bool {
        if artifacts.is_empty() {
            return false;
        }
        let workloads: Vec<_> = self.app_workloads(app).map(|w| &**w).collect();
        let runs = workloads.iter().flat_map(|w| w.images()).any(|img| {
            artifacts.contains(&image_artifact_key(&img.key()))
                || artifacts.contains(&self.resolve_key(&crate::model::Artifact::Image(img.clone())))
        });
        if runs {
            return true;
        }
        let claims = self.app_claims(app, &workloads);
        claims.keys.iter().any(|k| artifacts.contains(k)) || claims.image_names.iter().any(|n| image_names.contains(n))
    }
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
