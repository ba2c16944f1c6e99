//! Index, topology and assessment tests (applications and assets): plain synchronous
//! tests with `mk_*` builders.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::app::assess;
use super::asset::assess_asset;
use crate::index::{IndexConfig, PostureIndex};
use crate::ingest::{Kev, kev::KevEntry};
use crate::model::{
    App, Artifact, Asset, AssetType, Component, Container, Criticality, DataClassification, Exposure, Finding,
    FindingKind, Format, ImageRef, LocalRef, ObjectRef, Package, Report, Route, Service, Severity, Source, Workload,
    WorkloadKind,
};
use crate::risk::{self, Reach, RiskContext};
use crate::selector::LabelSelector;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn mk_container(image: &str) -> Container {
    Container::hardened("main", image)
}

fn mk_workload(kind: WorkloadKind, ns: &str, name: &str, image: &str, pod_labels: &[(&str, &str)]) -> Workload {
    let mut w = Workload::new(kind, ns, name, vec![mk_container(image)]);
    w.pod_labels = labels(pod_labels);
    w
}

fn owned_by(mut w: Workload, kind: &str, name: &str) -> Workload {
    w.owner = Some(ObjectRef::new(kind, Some(&w.namespace.clone()), name));
    w
}

fn mk_report(origin: &str, image: &str, cves: &[&str]) -> Report {
    let img = ImageRef::parse(image).unwrap();
    let source = Arc::new(Source {
        format: Format::TrivyOperator,
        scanner: Arc::from("Trivy"),
        origin: Arc::from(origin),
        workload: None,
        container: None,
    });
    let mut r = Report::new(source.clone());
    r.scanned = vec![Artifact::Image(img.clone())];
    for id in cves {
        let mut f = Finding::new(
            FindingKind::Vulnerability,
            id,
            Severity::High,
            id,
            Artifact::Image(img.clone()),
            source.clone(),
        );
        f.package = Some(Package {
            name: Arc::from("openssl"),
            installed_version: Some(Arc::from("1.0")),
            ..Default::default()
        });
        r.findings.push(f);
    }
    r
}

fn mk_app(ns: &str, name: &str, selector: &[(&str, &str)]) -> App {
    App {
        namespace: Arc::from(ns),
        name: Arc::from(name),
        selector: Some(LabelSelector { match_labels: labels(selector), match_expressions: Vec::new() }),
        ..Default::default()
    }
}

fn mk_service(ns: &str, name: &str, ty: &str, selector: &[(&str, &str)]) -> Service {
    Service {
        namespace: Arc::from(ns),
        name: Arc::from(name),
        service_type: Arc::from(ty),
        selector: labels(selector),
        ..Service::default()
    }
}

fn now() -> Timestamp {
    "2026-11-27T00:00:00Z".parse().unwrap()
}

#[test]
fn tag_only_report_joins_the_digest_learned_later() {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_report("ci", mk_report("ci", "ghcr.io/acme/app:1.0", &["CVE-2024-0001", "CVE-2024-0002"]));
    index.refresh();
    let tagged = ImageRef::parse("ghcr.io/acme/app:1.0").unwrap();
    assert_eq!(index.image_for("default", &tagged).unwrap().findings.len(), 2);

    index.apply_report("op", mk_report("op", &format!("ghcr.io/acme/app:1.0@{DIGEST}"), &["CVE-2024-0001"]));
    index.refresh();
    // One artifact, keyed by digest, reachable by tag; the stale tag entry is gone.
    let by_tag = index.image_for("default", &tagged).unwrap();
    let by_digest =
        index.image_for("default", &ImageRef::parse(&format!("ghcr.io/acme/app@{DIGEST}")).unwrap()).unwrap();
    assert!(Arc::ptr_eq(by_tag, by_digest));
    assert_eq!(by_tag.findings.len(), 2);
    let merged = by_tag.findings.iter().find(|f| &*f.id == "CVE-2024-0001").unwrap();
    assert_eq!(merged.sources.len(), 2, "both reports are sources");
    assert_eq!(index.artifacts().count(), 1);

    index.delete_report("ci");
    index.refresh();
    assert_eq!(index.image_for("default", &tagged).unwrap().findings.len(), 1);
    index.delete_report("op");
    index.refresh();
    assert!(index.image_for("default", &tagged).is_none());
    assert_eq!(index.artifacts().count(), 0);
}

