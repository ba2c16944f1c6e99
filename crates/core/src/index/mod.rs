//! The in-memory posture index: every report, workload, network object, application,
//! policy and exception Stance knows, plus the correlated findings of each artifact.
//!
//! A plain struct with synchronous `apply_*` / `delete_*` per kind. It stores domain values
//! only ([`App`], [`Asset`], compiled [`Policy`] and [`Exception`] entries), never the
//! Kubernetes objects they came from. The CLI fills it from files and calls
//! [`PostureIndex::refresh`] once; the operator applies watch events, then builds the new
//! correlated state under a read lock and swaps it in ([`refresh_shared`]); the webhook
//! only reads. Share it as [`SharedIndex`].
//!
//! Evidence is scoped by who wrote it ([`trust`]): trusted reports speak for every
//! namespace; a tenant's reports only add findings, seen from the tenant's own namespace.
//! So every query about findings takes the viewer's namespace
//! ([`image_for`](PostureIndex::image_for), [`posture_for`](PostureIndex::posture_for), …):
//! the namespace of the workload, application or asset being judged.
//!
//! - [`evidence`]: reports in and out — trust, clamped times, tag → digest claims, VEX documents.
//! - [`refresh`]: correlation of changed artifacts, planned outside the write lock.
//! - [`topology`]: workloads, network objects, applications, assets, policies, exceptions.
//! - [`exposure`]: which Services and routes reach a set of workloads.
//! - [`correlate`], [`interner`], [`packages`]: merging reports, sharing strings, package lookups.

pub mod changes;
pub mod context;
pub mod correlate;
pub mod evidence;
pub mod exposure;
pub mod interner;
pub mod object;
pub mod packages;
pub mod refresh;
pub mod topology;
pub mod trust;

pub use changes::{Affected, Touch, Touched};
pub use object::{ExceptionEntry, KubeObject, PolicyEntry};
pub use refresh::{Poisoned, RefreshInput, RefreshPlan, refresh_shared};
pub use trust::TrustConfig;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};

use self::exposure::Detected;
use self::interner::Interner;
#[cfg(doc)]
use crate::guardrail::{Exception, Policy};
use crate::ingest::{Epss, Kev};
use crate::model::artifact::image_artifact_key;
use crate::model::{
    App, Artifact, ArtifactKey, Asset, Component, ControllerIdentity, Finding, ImageKey, ImageRef, Namespace,
    ObjectRef, ReferenceGrant, Route, Service, Severity, Trust, Workload, WorkloadKind,
};

/// The index behind a lock, shared by the reconciler and the webhook. Never hold the
/// guard across an `.await`.
pub type SharedIndex = Arc<RwLock<PostureIndex>>;

/// Settings that change how the index judges exceptions, workloads and evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexConfig {
    /// Namespaces whose RiskExceptions policies honour unless a policy says otherwise.
    pub exception_namespaces: Vec<String>,
    /// Longest allowed exception lifetime (`expires` − creation), in days.
    pub max_exception_days: u32,
    /// Namespaces guardrails never apply to (so Stance cannot lock out its own recovery).
    pub exempt_namespaces: Vec<String>,
    /// Ingress and load-balancer classes the operator declared internal or internet.
    pub exposure: exposure::ExposureConfig,
    /// Controllers whose object creations admission spares when the object's controller is
    /// a workload the index knows (`policy::admission`); matched against the username the
    /// API server authenticated, never against anything the object says.
    pub controllers: Vec<ControllerIdentity>,
    /// Which evidence channels are trusted.
    pub trust: TrustConfig,
    /// Keep what image-level guardrail checks found with each image's posture, for the next
    /// request ([`crate::policy::precomputed`]). On everywhere Stance judges; off gives the
    /// reference evaluation the property test compares against.
    pub keep_outcomes: bool,
}

impl IndexConfig {
    /// True when guardrails never apply in this namespace (the one test of exemption:
    /// admission, `stance check` and the operator's audit all ask here).
    pub fn is_exempt(&self, namespace: &str) -> bool {
        self.exempt_namespaces.iter().any(|n| n == namespace)
    }

    /// True when policies honour RiskExceptions from this namespace unless they say otherwise.
    pub fn trusts_exceptions_from(&self, namespace: &str) -> bool {
        self.exception_namespaces.iter().any(|n| n == namespace)
    }
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            exception_namespaces: vec!["stance-system".into()],
            max_exception_days: 90,
            exempt_namespaces: vec!["kube-system".into(), "stance-system".into()],
            exposure: exposure::ExposureConfig::default(),
            controllers: ControllerIdentity::defaults(),
            trust: TrustConfig::default(),
            keep_outcomes: true,
        }
    }
}

