//! Deserialising scanner documents so that a type error names the field it is in
//! (`runs[0].results[3].level: invalid type …`), with `serde_path_to_error` tracking the
//! path through the deserializer.
//!
//! Parsers that read lists element by element (SARIF, ZAP, PolicyReport, Trivy JSON, Trivy
//! Operator) call [`typed`] / [`typed_or_default`] at every level with the path so far;
//! whole-document parsers (CycloneDX, SPDX) call [`deserialize_located`].

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::FormatError;

/// `parent.child` (or `child` at the root).
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() { child.to_string() } else { format!("{parent}.{child}") }
}

/// `parent` then the path inside it as `serde_path_to_error` reports it (`.` when the
/// error is at the value itself).
fn located(parent: &str, inner: &serde_path_to_error::Path) -> String {
    let inner = inner.to_string();
    match (parent.is_empty(), inner == ".") {
        (_, true) => parent.to_string(),
        (true, false) => inner,
        (false, false) if inner.starts_with('[') => format!("{parent}{inner}"),
        (false, false) => format!("{parent}.{inner}"),
    }
}

/// Deserializes `v` into `T`; on failure the message names the offending field
/// (`path.field: invalid type …`).
pub(crate) fn typed<T: for<'de> Deserialize<'de>>(v: &Value, path: &str) -> Result<T, FormatError> {
    serde_path_to_error::deserialize(v).map_err(|e| FormatError::new(located(path, e.path()), e.inner().to_string()))
}

/// [`typed`], with an absent or `null` value read as `T::default()`.
pub(crate) fn typed_or_default<T: DeserializeOwned + Default>(v: Option<&Value>, path: &str) -> Result<T, FormatError> {
    match v {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => typed(v, path),
    }
}

/// Deserializes a whole document; on error, names the path of the offending field
/// (`components[12].licenses: invalid type: …`).
pub(crate) fn deserialize_located<T: DeserializeOwned>(v: &Value) -> Result<T, FormatError> {
    typed(v, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        #[serde(default)]
        name: Option<String>,
    }

    #[test]
    fn errors_name_the_field() {
        let v = serde_json::json!({"items": [{"name": "a"}, {"name": 3}]});
        let e = typed::<Doc>(&v, "").unwrap_err().to_string();
        assert!(e.starts_with("items[1].name: invalid type"), "{e}");
        let e = typed::<Doc>(&v, "runs[0]").unwrap_err().to_string();
        assert!(e.starts_with("runs[0].items[1].name: invalid type"), "{e}");
        let e = typed::<Item>(&serde_json::json!(3), "x[2]").unwrap_err().to_string();
        assert!(e.starts_with("x[2]: invalid type"), "{e}");
    }
}
