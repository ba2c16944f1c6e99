//! JSON Schema validation against the schemas committed in `tests/schemas` (see
//! `tests/schemas/SOURCES.md`): no network at test time, no remote `$ref`.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn schema_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas").join(name)
}

/// A validator for a schema document; its own `$schema` picks the draft. Formats (`uri`,
/// `date-time`, …) are checked too: GitHub rejects SARIF whose URIs do not parse.
pub fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options().should_validate_formats(true).build(schema).unwrap_or_else(|e| panic!("bad schema: {e}"))
}

/// The validator of a committed schema file (`tests/schemas/<name>`).
pub fn committed(name: &str) -> jsonschema::Validator {
    let path = schema_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    validator(&serde_json::from_str(&text).unwrap())
}

/// Every violation, as `instance path: message`, so a failing test names the field.
pub fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}
