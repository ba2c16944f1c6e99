//! Every HTTP endpoint Stance serves, as one warp router per listener, with one health
//! and readiness handler:
//!
//! - the HTTPS listener (`stance webhook`, `stance run`): `POST /validate`,
//!   `POST /validate-noop`, `POST /ingest` (operator), `GET /healthz`, `GET /readyz`;
//! - the plain-HTTP listener (`--metrics-listen`): `GET /metrics`, `GET /healthz`, `GET /readyz`.
//!
//! [`router`] composes the endpoints a listener has; [`serve_plain`] is the one plain-HTTP
//! server. The HTTPS server (TLS, HTTP/2, graceful drain) is `crate::webhook::server`,
//! which serves the same router.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Buf;
use futures::{Stream, StreamExt};
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::StreamBody;
use hyper::body::Frame;
use prometheus_client::registry::Registry;
use tokio::task::JoinHandle;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::telemetry::{self, Readiness};
use crate::webhook::{ClientIdentity, Webhook};

/// The endpoints one listener serves (health and readiness always).
#[derive(Clone)]
pub struct Endpoints {
    pub readiness: Readiness,
    /// `POST /validate`, `POST /validate-noop`.
    pub admission: Option<Arc<Webhook>>,
    /// `POST /ingest` (or any other routes mounted beside admission).
    pub ingest: Option<BoxedFilter<(Response,)>>,
    /// `GET /metrics`.
    pub metrics: Option<Arc<Registry>>,
}

impl Endpoints {
    /// Health and readiness only; add the others with the fields.
    pub fn new(readiness: Readiness) -> Endpoints {
        Endpoints { readiness, admission: None, ingest: None, metrics: None }
    }
}

