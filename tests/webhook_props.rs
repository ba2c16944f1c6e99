//! Property tests: whatever bytes or JSON arrive — random bytes, random JSON, and
//! AdmissionReviews of every kind whose `object` / `oldObject` are random or real objects
//! with random values grafted in anywhere — the handler (and the HTTP service around it)
//! never panics and always gives a well-formed answer: 200 with an AdmissionReview kube can
//! read and the request's uid, or 400 / 413 with a JSON explanation.

mod webhook_support;

use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use stance::ingest::{KubeObject, Loaded};
use stance::webhook::{HandlerOptions, ServiceOptions, Webhook, WebhookMetrics, handle, handle_noop};
use stance_core::index::{IndexConfig, PostureIndex};
use webhook_support::*;

/// Every rule type and enforcement mode (synthetic policies), plus the real reports.
fn index() -> &'static PostureIndex {
    static INDEX: OnceLock<PostureIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut loaded = Loaded::default();
        for f in REPORTS {
            loaded.add_bytes(f, &common::fixture_bytes(f));
        }
        loaded.add_bytes("p.yaml", policy("no-kev", "Enforce", "  newRiskOnly: true\n", KEV_RULE).as_bytes());
        loaded.objects.extend(stance_core::synthetic::policies(10).into_iter().map(KubeObject::Policy));
        loaded.into_index(IndexConfig::default())
    })
}

