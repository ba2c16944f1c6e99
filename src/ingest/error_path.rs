//! Deserialising scanner documents so that a type error names the field it is in
//! (`runs[0].results[3].level: invalid type …`).
//!
//! Two strategies, for two ways of reading a document:
//!
//! * [`typed`] / [`typed_or_default`] deserialize one level and name the offending field
//!   of that level. Parsers that read lists element by element (SARIF, ZAP, PolicyReport,
//!   Trivy JSON, Trivy Operator) call them at every level with the path so far, so the
//!   message names the element and field that is wrong.
//! * [`deserialize_located`] deserializes a whole document at once (CycloneDX, SPDX) and,
//!   on failure, descends to the deepest field that still fails on its own.
//!
//! Both rely on the format structs having only optional fields, so that a document reduced
//! to a single field fails exactly when that field is wrong.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `parent.child` (or `child` at the root).
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() { child.to_string() } else { format!("{parent}.{child}") }
}

/// Deserializes `v` into `T`; on failure the message names the offending field
/// (`path.field: invalid type …`). `T`'s fields must all have defaults, which is how the
/// lenient format structs are declared anyway.
pub(crate) fn typed<T: for<'de> Deserialize<'de>>(v: &Value, path: &str) -> Result<T, String> {
    T::deserialize(v).map_err(|e| {
        if let Value::Object(map) = v {
            for (key, value) in map {
                let mut one = Map::new();
                one.insert(key.clone(), value.clone());
                if let Err(inner) = T::deserialize(&Value::Object(one)) {
                    let inner = inner.to_string();
                    if !inner.starts_with("missing field") {
                        return format!("{}: {inner}", join(path, key));
                    }
                }
            }
        }
        if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
    })
}

/// [`typed`], with an absent or `null` value read as `T::default()`.
pub(crate) fn typed_or_default<T: DeserializeOwned + Default>(v: Option<&Value>, path: &str) -> Result<T, String> {
    match v {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => typed(v, path),
    }
}

/// Deserializes `T` from a value; on error, names the path of the offending field
/// (`components[12].licenses: invalid type: …`).
///
/// Every struct the SBOM parsers read has only optional fields, so a document reduced to
/// the path of one field fails exactly when that field is wrong: the error path is found
/// by descending into the first child whose reduced document still fails.
pub(crate) fn deserialize_located<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| {
        let path = locate::<T>(v);
        if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
    })
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn locate<T: DeserializeOwned>(root: &Value) -> String {
    fn wrap(steps: &[Step<'_>], leaf: &Value) -> Value {
        steps.iter().rev().fold(leaf.clone(), |inner, step| match step {
            Step::Key(k) => Value::Object(std::iter::once((k.to_string(), inner)).collect()),
            Step::Index(_) => Value::Array(vec![inner]),
        })
    }
    let mut steps: Vec<Step<'_>> = Vec::new();
    let mut current = root;
    'descend: loop {
        let children: Vec<(Step<'_>, &Value)> = match current {
            Value::Object(m) => m.iter().map(|(k, v)| (Step::Key(k.as_str()), v)).collect(),
            Value::Array(a) => a.iter().enumerate().map(|(i, v)| (Step::Index(i), v)).collect(),
            _ => break,
        };
        // A node of the wrong kind fails even when empty: the error is here, not below.
        let empty = if current.is_object() { Value::Object(Map::new()) } else { Value::Array(Vec::new()) };
        if !steps.is_empty() && T::deserialize(&wrap(&steps, &empty)).is_err() {
            break;
        }
        for (step, child) in children {
            steps.push(step);
            if T::deserialize(&wrap(&steps, child)).is_err() {
                current = child;
                continue 'descend;
            }
            steps.pop();
        }
        break;
    }
    let mut path = String::new();
    for step in &steps {
        match step {
            Step::Key(k) => path = join(&path, k),
            Step::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    path
}
