//! The `admission.k8s.io/v1` wire format: the parts of an AdmissionReview request Stance
//! reads, and the AdmissionReview it answers.
//!
//! Requests are read into a small struct of our own rather than kube's
//! `AdmissionReview<DynamicObject>`: that type buffers the object through `#[serde(flatten)]`
//! and would have to be serialized back into a `serde_json::Value` for
//! [`workload_from_value`](crate::ingest::kubernetes::workload_from_value) — three passes
//! over every object instead of one. The answers are checked against kube's types in the
//! tests (`tests/webhook_handler.rs` reads every response as `kube::core::admission::AdmissionReview`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only AdmissionReview version served (Kubernetes ≥ 1.16 sends it when the
/// ValidatingWebhookConfiguration lists `admissionReviewVersions: [v1]`).
pub const API_VERSION: &str = "admission.k8s.io/v1";
pub const KIND: &str = "AdmissionReview";

/// Longest `status.message` of a denial (Kubernetes shows it to the user verbatim).
pub const MAX_MESSAGE_BYTES: usize = 4000;
/// Longest single warning (Kubernetes recommends short warnings and truncates long ones).
pub const MAX_WARNING_BYTES: usize = 512;
/// Most warnings in one answer; the rest are summarised in a last warning.
pub const MAX_WARNINGS: usize = 20;

/// An incoming AdmissionReview. Every field is optional here so that a malformed review
/// gets a precise complaint instead of a generic parse error.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReviewIn {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub request: Option<RequestIn>,
}

/// `request` of an AdmissionReview: what the API server asks about.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RequestIn {
    pub uid: String,
    /// The kind of the object in `object` (not of the requested resource).
    pub kind: GroupVersionKind,
    pub sub_resource: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub user_info: UserInfo,
    pub object: Option<PrunedObject>,
    pub old_object: Option<PrunedObject>,
    /// `null` is read as `false`.
    #[serde(deserialize_with = "null_as_false")]
    pub dry_run: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    pub username: String,
}

fn null_as_false<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// Only the request's `uid`, for answering when the full request could not be handled
/// (deadline, internal error): everything else is skipped without being stored.
pub fn uid_of(body: &[u8]) -> String {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Uid {
        request: Option<UidOnly>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct UidOnly {
        uid: String,
    }
    serde_json::from_slice::<Uid>(body).ok().and_then(|u| u.request).map(|r| r.uid).unwrap_or_default()
}

/// An AdmissionReview answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewOut<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub response: ResponseOut<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseOut<'a> {
    pub uid: &'a str,
    pub allowed: bool,
    /// Always present: kube's `AdmissionResponse` requires it.
    pub status: StatusOut,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The `metav1.Status` of an answer. `code` is 200 when allowed.
#[derive(Debug, Serialize)]
pub struct StatusOut {
    pub code: u16,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reason: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl StatusOut {
    pub fn ok() -> StatusOut {
        StatusOut { code: 200, reason: "", message: String::new() }
    }

    pub fn failure(code: u16, reason: &'static str, message: String) -> StatusOut {
        StatusOut { code, reason, message }
    }
}

/// Serializes an answer. Infallible for these types; an empty body would only follow a
/// bug in serde_json.
pub fn render(uid: &str, allowed: bool, status: StatusOut, warnings: Vec<String>) -> Vec<u8> {
    let review =
        ReviewOut { api_version: API_VERSION, kind: KIND, response: ResponseOut { uid, allowed, status, warnings } };
    serde_json::to_vec(&review).unwrap_or_default()
}

/// The denial message: a header, then one line per blocking violation, within `limit`
/// bytes. `lines` yields `total` lines and is consumed lazily: lines that do not fit are
/// counted in a last line, never formatted.
pub fn denial_message(header: &str, lines: impl Iterator<Item = String>, total: usize, limit: usize) -> String {
    // Room kept for the "N more" line while lines remain.
    const TAIL: usize = 120;
    let limit = limit.max(2 * TAIL);
    let per_line = (limit / 2).max(TAIL);
    let mut out = fit(header.to_string(), limit - TAIL);
    for (i, line) in lines.enumerate() {
        let line = fit(line, per_line);
        let last = i + 1 >= total;
        let room = limit.saturating_sub(out.len() + 1 + if last { 0 } else { TAIL });
        if line.len() > room {
            let more = total.saturating_sub(i).max(1);
            out.push_str(&format!(
                "\n… and {more} more violation{} not shown (run `stance check` on the manifest for all of them)",
                if more == 1 { "" } else { "s" }
            ));
            break;
        }
        out.push('\n');
        out.push_str(&line);
    }
    out
}

/// Warnings as Kubernetes shows them: one line each, at most `max_bytes`, at most
/// `max_count` (the last one then says how many were left out). `lines` yields `total`
/// lines and is consumed lazily: only the shown ones are formatted.
pub fn warnings(lines: impl Iterator<Item = String>, total: usize, max_bytes: usize, max_count: usize) -> Vec<String> {
    let max_count = max_count.max(1);
    let shown = if total > max_count { max_count - 1 } else { total };
    let mut out: Vec<String> = lines.take(shown).map(|l| fit(l, max_bytes)).collect();
    if total > out.len() {
        out.push(format!(
            "… and {} more Stance warnings (run `stance check` on the manifest for all of them)",
            total - out.len()
        ));
    }
    out
}

/// One line of at most `max` bytes: control characters (newlines would break HTTP warning
/// headers) become spaces, and a longer line is cut on a character boundary, ending in "…".
/// Reuses the string's buffer.
pub fn fit(mut s: String, max: usize) -> String {
    if s.chars().any(char::is_control) {
        s = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    }
    if s.len() > max {
        let ellipsis = "…";
        let mut end = max.saturating_sub(ellipsis.len());
        while end > 0 && !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str(ellipsis);
    }
    s
}

/// Cuts `s` to at most `max` bytes (see [`fit`]).
pub fn truncate(s: &str, max: usize) -> String {
    fit(s.to_string(), max)
}

/// A Kubernetes object as JSON, without the parts neither guardrails nor Stance's own
/// objects are judged by: `status`, `metadata.managedFields` and `metadata.annotations`.
/// They are skipped while parsing, never allocated — on a typical object they are most of
/// its bytes (`kubectl.kubernetes.io/last-applied-configuration` repeats the whole object).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PrunedObject(pub Value);

impl<'de> Deserialize<'de> for PrunedObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Pruning { metadata: false }).map(PrunedObject)
    }
}

