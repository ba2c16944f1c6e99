//! `POST /ingest` in-process with a fake cluster backend: authentication (with the
//! dedicated audience), authorization, limits, content recognition (reports only: the
//! handed case `report-configmap-carries-exception`), and the stored ConfigMap, in Stance's
//! own namespace, reading back as the same report with its provenance.

mod common;

use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::ConfigMap;
use prometheus_client::registry::Registry;
use stance::controller::ingest_api::{Backend, Caller, IngestOptions, MAX_UPLOAD, route};
use stance::controller::metrics::ControllerMetrics;

#[derive(Default)]
struct Fake {
    stored: Mutex<Vec<ConfigMap>>,
}

impl Backend for Fake {
    async fn authenticate(&self, token: &str, audience: &str) -> Result<Option<Caller>, String> {
        // A token is valid for the audience it was minted for only; `api-token` is one the
        // API server accepts for itself (a pod's default token), not for Stance.
        let for_stance = audience == "stance";
        Ok(match token {
            "ci-token" | "other-token" if for_stance => Some(Caller {
                username: format!("system:serviceaccount:ci:{token}"),
                uid: "u".into(),
                groups: vec!["system:serviceaccounts".into()],
            }),
            _ => None,
        })
    }
    async fn authorize(&self, caller: &Caller, namespace: &str) -> Result<(bool, String), String> {
        Ok((
            caller.username.ends_with("ci-token") && (namespace == "shop" || namespace == "shop-a"),
            "no RBAC rule".into(),
        ))
    }
    async fn store(&self, cm: ConfigMap) -> Result<(), String> {
        self.stored.lock().unwrap().push(cm);
        Ok(())
    }
}

fn setup() -> (Arc<Fake>, impl warp::Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone) {
    let fake = Arc::new(Fake::default());
    let metrics = ControllerMetrics::register(&mut Registry::default());
    (fake.clone(), route(fake, metrics, IngestOptions::default()))
}

async fn post(
    filter: &(impl warp::Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone + 'static),
    token: Option<&str>,
    query: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = warp::test::request().method("POST").path(&format!("/ingest?{query}")).body(body);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = req.reply(filter).await;
    let json = serde_json::from_slice(res.body()).unwrap_or(serde_json::Value::Null);
    (res.status().as_u16(), json)
}

#[tokio::test]
async fn rejects_with_precise_4xx() {
    let (fake, f) = setup();
    let sarif = common::fixture_bytes("secobserve/sarif/semgrep.sarif");
    /// (token, query, body, expected status, text the error must contain)
    type Case<'a> = (Option<&'a str>, &'a str, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (None, "namespace=shop&app=storefront", sarif.clone(), 401, "Bearer"),
        (Some("stolen"), "namespace=shop&app=storefront", sarif.clone(), 401, "not valid"),
        (Some("api-token"), "namespace=shop&app=storefront", sarif.clone(), 401, "--audience stance"),
        (
            Some("other-token"),
            "namespace=shop&app=storefront",
            sarif.clone(),
            403,
            "grant `create` on `reports.aspm.stance.dev`",
        ),
        (Some("ci-token"), "namespace=payments&app=api", sarif.clone(), 403, "payments"),
        // An application in another namespace needs the grant there too.
        (Some("ci-token"), "namespace=shop&app=payments/api", sarif.clone(), 403, "namespace payments"),
        (Some("ci-token"), "app=storefront", sarif.clone(), 400, "namespace"),
        (Some("ci-token"), "namespace=shop", sarif.clone(), 400, "app="),
        (Some("ci-token"), "namespace=shop&app=a&asset=b", sarif.clone(), 400, "exactly one"),
        (Some("ci-token"), "namespace=shop&app=storefront", b"{\"hello\": 1}".to_vec(), 422, "not a report"),
        (Some("ci-token"), "namespace=shop&app=storefront", b"\x00\x01garbage".to_vec(), 422, "not a report"),
    ];
    for (token, query, body, code, needle) in cases {
        let (status, json) = post(&f, token, query, body).await;
        assert_eq!(status, code, "{query} {token:?}: {json}");
        assert!(json["error"].as_str().unwrap_or("").contains(needle), "{query}: {json}");
    }
    let (status, _) =
        post(&f, Some("ci-token"), "namespace=shop&app=storefront", vec![b' '; MAX_UPLOAD as usize + 10]).await;
    assert_eq!(status, 413);
    assert!(fake.stored.lock().unwrap().is_empty(), "nothing stored for a rejected upload");
}

