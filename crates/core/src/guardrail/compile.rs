//! A policy's specification → a validated, ready-to-evaluate [`Policy`].
//!
//! The edge reads a `GuardrailPolicy` object into a [`PolicySource`] (its Kubernetes
//! selectors converted) and calls [`Policy::compile`]; that one conversion serves both
//! the index (which keeps an invalid policy with its error, shown in its status, and never
//! evaluates it) and admission (which refuses it), so what is admitted is what is enforced.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use super::remediation::RemediationPolicy;
use super::spec::{
    ComponentsRule, Enforcement, ExceptionSettings, GuardrailRule, ImageReferenceRule, OnUnscanned, OwnershipRule,
    RiskScoreRule, ScanRequiredRule, VulnerabilityRule, WorkloadSecurityRule,
};
use stance_ecosystem::{DeniedLicences, ImagePrefix, PackageId, Purl, VersionRange};

use crate::model::{Criticality, Exposure, WorkloadKind};
use crate::selector::LabelSelector;

/// Why a policy or exception is invalid: the field (`spec.rules[2].components.banned[0].versions`)
/// and what is wrong with it, worded so the user knows what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CompileError {
    /// The path of the offending field, from the object's root.
    pub field: String,
    /// What is wrong. Starts with `is …` when it states the field's condition
    /// (`spec.justification is empty: …`); otherwise it follows `field: `.
    pub problem: String,
}

impl CompileError {
    /// An error at `field` (a path from the object's root) saying `problem`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> CompileError {
        CompileError { field: field.into(), problem: problem.into() }
    }

    /// The same problem, one level further down: `spec.rules[0]` + `.riskScore.max`.
    fn under(mut self, parent: &str) -> CompileError {
        self.field = format!("{parent}{}", self.field);
        self
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problem.starts_with("is ") {
            write!(f, "{} {}", self.field, self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

/// A policy object's content in domain terms: what [`Policy::compile`] validates.
#[derive(Clone, Copy, Debug)]
pub struct PolicySource<'a> {
    /// `metadata.name`.
    pub name: Option<&'a str>,
    pub enforcement: Enforcement,
    /// `spec.match`.
    pub matcher: MatchSource<'a>,
    pub on_unscanned: OnUnscanned,
    pub new_risk_only: bool,
    pub exceptions: &'a ExceptionSettings,
    pub rules: &'a [GuardrailRule],
}

/// `spec.match` with its selectors in domain form.
#[derive(Clone, Copy, Debug, Default)]
pub struct MatchSource<'a> {
    pub namespace_selector: Option<&'a LabelSelector>,
    pub namespaces: &'a [String],
    pub exclude_namespaces: &'a [String],
    pub app_selector: Option<&'a LabelSelector>,
    pub criticalities: &'a [Criticality],
    pub exposures: &'a [Exposure],
    /// Workload kinds as written (`Deployment`, `Pod`, …).
    pub kinds: &'a [String],
}

/// A validated guardrail policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub name: Arc<str>,
    pub enforcement: Enforcement,
    pub matcher: Matcher,
    pub on_unscanned: OnUnscanned,
    pub new_risk_only: bool,
    pub exceptions: ExceptionSettings,
    pub rules: Vec<Rule>,
}

impl Policy {
    /// True when whether the policy applies depends on a namespace's labels
    /// (`namespaceSelector`). A gate that does not know a namespace's labels cannot tell
    /// whether such a policy applies there. (The platform's exposure and criticality floors
    /// are namespace labels too, but they only raise a context: an unknown namespace has none,
    /// which `stance check` reports as the context it used.)
    pub fn selects_by_namespace_labels(&self) -> bool {
        self.matcher.namespace_selector.is_some()
    }
}

/// Which workloads a policy applies to.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    pub namespace_selector: Option<LabelSelector>,
    pub namespaces: Vec<String>,
    pub exclude_namespaces: Vec<String>,
    pub app_selector: Option<LabelSelector>,
    pub criticalities: Vec<Criticality>,
    pub exposures: Vec<Exposure>,
    pub kinds: Vec<WorkloadKind>,
}

/// One rule with its unique name.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: Arc<str>,
    pub check: Check,
}

/// The typed content of a rule.
#[derive(Clone, Debug)]
pub enum Check {
    Vulnerabilities(VulnerabilityRule),
    RiskScore(RiskScoreRule),
    ScanRequired(ScanRequiredRule),
    SbomRequired,
    Components(Components),
    ImageReference(ImageReference),
    WorkloadSecurity(WorkloadSecurityRule),
    Ownership(OwnershipRule),
    Remediation(RemediationPolicy),
}

