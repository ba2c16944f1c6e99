//! Severity levels, normalised across scanners.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How bad a finding is, as the scanner (or the highest-rated source) says.
///
/// Ordered: `Unknown < Info < Low < Medium < High < Critical`, so `max()` picks the
/// worst. Serialised in upper case, as Trivy and most CVE feeds write it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    #[default]
    Unknown,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All levels, worst first (the order reports and tables use).
    pub const WORST_FIRST: [Severity; 6] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info, Severity::Unknown];

    /// Parses the many spellings scanners use (`CRITICAL`, `critical`, `Moderate`,
    /// `negligible`, `none`, SARIF `error`/`warning`/`note`). Unrecognised text is
    /// `Unknown`, never an error: one odd word must not lose a finding.
    pub fn parse(text: &str) -> Severity {
        let t = text.trim();
        let eq = |s: &str| t.eq_ignore_ascii_case(s);
        if eq("critical") || eq("crit") || eq("urgent") {
            Severity::Critical
        } else if eq("high") || eq("important") || eq("error") || eq("severe") {
            Severity::High
        } else if eq("medium") || eq("moderate") || eq("warning") || eq("med") {
            Severity::Medium
        } else if eq("low") || eq("minor") || eq("note") {
            Severity::Low
        } else if eq("info") || eq("informational") || eq("negligible") || eq("none") || eq("information") {
            Severity::Info
        } else {
            Severity::Unknown
        }
    }

    /// Whether a finding of this severity is above a policy's highest allowed severity
    /// (`maxSeverity`). An `UNKNOWN` severity (not yet scored: common for a CVE days old,
    /// including known-exploited ones) may turn out to be anything up to `CRITICAL`, so a gate
    /// reads it as the worst: above every threshold but `CRITICAL`. Ordering alone would put
    /// it below `INFO` and let it through every policy.
    pub fn exceeds(self, max: Severity) -> bool {
        self > max || (self == Severity::Unknown && max < Severity::Critical)
    }

    /// Severity from a CVSS base score (v3 qualitative ranges).
    pub fn from_cvss(score: f32) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Info,
        }
    }

    /// Upper-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Info => "INFO",
            Severity::Unknown => "UNKNOWN",
        }
    }

    /// Index into a `[_; 6]` counts array ordered like [`Severity::WORST_FIRST`].
    pub fn rank(self) -> usize {
        match self {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
            Severity::Info => 4,
            Severity::Unknown => 5,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scanner_spellings() {
        assert_eq!(Severity::parse("CRITICAL"), Severity::Critical);
        assert_eq!(Severity::parse("Moderate"), Severity::Medium);
        assert_eq!(Severity::parse("negligible"), Severity::Info);
        assert_eq!(Severity::parse("note"), Severity::Low);
        assert_eq!(Severity::parse("whatever"), Severity::Unknown);
        assert!(Severity::Critical > Severity::High && Severity::Info > Severity::Unknown);
    }

    #[test]
    fn cvss_ranges() {
        assert_eq!(Severity::from_cvss(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss(7.0), Severity::High);
        assert_eq!(Severity::from_cvss(6.9), Severity::Medium);
        assert_eq!(Severity::from_cvss(0.1), Severity::Low);
        assert_eq!(Severity::from_cvss(0.0), Severity::Info);
    }
}
