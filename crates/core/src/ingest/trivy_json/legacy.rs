//! Legacy Trivy output (before `SchemaVersion`): a top-level array of results, handed to
//! the parser one result at a time.

use std::sync::Arc;

use serde_json::Value;

use super::artifact::image_from_target;
use super::model::ResultDoc;
use super::results::add_result;
use super::{Acc, Ctx};
use crate::ingest::FormatError;
use crate::ingest::error_path::typed_or_default;
use crate::model::{Artifact, Format, Report};

/// One legacy result (`[{Target, Type, Vulnerabilities}]` before `SchemaVersion` existed).
/// An OS result's target names the image (`debian (debian 10.8)`); others are paths.
pub(super) fn parse_legacy(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let result: ResultDoc = typed_or_default(Some(v), "")?;
    let target = result.target.get().unwrap_or("unknown");
    let artifact = image_from_target(target).map_or_else(|| Artifact::Other(Arc::from(target)), Artifact::Image);
    let source = crate::ingest::source(Format::TrivyJson, "Trivy", origin);
    let ctx = Ctx { source: source.clone(), first_seen: None };
    let mut acc = Acc::default();
    add_result(&ctx, &result, "", &artifact, &mut acc)?;
    let mut report = Report::new(source);
    report.scanned = vec![artifact];
    report.findings = acc.findings;
    report.components = acc.components;
    Ok(vec![report])
}
