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
use crate::guardrail::{Policy, Rule};

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
    /// Where RiskExceptions are honoured, for the hint on how to accept the risk;
    /// `None` when no hint is given (excepted or audit-only).
    hint: Option<&'a [String]>,
}

impl<'a> Judged<'a> {
    /// A violation (its `message` is ignored and left empty) and the hit it words, with
    /// the exceptions that cover part of its items.
    pub(super) fn new(
        mut violation: Violation,
        (policy, rule): (&'a Policy, &'a Rule),
        hit: Hit<'a>,
        partly: Vec<String>,
        exception_namespaces: &'a [String],
    ) -> Judged<'a> {
        violation.message = String::new();
        // Where to ask for an exception helps only someone who is denied or warned.
        let hint = matches!(violation.effect(), Effect::Deny | Effect::Warn).then_some(exception_namespaces);
        let Hit { header, items, advice, .. } = hit;
        Judged { violation, wording: Wording { policy, rule, header, items, advice, partly, hint } }
    }

    /// The violation, without its message.
    pub fn violation(&self) -> &Violation {
        &self.violation
    }

    pub(super) fn violation_mut(&mut self) -> &mut Violation {
        &mut self.violation
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
            out.push_str(". ");
            write_exception_hint(out, w.policy, w.rule, defaults);
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

/// Appends where to ask for an exception, for messages.
fn write_exception_hint(out: &mut String, p: &Policy, rule: &Rule, default_namespaces: &[String]) {
    let ns =
        if p.exceptions.allowed_namespaces.is_empty() { default_namespaces } else { &p.exceptions.allowed_namespaces };
    out.push_str("To accept the risk, ask for a RiskException");
    if let Some(n) = ns.first() {
        let _ = write!(out, " in namespace {n}");
    }
    let _ = write!(out, " (policy: {}, rules: [{}])", p.name, rule.name);
}

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
