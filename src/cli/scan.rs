//! `stance scan DIR...`: the ranked posture of a folder of manifests and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{CliError, PolicyArgs, print};
use crate::ingest::load_index_with;
use crate::output::scan::build;
use crate::output::{openreports, policy_report, sarif, table};

/// Findings listed per application in the table and JSON unless `--top` says otherwise.
pub const DEFAULT_TOP: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
    Policyreport,
    /// `openreports.io/v1alpha1` Reports (the PolicyReports' results, paged within etcd's limit).
    Openreports,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Folders or files of manifests, scanner reports, SBOMs, KEV and EPSS files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Findings listed per application [default: 10 for table and json, all for sarif].
    #[arg(long)]
    pub top: Option<usize>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// `--history URL`: record this snapshot as of `--now` (a timeline replays from dated snapshots).
    #[command(flatten)]
    pub store: super::history::StoreArgs,
}

pub fn run(args: &ScanArgs) -> Result<ExitCode, CliError> {
    let (mut index, summary) = load_index_with(args.policy.config(), &args.paths, &args.policy.reader())?;
    let now = args.policy.now();
    super::history::observe(&args.store, &mut index, now)?;
    // A dashboard that imports SARIF must see every finding, or it closes the alerts of
    // those left out; people reading a table or JSON want the worst few.
    let top = args.top.unwrap_or(DEFAULT_TOP);
    let text = match args.format {
        ScanFormat::Table => table::scan(&build(&index, &summary, now, top)),
        ScanFormat::Json => serde_json::to_string_pretty(&build(&index, &summary, now, top))? + "\n",
        ScanFormat::Sarif => {
            let log = sarif::render(&index, now, args.top);
            let results = log.runs.iter().map(|r| r.results.len()).sum::<usize>();
            if results > sarif::GITHUB_MAX_RESULTS {
                eprintln!(
                    "warning: the SARIF output has {results} results; GitHub code scanning rejects a run with more \
                     than {}: pass --top N to list at most N findings per application",
                    sarif::GITHUB_MAX_RESULTS
                );
            }
            serde_json::to_string_pretty(&log)? + "\n"
        }
        ScanFormat::Policyreport | ScanFormat::Openreports => {
            let reports = match args.format {
                ScanFormat::Openreports => openreports::reports(&index, now),
                _ => policy_report::reports(&index, now),
            };
            let mut s = String::new();
            for r in reports {
                s.push_str("---\n");
                s.push_str(&serde_yaml::to_string(&r)?);
            }
            s
        }
    };
    print(&text)?;
    for w in &summary.warnings {
        eprintln!("warning: {}: {}", w.origin, w.message);
    }
    Ok(ExitCode::SUCCESS)
}
