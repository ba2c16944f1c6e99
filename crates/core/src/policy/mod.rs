//! Guardrail evaluation (pure): one workload in its context against the index's compiled
//! policies and exceptions → a [`Verdict`]. Admission, `stance check` and the operator's
//! audit all call [`admission::triage`] (which requests are judged, on what) and then
//! [`judge_policies`] / [`evaluate`].

pub mod admission;
pub mod budget;
pub mod context;
pub mod evaluate;
pub mod judgement;
pub mod precomputed;
pub mod rules;
pub mod verdict;

pub use admission::{AdmissionFacts, Operation, Skip, Triage, triage};
pub use budget::{Budget, Unlimited};
pub use evaluate::{evaluate, judge, judge_policies, judge_policies_within};
pub use judgement::{Judged, Judgement};
pub use verdict::{Effect, Verdict, Violation};