#[test]
fn single_source_findings_are_shared_not_copied() {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_report("a", mk_report("a", "nginx:1.25", &["CVE-2024-0001", "CVE-2024-0002"]));
    index.apply_report("b", mk_report("b", "nginx:1.26", &["CVE-2024-0001"]));
    index.refresh();
    let one = index.image_for("default", &ImageRef::parse("nginx:1.25").unwrap()).unwrap();
    let two = index.image_for("default", &ImageRef::parse("nginx:1.26").unwrap()).unwrap();
    // Interned: the same CVE's title in two images is one allocation.
    let t1 = &one.findings.iter().find(|f| &*f.id == "CVE-2024-0001").unwrap().title;
    let t2 = &two.findings[0].title;
    assert!(Arc::ptr_eq(t1, t2));
    // The same vulnerability entry in two images is one shared detail.
    let d1 = one.findings.iter().find(|f| &*f.id == "CVE-2024-0001").unwrap();
    assert!(Arc::ptr_eq(d1.detail(), two.findings[0].detail()));
    assert_eq!(index.distinct_details(), 2);
    // A finding one report states is held once (report + correlated view share it).
    assert!(one.findings.iter().all(|f| Arc::strong_count(f) == 2), "stored report + correlated view");
}

#[test]
fn replacing_a_report_replaces_its_findings() {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_report("r", mk_report("r", "nginx:1.25", &["CVE-2024-0001", "CVE-2024-0002"]));
    index.refresh();
    let g = index.generation();
    index.apply_report("r", mk_report("r", "nginx:1.25", &["CVE-2024-0003"]));
    index.refresh();
    assert!(index.generation() > g);
    let ids: Vec<_> = index
        .image_for("default", &ImageRef::parse("nginx:1.25").unwrap())
        .unwrap()
        .findings
        .iter()
        .map(|f| f.id.to_string())
        .collect();
    assert_eq!(ids, ["CVE-2024-0003"]);
}

#[test]
fn sbom_only_documents_are_not_scan_evidence() {
    let mut index = PostureIndex::new(IndexConfig::default());
    let mut sbom = mk_report("sbom", "nginx:1.25", &[]);
    sbom.components = Some(vec![Component { name: Arc::from("zlib"), version: None, purl: None, licenses: vec![] }]);
    index.apply_report("sbom", sbom);
    index.refresh();
    let p = index.image_for("default", &ImageRef::parse("nginx:1.25").unwrap()).unwrap();
    assert!(p.has_sbom() && !p.scanned);
    index.apply_report("scan", mk_report("scan", "nginx:1.25", &[]));
    index.refresh();
    let p = index.image_for("default", &ImageRef::parse("nginx:1.25").unwrap()).unwrap();
    assert!(p.has_sbom() && p.scanned, "an empty scan is still a scan");
}

#[test]
fn kev_updates_re_enrich_existing_findings() {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_report("r", mk_report("r", "nginx:1.25", &["CVE-2021-44228"]));
    index.refresh();
    let img = ImageRef::parse("nginx:1.25").unwrap();
    assert!(!index.image_for("default", &img).unwrap().findings[0].kev);
    let mut kev = Kev::default();
    kev.insert("CVE-2021-44228", KevEntry { date_added: Arc::from("2021-12-10"), ransomware: true, due_date: None });
    index.set_kev(kev);
    index.refresh();
    assert!(index.image_for("default", &img).unwrap().findings[0].kev);
}

#[test]
fn owner_chains_and_trivy_replicaset_names_resolve_to_the_deployment() {
    let mut index = PostureIndex::new(IndexConfig::default());
    let dep = mk_workload(WorkloadKind::Deployment, "shop", "web", "nginx:1.25", &[("app", "web")]);
    let rs = owned_by(
        mk_workload(WorkloadKind::ReplicaSet, "shop", "web-5d4f8c7b9", "nginx:1.25", &[("app", "web")]),
        "Deployment",
        "web",
    );
    let pod = owned_by(
        mk_workload(WorkloadKind::Pod, "shop", "web-5d4f8c7b9-x2x7q", "nginx:1.25", &[("app", "web")]),
        "ReplicaSet",
        "web-5d4f8c7b9",
    );
    for w in [dep, rs.clone(), pod.clone()] {
        index.apply_workload(w);
    }
    index.refresh();
    let top = |o: ObjectRef| index.top_level(&o).map(|w| w.object_ref().to_string());
    assert_eq!(top(pod.object_ref()).as_deref(), Some("Deployment/shop/web"));
    // A report names a ReplicaSet the index has never seen (an older revision).
    assert_eq!(
        top(ObjectRef::new("ReplicaSet", Some("shop"), "web-7c9d8f6b5")).as_deref(),
        Some("Deployment/shop/web")
    );
    assert_eq!(top(ObjectRef::new("ReplicaSet", Some("shop"), "other-7c9d8f6b5")), None);
    assert!(!index.is_top_level(&pod) && !index.is_top_level(&rs));
    assert_eq!(index.workloads().filter(|w| index.is_top_level(w)).count(), 1);
}