/// Checks one answer of the pure handler.
fn check_answer(status: u16, body: &[u8], uid: Option<&str>) -> Result<(), TestCaseError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| TestCaseError::fail(format!("not JSON ({e})")))?;
    prop_assert_eq!(v["apiVersion"].as_str(), Some("admission.k8s.io/v1"));
    match status {
        200 => {
            let review: kube::core::admission::AdmissionReview<kube::core::DynamicObject> =
                serde_json::from_value(v).map_err(|e| TestCaseError::fail(format!("kube cannot read it: {e}")))?;
            let response = review.response.ok_or_else(|| TestCaseError::fail("no response"))?;
            if let Some(uid) = uid {
                prop_assert_eq!(response.uid.as_str(), uid);
            }
            prop_assert!(response.allowed || !response.result.message.is_empty());
            prop_assert!(response.result.message.len() < 4096);
            for w in response.warnings.iter().flatten() {
                prop_assert!(w.len() <= 512 && !w.contains('\n'));
            }
        }
        400 | 413 => prop_assert_eq!(v["response"]["allowed"].as_bool(), Some(false)),
        other => prop_assert!(false, "unexpected status {}", other),
    }
    Ok(())
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "metadata", "spec", "template", "containers", "initContainers", "ephemeralContainers", "image", "name",
            "namespace", "labels", "securityContext", "privileged", "runAsUser", "runAsNonRoot", "resources", "limits",
            "jobTemplate", "ownerReferences", "controller", "uid", "kind", "deletionTimestamp", "hostPID", "volumes",
            "hostPath", "path", "capabilities", "add", "selector", "creationTimestamp", "rules", "expires",
        ])
        .prop_map(String::from),
        1 => "[a-zA-Z]{0,8}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        prop::sample::select(vec![
            SPRING,
            ALPINE,
            "nginx",
            "nginx:alpine",
            "busybox:latest",
            "ghcr.io/x/y@sha256:0123",
            ":::",
            "",
            "Pod",
            "Deployment",
            "CronJob",
            "apps/v1",
            "v1",
            "UPDATE",
            "2026-11-27T12:00:00Z",
            "not a time",
            "-1",
            "0",
        ])
        .prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every JSON pointer inside `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

/// Real objects of workload kinds and Stance kinds, with their group and kind, to graft
/// random values into.
fn real_objects() -> Vec<(&'static str, &'static str, Value)> {
    let verify = |f: &str| fixture_json(&format!("kubewarden-verify-image-signatures/{f}"))["object"].clone();
    let mut pod = fixture_json(LOAD_TESTING[4])["request"]["object"].clone();
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": SPRING}]);
    vec![
        ("", "Pod", pod),
        ("", "Pod", verify("pod_creation_with_init_container.json")),
        ("batch", "CronJob", verify("cronjob_creation_unsigned.json")),
        ("apps", "Deployment", verify("deployment_creation_signed.json")),
        ("apps", "StatefulSet", verify("statefulset_creation_unsigned.json")),
        ("apps", "Deployment", deployment("pay", "api", SPRING)),
        ("apps", "ReplicaSet", deployment("shop", "web", NGINX_ALPINE)),
        ("apps", "DaemonSet", deployment("kube-system", "agent", SPRING)),
        (
            "batch",
            "Job",
            json!({"metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": ALPINE}]}}}}),
        ),
        (
            "aspm.stance.dev",
            "GuardrailPolicy",
            json!({"metadata": {"name": "p"}, "spec": {"enforcement": "Warn", "rules": [{"vulnerabilities": {"maxSeverity": "HIGH"}}]}}),
        ),
        (
            "aspm.stance.dev",
            "RiskException",
            json!({"metadata": {"name": "e", "namespace": "stance-system"}, "spec": {"justification": "j", "expires": "2026-12-01T00:00:00Z"}}),
        ),
    ]
}

/// A real object (group, kind, object), with a random value grafted in at a random place
/// two times out of three.
fn mutated_object() -> impl Strategy<Value = (String, String, Value)> {
    let objects = real_objects();
    (0..objects.len(), any::<prop::sample::Index>(), prop::option::weighted(0.67, arb_json())).prop_map(
        move |(i, at, graft)| {
            let (group, kind, mut o) = objects[i].clone();
            let mut ps = Vec::new();
            pointers(&o, String::new(), &mut ps);
            if let Some(graft) = graft
                && !ps.is_empty()
                && let Some(slot) = o.pointer_mut(&ps[at.index(ps.len())])
            {
                *slot = graft;
            }
            (group.to_string(), kind.to_string(), o)
        },
    )
}

fn kind() -> impl Strategy<Value = (String, String)> {
    prop::sample::select(vec![
        ("", "Pod"),
        ("apps", "Deployment"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ReplicaSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("aspm.stance.dev", "GuardrailPolicy"),
        ("aspm.stance.dev", "RiskException"),
        ("", "Service"),
        ("apps", "Pod"),
    ])
    .prop_map(|(g, k)| (g.to_string(), k.to_string()))
}

fn review() -> impl Strategy<Value = (Value, String)> {
    // Mostly a (mutated) real object under its own kind; sometimes anything under any kind.
    let target = prop_oneof![
        3 => mutated_object(),
        1 => (kind(), arb_json()).prop_map(|((g, k), o)| (g, k, o)),
    ];
    let old = prop::option::of(prop_oneof![mutated_object().prop_map(|(_, _, o)| o), arb_json()]);
    let operation = prop_oneof![4 => Just("CREATE"), 4 => Just("UPDATE"), 1 => Just("DELETE"), 1 => Just("CONNECT"), 1 => Just("PATCH")];
    let namespace = prop::option::of(prop::sample::select(vec!["default", "kube-system", "pay", "stance-system", ""]));
    let dry_run = prop_oneof![Just(json!(false)), Just(json!(true)), Just(Value::Null)];
    let sub = prop::option::weighted(0.2, prop::sample::select(vec!["status", "ephemeralcontainers", "scale"]));
    ("[a-f0-9-]{1,36}", target, old, operation, namespace, dry_run, sub).prop_map(
        |(uid, (group, kind, object), old, operation, namespace, dry_run, sub)| {
            let review = wrap(json!({
                "uid": uid, "kind": {"group": group, "version": "v1", "kind": kind},
                "resource": {"group": group, "version": "v1", "resource": "things"}, "subResource": sub,
                "namespace": namespace, "operation": operation, "userInfo": {"username": "fuzz"},
                "object": object, "oldObject": old, "dryRun": dry_run,
            }));
            (review, uid)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_get_a_well_formed_answer(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let h = handle(&bytes, index(), now(), &HandlerOptions::default());
        check_answer(h.status, &h.body, None)?;
        let n = handle_noop(&bytes);
        check_answer(n.status, &n.body, None)?;
    }

    #[test]
    fn arbitrary_json_gets_a_well_formed_answer(v in arb_json()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        let h = handle(&bytes, index(), now(), &HandlerOptions::default());
        check_answer(h.status, &h.body, None)?;
    }

    #[test]
    fn reviews_with_random_objects_get_an_answer_for_their_uid((review, uid) in review()) {
        let bytes = serde_json::to_vec(&review).unwrap();
        let h = handle(&bytes, index(), now(), &HandlerOptions::default());
        prop_assert_eq!(h.status, 200);
        check_answer(h.status, &h.body, Some(&uid))?;
        prop_assert_eq!(h.outcome.uid.as_str(), uid.as_str());
        if h.outcome.dry_run {
            prop_assert!(h.outcome.audit_record(now()).is_none());
        }
        let n = handle_noop(&bytes);
        check_answer(n.status, &n.body, Some(&uid))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The HTTP service around the handler: any body, any path of ours, always an answer.
    #[test]
    fn the_service_always_answers(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), review().prop_map(|(r, _)| serde_json::to_vec(&r).unwrap())],
        path in prop::sample::select(vec!["/validate", "/validate-noop"]),
    ) {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        static ROUTES: OnceLock<warp::filters::BoxedFilter<(warp::reply::Response,)>> = OnceLock::new();
        let rt = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap());
        let routes = ROUTES.get_or_init(|| {
            let mut registry = prometheus_client::registry::Registry::default();
            let index = Arc::new(RwLock::new(Loaded::default().into_index(IndexConfig::default())));
            let webhook = Webhook::new(index, WebhookMetrics::register(&mut registry), None, ServiceOptions { now: Some(now()), ..Default::default() });
            stance::endpoints::router(stance::endpoints::Endpoints { admission: Some(Arc::new(webhook)), ..stance::endpoints::Endpoints::new(Default::default()) })
        });
        let (status, body) = rt.block_on(async {
            use tower::Service;
            let req = http::Request::post(path).body(Full::new(Bytes::from(bytes))).unwrap();
            let Ok(res) = warp::service(routes.clone()).call(req).await;
            (res.status().as_u16(), res.into_body().collect().await.unwrap().to_bytes())
        });
        check_answer(status, &body, None)?;
    }
}
