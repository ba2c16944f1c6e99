//! What a guardrail is: the rule specifications users write, the compiled [`Policy`] and
//! [`Exception`] the index keeps, and version ranges. Evaluation is in [`crate::policy`].

pub mod compile;
pub mod exception;
pub mod remediation;
pub mod spec;

pub use compile::{Check, CompileError, MatchSource, Matcher, Policy, PolicySource, Rule};
pub use exception::{Exception, ExceptionSource};
pub use remediation::{RemediationPolicy, RemediationRule, SeverityDays};
pub use spec::{Enforcement, ExceptionSettings, GuardrailRule, OnUnscanned, RiskExceptionState};
