//! The HTTPS listener: TCP accept, TLS (tokio-rustls), HTTP/1.1 and HTTP/2 (hyper-util
//! auto), graceful shutdown. warp 0.4's own TLS support is compiled out, so TLS is
//! terminated here and hyper serves the [`Webhook`] service directly.
//!
//! Other HTTPS routes can share the port ([`serve_with`], [`warp_routes`]): `stance run`
//! mounts the operator's `POST /ingest` beside `POST /validate`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::audit::AuditSender;
use super::metrics::WebhookMetrics;
use super::service::Webhook;
use super::{WebhookError, WebhookOptions, tls};
use crate::telemetry::Readiness;
use stance_core::index::SharedIndex;

/// The readiness condition this listener sets once bound.
pub const LISTENER_CONDITION: &str = "webhook-listener";
/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An HTTP/1 client that has not sent its headers by then is dropped (slow loris).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A response body of any route on the port.
pub type BoxBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Routes served on the webhook's port besides Stance's own (`/validate`, `/validate-noop`,
/// `/healthz`, `/readyz`): every other request goes to them.
pub type ExtraRoutes =
    Arc<dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<BoxBody>> + Send>> + Send + Sync>;

/// [`ExtraRoutes`] from a warp filter (e.g. the operator's `POST /ingest`). Requests the
/// filter rejects get warp's usual answer (404, 405, …).
pub fn warp_routes<F, R>(filter: F) -> ExtraRoutes
where
    F: warp::Filter<Extract = (R,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
    R: warp::Reply,
    F::Future: Send,
{
    use tower::Service;
    let service = warp::service(filter);
    Arc::new(move |req| {
        let mut service = service.clone();
        Box::pin(async move {
            match service.call(req).await {
                Ok(res) => res.map(|b| b.map_err(Into::into).boxed_unsync()),
                Err(never) => match never {},
            }
        })
    })
}

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
    extra: Option<ExtraRoutes>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, JoinHandle<()>), WebhookError> {
    readiness.register(LISTENER_CONDITION);
    let mut certs = tls::load(&opts.tls)?;
    let acceptor = TlsAcceptor::from(Arc::new(tls::server_config(certs.resolver.clone())?));
    let listener =
        TcpListener::bind(opts.listen).await.map_err(|source| WebhookError::Bind { addr: opts.listen, source })?;
    let addr = listener.local_addr().map_err(|source| WebhookError::Bind { addr: opts.listen, source })?;
    let reloader = certs.spawn_reloader(opts.tls_reload_interval, metrics.clone());
    let webhook = Arc::new(Webhook::new(index, metrics, readiness.clone(), audit, opts.service));
    readiness.set(LISTENER_CONDITION, true);
    tracing::info!(%addr, "serving the admission webhook (POST /validate) over HTTPS");
    let task = tokio::spawn(async move {
        accept_loop(listener, acceptor, webhook, extra, shutdown).await;
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
    webhook: Arc<Webhook>,
    extra: Option<ExtraRoutes>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
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
        let (acceptor, webhook, extra, builder, watcher) =
            (acceptor.clone(), webhook.clone(), extra.clone(), builder.clone(), graceful.watcher());
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
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (webhook, extra) = (webhook.clone(), extra.clone());
                async move {
                    let res = match extra {
                        Some(extra) if !Webhook::serves(req.uri().path()) => extra(req).await,
                        _ => webhook.route(req).await.map(|b| b.map_err(|never| match never {}).boxed_unsync()),
                    };
                    Ok::<_, Infallible>(res)
                }
            });
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
