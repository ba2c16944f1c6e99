//! The in-memory posture index: every report, workload, network object, application,
//! policy and exception Stance knows, plus the correlated findings of each artifact.
//!
//! A plain struct with synchronous `apply_*` / `delete_*` per kind. The CLI fills it from
//! files and calls [`PostureIndex::refresh`] once; the operator applies watch events and
//! refreshes after each batch; the webhook only reads. Share it as [`SharedIndex`].

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};

use super::correlate::correlate;
use super::exposure::{self, Detected};
use crate::api::{AppPosture, Asset, AssetType, GuardrailPolicy, RiskException};
use crate::ingest::{Epss, Kev, KubeObject};
use crate::model::artifact::{image_artifact_key, normalize_endpoint, normalize_repository};
use crate::model::{
    Artifact, ArtifactKey, Component, Finding, ImageKey, ImageRef, Namespace, ObjectRef, Report, Route, Service,
    Severity, Workload, WorkloadKind,
};
use crate::policy::{Exception, Policy};
use crate::selector;

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
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            exception_namespaces: vec!["stance-system".into()],
            max_exception_days: 90,
            exempt_namespaces: vec!["kube-system".into(), "stance-system".into()],
        }
    }
}

/// The correlated state of one artifact.
#[derive(Clone, Debug, Default)]
pub struct ArtifactPosture {
    /// The artifact with the most complete identity known (tag and digest for images).
    pub artifact: Option<Artifact>,
    /// Correlated, enriched findings, worst severity first.
    pub findings: Vec<Finding>,
    /// Some report says it scanned this artifact (even when it found nothing).
    pub scanned: bool,
    pub last_scanned: Option<Timestamp>,
    /// Component inventory from the newest SBOM, if any.
    pub components: Option<Arc<Vec<Component>>>,
}

impl ArtifactPosture {
    pub fn has_sbom(&self) -> bool {
        self.components.is_some()
    }
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().filter(|f| !f.suppressed()).map(|f| f.severity).max()
    }
}

/// A report as stored: its metadata and its findings split by (unresolved) artifact key.
#[derive(Debug)]
struct StoredReport {
    scanned: Vec<ArtifactKey>,
    scanned_at: Option<Timestamp>,
    by_artifact: FxHashMap<ArtifactKey, Vec<Finding>>,
    components: Option<(ArtifactKey, Arc<Vec<Component>>)>,
    subject: Option<ObjectRef>,
    artifacts: FxHashMap<ArtifactKey, Artifact>,
}

/// A compiled policy and the object it came from; `compiled` is the reason it is invalid.
#[derive(Clone, Debug)]
pub struct PolicyEntry {
    pub object: Arc<GuardrailPolicy>,
    pub compiled: Result<Arc<Policy>, String>,
}

/// A compiled exception and the object it came from.
#[derive(Clone, Debug)]
pub struct ExceptionEntry {
    pub object: Arc<RiskException>,
    pub compiled: Result<Arc<Exception>, String>,
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

    workloads: WorkloadsByNs,
    services: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Service>>,
    routes: BTreeMap<RouteKey, Route>,
    namespaces: BTreeMap<Arc<str>, Namespace>,
    apps: BTreeMap<NsName, Arc<AppPosture>>,
    assets: BTreeMap<NsName, Arc<Asset>>,
    policies: BTreeMap<Arc<str>, PolicyEntry>,
    exceptions: BTreeMap<NsName, ExceptionEntry>,
    kev: Kev,
    epss: Epss,
    /// Namespaces whose applications' exposure must be recomputed.
    topology_dirty: FxHashSet<Arc<str>>,
    exposure: FxHashMap<NsName, Arc<Detected>>,
    generation: u64,
}

fn ns_name(ns: Option<&str>, name: Option<&str>) -> NsName {
    (Arc::from(ns.unwrap_or(crate::ingest::kubernetes::DEFAULT_NAMESPACE)), Arc::from(name.unwrap_or("")))
}

impl PostureIndex {
    pub fn new(config: IndexConfig) -> PostureIndex {
        PostureIndex { config, ..Default::default() }
    }

