//! What reading one object may cost: a decompression budget and a parse budget, both
//! counted per object (a file, a ConfigMap with all its keys, an upload), so memory stays
//! a small multiple of the budget whatever the input.
//!
//! - Gzip is inflated with a streaming limit ([`super::gzip::inflate`]): an object whose
//!   gzip content (all its keys and layers together) inflates past
//!   [`Limits::max_decompressed`] is refused before more is allocated.
//! - JSON and YAML are parsed into values node by node against [`Limits::max_nodes`]
//!   ([`parse_json`], [`parse_yaml_doc`]), so a small document of many tiny nodes
//!   (`[[],[],…]`, 32 bytes of tree per 3 bytes of text) is refused once it has cost the
//!   budget, not after it has built a tree ten times its size. YAML is first estimated
//!   from its structure characters ([`yaml_nodes_estimate`]): the YAML parser holds a
//!   whole document's events before building anything.
//!
//! A refused object is a [`Warning`](super::Warning) with its [`Refusal`], which callers
//! count in a metric.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Default [`Limits::max_decompressed`]: 16 MiB.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 16 << 20;
/// Default [`Limits::max_nodes`]: 1,048,576 (about 60 MiB of parsed tree at most; real
/// reports take 20–45 bytes of text per node, so 20–45 MiB of JSON).
pub const DEFAULT_MAX_NODES: u64 = 1 << 20;

/// The budget of one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes inflated from gzip, across every key and gzip layer of the object.
    pub max_decompressed: u64,
    /// JSON/YAML nodes (every value and every object key) and CSV lines, across the object.
    pub max_nodes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_decompressed: DEFAULT_MAX_DECOMPRESSED, max_nodes: DEFAULT_MAX_NODES }
    }
}

/// Why (part of) an object was refused. A bounded set: the label of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// A report channel (report ConfigMap, upload) carried a document that is not a report.
    NotAReport,
    /// Its gzip content inflates past [`Limits::max_decompressed`].
    Decompressed,
    /// It has more nodes than [`Limits::max_nodes`].
    Nodes,
    /// Documents nest deeper than `document::MAX_NESTING`.
    Nesting,
}

impl Refusal {
    /// `not_a_report`, `decompressed_size`, `nodes`, `nesting`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotAReport => "not_a_report",
            Refusal::Decompressed => "decompressed_size",
            Refusal::Nodes => "nodes",
            Refusal::Nesting => "nesting",
        }
    }
}

/// Nodes left to the object being read.
#[derive(Debug)]
pub struct NodeBudget {
    left: u64,
    exceeded: bool,
}

impl NodeBudget {
    /// A budget of `n` nodes.
    pub fn new(n: u64) -> NodeBudget {
        NodeBudget { left: n, exceeded: false }
    }

    /// Nodes left.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// True once a parse ran out of nodes.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Takes `n` nodes; false (and marked exceeded) when fewer are left.
    pub fn take(&mut self, n: u64) -> bool {
        if n > self.left {
            self.left = 0;
            self.exceeded = true;
            return false;
        }
        self.left -= n;
        true
    }
}

/// Parses JSON text into a value, node by node against `budget` (the same value
/// `serde_json::from_slice` gives, trailing whitespace allowed, anything else an error).
pub fn parse_json(text: &[u8], budget: &mut NodeBudget) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let v = Counted(budget).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Parses one YAML document (from `serde_yaml::Deserializer`'s iterator) node by node
/// against `budget`.
pub fn parse_yaml_doc(doc: serde_yaml::Deserializer<'_>, budget: &mut NodeBudget) -> Result<Value, serde_yaml::Error> {
    Counted(budget).deserialize(doc)
}

/// An upper estimate of the parser events (and so nodes) of YAML text, from the
/// characters that start them: flow collections (`[`, `{`, counted twice for their end),
/// separators (`,`, `:`) and lines. Real block YAML estimates about two per line; a flow
/// document of empty collections, three per two events.
pub fn yaml_nodes_estimate(text: &[u8]) -> u64 {
    text.iter()
        .map(|b| match b {
            b'[' | b'{' => 2,
            b',' | b':' | b'\n' => 1,
            _ => 0,
        })
        .sum()
}

/// The message of a parse stopped by the budget (the parsers' errors wrap it).
const OVER_BUDGET: &str = "node budget exceeded";

/// Deserializes a [`Value`] while taking one node per value and per object key.
struct Counted<'b>(&'b mut NodeBudget);

impl<'de> DeserializeSeed<'de> for Counted<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Counted<'_> {
    fn take<E: de::Error>(&mut self) -> Result<(), E> {
        if self.0.take(1) { Ok(()) } else { Err(E::custom(OVER_BUDGET)) }
    }
}

impl<'de> Visitor<'de> for Counted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(i) => self.visit_i64(i),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<Value, E> {
        self.take()?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v))
    }

    fn visit_none<E: de::Error>(mut self) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Counted(&mut *self.0))? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.take()?;
            let v = map.next_value_seed(Counted(&mut *self.0))?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_serde_json_does_within_the_budget() {
        let text = br#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": 18446744073709551615}"#;
        let mut budget = NodeBudget::new(100);
        let v = parse_json(text, &mut budget).unwrap();
        assert_eq!(v, serde_json::from_slice::<Value>(text).unwrap());
        // 1 root + 2 keys + the array and its 7 items + "b" and its object + the number.
        assert_eq!(budget.left(), 100 - 14);
        assert!(parse_json(b"[1] x", &mut NodeBudget::new(100)).is_err(), "trailing text");
    }

    #[test]
    fn stops_when_the_budget_runs_out() {
        let bomb = format!("[{}[]]", "[],".repeat(10_000));
        let mut budget = NodeBudget::new(1000);
        let err = parse_json(bomb.as_bytes(), &mut budget).unwrap_err();
        assert!(err.to_string().contains(OVER_BUDGET), "{err}");
        assert!(budget.exceeded());
        // The same through YAML.
        let mut budget = NodeBudget::new(1000);
        let doc = serde_yaml::Deserializer::from_slice(bomb.as_bytes()).next().unwrap();
        assert!(parse_yaml_doc(doc, &mut budget).is_err());
        assert!(budget.exceeded());
    }

    #[test]
    fn yaml_estimate_bounds_the_events() {
        // Block YAML: about two per line; a flow bomb: three per item.
        assert_eq!(yaml_nodes_estimate(b"a: 1\nb: [x, y]\n"), 2 + 2 + 1 + 1 + 1);
        assert_eq!(yaml_nodes_estimate(b"[[],[]]"), 2 + 2 + 1 + 2);
        let doc = serde_yaml::Deserializer::from_slice(b"a: 1\nb: {c: d}\n").next().unwrap();
        let mut budget = NodeBudget::new(100);
        let v = parse_yaml_doc(doc, &mut budget).unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "b": {"c": "d"}}));
    }
}
