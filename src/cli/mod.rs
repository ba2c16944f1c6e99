//! The `stance` command line: thin adapters from arguments to the core.

pub mod check;
pub mod crds;
pub mod findings;
pub mod history;
pub mod operator;
pub mod run;
pub mod scan;
pub mod serve;
pub mod signals;
pub mod webhook;
pub mod where_;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use stance_core::index::exposure::ExposureConfig;
use stance_core::index::{IndexConfig, TrustConfig};
use stance_core::ingest::budget::{DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_NODES};
use stance_core::ingest::{Limits, Reader};
use stance_core::model::{Channel, Provenance};
use stance_core::names::DEFAULT_STANCE_NAMESPACE;

/// Application Security Posture Management inside Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "stance", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process; boxing the larger argument sets would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Rank the security posture of a folder of manifests, scanner reports and SBOMs.
    Scan(scan::ScanArgs),
    /// Print the normalized, de-duplicated findings of report files.
    Findings(findings::FindingsArgs),
    /// Evaluate manifests against guardrails exactly as admission would (CI gate).
    Check(check::CheckArgs),
    /// Print Stance's CustomResourceDefinitions.
    Crds,
    /// Watch the cluster and write each application's posture into its status.
    Operator(operator::OperatorCmd),
    /// Run the operator and the admission webhook in one process (what the Helm chart deploys).
    Run(run::RunArgs),
    /// Serve the validating admission webhook (HTTPS) from a snapshot of manifests and reports.
    Webhook(webhook::WebhookArgs),
    /// Serve the dashboard over a snapshot of manifests and reports (loopback, no authentication).
    Serve(serve::ServeArgs),
    /// Where a package, vulnerability or image runs: workloads, applications, owners, exposure, risk.
    Where(where_::WhereArgs),
    /// Print remediation trends, time to fix and overdue findings from a history store.
    History(history::HistoryArgs),
}

/// How logs are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings shared by the commands that evaluate policies.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Evaluate as of this RFC 3339 time instead of now (exception expiry, SLAs, scan age).
    #[arg(long, value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// Namespace whose RiskExceptions policies honour by default (repeatable).
    #[arg(long = "exception-namespace", default_value = "stance-system")]
    pub exception_namespaces: Vec<String>,
    /// Longest allowed RiskException lifetime in days.
    #[arg(long, default_value_t = 90)]
    pub max_exception_days: u32,
    /// Namespace guardrails never apply to (repeatable).
    #[arg(long = "exempt-namespace", default_values = ["kube-system", "stance-system"])]
    pub exempt_namespaces: Vec<String>,
    /// Ingress class whose load balancer is internal (repeatable; e.g. an nginx class on a
    /// private network). Wins over what the Ingress's annotations say.
    #[arg(long = "internal-ingress-class")]
    pub internal_ingress_classes: Vec<String>,
    /// Ingress class whose load balancer is internet-facing (repeatable).
    #[arg(long = "internet-ingress-class")]
    pub internet_ingress_classes: Vec<String>,
    /// Service `loadBalancerClass` whose load balancers are internal (repeatable).
    #[arg(long = "internal-lb-class")]
    pub internal_lb_classes: Vec<String>,
    /// Service `loadBalancerClass` whose load balancers are internet-facing (repeatable).
    #[arg(long = "internet-lb-class")]
    pub internet_lb_classes: Vec<String>,
    /// Namespace whose report ConfigMaps are trusted evidence, besides Stance's own
    /// (repeatable; docs/security.md). Report ConfigMaps elsewhere only add findings for
    /// their own namespace.
    #[arg(long = "trusted-report-namespace")]
    pub trusted_report_namespaces: Vec<String>,
    /// Identity whose POST /ingest uploads are trusted evidence, e.g.
    /// system:serviceaccount:ci:scanner (repeatable; docs/security.md).
    #[arg(long = "trusted-uploader")]
    pub trusted_uploaders: Vec<String>,
    /// Largest decompressed size of one object's gzip content, in MiB (a file, a ConfigMap's
    /// keys together, an upload); a larger object is refused with a warning.
    #[arg(long, default_value_t = DEFAULT_MAX_DECOMPRESSED >> 20, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_decompressed_mib: u64,
    /// Most JSON/YAML nodes parsed from one object; a larger object is refused with a warning.
    #[arg(long, default_value_t = DEFAULT_MAX_NODES, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_document_nodes: u64,
}

impl PolicyArgs {
    pub fn config(&self) -> IndexConfig {
        IndexConfig {
            exception_namespaces: self.exception_namespaces.clone(),
            max_exception_days: self.max_exception_days,
            exempt_namespaces: self.exempt_namespaces.clone(),
            exposure: ExposureConfig {
                internal_ingress_classes: self.internal_ingress_classes.clone(),
                internet_ingress_classes: self.internet_ingress_classes.clone(),
                internal_lb_classes: self.internal_lb_classes.clone(),
                internet_lb_classes: self.internet_lb_classes.clone(),
            },
            trust: TrustConfig {
                own_namespace: DEFAULT_STANCE_NAMESPACE.into(),
                report_namespaces: self.trusted_report_namespaces.clone(),
                uploaders: self.trusted_uploaders.clone(),
            },
            ..IndexConfig::default()
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }

    /// The read budget of one object.
    pub fn limits(&self) -> Limits {
        Limits { max_decompressed: self.max_decompressed_mib << 20, max_nodes: self.max_document_nodes }
    }

    /// How the command reads the files it is given: trusted files (a state folder is the
    /// operator's own repository; a report ConfigMap in one keeps its in-cluster meaning),
    /// observed at `--now`, within the limits.
    pub fn reader(&self) -> Reader {
        Reader::new(Provenance::new(Channel::File, self.now()), self.limits())
    }
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    stance_core::ingest::timestamp::parse_rfc3339(s).map_err(|e| e.to_string())
}

/// Errors a user can cause, each naming what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Load(#[from] crate::ingest::LoadError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot serialize output: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("cannot render YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("{0}")]
    Usage(String),
}

/// Runs the parsed command and returns the process exit code.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Scan(a) => scan::run(&a),
        Command::Findings(a) => findings::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Crds => crds::run(),
        Command::Webhook(a) => webhook::run(&a),
        Command::Operator(a) => operator::run(&a),
        Command::Run(a) => run::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Where(a) => where_::run(&a),
        Command::History(a) => history::run(&a),
    }
}

/// Writes text to stdout, treating a closed pipe (`stance … | head`) as success.
pub fn print(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
