//! Correlation, risk scoring, exposure and the in-memory index (pure).

pub mod app;
pub mod asset;
pub mod correlate;
pub mod exposure;
pub mod index;
pub mod interner;
pub mod packages;
pub mod risk;
pub mod topology;

pub use index::{ArtifactPosture, IndexConfig, PostureIndex, SharedIndex};
pub use risk::{Factor, Reach, RiskContext, RiskScore};
pub use topology::app_selects;

#[cfg(test)]
mod tests;