fn text(status: StatusCode, body: String) -> Response {
    let mut r = warp::reply::with_status(body, status).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn wrong_method(allowed: &Method) -> Response {
    text(StatusCode::METHOD_NOT_ALLOWED, format!("use {allowed}\n"))
}

/// `GET /healthz` (the process answers) and `GET /readyz` (every readiness condition holds):
/// the one readiness handler of every listener.
pub fn health(readiness: Readiness) -> BoxedFilter<(Response,)> {
    let healthz = warp::path!("healthz").and(warp::method()).map(|m: Method| match m {
        Method::GET => text(StatusCode::OK, "ok".into()),
        _ => wrong_method(&Method::GET),
    });
    let readyz = warp::path!("readyz").and(warp::method()).map(move |m: Method| {
        if m != Method::GET {
            wrong_method(&Method::GET)
        } else if readiness.is_ready() {
            text(StatusCode::OK, "ready".into())
        } else {
            text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: waiting for {}", readiness.pending().join(", ")))
        }
    });
    healthz.or(readyz).unify().boxed()
}

/// `GET /metrics`: the registry in the OpenMetrics text format.
pub fn metrics(registry: Arc<Registry>) -> BoxedFilter<(Response,)> {
    warp::path!("metrics")
        .and(warp::method())
        .map(move |m: Method| match m {
            Method::GET => warp::reply::with_header(
                telemetry::encode(&registry),
                "content-type",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
            .into_response(),
            _ => wrong_method(&Method::GET),
        })
        .boxed()
}

/// `POST /validate` and `POST /validate-noop`: the request (headers and streamed body) is
/// handed to the webhook service, which enforces the body limit itself.
pub fn admission(webhook: Arc<Webhook>) -> BoxedFilter<(Response,)> {
    let endpoint = |path: &'static str, noop: bool| {
        let webhook = webhook.clone();
        warp::path(path)
            .and(warp::path::end())
            .and(warp::method())
            .and(warp::header::headers_cloned())
            .and(warp::ext::optional::<ClientIdentity>())
            .and(warp::body::stream())
            .then(move |m: Method, headers: HeaderMap, caller: Option<ClientIdentity>, body| {
                validate(webhook.clone(), noop, m, headers, caller.unwrap_or(ClientIdentity::Unverified), body)
            })
    };
    endpoint("validate", false).or(endpoint("validate-noop", true)).unify().boxed()
}

/// One admission request: the body stream becomes the request body the service reads.
async fn validate<S, B>(
    webhook: Arc<Webhook>,
    noop: bool,
    m: Method,
    headers: HeaderMap,
    caller: ClientIdentity,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Send + Sync + 'static,
    B: Buf,
{
    if m != Method::POST {
        return wrong_method(&Method::POST);
    }
    let frames = StreamBody::new(body.map(|chunk| chunk.map(|mut b| Frame::data(b.copy_to_bytes(b.remaining())))));
    let mut req = Request::new(frames);
    *req.headers_mut() = headers;
    req.extensions_mut().insert(caller);
    webhook.validate(req, noop).await.into_response()
}

/// The router of one listener: its endpoints, and a 404 that says what is served for any
/// other path.
pub fn router(e: Endpoints) -> BoxedFilter<(Response,)> {
    let mut served = Vec::new();
    let mut paths: Vec<&'static str> = vec!["/healthz", "/readyz"];
    let mut r = health(e.readiness);
    if let Some(w) = e.admission {
        served.push("POST /validate");
        paths.extend(["/validate", "/validate-noop"]);
        r = r.or(admission(w)).unify().boxed();
    }
    if let Some(i) = e.ingest {
        served.push("POST /ingest");
        paths.push("/ingest");
        r = r.or(i).unify().boxed();
    }
    if let Some(m) = e.metrics {
        served.push("GET /metrics");
        paths.push("/metrics");
        r = r.or(metrics(m)).unify().boxed();
    }
    served.extend(["GET /healthz", "GET /readyz"]);
    let message = format!("not found: Stance serves {}\n", served.join(", "));
    // Only for paths nothing serves: a known path's own rejection (a wrong method on
    // `/ingest`, say) keeps its status.
    let not_found = warp::path::full()
        .and_then(move |p: warp::path::FullPath| {
            let known = paths.contains(&p.as_str());
            let message = message.clone();
            async move { if known { Err(warp::reject::not_found()) } else { Ok(text(StatusCode::NOT_FOUND, message)) } }
        })
        .boxed();
    r.or(not_found).unify().boxed()
}

/// Serves a router over plain HTTP until `shutdown` resolves: the `/metrics` listener of
/// every command. Returns the bound address (port 0 picks one) and the server task;
/// binding errors are returned (a port in use must fail start-up loudly).
pub async fn serve_plain(
    addr: SocketAddr,
    routes: BoxedFilter<(Response,)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "serving /metrics, /healthz and /readyz");
    let server = warp::serve(routes).incoming(listener).graceful(shutdown);
    Ok((bound, tokio::spawn(server.run())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_metrics_listener_answers() {
        let mut registry = Registry::default();
        let c = prometheus_client::metrics::counter::Counter::<u64>::default();
        registry.register("stance_test_events", "test counter", c.clone());
        c.inc();
        let readiness = Readiness::default();
        readiness.register("x");
        let f = router(Endpoints { metrics: Some(Arc::new(registry)), ..Endpoints::new(readiness.clone()) });
        let res = warp::test::request().path("/metrics").reply(&f).await;
        assert_eq!(res.status(), 200);
        assert!(String::from_utf8_lossy(res.body()).contains("stance_test_events_total 1"));
        assert_eq!(warp::test::request().path("/readyz").reply(&f).await.status(), 503);
        readiness.set("x", true);
        assert_eq!(warp::test::request().path("/readyz").reply(&f).await.status(), 200);
        assert_eq!(warp::test::request().path("/healthz").reply(&f).await.status(), 200);
        let res = warp::test::request().path("/validate").reply(&f).await;
        assert_eq!(res.status(), 404);
        assert_eq!(res.body(), "not found: Stance serves GET /metrics, GET /healthz, GET /readyz\n");
    }
}
