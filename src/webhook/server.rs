//! The HTTPS listener: TCP accept, TLS (tokio-rustls), HTTP/1.1 and HTTP/2 (hyper-util
//! auto), graceful shutdown. warp 0.4's own TLS support is compiled out, so TLS is
//! terminated here and hyper serves the listener's warp router (`crate::endpoints::router`).
//!
//! Other HTTPS routes can share the port ([`serve_with`]): `stance run` mounts the
//! operator's `POST /ingest` beside `POST /validate`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use stance_core::index::SharedIndex;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::audit::AuditSender;
use super::metrics::WebhookMetrics;
use super::service::Webhook;
use super::{ClientIdentity, WebhookError, WebhookOptions, tls};
use crate::endpoints::{Endpoints, router};
use crate::telemetry::Readiness;

/// The readiness condition this listener sets once bound.
pub const LISTENER_CONDITION: &str = "webhook-listener";
/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An HTTP/1 client that has not sent its headers by then is dropped (slow loris).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Binds the HTTPS listener and serves the webhook until `shutdown` resolves.
///
/// Returns the bound address (`--listen 127.0.0.1:0` picks a free port) and the server
/// task, which ends once the connections have drained after `shutdown`. Registers the
/// readiness condition [`LISTENER_CONDITION`] and sets it once bound; `/readyz` also waits
/// for every other registered condition (the operator's "index" condition).
pub async fn serve(
    opts: WebhookOptions,
    index: SharedIndex,
    metrics: Arc<WebhookMetrics>,
    readiness: Readiness,
    audit: Option<AuditSender>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, JoinHandle<()>), WebhookError> {
    serve_with(opts, index, metrics, readiness, audit, None, shutdown).await
}

/// [`serve`], with `extra` routes on the same port.
pub async fn serve_with(
    opts: WebhookOptions,
    index: SharedIndex,
    metrics: Arc<WebhookMetrics>,
    readiness: Readiness,
    audit: Option<AuditSender>,
    extra: Option<BoxedFilter<(Response,)>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, JoinHandle<()>), WebhookError> {
    readiness.register(LISTENER_CONDITION);
    let mut certs = tls::load(&opts.tls)?;
    let client_roots = opts.client_ca.as_deref().map(tls::client_roots).transpose()?;
    let checks_clients = client_roots.is_some();
    let acceptor = TlsAcceptor::from(Arc::new(tls::server_config(certs.resolver.clone(), client_roots)?));
    let listener =
        TcpListener::bind(opts.listen).await.map_err(|source| WebhookError::Bind { addr: opts.listen, source })?;
    let addr = listener.local_addr().map_err(|source| WebhookError::Bind { addr: opts.listen, source })?;
    let reloader = certs.spawn_reloader(opts.tls_reload_interval, metrics.clone());
    let webhook = Arc::new(Webhook::new(index, metrics, audit, opts.service));
    let routes = router(Endpoints { admission: Some(webhook), ingest: extra, ..Endpoints::new(readiness.clone()) });
    readiness.set(LISTENER_CONDITION, true);
    tracing::info!(%addr, "serving the admission webhook (POST /validate) over HTTPS");
    let task = tokio::spawn(async move {
        accept_loop(listener, acceptor, routes, checks_clients, shutdown).await;
        readiness.set(LISTENER_CONDITION, false);
        if let Some(r) = reloader {
            r.abort();
        }
    });
    Ok((addr, task))
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    routes: BoxedFilter<(Response,)>,
    checks_clients: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = warp::service(routes);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (acceptor, service, builder, watcher) =
            (acceptor.clone(), service.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            // What the handshake verified about the caller travels with each of its requests
            // (`POST /validate` with --client-ca answers verified callers only).
            let verified = checks_clients && tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
            let identity = if verified { ClientIdentity::Verified } else { ClientIdentity::Unverified };
            let service = tower::ServiceBuilder::new()
                .map_request(move |mut r: http::Request<hyper::body::Incoming>| {
                    r.extensions_mut().insert(identity);
                    r
                })
                .service(service);
            let service = hyper_util::service::TowerToHyperService::new(service);
            let conn = builder.serve_connection(TokioIo::new(tls), service).into_owned();
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("webhook shutting down: waiting for requests in progress");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("closing webhook connections still busy after {SHUTDOWN_GRACE:?}");
        }
    }
}
