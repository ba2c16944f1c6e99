//! The SARIF 2.1.0 object model: only what is used; unknown fields are ignored, `null`
//! lists and maps are empty.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ingest::lenient::{Scalar, nullable};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Run {
    #[serde(deserialize_with = "nullable")]
    pub(super) tool: Tool,
    #[serde(deserialize_with = "nullable")]
    pub(super) version_control_provenance: Vec<VersionControl>,
    #[serde(deserialize_with = "nullable")]
    pub(super) invocations: Vec<Invocation>,
    #[serde(deserialize_with = "nullable")]
    pub(super) artifacts: Vec<ArtifactEntry>,
    #[serde(deserialize_with = "nullable")]
    pub(super) properties: Map<String, Value>,
    // `results` is read element by element (see `parse_run`), not cloned here.
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Tool {
    #[serde(deserialize_with = "nullable")]
    pub(super) driver: ToolComponent,
    #[serde(deserialize_with = "nullable")]
    pub(super) extensions: Vec<ToolComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ToolComponent {
    pub(super) name: Option<String>,
    pub(super) version: Option<Scalar>,
    pub(super) semantic_version: Option<Scalar>,
    #[serde(deserialize_with = "nullable")]
    pub(super) rules: Vec<Rule>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Rule {
    pub(super) id: Option<Scalar>,
    pub(super) name: Option<String>,
    pub(super) short_description: Option<Message>,
    pub(super) help_uri: Option<String>,
    pub(super) default_configuration: Option<Configuration>,
    #[serde(deserialize_with = "nullable")]
    pub(super) properties: Map<String, Value>,
    #[serde(deserialize_with = "nullable")]
    pub(super) message_strings: BTreeMap<String, Message>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Configuration {
    pub(super) level: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Message {
    pub(super) text: Option<String>,
    pub(super) id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub(super) arguments: Vec<Scalar>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct VersionControl {
    pub(super) repository_uri: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Invocation {
    pub(super) start_time_utc: Option<String>,
    pub(super) end_time_utc: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ArtifactEntry {
    pub(super) location: Option<ArtifactLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ArtifactLocation {
    pub(super) uri: Option<String>,
    pub(super) index: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SarifResult {
    pub(super) rule_id: Option<Scalar>,
    pub(super) rule_index: Option<i64>,
    pub(super) rule: Option<RuleReference>,
    pub(super) kind: Option<String>,
    pub(super) level: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub(super) message: Message,
    #[serde(deserialize_with = "nullable")]
    pub(super) locations: Vec<Location>,
    #[serde(deserialize_with = "nullable")]
    pub(super) fingerprints: BTreeMap<String, Scalar>,
    #[serde(deserialize_with = "nullable")]
    pub(super) partial_fingerprints: BTreeMap<String, Scalar>,
    #[serde(deserialize_with = "nullable")]
    pub(super) properties: Map<String, Value>,
    #[serde(deserialize_with = "nullable")]
    pub(super) suppressions: Vec<Suppression>,
    pub(super) baseline_state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct RuleReference {
    pub(super) id: Option<Scalar>,
    pub(super) index: Option<i64>,
    pub(super) tool_component: Option<ToolComponentReference>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ToolComponentReference {
    pub(super) name: Option<String>,
    pub(super) index: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Location {
    pub(super) physical_location: Option<PhysicalLocation>,
    #[serde(deserialize_with = "nullable")]
    pub(super) logical_locations: Vec<LogicalLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct PhysicalLocation {
    pub(super) artifact_location: Option<ArtifactLocation>,
    pub(super) region: Option<Region>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Region {
    pub(super) start_line: Option<i64>,
    pub(super) start_column: Option<i64>,
    pub(super) end_line: Option<i64>,
    pub(super) end_column: Option<i64>,
    pub(super) char_offset: Option<i64>,
    pub(super) char_length: Option<i64>,
    pub(super) byte_offset: Option<i64>,
    pub(super) byte_length: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct LogicalLocation {
    pub(super) name: Option<String>,
    pub(super) fully_qualified_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Suppression {
    pub(super) kind: Option<String>,
    pub(super) status: Option<String>,
    pub(super) justification: Option<String>,
}
