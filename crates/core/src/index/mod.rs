//! The in-memory posture index: every report, workload, network object, application,
//! policy and exception Stance knows, plus the correlated findings of each artifact.
//!
//! A plain struct with synchronous `apply_*` / `delete_*` per kind. It stores domain values
//! only ([`App`], [`Asset`], compiled [`Policy`] and [`Exception`] entries), never the
//! Kubernetes objects they came from. The CLI fills it from files and calls
//! [`PostureIndex::refresh`] once; the operator applies watch events and refreshes after each
//! batch; the webhook only reads. Share it as [`SharedIndex`].
//!
//! - [`topology`]: workloads, network objects, applications, assets, policies, exceptions.
//! - [`exposure`]: which Services and routes reach a set of workloads.
//! - [`correlate`], [`interner`], [`packages`]: merging reports, sharing strings, package lookups.

pub mod context;
pub mod correlate;
pub mod exposure;
pub mod interner;
pub mod object;
pub mod packages;
pub mod topology;

pub use object::{ExceptionEntry, KubeObject, PolicyEntry};

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};

use self::correlate::correlate_shared;
use self::exposure::Detected;
use self::interner::Interner;
#[cfg(doc)]
use crate::guardrail::{Exception, Policy};
use crate::ingest::{Epss, Kev};
use crate::model::artifact::image_artifact_key;
use crate::model::{
    App, Artifact, ArtifactKey, Asset, Component, ControllerIdentity, Finding, ImageKey, ImageRef, Namespace,
    ObjectRef, ReferenceGrant, Report, Route, Service, Severity, Workload, WorkloadKind,
};

/// The index behind a lock, shared by the reconciler and the webhook. Never hold the
/// guard across an `.await`.
pub type SharedIndex = Arc<RwLock<PostureIndex>>;

/// Settings that change how the index judges exceptions and workloads.
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
        }
    }
}

/// The correlated state of one artifact.
#[derive(Clone, Debug, Default)]
pub struct ArtifactPosture {
    /// The artifact with the most complete identity known (tag and digest for images).
    pub artifact: Option<Artifact>,
    /// Correlated, enriched findings, worst severity first. A finding only one report
    /// states is the same allocation the report holds.
    pub findings: Vec<Arc<Finding>>,
    /// Some report says it scanned this artifact (even when it found nothing).
    pub scanned: bool,
    pub last_scanned: Option<Timestamp>,
    /// Component inventory from the newest SBOM, if any.
    pub components: Option<Arc<Vec<Component>>>,
    /// The SBOM's packages (or, without one, the vulnerable packages), indexed for rules.
    pub packages: packages::PackageIndex,
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

/// A report as stored: its metadata and its findings split by (unresolved) artifact key.
#[derive(Debug)]
struct StoredReport {
    scanned: Vec<ArtifactKey>,
    scanned_at: Option<Timestamp>,
    by_artifact: FxHashMap<ArtifactKey, Vec<Arc<Finding>>>,
    components: Option<(ArtifactKey, Arc<Vec<Component>>)>,
    subject: Option<ObjectRef>,
    artifacts: FxHashMap<ArtifactKey, Artifact>,
}

type NsName = (Arc<str>, Arc<str>);
/// Namespace → (kind, name) → workload.
type WorkloadsByNs = BTreeMap<Arc<str>, BTreeMap<(WorkloadKind, Arc<str>), Arc<Workload>>>;
/// (kind, namespace, name) of an Ingress or HTTPRoute.
type RouteKey = (Arc<str>, Arc<str>, Arc<str>);

/// See the module documentation.
#[derive(Debug, Default)]
pub struct PostureIndex {
    pub config: IndexConfig,
    reports: FxHashMap<Arc<str>, StoredReport>,
    /// Raw artifact key → ids of the reports that mention it.
    reports_by_key: FxHashMap<ArtifactKey, FxHashSet<Arc<str>>>,
    /// Image tag key → (digest key, when learned) and the reverse.
    tag_digest: FxHashMap<ImageKey, (ImageKey, Option<Timestamp>)>,
    digest_tags: FxHashMap<ImageKey, FxHashSet<ImageKey>>,
    /// `registry/repository` → resolved image artifact keys (for image Assets).
    images_by_name: FxHashMap<String, FxHashSet<ArtifactKey>>,
    /// Namespace → resolved object artifact keys in it.
    objects_by_ns: FxHashMap<Arc<str>, FxHashSet<ArtifactKey>>,
    /// Subject (AppPosture / Asset) → ids of reports attributed to it.
    reports_by_subject: FxHashMap<ObjectRef, FxHashSet<Arc<str>>>,
    artifacts: FxHashMap<ArtifactKey, Arc<ArtifactPosture>>,
    dirty: FxHashSet<ArtifactKey>,
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
    /// Remediation lifecycles (first-seen dates) set by the history task, if any.
    ledger: Option<Arc<crate::lifecycle::Ledger>>,
}

impl PostureIndex {
    /// An empty index.
    pub fn new(config: IndexConfig) -> PostureIndex {
        PostureIndex { config, ..Default::default() }
    }

