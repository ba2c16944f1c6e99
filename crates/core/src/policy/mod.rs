//! Guardrail evaluation (pure): one workload in its context against the index's compiled
//! policies and exceptions → a [`Verdict`]. Admission, `stance check` and the operator's
//! audit all call [`evaluate`] / [`judge`].

pub mod context;
pub mod evaluate;
pub mod judgement;
pub mod rules;
pub mod verdict;

pub use evaluate::{evaluate, judge, judge_policies};
pub use judgement::{Judged, Judgement};
pub use verdict::{Effect, Verdict, Violation};
