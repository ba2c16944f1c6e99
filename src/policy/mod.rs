//! Guardrail evaluation (pure): compiled policies and exceptions, rule checks, verdicts.

pub mod audit;
pub mod compile;
pub mod context;
pub mod evaluate;
pub mod exception;
pub mod judgement;
pub mod rules;
pub mod verdict;
pub mod version;

pub use compile::{Check, Policy, Rule};
pub use evaluate::{evaluate, judge};
pub use exception::Exception;
pub use judgement::{Judged, Judgement};
pub use verdict::{Verdict, Violation};
