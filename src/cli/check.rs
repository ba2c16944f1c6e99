//! `stance check -f MANIFEST... --state DIR...`: the admission verdict, offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{CliError, PolicyArgs, print};
use crate::ingest::{KubeObject, load_paths_with};
use stance_core::model::Workload;
use stance_core::policy::{Verdict, evaluate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Manifests to check (files or folders; several after one -f, or -f repeated); their
    /// workloads are evaluated, their other objects (AppPostures, Services, policies,
    /// exceptions) join the state.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub manifests: Vec<PathBuf>,
    /// Cluster state: policies, exceptions, AppPostures, running workloads, reports (files
    /// or folders; several after one --state, or --state repeated).
    #[arg(long = "state", num_args = 1..)]
    pub state: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checked {
    workload: String,
    decision: &'static str,
    #[serde(flatten)]
    verdict: Verdict,
}

/// Exit codes: 0 every workload allowed, 1 some denied, 2 unreadable input.
pub fn run(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let reader = args.policy.reader();
    let state = load_paths_with(&args.state, &reader)?;
    let mut manifests = load_paths_with(&args.manifests, &reader)?;
    for w in &state.warnings {
        eprintln!("warning: state {}: {}", w.origin, w.message);
    }
    if !manifests.warnings.is_empty() {
        for w in &manifests.warnings {
            eprintln!("error: {}: {}", w.origin, w.message);
        }
        return Err(CliError::Usage(format!(
            "{} manifest document(s) could not be read; fix them so every workload can be checked",
            manifests.warnings.len()
        )));
    }
    let (mut index, notes) = state.into_index_with_warnings(args.policy.config());
    for w in &notes {
        eprintln!("warning: state {}: {}", w.origin, w.message);
    }
    let mut workloads: Vec<Workload> = Vec::new();
    for o in std::mem::take(&mut manifests.objects) {
        match o {
            KubeObject::Workload(w) => workloads.push(w),
            other => index.apply_object(other),
        }
    }
    for (i, r) in std::mem::take(&mut manifests.reports).into_iter().enumerate() {
        for w in index.apply_report(&format!("{}#m{i}", r.source.origin), r) {
            eprintln!("warning: {}: {}", w.origin, w.message);
        }
    }
    // The running revisions (for `newRiskOnly`) are those in the state, before the change.
    let old: Vec<Option<Workload>> =
        workloads.iter().map(|w| index.workload(w.kind, &w.namespace, &w.name).map(|o| (**o).clone())).collect();
    for w in &workloads {
        index.apply_workload(w.clone());
    }
    index.refresh();
    let now = args.policy.now();
    let checked: Vec<Checked> = workloads
        .iter()
        .zip(&old)
        .map(|(w, old)| {
            let verdict = evaluate(w, old.as_ref(), &index, now);
            Checked { workload: w.object_ref().to_string(), decision: verdict.decision(), verdict }
        })
        .collect();
    let denied = checked.iter().filter(|c| !c.verdict.allowed()).count();
    match args.format {
        CheckFormat::Json => print(&(serde_json::to_string_pretty(&checked)? + "\n"))?,
        CheckFormat::Text => print(&text(&checked, denied))?,
    }
    Ok(if denied > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn text(checked: &[Checked], denied: usize) -> String {
    let mut s = String::new();
    for c in checked {
        s.push_str(&format!("{:<6} {}\n", c.decision.to_uppercase(), c.workload));
        if let Some(e) = &c.verdict.exempt {
            s.push_str(&format!("       {e}\n"));
        }
        for v in c.verdict.denials() {
            s.push_str(&format!("  deny:  {}\n", v.line()));
        }
        for v in c.verdict.warnings() {
            s.push_str(&format!("  warn:  {}\n", v.line()));
        }
        for v in c.verdict.audits() {
            let label = if v.is_open() { "audit:" } else { "excepted:" };
            s.push_str(&format!("  {label} {}\n", v.line()));
        }
    }
    let warned = checked.iter().filter(|c| c.decision == "warn").count();
    if checked.is_empty() {
        s.push_str("no workloads (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs) in the manifests\n");
    } else {
        s.push_str(&format!(
            "{} workloads checked: {} denied, {} allowed ({} with warnings)\n",
            checked.len(),
            denied,
            checked.len() - denied,
            warned
        ));
    }
    s
}
