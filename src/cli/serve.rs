//! `stance serve --state DIR... [--listen ADDR]`: the dashboard over a snapshot of
//! manifests and reports, offline — for a laptop or a CI artifact. Unauthenticated, so it
//! listens on loopback only (`stance run --dashboard-listen` serves a cluster's live index
//! with token or proxy access).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use clap::Args;

use super::signals::shutdown_signal;
use super::{CliError, PolicyArgs};
use crate::dashboard::{self, Access, Dashboard};
use crate::ingest::load_index;

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
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub fn run(args: &ServeArgs) -> Result<ExitCode, CliError> {
    let access = Access::None;
    access.check_listen(args.listen).map_err(|e| CliError::Usage(e.to_string()))?;
    let (index, summary) = load_index(args.policy.config(), &args.state)?;
    for w in &summary.warnings {
        eprintln!("warning: {}: {}", w.origin, w.message);
    }
    let dash = Arc::new(Dashboard::new(Arc::new(RwLock::new(index)), args.policy.now, access, summary));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
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