    /// Builds an index from everything a loader read, refreshed and ready to query.
    pub fn from_loaded(config: IndexConfig, loaded: crate::ingest::Loaded) -> PostureIndex {
        let mut index = PostureIndex::new(config);
        index.set_kev(loaded.kev);
        index.set_epss(loaded.epss);
        for (i, r) in loaded.reports.into_iter().enumerate() {
            let id = format!("{}#{i}", r.source.origin);
            index.apply_report(&id, r);
        }
        for o in loaded.objects {
            index.apply_object(o);
        }
        index.refresh();
        index
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
        for f in report.findings {
            let k = f.artifact.key();
            if !stored.artifacts.contains_key(&k) {
                self.learn_artifact(&f.artifact, report.scanned_at);
                stored.artifacts.insert(k.clone(), f.artifact.clone());
            }
            stored.by_artifact.entry(k).or_default().push(f);
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
        for rk in &raw {
            for id in self.reports_by_key.get(rk).into_iter().flatten() {
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
        let mut findings = correlate(findings, resolve);
        for f in &mut findings {
            enrich(f, &self.kev, &self.epss);
        }
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
                findings,
                scanned,
                last_scanned,
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

    /// Replaces the KEV catalog and re-enriches every finding.
    pub fn set_kev(&mut self, kev: Kev) {
        self.kev = kev;
        self.reenrich();
    }

    /// Replaces the EPSS scores and re-enriches every finding.
    pub fn set_epss(&mut self, epss: Epss) {
        self.epss = epss;
        self.reenrich();
    }

    pub fn kev(&self) -> &Kev {
        &self.kev
    }

    fn reenrich(&mut self) {
        for posture in self.artifacts.values_mut() {
            let p = Arc::make_mut(posture);
            for f in &mut p.findings {
                enrich(f, &self.kev, &self.epss);
            }
        }
        self.generation += 1;
    }

    // ---- Kubernetes objects ------------------------------------------------------------

    /// Adds or replaces any object the ingest layer produced.
    pub fn apply_object(&mut self, o: KubeObject) {
        match o {
            KubeObject::Workload(w) => self.apply_workload(w),
            KubeObject::Service(s) => self.apply_service(s),
            KubeObject::Route(r) => self.apply_route(r),
            KubeObject::Namespace(n) => self.apply_namespace(n),
            KubeObject::AppPosture(a) => self.apply_app(a),
            KubeObject::Asset(a) => self.apply_asset(a),
            KubeObject::Policy(p) => self.apply_policy(p),
            KubeObject::Exception(e) => self.apply_exception(e),
        }
    }

    pub fn apply_workload(&mut self, w: Workload) {
        self.topology_dirty.insert(w.namespace.clone());
        self.workloads.entry(w.namespace.clone()).or_default().insert((w.kind, w.name.clone()), Arc::new(w));
        self.generation += 1;
    }

    pub fn delete_workload(&mut self, kind: WorkloadKind, namespace: &str, name: &str) {
        if let Some(m) = self.workloads.get_mut(namespace) {
            m.remove(&(kind, Arc::from(name)));
        }
        self.topology_dirty.insert(Arc::from(namespace));
        self.generation += 1;
    }

    pub fn apply_service(&mut self, s: Service) {
        self.topology_dirty.insert(s.namespace.clone());
        self.services.entry(s.namespace.clone()).or_default().insert(s.name.clone(), s);
        self.generation += 1;
    }

    pub fn delete_service(&mut self, namespace: &str, name: &str) {
        if let Some(m) = self.services.get_mut(namespace) {
            m.remove(name);
        }
        self.topology_dirty.insert(Arc::from(namespace));
        self.generation += 1;
    }

    pub fn apply_route(&mut self, r: Route) {
        for (ns, _) in &r.backends {
            self.topology_dirty.insert(ns.clone());
        }
        self.topology_dirty.insert(r.namespace.clone());
        self.routes.insert((r.kind.clone(), r.namespace.clone(), r.name.clone()), r);
        self.generation += 1;
    }

    pub fn delete_route(&mut self, kind: &str, namespace: &str, name: &str) {
        if let Some(r) = self.routes.remove(&(Arc::from(kind), Arc::from(namespace), Arc::from(name))) {
            for (ns, _) in &r.backends {
                self.topology_dirty.insert(ns.clone());
            }
        }
        self.topology_dirty.insert(Arc::from(namespace));
        self.generation += 1;
    }

    pub fn apply_namespace(&mut self, n: Namespace) {
        self.namespaces.insert(n.name.clone(), n);
        self.generation += 1;
    }

    pub fn delete_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
        self.generation += 1;
    }

    pub fn apply_app(&mut self, a: AppPosture) {
        let key = ns_name(a.metadata.namespace.as_deref(), a.metadata.name.as_deref());
        self.topology_dirty.insert(key.0.clone());
        self.apps.insert(key, Arc::new(a));
        self.generation += 1;
    }

    pub fn delete_app(&mut self, namespace: &str, name: &str) {
        let key: NsName = (Arc::from(namespace), Arc::from(name));
        self.apps.remove(&key);
        self.exposure.remove(&key);
        self.generation += 1;
    }

    pub fn apply_asset(&mut self, a: Asset) {
        let key = ns_name(a.metadata.namespace.as_deref(), a.metadata.name.as_deref());
        self.assets.insert(key, Arc::new(a));
        self.generation += 1;
    }

    pub fn delete_asset(&mut self, namespace: &str, name: &str) {
        self.assets.remove(&(Arc::from(namespace), Arc::from(name)));
        self.generation += 1;
    }

    /// Adds or replaces a policy, compiling it; an invalid one is kept with its reason
    /// (and never applied).
    pub fn apply_policy(&mut self, p: GuardrailPolicy) {
        let name: Arc<str> = Arc::from(p.metadata.name.as_deref().unwrap_or(""));
        let compiled = Policy::compile(&p).map(Arc::new);
        self.policies.insert(name, PolicyEntry { object: Arc::new(p), compiled });
        self.generation += 1;
    }

    pub fn delete_policy(&mut self, name: &str) {
        self.policies.remove(name);
        self.generation += 1;
    }

    pub fn apply_exception(&mut self, e: RiskException) {
        let key = ns_name(e.metadata.namespace.as_deref(), e.metadata.name.as_deref());
        let compiled = Exception::compile(&e, self.config.max_exception_days).map(Arc::new);
        self.exceptions.insert(key, ExceptionEntry { object: Arc::new(e), compiled });
        self.generation += 1;
    }

    pub fn delete_exception(&mut self, namespace: &str, name: &str) {
        self.exceptions.remove(&(Arc::from(namespace), Arc::from(name)));
        self.generation += 1;
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

    pub fn workloads(&self) -> impl Iterator<Item = &Arc<Workload>> {
        self.workloads.values().flat_map(|m| m.values())
    }

    pub fn workloads_in(&self, namespace: &str) -> impl Iterator<Item = &Arc<Workload>> {
        self.workloads.get(namespace).into_iter().flat_map(|m| m.values())
    }

    pub fn workload(&self, kind: WorkloadKind, namespace: &str, name: &str) -> Option<&Arc<Workload>> {
        self.workloads.get(namespace)?.get(&(kind, Arc::from(name)))
    }

    /// The workload an object reference names, following controller owners up to the
    /// top-level controller (Pod → ReplicaSet → Deployment; Job → CronJob). A ReplicaSet
    /// that is not known but whose name is `<deployment>-<pod-template-hash>` maps to that
    /// Deployment, as Trivy Operator names reports after ReplicaSets.
    pub fn top_level(&self, o: &ObjectRef) -> Option<&Arc<Workload>> {
        let ns = o.namespace.as_deref()?;
        let kind = WorkloadKind::parse(&o.kind)?;
        let mut current = match self.workload(kind, ns, &o.name) {
            Some(w) => w,
            None => return self.guess_owner(kind, ns, &o.name),
        };
        for _ in 0..4 {
            let Some(owner) = &current.owner else { break };
            let Some(ok) = WorkloadKind::parse(&owner.kind) else { break };
            match self.workload(ok, ns, &owner.name).or_else(|| self.guess_owner(ok, ns, &owner.name)) {
                Some(next) => current = next,
                None => break,
            }
        }
        Some(current)
    }

    fn guess_owner(&self, kind: WorkloadKind, ns: &str, name: &str) -> Option<&Arc<Workload>> {
        let (parent, hash) = name.rsplit_once('-')?;
        let hashlike = (5..=10).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_alphanumeric());
        match kind {
            WorkloadKind::ReplicaSet if hashlike => self.workload(WorkloadKind::Deployment, ns, parent),
            WorkloadKind::Pod => self.guess_owner(WorkloadKind::ReplicaSet, ns, parent),
            WorkloadKind::Job if hash.bytes().all(|b| b.is_ascii_digit()) => {
                self.workload(WorkloadKind::CronJob, ns, parent)
            }
            _ => None,
        }
    }

    /// True when no known workload controls this one.
    pub fn is_top_level(&self, w: &Workload) -> bool {
        let Some(owner) = &w.owner else { return true };
        match WorkloadKind::parse(&owner.kind) {
            Some(k) => {
                self.workload(k, &w.namespace, &owner.name).is_none()
                    && self.guess_owner(k, &w.namespace, &owner.name).is_none()
            }
            None => true,
        }
    }

    pub fn services_in(&self, namespace: &str) -> impl Iterator<Item = &Service> {
        self.services.get(namespace).into_iter().flat_map(|m| m.values())
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> + Clone {
        self.routes.values()
    }

    /// A namespace's labels; unknown namespaces get the label the API server always sets.
    pub fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        let mut labels = self.namespaces.get(name).map(|n| n.labels.clone()).unwrap_or_default();
        labels.entry("kubernetes.io/metadata.name".into()).or_insert_with(|| name.to_string());
        labels
    }

    pub fn apps(&self) -> impl Iterator<Item = &Arc<AppPosture>> {
        self.apps.values()
    }

    pub fn app(&self, namespace: &str, name: &str) -> Option<&Arc<AppPosture>> {
        self.apps.get(&(Arc::from(namespace), Arc::from(name)))
    }

    /// AppPostures in the workload's namespace whose (non-empty) selector selects it.
    pub fn apps_of<'a>(&'a self, w: &'a Workload) -> impl Iterator<Item = &'a Arc<AppPosture>> + 'a {
        let ns = w.namespace.clone();
        self.apps
            .range((ns.clone(), Arc::from(""))..)
            .take_while(move |((n, _), _)| *n == ns)
            .map(|(_, a)| a)
            .filter(|a| app_selects(a, w))
    }

    /// Top-level workloads an application selects.
    pub fn app_workloads<'a>(&'a self, app: &'a AppPosture) -> impl Iterator<Item = &'a Arc<Workload>> + 'a {
        let ns = app.metadata.namespace.as_deref().unwrap_or(crate::ingest::kubernetes::DEFAULT_NAMESPACE);
        self.workloads_in(ns).filter(|w| app_selects(app, w) && self.is_top_level(w))
    }

    /// The application's detected exposure (cached; see [`refresh`](Self::refresh)).
    pub fn detected_exposure(&self, namespace: &str, name: &str) -> Option<&Arc<Detected>> {
        self.exposure.get(&(Arc::from(namespace), Arc::from(name)))
    }

    fn recompute_exposure(&mut self, ns: &Arc<str>) {
        let keys: Vec<NsName> = self.apps.keys().filter(|(n, _)| n == ns).cloned().collect();
        for key in keys {
            let Some(app) = self.apps.get(&key) else { continue };
            let workloads: Vec<&Workload> = self.app_workloads(app).map(|w| &**w).collect();
            let d = exposure::detect(&workloads, self.services_in(ns), self.routes());
            self.exposure.insert(key, Arc::new(d));
        }
    }

    pub fn assets(&self) -> impl Iterator<Item = &Arc<Asset>> {
        self.assets.values()
    }

    pub fn policies(&self) -> impl Iterator<Item = &PolicyEntry> {
        self.policies.values()
    }

    pub fn exceptions(&self) -> impl Iterator<Item = &ExceptionEntry> {
        self.exceptions.values()
    }

    /// Resolved artifact keys whose findings belong to an application beyond its
    /// workloads' images and objects: its repositories and endpoints (spec, Assets, the
    /// hosts of Ingresses/HTTPRoutes to its Services), image Assets, and reports
    /// attributed to it or to its Assets.
    pub fn app_extra_artifacts(&self, app: &AppPosture, workloads: &[&Workload]) -> FxHashSet<ArtifactKey> {
        let ns = app.metadata.namespace.as_deref().unwrap_or(crate::ingest::kubernetes::DEFAULT_NAMESPACE);
        let name = app.metadata.name.as_deref().unwrap_or("");
        let mut keys = FxHashSet::default();
        for r in &app.spec.repositories {
            keys.insert(Artifact::Repository(Arc::from(normalize_repository(r))).key());
        }
        for e in &app.spec.endpoints {
            keys.insert(Artifact::Endpoint(Arc::from(normalize_endpoint(e))).key());
        }
        let mut subjects = vec![ObjectRef::new("AppPosture", Some(ns), name)];
        for asset in self.assets.values() {
            let Some(r) = &asset.spec.app_ref else { continue };
            let asset_ns = asset.metadata.namespace.as_deref().unwrap_or(crate::ingest::kubernetes::DEFAULT_NAMESPACE);
            if r.name != name || r.namespace.as_deref().unwrap_or(asset_ns) != ns {
                continue;
            }
            subjects.push(ObjectRef::new("Asset", Some(asset_ns), asset.metadata.name.as_deref().unwrap_or("")));
            let id = asset.spec.identifier.as_str();
            match asset.spec.asset_type {
                AssetType::Repository => {
                    keys.insert(Artifact::Repository(Arc::from(normalize_repository(id))).key());
                }
                AssetType::Endpoint => {
                    keys.insert(Artifact::Endpoint(Arc::from(normalize_endpoint(id))).key());
                }
                AssetType::Image => {
                    let name = ImageRef::parse(id).map(|i| i.name()).unwrap_or_else(|_| id.to_string());
                    keys.extend(self.images_by_name.get(&name).into_iter().flatten().cloned());
                }
                AssetType::Service => {}
            }
        }
        // Hosts of routes that reach the application's Services.
        for svc in self.services_in(ns) {
            if !workloads.iter().any(|w| selector::subset_matches(&svc.selector, &w.pod_labels)) {
                continue;
            }
            for r in self.routes.values() {
                if r.backends.iter().any(|(bns, bn)| *bns == svc.namespace && *bn == svc.name) {
                    for h in &r.hosts {
                        keys.insert(Artifact::Endpoint(Arc::from(normalize_endpoint(h))).key());
                    }
                }
            }
        }
        for s in &subjects {
            for id in self.reports_by_subject.get(s).into_iter().flatten() {
                if let Some(r) = self.reports.get(id) {
                    keys.extend(r.artifacts.values().map(|a| self.resolve_key(a)));
                }
            }
        }
        keys.retain(|k| self.artifacts.contains_key(k));
        keys
    }

    /// Resolved keys of object artifacts (configuration audits, policy results) in a
    /// namespace whose object is, or is controlled by, one of `workloads`.
    pub fn object_artifacts_of(&self, namespace: &str, workloads: &[&Workload]) -> Vec<ArtifactKey> {
        let mut out = Vec::new();
        for k in self.objects_by_ns.get(namespace).into_iter().flatten() {
            let Some(Some(Artifact::Object(o))) = self.artifacts.get(k).map(|p| &p.artifact) else { continue };
            let owner = self.top_level(o);
            let hit = workloads.iter().any(|w| match owner {
                Some(t) => t.kind == w.kind && t.name == w.name,
                None => *o.kind == *w.kind.as_str() && *o.name == *w.name,
            });
            if hit {
                out.push(k.clone());
            }
        }
        out
    }
}

/// True when the application's non-empty selector selects the workload (by its own
/// labels or its pod template's).
pub fn app_selects(app: &AppPosture, w: &Workload) -> bool {
    let ns = app.metadata.namespace.as_deref().unwrap_or(crate::ingest::kubernetes::DEFAULT_NAMESPACE);
    if *w.namespace != *ns {
        return false;
    }
    match &app.spec.selector {
        Some(sel) if !selector::is_empty(sel) => {
            selector::matches(sel, &w.pod_labels) || selector::matches(sel, &w.labels)
        }
        _ => false,
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
    let best = f
        .ids()
        .filter_map(|id| epss.get(id))
        .map(|s| s.probability)
        .fold(None, |m: Option<f32>, p| Some(m.map_or(p, |m| m.max(p))));
    if best.is_some() {
        f.epss = best;
    }
}