/// The correlated state of one artifact, as one viewer sees it.
#[derive(Clone, Debug, Default)]
pub struct ArtifactPosture {
    /// The artifact with the most complete identity known (tag and digest for images).
    pub artifact: Option<Artifact>,
    /// Correlated, enriched findings, worst severity first. A finding only one report
    /// states is the same allocation the report holds.
    pub findings: Vec<Arc<Finding>>,
    /// A trusted report says it scanned this artifact (even when it found nothing).
    pub scanned: bool,
    /// When, as the newest trusted report says (clamped to when Stance observed it).
    pub last_scanned: Option<Timestamp>,
    /// Component inventory from the newest trusted SBOM that lists components, if any.
    pub components: Option<Arc<Vec<Component>>>,
    /// The SBOM's packages (or, without one, the vulnerable packages), indexed for rules.
    pub packages: packages::PackageIndex,
    /// What guardrail rules found in this posture, kept for the next request
    /// ([`crate::policy::precomputed`]). Valid because a posture is never changed in place.
    pub precomputed: crate::policy::precomputed::PartMemo,
}

impl ArtifactPosture {
    /// True when an SBOM listed this artifact's components.
    pub fn has_sbom(&self) -> bool {
        self.components.is_some()
    }
    /// The worst severity among the findings not suppressed by VEX.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().filter(|f| !f.suppressed()).map(|f| f.severity).max()
    }
}

/// A report as stored: whose word it is, its metadata and its findings split by
/// (unresolved) artifact key.
#[derive(Debug)]
struct StoredReport {
    trust: Trust,
    /// What it scanned (empty for tenant evidence: it never counts as a scan).
    scanned: Vec<ArtifactKey>,
    /// Its scan time, clamped to when Stance observed it.
    scanned_at: Option<Timestamp>,
    by_artifact: FxHashMap<ArtifactKey, Vec<Arc<Finding>>>,
    components: Option<(ArtifactKey, Arc<Vec<Component>>)>,
    subject: Option<ObjectRef>,
    artifacts: FxHashMap<ArtifactKey, Artifact>,
    /// The tag → digest mappings it claims (trusted reports only).
    tag_claims: Vec<TagClaim>,
    /// It is a trusted VEX document, held in [`PostureIndex::vex`] under its id.
    vex: bool,
}

/// A report's claim that a tag is a digest, as of its (clamped) scan time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TagClaim {
    tag: ImageKey,
    at: Option<Timestamp>,
    digest: ImageKey,
}

type NsName = (Arc<str>, Arc<str>);
/// Namespace → (kind, name) → workload.
type WorkloadsByNs = BTreeMap<Arc<str>, BTreeMap<(WorkloadKind, Arc<str>), Arc<Workload>>>;
/// (kind, namespace, name) of an Ingress or HTTPRoute.
type RouteKey = (Arc<str>, Arc<str>, Arc<str>);
/// Artifact key → viewer namespace → that tenant's view.
type Views = FxHashMap<ArtifactKey, FxHashMap<Arc<str>, Arc<ArtifactPosture>>>;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct PostureIndex {
    pub config: IndexConfig,
    reports: FxHashMap<Arc<str>, StoredReport>,
    /// Raw artifact key → ids of the reports that mention it.
    reports_by_key: FxHashMap<ArtifactKey, FxHashSet<Arc<str>>>,
    /// Image tag key → the claims of trusted reports, (time, digest) → how many reports
    /// make that claim. The greatest claim wins: the newest (clamped) time, ties broken by
    /// the digest, so the answer never depends on the order reports were read in.
    tag_claims: FxHashMap<ImageKey, BTreeMap<(Option<Timestamp>, ImageKey), u32>>,
    /// Image tag key → the digest its winning claim names, and the reverse.
    tag_digest: FxHashMap<ImageKey, ImageKey>,
    digest_tags: FxHashMap<ImageKey, FxHashSet<ImageKey>>,
    /// `registry/repository` → resolved image artifact keys (for image Assets).
    images_by_name: FxHashMap<String, FxHashSet<ArtifactKey>>,
    /// Namespace → resolved object artifact keys in it.
    objects_by_ns: FxHashMap<Arc<str>, FxHashSet<ArtifactKey>>,
    /// Subject (AppPosture / Asset) → ids of reports attributed to it.
    reports_by_subject: FxHashMap<ObjectRef, FxHashSet<Arc<str>>>,
    /// The trusted view of every artifact with trusted findings or evidence.
    artifacts: FxHashMap<ArtifactKey, Arc<ArtifactPosture>>,
    /// Tenants' views of artifacts their own evidence adds findings to.
    views: Views,
    /// Raw artifact keys to recompute → the generation that last changed them.
    dirty: FxHashMap<ArtifactKey, u64>,
    /// The generation of the last refresh plan applied (older plans are discarded).
    refreshed: u64,
    /// Shared copies of repeated strings (titles, package names, versions, URLs): the
    /// same CVE in 1,000 reports is stored once.
    strings: Interner,

    workloads: WorkloadsByNs,
    services: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Service>>,
    routes: BTreeMap<RouteKey, Route>,
    /// Gateway API ReferenceGrants by (namespace, name).
    grants: BTreeMap<NsName, ReferenceGrant>,
    namespaces: BTreeMap<Arc<str>, Namespace>,
    apps: BTreeMap<NsName, Arc<App>>,
    assets: BTreeMap<NsName, Arc<Asset>>,
    policies: BTreeMap<Arc<str>, PolicyEntry>,
    exceptions: BTreeMap<NsName, ExceptionEntry>,
    kev: Kev,
    epss: Epss,
    /// Namespaces whose applications' exposure must be recomputed.
    topology_dirty: FxHashSet<Arc<str>>,
    exposure: FxHashMap<NsName, Arc<Detected>>,
    generation: u64,
    /// What the recent changes touched ([`changes`]).
    changes: changes::ChangeLog,
    /// Remediation lifecycles (first-seen dates) set by the history task, if any.
    ledger: Option<Arc<crate::lifecycle::Ledger>>,
    /// The trusted VEX documents, applied to every artifact's findings on refresh.
    vex: Arc<crate::vex::VexSet>,
}

