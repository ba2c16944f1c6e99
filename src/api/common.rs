//! Business-context vocabulary shared by several kinds, defined once in the core model
//! (`stance_core::model::context`) and re-exported here for the CRDs.

pub use stance_core::assessment::status::null_as_default;
pub use stance_core::model::{Criticality, DataClassification, Exposure, LocalRef};