#[test]
fn app_selection_and_exposure() {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_workload(mk_workload(WorkloadKind::Deployment, "shop", "web", "nginx:1.25", &[("app", "web")]));
    index.apply_workload(mk_workload(WorkloadKind::Deployment, "shop", "batch", "nginx:1.25", &[("app", "batch")]));
    index.apply_workload(mk_workload(WorkloadKind::Deployment, "other", "web", "nginx:1.25", &[("app", "web")]));
    index.apply_app(mk_app("shop", "web", &[("app", "web")]));
    index.apply_app(mk_app("shop", "batch", &[("app", "batch")]));
    index.apply_app(mk_app("shop", "nothing", &[]));
    index.apply_service(mk_service("shop", "web", "ClusterIP", &[("app", "web")]));
    index.refresh();
    let reach = |i: &PostureIndex, app: &str| i.detected_exposure("shop", app).map(|d| d.reach);
    assert_eq!(reach(&index, "web"), Some(Reach::Internal));
    assert_eq!(reach(&index, "batch"), Some(Reach::None));
    let web = index.app("shop", "web").unwrap().clone();
    let names: Vec<String> = index.app_workloads(&web).map(|w| w.object_ref().to_string()).collect();
    assert_eq!(names, ["Deployment/shop/web"], "other namespaces are never selected");
    let nothing = index.app("shop", "nothing").unwrap().clone();
    assert_eq!(index.app_workloads(&nothing).count(), 0, "an empty selector selects nothing");

    // An Ingress to the Service makes it internet-facing; so does a NodePort.
    index.apply_route(Route {
        kind: Arc::from("Ingress"),
        namespace: Arc::from("shop"),
        name: Arc::from("web"),
        hosts: vec![Arc::from("shop.example.com")],
        backends: vec![(Arc::from("shop"), Arc::from("web"))],
        ..Route::default()
    });
    index.refresh();
    assert_eq!(reach(&index, "web"), Some(Reach::Internet));
    let reasons = &index.detected_exposure("shop", "web").unwrap().reasons;
    assert!(reasons[0].contains("Ingress shop/web (shop.example.com)"), "{reasons:?}");
    index.delete_route("Ingress", "shop", "web");
    let mut lb = mk_service("shop", "batch-lb", "LoadBalancer", &[("app", "batch")]);
    lb.annotations.insert("service.beta.kubernetes.io/azure-load-balancer-internal".into(), "true".into());
    index.apply_service(lb);
    index.refresh();
    assert_eq!(reach(&index, "web"), Some(Reach::Internal));
    assert_eq!(reach(&index, "batch"), Some(Reach::Internal), "an internal load balancer is not internet");
    index.apply_service(mk_service("shop", "batch-np", "NodePort", &[("app", "batch")]));
    index.refresh();
    assert_eq!(reach(&index, "batch"), Some(Reach::Internet));
}

#[test]
fn one_image_in_forty_workloads_is_one_finding_listing_forty_workloads() {
    let mut index = PostureIndex::new(IndexConfig::default());
    for i in 0..40 {
        index.apply_workload(mk_workload(
            WorkloadKind::Deployment,
            "shop",
            &format!("svc-{i}"),
            "nginx:1.25",
            &[("part-of", "shop")],
        ));
        // Trivy Operator writes one report per ReplicaSet: 40 copies of the same scan.
        index.apply_report(&format!("r{i}"), mk_report(&format!("r{i}"), "nginx:1.25", &["CVE-2024-0001"]));
    }
    index.apply_app(mk_app("shop", "shop", &[("part-of", "shop")]));
    index.refresh();
    let app = index.app("shop", "shop").unwrap().clone();
    let a = assess(&index, &app, now());
    assert_eq!(a.ranked.len(), 1);
    assert_eq!(a.ranked[0].workloads.len(), 40);
    assert_eq!(a.ranked[0].finding.sources.len(), 40);
    assert_eq!(a.images.len(), 1);
    assert_eq!(a.images[0].workloads, 40);
    let status = a.summary();
    assert_eq!(status.findings.high, 1);
    assert_eq!(status.top_findings[0].workloads, 40);
}

