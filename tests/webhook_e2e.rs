//! `stance webhook` as a process on 127.0.0.1 over real HTTPS: a generated certificate
//! (`--self-signed --ca-bundle-out`) trusted by a client that trusts nothing else; deny,
//! allow, warn and 400 answers to real reviews over HTTP/1.1 and HTTP/2; /healthz and
//! /readyz; the counters on the plain-HTTP metrics port; a clean stop on SIGTERM. And a
//! certificate rotated on disk is served without a restart (a broken one is not); after SIGTERM
//! with a shutdown delay, requests are still judged while /readyz says "shutting down".

mod webhook_support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use webhook_support::process::{sigterm, sigterm_and_wait, start, state_dir, wait_exit};
use webhook_support::*;

fn client_config(ca_pem: &[u8], alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

type HttpsClient =
    Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>>;

fn https_client(ca_pem: &[u8]) -> HttpsClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config(ca_pem, &[]))
        .https_only()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

async fn send(client: &HttpsClient, method: &str, url: String, body: Vec<u8>) -> (u16, Vec<u8>) {
    let req = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let res = client.request(req).await.expect("HTTPS request");
    let status = res.status().as_u16();
    (status, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn get_plain(addr: SocketAddr, path: &str) -> (u16, String) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let res = client.get(format!("http://{addr}{path}").parse().unwrap()).await.unwrap();
    let status = res.status().as_u16();
    (status, String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

fn response(body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["response"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_real_reviews_over_https_and_stops_on_sigterm() {
    let state = state_dir();
    let ca_path = state.path().join("out/ca.pem");
    std::fs::create_dir_all(ca_path.parent().unwrap()).unwrap();
    let mut server = start(
        state.path(),
        &[
            "--self-signed".into(),
            "--ca-bundle-out".into(),
            ca_path.display().to_string(),
            "--san".into(),
            "stance.example".into(),
        ],
    );
    let ca = std::fs::read(&ca_path).expect("the CA bundle is written");
    assert!(ca.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let client = https_client(&ca);
    let base = format!("https://localhost:{}", server.addr.port());

    // Deny: the real review with Spring4Shell in its nginx container.
    let mut deny = fixture_json(LOAD_TESTING[4]);
    for c in deny["request"]["object"]["spec"]["containers"].as_array_mut().unwrap() {
        if c["name"] == "nginx" {
            c["image"] = SPRING.into();
        }
    }
    let (status, body) = send(&client, "POST", format!("{base}/validate"), serde_json::to_vec(&deny).unwrap()).await;
    assert_eq!(status, 200);
    let r = response(&body);
    assert_eq!(r["uid"], "1299d386-525b-4032-98ae-1949f69f9cfc");
    assert_eq!(r["allowed"], false);
    let m = r["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("CVE-2022-22965")
            && m.contains("fixed in 5.3.18")
            && m.contains(SPRING)
            && m.contains("RiskException"),
        "{m}"
    );

    // Warn: the real review as it is (images without tags).
    let (status, body) =
        send(&client, "POST", format!("{base}/validate"), common::fixture_bytes(LOAD_TESTING[1])).await;
    let r = response(&body);
    assert_eq!((status, r["allowed"].as_bool()), (200, Some(true)));
    assert_eq!(r["warnings"].as_array().unwrap().len(), 2, "{r}");

    // Allow: a Deployment of a scanned image without known-exploited vulnerabilities.
    let allow = review_of("CREATE", deployment("shop", "web", ALPINE), None);
    let (_, body) = send(&client, "POST", format!("{base}/validate"), serde_json::to_vec(&allow).unwrap()).await;
    let r = response(&body);
    assert_eq!((r["allowed"].as_bool(), r.get("warnings")), (Some(true), None));

    // Garbage: 400, and the server keeps serving.
    let (status, body) = send(&client, "POST", format!("{base}/validate"), b"<xml/>".to_vec()).await;
    assert_eq!(status, 400);
    assert!(response(&body)["status"]["message"].as_str().unwrap().contains("not an AdmissionReview"));
    assert_eq!(send(&client, "GET", format!("{base}/healthz"), vec![]).await, (200, b"ok".to_vec()));
    assert_eq!(send(&client, "GET", format!("{base}/readyz"), vec![]).await, (200, b"ready".to_vec()));

    // HTTP/2 (as the API server speaks it), on the IP address SAN.
    let h2 = http2_validate(server.addr, &ca, serde_json::to_vec(&deny).unwrap()).await;
    assert_eq!(response(&h2)["allowed"], false);

    // The counters on the metrics port.
    let (status, metrics) = get_plain(server.metrics, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        r#"stance_webhook_admission_requests_total{decision="deny",kind="Pod",operation="CREATE"} 2"#,
        r#"stance_webhook_admission_requests_total{decision="warn",kind="Pod",operation="CREATE"} 1"#,
        r#"stance_webhook_admission_requests_total{decision="allow",kind="Deployment",operation="CREATE"} 1"#,
        r#"stance_webhook_bad_requests_total{reason="invalid_json"} 1"#,
        r#"stance_webhook_violations_total{policy="no-kev",enforcement="Enforce",effect="deny"} 2"#,
        r#"stance_webhook_request_duration_seconds_count{endpoint="validate"} 5"#,
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    assert_eq!(get_plain(server.metrics, "/readyz").await.0, 200);

    // A client that does not trust the generated CA is refused.
    let stranger = webhook_support_other_ca();
    let refused = stranger
        .request(http::Request::post(format!("{base}/validate")).body(Full::new(Bytes::from_static(b"{}"))).unwrap());
    assert!(refused.await.is_err());

    let status = sigterm_and_wait(&mut server);
    assert!(status.success(), "{status:?}");
}

/// A client trusting only a CA that has nothing to do with the server.
fn webhook_support_other_ca() -> HttpsClient {
    let other = stance::webhook::self_signed::generate(&[]).unwrap();
    https_client(other.ca_pem.as_bytes())
}

/// One POST /validate over HTTP/2 negotiated with ALPN.
async fn http2_validate(addr: SocketAddr, ca: &[u8], body: Vec<u8>) -> Vec<u8> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(ca, &[b"h2"])));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(ServerName::try_from("127.0.0.1").unwrap(), tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let req = http::Request::post(format!("https://{addr}/validate")).body(Full::new(Bytes::from(body))).unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), http::Version::HTTP_2);
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// A CA and a serving certificate for 127.0.0.1 signed by it.
struct Pki {
    ca_pem: String,
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Pki { ca_pem, ca: rcgen::Issuer::new(params, key) }
    }

    /// (certificate PEM, key PEM, certificate DER)
    fn leaf(&self, cn: &str) -> (String, String, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().to_vec())
    }
}

/// The certificate the server presents to a new connection.
async fn served_certificate(addr: SocketAddr, ca: &str) -> Vec<u8> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(ca.as_bytes(), &[])));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(ServerName::try_from("127.0.0.1").unwrap(), tcp).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

