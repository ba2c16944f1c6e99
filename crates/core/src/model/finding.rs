//! The normalized finding every format is parsed into.

use std::sync::Arc;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::artifact::{Artifact, ObjectRef};
use super::severity::Severity;

/// The family of a finding. Scanners of one family report comparable things.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FindingKind {
    /// A known vulnerability (CVE, GHSA, OSV…) in a package.
    Vulnerability,
    /// A configuration weakness of a Kubernetes object or IaC file.
    Misconfiguration,
    /// A secret (key, token, password) found in an image or repository.
    Secret,
    /// A static-analysis result in source code (SARIF).
    Sast,
    /// A dynamic-analysis result against a running endpoint (ZAP).
    Dast,
    /// A failed rule of a policy engine (PolicyReport / OpenReports).
    Policy,
}

impl FindingKind {
    /// The lower-case name used in output (`vulnerability`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Misconfiguration => "misconfiguration",
            FindingKind::Secret => "secret",
            FindingKind::Sast => "sast",
            FindingKind::Dast => "dast",
            FindingKind::Policy => "policy",
        }
    }
}

/// The document format a finding was read from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    TrivyOperator,
    PolicyReport,
    OpenReports,
    TrivyJson,
    CycloneDx,
    Spdx,
    Sarif,
    Zap,
    Grype,
    Snyk,
    Semgrep,
    OsvScanner,
    NpmAudit,
    Gitleaks,
    Checkov,
    Kubescape,
    /// A Kyverno `PolicyException` object (its exemptions, as suppressed policy results).
    #[serde(rename = "kyverno-policy-exception")]
    KyvernoException,
    /// An OpenVEX document (its statements, applied to every scanner's findings).
    #[serde(rename = "openvex")]
    OpenVex,
    /// A CSAF 2.0 document (its `product_status`, applied to every scanner's findings).
    Csaf,
}

impl Format {
    /// The kebab-case name used in output (`trivy-operator`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::TrivyOperator => "trivy-operator",
            Format::PolicyReport => "policy-report",
            Format::OpenReports => "openreports",
            Format::TrivyJson => "trivy-json",
            Format::CycloneDx => "cyclonedx",
            Format::Spdx => "spdx",
            Format::Sarif => "sarif",
            Format::Zap => "zap",
            Format::Grype => "grype",
            Format::Snyk => "snyk",
            Format::Semgrep => "semgrep",
            Format::OsvScanner => "osv-scanner",
            Format::NpmAudit => "npm-audit",
            Format::Gitleaks => "gitleaks",
            Format::Checkov => "checkov",
            Format::Kubescape => "kubescape",
            Format::KyvernoException => "kyverno-policy-exception",
            Format::OpenVex => "openvex",
            Format::Csaf => "csaf",
        }
    }
}

/// Where a finding came from: one scanner's statement in one document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub format: Format,
    /// Scanner name and version as the document states it (`Trivy 0.38.2`, `CodeQL`).
    pub scanner: Arc<str>,
    /// The file (`path#document`) or Kubernetes object the document was read from.
    pub origin: Arc<str>,
    /// The workload the scanner attributed the finding to, when it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Arc<str>>,
}

/// The package a vulnerability or component finding is in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<Arc<str>>,
    pub name: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<Arc<str>>,
}

/// A VEX analysis state (CycloneDX `analysis.state` / OpenVEX status), as stated by the
/// supplier or by a `RiskException`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VexState {
    NotAffected,
    FalsePositive,
    Resolved,
    ResolvedWithPedigree,
    Exploitable,
    InTriage,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexState {
    /// Parses CycloneDX / OpenVEX / CSAF spellings.
    pub fn parse(text: &str) -> Option<VexState> {
        Some(match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "not_affected" | "known_not_affected" => VexState::NotAffected,
            "false_positive" => VexState::FalsePositive,
            "resolved" => VexState::Resolved,
            "resolved_with_pedigree" => VexState::ResolvedWithPedigree,
            "exploitable" => VexState::Exploitable,
            "in_triage" => VexState::InTriage,
            "affected" | "known_affected" => VexState::Affected,
            "fixed" => VexState::Fixed,
            "under_investigation" => VexState::UnderInvestigation,
            _ => return None,
        })
    }

    /// States under which the finding does not represent risk in this artifact.
    pub fn suppresses(self) -> bool {
        matches!(
            self,
            VexState::NotAffected
                | VexState::FalsePositive
                | VexState::Resolved
                | VexState::ResolvedWithPedigree
                | VexState::Fixed
        )
    }
}

/// A VEX statement attached to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vex {
    pub state: VexState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<Arc<str>>,
    /// The VEX document statement that set this state, when a document did (a scanner's
    /// own VEX status has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Arc<super::vex::VexSource>>,
}

