//! Recognising a document and dispatching it to its format's parser.
//!
//! Kubernetes objects that are not reports (workloads, Services, Stance's own kinds, …)
//! are not this crate's to read: they come back as [`Parsed::Kubernetes`], raw, for the
//! caller to convert with the Kubernetes types it owns.

use serde_json::Value;

use super::budget::{self, Limits, NodeBudget, Refusal};
use super::gzip::{self, InflateError};
use super::{Epss, FormatError, Kev, Warning, timestamp};
use super::{
    checkov, csaf, gitleaks, grype, kubescape, kyverno_exception, npm_audit, openvex, osv_scanner, semgrep, snyk, spdx3,
};
use super::{config_map, cyclonedx, epss, kev, policy_report, sarif, spdx, trivy_json, trivy_operator, zap};
use crate::model::{Provenance, Report};

/// One recognised document.
#[derive(Debug)]
pub enum Parsed {
    Report(Report),
    /// A Kubernetes object that is not a report, as read: the caller converts it.
    Kubernetes {
        origin: String,
        object: Box<Value>,
    },
    Kev(Kev),
    Epss(Epss),
}

/// How many documents may nest inside one another (gzip inside gzip, a report-carrying
/// ConfigMap inside a gzip'ed file, …) before the innermost is refused. Real files nest
/// a few levels (`x.yaml.gz` → ConfigMap → gzip'ed `binaryData`); a crafted file can
/// nest thousands, which would overflow the stack.
pub const MAX_NESTING: u32 = 8;

/// Reads the objects a caller hands in: it knows where each came from (its
/// [`Provenance`], stamped on every report read from it) and what reading it may cost
/// ([`Limits`], a fresh budget per object).
#[derive(Clone, Debug, Default)]
pub struct Reader {
    pub provenance: Provenance,
    pub limits: Limits,
}

impl Reader {
    /// A reader of objects from one channel, observed at one time.
    pub fn new(provenance: Provenance, limits: Limits) -> Reader {
        Reader { provenance, limits }
    }

    /// Reads the bytes of one object (a file, an upload): gzip, JSON, EPSS CSV or
    /// (multi-document) YAML. Problems become warnings naming `origin`; the rest is kept.
    pub fn read_bytes(&self, origin: &str, bytes: &[u8], out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
        bytes_in(&mut self.start(), origin, bytes, out, warnings);
    }

    /// Reads one object already parsed (a watched object, a manifest value).
    pub fn read_value(&self, origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
        value_in(&mut self.start(), origin, v, out, warnings);
    }

    /// Reads a report-carrying ConfigMap as an object of its own (a watched ConfigMap):
    /// the ConfigMap is the channel of everything in it, whatever the reader's channel.
    pub fn read_config_map(&self, origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
        if config_map::is_report_config_map(v) {
            config_map::parse(&mut self.start(), origin, v, out, warnings);
        } else {
            warn(warnings, origin, format!("not a ConfigMap labelled {}", crate::names::REPORT_LABEL));
        }
    }

    fn start(&self) -> Reading {
        Reading {
            provenance: self.provenance.clone(),
            limits: self.limits,
            inflated: 0,
            nodes: NodeBudget::new(self.limits.max_nodes),
            depth: 0,
        }
    }
}

/// The state of reading one object: its channel (which changes inside a report-carrying
/// ConfigMap) and what it has cost so far, across all its keys and layers.
pub(super) struct Reading {
    pub(super) provenance: Provenance,
    limits: Limits,
    /// Bytes inflated from gzip so far.
    inflated: u64,
    nodes: NodeBudget,
    /// Documents open around the one being read.
    depth: u32,
}

/// [`Reader::read_bytes`] for a file read without a clock (trusted, dates as written,
/// default limits): tests and tools. Stance's own readers stamp the real provenance.
pub fn parse_bytes(origin: &str, bytes: &[u8], out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    Reader::default().read_bytes(origin, bytes, out, warnings);
}

