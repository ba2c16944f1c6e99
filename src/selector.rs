//! Kubernetes label selectors (`matchLabels` + `matchExpressions`), evaluated the way the
//! API server does.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// True when `labels` satisfy every requirement of the selector. An empty selector
/// matches everything (Kubernetes semantics; callers that want "nothing" check
/// [`is_empty`] first). Unknown operators never match (see [`validate`]).
pub fn matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = sel.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && sel.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            match e.operator.as_str() {
                "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
                "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
                "Exists" => labels.contains_key(&e.key),
                "DoesNotExist" => !labels.contains_key(&e.key),
                _ => false,
            }
        })
}

/// True when the selector has no requirements at all.
pub fn is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && sel.match_expressions.as_ref().is_none_or(Vec::is_empty)
}

/// Checks operators and values the way the API server validates a selector.
pub fn validate(sel: &LabelSelector) -> Result<(), String> {
    for e in sel.match_expressions.iter().flatten() {
        let n = e.values.as_ref().map_or(0, Vec::len);
        match e.operator.as_str() {
            "In" | "NotIn" if n == 0 => {
                return Err(format!(
                    "matchExpressions key {:?}: operator {} needs at least one value",
                    e.key, e.operator
                ));
            }
            "Exists" | "DoesNotExist" if n > 0 => {
                return Err(format!("matchExpressions key {:?}: operator {} takes no values", e.key, e.operator));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => {
                return Err(format!(
                    "matchExpressions key {:?}: unknown operator {other:?} (use In, NotIn, Exists or DoesNotExist)",
                    e.key
                ));
            }
        }
    }
    Ok(())
}

/// True when every key/value of `subset` is in `labels` and `subset` is not empty
/// (a Service's pod selector).
pub fn subset_matches(subset: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !subset.is_empty() && subset.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() { None } else { Some(values.iter().map(|s| s.to_string()).collect()) },
        }
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                expr("tier", "In", &["front", "edge"]),
                expr("env", "NotIn", &["dev"]),
                expr("team", "Exists", &[]),
                expr("legacy", "DoesNotExist", &[]),
            ]),
        };
        assert!(matches(&sel, &labels(&[("app", "web"), ("tier", "edge"), ("team", "a")])));
        assert!(!matches(&sel, &labels(&[("app", "web"), ("tier", "edge"), ("team", "a"), ("env", "dev")])));
        assert!(!matches(&sel, &labels(&[("app", "web"), ("tier", "back"), ("team", "a")])));
        assert!(!matches(&sel, &labels(&[("app", "web"), ("tier", "edge"), ("team", "a"), ("legacy", "1")])));
        assert!(matches(&LabelSelector::default(), &labels(&[])));
        assert!(is_empty(&LabelSelector::default()));
    }

    #[test]
    fn validation_names_the_key() {
        let bad = LabelSelector { match_expressions: Some(vec![expr("tier", "Is", &["a"])]), ..Default::default() };
        assert!(validate(&bad).unwrap_err().contains("\"tier\""));
        let bad = LabelSelector { match_expressions: Some(vec![expr("tier", "In", &[])]), ..Default::default() };
        assert!(validate(&bad).is_err());
    }
}