impl Vex {
    /// A state as a scanner reported it, with its justification.
    pub fn new(state: VexState, justification: Option<Arc<str>>) -> Vex {
        Vex { state, justification, source: None }
    }
}

/// What an issue is, independent of where it was found: the same CVE entry (id, package,
/// versions, severity, title…) in a thousand images is one `FindingDetail`, shared.
/// [`Finding`] dereferences to it, so `finding.id`, `finding.severity` read through.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingDetail {
    pub kind: FindingKind,
    /// The preferred identifier: a CVE id if any alias is one, else the scanner's id
    /// (GHSA, check id such as `KSV001`, SARIF `ruleId`, ZAP plugin id).
    pub id: Arc<str>,
    /// Other identifiers of the same issue (GHSA ↔ CVE ↔ OSV), never containing `id`.
    pub aliases: Vec<Arc<str>>,
    pub severity: Severity,
    /// CVSS base score (the highest v3 score any source gives), when known.
    pub cvss: Option<f32>,
    pub title: Arc<str>,
    pub package: Option<Package>,
    /// Where in the artifact: `file:line`, URL, or the object field a check looked at.
    pub location: Option<Arc<str>>,
    /// Scanner-provided fingerprint for findings without package (SARIF
    /// `partialFingerprints`), used for identity instead of the line-sensitive location.
    pub fingerprint: Option<Arc<str>>,
    pub primary_url: Option<Arc<str>>,
    /// When the vulnerability was published (for SLA / age), if known.
    pub published: Option<Timestamp>,
    /// On CISA's Known Exploited Vulnerabilities list (set by enrichment).
    pub kev: bool,
    /// FIRST EPSS probability 0–1 (set by enrichment).
    pub epss: Option<f32>,
}

// Details are interned (hash-consed) by the index: equal details share one allocation.
// Scores are compared bit for bit; parsers never produce NaN (it would only stop sharing).
impl Eq for FindingDetail {}

impl std::hash::Hash for FindingDetail {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.kind.hash(h);
        self.id.hash(h);
        self.aliases.hash(h);
        self.severity.hash(h);
        self.cvss.map(f32::to_bits).hash(h);
        self.title.hash(h);
        self.package.hash(h);
        self.location.hash(h);
        self.fingerprint.hash(h);
        self.primary_url.hash(h);
        self.published.hash(h);
        self.kev.hash(h);
        self.epss.map(f32::to_bits).hash(h);
    }
}

/// The sources of a finding: one, for a finding as a parser returns it.
pub type Sources = smallvec::SmallVec<[Arc<Source>; 1]>;

/// One issue in one artifact, scanner-independent: a shared [`FindingDetail`] plus what
/// belongs to this occurrence (the artifact, a VEX statement about it, when it was first
/// reported, and who reported it).
///
/// Parsers return one `Finding` per scanner statement; correlation merges the ones with
/// the same identity (see `posture::correlate`) so each issue appears once with every
/// source that reported it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    detail: Arc<FindingDetail>,
    pub artifact: Arc<Artifact>,
    /// A VEX statement about this finding in this artifact.
    pub vex: Option<Vex>,
    /// When a scanner first reported it (report creation), if known.
    pub first_seen: Option<Timestamp>,
    pub sources: Sources,
}

impl std::ops::Deref for Finding {
    type Target = FindingDetail;
    fn deref(&self) -> &FindingDetail {
        &self.detail
    }
}

/// Mutating a field of the detail copies it first if it is shared (copy on write).
impl std::ops::DerefMut for Finding {
    fn deref_mut(&mut self) -> &mut FindingDetail {
        Arc::make_mut(&mut self.detail)
    }
}

impl Finding {
    /// A finding with the required fields; the rest start empty.
    pub fn new(
        kind: FindingKind,
        id: &str,
        severity: Severity,
        title: &str,
        artifact: impl Into<Arc<Artifact>>,
        source: Arc<Source>,
    ) -> Finding {
        Finding {
            detail: Arc::new(FindingDetail {
                kind,
                id: Arc::from(id.trim()),
                aliases: Vec::new(),
                severity,
                cvss: None,
                title: Arc::from(title.trim()),
                package: None,
                location: None,
                fingerprint: None,
                primary_url: None,
                published: None,
                kev: false,
                epss: None,
            }),
            artifact: artifact.into(),
            vex: None,
            first_seen: None,
            sources: smallvec::smallvec![source],
        }
    }

    /// The shared detail.
    pub fn detail(&self) -> &Arc<FindingDetail> {
        &self.detail
    }

    /// Replaces the detail (the index swaps in its shared copy of an equal one).
    pub fn set_detail(&mut self, detail: Arc<FindingDetail>) {
        self.detail = detail;
    }

