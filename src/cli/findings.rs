//! `stance findings FILE...`: normalized, de-duplicated findings of report files.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use super::{CliError, PolicyArgs, print};
use crate::ingest::load_index_with;
use crate::output::findings::FindingLine;
use crate::output::table;
use stance_core::risk::{self, RiskContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Report files or folders (Trivy, Trivy Operator, Grype, Snyk, OSV-Scanner, npm audit, Semgrep, Gitleaks,
    /// Checkov, Kubescape, CycloneDX, SPDX, SARIF, ZAP, PolicyReports; KEV/EPSS enrich).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// `json` prints one JSON object per line.
    #[arg(long, value_enum, default_value_t = FindingsFormat::Json)]
    pub format: FindingsFormat,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub fn run(args: &FindingsArgs) -> Result<ExitCode, CliError> {
    let (index, summary) = load_index_with(args.policy.config(), &args.paths, &args.policy.reader())?;
    let warnings = summary.warnings;
    let ctx = RiskContext::unknown(args.policy.now());
    // Every finding once: the trusted ones, and what each namespace's own evidence adds
    // (report ConfigMaps among the files keep their in-cluster meaning).
    let tenants = index.tenant_namespaces();
    let views = index.artifacts().chain(tenants.iter().flat_map(|ns| index.artifacts_for(ns)));
    let mut seen = HashSet::new();
    let mut lines: Vec<FindingLine> = views
        .flat_map(|(_, a)| a.findings.iter())
        .filter(|f| seen.insert(Arc::as_ptr(f)))
        .map(|f| FindingLine::new(f, &risk::score(f, &ctx)))
        .collect();
    lines.sort_by(|a, b| b.risk_score.cmp(&a.risk_score).then_with(|| (&a.rule_id, &a.id).cmp(&(&b.rule_id, &b.id))));
    let text = match args.format {
        FindingsFormat::Table => table::findings(&lines),
        FindingsFormat::Json => {
            let mut s = String::new();
            for l in &lines {
                s.push_str(&serde_json::to_string(l)?);
                s.push('\n');
            }
            s
        }
    };
    print(&text)?;
    for w in &warnings {
        eprintln!("warning: {}: {}", w.origin, w.message);
    }
    Ok(ExitCode::SUCCESS)
}