/// [`Reader::read_value`] with the defaults of [`parse_bytes`].
pub fn parse_value(origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    Reader::default().read_value(origin, v, out, warnings);
}

/// `n` bytes in MiB, for messages.
fn mib(n: u64) -> String {
    if n % (1 << 20) == 0 { format!("{} MiB", n >> 20) } else { format!("{n} bytes") }
}

/// Parses the bytes of one file or ConfigMap value within the object's budget.
pub(super) fn bytes_in(
    reading: &mut Reading,
    origin: &str,
    bytes: &[u8],
    out: &mut Vec<Parsed>,
    warnings: &mut Vec<Warning>,
) {
    if reading.depth >= MAX_NESTING {
        let message =
            format!("not read: documents nest more than {MAX_NESTING} deep (gzip in gzip, ConfigMap in ConfigMap)");
        return refuse(warnings, origin, message, Refusal::Nesting);
    }
    reading.depth += 1;
    read_bytes_at_depth(reading, origin, bytes, out, warnings);
    reading.depth -= 1;
}

fn read_bytes_at_depth(
    reading: &mut Reading,
    origin: &str,
    bytes: &[u8],
    out: &mut Vec<Parsed>,
    warnings: &mut Vec<Warning>,
) {
    if gzip::is_gzip(bytes) {
        let limit = reading.limits.max_decompressed;
        let left = limit.saturating_sub(reading.inflated);
        match gzip::inflate(bytes, left) {
            Ok(inflated) => {
                reading.inflated += inflated.len() as u64;
                bytes_in(reading, origin, &inflated, out, warnings)
            }
            Err(InflateError::TooLarge { .. }) => {
                reading.inflated = limit;
                let message = format!(
                    "refused: its gzip content inflates past {}, the decompressed-size limit per object (all its keys \
                     and gzip layers together)",
                    mib(limit)
                );
                refuse(warnings, origin, message, Refusal::Decompressed)
            }
            Err(e @ InflateError::Invalid(_)) => warn(warnings, origin, e.to_string()),
        }
        return;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = text.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first {
        None => {}
        Some(b'{') | Some(b'[') => match budget::parse_json(text, &mut reading.nodes) {
            Ok(v) => value_in(reading, origin, &v, out, warnings),
            Err(_) if reading.nodes.exceeded() => over_nodes(reading, origin, warnings),
            Err(e) => warn(warnings, origin, format!("invalid JSON: {e}")),
        },
        _ if epss::detect(text) => {
            if reading.provenance.channel.reports_only() {
                return not_a_report(reading, origin, "a FIRST EPSS CSV".into(), warnings);
            }
            // One node per line: the scores it holds.
            let lines = text.iter().filter(|&&b| b == b'\n').count() as u64;
            if !reading.nodes.take(lines) {
                return over_nodes(reading, origin, warnings);
            }
            match epss::parse(text) {
                Ok(e) => out.push(Parsed::Epss(e)),
                Err(e) => warn(warnings, origin, format!("EPSS CSV: {e}")),
            }
        }
        _ => parse_yaml(reading, origin, text, out, warnings),
    }
}

fn parse_yaml(reading: &mut Reading, origin: &str, text: &[u8], out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    // The YAML parser holds every event of a document before a value is built: estimate
    // the events from the text first, so a document of many tiny nodes is refused before
    // it is loaded.
    if budget::yaml_nodes_estimate(text) > reading.nodes.left() {
        reading.nodes.take(u64::MAX);
        return over_nodes(reading, origin, warnings);
    }
    for (i, doc) in serde_yaml::Deserializer::from_slice(text).enumerate() {
        let doc_origin = format!("{origin}#{i}");
        match budget::parse_yaml_doc(doc, &mut reading.nodes) {
            Ok(Value::Null) => {}
            Ok(v) => value_in(reading, &doc_origin, &v, out, warnings),
            Err(_) if reading.nodes.exceeded() => return over_nodes(reading, &doc_origin, warnings),
            Err(e) => {
                warn(warnings, &doc_origin, format!("invalid YAML: {e}"));
                // serde_yaml cannot resynchronise after a syntax error in a stream.
                break;
            }
        }
    }
}

fn over_nodes(reading: &Reading, origin: &str, warnings: &mut Vec<Warning>) {
    let message = format!(
        "refused: more than {} JSON/YAML nodes, the parse limit per object (all its keys together)",
        reading.limits.max_nodes
    );
    refuse(warnings, origin, message, Refusal::Nodes)
}

/// Parses one JSON/YAML value: unwraps `List` kinds, JSON arrays and DefectDojo-style
/// dictionaries of lists, then recognises the document and parses it.
pub(super) fn value_in(
    reading: &mut Reading,
    origin: &str,
    v: &Value,
    out: &mut Vec<Parsed>,
    warnings: &mut Vec<Warning>,
) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                value_in(reading, &format!("{origin}[{i}]"), item, out, warnings);
            }
            return;
        }
        Value::Object(map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            if let Some(Value::Array(items)) = map.get("items")
                && (kind == "List" || kind.ends_with("List"))
            {
                for (i, item) in items.iter().enumerate() {
                    value_in(reading, &format!("{origin}/items[{i}]"), item, out, warnings);
                }
                return;
            }
            if is_dict_of_lists(map) {
                for (key, items) in map {
                    value_in(reading, &format!("{origin}/{key}"), items, out, warnings);
                }
                return;
            }
        }
        _ => {
            warn(warnings, origin, "not a recognised document: expected a JSON/YAML object".into());
            return;
        }
    }
    dispatch(reading, origin, v, out, warnings);
}