async fn wait_for_certificate(addr: SocketAddr, ca: &str, want: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while served_certificate(addr, ca).await != want {
        assert!(Instant::now() < deadline, "the new certificate was not served within 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn write(path: &PathBuf, text: &str) {
    // Replace atomically, as kubelet does for Secret volumes.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_certificate_files_are_served_without_a_restart() {
    let state = state_dir();
    let pki = Pki::new();
    let (cert, key) = (state.path().join("tls.crt"), state.path().join("tls.key"));
    let (c1, k1, der1) = pki.leaf("first");
    write(&cert, &c1);
    write(&key, &k1);
    let mut server = start(
        state.path(),
        &["--tls-cert".into(), cert.display().to_string(), "--tls-key".into(), key.display().to_string()],
    );
    assert_eq!(served_certificate(server.addr, &pki.ca_pem).await, der1);

    // A broken certificate is refused; the first one stays in service.
    write(&cert, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, metrics) = get_plain(server.metrics, "/metrics").await;
        if metrics.contains("stance_webhook_tls_reload_failures_total 1") {
            break;
        }
        assert!(Instant::now() < deadline, "no reload failure counted:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(served_certificate(server.addr, &pki.ca_pem).await, der1);

    // cert-manager writes a new pair: it is served to the next connection.
    let (c2, k2, der2) = pki.leaf("second");
    write(&key, &k2);
    write(&cert, &c2);
    wait_for_certificate(server.addr, &pki.ca_pem, &der2).await;
    let client = https_client(pki.ca_pem.as_bytes());
    let (status, _) = send(
        &client,
        "POST",
        format!("https://127.0.0.1:{}/validate", server.addr.port()),
        common::fixture_bytes(LOAD_TESTING[0]),
    )
    .await;
    assert_eq!(status, 200);
    assert!(get_plain(server.metrics, "/metrics").await.1.contains("stance_webhook_tls_reloads_total 1"));
    assert!(sigterm_and_wait(&mut server).success());
}

#[test]
fn usage_errors_name_what_to_give() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_stance")).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, err) = run(&["webhook", "--self-signed"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("give --state DIR...") && err.contains("stance run"), "{err}");
    let (code, err) = run(&["webhook", "--state", "."]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--tls-cert FILE --tls-key FILE") && err.contains("--self-signed"), "{err}");
    let (code, err) = run(&["webhook", "--state", ".", "--self-signed", "--timeout-ms", "0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--timeout-ms"), "{err}");
    let (code, _) = run(&["webhook", "--state", ".", "--self-signed", "--tls-cert", "a", "--tls-key", "b"]);
    assert_eq!(code, Some(2), "clap refuses both certificate sources");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_server_shares_its_port_with_extra_routes_and_drains_on_shutdown() {
    use stance::telemetry::Readiness;
    use stance::webhook::{LISTENER_CONDITION, TlsSource, WebhookMetrics, WebhookOptions, self_signed, serve_with};
    use std::sync::RwLock;
    use warp::Filter;

    let generated = self_signed::generate(&[]).unwrap();
    let tls =
        TlsSource::Pem { cert: generated.chain_pem.clone().into_bytes(), key: generated.key_pem.clone().into_bytes() };
    let mut opts = WebhookOptions::new("127.0.0.1:0".parse().unwrap(), tls);
    opts.service.now = Some(now());
    let index = mk_index(&policy("no-kev", "Enforce", "", KEV_RULE), &REPORTS);
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = WebhookMetrics::register(&mut registry);
    let readiness = Readiness::default();
    // What `stance run` does with the operator's POST /ingest.
    let ingest = warp::path("ingest").and(warp::path::end()).and(warp::post()).map(|| "stored");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, task) = serve_with(
        opts,
        Arc::new(RwLock::new(index)),
        metrics,
        readiness.clone(),
        None,
        Some(ingest.map(warp::Reply::into_response).boxed()),
        async move {
            let _ = stopped.await;
        },
    )
    .await
    .unwrap();
    assert!(readiness.is_ready(), "the listener condition is set once bound");
    let client = https_client(generated.ca_pem.as_bytes());
    let base = format!("https://localhost:{}", addr.port());
    assert_eq!(send(&client, "POST", format!("{base}/ingest"), b"report".to_vec()).await, (200, b"stored".to_vec()));
    assert_eq!(send(&client, "GET", format!("{base}/ingest"), vec![]).await.0, 405);
    assert_eq!(send(&client, "GET", format!("{base}/nothing"), vec![]).await.0, 404);
    let review = review_of("CREATE", deployment("pay", "api", SPRING), None);
    let (status, body) = send(&client, "POST", format!("{base}/validate"), serde_json::to_vec(&review).unwrap()).await;
    assert_eq!((status, response(&body)["allowed"].as_bool()), (200, Some(false)));
    assert_eq!(send(&client, "GET", format!("{base}/healthz"), vec![]).await, (200, b"ok".to_vec()));

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task).await.expect("drained in time").unwrap();
    assert!(readiness.pending().contains(&LISTENER_CONDITION.to_string()), "not ready once stopped");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the port is closed");
}

/// After SIGTERM with `--shutdown-delay-seconds`, the replica reports not ready but keeps
/// judging requests until the delay is over (so a rollout under `failurePolicy: Fail` does not
/// refuse requests that still reach the old pod), then exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_answering_while_draining_after_sigterm() {
    let state = state_dir();
    let ca_path = state.path().join("ca.pem");
    let mut server = start(
        state.path(),
        &[
            "--self-signed".into(),
            "--ca-bundle-out".into(),
            ca_path.display().to_string(),
            "--shutdown-delay-seconds".into(),
            "3".into(),
        ],
    );
    let client = https_client(&std::fs::read(&ca_path).unwrap());
    let base = format!("https://localhost:{}", server.addr.port());
    assert_eq!(get_plain(server.metrics, "/readyz").await.0, 200);

    let signalled = Instant::now();
    sigterm(&server);
    let (status, text) = loop {
        let (status, text) = get_plain(server.metrics, "/readyz").await;
        if status != 200 || signalled.elapsed() > Duration::from_secs(2) {
            break (status, text);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 503, "not ready once shutting down: {text}");
    assert!(text.contains("shutting down"), "{text}");

    // Still judging, with the real verdict.
    let allow = review_of("CREATE", deployment("shop", "web", ALPINE), None);
    let (status, body) = send(&client, "POST", format!("{base}/validate"), serde_json::to_vec(&allow).unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(response(&body)["allowed"], true);
    assert!(signalled.elapsed() < Duration::from_secs(3), "the request must land inside the delay");

    let exit = wait_exit(&mut server);
    assert!(exit.success(), "{exit:?}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(2900),
        "exited {:?} after SIGTERM, before the 3 s delay",
        signalled.elapsed()
    );
}

/// A CA and a client certificate it signs (clientAuth), as PEM: (ca, chain, key).
fn client_pki(cn: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, format!("{cn} CA"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, cn);
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), format!("{}{}", cert.pem(), ca_cert.pem()), key.serialize_pem())
}

fn https_client_with_cert(server_ca: &[u8], chain_pem: &str, key_pem: &str) -> HttpsClient {
    use rustls::pki_types::PrivateKeyDer;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(server_ca) {
        roots.add(c.unwrap()).unwrap();
    }
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(chain_pem.as_bytes()).map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_only().enable_http1().build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// With `--client-ca`, `POST /validate` answers only a caller whose client certificate chains
/// to it (the API server): without a certificate it gets 401 and nothing is judged; a
/// certificate from another CA fails the handshake; a certificate from the CA gets the verdict,
/// and its audit records say the user is verified. Probes stay open to everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ca_admits_only_callers_with_a_certificate_it_signed() {
    use stance::telemetry::Readiness;
    use stance::webhook::{TlsSource, WebhookMetrics, WebhookOptions, self_signed, serve};
    use std::sync::RwLock;

    let generated = self_signed::generate(&[]).unwrap();
    let tls =
        TlsSource::Pem { cert: generated.chain_pem.clone().into_bytes(), key: generated.key_pem.clone().into_bytes() };
    let (api_ca, api_chain, api_key) = client_pki("kube-apiserver");
    let (_, other_chain, other_key) = client_pki("someone");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("client-ca.pem");
    std::fs::write(&ca_file, &api_ca).unwrap();
    let mut opts = WebhookOptions::new("127.0.0.1:0".parse().unwrap(), tls);
    opts.client_ca = Some(ca_file);
    opts.service.require_client_cert = true;
    opts.service.now = Some(now());
    let index = mk_index(
        &[
            policy("no-kev", "Enforce", "  onUnscanned: allow\n", KEV_RULE),
            policy("no-latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
        ]
        .concat(),
        &REPORTS,
    );
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = WebhookMetrics::register(&mut registry);
    let (audit, mut records) = tokio::sync::mpsc::channel(4);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, task) =
        serve(opts, Arc::new(RwLock::new(index)), metrics.clone(), Readiness::default(), Some(audit), async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    let base = format!("https://localhost:{}", addr.port());
    let server_ca = generated.ca_pem.as_bytes();
    let denied = serde_json::to_vec(&review_of("CREATE", deployment("pay", "api", SPRING), None)).unwrap();
    let warned = serde_json::to_vec(&fixture_json(LOAD_TESTING[4])).unwrap();

    // No certificate: refused unread, but the probes answer.
    let anonymous = https_client(server_ca);
    let (status, body) = send(&anonymous, "POST", format!("{base}/validate"), denied.clone()).await;
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    assert_eq!(response(&body)["allowed"], false);
    assert!(response(&body)["status"]["message"].as_str().unwrap().contains("--client-ca"));
    assert_eq!(send(&anonymous, "POST", format!("{base}/validate"), warned.clone()).await.0, 401);
    assert!(records.try_recv().is_err(), "nothing judged, nothing audited");
    assert_eq!(send(&anonymous, "GET", format!("{base}/healthz"), vec![]).await, (200, b"ok".to_vec()));
    assert_eq!(metrics.unauthenticated.get(), 2);

    // A certificate from another CA: the handshake fails.
    let stranger = https_client_with_cert(server_ca, &other_chain, &other_key);
    let req = http::Request::post(format!("{base}/validate")).body(Full::new(Bytes::from(denied.clone()))).unwrap();
    assert!(stranger.request(req).await.is_err(), "a certificate --client-ca did not sign is refused");

    // The API server's certificate: judged, and its audit record's user is verified.
    let api_server = https_client_with_cert(server_ca, &api_chain, &api_key);
    let (status, body) = send(&api_server, "POST", format!("{base}/validate"), denied).await;
    assert_eq!((status, response(&body)["allowed"].as_bool()), (200, Some(false)), "the real verdict");
    let (status, body) = send(&api_server, "POST", format!("{base}/validate"), warned).await;
    assert_eq!((status, response(&body)["allowed"].as_bool()), (200, Some(true)));
    let record = records.recv().await.expect("an audit record for the warned Pod");
    assert!(record.user_verified, "the caller presented a certificate --client-ca signed");
    assert_eq!(metrics.unauthenticated.get(), 2);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task).await.expect("drained in time").unwrap();
}
