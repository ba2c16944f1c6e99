//! Which requests guardrails judge, and on what: the one triage of the admission webhook,
//! `stance check` and `stance scan` (and the operator's audit), so that "`check` judges
//! exactly as admission would" holds by construction.
//!
//! Whether an object needs no judgement rests only on facts the requester cannot forge:
//! the operation and subresource, the namespace of the request, `oldObject` (which the API
//! server supplies), the deletion state of the stored object, and the username the API
//! server authenticated ([`AdmissionFacts::requester`]). Never on `ownerReferences`,
//! labels or annotations the requester wrote: a Pod a user creates is judged in full,
//! whatever its metadata claims.
//!
//! | request | triage | why |
//! |---|---|---|
//! | DELETE, CONNECT (`exec`, `attach`, `portforward`) | skip | nothing new runs: no image, no pod spec |
//! | any, in an exempt namespace | skip | `IndexConfig::exempt_namespaces` (Stance must be able to repair itself) |
//! | CREATE | judge the object | |
//! | CREATE by an authenticated controller ([`IndexConfig::controllers`]) of an object whose controller owner is a workload the index knows with that `uid`, of a kind that controller creates objects for | skip | its controller was judged when it was admitted; judging its Pods again would repeat warnings and could wedge a rollout admission allowed (exceptions scoped to the controller's name) |
//! | UPDATE of the main resource | judge the new object, `oldObject` as the running revision (`newRiskOnly`) | |
//! | UPDATE whose new object equals `oldObject` as guardrails read it | skip | nothing guardrails judge changed (replicas, annotations, `kubectl rollout restart`) |
//! | UPDATE of an object being deleted (`oldObject.metadata.deletionTimestamp`) | skip | finalizer removal must not be refused; controllers start nothing for a deleting object |
//! | `pods/ephemeralcontainers` (CREATE or UPDATE) | judge the containers it adds | a debug container is a new container in a running Pod |
//! | other subresources (`status`, `scale`, `binding`, `eviction`, …) | skip | they cannot change what runs; refusing a controller's status write would wedge it |
//! | a running object read from a snapshot ([`Operation::Running`]) | judge it unless its top-level controller stands for it (`PostureIndex::reported_on_its_own`) | a Pod that runs what its controller's template does not is judged on its own spec |
//!
//! [`IndexConfig::controllers`]: crate::index::IndexConfig::controllers

use std::borrow::Cow;

use crate::index::PostureIndex;
use crate::model::{ContainerKind, Workload, WorkloadKind};

/// What the request does (`request.operation`), or [`Operation::Running`] for an object read
/// from a snapshot of what runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
    /// Not a request: an object as it runs (`stance scan`, the operator's audit).
    Running,
}

impl Operation {
    /// Reads `request.operation`; `None` for anything else.
    pub fn parse(op: &str) -> Option<Operation> {
        match op {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
}

/// What is known about one request, from the API server or an offline entry point.
#[derive(Clone, Copy, Debug)]
pub struct AdmissionFacts<'a> {
    pub operation: Operation,
    /// `request.subResource`; `None` (or empty) for the main resource.
    pub subresource: Option<&'a str>,
    /// The request's namespace (`request.namespace`; offline: the manifest's, or
    /// `--namespace`).
    pub namespace: &'a str,
    /// The username the API server authenticated (`request.userInfo.username`); `None` when
    /// nobody vouches for the requester (offline), which is never a controller.
    pub requester: Option<&'a str>,
    /// The object as it would be stored (`request.object`).
    pub object: &'a Workload,
    /// The stored revision (`request.oldObject`) on UPDATE; offline, the running revision
    /// from the state.
    pub old: Option<&'a Workload>,
    /// The stored revision is being deleted (`oldObject.metadata.deletionTimestamp` set).
    pub old_deleting: bool,
}

impl<'a> AdmissionFacts<'a> {
    /// A request creating `object` in its own namespace, from a requester nobody vouches for.
    pub fn create(object: &'a Workload) -> AdmissionFacts<'a> {
        AdmissionFacts {
            operation: Operation::Create,
            subresource: None,
            namespace: &object.namespace,
            requester: None,
            object,
            old: None,
            old_deleting: false,
        }
    }

    /// `object` as it runs (see [`Operation::Running`]).
    pub fn running(object: &'a Workload) -> AdmissionFacts<'a> {
        AdmissionFacts { operation: Operation::Running, ..AdmissionFacts::create(object) }
    }

    /// A change from the running revision `old` (if any) to `object`, as `stance check`
    /// sees a manifest: CREATE without a running revision, UPDATE with one.
    pub fn change(object: &'a Workload, old: Option<&'a Workload>) -> AdmissionFacts<'a> {
        AdmissionFacts {
            operation: if old.is_some() { Operation::Update } else { Operation::Create },
            old,
            ..AdmissionFacts::create(object)
        }
    }
}

/// Why a request is admitted without judgement.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// DELETE or CONNECT.
    Operation,
    ExemptNamespace,
    /// A subresource that cannot change what runs.
    Subresource,
    /// An UPDATE of an object being deleted.
    BeingDeleted,
    /// An UPDATE that changes nothing guardrails judge.
    Unchanged,
    /// Created by the authenticated controller of a known, judged workload.
    ControllerCreated,
    /// An `ephemeralcontainers` request that adds no container.
    NothingAdded,
    /// A running object its top-level controller stands for (reported as that controller).
    ReportedAsController,
}

impl Skip {
    /// A short reason (metric label, `stance check` output).
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::Operation => "operation not judged",
            Skip::ExemptNamespace => "exempt namespace",
            Skip::Subresource => "subresource",
            Skip::BeingDeleted => "being deleted",
            Skip::Unchanged => "no change guardrails judge",
            Skip::ControllerCreated => "controller already admitted",
            Skip::NothingAdded => "no container added",
            Skip::ReportedAsController => "reported as its controller",
        }
    }
}

