//! The posture history on the command line: the flags every command that records or reads
//! it shares (`--history`, `--cluster-name`, the cluster-wide remediation policy), recording a
//! `stance scan` snapshot as of `--now`, and `stance history`, which prints trends, time to
//! fix and overdue findings (docs/history.md).

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use stance_core::guardrail::{RemediationPolicy, RemediationRule, SeverityDays};
use stance_core::index::PostureIndex;
use stance_core::lifecycle::summary::{self, DAY, Remediation, TimeToFix};
use stance_core::lifecycle::{Tally, Tracker, snapshot};
use stance_history::{Decision, FindingHistory, HistoryUrl, Scope, Store, TrendPoint};

use super::{CliError, print};
use crate::controller::history::{HistoryMetrics, HistoryOptions};
use crate::output::table::table;

/// Parses `--history`.
fn parse_url(s: &str) -> Result<HistoryUrl, String> {
    s.parse().map_err(|e: stance_history::Error| e.to_string())
}

fn parse_days(s: &str) -> Result<SeverityDays, String> {
    SeverityDays::parse(s)
}

/// The cluster-wide remediation policy: what status, metrics, `stance scan` and `stance
/// history` count overdue findings with (a GuardrailPolicy's `remediation` rule has its own).
#[derive(Debug, Clone, Args)]
pub struct RemediationArgs {
    /// Days to fix per severity, from first seen in the cluster (FedRAMP's deadlines by default).
    #[arg(long, value_parser = parse_days, default_value = "critical=30,high=30,medium=90,low=180")]
    pub remediation_days: SeverityDays,
    /// Shorter deadlines for internet-exposed applications (CISA BOD 19-02 by default).
    #[arg(long, value_parser = parse_days, default_value = "critical=15,high=30")]
    pub remediation_internet_days: SeverityDays,
    /// Days to fix a CISA KEV vulnerability (BOD 22-01); the catalog's dueDate applies when earlier.
    #[arg(long, default_value_t = 14)]
    pub remediation_kev_days: u32,
}

impl RemediationArgs {
    /// The policy these flags describe.
    pub fn policy(&self) -> RemediationPolicy {
        RemediationPolicy::from(&RemediationRule {
            days: Some(self.remediation_days),
            internet_days: Some(self.remediation_internet_days),
            known_exploited_days: Some(self.remediation_kev_days),
        })
    }
}

/// Where lifecycles are recorded (`stance scan`, `stance operator`, `stance run`).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Record the posture history here: sqlite:PATH or postgres://USER[:PASSWORD]@HOST/DB.
    #[arg(long = "history", env = "STANCE_HISTORY", value_parser = parse_url)]
    pub history: Option<HistoryUrl>,
    /// This cluster's name in the history store (many clusters may share one PostgreSQL store).
    #[arg(long, env = "STANCE_CLUSTER_NAME", default_value = "default")]
    pub cluster_name: String,
    /// Days the history keeps fixed lifecycles, changes, roll-ups and admission decisions.
    #[arg(long, default_value_t = 400)]
    pub history_retention_days: u32,
    #[command(flatten)]
    pub remediation: RemediationArgs,
}

impl StoreArgs {
    /// The operator's history hook, with `--history` (its metrics registered in `registry`).
    pub fn operator(
        &self,
        identity: &str,
        registry: &mut prometheus_client::registry::Registry,
    ) -> Option<(HistoryOptions, Arc<HistoryMetrics>)> {
        let url = self.history.clone()?;
        let options = HistoryOptions {
            url,
            cluster: self.cluster_name.clone(),
            policy: self.remediation.policy(),
            retention: self.retention(),
            identity: identity.to_string(),
            settle: crate::controller::history::SETTLE,
            every: crate::controller::history::EVERY,
        };
        Some((options, HistoryMetrics::register(registry)))
    }

    /// The retention as a duration.
    pub fn retention(&self) -> SignedDuration {
        SignedDuration::from_secs(i64::from(self.history_retention_days) * DAY)
    }
}

fn usage(e: stance_history::Error) -> CliError {
    CliError::Usage(e.to_string())
}

