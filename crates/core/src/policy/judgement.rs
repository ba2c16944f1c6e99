//! A verdict whose messages are written on demand.
//!
//! A Pod under 50 policies can break 50 rules, but an admission answer shows at most 20
//! warnings and 4 KB of denial. [`judge`](super::evaluate::judge) therefore returns each
//! violation with the parts of its message, borrowed from the workload and the index, and a
//! caller writes only the messages it shows (with 45 violations, 12 % less work than
//! writing them all; BENCHMARKS.md). [`Judgement::into_verdict`] writes them all (the CLI, the
//! operator's status and reports).

use std::borrow::Cow;
use std::fmt::Write;

use super::rules::{self, Hit, Item};
use super::verdict::{Effect, Verdict, Violation, write_line};
use crate::guardrail::{Check, Policy, Rule};
use crate::model::Workload;

/// One violation and what its message is made of.
#[derive(Debug)]
pub struct Judged<'a> {
    /// The violation with an empty `message`; [`Judged::message`] writes it.
    violation: Violation,
    wording: Wording<'a>,
}

/// The parts of a message: "header: items…. advice (partial exceptions). hint".
#[derive(Debug)]
struct Wording<'a> {
    policy: &'a Policy,
    rule: &'a Rule,
    header: String,
    /// The items left after exceptions (the violation's `items` are their keys).
    items: Vec<Item<'a>>,
    advice: Cow<'static, str>,
    /// "N excepted by ns/name" for exceptions that cover some items only.
    partly: Vec<String>,
    /// "RiskException ns/name expired at T" for expired exceptions that would cover it.
    lapsed: Vec<String>,
    /// The workload judged (the hint names it).
    workload: &'a Workload,
    /// Where RiskExceptions are honoured by default, for the hint on how to accept the risk;
    /// `None` when no hint is given (excepted or audit-only).
    hint: Option<&'a [String]>,
}

impl<'a> Judged<'a> {
    /// A violation (its `message` is ignored and left empty) and the hit it words, with
    /// the exceptions that cover part of its items and the expired ones that would cover it,
    /// for the workload judged under the index's default exception namespaces.
    pub(super) fn new(
        mut violation: Violation,
        (policy, rule): (&'a Policy, &'a Rule),
        hit: Hit<'a>,
        partly: Vec<String>,
        lapsed: Vec<String>,
        (workload, exception_namespaces): (&'a Workload, &'a [String]),
    ) -> Judged<'a> {
        violation.message = String::new();
        // Where to ask for an exception helps only someone who is denied or warned.
        let hint = matches!(violation.effect(), Effect::Deny | Effect::Warn).then_some(exception_namespaces);
        let Hit { header, items, advice, .. } = hit;
        let wording = Wording { policy, rule, header, items, advice, partly, lapsed, workload, hint };
        Judged { violation, wording }
    }

    /// The violation, without its message.
    pub fn violation(&self) -> &Violation {
        &self.violation
    }

    pub(super) fn violation_mut(&mut self) -> &mut Violation {
        &mut self.violation
    }

    /// The names of the containers its items are about, when the violation is about the
    /// workload as a whole (see [`Item::container`]); one per item, in item order.
    pub(super) fn item_containers(&self) -> impl Iterator<Item = Option<&'a str>> + '_ {
        self.wording.items.iter().map(|i| i.container.map(|c| &*c.name))
    }

    /// Appends the message a developer can act on to `out`.
    pub fn write_message(&self, out: &mut String) {
        let w = &self.wording;
        rules::write_message(out, &w.header, &w.items, &w.advice);
        if !w.partly.is_empty() {
            out.push_str(" (");
            out.push_str(&w.partly.join(", "));
            out.push(')');
        }
        if let Some(defaults) = w.hint {
            for lapsed in &w.lapsed {
                out.push_str(". ");
                out.push_str(lapsed);
            }
            out.push_str(". ");
            // A denial spells out the RiskException's fields; a warning, which Kubernetes cuts
            // at 512 bytes, names only where and for what (the ratchet may have made this one).
            write_exception_hint(out, w, defaults, self.violation.effect() == Effect::Deny);
        }
    }

    /// The message a developer can act on.
    pub fn message(&self) -> String {
        let w = &self.wording;
        let mut out =
            String::with_capacity(w.header.len() + w.advice.len() + 160 + w.items.len().min(rules::MAX_LISTED) * 96);
        self.write_message(&mut out);
        out
    }

    /// `[policy/rule] message` (see [`Violation::line`]).
    pub fn line(&self) -> String {
        let v = &self.violation;
        let mut out = String::with_capacity(v.policy.len() + v.rule.len() + 4 + 256);
        write_line(&mut out, v, |out| self.write_message(out));
        out
    }

    /// The violation with its message written.
    pub fn into_violation(self) -> Violation {
        let message = self.message();
        Violation { message, ..self.violation }
    }

    /// The violation, its message left empty.
    pub fn into_unworded(self) -> Violation {
        self.violation
    }
}

