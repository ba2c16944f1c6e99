//! Assessment (pure), above evaluation: an application's posture ([`app`]), an asset's
//! ([`asset`]), a RiskException's ([`exception`]), the audit of running workloads against
//! every policy ([`audit`]), and the status values and conditions the operator writes
//! ([`status`], [`condition`]); applications inferred from labels for workloads no
//! AppPosture selects ([`inferred`]) and findings on artifacts that run nowhere
//! ([`not_running`]).

pub mod app;
pub mod asset;
pub mod audit;
pub mod condition;
pub mod exception;
pub mod inferred;
pub mod not_running;
pub mod status;

pub use app::{AppSummary, Assessment, Ranked, assess};
pub use asset::assess_asset;
pub use condition::ConditionState;
pub use exception::{exception_state, exception_status, unmatched};

#[cfg(test)]
mod tests;