    /// Increases on every change; readers can tell whether anything moved.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    // ---- reports -------------------------------------------------------------------

    /// Adds or replaces the report with this id. Call [`refresh`](Self::refresh) before reading.
    pub fn apply_report(&mut self, id: &str, report: Report) {
        self.delete_report(id);
        let id: Arc<str> = Arc::from(id);
        let mut stored = StoredReport {
            scanned: Vec::new(),
            scanned_at: report.scanned_at,
            by_artifact: FxHashMap::default(),
            components: None,
            subject: report.subject.clone(),
            artifacts: FxHashMap::default(),
        };
        // An SBOM lists components; it is not evidence that anyone looked for
        // vulnerabilities, so SBOM-only documents do not mark their subject scanned.
        let sbom_only = report.components.is_some()
            && !report.findings.iter().any(|f| f.kind == crate::model::FindingKind::Vulnerability);
        for a in &report.scanned {
            let k = a.key();
            self.learn_artifact(a, report.scanned_at);
            stored.artifacts.entry(k.clone()).or_insert_with(|| a.clone());
            if !sbom_only {
                stored.scanned.push(k);
            }
        }
        // Parsers give every finding its own copy of the report's artifact: share one.
        let mut shared_artifacts: FxHashMap<ArtifactKey, Arc<Artifact>> = FxHashMap::default();
        for mut f in report.findings {
            let k = f.artifact.key();
            if !stored.artifacts.contains_key(&k) {
                self.learn_artifact(&f.artifact, report.scanned_at);
                stored.artifacts.insert(k.clone(), (*f.artifact).clone());
            }
            f.artifact = shared_artifacts.entry(k.clone()).or_insert_with(|| f.artifact.clone()).clone();
            f.prefer_cve_id();
            enrich(&mut f, &self.kev, &self.epss);
            self.strings.intern_all(&mut f);
            stored.by_artifact.entry(k).or_default().push(Arc::new(f));
        }
        if let (Some(components), Some(first)) = (report.components, report.scanned.first()) {
            stored.components = Some((first.key(), Arc::new(components)));
        }
        for k in stored.artifacts.keys() {
            self.reports_by_key.entry(k.clone()).or_default().insert(id.clone());
            self.dirty.insert(k.clone());
        }
        if let Some(s) = &stored.subject {
            self.reports_by_subject.entry(s.clone()).or_default().insert(id.clone());
        }
        self.reports.insert(id, stored);
        self.generation += 1;
    }

    /// Removes a report (no-op when unknown).
    pub fn delete_report(&mut self, id: &str) {
        let Some(old) = self.reports.remove(id) else { return };
        self.strings.released(old.by_artifact.values().map(Vec::len).sum());
        for k in old.artifacts.keys() {
            if let Some(set) = self.reports_by_key.get_mut(k) {
                set.remove(id);
                if set.is_empty() {
                    self.reports_by_key.remove(k);
                }
            }
            self.dirty.insert(k.clone());
        }
        if let Some(s) = &old.subject
            && let Some(set) = self.reports_by_subject.get_mut(s)
        {
            set.remove(id);
        }
        self.generation += 1;
    }

    /// Records what an artifact tells us: a tag → digest mapping for images.
    fn learn_artifact(&mut self, a: &Artifact, at: Option<Timestamp>) {
        let Artifact::Image(img) = a else { return };
        let (Some(tag), Some(_)) = (img.tag_key(), &img.digest) else { return };
        let digest = img.key();
        let replace = match self.tag_digest.get(&tag) {
            None => true,
            Some((d, _)) if *d == digest => false,
            Some((_, seen)) => at >= *seen,
        };
        if replace {
            if let Some((old, _)) = self.tag_digest.insert(tag.clone(), (digest.clone(), at)) {
                if let Some(tags) = self.digest_tags.get_mut(&old) {
                    tags.remove(&tag);
                }
                self.dirty.insert(image_artifact_key(&old));
            }
            self.digest_tags.entry(digest.clone()).or_default().insert(tag.clone());
            self.dirty.insert(image_artifact_key(&digest));
            self.dirty.insert(image_artifact_key(&tag));
        }
    }