impl Check {
    /// The rule type's name as written in the CRD (`vulnerabilities`, `riskScore`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Check::Vulnerabilities(_) => "vulnerabilities",
            Check::RiskScore(_) => "riskScore",
            Check::ScanRequired(_) => "scanRequired",
            Check::SbomRequired => "sbomRequired",
            Check::Components(_) => "components",
            Check::ImageReference(_) => "imageReference",
            Check::WorkloadSecurity(_) => "workloadSecurity",
            Check::Ownership(_) => "ownership",
            Check::Remediation(_) => "remediation",
        }
    }

    /// True for rules judged from scan results (subject to `onUnscanned`).
    pub fn needs_scan(&self) -> bool {
        matches!(self, Check::Vulnerabilities(_) | Check::RiskScore(_) | Check::Components(_) | Check::Remediation(_))
    }
}

/// A compiled components rule.
#[derive(Clone, Debug)]
pub struct Components {
    pub banned: Vec<Banned>,
    /// The denied licences, each one SPDX licence (optionally `WITH` an exception),
    /// judged against each package's licence expression (`stance_ecosystem::license`).
    pub denied_licenses: DeniedLicences,
}

/// A banned package: its identity and the version range, parsed in the package's own
/// ecosystem (apk, Debian, PEP 440, SemVer, Maven, …) when the policy is compiled.
#[derive(Clone, Debug)]
pub struct Banned {
    pub id: PackageId,
    /// The canonical package URL (`pkg:npm/%40babel/traverse`), for messages and keys.
    pub base: String,
    /// Every version when the policy gives none.
    pub range: VersionRange,
    pub reason: Option<String>,
}

/// A compiled `imageReference` rule: the allowed registry and repository prefixes parsed
/// the way images are (Docker Hub aliases, ports), matched on whole path segments.
#[derive(Clone, Debug)]
pub struct ImageReference {
    pub allowed_registries: Vec<ImagePrefix>,
    /// The prefixes as written, for messages.
    pub allowed_text: Vec<String>,
    pub require_digest: bool,
    pub disallow_latest: bool,
}

