//! `stance operator`: watch the cluster and write each application's posture into status.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Args;
use prometheus_client::registry::Registry;
use stance_core::index::{IndexConfig, PostureIndex};
use tokio_util::sync::CancellationToken;

use super::signals::cancel_on_signals;
use super::{CliError, LogFormat, PolicyArgs};
use crate::controller::{self, OperatorOptions, metrics::ControllerMetrics};
use crate::endpoints::{self, Endpoints};
use crate::telemetry::{self, Readiness};

/// Settings of the operator part (shared with `stance run`).
#[derive(Debug, Clone, Args)]
pub struct OperatorArgs {
    /// Serve /metrics, /healthz and /readyz here.
    #[arg(long, default_value = "0.0.0.0:9090")]
    pub metrics_listen: SocketAddr,
    /// Namespace of the leader Lease (defaults to $POD_NAMESPACE, else stance-system).
    #[arg(long, env = "POD_NAMESPACE", default_value = "stance-system")]
    pub namespace: String,
    /// This replica's identity (defaults to $POD_NAME, else the host name and process id).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Write status without electing a leader (only for a single replica).
    #[arg(long)]
    pub no_leader_election: bool,
    /// CISA KEV JSON / FIRST EPSS CSV files, re-read when they change (several after one
    /// --feed, or --feed repeated).
    #[arg(long = "feed", num_args = 1..)]
    pub feeds: Vec<PathBuf>,
    /// Milliseconds reconciliation waits for further changes.
    #[arg(long, default_value_t = 500)]
    pub debounce_ms: u64,
    /// Also write wgpolicyk8s.io/v1alpha2 PolicyReports with the guardrail results.
    #[arg(long)]
    pub policy_reports: bool,
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// `--history URL`: record the remediation history (docs/history.md).
    #[command(flatten)]
    pub store: super::history::StoreArgs,
}

impl OperatorArgs {
    /// The index settings and operator options of `stance operator` and `stance run`:
    /// `config` (the policy flags' settings) with this namespace as Stance's own (its report
    /// ConfigMaps and the uploads stored there are trusted as `docs/security.md` says), and
    /// the options; with `--history`, the history's metrics are registered in `registry`.
    pub fn setup(
        &self,
        policy: &PolicyArgs,
        mut config: IndexConfig,
        registry: &mut prometheus_client::registry::Registry,
    ) -> (IndexConfig, OperatorOptions) {
        config.trust.own_namespace = self.namespace.clone();
        let mut options = self.options(registry);
        options.limits = policy.limits();
        (config, options)
    }

    /// The operator's options; with `--history`, its metrics are registered in `registry`.
    fn options(&self, registry: &mut prometheus_client::registry::Registry) -> OperatorOptions {
        let identity = self.identity.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "stance".into());
            format!("{host}-{}", std::process::id())
        });
        OperatorOptions {
            namespace: self.namespace.clone(),
            leader_election: !self.no_leader_election,
            feeds: self.feeds.clone(),
            debounce: Duration::from_millis(self.debounce_ms),
            policy_reports: self.policy_reports,
            history: self.store.operator(&identity, registry),
            identity,
            limits: crate::ingest::Limits::default(),
        }
    }
}

#[derive(Debug, Args)]
pub struct OperatorCmd {
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// A client from the in-cluster config or KUBECONFIG (`stance operator` and `stance run`).
pub async fn connect() -> Result<kube::Client, CliError> {
    kube::Client::try_default()
        .await
        .map_err(|e| CliError::Usage(format!("cannot connect to Kubernetes (in-cluster config or KUBECONFIG): {e}")))
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `addr` until `token` is cancelled
/// (`stance operator` and `stance run`).
pub async fn serve_metrics(
    addr: std::net::SocketAddr,
    registry: Arc<Registry>,
    readiness: &Readiness,
    token: CancellationToken,
) -> Result<(), CliError> {
    let routes = endpoints::router(Endpoints { metrics: Some(registry), ..Endpoints::new(readiness.clone()) });
    endpoints::serve_plain(addr, routes, token.cancelled_owned())
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
    Ok(())
}

pub fn run(args: &OperatorCmd) -> Result<ExitCode, CliError> {
    telemetry::init_tracing(args.operator.log_format == LogFormat::Json);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    super::signals::run_until_stopped(rt, async {
        let client = connect().await?;
        let mut registry = Registry::default();
        let metrics = ControllerMetrics::register(&mut registry);
        let (config, options) = args.operator.setup(&args.policy, args.policy.config(), &mut registry);
        let registry = Arc::new(registry);
        let readiness = Readiness::default();
        let token = CancellationToken::new();
        cancel_on_signals(token.clone());
        let index = Arc::new(RwLock::new(PostureIndex::new(config)));
        serve_metrics(args.operator.metrics_listen, registry, &readiness, token.clone()).await?;
        controller::run(client, options, index, metrics, readiness, token).await;
        Ok(ExitCode::SUCCESS)
    })
}
