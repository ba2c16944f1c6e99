//! A RiskException's observed state: its lifecycle state, whether it can match anything,
//! and how many findings it covers.

use jiff::Timestamp;

use super::status::RiskExceptionStatus;
use crate::guardrail::{Exception, Policy, RiskExceptionState};
use crate::index::{ExceptionEntry, PostureIndex};
use crate::policy::evaluate::honours;

/// The status of an exception at `now`. An active exception that names findings counts
/// the correlated findings it names, as its own namespace sees them (another namespace's
/// evidence never changes its status); a blanket one (no findings listed) counts none.
pub fn exception_status(index: &PostureIndex, e: &ExceptionEntry, now: Timestamp) -> RiskExceptionStatus {
    let (state, reason) = exception_state(index, e, now);
    let covered = match &e.compiled {
        Ok(x) if state == RiskExceptionState::Active => index
            .artifacts_for(&e.namespace)
            .flat_map(|(_, a)| a.findings.iter())
            .filter(|f| x.names_finding(f.ids()))
            .count() as u32,
        _ => 0,
    };
    RiskExceptionStatus { state, reason, covered_findings: covered, observed_generation: e.generation }
}

/// The state shown for an exception at `now` (status, `stance scan`): its lifecycle state,
/// except that an active exception that can waive nothing under the index's policies and
/// configuration is [`RiskExceptionState::Unmatched`], with the reason ([`unmatched`]).
pub fn exception_state(
    index: &PostureIndex,
    e: &ExceptionEntry,
    now: Timestamp,
) -> (RiskExceptionState, Option<String>) {
    let (state, reason) = e.state(now);
    match &e.compiled {
        Ok(x) if state == RiskExceptionState::Active => match unmatched(index, x) {
            Some(why) => (RiskExceptionState::Unmatched, Some(why)),
            None => (state, reason),
        },
        _ => (state, reason),
    }
}

/// Why an exception can waive nothing, or `None` when some workload could be covered by it.
///
/// It waives a guardrail violation only when a valid policy has its `spec.policy` and
/// `spec.rules`, applies in a namespace it covers that is not exempt, and trusts exceptions
/// from its namespace there ([`honours`]); it hides findings from posture only when it names
/// findings and lives in a namespace trusted by default. Selectors on labels, applications,
/// images and workloads are not judged here: they depend on what will run.
pub fn unmatched(index: &PostureIndex, x: &Exception) -> Option<String> {
    let config = &index.config;
    let own_only = x.namespaces.len() == 1 && *x.namespaces[0] == *x.namespace;
    let note = if own_only {
        " (without spec.match.namespaces it covers its own namespace only: list the workloads' namespaces there)"
    } else {
        ""
    };
    let open: Vec<&str> =
        x.namespaces.iter().map(String::as_str).filter(|n| *n == "*" || !config.is_exempt(n)).collect();
    if open.is_empty() {
        return Some(format!(
            "matches nothing: it covers only namespace {}, exempt from guardrails{note}",
            x.namespaces.join(", ")
        ));
    }
    if !x.findings.is_empty() && config.trusts_exceptions_from(&x.namespace) {
        return None;
    }
    let policies: Vec<&Policy> = index.policies().filter_map(|p| p.compiled.as_deref().ok()).collect();
    let has_rule = |p: &Policy| {
        x.policy.as_deref().is_none_or(|n| n == &*p.name)
            && (x.rules.is_empty() || p.rules.iter().any(|r| x.covers_rule(&p.name, &r.name, r.check.type_name())))
    };
    let with_rule: Vec<&Policy> = policies.into_iter().filter(|p| has_rule(p)).collect();
    if with_rule.is_empty() {
        let policy =
            x.policy.as_deref().map_or_else(|| "any GuardrailPolicy".to_string(), |p| format!("GuardrailPolicy {p}"));
        let rules = if x.rules.is_empty() { String::new() } else { format!(" with rule {}", x.rules.join(", ")) };
        return Some(format!("matches nothing: no {policy}{rules} is loaded and valid"));
    }
    let applies_in = |p: &Policy, n: &str| {
        n == "*"
            || (!p.matcher.exclude_namespaces.iter().any(|e| e == n)
                && (p.matcher.namespaces.is_empty() || p.matcher.namespaces.iter().any(|m| m == n)))
    };
    let reachable = with_rule.iter().any(|p| {
        open.iter().any(|n| {
            applies_in(p, n) && honours(p, x, if *n == "*" { &x.namespace } else { n }, &config.exception_namespaces)
        })
    });
    if reachable {
        return None;
    }
    Some(format!(
        "matches nothing: no GuardrailPolicy with its rules applies in namespace {} and trusts RiskExceptions from \
         namespace {} (spec.exceptions.allowedNamespaces of the policy, else the operator's --exception-namespace){note}",
        open.join(", "),
        x.namespace
    ))
}
