//! `stance findings`: one normalized, de-duplicated finding per line.

use serde::Serialize;

use super::stable_id;
use stance_core::index::correlate::package_key;
use stance_core::model::{Finding, Package, VexSource, VexState};
use stance_core::risk::RiskScore;

/// One finding as printed by `stance findings --format json` (one JSON object per line).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingLine {
    pub kind: &'static str,
    /// Stable identity: a hash of kind, rule id, artifact and package/location.
    pub id: String,
    /// The vulnerability or rule id (CVE preferred when any alias is one).
    pub rule_id: String,
    pub severity: &'static str,
    pub title: String,
    pub artifact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub sources: Vec<SourceLine>,
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<f32>,
    pub known_exploited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex_justification: Option<String>,
    /// The VEX document statement that set `vex`, with any disagreeing statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex_statement: Option<VexSource>,
    pub risk_score: u32,
    pub factors: Vec<FactorLine>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceLine {
    pub format: &'static str,
    pub scanner: String,
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FactorLine {
    pub name: &'static str,
    pub points: u32,
    pub detail: String,
}

/// The stable identity hash of a finding.
pub fn finding_uid(f: &Finding) -> String {
    let what = match (&f.package, &f.fingerprint, &f.location) {
        (Some(p), _, _) => package_key(p).into_owned(),
        (None, Some(fp), _) => fp.to_string(),
        (None, None, Some(l)) => l.to_string(),
        _ => String::new(),
    };
    stable_id(&[f.kind.as_str(), &f.id, &f.artifact.key().0, &what])
}

impl FindingLine {
    pub fn new(f: &Finding, risk: &RiskScore) -> FindingLine {
        FindingLine {
            kind: f.kind.as_str(),
            id: finding_uid(f),
            rule_id: f.id.to_string(),
            severity: f.severity.as_str(),
            title: f.title.to_string(),
            artifact: f.artifact.to_string(),
            package: f.package.as_ref().map(package_line),
            location: f.location.as_deref().map(str::to_string),
            sources: f
                .sources
                .iter()
                .map(|s| SourceLine {
                    format: s.format.as_str(),
                    scanner: s.scanner.to_string(),
                    origin: s.origin.to_string(),
                    workload: s.workload.as_ref().map(ToString::to_string),
                    container: s.container.as_deref().map(str::to_string),
                })
                .collect(),
            aliases: f.aliases.iter().map(|a| a.to_string()).collect(),
            cvss: f.cvss,
            known_exploited: f.kev,
            epss: f.epss,
            vex: f.vex.as_ref().map(|v| format!("{:?}", v.state)),
            vex_justification: f.vex.as_ref().and_then(|v| v.justification.as_deref()).map(str::to_string),
            vex_statement: f.vex.as_ref().and_then(|v| v.source.as_deref()).cloned(),
            risk_score: risk.score,
            factors: risk
                .factors
                .iter()
                .map(|x| FactorLine { name: x.name, points: x.points, detail: x.detail.clone() })
                .collect(),
        }
    }
}

/// A finding a VEX statement suppresses, as `stance scan` (JSON, table, SARIF) and the
/// dashboard show it: visible, with the document and statement that suppressed it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppressedLine {
    pub rule_id: String,
    pub artifact: String,
    /// `name version` of the package, when the finding is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub state: VexState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The VEX document statement, when a document (not the scanner's own report) said so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<VexSource>,
    #[serde(skip)]
    line: String,
}

impl SuppressedLine {
    /// The line of a suppressed finding; `None` when no VEX state suppresses it.
    pub fn new(f: &Finding) -> Option<SuppressedLine> {
        let vex = f.vex.as_ref().filter(|v| v.state.suppresses())?;
        Some(SuppressedLine {
            rule_id: f.id.to_string(),
            artifact: f.artifact.to_string(),
            package: f.package.as_ref().map(|p| match &p.installed_version {
                Some(v) => format!("{} {v}", p.name),
                None => p.name.to_string(),
            }),
            state: vex.state,
            justification: vex.justification.as_deref().map(str::to_string),
            statement: vex.source.as_deref().cloned(),
            line: stance_core::vex::suppression_line(f)?,
        })
    }

    /// The line every text output shows (`stance_core::vex::suppression_line`).
    pub fn text(&self) -> String {
        self.line.clone()
    }
}

fn package_line(p: &Package) -> PackageLine {
    PackageLine {
        purl: p.purl.as_deref().map(str::to_string),
        name: p.name.to_string(),
        installed_version: p.installed_version.as_deref().map(str::to_string),
        fixed_version: p.fixed_version.as_deref().map(str::to_string),
    }
}
