//! The cluster's topology in the index: workloads and who controls them, Services,
//! routes, namespaces, applications and their assets, policies and exceptions — and how
//! they relate (which workloads and artifacts belong to an application).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::changes::Touch;
use super::exposure::{self, Detected};
use super::object::{ExceptionEntry, KubeObject, PolicyEntry};
use super::{NsName, PostureIndex};
use crate::model::artifact::{normalize_endpoint, normalize_repository};
use crate::model::{
    App, Artifact, ArtifactKey, Asset, AssetType, ImageRef, Namespace, ObjectRef, ReferenceGrant, Route, Service,
    Workload, WorkloadKind,
};
use crate::selector;

/// What an application claims beyond its workloads ([`PostureIndex::app_claims`]).
#[derive(Debug, Default)]
pub struct Claims {
    /// Resolved artifact keys, with or without a posture in the index.
    pub keys: FxHashSet<ArtifactKey>,
    /// Image repositories (`registry/repository`) its declared image Assets name.
    pub image_names: Vec<String>,
}

impl PostureIndex {
    // ---- Kubernetes objects ------------------------------------------------------------

    /// Adds or replaces any object the edge converted.
    pub fn apply_object(&mut self, o: KubeObject) {
        match o {
            KubeObject::Workload(w) => self.apply_workload(w),
            KubeObject::Service(s) => self.apply_service(s),
            KubeObject::Route(r) => self.apply_route(r),
            KubeObject::ReferenceGrant(g) => self.apply_reference_grant(g),
            KubeObject::Namespace(n) => self.apply_namespace(n),
            KubeObject::App(a) => self.apply_app(a),
            KubeObject::Asset(a) => self.apply_asset(a),
            KubeObject::Policy(p) => self.apply_policy(p),
            KubeObject::Exception(e) => self.apply_exception(e),
        }
    }

    /// Adds or replaces a workload (by kind, namespace and name).
    pub fn apply_workload(&mut self, w: Workload) {
        self.topology_changed(w.namespace.clone());
        self.workloads.entry(w.namespace.clone()).or_default().insert((w.kind, w.name.clone()), Arc::new(w));
        self.generation += 1;
    }

    /// Removes a workload (no-op when unknown).
    pub fn delete_workload(&mut self, kind: WorkloadKind, namespace: &str, name: &str) {
        if let Some(m) = self.workloads.get_mut(namespace) {
            m.remove(&(kind, Arc::from(name)));
        }
        self.topology_changed(Arc::from(namespace));
        self.generation += 1;
    }

    /// Adds or replaces a Service.
    pub fn apply_service(&mut self, s: Service) {
        self.topology_changed(s.namespace.clone());
        self.services.entry(s.namespace.clone()).or_default().insert(s.name.clone(), s);
        self.generation += 1;
    }

    /// Removes a Service (no-op when unknown).
    pub fn delete_service(&mut self, namespace: &str, name: &str) {
        if let Some(m) = self.services.get_mut(namespace) {
            m.remove(name);
        }
        self.topology_changed(Arc::from(namespace));
        self.generation += 1;
    }

    /// Adds or replaces an Ingress or HTTPRoute.
    pub fn apply_route(&mut self, r: Route) {
        for (ns, _) in &r.backends {
            self.topology_changed(ns.clone());
        }
        self.topology_changed(r.namespace.clone());
        self.routes.insert((r.kind.clone(), r.namespace.clone(), r.name.clone()), r);
        self.generation += 1;
    }

    /// Removes an Ingress (`kind` `Ingress`) or HTTPRoute (`HTTPRoute`).
    pub fn delete_route(&mut self, kind: &str, namespace: &str, name: &str) {
        if let Some(r) = self.routes.remove(&(Arc::from(kind), Arc::from(namespace), Arc::from(name))) {
            for (ns, _) in &r.backends {
                self.topology_changed(ns.clone());
            }
        }
        self.topology_changed(Arc::from(namespace));
        self.generation += 1;
    }

    /// Adds or replaces a Gateway API ReferenceGrant.
    pub fn apply_reference_grant(&mut self, g: ReferenceGrant) {
        self.topology_changed(g.namespace.clone());
        for f in &g.from {
            self.topology_changed(f.namespace.clone());
        }
        self.grants.insert((g.namespace.clone(), g.name.clone()), g);
        self.generation += 1;
    }