impl PostureIndex {
    /// An empty index.
    pub fn new(config: IndexConfig) -> PostureIndex {
        PostureIndex { config, ..Default::default() }
    }

    /// Increases on every change (and when a refresh swaps in what changed); readers can
    /// tell whether anything moved, and ask what ([`touched_since`](Self::touched_since)).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    // ---- exploitability feeds ---------------------------------------------------------

    /// Replaces the KEV catalog and re-enriches every finding (call
    /// [`refresh`](Self::refresh) before reading).
    pub fn set_kev(&mut self, kev: Kev) {
        self.kev = kev;
        self.reenrich();
    }

    /// Replaces the EPSS scores and re-enriches every finding (call
    /// [`refresh`](Self::refresh) before reading).
    pub fn set_epss(&mut self, epss: Epss) {
        self.epss = epss;
        self.reenrich();
    }

    /// Adds KEV entries to the catalog and re-enriches (call [`refresh`](Self::refresh)).
    pub fn merge_kev(&mut self, more: Kev) {
        let mut kev = std::mem::take(&mut self.kev);
        kev.merge(more);
        self.set_kev(kev);
    }

    /// Adds EPSS scores and re-enriches (call [`refresh`](Self::refresh)).
    pub fn merge_epss(&mut self, more: Epss) {
        let mut epss = std::mem::take(&mut self.epss);
        epss.merge(more);
        self.set_epss(epss);
    }

    /// The CISA KEV catalog findings are enriched from.
    pub fn kev(&self) -> &Kev {
        &self.kev
    }

    /// Re-enriches every stored finding and marks every artifact for recomputation (the
    /// caller refreshes).
    fn reenrich(&mut self) {
        for r in self.reports.values_mut() {
            for fs in r.by_artifact.values_mut() {
                for f in fs.iter_mut() {
                    let kev = f.ids().any(|id| self.kev.contains(id));
                    let epss = best_epss(f, &self.epss);
                    if f.kind == crate::model::FindingKind::Vulnerability
                        && (f.kev != kev || (epss.is_some() && f.epss != epss))
                    {
                        let f = Arc::make_mut(f);
                        enrich(f, &self.kev, &self.epss);
                        self.strings.intern_all(f);
                    }
                }
            }
        }
        self.touch(Touch::Everything);
        let g = self.generation;
        self.dirty.extend(self.reports_by_key.keys().map(|k| (k.clone(), g)));
    }

    /// Marks every artifact for recomputation (a VEX document came or went: it may decide
    /// findings anywhere).
    fn mark_all_dirty(&mut self) {
        self.touch(Touch::Everything);
        let g = self.generation;
        self.dirty.extend(self.reports_by_key.keys().map(|k| (k.clone(), g)));
    }

    /// The trusted VEX documents held.
    pub fn vex(&self) -> &crate::vex::VexSet {
        &self.vex
    }

    /// Marks a raw artifact key for recomputation at the current generation.
    fn mark_dirty(&mut self, key: ArtifactKey) {
        self.touched(Touch::Artifact(key.clone()));
        self.dirty.insert(key, self.generation);
    }

    /// Distinct finding details held (shared across reports and images).
    pub fn distinct_details(&self) -> usize {
        self.strings.details()
    }

    // ---- queries -------------------------------------------------------------------

    /// The artifact key findings about `a` are stored under (tags resolve to digests, as
    /// trusted reports say).
    pub fn resolve_key(&self, a: &Artifact) -> ArtifactKey {
        match a {
            Artifact::Image(img) => image_artifact_key(&self.resolve_image_key(img)),
            other => other.key(),
        }
    }

