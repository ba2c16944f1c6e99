//! `stance scan DIR...`: the ranked posture of a folder of manifests and reports.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{CliError, PolicyArgs, print};
use crate::ingest::load_index;
use crate::output::scan::build;
use crate::output::{policy_report, sarif, table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
    Policyreport,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Folders or files of manifests, scanner reports, SBOMs, KEV and EPSS files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Findings listed per application.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub fn run(args: &ScanArgs) -> Result<ExitCode, CliError> {
    let (index, summary) = load_index(args.policy.config(), &args.paths)?;
    let now = args.policy.now();
    let text = match args.format {
        ScanFormat::Table => table::scan(&build(&index, &summary, now, args.top)),
        ScanFormat::Json => serde_json::to_string_pretty(&build(&index, &summary, now, args.top))? + "\n",
        ScanFormat::Sarif => {
            serde_json::to_string_pretty(&sarif::render(&build(&index, &summary, now, args.top)))? + "\n"
        }
        ScanFormat::Policyreport => {
            let mut s = String::new();
            for r in policy_report::render(&index, now) {
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