#[test]
fn status_stays_small() {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_workload(mk_workload(WorkloadKind::Deployment, "shop", "web", "nginx:1.25", &[("app", "web")]));
    let ids: Vec<String> = (0..500).map(|i| format!("CVE-2024-{i:05}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    index.apply_report("r", mk_report("r", "nginx:1.25", &refs));
    let mut app = mk_app("shop", "web", &[("app", "web")]);
    index.apply_app(app.clone());
    index.refresh();
    let status = assess(&index, &app, now()).summary();
    assert_eq!(status.findings.total, 500);
    assert_eq!(status.top_findings.len(), 20, "default top-N");
    let bytes = serde_json::to_vec(&status).unwrap().len();
    assert!(bytes < 32 * 1024, "status is {bytes} bytes");
    app.top_findings = Some(1000);
    assert_eq!(assess(&index, &app, now()).summary().top_findings.len(), 100, "capped");
}

fn mk_asset(ns: &str, name: &str, asset_type: AssetType, identifier: &str, app: Option<(&str, Option<&str>)>) -> Asset {
    Asset {
        namespace: Arc::from(ns),
        name: Arc::from(name),
        asset_type,
        identifier: identifier.into(),
        app_ref: app.map(|(name, namespace)| LocalRef { name: name.into(), namespace: namespace.map(Into::into) }),
        ..Default::default()
    }
}

/// An index with `shop/web` (critical, exposure auto) running nginx:1.25 with two HIGH
/// findings, and the Services given.
fn mk_shop(services: &[Service]) -> PostureIndex {
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_workload(mk_workload(WorkloadKind::Deployment, "shop", "web", "nginx:1.25", &[("app", "web")]));
    index.apply_report("r", mk_report("r", "nginx:1.25", &["CVE-2024-0001", "CVE-2024-0002"]));
    let mut app = mk_app("shop", "web", &[("app", "web")]);
    app.criticality = Criticality::Critical;
    index.apply_app(app);
    for s in services {
        index.apply_service(s.clone());
    }
    index.refresh();
    index
}

/// What one of the shop's findings scores at `reach` for a critical application.
fn shop_points(index: &PostureIndex, reach: Reach) -> u32 {
    let f = &index.image_for("default", &ImageRef::parse("nginx:1.25").unwrap()).unwrap().findings[0];
    let ctx = RiskContext {
        reach,
        criticality: Criticality::Critical,
        data: DataClassification::Internal,
        privileged: false,
        root: false,
        now: now(),
    };
    risk::points(f, &ctx)
}

#[test]
fn an_image_asset_counts_its_findings_and_where_it_runs() {
    let index = mk_shop(&[mk_service("shop", "web", "NodePort", &[("app", "web")])]);
    let asset = mk_asset("shop", "nginx", AssetType::Image, "nginx", Some(("web", None)));
    let status = assess_asset(&index, &asset, now());
    assert_eq!((status.findings.high, status.findings.total), (2, 2));
    assert_eq!(status.seen_in, ["Deployment/shop/web"]);
    assert_eq!(status.workload_count, 1);
    assert_eq!(status.risk_score, shop_points(&index, Reach::Internet), "the application's detected exposure");
    // The asset's own exposure raises the application's, never lowers it; `auto` does nothing.
    let mut internal = asset.clone();
    internal.exposure = Some(Exposure::Internal);
    assert_eq!(assess_asset(&index, &internal, now()).risk_score, shop_points(&index, Reach::Internet));
    internal.exposure = Some(Exposure::Auto);
    assert_eq!(assess_asset(&index, &internal, now()).risk_score, shop_points(&index, Reach::Internet));
    // Another tenant's namespace never shows where the image runs.
    let other = mk_asset("other", "nginx", AssetType::Image, "nginx", None);
    assert!(assess_asset(&index, &other, now()).seen_in.is_empty());
}

#[test]
fn auto_exposure_with_nothing_detected_is_none_for_assets_as_for_apps() {
    // The asset copy of the exposure rule scored this as "unknown" (like internal); the
    // application and the workload copies said "none". One rule now: none.
    let index = mk_shop(&[]);
    let app = index.app("shop", "web").unwrap().clone();
    assert_eq!(assess(&index, &app, now()).reach, Reach::None);
    let asset = mk_asset("shop", "nginx", AssetType::Image, "nginx", Some(("web", None)));
    let status = assess_asset(&index, &asset, now());
    assert_eq!(status.risk_score, shop_points(&index, Reach::None));
    assert!(status.risk_score < shop_points(&index, Reach::Unknown));
}

#[test]
fn an_asset_referring_to_another_namespaces_application_is_not_attributed() {
    // An Asset belongs to an application of its own namespace only (issue 17 §3): a
    // reference across namespaces is ignored, so the Asset has no application context.
    let index = mk_shop(&[mk_service("shop", "web", "NodePort", &[("app", "web")])]);
    let asset = mk_asset("platform", "nginx", AssetType::Image, "nginx", Some(("web", Some("shop"))));
    let mut ctx = RiskContext::unknown(now());
    ctx.criticality = Criticality::Medium;
    let f = &index.image_for("platform", &ImageRef::parse("nginx:1.25").unwrap()).unwrap().findings[0];
    assert_eq!(assess_asset(&index, &asset, now()).risk_score, risk::points(f, &ctx));
    assert!(risk::points(f, &ctx) < shop_points(&index, Reach::Internet));
}

#[test]
fn service_and_repository_assets() {
    let index = mk_shop(&[mk_service("shop", "web", "ClusterIP", &[("app", "web")])]);
    let svc = assess_asset(&index, &mk_asset("shop", "web-svc", AssetType::Service, "web", None), now());
    assert_eq!((svc.seen_in.as_slice(), svc.findings.total), (&["Deployment/shop/web".to_string()][..], 0));
    let repo = assess_asset(&index, &mk_asset("shop", "r", AssetType::Repository, "github.com/acme/shop", None), now());
    assert_eq!((repo.risk_score, repo.findings.total, repo.last_scanned), (0, 0, None));
}

/// An HTTPRoute in one namespace reaches a Service in another only with a ReferenceGrant
/// there (Gateway API); without one the Gateway refuses the backend.
#[test]
fn cross_namespace_http_route_needs_a_reference_grant() {
    use crate::model::{GrantFrom, GrantTo, ReferenceGrant};
    let mut index = PostureIndex::new(IndexConfig::default());
    index.apply_workload(mk_workload(WorkloadKind::Deployment, "backend", "api", "nginx:1.25", &[("app", "api")]));
    index.apply_app(mk_app("backend", "api", &[("app", "api")]));
    index.apply_service(mk_service("backend", "api", "ClusterIP", &[("app", "api")]));
    index.apply_route(Route {
        kind: Arc::from("HTTPRoute"),
        namespace: Arc::from("tenant"),
        name: Arc::from("steal"),
        hosts: vec![Arc::from("x.example.com")],
        backends: vec![(Arc::from("backend"), Arc::from("api"))],
        ..Route::default()
    });
    index.refresh();
    let reach = |i: &PostureIndex| i.detected_exposure("backend", "api").map(|d| d.reach);
    assert_eq!(reach(&index), Some(Reach::Internal), "no grant: the route does not count");
    index.apply_object(crate::index::KubeObject::ReferenceGrant(ReferenceGrant {
        namespace: Arc::from("backend"),
        name: Arc::from("allow-tenant"),
        from: vec![GrantFrom {
            group: Arc::from("gateway.networking.k8s.io"),
            kind: Arc::from("HTTPRoute"),
            namespace: Arc::from("tenant"),
        }],
        to: vec![GrantTo { group: Arc::from(""), kind: Arc::from("Service"), name: None }],
    }));
    index.refresh();
    assert_eq!(reach(&index), Some(Reach::Internet));
    index.delete_reference_grant("backend", "allow-tenant");
    index.refresh();
    assert_eq!(reach(&index), Some(Reach::Internal));
}

/// Namespace labels are the platform's floors: an AppPosture raises above them, never below.
#[test]
fn namespace_labels_are_floors() {
    use crate::model::{Criticality, Exposure, Namespace};
    let mut index = PostureIndex::new(IndexConfig::default());
    let mut app = mk_app("analytics", "etl", &[("app", "etl")]);
    app.criticality = Criticality::Low;
    app.exposure = Exposure::None;
    index.apply_app(app.clone());
    index.refresh();
    let ctx = index.app_context(index.app("analytics", "etl").unwrap());
    assert_eq!((ctx.criticality, ctx.reach), (Criticality::Medium, Reach::None));
    assert_eq!(ctx.overridden.len(), 1, "{:?}", ctx.overridden);
    let floors = [("aspm.stance.dev/criticality", "low"), ("aspm.stance.dev/exposure", "internal")];
    index.apply_namespace(Namespace { name: Arc::from("analytics"), labels: labels(&floors) });
    let ctx = index.app_context(index.app("analytics", "etl").unwrap());
    assert_eq!((ctx.criticality, ctx.reach), (Criticality::Low, Reach::Internal));
    assert!(
        ctx.overridden[0].starts_with("declared exposure none in AppPosture analytics/etl"),
        "{:?}",
        ctx.overridden
    );
}
