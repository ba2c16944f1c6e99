//! Kyverno `PolicyException`s (`kyverno.io/v2` and `v2beta1`; CRD and types:
//! `api/kyverno/v2/policy_exception_types.go` in <https://github.com/kyverno/kyverno>) and
//! the PolicyReport results they caused.
//!
//! A Kyverno exception turns a policy result that would fail into `skip` (or, for a
//! `podSecurity` exemption, `pass`): the PolicyReport then shows nothing wrong, and a
//! reader of reports alone cannot tell an exempted resource from a compliant one. Stance
//! makes the exemption visible, as a **suppressed** finding (VEX `not_affected`) of the
//! policy rule on the resource, titled `<policy>/<rule>: exempted by Kyverno
//! PolicyException <namespace>/<name>`, from two sources that meet on one finding
//! (same id and object, see `posture::correlate`):
//!
//! 1. **PolicyReport results** (any engine version since exceptions exist) whose
//!    `properties.exceptions` (Kyverno ≥ 1.11: `ns/name,ns/name`) or `message` (`rule
//!    skipped due to policy exception ns/name`, `rule is skipped due to policy
//!    exceptions…`) names the exceptions — see [`named_exceptions`]; the PolicyReport
//!    parser calls it for `skip` and `pass` results.
//! 2. **PolicyException objects** ([`parse_object`]): each exempted (policy, rule) on each
//!    resource the exception names exactly — `kinds` and `names` without wildcards, and
//!    `namespaces` unless the kind is cluster-scoped — is a suppressed statement. Matches by
//!    wildcard, label selector, namespace selector, user info or `all` of several filters,
//!    and exceptions with `conditions` or `podSecurity` controls, cannot be enumerated
//!    without the cluster's objects: they are known through the results Kyverno writes (1).
//!    A statement merges with a `fail` result of the same rule on the same object (a report
//!    older than the exception), which then shows as suppressed.
//!
//! The finding's id follows the PolicyReport parser's rule: the rule when it is a check id,
//! else `policy/rule`. The CLI reads PolicyExceptions from files (`--state`, report
//! folders); the operator watches them (`controller::targets`) and feeds them like reports,
//! so deleting an exception withdraws its statements.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::document::{Parsed, warn};
use super::error_path::typed;
use super::finding_id::is_config_check_id;
use super::lenient::{Text, prop_str};
use super::{Warning, source};
use crate::model::scope::is_cluster_scoped;
use crate::model::{Artifact, Finding, FindingKind, Format, ObjectRef, Report, Severity, Vex, VexState};

/// The exceptions a PolicyReport result names (`namespace/name` as Kyverno writes them):
/// `properties.exceptions`, else the exception names in Kyverno's skip message.
pub(crate) fn named_exceptions(props: &Map<String, Value>, message: Option<&str>) -> Vec<String> {
    let split = |s: &str| -> Vec<String> {
        s.split([',', ' ']).map(str::trim).filter(|n| !n.is_empty()).map(str::to_string).collect()
    };
    if let Some(list) = prop_str(props, "exceptions") {
        return split(&list);
    }
    let Some(message) = message else { return Vec::new() };
    for marker in ["due to policy exceptions", "due to policy exception"] {
        if let Some((_, rest)) = message.split_once(marker) {
            return split(rest.trim_start_matches([':', ' ']));
        }
    }
    Vec::new()
}

/// The suppression statement of an exempted result.
pub(crate) fn exemption(names: &[String]) -> Vex {
    Vex {
        source: None,
        state: VexState::NotAffected,
        justification: Some(Arc::from(format!("Kyverno PolicyException {}", names.join(", ")))),
    }
}

/// The title of an exempted result.
pub(crate) fn exemption_title(id: &str, names: &[String]) -> String {
    let noun = if names.len() == 1 { "PolicyException" } else { "PolicyExceptions" };
    format!("{id}: exempted by Kyverno {noun} {}", names.join(", "))
}

