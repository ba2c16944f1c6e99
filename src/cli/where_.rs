//! `stance where QUERY --state DIR...`: the blast radius of a package, a vulnerability or an
//! image — every artifact containing it, the workloads running those, their applications,
//! owners and exposure, ranked by contextual risk ([`stance_core::blast_radius`]).

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{CliError, PolicyArgs, print};
use crate::ingest::load_index;
use stance_core::blast_radius::{self, BlastRadius, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhereFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct WhereArgs {
    /// A package URL with an optional range (pkg:maven/org.apache.logging.log4j/log4j-core@<2.17.1), a
    /// package name (log4j-core), a vulnerability id (CVE-2021-44228, GHSA-…) or an image (nginx:1.25).
    pub query: String,
    /// Cluster state: manifests, reports, SBOMs (files or folders; several after one --state,
    /// or --state repeated).
    #[arg(long = "state", required = true, num_args = 1..)]
    pub state: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = WhereFormat::Table)]
    pub format: WhereFormat,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Exit codes: 0 answered (found or not), 2 an unreadable query or path.
pub fn run(args: &WhereArgs) -> Result<ExitCode, CliError> {
    let query = Query::parse(&args.query).map_err(|e| CliError::Usage(e.to_string()))?;
    let (index, summary) = load_index(args.policy.config(), &args.state)?;
    let answer = blast_radius::search(&index, &query, None, args.policy.now());
    match args.format {
        WhereFormat::Json => print(&(serde_json::to_string_pretty(&answer)? + "\n"))?,
        WhereFormat::Table => print(&table(&answer))?,
    }
    for w in &summary.warnings {
        eprintln!("warning: {}: {}", w.origin, w.message);
    }
    Ok(ExitCode::SUCCESS)
}

/// The answer for a terminal.
pub fn table(a: &BlastRadius) -> String {
    let mut s = format!(
        "{} ({}): {} artifacts, {} workloads, {} applications\n",
        a.query,
        a.kind,
        a.artifacts.len(),
        a.workloads,
        a.applications
    );
    if a.artifacts.is_empty() {
        s.push_str("not found in any SBOM, scan report or running workload of the state\n");
    }
    for h in &a.artifacts {
        let _ = writeln!(
            s,
            "\nrisk {:<3} {}{}",
            h.risk_score,
            h.artifact,
            if h.workloads.is_empty() { " (runs nowhere)" } else { "" }
        );
        for m in &h.matched {
            let _ = writeln!(s, "  matched: {m}");
        }
        for u in &h.undecided {
            let _ = writeln!(s, "  undecided: {u}");
        }
        for f in h.findings.iter().take(10) {
            let fix = f.fixed_version.as_deref().map(|v| format!(", fixed in {v}")).unwrap_or_default();
            let kev = if f.known_exploited { ", known exploited" } else { "" };
            let vex = f.vex.as_deref().map(|v| format!(", VEX {v}")).unwrap_or_default();
            let pkg = f.package.as_deref().map(|p| format!(" in {p}")).unwrap_or_default();
            let _ = writeln!(s, "  finding: {} {}{pkg}{fix}{kev}{vex}", f.id, f.severity);
        }
        if h.findings.len() > 10 {
            let _ = writeln!(s, "  … and {} more findings (--format json lists all)", h.findings.len() - 10);
        }
        for w in &h.workloads {
            let app = format!("{}/{}{}", w.namespace, w.app, if w.inferred { " (inferred)" } else { "" });
            let excepted =
                if w.excepted.is_empty() { String::new() } else { format!(", excepted: {}", w.excepted.join(" ")) };
            let _ = writeln!(
                s,
                "  risk {:<3} {}  app {app}  owner {}  exposure {}  criticality {}{excepted}",
                w.risk_score,
                w.workload,
                w.owner.as_deref().unwrap_or("-"),
                w.exposure,
                w.criticality
            );
        }
    }
    s
}
