//! SARIF 2.1.0 rendering of a scan, shaped for GitHub code scanning: every finding of
//! every application and every guardrail violation is a result with a physical location,
//! a rule carrying the descriptions GitHub requires, and a `primaryLocationLineHash`
//! fingerprint that stays the same across runs and differs per (application, finding).
//!
//! Locations (docs/output.md): Stance reads cluster state and reports, not a source tree,
//! so most findings have no file in the repository. They get stable relative URIs instead:
//! an image finding is placed where Trivy places it (the image's repository path, or the
//! package's file inside the image), a Kubernetes object or workload at `Kind/namespace/name`,
//! a DAST finding at `host/path`, and a SAST finding at its own `file:line`.

pub mod model;

use std::collections::BTreeMap;

use jiff::Timestamp;

use self::model::*;
use super::findings::SuppressedLine;
use super::scan::{assess_all, unowned_violations};
use stance_core::assessment::app::{Ranked, ranked_finding};
use stance_core::index::PostureIndex;
use stance_core::model::{Artifact, Finding};
use stance_core::policy::Violation;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub rejects a run with more results than this (its documented upload limits).
pub const GITHUB_MAX_RESULTS: usize = 25_000;

/// GitHub truncates rule descriptions to this many characters.
const MAX_DESCRIPTION: usize = 1024;

/// The key GitHub reads from `partialFingerprints` (it ignores every other key).
const FINGERPRINT_KEY: &str = "primaryLocationLineHash";

fn level_of_severity(sev: &str) -> Level {
    match sev {
        "CRITICAL" | "HIGH" => Level::Error,
        "MEDIUM" => Level::Warning,
        _ => Level::Note,
    }
}

/// GitHub's `security-severity`: the CVSS score when known, else a score in the band
/// GitHub maps the severity label to (9.0+ critical, 7.0 high, 4.0 medium, 0.1 low).
/// INFO and UNKNOWN carry none, so GitHub shows no security severity for them.
fn security_severity(sev: &str, cvss: Option<f32>) -> Option<String> {
    if let Some(score) = cvss.filter(|s| *s > 0.0 && *s <= 10.0) {
        return Some(format!("{score:.1}"));
    }
    Some(
        match sev {
            "CRITICAL" => "9.5",
            "HIGH" => "7.5",
            "MEDIUM" => "5.0",
            "LOW" => "2.0",
            _ => return None,
        }
        .to_string(),
    )
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max - 1).collect::<String>()) }
}

/// A relative URI reference: bytes outside RFC 3986's unreserved and sub-delimiter sets
/// are percent-encoded, `:` included, so no path can be mistaken for a scheme (GitHub
/// rejects absolute URIs whose scheme differs from the checkout's `file:`).
fn uri_ref(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() { "unknown".to_string() } else { out }
}

