//! `evaluate`: the one guardrail verdict used by admission, `stance check` and the
//! operator's audit of running workloads.

use std::sync::Arc;

use jiff::Timestamp;

use super::budget::{Budget, Unlimited};
use super::context::{ImageCtx, Subject};
use super::judgement::{Judged, Judgement};
use super::precomputed;
use super::rules::{self, Hit};
use super::verdict::{Verdict, Violation};
use crate::guardrail::{Check, Enforcement, Exception, OnUnscanned, Policy, RiskExceptionState, Rule};
use crate::index::PostureIndex;
use crate::model::{ImageRef, Workload};

/// Evaluates a workload against every valid policy in the index, honouring the index's
/// active exceptions. `old` is the running revision on UPDATE (for `newRiskOnly`).
///
/// Pure and synchronous: no I/O, no locks taken; the caller holds the index.
pub fn evaluate(w: &Workload, old: Option<&Workload>, index: &PostureIndex, now: Timestamp) -> Verdict {
    judge(w, old, index, now).into_verdict()
}

/// [`evaluate`] with the messages left unwritten until asked for: admission shows a few
/// of what can be dozens of violations.
pub fn judge<'a>(w: &'a Workload, old: Option<&'a Workload>, index: &'a PostureIndex, now: Timestamp) -> Judgement<'a> {
    if index.config.is_exempt(&w.namespace) {
        return Judgement {
            judged: Vec::new(),
            exempt: Some(format!("namespace {} is exempt from guardrails", w.namespace)),
            context: Vec::new(),
        };
    }
    judge_policies(w, old, index, now)
}

/// [`judge`] for a workload whose namespace is known not to be exempt: admission asks
/// [`IndexConfig::is_exempt`](crate::index::IndexConfig::is_exempt) before it even reads
/// the object, and does not ask twice.
pub fn judge_policies<'a>(
    w: &'a Workload,
    old: Option<&'a Workload>,
    index: &'a PostureIndex,
    now: Timestamp,
) -> Judgement<'a> {
    match judge_policies_within(w, old, index, now, &Unlimited) {
        Ok(j) => j,
        Err(never) => match never {},
    }
}

/// [`judge_policies`] that asks `budget` before each applicable policy and stops with its
/// `Err` when it runs out (nothing is kept from a stopped run; run it again to judge).
pub fn judge_policies_within<'a, B: Budget>(
    w: &'a Workload,
    old: Option<&'a Workload>,
    index: &'a PostureIndex,
    now: Timestamp,
    budget: &B,
) -> Result<Judgement<'a>, B::Exhausted> {
    let subject = Subject::new(w, index, now);
    let exceptions: Vec<&Exception> = index.exceptions().filter_map(|e| e.active(now)).collect();
    let expired: Vec<&Exception> = index
        .exceptions()
        .filter_map(|e| e.compiled.as_deref().ok())
        .filter(|e| e.state(now).0 == RiskExceptionState::Expired)
        .collect();
    let mut old_subject: Option<Subject<'_>> = None;
    let mut judged = Vec::new();
    for entry in index.policies() {
        let Ok(policy) = &entry.compiled else { continue };
        if !applies(policy, &subject) {
            continue;
        }
        budget.check()?;
        let trusted = |list: &[&'a Exception]| -> Vec<&'a Exception> {
            list.iter()
                .copied()
                .filter(|e| honours(policy, e, &w.namespace, &index.config.exception_namespaces))
                .collect()
        };
        let (active, lapsed) = (trusted(&exceptions), trusted(&expired));
        let honoured = Honoured { active: &active, expired: &lapsed };
        let defaults = &index.config.exception_namespaces;
        let mut found = policy_violations(policy, &subject, honoured, defaults);
        if policy.new_risk_only
            && let Some(old) = old
        {
            let old_s = old_subject.get_or_insert_with(|| Subject::new(old, index, now));
            let before: Vec<Violation> =
                policy_violations(policy, old_s, honoured, defaults).into_iter().map(Judged::into_unworded).collect();
            for j in &mut found {
                apply_ratchet(j, w, &before, old);
            }
        }
        judged.extend(found);
    }
    Ok(Judgement { judged, exempt: None, context: subject.overridden.clone() })
}

