//! The AppPosture reconciler against a mocked API server (`tower-test`): the failures a
//! real server will not produce on demand, and the exact requests it makes.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use prometheus_client::registry::Registry;
use stance::api::AppPosture;
use stance::controller::metrics::ControllerMetrics;
use stance::controller::reconcile::{Context, ReconcileError, error_policy, event_publisher, reconcile};
use stance::ingest::Loaded;
use stance_core::index::IndexConfig;
use tokio::sync::watch;
use tower_test::mock::{self, Handle};

const STATE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11"}]}
---
apiVersion: aspm.stance.dev/v1alpha1
kind: AppPosture
metadata: {name: web, namespace: shop, uid: 0f6f3c1e-1111-2222-3333-444455556666, generation: 3}
spec: {criticality: critical, selector: {matchLabels: {app: web}}}
"#;

/// The test side of the mocked API server.
type ApiHandle = Handle<Request<Body>, Response<Body>>;

fn setup(leader: bool) -> (Arc<Context>, Arc<AppPosture>, ApiHandle) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let mut loaded = Loaded::default();
    loaded.add_bytes("state.yaml", STATE.as_bytes());
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/trivy/spring4shell-jre11.json.golden");
    loaded.add_bytes("spring4shell.json", &std::fs::read(golden).unwrap());
    let index = loaded.into_index(IndexConfig::default());
    // The index keeps domain values; the reconciler gets the object itself.
    let app: AppPosture = serde_yaml::from_str(STATE.split("\n---\n").nth(1).unwrap()).unwrap();
    let app = Arc::new(app);
    let (_tx, rx) = watch::channel(leader);
    // Keep the sender alive for the test's duration.
    std::mem::forget(_tx);
    let metrics = ControllerMetrics::register(&mut Registry::default());
    let recorder =
        Recorder::new(client.clone(), Reporter { controller: "stance".into(), instance: Some("test".into()) });
    let ctx = Arc::new(Context {
        client,
        index: Arc::new(RwLock::new(index)),
        events: event_publisher(recorder, metrics.clone()),
        metrics,
        leader: rx,
    });
    (ctx, app, handle)
}

fn response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    Response::builder().status(status).body(Body::from(serde_json::to_vec(body).unwrap())).unwrap()
}

#[tokio::test]
async fn leader_writes_status_with_server_side_apply_then_events() {
    let (ctx, app, mut handle) = setup(true);
    let server = tokio::spawn(async move {
        let (req, send) = handle.next_request().await.expect("a status patch");
        assert_eq!(req.method(), http::Method::PATCH);
        let uri = req.uri().to_string();
        assert!(uri.starts_with("/apis/aspm.stance.dev/v1alpha1/namespaces/shop/apppostures/web/status?"), "{uri}");
        assert!(uri.contains("fieldManager=stance") && uri.contains("force=true"), "{uri}");
        assert_eq!(req.headers()["content-type"], "application/apply-patch+yaml");
        let body = req.into_body().collect_bytes().await.unwrap();
        let patch: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(patch["kind"], "AppPosture");
        assert_eq!(patch["status"]["observedGeneration"], 3);
        assert_eq!(patch["status"]["findings"]["critical"], 1);
        assert_eq!(patch["status"]["topFindings"][0]["id"], "CVE-2022-22965");
        let mut stored = serde_json::json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "AppPosture",
            "metadata": {"name": "web", "namespace": "shop", "uid": "0f6f3c1e-1111-2222-3333-444455556666", "generation": 3},
            "spec": {"criticality": "critical"}});
        stored["status"] = patch["status"].clone();
        send.send_response(response(StatusCode::OK, &stored));
        // Then an Event for the new critical finding.
        let (req, send) = handle.next_request().await.expect("an event");
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri().path(), "/apis/events.k8s.io/v1/namespaces/shop/events");
        let body = req.into_body().collect_bytes().await.unwrap();
        let ev: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(ev["reason"], "CriticalFinding");
        assert!(ev["note"].as_str().unwrap().contains("CVE-2022-22965"));
        send.send_response(response(StatusCode::CREATED, &ev));
    });
    let action = reconcile(app, ctx).await.unwrap();
    assert_eq!(action, Action::requeue(Duration::from_secs(600)));
    tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
}

#[tokio::test]
async fn unchanged_status_makes_no_request() {
    let (ctx, app, mut handle) = setup(true);
    // The object already carries the status the core computes now.
    let status = {
        let index = ctx.index.read().unwrap();
        let app = stance_core::model::App::from(&*app);
        stance::controller::status::app_status(&index, &app, jiff::Timestamp::now())
    };
    let mut current = (*app).clone();
    current.status = Some(status);
    let action = reconcile(Arc::new(current), ctx).await.unwrap();
    assert_eq!(action, Action::requeue(Duration::from_secs(600)));
    let next = tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await;
    assert!(!matches!(next, Ok(Some(_))), "no request expected");
}

#[tokio::test]
async fn a_failing_write_is_an_error_and_is_retried() {
    let (ctx, app, mut handle) = setup(true);
    let server = tokio::spawn(async move {
        let (_req, send) = handle.next_request().await.expect("a status patch");
        send.send_response(response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "etcdserver: request timed out", "reason": "InternalError", "code": 500}),
        ));
    });
    let err = reconcile(app.clone(), ctx.clone()).await.unwrap_err();
    assert!(matches!(err, ReconcileError::Write(..)), "{err}");
    assert!(err.to_string().contains("AppPosture shop/web") && err.to_string().contains("etcdserver"), "{err}");
    assert_eq!(error_policy(app, &err, ctx.clone()), Action::requeue(Duration::from_secs(15)));
    // The failure is counted.
    let label = stance::controller::metrics::ResultLabels { kind: "AppPosture".into(), result: "error".into() };
    assert_eq!(ctx.metrics.reconciles.get_or_create(&label).get(), 1);
    server.await.unwrap();
}

#[tokio::test]
async fn followers_never_write() {
    let (ctx, app, mut handle) = setup(false);
    assert_eq!(reconcile(app, ctx).await.unwrap(), Action::await_change());
    let next = tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await;
    assert!(!matches!(next, Ok(Some(_))), "no request expected");
}
