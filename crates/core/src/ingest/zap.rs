//! OWASP ZAP JSON reports (`zap-baseline.py -J`, the "Traditional JSON" report).
//!
//! One [`Report`] per file, scanning every `site[]` (its endpoint is the host of `@name`,
//! else `@host`). One DAST finding per alert per site, however many `instances` it has:
//!
//! * id: `pluginid` as written (`"10038"`); `alertRef` (when different) and `CWE-<cweid>`
//!   (when positive) are aliases.
//! * severity: `riskcode` 3 / 2 / 1 / 0 → high / medium / low / info (else the first word of
//!   `riskdesc`); `confidence` `0` is ZAP's "false positive" and becomes a VEX statement.
//! * location: the first instance as `METHOD uri`; evidence and attack strings are not kept.
//! * fingerprint: `alertRef` (else `pluginid`), the alert name and the site host, so the
//!   instances of one alert stay one finding while two alerts of one plugin (ZAP 2.12
//!   writes `10049` for both "Non-Storable Content" and "Storable and Cacheable Content",
//!   with the same `alertRef`) stay two.
//! * primary URL: the first `http(s)://` URL in `reference` (HTML: `<p>url</p><p>url</p>`).
//!
//! `@generated` is ZAP's local time without zone (`Sat, 15 Apr 2023 18:23:09`); it is read
//! as UTC.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::error_path::typed;
use super::lenient::{Scalar, non_empty, nullable};
use super::title::title_line;
use crate::ingest::FormatError;
use crate::ingest::{source, timestamp};
use crate::model::{
    Artifact, Finding, FindingKind, Format, Report, Severity, Vex, VexState, artifact::normalize_endpoint,
};