    /// True when a VEX statement says this finding does not apply.
    pub fn suppressed(&self) -> bool {
        self.vex.as_ref().is_some_and(|v| v.state.suppresses())
    }

    /// [`FindingDetail::add_alias`] without copying a shared detail when nothing changes.
    pub fn add_alias(&mut self, alias: &str) {
        let alias = alias.trim();
        if !alias.is_empty() && self.aliases.len() < MAX_ALIASES && !self.ids().any(|i| i.eq_ignore_ascii_case(alias)) {
            Arc::make_mut(&mut self.detail).add_alias(alias);
        }
    }

    /// [`FindingDetail::prefer_cve_id`] without copying a shared detail when nothing changes.
    pub fn prefer_cve_id(&mut self) {
        if !is_cve(&self.id) && self.aliases.iter().any(|a| is_cve(a)) {
            Arc::make_mut(&mut self.detail).prefer_cve_id();
        }
    }
}

impl FindingDetail {
    /// True when a fixed version of the package is known.
    pub fn fix_available(&self) -> bool {
        self.package.as_ref().is_some_and(|p| p.fixed_version.is_some())
    }

    /// Every identifier of this finding: `id` then the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.id).chain(self.aliases.iter().map(|a| &**a))
    }

    /// Adds an alias unless it is the id or already known (case-insensitively), or the
    /// finding already has [`MAX_ALIASES`].
    pub fn add_alias(&mut self, alias: &str) {
        let alias = alias.trim();
        if alias.is_empty() || self.aliases.len() >= MAX_ALIASES || self.ids().any(|i| i.eq_ignore_ascii_case(alias)) {
            return;
        }
        self.aliases.push(Arc::from(alias));
    }

    /// Makes a CVE identifier the primary id when one is known, so GHSA-, OSV- and
    /// distribution-advisory ids of the same issue meet on the CVE.
    pub fn prefer_cve_id(&mut self) {
        if is_cve(&self.id) {
            return;
        }
        if let Some(pos) = self.aliases.iter().position(|a| is_cve(a)) {
            std::mem::swap(&mut self.id, &mut self.aliases[pos]);
        }
    }
}

/// Most aliases one finding keeps. Real advisories have a handful (CVE, GHSA, a few
/// distribution ids); the bound keeps alias checks, which compare with every alias, from
/// growing with crafted input (a document listing thousands of aliases for one finding, or
/// thousands of findings with one id and distinct aliases merged into one).
pub const MAX_ALIASES: usize = 64;

/// True for `CVE-YYYY-NNNN…` identifiers (four-digit year, at least four digits).
pub fn is_cve(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() >= 13
        && b[..4].eq_ignore_ascii_case(b"cve-")
        && b[4..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'-'
        && b[9..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> Arc<Source> {
        Arc::new(Source {
            format: Format::TrivyJson,
            scanner: Arc::from("Trivy"),
            origin: Arc::from("x.json"),
            workload: None,
            container: None,
        })
    }

    #[test]
    fn cve_becomes_primary_id() {
        let mut f = Finding::new(
            FindingKind::Vulnerability,
            "GHSA-jfh8-c2jp-5v3q",
            Severity::Critical,
            "log4j",
            Artifact::Other(Arc::from("x")),
            src(),
        );
        f.add_alias("CVE-2021-44228");
        f.add_alias("cve-2021-44228");
        f.add_alias("GHSA-jfh8-c2jp-5v3q");
        assert_eq!(f.aliases.len(), 1);
        f.prefer_cve_id();
        assert_eq!(&*f.id, "CVE-2021-44228");
        assert_eq!(f.aliases, vec![Arc::<str>::from("GHSA-jfh8-c2jp-5v3q")]);
    }

    #[test]
    fn cve_shape() {
        assert!(is_cve("CVE-2021-44228") && is_cve("cve-2019-1551"));
        assert!(!is_cve("CVE-9") && !is_cve("CVE-2021-") && !is_cve("GHSA-jfh8-c2jp-5v3q") && !is_cve("CVE-20x1-1234"));
    }

    #[test]
    fn format_names_serialize_as_printed() {
        for f in [Format::Grype, Format::OsvScanner, Format::NpmAudit, Format::KyvernoException, Format::TrivyJson] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str(), "{f:?}");
        }
    }

    #[test]
    fn vex_states() {
        assert_eq!(VexState::parse("not_affected"), Some(VexState::NotAffected));
        assert_eq!(VexState::parse("in-triage"), Some(VexState::InTriage));
        assert!(VexState::NotAffected.suppresses());
        assert!(!VexState::Exploitable.suppresses());
        assert_eq!(VexState::parse("maybe"), None);
    }
}