/// `path:line[:column]` → (path, line); a location without a line is line 1.
fn file_and_line(loc: &str) -> (&str, u32) {
    let mut path = loc.strip_prefix("file://").unwrap_or(loc);
    let mut numbers = Vec::new();
    while numbers.len() < 2 {
        match path.rsplit_once(':') {
            Some((p, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                numbers.push(n);
                path = p;
            }
            _ => break,
        }
    }
    let line = numbers.last().and_then(|n| n.parse().ok()).filter(|l| *l > 0).unwrap_or(1);
    (path, line)
}

/// A file path as scanners write one inside an image (Trivy's `PkgPath`): no spaces,
/// no scheme, no parenthesised OS description.
fn is_plain_path(loc: &str) -> bool {
    !loc.is_empty() && !loc.contains(char::is_whitespace) && !loc.contains("://") && !loc.contains('(')
}

/// Where a finding is placed (see the module documentation) and on which line.
fn finding_location(f: &Finding) -> (String, u32) {
    let loc = f.location.as_deref().map(str::trim).filter(|l| !l.is_empty());
    match &*f.artifact {
        Artifact::Image(image) => match loc.filter(|l| is_plain_path(l)) {
            // A language package's file inside the image, as Trivy places it.
            Some(path) => (uri_ref(file_and_line(path).0), 1),
            // Trivy's place for OS packages: the repository path, registry and tag dropped.
            None => (uri_ref(&image.repository), 1),
        },
        Artifact::Object(object) => (uri_ref(&object.to_string()), 1),
        Artifact::Endpoint(host) => {
            // ZAP locations read `GET https://host/path?query`: keep host and path.
            let url = loc.and_then(|l| l.split_whitespace().last()).unwrap_or(host);
            let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            let path = without_scheme.split(['?', '#']).next().unwrap_or(without_scheme);
            (uri_ref(path), 1)
        }
        Artifact::Repository(name) | Artifact::Other(name) => match loc.filter(|l| !l.contains("://")) {
            Some(l) => {
                let (path, line) = file_and_line(l);
                (uri_ref(path), line)
            }
            None => (uri_ref(name.split_once("://").map_or(&**name, |(_, rest)| rest)), 1),
        },
    }
}

/// The artifact as the fingerprint sees it: an image without tag or digest, so a
/// vulnerability that survives a new build of the image stays the same alert.
fn artifact_identity(f: &Finding) -> String {
    match &*f.artifact {
        Artifact::Image(image) => image.name(),
        other => other.to_string(),
    }
}

fn finding_fingerprint(app: &str, f: &Finding) -> String {
    let package = f.package.as_ref().map_or("", |p| &*p.name);
    // A scanner's own fingerprint survives code moving; a bare location changes with it.
    let place = f.fingerprint.as_deref().or(f.location.as_deref()).unwrap_or("");
    let id = super::stable_id(&["finding/v1", app, f.kind.as_str(), &f.id, &artifact_identity(f), package, place]);
    format!("{id}:1")
}

fn violation_fingerprint(v: &Violation) -> String {
    let container = v.container.as_deref().unwrap_or("");
    let id = super::stable_id(&["guardrail/v1", &v.policy, &v.rule, &v.workload, container]);
    format!("{id}:1")
}

/// Rules in first-seen order; results refer to them by index.
#[derive(Default)]
struct Rules {
    index: BTreeMap<String, usize>,
    list: Vec<ReportingDescriptor>,
}

impl Rules {
    fn index_of(&mut self, id: &str, make: impl FnOnce() -> ReportingDescriptor) -> usize {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        self.list.push(make());
        self.index.insert(id.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

fn finding_rule(f: &Finding) -> ReportingDescriptor {
    let title = if f.title.is_empty() { f.id.to_string() } else { f.title.to_string() };
    let mut full = format!("{}: {title}", f.id);
    if !f.aliases.is_empty() {
        let aliases: Vec<&str> = f.aliases.iter().map(|a| &**a).collect();
        full.push_str(&format!(" (also {})", aliases.join(", ")));
    }
    let mut help = format!("{} {} ({}): {title}.", f.kind.as_str(), f.id, f.severity.as_str());
    if let Some(url) = &f.primary_url {
        help.push_str(&format!(" More: {url}"));
    }
    let mut tags = vec!["security".to_string(), f.kind.as_str().to_string()];
    if f.kev {
        tags.push("known-exploited".to_string());
    }
    ReportingDescriptor {
        id: f.id.to_string(),
        name: clip(&f.id, 255),
        short_description: Text { text: clip(&title, MAX_DESCRIPTION) },
        full_description: Text { text: clip(&full, MAX_DESCRIPTION) },
        help: Text { text: help },
        help_uri: f
            .primary_url
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(String::from),
        properties: RuleProperties { security_severity: security_severity(f.severity.as_str(), f.cvss), tags },
    }
}

fn finding_result(app: &str, r: &Ranked<'_>, rule_index: usize) -> SarifResult {
    let f = r.finding;
    let ranked = ranked_finding(r);
    let mut text = format!(
        "{} ({}) in {}: risk {} for application {app}",
        ranked.id, ranked.severity, ranked.artifact, ranked.risk_score
    );
    if let (Some(p), Some(v)) = (&ranked.package, &ranked.installed_version) {
        text.push_str(&format!("; package {p} {v}"));
    }
    if let Some(fix) = &ranked.fixed_version {
        text.push_str(&format!("; fixed in {fix}"));
    }
    let (uri, line) = finding_location(f);
    SarifResult {
        rule_id: ranked.id.clone(),
        rule_index,
        level: level_of_severity(&ranked.severity),
        message: Text { text },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri },
                region: Region::line(line),
            },
            logical_locations: vec![LogicalLocation {
                fully_qualified_name: ranked.artifact.clone(),
                kind: "resource",
            }],
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, finding_fingerprint(app, f))]),
        suppressions: Vec::new(),
        properties: ResultProperties {
            application: Some(app.to_string()),
            risk_score: Some(ranked.risk_score),
            factors: ranked.factors,
            known_exploited: ranked.known_exploited,
            artifact: Some(ranked.artifact),
            ..ResultProperties::default()
        },
    }
}

/// A finding VEX suppresses: reported with a SARIF suppression (§3.35) naming the VEX
/// document and statement, so code-scanning UIs show it as dismissed, not as gone.
fn suppressed_result(app: &str, f: &Finding, line: &SuppressedLine, rule_index: usize) -> SarifResult {
    let (uri, region_line) = finding_location(f);
    SarifResult {
        rule_id: f.id.to_string(),
        rule_index,
        level: level_of_severity(f.severity.as_str()),
        message: Text { text: format!("{} for application {app}", line.text()) },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri },
                region: Region::line(region_line),
            },
            logical_locations: vec![LogicalLocation { fully_qualified_name: f.artifact.to_string(), kind: "resource" }],
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, finding_fingerprint(app, f))]),
        suppressions: vec![Suppression { kind: "external", status: "accepted", justification: line.text() }],
        properties: ResultProperties {
            application: Some(app.to_string()),
            artifact: Some(f.artifact.to_string()),
            ..ResultProperties::default()
        },
    }
}

