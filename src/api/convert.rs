//! Custom resources → the core's domain types. One conversion per kind, used by every
//! path that reads a Stance object: manifests (`stance check`, `stance scan`), the
//! operator's watches and admission's validation of GuardrailPolicies and RiskExceptions.
//! What admission admits is therefore exactly what the index accepts.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as K8sSelector, ObjectMeta};
use stance_core::guardrail::{CompileError, Exception, ExceptionSource, MatchSource, Policy, PolicySource};
use stance_core::index::{ExceptionEntry, PolicyEntry};
use stance_core::model::{App, Asset as AssetModel};
use stance_core::names::DEFAULT_NAMESPACE;
use stance_core::selector::{LabelSelector, Requirement};

use super::{AppPosture, Asset, GuardrailPolicy, RiskException};

/// A Kubernetes label selector in domain form.
pub fn selector(s: &K8sSelector) -> LabelSelector {
    LabelSelector {
        match_labels: s.match_labels.clone().unwrap_or_default(),
        match_expressions: s
            .match_expressions
            .iter()
            .flatten()
            .map(|e| Requirement {
                key: e.key.clone(),
                operator: e.operator.clone(),
                values: e.values.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The object's namespace, or the default namespace manifests without one land in.
fn namespace(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(DEFAULT_NAMESPACE)
}

impl TryFrom<&GuardrailPolicy> for Policy {
    type Error = CompileError;

    /// Validates a policy; the error names the field and what to write instead.
    fn try_from(p: &GuardrailPolicy) -> Result<Policy, CompileError> {
        let spec = &p.spec;
        let m = &spec.match_;
        let namespace_selector = m.namespace_selector.as_ref().map(selector);
        let app_selector = m.app_selector.as_ref().map(selector);
        Policy::compile(PolicySource {
            name: p.metadata.name.as_deref(),
            enforcement: spec.enforcement,
            matcher: MatchSource {
                namespace_selector: namespace_selector.as_ref(),
                namespaces: &m.namespaces,
                exclude_namespaces: &m.exclude_namespaces,
                app_selector: app_selector.as_ref(),
                criticalities: &m.criticalities,
                exposures: &m.exposures,
                kinds: &m.kinds,
            },
            on_unscanned: spec.on_unscanned,
            new_risk_only: spec.new_risk_only,
            exceptions: &spec.exceptions,
            rules: &spec.rules,
        })
    }
}

impl TryFrom<&RiskException> for Exception {
    type Error = CompileError;

    /// Validates an exception's content; its lifetime is bounded where the operator's
    /// maximum is known ([`Exception::bounded`]: the index, admission).
    fn try_from(e: &RiskException) -> Result<Exception, CompileError> {
        let spec = &e.spec;
        Exception::compile(ExceptionSource {
            namespace: namespace(&e.metadata),
            name: e.metadata.name.as_deref().unwrap_or(""),
            policy: spec.policy.as_deref(),
            rules: &spec.rules,
            findings: &spec.findings,
            matches: &spec.match_,
            justification: &spec.justification,
            expires: &spec.expires,
            created: e.metadata.creation_timestamp.as_ref().map(|t| t.0),
            analysis: spec.analysis.as_ref(),
            ticket: spec.ticket.as_deref(),
        })
    }
}

impl From<&GuardrailPolicy> for PolicyEntry {
    /// The policy as the index keeps it: compiled, or with the reason it is invalid.
    fn from(p: &GuardrailPolicy) -> PolicyEntry {
        PolicyEntry {
            name: Arc::from(p.metadata.name.as_deref().unwrap_or("")),
            generation: p.metadata.generation,
            enforcement: p.spec.enforcement,
            description: p.spec.description.clone(),
            compiled: Policy::try_from(p).map(Arc::new),
        }
    }
}

impl From<&RiskException> for ExceptionEntry {
    /// The exception as the index keeps it (the index bounds its lifetime on apply).
    fn from(e: &RiskException) -> ExceptionEntry {
        ExceptionEntry {
            namespace: Arc::from(namespace(&e.metadata)),
            name: Arc::from(e.metadata.name.as_deref().unwrap_or("")),
            generation: e.metadata.generation,
            expires: e.spec.expires.clone(),
            ticket: e.spec.ticket.clone(),
            compiled: Exception::try_from(e).map(Arc::new),
        }
    }
}

impl From<&AppPosture> for App {
    fn from(a: &AppPosture) -> App {
        let spec = &a.spec;
        App {
            namespace: Arc::from(namespace(&a.metadata)),
            name: Arc::from(a.metadata.name.as_deref().unwrap_or("")),
            uid: a.metadata.uid.clone(),
            generation: a.metadata.generation,
            labels: a.metadata.labels.clone().unwrap_or_default(),
            owner: spec.owner.clone(),
            criticality: spec.criticality,
            exposure: spec.exposure,
            data_classification: spec.data_classification,
            selector: spec.selector.as_ref().map(selector),
            repositories: spec.repositories.clone(),
            endpoints: spec.endpoints.clone(),
            top_findings: spec.top_findings,
        }
    }
}

impl From<&Asset> for AssetModel {
    fn from(a: &Asset) -> AssetModel {
        let spec = &a.spec;
        AssetModel {
            namespace: Arc::from(namespace(&a.metadata)),
            name: Arc::from(a.metadata.name.as_deref().unwrap_or("")),
            generation: a.metadata.generation,
            asset_type: spec.asset_type,
            identifier: spec.identifier.clone(),
            app_ref: spec.app_ref.clone(),
            criticality: spec.criticality,
            exposure: spec.exposure,
            owner: spec.owner.clone(),
            discovered: spec.discovered,
        }
    }
}
