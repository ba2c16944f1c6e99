//! The domain objects the index takes besides reports: what the edge makes of the
//! Kubernetes objects it reads (manifests, watch events).

use std::sync::Arc;

use jiff::Timestamp;

use crate::guardrail::{CompileError, Enforcement, Exception, Policy, RiskExceptionState};
use crate::model::{App, Asset, Namespace, ReferenceGrant, Route, Service, Workload};

/// A Kubernetes object in domain form.
#[derive(Debug, Clone)]
pub enum KubeObject {
    Workload(Workload),
    Service(Service),
    Route(Route),
    ReferenceGrant(ReferenceGrant),
    Namespace(Namespace),
    App(App),
    Asset(Asset),
    Policy(PolicyEntry),
    Exception(ExceptionEntry),
}

/// A GuardrailPolicy as the index keeps it: compiled, or the reason it is invalid (an
/// invalid policy is kept so its status can say why; it is never evaluated).
#[derive(Clone, Debug)]
pub struct PolicyEntry {
    pub name: Arc<str>,
    /// `metadata.generation`, echoed as `observedGeneration` in status.
    pub generation: Option<i64>,
    /// `spec.enforcement` as written (shown for an invalid policy too).
    pub enforcement: Enforcement,
    /// `spec.description`, for outputs that explain a rule (SARIF rule help).
    pub description: Option<String>,
    pub compiled: Result<Arc<Policy>, CompileError>,
}

/// A RiskException as the index keeps it: compiled, or the reason it is invalid.
#[derive(Clone, Debug)]
pub struct ExceptionEntry {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    /// `metadata.generation`, echoed as `observedGeneration` in status.
    pub generation: Option<i64>,
    /// `spec.expires` as written (shown for an invalid exception too).
    pub expires: String,
    pub ticket: Option<String>,
    pub compiled: Result<Arc<Exception>, CompileError>,
}

impl ExceptionEntry {
    /// The exception's lifecycle state at `now`, with the reason when not active: the one
    /// rule for what `status.state` says (an exception that does not compile is `Invalid`).
    pub fn state(&self, now: Timestamp) -> (RiskExceptionState, Option<String>) {
        match &self.compiled {
            Ok(e) => e.state(now),
            Err(err) => (RiskExceptionState::Invalid, Some(err.to_string())),
        }
    }

    /// The compiled exception when it applies at `now`.
    pub fn active(&self, now: Timestamp) -> Option<&Exception> {
        self.compiled.as_deref().ok().filter(|e| e.is_active(now))
    }
}