/// True for a ZAP JSON report: a `site` list and `@programName` naming ZAP, or ZAP's
/// `@version` + `@generated` header.
pub fn detect(v: &Value) -> bool {
    let Some(site) = v.get("site") else {
        return false;
    };
    if !(site.is_array() || site.is_object()) {
        return false;
    }
    let program = v.get("@programName").and_then(Value::as_str).unwrap_or("");
    program.to_ascii_uppercase().contains("ZAP") || (v.get("@version").is_some() && v.get("@generated").is_some())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ZapReport {
    #[serde(rename = "@programName")]
    program_name: Option<String>,
    #[serde(rename = "@version")]
    version: Option<Scalar>,
    #[serde(rename = "@generated")]
    generated: Option<String>,
    // `site` is read entry by entry (a single site may be written as an object).
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Site {
    #[serde(rename = "@name")]
    name: Option<String>,
    #[serde(rename = "@host")]
    host: Option<String>,
    #[serde(deserialize_with = "nullable")]
    alerts: Vec<Alert>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Alert {
    pluginid: Option<Scalar>,
    #[serde(rename = "alertRef")]
    alert_ref: Option<Scalar>,
    alert: Option<String>,
    name: Option<String>,
    riskcode: Option<Scalar>,
    confidence: Option<Scalar>,
    riskdesc: Option<String>,
    #[serde(deserialize_with = "nullable")]
    instances: Vec<Instance>,
    reference: Option<String>,
    cweid: Option<Scalar>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Instance {
    uri: Option<String>,
    method: Option<String>,
}

/// Parses a ZAP JSON report into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let header: ZapReport = typed(v, "")?;
    let sites: Vec<(usize, &Value)> = match v.get("site") {
        Some(Value::Array(sites)) => sites.iter().enumerate().collect(),
        Some(site @ Value::Object(_)) => vec![(0, site)],
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return Err(FormatError::new("site", "expected an array of sites")),
    };
    let program = non_empty(header.program_name.as_deref()).unwrap_or("ZAP");
    let scanner = match non_empty(header.version.as_deref()) {
        Some(v) => format!("{program} {v}"),
        None => program.to_string(),
    };
    let src = source(Format::Zap, &scanner, origin);
    let mut report = Report::new(src.clone());
    report.scanned_at = header.generated.as_deref().and_then(generated_time);

    for (i, site_value) in sites {
        let site: Site = typed(site_value, &format!("site[{i}]"))?;
        let Some(host) = [site.name.as_deref(), site.host.as_deref()]
            .into_iter()
            .flatten()
            .map(normalize_endpoint)
            .find(|h| !h.is_empty())
        else {
            return Err(FormatError::new(format!("site[{i}]"), "neither @name nor @host names the scanned site"));
        };
        let artifact = Artifact::Endpoint(Arc::from(host.as_str()));
        if !report.scanned.contains(&artifact) {
            report.scanned.push(artifact.clone());
        }
        for alert in &site.alerts {
            let mut f = finding(alert, &host, artifact.clone(), &src);
            f.first_seen = report.scanned_at;
            report.findings.push(f);
        }
    }
    Ok(vec![report])
}

fn finding(alert: &Alert, host: &str, artifact: Artifact, src: &Arc<crate::model::Source>) -> Finding {
    let plugin = non_empty(alert.pluginid.as_deref());
    let alert_ref = non_empty(alert.alert_ref.as_deref());
    let name = non_empty(alert.alert.as_deref()).or(non_empty(alert.name.as_deref()));
    let id = plugin.or(alert_ref).or(name).unwrap_or("unknown");
    let title = name.and_then(title_line).unwrap_or_else(|| format!("ZAP alert {id}"));
    let mut f = Finding::new(FindingKind::Dast, id, risk(alert), &title, artifact, src.clone());
    if let Some(r) = alert_ref {
        f.add_alias(r);
    }
    if let Some(cwe) = non_empty(alert.cweid.as_deref()).filter(|c| c.parse::<i64>().is_ok_and(|n| n > 0)) {
        f.add_alias(&format!("CWE-{cwe}"));
    }
    f.location = alert.instances.iter().find_map(|i| {
        let uri = non_empty(i.uri.as_deref())?;
        Some(Arc::from(match non_empty(i.method.as_deref()) {
            Some(m) => format!("{m} {uri}"),
            None => uri.to_string(),
        }))
    });
    f.fingerprint = Some(Arc::from(format!("{}:{}@{host}", alert_ref.unwrap_or(id), name.unwrap_or(""))));
    f.primary_url = alert.reference.as_deref().and_then(first_url).map(Arc::from);
    if alert.confidence.as_deref().map(str::trim) == Some("0") {
        f.vex = Some(Vex {
            source: None,
            state: VexState::FalsePositive,
            justification: Some(Arc::from("ZAP confidence 0 (false positive)")),
        });
    }
    f
}

fn risk(alert: &Alert) -> Severity {
    match alert.riskcode.as_deref().map(str::trim) {
        Some("3") => Severity::High,
        Some("2") => Severity::Medium,
        Some("1") => Severity::Low,
        Some("0") => Severity::Info,
        _ => alert
            .riskdesc
            .as_deref()
            .and_then(|d| d.split_whitespace().next())
            .map(Severity::parse)
            .unwrap_or(Severity::Unknown),
    }
}

/// The first `http(s)://` URL in ZAP's HTML `reference` (`<p>url</p>…`).
fn first_url(html: &str) -> Option<&str> {
    html.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|t| t.starts_with("https://") || t.starts_with("http://"))
}

/// `@generated`: `Sat, 15 Apr 2023 18:23:09` (newer ZAP), else RFC 3339.
fn generated_time(text: &str) -> Option<jiff::Timestamp> {
    let t = text.trim();
    // The weekday is dropped rather than checked against the date.
    let without_weekday = t.split_once(", ").map_or(t, |(_, rest)| rest);
    jiff::fmt::strtime::parse("%d %b %Y %H:%M:%S", without_weekday)
        .and_then(|tm| tm.to_datetime())
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .or_else(|| timestamp::parse(t))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_zap_reports_only() {
        assert!(detect(&json!({"@programName": "ZAP", "site": []})));
        assert!(detect(&json!({"@version": "2.11.1", "@generated": "x", "site": [{}]})));
        assert!(!detect(&json!({"site": []})));
        assert!(!detect(&json!({"@programName": "ZAP", "site": "x"})));
        assert!(!detect(&json!({"version": "2.1.0", "runs": []})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let e = parse("z", &json!({"@programName": "ZAP", "site": [{"@name": "http://a", "alerts": {}}]}))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("site[0].alerts:"), "{e}");
        let e = parse("z", &json!({"@programName": "ZAP", "@generated": ["x"], "site": []})).unwrap_err().to_string();
        assert!(e.starts_with("@generated:"), "{e}");
        let e = parse("z", &json!({"@programName": "ZAP", "site": [{"alerts": []}]})).unwrap_err().to_string();
        assert!(e.contains("@name"), "{e}");
        let e = parse("z", &json!({"@programName": "ZAP", "site": 3})).unwrap_err().to_string();
        assert!(e.starts_with("site:"), "{e}");
    }

    #[test]
    fn lenient_values_and_defaults() {
        let v = json!({
            "@version": 2.9, "@generated": "Tue, 17 Jan 2023 12:07:31",
            "site": {"@name": "http://Shop.Example:8080", "alerts": [
                {"pluginid": 10038, "alert": "CSP Header Not Set", "riskcode": 2, "confidence": "0", "cweid": "-1",
                 "instances": null, "reference": ""},
                {"pluginid": "90001", "name": "Insecure JSF ViewState", "riskcode": "7", "riskdesc": "Low (Medium)",
                 "alertRef": "90001-1", "cweid": "642"},
                {"riskcode": "x"}
            ]}
        });
        let r = parse("z", &v).unwrap().remove(0);
        assert_eq!(&*r.source.scanner, "ZAP 2.9");
        assert_eq!(r.scanned, vec![Artifact::Endpoint(Arc::from("shop.example"))]);
        assert_eq!(r.scanned_at.unwrap().to_string(), "2023-01-17T12:07:31Z");
        let f = &r.findings;
        assert_eq!((&*f[0].id, f[0].severity), ("10038", Severity::Medium));
        assert!(f[0].aliases.is_empty() && f[0].location.is_none() && f[0].primary_url.is_none());
        assert_eq!(f[0].vex.as_ref().unwrap().state, VexState::FalsePositive);
        assert_eq!((&*f[1].title, f[1].severity), ("Insecure JSF ViewState", Severity::Low));
        assert_eq!(f[1].aliases, vec![Arc::<str>::from("90001-1"), Arc::from("CWE-642")]);
        assert_eq!((&*f[2].id, f[2].severity), ("unknown", Severity::Unknown));
    }
}