/// Builds a [`Value`], skipping the pruned keys of an object (or of its metadata).
struct Pruning {
    metadata: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Pruning {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruning {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let skip = if self.metadata { key == "managedFields" || key == "annotations" } else { key == "status" };
            if skip {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else if !self.metadata && key == "metadata" {
                let v = map.next_value_seed(Pruning { metadata: true })?;
                out.insert(key, v);
            } else {
                let v = map.next_value::<Value>()?;
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries_and_limits() {
        let s = "ééééé"; // 10 bytes
        assert_eq!(truncate(s, 10), s);
        let t = truncate(s, 7);
        assert!(t.len() <= 7 && t.ends_with('…'), "{t}");
        assert_eq!(truncate("abcdef", 4), "a…");
    }

    #[test]
    fn denial_message_stays_under_the_limit_and_counts_what_it_cut() {
        let lines: Vec<String> = (0..50).map(|i| format!("[p{i}/r] {}", "x".repeat(300))).collect();
        let m = denial_message("Stance denied Pod a/b:", lines.iter().cloned(), lines.len(), MAX_MESSAGE_BYTES);
        assert!(m.len() <= MAX_MESSAGE_BYTES, "{}", m.len());
        assert!(m.starts_with("Stance denied Pod a/b:\n[p0/r] "));
        let shown = m.lines().filter(|l| l.starts_with("[p")).count();
        assert!(shown >= 10, "{shown}");
        assert!(
            m.ends_with(&format!(
                "… and {} more violations not shown (run `stance check` on the manifest for all of them)",
                50 - shown
            )),
            "{m}"
        );
        // One huge line is cut, not dropped.
        let m = denial_message("h", ["y".repeat(10_000)].into_iter(), 1, MAX_MESSAGE_BYTES);
        assert!(m.len() <= MAX_MESSAGE_BYTES && m.contains("yyy…"), "{}", m.len());
        // Everything fits: no tail.
        let m = denial_message("h", ["a".to_string(), "b\nc".to_string()].into_iter(), 2, MAX_MESSAGE_BYTES);
        assert_eq!(m, "h\na\nb c");
    }

    #[test]
    fn warnings_are_single_lines_bounded_in_size_and_number() {
        let formatted = std::cell::Cell::new(0);
        let lines = (0..30).map(|i| {
            formatted.set(formatted.get() + 1);
            format!("w{i}\n{}", "z".repeat(600))
        });
        let w = warnings(lines, 30, MAX_WARNING_BYTES, MAX_WARNINGS);
        assert_eq!(formatted.get(), MAX_WARNINGS - 1, "only the shown warnings are formatted");
        assert_eq!(w.len(), MAX_WARNINGS);
        assert!(w.iter().all(|w| w.len() <= MAX_WARNING_BYTES && !w.contains('\n')));
        assert_eq!(
            w.last().unwrap(),
            "… and 11 more Stance warnings (run `stance check` on the manifest for all of them)"
        );
        assert_eq!(warnings(["a".to_string()].into_iter(), 1, 512, 20), ["a"]);
    }

    #[test]
    fn objects_are_read_without_status_managed_fields_and_annotations() {
        let text = r#"{"request":{"uid":"u","object":{"kind":"Pod","status":{"phase":"Pending"},
            "metadata":{"name":"p","annotations":{"a":"b"},"managedFields":[{"manager":"kubectl"}],"labels":{"x":"y"}},
            "spec":{"containers":[{"name":"c","image":"i","x":[1,2.5,null,true,"s"]}]}},"oldObject":[1,"two",{"status":3}]}}"#;
        let r: ReviewIn = serde_json::from_str(text).unwrap();
        let req = r.request.unwrap();
        let full: Value = serde_json::from_str(text).unwrap();
        let mut want = full["request"]["object"].clone();
        want.as_object_mut().unwrap().remove("status");
        want["metadata"].as_object_mut().unwrap().remove("annotations");
        want["metadata"].as_object_mut().unwrap().remove("managedFields");
        assert_eq!(req.object.unwrap().0, want);
        // Only the object's own top-level keys are pruned; other shapes pass through.
        assert_eq!(req.old_object.unwrap().0, full["request"]["oldObject"]);
        let r: ReviewIn = serde_json::from_str(r#"{"request":{"object":"text","oldObject":null}}"#).unwrap();
        let req = r.request.unwrap();
        assert_eq!((req.object.map(|o| o.0), req.old_object), (Some(Value::from("text")), None));
    }

    #[test]
    fn requests_read_leniently() {
        let r: ReviewIn =
            serde_json::from_str(r#"{"request":{"uid":"u","dryRun":null,"kind":{"kind":"Pod"}}}"#).unwrap();
        let req = r.request.unwrap();
        assert!(!req.dry_run && req.kind.kind == "Pod" && req.kind.group.is_empty());
        assert_eq!(uid_of(br#"{"request":{"uid":"abc","object":{"x":[1,2,{}]}}}"#), "abc");
        assert_eq!(uid_of(b"not json"), "");
    }
}