/// `{"vulnerabilityreports.aquasecurity.github.io": [ … ], …}` as DefectDojo exports it:
/// every value an array, every key a resource name.
fn is_dict_of_lists(map: &serde_json::Map<String, Value>) -> bool {
    !map.is_empty() && !map.contains_key("apiVersion") && map.iter().all(|(k, v)| k.contains('.') && v.is_array())
}

/// A report format: its name (for messages), how to recognise it, how to parse it.
type ReportFormat = (&'static str, fn(&Value) -> bool, fn(&str, &Value) -> Result<Vec<Report>, FormatError>);

/// Report formats in the order they are tried. Kubernetes-object formats first (they are
/// recognised by `apiVersion`/`kind`), then content-recognised files.
const REPORT_FORMATS: [ReportFormat; 18] = [
    ("Trivy Operator report", trivy_operator::detect, trivy_operator::parse),
    ("PolicyReport", policy_report::detect, policy_report::parse),
    ("CycloneDX", cyclonedx::detect, cyclonedx::parse),
    ("SPDX", spdx::detect, spdx::parse),
    ("SARIF", sarif::detect, sarif::parse),
    ("Trivy JSON", trivy_json::detect, trivy_json::parse),
    ("ZAP JSON", zap::detect, zap::parse),
    ("Grype JSON", grype::detect, grype::parse),
    ("Snyk JSON", snyk::detect, snyk::parse),
    ("OSV-Scanner JSON", osv_scanner::detect, osv_scanner::parse),
    ("npm audit JSON", npm_audit::detect, npm_audit::parse),
    ("Semgrep JSON", semgrep::detect, semgrep::parse),
    ("Gitleaks JSON", gitleaks::detect, gitleaks::parse),
    ("Checkov JSON", checkov::detect, checkov::parse),
    ("Kubescape JSON", kubescape::detect, kubescape::parse),
    ("SPDX 3 JSON-LD", spdx3::detect, spdx3::parse),
    ("OpenVEX", openvex::detect, openvex::parse),
    ("CSAF", csaf::detect, csaf::parse),
];

/// The fields each format states its report's time in (JSON pointers; `*` is every element
/// of an array): a value there that is not RFC 3339 is warned about, naming the field, and
/// the parser treats the time as unknown ([`timestamp::parse`]). ZAP's `@generated` has a
/// format of its own, read exactly by its parser.
const REPORT_TIMES: &[(&str, &[&str])] = &[
    ("Trivy Operator report", &["/report/updateTimestamp", "/metadata/creationTimestamp"]),
    ("PolicyReport", &["/metadata/creationTimestamp"]),
    ("CycloneDX", &["/metadata/timestamp"]),
    ("SPDX", &["/creationInfo/created"]),
    ("SARIF", &["/runs/*/invocations/*/endTimeUtc", "/runs/*/invocations/*/startTimeUtc"]),
    ("Trivy JSON", &["/CreatedAt"]),
    ("Grype JSON", &["/descriptor/timestamp"]),
    ("Kubescape JSON", &["/generationTime"]),
    ("SPDX 3 JSON-LD", &["/@graph/*/created"]),
    ("OpenVEX", &["/timestamp", "/last_updated", "/statements/*/timestamp", "/statements/*/last_updated"]),
    ("CSAF", &["/document/tracking/current_release_date", "/vulnerabilities/*/flags/*/date"]),
];

/// Warns about every report time of a `format` document that is not RFC 3339.
fn check_report_times(format: &str, origin: &str, v: &Value, warnings: &mut Vec<Warning>) {
    let Some((_, pointers)) = REPORT_TIMES.iter().find(|(name, _)| *name == format) else { return };
    for pointer in *pointers {
        let mut found = Vec::new();
        values_at(v, pointer.trim_start_matches('/'), String::new(), &mut found);
        for (path, text) in found {
            if let Err(e) = timestamp::parse_rfc3339(text.trim()).map_err(|e| e.to_string())
                && !text.trim().is_empty()
            {
                let field = path.trim_start_matches('.');
                warn(warnings, origin, format!("{format}: {field}: {e}; the report's time is treated as unknown"));
            }
        }
    }
}

/// The string values at a pointer whose `*` segments stand for every array element, with
/// their dotted paths (`runs[0].invocations[1].endTimeUtc`).
fn values_at<'v>(v: &'v Value, rest: &str, path: String, out: &mut Vec<(String, &'v str)>) {
    if rest.is_empty() {
        if let Some(s) = v.as_str() {
            out.push((path, s));
        }
        return;
    }
    let (segment, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match (segment, v) {
        ("*", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                values_at(item, tail, format!("{path}[{i}]"), out);
            }
        }
        (key, Value::Object(map)) => {
            if let Some(child) = map.get(key) {
                values_at(child, tail, format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

fn dispatch(reading: &mut Reading, origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let reports_only = reading.provenance.channel.reports_only();
    let start = out.len();
    if let Some((name, _, parse)) = REPORT_FORMATS.iter().find(|(_, detect, _)| detect(v)) {
        check_report_times(name, origin, v, warnings);
        match parse(origin, v) {
            Ok(reports) => out.extend(reports.into_iter().map(Parsed::Report)),
            Err(e) => warn(warnings, origin, format!("{name}: {e}")),
        }
    } else if kev::detect(v) {
        match (reports_only, kev::parse(v)) {
            (true, _) => not_a_report(reading, origin, "a CISA KEV catalog".into(), warnings),
            (false, Ok(k)) => out.push(Parsed::Kev(k)),
            (false, Err(e)) => warn(warnings, origin, format!("CISA KEV catalog: {e}")),
        }
    } else if reports_only && !api_version.is_empty() && !kind.is_empty() {
        // A report channel yields reports only: a RiskException, a policy, a namespace or a
        // workload in it (or another ConfigMap, or a Kyverno PolicyException) comes from its
        // own watch, never from inside a payload, whatever metadata the writer gave it.
        let what = format!("a {kind} {} ({api_version})", config_map::object_name(v));
        not_a_report(reading, origin, what, warnings)
    } else if config_map::is_report_config_map(v) {
        config_map::parse(reading, origin, v, out, warnings);
    } else if kyverno_exception::is_policy_exception(api_version, kind) {
        kyverno_exception::parse_object(origin, v, out, warnings);
    } else if !api_version.is_empty() && !kind.is_empty() {
        out.push(Parsed::Kubernetes { origin: origin.to_string(), object: Box::new(v.clone()) });
    } else {
        warn(
            warnings,
            origin,
            "not a recognised document: expected a Kubernetes object, a scanner report (Trivy, Grype, Snyk, \
             OSV-Scanner, npm audit, Semgrep, Gitleaks, Checkov, Kubescape, SARIF, ZAP JSON), an SBOM \
             (CycloneDX, SPDX 2 or 3), a VEX document (OpenVEX, CSAF), CISA KEV or EPSS CSV"
                .into(),
        );
    }
    // Reports read here came through the reader's channel (a report-carrying ConfigMap
    // stamps its own on what it holds).
    if !config_map::is_report_config_map(v) {
        for p in &mut out[start..] {
            if let Parsed::Report(r) = p {
                r.provenance = reading.provenance.clone();
            }
        }
    }
}

fn not_a_report(reading: &Reading, origin: &str, what: String, warnings: &mut Vec<Warning>) {
    let message = format!(
        "{what} is not a report: {} carries scanner reports and SBOMs only, so it was not applied",
        reading.provenance.channel
    );
    refuse(warnings, origin, message, Refusal::NotAReport)
}

pub(super) fn warn(warnings: &mut Vec<Warning>, origin: &str, message: String) {
    warnings.push(Warning { origin: origin.to_string(), message, refusal: None });
}

fn refuse(warnings: &mut Vec<Warning>, origin: &str, message: String, refusal: Refusal) {
    warnings.push(Warning { origin: origin.to_string(), message, refusal: Some(refusal) });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> (Vec<Parsed>, Vec<Warning>) {
        let (mut out, mut warnings) = (Vec::new(), Vec::new());
        parse_bytes("t", bytes, &mut out, &mut warnings);
        (out, warnings)
    }

    #[test]
    fn malformed_input_is_a_warning_naming_the_origin() {
        let (out, w) = run(b"{\"a\": ");
        assert!(out.is_empty());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].origin, "t");
        assert!(w[0].message.starts_with("invalid JSON"), "{}", w[0].message);
        let (_, w) = run(b"{\"hello\": 1}");
        assert!(w[0].message.contains("not a recognised document"));
        let (_, w) = run(b"\x1f\x8b\x08garbage");
        assert!(w[0].message.contains("gzip"));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn deeply_nested_gzip_is_refused() {
        // Each gzip layer was one more recursion: thousands of layers overflowed the stack.
        let doc = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5"}"#;
        let mut bytes = doc.to_vec();
        for _ in 0..MAX_NESTING + 4 {
            bytes = gzip(&bytes);
        }
        let (out, w) = run(&bytes);
        assert!(out.is_empty());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("nest more than 8 deep"), "{}", w[0].message);
        // The limit is per call: the next file starts afresh, and a few layers are fine.
        let (out, w) = run(&gzip(&gzip(doc)));
        assert!(w.is_empty(), "{w:?}");
        assert!(matches!(out[..], [Parsed::Report(_)]));
    }

    #[test]
    fn yaml_streams_and_lists_unwrap() {
        let yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n";
        let (out, w) = run(yaml);
        assert!(w.is_empty(), "{w:?}");
        let kinds: Vec<_> = out
            .iter()
            .filter_map(|p| match p {
                Parsed::Kubernetes { object, .. } => object.get("kind").and_then(Value::as_str),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, ["ConfigMap", "Secret"]);
    }
}
