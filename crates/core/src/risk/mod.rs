//! Contextual risk: a finding's score in the context it runs in, and the network reach
//! that context starts from.

pub mod criticality;
pub mod reach;
pub mod score;

pub use reach::Reach;
pub use score::{Factor, RiskContext, RiskScore, age_counts_from, app_score, points, score, stable_window};