    /// The artifact key findings about `a` are stored under (tags resolve to digests).
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
            Some(t) => self.tag_digest.get(&t).map_or(t, |(d, _)| d.clone()),
            None => img.key(),
        }
    }

    // ---- refresh -------------------------------------------------------------------

    /// Recomputes everything applies have invalidated: correlated findings of dirty
    /// artifacts and the exposure of applications in changed namespaces.
    pub fn refresh(&mut self) {
        let dirty: Vec<ArtifactKey> = self.dirty.drain().collect();
        let mut resolved = FxHashSet::default();
        for k in dirty {
            let r = self.resolve_raw_key(&k);
            if r != k
                && let Some(stale) = self.artifacts.remove(&k)
            {
                // A tag that now maps to a digest: its findings live under the digest.
                self.unlink_artifact(&k, stale.artifact.as_ref());
            }
            resolved.insert(r);
        }
        for key in resolved {
            self.recompute(&key);
        }
        let namespaces: Vec<Arc<str>> = self.topology_dirty.drain().collect();
        for ns in namespaces {
            self.recompute_exposure(&ns);
        }
    }

    /// The key a raw (as reported) key resolves to: image tags map to their digest.
    fn resolve_raw_key(&self, k: &ArtifactKey) -> ArtifactKey {
        match k.0.strip_prefix("image:") {
            Some(rest) if !ImageKey(Arc::from(rest)).is_digest() => self
                .tag_digest
                .get(&ImageKey(Arc::from(rest)))
                .map_or_else(|| k.clone(), |(d, _)| image_artifact_key(d)),
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

    fn recompute(&mut self, key: &ArtifactKey) {
        let raw = self.raw_keys(key);
        let mut findings = Vec::new();
        let mut scanned = false;
        let mut last_scanned: Option<Timestamp> = None;
        let mut components: Option<(Option<Timestamp>, Arc<Vec<Component>>)> = None;
        let mut best_artifact: Option<Artifact> = None;
        // Reports in id order, not hash order: merging keeps the first report's fields and
        // lists sources in merge order, and hash order depends on the report paths, so the
        // same inputs under another folder would otherwise merge differently.
        let mut contributing: Vec<(&Arc<str>, &ArtifactKey)> = raw
            .iter()
            .flat_map(|rk| self.reports_by_key.get(rk).into_iter().flatten().map(move |id| (id, rk)))
            .collect();
        contributing.sort_unstable();
        for (id, rk) in contributing {
            let Some(r) = self.reports.get(id) else { continue };
            if let Some(fs) = r.by_artifact.get(rk) {
                findings.extend(fs.iter().cloned());
            }
            if r.scanned.contains(rk) {
                scanned = true;
                last_scanned = last_scanned.max(r.scanned_at);
            }
            if let Some((ck, comps)) = &r.components
                && ck == rk
                && components.as_ref().is_none_or(|(at, _)| r.scanned_at >= *at)
            {
                components = Some((r.scanned_at, comps.clone()));
            }
            if let Some(a) = r.artifacts.get(rk)
                && best_artifact.as_ref().is_none_or(|b| completeness(a) > completeness(b))
            {
                best_artifact = Some(a.clone());
            }
        }
        if findings.is_empty() && !scanned && components.is_none() {
            if let Some(old) = self.artifacts.remove(key) {
                self.unlink_artifact(key, old.artifact.as_ref());
            }
            return;
        }
        let target = best_artifact.clone();
        let resolve = |a: &Artifact| match (a, &target) {
            (Artifact::Image(_), Some(t @ Artifact::Image(_))) => Some(t.clone()),
            _ => None,
        };
        // Raw findings were enriched when stored; merging keeps KEV and the highest EPSS.
        let mut findings = correlate_shared(findings, resolve);
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        match &best_artifact {
            Some(Artifact::Image(img)) => {
                self.images_by_name.entry(img.name()).or_default().insert(key.clone());
            }
            Some(Artifact::Object(o)) => {
                let ns: Arc<str> = o.namespace.clone().unwrap_or_else(|| Arc::from(""));
                self.objects_by_ns.entry(ns).or_default().insert(key.clone());
            }
            _ => {}
        }
        self.artifacts.insert(
            key.clone(),
            Arc::new(ArtifactPosture {
                artifact: best_artifact,
                scanned,
                last_scanned,
                packages: packages::PackageIndex::build(components.as_ref().map(|(_, c)| c.as_slice()), &findings),
                findings,
                components: components.map(|(_, c)| c),
            }),
        );
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
        self.dirty.extend(self.reports_by_key.keys().cloned());
        self.generation += 1;
    }

    /// Distinct finding details held (shared across reports and images).
    pub fn distinct_details(&self) -> usize {
        self.strings.details()
    }

    // ---- queries -------------------------------------------------------------------

    /// The correlated posture of a container image, if any report covers it.
    pub fn image(&self, img: &ImageRef) -> Option<&Arc<ArtifactPosture>> {
        self.artifacts.get(&image_artifact_key(&self.resolve_image_key(img)))
    }

    /// The correlated posture of any artifact.
    pub fn artifact(&self, a: &Artifact) -> Option<&Arc<ArtifactPosture>> {
        self.artifacts.get(&self.resolve_key(a))
    }

    /// The posture stored under a resolved artifact key.
    pub fn artifact_by_key(&self, k: &ArtifactKey) -> Option<&Arc<ArtifactPosture>> {
        self.artifacts.get(k)
    }

    /// Every artifact with findings or scan evidence.
    pub fn artifacts(&self) -> impl Iterator<Item = (&ArtifactKey, &Arc<ArtifactPosture>)> {
        self.artifacts.iter()
    }

    /// Total correlated findings.
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
