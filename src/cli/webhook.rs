//! `stance webhook --state DIR...`: the validating admission webhook served from a snapshot
//! of manifests, policies, exceptions and reports (the same loader as `stance check`).
//! In a cluster, `stance run` serves the same webhook from the operator's live index.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Args;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use super::signals::shutdown_signal;
use super::{CliError, LogFormat, PolicyArgs, print};
use crate::endpoints::{self, Endpoints};
use crate::ingest::load_paths_with;
use crate::telemetry::{self, Readiness};
use crate::webhook::{self, ServiceOptions, TlsSource, WebhookMetrics, WebhookOptions, self_signed};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::ControllerIdentity;

/// The readiness condition of the index (set once the snapshot is loaded).
pub const INDEX_CONDITION: &str = "index";

#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// Cluster state to judge against: policies, exceptions, AppPostures, workloads, reports.
    #[arg(long = "state", num_args = 1..)]
    pub state: Vec<PathBuf>,
    /// Plain-HTTP address of /metrics (Prometheus), /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:9090")]
    pub metrics_listen: SocketAddr,
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub serve: WebhookServeArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// How the webhook is served: shared by `stance webhook` and `stance run`.
#[derive(Debug, Clone, Args)]
pub struct WebhookServeArgs {
    /// HTTPS address of POST /validate, /healthz and /readyz (port 0: any free port).
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// PEM certificate chain to serve; reloaded when the file changes.
    #[arg(long, requires = "tls_key", conflicts_with = "self_signed")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert; reloaded when the file changes.
    #[arg(long, requires = "tls_cert", conflicts_with = "self_signed")]
    pub tls_key: Option<PathBuf>,
    /// Generate a CA and a serving certificate for localhost and 127.0.0.1 (development).
    #[arg(long)]
    pub self_signed: bool,
    /// Where --self-signed writes the CA certificate (default: a file in the temp dir).
    #[arg(long, requires = "self_signed")]
    pub ca_bundle_out: Option<PathBuf>,
    /// Extra DNS name or IP address of the --self-signed certificate (repeatable).
    #[arg(long = "san", requires = "self_signed")]
    pub sans: Vec<String>,
    /// PEM CA certificate(s) the API server's client certificate is signed by: POST /validate
    /// then answers only callers presenting a certificate that chains to it (401 otherwise;
    /// probes and other endpoints stay open). See docs/install.md for the API server's
    /// AdmissionConfiguration.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// On an evaluation error or timeout, allow the request with a warning instead of denying it.
    #[arg(long)]
    pub fail_open: bool,
    /// Deadline per review in milliseconds; keep it well inside the webhook's timeoutSeconds.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
    /// Most evaluations at once (default: twice the CPUs).
    #[arg(long)]
    pub max_in_flight: Option<usize>,
    /// A controller whose Pods and ReplicaSets/Jobs admission need not judge again: the
    /// username the API server authenticates it as, optionally with the owner kinds of what
    /// it creates (`USER=ReplicaSet`). Skipped only when the object's controller owner is a
    /// workload Stance knows with that uid. Repeatable; replaces the defaults
    /// (kube-controller-manager's controllers in kube-system, and system:kube-controller-manager).
    #[arg(long = "controller-identity", value_name = "USER[=KIND,...]", value_parser = parse_controller)]
    pub controller_identities: Vec<ControllerIdentity>,
    /// After SIGTERM, keep answering admission requests for this many seconds while /readyz
    /// reports "shutting down", so the API server and kube-proxy stop sending requests to this
    /// replica before it closes its listener (with failurePolicy Fail, a request that reaches a
    /// closed listener is refused). Keep it below the pod's terminationGracePeriodSeconds.
    #[arg(long, default_value_t = 0)]
    pub shutdown_delay_seconds: u64,
}

fn parse_controller(text: &str) -> Result<ControllerIdentity, String> {
    ControllerIdentity::parse(text)
}

impl WebhookServeArgs {
    /// The index configuration of the served index: `policy`'s, with the controller
    /// identities of `--controller-identity` when given.
    pub fn index_config(&self, policy: &PolicyArgs) -> IndexConfig {
        let mut config = policy.config();
        if !self.controller_identities.is_empty() {
            config.controllers = self.controller_identities.clone();
        }
        config
    }

    /// Checks the flags (usage errors name what to give instead).
    pub fn check(&self) -> Result<(), CliError> {
        if !(1..=30_000).contains(&self.timeout_ms) {
            return Err(CliError::Usage(
                "--timeout-ms must be between 1 and 30000, well inside the ValidatingWebhookConfiguration's \
                 timeoutSeconds"
                    .into(),
            ));
        }
        if self.max_in_flight == Some(0) {
            return Err(CliError::Usage("--max-in-flight must be at least 1".into()));
        }
        match (&self.tls_cert, &self.tls_key, self.self_signed) {
            (Some(_), Some(_), false) | (None, None, true) => Ok(()),
            _ => Err(CliError::Usage(
                "the webhook serves HTTPS only: give --tls-cert FILE --tls-key FILE (PEM, e.g. from cert-manager), \
                 or --self-signed for local development"
                    .into(),
            )),
        }
    }

