//! (parser not written yet)

use serde_json::Value;

use crate::model::Report;

/// True when `v` is a document of this format.
pub fn detect(_v: &Value) -> bool {
    false
}

/// Parses one document of this format.
pub fn parse(_origin: &str, _v: &Value) -> Result<Vec<Report>, String> {
    Err("parser not written yet".into())
}