#[tokio::test]
async fn stores_a_configmap_that_reads_back_as_the_same_report() {
    let (fake, f) = setup();
    let zap = common::fixture_bytes("secobserve/zap/owasp_zap.json");
    // Gzip'd uploads are accepted too.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &zap).unwrap();
    let (status, json) =
        post(&f, Some("ci-token"), "namespace=shop&asset=storefront-web&name=zap-nightly", gz.finish().unwrap()).await;
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["format"], "zap");
    let name = json["configMap"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("stance-upload-shop-zap-nightly-")
            && name.len() == "stance-upload-shop-zap-nightly-".len() + 10,
        "{name}"
    );
    assert_eq!(json["configMapNamespace"], "stance-system");
    let direct = {
        let mut l = stance::ingest::Loaded::default();
        l.add_bytes("zap.json", &zap);
        l.reports
    };
    assert_eq!(json["findings"], direct[0].findings.len());
    let stored = fake.stored.lock().unwrap().pop().unwrap();
    // Stored in Stance's own namespace (tenants cannot write there), with the provenance
    // Stance vouches for: who uploaded it and which namespace it was authorized for.
    assert_eq!(stored.metadata.namespace.as_deref(), Some("stance-system"));
    let annotations = stored.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations["aspm.stance.dev/asset"], "shop/storefront-web");
    assert_eq!(annotations["aspm.stance.dev/uploaded-by"], "system:serviceaccount:ci:ci-token");
    assert_eq!(annotations["aspm.stance.dev/upload-namespace"], "shop");
    assert_eq!(stored.metadata.labels.as_ref().unwrap()["aspm.stance.dev/report"], "zap");
    // The operator reads the ConfigMap back into the same findings, attributed to the asset.
    let mut value = serde_json::to_value(&stored).unwrap();
    value["apiVersion"] = "v1".into();
    value["kind"] = "ConfigMap".into();
    let mut loaded = stance::ingest::Loaded::default();
    loaded.add_bytes("cm.json", &serde_json::to_vec(&value).unwrap());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.reports.len(), 1);
    assert_eq!(loaded.reports[0].findings.len(), direct[0].findings.len());
    assert_eq!(loaded.reports[0].subject.as_ref().unwrap().to_string(), "Asset/shop/storefront-web");
    // Read back, it is the evidence of namespace shop: the upload's, not the ConfigMap's.
    let config = stance_core::index::IndexConfig::default();
    let channel = &loaded.reports[0].provenance.channel;
    assert_eq!(config.trust.trust(channel), stance_core::model::Trust::Tenant("shop".into()));
}

/// The handed case `report-configmap-carries-exception`: a body holding one SARIF run and a
/// RiskException ("in stance-system", created in 2099) is refused whole with 400 naming the
/// kind, and nothing is stored.
#[tokio::test]
async fn an_upload_with_anything_but_reports_is_refused() {
    let (fake, f) = setup();
    let body = std::fs::read(common::cases::path("report-configmap-carries-exception/upload-body.json")).unwrap();
    let (status, json) = post(&f, Some("ci-token"), "namespace=shop&app=storefront", body).await;
    assert_eq!(status, 400, "{json}");
    let error = json["error"].as_str().unwrap();
    assert!(error.contains("RiskException") && error.contains("ci-upload"), "{error}");
    assert!(fake.stored.lock().unwrap().is_empty(), "nothing stored for a refused upload");
}

#[tokio::test]
async fn the_stored_report_is_the_uploaded_report_byte_for_byte() {
    // The upload is inflated once, and what was recognised is what is stored: never a copy
    // cut short by a second, smaller cap.
    let (fake, f) = setup();
    let zap = common::fixture_bytes("secobserve/zap/owasp_zap.json");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &zap).unwrap();
    let (status, json) = post(&f, Some("ci-token"), "namespace=shop&app=storefront", gz.finish().unwrap()).await;
    assert_eq!(status, 201, "{json}");
    let stored = fake.stored.lock().unwrap().pop().unwrap();
    let data = stored.binary_data.unwrap().into_values().next().unwrap().0;
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&data[..]), &mut inflated).unwrap();
    assert_eq!(inflated, zap);
}

/// Two namespaces' uploads never share a ConfigMap: `shop` + `a-x` and `shop-a` + `x` read
/// alike, and a forced apply of one would replace the other namespace's report.
#[tokio::test]
async fn uploads_of_different_namespaces_never_share_a_configmap() {
    let (fake, f) = setup();
    let sarif = common::fixture_bytes("secobserve/sarif/semgrep.sarif");
    let (status, a) = post(&f, Some("ci-token"), "namespace=shop-a&app=web&name=x", sarif.clone()).await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = post(&f, Some("ci-token"), "namespace=shop&app=web&name=a-x", sarif.clone()).await;
    assert_eq!(status, 201, "{b}");
    assert_ne!(a["configMap"], b["configMap"]);
    // The same namespace and name replace the previous upload.
    let (_, again) = post(&f, Some("ci-token"), "namespace=shop-a&app=web&name=x", sarif).await;
    assert_eq!(again["configMap"], a["configMap"]);
    assert_eq!(fake.stored.lock().unwrap().len(), 3);
}
