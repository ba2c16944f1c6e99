//! Kubernetes label selectors (`matchLabels` + `matchExpressions`), evaluated the way the
//! API server does.
//!
//! [`LabelSelector`] is the domain form of `metav1.LabelSelector`: the edge converts the
//! Kubernetes type into it, so nothing here depends on Kubernetes client types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A label query: every `match_labels` pair and every expression must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry: `key operator values`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist` (anything else never matches; see
    /// [`LabelSelector::validate`]).
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Why a selector is invalid (the API server's own validation rules).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("matchExpressions key {key:?}: operator {operator} needs at least one value")]
    NoValues { key: String, operator: String },
    #[error("matchExpressions key {key:?}: operator {operator} takes no values")]
    UnexpectedValues { key: String, operator: String },
    #[error("matchExpressions key {key:?}: unknown operator {operator:?} (use In, NotIn, Exists or DoesNotExist)")]
    UnknownOperator { key: String, operator: String },
}

impl LabelSelector {
    /// True when `labels` satisfy every requirement of the selector. An empty selector
    /// matches everything (Kubernetes semantics; callers that want "nothing" check
    /// [`is_empty`](Self::is_empty) first). Unknown operators never match.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let labels_ok = self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v));
        labels_ok
            && self.match_expressions.iter().all(|e| match e.operator.as_str() {
                "In" => labels.get(&e.key).is_some_and(|v| e.values.contains(v)),
                "NotIn" => labels.get(&e.key).is_none_or(|v| !e.values.contains(v)),
                "Exists" => labels.contains_key(&e.key),
                "DoesNotExist" => !labels.contains_key(&e.key),
                _ => false,
            })
    }

    /// True when the selector has no requirements at all.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Checks operators and values the way the API server validates a selector.
    pub fn validate(&self) -> Result<(), SelectorError> {
        for e in &self.match_expressions {
            let (key, operator) = (e.key.clone(), e.operator.clone());
            match e.operator.as_str() {
                "In" | "NotIn" if e.values.is_empty() => return Err(SelectorError::NoValues { key, operator }),
                "Exists" | "DoesNotExist" if !e.values.is_empty() => {
                    return Err(SelectorError::UnexpectedValues { key, operator });
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                _ => return Err(SelectorError::UnknownOperator { key, operator }),
            }
        }
        Ok(())
    }
}

/// True when every key/value of `subset` is in `labels` and `subset` is not empty
/// (a Service's pod selector).
pub fn subset_matches(subset: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !subset.is_empty() && subset.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> Requirement {
        Requirement { key: key.into(), operator: op.into(), values: values.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector {
            match_labels: labels(&[("app", "web")]),
            match_expressions: vec![
                expr("tier", "In", &["front", "edge"]),
                expr("env", "NotIn", &["dev"]),
                expr("team", "Exists", &[]),
                expr("legacy", "DoesNotExist", &[]),
            ],
        };
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "edge"), ("team", "a")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "edge"), ("team", "a"), ("env", "dev")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "back"), ("team", "a")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "edge"), ("team", "a"), ("legacy", "1")])));
        assert!(LabelSelector::default().matches(&labels(&[])));
        assert!(LabelSelector::default().is_empty());
    }

    #[test]
    fn validation_names_the_key() {
        let bad = LabelSelector { match_expressions: vec![expr("tier", "Is", &["a"])], ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("\"tier\""));
        let bad = LabelSelector { match_expressions: vec![expr("tier", "In", &[])], ..Default::default() };
        assert!(bad.validate().is_err());
    }
}
