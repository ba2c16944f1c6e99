//! The admission decision as a pure, synchronous function: the bytes of an AdmissionReview,
//! the index and the time in; the HTTP status, the answer's bytes and an [`Outcome`] (for
//! metrics and the audit hand-off) out. No I/O, no locks, no clock, no panics on any input.
//!
//! This adapter reads the review and decides nothing itself:
//! - Pods and every pod controller (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//!   CronJob), and the `EphemeralContainers` objects of `pods/ephemeralcontainers` on
//!   Kubernetes 1.16–1.22, are converted into workloads and handed to the core's
//!   [`triage`](stance_core::policy::admission::triage) — which requests are judged, on what,
//!   and why the others are not (operation, exempt namespace, subresource, deletion,
//!   unchanged update, controller-created; see `stance_core::policy::admission`) — then
//!   judged by [`judge_policies_within`], the same verdict as `stance check` and the operator, with
//!   only the messages the answer shows written.
//! - Stance's GuardrailPolicies and RiskExceptions, by the index's own compilers.
//! - Other kinds are admitted without evaluation (and said so in the [`Outcome`]).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::audit::WORDED_VIOLATIONS;
use super::review::{self, RequestIn, ReviewIn, StatusOut};
use super::stance_objects;
use crate::ingest::kubernetes::{DEFAULT_NAMESPACE, workload_from_value};
use stance_core::index::PostureIndex;
use stance_core::ingest::FormatError;
use stance_core::model::{ObjectRef, Workload, WorkloadKind};
use stance_core::names::GROUP;
use stance_core::policy::admission::{self, AdmissionFacts, Operation, Triage};
use stance_core::policy::{Budget, Judged, Unlimited, Violation, judge_policies_within};

/// Limits of what an answer carries.
#[derive(Clone, Debug)]
pub struct HandlerOptions {
    /// Longest denial `status.message`, in bytes.
    pub message_limit: usize,
    /// Longest single warning, in bytes.
    pub warning_limit: usize,
    /// Most warnings in one answer.
    pub max_warnings: usize,
}

impl Default for HandlerOptions {
    fn default() -> Self {
        HandlerOptions {
            message_limit: review::MAX_MESSAGE_BYTES,
            warning_limit: review::MAX_WARNING_BYTES,
            max_warnings: review::MAX_WARNINGS,
        }
    }
}

/// Why a request could not be judged.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BadRequest {
    InvalidJson,
    WrongApiVersion,
    WrongKind,
    MissingRequest,
    MissingUid,
    /// A known kind whose `object` is missing or not that kind (answered with an
    /// AdmissionResponse that refuses it: Stance cannot vouch for what it cannot read).
    InvalidObject,
    /// More than the body limit (answered 413 by the server, before the handler).
    BodyTooLarge,
}

impl BadRequest {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            BadRequest::InvalidJson => "invalid_json",
            BadRequest::WrongApiVersion => "wrong_api_version",
            BadRequest::WrongKind => "wrong_kind",
            BadRequest::MissingRequest => "missing_request",
            BadRequest::MissingUid => "missing_uid",
            BadRequest::InvalidObject => "invalid_object",
            BadRequest::BodyTooLarge => "body_too_large",
        }
    }
}

/// The answer given.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Allowed with warnings.
    Warn,
    Deny,
    /// Not judged: the request itself was wrong.
    Invalid(BadRequest),
}

impl Decision {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Deny => "deny",
            Decision::Invalid(_) => "invalid",
        }
    }
}

/// What happened to one request.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub decision: Decision,
    /// The object's kind as a bounded metric label: a workload kind, `GuardrailPolicy`,
    /// `RiskException`, `other` or `unknown` (not read).
    pub kind: &'static str,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, `other` or `unknown` (not read).
    pub operation: &'static str,
    /// Why guardrails were not evaluated, when they were not (see the module documentation).
    pub skipped: Option<&'static str>,
    pub dry_run: bool,
    pub uid: String,
    pub user: String,
    /// The evaluated workload.
    pub workload: Option<ObjectRef>,
    /// Every violation of the verdict (blocking or not). Only the messages an audit record
    /// publishes are written (the first [`WORDED_VIOLATIONS`] non-blocking ones); the
    /// answer's own lines are written from the judgement.
    pub violations: Vec<Violation>,
}

