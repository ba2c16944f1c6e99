//! What a SARIF result is: its finding kind (by tool, rule id and Trivy's rule names) and
//! its severity (by score, severity words and level).

use serde_json::{Map, Value};

use super::model::{Rule, SarifResult};
use crate::ingest::finding_id::{is_config_check_id, is_vulnerability_id};
use crate::ingest::lenient::{prop_f32, prop_str};
use crate::model::{FindingKind, Severity};

/// What a tool reports, when its name says so.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum ToolKind {
    Secrets,
    Configuration,
    Trivy,
    Other,
}

impl ToolKind {
    pub(super) fn of(tool_name: &str) -> ToolKind {
        let name = tool_name.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        if has(&["gitleaks", "trufflehog", "detect-secrets", "detect_secrets", "ggshield", "secretlint", "talisman"]) {
            ToolKind::Secrets
        } else if name.contains("trivy") {
            ToolKind::Trivy
        } else if has(&[
            "checkov",
            "kics",
            "tfsec",
            "terrascan",
            "kube-score",
            "kubesec",
            "kube-linter",
            "kubelinter",
            "polaris",
            "cfn-lint",
            "cfn_nag",
            "hadolint",
            "tflint",
        ]) {
            ToolKind::Configuration
        } else {
            ToolKind::Other
        }
    }
}

pub(super) fn finding_kind(tool: ToolKind, id: &str, rule: Option<&Rule>) -> FindingKind {
    if is_vulnerability_id(id) {
        return FindingKind::Vulnerability;
    }
    let config_id = is_config_check_id(id);
    match tool {
        ToolKind::Secrets => FindingKind::Secret,
        ToolKind::Configuration => FindingKind::Misconfiguration,
        // Trivy names each rule by result class: `OsPackageVulnerability`,
        // `LanguageSpecificPackageVulnerability`, `Misconfiguration`, `Secret`, `License`.
        ToolKind::Trivy => match rule.and_then(|r| r.name.as_deref()) {
            Some("Secret") => FindingKind::Secret,
            Some(n) if n.ends_with("Vulnerability") => FindingKind::Vulnerability,
            Some("Misconfiguration") => FindingKind::Misconfiguration,
            _ if config_id => FindingKind::Misconfiguration,
            _ => FindingKind::Sast,
        },
        ToolKind::Other if config_id => FindingKind::Misconfiguration,
        ToolKind::Other => FindingKind::Sast,
    }
}

fn level_severity(level: Option<&str>) -> Option<Severity> {
    match level?.trim().to_ascii_lowercase().as_str() {
        "error" => Some(Severity::High),
        "warning" => Some(Severity::Medium),
        "note" => Some(Severity::Low),
        "none" => Some(Severity::Info),
        _ => None,
    }
}

/// Severity and CVSS score of a result (order documented in the module docs).
pub(super) fn severity(result: &SarifResult, rule: Option<&Rule>) -> (Severity, Option<f32>) {
    let empty = Map::new();
    let rule_props = rule.map_or(&empty, |r| &r.properties);
    let score = prop_f32(&result.properties, "security-severity").or_else(|| prop_f32(rule_props, "security-severity"));
    if let Some(s) = score.filter(|s| (0.0..=10.0).contains(s)) {
        return (Severity::from_cvss(s), Some(s));
    }
    if let Some(s) = prop_f32(rule_props, "cvssv3_baseScore").filter(|s| (0.0..=10.0).contains(s)) {
        return (Severity::from_cvss(s), Some(s));
    }
    if let Some(s) = prop_f32(rule_props, "cvssv4_baseScore").filter(|s| (0.0..=10.0).contains(s)) {
        // Not a v3 score: it decides the severity but is not kept as `cvss`.
        return (Severity::from_cvss(s), None);
    }
    let word = |props: &Map<String, Value>, keys: &[&str]| {
        keys.iter().find_map(|k| prop_str(props, k).and_then(|t| severity_word(&t)))
    };
    let sev = word(&result.properties, &["severity", "issue_severity", "priority"])
        .or_else(|| level_severity(result.level.as_deref()))
        .or_else(|| word(rule_props, &["severity", "problem.severity"]))
        .or_else(|| level_severity(rule.and_then(|r| r.default_configuration.as_ref()?.level.as_deref())))
        .unwrap_or(Severity::Medium);
    (sev, None)
}

/// A severity word (`high`, `MEDIUM`, CodeQL's `recommendation`); `None` when unrecognised.
fn severity_word(text: &str) -> Option<Severity> {
    match Severity::parse(text) {
        Severity::Unknown if text.trim().eq_ignore_ascii_case("recommendation") => Some(Severity::Low),
        Severity::Unknown => None,
        s => Some(s),
    }
}
