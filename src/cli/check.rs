//! `stance check -f MANIFEST... --state DIR...`: the admission verdict, offline.
//!
//! Each workload of the manifests is a request to the core's one triage
//! (`stance_core::policy::admission`): CREATE when the state runs no workload of that kind
//! and name, UPDATE of the running revision otherwise, from a requester nobody vouches for
//! (never a controller) — so it is judged exactly as admission would judge a user applying it.
//!
//! The gate fails loudly when it cannot give admission's verdict. Exit codes:
//! - 0: every workload would be admitted (warnings are printed);
//! - 1: at least one would be denied;
//! - 2: a usage error, an unreadable path, or input it cannot judge, each named on standard
//!   error with its file, object and field: a GuardrailPolicy or RiskException Stance would
//!   ignore as invalid (state or manifests), a document it cannot read, a manifest of a kind
//!   that may run containers but Stance cannot read, a namespaced manifest without
//!   `metadata.namespace` and no `--namespace`, a workload's Namespace missing from the
//!   state and manifests when a policy's `namespaceSelector` would read its labels, evidence (a scan report, SBOM, VEX document
//!   or KEV/EPSS feed) among the manifests — the change's author's word, which belongs in
//!   `--state` when it is trusted. `--allow-unjudgeable` reports these as warnings and judges
//!   the rest (evidence among the manifests is still not applied).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use super::{CliError, PolicyArgs, print};
use crate::ingest::kubernetes::{self, is_cluster_scoped, runs_no_containers};
use crate::ingest::{KubeObject, Loaded, Parsed, Reader, Warning, for_each_file, for_each_raw_file};
use stance_core::guardrail::{CompileError, RiskExceptionState};
use stance_core::ingest::config_map::object_name;
use stance_core::ingest::document;
use stance_core::model::Workload;
use stance_core::policy::Verdict;
use stance_core::policy::admission::{self, AdmissionFacts, Skip};

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
    /// The namespace of manifests that do not state one, as `kubectl apply -n NS` or
    /// `helm template -n NS` would apply them. Without it, such a manifest is an error.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Report input the gate cannot judge (invalid policies or exceptions, unreadable
    /// documents, kinds it cannot read, manifests without a namespace) as warnings and judge
    /// the rest, instead of failing with exit code 2.
    #[arg(long)]
    pub allow_unjudgeable: bool,
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
    /// Why admission would not judge it (`exempt namespace`, `no change guardrails judge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_judged: Option<&'static str>,
    #[serde(flatten)]
    verdict: Verdict,
}

/// Input the gate cannot judge as admission would: where, which object, which field and why.
#[derive(Clone, Debug)]
struct Unjudgeable {
    origin: String,
    /// `Kind name`, empty for a whole document.
    object: String,
    /// The field at fault (`spec.rules[1].name`), empty when the whole object is.
    field: String,
    problem: String,
}

