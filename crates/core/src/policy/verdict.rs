//! The outcome of evaluating a workload against the guardrails.

use std::sync::Arc;

use serde::Serialize;

use crate::guardrail::Enforcement;
use crate::model::ImageRef;

/// What a violation does to the request and how every output shows it. Derived from the
/// enforcement, the exceptions and the ratchet in one place ([`Violation::effect`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Counts against admission: `Enforce`, not excepted, not pre-existing.
    Deny,
    /// Shown to the client as a warning: `Warn`, or `Enforce` on a violation the running
    /// revision already had (`newRiskOnly`).
    Warn,
    /// Recorded only: `Audit`.
    Audit,
    /// Covered entirely by active RiskExceptions: recorded, never shown as open.
    Excepted,
}

impl Effect {
    /// `deny`, `warn`, `audit`, `excepted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Deny => "deny",
            Effect::Warn => "warn",
            Effect::Audit => "audit",
            Effect::Excepted => "excepted",
        }
    }
}

/// One rule broken by one workload (or one of its containers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub policy: Arc<str>,
    pub rule: Arc<str>,
    /// The rule type (`vulnerabilities`, `imageReference`, …).
    pub rule_type: &'static str,
    /// The enforcement that applies to this violation (an unscanned image under
    /// `onUnscanned: warn` is `Warn` whatever the policy says).
    pub enforcement: Enforcement,
    /// `Kind/namespace/name` of the workload.
    pub workload: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    /// The offending items: finding ids, package URLs, settings, labels.
    pub items: Vec<Arc<str>>,
    /// A message a developer can act on.
    pub message: String,
    /// Active RiskExceptions (`namespace/name`) that cover this violation entirely; a
    /// covered violation does not block.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excepted_by: Vec<String>,
    /// The running revision already had this violation (the `newRiskOnly` ratchet): it
    /// is reported as a warning instead of denying the update.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub preexisting: bool,
}

impl Violation {
    /// What this violation does (see [`Effect`]).
    pub fn effect(&self) -> Effect {
        if !self.excepted_by.is_empty() {
            Effect::Excepted
        } else {
            match self.enforcement {
                Enforcement::Enforce if self.preexisting => Effect::Warn,
                Enforcement::Enforce => Effect::Deny,
                Enforcement::Warn => Effect::Warn,
                Enforcement::Audit => Effect::Audit,
            }
        }
    }

    /// Not excepted: it counts as a violation in status, reports and compliance.
    pub fn is_open(&self) -> bool {
        self.effect() != Effect::Excepted
    }

    /// Counts against admission ([`Effect::Deny`]).
    pub fn blocks(&self) -> bool {
        self.effect() == Effect::Deny
    }

    /// The items as plain strings.
    pub fn item_strs(&self) -> Vec<&str> {
        self.items.iter().map(|i| &**i).collect()
    }

    /// Shown to the client as a warning ([`Effect::Warn`]).
    pub fn warns(&self) -> bool {
        self.effect() == Effect::Warn
    }

    /// Recorded only ([`Effect::Audit`] or [`Effect::Excepted`]).
    pub fn audits(&self) -> bool {
        matches!(self.effect(), Effect::Audit | Effect::Excepted)
    }

    /// `[policy/rule] message` — the form used in admission responses and CLI output.
    pub fn line(&self) -> String {
        let mut s = String::with_capacity(self.policy.len() + self.rule.len() + self.message.len() + 4);
        write_line(&mut s, self, |s| s.push_str(&self.message));
        s
    }
}

/// Appends `[policy/rule] message` to `out`, the message written by `message`, then why
/// the violation does not block when it does not.
pub(super) fn write_line(out: &mut String, v: &Violation, message: impl FnOnce(&mut String)) {
    out.push('[');
    out.push_str(&v.policy);
    out.push('/');
    out.push_str(&v.rule);
    out.push_str("] ");
    message(out);
    if v.preexisting {
        out.push_str(" (already present in the running revision; not blocking under newRiskOnly)");
    }
    if !v.excepted_by.is_empty() {
        out.push_str(" (excepted by RiskException ");
        out.push_str(&v.excepted_by.join(", "));
        out.push(')');
    }
}

/// Everything the guardrails said about one workload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub violations: Vec<Violation>,
    /// Why no policy applied, when that is the reason for an empty verdict (exempt namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt: Option<String>,
    /// Declared context that was ignored because it would lower what counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

impl Verdict {
    /// True when no violation blocks admission.
    pub fn allowed(&self) -> bool {
        !self.violations.iter().any(Violation::blocks)
    }

    /// Messages of blocking violations.
    pub fn denials(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.blocks())
    }

    /// Violations shown to the client as warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.warns())
    }

    /// Violations recorded only (audit or excepted).
    pub fn audits(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.audits())
    }

    /// "allow", "warn" or "deny".
    pub fn decision(&self) -> &'static str {
        if !self.allowed() {
            "deny"
        } else if self.warnings().next().is_some() {
            "warn"
        } else {
            "allow"
        }
    }
}