/// Gives the index its lifecycle view as of `now` — from the store with `--history`
/// (recording what changed since its last observation), otherwise from the reports alone
/// (first seen = the time a report says its scanner saw the finding). Returns what was
/// recorded, with `--history`.
pub fn observe(args: &StoreArgs, index: &mut PostureIndex, now: Timestamp) -> Result<Option<Tally>, CliError> {
    let policy = args.remediation.policy();
    let snap = snapshot(index, now);
    let Some(url) = &args.history else {
        let mut tracker = Tracker::new();
        tracker.observe(&snap, now);
        index.set_ledger(Arc::new(tracker.ledger(policy)));
        return Ok(None);
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (tally, ledger) = rt.block_on(async {
        let store = Store::open(url, &args.cluster_name).await.map_err(usage)?;
        let clusters = store.reader().clusters().await.map_err(usage)?;
        if let Some((_, last)) = clusters.iter().find(|(c, _)| *c == args.cluster_name)
            && now < *last
        {
            return Err(CliError::Usage(format!(
                "{url} already holds cluster {:?} as of {last}, later than {now}: a timeline is recorded forwards; \
                 replay it into a new store (or under another --cluster-name)",
                args.cluster_name
            )));
        }
        let mut tracker = store.load().await.map_err(usage)?;
        let tally = tracker.observe(&snap, now);
        let ledger = tracker.ledger(policy);
        let rows = summary::daily_rows(&ledger, now);
        store.write(tracker.pending(), &rows, now, "stance scan").await.map_err(usage)?;
        store.retain(now - args.retention()).await.map_err(usage)?;
        store.close().await;
        Ok::<_, CliError>((tally, ledger))
    })?;
    eprintln!(
        "history: {} new, {} fixed, {} reopened, {} changed — recorded in {url} (cluster {}) as of {now}",
        tally.new, tally.fixed, tally.reopened, tally.changed, args.cluster_name
    );
    index.set_ledger(Arc::new(ledger));
    Ok(Some(tally))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    Table,
    Json,
}

/// `stance history`: what the store says about remediation over time.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history store: sqlite:PATH or postgres://USER[:PASSWORD]@HOST/DB.
    #[arg(long = "history", env = "STANCE_HISTORY", value_parser = parse_url)]
    pub history: HistoryUrl,
    /// One application (NAMESPACE/NAME, or asset:NAMESPACE/NAME); default: all of them.
    #[arg(long)]
    pub app: Option<String>,
    /// One cluster; default: every cluster in the store.
    #[arg(long)]
    pub cluster_name: Option<String>,
    /// Trends, fixed findings and admission decisions from this RFC 3339 time, or this many
    /// days before --now (`30d`).
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Report as of this RFC 3339 time instead of now.
    #[arg(long, value_parser = super::parse_time)]
    pub now: Option<Timestamp>,
    #[arg(long, value_enum, default_value_t = HistoryFormat::Table)]
    pub format: HistoryFormat,
    #[command(flatten)]
    pub remediation: RemediationArgs,
}