impl Policy {
    /// Validates a policy. Errors name the field (`spec.rules[2].components.banned[0].versions`)
    /// and what to write instead.
    pub fn compile(src: PolicySource<'_>) -> Result<Policy, CompileError> {
        let name =
            src.name.filter(|n| !n.is_empty()).ok_or_else(|| CompileError::new("metadata.name", "is missing"))?;
        let m = &src.matcher;
        for (field, sel) in [("namespaceSelector", m.namespace_selector), ("appSelector", m.app_selector)] {
            if let Some(s) = sel {
                s.validate().map_err(|e| CompileError::new(format!("spec.match.{field}"), e.to_string()))?;
            }
        }
        let kinds = m
            .kinds
            .iter()
            .map(|k| {
                WorkloadKind::parse(k).ok_or_else(|| {
                    CompileError::new(
                        "spec.match.kinds",
                        format!("unknown kind {k:?} (use {})", WorkloadKind::ALL.map(|k| k.as_str()).join(", ")),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if src.rules.is_empty() {
            return Err(CompileError::new("spec.rules", "is empty: a policy needs at least one rule"));
        }
        let mut rules = Vec::with_capacity(src.rules.len());
        let mut names = BTreeSet::new();
        for (i, r) in src.rules.iter().enumerate() {
            let at = format!("spec.rules[{i}]");
            let check = compile_rule(r).map_err(|e| e.under(&at))?;
            let rule_name: Arc<str> = Arc::from(r.name.clone().unwrap_or_else(|| check.type_name().to_string()));
            if !names.insert(rule_name.clone()) {
                return Err(CompileError::new(
                    at,
                    format!("duplicate rule name {rule_name:?}; give each rule a unique `name`"),
                ));
            }
            rules.push(Rule { name: rule_name, check });
        }
        Ok(Policy {
            name: Arc::from(name),
            enforcement: src.enforcement,
            matcher: Matcher {
                namespace_selector: m.namespace_selector.cloned(),
                namespaces: m.namespaces.to_vec(),
                exclude_namespaces: m.exclude_namespaces.to_vec(),
                app_selector: m.app_selector.cloned(),
                criticalities: m.criticalities.to_vec(),
                exposures: m.exposures.to_vec(),
                kinds,
            },
            on_unscanned: src.on_unscanned,
            new_risk_only: src.new_risk_only,
            exceptions: src.exceptions.clone(),
            rules,
        })
    }
}

/// One rule; the error's field is relative to the rule (`.riskScore.max`, or empty for
/// the rule itself).
fn compile_rule(r: &GuardrailRule) -> Result<Check, CompileError> {
    let mut checks = Vec::new();
    if let Some(v) = &r.vulnerabilities {
        if let Some(e) = v.min_epss
            && !(0.0..=1.0).contains(&e)
        {
            return Err(CompileError::new(".vulnerabilities.minEpss", format!("{e} is not between 0 and 1")));
        }
        checks.push(Check::Vulnerabilities(v.clone()));
    }
    if let Some(v) = &r.risk_score {
        if v.max > 100 {
            return Err(CompileError::new(".riskScore.max", format!("{} is above 100", v.max)));
        }
        checks.push(Check::RiskScore(v.clone()));
    }
    if let Some(v) = &r.scan_required {
        checks.push(Check::ScanRequired(v.clone()));
    }
    if r.sbom_required.is_some() {
        checks.push(Check::SbomRequired);
    }
    if let Some(v) = &r.components {
        checks.push(Check::Components(compile_components(v)?));
    }
    if let Some(v) = &r.image_reference {
        checks.push(Check::ImageReference(compile_image_reference(v)?));
    }
    if let Some(v) = &r.workload_security {
        checks.push(Check::WorkloadSecurity(v.clone()));
    }
    if let Some(v) = &r.ownership {
        checks.push(Check::Ownership(v.clone()));
    }
    if let Some(v) = &r.remediation {
        checks.push(Check::Remediation(RemediationPolicy::from(v)));
    }
    match checks.len() {
        1 => Ok(checks.remove(0)),
        0 => Err(CompileError::new(
            "",
            "sets no rule type; set exactly one of vulnerabilities, riskScore, scanRequired, sbomRequired, \
             components, imageReference, workloadSecurity, ownership, remediation",
        )),
        _ => Err(CompileError::new(
            "",
            format!(
                "sets {} rule types ({}); split them into one rule each",
                checks.len(),
                checks.iter().map(Check::type_name).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn compile_components(c: &ComponentsRule) -> Result<Components, CompileError> {
    let mut banned = Vec::new();
    for (i, b) in c.banned.iter().enumerate() {
        let purl = Purl::parse(&b.purl)
            .map_err(|e| CompileError::new(format!(".components.banned[{i}].purl"), e.to_string()))?;
        // A version in the package URL would be a second, silent way to write the range.
        if let Some(v) = &purl.version {
            return Err(CompileError::new(
                format!(".components.banned[{i}].purl"),
                format!(
                    "{:?} carries a version ({v}); write the package URL without it ({}) and the range in `versions` \
                     (e.g. `={v}`)",
                    b.purl,
                    purl.id.to_purl()
                ),
            ));
        }
        // The ban's qualifiers are ignored (every variant of the package is banned), so an
        // epoch given there would silently not apply to the bounds: it belongs in them.
        if let Some((_, e)) = purl.qualifiers.iter().find(|(k, _)| k == "epoch") {
            return Err(CompileError::new(
                format!(".components.banned[{i}].purl"),
                format!(
                    "{:?} carries an epoch qualifier ({e}); write the package URL without it ({}) and the epoch in \
                     each bound of `versions` (e.g. `<{e}:1.2-3`)",
                    b.purl,
                    purl.id.to_purl()
                ),
            ));
        }
        // The bounds are versions of the package's own ecosystem: an apk range is ordered
        // as apk-tools orders, a pypi range as PEP 440 does; a bound that is no version
        // there makes the policy invalid rather than a range that never matches.
        let range = VersionRange::parse(purl.id.scheme(), b.versions.as_deref().unwrap_or(""))
            .map_err(|e| CompileError::new(format!(".components.banned[{i}].versions"), e.to_string()))?;
        banned.push(Banned { base: purl.id.to_purl(), id: purl.id, range, reason: b.reason.clone() });
    }
    let denied_licenses = DeniedLicences::parse(c.denied_licenses.iter().map(String::as_str)).map_err(|e| {
        let stance_ecosystem::LicenseError::Denied { index, .. } = &e;
        CompileError::new(format!(".components.deniedLicenses[{index}]"), e.to_string())
    })?;
    Ok(Components { banned, denied_licenses })
}

fn compile_image_reference(r: &ImageReferenceRule) -> Result<ImageReference, CompileError> {
    let allowed_registries = r
        .allowed_registries
        .iter()
        .enumerate()
        .map(|(k, text)| {
            ImagePrefix::parse(text)
                .map_err(|e| CompileError::new(format!(".imageReference.allowedRegistries[{k}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ImageReference {
        allowed_registries,
        allowed_text: r.allowed_registries.clone(),
        require_digest: r.require_digest,
        disallow_latest: r.disallow_latest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source<'a>(rules: &'a [GuardrailRule], settings: &'a ExceptionSettings) -> PolicySource<'a> {
        PolicySource {
            name: Some("p"),
            enforcement: Enforcement::Enforce,
            matcher: MatchSource::default(),
            on_unscanned: OnUnscanned::Warn,
            new_risk_only: false,
            exceptions: settings,
            rules,
        }
    }

    #[test]
    fn errors_name_the_field() {
        let settings = ExceptionSettings::default();
        let err = Policy::compile(source(&[], &settings)).unwrap_err();
        assert_eq!(err.to_string(), "spec.rules is empty: a policy needs at least one rule");
        let bad = [GuardrailRule { risk_score: Some(RiskScoreRule { max: 101 }), ..Default::default() }];
        let err = Policy::compile(source(&bad, &settings)).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.to_string().as_str()),
            ("spec.rules[0].riskScore.max", "spec.rules[0].riskScore.max: 101 is above 100")
        );
        let none = [GuardrailRule::default()];
        let err = Policy::compile(source(&none, &settings)).unwrap_err();
        assert!(err.to_string().starts_with("spec.rules[0]: sets no rule type"), "{err}");
    }
}