/// Appends how to accept the risk: the RiskException, field by field, that would waive this
/// violation — where it must live, `spec.policy`, `spec.rules`, the item ids for
/// `spec.findings` (rules whose items are findings or packages), and the workload's namespace
/// and name for `spec.match` (docs/request-an-exception.md explains each).
fn write_exception_hint(out: &mut String, w: &Wording<'_>, default_namespaces: &[String], full: bool) {
    // `push_str` rather than `write!`: every denial and warning carries this text, and the
    // formatting machinery was a sixth of a full evaluation (BENCHMARKS.md).
    let settings = &w.policy.exceptions;
    let policy = &*w.policy.name;
    if settings.disabled {
        push_all(out, &["GuardrailPolicy ", policy, " accepts no RiskExceptions (spec.exceptions.disabled)"]);
        return;
    }
    let trusted =
        if settings.allowed_namespaces.is_empty() { default_namespaces } else { &settings.allowed_namespaces };
    let namespace =
        trusted.first().map(String::as_str).or_else(|| settings.allow_same_namespace.then_some(&*w.workload.namespace));
    let Some(namespace) = namespace else {
        push_all(
            out,
            &[
                "GuardrailPolicy ",
                policy,
                " trusts RiskExceptions from no namespace (spec.exceptions), so none can waive this",
            ],
        );
        return;
    };
    let rule = &*w.rule.name;
    if !full {
        push_all(
            out,
            &[
                "To accept the risk, ask for a RiskException in namespace ",
                namespace,
                " (policy: ",
                policy,
                ", rules: [",
                rule,
                "])",
            ],
        );
        return;
    }
    push_all(
        out,
        &[
            "To accept the risk, ask for a RiskException in namespace ",
            namespace,
            " with spec: {policy: ",
            policy,
            ", rules: [",
            rule,
            "]",
        ],
    );
    if matches!(w.rule.check, Check::Vulnerabilities(_) | Check::RiskScore(_) | Check::Components(_))
        && !w.items.is_empty()
    {
        out.push_str(", findings: [");
        for (n, item) in w.items.iter().take(MAX_HINTED).enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str(&item.key);
        }
        if w.items.len() > MAX_HINTED {
            let _ = write!(out, ", and {} more", w.items.len() - MAX_HINTED);
        }
        out.push(']');
    }
    push_all(
        out,
        &[
            ", match: {namespaces: [",
            &w.workload.namespace,
            "], workloads: [",
            &w.workload.name,
            "]}, justification: why the risk is acceptable, expires: an RFC 3339 time}",
        ],
    );
}

fn push_all(out: &mut String, parts: &[&str]) {
    parts.iter().for_each(|p| out.push_str(p));
}

/// How many item ids the exception hint lists for `spec.findings`.
const MAX_HINTED: usize = 10;

/// Everything the guardrails said about one workload, messages not yet written.
#[derive(Debug, Default)]
pub struct Judgement<'a> {
    pub judged: Vec<Judged<'a>>,
    /// Why no policy applied, when that is the reason for an empty judgement.
    pub exempt: Option<String>,
    /// Declared context (AppPosture criticality or exposure) that was ignored because it
    /// would lower what counts (`index::context`): shown so the team sees why a policy
    /// for internet-facing or critical applications still applies.
    pub context: Vec<String>,
}

impl<'a> Judgement<'a> {
    /// Violations that count against admission.
    pub fn denials(&self) -> impl Iterator<Item = &Judged<'a>> {
        self.judged.iter().filter(|j| j.violation.blocks())
    }

    /// Violations shown to the client as warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Judged<'a>> {
        self.judged.iter().filter(|j| j.violation.warns())
    }

    /// True when nothing blocks admission.
    pub fn allowed(&self) -> bool {
        self.denials().next().is_none()
    }

    /// The verdict with every message written.
    pub fn into_verdict(self) -> Verdict {
        Verdict {
            violations: self.judged.into_iter().map(Judged::into_violation).collect(),
            exempt: self.exempt,
            context: self.context,
        }
    }

    /// The violations with messages written for the first `worded` non-blocking ones only
    /// (what an admission audit record shows); the others' messages are empty.
    pub fn into_violations(self, worded: usize) -> Vec<Violation> {
        let mut left = worded;
        self.judged
            .into_iter()
            .map(|j| {
                if left > 0 && !j.violation.blocks() {
                    left -= 1;
                    j.into_violation()
                } else {
                    j.into_unworded()
                }
            })
            .collect()
    }
}