    /// The options for [`webhook::serve`]. With `--self-signed`, generates the certificate,
    /// writes the CA and prints where it is and the `caBundle` value.
    pub fn options(&self, now: Option<jiff::Timestamp>) -> Result<WebhookOptions, CliError> {
        self.check()?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsSource::Files { cert: cert.clone(), key: key.clone() },
            _ => self.self_signed_source()?,
        };
        let mut opts = WebhookOptions::new(self.listen, tls);
        opts.client_ca = self.client_ca.clone();
        opts.service = ServiceOptions {
            require_client_cert: self.client_ca.is_some(),
            fail_open: self.fail_open,
            timeout: Duration::from_millis(self.timeout_ms),
            max_in_flight: self.max_in_flight.unwrap_or_else(webhook::service::default_max_in_flight),
            now,
            ..ServiceOptions::default()
        };
        Ok(opts)
    }

    fn self_signed_source(&self) -> Result<TlsSource, CliError> {
        let generated = self_signed::generate(&self.sans).map_err(|e| CliError::Usage(e.to_string()))?;
        let path = self
            .ca_bundle_out
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("stance-webhook-ca-{}.pem", std::process::id())));
        std::fs::write(&path, &generated.ca_pem)
            .map_err(|e| CliError::Usage(format!("cannot write the CA bundle to {}: {e}", path.display())))?;
        print(&format!("CA bundle written to {}\ncaBundle: {}\n", path.display(), generated.ca_bundle()))?;
        Ok(TlsSource::Pem { cert: generated.chain_pem.into_bytes(), key: generated.key_pem.into_bytes() })
    }
}

pub fn run(args: &WebhookArgs) -> Result<ExitCode, CliError> {
    if args.state.is_empty() {
        return Err(CliError::Usage(
            "stance webhook serves from a snapshot: give --state DIR... (the policies, exceptions, manifests and \
             scanner reports to judge against, as for `stance check`); in a cluster, `stance run` serves the webhook \
             from the operator's live index"
                .into(),
        ));
    }
    args.serve.check()?;
    telemetry::init_tracing(args.log_format == LogFormat::Json);
    let state = load_paths_with(&args.state, &args.policy.reader())?;
    for w in &state.warnings {
        tracing::warn!(origin = %w.origin, "state: {}", w.message);
    }
    let readiness = Readiness::default();
    readiness.register(INDEX_CONDITION);
    let (index, notes) = state.into_index_with_warnings(args.serve.index_config(&args.policy));
    for w in &notes {
        tracing::warn!(origin = %w.origin, "state: {}", w.message);
    }
    for p in index.policies() {
        if let Err(e) = &p.compiled {
            tracing::warn!(policy = &*p.name, "invalid GuardrailPolicy (ignored): {e}");
        }
    }
    tracing::info!(
        policies = index.policies().count(),
        invalid_policies = index.policies().filter(|p| p.compiled.is_err()).count(),
        exceptions = index.exceptions().count(),
        artifacts = index.artifacts().count(),
        findings = index.finding_count(),
        "state loaded"
    );
    readiness.set(INDEX_CONDITION, true);
    let opts = args.serve.options(args.policy.now)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let delay = Duration::from_secs(args.serve.shutdown_delay_seconds);
    runtime.block_on(serve(args.metrics_listen, opts, index, readiness, delay))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    metrics_listen: SocketAddr,
    opts: WebhookOptions,
    index: PostureIndex,
    readiness: Readiness,
    shutdown_delay: Duration,
) -> Result<(), CliError> {
    let readiness_handle = readiness.clone();
    let mut registry = Registry::default();
    let metrics = WebhookMetrics::register(&mut registry);
    let registry = Arc::new(registry);
    let stop = CancellationToken::new();
    let routes = endpoints::router(Endpoints { metrics: Some(registry), ..Endpoints::new(readiness.clone()) });
    let (metrics_addr, metrics_task) = endpoints::serve_plain(metrics_listen, routes, stop.clone().cancelled_owned())
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {metrics_listen} (--metrics-listen): {e}")))?;
    let (addr, server) =
        webhook::serve(opts, Arc::new(RwLock::new(index)), metrics, readiness, None, stop.clone().cancelled_owned())
            .await
            .map_err(|e| CliError::Usage(e.to_string()))?;
    // Handle SIGTERM before announcing the addresses: whoever reads them may stop us at once.
    let signalled = shutdown_signal();
    print(&format!("listening on https://{addr}\nmetrics on http://{metrics_addr}/metrics\n"))?;
    signalled.await;
    tracing::info!(delay_seconds = shutdown_delay.as_secs(), "shutdown requested");
    drain(&readiness_handle, shutdown_delay).await;
    stop.cancel();
    let _ = server.await;
    let _ = tokio::time::timeout(Duration::from_secs(5), metrics_task).await;
    Ok(())
}

/// The readiness condition that turns false once shutdown has begun.
pub const SHUTDOWN_CONDITION: &str = "shutting down";

/// Marks the replica not ready and keeps serving for `delay` (`--shutdown-delay-seconds`):
/// Kubernetes removes a terminating pod from the Service's endpoints asynchronously, so
/// admission requests keep arriving for a few seconds after SIGTERM.
pub async fn drain(readiness: &Readiness, delay: Duration) {
    readiness.set(SHUTDOWN_CONDITION, false);
    if !delay.is_zero() {
        tracing::info!(seconds = delay.as_secs(), "still serving while the endpoints update");
        tokio::time::sleep(delay).await;
    }
}