/// `stance history --format json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryOutput {
    pub schema: &'static str,
    pub generated_at: String,
    /// The store (password redacted).
    pub store: String,
    pub since: String,
    /// Clusters in the store with their last observation.
    pub clusters: Vec<ClusterOutput>,
    /// Per cluster and application (or asset) of the scope.
    pub subjects: Vec<SubjectOutput>,
    /// Over the whole scope.
    pub time_to_fix: Vec<TimeToFix>,
    /// Per day and severity, from `since`.
    pub trends: Vec<TrendPoint>,
    /// Open findings past their due date.
    pub overdue: Vec<FindingHistory>,
    /// With `--app`: every finding open or fixed since `since`, with its dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingHistory>>,
    /// Admission decisions since `since`, newest first (at most 100).
    pub admission_decisions: Vec<Decision>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOutput {
    pub name: String,
    pub observed: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectOutput {
    pub cluster: String,
    pub subject: String,
    pub remediation: Remediation,
}

/// Version of `stance history --format json`; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "stance.dev/history/v1";
/// Admission decisions listed at most.
const DECISIONS: u32 = 100;

fn since(text: &str, now: Timestamp) -> Result<Timestamp, CliError> {
    if let Some(days) = text.strip_suffix('d').and_then(|d| d.parse::<i64>().ok()) {
        return Ok(now - SignedDuration::from_secs(days * DAY));
    }
    super::parse_time(text).map_err(|e| CliError::Usage(format!("--since: {e}, or a number of days such as 30d")))
}

pub fn run(args: &HistoryArgs) -> Result<ExitCode, CliError> {
    let now = args.now.unwrap_or_else(Timestamp::now);
    let from = since(&args.since, now)?;
    let policy = args.remediation.policy();
    let subject =
        match &args.app {
            Some(a) => Some(stance_history::parse_subject(a).ok_or_else(|| {
                CliError::Usage(format!("--app {a:?} is not NAMESPACE/NAME (or asset:NAMESPACE/NAME)"))
            })?),
            None => None,
        };
    let scope = Scope { cluster: args.cluster_name.clone(), subject };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let out = rt.block_on(async {
        let store =
            Store::open(&args.history, args.cluster_name.as_deref().unwrap_or("default")).await.map_err(usage)?;
        let r = store.reader();
        let clusters = r.clusters().await.map_err(usage)?;
        let subjects = r.remediation(&scope, &policy, now).await.map_err(usage)?;
        let out = HistoryOutput {
            schema: SCHEMA_VERSION,
            generated_at: now.to_string(),
            store: args.history.to_string(),
            since: from.to_string(),
            clusters: clusters.into_iter().map(|(name, t)| ClusterOutput { name, observed: t.to_string() }).collect(),
            subjects: subjects
                .into_iter()
                .map(|((cluster, s), remediation)| SubjectOutput { cluster, subject: s.to_string(), remediation })
                .collect(),
            time_to_fix: r.time_to_fix(&scope, now).await.map_err(usage)?,
            trends: r.trends(&scope, from).await.map_err(usage)?,
            overdue: r.findings(&scope, now, &policy, now, true).await.map_err(usage)?,
            findings: match scope.subject {
                Some(_) => Some(r.findings(&scope, from, &policy, now, false).await.map_err(usage)?),
                None => None,
            },
            admission_decisions: r.decisions(scope.cluster.as_deref(), from, DECISIONS).await.map_err(usage)?,
        };
        store.close().await;
        Ok::<_, CliError>(out)
    })?;
    let text = match args.format {
        HistoryFormat::Json => serde_json::to_string_pretty(&out)? + "\n",
        HistoryFormat::Table => render(&out),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn days(d: Option<f64>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{d:.1}"))
}

/// `stance history` for a terminal.
pub fn render(out: &HistoryOutput) -> String {
    let mut text = format!("Stance history in {} as of {} (trends since {})\n", out.store, out.generated_at, out.since);
    for c in &out.clusters {
        text.push_str(&format!("  cluster {}: last observed {}\n", c.name, c.observed));
    }
    text.push('\n');
    let mut rows = vec![
        ["CLUSTER", "APPLICATION", "OPEN", "OVERDUE", "NEW 7D", "FIXED 7D", "REOPENED 7D"].map(String::from).to_vec(),
    ];
    for s in &out.subjects {
        let r = &s.remediation;
        rows.push(vec![
            s.cluster.clone(),
            s.subject.clone(),
            r.open.to_string(),
            r.overdue.to_string(),
            r.new_this_week.to_string(),
            r.fixed_this_week.to_string(),
            r.reopened_this_week.to_string(),
        ]);
    }
    text.push_str(&table(&rows));
    text.push_str("\nTime to fix (days, from opened to fixed):\n");
    let mut rows = vec![
        ["SEVERITY", "FIXED 30D", "MEAN 30D", "P90 30D", "FIXED 90D", "MEAN 90D", "P90 90D"].map(String::from).to_vec(),
    ];
    let windows = summary::TIME_TO_FIX_WINDOWS;
    for sev in out.time_to_fix.iter().filter(|t| t.window_days == windows[0]) {
        let long = out.time_to_fix.iter().find(|t| t.window_days == windows[1] && t.severity == sev.severity);
        rows.push(vec![
            sev.severity.clone(),
            sev.fixed.to_string(),
            days(sev.mean_days),
            days(sev.p90_days),
            long.map_or(0, |l| l.fixed).to_string(),
            days(long.and_then(|l| l.mean_days)),
            days(long.and_then(|l| l.p90_days)),
        ]);
    }
    text.push_str(&table(&rows));
    text.push_str("\nTrend (per day, all severities: open / overdue / new / fixed):\n");
    let mut by_day: std::collections::BTreeMap<&str, summary::DailyCounts> = Default::default();
    for p in &out.trends {
        by_day.entry(&p.day).or_default().add(&p.counts);
    }
    let mut rows = vec![["DAY", "OPEN", "OVERDUE", "NEW", "FIXED"].map(String::from).to_vec()];
    for (day, c) in &by_day {
        rows.push(vec![
            day.to_string(),
            c.open.to_string(),
            c.overdue.to_string(),
            c.new.to_string(),
            c.fixed.to_string(),
        ]);
    }
    text.push_str(&table(&rows));
    text.push_str(&format!("\nOverdue findings ({}):\n", out.overdue.len()));
    let mut rows = vec![["APPLICATION", "FINDING", "SEVERITY", "IN", "FIRST SEEN", "DUE"].map(String::from).to_vec()];
    for f in out.overdue.iter().take(50) {
        rows.push(vec![
            f.subject.clone(),
            f.id.clone(),
            f.severity.clone(),
            f.what.clone(),
            f.first_seen.clone(),
            f.due.clone().unwrap_or_default(),
        ]);
    }
    if out.overdue.len() > 50 {
        rows.push(vec![format!("… and {} more (--format json lists all)", out.overdue.len() - 50)]);
    }
    text.push_str(&table(&rows));
    if !out.admission_decisions.is_empty() {
        text.push_str("\nRecent admission decisions:\n");
        let mut rows = vec![["AT", "EFFECT", "USER", "WORKLOAD", "POLICY/RULE"].map(String::from).to_vec()];
        for d in out.admission_decisions.iter().take(20) {
            rows.push(vec![
                d.at.to_string(),
                d.effect.clone(),
                d.username.clone(),
                d.workload.clone(),
                format!("{}/{}", d.policy, d.rule),
            ]);
        }
        text.push_str(&table(&rows));
    }
    text
}
