//! `stance serve --state DIR... [--listen ADDR] [--history URL]`: the dashboard over a
//! snapshot of manifests and reports, offline — for a laptop or a CI artifact — with trends
//! from a history store when given one. Unauthenticated, so it
//! listens on loopback only (`stance run --dashboard-listen` serves a cluster's live index
//! with token or proxy access).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use clap::Args;

use super::signals::shutdown_signal;
use super::{CliError, PolicyArgs};
use crate::dashboard::trends::HistoryTrends;
use crate::dashboard::{self, Access, Dashboard};
use crate::ingest::load_index;
use stance_history::Store;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Cluster state to show: manifests, AppPostures, policies, exceptions, reports, SBOMs
    /// (files or folders; several after one --state, or --state repeated).
    #[arg(long = "state", required = true, num_args = 1..)]
    pub state: Vec<PathBuf>,
    /// Address to listen on (loopback only: the snapshot dashboard has no authentication;
    /// port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Show trends from this history store (sqlite:PATH or postgres://…; docs/history.md).
    #[arg(long = "history", env = "STANCE_HISTORY", value_parser = parse_url)]
    pub history: Option<stance_history::HistoryUrl>,
    /// Only this cluster's trends (default: every cluster in the store).
    #[arg(long, requires = "history")]
    pub cluster_name: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

fn parse_url(s: &str) -> Result<stance_history::HistoryUrl, String> {
    s.parse().map_err(|e: stance_history::Error| e.to_string())
}

pub fn run(args: &ServeArgs) -> Result<ExitCode, CliError> {
    let access = Access::None;
    access.check_listen(args.listen).map_err(|e| CliError::Usage(e.to_string()))?;
    let (index, summary) = load_index(args.policy.config(), &args.state)?;
    for w in &summary.warnings {
        eprintln!("warning: {}: {}", w.origin, w.message);
    }
    let mut dash = Dashboard::new(Arc::new(RwLock::new(index)), args.policy.now, access, summary);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    super::signals::run_until_stopped(rt, async {
        if let Some(url) = &args.history {
            // Read only: the cluster name given to the store is never written under.
            let store = Store::open(url, "default").await.map_err(|e| CliError::Usage(e.to_string()))?;
            let handle = tokio::runtime::Handle::current();
            let source = HistoryTrends::new(store.reader(), args.cluster_name.clone(), handle, args.policy.now);
            dash.trends = Some(Arc::new(source));
        }
        let dash = Arc::new(dash);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener.local_addr()?;
        // The URL on stdout (tests and scripts read it), then serve until a signal.
        super::print(&format!("Stance dashboard: http://{addr}/\n"))?;
        warp::serve(dashboard::routes(dash)).incoming(listener).graceful(shutdown_signal()).run().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// How `stance run` serves the dashboard over its live index (off unless
/// `--dashboard-listen` is given).
#[derive(Debug, Clone, Args)]
pub struct DashboardServeArgs {
    /// Plain-HTTP address of the dashboard (put TLS in front: an Ingress or a proxy).
    #[arg(long)]
    pub dashboard_listen: Option<SocketAddr>,
    /// Who may look: token (a Kubernetes bearer token, checked with TokenReview), proxy
    /// (user and groups from an authenticating proxy's headers), none (loopback only).
    #[arg(long, value_enum, default_value_t = DashboardAuth::Token)]
    pub dashboard_auth: DashboardAuth,
    /// Source address or CIDR of the authenticating proxy (repeatable; proxy mode).
    #[arg(long = "dashboard-trusted-proxy")]
    pub dashboard_trusted_proxies: Vec<ipnet::IpNet>,
    /// Header carrying the user name (proxy mode).
    #[arg(long, default_value = "X-Forwarded-User")]
    pub dashboard_user_header: String,
    /// Header carrying the comma-separated groups (proxy mode).
    #[arg(long, default_value = "X-Forwarded-Groups")]
    pub dashboard_groups_header: String,
}

/// `--dashboard-auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DashboardAuth {
    None,
    Token,
    Proxy,
}

impl DashboardServeArgs {
    /// Starts the dashboard over the live index when `--dashboard-listen` is given; usage
    /// errors (none off loopback, proxy without trusted sources, a busy port) fail start-up.
    pub async fn start(
        &self,
        client: kube::Client,
        index: stance_core::index::SharedIndex,
        now: Option<jiff::Timestamp>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), CliError> {
        let Some(addr) = self.dashboard_listen else { return Ok(()) };
        let reviewer = || Arc::new(crate::dashboard::access::Reviewer::new(client.clone()));
        let access = match self.dashboard_auth {
            DashboardAuth::None => Access::None,
            DashboardAuth::Token => Access::Token(reviewer()),
            DashboardAuth::Proxy if self.dashboard_trusted_proxies.is_empty() => {
                return Err(CliError::Usage(
                    "--dashboard-auth proxy needs --dashboard-trusted-proxy ADDR/CIDR: headers are trusted only from the proxy"
                        .into(),
                ));
            }
            DashboardAuth::Proxy => Access::Proxy {
                reviewer: reviewer(),
                trusted: self.dashboard_trusted_proxies.clone(),
                user_header: self.dashboard_user_header.clone(),
                groups_header: self.dashboard_groups_header.clone(),
            },
        };
        access.check_listen(addr).map_err(|e| CliError::Usage(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CliError::Usage(format!("cannot listen on {addr} (--dashboard-listen): {e}")))?;
        let dash = Arc::new(Dashboard::new(index, now, access, Default::default()));
        tracing::info!(addr = %listener.local_addr()?, auth = ?self.dashboard_auth, "serving the dashboard");
        tokio::spawn(warp::serve(dashboard::routes(dash)).incoming(listener).graceful(shutdown).run());
        Ok(())
    }
}