impl Outcome {
    fn new(decision: Decision) -> Outcome {
        Outcome {
            decision,
            kind: "unknown",
            operation: "unknown",
            skipped: None,
            dry_run: false,
            uid: String::new(),
            user: String::new(),
            workload: None,
            violations: Vec::new(),
        }
    }

    /// A request that could not be evaluated (the caller sets the decision).
    pub(super) fn failed(uid: String) -> Outcome {
        let mut o = Outcome::new(Decision::Deny);
        o.uid = uid;
        o.skipped = Some("evaluation failed");
        o
    }

    /// The record for the operator: admitted, not a dry run, with non-blocking violations.
    pub fn audit_record(&self, at: Timestamp) -> Option<super::AuditRecord> {
        if self.dry_run || !matches!(self.decision, Decision::Allow | Decision::Warn) {
            return None;
        }
        let workload = self.workload.clone()?;
        let violations: Vec<Violation> = self.violations.iter().filter(|v| !v.blocks()).cloned().collect();
        if violations.is_empty() {
            return None;
        }
        Some(super::AuditRecord {
            admitted: true,
            uid: self.uid.clone(),
            operation: self.operation,
            user: self.user.clone(),
            // The handler cannot know who called; the service marks what TLS verified.
            user_verified: false,
            workload,
            violations,
            at,
        })
    }
}

impl Outcome {
    /// The record of a denied request for the audit trail (not a dry run; a workload
    /// judged): its violations as evaluated, the blocking ones among them.
    pub fn denial_record(&self, at: Timestamp) -> Option<super::AuditRecord> {
        if self.dry_run || self.decision != Decision::Deny || self.violations.is_empty() {
            return None;
        }
        Some(super::AuditRecord {
            admitted: false,
            uid: self.uid.clone(),
            operation: self.operation,
            user: self.user.clone(),
            user_verified: false,
            workload: self.workload.clone()?,
            violations: self.violations.clone(),
            at,
        })
    }
}

/// The handler's result: what to send and what happened.
#[derive(Clone, Debug)]
pub struct Handled {
    pub status: u16,
    /// JSON: an AdmissionReview answer (also for 400s, so a human with curl sees why).
    pub body: Vec<u8>,
    pub outcome: Outcome,
}

/// What the request is about.
enum Target {
    Workload(WorkloadTarget),
    Policy,
    Exception,
    Other,
}

/// A workload request: a workload kind, or the `EphemeralContainers` object that the
/// `pods/ephemeralcontainers` subresource carries on Kubernetes 1.16–1.22 (1.23 and later
/// send the Pod itself).
#[derive(Copy, Clone)]
enum WorkloadTarget {
    Kind(WorkloadKind),
    EphemeralContainers,
}

impl WorkloadTarget {
    fn kind(self) -> WorkloadKind {
        match self {
            WorkloadTarget::Kind(k) => k,
            WorkloadTarget::EphemeralContainers => WorkloadKind::Pod,
        }
    }

    fn label(self) -> &'static str {
        match self {
            WorkloadTarget::Kind(k) => k.as_str(),
            WorkloadTarget::EphemeralContainers => "EphemeralContainers",
        }
    }

    /// The object as a workload. An `EphemeralContainers` object is read as its Pod holding
    /// only the ephemeral containers (all that the subresource can change).
    fn read(self, object: &Value, namespace: &str) -> Result<Workload, FormatError> {
        match self {
            WorkloadTarget::Kind(k) => workload_from_value(k, object, namespace),
            WorkloadTarget::EphemeralContainers => {
                let containers = object.get("ephemeralContainers").cloned().unwrap_or(Value::Null);
                let pod = json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": object.get("metadata").cloned().unwrap_or(Value::Null),
                    "spec": {"containers": [], "ephemeralContainers": containers},
                });
                workload_from_value(WorkloadKind::Pod, &pod, namespace)
            }
        }
    }
}

