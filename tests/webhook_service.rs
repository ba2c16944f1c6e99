//! The HTTP service in-process (no socket): routes, the 3 MiB body limit, metrics, the
//! audit hand-off, and what happens when evaluation is slow, panics or cannot read the
//! index (fail open / fail closed), and the concurrency limit.

mod webhook_support;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use jiff::Timestamp;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use stance::endpoints::{self, Endpoints};
use stance::telemetry::{self, Readiness};
use stance::webhook::{
    AuditRecord, Handled, HandlerOptions, INLINE_MAX_BODY, ServiceOptions, Slice, SliceSpent, Webhook, WebhookMetrics,
    handle_within,
};
use stance_core::index::PostureIndex;
use stance_core::policy::Budget;
use webhook_support::*;

type Evaluated = Result<Handled, SliceSpent>;

struct Harness {
    webhook: Arc<Webhook>,
    registry: Arc<Registry>,
    readiness: Readiness,
}

fn harness(
    index: PostureIndex,
    opts: ServiceOptions,
    audit: Option<tokio::sync::mpsc::Sender<AuditRecord>>,
) -> Harness {
    let mut registry = Registry::default();
    let metrics = WebhookMetrics::register(&mut registry);
    let readiness = Readiness::default();
    let webhook = Webhook::new(Arc::new(RwLock::new(index)), metrics, audit, opts);
    Harness { webhook: Arc::new(webhook), registry: Arc::new(registry), readiness }
}