    fn resolve_image_key(&self, img: &ImageRef) -> ImageKey {
        if img.digest.is_some() {
            return img.key();
        }
        match img.tag_key() {
            Some(t) => self.tag_digest.get(&t).cloned().unwrap_or(t),
            None => img.key(),
        }
    }

    /// The posture of a container image as seen from namespace `viewer`: trusted evidence
    /// plus what `viewer`'s own evidence adds.
    pub fn image_for(&self, viewer: &str, img: &ImageRef) -> Option<&Arc<ArtifactPosture>> {
        self.posture_for(viewer, &image_artifact_key(&self.resolve_image_key(img)))
    }

    /// The posture of any artifact as seen from namespace `viewer`.
    pub fn artifact_for(&self, viewer: &str, a: &Artifact) -> Option<&Arc<ArtifactPosture>> {
        self.posture_for(viewer, &self.resolve_key(a))
    }

    /// The posture stored under a resolved artifact key, as seen from namespace `viewer`.
    pub fn posture_for(&self, viewer: &str, key: &ArtifactKey) -> Option<&Arc<ArtifactPosture>> {
        if !self.views.is_empty()
            && let Some(view) = self.views.get(key).and_then(|v| v.get(viewer))
        {
            return Some(view);
        }
        self.artifacts.get(key)
    }

    /// The posture under a resolved key as trusted evidence alone shows it: for what an
    /// artifact is (its identity) and counts, never for judging a namespace's workloads.
    pub fn trusted_posture(&self, key: &ArtifactKey) -> Option<&Arc<ArtifactPosture>> {
        self.artifacts.get(key)
    }

    /// Every artifact with trusted findings or evidence, as trusted evidence alone shows it
    /// (what no tenant's evidence changed: for counts and metrics, never for judging a
    /// namespace's workloads).
    pub fn artifacts(&self) -> impl Iterator<Item = (&ArtifactKey, &Arc<ArtifactPosture>)> {
        self.artifacts.iter()
    }

    /// Every artifact as seen from namespace `viewer`: the trusted ones (with `viewer`'s
    /// view where its evidence adds findings) and those only `viewer`'s evidence names.
    pub fn artifacts_for<'a>(
        &'a self,
        viewer: &'a str,
    ) -> impl Iterator<Item = (&'a ArtifactKey, &'a Arc<ArtifactPosture>)> + 'a {
        let trusted = self.artifacts.iter().map(move |(k, p)| (k, self.posture_for(viewer, k).unwrap_or(p)));
        let tenant_only = self
            .views
            .iter()
            .filter(|(k, _)| !self.artifacts.contains_key(*k))
            .filter_map(move |(k, v)| v.get(viewer).map(|p| (k, p)));
        trusted.chain(tenant_only)
    }

    /// The namespaces whose own evidence adds findings somewhere, in name order.
    pub fn tenant_namespaces(&self) -> BTreeSet<&Arc<str>> {
        self.views.values().flat_map(|v| v.keys()).collect()
    }

    /// Total correlated findings of the trusted view.
    pub fn finding_count(&self) -> usize {
        self.artifacts.values().map(|a| a.findings.len()).sum()
    }

    // ---- remediation lifecycles ----------------------------------------------------------

    /// Replaces the lifecycle view evaluation counts first-seen dates from (the history
    /// task sets it after every observation; see [`crate::lifecycle`]). Not a change of
    /// posture: the generation does not move.
    pub fn set_ledger(&mut self, ledger: Arc<crate::lifecycle::Ledger>) {
        self.ledger = Some(ledger);
    }

    /// The lifecycle view, when a history task (or the CLI) set one.
    pub fn ledger(&self) -> Option<&Arc<crate::lifecycle::Ledger>> {
        self.ledger.as_ref()
    }
}

/// How much identity an artifact carries (an image with tag and digest beats either alone).
fn completeness(a: &Artifact) -> u8 {
    match a {
        Artifact::Image(i) => u8::from(i.tag.is_some()) + 2 * u8::from(i.digest.is_some()),
        _ => 0,
    }
}

/// Sets KEV membership and EPSS from any of the finding's ids.
pub fn enrich(f: &mut Finding, kev: &Kev, epss: &Epss) {
    if f.kind != crate::model::FindingKind::Vulnerability {
        return;
    }
    let known = f.ids().any(|id| kev.contains(id));
    f.kev = known;
    if let Some(best) = best_epss(f, epss) {
        f.epss = Some(best);
    }
}

fn best_epss(f: &Finding, epss: &Epss) -> Option<f32> {
    if f.kind != crate::model::FindingKind::Vulnerability {
        return None;
    }
    f.ids().filter_map(|id| epss.get(id)).map(|s| s.probability).reduce(f32::max)
}