impl Target {
    fn of(gvk: &review::GroupVersionKind) -> Target {
        match (gvk.group.as_str(), gvk.kind.as_str()) {
            (GROUP, "GuardrailPolicy") => Target::Policy,
            (GROUP, "RiskException") => Target::Exception,
            ("", "EphemeralContainers") => Target::Workload(WorkloadTarget::EphemeralContainers),
            ("" | "apps" | "batch", kind) => match WorkloadKind::parse(kind) {
                Some(k) if group_of(k) == gvk.group => Target::Workload(WorkloadTarget::Kind(k)),
                _ => Target::Other,
            },
            _ => Target::Other,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Target::Workload(t) => t.label(),
            Target::Policy => "GuardrailPolicy",
            Target::Exception => "RiskException",
            Target::Other => "other",
        }
    }
}

fn group_of(k: WorkloadKind) -> &'static str {
    match k {
        WorkloadKind::Pod => "",
        WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::DaemonSet | WorkloadKind::ReplicaSet => {
            "apps"
        }
        WorkloadKind::Job | WorkloadKind::CronJob => "batch",
    }
}

fn operation_label(op: &str) -> &'static str {
    match op {
        "CREATE" => "CREATE",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "CONNECT" => "CONNECT",
        _ => "other",
    }
}

/// Answers one AdmissionReview (see the module documentation).
pub fn handle(body: &[u8], index: &PostureIndex, now: Timestamp, opts: &HandlerOptions) -> Handled {
    match handle_within(body, index, now, opts, &Unlimited) {
        Ok(h) => h,
        Err(never) => match never {},
    }
}

/// [`handle`] that stops with `budget`'s `Err` when the budget runs out during the
/// guardrail evaluation (asked before each policy: [`judge_policies_within`]). The service
/// answers inline within a small budget and re-runs a stopped review on its blocking pool.
pub fn handle_within<B: Budget>(
    body: &[u8],
    index: &PostureIndex,
    now: Timestamp,
    opts: &HandlerOptions,
    budget: &B,
) -> Result<Handled, B::Exhausted> {
    let req = match envelope(body) {
        Ok(r) => r,
        Err((reason, message)) => return Ok(bad_request(reason, message)),
    };
    let target = Target::of(&req.kind);
    let mut outcome = Outcome::new(Decision::Allow);
    outcome.kind = target.label();
    outcome.operation = operation_label(&req.operation);
    outcome.dry_run = req.dry_run;
    outcome.uid = req.uid.clone();
    outcome.user = req.user_info.username.clone();
    if !matches!(outcome.operation, "CREATE" | "UPDATE") {
        return Ok(allow_unjudged(outcome, "operation not judged"));
    }
    match target {
        Target::Workload(target) => workload(&req, target, index, now, opts, outcome, budget),
        Target::Policy => {
            let checked = stance_objects::check_policy(object_or_null(&req)).map(|()| vec![]);
            Ok(stance_object(&req, checked, opts, outcome))
        }
        Target::Exception => {
            let checked = stance_objects::check_exception(object_or_null(&req), now, index);
            Ok(stance_object(&req, checked, opts, outcome))
        }
        Target::Other => Ok(allow_unjudged(outcome, "kind not judged")),
    }
}