fn violation_rule(v: &Violation, index: &PostureIndex) -> ReportingDescriptor {
    let id = format!("guardrail/{}/{}", v.policy, v.rule);
    let short = format!("GuardrailPolicy {} rule {} ({})", v.policy, v.rule, v.rule_type);
    let description = index
        .policies()
        .find(|p| *p.name == *v.policy)
        .and_then(|p| p.description.clone())
        .filter(|d| !d.trim().is_empty());
    let full = match &description {
        Some(d) => format!("{short}: {d}"),
        None => short.clone(),
    };
    let help = format!(
        "{full}. The message names what to change; a RiskException (docs/policy-reference.md) can accept the risk \
         for a limited time."
    );
    ReportingDescriptor {
        name: clip(&id, 255),
        id,
        short_description: Text { text: clip(&short, MAX_DESCRIPTION) },
        full_description: Text { text: clip(&full, MAX_DESCRIPTION) },
        help: Text { text: help },
        help_uri: None,
        properties: RuleProperties {
            security_severity: None,
            tags: vec!["security".into(), "guardrail".into(), v.rule_type.into()],
        },
    }
}

fn violation_result(app: Option<&str>, v: &Violation, rule_index: usize) -> SarifResult {
    let level = if v.blocks() {
        Level::Error
    } else if v.warns() {
        Level::Warning
    } else {
        Level::Note
    };
    let suppressions = if v.excepted_by.is_empty() {
        Vec::new()
    } else {
        vec![Suppression {
            kind: "external",
            status: "accepted",
            justification: format!("RiskException {}", v.excepted_by.join(", ")),
        }]
    };
    SarifResult {
        rule_id: format!("guardrail/{}/{}", v.policy, v.rule),
        rule_index,
        level,
        message: Text { text: v.line() },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: uri_ref(&v.workload) },
                region: Region::line(1),
            },
            logical_locations: vec![LogicalLocation { fully_qualified_name: v.workload.to_string(), kind: "resource" }],
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, violation_fingerprint(v))]),
        suppressions,
        properties: ResultProperties {
            application: app.map(String::from),
            workload: Some(v.workload.to_string()),
            artifact: v.image.as_ref().map(|i| format!("image:{i}")),
            enforcement: Some(v.enforcement.as_str()),
            items: v.items.iter().map(|i| i.to_string()).collect(),
            ..ResultProperties::default()
        },
    }
}

/// Renders the posture at `now` as one SARIF run: the findings of every application,
/// highest risk first (at most `top` per application when given), the findings VEX
/// suppresses (with a suppression naming the statement), then every guardrail violation of
/// a running workload.
pub fn render(index: &PostureIndex, now: Timestamp, top: Option<usize>) -> SarifLog {
    let mut rules = Rules::default();
    let mut results = Vec::new();
    let assessments = assess_all(index, now);
    for a in &assessments {
        let app = format!("{}/{}", a.namespace, a.name);
        for r in a.ranked.iter().take(top.unwrap_or(usize::MAX)) {
            let i = rules.index_of(&r.finding.id, || finding_rule(r.finding));
            results.push(finding_result(&app, r, i));
        }
        for f in &a.vex_suppressed {
            if let Some(line) = SuppressedLine::new(f) {
                let i = rules.index_of(&f.id, || finding_rule(f));
                results.push(suppressed_result(&app, f, &line, i));
            }
        }
    }
    let unowned = unowned_violations(index, now);
    let owned = assessments.iter().flat_map(|a| a.violations.iter().map(move |v| (Some(a), v)));
    for (a, v) in owned.chain(unowned.iter().map(|v| (None, v))) {
        let i = rules.index_of(&format!("guardrail/{}/{}", v.policy, v.rule), || violation_rule(v, index));
        let app = a.map(|a| format!("{}/{}", a.namespace, a.name));
        results.push(violation_result(app.as_deref(), v, i));
    }
    SarifLog {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: "Stance",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://github.com/stance-dev/stance",
                    rules: rules.list,
                },
            },
            invocations: vec![Invocation { execution_successful: true, end_time_utc: now.to_string() }],
            results,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_lines_and_encode_uris() {
        assert_eq!(file_and_line("src/a.rs:27"), ("src/a.rs", 27));
        assert_eq!(file_and_line("src/a.rs:27:5"), ("src/a.rs", 27));
        assert_eq!(file_and_line("file://src/a.rs"), ("src/a.rs", 1));
        assert_eq!(file_and_line("C:0"), ("C", 1));
        assert_eq!(uri_ref("Deployment/shop/store front"), "Deployment/shop/store%20front");
        assert_eq!(uri_ref("a:b/ü"), "a%3Ab/%C3%BC");
        assert_eq!(uri_ref("/"), "unknown");
        assert!(is_plain_path("usr/lib/app.jar") && !is_plain_path("img.tar (alpine 3.10)"));
    }

    #[test]
    fn security_severity_prefers_cvss_and_omits_unscored() {
        assert_eq!(security_severity("HIGH", Some(9.8)).as_deref(), Some("9.8"));
        assert_eq!(security_severity("HIGH", None).as_deref(), Some("7.5"));
        assert_eq!(security_severity("UNKNOWN", None), None);
        assert_eq!(security_severity("LOW", Some(0.0)).as_deref(), Some("2.0"));
    }
}