/// The finding id (and kind) a PolicyReport result of `rule` in `policy` gets.
fn result_id(policy: &str, rule: &str) -> (String, FindingKind) {
    let kind = if is_config_check_id(rule) { FindingKind::Misconfiguration } else { FindingKind::Policy };
    let id = if super::policy_report::is_check_id(rule) {
        rule.to_string()
    } else if rule != policy {
        format!("{policy}/{rule}")
    } else {
        policy.to_string()
    };
    (id, kind)
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a PolicyException")]
struct PolicyException {
    metadata: Meta,
    spec: Spec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    name: Text,
    namespace: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    exceptions: Vec<ExceptionEntry>,
    #[serde(rename = "match")]
    matches: MatchResources,
    conditions: Option<Value>,
    pod_security: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ExceptionEntry {
    policy_name: Text,
    rule_names: Vec<Text>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MatchResources {
    any: Vec<ResourceFilter>,
    all: Vec<ResourceFilter>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ResourceFilter {
    resources: Resources,
    subjects: Option<Value>,
    roles: Option<Value>,
    cluster_roles: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Resources {
    kinds: Vec<Text>,
    names: Vec<Text>,
    name: Text,
    namespaces: Vec<Text>,
    selector: Option<Value>,
    namespace_selector: Option<Value>,
    annotations: Option<Value>,
}

/// True for a Kyverno `PolicyException` object of a version Stance reads.
pub fn is_policy_exception(api_version: &str, kind: &str) -> bool {
    kind == "PolicyException" && matches!(api_version, "kyverno.io/v2" | "kyverno.io/v2beta1")
}

/// Reads a `PolicyException` into a report of its exemptions (suppressed findings of the
/// exempted rules on the objects it names exactly). A malformed exception is a warning
/// naming the object and field.
pub fn parse_object(origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    let pe: PolicyException = match typed(v, "") {
        Ok(pe) => pe,
        Err(e) => return warn(warnings, origin, format!("PolicyException: {e}")),
    };
    let ns = pe.metadata.namespace.get().unwrap_or(crate::names::DEFAULT_NAMESPACE);
    let name = pe.metadata.name.get().unwrap_or("");
    let key = format!("{ns}/{name}");
    let src = source(Format::KyvernoException, "Kyverno PolicyException", origin);
    let mut report = Report::new(src.clone());
    let enumerable = pe.spec.conditions.is_none() && pe.spec.pod_security.as_ref().is_none_or(Vec::is_empty);
    let filters: &[ResourceFilter] = match (pe.spec.matches.any.as_slice(), pe.spec.matches.all.as_slice()) {
        (any, []) => any,
        ([], [one]) => std::slice::from_ref(one),
        _ => &[],
    };
    let objects: Vec<ObjectRef> =
        if enumerable { filters.iter().flat_map(exact_objects).collect() } else { Vec::new() };
    let names = [key];
    for entry in &pe.spec.exceptions {
        let Some(policy) = entry.policy_name.get() else { continue };
        for rule in entry.rule_names.iter().filter_map(Text::get) {
            let (id, kind) = result_id(policy, rule);
            for object in &objects {
                let title = exemption_title(&id, &names);
                let mut f =
                    Finding::new(kind, &id, Severity::Unknown, &title, Artifact::Object(object.clone()), src.clone());
                f.vex = Some(exemption(&names));
                report.findings.push(f);
            }
        }
    }
    out.push(Parsed::Report(report));
}

/// The objects a resource filter names exactly.
fn exact_objects(f: &ResourceFilter) -> Vec<ObjectRef> {
    let r = &f.resources;
    let exact = |t: &&str| !t.contains(['*', '?']);
    if f.subjects.is_some() || f.roles.is_some() || f.cluster_roles.is_some() {
        return Vec::new();
    }
    if r.selector.is_some() || r.namespace_selector.is_some() || r.annotations.is_some() {
        return Vec::new();
    }
    // `Pod`, `v1/Pod`, `apps/v1/Deployment`; `Pod/exec` (a subresource) is not an object kind.
    let kinds: Vec<&str> = r
        .kinds
        .iter()
        .filter_map(Text::get)
        .filter_map(|k| k.rsplit('/').next().filter(|last| last.starts_with(|c: char| c.is_ascii_uppercase())))
        .collect();
    let names: Vec<&str> = r.names.iter().filter_map(Text::get).chain(r.name.get()).collect();
    let namespaces: Vec<&str> = r.namespaces.iter().filter_map(Text::get).collect();
    if kinds.is_empty() || names.is_empty() || !kinds.iter().chain(&names).chain(&namespaces).all(exact) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for kind in kinds {
        if is_cluster_scoped(kind) {
            out.extend(names.iter().map(|n| ObjectRef::new(kind, None, n)));
        } else {
            for ns in &namespaces {
                out.extend(names.iter().map(|n| ObjectRef::new(kind, Some(ns), n)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn names_from_properties_and_messages() {
        // Kyverno ≥ 1.11 writes the keys as a comma-separated property.
        assert_eq!(named_exceptions(&props(json!({"exceptions": "delta/a,delta/b"})), None), ["delta/a", "delta/b"]);
        // Kyverno's engine messages (pkg/engine: "rule skipped due to policy exception " + key,
        // "rule is skipped due to policy exception: " + keys joined by ", ").
        assert_eq!(
            named_exceptions(&props(json!({})), Some("rule skipped due to policy exception delta/a")),
            ["delta/a"]
        );
        assert_eq!(
            named_exceptions(&props(json!({})), Some("rule is skipped due to policy exception: ns/a, ns/b")),
            ["ns/a", "ns/b"]
        );
        assert!(named_exceptions(&props(json!({})), Some("validation rule 'x' passed.")).is_empty());
        assert!(named_exceptions(&props(json!({"exceptions": ""})), None).is_empty());
    }

    fn exception(spec: Value) -> Vec<Report> {
        let v = json!({"apiVersion": "kyverno.io/v2", "kind": "PolicyException",
                       "metadata": {"name": "delta-exception", "namespace": "delta"}, "spec": spec});
        let (mut out, mut w) = (Vec::new(), Vec::new());
        parse_object("pe.yaml", &v, &mut out, &mut w);
        assert!(w.is_empty(), "{w:?}");
        out.into_iter()
            .map(|p| match p {
                Parsed::Report(r) => r,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn exact_names_become_statements_and_wildcards_do_not() {
        let r = exception(json!({
        "exceptions": [{"policyName": "disallow-host-namespaces", "ruleNames": ["host-namespaces", "autogen-host-namespaces"]}],
        "match": {"any": [
            {"resources": {"kinds": ["Pod", "apps/v1/Deployment"], "namespaces": ["delta"], "names": ["important-tool"]}},
            {"resources": {"kinds": ["Pod"], "namespaces": ["delta"], "names": ["important-tool*"]}},
            {"resources": {"kinds": ["Namespace"], "names": ["delta"]}}
        ]}}));
        let f = &r[0].findings;
        assert_eq!(f.len(), 2 * 3, "{f:#?}");
        assert!(f.iter().all(|f| f.suppressed() && f.kind == FindingKind::Policy));
        assert_eq!(&*f[0].id, "disallow-host-namespaces/host-namespaces");
        assert_eq!(*f[1].artifact, Artifact::Object(ObjectRef::new("Deployment", Some("delta"), "important-tool")));
        assert_eq!(*f[2].artifact, Artifact::Object(ObjectRef::new("Namespace", None, "delta")));
        assert_eq!(
            &*f[0].title,
            "disallow-host-namespaces/host-namespaces: exempted by Kyverno PolicyException delta/delta-exception"
        );
        assert!(r[0].scanned.is_empty());
    }

    #[test]
    fn conditions_and_pod_security_are_not_enumerated() {
        let base = json!({"exceptions": [{"policyName": "p", "ruleNames": ["r"]}],
                          "match": {"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["a"], "names": ["b"]}}]}});
        assert_eq!(exception(base.clone())[0].findings.len(), 1);
        let mut cond = base.clone();
        cond["conditions"] = json!({"any": [{"key": "x", "operator": "Equals", "value": "y"}]});
        assert!(exception(cond)[0].findings.is_empty());
        let mut pss = base;
        pss["podSecurity"] = json!([{"controlName": "Capabilities"}]);
        assert!(exception(pss)[0].findings.is_empty());
    }

    #[test]
    fn malformed_exceptions_are_warnings() {
        let v = json!({"apiVersion": "kyverno.io/v2", "kind": "PolicyException", "metadata": {"name": "x"},
                       "spec": {"exceptions": {"policyName": "p"}}});
        let (mut out, mut w) = (Vec::new(), Vec::new());
        parse_object("pe.yaml", &v, &mut out, &mut w);
        assert!(out.is_empty());
        assert!(w[0].message.starts_with("PolicyException: spec"), "{w:?}");
    }
}