/// The benchmark baseline behind `POST /validate-noop`: reads the review exactly as
/// [`handle`] does (object included) and allows it without evaluating anything.
pub fn handle_noop(body: &[u8]) -> Handled {
    match envelope(body) {
        Ok(req) => {
            let mut outcome = Outcome::new(Decision::Allow);
            outcome.kind = Target::of(&req.kind).label();
            outcome.operation = operation_label(&req.operation);
            outcome.uid = req.uid.clone();
            outcome.skipped = Some("noop endpoint");
            Handled { status: 200, body: review::render(&req.uid, true, StatusOut::ok(), vec![]), outcome }
        }
        Err((reason, message)) => bad_request(reason, message),
    }
}

/// Reads and checks the AdmissionReview envelope.
fn envelope(body: &[u8]) -> Result<RequestIn, (BadRequest, String)> {
    let parsed: ReviewIn = serde_json::from_slice(body)
        .map_err(|e| (BadRequest::InvalidJson, format!("the body is not an AdmissionReview JSON document: {e}")))?;
    match parsed.api_version.as_deref() {
        Some(review::API_VERSION) => {}
        other => {
            return Err((
                BadRequest::WrongApiVersion,
                format!(
                    "apiVersion is {}; Stance serves {} (set admissionReviewVersions: [v1] in the \
                     ValidatingWebhookConfiguration)",
                    other.map_or_else(|| "missing".to_string(), |v| format!("{v:?}")),
                    review::API_VERSION
                ),
            ));
        }
    }
    if parsed.kind.as_deref() != Some(review::KIND) {
        let kind = parsed.kind.as_deref().map_or_else(|| "missing".to_string(), |k| format!("{k:?}"));
        return Err((BadRequest::WrongKind, format!("kind is {kind}; expected {}", review::KIND)));
    }
    let req = parsed
        .request
        .ok_or_else(|| (BadRequest::MissingRequest, "the AdmissionReview has no request to answer".to_string()))?;
    if req.uid.is_empty() {
        return Err((BadRequest::MissingUid, "request.uid is missing or empty".into()));
    }
    Ok(req)
}

/// HTTP 400 with an AdmissionReview body that says why.
pub fn bad_request(reason: BadRequest, message: String) -> Handled {
    let status = if reason == BadRequest::BodyTooLarge { 413 } else { 400 };
    let body = review::render("", false, StatusOut::failure(status, "BadRequest", message), vec![]);
    Handled { status, body, outcome: Outcome::new(Decision::Invalid(reason)) }
}

fn object_or_null(req: &RequestIn) -> &Value {
    req.object.as_ref().map_or(&Value::Null, |o| &o.0)
}

fn allow_unjudged(mut outcome: Outcome, why: &'static str) -> Handled {
    outcome.decision = Decision::Allow;
    outcome.skipped = Some(why);
    let body = review::render(&outcome.uid, true, StatusOut::ok(), vec![]);
    Handled { status: 200, body, outcome }
}

/// A refusal of an object Stance cannot read (still an AdmissionResponse: the API server
/// shows the message).
fn invalid_object(mut outcome: Outcome, message: String) -> Handled {
    outcome.decision = Decision::Invalid(BadRequest::InvalidObject);
    let body = review::render(&outcome.uid, false, StatusOut::failure(400, "BadRequest", message), vec![]);
    Handled { status: 200, body, outcome }
}