/// True when the policy's `match` selects the subject (every given criterion must hold).
pub fn applies(p: &Policy, s: &Subject<'_>) -> bool {
    let m = &p.matcher;
    let ns = &*s.workload.namespace;
    if m.exclude_namespaces.iter().any(|n| n == ns) {
        return false;
    }
    if !m.namespaces.is_empty() && !m.namespaces.iter().any(|n| n == ns) {
        return false;
    }
    if let Some(sel) = &m.namespace_selector
        && !sel.matches(&s.namespace_labels)
    {
        return false;
    }
    if let Some(sel) = &m.app_selector
        && !s.apps.iter().any(|a| sel.matches(&a.labels))
    {
        return false;
    }
    if !m.criticalities.is_empty() && !m.criticalities.contains(&s.criticality) {
        return false;
    }
    if !m.exposures.is_empty() && !m.exposures.contains(&s.exposure) {
        return false;
    }
    m.kinds.is_empty() || m.kinds.contains(&s.workload.kind)
}

/// True when the policy trusts exceptions from the exception's namespace for this workload.
pub fn honours(p: &Policy, e: &Exception, workload_ns: &str, default_namespaces: &[String]) -> bool {
    let settings = &p.exceptions;
    if settings.disabled {
        return false;
    }
    let allowed =
        if settings.allowed_namespaces.is_empty() { default_namespaces } else { &settings.allowed_namespaces };
    allowed.iter().any(|n| **n == *e.namespace) || (settings.allow_same_namespace && *e.namespace == *workload_ns)
}

/// The violations of one policy, exceptions applied, ratchet not applied.
fn policy_violations<'a>(
    p: &'a Arc<Policy>,
    s: &Subject<'a>,
    honoured: Honoured<'_>,
    defaults: &'a [String],
) -> Vec<Judged<'a>> {
    let mut out = Vec::new();
    let mut unscanned_reported = Vec::new();
    for (index, rule) in p.rules.iter().enumerate() {
        let mut hits: Vec<(Hit<'_>, Enforcement)> = Vec::new();
        match &rule.check {
            Check::ImageReference(r) => {
                hits.extend(
                    s.workload
                        .containers
                        .iter()
                        .filter_map(|c| rules::image_reference::check(r, c))
                        .map(|h| (h, p.enforcement)),
                );
            }
            Check::WorkloadSecurity(r) => {
                hits.extend(rules::workload_security::check(r, s.workload).map(|h| (h, p.enforcement)))
            }
            Check::Ownership(r) => hits.extend(rules::ownership::check(r, s).map(|h| (h, p.enforcement))),
            Check::ScanRequired(r) => {
                hits.extend(
                    s.images
                        .iter()
                        .filter_map(|i| rules::evidence::scan_required(r, i, s.now))
                        .map(|h| (h, p.enforcement)),
                );
            }
            Check::SbomRequired => {
                hits.extend(s.images.iter().filter_map(rules::evidence::sbom_required).map(|h| (h, p.enforcement)));
            }
            check
            @ (Check::Vulnerabilities(_) | Check::RiskScore(_) | Check::Components(_) | Check::Remediation(_)) => {
                for img in &s.images {
                    let judged = img.scanned()
                        || (matches!(check, Check::Components(_)) && img.posture.is_some_and(|p| p.has_sbom()));
                    if !judged {
                        if let Some(h) = unscanned(p, img, &mut unscanned_reported) {
                            hits.push(h);
                        }
                        continue;
                    }
                    let hit = precomputed::image_hit(p, index, img, s);
                    hits.extend(hit.map(|h| (h, p.enforcement)));
                }
            }
        }
        for (hit, enforcement) in hits {
            out.push(finish(p, rule, hit, enforcement, s, honoured, defaults));
        }
    }
    out
}

/// The violation for an image no scanner has reported on, per `onUnscanned` (once per
/// policy and image).
fn unscanned<'a>(p: &Policy, img: &ImageCtx<'a>, seen: &mut Vec<&'a ImageRef>) -> Option<(Hit<'a>, Enforcement)> {
    let enforcement = match p.on_unscanned {
        OnUnscanned::Allow => return None,
        OnUnscanned::Warn => Enforcement::Warn,
        OnUnscanned::Deny => p.enforcement,
    };
    if seen.contains(&img.image) {
        return None;
    }
    seen.push(img.image);
    Some((
        Hit {
            container: Some(img.container),
            image: Some(img.image),
            header: format!("{} has no scan report yet, so its vulnerabilities cannot be judged", img.label),
            items: Vec::new(),
            advice: "Wait for the scanner (or scan it in CI) and retry".into(),
        },
        enforcement,
    ))
}

/// Exceptions from the index that a policy trusts for a workload: the active ones, which
/// waive, and the expired ones, which a denial names (issue 16 §4).
#[derive(Clone, Copy)]
struct Honoured<'e> {
    active: &'e [&'e Exception],
    expired: &'e [&'e Exception],
}

