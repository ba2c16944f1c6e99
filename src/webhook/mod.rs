//! The validating admission webhook: a thin HTTPS adapter around
//! [`policy::evaluate`](stance_core::policy::evaluate).
//!
//! - [`handler`] — the decision as a pure function of the AdmissionReview bytes, the index
//!   and the time (unit-tested in-process; no I/O).
//! - [`review`] — the `admission.k8s.io/v1` wire format and the size caps of answers.
//! - [`stance_objects`] — GuardrailPolicies and RiskExceptions are admitted only when the
//!   index's own compilers accept them.
//! - [`service`] — routes, body limit, evaluation inline within a 1 ms slice, else bounded
//!   and deadline-guarded on the blocking pool, fail-open / fail-closed, metrics, the audit
//!   hand-off.
//! - [`server`] — TLS (rustls) and HTTP/1.1 + HTTP/2 (hyper) with graceful shutdown.
//! - [`tls`], [`self_signed`] — serving certificates: files reloaded on change, or generated.
//! - [`metrics`], [`audit`] — what the webhook reports.
//!
//! `stance webhook` serves it from a snapshot of files; `stance run` serves it beside the
//! operator, from the index the operator keeps: call [`serve`] with the operator's
//! [`SharedIndex`](stance_core::index::SharedIndex), [`WebhookMetrics::register`]ed in the
//! process registry, the process [`Readiness`](crate::telemetry::Readiness) and the
//! sending half of an [`AuditRecord`] channel.

pub mod audit;
pub mod handler;
pub mod metrics;
pub mod review;
pub mod self_signed;
pub mod server;
pub mod service;
pub mod stance_objects;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use audit::{AuditRecord, AuditSender};
pub use handler::{Decision, Handled, HandlerOptions, Outcome, handle, handle_noop, handle_within};
pub use metrics::WebhookMetrics;
pub use server::{LISTENER_CONDITION, serve, serve_with};
pub use service::{DEFAULT_INLINE_SLICE, INLINE_MAX_BODY, MAX_BODY_BYTES, ServiceOptions, Slice, SliceSpent, Webhook};
pub use tls::{ClientIdentity, TlsSource};

/// Everything [`serve`] needs to know.
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    /// Where the HTTPS listener binds (`0.0.0.0:8443`; port 0 picks a free one).
    pub listen: SocketAddr,
    pub tls: TlsSource,
    /// How often certificate files are re-read ([`tls::RELOAD_INTERVAL`]).
    pub tls_reload_interval: Duration,
    /// PEM CA certificates a caller's client certificate must chain to; with it, `POST
    /// /validate` answers only callers that present one (the API server, configured with a
    /// client certificate for webhooks: docs/install.md).
    pub client_ca: Option<PathBuf>,
    pub service: ServiceOptions,
}

impl WebhookOptions {
    pub fn new(listen: SocketAddr, tls: TlsSource) -> WebhookOptions {
        WebhookOptions {
            listen,
            tls,
            tls_reload_interval: tls::RELOAD_INTERVAL,
            client_ca: None,
            service: ServiceOptions::default(),
        }
    }
}

/// Start-up failures (serving errors are logged and answered, never returned).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
}