impl fmt::Display for Unjudgeable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        if !self.object.is_empty() {
            write!(f, "{}: ", self.object)?;
        }
        if self.field.is_empty() || self.problem.starts_with(&self.field) {
            write!(f, "{}", self.problem)
        } else if self.problem.starts_with("is ") {
            write!(f, "{} {}", self.field, self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

impl Unjudgeable {
    fn document(w: Warning) -> Unjudgeable {
        Unjudgeable { origin: w.origin, object: String::new(), field: String::new(), problem: w.message }
    }

    fn invalid(origin: &str, object: String, e: &CompileError, ignored: &str) -> Unjudgeable {
        Unjudgeable {
            origin: origin.to_string(),
            object,
            field: e.field.clone(),
            problem: format!("{} ({ignored})", e.problem),
        }
    }
}

/// Everything read, and what could not be judged.
#[derive(Default)]
struct Input {
    loaded: Loaded,
    problems: Vec<Unjudgeable>,
    /// Documents refused by design (a report channel carrying something else, a budget
    /// exceeded): admission refuses them too, so its verdict does not depend on them.
    refused: Vec<Warning>,
    /// Where each RiskException was read, for problems found once the index bounds it.
    exception_origins: BTreeMap<(String, String), String>,
}

impl Input {
    /// Sorts one file's warnings: refusals are notes, anything else makes the input
    /// unjudgeable.
    fn note_warnings(&mut self, warnings: Vec<Warning>) {
        for w in warnings {
            if w.refusal.is_some() {
                self.refused.push(w);
            } else {
                self.problems.push(Unjudgeable::document(w));
            }
        }
    }

    /// Takes the evidence out of one manifest file: scan reports, SBOMs, VEX documents and
    /// KEV/EPSS feeds among the manifests are the word of the change's author, which
    /// admission would not take as the cluster's (a tenant's VEX is ignored, a newer "clean"
    /// report of an image cannot replace the trusted one). They are never applied; each is a
    /// problem naming the file, so the gate fails unless `--allow-unjudgeable`.
    fn refuse_evidence(&mut self, origin: &str, parsed: Vec<Parsed>) -> Vec<Parsed> {
        let mut kept = Vec::with_capacity(parsed.len());
        for p in parsed {
            let what = match &p {
                Parsed::Report(r) if r.vex.is_some() => "a VEX document",
                Parsed::Report(_) => "a scan report or SBOM",
                Parsed::Kev(_) => "a KEV catalog",
                Parsed::Epss(_) => "an EPSS feed",
                Parsed::Object(_) | Parsed::Ignored(_) => {
                    kept.push(p);
                    continue;
                }
            };
            self.problems.push(Unjudgeable {
                origin: origin.to_string(),
                object: String::new(),
                field: String::new(),
                problem: format!(
                    "is {what} among the manifests: evidence given with -f is the change author's word, which \
                     admission does not take as the cluster's; give trusted evidence with --state (it is not applied)"
                ),
            });
        }
        kept
    }

    /// Notes the invalid GuardrailPolicies and RiskExceptions among one file's objects.
    fn note_stance_objects(&mut self, origin: &str, parsed: &[Parsed]) {
        for p in parsed {
            let Parsed::Object(o) = p else { continue };
            match &**o {
                KubeObject::Policy(entry) => {
                    if let Err(e) = &entry.compiled {
                        let object = format!("GuardrailPolicy {}", entry.name);
                        let why = "Stance ignores an invalid policy, so the gate cannot judge as it means";
                        self.problems.push(Unjudgeable::invalid(origin, object, e, why));
                    }
                }
                KubeObject::Exception(entry) => {
                    let key = (entry.namespace.to_string(), entry.name.to_string());
                    self.exception_origins.insert(key, origin.to_string());
                    if let Err(e) = &entry.compiled {
                        let object = format!("RiskException {}/{}", entry.namespace, entry.name);
                        let why = "Stance ignores an invalid exception";
                        self.problems.push(Unjudgeable::invalid(origin, object, e, why));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Reads the state: every document, noting invalid Stance objects and unreadable documents.
fn read_state(args: &CheckArgs, reader: &Reader, input: &mut Input) -> Result<(), CliError> {
    for_each_file(&args.state, reader, |origin, parsed, warnings| {
        input.note_warnings(warnings);
        input.note_stance_objects(origin, &parsed);
        input.loaded.add(parsed);
        input.loaded.files += 1;
    })?;
    Ok(())
}

/// Reads the manifests: objects without a namespace get `--namespace` or are refused; kinds
/// that may run containers but cannot be read are refused.
fn read_manifests(args: &CheckArgs, reader: &Reader, manifests: &mut Input) -> Result<(), CliError> {
    for_each_raw_file(&args.manifests, reader, |origin, raw, warnings| {
        manifests.note_warnings(warnings);
        let mut converted = Vec::new();
        for doc in raw {
            let document::Parsed::Kubernetes { origin: doc_origin, object } = doc else {
                let mut parsed = Vec::new();
                let mut warnings = Vec::new();
                crate::ingest::convert(vec![doc], &mut parsed, &mut warnings);
                manifests.note_warnings(warnings);
                converted.extend(parsed);
                continue;
            };
            manifest(args, &doc_origin, *object, &mut converted, &mut manifests.problems, &mut manifests.loaded);
        }
        manifests.note_stance_objects(origin, &converted);
        let converted = manifests.refuse_evidence(origin, converted);
        manifests.loaded.add(converted);
        manifests.loaded.files += 1;
    })?;
    Ok(())
}

/// One Kubernetes object of the manifests (see [`read_manifests`]).
fn manifest(
    args: &CheckArgs,
    origin: &str,
    mut object: Value,
    out: &mut Vec<Parsed>,
    problems: &mut Vec<Unjudgeable>,
    loaded: &mut Loaded,
) {
    let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let what = format!("{kind} {}", object_name(&object));
    let stated =
        object.pointer("/metadata/namespace").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string);
    let mut unplaced = false;
    if !is_cluster_scoped(&kind) {
        match (stated.as_deref(), &args.namespace) {
            (None, Some(ns)) => {
                if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("namespace".into(), Value::from(ns.as_str()));
                }
            }
            (None, None) => unplaced = true,
            (Some(stated), Some(ns)) if stated != ns => problems.push(Unjudgeable {
                origin: origin.to_string(),
                object: what.clone(),
                field: "metadata.namespace".into(),
                problem: format!("is {stated:?}, not the --namespace {ns:?} (kubectl apply -n {ns} refuses it)"),
            }),
            _ => {}
        }
    }
    let mut parsed = Vec::new();
    let mut warnings = Vec::new();
    kubernetes::parse_object(origin, &object, &mut parsed, &mut warnings);
    problems.extend(warnings.into_iter().map(Unjudgeable::document));
    for p in parsed {
        match p {
            Parsed::Ignored(kind) if runs_no_containers(&api_version, &kind) => {
                *loaded.ignored.entry(kind).or_default() += 1;
            }
            Parsed::Ignored(_) => problems.push(Unjudgeable {
                origin: origin.to_string(),
                object: what.clone(),
                field: "kind".into(),
                problem: format!(
                    "Stance cannot read a {api_version} {kind}, which may run containers (admission would judge \
                     the Pods it creates, which this gate cannot see): render it to the workloads it creates, or \
                     pass --allow-unjudgeable"
                ),
            }),
            Parsed::Object(_) if unplaced => problems.push(Unjudgeable {
                origin: origin.to_string(),
                object: what.clone(),
                field: "metadata.namespace".into(),
                problem: "is not set, so the gate would have to guess where it is applied: set it, or give \
                          --namespace NS as you would to kubectl apply -n NS"
                    .into(),
            }),
            other => out.push(other),
        }
    }
}

/// The namespaces of the manifests' workloads that neither the state nor the manifests
/// hold, when a valid policy reads namespace labels
/// ([`stance_core::guardrail::Policy::selects_by_namespace_labels`]): admission reads the real
/// Namespace's labels, so without them the gate would judge by guessing none.
fn unknown_namespaces(index: &stance_core::index::PostureIndex, workloads: &[Workload]) -> Vec<Unjudgeable> {
    let reading: Vec<&str> = index
        .policies()
        .filter_map(|p| p.compiled.as_ref().ok())
        .filter(|p| p.selects_by_namespace_labels())
        .map(|p| &*p.name)
        .collect();
    if reading.is_empty() {
        return Vec::new();
    }
    let missing: std::collections::BTreeSet<&str> =
        workloads.iter().map(|w| &*w.namespace).filter(|ns| !index.has_namespace(ns)).collect();
    missing
        .into_iter()
        .map(|ns| Unjudgeable {
            origin: "state".into(),
            object: format!("Namespace {ns}"),
            field: String::new(),
            problem: format!(
                "is neither in --state nor among the manifests, and the namespaceSelector of {} {} on its \
                 labels: add it (kubectl get namespace {ns} -o yaml) to --state",
                reading.join(", "),
                if reading.len() == 1 { "depends" } else { "depend" },
            ),
        })
        .collect()
}

/// Exit codes: see the module documentation.
pub fn run(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let reader = args.policy.reader();
    let mut state = Input { loaded: Loaded::with_reader(reader.clone()), ..Input::default() };
    read_state(args, &reader, &mut state)?;
    let mut manifests = Input::default();
    read_manifests(args, &reader, &mut manifests)?;
    for w in state.refused.iter().chain(&manifests.refused) {
        eprintln!("warning: {}: {}", w.origin, w.message);
    }
    let mut problems = std::mem::take(&mut state.problems);
    problems.append(&mut manifests.problems);
    let mut exception_origins = std::mem::take(&mut state.exception_origins);
    exception_origins.append(&mut manifests.exception_origins);

    let (mut index, notes) = std::mem::take(&mut state.loaded).into_index_with_warnings(args.policy.config());
    for w in &notes {
        eprintln!("warning: state {}: {}", w.origin, w.message);
    }
    let mut workloads: Vec<Workload> = Vec::new();
    for o in std::mem::take(&mut manifests.loaded.objects) {
        match o {
            KubeObject::Workload(w) => workloads.push(w),
            other => index.apply_object(other),
        }
    }
    // The running revisions (the oldObject of an UPDATE) are those in the state, before the change.
    let old: Vec<Option<Workload>> =
        workloads.iter().map(|w| index.workload(w.kind, &w.namespace, &w.name).map(|o| (**o).clone())).collect();
    for w in &workloads {
        index.apply_workload(w.clone());
    }
    index.refresh();
    let now = args.policy.now();
    // Exceptions the index keeps as invalid only once bounded (lifetime) or at `now`.
    for e in index.exceptions() {
        if let (RiskExceptionState::Invalid, Some(reason)) = e.state(now)
            && e.compiled.is_ok()
        {
            let key = (e.namespace.to_string(), e.name.to_string());
            problems.push(Unjudgeable {
                origin: exception_origins.get(&key).cloned().unwrap_or_default(),
                object: format!("RiskException {}/{}", e.namespace, e.name),
                field: "spec.expires".into(),
                problem: format!("{reason} (Stance ignores an invalid exception)"),
            });
        }
    }
    problems.extend(unknown_namespaces(&index, &workloads));
    let checked: Vec<Checked> = workloads
        .iter()
        .zip(&old)
        .map(|(w, old)| {
            let (verdict, not_judged) = match admission::verdict(&AdmissionFacts::change(w, old.as_ref()), &index, now)
            {
                Ok(v) => (v, None),
                Err(skip) => (skipped_verdict(w, skip), Some(skip.as_str())),
            };
            Checked { workload: w.object_ref().to_string(), decision: verdict.decision(), not_judged, verdict }
        })
        .collect();
    let label = if args.allow_unjudgeable { "warning" } else { "error" };
    for p in &problems {
        eprintln!("{label}: {p}");
    }
    let denied = checked.iter().filter(|c| !c.verdict.allowed()).count();
    match args.format {
        CheckFormat::Json => print(&(serde_json::to_string_pretty(&checked)? + "\n"))?,
        CheckFormat::Text => print(&text(&checked, denied))?,
    }
    if !problems.is_empty() && !args.allow_unjudgeable {
        eprintln!(
            "error: the gate cannot give admission's verdict: {} problem{} above (exit code 2); fix them, or pass \
             --allow-unjudgeable to judge the rest",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(2));
    }
    Ok(if denied > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The verdict of a workload admission would not judge: empty, with the exemption said.
fn skipped_verdict(w: &Workload, skip: Skip) -> Verdict {
    let exempt =
        (skip == Skip::ExemptNamespace).then(|| format!("namespace {} is exempt from guardrails", w.namespace));
    Verdict { violations: Vec::new(), exempt, context: Vec::new() }
}

fn text(checked: &[Checked], denied: usize) -> String {
    let mut s = String::new();
    for c in checked {
        s.push_str(&format!("{:<6} {}\n", c.decision.to_uppercase(), c.workload));
        if let Some(e) = &c.verdict.exempt {
            s.push_str(&format!("       {e}\n"));
        } else if let Some(why) = c.not_judged {
            s.push_str(&format!("       not judged: {why}\n"));
        }
        for note in &c.verdict.context {
            s.push_str(&format!("  note:  {note}\n"));
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