    /// Removes a ReferenceGrant (no-op when unknown).
    pub fn delete_reference_grant(&mut self, namespace: &str, name: &str) {
        if let Some(g) = self.grants.remove(&(Arc::from(namespace), Arc::from(name))) {
            for f in &g.from {
                self.topology_changed(f.namespace.clone());
            }
        }
        self.topology_changed(Arc::from(namespace));
        self.generation += 1;
    }

    /// Every ReferenceGrant.
    pub fn reference_grants(&self) -> impl Iterator<Item = &ReferenceGrant> + Clone {
        self.grants.values()
    }

    /// The network objects exposure detection reads in one namespace.
    pub fn network_in<'a>(
        &'a self,
        namespace: &'a str,
    ) -> exposure::Network<
        'a,
        impl Iterator<Item = &'a Service>,
        impl Iterator<Item = &'a Route> + Clone,
        impl Iterator<Item = &'a ReferenceGrant> + Clone,
    > {
        exposure::Network {
            services: self.services_in(namespace),
            routes: self.routes(),
            grants: self.reference_grants(),
            config: &self.config.exposure,
        }
    }

    /// Adds or replaces a namespace and its labels.
    pub fn apply_namespace(&mut self, n: Namespace) {
        let name = n.name.clone();
        self.namespaces.insert(n.name.clone(), n);
        self.touch(Touch::Namespace(name));
    }

    /// Removes a namespace (no-op when unknown).
    pub fn delete_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
        self.touch(Touch::Namespace(Arc::from(name)));
    }

    /// Adds or replaces an application.
    pub fn apply_app(&mut self, a: App) {
        let key = (a.namespace.clone(), a.name.clone());
        self.topology_changed(key.0.clone());
        self.apps.insert(key, Arc::new(a));
        self.generation += 1;
    }

    /// Removes an application and its detected exposure.
    pub fn delete_app(&mut self, namespace: &str, name: &str) {
        let key: NsName = (Arc::from(namespace), Arc::from(name));
        self.apps.remove(&key);
        self.exposure.remove(&key);
        self.touch(Touch::Namespace(key.0));
    }

    /// Adds or replaces an asset. The same Asset again is no change at all; Stance's own
    /// discovered image Asset changes no application ([`Self::asset_reaches_apps`]).
    pub fn apply_asset(&mut self, a: Asset) {
        let key = (a.namespace.clone(), a.name.clone());
        let old = self.assets.get(&key).cloned();
        if old.as_deref() == Some(&a) {
            return;
        }
        let reaches = self.asset_reaches_apps(&a) || old.as_deref().is_some_and(|o| self.asset_reaches_apps(o));
        self.assets.insert(key.clone(), Arc::new(a));
        if reaches {
            self.touch(Touch::Namespace(key.0));
        } else {
            // The sweep still writes the new Asset's status.
            self.generation += 1;
        }
    }

    /// Removes an asset (no-op when unknown).
    pub fn delete_asset(&mut self, namespace: &str, name: &str) {
        let Some(old) = self.assets.remove(&(Arc::from(namespace), Arc::from(name))) else { return };
        if self.asset_reaches_apps(&old) {
            self.touch(Touch::Namespace(old.namespace.clone()));
        } else {
            self.generation += 1;
        }
    }

    /// True when an Asset can change what an application of its namespace covers
    /// ([`Self::app_claims`]): every Asset but a discovered image one (it only records a
    /// repository its application already runs) with no report attributed to it.
    fn asset_reaches_apps(&self, a: &Asset) -> bool {
        let discovered_image = a.discovered && a.asset_type == AssetType::Image;
        !discovered_image || self.reports_by_subject.contains_key(&ObjectRef::new("Asset", Some(&a.namespace), &a.name))
    }

    /// Adds or replaces a compiled policy; an invalid one is kept with its reason (and
    /// never applied).
    pub fn apply_policy(&mut self, p: PolicyEntry) {
        self.policies.insert(p.name.clone(), p);
        self.touch(Touch::Everything);
    }

    /// Removes a policy (no-op when unknown).
    pub fn delete_policy(&mut self, name: &str) {
        self.policies.remove(name);
        self.touch(Touch::Everything);
    }

    /// Adds or replaces a compiled exception, bounding its lifetime by
    /// [`IndexConfig::max_exception_days`](super::IndexConfig::max_exception_days) (an
    /// exception that exceeds it is kept as invalid, with the reason).
    pub fn apply_exception(&mut self, mut e: ExceptionEntry) {
        let max_days = self.config.max_exception_days;
        e.compiled = e.compiled.and_then(|x| Arc::unwrap_or_clone(x).bounded(max_days).map(Arc::new));
        self.exceptions.insert((e.namespace.clone(), e.name.clone()), e);
        self.touch(Touch::Everything);
    }

    /// Removes an exception (no-op when unknown).
    pub fn delete_exception(&mut self, namespace: &str, name: &str) {
        self.exceptions.remove(&(Arc::from(namespace), Arc::from(name)));
        self.touch(Touch::Everything);
    }

    /// Marks a namespace's exposure for recomputation and records the touch at the
    /// generation the calling change is about to make (each caller moves it once, after).
    fn topology_changed(&mut self, ns: Arc<str>) {
        self.changes.record(self.generation + 1, Touch::Namespace(ns.clone()));
        self.topology_dirty.insert(ns);
    }

    /// Every workload, controllers and the Pods they own alike.
    pub fn workloads(&self) -> impl Iterator<Item = &Arc<Workload>> {
        self.workloads.values().flat_map(|m| m.values())
    }

    /// The workloads of one namespace.
    pub fn workloads_in(&self, namespace: &str) -> impl Iterator<Item = &Arc<Workload>> {
        self.workloads.get(namespace).into_iter().flat_map(|m| m.values())
    }

    /// One workload by kind, namespace and name.
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

    /// True when a running workload is judged and reported on its own: no known workload
    /// controls it ([`is_top_level`](Self::is_top_level)), or it is a Pod that runs something
    /// its top-level controller's template does not ([`Workload::runs_same_as`]: a Pod given
    /// another image, privileges or a debug container runs what its controller never would).
    /// Otherwise the top-level controller stands for it and it is reported once, as that
    /// controller. Only Pods are compared: a ReplicaSet of an earlier Deployment revision
    /// differs from the Deployment by design and runs nothing of its own but its Pods. The one
    /// rule of which running workloads the audit (`stance scan`, the operator's status) judges.
    pub fn reported_on_its_own(&self, w: &Workload) -> bool {
        if self.is_top_level(w) {
            return true;
        }
        w.kind == WorkloadKind::Pod && self.top_level(&w.object_ref()).is_none_or(|c| !w.runs_same_as(c))
    }

    /// The Services of one namespace.
    pub fn services_in(&self, namespace: &str) -> impl Iterator<Item = &Service> {
        self.services.get(namespace).into_iter().flat_map(|m| m.values())
    }

    /// Every Ingress and HTTPRoute.
    pub fn routes(&self) -> impl Iterator<Item = &Route> + Clone {
        self.routes.values()
    }

    /// True when the index holds the Namespace object `name` (its labels are known).
    pub fn has_namespace(&self, name: &str) -> bool {
        self.namespaces.contains_key(name)
    }

    /// A namespace's labels; unknown namespaces get the label the API server always sets.
    pub fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        let mut labels = self.namespaces.get(name).map(|n| n.labels.clone()).unwrap_or_default();
        labels.entry("kubernetes.io/metadata.name".into()).or_insert_with(|| name.to_string());
        labels
    }

    /// Every application.
    pub fn apps(&self) -> impl Iterator<Item = &Arc<App>> {
        self.apps.values()
    }

    /// One application by namespace and name.
    pub fn app(&self, namespace: &str, name: &str) -> Option<&Arc<App>> {
        self.apps.get(&(Arc::from(namespace), Arc::from(name)))
    }

    /// Applications in the workload's namespace whose (non-empty) selector selects it.
    pub fn apps_of<'a>(&'a self, w: &'a Workload) -> impl Iterator<Item = &'a Arc<App>> + 'a {
        let ns = w.namespace.clone();
        self.apps
            .range((ns.clone(), Arc::from(""))..)
            .take_while(move |((n, _), _)| *n == ns)
            .map(|(_, a)| a)
            .filter(|a| a.selects(w))
    }

    /// Workloads an application selects that are reported on their own
    /// ([`reported_on_its_own`](Self::reported_on_its_own)).
    pub fn app_workloads<'a>(&'a self, app: &'a App) -> impl Iterator<Item = &'a Arc<Workload>> + 'a {
        self.workloads_in(&app.namespace).filter(|w| app.selects(w) && self.reported_on_its_own(w))
    }

    /// The application's detected exposure (cached; see [`refresh`](Self::refresh)).
    pub fn detected_exposure(&self, namespace: &str, name: &str) -> Option<&Arc<Detected>> {
        self.exposure.get(&(Arc::from(namespace), Arc::from(name)))
    }

    pub(super) fn recompute_exposure(&mut self, ns: &Arc<str>) {
        let keys: Vec<NsName> = self.apps.keys().filter(|(n, _)| n == ns).cloned().collect();
        for key in keys {
            let Some(app) = self.apps.get(&key) else { continue };
            let workloads: Vec<&Workload> = self.app_workloads(app).map(|w| &**w).collect();
            let d = exposure::detect(&workloads, self.network_in(ns));
            self.exposure.insert(key, Arc::new(d));
        }
    }

    /// Every asset.
    pub fn assets(&self) -> impl Iterator<Item = &Arc<Asset>> {
        self.assets.values()
    }

    /// Every policy, valid or not.
    pub fn policies(&self) -> impl Iterator<Item = &PolicyEntry> {
        self.policies.values()
    }

    /// Every exception, valid or not.
    pub fn exceptions(&self) -> impl Iterator<Item = &ExceptionEntry> {
        self.exceptions.values()
    }

    /// Resolved artifact keys whose findings belong to an application beyond its
    /// workloads' images and objects: its repositories and endpoints (spec, Assets, the
    /// hosts of Ingresses/HTTPRoutes to its Services), image Assets, and reports
    /// attributed to it or to its Assets — those the index holds a posture for.
    pub fn app_extra_artifacts(&self, app: &App, workloads: &[&Workload]) -> FxHashSet<ArtifactKey> {
        let mut keys = self.app_claims(app, workloads).keys;
        keys.retain(|k| self.posture_for(&app.namespace, k).is_some());
        keys
    }

    /// What an application claims beyond its workloads (see
    /// [`app_extra_artifacts`](Self::app_extra_artifacts)), whether or not the index holds
    /// a posture for it: the one home of that rule, for assessment and for which
    /// applications a change reaches ([`super::changes`]).
    pub fn app_claims(&self, app: &App, workloads: &[&Workload]) -> Claims {
        let (ns, name) = (&*app.namespace, &*app.name);
        let mut keys = FxHashSet::default();
        let mut image_names = Vec::new();
        for r in &app.repositories {
            keys.insert(Artifact::Repository(Arc::from(normalize_repository(r))).key());
        }
        for e in &app.endpoints {
            keys.insert(Artifact::Endpoint(Arc::from(normalize_endpoint(e))).key());
        }
        let mut subjects = vec![ObjectRef::new("AppPosture", Some(ns), name)];
        for asset in self.assets.values() {
            let Some(r) = &asset.app_ref else { continue };
            let asset_ns = &*asset.namespace;
            // An Asset belongs to an application of its own namespace only: a reference to
            // another namespace is ignored (issue 17 §3; the edge warns when it reads one).
            if r.name != name || asset_ns != ns || r.namespace.as_deref().is_some_and(|n| n != ns) {
                continue;
            }
            subjects.push(ObjectRef::new("Asset", Some(asset_ns), &asset.name));
            let id = asset.identifier.as_str();
            match asset.asset_type {
                AssetType::Repository => {
                    keys.insert(Artifact::Repository(Arc::from(normalize_repository(id))).key());
                }
                AssetType::Endpoint => {
                    keys.insert(Artifact::Endpoint(Arc::from(normalize_endpoint(id))).key());
                }
                // A discovered Asset only records a repository the app runs: widening the app to
                // every tag of it would take in other apps' images of the same repository.
                AssetType::Image if asset.discovered => {}
                AssetType::Image => {
                    let name = ImageRef::parse(id).map(|i| i.name()).unwrap_or_else(|_| id.to_string());
                    keys.extend(self.images_by_name.get(&name).into_iter().flatten().cloned());
                    image_names.push(name);
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
        Claims { keys, image_names }
    }

    /// Postures of every scanned tag or digest of an image repository (`registry/repository`),
    /// as seen from namespace `viewer`.
    pub fn artifacts_of_image_name(&self, viewer: &str, name: &str) -> Vec<Arc<super::ArtifactPosture>> {
        self.images_by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|k| self.posture_for(viewer, k).cloned())
            .collect()
    }

    /// Resolved keys of object artifacts (configuration audits, policy results) in a
    /// namespace whose object is, or is controlled by, one of `workloads` (seen from that
    /// namespace).
    pub fn object_artifacts_of(&self, namespace: &str, workloads: &[&Workload]) -> Vec<ArtifactKey> {
        let mut out = Vec::new();
        for k in self.objects_by_ns.get(namespace).into_iter().flatten() {
            let Some(Some(Artifact::Object(o))) = self.posture_for(namespace, k).map(|p| &p.artifact) else { continue };
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
