//! `stance run`: the operator and the admission webhook in one process, sharing one
//! in-memory index — what the Helm chart deploys.

use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Args;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use warp::Filter;

use super::operator::{OperatorArgs, connect, serve_metrics};
use super::signals::cancel_on_signals;
use super::webhook::WebhookServeArgs;
use super::{CliError, LogFormat, PolicyArgs};
use crate::controller::decisions;
use crate::controller::history::HistoryMetrics;
use crate::controller::ingest_api::{self, IngestOptions, KubeBackend};
use crate::controller::metrics::ControllerMetrics;
use crate::controller::{self};
use crate::telemetry::{self, Readiness};
use crate::webhook::{self, AuditRecord, WebhookMetrics};
use stance_core::index::{PostureIndex, SharedIndex};
use stance_core::model::WorkloadKind;
use stance_core::policy::Effect;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(flatten)]
    pub serve: WebhookServeArgs,
    #[command(flatten)]
    pub dashboard: super::serve::DashboardServeArgs,
    /// Do not serve POST /ingest (CI report uploads).
    #[arg(long)]
    pub no_ingest: bool,
    /// The audience POST /ingest requires of bearer tokens (`kubectl create token SA
    /// --audience stance`): a token minted for the API server or another service is refused.
    #[arg(long, default_value = ingest_api::DEFAULT_AUDIENCE)]
    pub ingest_audience: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// How long an audit record waits for the watch to deliver a just-created workload.
const AUDIT_DELAY: Duration = Duration::from_secs(2);

/// Hands every record to the audit trail (`trail`, with `--history`; a full channel drops
/// and counts), and publishes an Event on each AppPosture of an admitted workload that broke
/// non-blocking rules.
async fn record_audits(
    mut rx: tokio::sync::mpsc::Receiver<AuditRecord>,
    index: SharedIndex,
    recorder: Recorder,
    trail: Option<(tokio::sync::mpsc::Sender<AuditRecord>, Arc<HistoryMetrics>)>,
    token: CancellationToken,
) {
    loop {
        let record = tokio::select! {
            _ = token.cancelled() => return,
            r = rx.recv() => match r { Some(r) => r, None => return },
        };
        if let Some((tx, metrics)) = &trail
            && tx.try_send(record.clone()).is_err()
        {
            metrics.decisions_dropped.inc_by(record.violations.len() as u64);
        }
        // A denied workload was never created: the trail is its only record.
        if !record.admitted {
            continue;
        }
        // A CREATE is admitted before the object exists: let the watch catch up.
        tokio::time::sleep(AUDIT_DELAY).await;
        let apps: Vec<_> = {
            let Ok(idx) = index.read() else { return };
            let w = &record.workload;
            WorkloadKind::parse(&w.kind)
                .and_then(|k| idx.workload(k, w.namespace.as_deref().unwrap_or_default(), &w.name).cloned())
                .map(|wl| idx.apps_of(&wl).map(|a| crate::api::app_posture::reference(a)).collect())
                .unwrap_or_default()
        };
        if apps.is_empty() {
            tracing::debug!(workload = %record.workload, "admission audit: the workload belongs to no AppPosture");
            continue;
        }
        for v in record.violations.iter().take(webhook::audit::WORDED_VIOLATIONS) {
            let reason = match v.effect() {
                Effect::Excepted => "AdmittedWithException",
                Effect::Warn => "AdmittedWithWarning",
                // Audit records hold admitted requests only: no Deny here.
                Effect::Audit | Effect::Deny => "AdmissionAudit",
            };
            // A name only the caller vouches for is shown as such (no --client-ca, or none presented).
            let unverified = if record.user_verified { "" } else { " (unverified)" };
            let note = format!("{}{unverified} {} {}: {}", record.user, record.operation, record.workload, v.line());
            let ev = Event {
                type_: EventType::Warning,
                reason: reason.into(),
                note: Some(note.chars().take(1000).collect()),
                action: "Admit".into(),
                secondary: None,
            };
            for app in &apps {
                if let Err(e) = recorder.publish(&ev, app).await {
                    tracing::warn!(error = %e, "could not publish an admission audit Event");
                }
            }
        }
    }
}

pub fn run(args: &RunArgs) -> Result<ExitCode, CliError> {
    telemetry::init_tracing(args.operator.log_format == LogFormat::Json);
    let webhook_opts = args.serve.options(args.policy.now)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    super::signals::run_until_stopped(rt, async {
        let client = connect().await?;
        let mut registry = Registry::default();
        let controller_metrics = ControllerMetrics::register(&mut registry);
        let webhook_metrics = WebhookMetrics::register(&mut registry);
        let (config, options) = args.operator.setup(&args.policy, args.serve.index_config(&args.policy), &mut registry);
        let registry = Arc::new(registry);
        let readiness = Readiness::default();
        let token = CancellationToken::new();
        cancel_on_signals(token.clone());
        let index: SharedIndex = Arc::new(RwLock::new(PostureIndex::new(config)));

        serve_metrics(args.operator.metrics_listen, registry, &readiness, token.clone()).await?;
        let stop = token.clone();
        args.dashboard
            .start(client.clone(), index.clone(), args.policy.now, async move { stop.cancelled().await })
            .await?;

        let (audit_tx, audit_rx) = tokio::sync::mpsc::channel(1024);
        let reporter = Reporter { controller: "stance".into(), instance: Some(options.identity.clone()) };
        // With --history, the audit trail: its own task writes the decisions (never the webhook).
        let trail = options.history.as_ref().map(|(h, m)| {
            let (tx, rx) = tokio::sync::mpsc::channel(1024);
            tokio::spawn(decisions::run(h.url.clone(), h.cluster.clone(), rx, m.clone(), token.clone()));
            (tx, m.clone())
        });
        tokio::spawn(record_audits(
            audit_rx,
            index.clone(),
            Recorder::new(client.clone(), reporter),
            trail,
            token.clone(),
        ));

        let ingest = IngestOptions {
            namespace: args.operator.namespace.clone(),
            audience: args.ingest_audience.clone(),
            limits: options.limits,
        };
        let extra = (!args.no_ingest).then(|| {
            ingest_api::route(Arc::new(KubeBackend(client.clone())), controller_metrics.clone(), ingest).boxed()
        });
        // The webhook outlives the signal by --shutdown-delay-seconds (see `drain`); the
        // controller stops at once, so the Lease is handed over without waiting.
        let shutdown = token.clone();
        let draining = readiness.clone();
        let delay = Duration::from_secs(args.serve.shutdown_delay_seconds);
        let (addr, server) = webhook::serve_with(
            webhook_opts,
            index.clone(),
            webhook_metrics,
            readiness.clone(),
            Some(audit_tx),
            extra,
            async move {
                shutdown.cancelled().await;
                super::webhook::drain(&draining, delay).await;
            },
        )
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
        tracing::info!(%addr, ingest = !args.no_ingest, "stance run: operator + webhook");
        controller::run(client, options, index, controller_metrics, readiness, token).await;
        let _ = tokio::time::timeout(delay + Duration::from_secs(15), server).await;
        Ok(ExitCode::SUCCESS)
    })
}