/// What the HTTPS listener answers (its router), in-process: no socket, any body.
async fn call<B>(webhook: &Arc<Webhook>, readiness: &Readiness, req: Request<B>) -> warp::reply::Response
where
    B: hyper::body::Body + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use tower::Service;
    let routes = endpoints::router(Endpoints { admission: Some(webhook.clone()), ..Endpoints::new(readiness.clone()) });
    match warp::service(routes).call(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

fn opts() -> ServiceOptions {
    ServiceOptions { now: Some(now()), ..ServiceOptions::default() }
}

fn guarded_index() -> PostureIndex {
    mk_index(
        &[
            policy("no-kev", "Enforce", "  onUnscanned: allow\n", KEV_RULE),
            policy("no-latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
        ]
        .concat(),
        &REPORTS,
    )
}

impl Harness {
    async fn post(&self, path: &str, body: impl Into<Bytes>) -> (StatusCode, Value) {
        let req = Request::post(path).body(Full::new(body.into())).unwrap();
        let res = call(&self.webhook, &self.readiness, req).await;
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = call(&self.webhook, &self.readiness, Request::get(path).body(Full::new(Bytes::new())).unwrap()).await;
        let status = res.status();
        (status, String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
    }

    fn metrics(&self) -> String {
        telemetry::encode(&self.registry)
    }

    /// The value of one sample line (`name{labels}`), 0 when absent.
    fn sample(&self, series: &str) -> f64 {
        self.metrics()
            .lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    }
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[tokio::test]
async fn decisions_are_answered_and_counted() {
    let h = harness(guarded_index(), opts(), None);
    let (s, deny) = h.post("/validate", body(&review_of("CREATE", deployment("pay", "api", SPRING), None))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(deny["response"]["allowed"], false);
    assert_eq!(deny["response"]["uid"], "uid-Deployment-api-CREATE");
    let (_, warn) = h.post("/validate", body(&fixture_json(LOAD_TESTING[0]))).await;
    assert_eq!(warn["response"]["allowed"], true);
    assert_eq!(warn["response"]["warnings"].as_array().unwrap().len(), 2);
    let (_, allow) = h.post("/validate", body(&review_of("CREATE", deployment("shop", "web", ALPINE), None))).await;
    assert_eq!(allow["response"]["allowed"], true);
    assert!(allow["response"].get("warnings").is_none());

    let m = |s: &str| h.sample(s);
    assert_eq!(
        m(r#"stance_webhook_admission_requests_total{decision="deny",kind="Deployment",operation="CREATE"}"#),
        1.0
    );
    assert_eq!(m(r#"stance_webhook_admission_requests_total{decision="warn",kind="Pod",operation="CREATE"}"#), 1.0);
    assert_eq!(
        m(r#"stance_webhook_admission_requests_total{decision="allow",kind="Deployment",operation="CREATE"}"#),
        1.0
    );
    assert_eq!(m(r#"stance_webhook_violations_total{policy="no-kev",enforcement="Enforce",effect="deny"}"#), 1.0);
    assert_eq!(m(r#"stance_webhook_violations_total{policy="no-latest",enforcement="Warn",effect="warn"}"#), 2.0);
    assert_eq!(m(r#"stance_webhook_request_duration_seconds_count{endpoint="validate"}"#), 3.0);
    assert_eq!(m("stance_webhook_evaluation_duration_seconds_count"), 3.0);
    assert_eq!(m("stance_webhook_in_flight"), 0.0);
    // No finding id, image or workload name ever becomes a label value.
    let text = h.metrics();
    for leak in ["CVE-", "ghcr.io", "api", "nginx"] {
        assert!(!text.lines().filter(|l| !l.starts_with('#')).any(|l| l.contains(leak)), "{leak} in\n{text}");
    }
}

#[tokio::test]
async fn bad_requests_are_400_counted_by_reason_and_the_service_keeps_serving() {
    let h = harness(guarded_index(), opts(), None);
    let mut wrong_version = fixture_json(LOAD_TESTING[0]);
    wrong_version["apiVersion"] = json!("admission.k8s.io/v1beta1");
    for (payload, reason) in [
        (b"garbage".to_vec(), "invalid_json"),
        (Vec::new(), "invalid_json"),
        (body(&wrong_version), "wrong_api_version"),
        (body(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"})), "missing_request"),
    ] {
        let (s, v) = h.post("/validate", payload).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{reason}");
        assert_eq!(v["response"]["status"]["code"], 400, "{reason}");
        assert!(h.sample(&format!(r#"stance_webhook_bad_requests_total{{reason="{reason}"}}"#)) >= 1.0, "{reason}");
    }
    assert_eq!(h.sample(r#"stance_webhook_bad_requests_total{reason="invalid_json"}"#), 2.0);
    assert_eq!(
        h.sample(r#"stance_webhook_admission_requests_total{decision="invalid",kind="unknown",operation="unknown"}"#),
        4.0
    );
    // Still serving.
    let (s, v) = h.post("/validate", body(&fixture_json(LOAD_TESTING[1]))).await;
    assert_eq!((s, v["response"]["allowed"].as_bool()), (StatusCode::OK, Some(true)));
}

#[tokio::test]
async fn bodies_over_3_mib_are_refused_with_413() {
    let h = harness(guarded_index(), opts(), None);
    // A real review padded past the limit (an annotation), with a Content-Length…
    let mut review = fixture_json(LOAD_TESTING[0]);
    review["request"]["object"]["metadata"]["annotations"]["pad"] = json!("x".repeat(3 * 1024 * 1024));
    let big = body(&review);
    let (s, v) = h.post("/validate", big.clone()).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["response"]["status"]["code"], 413);
    // …and streamed without one.
    let chunks: Vec<Result<hyper::body::Frame<Bytes>, std::convert::Infallible>> =
        big.chunks(64 * 1024).map(|c| Ok(hyper::body::Frame::data(Bytes::copy_from_slice(c)))).collect();
    let req = Request::post("/validate").body(StreamBody::new(futures::stream::iter(chunks))).unwrap();
    assert_eq!(call(&h.webhook, &h.readiness, req).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.sample(r#"stance_webhook_bad_requests_total{reason="body_too_large"}"#), 2.0);
    // Just under the limit is read (and judged).
    review["request"]["object"]["metadata"]["annotations"]["pad"] = json!("x".repeat(3 * 1024 * 1024 - 10_000));
    let (s, v) = h.post("/validate", body(&review)).await;
    assert_eq!((s, v["response"]["allowed"].as_bool()), (StatusCode::OK, Some(true)));
}

#[tokio::test]
async fn health_readiness_and_unknown_routes() {
    let h = harness(guarded_index(), opts(), None);
    assert_eq!(h.get("/healthz").await, (StatusCode::OK, "ok".to_string()));
    h.readiness.register("index");
    let (s, text) = h.get("/readyz").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.contains("waiting for index"), "{text}");
    h.readiness.set("index", true);
    assert_eq!(h.get("/readyz").await.0, StatusCode::OK);
    assert_eq!(h.get("/validate").await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h.get("/metrics").await.0, StatusCode::NOT_FOUND, "metrics are on the plain-HTTP port");
    assert_eq!(h.post("/mutate", "{}").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_noop_baseline_reads_the_review_and_allows() {
    let h = harness(guarded_index(), opts(), None);
    let (s, v) = h.post("/validate-noop", body(&review_of("CREATE", deployment("pay", "api", SPRING), None))).await;
    assert_eq!((s, v["response"]["allowed"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(v["response"]["uid"], "uid-Deployment-api-CREATE");
    assert_eq!(h.post("/validate-noop", "nope").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(h.sample(r#"stance_webhook_request_duration_seconds_count{endpoint="validate-noop"}"#), 2.0);
    // Not counted as admission decisions.
    assert!(!h.metrics().contains("stance_webhook_admission_requests_total{decision=\"allow\""));
}

#[tokio::test]
async fn audit_records_go_to_the_operator_without_blocking_and_never_for_dry_runs() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let h = harness(guarded_index(), opts(), Some(tx));
    let warned = fixture_json(LOAD_TESTING[4]);
    h.post("/validate", body(&warned)).await;
    let record = rx.try_recv().expect("a record for the warned Pod");
    assert_eq!(record.uid, "1299d386-525b-4032-98ae-1949f69f9cfc");
    assert_eq!(record.workload.to_string(), "Pod/default/nginx");
    assert_eq!(record.violations.len(), 2);
    assert_eq!(record.at, now());
    assert!(!record.user_verified, "no client certificate vouches for the userInfo this caller wrote");
    // Dry run: same answer, no record.
    let mut dry = warned.clone();
    dry["request"]["dryRun"] = json!(true);
    let (_, v) = h.post("/validate", body(&dry)).await;
    assert_eq!(v["response"]["warnings"].as_array().unwrap().len(), 2);
    assert!(rx.try_recv().is_err());
    // Denied: a record for the audit trail only (not admitted), with the blocking violation.
    h.post("/validate", body(&review_of("CREATE", deployment("pay", "api", SPRING), None))).await;
    let denied = rx.try_recv().expect("a record of the denial");
    assert!(!denied.admitted && record.admitted);
    assert_eq!(denied.workload.to_string(), "Deployment/pay/api");
    assert!(denied.violations.iter().any(|v| v.blocks() && &*v.policy == "no-kev"), "{denied:#?}");
    // A denied dry run: none.
    let mut dry = review_of("CREATE", deployment("pay", "api", SPRING), None);
    dry["request"]["dryRun"] = json!(true);
    h.post("/validate", body(&dry)).await;
    assert!(rx.try_recv().is_err());
    // A full channel drops (and counts) instead of waiting.
    h.post("/validate", body(&warned)).await;
    let (s, _) = tokio::time::timeout(Duration::from_secs(5), h.post("/validate", body(&warned))).await.unwrap();
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h.sample("stance_webhook_audit_records_dropped_total"), 1.0);
    drop(rx);
    h.post("/validate", body(&warned)).await;
    assert_eq!(h.sample("stance_webhook_audit_records_dropped_total"), 2.0, "a closed channel drops too");
}

/// The audit trail end to end: the webhook's records through `controller::decisions` into a
/// SQLite history store, read back with `stance history --format json`; with the store
/// down the rows wait in memory, bounded (the oldest dropped and counted), and are written
/// when it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_records_denials_and_warnings_in_the_history_store() {
    use stance::controller::{decisions, history::HistoryMetrics};
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("not-yet");
    let path = folder.join("history.db");
    let url: stance_history::HistoryUrl = format!("sqlite:{}", path.display()).parse().unwrap();
    let metrics = HistoryMetrics::register(&mut Registry::default());
    let (trail_tx, trail_rx) = tokio::sync::mpsc::channel(16);
    let token = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(decisions::run(url.clone(), "prod".into(), trail_rx, metrics.clone(), token.clone()));

    // The webhook's records: a warned Pod, a denied Deployment.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let h = harness(guarded_index(), opts(), Some(tx));
    h.post("/validate", body(&fixture_json(LOAD_TESTING[4]))).await;
    h.post("/validate", body(&review_of("CREATE", deployment("pay", "api", SPRING), None))).await;
    let (warned, denied) = (rx.try_recv().unwrap(), rx.try_recv().unwrap());
    let rows = warned.violations.len() + denied.violations.len();

    // The store is down (its folder is missing): more records than the buffer holds arrive.
    let copies = decisions::MAX_PENDING / denied.violations.len() + 10;
    for i in 0..copies {
        let mut r = denied.clone();
        r.uid = format!("flood-{i}");
        // Older than the real records, which `stance history` then lists first.
        r.at -= jiff::SignedDuration::from_hours(1);
        trail_tx.send(r).await.unwrap();
    }
    let flood = copies * denied.violations.len();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // The task drops as it receives: wait for the whole flood to be taken in (the first drop
    // comes before the last record is read on a busy machine), then the count must be exact.
    while (metrics.decisions_dropped.get() as usize) < flood - decisions::MAX_PENDING {
        assert!(std::time::Instant::now() < deadline, "dropped: {}", metrics.decisions_dropped.get());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(metrics.decisions_dropped.get() as usize, flood - decisions::MAX_PENDING);
    // It returns: what waits is written, then the two real records.
    std::fs::create_dir_all(&folder).unwrap();
    while (metrics.decisions_written.get() as usize) < decisions::MAX_PENDING {
        assert!(std::time::Instant::now() < deadline, "written: {}", metrics.decisions_written.get());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    trail_tx.send(warned.clone()).await.unwrap();
    trail_tx.send(denied.clone()).await.unwrap();
    while (metrics.decisions_written.get() as usize) < decisions::MAX_PENDING + rows {
        assert!(std::time::Instant::now() < deadline, "written: {}", metrics.decisions_written.get());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    token.cancel();
    task.await.unwrap();

    // `stance history` shows them: requester, workload, policy, rule, effect.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["history", "--history", &format!("sqlite:{}", path.display()), "--format", "json"])
        .args(["--since", "2026-11-01T00:00:00Z", "--now", "2026-11-28T00:00:00Z"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = v["admissionDecisions"].as_array().unwrap();
    let of = |uid: &str| listed.iter().filter(|d| d["uid"] == uid).cloned().collect::<Vec<_>>();
    let deny = of(&denied.uid);
    assert_eq!(deny.len(), denied.violations.len(), "{listed:#?}");
    assert!(
        deny.iter().any(|d| d["effect"] == "deny"
            && d["policy"] == "no-kev"
            && d["rule"] == "kev"
            && d["workload"] == "Deployment/pay/api"
            && d["operation"] == "CREATE"
            && d["cluster"] == "prod"
            && d["message"].as_str().unwrap().contains("CVE-2022-22965")),
        "{deny:#?}"
    );
    let warn = of(&warned.uid);
    assert_eq!(warn.len(), warned.violations.len());
    assert!(warn.iter().all(|d| d["effect"] == "warn" && d["workload"] == "Pod/default/nginx"), "{warn:#?}");
    // Not verified by a client certificate: the trail says so.
    assert!(warn.iter().all(|d| d["username"].as_str().unwrap().ends_with("(unverified)")), "{warn:#?}");
}

/// 300 ms of evaluation that, like the real one, asks its budget between units of work
/// (here every 5 ms): inline it stops at the end of its slice, on the pool it runs through.
fn slow(body: &[u8], index: &PostureIndex, now: Timestamp, opts: &HandlerOptions, slice: &Slice) -> Evaluated {
    for _ in 0..60 {
        slice.check()?;
        std::thread::sleep(Duration::from_millis(5));
    }
    handle_within(body, index, now, opts, slice)
}

fn panicking(_: &[u8], _: &PostureIndex, _: Timestamp, _: &HandlerOptions, _: &Slice) -> Evaluated {
    panic!("evaluation bug")
}

/// An evaluation that runs past the inline slice once per review (the first, inline, run)
/// and then answers as the handler does.
fn slow_inline(body: &[u8], index: &PostureIndex, now: Timestamp, opts: &HandlerOptions, slice: &Slice) -> Evaluated {
    std::thread::sleep(Duration::from_millis(3));
    slice.check()?;
    handle_within(body, index, now, opts, slice)
}

#[tokio::test]
async fn a_timeout_fails_open_with_a_warning_when_configured() {
    let o = ServiceOptions { fail_open: true, timeout: Duration::from_millis(50), ..opts() };
    let mut h = harness(guarded_index(), o, None);
    h.webhook = Arc::new(Arc::into_inner(h.webhook).unwrap().with_evaluator(slow));
    let (s, v) = h.post("/validate", body(&review_of("CREATE", deployment("pay", "api", SPRING), None))).await;
    assert_eq!(s, StatusCode::OK);
    let r = &v["response"];
    assert_eq!((r["allowed"].as_bool(), r["uid"].as_str()), (Some(true), Some("uid-Deployment-api-CREATE")));
    let w = r["warnings"][0].as_str().unwrap();
    assert!(w.starts_with("Stance could not evaluate this request because it did not finish within 50 ms"), "{w}");
    assert_eq!(h.sample("stance_webhook_fail_open_total"), 1.0);
    assert_eq!(h.sample(r#"stance_webhook_evaluation_errors_total{reason="timeout"}"#), 1.0);
}

#[tokio::test]
async fn a_panic_fails_closed_without_leaking_details() {
    let mut h = harness(guarded_index(), opts(), None);
    h.webhook = Arc::new(Arc::into_inner(h.webhook).unwrap().with_evaluator(panicking));
    let (s, v) = h.post("/validate", body(&fixture_json(LOAD_TESTING[4]))).await;
    assert_eq!(s, StatusCode::OK);
    let r = &v["response"];
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 500);
    let m = r["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("could not evaluate this request because of an internal error") && m.contains("fails closed"),
        "{m}"
    );
    assert!(m.contains("1299d386-525b-4032-98ae-1949f69f9cfc") && !m.contains("evaluation bug"), "{m}");
    assert_eq!(h.sample(r#"stance_webhook_evaluation_errors_total{reason="panic"}"#), 1.0);
    assert_eq!(h.sample("stance_webhook_fail_open_total"), 0.0);
    assert_eq!(
        h.sample(r#"stance_webhook_admission_requests_total{decision="deny",kind="unknown",operation="unknown"}"#),
        1.0
    );
    // The service survives: the next request gets its (fail-closed) answer too.
    let (s, v) = h.post("/validate", body(&fixture_json(LOAD_TESTING[3]))).await;
    assert_eq!((s, v["response"]["status"]["code"].as_u64()), (StatusCode::OK, Some(500)));
    assert_eq!(h.sample(r#"stance_webhook_evaluation_errors_total{reason="panic"}"#), 2.0);
}

#[tokio::test]
async fn a_poisoned_index_is_an_internal_error() {
    let index = Arc::new(RwLock::new(guarded_index()));
    let poison = index.clone();
    let _ = std::thread::spawn(move || {
        let _guard = poison.write().unwrap();
        panic!("a writer died mid-update");
    })
    .join();
    let mut registry = Registry::default();
    let metrics = WebhookMetrics::register(&mut registry);
    let o = ServiceOptions { fail_open: true, ..opts() };
    let webhook = Arc::new(Webhook::new(index, metrics, None, o));
    let req = Request::post("/validate").body(Full::new(Bytes::from(body(&fixture_json(LOAD_TESTING[0]))))).unwrap();
    let v: Value = serde_json::from_slice(
        &call(&webhook, &Readiness::default(), req).await.into_body().collect().await.unwrap().to_bytes(),
    )
    .unwrap();
    assert_eq!(v["response"]["allowed"], true);
    assert!(v["response"]["warnings"][0].as_str().unwrap().contains("internal error"));
    assert!(telemetry::encode(&registry).contains("stance_webhook_evaluation_errors_total{reason=\"internal\"} 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_queues_within_the_deadline() {
    // One slot, 300 ms per evaluation, 450 ms deadline: of two simultaneous requests the
    // second waits for the slot and runs out of time.
    let o = ServiceOptions { max_in_flight: 1, timeout: Duration::from_millis(450), ..opts() };
    let mut h = harness(guarded_index(), o, None);
    h.webhook = Arc::new(Arc::into_inner(h.webhook).unwrap().with_evaluator(slow));
    let review = body(&fixture_json(LOAD_TESTING[0]));
    let (a, b) = tokio::join!(h.post("/validate", review.clone()), h.post("/validate", review));
    let answers = [a.1["response"]["allowed"].as_bool(), b.1["response"]["allowed"].as_bool()];
    assert_eq!(answers.iter().filter(|x| **x == Some(false)).count(), 1, "{a:?} {b:?}");
    assert_eq!(h.sample(r#"stance_webhook_evaluation_errors_total{reason="timeout"}"#), 1.0);
    assert_eq!(h.sample("stance_webhook_in_flight"), 0.0);
}

/// Every review of the fixtures, as the load test sends them.
fn reviews() -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = LOAD_TESTING.iter().map(|f| body(&fixture_json(f))).collect();
    all.push(body(&review_of("CREATE", deployment("pay", "api", SPRING), None)));
    all.push(body(&review_of("CREATE", deployment("shop", "web", ALPINE), None)));
    all
}

#[tokio::test]
async fn reviews_are_answered_inline_and_the_pool_gives_the_same_answers() {
    // A slice no evaluation reaches, even in a debug build on a loaded machine: the point
    // here is where reviews run, not how long they take (the next test stops one).
    let inline = harness(guarded_index(), ServiceOptions { inline_slice: Duration::from_secs(10), ..opts() }, None);
    let pool = harness(guarded_index(), ServiceOptions { inline_slice: Duration::ZERO, ..opts() }, None);
    let reviews = reviews();
    for review in &reviews {
        let a = inline.post("/validate", review.clone()).await;
        let b = pool.post("/validate", review.clone()).await;
        assert_eq!(a, b);
    }
    let n = reviews.len() as f64;
    assert_eq!(inline.sample(r#"stance_webhook_evaluations_total{path="inline"}"#), n);
    assert_eq!(inline.sample(r#"stance_webhook_evaluations_total{path="pool"}"#), 0.0);
    assert_eq!(pool.sample(r#"stance_webhook_evaluations_total{path="pool"}"#), n);
    assert_eq!(pool.sample(r#"stance_webhook_evaluations_total{path="inline"}"#), 0.0);
    assert_eq!(
        inline.metrics().lines().filter(|l| l.starts_with("stance_webhook_admission_requests_total")).count(),
        3
    );
    assert_eq!(inline.sample("stance_webhook_in_flight"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluation_past_its_inline_slice_is_re_run_on_the_pool_with_the_same_answer() {
    let o = ServiceOptions { inline_slice: Duration::from_millis(1), ..opts() };
    let mut h = harness(guarded_index(), o, None);
    h.webhook = Arc::new(Arc::into_inner(h.webhook).unwrap().with_evaluator(slow_inline));
    let reference = harness(guarded_index(), opts(), None);
    for review in reviews() {
        assert_eq!(h.post("/validate", review.clone()).await, reference.post("/validate", review).await);
    }
    let n = reviews().len() as f64;
    assert_eq!(h.sample("stance_webhook_inline_stopped_total"), n);
    assert_eq!(h.sample(r#"stance_webhook_evaluations_total{path="pool"}"#), n);
    assert_eq!(h.sample(r#"stance_webhook_evaluations_total{path="inline"}"#), 0.0);
    // Counted once per review, not once per run.
    assert_eq!(
        h.sample(r#"stance_webhook_admission_requests_total{decision="deny",kind="Deployment",operation="CREATE"}"#),
        reference
            .sample(r#"stance_webhook_admission_requests_total{decision="deny",kind="Deployment",operation="CREATE"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_reviews_and_reviews_during_a_refresh_go_to_the_pool() {
    let index = Arc::new(RwLock::new(guarded_index()));
    let mut registry = Registry::default();
    let metrics = WebhookMetrics::register(&mut registry);
    let webhook = Arc::new(Webhook::new(index.clone(), metrics, None, opts()));
    let post = |bytes: Vec<u8>| {
        let webhook = webhook.clone();
        async move {
            let req = Request::post("/validate").body(Full::new(Bytes::from(bytes))).unwrap();
            let res = call(&webhook, &Readiness::default(), req).await;
            serde_json::from_slice::<Value>(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
        }
    };
    let sample = |series: &str| {
        telemetry::encode(&registry)
            .lines()
            .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')).map(|v| v.trim().parse().unwrap()))
            .unwrap_or(0.0)
    };
    // Larger than the inline limit (an annotation pads it): the pool, same verdict.
    let mut big = review_of("CREATE", deployment("pay", "api", SPRING), None);
    big["request"]["object"]["metadata"]["annotations"] = json!({"padding": "x".repeat(INLINE_MAX_BODY)});
    let answer = post(body(&big)).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert_eq!(sample(r#"stance_webhook_evaluations_total{path="pool"}"#), 1.0);
    assert_eq!(sample(r#"stance_webhook_evaluations_total{path="inline"}"#), 0.0);
    // While a refresh holds the index, the review waits on the pool, not on the reactor.
    let (held, is_held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let writer = {
        let index = index.clone();
        std::thread::spawn(move || {
            let _guard = index.write().unwrap();
            held.send(()).unwrap();
            released.recv().unwrap();
        })
    };
    is_held.recv().unwrap();
    let pending = tokio::spawn(post(body(&fixture_json(LOAD_TESTING[0]))));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "answered while the index was being written");
    release.send(()).unwrap();
    writer.join().unwrap();
    let answer = pending.await.unwrap();
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert_eq!(sample(r#"stance_webhook_evaluations_total{path="pool"}"#), 2.0);
    assert_eq!(sample(r#"stance_webhook_evaluations_total{path="inline"}"#), 0.0);
}
