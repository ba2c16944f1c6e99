//! Trivy's per-vendor CVSS map (`CVSS: {nvd: {V3Score: 9.8}, redhat: {…}}`), as the Trivy
//! JSON and Trivy Operator reports write it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::error_path::{join, typed_or_default};
use super::lenient::Num;
use crate::ingest::FormatError;

/// One vendor's CVSS scores (`CVSS.nvd`, `cvss.redhat`, …).
#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object of CVSS scores")]
struct CvssScores {
    #[serde(rename = "V3Score")]
    v3_score: Num,
}

/// The NVD v3 score, else the highest v3 score of any vendor, from a `CVSS` map
/// (`{"nvd": {"V3Score": 9.8}, "redhat": {…}}`) at `path`.
pub(crate) fn best_v3(cvss: &Option<BTreeMap<String, Value>>, path: &str) -> Result<Option<f32>, FormatError> {
    let mut nvd = None;
    let mut max: Option<f64> = None;
    for (vendor, v) in cvss.iter().flatten() {
        let scores: CvssScores = typed_or_default(Some(v), &join(path, vendor))?;
        let Some(score) = scores.v3_score.get() else { continue };
        if vendor == "nvd" {
            nvd = Some(score);
        }
        max = Some(max.map_or(score, |m| m.max(score)));
    }
    Ok(nvd.or(max).map(|s| s as f32))
}