fn workload<B: Budget>(
    req: &RequestIn,
    target: WorkloadTarget,
    index: &PostureIndex,
    now: Timestamp,
    opts: &HandlerOptions,
    mut outcome: Outcome,
    budget: &B,
) -> Result<Handled, B::Exhausted> {
    let kind = target.kind();
    let Some(object) = req.object.as_ref().map(|o| &o.0).filter(|o| o.is_object()) else {
        return Ok(invalid_object(
            outcome,
            format!("Stance cannot judge this {}: request.object is missing", target.label()),
        ));
    };
    let namespace = req
        .namespace
        .as_deref()
        .or_else(|| object.pointer("/metadata/namespace").and_then(Value::as_str))
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE);
    // Operation, namespace and subresource first: most skipped requests are never read.
    let operation = Operation::parse(&req.operation).unwrap_or(Operation::Connect);
    let subresource = req.sub_resource.as_deref();
    if let Some(skip) = admission::triage_request(operation, subresource, namespace, kind, index) {
        return Ok(allow_unjudged(outcome, skip.as_str()));
    }
    let w = match target.read(object, namespace) {
        Ok(w) => w,
        Err(e) => {
            let message = format!("Stance cannot read this object as a {}: {e}", target.label());
            return Ok(invalid_object(outcome, review::truncate(&message, opts.message_limit)));
        }
    };
    outcome.workload = Some(w.object_ref());
    let old_value = req.old_object.as_ref().map(|o| &o.0).filter(|o| o.is_object());
    let old = match operation {
        Operation::Update => old_value.and_then(|o| target.read(o, namespace).ok()),
        _ => None,
    };
    let facts = AdmissionFacts {
        operation,
        subresource,
        namespace,
        requester: Some(req.user_info.username.as_str()).filter(|u| !u.is_empty()),
        object: &w,
        old: old.as_ref(),
        old_deleting: old_value.and_then(|o| o.pointer("/metadata/deletionTimestamp")).is_some_and(|t| !t.is_null()),
    };
    let judge = match admission::triage(&facts, index) {
        Triage::Skip(skip) => return Ok(allow_unjudged(outcome, skip.as_str())),
        Triage::Judge(j) => j,
    };
    let judgement = judge_policies_within(&judge.workload, judge.old, index, now, budget)?;
    // Only the messages shown are written (a verdict can hold dozens of violations).
    let warnings = review::warnings(
        judgement.warnings().map(Judged::line),
        judgement.warnings().count(),
        opts.warning_limit,
        opts.max_warnings,
    );
    let denials = judgement.denials().count();
    if denials == 0 {
        outcome.decision = if warnings.is_empty() { Decision::Allow } else { Decision::Warn };
        outcome.violations = judgement.into_violations(WORDED_VIOLATIONS);
        let body = review::render(&outcome.uid, true, StatusOut::ok(), warnings);
        return Ok(Handled { status: 200, body, outcome });
    }
    outcome.decision = Decision::Deny;
    let header = format!(
        "Stance guardrails deny {} ({denials} blocking violation{}):",
        outcome.workload.as_ref().map(ToString::to_string).unwrap_or_default(),
        if denials == 1 { "" } else { "s" }
    );
    let message = review::denial_message(&header, judgement.denials().map(Judged::line), denials, opts.message_limit);
    // A denied request is not audited: its violations only feed the metrics.
    outcome.violations = judgement.into_violations(0);
    let body = review::render(&outcome.uid, false, StatusOut::failure(403, "Forbidden", message), warnings);
    Ok(Handled { status: 200, body, outcome })
}

fn stance_object(
    req: &RequestIn,
    checked: Result<Vec<String>, stance_objects::Refusal>,
    opts: &HandlerOptions,
    mut outcome: Outcome,
) -> Handled {
    let what = format!(
        "{} {}",
        outcome.kind,
        req.object.as_ref().and_then(|o| o.0.pointer("/metadata/name")).and_then(Value::as_str).unwrap_or(&req.name)
    );
    match checked {
        Ok(warnings) => {
            outcome.decision = if warnings.is_empty() { Decision::Allow } else { Decision::Warn };
            let total = warnings.len();
            let warnings = review::warnings(warnings.into_iter(), total, opts.warning_limit, opts.max_warnings);
            let body = review::render(&outcome.uid, true, StatusOut::ok(), warnings);
            Handled { status: 200, body, outcome }
        }
        Err(e) => {
            outcome.decision = Decision::Deny;
            let message =
                review::truncate(&format!("{what} is invalid, so Stance would ignore it: {e}"), opts.message_limit);
            let body = review::render(&outcome.uid, false, StatusOut::failure(422, "Invalid", message), vec![]);
            Handled { status: 200, body, outcome }
        }
    }
}