fn finish<'a>(
    p: &'a Policy,
    rule: &'a Rule,
    mut hit: Hit<'a>,
    enforcement: Enforcement,
    s: &Subject<'a>,
    honoured: Honoured<'_>,
    defaults: &'a [String],
) -> Judged<'a> {
    let in_scope = |e: &Exception| {
        e.covers_rule(&p.name, &rule.name, rule.check.type_name())
            && e.covers_target(s.workload, &s.app_names, hit.image)
    };
    let mut excepted_by = Vec::new();
    // Exceptions that waived some items, and how many: together they may waive them all.
    let mut waivers: Vec<(String, usize)> = Vec::new();
    // Copied only once an exception waives items (never on the common path without one).
    let mut all_items: Option<Vec<_>> = None;
    for e in honoured.active.iter().copied() {
        if !in_scope(e) {
            continue;
        }
        if e.findings.is_empty() {
            excepted_by.push(e.id());
            continue;
        }
        if hit.items.is_empty() {
            continue;
        }
        let before = hit.items.len();
        if all_items.is_none() && hit.items.iter().any(|i| e.covers_finding(i.ids())) {
            all_items = Some(hit.items.clone());
        }
        hit.items.retain(|i| !e.covers_finding(i.ids()));
        if hit.items.len() < before {
            waivers.push((e.id(), before - hit.items.len()));
        }
    }
    let partly = if let Some(all) = all_items.filter(|_| hit.items.is_empty()) {
        // Waived entirely: the violation keeps the items it waives (the CVE ids), so outputs
        // and audit records say what was accepted.
        excepted_by.extend(waivers.into_iter().map(|(id, _)| id));
        hit.items = all;
        Vec::new()
    } else {
        waivers.into_iter().map(|(id, n)| format!("{n} excepted by {id}")).collect()
    };
    // An exception that lapsed and would still cover what is left: the newly denied deploy
    // says which one, so its owner knows what to renew.
    let lapsed: Vec<String> = if excepted_by.is_empty() {
        honoured
            .expired
            .iter()
            .filter(|e| in_scope(e) && (e.findings.is_empty() || hit.items.iter().any(|i| e.covers_finding(i.ids()))))
            .map(|e| format!("RiskException {} expired at {}", e.id(), e.expires))
            .collect()
    } else {
        Vec::new()
    };
    let violation = Violation {
        policy: p.name.clone(),
        rule: rule.name.clone(),
        rule_type: rule.check.type_name(),
        enforcement,
        workload: s.workload_ref.clone(),
        container: hit.container.map(|c| c.name.clone()),
        image: hit.image.cloned(),
        items: hit.items.iter().map(|i| i.key.clone()).collect(),
        message: String::new(),
        excepted_by,
        preexisting: false,
    };
    Judged::new(violation, (p, rule), hit, partly, lapsed, (s.workload, defaults))
}

/// Marks a violation pre-existing when the running revision had the same violation with
/// every one of its items. Same means the same policy, rule and container, and the same
/// image in every container the violation is about: a container switched to another image
/// is new risk, even when the old image broke the same rules (issue 17 §5). That holds for
/// a violation of the workload as a whole too: each `workloadSecurity` item about a
/// container (`privileged:agent`) counts only when that container runs the same image in
/// both revisions, so a privileged container cannot keep its privilege while switching to
/// any image.
fn apply_ratchet(j: &mut Judged<'_>, new: &Workload, before: &[Violation], old: &Workload) {
    let v = j.violation();
    // Every container the violation or one of its items is about must run the same image
    // in both revisions; a container missing from either revision fails closed.
    let containers_unchanged =
        v.container.as_deref().into_iter().chain(j.item_containers().flatten()).all(|name| same_image(name, new, old));
    if !containers_unchanged {
        return;
    }
    let preexisting =
        before.iter().filter(|b| b.policy == v.policy && b.rule == v.rule && b.container == v.container).any(|b| {
            v.items.is_empty() && b.items.is_empty()
                || !v.items.is_empty() && v.items.iter().all(|i| b.items.contains(i))
        });
    if preexisting {
        j.violation_mut().preexisting = true;
    }
}

/// True when the named container runs the same image in both revisions (the parsed
/// reference when both parse, so `nginx:1.25` is `docker.io/library/nginx:1.25`; else the
/// text as written). False when either revision has no container of that name.
fn same_image(name: &str, new: &Workload, old: &Workload) -> bool {
    fn find<'w>(w: &'w Workload, name: &str) -> Option<(&'w Result<ImageRef, String>, &'w str)> {
        w.containers.iter().find(|c| &*c.name == name).map(|c| (&c.image, &*c.image_raw))
    }
    match (find(new, name), find(old, name)) {
        (Some((Ok(a), _)), Some((Ok(b), _))) => a == b,
        (Some((_, a)), Some((_, b))) => a == b,
        _ => false,
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
