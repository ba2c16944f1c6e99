//! Admission of Stance's own objects: a GuardrailPolicy or RiskException is admitted only
//! when the index would accept it, judged by the very functions the index uses
//! ([`Policy::compile`], [`Exception::compile`]).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Deserialize;
use serde_json::Value;

use crate::api::{GuardrailPolicy, RiskException, RiskExceptionState};
use crate::policy::{Exception, Policy};

/// Checks a GuardrailPolicy; the error names the field and what to write instead.
pub fn check_policy(object: &Value) -> Result<(), String> {
    let p = GuardrailPolicy::deserialize(object).map_err(|e| format!("cannot be read: {e}"))?;
    Policy::compile(&p).map(drop)
}

/// Checks a RiskException as it will be stored. On CREATE the API server sets
/// `creationTimestamp` to the current time; when the object under review does not carry
/// it yet, `now` stands in, so the lifetime bound (`max_days`) is enforced at creation.
///
/// `Ok` carries warnings: an exception that is valid but will never apply (already
/// expired) is admitted with a warning.
pub fn check_exception(object: &Value, now: Timestamp, max_days: u32) -> Result<Vec<String>, String> {
    let mut e = RiskException::deserialize(object).map_err(|e| format!("cannot be read: {e}"))?;
    if e.metadata.creation_timestamp.is_none() {
        e.metadata.creation_timestamp = Some(Time(now));
    }
    let compiled = Exception::compile(&e, max_days)?;
    let mut warnings = Vec::new();
    if let (RiskExceptionState::Expired, Some(why)) = compiled.state(now) {
        warnings.push(format!("RiskException {} is {why}: it will never apply", compiled.id()));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert!(check_policy(&two).unwrap_err().contains("sets 2 rule types"));
        let unreadable = json!({"metadata": {"name": "p"}, "spec": {"rules": "all of them"}});
        assert!(check_policy(&unreadable).unwrap_err().starts_with("cannot be read: "));
    }

    #[test]
    fn exception_lifetime_is_bounded_from_creation() {
        let exc = |expires: &str| {
            json!({"metadata": {"name": "e", "namespace": "stance-system"},
                "spec": {"justification": "waf", "expires": expires, "findings": ["CVE-2022-22965"]}})
        };
        assert_eq!(check_exception(&exc("2026-12-15T00:00:00Z"), now(), 90), Ok(vec![]));
        let err = check_exception(&exc("2027-12-15T00:00:00Z"), now(), 90).unwrap_err();
        assert!(err.contains("at most 90 days"), "{err}");
        let warned = check_exception(&exc("2026-11-01T00:00:00Z"), now(), 90).unwrap();
        assert!(warned[0].contains("stance-system/e is expired at 2026-11-01T00:00:00Z"), "{warned:?}");
        // A stored creation time is used as it is (UPDATE of an existing exception).
        let mut old = exc("2026-12-15T00:00:00Z");
        old["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(check_exception(&old, now(), 90).unwrap_err().contains("348 days after creation"));
    }
}