/// What to judge.
#[derive(Clone, Debug)]
pub struct Judge<'a> {
    /// The workload to evaluate: the object, or (for `ephemeralcontainers`) the Pod with only
    /// the containers the request adds.
    pub workload: Cow<'a, Workload>,
    /// The running revision for `newRiskOnly`.
    pub old: Option<&'a Workload>,
}

/// The triage of one request.
// A Triage lives only until its caller matches it, once per request; boxing `Judge` would add
// an allocation to every judged admission request to save stack space nobody keeps.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Triage<'a> {
    Judge(Judge<'a>),
    Skip(Skip),
}

/// Decides whether and on what guardrails judge a request (see the module documentation).
/// Pure; reads the index's configuration and, for controller-created objects and running
/// objects, its workloads.
pub fn triage<'a>(facts: &AdmissionFacts<'a>, index: &PostureIndex) -> Triage<'a> {
    if let Some(skip) = triage_request(facts.operation, facts.subresource, facts.namespace, facts.object.kind, index) {
        return Triage::Skip(skip);
    }
    if facts.subresource.is_some_and(|s| !s.is_empty()) {
        // The only subresource left is `pods/ephemeralcontainers`: judge what it adds.
        let added = added_ephemeral_containers(facts.object, facts.old);
        if added.containers.is_empty() {
            return Triage::Skip(Skip::NothingAdded);
        }
        return Triage::Judge(Judge { workload: Cow::Owned(added), old: None });
    }
    let judge = |old| Triage::Judge(Judge { workload: Cow::Borrowed(facts.object), old });
    match facts.operation {
        Operation::Running if !index.reported_on_its_own(facts.object) => Triage::Skip(Skip::ReportedAsController),
        Operation::Running => judge(None),
        Operation::Update if facts.old_deleting => Triage::Skip(Skip::BeingDeleted),
        Operation::Update if facts.old.is_some_and(|o| o == facts.object) => Triage::Skip(Skip::Unchanged),
        Operation::Update => judge(facts.old),
        Operation::Create if created_by_its_controller(facts, index) => Triage::Skip(Skip::ControllerCreated),
        Operation::Create | Operation::Delete | Operation::Connect => judge(None),
    }
}

/// The part of [`triage`] that needs no object: the operation, the namespace and the
/// subresource of a request for a `kind`. Admission asks it before reading the object (most
/// skipped requests then cost no parsing); [`triage`] asks it first.
pub fn triage_request(
    operation: Operation,
    subresource: Option<&str>,
    namespace: &str,
    kind: WorkloadKind,
    index: &PostureIndex,
) -> Option<Skip> {
    if matches!(operation, Operation::Delete | Operation::Connect) {
        return Some(Skip::Operation);
    }
    if index.config.is_exempt(namespace) {
        return Some(Skip::ExemptNamespace);
    }
    match subresource.filter(|s| !s.is_empty()) {
        None => None,
        Some("ephemeralcontainers") if kind == WorkloadKind::Pod => None,
        Some(_) => Some(Skip::Subresource),
    }
}

/// True when the authenticated requester is a configured controller identity that creates
/// objects for the object's controller owner's kind, and that owner is a workload the index
/// knows in the request's namespace with the `uid` the reference names.
fn created_by_its_controller(facts: &AdmissionFacts<'_>, index: &PostureIndex) -> bool {
    let (Some(user), Some(owner), Some(uid)) = (facts.requester, &facts.object.owner, &facts.object.owner_uid) else {
        return false;
    };
    let Some(kind) = WorkloadKind::parse(&owner.kind) else { return false };
    index.config.controllers.iter().any(|c| c.username == user && c.creates_for(kind))
        && index.workload(kind, facts.namespace, &owner.name).is_some_and(|w| w.uid.as_deref() == Some(&**uid))
}

/// The Pod with only the ephemeral containers `new` has and `old` has not, and none of the
/// pod-level settings (host namespaces, hostPath volumes): the request cannot change those,
/// and they were judged when the Pod was created.
fn added_ephemeral_containers(new: &Workload, old: Option<&Workload>) -> Workload {
    let added = new
        .containers
        .iter()
        .filter(|c| c.kind == ContainerKind::EphemeralContainer)
        .filter(|c| old.is_none_or(|o| !o.containers.contains(c)))
        .cloned()
        .collect();
    Workload {
        containers: added,
        host_network: false,
        host_pid: false,
        host_ipc: false,
        host_paths: Vec::new(),
        ..new.clone()
    }
}

/// The verdict on a request, every message written: [`triage`], then, when judged,
/// [`judge_policies`](super::judge_policies). `Err` says why it was not judged.
pub fn verdict(facts: &AdmissionFacts<'_>, index: &PostureIndex, now: jiff::Timestamp) -> Result<super::Verdict, Skip> {
    match triage(facts, index) {
        Triage::Skip(why) => Err(why),
        Triage::Judge(j) => Ok(super::judge_policies(&j.workload, j.old, index, now).into_verdict()),
    }
}

/// The violations of a running workload, every message written: [`triage`] of it as
/// [`Operation::Running`], then its verdict; none when it is not judged (exempt namespace,
/// reported as its controller). What `stance scan`, the operator's status and the
/// PolicyReports show.
pub fn running_violations(w: &Workload, index: &PostureIndex, now: jiff::Timestamp) -> Vec<super::Violation> {
    verdict(&AdmissionFacts::running(w), index, now).map(|v| v.violations).unwrap_or_default()
}
