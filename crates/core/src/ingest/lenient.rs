//! Tolerant field types and readers for scanner output: identifiers written as numbers,
//! scores written as strings, `null` where a list or map belongs, blank text as absent.
//!
//! Two text types exist because the formats disagree about `null` inside lists and maps:
//! [`Text`] (Trivy JSON, Trivy Operator, and every parser's label and annotation maps:
//! YAML `team:` with no value is `null`) reads it as empty text, [`Scalar`] (SARIF, ZAP,
//! PolicyReport fields) rejects it; both read strings, numbers and booleans and reject
//! objects and arrays. [`Num`] reads numbers also written as strings (`"7.5"`).

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde_json::{Map, Value};

/// Reads any scalar as text; `null` too when `null_is_empty`.
struct ScalarVisitor {
    expecting: &'static str,
    null_is_empty: bool,
}

impl Visitor<'_> for ScalarVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        if self.null_is_empty { Ok(String::new()) } else { Err(E::invalid_type(Unexpected::Unit, &self)) }
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        if self.null_is_empty { Ok(String::new()) } else { Err(E::invalid_type(Unexpected::Option, &self)) }
    }
}

/// A scalar read as text: strings as they are, numbers and booleans printed (YAML reads an
/// unquoted `tag: 1.16` as a number), `null` as empty. Maps and lists are an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Text(pub String);

impl Text {
    /// The trimmed text, `None` when empty.
    pub(crate) fn get(&self) -> Option<&str> {
        let t = self.0.trim();
        (!t.is_empty()).then_some(t)
    }

    /// `Some(text)` for non-empty text.
    pub(crate) fn arc(&self) -> Option<Arc<str>> {
        self.get().map(Arc::from)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor { expecting: "a string", null_is_empty: true }).map(Text)
    }
}

/// A scalar read as text: strings, and numbers or booleans where a scanner (or YAML)
/// writes an identifier unquoted (`pluginid: 10038`, `rule: 5`). Objects and arrays are
/// type errors, and so is `null` (fields that may be `null` are `Option<Scalar>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Scalar(pub String);

impl std::ops::Deref for Scalar {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor { expecting: "a string or number", null_is_empty: false }).map(Scalar)
    }
}

/// A number, also accepted as a numeric string; `null` is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Num(pub Option<f64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Num, E> {
                Ok(Num(Some(n as f64)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Num, E> {
                Ok(Num(Some(n as f64)))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Num, E> {
                Ok(Num(Some(n)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Num, E> {
                if s.trim().is_empty() {
                    return Ok(Num(None));
                }
                s.trim().parse::<f64>().map(|n| Num(Some(n))).map_err(|_| E::invalid_value(Unexpected::Str(s), &self))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Num {
    /// The value when finite.
    pub(crate) fn get(self) -> Option<f64> {
        self.0.filter(|n| n.is_finite())
    }

    /// A line number or count (non-negative integer).
    pub(crate) fn line(self) -> Option<u64> {
        self.get().filter(|n| *n >= 1.0).map(|n| n as u64)
    }
}

/// `null` is the default value (scanners write `"rules": null`, `"repoDigests": null`).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list of values (absent or `null` → empty), with their indexes.
pub(crate) fn items(list: &Option<Vec<Value>>) -> impl Iterator<Item = (usize, &Value)> {
    list.iter().flatten().enumerate()
}

/// A non-empty, trimmed string from an optional text field.
pub(crate) fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// [`non_empty`], shared.
pub(crate) fn non_empty_arc(s: Option<&str>) -> Option<Arc<str>> {
    non_empty(s).map(Arc::from)
}

/// A scalar property as text (`"5.3"`, `5.3`, `true`); `None` for objects, arrays, null.
pub(crate) fn prop_str(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A numeric property written as a number or a numeric string.
pub(crate) fn prop_f32(props: &Map<String, Value>, key: &str) -> Option<f32> {
    match props.get(key)? {
        Value::Number(n) => n.as_f64().map(|f| f as f32),
        Value::String(s) => s.trim().parse::<f32>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_reads_scalars_and_null() {
        let t: Vec<Text> = serde_json::from_value(json!(["a", 1, 2.5, true, null])).unwrap();
        assert_eq!(t.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(), ["a", "1", "2.5", "true", ""]);
        let e = serde_json::from_value::<Text>(json!({})).unwrap_err().to_string();
        assert_eq!(e, "invalid type: map, expected a string");
    }

    #[test]
    fn scalar_rejects_null_outside_option() {
        let s: Vec<Option<Scalar>> = serde_json::from_value(json!([7, null])).unwrap();
        assert_eq!(s, [Some(Scalar("7".into())), None]);
        let e = serde_json::from_value::<Vec<Scalar>>(json!(["a", null])).unwrap_err().to_string();
        assert_eq!(e, "invalid type: null, expected a string or number");
        let e = serde_json::from_value::<Scalar>(json!([])).unwrap_err().to_string();
        assert_eq!(e, "invalid type: sequence, expected a string or number");
    }

    #[test]
    fn numbers_from_strings() {
        let n: Vec<Num> = serde_json::from_value(json!([1, "2.5", " ", null])).unwrap();
        assert_eq!(n, [Num(Some(1.0)), Num(Some(2.5)), Num(None), Num(None)]);
        assert!(serde_json::from_value::<Num>(json!("high")).is_err());
    }
}
