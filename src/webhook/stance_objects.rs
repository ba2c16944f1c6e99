//! Admission of Stance's own objects: a GuardrailPolicy or RiskException is admitted only
//! when the index would accept it, judged by the very conversions the index's feed uses
//! (`TryFrom<&GuardrailPolicy> for Policy`, `TryFrom<&RiskException> for Exception`, then
//! [`Exception::bounded`] as the index bounds it).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::de::DeserializeOwned;
use serde_json::Value;
use stance_core::assessment::unmatched;
use stance_core::guardrail::{CompileError, Exception, Policy, RiskExceptionState};
use stance_core::index::PostureIndex;

use crate::api::{GuardrailPolicy, RiskException};

/// Why a Stance object is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It is not the kind's shape (`spec.rules: invalid type: …`).
    #[error("cannot be read: {0}")]
    Unreadable(String),
    /// It reads, but the index would not accept it.
    #[error(transparent)]
    Invalid(#[from] CompileError),
}

/// Deserializes an object; the error names the field at fault.
fn read<T: DeserializeOwned>(object: &Value) -> Result<T, Refusal> {
    serde_path_to_error::deserialize(object).map_err(|e| {
        let path = e.path().to_string();
        Refusal::Unreadable(if path == "." { e.inner().to_string() } else { format!("{path}: {}", e.inner()) })
    })
}

/// Checks a GuardrailPolicy; the error names the field and what to write instead.
pub fn check_policy(object: &Value) -> Result<(), Refusal> {
    let p: GuardrailPolicy = read(object)?;
    Policy::try_from(&p)?;
    Ok(())
}

/// Checks a RiskException as it will be stored. On CREATE the API server sets
/// `creationTimestamp` to the current time; when the object under review does not carry
/// it yet, `now` stands in, so the lifetime bound (the index's `max_exception_days`) is
/// enforced at creation.
///
/// `Ok` carries warnings: an exception that is valid but will never apply (already
/// expired, or matching nothing under the index's policies: `assessment::unmatched`) is
/// admitted with a warning saying why.
pub fn check_exception(object: &Value, now: Timestamp, index: &PostureIndex) -> Result<Vec<String>, Refusal> {
    let mut e: RiskException = read(object)?;
    if e.metadata.creation_timestamp.is_none() {
        e.metadata.creation_timestamp = Some(Time(now));
    }
    let compiled = Exception::try_from(&e)?.bounded(index.config.max_exception_days)?;
    let mut warnings = Vec::new();
    if let (RiskExceptionState::Expired, Some(why)) = compiled.state(now) {
        warnings.push(format!("RiskException {} is {why}: it will never apply", compiled.id()));
    } else if let Some(why) = unmatched(index, &compiled) {
        warnings.push(format!("RiskException {} {why}", compiled.id()));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stance_core::index::IndexConfig;

    fn now() -> Timestamp {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn policies_are_judged_by_the_index_compiler() {
        let ok = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "GuardrailPolicy", "metadata": {"name": "p"},
            "spec": {"rules": [{"vulnerabilities": {"maxSeverity": "HIGH"}}]}});
        assert_eq!(check_policy(&ok), Ok(()));
        let two = json!({"metadata": {"name": "p"},
            "spec": {"rules": [{"vulnerabilities": {"maxSeverity": "HIGH"}, "sbomRequired": {}}]}});
        assert!(check_policy(&two).unwrap_err().to_string().contains("sets 2 rule types"));
        let unreadable = json!({"metadata": {"name": "p"}, "spec": {"rules": "all of them"}});
        assert!(check_policy(&unreadable).unwrap_err().to_string().starts_with("cannot be read: "));
    }

    #[test]
    fn exception_lifetime_is_bounded_from_creation() {
        let exc = |expires: &str| {
            json!({"metadata": {"name": "e", "namespace": "stance-system"},
                "spec": {"justification": "waf", "expires": expires, "findings": ["CVE-2022-22965"]}})
        };
        let index = PostureIndex::new(IndexConfig::default());
        let mut scoped = exc("2026-12-15T00:00:00Z");
        scoped["spec"]["match"] = json!({"namespaces": ["payments"]});
        assert_eq!(check_exception(&scoped, now(), &index), Ok(vec![]));
        // Without match.namespaces it covers stance-system only, which guardrails exempt.
        let warned = check_exception(&exc("2026-12-15T00:00:00Z"), now(), &index).unwrap();
        assert!(warned[0].contains("stance-system/e matches nothing") && warned[0].contains("exempt"), "{warned:?}");
        let err = check_exception(&exc("2027-12-15T00:00:00Z"), now(), &index).unwrap_err().to_string();
        assert!(err.contains("at most 90 days"), "{err}");
        let warned = check_exception(&exc("2026-11-01T00:00:00Z"), now(), &index).unwrap();
        assert!(warned[0].contains("stance-system/e is expired at 2026-11-01T00:00:00Z"), "{warned:?}");
        // A stored creation time is used as it is (UPDATE of an existing exception).
        let mut old = exc("2026-12-15T00:00:00Z");
        old["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(check_exception(&old, now(), &index).unwrap_err().to_string().contains("348 days after creation"));
    }
}
